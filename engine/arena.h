/* arena.h - bump allocator owned by one batch; reset in one step when the batch
 * retires. Not thread-safe: a batch (and its arena) belongs to one thread at a time. */
#ifndef HM_ARENA_H
#define HM_ARENA_H

#include "hm.h"

typedef struct hm_arena_chunk hm_arena_chunk;

typedef struct hm_arena {
    hm_arena_chunk *head;  /* chunk being filled */
    hm_arena_chunk *spare; /* chunks kept after reset, reused before malloc */
    size_t chunk_size;
    size_t used_total; /* bytes handed out since the last reset */
} hm_arena;

void hm_arena_init(hm_arena *a, size_t chunk_size);
/* Returns 8-byte aligned memory valid until the next reset; never NULL (aborts on OOM).
 * After warm-up the arena reuses its chunks, so steady state does no malloc. */
void *hm_arena_alloc(hm_arena *a, size_t n);
hm_str hm_arena_strdup(hm_arena *a, const char *p, size_t n);
void hm_arena_reset(hm_arena *a);
void hm_arena_free(hm_arena *a);

/* A growable byte buffer (output lines, dead letters). Owned by its batch. */
typedef struct hm_buf {
    char *p;
    size_t len, cap;
} hm_buf;

void hm_buf_reserve(hm_buf *b, size_t extra);
static inline void hm_buf_put(hm_buf *b, const void *src, size_t n) {
    if (HM_UNLIKELY(b->len + n > b->cap)) hm_buf_reserve(b, n);
    memcpy(b->p + b->len, src, n);
    b->len += n;
}
static inline void hm_buf_putc(hm_buf *b, char c) {
    if (HM_UNLIKELY(b->len + 1 > b->cap)) hm_buf_reserve(b, 1);
    b->p[b->len++] = c;
}
static inline void hm_buf_puts(hm_buf *b, const char *s) {
    hm_buf_put(b, s, strlen(s));
}
void hm_buf_printf(hm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hm_buf_put_u64(hm_buf *b, uint64_t v);
void hm_buf_put_i64(hm_buf *b, int64_t v);
/* JSON string body escaping (no quotes added). Invalid UTF-8 bytes are written as
 * \u00XX (their Latin-1 reading) so output is always valid JSON; returns the
 * number of invalid bytes met. */
size_t hm_buf_put_json_escaped(hm_buf *b, const char *s, size_t n);
static inline void hm_buf_put_json_str(hm_buf *b, hm_str s) {
    hm_buf_putc(b, '"');
    hm_buf_put_json_escaped(b, s.p, s.len);
    hm_buf_putc(b, '"');
}
/* RFC 3339 UTC with nanoseconds trimmed to milliseconds when exact, e.g. 2024-03-11T05:00:59Z. */
void hm_buf_put_time(hm_buf *b, int64_t ns);
void hm_buf_free(hm_buf *b);
/* Decodes the body of a JSON string (escapes, \\uXXXX with surrogate pairs; a lone
 * surrogate becomes U+FFFD) into out, which holds at least n + 1 bytes; NUL-terminates and
 * returns the length. Used by the decoders and the sinks. */
size_t hm_json_unescape(const char *s, size_t n, char *out);

#endif
