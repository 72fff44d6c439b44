/* syslog_udp.c - `syslog+udp://HOST:PORT[?rcvbuf=8M&top=20]`: one record per datagram
 * (RFC 5426).
 *
 * Datagrams are received in batches with recvmmsg into a fixed set of 64 KiB slots owned
 * by the source (pages are touched only as large datagrams arrive), then copied into the
 * engine batch. A datagram that does not fit the current batch stays in its slot for the
 * next call. A batch less than half full when the socket runs dry waits once for 1 ms
 * before it is handed over (fewer, larger batches under a steady stream). Trailing
 * LF/CR/NUL bytes (added by many senders) are removed. The socket gets a large SO_RCVBUF
 * (SO_RCVBUFFORCE when permitted) so bursts and engine stalls are absorbed; what the
 * kernel still drops is counted per socket with SO_RXQ_OVFL ("kernel_drops") and
 * host-wide from /proc/net/snmp{,6} ("host_udp_rcvbuf_errors", the increase since the
 * listener opened). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "syslog_net.h"

#ifndef SO_RXQ_OVFL
#define SO_RXQ_OVFL 40
#endif

#define UDP_VLEN      64
#define UDP_SLOT      65536
#define UDP_LINGER_NS 1000000L /* at most 1 ms added to a datagram's way through */

typedef struct udp_state {
    sl_common c;
    int fd;
    char *slots; /* UDP_VLEN * UDP_SLOT */
    struct mmsghdr msgs[UDP_VLEN];
    struct iovec iov[UDP_VLEN];
    struct sockaddr_storage from[UDP_VLEN];
    union {
        char buf[CMSG_SPACE(sizeof(uint32_t))];
        struct cmsghdr align;
    } ctrl[UDP_VLEN];
    unsigned held, held_n; /* datagrams [held, held_n) received, not yet in a batch */
    int rcvbuf_actual;
    _Atomic uint64_t kernel_drops;
    uint64_t host_base; /* host-wide UDP RcvbufErrors at open */
} udp_state;

/* Sum of RcvbufErrors of UDP and UDP6 from /proc (0 when unavailable). */
static uint64_t host_udp_rcvbuf_errors(void) {
    uint64_t total = 0;
    FILE *f = fopen("/proc/net/snmp", "r");
    if (f) {
        char hdr[2048], val[2048];
        while (fgets(hdr, sizeof hdr, f)) {
            if (strncmp(hdr, "Udp: ", 5)) continue;
            if (!fgets(val, sizeof val, f)) break;
            /* the header line names the columns, the next line holds the values */
            char *hs = NULL, *vs = NULL;
            char *h = strtok_r(hdr, " \n", &hs), *v = strtok_r(val, " \n", &vs);
            while (h && v) {
                if (!strcmp(h, "RcvbufErrors")) total += strtoull(v, NULL, 10);
                h = strtok_r(NULL, " \n", &hs);
                v = strtok_r(NULL, " \n", &vs);
            }
            break;
        }
        fclose(f);
    }
    f = fopen("/proc/net/snmp6", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "Udp6RcvbufErrors", 16)) total += strtoull(line + 16, NULL, 10);
        fclose(f);
    }
    return total;
}

static void udp_free(udp_state *st) {
    if (st->fd >= 0) close(st->fd);
    free(st->slots);
    sl_common_free(&st->c);
    free(st);
}

static int udp_open(hm_source *src, const char *uri, const hm_conn_opts *opts, char *err,
                    size_t errlen) {
    src->opts = *opts;
    udp_state *st = hm_xcalloc(1, sizeof *st);
    st->fd = -1;
    st->c.opts = *opts;
    if (sl_parse_uri(&st->c, uri, SL_UDP, "rcvbuf,top", err, errlen) != HM_OK) goto fail;
    st->fd = sl_bind(&st->c, err, errlen);
    if (st->fd < 0) goto fail;
    int want = st->c.rcvbuf > (size_t)INT32_MAX / 2 ? INT32_MAX / 2 : (int)st->c.rcvbuf;
    /* SO_RCVBUFFORCE ignores net.core.rmem_max but needs CAP_NET_ADMIN */
    if (setsockopt(st->fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0)
        setsockopt(st->fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
    socklen_t ol = sizeof st->rcvbuf_actual;
    getsockopt(st->fd, SOL_SOCKET, SO_RCVBUF, &st->rcvbuf_actual, &ol);
    st->rcvbuf_actual /= 2; /* Linux reports twice the size granted (bookkeeping overhead) */
    int one = 1;
    setsockopt(st->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
    st->slots = hm_xmalloc((size_t)UDP_VLEN * UDP_SLOT);
    st->host_base = host_udp_rcvbuf_errors();
    hm_info("syslog", "%s: listening on udp %s (receive buffer %d bytes)", st->c.label,
            st->c.bind_text, st->rcvbuf_actual);
    if (st->rcvbuf_actual < want)
        hm_warn("syslog",
                "%s: receive buffer capped at %d bytes by net.core.rmem_max (asked %d); bursts "
                "may be dropped (kernel_drops in --stats): raise it with `sysctl -w "
                "net.core.rmem_max=%d`",
                st->c.label, st->rcvbuf_actual, want, want);
    src->state = st;
    return HM_OK;
fail:
    udp_free(st);
    return HM_EUSAGE;
}

/* Receives up to `want` datagrams into the slots without blocking; count or -errno. */
static int udp_recv(udp_state *st, unsigned want) {
    for (unsigned i = 0; i < want; i++) {
        st->iov[i].iov_base = st->slots + (size_t)i * UDP_SLOT;
        st->iov[i].iov_len = UDP_SLOT;
        struct msghdr *m = &st->msgs[i].msg_hdr;
        m->msg_name = &st->from[i];
        m->msg_namelen = sizeof st->from[i];
        m->msg_iov = &st->iov[i];
        m->msg_iovlen = 1;
        m->msg_control = st->ctrl[i].buf;
        m->msg_controllen = sizeof st->ctrl[i].buf;
        m->msg_flags = 0;
        st->msgs[i].msg_len = 0;
    }
    int r = recvmmsg(st->fd, st->msgs, want, MSG_DONTWAIT, NULL);
    return r < 0 ? -errno : r;
}

/* Moves received datagrams [held, held_n) into b while they fit. */
static void udp_drain(udp_state *st, hm_batch *b, int64_t now) {
    for (; st->held < st->held_n; st->held++) {
        unsigned i = st->held;
        struct msghdr *m = &st->msgs[i].msg_hdr;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm))
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL) {
                uint32_t d;
                memcpy(&d, CMSG_DATA(cm), sizeof d);
                if (d > atomic_load_explicit(&st->kernel_drops, memory_order_relaxed))
                    atomic_store_explicit(&st->kernel_drops, d, memory_order_relaxed);
            }
        const char *p = st->slots + (size_t)i * UDP_SLOT;
        size_t len = st->msgs[i].msg_len;
        uint32_t flags = 0;
        uint64_t orig = 0;
        if (m->msg_flags & MSG_TRUNC) { /* cannot happen with 64 KiB slots; be safe */
            flags = HM_REC_TRUNCATED | HM_REC_OVERSIZE;
            orig = len + 1;
        }
        while (len && (p[len - 1] == '\n' || p[len - 1] == '\r' || p[len - 1] == 0)) len--;
        int sender = sl_sender_for(&st->c, (struct sockaddr *)&st->from[i]);
        if (!len) {
            char ip[80];
            sl_addr_text((struct sockaddr *)&st->from[i], true, ip, sizeof ip);
            sl_note(&st->c, SL_C_EMPTY, "%s: empty datagram from %s ignored", st->c.label, ip);
            continue;
        }
        if (!sl_room(b, len)) return;
        sl_emit(&st->c, b, sender, p, len, flags, orig, now);
    }
    st->held = st->held_n = 0;
}

static int udp_read_batch(hm_source *src, hm_batch *b) {
    udp_state *st = src->state;
    b->origin = st->c.label;
    b->source_index = src->index;
    sl_batch_begin(&st->c);
    sl_tick(&st->c, false);
    int64_t now = hm_now_ns();
    if (st->held < st->held_n) {
        udp_drain(st, b, now);
        if (st->held < st->held_n) {
            sl_batch_end(&st->c, b->n);
            return (int)b->n;
        }
    }
    bool waited = false, lingered = false;
    while (b->n < b->cap && !*src->opts.stop) {
        unsigned want = b->cap - b->n;
        if (want > UDP_VLEN) want = UDP_VLEN;
        int r = udp_recv(st, want);
        if (r == -EINTR) continue;
        if (r == -EAGAIN || r == -EWOULDBLOCK || r == 0) {
            if (b->n > 0 && b->n < b->cap / 2 && !lingered) {
                /* a small batch: let datagrams queue for a moment before handing it over.
                 * Fewer, larger batches for the pipeline, and no wakeup per datagram (a
                 * listener asleep in poll is woken by, and at the cost of, every send). */
                struct timespec ts = {0, UDP_LINGER_NS};
                nanosleep(&ts, NULL);
                lingered = true;
                now = hm_now_ns();
                continue;
            }
            if (b->n > 0 || waited) break;
            /* idle: wait for data up to 100 ms so shutdown stays prompt */
            struct pollfd pfd = {.fd = st->fd, .events = POLLIN};
            poll(&pfd, 1, 100);
            waited = true;
            now = hm_now_ns();
            continue;
        }
        if (r < 0) {
            sl_note(&st->c, SL_C_RECV, "%s: recvmmsg: %s", st->c.label, strerror(-r));
            break;
        }
        st->held = 0;
        st->held_n = (unsigned)r;
        udp_drain(st, b, now);
        if (st->held < st->held_n) break; /* batch buffer full */
    }
    sl_batch_end(&st->c, b->n);
    return (int)b->n;
}

static void udp_stats_json(hm_source *src, hm_buf *out) {
    udp_state *st = src->state;
    if (!st) return;
    sl_stats_common(&st->c, out);
    uint64_t host = host_udp_rcvbuf_errors();
    hm_buf_printf(out, ",\"kernel_drops\":%llu,\"rcvbuf\":%d,\"host_udp_rcvbuf_errors\":%llu",
                  (unsigned long long)atomic_load(&st->kernel_drops), st->rcvbuf_actual,
                  (unsigned long long)(host > st->host_base ? host - st->host_base : 0));
}

static void udp_close(hm_source *src) {
    udp_state *st = src->state;
    if (!st) return;
    sl_tick(&st->c, true);
    uint64_t drops = atomic_load(&st->kernel_drops);
    if (drops)
        hm_warn("syslog", "%s: the kernel dropped %llu datagrams (receive buffer full)",
                st->c.label, (unsigned long long)drops);
    udp_free(st);
    src->state = NULL;
}

const hm_connector_ops hm_conn_syslog_udp = {
    .abi = HM_CONNECTOR_ABI,
    .scheme = "syslog+udp",
    .description = "syslog listener over UDP (RFC 5426), one record per datagram",
    .open = udp_open,
    .read_batch = udp_read_batch,
    .stats_json = udp_stats_json,
    .close = udp_close,
};
