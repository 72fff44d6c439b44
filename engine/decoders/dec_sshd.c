/* dec_sshd.c - OpenSSH server lines, tag `sshd` (also `sshd-session`, `sshd-auth` of
 * OpenSSH 9.8+). Recognized messages and their event verbs (docs/decoders/sshd.md):
 *   Accepted|Failed|Postponed METHOD for [invalid user ]U from IP port P ssh2[: KEY]
 *                                            -> login_success / login_failure / auth_postponed
 *   Invalid user U from IP [port P]          -> invalid_user
 *   User U from IP not allowed because ...   -> user_not_allowed
 *   Connection closed|reset by [authenticating user U |invalid user U |user U ]IP port P [preauth]
 *                                            -> connection_closed / connection_reset
 *   Disconnected from [...]IP port P         -> disconnected
 *   Disconnecting [...]IP port P: REASON     -> disconnecting
 *   Received disconnect from IP port P:CODE: TEXT -> disconnect_received
 *   error: maximum authentication attempts exceeded for ... -> max_auth_attempts_exceeded
 *   pam_unix(sshd:auth): authentication failure; ... rhost=IP user=U -> pam_auth_failure
 *   pam_unix(sshd:session): session opened|closed for user U -> session_opened / session_closed
 *   Did not receive identification string, Unable to negotiate, Timeout before authentication,
 *   Connection from IP port P on IP port P, Server listening, Received signal
 * Anything else decodes as sshd_message (with src_ip when a "from IP" is found). Lines that
 * rsyslog folded into "message repeated N times: [ ... ]" are unwrapped. */
#include "../decode.h"

typedef struct {
    const char *p, *e;
} scan;

static bool lit(scan *s, const char *l) {
    size_t n = strlen(l);
    if ((size_t)(s->e - s->p) >= n && !memcmp(s->p, l, n)) {
        s->p += n;
        return true;
    }
    return false;
}

static hm_str word(scan *s) {
    while (s->p < s->e && *s->p == ' ') s->p++;
    const char *a = s->p;
    while (s->p < s->e && *s->p != ' ') s->p++;
    return (hm_str){a, (uint32_t)(s->p - a)};
}

static hm_str rest(const scan *s) {
    const char *p = s->p;
    while (p < s->e && *p == ' ') p++;
    return (hm_str){p, (uint32_t)(s->e - p)};
}

static const char *rfind(const char *a, const char *e, const char *needle) {
    size_t n = strlen(needle);
    if ((size_t)(e - a) < n) return NULL;
    for (const char *q = e - n; q >= a; q--)
        if (!memcmp(q, needle, n)) return q;
    return NULL;
}

static hm_str digits_prefix(hm_str s) {
    uint32_t i = 0;
    while (i < s.len && s.p[i] >= '0' && s.p[i] <= '9') i++;
    return (hm_str){s.p, i};
}

static void set_port(hm_event *ev, hm_field_id id, hm_str port) {
    if (port.len) hm_ev_set(ev, id, port);
}

static void set_ip(hm_event *ev, hm_str ip) {
    if (hm_str_is_ip(ip)) hm_ev_set(ev, HM_F_SRC_IP, ip);
}

/* Strip a trailing " [preauth]" (or "[preauth]"). */
static hm_str strip_preauth(hm_str s) {
    s = hm_str_trim(s);
    if (s.len >= 9 && !memcmp(s.p + s.len - 9, "[preauth]", 9)) s.len -= 9;
    return hm_str_trim(s);
}

/* "[authenticating user U |invalid user U |user U ]IP [port P][: REASON]" */
static void peer(hm_decode_ctx *ctx, hm_event *ev, hm_str s) {
    HM_UNUSED(ctx);
    s = strip_preauth(s);
    const char *a = s.p, *e = s.p + s.len;
    const char *pt = memmem(a, (size_t)(e - a), " port ", 6);
    const char *ip_end = pt ? pt : e;
    hm_str tail = {0};
    if (pt) {
        hm_str after = {pt + 6, (uint32_t)(e - pt - 6)};
        hm_str port = digits_prefix(after);
        if (port.len) hm_ev_set(ev, HM_F_SRC_PORT, port);
        const char *q = after.p + port.len;
        if (q < e && *q == ':') {
            q++;
            /* "Received disconnect ... port P:11: text" -> code, then text */
            hm_str code = digits_prefix((hm_str){q, (uint32_t)(e - q)});
            if (code.len && q + code.len < e && q[code.len] == ':') {
                hm_dec_extra(ctx, ev, HM_STR_LIT("disconnect_code"), code);
                q += code.len + 1;
            }
            tail = hm_str_trim((hm_str){q, (uint32_t)(e - q)});
        }
    } else {
        /* no port: "IP: reason" or just "IP" */
        const char *c = memmem(a, (size_t)(e - a), ": ", 2);
        if (c) {
            tail = hm_str_trim((hm_str){c + 2, (uint32_t)(e - c - 2)});
            ip_end = c;
        }
    }
    const char *ip_start = ip_end;
    while (ip_start > a && ip_start[-1] != ' ') ip_start--;
    set_ip(ev, (hm_str){ip_start, (uint32_t)(ip_end - ip_start)});
    hm_str who = hm_str_trim((hm_str){a, (uint32_t)(ip_start - a)});
    scan w = {who.p, who.p + who.len};
    hm_str user = {0};
    if (lit(&w, "authenticating user ")) {
        user = rest(&w);
    } else if (lit(&w, "invalid user ")) {
        user = rest(&w);
        hm_ev_set_c(ev, HM_F_REASON, "invalid_user");
    } else if (lit(&w, "user ")) {
        user = rest(&w);
    }
    if (user.len) hm_ev_set(ev, HM_F_USER, user);
    if (tail.len) hm_ev_set(ev, HM_F_REASON, tail);
}

/* "[invalid user ]U from IP[ port P][ ssh2][: KEY]" */
static void for_user_from(hm_decode_ctx *ctx, hm_event *ev, hm_str s) {
    s = strip_preauth(s);
    scan w = {s.p, s.p + s.len};
    if (lit(&w, "invalid user ") || lit(&w, "illegal user "))
        hm_ev_set_c(ev, HM_F_REASON, "invalid_user");
    const char *from = rfind(w.p, w.e, " from "), *ip;
    if (from) {
        if (from > w.p) hm_ev_set(ev, HM_F_USER, (hm_str){w.p, (uint32_t)(from - w.p)});
        ip = from + 6;
    } else if (lit(&w, "from ")) { /* empty user name: "Invalid user  from IP" */
        ip = w.p;
    } else {
        hm_str u = rest(&w);
        if (u.len) hm_ev_set(ev, HM_F_USER, u);
        return;
    }
    scan r = {ip, w.e};
    set_ip(ev, word(&r));
    if (lit(&r, " port ")) {
        hm_str port = word(&r);
        port = digits_prefix(port);
        if (port.len) hm_ev_set(ev, HM_F_SRC_PORT, port);
    }
    hm_str proto = word(&r);
    if (proto.len && proto.p[proto.len - 1] == ':') proto.len--;
    if (proto.len) hm_dec_extra(ctx, ev, HM_STR_LIT("ssh_protocol"), proto);
    hm_str key = rest(&r);
    if (key.len && key.p[0] == ':') key = hm_str_trim((hm_str){key.p + 1, key.len - 1});
    if (key.len) hm_dec_extra(ctx, ev, HM_STR_LIT("ssh_key"), key);
}

/* "... from IP[ port P] ..." or "[IP]" anywhere in s */
static void from_anywhere(hm_event *ev, hm_str s) {
    int64_t i = hm_str_find_s(s, " from ");
    if (i < 0) {
        int64_t lb = hm_str_find(s, '[');
        if (lb >= 0) {
            hm_str in = {s.p + lb + 1, (uint32_t)(s.len - lb - 1)};
            int64_t rb = hm_str_find(in, ']');
            if (rb > 0) set_ip(ev, (hm_str){in.p, (uint32_t)rb});
        }
        return;
    }
    scan r = {s.p + i + 6, s.p + s.len};
    hm_str ip = word(&r);
    while (ip.len && (ip.p[ip.len - 1] == ':' || ip.p[ip.len - 1] == ',')) ip.len--;
    set_ip(ev, ip);
    if (hm_ev_has(ev, HM_F_SRC_IP) && lit(&r, " port ")) {
        hm_str port = digits_prefix(word(&r));
        if (port.len) hm_ev_set(ev, HM_F_SRC_PORT, port);
    }
}

static void pam_kv(hm_decode_ctx *ctx, hm_event *ev, hm_str s) {
    hm_kv_iter it;
    hm_str k, v;
    hm_kv_iter_init(&it, s);
    while (hm_kv_next(&it, &k, &v)) {
        if (!v.len) continue;
        if (hm_str_eq_c(k, "user"))
            hm_ev_set(ev, HM_F_USER, v);
        else if (hm_str_eq_c(k, "rhost") && hm_str_is_ip(v))
            hm_ev_set(ev, HM_F_SRC_IP, v);
        else if (hm_str_eq_c(k, "tty"))
            hm_ev_set(ev, HM_F_TTY, v);
        else
            hm_dec_extra(ctx, ev, k, v);
    }
}

static void ev_set(hm_event *ev, const char *event, const char *outcome) {
    hm_ev_set_c(ev, HM_F_EVENT, event);
    if (outcome) hm_ev_set_c(ev, HM_F_OUTCOME, outcome);
}

static int sshd_probe(hm_decode_ctx *ctx, const hm_syslog_hdr *h) {
    HM_UNUSED(ctx);
    if (hm_str_eq_c(h->app, "sshd") || hm_str_eq_c(h->app, "sshd-session") ||
        hm_str_eq_c(h->app, "sshd-auth"))
        return 100;
    if (!h->app.len && (hm_str_starts(h->body, "Accepted password for ") ||
                        hm_str_starts(h->body, "Failed password for ") ||
                        hm_str_starts(h->body, "Accepted publickey for ")))
        return 60;
    return 0;
}

static int sshd_decode(hm_decode_ctx *ctx, hm_event *ev) {
    hm_str b = hm_str_trim(ctx->hdr->body);
    /* rsyslog repeat folding */
    if (hm_str_starts(b, "message repeated ")) {
        int64_t i = hm_str_find_s(b, ": [ ");
        if (i > 0) {
            hm_dec_extra(ctx, ev, HM_STR_LIT("repeated"),
                         digits_prefix((hm_str){b.p + 17, b.len - 17}));
            b = (hm_str){b.p + i + 4, (uint32_t)(b.len - i - 4)};
            if (b.len && b.p[b.len - 1] == ']') b.len--;
            b = hm_str_trim(b);
        }
    }
    hm_dec_origin(ev, HM_SRC_SSH, "openssh", "linux", "authentication", "sshd");
    scan s = {b.p, b.p + b.len};
    bool is_error = lit(&s, "error: ") || lit(&s, "fatal: ");
    if (is_error) hm_ev_set_c(ev, HM_F_SEVERITY_VENDOR, b.p[0] == 'e' ? "error" : "fatal");
    const char *start = s.p; /* after an error:/fatal: prefix */

    if (lit(&s, "Accepted ") || lit(&s, "Failed ") || lit(&s, "Postponed ")) {
        char k = *start;
        hm_str method = word(&s);
        if (lit(&s, " for ")) {
            if (method.len) hm_ev_set(ev, HM_F_AUTH_METHOD, method);
            for_user_from(ctx, ev, rest(&s));
            if (k == 'A')
                ev_set(ev, "login_success", "success");
            else if (k == 'F')
                ev_set(ev, "login_failure", "failure");
            else
                ev_set(ev, "auth_postponed", NULL);
            return HM_OK;
        }
        s.p = start; /* not the expected shape: generic below */
    }
    if (lit(&s, "Invalid user ") || lit(&s, "Illegal user ")) {
        for_user_from(ctx, ev, (hm_str){s.p, (uint32_t)(s.e - s.p)});
        hm_ev_set_c(ev, HM_F_REASON, "invalid_user");
        ev_set(ev, "invalid_user", "failure");
        return HM_OK;
    }
    if (lit(&s, "Connection closed by ")) {
        peer(ctx, ev, rest(&s));
        ev_set(ev, "connection_closed", NULL);
        return HM_OK;
    }
    if (lit(&s, "Connection reset by ")) {
        peer(ctx, ev, rest(&s));
        ev_set(ev, "connection_reset", NULL);
        return HM_OK;
    }
    if (lit(&s, "Disconnected from ")) {
        peer(ctx, ev, rest(&s));
        ev_set(ev, "disconnected", NULL);
        return HM_OK;
    }
    if (lit(&s, "Disconnecting ")) {
        peer(ctx, ev, rest(&s));
        hm_str r = hm_ev_get(ev, HM_F_REASON);
        ev_set(ev, "disconnecting",
               hm_str_find_s(r, "authentication failures") >= 0 ? "failure" : NULL);
        return HM_OK;
    }
    if (lit(&s, "Received disconnect from ")) {
        peer(ctx, ev, rest(&s));
        ev_set(ev, "disconnect_received", NULL);
        return HM_OK;
    }
    if (lit(&s, "maximum authentication attempts exceeded for ")) {
        for_user_from(ctx, ev, rest(&s));
        ev_set(ev, "max_auth_attempts_exceeded", "failure");
        return HM_OK;
    }
    if (lit(&s, "PAM: Authentication failure for ")) {
        for_user_from(ctx, ev, rest(&s));
        ev_set(ev, "pam_auth_failure", "failure");
        return HM_OK;
    }
    if (lit(&s, "User ")) {
        /* "User U from IP not allowed because not listed in AllowUsers" */
        hm_str r = rest(&s);
        int64_t na = hm_str_find_s(r, " not allowed because ");
        if (na > 0) {
            for_user_from(ctx, ev, (hm_str){r.p, (uint32_t)na});
            hm_ev_set(ev, HM_F_REASON,
                      hm_str_trim((hm_str){r.p + na + 1, (uint32_t)(r.len - na - 1)}));
            ev_set(ev, "user_not_allowed", "failure");
            return HM_OK;
        }
        s.p = start;
    }
    if (lit(&s, "pam_unix(") || lit(&s, "pam_sss(") || lit(&s, "pam_ldap(")) {
        hm_str r = rest(&s);
        hm_ev_set(ev, HM_F_MESSAGE, b);
        int64_t semi = hm_str_find(r, ';');
        if (hm_str_find_s(r, "authentication failure") >= 0) {
            if (semi >= 0) pam_kv(ctx, ev, (hm_str){r.p + semi + 1, (uint32_t)(r.len - semi - 1)});
            ev_set(ev, "pam_auth_failure", "failure");
        } else if (hm_str_find_s(r, "user unknown") >= 0) {
            ev_set(ev, "pam_user_unknown", "failure");
        } else if (hm_str_find_s(r, "session opened for user ") >= 0 ||
                   hm_str_find_s(r, "session closed for user ") >= 0) {
            bool opened = hm_str_find_s(r, "session opened") >= 0;
            int64_t i = hm_str_find_s(r, "for user ");
            scan u = {r.p + i + 9, r.p + r.len};
            const char *a = u.p;
            while (u.p < u.e && *u.p != ' ' && *u.p != '(') u.p++;
            if (u.p > a) hm_ev_set(ev, HM_F_USER, (hm_str){a, (uint32_t)(u.p - a)});
            ev_set(ev, opened ? "session_opened" : "session_closed", opened ? "success" : NULL);
        } else {
            ev_set(ev, "pam_message", NULL);
        }
        return HM_OK;
    }
    if (lit(&s, "PAM ")) {
        /* "PAM 2 more authentication failures; logname= uid=0 ... rhost=IP  user=root" */
        hm_str r = rest(&s);
        int64_t semi = hm_str_find(r, ';');
        if (semi > 0 && hm_str_find_s(r, "authentication failure") >= 0) {
            hm_dec_extra(ctx, ev, HM_STR_LIT("pam_more_failures"), digits_prefix(r));
            pam_kv(ctx, ev, (hm_str){r.p + semi + 1, (uint32_t)(r.len - semi - 1)});
            ev_set(ev, "pam_auth_failure", "failure");
            hm_ev_set(ev, HM_F_MESSAGE, b);
            return HM_OK;
        }
        s.p = start;
    }
    if (lit(&s, "Did not receive identification string from ")) {
        peer(ctx, ev, rest(&s));
        ev_set(ev, "no_identification", "failure");
        return HM_OK;
    }
    if (lit(&s, "Unable to negotiate with ")) {
        peer(ctx, ev, rest(&s));
        ev_set(ev, "negotiation_failed", "failure");
        return HM_OK;
    }
    if (lit(&s, "Timeout before authentication for ")) {
        peer(ctx, ev, rest(&s));
        ev_set(ev, "auth_timeout", "failure");
        return HM_OK;
    }
    if (lit(&s, "Connection from ")) {
        /* "Connection from IP port P on IP port P[ rdomain \"\"]" */
        hm_str ip = word(&s);
        set_ip(ev, ip);
        if (lit(&s, " port ")) set_port(ev, HM_F_SRC_PORT, digits_prefix(word(&s)));
        if (lit(&s, " on ")) {
            hm_str dip = word(&s);
            if (hm_str_is_ip(dip)) hm_ev_set(ev, HM_F_DST_IP, dip);
            if (lit(&s, " port ")) set_port(ev, HM_F_DST_PORT, digits_prefix(word(&s)));
        }
        ev_set(ev, "connection_opened", NULL);
        return HM_OK;
    }
    if (lit(&s, "Server listening on ")) {
        hm_str ip = word(&s);
        if (hm_str_is_ip(ip)) hm_ev_set(ev, HM_F_DST_IP, ip);
        if (lit(&s, " port ")) {
            hm_str port = word(&s);
            if (port.len && port.p[port.len - 1] == '.') port.len--;
            set_port(ev, HM_F_DST_PORT, digits_prefix(port));
        }
        ev_set(ev, "server_listening", NULL);
        return HM_OK;
    }
    if (lit(&s, "Received signal ")) {
        ev_set(ev, "server_stopped", NULL);
        hm_ev_set(ev, HM_F_MESSAGE, b);
        return HM_OK;
    }
    /* anything else */
    hm_ev_set(ev, HM_F_MESSAGE, b);
    from_anywhere(ev, b);
    ev_set(ev, "sshd_message", NULL);
    return HM_OK;
}

static const char *const sshd_tags[] = {"sshd", "sshd-session", "sshd-auth", NULL};

const hm_decoder_ops hm_dec_sshd = {
    .abi = HM_DECODER_ABI,
    .name = "sshd",
    .tags = sshd_tags,
    .description = "OpenSSH server authentication and session lines (tag sshd)",
    .probe = sshd_probe,
    .decode = sshd_decode,
};
