/* dec_gworkspace.c - Google Workspace Admin SDK Reports API activities (login, admin and
 * other applications), one JSON object per line, optionally behind a syslog header.
 * Three shapes are accepted:
 *   API: {"kind":"admin#reports#activity","id":{"time",..,"applicationName"},"actor":{"email"},
 *              "ipAddress", "events":[{"type","name","parameters":[{"name","value"|"intValue"|
 *              "boolValue"|"multiValue"...}]}]}
 *   Elastic:  the same with "events" as one object
 *   Panther:  single event flattened to the top: "type", "name", "parameters":{k: v}
 * Every shape yields the same vendor field names: "type", "parameters.<name>" (multi values
 * joined with ','), and the remaining keys flattened with dotted names ("id.customerId").
 * The Google event name -> event_id_vendor and a normalized event verb (table below, else the
 * lowercased name); time from id.time (RFC 3339, or "YYYY-MM-DD HH:MM:SS.fffffffff" read as UTC).
 */
#include "../decode.h"

static const struct {
    const char *name, *event, *outcome;
} gw_events[] = {
    /* login application */
    {"login_success", "login_success", "success"},
    {"login_failure", "login_failure", "failure"},
    {"logout", "logout", "success"},
    {"login_challenge", "login_challenge", NULL},       /* outcome from login_challenge_status */
    {"login_verification", "login_verification", NULL}, /* same */
    {"suspicious_login", "suspicious_login", NULL},
    {"suspicious_login_less_secure_app", "suspicious_login", NULL},
    {"suspicious_programmatic_login", "suspicious_login", NULL},
    {"account_disabled_password_leak", "account_disabled", NULL},
    {"account_disabled_hijacked", "account_disabled", NULL},
    {"account_disabled_generic", "account_disabled", NULL},
    {"account_disabled_spamming", "account_disabled", NULL},
    {"account_disabled_spamming_through_relay", "account_disabled", NULL},
    {"gov_attack_warning", "gov_attack_warning", NULL},
    {"risky_sensitive_action_allowed", "risky_sensitive_action", "success"},
    {"risky_sensitive_action_blocked", "risky_sensitive_action", "failure"},
    {"password_edit", "password_change", "success"},
    {"2sv_enroll", "mfa_enroll", "success"},
    {"2sv_disable", "mfa_disable", "success"},
    {"recovery_email_edit", "account_recovery_change", "success"},
    {"recovery_phone_edit", "account_recovery_change", "success"},
    {"recovery_secret_qa_edit", "account_recovery_change", "success"},
    {"titanium_enroll", "advanced_protection_enroll", "success"},
    {"titanium_unenroll", "advanced_protection_unenroll", "success"},
    {"email_forwarding_out_of_domain", "mail_forwarding_change", "success"},
    /* admin application */
    {"CREATE_USER", "user_created", "success"},
    {"DELETE_USER", "user_deleted", "success"},
    {"UNDELETE_USER", "user_restored", "success"},
    {"SUSPEND_USER", "user_suspended", "success"},
    {"UNSUSPEND_USER", "user_unsuspended", "success"},
    {"RENAME_USER", "user_renamed", "success"},
    {"CHANGE_PASSWORD", "password_change", "success"},
    {"CHANGE_PASSWORD_ON_NEXT_LOGIN", "password_change_required", "success"},
    {"GRANT_ADMIN_PRIVILEGE", "admin_privilege_granted", "success"},
    {"REVOKE_ADMIN_PRIVILEGE", "admin_privilege_revoked", "success"},
    {"GRANT_DELEGATED_ADMIN_PRIVILEGES", "admin_privilege_granted", "success"},
    {"REVOKE_DELEGATED_ADMIN_PRIVILEGES", "admin_privilege_revoked", "success"},
    {"CREATE_ROLE", "role_created", "success"},
    {"DELETE_ROLE", "role_deleted", "success"},
    {"RENAME_ROLE", "role_renamed", "success"},
    {"ADD_PRIVILEGE", "role_privilege_added", "success"},
    {"REMOVE_PRIVILEGE", "role_privilege_removed", "success"},
    {"ASSIGN_ROLE", "role_assigned", "success"},
    {"UNASSIGN_ROLE", "role_unassigned", "success"},
    {"ADD_TRUSTED_DOMAINS", "trusted_domain_added", "success"},
    {"REMOVE_TRUSTED_DOMAINS", "trusted_domain_removed", "success"},
    {"CUSTOMER_TAKEOUT_CREATED", "data_export_started", "success"},
    {"CUSTOMER_TAKEOUT_SUCCEEDED", "data_export_completed", "success"},
    {"CUSTOMER_TAKEOUT_FAILED", "data_export_completed", "failure"},
    {"ADD_APPLICATION", "app_added", "success"},
    {"REMOVE_APPLICATION", "app_removed", "success"},
    {"ADD_MOBILE_APPLICATION_TO_WHITELIST", "app_allowlisted", "success"},
    {"REMOVE_MOBILE_APPLICATION_FROM_WHITELIST", "app_allowlist_removed", "success"},
    {"AUTHORIZE_API_CLIENT_ACCESS", "oauth_api_access_granted", "success"},
    {"REMOVE_API_CLIENT_ACCESS", "oauth_api_access_revoked", "success"},
    {"ENFORCE_STRONG_AUTHENTICATION", "mfa_enforcement_change", "success"},
    {"ADD_GROUP_MEMBER", "group_membership_change", "success"},
    {"REMOVE_GROUP_MEMBER", "group_membership_change", "success"},
    {"CREATE_GROUP", "group_created", "success"},
    {"DELETE_GROUP", "group_deleted", "success"},
    {"CREATE_EMAIL_MONITOR", "mail_monitor_created", "success"},
    {"EMAIL_LOG_SEARCH", "mail_log_search", "success"},
};

static hm_str lower_trim_dup(hm_decode_ctx *ctx, hm_str s) {
    s = hm_str_trim(s);
    char *d = hm_arena_alloc(ctx->arena, s.len + 1);
    for (uint32_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        d[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : (c == ' ' || c == '-') ? '_' : c;
    }
    d[s.len] = 0;
    return (hm_str){d, s.len};
}

static hm_str join2(hm_decode_ctx *ctx, const char *a, hm_str b) {
    size_t n = strlen(a);
    char *d = hm_arena_alloc(ctx->arena, n + b.len + 1);
    memcpy(d, a, n);
    memcpy(d + n, b.p, b.len);
    d[n + b.len] = 0;
    return (hm_str){d, (uint32_t)(n + b.len)};
}

/* Array of scalars -> "a,b,c" (non-scalars as their JSON text). */
static hm_str join_array(hm_decode_ctx *ctx, int arr) {
    int n = ctx->tok[arr].size, k = arr + 1;
    size_t total = 0;
    for (int i = 0; i < n && k < ctx->ntok; i++) {
        total += (size_t)(ctx->tok[k].end - ctx->tok[k].start) + 1;
        k = hm_json_skip(ctx, k);
    }
    char *d = hm_arena_alloc(ctx->arena, total + 1), *o = d;
    k = arr + 1;
    for (int i = 0; i < n && k < ctx->ntok; i++) {
        hm_str v = hm_json_str(ctx, k);
        if (o > d) *o++ = ',';
        if (v.len <= total - (size_t)(o - d)) {
            memcpy(o, v.p, v.len);
            o += v.len;
        }
        k = hm_json_skip(ctx, k);
    }
    *o = 0;
    return (hm_str){d, (uint32_t)(o - d)};
}

static void param_out(hm_decode_ctx *ctx, hm_event *ev, hm_str name, int vt) {
    if (vt < 0 || hm_json_is_null(ctx, vt)) return;
    hm_str key = join2(ctx, "parameters.", name);
    if (ctx->tok[vt].type == JSMN_ARRAY)
        hm_dec_map(ctx, ev, key, join_array(ctx, vt));
    else if (ctx->tok[vt].type == JSMN_OBJECT)
        hm_json_flatten(ctx, ev, vt, key.p);
    else
        hm_dec_map(ctx, ev, key, hm_json_str(ctx, vt));
}

/* parameters: API list [{name, value|...}] or Panther object {name: value} */
static void params_out(hm_decode_ctx *ctx, hm_event *ev, int pt) {
    static const char *const vkeys[] = {
        "value",         "intValue",     "boolValue",        "multiValue",
        "multiIntValue", "messageValue", "multiMessageValue"};
    if (pt < 0) return;
    int n = ctx->tok[pt].size, k = pt + 1;
    if (ctx->tok[pt].type == JSMN_ARRAY) {
        for (int i = 0; i < n && k < ctx->ntok; i++) {
            if (ctx->tok[k].type == JSMN_OBJECT) {
                int nt = hm_json_path(ctx, k, "name");
                hm_str name = nt >= 0 ? hm_json_str(ctx, nt) : (hm_str){NULL, 0};
                if (name.len) {
                    for (size_t j = 0; j < HM_ARRAY_LEN(vkeys); j++) {
                        int vt = hm_json_path(ctx, k, vkeys[j]);
                        if (vt >= 0) {
                            param_out(ctx, ev, name, vt);
                            break;
                        }
                    }
                }
            }
            k = hm_json_skip(ctx, k);
        }
    } else if (ctx->tok[pt].type == JSMN_OBJECT) {
        for (int i = 0; i < n && k + 1 < ctx->ntok; i++) {
            param_out(ctx, ev, hm_json_str(ctx, k), k + 1);
            k = hm_json_skip(ctx, k + 1);
        }
    }
}

/* Flatten the members of obj except those named in skip[] (dotted names from the top). */
static void flatten_except(hm_decode_ctx *ctx, hm_event *ev, int obj, const char *const *skip,
                           size_t nskip) {
    int n = ctx->tok[obj].size, k = obj + 1;
    for (int i = 0; i < n && k + 1 < ctx->ntok; i++) {
        hm_str key = hm_json_str(ctx, k);
        int vt = k + 1;
        bool skipped = false;
        for (size_t j = 0; j < nskip; j++)
            if (hm_str_eq_c(key, skip[j])) skipped = true;
        if (!skipped && !hm_json_is_null(ctx, vt)) {
            if (ctx->tok[vt].type == JSMN_OBJECT || ctx->tok[vt].type == JSMN_ARRAY)
                hm_json_flatten(ctx, ev, vt, hm_dec_dup(ctx, key.p, key.len).p);
            else
                hm_dec_map(ctx, ev, key, hm_json_str(ctx, vt));
        }
        k = hm_json_skip(ctx, vt);
    }
}

/* `"id"` followed by an object somewhere in the text */
static bool has_id_object(hm_str b) {
    const char *p = b.p, *e = b.p + b.len;
    while (p < e) {
        const char *q = memmem(p, (size_t)(e - p), "\"id\"", 4);
        if (!q) return false;
        q += 4;
        while (q < e && (*q == ' ' || *q == ':')) q++;
        if (q < e && *q == '{') return true;
        p = q;
    }
    return false;
}

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
static int gw_probe(hm_decode_ctx *ctx, const hm_syslog_hdr *h) {
    HM_UNUSED(ctx);
    hm_str b = h->body;
    uint32_t i = 0;
    if (!b.p) return 0;
    while (i < b.len && (b.p[i] == ' ' || b.p[i] == '\t')) i++;
    if (i >= b.len || b.p[i] != '{') return 0;
    if (memmem(b.p, b.len, "admin#reports#activity", 22)) return 90;
    if (memmem(b.p, b.len, "\"applicationName\"", 17) && has_id_object(b)) return 90;
    return 0;
}

static int gw_decode(hm_decode_ctx *ctx, hm_event *ev) {
    hm_str body = hm_str_trim(ctx->hdr->body);
    if (hm_dec_json(ctx, body) < 0) {
        ctx->reason = "gworkspace: body is not a complete JSON object";
        return HM_EPARSE;
    }
    if (!json_keys_ok(ctx)) {
        ctx->reason = "gworkspace: malformed JSON (object member without a value)";
        return HM_EPARSE;
    }
    int root = 0;
    hm_str app = hm_json_str(ctx, hm_json_path(ctx, root, "id.applicationName"));
    /* the event: events[0], the events object, or the root itself (Panther) */
    int evt = root, events = hm_json_path(ctx, root, "events");
    bool flat = true;
    if (events >= 0 && ctx->tok[events].type == JSMN_OBJECT) {
        evt = events;
        flat = false;
    } else if (events >= 0 && ctx->tok[events].type == JSMN_ARRAY && ctx->tok[events].size > 0) {
        evt = events + 1;
        flat = false;
    }
    int nt = hm_json_path(ctx, evt, "name"), tt = hm_json_path(ctx, evt, "type");
    hm_str name = nt >= 0 && !hm_json_is_null(ctx, nt) ? hm_json_str(ctx, nt) : (hm_str){NULL, 0};
    hm_str type = tt >= 0 && !hm_json_is_null(ctx, tt) ? hm_json_str(ctx, tt) : (hm_str){NULL, 0};

    bool is_login = hm_str_eq_c(app, "login");
    hm_dec_origin(ev, HM_SRC_IDP, "google", "google_workspace",
                  is_login ? "authentication" : "application", NULL);
    if (is_login)
        hm_ev_set_c(ev, HM_F_SERVICE, "google_workspace.login");
    else if (hm_str_eq_c(app, "admin"))
        hm_ev_set_c(ev, HM_F_SERVICE, "google_workspace.admin");
    else if (app.len)
        hm_ev_set(ev, HM_F_SERVICE, join2(ctx, "google_workspace.", app));

    /* time */
    int tm = hm_json_path(ctx, root, "id.time");
    if (tm >= 0) {
        hm_str ts = hm_json_str(ctx, tm);
        int64_t ns;
        bool zone;
        if (hm_parse_iso8601(ts.p, ts.len, &ns, &zone))
            hm_dec_time_utc(ev, ns); /* zone-less = UTC */
    }
    hm_json_set(ctx, ev, root, "actor.email", HM_F_USER);
    hm_json_set(ctx, ev, root, "ipAddress", HM_F_SRC_IP);
    if (name.len) hm_ev_set(ev, HM_F_EVENT_ID_VENDOR, name);
    if (type.len) hm_dec_extra(ctx, ev, HM_STR_LIT("type"), type);

    params_out(ctx, ev, hm_json_path(ctx, evt, "parameters"));
    if (flat) {
        static const char *const skip[] = {"parameters", "type"};
        flatten_except(ctx, ev, root, skip, HM_ARRAY_LEN(skip));
    } else {
        static const char *const skip[] = {"events"};
        flatten_except(ctx, ev, root, skip, HM_ARRAY_LEN(skip));
        /* further events of an API record: events.N.* */
        if (ctx->tok[events].type == JSMN_ARRAY) {
            int k = hm_json_skip(ctx, events + 1);
            for (int i = 1; i < ctx->tok[events].size && i < 10 && k < ctx->ntok; i++) {
                char pfx[10] = "events.";
                pfx[7] = (char)('0' + i);
                pfx[8] = 0;
                hm_json_flatten(ctx, ev, k, pfx);
                k = hm_json_skip(ctx, k);
            }
        }
    }
    /* the affected account when no actor (account warnings) */
    if (!hm_ev_has(ev, HM_F_USER) && hm_ev_has(ev, HM_F_TARGET_USER))
        hm_ev_set(ev, HM_F_USER, hm_ev_get(ev, HM_F_TARGET_USER));

    /* event verb and outcome */
    const char *event = NULL, *outcome = NULL;
    hm_str tname = hm_str_trim(name);
    for (size_t i = 0; i < HM_ARRAY_LEN(gw_events); i++)
        if (hm_str_eq_c(tname, gw_events[i].name)) {
            event = gw_events[i].event;
            outcome = gw_events[i].outcome;
            break;
        }
    if (!event && tname.len > 8 &&
        (!memcmp(tname.p + tname.len - 8, "_SETTING", 8) ||
         (tname.len > 9 && !memcmp(tname.p + tname.len - 9, "_SETTINGS", 9)))) {
        event = "config_change";
        outcome = "success";
    }
    if (event && !strcmp(event, "config_change")) {
        hm_str setting;
        if (hm_ev_lookup(ev, "parameters.SETTING_NAME", 23, &setting) &&
            (hm_str_find_s(setting, "FORWARD") >= 0 || hm_str_find_s(setting, "forward") >= 0 ||
             hm_str_find_s(setting, "Forward") >= 0))
            event = "mail_forwarding_change";
    }
    if (!outcome &&
        (hm_str_eq_c(tname, "login_challenge") || hm_str_eq_c(tname, "login_verification"))) {
        hm_str st;
        if (hm_ev_lookup(ev, "parameters.login_challenge_status", 33, &st)) {
            if (hm_str_find_s(st, "assed") >= 0)
                outcome = "success"; /* "passed", "Challenge Passed." */
            else if (hm_str_find_s(st, "ailed") >= 0)
                outcome = "failure"; /* "failed", "Challenge Failed." */
        }
    }
    if (event)
        hm_ev_set_c(ev, HM_F_EVENT, event);
    else if (tname.len)
        hm_ev_set(ev, HM_F_EVENT, lower_trim_dup(ctx, tname));
    else
        hm_ev_set_c(ev, HM_F_EVENT, "activity");
    /* records of other applications (admin ...) are completed actions */
    hm_ev_set_c(ev, HM_F_OUTCOME, outcome ? outcome : is_login ? "unknown" : "success");
    return HM_OK;
}

const hm_decoder_ops hm_dec_gworkspace = {
    .abi = HM_DECODER_ABI,
    .name = "gworkspace",
    .description = "Google Workspace Reports API activities (login, admin ...), JSON",
    .probe = gw_probe,
    .decode = gw_decode,
};
