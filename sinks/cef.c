/* cef.c - ArcSight CEF over syslog: `cef+udp://HOST:PORT`, `cef+tcp://HOST:PORT`
 * [?header=rfc3164|rfc5424&facility=local4&kinds=alert,incident&min_level=LEVEL
 *  &hostname=NAME&framing=lf|octet&timeout=5s].
 *
 * One syslog message per line: `<PRI>` + RFC 3164 (default) or RFC 5424 header +
 * `CEF:0|hallmonitor|hallmonitor|VERSION|<signature>|<name>|<severity>|<extension>`.
 *
 * UDP is best effort: one datagram per line; a send error (no listener, no route, a name
 * that does not resolve) drops that datagram, counts it and logs once per outage.
 * TCP frames messages with LF (or RFC 6587 octet counting), reconnects with backoff
 * (HM_ERETRY, input held) and resumes with the first line not fully written. Before each
 * batch a closed peer is detected (a read of 0 bytes) so the usual "collector restarted"
 * case loses nothing; bytes the kernel accepted before a peer died unnoticed can be lost, as
 * with any plain TCP syslog. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "json_lines.h"
#include "sink.h"
#include "timeutil.h"

#define UDP_MAX 65000

typedef struct cef_state {
    char *name;
    bool tcp, rfc5424, octet;
    char host[256], port[8];
    char hostname[256];
    int facility;
    unsigned kinds;
    int min_rank;
    int64_t timeout_ms;
    int fd;
    int64_t next_resolve_ns; /* UDP: do not retry a failed resolve before this */
    bool down;
    uint64_t failures;
    size_t resume_lines, resume_len;
    uint64_t resume_hash;
    hm_jl_doc doc;
    hm_buf out, msg;
    size_t *ends; /* TCP: end offset in out of each rendered line */
    size_t *idx;  /* TCP: line index of each rendered line */
    size_t ends_cap;
    uint64_t sent, dropped, filtered, truncated;
} cef_state;

static void cef_close(void *state);
static int tcp_connect(cef_state *st, char *why, size_t whylen);
static void note_down(cef_state *st, const char *why, bool held);

static const struct {
    const char *name;
    int code;
} FACILITIES[] = {{"kern", 0},      {"user", 1},    {"mail", 2},    {"daemon", 3},  {"auth", 4},
                  {"syslog", 5},    {"lpr", 6},     {"news", 7},    {"uucp", 8},    {"cron", 9},
                  {"authpriv", 10}, {"ftp", 11},    {"local0", 16}, {"local1", 17}, {"local2", 18},
                  {"local3", 19},   {"local4", 20}, {"local5", 21}, {"local6", 22}, {"local7", 23}};

static int cef_open(const char *uri, void **state, char *err, size_t errlen) {
    cef_state *st = hm_xcalloc(1, sizeof(*st));
    st->name = hm_uri_redact(uri);
    st->fd = -1;
    st->facility = 20; /* local4 */
    st->kinds = HM_JL_ALERT | HM_JL_INCIDENT;
    st->min_rank = -1;
    st->timeout_ms = 5000;
    hm_jl_init(&st->doc);
    const char *p;
    if (!strncmp(uri, "cef+udp://", 10)) {
        p = uri + 10;
    } else if (!strncmp(uri, "cef+tcp://", 10)) {
        p = uri + 10;
        st->tcp = true;
    } else {
        goto bad;
    }
    size_t hl = strcspn(p, "/?#");
    int port;
    if (!hm_parse_hostport(p, hl, st->host, sizeof st->host, &port)) goto bad;
    snprintf(st->port, sizeof st->port, "%d", port);
    if (gethostname(st->hostname, sizeof st->hostname - 1) != 0 || !st->hostname[0])
        snprintf(st->hostname, sizeof st->hostname, "-");
    const char *q = p + hl;
    if (*q == '/') q++;
    if (*q == '?') {
        const char *o = q + 1, *end = q + strlen(q);
        char key[64], val[256];
        while (hm_uriopt_next(&o, end, key, sizeof key, val, sizeof val)) {
            int64_t ns;
            if (!strcmp(key, "header") && (!strcmp(val, "rfc3164") || !strcmp(val, "rfc5424"))) {
                st->rfc5424 = !strcmp(val, "rfc5424");
            } else if (!strcmp(key, "facility")) {
                int f = -1;
                for (size_t i = 0; i < HM_ARRAY_LEN(FACILITIES); i++)
                    if (!strcmp(val, FACILITIES[i].name)) f = FACILITIES[i].code;
                if (f < 0 && val[0] >= '0' && val[0] <= '9') f = atoi(val);
                if (f < 0 || f > 23) goto badopt;
                st->facility = f;
            } else if (!strcmp(key, "kinds")) {
                if (!hm_jl_kind_mask(val, &st->kinds)) goto badopt;
            } else if (!strcmp(key, "min_level")) {
                st->min_rank = hm_jl_rank(hm_str_c(val));
                if (st->min_rank < 0) goto badopt;
            } else if (!strcmp(key, "hostname") && val[0] && !strpbrk(val, " \t\r\n")) {
                snprintf(st->hostname, sizeof st->hostname, "%s", val);
            } else if (!strcmp(key, "framing") && st->tcp &&
                       (!strcmp(val, "lf") || !strcmp(val, "octet"))) {
                st->octet = !strcmp(val, "octet");
            } else if (!strcmp(key, "timeout") && hm_parse_duration_ns(val, &ns) && ns >= 1000000) {
                st->timeout_ms = ns / 1000000;
            } else {
            badopt:
                snprintf(err, errlen,
                         "--output %s: unknown or bad option '%s' (header=rfc3164|rfc5424, "
                         "facility=local4, kinds=alert,incident, min_level=LEVEL, hostname=NAME, "
                         "framing=lf|octet (tcp), timeout=5s)",
                         st->name, key);
                cef_close(st);
                return HM_EUSAGE;
            }
        }
    } else if (*q) {
        goto bad;
    }
    if (st->tcp) { /* connect early to report a problem at start; not fatal: writes retry */
        char why[600];
        if (tcp_connect(st, why, sizeof why) != 0) note_down(st, why, true);
    }
    *state = st;
    return HM_OK;
bad:
    snprintf(err, errlen, "--output %s: expected cef+udp://HOST:PORT or cef+tcp://HOST:PORT",
             st->name);
    cef_close(st);
    return HM_EUSAGE;
}

/* ---- rendering ---- */

static void esc_header(hm_buf *b, hm_str s) {
    for (uint32_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (c == '\\' || c == '|') {
            hm_buf_putc(b, '\\');
            hm_buf_putc(b, c);
        } else if ((unsigned char)c < 0x20 || c == 0x7f) {
            hm_buf_putc(b, ' ');
        } else {
            hm_buf_putc(b, c);
        }
    }
}

static void esc_ext(hm_buf *b, hm_str s) {
    for (uint32_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (c == '\\' || c == '=') {
            hm_buf_putc(b, '\\');
            hm_buf_putc(b, c);
        } else if (c == '\n') {
            hm_buf_puts(b, "\\n");
        } else if (c == '\r') {
            hm_buf_puts(b, "\\r");
        } else if ((unsigned char)c < 0x20 || c == 0x7f) {
            hm_buf_putc(b, ' ');
        } else {
            hm_buf_putc(b, c);
        }
    }
}

static void ext(hm_buf *b, const char *key, hm_str v) {
    if (!v.len) return;
    if (b->len && b->p[b->len - 1] != '|') hm_buf_putc(b, ' ');
    hm_buf_puts(b, key);
    hm_buf_putc(b, '=');
    esc_ext(b, v);
}

static void ext_labeled(hm_buf *b, const char *key, const char *label, hm_str v) {
    if (!v.len) return;
    char lk[32];
    snprintf(lk, sizeof lk, "%sLabel", key);
    ext(b, key, v);
    ext(b, lk, hm_str_c(label));
}

static void ext_i64(hm_buf *b, const char *key, int64_t v) {
    char n[24];
    snprintf(n, sizeof n, "%lld", (long long)v);
    ext(b, key, hm_str_c(n));
}

static bool all_digits(hm_str s, size_t maxlen) {
    if (!s.len || s.len > maxlen) return false;
    for (uint32_t i = 0; i < s.len; i++)
        if (s.p[i] < '0' || s.p[i] > '9') return false;
    return true;
}

static void ext_ip(hm_buf *b, const char *v4key, const char *v6key, const char *v6label,
                   hm_str ip) {
    if (!ip.len) return;
    if (memchr(ip.p, ':', ip.len))
        ext_labeled(b, v6key, v6label, ip);
    else
        ext(b, v4key, ip);
}

static void ext_time(hm_buf *b, const char *key, hm_jl_doc *d, int t) {
    int64_t ms;
    if (hm_jl_time_ms(d, t, &ms)) ext_i64(b, key, ms);
}

/* values of a JSON array of strings joined by ',' (in the doc arena) */
static hm_str joined(hm_jl_doc *d, int arr) {
    if (!hm_jl_is(d, arr, JSMN_ARRAY)) return (hm_str){NULL, 0};
    hm_buf j = {0};
    int n = d->tok[arr].size, k = arr + 1;
    for (int i = 0; i < n && k < d->ntok; i++) {
        if (i) hm_buf_putc(&j, ',');
        hm_str v = hm_jl_str(d, k);
        hm_buf_put(&j, v.p, v.len);
        k = hm_jl_skip(d, k);
    }
    char *c = hm_jl_dup(d, j.p ? j.p : "", j.len);
    hm_str r = hm_str_n(c, j.len);
    hm_buf_free(&j);
    return r;
}

static void event_fields(hm_buf *b, hm_jl_doc *d) {
    ext_ip(b, "src", "c6a2", "Source IPv6 Address", hm_jl_field(d, "src_ip"));
    ext_ip(b, "dst", "c6a3", "Destination IPv6 Address", hm_jl_field(d, "dst_ip"));
    hm_str spt = hm_jl_field(d, "src_port"), dpt = hm_jl_field(d, "dst_port");
    if (all_digits(spt, 5)) ext(b, "spt", spt);
    if (all_digits(dpt, 5)) ext(b, "dpt", dpt);
    ext(b, "proto", hm_jl_field(d, "proto"));
    ext(b, "suser", hm_jl_field(d, "user"));
    ext(b, "duser", hm_jl_field(d, "target_user"));
    ext(b, "dvchost", hm_jl_field(d, "host"));
    ext(b, "act", hm_jl_field(d, "action"));
    ext(b, "outcome", hm_jl_field(d, "outcome"));
    ext(b, "reason", hm_jl_field(d, "reason"));
    ext(b, "cat", hm_jl_field(d, "category"));
    ext(b, "request", hm_jl_field(d, "url"));
    ext(b, "requestMethod", hm_jl_field(d, "http_method"));
    ext(b, "smac", hm_jl_field(d, "src_mac"));
    ext(b, "dmac", hm_jl_field(d, "dst_mac"));
    hm_str bin = hm_jl_field(d, "bytes_in"), bout = hm_jl_field(d, "bytes_out");
    if (all_digits(bin, 18)) ext(b, "in", bin);
    if (all_digits(bout, 18)) ext(b, "out", bout);
}

static int cef_severity(int rank) {
    static const int map[] = {1, 3, 5, 8, 10};
    return rank >= 0 && rank <= 4 ? map[rank] : 5;
}

static int syslog_severity(int rank) {
    static const int map[] = {6, 5, 4, 3, 2};
    return rank >= 0 && rank <= 4 ? map[rank] : 5;
}

/* renders one CEF syslog message for the parsed line into b (no framing) */
static void render(cef_state *st, hm_buf *b) {
    hm_jl_doc *d = &st->doc;
    int rank = hm_jl_line_rank(d);
    hm_str sig, name;
    int severity = cef_severity(rank);
    if (d->kind == HM_JL_ALERT) {
        sig = hm_jl_str_at(d, 0, "rule.id");
        name = hm_jl_str_at(d, 0, "rule.title");
        if (!name.len) name = sig;
    } else if (d->kind == HM_JL_INCIDENT) {
        sig = HM_STR_LIT("incident");
        int ent = hm_jl_get(d, 0, "entity");
        hm_str es =
            hm_jl_is(d, ent, JSMN_OBJECT) ? hm_jl_str_at(d, ent, "value") : hm_jl_str(d, ent);
        hm_buf nb = {0};
        hm_buf_puts(&nb, "Incident");
        if (es.len) {
            hm_buf_puts(&nb, " on ");
            hm_buf_put(&nb, es.p, es.len);
        }
        char *c = hm_jl_dup(d, nb.p, nb.len);
        name = hm_str_n(c, nb.len);
        hm_buf_free(&nb);
        double score;
        if (rank < 0 && hm_jl_num(d, hm_jl_get(d, 0, "score"), &score))
            severity = score <= 0 ? 0 : score >= 100 ? 10 : (int)(score / 10.0 + 0.5);
    } else {
        hm_str ev = hm_jl_field(d, "event");
        sig = ev.len ? ev : hm_jl_str_at(d, 0, "kind");
        name = sig;
    }
    /* syslog header */
    int pri = st->facility * 8 + syslog_severity(rank);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    char tbuf[64];
    if (st->rfc5424) {
        gmtime_r(&ts.tv_sec, &tm);
        strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%S", &tm);
        hm_buf_printf(b, "<%d>1 %s.%03ldZ %s hallmonitor %d ", pri, tbuf, ts.tv_nsec / 1000000,
                      st->hostname, (int)getpid());
        hm_str k = hm_jl_str_at(d, 0, "kind");
        if (k.len && k.len <= 32 && !memchr(k.p, ' ', k.len))
            hm_buf_put(b, k.p, k.len);
        else
            hm_buf_putc(b, '-');
        hm_buf_puts(b, " - ");
    } else {
        localtime_r(&ts.tv_sec, &tm);
        strftime(tbuf, sizeof tbuf, "%b %e %H:%M:%S", &tm);
        hm_buf_printf(b, "<%d>%s %s hallmonitor[%d]: ", pri, tbuf, st->hostname, (int)getpid());
    }
    /* CEF header */
    hm_buf_puts(b, "CEF:0|hallmonitor|hallmonitor|" HM_VERSION "|");
    esc_header(b, sig);
    hm_buf_putc(b, '|');
    esc_header(b, name);
    hm_buf_printf(b, "|%d|", severity);
    /* extension */
    hm_buf idb = {0};
    hm_jl_identity(d, &idb, false);
    hm_str id = hm_str_n(hm_jl_dup(d, idb.p ? idb.p : "", idb.len), idb.len);
    hm_buf_free(&idb);
    if (d->kind == HM_JL_ALERT) {
        ext_time(b, "rt", d, hm_jl_get(d, 0, "time"));
        ext(b, "externalId", id);
        event_fields(b, d);
        hm_str msg = hm_jl_field(d, "message");
        ext(b, "msg", msg.len ? msg : name);
        int ev = hm_jl_get(d, 0, "event_ids");
        if (hm_jl_is(d, ev, JSMN_ARRAY)) ext_i64(b, "cnt", d->tok[ev].size);
        ext_labeled(b, "cs1", "ruleTags", joined(d, hm_jl_get(d, 0, "rule.tags")));
        ext_labeled(b, "cs2", "eventIds", joined(d, ev));
        int g = hm_jl_get(d, 0, "group");
        if (!hm_jl_is_null(d, g)) ext_labeled(b, "cs3", "group", hm_jl_json(d, g));
        ext_labeled(b, "cs4", "ruleLevel", hm_jl_str_at(d, 0, "rule.level"));
    } else if (d->kind == HM_JL_INCIDENT) {
        int last = hm_jl_get(d, 0, "last_seen");
        ext_time(b, "rt", d, last);
        ext_time(b, "start", d, hm_jl_get(d, 0, "first_seen"));
        ext_time(b, "end", d, last);
        ext(b, "externalId", id);
        int64_t cnt;
        if (hm_jl_i64(d, hm_jl_get(d, 0, "alert_count"), &cnt)) ext_i64(b, "cnt", cnt);
        int ent = hm_jl_get(d, 0, "entity");
        if (hm_jl_is(d, ent, JSMN_OBJECT)) {
            hm_str ty = hm_jl_str_at(d, ent, "type"), va = hm_jl_str_at(d, ent, "value");
            if (hm_str_eq_c(ty, "user"))
                ext(b, "suser", va);
            else if (hm_str_eq_c(ty, "src_ip") || hm_str_eq_c(ty, "ip"))
                ext_ip(b, "src", "c6a2", "Source IPv6 Address", va);
            else if (hm_str_eq_c(ty, "host"))
                ext(b, "dvchost", va);
            ext_labeled(b, "cs5", "entity", hm_jl_json(d, ent));
        } else {
            ext_labeled(b, "cs5", "entity", hm_jl_str(d, ent));
        }
        ext(b, "msg", name);
        ext_labeled(b, "cs1", "rules", joined(d, hm_jl_get(d, 0, "rules")));
        ext_labeled(b, "cs3", "status", hm_jl_str_at(d, 0, "status"));
        ext_labeled(b, "cs4", "priority", hm_jl_str_at(d, 0, "priority"));
        bool sd;
        if (hm_jl_bool(d, hm_jl_get(d, 0, "student_data"), &sd))
            ext_labeled(b, "cs6", "studentData", sd ? HM_STR_LIT("true") : HM_STR_LIT("false"));
        ext_labeled(b, "cfp1", "score", hm_jl_str_at(d, 0, "score"));
    } else {
        ext_time(b, "rt", d, hm_jl_get(d, 0, "time"));
        ext(b, "externalId", id);
        event_fields(b, d);
        ext(b, "msg", hm_jl_field(d, "message"));
    }
}

/* ---- transport ---- */

static int resolve(cef_state *st, struct addrinfo **res, char *why, size_t whylen) {
    struct addrinfo hints = {0};
    hints.ai_socktype = st->tcp ? SOCK_STREAM : SOCK_DGRAM;
    hints.ai_family = AF_UNSPEC;
    int rc = getaddrinfo(st->host, st->port, &hints, res);
    if (rc != 0) {
        snprintf(why, whylen, "cannot resolve %s: %s", st->host, gai_strerror(rc));
        return -1;
    }
    return 0;
}

static int tcp_connect(cef_state *st, char *why, size_t whylen) {
    struct addrinfo *res = NULL;
    if (resolve(st, &res, why, whylen) != 0) return -1;
    int fd = -1, err = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
        if (errno == EINPROGRESS) {
            struct pollfd pf = {fd, POLLOUT, 0};
            int pr = poll(&pf, 1, (int)st->timeout_ms);
            socklen_t l = sizeof err;
            if (pr == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) == 0 && err == 0) break;
            if (pr == 0) err = ETIMEDOUT;
        } else {
            err = errno;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(why, whylen, "cannot connect to %s:%s: %s", st->host, st->port, strerror(err));
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    struct timeval tv = {st->timeout_ms / 1000, (st->timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    st->fd = fd;
    return 0;
}

static int udp_open(cef_state *st, char *why, size_t whylen) {
    struct addrinfo *res = NULL;
    if (resolve(st, &res, why, whylen) != 0) return -1;
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(why, whylen, "cannot open a UDP socket to %s:%s: %s", st->host, st->port,
                 strerror(errno));
        return -1;
    }
    st->fd = fd;
    return 0;
}

/* true when the peer closed the connection (or it is broken) */
static bool peer_gone(int fd) {
    struct pollfd pf = {fd, POLLIN | POLLRDHUP, 0};
    if (poll(&pf, 1, 0) <= 0) return false;
    if (pf.revents & (POLLERR | POLLHUP | POLLRDHUP)) return true;
    char tmp[512];
    ssize_t n = recv(fd, tmp, sizeof tmp, MSG_DONTWAIT); /* collectors send nothing; drain */
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static void note_down(cef_state *st, const char *why, bool held) {
    st->failures++;
    if (!st->down) {
        hm_warn("output", "%s: %s; %s", st->name, why,
                held ? "retrying with backoff, input is held"
                     : "datagrams are dropped until it works again (UDP is best effort)");
        st->down = true;
    }
}

static void note_up(cef_state *st) {
    if (st->down) {
        hm_info("output", "%s: sending again after %llu failed attempts", st->name,
                (unsigned long long)st->failures);
        st->down = false;
        st->failures = 0;
    }
}

static bool selected(cef_state *st) {
    return (st->doc.kind & st->kinds) &&
           (st->min_rank < 0 || hm_jl_line_rank(&st->doc) >= st->min_rank);
}

static int udp_write(cef_state *st, const char *data, size_t len) {
    char why[600];
    if (st->fd < 0) {
        int64_t now = hm_mono_ns();
        if (now < st->next_resolve_ns || udp_open(st, why, sizeof why) != 0) {
            if (now >= st->next_resolve_ns) {
                note_down(st, why, false);
                st->next_resolve_ns = now + 1000000000LL;
            }
            size_t n = hm_jl_count(data, len);
            st->dropped += n;
            return HM_OK;
        }
    }
    hm_jl_iter it;
    hm_str line;
    hm_jl_iter_init(&it, data, len);
    while (hm_jl_next(&it, &line)) {
        if (hm_jl_parse(&st->doc, line.p, line.len) != 0 || !selected(st)) {
            st->filtered++;
            continue;
        }
        st->msg.len = 0;
        render(st, &st->msg);
        size_t n = st->msg.len;
        if (n > UDP_MAX) {
            n = UDP_MAX;
            while (n > 0 && ((unsigned char)st->msg.p[n] & 0xC0) == 0x80) n--; /* UTF-8 */
            size_t bs = 0;
            while (bs < n && st->msg.p[n - 1 - bs] == '\\') bs++;
            if (bs % 2) n--; /* do not end inside an escape */
            st->truncated++;
        }
        ssize_t w = send(st->fd, st->msg.p, n, MSG_NOSIGNAL);
        if (w < 0) {
            snprintf(why, sizeof why, "send to %s:%s: %s", st->host, st->port, strerror(errno));
            note_down(st, why, false);
            st->dropped++;
        } else {
            st->sent++;
            note_up(st);
        }
    }
    return HM_OK;
}

static int tcp_write(cef_state *st, const char *data, size_t len) {
    char why[600];
    uint64_t h = hm_hash64(data, len, 0);
    size_t skip = 0;
    if (st->resume_lines && st->resume_len == len && st->resume_hash == h) skip = st->resume_lines;
    st->resume_lines = 0;
    if (st->fd >= 0 && peer_gone(st->fd)) {
        close(st->fd);
        st->fd = -1;
    }
    if (st->fd < 0 && tcp_connect(st, why, sizeof why) != 0) {
        note_down(st, why, true);
        st->resume_lines = skip, st->resume_len = len, st->resume_hash = h;
        return HM_ERETRY;
    }
    /* render every selected line into one buffer, remembering where each ends */
    st->out.len = 0;
    size_t n = 0;
    hm_jl_iter it;
    hm_str line;
    hm_jl_iter_init(&it, data, len);
    while (hm_jl_next(&it, &line)) {
        if (it.index < skip) continue;
        if (hm_jl_parse(&st->doc, line.p, line.len) != 0 || !selected(st)) {
            st->filtered++;
            continue;
        }
        st->msg.len = 0;
        render(st, &st->msg);
        if (st->octet) hm_buf_printf(&st->out, "%zu ", st->msg.len);
        hm_buf_put(&st->out, st->msg.p, st->msg.len);
        if (!st->octet) hm_buf_putc(&st->out, '\n');
        if (n == st->ends_cap) {
            st->ends_cap = st->ends_cap ? st->ends_cap * 2 : 256;
            st->ends = hm_xrealloc(st->ends, st->ends_cap * sizeof(size_t));
            st->idx = hm_xrealloc(st->idx, st->ends_cap * sizeof(size_t));
        }
        st->ends[n] = st->out.len;
        st->idx[n] = it.index;
        n++;
    }
    size_t done = 0;
    while (done < st->out.len) {
        ssize_t w = send(st->fd, st->out.p + done, st->out.len - done, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            snprintf(why, sizeof why, "send to %s:%s: %s", st->host, st->port,
                     errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : strerror(errno));
            close(st->fd);
            st->fd = -1;
            /* resume with the first line not completely written */
            size_t i = 0;
            while (i < n && st->ends[i] <= done) i++;
            st->sent += i;
            st->resume_lines = i < n ? st->idx[i] : 0, st->resume_len = len, st->resume_hash = h;
            note_down(st, why, true);
            return HM_ERETRY;
        }
        done += (size_t)w;
    }
    st->sent += n;
    note_up(st);
    return HM_OK;
}

static int cef_write(void *state, const char *data, size_t len) {
    cef_state *st = state;
    return st->tcp ? tcp_write(st, data, len) : udp_write(st, data, len);
}

static int cef_flush(void *state) {
    HM_UNUSED(state);
    return HM_OK;
}

static void cef_close(void *state) {
    cef_state *st = state;
    if (st->sent || st->dropped)
        hm_info("output", "%s: %llu messages sent, %llu dropped, %llu truncated", st->name,
                (unsigned long long)st->sent, (unsigned long long)st->dropped,
                (unsigned long long)st->truncated);
    if (st->fd >= 0) close(st->fd);
    hm_jl_free(&st->doc);
    hm_buf_free(&st->out);
    hm_buf_free(&st->msg);
    free(st->ends);
    free(st->idx);
    free(st->name);
    free(st);
}

const hm_sink_ops hm_sink_cef_udp = {
    .abi = HM_SINK_ABI,
    .scheme = "cef+udp",
    .description = "ArcSight CEF over syslog/UDP (best effort)",
    .open = cef_open,
    .write = cef_write,
    .flush = cef_flush,
    .close = cef_close,
};

const hm_sink_ops hm_sink_cef_tcp = {
    .abi = HM_SINK_ABI,
    .scheme = "cef+tcp",
    .description = "ArcSight CEF over syslog/TCP (LF or octet framing, reconnects)",
    .open = cef_open,
    .write = cef_write,
    .flush = cef_flush,
    .close = cef_close,
};
