/* dec_meraki.c - Cisco Meraki MX/MR/MS syslog.
 *
 * `<pri>1 <epoch.nanos> <device> <category> <details>`: the syslog parser takes the epoch
 * stamp and device name, so the body starts with the category word (events, flows, urls,
 * ids-alerts, security_event, airmarshal_events, firewall, vpn_firewall, ip_flow_start...).
 * Details are `type=<name> key='value' ...`, `key=value ... pattern: allow`, or free text
 * (client VPN, DHCP, ARP, switch ports). Keys map through rules/mappings/meraki.yml.
 * docs/decoders/meraki.md */
#include "../decode.h"

static const char *const mk_cats[] = {"events",
                                      "flows",
                                      "urls",
                                      "ids-alerts",
                                      "security_event",
                                      "airmarshal_events",
                                      "firewall",
                                      "vpn_firewall",
                                      "cellular_firewall",
                                      "bridge_anyconnect_client_vpn_firewall",
                                      "ip_flow_start",
                                      "ip_flow_end",
                                      NULL};

static hm_str mk_word(hm_str b) {
    uint32_t i = 0;
    while (i < b.len && b.p[i] != ' ') i++;
    return (hm_str){b.p, i};
}

/* The header was "<PRI>1 <epoch.frac> <host> ": digits and dots right before the host.
 * (version 1 means the record starts with '<', so the backward scan stays inside it.) */
static bool mk_epoch_header(const hm_syslog_hdr *h) {
    const char *q = h->host.p - 1; /* the blank before the host */
    if (*q != ' ') return false;
    const char *d = q - 1;
    int n = 0;
    while ((*d >= '0' && *d <= '9') || *d == '.') {
        d--;
        n++;
    }
    return n >= 9 && *d == ' ' && d[-1] == '1' && d[-2] == '>';
}

static int mk_probe(hm_decode_ctx *ctx, const hm_syslog_hdr *h) {
    HM_UNUSED(ctx);
    if (h->version != 1 || h->app.len || !h->host.len) return 0;
    hm_str w = mk_word(h->body);
    for (const char *const *c = mk_cats; *c; c++) {
        if (!hm_str_eq_c(w, *c)) continue;
        if (mk_epoch_header(h)) return 100;
        /* an ISO-stamped 5424 line whose message happens to start with a category word */
        return (hm_str_eq_c(w, "events") || hm_str_eq_c(w, "urls") || hm_str_eq_c(w, "flows")) ? 50
                                                                                               : 0;
    }
    return 0;
}

/* text after `key` up to the next blank (or quote-delimited when it starts with ') */
static hm_str mk_after(hm_str t, const char *key) {
    int64_t k = hm_str_find_s(t, key);
    if (k < 0) return (hm_str){0};
    uint32_t s = (uint32_t)k + (uint32_t)strlen(key), e;
    if (s < t.len && t.p[s] == '\'') {
        s++;
        e = s;
        while (e < t.len && t.p[e] != '\'') e++;
    } else {
        e = s;
        while (e < t.len && t.p[e] != ' ' && t.p[e] != ',' && t.p[e] != ']') e++;
    }
    return (hm_str){t.p + s, e - s};
}

static bool mk_is_ip(hm_str v) {
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
    return (dots == 3 && !colons) || colons >= 2;
}

static void mk_set_ip(hm_event *ev, hm_field_id id, hm_str v) {
    if (v.len && !hm_str_eq_c(v, "0.0.0.0") && mk_is_ip(v)) hm_ev_set(ev, id, v);
}

/* "1.2.3.4:80" or "[2001:db8::1]:80" or a bare address */
static void mk_endpoint(hm_event *ev, hm_str v, bool src) {
    hm_field_id ip = src ? HM_F_SRC_IP : HM_F_DST_IP, port = src ? HM_F_SRC_PORT : HM_F_DST_PORT;
    if (v.len && v.p[0] == '[') {
        int64_t rb = hm_str_find(v, ']');
        if (rb > 1) {
            mk_set_ip(ev, ip, (hm_str){v.p + 1, (uint32_t)rb - 1});
            if ((uint32_t)rb + 2 < v.len && v.p[rb + 1] == ':')
                hm_ev_set(ev, port, (hm_str){v.p + rb + 2, v.len - (uint32_t)rb - 2});
        }
        return;
    }
    int64_t c = hm_str_find(v, ':');
    if (c > 0 && hm_str_find((hm_str){v.p + c + 1, v.len - (uint32_t)c - 1}, ':') < 0) {
        mk_set_ip(ev, ip, (hm_str){v.p, (uint32_t)c});
        if ((uint32_t)c + 1 < v.len)
            hm_ev_set(ev, port, (hm_str){v.p + c + 1, v.len - (uint32_t)c - 1});
        return;
    }
    mk_set_ip(ev, ip, v);
}

typedef struct mk_vals {
    hm_str type, msg, connectivity, decision, pattern, protocol;
} mk_vals;

/* key=value pairs; values 'quoted' or bare; `msg= 'text'` (blank after =) is accepted */
static void mk_kv(hm_decode_ctx *ctx, hm_event *ev, hm_str s, mk_vals *v, bool macs_are_stations) {
    hm_kv_iter it;
    hm_str k, val;
    hm_kv_iter_init(&it, s);
    while (hm_kv_next(&it, &k, &val)) {
        if (!val.len) {
            const char *p = it.p;
            while (p < it.end && *p == ' ') p++;
            if (p < it.end && (*p == '\'' || *p == '"')) {
                char q = *p++;
                const char *st = p;
                while (p < it.end && *p != q) p++;
                val = (hm_str){st, (uint32_t)(p - st)};
                if (p < it.end) p++;
                it.p = p;
            }
        }
        if (hm_str_eq_c(k, "type")) {
            v->type = val;
            continue;
        }
        if (hm_str_eq_c(k, "msg")) {
            v->msg = hm_str_trim(val);
            continue;
        }
        if (hm_str_eq_c(k, "src") || hm_str_eq_c(k, "dst")) {
            bool src = k.p[0] == 's';
            if (macs_are_stations) {
                if (val.len) hm_ev_set(ev, src ? HM_F_SRC_MAC : HM_F_DST_MAC, val);
            } else {
                mk_endpoint(ev, val, src);
            }
            continue;
        }
        if (hm_str_eq_c(k, "peer_contact")) {
            mk_endpoint(ev, val, true);
            hm_dec_extra(ctx, ev, k, val);
            continue;
        }
        if (hm_str_eq_c(k, "connectivity"))
            v->connectivity = val;
        else if (hm_str_eq_c(k, "decision"))
            v->decision = val;
        else if (hm_str_eq_c(k, "protocol")) {
            v->protocol = val;
            int64_t sl = hm_str_find(val, '/');
            hm_str pr = sl > 0 ? (hm_str){val.p, (uint32_t)sl} : val;
            if (pr.len) hm_ev_set(ev, HM_F_PROTO, pr);
            continue;
        }
        int id = hm_field_map_get(ctx->map, k.p, k.len);
        if (id == HM_F_SRC_IP || id == HM_F_DST_IP || id == HM_F_NAT_IP) {
            if (!hm_ev_has(ev, (hm_field_id)id)) mk_set_ip(ev, (hm_field_id)id, val);
            continue;
        }
        if (id >= 0 && !val.len) continue;
        hm_dec_map(ctx, ev, k, val);
    }
}

static void mk_ev(hm_event *ev, const char *verb, const char *outcome) {
    hm_ev_set_c(ev, HM_F_EVENT, verb);
    if (outcome) hm_ev_set_c(ev, HM_F_OUTCOME, outcome);
}

typedef struct mk_type_verb {
    const char *type, *event, *outcome;
    uint8_t kind; /* 0 network, 1 auth (radius), 2 vpn, 3 ids */
} mk_type_verb;

static const mk_type_verb mk_types[] = {
    {"8021x_eap_success", "login_success", "success", 1},
    {"8021x_eap_failure", "login_failure", "failure", 1},
    {"8021x_auth", "wifi_auth", "success", 1},
    {"8021x_deauth", "wifi_deauth", NULL, 1},
    {"8021x_client_deauth", "wifi_deauth", NULL, 1},
    {"wpa_auth", "wifi_auth", "success", 1},
    {"wpa_deauth", "wifi_deauth", NULL, 1},
    {"splash_auth", "login_success", "success", 1},
    {"association", "wifi_association", "success", 0},
    {"disassociation", "wifi_disassociation", NULL, 0},
    {"aps_association_reject", "wifi_association_reject", "failure", 0},
    {"dfs_event", "wifi_radio_event", NULL, 0},
    {"multiple_dhcp_servers_detected", "rogue_dhcp_server", NULL, 3},
    {"martian_vlan", "network_anomaly", NULL, 3},
    {"rogue_ssid_detected", "rogue_ap", NULL, 3},
    {"ssid_spoofing_detected", "rogue_ap", NULL, 3},
    {"anyconnect_vpn_auth_success", "login_success", "success", 2},
    {"anyconnect_vpn_auth_failure", "login_failure", "failure", 2},
    {"anyconnect_vpn_connect", "vpn_connect", "success", 2},
    {"anyconnect_vpn_disconnect", "vpn_disconnect", "success", 2},
    {"client_vpn_connect", "vpn_connect", "success", 2},
    {"client_vpn_disconnect", "vpn_disconnect", "success", 2},
    {NULL, NULL, NULL, 0},
};

static void mk_origin(hm_event *ev, uint8_t kind, const char *service) {
    switch (kind) {
    case 1:
        hm_dec_origin(ev, HM_SRC_RADIUS, "cisco", "meraki", "authentication", service);
        break;
    case 2:
        hm_dec_origin(ev, HM_SRC_VPN, "cisco", "meraki", "vpn", service);
        break;
    case 3:
        hm_dec_origin(ev, HM_SRC_FIREWALL, "cisco", "meraki", "ids", service);
        break;
    case 4:
        hm_dec_origin(ev, HM_SRC_FIREWALL, "cisco", "meraki", "firewall", service);
        break;
    case 5:
        hm_dec_origin(ev, HM_SRC_WEB, "cisco", "meraki", "webproxy", service);
        break;
    default:
        hm_dec_origin(ev, HM_SRC_FIREWALL, "cisco", "meraki", "network", service);
        break;
    }
}

/* AnyConnect session text: "Sess-ID[420] Peer IP=3.3.3.3 User[u]: Session disconnected. ...
 * Bytes xmt: 135325, Bytes rcv: 74821, Reason: User Requested" */
static void mk_anyconnect_msg(hm_event *ev, hm_str m) {
    hm_str u = mk_after(m, "User[");
    if (u.len) hm_ev_set_default(ev, HM_F_USER, u);
    hm_str u2 = mk_after(m, "User=");
    if (u2.len && u2.p[u2.len - 1] == ':') u2.len--;
    if (u2.len) hm_ev_set_default(ev, HM_F_USER, u2);
    mk_set_ip(ev, HM_F_SRC_IP, mk_after(m, "Peer IP="));
    hm_str pp = mk_after(m, "Peer port=");
    if (pp.len) hm_ev_set(ev, HM_F_SRC_PORT, pp);
    hm_str x = mk_after(m, "Bytes xmt: ");
    if (x.len) hm_ev_set(ev, HM_F_BYTES_IN, x); /* transmitted by the gateway to the client */
    hm_str r = mk_after(m, "Bytes rcv: ");
    if (r.len) hm_ev_set(ev, HM_F_BYTES_OUT, r);
    int64_t rs = hm_str_find_s(m, "Reason: ");
    if (rs >= 0)
        hm_ev_set(ev, HM_F_REASON, hm_str_trim((hm_str){m.p + rs + 8, m.len - (uint32_t)rs - 8}));
}

static void mk_events(hm_decode_ctx *ctx, hm_event *ev, hm_str rest) {
    if (hm_str_starts(rest, "type=")) {
        mk_vals v;
        memset(&v, 0, sizeof v);
        mk_kv(ctx, ev, rest, &v, false);
        if (v.type.len) hm_ev_set(ev, HM_F_EVENT_ID_VENDOR, v.type);
        if (v.msg.len) hm_ev_set(ev, HM_F_MESSAGE, v.msg);
        for (const mk_type_verb *t = mk_types; t->type; t++) {
            if (!hm_str_eq_c(v.type, t->type)) continue;
            mk_origin(ev, t->kind, "events");
            mk_ev(ev, t->event, t->outcome);
            if (hm_str_starts(v.type, "8021x"))
                hm_ev_set_c(ev, HM_F_AUTH_METHOD, "802.1x");
            else if (hm_str_eq_c(v.type, "splash_auth"))
                hm_ev_set_c(ev, HM_F_AUTH_METHOD, "splash");
            if (v.msg.len) mk_anyconnect_msg(ev, v.msg);
            return;
        }
        if (hm_str_eq_c(v.type, "vpn_connectivity_change")) {
            mk_origin(ev, 2, "events");
            bool up = hm_str_eq_c(v.connectivity, "true");
            mk_ev(ev, up ? "vpn_tunnel_up" : "vpn_tunnel_down", NULL);
            hm_dec_extra(ctx, ev, HM_STR_LIT("connectivity"), v.connectivity);
            return;
        }
        if (hm_str_eq_c(v.type, "anyconnect_vpn_session_manager")) {
            mk_origin(ev, 2, "events");
            mk_ev(ev, hm_str_icontains(v.msg, "disconnected") ? "vpn_disconnect" : "vpn_event",
                  NULL);
            mk_anyconnect_msg(ev, v.msg);
            return;
        }
        mk_origin(ev, 0, "events");
        mk_ev(ev, "network_event", NULL);
        return;
    }
    /* free text */
    hm_ev_set(ev, HM_F_MESSAGE, rest);
    hm_str w = mk_word(rest);
    for (const mk_type_verb *t = mk_types; t->type; t++) {
        if (!hm_str_eq_c(w, t->type)) continue;
        /* "client_vpn_connect user id 'x' local ip A connected from B" */
        hm_ev_set(ev, HM_F_EVENT_ID_VENDOR, w);
        mk_origin(ev, t->kind, "events");
        mk_ev(ev, t->event, t->outcome);
        hm_str u = mk_after(rest, "user id ");
        if (u.len) hm_ev_set(ev, HM_F_USER, u);
        mk_set_ip(ev, HM_F_NAT_IP, mk_after(rest, "local ip "));
        mk_set_ip(ev, HM_F_SRC_IP, mk_after(rest, "from "));
        return;
    }
    if (hm_str_starts(rest, "Site-to-Site VPN")) {
        mk_origin(ev, 2, "events");
        mk_ev(ev, "vpn_negotiate", NULL);
        return;
    }
    if (hm_str_starts(rest, "dhcp lease of ip ")) {
        mk_origin(ev, 0, "events");
        mk_ev(ev, "dhcp_lease", "success");
        mk_set_ip(ev, HM_F_SRC_IP, mk_after(rest, "dhcp lease of ip "));
        hm_str m = mk_after(rest, "client mac ");
        if (m.len) hm_ev_set(ev, HM_F_SRC_MAC, m);
        return;
    }
    if (hm_str_starts(rest, "dhcp no offers for mac ")) {
        mk_origin(ev, 0, "events");
        mk_ev(ev, "dhcp_no_offer", "failure");
        hm_str m = mk_after(rest, "for mac ");
        if (m.len) hm_ev_set(ev, HM_F_SRC_MAC, m);
        mk_set_ip(ev, HM_F_DST_IP, mk_after(rest, "host = "));
        return;
    }
    if (hm_str_starts(rest, "Blocked ARP Packet from ")) {
        mk_origin(ev, 3, "events");
        mk_ev(ev, "arp_blocked", "failure");
        hm_str m = mk_after(rest, "Packet from ");
        if (m.len) hm_ev_set(ev, HM_F_SRC_MAC, m);
        mk_set_ip(ev, HM_F_SRC_IP, mk_after(rest, "with IP "));
        return;
    }
    mk_origin(ev, 0, "events");
    mk_ev(ev, "system_event", NULL);
}

static int mk_decode(hm_decode_ctx *ctx, hm_event *ev) {
    hm_str b = ctx->hdr->body;
    hm_str cat = mk_word(b);
    if (!cat.len) {
        ctx->reason = "meraki: empty body";
        return HM_EPARSE;
    }
    hm_str rest = b;
    rest.p += cat.len;
    rest.len -= cat.len;
    rest = hm_str_trim(rest);

    if (hm_str_eq_c(cat, "events")) {
        mk_events(ctx, ev, rest);
        return HM_OK;
    }
    mk_vals v;
    memset(&v, 0, sizeof v);
    if (hm_str_eq_c(cat, "urls")) {
        mk_origin(ev, 5, "urls");
        int64_t rq = hm_str_find_s(rest, "request: ");
        hm_str kvpart = rest;
        if (rq >= 0) kvpart.len = (uint32_t)rq;
        mk_kv(ctx, ev, kvpart, &v, false);
        if (rq >= 0) {
            hm_str r = hm_str_trim((hm_str){rest.p + rq + 9, rest.len - (uint32_t)rq - 9});
            int64_t sp = hm_str_find(r, ' ');
            if (sp > 0) {
                hm_ev_set(ev, HM_F_HTTP_METHOD, (hm_str){r.p, (uint32_t)sp});
                r = hm_str_trim((hm_str){r.p + sp + 1, r.len - (uint32_t)sp - 1});
            }
            if (r.len) {
                hm_ev_set(ev, HM_F_URL, r);
                hm_str d = r;
                int64_t sch = hm_str_find_s(d, "://");
                if (sch >= 0) d = (hm_str){d.p + sch + 3, d.len - (uint32_t)sch - 3};
                int64_t sl = hm_str_find(d, '/');
                if (sl >= 0) d.len = (uint32_t)sl;
                int64_t co = hm_str_find(d, ':');
                if (co >= 0) d.len = (uint32_t)co;
                if (d.len) hm_ev_set(ev, HM_F_DOMAIN, d);
            }
        }
        mk_ev(ev, "web_allow", "success");
        return HM_OK;
    }
    if (hm_str_eq_c(cat, "ids-alerts") || hm_str_eq_c(cat, "security_event")) {
        hm_str sub = {0};
        hm_str kvpart = rest;
        if (hm_str_eq_c(cat, "security_event")) {
            sub = mk_word(rest);
            kvpart.p += sub.len;
            kvpart.len -= sub.len;
            hm_ev_set(ev, HM_F_EVENT_ID_VENDOR, sub);
        }
        int64_t ms = hm_str_find_s(kvpart, "message: ");
        hm_str text = {0};
        if (ms >= 0) {
            text = hm_str_trim((hm_str){kvpart.p + ms + 9, kvpart.len - (uint32_t)ms - 9});
            kvpart.len = (uint32_t)ms;
        }
        mk_kv(ctx, ev, kvpart, &v, false);
        if (text.len) hm_ev_set(ev, HM_F_MESSAGE, text);
        if (v.decision.len) hm_ev_set(ev, HM_F_ACTION, v.decision);
        bool blocked =
            hm_str_eq_c(v.decision, "blocked") || hm_str_eq_c(hm_ev_get(ev, HM_F_ACTION), "block");
        if (hm_str_icontains(sub, "file") || hm_str_icontains(sub, "disposition")) {
            mk_origin(ev, 3, hm_str_eq_c(cat, "ids-alerts") ? "ids-alerts" : "security_event");
            mk_ev(ev, "malware_detected", blocked ? "failure" : "unknown");
        } else {
            mk_origin(ev, 3, hm_str_eq_c(cat, "ids-alerts") ? "ids-alerts" : "security_event");
            mk_ev(ev, "ips_alert", blocked ? "failure" : "unknown");
        }
        return HM_OK;
    }
    if (hm_str_eq_c(cat, "airmarshal_events")) {
        mk_origin(ev, 3, "airmarshal_events");
        mk_kv(ctx, ev, rest, &v, true);
        if (v.type.len) hm_ev_set(ev, HM_F_EVENT_ID_VENDOR, v.type);
        mk_ev(ev,
              hm_str_icontains(v.type, "rogue") || hm_str_icontains(v.type, "spoof")
                  ? "rogue_ap"
                  : "wifi_radio_event",
              NULL);
        return HM_OK;
    }
    /* flows, firewall, vpn_firewall, cellular_firewall, ip_flow_start/end */
    mk_origin(ev, 4, NULL);
    hm_ev_set(ev, HM_F_SERVICE, cat);
    hm_str first = mk_word(rest);
    int64_t pt = hm_str_find_s(rest, "pattern: ");
    hm_str kvpart = rest;
    if (pt >= 0) {
        v.pattern = hm_str_trim((hm_str){rest.p + pt + 9, rest.len - (uint32_t)pt - 9});
        kvpart.len = (uint32_t)pt;
        hm_ev_set(ev, HM_F_RULE_VENDOR, v.pattern);
    }
    mk_kv(ctx, ev, kvpart, &v, false);
    hm_str pw = mk_word(v.pattern);
    bool deny = hm_str_eq_c(first, "deny") || hm_str_eq_c(pw, "deny") || hm_str_eq_c(pw, "0");
    bool allow = hm_str_eq_c(first, "allow") || hm_str_eq_c(pw, "allow") || hm_str_eq_c(pw, "1");
    if (hm_str_eq_c(first, "allow") || hm_str_eq_c(first, "deny"))
        hm_ev_set(ev, HM_F_ACTION, first);
    else if (pw.len && (hm_str_eq_c(pw, "allow") || hm_str_eq_c(pw, "deny")))
        hm_ev_set(ev, HM_F_ACTION, pw);
    if (hm_str_eq_c(cat, "ip_flow_end"))
        mk_ev(ev, "traffic_end", "success");
    else if (deny)
        mk_ev(ev, "traffic_deny", "failure");
    else if (allow || hm_str_eq_c(cat, "ip_flow_start"))
        mk_ev(ev, "traffic_allow", "success");
    else
        mk_ev(ev, "firewall_event", NULL);
    return HM_OK;
}

const hm_decoder_ops hm_dec_meraki = {
    .abi = HM_DECODER_ABI,
    .name = "meraki",
    .description = "Cisco Meraki MX/MR/MS syslog (events, flows, urls, IDS, air marshal)",
    .probe = mk_probe,
    .decode = mk_decode,
};
