/* sigma_yara.c - the `yara` modifier (a documented extension, docs/sigma.md): a rule
 * value `Field|yara: RuleName` is true when the YARA rule RuleName (from the YARA folder)
 * matches the field's bytes. Rules are compiled once and shared read-only; each worker
 * has its own YR_SCANNER with a timeout. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <yara.h>

#include "sigma_int.h"

typedef struct yara_state {
    YR_RULES *rules;
} yara_state;

static int g_yara_inited = 0;

typedef struct cerr_ctx {
    hm_diags *d;
    const char *file;
    int errors;
} cerr_ctx;

static void on_compile_msg(int level, const char *file, int line, const YR_RULE *rule,
                           const char *msg, void *ud) {
    (void)rule;
    cerr_ctx *c = ud;
    hm_diags_add(c->d, level == YARA_ERROR_LEVEL_ERROR ? HM_DIAG_ERROR : HM_DIAG_WARNING,
                 file ? file : c->file, line, 1, NULL, "yara", "%s", msg);
    if (level == YARA_ERROR_LEVEL_ERROR) c->errors++;
}

int sg_yara_load(hm_ruleset *rs, const char *dir, hm_diags *d, char ***names_out, size_t *n_out) {
    *names_out = NULL;
    *n_out = 0;
    if (!g_yara_inited) {
        if (yr_initialize() != ERROR_SUCCESS) {
            hm_diags_add(d, HM_DIAG_ERROR, dir, 0, 0, NULL, "yara", "cannot initialize libyara");
            return HM_ERR;
        }
        g_yara_inited = 1;
    }
    DIR *dh = opendir(dir);
    if (!dh) {
        hm_diags_add(d, HM_DIAG_ERROR, dir, 0, 0, NULL, "yara", "cannot open YARA folder");
        return HM_ERR;
    }
    YR_COMPILER *comp;
    if (yr_compiler_create(&comp) != ERROR_SUCCESS) {
        closedir(dh);
        return HM_ENOMEM;
    }
    cerr_ctx cc = {d, NULL, 0};
    yr_compiler_set_callback(comp, on_compile_msg, &cc);
    struct dirent *de;
    char **files = NULL;
    size_t nf = 0;
    while ((de = readdir(dh))) {
        size_t l = strlen(de->d_name);
        if ((l > 4 && !strcmp(de->d_name + l - 4, ".yar")) ||
            (l > 5 && !strcmp(de->d_name + l - 5, ".yara"))) {
            files = hm_xrealloc(files, (nf + 1) * sizeof(char *));
            files[nf++] = hm_xstrdup(de->d_name);
        }
    }
    closedir(dh);
    for (size_t i = 0; i + 1 < nf; i++)
        for (size_t j = i + 1; j < nf; j++)
            if (strcmp(files[i], files[j]) > 0) {
                char *t = files[i];
                files[i] = files[j];
                files[j] = t;
            }
    for (size_t i = 0; i < nf; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        FILE *f = fopen(path, "r");
        if (f) {
            cc.file = path;
            yr_compiler_add_file(comp, f, NULL, path);
            fclose(f);
        }
        free(files[i]);
    }
    free(files);
    if (cc.errors) {
        yr_compiler_destroy(comp);
        return HM_ERR;
    }
    yara_state *ys = hm_xcalloc(1, sizeof(*ys));
    if (yr_compiler_get_rules(comp, &ys->rules) != ERROR_SUCCESS) {
        free(ys);
        yr_compiler_destroy(comp);
        return HM_ERR;
    }
    yr_compiler_destroy(comp);
    rs->yara_rules = ys;
    const YR_RULE *rule;
    char **names = NULL;
    size_t n = 0;
    yr_rules_foreach(ys->rules, rule) {
        names = hm_xrealloc(names, (n + 1) * sizeof(char *));
        names[n++] = hm_xstrdup(rule->identifier);
    }
    *names_out = names;
    *n_out = n;
    return HM_OK;
}

void sg_yara_free(hm_ruleset *rs) {
    yara_state *ys = rs->yara_rules;
    if (!ys) return;
    yr_rules_destroy(ys->rules);
    free(ys);
    rs->yara_rules = NULL;
}

typedef struct ymatch {
    const char *want;
    bool hit;
} ymatch;

static int scan_cb(YR_SCAN_CONTEXT *ctx, int message, void *data, void *ud) {
    (void)ctx;
    if (message == CALLBACK_MSG_RULE_MATCHING) {
        ymatch *m = ud;
        const YR_RULE *r = data;
        if (!strcmp(r->identifier, m->want)) {
            m->hit = true;
            return CALLBACK_ABORT;
        }
    }
    return CALLBACK_CONTINUE;
}

void *sg_yara_scanner_new(const hm_ruleset *rs) {
    yara_state *ys = rs->yara_rules;
    if (!ys) return NULL;
    YR_SCANNER *sc;
    if (yr_scanner_create(ys->rules, &sc) != ERROR_SUCCESS) return NULL;
    yr_scanner_set_timeout(sc, 1);
    yr_scanner_set_flags(sc, SCAN_FLAGS_FAST_MODE);
    return sc;
}

void sg_yara_scanner_free(void *s) {
    if (s) yr_scanner_destroy(s);
}

/* hm_detector's first fields are private; the scanner pointer is passed via accessor */
void *sg_detector_yara(struct hm_detector *d);

bool sg_yara_match(struct hm_detector *d, const sg_pred *p, hm_str v) {
    YR_SCANNER *sc = sg_detector_yara(d);
    if (!sc) return false;
    ymatch m = {p->yara_rule, false};
    yr_scanner_set_callback(sc, scan_cb, &m);
    int rc = yr_scanner_scan_mem(sc, (const uint8_t *)(v.p ? v.p : ""), v.len);
    /* a timeout or too many matches degrades this one event: counted as no match */
    (void)rc;
    return m.hit;
}

/* For the reference evaluator (no detector): a one-off scan of the shared rules with the
 * same flags and timeout as the per-worker scanner. */
bool sg_yara_match_ref(const hm_ruleset *rs, const sg_pred *p, hm_str v) {
    yara_state *ys = rs->yara_rules;
    if (!ys) return false;
    ymatch m = {p->yara_rule, false};
    yr_rules_scan_mem(ys->rules, (const uint8_t *)(v.p ? v.p : ""), v.len, SCAN_FLAGS_FAST_MODE,
                      scan_cb, &m, 1);
    return m.hit;
}
