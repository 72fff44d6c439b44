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

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

/* First byte in [p, e) equal to a or b, else e. Vendor values are short: a library call per
 * value costs more than the scan, so this is inline, 16 bytes a step where SSE2 exists
 * (every x86-64), 8 bytes a step (bit tricks on a word) elsewhere. Reads only [p, e). */
static inline const char *hm_find2(const char *p, const char *e, char a, char b) {
#if defined(__SSE2__)
    const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b);
    for (; e - p >= 16; p += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned m =
            (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(x, vb)));
        if (m) return p + __builtin_ctz(m);
    }
#endif
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    const uint64_t ma = ones * (unsigned char)a, mb = ones * (unsigned char)b;
    for (; e - p >= 8; p += 8) {
        uint64_t w, xa, xb;
        memcpy(&w, p, 8);
        xa = w ^ ma;
        xb = w ^ mb;
        if ((((xa - ones) & ~xa) | ((xb - ones) & ~xb)) & highs) break; /* bytes below say where */
    }
    for (; p < e; p++)
        if (*p == a || *p == b) return p;
    return e;
}

/* key=value tokenizer for FortiGate/SonicWall/Meraki/generic bodies: keys are
 * [A-Za-z0-9_.:-]+, values are "double quoted" (with \" escapes), 'single quoted', or run
 * to the next blank. Blanks between pairs may be repeated. Non key=value words are skipped.
 * Inline: it runs for every pair of the most frequent sources, and the key and value then
 * stay in registers. */
typedef struct hm_kv_iter {
    const char *p, *end;
    bool esc; /* the last value was quoted and holds a backslash (may need unescaping) */
} hm_kv_iter;
static inline void hm_kv_iter_init(hm_kv_iter *it, hm_str s) {
    it->p = s.p;
    it->end = s.p + s.len;
    it->esc = false;
}
extern const uint8_t hm_kv_key_char[256]; /* [A-Za-z0-9_.:-] */
#if defined(__SSE2__)
/* Bit i set when byte i of x is a key byte. Letters: c | 0x20 in a..z holds for A..Z and
 * a..z only; bytes >= 0x80 are negative in these signed compares and fall outside every
 * range. */
static inline unsigned hm_kv_key_bits(__m128i x) {
    __m128i l = _mm_or_si128(x, _mm_set1_epi8(0x20));
    __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(l, _mm_set1_epi8('a' - 1)),
                                   _mm_cmpgt_epi8(_mm_set1_epi8('z' + 1), l));
    __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
                                  _mm_cmpgt_epi8(_mm_set1_epi8(':' + 1), x)); /* 0-9 : */
    __m128i punct = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('-')), _mm_cmpeq_epi8(x, _mm_set1_epi8('.'))),
        _mm_cmpeq_epi8(x, _mm_set1_epi8('_')));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(letter, digit), punct));
}
/* Bit i set when byte i of x equals c. */
static inline unsigned hm_kv_eq_bits(__m128i x, char c) {
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(c)));
}
#endif
/* First byte in [p, e) that is not a key byte, else e: a whole key in one SSE2 step. */
static inline const char *hm_kv_key_end(const char *p, const char *e) {
#if defined(__SSE2__)
    for (; e - p >= 16; p += 16) {
        unsigned m = hm_kv_key_bits(_mm_loadu_si128((const __m128i *)(const void *)p));
        if (m != 0xFFFF) return p + __builtin_ctz(~m);
    }
#endif
    while (p < e && hm_kv_key_char[(unsigned char)*p]) p++;
    return p;
}
#if defined(__SSE2__)
/* The common pair, key="value" or key=value within the 32 bytes at p (a key shorter than 16
 * bytes, no backslash in a quoted value before its closing quote), read from byte-class
 * masks of two loads: the key's end and the value's end come from the same loads, and only
 * the classes the value needs are computed. Returns false (nothing set) for anything else,
 * which the general path then reads. Needs 32 readable bytes at p. */
__attribute__((always_inline)) static inline bool hm_kv_pair32(const char *p, hm_str *key,
                                                               hm_str *val, const char **next) {
    __m128i x0 = _mm_loadu_si128((const __m128i *)(const void *)p);
    unsigned k0 = hm_kv_key_bits(x0);
    if (k0 == 0xFFFF) return false; /* keys of 16 bytes or more: the general path */
    unsigned ke = (unsigned)__builtin_ctz(~k0);
    if (ke == 0 || p[ke] != '=') return false;
    __m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
    unsigned vs = ke + 1; /* value start, <= 16 */
    char c = p[vs];
    /* only the classes this value needs are computed */
    if (c == '"' || c == '\'') {
        uint32_t stop = (hm_kv_eq_bits(x0, c) | hm_kv_eq_bits(x0, '\\') |
                         (hm_kv_eq_bits(x1, c) | hm_kv_eq_bits(x1, '\\')) << 16) >>
                        (vs + 1);
        if (!stop) return false;
        unsigned qe = vs + 1 + (unsigned)__builtin_ctz(stop);
        if (p[qe] != c) return false; /* a backslash came first: the general path unescapes */
        *key = (hm_str){p, ke};
        *val = (hm_str){p + vs + 1, qe - vs - 1};
        *next = p + qe + 1;
        return true;
    }
    uint32_t stop = (hm_kv_eq_bits(x0, ' ') | hm_kv_eq_bits(x0, '\t') |
                     (hm_kv_eq_bits(x1, ' ') | hm_kv_eq_bits(x1, '\t')) << 16) >>
                    vs;
    if (!stop) return false;
    unsigned ve = vs + (unsigned)__builtin_ctz(stop);
    *key = (hm_str){p, ke};
    *val = (hm_str){p + vs, ve - vs};
    *next = p + ve;
    return true;
}
#endif
/* always inlined: called out of line, key and val would go through memory, and reading
 * them back as 16-byte values stalls on store forwarding */
__attribute__((always_inline)) static inline bool hm_kv_next(hm_kv_iter *it, hm_str *key,
                                                             hm_str *val) {
    const char *p = it->p, *e = it->end;
    it->esc = false;
    for (;;) {
        while (p < e && (*p == ' ' || *p == '\t' || *p == ',')) p++;
        if (p >= e) {
            it->p = p;
            return false;
        }
#if defined(__SSE2__)
        if (e - p >= 32 && hm_kv_pair32(p, key, val, &it->p)) return true;
#endif
        const char *k = p;
        p = hm_kv_key_end(p, e);
        if (p < e && *p == '=' && p > k) {
            *key = (hm_str){k, (uint32_t)(p - k)};
            p++;
            if (p < e && (*p == '"' || *p == '\'')) {
                char q = *p++;
                const char *v = p;
                /* to the first quote not escaped by a backslash (a backslash escapes the
                 * byte after it, so runs of them pair up) */
                for (;;) {
                    p = hm_find2(p, e, q, '\\');
                    if (p >= e || *p == q) break;
                    it->esc = true;
                    if (e - p <= 2) {
                        p = e;
                        break;
                    }
                    p += 2;
                }
                *val = (hm_str){v, (uint32_t)(p - v)};
                if (p < e) p++;
            } else {
                const char *v = p;
                p = hm_find2(p, e, ' ', '\t');
                *val = (hm_str){v, (uint32_t)(p - v)};
            }
            it->p = p;
            return true;
        }
        /* not a key=value word: skip it */
        p = hm_find2(p, e, ' ', '\t');
    }
}

/* Map a vendor key through ctx->map: taxonomy field when mapped (first writer wins),
 * otherwise kept as a vendor extra under its own name. */
void hm_dec_map(hm_decode_ctx *ctx, hm_event *ev, hm_str key, hm_str val);
/* Keep a vendor field under its own name. Inline: a dozen calls per event on busy sources;
 * only growing the array (capacity 8, 16, 32, 64, 96 inside the arena) is out of line. */
void hm_dec_extra_grow(hm_decode_ctx *ctx, hm_event *ev);
static inline void hm_dec_extra(hm_decode_ctx *ctx, hm_event *ev, hm_str key, hm_str val) {
    uint16_t n = ev->n_extra;
    if (HM_UNLIKELY(n >= HM_EVENT_MAX_EXTRA)) return; /* bounded: later fields stay in raw */
    if (n == 0 || HM_UNLIKELY(n == 8 || n == 16 || n == 32 || n == 64)) hm_dec_extra_grow(ctx, ev);
    ev->extra[n].key = key;
    ev->extra[n].val = val;
    ev->n_extra = (uint16_t)(n + 1);
}
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
/* Standard origin fields. Inline so that the string literals' lengths are compile-time
 * constants (no strlen per event). */
extern const hm_str hm_src_type_strs[HM_SRC_COUNT];
static inline void hm_dec_origin(hm_event *ev, hm_src_type t, const char *vendor,
                                 const char *product, const char *category, const char *service) {
    ev->src_type = (uint8_t)t;
    hm_ev_set(ev, HM_F_SRC_TYPE, hm_src_type_strs[t]);
    if (vendor) hm_ev_set_c(ev, HM_F_VENDOR, vendor);
    if (product) hm_ev_set_c(ev, HM_F_PRODUCT, product);
    if (category) hm_ev_set_c(ev, HM_F_CATEGORY, category);
    if (service) hm_ev_set_c(ev, HM_F_SERVICE, service);
}
/* IPv4 dotted quad or an IPv6 literal (hex, ':' and '.'; at least two ':'). */
bool hm_str_is_ip(hm_str s);
/* A MAC address: 12 hex digits plain or grouped by '-', ':' or '.' (aa-bb-.., aabb.ccdd.eeff),
 * or six ':'/'-' groups of 1-2 hex digits (ISC dhcpd drops leading zeros: 0:c:29:..). */
bool hm_str_is_mac(hm_str s);
/* ASCII-lowercased copy of v in the arena (v itself when it has no upper case). */
hm_str hm_dec_lower(hm_decode_ctx *ctx, hm_str v);
/* Trimmed, lowercased, blanks as '_': a vendor word turned into a token. */
hm_str hm_dec_token(hm_decode_ctx *ctx, hm_str v);
/* s equals lower ASCII case-insensitively; lower must be lowercase. Inline, length first. */
static inline bool hm_str_ieq_lower(hm_str s, hm_str lower) {
    if (s.len != lower.len) return false;
    for (uint32_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (c != lower.p[i]) return false;
    }
    return true;
}
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
