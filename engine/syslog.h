/* syslog.h - syslog header parsing: RFC 3164, RFC 5424, octet-counted framing
 * (RFC 6587) and lines without <PRI> or without any header.
 *
 * Pure function over one record; thread-safe. */
#ifndef HM_SYSLOG_H
#define HM_SYSLOG_H

#include "hm.h"
#include "timeutil.h"

typedef struct hm_syslog_hdr {
    int pri;          /* -1 when absent */
    int version;      /* 1 for RFC 5424, 0 otherwise */
    bool has_ts;      /* a header timestamp was found */
    bool ts_has_zone; /* it carried a zone (5424/ISO) */
    bool ts_has_year; /* it carried a year */
    int64_t ts_ns;    /* UTC if ts_has_zone, else local wall-clock ns (year filled per cfg) */
    hm_str host;      /* HOSTNAME, may be empty */
    hm_str app;       /* TAG / APP-NAME, may be empty */
    hm_str procid;    /* pid inside tag[...] / PROCID */
    hm_str msgid;     /* 5424 MSGID */
    hm_str sd;        /* 5424 STRUCTURED-DATA, raw, without the "-" placeholder */
    hm_str body;      /* MSG: what payload decoders parse */
} hm_syslog_hdr;

/* Time context for year inference of RFC 3164 stamps (no year on the wire). */
typedef struct hm_time_ctx {
    const hm_tz *tz; /* district zone for zone-less stamps */
    int fixed_year;  /* >0: use this year (replays of old logs) */
    int64_t ref_ns;  /* otherwise infer the year nearest before this instant */
} hm_time_ctx;

/* Parses line[0..n). Always succeeds: a line with no recognizable header yields
 * pri=-1, has_ts=false and body = the whole line. */
void hm_syslog_parse(const char *line, size_t n, const hm_time_ctx *tc, hm_syslog_hdr *h);
/* Zone-less local wall-clock ns -> UTC ns using tc->tz. */
int64_t hm_time_local_to_utc_ns(const hm_time_ctx *tc, int64_t local_ns);
/* Year for a month/day seen without year, per tc (fixed year or nearest not in the future). */
int hm_time_infer_year(const hm_time_ctx *tc, int month, int day);
/* Strip RFC 6587 octet counting ("123 <PRI>...") if present; returns the inner frame. */
hm_str hm_syslog_strip_octet_count(hm_str s);

#endif
