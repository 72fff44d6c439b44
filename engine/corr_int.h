/* corr_int.h - internals shared by the correlator and its state backends. */
#ifndef HM_CORR_INT_H
#define HM_CORR_INT_H

#include "correlate.h"

/* One firing of a correlation for one group. */
typedef struct corr_fire {
    uint32_t corr;
    int64_t ts_ms; /* fire time (event time of the member that completed it, or window close) */
    hm_str group;  /* group key (0x1f-joined values) */
    double value;  /* count / distinct values / sum / avg / percentile / rules seen */
    size_t n_ev;
    int64_t *ev_ts;   /* evidence: member times (ms) */
    hm_str *ev_id;    /* evidence: member ids */
    uint32_t *ev_ref; /* evidence: which referenced rule */
    hm_str *distinct; /* value_count: the distinct values (n_distinct) */
    size_t n_distinct;
} corr_fire;

typedef void (*corr_fire_fn)(void *ud, const corr_fire *f);

/* A member as the evaluation sees it (sorted by ts then id). */
typedef struct corr_member {
    int64_t ts_ms;
    hm_str id;
    hm_str value;
    bool has_value;
    uint32_t ref;
} corr_member;

/* Evaluation state of one group (what the backends persist between calls). */
typedef struct corr_cursor {
    int64_t done_ts; /* members <= (done_ts, done_id) were evaluated as window ends */
    hm_str done_id;
    bool has_done;
    int64_t reset_ts; /* members <= (reset_ts, reset_id) never count again */
    hm_str reset_id;
    bool has_reset;
} corr_cursor;

/* The one evaluation algorithm (docs/correlation.md). m[0..n) are the group's live members
 * in order; evaluates window ends up to wm_ms; updates cur; calls fire per firing. The Redis
 * backend runs the same algorithm in Lua (corr_redis.c) - keep them in step. */
void corr_evaluate(const hm_corr *c, uint32_t corr_idx, hm_str group, const corr_member *m,
                   size_t n, int64_t wm_ms, corr_cursor *cur, corr_fire_fn fire, void *ud);

/* Buffers corr_evaluate_at reuses from call to call (no allocation per group). */
typedef struct corr_scratch {
    hm_str *vals;
    double *nums, *parsed;
    bool *parsed_ok;
    size_t cap;
} corr_scratch;
void corr_scratch_free(corr_scratch *s);

/* The same algorithm with the cursor as member positions: [0, *done) were evaluated as
 * window ends, [0, *reset) never count again. Both are updated. */
void corr_evaluate_at(const hm_corr *c, uint32_t corr_idx, hm_str group, const corr_member *m,
                      size_t n, int64_t wm_ms, size_t *done, size_t *reset, corr_scratch *s,
                      corr_fire_fn fire, void *ud);
bool corr_cond(const hm_corr *c, double v);
int corr_member_cmp(int64_t ts_a, hm_str id_a, int64_t ts_b, hm_str id_b);

typedef struct corr_backend_ops {
    const char *name;
    /* Insert hits (already late-filtered; all of correlations of this level) and evaluate
     * every group of this level with pending members up to wm_ms (INT64_MAX = end of input),
     * calling fire. HM_ERETRY: backend unavailable, nothing applied (safe to call again:
     * inserts are idempotent by member identity). */
    int (*apply)(void *st, const hm_corr_set *set, uint32_t level, const hm_corr_hit *hits,
                 size_t n, int64_t wm_ms, corr_fire_fn fire, void *ud);
    /* Optional, with several levels: sees every level's hits of a push before the applies
     * (same hits and wm_ms; each level's apply then gets its share plus chained hits). */
    int (*prepare)(void *st, const hm_corr_set *set, const hm_corr_hit *hits, size_t n,
                   int64_t wm_ms);
    /* Optional: make the last apply's cursor moves durable; called after its alerts are
     * written to the outputs. HM_ERETRY: call again. */
    int (*commit)(void *st);
    /* Global watermark for multi-instance backends: publish ours, get the minimum. */
    int (*watermark)(void *st, int64_t local_wm_ms, bool finished, int64_t *global_wm_ms);
    void (*stats)(void *st, hm_corr_stats *s);
    /* Rule reload: map[i] = new index of old correlation i, or -1 to drop its state. */
    void (*remap)(void *st, const hm_corr_set *new_set, const int32_t *map, size_t n_old);
    void (*destroy)(void *st);
} corr_backend_ops;

void *corr_mem_new(const hm_corr_opts *o, char *err, size_t errlen);
extern const corr_backend_ops corr_mem_ops;
/* Log lines name correlations by rule id (and the group cap counts per correlation). */
void corr_mem_bind(void *st, const hm_ruleset *rs);

/* The correlator's watermarks, saved with the memory state (--state-dir). */
typedef struct corr_marks {
    int64_t max_ts_ms, local_wm_ms, evaluated_ms;
} corr_marks;
/* Writes the state to path atomically (temp file, fsync, rename). */
int corr_mem_save(void *st, const char *path, uint64_t rules_hash, const corr_marks *mk, char *err,
                  size_t errlen);
/* Reads a snapshot into an empty state. HM_EOF: no file; HM_EPARSE: unusable (err says
 * why; the state stays empty). */
int corr_mem_load(void *st, const hm_corr_set *set, const char *path, uint64_t rules_hash,
                  corr_marks *mk, size_t *n_groups, char *err, size_t errlen);
void *corr_redis_new(const hm_corr_opts *o, char *err, size_t errlen);
void corr_redis_set_ruleset(const hm_ruleset *rs); /* key names use rule ids */
extern const corr_backend_ops corr_redis_ops;

#endif
