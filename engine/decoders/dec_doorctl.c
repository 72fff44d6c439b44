/* dec_doorctl.c - door controllers (Lenel/Genetec-like key=value of k12-synthetic-formats.md),
 * tag `doorctl`, host `acs-<school>`:
 *   evt=ACCESS_GRANTED door_id=ES3-D08 door="Madison Elementary Kitchen" reader=ES3-R08
 *       badge=0020276 holder="jrodriguez" time=2024-03-11T05:13:12
 * evt -> event (lowercase), time= (district local time) -> event time, site from the host
 * (`acs-es3` -> es3) or else from the door_id prefix, door_class from the door_id suffix
 * (-Dnn reader door, -Xnn emergency exit). Other keys map through rules/mappings/doorctl.yml. */
#include "../decode.h"

static const struct {
    const char *vendor, *event, *outcome;
} door_events[] = {
    {"ACCESS_GRANTED", "access_granted", "success"},
    {"ACCESS_DENIED", "access_denied", "failure"},
    {"DOOR_FORCED_OPEN", "door_forced_open", NULL},
    {"DOOR_HELD_OPEN", "door_held_open", NULL},
    {"DOOR_CLOSED", "door_closed", NULL},
    {"DOOR_OPENED", "door_opened", NULL},
    {"READER_TAMPER", "reader_tamper", NULL},
    {"CONTROLLER_OFFLINE", "controller_offline", NULL},
    {"CONTROLLER_ONLINE", "controller_online", NULL},
    {"REQUEST_TO_EXIT", "rex", NULL},
};

static hm_str lower_dup(hm_decode_ctx *ctx, hm_str s) {
    char *d = hm_arena_alloc(ctx->arena, s.len + 1);
    for (uint32_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        d[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    d[s.len] = 0;
    return (hm_str){d, s.len};
}

static bool all_digits(const char *p, const char *e) {
    if (p >= e) return false;
    for (; p < e; p++)
        if (*p < '0' || *p > '9') return false;
    return true;
}

static int door_probe(hm_decode_ctx *ctx, const hm_syslog_hdr *h) {
    HM_UNUSED(ctx);
    if (hm_str_eq_c(h->app, "doorctl")) return 100;
    if (hm_str_starts(h->body, "evt=") && hm_str_find_s(h->body, " door_id=") > 0) return 80;
    return 0;
}

static int door_decode(hm_decode_ctx *ctx, hm_event *ev) {
    hm_kv_iter it;
    hm_str k, v, evt = {0};
    hm_kv_iter_init(&it, ctx->hdr->body);
    hm_dec_origin(ev, HM_SRC_DOOR, "generic", "doorctl", "physical_access", NULL);
    while (hm_kv_next(&it, &k, &v)) {
        if (hm_str_eq_c(k, "evt")) {
            if (!evt.len) evt = v;
            hm_ev_set_default(ev, HM_F_EVENT_ID_VENDOR, v);
        } else if (hm_str_eq_c(k, "time")) {
            if (!hm_dec_time_iso(ctx, ev, v)) hm_dec_extra(ctx, ev, k, v);
        } else {
            hm_dec_map(ctx, ev, k, v);
        }
    }
    if (!evt.len) {
        ctx->reason = "doorctl: no evt= field";
        return HM_EPARSE;
    }
    const char *event = NULL, *outcome = NULL;
    for (size_t i = 0; i < HM_ARRAY_LEN(door_events); i++)
        if (hm_str_ieq_c(evt, door_events[i].vendor)) {
            event = door_events[i].event;
            outcome = door_events[i].outcome;
            break;
        }
    if (event)
        hm_ev_set_c(ev, HM_F_EVENT, event);
    else
        hm_ev_set(ev, HM_F_EVENT, lower_dup(ctx, evt));
    if (outcome) hm_ev_set_c(ev, HM_F_OUTCOME, outcome);

    /* door class and site prefix from the door id: <SITE>-Dnn / <SITE>-Xnn */
    hm_str did = hm_ev_get(ev, HM_F_DOOR_ID);
    hm_str prefix = {0};
    if (did.len) {
        const char *s = did.p, *e = did.p + did.len, *dash = NULL;
        for (const char *q = s; q < e; q++)
            if (*q == '-') dash = q;
        if (dash && dash + 1 < e) {
            char c = dash[1];
            if ((c == 'X' || c == 'x') && all_digits(dash + 2, e))
                hm_ev_set_default(ev, HM_F_DOOR_CLASS, HM_STR_LIT("emergency_exit"));
            else if ((c == 'D' || c == 'd') && all_digits(dash + 2, e))
                hm_ev_set_default(ev, HM_F_DOOR_CLASS, HM_STR_LIT("reader"));
            if (dash > s) prefix = (hm_str){s, (uint32_t)(dash - s)};
        }
    }
    hm_str host = ctx->hdr->host;
    if (host.len > 4 && hm_str_starts(host, "acs-"))
        hm_ev_set_default(ev, HM_F_SITE, (hm_str){host.p + 4, host.len - 4});
    else if (prefix.len)
        hm_ev_set_default(ev, HM_F_SITE, lower_dup(ctx, prefix));
    return HM_OK;
}

static const char *const doorctl_tags[] = {"doorctl", NULL};

const hm_decoder_ops hm_dec_doorctl = {
    .abi = HM_DECODER_ABI,
    .name = "doorctl",
    .tags = doorctl_tags,
    .description = "door access controllers (Lenel/Genetec-like key=value, tag doorctl)",
    .probe = door_probe,
    .decode = door_decode,
};
