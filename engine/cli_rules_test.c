/* cli_rules_test.c - `hallmonitor rules test` and `hallmonitor rules explain`: the rule
 * author's workflow (docs/rule-testing.md).
 *
 * `rules test` runs the test cases stored beside rules (`<rule>.test.yml`, or a `tests/`
 * folder) through the same steps as the pipeline: raw lines are decoded by the real decoders
 * (or normalized events are built from maps), every event goes through the compiled matcher
 * AND the reference evaluator (they must agree), matches feed a fresh in-memory correlator,
 * and the alerts of the rules under test are compared with the case's expectation. On a
 * failure it prints what was expected, what fired, the decoded fields of every input and,
 * for the rules involved, which selections matched and why (the `rules explain` view).
 *
 * Start-up style code (one thread, runs once): clarity over speed. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "correlate.h"
#include "decode.h"
#include "sigma_int.h"
#include "yamltree.h"

bool sg_str_match(const sg_pred *p, hm_str v);                            /* sigma_ref.c */
bool sg_yara_match_ref(const hm_ruleset *rs, const sg_pred *p, hm_str v); /* sigma_yara.c */

int hm_cmd_rules_test(int argc, char **argv);
int hm_cmd_rules_explain(int argc, char **argv);

#define DEFAULT_YEAR 2024
/* events without `time:` start here (a school Monday, midday, district time) */
#define DEFAULT_START_Y      2024
#define DEFAULT_START_M      3
#define DEFAULT_START_D      11
#define DEFAULT_START_H      12
#define MAX_EXPLAIN_PER_CASE 12
#define MAX_INPUTS_SHOWN     60

/* ------------------------------------------------------------------ small helpers */

typedef struct strv {
    char **v;
    size_t n, cap;
} strv;

static void sv_add(strv *s, char *owned) {
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = hm_xrealloc(s->v, s->cap * sizeof(char *));
    }
    s->v[s->n++] = owned;
}
static void sv_free(strv *s) {
    for (size_t i = 0; i < s->n; i++) free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof(*s));
}
static bool sv_has(const strv *s, const char *x) {
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], x)) return true;
    return false;
}

static bool ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}
static bool is_yaml_name(const char *s) {
    return ends_with(s, ".yml") || ends_with(s, ".yaml");
}
static bool is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}
static bool is_file(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}
static char *real_or_dup(const char *p) {
    char *r = realpath(p, NULL);
    return r ? r : hm_xstrdup(p);
}
static char *dir_of(const char *p) {
    const char *sl = strrchr(p, '/');
    if (!sl) return hm_xstrdup(".");
    if (sl == p) return hm_xstrdup("/");
    return hm_xstrndup(p, (size_t)(sl - p));
}
static const char *base_of(const char *p) {
    const char *sl = strrchr(p, '/');
    return sl ? sl + 1 : p;
}
static char *path_join(const char *a, const char *b) {
    if (!strcmp(a, ".")) return hm_xstrdup(b);
    size_t n = strlen(a) + strlen(b) + 2;
    char *r = hm_xmalloc(n);
    snprintf(r, n, "%s/%s", a, b);
    return r;
}
/* true when path (real) is root (real) or inside it */
static bool path_under(const char *path, const char *root) {
    size_t n = strlen(root);
    if (strncmp(path, root, n)) return false;
    return path[n] == 0 || path[n] == '/' || (n && root[n - 1] == '/');
}

/* a value for humans: quoted, escaped, truncated */
static void put_shown(hm_buf *b, const char *p, size_t n, size_t maxlen) {
    hm_buf_putc(b, '"');
    size_t shown = n > maxlen ? maxlen : n;
    for (size_t i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\') {
            hm_buf_putc(b, '\\');
            hm_buf_putc(b, (char)c);
        } else if (c == '\n')
            hm_buf_puts(b, "\\n");
        else if (c == '\t')
            hm_buf_puts(b, "\\t");
        else if (c == '\r')
            hm_buf_puts(b, "\\r");
        else if (c < 0x20 || c == 0x7f)
            hm_buf_printf(b, "\\x%02x", c);
        else
            hm_buf_putc(b, (char)c);
    }
    hm_buf_putc(b, '"');
    if (shown < n) hm_buf_printf(b, "...(%zu bytes)", n);
}
static void put_indent(hm_buf *b, int n) {
    for (int i = 0; i < n; i++) hm_buf_putc(b, ' ');
}

/* ------------------------------------------------------------------ explain */

static bool x_field(const hm_ruleset *rs, const hm_event *ev, int field, hm_str *v) {
    return sg_field_value(rs, ev, field, NULL, NULL, v);
}

/* local time part (for display), like sg_eval_timepart */
static bool x_timepart(const hm_ruleset *rs, const sg_pred *p, const hm_event *ev, hm_str v,
                       bool is_time, double *out) {
    int64_t ns;
    if (is_time) {
        ns = ev->ts_ns;
    } else {
        bool zone;
        if (!hm_parse_iso8601(v.p, v.len, &ns, &zone)) return false;
        if (!zone && rs->tz) ns = hm_tz_local_to_utc(rs->tz, ns / 1000000000LL) * 1000000000LL;
    }
    int64_t s = ns / 1000000000LL;
    if (ns < 0 && ns % 1000000000LL) s--;
    if (rs->tz) s += hm_tz_offset_at_utc(rs->tz, s);
    int64_t days = s / 86400, rem = s % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int y;
    unsigned mo, d;
    hm_civil_from_days(days, &y, &mo, &d);
    switch (p->tpart) {
    case SG_TP_MINUTE:
        *out = (double)(rem / 60 % 60);
        break;
    case SG_TP_HOUR:
        *out = (double)(rem / 3600);
        break;
    case SG_TP_DAY:
        *out = d;
        break;
    case SG_TP_MONTH:
        *out = mo;
        break;
    case SG_TP_YEAR:
        *out = y;
        break;
    case SG_TP_WEEKDAY:
        *out = (double)((days % 7 + 7 + 3) % 7 + 1);
        break;
    default: {
        int64_t wd = (days % 7 + 7 + 3) % 7;
        int64_t thursday = days - wd + 3;
        int ty;
        unsigned tm, td;
        hm_civil_from_days(thursday, &ty, &tm, &td);
        *out = (double)((thursday - hm_days_from_civil(ty, 1, 1)) / 7 + 1);
    }
    }
    return true;
}

/* the reference semantics (sigma_ref.c), one predicate */
static bool x_pred(const hm_ruleset *rs, const hm_event *ev, const sg_pred *p) {
    hm_str v;
    bool has = x_field(rs, ev, p->field, &v);
    switch (p->kind) {
    case SG_P_NULL:
        return !has;
    case SG_P_EXISTS:
    case SG_P_PRESENT:
        return has;
    case SG_P_EMPTY:
        return has && v.len == 0;
    case SG_P_STR:
        return has && sg_str_match(p, v);
    case SG_P_REGEX: {
        if (!has) return false;
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(p->re, NULL);
        int rc = pcre2_match(p->re, (PCRE2_SPTR)(v.p ? v.p : ""), v.len, 0, 0, md, NULL);
        pcre2_match_data_free(md);
        return rc >= 0;
    }
    case SG_P_CIDR:
        return has && sg_eval_cidr(p, v);
    case SG_P_NUM:
        return has && sg_eval_num(p, v);
    case SG_P_TIMEPART:
        return has && sg_eval_timepart(rs, p, ev, v, rs->fields[p->field].tax == SG_F_TIME);
    case SG_P_FIELDREF: {
        hm_str w;
        if (!has || !x_field(rs, ev, p->field2, &w)) return false;
        sg_pred tmp = *p;
        tmp.val = (char *)w.p;
        tmp.vlen = w.len;
        return sg_str_match(&tmp, v);
    }
    case SG_P_YARA:
        return has && sg_yara_match_ref(rs, p, v);
    }
    return false;
}

static bool x_node(const hm_ruleset *rs, const hm_event *ev, uint32_t n) {
    const sg_node *nd = &rs->nodes[n];
    switch (nd->kind) {
    case SG_N_PRED:
        return x_pred(rs, ev, &rs->preds[nd->pred]);
    case SG_N_TRUE:
        return true;
    case SG_N_FALSE:
        return false;
    case SG_N_NOT:
        return !x_node(rs, ev, rs->kids[nd->kid0]);
    case SG_N_AND:
        for (uint32_t i = 0; i < nd->nkids; i++)
            if (!x_node(rs, ev, rs->kids[nd->kid0 + i])) return false;
        return true;
    default:
        for (uint32_t i = 0; i < nd->nkids; i++)
            if (x_node(rs, ev, rs->kids[nd->kid0 + i])) return true;
        return false;
    }
}

static const char *field_label(const hm_ruleset *rs, int field) {
    const sg_field *f = &rs->fields[field];
    if (f->tax == SG_F_RAW) return "keywords (raw record)";
    return f->name && f->name[0] ? f->name : "(raw record)";
}

static const char *cmp_name(uint8_t c) {
    static const char *const n[] = {"lt", "lte", "gt", "gte", "=="};
    return c <= SG_CMP_EQ ? n[c] : "?";
}
static const char *tpart_name(uint8_t t) {
    static const char *const n[] = {"minute", "hour", "day", "week", "month", "year", "weekday"};
    return t <= SG_TP_WEEKDAY ? n[t] : "?";
}
static const char *match_name(uint8_t m) {
    switch (m) {
    case SG_M_EXACT:
        return "equals";
    case SG_M_CONTAINS:
        return "contains";
    case SG_M_STARTS:
        return "startswith";
    case SG_M_ENDS:
        return "endswith";
    default:
        return "matches";
    }
}

/* the operator of a predicate ("contains", "re", "cidr", "gte"...) */
static void put_pred_op(hm_buf *b, const sg_pred *p) {
    switch (p->kind) {
    case SG_P_STR:
        hm_buf_puts(b, match_name(p->match));
        break;
    case SG_P_REGEX:
        hm_buf_puts(b, "re");
        break;
    case SG_P_CIDR:
        hm_buf_puts(b, "cidr");
        break;
    case SG_P_NUM:
        hm_buf_puts(b, cmp_name(p->cmp));
        break;
    case SG_P_EXISTS:
        hm_buf_puts(b, "exists");
        break;
    case SG_P_NULL:
        hm_buf_puts(b, "is null (absent)");
        break;
    case SG_P_EMPTY:
        hm_buf_puts(b, "is empty ''");
        break;
    case SG_P_PRESENT:
        hm_buf_puts(b, "is present (any value)");
        break;
    case SG_P_FIELDREF:
        hm_buf_printf(b, "%s field", match_name(p->match));
        break;
    case SG_P_TIMEPART:
        hm_buf_printf(b, "%s %s", tpart_name(p->tpart), cmp_name(p->cmp));
        break;
    case SG_P_YARA:
        hm_buf_puts(b, "yara");
        break;
    }
    if (p->cased && (p->kind == SG_P_STR || p->kind == SG_P_FIELDREF)) hm_buf_puts(b, "|cased");
}

/* the operand of a predicate; empty for kinds without one */
static void put_pred_val(hm_buf *b, const hm_ruleset *rs, const sg_pred *p) {
    switch (p->kind) {
    case SG_P_STR:
        if (p->wild) {
            hm_buf_putc(b, '"');
            for (size_t i = 0; i < p->vlen; i++) {
                if (p->wild[i] == 1)
                    hm_buf_putc(b, '*');
                else if (p->wild[i] == 2)
                    hm_buf_putc(b, '?');
                else {
                    char c = p->val[i];
                    if (c == '*' || c == '?' || c == '\\' || c == '"') hm_buf_putc(b, '\\');
                    if ((unsigned char)c < 0x20)
                        hm_buf_printf(b, "\\x%02x", (unsigned char)c);
                    else
                        hm_buf_putc(b, c);
                }
            }
            hm_buf_putc(b, '"');
        } else {
            put_shown(b, p->val ? p->val : "", p->vlen, 200);
        }
        break;
    case SG_P_REGEX:
        hm_buf_putc(b, '/');
        hm_buf_puts(b, p->val ? p->val : "");
        hm_buf_putc(b, '/');
        if (!p->cased) hm_buf_putc(b, 'i');
        if (p->re_flags & PCRE2_MULTILINE) hm_buf_putc(b, 'm');
        if (p->re_flags & PCRE2_DOTALL) hm_buf_putc(b, 's');
        break;
    case SG_P_CIDR: {
        char a[INET6_ADDRSTRLEN];
        inet_ntop(p->family == 6 ? AF_INET6 : AF_INET, p->addr, a, sizeof a);
        hm_buf_printf(b, "%s/%d", a, p->prefix);
        break;
    }
    case SG_P_NUM:
    case SG_P_TIMEPART:
        hm_buf_printf(b, "%g", p->num);
        break;
    case SG_P_FIELDREF:
        hm_buf_puts(b, field_label(rs, p->field2));
        break;
    case SG_P_YARA:
        hm_buf_puts(b, p->yara_rule ? p->yara_rule : "?");
        break;
    default:
        break;
    }
}

static void put_seen(hm_buf *b, const hm_ruleset *rs, const hm_event *ev, int field) {
    const sg_field *f = &rs->fields[field];
    hm_buf_puts(b, field_label(rs, field));
    if (f->tax == SG_F_TIME) {
        hm_buf_puts(b, " = ");
        hm_buf_put_time(b, ev->ts_ns);
        return;
    }
    hm_str v;
    if (!x_field(rs, ev, field, &v)) {
        hm_buf_puts(b, " (absent)");
        return;
    }
    hm_buf_puts(b, " = ");
    put_shown(b, v.p ? v.p : "", v.len, f->tax == SG_F_RAW ? 160 : 120);
}

/* A node that fits one line: a predicate, or a value list (AND/OR of predicates on one field). */
static bool x_compact(const hm_ruleset *rs, uint32_t n) {
    const sg_node *nd = &rs->nodes[n];
    if (nd->kind == SG_N_PRED) return true;
    if (nd->kind != SG_N_AND && nd->kind != SG_N_OR) return false;
    int field = -2;
    for (uint32_t i = 0; i < nd->nkids; i++) {
        const sg_node *k = &rs->nodes[rs->kids[nd->kid0 + i]];
        if (k->kind != SG_N_PRED) return false;
        int f = rs->preds[k->pred].field;
        if (field != -2 && f != field) return false;
        field = f;
    }
    return nd->nkids > 0;
}

/* one line: "<result> <field> = <seen>  <op> <value>  (line N)" */
/* " (local hour is 22)" for a time-part predicate */
static void put_local_part(hm_buf *b, const hm_ruleset *rs, const hm_event *ev, const sg_pred *p) {
    hm_str v = {0};
    double part;
    bool is_time = rs->fields[p->field].tax == SG_F_TIME;
    if ((is_time || x_field(rs, ev, p->field, &v)) && x_timepart(rs, p, ev, v, is_time, &part))
        hm_buf_printf(b, " (local %s is %g)", tpart_name(p->tpart), part);
}

static void x_line(hm_buf *b, const hm_ruleset *rs, const hm_event *ev, uint32_t n, int indent,
                   bool negate, const char *tag) {
    const sg_node *nd = &rs->nodes[n];
    bool res = x_node(rs, ev, n);
    if (negate) res = !res;
    put_indent(b, indent);
    hm_buf_puts(b, res ? "true   " : "false  ");
    const sg_pred *p0 = nd->kind == SG_N_PRED ? &rs->preds[nd->pred]
                                              : &rs->preds[rs->nodes[rs->kids[nd->kid0]].pred];
    put_seen(b, rs, ev, p0->field);
    hm_buf_puts(b, "  ");
    if (negate) hm_buf_puts(b, "not ");
    if (nd->kind == SG_N_PRED) {
        put_pred_op(b, p0);
        if (p0->kind != SG_P_EXISTS && p0->kind != SG_P_NULL && p0->kind != SG_P_EMPTY &&
            p0->kind != SG_P_PRESENT) {
            hm_buf_putc(b, ' ');
            put_pred_val(b, rs, p0);
        }
        if (p0->kind == SG_P_TIMEPART) put_local_part(b, rs, ev, p0);
        if (p0->kind == SG_P_FIELDREF) {
            hm_buf_puts(b, " (");
            put_seen(b, rs, ev, p0->field2);
            hm_buf_putc(b, ')');
        }
    } else {
        /* same operator for every value? */
        bool same = true;
        for (uint32_t i = 1; i < nd->nkids; i++) {
            const sg_pred *p = &rs->preds[rs->nodes[rs->kids[nd->kid0 + i]].pred];
            if (p->kind != p0->kind || p->match != p0->match || p->cased != p0->cased ||
                p->cmp != p0->cmp)
                same = false;
        }
        if (same) {
            put_pred_op(b, p0);
            hm_buf_putc(b, ' ');
        }
        hm_buf_puts(b, nd->kind == SG_N_AND ? "all of [" : "any of [");
        uint32_t shown = nd->nkids > 8 ? 6 : nd->nkids;
        for (uint32_t i = 0; i < shown; i++) {
            const sg_pred *p = &rs->preds[rs->nodes[rs->kids[nd->kid0 + i]].pred];
            if (i) hm_buf_puts(b, ", ");
            if (!same) {
                put_pred_op(b, p);
                hm_buf_putc(b, ' ');
            }
            put_pred_val(b, rs, p);
        }
        if (shown < nd->nkids) hm_buf_printf(b, ", ... %u more", nd->nkids - shown);
        hm_buf_putc(b, ']');
        if (nd->kind == SG_N_OR && x_node(rs, ev, n) && nd->nkids > 1) {
            for (uint32_t i = 0; i < nd->nkids; i++) {
                const sg_pred *p = &rs->preds[rs->nodes[rs->kids[nd->kid0 + i]].pred];
                if (x_pred(rs, ev, p)) {
                    hm_buf_puts(b, " (matched ");
                    if (!same) {
                        put_pred_op(b, p);
                        hm_buf_putc(b, ' ');
                    }
                    put_pred_val(b, rs, p);
                    hm_buf_putc(b, ')');
                    break;
                }
            }
        } else if (nd->kind == SG_N_AND && !x_node(rs, ev, n) && nd->nkids > 1) {
            for (uint32_t i = 0; i < nd->nkids; i++) {
                const sg_pred *p = &rs->preds[rs->nodes[rs->kids[nd->kid0 + i]].pred];
                if (!x_pred(rs, ev, p)) {
                    hm_buf_puts(b, " (missing ");
                    if (!same) {
                        put_pred_op(b, p);
                        hm_buf_putc(b, ' ');
                    }
                    put_pred_val(b, rs, p);
                    hm_buf_putc(b, ')');
                    break;
                }
            }
        }
    }
    if (nd->kind != SG_N_PRED) { /* time parts of a list: each distinct part once */
        uint32_t seen_parts = 0;
        for (uint32_t i = 0; i < nd->nkids; i++) {
            const sg_pred *p = &rs->preds[rs->nodes[rs->kids[nd->kid0 + i]].pred];
            if (p->kind != SG_P_TIMEPART || (seen_parts >> p->tpart & 1)) continue;
            seen_parts |= 1u << p->tpart;
            put_local_part(b, rs, ev, p);
        }
    }
    if (p0->line) hm_buf_printf(b, "  (%s %d)", tag, p0->line);
    hm_buf_putc(b, '\n');
}

static void x_tree(hm_buf *b, const hm_ruleset *rs, const hm_event *ev, uint32_t n, int indent,
                   int depth, const char *tag) {
    const sg_node *nd = &rs->nodes[n];
    if (depth > 12) {
        put_indent(b, indent);
        hm_buf_puts(b, "...\n");
        return;
    }
    if (x_compact(rs, n)) {
        x_line(b, rs, ev, n, indent, false, tag);
        return;
    }
    if (nd->kind == SG_N_NOT && x_compact(rs, rs->kids[nd->kid0])) {
        x_line(b, rs, ev, rs->kids[nd->kid0], indent, true, tag);
        return;
    }
    bool res = x_node(rs, ev, n);
    put_indent(b, indent);
    hm_buf_puts(b, res ? "true   " : "false  ");
    switch (nd->kind) {
    case SG_N_TRUE:
        hm_buf_puts(b, "(always true)\n");
        return;
    case SG_N_FALSE:
        hm_buf_puts(b, "(always false)\n");
        return;
    case SG_N_NOT:
        hm_buf_puts(b, "not:\n");
        break;
    case SG_N_AND:
        hm_buf_puts(b, "all of:\n");
        break;
    default:
        hm_buf_puts(b, "any of:\n");
        break;
    }
    for (uint32_t i = 0; i < nd->nkids; i++)
        x_tree(b, rs, ev, rs->kids[nd->kid0 + i], indent + 4, depth + 1, tag);
}

static int sel_of_node(const sg_rule *r, uint32_t n) {
    for (size_t k = 0; k < r->meta.n_selections; k++)
        if (r->sel_roots[k] == n) return (int)k;
    return -1;
}

/* condition as an expression of search identifiers: prec 1 or, 2 and, 3 not/atom */
static void x_expr(hm_buf *b, const hm_ruleset *rs, const sg_rule *r, uint32_t n, int parent_prec,
                   int depth) {
    int s = sel_of_node(r, n);
    if (s >= 0) {
        hm_buf_puts(b, r->meta.selection_names[s]);
        return;
    }
    const sg_node *nd = &rs->nodes[n];
    if (depth > 16) {
        hm_buf_puts(b, "...");
        return;
    }
    switch (nd->kind) {
    case SG_N_TRUE:
        hm_buf_puts(b, "true");
        return;
    case SG_N_FALSE:
        hm_buf_puts(b, "false");
        return;
    case SG_N_PRED:
        hm_buf_puts(b, "(item)");
        return;
    case SG_N_NOT:
        hm_buf_puts(b, "not ");
        x_expr(b, rs, r, rs->kids[nd->kid0], 3, depth + 1);
        return;
    default: {
        int prec = nd->kind == SG_N_AND ? 2 : 1;
        if (prec < parent_prec) hm_buf_putc(b, '(');
        for (uint32_t i = 0; i < nd->nkids; i++) {
            if (i) hm_buf_puts(b, prec == 2 ? " and " : " or ");
            x_expr(b, rs, r, rs->kids[nd->kid0 + i], prec, depth + 1);
        }
        if (prec < parent_prec) hm_buf_putc(b, ')');
    }
    }
}

static bool ls_ok(const char *rule_v, const hm_event *ev, hm_field_id f) {
    if (!rule_v) return true;
    return hm_ev_has(ev, f) && hm_str_eq_c(ev->f[f], rule_v);
}

/* The explanation of one detection rule on one event. Returns whether the rule matches
 * (logsource and condition), by the reference semantics. */
static bool explain_rule(hm_buf *b, const hm_ruleset *rs, uint32_t ri, const hm_event *ev,
                         int indent) {
    const sg_rule *r = &rs->rules[ri];
    const hm_rule_meta *m = &r->meta;
    bool ls = true;
    const char *lsv[3] = {m->ls_product, m->ls_category, m->ls_service};
    const char *lsn[3] = {"product", "category", "service"};
    hm_field_id lsf[3] = {HM_F_PRODUCT, HM_F_CATEGORY, HM_F_SERVICE};
    bool any_ls = false;
    for (int i = 0; i < 3; i++) {
        if (!lsv[i]) continue;
        if (!any_ls) {
            put_indent(b, indent);
            hm_buf_puts(b, "logsource:");
        }
        any_ls = true;
        bool ok = ls_ok(lsv[i], ev, lsf[i]);
        ls = ls && ok;
        hm_buf_printf(b, " %s=%s (event: ", lsn[i], lsv[i]);
        if (hm_ev_has(ev, lsf[i]))
            put_shown(b, ev->f[lsf[i]].p, ev->f[lsf[i]].len, 60);
        else
            hm_buf_puts(b, "absent");
        hm_buf_puts(b, ok ? ") ok" : ") DIFFERS");
    }
    if (any_ls) hm_buf_puts(b, ls ? "\n" : "  -> the rule does not apply to this event\n");
    for (size_t k = 0; k < m->n_selections; k++) {
        put_indent(b, indent);
        uint32_t sr = r->sel_roots[k];
        /* meta filters live in other files: their line numbers are not the rule's */
        const char *tag =
            strncmp(m->selection_names[k], "filter", 6) == 0 && strchr(m->selection_names[k], ':')
                ? "filter file line"
                : "line";
        const sg_node *sn = &rs->nodes[sr];
        bool all_items = sn->kind == SG_N_AND && !x_compact(rs, sr);
        hm_buf_printf(b, "%s: %s%s\n", m->selection_names[k], x_node(rs, ev, sr) ? "true" : "false",
                      all_items ? " (all of)" : "");
        if (all_items)
            for (uint32_t i = 0; i < sn->nkids; i++)
                x_tree(b, rs, ev, rs->kids[sn->kid0 + i], indent + 2, 1, tag);
        else
            x_tree(b, rs, ev, sr, indent + 2, 0, tag);
    }
    bool cond = x_node(rs, ev, r->root);
    put_indent(b, indent);
    hm_buf_puts(b, "condition: ");
    x_expr(b, rs, r, r->root, 0, 0);
    hm_buf_printf(b, " -> %s\n", cond ? "true" : "false");
    return ls && cond && r->enabled;
}

/* ------------------------------------------------------------------ events from maps */

typedef struct kvp {
    char *k;
    char *v;
    size_t vlen;
    bool null;
    int line, col;
} kvp;
typedef struct kvlist {
    kvp *v;
    size_t n, cap;
} kvlist;

static void kv_add(kvlist *l, const char *k, size_t kl, const char *v, size_t vl, bool null,
                   int line, int col) {
    /* a later key replaces an earlier one (case values override defaults) */
    for (size_t i = 0; i < l->n; i++)
        if (strlen(l->v[i].k) == kl && !memcmp(l->v[i].k, k, kl)) {
            free(l->v[i].v);
            l->v[i].v = null ? NULL : hm_xstrndup(v, vl);
            l->v[i].vlen = null ? 0 : vl;
            l->v[i].null = null;
            l->v[i].line = line;
            l->v[i].col = col;
            return;
        }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = hm_xrealloc(l->v, l->cap * sizeof(kvp));
    }
    kvp *p = &l->v[l->n++];
    p->k = hm_xstrndup(k, kl);
    p->v = null ? NULL : hm_xstrndup(v, vl);
    p->vlen = null ? 0 : vl;
    p->null = null;
    p->line = line;
    p->col = col;
}
static void kv_free(kvlist *l) {
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].k);
        free(l->v[i].v);
    }
    free(l->v);
    memset(l, 0, sizeof(*l));
}
static const kvp *kv_get(const kvlist *l, const char *k) {
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].k, k)) return &l->v[i];
    return NULL;
}

/* YAML map -> flat key/values: nested maps give dotted keys, lists of scalars are joined
 * with ',' (as decoders do), null = absent. */
static bool yaml_flatten(const hm_ynode *n, const char *prefix, kvlist *out, char *err,
                         size_t errlen) {
    if (n->type == HM_Y_MAP) {
        for (size_t i = 0; i < n->n; i++) {
            char key[512];
            snprintf(key, sizeof key, "%s%s%s", prefix, prefix[0] ? "." : "", n->keys[i]->str);
            if (!yaml_flatten(n->vals[i], key, out, err, errlen)) return false;
        }
        return true;
    }
    if (!prefix[0]) {
        snprintf(err, errlen, "%d:%d: an event must be a map of field: value", n->line, n->col);
        return false;
    }
    if (n->type == HM_Y_SEQ) {
        hm_buf j = {0};
        for (size_t i = 0; i < n->n; i++) {
            if (!hm_y_is_scalar(n->vals[i])) {
                snprintf(err, errlen, "%d:%d: '%s': a list value may hold only scalars",
                         n->vals[i]->line, n->vals[i]->col, prefix);
                hm_buf_free(&j);
                return false;
            }
            if (i) hm_buf_putc(&j, ',');
            hm_buf_puts(&j, n->vals[i]->str);
        }
        kv_add(out, prefix, strlen(prefix), j.p ? j.p : "", j.len, false, n->line, n->col);
        hm_buf_free(&j);
        return true;
    }
    kv_add(out, prefix, strlen(prefix), n->str, strlen(n->str), n->is_null && !n->quoted, n->line,
           n->col);
    return true;
}

/* JSON object (tokens in ctx) -> flat key/values, same rules */
static void json_flatten(hm_decode_ctx *ctx, int t, const char *prefix, kvlist *out, int depth) {
    const jsmntok_t *tk = &ctx->tok[t];
    if (tk->type == JSMN_OBJECT && depth < 16) {
        int k = t + 1;
        for (int i = 0; i < tk->size && k < ctx->ntok; i++) {
            hm_str key = hm_json_str(ctx, k);
            char kb[512];
            snprintf(kb, sizeof kb, "%s%s%.*s", prefix, prefix[0] ? "." : "", (int)key.len, key.p);
            json_flatten(ctx, k + 1, kb, out, depth + 1);
            k = hm_json_skip(ctx, k + 1);
        }
        return;
    }
    if (tk->type == JSMN_ARRAY) {
        hm_buf j = {0};
        int k = t + 1;
        for (int i = 0; i < tk->size && k < ctx->ntok; i++) {
            if (i) hm_buf_putc(&j, ',');
            hm_str v = hm_json_str(ctx, k);
            if (v.len) hm_buf_put(&j, v.p, v.len);
            k = hm_json_skip(ctx, k);
        }
        kv_add(out, prefix, strlen(prefix), j.p ? j.p : "", j.len, false, 0, 0);
        hm_buf_free(&j);
        return;
    }
    bool null = hm_json_is_null(ctx, t);
    hm_str v = hm_json_str(ctx, t);
    kv_add(out, prefix, strlen(prefix), v.p ? v.p : "", v.len, null, 0, 0);
}

/* times of inputs: RFC 3339 / ISO 8601 (zone-less = district time), "+DURATION" after the
 * previous input, or "HH:MM[:SS]" on the previous input's (local) date */
static bool parse_input_time(const char *s, const hm_tz *tz, int64_t prev_ns, int64_t *out) {
    size_t n = strlen(s);
    if (s[0] == '+') {
        int64_t d;
        if (!hm_parse_duration_ns(s + 1, &d)) return false;
        *out = prev_ns + d;
        return true;
    }
    int hh, mm, ss = 0, used = 0;
    if ((sscanf(s, "%d:%d:%d%n", &hh, &mm, &ss, &used) == 3 ||
         (ss = 0, sscanf(s, "%d:%d%n", &hh, &mm, &used) == 2)) &&
        (size_t)used == n && n <= 8 && hh >= 0 && hh < 24 && mm >= 0 && mm < 60 && ss >= 0 &&
        ss < 61) {
        int64_t ps = prev_ns / 1000000000LL;
        int64_t local = ps + hm_tz_offset_at_utc(tz, ps);
        int64_t day = local / 86400 - (local % 86400 < 0);
        *out = hm_tz_local_to_utc(tz, day * 86400 + hh * 3600 + mm * 60 + ss) * 1000000000LL;
        return true;
    }
    int64_t ns;
    bool zone;
    size_t u = hm_parse_iso8601(s, n, &ns, &zone);
    if ((!u || u != n) && n == 16 && n < 60) { /* YYYY-MM-DD HH:MM: add the seconds */
        char t[24];
        snprintf(t, sizeof t, "%s:00", s);
        u = hm_parse_iso8601(t, n + 3, &ns, &zone);
        if (u == n + 3) u = n;
    }
    if (!u || u != n) return false;
    if (!zone) {
        int64_t sec = ns / 1000000000LL, frac = ns % 1000000000LL;
        if (frac < 0) {
            frac += 1000000000LL;
            sec--;
        }
        ns = hm_tz_local_to_utc(tz, sec) * 1000000000LL + frac;
    }
    *out = ns;
    return true;
}

/* Builds a normalized event from key/values: taxonomy names set taxonomy fields (present
 * even when empty), other names become vendor fields; `time`/`@timestamp`, `raw` and
 * `decoder` are special. Strings are copied into the arena. The record gets the raw text
 * (`raw:` or the event as JSON). */
static bool build_event(hm_arena *a, const kvlist *kv, const hm_tz *tz, int64_t prev_ns,
                        int64_t dflt_ns, hm_record *rec, hm_event *ev, char *err, size_t errlen) {
    hm_ev_clear(ev);
    ev->ts_ns = dflt_ns;
    ev->decoder = (uint16_t)(hm_decoder_index("kv") >= 0 ? hm_decoder_index("kv") : 0);
    hm_decode_ctx dc = {.arena = a};
    hm_buf raw = {0};
    const kvp *rawkv = kv_get(kv, "raw");
    hm_buf_putc(&raw, '{');
    bool first = true;
    for (size_t i = 0; i < kv->n; i++) {
        const kvp *p = &kv->v[i];
        if (!strcmp(p->k, "raw")) continue;
        if (p->null) continue;
        hm_str val = hm_arena_strdup(a, p->v, p->vlen);
        if (!strcmp(p->k, "decoder")) {
            int d = hm_decoder_index(p->v);
            if (d < 0) {
                snprintf(err, errlen, "%d:%d: decoder '%s' is not a known decoder", p->line, p->col,
                         p->v);
                hm_buf_free(&raw);
                return false;
            }
            ev->decoder = (uint16_t)d;
            continue;
        }
        if (!first) hm_buf_putc(&raw, ',');
        first = false;
        hm_buf_put_json_str(&raw, hm_str_c(p->k));
        hm_buf_putc(&raw, ':');
        hm_buf_put_json_str(&raw, hm_str_n(p->v, p->vlen));
        if (!strcmp(p->k, "time") || !strcmp(p->k, "@timestamp")) {
            if (!parse_input_time(p->v, tz, prev_ns, &ev->ts_ns)) {
                snprintf(
                    err, errlen,
                    "%d:%d: time '%s': expected RFC 3339 (2024-03-11T07:30:00Z; without a zone: "
                    "district time), +DURATION (+90s, +5m) or HH:MM[:SS]",
                    p->line, p->col, p->v);
                hm_buf_free(&raw);
                return false;
            }
            continue;
        }
        int id = hm_field_lookup(p->k, strlen(p->k));
        if (id >= 0) {
            hm_ev_set(ev, (hm_field_id)id, val);
            if (id == HM_F_SRC_TYPE)
                for (int t = 0; t < HM_SRC_COUNT; t++)
                    if (!strcmp(hm_src_type_names[t], p->v)) ev->src_type = (uint8_t)t;
        } else {
            hm_dec_extra(&dc, ev, hm_arena_strdup(a, p->k, strlen(p->k)), val);
        }
    }
    hm_buf_putc(&raw, '}');
    hm_str rs = rawkv && !rawkv->null ? hm_arena_strdup(a, rawkv->v, rawkv->vlen)
                                      : hm_arena_strdup(a, raw.p, raw.len);
    hm_buf_free(&raw);
    rec->data = rs.p;
    rec->len = rs.len;
    rec->recv_ns = ev->ts_ns;
    ev->rec = rec;
    ev->recv_ns = ev->ts_ns;
    return true;
}

/* event fields as "k=v k=v" for humans */
static void put_fields(hm_buf *b, const hm_event *ev, int indent, size_t width) {
    size_t col = (size_t)indent;
    put_indent(b, indent);
    for (int i = 0; i < HM_F_COUNT; i++) {
        if (!hm_ev_has(ev, (hm_field_id)i)) continue;
        size_t before = b->len;
        hm_buf_puts(b, hm_field_names[i]);
        hm_buf_putc(b, '=');
        put_shown(b, ev->f[i].p ? ev->f[i].p : "", ev->f[i].len, 80);
        hm_buf_putc(b, ' ');
        col += b->len - before;
        if (col > width) {
            b->len--; /* the blank */
            hm_buf_putc(b, '\n');
            put_indent(b, indent);
            col = (size_t)indent;
        }
    }
    for (uint16_t i = 0; i < ev->n_extra; i++) {
        size_t before = b->len;
        if (ev->extra[i].key.len) hm_buf_put(b, ev->extra[i].key.p, ev->extra[i].key.len);
        hm_buf_putc(b, '=');
        put_shown(b, ev->extra[i].val.p ? ev->extra[i].val.p : "", ev->extra[i].val.len, 80);
        hm_buf_putc(b, ' ');
        col += b->len - before;
        if (col > width) {
            b->len--;
            hm_buf_putc(b, '\n');
            put_indent(b, indent);
            col = (size_t)indent;
        }
    }
    while (b->len && (b->p[b->len - 1] == ' ')) b->len--;
    if (b->len && b->p[b->len - 1] != '\n') hm_buf_putc(b, '\n');
}

/* ------------------------------------------------------------------ shared set-up */

typedef struct env {
    hm_ruleset *rs;
    hm_detector *det;
    const hm_field_map **maps;
    jsmntok_t *tok;
    hm_match *m1, *m2;
    size_t nmax;
    hm_tz tz; /* CLI/default zone (also the rule set's) */
    char tz_name[64];
    int year;
    char *def_yara, *def_maps;
    hm_rules_opts ropts;
} env;

static int env_tz(env *e, const char *name, const char *cmd) {
    if (hm_tz_load(&e->tz, name, 1990, 2100) != HM_OK) {
        fprintf(stderr,
                "hallmonitor rules %s: --tz %s: unknown time zone (expected Area/City, e.g. "
                "America/Chicago)\n",
                cmd, name);
        return 2;
    }
    snprintf(e->tz_name, sizeof e->tz_name, "%s", name);
    return 0;
}

static int env_maps(env *e, const char *mappings, const char *cmd) {
    char err[1024] = "";
    e->maps = hm_xcalloc(hm_decoders_count + 1, sizeof(*e->maps));
    if (!mappings) mappings = e->def_maps = hm_default_data_dir("rules/mappings");
    if (hm_field_maps_load_dir(mappings, e->maps, err, sizeof err) != HM_OK) {
        fprintf(stderr, "hallmonitor rules %s: %s\n", cmd, err);
        return 2;
    }
    e->tok = hm_xmalloc(HM_JSON_MAX_TOKENS * sizeof(jsmntok_t));
    return 0;
}

static void env_yara(env *e) {
    if (!e->ropts.yara_dir) {
        e->def_yara = hm_default_data_dir("rules/yara");
        if (access(e->def_yara, R_OK) == 0) e->ropts.yara_dir = e->def_yara;
    }
}

static void env_ready(env *e) {
    e->det = hm_detector_new(e->rs);
    e->nmax = hm_ruleset_count(e->rs) + 1;
    e->m1 = hm_xcalloc(e->nmax, sizeof(hm_match));
    e->m2 = hm_xcalloc(e->nmax, sizeof(hm_match));
}

static void env_free(env *e) {
    hm_detector_free(e->det);
    hm_ruleset_free(e->rs);
    if (e->maps) {
        hm_field_maps_free(e->maps);
        free(e->maps);
    }
    free(e->tok);
    free(e->m1);
    free(e->m2);
    hm_tz_free(&e->tz);
    free(e->def_yara);
    free(e->def_maps);
}

/* decodes one raw line with the real decoders */
static bool decode_line(env *e, hm_arena *a, const hm_time_ctx *tc, const char *line,
                        int64_t recv_ns, hm_record *rec, hm_event *ev, const char **reason) {
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
    hm_str l = hm_arena_strdup(a, line, n);
    rec->data = l.p;
    rec->len = l.len;
    rec->recv_ns = recv_ns;
    hm_decode_ctx ctx = {.arena = a, .tc = tc, .tok = e->tok};
    hm_syslog_hdr hdr;
    if (hm_decode_record(&ctx, e->maps, rec, &hdr, ev) != HM_OK) {
        *reason = ctx.reason ? ctx.reason : "not decoded";
        ev->rec = rec;
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------ rules test */

typedef struct calert {
    uint32_t rule;
    bool corr;
    int *inputs; /* 1-based input numbers */
    size_t n_inputs;
    strv other_ids; /* event ids that are not inputs (chained correlations) */
    uint64_t sel;
    strv gk, gv; /* correlation group */
    int64_t ts;
} calert;

typedef struct cinput {
    hm_record rec;
    hm_event ev;
    bool decoded;
    bool is_line;
    const char *reason;
    int yline;   /* where in the test file */
    hm_match *m; /* compiled matches */
    size_t nm;
    bool disagree;
    hm_buf feeds; /* "feeds X (group ...)" notes */
    bool late;
} cinput;

typedef struct cexp {
    long rule;   /* -1 = the rules under test */
    long alerts; /* -1 = at least one */
    const hm_ynode *group, *inputs, *selections, *node;
} cexp;

typedef struct tfile {
    char *path;
    char *rule_file; /* sibling rule file (real path) or NULL */
    hm_ydoc *docs;
    int ndocs;
} tfile;

typedef struct trun {
    env e;
    bool json;
    const char *case_filter;
    char **rule_real; /* real path of each rule's file */
    bool *covered;
    size_t passed, failed, cases_files;
    hm_buf jcases; /* JSON: case objects */
    bool jfirst;
    int64_t dflt_lateness;
    bool has_dflt_lateness;
} trun;

static void calerts_free(calert *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(v[i].inputs);
        sv_free(&v[i].other_ids);
        sv_free(&v[i].gk);
        sv_free(&v[i].gv);
    }
    free(v);
}

/* rules are shown by name when they have one (ids are often UUIDs) */
static const char *rule_label(const hm_ruleset *rs, uint32_t r) {
    const hm_rule_meta *m = hm_ruleset_rule(rs, r);
    return m->name ? m->name : m->id;
}

static const char *shown_path(const char *p) {
    while (p[0] == '.' && p[1] == '/' && p[2]) p += 2;
    return p;
}

/* rule reference (id, name) -> index, or -1 */
static long find_rule(const hm_ruleset *rs, const char *s) {
    return hm_ruleset_find(rs, s);
}

static bool key_allowed(const char *k, const char *const *allowed) {
    for (size_t i = 0; allowed[i]; i++)
        if (!strcmp(k, allowed[i])) return true;
    return false;
}

/* rule names from a scalar or a list; errors into msg */
static bool parse_rule_list(const hm_ruleset *rs, const hm_ynode *n, long **out, size_t *nout,
                            hm_buf *msg, const char *file) {
    *out = NULL;
    *nout = 0;
    if (!n) return true;
    size_t cnt = n->type == HM_Y_SEQ ? n->n : 1;
    *out = hm_xcalloc(cnt + 1, sizeof(long));
    for (size_t i = 0; i < cnt; i++) {
        const hm_ynode *x = n->type == HM_Y_SEQ ? n->vals[i] : n;
        if (!hm_y_is_scalar(x)) {
            hm_buf_printf(msg, "%s:%d:%d: rule: expected a rule id or name (or a list of them)\n",
                          file, x->line, x->col);
            return false;
        }
        long r = find_rule(rs, x->str);
        if (r < 0) {
            hm_buf_printf(msg, "%s:%d:%d: rule '%s' is not a loaded rule id or name\n", file,
                          x->line, x->col, x->str);
            return false;
        }
        (*out)[(*nout)++] = r;
    }
    return true;
}

static bool in_list(const long *v, size_t n, long x) {
    for (size_t i = 0; i < n; i++)
        if (v[i] == x) return true;
    return false;
}

/* default rules under test: the rules of the sibling rule file that emit alerts (or all of
 * them when none does) */
static void default_rules(trun *t, const char *rule_file, long **out, size_t *nout) {
    size_t nr = hm_ruleset_count(t->e.rs);
    *out = hm_xcalloc(nr + 1, sizeof(long));
    *nout = 0;
    if (!rule_file) return;
    for (int pass = 0; pass < 2 && !*nout; pass++)
        for (size_t i = 0; i < nr; i++) {
            const hm_rule_meta *m = hm_ruleset_rule(t->e.rs, i);
            if (strcmp(t->rule_real[i], rule_file)) continue;
            if (pass == 0 && !m->generate && !m->is_correlation) continue;
            (*out)[(*nout)++] = (long)i;
        }
}

static long corr_index_of_rule(const hm_ruleset *rs, uint32_t rule) {
    const hm_corr_set *set = hm_ruleset_correlations(rs);
    for (size_t k = 0; set && k < set->n; k++)
        if (set->v[k].rule == rule) return (long)k;
    return -1;
}

/* marks a tested rule, and the base rules that only feed it (generate: false) */
static void mark_covered(trun *t, uint32_t r, int depth) {
    if (depth > 8) return;
    t->covered[r] = true;
    long ci = corr_index_of_rule(t->e.rs, r);
    if (ci < 0) return;
    const hm_corr *c = &hm_ruleset_correlations(t->e.rs)->v[ci];
    for (size_t i = 0; i < c->n_refs; i++)
        if (!hm_ruleset_rule(t->e.rs, c->refs[i])->generate) mark_covered(t, c->refs[i], depth + 1);
}

/* inputs of a case, in order: items are scalars (raw lines) or maps (events) */
typedef struct initem {
    const hm_ynode *n;
    bool line;
} initem;

static bool gather_list(const hm_ynode *v, int kind, initem **items, size_t *n, size_t *cap,
                        hm_buf *msg, const char *file, const char *what) {
    if (v->type != HM_Y_SEQ) {
        hm_buf_printf(msg, "%s:%d:%d: '%s' must be a list\n", file, v->line, v->col, what);
        return false;
    }
    for (size_t i = 0; i < v->n; i++) {
        const hm_ynode *x = v->vals[i];
        bool line = x->type == HM_Y_SCALAR;
        if ((kind == 1 && !line) || (kind == 2 && x->type != HM_Y_MAP) ||
            (kind == 0 && x->type == HM_Y_SEQ)) {
            hm_buf_printf(msg, "%s:%d:%d: %s: %s\n", file, x->line, x->col, what,
                          kind == 1   ? "each line must be a string (quote it)"
                          : kind == 2 ? "each event must be a map of field: value"
                                      : "each input must be a raw line (string) or an event (map)");
            return false;
        }
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 16;
            *items = hm_xrealloc(*items, *cap * sizeof(initem));
        }
        (*items)[(*n)++] = (initem){x, line};
    }
    return true;
}

static bool gather_inputs(const hm_ynode *c, initem **items, size_t *n, hm_buf *msg,
                          const char *file) {
    size_t cap = 0;
    *items = NULL;
    *n = 0;
    for (size_t i = 0; i < c->n; i++) {
        const char *k = c->keys[i]->str;
        const hm_ynode *v = c->vals[i];
        if (!strcmp(k, "lines")) {
            if (!gather_list(v, 1, items, n, &cap, msg, file, "lines")) return false;
        } else if (!strcmp(k, "events")) {
            if (!gather_list(v, 2, items, n, &cap, msg, file, "events")) return false;
        } else if (!strcmp(k, "input")) {
            if (v->type == HM_Y_SEQ) {
                if (!gather_list(v, 0, items, n, &cap, msg, file, "input")) return false;
            } else if (v->type == HM_Y_MAP) {
                for (size_t j = 0; j < v->n; j++) {
                    const char *k2 = v->keys[j]->str;
                    if (!strcmp(k2, "lines")) {
                        if (!gather_list(v->vals[j], 1, items, n, &cap, msg, file, "lines"))
                            return false;
                    } else if (!strcmp(k2, "events")) {
                        if (!gather_list(v->vals[j], 2, items, n, &cap, msg, file, "events"))
                            return false;
                    } else {
                        hm_buf_printf(
                            msg, "%s:%d:%d: input: unknown key '%s' (expected lines or events)\n",
                            file, v->keys[j]->line, v->keys[j]->col, k2);
                        return false;
                    }
                }
            } else {
                hm_buf_printf(
                    msg,
                    "%s:%d:%d: input must be a list (raw lines and event maps) or a map with "
                    "lines/events\n",
                    file, v->line, v->col);
                return false;
            }
        }
    }
    if (!*n) {
        hm_buf_printf(
            msg,
            "%s:%d:%d: the case has no input: give 'lines' (raw log lines), 'events' (maps of "
            "fields) or 'input'\n",
            file, c->line, c->col);
        return false;
    }
    return true;
}

static bool parse_expect_item(const hm_ruleset *rs, const hm_ynode *x, cexp *e, hm_buf *msg,
                              const char *file) {
    memset(e, 0, sizeof(*e));
    e->rule = -1;
    e->alerts = -1;
    e->node = x;
    if (hm_y_is_scalar(x)) {
        if (!strcmp(x->str, "fire")) return true;
        if (!strcmp(x->str, "no_fire")) {
            e->alerts = 0;
            return true;
        }
        hm_buf_printf(
            msg,
            "%s:%d:%d: expect: '%s' is not fire, no_fire or a map {alerts: N, rule: ..., group: "
            "{...}}\n",
            file, x->line, x->col, x->str);
        return false;
    }
    if (x->type != HM_Y_MAP) {
        hm_buf_printf(msg, "%s:%d:%d: expect: give fire, no_fire, a map or a list of maps\n", file,
                      x->line, x->col);
        return false;
    }
    static const char *const keys[] = {"alerts", "rule", "group", "inputs", "selections", NULL};
    for (size_t i = 0; i < x->n; i++) {
        const char *k = x->keys[i]->str;
        const hm_ynode *v = x->vals[i];
        if (!key_allowed(k, keys)) {
            hm_buf_printf(
                msg,
                "%s:%d:%d: expect: unknown key '%s' (expected alerts, rule, group, inputs, "
                "selections)\n",
                file, x->keys[i]->line, x->keys[i]->col, k);
            return false;
        }
        if (!strcmp(k, "alerts")) {
            char *end = NULL;
            long a = hm_y_is_scalar(v) ? strtol(v->str, &end, 10) : -1;
            if (!end || *end || a < 0) {
                hm_buf_printf(msg, "%s:%d:%d: expect.alerts must be a number >= 0\n", file, v->line,
                              v->col);
                return false;
            }
            e->alerts = a;
        } else if (!strcmp(k, "rule")) {
            if (!hm_y_is_scalar(v) || (e->rule = find_rule(rs, v->str)) < 0) {
                hm_buf_printf(msg, "%s:%d:%d: expect.rule '%s' is not a loaded rule id or name\n",
                              file, v->line, v->col, hm_y_is_scalar(v) ? v->str : "?");
                return false;
            }
        } else if (!strcmp(k, "group")) {
            if (v->type != HM_Y_MAP) {
                hm_buf_printf(msg, "%s:%d:%d: expect.group must be a map {group-by field: value}\n",
                              file, v->line, v->col);
                return false;
            }
            e->group = v;
        } else if (!strcmp(k, "inputs")) {
            for (size_t j = 0; v->type == HM_Y_SEQ && j < v->n; j++)
                if (!hm_y_is_scalar(v->vals[j]) || atoi(v->vals[j]->str) < 1) v = NULL;
            if (!v || (v->type != HM_Y_SEQ && !(hm_y_is_scalar(v) && atoi(v->str) >= 1))) {
                hm_buf_printf(
                    msg, "%s:%d:%d: expect.inputs must be input numbers (1 = the first input)\n",
                    file, x->vals[i]->line, x->vals[i]->col);
                return false;
            }
            e->inputs = v;
        } else {
            if (!(v->type == HM_Y_SEQ || hm_y_is_scalar(v))) {
                hm_buf_printf(msg, "%s:%d:%d: expect.selections must be search identifier names\n",
                              file, v->line, v->col);
                return false;
            }
            e->selections = v;
        }
    }
    return true;
}

static bool alert_has_input(const calert *a, int in) {
    for (size_t i = 0; i < a->n_inputs; i++)
        if (a->inputs[i] == in) return true;
    return false;
}

static bool alert_matches(const hm_ruleset *rs, const calert *a, const cexp *x, const long *under,
                          size_t nunder) {
    if (x->rule >= 0 ? (long)a->rule != x->rule : !in_list(under, nunder, (long)a->rule))
        return false;
    if (x->group) {
        for (size_t i = 0; i < x->group->n; i++) {
            const char *k = x->group->keys[i]->str;
            const hm_ynode *v = x->group->vals[i];
            bool ok = false;
            for (size_t j = 0; j < a->gk.n; j++)
                if (!strcmp(a->gk.v[j], k) && hm_y_is_scalar(v) && !strcmp(a->gv.v[j], v->str))
                    ok = true;
            if (!ok) return false;
        }
    }
    if (x->inputs) {
        const hm_ynode *v = x->inputs;
        size_t n = v->type == HM_Y_SEQ ? v->n : 1;
        for (size_t i = 0; i < n; i++)
            if (!alert_has_input(a, atoi((v->type == HM_Y_SEQ ? v->vals[i] : v)->str)))
                return false;
    }
    if (x->selections) {
        const hm_rule_meta *m = hm_ruleset_rule(rs, a->rule);
        const hm_ynode *v = x->selections;
        size_t n = v->type == HM_Y_SEQ ? v->n : 1;
        for (size_t i = 0; i < n; i++) {
            const hm_ynode *s = v->type == HM_Y_SEQ ? v->vals[i] : v;
            bool ok = false;
            for (size_t k = 0; hm_y_is_scalar(s) && k < m->n_selections && k < 64; k++)
                if ((a->sel >> k & 1) && !strcmp(m->selection_names[k], s->str)) ok = true;
            if (!ok) return false;
        }
    }
    return true;
}

static void put_rule_set(hm_buf *b, const hm_ruleset *rs, long rule, const long *under,
                         size_t nunder) {
    if (rule >= 0) {
        hm_buf_puts(b, rule_label(rs, (uint32_t)rule));
        return;
    }
    for (size_t i = 0; i < nunder; i++) {
        if (i) hm_buf_puts(b, ", ");
        hm_buf_puts(b, rule_label(rs, (uint32_t)under[i]));
    }
    if (!nunder) hm_buf_puts(b, "(no rule)");
}

static void put_expect(hm_buf *b, const hm_ruleset *rs, const cexp *x, const long *under,
                       size_t nunder) {
    put_rule_set(b, rs, x->rule, under, nunder);
    hm_buf_puts(b, ": ");
    if (x->alerts < 0)
        hm_buf_puts(b, "at least 1 alert");
    else if (x->alerts == 0)
        hm_buf_puts(b, "no alert");
    else
        hm_buf_printf(b, "exactly %ld alert%s", x->alerts, x->alerts == 1 ? "" : "s");
    if (x->group) {
        hm_buf_puts(b, " with group {");
        for (size_t i = 0; i < x->group->n; i++) {
            if (i) hm_buf_puts(b, ", ");
            hm_buf_printf(b, "%s: ", x->group->keys[i]->str);
            const hm_ynode *v = x->group->vals[i];
            const char *s = hm_y_is_scalar(v) ? v->str : "?";
            put_shown(b, s, strlen(s), 80);
        }
        hm_buf_putc(b, '}');
    }
    if (x->inputs) {
        hm_buf_puts(b, " from inputs [");
        const hm_ynode *v = x->inputs;
        size_t n = v->type == HM_Y_SEQ ? v->n : 1;
        for (size_t i = 0; i < n; i++)
            hm_buf_printf(b, "%s%s", i ? ", " : "", (v->type == HM_Y_SEQ ? v->vals[i] : v)->str);
        hm_buf_putc(b, ']');
    }
    if (x->selections) {
        hm_buf_puts(b, " with selections [");
        const hm_ynode *v = x->selections;
        size_t n = v->type == HM_Y_SEQ ? v->n : 1;
        for (size_t i = 0; i < n; i++)
            hm_buf_printf(b, "%s%s", i ? ", " : "", (v->type == HM_Y_SEQ ? v->vals[i] : v)->str);
        hm_buf_putc(b, ']');
    }
}

static void put_sel(hm_buf *b, const hm_rule_meta *m, uint64_t sel) {
    hm_buf_putc(b, '[');
    bool first = true;
    for (size_t k = 0; k < m->n_selections && k < 64; k++) {
        if (!(sel >> k & 1)) continue;
        if (!first) hm_buf_puts(b, ", ");
        first = false;
        hm_buf_puts(b, m->selection_names[k]);
    }
    hm_buf_putc(b, ']');
}

static void put_alert(hm_buf *b, const hm_ruleset *rs, const calert *a) {
    const hm_rule_meta *m = hm_ruleset_rule(rs, a->rule);
    hm_buf_puts(b, rule_label(rs, a->rule));
    if (a->corr) {
        hm_buf_puts(b, " (correlation)");
        if (a->gk.n) {
            hm_buf_puts(b, " group {");
            for (size_t i = 0; i < a->gk.n; i++) {
                hm_buf_printf(b, "%s%s: ", i ? ", " : "", a->gk.v[i]);
                put_shown(b, a->gv.v[i], strlen(a->gv.v[i]), 80);
            }
            hm_buf_putc(b, '}');
        }
    }
    hm_buf_puts(b, a->n_inputs == 1 ? " input " : " inputs ");
    for (size_t i = 0; i < a->n_inputs; i++) hm_buf_printf(b, "%s%d", i ? "," : "", a->inputs[i]);
    for (size_t i = 0; i < a->other_ids.n; i++)
        hm_buf_printf(b, "%s%s", i || a->n_inputs ? "," : "", a->other_ids.v[i]);
    if (!a->corr) {
        hm_buf_putc(b, ' ');
        put_sel(b, m, a->sel);
    }
    hm_buf_puts(b, " at ");
    hm_buf_put_time(b, a->ts);
    hm_buf_putc(b, '\n');
}

/* correlation alerts (JSONL from the correlator) -> calert */
static void parse_corr_alerts(env *e, hm_arena *a, const hm_buf *out, calert **al, size_t *nal,
                              size_t *cap) {
    jsmntok_t *tok = hm_xmalloc(HM_JSON_MAX_TOKENS * sizeof(jsmntok_t));
    hm_decode_ctx ctx = {.arena = a, .tok = tok};
    size_t pos = 0;
    while (pos < out->len) {
        const char *nl = memchr(out->p + pos, '\n', out->len - pos);
        size_t l = nl ? (size_t)(nl - (out->p + pos)) : out->len - pos;
        hm_str line = {out->p + pos, (uint32_t)l};
        pos += l + 1;
        ctx.ntok = 0;
        ctx.json = NULL;
        if (!l || hm_dec_json(&ctx, line) != 0) continue;
        hm_str rid = hm_json_str(&ctx, hm_json_path(&ctx, 0, "rule.id"));
        char *ids = hm_xstrndup(rid.p ? rid.p : "", rid.len);
        long r = find_rule(e->rs, ids);
        free(ids);
        if (r < 0) continue;
        if (*nal == *cap) {
            *cap = *cap ? *cap * 2 : 16;
            *al = hm_xrealloc(*al, *cap * sizeof(calert));
        }
        calert *c = &(*al)[(*nal)++];
        memset(c, 0, sizeof(*c));
        c->rule = (uint32_t)r;
        c->corr = true;
        hm_str ts = hm_json_str(&ctx, hm_json_path(&ctx, 0, "time"));
        bool z;
        if (ts.p) hm_parse_iso8601(ts.p, ts.len, &c->ts, &z);
        int ev = hm_json_path(&ctx, 0, "event_ids");
        if (ev >= 0 && ctx.tok[ev].type == JSMN_ARRAY) {
            c->inputs = hm_xcalloc((size_t)ctx.tok[ev].size + 1, sizeof(int));
            int k = ev + 1;
            for (int i = 0; i < ctx.tok[ev].size; i++) {
                hm_str id = hm_json_str(&ctx, k);
                if (id.len > 6 && !memcmp(id.p, "input:", 6))
                    c->inputs[c->n_inputs++] = atoi(id.p + 6);
                else
                    sv_add(&c->other_ids, hm_xstrndup(id.p, id.len));
                k = hm_json_skip(&ctx, k);
            }
        }
        int g = hm_json_path(&ctx, 0, "group");
        if (g >= 0 && ctx.tok[g].type == JSMN_OBJECT) {
            int k = g + 1;
            for (int i = 0; i < ctx.tok[g].size; i++) {
                hm_str key = hm_json_str(&ctx, k), val = hm_json_str(&ctx, k + 1);
                sv_add(&c->gk, hm_xstrndup(key.p, key.len));
                sv_add(&c->gv, hm_xstrndup(val.p ? val.p : "", val.len));
                k = hm_json_skip(&ctx, k + 1);
            }
        }
    }
    free(tok);
}

static int int_opt(const hm_ynode *n, int dflt) {
    return hm_y_is_scalar(n) ? atoi(n->str) : dflt;
}

static void json_case(trun *t, const tfile *f, const char *name, int line, const long *under,
                      size_t nunder, bool ok, const hm_buf *detail, const calert *al, size_t nal) {
    hm_buf *b = &t->jcases;
    if (!t->jfirst) hm_buf_putc(b, ',');
    t->jfirst = false;
    hm_buf_puts(b, "\n{\"file\":");
    hm_buf_put_json_str(b, hm_str_c(f->path));
    hm_buf_printf(b, ",\"line\":%d,\"name\":", line);
    hm_buf_put_json_str(b, hm_str_c(name));
    hm_buf_puts(b, ",\"rules\":[");
    for (size_t i = 0; i < nunder; i++) {
        if (i) hm_buf_putc(b, ',');
        hm_buf_put_json_str(b, hm_str_c(hm_ruleset_rule(t->e.rs, (uint32_t)under[i])->id));
    }
    hm_buf_printf(b, "],\"ok\":%s,\"alerts\":[", ok ? "true" : "false");
    for (size_t i = 0; i < nal; i++) {
        const calert *a = &al[i];
        const hm_rule_meta *m = hm_ruleset_rule(t->e.rs, a->rule);
        if (i) hm_buf_putc(b, ',');
        hm_buf_puts(b, "{\"rule\":");
        hm_buf_put_json_str(b, hm_str_c(m->id));
        hm_buf_puts(b, ",\"rule_name\":");
        if (m->name)
            hm_buf_put_json_str(b, hm_str_c(m->name));
        else
            hm_buf_puts(b, "null");
        hm_buf_printf(b, ",\"correlation\":%s,\"time\":\"", a->corr ? "true" : "false");
        hm_buf_put_time(b, a->ts);
        hm_buf_puts(b, "\",\"inputs\":[");
        for (size_t k = 0; k < a->n_inputs; k++)
            hm_buf_printf(b, "%s%d", k ? "," : "", a->inputs[k]);
        hm_buf_puts(b, "],\"group\":{");
        for (size_t k = 0; k < a->gk.n; k++) {
            if (k) hm_buf_putc(b, ',');
            hm_buf_put_json_str(b, hm_str_c(a->gk.v[k]));
            hm_buf_putc(b, ':');
            hm_buf_put_json_str(b, hm_str_c(a->gv.v[k]));
        }
        hm_buf_puts(b, "},\"selections\":[");
        bool first = true;
        for (size_t k = 0; !a->corr && k < m->n_selections && k < 64; k++) {
            if (!(a->sel >> k & 1)) continue;
            if (!first) hm_buf_putc(b, ',');
            first = false;
            hm_buf_put_json_str(b, hm_str_c(m->selection_names[k]));
        }
        hm_buf_puts(b, "]}");
    }
    hm_buf_puts(b, "],\"detail\":");
    hm_buf_put_json_str(b, detail && detail->len ? (hm_str){detail->p, (uint32_t)detail->len}
                                                 : hm_str_c(""));
    hm_buf_putc(b, '}');
}

/* a test-file problem that stops a whole file or case: one failed entry */
static void report_broken(trun *t, const tfile *f, const char *name, int line, const hm_buf *msg) {
    t->failed++;
    if (t->json) {
        json_case(t, f, name, line, NULL, 0, false, msg, NULL, 0);
        return;
    }
    printf("FAIL %s:%d: %s\n", f->path, line, name);
    const char *p = msg->p ? msg->p : "";
    size_t n = msg->len;
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t l = nl ? (size_t)(nl - p) + 1 : n;
        printf("     %.*s", (int)l, p);
        if (!nl) putchar('\n');
        p += l;
        n -= l;
    }
}

/* one hit fed to a correlation, for the diff */
typedef struct cfed {
    uint32_t corr;
    char *group; /* 0x1f-joined */
    int input;
    bool late;
} cfed;

static void put_span(hm_buf *b, int64_t ns) {
    int64_t s = ns / 1000000000LL;
    if (s && s % 86400 == 0)
        hm_buf_printf(b, "%lldd", (long long)(s / 86400));
    else if (s && s % 3600 == 0)
        hm_buf_printf(b, "%lldh", (long long)(s / 3600));
    else if (s && s % 60 == 0)
        hm_buf_printf(b, "%lldm", (long long)(s / 60));
    else
        hm_buf_printf(b, "%llds", (long long)s);
}

static void put_group(hm_buf *b, const hm_corr *c, const char *g) {
    size_t left = strlen(g);
    for (size_t i = 0; i < c->n_group; i++) {
        const char *sep = memchr(g, 0x1f, left);
        size_t l = sep ? (size_t)(sep - g) : left;
        hm_buf_printf(b, "%s%s=", i ? " " : "", c->group_by[i]);
        put_shown(b, g, l, 60);
        g += l + (sep ? 1 : 0);
        left = left > l ? left - l - (sep ? 1 : 0) : 0;
    }
}

/* "t-x: event_count, condition {gte: 5}, timespan 5m, group-by [user], rules [a]" and
 * what each group received */
static void put_corr_summary(hm_buf *b, const hm_ruleset *rs, uint32_t ci, const cfed *fed,
                             size_t nfed) {
    static const char *const ops[] = {"gt", "gte", "lt", "lte", "eq", "neq"};
    const hm_corr *c = &hm_ruleset_correlations(rs)->v[ci];
    hm_buf_printf(b, "    correlation %s: %s", rule_label(rs, c->rule),
                  hm_corr_type_names[c->type]);
    if (c->n_cond) {
        hm_buf_puts(b, ", condition {");
        for (int i = 0; i < c->n_cond; i++)
            hm_buf_printf(b, "%s%s: %g", i ? ", " : "", ops[c->cond[i].op], c->cond[i].v);
        for (size_t i = 0; i < c->n_value_fields; i++)
            hm_buf_printf(b, ", field: %s", c->value_fields[i]);
        hm_buf_putc(b, '}');
    }
    hm_buf_puts(b, ", timespan ");
    put_span(b, c->span_ns);
    hm_buf_puts(b, ", group-by [");
    for (size_t i = 0; i < c->n_group; i++) hm_buf_printf(b, "%s%s", i ? ", " : "", c->group_by[i]);
    hm_buf_puts(b, "], rules [");
    for (size_t i = 0; i < c->n_refs; i++)
        hm_buf_printf(b, "%s%s", i ? ", " : "", rule_label(rs, c->refs[i]));
    hm_buf_puts(b, "]\n");
    bool any = false;
    for (size_t i = 0; i < nfed; i++) {
        if (fed[i].corr != ci) continue;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = fed[j].corr == ci && !strcmp(fed[j].group, fed[i].group);
        if (seen) continue;
        any = true;
        size_t cnt = 0;
        for (size_t j = i; j < nfed; j++)
            cnt += fed[j].corr == ci && !strcmp(fed[j].group, fed[i].group);
        hm_buf_puts(b, "      group ");
        if (c->n_group)
            put_group(b, c, fed[i].group);
        else
            hm_buf_puts(b, "(all events)");
        hm_buf_printf(b, ": %zu event%s from inputs ", cnt, cnt == 1 ? "" : "s");
        bool first = true;
        for (size_t j = i; j < nfed; j++)
            if (fed[j].corr == ci && !strcmp(fed[j].group, fed[i].group)) {
                hm_buf_printf(b, "%s%d%s", first ? "" : ",", fed[j].input,
                              fed[j].late ? " (late, dropped)" : "");
                first = false;
            }
        hm_buf_putc(b, '\n');
    }
    if (!any)
        hm_buf_puts(
            b, "      no input fed it (none matched its rules with the group-by fields present)\n");
}

static void run_case(trun *t, tfile *f, const hm_ynode *top, const hm_ynode *c, size_t ci) {
    env *e = &t->e;
    hm_ruleset *rs = e->rs;
    hm_buf msg = {0}, det = {0};
    char name[512];
    const hm_ynode *nm = c->type == HM_Y_MAP ? hm_ymap_get(c, "name") : NULL;
    if (hm_y_is_scalar(nm))
        snprintf(name, sizeof name, "%s", nm->str);
    else
        snprintf(name, sizeof name, "case %zu", ci + 1);
    if (t->case_filter && !strstr(name, t->case_filter)) return;
    long *under = NULL;
    size_t nunder = 0;
    initem *items = NULL;
    size_t nitems = 0;
    cexp *exps = NULL;
    size_t nexp = 0;
    cinput *in = NULL;
    calert *al = NULL;
    size_t nal = 0, alcap = 0;
    hm_correlator *corr = NULL;
    hm_buf cout = {0}, cdead = {0};
    cfed *fedv = NULL;
    size_t nfed = 0, fedcap = 0;
    hm_arena arena;
    hm_arena_init(&arena, 64 * 1024);
    hm_tz ctz = {0};
    bool own_tz = false;
    const hm_tz *saved_tz = rs->tz;
    bool ok = true;
    kvlist dflt = {0};

    if (c->type != HM_Y_MAP) {
        hm_buf_printf(&msg, "%s:%d:%d: a case must be a map with name, input and expect\n", f->path,
                      c->line, c->col);
        goto broken;
    }
    static const char *const keys[] = {
        "name",     "description",     "note",   "rule", "rules", "lines",
        "events",   "input",           "expect", "year", "tz",    "lateness",
        "defaults", "allow_undecoded", NULL};
    for (size_t i = 0; i < c->n; i++)
        if (!key_allowed(c->keys[i]->str, keys)) {
            hm_buf_printf(&msg,
                          "%s:%d:%d: unknown case key '%s' (expected name, rule, lines, events, "
                          "input, expect, "
                          "year, tz, lateness, defaults, allow_undecoded)\n",
                          f->path, c->keys[i]->line, c->keys[i]->col, c->keys[i]->str);
            goto broken;
        }
    if (!hm_y_is_scalar(nm)) {
        hm_buf_printf(&msg, "%s:%d:%d: the case has no 'name'\n", f->path, c->line, c->col);
        goto broken;
    }
    /* rules under test */
    const hm_ynode *rn = hm_ymap_get(c, "rule");
    if (!rn) rn = hm_ymap_get(c, "rules");
    const hm_ynode *trn = top ? hm_ymap_get(top, "rule") : NULL;
    if (top && !trn) trn = hm_ymap_get(top, "rules");
    if (rn || trn) {
        if (!parse_rule_list(rs, rn ? rn : trn, &under, &nunder, &msg, f->path)) goto broken;
    } else {
        default_rules(t, f->rule_file, &under, &nunder);
        if (!nunder) {
            hm_buf_printf(
                &msg,
                "%s: no rule to test: the rule file beside this test file has no loaded rule; name "
                "the rules with 'rule:'\n",
                f->path);
            goto broken;
        }
    }
    /* expectations */
    const hm_ynode *ex = hm_ymap_get(c, "expect");
    if (!ex) {
        hm_buf_printf(&msg,
                      "%s:%d:%d: the case has no 'expect' (fire, no_fire or {alerts: N, ...})\n",
                      f->path, c->line, c->col);
        goto broken;
    }
    nexp = ex->type == HM_Y_SEQ ? ex->n : 1;
    exps = hm_xcalloc(nexp + 1, sizeof(cexp));
    for (size_t i = 0; i < nexp; i++)
        if (!parse_expect_item(rs, ex->type == HM_Y_SEQ ? ex->vals[i] : ex, &exps[i], &msg,
                               f->path))
            goto broken;
    /* options: case, then file, then command line */
    const hm_ynode *yn = hm_ymap_get(c, "year"), *tzn = hm_ymap_get(c, "tz"),
                   *lat = hm_ymap_get(c, "lateness");
    if (top && !yn) yn = hm_ymap_get(top, "year");
    if (top && !tzn) tzn = hm_ymap_get(top, "tz");
    if (top && !lat) lat = hm_ymap_get(top, "lateness");
    int year = int_opt(yn, e->year);
    if (year < 1970 || year > 9999) {
        hm_buf_printf(&msg, "%s:%d:%d: year must be like 2024\n", f->path, yn->line, yn->col);
        goto broken;
    }
    const hm_tz *tz = &e->tz;
    if (hm_y_is_scalar(tzn) && strcmp(tzn->str, e->tz_name)) {
        if (hm_tz_load(&ctz, tzn->str, 1990, 2100) != HM_OK) {
            hm_buf_printf(&msg, "%s:%d:%d: tz '%s' is not a known time zone (expected Area/City)\n",
                          f->path, tzn->line, tzn->col, tzn->str);
            goto broken;
        }
        own_tz = true;
        tz = &ctz;
    }
    int64_t lateness = t->has_dflt_lateness ? t->dflt_lateness : 0;
    if (lat && (!hm_y_is_scalar(lat) || !hm_parse_duration_ns(lat->str, &lateness))) {
        hm_buf_printf(&msg, "%s:%d:%d: lateness must be a duration like 0s or 60s\n", f->path,
                      lat->line, lat->col);
        goto broken;
    }
    bool allow_undecoded = false;
    const hm_ynode *au = hm_ymap_get(c, "allow_undecoded");
    if (hm_y_is_scalar(au)) allow_undecoded = !strcmp(au->str, "true") || !strcmp(au->str, "yes");
    /* defaults for events: file, then case */
    char err[1024] = "";
    const hm_ynode *dn[2] = {top ? hm_ymap_get(top, "defaults") : NULL, hm_ymap_get(c, "defaults")};
    for (int i = 0; i < 2; i++) {
        if (!dn[i]) continue;
        if (dn[i]->type != HM_Y_MAP || !yaml_flatten(dn[i], "", &dflt, err, sizeof err)) {
            hm_buf_printf(&msg, "%s:%s\n", f->path,
                          err[0] ? err : " defaults must be a map of field: value");
            goto broken;
        }
    }
    if (!gather_inputs(c, &items, &nitems, &msg, f->path)) goto broken;

    /* ---- run: decode, detect (both matchers), extract hits, correlate ---- */
    rs->tz = tz;
    hm_time_ctx tc = {.tz = tz, .fixed_year = year, .ref_ns = 0};
    in = hm_xcalloc(nitems + 1, sizeof(cinput));
    const hm_corr_set *cset = hm_ruleset_correlations(rs);
    if (cset) {
        hm_corr_opts co = {.state = "memory", .lateness_ns = lateness > 0 ? lateness : 1};
        char cerr[512] = "";
        corr = hm_correlator_new(rs, &co, cerr, sizeof cerr);
        if (!corr) {
            hm_buf_printf(&msg, "correlator: %s\n", cerr);
            goto broken;
        }
    }
    int64_t prev =
        hm_tz_local_to_utc(tz, hm_civil_to_epoch(DEFAULT_START_Y, DEFAULT_START_M, DEFAULT_START_D,
                                                 DEFAULT_START_H, 0, 0)) *
        1000000000LL;
    bool first_in = true;
    bool undecoded = false, disagree = false;
    hm_corr_hit hits[64];
    for (size_t i = 0; i < nitems; i++) {
        cinput *ci_ = &in[i];
        ci_->rec.pos = i + 1;
        ci_->is_line = items[i].line;
        ci_->yline = items[i].n->line;
        int64_t dflt_ts = first_in ? prev : prev + 1000000000LL;
        if (items[i].line) {
            ci_->decoded = decode_line(e, &arena, &tc, items[i].n->str, dflt_ts, &ci_->rec,
                                       &ci_->ev, &ci_->reason);
            if (!ci_->decoded) {
                undecoded = true;
                continue;
            }
        } else {
            kvlist kv = {0};
            for (size_t k = 0; k < dflt.n; k++)
                kv_add(&kv, dflt.v[k].k, strlen(dflt.v[k].k), dflt.v[k].v ? dflt.v[k].v : "",
                       dflt.v[k].vlen, dflt.v[k].null, dflt.v[k].line, dflt.v[k].col);
            if (!yaml_flatten(items[i].n, "", &kv, err, sizeof err) ||
                !build_event(&arena, &kv, tz, prev, dflt_ts, &ci_->rec, &ci_->ev, err,
                             sizeof err)) {
                kv_free(&kv);
                hm_buf_printf(&msg, "%s:%s\n", f->path, err);
                goto broken;
            }
            kv_free(&kv);
            ci_->decoded = true;
        }
        prev = ci_->ev.ts_ns;
        first_in = false;
        size_t n1 = hm_detect(e->det, &ci_->ev, e->m1, e->nmax);
        size_t n2 = hm_detect_reference(rs, &ci_->ev, e->m2, e->nmax);
        if (n1 > e->nmax) n1 = e->nmax;
        if (n2 > e->nmax) n2 = e->nmax;
        bool same = n1 == n2;
        for (size_t k = 0; same && k < n1; k++)
            same = e->m1[k].rule == e->m2[k].rule && e->m1[k].selections == e->m2[k].selections;
        if (!same) {
            ci_->disagree = true;
            disagree = true;
            hm_buf_printf(&det, "    MATCHER DISAGREEMENT on input %zu: compiled matcher [", i + 1);
            for (size_t k = 0; k < n1; k++) {
                hm_buf_printf(&det, "%s%s ", k ? ", " : "", rule_label(rs, e->m1[k].rule));
                put_sel(&det, hm_ruleset_rule(rs, e->m1[k].rule), e->m1[k].selections);
            }
            hm_buf_puts(&det, "], reference evaluator [");
            for (size_t k = 0; k < n2; k++) {
                hm_buf_printf(&det, "%s%s ", k ? ", " : "", rule_label(rs, e->m2[k].rule));
                put_sel(&det, hm_ruleset_rule(rs, e->m2[k].rule), e->m2[k].selections);
            }
            hm_buf_puts(&det, "] - an engine bug, please report it with this case\n");
        }
        ci_->m = hm_arena_alloc(&arena, (n1 + 1) * sizeof(hm_match));
        memcpy(ci_->m, e->m1, n1 * sizeof(hm_match));
        ci_->nm = n1;
        size_t nh = 0;
        for (size_t k = 0; k < n1; k++) {
            uint32_t r = e->m1[k].rule;
            /* detection alert (or a match of a base rule: counted when the rule is under test) */
            if (alcap == nal) {
                alcap = alcap ? alcap * 2 : 16;
                al = hm_xrealloc(al, alcap * sizeof(calert));
            }
            calert *a = &al[nal++];
            memset(a, 0, sizeof(*a));
            a->rule = r;
            a->sel = e->m1[k].selections;
            a->ts = ci_->ev.ts_ns;
            a->inputs = hm_xcalloc(1, sizeof(int));
            a->inputs[0] = (int)(i + 1);
            a->n_inputs = 1;
            if (!corr) continue;
            size_t got = hm_corr_extract(rs, r, &ci_->ev, "input", &arena, hits + nh,
                                         HM_ARRAY_LEN(hits) - nh);
            /* what it feeds, for the diff */
            for (uint32_t q = 0; cset && r < cset->n_rules && q < cset->n_by_rule[r]; q++) {
                uint32_t cx = cset->by_rule[r][q];
                bool fed = false;
                for (size_t h = nh; h < nh + got; h++) {
                    if (hits[h].corr != cx) continue;
                    fed = true;
                    if (nfed == fedcap) {
                        fedcap = fedcap ? fedcap * 2 : 32;
                        fedv = hm_xrealloc(fedv, fedcap * sizeof(cfed));
                    }
                    fedv[nfed++] = (cfed){
                        cx, hm_xstrndup(hits[h].group.p ? hits[h].group.p : "", hits[h].group.len),
                        (int)(i + 1), false};
                    hm_buf_printf(&ci_->feeds, "%s -> feeds %s", rule_label(rs, r),
                                  rule_label(rs, cset->v[cx].rule));
                    if (cset->v[cx].n_group) {
                        hm_buf_puts(&ci_->feeds, " (group ");
                        const char *gp = hits[h].group.p;
                        size_t left = hits[h].group.len;
                        for (size_t g = 0; g < cset->v[cx].n_group; g++) {
                            const char *sep = memchr(gp, 0x1f, left);
                            size_t gl = sep ? (size_t)(sep - gp) : left;
                            hm_buf_printf(&ci_->feeds, "%s%s=", g ? ", " : "",
                                          cset->v[cx].group_by[g]);
                            put_shown(&ci_->feeds, gp, gl, 60);
                            gp += gl + (sep ? 1 : 0);
                            left = left > gl ? left - gl - (sep ? 1 : 0) : 0;
                        }
                        hm_buf_putc(&ci_->feeds, ')');
                    }
                    hm_buf_putc(&ci_->feeds, '\n');
                    break;
                }
                if (!fed) {
                    hm_buf_printf(&ci_->feeds,
                                  "%s -> does NOT feed %s: the event lacks a group-by field (",
                                  rule_label(rs, r), rule_label(rs, cset->v[cx].rule));
                    for (size_t g = 0; g < cset->v[cx].n_group; g++)
                        hm_buf_printf(&ci_->feeds, "%s%s", g ? ", " : "",
                                      cset->v[cx].group_fields[g * cset->v[cx].n_refs]);
                    hm_buf_puts(&ci_->feeds, ")\n");
                }
            }
            nh += got;
        }
        if (corr && nh) {
            uint64_t w = 0;
            size_t before = cdead.len;
            hm_correlator_push(corr, hits, nh, &cout, &cdead, &w);
            if (cdead.len > before) {
                ci_->late = true;
                for (size_t q = 0; q < nfed; q++)
                    if (fedv[q].input == (int)(i + 1)) fedv[q].late = true;
            }
        }
    }
    if (corr) {
        uint64_t w = 0;
        hm_correlator_finish(corr, &cout, &w);
        parse_corr_alerts(e, &arena, &cout, &al, &nal, &alcap);
    }

    /* ---- compare ---- */
    if (undecoded && !allow_undecoded) {
        ok = false;
        for (size_t i = 0; i < nitems; i++)
            if (!in[i].decoded && in[i].is_line)
                hm_buf_printf(&det,
                              "    input %zu (test file line %d) was not decoded: %s (a case about "
                              "such lines "
                              "sets allow_undecoded: true)\n",
                              i + 1, in[i].yline, in[i].reason ? in[i].reason : "?");
    }
    if (disagree) ok = false;
    hm_buf diff = {0};
    bool under_fire = false, over_fire = false;
    for (size_t x = 0; x < nexp; x++) {
        size_t cnt = 0;
        for (size_t k = 0; k < nal; k++) cnt += alert_matches(rs, &al[k], &exps[x], under, nunder);
        bool pass = exps[x].alerts < 0 ? cnt >= 1 : (long)cnt == exps[x].alerts;
        if (pass) continue;
        ok = false;
        if (exps[x].alerts < 0 || (long)cnt < exps[x].alerts)
            under_fire = true;
        else
            over_fire = true;
        hm_buf_puts(&diff, "    expected  ");
        put_expect(&diff, rs, &exps[x], under, nunder);
        hm_buf_printf(&diff, "\n    got       %zu matching alert%s\n", cnt, cnt == 1 ? "" : "s");
    }
    for (size_t i = 0; i < nunder; i++) mark_covered(t, (uint32_t)under[i], 0);
    for (size_t x = 0; x < nexp; x++)
        if (exps[x].rule >= 0) mark_covered(t, (uint32_t)exps[x].rule, 0);

    if (ok) {
        t->passed++;
        if (t->json)
            json_case(t, f, name, c->line, under, nunder, true, NULL, al, nal);
        else
            printf("ok   %s:%d: %s\n", f->path, c->line, name);
        hm_buf_free(&diff);
        goto done;
    }
    /* ---- the diff ---- */
    t->failed++;
    hm_buf out = {0};
    if (diff.len) hm_buf_put(&out, diff.p, diff.len);
    hm_buf_free(&diff);
    if (det.len) hm_buf_put(&out, det.p, det.len);
    bool any_under = false, any_other = false;
    for (size_t k = 0; k < nal; k++) {
        bool u = in_list(under, nunder, (long)al[k].rule);
        for (size_t x = 0; x < nexp; x++) u = u || exps[x].rule == (long)al[k].rule;
        if (u) {
            if (!any_under) hm_buf_puts(&out, "    alerts of the rules under test:\n");
            any_under = true;
            hm_buf_puts(&out, "      ");
            put_alert(&out, rs, &al[k]);
        }
    }
    if (!any_under) {
        hm_buf_puts(&out, "    alerts of the rules under test: none (");
        put_rule_set(&out, rs, -1, under, nunder);
        hm_buf_puts(&out, ")\n");
    }
    for (size_t k = 0; k < nal; k++) {
        bool u = in_list(under, nunder, (long)al[k].rule);
        for (size_t x = 0; x < nexp; x++) u = u || exps[x].rule == (long)al[k].rule;
        if (u || (!al[k].corr && !hm_ruleset_rule(rs, al[k].rule)->generate)) continue;
        if (!any_other) hm_buf_puts(&out, "    other rules that fired (not checked):\n");
        any_other = true;
        hm_buf_puts(&out, "      ");
        put_alert(&out, rs, &al[k]);
    }
    for (size_t k = 0; cset && k < cset->n; k++) {
        bool u = in_list(under, nunder, (long)cset->v[k].rule);
        for (size_t x = 0; x < nexp; x++) u = u || exps[x].rule == (long)cset->v[k].rule;
        if (u) put_corr_summary(&out, rs, (uint32_t)k, fedv, nfed);
    }
    /* detection rules worth explaining: those under test, and the base rules of the
     * correlations under test */
    size_t nr = hm_ruleset_count(rs);
    bool *relevant = hm_xcalloc(nr + 1, 1);
    for (size_t i = 0; i < nunder; i++) {
        relevant[under[i]] = true;
        long cx = corr_index_of_rule(rs, (uint32_t)under[i]);
        if (cx >= 0)
            for (size_t r = 0; r < cset->v[cx].n_refs; r++) relevant[cset->v[cx].refs[r]] = true;
    }
    for (size_t x = 0; x < nexp; x++)
        if (exps[x].rule >= 0) relevant[exps[x].rule] = true;
    hm_buf_puts(&out, "    inputs:\n");
    int explained = 0;
    for (size_t i = 0; i < nitems && i < MAX_INPUTS_SHOWN; i++) {
        cinput *ci_ = &in[i];
        hm_buf_printf(&out, "      %zu  %s (test file line %d)", i + 1,
                      ci_->is_line ? "line" : "event", ci_->yline);
        if (!ci_->decoded) {
            hm_buf_printf(&out, ": NOT DECODED: %s%s\n", ci_->reason ? ci_->reason : "?",
                          allow_undecoded ? " (allowed)" : "");
            hm_buf_puts(&out, "         ");
            put_shown(&out, ci_->rec.data ? ci_->rec.data : "", ci_->rec.len, 200);
            hm_buf_putc(&out, '\n');
            continue;
        }
        hm_buf_puts(&out, ci_->is_line ? ", decoded by " : ", ");
        hm_buf_puts(&out, ci_->is_line ? hm_decoders[ci_->ev.decoder]->name : "normalized");
        hm_buf_puts(&out, ", time ");
        hm_buf_put_time(&out, ci_->ev.ts_ns);
        if (ci_->ev.flags & HM_EV_TS_FROM_RECV) hm_buf_puts(&out, " (no time in the line)");
        if (ci_->late)
            hm_buf_puts(
                &out, " LATE: older than the correlation watermark, dropped (order inputs by time "
                      "or set lateness)");
        hm_buf_putc(&out, '\n');
        put_fields(&out, &ci_->ev, 9, 110);
        hm_buf_puts(&out, "         matched: ");
        if (!ci_->nm) hm_buf_puts(&out, "no rule");
        for (size_t k = 0; k < ci_->nm; k++) {
            if (k) hm_buf_puts(&out, ", ");
            hm_buf_puts(&out, rule_label(rs, ci_->m[k].rule));
            hm_buf_putc(&out, ' ');
            put_sel(&out, hm_ruleset_rule(rs, ci_->m[k].rule), ci_->m[k].selections);
        }
        hm_buf_putc(&out, '\n');
        if (ci_->feeds.len) {
            const char *p = ci_->feeds.p;
            size_t left = ci_->feeds.len;
            while (left) {
                const char *nl = memchr(p, '\n', left);
                size_t l = nl ? (size_t)(nl - p) + 1 : left;
                hm_buf_puts(&out, "         ");
                hm_buf_put(&out, p, l);
                p += l;
                left -= l;
            }
        }
        /* why: rules that did not match when more alerts were wanted, rules that matched
         * when fewer were */
        bool matched_relevant = false;
        for (size_t k = 0; k < ci_->nm; k++)
            matched_relevant = matched_relevant || relevant[ci_->m[k].rule];
        for (size_t r = 0; r < nr; r++) {
            const sg_rule *sr = &rs->rules[r];
            if (!relevant[r] || sr->meta.is_correlation || !sr->enabled) continue;
            bool m = false;
            for (size_t k = 0; k < ci_->nm; k++) m = m || ci_->m[k].rule == r;
            /* missing alerts: why an input matched none of the rules involved; extra
             * alerts: why it matched */
            if (!((under_fire && !matched_relevant) || (over_fire && m))) continue;
            if (explained >= MAX_EXPLAIN_PER_CASE) {
                if (explained == MAX_EXPLAIN_PER_CASE)
                    hm_buf_puts(
                        &out,
                        "         (more explanations left out: use hallmonitor rules explain)\n");
                explained++;
                continue;
            }
            explained++;
            hm_buf_printf(&out, "         why %s %s:\n", rule_label(rs, (uint32_t)r),
                          m ? "matched" : "did not match");
            explain_rule(&out, rs, (uint32_t)r, &ci_->ev, 11);
        }
    }
    if (nitems > MAX_INPUTS_SHOWN)
        hm_buf_printf(&out, "      ... %zu more inputs\n", nitems - MAX_INPUTS_SHOWN);
    free(relevant);
    if (t->json) {
        json_case(t, f, name, c->line, under, nunder, false, &out, al, nal);
    } else {
        printf("FAIL %s:%d: %s\n", f->path, c->line, name);
        fwrite(out.p, 1, out.len, stdout);
    }
    hm_buf_free(&out);
    goto done;

broken:
    for (size_t i = 0; i < nunder; i++) mark_covered(t, (uint32_t)under[i], 0); /* it has a case */
    report_broken(t, f, name, c->line, &msg);
done:
    rs->tz = saved_tz;
    fflush(stdout);
    for (size_t i = 0; in && i < nitems; i++) hm_buf_free(&in[i].feeds);
    free(in);
    for (size_t i = 0; i < nfed; i++) free(fedv[i].group);
    free(fedv);
    calerts_free(al, nal);
    hm_correlator_free(corr);
    hm_buf_free(&cout);
    hm_buf_free(&cdead);
    hm_buf_free(&msg);
    hm_buf_free(&det);
    free(under);
    free(items);
    free(exps);
    kv_free(&dflt);
    hm_arena_free(&arena);
    if (own_tz) hm_tz_free(&ctz);
}

static void run_file(trun *t, tfile *f) {
    hm_buf msg = {0};
    char err[1024];
    f->ndocs = hm_yaml_load_file(f->path, &f->docs, err, sizeof err);
    if (f->ndocs < 0) {
        hm_buf_printf(&msg, "%s\n", err);
        f->ndocs = 0;
        report_broken(t, f, "invalid test file", 0, &msg);
        hm_buf_free(&msg);
        return;
    }
    t->cases_files++;
    for (int d = 0; d < f->ndocs; d++) {
        const hm_ynode *root = f->docs[d].root;
        if (!root) continue;
        const hm_ynode *top = NULL, *cases = NULL;
        if (root->type == HM_Y_SEQ) {
            cases = root;
        } else if (root->type == HM_Y_MAP) {
            top = root;
            static const char *const keys[] = {"rule",     "rules",    "cases",       "year", "tz",
                                               "lateness", "defaults", "description", NULL};
            for (size_t i = 0; i < root->n; i++)
                if (!key_allowed(root->keys[i]->str, keys)) {
                    hm_buf_printf(&msg,
                                  "%s:%d:%d: unknown key '%s' (a test file has rule, cases, year, "
                                  "tz, lateness, "
                                  "defaults)\n",
                                  f->path, root->keys[i]->line, root->keys[i]->col,
                                  root->keys[i]->str);
                    report_broken(t, f, "invalid test file", root->keys[i]->line, &msg);
                    hm_buf_free(&msg);
                    return;
                }
            cases = hm_ymap_get(root, "cases");
        }
        if (!cases || cases->type != HM_Y_SEQ) {
            hm_buf_printf(
                &msg, "%s:%d:%d: a test file is a list of cases, or a map with 'cases:' (a list)\n",
                f->path, root->line, root->col);
            report_broken(t, f, "invalid test file", root->line, &msg);
            hm_buf_free(&msg);
            return;
        }
        for (size_t i = 0; i < cases->n; i++) run_case(t, f, top, cases->vals[i], i);
    }
    hm_buf_free(&msg);
}

/* ---- finding test files ---- */

static bool is_test_name(const char *name) {
    return ends_with(name, ".test.yml") || ends_with(name, ".test.yaml");
}

/* a test file's first document is a list (of cases) or a map with `cases:` */
static bool looks_like_test(const char *path) {
    hm_ydoc *docs = NULL;
    char err[256];
    int n = hm_yaml_load_file(path, &docs, err, sizeof err);
    bool r = n > 0 && docs[0].root &&
             (docs[0].root->type == HM_Y_SEQ ||
              (docs[0].root->type == HM_Y_MAP && hm_ymap_get(docs[0].root, "cases") &&
               !hm_ymap_get(docs[0].root, "detection")));
    if (n >= 0) hm_ydocs_free(docs, n);
    return r;
}

/* directory part contains a component "tests" */
static bool in_tests_dir(const char *path) {
    char *d = dir_of(path);
    bool r = false;
    for (char *p = d; p && *p;) {
        char *sl = strchr(p, '/');
        size_t l = sl ? (size_t)(sl - p) : strlen(p);
        if (l == 5 && !strncmp(p, "tests", 5)) r = true;
        p = sl ? sl + 1 : NULL;
    }
    free(d);
    return r;
}

static void walk_tests(const char *dir, bool in_tests, strv *out, int depth) {
    if (depth > 32) return;
    DIR *dd = opendir(dir);
    if (!dd) return;
    strv names = {0};
    struct dirent *de;
    while ((de = readdir(dd)))
        if (de->d_name[0] != '.') sv_add(&names, hm_xstrdup(de->d_name));
    closedir(dd);
    for (size_t i = 0; i + 1 < names.n; i++)
        for (size_t j = i + 1; j < names.n; j++)
            if (strcmp(names.v[i], names.v[j]) > 0) {
                char *x = names.v[i];
                names.v[i] = names.v[j];
                names.v[j] = x;
            }
    for (size_t i = 0; i < names.n; i++) {
        char *p = path_join(dir, names.v[i]);
        if (is_dir(p)) {
            if (strcmp(names.v[i], "mappings") && strcmp(names.v[i], "yara") &&
                strcmp(names.v[i], "assets"))
                walk_tests(p, in_tests || !strcmp(names.v[i], "tests"), out, depth + 1);
        } else if (is_test_name(names.v[i]) || (in_tests && is_yaml_name(names.v[i]))) {
            if (!sv_has(out, p)) {
                sv_add(out, p);
                p = NULL;
            }
        }
        free(p);
    }
    sv_free(&names);
}

static char *stem_of(const char *base) {
    static const char *const sufs[] = {".test.yml", ".test.yaml", ".yml", ".yaml"};
    for (size_t i = 0; i < HM_ARRAY_LEN(sufs); i++)
        if (ends_with(base, sufs[i])) return hm_xstrndup(base, strlen(base) - strlen(sufs[i]));
    return hm_xstrdup(base);
}

/* the folder above the last "tests" component of dir ("." when dir starts with it), or NULL */
static char *above_tests(const char *dir) {
    const char *last = NULL;
    for (const char *q = dir; *q; q++)
        if ((q == dir || q[-1] == '/') && !strncmp(q, "tests", 5) && (q[5] == '/' || q[5] == 0))
            last = q;
    if (!last) return NULL;
    return last == dir ? hm_xstrdup(".")
                       : hm_xstrndup(dir, (size_t)(last - dir - 1 > 0 ? last - dir - 1 : 1));
}

/* the rule file a test file belongs to (as a path from the test file's), or NULL */
static char *rule_file_for_test(const char *test) {
    char *dir = dir_of(test);
    char *stem = stem_of(base_of(test));
    char *found = NULL;
    char cand[PATH_MAX];
    static const char *const exts[] = {".yml", ".yaml"};
    /* beside it: x.test.yml -> x.yml */
    if (is_test_name(base_of(test)))
        for (size_t i = 0; i < 2 && !found; i++) {
            snprintf(cand, sizeof cand, "%s/%s%s", dir, stem, exts[i]);
            if (is_file(cand)) found = hm_xstrdup(cand);
        }
    /* in a tests folder: BASE/tests/REL/x[.test].yml -> BASE/REL/x.yml */
    if (!found) {
        char *basep = above_tests(dir);
        if (basep) {
            const char *last = NULL;
            for (const char *q = dir; *q; q++)
                if ((q == dir || q[-1] == '/') && !strncmp(q, "tests", 5) &&
                    (q[5] == '/' || q[5] == 0))
                    last = q;
            const char *rel = last[5] == '/' ? last + 6 : "";
            for (size_t i = 0; i < 2 && !found; i++) {
                snprintf(cand, sizeof cand, "%s/%s%s%s%s", basep, rel, rel[0] ? "/" : "", stem,
                         exts[i]);
                if (is_file(cand)) found = hm_xstrdup(cand);
            }
            free(basep);
        }
    }
    free(dir);
    free(stem);
    return found;
}

/* test files of one rule file */
static void tests_of_rule_file(const char *rule, strv *out) {
    char *dir = dir_of(rule);
    char *stem = stem_of(base_of(rule));
    static const char *const pats[] = {"%s/%s.test.yml",       "%s/%s.test.yaml",
                                       "%s/tests/%s.yml",      "%s/tests/%s.yaml",
                                       "%s/tests/%s.test.yml", "%s/tests/%s.test.yaml"};
    for (size_t i = 0; i < HM_ARRAY_LEN(pats); i++) {
        char cand[PATH_MAX];
        snprintf(cand, sizeof cand, pats[i], dir, stem);
        if (is_file(cand) && !sv_has(out, cand)) sv_add(out, hm_xstrdup(cand));
    }
    free(dir);
    free(stem);
}

static void test_usage(FILE *f) {
    fprintf(
        f,
        "usage: hallmonitor rules test PATH... [options]\n"
        "\n"
        "  Runs the test cases stored beside rules (<rule>.test.yml, or tests/<rule>.yml) and\n"
        "  prints ok/FAIL per case, a diff for every failure and 'rules test: N passed, N "
        "failed'.\n"
        "  PATH is a rule folder, a rule file or a test file; the folder of the rules is loaded\n"
        "  whole, so correlations can use base rules from other files. Format: "
        "docs/rule-testing.md\n"
        "\n"
        "  --format text|json      output (default text)\n"
        "  --year YYYY             year of syslog stamps without one (default 2024)\n"
        "  --tz Area/City          district time zone (default UTC)\n"
        "  --lateness D            correlation lateness for cases that set none (default 0s)\n"
        "  --rules PATH            load these rules instead of the folders of PATH (repeatable)\n"
        "  --case TEXT             run only cases whose name contains TEXT\n"
        "  --require-tests         rules without a test case fail the run\n"
        "  --placeholders FILE     values for %%name%% placeholders (|expand)\n"
        "  --yara DIR              YARA rules (default rules/yara)\n"
        "  --mappings DIR          vendor field mappings (default rules/mappings)\n"
        "\n"
        "  Exit 0 all passed, 1 a case failed (or untested rules with --require-tests),\n"
        "  2 usage error or rules that do not load.\n");
}

int hm_cmd_rules_test(int argc, char **argv) {
    trun t;
    memset(&t, 0, sizeof t);
    t.e.year = DEFAULT_YEAR;
    t.jfirst = true;
    const char *format = "text", *tzname = "UTC", *mappings = NULL;
    bool require = false;
    strv rules_opt = {0};
    enum {
        O_FORMAT = 1000,
        O_YEAR,
        O_TZ,
        O_RULES,
        O_CASE,
        O_REQ,
        O_PH,
        O_YARA,
        O_MAPS,
        O_LAT,
        O_HELP
    };
    static const struct option longopts[] = {
        {"format", required_argument, 0, O_FORMAT},
        {"year", required_argument, 0, O_YEAR},
        {"tz", required_argument, 0, O_TZ},
        {"rules", required_argument, 0, O_RULES},
        {"case", required_argument, 0, O_CASE},
        {"require-tests", no_argument, 0, O_REQ},
        {"placeholders", required_argument, 0, O_PH},
        {"yara", required_argument, 0, O_YARA},
        {"mappings", required_argument, 0, O_MAPS},
        {"lateness", required_argument, 0, O_LAT},
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    optind = 1;
    opterr = 0;
    int c, rc = 2;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_FORMAT:
            format = optarg;
            break;
        case O_YEAR:
            t.e.year = atoi(optarg);
            if (t.e.year < 1970 || t.e.year > 9999) {
                fprintf(stderr, "hallmonitor rules test: --year %s: expected a year like 2024\n",
                        optarg);
                goto out;
            }
            break;
        case O_TZ:
            tzname = optarg;
            break;
        case O_RULES:
            sv_add(&rules_opt, hm_xstrdup(optarg));
            break;
        case O_CASE:
            t.case_filter = optarg;
            break;
        case O_REQ:
            require = true;
            break;
        case O_PH:
            t.e.ropts.placeholders_file = optarg;
            break;
        case O_YARA:
            t.e.ropts.yara_dir = optarg;
            break;
        case O_MAPS:
            mappings = optarg;
            break;
        case O_LAT:
            if (!hm_parse_duration_ns(optarg, &t.dflt_lateness)) {
                fprintf(stderr,
                        "hallmonitor rules test: --lateness %s: expected a duration like 60s\n",
                        optarg);
                goto out;
            }
            t.has_dflt_lateness = true;
            break;
        case O_HELP:
            test_usage(stdout);
            rc = 0;
            goto out;
        default:
            fprintf(stderr, "hallmonitor rules test: unknown or incomplete option '%s'\n\n",
                    argv[optind - 1]);
            test_usage(stderr);
            goto out;
        }
    }
    if (strcmp(format, "text") && strcmp(format, "json")) {
        fprintf(stderr, "hallmonitor rules test: --format %s: expected text or json\n", format);
        goto out;
    }
    t.json = !strcmp(format, "json");
    if (optind >= argc) {
        fprintf(
            stderr,
            "hallmonitor rules test: name at least one rule folder, rule file or test file\n\n");
        test_usage(stderr);
        goto out;
    }
    /* what to load, which test files, and the scope for "rules without tests" (real paths) */
    strv load = {0}, tests = {0}, scope = {0}, scope_files = {0};
    for (int i = optind; i < argc; i++) {
        char *p = hm_xstrdup(argv[i]);
        for (size_t l = strlen(p); l > 1 && p[l - 1] == '/'; l--) p[l - 1] = 0;
        if (is_dir(p)) {
            sv_add(&scope, real_or_dup(p));
            if (!strcmp(base_of(p), "tests")) { /* a tests folder itself: its rules are above it */
                sv_add(&load, dir_of(p));
                walk_tests(p, true, &tests, 0);
            } else {
                sv_add(&load, hm_xstrdup(p));
                walk_tests(p, false, &tests, 0);
            }
        } else if (is_file(p)) {
            if (is_test_name(base_of(p)) || (in_tests_dir(p) && looks_like_test(p))) {
                if (!sv_has(&tests, p)) sv_add(&tests, hm_xstrdup(p));
                char *rf = rule_file_for_test(p);
                if (rf) {
                    sv_add(&load, dir_of(rf));
                    sv_add(&scope_files, real_or_dup(rf));
                    free(rf);
                } else {
                    char *d = dir_of(p);
                    char *above = in_tests_dir(p) ? above_tests(d) : NULL;
                    sv_add(&load, above ? above : hm_xstrdup(d));
                    free(d);
                }
            } else {
                sv_add(&load, dir_of(p));
                sv_add(&scope_files, real_or_dup(p));
                tests_of_rule_file(p, &tests);
            }
        } else {
            fprintf(stderr, "hallmonitor rules test: %s: no such file or folder\n", p);
            free(p);
            sv_free(&load);
            sv_free(&tests);
            sv_free(&scope);
            sv_free(&scope_files);
            goto out;
        }
        free(p);
    }
    if (rules_opt.n) {
        sv_free(&load);
        for (size_t i = 0; i < rules_opt.n; i++) sv_add(&load, hm_xstrdup(rules_opt.v[i]));
    } else {
        /* a folder inside another loaded folder would load its rules twice */
        strv uniq = {0}, real = {0};
        for (size_t i = 0; i < load.n; i++) sv_add(&real, real_or_dup(load.v[i]));
        for (size_t i = 0; i < load.n; i++) {
            bool inner = false;
            for (size_t j = 0; j < load.n && !inner; j++)
                if (i != j && path_under(real.v[i], real.v[j]) &&
                    (strcmp(real.v[i], real.v[j]) || j < i))
                    inner = true;
            if (!inner) sv_add(&uniq, hm_xstrdup(load.v[i]));
        }
        sv_free(&real);
        sv_free(&load);
        load = uniq;
    }
    if ((rc = env_tz(&t.e, tzname, "test")) != 0) goto out2;
    rc = 2;
    if (env_maps(&t.e, mappings, "test") != 0) goto out2;
    env_yara(&t.e);
    t.e.ropts.tz = &t.e.tz;
    hm_diags d = {0};
    char *def_ph = NULL; /* a pack's district.yml carries its parameters */
    if (!t.e.ropts.placeholders_file)
        t.e.ropts.placeholders_file = def_ph =
            hm_rules_default_placeholders((const char *const *)load.v, load.n);
    t.e.rs = hm_ruleset_load((const char *const *)load.v, load.n, &t.e.ropts, &d);
    if (def_ph) t.e.ropts.placeholders_file = NULL;
    free(def_ph);
    if (!t.e.rs) {
        /* errors only: warnings are for `rules check` */
        for (size_t i = 0; i < d.n; i++)
            if (d.v[i].sev == HM_DIAG_ERROR)
                fprintf(stderr, "%s:%d:%d: error: %s [%s]%s%s%s\n", d.v[i].file ? d.v[i].file : "?",
                        d.v[i].line, d.v[i].col, d.v[i].msg, d.v[i].code ? d.v[i].code : "",
                        d.v[i].rule ? " (rule " : "", d.v[i].rule ? d.v[i].rule : "",
                        d.v[i].rule ? ")" : "");
        fprintf(
            stderr,
            "hallmonitor rules test: %zu rule error(s); fix them first (hallmonitor rules check)\n",
            d.errors);
        hm_diags_free(&d);
        goto out2;
    }
    size_t warnings = d.warnings;
    hm_diags_free(&d);
    env_ready(&t.e);
    size_t nr = hm_ruleset_count(t.e.rs);
    t.rule_real = hm_xcalloc(nr + 1, sizeof(char *));
    t.covered = hm_xcalloc(nr + 1, 1);
    for (size_t i = 0; i < nr; i++) t.rule_real[i] = real_or_dup(hm_ruleset_rule(t.e.rs, i)->file);
    hm_log_quiet = 1;
    for (size_t i = 0; i < tests.n; i++) {
        char *rf = rule_file_for_test(tests.v[i]);
        tfile f = {.path = tests.v[i], .rule_file = rf ? real_or_dup(rf) : NULL};
        free(rf);
        run_file(&t, &f);
        hm_ydocs_free(f.docs, f.ndocs);
        free(f.rule_file);
    }
    /* rules in scope without a test case */
    size_t untested = 0;
    hm_buf ju = {0};
    for (size_t i = 0; i < nr && !t.case_filter; i++) {
        const hm_rule_meta *m = hm_ruleset_rule(t.e.rs, i);
        bool in_scope = false;
        for (size_t s = 0; s < scope.n && !in_scope; s++)
            in_scope = path_under(t.rule_real[i], scope.v[s]);
        for (size_t s = 0; s < scope_files.n && !in_scope; s++)
            in_scope = !strcmp(t.rule_real[i], scope_files.v[s]);
        if (!in_scope || t.covered[i]) continue;
        untested++;
        if (t.json) {
            if (ju.len) hm_buf_putc(&ju, ',');
            hm_buf_puts(&ju, "{\"rule\":");
            hm_buf_put_json_str(&ju, hm_str_c(m->id));
            hm_buf_puts(&ju, ",\"title\":");
            hm_buf_put_json_str(&ju, hm_str_c(m->title));
            hm_buf_puts(&ju, ",\"file\":");
            hm_buf_put_json_str(&ju, hm_str_c(m->file));
            hm_buf_printf(&ju, ",\"line\":%d}", m->line);
        } else {
            printf("%s %s:%d: rule %s%s%s%s (%s) has no test cases\n",
                   require ? "FAIL" : "warning:", shown_path(m->file), m->line,
                   m->name ? m->name : m->id, m->name ? " [" : "", m->name ? m->id : "",
                   m->name ? "]" : "", m->title);
        }
    }
    if (require) t.failed += untested;
    if (t.json) {
        printf("{\"cases\":[%.*s\n],\"untested\":[%.*s],\"test_files\":%zu,\"rule_warnings\":%zu,"
               "\"passed\":%zu,"
               "\"failed\":%zu}\n",
               (int)t.jcases.len, t.jcases.p ? t.jcases.p : "", (int)ju.len, ju.p ? ju.p : "",
               tests.n, warnings, t.passed, t.failed);
    } else {
        if (!tests.n)
            printf("warning: no test files found (<rule>.test.yml or tests/<rule>.yml)\n");
        printf("%zu test file%s, %zu rules loaded, %zu without tests%s", tests.n,
               tests.n == 1 ? "" : "s", nr, untested, warnings ? "" : "\n");
        if (warnings) printf(", %zu rule warnings (see hallmonitor rules check)\n", warnings);
        printf("rules test: %zu passed, %zu failed\n", t.passed, t.failed);
    }
    hm_buf_free(&ju);
    rc = t.failed ? 1 : 0;
    for (size_t i = 0; i < nr; i++) free(t.rule_real[i]);
    free(t.rule_real);
    free(t.covered);
out2:
    hm_buf_free(&t.jcases);
    sv_free(&load);
    sv_free(&tests);
    sv_free(&scope);
    sv_free(&scope_files);
    env_free(&t.e);
out:
    sv_free(&rules_opt);
    return rc;
}

/* ------------------------------------------------------------------ rules explain */

static void explain_usage(FILE *f) {
    fprintf(
        f,
        "usage: hallmonitor rules explain RULE (--event JSON | --line RAW) [options]\n"
        "\n"
        "  Shows, for one event, every search identifier of RULE with true/false, per item the\n"
        "  field value seen against the modifier and value, and the condition's result.\n"
        "  RULE is a rule id, a rule name or a rule file (every rule in it is explained).\n"
        "\n"
        "  --event JSON            the event as a JSON object of normalized fields, e.g.\n"
        "                          "
        "'{\"product\":\"sis\",\"user\":\"jdoe\",\"time\":\"2024-03-11T07:00:00Z\"}'\n"
        "                          (@FILE reads it from a file, - from standard input)\n"
        "  --line RAW              a raw log line instead, decoded by the real decoders\n"
        "  --rules PATH            rules to load (repeatable; default: the folder of a RULE file,\n"
        "                          else rules/ next to the binary)\n"
        "  --year YYYY             year of syslog stamps without one (default 2024)\n"
        "  --tz Area/City          district time zone (default UTC)\n"
        "  --placeholders FILE, --yara DIR, --mappings DIR   as for rules check / run\n"
        "\n"
        "  Exit 0 the rule matches, 1 it does not, 2 usage error.\n");
}

static char *read_all(FILE *f) {
    hm_buf b = {0};
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) hm_buf_put(&b, tmp, n);
    hm_buf_putc(&b, 0);
    return b.p;
}

int hm_cmd_rules_explain(int argc, char **argv) {
    env e;
    memset(&e, 0, sizeof e);
    e.year = DEFAULT_YEAR;
    const char *tzname = "UTC", *mappings = NULL, *event = NULL, *line = NULL;
    strv rules_opt = {0};
    char *event_buf = NULL;
    enum { O_EVENT = 1000, O_LINE, O_RULES, O_YEAR, O_TZ, O_PH, O_YARA, O_MAPS, O_HELP };
    static const struct option longopts[] = {
        {"event", required_argument, 0, O_EVENT}, {"line", required_argument, 0, O_LINE},
        {"rules", required_argument, 0, O_RULES}, {"year", required_argument, 0, O_YEAR},
        {"tz", required_argument, 0, O_TZ},       {"placeholders", required_argument, 0, O_PH},
        {"yara", required_argument, 0, O_YARA},   {"mappings", required_argument, 0, O_MAPS},
        {"help", no_argument, 0, O_HELP},         {0, 0, 0, 0},
    };
    optind = 1;
    opterr = 0;
    int c, rc = 2;
    hm_arena arena;
    hm_arena_init(&arena, 64 * 1024);
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_EVENT:
            event = optarg;
            break;
        case O_LINE:
            line = optarg;
            break;
        case O_RULES:
            sv_add(&rules_opt, hm_xstrdup(optarg));
            break;
        case O_YEAR:
            e.year = atoi(optarg);
            if (e.year < 1970 || e.year > 9999) {
                fprintf(stderr, "hallmonitor rules explain: --year %s: expected a year like 2024\n",
                        optarg);
                goto out;
            }
            break;
        case O_TZ:
            tzname = optarg;
            break;
        case O_PH:
            e.ropts.placeholders_file = optarg;
            break;
        case O_YARA:
            e.ropts.yara_dir = optarg;
            break;
        case O_MAPS:
            mappings = optarg;
            break;
        case O_HELP:
            explain_usage(stdout);
            rc = 0;
            goto out;
        default:
            fprintf(stderr, "hallmonitor rules explain: unknown or incomplete option '%s'\n\n",
                    argv[optind - 1]);
            explain_usage(stderr);
            goto out;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "hallmonitor rules explain: %s\n\n",
                optind >= argc ? "name the rule to explain (id, name or file)"
                               : "name exactly one rule");
        explain_usage(stderr);
        goto out;
    }
    if (!!event == !!line) {
        fprintf(stderr, "hallmonitor rules explain: give the event with --event JSON or a raw line "
                        "with --line RAW "
                        "(one of them)\n");
        goto out;
    }
    const char *rule = argv[optind];
    bool rule_is_file = is_file(rule);
    if (!rules_opt.n) {
        if (rule_is_file)
            sv_add(&rules_opt, dir_of(rule));
        else
            sv_add(&rules_opt, hm_default_data_dir("rules"));
    }
    if (env_tz(&e, tzname, "explain") != 0) goto out;
    if (env_maps(&e, mappings, "explain") != 0) goto out;
    env_yara(&e);
    e.ropts.tz = &e.tz;
    e.ropts.skip_bad_rules = true; /* explain this rule even when another one is broken */
    hm_diags d = {0};
    char *def_ph = NULL;
    if (!e.ropts.placeholders_file)
        e.ropts.placeholders_file = def_ph =
            hm_rules_default_placeholders((const char *const *)rules_opt.v, rules_opt.n);
    e.rs = hm_ruleset_load((const char *const *)rules_opt.v, rules_opt.n, &e.ropts, &d);
    if (def_ph) e.ropts.placeholders_file = NULL;
    free(def_ph);
    /* which rules */
    strv picked = {0};
    long want = -1;
    char *rule_real = rule_is_file ? real_or_dup(rule) : NULL;
    if (e.rs) {
        if (rule_is_file) {
            for (size_t i = 0; i < hm_ruleset_count(e.rs); i++) {
                char *r = real_or_dup(hm_ruleset_rule(e.rs, i)->file);
                if (!strcmp(r, rule_real)) {
                    char num[32];
                    snprintf(num, sizeof num, "%zu", i);
                    sv_add(&picked, hm_xstrdup(num));
                }
                free(r);
            }
        } else if ((want = find_rule(e.rs, rule)) >= 0) {
            char num[32];
            snprintf(num, sizeof num, "%ld", want);
            sv_add(&picked, hm_xstrdup(num));
        }
    }
    if (!picked.n) {
        for (size_t i = 0; i < d.n; i++)
            if (d.v[i].sev == HM_DIAG_ERROR)
                fprintf(stderr, "%s:%d:%d: error: %s [%s]\n", d.v[i].file ? d.v[i].file : "?",
                        d.v[i].line, d.v[i].col, d.v[i].msg, d.v[i].code ? d.v[i].code : "");
        fprintf(stderr, "hallmonitor rules explain: %s: no such rule %s (loaded from", rule,
                rule_is_file ? "in that file loaded" : "id or name");
        for (size_t i = 0; i < rules_opt.n; i++) fprintf(stderr, " %s", rules_opt.v[i]);
        fprintf(stderr, ")\n");
        hm_diags_free(&d);
        free(rule_real);
        sv_free(&picked);
        goto out;
    }
    hm_diags_free(&d);
    free(rule_real);
    env_ready(&e);
    /* the event */
    hm_record rec = {.pos = 1};
    hm_event ev;
    memset(&ev, 0, sizeof ev);
    int64_t dflt =
        hm_tz_local_to_utc(&e.tz, hm_civil_to_epoch(DEFAULT_START_Y, DEFAULT_START_M,
                                                    DEFAULT_START_D, DEFAULT_START_H, 0, 0)) *
        1000000000LL;
    hm_buf out = {0};
    if (line) {
        hm_time_ctx tc = {.tz = &e.tz, .fixed_year = e.year};
        const char *reason = NULL;
        if (!decode_line(&e, &arena, &tc, line, dflt, &rec, &ev, &reason)) {
            fprintf(stderr, "hallmonitor rules explain: the line was not decoded: %s\n", reason);
            sv_free(&picked);
            goto out;
        }
        hm_buf_printf(&out, "event: decoded by %s, time ", hm_decoders[ev.decoder]->name);
    } else {
        if (event[0] == '@' || !strcmp(event, "-")) {
            FILE *fp = !strcmp(event, "-") ? stdin : fopen(event + 1, "r");
            if (!fp) {
                fprintf(stderr, "hallmonitor rules explain: --event %s: %s\n", event,
                        strerror(errno));
                sv_free(&picked);
                goto out;
            }
            event_buf = read_all(fp);
            if (fp != stdin) fclose(fp);
            event = event_buf;
        }
        hm_decode_ctx ctx = {.arena = &arena, .tok = e.tok};
        hm_str body = hm_str_c(event);
        while (body.len && (body.p[body.len - 1] == '\n' || body.p[body.len - 1] == ' '))
            body.len--;
        if (hm_dec_json(&ctx, body) != 0) {
            fprintf(stderr, "hallmonitor rules explain: --event: not a JSON object: %s\n", event);
            sv_free(&picked);
            goto out;
        }
        kvlist kv = {0};
        json_flatten(&ctx, 0, "", &kv, 0);
        if (!kv_get(&kv, "raw")) kv_add(&kv, "raw", 3, body.p, body.len, false, 0, 0);
        char err[512];
        if (!build_event(&arena, &kv, &e.tz, dflt, dflt, &rec, &ev, err, sizeof err)) {
            fprintf(stderr, "hallmonitor rules explain: --event: %s\n",
                    strncmp(err, "0:0: ", 5) ? err : err + 5);
            kv_free(&kv);
            sv_free(&picked);
            goto out;
        }
        kv_free(&kv);
        hm_buf_puts(&out, "event: normalized, time ");
    }
    hm_buf_put_time(&out, ev.ts_ns);
    hm_buf_putc(&out, '\n');
    put_fields(&out, &ev, 2, 110);
    /* the compiled matcher's answer, for comparison */
    size_t nm = hm_detect(e.det, &ev, e.m1, e.nmax);
    if (nm > e.nmax) nm = e.nmax;
    bool any = false;
    for (size_t pi = 0; pi < picked.n; pi++) {
        uint32_t r = (uint32_t)atol(picked.v[pi]);
        const hm_rule_meta *m = hm_ruleset_rule(e.rs, r);
        hm_buf_printf(&out, "\nrule %s: %s (%s:%d, level %s)\n", rule_label(e.rs, r), m->title,
                      shown_path(m->file), m->line, hm_level_names[m->level]);
        if (m->is_correlation) {
            long cx = corr_index_of_rule(e.rs, r);
            const hm_corr *cc = cx >= 0 ? &hm_ruleset_correlations(e.rs)->v[cx] : NULL;
            hm_buf_printf(&out,
                          "  correlation (%s): it fires on a sequence of events, not on one; its "
                          "rules on this "
                          "event:\n",
                          cc ? hm_corr_type_names[cc->type] : "");
            for (size_t k = 0; cc && k < cc->n_refs; k++) {
                const sg_rule *br = &e.rs->rules[cc->refs[k]];
                if (br->meta.is_correlation) {
                    hm_buf_printf(&out, "  %s (a correlation)\n", rule_label(e.rs, cc->refs[k]));
                    continue;
                }
                hm_buf_printf(&out, "  %s: %s\n", rule_label(e.rs, cc->refs[k]), br->meta.title);
                bool mm = explain_rule(&out, e.rs, cc->refs[k], &ev, 4);
                hm_buf_printf(&out, "    result: %s\n", mm ? "MATCH" : "no match");
                any = any || mm;
            }
            continue;
        }
        bool mm = explain_rule(&out, e.rs, r, &ev, 2);
        bool compiled = false;
        for (size_t k = 0; k < nm; k++) compiled = compiled || e.m1[k].rule == r;
        hm_buf_printf(&out, "result: %s\n", mm ? "MATCH" : "no match");
        if (compiled != mm)
            hm_buf_printf(
                &out, "WARNING: the compiled matcher says %s - an engine bug, please report it\n",
                compiled ? "match" : "no match");
        any = any || mm;
    }
    fwrite(out.p, 1, out.len, stdout);
    hm_buf_free(&out);
    sv_free(&picked);
    rc = any ? 0 : 1;
out:
    free(event_buf);
    sv_free(&rules_opt);
    env_free(&e);
    hm_arena_free(&arena);
    return rc;
}
