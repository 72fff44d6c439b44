/* dec_visitor.c - visitor management (Raptor-like key=value of k12-synthetic-formats.md),
 * tag `visitor`:
 *   action=checkin site="Lincoln Elementary" visitor="Ashley Campbell" id_type=drivers_license
 *          host="Mr Green" badge=V-098414 screening=clear
 *   action=watchlist_hit site=... visitor=... list=district_banned match_score=99 screening=alert
 * action -> event (visitor_checkin, visitor_checkout, watchlist_hit), screening -> outcome
 * (clear success, denied failure, otherwise unknown); other keys map through
 * rules/mappings/visitor.yml. */
#include "../decode.h"

static int visitor_probe(hm_decode_ctx *ctx, const hm_syslog_hdr *h) {
    HM_UNUSED(ctx);
    if (hm_str_eq_c(h->app, "visitor")) return 100;
    if (hm_str_starts(h->body, "action=") && hm_str_find_s(h->body, " visitor=") > 0) return 80;
    return 0;
}

static int visitor_decode(hm_decode_ctx *ctx, hm_event *ev) {
    hm_kv_iter it;
    hm_str k, v, action = {0}, screening = {0};
    hm_kv_iter_init(&it, ctx->hdr->body);
    hm_dec_origin(ev, HM_SRC_VISITOR, "generic", "visitor", "visitor_management", NULL);
    while (hm_kv_next(&it, &k, &v)) {
        if (hm_str_eq_c(k, "action")) {
            if (!action.len) action = v;
            hm_ev_set_default(ev, HM_F_ACTION, v);
            continue;
        }
        if (hm_str_eq_c(k, "screening") && !screening.len) screening = v;
        hm_dec_map(ctx, ev, k, v);
    }
    if (!action.len) {
        ctx->reason = "visitor: no action= field";
        return HM_EPARSE;
    }
    if (hm_str_ieq_c(action, "checkin") || hm_str_ieq_c(action, "check_in"))
        hm_ev_set_c(ev, HM_F_EVENT, "visitor_checkin");
    else if (hm_str_ieq_c(action, "checkout") || hm_str_ieq_c(action, "check_out"))
        hm_ev_set_c(ev, HM_F_EVENT, "visitor_checkout");
    else if (hm_str_ieq_c(action, "watchlist_hit"))
        hm_ev_set_c(ev, HM_F_EVENT, "watchlist_hit");
    else
        hm_ev_set(ev, HM_F_EVENT, action); /* already a snake_case word in this format */
    if (screening.len) {
        const char *o = "unknown";
        if (hm_str_ieq_c(screening, "clear"))
            o = "success";
        else if (hm_str_ieq_c(screening, "denied"))
            o = "failure";
        hm_ev_set_c(ev, HM_F_OUTCOME, o);
    }
    return HM_OK;
}

static const char *const visitor_tags[] = {"visitor", NULL};

const hm_decoder_ops hm_dec_visitor = {
    .abi = HM_DECODER_ABI,
    .name = "visitor",
    .tags = visitor_tags,
    .description =
        "visitor management check-in/out and watchlist screening (Raptor-like, tag visitor)",
    .probe = visitor_probe,
    .decode = visitor_decode,
};
