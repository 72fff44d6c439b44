#include "arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "timeutil.h"

struct hm_arena_chunk {
    hm_arena_chunk *next;
    size_t cap, used;
    _Alignas(16) char data[];
};

void hm_arena_init(hm_arena *a, size_t chunk_size) {
    memset(a, 0, sizeof(*a));
    a->chunk_size = chunk_size ? chunk_size : 64 * 1024;
}

static hm_arena_chunk *chunk_new(size_t cap) {
    hm_arena_chunk *c = hm_xmalloc(sizeof(*c) + cap);
    c->next = NULL;
    c->cap = cap;
    c->used = 0;
    return c;
}

void *hm_arena_alloc(hm_arena *a, size_t n) {
    n = (n + 7) & ~(size_t)7;
    hm_arena_chunk *c = a->head;
    if (HM_UNLIKELY(!c || c->used + n > c->cap)) {
        /* reuse a spare chunk when it fits, otherwise allocate (warm-up or huge request) */
        hm_arena_chunk **pp = &a->spare;
        while (*pp && (*pp)->cap < n) pp = &(*pp)->next;
        if (*pp) {
            c = *pp;
            *pp = c->next;
        } else {
            c = chunk_new(n > a->chunk_size ? n : a->chunk_size);
        }
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    a->used_total += n;
    return p;
}

hm_str hm_arena_strdup(hm_arena *a, const char *p, size_t n) {
    char *d = hm_arena_alloc(a, n + 1);
    if (n) memcpy(d, p, n);
    d[n] = 0;
    return (hm_str){d, (uint32_t)n};
}

void hm_arena_reset(hm_arena *a) {
    hm_arena_chunk *c = a->head;
    while (c) {
        hm_arena_chunk *next = c->next;
        /* keep at most a few spare chunks; oversized one-off chunks are released */
        if (c->cap > a->chunk_size * 4) {
            free(c);
        } else {
            c->next = a->spare;
            a->spare = c;
        }
        c = next;
    }
    a->head = NULL;
    a->used_total = 0;
}

void hm_arena_free(hm_arena *a) {
    hm_arena_reset(a);
    hm_arena_chunk *c = a->spare;
    while (c) {
        hm_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->spare = NULL;
}

void hm_buf_reserve(hm_buf *b, size_t extra) {
    if (b->len + extra <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) cap *= 2;
    b->p = hm_xrealloc(b->p, cap);
    b->cap = cap;
}

void hm_buf_printf(hm_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n >= b->cap - b->len || !b->p) {
        hm_buf_reserve(b, (size_t)n + 1);
        va_start(ap, fmt);
        vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

void hm_buf_put_u64(hm_buf *b, uint64_t v) {
    char tmp[24];
    int i = 24;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    hm_buf_put(b, tmp + i, (size_t)(24 - i));
}

void hm_buf_put_i64(hm_buf *b, int64_t v) {
    if (v < 0) {
        hm_buf_putc(b, '-');
        hm_buf_put_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        hm_buf_put_u64(b, (uint64_t)v);
    }
}

/* Length of a valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && s[1] < 0xA0) return 0;  /* overlong */
        if (c == 0xED && s[1] >= 0xA0) return 0; /* surrogates */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[1] < 0x90) return 0;
        if (c == 0xF4 && s[1] >= 0x90) return 0;
        return 4;
    }
    return 0;
}

size_t hm_buf_put_json_escaped(hm_buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t bad = 0, i = 0, run = 0;
    hm_buf_reserve(b, n + 16);
    while (i < n) {
        unsigned char c = u[i];
        if (HM_LIKELY(c >= 0x20 && c < 0x80 && c != '"' && c != '\\')) {
            i++;
            run++;
            continue;
        }
        if (run) hm_buf_put(b, s + i - run, run);
        run = 0;
        if (c >= 0x80) {
            size_t k = utf8_seq(u + i, n - i);
            if (k) {
                hm_buf_put(b, s + i, k);
                i += k;
                continue;
            }
            bad++;
        }
        char esc[6];
        switch (c) {
        case '"':
            hm_buf_put(b, "\\\"", 2);
            break;
        case '\\':
            hm_buf_put(b, "\\\\", 2);
            break;
        case '\n':
            hm_buf_put(b, "\\n", 2);
            break;
        case '\r':
            hm_buf_put(b, "\\r", 2);
            break;
        case '\t':
            hm_buf_put(b, "\\t", 2);
            break;
        default:
            esc[0] = '\\';
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            hm_buf_put(b, esc, 6);
        }
        i++;
    }
    if (run) hm_buf_put(b, s + i - run, run);
    return bad;
}

void hm_buf_put_time(hm_buf *b, int64_t ns) {
    int64_t s = ns / 1000000000LL, frac = ns % 1000000000LL;
    if (frac < 0) {
        frac += 1000000000LL;
        s--;
    }
    int64_t days = s / 86400, rem = s % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int y;
    unsigned mo, d;
    hm_civil_from_days(days, &y, &mo, &d);
    char tmp[40];
    int h = (int)(rem / 3600), mi = (int)(rem / 60 % 60), se = (int)(rem % 60);
    int len;
    if (frac == 0)
        len = snprintf(tmp, sizeof tmp, "%04d-%02u-%02uT%02d:%02d:%02dZ", y, mo, d, h, mi, se);
    else if (frac % 1000000 == 0)
        len = snprintf(tmp, sizeof tmp, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, mo, d, h, mi, se,
                       (int)(frac / 1000000));
    else if (frac % 1000 == 0)
        len = snprintf(tmp, sizeof tmp, "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", y, mo, d, h, mi, se,
                       (int)(frac / 1000));
    else
        len = snprintf(tmp, sizeof tmp, "%04d-%02u-%02uT%02d:%02d:%02d.%09dZ", y, mo, d, h, mi, se,
                       (int)frac);
    hm_buf_put(b, tmp, (size_t)len);
}

void hm_buf_free(hm_buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static void put_utf8(char **o, uint32_t cp) {
    char *d = *o;
    if (cp < 0x80) {
        *d++ = (char)cp;
    } else if (cp < 0x800) {
        *d++ = (char)(0xC0 | (cp >> 6));
        *d++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *d++ = (char)(0xE0 | (cp >> 12));
        *d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *d++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *d++ = (char)(0xF0 | (cp >> 18));
        *d++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *d++ = (char)(0x80 | (cp & 0x3F));
    }
    *o = d;
}

static int hex4(const char *p) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

size_t hm_json_unescape(const char *s, size_t n, char *out) {
    char *o = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\' || i + 1 >= n) {
            *o++ = s[i];
            continue;
        }
        char c = s[++i];
        switch (c) {
        case 'n':
            *o++ = '\n';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'u': {
            int cp = i + 4 < n ? hex4(s + i + 1) : -1;
            if (cp < 0) {
                *o++ = '?';
                break;
            }
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < n && s[i + 1] == '\\' && s[i + 2] == 'u') {
                int lo = hex4(s + i + 3);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD; /* lone surrogate */
            put_utf8(&o, (uint32_t)cp);
            break;
        }
        default:
            *o++ = c; /* \" \\ \/ */
        }
    }
    *o = 0;
    return (size_t)(o - out);
}
