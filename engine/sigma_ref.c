/* sigma_ref.c - the reference evaluator: walks every rule's condition tree and tests each
 * predicate directly with plain string code (no Hyperscan, no prefilter, no memo). Slow
 * on purpose and easy to check by eye; tests compare the compiled matcher against it. */
#include <stdlib.h>

#include "sigma_int.h"

static inline unsigned char fold(unsigned char c) {
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static bool eq_at(const char *a, const char *b, size_t n, bool cased) {
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (cased ? x != y : fold(x) != fold(y)) return false;
    }
    return true;
}

/* Glob with '*' (any run) and '?' (one byte), iterative with backtracking to the last star. */
static bool glob_match(const char *pat, const uint8_t *wild, size_t pn, const char *s, size_t sn,
                       bool cased) {
    size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;
    while (si < sn) {
        if (pi < pn && wild[pi] == 1) {
            star = pi++;
            mark = si;
        } else if (pi < pn && (wild[pi] == 2 || eq_at(pat + pi, s + si, 1, cased))) {
            pi++;
            si++;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            si = ++mark;
        } else {
            return false;
        }
    }
    while (pi < pn && wild[pi] == 1) pi++;
    return pi == pn;
}

bool sg_str_match(const sg_pred *p, hm_str v) {
    const char *s = v.p ? v.p : "";
    size_t n = v.len, m = p->vlen;
    switch (p->match) {
    case SG_M_EXACT:
        return n == m && eq_at(s, p->val, m, p->cased);
    case SG_M_STARTS:
        return n >= m && eq_at(s, p->val, m, p->cased);
    case SG_M_ENDS:
        return n >= m && eq_at(s + n - m, p->val, m, p->cased);
    case SG_M_CONTAINS:
        if (m == 0) return true;
        for (size_t i = 0; i + m <= n; i++)
            if (eq_at(s + i, p->val, m, p->cased)) return true;
        return false;
    default:
        return glob_match(p->val, p->wild, m, s, n, p->cased);
    }
}

bool sg_yara_match_ref(const hm_ruleset *rs, const sg_pred *p, hm_str v); /* sigma_yara.c */

typedef struct refctx {
    const hm_ruleset *rs;
    const hm_event *ev;
} refctx;

static bool ref_pred(refctx *c, const sg_pred *p) {
    hm_str v;
    bool has = sg_field_value(c->rs, c->ev, p->field, NULL, NULL, &v);
    switch (p->kind) {
    case SG_P_NULL:
        return !has;
    case SG_P_EXISTS:
    case SG_P_PRESENT:
        return has;
    case SG_P_EMPTY:
        return has && v.len == 0;
    case SG_P_STR:
        return has && sg_str_match(p, v);
    case SG_P_REGEX: {
        if (!has) return false;
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(p->re, NULL);
        int rc = pcre2_match(p->re, (PCRE2_SPTR)(v.p ? v.p : ""), v.len, 0, 0, md, NULL);
        pcre2_match_data_free(md);
        return rc >= 0;
    }
    case SG_P_CIDR:
        return has && sg_eval_cidr(p, v);
    case SG_P_NUM:
        return has && sg_eval_num(p, v);
    case SG_P_TIMEPART:
        return has &&
               sg_eval_timepart(c->rs, p, c->ev, v, c->rs->fields[p->field].tax == SG_F_TIME);
    case SG_P_FIELDREF: {
        hm_str w;
        if (!has || !sg_field_value(c->rs, c->ev, p->field2, NULL, NULL, &w)) return false;
        sg_pred tmp = *p;
        tmp.val = (char *)w.p;
        tmp.vlen = w.len;
        return sg_str_match(&tmp, v);
    }
    case SG_P_YARA:
        return has && sg_yara_match_ref(c->rs, p, v);
    }
    return false;
}

static bool ref_node(refctx *c, uint32_t n) {
    const sg_node *nd = &c->rs->nodes[n];
    switch (nd->kind) {
    case SG_N_PRED:
        return ref_pred(c, &c->rs->preds[nd->pred]);
    case SG_N_TRUE:
        return true;
    case SG_N_FALSE:
        return false;
    case SG_N_NOT:
        return !ref_node(c, c->rs->kids[nd->kid0]);
    case SG_N_AND:
        for (uint32_t i = 0; i < nd->nkids; i++)
            if (!ref_node(c, c->rs->kids[nd->kid0 + i])) return false;
        return true;
    default:
        for (uint32_t i = 0; i < nd->nkids; i++)
            if (ref_node(c, c->rs->kids[nd->kid0 + i])) return true;
        return false;
    }
}

static bool ls_attr_ok(const char *rule_v, const hm_event *ev, hm_field_id f) {
    if (!rule_v) return true;
    return hm_ev_has(ev, f) && hm_str_eq_c(ev->f[f], rule_v);
}

size_t hm_detect_reference(const hm_ruleset *rs, const hm_event *ev, hm_match *out, size_t max) {
    refctx c = {rs, ev};
    size_t matched = 0;
    for (size_t i = 0; i < rs->n_rules; i++) {
        const sg_rule *r = &rs->rules[i];
        if (!r->enabled) continue;
        if (!ls_attr_ok(r->meta.ls_product, ev, HM_F_PRODUCT) ||
            !(ls_attr_ok(r->meta.ls_category, ev, HM_F_CATEGORY) ||
              (r->cat_registry_event && hm_ev_has(ev, HM_F_CATEGORY) &&
               hm_str_starts(ev->f[HM_F_CATEGORY], "registry_"))) ||
            !ls_attr_ok(r->meta.ls_service, ev, HM_F_SERVICE))
            continue;
        if (!ref_node(&c, r->root)) continue;
        if (matched < max) {
            uint64_t sel = 0;
            for (size_t k = 0; k < r->meta.n_selections && k < 64; k++)
                if (ref_node(&c, r->sel_roots[k])) sel |= 1ULL << k;
            out[matched].rule = (uint32_t)i;
            out[matched].selections = sel;
        }
        matched++;
    }
    return matched;
}
