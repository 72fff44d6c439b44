/* dec_entra.c - Microsoft Entra ID (Azure AD) sign-in logs as exported by Azure Monitor
 * diagnostic settings (category SignInLogs, NonInteractiveUserSignInLogs,
 * ServicePrincipalSignInLogs, ManagedIdentitySignInLogs), one JSON object per line.
 *   {"time":"2025-01-15 09:30:45.123","category":"SignInLogs","resultType":"0",
 *    "callerIpAddress":"2.2.2.2","properties":{"userPrincipalName":..,"ipAddress":..,
 *    "appDisplayName":..,"status":{"errorCode":50126,"failureReason":..},"location":{..}}}
 * Taxonomy fields are set here with their precedence (properties first, envelope second);
 * everything else is flattened to dotted vendor names ("properties.riskState"), mapped through
 * rules/mappings/entra.yml. Some exports lowercase the envelope keys (resulttype,
 * calleripaddress): both spellings are read. */
#include "../decode.h"

/* first present, non-null, non-empty of the paths */
static int first_tok(hm_decode_ctx *ctx, const char *const *paths, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int t = hm_json_path(ctx, 0, paths[i]);
        if (t >= 0 && !hm_json_is_null(ctx, t) && ctx->tok[t].end > ctx->tok[t].start &&
            ctx->tok[t].type != JSMN_OBJECT && ctx->tok[t].type != JSMN_ARRAY)
            return t;
    }
    return -1;
}

static bool set_first(hm_decode_ctx *ctx, hm_event *ev, hm_field_id id, const char *const *paths,
                      size_t n) {
    int t = first_tok(ctx, paths, n);
    if (t < 0) return false;
    hm_str v = hm_json_str(ctx, t);
    if (!v.len) return false;
    hm_ev_set(ev, id, v);
    return true;
}

#define SET_FIRST(id, ...)                                                                         \
    do {                                                                                           \
        static const char *const p_[] = {__VA_ARGS__};                                             \
        set_first(ctx, ev, id, p_, HM_ARRAY_LEN(p_));                                              \
    } while (0)

/* jsmn accepts an object member without a value ({"a"} or {"a","b":1}); the JSON helpers
 * would then index one token past the parse. Every direct child of an object must be a
 * string key holding exactly one value. */
static bool json_keys_ok(const hm_decode_ctx *ctx) {
    for (int i = 1; i < ctx->ntok; i++) {
        int p = ctx->tok[i].parent;
        if (p >= 0 && ctx->tok[p].type == JSMN_OBJECT &&
            (ctx->tok[i].type != JSMN_STRING || ctx->tok[i].size != 1))
            return false;
    }
    return true;
}
static int entra_probe(hm_decode_ctx *ctx, const hm_syslog_hdr *h) {
    HM_UNUSED(ctx);
    hm_str b = h->body;
    uint32_t i = 0;
    if (!b.p) return 0;
    while (i < b.len && (b.p[i] == ' ' || b.p[i] == '\t')) i++;
    if (i >= b.len || b.p[i] != '{') return 0;
    if (memmem(b.p, b.len, "SignInLogs\"", 11)) return 90;
    if (memmem(b.p, b.len, "\"Sign-in activity\"", 18)) return 85;
    return 0;
}

static bool is_zero(hm_str v) {
    v = hm_str_trim(v);
    return v.len == 1 && v.p[0] == '0';
}

static int entra_decode(hm_decode_ctx *ctx, hm_event *ev) {
    hm_str body = hm_str_trim(ctx->hdr->body);
    if (hm_dec_json(ctx, body) < 0) {
        ctx->reason = "entra: body is not a complete JSON object";
        return HM_EPARSE;
    }
    if (!json_keys_ok(ctx)) {
        ctx->reason = "entra: malformed JSON (object member without a value)";
        return HM_EPARSE;
    }
    hm_dec_origin(ev, HM_SRC_IDP, "microsoft", "azure", "authentication", "signinlogs");

    /* time (UTC; zone-less stamps are UTC in this export) */
    {
        static const char *const tp[] = {"time", "properties.createdDateTime", "p_event_time"};
        int t = first_tok(ctx, tp, HM_ARRAY_LEN(tp));
        if (t >= 0) {
            hm_str ts = hm_json_str(ctx, t);
            int64_t ns;
            bool zone;
            if (hm_parse_iso8601(ts.p, ts.len, &ns, &zone)) hm_dec_time_utc(ev, ns);
        }
    }
    SET_FIRST(HM_F_USER, "properties.userPrincipalName", "properties.userDisplayName", "identity");
    SET_FIRST(HM_F_SRC_IP, "properties.ipAddress", "callerIpAddress", "calleripaddress");
    SET_FIRST(HM_F_APP, "properties.appDisplayName");
    SET_FIRST(HM_F_USER_AGENT, "properties.userAgent");
    SET_FIRST(HM_F_GEO_COUNTRY, "properties.location.countryOrRegion", "location");
    SET_FIRST(HM_F_REASON, "properties.status.failureReason", "resultDescription",
              "resultdescription");
    SET_FIRST(HM_F_AUTH_METHOD, "properties.authenticationProtocol");
    SET_FIRST(HM_F_SESSION_ID, "properties.sessionId");

    /* outcome: resultType "0"/"Success" vs an AADSTS code/"Failure"; else status.errorCode */
    const char *outcome = NULL;
    static const char *const rtp[] = {"resultType", "resulttype"};
    int rt = first_tok(ctx, rtp, HM_ARRAY_LEN(rtp));
    int ec = hm_json_path(ctx, 0, "properties.status.errorCode");
    if (ec >= 0 && (hm_json_is_null(ctx, ec) || ctx->tok[ec].type != JSMN_PRIMITIVE)) ec = -1;
    if (rt >= 0) {
        hm_str v = hm_str_trim(hm_json_str(ctx, rt));
        int64_t code;
        if (is_zero(v) || hm_str_ieq_c(v, "success"))
            outcome = "success";
        else if (hm_str_ieq_c(v, "failure") || (hm_str_to_i64(v, &code) && code != 0))
            outcome = "failure";
        if (hm_str_to_i64(v, &code)) hm_ev_set(ev, HM_F_EVENT_ID_VENDOR, v);
    }
    if (ec >= 0) {
        hm_str v = hm_json_str(ctx, ec);
        if (!outcome) outcome = is_zero(v) ? "success" : "failure";
        hm_ev_set(ev, HM_F_EVENT_ID_VENDOR, v); /* the AADSTS code wins over resultType */
    }
    if (!outcome) {
        int r = hm_json_path(ctx, 0, "properties.result");
        if (r >= 0 && !hm_json_is_null(ctx, r)) {
            const char *o = hm_outcome_from_word(hm_json_str(ctx, r));
            if (strcmp(o, "unknown")) outcome = o;
        }
    }
    if (!outcome) outcome = "unknown";
    hm_ev_set_c(ev, HM_F_OUTCOME, outcome);
    hm_ev_set_c(ev, HM_F_EVENT,
                !strcmp(outcome, "success")   ? "login_success"
                : !strcmp(outcome, "failure") ? "login_failure"
                                              : "login_attempt");

    /* every other vendor field under its dotted name (mapped keys already set are skipped) */
    hm_json_flatten(ctx, ev, 0, NULL);
    return HM_OK;
}

const hm_decoder_ops hm_dec_entra = {
    .abi = HM_DECODER_ABI,
    .name = "entra",
    .description = "Microsoft Entra ID sign-in logs (Azure Monitor export, SignInLogs), JSON",
    .probe = entra_probe,
    .decode = entra_decode,
};
