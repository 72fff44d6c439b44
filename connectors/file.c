/* file.c - file and stdin connectors: line-framed records, byte offsets as positions.
 *
 * `file:PATH` accepts globs (sorted, read one after another). With --follow the last
 * file is tailed like `tail -F`: growth is read, and a rotated (new inode) or truncated
 * file is reopened from its start. RFC 6587 octet counting inside files is handled by
 * the syslog parser, not here. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "connector.h"

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
} file_state;

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
    if (fstat(st->fd, &sb) == 0) {
        st->dev = sb.st_dev;
        st->ino = sb.st_ino;
        if (S_ISDIR(sb.st_mode)) {
            if (err) snprintf(err, errlen, "%s: is a directory (use a glob like DIR/*.log)", path);
            close(st->fd);
            st->fd = -1;
            return HM_EIO;
        }
    }
    st->off = 0;
    st->carry_len = 0;
    st->skipping = false;
    st->eof_current = false;
    return HM_OK;
}

static int file_open_common(hm_source *src, const char *uri, bool is_stdin, char *err,
                            size_t errlen) {
    file_state *st = hm_xcalloc(1, sizeof(*st));
    st->fd = -1;
    st->is_stdin = is_stdin;
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

static int file_read_batch(hm_source *src, hm_batch *b) {
    file_state *st = src->state;
    if (st->fd < 0) {
        if (st->cur >= st->npaths) return HM_EOF;
        if (open_current(st, NULL, 0) != HM_OK) {
            if (src->opts.follow) return 0; /* not there yet: wait */
            hm_error("input", "%s: cannot open: %s", st->paths[st->cur], strerror(errno));
            return HM_EIO;
        }
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

static void file_close(hm_source *src) {
    file_state *st = src->state;
    if (!st) return;
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
