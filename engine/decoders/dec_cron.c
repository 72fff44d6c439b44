/* dec_cron.c - cron daemons (Debian cron, cronie crond), tag CRON / cron / crond / CROND:
 *   (root) CMD (/usr/lib/php/sessionclean)            -> cron_command, user, command
 *   (root) RELOAD (crontabs/root), (u) BEGIN EDIT (u), (u) REPLACE (u), (CRON) INFO (...)
 *   pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)
 * The detail runs from the first '(' after the action to the last ')' (commands contain
 * parentheses). Lines of no known shape decode as cron_message. */
#include "../decode.h"

static const struct {
    const char *action, *event;
} cron_actions[] = {
    {"CMD", "cron_command"},
    {"CMDOUT", "cron_output"},
    {"CMDEND", "cron_command_end"},
    {"RELOAD", "cron_reload"},
    {"REPLACE", "crontab_replace"},
    {"BEGIN EDIT", "crontab_edit_begin"},
    {"END EDIT", "crontab_edit_end"},
    {"DELETE", "crontab_delete"},
    {"LIST", "crontab_list"},
    {"INFO", "cron_info"},
    {"MAIL", "cron_mail"},
    {"STARTUP", "cron_startup"},
    {"ORPHAN", "cron_orphan"},
    {"AUTH", "cron_auth"},
    {"ERROR", "cron_error"},
    {"BAD FILE MODE", "cron_bad_file_mode"},
    {"WRONG FILE OWNER", "cron_wrong_file_owner"},
};

static bool is_cron_tag(hm_str a) {
    return hm_str_eq_c(a, "CRON") || hm_str_eq_c(a, "cron") || hm_str_eq_c(a, "crond") ||
           hm_str_eq_c(a, "CROND") || hm_str_eq_c(a, "crontab") || hm_str_eq_c(a, "/usr/sbin/cron");
}

static int cron_probe(hm_decode_ctx *ctx, const hm_syslog_hdr *h) {
    HM_UNUSED(ctx);
    return is_cron_tag(h->app) ? 100 : 0;
}

/* "for user NAME(uid=N) by ..." -> NAME */
static hm_str pam_user(hm_str s) {
    int64_t i = hm_str_find_s(s, "for user ");
    if (i < 0) return (hm_str){NULL, 0};
    const char *p = s.p + i + 9, *e = s.p + s.len, *a = p;
    while (p < e && *p != ' ' && *p != '(') p++;
    return (hm_str){a, (uint32_t)(p - a)};
}

static int cron_decode(hm_decode_ctx *ctx, hm_event *ev) {
    hm_str b = hm_str_trim(ctx->hdr->body);
    const char *p = b.p, *e = b.p + b.len;
    const char *cat = "application";
    if (p < e && *p == '(') {
        const char *u = ++p;
        while (p < e && *p != ')') p++;
        hm_str user = {u, (uint32_t)(p - u)};
        if (p >= e) goto generic;
        p++;
        while (p < e && *p == ' ') p++;
        /* action: words up to the detail's '(' (or the end) */
        const char *a = p;
        const char *lp = p < e ? memchr(p, '(', (size_t)(e - p)) : NULL;
        const char *ae = lp ? lp : e;
        while (ae > a && ae[-1] == ' ') ae--;
        hm_str action = {a, (uint32_t)(ae - a)};
        hm_str detail = {0};
        if (lp) {
            const char *rp = e;
            while (rp > lp && rp[-1] != ')') rp--;
            if (rp > lp + 1)
                detail = (hm_str){lp + 1, (uint32_t)(rp - 1 - (lp + 1))};
            else
                detail = (hm_str){lp + 1, (uint32_t)(e - lp - 1)}; /* unbalanced: to the end */
        }
        const char *event = NULL;
        for (size_t i = 0; i < HM_ARRAY_LEN(cron_actions); i++)
            if (hm_str_eq_c(action, cron_actions[i].action)) {
                event = cron_actions[i].event;
                break;
            }
        if (!event) event = "cron_message";
        bool is_cmd = !strcmp(event, "cron_command");
        if (is_cmd) cat = "process_creation";
        hm_dec_origin(ev, HM_SRC_HOST, "cron", "linux", cat, "cron");
        hm_ev_set_c(ev, HM_F_EVENT, event);
        if (is_cmd) hm_ev_set_c(ev, HM_F_OUTCOME, "success"); /* the job was started */
        /* "(CRON)" and "(*system*)" are the daemon itself, not a user */
        if (user.len && !hm_str_eq_c(user, "CRON") && !hm_str_eq_c(user, "*system*"))
            hm_ev_set(ev, HM_F_USER, user);
        if (action.len) hm_ev_set(ev, HM_F_ACTION, action);
        if (detail.len) {
            if (is_cmd)
                hm_ev_set(ev, HM_F_COMMAND, hm_str_trim(detail));
            else
                hm_ev_set(ev, HM_F_MESSAGE, detail);
        }
        return HM_OK;
    }
    if (hm_str_starts(b, "pam_unix(")) {
        hm_dec_origin(ev, HM_SRC_HOST, "cron", "linux", "authentication", "cron");
        hm_str u = pam_user(b);
        if (u.len) hm_ev_set(ev, HM_F_USER, u);
        if (hm_str_find_s(b, "session opened") >= 0) {
            hm_ev_set_c(ev, HM_F_EVENT, "session_opened");
            hm_ev_set_c(ev, HM_F_OUTCOME, "success");
        } else if (hm_str_find_s(b, "session closed") >= 0) {
            hm_ev_set_c(ev, HM_F_EVENT, "session_closed");
        } else {
            hm_ev_set_c(ev, HM_F_EVENT, "pam_message");
        }
        hm_ev_set(ev, HM_F_MESSAGE, b);
        return HM_OK;
    }
generic:
    hm_dec_origin(ev, HM_SRC_HOST, "cron", "linux", cat, "cron");
    hm_ev_set_c(ev, HM_F_EVENT, "cron_message");
    hm_ev_set(ev, HM_F_MESSAGE, b);
    return HM_OK;
}

static const char *const cron_tags[] = {"CRON", "cron", "crond", NULL};

const hm_decoder_ops hm_dec_cron = {
    .abi = HM_DECODER_ABI,
    .name = "cron",
    .tags = cron_tags,
    .description =
        "cron daemon lines: (user) CMD (command) and crontab actions (tag CRON/cron/crond)",
    .probe = cron_probe,
    .decode = cron_decode,
};
