/* dec_asa.c - Cisco ASA / FTD / PIX `%ASA-<sev>-<msgid>: text` syslog messages.
 *
 * Lines may carry a syslog header, Cisco's "Mmm dd yyyy hh:mm:ss:" stamp, or nothing at all.
 * Every message decodes to event_id_vendor (the 6-digit id), severity_vendor and message;
 * known ids are parsed with small templates (table below) into endpoints, user, proto,
 * bytes, duration, and a normalized event verb. Unknown ids get a generic "from A to B"
 * endpoint scan. No mapping file: ASA messages are free text, not key=value.
 *
 * Template language (asa_match): literal bytes match exactly, a blank matches 1+ blanks;
 *   %S source endpoint  %D destination endpoint   [iface:]addr[/port] or iface/addr(port)
 *   %M source NAT endpoint (-> nat_ip)   %I assigned address (-> nat_ip)
 *   %U user   %Z target user   %G group   %P protocol   %N connection id   %T duration
 *   %B bytes  %F rule / ACL name   %A action word   %C command   %O old value  %V new value
 *   %L URL    %R rest of the text (reason)   %W skip a word   %* skip to the next literal
 * Quoted values ('x', "x", <x>) lose their quotes. docs/decoders/asa.md */
#include "../decode.h"

enum { K_FW, K_WEB, K_VPN, K_AUTH, K_IDS, K_ADMIN, K_CONFIG, K_SYS, K_AAA };

typedef struct asa_caps {
    hm_str v[26]; /* by placeholder letter */
} asa_caps;

#define CAP(c, L) ((c)->v[(L) - 'A'])

static bool asa_space(char c) {
    return c == ' ' || c == '\t';
}

/* read one placeholder value at text[*i]; false when nothing could be read */
static bool asa_read(char L, hm_str t, uint32_t *i, hm_str *out) {
    uint32_t p = *i;
    if (L == 'R' || L == 'C') {
        while (p < t.len && asa_space(t.p[p])) p++;
    }
    if (p < t.len && (t.p[p] == '\'' || t.p[p] == '"' || t.p[p] == '<')) {
        char close = t.p[p] == '<' ? '>' : t.p[p];
        uint32_t s = ++p;
        while (p < t.len && t.p[p] != close) p++;
        *out = (hm_str){t.p + s, p - s};
        if (p < t.len) p++;
        *i = p;
        return true;
    }
    uint32_t s = p;
    if (L == 'R' || L == 'C') {
        p = t.len;
    } else {
        bool paren = false;
        while (p < t.len) {
            char c = t.p[p];
            if (asa_space(c) || c == ',' || c == ';') break;
            if ((L == 'U' || L == 'Z' || L == 'G') && c == ':') break;
            if (c == '(') paren = true;
            if (c == ')' && !paren) break;
            p++;
        }
    }
    hm_str v = {t.p + s, p - s};
    while (v.len && (asa_space(v.p[v.len - 1]) || v.p[v.len - 1] == '.' ||
                     (L != 'R' && L != 'C' && v.p[v.len - 1] == ':')))
        v.len--;
    *out = v;
    *i = p;
    return L == 'R' || L == 'C' || v.len > 0;
}

static bool asa_match(const char *pat, hm_str t, asa_caps *c) {
    uint32_t i = 0;
    const char *q = pat;
    while (*q) {
        if (*q == '%') {
            char L = q[1];
            if (!L) return false;
            q += 2;
            if (L == '*') {
                const char *lit = q;
                while (*q && *q != '%') q++;
                size_t ln = (size_t)(q - lit);
                if (!ln) return true;
                if (i > t.len) return false;
                const char *f = memmem(t.p + i, t.len - i, lit, ln);
                if (!f) return false;
                i = (uint32_t)(f - t.p) + (uint32_t)ln;
                continue;
            }
            hm_str v;
            if (!asa_read(L, t, &i, &v)) return false;
            if (L >= 'A' && L <= 'Z' && L != 'W') c->v[L - 'A'] = v;
            continue;
        }
        if (*q == ' ') {
            if (i >= t.len || !asa_space(t.p[i])) return false;
            while (i < t.len && asa_space(t.p[i])) i++;
            q++;
            continue;
        }
        if (i >= t.len || t.p[i] != *q) return false;
        i++;
        q++;
    }
    return true;
}

typedef struct asa_tpl {
    uint32_t id;
    const char *pat;   /* NULL: no template, only the verb */
    const char *event; /* NULL: decided in code (action word) */
    const char *outcome;
    const char *proto; /* fixed protocol when the text implies one */
    uint8_t kind;
} asa_tpl;

/* sorted by id; several templates per id are tried in order */
static const asa_tpl asa_tpls[] = {
    {105005, NULL, "system_event", NULL, NULL, K_SYS},
    {105009, NULL, "system_event", NULL, NULL, K_SYS},
    {105043, NULL, "system_event", NULL, NULL, K_SYS},
    {106001, "Inbound %P connection denied from %S to %D", "traffic_deny", "failure", NULL, K_FW},
    {106002, "%P Connection denied by outbound list %F src %S dest %D", "traffic_deny", "failure",
     NULL, K_FW},
    {106006, "Deny inbound %P from %S to %D", "traffic_deny", "failure", NULL, K_FW},
    {106007, "Deny inbound %P from %S to %D", "traffic_deny", "failure", NULL, K_FW},
    {106010, "Deny inbound protocol %P src %S dst %D", "traffic_deny", "failure", NULL, K_FW},
    {106012, "Deny IP from %S to %D", "traffic_deny", "failure", NULL, K_FW},
    {106013, "Dropping echo request from %S to PAT address %D", "traffic_deny", "failure", "icmp",
     K_FW},
    {106014, "Deny %W %P src %S dst %D", "traffic_deny", "failure", NULL, K_FW},
    {106015, "Deny %P (no connection) from %S to %D", "traffic_deny", "failure", NULL, K_FW},
    {106016, "Deny IP spoof from (%S) to %D", "traffic_deny", "failure", NULL, K_FW},
    {106017, "Deny IP due to Land Attack from %S to %D", "ips_alert", "failure", NULL, K_IDS},
    {106018, "%P packet type %W denied by outbound list %F src %S dest %D", "traffic_deny",
     "failure", NULL, K_FW},
    {106020, "Deny IP teardrop fragment %*from %S to %D", "ips_alert", "failure", NULL, K_IDS},
    {106021, "Deny %P reverse path check from %S to %D", "traffic_deny", "failure", NULL, K_FW},
    {106022, "Deny %P connection spoof from %S to %D", "traffic_deny", "failure", NULL, K_FW},
    {106023, "Deny protocol %P src %S dst %D by access-group %F", "traffic_deny", "failure", NULL,
     K_FW},
    {106023, "Deny %P src %S dst %D by access-group %F", "traffic_deny", "failure", NULL, K_FW},
    {106100, "access-list %F %A %P %S -> %D", NULL, NULL, NULL, K_FW},
    {106101, NULL, "system_event", NULL, NULL, K_SYS},
    {108003, "%*from %S to %D", "ips_alert", "failure", "tcp", K_IDS},
    {108004, "%*from %S to %D", "traffic_deny", "failure", "tcp", K_FW},
    {110002, "Failed to locate egress interface for %P from %S to %D", "traffic_deny", "failure",
     NULL, K_FW},
    {110003, "Routing failed to locate next hop for %P from %S to %D", "traffic_deny", "failure",
     NULL, K_FW},
    {111001, "Begin configuration: %S writing to %W", "config_change", "success", NULL, K_CONFIG},
    {111002, "Begin configuration: %S reading from %W", "config_change", "success", NULL, K_CONFIG},
    {111003, "%S Erase configuration", "config_change", "success", NULL, K_CONFIG},
    {111004, "%S end configuration", "config_change", "failure", NULL, K_CONFIG},
    {111005, "%S end configuration", "config_change", "success", NULL, K_CONFIG},
    {111007, "Begin configuration: %S reading from %W", "config_change", "success", NULL, K_CONFIG},
    {111008, "User %U executed the %C command", "command_exec", "success", NULL, K_AAA},
    {111009, "User %U executed cmd:%C", "command_exec", "success", NULL, K_AAA},
    {111010, "User %U, running %W from IP %S, executed %C", "command_exec", "success", NULL, K_AAA},
    {113004, NULL, "login_success", "success", NULL, K_AUTH},
    {113005, NULL, "login_failure", "failure", NULL, K_AUTH},
    {113006, "User %U locked out %R", "account_lockout", "failure", NULL, K_AUTH},
    {113007, "User %U unlocked by %W", "account_unlock", "success", NULL, K_AUTH},
    {113008, NULL, "login_success", "success", NULL, K_AUTH},
    {113012, NULL, "login_success", "success", NULL, K_AUTH},
    {113015, NULL, "login_failure", "failure", NULL, K_AUTH},
    {113019, NULL, "vpn_disconnect", "success", NULL, K_VPN},
    {113039, "Group %G User %U IP %S", "vpn_connect", "success", NULL, K_VPN},
    {199001, NULL, "system_event", NULL, NULL, K_SYS},
    {201008, NULL, "system_event", NULL, NULL, K_SYS},
    {202010, "%*Unable to create %P connection from %S to %D", "traffic_deny", "failure", NULL,
     K_FW},
    {209005, "%*src = %S, dest = %D, proto = %P,", "traffic_deny", "failure", NULL, K_FW},
    {302013, "Built inbound %P connection %N for %S (%M)%* to %D", "traffic_allow", "success", NULL,
     K_FW},
    {302013, "Built outbound %P connection %N for %D (%W)%* to %S (%M)", "traffic_allow", "success",
     NULL, K_FW},
    {302014, "Teardown %P connection %N for %S to %D duration %T bytes %B%R", "traffic_end",
     "success", NULL, K_FW},
    {302015, "Built inbound %P connection %N for %S (%M)%* to %D", "traffic_allow", "success", NULL,
     K_FW},
    {302015, "Built outbound %P connection %N for %D (%W)%* to %S (%M)", "traffic_allow", "success",
     NULL, K_FW},
    {302016, "Teardown %P connection %N for %S to %D duration %T bytes %B%R", "traffic_end",
     "success", NULL, K_FW},
    {302017, "Built %W GRE connection %N from %S (%M)%* to %D", "traffic_allow", "success", "gre",
     K_FW},
    {302018, "Teardown GRE connection %N from %S%* to %D duration %T bytes %B", "traffic_end",
     "success", "gre", K_FW},
    {302020, "Built %W ICMP connection for faddr %S gaddr %M laddr %D", "traffic_allow", "success",
     "icmp", K_FW},
    {302021, "Teardown ICMP connection for faddr %S gaddr %M laddr %D", "traffic_end", "success",
     "icmp", K_FW},
    {302021, "Teardown ICMP connection %N from %S%* to %D", "traffic_end", "success", "icmp", K_FW},
    {302023, "Teardown stub %P connection for %S to %D duration %T forwarded bytes %B reason %R",
     "traffic_end", "success", NULL, K_FW},
    {302023, "Teardown stub %P connection for %S to %D duration %T forwarded bytes %B",
     "traffic_end", "success", NULL, K_FW},
    {303002, "FTP connection from %S to %D, user %U %A file %R", "file_transfer", "success", "tcp",
     K_FW},
    {304001, "%S Accessed URL %L", "web_allow", "success", NULL, K_WEB},
    {304002, "Access denied URL %L SRC %S DEST %D", "web_block", "failure", NULL, K_WEB},
    {305005, "No translation group found for %P src %S dst %D", "traffic_deny", "failure", NULL,
     K_FW},
    {305006, "%*translation creation failed for %P src %S dst %D", "traffic_deny", "failure", NULL,
     K_FW},
    {305011, "Built %W %P translation from %S to %M", "nat_mapping", NULL, NULL, K_FW},
    {305012, "Teardown %W %P translation from %S to %M duration %T", "nat_teardown", NULL, NULL,
     K_FW},
    {308001, "%*(from %S", "admin_login_failure", "failure", NULL, K_ADMIN},
    {313001, "Denied ICMP type=%W, code=%W from %S", "traffic_deny", "failure", "icmp", K_FW},
    {313004, "Denied ICMP type=%W, from laddr %S on interface %W to %D", "traffic_deny", "failure",
     "icmp", K_FW},
    {313005, "No matching connection for ICMP error message: %W src %S dst %D", "traffic_deny",
     "failure", "icmp", K_FW},
    {313008, "Denied ICMPv6 type=%W, code=%W from %S", "traffic_deny", "failure", "ipv6-icmp",
     K_FW},
    {313009, "Denied invalid ICMP code %W, for %S%* to %D", "traffic_deny", "failure", "icmp",
     K_FW},
    {321006, NULL, "system_event", NULL, NULL, K_SYS},
    {323006, NULL, "system_event", NULL, NULL, K_SYS},
    /* 3330xx: Network Admission Control / EAPoUDP posture validation */
    {333001, NULL, "nac_start", NULL, NULL, K_AUTH},
    {333002, NULL, "nac_failure", "failure", NULL, K_AUTH},
    {333003, NULL, "nac_end", NULL, NULL, K_AUTH},
    {333004, NULL, "nac_failure", "failure", NULL, K_AUTH},
    {333005, NULL, "nac_failure", "failure", NULL, K_AUTH},
    {333006, NULL, "nac_failure", "failure", NULL, K_AUTH},
    {333007, NULL, "nac_end", NULL, NULL, K_AUTH},
    {333008, NULL, "nac_event", NULL, NULL, K_AUTH},
    {333009, NULL, "nac_failure", "failure", NULL, K_AUTH},
    {338001, "Dynamic Filter %A %W %P traffic from %S%* to %D", NULL, NULL, NULL, K_IDS},
    {338002, "Dynamic Filter %A %W %P traffic from %S%* to %D", NULL, NULL, NULL, K_IDS},
    {338003, "Dynamic Filter %A %W %P traffic from %S%* to %D", NULL, NULL, NULL, K_IDS},
    {338004, "Dynamic Filter %A %W %P traffic from %S%* to %D", NULL, NULL, NULL, K_IDS},
    {338005, "Dynamic Filter %A %W %P traffic from %S%* to %D", NULL, NULL, NULL, K_IDS},
    {338006, "Dynamic Filter %A %W %P traffic from %S%* to %D", NULL, NULL, NULL, K_IDS},
    {338007, "Dynamic Filter %A %W %P traffic from %S%* to %D", NULL, NULL, NULL, K_IDS},
    {338008, "Dynamic Filter %A %W %P traffic from %S%* to %D", NULL, NULL, NULL, K_IDS},
    {338201, "Dynamic Filter %A %W %P traffic from %S%* to %D", NULL, NULL, NULL, K_IDS},
    {338202, "Dynamic Filter %A %W %P traffic from %S%* to %D", NULL, NULL, NULL, K_IDS},
    {338203, "Dynamic Filter %A %W %P traffic from %S%* to %D", NULL, NULL, NULL, K_IDS},
    {338204, "Dynamic Filter %A %W %P traffic from %S%* to %D", NULL, NULL, NULL, K_IDS},
    {338302, NULL, "system_event", NULL, NULL, K_SYS},
    {338303, NULL, "system_event", NULL, NULL, K_SYS},
    {338309, NULL, "system_event", NULL, NULL, K_SYS},
    {338310, NULL, "system_event", NULL, NULL, K_SYS},
    {400000, "IPS:%F %*from %S to %D", "ips_alert", "unknown", NULL, K_IDS},
    {401004, "Shunned packet: %S = %D", "traffic_deny", "failure", NULL, K_FW},
    {405001, NULL, "arp_collision", NULL, NULL, K_IDS},
    {405003, "IP address collision detected between host %S", "arp_collision", NULL, NULL, K_IDS},
    {409023, "Attempting AAA Fallback method %W for %W request for user %U", "aaa_fallback", NULL,
     NULL, K_AUTH},
    {410001, "Dropped UDP DNS %W from %S to %D", "traffic_deny", "failure", "udp", K_FW},
    {411001, NULL, "system_event", NULL, NULL, K_SYS},
    {418001, "%*denied: %P src %S dst %D", "traffic_deny", "failure", NULL, K_FW},
    {419001, "Dropping TCP packet from %S to %D, reason: %R", "traffic_deny", "failure", "tcp",
     K_FW},
    {419002, "Duplicate TCP SYN from %S to %D", "traffic_anomaly", NULL, "tcp", K_IDS},
    {420002, "IPS requested to drop %P packet from %S to %D", "ips_alert", "failure", NULL, K_IDS},
    {421001, "%P flow from %S to %D is dropped because %R", "traffic_deny", "failure", NULL, K_FW},
    {421002, "%P flow from %S to %D bypassed %R", "firewall_event", NULL, NULL, K_FW},
    {421007, "%P flow from %S to %D is skipped because %R", "firewall_event", NULL, NULL, K_FW},
    {434002, "SFR requested to drop %P packet from %S to %D", "ips_alert", "failure", NULL, K_IDS},
    {444005, NULL, "system_event", NULL, NULL, K_SYS},
    {500003, "Bad TCP hdr length %*from %S to %D", "traffic_deny", "failure", "tcp", K_FW},
    {500004, "Invalid transport field for protocol=%P, from %S to %D", "traffic_deny", "failure",
     NULL, K_FW},
    {502101, "New user added to local dbase: Uname: %Z Priv: %V", "user_created", "success", NULL,
     K_CONFIG},
    {502102, "User deleted from local dbase: Uname: %Z Priv: %O", "user_deleted", "success", NULL,
     K_CONFIG},
    {502103, "User priv level changed: Uname: %Z From: %O To: %V", "privilege_change", "success",
     NULL, K_CONFIG},
    {505002, NULL, "system_event", NULL, NULL, K_SYS},
    {505015, NULL, "system_event", NULL, NULL, K_SYS},
    {603108, NULL, "vpn_connect", "success", NULL, K_VPN},
    {603109, NULL, "vpn_disconnect", "success", NULL, K_VPN},
    {605004, "Login denied from %S to %D for user %U", "admin_login_failure", "failure", NULL,
     K_ADMIN},
    {605005, "Login permitted from %S to %D for user %U", "admin_login_success", "success", NULL,
     K_ADMIN},
    {609001, "Built local-host %D", "firewall_event", NULL, NULL, K_FW},
    {609002, "Teardown local-host %D", "firewall_event", NULL, NULL, K_FW},
    {611101, "User authentication succeeded: IP address: %S, Uname: %U", "admin_login_success",
     "success", NULL, K_ADMIN},
    {611101, "User authentication succeeded: Uname: %U", "admin_login_success", "success", NULL,
     K_ADMIN},
    {611102, "User authentication failed: IP address: %S, Uname: %U", "admin_login_failure",
     "failure", NULL, K_ADMIN},
    {611102, "User authentication failed: Uname: %U", "admin_login_failure", "failure", NULL,
     K_ADMIN},
    {611103, "User logged out: Uname: %U", "admin_logout", "success", NULL, K_ADMIN},
    {710002, "%P access permitted from %S to %D", "traffic_allow", "success", NULL, K_FW},
    {710003, "%P access denied by ACL from %S to %D", "traffic_deny", "failure", NULL, K_FW},
    {710004, "TCP connection limit exceeded from %S to %D", "traffic_deny", "failure", "tcp", K_FW},
    {710005, "%P request discarded from %S to %D", "traffic_deny", "failure", NULL, K_FW},
    {710006, "%P request discarded from %S to %D", "traffic_deny", "failure", NULL, K_FW},
    {711004, NULL, "system_event", NULL, NULL, K_SYS},
    {716001, "Group %G User %U IP %S", "vpn_connect", "success", NULL, K_VPN},
    {716002, "Group %G User %U IP %S WebVPN session terminated: %R", "vpn_disconnect", "success",
     NULL, K_VPN},
    {716038, "Group %G User %U IP %S", "login_success", "success", NULL, K_VPN},
    {716039, "Group %G User %U IP %S", "login_failure", "failure", NULL, K_VPN},
    {718060, NULL, "system_event", NULL, NULL, K_SYS},
    {718062, NULL, "system_event", NULL, NULL, K_SYS},
    {722022, "Group %G User %U IP %S %W SVC connection established", "vpn_connect", "success", NULL,
     K_VPN},
    {722022, "Group %G User %U IP %S", "vpn_connect", "success", NULL, K_VPN},
    {722023, "Group %G User %U IP %S", "vpn_disconnect", "success", NULL, K_VPN},
    {722028, "Group %G User %U IP %S", "vpn_disconnect", "success", NULL, K_VPN},
    {722037, "Group %G User %U IP %S SVC closing connection: %R", "vpn_disconnect", "success", NULL,
     K_VPN},
    {722037, "Group %G User %U IP %S", "vpn_disconnect", "success", NULL, K_VPN},
    {722051, "Group %G User %U IP %S IPv4 Address %I", "vpn_ip_assigned", "success", NULL, K_VPN},
    {722051, "Group %G User %U IP %S Address %I", "vpn_ip_assigned", "success", NULL, K_VPN},
    {733100, NULL, "ips_alert", "unknown", NULL, K_IDS},
    {733101, "Host %S is attacking", "ips_alert", "unknown", NULL, K_IDS},
    {733101, "%W %D is targeted", "ips_alert", "unknown", NULL, K_IDS},
    {747011, NULL, "system_event", NULL, NULL, K_SYS},
    {771002, NULL, "system_event", NULL, NULL, K_SYS},
};

/* ---- endpoint and value helpers ---- */

static bool asa_hexword(hm_str s) {
    if (s.len == 0 || s.len > 4) return false;
    for (uint32_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

static bool asa_is_ip(hm_str v) {
    if (v.len < 2 || v.len > 45) return false;
    int dots = 0, colons = 0;
    for (uint32_t i = 0; i < v.len; i++) {
        char c = v.p[i];
        if (c == '.')
            dots++;
        else if (c == ':')
            colons++;
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return (dots == 3 && colons == 0) || colons >= 2;
}

typedef struct asa_ep {
    hm_str iface, addr, port;
} asa_ep;

/* "[iface:]addr[/port]" or "iface/addr(port)" */
static asa_ep asa_parse_ep(hm_str t) {
    asa_ep e = {{0}, {0}, {0}};
    int64_t lp = hm_str_find(t, '(');
    if (lp > 0 && t.len && t.p[t.len - 1] == ')') {
        hm_str head = {t.p, (uint32_t)lp};
        e.port = (hm_str){t.p + lp + 1, t.len - (uint32_t)lp - 2};
        int64_t sl = hm_str_find(head, '/');
        if (sl >= 0) {
            e.iface = (hm_str){head.p, (uint32_t)sl};
            e.addr = (hm_str){head.p + sl + 1, head.len - (uint32_t)sl - 1};
        } else {
            e.addr = head;
        }
        return e;
    }
    if (lp >= 0) t.len = (uint32_t)lp; /* "addr(user)" */
    /* port after the last '/' */
    for (uint32_t i = t.len; i > 0; i--) {
        if (t.p[i - 1] == '/') {
            e.port = (hm_str){t.p + i, t.len - i};
            t.len = i - 1;
            break;
        }
    }
    int64_t c = hm_str_find(t, ':');
    if (c >= 0) {
        hm_str first = {t.p, (uint32_t)c};
        /* IPv6 without an interface starts with a hex group (or "::") */
        if (c == 0 || asa_hexword(first)) {
            e.addr = t;
        } else {
            e.iface = first;
            e.addr = (hm_str){t.p + c + 1, t.len - (uint32_t)c - 1};
        }
    } else {
        e.addr = t;
    }
    return e;
}

static hm_str asa_port(hm_str p) {
    static const struct {
        const char *name, *num;
    } names[] = {{"ssh", "22"},    {"telnet", "23"}, {"http", "80"}, {"www", "80"},
                 {"https", "443"}, {"domain", "53"}, {"ftp", "21"},  {"smtp", "25"},
                 {"snmp", "161"},  {"ntp", "123"}};
    for (size_t i = 0; i < HM_ARRAY_LEN(names); i++)
        if (hm_str_ieq_c(p, names[i].name)) return hm_str_c(names[i].num);
    return p;
}

static void asa_set_ep(hm_decode_ctx *ctx, hm_event *ev, hm_str tok, bool src) {
    if (!tok.len) return;
    asa_ep e = asa_parse_ep(tok);
    if (e.addr.len) {
        if (asa_is_ip(e.addr))
            hm_ev_set(ev, src ? HM_F_SRC_IP : HM_F_DST_IP, e.addr);
        else
            hm_dec_extra(ctx, ev, src ? HM_STR_LIT("src_host") : HM_STR_LIT("dst_host"), e.addr);
    }
    if (e.port.len) hm_ev_set(ev, src ? HM_F_SRC_PORT : HM_F_DST_PORT, asa_port(e.port));
    if (e.iface.len) hm_ev_set(ev, src ? HM_F_SRC_ZONE : HM_F_DST_ZONE, e.iface);
}

static const char *asa_proto_num(hm_str v) {
    static const struct {
        const char *n, *name;
    } t[] = {{"1", "icmp"}, {"6", "tcp"},        {"17", "udp"},  {"47", "gre"},  {"50", "esp"},
             {"51", "ah"},  {"58", "ipv6-icmp"}, {"89", "ospf"}, {"103", "pim"}, {"112", "vrrp"}};
    for (size_t i = 0; i < HM_ARRAY_LEN(t); i++)
        if (hm_str_eq_c(v, t[i].n)) return t[i].name;
    return NULL;
}

/* "h:mm:ss" or "NNhNNmNNs" -> seconds as decimal text in the arena */
static hm_str asa_duration(hm_decode_ctx *ctx, hm_str d) {
    uint64_t total = 0, cur = 0;
    bool any = false;
    for (uint32_t i = 0; i < d.len; i++) {
        char c = d.p[i];
        if (c >= '0' && c <= '9') {
            cur = cur * 10 + (uint64_t)(c - '0');
            any = true;
            if (cur > 100000000ULL) return (hm_str){0};
        } else if (c == ':') {
            total = (total + cur) * 60;
            cur = 0;
        } else if (c == 'h') {
            total += cur * 3600;
            cur = 0;
        } else if (c == 'm') {
            total += cur * 60;
            cur = 0;
        } else if (c == 's') {
            total += cur;
            cur = 0;
        } else {
            return (hm_str){0};
        }
    }
    if (!any) return (hm_str){0};
    total += cur;
    char buf[24];
    int n = 0;
    do {
        buf[n++] = (char)('0' + total % 10);
        total /= 10;
    } while (total && n < 23);
    char *o = hm_arena_alloc(ctx->arena, (size_t)n);
    for (int i = 0; i < n; i++) o[i] = buf[n - 1 - i];
    return (hm_str){o, (uint32_t)n};
}

/* case-insensitive "<key> = value" (AAA and PPTP messages); value ends at ' ', ',' or ':' */
static hm_str asa_eqval(hm_str t, const char *key) {
    size_t kl = strlen(key);
    for (uint32_t i = 0; i + kl + 3 <= t.len; i++) {
        if (i && !asa_space(t.p[i - 1]) && t.p[i - 1] != ',' && t.p[i - 1] != ':') continue;
        size_t j = 0;
        while (j < kl) {
            char a = t.p[i + j], b = key[j];
            if (a >= 'A' && a <= 'Z') a = (char)(a + 32);
            if (b >= 'A' && b <= 'Z') b = (char)(b + 32);
            if (a != b) break;
            j++;
        }
        if (j < kl || memcmp(t.p + i + kl, " = ", 3)) continue;
        uint32_t s = i + (uint32_t)kl + 3, e = s;
        while (e < t.len && !asa_space(t.p[e]) && t.p[e] != ',' && t.p[e] != ':') e++;
        return (hm_str){t.p + s, e - s};
    }
    return (hm_str){0};
}

static hm_str asa_after(hm_str t, const char *key) {
    int64_t k = hm_str_find_s(t, key);
    if (k < 0) return (hm_str){0};
    uint32_t s = (uint32_t)k + (uint32_t)strlen(key), e = s;
    while (e < t.len && t.p[e] != ',' && t.p[e] != ';') e++;
    return hm_str_trim((hm_str){t.p + s, e - s});
}

/* ---- probe ---- */

static int64_t asa_find(hm_str b) {
    uint32_t lim = b.len < 96 ? b.len : 96;
    for (uint32_t i = 0; i + 6 <= lim; i++) {
        if (b.p[i] != '%') continue;
        uint32_t t;
        if (!memcmp(b.p + i + 1, "ASA-", 4) || !memcmp(b.p + i + 1, "FTD-", 4) ||
            !memcmp(b.p + i + 1, "PIX-", 4))
            t = i + 5;
        else if (i + 7 <= lim && !memcmp(b.p + i + 1, "FWSM-", 5))
            t = i + 6;
        else
            continue;
        if (i && !asa_space(b.p[i - 1]) && b.p[i - 1] != ':') continue;
        /* <sev>-<digits> */
        if (t + 2 < b.len && (unsigned)(b.p[t] - '0') <= 7 && b.p[t + 1] == '-' &&
            (unsigned)(b.p[t + 2] - '0') <= 9)
            return i;
    }
    return -1;
}

static int asa_probe(hm_decode_ctx *ctx, const hm_syslog_hdr *h) {
    HM_UNUSED(ctx);
    int64_t at = asa_find(h->body);
    if (at < 0) return 0;
    return at == 0 ? 100 : 90;
}

/* ---- decode ---- */

static void asa_origin(hm_event *ev, uint8_t kind) {
    switch (kind) {
    case K_WEB:
        hm_dec_origin(ev, HM_SRC_WEB, "cisco", "cisco", "webproxy", "asa");
        break;
    case K_VPN:
        hm_dec_origin(ev, HM_SRC_VPN, "cisco", "cisco", "vpn", "asa");
        break;
    case K_AUTH:
    case K_ADMIN:
        hm_dec_origin(ev, HM_SRC_FIREWALL, "cisco", "cisco", "authentication", "asa");
        break;
    case K_IDS:
        hm_dec_origin(ev, HM_SRC_FIREWALL, "cisco", "cisco", "ids", "asa");
        break;
    case K_CONFIG:
        hm_dec_origin(ev, HM_SRC_FIREWALL, "cisco", "cisco", "configuration", "asa");
        break;
    /* command accounting: Sigma's cisco/aaa rules match these */
    case K_AAA:
        hm_dec_origin(ev, HM_SRC_FIREWALL, "cisco", "cisco", "configuration", "aaa");
        break;
    default:
        hm_dec_origin(ev, HM_SRC_FIREWALL, "cisco", "cisco", "firewall", "asa");
        break;
    }
}

static void asa_apply(hm_decode_ctx *ctx, hm_event *ev, const asa_caps *c) {
    asa_set_ep(ctx, ev, CAP(c, 'S'), true);
    asa_set_ep(ctx, ev, CAP(c, 'D'), false);
    hm_str m = CAP(c, 'M');
    if (m.len) {
        asa_ep e = asa_parse_ep(m);
        hm_str sip = hm_ev_get(ev, HM_F_SRC_IP);
        if (asa_is_ip(e.addr) && !hm_str_eq(e.addr, sip)) hm_ev_set(ev, HM_F_NAT_IP, e.addr);
    }
    hm_str a = CAP(c, 'I');
    if (a.len && asa_is_ip(a)) hm_ev_set(ev, HM_F_NAT_IP, a);
    if (CAP(c, 'U').len) hm_ev_set(ev, HM_F_USER, CAP(c, 'U'));
    if (CAP(c, 'Z').len) hm_ev_set(ev, HM_F_TARGET_USER, CAP(c, 'Z'));
    if (CAP(c, 'G').len) hm_ev_set(ev, HM_F_USER_GROUP, CAP(c, 'G'));
    hm_str p = CAP(c, 'P');
    if (p.len) {
        const char *pn = asa_proto_num(p);
        if (pn)
            hm_ev_set_c(ev, HM_F_PROTO, pn);
        else
            hm_ev_set(ev, HM_F_PROTO, hm_dec_lower(ctx, p));
    }
    if (CAP(c, 'N').len) hm_dec_extra(ctx, ev, HM_STR_LIT("connection_id"), CAP(c, 'N'));
    if (CAP(c, 'T').len) {
        hm_str d = asa_duration(ctx, CAP(c, 'T'));
        if (d.len) hm_ev_set(ev, HM_F_DURATION, d);
    }
    if (CAP(c, 'B').len) hm_dec_extra(ctx, ev, HM_STR_LIT("bytes"), CAP(c, 'B'));
    if (CAP(c, 'F').len) hm_ev_set(ev, HM_F_RULE_VENDOR, CAP(c, 'F'));
    if (CAP(c, 'A').len) hm_ev_set(ev, HM_F_ACTION, hm_dec_lower(ctx, CAP(c, 'A')));
    if (CAP(c, 'C').len) hm_ev_set(ev, HM_F_COMMAND, CAP(c, 'C'));
    if (CAP(c, 'O').len) hm_ev_set(ev, HM_F_OLD_VALUE, CAP(c, 'O'));
    if (CAP(c, 'V').len) hm_ev_set(ev, HM_F_NEW_VALUE, CAP(c, 'V'));
    if (CAP(c, 'L').len) hm_ev_set(ev, HM_F_URL, CAP(c, 'L'));
    if (CAP(c, 'R').len) hm_ev_set(ev, HM_F_REASON, CAP(c, 'R'));
}

static void asa_set_event(hm_event *ev, const char *verb, const char *outcome) {
    hm_ev_set_c(ev, HM_F_EVENT, verb);
    if (outcome) hm_ev_set_c(ev, HM_F_OUTCOME, outcome);
}

static int asa_decode(hm_decode_ctx *ctx, hm_event *ev) {
    hm_str b = ctx->hdr->body;
    int64_t at = asa_find(b);
    if (at < 0) {
        ctx->reason = "asa: no %ASA-<sev>-<id> tag";
        return HM_EPARSE;
    }
    const char *p = b.p + at + 1, *e = b.p + b.len;
    while (p < e && *p != '-') p++; /* ASA / FTD / PIX / FWSM */
    if (p >= e) goto bad;
    p++;
    if (p >= e || (unsigned)(*p - '0') > 7) goto bad;
    hm_str sev = {p, 1};
    p++;
    if (p >= e || *p != '-') goto bad;
    p++;
    const char *ids = p;
    uint32_t id = 0;
    while (p < e && (unsigned)(*p - '0') <= 9 && p - ids < 7) id = id * 10 + (uint32_t)(*p++ - '0');
    if (p == ids) goto bad;
    hm_str idstr = {ids, (uint32_t)(p - ids)};
    if (p < e && *p == ':') p++;
    while (p < e && asa_space(*p)) p++;
    hm_str text = hm_str_trim((hm_str){p, (uint32_t)(e - p)});

    hm_ev_set(ev, HM_F_EVENT_ID_VENDOR, idstr);
    hm_ev_set(ev, HM_F_SEVERITY_VENDOR, sev);
    if (text.len) hm_ev_set(ev, HM_F_MESSAGE, text);

    /* find the id's templates (binary search, then walk equal ids) */
    size_t lo = 0, hi = HM_ARRAY_LEN(asa_tpls);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (asa_tpls[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* IPS signatures 400000-400099 share one template */
    uint32_t key = (id >= 400000 && id <= 400099) ? 400000 : id;
    if (key != id) {
        lo = 0;
        hi = HM_ARRAY_LEN(asa_tpls);
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (asa_tpls[mid].id < key)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    const asa_tpl *hit = NULL, *first = NULL;
    asa_caps caps;
    for (size_t i = lo; i < HM_ARRAY_LEN(asa_tpls) && asa_tpls[i].id == key; i++) {
        if (!first) first = &asa_tpls[i];
        memset(&caps, 0, sizeof caps);
        if (!asa_tpls[i].pat || asa_match(asa_tpls[i].pat, text, &caps)) {
            hit = &asa_tpls[i];
            break;
        }
    }
    if (!hit) {
        /* unknown id or unexpected wording: keep the verb, scan for "from A to B" */
        memset(&caps, 0, sizeof caps);
        if (!asa_match("%*from %S to %D", text, &caps)) memset(&caps, 0, sizeof caps);
    }
    const asa_tpl *t = hit ? hit : first;
    asa_origin(ev, t ? t->kind : K_FW);
    asa_apply(ctx, ev, &caps);
    if (t && t->proto && !hm_ev_has(ev, HM_F_PROTO)) hm_ev_set_c(ev, HM_F_PROTO, t->proto);

    if (t && t->event) {
        asa_set_event(ev, t->event, t->outcome);
    } else if (t) {
        /* verb from the action word: access-list permitted/denied, Dynamic Filter */
        hm_str a = CAP(&caps, 'A');
        if (hm_str_eq_c(a, "denied") || hm_str_eq_c(a, "dropped"))
            asa_set_event(ev, "traffic_deny", "failure");
        else if (hm_str_eq_c(a, "permitted") || hm_str_eq_c(a, "est-allowed"))
            asa_set_event(ev, "traffic_allow", "success");
        else if (hm_str_eq_c(a, "monitored"))
            asa_set_event(ev, "ips_alert", "unknown");
        else
            asa_set_event(ev, "firewall_event", NULL);
    } else {
        asa_set_event(ev, "firewall_event", NULL);
    }

    /* per-id extras that templates cannot express */
    switch (id) {
    case 113004:
    case 113005:
    case 113008:
    case 113012:
    case 113015:
    case 113019: {
        hm_str u = asa_eqval(text, "user");
        if (!u.len) u = asa_eqval(text, "Username");
        if (u.len) hm_ev_set(ev, HM_F_USER, u);
        hm_str ip = asa_eqval(text, "user IP");
        if (!ip.len) ip = asa_eqval(text, "IP");
        if (ip.len && asa_is_ip(ip)) hm_ev_set(ev, HM_F_SRC_IP, ip);
        hm_str srv = asa_eqval(text, "server");
        if (srv.len) hm_dec_extra(ctx, ev, HM_STR_LIT("aaa_server"), srv);
        hm_str r = asa_eqval(text, "reason");
        if (r.len) { /* "reason = Invalid password : local database" -> up to the next ':' */
            const char *e2 = text.p + text.len, *q = r.p;
            while (q < e2 && *q != ':' && *q != ',') q++;
            r = hm_str_trim((hm_str){r.p, (uint32_t)(q - r.p)});
        }
        if (!r.len) r = asa_after(text, "Reason: ");
        if (r.len) hm_ev_set(ev, HM_F_REASON, r);
        hm_str g = asa_eqval(text, "Group");
        if (g.len) hm_ev_set(ev, HM_F_USER_GROUP, g);
        break;
    }
    case 603108:
    case 603109: {
        hm_str peer = asa_eqval(text, "remote-peer");
        if (peer.len) hm_ev_set(ev, HM_F_SRC_IP, peer);
        hm_str u = asa_eqval(text, "username");
        if (u.len) hm_ev_set(ev, HM_F_USER, u);
        hm_str dyn = asa_eqval(text, "client-dynamic-ip");
        if (dyn.len && asa_is_ip(dyn)) hm_ev_set(ev, HM_F_NAT_IP, dyn);
        hm_str tid = asa_eqval(text, "tunnel-id");
        if (tid.len) hm_ev_set(ev, HM_F_SESSION_ID, tid);
        break;
    }
    case 405001: { /* "collision from 10.1.1.1/0016.a421.94ef on interface X" */
        hm_str w = asa_after(text, "collision from ");
        int64_t sp = hm_str_find(w, ' ');
        if (sp > 0) w.len = (uint32_t)sp;
        int64_t sl = hm_str_find(w, '/');
        if (sl > 0) {
            hm_str ip = {w.p, (uint32_t)sl};
            if (asa_is_ip(ip)) hm_ev_set(ev, HM_F_SRC_IP, ip);
            hm_ev_set(ev, HM_F_SRC_MAC, (hm_str){w.p + sl + 1, w.len - (uint32_t)sl - 1});
        }
        break;
    }
    case 304001: { /* "ip:url" */
        hm_str u = hm_ev_get(ev, HM_F_URL);
        int64_t c = hm_str_find(u, ':');
        if (c > 0 && asa_is_ip((hm_str){u.p, (uint32_t)c})) {
            hm_ev_set(ev, HM_F_DST_IP, (hm_str){u.p, (uint32_t)c});
            hm_ev_set(ev, HM_F_URL, (hm_str){u.p + c + 1, u.len - (uint32_t)c - 1});
        }
        break;
    }
    case 605004:
    case 605005: { /* the service is the management protocol */
        asa_ep de = asa_parse_ep(CAP(&caps, 'D'));
        if (de.port.len && !((unsigned)(de.port.p[0] - '0') <= 9))
            hm_ev_set(ev, HM_F_AUTH_METHOD, hm_dec_lower(ctx, de.port));
        break;
    }
    default:
        if (id >= 338001 && id <= 338204) {
            hm_str dom = asa_after(text, "list: ");
            if (dom.len && !asa_is_ip(dom) && hm_str_find(dom, '/') < 0)
                hm_ev_set(ev, HM_F_DOMAIN, dom);
            hm_str cat = asa_after(text, "category: ");
            if (cat.len) hm_dec_extra(ctx, ev, HM_STR_LIT("threat_category"), cat);
            hm_str lvl = asa_after(text, "threat-level: ");
            if (lvl.len) hm_dec_extra(ctx, ev, HM_STR_LIT("threat_level"), lvl);
        }
        break;
    }
    hm_str ev_name = hm_ev_get(ev, HM_F_EVENT);
    if (hm_str_starts(ev_name, "admin_")) hm_ev_set_c(ev, HM_F_USER_ROLE, "admin");
    return HM_OK;
bad:
    ctx->reason = "asa: malformed %ASA-<sev>-<id> tag";
    return HM_EPARSE;
}

const hm_decoder_ops hm_dec_asa = {
    .abi = HM_DECODER_ABI,
    .name = "asa",
    .description = "Cisco ASA/FTD %ASA-sev-id syslog messages (firewall, AAA, VPN, admin)",
    .probe = asa_probe,
    .decode = asa_decode,
};
