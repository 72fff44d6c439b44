/* corr_redis.c - correlation state in Redis, shared by every engine instance.
 *
 * One sorted set per group (correlation + group-by values), key "<ns>:{<rule id>:<hash
 * of the group values>}". Every score is 0, so the set is ordered by name: a member is
 * "<time><identity>\0<ref>\0<has value><value>", time = 15 digits of event ms + 4e14,
 * so the set is in (time, identity) order, the member order of docs/correlation.md.
 * Identity = event id ("<event id>\x1f<ref>" for temporal types). The evaluation cursor
 * is two markers in the same set, "<time><identity>\1" right after the last member
 * evaluated as a window end and "<time><identity>\2" after the last member of the last
 * reset. One ZRANGE reads members and cursor together, atomically.
 *
 * Two phases make a crash harmless: APPLY inserts members (ZADD NX: a redelivered event
 * is never counted twice) and reads the groups that can decide something; the window
 * algorithm (corr_eval.c, the memory backend's) runs here without moving the cursor.
 * COMMIT moves the cursor only after the alerts are written to the outputs. A crash in
 * between re-evaluates the same windows on restart and fires the same alert ids again.
 * Cursors only move forward and every instance's decisions are a prefix of the same
 * deterministic sequence, so COMMIT needs no compare-and-set: it adds the new markers,
 * then deletes what can no longer count, then the old markers; a reader at any point
 * takes the highest markers and sees a consistent group. Two instances evaluating one
 * group at once may both fire a window (same alert id).
 *
 * Round trips: a group is read only when the watermark reaches its next decision (its
 * due time, tracked here); before that its new members are only inserted. Every level's
 * work of a batch goes in one burst before the first level is applied (levels above 0
 * speculatively: an inner firing that feeds a level sends that level again); commits
 * and the watermark publish are written without waiting, their replies are read with the
 * next burst. hiredis 0.14 API (Debian 12). */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "corr_int.h"

/* WATERMARK: KEYS wm-hash time-hash; ARGV instance, published wm. Publishes this
 * instance's watermark (only ever one whose events are all in Redis) and returns the
 * minimum over the other live instances (heard from in the last 30 s) as a string ("inf"
 * when there are none or all finished). Instances not heard from for an hour are
 * forgotten. */
static const char WM_LUA[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
    "redis.call('HSET', KEYS[2], ARGV[1], now)\n"
    "local all = redis.call('HGETALL', KEYS[1])\n"
    "local min = math.huge\n"
    "for i = 1, #all, 2 do\n"
    "  if all[i] ~= ARGV[1] then\n"
    "    local age = now - tonumber(redis.call('HGET', KEYS[2], all[i]) or '0')\n"
    "    if age < 30000 then\n"
    "      local w = all[i + 1] == 'inf' and math.huge or tonumber(all[i + 1])\n"
    "      if w < min then min = w end\n"
    "    elseif age > 3600000 then\n"
    "      redis.call('HDEL', KEYS[1], all[i]); redis.call('HDEL', KEYS[2], all[i])\n"
    "    end\n"
    "  end\n"
    "end\n"
    "if min == math.huge then return 'inf' end\n"
    "return string.format('%d', min)\n";

/* A group with something left to decide that this instance inserted members into. */
typedef struct rgroup {
    uint64_t h;  /* table hash of (correlation, key) */
    uint64_t th; /* hash of the key, in the key name */
    char *key;   /* group string */
    uint32_t klen;
    uint32_t corr;
    uint32_t wslot; /* while a burst is built: 1 + its work index */
    uint8_t level;
    bool pending;   /* false: nothing left to decide (removed at the next sweep) */
    int64_t due;    /* evaluate once the watermark reaches this (INT64_MAX: nothing known) */
    int64_t ttl_ns; /* when we last renewed its key's TTL (monotonic; 0: not since connecting) */
} rgroup;

/* One group's part of a burst: hits hidx[h0 .. h0 + nh); rep = its set as read. */
typedef struct work {
    uint32_t gi, h0, nh;
    bool eval;
    redisReply *rep;
} work;

typedef struct burst {
    uint32_t *hgi; /* per hit: its group */
    uint32_t *hidx;
    size_t cap_hits;
    work *w;
    size_t nw, capw;
    size_t nrep; /* replies the burst's commands owe */
} burst;

/* Arguments of one command in one reusable buffer (no allocation per argument). */
typedef struct argvb {
    char *buf;
    size_t len, cap;
    size_t *off, *l;
    size_t n, cap_n;
    size_t open; /* start of the argument being built */
} argvb;

/* A cursor move waiting for COMMIT: key, new done and reset markers, drop bound, old
 * done and reset markers, reset marker to put back after the drop (empty: none; a
 * commit may only drop members), stored length-prefixed at cbuf[off]. */
typedef struct centry {
    size_t off;
    int64_t ttl_ms;
} centry;

enum { X_COMMIT, X_WM };

/* A reply still owed for a write we did not wait for. */
typedef struct expect {
    uint8_t kind;
    int64_t sent_ns; /* X_WM: when it was written */
} expect;

#define MAX_SPEC_LEVELS 32

typedef struct redis_state {
    char host[256];
    int port, db;
    char user[128], pass[256];
    char ns[64];
    char instance[128];
    redisContext *ctx;
    char sha_wm[48];
    /* groups with something pending: dense array + open-addressing index (gi + 1) */
    rgroup *g;
    size_t ng, capg, ndead;
    uint32_t *idx;
    size_t capi;
    burst spec, now; /* the burst of every level (prepare), and one level's re-send */
    bool spec_ok;
    int64_t spec_wm;
    size_t spec_n[MAX_SPEC_LEVELS];
    /* evaluation buffers, reused */
    corr_member *mm;
    size_t cap_mm;
    corr_scratch scratch;
    hm_buf tmp;
    /* cursor moves: [0, nce_f) written (or to write again: f_resend), then this push's */
    centry *ce;
    size_t nce, nce_f, capce;
    hm_buf cbuf;
    bool f_resend;
    expect *ex;
    size_t nex, capex;
    argvb av;
    hm_buf out; /* commands not yet handed to the connection */
    /* key prefix "<ns>:{<rule id>:" per correlation of kp_set */
    char **kp;
    size_t *kpl, nkp;
    const hm_corr_set *kp_set;
    const hm_ruleset *kp_rs;
    hm_corr_stats stats;
    int64_t lateness_ms;
    bool warned;
    /* shared watermark: others = minimum over the other live instances as of the request
     * written at others_ns; next_pub = our watermark of the current push, safe_pub = the
     * one whose events are all in Redis (published with the commit) */
    int64_t others, others_ns;
    int64_t next_pub, safe_pub, sent_pub, sent_pub_ns;
    bool finished;
    int64_t joined_ns; /* when we first registered (monotonic), 0 = not yet */
    int64_t join_ns;   /* discovery period: decide nothing until peers had time to register */
} redis_state;

/* Keys are only ever deleted by their TTL (at least an hour): a TTL renewed less than
 * an eighth of it ago is still in force, renewing it again would only cost a command. */
static bool ttl_due(rgroup *g, int64_t ttl_ms, int64_t now_ns) {
    if (g->ttl_ns && now_ns - g->ttl_ns < ttl_ms * (1000000 / 8)) return false;
    g->ttl_ns = now_ns;
    return true;
}

/* A cached minimum of the other instances is used for this long; then it is asked for. */
#define WM_FRESH_NS 1000000000LL

static const hm_ruleset *g_rs_for_tag; /* whose rule ids name the keys (writer thread) */

/* ---- argument buffer ---- */

static void av_reset(argvb *a) {
    a->len = a->n = 0;
}

static void av_cat(argvb *a, const void *p, size_t n) {
    if (a->len + n > a->cap) {
        a->cap = a->cap ? a->cap * 2 : 4096;
        while (a->cap < a->len + n) a->cap *= 2;
        a->buf = hm_xrealloc(a->buf, a->cap);
    }
    if (n) memcpy(a->buf + a->len, p, n);
    a->len += n;
}

static void av_open(argvb *a) {
    a->open = a->len;
}

static void av_close(argvb *a) {
    if (a->n == a->cap_n) {
        a->cap_n = a->cap_n ? a->cap_n * 2 : 256;
        a->off = hm_xrealloc(a->off, a->cap_n * sizeof(size_t));
        a->l = hm_xrealloc(a->l, a->cap_n * sizeof(size_t));
    }
    a->off[a->n] = a->open;
    a->l[a->n] = a->len - a->open;
    a->n++;
}

static void av_add(argvb *a, const void *p, size_t n) {
    av_open(a);
    av_cat(a, p, n);
    av_close(a);
}

static void av_adds(argvb *a, const char *s) {
    av_add(a, s, strlen(s));
}

/* Decimal digits of v into o (at least 20 bytes); returns their number. */
static size_t dec(char *o, long long v) {
    char t[24];
    size_t n = 0, k = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do t[n++] = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0) o[k++] = '-';
    while (n) o[k++] = t[--n];
    return k;
}

static void av_addi(argvb *a, long long v) {
    char b[24];
    av_add(a, b, dec(b, v));
}

static void av_free(argvb *a) {
    free(a->buf);
    free(a->off);
    free(a->l);
    memset(a, 0, sizeof(*a));
}

/* Serializes the command (RESP) onto out; out_push hands it to the connection. */
static void av_emit(hm_buf *out, argvb *a) {
    char num[24];
    size_t need = 16;
    for (size_t i = 0; i < a->n; i++) need += a->l[i] + 16;
    hm_buf_reserve(out, need);
    hm_buf_putc(out, '*');
    hm_buf_put(out, num, dec(num, (long long)a->n));
    hm_buf_put(out, "\r\n", 2);
    for (size_t i = 0; i < a->n; i++) {
        hm_buf_putc(out, '$');
        hm_buf_put(out, num, dec(num, (long long)a->l[i]));
        hm_buf_put(out, "\r\n", 2);
        hm_buf_put(out, a->buf + a->off[i], a->l[i]);
        hm_buf_put(out, "\r\n", 2);
    }
    av_reset(a);
}

/* ---- connection ---- */

static void rs_disconnect(redis_state *st) {
    if (st->ctx) redisFree(st->ctx);
    st->ctx = NULL;
    st->out.len = 0;
    st->nex = 0; /* owed replies are gone with the connection */
    if (st->nce_f) st->f_resend = true;
    st->sent_pub_ns = 0;
}

static int rs_connect(redis_state *st) {
    if (st->ctx) return HM_OK;
    st->out.len = 0; /* commands built for a connection that failed */
    struct timeval tv = {2, 0};
    st->ctx = redisConnectWithTimeout(st->host, st->port, tv);
    if (!st->ctx || st->ctx->err) {
        if (!st->warned)
            hm_warn("correlate", "redis %s:%d: %s", st->host, st->port,
                    st->ctx ? st->ctx->errstr : "cannot allocate context");
        st->warned = true;
        rs_disconnect(st);
        st->stats.backend_errors++;
        return HM_ERETRY;
    }
    struct timeval ct = {5, 0};
    redisSetTimeout(st->ctx, ct);
    /* keep the reply buffer between replies: freeing it after each (hiredis frees an idle
     * buffer above 16 KiB) made every large ZRANGE reply fault in fresh pages */
    st->ctx->reader->maxbuf = 0;
    /* one round trip: AUTH, SELECT and the script */
    int nq = 0;
    if (st->pass[0]) {
        const char *argv[3] = {"AUTH", st->user[0] ? st->user : st->pass, st->pass};
        size_t lens[3] = {4, strlen(argv[1]), strlen(st->pass)};
        redisAppendCommandArgv(st->ctx, st->user[0] ? 3 : 2, argv, lens);
        nq++;
    }
    char db[16];
    if (st->db) {
        snprintf(db, sizeof db, "%d", st->db);
        const char *argv[2] = {"SELECT", db};
        size_t lens[2] = {6, strlen(db)};
        redisAppendCommandArgv(st->ctx, 2, argv, lens);
        nq++;
    }
    const char *src[1] = {WM_LUA};
    char *sha[1] = {st->sha_wm};
    for (int k = 0; k < 1; k++) {
        const char *argv[3] = {"SCRIPT", "LOAD", src[k]};
        size_t lens[3] = {6, 4, strlen(src[k])};
        redisAppendCommandArgv(st->ctx, 3, argv, lens);
    }
    st->stats.backend_round_trips++;
    bool ok = true;
    for (int i = 0; i < nq + 1; i++) {
        redisReply *r = NULL;
        if (redisGetReply(st->ctx, (void **)&r) != REDIS_OK || !r) {
            if (!st->warned)
                hm_warn("correlate", "redis %s:%d: %s", st->host, st->port, st->ctx->errstr);
            st->warned = true;
            ok = false;
            break;
        }
        if (i < nq) {
            if (r->type == REDIS_REPLY_ERROR) {
                hm_error("correlate", "redis %s:%d: %s failed: %s", st->host, st->port,
                         st->pass[0] && i == 0 ? "AUTH" : "SELECT", r->str);
                ok = false;
            }
        } else if (r->type == REDIS_REPLY_STRING) {
            snprintf(sha[i - nq], 48, "%s", r->str);
        } else {
            hm_error("correlate", "redis: cannot load script: %s",
                     r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
            ok = false;
        }
        freeReplyObject(r);
    }
    if (!ok) {
        rs_disconnect(st);
        st->stats.backend_errors++;
        return HM_ERETRY;
    }
    /* whatever happened meanwhile (a restart with an empty data set), renew every TTL */
    for (size_t i = 0; i < st->ng; i++) st->g[i].ttl_ns = 0;
    if (st->warned) hm_info("correlate", "redis %s:%d: connected", st->host, st->port);
    st->warned = false;
    return HM_OK;
}

/* The connection failed in the middle of a round trip: everything owed is lost. */
static int conn_failed(redis_state *st) {
    hm_warn("correlate", "redis %s:%d: %s", st->host, st->port,
            st->ctx && st->ctx->errstr[0] ? st->ctx->errstr : "connection lost");
    rs_disconnect(st);
    st->stats.backend_errors++;
    return HM_ERETRY;
}

static void out_push(redis_state *st) {
    if (st->out.len && st->ctx) redisAppendFormattedCommand(st->ctx, st->out.p, st->out.len);
    st->out.len = 0;
}

/* Writes the output buffer without reading anything. */
static int flush_out(redis_state *st) {
    if (!st->ctx) return HM_ERETRY;
    out_push(st);
    int done = 0;
    while (!done)
        if (redisBufferWrite(st->ctx, &done) != REDIS_OK) return conn_failed(st);
    return HM_OK;
}

static void wm_fmt(char *b, size_t n, int64_t v) {
    if (v == INT64_MAX)
        snprintf(b, n, "inf");
    else
        snprintf(b, n, "%lld", (long long)(v == INT64_MIN ? -1 : v));
}

static int64_t wm_parse(const redisReply *r) {
    if (r->type != REDIS_REPLY_STRING) return INT64_MIN;
    if (!strcmp(r->str, "inf")) return INT64_MAX;
    int64_t v = atoll(r->str);
    return v == -1 ? INT64_MIN : v;
}

/* ---- key names ---- */

/* "<ns>:{<rule id>:<16 hex digits: hash of the group values>}": one key per group and
 * every command names one key, so the hash tag is the group's own (a cluster spreads
 * the groups, also those of one busy correlation, over its nodes). */
static void kp_free(redis_state *st) {
    for (size_t i = 0; i < st->nkp; i++) free(st->kp[i]);
    free(st->kp);
    free(st->kpl);
    st->kp = NULL;
    st->kpl = NULL;
    st->nkp = 0;
    st->kp_set = NULL;
}

static int group_key(redis_state *st, const hm_corr_set *set, const rgroup *g, char *out,
                     size_t n) {
    if (st->kp_set != set || st->kp_rs != g_rs_for_tag) {
        kp_free(st);
        st->kp = hm_xcalloc(set->n + 1, sizeof(char *));
        st->kpl = hm_xcalloc(set->n + 1, sizeof(size_t));
        for (size_t i = 0; i < set->n; i++) {
            char b[160];
            const hm_rule_meta *m = hm_ruleset_rule(g_rs_for_tag, set->v[i].rule);
            int l = snprintf(b, sizeof b, "%.32s:{%.64s:", st->ns, m->id);
            st->kp[i] = hm_xstrndup(b, (size_t)l);
            st->kpl[i] = (size_t)l;
        }
        st->nkp = set->n;
        st->kp_set = set;
        st->kp_rs = g_rs_for_tag;
    }
    static const char hx[] = "0123456789abcdef";
    size_t l = st->kpl[g->corr];
    if (l + 18 > n) return 0;
    memcpy(out, st->kp[g->corr], l);
    for (int k = 0; k < 16; k++) out[l + (size_t)k] = hx[g->th >> (60 - 4 * k) & 15];
    out[l + 16] = '}';
    out[l + 17] = 0;
    return (int)(l + 17);
}

/* Keys live this long (wall clock) after their last use. */
static int64_t group_ttl(const redis_state *st, const hm_corr *c) {
    return c->span_ns / 1000000 * 2 + st->lateness_ms * 2 + 3600000;
}

/* ---- replies owed for writes we did not wait for ---- */

static void expect_push(redis_state *st, uint8_t kind, int64_t sent_ns) {
    if (st->nex == st->capex) {
        st->capex = st->capex ? st->capex * 2 : 16;
        st->ex = hm_xrealloc(st->ex, st->capex * sizeof(expect));
    }
    st->ex[st->nex++] = (expect){kind, sent_ns};
}

/* ---- cursor moves waiting for COMMIT ---- */

static void cput(redis_state *st, const char *p, size_t n) {
    uint32_t l = (uint32_t)n;
    hm_buf_put(&st->cbuf, &l, sizeof l);
    if (n) hm_buf_put(&st->cbuf, p, n);
}

static const char *cget(const redis_state *st, size_t *pos, size_t *len) {
    uint32_t l;
    memcpy(&l, st->cbuf.p + *pos, sizeof l);
    const char *p = st->cbuf.p + *pos + sizeof l;
    *pos += sizeof l + l;
    *len = l;
    return p;
}

/* The written cursor moves [0, nce_f) are confirmed: drop them. */
static void commits_acked(redis_state *st) {
    st->f_resend = false;
    if (!st->nce_f) return;
    size_t boff = st->nce_f < st->nce ? st->ce[st->nce_f].off : st->cbuf.len;
    memmove(st->cbuf.p, st->cbuf.p + boff, st->cbuf.len - boff);
    st->cbuf.len -= boff;
    for (size_t i = st->nce_f; i < st->nce; i++) {
        st->ce[i - st->nce_f] = st->ce[i];
        st->ce[i - st->nce_f].off -= boff;
    }
    st->nce -= st->nce_f;
    st->nce_f = 0;
}

/* The current push will be applied again: its cursor moves must not be committed. */
static void commits_drop_push(redis_state *st) {
    if (st->nce_f < st->nce) st->cbuf.len = st->ce[st->nce_f].off;
    st->nce = st->nce_f;
}

/* Appends the commands of the cursor moves [a, b). Per group, in an order that leaves
 * a consistent group at every step: the new markers, the members that can no longer
 * count (a prefix of the set; old markers below the bound go with them), a reset marker
 * to keep, the other old markers, the TTL when due. All idempotent. */
static void append_commits(redis_state *st, size_t a, size_t b) {
    argvb *av = &st->av;
    for (size_t i = a; i < b; i++) {
        size_t p = st->ce[i].off, kl, l[6];
        const char *key = cget(st, &p, &kl), *v[6];
        for (int q = 0; q < 6; q++) v[q] = cget(st, &p, &l[q]);
        if (l[0] || l[1]) {
            av_adds(av, "ZADD");
            av_add(av, key, kl);
            for (int q = 0; q < 2; q++)
                if (l[q]) {
                    av_add(av, "0", 1);
                    av_add(av, v[q], l[q]);
                }
            av_emit(&st->out, av);
            expect_push(st, X_COMMIT, 0);
        }
        if (l[2]) {
            av_adds(av, "ZREMRANGEBYLEX");
            av_add(av, key, kl);
            av_adds(av, "[0");
            av_add(av, v[2], l[2]);
            av_emit(&st->out, av);
            expect_push(st, X_COMMIT, 0);
        }
        if (l[5]) {
            av_adds(av, "ZADD");
            av_add(av, key, kl);
            av_add(av, "0", 1);
            av_add(av, v[5], l[5]);
            av_emit(&st->out, av);
            expect_push(st, X_COMMIT, 0);
        }
        bool rm[2];
        for (int q = 0; q < 2; q++)
            rm[q] = l[3 + q] && (l[3 + q] != l[q] || memcmp(v[3 + q], v[q], l[q]));
        if (rm[0] || rm[1]) {
            av_adds(av, "ZREM");
            av_add(av, key, kl);
            for (int q = 0; q < 2; q++)
                if (rm[q]) av_add(av, v[3 + q], l[3 + q]);
            av_emit(&st->out, av);
            expect_push(st, X_COMMIT, 0);
        }
        if (st->ce[i].ttl_ms) {
            av_adds(av, "PEXPIRE");
            av_add(av, key, kl);
            av_addi(av, st->ce[i].ttl_ms);
            av_emit(&st->out, av);
            expect_push(st, X_COMMIT, 0);
        }
    }
}

/* Reads the replies owed for earlier writes (commits, watermark publishes); they come
 * ahead of the caller's own replies, in the same round trip. On any error the connection
 * is dropped (what follows on it is of no use) and the commits are written again. */
static int read_expected(redis_state *st) {
    if (!st->ctx) return HM_ERETRY; /* an early write of this round failed */
    out_push(st);
    for (size_t i = 0; i < st->nex; i++) {
        redisReply *r = NULL;
        if (redisGetReply(st->ctx, (void **)&r) != REDIS_OK || !r) return conn_failed(st);
        const expect *x = &st->ex[i];
        if (r->type == REDIS_REPLY_ERROR) {
            hm_warn("correlate", "redis %s error: %s", x->kind == X_WM ? "watermark" : "commit",
                    r->str);
            freeReplyObject(r);
            rs_disconnect(st);
            st->stats.backend_errors++;
            return HM_ERETRY;
        }
        if (x->kind == X_WM) {
            st->others = wm_parse(r);
            st->others_ns = x->sent_ns;
            if (!st->joined_ns) st->joined_ns = hm_mono_ns();
        }
        freeReplyObject(r);
    }
    st->nex = 0;
    commits_acked(st);
    return HM_OK;
}

/* Starts a round trip: cursor moves whose write failed go first. */
static void begin_round(redis_state *st) {
    if (st->f_resend && st->nce_f) append_commits(st, 0, st->nce_f);
    st->f_resend = false;
}

/* Appends the watermark script: publish pub, learn the other instances' minimum. */
static void append_wm(redis_state *st, int64_t pub) {
    argvb *av = &st->av;
    char key[96], pb[32];
    av_adds(av, "EVALSHA");
    av_adds(av, st->sha_wm);
    av_adds(av, "2");
    snprintf(key, sizeof key, "%s:{wm}", st->ns);
    av_adds(av, key);
    snprintf(key, sizeof key, "%s:{wm}:seen", st->ns);
    av_adds(av, key);
    av_adds(av, st->instance);
    wm_fmt(pb, sizeof pb, pub);
    av_adds(av, pb);
    av_emit(&st->out, av);
    int64_t now = hm_mono_ns();
    expect_push(st, X_WM, now);
    st->sent_pub = pub;
    st->sent_pub_ns = now;
}

/* Publishes pub and waits for the other instances' minimum (one round trip). */
static int wm_sync(redis_state *st, int64_t pub) {
    if (rs_connect(st) != HM_OK) return HM_ERETRY;
    begin_round(st);
    append_wm(st, pub);
    st->stats.backend_round_trips++;
    return read_expected(st);
}

/* ---- groups with something pending ---- */

static uint64_t gh(uint32_t corr, const char *k, size_t n) {
    return hm_hash64(k, n, 0x51ed27 + corr);
}

static void idx_rebuild(redis_state *st, size_t cap) {
    free(st->idx);
    st->capi = cap;
    st->idx = hm_xcalloc(cap, sizeof(uint32_t));
    for (size_t i = 0; i < st->ng; i++) {
        size_t j = st->g[i].h & (cap - 1);
        while (st->idx[j]) j = (j + 1) & (cap - 1);
        st->idx[j] = (uint32_t)i + 1;
    }
}

/* The group's index (created when new: nothing pending yet). */
static uint32_t rg_get(redis_state *st, const hm_corr_set *set, uint32_t corr, hm_str key) {
    uint64_t h = gh(corr, key.p ? key.p : "", key.len);
    size_t j = h & (st->capi - 1);
    while (st->idx[j]) {
        const rgroup *g = &st->g[st->idx[j] - 1];
        if (g->h == h && g->corr == corr && g->klen == key.len &&
            (!key.len || !memcmp(g->key, key.p, key.len)))
            return st->idx[j] - 1;
        j = (j + 1) & (st->capi - 1);
    }
    if (st->ng == st->capg) {
        st->capg = st->capg ? st->capg * 2 : 256;
        st->g = hm_xrealloc(st->g, st->capg * sizeof(rgroup));
    }
    if ((st->ng + 1) * 2 > st->capi) {
        idx_rebuild(st, st->capi * 2);
        j = h & (st->capi - 1);
        while (st->idx[j]) j = (j + 1) & (st->capi - 1);
    }
    uint32_t gi = (uint32_t)st->ng++;
    st->g[gi] = (rgroup){.h = h,
                         .th = hm_hash64(key.p ? key.p : "", key.len, 3),
                         .key = hm_xstrndup(key.p ? key.p : "", key.len),
                         .klen = key.len,
                         .corr = corr,
                         .level = (uint8_t)set->v[corr].level,
                         .due = INT64_MAX};
    st->ndead++; /* not pending until its hit is collected */
    st->idx[j] = gi + 1;
    return gi;
}

/* Forgets groups with nothing pending (only between pushes: indexes move). */
static void rg_sweep(redis_state *st) {
    size_t k = 0;
    for (size_t i = 0; i < st->ng; i++) {
        if (st->g[i].pending)
            st->g[k++] = st->g[i];
        else
            free(st->g[i].key);
    }
    st->ng = k;
    st->ndead = 0;
    size_t cap = 256;
    while (cap < 2 * k + 2) cap *= 2;
    idx_rebuild(st, cap);
}

/* ---- bursts: the commands of one round trip ---- */

static int64_t ns_to_ms(int64_t ns) {
    return ns / 1000000 - (ns % 1000000 < 0);
}

static void burst_reserve(burst *b, size_t n) {
    if (n + 1 > b->cap_hits) {
        b->cap_hits = n + 1 > b->cap_hits * 2 ? n + 1 : b->cap_hits * 2;
        b->hgi = hm_xrealloc(b->hgi, b->cap_hits * sizeof(uint32_t));
        b->hidx = hm_xrealloc(b->hidx, b->cap_hits * sizeof(uint32_t));
    }
}

/* Frees the replies of work entries of one level (all: UINT32_MAX) not reported yet. */
static void burst_drop_level(redis_state *st, burst *b, uint32_t level) {
    for (size_t k = 0; k < b->nw; k++)
        if (b->w[k].rep && (level == UINT32_MAX || st->g[b->w[k].gi].level == level)) {
            freeReplyObject(b->w[k].rep);
            b->w[k].rep = NULL;
        }
}

static void burst_release(redis_state *st, burst *b) {
    burst_drop_level(st, b, UINT32_MAX);
    b->nw = 0;
    b->nrep = 0;
}

static void burst_free(redis_state *st, burst *b) {
    burst_release(st, b);
    free(b->hgi);
    free(b->hidx);
    free(b->w);
}

static void work_push(burst *b, uint32_t gi) {
    if (b->nw == b->capw) {
        b->capw = b->capw ? b->capw * 2 : 256;
        b->w = hm_xrealloc(b->w, b->capw * sizeof(work));
    }
    b->w[b->nw++] = (work){gi, 0, 0, false, NULL};
}

/* The work of one burst: the groups with hits (inserted; read when due) and the pending
 * groups of the levels in lmask that are due at wm. b->hgi holds each hit's group. */
static void collect(redis_state *st, burst *b, const hm_corr_set *set, const hm_corr_hit *hits,
                    size_t n, int64_t wm, uint32_t lmask) {
    burst_release(st, b);
    for (size_t i = 0; i < n; i++) {
        rgroup *g = &st->g[b->hgi[i]];
        if (!g->wslot) {
            work_push(b, b->hgi[i]);
            g->wslot = (uint32_t)b->nw;
        }
        b->w[g->wslot - 1].nh++;
        /* the next decision: the new member's window end (sliding) or window close */
        const hm_corr *c = &set->v[g->corr];
        int64_t ts = ns_to_ms(hits[i].ts_ns);
        int64_t d = c->close_eval ? ts + c->span_ns / 1000000 : ts;
        if (!g->pending) {
            g->pending = true;
            st->ndead--;
        }
        if (d < g->due) g->due = d;
    }
    for (size_t gi = 0; gi < st->ng; gi++) {
        rgroup *g = &st->g[gi];
        if (g->wslot || !g->pending || g->due > wm || g->level >= 32 || !(lmask >> g->level & 1))
            continue;
        work_push(b, (uint32_t)gi);
        g->wslot = (uint32_t)b->nw;
    }
    uint32_t at = 0;
    for (size_t k = 0; k < b->nw; k++) {
        b->w[k].h0 = at;
        at += b->w[k].nh;
        b->w[k].nh = 0;
    }
    for (size_t i = 0; i < n; i++) {
        work *w = &b->w[st->g[b->hgi[i]].wslot - 1];
        b->hidx[w->h0 + w->nh++] = (uint32_t)i;
    }
    for (size_t k = 0; k < b->nw; k++) {
        rgroup *g = &st->g[b->w[k].gi];
        b->w[k].eval = g->due <= wm;
        g->wslot = 0;
    }
}

/* The same event matched by two referenced rules gives two hits with one identity: the
 * first one counts (as in memory). They come one after the other from the worker. */
static bool dup_hit(const burst *b, const hm_corr_hit *hits, const work *w, uint32_t r,
                    bool per_ref) {
    const hm_corr_hit *h = &hits[b->hidx[w->h0 + r]];
    for (uint32_t p = r; p-- > 0 && r - p <= 16;) {
        const hm_corr_hit *o = &hits[b->hidx[w->h0 + p]];
        if (o->ts_ns == h->ts_ns && o->event_id.len == h->event_id.len &&
            (!per_ref || o->ref == h->ref) &&
            (!h->event_id.len || !memcmp(o->event_id.p, h->event_id.p, h->event_id.len)))
            return true;
    }
    return false;
}

/* Event time as member names order it: 15 digits of ms + 4e14 (years -10700 to 20980). */
#define TIME_BIAS 400000000000000LL
static void time_key(int64_t ms, char out[16]) {
    int64_t x = ms + TIME_BIAS;
    if (x < 0) x = 0;
    if (x > 999999999999999LL) x = 999999999999999LL;
    for (int k = 14; k >= 0; k--, x /= 10) out[k] = (char)('0' + x % 10);
    out[15] = 0;
}

/* Appends the burst's commands: per group with hits ZADD NX + PEXPIRE, per group due a
 * ZRANGE of its whole set (cursor and members). */
static void emit_burst(redis_state *st, burst *b, const hm_corr_set *set, const hm_corr_hit *hits) {
    argvb *av = &st->av;
    char key[160], num[24], tk[16];
    int64_t now = hm_mono_ns();
    for (size_t k = 0; k < b->nw; k++) {
        const work *w = &b->w[k];
        const rgroup *g = &st->g[w->gi];
        const hm_corr *c = &set->v[g->corr];
        bool per_ref = c->type == HM_CORR_TEMPORAL || c->type == HM_CORR_TEMPORAL_ORDERED;
        int kl = group_key(st, set, g, key, sizeof key);
        if (w->nh) {
            av_adds(av, "ZADD");
            av_add(av, key, (size_t)kl);
            av_adds(av, "NX");
            for (uint32_t r = 0; r < w->nh; r++) {
                if (dup_hit(b, hits, w, r, per_ref)) continue;
                const hm_corr_hit *h = &hits[b->hidx[w->h0 + r]];
                av_add(av, "0", 1); /* the name orders the set */
                av_open(av);
                time_key(ns_to_ms(h->ts_ns), tk);
                av_cat(av, tk, 15);
                size_t rl = dec(num, h->ref);
                if (per_ref) { /* "<id>\x1f<ref>", cut at 599 bytes as in memory */
                    size_t left = 599, il = h->event_id.len < left ? h->event_id.len : left;
                    av_cat(av, h->event_id.p, il);
                    left -= il;
                    if (left) av_cat(av, "\x1f", 1), left--;
                    av_cat(av, num, rl < left ? rl : left);
                } else {
                    av_cat(av, h->event_id.p, h->event_id.len);
                }
                av_cat(av, "", 1);
                av_cat(av, num, rl);
                av_cat(av, "", 1);
                av_cat(av, h->has_value ? "1" : "0", 1);
                if (h->has_value && h->value.len) av_cat(av, h->value.p, h->value.len);
                av_close(av);
            }
            av_emit(&st->out, av);
            b->nrep++;
            if (ttl_due(&st->g[w->gi], group_ttl(st, c), now)) {
                av_adds(av, "PEXPIRE");
                av_add(av, key, (size_t)kl);
                av_addi(av, group_ttl(st, c));
                av_emit(&st->out, av);
                b->nrep++;
            }
        }
        if (w->eval) {
            av_adds(av, "ZRANGE");
            av_add(av, key, (size_t)kl);
            av_adds(av, "0");
            av_adds(av, "-1");
            av_emit(&st->out, av);
            b->nrep++;
        }
        /* Redis starts on the burst while the rest is built (a failed write shows when
         * the replies are read) */
        if (st->out.len >= 65536 && st->ctx) flush_out(st);
    }
}

/* One round trip: the owed replies, then the burst's. */
static int burst_run(redis_state *st, burst *b) {
    if (!b->nrep) return HM_OK;
    st->stats.backend_round_trips++;
    if (read_expected(st) != HM_OK) return HM_ERETRY;
    size_t k = 0;
    for (size_t i = 0; i < b->nrep; i++) {
        redisReply *r = NULL;
        if (redisGetReply(st->ctx, (void **)&r) != REDIS_OK || !r) {
            burst_release(st, b);
            return conn_failed(st);
        }
        if (r->type == REDIS_REPLY_ERROR) {
            hm_warn("correlate", "redis: %s", r->str);
            freeReplyObject(r);
            burst_release(st, b);
            rs_disconnect(st);
            st->stats.backend_errors++;
            return HM_ERETRY;
        }
        if (r->type != REDIS_REPLY_ARRAY) { /* ZADD, PEXPIRE */
            freeReplyObject(r);
            continue;
        }
        while (k < b->nw && !b->w[k].eval) k++;
        if (k < b->nw)
            b->w[k++].rep = r;
        else
            freeReplyObject(r);
    }
    return HM_OK;
}

/* ---- evaluation ---- */

static int64_t parse_i64(const char *p, size_t n) {
    int64_t v = 0;
    bool neg = n && *p == '-';
    for (size_t i = neg; i < n; i++) v = v * 10 + (p[i] - '0');
    return neg ? -v : v;
}

/* Name of a member's marker, or of the lex bound just above the member (kind 1: a
 * name continues an identity with \0, below \1) or above a time (id NULL). */
static void marker_put(hm_buf *b, int64_t ts, const hm_str *id, char kind) {
    char tk[16];
    time_key(ts, tk);
    hm_buf_put(b, tk, 15);
    if (id) {
        hm_buf_put(b, id->p, id->len);
        hm_buf_putc(b, kind);
    }
}

/* Window ends a group may leave decided but unrecorded (see eval_group). */
#define LAZY_DONE 8

/* One group's set as read: run the window algorithm of corr_eval.c, note the next due
 * time, and the cursor move for COMMIT (with the members it lets go). */
static void eval_group(redis_state *st, const hm_corr_set *set, uint32_t gi, const redisReply *r,
                       int64_t wm, corr_fire_fn fire, void *ud) {
    rgroup *g = &st->g[gi];
    const hm_corr *c = &set->v[g->corr];
    int64_t span = c->span_ns / 1000000;
    if (r->elements + 1 > st->cap_mm) {
        st->cap_mm = r->elements + 1 > st->cap_mm * 2 ? r->elements + 1 : st->cap_mm * 2;
        st->mm = hm_xrealloc(st->mm, st->cap_mm * sizeof(corr_member));
    }
    corr_member *m = st->mm;
    size_t n = 0;
    /* the highest markers: 0 done, 1 reset (names in order: the last one seen) */
    const redisReply *mk[2] = {NULL, NULL};
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_STRING || e->len < 16) continue;
        const char *p = e->str, *end = e->str + e->len;
        const char *z1 = memchr(p + 15, 0, (size_t)(end - p - 15));
        if (!z1) {
            if (end[-1] == 1 || end[-1] == 2) mk[end[-1] - 1] = e;
            continue;
        }
        const char *z2 = memchr(z1 + 1, 0, (size_t)(end - z1 - 1));
        if (!z2 || z2 + 1 >= end) continue;
        hm_str id = {p + 15, (uint32_t)(z1 - p - 15)};
        if (n && m[n - 1].id.len == id.len && !memcmp(m[n - 1].id.p, id.p, id.len))
            continue; /* one member per identity, whatever its payload says */
        m[n++] = (corr_member){.ts_ms = parse_i64(p, 15) - TIME_BIAS,
                               .id = id,
                               .value = {z2 + 2, (uint32_t)(end - z2 - 2)},
                               .has_value = z2[1] == '1',
                               .ref = (uint32_t)parse_i64(z1 + 1, (size_t)(z2 - z1 - 1))};
    }
    bool has_done = mk[0], has_reset = mk[1];
    int64_t dts = has_done ? parse_i64(mk[0]->str, 15) - TIME_BIAS : 0;
    int64_t rts = has_reset ? parse_i64(mk[1]->str, 15) - TIME_BIAS : 0;
    hm_str did =
        has_done ? (hm_str){mk[0]->str + 15, (uint32_t)(mk[0]->len - 16)} : (hm_str){"", 0};
    hm_str rid =
        has_reset ? (hm_str){mk[1]->str + 15, (uint32_t)(mk[1]->len - 16)} : (hm_str){"", 0};
    size_t done = 0, reset = 0;
    if (has_done)
        while (done < n && corr_member_cmp(m[done].ts_ms, m[done].id, dts, did) <= 0) done++;
    if (has_reset)
        while (reset < n && corr_member_cmp(m[reset].ts_ms, m[reset].id, rts, rid) <= 0) reset++;
    size_t d0 = done, r0 = reset;
    corr_evaluate_at(c, g->corr, (hm_str){g->key, g->klen}, m, n, wm, &done, &reset, &st->scratch,
                     fire, ud);
    /* something left to decide: the first member after the done cursor (and the reset,
     * which is never past it) ends a window (sliding), or the open window closes */
    size_t nx = c->close_eval || reset > done ? reset : done;
    bool pending = nx < n;
    if (g->pending && !pending) st->ndead++;
    g->pending = pending;
    g->due = !pending ? INT64_MAX : c->close_eval ? m[nx].ts_ms + span : m[nx].ts_ms;
    bool moved = done != d0 || reset != r0;
    if (done != d0 && done) {
        has_done = true;
        dts = m[done - 1].ts_ms;
        did = m[done - 1].id;
    }
    if (reset != r0 && reset) {
        has_reset = true;
        rts = m[reset - 1].ts_ms;
        rid = m[reset - 1].id;
    }
    /* what COMMIT may delete, also when nothing was decided (a replay re-inserts decided
     * members): the members that can no longer count (at or before the reset, or decided
     * and older than any future window) - a prefix of the set. A reset marker below it
     * can go too: members older than any future window cannot be counted wrongly even
     * when replayed. */
    bool fin = wm == INT64_MAX;
    int64_t lim = fin ? INT64_MAX : wm - span;
    size_t nd = 0;
    const hm_str *bid = NULL;
    int64_t bts = lim;
    if (has_done && (fin || dts <= lim)) {
        bts = dts;
        bid = &did;
    } else if (has_reset && rts > lim) {
        bts = rts;
        bid = &rid;
    }
    while (has_done && nd < n &&
           (bid ? corr_member_cmp(m[nd].ts_ms, m[nd].id, bts, *bid) <= 0 : m[nd].ts_ms <= bts))
        nd++;
    /* Windows decided without firing, nothing to let go: the next evaluation would
     * decide the same few windows the same way (their members are all in place), so
     * writing the move is not worth its commands. */
    if (!nd && (!moved || (reset == r0 && done - d0 <= LAZY_DONE))) return;
    hm_buf *t = &st->tmp;
    char key[160];
    int kl = group_key(st, set, g, key, sizeof key);
    if (st->nce == st->capce) {
        st->capce = st->capce ? st->capce * 2 : 256;
        st->ce = hm_xrealloc(st->ce, st->capce * sizeof(centry));
    }
    int64_t ttl = group_ttl(st, c);
    st->ce[st->nce++] = (centry){st->cbuf.len, ttl_due(g, ttl, hm_mono_ns()) ? ttl : 0};
    cput(st, key, (size_t)kl);
    t->len = 0;
    if (moved && has_done) marker_put(t, dts, &did, 1);
    cput(st, t->p, t->len);
    t->len = 0;
    if (moved && has_reset) marker_put(t, rts, &rid, 2);
    cput(st, t->p, t->len);
    t->len = 0;
    if (nd) {
        hm_buf_putc(t, '(');
        marker_put(t, bid ? bts : lim + 1, bid, 1);
    }
    cput(st, t->p, t->len);
    /* old markers the drop does not take (names below the bound go with it) */
    for (int q = 0; q < 2; q++) {
        bool below = false;
        if (mk[q] && t->len) {
            size_t bl = t->len - 1, ml = mk[q]->len;
            int cm = memcmp(mk[q]->str, t->p + 1, ml < bl ? ml : bl);
            below = cm < 0 || (!cm && ml < bl);
        }
        bool rm = moved && mk[q] && !below;
        cput(st, rm ? mk[q]->str : "", rm ? mk[q]->len : 0);
    }
    /* At the end of the input the drop reaches the done cursor, past the reset: the reset
     * marker goes back, so that an event redelivered to a later run is not counted again
     * (before the end, members at or before a reset the drop reaches are older than any
     * future window, and the marker is not needed). */
    t->len = 0;
    if (fin && nd && has_reset && has_done && corr_member_cmp(rts, rid, dts, did) < 0)
        marker_put(t, rts, &rid, 2);
    cput(st, t->p, t->len);
}

/* Reports the burst's results for one level (all of them: UINT32_MAX). */
static void consume(redis_state *st, burst *b, const hm_corr_set *set, uint32_t level, int64_t wm,
                    corr_fire_fn fire, void *ud) {
    for (size_t k = 0; k < b->nw; k++) {
        work *w = &b->w[k];
        if (!w->rep || (level != UINT32_MAX && st->g[w->gi].level != level)) continue;
        if (w->rep->type == REDIS_REPLY_ARRAY) eval_group(st, set, w->gi, w->rep, wm, fire, ud);
        freeReplyObject(w->rep);
        w->rep = NULL;
    }
}

/* ---- the backend operations ---- */

static void spec_discard(redis_state *st) {
    burst_release(st, &st->spec);
    st->spec_ok = false;
}

/* A push failed part-way: it is applied again from the start. */
static void push_failed(redis_state *st) {
    commits_drop_push(st);
    spec_discard(st);
}

/* Start of a push. Cursor moves left uncommitted (the caller did not call commit, but
 * went on, so their alerts are out) go ahead of this push's work. */
static void push_start(redis_state *st) {
    if (st->nce > st->nce_f) {
        st->nce_f = st->nce;
        st->f_resend = true;
    }
    if (st->ndead > 64 && st->ndead * 2 > st->ng) rg_sweep(st);
}

/* Every level's work of the push in one round trip. Levels above 0 are evaluated without
 * the hits that firings of lower levels will chain into them: apply() sends such a level
 * again (the results are only kept, nothing was decided: cursors move at COMMIT). */
static int redis_prepare(void *vst, const hm_corr_set *set, const hm_corr_hit *hits, size_t n,
                         int64_t wm) {
    redis_state *st = vst;
    spec_discard(st);
    if (set->max_level >= MAX_SPEC_LEVELS) return HM_OK;
    if (rs_connect(st) != HM_OK) return HM_ERETRY;
    push_start(st);
    burst *b = &st->spec;
    burst_reserve(b, n);
    memset(st->spec_n, 0, sizeof st->spec_n);
    for (size_t i = 0; i < n; i++) {
        b->hgi[i] = rg_get(st, set, hits[i].corr, hits[i].group);
        st->spec_n[set->v[hits[i].corr].level]++;
    }
    begin_round(st);
    collect(st, b, set, hits, n, wm, UINT32_MAX);
    emit_burst(st, b, set, hits);
    if (burst_run(st, b) != HM_OK) {
        push_failed(st);
        return HM_ERETRY;
    }
    st->spec_ok = true;
    st->spec_wm = wm;
    return HM_OK;
}

static int redis_apply(void *vst, const hm_corr_set *set, uint32_t level, const hm_corr_hit *hits,
                       size_t n, int64_t wm, corr_fire_fn fire, void *ud) {
    redis_state *st = vst;
    if (st->spec_ok && wm == st->spec_wm && level < MAX_SPEC_LEVELS && n == st->spec_n[level]) {
        consume(st, &st->spec, set, level, wm, fire, ud);
        return HM_OK;
    }
    if (st->spec_ok) /* firings of a lower level feed this one: its results are stale */
        burst_drop_level(st, &st->spec, level);
    else if (level == 0)
        push_start(st);
    if (rs_connect(st) != HM_OK) {
        push_failed(st);
        return HM_ERETRY;
    }
    burst *b = &st->now;
    burst_reserve(b, n);
    for (size_t i = 0; i < n; i++) b->hgi[i] = rg_get(st, set, hits[i].corr, hits[i].group);
    begin_round(st);
    collect(st, b, set, hits, n, wm, level < 32 ? 1u << level : 0);
    emit_burst(st, b, set, hits);
    if (burst_run(st, b) != HM_OK) {
        push_failed(st);
        return HM_ERETRY;
    }
    consume(st, b, set, UINT32_MAX, wm, fire, ud);
    return HM_OK;
}

/* Called once the alerts of the last push are written: the cursor moves, then our
 * watermark (that push's events are all in Redis now). Written without waiting: the
 * replies are read with the next round trip (at the end of the input: now). */
static int redis_commit(void *vst) {
    redis_state *st = vst;
    spec_discard(st);
    int64_t now = hm_mono_ns();
    bool publish = st->finished || st->next_pub != st->sent_pub || !st->sent_pub_ns ||
                   now - st->sent_pub_ns > 200000000LL;
    if (st->nce == st->nce_f && !(st->f_resend && st->nce_f) && !publish) return HM_OK;
    if (rs_connect(st) != HM_OK) return HM_ERETRY;
    begin_round(st);
    if (st->nce > st->nce_f) {
        append_commits(st, st->nce_f, st->nce);
        st->nce_f = st->nce;
    }
    st->safe_pub = st->next_pub;
    if (publish) append_wm(st, st->safe_pub);
    if (flush_out(st) != HM_OK) return HM_ERETRY;
    if (st->finished) {
        st->stats.backend_round_trips++;
        return read_expected(st);
    }
    return HM_OK;
}

/* Our watermark counted at local_wm, the others' as last heard (asked again when that is
 * older than WM_FRESH_NS; each commit asks too, so a busy instance rarely waits for it).
 * During the discovery period after we registered, nothing is decided (INT64_MIN): peers
 * started at the same time must get the chance to register before windows that could
 * hold their events are decided. */
static int redis_watermark(void *vst, int64_t local_wm, bool finished, int64_t *global) {
    redis_state *st = vst;
    if (finished) {
        st->finished = true;
        st->next_pub = INT64_MAX;
        if (wm_sync(st, INT64_MAX) != HM_OK) return HM_ERETRY;
        st->safe_pub = INT64_MAX;
        *global = st->others;
    } else {
        if (!st->others_ns || hm_mono_ns() - st->others_ns >= WM_FRESH_NS)
            if (wm_sync(st, st->safe_pub) != HM_OK) return HM_ERETRY;
        *global = st->others < local_wm ? st->others : local_wm;
        st->next_pub = local_wm;
    }
    if (hm_mono_ns() - st->joined_ns < st->join_ns) *global = INT64_MIN;
    return HM_OK;
}

static void redis_remap(void *vst, const hm_corr_set *ns, const int32_t *map, size_t n_old) {
    redis_state *st = vst;
    spec_discard(st);
    size_t k = 0;
    for (size_t i = 0; i < st->ng; i++) {
        rgroup g = st->g[i];
        int32_t nc = g.corr < n_old ? map[g.corr] : -1;
        if (nc < 0 || !g.pending) {
            free(g.key);
            continue;
        }
        g.corr = (uint32_t)nc;
        g.level = (uint8_t)ns->v[nc].level;
        g.h = gh(g.corr, g.key, g.klen);
        st->g[k++] = g;
    }
    st->ng = k;
    st->ndead = 0;
    size_t cap = 256;
    while (cap < 2 * k + 2) cap *= 2;
    idx_rebuild(st, cap);
}

static void redis_stats(void *vst, hm_corr_stats *s) {
    redis_state *st = vst;
    s->backend_round_trips = st->stats.backend_round_trips;
    s->backend_errors = st->stats.backend_errors;
    s->groups = st->ng - st->ndead;
}

static void redis_destroy(void *vst) {
    redis_state *st = vst;
    /* the replies of the last commit, if nobody waited for them yet */
    if (st->ctx && (st->nex || st->f_resend)) {
        begin_round(st);
        if (st->nex) {
            st->stats.backend_round_trips++;
            read_expected(st);
        }
    }
    spec_discard(st);
    burst_free(st, &st->spec);
    burst_free(st, &st->now);
    free(st->mm);
    corr_scratch_free(&st->scratch);
    hm_buf_free(&st->tmp);
    for (size_t i = 0; i < st->ng; i++) free(st->g[i].key);
    free(st->g);
    free(st->idx);
    free(st->ce);
    hm_buf_free(&st->cbuf);
    hm_buf_free(&st->out);
    kp_free(st);
    free(st->ex);
    av_free(&st->av);
    rs_disconnect(st);
    free(st);
}

void corr_redis_set_ruleset(const hm_ruleset *rs) {
    g_rs_for_tag = rs;
}

void *corr_redis_new(const hm_corr_opts *o, char *err, size_t errlen) {
    redis_state *st = hm_xcalloc(1, sizeof(*st));
    const char *u = o->state + 8; /* after redis:// */
    const char *at = strrchr(u, '@');
    if (at) {
        const char *colon = memchr(u, ':', (size_t)(at - u));
        if (colon) {
            snprintf(st->user, sizeof st->user, "%.*s", (int)(colon - u), u);
            snprintf(st->pass, sizeof st->pass, "%.*s", (int)(at - colon - 1), colon + 1);
        } else {
            snprintf(st->pass, sizeof st->pass, "%.*s", (int)(at - u), u);
        }
        u = at + 1;
    }
    const char *slash = strchr(u, '/');
    const char *pc = strchr(u, ':');
    st->port = 6379;
    if (pc && (!slash || pc < slash)) {
        snprintf(st->host, sizeof st->host, "%.*s", (int)(pc - u), u);
        st->port = atoi(pc + 1);
    } else {
        snprintf(st->host, sizeof st->host, "%.*s", (int)(slash ? slash - u : (ptrdiff_t)strlen(u)),
                 u);
    }
    if (slash) st->db = atoi(slash + 1);
    if (!st->host[0] || st->port <= 0 || st->port > 65535) {
        snprintf(err, errlen, "--state %s: expected redis://[user:pass@]host:port/db", o->state);
        free(st);
        return NULL;
    }
    snprintf(st->ns, sizeof st->ns, "%s", o->ns ? o->ns : "hm");
    if (o->instance) {
        snprintf(st->instance, sizeof st->instance, "%s", o->instance);
    } else {
        char hn[64] = "host";
        gethostname(hn, sizeof hn - 1);
        snprintf(st->instance, sizeof st->instance, "%s:%d", hn, (int)getpid());
    }
    int64_t lateness_ns = o->lateness_set || o->lateness_ns ? o->lateness_ns : 60000000000LL;
    st->lateness_ms = lateness_ns / 1000000;
    st->capi = 256;
    st->idx = hm_xcalloc(st->capi, sizeof(uint32_t));
    st->others = INT64_MAX;
    st->next_pub = st->safe_pub = st->sent_pub = INT64_MIN;
    st->join_ns = 2000000000LL;
    const char *jm = getenv("HM_CORR_JOIN_MS"); /* tests shorten the discovery period */
    if (jm && *jm) st->join_ns = atoll(jm) * 1000000LL;
    /* register at once (watermark "nothing yet") so that peers wait for our events */
    if (wm_sync(st, INT64_MIN) != HM_OK)
        hm_warn("correlate", "redis %s:%d not reachable yet; input waits until it is", st->host,
                st->port);
    return st;
}

const corr_backend_ops corr_redis_ops = {
    .name = "redis",
    .prepare = redis_prepare,
    .apply = redis_apply,
    .commit = redis_commit,
    .watermark = redis_watermark,
    .stats = redis_stats,
    .remap = redis_remap,
    .destroy = redis_destroy,
};
