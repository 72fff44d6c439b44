/* dec_ise.c - Cisco ISE remote syslog (CISE_* categories):
 *   CISE_Failed_Attempts 0000075134 1 0 2022-03-02 09:09:13.790 +00:00 0000075201 5405 NOTICE
 *     Failed-Attempt: RADIUS Request dropped, ConfigVersionId=1364, Device IP Address=81.2.69.193,
 *     ..., Step=11001, Step=11017, ...,
 * Header: category, message id, segment count, segment number, date, time, UTC offset,
 * sequence, message code, severity, "Class: text". Then ", "-separated key=value pairs whose
 * keys and values may contain blanks; "\," is an escaped comma; a piece without a key is a
 * continuation of the previous value. Repeated keys (Step, NetworkDeviceGroups, StepData)
 * are joined with ','. Keys map through rules/mappings/ise.yml; Calling-Station-ID goes to
 * src_mac (a MAC) or src_ip (VPN: an IP) by shape. Continuation segments (segment number > 0)
 * carry no header time or text and decode as event ise_segment. */
#include "../decode.h"

#define ISE_MAX_PAIRS 160

static bool all_digits(hm_str s) {
    if (!s.len) return false;
    for (uint32_t i = 0; i < s.len; i++)
        if (s.p[i] < '0' || s.p[i] > '9') return false;
    return true;
}

/* message code -> event verb and outcome; category defaults below */
static const struct {
    int code;
    const char *event, *outcome;
} ise_codes[] = {
    {5200, "login_success", "success"},             /* Authentication succeeded */
    {5231, "login_success", "success"},             /* Guest Authentication Passed */
    {5236, "login_success", "success"},             /* Authorize-Only succeeded */
    {5400, "login_failure", "failure"},             /* Authentication failed */
    {5418, "login_failure", "failure"},             /* Guest Authentication Failed */
    {5405, "radius_request_dropped", "failure"},    /* RADIUS Request dropped */
    {5411, "supplicant_not_responding", "failure"}, /* Supplicant stopped responding */
    {5435, "radius_repeated_failures", "failure"},  /* NAS conducted several failed auths */
    {5440, "eap_session_abandoned", "failure"},     /* Endpoint abandoned EAP session */
    {5239, "nas_problem_fixed", NULL},              /* NAS problem was fixed */
    {3000, "accounting_start", NULL},
    {3001, "accounting_stop", NULL},
    {3002, "accounting_update", NULL},
};

static const struct {
    const char *cat, *event, *outcome, *category;
} ise_cats[] = {
    {"CISE_Passed_Authentications", "login_success", "success", "authentication"},
    {"CISE_Failed_Attempts", "login_failure", "failure", "authentication"},
    {"CISE_RADIUS_Accounting", "radius_accounting", NULL, "authentication"},
    {"CISE_Guest", "guest_activity", NULL, "authentication"},
    {"CISE_Administrative_and_Operational_Audit", "admin_audit", NULL, "application"},
    {"CISE_Posture_and_Client_Provisioning_Audit", "posture_audit", NULL, "application"},
    {"CISE_Profiler", "profiler", NULL, "application"},
    {"CISE_Alarm", "alarm", NULL, "application"},
    {"CISE_AD_Connector", "ad_connector", NULL, "application"},
};

typedef struct {
    hm_str key, val;
} pair;

static bool key_ok(hm_str k) {
    if (!k.len || k.len > 80) return false;
    char c0 = k.p[0];
    if (!((c0 >= 'A' && c0 <= 'Z') || (c0 >= 'a' && c0 <= 'z'))) return false;
    for (uint32_t i = 0; i < k.len; i++) {
        char c = k.p[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == ' ' || c == '-' || c == '_' || c == '.'))
            return false;
    }
    return k.p[k.len - 1] != ' ';
}

static int ise_probe(hm_decode_ctx *ctx, const hm_syslog_hdr *h) {
    HM_UNUSED(ctx);
    if (hm_str_starts(h->app, "CISE_")) return 100;
    if (hm_str_starts(h->body, "CISE_")) return 100;
    return 0;
}

/* Splits s at ", " (or a final ","), honouring "\," escapes, into pairs (appending to
 * the previous value when a piece has no key). Returns the number of pairs. */
static int split_pairs(hm_str s, pair *out, int max, hm_str *first_text, bool want_text) {
    const char *p = s.p, *e = s.p + s.len;
    int n = 0;
    bool first = want_text, dropped = false;
    while (p < e) {
        while (p < e && *p == ' ') p++;
        if (p >= e) break;
        const char *a = p;
        while (p < e) {
            if (*p == '\\' && p + 1 < e) {
                p += 2;
                continue;
            }
            if (*p == ',' && (p + 1 == e || p[1] == ' ')) break;
            p++;
        }
        hm_str piece = {a, (uint32_t)(p - a)};
        const char *next = p < e ? p + 1 : e;
        if (first) {
            *first_text = piece;
            first = false;
            p = next;
            continue;
        }
        const char *eq = memchr(piece.p, '=', piece.len);
        hm_str key = eq ? (hm_str){piece.p, (uint32_t)(eq - piece.p)} : (hm_str){NULL, 0};
        if (eq && key_ok(key)) {
            dropped = n >= max; /* beyond the table: left in raw only */
            if (!dropped) {
                out[n].key = key;
                hm_str v = {eq + 1, (uint32_t)(piece.p + piece.len - eq - 1)};
                out[n].val = hm_str_trim(v);
                n++;
            }
        } else if (dropped) {
            /* continuation of a dropped pair */
        } else if (n > 0) {
            /* continuation of the previous value: extend its slice over ", piece" */
            pair *pv = &out[n - 1];
            pv->val.len = (uint32_t)(piece.p + piece.len - pv->val.p);
        } else if (want_text && first_text->p) {
            first_text->len = (uint32_t)(piece.p + piece.len - first_text->p);
        }
        p = next;
    }
    return n;
}

static void emit_pairs(hm_decode_ctx *ctx, hm_event *ev, pair *pr, int n) {
    for (int i = 0; i < n; i++) {
        if (!pr[i].key.len) continue; /* already joined into an earlier pair */
        hm_str val = pr[i].val;
        /* repeated keys: join every value with ',' */
        size_t total = val.len;
        int dups = 0;
        for (int j = i + 1; j < n; j++)
            if (pr[j].key.len == pr[i].key.len &&
                !memcmp(pr[j].key.p, pr[i].key.p, pr[i].key.len)) {
                total += 1 + pr[j].val.len;
                dups++;
            }
        if (dups) {
            char *d = hm_arena_alloc(ctx->arena, total + 1), *o = d;
            memcpy(o, val.p, val.len);
            o += val.len;
            for (int j = i + 1; j < n; j++)
                if (pr[j].key.len == pr[i].key.len &&
                    !memcmp(pr[j].key.p, pr[i].key.p, pr[i].key.len)) {
                    *o++ = ',';
                    memcpy(o, pr[j].val.p, pr[j].val.len);
                    o += pr[j].val.len;
                    pr[j].key.len = 0;
                }
            *o = 0;
            val = (hm_str){d, (uint32_t)(o - d)};
        }
        if (!val.len) continue;
        hm_str k = pr[i].key;
        if (hm_str_eq_c(k, "Calling-Station-ID")) {
            if (hm_str_is_mac(val))
                hm_ev_set_default(ev, HM_F_SRC_MAC, val);
            else if (hm_str_is_ip(val))
                hm_ev_set_default(ev, HM_F_SRC_IP, val);
            hm_dec_extra(ctx, ev, k, val);
            continue;
        }
        hm_dec_map(ctx, ev, k, val);
    }
}

static hm_str next_tok(const char **pp, const char *e) {
    const char *p = *pp;
    while (p < e && *p == ' ') p++;
    const char *a = p;
    while (p < e && *p != ' ') p++;
    *pp = p;
    return (hm_str){a, (uint32_t)(p - a)};
}

static int ise_decode(hm_decode_ctx *ctx, hm_event *ev) {
    const hm_syslog_hdr *h = ctx->hdr;
    const char *p = h->body.p, *e = h->body.p + h->body.len;
    hm_str cat = hm_str_starts(h->app, "CISE_") ? h->app : next_tok(&p, e);
    hm_str msgid = next_tok(&p, e), segs = next_tok(&p, e), segno = next_tok(&p, e);
    if (!all_digits(msgid) || !all_digits(segs) || !all_digits(segno)) {
        ctx->reason = "ise: header is not CISE_<category> <msgid> <segments> <segment>";
        return HM_EPARSE;
    }
    const char *event = "ise_event", *outcome = NULL, *category = "authentication";
    for (size_t i = 0; i < HM_ARRAY_LEN(ise_cats); i++)
        if (hm_str_eq_c(cat, ise_cats[i].cat)) {
            event = ise_cats[i].event;
            outcome = ise_cats[i].outcome;
            category = ise_cats[i].category;
            break;
        }
    hm_dec_origin(ev, HM_SRC_RADIUS, "cisco", "ise", category, NULL);
    hm_dec_extra(ctx, ev, HM_STR_LIT("ise_category"), cat);
    hm_dec_extra(ctx, ev, HM_STR_LIT("ise_message_id"), msgid);
    pair pr[ISE_MAX_PAIRS];
    hm_str text = {0};
    bool continuation = !(segno.len == 1 && segno.p[0] == '0');
    if (continuation) {
        /* later segments: only the rest of the key=value list */
        hm_dec_extra(ctx, ev, HM_STR_LIT("ise_segment"), segno);
        hm_ev_set_c(ev, HM_F_EVENT, "ise_segment");
        int n = split_pairs((hm_str){p, (uint32_t)(e - p)}, pr, ISE_MAX_PAIRS, &text, false);
        emit_pairs(ctx, ev, pr, n);
        return HM_OK;
    }
    /* YYYY-MM-DD HH:MM:SS.mmm +HH:MM */
    while (p < e && *p == ' ') p++;
    int64_t ns;
    bool zone;
    size_t used = hm_parse_iso8601(p, (size_t)(e - p), &ns, &zone);
    if (!used) {
        ctx->reason = "ise: no timestamp after the segment numbers";
        return HM_EPARSE;
    }
    p += used;
    if (!zone) {
        hm_str off = next_tok(&p, e);
        int sign = 0;
        if (off.len == 6 && (off.p[0] == '+' || off.p[0] == '-') && off.p[3] == ':')
            sign = off.p[0] == '-' ? -1 : 1;
        if (sign) {
            int oh = (off.p[1] - '0') * 10 + (off.p[2] - '0'),
                om = (off.p[4] - '0') * 10 + (off.p[5] - '0');
            if (oh >= 0 && oh <= 23 && om >= 0 && om <= 59) {
                hm_dec_time_utc(ev, ns - (int64_t)sign * (oh * 3600 + om * 60) * 1000000000LL);
                zone = true;
            }
        }
        if (!zone) hm_dec_time_local(ctx, ev, ns);
    } else {
        hm_dec_time_utc(ev, ns);
    }
    hm_str seq = next_tok(&p, e), code = next_tok(&p, e), sev = next_tok(&p, e);
    if (!all_digits(code)) {
        ctx->reason = "ise: no message code after the timestamp";
        return HM_EPARSE;
    }
    hm_dec_extra(ctx, ev, HM_STR_LIT("ise_sequence"), seq);
    hm_ev_set(ev, HM_F_EVENT_ID_VENDOR, code);
    if (sev.len) hm_ev_set(ev, HM_F_SEVERITY_VENDOR, sev);
    int64_t icode = 0;
    hm_str_to_i64(code, &icode);
    for (size_t i = 0; i < HM_ARRAY_LEN(ise_codes); i++)
        if (ise_codes[i].code == icode) {
            event = ise_codes[i].event;
            outcome = ise_codes[i].outcome;
            break;
        }
    hm_ev_set_c(ev, HM_F_EVENT, event);
    if (outcome) hm_ev_set_c(ev, HM_F_OUTCOME, outcome);
    int n = split_pairs((hm_str){p, (uint32_t)(e - p)}, pr, ISE_MAX_PAIRS, &text, true);
    text = hm_str_trim(text);
    if (text.len) hm_ev_set(ev, HM_F_MESSAGE, text);
    emit_pairs(ctx, ev, pr, n);
    return HM_OK;
}

const hm_decoder_ops hm_dec_ise = {
    .abi = HM_DECODER_ABI,
    .name = "ise",
    .description =
        "Cisco ISE syslog (CISE_Passed_Authentications, CISE_Failed_Attempts, accounting ...)",
    .probe = ise_probe,
    .decode = ise_decode,
};
