/* dec_cef.c - ArcSight Common Event Format.
 *
 * `CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension`
 * Header fields escape `\|` and `\\`; the extension is `key=value` pairs where values run to
 * the next ` key=` and escape `\=`, `\\`, `\n`, `\r`. Standard keys map through
 * rules/mappings/cef.yml; custom strings cs1..cs6 / cn1..cn3 / flexString1..2 /
 * deviceCustomDate1..2 / c6a1..4 / cfp1..4 are kept under their *Label when one is given.
 * The syslog parser reads "CEF:0|..." as tag `CEF` + body "0|...", so both shapes are
 * accepted. docs/decoders/cef.md */
#include "../decode.h"

#define CEF_MAXKV 128

static bool cef_keych(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-' || c == '[' || c == ']';
}

/* Offset of the version digit (after "CEF:") in the body, or -1. */
static int64_t cef_start(const hm_syslog_hdr *h) {
    hm_str b = h->body;
    if (hm_str_eq_c(h->app, "CEF") && b.len >= 2 && (unsigned)(b.p[0] - '0') <= 9) {
        uint32_t i = 0;
        while (i < b.len && i < 4 && (unsigned)(b.p[i] - '0') <= 9) i++;
        if (i < b.len && (b.p[i] == '|' || b.p[i] == '.')) return 0;
    }
    uint32_t lim = b.len < 256 ? b.len : 256, i = 0;
    while (i + 5 < lim) {
        const char *q = memmem(b.p + i, lim - i, "CEF:", 4);
        if (!q) break;
        i = (uint32_t)(q - b.p);
        if (i + 5 < lim && (unsigned)(b.p[i + 4] - '0') <= 9 &&
            (i == 0 || b.p[i - 1] == ' ' || b.p[i - 1] == ':'))
            return i + 4;
        i++;
    }
    return -1;
}

static int cef_probe(hm_decode_ctx *ctx, const hm_syslog_hdr *h) {
    HM_UNUSED(ctx);
    int64_t s = cef_start(h);
    if (s < 0) return 0;
    return (s == 0 || s == 4) ? 100 : 90;
}

/* copy with backslash escapes resolved (only when the value has one) */
static hm_str cef_unescape(hm_decode_ctx *ctx, hm_str v, bool ext) {
    if (!v.len || !memchr(v.p, '\\', v.len)) return v;
    char *o = hm_arena_alloc(ctx->arena, v.len);
    uint32_t n = 0;
    for (uint32_t i = 0; i < v.len; i++) {
        char c = v.p[i];
        if (c == '\\' && i + 1 < v.len) {
            char d = v.p[++i];
            if (ext && d == 'n')
                c = '\n';
            else if (ext && d == 'r')
                c = '\r';
            else
                c = d;
        }
        o[n++] = c;
    }
    return (hm_str){o, n};
}

/* lowercase, blanks to '_' (Sigma logsource tokens) */
/* rt/start/end: epoch ms (or s), "MMM dd yyyy HH:mm:ss[.SSS][ zone]", "MMM dd HH:mm:ss",
 * or ISO 8601. Zone names other than UTC/GMT/Z are read as the district zone. */

static const char *cef_proto(hm_str v) {
    static const struct {
        const char *n, *name;
    } t[] = {{"1", "icmp"}, {"6", "tcp"},  {"17", "udp"},
             {"47", "gre"}, {"50", "esp"}, {"58", "ipv6-icmp"}};
    for (size_t i = 0; i < HM_ARRAY_LEN(t); i++)
        if (hm_str_eq_c(v, t[i].n)) return t[i].name;
    return NULL;
}

typedef struct cef_kv {
    hm_str k, v;
} cef_kv;

/* Split the extension into pairs. A value ends at the blank before the next unescaped
 * `key=` whose key is made of key characters only. */
static int cef_split_ext(hm_str x, cef_kv *kv, int max) {
    int n = 0;
    uint32_t i = 0;
    while (i < x.len && x.p[i] == ' ') i++;
    while (i < x.len && n < max) {
        uint32_t ks = i;
        while (i < x.len && cef_keych(x.p[i])) i++;
        if (i >= x.len || x.p[i] != '=' || i == ks) {
            /* not a key: skip to the next blank and try again */
            while (i < x.len && x.p[i] != ' ') i++;
            while (i < x.len && x.p[i] == ' ') i++;
            continue;
        }
        hm_str key = {x.p + ks, i - ks};
        uint32_t vs = ++i, ve = x.len, next = x.len;
        for (uint32_t j = vs; j < x.len; j++) {
            if (x.p[j] == '\\') {
                j++;
                continue;
            }
            if (x.p[j] != '=') continue;
            uint32_t b = j;
            while (b > vs && cef_keych(x.p[b - 1])) b--;
            if (b < j && b > vs && x.p[b - 1] == ' ') {
                ve = b - 1;
                next = b;
                break;
            }
        }
        while (ve > vs && x.p[ve - 1] == ' ') ve--;
        kv[n].k = key;
        kv[n].v = (hm_str){x.p + vs, ve - vs};
        n++;
        i = next;
    }
    return n;
}

static bool cef_is_custom(hm_str k) {
    static const char *const pre[] = {
        "cs", "cn", "cfp", "c6a", "flexString", "flexNumber", "deviceCustomDate", "flexDate", NULL};
    for (const char *const *p = pre; *p; p++) {
        size_t l = strlen(*p);
        if (k.len > l && !memcmp(k.p, *p, l) && (unsigned)(k.p[l] - '0') <= 9 &&
            (k.len == l + 1 || (k.len == l + 2 && (unsigned)(k.p[l + 1] - '0') <= 9)))
            return true;
    }
    return false;
}

static int cef_decode(hm_decode_ctx *ctx, hm_event *ev) {
    const hm_syslog_hdr *h = ctx->hdr;
    int64_t st = cef_start(h);
    if (st < 0) {
        ctx->reason = "cef: no CEF:<version>| header";
        return HM_EPARSE;
    }
    hm_str b = {h->body.p + st, h->body.len - (uint32_t)st};
    /* 7 header fields: version vendor product version sigid name severity */
    hm_str hf[7];
    uint32_t i = 0, fs = 0;
    int nf = 0;
    while (i < b.len && nf < 7) {
        if (b.p[i] == '\\' && i + 1 < b.len) {
            i += 2;
            continue;
        }
        if (b.p[i] == '|') {
            hf[nf++] = (hm_str){b.p + fs, i - fs};
            fs = i + 1;
        }
        i++;
    }
    if (nf < 7) {
        ctx->reason = "cef: fewer than 7 header fields";
        return HM_EPARSE;
    }
    for (int k = 1; k < 7; k++) hf[k] = cef_unescape(ctx, hf[k], false);
    hm_str ext = {b.p + fs, b.len - fs};

    hm_str vendor = hm_dec_token(ctx, hf[1]), product = hm_dec_token(ctx, hf[2]);
    hm_dec_origin(ev, HM_SRC_UNKNOWN, NULL, NULL, NULL, NULL);
    if (vendor.len) hm_ev_set(ev, HM_F_VENDOR, vendor);
    if (product.len) hm_ev_set(ev, HM_F_PRODUCT, product);
    if (hf[4].len) hm_ev_set(ev, HM_F_EVENT_ID_VENDOR, hf[4]);
    if (hf[6].len) hm_ev_set(ev, HM_F_SEVERITY_VENDOR, hf[6]);
    hm_dec_extra(ctx, ev, HM_STR_LIT("cef_version"), hf[0]);
    if (hf[3].len) hm_dec_extra(ctx, ev, HM_STR_LIT("device_version"), hf[3]);

    cef_kv kv[CEF_MAXKV];
    int n = cef_split_ext(ext, kv, CEF_MAXKV);
    hm_str act = {0}, outcome = {0}, cat = {0}, msg = {0}, suser = {0}, duser = {0};
    hm_str t_rt = {0}, t_start = {0}, t_end = {0};
    for (int k = 0; k < n; k++) {
        hm_str key = kv[k].k, val = cef_unescape(ctx, kv[k].v, true);
        if (val.len >= 2 && val.p[0] == '"' && val.p[val.len - 1] == '"') {
            val.p++;
            val.len -= 2;
        }
        kv[k].v = val;
        if (hm_str_eq_c(key, "rt") || hm_str_eq_c(key, "deviceReceiptTime")) {
            t_rt = val;
            continue;
        }
        if (hm_str_eq_c(key, "start")) {
            t_start = val;
            continue;
        }
        if (hm_str_eq_c(key, "end")) {
            t_end = val;
            continue;
        }
        if (hm_str_eq_c(key, "act")) {
            act = val;
            continue;
        }
        if (hm_str_eq_c(key, "outcome")) {
            outcome = val;
            continue;
        }
        if (hm_str_eq_c(key, "msg")) {
            msg = val;
            continue;
        }
        if (hm_str_eq_c(key, "suser")) {
            suser = val;
            continue;
        }
        if (hm_str_eq_c(key, "duser")) {
            duser = val;
            continue;
        }
        if (hm_str_eq_c(key, "cat")) cat = val;
        if (hm_str_eq_c(key, "proto")) {
            const char *pn = cef_proto(val);
            if (pn)
                hm_ev_set_c(ev, HM_F_PROTO, pn);
            else if (val.len)
                hm_ev_set(ev, HM_F_PROTO, hm_dec_lower(ctx, val));
            continue;
        }
        /* custom fields: named by their label */
        if (key.len > 5 && !memcmp(key.p + key.len - 5, "Label", 5)) continue;
        if (cef_is_custom(key)) {
            hm_str name = key;
            for (int j = 0; j < n; j++) {
                if (kv[j].k.len == key.len + 5 && !memcmp(kv[j].k.p, key.p, key.len) &&
                    !memcmp(kv[j].k.p + key.len, "Label", 5) && kv[j].v.len) {
                    name = cef_unescape(ctx, kv[j].v, true);
                    break;
                }
            }
            int id = hm_field_map_get(ctx->map, name.p, name.len);
            if (id >= 0 && val.len)
                hm_ev_set_default(ev, (hm_field_id)id, val);
            else
                hm_dec_extra(ctx, ev, name, val);
            continue;
        }
        int id = hm_field_map_get(ctx->map, key.p, key.len);
        if (id >= 0) {
            if (val.len) hm_ev_set_default(ev, (hm_field_id)id, val);
            continue;
        }
        hm_dec_extra(ctx, ev, key, val);
    }
    /* identity: suser acts; duser is the account acted on, or the account logging in */
    if (suser.len) {
        hm_ev_set(ev, HM_F_USER, suser);
        if (duser.len) hm_ev_set(ev, HM_F_TARGET_USER, duser);
    } else if (duser.len) {
        hm_ev_set(ev, HM_F_USER, duser);
    }
    hm_str name = hf[5];
    if (msg.len) {
        hm_ev_set(ev, HM_F_MESSAGE, msg);
        if (name.len) hm_dec_extra(ctx, ev, HM_STR_LIT("name"), name);
    } else if (name.len) {
        hm_ev_set(ev, HM_F_MESSAGE, name);
    }
    if (act.len) hm_ev_set(ev, HM_F_ACTION, hm_dec_lower(ctx, act));
    const char *oc = NULL;
    if (outcome.len) {
        oc = hm_outcome_from_word(outcome);
        if (!strcmp(oc, "unknown") && hm_str_starts(outcome, "/")) {
            hm_str o2 = {outcome.p + 1, outcome.len - 1}; /* ArcSight "/Success", "/Failure" */
            oc = hm_outcome_from_word(o2);
        }
    }

    /* event verb */
    static const char *const deny[] = {
        "block",        "blocked",      "deny",       "denied",      "drop",       "dropped",
        "reject",       "rejected",     "quarantine", "quarantined", "reset",      "reset-both",
        "reset-client", "reset-server", "prevented",  "terminate",   "terminated", NULL};
    static const char *const allow[] = {"allow",     "allowed", "accept", "accepted", "permit",
                                        "permitted", "pass",    "passed", NULL};
    bool is_deny = false, is_allow = false;
    for (const char *const *w = deny; *w && act.len; w++) is_deny |= hm_str_ieq_c(act, *w);
    for (const char *const *w = allow; *w && act.len; w++) is_allow |= hm_str_ieq_c(act, *w);
    bool web = hm_ev_has(ev, HM_F_URL);
    if (web && cat.len)
        hm_ev_set_default(ev, HM_F_WEB_CATEGORY,
                          cat); /* web gateways put the URL category in cat */
    hm_str sig = hf[4];
    bool malware = hm_str_icontains(name, "malware") || hm_str_icontains(name, "virus") ||
                   hm_str_icontains(name, "trojan") || hm_str_icontains(sig, "virus") ||
                   hm_str_icontains(cat, "virus") || hm_str_icontains(cat, "malware");
    bool threat = hm_str_icontains(name, "attack") || hm_str_icontains(name, "exploit") ||
                  hm_str_icontains(name, "intrusion") || hm_str_icontains(name, "threat") ||
                  hm_str_icontains(sig, "spyware") || hm_str_icontains(sig, "vulnerability") ||
                  hm_str_icontains(cat, "ids") || hm_str_icontains(cat, "intrusion") ||
                  hm_str_icontains(cat, "anomaly");
    bool login = hm_str_icontains(name, "login") || hm_str_icontains(name, "logon") ||
                 hm_str_icontains(name, "log on") || hm_str_icontains(name, "authenticat") ||
                 hm_str_icontains(cat, "authentication");
    bool fail_word = hm_str_icontains(name, "fail") || hm_str_icontains(name, "denied") ||
                     hm_str_icontains(name, "invalid") || hm_str_icontains(name, "bad password");
    const char *blocked_oc = oc ? oc : (is_deny ? "failure" : NULL);
    if (malware) {
        hm_ev_set_c(ev, HM_F_CATEGORY, "antivirus");
        hm_ev_set_c(ev, HM_F_EVENT, "malware_detected");
        if (blocked_oc) hm_ev_set_c(ev, HM_F_OUTCOME, blocked_oc);
    } else if (threat) {
        hm_ev_set_c(ev, HM_F_CATEGORY, "ids");
        hm_ev_set_c(ev, HM_F_EVENT, "ips_alert");
        if (blocked_oc) hm_ev_set_c(ev, HM_F_OUTCOME, blocked_oc);
    } else if (login) {
        bool failed = (oc && !strcmp(oc, "failure")) || (!oc && (fail_word || is_deny));
        hm_ev_set_c(ev, HM_F_CATEGORY, "authentication");
        hm_ev_set_c(ev, HM_F_EVENT, failed ? "login_failure" : "login_success");
        hm_ev_set_c(ev, HM_F_OUTCOME, failed ? "failure" : (oc ? oc : "success"));
    } else if (is_deny || is_allow) {
        if (web) {
            ev->src_type = HM_SRC_WEB;
            hm_ev_set_c(ev, HM_F_SRC_TYPE, "web");
            hm_ev_set_c(ev, HM_F_CATEGORY, "webproxy");
            hm_ev_set_c(ev, HM_F_EVENT, is_deny ? "web_block" : "web_allow");
        } else {
            ev->src_type = HM_SRC_FIREWALL;
            hm_ev_set_c(ev, HM_F_SRC_TYPE, "firewall");
            hm_ev_set_c(ev, HM_F_CATEGORY, "firewall");
            hm_ev_set_c(ev, HM_F_EVENT, is_deny ? "traffic_deny" : "traffic_allow");
        }
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

    if (!hm_dec_time_vendor(ctx, ev, t_rt) && !hm_dec_time_vendor(ctx, ev, t_end))
        hm_dec_time_vendor(ctx, ev, t_start);
    return HM_OK;
}

const hm_decoder_ops hm_dec_cef = {
    .abi = HM_DECODER_ABI,
    .name = "cef",
    .description = "ArcSight Common Event Format (CEF:0/1) from any vendor",
    .probe = cef_probe,
    .decode = cef_decode,
};
