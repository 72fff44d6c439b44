/* file.c - file and stdin connectors: line-framed records, byte offsets as positions.
 *
 * `file:PATH` accepts globs (sorted, read one after another). With --follow the last
 * file is tailed like `tail -F`: growth is read, and a rotated (new inode) or truncated
 * file is reopened from its start. RFC 6587 octet counting inside files is handled by
 * the syslog parser, not here.
 *
 * Without --follow a regular file is mapped (mmap) and handed to the workers in chunks
 * of whole lines, which they split themselves: no copy, and the reader thread does
 * almost nothing, which is what lets two workers on two cores run nearly twice as fast
 * as one. A file that shrinks while mapped (copytruncate) would raise SIGBUS: a handler
 * maps zero pages over the lost tail instead, those lines are dead-lettered (NUL bytes),
 * and the connector reports the file by name. Growing files, stdin, pipes and --follow
 * use read(). */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "connector.h"

#define MAP_CHUNK_MAX (4 * 1024 * 1024) /* most bytes of whole lines per mapped chunk */
#define MAP_DROP_STEP (8 * 1024 * 1024) /* written pages are given back this many at a time */

/* ---- mapped files and the SIGBUS guard ----
 * Every live mapping has a slot the signal handler can read without locks: start is
 * published last (release) and cleared first when the mapping goes away. */
#define MAP_SLOTS 256
static struct map_slot {
    _Atomic uintptr_t start; /* 0 = free */
    size_t len;
    atomic_int cut; /* the handler served a fault here: the file shrank */
} g_map_slots[MAP_SLOTS];
static uintptr_t g_page_mask;
static pthread_once_t g_page_once = PTHREAD_ONCE_INIT;

static void sigbus_handler(int sig, siginfo_t *si, void *uc) {
    HM_UNUSED(uc);
    uintptr_t a = (uintptr_t)si->si_addr;
    for (int i = 0; i < MAP_SLOTS; i++) {
        uintptr_t s0 = atomic_load_explicit(&g_map_slots[i].start, memory_order_acquire);
        if (!s0 || a < s0 || a >= s0 + g_map_slots[i].len) continue;
        /* zero pages from the faulting page to the end of the mapping: the read retries
         * and sees NUL bytes where the file was cut */
        uintptr_t pg = a & ~g_page_mask;
        void *r = mmap((void *)pg, s0 + g_map_slots[i].len - pg, PROT_READ,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (r != MAP_FAILED) {
            atomic_store(&g_map_slots[i].cut, 1);
            return;
        }
    }
    /* not ours: the default action (core dump) when the instruction faults again */
    signal(sig, SIG_DFL);
}

static void page_mask_init(void) {
    g_page_mask = (uintptr_t)sysconf(_SC_PAGESIZE) - 1;
}

/* Installed again for every mapped file: a library (or test harness) that set its own
 * SIGBUS handler since would otherwise turn a cut file into a crash. */
static void sigbus_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = sigbus_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
}

static int slot_claim(const char *addr, size_t len) {
    for (int i = 0; i < MAP_SLOTS; i++) {
        uintptr_t zero = 0;
        /* claim with a placeholder, set len, then publish the real start */
        if (atomic_compare_exchange_strong(&g_map_slots[i].start, &zero, (uintptr_t)1)) {
            g_map_slots[i].len = len;
            atomic_store(&g_map_slots[i].cut, 0);
            atomic_store_explicit(&g_map_slots[i].start, (uintptr_t)addr, memory_order_release);
            return i;
        }
    }
    return -1;
}

/* A mapped file whose chunks are still in the pipeline. */
typedef struct live_map {
    char *addr;
    size_t len;
    int slot;
    size_t dropped;   /* pages before addr + dropped are given back (MADV_DONTNEED) */
    const char *path; /* file_state.paths[...], lives as long as the source */
    struct live_map *next;
} live_map;

typedef struct file_state {
    char **paths;
    char **origins; /* "file:<path>" per path, engine lifetime */
    size_t npaths, cur;
    int fd;
    dev_t dev;
    ino_t ino;
    uint64_t off; /* file offset of carry[0] */
    char *carry;  /* partial line kept between reads */
    size_t carry_len, carry_cap;
    bool skipping; /* inside an over-cap line: discard until newline */
    bool is_stdin;
    bool eof_current;   /* current file reached EOF at least once */
    char *glob_pattern; /* for --follow: files created later */
    /* the current file when mapped: chunks are taken from map + map_off */
    char *map;
    size_t map_len, map_off;
    bool try_map; /* regular files are mapped (not with --follow, not stdin) */
    /* bytes per line, x16: chunks hold about a batch's worth (--batch) of lines. Sampled
     * when a file is mapped, then kept current by the acks (the workers count the lines) */
    _Atomic uint64_t line_bytes_x16;
    uint64_t acked_bytes, acked_lines; /* writer thread only */
    pthread_mutex_t live_mu; /* the connector adds live maps, the writer's ack removes them */
    live_map *live;
} file_state;

static void map_release(live_map *m) {
    atomic_store_explicit(&g_map_slots[m->slot].start, 0, memory_order_release);
    if (atomic_load(&g_map_slots[m->slot].cut))
        hm_error("input",
                 "%s: the file shrank while it was being read (truncated or rewritten in "
                 "place); the lost lines read as NUL bytes and were dead-lettered",
                 m->path);
    munmap(m->addr, m->len);
    free(m);
}

/* Map the open regular file st->fd of `size` bytes; false leaves it to read(). */
static bool map_current(file_state *st, size_t size) {
    pthread_once(&g_page_once, page_mask_init);
    sigbus_install();
    char *addr = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_NORESERVE, st->fd, 0);
    if (addr == MAP_FAILED) return false;
    int slot = slot_claim(addr, size);
    if (slot < 0) { /* too many files in flight: read this one */
        munmap(addr, size);
        return false;
    }
    live_map *m = hm_xcalloc(1, sizeof(*m));
    m->addr = addr;
    m->len = size;
    m->slot = slot;
    m->path = st->paths[st->cur];
    pthread_mutex_lock(&st->live_mu);
    m->next = st->live;
    st->live = m;
    pthread_mutex_unlock(&st->live_mu);
    st->map = addr;
    st->map_len = size;
    st->map_off = 0;
    if (!atomic_load(&st->line_bytes_x16)) { /* first file: lines in its first 64 KiB */
        size_t sample = size < 65536 ? size : 65536, lines = 0;
        for (const char *p = addr, *e = addr + sample; (p = memchr(p, '\n', (size_t)(e - p))); p++)
            lines++;
        atomic_store(&st->line_bytes_x16, (uint64_t)sample * 16 / (lines ? lines : 1));
    }
    close(st->fd);
    st->fd = -1;
    return true;
}

static int open_current(file_state *st, char *err, size_t errlen) {
    if (st->is_stdin) {
        st->fd = 0;
        return HM_OK;
    }
    const char *path = st->paths[st->cur];
    st->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (st->fd < 0) {
        if (err) snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return HM_EIO;
    }
    struct stat sb;
    st->off = 0;
    st->carry_len = 0;
    st->skipping = false;
    st->eof_current = false;
    if (fstat(st->fd, &sb) == 0) {
        st->dev = sb.st_dev;
        st->ino = sb.st_ino;
        if (S_ISDIR(sb.st_mode)) {
            if (err) snprintf(err, errlen, "%s: is a directory (use a glob like DIR/*.log)", path);
            close(st->fd);
            st->fd = -1;
            return HM_EIO;
        }
        if (st->try_map && S_ISREG(sb.st_mode) && sb.st_size > 0)
            map_current(st, (size_t)sb.st_size);
    }
    return HM_OK;
}

static int file_open_common(hm_source *src, const char *uri, bool is_stdin, char *err,
                            size_t errlen) {
    file_state *st = hm_xcalloc(1, sizeof(*st));
    st->fd = -1;
    st->is_stdin = is_stdin;
    st->try_map = !is_stdin && !src->opts.follow;
    pthread_mutex_init(&st->live_mu, NULL);
    if (is_stdin) {
        st->npaths = 1;
        st->paths = hm_xcalloc(1, sizeof(char *));
        st->origins = hm_xcalloc(1, sizeof(char *));
        st->paths[0] = hm_xstrdup("-");
        st->origins[0] = hm_xstrdup("stdin");
    } else {
        const char *path = !strncmp(uri, "file://", 7) ? uri + 7
                           : !strncmp(uri, "file:", 5) ? uri + 5
                                                       : uri;
        glob_t g;
        int rc = glob(path, GLOB_ERR | GLOB_NOCHECK, NULL, &g);
        if (rc != 0) {
            snprintf(err, errlen, "%s: cannot expand input pattern", uri);
            free(st);
            return HM_EUSAGE;
        }
        st->npaths = g.gl_pathc;
        st->paths = hm_xcalloc(g.gl_pathc, sizeof(char *));
        st->origins = hm_xcalloc(g.gl_pathc, sizeof(char *));
        for (size_t i = 0; i < g.gl_pathc; i++) {
            st->paths[i] = hm_xstrdup(g.gl_pathv[i]);
            size_t l = strlen(g.gl_pathv[i]) + 6;
            st->origins[i] = hm_xmalloc(l);
            snprintf(st->origins[i], l, "file:%s", g.gl_pathv[i]);
        }
        globfree(&g);
        /* Without --follow a missing file is an error; with it, we wait for it. */
        if (!src->opts.follow) {
            for (size_t i = 0; i < st->npaths; i++)
                if (access(st->paths[i], R_OK) != 0) {
                    snprintf(err, errlen, "%s: cannot read input: %s", st->paths[i],
                             strerror(errno));
                    for (size_t j = 0; j < st->npaths; j++) {
                        free(st->paths[j]);
                        free(st->origins[j]);
                    }
                    free(st->paths);
                    free(st->origins);
                    free(st);
                    return HM_EUSAGE;
                }
        }
    }
    st->carry_cap = 64 * 1024;
    st->carry = hm_xmalloc(st->carry_cap);
    src->state = st;
    if (!src->opts.follow || is_stdin) {
        int rc = open_current(st, err, errlen);
        if (rc != HM_OK) return HM_EUSAGE;
    }
    return HM_OK;
}

static int file_open(hm_source *src, const char *uri, const hm_conn_opts *opts, char *err,
                     size_t errlen) {
    src->opts = *opts;
    return file_open_common(src, uri, false, err, errlen);
}

static int stdin_open(hm_source *src, const char *uri, const hm_conn_opts *opts, char *err,
                      size_t errlen) {
    HM_UNUSED(uri);
    src->opts = *opts;
    return file_open_common(src, "-", true, err, errlen);
}

static void add_record(hm_source *src, hm_batch *b, const char *p, size_t len, uint64_t pos,
                       int64_t now, uint64_t orig_len, uint32_t flags) {
    if (len && p[len - 1] == '\r') len--;
    hm_record *r = &b->rec[b->n++];
    r->data = p;
    r->len = (uint32_t)len;
    r->pos = pos;
    r->recv_ns = now;
    r->orig_len = orig_len;
    r->flags = flags;
    r->origin = NULL;
    r->partition = -1;
    r->key = NULL;
    r->key_len = 0;
    if (len > src->opts.max_record) r->flags |= HM_REC_OVERSIZE;
}

/* Has the followed file been rotated (new inode) or truncated? */
static bool rotated(file_state *st) {
    struct stat sb;
    if (st->is_stdin) return false;
    if (stat(st->paths[st->cur], &sb) != 0) return false;
    if (sb.st_ino != st->ino || sb.st_dev != st->dev) return true;
    off_t pos = lseek(st->fd, 0, SEEK_CUR);
    return pos >= 0 && sb.st_size < pos;
}

/* The next chunk of whole lines of the mapped current file, for the workers to split. */
static int map_read_batch(hm_source *src, hm_batch *b) {
    file_state *st = src->state;
    const char *base = st->map + st->map_off;
    size_t rem = st->map_len - st->map_off, take = rem;
    uint64_t want = (uint64_t)b->cap * atomic_load(&st->line_bytes_x16) / 16;
    size_t target = want < 1 ? 1 : want > MAP_CHUNK_MAX ? MAP_CHUNK_MAX : (size_t)want;
    if (rem > target) {
        const char *nl = memrchr(base, '\n', target);
        if (!nl) nl = memchr(base + target, '\n', rem - target); /* one long line */
        if (nl) take = (size_t)(nl + 1 - base);
    }
    b->origin = st->origins[st->cur];
    b->source_index = src->index;
    b->chunk = base;
    b->chunk_len = take;
    b->chunk_pos = st->map_off;
    b->chunk_recv_ns = hm_now_ns();
    st->map_off += take;
    if (st->map_off == st->map_len) { /* done with this file; its live map goes at the ack */
        st->map = NULL;
        st->cur++;
    }
    return 1;
}

static int file_read_batch(hm_source *src, hm_batch *b) {
    file_state *st = src->state;
    if (st->map) return map_read_batch(src, b);
    if (st->fd < 0) {
        if (st->cur >= st->npaths) return HM_EOF;
        if (open_current(st, NULL, 0) != HM_OK) {
            if (src->opts.follow) return 0; /* not there yet: wait */
            hm_error("input", "%s: cannot open: %s", st->paths[st->cur], strerror(errno));
            return HM_EIO;
        }
        if (st->map) return map_read_batch(src, b);
    }
    b->origin = st->origins[st->cur];
    b->source_index = src->index;
    /* Start the batch buffer with the carried partial line. */
    hm_batch_reserve_buf(b, st->carry_len + 256 * 1024);
    memcpy(b->buf, st->carry, st->carry_len);
    b->buf_len = st->carry_len;
    uint64_t base = st->off; /* file offset of b->buf[0] */
    size_t scan = 0;         /* first byte not yet split */
    size_t line_start = 0;
    int64_t now = hm_now_ns();
    for (;;) {
        /* split complete lines */
        while (b->n < b->cap && scan < b->buf_len) {
            char *nl = memchr(b->buf + scan, '\n', b->buf_len - scan);
            if (!nl) {
                scan = b->buf_len;
                break;
            }
            size_t end = (size_t)(nl - b->buf);
            if (st->skipping) {
                st->skipping = false; /* the truncated prefix was already emitted */
            } else {
                add_record(src, b, b->buf + line_start, end - line_start, base + line_start, now, 0,
                           0);
            }
            scan = line_start = end + 1;
        }
        if (b->n >= b->cap) break;
        size_t pending = b->buf_len - line_start;
        if (pending >= src->opts.hard_cap && !st->skipping) {
            /* one line longer than the hard cap: keep its prefix, skip the rest */
            add_record(src, b, b->buf + line_start, src->opts.hard_cap, base + line_start, now,
                       pending, HM_REC_TRUNCATED | HM_REC_OVERSIZE);
            st->skipping = true;
            line_start = scan = b->buf_len;
            break;
        }
        if (st->skipping && pending) {
            line_start = scan = b->buf_len; /* discard bytes of the over-cap line */
        }
        if (b->n > 0 && b->buf_len - line_start < 4096 && b->buf_cap - b->buf_len < 4096) break;
        size_t want = b->buf_cap - b->buf_len;
        if (want < 64 * 1024) {
            hm_batch_reserve_buf(b, 256 * 1024);
            want = b->buf_cap - b->buf_len;
        }
        if (want > 128 * 1024) want = 128 * 1024; /* small reads keep the carried tail short */
        ssize_t r = read(st->fd, b->buf + b->buf_len, want);
        if (r < 0) {
            if (errno == EINTR) continue;
            hm_error("input", "%s: read error: %s", st->paths[st->cur], strerror(errno));
            return HM_EIO;
        }
        if (r == 0) {
            if (src->opts.follow && (st->cur + 1 >= st->npaths)) {
                if (rotated(st)) {
                    /* flush the old file's unterminated tail, then reopen */
                    if (b->buf_len > line_start && !st->skipping)
                        add_record(src, b, b->buf + line_start, b->buf_len - line_start,
                                   base + line_start, now, 0, 0);
                    line_start = b->buf_len;
                    close(st->fd);
                    st->fd = -1;
                    st->carry_len = 0;
                    st->off = 0;
                    return (int)b->n;
                }
                break; /* idle: return what we have, keep the partial line */
            }
            /* end of this file: its last line may lack a newline */
            if (b->buf_len > line_start && !st->skipping)
                add_record(src, b, b->buf + line_start, b->buf_len - line_start, base + line_start,
                           now, 0, 0);
            line_start = b->buf_len;
            if (!st->is_stdin) close(st->fd);
            st->fd = -1;
            st->carry_len = 0;
            st->off = 0;
            st->cur++;
            if (b->n > 0) return (int)b->n;
            return st->cur >= st->npaths ? HM_EOF : 0;
        }
        b->buf_len += (size_t)r;
    }
    /* carry the partial tail into the next batch */
    size_t tail = b->buf_len - line_start;
    if (tail > st->carry_cap) {
        while (st->carry_cap < tail) st->carry_cap *= 2;
        st->carry = hm_xrealloc(st->carry, st->carry_cap);
    }
    memcpy(st->carry, b->buf + line_start, tail);
    st->carry_len = tail;
    st->off = base + line_start;
    b->buf_len = line_start;
    return (int)b->n;
}

/* Called by the writer once batch b is written: the chunk's pages are no longer needed
 * (dropping them keeps resident memory at the pipeline's size, not the file's; a page
 * shared with the next chunk is simply mapped again), and the file's last chunk unmaps it. */
static void file_ack(hm_source *src, const hm_batch *b) {
    file_state *st = src->state;
    if (!b->chunk) return;
    st->acked_bytes += b->chunk_len;
    st->acked_lines += b->stats.records;
    if (st->acked_lines) atomic_store(&st->line_bytes_x16, st->acked_bytes * 16 / st->acked_lines);
    pthread_mutex_lock(&st->live_mu);
    live_map **pm = &st->live;
    while (*pm && !(b->chunk >= (*pm)->addr && b->chunk < (*pm)->addr + (*pm)->len))
        pm = &(*pm)->next;
    live_map *m = *pm;
    if (m && b->chunk + b->chunk_len == m->addr + m->len) {
        *pm = m->next;
        pthread_mutex_unlock(&st->live_mu);
        map_release(m);
        return;
    }
    pthread_mutex_unlock(&st->live_mu);
    if (m) {
        /* in steps of MAP_DROP_STEP: each call interrupts the other cores (TLB shootdown) */
        size_t done = ((size_t)(b->chunk + b->chunk_len - m->addr)) & ~(size_t)g_page_mask;
        if (done - m->dropped >= MAP_DROP_STEP) {
            madvise(m->addr + m->dropped, done - m->dropped, MADV_DONTNEED);
            m->dropped = done;
        }
    }
}

static void file_close(hm_source *src) {
    file_state *st = src->state;
    if (!st) return;
    while (st->live) { /* input stopped early: chunks never acked */
        live_map *m = st->live;
        st->live = m->next;
        map_release(m);
    }
    pthread_mutex_destroy(&st->live_mu);
    if (st->fd > 0) close(st->fd);
    for (size_t i = 0; i < st->npaths; i++) {
        free(st->paths[i]);
        free(st->origins[i]);
    }
    free(st->paths);
    free(st->origins);
    free(st->carry);
    free(st->glob_pattern);
    free(st);
    src->state = NULL;
}

const hm_connector_ops hm_conn_file = {
    .abi = HM_CONNECTOR_ABI,
    .scheme = "file",
    .description = "files (globs allowed), read to EOF or followed with --follow",
    .open = file_open,
    .read_batch = file_read_batch,
    .ack = file_ack,
    .close = file_close,
};

const hm_connector_ops hm_conn_stdin = {
    .abi = HM_CONNECTOR_ABI,
    .scheme = "stdin",
    .description = "standard input (`-`), one record per line",
    .open = stdin_open,
    .read_batch = file_read_batch,
    .close = file_close,
};
