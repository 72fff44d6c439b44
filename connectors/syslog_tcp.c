/* syslog_tcp.c - stream syslog listeners:
 *   syslog+tcp://HOST:PORT[?idle=300s&max_conn=1024&top=20]
 *   syslog+tls://HOST:PORT?cert=PATH&key=PATH[&ca=PATH][&idle=..&max_conn=..&top=..]
 *
 * One epoll loop on the connector thread serves the listening socket and every
 * connection (non-blocking; TLS via OpenSSL memory-less non-blocking SSL objects).
 *
 * Framing (RFC 6587), decided per frame: at a frame start, "NNN <" (1-10 digits without a
 * leading zero, a space, then '<') is an octet-counted frame of NNN bytes (RFC 5425 over
 * TLS); anything else is an LF-terminated line. Empty lines and CR/LF/NUL bytes between
 * frames are skipped; a trailing CR (and, inside an octet-counted frame, trailing CR/LF) is
 * removed. The record is the message without its octet count.
 *
 * Limits and bad peers:
 * - A frame longer than --max-record keeps its first max-record bytes; the rest, up to the
 *   next LF (or the declared count), is read and discarded, and the prefix is emitted when
 *   the frame ends, flagged HM_REC_TRUNCATED|HM_REC_OVERSIZE with orig_len = the full
 *   length (the engine dead-letters it). Per-connection memory is therefore at most
 *   max-record + 64 KiB, and idle connections hold no buffer at all.
 * - An octet count larger than the hard cap (16 MiB) means the stream is not syslog or
 *   lost sync: counted as bad_frames and the connection is closed.
 * - At close or idle timeout: an unterminated LF line is emitted as a normal record (the
 *   sender's last message without its LF); an incomplete octet-counted frame is dropped
 *   and counted (incomplete_frames): its length says it is not whole.
 * - More than max_conn connections: accepted and closed at once, counted as refused.
 * - Each cause is logged once with details, then counted (stats) and summarized at most
 *   once a minute.
 *
 * Backpressure: read_batch is only called when the engine has a free batch; until then no
 * socket is read and TCP flow control pushes back on the senders. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "syslog_net.h"

#define TCP_CHUNK        (64 * 1024)  /* bytes per read */
#define SERVICE_BUDGET   (256 * 1024) /* bytes read from one connection per turn */
#define MAX_DIGITS       10           /* octet count digits */
#define HANDSHAKE_NS     (10LL * 1000000000LL)
#define BUF_IDLE_FREE_NS (2LL * 1000000000LL)
#define MAX_EVENTS       256

enum { FS_START, FS_LF, FS_SKIP_LF, FS_OCTET, FS_SKIP_OCTET };
enum { FR_NEED, FR_FULL, FR_CLOSE };
enum { RD_AGAIN = -1, RD_ERR = -2 };

typedef struct conn {
    int fd;
    int slot;
    SSL *ssl;
    bool handshaking, eof, pending, tls_failed, grow, peer_closed;
    uint32_t ev_mask;
    int sender;
    char peer[64];
    char *buf; /* unconsumed bytes are buf[off, len) */
    size_t off, len, cap;
    int fs;                    /* framing state */
    size_t scan;               /* FS_LF: bytes after off already searched for LF */
    uint64_t need;             /* FS_OCTET/FS_SKIP_OCTET: declared frame length */
    uint64_t skipped;          /* FS_SKIP_*: bytes discarded after the kept prefix */
    int64_t last_ns, start_ns; /* mono */
} conn;

typedef struct tcp_state {
    sl_common c;
    int lfd, ep, reserve_fd;
    SSL_CTX *ctx;
    conn **conns; /* [max_conn] by slot */
    int *free_slots;
    size_t nfree, nconns;
    conn **pending, **pending_tmp; /* connections with unprocessed data (batch was full) */
    size_t npending;
    size_t limit;   /* bytes of a record kept */
    size_t buf_max; /* per-connection buffer cap */
    bool full;      /* the current batch has no room */
    bool sigpipe_blocked;
    int64_t last_sweep_ns;
    _Atomic uint64_t connections, connections_total;
    struct epoll_event evs[MAX_EVENTS];
} tcp_state;

static inline bool is_digit(char c) {
    return (unsigned)(c - '0') <= 9;
}

static void set_mask(tcp_state *st, conn *k, uint32_t mask) {
    if (k->ev_mask == mask) return;
    struct epoll_event ev = {.events = mask, .data.ptr = k};
    if (epoll_ctl(st->ep, EPOLL_CTL_MOD, k->fd, &ev) == 0) k->ev_mask = mask;
}

static void mark_pending(tcp_state *st, conn *k) {
    if (k->pending) return;
    k->pending = true;
    st->pending[st->npending++] = k;
}

static void conn_close(tcp_state *st, conn *k) {
    if (k->pending)
        for (size_t i = 0; i < st->npending; i++)
            if (st->pending[i] == k) {
                st->pending[i] = st->pending[--st->npending];
                break;
            }
    epoll_ctl(st->ep, EPOLL_CTL_DEL, k->fd, NULL);
    if (k->ssl) {
        if (!k->handshaking && !k->tls_failed && !k->peer_closed) {
            ERR_clear_error();
            SSL_shutdown(k->ssl); /* best effort close_notify; never waits */
        }
        SSL_free(k->ssl);
        ERR_clear_error();
    }
    close(k->fd);
    free(k->buf);
    st->conns[k->slot] = NULL;
    st->free_slots[st->nfree++] = k->slot;
    st->nconns--;
    atomic_store_explicit(&st->connections, st->nconns, memory_order_relaxed);
    free(k);
}

static void note_truncated(tcp_state *st, conn *k, bool octet) {
    sl_note(&st->c, SL_C_TRUNCATED,
            "%s: %s from %s longer than %zu bytes (--max-record): its first %zu bytes are kept "
            "and dead-lettered as truncated, the rest of the frame is skipped",
            st->c.label, octet ? "octet-counted frame" : "line", k->peer, st->limit, st->limit);
}

static void note_incomplete(tcp_state *st, conn *k, uint64_t got) {
    sl_note(&st->c, SL_C_INCOMPLETE,
            "%s: connection from %s ended inside an octet-counted frame (%llu of %llu bytes): "
            "the partial frame is dropped",
            st->c.label, k->peer, (unsigned long long)got, (unsigned long long)k->need);
}

/* Splits buf[off, len) into records. FR_NEED: needs more bytes (or, at eof, everything is
 * consumed); FR_FULL: the batch has no room; FR_CLOSE: framing lost. */
static int frame(tcp_state *st, conn *k, hm_batch *b, int64_t now) {
    sl_common *c = &st->c;
    const size_t limit = st->limit;
    for (;;) {
        size_t avail = k->len - k->off;
        if (!avail && k->fs == FS_START) return FR_NEED;
        char *p = k->buf + k->off;
        switch (k->fs) {
        case FS_START: {
            size_t i = 0;
            while (i < avail && (p[i] == '\n' || p[i] == '\r' || p[i] == 0)) i++;
            k->off += i;
            p += i;
            avail -= i;
            if (!avail) return FR_NEED;
            if (p[0] >= '1' && p[0] <= '9') {
                size_t d = 1;
                while (d < avail && d <= MAX_DIGITS && is_digit(p[d])) d++;
                if (d <= MAX_DIGITS && (d == avail || (p[d] == ' ' && d + 1 == avail)) && !k->eof)
                    return FR_NEED; /* cannot tell yet */
                if (d <= MAX_DIGITS && d + 1 < avail && p[d] == ' ' && p[d + 1] == '<') {
                    uint64_t n = 0;
                    for (size_t j = 0; j < d; j++) n = n * 10 + (uint64_t)(p[j] - '0');
                    if (n > c->opts.hard_cap) {
                        sl_note(c, SL_C_BAD_FRAME,
                                "%s: octet count %llu from %s exceeds the hard cap (%zu bytes): "
                                "framing lost, connection closed",
                                c->label, (unsigned long long)n, k->peer, c->opts.hard_cap);
                        return FR_CLOSE;
                    }
                    k->off += d + 1;
                    k->need = n;
                    k->fs = FS_OCTET;
                    continue;
                }
            }
            k->fs = FS_LF;
            k->scan = 0;
            continue;
        }
        case FS_LF: {
            char *nl = memchr(p + k->scan, '\n', avail - k->scan);
            size_t l = nl ? (size_t)(nl - p) : avail;
            if (!nl && !k->eof) {
                k->scan = avail;
                if (avail > limit) { /* over-long line: keep the prefix, discard the rest */
                    note_truncated(st, k, false);
                    k->skipped = avail - limit;
                    k->len = k->off + limit;
                    k->fs = FS_SKIP_LF;
                }
                return FR_NEED;
            }
            size_t rl = l;
            if (rl && p[rl - 1] == '\r') rl--;
            if (rl) {
                size_t keep = rl > limit ? limit : rl;
                if (!sl_room(b, keep)) return FR_FULL;
                if (rl > limit) {
                    note_truncated(st, k, false);
                    sl_emit(c, b, k->sender, p, limit, HM_REC_TRUNCATED | HM_REC_OVERSIZE, rl, now);
                } else {
                    sl_emit(c, b, k->sender, p, rl, 0, 0, now);
                }
            }
            k->off += nl ? l + 1 : l;
            k->fs = FS_START;
            continue;
        }
        case FS_SKIP_LF: {
            /* buf[off, off+limit) is the kept prefix, the rest is new input */
            char *in = p + limit;
            size_t n = avail - limit;
            char *nl = memchr(in, '\n', n);
            if (!nl && !k->eof) {
                k->skipped += n;
                k->len = k->off + limit;
                return FR_NEED;
            }
            size_t tail = nl ? (size_t)(nl - in) : n;
            if (!sl_room(b, limit)) return FR_FULL;
            uint64_t orig = limit + k->skipped + tail;
            if (nl && tail && in[tail - 1] == '\r') orig--;
            sl_emit(c, b, k->sender, p, limit, HM_REC_TRUNCATED | HM_REC_OVERSIZE, orig, now);
            k->off += limit + tail + (nl ? 1 : 0);
            k->fs = FS_START;
            continue;
        }
        case FS_OCTET: {
            if (k->need > limit) {
                if (avail < limit) {
                    if (!k->eof) return FR_NEED;
                    note_incomplete(st, k, avail);
                    k->off = k->len;
                    k->fs = FS_START;
                    return FR_NEED;
                }
                note_truncated(st, k, true);
                k->skipped = 0;
                k->fs = FS_SKIP_OCTET;
                continue;
            }
            if (avail < k->need) {
                if (!k->eof) return FR_NEED;
                note_incomplete(st, k, avail);
                k->off = k->len;
                k->fs = FS_START;
                return FR_NEED;
            }
            size_t rl = (size_t)k->need;
            while (rl && (p[rl - 1] == '\n' || p[rl - 1] == '\r')) rl--;
            if (rl) {
                if (!sl_room(b, rl)) return FR_FULL;
                sl_emit(c, b, k->sender, p, rl, 0, 0, now);
            }
            k->off += (size_t)k->need;
            k->fs = FS_START;
            continue;
        }
        case FS_SKIP_OCTET: {
            size_t n = avail - limit;
            uint64_t rem = k->need - limit - k->skipped;
            if ((uint64_t)n >= rem) {
                if (!sl_room(b, limit)) return FR_FULL;
                sl_emit(c, b, k->sender, p, limit, HM_REC_TRUNCATED | HM_REC_OVERSIZE, k->need,
                        now);
                k->off += limit + (size_t)rem;
                k->fs = FS_START;
                continue;
            }
            k->skipped += n;
            k->len = k->off + limit;
            if (k->eof) {
                note_incomplete(st, k, limit + k->skipped);
                k->off = k->len;
                k->fs = FS_START;
            }
            return FR_NEED;
        }
        }
    }
}

/* >0 bytes, 0 end of stream, RD_AGAIN, RD_ERR */
static ssize_t conn_read(tcp_state *st, conn *k, char *p, size_t n) {
    if (!k->ssl) {
        for (;;) {
            ssize_t r = recv(k->fd, p, n, 0);
            if (r >= 0) return r;
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return RD_AGAIN;
            sl_note(&st->c, SL_C_RESET, "%s: read from %s: %s", st->c.label, k->peer,
                    strerror(errno));
            return RD_ERR;
        }
    }
    ERR_clear_error();
    int r = SSL_read(k->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
    if (r > 0) {
        if (k->ev_mask & EPOLLOUT) set_mask(st, k, EPOLLIN | EPOLLRDHUP);
        return r;
    }
    int e = SSL_get_error(k->ssl, r);
    if (e == SSL_ERROR_WANT_READ) return RD_AGAIN;
    if (e == SSL_ERROR_WANT_WRITE) {
        set_mask(st, k, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
        return RD_AGAIN;
    }
    if (e == SSL_ERROR_ZERO_RETURN) return 0;
    if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        if (errno == 0 || r == 0) return 0; /* peer closed without close_notify */
        sl_note(&st->c, SL_C_RESET, "%s: read from %s: %s", st->c.label, k->peer, strerror(errno));
        k->tls_failed = true;
        return RD_ERR;
    }
    char msg[256];
    ERR_error_string_n(ERR_peek_last_error(), msg, sizeof msg);
    sl_note(&st->c, SL_C_TLS, "%s: TLS error reading from %s: %s", st->c.label, k->peer, msg);
    k->tls_failed = true;
    return RD_ERR;
}

/* 1 done, 0 in progress, -1 failed */
static int tls_handshake(tcp_state *st, conn *k) {
    ERR_clear_error();
    int r = SSL_do_handshake(k->ssl);
    if (r == 1) {
        k->handshaking = false;
        set_mask(st, k, EPOLLIN | EPOLLRDHUP);
        return 1;
    }
    int e = SSL_get_error(k->ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
        set_mask(st, k, EPOLLIN | EPOLLRDHUP);
        return 0;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        set_mask(st, k, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
        return 0;
    }
    char msg[256] = "connection closed during the handshake";
    unsigned long ec = ERR_peek_last_error();
    if (ec)
        ERR_error_string_n(ec, msg, sizeof msg);
    else if (e == SSL_ERROR_SYSCALL && errno)
        snprintf(msg, sizeof msg, "%s", strerror(errno));
    sl_note(&st->c, SL_C_TLS, "%s: TLS handshake with %s failed: %s", st->c.label, k->peer, msg);
    k->tls_failed = true;
    return -1;
}

/* Makes room for one read: compacts, and grows the buffer (16 KiB first, doubling while
 * reads fill it, at most buf_max). False only on a logic error (buffer full at its cap). */
static bool conn_room(tcp_state *st, conn *k) {
    if (k->off == k->len) k->off = k->len = 0;
    if (k->off && k->cap - k->len < TCP_CHUNK) {
        memmove(k->buf, k->buf + k->off, k->len - k->off);
        k->len -= k->off;
        k->off = 0;
    }
    size_t free_ = k->cap - k->len;
    if (k->cap >= st->buf_max || (free_ >= 4096 && !(k->grow && k->cap < 2 * TCP_CHUNK)))
        return free_ > 0;
    size_t nc = k->cap ? k->cap * 2 : 16384;
    while (nc - k->len < 4096) nc *= 2;
    if (nc > st->buf_max) nc = st->buf_max;
    k->buf = hm_xrealloc(k->buf, nc);
    k->cap = nc;
    k->grow = false;
    return k->cap > k->len;
}

/* Reads and frames one connection until it would block, its turn's budget is spent or
 * the batch is full; closes it at end of stream. */
static void service(tcp_state *st, conn *k, hm_batch *b) {
    int64_t now = hm_now_ns();
    if (k->handshaking) {
        int r = tls_handshake(st, k);
        if (r < 0) {
            conn_close(st, k);
            return;
        }
        if (r == 0) return;
        k->last_ns = hm_mono_ns();
    }
    size_t budget = SERVICE_BUDGET;
    for (;;) {
        int fr = frame(st, k, b, now);
        if (fr == FR_FULL) {
            st->full = true;
            mark_pending(st, k);
            return;
        }
        if (fr == FR_CLOSE || k->eof) {
            conn_close(st, k);
            return;
        }
        if (!budget || *st->c.opts.stop) {
            mark_pending(st, k);
            return;
        }
        if (!conn_room(st, k)) { /* cannot happen: frame() keeps at most limit+11 bytes */
            hm_error("syslog", "%s: internal framing error on %s; closing it", st->c.label,
                     k->peer);
            conn_close(st, k);
            return;
        }
        size_t want = k->cap - k->len;
        if (want > TCP_CHUNK) want = TCP_CHUNK;
        ssize_t r = conn_read(st, k, k->buf + k->len, want);
        if (r > 0) {
            k->grow = (size_t)r == want;
            k->len += (size_t)r;
            budget = budget > (size_t)r ? budget - (size_t)r : 0;
            k->last_ns = hm_mono_ns();
            continue;
        }
        if (r == RD_AGAIN) {
            if (k->off == k->len && k->cap > 64 * 1024) { /* drop a large buffer once empty */
                free(k->buf);
                k->buf = NULL;
                k->off = k->len = k->cap = 0;
            }
            return;
        }
        if (r == 0) k->peer_closed = true;
        k->eof = true; /* end of stream or error: frame what is left, then close */
    }
}

static void accept_all(tcp_state *st) {
    for (int i = 0; i < 256; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(st->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            if (e == EINTR || e == ECONNABORTED || e == EPROTO) continue;
            if (e == EAGAIN || e == EWOULDBLOCK) return;
            sl_note(&st->c, SL_C_ACCEPT, "%s: accept: %s%s", st->c.label, strerror(e),
                    e == EMFILE || e == ENFILE ? " (out of file descriptors: raise ulimit -n or "
                                                 "lower ?max_conn)"
                                               : "");
            if ((e == EMFILE || e == ENFILE) && st->reserve_fd >= 0) {
                /* free one descriptor to take the pending connection off the queue */
                close(st->reserve_fd);
                int f2 = accept4(st->lfd, NULL, NULL, SOCK_CLOEXEC);
                if (f2 >= 0) close(f2);
                st->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
            }
            return;
        }
        char peer[64];
        sl_addr_text((struct sockaddr *)&ss, true, peer, sizeof peer);
        if (st->nconns >= st->c.max_conn || !st->nfree) {
            sl_note(&st->c, SL_C_REFUSED,
                    "%s: refusing connection from %s: %zu connections open (max_conn=%zu; raise "
                    "it with ?max_conn=N)",
                    st->c.label, peer, st->nconns, st->c.max_conn);
            close(fd);
            continue;
        }
        conn *k = hm_xcalloc(1, sizeof *k);
        k->fd = fd;
        snprintf(k->peer, sizeof k->peer, "%s", peer);
        k->sender = sl_sender_for(&st->c, (struct sockaddr *)&ss);
        k->last_ns = k->start_ns = hm_mono_ns();
        k->ev_mask = EPOLLIN | EPOLLRDHUP;
        struct epoll_event ev = {.events = k->ev_mask, .data.ptr = k};
        if (epoll_ctl(st->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            sl_note(&st->c, SL_C_ACCEPT, "%s: epoll_ctl: %s", st->c.label, strerror(errno));
            close(fd);
            free(k);
            continue;
        }
        if (st->ctx) {
            k->ssl = SSL_new(st->ctx);
            if (!k->ssl || !SSL_set_fd(k->ssl, fd)) {
                sl_note(&st->c, SL_C_TLS, "%s: cannot create a TLS session for %s", st->c.label,
                        peer);
                if (k->ssl) SSL_free(k->ssl);
                epoll_ctl(st->ep, EPOLL_CTL_DEL, fd, NULL);
                close(fd);
                free(k);
                continue;
            }
            SSL_set_accept_state(k->ssl);
            k->handshaking = true;
        }
        k->slot = st->free_slots[--st->nfree];
        st->conns[k->slot] = k;
        st->nconns++;
        atomic_store_explicit(&st->connections, st->nconns, memory_order_relaxed);
        atomic_fetch_add_explicit(&st->connections_total, 1, memory_order_relaxed);
    }
}

/* Closes connections idle longer than ?idle (or stuck in a TLS handshake), frees buffers of
 * quiet connections. */
static void sweep(tcp_state *st, hm_batch *b) {
    int64_t now = hm_mono_ns();
    int64_t hs = st->c.idle_ns < HANDSHAKE_NS ? st->c.idle_ns : HANDSHAKE_NS;
    for (size_t i = 0; i < st->c.max_conn && !st->full; i++) {
        conn *k = st->conns[i];
        if (!k || k->eof || k->pending) continue;
        if (k->handshaking && now - k->start_ns > hs) {
            sl_note(&st->c, SL_C_TLS, "%s: TLS handshake with %s not finished after %.0f s: closed",
                    st->c.label, k->peer, (double)hs / 1e9);
            k->tls_failed = true;
            conn_close(st, k);
            continue;
        }
        if (now - k->last_ns > st->c.idle_ns) {
            int queued = 0; /* unread bytes: we were not reading (backpressure), not the peer */
            if (ioctl(k->fd, FIONREAD, &queued) == 0 && queued > 0) {
                k->last_ns = now;
                continue;
            }
            sl_note(&st->c, SL_C_IDLE, "%s: closing connection from %s: idle for %.0f s (?idle=)",
                    st->c.label, k->peer, (double)(now - k->last_ns) / 1e9);
            k->eof = true;
            if (frame(st, k, b, hm_now_ns()) == FR_FULL) {
                st->full = true;
                mark_pending(st, k); /* flushed and closed on its next turn */
            } else {
                conn_close(st, k);
            }
            continue;
        }
        if (k->buf && k->off == k->len && now - k->last_ns > BUF_IDLE_FREE_NS) {
            free(k->buf);
            k->buf = NULL;
            k->off = k->len = k->cap = 0;
        }
    }
}

static void service_pending(tcp_state *st, hm_batch *b) {
    if (!st->npending) return;
    size_t n = st->npending;
    memcpy(st->pending_tmp, st->pending, n * sizeof(conn *));
    st->npending = 0;
    for (size_t i = 0; i < n; i++) {
        conn *k = st->pending_tmp[i];
        k->pending = false;
        if (st->full || b->n >= b->cap) {
            mark_pending(st, k);
            continue;
        }
        service(st, k, b);
    }
}

static int tcp_read_batch(hm_source *src, hm_batch *b) {
    tcp_state *st = src->state;
    if (!st->sigpipe_blocked) {
        /* OpenSSL writes with write(): a peer gone mid-handshake must not raise SIGPIPE */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        st->sigpipe_blocked = true;
    }
    b->origin = st->c.label;
    b->source_index = src->index;
    st->full = false;
    sl_batch_begin(&st->c);
    sl_tick(&st->c, false);
    int64_t start = hm_mono_ns(), deadline = start + 100 * 1000000LL;
    if (start - st->last_sweep_ns >= 500 * 1000000LL) {
        st->last_sweep_ns = start;
        sweep(st, b);
    }
    for (int round = 0;; round++) {
        service_pending(st, b);
        if (st->full || b->n >= b->cap || *src->opts.stop) break;
        int64_t now = hm_mono_ns();
        int timeout = 0;
        if (!b->n && !st->npending && now < deadline)
            timeout = (int)((deadline - now + 999999) / 1000000);
        int ne = epoll_wait(st->ep, st->evs, MAX_EVENTS, timeout);
        if (ne < 0) {
            if (errno == EINTR) continue;
            hm_error("syslog", "%s: epoll_wait: %s", st->c.label, strerror(errno));
            return HM_EIO;
        }
        for (int i = 0; i < ne; i++) {
            conn *k = st->evs[i].data.ptr;
            if (!k)
                accept_all(st);
            else if (!st->full && b->n < b->cap)
                service(st, k, b);
        }
        if (st->full || b->n >= b->cap) break;
        now = hm_mono_ns();
        if (b->n && (now >= deadline || (ne == 0 && !st->npending))) break;
        if (!b->n && now >= deadline && !st->npending) break;
        if (now >= deadline + 400 * 1000000LL) break; /* a pending stream of skipped bytes */
    }
    sl_batch_end(&st->c, b->n);
    return (int)b->n;
}

static void tcp_stats_json(hm_source *src, hm_buf *out) {
    tcp_state *st = src->state;
    if (!st) return;
    sl_stats_common(&st->c, out);
    hm_buf_printf(out, ",\"connections\":%llu,\"connections_total\":%llu,\"max_conn\":%zu",
                  (unsigned long long)atomic_load(&st->connections),
                  (unsigned long long)atomic_load(&st->connections_total), st->c.max_conn);
}

static void tcp_free(tcp_state *st) {
    if (st->conns)
        for (size_t i = 0; i < st->c.max_conn; i++)
            if (st->conns[i]) conn_close(st, st->conns[i]);
    if (st->lfd >= 0) close(st->lfd);
    if (st->ep >= 0) close(st->ep);
    if (st->reserve_fd >= 0) close(st->reserve_fd);
    if (st->ctx) SSL_CTX_free(st->ctx);
    free(st->conns);
    free(st->free_slots);
    free(st->pending);
    free(st->pending_tmp);
    sl_common_free(&st->c);
    free(st);
}

static int ssl_fail(char *err, size_t errlen, const char *label, const char *what,
                    const char *path) {
    char msg[256] = "";
    unsigned long e = ERR_peek_last_error();
    if (e) ERR_error_string_n(e, msg, sizeof msg);
    snprintf(err, errlen, "%s: %s %s: %s", label, what, path ? path : "", msg[0] ? msg : "failed");
    ERR_clear_error();
    return HM_EUSAGE;
}

static int tls_setup(tcp_state *st, char *err, size_t errlen) {
    sl_common *c = &st->c;
    if (!c->cert || !c->key) {
        snprintf(err, errlen, "%s: syslog+tls needs ?cert=PATH&key=PATH (PEM), optionally &ca=PATH",
                 c->label);
        return HM_EUSAGE;
    }
    st->ctx = SSL_CTX_new(TLS_server_method());
    if (!st->ctx) return ssl_fail(err, errlen, c->label, "cannot create a TLS context", NULL);
    SSL_CTX_set_min_proto_version(st->ctx, TLS1_2_VERSION);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    SSL_CTX_set_options(st->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
    SSL_CTX_set_options(st->ctx, SSL_OP_NO_RENEGOTIATION);
    /* No TLS 1.3 session tickets: a sender never reads them, and a socket closed with unread
     * bytes sends RST, which makes the kernel discard the sender's last queued messages. */
    SSL_CTX_set_num_tickets(st->ctx, 0);
    if (SSL_CTX_use_certificate_chain_file(st->ctx, c->cert) != 1)
        return ssl_fail(err, errlen, c->label, "cannot load certificate", c->cert);
    if (SSL_CTX_use_PrivateKey_file(st->ctx, c->key, SSL_FILETYPE_PEM) != 1)
        return ssl_fail(err, errlen, c->label, "cannot load private key", c->key);
    if (SSL_CTX_check_private_key(st->ctx) != 1)
        return ssl_fail(err, errlen, c->label, "private key does not match certificate", c->key);
    if (c->ca) {
        if (SSL_CTX_load_verify_locations(st->ctx, c->ca, NULL) != 1)
            return ssl_fail(err, errlen, c->label, "cannot load CA file", c->ca);
        SSL_CTX_set_verify(st->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    return HM_OK;
}

static int stream_open(hm_source *src, const char *uri, const hm_conn_opts *opts, bool tls,
                       char *err, size_t errlen) {
    src->opts = *opts;
    tcp_state *st = hm_xcalloc(1, sizeof *st);
    st->lfd = st->ep = st->reserve_fd = -1;
    st->c.opts = *opts;
    sl_common *c = &st->c;
    if (sl_parse_uri(c, uri, tls ? SL_TLS : SL_TCP,
                     tls ? "cert,key,ca,idle,max_conn,top" : "idle,max_conn,top", err,
                     errlen) != HM_OK)
        goto fail;
    if (tls && tls_setup(st, err, errlen) != HM_OK) goto fail;
    st->limit = opts->max_record < opts->hard_cap ? opts->max_record : opts->hard_cap;
    if (st->limit < 16) st->limit = 16;
    st->buf_max = st->limit + MAX_DIGITS + 2 + TCP_CHUNK;
    /* descriptors: every connection needs one */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rlim_t need = (rlim_t)c->max_conn + 64;
        if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
            rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
            if (rl.rlim_cur < need)
                hm_warn("syslog",
                        "%s: max_conn=%zu but the open-file limit is %llu: connections beyond "
                        "that fail (raise `ulimit -n`)",
                        c->label, c->max_conn, (unsigned long long)rl.rlim_cur);
        }
    }
    st->lfd = sl_bind(c, err, errlen);
    if (st->lfd < 0) goto fail;
    if (listen(st->lfd, SOMAXCONN) != 0) {
        snprintf(err, errlen, "%s: listen: %s", c->label, strerror(errno));
        goto fail;
    }
    st->ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (st->ep < 0 || epoll_ctl(st->ep, EPOLL_CTL_ADD, st->lfd, &ev) != 0) {
        snprintf(err, errlen, "%s: epoll: %s", c->label, strerror(errno));
        goto fail;
    }
    st->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    st->conns = hm_xcalloc(c->max_conn, sizeof(conn *));
    st->free_slots = hm_xmalloc(c->max_conn * sizeof(int));
    for (size_t i = 0; i < c->max_conn; i++) st->free_slots[i] = (int)(c->max_conn - 1 - i);
    st->nfree = c->max_conn;
    st->pending = hm_xmalloc(c->max_conn * sizeof(conn *));
    st->pending_tmp = hm_xmalloc(c->max_conn * sizeof(conn *));
    st->last_sweep_ns = hm_mono_ns();
    hm_info("syslog", "%s: listening on %s %s (max_conn %zu, idle %.0f s%s)", c->label,
            tls ? "tls" : "tcp", c->bind_text, c->max_conn, (double)c->idle_ns / 1e9,
            tls && c->ca ? ", client certificates required" : "");
    src->state = st;
    return HM_OK;
fail:
    tcp_free(st);
    return HM_EUSAGE;
}

static int tcp_open(hm_source *src, const char *uri, const hm_conn_opts *opts, char *err,
                    size_t errlen) {
    return stream_open(src, uri, opts, false, err, errlen);
}

static int tls_open(hm_source *src, const char *uri, const hm_conn_opts *opts, char *err,
                    size_t errlen) {
    return stream_open(src, uri, opts, true, err, errlen);
}

static void tcp_close(hm_source *src) {
    tcp_state *st = src->state;
    if (!st) return;
    sl_tick(&st->c, true);
    tcp_free(st);
    src->state = NULL;
}

const hm_connector_ops hm_conn_syslog_tcp = {
    .abi = HM_CONNECTOR_ABI,
    .scheme = "syslog+tcp",
    .description = "syslog listener over TCP (RFC 6587: LF or octet-counted framing per frame)",
    .open = tcp_open,
    .read_batch = tcp_read_batch,
    .stats_json = tcp_stats_json,
    .close = tcp_close,
};

const hm_connector_ops hm_conn_syslog_tls = {
    .abi = HM_CONNECTOR_ABI,
    .scheme = "syslog+tls",
    .description = "syslog listener over TLS (RFC 5425; LF framing also accepted)",
    .open = tls_open,
    .read_batch = tcp_read_batch,
    .stats_json = tcp_stats_json,
    .close = tcp_close,
};
