/* Unit tests: the file connector. Mapped files are handed over as chunks of whole lines
 * that hm_split_lines must split exactly as the read() path does; a file cut short while
 * mapped must read as NUL bytes, not kill the process with SIGBUS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "connector.h"

static char g_dir[] = "/tmp/hm-file-test-XXXXXX";

static int setup(void **state) {
    (void)state;
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *write_file(const char *name, const char *data, size_t len) {
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    return path;
}

typedef struct collected {
    hm_record rec[4096];
    char *data[4096];
    size_t n, batches, chunks;
} collected;

/* Reads a whole input through the connector as the pipeline does (splitting chunks like
 * a worker) and keeps a copy of every record. as_stdin: the file is standard input, which
 * takes the read() path. */
static void read_all(const char *path, bool as_stdin, size_t max_record, size_t hard_cap,
                     collected *c) {
    char uri[300];
    snprintf(uri, sizeof uri, "file:%s", path);
    int saved = -1;
    if (as_stdin) {
        saved = dup(0);
        int fd = open(path, O_RDONLY);
        assert_true(fd >= 0);
        dup2(fd, 0);
        close(fd);
        strcpy(uri, "-");
    }
    const hm_connector_ops *ops = hm_connector_for_uri(uri);
    assert_non_null(ops);
    volatile int stop = 0;
    hm_conn_opts opts = {.max_record = max_record, .hard_cap = hard_cap, .stop = &stop};
    hm_source src = {.ops = ops};
    char err[256];
    assert_int_equal(ops->open(&src, uri, &opts, err, sizeof err), HM_OK);
    hm_batch *b = hm_batch_new(64, 4096);
    memset(c, 0, sizeof(*c));
    for (;;) {
        hm_batch_reset(b);
        int rc = ops->read_batch(&src, b);
        if (rc == HM_EOF) break;
        assert_true(rc >= 0);
        if (rc == 0) continue;
        c->batches++;
        const char *p = b->chunk, *end = b->chunk + b->chunk_len;
        if (b->chunk) {
            c->chunks++;
            /* a chunk ends at a line end, or at the end of the file */
            assert_true(end[-1] == '\n' || b->chunk_pos + b->chunk_len > 0);
        }
        do {
            if (b->chunk)
                b->n = hm_split_lines(&p, end, b->chunk, b->chunk_pos, b->chunk_recv_ns, max_record,
                                      hard_cap, b->rec, 7);
            for (uint32_t i = 0; i < b->n && c->n < 4096; i++) {
                c->rec[c->n] = b->rec[i];
                c->data[c->n] = strndup(b->rec[i].data, b->rec[i].len);
                c->n++;
            }
        } while (b->chunk && p < end);
        if (ops->ack) ops->ack(&src, b);
    }
    hm_batch_free(b);
    ops->close(&src);
    if (saved >= 0) {
        dup2(saved, 0);
        close(saved);
    }
}

static void free_collected(collected *c) {
    for (size_t i = 0; i < c->n; i++) free(c->data[i]);
}

/* The same records, byte for byte, from a mapped file and from the read() path. */
static void test_mapped_equals_read(void **state) {
    (void)state;
    const char text[] = "first line\r\n\nthird\nx-long-line-of-forty-bytes-is-oversize!!\n"
                        "crlf only\r\n\r\nlast without newline";
    char *path = write_file("small.log", text, sizeof text - 1);
    static collected m, r;
    read_all(path, false, 30, 1 << 20, &m);
    read_all(path, true, 30, 1 << 20, &r);
    assert_true(m.chunks > 0); /* the file was mapped */
    assert_int_equal(r.chunks, 0);
    const char *want[] = {"first line",
                          "",
                          "third",
                          "x-long-line-of-forty-bytes-is-oversize!!",
                          "crlf only",
                          "",
                          "last without newline"};
    uint64_t want_pos[] = {0, 12, 13, 19, 60, 71, 73};
    assert_int_equal(m.n, 7);
    assert_int_equal(r.n, 7);
    for (size_t i = 0; i < 7; i++) {
        assert_string_equal(m.data[i], want[i]);
        assert_string_equal(r.data[i], want[i]);
        assert_int_equal(m.rec[i].pos, want_pos[i]);
        assert_int_equal(r.rec[i].pos, want_pos[i]);
        assert_int_equal(m.rec[i].flags, r.rec[i].flags);
    }
    assert_int_equal(m.rec[3].flags, HM_REC_OVERSIZE);
    free_collected(&m);
    free_collected(&r);
}

/* A line over the hard cap keeps a prefix and its full length; the next line is intact. */
static void test_mapped_hard_cap(void **state) {
    (void)state;
    size_t big = 10000;
    char *text = malloc(big + 32);
    memset(text, 'A', big);
    strcpy(text + big, "\nafter\n");
    char *path = write_file("big.log", text, big + 7);
    static collected m, r;
    read_all(path, false, 100, 1000, &m);
    read_all(path, true, 100, 1000, &r);
    assert_int_equal(r.n, 2); /* read() truncates only lines longer than it buffers */
    assert_true(r.rec[0].flags & HM_REC_OVERSIZE);
    assert_string_equal(r.data[1], "after");
    free_collected(&r);
    assert_int_equal(m.n, 2);
    assert_int_equal(m.rec[0].len, 1000);
    assert_int_equal(m.rec[0].orig_len, big);
    assert_int_equal(m.rec[0].flags, HM_REC_TRUNCATED | HM_REC_OVERSIZE);
    assert_string_equal(m.data[1], "after");
    assert_int_equal(m.rec[1].pos, big + 1);
    free_collected(&m);
    free(text);
}

/* A file of several chunks: every line exactly once, in order, chunks cut at line ends. */
static void test_mapped_many_chunks(void **state) {
    (void)state;
    size_t nlines = 3000, cap = nlines * 600;
    char *text = malloc(cap);
    size_t len = 0;
    for (size_t i = 0; i < nlines; i++) {
        int w = 1 + (int)(i * 7919 % 500); /* 1..500 bytes of payload */
        len += (size_t)snprintf(text + len, cap - len, "%06zu %.*s\n", i, w,
                                "0123456789012345678901234567890123456789012345678901234567890"
                                "1234567890123456789012345678901234567890123456789012345678901"
                                "2345678901234567890123456789012345678901234567890123456789012"
                                "3456789012345678901234567890123456789012345678901234567890123"
                                "4567890123456789012345678901234567890123456789012345678901234"
                                "5678901234567890123456789012345678901234567890123456789012345"
                                "6789012345678901234567890123456789012345678901234567890123456"
                                "7890123456789012345678901234567890123456789012345678901234567"
                                "8901234567890123456789012345678901234567890123456789012345678");
    }
    char *path = write_file("many.log", text, len);
    static collected m;
    read_all(path, false, 1 << 16, 1 << 20, &m);
    assert_true(m.chunks >= 2);
    assert_int_equal(m.n, nlines);
    uint64_t pos = 0;
    for (size_t i = 0; i < nlines; i++) {
        char head[8];
        snprintf(head, sizeof head, "%06zu", i);
        assert_memory_equal(m.data[i], head, 6);
        assert_int_equal(m.rec[i].pos, pos);
        assert_memory_equal(text + pos, m.data[i], m.rec[i].len);
        pos += m.rec[i].len + 1;
    }
    assert_int_equal(pos, len);
    free_collected(&m);
    free(text);
}

/* copytruncate while the file is mapped: the lost part reads as NUL bytes (SIGBUS is
 * caught), the process lives on. */
static void test_mapped_file_truncated(void **state) {
    (void)state;
    size_t len = 2 * 1024 * 1024;
    char *text = malloc(len);
    for (size_t i = 0; i < len; i++) text[i] = (i % 100 == 99) ? '\n' : 'x';
    char *path = write_file("cut.log", text, len);
    char uri[300];
    snprintf(uri, sizeof uri, "file:%s", path);
    const hm_connector_ops *ops = hm_connector_for_uri(uri);
    volatile int stop = 0;
    hm_conn_opts opts = {.max_record = 1 << 16, .hard_cap = 1 << 20, .stop = &stop};
    hm_source src = {.ops = ops};
    char err[256];
    assert_int_equal(ops->open(&src, uri, &opts, err, sizeof err), HM_OK);
    hm_batch *b = hm_batch_new(64, 4096);
    assert_true(ops->read_batch(&src, b) > 0);
    assert_non_null(b->chunk);
    assert_int_equal(truncate(path, 1000), 0); /* rewritten in place by someone else */
    size_t zeros = 0;
    for (size_t i = 0; i < b->chunk_len; i++) zeros += b->chunk[i] == 0;
    assert_true(zeros > 0);
    assert_int_equal(b->chunk[0], 'x'); /* the first page is still the file's */
    ops->close(&src);
    hm_batch_free(b);
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mapped_equals_read),
        cmocka_unit_test(test_mapped_hard_cap),
        cmocka_unit_test(test_mapped_many_chunks),
        cmocka_unit_test(test_mapped_file_truncated),
    };
    return cmocka_run_group_tests_name("file input", tests, setup, teardown);
}
