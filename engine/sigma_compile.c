/* sigma_compile.c - predicates -> one Hyperscan database per field; which rules must be
 * evaluated even when no Hyperscan predicate fires. Start-up only. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include "sigma_int.h"

/* Escape a literal byte for a Hyperscan pattern. */
static void put_lit(hm_buf *b, unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
        c == ' ')
        hm_buf_putc(b, (char)c);
    else
        hm_buf_printf(b, "\\x%02x", c);
}

/* Pattern text for a string predicate (NUL-terminated in b). */
static void str_pattern(const sg_pred *p, hm_buf *b) {
    b->len = 0;
    bool anchor_start = p->match == SG_M_EXACT || p->match == SG_M_STARTS || p->match == SG_M_GLOB;
    bool anchor_end = p->match == SG_M_EXACT || p->match == SG_M_ENDS || p->match == SG_M_GLOB;
    size_t from = 0, to = p->vlen;
    /* a glob's leading or trailing '*' is the same as no anchor (DOTALL): leave both out */
    if (p->match == SG_M_GLOB && p->wild) {
        while (from < to && p->wild[from] == 1) {
            anchor_start = false;
            from++;
        }
        while (to > from && p->wild[to - 1] == 1) {
            anchor_end = false;
            to--;
        }
    }
    if (anchor_start) hm_buf_puts(b, "\\A");
    for (size_t i = from; i < to; i++) {
        if (p->wild && p->wild[i] == 1)
            hm_buf_puts(b, ".*");
        else if (p->wild && p->wild[i] == 2)
            hm_buf_putc(b, '.');
        else
            put_lit(b, (unsigned char)p->val[i]);
    }
    if (anchor_end) hm_buf_puts(b, "\\z");
    hm_buf_putc(b, 0);
}

/* Note: Hyperscan's literal API (hs_compile_lit_multi) scans plain literals about twice as
 * fast, but Debian 12's libhyperscan 5.4.0 misses some long literals with it (e.g. 40+ byte
 * "SHA256=000..." values), so every pattern goes through the regular compiler. */

#define HM_HS_STR_FLAGS (HS_FLAG_SINGLEMATCH | HS_FLAG_DOTALL)

typedef struct exprs {
    char **pat;
    unsigned *flags, *ids;
    size_t n, cap;
} exprs;

static void ex_push(exprs *e, const char *pat, unsigned flags, unsigned id) {
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 64;
        e->pat = hm_xrealloc(e->pat, e->cap * sizeof(char *));
        e->flags = hm_xrealloc(e->flags, e->cap * sizeof(unsigned));
        e->ids = hm_xrealloc(e->ids, e->cap * sizeof(unsigned));
    }
    e->pat[e->n] = hm_xstrdup(pat);
    e->flags[e->n] = flags;
    e->ids[e->n] = id;
    e->n++;
}

typedef struct compile_job {
    int field;
    uint32_t bucket;    /* a field database: its (field, product) group */
    uint32_t list_node; /* a value-list job: its OR node + 1; 0: a field database */
    exprs *e;
    hs_database_t *db;
    int err_expr;
    char err_msg[256];
} compile_job;

typedef struct compile_pool {
    compile_job *jobs;
    size_t n, next;
    pthread_mutex_t mu;
} compile_pool;

static void *compile_worker(void *arg) {
    compile_pool *pool = arg;
    for (;;) {
        pthread_mutex_lock(&pool->mu);
        size_t k = pool->next++;
        pthread_mutex_unlock(&pool->mu);
        if (k >= pool->n) return NULL;
        compile_job *jb = &pool->jobs[k];
        exprs *e = jb->e;
        jb->err_expr = -1;
        if (!e->n) continue; /* only whole-value predicates: no scan */
        unsigned *local_ids = hm_xmalloc(e->n * sizeof(unsigned));
        for (size_t q = 0; q < e->n; q++) local_ids[q] = (unsigned)q;
        hs_compile_error_t *cerr = NULL;
        jb->err_expr = -1;
        if (hs_compile_multi((const char *const *)e->pat, e->flags, local_ids, (unsigned)e->n,
                             HS_MODE_BLOCK, NULL, &jb->db, &cerr) != HS_SUCCESS) {
            jb->db = NULL;
            jb->err_expr = cerr ? cerr->expression : -1;
            snprintf(jb->err_msg, sizeof jb->err_msg, "%s", cerr ? cerr->message : "unknown error");
            if (cerr) hs_free_compile_error(cerr);
        }
        free(local_ids);
    }
}

static unsigned regex_hs_flags(const sg_pred *p) {
    unsigned f = HS_FLAG_SINGLEMATCH;
    if (p->re_flags & PCRE2_CASELESS) f |= HS_FLAG_CASELESS;
    if (p->re_flags & PCRE2_MULTILINE) f |= HS_FLAG_MULTILINE;
    if (p->re_flags & PCRE2_DOTALL) f |= HS_FLAG_DOTALL;
    return f;
}

/* Witness selection. A rule only needs to be evaluated when one of a set W of its
 * predicates is true, provided the rule cannot be true with every member of W false (a
 * "cut"). Only witnesses go into the Hyperscan databases; every other predicate of a
 * candidate rule is tested directly. Choosing the rarest cut per rule keeps common
 * predicates (`Image|endswith: \cmd.exe`, a one-letter windash flag, `.exe`) out of the
 * scan: smaller databases, fewer match callbacks and far fewer candidate rules. Rules with
 * no cut (e.g. only negations) stay on the always-evaluate list, as before. */

/* Fields whose values repeat a lot across events (process names, event ids, ...): a match
 * there says little about how rare the event is. */
static bool low_cardinality_field(const char *name) {
    static const char *const names[] = {"OriginalFileName", "Product",         "Company",
                                        "Description",      "IntegrityLevel",  "User",
                                        "ParentUser",       "EventID",         "Provider_Name",
                                        "Channel",          "LogonType",       "Initiated",
                                        "Protocol",         "DestinationPort", "EventType",
                                        "ServiceName",      "Hashes",          NULL};
    size_t n = strlen(name);
    if (n >= 5 && !strcmp(name + n - 5, "Image")) return true;
    for (size_t i = 0; names[i]; i++)
        if (!strcmp(name, names[i])) return true;
    return false;
}

/* Taxonomy fields that take one of a few values (docs/fields.md): however long a value
 * such as `traffic_allow` is, a large share of events carries it. */
static bool enumerated_field(const char *name) {
    static const char *const names[] = {"src_type",
                                        "vendor",
                                        "product",
                                        "category",
                                        "service",
                                        "program",
                                        "facility",
                                        "event",
                                        "action",
                                        "outcome",
                                        "user_role",
                                        "auth_method",
                                        "portal",
                                        "proto",
                                        "src_zone",
                                        "dst_zone",
                                        "app",
                                        "http_method",
                                        "site",
                                        "building",
                                        "door_class",
                                        "web_category",
                                        "screening",
                                        "visitor_id_type",
                                        "object",
                                        "term",
                                        "dst_country",
                                        "geo_country",
                                        "dst_port",
                                        "syslog_severity",
                                        "severity_vendor",
                                        NULL};
    for (size_t i = 0; names[i]; i++)
        if (!strcmp(name, names[i])) return true;
    return false;
}

/* A numeric comparison the field's "scan" can decide (sg_db.nums): > or >= on a field
 * value (not the event time, not the raw record). */
static bool num_witness_ok(const hm_ruleset *rs, const sg_pred *p) {
    if (p->kind != SG_P_NUM) return false;
    if (p->cmp != SG_CMP_GT && p->cmp != SG_CMP_GTE) return false;
    int tax = rs->fields[p->field].tax;
    return tax != SG_F_TIME && tax != SG_F_RAW;
}

/* Rough probability that a Hyperscan-capable predicate is true on an event of its
 * logsource: longer literals are rarer, anchored ones rarer still. Only the order of these
 * estimates matters (they pick one conjunct over another). */
static double pred_estimate(const hm_ruleset *rs, const sg_pred *p) {
    double e;
    if (p->kind == SG_P_NUM) {
        /* `bytes_out|gte: 1000000`, `count|gt: 500`: a large threshold is an anomaly
         * bound, rarely passed; small ones (`gt: 0`) say little */
        return p->num >= 1000.0 ? 0.05 : 0.5;
    }
    if (p->kind == SG_P_STR) {
        size_t run = 0, best = 0;
        for (size_t i = 0; i < p->vlen; i++) {
            if (p->wild && p->wild[i]) {
                run = 0;
                continue;
            }
            if (++run > best) best = run;
        }
        e = pow(0.6, (double)(best > 40 ? 40 : best));
        if (p->match != SG_M_CONTAINS) e *= 0.3;
        /* flag-like values ('true', 'false', '0', '-') say nothing however long */
        static const char *const flags[] = {"true", "false", "yes", "no", "0", "1", "-", NULL};
        if (p->match == SG_M_EXACT)
            for (size_t i = 0; flags[i]; i++)
                if (p->vlen == strlen(flags[i]) && !strncasecmp(p->val, flags[i], p->vlen)) e = 0.5;
    } else {
        e = p->prefilter ? 0.2 : 0.1; /* regex: no cheap estimate */
    }
    const sg_field *f = &rs->fields[p->field];
    if (f->tax >= 0 && enumerated_field(f->name)) /* `event: traffic_allow` is most of a day */
        return e > 0.1 ? e : 0.1;
    if (f->tax == SG_F_RAW)
        e *= 4.0; /* keywords scan the whole record */
    else if (low_cardinality_field(f->name))
        e *= 8.0;
    return e > 1.0 ? 1.0 : e;
}

/* Estimated probability of the cheapest cut of node n (INFINITY: none); with mark, flags
 * the predicates of that cut as witnesses. */
static double node_cut(hm_ruleset *rs, uint32_t n, bool *witness, bool mark) {
    const sg_node *nd = &rs->nodes[n];
    switch (nd->kind) {
    case SG_N_FALSE:
        return 0.0;
    case SG_N_TRUE:
    case SG_N_NOT: /* a negation is true when its predicates are not: no witness */
        return INFINITY;
    case SG_N_PRED: {
        const sg_pred *p = &rs->preds[nd->pred];
        if (!p->in_hs) return INFINITY;
        if (mark) witness[nd->pred] = true;
        return pred_estimate(rs, p);
    }
    case SG_N_AND: { /* one false conjunct suffices: take the cheapest */
        double best = INFINITY;
        uint32_t pick = UINT32_MAX;
        for (uint32_t i = 0; i < nd->nkids; i++) {
            double c = node_cut(rs, rs->kids[nd->kid0 + i], witness, false);
            if (c < best) {
                best = c;
                pick = rs->kids[nd->kid0 + i];
            }
        }
        if (mark && pick != UINT32_MAX) node_cut(rs, pick, witness, true);
        return best;
    }
    default: { /* OR: every branch needs its own cut */
        double sum = 0.0;
        for (uint32_t i = 0; i < nd->nkids && sum < INFINITY; i++)
            sum += node_cut(rs, rs->kids[nd->kid0 + i], witness, false);
        if (mark && sum < INFINITY)
            for (uint32_t i = 0; i < nd->nkids; i++)
                node_cut(rs, rs->kids[nd->kid0 + i], witness, true);
        return sum;
    }
    }
}

static void select_witnesses(hm_ruleset *rs) {
    bool *witness = hm_xcalloc(rs->n_preds + 1, sizeof(bool));
    for (size_t i = 0; i < rs->n_rules; i++) node_cut(rs, rs->rules[i].root, witness, true);
    for (size_t i = 0; i < rs->n_preds; i++) {
        sg_pred *p = &rs->preds[i];
        /* direct matching folds the event value once per field, so fold the needle now */
        if (p->kind == SG_P_STR && !p->cased && !p->lval) {
            p->lval = hm_xmalloc(p->vlen + 1);
            for (size_t k = 0; k < p->vlen; k++)
                p->lval[k] = (char)sg_fold((unsigned char)p->val[k]);
            p->lval[p->vlen] = 0;
        }
        if (p->kind == SG_P_STR && p->match == SG_M_GLOB && p->wild) {
            size_t run = 0;
            for (size_t k = 0; k < p->vlen; k++) {
                run = p->wild[k] ? 0 : run + 1;
                if (run > p->lit_len) {
                    p->lit_len = (uint32_t)run;
                    p->lit_off = (uint32_t)(k + 1 - run);
                }
            }
        }
        /* regexes are always confirmed (or evaluated) by PCRE2: use its JIT where present */
        if (p->kind == SG_P_REGEX && p->re && rs->rules[p->rule].enabled)
            (void)pcre2_jit_compile(p->re, PCRE2_JIT_COMPLETE);
        if (p->in_hs && !witness[i]) {
            p->in_hs = false;
            if (p->prefilter) rs->info.regexes_prefilter--;
            p->prefilter = false;
            rs->info.hs_predicates--;
        }
    }
    free(witness);
}

static bool same_logsource(const sg_rule *a, const sg_rule *b) {
    return a->ls_product == b->ls_product && a->ls_category == b->ls_category &&
           a->ls_service == b->ls_service && a->cat_registry_event == b->cat_registry_event;
}

/* Can a lookup of the whole value decide p (sg_exact_slot)? */
static bool exact_pred(const sg_pred *p) {
    if (p->kind != SG_P_STR || p->match != SG_M_EXACT || p->vlen == 0) return false;
    for (size_t k = 0; p->wild && k < p->vlen; k++)
        if (p->wild[k]) return false;
    return true;
}

/* The hash an exact table keys on: value with A-Z folded (sg_exact_hash in the matcher
 * computes the same on event values). */
uint64_t sg_exact_hash(const char *v, size_t n) {
    char buf[256];
    if (n > sizeof buf) n = sizeof buf; /* callers never look up longer values */
    for (size_t i = 0; i < n; i++) buf[i] = (char)sg_fold((unsigned char)v[i]);
    uint64_t h = hm_hash_words(buf, n, 0x5167);
    return h ? h : 1;
}

static void exact_build(const hm_ruleset *rs, sg_db *sd, const uint32_t *preds, size_t n) {
    if (!n) return;
    uint32_t cap = 8;
    while (cap < n * 2) cap <<= 1;
    sd->exact = hm_xcalloc(cap, sizeof(sg_exact_slot));
    sd->exact_mask = cap - 1;
    sd->exact_min = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        const sg_pred *p = &rs->preds[preds[i]];
        uint64_t h = sg_exact_hash(p->val, p->vlen);
        uint32_t j = (uint32_t)h & sd->exact_mask;
        while (sd->exact[j].h) j = (j + 1) & sd->exact_mask;
        sd->exact[j] = (sg_exact_slot){h, preds[i]};
        if (p->vlen < sd->exact_min) sd->exact_min = (uint32_t)p->vlen;
        if (p->vlen > sd->exact_max) sd->exact_max = (uint32_t)p->vlen;
    }
}

/* Is p a startswith (1) or endswith (2) literal a trie can decide? 0: no. */
static int affix_kind(const sg_pred *p) {
    if (p->kind != SG_P_STR || p->vlen == 0 || p->vlen > 256) return 0;
    if (p->match != SG_M_STARTS && p->match != SG_M_ENDS) return 0;
    for (size_t k = 0; p->wild && k < p->vlen; k++)
        if (p->wild[k]) return 0;
    return p->match == SG_M_STARTS ? 1 : 2;
}

void sg_trie_free(sg_trie *t) {
    if (!t) return;
    free(t->edges);
    free(t->term_start);
    free(t->term_preds);
    free(t);
}

static uint32_t *trie_edge(sg_trie *t, uint32_t node, unsigned char c, bool add) {
    uint64_t key = ((uint64_t)node << 8 | c) + 1;
    uint64_t j = (key * 0x9E3779B97F4A7C15ULL >> 20) & t->mask;
    while (t->edges[j].key && t->edges[j].key != key) j = (j + 1) & t->mask;
    if (!t->edges[j].key) {
        if (!add) return NULL;
        t->edges[j].key = key;
        t->edges[j].child = t->n_nodes++;
    }
    return &t->edges[j].child;
}

/* A trie of preds[0, n) (all of one affix kind; reversed for endswith). */
static sg_trie *trie_build(const hm_ruleset *rs, const uint32_t *preds, size_t n, bool reversed) {
    if (!n) return NULL;
    size_t total = 1;
    for (size_t i = 0; i < n; i++) total += rs->preds[preds[i]].vlen;
    sg_trie *t = hm_xcalloc(1, sizeof(*t));
    uint64_t cap = 16;
    while (cap < total * 2) cap <<= 1;
    t->edges = hm_xcalloc(cap, sizeof(*t->edges));
    t->mask = cap - 1;
    t->n_nodes = 1;
    uint32_t *end = hm_xmalloc(n * sizeof(uint32_t)); /* the node each predicate ends at */
    for (size_t i = 0; i < n; i++) {
        const sg_pred *p = &rs->preds[preds[i]];
        uint32_t node = 0;
        for (size_t k = 0; k < p->vlen; k++) {
            unsigned char c = (unsigned char)p->val[reversed ? p->vlen - 1 - k : k];
            node = *trie_edge(t, node, sg_fold(c), true);
        }
        end[i] = node;
    }
    t->term_start = hm_xcalloc(t->n_nodes + 2, sizeof(uint32_t));
    t->term_preds = hm_xmalloc(n * sizeof(uint32_t));
    for (size_t i = 0; i < n; i++) t->term_start[end[i] + 1]++;
    for (uint32_t k = 0; k < t->n_nodes; k++) t->term_start[k + 1] += t->term_start[k];
    for (size_t i = 0; i < n; i++) t->term_preds[t->term_start[end[i]]++] = preds[i];
    for (uint32_t k = t->n_nodes; k > 0; k--) t->term_start[k] = t->term_start[k - 1];
    t->term_start[0] = 0;
    free(end);
    return t;
}

static size_t trie_bytes(const sg_trie *t) {
    return t ? (t->mask + 1) * sizeof(*t->edges) + (t->n_nodes + 2) * sizeof(uint32_t) +
                   t->term_start[t->n_nodes] * sizeof(uint32_t)
             : 0;
}

/* Below this many values a list is cheaper value by value (memmem) than as a scan. */
#define LIST_MIN 6

/* Is node an OR of string predicates on one field, none decided by a field scan? */
static bool list_node_ok(const hm_ruleset *rs, const sg_node *nd, int *field) {
    if (nd->kind != SG_N_OR || nd->nkids < LIST_MIN) return false;
    *field = -1;
    for (uint32_t k = 0; k < nd->nkids; k++) {
        const sg_node *kid = &rs->nodes[rs->kids[nd->kid0 + k]];
        if (kid->kind != SG_N_PRED) return false;
        const sg_pred *p = &rs->preds[kid->pred];
        /* empty values need HS_FLAG_ALLOWEMPTY semantics: leave such lists alone */
        if (p->kind != SG_P_STR || p->in_hs || p->vlen == 0 || !rs->rules[p->rule].enabled)
            return false;
        if (*field == -1)
            *field = p->field;
        else if (*field != p->field)
            return false;
        if (rs->fields[p->field].tax == SG_F_TIME) return false;
    }
    return true;
}

int sg_compile_databases(hm_ruleset *rs, hm_diags *d) {
    /* decide per predicate whether Hyperscan can serve it */
    hs_compile_error_t *cerr = NULL;
    for (size_t i = 0; i < rs->n_preds; i++) {
        sg_pred *p = &rs->preds[i];
        p->in_hs = false;
        if (p->kind == SG_P_STR || num_witness_ok(rs, p)) {
            p->in_hs = true;
        } else if (p->kind == SG_P_REGEX) {
            /* Hyperscan is the prefilter for regexes; every hit is confirmed by PCRE2, so
             * `$`-before-newline and other flavour differences cannot change a result. */
            hs_database_t *db = NULL;
            unsigned f = regex_hs_flags(p);
            if (hs_compile(p->val, f, HS_MODE_BLOCK, NULL, &db, &cerr) == HS_SUCCESS) {
                p->in_hs = true;
            } else {
                hs_free_compile_error(cerr);
                cerr = NULL;
                if (hs_compile(p->val, f | HS_FLAG_PREFILTER, HS_MODE_BLOCK, NULL, &db, &cerr) ==
                    HS_SUCCESS) {
                    p->in_hs = true;
                    p->prefilter = true;
                    rs->info.regexes_prefilter++;
                } else {
                    hs_free_compile_error(cerr);
                    cerr = NULL;
                    rs->info.regexes_pcre_only++;
                }
            }
            if (db) hs_free_database(db);
        }
        if (p->in_hs) rs->info.hs_predicates++;
    }
    select_witnesses(rs);
    /* Databases per (field, rule logsource): an event scans the databases of the log
     * sources that apply to it (Linux command-line regexes are not run over Windows
     * command lines, an Exchange keyword rule's patterns not over Sysmon records).
     * Identical (pattern, flags) in one database share one expression id. */
    typedef struct bucket {
        int field, next; /* next: the field's next bucket or -1 */
        uint32_t rule;   /* a rule of this logsource (its routing: ls_product, ...) */
        exprs e;         /* ids[k]: a predicate of expression k (error messages) */
        idvec mp, me;    /* members: predicate mp[i] is expression me[i] */
        idvec x;         /* whole-value predicates (sg_exact_slot) */
        idvec af[2];     /* startswith, endswith literals (sg_trie) */
        idvec nums;      /* numeric comparisons (sg_db.nums) */
    } bucket;
    bucket *bk = NULL;
    size_t nbk = 0, capbk = 0, used = 0;
    int *first_bk = hm_xmalloc((rs->n_fields + 1) * sizeof(int));
    for (size_t fi = 0; fi <= rs->n_fields; fi++) first_bk[fi] = -1;
    uint32_t *bucket_of = hm_xmalloc((rs->n_preds + 1) * sizeof(uint32_t)); /* used preds */
#define PRED_USED(p) ((p)->in_hs && rs->rules[(p)->rule].enabled)
    for (size_t i = 0; i < rs->n_preds; i++) {
        const sg_pred *p = &rs->preds[i];
        if (!PRED_USED(p)) continue;
        used++;
        int k = first_bk[p->field];
        while (k >= 0 && !same_logsource(&rs->rules[bk[k].rule], &rs->rules[p->rule]))
            k = bk[k].next;
        if (k < 0) {
            GROW(bk, nbk, capbk);
            memset(&bk[nbk], 0, sizeof(bucket));
            bk[nbk].field = p->field;
            bk[nbk].rule = p->rule;
            bk[nbk].next = first_bk[p->field];
            k = first_bk[p->field] = (int)nbk++;
        }
        bucket_of[i] = (uint32_t)k;
    }
    free(first_bk);
    /* dedupe table: hash -> (bucket, expression) */
    size_t dcap = 1;
    while (dcap < used * 2 + 2) dcap <<= 1;
    typedef struct dslot {
        uint64_t h;
        uint32_t bucket, expr;
        bool used;
    } dslot;
    dslot *dt = hm_xcalloc(dcap, sizeof(dslot));
    hm_buf b = {0};
    for (size_t i = 0; i < rs->n_preds; i++) {
        sg_pred *p = &rs->preds[i];
        if (!PRED_USED(p)) continue;
        bool num = p->kind == SG_P_NUM;
        bool exact = !num && exact_pred(p) && p->vlen <= 256;
        int affix = exact || num ? 0 : affix_kind(p);
        uint32_t k = bucket_of[i];
        bucket *t = &bk[k];
        if (exact || num || affix) { /* decided without Hyperscan */
            idv_push(exact ? &t->x : num ? &t->nums : &t->af[affix - 1], (uint32_t)i);
            continue;
        }
        const char *pat;
        unsigned f;
        if (p->kind == SG_P_STR) {
            str_pattern(p, &b);
            pat = b.p;
            f = HM_HS_STR_FLAGS;
            if (!p->cased) f |= HS_FLAG_CASELESS;
        } else {
            pat = p->val;
            f = regex_hs_flags(p);
            if (p->prefilter) f |= HS_FLAG_PREFILTER;
        }
        exprs *e = &t->e;
        uint64_t h = hm_hash64(pat, strlen(pat), (uint64_t)f * 31 + (uint64_t)k);
        size_t j = h & (dcap - 1);
        while (dt[j].used && !(dt[j].h == h && dt[j].bucket == k && e->flags[dt[j].expr] == f &&
                               !strcmp(e->pat[dt[j].expr], pat)))
            j = (j + 1) & (dcap - 1);
        if (!dt[j].used) {
            dt[j] = (dslot){h, k, (uint32_t)e->n, true};
            ex_push(e, pat, f, (unsigned)i);
        }
        idv_push(&t->mp, (uint32_t)i);
        idv_push(&t->me, dt[j].expr);
    }
#undef PRED_USED
    free(dt);
    free(bucket_of);

    /* compile the databases on every core: Hyperscan compiles are independent */
    size_t nf = 0;
    compile_job *jobs = hm_xcalloc(nbk + 1, sizeof(compile_job));
    for (size_t k = 0; k < nbk; k++)
        jobs[nf++] = (compile_job){.field = bk[k].field, .e = &bk[k].e, .bucket = (uint32_t)k};
    /* value lists: an OR of >= LIST_MIN string predicates on one field, none decided by a
     * scan, evaluated by one scan of their own database instead of one memmem per value
     * (a 40-value CommandLine|contains list costs 40 passes over the command line) */
    size_t n_list = 0;
    exprs *lists = NULL;
    {
        size_t cap = 0;
        for (size_t ni = 0; ni < rs->n_nodes; ni++) {
            sg_node *nd = &rs->nodes[ni];
            nd->list_db = 0;
            int field;
            if (!list_node_ok(rs, nd, &field)) continue;
            GROW(lists, n_list, cap);
            exprs *e = &lists[n_list];
            memset(e, 0, sizeof *e);
            for (uint32_t k = 0; k < nd->nkids; k++) {
                const sg_pred *p = &rs->preds[rs->nodes[rs->kids[nd->kid0 + k]].pred];
                str_pattern(p, &b);
                ex_push(e, b.p, HM_HS_STR_FLAGS | (p->cased ? 0 : HS_FLAG_CASELESS), k);
            }
            jobs = hm_xrealloc(jobs, (nf + n_list + 1) * sizeof(compile_job));
            jobs[nf + n_list] = (compile_job){.field = field, .list_node = (uint32_t)ni + 1};
            n_list++;
        }
        for (size_t k = 0; k < n_list; k++) jobs[nf + k].e = &lists[k];
    }
    hm_buf_free(&b);
    /* biggest first so the long ones do not finish last */
    size_t n_jobs = nf + n_list;
    for (size_t i = 1; i < n_jobs; i++) {
        compile_job x = jobs[i];
        size_t j = i;
        while (j > 0 && jobs[j - 1].e->n < x.e->n) {
            jobs[j] = jobs[j - 1];
            j--;
        }
        jobs[j] = x;
    }
    compile_pool pool = {.jobs = jobs, .n = n_jobs};
    pthread_mutex_init(&pool.mu, NULL);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int nth = ncpu > 1 ? (int)(ncpu > 8 ? 8 : ncpu) : 1;
    pthread_t th[8];
    int started = 0;
    for (int t = 1; t < nth; t++)
        if (pthread_create(&th[started], NULL, compile_worker, &pool) == 0) started++;
    compile_worker(&pool);
    for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
    pthread_mutex_destroy(&pool.mu);

    int rc = HM_OK;
    uint32_t *rule_mark = hm_xcalloc(rs->n_rules + 1, sizeof(uint32_t));
    rs->dbs = hm_xcalloc(nbk + 1, sizeof(sg_db));
    rs->list_dbs = n_list ? hm_xcalloc(n_list, sizeof(*rs->list_dbs)) : NULL;
    for (size_t k = 0; k < n_jobs; k++) {
        compile_job *jb = &jobs[k];
        exprs *e = jb->e;
        if (jb->list_node) {
            /* a list whose patterns Hyperscan refuses keeps evaluating value by value */
            if (!jb->db) continue;
            if (hs_alloc_scratch(jb->db, &rs->proto_scratch) != HS_SUCCESS) {
                hs_free_database(jb->db);
                rc = HM_ENOMEM;
                continue;
            }
            size_t sz = 0;
            hs_database_size(jb->db, &sz);
            rs->info.db_bytes += sz;
            rs->list_dbs[rs->n_list_dbs] = (struct sg_list_db){jb->field, jb->db};
            rs->nodes[jb->list_node - 1].list_db = (uint32_t)++rs->n_list_dbs;
            continue;
        }
        if (!jb->db && e->n) {
            const sg_pred *p = jb->err_expr >= 0 ? &rs->preds[e->ids[jb->err_expr]] : NULL;
            hm_diags_add(d, HM_DIAG_ERROR, p ? rs->rules[p->rule].meta.file : "-", p ? p->line : 0,
                         p ? p->col : 0, p ? rs->rules[p->rule].meta.id : NULL, "compile",
                         "cannot compile pattern database for field '%s': %s",
                         rs->fields[jb->field].name, jb->err_msg);
            rc = HM_ERR;
            continue;
        }
        bucket *t = &bk[jb->bucket];
        sg_db *sd = &rs->dbs[rs->n_dbs];
        sd->field = jb->field;
        sd->rule = t->rule;
        sd->db = jb->db;
        sd->n = (uint32_t)e->n;
        /* expression -> its predicates (CSR) */
        sd->expr_start = hm_xcalloc(e->n + 2, sizeof(uint32_t));
        sd->expr_preds = hm_xmalloc((t->mp.n + 1) * sizeof(uint32_t));
        for (size_t q = 0; q < t->me.n; q++) sd->expr_start[t->me.v[q] + 1]++;
        for (size_t q = 0; q < e->n; q++) sd->expr_start[q + 1] += sd->expr_start[q];
        for (size_t q = 0; q < t->mp.n; q++)
            sd->expr_preds[sd->expr_start[t->me.v[q]]++] = t->mp.v[q];
        for (size_t q = e->n; q > 0; q--) sd->expr_start[q] = sd->expr_start[q - 1];
        sd->expr_start[0] = 0;
        rs->fields[jb->field].db = (int)rs->n_dbs;
        /* the rules this database can make candidates, for per-logsource scan plans */
        size_t rcap = 0;
        const idvec *kinds[] = {&t->mp, &t->x, &t->af[0], &t->af[1], &t->nums};
        for (size_t w = 0; w < sizeof kinds / sizeof kinds[0]; w++)
            for (size_t q = 0; q < kinds[w]->n; q++) {
                uint32_t ru = rs->preds[kinds[w]->v[q]].rule;
                if (rule_mark[ru] == (uint32_t)k + 1) continue; /* already listed for this db */
                rule_mark[ru] = (uint32_t)k + 1;
                GROW(sd->rules, sd->n_rules, rcap);
                sd->rules[sd->n_rules++] = ru;
            }
        exact_build(rs, sd, t->x.v, t->x.n);
        sd->nums = t->nums.v; /* the database takes the list */
        sd->n_nums = (uint32_t)t->nums.n;
        t->nums.v = NULL;
        sd->prefix = trie_build(rs, t->af[0].v, t->af[0].n, false);
        sd->suffix = trie_build(rs, t->af[1].v, t->af[1].n, true);
        rs->info.db_bytes += trie_bytes(sd->prefix) + trie_bytes(sd->suffix);
        rs->info.db_bytes += (size_t)(sd->exact_mask + (sd->exact ? 1 : 0)) * sizeof(sg_exact_slot);
        if (jb->db) {
            size_t sz = 0;
            hs_database_size(jb->db, &sz);
            rs->info.db_bytes += sz;
            if (hs_alloc_scratch(jb->db, &rs->proto_scratch) != HS_SUCCESS) rc = HM_ENOMEM;
        }
        rs->n_dbs++;
    }
    for (size_t k = 0; k < nbk; k++) {
        exprs *e = &bk[k].e;
        for (size_t q = 0; q < e->n; q++) free(e->pat[q]);
        free(e->pat);
        free(e->flags);
        free(e->ids);
        free(bk[k].mp.v);
        free(bk[k].me.v);
        free(bk[k].x.v);
        free(bk[k].af[0].v);
        free(bk[k].af[1].v);
        free(bk[k].nums.v);
    }
    free(bk);
    for (size_t k = 0; k < n_list; k++) {
        for (size_t q = 0; q < lists[k].n; q++) free(lists[k].pat[q]);
        free(lists[k].pat);
        free(lists[k].flags);
        free(lists[k].ids);
    }
    free(lists);
    free(rule_mark);
    free(jobs);
    rs->info.databases = rs->n_dbs;
    rs->info.list_databases = rs->n_list_dbs;
    return rc;
}

/* Three-valued evaluation: 0 false, 1 true, 2 unknown. Hyperscan predicates are false
 * (nothing marked); every other predicate is unknown. */
static int tri(const hm_ruleset *rs, uint32_t n) {
    const sg_node *nd = &rs->nodes[n];
    switch (nd->kind) {
    case SG_N_TRUE:
        return 1;
    case SG_N_FALSE:
        return 0;
    case SG_N_PRED:
        return rs->preds[nd->pred].in_hs ? 0 : 2;
    case SG_N_NOT: {
        int v = tri(rs, rs->kids[nd->kid0]);
        return v == 2 ? 2 : !v;
    }
    case SG_N_AND: {
        int r = 1;
        for (uint32_t i = 0; i < nd->nkids; i++) {
            int v = tri(rs, rs->kids[nd->kid0 + i]);
            if (v == 0) return 0;
            if (v == 2) r = 2;
        }
        return r;
    }
    default: {
        int r = 0;
        for (uint32_t i = 0; i < nd->nkids; i++) {
            int v = tri(rs, rs->kids[nd->kid0 + i]);
            if (v == 1) return 1;
            if (v == 2) r = 2;
        }
        return r;
    }
    }
}

void sg_compute_always(hm_ruleset *rs) {
    free(rs->always);
    rs->always = hm_xcalloc(rs->n_rules + 1, sizeof(uint32_t));
    rs->n_always = 0;
    for (size_t i = 0; i < rs->n_rules; i++) {
        sg_rule *r = &rs->rules[i];
        r->always = tri(rs, r->root) != 0;
        if (r->always && r->enabled) rs->always[rs->n_always++] = (uint32_t)i;
    }
}
