/* diag.h - diagnostics (errors and warnings) with file:line:column, collected while
 * loading rules, mappings and config. Start-up only; not thread-safe. */
#ifndef HM_DIAG_H
#define HM_DIAG_H

#include <stdio.h>

#include "hm.h"

typedef enum { HM_DIAG_ERROR = 0, HM_DIAG_WARNING = 1 } hm_diag_sev;

typedef struct hm_diag {
    hm_diag_sev sev;
    char *file;
    int line, col;
    char *rule; /* rule id or title, may be NULL */
    char *code; /* short stable code, e.g. "unknown-modifier" */
    char *msg;
} hm_diag;

typedef struct hm_diags {
    hm_diag *v;
    size_t n, cap;
    size_t errors, warnings;
} hm_diags;

void hm_diags_add(hm_diags *d, hm_diag_sev sev, const char *file, int line, int col,
                  const char *rule, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
void hm_diags_free(hm_diags *d);
/* "file:line:col: error: msg [code] (rule X)" per line. */
void hm_diags_print_text(const hm_diags *d, FILE *f);
/* One JSON object per diagnostic, in a JSON array. */
void hm_diags_print_json(const hm_diags *d, FILE *f);

#endif
