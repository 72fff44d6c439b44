/* sigma_int.h - internal structures shared by the Sigma parser, compiler, matcher and
 * reference evaluator. Not a public interface. */
#ifndef HM_SIGMA_INT_H
#define HM_SIGMA_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <hs/hs.h>
#include <pcre2.h>

#include "sigma.h"

/* Room for one more element in arr[n] (capacity cap, doubling from 64). */
#define GROW(arr, n, cap)                                                                          \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            (cap) = (cap) ? (cap)*2 : 64;                                                          \
            (arr) = hm_xrealloc((arr), (cap) * sizeof(*(arr)));                                    \
        }                                                                                          \
    } while (0)

/* A small growing vector of ids (nodes, predicates, expressions). */
typedef struct idvec {
    uint32_t *v;
    size_t n, cap;
} idvec;
static inline void idv_push(idvec *v, uint32_t x) {
    GROW(v->v, v->n, v->cap);
    v->v[v->n++] = x;
}

/* A-Z folded: the only case folding matching does (docs/sigma.md); the compiler's tables
 * and the matcher's lookups must fold alike. */
static inline unsigned char sg_fold(unsigned char c) {
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* How a string predicate matches the field value. */
typedef enum { SG_M_EXACT, SG_M_CONTAINS, SG_M_STARTS, SG_M_ENDS, SG_M_GLOB } sg_match;

typedef enum {
    SG_P_STR,      /* literal / wildcard string (exact, contains, startswith, endswith, glob) */
    SG_P_REGEX,    /* |re */
    SG_P_CIDR,     /* |cidr */
    SG_P_NUM,      /* |lt |lte |gt |gte (and eq for time parts) */
    SG_P_EXISTS,   /* |exists: true (field present) */
    SG_P_NULL,     /* value null: field absent */
    SG_P_EMPTY,    /* value '': field present and empty */
    SG_P_PRESENT,  /* contains '' or '*': field present (any value) */
    SG_P_FIELDREF, /* |fieldref: equal to (or contains...) another field */
    SG_P_TIMEPART, /* |hour |minute ... compared numerically */
    SG_P_YARA,     /* |yara: a YARA rule matches the field */
} sg_pkind;

typedef enum { SG_CMP_LT, SG_CMP_LTE, SG_CMP_GT, SG_CMP_GTE, SG_CMP_EQ } sg_cmp;
typedef enum {
    SG_TP_MINUTE,
    SG_TP_HOUR,
    SG_TP_DAY,
    SG_TP_WEEK,
    SG_TP_MONTH,
    SG_TP_YEAR,
    SG_TP_WEEKDAY
} sg_tpart;

/* A field reference: a taxonomy field, a vendor field by name (slot), the raw record
 * (keywords) or the event time. */
enum { SG_F_RAW = -2, SG_F_TIME = -3 };
typedef struct sg_field {
    char *name;
    int tax;  /* taxonomy id, SG_F_RAW, SG_F_TIME, or -1 = vendor field */
    int slot; /* vendor-field slot (tax == -1) */
    int db;   /* Hyperscan database index or -1 */
} sg_field;

typedef struct sg_pred {
    uint8_t kind;   /* sg_pkind */
    uint8_t match;  /* sg_match for SG_P_STR / FIELDREF */
    bool cased;     /* case-sensitive */
    bool in_hs;     /* decided by the field's scan (a witness: Hyperscan, a lookup, a trie
                     * walk or, for numbers, one parse of the value) */
    bool prefilter; /* Hyperscan approximates; confirm with PCRE2 */
    uint32_t rule;
    int field;  /* index in ruleset fields */
    char *val;  /* STR: bytes (may contain NUL); REGEX: pattern source */
    char *lval; /* STR, case-insensitive: val with A-Z folded (direct matching) or NULL */
    size_t vlen;
    uint8_t *wild;             /* STR glob: per byte 0 literal, 1 '*', 2 '?' (NULL if none) */
    uint32_t lit_off, lit_len; /* STR glob: its longest literal run (must occur in a match) */
    pcre2_code *re;            /* REGEX (always compiled, for confirm/reference) */
    uint32_t re_flags;
    /* CIDR */
    uint8_t family; /* 4 or 6 */
    uint8_t addr[16];
    int prefix;
    /* NUM / TIMEPART */
    uint8_t cmp;   /* sg_cmp */
    uint8_t tpart; /* sg_tpart */
    double num;
    /* FIELDREF */
    int field2;
    /* YARA */
    char *yara_rule;
    int line, col; /* where in the rule file */
} sg_pred;

/* Condition tree, flat: nodes refer to children by index into ruleset->kids. */
typedef enum { SG_N_PRED, SG_N_AND, SG_N_OR, SG_N_NOT, SG_N_TRUE, SG_N_FALSE } sg_nkind;
typedef struct sg_node {
    uint8_t kind;
    int16_t sel;          /* search identifier index this node is the root of, or -1 */
    uint32_t pred;        /* SG_N_PRED */
    uint32_t kid0, nkids; /* children: ruleset->kids[kid0 .. kid0+nkids) */
    /* OR of many string predicates on one field that no scan decides (the values of a
     * selection that is not the rule's witness): 1 + index in ruleset->list_dbs, whose
     * one scan of the field answers the whole list; 0: evaluate the children */
    uint32_t list_db;
} sg_node;

typedef struct sg_rule {
    hm_rule_meta meta;
    uint32_t root;       /* condition root node */
    uint32_t *sel_roots; /* per search identifier, its node (for evidence) */
    uint16_t ls_product, ls_category, ls_service; /* interned logsource ids; 0 = any */
    bool cat_registry_event; /* category registry_event: matches every registry_* category */
    bool always;             /* can be true with no Hyperscan predicate marked */
    bool enabled;
} sg_rule;

/* Whole-value predicates (`field: value`, no wildcard) of one field, by hash of the
 * value with A-Z folded: one lookup answers them all, cheaper than a scan for the short
 * enumerated values most of them test (event ids, verbs, file names). */
typedef struct sg_exact_slot {
    uint64_t h;    /* hm_hash_words of the folded value; 0 = empty slot */
    uint32_t pred; /* the predicate (a case-sensitive one compares val as well) */
} sg_exact_slot;

/* startswith / endswith literals of one field: a trie over their bytes with A-Z folded
 * (an endswith trie holds them reversed). Walking the value from its start (end) visits
 * every predicate that can match in one pass of at most the longest pattern's length,
 * where Hyperscan spent ~30 cycles a byte on the Image field's 800 suffixes. */
typedef struct sg_trie {
    struct sg_trie_edge {
        uint64_t key; /* (node << 8 | folded byte) + 1; 0 = empty slot */
        uint32_t child;
    } * edges;
    uint64_t mask;        /* edge slots - 1 */
    uint32_t *term_start; /* node n: predicates ending there term_preds[start[n], start[n+1]) */
    uint32_t *term_preds;
    uint32_t n_nodes;
} sg_trie;

typedef struct sg_db {
    int field;
    uint32_t rule;     /* one of its rules: all have the same logsource (routing) */
    hs_database_t *db; /* NULL when every predicate of the field is in exact */
    sg_exact_slot *exact;
    uint32_t exact_mask;           /* slots - 1, or 0 with exact == NULL */
    uint32_t exact_min, exact_max; /* value lengths that can match */
    sg_trie *prefix, *suffix;      /* startswith / endswith literals, or NULL */
    uint32_t *nums;                /* numeric > / >= witnesses: the value parsed once */
    uint32_t n_nums;
    uint32_t n;           /* Hyperscan expressions */
    uint32_t *expr_start; /* expression k: predicates expr_preds[start[k], start[k + 1]) */
    uint32_t *expr_preds;
    uint32_t *rules; /* distinct rules with a predicate here (logsource planning) */
    uint32_t n_rules;
} sg_db;

struct hm_ruleset {
    sg_rule *rules;
    size_t n_rules, cap_rules;
    sg_pred *preds;
    size_t n_preds, cap_preds;
    sg_node *nodes;
    size_t n_nodes, cap_nodes;
    uint32_t *kids;
    size_t n_kids, cap_kids;
    sg_field *fields;
    size_t n_fields, cap_fields;
    size_t n_slots;            /* vendor-field slots */
    int tax_field[HM_F_COUNT]; /* taxonomy id -> field index or -1 */
    int raw_field, time_field; /* field index or -1 */
    /* vendor field name -> slot: open addressing */
    char **slot_names;
    uint32_t *slot_lens;     /* strlen of each slot name (lookups compare lengths first) */
    uint32_t *slot_hash_idx; /* [slot_cap] slot+1 or 0 */
    size_t slot_cap;
    /* logsource value interning */
    char **ls_names;
    uint32_t *ls_lens;
    size_t n_ls;
    sg_db *dbs;
    size_t n_dbs;
    struct sg_list_db {
        int field;
        hs_database_t *db;
    } * list_dbs;
    size_t n_list_dbs;
    hs_scratch_t *proto_scratch;
    uint32_t max_regex_groups;
    /* rules that must always be evaluated, and per-pred rule marks */
    uint32_t *always;
    size_t n_always;
    hm_ruleset_info info;
    const struct hm_tz *tz;
    void *yara_rules;          /* YR_RULES* */
    struct hm_corr_set *corrs; /* correlation rules (correlate.h), may be NULL */
    size_t n_filters, n_correlations;
};

/* Interned logsource value id (0 = unknown / not used by any rule). */
uint16_t sg_ls_lookup(const hm_ruleset *rs, hm_str v);
/* Field value of an event for a ruleset field; false when absent. */
bool sg_field_value(const hm_ruleset *rs, const hm_event *ev, int field, const hm_str *slots,
                    const uint8_t *slot_set, hm_str *out);
/* Vendor-field slot by name or -1. */
int sg_slot_lookup(const hm_ruleset *rs, const char *name, size_t n);
/* Shared non-Hyperscan predicate evaluation (used by matcher and reference evaluator). */
bool sg_eval_cidr(const sg_pred *p, hm_str v);
bool sg_eval_num(const sg_pred *p, hm_str v);
/* p's comparison on a value already parsed (sg_parse_double) */
bool sg_eval_num_at(const sg_pred *p, double x);
bool sg_eval_timepart(const hm_ruleset *rs, const sg_pred *p, const hm_event *ev, hm_str v,
                      bool is_event_time);
bool sg_parse_double(hm_str v, double *out);
/* IPv4/IPv6 text -> 4 or 16 bytes; family 4 or 6. No allocation. */
bool sg_parse_ip(const char *p, size_t n, uint8_t addr[16], uint8_t *family);
/* |cidr on an address already parsed (family 4 or 6) */
bool sg_cidr_has(const sg_pred *p, const uint8_t addr[16], uint8_t family);

/* Correlations (corr_load.c). */
struct hm_ydoc;
struct hm_ynode;
void sg_load_correlations(hm_ruleset *rs, hm_diags *d, const char **files, struct hm_ydoc **docs,
                          const int *ndocs, size_t nfiles);
void sg_corr_free(hm_ruleset *rs);
int sg_add_meta_rule(hm_ruleset *rs, hm_diags *d, const char *file, const struct hm_ynode *doc);

void sg_trie_free(sg_trie *t);

/* Compile steps (sigma_compile.c), called by the loader. */
int sg_compile_databases(hm_ruleset *rs, hm_diags *d);
void sg_compute_always(hm_ruleset *rs);

#endif
