/* corr_mem.c - in-memory correlation state: one compact record per live group
 * (correlation + group-by values) holding its members in (time, id) order and its
 * evaluation cursor. State expires with event time. Used by the single writer thread. */
#include <stdio.h>
#include <stdlib.h>

#include "corr_int.h"

typedef struct mmember {
    int64_t ts_ms;
    uint32_t id_off, val_off;
    uint16_t id_len, val_len;
    uint16_t ref;
    uint8_t has_value;
} mmember;

typedef struct mgroup {
    uint32_t corr;
    uint32_t n, cap;      /* members */
    uint32_t done, reset; /* members [0,done) evaluated; [0,reset) never count again */
    uint32_t pool_len, pool_cap;
    uint8_t pending;
    uint8_t level;
    uint16_t klen;
    mmember *m;
    char *pool; /* ids and values */
    char key[]; /* group key */
} mgroup;

typedef struct mem_state {
    mgroup **tab;
    size_t cap, n;
    mgroup **pending;
    size_t n_pending, cap_pending;
    size_t bytes;
    uint64_t applies, expired;
} mem_state;

static uint64_t gkey_hash(uint32_t corr, const char *k, size_t n) {
    return hm_hash64(k, n, 0x9e3779b97f4a7c15ULL * (corr + 1));
}

void *corr_mem_new(const hm_corr_opts *o, char *err, size_t errlen) {
    (void)o;
    (void)err;
    (void)errlen;
    mem_state *st = hm_xcalloc(1, sizeof(*st));
    st->cap = 1024;
    st->tab = hm_xcalloc(st->cap, sizeof(mgroup *));
    return st;
}

static void tab_insert(mem_state *st, mgroup *g) {
    size_t j = gkey_hash(g->corr, g->key, g->klen) & (st->cap - 1);
    while (st->tab[j]) j = (j + 1) & (st->cap - 1);
    st->tab[j] = g;
}

static void tab_grow(mem_state *st) {
    mgroup **old = st->tab;
    size_t oc = st->cap;
    st->cap *= 2;
    st->tab = hm_xcalloc(st->cap, sizeof(mgroup *));
    for (size_t i = 0; i < oc; i++)
        if (old[i]) tab_insert(st, old[i]);
    free(old);
}

static mgroup *group_get(mem_state *st, uint32_t corr, uint8_t level, hm_str key) {
    size_t j = gkey_hash(corr, key.p, key.len) & (st->cap - 1);
    while (st->tab[j]) {
        mgroup *g = st->tab[j];
        if (g->corr == corr && g->klen == key.len && !memcmp(g->key, key.p, key.len)) return g;
        j = (j + 1) & (st->cap - 1);
    }
    if ((st->n + 1) * 2 > st->cap) tab_grow(st);
    size_t klen = key.len > 65535 ? 65535 : key.len;
    mgroup *g = hm_xcalloc(1, sizeof(*g) + klen + 1);
    g->corr = corr;
    g->level = level;
    g->klen = (uint16_t)klen;
    memcpy(g->key, key.p, klen);
    tab_insert(st, g);
    st->n++;
    st->bytes += sizeof(*g) + klen + 1;
    return g;
}

/* Backward-shift deletion keeps linear probing intact. */
static void tab_remove(mem_state *st, mgroup *g) {
    size_t j = gkey_hash(g->corr, g->key, g->klen) & (st->cap - 1);
    while (st->tab[j] != g) j = (j + 1) & (st->cap - 1);
    st->tab[j] = NULL;
    size_t k = (j + 1) & (st->cap - 1);
    while (st->tab[k]) {
        mgroup *h = st->tab[k];
        st->tab[k] = NULL;
        tab_insert(st, h);
        k = (k + 1) & (st->cap - 1);
    }
    st->n--;
}

static void group_free(mem_state *st, mgroup *g) {
    st->bytes -= sizeof(*g) + g->klen + 1 + g->cap * sizeof(mmember) + g->pool_cap;
    free(g->m);
    free(g->pool);
    free(g);
}

static hm_str mid(const mgroup *g, const mmember *m) {
    return (hm_str){g->pool + m->id_off, m->id_len};
}

static int mcmp(const mgroup *g, const mmember *a, int64_t ts, hm_str id) {
    return corr_member_cmp(a->ts_ms, mid(g, a), ts, id);
}

static void pool_reserve(mem_state *st, mgroup *g, size_t n) {
    if (g->pool_len + n > g->pool_cap) {
        /* most groups hold one or two members: the first allocation is exact */
        uint32_t nc = g->pool_cap ? g->pool_cap * 2 : (uint32_t)n;
        while (nc < g->pool_len + n) nc *= 2;
        st->bytes += nc - g->pool_cap;
        g->pool = hm_xrealloc(g->pool, nc);
        g->pool_cap = nc;
    }
}

static void pool_put(mem_state *st, mgroup *g, const char *p, size_t n, uint32_t *off) {
    pool_reserve(st, g, n);
    memcpy(g->pool + g->pool_len, p, n);
    *off = g->pool_len;
    g->pool_len += (uint32_t)n;
}

/* Insert keeping (ts, id) order; identity is the event id. For temporal types one event
 * may satisfy two referenced rules: there the identity is "<id>\x1f<ref>", as in the Redis
 * backend, so both backends order and cursor such members the same way. */
static void group_add(mem_state *st, mgroup *g, const hm_corr *c, const hm_corr_hit *h) {
    int64_t ts = h->ts_ns / 1000000 - (h->ts_ns % 1000000 < 0);
    bool per_ref = c->type == HM_CORR_TEMPORAL || c->type == HM_CORR_TEMPORAL_ORDERED;
    hm_str id = h->event_id;
    char idbuf[600];
    if (per_ref) {
        int l = snprintf(idbuf, sizeof idbuf, "%.*s\x1f%u", (int)h->event_id.len, h->event_id.p,
                         h->ref);
        id = (hm_str){idbuf, (uint32_t)((size_t)l < sizeof idbuf ? (size_t)l : sizeof idbuf - 1)};
    }
    uint32_t pos = g->n;
    while (pos > g->done && mcmp(g, &g->m[pos - 1], ts, id) > 0) pos--;
    if (pos > 0 && mcmp(g, &g->m[pos - 1], ts, id) == 0) return; /* already a member */
    if (g->n == g->cap) {
        uint32_t nc = g->cap ? g->cap * 2 : 1;
        st->bytes += (nc - g->cap) * sizeof(mmember);
        g->m = hm_xrealloc(g->m, nc * sizeof(mmember));
        g->cap = nc;
    }
    memmove(&g->m[pos + 1], &g->m[pos], (g->n - pos) * sizeof(mmember));
    mmember *m = &g->m[pos];
    m->ts_ms = ts;
    m->ref = (uint16_t)h->ref;
    m->has_value = h->has_value;
    uint32_t idl = id.len > 65535 ? 65535 : id.len;
    uint32_t vl = h->has_value ? (h->value.len > 65535 ? 65535 : h->value.len) : 0;
    m->id_len = (uint16_t)idl;
    m->val_len = (uint16_t)vl;
    pool_reserve(st, g, idl + vl);
    pool_put(st, g, id.p, idl, &m->id_off);
    pool_put(st, g, h->value.p ? h->value.p : "", vl, &m->val_off);
    g->n++;
    if (!g->pending) {
        g->pending = 1;
        if (st->n_pending == st->cap_pending) {
            st->cap_pending = st->cap_pending ? st->cap_pending * 2 : 256;
            st->pending = hm_xrealloc(st->pending, st->cap_pending * sizeof(mgroup *));
        }
        st->pending[st->n_pending++] = g;
    }
}

/* Drop members that can no longer be in any window; compacts the pool. */
static void group_expire(mem_state *st, mgroup *g, const hm_corr *c, int64_t wm) {
    int64_t span = c->span_ns / 1000000;
    uint32_t k = 0;
    while (k < g->done &&
           (k < g->reset || (wm != INT64_MAX && g->m[k].ts_ms <= wm - span) || wm == INT64_MAX))
        k++;
    if (!k) return;
    memmove(g->m, g->m + k, (g->n - k) * sizeof(mmember));
    g->n -= k;
    g->done -= k;
    g->reset = g->reset > k ? g->reset - k : 0;
    /* compact the pool */
    char *np = g->n ? hm_xmalloc(g->pool_cap) : NULL;
    uint32_t len = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        mmember *m = &g->m[i];
        memcpy(np + len, g->pool + m->id_off, m->id_len);
        m->id_off = len;
        len += m->id_len;
        memcpy(np + len, g->pool + m->val_off, m->val_len);
        m->val_off = len;
        len += m->val_len;
    }
    free(g->pool);
    g->pool = np;
    if (!np) {
        st->bytes -= g->pool_cap;
        g->pool_cap = 0;
    }
    g->pool_len = len;
}

typedef struct fire_ud {
    corr_fire_fn fire;
    void *ud;
} fire_ud;

static void eval_group(mem_state *st, mgroup *g, const hm_corr_set *set, int64_t wm,
                       corr_fire_fn fire, void *ud) {
    const hm_corr *c = &set->v[g->corr];
    corr_member *mm = hm_xmalloc((g->n + 1) * sizeof(corr_member));
    for (uint32_t i = 0; i < g->n; i++) {
        const mmember *m = &g->m[i];
        mm[i] = (corr_member){m->ts_ms, mid(g, m), (hm_str){g->pool + m->val_off, m->val_len},
                              m->has_value, m->ref};
    }
    corr_cursor cur = {0};
    if (g->done) {
        cur.has_done = true;
        cur.done_ts = mm[g->done - 1].ts_ms;
        cur.done_id = mm[g->done - 1].id;
    }
    if (g->reset) {
        cur.has_reset = true;
        cur.reset_ts = mm[g->reset - 1].ts_ms;
        cur.reset_id = mm[g->reset - 1].id;
    }
    corr_evaluate(c, g->corr, (hm_str){g->key, g->klen}, mm, g->n, wm, &cur, fire, ud);
    uint32_t d = 0, r = 0;
    while (d < g->n && cur.has_done &&
           corr_member_cmp(mm[d].ts_ms, mm[d].id, cur.done_ts, cur.done_id) <= 0)
        d++;
    while (r < g->n && cur.has_reset &&
           corr_member_cmp(mm[r].ts_ms, mm[r].id, cur.reset_ts, cur.reset_id) <= 0)
        r++;
    g->done = d;
    g->reset = r;
    free(mm);
    group_expire(st, g, c, wm);
    /* still pending when members past the watermark (or an open window) remain */
    g->pending = g->done < g->n || (c->close_eval && g->reset < g->n);
    (void)set;
}

static int mem_apply(void *vst, const hm_corr_set *set, uint32_t level, const hm_corr_hit *hits,
                     size_t n, int64_t wm, corr_fire_fn fire, void *ud) {
    mem_state *st = vst;
    for (size_t i = 0; i < n; i++) {
        const hm_corr *c = &set->v[hits[i].corr];
        mgroup *g = group_get(st, hits[i].corr, (uint8_t)c->level, hits[i].group);
        group_add(st, g, c, &hits[i]);
    }
    /* evaluate this level's pending groups; keep the rest pending */
    size_t keep = 0;
    mgroup **list = st->pending;
    size_t total = st->n_pending;
    for (size_t i = 0; i < total; i++) {
        mgroup *g = list[i];
        if (g->level != level) {
            list[keep++] = g;
            continue;
        }
        /* nothing is due until the watermark passes the first unevaluated member (or the
         * open window's end): skip the copy and the walk */
        const hm_corr *gc = &set->v[g->corr];
        int64_t due = INT64_MIN;
        if (gc->close_eval) {
            if (g->reset < g->n) due = g->m[g->reset].ts_ms + gc->span_ns / 1000000;
        } else if (g->done < g->n) {
            due = g->m[g->done].ts_ms;
        }
        if (due != INT64_MIN && due > wm) {
            list[keep++] = g;
            continue;
        }
        eval_group(st, g, set, wm, fire, ud);
        if (g->n == 0) {
            tab_remove(st, g);
            group_free(st, g);
            st->expired++;
        } else if (g->pending) {
            list[keep++] = g;
        }
    }
    st->n_pending = keep;
    /* periodic sweep: groups nobody touched lately still expire with event time */
    if (++st->applies % 64 == 0 && wm != INT64_MAX) {
        for (size_t j = 0; j < st->cap; j++) {
            mgroup *g = st->tab[j];
            if (!g || g->pending || g->level != level) continue;
            group_expire(st, g, &set->v[g->corr], wm);
            if (g->n == 0) {
                tab_remove(st, g);
                group_free(st, g);
                st->expired++;
                j--; /* backward shift may have moved another group into slot j */
            }
        }
    }
    return HM_OK;
}

static void mem_remap(void *vst, const hm_corr_set *ns, const int32_t *map, size_t n_old) {
    mem_state *st = vst;
    mgroup **old = st->tab;
    size_t oc = st->cap;
    st->tab = hm_xcalloc(st->cap, sizeof(mgroup *));
    st->n = 0;
    st->n_pending = 0;
    for (size_t i = 0; i < oc; i++) {
        mgroup *g = old[i];
        if (!g) continue;
        int32_t nc = g->corr < n_old ? map[g->corr] : -1;
        if (nc < 0) {
            group_free(st, g);
            continue;
        }
        g->corr = (uint32_t)nc;
        g->level = (uint8_t)ns->v[nc].level;
        tab_insert(st, g);
        st->n++;
        if (g->pending) {
            if (st->n_pending == st->cap_pending) {
                st->cap_pending = st->cap_pending ? st->cap_pending * 2 : 256;
                st->pending = hm_xrealloc(st->pending, st->cap_pending * sizeof(mgroup *));
            }
            st->pending[st->n_pending++] = g;
        }
    }
    free(old);
}

static void mem_stats(void *vst, hm_corr_stats *s) {
    mem_state *st = vst;
    s->groups = st->n;
    s->groups_expired = st->expired;
    s->memory_bytes = st->bytes + st->cap * sizeof(mgroup *);
}

static void mem_destroy(void *vst) {
    mem_state *st = vst;
    for (size_t j = 0; j < st->cap; j++)
        if (st->tab[j]) group_free(st, st->tab[j]);
    free(st->tab);
    free(st->pending);
    free(st);
}

const corr_backend_ops corr_mem_ops = {
    .name = "memory",
    .apply = mem_apply,
    .watermark = NULL,
    .stats = mem_stats,
    .remap = mem_remap,
    .destroy = mem_destroy,
};
