/* sendlog.c - a fast local syslog sender for `make bench` (bench/syslog_bench.py):
 *
 *   hm-sendlog tcp HOST:PORT FILE [--octet] [--lines N]
 *   hm-sendlog udp HOST:PORT FILE [--rate LINES_PER_S] [--lines N] [--burst N]
 *
 * FILE holds one message per line (empty lines are not sent). It is loaded into memory
 * before the clock starts, so the disk is never measured.
 *
 * tcp: one connection. LF framing sends each line and an LF (1 MiB writes); --octet sends
 *      RFC 6587 octet-counted frames ("LEN MSG", built before the clock starts). After the
 *      last byte the sender half-closes and waits for the listener to close its side: the
 *      listener does that once it has framed everything, so "elapsed_s" runs from connect
 *      to the last line handed over, not to the last byte buffered by the kernel.
 * udp: one datagram per line, sent with sendmmsg in bursts of --burst (default 32). With
 *      --rate, bursts are paced on an absolute schedule (lines sent = rate x time), so the
 *      average rate is exact and a late burst is caught up rather than lost.
 *
 * --lines N sends N lines, cycling through the file when N is larger than it.
 * HOST:PORT "-": once FILE is loaded, print "ready" on stderr and read HOST:PORT from
 * stdin (the listener can then be started after the sender's preparation, which takes a
 * second or more for a large file, and need not wait idle meanwhile).
 * Prints one JSON object: lines, bytes, elapsed_s, lines_per_s, cpu_s (this process, user +
 * system), and for udp target_rate and send_errors. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WRITE_CHUNK (1 << 20)
#define MAX_BURST   1024

typedef struct line {
    const char *p;
    uint32_t len;
} line;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time (user + system) of this process: with UDP over loopback the kernel delivers each
 * datagram inside the sender's system call, so this is most of the cost of a datagram. */
static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static _Noreturn void die(const char *what) {
    fprintf(stderr, "hm-sendlog: %s: %s\n", what, strerror(errno));
    exit(1);
}

static _Noreturn void usage(void) {
    fprintf(stderr, "usage: hm-sendlog tcp HOST:PORT FILE [--octet] [--lines N]\n"
                    "       hm-sendlog udp HOST:PORT FILE [--rate LINES_PER_S] [--lines N] "
                    "[--burst N]\n");
    exit(2);
}

/* Loads FILE and indexes its non-empty lines (a trailing CR is not part of a line). */
static line *load_lines(const char *path, char **data_out, size_t *size_out, size_t *n_out) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die(path);
    struct stat sb;
    if (fstat(fd, &sb) != 0) die(path);
    size_t size = (size_t)sb.st_size;
    char *data = malloc(size + 1);
    if (!data) die("malloc");
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, data + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) die(path);
        got += (size_t)r;
    }
    close(fd);
    size_t cap = 1 << 16, n = 0;
    line *v = malloc(cap * sizeof *v);
    if (!v) die("malloc");
    for (char *p = data, *e = data + size; p < e;) {
        char *nl = memchr(p, '\n', (size_t)(e - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(e - p);
        size_t rl = l && p[l - 1] == '\r' ? l - 1 : l;
        if (rl) {
            if (n == cap) {
                cap *= 2;
                v = realloc(v, cap * sizeof *v);
                if (!v) die("realloc");
            }
            v[n].p = p;
            v[n].len = (uint32_t)rl;
            n++;
        }
        p += l + 1;
    }
    *data_out = data;
    *size_out = size;
    *n_out = n;
    return v;
}

/* "-": announce readiness, then take the address from stdin */
static const char *resolve_target(const char *hostport) {
    static char buf[300];
    if (strcmp(hostport, "-")) return hostport;
    fprintf(stderr, "ready\n");
    fflush(stderr);
    if (!fgets(buf, sizeof buf, stdin)) {
        fprintf(stderr, "hm-sendlog: no HOST:PORT on stdin\n");
        exit(1);
    }
    buf[strcspn(buf, "\r\n")] = 0;
    return buf;
}

static int connect_to(const char *hostport, int socktype) {
    hostport = resolve_target(hostport);
    char host[256];
    const char *colon = strrchr(hostport, ':');
    if (!colon || (size_t)(colon - hostport) >= sizeof host) usage();
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = 0;
    char *h = host;
    if (h[0] == '[') { /* [::1]:514 */
        h++;
        char *rb = strchr(h, ']');
        if (rb) *rb = 0;
    }
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = socktype;
    int gr = getaddrinfo(h, colon + 1, &hints, &res);
    if (gr != 0 || !res) {
        fprintf(stderr, "hm-sendlog: %s: %s\n", hostport, gai_strerror(gr));
        exit(1);
    }
    int fd = socket(res->ai_family, socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    if (connect(fd, res->ai_addr, res->ai_addrlen) != 0) die(hostport);
    freeaddrinfo(res);
    return fd;
}

static void write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = send(fd, p, n < WRITE_CHUNK ? n : WRITE_CHUNK, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            die("send");
        }
        p += w;
        n -= (size_t)w;
    }
}

/* The bytes to send on the stream: `count` lines from v (cycling), LF- or octet-framed. */
static char *build_stream(const line *v, size_t nv, size_t count, bool octet, size_t *len_out) {
    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        const line *l = &v[i % nv];
        total += l->len + (octet ? 12 : 1);
    }
    char *out = malloc(total ? total : 1), *q = out;
    if (!out) die("malloc");
    for (size_t i = 0; i < count; i++) {
        const line *l = &v[i % nv];
        if (octet) q += sprintf(q, "%u ", l->len);
        memcpy(q, l->p, l->len);
        q += l->len;
        if (!octet) *q++ = '\n';
    }
    *len_out = (size_t)(q - out);
    return out;
}

static int send_tcp(const char *hostport, const line *v, size_t nv, size_t count, bool octet) {
    size_t len;
    char *out = build_stream(v, nv, count, octet, &len);
    hostport = resolve_target(hostport);
    double t0 = now_s(), c0 = cpu_s();
    int fd = connect_to(hostport, SOCK_STREAM);
    write_all(fd, out, len);
    /* half-close, then wait for the listener to close: it does once it framed everything */
    shutdown(fd, SHUT_WR);
    struct timeval tv = {.tv_sec = 300};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char sink[4096];
    bool closed = false;
    for (;;) {
        ssize_t r = recv(fd, sink, sizeof sink, 0);
        if (r > 0) continue;
        if (r < 0 && errno == EINTR) continue;
        closed = r == 0 || errno == ECONNRESET;
        break;
    }
    double el = now_s() - t0, cpu = cpu_s() - c0;
    close(fd);
    printf("{\"proto\":\"tcp\",\"framing\":\"%s\",\"lines\":%zu,\"bytes\":%zu,\"elapsed_s\":%.6f,"
           "\"lines_per_s\":%.0f,\"cpu_s\":%.3f,\"closed_by_peer\":%s}\n",
           octet ? "octet" : "lf", count, len, el, el > 0 ? (double)count / el : 0.0, cpu,
           closed ? "true" : "false");
    free(out);
    return closed ? 0 : 1;
}

static void sleep_until(double t) {
    struct timespec ts;
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

static int send_udp(const char *hostport, const line *v, size_t nv, size_t count, double rate,
                    unsigned burst) {
    int fd = connect_to(hostport, SOCK_DGRAM);
    int sb = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof sb);
    prctl(PR_SET_TIMERSLACK, 1UL); /* pacing needs sleeps close to what was asked */
    static struct mmsghdr msgs[MAX_BURST];
    static struct iovec iov[MAX_BURST];
    size_t sent = 0, bytes = 0, errors = 0;
    double t0 = now_s(), c0 = cpu_s();
    while (sent < count) {
        if (rate > 0) { /* absolute schedule: line i leaves at t0 + i / rate */
            double due = t0 + (double)sent / rate;
            if (now_s() < due) sleep_until(due);
        }
        unsigned n = count - sent < burst ? (unsigned)(count - sent) : burst;
        for (unsigned i = 0; i < n; i++) {
            const line *l = &v[(sent + i) % nv];
            iov[i].iov_base = (void *)l->p;
            iov[i].iov_len = l->len;
            memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            bytes += l->len;
        }
        for (unsigned done = 0; done < n;) {
            int r = sendmmsg(fd, msgs + done, n - done, 0);
            if (r < 0) {
                if (errno == EINTR) continue;
                /* ECONNREFUSED (nobody listening, reported late) or ENOBUFS: count, move on */
                errors++;
                done++;
                continue;
            }
            done += (unsigned)r;
        }
        sent += n;
    }
    double el = now_s() - t0, cpu = cpu_s() - c0;
    close(fd);
    printf("{\"proto\":\"udp\",\"lines\":%zu,\"bytes\":%zu,\"elapsed_s\":%.6f,\"lines_per_s\":%.0f,"
           "\"cpu_s\":%.3f,\"target_rate\":%.0f,\"burst\":%u,\"send_errors\":%zu}\n",
           sent, bytes, el, el > 0 ? (double)sent / el : 0.0, cpu, rate, burst, errors);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4) usage();
    const char *proto = argv[1], *hostport = argv[2], *path = argv[3];
    bool octet = false;
    long long want = -1;
    double rate = 0;
    unsigned burst = 32;
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--octet"))
            octet = true;
        else if (!strcmp(argv[i], "--lines") && i + 1 < argc)
            want = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--rate") && i + 1 < argc)
            rate = atof(argv[++i]);
        else if (!strcmp(argv[i], "--burst") && i + 1 < argc)
            burst = (unsigned)atoi(argv[++i]);
        else
            usage();
    }
    if (burst < 1 || burst > MAX_BURST) usage();
    char *data;
    size_t size, nv;
    line *v = load_lines(path, &data, &size, &nv);
    if (!nv) {
        fprintf(stderr, "hm-sendlog: %s: no lines\n", path);
        return 1;
    }
    size_t count = want >= 0 ? (size_t)want : nv;
    int rc;
    if (!strcmp(proto, "tcp"))
        rc = send_tcp(hostport, v, nv, count, octet);
    else if (!strcmp(proto, "udp"))
        rc = send_udp(hostport, v, nv, count, rate, burst);
    else
        usage();
    free(v);
    free(data);
    return rc;
}
