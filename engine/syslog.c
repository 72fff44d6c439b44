#include "syslog.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static inline bool is_digit(char c) {
    return (unsigned)(c - '0') <= 9;
}

hm_str hm_syslog_strip_octet_count(hm_str s) {
    size_t i = 0;
    while (i < s.len && i < 9 && is_digit(s.p[i])) i++;
    if (i > 0 && i + 1 < s.len && s.p[i] == ' ' && s.p[i + 1] == '<')
        return (hm_str){s.p + i + 1, s.len - (uint32_t)i - 1};
    return s;
}

int64_t hm_time_local_to_utc_ns(const hm_time_ctx *tc, int64_t local_ns) {
    int64_t s = local_ns / 1000000000LL, frac = local_ns % 1000000000LL;
    if (frac < 0) {
        frac += 1000000000LL;
        s--;
    }
    return hm_tz_local_to_utc(tc ? tc->tz : NULL, s) * 1000000000LL + frac;
}

int hm_time_infer_year(const hm_time_ctx *tc, int month, int day) {
    if (tc && tc->fixed_year > 0) return tc->fixed_year;
    int64_t ref = tc && tc->ref_ns ? tc->ref_ns : hm_now_ns();
    int64_t ref_s = ref / 1000000000LL;
    if (tc && tc->tz) ref_s += hm_tz_offset_at_utc(tc->tz, ref_s);
    int y;
    unsigned m, d;
    hm_civil_from_days(ref_s / 86400, &y, &m, &d);
    /* A stamp more than a day ahead of the reference belongs to last year (Dec logs
     * read in January). */
    if (month > (int)m || (month == (int)m && day > (int)d + 1)) return y - 1;
    return y;
}

/* The last plain "Mmm dd HH:MM:SS " stamp this thread parsed, when its reading depends only on
 * its 16 bytes and the time context (a fixed or given reference year, not the clock): logs
 * come many to a second, so most stamps repeat the previous one. */
static _Thread_local struct {
    uint64_t w0, w1; /* the 16 bytes */
    const hm_time_ctx *tc;
    const hm_tz *tz;
    uint64_t tz_id;
    int fixed_year;
    int64_t ref_ns;
    int64_t ts_ns;
    bool has_year, valid;
} bsd_last;

static size_t parse_bsd_ts_full(const char *p, size_t n, const hm_time_ctx *tc, hm_syslog_hdr *h);

/* "Mmm dd HH:MM:SS" or "Mmm  d HH:MM:SS", optionally "Mmm dd YYYY HH:MM:SS" (Cisco).
 * Returns bytes consumed or 0. */
static size_t parse_bsd_ts(const char *p, size_t n, const hm_time_ctx *tc, hm_syslog_hdr *h) {
    /* cacheable: 15 stamp bytes then a blank (no fraction), year fixed or given a reference */
    bool cacheable = n >= 16 && p[15] == ' ' && tc && (tc->fixed_year > 0 || tc->ref_ns);
    if (!cacheable) return parse_bsd_ts_full(p, n, tc, h);
    uint64_t w0, w1;
    memcpy(&w0, p, 8);
    memcpy(&w1, p + 8, 8);
    if (bsd_last.valid && bsd_last.w0 == w0 && bsd_last.w1 == w1 && bsd_last.tc == tc &&
        bsd_last.tz == tc->tz && bsd_last.tz_id == (tc->tz ? tc->tz->id : 0) &&
        bsd_last.fixed_year == tc->fixed_year && bsd_last.ref_ns == tc->ref_ns) {
        h->ts_ns = bsd_last.ts_ns;
        h->has_ts = true;
        h->ts_has_zone = false;
        h->ts_has_year = bsd_last.has_year;
        return 15;
    }
    size_t used = parse_bsd_ts_full(p, n, tc, h);
    bsd_last.valid = used == 15; /* what the cache replays */
    if (bsd_last.valid) {
        bsd_last.w0 = w0;
        bsd_last.w1 = w1;
        bsd_last.tc = tc;
        bsd_last.tz = tc->tz;
        bsd_last.tz_id = tc->tz ? tc->tz->id : 0;
        bsd_last.fixed_year = tc->fixed_year;
        bsd_last.ref_ns = tc->ref_ns;
        bsd_last.ts_ns = h->ts_ns;
        bsd_last.has_year = h->ts_has_year;
    }
    return used;
}

static size_t parse_bsd_ts_full(const char *p, size_t n, const hm_time_ctx *tc, hm_syslog_hdr *h) {
    if (n < 15) return 0;
    int mo = hm_month_from_abbr(p);
    if (!mo || p[3] != ' ') return 0;
    size_t i = 4;
    if (p[i] == ' ') i++;
    int day = 0;
    if (!is_digit(p[i])) return 0;
    day = p[i++] - '0';
    if (i < n && is_digit(p[i])) day = day * 10 + (p[i++] - '0');
    if (i >= n || p[i] != ' ' || day < 1 || day > 31) return 0;
    i++;
    int year = 0;
    if (i + 5 <= n && is_digit(p[i]) && is_digit(p[i + 1]) && is_digit(p[i + 2]) &&
        is_digit(p[i + 3]) && p[i + 4] == ' ') {
        year =
            (p[i] - '0') * 1000 + (p[i + 1] - '0') * 100 + (p[i + 2] - '0') * 10 + (p[i + 3] - '0');
        i += 5;
    }
    if (i + 8 > n || p[i + 2] != ':' || p[i + 5] != ':') return 0;
    int hh = (p[i] - '0') * 10 + (p[i + 1] - '0');
    int mi = (p[i + 3] - '0') * 10 + (p[i + 4] - '0');
    int ss = (p[i + 6] - '0') * 10 + (p[i + 7] - '0');
    if (!is_digit(p[i]) || !is_digit(p[i + 1]) || !is_digit(p[i + 3]) || !is_digit(p[i + 4]) ||
        !is_digit(p[i + 6]) || !is_digit(p[i + 7]) || hh > 23 || mi > 59 || ss > 60)
        return 0;
    i += 8;
    int64_t frac = 0;
    if (i < n && p[i] == '.') { /* some senders add milliseconds */
        i++;
        int digits = 0;
        while (i < n && is_digit(p[i])) {
            if (digits < 9) {
                frac = frac * 10 + (p[i] - '0');
                digits++;
            }
            i++;
        }
        while (digits && digits < 9) {
            frac *= 10;
            digits++;
        }
    }
    if (year && (year < 1900 || year > 2200)) return 0; /* not a plausible stamp */
    h->ts_has_year = year != 0;
    if (!year) year = hm_time_infer_year(tc, mo, day);
    h->ts_ns = hm_civil_to_epoch(year, mo, day, hh, mi, ss) * 1000000000LL + frac;
    h->has_ts = true;
    h->ts_has_zone = false;
    return i;
}

static size_t token_len(const char *p, const char *e) {
    const char *q = p;
    while (q < e && *q != ' ') q++;
    return (size_t)(q - p);
}

/* [A-Za-z0-9_./-] as a table: one load per tag byte instead of a chain of compares */
static const uint8_t tag_char[256] = {
    ['-'] = 1, ['.'] = 1, ['/'] = 1, ['_'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1,
    ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1,
    ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,
    ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

/* First byte in [p, qe) that is not a tag byte, else qe; 16 bytes a step with SSE2. */
static inline const char *tag_end(const char *p, const char *qe) {
#if defined(__SSE2__)
    for (; qe - p >= 16; p += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* letters (c | 0x20 in a..z), '-' '.' '/' and the digits (one range 0x2d..0x39), '_';
         * bytes >= 0x80 are negative in the signed compares and fall outside */
        __m128i l = _mm_or_si128(x, _mm_set1_epi8(0x20));
        __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(l, _mm_set1_epi8('a' - 1)),
                                       _mm_cmpgt_epi8(_mm_set1_epi8('z' + 1), l));
        __m128i range = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('-' - 1)),
                                      _mm_cmpgt_epi8(_mm_set1_epi8('9' + 1), x));
        __m128i us = _mm_cmpeq_epi8(x, _mm_set1_epi8('_'));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(letter, range), us));
        if (m != 0xFFFF) return p + __builtin_ctz(~m);
    }
#endif
    while (p < qe && tag_char[(unsigned char)*p]) p++;
    return p;
}

/* End of the token at p (the next blank, else e); *eq_or_comma: whether it holds '=' or ','.
 * 16 bytes a step with SSE2: a hostname usually takes one. */
static inline const char *host_token_end(const char *p, const char *e, bool *eq_or_comma) {
    bool ec = false;
#if defined(__SSE2__)
    for (; e - p >= 16; p += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned sp = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(' ')));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
            _mm_cmpeq_epi8(x, _mm_set1_epi8('=')), _mm_cmpeq_epi8(x, _mm_set1_epi8(','))));
        if (sp) {
            unsigned at = (unsigned)__builtin_ctz(sp);
            *eq_or_comma = ec || (m & ((1u << at) - 1)) != 0;
            return p + at;
        }
        ec = ec || m != 0;
    }
#endif
    for (; p < e && *p != ' '; p++) ec = ec || *p == '=' || *p == ',';
    *eq_or_comma = ec;
    return p;
}

/* TAG: [A-Za-z0-9_./-]{1,48} optionally "[pid]", followed by ':'. Returns bytes of the
 * tag including ':' (and one following blank) or 0. */
static size_t parse_tag(const char *p, const char *e, hm_syslog_hdr *h) {
    const char *qe = e - p > 48 ? p + 48 : e;
    const char *q = tag_end(p, qe);
    if (q == p || q >= e) return 0;
    const char *name_end = q;
    hm_str pid = {0};
    if (*q == '[') {
        const char *pb = ++q;
        while (q < e && *q != ']' && q - pb < 16) q++;
        if (q >= e || *q != ']') return 0;
        pid = (hm_str){pb, (uint32_t)(q - pb)};
        q++;
    }
    if (q >= e || *q != ':') return 0;
    q++;
    h->app = (hm_str){p, (uint32_t)(name_end - p)};
    h->procid = pid;
    if (q < e && *q == ' ') q++;
    return (size_t)(q - p);
}

static void parse_5424(const char *p, const char *e, hm_syslog_hdr *h) {
    /* TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [MSG] */
    size_t tl = token_len(p, e);
    if (tl == 1 && *p == '-') {
        h->has_ts = false;
    } else {
        int64_t ns;
        bool zone;
        size_t used = hm_parse_iso8601(p, tl, &ns, &zone);
        if (used == tl && used) {
            h->ts_ns = ns;
            h->has_ts = true;
            h->ts_has_zone = zone;
            h->ts_has_year = true;
        } else {
            /* Meraki sends "<PRI>1 <epoch.nanos> <host> <type> ..." */
            const char *q = p;
            int64_t sec = 0, frac = 0;
            int digits = 0;
            int sdigits = 0;
            while (q < p + tl && is_digit(*q) && sdigits < 12) {
                sec = sec * 10 + (*q++ - '0');
                sdigits++;
            }
            if (q < p + tl && *q == '.') {
                q++;
                while (q < p + tl && is_digit(*q)) {
                    if (digits < 9) {
                        frac = frac * 10 + (*q - '0');
                        digits++;
                    }
                    q++;
                }
                while (digits < 9) {
                    frac *= 10;
                    digits++;
                }
            }
            if (q == p + tl && sec > 100000000 && sec < 4102444800LL) { /* 1973..2100 */
                h->ts_ns = sec * 1000000000LL + frac;
                h->has_ts = h->ts_has_zone = h->ts_has_year = true;
                p += tl;
                if (p < e) p++;
                size_t hl = token_len(p, e);
                h->host = (hm_str){p, (uint32_t)hl};
                p += hl;
                if (p < e) p++;
                h->body = (hm_str){p, (uint32_t)(e - p)};
                return;
            }
        }
    }
    p += tl;
    hm_str *slots[4] = {&h->host, &h->app, &h->procid, &h->msgid};
    for (int i = 0; i < 4; i++) {
        if (p < e && *p == ' ') p++;
        size_t l = token_len(p, e);
        if (!(l == 1 && *p == '-')) *slots[i] = (hm_str){p, (uint32_t)l};
        p += l;
    }
    if (p < e && *p == ' ') p++;
    /* STRUCTURED-DATA: "-" or one or more [id k="v" ...] with \] escapes */
    if (p < e && *p == '-') {
        p++;
    } else if (p < e && *p == '[') {
        const char *sd = p;
        while (p < e && *p == '[') {
            bool in_q = false;
            p++;
            while (p < e) {
                if (*p == '\\' && p + 1 < e) {
                    p += 2;
                    continue;
                }
                if (*p == '"')
                    in_q = !in_q;
                else if (*p == ']' && !in_q)
                    break;
                p++;
            }
            if (p < e) p++;
        }
        h->sd = (hm_str){sd, (uint32_t)(p - sd)};
    }
    if (p < e && *p == ' ') p++;
    /* a UTF-8 BOM may start MSG */
    if (e - p >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
        (unsigned char)p[2] == 0xBF)
        p += 3;
    h->body = (hm_str){p, (uint32_t)(e - p)};
}

void hm_syslog_parse(const char *line, size_t n, const hm_time_ctx *tc, hm_syslog_hdr *h) {
    memset(h, 0, sizeof(*h));
    h->pri = -1;
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
    hm_str s = hm_syslog_strip_octet_count((hm_str){line, (uint32_t)n});
    const char *p = s.p, *e = s.p + s.len;
    h->body = s;
    if (p < e && *p == '<') {
        const char *q = p + 1;
        int pri = 0, digits = 0;
        while (q < e && is_digit(*q) && digits < 3) {
            pri = pri * 10 + (*q++ - '0');
            digits++;
        }
        if (digits && q < e && *q == '>' && pri <= 191) {
            h->pri = pri;
            p = q + 1;
        }
    }
    if (h->pri >= 0 && e - p >= 2 && p[0] == '1' && p[1] == ' ') {
        h->version = 1;
        parse_5424(p + 2, e, h);
        return;
    }
    while (p < e && *p == ' ') p++;
    size_t used = parse_bsd_ts(p, (size_t)(e - p), tc, h);
    if (!used) {
        int64_t ns;
        bool zone;
        size_t tl = token_len(p, e);
        size_t iu = tl >= 19 ? hm_parse_iso8601(p, tl, &ns, &zone) : 0;
        if (iu && iu == tl) {
            h->ts_ns = ns;
            h->has_ts = true;
            h->ts_has_zone = zone;
            h->ts_has_year = true;
            used = iu;
        }
    }
    if (!used) {
        /* No timestamp: a bare "<PRI>tag: msg" or a header-less line. */
        size_t t = parse_tag(p, e, h);
        h->body = (hm_str){p + t, (uint32_t)(e - p - (ptrdiff_t)t)};
        return;
    }
    p += used;
    if (p < e && *p == ':') p++; /* Cisco "Mmm dd HH:MM:SS: %ASA" */
    while (p < e && *p == ' ') p++;
    /* HOSTNAME, unless the next token is already the tag (no hostname sent) */
    size_t t = parse_tag(p, e, h);
    if (!t) {
        /* a hostname never contains '=' or ',' or '{'; such a token starts the body (one
         * pass finds the token's end and looks for them) */
        bool eq_or_comma;
        size_t hl = (size_t)(host_token_end(p, e, &eq_or_comma) - p);
        bool hostlike = hl > 0 && !eq_or_comma && *p != '{' && *p != '%';
        if (hostlike) {
            h->host = (hm_str){p, (uint32_t)hl};
            p += hl;
            while (p < e && *p == ' ') p++;
            t = parse_tag(p, e, h);
        }
    }
    p += t;
    h->body = (hm_str){p, (uint32_t)(e - p)};
}
