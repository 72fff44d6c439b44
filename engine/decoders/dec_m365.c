/* dec_m365.c - Microsoft 365 Management Activity API audit records (unified audit log), one
 * JSON object per line, bare or wrapped by Wazuh as {"integration":"office365","office365":{...}}.
 *   {"CreationTime":"2020-03-19T16:48:02","Operation":"New-InboxRule","Workload":"Exchange",
 *    "UserId":"u@x.org","ClientIP":"203.0.113.5:51234","ResultStatus":"True",
 *    "Parameters":[{"Name":"ForwardTo","Value":"x@evil.example"}], ...}
 * Operation -> event_id_vendor and a normalized event (table below, else the operation in
 * snake_case), UserId -> user, ClientIP / ActorIpAddress / ClientIPAddress -> src_ip (+port)
 * when it is an address ("sanitized" and other non-addresses stay vendor fields only;
 * "1.2.3.4:port", "[v6]:port" and bare IPv6 are understood), Workload -> app,
 * ResultStatus -> outcome, CreationTime (UTC, usually zone-less) -> time.
 * Name/Value arrays (Parameters, ExtendedProperties, DeviceProperties, ModifiedProperties)
 * become "Parameters.<Name>" vendor fields; everything else is flattened with dotted names. */
#include "../decode.h"

static const struct {
    const char *op, *event;
} m365_ops[] = {
    {"UserLoggedIn", "login_success"},
    {"UserLoginFailed", "login_failure"},
    {"New-InboxRule", "mailbox_rule_change"},
    {"Set-InboxRule", "mailbox_rule_change"},
    {"UpdateInboxRules", "mailbox_rule_change"},
    {"Remove-InboxRule", "mailbox_rule_change"},
    {"Enable-InboxRule", "mailbox_rule_change"},
    {"Disable-InboxRule", "mailbox_rule_change"},
    {"Set-Mailbox", "mailbox_change"}, /* mail_forwarding_change when forwarding is set */
    {"New-TransportRule", "transport_rule_change"},
    {"Set-TransportRule", "transport_rule_change"},
    {"Add-MailboxPermission", "mailbox_permission_change"},
    {"Remove-MailboxPermission", "mailbox_permission_change"},
    {"Add-RecipientPermission", "mailbox_permission_change"},
    {"Remove-RecipientPermission", "mailbox_permission_change"},
    {"AddFolderPermissions", "mailbox_permission_change"},
    {"RemoveFolderPermissions", "mailbox_permission_change"},
    {"ModifyFolderPermissions", "mailbox_permission_change"},
    {"MailItemsAccessed", "mailbox_access"},
    {"Send", "mail_send"},
    {"SendAs", "mail_send_as"},
    {"SendOnBehalf", "mail_send_on_behalf"},
    {"HardDelete", "mail_delete"},
    {"SoftDelete", "mail_delete"},
    {"MoveToDeletedItems", "mail_delete"},
    {"FileDownloaded", "file_download"},
    {"FileSyncDownloadedFull", "file_download"},
    {"FileSyncDownloadedPartial", "file_download"},
    {"FileAccessed", "file_access"},
    {"FileAccessedExtended", "file_access"},
    {"FilePreviewed", "file_access"},
    {"FileUploaded", "file_upload"},
    {"FileSyncUploadedFull", "file_upload"},
    {"FileModified", "file_modify"},
    {"FileDeleted", "file_delete"},
    {"FileRecycled", "file_delete"},
    {"FileCopied", "file_copy"},
    {"FileMoved", "file_move"},
    {"FileRenamed", "file_rename"},
    {"FileMalwareDetected", "malware_detected"},
    {"SharingSet", "sharing_change"},
    {"SharingInvitationCreated", "sharing_invitation"},
    {"SharingInvitationBlocked", "sharing_blocked"},
    {"AnonymousLinkCreated", "anonymous_link_created"},
    {"AnonymousLinkUsed", "anonymous_link_used"},
    {"CompanyLinkCreated", "sharing_link_created"},
    {"SecureLinkCreated", "sharing_link_created"},
    {"AddedToSecureLink", "sharing_change"},
    {"PermissionLevelAdded", "permission_change"},
    {"Add user.", "user_created"},
    {"Update user.", "user_modified"},
    {"Delete user.", "user_deleted"},
    {"Disable account.", "user_disabled"},
    {"Reset user password.", "password_change"},
    {"Change user password.", "password_change"},
    {"Set force change user password.", "password_change"},
    {"Add member to role.", "role_change"},
    {"Remove member from role.", "role_change"},
    {"Add eligible member to role.", "role_change"},
    {"Add group.", "group_created"},
    {"Delete group.", "group_deleted"},
    {"Add member to group.", "group_membership_change"},
    {"Remove member from group.", "group_membership_change"},
    {"Add service principal credentials.", "credential_added"},
    {"Add service principal.", "app_registered"},
    {"Add application.", "app_registered"},
    {"Consent to application.", "oauth_consent"},
    {"Add delegated permission grant.", "oauth_permission_grant"},
    {"Add app role assignment to service principal.", "oauth_permission_grant"},
    {"CaseAdded", "ediscovery_case_change"},
    {"CaseUpdated", "ediscovery_case_change"},
    {"CaseRemoved", "ediscovery_case_change"},
    {"CaseAdminAdded", "ediscovery_case_change"},
    {"CaseAdminUpdated", "ediscovery_case_change"},
    {"CaseAdminRemoved", "ediscovery_case_change"},
    {"SearchCreated", "ediscovery_search"},
    {"SearchStarted", "ediscovery_search"},
    {"SearchUpdated", "ediscovery_search"},
    {"SearchExported", "ediscovery_export"},
    {"SearchExportDownloaded", "ediscovery_export"},
    {"SearchPreviewed", "ediscovery_export"},
    {"AlertTriggered", "security_alert"},
    {"AlertEntityGenerated", "security_alert"},
};

static bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_ipv4(hm_str s) {
    int dots = 0, digits = 0;
    if (s.len < 7 || s.len > 15) return false;
    for (uint32_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (c == '.') {
            if (!digits) return false;
            dots++;
            digits = 0;
        } else if (c >= '0' && c <= '9') {
            if (++digits > 3) return false;
        } else {
            return false;
        }
    }
    return dots == 3 && digits > 0;
}

static bool is_ipv6(hm_str s) {
    int colons = 0;
    if (s.len < 2 || s.len > 45) return false;
    for (uint32_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (c == ':')
            colons++;
        else if (!is_hex(c) && c != '.')
            return false;
    }
    return colons >= 2;
}

static hm_str digits(hm_str s) {
    uint32_t i = 0;
    while (i < s.len && s.p[i] >= '0' && s.p[i] <= '9') i++;
    return i == s.len ? s : (hm_str){NULL, 0};
}

/* "1.2.3.4", "1.2.3.4:5678", "2001:db8::1", "[2001:db8::1]:443"; false for anything else */
static bool parse_ip(hm_str v, hm_str *ip, hm_str *port) {
    v = hm_str_trim(v);
    *port = (hm_str){NULL, 0};
    if (v.len && v.p[0] == '[') {
        int64_t rb = hm_str_find(v, ']');
        if (rb < 2) return false;
        *ip = (hm_str){v.p + 1, (uint32_t)(rb - 1)};
        if ((uint32_t)rb + 1 < v.len && v.p[rb + 1] == ':')
            *port = digits((hm_str){v.p + rb + 2, (uint32_t)(v.len - rb - 2)});
        return is_ipv6(*ip) || is_ipv4(*ip);
    }
    if (is_ipv4(v) || is_ipv6(v)) {
        *ip = v;
        return true;
    }
    int64_t c = hm_str_find(v, ':');
    if (c > 0 && hm_str_find((hm_str){v.p + c + 1, (uint32_t)(v.len - c - 1)}, ':') < 0) {
        hm_str a = {v.p, (uint32_t)c};
        if (is_ipv4(a)) {
            *ip = a;
            *port = digits((hm_str){v.p + c + 1, (uint32_t)(v.len - c - 1)});
            return true;
        }
    }
    return false;
}

/* "Add-MailboxPermission" -> add_mailbox_permission, "Add member to role." -> add_member_to_role */
static hm_str snake(hm_decode_ctx *ctx, hm_str s) {
    char *d = hm_arena_alloc(ctx->arena, (size_t)s.len * 2 + 1), *o = d;
    for (uint32_t i = 0; i < s.len && i < 128; i++) {
        char c = s.p[i];
        bool up = c >= 'A' && c <= 'Z', low = c >= 'a' && c <= 'z', dig = c >= '0' && c <= '9';
        if (up) {
            char pv = i ? s.p[i - 1] : 0, nx = i + 1 < s.len ? s.p[i + 1] : 0;
            bool pv_low = (pv >= 'a' && pv <= 'z') || (pv >= '0' && pv <= '9');
            bool acronym_end = pv >= 'A' && pv <= 'Z' && nx >= 'a' && nx <= 'z';
            if (o > d && o[-1] != '_' && (pv_low || acronym_end)) *o++ = '_';
            *o++ = (char)(c + 32);
        } else if (low || dig) {
            *o++ = c;
        } else if (o > d && o[-1] != '_') {
            *o++ = '_';
        }
    }
    while (o > d && o[-1] == '_') o--;
    *o = 0;
    return (hm_str){d, (uint32_t)(o - d)};
}

static hm_str join3(hm_decode_ctx *ctx, hm_str a, hm_str b, const char *c) {
    size_t cn = c ? strlen(c) : 0;
    char *d = hm_arena_alloc(ctx->arena, a.len + 1 + b.len + cn + 1), *o = d;
    memcpy(o, a.p, a.len);
    o += a.len;
    *o++ = '.';
    memcpy(o, b.p, b.len);
    o += b.len;
    if (cn) {
        memcpy(o, c, cn);
        o += cn;
    }
    *o = 0;
    return (hm_str){d, (uint32_t)(o - d)};
}

static bool is_name_value_array(hm_str key) {
    return hm_str_eq_c(key, "Parameters") || hm_str_eq_c(key, "ExtendedProperties") ||
           hm_str_eq_c(key, "DeviceProperties") || hm_str_eq_c(key, "ModifiedProperties");
}

/* [{"Name":N,"Value":V}] -> key.N = V ; ModifiedProperties also .NewValue/.OldValue */
static void name_values(hm_decode_ctx *ctx, hm_event *ev, hm_str key, int arr, bool *forwarding) {
    int n = ctx->tok[arr].size, k = arr + 1;
    for (int i = 0; i < n && k < ctx->ntok; i++) {
        if (ctx->tok[k].type == JSMN_OBJECT) {
            int nt = hm_json_path(ctx, k, "Name");
            hm_str name = nt >= 0 ? hm_json_str(ctx, nt) : (hm_str){NULL, 0};
            if (name.len) {
                static const char *const vk[] = {"Value", "NewValue", "OldValue"};
                static const char *const sfx[] = {NULL, ".NewValue", ".OldValue"};
                for (size_t j = 0; j < HM_ARRAY_LEN(vk); j++) {
                    int vt = hm_json_path(ctx, k, vk[j]);
                    if (vt < 0 || hm_json_is_null(ctx, vt)) continue;
                    hm_str val = hm_json_str(ctx, vt);
                    hm_str fk = join3(ctx, key, name, sfx[j]);
                    if (val.len || hm_field_map_get(ctx->map, fk.p, fk.len) < 0)
                        hm_dec_map(ctx, ev, fk, val);
                    if (val.len && hm_str_eq_c(key, "Parameters") &&
                        (hm_str_starts(name, "Forwarding") ||
                         hm_str_eq_c(name, "DeliverToMailboxAndForward")))
                        *forwarding = true;
                }
            }
        }
        k = hm_json_skip(ctx, k);
    }
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
static int m365_probe(hm_decode_ctx *ctx, const hm_syslog_hdr *h) {
    HM_UNUSED(ctx);
    hm_str b = h->body;
    uint32_t i = 0;
    if (!b.p) return 0;
    while (i < b.len && (b.p[i] == ' ' || b.p[i] == '\t')) i++;
    if (i >= b.len || b.p[i] != '{') return 0;
    if (memmem(b.p, b.len, "\"office365\":", 12)) return 90; /* Wazuh wrapper */
    if (memmem(b.p, b.len, "\"Workload\"", 10) && memmem(b.p, b.len, "\"CreationTime\"", 14))
        return 90;
    return 0;
}

static int m365_decode(hm_decode_ctx *ctx, hm_event *ev) {
    hm_str body = hm_str_trim(ctx->hdr->body);
    if (hm_dec_json(ctx, body) < 0) {
        ctx->reason = "m365: body is not a complete JSON object";
        return HM_EPARSE;
    }
    if (!json_keys_ok(ctx)) {
        ctx->reason = "m365: malformed JSON (object member without a value)";
        return HM_EPARSE;
    }
    int rec = hm_json_path(ctx, 0, "office365");
    bool wrapped = rec >= 0 && ctx->tok[rec].type == JSMN_OBJECT;
    if (!wrapped) rec = 0;

    hm_str op = {0}, workload = {0}, status = {0};
    int t;
    if ((t = hm_json_path(ctx, rec, "Operation")) >= 0 && !hm_json_is_null(ctx, t))
        op = hm_json_str(ctx, t);
    if ((t = hm_json_path(ctx, rec, "Workload")) >= 0 && !hm_json_is_null(ctx, t))
        workload = hm_json_str(ctx, t);
    if ((t = hm_json_path(ctx, rec, "ResultStatus")) >= 0 && !hm_json_is_null(ctx, t))
        status = hm_json_str(ctx, t);

    const char *event = NULL;
    for (size_t i = 0; i < HM_ARRAY_LEN(m365_ops); i++)
        if (hm_str_eq_c(op, m365_ops[i].op)) {
            event = m365_ops[i].event;
            break;
        }
    bool login = event && (!strcmp(event, "login_success") || !strcmp(event, "login_failure"));
    const char *service = "audit";
    if (hm_str_eq_c(workload, "Exchange"))
        service = "exchange";
    else if (hm_str_eq_c(workload, "SecurityComplianceCenter") ||
             hm_str_eq_c(workload, "ThreatIntelligence"))
        service = "threat_management";
    else if (hm_str_eq_c(workload, "AzureActiveDirectory"))
        service = "azure_ad";
    hm_dec_origin(ev, HM_SRC_SAAS, "microsoft", "m365", login ? "authentication" : "application",
                  service);

    /* time: CreationTime is UTC without a zone */
    if ((t = hm_json_path(ctx, rec, "CreationTime")) >= 0) {
        hm_str ts = hm_json_str(ctx, t);
        int64_t ns;
        bool zone;
        if (hm_parse_iso8601(ts.p, ts.len, &ns, &zone)) hm_dec_time_utc(ev, ns);
    }
    static const char *const ipkeys[] = {"ClientIP", "ActorIpAddress", "ClientIPAddress"};
    for (size_t i = 0; i < HM_ARRAY_LEN(ipkeys) && !hm_ev_has(ev, HM_F_SRC_IP); i++) {
        t = hm_json_path(ctx, rec, ipkeys[i]);
        if (t < 0 || hm_json_is_null(ctx, t)) continue;
        hm_str ip, port;
        if (parse_ip(hm_json_str(ctx, t), &ip, &port)) {
            hm_ev_set(ev, HM_F_SRC_IP, ip);
            if (port.len) hm_ev_set(ev, HM_F_SRC_PORT, port);
        }
    }
    if (op.len) hm_ev_set(ev, HM_F_EVENT_ID_VENDOR, op);
    hm_json_set(ctx, ev, rec, "UserId", HM_F_USER);
    if (workload.len) hm_ev_set(ev, HM_F_APP, workload);

    /* vendor fields */
    bool forwarding = false;
    int n = ctx->tok[rec].size, k = rec + 1;
    for (int i = 0; i < n && k + 1 < ctx->ntok; i++) {
        hm_str key = hm_json_str(ctx, k);
        int vt = k + 1;
        bool empty = ctx->tok[vt].type == JSMN_STRING && ctx->tok[vt].end == ctx->tok[vt].start;
        if (empty && hm_field_map_get(ctx->map, key.p, key.len) >= 0) {
            /* an empty value never fills a taxonomy field */
        } else if (!hm_json_is_null(ctx, vt)) {
            if (ctx->tok[vt].type == JSMN_ARRAY && is_name_value_array(key))
                name_values(ctx, ev, key, vt, &forwarding);
            else if (ctx->tok[vt].type == JSMN_OBJECT || ctx->tok[vt].type == JSMN_ARRAY)
                hm_json_flatten(ctx, ev, vt, hm_dec_dup(ctx, key.p, key.len).p);
            else
                hm_dec_map(ctx, ev, key, hm_json_str(ctx, vt));
        }
        k = hm_json_skip(ctx, vt);
    }
    if (wrapped) { /* the wrapper's own keys ("integration") */
        n = ctx->tok[0].size;
        k = 1;
        for (int i = 0; i < n && k + 1 < ctx->ntok; i++) {
            if (k + 1 != rec && ctx->tok[k + 1].type != JSMN_OBJECT &&
                ctx->tok[k + 1].type != JSMN_ARRAY && !hm_json_is_null(ctx, k + 1))
                hm_dec_extra(ctx, ev, hm_json_str(ctx, k), hm_json_str(ctx, k + 1));
            k = hm_json_skip(ctx, k + 1);
        }
    }

    /* event verb */
    if (event && !strcmp(event, "mailbox_change") && forwarding) event = "mail_forwarding_change";
    if (event)
        hm_ev_set_c(ev, HM_F_EVENT, event);
    else if (op.len)
        hm_ev_set(ev, HM_F_EVENT, snake(ctx, op));
    else if (wrapped && hm_json_path(ctx, rec, "subscription_name") >= 0)
        hm_ev_set_c(ev, HM_F_EVENT, "integration_status"); /* Wazuh's own status record */
    else
        hm_ev_set_c(ev, HM_F_EVENT, "audit_record");

    /* outcome: implied by a login operation, else ResultStatus */
    const char *outcome = NULL;
    if (status.len && !login) {
        if (hm_str_ieq_c(status, "PartiallySucceeded"))
            outcome = "success";
        else
            outcome = hm_outcome_from_word(status);
        if (!strcmp(outcome, "unknown")) outcome = NULL;
    }
    if (!outcome && login) outcome = !strcmp(event, "login_success") ? "success" : "failure";
    hm_ev_set_c(ev, HM_F_OUTCOME, outcome ? outcome : "unknown");
    return HM_OK;
}

const hm_decoder_ops hm_dec_m365 = {
    .abi = HM_DECODER_ABI,
    .name = "m365",
    .description =
        "Microsoft 365 Management Activity audit records (optionally Wazuh-wrapped), JSON",
    .probe = m365_probe,
    .decode = m365_decode,
};
