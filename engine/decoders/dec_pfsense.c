/* dec_pfsense.c - pfSense / OPNsense `filterlog` CSV (FreeBSD pf packet filter log).
 *
 * Grammar (pfSense filterlog format, positional, no quoting):
 *   rule,subrule,anchor,tracker,interface,reason,action,direction,ipversion,
 *   IPv4: tos,ecn,ttl,id,offset,flags,protonum,protoname,length,src,dst,
 *   IPv6: class,flowlabel,hoplimit,protoname,protonum,length,src,dst,
 *   then TCP: sport,dport,datalen,tcpflags,seq,ack,window,urg,options
 *        UDP: sport,dport,datalen
 *        ICMP: icmptype,(request|reply: id,seq | unreachproto: dst,proto | ...)
 *        CARP: type,ttl,vhid,version,advskew,advbase
 * `tracker` is the stable rule id (rule_vendor); `rule` is only the ruleset position.
 * docs/decoders/pfsense.md */
#include "../decode.h"

#define PF_MAXF 48

/* Fields between commas; the last runs to the end. Commas are found 16 bytes at a time as a
 * bit mask and the fields cut from its set bits: no per-byte branch that mispredicts at
 * every (short, variable) field end. */
static int pf_split(hm_str b, hm_str *f, int max) {
    int n = 0;
    uint32_t st = 0, i = 0;
    if (max <= 0) return 0;
#if defined(__SSE2__)
    for (; i + 16 <= b.len; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(b.p + i));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(',')));
        while (m) {
            uint32_t c = i + (uint32_t)__builtin_ctz(m);
            f[n++] = (hm_str){b.p + st, c - st};
            if (n == max) return n;
            st = c + 1;
            m &= m - 1;
        }
    }
#endif
    for (; i < b.len; i++) {
        if (b.p[i] == ',') {
            f[n++] = (hm_str){b.p + st, i - st};
            if (n == max) return n;
            st = i + 1;
        }
    }
    f[n++] = (hm_str){b.p + st, b.len - st};
    return n;
}

static bool pf_num(hm_str s, uint64_t *out) {
    if (s.len == 0 || s.len > 9) return false;
    uint64_t v = 0;
    for (uint32_t i = 0; i < s.len; i++) {
        unsigned d = (unsigned)(s.p[i] - '0');
        if (d > 9) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static const char *pf_proto(uint64_t n) {
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
    case 103:
        return "pim";
    case 112:
        return "carp";
    case 132:
        return "sctp";
    default:
        return NULL;
    }
}

static int pf_probe(hm_decode_ctx *ctx, const hm_syslog_hdr *h) {
    HM_UNUSED(ctx);
    if (hm_str_eq_c(h->app, "filterlog")) return 100;
    /* header-less relay of the CSV body: digits, then the action and direction columns */
    hm_str b = h->body;
    if (b.len < 20 || (unsigned)(b.p[0] - '0') > 9) return 0;
    hm_str f[10];
    int n = pf_split((hm_str){b.p, b.len < 120 ? b.len : 120}, f, 10);
    if (n < 9) return 0;
    bool act =
        hm_str_eq_c(f[6], "pass") || hm_str_eq_c(f[6], "block") || hm_str_eq_c(f[6], "match");
    bool dir = hm_str_eq_c(f[7], "in") || hm_str_eq_c(f[7], "out");
    bool ver = hm_str_eq_c(f[8], "4") || hm_str_eq_c(f[8], "6");
    return act && dir && ver ? 60 : 0;
}

/* k: a string literal (its length is then a compile-time constant) */
#define pf_extra(ctx, ev, k, v) pf_extra_s(ctx, ev, HM_STR_LIT(k), v)
static inline void pf_extra_s(hm_decode_ctx *ctx, hm_event *ev, hm_str k, hm_str v) {
    if (v.len) hm_dec_extra(ctx, ev, k, v);
}

static int pf_decode(hm_decode_ctx *ctx, hm_event *ev) {
    hm_str f[PF_MAXF];
    int n = pf_split(hm_str_trim(ctx->hdr->body), f, PF_MAXF);
    if (n < 9) {
        ctx->reason = "pfsense: filterlog body has fewer than 9 CSV fields";
        return HM_EPARSE;
    }
    hm_dec_origin(ev, HM_SRC_FIREWALL, "netgate", "pfsense", "firewall", "filterlog");
    hm_str action = f[6], dir = f[7];
    pf_extra(ctx, ev, "rule", f[0]);
    pf_extra(ctx, ev, "subrule", f[1]);
    pf_extra(ctx, ev, "anchor", f[2]);
    if (f[3].len) hm_ev_set(ev, HM_F_RULE_VENDOR, f[3]);
    pf_extra(ctx, ev, "interface", f[4]);
    if (f[4].len) {
        if (hm_str_eq_c(dir, "out"))
            hm_ev_set(ev, HM_F_DST_ZONE, f[4]);
        else
            hm_ev_set(ev, HM_F_SRC_ZONE, f[4]);
    }
    if (f[5].len) hm_ev_set(ev, HM_F_REASON, f[5]);
    if (action.len) hm_ev_set(ev, HM_F_ACTION, action);
    pf_extra(ctx, ev, "direction", dir);
    pf_extra(ctx, ev, "ip_version", f[8]);

    if (hm_str_eq_c(action, "pass")) {
        hm_ev_set_c(ev, HM_F_EVENT, "traffic_allow");
        hm_ev_set_c(ev, HM_F_OUTCOME, "success");
    } else if (hm_str_eq_c(action, "block")) {
        hm_ev_set_c(ev, HM_F_EVENT, "traffic_deny");
        hm_ev_set_c(ev, HM_F_OUTCOME, "failure");
    } else {
        hm_ev_set_c(ev, HM_F_EVENT, "firewall_event");
    }

    int pnum_i, pname_i, len_i, src_i, r;
    if (hm_str_eq_c(f[8], "6")) {
        pf_extra(ctx, ev, "class", n > 9 ? f[9] : (hm_str){0});
        pf_extra(ctx, ev, "flow_label", n > 10 ? f[10] : (hm_str){0});
        pf_extra(ctx, ev, "hop_limit", n > 11 ? f[11] : (hm_str){0});
        pname_i = 12, pnum_i = 13, len_i = 14, src_i = 15, r = 17;
    } else if (hm_str_eq_c(f[8], "4")) {
        pf_extra(ctx, ev, "tos", n > 9 ? f[9] : (hm_str){0});
        pf_extra(ctx, ev, "ttl", n > 11 ? f[11] : (hm_str){0});
        pf_extra(ctx, ev, "ip_id", n > 12 ? f[12] : (hm_str){0});
        pf_extra(ctx, ev, "ip_flags", n > 14 ? f[14] : (hm_str){0});
        pnum_i = 15, pname_i = 16, len_i = 17, src_i = 18, r = 20;
    } else {
        return HM_OK; /* unknown IP version: header columns only */
    }
    if (n <= src_i + 1) return HM_OK; /* truncated before the addresses */
    uint64_t pnum = 0;
    bool have_pnum = pf_num(f[pnum_i], &pnum);
    const char *pn = have_pnum ? pf_proto(pnum) : NULL;
    if (pn)
        hm_ev_set_c(ev, HM_F_PROTO, pn);
    else if (f[pname_i].len)
        hm_ev_set(ev, HM_F_PROTO, f[pname_i]);
    pf_extra(ctx, ev, "length", f[len_i]);
    if (f[src_i].len) hm_ev_set(ev, HM_F_SRC_IP, f[src_i]);
    if (f[src_i + 1].len) hm_ev_set(ev, HM_F_DST_IP, f[src_i + 1]);

    if (!have_pnum) return HM_OK;
    if (pnum == 6 || pnum == 17 || pnum == 132) {
        if (n > r && f[r].len) hm_ev_set(ev, HM_F_SRC_PORT, f[r]);
        if (n > r + 1 && f[r + 1].len) hm_ev_set(ev, HM_F_DST_PORT, f[r + 1]);
        if (n > r + 2) pf_extra(ctx, ev, "data_length", f[r + 2]);
        if (pnum == 6) {
            if (n > r + 3) pf_extra(ctx, ev, "tcp_flags", f[r + 3]);
            if (n > r + 4) pf_extra(ctx, ev, "seq", f[r + 4]);
            if (n > r + 6) pf_extra(ctx, ev, "window", f[r + 6]);
            if (n > r + 8) pf_extra(ctx, ev, "tcp_options", f[r + 8]);
        }
    } else if (pnum == 1 || pnum == 58) {
        if (n > r) {
            hm_str t = f[r];
            pf_extra(ctx, ev, "icmp_type", t);
            if ((hm_str_eq_c(t, "request") || hm_str_eq_c(t, "reply")) && n > r + 2) {
                pf_extra(ctx, ev, "icmp_id", f[r + 1]);
                pf_extra(ctx, ev, "icmp_seq", f[r + 2]);
            } else if (hm_str_starts(t, "unreach") && n > r + 1) {
                pf_extra(ctx, ev, "icmp_dst", f[r + 1]);
            }
        }
    } else if (pnum == 112) {
        if (n > r) pf_extra(ctx, ev, "carp_type", f[r]);
        if (n > r + 2) pf_extra(ctx, ev, "vhid", f[r + 2]);
    } else if (n > r) {
        pf_extra(ctx, ev, "proto_data", f[r]);
    }
    return HM_OK;
}

static const char *const pfsense_tags[] = {"filterlog", NULL};

const hm_decoder_ops hm_dec_pfsense = {
    .abi = HM_DECODER_ABI,
    .name = "pfsense",
    .tags = pfsense_tags,
    .description = "pfSense/OPNsense filterlog CSV (pf packet filter, IPv4/IPv6)",
    .probe = pf_probe,
    .decode = pf_decode,
};
