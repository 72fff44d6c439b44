/* corr_eval.c - the correlation window algorithm (shared by the memory backend; the Redis
 * backend's Lua script is a line-by-line port). See docs/correlation.md.
 *
 * Members are ordered by (event time in ms, id) - the tie rule for equal timestamps.
 * Sliding windows: the window ending at member i holds the members j <= i with
 * ts_j > ts_i - span that come after the last firing (reset). A firing resets the group,
 * so one burst raises one alert and the next alert needs fresh members.
 * Upper-bound-only conditions (lt/lte) cannot be decided until a window closes: those use
 * windows anchored at the first member after the previous window, evaluated at close. */
#include <math.h>
#include <stdlib.h>

#include "corr_int.h"

int corr_member_cmp(int64_t ts_a, hm_str id_a, int64_t ts_b, hm_str id_b) {
    if (ts_a != ts_b) return ts_a < ts_b ? -1 : 1;
    size_t n = id_a.len < id_b.len ? id_a.len : id_b.len;
    int c = n ? memcmp(id_a.p, id_b.p, n) : 0;
    if (c) return c;
    return id_a.len < id_b.len ? -1 : id_a.len > id_b.len ? 1 : 0;
}

bool corr_cond(const hm_corr *c, double v) {
    for (int i = 0; i < c->n_cond; i++) {
        double t = c->cond[i].v;
        bool ok;
        switch (c->cond[i].op) {
        case HM_COND_GT:
            ok = v > t;
            break;
        case HM_COND_GTE:
            ok = v >= t;
            break;
        case HM_COND_LT:
            ok = v < t;
            break;
        case HM_COND_LTE:
            ok = v <= t;
            break;
        case HM_COND_EQ:
            ok = v == t;
            break;
        default:
            ok = v != t;
            break;
        }
        if (!ok) return false;
    }
    return true;
}

static int cmp_hstr(const void *a, const void *b) {
    const hm_str *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->p, y->p, n) : 0;
    return c ? c : (x->len < y->len ? -1 : x->len > y->len);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static bool parse_num(hm_str v, double *out) {
    char buf[64];
    if (!v.len || v.len >= sizeof buf) return false;
    memcpy(buf, v.p, v.len);
    buf[v.len] = 0;
    char *end;
    double d = strtod(buf, &end);
    if (*end || isnan(d)) return false;
    *out = d;
    return true;
}

/* Aggregate of members [lo, hi] (inclusive). Returns false when the type has no value
 * (e.g. an average of no numbers). scratch arrays sized hi-lo+1. */
static bool aggregate(const hm_corr *c, const corr_member *m, size_t lo, size_t hi, double *out,
                      hm_str *vals, double *nums, const double *parsed, const bool *parsed_ok,
                      size_t *n_distinct) {
    size_t n = hi - lo + 1;
    *n_distinct = 0;
    switch (c->type) {
    case HM_CORR_EVENT_COUNT:
        *out = (double)n;
        return true;
    case HM_CORR_VALUE_COUNT: {
        size_t k = 0;
        for (size_t i = lo; i <= hi; i++)
            if (m[i].has_value) vals[k++] = m[i].value;
        qsort(vals, k, sizeof(hm_str), cmp_hstr);
        size_t d = 0;
        for (size_t i = 0; i < k; i++)
            if (i == 0 || cmp_hstr(&vals[i], &vals[d - 1]) != 0) vals[d++] = vals[i];
        *n_distinct = d;
        *out = (double)d;
        return true;
    }
    case HM_CORR_TEMPORAL: {
        uint32_t seen = 0;
        uint64_t mask = 0;
        for (size_t i = lo; i <= hi; i++)
            if (m[i].ref < 64 && !(mask >> m[i].ref & 1)) {
                mask |= 1ULL << m[i].ref;
                seen++;
            }
        *out = seen;
        return true;
    }
    case HM_CORR_TEMPORAL_ORDERED: {
        /* greedy earliest subsequence following the listed order (equal times allowed) */
        size_t k = 0;
        for (size_t i = lo; i <= hi && k < c->n_refs; i++)
            if (m[i].ref == k) k++;
        *out = (double)k;
        return true;
    }
    default: {
        /* numbers were parsed once per evaluation (parsed/parsed_ok, by member) */
        size_t k = 0;
        for (size_t i = lo; i <= hi; i++)
            if (parsed_ok[i]) nums[k++] = parsed[i];
        if (c->type == HM_CORR_VALUE_SUM) {
            double s = 0;
            for (size_t i = 0; i < k; i++) s += nums[i];
            *out = s;
            return true;
        }
        if (!k) return false;
        if (c->type == HM_CORR_VALUE_AVG) {
            double s = 0;
            for (size_t i = 0; i < k; i++) s += nums[i];
            *out = s / (double)k;
            return true;
        }
        /* percentile, linear interpolation between closest ranks */
        qsort(nums, k, sizeof(double), cmp_double);
        double rank = c->percentile / 100.0 * (double)(k - 1);
        size_t r0 = (size_t)floor(rank);
        size_t r1 = r0 + 1 < k ? r0 + 1 : r0;
        *out = nums[r0] + (nums[r1] - nums[r0]) * (rank - (double)r0);
        return true;
    }
    }
}

static bool satisfied(const hm_corr *c, double v) {
    if (c->type == HM_CORR_TEMPORAL || c->type == HM_CORR_TEMPORAL_ORDERED)
        return v >= c->min_rules;
    return corr_cond(c, v);
}

static void emit(const hm_corr *c, uint32_t ci, hm_str group, const corr_member *m, size_t lo,
                 size_t hi, int64_t ts, double v, hm_str *vals, size_t nd, corr_fire_fn fire,
                 void *ud) {
    size_t n = hi - lo + 1;
    int64_t *ets = hm_xmalloc(n * sizeof(int64_t));
    hm_str *eid = hm_xmalloc(n * sizeof(hm_str));
    uint32_t *eref = hm_xmalloc(n * sizeof(uint32_t));
    bool per_ref = c->type == HM_CORR_TEMPORAL || c->type == HM_CORR_TEMPORAL_ORDERED;
    for (size_t i = 0; i < n; i++) {
        ets[i] = m[lo + i].ts_ms;
        eid[i] = m[lo + i].id;
        eref[i] = m[lo + i].ref;
        if (per_ref) { /* member identity "<id>\x1f<ref>": the alert shows the event id */
            const char *sep = memchr(eid[i].p, 0x1f, eid[i].len);
            if (sep) eid[i].len = (uint32_t)(sep - eid[i].p);
        }
    }
    corr_fire f = {.corr = ci,
                   .ts_ms = ts,
                   .group = group,
                   .value = v,
                   .n_ev = n,
                   .ev_ts = ets,
                   .ev_id = eid,
                   .ev_ref = eref,
                   .distinct = vals,
                   .n_distinct = nd};
    fire(ud, &f);
    free(ets);
    free(eid);
    free(eref);
}

void corr_scratch_free(corr_scratch *s) {
    free(s->vals);
    free(s->nums);
    free(s->parsed);
    free(s->parsed_ok);
    memset(s, 0, sizeof(*s));
}

static void scratch_reserve(corr_scratch *s, size_t n) {
    if (n <= s->cap) return;
    size_t nc = s->cap ? s->cap : 64;
    while (nc < n) nc *= 2;
    s->vals = hm_xrealloc(s->vals, nc * sizeof(hm_str));
    s->nums = hm_xrealloc(s->nums, nc * sizeof(double));
    s->parsed = hm_xrealloc(s->parsed, nc * sizeof(double));
    s->parsed_ok = hm_xrealloc(s->parsed_ok, nc * sizeof(bool));
    s->cap = nc;
}

void corr_evaluate_at(const hm_corr *c, uint32_t ci, hm_str group, const corr_member *m, size_t n,
                      int64_t wm, size_t *done, size_t *reset, corr_scratch *sc, corr_fire_fn fire,
                      void *ud) {
    int64_t span = c->span_ns / 1000000;
    scratch_reserve(sc, n + 1);
    hm_str *vals = sc->vals;
    double *nums = sc->nums;
    size_t first = *reset < n ? *reset : n; /* first member after the reset point */
    bool numeric = c->type == HM_CORR_VALUE_SUM || c->type == HM_CORR_VALUE_AVG ||
                   c->type == HM_CORR_VALUE_PERCENTILE;
    if (numeric) /* each member's number once, not once per window it is in */
        for (size_t i = first; i < n; i++)
            sc->parsed_ok[i] = m[i].has_value && parse_num(m[i].value, &sc->parsed[i]);
    if (c->close_eval) {
        for (;;) {
            if (first >= n) break;
            int64_t close_t = m[first].ts_ms + span;
            if (wm < close_t) break;
            size_t hi = first;
            while (hi + 1 < n && m[hi + 1].ts_ms < close_t) hi++;
            double v;
            size_t nd;
            if (aggregate(c, m, first, hi, &v, vals, nums, sc->parsed, sc->parsed_ok, &nd) &&
                satisfied(c, v))
                emit(c, ci, group, m, first, hi, close_t, v, vals, nd, fire, ud);
            *reset = hi + 1;
            *done = hi + 1;
            first = hi + 1;
        }
        return;
    }
    size_t i = *done;
    size_t lo = first;
    for (; i < n && m[i].ts_ms <= wm; i++) {
        if (i < first) continue;
        while (lo < i && m[lo].ts_ms <= m[i].ts_ms - span) lo++;
        if (lo < first) lo = first;
        double v;
        size_t nd;
        if (aggregate(c, m, lo, i, &v, vals, nums, sc->parsed, sc->parsed_ok, &nd) &&
            satisfied(c, v)) {
            emit(c, ci, group, m, lo, i, m[i].ts_ms, v, vals, nd, fire, ud);
            *reset = i + 1;
            first = i + 1;
            lo = first;
        }
        *done = i + 1;
    }
}

/* Cursor form: positions from the cursor, then back. */
void corr_evaluate(const hm_corr *c, uint32_t ci, hm_str group, const corr_member *m, size_t n,
                   int64_t wm, corr_cursor *cur, corr_fire_fn fire, void *ud) {
    size_t first = 0, done = 0;
    if (cur->has_reset)
        while (first < n &&
               corr_member_cmp(m[first].ts_ms, m[first].id, cur->reset_ts, cur->reset_id) <= 0)
            first++;
    if (cur->has_done)
        while (done < n &&
               corr_member_cmp(m[done].ts_ms, m[done].id, cur->done_ts, cur->done_id) <= 0)
            done++;
    size_t d0 = done, r0 = first;
    corr_scratch sc = {0};
    corr_evaluate_at(c, ci, group, m, n, wm, &done, &first, &sc, fire, ud);
    corr_scratch_free(&sc);
    if (done != d0 && done) {
        cur->has_done = true;
        cur->done_ts = m[done - 1].ts_ms;
        cur->done_id = m[done - 1].id;
    }
    if (first != r0 && first) {
        cur->has_reset = true;
        cur->reset_ts = m[first - 1].ts_ms;
        cur->reset_id = m[first - 1].id;
    }
}
