/* hm.h - basic types shared by every module: byte slices, error codes, helpers.
 *
 * Thread-safety: everything here is plain data or pure functions. */
#ifndef HM_H
#define HM_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#define HM_VERSION "0.1.0"

#define HM_LIKELY(x)    __builtin_expect(!!(x), 1)
#define HM_UNLIKELY(x)  __builtin_expect(!!(x), 0)
#define HM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define HM_UNUSED(x)    (void)(x)

/* Error codes: functions return 0 on success and a negative hm_err on failure. */
typedef enum hm_err {
    HM_OK = 0,
    HM_ERR = -1,    /* generic failure; see errstr */
    HM_ENOMEM = -2, /* allocation failed */
    HM_EIO = -3,    /* read/write failure */
    HM_EPARSE = -4, /* input not understood */
    HM_EOF = -5,    /* source finished */
    HM_EAGAIN = -6, /* nothing now, try later */
    HM_EUSAGE = -7, /* bad option or configuration */
    HM_ERETRY = -8, /* transient failure: retry with backoff */
} hm_err;

/* A byte slice: a view into memory someone else owns (a batch buffer, an arena,
 * or a static string). Never NUL-terminated by contract. */
typedef struct hm_str {
    const char *p;
    uint32_t len;
} hm_str;

#define HM_STR_LIT(s) ((hm_str){(s), (uint32_t)(sizeof(s) - 1)})
static inline hm_str hm_str_c(const char *s) {
    return (hm_str){s, s ? (uint32_t)strlen(s) : 0};
}
static inline hm_str hm_str_n(const char *s, size_t n) {
    return (hm_str){s, (uint32_t)n};
}
static inline bool hm_str_eq(hm_str a, hm_str b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}
static inline bool hm_str_eq_c(hm_str a, const char *c) {
    size_t n = strlen(c);
    return a.len == n && memcmp(a.p, c, n) == 0;
}
static inline bool hm_str_starts(hm_str a, const char *c) {
    size_t n = strlen(c);
    return a.len >= n && memcmp(a.p, c, n) == 0;
}
bool hm_str_ieq_c(hm_str a, const char *c);
/* Parse a decimal integer (optional leading '-'); false when not all digits. */
bool hm_str_to_i64(hm_str s, int64_t *out);
/* Trim ASCII blanks from both ends. */
hm_str hm_str_trim(hm_str s);
/* Find byte c in s, returns index or -1. */
static inline int64_t hm_str_find(hm_str s, char c) {
    const char *q = s.len ? memchr(s.p, c, s.len) : NULL;
    return q ? (int64_t)(q - s.p) : -1;
}
/* Substring search; index or -1. */
int64_t hm_str_find_s(hm_str s, const char *needle);

/* 64-bit FNV-1a, used for stable ids and hash tables. */
static inline uint64_t hm_hash64(const void *data, size_t n, uint64_t seed) {
    const unsigned char *b = data;
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Word-at-a-time multiply-xorshift hash: faster than hm_hash64 on keys of more than a few
 * bytes; for in-memory tables (and the correlation snapshot checksum). */
static inline uint64_t hm_hash_words(const void *data, size_t n, uint64_t seed) {
    const unsigned char *p = data;
    uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
        p += 8;
        n -= 8;
    }
    uint64_t t = 0;
    if (n) memcpy(&t, p, n);
    h = (h ^ t) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
    return h;
}

/* Monotonic and wall clocks in nanoseconds. */
int64_t hm_now_ns(void);
int64_t hm_mono_ns(void);
/* CLOCK_REALTIME now + ms, the deadline form pthread_cond_timedwait takes. */
struct timespec hm_deadline_ms(long ms);

/* Logging to stderr with a component prefix; never used on the per-event path. */
void hm_log(const char *level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define hm_error(comp, ...) hm_log("error", comp, __VA_ARGS__)
#define hm_warn(comp, ...)  hm_log("warn", comp, __VA_ARGS__)
#define hm_info(comp, ...)  hm_log("info", comp, __VA_ARGS__)
extern int hm_log_quiet; /* set by tests/benches: suppress info lines */

/* Allocation wrappers that abort on out-of-memory: the engine runs with bounded
 * memory by design, so an allocation failure is a configuration error. */
void *hm_xmalloc(size_t n);
void *hm_xcalloc(size_t n, size_t m);
void *hm_xrealloc(void *p, size_t n);
char *hm_xstrdup(const char *s);
char *hm_xstrndup(const char *s, size_t n);

#endif
