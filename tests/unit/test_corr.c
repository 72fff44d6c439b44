/* Unit tests: Sigma correlation rules (docs/correlation.md, checklist section 9, S-COR).
 *
 * Rules are loaded with hm_ruleset_load from temporary files (a block of detection rules
 * plus the correlation under test); hits are built by hand (hm_corr_hit) and pushed into
 * hm_correlator_new/push/finish, so no decoding is involved. Alerts are checked field by
 * field from the JSON lines.
 *
 * Every scenario runs on the memory backend and, when redis-server is installed, again
 * on a private Redis (started on a free loopback port with a password, no persistence):
 * both backends must write the same alerts and dead letters (order aside). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "correlate.h"
#include "sigma.h"

/* ------------------------------------------------------------------------------------- */
/* temp files and loading                                                                 */

static char g_root[256];
static int g_seq;

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void tmp_file(char *out, size_t cap, const char *text) {
    char dir[400];
    snprintf(dir, sizeof dir, "%s/d%d", g_root, ++g_seq);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(out, cap, "%s/rules.yml", dir);
    write_file(out, text);
}

/* Detection rules the correlations refer to (their detections never run here). */
static const char BASE[] = "title: Failed login\n"
                           "id: 0a000000-0000-0000-0000-000000000001\n"
                           "name: failed_login\n"
                           "logsource: {product: sis}\n"
                           "detection: {sel: {event: login_failure}, condition: sel}\n"
                           "---\n"
                           "title: Successful login\n"
                           "id: 0a000000-0000-0000-0000-000000000002\n"
                           "name: success_login\n"
                           "logsource: {product: sis}\n"
                           "detection: {sel: {event: login_success}, condition: sel}\n"
                           "---\n"
                           "title: Recon whoami\n"
                           "id: 0a000000-0000-0000-0000-000000000003\n"
                           "name: recon_a\n"
                           "logsource: {product: windows}\n"
                           "detection: {sel: {CommandLine|contains: whoami}, condition: sel}\n"
                           "---\n"
                           "title: Recon net\n"
                           "id: 0a000000-0000-0000-0000-000000000004\n"
                           "name: recon_b\n"
                           "logsource: {product: windows}\n"
                           "detection: {sel: {CommandLine|contains: 'net user'}, condition: sel}\n"
                           "---\n"
                           "title: Recon ipconfig\n"
                           "id: 0a000000-0000-0000-0000-000000000005\n"
                           "name: recon_c\n"
                           "logsource: {product: windows}\n"
                           "detection: {sel: {CommandLine|contains: ipconfig}, condition: sel}\n"
                           "---\n"
                           "title: Internal error\n"
                           "id: 0a000000-0000-0000-0000-000000000006\n"
                           "name: internal_error\n"
                           "logsource: {product: web}\n"
                           "detection: {sel: {status: 500}, condition: sel}\n"
                           "---\n"
                           "title: New network connection\n"
                           "id: 0a000000-0000-0000-0000-000000000007\n"
                           "name: new_network_connection\n"
                           "logsource: {product: firewall}\n"
                           "detection: {sel: {action: allow}, condition: sel}\n"
                           "---\n"
                           "title: Data export\n"
                           "id: 0a000000-0000-0000-0000-000000000008\n"
                           "name: data_export\n"
                           "logsource: {product: sis}\n"
                           "detection: {sel: {event: export}, condition: sel}\n";

static void print_diags(const hm_diags *d) {
    for (size_t i = 0; i < d->n; i++)
        fprintf(stderr, "  %s:%d:%d: %s [%s]\n", d->v[i].file, d->v[i].line, d->v[i].col,
                d->v[i].msg, d->v[i].code);
}

/* BASE + the given documents, loaded from one file; asserts success. */
static hm_ruleset *load(const char *corr_yaml) {
    size_t n = strlen(BASE) + strlen(corr_yaml) + 8;
    char *text = malloc(n);
    snprintf(text, n, "%s---\n%s", BASE, corr_yaml);
    char path[512];
    tmp_file(path, sizeof path, text);
    free(text);
    hm_diags d = {0};
    const char *p = path;
    hm_ruleset *rs = hm_ruleset_load(&p, 1, NULL, &d);
    if (!rs || d.errors) print_diags(&d);
    assert_non_null(rs);
    assert_int_equal(d.errors, 0);
    hm_diags_free(&d);
    assert_non_null(hm_ruleset_correlations(rs));
    return rs;
}

/* Loads text that must fail; returns the first error (copied into out) and the file. */
typedef struct load_err {
    char code[64], file[512], msg[512];
    int line, col;
    size_t errors;
} load_err;

static void load_fail(const char *corr_yaml, load_err *e) {
    size_t n = strlen(BASE) + strlen(corr_yaml) + 8;
    char *text = malloc(n);
    snprintf(text, n, "%s---\n%s", BASE, corr_yaml);
    tmp_file(e->file, sizeof e->file, text);
    free(text);
    hm_diags d = {0};
    const char *p = e->file;
    hm_ruleset *rs = hm_ruleset_load(&p, 1, NULL, &d);
    if (rs) print_diags(&d);
    assert_null(rs);
    e->errors = d.errors;
    for (size_t i = 0; i < d.n; i++)
        if (d.v[i].sev == HM_DIAG_ERROR) {
            snprintf(e->code, sizeof e->code, "%s", d.v[i].code);
            snprintf(e->msg, sizeof e->msg, "%s", d.v[i].msg);
            assert_string_equal(d.v[i].file, e->file);
            e->line = d.v[i].line;
            e->col = d.v[i].col;
            break;
        }
    hm_diags_free(&d);
}

/* Line (1-based) of the first line of the file that contains needle. */
static int line_of(const char *file, const char *needle) {
    FILE *f = fopen(file, "r");
    assert_non_null(f);
    char buf[1024];
    int ln = 0;
    while (fgets(buf, sizeof buf, f)) {
        ln++;
        if (strstr(buf, needle)) {
            fclose(f);
            return ln;
        }
    }
    fclose(f);
    return -1;
}

/* Column (1-based) of needle in the first line containing it. */
static int col_of(const char *file, const char *needle) {
    FILE *f = fopen(file, "r");
    assert_non_null(f);
    char buf[1024];
    while (fgets(buf, sizeof buf, f)) {
        char *p = strstr(buf, needle);
        if (p) {
            fclose(f);
            return (int)(p - buf) + 1;
        }
    }
    fclose(f);
    return -1;
}

/* ------------------------------------------------------------------------------------- */
/* hits                                                                                   */

#define T0      1710147600000LL /* 2024-03-11T09:00:00Z in ms */
#define TS(sec) (T0 + (int64_t)(sec)*1000)

/* A hit in readable form: correlation and referenced rule by id or name; '|' in group and
 * value separates tuple parts (0x1f in the engine). value NULL = the event lacks the field. */
typedef struct th {
    const char *corr, *rule;
    int64_t ms;
    const char *id, *group, *value;
} th;

static int corr_index(const hm_ruleset *rs, const char *corr) {
    int r = hm_ruleset_find(rs, corr);
    assert_true(r >= 0);
    const hm_corr_set *set = hm_ruleset_correlations(rs);
    for (size_t i = 0; i < set->n; i++)
        if (set->v[i].rule == (uint32_t)r) return (int)i;
    fail_msg("%s is not a correlation", corr);
    return -1;
}

static char *bar_to_us(const char *s) {
    char *o = strdup(s ? s : "");
    for (char *p = o; *p; p++)
        if (*p == '|') *p = 0x1f;
    return o;
}

/* Builds engine hits; strings are malloc'ed (free_hits). */
static hm_corr_hit *make_hits(const hm_ruleset *rs, const th *t, size_t n) {
    const hm_corr_set *set = hm_ruleset_correlations(rs);
    hm_corr_hit *h = calloc(n + 1, sizeof(hm_corr_hit));
    for (size_t i = 0; i < n; i++) {
        int ci = corr_index(rs, t[i].corr);
        int rule = hm_ruleset_find(rs, t[i].rule);
        assert_true(rule >= 0);
        const hm_corr *c = &set->v[ci];
        int ref = -1;
        for (size_t r = 0; r < c->n_refs; r++)
            if (c->refs[r] == (uint32_t)rule) ref = (int)r;
        assert_true(ref >= 0);
        h[i].corr = (uint32_t)ci;
        h[i].ref = (uint32_t)ref;
        h[i].ts_ns = t[i].ms * 1000000;
        h[i].event_id = hm_str_c(strdup(t[i].id));
        char *g = bar_to_us(t[i].group);
        h[i].group = hm_str_c(g);
        h[i].has_value = t[i].value != NULL;
        char *v = bar_to_us(t[i].value);
        h[i].value = hm_str_c(v);
    }
    return h;
}

static void free_hits(hm_corr_hit *h, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free((char *)h[i].event_id.p);
        free((char *)h[i].group.p);
        free((char *)h[i].value.p);
    }
    free(h);
}

/* ------------------------------------------------------------------------------------- */
/* running                                                                                */

static char g_redis_url[128]; /* empty: no Redis parity runs */
static pid_t g_redis_pid;

typedef struct res {
    hm_buf out, dead;
    uint64_t alerts;
    size_t per_push[64]; /* alerts written by each push (then finish) */
    size_t n_push;
    hm_corr_stats st;
} res;

static void res_free(res *r) {
    hm_buf_free(&r->out);
    hm_buf_free(&r->dead);
}

/* Pushes hits in chunks (chunks[i] hits each, the rest in a last push; NULL = one push),
 * committing after each, then finishes. */
/* Stable insertion sort by event time. */
static void sort_hits_by_time(hm_corr_hit *h, size_t n) {
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && h[j].ts_ns < h[j - 1].ts_ns; j--) {
            hm_corr_hit x = h[j];
            h[j] = h[j - 1];
            h[j - 1] = x;
        }
}

static void run_state(const hm_ruleset *rs, const char *state, int64_t lateness_ms, const th *t,
                      size_t n, const size_t *chunks, size_t n_chunks, res *r) {
    memset(r, 0, sizeof(*r));
    char ns[64], inst[64];
    snprintf(ns, sizeof ns, "t%d", ++g_seq);
    snprintf(inst, sizeof inst, "unit-%d", g_seq);
    hm_corr_opts o = {
        .state = state, .lateness_ns = lateness_ms * 1000000, .ns = ns, .instance = inst};
    char err[256] = "";
    hm_correlator *c = hm_correlator_new(rs, &o, err, sizeof err);
    if (!c) fail_msg("hm_correlator_new: %s", err);
    hm_corr_hit *h = make_hits(rs, t, n);
    /* One push of the whole input: in time order, as a log would be (tests list hits by
     * entity for readability; lateness follows input order, even within a push). */
    if (!chunks) sort_hits_by_time(h, n);
    size_t at = 0, k = 0;
    while (at < n || (k == 0 && n == 0)) {
        size_t m = chunks && k < n_chunks ? chunks[k] : n - at;
        if (m > n - at) m = n - at;
        uint64_t w = 0;
        size_t before = r->out.len;
        assert_int_equal(hm_correlator_push(c, h + at, m, &r->out, &r->dead, &w), HM_OK);
        assert_int_equal(hm_correlator_commit(c), HM_OK);
        size_t lines = 0;
        for (size_t i = before; i < r->out.len; i++) lines += r->out.p[i] == '\n';
        assert_int_equal(lines, w);
        if (r->n_push < 63) r->per_push[r->n_push++] = (size_t)w;
        r->alerts += w;
        at += m;
        k++;
        if (n == 0) break;
    }
    uint64_t w = 0;
    assert_int_equal(hm_correlator_finish(c, &r->out, &w), HM_OK);
    assert_int_equal(hm_correlator_commit(c), HM_OK);
    if (r->n_push < 63) r->per_push[r->n_push++] = (size_t)w;
    r->alerts += w;
    hm_correlator_stats(c, &r->st);
    hm_correlator_free(c);
    free_hits(h, n);
    hm_buf_putc(&r->out, 0);
    r->out.len--;
    hm_buf_putc(&r->dead, 0);
    r->dead.len--;
}

static int cmp_lines(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of text, sorted, joined by '\n' (malloc'ed). */
static char *sorted_lines(const char *text) {
    char *copy = strdup(text ? text : "");
    char **v = NULL;
    size_t n = 0;
    for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        v = realloc(v, (n + 1) * sizeof(char *));
        v[n++] = l;
    }
    if (n) qsort(v, n, sizeof(char *), cmp_lines);
    size_t len = 1;
    for (size_t i = 0; i < n; i++) len += strlen(v[i]) + 1;
    char *o = calloc(1, len);
    for (size_t i = 0; i < n; i++) {
        strcat(o, v[i]);
        strcat(o, "\n");
    }
    free(v);
    free(copy);
    return o;
}

/* The two outputs hold the same lines, in any order (both NUL-terminated after). */
static void assert_same_lines(hm_buf *a, hm_buf *b) {
    hm_buf_putc(a, 0);
    a->len--;
    hm_buf_putc(b, 0);
    b->len--;
    char *x = sorted_lines(a->p), *y = sorted_lines(b->p);
    assert_string_equal(x, y);
    free(x);
    free(y);
}

/* Memory backend, plus the same run on Redis (when available) with identical output. */
static void run_chunks(const hm_ruleset *rs, int64_t lateness_ms, const th *t, size_t n,
                       const size_t *chunks, size_t n_chunks, res *r) {
    run_state(rs, "memory", lateness_ms, t, n, chunks, n_chunks, r);
    if (!g_redis_url[0]) return;
    res rr;
    run_state(rs, g_redis_url, lateness_ms, t, n, chunks, n_chunks, &rr);
    char *a = sorted_lines(r->out.p), *b = sorted_lines(rr.out.p);
    if (strcmp(a, b)) fprintf(stderr, "memory:\n%s\nredis:\n%s\n", a, b);
    assert_string_equal(a, b);
    free(a);
    free(b);
    a = sorted_lines(r->dead.p);
    b = sorted_lines(rr.dead.p);
    assert_string_equal(a, b);
    free(a);
    free(b);
    assert_int_equal(r->st.late, rr.st.late);
    assert_int_equal(r->st.fired, rr.st.fired);
    res_free(&rr);
}

static void run(const hm_ruleset *rs, const th *t, size_t n, res *r) {
    run_chunks(rs, 60000, t, n, NULL, 0, r);
}

/* ------------------------------------------------------------------------------------- */
/* alert parsing                                                                          */

typedef struct alert {
    char alert_id[64], rule[64], level[16], type[32], time[40];
    char ids[4096];      /* event ids joined by ',' */
    char group[512];     /* the group object as written, e.g. {"user":"alice"} */
    char distinct[1024]; /* distinct_values array as written, "" when absent */
    char wstart[40], wend[40];
    char ev_rules[2048]; /* evidence events' rule ids joined by ',' */
    double value;
    int event_count;
} alert;

/* Copies the JSON string value following key (first occurrence at or after from). */
static const char *json_str(const char *from, const char *key, char *out, size_t cap) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = strstr(from, pat);
    out[0] = 0;
    if (!p) return from;
    p += strlen(pat);
    size_t k = 0;
    while (*p && *p != '"' && k + 1 < cap) {
        if (*p == '\\' && p[1]) out[k++] = *p++;
        out[k++] = *p++;
    }
    out[k] = 0;
    return p;
}

/* Copies the balanced [...] or {...} after key. */
static void json_raw(const char *from, const char *key, char *out, size_t cap) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(from, pat);
    out[0] = 0;
    if (!p) return;
    p += strlen(pat);
    char open = *p, close = open == '[' ? ']' : '}';
    int depth = 0;
    size_t k = 0;
    bool in_str = false;
    for (; *p && k + 1 < cap; p++) {
        out[k++] = *p;
        if (in_str) {
            if (*p == '\\' && p[1])
                out[k++] = *++p;
            else if (*p == '"')
                in_str = false;
            continue;
        }
        if (*p == '"')
            in_str = true;
        else if (*p == open)
            depth++;
        else if (*p == close && --depth == 0)
            break;
    }
    out[k] = 0;
}

static size_t parse_alerts(const char *text, alert *out, size_t max) {
    size_t n = 0;
    const char *line = text;
    while (line && *line && n < max) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char *l = strndup(line, len);
        alert *a = &out[n++];
        memset(a, 0, sizeof(*a));
        assert_non_null(strstr(l, "\"kind\":\"alert\""));
        json_str(l, "alert_id", a->alert_id, sizeof a->alert_id);
        const char *r = strstr(l, "\"rule\":{");
        assert_non_null(r);
        json_str(r, "id", a->rule, sizeof a->rule);
        json_str(r, "level", a->level, sizeof a->level);
        json_str(r, "correlation", a->type, sizeof a->type);
        json_str(l, "time", a->time, sizeof a->time);
        char ids[4096];
        json_raw(l, "event_ids", ids, sizeof ids);
        size_t k = 0;
        for (const char *p = ids; *p && k + 1 < sizeof a->ids; p++)
            if (*p != '"' && *p != '[' && *p != ']') a->ids[k++] = *p;
        a->ids[k] = 0;
        json_raw(l, "group", a->group, sizeof a->group);
        json_raw(l, "distinct_values", a->distinct, sizeof a->distinct);
        const char *ev = strstr(l, "\"evidence\":");
        assert_non_null(ev);
        const char *v = strstr(ev, "\"value\":");
        assert_non_null(v);
        a->value = strtod(v + 8, NULL);
        const char *ec = strstr(ev, "\"event_count\":");
        a->event_count = ec ? atoi(ec + 14) : -1;
        json_str(ev, "window_start", a->wstart, sizeof a->wstart);
        json_str(ev, "window_end", a->wend, sizeof a->wend);
        const char *evs = strstr(ev, "\"events\":[");
        k = 0;
        while (evs && (evs = strstr(evs, "\"rule\":\""))) {
            char rid[80];
            evs = json_str(evs, "rule", rid, sizeof rid);
            size_t rl = strlen(rid);
            if (k + rl + 2 < sizeof a->ev_rules) {
                if (k) a->ev_rules[k++] = ',';
                memcpy(a->ev_rules + k, rid, rl);
                k += rl;
            }
        }
        a->ev_rules[k] = 0;
        free(l);
        line = nl ? nl + 1 : NULL;
    }
    return n;
}

/* ids "p0".."p(n-1)" joined by ',' (the usual naming of hits below). */
static const char *id_range(const char *prefix, int from, int to) {
    static char buf[4096];
    size_t k = 0;
    for (int i = from; i <= to; i++)
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%s%d", i > from ? "," : "", prefix, i);
    return buf;
}

/* Storage for generated hit lists. */
static th g_hits[4096];
static char g_idbuf[4096][24];

static th *gen(size_t at, const char *corr, const char *rule, const char *prefix, int i, int64_t ms,
               const char *group, const char *value) {
    snprintf(g_idbuf[at], sizeof g_idbuf[at], "%s%d", prefix, i);
    g_hits[at] = (th){corr, rule, ms, g_idbuf[at], group, value};
    return &g_hits[at];
}

/* ------------------------------------------------------------------------------------- */
/* S-COR-14 event_count                                                                   */

static const char EC_SPEC[] = "title: Many failed logins\n"
                              "id: c0000000-0000-0000-0000-000000000001\n"
                              "name: many_failed_logins\n"
                              "level: high\n"
                              "correlation:\n"
                              "  type: event_count\n"
                              "  rules: [failed_login]\n"
                              "  group-by: [user]\n"
                              "  timespan: 1h\n"
                              "  condition: {gte: 10}\n";

static void test_cor14_event_count_spec(void **state) {
    (void)state;
    hm_ruleset *rs = load(EC_SPEC);
    size_t n = 0;
    for (int i = 0; i < 10; i++)
        gen(n++, "many_failed_logins", "failed_login", "a", i, TS(i * 60), "alice", NULL);
    for (int i = 0; i < 9; i++)
        gen(n++, "many_failed_logins", "failed_login", "b", i, TS(i * 60 + 1), "bob", NULL);
    res r;
    run(rs, g_hits, n, &r);
    alert a[8];
    assert_int_equal(parse_alerts(r.out.p, a, 8), 1);
    assert_string_equal(a[0].rule, "c0000000-0000-0000-0000-000000000001");
    assert_string_equal(a[0].level, "high");
    assert_string_equal(a[0].type, "event_count");
    assert_string_equal(a[0].time, "2024-03-11T09:09:00Z");
    assert_string_equal(a[0].ids, id_range("a", 0, 9));
    assert_string_equal(a[0].group, "{\"user\":\"alice\"}");
    assert_true(a[0].value == 10);
    assert_int_equal(a[0].event_count, 10);
    assert_string_equal(a[0].wstart, "2024-03-11T09:00:00Z");
    assert_string_equal(a[0].wend, "2024-03-11T09:09:00Z");
    assert_int_equal(strncmp(a[0].alert_id, "corr-", 5), 0);
    assert_int_equal(r.st.fired, 1);
    assert_int_equal(r.st.late, 0);
    /* the alert id is stable: same input in other push sizes gives the same line */
    res r2;
    size_t chunks[] = {3, 3, 3, 3, 3, 3};
    run_chunks(rs, 60000, g_hits, n, chunks, 6, &r2);
    assert_string_equal(r.out.p, r2.out.p);
    res_free(&r);
    res_free(&r2);
    hm_ruleset_free(rs);
}

/* No group-by: one global group. */
static void test_cor07_no_group_by_is_one_group(void **state) {
    (void)state;
    hm_ruleset *rs = load("title: Any failures\n"
                          "id: c0000000-0000-0000-0000-000000000002\n"
                          "correlation: {type: event_count, rules: failed_login, timespan: 5m, "
                          "condition: {gte: 3}}\n");
    size_t n = 0;
    gen(n++, "c0000000-0000-0000-0000-000000000002", "failed_login", "x", 0, TS(0), "", NULL);
    gen(n++, "c0000000-0000-0000-0000-000000000002", "failed_login", "x", 1, TS(1), "", NULL);
    gen(n++, "c0000000-0000-0000-0000-000000000002", "failed_login", "x", 2, TS(2), "", NULL);
    res r;
    run(rs, g_hits, n, &r);
    alert a[4];
    assert_int_equal(parse_alerts(r.out.p, a, 4), 1);
    assert_string_equal(a[0].group, "{}");
    assert_string_equal(a[0].ids, "x0,x1,x2");
    res_free(&r);
    hm_ruleset_free(rs);
}

/* ------------------------------------------------------------------------------------- */
/* S-COR-15 value_count                                                                   */

static void test_cor15_value_count_one_field(void **state) {
    (void)state;
    /* spec: failed logons with more than 3 different user accounts from one source */
    hm_ruleset *rs = load("title: Password spray\n"
                          "id: c0000000-0000-0000-0000-000000000010\n"
                          "name: spray\n"
                          "correlation:\n"
                          "  type: value_count\n"
                          "  rules: [failed_login]\n"
                          "  group-by: [src_ip]\n"
                          "  timespan: 1h\n"
                          "  condition: {gt: 3, field: user}\n");
    const th t[] = {
        {"spray", "failed_login", TS(0), "s0", "10.0.0.1", "u1"},
        {"spray", "failed_login", TS(10), "s1", "10.0.0.1", "u2"},
        {"spray", "failed_login", TS(20), "s2", "10.0.0.1", "u1"},
        {"spray", "failed_login", TS(25), "s3", "10.0.0.1", NULL}, /* no user: no value */
        {"spray", "failed_login", TS(30), "s4", "10.0.0.1", "u3"},
        {"spray", "failed_login", TS(40), "s5", "10.0.0.1", "u4"},
        {"spray", "failed_login", TS(50), "s6", "10.0.0.2", "u1"},
        {"spray", "failed_login", TS(51), "s7", "10.0.0.2", "u2"},
        {"spray", "failed_login", TS(52), "s8", "10.0.0.2", "u3"},
        {"spray", "failed_login", TS(53), "s9", "10.0.0.2", "u3"},
    };
    res r;
    run(rs, t, sizeof t / sizeof t[0], &r);
    alert a[4];
    assert_int_equal(parse_alerts(r.out.p, a, 4), 1);
    assert_string_equal(a[0].group, "{\"src_ip\":\"10.0.0.1\"}");
    assert_true(a[0].value == 4);
    assert_string_equal(a[0].time, "2024-03-11T09:00:40Z");
    assert_string_equal(a[0].ids, "s0,s1,s2,s3,s4,s5");
    assert_string_equal(a[0].distinct, "[\"u1\",\"u2\",\"u3\",\"u4\"]");
    assert_string_equal(a[0].type, "value_count");
    res_free(&r);
    hm_ruleset_free(rs);
}

static void test_cor15_value_count_field_list_counts_tuples(void **state) {
    (void)state;
    hm_ruleset *rs = load("title: One user on many hosts\n"
                          "id: c0000000-0000-0000-0000-000000000011\n"
                          "name: tuples\n"
                          "correlation:\n"
                          "  type: value_count\n"
                          "  rules: [failed_login]\n"
                          "  group-by: src_ip\n"
                          "  timespan: 10m\n"
                          "  condition: {gte: 3, field: [user, dst_ip]}\n");
    const th t[] = {
        {"tuples", "failed_login", TS(0), "t0", "10.9.9.9", "u1|h1"},
        {"tuples", "failed_login", TS(1), "t1", "10.9.9.9", "u1|h2"},
        {"tuples", "failed_login", TS(2), "t2", "10.9.9.9", "u1|h1"}, /* same tuple */
        {"tuples", "failed_login", TS(3), "t3", "10.9.9.9", "u2|h1"},
    };
    res r;
    run(rs, t, 4, &r);
    alert a[4];
    assert_int_equal(parse_alerts(r.out.p, a, 4), 1);
    assert_true(a[0].value == 3);
    assert_string_equal(a[0].ids, "t0,t1,t2,t3");
    assert_string_equal(a[0].distinct, "[\"u1\\u001fh1\",\"u1\\u001fh2\",\"u2\\u001fh1\"]");
    res_free(&r);
    hm_ruleset_free(rs);
}

/* ------------------------------------------------------------------------------------- */
/* S-COR-16 temporal                                                                      */

static const char TEMPORAL[] = "title: Reconnaissance\n"
                               "id: c0000000-0000-0000-0000-000000000020\n"
                               "name: recon\n"
                               "correlation:\n"
                               "  type: temporal\n"
                               "  rules: [recon_a, recon_b, recon_c]\n"
                               "  group-by: [host, user]\n"
                               "  timespan: 5m\n"
                               "---\n"
                               "title: Two of three recon commands\n"
                               "id: c0000000-0000-0000-0000-000000000021\n"
                               "name: recon2\n"
                               "correlation:\n"
                               "  type: temporal\n"
                               "  rules: [recon_a, recon_b, recon_c]\n"
                               "  group-by: [host]\n"
                               "  timespan: 5m\n"
                               "  condition: {gte: 2}\n";

static void test_cor16_temporal_any_order(void **state) {
    (void)state;
    hm_ruleset *rs = load(TEMPORAL);
    const th t[] = {
        /* all three, any order, within 5 minutes: fires at the last */
        {"recon", "recon_b", TS(0), "g1-1", "pc1|ann", NULL},
        {"recon", "recon_c", TS(60), "g1-2", "pc1|ann", NULL},
        {"recon", "recon_b", TS(90), "g1-3", "pc1|ann", NULL},
        {"recon", "recon_a", TS(120), "g1-4", "pc1|ann", NULL},
        /* only two of the three */
        {"recon", "recon_a", TS(0), "g2-1", "pc2|ann", NULL},
        {"recon", "recon_b", TS(10), "g2-2", "pc2|ann", NULL},
        {"recon", "recon_a", TS(20), "g2-3", "pc2|ann", NULL},
        /* all three but spread over more than 5 minutes */
        {"recon", "recon_a", TS(0), "g3-1", "pc3|ann", NULL},
        {"recon", "recon_b", TS(200), "g3-2", "pc3|ann", NULL},
        {"recon", "recon_c", TS(300), "g3-3", "pc3|ann", NULL},
        /* two of three is enough for recon2 */
        {"recon2", "recon_c", TS(0), "h1", "pc9", NULL},
        {"recon2", "recon_c", TS(5), "h2", "pc9", NULL},
        {"recon2", "recon_a", TS(9), "h3", "pc9", NULL},
    };
    res r;
    run(rs, t, sizeof t / sizeof t[0], &r);
    alert a[8];
    size_t n = parse_alerts(r.out.p, a, 8);
    assert_int_equal(n, 2);
    alert *x = strcmp(a[0].rule, "c0000000-0000-0000-0000-000000000020") ? &a[1] : &a[0];
    alert *y = x == &a[0] ? &a[1] : &a[0];
    assert_string_equal(x->group, "{\"host\":\"pc1\",\"user\":\"ann\"}");
    assert_string_equal(x->time, "2024-03-11T09:02:00Z");
    assert_string_equal(x->ids, "g1-1,g1-2,g1-3,g1-4");
    assert_true(x->value == 3);
    assert_string_equal(
        x->ev_rules, "0a000000-0000-0000-0000-000000000004,0a000000-0000-0000-0000-000000000005,"
                     "0a000000-0000-0000-0000-000000000004,0a000000-0000-0000-0000-000000000003");
    assert_string_equal(y->rule, "c0000000-0000-0000-0000-000000000021");
    assert_string_equal(y->ids, "h1,h2,h3");
    assert_true(y->value == 2);
    res_free(&r);
    hm_ruleset_free(rs);
}

/* ------------------------------------------------------------------------------------- */
/* S-COR-17 temporal_ordered                                                              */

static void test_cor17_temporal_ordered(void **state) {
    (void)state;
    hm_ruleset *rs = load("title: Recon in order\n"
                          "id: c0000000-0000-0000-0000-000000000030\n"
                          "name: ordered\n"
                          "correlation:\n"
                          "  type: temporal_ordered\n"
                          "  rules: [recon_a, recon_b, recon_c]\n"
                          "  group-by: [host]\n"
                          "  timespan: 5m\n");
    const th t[] = {
        /* in order */
        {"ordered", "recon_a", TS(0), "o1", "in-order", NULL},
        {"ordered", "recon_b", TS(10), "o2", "in-order", NULL},
        {"ordered", "recon_c", TS(20), "o3", "in-order", NULL},
        /* wrong order */
        {"ordered", "recon_c", TS(0), "w1", "wrong", NULL},
        {"ordered", "recon_b", TS(10), "w2", "wrong", NULL},
        {"ordered", "recon_a", TS(20), "w3", "wrong", NULL},
        /* a subsequence in order among other hits */
        {"ordered", "recon_a", TS(0), "s1", "subseq", NULL},
        {"ordered", "recon_c", TS(5), "s2", "subseq", NULL},
        {"ordered", "recon_b", TS(10), "s3", "subseq", NULL},
        {"ordered", "recon_c", TS(15), "s4", "subseq", NULL},
        /* equal timestamps: (time, id) order decides - ids in list order */
        {"ordered", "recon_a", TS(30), "e1", "equal-ok", NULL},
        {"ordered", "recon_b", TS(30), "e2", "equal-ok", NULL},
        {"ordered", "recon_c", TS(30), "e3", "equal-ok", NULL},
        /* equal timestamps, ids against the list order: no alert */
        {"ordered", "recon_a", TS(30), "f3", "equal-bad", NULL},
        {"ordered", "recon_b", TS(30), "f2", "equal-bad", NULL},
        {"ordered", "recon_c", TS(30), "f1", "equal-bad", NULL},
        /* one event matching recon_a and recon_b (same id), then recon_c */
        {"ordered", "recon_b", TS(40), "z1", "same-event", NULL},
        {"ordered", "recon_a", TS(40), "z1", "same-event", NULL},
        {"ordered", "recon_c", TS(41), "z2", "same-event", NULL},
        /* in order but wider than the window */
        {"ordered", "recon_a", TS(0), "x1", "too-slow", NULL},
        {"ordered", "recon_b", TS(200), "x2", "too-slow", NULL},
        {"ordered", "recon_c", TS(300), "x3", "too-slow", NULL},
    };
    res r;
    run(rs, t, sizeof t / sizeof t[0], &r);
    alert a[8];
    size_t n = parse_alerts(r.out.p, a, 8);
    char *s = sorted_lines(r.out.p);
    assert_int_equal(n, 4);
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(a[i].group, "{\"host\":\"in-order\"}")) {
            assert_string_equal(a[i].ids, "o1,o2,o3");
            assert_string_equal(a[i].time, "2024-03-11T09:00:20Z");
            seen |= 1;
        } else if (!strcmp(a[i].group, "{\"host\":\"subseq\"}")) {
            assert_string_equal(a[i].ids, "s1,s2,s3,s4");
            assert_string_equal(a[i].time, "2024-03-11T09:00:15Z");
            seen |= 2;
        } else if (!strcmp(a[i].group, "{\"host\":\"equal-ok\"}")) {
            assert_string_equal(a[i].ids, "e1,e2,e3");
            seen |= 4;
        } else if (!strcmp(a[i].group, "{\"host\":\"same-event\"}")) {
            /* members are (event, rule): z1 appears once per rule */
            assert_string_equal(a[i].ids, "z1,z1,z2");
            assert_string_equal(a[i].ev_rules,
                                "0a000000-0000-0000-0000-000000000003,0a000000-0000-0000-"
                                "0000-000000000004,0a000000-0000-0000-0000-000000000005");
            seen |= 8;
        } else {
            fail_msg("unexpected alert %s", a[i].group);
        }
    }
    assert_int_equal(seen, 15);
    free(s);
    res_free(&r);
    hm_ruleset_free(rs);
}

/* ------------------------------------------------------------------------------------- */
/* S-COR-18/19/20 value_sum, value_avg, value_percentile                                  */

static void test_cor18_value_sum(void **state) {
    (void)state;
    hm_ruleset *rs = load("title: Large export volume\n"
                          "id: c0000000-0000-0000-0000-000000000040\n"
                          "name: export_sum\n"
                          "correlation:\n"
                          "  type: value_sum\n"
                          "  rules: [data_export]\n"
                          "  group-by: [user]\n"
                          "  timespan: 1h\n"
                          "  condition: {gt: 1000000, field: row_count}\n");
    const th t[] = {
        {"export_sum", "data_export", TS(0), "v0", "kim", "400000"},
        {"export_sum", "data_export", TS(1), "v1", "kim", "n/a"}, /* not a number: skipped */
        {"export_sum", "data_export", TS(2), "v2", "kim", "400000"},
        {"export_sum", "data_export", TS(3), "v3", "kim", NULL},
        {"export_sum", "data_export", TS(4), "v4", "kim", "300000.5"},
        {"export_sum", "data_export", TS(0), "w0", "lee", "999999"},
        {"export_sum", "data_export", TS(9), "w1", "lee", "1"},
    };
    res r;
    run(rs, t, 7, &r);
    alert a[4];
    assert_int_equal(parse_alerts(r.out.p, a, 4), 1);
    assert_string_equal(a[0].group, "{\"user\":\"kim\"}");
    assert_true(a[0].value == 1100000.5);
    assert_string_equal(a[0].ids, "v0,v1,v2,v3,v4");
    assert_string_equal(a[0].type, "value_sum");
    res_free(&r);
    hm_ruleset_free(rs);
}

static void test_cor19_value_avg(void **state) {
    (void)state;
    hm_ruleset *rs = load("title: Large average export\n"
                          "id: c0000000-0000-0000-0000-000000000041\n"
                          "name: export_avg\n"
                          "correlation:\n"
                          "  type: value_avg\n"
                          "  rules: [data_export]\n"
                          "  group-by: [user]\n"
                          "  timespan: 1h\n"
                          "  condition: {gt: 100, field: row_count}\n");
    const th t[] = {
        {"export_avg", "data_export", TS(0), "v0", "kim", "50"},
        {"export_avg", "data_export", TS(1), "v1", "kim", "150"}, /* avg 100: not > 100 */
        {"export_avg", "data_export", TS(2), "v2", "kim", "200"}, /* avg 133.3 */
        {"export_avg", "data_export", TS(0), "w0", "lee", "x"},   /* no numbers: no value */
        {"export_avg", "data_export", TS(1), "w1", "lee", NULL},
    };
    res r;
    run(rs, t, 5, &r);
    alert a[4];
    assert_int_equal(parse_alerts(r.out.p, a, 4), 1);
    assert_string_equal(a[0].group, "{\"user\":\"kim\"}");
    assert_true(fabs(a[0].value - 133.3333333) < 1e-6);
    assert_string_equal(a[0].time, "2024-03-11T09:00:02Z");
    res_free(&r);
    hm_ruleset_free(rs);
}

static void test_cor20_value_percentile(void **state) {
    (void)state;
    hm_ruleset *rs = load("title: p90 export size\n"
                          "id: c0000000-0000-0000-0000-000000000042\n"
                          "name: export_p90\n"
                          "correlation:\n"
                          "  type: value_percentile\n"
                          "  rules: [data_export]\n"
                          "  group-by: [user]\n"
                          "  timespan: 1h\n"
                          "  condition: {gt: 500, field: row_count, percentile: 90}\n"
                          "---\n"
                          "title: median export size\n"
                          "id: c0000000-0000-0000-0000-000000000043\n"
                          "name: export_median\n"
                          "correlation:\n"
                          "  type: value_percentile\n"
                          "  rules: [data_export]\n"
                          "  group-by: [user]\n"
                          "  timespan: 1h\n"
                          "  condition: {gte: 300, field: row_count}\n");
    const th t[] = {
        /* p90 of [100,200,300,400] = 370; of [100,200,300,400,1000] = 400 + 0.6*600 = 760 */
        {"export_p90", "data_export", TS(0), "p0", "kim", "300"},
        {"export_p90", "data_export", TS(1), "p1", "kim", "100"},
        {"export_p90", "data_export", TS(2), "p2", "kim", "400"},
        {"export_p90", "data_export", TS(3), "p3", "kim", "200"},
        {"export_p90", "data_export", TS(4), "p4", "kim", "1000"},
        /* median (default percentile 50): [100,300] = 200, [100,300,500] = 300 */
        {"export_median", "data_export", TS(0), "m0", "lee", "100"},
        {"export_median", "data_export", TS(1), "m1", "lee", "300"},
        {"export_median", "data_export", TS(2), "m2", "lee", "500"},
    };
    res r;
    run(rs, t, 8, &r);
    alert a[4];
    assert_int_equal(parse_alerts(r.out.p, a, 4), 2);
    for (int i = 0; i < 2; i++) {
        if (!strcmp(a[i].rule, "c0000000-0000-0000-0000-000000000042")) {
            assert_true(fabs(a[i].value - 760) < 1e-9);
            assert_string_equal(a[i].time, "2024-03-11T09:00:04Z");
        } else {
            assert_true(a[i].value == 300);
            assert_string_equal(a[i].time, "2024-03-11T09:00:02Z");
        }
    }
    res_free(&r);
    hm_ruleset_free(rs);
}

/* ------------------------------------------------------------------------------------- */
/* S-COR-11 conditions: ranges, eq, neq, lt at window close                              */

static void test_cor11_range_gt_lte(void **state) {
    (void)state;
    hm_ruleset *rs = load("title: Medium export volume\n"
                          "id: c0000000-0000-0000-0000-000000000050\n"
                          "name: range\n"
                          "correlation:\n"
                          "  type: value_sum\n"
                          "  rules: [data_export]\n"
                          "  group-by: [user]\n"
                          "  timespan: 1h\n"
                          "  condition: {gt: 100, lte: 200, field: row_count}\n");
    const th t[] = {
        {"range", "data_export", TS(0), "a0", "jumps-over", "50"},  /* 50 */
        {"range", "data_export", TS(1), "a1", "jumps-over", "300"}, /* 350: above the range */
        {"range", "data_export", TS(0), "b0", "inside", "80"},
        {"range", "data_export", TS(1), "b1", "inside", "70"}, /* 150 */
        {"range", "data_export", TS(0), "c0", "edge", "60"},
        {"range", "data_export", TS(1), "c1", "edge", "140"}, /* 200: lte includes it */
    };
    res r;
    run(rs, t, 6, &r);
    alert a[4];
    assert_int_equal(parse_alerts(r.out.p, a, 4), 2);
    char *s = sorted_lines(r.out.p);
    assert_non_null(strstr(s, "\"group\":{\"user\":\"inside\"}"));
    assert_non_null(strstr(s, "\"group\":{\"user\":\"edge\"}"));
    assert_null(strstr(s, "jumps-over"));
    free(s);
    res_free(&r);
    hm_ruleset_free(rs);
}

static void test_cor11_eq_and_neq(void **state) {
    (void)state;
    hm_ruleset *rs =
        load("title: Exactly three failures\n"
             "id: c0000000-0000-0000-0000-000000000051\n"
             "name: eq3\n"
             "correlation: {type: event_count, rules: [failed_login], group-by: [user],\n"
             "              timespan: 10m, condition: {eq: 3}}\n"
             "---\n"
             "title: More than one user\n"
             "id: c0000000-0000-0000-0000-000000000052\n"
             "name: neq1\n"
             "correlation: {type: value_count, rules: [failed_login], group-by: [src_ip],\n"
             "              timespan: 10m, condition: {neq: 1, field: user}}\n");
    const th t[] = {
        {"eq3", "failed_login", TS(0), "e0", "ann", NULL},
        {"eq3", "failed_login", TS(1), "e1", "ann", NULL},
        {"eq3", "failed_login", TS(2), "e2", "ann", NULL},
        {"eq3", "failed_login", TS(0), "f0", "bob", NULL},
        {"eq3", "failed_login", TS(1), "f1", "bob", NULL},
        {"neq1", "failed_login", TS(0), "n0", "1.1.1.1", "u1"},
        {"neq1", "failed_login", TS(1), "n1", "1.1.1.1", "u1"},
        {"neq1", "failed_login", TS(2), "n2", "1.1.1.1", "u2"},
        {"neq1", "failed_login", TS(0), "k0", "2.2.2.2", "u1"},
        {"neq1", "failed_login", TS(1), "k1", "2.2.2.2", "u1"},
    };
    res r;
    run(rs, t, sizeof t / sizeof t[0], &r);
    alert a[4];
    assert_int_equal(parse_alerts(r.out.p, a, 4), 2);
    for (int i = 0; i < 2; i++) {
        if (!strcmp(a[i].rule, "c0000000-0000-0000-0000-000000000051")) {
            assert_string_equal(a[i].ids, "e0,e1,e2");
            assert_true(a[i].value == 3);
        } else {
            assert_string_equal(a[i].ids, "n0,n1,n2");
            assert_true(a[i].value == 2);
        }
    }
    res_free(&r);
    hm_ruleset_free(rs);
}

/* lt/lte only: windows [first member, +span) decided when the watermark passes their end. */
static void test_cor11_lt_evaluated_at_window_close(void **state) {
    (void)state;
    hm_ruleset *rs =
        load("title: Too few heartbeats\n"
             "id: c0000000-0000-0000-0000-000000000053\n"
             "name: few\n"
             "correlation: {type: event_count, rules: [success_login], group-by: [host],\n"
             "              timespan: 10m, condition: {lt: 3}}\n");
    const th t[] = {
        /* push 1, in time order */
        {"few", "success_login", TS(0), "a0", "quiet", NULL},
        {"few", "success_login", TS(0), "b0", "busy", NULL},
        {"few", "success_login", TS(10), "b1", "busy", NULL},
        {"few", "success_login", TS(20), "b2", "busy", NULL},
        {"few", "success_login", TS(60), "a1", "quiet", NULL},
        /* push 2: watermark 09:09:59 (lateness 60 s): nothing closed yet */
        {"few", "success_login", TS(659), "c0", "late-group", NULL},
        /* push 3: watermark 09:10:00 closes [09:00, 09:10) of quiet and busy */
        {"few", "success_login", TS(660), "c1", "late-group", NULL},
    };
    size_t chunks[] = {5, 1, 1};
    res r;
    run_chunks(rs, 60000, t, 7, chunks, 3, &r);
    assert_int_equal(r.n_push, 4);
    assert_int_equal(r.per_push[0], 0);
    assert_int_equal(r.per_push[1], 0);
    assert_int_equal(r.per_push[2], 1);
    assert_int_equal(r.per_push[3], 1); /* finish closes late-group's window */
    alert a[4];
    assert_int_equal(parse_alerts(r.out.p, a, 4), 2);
    assert_string_equal(a[0].group, "{\"host\":\"quiet\"}");
    assert_string_equal(a[0].time, "2024-03-11T09:10:00Z");
    assert_string_equal(a[0].ids, "a0,a1");
    assert_true(a[0].value == 2);
    assert_string_equal(a[0].wstart, "2024-03-11T09:00:00Z");
    assert_string_equal(a[1].group, "{\"host\":\"late-group\"}");
    assert_string_equal(a[1].time, "2024-03-11T09:20:59Z");
    assert_string_equal(a[1].ids, "c0,c1");
    res_free(&r);
    hm_ruleset_free(rs);
}

/* lte on value_count (pySigma's example uses lt: 10): next window starts after the last. */
static void test_cor15_value_count_lte_consecutive_windows(void **state) {
    (void)state;
    hm_ruleset *rs =
        load("title: Few distinct users\n"
             "id: c0000000-0000-0000-0000-000000000054\n"
             "name: fewusers\n"
             "correlation: {type: value_count, rules: [success_login], group-by: [host],\n"
             "              timespan: 5m, condition: {lte: 1, field: user}}\n");
    const th t[] = {
        {"fewusers", "success_login", TS(0), "a0", "h", "u1"},
        {"fewusers", "success_login", TS(100), "a1", "h", "u1"}, /* window 1 [0,300): 1 user */
        {"fewusers", "success_login", TS(300), "a2", "h", "u1"}, /* window 2 [300,600): 2 users */
        {"fewusers", "success_login", TS(400), "a3", "h", "u2"},
        {"fewusers", "success_login", TS(700), "a4", "h", "u3"}, /* window 3 [700,1000): 1 user */
    };
    res r;
    run(rs, t, 5, &r);
    alert a[4];
    assert_int_equal(parse_alerts(r.out.p, a, 4), 2);
    assert_string_equal(a[0].ids, "a0,a1");
    assert_string_equal(a[0].time, "2024-03-11T09:05:00Z");
    assert_string_equal(a[1].ids, "a4");
    assert_string_equal(a[1].time, "2024-03-11T09:16:40Z");
    res_free(&r);
    hm_ruleset_free(rs);
}

/* ------------------------------------------------------------------------------------- */
/* S-COR-10 sliding windows, reset after firing                                           */

static void test_cor10_burst_across_clock_boundary_fires(void **state) {
    (void)state;
    hm_ruleset *rs =
        load("title: Burst\n"
             "id: c0000000-0000-0000-0000-000000000060\n"
             "name: burst\n"
             "correlation: {type: event_count, rules: [failed_login], group-by: [user],\n"
             "              timespan: 10m, condition: {gte: 10}}\n");
    size_t n = 0;
    /* 09:09:30 .. 09:10:15 every 5 s: a fixed 10-minute bucket would see 6 + 4 */
    for (int i = 0; i < 10; i++)
        gen(n++, "burst", "failed_login", "b", i, TS(570 + 5 * i), "straddle", NULL);
    /* window (t - 10m, t]: an event exactly 10 minutes before t is outside */
    for (int i = 0; i < 9; i++)
        gen(n++, "burst", "failed_login", "x", i, TS(1200 + 60 * i), "edge-out", NULL);
    gen(n++, "burst", "failed_login", "x", 9, TS(1800), "edge-out", NULL);
    for (int i = 0; i < 9; i++)
        gen(n++, "burst", "failed_login", "y", i, TS(1200 + 60 * i), "edge-in", NULL);
    g_hits[n] = (th){"burst", "failed_login", TS(1800) - 1, "y9", "edge-in", NULL};
    n++;
    res r;
    run(rs, g_hits, n, &r);
    alert a[4];
    assert_int_equal(parse_alerts(r.out.p, a, 4), 2);
    char *s = sorted_lines(r.out.p);
    assert_non_null(strstr(s, "\"group\":{\"user\":\"straddle\"}"));
    assert_non_null(strstr(s, "\"group\":{\"user\":\"edge-in\"}"));
    assert_null(strstr(s, "edge-out"));
    free(s);
    for (int i = 0; i < 2; i++)
        if (strstr(a[i].group, "straddle")) {
            assert_string_equal(a[i].time, "2024-03-11T09:10:15Z");
            assert_string_equal(a[i].ids, id_range("b", 0, 9));
        } else {
            assert_string_equal(a[i].time, "2024-03-11T09:29:59.999Z");
        }
    res_free(&r);
    hm_ruleset_free(rs);
}

static void test_cor26_reset_after_fire(void **state) {
    (void)state;
    hm_ruleset *rs =
        load("title: Twenty failures\n"
             "id: c0000000-0000-0000-0000-000000000061\n"
             "name: twenty\n"
             "correlation: {type: event_count, rules: [failed_login], group-by: [user],\n"
             "              timespan: 10m, condition: {gte: 20}}\n");
    size_t n = 0;
    for (int i = 0; i < 40; i++)
        gen(n++, "twenty", "failed_login", "f", i, TS(i * 5), "forty", NULL);
    for (int i = 0; i < 39; i++)
        gen(n++, "twenty", "failed_login", "g", i, TS(i * 5), "thirty-nine", NULL);
    res r;
    run(rs, g_hits, n, &r);
    alert a[8];
    assert_int_equal(parse_alerts(r.out.p, a, 8), 3);
    int forty = 0, other = 0;
    for (int i = 0; i < 3; i++) {
        if (strstr(a[i].group, "thirty-nine")) {
            other++;
            assert_string_equal(a[i].ids, id_range("g", 0, 19));
        } else if (!strcmp(a[i].time, "2024-03-11T09:01:35Z")) {
            forty++;
            assert_string_equal(a[i].ids, id_range("f", 0, 19));
        } else {
            forty++;
            assert_string_equal(a[i].time, "2024-03-11T09:03:15Z");
            assert_string_equal(a[i].ids, id_range("f", 20, 39)); /* fresh members only */
        }
    }
    assert_int_equal(forty, 2);
    assert_int_equal(other, 1);
    res_free(&r);
    hm_ruleset_free(rs);
}

/* ------------------------------------------------------------------------------------- */
/* S-COR-14 edge: one event matched by two referenced rules                               */

static void test_cor14_event_matched_by_two_rules_counts_once(void **state) {
    (void)state;
    hm_ruleset *rs = load("title: Any login activity\n"
                          "id: c0000000-0000-0000-0000-000000000070\n"
                          "name: activity\n"
                          "correlation: {type: event_count, rules: [failed_login, success_login],\n"
                          "              group-by: [user], timespan: 10m, condition: {gte: 3}}\n"
                          "---\n"
                          "title: Both kinds\n"
                          "id: c0000000-0000-0000-0000-000000000071\n"
                          "name: both\n"
                          "correlation: {type: temporal, rules: [failed_login, success_login],\n"
                          "              group-by: [user], timespan: 10m}\n");
    const th t[] = {
        {"activity", "failed_login", TS(0), "e1", "ann", NULL},
        {"activity", "success_login", TS(0), "e1", "ann", NULL},
        {"activity", "failed_login", TS(1), "e2", "ann", NULL},
        {"activity", "success_login", TS(1), "e2", "ann", NULL},
        {"activity", "failed_login", TS(2), "e3", "ann", NULL},
        /* a redelivered copy of an event (same id) is not counted again either */
        {"activity", "failed_login", TS(0), "r1", "bob", NULL},
        {"activity", "failed_login", TS(0), "r1", "bob", NULL},
        {"activity", "failed_login", TS(1), "r2", "bob", NULL},
        /* temporal: one event satisfying both referenced rules is enough */
        {"both", "failed_login", TS(5), "x1", "cid", NULL},
        {"both", "success_login", TS(5), "x1", "cid", NULL},
    };
    res r;
    run(rs, t, sizeof t / sizeof t[0], &r);
    alert a[4];
    assert_int_equal(parse_alerts(r.out.p, a, 4), 2);
    for (int i = 0; i < 2; i++)
        if (!strcmp(a[i].rule, "c0000000-0000-0000-0000-000000000070")) {
            assert_string_equal(a[i].ids, "e1,e2,e3");
            assert_string_equal(a[i].time, "2024-03-11T09:00:02Z");
            assert_true(a[i].value == 3);
        } else {
            assert_string_equal(a[i].ids, "x1,x1");
            assert_true(a[i].value == 2);
        }
    res_free(&r);
    hm_ruleset_free(rs);
}

/* ------------------------------------------------------------------------------------- */
/* S-COR-23 aliases and S-COR-07 missing group-by fields (worker side: hm_corr_extract)    */

static const char ALIASES[] = "title: Internal error followed by connection\n"
                              "id: c0000000-0000-0000-0000-000000000080\n"
                              "name: err_conn\n"
                              "correlation:\n"
                              "  type: temporal\n"
                              "  rules: [internal_error, new_network_connection]\n"
                              "  group-by: [ip]\n"
                              "  timespan: 10s\n"
                              "  aliases:\n"
                              "    ip:\n"
                              "      internal_error: dst_ip\n"
                              "      new_network_connection: src_ip\n";

typedef struct tev {
    hm_event ev;
    hm_record rec;
} tev;

static void tev_init(tev *t, uint64_t pos, int64_t ms) {
    memset(t, 0, sizeof(*t));
    t->rec.pos = pos;
    t->ev.rec = &t->rec;
    t->ev.ts_ns = ms * 1000000;
}

static void test_cor23_aliases_group_by_different_fields(void **state) {
    (void)state;
    hm_ruleset *rs = load(ALIASES);
    const hm_corr_set *set = hm_ruleset_correlations(rs);
    int ci = corr_index(rs, "err_conn");
    const hm_corr *c = &set->v[ci];
    assert_int_equal(c->n_group, 1);
    assert_string_equal(c->group_by[0], "ip");
    assert_string_equal(c->group_fields[0], "dst_ip"); /* for refs[0] = internal_error */
    assert_string_equal(c->group_fields[1], "src_ip"); /* for refs[1] = new_network_connection */

    int r_err = hm_ruleset_find(rs, "internal_error"),
        r_conn = hm_ruleset_find(rs, "new_network_connection");
    hm_arena arena;
    hm_arena_init(&arena, 4096);
    hm_corr_hit hits[8];
    size_t n = 0;
    tev e1, e2, e3;
    tev_init(&e1, 100, TS(0));
    hm_ev_set_c(&e1.ev, HM_F_DST_IP, "10.0.0.5");
    hm_ev_set_c(&e1.ev, HM_F_SRC_IP, "1.2.3.4");
    n += hm_corr_extract(rs, (uint32_t)r_err, &e1.ev, "file:web.log", &arena, hits + n, 8 - n);
    assert_int_equal(n, 1);
    assert_int_equal(hits[0].group.len, 8);
    assert_memory_equal(hits[0].group.p, "10.0.0.5", 8);
    assert_int_equal(hits[0].event_id.len, strlen("file:web.log:100"));
    assert_memory_equal(hits[0].event_id.p, "file:web.log:100", hits[0].event_id.len);
    /* the connection's source is the erroring server */
    tev_init(&e2, 7, TS(5));
    hm_ev_set_c(&e2.ev, HM_F_SRC_IP, "10.0.0.5");
    hm_ev_set_c(&e2.ev, HM_F_DST_IP, "8.8.8.8");
    n += hm_corr_extract(rs, (uint32_t)r_conn, &e2.ev, "file:fw.log", &arena, hits + n, 8 - n);
    assert_int_equal(n, 2);
    assert_int_equal(hits[1].ref, 1);
    assert_memory_equal(hits[1].group.p, "10.0.0.5", 8);
    /* an event lacking its group-by field produces no hit (skipped, not a null key) */
    tev_init(&e3, 9, TS(6));
    hm_ev_set_c(&e3.ev, HM_F_DST_IP, "10.0.0.5");
    assert_int_equal(
        hm_corr_extract(rs, (uint32_t)r_conn, &e3.ev, "file:fw.log", &arena, hits + n, 8 - n), 0);

    hm_corr_opts o = {.state = "memory"};
    char err[128];
    hm_correlator *cr = hm_correlator_new(rs, &o, err, sizeof err);
    assert_non_null(cr);
    hm_buf out = {0}, dead = {0};
    uint64_t w = 0;
    assert_int_equal(hm_correlator_push(cr, hits, n, &out, &dead, &w), HM_OK);
    assert_int_equal(hm_correlator_finish(cr, &out, &w), HM_OK);
    hm_buf_putc(&out, 0);
    alert a[2];
    assert_int_equal(parse_alerts(out.p, a, 2), 1);
    assert_string_equal(a[0].group, "{\"ip\":\"10.0.0.5\"}");
    assert_string_equal(a[0].ids, "file:web.log:100,file:fw.log:7");
    hm_buf_free(&out);
    hm_buf_free(&dead);
    hm_correlator_free(cr);
    hm_arena_free(&arena);
    hm_ruleset_free(rs);
}

static void test_cor07_missing_group_by_field_skipped(void **state) {
    (void)state;
    hm_ruleset *rs =
        load("title: Per user and source\n"
             "id: c0000000-0000-0000-0000-000000000081\n"
             "name: per_user_src\n"
             "correlation: {type: value_count, rules: [failed_login], group-by: [user, src_ip],\n"
             "              timespan: 10m, condition: {gte: 1, field: [target_user, dst_ip]}}\n");
    int rule = hm_ruleset_find(rs, "failed_login");
    hm_arena arena;
    hm_arena_init(&arena, 4096);
    hm_corr_hit h[4];
    tev e;
    tev_init(&e, 1, TS(0));
    hm_ev_set_c(&e.ev, HM_F_USER, "ann");
    assert_int_equal(hm_corr_extract(rs, (uint32_t)rule, &e.ev, "stdin", &arena, h, 4),
                     0); /* no src_ip */
    hm_ev_set_c(&e.ev, HM_F_SRC_IP, "10.1.1.1");
    assert_int_equal(hm_corr_extract(rs, (uint32_t)rule, &e.ev, "stdin", &arena, h, 4), 1);
    assert_int_equal(h[0].group.len, 12);
    assert_memory_equal(h[0].group.p,
                        "ann\x1f"
                        "10.1.1.1",
                        12);
    assert_false(h[0].has_value); /* only one of the two value fields: no value */
    hm_ev_set_c(&e.ev, HM_F_TARGET_USER, "bob");
    hm_ev_set_c(&e.ev, HM_F_DST_IP, "10.2.2.2");
    assert_int_equal(hm_corr_extract(rs, (uint32_t)rule, &e.ev, "stdin", &arena, h, 4), 1);
    assert_true(h[0].has_value);
    assert_int_equal(h[0].value.len, 12);
    assert_memory_equal(h[0].value.p,
                        "bob\x1f"
                        "10.2.2.2",
                        12);
    /* a rule no correlation references yields nothing */
    assert_int_equal(
        hm_corr_extract(rs, (uint32_t)hm_ruleset_find(rs, "recon_a"), &e.ev, "stdin", &arena, h, 4),
        0);
    hm_arena_free(&arena);
    hm_ruleset_free(rs);
}

/* ------------------------------------------------------------------------------------- */
/* S-COR-24 generate, S-COR-05/06 chaining                                                */

static void test_cor24_generate_flags(void **state) {
    (void)state;
    hm_ruleset *rs =
        load("title: X\n"
             "id: c0000000-0000-0000-0000-000000000090\n"
             "generate: true\n"
             "correlation: {type: event_count, rules: [failed_login], timespan: 1m, condition: "
             "{gte: 5}}\n"
             "---\n"
             "title: Y\n"
             "id: c0000000-0000-0000-0000-000000000091\n"
             "correlation: {type: event_count, rules: [success_login], timespan: 1m, condition: "
             "{gte: 5}}\n"
             "---\n"
             "title: Z\n"
             "id: c0000000-0000-0000-0000-000000000092\n"
             "generate: false\n"
             "correlation: {type: event_count, rules: [failed_login, data_export], timespan: 1m,\n"
             "              condition: {gte: 5}}\n");
    /* referenced by X (true) and Z (false): any true wins */
    assert_true(hm_ruleset_rule(rs, (size_t)hm_ruleset_find(rs, "failed_login"))->generate);
    /* referenced only without generate: silent building block */
    assert_false(hm_ruleset_rule(rs, (size_t)hm_ruleset_find(rs, "success_login"))->generate);
    assert_false(hm_ruleset_rule(rs, (size_t)hm_ruleset_find(rs, "data_export"))->generate);
    /* not referenced: a normal rule */
    assert_true(hm_ruleset_rule(rs, (size_t)hm_ruleset_find(rs, "recon_a"))->generate);
    /* correlations nobody references alert */
    assert_true(
        hm_ruleset_rule(rs, (size_t)hm_ruleset_find(rs, "c0000000-0000-0000-0000-000000000091"))
            ->generate);
    assert_true(
        hm_ruleset_rule(rs, (size_t)hm_ruleset_find(rs, "c0000000-0000-0000-0000-000000000092"))
            ->generate);
    hm_ruleset_free(rs);
}

/* The spec's chaining example: many failed logins, then a successful login. */
static const char CHAIN[] = "title: Successful login after many failures\n"
                            "id: c0000000-0000-0000-0000-0000000000a1\n"
                            "level: critical\n"
                            "%s"
                            "correlation:\n"
                            "  type: temporal_ordered\n"
                            "  rules: [many_failed_logins, success_login]\n"
                            "  group-by: [user]\n"
                            "  timespan: 1h\n"
                            "---\n"
                            "title: Many failed logins\n"
                            "id: c0000000-0000-0000-0000-0000000000a0\n"
                            "name: many_failed_logins\n"
                            "correlation:\n"
                            "  type: event_count\n"
                            "  rules: [failed_login]\n"
                            "  group-by: [user]\n"
                            "  timespan: 10m\n"
                            "  condition: {gte: 3}\n";

static const th CHAIN_HITS[] = {
    {"many_failed_logins", "failed_login", TS(0), "f1", "ann", NULL},
    {"many_failed_logins", "failed_login", TS(10), "f2", "ann", NULL},
    {"many_failed_logins", "failed_login", TS(20), "f3", "ann", NULL},
    {"c0000000-0000-0000-0000-0000000000a1", "success_login", TS(100), "s1", "ann", NULL},
    /* bob: success before the failures - wrong order */
    {"c0000000-0000-0000-0000-0000000000a1", "success_login", TS(0), "s2", "bob", NULL},
    {"many_failed_logins", "failed_login", TS(10), "g1", "bob", NULL},
    {"many_failed_logins", "failed_login", TS(20), "g2", "bob", NULL},
    {"many_failed_logins", "failed_login", TS(30), "g3", "bob", NULL},
    /* cid: failures but no success */
    {"many_failed_logins", "failed_login", TS(0), "h1", "cid", NULL},
    {"many_failed_logins", "failed_login", TS(1), "h2", "cid", NULL},
    {"many_failed_logins", "failed_login", TS(2), "h3", "cid", NULL},
};

static void test_cor05_chained_correlation(void **state) {
    (void)state;
    char yaml[2048];
    snprintf(yaml, sizeof yaml, CHAIN, "");
    hm_ruleset *rs = load(yaml);
    const hm_corr_set *set = hm_ruleset_correlations(rs);
    assert_int_equal(set->v[corr_index(rs, "many_failed_logins")].level, 0);
    assert_int_equal(set->v[corr_index(rs, "c0000000-0000-0000-0000-0000000000a1")].level, 1);
    /* the inner correlation is a building block: no alerts of its own */
    assert_false(hm_ruleset_rule(rs, (size_t)hm_ruleset_find(rs, "many_failed_logins"))->generate);
    res r;
    run(rs, CHAIN_HITS, sizeof CHAIN_HITS / sizeof CHAIN_HITS[0], &r);
    alert a[8];
    assert_int_equal(parse_alerts(r.out.p, a, 8), 1);
    assert_int_equal(r.st.fired, 4); /* three inner firings (ann, bob, cid) + the outer */
    assert_string_equal(a[0].rule, "c0000000-0000-0000-0000-0000000000a1");
    assert_string_equal(a[0].level, "critical");
    assert_string_equal(a[0].group, "{\"user\":\"ann\"}");
    assert_string_equal(a[0].time, "2024-03-11T09:01:40Z");
    /* first member: the inner firing (its alert id, at its firing time); then the login */
    assert_int_equal(strncmp(a[0].ids, "corr-", 5), 0);
    assert_non_null(strstr(a[0].ids, ",s1"));
    assert_string_equal(a[0].wstart, "2024-03-11T09:00:20Z");
    assert_string_equal(
        a[0].ev_rules, "c0000000-0000-0000-0000-0000000000a0,0a000000-0000-0000-0000-000000000002");
    res_free(&r);

    /* pushed one hit at a time (firings and logins in separate pushes): same alert */
    size_t ones[16];
    for (int i = 0; i < 16; i++) ones[i] = 1;
    res r1;
    run_chunks(rs, 60000, CHAIN_HITS, sizeof CHAIN_HITS / sizeof CHAIN_HITS[0], ones, 16, &r1);
    alert b[8];
    assert_int_equal(parse_alerts(r1.out.p, b, 8), 1);
    assert_string_equal(b[0].alert_id, a[0].alert_id);
    assert_string_equal(b[0].ids, a[0].ids);
    res_free(&r1);
    hm_ruleset_free(rs);

    /* generate: true on the outer one makes the inner one alert as well */
    snprintf(yaml, sizeof yaml, CHAIN, "generate: true\n");
    rs = load(yaml);
    assert_true(hm_ruleset_rule(rs, (size_t)hm_ruleset_find(rs, "many_failed_logins"))->generate);
    run(rs, CHAIN_HITS, sizeof CHAIN_HITS / sizeof CHAIN_HITS[0], &r);
    assert_int_equal(parse_alerts(r.out.p, a, 8), 4);
    int inner = 0;
    for (int i = 0; i < 4; i++) inner += !strcmp(a[i].rule, "c0000000-0000-0000-0000-0000000000a0");
    assert_int_equal(inner, 3);
    res_free(&r);
    hm_ruleset_free(rs);
}

/* ------------------------------------------------------------------------------------- */
/* S-COR-10 event time: out-of-order within lateness, late beyond it                       */

static void test_cor10_out_of_order_within_lateness(void **state) {
    (void)state;
    hm_ruleset *rs = load(EC_SPEC);
    /* sorted: alice every 7 s, bob every 11 s */
    size_t n = 0;
    for (int i = 0; i < 35; i++)
        gen(n++, "many_failed_logins", "failed_login", "a", i, TS(i * 7), "alice", NULL);
    for (int i = 0; i < 25; i++)
        gen(n++, "many_failed_logins", "failed_login", "b", i, TS(i * 11), "bob", NULL);
    res sorted;
    run_chunks(rs, 60000, g_hits, n, NULL, 0, &sorted);
    /* shuffled: reversed blocks of 6 hits (each block spans < 60 s), pushed 5 at a time */
    th shuffled[64];
    size_t k = 0;
    th by_time[64];
    memcpy(by_time, g_hits, n * sizeof(th));
    for (size_t i = 1; i < n; i++) /* insertion sort by time */
        for (size_t j = i; j > 0 && by_time[j].ms < by_time[j - 1].ms; j--) {
            th x = by_time[j];
            by_time[j] = by_time[j - 1];
            by_time[j - 1] = x;
        }
    for (size_t b = 0; b < n; b += 6)
        for (size_t j = (b + 6 < n ? b + 6 : n); j > b; j--) shuffled[k++] = by_time[j - 1];
    size_t fives[16];
    for (int i = 0; i < 16; i++) fives[i] = 5;
    res r;
    run_chunks(rs, 60000, shuffled, k, fives, 16, &r);
    assert_int_equal(r.st.late, 0);
    char *x = sorted_lines(sorted.out.p), *y = sorted_lines(r.out.p);
    assert_string_equal(x, y);
    assert_int_equal(sorted.alerts, 5); /* alice: 10, 20, 30; bob: 10, 20 */
    free(x);
    free(y);
    res_free(&r);
    res_free(&sorted);
    hm_ruleset_free(rs);
}

static void test_cor10_late_event_dead_lettered(void **state) {
    (void)state;
    hm_ruleset *rs = load(EC_SPEC);
    const th t[] = {
        {"many_failed_logins", "failed_login", TS(0), "a0", "alice", NULL},
        {"many_failed_logins", "failed_login", TS(600), "a1", "alice",
         NULL}, /* watermark 09:09:00 */
        {"many_failed_logins", "failed_login", TS(540), "late1", "alice",
         NULL}, /* == watermark: late */
        {"many_failed_logins", "failed_login", TS(100), "late2", "bob", NULL},
        {"many_failed_logins", "failed_login", TS(541), "ok1", "alice", NULL}, /* within lateness */
    };
    size_t chunks[] = {2, 3};
    res r;
    run_chunks(rs, 60000, t, 5, chunks, 2, &r);
    assert_int_equal(r.st.late, 2);
    assert_int_equal(r.st.applied, 3);
    assert_int_equal(r.st.hits, 5);
    assert_non_null(strstr(r.dead.p, "\"id\":\"late1\""));
    assert_non_null(strstr(r.dead.p, "\"id\":\"late2\""));
    assert_null(strstr(r.dead.p, "ok1"));
    assert_non_null(strstr(r.dead.p, "\"kind\":\"dead_letter\""));
    assert_non_null(strstr(r.dead.p, "\"correlation\":\"c0000000-0000-0000-0000-000000000001\""));
    assert_non_null(strstr(r.dead.p, "\"time\":\"2024-03-11T09:09:00Z\""));
    res_free(&r);
    /* a larger --lateness accepts them */
    run_chunks(rs, 3600000, t, 5, chunks, 2, &r);
    assert_int_equal(r.st.late, 0);
    res_free(&r);
    hm_ruleset_free(rs);
}

/* ------------------------------------------------------------------------------------- */
/* load errors: file:line:col                                                             */

static void test_cor02_unknown_type(void **state) {
    (void)state;
    load_err e;
    load_fail("title: Bad\nid: c0000000-0000-0000-0000-0000000000e1\n"
              "correlation:\n  type: event_counter\n  rules: [failed_login]\n  timespan: 5m\n"
              "  condition: {gte: 3}\n",
              &e);
    assert_string_equal(e.code, "bad-correlation");
    assert_int_equal(e.line, line_of(e.file, "type: event_counter"));
    assert_int_equal(e.col, col_of(e.file, "event_counter"));
}

static void test_cor03_unresolvable_rule(void **state) {
    (void)state;
    load_err e;
    load_fail("title: Bad\nid: c0000000-0000-0000-0000-0000000000e2\n"
              "correlation:\n  type: event_count\n  rules: [failed_login, no_such_rule]\n"
              "  timespan: 5m\n  condition: {gte: 3}\n",
              &e);
    assert_string_equal(e.code, "unknown-rule");
    assert_non_null(strstr(e.msg, "no_such_rule"));
    assert_int_equal(e.line, line_of(e.file, "no_such_rule"));
    assert_true(e.col >= 1);
}

static void test_cor09_bad_timespan(void **state) {
    (void)state;
    load_err e;
    load_fail("title: Bad\nid: c0000000-0000-0000-0000-0000000000e3\n"
              "correlation:\n  type: event_count\n  rules: [failed_login]\n  timespan: 5 minutes\n"
              "  condition: {gte: 3}\n",
              &e);
    assert_string_equal(e.code, "bad-timespan");
    assert_int_equal(e.line, line_of(e.file, "timespan: 5 minutes"));
    assert_int_equal(e.col, col_of(e.file, "5 minutes"));
    load_fail("title: Bad\nid: c0000000-0000-0000-0000-0000000000e4\n"
              "correlation: {type: event_count, rules: [failed_login], condition: {gte: 3}}\n",
              &e);
    assert_string_equal(e.code, "bad-timespan"); /* missing */
}

static void test_cor12_value_count_needs_field(void **state) {
    (void)state;
    load_err e;
    load_fail("title: Bad\nid: c0000000-0000-0000-0000-0000000000e5\n"
              "correlation:\n  type: value_count\n  rules: [failed_login]\n  timespan: 5m\n"
              "  condition:\n    gte: 3\n",
              &e);
    assert_string_equal(e.code, "bad-condition");
    assert_non_null(strstr(e.msg, "field"));
    assert_int_equal(e.line, line_of(e.file, "gte: 3"));
    /* several fields for a numeric aggregate */
    load_fail("title: Bad\nid: c0000000-0000-0000-0000-0000000000e6\n"
              "correlation:\n  type: value_sum\n  rules: [data_export]\n  timespan: 5m\n"
              "  condition: {gte: 3, field: [a, b]}\n",
              &e);
    assert_string_equal(e.code, "bad-condition");
    /* a condition with no operator */
    load_fail("title: Bad\nid: c0000000-0000-0000-0000-0000000000e7\n"
              "correlation:\n  type: value_count\n  rules: [failed_login]\n  timespan: 5m\n"
              "  condition: {field: user}\n",
              &e);
    assert_string_equal(e.code, "bad-condition");
    /* percentile out of range */
    load_fail("title: Bad\nid: c0000000-0000-0000-0000-0000000000e8\n"
              "correlation:\n  type: value_percentile\n  rules: [data_export]\n  timespan: 5m\n"
              "  condition: {gte: 3, field: n, percentile: 150}\n",
              &e);
    assert_string_equal(e.code, "bad-condition");
    assert_int_equal(e.line, line_of(e.file, "percentile: 150"));
    assert_int_equal(e.col, col_of(e.file, "150"));
    /* an unknown condition key */
    load_fail("title: Bad\nid: c0000000-0000-0000-0000-0000000000e9\n"
              "correlation:\n  type: event_count\n  rules: [failed_login]\n  timespan: 5m\n"
              "  condition: {over: 3}\n",
              &e);
    assert_string_equal(e.code, "bad-condition");
}

static void test_cor23_alias_without_entry(void **state) {
    (void)state;
    load_err e;
    load_fail("title: Bad\nid: c0000000-0000-0000-0000-0000000000ea\n"
              "correlation:\n"
              "  type: temporal\n"
              "  rules: [internal_error, new_network_connection]\n"
              "  group-by: [ip]\n"
              "  timespan: 10s\n"
              "  aliases:\n"
              "    ip:\n"
              "      internal_error: dst_ip\n",
              &e);
    assert_string_equal(e.code, "bad-alias");
    assert_non_null(strstr(e.msg, "new_network_connection"));
    assert_int_equal(e.line, line_of(e.file, "internal_error: dst_ip"));
}

static void test_cor05_cycle(void **state) {
    (void)state;
    load_err e;
    load_fail(
        "title: A\nid: c0000000-0000-0000-0000-0000000000f1\nname: corr_a\n"
        "correlation: {type: event_count, rules: [corr_b], timespan: 5m, condition: {gte: 2}}\n"
        "---\n"
        "title: B\nid: c0000000-0000-0000-0000-0000000000f2\nname: corr_b\n"
        "correlation: {type: event_count, rules: [corr_a, failed_login], timespan: 5m, condition: "
        "{gte: 2}}\n",
        &e);
    assert_string_equal(e.code, "correlation-cycle");
    assert_int_equal(e.line, line_of(e.file, "title: A"));
    assert_int_equal(e.col, 1);
    load_fail(
        "title: Self\nid: c0000000-0000-0000-0000-0000000000f3\nname: corr_self\n"
        "correlation: {type: event_count, rules: [corr_self], timespan: 5m, condition: {gte: 2}}\n",
        &e);
    assert_string_equal(e.code, "correlation-cycle");
}

/* ------------------------------------------------------------------------------------- */
/* fixtures and state                                                                     */

/* The fixtures in tests/correlation (used by the integration tests) load cleanly. */
static void test_fixtures_load(void **state) {
    (void)state;
    const char *p = "tests/correlation";
    hm_diags d = {0};
    hm_ruleset *rs = hm_ruleset_load(&p, 1, NULL, &d);
    if (!rs) print_diags(&d);
    assert_non_null(rs);
    assert_int_equal(d.errors, 0);
    const hm_corr_set *set = hm_ruleset_correlations(rs);
    assert_non_null(set);
    assert_true(set->n >= 4);
    hm_diags_free(&d);
    hm_ruleset_free(rs);
}

/* Memory state: groups expire with event time; figures for docs/correlation.md. */
static void test_cor27_memory_state_expires(void **state) {
    (void)state;
    hm_ruleset *rs = load(EC_SPEC);
    hm_corr_opts o = {.state = "memory"};
    char err[128];
    hm_correlator *c = hm_correlator_new(rs, &o, err, sizeof err);
    int ci = corr_index(rs, "many_failed_logins");
    enum { N = 2000 };
    hm_corr_hit *h = calloc(N, sizeof(hm_corr_hit));
    char(*ids)[32] = calloc(N, 32), (*gs)[32] = calloc(N, 32);
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], 32, "file:/var/log/sis.log:%d", i * 150);
        snprintf(gs[i], 32, "user%05d", i);
        h[i] = (hm_corr_hit){.corr = (uint32_t)ci,
                             .ref = 0,
                             .ts_ns = TS(i) * 1000000,
                             .event_id = hm_str_c(ids[i]),
                             .group = hm_str_c(gs[i])};
    }
    hm_buf out = {0}, dead = {0};
    uint64_t w;
    assert_int_equal(hm_correlator_push(c, h, N, &out, &dead, &w), HM_OK);
    hm_corr_stats st;
    hm_correlator_stats(c, &st);
    assert_int_equal(st.groups, N);
    double per = (double)st.memory_bytes / (double)st.groups;
    print_message("memory backend: %.0f bytes per live event_count group (1 member, %zu-byte id)\n",
                  per, strlen(ids[N - 1]));
    assert_true(per < 400);
    /* two hours later every one of them has expired (1 h span) */
    hm_corr_hit late = h[N - 1];
    late.ts_ns = TS(N + 7200) * 1000000;
    late.group = hm_str_c("someone");
    for (int i = 0; i < 70; i++)
        assert_int_equal(hm_correlator_push(c, &late, 1, &out, &dead, &w), HM_OK);
    hm_correlator_stats(c, &st);
    assert_int_equal(st.groups, 1);
    assert_int_equal(st.groups_expired, N);
    assert_int_equal(out.len, 0);
    hm_buf_free(&out);
    hm_buf_free(&dead);
    hm_correlator_free(c);
    free(h);
    free(ids);
    free(gs);
    hm_ruleset_free(rs);
}

/* ------------------------------------------------------------------------------------- */
/* memory state: --lateness 0, --state-dir snapshots, the group cap                        */

/* Pushes h[from, to) in pushes of step hits, appending alerts to out. */
static void push_range(hm_correlator *c, const hm_corr_hit *h, size_t from, size_t to, size_t step,
                       hm_buf *out) {
    hm_buf dead = {0};
    for (size_t at = from; at < to; at += step) {
        size_t m = to - at < step ? to - at : step;
        uint64_t w = 0;
        assert_int_equal(hm_correlator_push(c, h + at, m, out, &dead, &w), HM_OK);
        assert_int_equal(hm_correlator_commit(c), HM_OK);
    }
    hm_buf_free(&dead);
}

static hm_correlator *corr_new(const hm_ruleset *rs, const hm_corr_opts *o) {
    char err[256] = "";
    hm_correlator *c = hm_correlator_new(rs, o, err, sizeof err);
    if (!c) fail_msg("hm_correlator_new: %s", err);
    return c;
}

/* Watermarks are per input stream: a backlog read from two partitions at once, one ten
 * hours behind the other, loses nothing as late and gives the alerts of sorted input. With
 * both in one stream (NULL) most of the older one is late: the control. */
static void test_cor10_streams_have_their_own_watermarks(void **state) {
    (void)state;
    hm_ruleset *rs = load(EC_SPEC);
    int ci = corr_index(rs, "many_failed_logins");
    static const char stream_a[] = "kafka:logs/0", stream_b[] = "kafka:logs/1";
    enum { N = 60 };
    hm_corr_hit h[N], sorted[N];
    char ids[N][32];
    for (int i = 0; i < N; i++) { /* pairs of 3: A's three, then B's three, ... */
        int a = (i / 3) % 2 == 0, j = (i / 6) * 3 + i % 3;
        snprintf(ids[i], 32, "%s:%d", a ? stream_a : stream_b, j);
        h[i] = (hm_corr_hit){.corr = (uint32_t)ci,
                             .ts_ns = TS((a ? 36000 : 0) + j * 7) * 1000000,
                             .stream = a ? stream_a : stream_b,
                             .event_id = hm_str_c(ids[i]),
                             .group = hm_str_c(a ? "alice" : "bob")};
    }
    memcpy(sorted, h, sizeof h);
    sort_hits_by_time(sorted, N);
    hm_corr_opts o = {.state = "memory"};
    hm_buf ref = {0}, got = {0}, ctl = {0};
    hm_correlator *c = corr_new(rs, &o);
    push_range(c, sorted, 0, N, N, &ref);
    uint64_t w;
    assert_int_equal(hm_correlator_finish(c, &ref, &w), HM_OK);
    hm_correlator_free(c);
    c = corr_new(rs, &o);
    push_range(c, h, 0, N, 6, &got);
    assert_int_equal(hm_correlator_finish(c, &got, &w), HM_OK);
    hm_corr_stats st;
    hm_correlator_stats(c, &st);
    assert_int_equal(st.late, 0);
    hm_correlator_free(c);
    assert_same_lines(&ref, &got);
    alert a[8];
    assert_int_equal(parse_alerts(ref.p, a, 8), 6); /* alice and bob: 10, 20 and 30 each */
    /* many streams first seen in one push (the stream table grows mid-push): each hit is
     * judged against its own stream; h[i] in stream i % 40, one stream every 10 hours */
    static char keys[40][16];
    hm_buf many = {0};
    for (int i = 0; i < N; i++) {
        snprintf(keys[i % 40], 16, "s%d", i % 40);
        h[i].stream = keys[i % 40];
        h[i].ts_ns = TS((i % 40) * 36000 + i) * 1000000;
    }
    c = corr_new(rs, &o);
    push_range(c, h, 0, N, N, &many);
    hm_correlator_stats(c, &st);
    assert_int_equal(st.late, 0);
    hm_correlator_free(c);
    hm_buf_free(&many);
    for (int i = 0; i < N; i++) h[i].stream = NULL; /* the control: one stream */
    c = corr_new(rs, &o);
    push_range(c, h, 0, N, 6, &ctl);
    hm_correlator_stats(c, &st);
    assert_true(st.late >= 20);
    hm_correlator_free(c);
    hm_buf_free(&ref);
    hm_buf_free(&got);
    hm_buf_free(&ctl);
    hm_ruleset_free(rs);
}

/* --lateness 0 is strict (no out-of-order tolerance); 0 without lateness_set keeps meaning
 * the default of 60 s for callers that zero their options. */
static void test_lateness_zero_is_strict(void **state) {
    (void)state;
    hm_ruleset *rs = load(EC_SPEC);
    const th t[] = {
        {"many_failed_logins", "failed_login", TS(100), "a0", "alice", NULL},
        {"many_failed_logins", "failed_login", TS(99), "a1", "alice", NULL},  /* 1 s older */
        {"many_failed_logins", "failed_login", TS(100), "a2", "alice", NULL}, /* = newest */
        {"many_failed_logins", "failed_login", TS(101), "a3", "alice", NULL}, /* newer */
    };
    hm_corr_hit *h = make_hits(rs, t, 4);
    for (int strict = 0; strict < 2; strict++) {
        hm_corr_opts o = {.state = "memory", .lateness_ns = 0, .lateness_set = strict};
        hm_correlator *c = corr_new(rs, &o);
        hm_buf out = {0};
        push_range(c, h, 0, 4, 1, &out);
        hm_corr_stats st;
        hm_correlator_stats(c, &st);
        /* strict: the watermark is the newest time of the earlier pushes, and an event at or
         * before it is late */
        assert_int_equal(st.late, strict ? 2 : 0);
        assert_int_equal(st.applied, strict ? 2 : 4);
        hm_buf_free(&out);
        hm_correlator_free(c);
    }
    free_hits(h, 4);
    hm_ruleset_free(rs);
}

/* Hits of a split-run scenario: alice fails every 60 s (25 times: alerts at the 10th and
 * 20th), bob 9 times, then one failure 3 h later moves the watermark past every window. */
static size_t split_scenario(void) {
    size_t n = 0;
    for (int i = 0; i < 25; i++) {
        gen(n++, "many_failed_logins", "failed_login", "a", i, TS(i * 60), "alice", NULL);
        if (i < 9)
            gen(n++, "many_failed_logins", "failed_login", "b", i, TS(i * 60 + 7), "bob", NULL);
    }
    gen(n++, "many_failed_logins", "failed_login", "z", 0, TS(3 * 3600), "carol", NULL);
    return n;
}

static void state_dir_of(char *out, size_t cap) {
    snprintf(out, cap, "%s/state%d", g_root, ++g_seq);
}

/* --state-dir: a run stopped in the middle of a burst and continued by a new correlator
 * raises the alerts of one uninterrupted run. */
static void test_memory_state_dir_continues_windows(void **state) {
    (void)state;
    hm_ruleset *rs = load(EC_SPEC);
    size_t n = split_scenario();
    hm_corr_hit *h = make_hits(rs, g_hits, n);
    /* one run */
    hm_corr_opts o = {.state = "memory"};
    hm_correlator *c = corr_new(rs, &o);
    hm_buf ref = {0};
    push_range(c, h, 0, n, 4, &ref);
    uint64_t w = 0;
    assert_int_equal(hm_correlator_finish(c, &ref, &w), HM_OK);
    hm_correlator_free(c);
    /* the same hits in two runs; the cut (hit 13) is in the middle of alice's first burst */
    char dir[512];
    state_dir_of(dir, sizeof dir);
    o.state_dir = dir;
    hm_buf split = {0};
    c = corr_new(rs, &o);
    push_range(c, h, 0, 13, 4, &split);
    assert_int_equal(hm_correlator_finish(c, &split, &w), HM_OK);
    assert_int_equal(w, 0); /* windows stay open */
    hm_corr_stats st;
    hm_correlator_stats(c, &st);
    uint64_t saved = st.groups;
    assert_int_equal(saved, 2);
    hm_correlator_free(c);
    c = corr_new(rs, &o);
    hm_correlator_stats(c, &st);
    assert_int_equal(st.groups, saved);
    push_range(c, h, 13, n, 4, &split);
    assert_int_equal(hm_correlator_finish(c, &split, &w), HM_OK);
    hm_correlator_free(c);
    assert_same_lines(&ref, &split);
    alert al[4];
    assert_int_equal(parse_alerts(ref.p, al, 4), 2);
    hm_buf_free(&ref);
    hm_buf_free(&split);
    free_hits(h, n);
    hm_ruleset_free(rs);
}

/* A snapshot of other correlation rules, or a damaged one, is not used: the state starts
 * empty (and is replaced at the next clean exit). */
static void test_memory_state_dir_refuses_other_rules_and_damage(void **state) {
    (void)state;
    hm_ruleset *rs = load(EC_SPEC);
    size_t n = split_scenario();
    hm_corr_hit *h = make_hits(rs, g_hits, n);
    char dir[512], file[600];
    state_dir_of(dir, sizeof dir);
    snprintf(file, sizeof file, "%s/correlation.state", dir);
    hm_corr_opts o = {.state = "memory", .state_dir = dir};
    hm_correlator *c = corr_new(rs, &o);
    hm_buf out = {0};
    push_range(c, h, 0, 13, 4, &out);
    uint64_t w;
    assert_int_equal(hm_correlator_finish(c, &out, &w), HM_OK);
    hm_correlator_free(c);
    hm_corr_stats st;
    /* same rules: restored */
    c = corr_new(rs, &o);
    hm_correlator_stats(c, &st);
    assert_int_equal(st.groups, 2);
    hm_correlator_free(c);
    /* another threshold is another rule set */
    hm_ruleset *other = load("title: Many failed logins\n"
                             "id: c0000000-0000-0000-0000-000000000001\n"
                             "name: many_failed_logins\n"
                             "correlation:\n"
                             "  type: event_count\n"
                             "  rules: [failed_login]\n"
                             "  group-by: [user]\n"
                             "  timespan: 1h\n"
                             "  condition: {gte: 5}\n");
    c = corr_new(other, &o);
    hm_correlator_stats(c, &st);
    assert_int_equal(st.groups, 0);
    hm_correlator_free(c); /* finish not called: the snapshot stays as it was */
    /* one flipped byte fails the checksum */
    FILE *f = fopen(file, "r+b");
    assert_non_null(f);
    fseek(f, -3, SEEK_END);
    int ch = fgetc(f);
    fseek(f, -3, SEEK_END);
    fputc(ch ^ 0x20, f);
    fclose(f);
    c = corr_new(rs, &o);
    hm_correlator_stats(c, &st);
    assert_int_equal(st.groups, 0);
    hm_correlator_free(c);
    /* a truncated file too */
    assert_int_equal(truncate(file, 30), 0);
    c = corr_new(rs, &o);
    hm_correlator_stats(c, &st);
    assert_int_equal(st.groups, 0);
    hm_correlator_free(c);
    /* Redis keeps its own state */
    hm_corr_opts ro = {.state = "redis://127.0.0.1:1/0", .state_dir = dir};
    char err[256] = "";
    assert_null(hm_correlator_new(rs, &ro, err, sizeof err));
    assert_non_null(strstr(err, "--state-dir"));
    hm_buf_free(&out);
    free_hits(h, n);
    hm_ruleset_free(other);
    hm_ruleset_free(rs);
}

/* Rule reload: the state of an unchanged correlation moves to its new position, a changed
 * one starts over. */
static void test_memory_rebind_keeps_unchanged_state(void **state) {
    (void)state;
    hm_ruleset *a = load(EC_SPEC);
    /* the same correlation, now second, after a new one; and a changed threshold elsewhere */
    hm_ruleset *b = load("title: Repeated successes\n"
                         "id: c0000000-0000-0000-0000-0000000000ff\n"
                         "name: repeated_successes\n"
                         "correlation:\n"
                         "  type: event_count\n"
                         "  rules: [success_login]\n"
                         "  group-by: [user]\n"
                         "  timespan: 1h\n"
                         "  condition: {gte: 3}\n"
                         "---\n"
                         "title: Many failed logins\n"
                         "id: c0000000-0000-0000-0000-000000000001\n"
                         "name: many_failed_logins\n"
                         "level: high\n"
                         "correlation:\n"
                         "  type: event_count\n"
                         "  rules: [failed_login]\n"
                         "  group-by: [user]\n"
                         "  timespan: 1h\n"
                         "  condition: {gte: 10}\n");
    assert_int_not_equal(corr_index(a, "many_failed_logins"), corr_index(b, "many_failed_logins"));
    size_t n = 0;
    for (int i = 0; i < 10; i++)
        gen(n++, "many_failed_logins", "failed_login", "a", i, TS(i * 60), "alice", NULL);
    hm_corr_hit *ha = make_hits(a, g_hits, 5);
    hm_corr_hit *hb = make_hits(b, g_hits, n);
    hm_corr_opts o = {.state = "memory"};
    hm_correlator *c = corr_new(a, &o);
    hm_buf out = {0};
    push_range(c, ha, 0, 5, 2, &out);
    assert_int_equal(hm_correlator_rebind(c, b), HM_OK);
    hm_corr_stats st;
    hm_correlator_stats(c, &st);
    assert_int_equal(st.groups, 1);
    push_range(c, hb, 5, n, 2, &out);
    uint64_t w;
    assert_int_equal(hm_correlator_finish(c, &out, &w), HM_OK);
    hm_buf_putc(&out, 0);
    alert al[2];
    assert_int_equal(parse_alerts(out.p, al, 2), 1); /* the 10th failure, 5 before the reload */
    assert_string_equal(al[0].ids, id_range("a", 0, 9));
    hm_buf_free(&out);
    /* reloading to a changed definition drops that state */
    hm_correlator *c2 = corr_new(b, &o);
    push_range(c2, hb, 0, 5, 5, &out);
    hm_ruleset *b2 = load("title: Many failed logins\n"
                          "id: c0000000-0000-0000-0000-000000000001\n"
                          "name: many_failed_logins\n"
                          "correlation:\n"
                          "  type: event_count\n"
                          "  rules: [failed_login]\n"
                          "  group-by: [user]\n"
                          "  timespan: 1h\n"
                          "  condition: {gte: 4}\n");
    assert_int_equal(hm_correlator_rebind(c2, b2), HM_OK);
    hm_correlator_stats(c2, &st);
    assert_int_equal(st.groups, 0);
    hm_correlator_free(c2);
    hm_correlator_free(c);
    hm_buf_free(&out);
    free_hits(ha, 5);
    free_hits(hb, n);
    hm_ruleset_free(b2);
    hm_ruleset_free(b);
    hm_ruleset_free(a);
}

/* The group cap: hits for new groups beyond it are dropped and counted; existing groups
 * keep counting. */
static void test_memory_group_cap(void **state) {
    (void)state;
    hm_ruleset *rs = load(EC_SPEC);
    size_t n = 0;
    const char *users[] = {"u0", "u1", "u2", "u3", "u4"};
    for (int i = 0; i < 5; i++)
        gen(n++, "many_failed_logins", "failed_login", "x", i, TS(i), users[i], NULL);
    for (int i = 0; i < 9; i++)
        gen(n++, "many_failed_logins", "failed_login", "y", i, TS(10 + i), "u0", NULL);
    hm_corr_hit *h = make_hits(rs, g_hits, n);
    hm_corr_opts o = {.state = "memory", .max_groups = 3};
    hm_correlator *c = corr_new(rs, &o);
    hm_buf out = {0};
    push_range(c, h, 0, n, 3, &out);
    hm_corr_stats st;
    hm_correlator_stats(c, &st);
    assert_int_equal(st.groups, 3);
    assert_int_equal(st.groups_refused, 2);
    assert_int_equal(st.groups_peak, 3);
    uint64_t w;
    assert_int_equal(hm_correlator_finish(c, &out, &w), HM_OK);
    alert al[2];
    hm_buf_putc(&out, 0);
    assert_int_equal(parse_alerts(out.p, al, 2), 1); /* u0 reached 10 */
    assert_string_equal(al[0].group, "{\"user\":\"u0\"}");
    hm_buf_free(&out);
    hm_correlator_free(c);
    free_hits(h, n);
    hm_ruleset_free(rs);
}

/* ------------------------------------------------------------------------------------- */
/* a private redis-server for the parity runs                                             */

static int free_port(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0) return -1;
    socklen_t l = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &l);
    close(s);
    return ntohs(a.sin_port);
}

static bool port_open(int port) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    close(s);
    return ok;
}

static void start_redis(void) {
    if (getenv("HM_TEST_NO_REDIS") || system("command -v redis-server >/dev/null 2>&1") != 0) {
        print_message("redis-server not found: memory backend only\n");
        return;
    }
    int port = free_port();
    if (port <= 0) return;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test (e.g. an aborted run) */
        int devnull = open("/dev/null", 1);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execlp("redis-server", "redis-server", "--port", ps, "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--requirepass", "unit-pw", "--dir", g_root, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100 && !port_open(port); i++) usleep(50000);
    if (!port_open(port)) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        print_message("redis-server did not start: memory backend only\n");
        return;
    }
    g_redis_pid = pid;
    snprintf(g_redis_url, sizeof g_redis_url, "redis://:unit-pw@127.0.0.1:%d/0", port);
    print_message("parity runs against redis-server on %s\n", strchr(g_redis_url, '@') + 1);
}

static void stop_redis(void) {
    if (!g_redis_pid) return;
    kill(g_redis_pid, SIGTERM);
    waitpid(g_redis_pid, NULL, 0);
    g_redis_pid = 0;
}

int main(void) {
    snprintf(g_root, sizeof g_root, "/tmp/hm-test-corr-XXXXXX");
    if (!mkdtemp(g_root)) return 1;
    setenv("HM_CORR_JOIN_MS", "0", 1); /* one instance per run: no discovery period */
    start_redis();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cor14_event_count_spec),
        cmocka_unit_test(test_cor07_no_group_by_is_one_group),
        cmocka_unit_test(test_cor15_value_count_one_field),
        cmocka_unit_test(test_cor15_value_count_field_list_counts_tuples),
        cmocka_unit_test(test_cor16_temporal_any_order),
        cmocka_unit_test(test_cor17_temporal_ordered),
        cmocka_unit_test(test_cor18_value_sum),
        cmocka_unit_test(test_cor19_value_avg),
        cmocka_unit_test(test_cor20_value_percentile),
        cmocka_unit_test(test_cor11_range_gt_lte),
        cmocka_unit_test(test_cor11_eq_and_neq),
        cmocka_unit_test(test_cor11_lt_evaluated_at_window_close),
        cmocka_unit_test(test_cor15_value_count_lte_consecutive_windows),
        cmocka_unit_test(test_cor10_burst_across_clock_boundary_fires),
        cmocka_unit_test(test_cor26_reset_after_fire),
        cmocka_unit_test(test_cor14_event_matched_by_two_rules_counts_once),
        cmocka_unit_test(test_cor23_aliases_group_by_different_fields),
        cmocka_unit_test(test_cor07_missing_group_by_field_skipped),
        cmocka_unit_test(test_cor24_generate_flags),
        cmocka_unit_test(test_cor05_chained_correlation),
        cmocka_unit_test(test_cor10_out_of_order_within_lateness),
        cmocka_unit_test(test_cor10_late_event_dead_lettered),
        cmocka_unit_test(test_cor10_streams_have_their_own_watermarks),
        cmocka_unit_test(test_cor02_unknown_type),
        cmocka_unit_test(test_cor03_unresolvable_rule),
        cmocka_unit_test(test_cor09_bad_timespan),
        cmocka_unit_test(test_cor12_value_count_needs_field),
        cmocka_unit_test(test_cor23_alias_without_entry),
        cmocka_unit_test(test_cor05_cycle),
        cmocka_unit_test(test_fixtures_load),
        cmocka_unit_test(test_cor27_memory_state_expires),
        cmocka_unit_test(test_lateness_zero_is_strict),
        cmocka_unit_test(test_memory_state_dir_continues_windows),
        cmocka_unit_test(test_memory_state_dir_refuses_other_rules_and_damage),
        cmocka_unit_test(test_memory_rebind_keeps_unchanged_state),
        cmocka_unit_test(test_memory_group_cap),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    stop_redis();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_root);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", g_root);
    return rc;
}
