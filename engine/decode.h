/* decode.h - payload decoders: one registered ops struct per vendor format.
 *
 * A decoder turns the body of one syslog record (or a JSON document) into taxonomy
 * fields. Decoders are stateless: all per-call state lives in hm_decode_ctx, which
 * belongs to one worker thread. Vendor field names are mapped to taxonomy names by
 * data files rules/mappings/<decoder>.yml (see mapping.h), loaded once at start.
 *
 * Adding a decoder: one new file engine/decoders/dec_<name>.c defining
 * `const hm_decoder_ops hm_dec_<name>` and one line in engine/decoders/decoder_list.h. */
#ifndef HM_DECODE_H
#define HM_DECODE_H

#include "hm.h"
#include "arena.h"
#include "event.h"
#include "syslog.h"
#include "mapping.h"

#define JSMN_HEADER
#define JSMN_PARENT_LINKS
#define JSMN_STRICT
#include <jsmn.h>

#define HM_DECODER_ABI     1
#define HM_JSON_MAX_TOKENS 4096

typedef struct hm_decode_ctx {
    hm_arena *arena;          /* the batch arena: for unescaped strings, extras */
    const hm_time_ctx *tc;    /* year inference and district time zone */
    const hm_syslog_hdr *hdr; /* parsed header of the current record */
    const hm_field_map *map;  /* mapping of the decoder being run (may be NULL) */
    const char *reason;       /* set by a failing decoder: static text for dead letters */
    /* JSON parse cache for the current body (filled by hm_dec_json) */
    jsmntok_t *tok;   /* per-worker token array, HM_JSON_MAX_TOKENS */
    int ntok;         /* >0 parsed, <0 parse error (jsmn code), 0 not parsed */
    const char *json; /* the text the tokens index into */
} hm_decode_ctx;

typedef struct hm_decoder_ops {
    int abi;                 /* HM_DECODER_ABI */
    const char *name;        /* stable id, also the mapping file stem and `decoder` in output */
    const char *description; /* one line for --help / docs */
    /* Cheap test of whether this decoder owns the record: 0 = no, higher = more sure
     * (100 = certain, e.g. matching tag; 50 = body shape). Must not allocate. */
    int (*probe)(hm_decode_ctx *ctx, const hm_syslog_hdr *h);
    /* Fill ev from ctx->hdr->body. Returns 0, or HM_EPARSE with ctx->reason set. */
    int (*decode)(hm_decode_ctx *ctx, hm_event *ev);
    /* Optional NULL-terminated list of syslog tags (APP-NAME) this decoder owns: a record
     * with one of these tags tries this decoder's probe first, before the others. */
    const char *const *tags;
} hm_decoder_ops;

/* The registry (generated from decoder_list.h). */
extern const hm_decoder_ops *const hm_decoders[];
extern const size_t hm_decoders_count;
int hm_decoder_index(const char *name);

/* Runs the registry on one record: parses the header, picks the decoder with the
 * highest probe score, fills common header fields and the event time. Returns 0 or
 * HM_EPARSE with ctx->reason set (no decoder accepted, or the chosen one failed). */
int hm_decode_record(hm_decode_ctx *ctx, const hm_field_map *const *maps, const hm_record *rec,
                     hm_syslog_hdr *hdr, hm_event *ev);

/* ---- helpers for decoders ---- */

/* key=value tokenizer for FortiGate/SonicWall/Meraki/generic bodies: keys are
 * [A-Za-z0-9_.-]+, values are "double quoted" (with \" escapes), 'single quoted', or run
 * to the next blank. Blanks between pairs may be repeated. Non key=value words are skipped. */
typedef struct hm_kv_iter {
    const char *p, *end;
} hm_kv_iter;
static inline void hm_kv_iter_init(hm_kv_iter *it, hm_str s) {
    it->p = s.p;
    it->end = s.p + s.len;
}
bool hm_kv_next(hm_kv_iter *it, hm_str *key, hm_str *val);

/* Map a vendor key through ctx->map: taxonomy field when mapped (first writer wins),
 * otherwise kept as a vendor extra under its own name. */
void hm_dec_map(hm_decode_ctx *ctx, hm_event *ev, hm_str key, hm_str val);
/* Keep a vendor field under its own name. */
void hm_dec_extra(hm_decode_ctx *ctx, hm_event *ev, hm_str key, hm_str val);
/* Copy bytes into the arena (for values built or unescaped by the decoder). */
static inline hm_str hm_dec_dup(hm_decode_ctx *ctx, const char *p, size_t n) {
    return hm_arena_strdup(ctx->arena, p, n);
}
/* Event time from a zone-less local stamp (district tz) or from UTC. */
void hm_dec_time_local(hm_decode_ctx *ctx, hm_event *ev, int64_t local_ns);
static inline void hm_dec_time_utc(hm_event *ev, int64_t utc_ns) {
    ev->ts_ns = utc_ns;
    ev->flags &= (uint8_t)~HM_EV_TS_FROM_RECV;
}
/* Parse an ISO/RFC 3339 value into the event time (zone-less -> district tz). */
bool hm_dec_time_iso(hm_decode_ctx *ctx, hm_event *ev, hm_str v);
/* Vendor time values as CEF/LEEF write them: epoch ms (or s), "MMM dd yyyy HH:mm:ss[.SSS][ zone]",
 * "MMM dd HH:mm:ss", or ISO 8601; zone names other than UTC/GMT/Z read as the district zone. */
bool hm_dec_time_vendor(hm_decode_ctx *ctx, hm_event *ev, hm_str v);
/* The same for sources whose zone-less stamps are UTC (cloud APIs). */
bool hm_dec_time_iso_utc(hm_event *ev, hm_str v);
/* Standard origin fields. */
void hm_dec_origin(hm_event *ev, hm_src_type t, const char *vendor, const char *product,
                   const char *category, const char *service);
/* IPv4 dotted quad or an IPv6 literal (hex, ':' and '.'; at least two ':'). */
bool hm_str_is_ip(hm_str s);
/* A MAC address: 12 hex digits plain or grouped by '-', ':' or '.' (aa-bb-.., aabb.ccdd.eeff),
 * or six ':'/'-' groups of 1-2 hex digits (ISC dhcpd drops leading zeros: 0:c:29:..). */
bool hm_str_is_mac(hm_str s);
/* ASCII-lowercased copy of v in the arena (v itself when it has no upper case). */
hm_str hm_dec_lower(hm_decode_ctx *ctx, hm_str v);
/* Trimmed, lowercased, blanks as '_': a vendor word turned into a token. */
hm_str hm_dec_token(hm_decode_ctx *ctx, hm_str v);
/* Does s contain needle, ASCII case-insensitively? needle must be lowercase. */
bool hm_str_icontains(hm_str s, const char *needle);
/* Outcome from common words: success/accept/allow/ok/pass -> success,
 * fail/deny/block/drop/reject -> failure. */
const char *hm_outcome_from_word(hm_str w);

/* JSON (jsmn tokens over the body; parsed once per record and cached in ctx).
 * Returns the root token index 0, or -1 when the body is not valid JSON. */
int hm_dec_json(hm_decode_ctx *ctx, hm_str body);
/* Child of object token `obj` by dotted path ("actor.email"); -1 when absent. */
int hm_json_path(const hm_decode_ctx *ctx, int obj, const char *path);
/* Token as a string: strings unescaped into the arena only when they contain '\\';
 * primitives returned as their text; objects/arrays as their raw JSON text. */
hm_str hm_json_str(hm_decode_ctx *ctx, int tok);
/* Index of the token following tok and all its children (for iteration). */
int hm_json_skip(const hm_decode_ctx *ctx, int tok);
static inline bool hm_json_is_null(const hm_decode_ctx *ctx, int t) {
    return t >= 0 && t < ctx->ntok && ctx->tok[t].type == JSMN_PRIMITIVE &&
           ctx->json[ctx->tok[t].start] == 'n';
}
/* Convenience: set field `id` from path when present and not null. */
bool hm_json_set(hm_decode_ctx *ctx, hm_event *ev, int obj, const char *path, hm_field_id id);
/* Flatten every scalar under `obj` into vendor extras with dotted keys
 * ("properties.deviceDetail.browser"), mapping each key through ctx->map. */
void hm_json_flatten(hm_decode_ctx *ctx, hm_event *ev, int obj, const char *prefix);

#endif
