/* dec_windows.c - Windows event log records exported as JSON, one object per line
 * (optionally behind a syslog header). Three shapes are read:
 *
 *   evtx_dump / python-evtx (xmltodict) nested:
 *     {"Event":{"System":{"Provider":{"#attributes":{"Name":..}},"EventID":1,...},
 *               "EventData":{"Image":..} | {"Data":[{"@Name":"X","#text":"v"},...]}}}
 *   Winlogbeat / Elastic Agent:
 *     {"@timestamp":..,"winlog":{"channel":..,"event_id":..,"event_data":{..}},...}
 *   NXLog im_msvistalog flat:
 *     {"EventTime":"2024-03-11 08:00:00","Hostname":..,"EventID":..,"SourceName":..,..}
 *
 * Every EventData/UserData/event_data field is kept as a vendor extra under its plain
 * Sigma name (Image, CommandLine, TargetUserName...). System fields use SigmaHQ's
 * Tag_Attribute naming (EventID, Channel, Computer, Provider_Name, Execution_ProcessID,
 * Security_UserID...), whatever the shape. Sigma logsource: product "windows", service
 * from the channel (win_channels), category and event verb from the event id
 * (win_events). Taxonomy fields are set in code where they depend on the event id
 * (user, target_user, outcome, object...) and through rules/mappings/windows.yml for
 * plain 1:1 names (CommandLine -> command, DestinationIp -> dst_ip...).
 * See docs/decoders/windows.md. */
#include "../decode.h"

#include <strings.h>

/* ---- channel -> Sigma service (pySigma windows_logsource_mapping names) ---- */

enum win_kind {
    WK_OTHER = 0,
    WK_SECURITY,
    WK_SYSTEM,
    WK_APPLICATION,
    WK_SYSMON,
    WK_POWERSHELL,
    WK_PSCLASSIC,
    WK_DEFENDER,
    WK_TASKSCHED,
};

typedef struct win_channel {
    const char *channel; /* compared case-insensitively */
    uint8_t prefix;      /* 1: channel starts with this text */
    uint8_t kind;
    const char *service;
} win_channel;

static const win_channel win_channels[] = {
    {"Security", 0, WK_SECURITY, "security"},
    {"System", 0, WK_SYSTEM, "system"},
    {"Application", 0, WK_APPLICATION, "application"},
    {"Microsoft-Windows-Sysmon/Operational", 0, WK_SYSMON, "sysmon"},
    {"Microsoft-Windows-PowerShell/Operational", 0, WK_POWERSHELL, "powershell"},
    {"PowerShellCore/Operational", 0, WK_POWERSHELL, "powershell"},
    {"Windows PowerShell", 0, WK_PSCLASSIC, "powershell-classic"},
    {"Microsoft-Windows-Windows Defender/Operational", 0, WK_DEFENDER, "windefend"},
    {"Microsoft-Windows-TaskScheduler/Operational", 0, WK_TASKSCHED, "taskscheduler"},
    {"Microsoft-Windows-WMI-Activity/Operational", 0, WK_OTHER, "wmi"},
    {"DNS Server", 0, WK_OTHER, "dns-server"},
    {"Microsoft-Windows-DNS-Server/Audit", 0, WK_OTHER, "dns-server-audit"},
    {"Microsoft-Windows-DNS-Server/Analytical", 0, WK_OTHER, "dns-server-analytic"},
    {"Microsoft-Windows-DNS-Client/Operational", 0, WK_OTHER, "dns-client"},
    {"Microsoft-Windows-DNS Client Events/Operational", 0, WK_OTHER, "dns-client"},
    {"Microsoft-Windows-DriverFrameworks-UserMode/Operational", 0, WK_OTHER, "driver-framework"},
    {"Microsoft-Windows-NTLM/Operational", 0, WK_OTHER, "ntlm"},
    {"Microsoft-Windows-DHCP-Server/Operational", 0, WK_OTHER, "dhcp"},
    {"MSExchange Management", 0, WK_OTHER, "msexchange-management"},
    {"Microsoft-Windows-AppLocker/", 1, WK_OTHER, "applocker"},
    {"Microsoft-Windows-PrintService/Admin", 0, WK_OTHER, "printservice-admin"},
    {"Microsoft-Windows-PrintService/Operational", 0, WK_OTHER, "printservice-operational"},
    {"Microsoft-Windows-CodeIntegrity/Operational", 0, WK_OTHER, "codeintegrity-operational"},
    {"Microsoft-Windows-SmbClient/Security", 0, WK_OTHER, "smbclient-security"},
    {"Microsoft-Windows-SmbClient/Connectivity", 0, WK_OTHER, "smbclient-connectivity"},
    {"Microsoft-Windows-SMBServer/Connectivity", 0, WK_OTHER, "smbserver-connectivity"},
    {"Microsoft-Windows-Windows Firewall With Advanced Security/Firewall", 0, WK_OTHER,
     "firewall-as"},
    {"Microsoft-Windows-Bits-Client/Operational", 0, WK_OTHER, "bits-client"},
    {"Microsoft-Windows-TerminalServices-LocalSessionManager/Operational", 0, WK_OTHER,
     "terminalservices-localsessionmanager"},
    {"Microsoft-ServiceBus-Client", 0, WK_OTHER, "microsoft-servicebus-client"},
    {"Microsoft-Windows-LDAP-Client/Debug", 0, WK_OTHER, "ldap"},
    {"Microsoft-Windows-Security-Mitigations/", 1, WK_OTHER, "security-mitigations"},
    {"Microsoft-Windows-Diagnosis-Scripted/Operational", 0, WK_OTHER, "diagnosis-scripted"},
    {"Microsoft-Windows-Shell-Core/Operational", 0, WK_OTHER, "shell-core"},
    {"OpenSSH/Operational", 0, WK_OTHER, "openssh"},
    {"Microsoft-Windows-BitLocker/BitLocker Management", 0, WK_OTHER, "bitlocker"},
    {"Microsoft-Windows-VHDMP/Operational", 0, WK_OTHER, "vhdmp"},
    {"Microsoft-Windows-AppXDeploymentServer/Operational", 0, WK_OTHER, "appxdeployment-server"},
    {"Microsoft-Windows-LSA/Operational", 0, WK_OTHER, "lsa-server"},
    {"Microsoft-Windows-AppxPackaging/Operational", 0, WK_OTHER, "appxpackaging-om"},
    {"Microsoft-Windows-AppModel-Runtime/Admin", 0, WK_OTHER, "appmodel-runtime"},
    {"Microsoft-Windows-CAPI2/Operational", 0, WK_OTHER, "capi2"},
    {"Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational", 0, WK_OTHER,
     "certificateservicesclient-lifecycle-system"},
    {"Microsoft-IIS-Configuration/Operational", 0, WK_OTHER, "iis-configuration"},
};

/* When a record carries no channel: the provider says where it came from. */
static const struct {
    const char *provider;
    uint8_t ch; /* index into win_channels (keep in step with its first rows) */
} win_providers[] = {
    {"Microsoft-Windows-Security-Auditing", 0},
    {"Service Control Manager", 1},
    {"Microsoft-Windows-Sysmon", 3},
    {"Microsoft-Windows-PowerShell", 4},
    {"PowerShell", 6},
    {"Microsoft-Windows-Windows Defender", 7},
    {"Microsoft-Windows-TaskScheduler", 8},
};

static const win_channel *channel_lookup(hm_str ch, hm_str provider) {
    if (ch.len) {
        for (size_t i = 0; i < HM_ARRAY_LEN(win_channels); i++) {
            const win_channel *c = &win_channels[i];
            size_t n = strlen(c->channel);
            if (c->prefix ? (ch.len >= n && !strncasecmp(ch.p, c->channel, n))
                          : (ch.len == n && !strncasecmp(ch.p, c->channel, n)))
                return c;
        }
        return NULL;
    }
    for (size_t i = 0; i < HM_ARRAY_LEN(win_providers); i++)
        if (hm_str_ieq_c(provider, win_providers[i].provider))
            return &win_channels[win_providers[i].ch];
    return NULL;
}

/* ---- event id -> Sigma category, event verb, outcome, who acted ---- */

enum win_outcome { WO_NONE = 0, WO_SUCCESS, WO_FAILURE, WO_STATUS /* Status 0x0 = success */ };

enum win_who {
    WW_DEFAULT = 0, /* SubjectUserName -> user, TargetUserName -> target_user, else User */
    WW_TARGET,      /* logons: TargetUserName/TargetDomainName -> user/user_domain */
    WW_SUBJECT,     /* SubjectUserName/SubjectDomainName -> user/user_domain */
    WW_SUBJ_TARGET, /* account management: Subject -> user, TargetUserName -> target_user */
    WW_SUBJ_MEMBER, /* group membership: Subject -> user, MemberName -> target_user */
    WW_NEWPROC,     /* 4688: TargetUserName when set (new process account), else Subject */
    WW_SYSMON,      /* "User" (DOMAIN\name) split into user/user_domain */
    WW_ACCOUNT,     /* AccountName/AccountDomain -> user/user_domain (4778/4779) */
    WW_SERVICE,     /* 7045: AccountName -> run_as */
};

typedef struct win_evdef {
    uint8_t kind;           /* win_kind of the channel */
    uint16_t id;            /* EventID */
    const char *category;   /* Sigma logsource category, NULL when none */
    const char *event;      /* taxonomy `event` verb */
    uint8_t outcome;        /* win_outcome */
    uint8_t who;            /* win_who */
    const char *object;     /* taxonomy `object` (kind of thing touched) or NULL */
    const char *object_key; /* EventData field copied to `object_id`, or NULL */
} win_evdef;

/* SigmaHQ logsource conventions (sigma-specification appendix, pySigma windows
 * pipelines): Sysmon ids map one to one onto categories; Security 4688 is
 * process_creation too (windows_audit_pipeline); PowerShell 4103/4104 are
 * ps_module/ps_script and classic 400/600/800 ps_classic_*. Sysmon 12 is refined to
 * registry_add / registry_delete by EventType, Security 4657 by OperationType. */
static const win_evdef win_events[] = {
    /* Sysmon */
    {WK_SYSMON, 1, "process_creation", "process_create", 0, WW_SYSMON, "process", "Image"},
    {WK_SYSMON, 2, "file_change", "file_time_change", 0, WW_SYSMON, "file", "TargetFilename"},
    {WK_SYSMON, 3, "network_connection", "network_connect", 0, WW_SYSMON, NULL, NULL},
    {WK_SYSMON, 4, "sysmon_status", "sysmon_state_change", 0, WW_DEFAULT, NULL, NULL},
    {WK_SYSMON, 5, "process_termination", "process_terminate", 0, WW_SYSMON, "process", "Image"},
    {WK_SYSMON, 6, "driver_load", "driver_load", 0, WW_SYSMON, "file", "ImageLoaded"},
    {WK_SYSMON, 7, "image_load", "image_load", 0, WW_SYSMON, "file", "ImageLoaded"},
    {WK_SYSMON, 8, "create_remote_thread", "create_remote_thread", 0, WW_SYSMON, "process",
     "TargetImage"},
    {WK_SYSMON, 9, "raw_access_thread", "raw_disk_read", 0, WW_SYSMON, "device", "Device"},
    {WK_SYSMON, 10, "process_access", "process_access", 0, WW_SYSMON, "process", "TargetImage"},
    {WK_SYSMON, 11, "file_event", "file_create", 0, WW_SYSMON, "file", "TargetFilename"},
    {WK_SYSMON, 12, "registry_event", "registry_event", 0, WW_SYSMON, "registry", "TargetObject"},
    {WK_SYSMON, 13, "registry_set", "registry_set", 0, WW_SYSMON, "registry", "TargetObject"},
    {WK_SYSMON, 14, "registry_rename", "registry_rename", 0, WW_SYSMON, "registry", "TargetObject"},
    {WK_SYSMON, 15, "create_stream_hash", "file_stream_create", 0, WW_SYSMON, "file",
     "TargetFilename"},
    {WK_SYSMON, 16, "sysmon_status", "sysmon_config_change", 0, WW_DEFAULT, NULL, NULL},
    {WK_SYSMON, 17, "pipe_created", "pipe_create", 0, WW_SYSMON, "pipe", "PipeName"},
    {WK_SYSMON, 18, "pipe_created", "pipe_connect", 0, WW_SYSMON, "pipe", "PipeName"},
    {WK_SYSMON, 19, "wmi_event", "wmi_filter_register", 0, WW_SYSMON, "wmi", "Name"},
    {WK_SYSMON, 20, "wmi_event", "wmi_consumer_register", 0, WW_SYSMON, "wmi", "Name"},
    {WK_SYSMON, 21, "wmi_event", "wmi_binding_register", 0, WW_SYSMON, "wmi", "Consumer"},
    {WK_SYSMON, 22, "dns_query", "dns_query", 0, WW_SYSMON, NULL, NULL},
    {WK_SYSMON, 23, "file_delete", "file_delete", 0, WW_SYSMON, "file", "TargetFilename"},
    {WK_SYSMON, 24, "clipboard_change", "clipboard_change", 0, WW_SYSMON, NULL, NULL},
    {WK_SYSMON, 25, "process_tampering", "process_tampering", 0, WW_SYSMON, "process", "Image"},
    {WK_SYSMON, 26, "file_delete", "file_delete_detected", 0, WW_SYSMON, "file", "TargetFilename"},
    {WK_SYSMON, 27, "file_block_executable", "file_block_executable", 0, WW_SYSMON, "file",
     "TargetFilename"},
    {WK_SYSMON, 28, "file_block_shredding", "file_block_shredding", 0, WW_SYSMON, "file",
     "TargetFilename"},
    {WK_SYSMON, 29, "file_executable_detected", "file_executable_detected", 0, WW_SYSMON, "file",
     "TargetFilename"},
    {WK_SYSMON, 255, "sysmon_error", "sysmon_error", 0, WW_DEFAULT, NULL, NULL},
    /* Security: logons and Kerberos/NTLM */
    {WK_SECURITY, 4624, NULL, "login_success", WO_SUCCESS, WW_TARGET, NULL, NULL},
    {WK_SECURITY, 4625, NULL, "login_failure", WO_FAILURE, WW_TARGET, NULL, NULL},
    {WK_SECURITY, 4634, NULL, "logoff", WO_SUCCESS, WW_TARGET, NULL, NULL},
    {WK_SECURITY, 4647, NULL, "logoff", WO_SUCCESS, WW_TARGET, NULL, NULL},
    {WK_SECURITY, 4648, NULL, "explicit_credential_logon", WO_SUCCESS, WW_SUBJ_TARGET, NULL, NULL},
    {WK_SECURITY, 4672, NULL, "special_privileges_logon", WO_SUCCESS, WW_SUBJECT, NULL, NULL},
    {WK_SECURITY, 4768, NULL, "kerberos_tgt_request", WO_STATUS, WW_TARGET, NULL, NULL},
    {WK_SECURITY, 4769, NULL, "kerberos_service_ticket", WO_STATUS, WW_TARGET, "service",
     "ServiceName"},
    {WK_SECURITY, 4771, NULL, "kerberos_preauth_failure", WO_FAILURE, WW_TARGET, NULL, NULL},
    {WK_SECURITY, 4776, NULL, "ntlm_auth", WO_STATUS, WW_TARGET, NULL, NULL},
    {WK_SECURITY, 4778, NULL, "session_reconnect", WO_SUCCESS, WW_ACCOUNT, NULL, NULL},
    {WK_SECURITY, 4779, NULL, "session_disconnect", WO_SUCCESS, WW_ACCOUNT, NULL, NULL},
    /* Security: processes, services, tasks, objects */
    {WK_SECURITY, 4688, "process_creation", "process_create", 0, WW_NEWPROC, "process",
     "NewProcessName"},
    {WK_SECURITY, 4689, NULL, "process_terminate", 0, WW_SUBJECT, "process", "ProcessName"},
    {WK_SECURITY, 4657, "registry_event", "registry_set", 0, WW_SUBJECT, "registry", "ObjectName"},
    {WK_SECURITY, 4663, NULL, "object_access", 0, WW_SUBJECT, NULL, "ObjectName"},
    {WK_SECURITY, 4697, NULL, "service_install", 0, WW_SUBJECT, "service", "ServiceName"},
    {WK_SECURITY, 4698, NULL, "scheduled_task_create", 0, WW_SUBJECT, "scheduled_task", "TaskName"},
    {WK_SECURITY, 4699, NULL, "scheduled_task_delete", 0, WW_SUBJECT, "scheduled_task", "TaskName"},
    {WK_SECURITY, 4702, NULL, "scheduled_task_update", 0, WW_SUBJECT, "scheduled_task", "TaskName"},
    {WK_SECURITY, 4719, NULL, "audit_policy_change", 0, WW_SUBJECT, NULL, NULL},
    {WK_SECURITY, 5136, NULL, "directory_object_modify", 0, WW_SUBJECT, "directory_object",
     "ObjectDN"},
    {WK_SECURITY, 5140, NULL, "share_access", 0, WW_SUBJECT, "share", "ShareName"},
    {WK_SECURITY, 5145, NULL, "share_access_check", 0, WW_SUBJECT, "share", "ShareName"},
    {WK_SECURITY, 1102, NULL, "audit_log_cleared", 0, WW_SUBJECT, NULL, NULL},
    /* Security: account management */
    {WK_SECURITY, 4720, NULL, "user_create", 0, WW_SUBJ_TARGET, "account", "TargetUserName"},
    {WK_SECURITY, 4722, NULL, "user_enable", 0, WW_SUBJ_TARGET, "account", "TargetUserName"},
    {WK_SECURITY, 4723, NULL, "password_change", 0, WW_SUBJ_TARGET, "account", "TargetUserName"},
    {WK_SECURITY, 4724, NULL, "password_reset", 0, WW_SUBJ_TARGET, "account", "TargetUserName"},
    {WK_SECURITY, 4725, NULL, "user_disable", 0, WW_SUBJ_TARGET, "account", "TargetUserName"},
    {WK_SECURITY, 4726, NULL, "user_delete", 0, WW_SUBJ_TARGET, "account", "TargetUserName"},
    {WK_SECURITY, 4738, NULL, "user_change", 0, WW_SUBJ_TARGET, "account", "TargetUserName"},
    {WK_SECURITY, 4740, NULL, "account_lockout", 0, WW_SUBJ_TARGET, "account", "TargetUserName"},
    {WK_SECURITY, 4767, NULL, "account_unlock", 0, WW_SUBJ_TARGET, "account", "TargetUserName"},
    {WK_SECURITY, 4781, NULL, "account_rename", 0, WW_SUBJ_TARGET, "account", "OldTargetUserName"},
    {WK_SECURITY, 4794, NULL, "dsrm_password_set", 0, WW_SUBJECT, NULL, NULL},
    {WK_SECURITY, 4728, NULL, "group_member_add", 0, WW_SUBJ_MEMBER, "group", "TargetUserName"},
    {WK_SECURITY, 4729, NULL, "group_member_remove", 0, WW_SUBJ_MEMBER, "group", "TargetUserName"},
    {WK_SECURITY, 4732, NULL, "group_member_add", 0, WW_SUBJ_MEMBER, "group", "TargetUserName"},
    {WK_SECURITY, 4733, NULL, "group_member_remove", 0, WW_SUBJ_MEMBER, "group", "TargetUserName"},
    {WK_SECURITY, 4756, NULL, "group_member_add", 0, WW_SUBJ_MEMBER, "group", "TargetUserName"},
    {WK_SECURITY, 4757, NULL, "group_member_remove", 0, WW_SUBJ_MEMBER, "group", "TargetUserName"},
    /* PowerShell (operational and classic) */
    {WK_POWERSHELL, 4103, "ps_module", "ps_module_log", 0, WW_DEFAULT, NULL, NULL},
    {WK_POWERSHELL, 4104, "ps_script", "ps_script_block", 0, WW_DEFAULT, NULL, NULL},
    {WK_PSCLASSIC, 400, "ps_classic_start", "ps_engine_start", 0, WW_DEFAULT, NULL, NULL},
    {WK_PSCLASSIC, 403, NULL, "ps_engine_stop", 0, WW_DEFAULT, NULL, NULL},
    {WK_PSCLASSIC, 600, "ps_classic_provider_start", "ps_provider_start", 0, WW_DEFAULT, NULL,
     NULL},
    {WK_PSCLASSIC, 800, "ps_classic_script", "ps_pipeline_execute", 0, WW_DEFAULT, NULL, NULL},
    /* System */
    {WK_SYSTEM, 7045, NULL, "service_install", 0, WW_SERVICE, "service", "ServiceName"},
    {WK_SYSTEM, 7036, NULL, "service_state_change", 0, WW_DEFAULT, "service", "param1"},
    {WK_SYSTEM, 7040, NULL, "service_start_type_change", 0, WW_DEFAULT, "service", "param1"},
    {WK_SYSTEM, 104, NULL, "log_cleared", 0, WW_DEFAULT, NULL, NULL},
    {WK_SYSTEM, 1074, NULL, "shutdown_initiated", 0, WW_DEFAULT, NULL, NULL},
    {WK_SYSTEM, 6005, NULL, "eventlog_start", 0, WW_DEFAULT, NULL, NULL},
    {WK_SYSTEM, 6006, NULL, "eventlog_stop", 0, WW_DEFAULT, NULL, NULL},
    /* Windows Defender */
    {WK_DEFENDER, 1116, NULL, "malware_detected", 0, WW_DEFAULT, "file", "Path"},
    {WK_DEFENDER, 1117, NULL, "malware_action", 0, WW_DEFAULT, "file", "Path"},
    {WK_DEFENDER, 5001, NULL, "realtime_protection_disabled", 0, WW_DEFAULT, NULL, NULL},
    {WK_DEFENDER, 5007, NULL, "av_config_change", 0, WW_DEFAULT, NULL, NULL},
    /* Task Scheduler */
    {WK_TASKSCHED, 106, NULL, "scheduled_task_create", 0, WW_DEFAULT, "scheduled_task", "TaskName"},
    {WK_TASKSCHED, 141, NULL, "scheduled_task_delete", 0, WW_DEFAULT, "scheduled_task", "TaskName"},
    {WK_TASKSCHED, 200, NULL, "scheduled_task_run", 0, WW_DEFAULT, "scheduled_task", "TaskName"},
};

static const win_evdef *event_lookup(uint8_t kind, int64_t id) {
    for (size_t i = 0; i < HM_ARRAY_LEN(win_events); i++)
        if (win_events[i].id == id && win_events[i].kind == kind) return &win_events[i];
    return NULL;
}

/* NTSTATUS / Kerberos codes of failed logons (4625 SubStatus/Status, 4771, 4776). */
static const struct {
    const char *code, *reason;
} win_status[] = {
    {"0xc0000064", "unknown_user"},
    {"0xc000006a", "bad_password"},
    {"0xc000006d", "bad_credentials"},
    {"0xc000006e", "account_restriction"},
    {"0xc000006f", "outside_logon_hours"},
    {"0xc0000070", "workstation_restriction"},
    {"0xc0000071", "password_expired"},
    {"0xc0000072", "account_disabled"},
    {"0xc0000133", "clock_skew"},
    {"0xc000015b", "logon_type_not_granted"},
    {"0xc0000193", "account_expired"},
    {"0xc0000224", "password_must_change"},
    {"0xc0000234", "account_locked"},
    {"0xc0000413", "authentication_firewall"},
    {"0x6", "unknown_user"},
    {"0x12", "account_disabled_or_locked"},
    {"0x17", "password_expired"},
    {"0x18", "bad_password"},
    {"0x25", "clock_skew"},
};

/* ---- probe ---- */

static bool has(const char *p, size_t n, const char *needle) {
    return memmem(p, n, needle, strlen(needle)) != NULL;
}

static int win_probe(hm_decode_ctx *ctx, const hm_syslog_hdr *h) {
    HM_UNUSED(ctx);
    const char *p = h->body.p;
    size_t n = h->body.len;
    while (n && (*p == ' ' || *p == '\t')) p++, n--;
    if (n < 16 || *p != '{') return 0;
    /* evtx_dump / python-evtx: {"Event":{ ... "System":{ near the start: certain */
    const char *q = p + 1;
    while (q < p + n && (*q == ' ' || *q == '\t')) q++;
    if ((size_t)(p + n - q) > 8 && !memcmp(q, "\"Event\"", 7) &&
        has(q, n - (size_t)(q - p) < 600 ? n - (size_t)(q - p) : 600, "\"System\""))
        return 100;
    if (has(p, n, "\"winlog\"")) return 90;
    if (has(p, n, "\"Event\"") && has(p, n, "\"System\"")) return 90;
    if (!has(p, n, "\"EventID\"")) return 0;
    /* keep away from Google Workspace / Entra / M365 JSON */
    if (has(p, n, "\"applicationName\"") || has(p, n, "SignInLogs") || has(p, n, "\"Workload\"") ||
        has(p, n, "office365"))
        return 0;
    if (has(p, n, "\"SourceName\"") || has(p, n, "\"Channel\"") || has(p, n, "\"ProviderGuid\""))
        return 60;
    return 30;
}

/* ---- building extras ---- */

typedef struct win_acc {
    hm_str unnamed[32]; /* EventData <Data> without Name, joined into `Data` */
    int n_unnamed;
    hm_str sys_time; /* System TimeCreated SystemTime */
} win_acc;

static inline bool tok_is_scalar(const hm_decode_ctx *ctx, int t) {
    return ctx->tok[t].type == JSMN_STRING || ctx->tok[t].type == JSMN_PRIMITIVE;
}

static inline bool key_is(const hm_decode_ctx *ctx, int k, const char *s) {
    size_t n = strlen(s);
    const jsmntok_t *t = &ctx->tok[k];
    return (size_t)(t->end - t->start) == n && !memcmp(ctx->json + t->start, s, n);
}

static inline hm_str key_str(hm_decode_ctx *ctx, int k) {
    return hm_json_str(ctx, k);
}

static hm_str join2(hm_decode_ctx *ctx, hm_str a, hm_str b) {
    char *o = hm_arena_alloc(ctx->arena, a.len + b.len + 2);
    memcpy(o, a.p, a.len);
    o[a.len] = '_';
    memcpy(o + a.len + 1, b.p, b.len);
    o[a.len + 1 + b.len] = 0;
    return (hm_str){o, a.len + 1 + b.len};
}

/* Value of a scalar token; JSON null -> empty string (an empty <Data> element). */
static hm_str scalar(hm_decode_ctx *ctx, int t) {
    if (hm_json_is_null(ctx, t)) return HM_STR_LIT("");
    return hm_json_str(ctx, t);
}

static void put(hm_decode_ctx *ctx, hm_event *ev, hm_str key, hm_str val) {
    hm_dec_extra(ctx, ev, key, val);
}

static void unnamed_add(win_acc *a, hm_str v) {
    if (a->n_unnamed < (int)HM_ARRAY_LEN(a->unnamed)) a->unnamed[a->n_unnamed++] = v;
}

static void data_value(hm_decode_ctx *ctx, hm_event *ev, win_acc *a, int t);

/* One <Data> element as an object: {"@Name":"X","#text":"v"} (xmltodict) or
 * {"#attributes":{"Name":"X"},"#text":"v"} (evtx_dump). */
static void data_object(hm_decode_ctx *ctx, hm_event *ev, win_acc *a, int o) {
    int name = hm_json_path(ctx, o, "@Name");
    if (name < 0) name = hm_json_path(ctx, o, "#attributes.Name");
    if (name < 0) name = hm_json_path(ctx, o, "Name");
    int text = hm_json_path(ctx, o, "#text");
    if (name >= 0 && tok_is_scalar(ctx, name)) {
        hm_str v = HM_STR_LIT("");
        if (text >= 0) v = tok_is_scalar(ctx, text) ? scalar(ctx, text) : hm_json_str(ctx, text);
        put(ctx, ev, hm_json_str(ctx, name), v);
    } else if (text >= 0) {
        data_value(ctx, ev, a, text);
    }
}

static void data_value(hm_decode_ctx *ctx, hm_event *ev, win_acc *a, int t) {
    const jsmntok_t *tk = &ctx->tok[t];
    if (tk->type == JSMN_OBJECT) {
        data_object(ctx, ev, a, t);
    } else if (tk->type == JSMN_ARRAY) {
        int k = t + 1;
        for (int i = 0; i < tk->size && k < ctx->ntok; i++) {
            data_value(ctx, ev, a, k);
            k = hm_json_skip(ctx, k);
        }
    } else if (!hm_json_is_null(ctx, t)) {
        unnamed_add(a, hm_json_str(ctx, t));
    }
}

/* Fields of EventData / UserData.<Element> / winlog.event_data: plain names. */
static void data_fields(hm_decode_ctx *ctx, hm_event *ev, win_acc *a, int obj) {
    if (obj < 0 || ctx->tok[obj].type != JSMN_OBJECT) return;
    int k = obj + 1;
    for (int i = 0; i < ctx->tok[obj].size && k < ctx->ntok; i++) {
        int v = k + 1;
        const char *kp = ctx->json + ctx->tok[k].start;
        if (kp[0] == '@' || key_is(ctx, k, "#attributes") || key_is(ctx, k, "xmlns")) {
            /* XML attributes of the element itself (xmlns, Name): not data */
        } else if (key_is(ctx, k, "Data") || key_is(ctx, k, "#text")) {
            data_value(ctx, ev, a, v);
        } else if (tok_is_scalar(ctx, v)) {
            put(ctx, ev, key_str(ctx, k), scalar(ctx, v));
        } else if (ctx->tok[v].type == JSMN_OBJECT && hm_json_path(ctx, v, "#text") >= 0) {
            int t = hm_json_path(ctx, v, "#text");
            put(ctx, ev, key_str(ctx, k),
                tok_is_scalar(ctx, t) ? scalar(ctx, t) : hm_json_str(ctx, t));
        } else {
            put(ctx, ev, key_str(ctx, k), hm_json_str(ctx, v)); /* nested: raw JSON text */
        }
        k = hm_json_skip(ctx, v);
    }
}

static void flush_unnamed(hm_decode_ctx *ctx, hm_event *ev, win_acc *a) {
    if (!a->n_unnamed) return;
    size_t n = 0;
    for (int i = 0; i < a->n_unnamed; i++) n += a->unnamed[i].len + 1;
    char *o = hm_arena_alloc(ctx->arena, n), *d = o;
    for (int i = 0; i < a->n_unnamed; i++) {
        if (i) *d++ = ' ';
        memcpy(d, a->unnamed[i].p, a->unnamed[i].len);
        d += a->unnamed[i].len;
    }
    put(ctx, ev, HM_STR_LIT("Data"), (hm_str){o, (uint32_t)(d - o)});
}

/* <System>: scalars under their tag, attributes as Tag_Attribute. */
static void system_fields(hm_decode_ctx *ctx, hm_event *ev, int sys) {
    int k = sys + 1;
    for (int i = 0; i < ctx->tok[sys].size && k < ctx->ntok; i++) {
        int v = k + 1;
        hm_str tag = key_str(ctx, k);
        if (tag.len && tag.p[0] == '@') {
            /* attribute of <System> itself: none expected */
        } else if (tok_is_scalar(ctx, v)) {
            if (!hm_json_is_null(ctx, v)) put(ctx, ev, tag, hm_json_str(ctx, v));
        } else if (ctx->tok[v].type == JSMN_OBJECT && tag.len > 11 &&
                   !memcmp(tag.p + tag.len - 11, "_attributes", 11)) {
            /* evtx_dump --separate-json-attributes: "Provider_attributes":{"Name":..} */
            hm_str base = {tag.p, tag.len - 11};
            int bk = v + 1;
            for (int m = 0; m < ctx->tok[v].size && bk < ctx->ntok; m++) {
                if (tok_is_scalar(ctx, bk + 1) && !hm_json_is_null(ctx, bk + 1))
                    put(ctx, ev, join2(ctx, base, key_str(ctx, bk)), hm_json_str(ctx, bk + 1));
                bk = hm_json_skip(ctx, bk + 1);
            }
        } else if (ctx->tok[v].type == JSMN_OBJECT) {
            int ak = v + 1;
            for (int j = 0; j < ctx->tok[v].size && ak < ctx->ntok; j++) {
                int av = ak + 1;
                if (key_is(ctx, ak, "#attributes") && ctx->tok[av].type == JSMN_OBJECT) {
                    int bk = av + 1;
                    for (int m = 0; m < ctx->tok[av].size && bk < ctx->ntok; m++) {
                        if (tok_is_scalar(ctx, bk + 1) && !hm_json_is_null(ctx, bk + 1))
                            put(ctx, ev, join2(ctx, tag, key_str(ctx, bk)),
                                hm_json_str(ctx, bk + 1));
                        bk = hm_json_skip(ctx, bk + 1);
                    }
                } else if (key_is(ctx, ak, "#text")) {
                    if (tok_is_scalar(ctx, av) && !hm_json_is_null(ctx, av))
                        put(ctx, ev, tag, hm_json_str(ctx, av));
                } else if (ctx->json[ctx->tok[ak].start] == '@' && tok_is_scalar(ctx, av) &&
                           !hm_json_is_null(ctx, av)) {
                    hm_str an = key_str(ctx, ak);
                    an.p++, an.len--;
                    put(ctx, ev, join2(ctx, tag, an), hm_json_str(ctx, av));
                }
                ak = hm_json_skip(ctx, av);
            }
        }
        k = hm_json_skip(ctx, v);
    }
}

/* Sigma name for a Winlogbeat winlog.* key, or NULL (then skipped). */
static const struct {
    const char *path, *name;
} winlogbeat_sys[] = {
    {"event_id", "EventID"},
    {"channel", "Channel"},
    {"provider_name", "Provider_Name"},
    {"provider_guid", "Provider_Guid"},
    {"computer_name", "Computer"},
    {"record_id", "EventRecordID"},
    {"process.pid", "Execution_ProcessID"},
    {"process.thread.id", "Execution_ThreadID"},
    {"user.identifier", "Security_UserID"},
    {"task", "Task"},
    {"opcode", "Opcode"},
    {"version", "Version"},
    {"activity_id", "Correlation_ActivityID"},
};

/* NXLog flat header keys renamed to the Sigma System names. */
static const struct {
    const char *nx, *name;
} nxlog_rename[] = {
    {"Hostname", "Computer"},
    {"SourceName", "Provider_Name"},
    {"ProviderGuid", "Provider_Guid"},
    {"RecordNumber", "EventRecordID"},
    {"ProcessID", "Execution_ProcessID"}, /* NXLog < 5 */
    {"ThreadID", "Execution_ThreadID"},
    {"ExecutionProcessID", "Execution_ProcessID"}, /* NXLog >= 5 */
    {"ExecutionThreadID", "Execution_ThreadID"},
    {"ActivityID", "Correlation_ActivityID"},
    {"UserID", "Security_UserID"},
};

/* ---- lookups over the extras built so far ---- */

static hm_str xget(const hm_event *ev, const char *name) {
    size_t n = strlen(name);
    for (uint16_t i = 0; i < ev->n_extra; i++)
        if (ev->extra[i].key.len == n && !memcmp(ev->extra[i].key.p, name, n))
            return ev->extra[i].val;
    return (hm_str){NULL, 0};
}

static inline bool usable(hm_str v) {
    return v.len && !(v.len == 1 && v.p[0] == '-');
}

static void set_if(hm_event *ev, hm_field_id id, hm_str v) {
    if (usable(v) && !hm_ev_has(ev, id)) hm_ev_set(ev, id, v);
}

/* "DOMAIN\name" -> user name / user_domain. */
static void set_user_split(hm_event *ev, hm_str v) {
    if (!usable(v) || hm_ev_has(ev, HM_F_USER)) return;
    int64_t bs = hm_str_find(v, '\\');
    if (bs > 0 && (uint32_t)bs + 1 < v.len) {
        hm_ev_set(ev, HM_F_USER, (hm_str){v.p + bs + 1, v.len - (uint32_t)bs - 1});
        set_if(ev, HM_F_USER_DOMAIN, (hm_str){v.p, (uint32_t)bs});
    } else {
        hm_ev_set(ev, HM_F_USER, v);
    }
}

static void set_user(hm_event *ev, hm_str name, hm_str domain) {
    if (!usable(name) || hm_ev_has(ev, HM_F_USER)) return;
    hm_ev_set(ev, HM_F_USER, name);
    set_if(ev, HM_F_USER_DOMAIN, domain);
}

static void identity(hm_event *ev, uint8_t who) {
    switch (who) {
    case WW_TARGET:
        set_user(ev, xget(ev, "TargetUserName"), xget(ev, "TargetDomainName"));
        break;
    case WW_SUBJECT:
        set_user(ev, xget(ev, "SubjectUserName"), xget(ev, "SubjectDomainName"));
        break;
    case WW_SUBJ_TARGET:
        set_user(ev, xget(ev, "SubjectUserName"), xget(ev, "SubjectDomainName"));
        set_if(ev, HM_F_TARGET_USER, xget(ev, "TargetUserName"));
        break;
    case WW_SUBJ_MEMBER: {
        set_user(ev, xget(ev, "SubjectUserName"), xget(ev, "SubjectDomainName"));
        hm_str m = xget(ev, "MemberName");
        set_if(ev, HM_F_TARGET_USER, usable(m) ? m : xget(ev, "MemberSid"));
        break;
    }
    case WW_NEWPROC:
        set_user(ev, xget(ev, "TargetUserName"), xget(ev, "TargetDomainName"));
        set_user(ev, xget(ev, "SubjectUserName"), xget(ev, "SubjectDomainName"));
        break;
    case WW_SYSMON: {
        hm_str u = xget(ev, "User");
        set_user_split(ev, usable(u) ? u : xget(ev, "SourceUser"));
        break;
    }
    case WW_ACCOUNT:
        set_user(ev, xget(ev, "AccountName"), xget(ev, "AccountDomain"));
        break;
    case WW_SERVICE:
        set_if(ev, HM_F_RUN_AS, xget(ev, "AccountName"));
        break;
    default:
        break;
    }
    /* logon session: the one the table's actor belongs to ("0x0" = none) */
    hm_str sid = {0};
    if (who == WW_TARGET)
        sid = xget(ev, "TargetLogonId");
    else if (who == WW_SYSMON)
        sid = xget(ev, "LogonId");
    if (!usable(sid) || hm_str_eq_c(sid, "0x0")) sid = xget(ev, "SubjectLogonId");
    if (usable(sid) && !hm_str_eq_c(sid, "0x0")) set_if(ev, HM_F_SESSION_ID, sid);
    /* generic fallback for events not in the table */
    set_user(ev, xget(ev, "SubjectUserName"), xget(ev, "SubjectDomainName"));
    if (!hm_ev_has(ev, HM_F_USER)) set_user_split(ev, xget(ev, "User"));
    if (who == WW_DEFAULT) {
        hm_str t = xget(ev, "TargetUserName");
        if (!hm_str_eq(t, hm_ev_get(ev, HM_F_USER))) set_if(ev, HM_F_TARGET_USER, t);
    }
}

static bool status_ok(hm_str s) {
    return hm_str_eq_c(s, "0x0") || hm_str_eq_c(s, "0") || hm_str_eq_c(s, "0x00000000");
}

static const char *status_reason(hm_str s) {
    for (size_t i = 0; i < HM_ARRAY_LEN(win_status); i++)
        if (hm_str_ieq_c(s, win_status[i].code)) return win_status[i].reason;
    return NULL;
}

/* Unsigned decimal with overflow check (hm_str_to_i64 has none at 19 digits). */
static bool dec_u64(hm_str s, uint64_t *out) {
    if (!s.len || s.len > 20) return false;
    uint64_t v = 0;
    for (uint32_t i = 0; i < s.len; i++) {
        unsigned d = (unsigned)(s.p[i] - '0');
        if (d > 9 || v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Audit success/failure from the generic markers of each shape. */
static const char *keyword_outcome(const hm_event *ev, hm_str kw_text) {
    hm_str kw = xget(ev, "Keywords");
    if (kw.len > 2 && kw.p[0] == '0' && (kw.p[1] == 'x' || kw.p[1] == 'X')) {
        uint64_t v = 0;
        for (uint32_t i = 2; i < kw.len; i++) {
            char c = kw.p[i];
            unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                         : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                         : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                                : 16;
            if (d > 15) break;
            v = v << 4 | d;
        }
        if (v & (1ULL << 53)) return "success";
        if (v & (1ULL << 52)) return "failure";
    } else if (kw.len) { /* NXLog writes Keywords as a signed decimal */
        bool neg = kw.p[0] == '-';
        uint64_t v;
        if (dec_u64((hm_str){kw.p + neg, kw.len - neg}, &v)) {
            if (neg) v = 0 - v;
            if (v & (1ULL << 53)) return "success";
            if (v & (1ULL << 52)) return "failure";
        }
    }
    hm_str et = xget(ev, "EventType"); /* NXLog */
    if (hm_str_ieq_c(et, "AUDIT_SUCCESS")) return "success";
    if (hm_str_ieq_c(et, "AUDIT_FAILURE")) return "failure";
    if (kw_text.len) { /* Winlogbeat winlog.keywords: ["Audit Success"] */
        if (hm_str_find_s(kw_text, "Audit Success") >= 0) return "success";
        if (hm_str_find_s(kw_text, "Audit Failure") >= 0) return "failure";
    }
    return NULL;
}

/* ---- decode ---- */

static int win_decode(hm_decode_ctx *ctx, hm_event *ev) {
    hm_str body = ctx->hdr->body;
    while (body.len && (body.p[0] == ' ' || body.p[0] == '\t')) body.p++, body.len--;
    if (hm_dec_json(ctx, body) < 0) {
        ctx->reason = "windows: body is not a JSON object";
        return HM_EPARSE;
    }
    win_acc acc = {0};
    hm_str msg = {0}, kw_text = {0}, time_local = {0}, time_zoned = {0}, outcome_ecs = {0};
    int evt = hm_json_path(ctx, 0, "Event");
    int wl = evt < 0 ? hm_json_path(ctx, 0, "winlog") : -1;

    if (evt >= 0 && ctx->tok[evt].type == JSMN_OBJECT) {
        /* evtx_dump / python-evtx nested */
        int sys = hm_json_path(ctx, evt, "System");
        if (sys < 0 || ctx->tok[sys].type != JSMN_OBJECT) {
            ctx->reason = "windows: Event without a System object";
            return HM_EPARSE;
        }
        system_fields(ctx, ev, sys);
        data_fields(ctx, ev, &acc, hm_json_path(ctx, evt, "EventData"));
        int ud = hm_json_path(ctx, evt, "UserData");
        if (ud >= 0 && ctx->tok[ud].type == JSMN_OBJECT) {
            int k = ud + 1;
            for (int i = 0; i < ctx->tok[ud].size && k < ctx->ntok; i++) {
                if (ctx->tok[k + 1].type == JSMN_OBJECT) data_fields(ctx, ev, &acc, k + 1);
                k = hm_json_skip(ctx, k + 1);
            }
        }
        int m = hm_json_path(ctx, evt, "RenderingInfo.Message");
        if (m >= 0 && tok_is_scalar(ctx, m) && !hm_json_is_null(ctx, m)) msg = hm_json_str(ctx, m);
        /* SystemTime is UTC by definition, even when written without a zone */
        acc.sys_time = xget(ev, "TimeCreated_SystemTime");
    } else if (wl >= 0 && ctx->tok[wl].type == JSMN_OBJECT) {
        /* Winlogbeat */
        for (size_t i = 0; i < HM_ARRAY_LEN(winlogbeat_sys); i++) {
            int t = hm_json_path(ctx, wl, winlogbeat_sys[i].path);
            if (t >= 0 && tok_is_scalar(ctx, t) && !hm_json_is_null(ctx, t))
                put(ctx, ev, hm_str_c(winlogbeat_sys[i].name), hm_json_str(ctx, t));
        }
        if (!xget(ev, "EventID").len) {
            int t = hm_json_path(ctx, 0, "event.code");
            if (t >= 0 && tok_is_scalar(ctx, t))
                put(ctx, ev, HM_STR_LIT("EventID"), hm_json_str(ctx, t));
        }
        if (!xget(ev, "Computer").len) {
            int t = hm_json_path(ctx, 0, "host.name");
            if (t >= 0 && tok_is_scalar(ctx, t))
                put(ctx, ev, HM_STR_LIT("Computer"), hm_json_str(ctx, t));
        }
        data_fields(ctx, ev, &acc, hm_json_path(ctx, wl, "event_data"));
        data_fields(ctx, ev, &acc, hm_json_path(ctx, wl, "user_data"));
        int t = hm_json_path(ctx, wl, "keywords");
        if (t >= 0) kw_text = hm_json_str(ctx, t);
        t = hm_json_path(ctx, 0, "message");
        if (t >= 0 && tok_is_scalar(ctx, t) && !hm_json_is_null(ctx, t)) msg = hm_json_str(ctx, t);
        t = hm_json_path(ctx, 0, "@timestamp");
        if (t >= 0 && tok_is_scalar(ctx, t)) time_zoned = hm_json_str(ctx, t);
        t = hm_json_path(ctx, 0, "event.outcome");
        if (t >= 0 && tok_is_scalar(ctx, t)) outcome_ecs = hm_json_str(ctx, t);
    } else if (hm_json_path(ctx, 0, "EventID") >= 0) {
        /* NXLog flat: header keys renamed, everything else kept under its own name */
        int k = 1;
        for (int i = 0; i < ctx->tok[0].size && k < ctx->ntok; i++) {
            int v = k + 1;
            if (key_is(ctx, k, "EventTime")) {
                time_local = hm_json_str(ctx, v);
            } else if (key_is(ctx, k, "Message")) {
                if (!hm_json_is_null(ctx, v)) msg = hm_json_str(ctx, v);
            } else if (tok_is_scalar(ctx, v)) {
                hm_str name = key_str(ctx, k);
                for (size_t r = 0; r < HM_ARRAY_LEN(nxlog_rename); r++)
                    if (key_is(ctx, k, nxlog_rename[r].nx)) {
                        name = hm_str_c(nxlog_rename[r].name);
                        break;
                    }
                put(ctx, ev, name, scalar(ctx, v));
            } else if (ctx->tok[v].type == JSMN_OBJECT && key_is(ctx, k, "EventData")) {
                data_fields(ctx, ev, &acc, v);
            } else {
                put(ctx, ev, key_str(ctx, k), hm_json_str(ctx, v));
            }
            k = hm_json_skip(ctx, v);
        }
    } else {
        ctx->reason = "windows: no Event, winlog or EventID key";
        return HM_EPARSE;
    }
    flush_unnamed(ctx, ev, &acc);

    /* -- event time -- */
    int64_t ns;
    bool zone;
    if (acc.sys_time.len && hm_parse_iso8601(acc.sys_time.p, acc.sys_time.len, &ns, &zone)) {
        hm_dec_time_utc(ev, ns);
    } else if (time_zoned.len && hm_parse_iso8601(time_zoned.p, time_zoned.len, &ns, &zone)) {
        if (zone)
            hm_dec_time_utc(ev, ns);
        else
            hm_dec_time_local(ctx, ev, ns);
    } else if (time_local.len && hm_dec_time_iso(ctx, ev, time_local)) {
        /* NXLog EventTime: zone-less means district local time */
    } else {
        hm_str ut = xget(ev, "UtcTime"); /* Sysmon EventData, UTC without zone */
        if (ut.len && hm_parse_iso8601(ut.p, ut.len, &ns, &zone)) hm_dec_time_utc(ev, ns);
    }

    /* -- logsource -- */
    hm_str eid_s = xget(ev, "EventID");
    uint64_t eid_u;
    int64_t eid = dec_u64(hm_str_trim(eid_s), &eid_u) && eid_u <= 65535 ? (int64_t)eid_u : -1;
    const win_channel *ch = channel_lookup(xget(ev, "Channel"), xget(ev, "Provider_Name"));
    const win_evdef *def = ch && eid >= 0 ? event_lookup(ch->kind, eid) : NULL;
    const char *category = def ? def->category : NULL;
    const char *verb = def ? def->event : NULL;
    if (def && def->kind == WK_SYSMON && def->id == 12) {
        hm_str et = xget(ev, "EventType");
        if (hm_str_find_s(et, "Delete") >= 0)
            category = verb = "registry_delete";
        else if (hm_str_find_s(et, "Create") >= 0)
            category = verb = "registry_add";
    } else if (def && def->kind == WK_SECURITY && def->id == 4657) {
        hm_str op = xget(ev, "OperationType");
        if (hm_str_eq_c(op, "%%1904") || hm_str_find_s(op, "New registry value") >= 0)
            category = verb = "registry_add";
        else if (hm_str_eq_c(op, "%%1905") || hm_str_find_s(op, "modified") >= 0)
            category = "registry_set";
        else if (hm_str_eq_c(op, "%%1906") || hm_str_find_s(op, "deleted") >= 0)
            category = verb = "registry_delete";
    }
    hm_dec_origin(ev, HM_SRC_WINDOWS, "microsoft", "windows", category, ch ? ch->service : NULL);
    if (verb) hm_ev_set_c(ev, HM_F_EVENT, verb);
    set_if(ev, HM_F_EVENT_ID_VENDOR, hm_str_trim(eid_s));
    set_if(ev, HM_F_HOST, xget(ev, "Computer"));
    if (msg.len) hm_ev_set(ev, HM_F_MESSAGE, msg);

    /* -- Security 4688/4657 under the names Sysmon-based rules use (windows_audit_pipeline) -- */
    if (def && def->kind == WK_SECURITY && def->id == 4688) {
        if (!xget(ev, "Image").len) {
            hm_str v = xget(ev, "NewProcessName");
            if (v.len) put(ctx, ev, HM_STR_LIT("Image"), v);
        }
        if (!xget(ev, "ParentImage").len) {
            hm_str v = xget(ev, "ParentProcessName");
            if (v.len) put(ctx, ev, HM_STR_LIT("ParentImage"), v);
        }
    } else if (def && def->kind == WK_SECURITY && def->id == 4657 && !xget(ev, "Details").len) {
        hm_str v = xget(ev, "NewValue");
        if (v.len) put(ctx, ev, HM_STR_LIT("Details"), v);
    }

    /* -- who, what, outcome -- */
    identity(ev, def ? def->who : WW_DEFAULT);
    if (def && def->object) hm_ev_set_c(ev, HM_F_OBJECT, def->object);
    if (def && def->object_key) set_if(ev, HM_F_OBJECT_ID, xget(ev, def->object_key));

    const char *out = NULL;
    if (def && def->outcome == WO_SUCCESS)
        out = "success";
    else if (def && def->outcome == WO_FAILURE)
        out = "failure";
    else if (def && def->outcome == WO_STATUS) {
        hm_str st = xget(ev, "Status");
        if (st.len) out = status_ok(st) ? "success" : "failure";
    }
    if (!out) out = keyword_outcome(ev, kw_text);
    if (!out && outcome_ecs.len) out = hm_outcome_from_word(outcome_ecs);
    if (out) hm_ev_set_c(ev, HM_F_OUTCOME, out);
    if (out && !strcmp(out, "failure")) {
        hm_str sub = xget(ev, "SubStatus");
        const char *r = sub.len && !status_ok(sub) ? status_reason(sub) : NULL;
        if (!r) r = status_reason(xget(ev, "Status"));
        if (!r) r = status_reason(xget(ev, "FailureCode"));
        if (r) hm_ev_set_c(ev, HM_F_REASON, r);
    }

    /* -- plain 1:1 names through rules/mappings/windows.yml -- */
    if (ctx->map) {
        for (uint16_t i = 0; i < ev->n_extra; i++) {
            hm_str key = ev->extra[i].key, val = ev->extra[i].val;
            int id = hm_field_map_get(ctx->map, key.p, key.len);
            if (id < 0 || !usable(val) || hm_ev_has(ev, (hm_field_id)id)) continue;
            if ((id == HM_F_SRC_PORT || id == HM_F_DST_PORT) && hm_str_eq_c(val, "0")) continue;
            if (hm_field_types[id] == HM_T_I && val.len > 7 && !strncasecmp(val.p, "::ffff:", 7) &&
                memchr(val.p + 7, '.', val.len - 7)) {
                val.p += 7;
                val.len -= 7;
            }
            hm_ev_set(ev, (hm_field_id)id, val);
        }
    }
    return HM_OK;
}

const hm_decoder_ops hm_dec_windows = {
    .abi = HM_DECODER_ABI,
    .name = "windows",
    .description = "Windows event log JSON (evtx_dump/python-evtx, Winlogbeat, NXLog): Sysmon, "
                   "Security, PowerShell, System...",
    .probe = win_probe,
    .decode = win_decode,
};
