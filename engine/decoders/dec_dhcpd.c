/* dec_dhcpd.c - ISC dhcpd lease messages, tag `dhcpd`:
 *   DHCPDISCOVER from 5c:e7:7e:ef:dc:1b (CHROMEBOOK-5895) via 10.38.57.1[: network ...: no free
 * leases] DHCPOFFER on 10.38.57.241 to 5c:e7:7e:ef:dc:1b (CHROMEBOOK-5895) via 10.38.57.1
 *   DHCPREQUEST for 10.38.57.241 (10.0.0.5) from 5c:e7:7e:ef:dc:1b (CHROMEBOOK-5895) via eth0
 *   DHCPACK on 10.38.57.241 to 5c:e7:7e:ef:dc:1b (CHROMEBOOK-5895) via 10.38.57.1
 *   DHCPACK to 10.1.2.3 (5c:e7:7e:ef:dc:1b) via eth0          (reply to DHCPINFORM)
 *   DHCPNAK, DHCPRELEASE of IP from MAC ... (found), DHCPINFORM from IP via ..., DHCPDECLINE,
 *   BOOTREQUEST / BOOTREPLY
 * event dhcp_<type>, src_ip = the leased/requested/client address, src_mac = the client MAC
 * (printed by dhcpd without leading zeros), device_id = the client host name in parentheses,
 * dst_ip = the server identifier of a DHCPREQUEST, `via` (relay or interface) kept as a vendor
 * field, text after "via X:" -> reason. Other dhcpd lines decode as dhcp_message. */
#include "../decode.h"

static const struct {
    const char *vendor, *event, *outcome;
} dhcp_types[] = {
    {"DHCPDISCOVER", "dhcp_discover", NULL}, {"DHCPOFFER", "dhcp_offer", NULL},
    {"DHCPREQUEST", "dhcp_request", NULL},   {"DHCPACK", "dhcp_ack", "success"},
    {"DHCPNAK", "dhcp_nak", "failure"},      {"DHCPRELEASE", "dhcp_release", NULL},
    {"DHCPINFORM", "dhcp_inform", NULL},     {"DHCPDECLINE", "dhcp_decline", "failure"},
    {"DHCPEXPIRE", "dhcp_expire", NULL},     {"DHCPLEASEQUERY", "dhcp_leasequery", NULL},
    {"BOOTREQUEST", "bootp_request", NULL},  {"BOOTREPLY", "bootp_reply", NULL},
};

static int dhcpd_probe(hm_decode_ctx *ctx, const hm_syslog_hdr *h) {
    HM_UNUSED(ctx);
    if (hm_str_eq_c(h->app, "dhcpd")) return 100;
    if (!h->app.len &&
        (hm_str_starts(h->body, "DHCPACK on ") || hm_str_starts(h->body, "DHCPREQUEST for ") ||
         hm_str_starts(h->body, "DHCPDISCOVER from ")))
        return 60;
    return 0;
}

static int dhcpd_decode(hm_decode_ctx *ctx, hm_event *ev) {
    hm_str b = hm_str_trim(ctx->hdr->body);
    const char *p = b.p, *e = b.p + b.len;
    hm_dec_origin(ev, HM_SRC_DHCP, "isc", "dhcpd", "dhcp", "dhcpd");
    const char *a = p;
    while (p < e && *p != ' ') p++;
    hm_str type = {a, (uint32_t)(p - a)};
    const char *event = NULL, *outcome = NULL;
    for (size_t i = 0; i < HM_ARRAY_LEN(dhcp_types); i++)
        if (hm_str_eq_c(type, dhcp_types[i].vendor)) {
            event = dhcp_types[i].event;
            outcome = dhcp_types[i].outcome;
            break;
        }
    if (!event) {
        hm_ev_set(ev, HM_F_MESSAGE, b);
        if (hm_str_starts(b, "Abandoning IP address ")) {
            hm_str ip = {b.p + 22, 0};
            while (ip.p + ip.len < e && ip.p[ip.len] != ':' && ip.p[ip.len] != ' ') ip.len++;
            /* "10.1.2.3:" the colon ends the IPv4 address */
            if (hm_str_is_ip(ip)) hm_ev_set(ev, HM_F_SRC_IP, ip);
            hm_ev_set_c(ev, HM_F_EVENT, "dhcp_lease_abandoned");
        } else {
            hm_ev_set_c(ev, HM_F_EVENT, "dhcp_message");
        }
        return HM_OK;
    }
    hm_ev_set_c(ev, HM_F_EVENT, event);
    hm_ev_set(ev, HM_F_EVENT_ID_VENDOR, type);
    if (outcome) hm_ev_set_c(ev, HM_F_OUTCOME, outcome);

    enum { K_NONE, K_ADDR, K_VIA } kw = K_NONE;
    int last = 0; /* 1 ip, 2 mac, 3 host name, 4 via: what the previous value was */
    bool is_request = hm_str_eq_c(type, "DHCPREQUEST");
    while (p < e) {
        while (p < e && *p == ' ') p++;
        if (p >= e) break;
        if (*p == '(') {
            const char *q = p + 1;
            const char *c = memchr(q, ')', (size_t)(e - q));
            if (!c) c = e;
            hm_str in = {q, (uint32_t)(c - q)};
            if (in.len) {
                if (hm_str_is_mac(in))
                    hm_ev_set_default(ev, HM_F_SRC_MAC, in);
                else if (last == 1 && is_request && hm_str_is_ip(in))
                    hm_ev_set_default(ev, HM_F_DST_IP, in);
                else if (hm_str_eq_c(in, "found") || hm_str_eq_c(in, "not found"))
                    hm_dec_extra(ctx, ev, HM_STR_LIT("lease_status"), in);
                else if (last == 2)
                    hm_ev_set_default(ev, HM_F_DEVICE_ID, in);
                else
                    hm_dec_extra(ctx, ev, HM_STR_LIT("detail"), in);
            }
            p = c < e ? c + 1 : e;
            last = 0;
            continue;
        }
        const char *w = p;
        while (p < e && *p != ' ') p++;
        hm_str tok = {w, (uint32_t)(p - w)};
        if (hm_str_eq_c(tok, "on") || hm_str_eq_c(tok, "of") || hm_str_eq_c(tok, "for") ||
            hm_str_eq_c(tok, "to") || hm_str_eq_c(tok, "from")) {
            kw = K_ADDR;
            continue;
        }
        if (hm_str_eq_c(tok, "via")) {
            kw = K_VIA;
            continue;
        }
        bool colon = tok.len && tok.p[tok.len - 1] == ':';
        if (colon) tok.len--;
        if (kw == K_VIA) {
            hm_dec_extra(ctx, ev, HM_STR_LIT("via"), tok);
            kw = K_NONE;
            last = 4;
        } else if (kw == K_ADDR) {
            if (hm_str_is_mac(tok)) {
                hm_ev_set_default(ev, HM_F_SRC_MAC, tok);
                last = 2;
            } else if (hm_str_is_ip(tok)) {
                hm_ev_set_default(ev, HM_F_SRC_IP, tok);
                last = 1;
            } else {
                /* BOOTREPLY "to HOST (MAC)" */
                hm_ev_set_default(ev, HM_F_DEVICE_ID, tok);
                last = 3;
            }
            kw = K_NONE;
        } else {
            last = 0;
        }
        if (colon) {
            hm_str r = hm_str_trim((hm_str){p, (uint32_t)(e - p)});
            if (r.len) {
                hm_ev_set(ev, HM_F_REASON, r);
                if (hm_str_find_s(r, "no free leases") >= 0)
                    hm_ev_set_c(ev, HM_F_OUTCOME, "failure");
            }
            break;
        }
    }
    return HM_OK;
}

static const char *const dhcpd_tags[] = {"dhcpd", NULL};

const hm_decoder_ops hm_dec_dhcpd = {
    .abi = HM_DECODER_ABI,
    .name = "dhcpd",
    .tags = dhcpd_tags,
    .description =
        "ISC dhcpd DHCPDISCOVER/OFFER/REQUEST/ACK/NAK/RELEASE/INFORM/DECLINE lines (tag dhcpd)",
    .probe = dhcpd_probe,
    .decode = dhcpd_decode,
};
