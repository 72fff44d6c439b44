/* sigma_eval.c - predicate evaluation shared by the compiled matcher and the reference
 * evaluator for the kinds Hyperscan does not decide (CIDR, numbers, time parts). */
#include <arpa/inet.h>
#include <math.h>
#include <stdlib.h>

#include "sigma_int.h"

bool sg_parse_ip(const char *p, size_t n, uint8_t addr[16], uint8_t *family) {
    char buf[64];
    if (n == 0 || n >= sizeof buf) return false;
    memcpy(buf, p, n);
    buf[n] = 0;
    /* tolerate "[v6]" and IPv4 with a zone/port suffix is not an address: reject */
    char *s = buf;
    if (s[0] == '[' && s[n - 1] == ']') {
        s[n - 1] = 0;
        s++;
    }
    if (strchr(s, ':')) {
        char *pct = strchr(s, '%');
        if (pct) *pct = 0;
        if (inet_pton(AF_INET6, s, addr) != 1) return false;
        *family = 6;
        /* IPv4-mapped ::ffff:a.b.c.d compares as IPv4 */
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (!memcmp(addr, mapped, 12)) {
            memmove(addr, addr + 12, 4);
            *family = 4;
        }
        return true;
    }
    if (inet_pton(AF_INET, s, addr) != 1) return false;
    *family = 4;
    return true;
}

bool sg_eval_cidr(const sg_pred *p, hm_str v) {
    uint8_t a[16];
    uint8_t fam;
    return sg_parse_ip(v.p, v.len, a, &fam) && sg_cidr_has(p, a, fam);
}

bool sg_cidr_has(const sg_pred *p, const uint8_t a[16], uint8_t fam) {
    if (fam != p->family) return false;
    int full = p->prefix / 8, rem = p->prefix % 8;
    if (memcmp(a, p->addr, (size_t)full) != 0) return false;
    if (rem) {
        uint8_t mask = (uint8_t)(0xFF << (8 - rem));
        if ((a[full] & mask) != (p->addr[full] & mask)) return false;
    }
    return true;
}

bool sg_parse_double(hm_str v, double *out) {
    /* plain digits (ports, byte counts, ids: nearly every value): exact without strtod */
    if (v.len && v.len <= 15) {
        uint64_t n = 0;
        size_t i = 0;
        for (; i < v.len && v.p[i] >= '0' && v.p[i] <= '9'; i++)
            n = n * 10 + (uint64_t)(v.p[i] - '0');
        if (i == v.len) {
            *out = (double)n;
            return true;
        }
    }
    char buf[64];
    if (v.len == 0 || v.len >= sizeof buf) return false;
    memcpy(buf, v.p, v.len);
    buf[v.len] = 0;
    char *end;
    double d = strtod(buf, &end);
    while (*end == ' ') end++;
    if (*end || end == buf || isnan(d)) return false;
    *out = d;
    return true;
}

static bool cmp(uint8_t op, double a, double b) {
    switch (op) {
    case SG_CMP_LT:
        return a < b;
    case SG_CMP_LTE:
        return a <= b;
    case SG_CMP_GT:
        return a > b;
    case SG_CMP_GTE:
        return a >= b;
    default:
        return a == b;
    }
}

bool sg_eval_num(const sg_pred *p, hm_str v) {
    double d;
    return sg_parse_double(v, &d) && cmp(p->cmp, d, p->num);
}

bool sg_eval_num_at(const sg_pred *p, double x) {
    return cmp(p->cmp, x, p->num);
}

bool sg_eval_timepart(const hm_ruleset *rs, const sg_pred *p, const hm_event *ev, hm_str v,
                      bool is_event_time) {
    int64_t ns;
    if (is_event_time) {
        ns = ev->ts_ns;
    } else {
        bool zone;
        if (!hm_parse_iso8601(v.p, v.len, &ns, &zone)) return false;
        if (!zone && rs->tz) ns = hm_tz_local_to_utc(rs->tz, ns / 1000000000LL) * 1000000000LL;
    }
    /* Parts are read in the district's local time (docs/sigma.md): school hours are local. */
    int64_t s = ns / 1000000000LL;
    if (ns < 0 && ns % 1000000000LL) s--;
    if (rs->tz) s += hm_tz_offset_at_utc(rs->tz, s);
    int64_t days = s / 86400, rem = s % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int y;
    unsigned mo, d;
    hm_civil_from_days(days, &y, &mo, &d);
    double val;
    switch (p->tpart) {
    case SG_TP_MINUTE:
        val = (double)(rem / 60 % 60);
        break;
    case SG_TP_HOUR:
        val = (double)(rem / 3600);
        break;
    case SG_TP_DAY:
        val = d;
        break;
    case SG_TP_MONTH:
        val = mo;
        break;
    case SG_TP_YEAR:
        val = y;
        break;
    case SG_TP_WEEKDAY:
        val = (double)((days % 7 + 7 + 3) % 7 + 1);
        break;                               /* 1=Mon..7=Sun */
    default: {                               /* ISO week number */
        int64_t wd = (days % 7 + 7 + 3) % 7; /* 0 = Monday */
        int64_t thursday = days - wd + 3;
        int ty;
        unsigned tm, td;
        hm_civil_from_days(thursday, &ty, &tm, &td);
        int64_t jan1 = hm_days_from_civil(ty, 1, 1);
        val = (double)((thursday - jan1) / 7 + 1);
    }
    }
    return cmp(p->cmp, val, p->num);
}
