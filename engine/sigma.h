/* sigma.h - Sigma rules: load, compile, match.
 *
 * A rule set is loaded and compiled once (hm_ruleset_load) and is immutable afterwards:
 * every worker shares it read-only. Each worker creates its own hm_detector (scratch
 * space for Hyperscan, PCRE2, YARA and candidate lists) and calls hm_detect per event.
 * Nothing in hm_detect allocates, locks or makes a syscall. See docs/sigma.md. */
#ifndef HM_SIGMA_H
#define HM_SIGMA_H

#include "arena.h"
#include "diag.h"
#include "event.h"
#include "timeutil.h"

typedef enum {
    HM_LEVEL_INFORMATIONAL = 0,
    HM_LEVEL_LOW,
    HM_LEVEL_MEDIUM,
    HM_LEVEL_HIGH,
    HM_LEVEL_CRITICAL
} hm_level;
extern const char *const hm_level_names[5];

/* What an alert needs to know about a rule. Owned by the rule set. */
typedef struct hm_rule_meta {
    char *id;   /* Sigma id, or a stable id derived from file and title */
    char *name; /* Sigma `name`, may be NULL */
    char *title;
    char *description; /* may be NULL */
    char *status;      /* may be NULL */
    char *author;      /* may be NULL */
    hm_level level;
    char **tags;
    size_t n_tags;
    char **falsepositives;
    size_t n_falsepositives;
    char **fields; /* Sigma `fields`: fields to show the analyst */
    size_t n_fields;
    char *ls_product, *ls_category, *ls_service; /* logsource, may be NULL */
    char *file;
    int line;
    bool is_correlation;
    bool generate;          /* emits its own alerts (false when only correlations use it) */
    char **selection_names; /* search identifiers, in rule order */
    size_t n_selections;
} hm_rule_meta;

typedef struct hm_rules_opts {
    const char *placeholders_file; /* YAML map name -> list of values for |expand; may be NULL */
    const char *yara_dir;          /* folder of YARA rules for the `yara` extension; may be NULL */
    bool include_unsupported;      /* load `status: unsupported`/`deprecated` rules too */
    bool skip_bad_rules;           /* load what compiles, report the rest as warnings */
    const struct hm_tz *tz;        /* district zone for time-part modifiers; NULL = UTC */
} hm_rules_opts;

typedef struct hm_ruleset hm_ruleset;

/* The district configuration that a rule folder carries (`<folder>/district.yml`), used as
 * the placeholders file when none is given. Returns a malloc'd path or NULL. */
char *hm_rules_default_placeholders(const char *const *paths, size_t n);

/* Loads every .yml/.yaml under the given files/folders (recursively) and compiles them.
 * Errors and warnings go to diags. Returns NULL when any error occurred (unless
 * opts->skip_bad_rules, in which case bad rules are skipped and reported). */
hm_ruleset *hm_ruleset_load(const char *const *paths, size_t n, const hm_rules_opts *opts,
                            hm_diags *diags);
void hm_ruleset_free(hm_ruleset *rs);
size_t hm_ruleset_count(const hm_ruleset *rs);
const hm_rule_meta *hm_ruleset_rule(const hm_ruleset *rs, size_t i);
/* Rule index by id or name, or -1. */
int hm_ruleset_find(const hm_ruleset *rs, const char *id_or_name);
/* Figures for docs/bench: predicates, Hyperscan databases and their bytes. */
typedef struct hm_ruleset_info {
    size_t rules, detection_rules, correlation_rules, filters, predicates, hs_predicates;
    size_t databases, db_bytes, regexes_pcre_only, regexes_prefilter;
    size_t list_databases; /* per value list (sigma_int.h sg_node.list_db) */
    double compile_s;
} hm_ruleset_info;
void hm_ruleset_get_info(const hm_ruleset *rs, hm_ruleset_info *info);

/* ---- matching (per worker) ---- */
typedef struct hm_detector hm_detector;

hm_detector *hm_detector_new(const hm_ruleset *rs);
void hm_detector_free(hm_detector *d);

/* One match: rule index and a bitmask of the search identifiers that were true
 * (bit i = meta->selection_names[i], first 64). */
typedef struct hm_match {
    uint32_t rule;
    uint64_t selections;
} hm_match;

/* Matches one event against every applicable rule. Writes up to max matches (in rule
 * order) and returns how many rules matched (may exceed max: the rest are counted, not
 * written). Rules with generate=false still match (correlation needs them). */
size_t hm_detect(hm_detector *d, const hm_event *ev, hm_match *out, size_t max);

/* Reference evaluator: straightforward recursive evaluation with no prefilter (used by
 * tests and the benchmark to check and measure the compiled matcher). Same contract. */
size_t hm_detect_reference(const hm_ruleset *rs, const hm_event *ev, hm_match *out, size_t max);

#endif
