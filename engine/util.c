#include "hm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int hm_log_quiet = 0;

bool hm_str_ieq_c(hm_str a, const char *c) {
    size_t n = strlen(c);
    if (a.len != n) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a.p[i], y = (unsigned char)c[i];
        if (x >= 'A' && x <= 'Z') x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z') y = (unsigned char)(y + 32);
        if (x != y) return false;
    }
    return true;
}

bool hm_str_to_i64(hm_str s, int64_t *out) {
    size_t i = 0;
    bool neg = false;
    if (s.len && (s.p[0] == '-' || s.p[0] == '+')) {
        neg = s.p[0] == '-';
        i = 1;
    }
    if (i >= s.len || s.len - i > 18) return false; /* 18 digits cannot overflow int64 */
    int64_t v = 0;
    for (; i < s.len; i++) {
        unsigned d = (unsigned)(s.p[i] - '0');
        if (d > 9) return false;
        v = v * 10 + (int64_t)d;
    }
    *out = neg ? -v : v;
    return true;
}

hm_str hm_str_trim(hm_str s) {
    while (s.len && (s.p[0] == ' ' || s.p[0] == '\t' || s.p[0] == '\r' || s.p[0] == '\n')) {
        s.p++;
        s.len--;
    }
    while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t' || s.p[s.len - 1] == '\r' ||
                     s.p[s.len - 1] == '\n'))
        s.len--;
    return s;
}

int64_t hm_str_find_s(hm_str s, const char *needle) {
    size_t n = strlen(needle);
    if (!n) return 0;
    if (n > s.len) return -1;
    const char *q = memmem(s.p, s.len, needle, n);
    return q ? (int64_t)(q - s.p) : -1;
}

int64_t hm_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct timespec hm_deadline_ms(long ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

int64_t hm_mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void hm_log(const char *level, const char *component, const char *fmt, ...) {
    if (hm_log_quiet && !strcmp(level, "info")) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "hallmonitor: %s: %s: %s\n", level, component, msg);
}

static void oom(size_t n) {
    fprintf(stderr, "hallmonitor: fatal: out of memory allocating %zu bytes\n", n);
    abort();
}

void *hm_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}
void *hm_xcalloc(size_t n, size_t m) {
    void *p = calloc(n ? n : 1, m ? m : 1);
    if (!p) oom(n * m);
    return p;
}
void *hm_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}
char *hm_xstrdup(const char *s) {
    return hm_xstrndup(s, strlen(s));
}
char *hm_xstrndup(const char *s, size_t n) {
    char *p = hm_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}
