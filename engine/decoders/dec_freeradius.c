/* dec_freeradius.c - FreeRADIUS `Auth:` lines, tag `radiusd` / `freeradius` (or a radius.log
 * line "Tue Feb 11 07:58:10 2025 : Auth: ..."):
 *   Auth: (50340) Login OK: [s2124272] (from client wlc-hs01 port 0 cli 69-C5-6B-CC-2E-EF)
 *   Auth: (50019) Login incorrect (pap: Authentication failed): [svc-copier] (from client
 *         fgt-vpn-dc port 0 cli 10.10.5.20)
 *   Auth: (7) Login OK: [bob/<via Auth-Type = eap>] (from client wlc port 0 via TLS tunnel)
 * user from the brackets (a logged password after '/' is dropped, never stored), nas = the
 * client, cli -> src_ip when an IP (VPN concentrators) or src_mac when a MAC (Wi-Fi
 * controllers), reason = the parenthesized text. Other radiusd lines decode as radius_message. */
#include "../decode.h"

static const char *find(const char *a, const char *e, const char *needle) {
    size_t n = strlen(needle);
    if (a >= e) return NULL;
    return memmem(a, (size_t)(e - a), needle, n);
}

/* "Www Mmm dd HH:MM:SS YYYY : " at the start of a radius.log line -> local time; returns
 * bytes consumed or 0. */
static size_t ctime_prefix(hm_decode_ctx *ctx, hm_event *ev, hm_str b) {
    if (b.len < 27 || b.p[3] != ' ' || b.p[7] != ' ') return 0;
    int mo = hm_month_from_abbr(b.p + 4);
    if (!mo) return 0;
    const char *p = b.p + 8;
    int day = 0;
    if (*p == ' ') p++;
    while (*p >= '0' && *p <= '9' && day < 100) day = day * 10 + (*p++ - '0');
    if (*p++ != ' ') return 0;
    if (b.p + b.len - p < 17) return 0;
    int v[3] = {0};
    for (int i = 0; i < 3; i++) {
        if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') return 0;
        v[i] = (p[0] - '0') * 10 + (p[1] - '0');
        p += 2;
        if (i < 2 && *p++ != ':') return 0;
    }
    if (*p++ != ' ') return 0;
    int y = 0;
    for (int i = 0; i < 4; i++) {
        if (p[i] < '0' || p[i] > '9') return 0;
        y = y * 10 + (p[i] - '0');
    }
    p += 4;
    if (day < 1 || day > 31 || v[0] > 23 || v[1] > 59 || v[2] > 60) return 0;
    hm_dec_time_local(ctx, ev, hm_civil_to_epoch(y, mo, day, v[0], v[1], v[2]) * 1000000000LL);
    while (p < b.p + b.len && (*p == ' ' || *p == ':')) p++;
    return (size_t)(p - b.p);
}

static int radius_probe(hm_decode_ctx *ctx, const hm_syslog_hdr *h) {
    HM_UNUSED(ctx);
    if (hm_str_eq_c(h->app, "radiusd") || hm_str_eq_c(h->app, "freeradius")) return 100;
    if (h->body.len > 30 && memmem(h->body.p, h->body.len < 48 ? h->body.len : 48, " : Auth: ", 9))
        return 70;
    return 0;
}

static int radius_decode(hm_decode_ctx *ctx, hm_event *ev) {
    hm_str b = hm_str_trim(ctx->hdr->body);
    size_t used = ctime_prefix(ctx, ev, b);
    b = (hm_str){b.p + used, (uint32_t)(b.len - used)};
    hm_dec_origin(ev, HM_SRC_RADIUS, "freeradius", "freeradius", "authentication", NULL);
    const char *p = b.p, *e = b.p + b.len;
    if (!hm_str_starts(b, "Auth: ")) {
        /* Info:/Error:/Warning: lines */
        hm_ev_set_c(ev, HM_F_EVENT, "radius_message");
        hm_ev_set(ev, HM_F_MESSAGE, b);
        return HM_OK;
    }
    p += 6;
    if (p < e && *p == '(') { /* request number */
        const char *a = ++p;
        while (p < e && *p != ')') p++;
        if (p > a) hm_dec_extra(ctx, ev, HM_STR_LIT("request_id"), (hm_str){a, (uint32_t)(p - a)});
        if (p < e) p++;
        while (p < e && *p == ' ') p++;
    }
    /* result text up to ": [" (its parenthesized reason may itself contain parentheses) */
    const char *br = find(p, e, ": [");
    if (!br) {
        hm_ev_set_c(ev, HM_F_EVENT, "radius_message");
        hm_ev_set(ev, HM_F_MESSAGE, (hm_str){p, (uint32_t)(e - p)});
        return HM_OK;
    }
    hm_str result = {p, (uint32_t)(br - p)};
    hm_str reason = {0};
    const char *lp = memchr(p, '(', (size_t)(br - p));
    if (lp && br[-1] == ')') {
        reason = (hm_str){lp + 1, (uint32_t)(br - 1 - (lp + 1))};
        result = hm_str_trim((hm_str){p, (uint32_t)(lp - p)});
    }
    if (hm_str_starts(result, "Login OK")) {
        hm_ev_set_c(ev, HM_F_EVENT, "login_success");
        hm_ev_set_c(ev, HM_F_OUTCOME, "success");
    } else if (hm_str_starts(result, "Login incorrect") || hm_str_starts(result, "Invalid user") ||
               hm_str_starts(result, "Rejected")) {
        hm_ev_set_c(ev, HM_F_EVENT, "login_failure");
        hm_ev_set_c(ev, HM_F_OUTCOME, "failure");
        if (!reason.len && hm_str_starts(result, "Invalid user"))
            reason = HM_STR_LIT("invalid user");
    } else {
        hm_ev_set_c(ev, HM_F_EVENT, "radius_auth");
    }
    hm_ev_set(ev, HM_F_ACTION, result);
    if (reason.len) {
        hm_ev_set(ev, HM_F_REASON, reason);
        /* "pap: Authentication failed" -> pap; "rlm_pap: ..." -> pap */
        const char *q = reason.p, *re = reason.p + reason.len;
        while (q < re && ((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_')) q++;
        if (q > reason.p && q + 1 < re && q[0] == ':' && q[1] == ' ') {
            hm_str m = {reason.p, (uint32_t)(q - reason.p)};
            if (hm_str_starts(m, "rlm_")) m = (hm_str){m.p + 4, m.len - 4};
            if (m.len) hm_ev_set(ev, HM_F_AUTH_METHOD, m);
        }
    }
    /* [user] or [user/password] or [user/<via Auth-Type = eap>] */
    p = br + 3;
    const char *ue = find(p, e, "] (from client ");
    if (!ue) ue = find(p, e, "] (");
    if (!ue) {
        const char *q = e;
        while (q > p && q[-1] != ']') q--;
        ue = q > p ? q - 1 : e;
    }
    hm_str user = {p, (uint32_t)(ue - p)};
    const char *via = find(user.p, user.p + user.len, "/<");
    if (via) {
        user.len = (uint32_t)(via - user.p);
    } else {
        /* with auth_goodpass/auth_badpass the password follows the first '/' after the name;
         * machine accounts are "host/NAME" */
        const char *u0 = user.p;
        if (hm_str_starts(user, "host/")) u0 += 5;
        const char *sl = memchr(u0, '/', (size_t)(user.p + user.len - u0));
        if (sl) {
            user.len = (uint32_t)(sl - user.p);
            hm_dec_extra(ctx, ev, HM_STR_LIT("password_logged"), HM_STR_LIT("true"));
        }
    }
    if (user.len) hm_ev_set(ev, HM_F_USER, user);
    if (ue >= e) return HM_OK;
    p = ue + 1;
    /* (from client C port P cli X[ via TLS tunnel]) */
    const char *fc = find(p, e, "from client ");
    if (!fc) return HM_OK;
    p = fc + 12;
    const char *pe = e;
    if (pe > p && pe[-1] == ')') pe--;
    while (p < pe) {
        const char *a = p;
        while (p < pe && *p != ' ') p++;
        hm_str tok = {a, (uint32_t)(p - a)};
        while (p < pe && *p == ' ') p++;
        if (!hm_ev_has(ev, HM_F_NAS)) {
            hm_ev_set(ev, HM_F_NAS, tok);
            continue;
        }
        const char *va = p;
        while (p < pe && *p != ' ') p++;
        hm_str val = {va, (uint32_t)(p - va)};
        while (p < pe && *p == ' ') p++;
        if (hm_str_eq_c(tok, "port")) {
            hm_dec_extra(ctx, ev, HM_STR_LIT("nas_port"), val);
        } else if (hm_str_eq_c(tok, "cli")) {
            if (hm_str_is_mac(val))
                hm_ev_set(ev, HM_F_SRC_MAC, val); /* before is_ip: aa:bb:.. */
            else if (hm_str_is_ip(val))
                hm_ev_set(ev, HM_F_SRC_IP, val);
            else
                hm_dec_extra(ctx, ev, HM_STR_LIT("calling_station_id"), val);
        } else if (hm_str_eq_c(tok, "via")) {
            hm_dec_extra(ctx, ev, HM_STR_LIT("via"),
                         hm_str_trim((hm_str){va, (uint32_t)(pe - va)}));
            break;
        }
    }
    return HM_OK;
}

static const char *const freeradius_tags[] = {"radiusd", "freeradius", NULL};

const hm_decoder_ops hm_dec_freeradius = {
    .abi = HM_DECODER_ABI,
    .name = "freeradius",
    .tags = freeradius_tags,
    .description = "FreeRADIUS Auth: Login OK / Login incorrect lines (tag radiusd)",
    .probe = radius_probe,
    .decode = radius_decode,
};
