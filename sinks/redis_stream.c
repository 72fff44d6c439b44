/* redis_stream.c - `redis://[user:pass@]HOST:PORT/STREAM[?maxlen=N&dedupe=on|off&...]`.
 *
 * Each line becomes one stream entry `kind <kind> id <identity> json <line>`, pipelined per
 * write() call (append every command, then read every reply; 512 commands per round trip).
 *
 * Exactly-once entries on retry: with dedupe on (the default) each entry is added by a small
 * Lua script that skips the XADD when a marker key `hm:dedupe:{STREAM}:<sha256 of the
 * line identity>` exists and sets that marker (TTL dedupe_ttl, default 24h) after the XADD.
 * A script runs atomically, so a batch redelivered after a failure mid-pipeline (connection
 * lost before the replies were read) adds nothing twice; replies already confirmed are not
 * even resent (the sink resumes after the confirmed prefix of the buffer). With dedupe=off
 * plain XADDs are used and only the unconfirmed tail of a failed pipeline may repeat.
 *
 * Connection failures (also at start) are not fatal: the context is freed and the write
 * returns HM_ERETRY; the engine holds input and calls again with backoff (100 ms .. 5 s),
 * and each call reconnects once. A bad password or a key of the wrong type is fatal. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "json_lines.h"
#include "sink.h"
#include "timeutil.h"

#define PIPE_CHUNK 512
#define MAX_ARGS   12

static const char LUA_ADD[] =
    "if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end\n"
    "if ARGV[1] ~= '0' then\n"
    "  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'kind', ARGV[3], 'id', ARGV[4], "
    "'json', ARGV[5])\n"
    "else\n"
    "  redis.call('XADD', KEYS[1], '*', 'kind', ARGV[3], 'id', ARGV[4], 'json', ARGV[5])\n"
    "end\n"
    "redis.call('SET', KEYS[2], '1', 'EX', ARGV[2])\n"
    "return 1\n";

/* argument offsets are kept as numbers while args grows, turned into pointers at send */
typedef struct argref {
    size_t off, len;
} argref;

typedef struct redis_state {
    char *name; /* URI with the password masked */
    char host[256];
    int port, db;
    char *user, *pass, *stream;
    long long maxlen, ttl_s;
    bool dedupe;
    unsigned kinds;
    struct timeval conn_tv, cmd_tv;
    redisContext *c;
    char sha[48];
    bool down; /* a failure was logged; log the recovery */
    uint64_t failed_attempts;
    /* resume after the confirmed prefix of a buffer that failed part way */
    size_t resume_lines, resume_len;
    uint64_t resume_hash;
    hm_jl_doc doc;
    hm_buf args;     /* argument bytes of the pipeline chunk */
    size_t *line_of; /* line index of each command in the chunk */
    struct argref (*refs)[MAX_ARGS];
    int *argc;
    uint64_t added, duplicates, skipped, reconnects;
} redis_state;

static void redis_close(void *state);

static bool fatal_error_reply(const char *s) {
    return !strncmp(s, "WRONGTYPE", 9) || !strncmp(s, "NOPERM", 6) || strstr(s, "syntax error") ||
           strstr(s, "unknown command") || strstr(s, "wrong number of arguments");
}

static void drop_conn(redis_state *st) {
    if (st->c) redisFree(st->c);
    st->c = NULL;
    st->sha[0] = 0;
}

/* note a transient failure: log the first one of a run of failures */
static int transient(redis_state *st, const char *what, const char *detail) {
    st->failed_attempts++;
    if (!st->down) {
        hm_warn("output", "%s: %s: %s; retrying with backoff, input is held", st->name, what,
                detail ? detail : "?");
        st->down = true;
    }
    return HM_ERETRY;
}

static redisReply *cmd(redis_state *st, int argc, const char **argv, const size_t *lens) {
    return redisCommandArgv(st->c, argc, argv, lens);
}

/* the connection failed during setup: drop it, transient */
static int lost(redis_state *st) {
    char detail[640];
    snprintf(detail, sizeof detail, "%s:%d: %s", st->host, st->port,
             st->c && st->c->errstr[0] ? st->c->errstr : "connection lost");
    drop_conn(st);
    return transient(st, "connect", detail);
}

/* Connects, authenticates, selects the db, loads the script. HM_OK, HM_ERETRY (transient;
 * logged once) or HM_EUSAGE (authentication or configuration; err set). */
static int do_connect(redis_state *st, char *err, size_t errlen) {
    if (st->c) return HM_OK;
    redisContext *c = redisConnectWithTimeout(st->host, st->port, st->conn_tv);
    if (!c || c->err) {
        char detail[640];
        snprintf(detail, sizeof detail, "cannot connect to %s:%d: %s", st->host, st->port,
                 c ? c->errstr : "out of memory");
        if (c) redisFree(c);
        return transient(st, "connect", detail);
    }
    st->c = c;
    redisSetTimeout(c, st->cmd_tv);
    redisEnableKeepAlive(c);
    redisReply *r;
    if (st->pass) {
        const char *av[3] = {"AUTH", st->user ? st->user : st->pass, st->pass};
        size_t al[3] = {4, strlen(av[1]), strlen(st->pass)};
        r = cmd(st, st->user ? 3 : 2, av, al);
        if (!r) goto io_error;
        if (r->type == REDIS_REPLY_ERROR) {
            snprintf(err, errlen, "--output %s: authentication failed: %s", st->name, r->str);
            freeReplyObject(r);
            drop_conn(st);
            return HM_EUSAGE;
        }
        freeReplyObject(r);
    }
    if (st->db) {
        char dbs[16];
        snprintf(dbs, sizeof dbs, "%d", st->db);
        const char *av[2] = {"SELECT", dbs};
        size_t al[2] = {6, strlen(dbs)};
        r = cmd(st, 2, av, al);
        if (!r) goto io_error;
        if (r->type == REDIS_REPLY_ERROR) {
            snprintf(err, errlen, "--output %s: SELECT %d: %s", st->name, st->db, r->str);
            freeReplyObject(r);
            drop_conn(st);
            return HM_EUSAGE;
        }
        freeReplyObject(r);
    }
    {
        const char *av[2] = {"TYPE", st->stream};
        size_t al[2] = {4, strlen(st->stream)};
        r = cmd(st, 2, av, al);
        if (!r) goto io_error;
        if (r->type == REDIS_REPLY_ERROR) {
            char detail[640];
            snprintf(detail, sizeof detail, "TYPE: %s", r->str);
            freeReplyObject(r);
            if (!strncmp(detail + 6, "NOAUTH", 6) || !strncmp(detail + 6, "WRONGPASS", 9)) {
                snprintf(err, errlen, "--output %s: %s (give the password in the URI)", st->name,
                         detail);
                drop_conn(st);
                return HM_EUSAGE;
            }
            drop_conn(st);
            return transient(st, "setup", detail);
        }
        if (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "stream") && strcmp(r->str, "none")) {
            snprintf(err, errlen, "--output %s: key '%s' exists and is a %s, not a stream",
                     st->name, st->stream, r->str);
            freeReplyObject(r);
            drop_conn(st);
            return HM_EUSAGE;
        }
        freeReplyObject(r);
    }
    if (st->dedupe) {
        const char *av[3] = {"SCRIPT", "LOAD", LUA_ADD};
        size_t al[3] = {6, 4, sizeof(LUA_ADD) - 1};
        r = cmd(st, 3, av, al);
        if (!r) goto io_error;
        if (r->type != REDIS_REPLY_STRING || r->len >= (int)sizeof st->sha) {
            char detail[640];
            snprintf(detail, sizeof detail, "SCRIPT LOAD: %s",
                     r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
            freeReplyObject(r);
            drop_conn(st);
            return transient(st, "setup", detail);
        }
        memcpy(st->sha, r->str, (size_t)r->len);
        st->sha[r->len] = 0;
        freeReplyObject(r);
    }
    if (st->down) {
        hm_info("output", "%s: connected again after %llu failed attempts", st->name,
                (unsigned long long)st->failed_attempts);
        st->reconnects++;
    }
    st->down = false;
    st->failed_attempts = 0;
    return HM_OK;
io_error:
    return lost(st);
}

static int redis_open(const char *uri, void **state, char *err, size_t errlen) {
    redis_state *st = hm_xcalloc(1, sizeof(*st));
    st->name = hm_uri_redact(uri);
    st->dedupe = true;
    st->ttl_s = 86400;
    st->kinds = HM_JL_ALERT | HM_JL_INCIDENT | HM_JL_EVENT | HM_JL_OTHER;
    st->conn_tv = (struct timeval){2, 0};
    st->cmd_tv = (struct timeval){5, 0};
    hm_jl_init(&st->doc);
    const char *p = uri + strlen("redis:");
    if (strncmp(p, "//", 2) != 0) goto bad;
    p += 2;
    const char *auth_end = p + strcspn(p, "/?#");
    const char *at = NULL;
    for (const char *q = p; q < auth_end; q++)
        if (*q == '@') at = q;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        char tmp[512];
        if (colon) {
            if (colon > p) {
                if (!hm_pct_decode(p, (size_t)(colon - p), tmp, sizeof tmp)) goto bad;
                st->user = hm_xstrdup(tmp);
            }
            if (!hm_pct_decode(colon + 1, (size_t)(at - colon - 1), tmp, sizeof tmp)) goto bad;
            st->pass = hm_xstrdup(tmp);
        } else {
            /* redis://PASSWORD@host, as redis-cli -u accepts */
            if (!hm_pct_decode(p, (size_t)(at - p), tmp, sizeof tmp)) goto bad;
            st->pass = hm_xstrdup(tmp);
        }
        p = at + 1;
    }
    if (!hm_parse_hostport(p, (size_t)(auth_end - p), st->host, sizeof st->host, &st->port))
        goto bad;
    if (*auth_end != '/' || !auth_end[1] || auth_end[1] == '?') goto bad;
    const char *sp = auth_end + 1, *se = sp + strcspn(sp, "?#");
    char stream[512];
    if (!hm_pct_decode(sp, (size_t)(se - sp), stream, sizeof stream) || !stream[0]) goto bad;
    st->stream = hm_xstrdup(stream);
    if (*se == '?') {
        const char *o = se + 1, *end = se + strlen(se);
        char key[64], val[512];
        while (hm_uriopt_next(&o, end, key, sizeof key, val, sizeof val)) {
            int64_t ns;
            bool b;
            char *endp;
            if (!strcmp(key, "maxlen")) {
                st->maxlen = strtoll(val, &endp, 10);
                if (*endp || st->maxlen < 0 || !val[0]) goto badopt;
            } else if (!strcmp(key, "dedupe") && hm_parse_bool(val, &b)) {
                st->dedupe = b;
            } else if (!strcmp(key, "dedupe_ttl") && hm_parse_duration_ns(val, &ns) &&
                       ns >= 1000000000LL) {
                st->ttl_s = ns / 1000000000LL;
            } else if (!strcmp(key, "timeout") && hm_parse_duration_ns(val, &ns) && ns > 0) {
                st->cmd_tv = (struct timeval){ns / 1000000000LL, (ns % 1000000000LL) / 1000};
            } else if (!strcmp(key, "connect_timeout") && hm_parse_duration_ns(val, &ns) &&
                       ns > 0) {
                st->conn_tv = (struct timeval){ns / 1000000000LL, (ns % 1000000000LL) / 1000};
            } else if (!strcmp(key, "db")) {
                st->db = (int)strtol(val, &endp, 10);
                if (*endp || !val[0] || st->db < 0) goto badopt;
            } else if (!strcmp(key, "kinds")) {
                if (!hm_jl_kind_mask(val, &st->kinds)) goto badopt;
            } else if (!strcmp(key, "password")) {
                free(st->pass);
                st->pass = hm_secret_resolve(val, st->name, err, errlen);
                if (!st->pass) {
                    redis_close(st);
                    return HM_EUSAGE;
                }
            } else {
            badopt:
                snprintf(err, errlen,
                         "--output %s: unknown or bad option '%s' (maxlen=N, dedupe=on|off, "
                         "dedupe_ttl=24h, timeout=5s, connect_timeout=2s, db=N, "
                         "kinds=alert,incident,event, password=env:NAME|file:PATH)",
                         st->name, key);
                redis_close(st);
                return HM_EUSAGE;
            }
        }
    }
    int rc = do_connect(st, err, errlen);
    if (rc == HM_EUSAGE) {
        redis_close(st);
        return rc;
    }
    /* not reachable now: not fatal, writes retry (the warning was logged once) */
    *state = st;
    return HM_OK;
bad:
    snprintf(err, errlen,
             "--output %s: expected redis://[USER:PASSWORD@]HOST:PORT/STREAM[?maxlen=N]", st->name);
    redis_close(st);
    return HM_EUSAGE;
}

static void put_arg(hm_buf *b, argref *r, const char *p, size_t n) {
    r->off = b->len;
    r->len = n;
    hm_buf_put(b, p, n);
}

static int redis_write(void *state, const char *data, size_t len) {
    redis_state *st = state;
    char err[512] = "";
    uint64_t h = hm_hash64(data, len, 0);
    size_t skip = 0;
    if (st->resume_lines && st->resume_len == len && st->resume_hash == h) skip = st->resume_lines;
    st->resume_lines = 0;
    if (!st->c) {
        int rc = do_connect(st, err, sizeof err);
        if (rc == HM_EUSAGE) { /* e.g. the password changed under us: loud, but hold input */
            hm_error("output", "%s", err);
            st->failed_attempts++;
            st->down = true;
            rc = HM_ERETRY;
        }
        if (rc != HM_OK) {
            st->resume_lines = skip, st->resume_len = len, st->resume_hash = h;
            return rc;
        }
    }
    if (!st->line_of) {
        st->line_of = hm_xmalloc(PIPE_CHUNK * sizeof(size_t));
        st->refs = hm_xmalloc(PIPE_CHUNK * sizeof(*st->refs));
        st->argc = hm_xmalloc(PIPE_CHUNK * sizeof(int));
    }
    argref(*refs)[MAX_ARGS] = st->refs;
    int *argc = st->argc;
    char maxlen[24], ttl[24];
    snprintf(maxlen, sizeof maxlen, "%lld", st->maxlen);
    snprintf(ttl, sizeof ttl, "%lld", st->ttl_s);
    hm_jl_iter it;
    hm_str line;
    hm_jl_iter_init(&it, data, len);
    bool more = true;
    size_t confirmed = skip; /* lines before this index are done */
    while (more) {
        /* build one chunk of commands */
        size_t ncmd = 0;
        st->args.len = 0;
        size_t last_line = confirmed;
        while (ncmd < PIPE_CHUNK) {
            if (!hm_jl_next(&it, &line)) {
                more = false;
                break;
            }
            last_line = it.index + 1;
            if (it.index < skip) continue;
            if (hm_jl_parse(&st->doc, line.p, line.len) != 0) {
                st->skipped++;
                continue;
            }
            if (!(st->doc.kind & st->kinds)) {
                st->skipped++;
                continue;
            }
            hm_str kind = hm_jl_str_at(&st->doc, 0, "kind");
            if (!kind.len) kind = HM_STR_LIT("unknown");
            size_t id_off = st->args.len;
            hm_jl_identity(&st->doc, &st->args, false);
            size_t id_len = st->args.len - id_off;
            argref *r = refs[ncmd];
            int n = 0;
            if (st->dedupe) {
                size_t v_off = st->args.len;
                hm_jl_identity(&st->doc, &st->args, true);
                char hex[65];
                hm_sha256_hex(st->args.p + v_off, st->args.len - v_off, hex);
                st->args.len = v_off;
                put_arg(&st->args, &r[n++], "EVALSHA", 7);
                put_arg(&st->args, &r[n++], st->sha, strlen(st->sha));
                put_arg(&st->args, &r[n++], "2", 1);
                put_arg(&st->args, &r[n++], st->stream, strlen(st->stream));
                r[n].off = st->args.len;
                hm_buf_printf(&st->args, "hm:dedupe:{%s}:%.32s", st->stream, hex);
                r[n].len = st->args.len - r[n].off;
                n++;
                put_arg(&st->args, &r[n++], maxlen, strlen(maxlen));
                put_arg(&st->args, &r[n++], ttl, strlen(ttl));
            } else {
                put_arg(&st->args, &r[n++], "XADD", 4);
                put_arg(&st->args, &r[n++], st->stream, strlen(st->stream));
                if (st->maxlen > 0) {
                    put_arg(&st->args, &r[n++], "MAXLEN", 6);
                    put_arg(&st->args, &r[n++], "~", 1);
                    put_arg(&st->args, &r[n++], maxlen, strlen(maxlen));
                }
                put_arg(&st->args, &r[n++], "*", 1);
                put_arg(&st->args, &r[n++], "kind", 4);
            }
            put_arg(&st->args, &r[n++], kind.p, kind.len);
            if (!st->dedupe) put_arg(&st->args, &r[n++], "id", 2);
            r[n++] = (argref){id_off, id_len};
            if (!st->dedupe) put_arg(&st->args, &r[n++], "json", 4);
            put_arg(&st->args, &r[n++], line.p, line.len);
            argc[ncmd] = n;
            st->line_of[ncmd] = it.index;
            ncmd++;
        }
        /* send the chunk */
        for (size_t i = 0; i < ncmd; i++) {
            const char *av[MAX_ARGS];
            size_t al[MAX_ARGS];
            for (int j = 0; j < argc[i]; j++) {
                av[j] = st->args.p + refs[i][j].off;
                al[j] = refs[i][j].len;
            }
            redisAppendCommandArgv(st->c, argc[i], av, al);
        }
        /* read every reply; the first failure decides */
        bool failed = false, fatal = false, io = false;
        char detail[640] = "";
        for (size_t i = 0; i < ncmd; i++) {
            redisReply *r = NULL;
            if (redisGetReply(st->c, (void **)&r) != REDIS_OK || !r) {
                if (!failed) {
                    snprintf(detail, sizeof detail, "%s",
                             st->c->errstr[0] ? st->c->errstr : "connection lost");
                    confirmed = st->line_of[i];
                }
                failed = io = true;
                break;
            }
            if (r->type == REDIS_REPLY_ERROR) {
                if (!failed) {
                    snprintf(detail, sizeof detail, "%s", r->str);
                    confirmed = st->line_of[i];
                    fatal = fatal_error_reply(r->str);
                    if (!strncmp(r->str, "NOSCRIPT", 8)) io = true; /* reload at reconnect */
                }
                failed = true;
            } else if (!failed) {
                if (st->dedupe && r->type == REDIS_REPLY_INTEGER && r->integer == 0)
                    st->duplicates++;
                else
                    st->added++;
            }
            freeReplyObject(r);
        }
        if (failed) {
            if (io) drop_conn(st);
            if (fatal) {
                hm_error("output", "%s: %s", st->name, detail);
                return HM_EIO;
            }
            st->resume_lines = confirmed, st->resume_len = len, st->resume_hash = h;
            return transient(st, "write", detail);
        }
        confirmed = last_line;
    }
    return HM_OK;
}

static int redis_flush(void *state) {
    HM_UNUSED(state);
    return HM_OK;
}

static void redis_close(void *state) {
    redis_state *st = state;
    if (st->added || st->duplicates || st->reconnects)
        hm_info("output", "%s: %llu entries added, %llu duplicates skipped, %llu reconnects",
                st->name, (unsigned long long)st->added, (unsigned long long)st->duplicates,
                (unsigned long long)st->reconnects);
    drop_conn(st);
    hm_jl_free(&st->doc);
    hm_buf_free(&st->args);
    free(st->line_of);
    free(st->refs);
    free(st->argc);
    free(st->name);
    free(st->user);
    free(st->pass);
    free(st->stream);
    free(st);
}

const hm_sink_ops hm_sink_redis = {
    .abi = HM_SINK_ABI,
    .scheme = "redis",
    .description = "Redis stream (XADD, pipelined, deduplicated on retry)",
    .open = redis_open,
    .write = redis_write,
    .flush = redis_flush,
    .close = redis_close,
};
