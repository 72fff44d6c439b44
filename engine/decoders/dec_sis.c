/* dec_sis.c - the PowerSchool-like SIS audit line of k12-synthetic-formats.md, tag `sis`:
 *   login failure user=U src=IP portal=P method=M reason=R country=CC
 *   login success user=U src=IP portal=P method=M session=HEX country=CC
 *   logout user=U session=HEX
 *   grade_change user=U student=S course=C term=T old=G new=G src=IP
 *   export user=U report=R src=IP records=N
 * A verb (one or two words) then key=value pairs; keys map through rules/mappings/sis.yml.
 * Unknown verbs are kept (snake_case) as the event so new SIS actions still decode. */
#include "../decode.h"

static bool is_verb_char(char c) {
    return (c >= 'a' && c <= 'z') || c == '_' || (c >= '0' && c <= '9');
}

/* Next word of [a-z0-9_] followed by a blank or the end; empty when the text there is not a verb.
 */
static hm_str verb_word(const char **pp, const char *e) {
    const char *p = *pp, *a = p;
    while (p < e && is_verb_char(*p)) p++;
    if (p == a || (p < e && *p != ' ' && *p != '\t')) return (hm_str){NULL, 0};
    hm_str w = {a, (uint32_t)(p - a)};
    while (p < e && (*p == ' ' || *p == '\t')) p++;
    *pp = p;
    return w;
}

static const char *role_from_portal(hm_str v) {
    if (hm_str_ieq_c(v, "student")) return "student";
    if (hm_str_ieq_c(v, "teacher") || hm_str_ieq_c(v, "staff") || hm_str_ieq_c(v, "substitute"))
        return "staff";
    if (hm_str_ieq_c(v, "admin") || hm_str_ieq_c(v, "district")) return "admin";
    return NULL; /* parent/guardian portals: no role in the taxonomy vocabulary */
}

static int sis_probe(hm_decode_ctx *ctx, const hm_syslog_hdr *h) {
    HM_UNUSED(ctx);
    if (hm_str_eq_c(h->app, "sis")) return 100;
    /* tag-less copies of the same shape */
    if (hm_str_starts(h->body, "login failure user=") ||
        hm_str_starts(h->body, "login success user=") ||
        hm_str_starts(h->body, "grade_change user="))
        return 60;
    return 0;
}

static int sis_decode(hm_decode_ctx *ctx, hm_event *ev) {
    hm_str b = hm_str_trim(ctx->hdr->body);
    const char *p = b.p, *e = b.p + b.len;
    hm_str w1 = verb_word(&p, e);
    if (!w1.len) {
        ctx->reason = "sis: line does not start with an action word";
        return HM_EPARSE;
    }
    const char *cat = "application", *outcome = NULL;
    hm_str event = w1;
    if (hm_str_eq_c(w1, "login")) {
        cat = "authentication";
        hm_str w2 = verb_word(&p, e);
        if (hm_str_eq_c(w2, "success")) {
            event = HM_STR_LIT("login_success");
            outcome = "success";
        } else if (hm_str_eq_c(w2, "failure")) {
            event = HM_STR_LIT("login_failure");
            outcome = "failure";
        } else if (w2.len) {
            /* "login lockout" ... -> login_lockout */
            char *d = hm_arena_alloc(ctx->arena, 6 + w2.len + 1);
            memcpy(d, "login_", 6);
            memcpy(d + 6, w2.p, w2.len);
            d[6 + w2.len] = 0;
            event = (hm_str){d, 6 + w2.len};
        } else {
            event = HM_STR_LIT("login");
        }
    } else if (hm_str_eq_c(w1, "logout")) {
        cat = "authentication";
        outcome = "success";
    } else if (hm_str_eq_c(w1, "grade_change") || hm_str_eq_c(w1, "export")) {
        outcome = "success";
    }
    hm_dec_origin(ev, HM_SRC_SIS, "generic", "sis", cat, NULL);
    hm_ev_set(ev, HM_F_EVENT, event);
    if (outcome) hm_ev_set_c(ev, HM_F_OUTCOME, outcome);

    hm_kv_iter it;
    hm_str k, v;
    hm_kv_iter_init(&it, (hm_str){p, (uint32_t)(e - p)});
    int pairs = 0;
    while (hm_kv_next(&it, &k, &v)) {
        pairs++;
        if (hm_str_eq_c(k, "portal")) {
            const char *role = role_from_portal(v);
            if (role) hm_ev_set_c(ev, HM_F_USER_ROLE, role);
        }
        hm_dec_map(ctx, ev, k, v);
    }
    if (!pairs) {
        ctx->reason = "sis: no key=value fields after the action";
        return HM_EPARSE;
    }
    return HM_OK;
}

static const char *const sis_tags[] = {"sis", NULL};

const hm_decoder_ops hm_dec_sis = {
    .abi = HM_DECODER_ABI,
    .name = "sis",
    .tags = sis_tags,
    .description = "student information system audit lines (PowerSchool-like, tag sis)",
    .probe = sis_probe,
    .decode = sis_decode,
};
