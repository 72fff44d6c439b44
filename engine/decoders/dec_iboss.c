/* dec_iboss.c - iboss cloud secure web gateway: a syslog header followed by one flat JSON
 * object (logType WEB_LOG, DLP, ...). Top-level keys map through rules/mappings/iboss.yml;
 * "-" placeholders and all-zero MACs are dropped. The event time is logTime + time, which
 * iboss cloud writes in UTC (it matches proxyTransactionStartTime in the samples).
 * docs/decoders/iboss.md */
#include "../decode.h"

static int ib_probe(hm_decode_ctx *ctx, const hm_syslog_hdr *h) {
    HM_UNUSED(ctx);
    hm_str b = hm_str_trim(h->body);
    if (b.len < 2 || b.p[0] != '{') return 0;
    hm_str host = h->host;
    if (host.len >= 14 && !memcmp(host.p + host.len - 14, "ibosscloud.com", 14)) return 100;
    if (hm_str_find_s(b, "\"ibossIpAddress\"") >= 0 || hm_str_find_s(b, "\"iboss\":") >= 0)
        return 95;
    if (hm_str_find_s(b, "\"logType\"") >= 0 && hm_str_find_s(b, "\"sAction\"") >= 0) return 90;
    return 0;
}

static bool ib_zero_mac(hm_str v) {
    for (uint32_t i = 0; i < v.len; i++)
        if (v.p[i] != '0' && v.p[i] != ':' && v.p[i] != '-') return false;
    return true;
}

static int ib_2(const char *p) {
    if ((unsigned)(p[0] - '0') > 9 || (unsigned)(p[1] - '0') > 9) return -1;
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/* logTime "YYYY-MM-DD" + time "HH:MM:SS" (UTC) */
static bool ib_time(hm_event *ev, hm_str d, hm_str t) {
    if (d.len != 10 || t.len < 8 || d.p[4] != '-' || d.p[7] != '-' || t.p[2] != ':' ||
        t.p[5] != ':')
        return false;
    int y1 = ib_2(d.p), y2 = ib_2(d.p + 2), mo = ib_2(d.p + 5), dd = ib_2(d.p + 8);
    int hh = ib_2(t.p), mi = ib_2(t.p + 3), ss = ib_2(t.p + 6);
    if (y1 < 19 || y1 > 21 || y2 < 0 || mo < 1 || mo > 12 || dd < 1 || dd > 31 || hh < 0 ||
        hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 60)
        return false;
    hm_dec_time_utc(ev, hm_civil_to_epoch(y1 * 100 + y2, mo, dd, hh, mi, ss) * 1000000000LL);
    return true;
}

static int ib_decode(hm_decode_ctx *ctx, hm_event *ev) {
    hm_str body = hm_str_trim(ctx->hdr->body);
    if (hm_dec_json(ctx, body) < 0) {
        ctx->reason = "iboss: body is not a JSON object";
        return HM_EPARSE;
    }
    hm_dec_origin(ev, HM_SRC_WEB, "iboss", "iboss", "webproxy", NULL);
    hm_str action = {0}, logtype = {0}, logdate = {0}, logtime = {0}, subject = {0};
    int n = ctx->tok[0].size, k = 1;
    for (int i = 0; i < n && k < ctx->ntok; i++) {
        int vt = k + 1;
        if (vt >= ctx->ntok) break;
        const jsmntok_t *kt = &ctx->tok[k];
        hm_str key = {ctx->json + kt->start, (uint32_t)(kt->end - kt->start)};
        k = hm_json_skip(ctx, vt);
        if (ctx->tok[vt].type == JSMN_OBJECT || ctx->tok[vt].type == JSMN_ARRAY) {
            char *prefix = hm_arena_alloc(ctx->arena, (size_t)key.len + 1);
            memcpy(prefix, key.p, key.len);
            prefix[key.len] = 0;
            hm_json_flatten(ctx, ev, vt, prefix);
            continue;
        }
        if (hm_json_is_null(ctx, vt)) continue;
        hm_str val = hm_json_str(ctx, vt);
        if (!val.len || hm_str_eq_c(val, "-")) continue;
        if (hm_str_eq_c(key, "action")) {
            action = val;
            continue;
        }
        if (hm_str_eq_c(key, "logType"))
            logtype = val;
        else if (hm_str_eq_c(key, "logTime")) {
            logdate = val;
            continue;
        } else if (hm_str_eq_c(key, "time")) {
            logtime = val;
            continue;
        } else if (hm_str_eq_c(key, "subjectId"))
            subject = val;
        int id = hm_field_map_get(ctx->map, key.p, key.len);
        if (id == HM_F_SRC_MAC && ib_zero_mac(val)) continue;
        if (id >= 0)
            hm_ev_set_default(ev, (hm_field_id)id, val);
        else
            hm_dec_extra(ctx, ev, key, val);
    }
    if (!hm_ev_has(ev, HM_F_USER) && subject.len) hm_ev_set(ev, HM_F_USER, subject);
    if (!action.len) action = hm_ev_get(ev, HM_F_ACTION);
    if (action.len) hm_ev_set(ev, HM_F_ACTION, hm_dec_lower(ctx, action));
    if (logtype.len) hm_ev_set(ev, HM_F_SERVICE, hm_dec_lower(ctx, logtype));

    bool blocked = hm_str_ieq_c(action, "blocked") || hm_str_ieq_c(action, "soft-blocked") ||
                   hm_str_ieq_c(action, "block");
    bool allowed = hm_str_ieq_c(action, "allowed") || hm_str_ieq_c(action, "allow");
    if (hm_str_eq_c(logtype, "DLP")) {
        hm_ev_set_c(ev, HM_F_CATEGORY, "dlp");
        hm_ev_set_c(ev, HM_F_EVENT, blocked ? "dlp_block" : "dlp_alert");
        if (blocked) hm_ev_set_c(ev, HM_F_OUTCOME, "failure");
    } else if (blocked) {
        hm_ev_set_c(ev, HM_F_EVENT, "web_block");
        hm_ev_set_c(ev, HM_F_OUTCOME, "failure");
    } else if (allowed) {
        hm_ev_set_c(ev, HM_F_EVENT, "web_allow");
        hm_ev_set_c(ev, HM_F_OUTCOME, "success");
    } else {
        hm_ev_set_c(ev, HM_F_EVENT, "web_request");
    }
    ib_time(ev, logdate, logtime);
    return HM_OK;
}

const hm_decoder_ops hm_dec_iboss = {
    .abi = HM_DECODER_ABI,
    .name = "iboss",
    .description = "iboss cloud secure web gateway JSON (web log, DLP)",
    .probe = ib_probe,
    .decode = ib_decode,
};
