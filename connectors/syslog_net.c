/* syslog_net.c - shared parts of the syslog listeners: URI and options, binding, the
 * sender table, rate-limited logging, record emission and common stats. */
#include "syslog_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "timeutil.h"

static const char *const cause_names[SL_C_COUNT] = {
    [SL_C_BAD_FRAME] = "bad_frames",      [SL_C_INCOMPLETE] = "incomplete_frames",
    [SL_C_TRUNCATED] = "truncated",       [SL_C_REFUSED] = "refused",
    [SL_C_IDLE] = "idle_closed",          [SL_C_TLS] = "tls_failures",
    [SL_C_RESET] = "read_errors",         [SL_C_ACCEPT] = "accept_errors",
    [SL_C_SENDERS_FULL] = "senders_full", [SL_C_EMPTY] = "empty_datagrams",
    [SL_C_RECV] = "recv_errors",
};

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* %XX-decodes s[0..n) into a new string. */
static char *pct_decode(const char *s, size_t n) {
    char *o = hm_xmalloc(n + 1), *q = o;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            *q++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            *q++ = s[i];
        }
    }
    *q = 0;
    return o;
}

static bool key_allowed(const char *allowed, const char *k, size_t kl) {
    const char *p = allowed;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == kl && !memcmp(p, k, kl)) return true;
        if (!e) break;
        p = e + 1;
    }
    return false;
}

/* "64K", "8M", "1048576" -> bytes */
static bool parse_size(const char *s, size_t *out) {
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s) return false;
    if (*end == 'k' || *end == 'K')
        v <<= 10, end++;
    else if (*end == 'm' || *end == 'M')
        v <<= 20, end++;
    else if (*end == 'g' || *end == 'G')
        v <<= 30, end++;
    if (*end == 'i' || *end == 'B') end++;
    if (*end == 'B') end++;
    if (*end) return false;
    *out = (size_t)v;
    return true;
}

int sl_parse_uri(sl_common *c, const char *uri, sl_proto proto, const char *allowed, char *err,
                 size_t errlen) {
    static const char *const schemes[] = {"syslog+udp", "syslog+tcp", "syslog+tls"};
    static const char *const defports[] = {"514", "514", "6514"};
    c->proto = proto;
    c->scheme = schemes[proto];
    c->socktype = proto == SL_UDP ? SOCK_DGRAM : SOCK_STREAM;
    c->idle_ns = 300LL * 1000000000LL;
    c->max_conn = 1024;
    c->rcvbuf = 8u << 20;
    c->top = SL_TOP_DEFAULT;
    c->last_sender = -1;
    size_t sl = strlen(c->scheme);
    const char *p = uri;
    if (strncmp(p, c->scheme, sl) || p[sl] != ':') {
        snprintf(err, errlen, "%s: expected %s://HOST:PORT", uri, c->scheme);
        return HM_EUSAGE;
    }
    p += sl + 1;
    if (!strncmp(p, "//", 2)) p += 2;
    const char *auth_end = p + strcspn(p, "?");
    const char *q = *auth_end == '?' ? auth_end + 1 : NULL;
    size_t alen = (size_t)(auth_end - p);
    while (alen && p[alen - 1] == '/') alen--;
    if (memchr(p, '/', alen)) {
        snprintf(err, errlen, "%s: expected %s://HOST:PORT (no path)", uri, c->scheme);
        return HM_EUSAGE;
    }
    char host[256] = "", port[32] = "";
    if (alen && p[0] == '[') {
        const char *rb = memchr(p, ']', alen);
        if (!rb || (size_t)(rb - p - 1) >= sizeof host) {
            snprintf(err, errlen, "%s: bad IPv6 address (expected [ADDR]:PORT)", uri);
            return HM_EUSAGE;
        }
        memcpy(host, p + 1, (size_t)(rb - p - 1));
        host[rb - p - 1] = 0;
        const char *after = rb + 1;
        if (after < p + alen) {
            if (*after != ':' || (size_t)(p + alen - after - 1) >= sizeof port) {
                snprintf(err, errlen, "%s: expected [ADDR]:PORT", uri);
                return HM_EUSAGE;
            }
            memcpy(port, after + 1, (size_t)(p + alen - after - 1));
            port[p + alen - after - 1] = 0;
        }
    } else {
        const char *colon = NULL;
        for (size_t i = 0; i < alen; i++)
            if (p[i] == ':') colon = p + i;
        size_t hl = colon ? (size_t)(colon - p) : alen;
        if (hl >= sizeof host || (colon && (size_t)(p + alen - colon - 1) >= sizeof port)) {
            snprintf(err, errlen, "%s: host or port too long", uri);
            return HM_EUSAGE;
        }
        memcpy(host, p, hl);
        host[hl] = 0;
        if (colon) {
            memcpy(port, colon + 1, (size_t)(p + alen - colon - 1));
            port[p + alen - colon - 1] = 0;
        }
    }
    if (!port[0]) snprintf(port, sizeof port, "%s", defports[proto]);
    char *end;
    long pn = strtol(port, &end, 10);
    if (*end || pn < 0 || pn > 65535) {
        snprintf(err, errlen, "%s: bad port '%s' (expected 0..65535)", uri, port);
        return HM_EUSAGE;
    }
    /* listener origin: the URI without its query */
    size_t ll = sl + 3 + alen;
    c->label = hm_xmalloc(ll + 1);
    snprintf(c->label, ll + 1, "%s://%.*s", c->scheme, (int)alen, p);

    /* query options */
    while (q && *q) {
        const char *amp = q + strcspn(q, "&");
        const char *eq = memchr(q, '=', (size_t)(amp - q));
        size_t kl = eq ? (size_t)(eq - q) : (size_t)(amp - q);
        if (kl) {
            if (!key_allowed(allowed, q, kl)) {
                snprintf(err, errlen, "%s: unknown option '%.*s' (accepted: %s)", uri, (int)kl, q,
                         allowed);
                return HM_EUSAGE;
            }
            if (!eq) {
                snprintf(err, errlen, "%s: option '%.*s' needs a value (%.*s=...)", uri, (int)kl, q,
                         (int)kl, q);
                return HM_EUSAGE;
            }
            char *v = pct_decode(eq + 1, (size_t)(amp - eq - 1));
            bool ok = true;
            if (kl == 4 && !memcmp(q, "idle", 4)) {
                ok = hm_parse_duration_ns(v, &c->idle_ns) && c->idle_ns > 0;
                if (!ok)
                    snprintf(err, errlen, "%s: idle=%s: expected a duration like 300s", uri, v);
            } else if (kl == 8 && !memcmp(q, "max_conn", 8)) {
                long n = strtol(v, &end, 10);
                ok = !*end && *v && n >= 1 && n <= 1000000;
                if (ok)
                    c->max_conn = (size_t)n;
                else
                    snprintf(err, errlen, "%s: max_conn=%s: expected 1..1000000", uri, v);
            } else if (kl == 6 && !memcmp(q, "rcvbuf", 6)) {
                ok = parse_size(v, &c->rcvbuf) && c->rcvbuf >= 4096 && c->rcvbuf <= (1u << 30);
                if (!ok) snprintf(err, errlen, "%s: rcvbuf=%s: expected a size like 8M", uri, v);
            } else if (kl == 3 && !memcmp(q, "top", 3)) {
                long n = strtol(v, &end, 10);
                ok = !*end && *v && n >= 0 && n <= SL_MAX_SENDERS;
                if (ok)
                    c->top = (unsigned)n;
                else
                    snprintf(err, errlen, "%s: top=%s: expected 0..%d", uri, v, SL_MAX_SENDERS);
            } else if (kl == 4 && !memcmp(q, "cert", 4)) {
                free(c->cert);
                c->cert = v;
                v = NULL;
            } else if (kl == 3 && !memcmp(q, "key", 3)) {
                free(c->key);
                c->key = v;
                v = NULL;
            } else if (kl == 2 && !memcmp(q, "ca", 2)) {
                free(c->ca);
                c->ca = v;
                v = NULL;
            }
            free(v);
            if (!ok) return HM_EUSAGE;
        }
        q = *amp ? amp + 1 : NULL;
    }

    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = c->socktype;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    const char *h = host[0] && strcmp(host, "*") ? host : NULL;
    int gr = getaddrinfo(h, port, &hints, &res);
    if (gr != 0 || !res) {
        snprintf(err, errlen, "%s: cannot resolve '%s': %s", uri, host, gai_strerror(gr));
        if (res) freeaddrinfo(res);
        return HM_EUSAGE;
    }
    /* with no host, prefer the IPv6 wildcard (dual-stack) when there is one */
    struct addrinfo *pick = res;
    if (!h)
        for (struct addrinfo *a = res; a; a = a->ai_next)
            if (a->ai_family == AF_INET6) pick = a;
    memcpy(&c->addr, pick->ai_addr, pick->ai_addrlen);
    c->addrlen = pick->ai_addrlen;
    freeaddrinfo(res);
    sl_addr_text((struct sockaddr *)&c->addr, true, c->bind_text, sizeof c->bind_text);

    c->senders = hm_xcalloc(SL_MAX_SENDERS, sizeof(sl_sender));
    c->hmask = SL_MAX_SENDERS * 2 - 1;
    c->htab = hm_xmalloc((c->hmask + 1) * sizeof(int32_t));
    for (size_t i = 0; i <= c->hmask; i++) c->htab[i] = -1;
    c->last_tick_ns = hm_mono_ns();
    return HM_OK;
}

void sl_common_free(sl_common *c) {
    size_t n = atomic_load(&c->n_senders);
    if (c->senders)
        for (size_t i = 0; i < n; i++) free(c->senders[i].origin);
    free(c->senders);
    free(c->htab);
    free(c->label);
    free(c->cert);
    free(c->key);
    free(c->ca);
    memset(c, 0, sizeof *c);
}

int sl_bind(sl_common *c, char *err, size_t errlen) {
    int fd = socket(c->addr.ss_family, c->socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "%s: socket: %s", c->label, strerror(errno));
        return -1;
    }
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (c->addr.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, (struct sockaddr *)&c->addr, c->addrlen) != 0) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot bind %s: %s%s", c->label, c->bind_text, strerror(e),
                 e == EACCES       ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
                 : e == EADDRINUSE ? " (another process listens there)"
                                   : "");
        close(fd);
        return -1;
    }
    /* with port 0 the kernel picked one: show it */
    struct sockaddr_storage real;
    socklen_t rl = sizeof real;
    if (getsockname(fd, (struct sockaddr *)&real, &rl) == 0)
        sl_addr_text((struct sockaddr *)&real, true, c->bind_text, sizeof c->bind_text);
    return fd;
}

/* Normalizes an address into a key: family byte + raw bytes; v4-mapped v6 -> v4. */
static uint8_t addr_key(const struct sockaddr *sa, uint8_t key[17]) {
    if (sa->sa_family == AF_INET) {
        key[0] = 4;
        memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return 5;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            key[0] = 4;
            memcpy(key + 1, a->s6_addr + 12, 4);
            return 5;
        }
        key[0] = 6;
        memcpy(key + 1, a->s6_addr, 16);
        return 17;
    }
    key[0] = 0;
    return 1;
}

void sl_addr_text(const struct sockaddr *sa, bool with_port, char *out, size_t outlen) {
    uint8_t key[17];
    uint8_t kl = addr_key(sa, key);
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (kl == 5)
        inet_ntop(AF_INET, key + 1, ip, sizeof ip);
    else if (kl == 17)
        inet_ntop(AF_INET6, key + 1, ip, sizeof ip);
    if (sa->sa_family == AF_INET)
        port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
    else if (sa->sa_family == AF_INET6)
        port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    if (!with_port)
        snprintf(out, outlen, "%s", ip);
    else if (kl == 17)
        snprintf(out, outlen, "[%s]:%d", ip, port);
    else
        snprintf(out, outlen, "%s:%d", ip, port);
}

int sl_sender_for(sl_common *c, const struct sockaddr *sa) {
    uint8_t key[17];
    uint8_t kl = addr_key(sa, key);
    if (c->last_sender >= 0) {
        const sl_sender *s = &c->senders[c->last_sender];
        if (s->keylen == kl && !memcmp(s->key, key, kl)) return c->last_sender;
    }
    size_t h = (size_t)hm_hash64(key, kl, 0) & c->hmask;
    for (;;) {
        int32_t i = c->htab[h];
        if (i < 0) break;
        if (c->senders[i].keylen == kl && !memcmp(c->senders[i].key, key, kl))
            return c->last_sender = i;
        h = (h + 1) & c->hmask;
    }
    size_t n = atomic_load_explicit(&c->n_senders, memory_order_relaxed);
    if (n >= SL_MAX_SENDERS) {
        char ip[INET6_ADDRSTRLEN + 8];
        sl_addr_text(sa, false, ip, sizeof ip);
        sl_note(c, SL_C_SENDERS_FULL,
                "%s: more than %d distinct senders (first extra: %s): their records use the "
                "listener origin '%s' in event ids and count as senders_other",
                c->label, SL_MAX_SENDERS, ip, c->label);
        return -1;
    }
    sl_sender *s = &c->senders[n];
    char ip[INET6_ADDRSTRLEN + 8];
    sl_addr_text(sa, false, ip, sizeof ip);
    size_t ll = strlen(c->label), il = strlen(ip);
    s->origin = hm_xmalloc(ll + 1 + il + 1);
    memcpy(s->origin, c->label, ll);
    s->origin[ll] = '/';
    memcpy(s->origin + ll + 1, ip, il + 1);
    s->addr = s->origin + ll + 1;
    memcpy(s->key, key, kl);
    s->keylen = kl;
    atomic_store_explicit(&s->records, 0, memory_order_relaxed);
    c->htab[h] = (int32_t)n;
    atomic_store_explicit(&c->n_senders, n + 1, memory_order_release); /* publish */
    return c->last_sender = (int)n;
}

void sl_note(sl_common *c, sl_cause cause, const char *fmt, ...) {
    sl_ratelog *r = &c->rl[cause];
    uint64_t n = atomic_fetch_add_explicit(&r->count, 1, memory_order_relaxed) + 1;
    if (n != 1) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* an idle connection being closed is routine; the rest are problems of a peer or host */
    hm_log(cause == SL_C_IDLE ? "info" : "warn", "syslog",
           "%s (logged once; further ones are counted as \"%s\" in --stats)", msg,
           cause_names[cause]);
    r->reported = 1;
    r->last_ns = hm_mono_ns();
}

void sl_tick(sl_common *c, bool final) {
    int64_t now = hm_mono_ns();
    if (!final && now - c->last_tick_ns < 1000000000LL) return;
    c->last_tick_ns = now;
    for (int i = 0; i < SL_C_COUNT; i++) {
        sl_ratelog *r = &c->rl[i];
        uint64_t n = atomic_load_explicit(&r->count, memory_order_relaxed);
        if (n <= r->reported || (!final && now - r->last_ns < SL_LOG_EVERY_NS)) continue;
        hm_log(i == SL_C_IDLE ? "info" : "warn", "syslog",
               "%s: %llu more %s in the last %.0f s (%llu in all)", c->label,
               (unsigned long long)(n - r->reported), cause_names[i],
               (double)(now - r->last_ns) / 1e9, (unsigned long long)n);
        r->reported = n;
        r->last_ns = now;
    }
}

/* Counters with one writer (the connector thread): a plain load and store, not a locked
 * read-modify-write per record; readers still see whole values. */
static inline void sl_add(_Atomic uint64_t *x, uint64_t n) {
    atomic_store_explicit(x, atomic_load_explicit(x, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

void sl_emit(sl_common *c, hm_batch *b, int sender, const char *p, size_t len, uint32_t flags,
             uint64_t orig_len, int64_t now_ns) {
    if (HM_UNLIKELY(!atomic_load_explicit(&c->first_ns, memory_order_relaxed)))
        atomic_store_explicit(&c->first_ns, hm_mono_ns(), memory_order_relaxed);
    hm_batch_reserve_buf(b, len);
    char *d = b->buf + b->buf_len;
    memcpy(d, p, len);
    b->buf_len += len;
    hm_record *r = &b->rec[b->n++];
    r->data = d;
    r->len = (uint32_t)len;
    r->flags = flags;
    if (len > c->opts.max_record) r->flags |= HM_REC_OVERSIZE;
    r->pos = c->seq++;
    r->recv_ns = now_ns;
    r->orig_len = orig_len;
    r->origin = sender >= 0 ? c->senders[sender].origin : NULL;
    r->partition = -1;
    r->key = NULL;
    r->key_len = 0;
    sl_add(&c->records, 1);
    sl_add(&c->bytes, orig_len ? orig_len : len);
    sl_add(sender >= 0 ? &c->senders[sender].records : &c->other_records, 1);
}

void sl_batch_begin(sl_common *c) {
    if (!c->batch_end_ns) return;
    atomic_fetch_add_explicit(&c->wait_ns, hm_mono_ns() - c->batch_end_ns, memory_order_relaxed);
    c->batch_end_ns = 0;
}

void sl_batch_end(sl_common *c, uint32_t n) {
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
        atomic_store_explicit(&c->cpu_ns, (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec,
                              memory_order_relaxed);
    if (!n) return;
    c->batch_end_ns = hm_mono_ns();
    atomic_store_explicit(&c->last_ns, c->batch_end_ns, memory_order_relaxed);
}

typedef struct top_ent {
    uint64_t n;
    size_t i;
} top_ent;

static int top_cmp(const void *a, const void *b) {
    const top_ent *x = a, *y = b;
    if (x->n != y->n) return x->n < y->n ? 1 : -1;
    return x->i < y->i ? -1 : x->i > y->i;
}

void sl_stats_common(sl_common *c, hm_buf *out) {
    hm_buf_printf(out, "\"listen\":\"%s\",\"records\":%llu,\"bytes\":%llu", c->bind_text,
                  (unsigned long long)atomic_load(&c->records),
                  (unsigned long long)atomic_load(&c->bytes));
    for (int i = 0; i < SL_C_COUNT; i++) {
        if (c->proto == SL_UDP && (i == SL_C_INCOMPLETE || i == SL_C_REFUSED || i == SL_C_IDLE ||
                                   i == SL_C_TLS || i == SL_C_RESET || i == SL_C_ACCEPT))
            continue;
        if (c->proto != SL_UDP && (i == SL_C_EMPTY || i == SL_C_RECV)) continue;
        if (c->proto != SL_TLS && i == SL_C_TLS) continue;
        hm_buf_printf(out, ",\"%s\":%llu", cause_names[i],
                      (unsigned long long)sl_count(c, (sl_cause)i));
    }
    size_t n = atomic_load_explicit(&c->n_senders, memory_order_acquire);
    top_ent *t = hm_xmalloc((n ? n : 1) * sizeof *t);
    for (size_t i = 0; i < n; i++) {
        t[i].n = atomic_load_explicit(&c->senders[i].records, memory_order_relaxed);
        t[i].i = i;
    }
    qsort(t, n, sizeof *t, top_cmp);
    hm_buf_puts(out, ",\"senders\":{");
    size_t shown = n < c->top ? n : c->top;
    for (size_t k = 0; k < shown; k++) {
        if (k) hm_buf_putc(out, ',');
        hm_buf_put_json_str(out, hm_str_c(c->senders[t[k].i].addr));
        hm_buf_putc(out, ':');
        hm_buf_put_u64(out, t[k].n);
    }
    uint64_t rest = atomic_load(&c->other_records);
    for (size_t k = shown; k < n; k++) rest += t[k].n;
    hm_buf_printf(out, "},\"senders_distinct\":%zu,\"senders_other_records\":%llu", n,
                  (unsigned long long)rest);
    int64_t first = atomic_load(&c->first_ns), last = atomic_load(&c->last_ns);
    hm_buf_printf(out, ",\"active_s\":%.3f,\"cpu_s\":%.3f,\"wait_s\":%.3f",
                  first && last > first ? (double)(last - first) / 1e9 : 0.0,
                  (double)atomic_load(&c->cpu_ns) / 1e9, (double)atomic_load(&c->wait_ns) / 1e9);
    free(t);
}
