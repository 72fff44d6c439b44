/* dec_sudo.c - sudo's syslog lines, tag `sudo`:
 *   mgarcia : TTY=pts/0 ; PWD=/home/mgarcia ; USER=root ; COMMAND=/usr/bin/apt-get update
 *   bob : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/sh
 *   eve : user NOT in sudoers ; TTY=... ; COMMAND=...      (also "command not allowed")
 *   pam_unix(sudo:auth): authentication failure; logname=bob uid=1000 ... user=bob
 *   pam_unix(sudo:session): session opened for user root(uid=0) by bob(uid=1000)
 * Segments before the first KEY=value are the failure text (reason). COMMAND= is last and
 * runs to the end of the line (a command may contain " ; "). */
#include "../decode.h"

static int sudo_probe(hm_decode_ctx *ctx, const hm_syslog_hdr *h) {
    HM_UNUSED(ctx);
    return hm_str_eq_c(h->app, "sudo") ? 100 : 0;
}

static bool is_upper_key(const char *p, const char *e) {
    const char *a = p;
    while (p < e && ((*p >= 'A' && *p <= 'Z') || *p == '_')) p++;
    return p > a && p < e && *p == '=';
}

static hm_str trim_slice(const char *a, const char *b) {
    return hm_str_trim((hm_str){a, (uint32_t)(b - a)});
}

/* "NAME(uid=N)" or "(uid=N)" after `word` ("for user ", " by "); NAME only. */
static hm_str name_after(hm_str s, const char *word) {
    int64_t i = hm_str_find_s(s, word);
    if (i < 0) return (hm_str){NULL, 0};
    const char *p = s.p + i + strlen(word), *e = s.p + s.len, *a = p;
    while (p < e && *p != ' ' && *p != '(') p++;
    return (hm_str){a, (uint32_t)(p - a)};
}

static int sudo_pam(hm_decode_ctx *ctx, hm_event *ev, hm_str b) {
    hm_dec_origin(ev, HM_SRC_HOST, "sudo", "linux", "authentication", "sudo");
    hm_ev_set(ev, HM_F_MESSAGE, b);
    if (hm_str_find_s(b, "session opened") >= 0) {
        hm_ev_set_c(ev, HM_F_EVENT, "session_opened");
        hm_ev_set_c(ev, HM_F_OUTCOME, "success");
        hm_str target = name_after(b, "for user "), by = name_after(b, " by ");
        if (by.len) hm_ev_set(ev, HM_F_USER, by);
        if (target.len) hm_ev_set(ev, HM_F_RUN_AS, target);
        return HM_OK;
    }
    if (hm_str_find_s(b, "session closed") >= 0) {
        hm_ev_set_c(ev, HM_F_EVENT, "session_closed");
        hm_str target = name_after(b, "for user ");
        if (target.len) hm_ev_set(ev, HM_F_RUN_AS, target);
        return HM_OK;
    }
    int64_t semi = hm_str_find(b, ';');
    if (hm_str_find_s(b, "authentication failure") >= 0 && semi >= 0) {
        hm_ev_set_c(ev, HM_F_EVENT, "pam_auth_failure");
        hm_ev_set_c(ev, HM_F_OUTCOME, "failure");
        hm_kv_iter it;
        hm_str k, v;
        hm_kv_iter_init(&it, (hm_str){b.p + semi + 1, (uint32_t)(b.len - semi - 1)});
        while (hm_kv_next(&it, &k, &v)) {
            if (!v.len) continue;
            if (hm_str_eq_c(k, "user"))
                hm_ev_set(ev, HM_F_USER, v);
            else if (hm_str_eq_c(k, "tty"))
                hm_ev_set(ev, HM_F_TTY, v);
            else
                hm_dec_extra(ctx, ev, k, v);
        }
        return HM_OK;
    }
    hm_ev_set_c(ev, HM_F_EVENT, "pam_message");
    return HM_OK;
}

static int sudo_decode(hm_decode_ctx *ctx, hm_event *ev) {
    hm_str b = hm_str_trim(ctx->hdr->body);
    if (hm_str_starts(b, "pam_")) return sudo_pam(ctx, ev, b);
    const char *p = b.p, *e = b.p + b.len;
    /* "USER : rest" */
    int64_t c = hm_str_find_s(b, " : ");
    hm_str user = c > 0 ? trim_slice(p, p + c) : (hm_str){NULL, 0};
    if (c <= 0 || !user.len || memchr(user.p, ' ', user.len)) {
        /* "unable to resolve host x", "sorry, you must have a tty to run sudo", ... */
        hm_dec_origin(ev, HM_SRC_HOST, "sudo", "linux", "process_creation", "sudo");
        hm_ev_set_c(ev, HM_F_EVENT, "sudo_message");
        hm_ev_set(ev, HM_F_MESSAGE, b);
        return HM_OK;
    }
    hm_dec_origin(ev, HM_SRC_HOST, "sudo", "linux", "process_creation", "sudo");
    hm_ev_set(ev, HM_F_USER, user);
    p += c + 3;
    hm_str reason = {0};
    bool any_key = false;
    while (p < e) {
        while (p < e && *p == ' ') p++;
        if (p >= e) break;
        if (is_upper_key(p, e)) {
            const char *eq = memchr(p, '=', (size_t)(e - p));
            hm_str key = {p, (uint32_t)(eq - p)};
            const char *v = eq + 1;
            any_key = true;
            if (hm_str_eq_c(key, "COMMAND")) {
                hm_ev_set(ev, HM_F_COMMAND, trim_slice(v, e));
                break;
            }
            const char *se = v;
            while (se < e && !(se + 2 < e && se[0] == ' ' && se[1] == ';' && se[2] == ' ')) se++;
            if (se + 2 >= e) se = e;
            hm_str val = trim_slice(v, se);
            if (hm_str_eq_c(key, "TTY"))
                hm_ev_set(ev, HM_F_TTY, val);
            else if (hm_str_eq_c(key, "PWD"))
                hm_ev_set(ev, HM_F_CWD, val);
            else if (hm_str_eq_c(key, "USER"))
                hm_ev_set(ev, HM_F_RUN_AS, val);
            else
                hm_dec_map(ctx, ev, key, val);
            p = se < e ? se + 3 : e;
        } else {
            /* a free-text segment before the keys: the failure reason */
            const char *se = p;
            while (se < e && !(se + 1 < e && se[0] == ' ' && se[1] == ';')) se++;
            if (!reason.len) reason = trim_slice(p, se);
            p = se < e ? se + 2 : e;
        }
    }
    if (reason.len) {
        hm_ev_set_c(ev, HM_F_EVENT, "sudo_failure");
        hm_ev_set_c(ev, HM_F_OUTCOME, "failure");
        hm_ev_set(ev, HM_F_REASON, reason);
    } else if (any_key) {
        hm_ev_set_c(ev, HM_F_EVENT, "sudo_command");
        hm_ev_set_c(ev, HM_F_OUTCOME, "success");
    } else {
        hm_ev_set_c(ev, HM_F_EVENT, "sudo_message");
        hm_ev_set(ev, HM_F_MESSAGE, b);
    }
    return HM_OK;
}

static const char *const sudo_tags[] = {"sudo", NULL};

const hm_decoder_ops hm_dec_sudo = {
    .abi = HM_DECODER_ABI,
    .name = "sudo",
    .tags = sudo_tags,
    .description = "sudo command and failure lines (tag sudo)",
    .probe = sudo_probe,
    .decode = sudo_decode,
};
