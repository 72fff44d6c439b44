/* jsonl.c - JSON Lines to a file (`jsonl:PATH`, a bare path) or stdout (`-`).
 * Appends; a full disk or other write error is reported as retryable so the
 * pipeline holds input instead of losing lines. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sink.h"

typedef struct jsonl_state {
    int fd;
    bool owns_fd;
    char *path;
    size_t resume; /* bytes of the current buffer already written before a retry */
} jsonl_state;

static int jsonl_open(const char *uri, void **state, char *err, size_t errlen) {
    const char *path = uri;
    if (!strncmp(uri, "jsonl:", 6)) path = uri + 6;
    jsonl_state *st = hm_xcalloc(1, sizeof(*st));
    if (!strcmp(path, "-") || !strcmp(path, "")) {
        st->fd = 1;
        st->path = hm_xstrdup("stdout");
    } else {
        st->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (st->fd < 0) {
            snprintf(err, errlen, "--output %s: cannot open: %s", uri, strerror(errno));
            free(st);
            return HM_EUSAGE;
        }
        st->owns_fd = true;
        st->path = hm_xstrdup(path);
    }
    *state = st;
    return HM_OK;
}

static int jsonl_write(void *state, const char *data, size_t len) {
    jsonl_state *st = state;
    size_t done = st->resume < len ? st->resume : 0;
    while (done < len) {
        ssize_t w = write(st->fd, data + done, len - done);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EPIPE) return HM_EIO;
            hm_warn("output", "%s: %s", st->path, strerror(errno));
            st->resume = done; /* the retry of the same buffer continues here */
            return HM_ERETRY;
        }
        done += (size_t)w;
    }
    st->resume = 0;
    return HM_OK;
}

static int jsonl_flush(void *state) {
    jsonl_state *st = state;
    if (st->owns_fd) fdatasync(st->fd);
    return HM_OK;
}

static void jsonl_close(void *state) {
    jsonl_state *st = state;
    if (st->owns_fd) close(st->fd);
    free(st->path);
    free(st);
}

const hm_sink_ops hm_sink_jsonl = {
    .abi = HM_SINK_ABI,
    .scheme = "jsonl",
    .description = "JSON Lines to a file or stdout",
    .open = jsonl_open,
    .write = jsonl_write,
    .flush = jsonl_flush,
    .close = jsonl_close,
};
