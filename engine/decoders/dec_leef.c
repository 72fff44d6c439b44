/* dec_leef.c - IBM QRadar Log Event Extended Format, LEEF 1.0 and 2.0.
 *
 *   LEEF:1.0|Vendor|Product|Version|EventID|k=v<TAB>k=v...
 *   LEEF:2.0|Vendor|Product|Version|EventID|<delim>|k=v<delim>k=v...
 * The 2.0 delimiter is one character or a hex code (x5E, 0x5E); tab by default. A token
 * without '=' continues the previous value (producers that use a blank delimiter do not
 * escape blanks in values). devTime is parsed from epoch ms/s, "MMM dd yyyy HH:mm:ss[.SSS]
 * [zone]" or ISO 8601, whatever devTimeFormat says. Keys map through rules/mappings/leef.yml.
 * The syslog parser reads "LEEF:1.0|..." as tag `LEEF` + body "1.0|...": both are accepted.
 * docs/decoders/leef.md */
#include "../decode.h"

#define LEEF_MAXKV 160

static int64_t leef_start(const hm_syslog_hdr *h) {
    hm_str b = h->body;
    if (hm_str_eq_c(h->app, "LEEF") && b.len >= 4 && (unsigned)(b.p[0] - '0') <= 9 &&
        b.p[1] == '.' && (unsigned)(b.p[2] - '0') <= 9 && b.p[3] == '|')
        return 0;
    uint32_t lim = b.len < 256 ? b.len : 256, i = 0;
    while (i + 9 < lim) {
        const char *q = memmem(b.p + i, lim - i, "LEEF:", 5);
        if (!q) break;
        i = (uint32_t)(q - b.p);
        if (i + 9 < lim && (unsigned)(b.p[i + 5] - '0') <= 9 &&
            (i == 0 || b.p[i - 1] == ' ' || b.p[i - 1] == ':'))
            return i + 5;
        i++;
    }
    return -1;
}

static int leef_probe(hm_decode_ctx *ctx, const hm_syslog_hdr *h) {
    HM_UNUSED(ctx);
    int64_t s = leef_start(h);
    if (s < 0) return 0;
    return (s == 0 || s == 5) ? 100 : 90;
}

static int leef_hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* 2.0 delimiter field: "^", " ", "x5E", "0x5E", "\t" */
static bool leef_delim(hm_str f, char *d) {
    if (f.len == 1) {
        *d = f.p[0];
        return true;
    }
    if (f.len == 2 && f.p[0] == '\\' && f.p[1] == 't') {
        *d = '\t';
        return true;
    }
    hm_str h = f;
    if (h.len >= 2 && h.p[0] == '0' && (h.p[1] == 'x' || h.p[1] == 'X'))
        h = (hm_str){h.p + 2, h.len - 2};
    else if (h.len >= 1 && (h.p[0] == 'x' || h.p[0] == 'X'))
        h = (hm_str){h.p + 1, h.len - 1};
    else
        return false;
    if (h.len < 1 || h.len > 2) return false;
    int v = 0;
    for (uint32_t i = 0; i < h.len; i++) {
        int x = leef_hex(h.p[i]);
        if (x < 0) return false;
        v = v * 16 + x;
    }
    if (v <= 0 || v > 127) return false;
    *d = (char)v;
    return true;
}

static bool leef_keych(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

typedef struct leef_kv {
    hm_str k, v;
} leef_kv;

static int leef_split(hm_str x, char delim, leef_kv *kv, int max) {
    int n = 0;
    uint32_t i = 0;
    while (i <= x.len) {
        uint32_t s = i;
        while (i < x.len && x.p[i] != delim) i++;
        hm_str tok = {x.p + s, i - s};
        i++; /* past the delimiter (or the end) */
        if (!tok.len) continue;
        uint32_t e = 0;
        while (e < tok.len && leef_keych(tok.p[e])) e++;
        if (e > 0 && e < tok.len && tok.p[e] == '=') {
            if (n >= max) break;
            kv[n].k = (hm_str){tok.p, e};
            kv[n].v = (hm_str){tok.p + e + 1, tok.len - e - 1};
            n++;
        } else if (n > 0) {
            /* continuation of the previous value (blank-delimited producers) */
            kv[n - 1].v.len = (uint32_t)(tok.p + tok.len - kv[n - 1].v.p);
        }
    }
    return n;
}

static int leef_decode(hm_decode_ctx *ctx, hm_event *ev) {
    int64_t st = leef_start(ctx->hdr);
    if (st < 0) {
        ctx->reason = "leef: no LEEF:<version>| header";
        return HM_EPARSE;
    }
    hm_str b = {ctx->hdr->body.p + st, ctx->hdr->body.len - (uint32_t)st};
    hm_str hf[6];
    int nf = 0;
    uint32_t i = 0, fs = 0;
    int want = (b.len >= 2 && b.p[0] == '2') ? 6 : 5;
    while (i < b.len && nf < want) {
        if (b.p[i] == '|') {
            hf[nf++] = (hm_str){b.p + fs, i - fs};
            fs = i + 1;
        }
        i++;
    }
    if (nf < 5) {
        ctx->reason = "leef: fewer than 5 header fields";
        return HM_EPARSE;
    }
    char delim = '\t';
    hm_str ext = {b.p + fs, b.len - fs};
    if (want == 6 && nf == 6 && !leef_delim(hf[5], &delim)) {
        /* no delimiter field: what we took for it is the first attribute */
        ext = (hm_str){hf[5].p, b.len - (uint32_t)(hf[5].p - b.p)};
    }
    /* LEEF 1.0 producers that do not use tabs */
    if (delim == '\t' && ext.len && !memchr(ext.p, '\t', ext.len)) {
        if (memchr(ext.p, '^', ext.len))
            delim = '^';
        else if (memchr(ext.p, '|', ext.len))
            delim = '|';
        else
            delim = ' ';
    }

    hm_dec_origin(ev, HM_SRC_UNKNOWN, NULL, NULL, NULL, NULL);
    hm_str vendor = hm_dec_token(ctx, hf[1]), product = hm_dec_token(ctx, hf[2]);
    if (vendor.len) hm_ev_set(ev, HM_F_VENDOR, vendor);
    if (product.len) hm_ev_set(ev, HM_F_PRODUCT, product);
    hm_str eid = hf[4];
    if (eid.len) hm_ev_set(ev, HM_F_EVENT_ID_VENDOR, eid);
    hm_dec_extra(ctx, ev, HM_STR_LIT("leef_version"), hf[0]);
    if (hf[3].len) hm_dec_extra(ctx, ev, HM_STR_LIT("device_version"), hf[3]);

    leef_kv kv[LEEF_MAXKV];
    int n = leef_split(ext, delim, kv, LEEF_MAXKV);
    hm_str action = {0}, cat = {0}, outcome = {0}, devtime = {0};
    for (int k = 0; k < n; k++) {
        hm_str key = kv[k].k, val = kv[k].v;
        if (hm_str_eq_c(key, "devTime")) {
            devtime = val;
            continue;
        }
        if (hm_str_eq_c(key, "devTimeFormat")) continue;
        if (hm_str_eq_c(key, "cat")) cat = val;
        if (hm_str_eq_c(key, "action") || hm_str_eq_c(key, "act")) {
            if (!action.len) action = val;
            continue;
        }
        if (hm_str_eq_c(key, "outcome") || hm_str_eq_c(key, "result") ||
            hm_str_eq_c(key, "EventStatus") || hm_str_eq_c(key, "eventStatus"))
            outcome = val;
        if (hm_str_eq_c(key, "proto")) {
            if (hm_str_eq_c(val, "6"))
                hm_ev_set_c(ev, HM_F_PROTO, "tcp");
            else if (hm_str_eq_c(val, "17"))
                hm_ev_set_c(ev, HM_F_PROTO, "udp");
            else if (hm_str_eq_c(val, "1"))
                hm_ev_set_c(ev, HM_F_PROTO, "icmp");
            else if (val.len)
                hm_ev_set(ev, HM_F_PROTO, hm_dec_lower(ctx, val));
            continue;
        }
        int id = hm_field_map_get(ctx->map, key.p, key.len);
        if (id >= 0) {
            if (val.len) hm_ev_set_default(ev, (hm_field_id)id, val);
            continue;
        }
        hm_dec_extra(ctx, ev, key, val);
    }
    if (action.len) hm_ev_set(ev, HM_F_ACTION, hm_dec_lower(ctx, action));
    bool web = hm_ev_has(ev, HM_F_URL);
    if (web && cat.len) hm_ev_set_default(ev, HM_F_WEB_CATEGORY, cat);
    const char *oc = outcome.len ? hm_outcome_from_word(outcome) : NULL;
    if (oc && !strcmp(oc, "unknown")) oc = NULL;

    static const char *const deny[] = {
        "block",    "blocked", "deny",       "denied",     "drop",        "dropped",   "reject",
        "rejected", "reset",   "reset-both", "quarantine", "quarantined", "prevented", NULL};
    static const char *const allow[] = {"allow",     "allowed", "accept", "accepted", "permit",
                                        "permitted", "pass",    "passed", NULL};
    bool is_deny = false, is_allow = false;
    for (const char *const *w = deny; *w && action.len; w++) is_deny |= hm_str_ieq_c(action, *w);
    for (const char *const *w = allow; *w && action.len; w++) is_allow |= hm_str_ieq_c(action, *w);
    bool malware = hm_str_icontains(eid, "virus") || hm_str_icontains(eid, "malware") ||
                   hm_str_icontains(cat, "virus") || hm_str_icontains(cat, "malware");
    bool threat = hm_str_icontains(eid, "attack") || hm_str_icontains(eid, "intrusion") ||
                  hm_str_icontains(eid, "exploit") || hm_str_icontains(cat, "anomaly") ||
                  hm_str_icontains(cat, "intrusion") || hm_str_icontains(cat, "ids") ||
                  hm_str_icontains(cat, "threat");
    bool login = hm_str_icontains(eid, "login") || hm_str_icontains(eid, "logon") ||
                 hm_str_icontains(eid, "auth") || hm_str_icontains(cat, "auth");
    const char *bo = oc ? oc : (is_deny ? "failure" : NULL);
    if (malware) {
        hm_ev_set_c(ev, HM_F_CATEGORY, "antivirus");
        hm_ev_set_c(ev, HM_F_EVENT, "malware_detected");
        if (bo) hm_ev_set_c(ev, HM_F_OUTCOME, bo);
    } else if (threat) {
        hm_ev_set_c(ev, HM_F_CATEGORY, "ids");
        hm_ev_set_c(ev, HM_F_EVENT, "ips_alert");
        if (bo) hm_ev_set_c(ev, HM_F_OUTCOME, bo);
    } else if (login) {
        bool failed =
            (oc && !strcmp(oc, "failure")) || (!oc && (hm_str_icontains(eid, "fail") || is_deny));
        hm_ev_set_c(ev, HM_F_CATEGORY, "authentication");
        hm_ev_set_c(ev, HM_F_EVENT, failed ? "login_failure" : "login_success");
        hm_ev_set_c(ev, HM_F_OUTCOME, failed ? "failure" : "success");
    } else if (is_deny || is_allow) {
        hm_src_type t = web ? HM_SRC_WEB : HM_SRC_FIREWALL;
        ev->src_type = (uint8_t)t;
        hm_ev_set_c(ev, HM_F_SRC_TYPE, hm_src_type_names[t]);
        hm_ev_set_c(ev, HM_F_CATEGORY, web ? "webproxy" : "firewall");
        hm_ev_set_c(ev, HM_F_EVENT,
                    web ? (is_deny ? "web_block" : "web_allow")
                        : (is_deny ? "traffic_deny" : "traffic_allow"));
        hm_ev_set_c(ev, HM_F_OUTCOME, oc ? oc : (is_deny ? "failure" : "success"));
    } else if (web) {
        ev->src_type = HM_SRC_WEB;
        hm_ev_set_c(ev, HM_F_SRC_TYPE, "web");
        hm_ev_set_c(ev, HM_F_CATEGORY, "webproxy");
        hm_ev_set_c(ev, HM_F_EVENT, "web_request");
        if (oc) hm_ev_set_c(ev, HM_F_OUTCOME, oc);
    } else {
        hm_ev_set_c(ev, HM_F_EVENT, "security_event");
        if (oc) hm_ev_set_c(ev, HM_F_OUTCOME, oc);
    }
    if (devtime.len) hm_dec_time_vendor(ctx, ev, devtime);
    return HM_OK;
}

const hm_decoder_ops hm_dec_leef = {
    .abi = HM_DECODER_ABI,
    .name = "leef",
    .description = "IBM QRadar LEEF 1.0/2.0 from any vendor",
    .probe = leef_probe,
    .decode = leef_decode,
};
