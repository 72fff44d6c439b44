#include "timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Howard Hinnant's civil-from-days algorithms (public domain). */
int64_t hm_days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void hm_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t yy = (int64_t)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

int hm_month_from_abbr(const char *p) {
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int i = 0; i < 12; i++)
        if (p[0] == months[i * 3] && p[1] == months[i * 3 + 1] && p[2] == months[i * 3 + 2])
            return i + 1;
    return 0;
}

static uint64_t tz_next_id(void) {
    static uint64_t last;
    return __atomic_add_fetch(&last, 1, __ATOMIC_RELAXED);
}

int hm_tz_load(hm_tz *tz, const char *name, int y0, int y1) {
    memset(tz, 0, sizeof(*tz));
    tz->id = tz_next_id();
    snprintf(tz->name, sizeof tz->name, "%s", name);
    if (!strcmp(name, "UTC") || !strcmp(name, "Etc/UTC") || !strcmp(name, "Z")) {
        tz->n = 1;
        tz->utc_start = hm_xcalloc(1, sizeof(int64_t));
        tz->offset = hm_xcalloc(1, sizeof(int32_t));
        tz->utc_start[0] = INT64_MIN;
        return HM_OK;
    }
    char path[512];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", name);
    FILE *f = fopen(path, "rb");
    if (!f) return HM_EUSAGE;
    char magic[4];
    bool ok = fread(magic, 1, 4, f) == 4 && !memcmp(magic, "TZif", 4);
    fclose(f);
    if (!ok) return HM_EUSAGE;

    /* Scan the zone hour by hour with localtime_r under TZ=name, once, before threads
     * start; record every offset change. Transitions happen on the hour in every zone
     * we serve (and a 30-minute zone would still be caught within the hour). */
    char *old = getenv("TZ") ? hm_xstrdup(getenv("TZ")) : NULL;
    setenv("TZ", name, 1);
    tzset();
    int64_t start = hm_civil_to_epoch(y0, 1, 1, 0, 0, 0) - 86400;
    int64_t end = hm_civil_to_epoch(y1 + 1, 1, 1, 0, 0, 0) + 86400;
    size_t cap = 16;
    tz->utc_start = hm_xmalloc(cap * sizeof(int64_t));
    tz->offset = hm_xmalloc(cap * sizeof(int32_t));
    long prev = 0;
    /* Daily steps find every day with a change; a binary search then finds the exact
     * second. Zones change offset at most twice a year, far apart, so a day never holds
     * two changes that cancel out. */
    for (int64_t t = start; t <= end; t += 86400) {
        time_t tt = (time_t)t;
        struct tm tm;
        localtime_r(&tt, &tm);
        if (t == start || tm.tm_gmtoff != prev) {
            int64_t at = t;
            if (t != start) {
                int64_t lo = t - 86400, hi = t;
                while (hi - lo > 1) {
                    int64_t mid = lo + (hi - lo) / 2;
                    time_t mt = (time_t)mid;
                    struct tm mtm;
                    localtime_r(&mt, &mtm);
                    if (mtm.tm_gmtoff == prev)
                        lo = mid;
                    else
                        hi = mid;
                }
                at = hi;
            }
            if ((size_t)tz->n == cap) {
                cap *= 2;
                tz->utc_start = hm_xrealloc(tz->utc_start, cap * sizeof(int64_t));
                tz->offset = hm_xrealloc(tz->offset, cap * sizeof(int32_t));
            }
            tz->utc_start[tz->n] = t == start ? INT64_MIN : at;
            tz->offset[tz->n] = (int32_t)tm.tm_gmtoff;
            tz->n++;
            prev = tm.tm_gmtoff;
        }
    }
    if (old) {
        setenv("TZ", old, 1);
        free(old);
    } else {
        unsetenv("TZ");
    }
    tzset();
    return HM_OK;
}

void hm_tz_free(hm_tz *tz) {
    free(tz->utc_start);
    free(tz->offset);
    tz->utc_start = NULL;
    tz->offset = NULL;
    tz->n = 0;
    tz->id = 0;
}

int32_t hm_tz_offset_at_utc(const hm_tz *tz, int64_t utc_s) {
    if (!tz || tz->n == 0) return 0;
    /* log times cluster: try the interval this thread used last before searching */
    static _Thread_local const hm_tz *last_tz;
    static _Thread_local int last_i;
    if (last_tz == tz && last_i < tz->n && tz->utc_start[last_i] <= utc_s &&
        (last_i + 1 == tz->n || utc_s < tz->utc_start[last_i + 1]))
        return tz->offset[last_i];
    int lo = 0, hi = tz->n - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (tz->utc_start[mid] <= utc_s)
            lo = mid;
        else
            hi = mid - 1;
    }
    last_tz = tz;
    last_i = lo;
    return tz->offset[lo];
}

/* Local times known to convert with one offset (see hm_tz_local_to_utc), per thread. */
static _Thread_local struct {
    const hm_tz *tz;
    uint64_t id;    /* tz->id when filled: a zone loaded again at the same address misses */
    int64_t lo, hi; /* local seconds [lo, hi) */
    int32_t off;
} tz_span;

int64_t hm_tz_local_to_utc(const hm_tz *tz, int64_t local_s) {
    if (!tz || tz->n <= 1) return local_s - (tz && tz->n ? tz->offset[0] : 0);
    /* log times cluster: most stamps fall in the span the previous one found */
    if (tz_span.tz == tz && tz_span.id == tz->id && local_s >= tz_span.lo && local_s < tz_span.hi)
        return local_s - tz_span.off;
    /* Try both offsets around the instant; prefer the earlier valid reading. */
    int32_t o1 = hm_tz_offset_at_utc(tz, local_s - 86400 / 2);
    int32_t o2 = hm_tz_offset_at_utc(tz, local_s + 86400 / 2);
    int64_t c1 = local_s - o1, c2 = local_s - o2;
    bool v1 = hm_tz_offset_at_utc(tz, c1) == o1, v2 = hm_tz_offset_at_utc(tz, c2) == o2;
    /* Remember the span of local times whose answer is certainly local - off with this
     * interval's offset: at least max(12 h, |off|) away from both of its transitions, both
     * probes above and local - off stay inside the interval, so all readings agree. */
    int lo = 0, hi = tz->n - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (tz->utc_start[mid] <= local_s)
            lo = mid;
        else
            hi = mid - 1;
    }
    int32_t off = tz->offset[lo];
    int64_t margin = off < 0 ? -(int64_t)off : off;
    if (margin < 86400 / 2) margin = 86400 / 2;
    int64_t s_lo = lo == 0 ? INT64_MIN : tz->utc_start[lo] + margin;
    int64_t s_hi = lo + 1 == tz->n ? INT64_MAX : tz->utc_start[lo + 1] - margin;
    if (s_lo < s_hi) {
        tz_span.tz = tz;
        tz_span.id = tz->id;
        tz_span.lo = s_lo;
        tz_span.hi = s_hi;
        tz_span.off = off;
    }
    if (v1 && v2) return c1 < c2 ? c1 : c2;
    if (v1) return c1;
    if (v2) return c2;
    /* in a spring-forward gap: shift forward (as mktime does) */
    return local_s - (o1 < o2 ? o1 : o2);
}

static inline int dig2(const char *p) {
    if ((unsigned)(p[0] - '0') > 9 || (unsigned)(p[1] - '0') > 9) return -1;
    return (p[0] - '0') * 10 + (p[1] - '0');
}

size_t hm_parse_iso8601(const char *p, size_t n, int64_t *ns, bool *has_zone) {
    /* YYYY-MM-DD[T ]HH:MM:SS[.frac][Z|+HH:MM|+HHMM] ; also YYYY/MM/DD */
    if (n < 19) return 0;
    for (int i = 0; i < 4; i++)
        if ((unsigned)(p[i] - '0') > 9) return 0;
    if ((p[4] != '-' && p[4] != '/') || p[7] != p[4]) return 0;
    if (p[10] != 'T' && p[10] != ' ' && p[10] != 't') return 0;
    if (p[13] != ':' || p[16] != ':') return 0;
    int y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
    if (y < 1900 || y > 2200) return 0; /* keeps the arithmetic below far from overflow */
    int mo = dig2(p + 5), d = dig2(p + 8), h = dig2(p + 11), mi = dig2(p + 14), s = dig2(p + 17);
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 ||
        s > 60)
        return 0;
    size_t i = 19;
    int64_t frac = 0;
    if (i < n && (p[i] == '.' || p[i] == ',')) {
        i++;
        int digits = 0;
        while (i < n && (unsigned)(p[i] - '0') <= 9) {
            if (digits < 9) {
                frac = frac * 10 + (p[i] - '0');
                digits++;
            }
            i++;
        }
        while (digits < 9) {
            frac *= 10;
            digits++;
        }
    }
    int64_t secs = hm_civil_to_epoch(y, mo, d, h, mi, s);
    *has_zone = false;
    if (i < n && (p[i] == 'Z' || p[i] == 'z')) {
        *has_zone = true;
        i++;
    } else if (i + 3 <= n && (p[i] == '+' || p[i] == '-') && dig2(p + i + 1) >= 0) {
        int sign = p[i] == '-' ? -1 : 1;
        int oh = dig2(p + i + 1), om = 0;
        size_t j = i + 3;
        if (j + 3 <= n && p[j] == ':' && dig2(p + j + 1) >= 0) {
            om = dig2(p + j + 1);
            j += 3;
        } else if (j + 2 <= n && dig2(p + j) >= 0) {
            om = dig2(p + j);
            j += 2;
        }
        secs -= sign * (oh * 3600 + om * 60);
        *has_zone = true;
        i = j;
    } else if (i + 4 <= n && !memcmp(p + i, " UTC", 4)) {
        *has_zone = true;
        i += 4;
    }
    *ns = secs * 1000000000LL + frac;
    return i;
}

bool hm_parse_duration_ns(const char *s, int64_t *ns) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0) return false;
    double mult = 1e9;
    if (!strcmp(end, "") || !strcmp(end, "s"))
        mult = 1e9;
    else if (!strcmp(end, "ms"))
        mult = 1e6;
    else if (!strcmp(end, "us"))
        mult = 1e3;
    else if (!strcmp(end, "m") || !strcmp(end, "min"))
        mult = 60e9;
    else if (!strcmp(end, "h"))
        mult = 3600e9;
    else if (!strcmp(end, "d"))
        mult = 86400e9;
    else if (!strcmp(end, "w"))
        mult = 7 * 86400e9;
    else
        return false;
    *ns = (int64_t)(v * mult);
    return true;
}
