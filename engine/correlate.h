/* correlate.h - Sigma correlation rules: definitions (loaded with the rule set), hits
 * extracted by workers, and the correlator that turns hits into correlation alerts over
 * sliding event-time windows with state in memory or Redis (docs/correlation.md).
 *
 * Threading: hm_corr_extract runs on worker threads (pure, writes into the caller's
 * arena). hm_correlator is driven by the single writer thread in batch order; it is not
 * thread-safe and needs no locks. */
#ifndef HM_CORRELATE_H
#define HM_CORRELATE_H

#include "arena.h"
#include "diag.h"
#include "event.h"
#include "sigma.h"

typedef enum {
    HM_CORR_EVENT_COUNT,
    HM_CORR_VALUE_COUNT,
    HM_CORR_TEMPORAL,
    HM_CORR_TEMPORAL_ORDERED,
    HM_CORR_VALUE_SUM,
    HM_CORR_VALUE_AVG,
    HM_CORR_VALUE_PERCENTILE,
} hm_corr_type;
extern const char *const hm_corr_type_names[];

typedef enum {
    HM_COND_GT,
    HM_COND_GTE,
    HM_COND_LT,
    HM_COND_LTE,
    HM_COND_EQ,
    HM_COND_NEQ
} hm_cond_op;

/* One correlation rule. Owned by the rule set; immutable after load. */
typedef struct hm_corr {
    uint32_t rule; /* index of its hm_rule_meta in the rule set */
    hm_corr_type type;
    uint32_t *refs; /* referenced rules (detection or correlation), rule-set indexes */
    size_t n_refs;
    char **group_by; /* group-by names (aliases allowed) */
    size_t n_group;
    /* field to read for group_by[g] from events of refs[r]: names[g * n_refs + r] */
    char **group_fields;
    int *group_tax; /* taxonomy id of group_fields[...] or -1 */
    int64_t span_ns;
    struct {
        hm_cond_op op;
        double v;
    } cond[3];
    int n_cond;
    char **value_fields; /* condition.field (value_count may list several) */
    size_t n_value_fields;
    int *value_tax;
    double percentile;  /* value_percentile: 0..100 */
    bool close_eval;    /* only upper bounds (lt/lte): evaluated when the window closes */
    uint32_t min_rules; /* temporal: distinct referenced rules needed */
    uint32_t level;     /* 0 = references only detection rules; else 1 + deepest inner */
} hm_corr;

typedef struct hm_corr_set {
    hm_corr *v;
    size_t n;
    /* rule index -> correlations that reference it */
    uint32_t **by_rule;
    uint32_t *n_by_rule;
    size_t n_rules;
    uint32_t max_level;
} hm_corr_set;

/* A detection (or inner correlation) hit that feeds one correlation. Strings live in the
 * batch arena (or the correlator) until the hit is applied. */
typedef struct hm_corr_hit {
    uint32_t corr; /* index in hm_corr_set */
    uint32_t ref;  /* index in corr->refs */
    int64_t ts_ns;
    /* The input stream the event came from (its origin string: a file, a Kafka partition,
     * a syslog sender): lateness and the watermark are per stream. NULL = one stream. */
    const void *stream;
    hm_str event_id;
    hm_str group; /* group values joined with 0x1f; empty when no group-by */
    hm_str value; /* value field(s) joined with 0x1f */
    bool has_value;
} hm_corr_hit;

/* Correlations of a rule set (NULL when it has none). */
const hm_corr_set *hm_ruleset_correlations(const hm_ruleset *rs);

/* Worker side: the hits one detection match produces (one per correlation that references
 * the rule and whose group-by fields the event has). Returns hits written (<= max). */
size_t hm_corr_extract(const hm_ruleset *rs, uint32_t rule, const hm_event *ev, const char *origin,
                       hm_arena *arena, hm_corr_hit *out, size_t max);

/* ---- the correlator ---- */
typedef struct hm_correlator hm_correlator;

typedef struct hm_corr_opts {
    const char *state; /* "memory" or "redis://[user:pass@]host:port/db" */
    /* out-of-order tolerance; 0 means the default (60 s) unless lateness_set (then 0 is
     * strict: any event older than the newest one seen is late) */
    int64_t lateness_ns;
    bool lateness_set;
    const char *state_dir; /* memory: snapshot on clean shutdown, reload on start; may be NULL */
    const char *instance;  /* instance name for shared watermarks (default host:pid) */
    const char *ns;        /* Redis key namespace (default "hm") */
    uint64_t max_groups;   /* memory: live groups per correlation (0 = HM_CORR_MAX_GROUPS) */
} hm_corr_opts;

#define HM_CORR_MAX_GROUPS 1000000

typedef struct hm_corr_stats {
    uint64_t hits, applied, late, fired, groups, groups_expired;
    uint64_t backend_round_trips, backend_errors, backend_retries;
    size_t memory_bytes;     /* memory backend: bytes held by group state */
    uint64_t groups_refused; /* memory: hits dropped because their correlation was at the cap */
    uint64_t groups_peak;    /* memory: most live groups at once */
    size_t memory_peak;      /* memory: most state bytes at once */
    uint64_t busy_ns;        /* CPU time of push/finish/commit (the writer thread) */
    uint64_t peer_wait_ns;   /* finish: time waiting for peer instances (the discovery period
                              * of a shared backend, or slower peers), nothing else to do */
} hm_corr_stats;

hm_correlator *hm_correlator_new(const hm_ruleset *rs, const hm_corr_opts *o, char *err,
                                 size_t errlen);
/* Applies a batch of hits (in the order given) and writes correlation alerts as JSONL to
 * out and late hits as dead letters to dead. Returns 0, or HM_ERETRY when the backend is
 * unavailable (nothing was applied: call again with the same hits). */
int hm_correlator_push(hm_correlator *c, const hm_corr_hit *hits, size_t n, hm_buf *out,
                       hm_buf *dead, uint64_t *alerts_written);
/* An input stream starts (a Kafka partition was assigned): until its first hit, or for a
 * few seconds if none comes, no window is decided, so its oldest events are not late. */
void hm_correlator_expect(hm_correlator *c, const void *stream);
/* After the alerts of the last push/finish are written: make the state moves durable
 * (Redis cursors). HM_ERETRY: call again. */
int hm_correlator_commit(hm_correlator *c);
/* End of input: evaluate everything up to the end of time. Same return contract. */
int hm_correlator_finish(hm_correlator *c, hm_buf *out, uint64_t *alerts_written);
void hm_correlator_stats(const hm_correlator *c, hm_corr_stats *s);
/* Switch to a reloaded rule set between batches: state of correlations whose definition
 * is unchanged (same id, type, rules, group-by, window, condition) is kept; the rest is
 * dropped. */
int hm_correlator_rebind(hm_correlator *c, const hm_ruleset *rs);
void hm_correlator_free(hm_correlator *c);

#endif
