/* dec_sonicwall.c - SonicWall SonicOS "enhanced syslog" key=value lines.
 *
 * `id=<fw name> sn=<serial> time="YYYY-MM-DD hh:mm:ss[ UTC]" fw=<ip> pri=N c=N m=<msg id>
 *  msg="..." src=IP:PORT:IFACE[:HOST] dst=... proto=tcp/80 ...`, with an optional syslog
 * header or a bare relay IP in front. Keys map through rules/mappings/sonicwall.yml; the
 * code splits src/dst/natSrc, normalizes proto, builds the CFS URL, and derives the event
 * verb from the message id `m` (SonicOS log event reference), else from the msg text.
 * docs/decoders/sonicwall.md */
#include "../decode.h"

#define SW_WINDOW 200

static bool sw_digits(hm_str s, uint64_t *out) {
    if (s.len == 0 || s.len > 18) return false;
    uint64_t v = 0;
    for (uint32_t i = 0; i < s.len; i++) {
        unsigned d = (unsigned)(s.p[i] - '0');
        if (d > 9) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Skip an optional relay address ("10.0.0.1 ") in front of id=. Returns the offset of
 * "id=" or -1. */
static int64_t sw_start(hm_str b) {
    uint32_t i = 0;
    while (i < b.len && b.p[i] == ' ') i++;
    if (b.len - i >= 3 && !memcmp(b.p + i, "id=", 3)) return i;
    uint32_t j = i;
    while (j < b.len && j - i < 46 &&
           ((b.p[j] >= '0' && b.p[j] <= '9') || b.p[j] == '.' || b.p[j] == ':' ||
            (b.p[j] >= 'a' && b.p[j] <= 'f') || (b.p[j] >= 'A' && b.p[j] <= 'F')))
        j++;
    if (j == i || j >= b.len || b.p[j] != ' ') return -1;
    while (j < b.len && b.p[j] == ' ') j++;
    if (b.len - j >= 3 && !memcmp(b.p + j, "id=", 3)) return j;
    return -1;
}

static int sw_probe(hm_decode_ctx *ctx, const hm_syslog_hdr *h) {
    HM_UNUSED(ctx);
    int64_t s = sw_start(h->body);
    if (s < 0) return 0;
    hm_str w = {h->body.p + s, h->body.len - (uint32_t)s};
    if (w.len > SW_WINDOW) w.len = SW_WINDOW;
    if (hm_str_find_s(w, " sn=") < 0) return 0;
    if (hm_str_find_s(w, " time=") >= 0 || hm_str_find_s(w, " m=") >= 0 ||
        hm_str_find_s(w, " fw=") >= 0)
        return 90;
    return 0;
}

/* "ip:port:iface[:host]" (ip or port may be empty) */
static void sw_endpoint(hm_event *ev, hm_str v, int ip, int port, int zone, hm_str *host) {
    hm_str part[4] = {{0}};
    int n = 0;
    uint32_t st = 0;
    for (uint32_t i = 0; i <= v.len && n < 4; i++) {
        if (i == v.len || (v.p[i] == ':' && n < 3)) {
            part[n++] = (hm_str){v.p + st, i - st};
            st = i + 1;
        }
    }
    if (n >= 1 && part[0].len) hm_ev_set(ev, (hm_field_id)ip, part[0]);
    if (n >= 2 && part[1].len && port >= 0) hm_ev_set(ev, (hm_field_id)port, part[1]);
    if (n >= 3 && part[2].len && zone >= 0) hm_ev_set_default(ev, (hm_field_id)zone, part[2]);
    if (n >= 4 && part[3].len && host) *host = part[3];
}

typedef struct sw_verb {
    uint16_t m;
    const char *event;
    const char *outcome;
    uint8_t kind; /* 0 firewall, 1 web, 2 vpn, 3 auth, 4 ids, 5 admin auth, 6 config */
} sw_verb;

/* SonicOS log event ids (SonicOS 6.5 log events reference) */
static const sw_verb sw_verbs[] = {
    {14, "web_block", "failure", 1},
    {16, "web_allow", "success", 1},
    {22, "ips_alert", "failure", 4},
    {23, "ips_alert", "failure", 4},
    {24, "logout", "success", 3},
    {25, "ips_alert", "unknown", 4},
    {27, "ips_alert", "failure", 4},
    {29, "admin_login_success", "success", 5},
    {30, "admin_login_failure", "failure", 5},
    {31, "login_success", "success", 3},
    {32, "login_failure", "failure", 3},
    {33, "login_failure", "failure", 3},
    {34, "login_failure", "failure", 3},
    {35, "admin_login_failure", "failure", 5},
    {36, "traffic_deny", "failure", 0},
    {37, "traffic_deny", "failure", 0},
    {38, "traffic_deny", "failure", 0},
    {41, "traffic_deny", "failure", 0},
    {67, "vpn_auth_failure", "failure", 2},
    {70, "traffic_deny", "failure", 2},
    {81, "ips_alert", "failure", 4},
    {82, "port_scan", "unknown", 4},
    {83, "port_scan", "unknown", 4},
    {97, "web_allow", "success", 1},
    {98, "traffic_allow", "success", 0},
    {139, "login_success", "success", 2},
    {140, "login_failure", "failure", 2},
    {173, "traffic_deny", "failure", 0},
    {174, "traffic_deny", "failure", 0},
    {175, "traffic_deny", "failure", 0},
    {177, "port_scan", "unknown", 4},
    {178, "port_scan", "unknown", 4},
    {179, "port_scan", "unknown", 4},
    {181, "traffic_deny", "failure", 0},
    {199, "admin_login_success", "success", 5},
    {200, "admin_login_failure", "failure", 5},
    {235, "admin_login_success", "success", 5},
    {236, "admin_login_success", "success", 5},
    {237, "login_success", "success", 2},
    {238, "login_success", "success", 2},
    {243, "login_failure", "failure", 3},
    {244, "login_failure", "failure", 3},
    {245, "login_failure", "failure", 3},
    {246, "login_failure", "failure", 3},
    {267, "ips_alert", "failure", 4},
    {329, "account_lockout", "failure", 3},
    {346, "vpn_negotiate", NULL, 2},
    {440, "config_change", "success", 6},
    {441, "config_change", "success", 6},
    {442, "config_change", "success", 6},
    {483, "vpn_negotiate", NULL, 2},
    {537, "traffic_end", "success", 0},
    {580, "traffic_deny", "failure", 0},
    {583, "login_failure", "failure", 3},
    {606, "ips_alert", "failure", 4},
    {608, "ips_alert", "unknown", 4},
    {609, "ips_alert", "failure", 4},
    {646, "traffic_deny", "failure", 0},
    {647, "traffic_deny", "failure", 0},
    {648, "traffic_deny", "failure", 2},
    {745, "login_failure", "failure", 3},
    {749, "login_failure", "failure", 3},
    {759, "login_failure", "failure", 3},
    {789, "ips_alert", "unknown", 4},
    {790, "ips_alert", "failure", 4},
    {793, "app_alert", "unknown", 4},
    {794, "malware_detected", "failure", 4},
    {795, "malware_detected", "unknown", 4},
    {809, "malware_detected", "failure", 4},
    {986, "login_failure", "failure", 3},
    {987, "login_failure", "failure", 3},
    {994, "admin_login_success", "success", 5},
    {996, "admin_login_success", "success", 5},
    {1035, "login_failure", "failure", 3},
    {1048, "login_failure", "failure", 3},
    {1050, "config_change", "success", 6},
    {1051, "config_change", "success", 6},
    {1052, "config_change", "success", 6},
    {1080, "login_success", "success", 2},
    {1154, "app_alert", "unknown", 4},
    {1155, "app_block", "failure", 4},
    {1197, "nat_mapping", NULL, 0},
    {1198, "traffic_deny", "failure", 0},
    {1199, "traffic_deny", "failure", 0},
    {1200, "traffic_deny", "failure", 4},
    {1201, "traffic_deny", "failure", 4},
    {1233, "traffic_deny", "failure", 0},
    {1333, "config_change", "success", 6},
    {1334, "config_change", "success", 6},
    {1335, "config_change", "success", 6},
    {1337, "config_change", "success", 6},
    {1338, "config_change", "success", 6},
    {1382, "config_change", "success", 6},
    {1383, "config_change", "failure", 6},
    {1388, "vpn_error", "failure", 2},
    {1432, "config_change", "success", 6},
    {1474, "traffic_deny", "failure", 0},
    {1475, "traffic_deny", "failure", 0},
    {1476, "traffic_deny", "failure", 4},
    {1477, "traffic_deny", "failure", 4},
    {1518, "traffic_deny", "failure", 4},
    {1519, "traffic_deny", "failure", 4},
};

static const sw_verb *sw_lookup(uint64_t m) {
    size_t lo = 0, hi = HM_ARRAY_LEN(sw_verbs);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (sw_verbs[mid].m == m) return &sw_verbs[mid];
        if (sw_verbs[mid].m < m)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void sw_origin(hm_event *ev, uint8_t kind) {
    switch (kind) {
    case 1:
        hm_dec_origin(ev, HM_SRC_WEB, "sonicwall", "sonicwall", "webproxy", NULL);
        break;
    case 2:
        hm_dec_origin(ev, HM_SRC_VPN, "sonicwall", "sonicwall", "vpn", NULL);
        break;
    case 3:
    case 5:
        hm_dec_origin(ev, HM_SRC_FIREWALL, "sonicwall", "sonicwall", "authentication", NULL);
        break;
    case 4:
        hm_dec_origin(ev, HM_SRC_FIREWALL, "sonicwall", "sonicwall", "ids", NULL);
        break;
    case 6:
        hm_dec_origin(ev, HM_SRC_FIREWALL, "sonicwall", "sonicwall", "configuration", NULL);
        break;
    default:
        hm_dec_origin(ev, HM_SRC_FIREWALL, "sonicwall", "sonicwall", "firewall", NULL);
        break;
    }
}

static int sw_decode(hm_decode_ctx *ctx, hm_event *ev) {
    hm_str body = ctx->hdr->body;
    int64_t st = sw_start(body);
    if (st < 0) {
        ctx->reason = "sonicwall: body does not start with id=";
        return HM_EPARSE;
    }
    if (st > 0) { /* relay prefix: the sending firewall's address */
        hm_str relay = hm_str_trim((hm_str){body.p, (uint32_t)st});
        if (relay.len) hm_ev_set_default(ev, HM_F_HOST, relay);
    }
    body.p += st;
    body.len -= (uint32_t)st;
    hm_kv_iter it;
    hm_str k, v, m = {0}, msg = {0}, time = {0}, proto_svc = {0}, dstname = {0}, arg = {0};
    hm_str src6 = {0}, dst6 = {0}, src_host = {0}, dst_host = {0}, app_name = {0}, fw_action = {0};
    hm_kv_iter_init(&it, body);
    while (hm_kv_next(&it, &k, &v)) {
        if (hm_str_eq_c(k, "src")) {
            sw_endpoint(ev, v, HM_F_SRC_IP, HM_F_SRC_PORT, HM_F_SRC_ZONE, &src_host);
            continue;
        }
        if (hm_str_eq_c(k, "dst")) {
            sw_endpoint(ev, v, HM_F_DST_IP, HM_F_DST_PORT, HM_F_DST_ZONE, &dst_host);
            continue;
        }
        if (hm_str_eq_c(k, "natSrc")) {
            sw_endpoint(ev, v, HM_F_NAT_IP, -1, -1, NULL);
            hm_dec_extra(ctx, ev, k, v);
            continue;
        }
        if (hm_str_eq_c(k, "srcV6")) {
            src6 = v;
            continue;
        }
        if (hm_str_eq_c(k, "dstV6")) {
            dst6 = v;
            continue;
        }
        if (hm_str_eq_c(k, "srcZone")) {
            if (v.len) hm_ev_set(ev, HM_F_SRC_ZONE, v);
            continue;
        }
        if (hm_str_eq_c(k, "dstZone")) {
            if (v.len) hm_ev_set(ev, HM_F_DST_ZONE, v);
            continue;
        }
        if (hm_str_eq_c(k, "time")) {
            time = v;
            continue;
        }
        if (hm_str_eq_c(k, "m")) {
            if (!m.len) m = v;
            hm_ev_set_default(ev, HM_F_EVENT_ID_VENDOR, v);
            hm_dec_extra(ctx, ev, k, v); /* rules key on SonicWall `m` */
            continue;
        }
        if (hm_str_eq_c(k, "msg")) {
            if (!msg.len) msg = v;
            hm_ev_set_default(ev, HM_F_MESSAGE, v);
            continue;
        }
        if (hm_str_eq_c(k, "proto")) {
            int64_t sl = hm_str_find(v, '/');
            hm_str pr = sl >= 0 ? (hm_str){v.p, (uint32_t)sl} : v;
            if (sl >= 0) proto_svc = (hm_str){v.p + sl + 1, v.len - (uint32_t)sl - 1};
            if (pr.len) hm_ev_set(ev, HM_F_PROTO, hm_dec_lower(ctx, pr));
            continue;
        }
        if (hm_str_eq_c(k, "usr") || hm_str_eq_c(k, "user")) {
            /* "Unknown (SSO failed)" is not an account */
            if (v.len && !hm_str_starts(v, "Unknown") && !hm_str_eq_c(v, "N/A"))
                hm_ev_set_default(ev, HM_F_USER, v);
            else
                hm_dec_extra(ctx, ev, k, v);
            continue;
        }
        if (hm_str_eq_c(k, "dstname"))
            dstname = v;
        else if (hm_str_eq_c(k, "arg"))
            arg = v;
        else if (hm_str_eq_c(k, "appName")) {
            app_name = v;
            continue;
        } else if (hm_str_eq_c(k, "fw_action")) {
            fw_action = v;
            continue;
        }
        hm_dec_map(ctx, ev, k, v);
    }
    if (!time.len && !m.len && !msg.len) {
        ctx->reason = "sonicwall: no time, m or msg field";
        return HM_EPARSE;
    }
    if (src6.len) hm_ev_set(ev, HM_F_SRC_IP, src6);
    if (dst6.len) hm_ev_set(ev, HM_F_DST_IP, dst6);
    if (src_host.len) hm_dec_extra(ctx, ev, HM_STR_LIT("srcHost"), src_host);
    if (dst_host.len) hm_dec_extra(ctx, ev, HM_STR_LIT("dstHost"), dst_host);
    if (app_name.len) hm_ev_set(ev, HM_F_APP, app_name);
    if (fw_action.len && !hm_str_eq_c(fw_action, "NA") && !hm_str_eq_c(fw_action, "N/A"))
        hm_ev_set(ev, HM_F_ACTION, hm_dec_lower(ctx, fw_action));
    else if (fw_action.len)
        hm_dec_extra(ctx, ev, HM_STR_LIT("fw_action"), fw_action);
    if (proto_svc.len) hm_dec_extra(ctx, ev, HM_STR_LIT("service"), proto_svc);

    /* CFS: dstname + arg -> URL */
    if (dstname.len) {
        hm_ev_set_default(ev, HM_F_DOMAIN, dstname);
        if (arg.len && arg.len < 8192 && dstname.len < 1024) {
            hm_str dp = hm_ev_get(ev, HM_F_DST_PORT);
            bool tls = hm_str_eq_c(proto_svc, "https") || hm_str_eq_c(dp, "443");
            const char *scheme = tls ? "https://" : "http://";
            size_t sl = strlen(scheme), n = sl + dstname.len + arg.len;
            char *u = hm_arena_alloc(ctx->arena, n);
            memcpy(u, scheme, sl);
            memcpy(u + sl, dstname.p, dstname.len);
            memcpy(u + sl + dstname.len, arg.p, arg.len);
            hm_ev_set(ev, HM_F_URL, (hm_str){u, (uint32_t)n});
        }
    }

    /* event verb */
    uint64_t mid = 0;
    const sw_verb *vb = sw_digits(m, &mid) ? sw_lookup(mid) : NULL;
    if (vb) {
        sw_origin(ev, vb->kind);
        hm_ev_set_c(ev, HM_F_EVENT, vb->event);
        if (vb->outcome) hm_ev_set_c(ev, HM_F_OUTCOME, vb->outcome);
        if (vb->kind == 5) hm_ev_set_c(ev, HM_F_USER_ROLE, "admin");
    } else if (hm_str_icontains(msg, "login") &&
               (hm_str_icontains(msg, "denied") || hm_str_icontains(msg, "fail"))) {
        bool admin = hm_str_icontains(msg, "administrator");
        sw_origin(ev, admin ? 5 : 3);
        hm_ev_set_c(ev, HM_F_EVENT, admin ? "admin_login_failure" : "login_failure");
        hm_ev_set_c(ev, HM_F_OUTCOME, "failure");
        if (admin) hm_ev_set_c(ev, HM_F_USER_ROLE, "admin");
    } else if (hm_str_icontains(msg, "login") && hm_str_icontains(msg, "allowed")) {
        bool admin = hm_str_icontains(msg, "administrator");
        sw_origin(ev, admin ? 5 : 3);
        hm_ev_set_c(ev, HM_F_EVENT, admin ? "admin_login_success" : "login_success");
        hm_ev_set_c(ev, HM_F_OUTCOME, "success");
        if (admin) hm_ev_set_c(ev, HM_F_USER_ROLE, "admin");
    } else if (hm_str_icontains(msg, "ips ") || hm_str_icontains(msg, "attack")) {
        sw_origin(ev, 4);
        hm_ev_set_c(ev, HM_F_EVENT, "ips_alert");
    } else if (hm_str_icontains(msg, "dropped") || hm_str_icontains(msg, "denied") ||
               hm_str_icontains(msg, "blocked")) {
        sw_origin(ev, 0);
        hm_ev_set_c(ev, HM_F_EVENT, "traffic_deny");
        hm_ev_set_c(ev, HM_F_OUTCOME, "failure");
    } else {
        sw_origin(ev, 0);
        hm_ev_set_c(ev, HM_F_EVENT, "firewall_event");
    }

    if (time.len) hm_dec_time_iso(ctx, ev, time);
    return HM_OK;
}

const hm_decoder_ops hm_dec_sonicwall = {
    .abi = HM_DECODER_ABI,
    .name = "sonicwall",
    .description = "SonicWall SonicOS enhanced syslog key=value (firewall, CFS, IPS, VPN, admin)",
    .probe = sw_probe,
    .decode = sw_decode,
};
