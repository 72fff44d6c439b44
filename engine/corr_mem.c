/* corr_mem.c - in-memory correlation state, used by the single writer thread.
 *
 * One allocation per live group (correlation + group-by values): a header, the group key,
 * the members in (time, id) order and a byte pool with their ids and values. Groups are
 * found through an open-addressing table that keeps each group's hash next to its handle
 * (a probe touches a group only when the hash matches), and wait in a timing wheel per
 * correlation level for the event time at which they next have work: a window to decide
 * or members to drop. A batch touches only the groups it hits and those that are due.
 * State expires with event time. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corr_int.h"
#include "sigma.h"

/* A member in 16 bytes: time and referenced rule share one word (time * 65536 + ref, so
 * the word orders by time); the value, if any, follows the id in the pool. */
typedef struct mmember {
    int64_t tsref;
    uint32_t id_off;
    uint16_t id_len;
    uint16_t val_len; /* MM_NOVAL: the event had no value */
} mmember;

#define MM_NOVAL   0xffffu
#define MM_MAXLEN  65535u
#define NO_HANDLE  UINT32_MAX
#define MAX_LEVELS 16

typedef struct mgroup {
    uint32_t corr;
    uint32_t hid;         /* its handle */
    uint32_t n, cap;      /* members */
    uint32_t done, reset; /* members [0,done) evaluated; [0,reset) never count again */
    uint32_t pool_len, pool_cap;
    uint32_t pool_dead; /* bytes of dropped members not compacted away yet */
    uint16_t klen;
    uint8_t level;
    char key[]; /* the key, then the members (8-aligned), then the pool */
} mgroup;

/* A table slot: the group's hash and handle + 1 (0: empty), 8 bytes. */
typedef struct tslot {
    uint32_t hash, hp1;
} tslot;

/* Groups wait for their next work in a timing wheel per correlation level: buckets of
 * 2^WB_SHIFT ms of event time (~4 s), WB_N of them ahead of the watermark (~70 min), later
 * ones in an unsorted "far" list that is moved in as the wheel turns. Queueing and taking
 * are O(1) and touch a couple of cache lines (a heap touched a dozen per group, and with a
 * worker thread sharing the caches each was a miss). An entry whose group got an earlier
 * due time, or was freed, is left in place and skipped when taken (see handle). */
#define WB_SHIFT 12
#define WB_N     1024

typedef struct __attribute__((packed)) wentry { /* 12 bytes */
    int64_t due; /* event time (ms) at which the group next has work */
    uint32_t h;
} wentry;

/* A wheel bucket is a list of chunks of entries; chunks come from one pool per state
 * (indexes, NIL = none), so a busy bucket costs no allocation once the pool is warm. */
#define CH_N 6
#define NIL  UINT32_MAX

typedef struct wchunk {
    uint32_t next, n;
    wentry e[CH_N];
} wchunk;

typedef struct wbucket {
    uint32_t head, tail;
} wbucket;

typedef struct wfar {
    wentry *e;
    uint32_t n, cap;
} wfar;

typedef struct wheel {
    wbucket *b; /* WB_N buckets, allocated on first use */
    wfar far;
    int64_t cur;        /* bucket number being drained: every earlier one is empty */
    int64_t far_pulled; /* cur when far was last moved in */
    size_t n_ring;      /* entries in b (stale ones included) */
    bool started;
} wheel;

/* A group's pointer and current due time, in one dense array. An entry is taken only when
 * its due time is its handle's; otherwise it is stale (the group was queued for an earlier
 * time, or freed). A stale entry that happens to match (its handle now belongs to another
 * group queued for that very time) is simply that group's turn; the group's own entry is
 * then the stale one. */
typedef struct handle {
    mgroup *g;   /* NULL: free */
    int64_t due; /* of its live entry, INT64_MAX: not queued; free: the next free handle */
} handle;

typedef struct mem_state {
    tslot *tab;
    size_t cap, n;
    wheel wheels[MAX_LEVELS];
    wchunk *ch; /* the chunk pool */
    uint32_t n_ch, cap_ch, free_ch;
    handle *hd;
    uint32_t n_hd, cap_hd, free_hd;
    uint64_t seed;
    size_t bytes, peak_bytes;
    uint64_t expired, peak_groups;
    /* the group cap: live groups and refused hits per correlation */
    uint64_t max_groups;
    uint32_t *live;
    uint64_t *refused, *refused_logged;
    size_t n_corr;
    uint64_t refused_total;
    const hm_ruleset *rs;
    /* scratch reused by every evaluation */
    corr_member *mm;
    size_t cap_mm;
    char *pool_tmp;
    size_t cap_pool_tmp;
    wentry *due;
    size_t cap_due;
    uint32_t *hh; /* the hashes of the hits being applied */
    size_t cap_hh;
    corr_scratch sc;
} mem_state;

static inline int64_t m_ts(const mmember *m) {
    return (m->tsref - (m->tsref & 0xffff)) / 65536;
}
static inline uint32_t m_ref(const mmember *m) {
    return (uint32_t)(m->tsref & 0xffff);
}
static inline size_t members_off(size_t klen) {
    return (offsetof(mgroup, key) + klen + 7) & ~(size_t)7;
}
static inline mmember *gm(const mgroup *g) {
    return (mmember *)((char *)g + members_off(g->klen));
}
static inline char *gpool(const mgroup *g) {
    return (char *)(gm(g) + g->cap);
}
static inline size_t block_size(size_t klen, size_t cap, size_t pool_cap) {
    return members_off(klen) + cap * sizeof(mmember) + pool_cap;
}

static void mem_acct(mem_state *st, size_t add, size_t sub) {
    st->bytes = st->bytes + add - sub;
    if (st->bytes > st->peak_bytes) st->peak_bytes = st->bytes;
}

static uint32_t gkey_hash(const mem_state *st, uint32_t corr, const char *k, size_t n) {
    return (uint32_t)hm_hash_words(k, n, st->seed + corr);
}

void *corr_mem_new(const hm_corr_opts *o, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    mem_state *st = hm_xcalloc(1, sizeof(*st));
    st->cap = 1024;
    st->tab = hm_xcalloc(st->cap, sizeof(tslot));
    mem_acct(st, st->cap * sizeof(tslot), 0);
    /* a per-process seed: group values chosen to collide cannot be prepared in advance */
    st->seed = hm_hash_words(&st, sizeof st, (uint64_t)hm_mono_ns()) | 1;
    st->max_groups = o && o->max_groups ? o->max_groups : HM_CORR_MAX_GROUPS;
    st->free_hd = NO_HANDLE;
    st->free_ch = NIL;
    return st;
}

void corr_mem_bind(void *vst, const hm_ruleset *rs) {
    ((mem_state *)vst)->rs = rs;
}

/* ---- table ---- */

static size_t tab_probe_free(const mem_state *st, uint32_t h) {
    size_t j = h & (st->cap - 1);
    while (st->tab[j].hp1) j = (j + 1) & (st->cap - 1);
    return j;
}

static inline mgroup *slot_group(const mem_state *st, const tslot *s) {
    return st->hd[s->hp1 - 1].g;
}

static void tab_grow(mem_state *st) {
    tslot *old = st->tab;
    size_t oc = st->cap;
    st->cap *= 2;
    st->tab = hm_xcalloc(st->cap, sizeof(tslot));
    for (size_t i = 0; i < oc; i++)
        if (old[i].hp1) st->tab[tab_probe_free(st, old[i].hash)] = old[i];
    free(old);
    mem_acct(st, st->cap * sizeof(tslot), oc * sizeof(tslot));
}

static size_t tab_slot_of(const mem_state *st, const mgroup *g) {
    size_t j = gkey_hash(st, g->corr, g->key, g->klen) & (st->cap - 1);
    while (st->tab[j].hp1 != g->hid + 1) j = (j + 1) & (st->cap - 1);
    return j;
}

/* Backward-shift deletion keeps linear probing intact without tombstones. */
static void tab_remove(mem_state *st, const mgroup *g) {
    size_t mask = st->cap - 1;
    size_t j = tab_slot_of(st, g);
    for (size_t k = (j + 1) & mask;; k = (k + 1) & mask) {
        if (!st->tab[k].hp1) break;
        size_t home = st->tab[k].hash & mask;
        /* the entry at k may fill hole j unless its home lies cyclically in (j, k] */
        bool stays = j <= k ? (home > j && home <= k) : (home > j || home <= k);
        if (stays) continue;
        st->tab[j] = st->tab[k];
        j = k;
    }
    st->tab[j] = (tslot){0};
    st->n--;
}

/* ---- handles and the wheels ---- */

static uint32_t handle_new(mem_state *st, mgroup *g) {
    uint32_t h;
    if (st->free_hd != NO_HANDLE) {
        h = st->free_hd;
        st->free_hd = (uint32_t)st->hd[h].due;
    } else {
        if (st->n_hd == st->cap_hd) {
            uint32_t nc = st->cap_hd ? st->cap_hd + st->cap_hd / 2 : 256;
            st->hd = hm_xrealloc(st->hd, nc * sizeof(handle));
            memset(st->hd + st->cap_hd, 0, (nc - st->cap_hd) * sizeof(handle));
            mem_acct(st, (nc - st->cap_hd) * sizeof(handle), 0);
            st->cap_hd = nc;
        }
        h = st->n_hd++;
    }
    st->hd[h].g = g;
    st->hd[h].due = INT64_MAX;
    return h;
}

static void handle_free(mem_state *st, uint32_t h) {
    st->hd[h].g = NULL;
    st->hd[h].due = st->free_hd;
    st->free_hd = h;
}

static int64_t bucket_of(int64_t due) {
    return due >= 0 ? due >> WB_SHIFT : -((-(due + 1)) >> WB_SHIFT) - 1;
}

static void far_put(mem_state *st, wfar *f, wentry e) {
    if (f->n == f->cap) {
        uint32_t nc = f->cap ? f->cap + f->cap / 2 : 64;
        f->e = hm_xrealloc(f->e, nc * sizeof(wentry));
        mem_acct(st, (nc - f->cap) * sizeof(wentry), 0);
        f->cap = nc;
    }
    f->e[f->n++] = e;
}

static void bucket_put(mem_state *st, wbucket *b, wentry e) {
    if (b->tail == NIL || st->ch[b->tail].n == CH_N) {
        uint32_t c = st->free_ch;
        if (c != NIL) {
            st->free_ch = st->ch[c].next;
        } else {
            if (st->n_ch == st->cap_ch) {
                uint32_t nc = st->cap_ch ? st->cap_ch * 2 : 256;
                st->ch = hm_xrealloc(st->ch, nc * sizeof(wchunk));
                mem_acct(st, (nc - st->cap_ch) * sizeof(wchunk), 0);
                st->cap_ch = nc;
            }
            c = st->n_ch++;
        }
        st->ch[c].next = NIL;
        st->ch[c].n = 0;
        if (b->tail == NIL)
            b->head = c;
        else
            st->ch[b->tail].next = c;
        b->tail = c;
    }
    wchunk *t = &st->ch[b->tail];
    t->e[t->n++] = e;
}

static void take(mem_state *st, wentry e, size_t *nd) {
    if (*nd == st->cap_due) {
        st->cap_due = st->cap_due ? st->cap_due * 2 : 256;
        st->due = hm_xrealloc(st->due, st->cap_due * sizeof(wentry));
    }
    st->due[(*nd)++] = e;
}

/* Empties the bucket: its entries are appended to st->due (when nd is not NULL), its
 * chunks go back to the pool. Returns how many entries it held. */
static uint32_t bucket_take(mem_state *st, wbucket *b, size_t *nd) {
    uint32_t n = 0;
    for (uint32_t c = b->head; c != NIL;) {
        wchunk *k = &st->ch[c];
        n += k->n;
        for (uint32_t i = 0; nd && i < k->n; i++) take(st, k->e[i], nd);
        uint32_t next = k->next;
        k->next = st->free_ch;
        st->free_ch = c;
        c = next;
    }
    b->head = b->tail = NIL;
    return n;
}

static void wheel_put(mem_state *st, wheel *w, wentry e) {
    int64_t a = bucket_of(e.due);
    if (a < w->cur) a = w->cur; /* not before what was drained: taken at the next drain */
    if (a - w->cur >= WB_N) {
        far_put(st, &w->far, e);
        return;
    }
    bucket_put(st, &w->b[(uint64_t)a & (WB_N - 1)], e);
    w->n_ring++;
}

/* Moves the far entries that are now within the wheel into it. */
static void wheel_pull_far(mem_state *st, wheel *w) {
    w->far_pulled = w->cur;
    uint32_t keep = 0;
    for (uint32_t i = 0; i < w->far.n; i++) {
        wentry e = w->far.e[i];
        if (bucket_of(e.due) - w->cur < WB_N) {
            int64_t a = bucket_of(e.due) < w->cur ? w->cur : bucket_of(e.due);
            bucket_put(st, &w->b[(uint64_t)a & (WB_N - 1)], e);
            w->n_ring++;
        } else {
            w->far.e[keep++] = e;
        }
    }
    w->far.n = keep;
}

/* Queues group g (handle h) for work at due, unless it already waits for an earlier time. */
static void wheel_push(mem_state *st, mgroup *g, int64_t due) {
    handle *hd = &st->hd[g->hid];
    if (due >= hd->due || due == INT64_MAX) return;
    hd->due = due;
    wheel *w = &st->wheels[g->level];
    if (!w->b) {
        w->b = hm_xmalloc(WB_N * sizeof(wbucket));
        for (uint32_t i = 0; i < WB_N; i++) w->b[i] = (wbucket){NIL, NIL};
        mem_acct(st, WB_N * sizeof(wbucket), 0);
    }
    if (!w->started) {
        w->cur = w->far_pulled = bucket_of(due);
        w->started = true;
    }
    wheel_put(st, w, (wentry){due, g->hid});
}

/* Takes every entry due at or before wm into st->due (stale ones too: the caller skips
 * them). Returns how many. */
static size_t wheel_drain(mem_state *st, wheel *w, int64_t wm) {
    size_t nd = 0;
    if (!w->started) return 0;
    int64_t target = bucket_of(wm);
    for (;;) {
        if (!w->n_ring) {
            if (!w->far.n) {
                w->started = false; /* empty: restart at the next entry's time */
                break;
            }
            int64_t m = INT64_MAX;
            for (uint32_t i = 0; i < w->far.n; i++)
                if (bucket_of(w->far.e[i].due) < m) m = bucket_of(w->far.e[i].due);
            if (m > target) break;
            if (m > w->cur) w->cur = m;
            wheel_pull_far(st, w);
            continue;
        }
        if (w->cur > target) break;
        wbucket *b = &w->b[(uint64_t)w->cur & (WB_N - 1)];
        size_t nd0 = nd;
        w->n_ring -= bucket_take(st, b, &nd);
        if (w->cur < target) {
            w->cur++;
            if (w->cur - w->far_pulled >= WB_N / 2) wheel_pull_far(st, w);
            continue;
        }
        /* the watermark's own bucket: what is not due yet goes back */
        size_t keep = nd0;
        for (size_t i = nd0; i < nd; i++)
            if (st->due[i].due <= wm)
                st->due[keep++] = st->due[i];
            else {
                bucket_put(st, b, st->due[i]);
                w->n_ring++;
            }
        nd = keep;
        break;
    }
    return nd;
}

static void wheel_clear(mem_state *st, wheel *w) {
    if (w->b)
        for (uint32_t i = 0; i < WB_N; i++) bucket_take(st, &w->b[i], NULL);
    w->far.n = 0;
    w->n_ring = 0;
    w->started = false;
}

static void wheel_free(wheel *w) {
    free(w->b);
    free(w->far.e);
}

/* When the group next has work: its first undecided window can be decided (sliding:
 * the first unevaluated member; close-evaluated: the open window's end) or its oldest
 * evaluated member leaves every future window. */
static int64_t group_due(const mgroup *g, const hm_corr *c) {
    const mmember *m = gm(g);
    int64_t span = c->span_ns / 1000000;
    int64_t due = INT64_MAX;
    if (c->close_eval) {
        if (g->reset < g->n) due = m_ts(&m[g->reset]) + span;
    } else if (g->done < g->n) {
        due = m_ts(&m[g->done]);
    }
    if (g->done > 0 && m_ts(&m[0]) + span < due) due = m_ts(&m[0]) + span;
    return due;
}

/* ---- groups ---- */

static void *per_corr(void *p, size_t old_n, size_t n, size_t elem) {
    p = hm_xrealloc(p, (n ? n : 1) * elem);
    if (n > old_n) memset((char *)p + old_n * elem, 0, (n - old_n) * elem);
    return p;
}

static void ensure_corrs(mem_state *st, size_t n) {
    if (n <= st->n_corr) return;
    st->live = per_corr(st->live, st->n_corr, n, sizeof(uint32_t));
    st->refused = per_corr(st->refused, st->n_corr, n, sizeof(uint64_t));
    st->refused_logged = per_corr(st->refused_logged, st->n_corr, n, sizeof(uint64_t));
    st->n_corr = n;
}

static const char *corr_name(const mem_state *st, const hm_corr_set *set, uint32_t corr) {
    if (!st->rs || corr >= set->n) return "?";
    return hm_ruleset_rule(st->rs, set->v[corr].rule)->id;
}

/* A hit for a group that does not exist while its correlation is at the cap: dropped,
 * counted and logged (first time, then at 10x, 100x, ...). */
static void refuse(mem_state *st, const hm_corr_set *set, uint32_t corr) {
    st->refused_total++;
    uint64_t r = ++st->refused[corr];
    if (r == 1) {
        hm_warn("correlate",
                "correlation %s has %llu live groups, the cap (--max-groups): hits for new "
                "groups are dropped until groups expire (counted in correlation.groups_refused)",
                corr_name(st, set, corr), (unsigned long long)st->live[corr]);
        st->refused_logged[corr] = 1;
    } else if (r >= st->refused_logged[corr] * 10) {
        hm_warn("correlate", "correlation %s: %llu hits dropped at the group cap so far",
                corr_name(st, set, corr), (unsigned long long)r);
        st->refused_logged[corr] = r;
    }
}

static mgroup *group_new(mem_state *st, uint32_t corr, uint8_t level, hm_str key, uint32_t h,
                         uint32_t cap, uint32_t pool_cap) {
    size_t klen = key.len > MM_MAXLEN ? MM_MAXLEN : key.len;
    size_t sz = block_size(klen, cap, pool_cap);
    mgroup *g = hm_xmalloc(sz);
    memset(g, 0, offsetof(mgroup, key));
    g->corr = corr;
    g->hid = handle_new(st, g);
    g->cap = cap;
    g->pool_cap = pool_cap;
    g->level = level;
    g->klen = (uint16_t)klen;
    memcpy(g->key, key.p, klen);
    if ((st->n + 1) * 10 > st->cap * 7) tab_grow(st);
    st->tab[tab_probe_free(st, h)] = (tslot){h, g->hid + 1};
    st->n++;
    st->live[corr]++;
    if (st->n > st->peak_groups) st->peak_groups = st->n;
    mem_acct(st, sz, 0);
    return g;
}

/* Finds the group, or makes it with room for one member of pool_need bytes (NULL:
 * refused at the cap). */
static mgroup *group_get(mem_state *st, const hm_corr_set *set, uint32_t corr, hm_str key,
                         uint32_t h, uint32_t pool_need) {
    size_t klen = key.len > MM_MAXLEN ? MM_MAXLEN : key.len;
    size_t j = h & (st->cap - 1);
    for (; st->tab[j].hp1; j = (j + 1) & (st->cap - 1)) {
        if (st->tab[j].hash != h) continue;
        mgroup *g = slot_group(st, &st->tab[j]);
        if (g->corr == corr && g->klen == klen && !memcmp(g->key, key.p, klen)) return g;
    }
    if (st->live[corr] >= st->max_groups) {
        refuse(st, set, corr);
        return NULL;
    }
    return group_new(st, corr, (uint8_t)set->v[corr].level, key, h, 1, pool_need);
}

/* Re-allocates the group's block for cap members and pool_cap pool bytes; its handle
 * follows the move. */
static mgroup *group_resize(mem_state *st, mgroup *g, uint32_t cap, uint32_t pool_cap) {
    size_t old_sz = block_size(g->klen, g->cap, g->pool_cap);
    size_t new_sz = block_size(g->klen, cap, pool_cap);
    size_t moff = members_off(g->klen);
    if (cap < g->cap) /* shrinking: the pool moves down before the block is cut */
        memmove((char *)g + moff + cap * sizeof(mmember), gpool(g), g->pool_len);
    mgroup *ng = hm_xrealloc(g, new_sz);
    if (cap > ng->cap) /* growing: the pool moves up after the block grew */
        memmove((char *)ng + moff + cap * sizeof(mmember),
                (char *)ng + moff + ng->cap * sizeof(mmember), ng->pool_len);
    ng->cap = cap;
    ng->pool_cap = pool_cap;
    st->hd[ng->hid].g = ng;
    mem_acct(st, new_sz, old_sz);
    return ng;
}

static void group_free(mem_state *st, mgroup *g) {
    handle_free(st, g->hid);
    tab_remove(st, g);
    if (g->corr < st->n_corr && st->live[g->corr]) st->live[g->corr]--;
    mem_acct(st, 0, block_size(g->klen, g->cap, g->pool_cap));
    free(g);
}

static int mcmp(const mgroup *g, const mmember *a, int64_t ts, hm_str id) {
    return corr_member_cmp(m_ts(a), (hm_str){gpool(g) + a->id_off, a->id_len}, ts, id);
}

/* Moves the live members' bytes together (via a scratch buffer: members are in time
 * order, their bytes in arrival order). */
static void pool_compact(mem_state *st, mgroup *g) {
    if (st->cap_pool_tmp < g->pool_len) {
        st->cap_pool_tmp = g->pool_len * 2;
        st->pool_tmp = hm_xrealloc(st->pool_tmp, st->cap_pool_tmp);
    }
    mmember *m = gm(g);
    char *pool = gpool(g);
    uint32_t len = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        uint32_t l = m[i].id_len + (m[i].val_len == MM_NOVAL ? 0 : m[i].val_len);
        memcpy(st->pool_tmp + len, pool + m[i].id_off, l);
        m[i].id_off = len;
        len += l;
    }
    memcpy(pool, st->pool_tmp, len);
    g->pool_len = len;
    g->pool_dead = 0;
}

/* Insert keeping (ts, id) order; identity is the event id (see member_id). */
static mgroup *group_add(mem_state *st, mgroup *g, const hm_corr *c, int64_t ts, uint32_t ref,
                         hm_str id, hm_str val, bool has_value) {
    mmember *m = gm(g);
    uint32_t pos = g->n;
    while (pos > g->done && mcmp(g, &m[pos - 1], ts, id) > 0) pos--;
    if (pos > 0 && mcmp(g, &m[pos - 1], ts, id) == 0) return g; /* already a member */
    uint32_t idl = id.len > MM_MAXLEN ? MM_MAXLEN : id.len;
    uint32_t vl = has_value ? (val.len > MM_MAXLEN - 1 ? MM_MAXLEN - 1 : val.len) : 0;
    if (g->pool_len + idl + vl > g->pool_cap && g->pool_dead) pool_compact(st, g);
    if (g->n == g->cap || g->pool_len + idl + vl > g->pool_cap) {
        /* most groups hold one or two members: the first allocation is exact */
        uint32_t nc = g->n < g->cap ? g->cap : g->cap ? g->cap * 2 : 1;
        uint32_t pc = g->pool_cap;
        if (g->pool_len + idl + vl > pc) {
            pc = pc ? pc * 2 : idl + vl;
            if (pc < g->pool_len + idl + vl) pc = g->pool_len + idl + vl;
        }
        g = group_resize(st, g, nc, pc);
        m = gm(g);
    }
    memmove(&m[pos + 1], &m[pos], (g->n - pos) * sizeof(mmember));
    char *pool = gpool(g);
    m[pos] = (mmember){ts * 65536 + (ref & 0xffff), g->pool_len, (uint16_t)idl,
                       has_value ? (uint16_t)vl : (uint16_t)MM_NOVAL};
    memcpy(pool + g->pool_len, id.p, idl);
    if (vl) memcpy(pool + g->pool_len + idl, val.p, vl);
    g->pool_len += idl + vl;
    g->n++;
    /* a member before the first undecided one can make the group due earlier */
    if (pos <= (c->close_eval ? g->reset : g->done)) wheel_push(st, g, group_due(g, c));
    return g;
}

/* Drop members that can no longer be in any window. Their pool bytes are reclaimed once
 * they are half of the pool (or when the pool would grow), so a long-lived group does not
 * copy its whole pool for every member that leaves. */
static void group_expire(mem_state *st, mgroup *g, const hm_corr *c, int64_t wm) {
    int64_t span = c->span_ns / 1000000;
    mmember *m = gm(g);
    uint32_t k = 0, dead = 0;
    while (k < g->done && (k < g->reset || wm == INT64_MAX || m_ts(&m[k]) <= wm - span)) {
        dead += m[k].id_len + (m[k].val_len == MM_NOVAL ? 0 : m[k].val_len);
        k++;
    }
    if (!k) return;
    memmove(m, m + k, (g->n - k) * sizeof(mmember));
    g->n -= k;
    g->done -= k;
    g->reset = g->reset > k ? g->reset - k : 0;
    g->pool_dead += dead;
    if (!g->n) {
        g->pool_len = g->pool_dead = 0;
        return;
    }
    if (g->pool_dead * 2 > g->pool_len) pool_compact(st, g);
}

static void eval_group(mem_state *st, mgroup *g, const hm_corr *c, int64_t wm, corr_fire_fn fire,
                       void *ud) {
    if (st->cap_mm < g->n + 1) {
        st->cap_mm = (g->n + 1) * 2;
        st->mm = hm_xrealloc(st->mm, st->cap_mm * sizeof(corr_member));
    }
    const mmember *m = gm(g);
    const char *pool = gpool(g);
    for (uint32_t i = 0; i < g->n; i++) {
        bool hv = m[i].val_len != MM_NOVAL;
        st->mm[i] = (corr_member){
            m_ts(&m[i]), (hm_str){pool + m[i].id_off, m[i].id_len},
            (hm_str){pool + m[i].id_off + m[i].id_len, hv ? m[i].val_len : 0u}, hv, m_ref(&m[i])};
    }
    size_t done = g->done, reset = g->reset;
    corr_evaluate_at(c, g->corr, (hm_str){g->key, g->klen}, st->mm, g->n, wm, &done, &reset,
                     &st->sc, fire, ud);
    g->done = (uint32_t)done;
    g->reset = (uint32_t)reset;
}

/* Member identity: the event id; for temporal types "<id>\x1f<ref>" (as in the Redis
 * backend, cut at 599 bytes), so one event can count for two referenced rules. */
static hm_str member_id(const hm_corr *c, const hm_corr_hit *h, char *buf, size_t cap) {
    if (c->type != HM_CORR_TEMPORAL && c->type != HM_CORR_TEMPORAL_ORDERED) return h->event_id;
    char digits[12];
    int nd = 0;
    uint32_t r = h->ref;
    do {
        digits[nd++] = (char)('0' + r % 10);
        r /= 10;
    } while (r);
    size_t l = h->event_id.len < cap - 1 ? h->event_id.len : cap - 1;
    memcpy(buf, h->event_id.p, l);
    if (l < cap - 1) buf[l++] = 0x1f;
    while (nd && l < cap - 1) buf[l++] = digits[--nd];
    return (hm_str){buf, (uint32_t)l};
}

static int mem_apply(void *vst, const hm_corr_set *set, uint32_t level, const hm_corr_hit *hits,
                     size_t n, int64_t wm, corr_fire_fn fire, void *ud) {
    mem_state *st = vst;
    ensure_corrs(st, set->n);
    /* hash every hit once, up front, so that the table slots and groups of the hits a few
     * places ahead can be prefetched: most of a hit's cost is waiting for memory */
    if (st->cap_hh < n) {
        st->cap_hh = n * 2;
        st->hh = hm_xrealloc(st->hh, st->cap_hh * sizeof(uint32_t));
    }
    for (size_t i = 0; i < n; i++)
        st->hh[i] = gkey_hash(st, hits[i].corr, hits[i].group.p, hits[i].group.len);
    size_t mask = st->cap - 1; /* prefetch hints only: a table growth in between is fine */
    for (size_t i = 0; i < n; i++) {
        if (i + 12 < n) __builtin_prefetch(&st->tab[st->hh[i + 12] & mask]);
        if (i + 8 < n) {
            const tslot *s = &st->tab[st->hh[i + 8] & mask];
            if (s->hp1) __builtin_prefetch(&st->hd[s->hp1 - 1]);
        }
        if (i + 4 < n) {
            const tslot *s = &st->tab[st->hh[i + 4] & mask];
            if (s->hp1) __builtin_prefetch(slot_group(st, s));
        }
        mask = st->cap - 1;
        const hm_corr_hit *h = &hits[i];
        const hm_corr *c = &set->v[h->corr];
        char idbuf[600];
        hm_str id = member_id(c, h, idbuf, sizeof idbuf);
        uint32_t idl = id.len > MM_MAXLEN ? MM_MAXLEN : id.len;
        uint32_t vl =
            h->has_value ? (h->value.len > MM_MAXLEN - 1 ? MM_MAXLEN - 1 : h->value.len) : 0;
        mgroup *g = group_get(st, set, h->corr, h->group, st->hh[i], idl + vl);
        if (!g) continue;
        int64_t ts = h->ts_ns / 1000000 - (h->ts_ns % 1000000 < 0);
        group_add(st, g, c, ts, h->ref, id, h->value, h->has_value);
    }
    if (level >= MAX_LEVELS) return HM_OK;
    /* take every group of this level that is due, then work on each once (prefetching
     * handles, groups and table slots a few entries ahead, as above) */
    size_t nd = wheel_drain(st, &st->wheels[level], wm);
    for (size_t i = 0; i < nd; i++) {
        if (i + 8 < nd) __builtin_prefetch(&st->hd[st->due[i + 8].h]);
        if (i + 4 < nd) {
            const char *pg = (const char *)st->hd[st->due[i + 4].h].g;
            if (pg) {
                __builtin_prefetch(pg);
                __builtin_prefetch(pg + 64);
            }
        }
        handle *hd = &st->hd[st->due[i].h];
        if (!hd->g || hd->due != st->due[i].due) continue; /* stale */
        hd->due = INT64_MAX;
        mgroup *g = hd->g;
        const hm_corr *c = &set->v[g->corr];
        int64_t span = c->span_ns / 1000000;
        const mmember *m = gm(g);
        bool eval = c->close_eval ? g->reset < g->n && m_ts(&m[g->reset]) + span <= wm
                                  : g->done < g->n && m_ts(&m[g->done]) <= wm;
        if (eval) eval_group(st, g, c, wm, fire, ud);
        group_expire(st, g, c, wm);
        if (!g->n) {
            group_free(st, g);
            st->expired++;
            continue;
        }
        if (g->cap > 8 && g->n * 4 < g->cap) { /* a burst is over: give the memory back */
            if (g->pool_dead) pool_compact(st, g);
            g = group_resize(st, g, g->n * 2, g->pool_len * 2);
        }
        wheel_push(st, g, group_due(g, c));
    }
    return HM_OK;
}

static void mem_remap(void *vst, const hm_corr_set *ns, const int32_t *map, size_t n_old) {
    mem_state *st = vst;
    tslot *old = st->tab;
    size_t oc = st->cap;
    st->tab = hm_xcalloc(st->cap, sizeof(tslot));
    st->n = 0;
    for (int l = 0; l < MAX_LEVELS; l++) wheel_clear(st, &st->wheels[l]);
    free(st->live);
    free(st->refused);
    free(st->refused_logged);
    st->live = NULL;
    st->refused = st->refused_logged = NULL;
    st->n_corr = 0;
    ensure_corrs(st, ns ? ns->n : 0);
    for (size_t i = 0; i < oc; i++) {
        if (!old[i].hp1) continue;
        mgroup *g = slot_group(st, &old[i]);
        int32_t nc = g->corr < n_old ? map[g->corr] : -1;
        st->hd[g->hid].due = INT64_MAX;
        if (nc < 0 || ns->v[nc].level >= MAX_LEVELS) {
            handle_free(st, g->hid);
            mem_acct(st, 0, block_size(g->klen, g->cap, g->pool_cap));
            free(g);
            continue;
        }
        g->corr = (uint32_t)nc;
        g->level = (uint8_t)ns->v[nc].level;
        uint32_t h = gkey_hash(st, g->corr, g->key, g->klen);
        st->tab[tab_probe_free(st, h)] = (tslot){h, g->hid + 1};
        st->n++;
        st->live[nc]++;
        wheel_push(st, g, group_due(g, &ns->v[nc]));
    }
    free(old);
}

static void mem_stats(void *vst, hm_corr_stats *s) {
    mem_state *st = vst;
    s->groups = st->n;
    s->groups_expired = st->expired;
    s->groups_refused = st->refused_total;
    s->groups_peak = st->peak_groups;
    s->memory_bytes = st->bytes;
    s->memory_peak = st->peak_bytes;
}

static void mem_destroy(void *vst) {
    mem_state *st = vst;
    for (uint32_t h = 0; h < st->n_hd; h++) free(st->hd[h].g);
    free(st->tab);
    for (int l = 0; l < MAX_LEVELS; l++) wheel_free(&st->wheels[l]);
    free(st->ch);
    free(st->hd);
    free(st->live);
    free(st->refused);
    free(st->refused_logged);
    free(st->mm);
    free(st->pool_tmp);
    free(st->due);
    free(st->hh);
    corr_scratch_free(&st->sc);
    free(st);
}

/* ---- snapshot (--state-dir) ----
 * "HMCSTATE", u32 version, u32 0, u64 hash of the correlation rules, u64 payload length,
 * u64 payload checksum, then the payload, all little-endian: i64 max event time, i64 local
 * watermark, i64 evaluated-up-to (ms), u64 groups; per group u32 correlation, u16 key
 * length, key, u32 members, u32 done, u32 reset; per member i64 time (ms), u16 ref, u16 id
 * length, id, u16 value length (0xffff: no value), value. */
#define SNAP_MAGIC   "HMCSTATE"
#define SNAP_VERSION 1u
#define SNAP_HEAD    40

static void put_le(hm_buf *b, uint64_t v, int n) {
    unsigned char t[8];
    for (int i = 0; i < n; i++) t[i] = (unsigned char)(v >> (8 * i));
    hm_buf_put(b, t, (size_t)n);
}

static uint64_t get_le(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint64_t snap_checksum(const void *p, size_t n) {
    return hm_hash_words(p, n, 0x48434d53u);
}

static int write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int corr_mem_save(void *vst, const char *path, uint64_t rules_hash, const corr_marks *mk, char *err,
                  size_t errlen) {
    mem_state *st = vst;
    hm_buf b = {0};
    hm_buf_put(&b, SNAP_MAGIC, 8);
    put_le(&b, SNAP_VERSION, 4);
    put_le(&b, 0, 4);
    put_le(&b, rules_hash, 8);
    put_le(&b, 0, 8); /* payload length and checksum, filled in below */
    put_le(&b, 0, 8);
    put_le(&b, (uint64_t)mk->max_ts_ms, 8);
    put_le(&b, (uint64_t)mk->local_wm_ms, 8);
    put_le(&b, (uint64_t)mk->evaluated_ms, 8);
    put_le(&b, st->n, 8);
    for (size_t j = 0; j < st->cap; j++) {
        if (!st->tab[j].hp1) continue;
        const mgroup *g = slot_group(st, &st->tab[j]);
        put_le(&b, g->corr, 4);
        put_le(&b, g->klen, 2);
        hm_buf_put(&b, g->key, g->klen);
        put_le(&b, g->n, 4);
        put_le(&b, g->done, 4);
        put_le(&b, g->reset, 4);
        const mmember *m = gm(g);
        const char *pool = gpool(g);
        for (uint32_t i = 0; i < g->n; i++) {
            put_le(&b, (uint64_t)m_ts(&m[i]), 8);
            put_le(&b, m_ref(&m[i]), 2);
            put_le(&b, m[i].id_len, 2);
            hm_buf_put(&b, pool + m[i].id_off, m[i].id_len);
            put_le(&b, m[i].val_len, 2);
            if (m[i].val_len != MM_NOVAL)
                hm_buf_put(&b, pool + m[i].id_off + m[i].id_len, m[i].val_len);
        }
    }
    size_t plen = b.len - SNAP_HEAD;
    uint64_t sum = snap_checksum(b.p + SNAP_HEAD, plen);
    for (int i = 0; i < 8; i++) {
        b.p[24 + i] = (char)(unsigned char)((uint64_t)plen >> (8 * i));
        b.p[32 + i] = (char)(unsigned char)(sum >> (8 * i));
    }
    /* temp file in the same directory, fsync, rename over the old one, fsync the
     * directory: a crash leaves the old snapshot or the new one, never a mix */
    size_t pl = strlen(path);
    char *tmp = hm_xmalloc(pl + 32);
    snprintf(tmp, pl + 32, "%s.tmp.%ld", path, (long)getpid());
    int rc = HM_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write_all(fd, b.p, b.len) != 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        rc = HM_EIO;
    }
    if (fd >= 0 && close(fd) != 0 && rc == HM_OK) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        rc = HM_EIO;
    }
    if (rc == HM_OK && rename(tmp, path) != 0) {
        snprintf(err, errlen, "rename %s: %s", path, strerror(errno));
        rc = HM_EIO;
    }
    if (rc != HM_OK) {
        unlink(tmp);
    } else {
        char *dir = hm_xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (slash) *(slash == dir ? slash + 1 : slash) = 0;
        int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    free(tmp);
    hm_buf_free(&b);
    return rc;
}

typedef struct rd {
    const unsigned char *p;
    size_t left;
    bool bad;
} rd;

static uint64_t rd_le(rd *r, int n) {
    if (r->bad || r->left < (size_t)n) {
        r->bad = true;
        return 0;
    }
    uint64_t v = get_le(r->p, n);
    r->p += n;
    r->left -= (size_t)n;
    return v;
}

static const char *rd_bytes(rd *r, size_t n) {
    if (r->bad || r->left < n) {
        r->bad = true;
        return NULL;
    }
    const char *p = (const char *)r->p;
    r->p += n;
    r->left -= n;
    return p;
}

static char *read_file(const char *path, size_t *len, int *eno) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *eno = errno;
        return NULL;
    }
    hm_buf b = {0};
    for (;;) {
        hm_buf_reserve(&b, 1 << 16);
        ssize_t r = read(fd, b.p + b.len, b.cap - b.len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            *eno = errno;
            close(fd);
            hm_buf_free(&b);
            return NULL;
        }
        if (r == 0) break;
        b.len += (size_t)r;
    }
    close(fd);
    *len = b.len;
    return b.p ? b.p : hm_xcalloc(1, 1);
}

int corr_mem_load(void *vst, const hm_corr_set *set, const char *path, uint64_t rules_hash,
                  corr_marks *mk, size_t *n_groups, char *err, size_t errlen) {
    mem_state *st = vst;
    *n_groups = 0;
    size_t len = 0;
    int eno = 0;
    char *data = read_file(path, &len, &eno);
    if (!data) {
        if (eno == ENOENT) return HM_EOF;
        snprintf(err, errlen, "%s: %s", path, strerror(eno));
        return HM_EPARSE;
    }
    const unsigned char *u = (const unsigned char *)data;
    int rc = HM_EPARSE;
    if (len < SNAP_HEAD || memcmp(data, SNAP_MAGIC, 8)) {
        snprintf(err, errlen, "%s: not a correlation state snapshot", path);
        goto out;
    }
    if (get_le(u + 8, 4) != SNAP_VERSION) {
        snprintf(err, errlen, "%s: snapshot format version %llu, this build reads version %u", path,
                 (unsigned long long)get_le(u + 8, 4), SNAP_VERSION);
        goto out;
    }
    uint64_t plen = get_le(u + 24, 8);
    if (plen != len - SNAP_HEAD || get_le(u + 32, 8) != snap_checksum(u + SNAP_HEAD, plen)) {
        snprintf(err, errlen, "%s: checksum mismatch (truncated or damaged file)", path);
        goto out;
    }
    if (get_le(u + 16, 8) != rules_hash) {
        snprintf(err, errlen,
                 "%s: written for a different set of correlation rules (rule set hash "
                 "%016llx, loaded rules %016llx)",
                 path, (unsigned long long)get_le(u + 16, 8), (unsigned long long)rules_hash);
        goto out;
    }
    rd r = {u + SNAP_HEAD, plen, false};
    corr_marks m;
    m.max_ts_ms = (int64_t)rd_le(&r, 8);
    m.local_wm_ms = (int64_t)rd_le(&r, 8);
    m.evaluated_ms = (int64_t)rd_le(&r, 8);
    uint64_t ng = rd_le(&r, 8);
    ensure_corrs(st, set ? set->n : 0);
    for (uint64_t k = 0; k < ng && !r.bad; k++) {
        uint32_t corr = (uint32_t)rd_le(&r, 4);
        uint32_t klen = (uint32_t)rd_le(&r, 2);
        const char *key = rd_bytes(&r, klen);
        uint32_t n = (uint32_t)rd_le(&r, 4), done = (uint32_t)rd_le(&r, 4),
                 reset = (uint32_t)rd_le(&r, 4);
        if (r.bad || !set || corr >= set->n || set->v[corr].level >= MAX_LEVELS || !n || done > n ||
            reset > done || n > r.left / 14) {
            r.bad = true;
            break;
        }
        /* members first, to size the block exactly */
        const unsigned char *mstart = r.p;
        size_t pool = 0;
        for (uint32_t i = 0; i < n && !r.bad; i++) {
            int64_t ts = (int64_t)rd_le(&r, 8);
            rd_le(&r, 2);
            if (ts > INT64_C(1) << 46 || ts < -(INT64_C(1) << 46)) r.bad = true;
            uint32_t idl = (uint32_t)rd_le(&r, 2);
            rd_bytes(&r, idl);
            uint32_t vl = (uint32_t)rd_le(&r, 2);
            if (vl != MM_NOVAL) rd_bytes(&r, vl);
            pool += idl + (vl == MM_NOVAL ? 0 : vl);
        }
        if (r.bad || pool > UINT32_MAX) break;
        const hm_corr *c = &set->v[corr];
        mgroup *g = group_new(st, corr, (uint8_t)c->level, (hm_str){key, klen},
                              gkey_hash(st, corr, key, klen), n, (uint32_t)pool);
        rd mr = {mstart, (size_t)(r.p - mstart), false};
        mmember *mm = gm(g);
        char *gp = gpool(g);
        for (uint32_t i = 0; i < n; i++) {
            int64_t ts = (int64_t)rd_le(&mr, 8);
            uint32_t ref = (uint32_t)rd_le(&mr, 2);
            uint32_t idl = (uint32_t)rd_le(&mr, 2);
            memcpy(gp + g->pool_len, rd_bytes(&mr, idl), idl);
            uint32_t vl = (uint32_t)rd_le(&mr, 2);
            mm[i] = (mmember){ts * 65536 + ref, g->pool_len, (uint16_t)idl, (uint16_t)vl};
            g->pool_len += idl;
            if (vl != MM_NOVAL) {
                memcpy(gp + g->pool_len, rd_bytes(&mr, vl), vl);
                g->pool_len += vl;
            }
        }
        g->n = n;
        g->done = done;
        g->reset = reset;
        wheel_push(st, g, group_due(g, c));
        (*n_groups)++;
    }
    if (r.bad || r.left) {
        snprintf(err, errlen, "%s: malformed snapshot contents", path);
        /* nothing half-loaded stays behind */
        for (uint32_t h = 0; h < st->n_hd; h++)
            if (st->hd[h].g) group_free(st, st->hd[h].g);
        *n_groups = 0;
        goto out;
    }
    *mk = m;
    rc = HM_OK;
out:
    free(data);
    return rc;
}

const corr_backend_ops corr_mem_ops = {
    .name = "memory",
    .apply = mem_apply,
    .watermark = NULL,
    .stats = mem_stats,
    .remap = mem_remap,
    .destroy = mem_destroy,
};
