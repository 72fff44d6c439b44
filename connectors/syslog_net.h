/* syslog_net.h - internals shared by the syslog listeners (syslog_udp.c, syslog_tcp.c):
 * listener URI parsing, the per-source sender table (interned origins + per-sender
 * counts), rate-limited logging per cause, and the common stats members.
 *
 * Threading: everything here is written by the source's connector thread only (open and
 * close run on the main thread while that thread is not running). stats_json runs on the
 * writer thread and reads only the _Atomic counters and published sender entries. */
#ifndef HM_SYSLOG_NET_H
#define HM_SYSLOG_NET_H

#include <stdatomic.h>
#include <sys/socket.h>

#include "connector.h"

#define SL_MAX_SENDERS  1024 /* interned origins per listener; beyond: the listener origin */
#define SL_TOP_DEFAULT  20   /* senders listed in --stats */
#define SL_LOG_EVERY_NS (60LL * 1000000000LL) /* summary of repeated causes */

typedef enum sl_proto { SL_UDP, SL_TCP, SL_TLS } sl_proto;

/* Causes logged once, then counted (and summarized at most once a minute). */
typedef enum sl_cause {
    SL_C_BAD_FRAME,    /* invalid octet count: framing lost, connection closed */
    SL_C_INCOMPLETE,   /* octet-counted frame cut by close/timeout: dropped */
    SL_C_TRUNCATED,    /* record longer than --max-record: prefix kept, flagged */
    SL_C_REFUSED,      /* max_conn reached */
    SL_C_IDLE,         /* connection closed after ?idle */
    SL_C_TLS,          /* TLS handshake or record failure */
    SL_C_RESET,        /* read error (ECONNRESET...) */
    SL_C_ACCEPT,       /* accept() failed (EMFILE...) */
    SL_C_SENDERS_FULL, /* more distinct senders than SL_MAX_SENDERS */
    SL_C_EMPTY,        /* empty datagram */
    SL_C_RECV,         /* unexpected recv error */
    SL_C_COUNT
} sl_cause;

typedef struct sl_ratelog {
    _Atomic uint64_t count;
    uint64_t reported; /* count at the last log line */
    int64_t last_ns;   /* mono time of the last log line */
} sl_ratelog;

typedef struct sl_sender {
    char *origin;     /* "syslog+udp://127.0.0.1:5514/10.1.2.3": lives until close */
    const char *addr; /* points into origin */
    _Atomic uint64_t records;
    uint8_t key[17]; /* family byte + address bytes */
    uint8_t keylen;
} sl_sender;

typedef struct sl_common {
    sl_proto proto;
    const char *scheme;
    char *label; /* listener origin: the URI without its query ("syslog+udp://0.0.0.0:514") */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int socktype;
    char bind_text[300]; /* "127.0.0.1:5514" for log lines */
    /* options from the query string */
    int64_t idle_ns;
    size_t max_conn;
    size_t rcvbuf;
    unsigned top;
    char *cert, *key, *ca;
    /* sender table: entries [0, n_senders) are immutable once published */
    sl_sender *senders;
    _Atomic size_t n_senders;
    int32_t *htab; /* open addressing, -1 = empty */
    size_t hmask;
    int last_sender;                /* lookup cache */
    _Atomic uint64_t other_records; /* records from senders beyond the table */
    /* counters */
    _Atomic uint64_t records, bytes;
    sl_ratelog rl[SL_C_COUNT];
    int64_t last_tick_ns;
    uint64_t seq; /* receive sequence: the position of the next record */
    hm_conn_opts opts;
    /* where the listener's time goes (mono ns; --stats "active_s", "cpu_s", "wait_s"):
     * first record received .. last batch handed over; the thread's CPU time; time spent
     * outside read_batch after handing a batch over (the pipeline had no free batch) */
    int64_t batch_end_ns;
    _Atomic int64_t first_ns, last_ns, cpu_ns, wait_ns;
} sl_common;

/* Parses "scheme://HOST:PORT[/][?k=v&...]" into c (scheme must match; `allowed` is a
 * comma-separated list of accepted query keys). Resolves HOST numerically or by name. */
int sl_parse_uri(sl_common *c, const char *uri, sl_proto proto, const char *allowed, char *err,
                 size_t errlen);
void sl_common_free(sl_common *c);

/* Creates a bound, non-blocking socket for c (SOCK_DGRAM or SOCK_STREAM). */
int sl_bind(sl_common *c, char *err, size_t errlen);

/* Sender index for an address (interned on first sight), or -1 once the table is full. */
int sl_sender_for(sl_common *c, const struct sockaddr *sa);
/* "ADDR" text of a sockaddr (IPv4-mapped IPv6 shown as IPv4), with ":port" if asked. */
void sl_addr_text(const struct sockaddr *sa, bool with_port, char *out, size_t outlen);

/* Logs the first occurrence of a cause with its details; later ones are counted and
 * summarized by sl_tick at most once a minute. */
void sl_note(sl_common *c, sl_cause cause, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline uint64_t sl_count(sl_common *c, sl_cause cause) {
    return atomic_load_explicit(&c->rl[cause].count, memory_order_relaxed);
}
void sl_tick(sl_common *c, bool final);

/* Appends one record (copied into the batch buffer) with the next receive sequence. */
void sl_emit(sl_common *c, hm_batch *b, int sender, const char *p, size_t len, uint32_t flags,
             uint64_t orig_len, int64_t now_ns);
/* Is there room in b for one more record of len bytes without growing the buffer past
 * its capacity (a batch's first record may always grow it)? */
static inline bool sl_room(const hm_batch *b, size_t len) {
    return b->n < b->cap && (b->n == 0 || b->buf_len + len <= b->buf_cap);
}

/* Bracket read_batch: account the time the pipeline held the listener, the thread's CPU
 * time, and the end of the active period (n = records handed over). */
void sl_batch_begin(sl_common *c);
void sl_batch_end(sl_common *c, uint32_t n);

/* Common stats members ("records":..,"senders":{...}); no leading or trailing comma. */
void sl_stats_common(sl_common *c, hm_buf *out);

#endif
