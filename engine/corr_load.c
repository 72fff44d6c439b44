/* corr_load.c - Sigma correlation documents -> hm_corr (start-up only). */
#include <stdio.h>
#include <stdlib.h>

#include "correlate.h"
#include "sigma_int.h"
#include "yamltree.h"

const char *const hm_corr_type_names[] = {"event_count",      "value_count", "temporal",
                                          "temporal_ordered", "value_sum",   "value_avg",
                                          "value_percentile"};

const hm_corr_set *hm_ruleset_correlations(const hm_ruleset *rs) {
    return rs ? rs->corrs : NULL;
}

static bool parse_timespan(const char *s, int64_t *ns) {
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || v <= 0) return false;
    double mult;
    if (!strcmp(end, "s"))
        mult = 1e9;
    else if (!strcmp(end, "m"))
        mult = 60e9;
    else if (!strcmp(end, "h"))
        mult = 3600e9;
    else if (!strcmp(end, "d"))
        mult = 86400e9;
    else if (!strcmp(end, "w"))
        mult = 7 * 86400e9;
    else if (!strcmp(end, "M"))
        mult = 30.44 * 86400e9;
    else if (!strcmp(end, "y"))
        mult = 365.24 * 86400e9;
    else
        return false;
    *ns = (int64_t)((double)v * mult);
    return true;
}

static char **strs(const hm_ynode *n, size_t *count) {
    *count = 0;
    if (!n) return NULL;
    if (n->type == HM_Y_SCALAR) {
        char **v = hm_xcalloc(1, sizeof(char *));
        v[0] = hm_xstrdup(n->str);
        *count = 1;
        return v;
    }
    if (n->type != HM_Y_SEQ) return NULL;
    char **v = hm_xcalloc(n->n + 1, sizeof(char *));
    for (size_t i = 0; i < n->n; i++)
        if (hm_y_is_scalar(n->vals[i])) v[(*count)++] = hm_xstrdup(n->vals[i]->str);
    return v;
}

static void free_strs(char **v, size_t n) {
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

typedef struct pending {
    const char *file;
    const hm_ynode *doc;
    int rule; /* meta rule index */
} pending;

#define CERR(node, code, ...)                                                                      \
    hm_diags_add(d, HM_DIAG_ERROR, p->file, (node) ? (node)->line : p->doc->line,                  \
                 (node) ? (node)->col : 1, rs->rules[p->rule].meta.id, code, __VA_ARGS__)

static int resolve_ref(const hm_ruleset *rs, const char *s) {
    for (size_t i = 0; i < rs->n_rules; i++)
        if (!strcmp(rs->rules[i].meta.id, s)) return (int)i;
    for (size_t i = 0; i < rs->n_rules; i++)
        if (rs->rules[i].meta.name && !strcmp(rs->rules[i].meta.name, s)) return (int)i;
    return -1;
}

static bool parse_one(hm_ruleset *rs, hm_diags *d, pending *p, hm_corr *c) {
    const hm_ynode *cor = hm_ymap_get(p->doc, "correlation");
    memset(c, 0, sizeof(*c));
    c->rule = (uint32_t)p->rule;
    if (!cor || cor->type != HM_Y_MAP) {
        CERR(cor, "bad-correlation", "'correlation' must be a map");
        return false;
    }
    const hm_ynode *ty = hm_ymap_get(cor, "type");
    int type = -1;
    for (int i = 0; i < 7; i++)
        if (hm_y_is_scalar(ty) && !strcmp(ty->str, hm_corr_type_names[i])) type = i;
    if (type < 0) {
        CERR(ty, "bad-correlation",
             "correlation type must be one of event_count, value_count, "
             "temporal, temporal_ordered, value_sum, value_avg, value_percentile");
        return false;
    }
    c->type = (hm_corr_type)type;
    size_t nr;
    const hm_ynode *rn = hm_ymap_get(cor, "rules");
    char **refs = strs(rn, &nr);
    if (!nr) {
        CERR(rn, "bad-correlation", "'rules' must name at least one rule (id or name)");
        free_strs(refs, nr);
        return false;
    }
    c->refs = hm_xcalloc(nr, sizeof(uint32_t));
    c->n_refs = nr;
    bool ok = true;
    for (size_t i = 0; i < nr; i++) {
        int r = resolve_ref(rs, refs[i]);
        if (r < 0) {
            CERR(rn, "unknown-rule",
                 "correlation references '%s', which is not a loaded rule id or name", refs[i]);
            ok = false;
        } else if (r == p->rule) {
            CERR(rn, "correlation-cycle", "correlation references itself");
            ok = false;
        } else {
            c->refs[i] = (uint32_t)r;
        }
    }
    free_strs(refs, nr);
    if (!ok) return false;
    const hm_ynode *ts = hm_ymap_get(cor, "timespan");
    if (!hm_y_is_scalar(ts) || !parse_timespan(ts->str, &c->span_ns)) {
        CERR(ts, "bad-timespan", "'timespan' must be a number with a unit s, m, h or d (e.g. 10m)");
        return false;
    }
    const hm_ynode *gb = hm_ymap_get(cor, "group-by");
    c->group_by = strs(gb, &c->n_group);
    const hm_ynode *aliases = hm_ymap_get(cor, "aliases");
    c->group_fields = hm_xcalloc(c->n_group * c->n_refs + 1, sizeof(char *));
    c->group_tax = hm_xcalloc(c->n_group * c->n_refs + 1, sizeof(int));
    for (size_t g = 0; g < c->n_group; g++) {
        const hm_ynode *al = aliases ? hm_ymap_get(aliases, c->group_by[g]) : NULL;
        for (size_t r = 0; r < c->n_refs; r++) {
            const char *field = c->group_by[g];
            if (al) {
                const hm_rule_meta *rm = &rs->rules[c->refs[r]].meta;
                const hm_ynode *f = rm->name ? hm_ymap_get(al, rm->name) : NULL;
                if (!f) f = hm_ymap_get(al, rm->id);
                if (!hm_y_is_scalar(f)) {
                    CERR(al, "bad-alias", "alias '%s' has no field for rule '%s'", c->group_by[g],
                         rm->name ? rm->name : rm->id);
                    return false;
                }
                field = f->str;
            }
            c->group_fields[g * c->n_refs + r] = hm_xstrdup(field);
            c->group_tax[g * c->n_refs + r] = hm_field_lookup(field, strlen(field));
        }
    }
    const hm_ynode *cond = hm_ymap_get(cor, "condition");
    bool temporal = c->type == HM_CORR_TEMPORAL || c->type == HM_CORR_TEMPORAL_ORDERED;
    if (!cond && !temporal) {
        CERR(cor, "bad-condition", "'condition' is required for %s", hm_corr_type_names[c->type]);
        return false;
    }
    c->percentile = 50;
    c->close_eval = false;
    if (cond) {
        if (cond->type != HM_Y_MAP) {
            CERR(cond, "bad-condition", "correlation condition must be a map like {gte: 10}");
            return false;
        }
        bool upper_only = true;
        for (size_t i = 0; i < cond->n; i++) {
            const char *k = cond->keys[i]->str;
            const hm_ynode *v = cond->vals[i];
            if (!strcmp(k, "field")) {
                c->value_fields = strs(v, &c->n_value_fields);
                continue;
            }
            if (!strcmp(k, "percentile")) {
                char *pend = NULL;
                c->percentile = hm_y_is_scalar(v) ? strtod(v->str, &pend) : -1;
                if (!pend || *pend || !(c->percentile >= 0 && c->percentile <= 100)) {
                    CERR(v, "bad-condition", "'percentile' must be a number from 0 to 100");
                    return false;
                }
                continue;
            }
            static const char *const ops[] = {"gt", "gte", "lt", "lte", "eq", "neq"};
            int op = -1;
            for (int o = 0; o < 6; o++)
                if (!strcmp(k, ops[o])) op = o;
            char *end = NULL;
            double dv = hm_y_is_scalar(v) ? strtod(v->str, &end) : 0;
            if (op < 0 || !hm_y_is_scalar(v) || !end || *end || c->n_cond >= 3) {
                CERR(
                    cond->keys[i], "bad-condition",
                    "condition key '%s' must be gt, gte, lt, lte, eq, neq (with a number) or field",
                    k);
                return false;
            }
            c->cond[c->n_cond].op = (hm_cond_op)op;
            c->cond[c->n_cond].v = dv;
            c->n_cond++;
            if (op != HM_COND_LT && op != HM_COND_LTE) upper_only = false;
        }
        c->close_eval = c->n_cond > 0 && upper_only;
    }
    bool needs_field = c->type == HM_CORR_VALUE_COUNT || c->type == HM_CORR_VALUE_SUM ||
                       c->type == HM_CORR_VALUE_AVG || c->type == HM_CORR_VALUE_PERCENTILE;
    if (needs_field && !c->n_value_fields) {
        CERR(cond, "bad-condition", "%s needs condition.field", hm_corr_type_names[c->type]);
        return false;
    }
    if (needs_field && c->type != HM_CORR_VALUE_COUNT && c->n_value_fields > 1) {
        CERR(cond, "bad-condition", "%s aggregates one numeric field", hm_corr_type_names[c->type]);
        return false;
    }
    c->value_tax = hm_xcalloc(c->n_value_fields + 1, sizeof(int));
    for (size_t i = 0; i < c->n_value_fields; i++)
        c->value_tax[i] = hm_field_lookup(c->value_fields[i], strlen(c->value_fields[i]));
    if (temporal) {
        c->min_rules = (uint32_t)c->n_refs;
        if (c->n_cond) {
            /* thresholds the number of distinct referenced rules (any 2 of 3) */
            double v = c->cond[0].v;
            uint32_t need = c->cond[0].op == HM_COND_GT ? (uint32_t)v + 1 : (uint32_t)v;
            if (need < 1) need = 1;
            if (need > c->n_refs) need = (uint32_t)c->n_refs;
            c->min_rules = need;
        }
        c->close_eval = false;
    }
    if (!c->n_cond && !temporal) {
        CERR(cond, "bad-condition", "condition needs one of gt, gte, lt, lte, eq, neq");
        return false;
    }
    return true;
}

static void corr_free_one(hm_corr *c) {
    free(c->refs);
    free_strs(c->group_by, c->n_group);
    for (size_t i = 0; i < c->n_group * c->n_refs; i++) free(c->group_fields[i]);
    free(c->group_fields);
    free(c->group_tax);
    free_strs(c->value_fields, c->n_value_fields);
    free(c->value_tax);
}

void sg_load_correlations(hm_ruleset *rs, hm_diags *d, const char **files, hm_ydoc **docs,
                          const int *ndocs, size_t nfiles) {
    pending *pend = NULL;
    size_t np = 0;
    for (size_t i = 0; i < nfiles; i++)
        for (int k = 0; k < ndocs[i]; k++) {
            const hm_ynode *doc = docs[i][k].root;
            if (!doc || doc->type != HM_Y_MAP || !hm_ymap_get(doc, "correlation")) continue;
            int r = sg_add_meta_rule(rs, d, files[i], doc);
            if (r < 0) continue;
            pend = hm_xrealloc(pend, (np + 1) * sizeof(*pend));
            pend[np++] = (pending){files[i], doc, r};
        }
    rs->n_correlations = np;
    if (!np) {
        free(pend);
        return;
    }
    hm_corr_set *set = hm_xcalloc(1, sizeof(*set));
    set->v = hm_xcalloc(np, sizeof(hm_corr));
    for (size_t i = 0; i < np; i++) {
        if (parse_one(rs, d, &pend[i], &set->v[set->n]))
            set->n++;
        else
            corr_free_one(&set->v[set->n]);
    }
    /* cycles: follow correlation -> correlation references (chains up to depth 10) */
    for (size_t i = 0; i < set->n; i++) {
        uint32_t stack[16];
        int depth = 0;
        stack[depth++] = set->v[i].rule;
        bool cyc = false;
        /* iterative deepening over refs */
        for (int level = 0; level < 10 && !cyc; level++) {
            bool any = false;
            for (size_t j = 0; j < set->n && !cyc; j++) {
                const hm_corr *cj = &set->v[j];
                for (int s = 0; s < depth; s++)
                    if (cj->rule == stack[s])
                        for (size_t r = 0; r < cj->n_refs; r++) {
                            if (cj->refs[r] == set->v[i].rule && level > 0) cyc = true;
                            bool seen = false;
                            for (int t = 0; t < depth; t++)
                                if (stack[t] == cj->refs[r]) seen = true;
                            if (!seen && depth < 16 && rs->rules[cj->refs[r]].meta.is_correlation) {
                                stack[depth++] = cj->refs[r];
                                any = true;
                            }
                        }
            }
            if (!any) break;
        }
        if (cyc)
            hm_diags_add(d, HM_DIAG_ERROR, rs->rules[set->v[i].rule].meta.file,
                         rs->rules[set->v[i].rule].meta.line, 1, rs->rules[set->v[i].rule].meta.id,
                         "correlation-cycle", "correlation chain refers back to itself");
    }
    /* generate: a referenced rule alerts on its own only if some correlation says so */
    bool *gen_any = hm_xcalloc(rs->n_rules + 1, sizeof(bool));
    bool *referenced = hm_xcalloc(rs->n_rules + 1, sizeof(bool));
    for (size_t i = 0; i < np; i++) {
        const hm_ynode *g = hm_ymap_get(pend[i].doc, "generate");
        bool gen = hm_y_is_scalar(g) && (!strcmp(g->str, "true") || !strcmp(g->str, "yes"));
        for (size_t j = 0; j < set->n; j++)
            if (set->v[j].rule == (uint32_t)pend[i].rule)
                for (size_t r = 0; r < set->v[j].n_refs; r++) {
                    referenced[set->v[j].refs[r]] = true;
                    if (gen) gen_any[set->v[j].refs[r]] = true;
                }
    }
    for (size_t i = 0; i < rs->n_rules; i++)
        if (referenced[i]) rs->rules[i].meta.generate = gen_any[i];
    free(gen_any);
    free(referenced);
    set->n_rules = rs->n_rules;
    set->by_rule = hm_xcalloc(rs->n_rules + 1, sizeof(uint32_t *));
    set->n_by_rule = hm_xcalloc(rs->n_rules + 1, sizeof(uint32_t));
    for (size_t j = 0; j < set->n; j++)
        for (size_t r = 0; r < set->v[j].n_refs; r++) {
            uint32_t ru = set->v[j].refs[r];
            set->by_rule[ru] =
                hm_xrealloc(set->by_rule[ru], (set->n_by_rule[ru] + 1) * sizeof(uint32_t));
            set->by_rule[ru][set->n_by_rule[ru]++] = (uint32_t)j;
        }
    /* levels: a correlation is evaluated after the correlations it references */
    for (size_t pass = 0; pass < 11; pass++)
        for (size_t j = 0; j < set->n; j++)
            for (size_t r = 0; r < set->v[j].n_refs; r++)
                for (size_t k = 0; k < set->n; k++)
                    if (set->v[k].rule == set->v[j].refs[r] &&
                        set->v[j].level < set->v[k].level + 1 && set->v[k].level < 10)
                        set->v[j].level = set->v[k].level + 1;
    for (size_t j = 0; j < set->n; j++)
        if (set->v[j].level > set->max_level) set->max_level = set->v[j].level;
    rs->corrs = set;
    free(pend);
}

void sg_corr_free(hm_ruleset *rs) {
    hm_corr_set *set = rs->corrs;
    if (!set) return;
    for (size_t i = 0; i < set->n; i++) corr_free_one(&set->v[i]);
    free(set->v);
    for (size_t i = 0; i < set->n_rules; i++) free(set->by_rule[i]);
    free(set->by_rule);
    free(set->n_by_rule);
    free(set);
    rs->corrs = NULL;
}

/* ---- worker side ---- */

static bool value_of(const hm_event *ev, int tax, const char *name, hm_str *out) {
    if (tax >= 0) {
        if (!hm_ev_has(ev, (hm_field_id)tax)) return false;
        *out = ev->f[tax];
        return true;
    }
    size_t n = strlen(name);
    for (uint16_t i = 0; i < ev->n_extra; i++)
        if (ev->extra[i].key.len == n && !memcmp(ev->extra[i].key.p, name, n)) {
            *out = ev->extra[i].val;
            return true;
        }
    return false;
}

size_t hm_corr_extract(const hm_ruleset *rs, uint32_t rule, const hm_event *ev, const char *origin,
                       hm_arena *arena, hm_corr_hit *out, size_t max) {
    const hm_corr_set *set = rs->corrs;
    if (!set || rule >= set->n_rules || !set->n_by_rule[rule]) return 0;
    size_t n = 0;
    hm_str id = {0};
    for (uint32_t k = 0; k < set->n_by_rule[rule] && n < max; k++) {
        uint32_t ci = set->by_rule[rule][k];
        const hm_corr *c = &set->v[ci];
        for (size_t r = 0; r < c->n_refs && n < max; r++) {
            if (c->refs[r] != rule) continue;
            /* group key: values joined by 0x1f; an event lacking a group-by field is skipped */
            size_t need = 0;
            hm_str gv[16];
            bool ok = c->n_group <= 16;
            for (size_t g = 0; g < c->n_group && ok; g++) {
                size_t fi = g * c->n_refs + r;
                ok = value_of(ev, c->group_tax[fi], c->group_fields[fi], &gv[g]);
                need += gv[g].len + 1;
            }
            if (!ok) continue;
            if (!id.p) {
                size_t ol = strlen(origin);
                char *b = hm_arena_alloc(arena, ol + 24);
                memcpy(b, origin, ol);
                b[ol] = ':';
                size_t l = ol + 1;
                char tmp[24];
                int t = 0;
                uint64_t pos = ev->rec->pos;
                do {
                    tmp[t++] = (char)('0' + pos % 10);
                    pos /= 10;
                } while (pos);
                while (t) b[l++] = tmp[--t];
                id = (hm_str){b, (uint32_t)l};
            }
            char *g = hm_arena_alloc(arena, need + 1);
            size_t gl = 0;
            for (size_t q = 0; q < c->n_group; q++) {
                if (q) g[gl++] = 0x1f;
                memcpy(g + gl, gv[q].p, gv[q].len);
                gl += gv[q].len;
            }
            hm_corr_hit *h = &out[n++];
            h->corr = ci;
            h->ref = (uint32_t)r;
            h->ts_ns = ev->ts_ns;
            h->stream = origin;
            h->event_id = id;
            h->group = (hm_str){g, (uint32_t)gl};
            h->has_value = false;
            h->value = (hm_str){"", 0};
            if (c->n_value_fields) {
                hm_str vv[8];
                size_t vl = 0;
                bool have = c->n_value_fields <= 8;
                for (size_t q = 0; q < c->n_value_fields && have; q++) {
                    have = value_of(ev, c->value_tax[q], c->value_fields[q], &vv[q]);
                    vl += vv[q].len + 1;
                }
                if (have) {
                    char *v = hm_arena_alloc(arena, vl + 1);
                    size_t o = 0;
                    for (size_t q = 0; q < c->n_value_fields; q++) {
                        if (q) v[o++] = 0x1f;
                        memcpy(v + o, vv[q].p, vv[q].len);
                        o += vv[q].len;
                    }
                    h->value = (hm_str){v, (uint32_t)o};
                    h->has_value = true;
                }
            }
        }
    }
    return n;
}
