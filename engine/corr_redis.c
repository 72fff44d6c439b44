/* corr_redis.c - correlation state in Redis, shared by every engine instance.
 *
 * Per group (correlation + group-by values) three keys share one hash tag, so a group
 * lives in one Redis Cluster slot: a sorted set of members (score = event time in ms,
 * member = event id), a hash of member values, and a hash holding the evaluation cursor.
 * The window algorithm of corr_eval.c runs server-side in Lua (EVAL_LUA below is a port;
 * keep them in step), so two instances evaluating the same group never double-count.
 *
 * Two phases make a crash harmless: EVAL inserts members (ZADD NX: a redelivered event is
 * never counted twice) and computes firings without moving the cursor; COMMIT moves the
 * cursor (compare-and-set) only after the alerts are written to the outputs. A crash in
 * between re-evaluates the same windows on restart and fires the same alert ids again.
 *
 * Every call for a batch is pipelined: one round trip for the shared watermark, one per
 * correlation level, one for the commit (which also publishes our watermark: only once a
 * batch's members are all in Redis may peers decide windows up to it). A group without
 * new members is evaluated again only when its next window can be decided. hiredis 0.14
 * API (Debian 12). */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "corr_int.h"

/* Byte order for ids and values, like the C side's memcmp and the sorted set's own order:
 * Lua's '<' on strings uses strcoll, which follows redis-server's locale. */
#define LUA_SCMP                                                                                   \
    "local function scmp(a, b)\n"                                                                  \
    "  if a == b then return 0 end\n"                                                              \
    "  local la, lb = #a, #b\n"                                                                    \
    "  for k = 1, (la < lb and la or lb) do\n"                                                     \
    "    local x, y = string.byte(a, k), string.byte(b, k)\n"                                      \
    "    if x ~= y then if x < y then return -1 else return 1 end end\n"                           \
    "  end\n"                                                                                      \
    "  if la < lb then return -1 else return 1 end\n"                                              \
    "end\n"

static const char EVAL_LUA[] = LUA_SCMP
    "local function cmp(ta, ia, tb, ib)\n"
    "  if ta ~= tb then if ta < tb then return -1 else return 1 end end\n"
    "  return scmp(ia, ib)\n"
    "end\n"
    "local wm = ARGV[1] == 'inf' and math.huge or tonumber(ARGV[1])\n"
    "local span, typ, close = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4] == '1'\n"
    "local nrefs, minr, pct, ttl = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), "
    "tonumber(ARGV[8])\n"
    "local ncond = tonumber(ARGV[9])\n"
    "local conds, a = {}, 10\n"
    "for i = 1, ncond do conds[i] = {tonumber(ARGV[a]), tonumber(ARGV[a + 1])}; a = a + 2 end\n"
    "local nmem = tonumber(ARGV[a]); a = a + 1\n"
    "for i = 1, nmem do\n"
    "  if redis.call('ZADD', KEYS[1], 'NX', ARGV[a], ARGV[a + 1]) == 1 then\n"
    "    redis.call('HSET', KEYS[2], ARGV[a + 1], ARGV[a + 2] .. '\\31' .. ARGV[a + 3] .. '\\31' "
    ".. ARGV[a + 4])\n"
    "  end\n"
    "  a = a + 5\n"
    "end\n"
    "local raw = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')\n"
    "if #raw == 0 then return {0} end\n"
    "redis.call('PEXPIRE', KEYS[1], ttl); redis.call('PEXPIRE', KEYS[2], ttl); "
    "redis.call('PEXPIRE', KEYS[3], ttl)\n"
    "local names = {}\n"
    "for i = 1, #raw, 2 do names[#names + 1] = raw[i] end\n"
    "local vals = {}\n"
    "for s = 1, #names, 1000 do\n" /* unpack is bounded by the Lua stack (~8000) */
    "  local part = redis.call('HMGET', KEYS[2], unpack(names, s, math.min(s + 999, #names)))\n"
    "  for k = 1, #part do vals[#vals + 1] = part[k] end\n"
    "end\n"
    "local m = {}\n"
    "for i = 1, #names do\n"
    "  local v = vals[i] or '0\\31' .. '0\\31'\n"
    "  local s1 = string.find(v, '\\31', 1, true)\n"
    "  local s2 = string.find(v, '\\31', s1 + 1, true)\n"
    "  m[i] = {ts = tonumber(raw[2 * i]), id = names[i], ref = tonumber(string.sub(v, 1, s1 - "
    "1)),\n"
    "          hv = string.sub(v, s1 + 1, s2 - 1) == '1', val = string.sub(v, s2 + 1)}\n"
    "end\n"
    "local st = redis.call('HMGET', KEYS[3], 'dts', 'did', 'rts', 'rid')\n"
    "local dts, did, rts, rid = tonumber(st[1]), st[2], tonumber(st[3]), st[4]\n"
    "local n = #m\n"
    "local function cond(v)\n"
    "  if typ == 2 or typ == 3 then return v >= minr end\n"
    "  for i = 1, ncond do\n"
    "    local op, t = conds[i][1], conds[i][2]\n"
    "    local ok\n"
    "    if op == 0 then ok = v > t elseif op == 1 then ok = v >= t elseif op == 2 then ok = v < "
    "t\n"
    "    elseif op == 3 then ok = v <= t elseif op == 4 then ok = v == t else ok = v ~= t end\n"
    "    if not ok then return false end\n"
    "  end\n"
    "  return true\n"
    "end\n"
    "local function agg(lo, hi)\n"
    "  if typ == 0 then return hi - lo + 1, {} end\n"
    "  if typ == 1 then\n"
    "    local seen, d = {}, {}\n"
    "    for i = lo, hi do if m[i].hv and not seen[m[i].val] then seen[m[i].val] = true; d[#d + 1] "
    "= m[i].val end end\n"
    "    table.sort(d, function(x, y) return scmp(x, y) < 0 end)\n"
    "    return #d, d\n"
    "  end\n"
    "  if typ == 2 then\n"
    "    local seen, c = {}, 0\n"
    "    for i = lo, hi do if not seen[m[i].ref] then seen[m[i].ref] = true; c = c + 1 end end\n"
    "    return c, {}\n"
    "  end\n"
    "  if typ == 3 then\n"
    "    local k = 0\n"
    "    for i = lo, hi do if k < nrefs and m[i].ref == k then k = k + 1 end end\n"
    "    return k, {}\n"
    "  end\n"
    "  local nums = {}\n"
    "  for i = lo, hi do if m[i].hv then local x = tonumber(m[i].val); if x and x == x then "
    "nums[#nums + 1] = x end end end\n"
    "  if typ == 4 then local s = 0; for i = 1, #nums do s = s + nums[i] end; return s, {} end\n"
    "  if #nums == 0 then return nil, {} end\n"
    "  if typ == 5 then local s = 0; for i = 1, #nums do s = s + nums[i] end; return s / #nums, {} "
    "end\n"
    "  table.sort(nums)\n"
    "  local rank = pct / 100 * (#nums - 1)\n"
    "  local r0 = math.floor(rank)\n"
    "  local r1 = r0 + 1 < #nums and r0 + 1 or r0\n"
    "  return nums[r0 + 1] + (nums[r1 + 1] - nums[r0 + 1]) * (rank - r0), {}\n"
    "end\n"
    "local out = {}\n"
    "local nf = 0\n"
    "local function fire(lo, hi, ts, v, d)\n"
    "  nf = nf + 1\n"
    "  out[#out + 1] = tostring(ts); out[#out + 1] = string.format('%.17g', v); out[#out + 1] = "
    "tostring(hi - lo + 1)\n"
    "  for i = lo, hi do out[#out + 1] = tostring(m[i].ts); out[#out + 1] = m[i].id; out[#out + 1] "
    "= tostring(m[i].ref) end\n"
    "  out[#out + 1] = tostring(#d)\n"
    "  for i = 1, #d do out[#out + 1] = d[i] end\n"
    "end\n"
    "local first = 1\n"
    "if rts then while first <= n and cmp(m[first].ts, m[first].id, rts, rid) <= 0 do first = "
    "first + 1 end end\n"
    "if close then\n"
    "  while first <= n do\n"
    "    local ct = m[first].ts + span\n"
    "    if wm < ct then break end\n"
    "    local hi = first\n"
    "    while hi + 1 <= n and m[hi + 1].ts < ct do hi = hi + 1 end\n"
    "    local v, d = agg(first, hi)\n"
    "    if v and cond(v) then fire(first, hi, ct, v, d) end\n"
    "    rts, rid, dts, did = m[hi].ts, m[hi].id, m[hi].ts, m[hi].id\n"
    "    first = hi + 1\n"
    "  end\n"
    "else\n"
    "  local i = 1\n"
    "  if dts then while i <= n and cmp(m[i].ts, m[i].id, dts, did) <= 0 do i = i + 1 end end\n"
    "  local lo = first\n"
    "  while i <= n and m[i].ts <= wm do\n"
    "    if i >= first then\n"
    "      while lo < i and m[lo].ts <= m[i].ts - span do lo = lo + 1 end\n"
    "      if lo < first then lo = first end\n"
    "      local v, d = agg(lo, i)\n"
    "      if v and cond(v) then\n"
    "        fire(lo, i, m[i].ts, v, d)\n"
    "        rts, rid = m[i].ts, m[i].id\n"
    "        first = i + 1\n"
    "        lo = first\n"
    "      end\n"
    "      dts, did = m[i].ts, m[i].id\n"
    "    end\n"
    "    i = i + 1\n"
    "  end\n"
    "end\n"
    /* pending: something is left to decide; due: the watermark at which it can be */
    "local pending, due = 0, ''\n"
    "if close then\n"
    "  if first <= n then pending = 1; due = string.format('%d', m[first].ts + span) end\n"
    "else\n"
    "  for j = 1, n do\n"
    "    if not dts or cmp(m[j].ts, m[j].id, dts, did) > 0 then pending = 1; due = "
    "string.format('%d', m[j].ts); break end\n"
    "  end\n"
    "end\n"
    "local res = {pending, tostring(st[1] or ''), st[2] or '', tostring(st[3] or ''), st[4] or "
    "'',\n"
    "             dts and tostring(dts) or '', did or '', rts and tostring(rts) or '', rid or '', "
    "nf, due}\n"
    "for i = 1, #out do res[#res + 1] = out[i] end\n"
    "return res\n";

/* COMMIT: KEYS m v s; ARGV old dts did rts rid, new dts did rts rid, wm, span, ttl.
 * Moves the cursor only if nobody moved it since EVAL, then expires old members. The
 * cursor outlives its members (until its TTL) unless they all left the window by time: a
 * replayed event that was already decided (e.g. reset by a firing) must find it, or it
 * would be counted again. */
static const char COMMIT_LUA[] = LUA_SCMP
    "local st = redis.call('HMGET', KEYS[3], 'dts', 'did', 'rts', 'rid')\n"
    "if (st[1] or '') ~= ARGV[1] or (st[2] or '') ~= ARGV[2] or (st[3] or '') ~= ARGV[3] or (st[4] "
    "or '') ~= ARGV[4] then\n"
    "  return 0\n"
    "end\n"
    "if ARGV[5] ~= '' then redis.call('HSET', KEYS[3], 'dts', ARGV[5], 'did', ARGV[6]) end\n"
    "if ARGV[7] ~= '' then redis.call('HSET', KEYS[3], 'rts', ARGV[7], 'rid', ARGV[8]) end\n"
    "redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[11]))\n"
    "local wm = ARGV[9] == 'inf' and math.huge or tonumber(ARGV[9])\n"
    "local span = tonumber(ARGV[10])\n"
    "local dts, did, rts, rid = tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7]), ARGV[8]\n"
    "if not dts then return 1 end\n"
    "local raw = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')\n"
    "local drop = {}\n"
    "for i = 1, #raw, 2 do\n"
    "  local id, ts = raw[i], tonumber(raw[i + 1])\n"
    "  local le_done = ts < dts or (ts == dts and scmp(id, did) <= 0)\n"
    "  if not le_done then break end\n"
    "  local le_reset = rts and (ts < rts or (ts == rts and scmp(id, rid) <= 0))\n"
    "  if le_reset or wm == math.huge or ts <= wm - span then drop[#drop + 1] = id else break end\n"
    "end\n"
    "for s = 1, #drop, 1000 do\n"
    "  local e = math.min(s + 999, #drop)\n"
    "  redis.call('ZREM', KEYS[1], unpack(drop, s, e)); redis.call('HDEL', KEYS[2], unpack(drop, "
    "s, e))\n"
    "end\n"
    /* every member gone and older than any future window: a replayed member could not
     * be counted wrongly, the cursor can go (otherwise it stays until its TTL) */
    "if wm ~= math.huge and dts <= wm - span and redis.call('ZCARD', KEYS[1]) == 0 then "
    "redis.call('DEL', KEYS[3]) end\n"
    "return 1\n";

/* WATERMARK: KEYS wm-hash time-hash; ARGV instance, published wm, own wm. Publishes this
 * instance's watermark (only ever one whose events are all in Redis) and returns the
 * minimum over live instances (heard from in the last 30 s), counting this instance at its
 * own current watermark, as a string ("inf" when all finished). Instances not heard from
 * for an hour are forgotten. */
static const char WM_LUA[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
    "redis.call('HSET', KEYS[2], ARGV[1], now)\n"
    "local all = redis.call('HGETALL', KEYS[1])\n"
    "local min = math.huge\n"
    "for i = 1, #all, 2 do\n"
    "  local w = nil\n"
    "  local age = now - tonumber(redis.call('HGET', KEYS[2], all[i]) or '0')\n"
    "  if all[i] == ARGV[1] then w = ARGV[3]\n"
    "  elseif age < 30000 then w = all[i + 1]\n"
    "  elseif age > 3600000 then redis.call('HDEL', KEYS[1], all[i]); redis.call('HDEL', KEYS[2], "
    "all[i]) end\n"
    "  if w then\n"
    "    w = w == 'inf' and math.huge or tonumber(w)\n"
    "    if w < min then min = w end\n"
    "  end\n"
    "end\n"
    "if min == math.huge then return 'inf' end\n"
    "return string.format('%d', min)\n";

typedef struct rgroup {
    uint32_t corr;
    uint8_t level;
    char *key; /* group string */
    uint32_t klen;
    char tag[160]; /* "<ns>:{<rule id>|<hash>}" */
    bool used;
    uint32_t slot1; /* during an apply: 1 + its index in the call's group list, 0 = none */
    bool due_known; /* nothing to decide before the watermark reaches due (last EVAL said) */
    int64_t due;
} rgroup;

typedef struct pending_commit {
    char tag[160];
    char *old[4], *nw[4];
    int64_t span_ms, ttl_ms;
} pending_commit;

typedef struct redis_state {
    char host[256];
    int port, db;
    char user[128], pass[256];
    char ns[64];
    char instance[128];
    redisContext *ctx;
    char sha_eval[48], sha_commit[48], sha_wm[48];
    /* groups with members not yet evaluated (this instance inserted them) */
    rgroup *tab;
    size_t cap, n;
    pending_commit *commits;
    size_t n_commits, cap_commits;
    int64_t last_wm;
    hm_corr_stats stats;
    int64_t lateness_ms;
    bool warned;
    /* shared watermark: pub_wm is published (all our events up to it are in Redis);
     * next_pub becomes pub_wm once the current push is committed */
    int64_t pub_wm, next_pub;
    int64_t joined_ns; /* when we first registered (monotonic), 0 = not yet */
    int64_t join_ns;   /* discovery period: decide nothing until peers had time to register */
} redis_state;

static void rs_disconnect(redis_state *st) {
    if (st->ctx) redisFree(st->ctx);
    st->ctx = NULL;
}

static redisReply *cmd(redis_state *st, int argc, const char **argv, const size_t *lens) {
    redisReply *r = redisCommandArgv(st->ctx, argc, argv, lens);
    st->stats.backend_round_trips++;
    return r;
}

static bool load_script(redis_state *st, const char *src, char *sha) {
    const char *argv[] = {"SCRIPT", "LOAD", src};
    size_t lens[] = {6, 4, strlen(src)};
    redisReply *r = cmd(st, 3, argv, lens);
    bool ok = r && r->type == REDIS_REPLY_STRING;
    if (ok)
        snprintf(sha, 48, "%s", r->str);
    else
        hm_error("correlate", "redis: cannot load script: %s",
                 r && r->str ? r->str : st->ctx->errstr);
    if (r) freeReplyObject(r);
    return ok;
}

static int rs_connect(redis_state *st) {
    if (st->ctx) return HM_OK;
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
    if (st->pass[0]) {
        const char *argv[3] = {"AUTH", st->user[0] ? st->user : st->pass, st->pass};
        size_t lens[3] = {4, strlen(argv[1]), strlen(st->pass)};
        redisReply *r = cmd(st, st->user[0] ? 3 : 2, argv, lens);
        bool ok = r && r->type != REDIS_REPLY_ERROR;
        if (!ok)
            hm_error("correlate", "redis %s:%d: AUTH failed: %s", st->host, st->port,
                     r && r->str ? r->str : "no reply");
        if (r) freeReplyObject(r);
        if (!ok) {
            rs_disconnect(st);
            return HM_ERETRY;
        }
    }
    if (st->db) {
        char db[16];
        snprintf(db, sizeof db, "%d", st->db);
        const char *argv[2] = {"SELECT", db};
        size_t lens[2] = {6, strlen(db)};
        redisReply *r = cmd(st, 2, argv, lens);
        if (r) freeReplyObject(r);
    }
    if (!load_script(st, EVAL_LUA, st->sha_eval) || !load_script(st, COMMIT_LUA, st->sha_commit) ||
        !load_script(st, WM_LUA, st->sha_wm)) {
        rs_disconnect(st);
        return HM_ERETRY;
    }
    if (st->warned) hm_info("correlate", "redis %s:%d: connected", st->host, st->port);
    st->warned = false;
    return HM_OK;
}

static void wm_fmt(char *b, size_t n, int64_t v) {
    if (v == INT64_MAX)
        snprintf(b, n, "inf");
    else
        snprintf(b, n, "%lld", (long long)(v == INT64_MIN ? -1 : v));
}

/* Runs the watermark script: publish pub, count ourselves at self. */
static int wm_call(redis_state *st, int64_t pub, int64_t self, int64_t *global) {
    char key1[96], key2[96], pb[32], sb[32];
    snprintf(key1, sizeof key1, "%s:{wm}", st->ns);
    snprintf(key2, sizeof key2, "%s:{wm}:seen", st->ns);
    wm_fmt(pb, sizeof pb, pub);
    wm_fmt(sb, sizeof sb, self);
    const char *argv[] = {"EVALSHA", st->sha_wm, "2", key1, key2, st->instance, pb, sb};
    size_t lens[8];
    for (int i = 0; i < 8; i++) lens[i] = strlen(argv[i]);
    redisReply *r = cmd(st, 8, argv, lens);
    if (!r || r->type == REDIS_REPLY_ERROR) {
        if (!r || strstr(r->str, "NOSCRIPT")) rs_disconnect(st);
        if (r) freeReplyObject(r);
        st->stats.backend_errors++;
        return HM_ERETRY;
    }
    if (r->type == REDIS_REPLY_STRING && !strcmp(r->str, "inf"))
        *global = INT64_MAX;
    else if (r->type == REDIS_REPLY_STRING)
        *global = atoll(r->str);
    else
        *global = self;
    if (*global == -1) *global = INT64_MIN;
    freeReplyObject(r);
    if (!st->joined_ns) st->joined_ns = hm_mono_ns();
    return HM_OK;
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
    st->lateness_ms = (o->lateness_ns ? o->lateness_ns : 60000000000LL) / 1000000;
    st->cap = 256;
    st->tab = hm_xcalloc(st->cap, sizeof(rgroup));
    st->last_wm = INT64_MIN;
    st->pub_wm = st->next_pub = INT64_MIN;
    st->join_ns = 2000000000LL;
    const char *jm = getenv("HM_CORR_JOIN_MS"); /* tests shorten the discovery period */
    if (jm && *jm) st->join_ns = atoll(jm) * 1000000LL;
    int64_t g;
    /* register at once (watermark "nothing yet") so that peers wait for our events */
    if (rs_connect(st) != HM_OK || wm_call(st, INT64_MIN, INT64_MIN, &g) != HM_OK)
        hm_warn("correlate", "redis %s:%d not reachable yet; input waits until it is", st->host,
                st->port);
    return st;
}

/* ---- local set of groups with pending members ---- */

static uint64_t gh(uint32_t corr, const char *k, size_t n) {
    return hm_hash64(k, n, 0x51ed27 + corr);
}

static rgroup *rg_find(redis_state *st, uint32_t corr, hm_str key, bool create,
                       const hm_corr_set *set, const hm_ruleset *unused) {
    (void)unused;
    if (create && (st->n + 1) * 2 > st->cap) {
        rgroup *old = st->tab;
        size_t oc = st->cap;
        st->cap *= 2;
        st->tab = hm_xcalloc(st->cap, sizeof(rgroup));
        for (size_t i = 0; i < oc; i++)
            if (old[i].used) {
                size_t j = gh(old[i].corr, old[i].key, old[i].klen) & (st->cap - 1);
                while (st->tab[j].used) j = (j + 1) & (st->cap - 1);
                st->tab[j] = old[i];
            }
        free(old);
    }
    size_t j = gh(corr, key.p, key.len) & (st->cap - 1);
    while (st->tab[j].used) {
        rgroup *g = &st->tab[j];
        if (g->corr == corr && g->klen == key.len && !memcmp(g->key, key.p, key.len)) return g;
        j = (j + 1) & (st->cap - 1);
    }
    if (!create) return NULL;
    rgroup *g = &st->tab[j];
    g->used = true;
    g->corr = corr;
    g->level = (uint8_t)set->v[corr].level;
    g->key = hm_xstrndup(key.p ? key.p : "", key.len);
    g->klen = key.len;
    (void)set;
    st->n++;
    return g;
}

static void rg_remove(redis_state *st, rgroup *g) {
    size_t j = (size_t)(g - st->tab);
    free(g->key);
    memset(g, 0, sizeof(*g));
    st->n--;
    size_t k = (j + 1) & (st->cap - 1);
    while (st->tab[k].used) {
        rgroup h = st->tab[k];
        memset(&st->tab[k], 0, sizeof(rgroup));
        size_t t = gh(h.corr, h.key, h.klen) & (st->cap - 1);
        while (st->tab[t].used) t = (t + 1) & (st->cap - 1);
        st->tab[t] = h;
        k = (k + 1) & (st->cap - 1);
    }
}

/* ---- argv builder ---- */
typedef struct argvb {
    char **v;
    size_t *l;
    size_t n, cap;
} argvb;

static void av_add(argvb *a, const char *p, size_t n) {
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 64;
        a->v = hm_xrealloc(a->v, a->cap * sizeof(char *));
        a->l = hm_xrealloc(a->l, a->cap * sizeof(size_t));
    }
    a->v[a->n] = hm_xstrndup(p, n);
    a->l[a->n] = n;
    a->n++;
}
static void av_adds(argvb *a, const char *s) {
    av_add(a, s, strlen(s));
}
static void av_addi(argvb *a, long long v) {
    char b[32];
    snprintf(b, sizeof b, "%lld", v);
    av_adds(a, b);
}
static void av_free(argvb *a) {
    for (size_t i = 0; i < a->n; i++) free(a->v[i]);
    free(a->v);
    free(a->l);
    memset(a, 0, sizeof(*a));
}

static void group_tag(redis_state *st, const hm_corr_set *set, const hm_ruleset *rs, rgroup *g) {
    (void)set;
    const hm_rule_meta *m = hm_ruleset_rule(rs, set->v[g->corr].rule);
    snprintf(g->tag, sizeof g->tag, "%.32s:{%.40s|%016llx}", st->ns, m->id,
             (unsigned long long)hm_hash64(g->key, g->klen, 3));
}

typedef struct grp_hits {
    rgroup *g;
    const hm_corr_hit **h;
    size_t n, cap;
    bool finished; /* no pending members left after this call */
} grp_hits;

static const hm_ruleset *g_rs_for_tag; /* set per apply (single writer thread) */

/* Keys of a group live this long (wall clock) after their last use. */
static int64_t group_ttl(const redis_state *st, const hm_corr *c) {
    return c->span_ns / 1000000 * 2 + st->lateness_ms * 2 + 3600000;
}

static void commits_free(redis_state *st);

static int redis_apply(void *vst, const hm_corr_set *set, uint32_t level, const hm_corr_hit *hits,
                       size_t n, int64_t wm, corr_fire_fn fire, void *ud) {
    redis_state *st = vst;
    if (rs_connect(st) != HM_OK) return HM_ERETRY;
    const hm_ruleset *rs = g_rs_for_tag;
    /* collect groups: those with new hits and those still pending. Create them all first:
     * creating may grow (move) the table, so pointers are taken only afterwards. */
    for (size_t i = 0; i < n; i++) rg_find(st, hits[i].corr, hits[i].group, true, set, rs);
    grp_hits *gl = hm_xcalloc(st->n + 1, sizeof(*gl));
    size_t ng = 0;
    for (size_t i = 0; i < n; i++) {
        rgroup *g = rg_find(st, hits[i].corr, hits[i].group, false, set, rs);
        if (!g->tag[0]) group_tag(st, set, rs, g);
        if (!g->slot1) {
            gl[ng] = (grp_hits){g, NULL, 0, 0, false};
            g->slot1 = (uint32_t)++ng;
        }
        grp_hits *e = &gl[g->slot1 - 1];
        if (e->n == e->cap) {
            e->cap = e->cap ? e->cap * 2 : 8;
            e->h = hm_xrealloc(e->h, e->cap * sizeof(*e->h));
        }
        e->h[e->n++] = &hits[i];
    }
    for (size_t j = 0; j < st->cap; j++) {
        rgroup *g = &st->tab[j];
        if (!g->used || g->level != level || g->slot1) continue;
        if (g->due_known && wm < g->due) continue; /* no new members, nothing due yet */
        gl[ng] = (grp_hits){g, NULL, 0, 0, false};
        g->slot1 = (uint32_t)++ng;
    }
    for (size_t k = 0; k < ng; k++) gl[k].g->slot1 = 0;
    char wmbuf[32];
    if (wm == INT64_MAX)
        snprintf(wmbuf, sizeof wmbuf, "inf");
    else
        snprintf(wmbuf, sizeof wmbuf, "%lld", (long long)(wm == INT64_MIN ? -1 : wm));
    /* pipeline one EVALSHA per group */
    for (size_t k = 0; k < ng; k++) {
        rgroup *g = gl[k].g;
        const hm_corr *c = &set->v[g->corr];
        bool per_ref = c->type == HM_CORR_TEMPORAL || c->type == HM_CORR_TEMPORAL_ORDERED;
        argvb a = {0};
        av_adds(&a, "EVALSHA");
        av_adds(&a, st->sha_eval);
        av_adds(&a, "3");
        char key[200];
        snprintf(key, sizeof key, "%s:m", g->tag);
        av_adds(&a, key);
        snprintf(key, sizeof key, "%s:v", g->tag);
        av_adds(&a, key);
        snprintf(key, sizeof key, "%s:s", g->tag);
        av_adds(&a, key);
        int64_t span = c->span_ns / 1000000;
        av_adds(&a, wmbuf);
        av_addi(&a, span);
        av_addi(&a, c->type);
        av_adds(&a, c->close_eval ? "1" : "0");
        av_addi(&a, (long long)c->n_refs);
        av_addi(&a, c->min_rules);
        char pb[32];
        snprintf(pb, sizeof pb, "%.17g", c->percentile);
        av_adds(&a, pb);
        av_addi(&a, group_ttl(st, c));
        av_addi(&a, c->n_cond);
        for (int q = 0; q < c->n_cond; q++) {
            av_addi(&a, c->cond[q].op);
            snprintf(pb, sizeof pb, "%.17g", c->cond[q].v);
            av_adds(&a, pb);
        }
        av_addi(&a, (long long)gl[k].n);
        for (size_t q = 0; q < gl[k].n; q++) {
            const hm_corr_hit *h = gl[k].h[q];
            int64_t ts = h->ts_ns / 1000000 - (h->ts_ns % 1000000 < 0);
            av_addi(&a, ts);
            if (per_ref) {
                char mem[600];
                int ml = snprintf(mem, sizeof mem, "%.*s\x1f%u", (int)h->event_id.len,
                                  h->event_id.p, h->ref);
                av_add(&a, mem, (size_t)ml < sizeof mem ? (size_t)ml : sizeof mem - 1);
            } else {
                av_add(&a, h->event_id.p, h->event_id.len);
            }
            av_addi(&a, h->ref);
            av_adds(&a, h->has_value ? "1" : "0");
            av_add(&a, h->value.p ? h->value.p : "", h->has_value ? h->value.len : 0);
        }
        redisAppendCommandArgv(st->ctx, (int)a.n, (const char **)a.v, a.l);
        av_free(&a);
    }
    if (ng) st->stats.backend_round_trips++;
    int rc = HM_OK;
    bool reload = false;
    for (size_t k = 0; k < ng; k++) {
        redisReply *r = NULL;
        if (redisGetReply(st->ctx, (void **)&r) != REDIS_OK || !r) {
            hm_warn("correlate", "redis %s:%d: %s", st->host, st->port, st->ctx->errstr);
            rs_disconnect(st);
            st->stats.backend_errors++;
            rc = HM_ERETRY;
            break;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            hm_warn("correlate", "redis script error: %s", r->str);
            if (strstr(r->str, "NOSCRIPT"))
                reload = true; /* reconnect (and reload) after the last reply */
            freeReplyObject(r);
            st->stats.backend_errors++;
            rc = HM_ERETRY;
            continue;
        }
        if (rc != HM_OK || r->type != REDIS_REPLY_ARRAY || r->elements < 1) {
            freeReplyObject(r);
            continue;
        }
        rgroup *g = gl[k].g;
        const hm_corr *c = &set->v[g->corr];
        bool pending = r->element[0]->integer == 1;
        g->due_known = false;
        if (r->elements >= 11) {
            const redisReply *dr = r->element[10];
            if (pending && dr->type == REDIS_REPLY_STRING && dr->len) {
                g->due = atoll(dr->str);
                g->due_known = true;
            }
            /* remember the cursor move for COMMIT */
            if (st->n_commits == st->cap_commits) {
                st->cap_commits = st->cap_commits ? st->cap_commits * 2 : 64;
                st->commits = hm_xrealloc(st->commits, st->cap_commits * sizeof(pending_commit));
            }
            pending_commit *pc = &st->commits[st->n_commits++];
            snprintf(pc->tag, sizeof pc->tag, "%s", g->tag);
            for (int q = 0; q < 4; q++) {
                pc->old[q] = hm_xstrndup(r->element[1 + q]->str ? r->element[1 + q]->str : "",
                                         r->element[1 + q]->len);
                pc->nw[q] = hm_xstrndup(r->element[5 + q]->str ? r->element[5 + q]->str : "",
                                        r->element[5 + q]->len);
            }
            pc->span_ms = c->span_ns / 1000000;
            pc->ttl_ms = group_ttl(st, c);
            long long nf = r->element[9]->integer;
            size_t e = 11;
            for (long long f = 0; f < nf && e + 3 <= r->elements; f++) {
                corr_fire fr = {.corr = g->corr, .group = (hm_str){g->key, g->klen}};
                fr.ts_ms = atoll(r->element[e]->str);
                fr.value = atof(r->element[e + 1]->str);
                size_t nev = (size_t)atoll(r->element[e + 2]->str);
                e += 3;
                fr.n_ev = nev;
                fr.ev_ts = hm_xcalloc(nev + 1, sizeof(int64_t));
                fr.ev_id = hm_xcalloc(nev + 1, sizeof(hm_str));
                fr.ev_ref = hm_xcalloc(nev + 1, sizeof(uint32_t));
                for (size_t q = 0; q < nev && e + 3 <= r->elements; q++) {
                    fr.ev_ts[q] = atoll(r->element[e]->str);
                    const redisReply *idr = r->element[e + 1];
                    size_t il = idr->len;
                    const char *sep = memchr(idr->str, 0x1f, il);
                    if ((c->type == HM_CORR_TEMPORAL || c->type == HM_CORR_TEMPORAL_ORDERED) && sep)
                        il = (size_t)(sep - idr->str);
                    fr.ev_id[q] = (hm_str){idr->str, (uint32_t)il};
                    fr.ev_ref[q] = (uint32_t)atoi(r->element[e + 2]->str);
                    e += 3;
                }
                size_t nd = e < r->elements ? (size_t)atoll(r->element[e]->str) : 0;
                e++;
                fr.distinct = hm_xcalloc(nd + 1, sizeof(hm_str));
                for (size_t q = 0; q < nd && e < r->elements; q++, e++)
                    fr.distinct[q] = (hm_str){r->element[e]->str, (uint32_t)r->element[e]->len};
                fr.n_distinct = nd;
                fire(ud, &fr);
                free(fr.ev_ts);
                free(fr.ev_id);
                free(fr.ev_ref);
                free(fr.distinct);
            }
        }
        gl[k].finished = !pending;
        freeReplyObject(r);
    }
    /* drop finished groups from the pending set (after the loop: removal moves entries) */
    if (rc == HM_OK) {
        typedef struct dk {
            uint32_t corr;
            char *key;
            uint32_t klen;
        } dk;
        dk *drop = hm_xcalloc(ng + 1, sizeof(dk));
        size_t nd = 0;
        for (size_t k = 0; k < ng; k++)
            if (gl[k].finished)
                drop[nd++] =
                    (dk){gl[k].g->corr, hm_xstrndup(gl[k].g->key, gl[k].g->klen), gl[k].g->klen};
        for (size_t k = 0; k < nd; k++) {
            rgroup *g =
                rg_find(st, drop[k].corr, (hm_str){drop[k].key, drop[k].klen}, false, set, rs);
            if (g) rg_remove(st, g);
            free(drop[k].key);
        }
        free(drop);
    }
    for (size_t k = 0; k < ng; k++) free(gl[k].h);
    free(gl);
    if (reload) rs_disconnect(st);
    /* the caller retries the whole push: cursor moves of this attempt must not be committed */
    if (rc != HM_OK)
        commits_free(st);
    else
        st->last_wm = wm;
    return rc;
}

static void commits_free(redis_state *st) {
    for (size_t i = 0; i < st->n_commits; i++)
        for (int q = 0; q < 4; q++) {
            free(st->commits[i].old[q]);
            free(st->commits[i].nw[q]);
        }
    st->n_commits = 0;
}

/* Called once the alerts of the last apply are written: move the cursors, then publish
 * the watermark of that push (its events are all in Redis now). One round trip. */
static int redis_commit(void *vst) {
    redis_state *st = vst;
    bool publish = st->next_pub != st->pub_wm;
    if (!st->n_commits && !publish) return HM_OK;
    if (rs_connect(st) != HM_OK) return HM_ERETRY;
    char wmbuf[32];
    wm_fmt(wmbuf, sizeof wmbuf, st->last_wm);
    for (size_t i = 0; i < st->n_commits; i++) {
        pending_commit *pc = &st->commits[i];
        argvb a = {0};
        av_adds(&a, "EVALSHA");
        av_adds(&a, st->sha_commit);
        av_adds(&a, "3");
        char key[200];
        snprintf(key, sizeof key, "%s:m", pc->tag);
        av_adds(&a, key);
        snprintf(key, sizeof key, "%s:v", pc->tag);
        av_adds(&a, key);
        snprintf(key, sizeof key, "%s:s", pc->tag);
        av_adds(&a, key);
        for (int q = 0; q < 4; q++) av_adds(&a, pc->old[q]);
        for (int q = 0; q < 4; q++) av_adds(&a, pc->nw[q]);
        av_adds(&a, wmbuf);
        av_addi(&a, pc->span_ms);
        av_addi(&a, pc->ttl_ms);
        redisAppendCommandArgv(st->ctx, (int)a.n, (const char **)a.v, a.l);
        av_free(&a);
    }
    if (publish) {
        char key1[96], key2[96], pb[32];
        snprintf(key1, sizeof key1, "%s:{wm}", st->ns);
        snprintf(key2, sizeof key2, "%s:{wm}:seen", st->ns);
        wm_fmt(pb, sizeof pb, st->next_pub);
        const char *argv[] = {"EVALSHA", st->sha_wm, "2", key1, key2, st->instance, pb, pb};
        size_t lens[8];
        for (int i = 0; i < 8; i++) lens[i] = strlen(argv[i]);
        redisAppendCommandArgv(st->ctx, 8, argv, lens);
    }
    st->stats.backend_round_trips++;
    int rc = HM_OK;
    bool reload = false;
    size_t nrep = st->n_commits + (publish ? 1 : 0);
    for (size_t i = 0; i < nrep; i++) {
        redisReply *r = NULL;
        if (redisGetReply(st->ctx, (void **)&r) != REDIS_OK || !r) {
            rs_disconnect(st);
            st->stats.backend_errors++;
            rc = HM_ERETRY;
            break;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            hm_warn("correlate", "redis commit error: %s", r->str);
            if (strstr(r->str, "NOSCRIPT")) reload = true;
            st->stats.backend_errors++;
            rc = HM_ERETRY;
        }
        freeReplyObject(r);
    }
    if (reload) rs_disconnect(st);
    /* A failed commit is retried as a whole: the compare-and-set makes a repeat harmless. */
    if (rc == HM_OK) {
        commits_free(st);
        st->pub_wm = st->next_pub;
    }
    return rc;
}

/* Publishes the last committed watermark (or "inf" when finished) and returns the minimum
 * over live instances, counting ourselves at local_wm. During the discovery period after
 * we registered, nothing is decided (INT64_MIN): peers started at the same time must get
 * the chance to register before windows that could hold their events are decided. */
static int redis_watermark(void *vst, int64_t local_wm, bool finished, int64_t *global) {
    redis_state *st = vst;
    if (rs_connect(st) != HM_OK) return HM_ERETRY;
    int64_t pub = finished ? INT64_MAX : st->pub_wm, self = finished ? INT64_MAX : local_wm;
    int rc = wm_call(st, pub, self, global);
    if (rc != HM_OK) return rc;
    if (finished)
        st->pub_wm = st->next_pub = INT64_MAX;
    else
        st->next_pub = local_wm;
    if (hm_mono_ns() - st->joined_ns < st->join_ns) *global = INT64_MIN;
    return HM_OK;
}

static void redis_remap(void *vst, const hm_corr_set *ns, const int32_t *map, size_t n_old) {
    redis_state *st = vst;
    rgroup *old = st->tab;
    size_t oc = st->cap;
    st->tab = hm_xcalloc(st->cap, sizeof(rgroup));
    st->n = 0;
    for (size_t i = 0; i < oc; i++) {
        rgroup *g = &old[i];
        if (!g->used) continue;
        int32_t nc = g->corr < n_old ? map[g->corr] : -1;
        if (nc < 0) {
            free(g->key);
            continue;
        }
        g->corr = (uint32_t)nc;
        g->level = (uint8_t)ns->v[nc].level;
        size_t j = gh(g->corr, g->key, g->klen) & (st->cap - 1);
        while (st->tab[j].used) j = (j + 1) & (st->cap - 1);
        st->tab[j] = *g;
        st->n++;
    }
    free(old);
}

static void redis_stats(void *vst, hm_corr_stats *s) {
    redis_state *st = vst;
    s->backend_round_trips = st->stats.backend_round_trips;
    s->backend_errors = st->stats.backend_errors;
    s->groups = st->n;
}

static void redis_destroy(void *vst) {
    redis_state *st = vst;
    commits_free(st);
    free(st->commits);
    for (size_t i = 0; i < st->cap; i++)
        if (st->tab[i].used) free(st->tab[i].key);
    free(st->tab);
    rs_disconnect(st);
    free(st);
}

void corr_redis_set_ruleset(const hm_ruleset *rs) {
    g_rs_for_tag = rs;
}

const corr_backend_ops corr_redis_ops = {
    .name = "redis",
    .apply = redis_apply,
    .commit = redis_commit,
    .watermark = redis_watermark,
    .stats = redis_stats,
    .remap = redis_remap,
    .destroy = redis_destroy,
};
