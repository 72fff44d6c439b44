/* sigma_match.c - the per-worker matcher: one Hyperscan scan per present field that any
 * rule tests, then only candidate rules (a marked predicate, or `always`) evaluate their
 * condition tree. Generation counters replace per-event clearing, so the cost of an
 * event does not grow with the number of rules. */
#include <stdlib.h>

#include "sigma_int.h"

/* What to scan and which rules to always evaluate, for one event logsource (product,
 * category, service). Built the first time a worker sees that logsource, then reused:
 * an event only scans fields some applicable rule tests. */
typedef struct scan_plan {
    uint16_t p, c, s;
    bool reg, used;
    uint32_t *dbs;
    uint32_t n_dbs;
    uint32_t *always;
    uint32_t n_always;
} scan_plan;

/* What a database found in a value is a function of the value's bytes: a worker keeps,
 * per database, the marks of recent values and replays them when the value comes again.
 * Log values repeat (process images, event ids, verbs, ports): a hit costs a hash and a
 * compare instead of the scans. Values up to CACHE_VLEN bytes with at most CACHE_MARKS
 * marks; a database whose values rarely repeat (command lines, hashes) turns its cache
 * off for a while (hit rate checked every CACHE_WINDOW lookups). Per worker: no lock. */
#define CACHE_SLOTS    256
#define CACHE_VLEN     200
#define CACHE_MARKS    6
#define CACHE_WINDOW   4096
#define CACHE_MIN_HITS (CACHE_WINDOW / 4)
#define CACHE_BACKOFF  65536

/* When a cache is worth its hash: lookups/hits over the current window, off = lookups
 * left before trying again. */
typedef struct cache_rate {
    uint32_t lookups, hits, off;
} cache_rate;

/* Should a value of len bytes (at most vmax) go through the cache? Counts the lookup. */
static inline bool cache_use(cache_rate *r, size_t len, size_t vmax) {
    if (r->off) {
        r->off--;
        return false;
    }
    if (len > vmax) return false;
    if (++r->lookups == CACHE_WINDOW) { /* values that rarely repeat: stop paying the hash */
        if (r->hits < CACHE_MIN_HITS) r->off = CACHE_BACKOFF;
        r->lookups = r->hits = 0;
    }
    return true;
}

typedef struct db_cache_entry {
    uint64_t h; /* 0: empty */
    uint16_t len;
    uint8_t n_marks;
    uint32_t marks[CACHE_MARKS];
    char val[CACHE_VLEN];
} db_cache_entry;

typedef struct db_cache {
    cache_rate rate;
    db_cache_entry e[CACHE_SLOTS];
} db_cache;

/* Value lists (sg_node.list_db) are pure functions of the value too: one table per
 * worker keyed by (list, value) remembers recent answers (same hit-rate rule). */
#define LCACHE_SLOTS 4096
#define LCACHE_VLEN  120

typedef struct list_cache_entry {
    uint64_t h; /* 0: empty */
    uint32_t list;
    uint16_t len;
    bool hit;
    char val[LCACHE_VLEN];
} list_cache_entry;

typedef struct list_cache {
    cache_rate rate;
    list_cache_entry e[LCACHE_SLOTS];
} list_cache;

struct hm_detector {
    scan_plan *plans;
    size_t plan_cap, n_plans;
    const hm_ruleset *rs;
    hs_scratch_t *scratch;
    pcre2_match_data *md;
    uint32_t gen;
    uint32_t *pred_gen; /* == gen: predicate state known this event */
    uint8_t *pred_val;  /* its value */
    uint32_t *rule_gen; /* == gen: rule already a candidate */
    uint32_t *cand;
    size_t n_cand;
    hm_str *slot_val;
    uint32_t *slot_gen;
    const hm_event *ev;
    void *yara_scanner; /* YR_SCANNER* */
    /* per-field case-folded values for direct (non-witness) string predicates: folded
     * once per event and field, in fold_buf (grown, never shrunk: no per-event malloc) */
    uint32_t fold_tag;
    uint32_t *fold_gen;
    hm_str *fold_val;
    char *fold_buf;
    size_t fold_len, fold_cap;
    /* the last product/category/service value seen and its interned id: a stream mostly
     * repeats a few log sources, so most events skip the lookup */
    struct ls_memo {
        char v[32];
        size_t len;
        uint16_t id;
        bool set;
    } ls_memo[3];
    /* per database, the predicates its last values marked (db_cache below), created the
     * first time the database is scanned; rec/n_rec collect a scan's marks */
    struct db_cache **cache;
    list_cache *lcache; /* created at the first value-list scan */
    uint32_t *rec;
    uint32_t n_rec;
    bool recording;
    /* per-field parsed IP address for |cidr predicates (several test the same field) */
    uint32_t *ip_gen;
    struct ip_parsed {
        uint8_t addr[16];
        uint8_t family; /* 0: not an IP address */
    } * ip;
};

bool sg_yara_match(hm_detector *d, const sg_pred *p, hm_str v);
void *sg_yara_scanner_new(const hm_ruleset *rs);
void sg_yara_scanner_free(void *s);

hm_detector *hm_detector_new(const hm_ruleset *rs) {
    hm_detector *d = hm_xcalloc(1, sizeof(*d));
    d->rs = rs;
    if (rs->proto_scratch && hs_clone_scratch(rs->proto_scratch, &d->scratch) != HS_SUCCESS) {
        free(d);
        return NULL;
    }
    d->md = pcre2_match_data_create(rs->max_regex_groups + 1, NULL);
    d->pred_gen = hm_xcalloc(rs->n_preds + 1, sizeof(uint32_t));
    d->pred_val = hm_xcalloc(rs->n_preds + 1, 1);
    d->rule_gen = hm_xcalloc(rs->n_rules + 1, sizeof(uint32_t));
    d->cand = hm_xcalloc(rs->n_rules + 1, sizeof(uint32_t));
    d->slot_val = hm_xcalloc(rs->n_slots + 1, sizeof(hm_str));
    d->slot_gen = hm_xcalloc(rs->n_slots + 1, sizeof(uint32_t));
    d->yara_scanner = sg_yara_scanner_new(rs);
    d->fold_gen = hm_xcalloc(rs->n_fields + 1, sizeof(uint32_t));
    d->fold_val = hm_xcalloc(rs->n_fields + 1, sizeof(hm_str));
    d->ip_gen = hm_xcalloc(rs->n_fields + 1, sizeof(uint32_t));
    d->ip = hm_xcalloc(rs->n_fields + 1, sizeof(*d->ip));
    d->cache = hm_xcalloc(rs->n_dbs + 1, sizeof(*d->cache));
    d->rec = hm_xmalloc((CACHE_MARKS + 1) * sizeof(uint32_t));
    return d;
}

void hm_detector_free(hm_detector *d) {
    if (!d) return;
    if (d->scratch) hs_free_scratch(d->scratch);
    pcre2_match_data_free(d->md);
    free(d->pred_gen);
    free(d->pred_val);
    free(d->rule_gen);
    free(d->cand);
    free(d->slot_val);
    free(d->slot_gen);
    sg_yara_scanner_free(d->yara_scanner);
    free(d->fold_gen);
    free(d->fold_val);
    free(d->fold_buf);
    free(d->ip_gen);
    free(d->ip);
    for (size_t i = 0; i < d->rs->n_dbs; i++) free(d->cache[i]);
    free(d->cache);
    free(d->lcache);
    free(d->rec);
    for (size_t i = 0; i < d->plan_cap; i++) {
        free(d->plans[i].dbs);
        free(d->plans[i].always);
    }
    free(d->plans);
    free(d);
}

static inline bool ls_ok(const sg_rule *r, uint16_t p, uint16_t c, uint16_t s, bool ev_registry) {
    /* SigmaHQ's `registry_event` covers the registry_add/delete/set/rename categories */
    bool cat = !r->ls_category || r->ls_category == c || (r->cat_registry_event && ev_registry);
    return (!r->ls_product || r->ls_product == p) && cat && (!r->ls_service || r->ls_service == s);
}

static const scan_plan *get_plan(hm_detector *d, uint16_t p, uint16_t c, uint16_t s, bool reg) {
    const hm_ruleset *rs = d->rs;
    uint64_t h = ((uint64_t)p * 1000003u) ^ ((uint64_t)c * 10007u) ^ s ^ ((uint64_t)reg << 40);
    if (d->plan_cap) {
        size_t j = (size_t)(h * 0x9E3779B97F4A7C15ULL >> 32) & (d->plan_cap - 1);
        while (d->plans[j].used) {
            scan_plan *pl = &d->plans[j];
            if (pl->p == p && pl->c == c && pl->s == s && pl->reg == reg) return pl;
            j = (j + 1) & (d->plan_cap - 1);
        }
    }
    /* first sight of this logsource: build its plan (rare, off the steady state) */
    if ((d->n_plans + 1) * 2 > d->plan_cap) {
        size_t oc = d->plan_cap, nc = oc ? oc * 2 : 16;
        scan_plan *old = d->plans;
        d->plans = hm_xcalloc(nc, sizeof(scan_plan));
        d->plan_cap = nc;
        for (size_t i = 0; i < oc; i++)
            if (old[i].used) {
                uint64_t hh = ((uint64_t)old[i].p * 1000003u) ^ ((uint64_t)old[i].c * 10007u) ^
                              old[i].s ^ ((uint64_t)old[i].reg << 40);
                size_t j = (size_t)(hh * 0x9E3779B97F4A7C15ULL >> 32) & (nc - 1);
                while (d->plans[j].used) j = (j + 1) & (nc - 1);
                d->plans[j] = old[i];
            }
        free(old);
    }
    size_t j = (size_t)(h * 0x9E3779B97F4A7C15ULL >> 32) & (d->plan_cap - 1);
    while (d->plans[j].used) j = (j + 1) & (d->plan_cap - 1);
    scan_plan *pl = &d->plans[j];
    pl->used = true;
    pl->p = p;
    pl->c = c;
    pl->s = s;
    pl->reg = reg;
    pl->dbs = hm_xmalloc((rs->n_dbs + 1) * sizeof(uint32_t));
    for (size_t k = 0; k < rs->n_dbs; k++) {
        const sg_db *db = &rs->dbs[k];
        if (!ls_ok(&rs->rules[db->rule], p, c, s, reg)) continue; /* another logsource's */
        for (uint32_t q = 0; q < db->n_rules; q++) {
            const sg_rule *r = &rs->rules[db->rules[q]];
            if (r->enabled && ls_ok(r, p, c, s, reg)) {
                pl->dbs[pl->n_dbs++] = (uint32_t)k;
                break;
            }
        }
    }
    pl->always = hm_xmalloc((rs->n_always + 1) * sizeof(uint32_t));
    for (size_t i = 0; i < rs->n_always; i++)
        if (ls_ok(&rs->rules[rs->always[i]], p, c, s, reg))
            pl->always[pl->n_always++] = rs->always[i];
    d->n_plans++;
    return pl;
}

bool sg_field_value(const hm_ruleset *rs, const hm_event *ev, int field, const hm_str *slots,
                    const uint8_t *slot_set, hm_str *out) {
    (void)slot_set;
    const sg_field *f = &rs->fields[field];
    if (f->tax >= 0) {
        if (!hm_ev_has(ev, (hm_field_id)f->tax)) return false;
        *out = ev->f[f->tax];
        return true;
    }
    if (f->tax == SG_F_RAW) {
        *out = (hm_str){ev->rec->data, ev->rec->len};
        return true;
    }
    if (f->tax == SG_F_TIME) {
        *out = (hm_str){"", 0};
        return true;
    }
    if (slots) {
        *out = slots[f->slot];
        return out->p != NULL;
    }
    const char *name = f->name;
    size_t n = strlen(name);
    for (uint16_t i = 0; i < ev->n_extra; i++)
        if (ev->extra[i].key.len == n && !memcmp(ev->extra[i].key.p, name, n)) {
            *out = ev->extra[i].val;
            return true;
        }
    return false;
}

static inline bool get_value(hm_detector *d, int field, hm_str *out) {
    const sg_field *f = &d->rs->fields[field];
    if (f->tax >= 0) {
        if (!hm_ev_has(d->ev, (hm_field_id)f->tax)) return false;
        *out = d->ev->f[f->tax];
        return true;
    }
    if (f->tax == SG_F_RAW) {
        *out = (hm_str){d->ev->rec->data, d->ev->rec->len};
        return true;
    }
    if (f->tax == SG_F_TIME) {
        *out = (hm_str){"", 0};
        return true;
    }
    /* vendor fields: looked up by name the first time a predicate asks this event (most
     * events never need one), the answer, found or not, cached for the event */
    if (d->slot_gen[f->slot] != d->gen) {
        d->slot_gen[f->slot] = d->gen;
        d->slot_val[f->slot] = (hm_str){NULL, 0};
        uint32_t n = d->rs->slot_lens[f->slot];
        const char *name = d->rs->slot_names[f->slot];
        for (uint16_t i = 0; i < d->ev->n_extra; i++)
            if (d->ev->extra[i].key.len == n && !memcmp(d->ev->extra[i].key.p, name, n)) {
                d->slot_val[f->slot] = d->ev->extra[i].val;
                break;
            }
    }
    *out = d->slot_val[f->slot];
    return out->p != NULL;
}

typedef struct scan_ctx {
    hm_detector *d;
    const sg_db *db;
} scan_ctx;

/* A predicate found true (or, a regex, worth confirming) by a scan or lookup: its rule
 * becomes a candidate. */
static inline void mark_pred(hm_detector *d, uint32_t p) {
    if (d->recording) {
        if (d->n_rec < CACHE_MARKS) d->rec[d->n_rec] = p;
        d->n_rec++; /* more than CACHE_MARKS: not cached */
    }
    const sg_pred *pr = &d->rs->preds[p];
    d->pred_gen[p] = d->gen;
    d->pred_val[p] = pr->kind == SG_P_REGEX ? 2 : 1; /* regex: PCRE2 confirms lazily */
    uint32_t r = pr->rule;
    if (d->rule_gen[r] != d->gen) {
        d->rule_gen[r] = d->gen;
        d->cand[d->n_cand++] = r;
    }
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                    void *ctx) {
    (void)from;
    (void)to;
    (void)flags;
    scan_ctx *sc = ctx;
    hm_detector *d = sc->d;
    const sg_db *db = sc->db;
    for (uint32_t q = db->expr_start[id]; q < db->expr_start[id + 1]; q++)
        mark_pred(d, db->expr_preds[q]);
    return 0;
}

/* The trie's child of node for folded byte c, or 0 (the root is nobody's child). */
static inline uint32_t trie_next(const sg_trie *t, uint32_t node, unsigned char c) {
    uint64_t key = ((uint64_t)node << 8 | c) + 1;
    uint64_t j = (key * 0x9E3779B97F4A7C15ULL >> 20) & t->mask;
    for (;; j = (j + 1) & t->mask) {
        if (t->edges[j].key == key) return t->edges[j].child;
        if (!t->edges[j].key) return 0;
    }
}

/* startswith (suffix false) / endswith literals of the field: one walk of the value. */
static void affix_lookup(hm_detector *d, const sg_trie *t, hm_str v, bool suffix) {
    uint32_t node = 0;
    for (size_t k = 0; k < v.len; k++) {
        unsigned char c = (unsigned char)v.p[suffix ? v.len - 1 - k : k];
        node = trie_next(t, node, sg_fold(c));
        if (!node) return;
        for (uint32_t q = t->term_start[node]; q < t->term_start[node + 1]; q++) {
            uint32_t pi = t->term_preds[q];
            const sg_pred *p = &d->rs->preds[pi];
            /* the folded bytes matched; a cased literal compares the bytes themselves */
            if (p->cased && memcmp(p->val, suffix ? v.p + v.len - p->vlen : v.p, p->vlen)) continue;
            mark_pred(d, pi);
        }
    }
}

uint64_t sg_exact_hash(const char *v, size_t n);

/* Equal with A-Z folded (what HS_FLAG_CASELESS and folded() compare); bytes may be NUL. */
static bool eq_fold(const char *a, const char *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x != y && (x | 32) != (y | 32)) return false;
        if (x != y && !((x | 32) >= 'a' && (x | 32) <= 'z')) return false;
    }
    return true;
}

/* Whole-value predicates of the field: one hash lookup (sg_exact_slot). */
static void exact_lookup(hm_detector *d, const sg_db *db, hm_str v) {
    if (v.len < db->exact_min || v.len > db->exact_max) return;
    uint64_t h = sg_exact_hash(v.p, v.len);
    for (uint32_t j = (uint32_t)h & db->exact_mask; db->exact[j].h; j = (j + 1) & db->exact_mask) {
        if (db->exact[j].h != h) continue;
        uint32_t pi = db->exact[j].pred;
        const sg_pred *p = &d->rs->preds[pi];
        if (p->vlen != v.len) continue;
        bool eq = p->cased ? !memcmp(p->val, v.p, v.len) : eq_fold(p->val, v.p, v.len);
        if (eq) mark_pred(d, pi);
    }
}

/* glob/string fallback (only for predicates Hyperscan could not take) */
bool sg_str_match(const sg_pred *p, hm_str v);

/* The value of field with A-Z folded, cached for the rest of the event. */
static hm_str folded(hm_detector *d, int field, hm_str v) {
    if (d->fold_gen[field] == d->fold_tag) return d->fold_val[field];
    if (d->fold_len + v.len > d->fold_cap) {
        /* growing moves the buffer: forget what this event folded so far */
        size_t nc = d->fold_cap ? d->fold_cap : 4096;
        while (nc < d->fold_len + v.len) nc *= 2;
        free(d->fold_buf);
        d->fold_buf = hm_xmalloc(nc);
        d->fold_cap = nc;
        d->fold_len = 0;
        if (++d->fold_tag == 0) {
            memset(d->fold_gen, 0, d->rs->n_fields * sizeof(uint32_t));
            d->fold_tag = 1;
        }
    }
    char *o = d->fold_buf + d->fold_len;
    for (size_t i = 0; i < v.len; i++) {
        unsigned char c = (unsigned char)v.p[i];
        o[i] = (char)sg_fold(c);
    }
    d->fold_len += v.len;
    d->fold_gen[field] = d->fold_tag;
    d->fold_val[field] = (hm_str){o, v.len};
    return d->fold_val[field];
}

/* A string predicate tested directly (it is not a witness, so no scan decided it):
 * case-insensitive ones compare folded needle and folded value byte for byte. */
static bool str_direct(hm_detector *d, const sg_pred *p, hm_str v) {
    const char *pat = p->val;
    if (!p->cased) {
        if (!p->lval) return sg_str_match(p, v);
        v = folded(d, p->field, v);
        pat = p->lval;
    }
    size_t n = v.len, m = p->vlen;
    const char *s = v.p ? v.p : "";
    switch (p->match) {
    case SG_M_EXACT:
        return n == m && !memcmp(s, pat, m);
    case SG_M_STARTS:
        return n >= m && !memcmp(s, pat, m);
    case SG_M_ENDS:
        return n >= m && !memcmp(s + n - m, pat, m);
    case SG_M_CONTAINS:
        return m == 0 || memmem(s, n, pat, m) != NULL;
    default: {
        /* a glob's longest literal run must be there: one memmem rejects most values
         * before the backtracking matcher runs */
        if (p->lit_len && !memmem(s, n, pat + p->lit_off, p->lit_len)) return false;
        sg_pred tmp = *p;
        tmp.val = (char *)pat;
        tmp.cased = true;
        return sg_str_match(&tmp, v);
    }
    }
}

static uint16_t ls_id(hm_detector *d, int which, hm_str v) {
    struct ls_memo *m = &d->ls_memo[which];
    if (m->set && m->len == v.len && (!v.len || !memcmp(m->v, v.p, v.len))) return m->id;
    uint16_t id = sg_ls_lookup(d->rs, v);
    if (v.len <= sizeof m->v) {
        if (v.len) memcpy(m->v, v.p, v.len);
        m->len = v.len;
        m->id = id;
        m->set = true;
    }
    return id;
}

/* |cidr: the field's address parsed once per event. */
static bool cidr_direct(hm_detector *d, const sg_pred *p, hm_str v) {
    struct ip_parsed *ip = &d->ip[p->field];
    if (d->ip_gen[p->field] != d->gen) {
        d->ip_gen[p->field] = d->gen;
        if (!sg_parse_ip(v.p, v.len, ip->addr, &ip->family)) ip->family = 0;
    }
    return ip->family && sg_cidr_has(p, ip->addr, ip->family);
}

static bool regex_match(hm_detector *d, const sg_pred *p, hm_str v) {
    int rc = pcre2_match(p->re, (PCRE2_SPTR)(v.p ? v.p : ""), v.len, 0, 0, d->md, NULL);
    return rc >= 0;
}

static bool eval_pred(hm_detector *d, uint32_t pi) {
    const sg_pred *p = &d->rs->preds[pi];
    if (d->pred_gen[pi] == d->gen) {
        if (d->pred_val[pi] != 2) return d->pred_val[pi];
        /* regex marked by Hyperscan: confirm */
        hm_str v;
        bool r = get_value(d, p->field, &v) && regex_match(d, p, v);
        d->pred_val[pi] = r;
        return r;
    }
    bool r = false;
    hm_str v;
    if (p->in_hs) {
        r = false; /* not marked by the scan */
    } else {
        bool has = get_value(d, p->field, &v);
        switch (p->kind) {
        case SG_P_NULL:
            r = !has;
            break;
        case SG_P_EXISTS:
        case SG_P_PRESENT:
            r = has;
            break;
        case SG_P_EMPTY:
            r = has && v.len == 0;
            break;
        case SG_P_STR:
            r = has && str_direct(d, p, v);
            break;
        case SG_P_REGEX:
            r = has && regex_match(d, p, v);
            break;
        case SG_P_CIDR:
            r = has && cidr_direct(d, p, v);
            break;
        case SG_P_NUM:
            r = has && sg_eval_num(p, v);
            break;
        case SG_P_TIMEPART:
            r = has &&
                sg_eval_timepart(d->rs, p, d->ev, v, d->rs->fields[p->field].tax == SG_F_TIME);
            break;
        case SG_P_FIELDREF: {
            hm_str w;
            if (has && get_value(d, p->field2, &w)) {
                sg_pred tmp = *p;
                tmp.val = (char *)w.p;
                tmp.vlen = w.len;
                tmp.wild = NULL;
                r = sg_str_match(&tmp, v);
            }
            break;
        }
        case SG_P_YARA:
            r = has && sg_yara_match(d, p, v);
            break;
        }
    }
    d->pred_gen[pi] = d->gen;
    d->pred_val[pi] = r;
    return r;
}

static int on_list_match(unsigned id, unsigned long long from, unsigned long long to,
                         unsigned flags, void *ctx) {
    (void)id;
    (void)from;
    (void)to;
    (void)flags;
    *(bool *)ctx = true;
    return 1; /* one value of the list is enough */
}

/* An OR of string predicates on one field: one scan of the value (sg_node.list_db),
 * through the worker's cache of recent answers. */
static bool list_match(hm_detector *d, uint32_t list) {
    const struct sg_list_db *ld = &d->rs->list_dbs[list];
    hm_str v;
    if (!get_value(d, ld->field, &v)) return false;
    list_cache *c = d->lcache;
    if (!c) c = d->lcache = hm_xcalloc(1, sizeof(list_cache));
    list_cache_entry *e = NULL;
    uint64_t h = 0;
    if (cache_use(&c->rate, v.len, LCACHE_VLEN)) {
        h = (hm_hash_words(v.p, v.len, list) ^ (uint64_t)list * 0x9E3779B97F4A7C15ULL) | 1;
        e = &c->e[(h >> 11) & (LCACHE_SLOTS - 1)];
        if (e->h == h && e->list == list && e->len == v.len && !memcmp(e->val, v.p, v.len)) {
            c->rate.hits++;
            return e->hit;
        }
    }
    bool hit = false;
    hs_scan(ld->db, v.len ? v.p : "", (unsigned)v.len, 0, d->scratch, on_list_match, &hit);
    if (e) {
        e->h = h;
        e->list = list;
        e->len = (uint16_t)v.len;
        e->hit = hit;
        if (v.len) memcpy(e->val, v.p, v.len);
    }
    return hit;
}

static bool eval_node(hm_detector *d, uint32_t n) {
    const hm_ruleset *rs = d->rs;
    const sg_node *nd = &rs->nodes[n];
    switch (nd->kind) {
    case SG_N_PRED:
        return eval_pred(d, nd->pred);
    case SG_N_TRUE:
        return true;
    case SG_N_FALSE:
        return false;
    case SG_N_NOT:
        return !eval_node(d, rs->kids[nd->kid0]);
    case SG_N_AND:
        for (uint32_t i = 0; i < nd->nkids; i++)
            if (!eval_node(d, rs->kids[nd->kid0 + i])) return false;
        return true;
    default:
        if (nd->list_db) return list_match(d, nd->list_db - 1);
        for (uint32_t i = 0; i < nd->nkids; i++)
            if (eval_node(d, rs->kids[nd->kid0 + i])) return true;
        return false;
    }
}

static void scan_db_uncached(hm_detector *d, const sg_db *db, hm_str v) {
    if (db->n_nums) { /* numeric witnesses: parsed as sg_eval_num parses, once */
        double x;
        if (sg_parse_double(v, &x))
            for (uint32_t i = 0; i < db->n_nums; i++)
                if (sg_eval_num_at(&d->rs->preds[db->nums[i]], x)) mark_pred(d, db->nums[i]);
    }
    if (db->exact) exact_lookup(d, db, v);
    if (db->prefix) affix_lookup(d, db->prefix, v, false);
    if (db->suffix) affix_lookup(d, db->suffix, v, true);
    if (db->db) {
        scan_ctx sc = {d, db};
        hs_scan(db->db, v.len ? v.p : "", (unsigned)v.len, 0, d->scratch, on_match, &sc);
    }
}

/* One database over one value, through the worker's cache of recent values (db_cache). */
static void scan_db(hm_detector *d, uint32_t k, const sg_db *db, hm_str v) {
    db_cache *c = d->cache[k];
    if (!c) c = d->cache[k] = hm_xcalloc(1, sizeof(db_cache));
    if (!cache_use(&c->rate, v.len, CACHE_VLEN)) {
        scan_db_uncached(d, db, v);
        return;
    }
    uint64_t h = hm_hash_words(v.p, v.len, 0x63616368) | 1;
    db_cache_entry *e = &c->e[(h >> 7) & (CACHE_SLOTS - 1)];
    if (e->h == h && e->len == v.len && !memcmp(e->val, v.p, v.len)) {
        c->rate.hits++;
        for (uint8_t i = 0; i < e->n_marks; i++) mark_pred(d, e->marks[i]);
        return;
    }
    d->recording = true;
    d->n_rec = 0;
    scan_db_uncached(d, db, v);
    d->recording = false;
    if (d->n_rec <= CACHE_MARKS) {
        e->h = h;
        e->len = (uint16_t)v.len;
        e->n_marks = (uint8_t)d->n_rec;
        memcpy(e->marks, d->rec, d->n_rec * sizeof(uint32_t));
        if (v.len) memcpy(e->val, v.p, v.len);
    }
}

size_t hm_detect(hm_detector *d, const hm_event *ev, hm_match *out, size_t max) {
    const hm_ruleset *rs = d->rs;
    if (++d->gen == 0) { /* wrapped: reset generations */
        memset(d->ip_gen, 0, rs->n_fields * sizeof(uint32_t));
        memset(d->pred_gen, 0, rs->n_preds * sizeof(uint32_t));
        memset(d->rule_gen, 0, rs->n_rules * sizeof(uint32_t));
        memset(d->slot_gen, 0, rs->n_slots * sizeof(uint32_t));
        d->gen = 1;
    }
    d->ev = ev;
    d->n_cand = 0;
    d->fold_len = 0;
    if (++d->fold_tag == 0) {
        memset(d->fold_gen, 0, rs->n_fields * sizeof(uint32_t));
        d->fold_tag = 1;
    }
    uint16_t lp = hm_ev_has(ev, HM_F_PRODUCT) ? ls_id(d, 0, ev->f[HM_F_PRODUCT]) : 0;
    uint16_t lc = hm_ev_has(ev, HM_F_CATEGORY) ? ls_id(d, 1, ev->f[HM_F_CATEGORY]) : 0;
    uint16_t lsv = hm_ev_has(ev, HM_F_SERVICE) ? ls_id(d, 2, ev->f[HM_F_SERVICE]) : 0;
    bool ev_registry =
        hm_ev_has(ev, HM_F_CATEGORY) && hm_str_starts(ev->f[HM_F_CATEGORY], "registry_");
    const scan_plan *plan = get_plan(d, lp, lc, lsv, ev_registry);
    for (uint32_t k = 0; k < plan->n_dbs; k++) {
        const sg_db *db = &rs->dbs[plan->dbs[k]];
        hm_str v;
        if (get_value(d, db->field, &v)) scan_db(d, plan->dbs[k], db, v);
    }
    for (uint32_t i = 0; i < plan->n_always; i++) {
        uint32_t r = plan->always[i];
        if (d->rule_gen[r] != d->gen) {
            d->rule_gen[r] = d->gen;
            d->cand[d->n_cand++] = r;
        }
    }
    /* rule order for deterministic output */
    for (size_t i = 1; i < d->n_cand; i++) {
        uint32_t x = d->cand[i];
        size_t j = i;
        while (j > 0 && d->cand[j - 1] > x) {
            d->cand[j] = d->cand[j - 1];
            j--;
        }
        d->cand[j] = x;
    }
    size_t matched = 0;
    for (size_t i = 0; i < d->n_cand; i++) {
        const sg_rule *r = &rs->rules[d->cand[i]];
        if (!r->enabled || !ls_ok(r, lp, lc, lsv, ev_registry)) continue;
        if (!eval_node(d, r->root)) continue;
        if (matched < max) {
            uint64_t sel = 0;
            for (size_t k = 0; k < r->meta.n_selections && k < 64; k++)
                if (eval_node(d, r->sel_roots[k])) sel |= 1ULL << k;
            out[matched].rule = d->cand[i];
            out[matched].selections = sel;
        }
        matched++;
    }
    return matched;
}

void *sg_detector_yara(hm_detector *d) {
    return d->yara_scanner;
}
