#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>

#include "arena.h"

void hm_diags_add(hm_diags *d, hm_diag_sev sev, const char *file, int line, int col,
                  const char *rule, const char *code, const char *fmt, ...) {
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->v = hm_xrealloc(d->v, d->cap * sizeof(*d->v));
    }
    hm_diag *g = &d->v[d->n++];
    g->sev = sev;
    g->file = file ? hm_xstrdup(file) : NULL;
    g->line = line;
    g->col = col;
    g->rule = rule ? hm_xstrdup(rule) : NULL;
    g->code = hm_xstrdup(code ? code : "error");
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    g->msg = hm_xstrdup(buf);
    if (sev == HM_DIAG_ERROR)
        d->errors++;
    else
        d->warnings++;
}

void hm_diags_free(hm_diags *d) {
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].file);
        free(d->v[i].rule);
        free(d->v[i].code);
        free(d->v[i].msg);
    }
    free(d->v);
    memset(d, 0, sizeof(*d));
}

void hm_diags_print_text(const hm_diags *d, FILE *f) {
    for (size_t i = 0; i < d->n; i++) {
        const hm_diag *g = &d->v[i];
        fprintf(f, "%s:%d:%d: %s: %s [%s]", g->file ? g->file : "-", g->line, g->col,
                g->sev == HM_DIAG_ERROR ? "error" : "warning", g->msg, g->code);
        if (g->rule) fprintf(f, " (rule %s)", g->rule);
        fputc('\n', f);
    }
}

static void put_json_str(FILE *f, const char *s) {
    hm_buf b = {0};
    if (!s) {
        fputs("null", f);
        return;
    }
    hm_buf_putc(&b, '"');
    hm_buf_put_json_escaped(&b, s, strlen(s));
    hm_buf_putc(&b, '"');
    fwrite(b.p, 1, b.len, f);
    hm_buf_free(&b);
}

void hm_diags_print_json(const hm_diags *d, FILE *f) {
    fputs("[", f);
    for (size_t i = 0; i < d->n; i++) {
        const hm_diag *g = &d->v[i];
        fputs(i ? ",\n {" : "\n {", f);
        fputs("\"severity\":", f);
        put_json_str(f, g->sev == HM_DIAG_ERROR ? "error" : "warning");
        fputs(",\"file\":", f);
        put_json_str(f, g->file);
        fprintf(f, ",\"line\":%d,\"column\":%d,\"code\":", g->line, g->col);
        put_json_str(f, g->code);
        fputs(",\"rule\":", f);
        put_json_str(f, g->rule);
        fputs(",\"message\":", f);
        put_json_str(f, g->msg);
        fputs("}", f);
    }
    fputs(d->n ? "\n]\n" : "]\n", f);
}
