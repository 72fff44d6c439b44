/* dec_panos.c - Palo Alto Networks PAN-OS CSV syslog (TRAFFIC, THREAT, SYSTEM, CONFIG,
 * AUTHENTICATION, GLOBALPROTECT, USERID; other types decode their common header).
 *
 * Positional CSV after an optional syslog header: `FUTURE_USE,receive_time,serial,type,
 * subtype,FUTURE_USE,generated_time,...`; field positions follow the PAN-OS 8.1-11.x
 * "Syslog Field Descriptions" (0-based indexes below). Fields may be "double quoted".
 * Time: the zoned high-resolution timestamp when the line carries one (PAN-OS 9.1+),
 * else generated_time, else receive_time (both device-local: read in the district zone).
 * Redacted or truncated lines (`1,2020/02/09 00:00:00,00000000,SYSTEM,`) still decode.
 * No mapping file: the format is positional. docs/decoders/panos.md */
#include "../decode.h"

#define PAN_MAXF 160

/* ---- CSV ---- */

static int pan_split(hm_decode_ctx *ctx, hm_str b, hm_str *f, int max) {
    int n = 0;
    uint32_t i = 0;
    while (n < max) {
        if (i < b.len && b.p[i] == '"') {
            uint32_t st = ++i;
            bool dq = false;
            while (i < b.len) {
                if (b.p[i] == '"') {
                    if (i + 1 < b.len && b.p[i + 1] == '"') {
                        dq = true;
                        i += 2;
                        continue;
                    }
                    break;
                }
                i++;
            }
            hm_str v = {b.p + st, i - st};
            if (dq) {
                char *o = hm_arena_alloc(ctx->arena, v.len);
                uint32_t m = 0;
                for (uint32_t j = 0; j < v.len; j++) {
                    o[m++] = v.p[j];
                    if (v.p[j] == '"' && j + 1 < v.len && v.p[j + 1] == '"') j++;
                }
                v = (hm_str){o, m};
            }
            f[n++] = v;
            if (i < b.len) i++; /* closing quote */
            while (i < b.len && b.p[i] != ',') i++;
        } else {
            uint32_t st = i;
            while (i < b.len && b.p[i] != ',') i++;
            f[n++] = (hm_str){b.p + st, i - st};
        }
        if (i >= b.len) break;
        i++; /* comma */
    }
    return n;
}

static bool pan_is_digit(char c) {
    return (unsigned)(c - '0') <= 9;
}

/* Offset of the CSV record (field 0) in the body, or -1. Field 0 is a number right
 * after the start or a blank; field 1 is a date; field 3 an upper-case log type. */
static int64_t pan_start(hm_str b, hm_str *type) {
    uint32_t lim = b.len < 128 ? b.len : 128;
    for (uint32_t c = 0; c < lim; c++) {
        if (b.p[c] != ',') continue;
        uint32_t s = c;
        while (s > 0 && b.p[s - 1] != ' ') s--;
        if (c - s < 1 || c - s > 2) return -1;
        for (uint32_t k = s; k < c; k++)
            if (!pan_is_digit(b.p[k])) return -1;
        /* field 1: YYYY/ or YYYY- */
        const char *p = b.p + c + 1, *e = b.p + b.len;
        if (e - p < 6 || !pan_is_digit(p[0]) || !pan_is_digit(p[3]) || (p[4] != '/' && p[4] != '-'))
            return -1;
        /* skip fields 1 and 2 */
        for (int k = 0; k < 2; k++) {
            while (p < e && *p != ',') p++;
            if (p >= e) return -1;
            p++;
        }
        const char *t = p;
        while (p < e && ((*p >= 'A' && *p <= 'Z') || *p == '_')) p++;
        if (p - t < 3 || p - t > 20 || (p < e && *p != ',')) return -1;
        if (type) *type = (hm_str){t, (uint32_t)(p - t)};
        return s;
    }
    return -1;
}

static const char *const pan_types[] = {"TRAFFIC",        "THREAT",        "SYSTEM", "CONFIG",
                                        "AUTHENTICATION", "GLOBALPROTECT", "USERID", "HIPMATCH",
                                        "DECRYPTION",     "CORRELATION",   "TUNNEL", "GTP",
                                        "SCTP",           "IPTAG",         "AUTH",   NULL};

static int pan_probe(hm_decode_ctx *ctx, const hm_syslog_hdr *h) {
    HM_UNUSED(ctx);
    hm_str type;
    if (pan_start(h->body, &type) < 0) return 0;
    for (const char *const *t = pan_types; *t; t++)
        if (hm_str_eq_c(type, *t)) return 95;
    return 75;
}

/* ---- helpers ---- */

static hm_str pan_f(const hm_str *f, int n, int i) {
    return i < n ? f[i] : (hm_str){NULL, 0};
}

static void pan_set(hm_event *ev, hm_field_id id, hm_str v) {
    if (v.len && !hm_str_eq_c(v, "N/A")) hm_ev_set(ev, id, v);
}

static void pan_extra(hm_decode_ctx *ctx, hm_event *ev, const char *k, hm_str v) {
    if (v.len) hm_dec_extra(ctx, ev, hm_str_c(k), v);
}

/* srcloc/dstloc: a country, or an address range for private space (kept as a vendor field) */
static void pan_geo(hm_decode_ctx *ctx, hm_event *ev, hm_field_id id, const char *k, hm_str v) {
    if (!v.len) return;
    if (pan_is_digit(v.p[0]) || hm_str_find(v, ':') >= 0)
        pan_extra(ctx, ev, k, v);
    else
        pan_set(ev, id, v);
}

/* "domain\user" -> user, user_domain */
static void pan_user(hm_event *ev, hm_field_id uid, hm_str v) {
    if (!v.len) return;
    int64_t bs = hm_str_find(v, '\\');
    if (bs > 0 && (uint32_t)bs + 1 < v.len) {
        if (uid == HM_F_USER) hm_ev_set(ev, HM_F_USER_DOMAIN, (hm_str){v.p, (uint32_t)bs});
        hm_ev_set(ev, uid, (hm_str){v.p + bs + 1, v.len - (uint32_t)bs - 1});
    } else {
        hm_ev_set(ev, uid, v);
    }
}

static bool pan_blocked(hm_str a) {
    return hm_str_starts(a, "block") || hm_str_starts(a, "drop") || hm_str_starts(a, "reset") ||
           hm_str_starts(a, "deny") || hm_str_eq_c(a, "override-lockout") ||
           hm_str_eq_c(a, "sinkhole");
}

static void pan_time(hm_decode_ctx *ctx, hm_event *ev, const hm_str *f, int n) {
    /* zoned high-resolution timestamp (PAN-OS 9.1+), anywhere after the fixed columns */
    for (int i = 7; i < n; i++) {
        hm_str v = f[i];
        if (v.len < 20 || v.len > 40 || v.p[4] != '-' || v.p[10] != 'T' || !pan_is_digit(v.p[0]))
            continue;
        int64_t ns;
        bool zone;
        if (hm_parse_iso8601(v.p, v.len, &ns, &zone) == v.len && zone) {
            hm_dec_time_utc(ev, ns);
            return;
        }
    }
    if (n > 6 && hm_dec_time_iso(ctx, ev, f[6])) return;
    if (n > 1) hm_dec_time_iso(ctx, ev, f[1]);
}

/* common network columns of TRAFFIC and THREAT */
static void pan_net(hm_event *ev, const hm_str *f, int n) {
    pan_set(ev, HM_F_SRC_IP, pan_f(f, n, 7));
    pan_set(ev, HM_F_DST_IP, pan_f(f, n, 8));
    hm_str nat = pan_f(f, n, 9);
    if (!hm_str_eq_c(nat, "0.0.0.0")) pan_set(ev, HM_F_NAT_IP, nat);
    pan_set(ev, HM_F_RULE_VENDOR, pan_f(f, n, 11));
    pan_user(ev, HM_F_USER, pan_f(f, n, 12));
    pan_user(ev, HM_F_TARGET_USER, pan_f(f, n, 13));
    pan_set(ev, HM_F_APP, pan_f(f, n, 14));
    pan_set(ev, HM_F_SRC_ZONE, pan_f(f, n, 16));
    pan_set(ev, HM_F_DST_ZONE, pan_f(f, n, 17));
    pan_set(ev, HM_F_SESSION_ID, pan_f(f, n, 22));
    pan_set(ev, HM_F_SRC_PORT, pan_f(f, n, 24));
    pan_set(ev, HM_F_DST_PORT, pan_f(f, n, 25));
    pan_set(ev, HM_F_PROTO, pan_f(f, n, 29));
    pan_set(ev, HM_F_ACTION, pan_f(f, n, 30));
}

static void pan_ev(hm_event *ev, const char *verb, const char *outcome) {
    hm_ev_set_c(ev, HM_F_EVENT, verb);
    if (outcome) hm_ev_set_c(ev, HM_F_OUTCOME, outcome);
}

/* ---- per type ---- */

static void pan_traffic(hm_decode_ctx *ctx, hm_event *ev, const hm_str *f, int n) {
    hm_dec_origin(ev, HM_SRC_FIREWALL, "paloaltonetworks", "paloalto", "firewall", "traffic");
    pan_net(ev, f, n);
    hm_str sub = pan_f(f, n, 4), act = pan_f(f, n, 30);
    pan_set(ev, HM_F_BYTES_OUT, pan_f(f, n, 32));
    pan_set(ev, HM_F_BYTES_IN, pan_f(f, n, 33));
    pan_set(ev, HM_F_DURATION, pan_f(f, n, 36));
    hm_str cat = pan_f(f, n, 37);
    if (!hm_str_eq_c(cat, "any")) pan_set(ev, HM_F_WEB_CATEGORY, cat);
    pan_geo(ctx, ev, HM_F_GEO_COUNTRY, "srcloc", pan_f(f, n, 41));
    pan_geo(ctx, ev, HM_F_DST_COUNTRY, "dstloc", pan_f(f, n, 42));
    pan_set(ev, HM_F_REASON, pan_f(f, n, 46));
    pan_set(ev, HM_F_HOST, pan_f(f, n, 52));
    pan_extra(ctx, ev, "inbound_if", pan_f(f, n, 18));
    pan_extra(ctx, ev, "outbound_if", pan_f(f, n, 19));
    pan_extra(ctx, ev, "packets", pan_f(f, n, 34));
    /* subtype deny/drop names a refused session whatever the action column says */
    bool deny = hm_str_eq_c(sub, "deny") || hm_str_eq_c(sub, "drop") || pan_blocked(act);
    if (!act.len && !sub.len)
        pan_ev(ev, "firewall_event", NULL);
    else
        pan_ev(ev, deny ? "traffic_deny" : "traffic_allow", deny ? "failure" : "success");
}

static void pan_threat(hm_decode_ctx *ctx, hm_event *ev, const hm_str *f, int n) {
    hm_str sub = pan_f(f, n, 4), act = pan_f(f, n, 30), misc = pan_f(f, n, 31);
    bool blocked = pan_blocked(act);
    pan_net(ev, f, n);
    pan_set(ev, HM_F_MESSAGE, pan_f(f, n, 32));
    pan_set(ev, HM_F_SEVERITY_VENDOR, pan_f(f, n, 34));
    pan_geo(ctx, ev, HM_F_GEO_COUNTRY, "srcloc", pan_f(f, n, 38));
    pan_geo(ctx, ev, HM_F_DST_COUNTRY, "dstloc", pan_f(f, n, 39));
    pan_set(ev, HM_F_USER_AGENT, pan_f(f, n, 46));
    pan_set(ev, HM_F_HOST, pan_f(f, n, 59));
    pan_set(ev, HM_F_HTTP_METHOD, pan_f(f, n, 63));
    pan_extra(ctx, ev, "threat_id", pan_f(f, n, 32));
    pan_extra(ctx, ev, "direction", pan_f(f, n, 35));
    pan_extra(ctx, ev, "threat_category", pan_f(f, n, 69));
    if (hm_str_eq_c(sub, "url")) {
        hm_dec_origin(ev, HM_SRC_WEB, "paloaltonetworks", "paloalto", "webproxy", "threat");
        if (misc.len) {
            hm_ev_set(ev, HM_F_URL, misc);
            hm_str d = misc;
            int64_t sch = hm_str_find_s(d, "://");
            if (sch >= 0) d = (hm_str){d.p + sch + 3, d.len - (uint32_t)sch - 3};
            int64_t sl = hm_str_find(d, '/');
            if (sl >= 0) d.len = (uint32_t)sl;
            if (d.len) hm_ev_set(ev, HM_F_DOMAIN, d);
        }
        hm_str cat = pan_f(f, n, 33);
        pan_set(ev, HM_F_WEB_CATEGORY, cat);
        pan_ev(ev, blocked ? "web_block" : "web_allow", blocked ? "failure" : "success");
        return;
    }
    pan_extra(ctx, ev, "file_or_url", misc);
    hm_dec_origin(ev, HM_SRC_FIREWALL, "paloaltonetworks", "paloalto", "ids", "threat");
    const char *oc = blocked ? "failure" : "unknown";
    if (hm_str_eq_c(sub, "virus") || hm_str_eq_c(sub, "wildfire-virus") ||
        hm_str_eq_c(sub, "ml-virus"))
        pan_ev(ev, "malware_detected", oc);
    else if (hm_str_eq_c(sub, "spyware") || hm_str_eq_c(sub, "vulnerability") ||
             hm_str_eq_c(sub, "flood") || hm_str_eq_c(sub, "scan") || hm_str_eq_c(sub, "packet"))
        pan_ev(ev, "ips_alert", oc);
    else if (hm_str_eq_c(sub, "file"))
        pan_ev(ev, blocked ? "file_block" : "file_transfer", oc);
    else if (hm_str_eq_c(sub, "data"))
        pan_ev(ev, blocked ? "dlp_block" : "dlp_alert", oc);
    else if (hm_str_eq_c(sub, "wildfire"))
        pan_ev(ev, "sandbox_verdict", NULL);
    else
        pan_ev(ev, "threat_alert", n > 30 ? oc : NULL);
}

/* "User admin logged in via Web from 1.2.3.4 using https" and friends */
static void pan_system_desc(hm_event *ev, hm_str d) {
    int64_t a = hm_str_find_s(d, "User ");
    if (a >= 0) {
        hm_str r = {d.p + a + 5, d.len - (uint32_t)a - 5};
        int64_t sp = hm_str_find(r, ' ');
        if (sp > 0) hm_ev_set_default(ev, HM_F_USER, (hm_str){r.p, (uint32_t)sp});
    }
    int64_t q = hm_str_find_s(d, "for user '");
    if (q >= 0) {
        hm_str r = {d.p + q + 10, d.len - (uint32_t)q - 10};
        int64_t e = hm_str_find(r, '\'');
        if (e > 0) hm_ev_set_default(ev, HM_F_USER, (hm_str){r.p, (uint32_t)e});
    }
    const char *froms[] = {" from ", "From: "};
    for (int i = 0; i < 2; i++) {
        int64_t fr = hm_str_find_s(d, froms[i]);
        if (fr < 0) continue;
        hm_str r = {d.p + fr + 6, d.len - (uint32_t)fr - 6};
        uint32_t k = 0;
        while (k < r.len && (pan_is_digit(r.p[k]) || r.p[k] == '.' || r.p[k] == ':' ||
                             (r.p[k] >= 'a' && r.p[k] <= 'f')))
            k++;
        while (k > 0 && (r.p[k - 1] == '.' || r.p[k - 1] == ':')) k--;
        if (k >= 3) {
            hm_ev_set_default(ev, HM_F_SRC_IP, (hm_str){r.p, k});
            break;
        }
    }
}

static void pan_system(hm_decode_ctx *ctx, hm_event *ev, const hm_str *f, int n) {
    hm_str sub = pan_f(f, n, 4), eid = pan_f(f, n, 8), desc = pan_f(f, n, 14);
    pan_set(ev, HM_F_EVENT_ID_VENDOR, eid);
    pan_extra(ctx, ev, "object", pan_f(f, n, 9));
    pan_extra(ctx, ev, "module", pan_f(f, n, 12));
    pan_set(ev, HM_F_SEVERITY_VENDOR, pan_f(f, n, 13));
    pan_set(ev, HM_F_MESSAGE, desc);
    pan_set(ev, HM_F_HOST, pan_f(f, n, 22));
    if (desc.len) pan_system_desc(ev, desc);
    bool gp = hm_str_starts(eid, "globalprotect") || hm_str_eq_c(sub, "globalprotect");
    if (gp)
        hm_dec_origin(ev, HM_SRC_VPN, "paloaltonetworks", "paloalto", "vpn", "system");
    else if (hm_str_icontains(eid, "auth") || hm_str_icontains(desc, "logged in") ||
             hm_str_icontains(desc, "logged out"))
        hm_dec_origin(ev, HM_SRC_FIREWALL, "paloaltonetworks", "paloalto", "authentication",
                      "system");
    else
        hm_dec_origin(ev, HM_SRC_FIREWALL, "paloaltonetworks", "paloalto", "firewall", "system");

    if (hm_str_icontains(desc, " logged in via ")) {
        pan_ev(ev, "admin_login_success", "success");
        hm_ev_set_c(ev, HM_F_USER_ROLE, "admin");
    } else if (hm_str_icontains(desc, " logged out via ")) {
        pan_ev(ev, "admin_logout", "success");
        hm_ev_set_c(ev, HM_F_USER_ROLE, "admin");
    } else if (hm_str_icontains(eid, "auth-fail") || hm_str_icontains(eid, "login-fail")) {
        pan_ev(ev, "login_failure", "failure");
    } else if (hm_str_icontains(eid, "auth-success") || hm_str_icontains(eid, "login-success")) {
        pan_ev(ev, "login_success", "success");
    } else if (hm_str_eq_c(eid, "globalprotectgateway-regist-succ") ||
               hm_str_eq_c(eid, "globalprotectgateway-connected")) {
        pan_ev(ev, "vpn_connect", "success");
    } else if (hm_str_icontains(eid, "logout") || hm_str_icontains(eid, "disconnect")) {
        pan_ev(ev, gp ? "vpn_disconnect" : "logout", "success");
    } else if (hm_str_icontains(eid, "config") && hm_str_icontains(desc, "commit")) {
        pan_ev(ev, "config_change", NULL);
    } else {
        pan_ev(ev, "system_event", NULL);
    }
}

static void pan_config(hm_decode_ctx *ctx, hm_event *ev, const hm_str *f, int n) {
    hm_dec_origin(ev, HM_SRC_FIREWALL, "paloaltonetworks", "paloalto", "configuration", "config");
    pan_set(ev, HM_F_SRC_IP, pan_f(f, n, 7));
    pan_set(ev, HM_F_COMMAND, pan_f(f, n, 9));
    pan_user(ev, HM_F_USER, pan_f(f, n, 10));
    pan_extra(ctx, ev, "client", pan_f(f, n, 11));
    hm_str res = pan_f(f, n, 12);
    pan_set(ev, HM_F_OBJECT, hm_str_trim(pan_f(f, n, 13)));
    /* default format: ...,path,seqno,0xflags,DG1..4,vsys_name,device_name
     * custom format with change details: ...,path,before,after,seqno,0xflags,... */
    hm_str s14 = pan_f(f, n, 14), s15 = pan_f(f, n, 15);
    bool plain = hm_str_starts(s15, "0x") && s14.len && pan_is_digit(s14.p[0]);
    if (!plain && n > 16) {
        pan_set(ev, HM_F_OLD_VALUE, s14);
        pan_set(ev, HM_F_NEW_VALUE, s15);
        pan_set(ev, HM_F_HOST, pan_f(f, n, 23));
    } else {
        pan_set(ev, HM_F_HOST, pan_f(f, n, 21));
    }
    if (res.len) {
        hm_ev_set(ev, HM_F_ACTION, hm_dec_lower(ctx, res));
        hm_ev_set_c(ev, HM_F_OUTCOME, hm_outcome_from_word(res));
    }
    hm_ev_set_c(ev, HM_F_EVENT, "config_change");
    if (hm_ev_has(ev, HM_F_USER)) hm_ev_set_c(ev, HM_F_USER_ROLE, "admin");
}

static void pan_auth(hm_decode_ctx *ctx, hm_event *ev, const hm_str *f, int n) {
    hm_dec_origin(ev, HM_SRC_FIREWALL, "paloaltonetworks", "paloalto", "authentication",
                  "authentication");
    pan_set(ev, HM_F_SRC_IP, pan_f(f, n, 8));
    pan_user(ev, HM_F_USER, pan_f(f, n, 9));
    pan_extra(ctx, ev, "normalize_user", pan_f(f, n, 10));
    pan_extra(ctx, ev, "object", pan_f(f, n, 11));
    pan_set(ev, HM_F_RULE_VENDOR, pan_f(f, n, 12));
    pan_extra(ctx, ev, "auth_id", pan_f(f, n, 14));
    pan_extra(ctx, ev, "mfa_vendor", pan_f(f, n, 15));
    pan_extra(ctx, ev, "server_profile", pan_f(f, n, 17));
    pan_set(ev, HM_F_MESSAGE, pan_f(f, n, 18));
    pan_extra(ctx, ev, "client_type", pan_f(f, n, 19));
    hm_str et = pan_f(f, n, 20);
    pan_set(ev, HM_F_EVENT_ID_VENDOR, et);
    pan_extra(ctx, ev, "factor_number", pan_f(f, n, 21));
    pan_set(ev, HM_F_HOST, pan_f(f, n, 29));
    pan_set(ev, HM_F_AUTH_METHOD, pan_f(f, n, 31));
    pan_set(ev, HM_F_SRC_MAC, pan_f(f, n, 41));
    pan_set(ev, HM_F_USER_AGENT, pan_f(f, n, 44));
    pan_set(ev, HM_F_SESSION_ID, pan_f(f, n, 45));
    if (hm_str_icontains(et, "success"))
        pan_ev(ev, "login_success", "success");
    else if (hm_str_icontains(et, "fail") || hm_str_icontains(et, "invalid") ||
             hm_str_icontains(et, "deny") || hm_str_icontains(et, "timeout") ||
             hm_str_icontains(et, "reject"))
        pan_ev(ev, "login_failure", "failure");
    else
        pan_ev(ev, "login_attempt", "unknown");
}

static void pan_gp(hm_decode_ctx *ctx, hm_event *ev, const hm_str *f, int n) {
    hm_dec_origin(ev, HM_SRC_VPN, "paloaltonetworks", "paloalto", "vpn", "globalprotect");
    hm_str eid = pan_f(f, n, 8), status = pan_f(f, n, 28);
    pan_set(ev, HM_F_EVENT_ID_VENDOR, eid);
    pan_extra(ctx, ev, "stage", pan_f(f, n, 9));
    pan_set(ev, HM_F_AUTH_METHOD, pan_f(f, n, 10));
    pan_extra(ctx, ev, "tunnel_type", pan_f(f, n, 11));
    pan_user(ev, HM_F_USER, pan_f(f, n, 12));
    pan_set(ev, HM_F_GEO_COUNTRY, pan_f(f, n, 13));
    pan_extra(ctx, ev, "machine_name", pan_f(f, n, 14));
    hm_str pub4 = pan_f(f, n, 15), pub6 = pan_f(f, n, 16), priv4 = pan_f(f, n, 17),
           priv6 = pan_f(f, n, 18);
    if (hm_str_eq_c(pub4, "0.0.0.0")) pub4.len = 0;
    if (hm_str_eq_c(priv4, "0.0.0.0")) priv4.len = 0;
    if (hm_str_eq_c(pub6, "::")) pub6.len = 0;
    if (hm_str_eq_c(priv6, "::")) priv6.len = 0;
    pan_set(ev, HM_F_SRC_IP, pub4.len ? pub4 : pub6);
    pan_set(ev, HM_F_NAT_IP, priv4.len ? priv4 : priv6);
    pan_extra(ctx, ev, "client_version", pan_f(f, n, 21));
    pan_extra(ctx, ev, "client_os", pan_f(f, n, 22));
    hm_str reason = pan_f(f, n, 25), err = pan_f(f, n, 26);
    pan_set(ev, HM_F_REASON, err.len ? err : reason);
    pan_set(ev, HM_F_MESSAGE, pan_f(f, n, 27));
    pan_extra(ctx, ev, "location", pan_f(f, n, 29));
    pan_set(ev, HM_F_DURATION, pan_f(f, n, 30));
    pan_set(ev, HM_F_PORTAL, pan_f(f, n, 33));
    pan_extra(ctx, ev, "gateway", pan_f(f, n, 41));
    pan_set(ev, HM_F_HOST, pan_f(f, n, 47));
    const char *oc = status.len ? hm_outcome_from_word(status) : NULL;
    if (status.len) hm_ev_set(ev, HM_F_ACTION, hm_dec_lower(ctx, status));
    bool fail = oc && !strcmp(oc, "failure");
    if (hm_str_eq_c(eid, "gateway-connected") || hm_str_eq_c(eid, "gateway-register"))
        pan_ev(ev, fail ? "vpn_connect_failure" : "vpn_connect", oc);
    else if (hm_str_eq_c(eid, "gateway-logout") || hm_str_eq_c(eid, "gateway-disconnected") ||
             hm_str_eq_c(eid, "portal-logout"))
        pan_ev(ev, "vpn_disconnect", oc);
    else if (hm_str_icontains(eid, "auth") || hm_str_icontains(eid, "login"))
        pan_ev(ev, fail ? "login_failure" : "login_success", oc);
    else
        pan_ev(ev, "vpn_event", oc);
}

static void pan_userid(hm_decode_ctx *ctx, hm_event *ev, const hm_str *f, int n) {
    hm_dec_origin(ev, HM_SRC_FIREWALL, "paloaltonetworks", "paloalto", "authentication", "userid");
    pan_set(ev, HM_F_SRC_IP, pan_f(f, n, 8));
    pan_user(ev, HM_F_USER, pan_f(f, n, 9));
    pan_extra(ctx, ev, "datasource_name", pan_f(f, n, 10));
    hm_str eid = pan_f(f, n, 11);
    pan_set(ev, HM_F_EVENT_ID_VENDOR, eid);
    pan_extra(ctx, ev, "datasource", pan_f(f, n, 16));
    pan_extra(ctx, ev, "datasource_type", pan_f(f, n, 17));
    pan_ev(ev, hm_str_eq_c(eid, "logout") ? "user_unmapped" : "user_mapped", NULL);
}

static int pan_decode(hm_decode_ctx *ctx, hm_event *ev) {
    hm_str body = ctx->hdr->body, type;
    int64_t st = pan_start(body, &type);
    if (st < 0) {
        ctx->reason = "panos: no PAN-OS CSV record (n,date,serial,TYPE,...)";
        return HM_EPARSE;
    }
    hm_str csv = {body.p + st, body.len - (uint32_t)st};
    while (csv.len && (csv.p[csv.len - 1] == ' ' || csv.p[csv.len - 1] == '\r')) csv.len--;
    hm_str f[PAN_MAXF];
    int n = pan_split(ctx, csv, f, PAN_MAXF);

    pan_set(ev, HM_F_DEVICE_ID, pan_f(f, n, 2));
    if (n > 4 && f[4].len) hm_dec_extra(ctx, ev, HM_STR_LIT("subtype"), f[4]);
    hm_dec_extra(ctx, ev, HM_STR_LIT("type"), type);

    if (hm_str_eq_c(type, "TRAFFIC"))
        pan_traffic(ctx, ev, f, n);
    else if (hm_str_eq_c(type, "THREAT"))
        pan_threat(ctx, ev, f, n);
    else if (hm_str_eq_c(type, "SYSTEM"))
        pan_system(ctx, ev, f, n);
    else if (hm_str_eq_c(type, "CONFIG"))
        pan_config(ctx, ev, f, n);
    else if (hm_str_eq_c(type, "AUTHENTICATION") || hm_str_eq_c(type, "AUTH"))
        pan_auth(ctx, ev, f, n);
    else if (hm_str_eq_c(type, "GLOBALPROTECT"))
        pan_gp(ctx, ev, f, n);
    else if (hm_str_eq_c(type, "USERID"))
        pan_userid(ctx, ev, f, n);
    else {
        hm_dec_origin(ev, HM_SRC_FIREWALL, "paloaltonetworks", "paloalto", "firewall", NULL);
        pan_ev(ev, "firewall_event", NULL);
    }
    pan_time(ctx, ev, f, n);
    return HM_OK;
}

const hm_decoder_ops hm_dec_panos = {
    .abi = HM_DECODER_ABI,
    .name = "panos",
    .description = "Palo Alto Networks PAN-OS CSV syslog (traffic, threat, system, config, auth, "
                   "GlobalProtect)",
    .probe = pan_probe,
    .decode = pan_decode,
};
