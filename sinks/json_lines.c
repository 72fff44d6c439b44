/* json_lines.c - see json_lines.h. */
#include <ctype.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "json_lines.h"
#include "timeutil.h"

#define JL_MAX_TOKENS (1 << 22)

bool hm_jl_next(hm_jl_iter *it, hm_str *line) {
    while (it->p < it->end) {
        const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
        const char *e = nl ? nl : it->end;
        const char *s = it->p;
        it->p = nl ? nl + 1 : it->end;
        const char *t = e;
        if (t > s && t[-1] == '\r') t--;
        const char *q = s;
        while (q < t && (*q == ' ' || *q == '\t')) q++;
        if (q == t) continue;
        *line = hm_str_n(s, (size_t)(t - s));
        it->index++;
        return true;
    }
    return false;
}

size_t hm_jl_count(const char *data, size_t len) {
    hm_jl_iter it;
    hm_str l;
    size_t n = 0;
    hm_jl_iter_init(&it, data, len);
    while (hm_jl_next(&it, &l)) n++;
    return n;
}

void hm_jl_init(hm_jl_doc *d) {
    memset(d, 0, sizeof(*d));
    d->cap = 256;
    d->tok = hm_xmalloc((size_t)d->cap * sizeof(jsmntok_t));
    hm_arena_init(&d->arena, 16 * 1024);
}

void hm_jl_free(hm_jl_doc *d) {
    free(d->tok);
    hm_arena_free(&d->arena);
    memset(d, 0, sizeof(*d));
}

int hm_jl_parse(hm_jl_doc *d, const char *line, size_t len) {
    hm_arena_reset(&d->arena);
    d->json = line;
    d->len = len;
    d->ntok = 0;
    d->kind = HM_JL_OTHER;
    int r;
    for (;;) {
        jsmn_parser p;
        jsmn_init(&p);
        r = jsmn_parse(&p, line, len, d->tok, (unsigned)d->cap);
        if (r != JSMN_ERROR_NOMEM || d->cap >= JL_MAX_TOKENS) break;
        d->cap *= 4;
        d->tok = hm_xrealloc(d->tok, (size_t)d->cap * sizeof(jsmntok_t));
    }
    if (r < 1 || d->tok[0].type != JSMN_OBJECT) return -1;
    for (size_t i = (size_t)d->tok[0].end; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n') return -1;
    d->ntok = r;
    int k = hm_jl_get(d, 0, "kind");
    if (hm_jl_is(d, k, JSMN_STRING)) {
        hm_str v = hm_str_n(line + d->tok[k].start, (size_t)(d->tok[k].end - d->tok[k].start));
        if (hm_str_eq_c(v, "alert"))
            d->kind = HM_JL_ALERT;
        else if (hm_str_eq_c(v, "incident"))
            d->kind = HM_JL_INCIDENT;
        else if (hm_str_eq_c(v, "event"))
            d->kind = HM_JL_EVENT;
    }
    return 0;
}

int hm_jl_skip(const hm_jl_doc *d, int t) {
    int end = d->tok[t].end, j = t + 1;
    while (j < d->ntok && d->tok[j].start < end) j++;
    return j;
}

static int jl_child(const hm_jl_doc *d, int obj, const char *key, size_t klen) {
    if (!hm_jl_is(d, obj, JSMN_OBJECT)) return -1;
    int n = d->tok[obj].size, k = obj + 1;
    for (int i = 0; i < n && k < d->ntok; i++) {
        const jsmntok_t *kt = &d->tok[k];
        if ((size_t)(kt->end - kt->start) == klen && !memcmp(d->json + kt->start, key, klen))
            return k + 1 < d->ntok ? k + 1 : -1;
        k = hm_jl_skip(d, k + 1);
    }
    return -1;
}

int hm_jl_get(const hm_jl_doc *d, int obj, const char *path) {
    const char *p = path;
    int cur = obj;
    while (*p && cur >= 0) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        cur = jl_child(d, cur, p, l);
        p += l;
        if (*p == '.') p++;
    }
    return cur;
}

int hm_jl_elem(const hm_jl_doc *d, int arr, int i) {
    if (!hm_jl_is(d, arr, JSMN_ARRAY) || i < 0 || i >= d->tok[arr].size) return -1;
    int k = arr + 1;
    for (int j = 0; j < i; j++) k = hm_jl_skip(d, k);
    return k < d->ntok ? k : -1;
}

hm_str hm_jl_json(const hm_jl_doc *d, int t) {
    if (t < 0 || t >= d->ntok) return (hm_str){NULL, 0};
    const jsmntok_t *tk = &d->tok[t];
    if (tk->type == JSMN_STRING)
        return hm_str_n(d->json + tk->start - 1, (size_t)(tk->end - tk->start) + 2);
    return hm_str_n(d->json + tk->start, (size_t)(tk->end - tk->start));
}

hm_str hm_jl_str(hm_jl_doc *d, int t) {
    if (hm_jl_is_null(d, t)) return (hm_str){NULL, 0};
    const jsmntok_t *tk = &d->tok[t];
    if (tk->type != JSMN_STRING) return hm_jl_json(d, t);
    const char *s = d->json + tk->start;
    size_t n = (size_t)(tk->end - tk->start);
    if (!memchr(s, '\\', n)) return hm_str_n(s, n);
    char *out = hm_arena_alloc(&d->arena, n + 1);
    size_t l = hm_json_unescape(s, n, out);
    return hm_str_n(out, l);
}

hm_str hm_jl_str_at(hm_jl_doc *d, int obj, const char *path) {
    return hm_jl_str(d, hm_jl_get(d, obj, path));
}

char *hm_jl_dup(hm_jl_doc *d, const char *p, size_t n) {
    char *o = hm_arena_alloc(&d->arena, n + 1);
    if (n) memcpy(o, p, n);
    o[n] = 0;
    return o;
}

const char *hm_jl_cstr_at(hm_jl_doc *d, int obj, const char *path) {
    hm_str s = hm_jl_str_at(d, obj, path);
    return hm_jl_dup(d, s.p, s.len);
}

bool hm_jl_i64(const hm_jl_doc *d, int t, int64_t *out) {
    if (!hm_jl_is(d, t, JSMN_PRIMITIVE)) return false;
    hm_str s = hm_jl_json(d, t);
    if (hm_str_to_i64(s, out)) return true;
    double v;
    if (!hm_jl_num(d, t, &v)) return false;
    *out = (int64_t)v;
    return true;
}

bool hm_jl_num(const hm_jl_doc *d, int t, double *out) {
    if (!hm_jl_is(d, t, JSMN_PRIMITIVE) && !hm_jl_is(d, t, JSMN_STRING)) return false;
    hm_str s = hm_jl_json(d, t);
    if (d->tok[t].type == JSMN_STRING) s = hm_str_n(s.p + 1, s.len - 2);
    char buf[64];
    if (s.len == 0 || s.len >= sizeof buf) return false;
    memcpy(buf, s.p, s.len);
    buf[s.len] = 0;
    char *end;
    double v = strtod(buf, &end);
    if (*end) return false;
    *out = v;
    return true;
}

bool hm_jl_bool(const hm_jl_doc *d, int t, bool *out) {
    if (!hm_jl_is(d, t, JSMN_PRIMITIVE)) return false;
    char c = d->json[d->tok[t].start];
    if (c != 't' && c != 'f') return false;
    *out = c == 't';
    return true;
}

bool hm_jl_time_ms(const hm_jl_doc *d, int t, int64_t *ms) {
    if (!hm_jl_is(d, t, JSMN_STRING)) return false;
    const jsmntok_t *tk = &d->tok[t];
    int64_t ns;
    bool has_zone;
    size_t n = (size_t)(tk->end - tk->start);
    if (hm_parse_iso8601(d->json + tk->start, n, &ns, &has_zone) == 0) return false;
    *ms = ns / 1000000;
    return true;
}

hm_str hm_jl_field(hm_jl_doc *d, const char *name) {
    int obj = d->kind == HM_JL_ALERT ? hm_jl_get(d, 0, "fields") : 0;
    if (obj < 0) return (hm_str){NULL, 0};
    return hm_jl_str_at(d, obj, name);
}

void hm_sha256_hex(const void *data, size_t n, char out[65]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(data, n, md, &mdlen, EVP_sha256(), NULL);
    static const char hx[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hx[md[i] >> 4];
        out[2 * i + 1] = hx[md[i] & 15];
    }
    out[64] = 0;
}

void hm_jl_identity(hm_jl_doc *d, hm_buf *out, bool versioned) {
    if (d->kind == HM_JL_ALERT) {
        hm_str rid = hm_jl_str_at(d, 0, "rule.id");
        hm_buf_put(out, rid.p, rid.len);
        hm_buf_putc(out, '|');
        int arr = hm_jl_get(d, 0, "event_ids");
        if (hm_jl_is(d, arr, JSMN_ARRAY)) {
            int n = d->tok[arr].size, k = arr + 1;
            for (int i = 0; i < n && k < d->ntok; i++) {
                if (i) hm_buf_putc(out, ',');
                hm_str e = hm_jl_str(d, k);
                hm_buf_put(out, e.p, e.len);
                k = hm_jl_skip(d, k);
            }
        }
        return;
    }
    hm_str id = hm_jl_str_at(d, 0, "id");
    if (id.len) {
        hm_buf_put(out, id.p, id.len);
        if (versioned && d->kind == HM_JL_INCIDENT) {
            hm_str c = hm_jl_str_at(d, 0, "alert_count"), l = hm_jl_str_at(d, 0, "last_seen");
            hm_buf_putc(out, '#');
            hm_buf_put(out, c.p, c.len);
            hm_buf_putc(out, '@');
            hm_buf_put(out, l.p, l.len);
        }
        return;
    }
    char hex[65];
    hm_sha256_hex(d->json, d->len, hex);
    hm_buf_put(out, hex, 64);
}

int hm_jl_rank(hm_str w) {
    if (!w.len) return -1;
    if (hm_str_ieq_c(w, "critical")) return 4;
    if (hm_str_ieq_c(w, "high")) return 3;
    if (hm_str_ieq_c(w, "medium")) return 2;
    if (hm_str_ieq_c(w, "low")) return 1;
    if (hm_str_ieq_c(w, "informational") || hm_str_ieq_c(w, "info")) return 0;
    return -1;
}

int hm_jl_line_rank(hm_jl_doc *d) {
    if (d->kind == HM_JL_ALERT) return hm_jl_rank(hm_jl_str_at(d, 0, "rule.level"));
    if (d->kind == HM_JL_INCIDENT) return hm_jl_rank(hm_jl_str_at(d, 0, "priority"));
    return -1;
}

bool hm_jl_kind_mask(const char *list, unsigned *mask) {
    unsigned m = 0;
    const char *p = list;
    while (*p) {
        const char *e = p;
        while (*e && *e != ',' && *e != '+' && *e != ' ') e++;
        hm_str w = hm_str_n(p, (size_t)(e - p));
        if (w.len == 0) {
        } else if (hm_str_eq_c(w, "alert") || hm_str_eq_c(w, "alerts"))
            m |= HM_JL_ALERT;
        else if (hm_str_eq_c(w, "incident") || hm_str_eq_c(w, "incidents"))
            m |= HM_JL_INCIDENT;
        else if (hm_str_eq_c(w, "event") || hm_str_eq_c(w, "events"))
            m |= HM_JL_EVENT;
        else if (hm_str_eq_c(w, "other"))
            m |= HM_JL_OTHER;
        else if (hm_str_eq_c(w, "all"))
            m |= HM_JL_ALERT | HM_JL_INCIDENT | HM_JL_EVENT | HM_JL_OTHER;
        else
            return false;
        p = *e ? e + 1 : e;
    }
    if (!m) return false;
    *mask = m;
    return true;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool hm_pct_decode(const char *s, size_t n, char *out, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n) return false;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0) return false;
            c = (char)(h * 16 + l);
            i += 2;
        }
        if (o + 1 >= cap) return false;
        out[o++] = c;
    }
    if (cap) out[o] = 0;
    return cap > 0;
}

bool hm_uriopt_next(const char **pp, const char *end, char *key, size_t kcap, char *val,
                    size_t vcap) {
    const char *p = *pp;
    while (p < end && *p == '&') p++;
    if (p >= end) {
        *pp = p;
        return false;
    }
    const char *amp = memchr(p, '&', (size_t)(end - p));
    const char *e = amp ? amp : end;
    const char *eq = memchr(p, '=', (size_t)(e - p));
    const char *ke = eq ? eq : e;
    if (!hm_pct_decode(p, (size_t)(ke - p), key, kcap)) key[0] = 0;
    if (eq) {
        if (!hm_pct_decode(eq + 1, (size_t)(e - eq - 1), val, vcap)) val[0] = 0;
    } else if (vcap) {
        val[0] = 0;
    }
    *pp = e;
    return true;
}

bool hm_parse_hostport(const char *s, size_t n, char *host, size_t hcap, int *port) {
    const char *colon;
    const char *hs = s, *he;
    if (n && s[0] == '[') {
        const char *rb = memchr(s, ']', n);
        if (!rb || rb + 1 >= s + n || rb[1] != ':') return false;
        hs = s + 1;
        he = rb;
        colon = rb + 1;
    } else {
        colon = NULL;
        for (size_t i = n; i > 0; i--)
            if (s[i - 1] == ':') {
                colon = s + i - 1;
                break;
            }
        if (!colon) return false;
        he = colon;
    }
    size_t hl = (size_t)(he - hs);
    if (hl == 0 || hl >= hcap) return false;
    memcpy(host, hs, hl);
    host[hl] = 0;
    const char *ps = colon + 1, *pe = s + n;
    if (ps >= pe || pe - ps > 5) return false;
    int v = 0;
    for (const char *q = ps; q < pe; q++) {
        if (*q < '0' || *q > '9') return false;
        v = v * 10 + (*q - '0');
    }
    if (v < 1 || v > 65535) return false;
    *port = v;
    return true;
}

bool hm_parse_bool(const char *s, bool *out) {
    if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes") ||
        !strcasecmp(s, "on") || !strcmp(s, "")) {
        *out = true;
        return true;
    }
    if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no") ||
        !strcasecmp(s, "off")) {
        *out = false;
        return true;
    }
    return false;
}

static bool secret_key(const char *k, size_t n) {
    static const char *const names[] = {"secret", "password", "pass", "token", "key", "auth"};
    for (size_t i = 0; i < HM_ARRAY_LEN(names); i++)
        if (strlen(names[i]) == n && !strncasecmp(k, names[i], n)) return true;
    return false;
}

char *hm_uri_redact(const char *uri) {
    hm_buf b = {0};
    const char *p = uri;
    const char *ss = strstr(uri, "://");
    if (ss) {
        const char *auth = ss + 3;
        const char *stop = auth + strcspn(auth, "/?#");
        const char *at = NULL;
        for (const char *q = auth; q < stop; q++)
            if (*q == '@') at = q;
        if (at) {
            const char *colon = memchr(auth, ':', (size_t)(at - auth));
            hm_buf_put(&b, uri, (size_t)(auth - uri));
            if (colon) {
                hm_buf_put(&b, auth, (size_t)(colon - auth));
                hm_buf_puts(&b, ":***");
            } else {
                hm_buf_puts(&b, "***");
            }
            p = at;
        }
    }
    /* options: after '?' or '#', key=value pairs separated by '&' */
    const char *q = p + strcspn(p, "?#");
    hm_buf_put(&b, p, (size_t)(q - p));
    while (*q) {
        hm_buf_putc(&b, *q); /* '?', '#' or '&' */
        q++;
        size_t seg = strcspn(q, "&#");
        const char *eq = memchr(q, '=', seg);
        if (eq && secret_key(q, (size_t)(eq - q))) {
            hm_buf_put(&b, q, (size_t)(eq - q) + 1);
            hm_buf_puts(&b, "***");
        } else {
            hm_buf_put(&b, q, seg);
        }
        q += seg;
    }
    hm_buf_putc(&b, 0);
    return b.p;
}

char *hm_secret_resolve(const char *v, const char *what, char *err, size_t errlen) {
    if (!strncmp(v, "env:", 4)) {
        const char *e = getenv(v + 4);
        if (!e || !*e) {
            snprintf(err, errlen, "%s: environment variable %s is not set", what, v + 4);
            return NULL;
        }
        return hm_xstrdup(e);
    }
    if (!strncmp(v, "file:", 5)) {
        FILE *f = fopen(v + 5, "rb");
        if (!f) {
            snprintf(err, errlen, "%s: cannot read %s: %s", what, v + 5, strerror(errno));
            return NULL;
        }
        char buf[4096];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) n--;
        buf[n] = 0;
        if (!n) {
            snprintf(err, errlen, "%s: %s is empty", what, v + 5);
            return NULL;
        }
        return hm_xstrdup(buf);
    }
    return hm_xstrdup(v);
}
