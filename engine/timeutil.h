/* timeutil.h - civil time <-> epoch without locks or syscalls on the hot path.
 *
 * The district time zone is loaded once (hm_tz_load) into an immutable table of UTC
 * offset transitions; conversions after that are pure and thread-safe. */
#ifndef HM_TIMEUTIL_H
#define HM_TIMEUTIL_H

#include "hm.h"

typedef struct hm_tz {
    char name[64];
    int n;              /* transitions */
    int64_t *utc_start; /* seconds; offset[i] applies from utc_start[i] */
    int32_t *offset;    /* seconds east of UTC */
    uint64_t id;        /* unique per hm_tz_load: keys per-thread conversion caches */
} hm_tz;

/* Loads zone NAME ("America/Chicago", "UTC") for years [y0, y1]. Returns 0 or HM_EUSAGE
 * when the zone is unknown. Call before starting threads. */
int hm_tz_load(hm_tz *tz, const char *name, int y0, int y1);
void hm_tz_free(hm_tz *tz);
/* UTC offset (seconds) in effect at a UTC instant. */
int32_t hm_tz_offset_at_utc(const hm_tz *tz, int64_t utc_s);
/* Local wall-clock seconds (as if UTC) -> UTC seconds. Ambiguous times take the first
 * (daylight) reading; nonexistent times shift forward like mktime. */
int64_t hm_tz_local_to_utc(const hm_tz *tz, int64_t local_s);

/* Days since 1970-01-01 for a proleptic Gregorian date (pure arithmetic). */
int64_t hm_days_from_civil(int64_t y, unsigned m, unsigned d);
void hm_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d);
/* Seconds since epoch for a civil UTC time. */
static inline int64_t hm_civil_to_epoch(int y, int mo, int d, int h, int mi, int s) {
    return hm_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s;
}
/* "Jan".."Dec" -> 1..12, or 0. */
int hm_month_from_abbr(const char *p);

/* Parse RFC 3339 / ISO 8601 ("2024-03-11T05:13:12Z", "...+02:00", "2024-03-11 05:13:12.123",
 * optional fraction). On success sets *ns (as UTC if has_zone, else local wall-clock
 * nanoseconds), *has_zone, and returns bytes consumed; 0 when not a timestamp. */
size_t hm_parse_iso8601(const char *p, size_t n, int64_t *ns, bool *has_zone);
/* Parse a duration such as "60s", "5m", "2h", "1d", "250ms", plain seconds. */
bool hm_parse_duration_ns(const char *s, int64_t *ns);

#endif
