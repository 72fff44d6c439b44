/* webhook.c - `webhook:URL[?format=raw|array|slack|teams&secret=...&timeout=5s&...]`.
 *
 * One HTTP POST per line (format raw, slack, teams) or one JSON array of up to batch=N lines
 * (format array), with libcurl. Options may follow '?' (known option names are taken out of
 * the URL's query, the rest stays in it) or '#' (a fragment is never sent: no ambiguity).
 *
 * Delivery: a 2xx answer delivers the line(s). 5xx, 408, 429 (Retry-After honoured), time-outs
 * and connection errors return HM_ERETRY: the engine holds input and calls again with the
 * same buffer, and the sink resumes after the lines already delivered. Any other answer
 * (4xx, 3xx: redirects are not followed) can never succeed by retrying, and retrying would
 * stall every output: such a line is counted as rejected, logged at error level with the
 * status and the receiver's answer, and appended to dead_letter=PATH when given.
 *
 * With secret=..., each request carries X-Hallmonitor-Timestamp (unix seconds),
 * X-Hallmonitor-Signature: sha256=HEX(HMAC-SHA256(secret, body)) and
 * X-Hallmonitor-Signature-TS: t=TS,sha256=HEX(HMAC-SHA256(secret, "TS." body)). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "json_lines.h"
#include "sink.h"
#include "timeutil.h"

typedef enum { FMT_RAW, FMT_ARRAY, FMT_SLACK, FMT_TEAMS } wh_format;

typedef struct webhook_state {
    char *name; /* scheme://host/… for logs (a Slack URL's path is its secret) */
    char *url;
    char *resolved; /* the URL read from env:/file: */
    wh_format fmt;
    char *secret;
    long timeout_ms;
    unsigned kinds;
    int min_rank;
    size_t batch;
    char *dead_path;
    FILE *dead;
    CURL *h;
    EVP_MAC *mac;
    struct curl_slist *extra_headers;
    char errbuf[CURL_ERROR_SIZE];
    hm_buf resp;
    long retry_after_s;
    int64_t hold_until_ns; /* Retry-After: do not send before (monotonic) */
    size_t resume_lines, resume_len;
    uint64_t resume_hash;
    bool down;
    hm_jl_doc doc;
    hm_buf body, ids;
    uint64_t delivered, requests, rejected, failures, filtered;
} webhook_state;

static void webhook_close(void *state);

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
    webhook_state *st = ud;
    size_t len = size * n;
    if (st->resp.len < 512)
        hm_buf_put(&st->resp, p, len < 512 - st->resp.len ? len : 512 - st->resp.len);
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud) {
    webhook_state *st = ud;
    size_t len = size * n;
    if (len > 12 && !strncasecmp(p, "Retry-After:", 12)) {
        long v = strtol(p + 12, NULL, 10);
        if (v > 0) st->retry_after_s = v > 300 ? 300 : v;
    }
    return len;
}

static const char *const KNOWN[] = {"format", "secret",      "timeout", "kinds", "min_level",
                                    "batch",  "dead_letter", "cacert",  "header"};

static bool known_opt(const char *p, size_t n) {
    for (size_t i = 0; i < HM_ARRAY_LEN(KNOWN); i++)
        if (strlen(KNOWN[i]) == n && !memcmp(KNOWN[i], p, n)) return true;
    return false;
}

static int apply_opt(webhook_state *st, const char *key, const char *val, char *err,
                     size_t errlen) {
    int64_t ns;
    if (!strcmp(key, "format")) {
        if (!strcmp(val, "raw") || !strcmp(val, "json"))
            st->fmt = FMT_RAW;
        else if (!strcmp(val, "array"))
            st->fmt = FMT_ARRAY;
        else if (!strcmp(val, "slack"))
            st->fmt = FMT_SLACK;
        else if (!strcmp(val, "teams"))
            st->fmt = FMT_TEAMS;
        else
            goto bad;
    } else if (!strcmp(key, "secret")) {
        free(st->secret);
        st->secret = hm_secret_resolve(val, st->name, err, errlen);
        if (!st->secret) return HM_EUSAGE;
    } else if (!strcmp(key, "timeout")) {
        if (!hm_parse_duration_ns(val, &ns) || ns < 1000000) goto bad;
        st->timeout_ms = (long)(ns / 1000000);
    } else if (!strcmp(key, "kinds")) {
        if (!hm_jl_kind_mask(val, &st->kinds)) goto bad;
    } else if (!strcmp(key, "min_level")) {
        st->min_rank = hm_jl_rank(hm_str_c(val));
        if (st->min_rank < 0) goto bad;
    } else if (!strcmp(key, "batch")) {
        char *e;
        long v = strtol(val, &e, 10);
        if (*e || v < 1 || v > 10000) goto bad;
        st->batch = (size_t)v;
    } else if (!strcmp(key, "dead_letter")) {
        free(st->dead_path);
        st->dead_path = hm_xstrdup(val);
    } else if (!strcmp(key, "cacert")) {
        curl_easy_setopt(st->h, CURLOPT_CAINFO, val);
    } else if (!strcmp(key, "header")) {
        const char *colon = strchr(val, ':');
        if (!colon || colon == val) goto bad;
        st->extra_headers = curl_slist_append(st->extra_headers, val);
    } else {
        goto bad;
    }
    return HM_OK;
bad:
    snprintf(err, errlen,
             "--output %s: unknown or bad option '%s=%s' (format=raw|array|slack|teams, "
             "secret=S|env:NAME|file:PATH, timeout=5s, kinds=alert,incident, min_level=LEVEL, "
             "batch=N, dead_letter=PATH, cacert=PATH, header=Name:Value)",
             st->name, key, !strcmp(key, "secret") ? "***" : val);
    return HM_EUSAGE;
}

static int webhook_open(const char *uri, void **state, char *err, size_t errlen) {
    static bool curl_ready = false;
    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        curl_ready = true;
    }
    webhook_state *st = hm_xcalloc(1, sizeof(*st));
    const char *u = uri + strlen("webhook:");
    char *resolved = NULL;
    if (!strncmp(u, "env:", 4) || !strncmp(u, "file:", 5)) {
        /* the URL itself is a secret (Slack, Teams): webhook:env:NAME[?options] */
        size_t nl = strcspn(u, "?#");
        char *ref = hm_xstrndup(u, nl);
        char *url0 = hm_secret_resolve(ref, "--output webhook", err, errlen);
        free(ref);
        if (!url0) {
            free(st);
            return HM_EUSAGE;
        }
        hm_buf nb = {0};
        hm_buf_puts(&nb, url0);
        if (u[nl]) {
            hm_buf_putc(&nb, strchr(url0, '#') ? '&' : '#');
            hm_buf_puts(&nb, u + nl + 1);
        }
        hm_buf_putc(&nb, 0);
        free(url0);
        resolved = nb.p;
        u = resolved;
    }
    st->resolved = resolved;
    /* log name: scheme://host only */
    {
        const char *ss = strstr(u, "://");
        const char *hs = ss ? ss + 3 : u;
        size_t hl = strcspn(hs, "/?#");
        hm_buf n = {0};
        hm_buf_puts(&n, "webhook:");
        hm_buf_put(&n, u, (size_t)(hs - u) + hl);
        if (hs[hl]) hm_buf_puts(&n, "/...");
        hm_buf_putc(&n, 0);
        st->name = n.p;
    }
    st->fmt = FMT_RAW;
    st->timeout_ms = 5000;
    st->kinds = HM_JL_ALERT | HM_JL_INCIDENT;
    st->min_rank = -1;
    st->batch = 100;
    hm_jl_init(&st->doc);
    st->h = curl_easy_init();
    if (!st->h) {
        snprintf(err, errlen, "--output %s: cannot initialise libcurl", st->name);
        webhook_close(st);
        return HM_EUSAGE;
    }
    if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) {
        snprintf(err, errlen, "--output %s: expected webhook:http(s)://HOST/PATH[?options]",
                 st->name);
        webhook_close(st);
        return HM_EUSAGE;
    }
    const char *frag = strchr(u, '#');
    const char *uend = frag ? frag : u + strlen(u);
    const char *qm = memchr(u, '?', (size_t)(uend - u));
    hm_buf url = {0};
    hm_buf_put(&url, u, (size_t)((qm ? qm : uend) - u));
    char key[64], val[1024];
    int rc = HM_OK;
    if (qm) {
        /* keep the query parameters we do not know, in their order and encoding */
        const char *p = qm + 1;
        bool first = true;
        while (p < uend && rc == HM_OK) {
            size_t seg = strcspn(p, "&");
            if ((size_t)(uend - p) < seg) seg = (size_t)(uend - p);
            const char *eq = memchr(p, '=', seg);
            size_t kl = eq ? (size_t)(eq - p) : seg;
            if (seg && known_opt(p, kl)) {
                const char *o = p, *oe = p + seg;
                if (hm_uriopt_next(&o, oe, key, sizeof key, val, sizeof val))
                    rc = apply_opt(st, key, val, err, errlen);
            } else if (seg) {
                hm_buf_putc(&url, first ? '?' : '&');
                hm_buf_put(&url, p, seg);
                first = false;
            }
            p += seg;
            if (p < uend && *p == '&') p++;
        }
    }
    if (frag && rc == HM_OK) {
        const char *o = frag + 1, *oe = frag + strlen(frag);
        while (rc == HM_OK && hm_uriopt_next(&o, oe, key, sizeof key, val, sizeof val))
            rc = apply_opt(st, key, val, err, errlen);
    }
    hm_buf_putc(&url, 0);
    st->url = url.p;
    if (rc != HM_OK) {
        webhook_close(st);
        return rc;
    }
    if (st->dead_path) {
        st->dead = fopen(st->dead_path, "ae");
        if (!st->dead) {
            snprintf(err, errlen, "--output %s: dead_letter=%s: %s", st->name, st->dead_path,
                     strerror(errno));
            webhook_close(st);
            return HM_EUSAGE;
        }
    }
    CURL *h = st->h;
    curl_easy_setopt(h, CURLOPT_URL, st->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, st->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, st->timeout_ms);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "hallmonitor/" HM_VERSION);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, st->errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, st);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, st);
    *state = st;
    return HM_OK;
}

/* ---- bodies ---- */

static void json_kv(hm_buf *b, const char *k, hm_str v, bool comma) {
    if (comma) hm_buf_putc(b, ',');
    hm_buf_putc(b, '"');
    hm_buf_puts(b, k);
    hm_buf_puts(b, "\":");
    hm_buf_put_json_str(b, v);
}

typedef struct fact {
    const char *label;
    hm_str value;
} fact;

/* title and facts of a line for people */
static size_t summarize(webhook_state *st, hm_buf *title, fact *f, size_t cap) {
    hm_jl_doc *d = &st->doc;
    size_t n = 0;
#define FACT(l, v)                                                                                 \
    do {                                                                                           \
        hm_str _v = (v);                                                                           \
        if (_v.len && n < cap) f[n++] = (fact){(l), _v};                                           \
    } while (0)
    if (d->kind == HM_JL_ALERT) {
        hm_str level = hm_jl_str_at(d, 0, "rule.level");
        hm_buf_putc(title, '[');
        for (uint32_t i = 0; i < level.len; i++)
            hm_buf_putc(title, (char)toupper((unsigned char)level.p[i]));
        if (!level.len) hm_buf_puts(title, "ALERT");
        hm_buf_puts(title, "] ");
        hm_str t = hm_jl_str_at(d, 0, "rule.title");
        if (!t.len) t = hm_jl_str_at(d, 0, "rule.id");
        hm_buf_put(title, t.p, t.len);
        FACT("Rule", hm_jl_str_at(d, 0, "rule.id"));
        FACT("Time", hm_jl_str_at(d, 0, "time"));
        FACT("User", hm_jl_field(d, "user"));
        FACT("Source", hm_jl_field(d, "src_ip"));
        FACT("Destination", hm_jl_field(d, "dst_ip"));
        FACT("Host", hm_jl_field(d, "host"));
        FACT("Event", hm_jl_field(d, "event"));
        FACT("Outcome", hm_jl_field(d, "outcome"));
        int g = hm_jl_get(d, 0, "group");
        if (!hm_jl_is_null(d, g)) FACT("Group", hm_jl_json(d, g));
        int ev = hm_jl_get(d, 0, "event_ids");
        if (hm_jl_is(d, ev, JSMN_ARRAY)) {
            char *c = hm_arena_alloc(&d->arena, 24);
            int len = snprintf(c, 24, "%d", d->tok[ev].size);
            FACT("Events", hm_str_n(c, (size_t)len));
        }
        int tags = hm_jl_get(d, 0, "rule.tags");
        if (hm_jl_is(d, tags, JSMN_ARRAY) && d->tok[tags].size) FACT("Tags", hm_jl_json(d, tags));
    } else if (d->kind == HM_JL_INCIDENT) {
        hm_str prio = hm_jl_str_at(d, 0, "priority");
        hm_buf_putc(title, '[');
        for (uint32_t i = 0; i < prio.len; i++)
            hm_buf_putc(title, (char)toupper((unsigned char)prio.p[i]));
        if (!prio.len) hm_buf_puts(title, "INCIDENT");
        hm_buf_puts(title, "] Incident ");
        hm_str id = hm_jl_str_at(d, 0, "id");
        hm_buf_put(title, id.p, id.len);
        int ent = hm_jl_get(d, 0, "entity");
        hm_str es = {0};
        if (hm_jl_is(d, ent, JSMN_OBJECT)) {
            hm_str ty = hm_jl_str_at(d, ent, "type"), va = hm_jl_str_at(d, ent, "value");
            if (va.len) {
                size_t l = ty.len + 1 + va.len;
                char *c = hm_arena_alloc(&d->arena, l + 1);
                memcpy(c, ty.p, ty.len);
                c[ty.len] = ':';
                memcpy(c + ty.len + 1, va.p, va.len);
                es = hm_str_n(c, l);
            } else {
                es = hm_jl_json(d, ent);
            }
        } else {
            es = hm_jl_str(d, ent);
        }
        if (es.len) {
            hm_buf_puts(title, " on ");
            hm_buf_put(title, es.p, es.len);
        }
        FACT("Priority", prio);
        FACT("Score", hm_jl_str_at(d, 0, "score"));
        FACT("Entity", es);
        FACT("Alerts", hm_jl_str_at(d, 0, "alert_count"));
        FACT("Rules", hm_jl_json(d, hm_jl_get(d, 0, "rules")));
        FACT("First seen", hm_jl_str_at(d, 0, "first_seen"));
        FACT("Last seen", hm_jl_str_at(d, 0, "last_seen"));
        bool sd;
        if (hm_jl_bool(d, hm_jl_get(d, 0, "student_data"), &sd))
            FACT("Student data", sd ? HM_STR_LIT("YES") : HM_STR_LIT("no"));
        FACT("Status", hm_jl_str_at(d, 0, "status"));
    } else {
        hm_str k = hm_jl_str_at(d, 0, "kind");
        hm_buf_puts(title, "hallmonitor ");
        hm_buf_put(title, k.p, k.len);
        FACT("Id", hm_jl_str_at(d, 0, "id"));
        FACT("Time", hm_jl_str_at(d, 0, "time"));
    }
#undef FACT
    return n;
}

/* Slack mrkdwn text: & < > escaped */
static void slack_escape(hm_buf *b, hm_str s) {
    for (uint32_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (c == '&')
            hm_buf_puts(b, "&amp;");
        else if (c == '<')
            hm_buf_puts(b, "&lt;");
        else if (c == '>')
            hm_buf_puts(b, "&gt;");
        else
            hm_buf_putc(b, c);
    }
}

static void build_slack(webhook_state *st, hm_buf *out) {
    hm_buf title = {0}, text = {0};
    fact f[16];
    size_t n = summarize(st, &title, f, 16);
    hm_buf_putc(&text, '*');
    slack_escape(&text, hm_str_n(title.p, title.len));
    hm_buf_putc(&text, '*');
    for (size_t i = 0; i < n; i++) {
        hm_buf_puts(&text, "\n*");
        hm_buf_puts(&text, f[i].label);
        hm_buf_puts(&text, ":* ");
        slack_escape(&text, f[i].value);
    }
    hm_buf_putc(out, '{');
    json_kv(out, "text", hm_str_n(text.p, text.len), false);
    hm_buf_putc(out, '}');
    hm_buf_free(&title);
    hm_buf_free(&text);
}

static void build_teams(webhook_state *st, hm_buf *out) {
    hm_buf title = {0};
    fact f[16];
    size_t n = summarize(st, &title, f, 16);
    int rank = hm_jl_line_rank(&st->doc);
    const char *color = rank >= 3 ? "Attention" : rank == 2 ? "Warning" : "Default";
    hm_buf_puts(out, "{\"type\":\"message\",\"attachments\":[{\"contentType\":"
                     "\"application/vnd.microsoft.card.adaptive\",\"contentUrl\":null,"
                     "\"content\":{\"$schema\":\"http://adaptivecards.io/schemas/"
                     "adaptive-card.json\",\"type\":\"AdaptiveCard\",\"version\":\"1.4\","
                     "\"body\":[{\"type\":\"TextBlock\",\"size\":\"Medium\",\"weight\":\"Bolder\","
                     "\"wrap\":true,\"color\":\"");
    hm_buf_puts(out, color);
    hm_buf_puts(out, "\",\"text\":");
    hm_buf_put_json_str(out, hm_str_n(title.p, title.len));
    hm_buf_puts(out, "},{\"type\":\"FactSet\",\"facts\":[");
    for (size_t i = 0; i < n; i++) {
        hm_buf_puts(out, i ? ",{" : "{");
        json_kv(out, "title", hm_str_c(f[i].label), false);
        json_kv(out, "value", f[i].value, true);
        hm_buf_putc(out, '}');
    }
    hm_buf_puts(out, "]}]}}]}");
    hm_buf_free(&title);
}

/* ---- delivery ---- */

typedef enum { SEND_OK, SEND_RETRY, SEND_REJECTED } send_result;

/* hex HMAC-SHA256(secret, pre + body) into out[65] */
static bool hmac_hex(webhook_state *st, const char *pre, size_t pl, const char *body, size_t len,
                     char out[65]) {
    if (!st->mac) st->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *mc = st->mac ? EVP_MAC_CTX_new(st->mac) : NULL;
    OSSL_PARAM params[2] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end()};
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t outl = 0;
    bool ok = mc &&
              EVP_MAC_init(mc, (const unsigned char *)st->secret, strlen(st->secret), params) &&
              (!pl || EVP_MAC_update(mc, (const unsigned char *)pre, pl)) &&
              EVP_MAC_update(mc, (const unsigned char *)body, len) &&
              EVP_MAC_final(mc, md, &outl, sizeof md) && outl == 32;
    EVP_MAC_CTX_free(mc);
    if (!ok) {
        hm_error("output", "%s: cannot compute the HMAC signature (OpenSSL)", st->name);
        return false;
    }
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = hx[md[i] >> 4];
        out[2 * i + 1] = hx[md[i] & 15];
    }
    out[64] = 0;
    return true;
}

static send_result post(webhook_state *st, const char *body, size_t len, const char *delivery,
                        const char *kind, long *status, char *why, size_t whylen) {
    CURL *h = st->h;
    struct curl_slist *hd = NULL;
    hd = curl_slist_append(hd, "Content-Type: application/json");
    hd = curl_slist_append(hd, "Expect:");
    char line[256];
    snprintf(line, sizeof line, "X-Hallmonitor-Delivery: %s", delivery);
    hd = curl_slist_append(hd, line);
    snprintf(line, sizeof line, "X-Hallmonitor-Kind: %s", kind);
    hd = curl_slist_append(hd, line);
    if (st->secret) {
        long long ts = (long long)time(NULL);
        char hx[65], pre[32];
        int pl = snprintf(pre, sizeof pre, "%lld.", ts);
        snprintf(line, sizeof line, "X-Hallmonitor-Timestamp: %lld", ts);
        hd = curl_slist_append(hd, line);
        if (hmac_hex(st, NULL, 0, body, len, hx)) {
            snprintf(line, sizeof line, "X-Hallmonitor-Signature: sha256=%s", hx);
            hd = curl_slist_append(hd, line);
        }
        /* the same over "TS." + body, so a receiver can reject replays of old deliveries */
        if (hmac_hex(st, pre, (size_t)pl, body, len, hx)) {
            snprintf(line, sizeof line, "X-Hallmonitor-Signature-TS: t=%lld,sha256=%s", ts, hx);
            hd = curl_slist_append(hd, line);
        }
    }
    for (struct curl_slist *e = st->extra_headers; e; e = e->next)
        hd = curl_slist_append(hd, e->data);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    st->resp.len = 0;
    st->errbuf[0] = 0;
    st->retry_after_s = 0;
    st->requests++;
    CURLcode rc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hd);
    *status = 0;
    if (rc != CURLE_OK) {
        snprintf(why, whylen, "%s", st->errbuf[0] ? st->errbuf : curl_easy_strerror(rc));
        /* bad TLS setup or URL can still be fixed by the operator: hold input, don't drop */
        return SEND_RETRY;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    long s = *status;
    if (s >= 200 && s < 300) return SEND_OK;
    int rl = (int)(st->resp.len > 200 ? 200 : st->resp.len);
    snprintf(why, whylen, "HTTP %ld%s%.*s", s, rl ? ": " : "", rl, st->resp.p ? st->resp.p : "");
    for (char *c = why; *c; c++)
        if (*c == '\n' || *c == '\r') *c = ' ';
    if (s >= 500 || s == 408 || s == 429) {
        if (st->retry_after_s) st->hold_until_ns = hm_mono_ns() + st->retry_after_s * 1000000000LL;
        return SEND_RETRY;
    }
    return SEND_REJECTED;
}

static void reject(webhook_state *st, long status, const char *why, const char *id,
                   const char *lines, size_t len) {
    st->rejected++;
    if (st->rejected <= 10 || st->rejected % 100 == 0)
        hm_error("output", "%s: the receiver refused %s (%s); NOT delivered, %llu refused so far%s",
                 st->name, id, why, (unsigned long long)st->rejected,
                 st->dead ? " (kept in the dead_letter file)"
                          : " (set dead_letter=PATH to keep them)");
    if (st->dead) {
        char now[40];
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
        hm_buf b = {0};
        hm_buf_puts(&b, "{\"kind\":\"webhook_rejected\",\"time\":\"");
        hm_buf_puts(&b, now);
        hm_buf_printf(&b, "\",\"status\":%ld,", status);
        json_kv(&b, "reason", hm_str_c(why), false);
        json_kv(&b, "id", hm_str_c(id), true);
        hm_buf_puts(&b, st->fmt == FMT_ARRAY ? ",\"lines\":" : ",\"line\":");
        hm_buf_put(&b, lines, len);
        hm_buf_puts(&b, "}\n");
        fwrite(b.p, 1, b.len, st->dead);
        fflush(st->dead);
        hm_buf_free(&b);
    }
}

static int failed(webhook_state *st, const char *why, size_t confirmed, size_t len, uint64_t h) {
    st->failures++;
    st->resume_lines = confirmed, st->resume_len = len, st->resume_hash = h;
    if (!st->down) {
        hm_warn("output", "%s: %s; retrying with backoff, input is held", st->name, why);
        st->down = true;
    }
    return HM_ERETRY;
}

static int webhook_write(void *state, const char *data, size_t len) {
    webhook_state *st = state;
    uint64_t h = hm_hash64(data, len, 0);
    size_t skip = 0;
    if (st->resume_lines && st->resume_len == len && st->resume_hash == h) skip = st->resume_lines;
    st->resume_lines = 0;
    if (st->hold_until_ns && hm_mono_ns() < st->hold_until_ns) {
        st->resume_lines = skip, st->resume_len = len, st->resume_hash = h;
        return HM_ERETRY; /* the receiver asked us to wait (Retry-After) */
    }
    st->hold_until_ns = 0;
    hm_jl_iter it;
    hm_str line;
    hm_jl_iter_init(&it, data, len);
    size_t first_in_body = skip;
    size_t in_body = 0;
    char why[400];
    long status;
    bool more = true;
    st->body.len = 0;
    st->ids.len = 0;
    while (more) {
        more = hm_jl_next(&it, &line);
        if (more) {
            if (it.index < skip) continue;
            if (hm_jl_parse(&st->doc, line.p, line.len) != 0 || !(st->doc.kind & st->kinds) ||
                (st->min_rank >= 0 && hm_jl_line_rank(&st->doc) < st->min_rank)) {
                st->filtered++;
                if (!in_body) first_in_body = it.index + 1;
                continue;
            }
        }
        if (st->fmt == FMT_ARRAY) {
            if (more) {
                if (!in_body) {
                    first_in_body = it.index;
                    hm_buf_putc(&st->body, '[');
                    st->ids.len = 0;
                    hm_jl_identity(&st->doc, &st->ids, true);
                } else {
                    hm_buf_putc(&st->body, ',');
                }
                hm_buf_put(&st->body, line.p, line.len);
                in_body++;
                if (in_body < st->batch) continue;
            }
            if (!in_body) break;
            hm_buf_putc(&st->body, ']');
            char delivery[65];
            hm_sha256_hex(st->body.p, st->body.len, delivery);
            send_result r =
                post(st, st->body.p, st->body.len, delivery, "array", &status, why, sizeof why);
            if (r == SEND_RETRY) return failed(st, why, first_in_body, len, h);
            if (r == SEND_REJECTED) {
                hm_buf_putc(&st->ids, 0);
                reject(st, status, why, st->ids.p, st->body.p, st->body.len);
            } else {
                st->delivered += in_body;
            }
            first_in_body = it.index + 1;
            in_body = 0;
            st->body.len = 0;
            continue;
        }
        if (!more) break;
        /* one request per line */
        st->body.len = 0;
        st->ids.len = 0;
        hm_jl_identity(&st->doc, &st->ids, true);
        char delivery[65];
        hm_sha256_hex(st->ids.p, st->ids.len, delivery);
        hm_buf_putc(&st->ids, 0);
        const char *body;
        size_t blen;
        if (st->fmt == FMT_SLACK || st->fmt == FMT_TEAMS) {
            if (st->fmt == FMT_SLACK)
                build_slack(st, &st->body);
            else
                build_teams(st, &st->body);
            body = st->body.p;
            blen = st->body.len;
        } else {
            body = line.p;
            blen = line.len;
        }
        hm_str kind = hm_jl_str_at(&st->doc, 0, "kind");
        char kbuf[32];
        snprintf(kbuf, sizeof kbuf, "%.*s", (int)(kind.len < 31 ? kind.len : 31),
                 kind.p ? kind.p : "");
        for (char *c = kbuf; *c; c++)
            if (*c < 0x20) *c = '?';
        send_result r = post(st, body, blen, delivery, kbuf, &status, why, sizeof why);
        if (r == SEND_RETRY) return failed(st, why, it.index, len, h);
        if (r == SEND_REJECTED)
            reject(st, status, why, st->ids.p, line.p, line.len);
        else
            st->delivered++;
    }
    if (st->down) {
        hm_info("output", "%s: delivering again after %llu failed attempts", st->name,
                (unsigned long long)st->failures);
        st->down = false;
    }
    return HM_OK;
}

static int webhook_flush(void *state) {
    webhook_state *st = state;
    if (st->dead) fflush(st->dead);
    return HM_OK;
}

static void webhook_close(void *state) {
    webhook_state *st = state;
    if (st->requests)
        hm_info("output", "%s: %llu delivered, %llu refused by the receiver, %llu failed attempts",
                st->name, (unsigned long long)st->delivered, (unsigned long long)st->rejected,
                (unsigned long long)st->failures);
    if (st->rejected)
        hm_error("output", "%s: %llu line(s) were refused by the receiver and not delivered%s",
                 st->name, (unsigned long long)st->rejected,
                 st->dead ? "; see the dead_letter file" : "");
    if (st->h) curl_easy_cleanup(st->h);
    EVP_MAC_free(st->mac);
    curl_slist_free_all(st->extra_headers);
    if (st->dead) fclose(st->dead);
    hm_jl_free(&st->doc);
    hm_buf_free(&st->body);
    hm_buf_free(&st->ids);
    hm_buf_free(&st->resp);
    free(st->dead_path);
    free(st->secret);
    free(st->url);
    free(st->resolved);
    free(st->name);
    free(st);
}

const hm_sink_ops hm_sink_webhook = {
    .abi = HM_SINK_ABI,
    .scheme = "webhook",
    .description = "HTTP POST per alert/incident (raw JSON, array, Slack, Teams), HMAC-signed",
    .open = webhook_open,
    .write = webhook_write,
    .flush = webhook_flush,
    .close = webhook_close,
};
