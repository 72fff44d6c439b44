/* dec_fortigate.c - Fortinet FortiGate (FortiOS 3.x-7.x) key=value syslog.
 *
 * FortiOS sends no syslog tag: the body is `date=... time=... logid=... type=... k=v ...`,
 * sometimes behind a BSD header or a relay prefix. Keys map through
 * rules/mappings/fortigate.yml; the code normalizes the event verb, outcome, protocol,
 * the admin source in `ui="https(1.2.3.4)"`, and the event time (`eventtime` in s/ms/us/ns,
 * else `logtime`, else date+time with `tz` or the district zone). docs/decoders/fortigate.md */
#include "../decode.h"

#define FGT_WINDOW 320

/* ---- small helpers ---- */

static bool fgt_junk(hm_str v) {
    return v.len == 0 || hm_str_eq_c(v, "N/A") || hm_str_eq_c(v, "n/a") ||
           hm_str_eq_c(v, "(null)") || hm_str_eq_c(v, "none");
}

static bool fgt_digits_u64(hm_str s, uint64_t *out) {
    if (s.len == 0 || s.len > 19) return false;
    uint64_t v = 0;
    for (uint32_t i = 0; i < s.len; i++) {
        unsigned d = (unsigned)(s.p[i] - '0');
        if (d > 9) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* values inside "double quotes" may carry \" and \\ escapes */
static hm_str fgt_unescape(hm_decode_ctx *ctx, hm_str v) {
    if (v.len == 0 || v.p[-1] != '"' || !memchr(v.p, '\\', v.len)) return v;
    char *o = hm_arena_alloc(ctx->arena, v.len);
    uint32_t n = 0;
    for (uint32_t i = 0; i < v.len; i++) {
        if (v.p[i] == '\\' && i + 1 < v.len && (v.p[i + 1] == '"' || v.p[i + 1] == '\\')) i++;
        o[n++] = v.p[i];
    }
    return (hm_str){o, n};
}

static const char *fgt_proto_name(hm_str v) {
    uint64_t n;
    if (!fgt_digits_u64(v, &n)) return NULL;
    switch (n) {
    case 1:
        return "icmp";
    case 2:
        return "igmp";
    case 6:
        return "tcp";
    case 17:
        return "udp";
    case 47:
        return "gre";
    case 50:
        return "esp";
    case 51:
        return "ah";
    case 58:
        return "ipv6-icmp";
    case 89:
        return "ospf";
    case 132:
        return "sctp";
    default:
        return NULL;
    }
}

static int fgt_2(const char *p) {
    if ((unsigned)(p[0] - '0') > 9 || (unsigned)(p[1] - '0') > 9) return -1;
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/* date=YYYY-MM-DD time=HH:MM:SS -> wall-clock seconds (as if UTC) */
static bool fgt_civil(hm_str d, hm_str t, int64_t *secs) {
    if (d.len != 10 || t.len < 8 || d.p[4] != '-' || d.p[7] != '-' || t.p[2] != ':' ||
        t.p[5] != ':')
        return false;
    int y1 = fgt_2(d.p), y2 = fgt_2(d.p + 2), mo = fgt_2(d.p + 5), dd = fgt_2(d.p + 8);
    int hh = fgt_2(t.p), mi = fgt_2(t.p + 3), ss = fgt_2(t.p + 6);
    if (y1 < 19 || y1 > 21 || y2 < 0 || mo < 1 || mo > 12 || dd < 1 || dd > 31 || hh < 0 ||
        hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 60)
        return false;
    *secs = hm_civil_to_epoch(y1 * 100 + y2, mo, dd, hh, mi, ss);
    return true;
}

/* eventtime/logtime: epoch in s, ms, us or ns (FortiOS 6.2+ uses ns); judged by magnitude.
 * Values outside 2000..2100 are ignored (test devices send eventtime=111111111). */
static bool fgt_epoch_ns(hm_str v, int64_t *ns) {
    uint64_t n;
    if (!fgt_digits_u64(v, &n)) return false;
    uint64_t s, frac;
    if (n >= 10000000000000000ULL) {
        s = n / 1000000000ULL;
        frac = n % 1000000000ULL;
    } else if (n >= 10000000000000ULL) {
        s = n / 1000000ULL;
        frac = (n % 1000000ULL) * 1000ULL;
    } else if (n >= 10000000000ULL) {
        s = n / 1000ULL;
        frac = (n % 1000ULL) * 1000000ULL;
    } else {
        s = n;
        frac = 0;
    }
    if (s < 946684800ULL || s > 4102444800ULL) return false;
    *ns = (int64_t)s * 1000000000LL + (int64_t)frac;
    return true;
}

/* tz="-0800" / "+0530" -> seconds east of UTC */
static bool fgt_tz(hm_str v, int *off) {
    if (v.len != 5 || (v.p[0] != '+' && v.p[0] != '-')) return false;
    int h = fgt_2(v.p + 1), m = fgt_2(v.p + 3);
    if (h < 0 || m < 0 || h > 14 || m > 59) return false;
    *off = (v.p[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
    return true;
}

/* "https(1.2.3.4)" -> method "https", ip "1.2.3.4" */
static bool fgt_paren(hm_str v, hm_str *pre, hm_str *inner) {
    int64_t o = hm_str_find(v, '(');
    if (o <= 0 || v.len < 3 || v.p[v.len - 1] != ')') return false;
    *pre = (hm_str){v.p, (uint32_t)o};
    *inner = (hm_str){v.p + o + 1, (uint32_t)(v.len - (uint32_t)o - 2)};
    return true;
}

static bool fgt_looks_ip(hm_str v) {
    if (v.len < 2 || v.len > 45) return false;
    int dots = 0, colons = 0;
    for (uint32_t i = 0; i < v.len; i++) {
        char c = v.p[i];
        if (c == '.')
            dots++;
        else if (c == ':')
            colons++;
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return dots == 3 || colons >= 2;
}

/* words: lowercase, lengths kept (compared first), ended by an empty entry */
static bool fgt_in(hm_str v, const hm_str *words) {
    for (; words->len; words++)
        if (hm_str_ieq_lower(v, *words)) return true;
    return false;
}

/* ---- probe ---- */

/* Does head contain " devid=" or " logid="? Jumps from '=' to '=' and looks behind: the
 * same answer as two substring searches, for a fraction of their cost. */
static bool fgt_has_id_key(hm_str head) {
    const char *p = head.p, *e = head.p + head.len;
    while ((p = hm_find2(p, e, '=', '=')) < e) {
        if (p - head.p >= 6 && (!memcmp(p - 6, " devid", 6) || !memcmp(p - 6, " logid", 6)))
            return true;
        p++;
    }
    return false;
}

/* One pass over the first bytes: which FortiOS marker keys appear as `key=` words. */
enum { FK_DATE = 1, FK_ID = 2, FK_TYPE = 4, FK_EVT = 8, FK_LOGID = 16 };

static int fgt_probe(hm_decode_ctx *ctx, const hm_syslog_hdr *h) {
    HM_UNUSED(ctx);
    hm_str w = {h->body.p, h->body.len < FGT_WINDOW ? h->body.len : FGT_WINDOW};
    if (w.len < 12) return 0;
    /* fast path for the common FortiOS shape: "date=... devid=/logid=..." near the start */
    if (!memcmp(w.p, "date=", 5)) {
        hm_str head = {w.p, w.len < 200 ? w.len : 200};
        if (fgt_has_id_key(head)) return 100;
    }
    unsigned seen = 0;
    int64_t date_at = -1;
    for (uint32_t i = 1; i < w.len; i++) {
        const char *eq = memchr(w.p + i, '=', w.len - i); /* vectorized jump to the next '=' */
        if (!eq) break;
        i = (uint32_t)(eq - w.p);
        uint32_t s = i;
        while (s > 0 && ((w.p[s - 1] >= 'a' && w.p[s - 1] <= 'z') || w.p[s - 1] == '_')) s--;
        if (s > 0 && w.p[s - 1] != ' ' && w.p[s - 1] != '\t') continue;
        hm_str k = {w.p + s, i - s};
        switch (k.len) {
        case 4:
            if (!memcmp(k.p, "date", 4)) {
                seen |= FK_DATE;
                if (date_at < 0) date_at = s;
            } else if (!memcmp(k.p, "type", 4))
                seen |= FK_TYPE;
            break;
        case 5:
            if (!memcmp(k.p, "logid", 5))
                seen |= FK_ID | FK_LOGID;
            else if (!memcmp(k.p, "devid", 5))
                seen |= FK_ID;
            break;
        case 6:
            if (!memcmp(k.p, "log_id", 6)) seen |= FK_ID;
            break;
        case 9:
            if (!memcmp(k.p, "device_id", 9))
                seen |= FK_ID;
            else if (!memcmp(k.p, "eventtime", 9))
                seen |= FK_EVT;
            break;
        default:
            break;
        }
    }
    if (seen & FK_DATE) {
        if (!(seen & (FK_ID | FK_TYPE))) return 0;
        /* starts with date= and carries logid/devid: certainly FortiOS, stop probing */
        if (date_at == 0) return (seen & FK_ID) ? 100 : 80;
        return (seen & FK_ID) ? 85 : 70;
    }
    /* FortiOS 7 lines that put eventtime first */
    if ((seen & FK_LOGID) && (seen & FK_TYPE) && (seen & FK_EVT)) return 70;
    return 0;
}

/* ---- decode ---- */

typedef struct fgt_vals {
    hm_str date, time, eventtime, logtime, tz;
    hm_str type, subtype, logid, action, status, logdesc, msg;
    hm_str ui, method, authproto, cfgpath, eventtype, connection_type;
} fgt_vals;

static void fgt_set_event(hm_event *ev, const char *verb, const char *outcome) {
    hm_ev_set_c(ev, HM_F_EVENT, verb);
    if (outcome) hm_ev_set_c(ev, HM_F_OUTCOME, outcome);
}

static const char *fgt_status_outcome(hm_str st) {
    if (!st.len) return NULL;
    if (hm_str_icontains(st, "fail")) return "failure";
    return hm_outcome_from_word(st);
}

static const hm_str fgt_deny_words[] = {HM_STR_LIT("deny"),          HM_STR_LIT("denied"),
                                        HM_STR_LIT("block"),         HM_STR_LIT("blocked"),
                                        HM_STR_LIT("drop"),          HM_STR_LIT("dropped"),
                                        HM_STR_LIT("reject"),        HM_STR_LIT("reset"),
                                        HM_STR_LIT("clear_session"), {NULL, 0}};

static void fgt_classify(hm_decode_ctx *ctx, hm_event *ev, const fgt_vals *f) {
    hm_str type = f->type, sub = f->subtype, act = f->action;
    const char *vendor = "fortinet", *product = "fortigate";
    (void)ctx;
    if (hm_str_eq_c(type, "traffic")) {
        hm_str a = act.len ? act : f->status; /* FortiOS 4 logged status=accept|deny */
        bool deny = fgt_in(a, fgt_deny_words);
        hm_dec_origin(ev, HM_SRC_FIREWALL, vendor, product, "firewall", NULL);
        fgt_set_event(ev, deny ? "traffic_deny" : "traffic_allow", deny ? "failure" : "success");
        if (!act.len && f->status.len) hm_ev_set(ev, HM_F_ACTION, f->status);
        return;
    }
    if (hm_str_eq_c(type, "utm") || hm_str_eq_c(type, "anomaly")) {
        bool blocked = fgt_in(act, fgt_deny_words);
        const char *oc = blocked ? "failure" : hm_outcome_from_word(act);
        if (hm_str_eq_c(sub, "webfilter")) {
            hm_dec_origin(ev, HM_SRC_WEB, vendor, product, "webproxy", NULL);
            if (blocked)
                fgt_set_event(ev, "web_block", "failure");
            else if (hm_str_eq_c(act, "warning"))
                fgt_set_event(ev, "web_warn", "unknown");
            else
                fgt_set_event(ev, "web_allow", "success");
            return;
        }
        if (hm_str_eq_c(sub, "ips") || hm_str_eq_c(sub, "anomaly") ||
            hm_str_eq_c(type, "anomaly")) {
            hm_dec_origin(ev, HM_SRC_FIREWALL, vendor, product, "ids", NULL);
            fgt_set_event(ev, "ips_alert", oc);
            return;
        }
        if (hm_str_eq_c(sub, "virus")) {
            hm_dec_origin(ev, HM_SRC_FIREWALL, vendor, product, "antivirus", NULL);
            fgt_set_event(ev, "malware_detected", oc);
            return;
        }
        hm_dec_origin(ev, HM_SRC_FIREWALL, vendor, product, "firewall", NULL);
        if (hm_str_eq_c(sub, "app-ctrl"))
            fgt_set_event(ev, blocked ? "app_block" : "app_allow", blocked ? "failure" : "success");
        else if (hm_str_eq_c(sub, "ssl"))
            fgt_set_event(ev, blocked ? "ssl_block" : "ssl_anomaly", oc);
        else if (hm_str_eq_c(sub, "dlp"))
            fgt_set_event(ev, blocked ? "dlp_block" : "dlp_alert", oc);
        else if (hm_str_eq_c(sub, "dns"))
            fgt_set_event(ev, blocked ? "dns_block" : "dns_query", oc);
        else if (hm_str_eq_c(sub, "cifs") || hm_str_eq_c(sub, "file-filter"))
            fgt_set_event(ev, blocked ? "file_block" : "file_transfer", oc);
        else if (hm_str_eq_c(sub, "emailfilter"))
            fgt_set_event(ev, "email_filter", oc);
        else
            fgt_set_event(ev, "utm_event", oc);
        return;
    }
    if (hm_str_eq_c(type, "event")) {
        const char *st = fgt_status_outcome(f->status);
        hm_str id = f->logid;
        if (hm_str_eq_c(sub, "system")) {
            bool login = hm_str_ieq_c(act, "login") || hm_str_eq_c(id, "0100032001") ||
                         hm_str_eq_c(id, "0100032002");
            if (login) {
                bool ok = hm_str_eq_c(id, "0100032001") ||
                          (!hm_str_eq_c(id, "0100032002") && st && !strcmp(st, "success"));
                hm_dec_origin(ev, HM_SRC_FIREWALL, vendor, product, "authentication", NULL);
                fgt_set_event(ev, ok ? "admin_login_success" : "admin_login_failure",
                              ok ? "success" : "failure");
                hm_ev_set_c(ev, HM_F_USER_ROLE, "admin");
                return;
            }
            if (hm_str_ieq_c(act, "logout") || hm_str_eq_c(id, "0100032003")) {
                hm_dec_origin(ev, HM_SRC_FIREWALL, vendor, product, "authentication", NULL);
                fgt_set_event(ev, "admin_logout", st ? st : "success");
                hm_ev_set_c(ev, HM_F_USER_ROLE, "admin");
                return;
            }
            static const hm_str cfg_acts[] = {
                HM_STR_LIT("add"),  HM_STR_LIT("edit"), HM_STR_LIT("delete"),
                HM_STR_LIT("move"), HM_STR_LIT("set"),  HM_STR_LIT("unset"),
                {NULL, 0}};
            if (f->cfgpath.len || fgt_in(act, cfg_acts) ||
                hm_str_icontains(f->logdesc, "configur")) {
                hm_dec_origin(ev, HM_SRC_FIREWALL, vendor, product, "configuration", NULL);
                fgt_set_event(ev, "config_change", st ? st : "success");
                return;
            }
            hm_dec_origin(ev, HM_SRC_FIREWALL, vendor, product, "firewall", NULL);
            fgt_set_event(ev, "system_event", st);
            return;
        }
        if (hm_str_eq_c(sub, "user")) {
            hm_dec_origin(ev, HM_SRC_FIREWALL, vendor, product, "authentication", NULL);
            if (hm_str_eq_c(id, "0102043039") || hm_str_icontains(f->logdesc, "lockout"))
                fgt_set_event(ev, "account_lockout", "failure");
            else if (hm_str_ieq_c(act, "authentication") || hm_str_icontains(f->logdesc, "auth"))
                fgt_set_event(ev, st && !strcmp(st, "success") ? "login_success" : "login_failure",
                              st ? st : "unknown");
            else if (hm_str_icontains(f->logdesc, "logon"))
                fgt_set_event(ev, "login_success", "success");
            else if (hm_str_icontains(f->logdesc, "logoff") ||
                     hm_str_icontains(f->logdesc, "logout"))
                fgt_set_event(ev, "logout", "success");
            else
                fgt_set_event(ev, "user_event", st);
            return;
        }
        if (hm_str_eq_c(sub, "vpn")) {
            hm_dec_origin(ev, HM_SRC_VPN, vendor, product, "vpn", NULL);
            if (hm_str_ieq_c(act, "ssl-login-fail") || hm_str_icontains(f->logdesc, "login fail"))
                fgt_set_event(ev, "login_failure", "failure");
            else if (hm_str_ieq_c(act, "ssl-login") || hm_str_ieq_c(act, "ssl-web-pass"))
                fgt_set_event(ev, "login_success", "success");
            else if (hm_str_ieq_c(act, "tunnel-up") || hm_str_ieq_c(act, "phase2-up"))
                fgt_set_event(ev, "vpn_connect", "success");
            else if (hm_str_ieq_c(act, "tunnel-down") || hm_str_ieq_c(act, "phase2-down") ||
                     hm_str_ieq_c(act, "ssl-exit") || hm_str_ieq_c(act, "ssl-logout"))
                fgt_set_event(ev, "vpn_disconnect", "success");
            else if (hm_str_ieq_c(act, "negotiate"))
                fgt_set_event(ev, "vpn_negotiate", st);
            else if (hm_str_ieq_c(act, "dpd"))
                fgt_set_event(ev, "vpn_dpd", st);
            else if (hm_str_ieq_c(act, "tunnel-stats"))
                fgt_set_event(ev, "vpn_stats", NULL);
            else
                fgt_set_event(ev, "vpn_event", st);
            return;
        }
        if (hm_str_eq_c(sub, "endpoint")) {
            bool vpn = hm_str_eq_c(f->connection_type, "sslvpn");
            hm_dec_origin(ev, vpn ? HM_SRC_VPN : HM_SRC_FIREWALL, vendor, product,
                          vpn ? "vpn" : "firewall", NULL);
            if (hm_str_ieq_c(act, "add"))
                fgt_set_event(ev, "endpoint_connect", st);
            else if (hm_str_ieq_c(act, "close"))
                fgt_set_event(ev, "endpoint_disconnect", st);
            else
                fgt_set_event(ev, "endpoint_event", st);
            return;
        }
        hm_dec_origin(ev, HM_SRC_FIREWALL, vendor, product, "firewall", NULL);
        if (hm_str_eq_c(sub, "wireless") &&
            (hm_str_icontains(act, "fake-ap") || hm_str_icontains(act, "rogue")))
            fgt_set_event(ev, "rogue_ap", NULL);
        else if (hm_str_eq_c(sub, "rest-api")) {
            const char *oc = NULL;
            uint64_t code;
            if (fgt_digits_u64(f->status, &code))
                oc = code < 400 ? "success" : "failure";
            else
                oc = st;
            fgt_set_event(ev, "api_request", oc);
        } else if (hm_str_eq_c(sub, "ha"))
            fgt_set_event(ev, "ha_event", st);
        else
            fgt_set_event(ev, "system_event", st);
        return;
    }
    hm_dec_origin(ev, HM_SRC_FIREWALL, vendor, product, "firewall", NULL);
    fgt_set_event(ev, "firewall_event", fgt_status_outcome(f->status));
}

/* map a vendor key; mapped keys with placeholder values (N/A, (null)) are dropped */
static void fgt_map(hm_decode_ctx *ctx, hm_event *ev, hm_str k, hm_str v) {
    int id = hm_field_map_get(ctx->map, k.p, k.len);
    if (id < 0) {
        hm_dec_extra(ctx, ev, k, v);
        return;
    }
    if (fgt_junk(v)) return;
    if (id == HM_F_NAT_IP && hm_str_eq_c(v, "0.0.0.0")) return;
    if (id == HM_F_ACTION) v = hm_dec_lower(ctx, v);
    hm_ev_set_default(ev, (hm_field_id)id, v);
}

static int fgt_decode(hm_decode_ctx *ctx, hm_event *ev) {
    hm_str body = ctx->hdr->body;
    hm_kv_iter it;
    hm_str k, v;
    fgt_vals f;
    memset(&f, 0, sizeof f);
    hm_kv_iter_init(&it, body);
    int pairs = 0;
    while (hm_kv_next(&it, &k, &v)) {
        pairs++;
        if (it.esc) v = fgt_unescape(ctx, v);
        switch (k.len) {
        case 2:
            if (hm_str_eq_c(k, "tz")) {
                f.tz = v;
                continue;
            }
            if (hm_str_eq_c(k, "ui")) {
                f.ui = v;
                break;
            }
            break;
        case 4:
            if (hm_str_eq_c(k, "date")) {
                f.date = v;
                continue;
            }
            if (hm_str_eq_c(k, "time")) {
                f.time = v;
                continue;
            }
            if (hm_str_eq_c(k, "type")) {
                f.type = v;
                hm_ev_set(ev, HM_F_SERVICE, hm_dec_lower(ctx, v));
                break;
            }
            if (hm_str_eq_c(k, "user")) {
                if (!fgt_junk(v)) hm_ev_set(ev, HM_F_USER, v);
                continue;
            }
            break;
        case 5:
            if (hm_str_eq_c(k, "logid")) {
                f.logid = v;
                hm_ev_set(ev, HM_F_EVENT_ID_VENDOR, v);
                break;
            }
            if (hm_str_eq_c(k, "proto")) {
                const char *pn = fgt_proto_name(v);
                if (pn)
                    hm_ev_set_c(ev, HM_F_PROTO, pn);
                else if (!fgt_junk(v))
                    hm_ev_set(ev, HM_F_PROTO, v);
                continue;
            }
            break;
        case 6:
            if (hm_str_eq_c(k, "log_id")) {
                f.logid = v;
                hm_ev_set(ev, HM_F_EVENT_ID_VENDOR, v);
                break;
            }
            if (hm_str_eq_c(k, "action")) {
                f.action = v;
                continue;
            }
            if (hm_str_eq_c(k, "status")) {
                f.status = v;
                break;
            }
            if (hm_str_eq_c(k, "method")) {
                f.method = v;
                continue;
            }
            break;
        case 7:
            if (hm_str_eq_c(k, "subtype")) {
                f.subtype = v;
                break;
            }
            if (hm_str_eq_c(k, "logdesc")) {
                f.logdesc = v;
                break;
            }
            if (hm_str_eq_c(k, "logtime")) {
                f.logtime = v;
                continue;
            }
            if (hm_str_eq_c(k, "cfgpath")) {
                f.cfgpath = v;
                hm_ev_set(ev, HM_F_OBJECT, v);
                hm_dec_extra(ctx, ev, k, v); /* Sigma FortiGate rules match on cfgpath */
                continue;
            }
            break;
        case 9:
            if (hm_str_eq_c(k, "eventtime")) {
                f.eventtime = v;
                continue;
            }
            if (hm_str_eq_c(k, "eventtype")) {
                f.eventtype = v;
                break;
            }
            if (hm_str_eq_c(k, "authproto")) {
                f.authproto = v;
                break;
            }
            if (hm_str_eq_c(k, "xauthuser")) {
                if (!fgt_junk(v)) hm_ev_set_default(ev, HM_F_USER, v);
                continue;
            }
            break;
        case 15:
            if (hm_str_eq_c(k, "connection_type")) {
                f.connection_type = v;
                break;
            }
            break;
        default:
            break;
        }
        if (hm_str_eq_c(k, "msg")) f.msg = v;
        fgt_map(ctx, ev, k, v);
    }
    if (pairs < 2 || (!f.type.len && !f.logid.len && !f.date.len)) {
        ctx->reason = "fortigate: no FortiOS key=value fields (date/logid/type)";
        return HM_EPARSE;
    }

    /* logid and action: taxonomy fields; logid stays a vendor field too (rules use it) */
    if (f.action.len) hm_ev_set(ev, HM_F_ACTION, hm_dec_lower(ctx, f.action));

    /* admin interface: ui="https(1.2.3.4)", authproto="TELNET(10.1.100.11)" */
    hm_str pre, inner;
    if (f.ui.len && fgt_paren(f.ui, &pre, &inner)) {
        hm_ev_set_default(ev, HM_F_AUTH_METHOD, hm_dec_lower(ctx, pre));
        if (fgt_looks_ip(inner)) hm_ev_set_default(ev, HM_F_SRC_IP, inner);
    }
    if (f.authproto.len && fgt_paren(f.authproto, &pre, &inner))
        hm_ev_set_default(ev, HM_F_AUTH_METHOD, hm_dec_lower(ctx, pre));
    if (f.method.len) {
        if (hm_str_eq_c(f.subtype, "rest-api"))
            hm_ev_set(ev, HM_F_HTTP_METHOD, f.method);
        else if (hm_str_eq_c(f.type, "event"))
            hm_ev_set_default(ev, HM_F_AUTH_METHOD, f.method);
        else
            hm_dec_extra(ctx, ev, HM_STR_LIT("method"), f.method);
    }
    if (!hm_ev_has(ev, HM_F_MESSAGE) && f.logdesc.len) hm_ev_set(ev, HM_F_MESSAGE, f.logdesc);

    fgt_classify(ctx, ev, &f);

    /* FortiOS 3/4 wrote "time=10: 13:03" (a blank after the hour); rejoin it */
    const char *bend = body.p + body.len;
    if (f.time.len == 3 && f.time.p[2] == ':' && bend - (f.time.p + 3) >= 6 && f.time.p[3] == ' ' &&
        f.time.p[6] == ':') {
        char *t = hm_arena_alloc(ctx->arena, 8);
        memcpy(t, f.time.p, 3);
        memcpy(t + 3, f.time.p + 4, 5);
        f.time = (hm_str){t, 8};
    }

    /* event time */
    int64_t ns, secs;
    int off;
    if (fgt_epoch_ns(f.eventtime, &ns) || fgt_epoch_ns(f.logtime, &ns)) {
        hm_dec_time_utc(ev, ns);
    } else if (fgt_civil(f.date, f.time, &secs)) {
        if (fgt_tz(f.tz, &off))
            hm_dec_time_utc(ev, (secs - off) * 1000000000LL);
        else
            hm_dec_time_local(ctx, ev, secs * 1000000000LL);
    }
    return HM_OK;
}

const hm_decoder_ops hm_dec_fortigate = {
    .abi = HM_DECODER_ABI,
    .name = "fortigate",
    .description = "Fortinet FortiGate FortiOS key=value syslog (traffic, utm, event)",
    .probe = fgt_probe,
    .decode = fgt_decode,
};
