#include "decode.h"

#include <pthread.h>
#include <stdio.h>

#define HM_DECODER(name) extern const hm_decoder_ops hm_dec_##name;
#include "decoders/decoder_list.h"
#undef HM_DECODER

const hm_decoder_ops *const hm_decoders[] = {
#define HM_DECODER(name) &hm_dec_##name,
#include "decoders/decoder_list.h"
#undef HM_DECODER
};
const size_t hm_decoders_count = HM_ARRAY_LEN(hm_decoders);

int hm_decoder_index(const char *name) {
    for (size_t i = 0; i < hm_decoders_count; i++)
        if (!strcmp(hm_decoders[i]->name, name)) return (int)i;
    return -1;
}

/* syslog facility and severity values as strings, lengths included (no strlen per event) */
static const hm_str small_numbers[] = {
    HM_STR_LIT("0"),  HM_STR_LIT("1"),  HM_STR_LIT("2"),  HM_STR_LIT("3"),  HM_STR_LIT("4"),
    HM_STR_LIT("5"),  HM_STR_LIT("6"),  HM_STR_LIT("7"),  HM_STR_LIT("8"),  HM_STR_LIT("9"),
    HM_STR_LIT("10"), HM_STR_LIT("11"), HM_STR_LIT("12"), HM_STR_LIT("13"), HM_STR_LIT("14"),
    HM_STR_LIT("15"), HM_STR_LIT("16"), HM_STR_LIT("17"), HM_STR_LIT("18"), HM_STR_LIT("19"),
    HM_STR_LIT("20"), HM_STR_LIT("21"), HM_STR_LIT("22"), HM_STR_LIT("23")};

/* Flags raw bytes that are not plain UTF-8 text (decoded anyway; see docs/pipeline.md). */
static uint8_t scan_raw(const char *p, size_t n) {
    uint8_t flags = 0;
    /* one pass, no branches inside: any high bit (non-ASCII) or any zero byte (NUL); 16
     * bytes a step with SSE2, then 8 at a time */
    uint64_t hi = 0, zero = 0;
    size_t i0 = 0;
#if defined(__SSE2__)
    __m128i vhi = _mm_setzero_si128(), vzero = _mm_setzero_si128();
    for (; i0 + 16 <= n; i0 += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i0));
        vhi = _mm_or_si128(vhi, x);
        vzero = _mm_or_si128(vzero, _mm_cmpeq_epi8(x, _mm_setzero_si128()));
    }
    if (_mm_movemask_epi8(vzero)) flags |= HM_EV_HAS_NUL;
    if (_mm_movemask_epi8(vhi)) hi = 0x80;
#endif
    for (; i0 + 8 <= n; i0 += 8) {
        uint64_t w;
        memcpy(&w, p + i0, 8);
        hi |= w;
        zero |= (w - 0x0101010101010101ULL) & ~w;
    }
    for (size_t i = i0; i < n; i++) {
        hi |= (unsigned char)p[i];
        if (!p[i]) flags |= HM_EV_HAS_NUL;
    }
    if (zero & 0x8080808080808080ULL) flags |= HM_EV_HAS_NUL;
    if (!(hi & 0x8080808080808080ULL)) return flags; /* plain ASCII */
    i0 = 0;
    for (size_t i = i0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x80) continue;
        size_t k = 0;
        if (c >= 0xC2 && c <= 0xDF)
            k = 2;
        else if (c >= 0xE0 && c <= 0xEF)
            k = 3;
        else if (c >= 0xF0 && c <= 0xF4)
            k = 4;
        if (!k || i + k > n) return flags | HM_EV_INVALID_UTF8;
        for (size_t j = 1; j < k; j++)
            if (((unsigned char)p[i + j] & 0xC0) != 0x80) return flags | HM_EV_INVALID_UTF8;
        if ((c == 0xE0 && (unsigned char)p[i + 1] < 0xA0) ||
            (c == 0xED && (unsigned char)p[i + 1] >= 0xA0) ||
            (c == 0xF0 && (unsigned char)p[i + 1] < 0x90) ||
            (c == 0xF4 && (unsigned char)p[i + 1] >= 0x90))
            return flags | HM_EV_INVALID_UTF8;
        i += k - 1;
    }
    return flags;
}

/* Syslog tag -> decoder that owns it: an open-addressing table over every decoder's tags,
 * built once on first use (the registry is static), keyed by length and the first and last
 * bytes. A repeated tag keeps its first owner in registry order. */
#define TAG_SLOTS 128
static struct tag_slot {
    const char *tag; /* NULL = empty */
    uint32_t len;
    int owner;
} tag_table[TAG_SLOTS];
static size_t tag_table_n;
static bool tag_table_full; /* more tags than fit loosely: look them up by a linear scan */
static pthread_once_t tag_table_once = PTHREAD_ONCE_INIT;
static bool tag_table_built; /* set (release) at the end of tag_table_build */

static inline unsigned tag_hash(const char *p, size_t n) {
    return (unsigned)(n * 31u + (unsigned char)p[0] * 7u + (unsigned char)p[n - 1]) % TAG_SLOTS;
}

static void tag_table_build(void) {
    for (size_t i = 0; i < hm_decoders_count; i++)
        for (const char *const *t = hm_decoders[i]->tags; t && *t; t++) {
            size_t n = strlen(*t);
            if (!n) continue;
            unsigned j = tag_hash(*t, n);
            bool dup = false;
            for (; tag_table[j].tag; j = (j + 1) % TAG_SLOTS)
                if (tag_table[j].len == n && !memcmp(tag_table[j].tag, *t, n)) dup = true;
            if (dup) continue;
            if (++tag_table_n > TAG_SLOTS / 2) {
                tag_table_full = true;
                __atomic_store_n(&tag_table_built, true, __ATOMIC_RELEASE);
                return;
            }
            tag_table[j] = (struct tag_slot){*t, (uint32_t)n, (int)i};
        }
    __atomic_store_n(&tag_table_built, true, __ATOMIC_RELEASE);
}

static int tag_owner_scan(hm_str app) {
    for (size_t i = 0; i < hm_decoders_count; i++)
        for (const char *const *t = hm_decoders[i]->tags; t && *t; t++)
            if (strlen(*t) == app.len && !memcmp(*t, app.p, app.len)) return (int)i;
    return -1;
}

static int tag_owner(hm_str app) {
    /* the flag spares a library call per record once the table exists */
    if (HM_UNLIKELY(!__atomic_load_n(&tag_table_built, __ATOMIC_ACQUIRE)))
        pthread_once(&tag_table_once, tag_table_build);
    if (HM_UNLIKELY(tag_table_full)) return tag_owner_scan(app);
    for (unsigned j = tag_hash(app.p, app.len); tag_table[j].tag; j = (j + 1) % TAG_SLOTS)
        if (tag_table[j].len == app.len) {
            uint32_t i = 0; /* tags are short: a plain loop beats a library call */
            while (i < app.len && tag_table[j].tag[i] == app.p[i]) i++;
            if (i == app.len) return tag_table[j].owner;
        }
    return -1;
}

int hm_decode_record(hm_decode_ctx *ctx, const hm_field_map *const *maps, const hm_record *rec,
                     hm_syslog_hdr *hdr, hm_event *ev) {
    /* Decoders write the event's field slots sparsely, all over its ~1.2 KiB; a batch's
     * events do not fit in L2, so ask for all of its lines now (for writing), while the
     * header is parsed, instead of stalling on them one store at a time later. */
    for (size_t off = 0; off < sizeof(*ev); off += 64) __builtin_prefetch((char *)ev + off, 1, 3);
    hm_syslog_parse(rec->data, rec->len, ctx->tc, hdr);
    ctx->hdr = hdr;
    ctx->ntok = 0;
    ctx->json = NULL;
    ctx->reason = NULL;
    ctx->map = NULL;
    hm_ev_clear(ev);
    ev->rec = rec;
    ev->recv_ns = rec->recv_ns;
    ev->flags = scan_raw(rec->data, rec->len);
    if (hdr->has_ts) {
        ev->ts_ns = hdr->ts_has_zone ? hdr->ts_ns : hm_time_local_to_utc_ns(ctx->tc, hdr->ts_ns);
    } else {
        ev->ts_ns = rec->recv_ns;
        ev->flags |= HM_EV_TS_FROM_RECV;
    }
    if (hdr->body.len == 0) {
        ctx->reason = "empty record";
        return HM_EPARSE;
    }
    int best = -1, best_score = 0;
    /* a tag a decoder owns settles most records with one probe */
    int owner = hdr->app.len ? tag_owner(hdr->app) : -1;
    if (owner >= 0) {
        int sc = hm_decoders[owner]->probe(ctx, hdr);
        if (sc >= 100) {
            best = owner;
            best_score = sc;
        }
    }
    for (size_t i = 0; best_score < 100 && i < hm_decoders_count; i++) {
        int s = hm_decoders[i]->probe(ctx, hdr);
        if (s > best_score) {
            best_score = s;
            best = (int)i;
            if (s >= 100) break;
        }
    }
    if (best < 0) {
        ctx->reason = "no decoder recognizes this record";
        return HM_EPARSE;
    }
    ctx->map = maps ? maps[best] : NULL;
    ev->decoder = (uint16_t)best;
    int rc = hm_decoders[best]->decode(ctx, ev);
    if (rc != HM_OK) {
        if (!ctx->reason) ctx->reason = "decoder rejected the record";
        return HM_EPARSE;
    }
    if (hdr->host.len) hm_ev_set_default(ev, HM_F_HOST, hdr->host);
    if (hdr->app.len) hm_ev_set_default(ev, HM_F_PROGRAM, hdr->app);
    if (hdr->procid.len) hm_ev_set_default(ev, HM_F_PID, hdr->procid);
    if (hdr->pri >= 0) {
        hm_ev_set(ev, HM_F_FACILITY, small_numbers[hdr->pri >> 3]);
        hm_ev_set(ev, HM_F_SYSLOG_SEVERITY, small_numbers[hdr->pri & 7]);
    }
    return HM_OK;
}

/* ---- helpers ---- */

/* [A-Za-z0-9_.:-] as a table: one load per key byte instead of a chain of compares */
const uint8_t hm_kv_key_char[256] = {
    ['-'] = 1, ['.'] = 1, [':'] = 1, ['_'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1,
    ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1,
    ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,
    ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};
void hm_dec_extra_grow(hm_decode_ctx *ctx, hm_event *ev) {
    uint16_t n = ev->n_extra;
    uint16_t cap = n == 0 ? 8 : (n == 64 ? HM_EVENT_MAX_EXTRA : (uint16_t)(n * 2));
    hm_kv *nk = hm_arena_alloc(ctx->arena, cap * sizeof(hm_kv));
    if (n) memcpy(nk, ev->extra, n * sizeof(hm_kv));
    ev->extra = nk;
}

void hm_dec_map(hm_decode_ctx *ctx, hm_event *ev, hm_str key, hm_str val) {
    int id = hm_field_map_get(ctx->map, key.p, key.len);
    if (id >= 0) {
        /* an empty vendor value does not make a taxonomy field present */
        if (val.len && !hm_ev_has(ev, (hm_field_id)id)) hm_ev_set(ev, (hm_field_id)id, val);
        return;
    }
    hm_dec_extra(ctx, ev, key, val);
}

void hm_dec_time_local(hm_decode_ctx *ctx, hm_event *ev, int64_t local_ns) {
    hm_dec_time_utc(ev, hm_time_local_to_utc_ns(ctx->tc, local_ns));
}

static int dig2_or_neg(const char *p) {
    if ((unsigned)(p[0] - '0') > 9 || (unsigned)(p[1] - '0') > 9) return -1;
    return (p[0] - '0') * 10 + (p[1] - '0');
}

bool hm_dec_time_vendor(hm_decode_ctx *ctx, hm_event *ev, hm_str v) {
    v = hm_str_trim(v);
    if (!v.len) return false;
    bool digits = v.len <= 19;
    for (uint32_t i = 0; i < v.len && digits; i++) digits = (unsigned)(v.p[i] - '0') <= 9;
    if (digits) {
        uint64_t n = 0;
        for (uint32_t i = 0; i < v.len; i++) n = n * 10 + (uint64_t)(v.p[i] - '0');
        int64_t ns;
        /* epoch ms or s, years 1973..2100 */
        if (n >= 100000000000ULL && n <= 4102444800000ULL)
            ns = (int64_t)n * 1000000LL;
        else if (n >= 100000000ULL && n <= 4102444800ULL)
            ns = (int64_t)n * 1000000000LL;
        else
            return false;
        hm_dec_time_utc(ev, ns);
        return true;
    }
    if (v.len >= 19 && (unsigned)(v.p[0] - '0') <= 9) return hm_dec_time_iso(ctx, ev, v);
    if (v.len < 15 || v.p[3] != ' ') return false;
    char mon[4] = {v.p[0], v.p[1], v.p[2], 0};
    int mo = hm_month_from_abbr(mon);
    if (!mo) return false;
    uint32_t i = 4;
    if (v.p[i] == ' ') i++;
    int day = 0;
    while (i < v.len && (unsigned)(v.p[i] - '0') <= 9 && day < 100)
        day = day * 10 + (v.p[i++] - '0');
    if (i >= v.len || v.p[i] != ' ' || day < 1 || day > 31) return false;
    i++;
    int year = 0;
    if (i + 5 <= v.len && v.p[i + 4] == ' ') {
        for (int k = 0; k < 4; k++) {
            if ((unsigned)(v.p[i + k] - '0') > 9) return false;
            year = year * 10 + (v.p[i + k] - '0');
        }
        i += 5;
    }
    if (i + 8 > v.len || v.p[i + 2] != ':' || v.p[i + 5] != ':') return false;
    int hh = dig2_or_neg(v.p + i), mi = dig2_or_neg(v.p + i + 3), ss = dig2_or_neg(v.p + i + 6);
    if (hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 60) return false;
    i += 8;
    int64_t frac = 0;
    if (i < v.len && v.p[i] == '.') {
        int d = 0;
        i++;
        while (i < v.len && (unsigned)(v.p[i] - '0') <= 9) {
            if (d < 9) {
                frac = frac * 10 + (v.p[i] - '0');
                d++;
            }
            i++;
        }
        while (d < 9) {
            frac *= 10;
            d++;
        }
    }
    if (!year) year = hm_time_infer_year(ctx->tc, mo, day);
    if (year < 1900 || year > 2200) return false;
    int64_t ns = hm_civil_to_epoch(year, mo, day, hh, mi, ss) * 1000000000LL + frac;
    hm_str zone = hm_str_trim((hm_str){v.p + i, v.len - i});
    if (hm_str_eq_c(zone, "UTC") || hm_str_eq_c(zone, "GMT") || hm_str_eq_c(zone, "Z"))
        hm_dec_time_utc(ev, ns);
    else
        hm_dec_time_local(ctx, ev, ns);
    return true;
}

bool hm_dec_time_iso_utc(hm_event *ev, hm_str v) {
    int64_t ns;
    bool zone;
    if (!hm_parse_iso8601(v.p, v.len, &ns, &zone)) return false;
    hm_dec_time_utc(ev, ns); /* zone-less stamps of this source are UTC */
    return true;
}

bool hm_dec_time_iso(hm_decode_ctx *ctx, hm_event *ev, hm_str v) {
    int64_t ns;
    bool zone;
    size_t used = hm_parse_iso8601(v.p, v.len, &ns, &zone);
    if (!used) return false;
    if (zone)
        hm_dec_time_utc(ev, ns);
    else
        hm_dec_time_local(ctx, ev, ns);
    return true;
}

const hm_str hm_src_type_strs[HM_SRC_COUNT] = {
#define X(id, name) HM_STR_LIT(name),
    HM_SRC_TYPES(X)
#undef X
};

static bool is_hex_digit(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool hm_str_is_ip(hm_str s) {
    if (s.len < 2 || s.len > 45) return false;
    int dots = 0, colons = 0, digits = 0;
    bool v4 = true;
    for (uint32_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (c == '.') {
            if (!digits) v4 = false;
            dots++;
            digits = 0;
        } else if (c == ':') {
            colons++;
            v4 = false;
        } else if (c >= '0' && c <= '9') {
            if (++digits > 3) v4 = false;
        } else if (is_hex_digit(c)) {
            v4 = false;
        } else {
            return false;
        }
    }
    if (v4) return dots == 3 && digits > 0;
    return colons >= 2;
}

bool hm_str_is_mac(hm_str s) {
    int hex = 0, groups = 0, n = 0;
    bool short_groups = true;
    for (uint32_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (is_hex_digit(c)) {
            hex++;
            if (++n > 2) short_groups = false;
        } else if (c == '-' || c == ':' || c == '.') {
            if (!n || c == '.') short_groups = false;
            groups++;
            n = 0;
        } else {
            return false;
        }
    }
    if (hex == 12 && (s.len == 12 || s.len == 14 || s.len == 17)) return true;
    return short_groups && n && groups == 5;
}

hm_str hm_dec_lower(hm_decode_ctx *ctx, hm_str v) {
    uint32_t i = 0;
    while (i < v.len && !(v.p[i] >= 'A' && v.p[i] <= 'Z')) i++;
    if (i == v.len) return v;
    char *o = hm_arena_alloc(ctx->arena, v.len);
    for (uint32_t j = 0; j < v.len; j++) {
        char c = v.p[j];
        o[j] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    return (hm_str){o, v.len};
}

hm_str hm_dec_token(hm_decode_ctx *ctx, hm_str v) {
    v = hm_str_trim(v);
    if (!v.len) return v;
    char *o = hm_arena_alloc(ctx->arena, v.len);
    for (uint32_t i = 0; i < v.len; i++) {
        char c = v.p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        else if (c == ' ')
            c = '_';
        o[i] = c;
    }
    return (hm_str){o, v.len};
}

bool hm_str_icontains(hm_str s, const char *needle) {
    size_t n = strlen(needle);
    if (s.len < n) return false;
    for (size_t i = 0; i + n <= s.len; i++) {
        size_t j = 0;
        while (j < n) {
            char a = s.p[i + j];
            if (a >= 'A' && a <= 'Z') a = (char)(a + 32);
            if (a != needle[j]) break;
            j++;
        }
        if (j == n) return true;
    }
    return false;
}

const char *hm_outcome_from_word(hm_str w) {
    /* lengths kept with the words: most candidates are rejected on length alone */
    static const hm_str ok[] = {
        HM_STR_LIT("success"), HM_STR_LIT("succeeded"), HM_STR_LIT("successful"),
        HM_STR_LIT("accept"),  HM_STR_LIT("accepted"),  HM_STR_LIT("allow"),
        HM_STR_LIT("allowed"), HM_STR_LIT("ok"),        HM_STR_LIT("pass"),
        HM_STR_LIT("passed"),  HM_STR_LIT("permit"),    HM_STR_LIT("permitted"),
        HM_STR_LIT("granted"), HM_STR_LIT("true"),      HM_STR_LIT("0")};
    static const hm_str bad[] = {
        HM_STR_LIT("failure"), HM_STR_LIT("failed"), HM_STR_LIT("fail"),     HM_STR_LIT("deny"),
        HM_STR_LIT("denied"),  HM_STR_LIT("block"),  HM_STR_LIT("blocked"),  HM_STR_LIT("drop"),
        HM_STR_LIT("dropped"), HM_STR_LIT("reject"), HM_STR_LIT("rejected"), HM_STR_LIT("error"),
        HM_STR_LIT("false"),   HM_STR_LIT("invalid")};
    for (size_t i = 0; i < HM_ARRAY_LEN(ok); i++)
        if (hm_str_ieq_lower(w, ok[i])) return "success";
    for (size_t i = 0; i < HM_ARRAY_LEN(bad); i++)
        if (hm_str_ieq_lower(w, bad[i])) return "failure";
    return "unknown";
}

/* ---- JSON ---- */

/* Checks token t and its children form a well-formed value; *next = index after it. */
static bool json_structure_ok(const hm_decode_ctx *ctx, int t, int *next, int depth) {
    if (t >= ctx->ntok || depth > 64) return false;
    const jsmntok_t *tk = &ctx->tok[t];
    int k = t + 1;
    if (tk->type == JSMN_OBJECT) {
        for (int i = 0; i < tk->size; i++) {
            if (k >= ctx->ntok || ctx->tok[k].type != JSMN_STRING || ctx->tok[k].size != 1)
                return false;
            int after;
            if (!json_structure_ok(ctx, k + 1, &after, depth + 1)) return false;
            k = after;
        }
    } else if (tk->type == JSMN_ARRAY) {
        for (int i = 0; i < tk->size; i++) {
            int after;
            if (!json_structure_ok(ctx, k, &after, depth + 1)) return false;
            k = after;
        }
    } else if (tk->type != JSMN_STRING && tk->type != JSMN_PRIMITIVE) {
        return false;
    } else if (tk->type == JSMN_STRING && tk->size > 1) {
        return false;
    }
    for (int j = t + 1; j < k; j++)
        if (ctx->tok[j].start < tk->start || ctx->tok[j].end > tk->end) return false;
    *next = k;
    return true;
}

int hm_dec_json(hm_decode_ctx *ctx, hm_str body) {
    if (ctx->ntok > 0 && ctx->json == body.p) return 0;
    if (ctx->ntok < 0 && ctx->json == body.p) return -1;
    ctx->json = body.p;
    jsmn_parser parser;
    jsmn_init(&parser);
    int r = jsmn_parse(&parser, body.p, body.len, ctx->tok, HM_JSON_MAX_TOKENS);
    if (r <= 0 || ctx->tok[0].type != JSMN_OBJECT) {
        ctx->ntok = r < 0 ? r : -2;
        return -1;
    }
    /* jsmn accepts trailing bytes; require only blanks after the root object */
    for (unsigned i = (unsigned)ctx->tok[0].end; i < body.len; i++) {
        char c = body.p[i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            ctx->ntok = -2;
            return -1;
        }
    }
    ctx->ntok = r;
    /* jsmn accepts malformed objects such as {"a"} (a key without a value); walk the
     * token tree once so every helper can trust the structure */
    int next = 0;
    if (!json_structure_ok(ctx, 0, &next, 0) || next != r) {
        ctx->ntok = -2;
        return -1;
    }
    return 0;
}

int hm_json_skip(const hm_decode_ctx *ctx, int t) {
    int end = ctx->tok[t].end, j = t + 1;
    while (j < ctx->ntok && ctx->tok[j].start < end) j++;
    return j;
}

static int json_child(const hm_decode_ctx *ctx, int obj, const char *key, size_t klen) {
    if (obj < 0 || obj >= ctx->ntok || ctx->tok[obj].type != JSMN_OBJECT) return -1;
    int n = ctx->tok[obj].size, k = obj + 1;
    for (int i = 0; i < n && k < ctx->ntok; i++) {
        const jsmntok_t *kt = &ctx->tok[k];
        if ((size_t)(kt->end - kt->start) == klen && !memcmp(ctx->json + kt->start, key, klen))
            return k + 1;
        k = hm_json_skip(ctx, k + 1);
    }
    return -1;
}

int hm_json_path(const hm_decode_ctx *ctx, int obj, const char *path) {
    const char *p = path;
    int cur = obj;
    while (*p && cur >= 0) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        cur = json_child(ctx, cur, p, l);
        p += l;
        if (*p == '.') p++;
    }
    return cur;
}

hm_str hm_json_str(hm_decode_ctx *ctx, int t) {
    if (t < 0 || t >= ctx->ntok) return (hm_str){NULL, 0};
    const jsmntok_t *tk = &ctx->tok[t];
    const char *s = ctx->json + tk->start;
    size_t n = (size_t)(tk->end - tk->start);
    if (tk->type != JSMN_STRING || !memchr(s, '\\', n)) return (hm_str){s, (uint32_t)n};
    char *out = hm_arena_alloc(ctx->arena, n + 1);
    size_t l = hm_json_unescape(s, n, out);
    return (hm_str){out, (uint32_t)l};
}

bool hm_json_set(hm_decode_ctx *ctx, hm_event *ev, int obj, const char *path, hm_field_id id) {
    int t = hm_json_path(ctx, obj, path);
    if (t < 0 || hm_json_is_null(ctx, t)) return false;
    hm_str v = hm_json_str(ctx, t);
    if (!v.len) return false;
    hm_ev_set(ev, id, v);
    return true;
}

static void flatten_rec(hm_decode_ctx *ctx, hm_event *ev, int t, const char *prefix, size_t plen,
                        int depth) {
    const jsmntok_t *tk = &ctx->tok[t];
    if (tk->type == JSMN_OBJECT || tk->type == JSMN_ARRAY) {
        if (depth > 8) return;
        int n = tk->size, k = t + 1;
        for (int i = 0; i < n && k < ctx->ntok; i++) {
            char keybuf[256];
            size_t kl = 0;
            int vt;
            /* prefix "." name, built by hand (no printf on the per-event path) */
            size_t pl = plen < sizeof keybuf - 1 ? plen : sizeof keybuf - 1;
            memcpy(keybuf, prefix, pl);
            kl = pl;
            if (plen && kl < sizeof keybuf - 1) keybuf[kl++] = '.';
            if (tk->type == JSMN_OBJECT) {
                const jsmntok_t *kt = &ctx->tok[k];
                size_t l = (size_t)(kt->end - kt->start);
                if (l > sizeof keybuf - 1 - kl) l = sizeof keybuf - 1 - kl;
                memcpy(keybuf + kl, ctx->json + kt->start, l);
                kl += l;
                vt = k + 1;
            } else {
                char num[12];
                int nl = 0, x = i;
                do {
                    num[nl++] = (char)('0' + x % 10);
                    x /= 10;
                } while (x && nl < 11);
                while (nl && kl < sizeof keybuf - 1) keybuf[kl++] = num[--nl];
                vt = k;
            }
            if (vt >= ctx->ntok) return;
            flatten_rec(ctx, ev, vt, keybuf, kl, depth + 1);
            k = hm_json_skip(ctx, vt);
        }
        return;
    }
    if (hm_json_is_null(ctx, t)) return;
    hm_str val = hm_json_str(ctx, t);
    int id = hm_field_map_get(ctx->map, prefix, plen);
    if (id >= 0) {
        if (val.len && !hm_ev_has(ev, (hm_field_id)id)) hm_ev_set(ev, (hm_field_id)id, val);
        return;
    }
    hm_dec_extra(ctx, ev, hm_dec_dup(ctx, prefix, plen), val);
}

void hm_json_flatten(hm_decode_ctx *ctx, hm_event *ev, int obj, const char *prefix) {
    if (obj < 0 || obj >= ctx->ntok) return;
    flatten_rec(ctx, ev, obj, prefix ? prefix : "", prefix ? strlen(prefix) : 0, 0);
}
