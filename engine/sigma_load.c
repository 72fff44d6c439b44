/* sigma_load.c - Sigma YAML -> rules, predicates and condition trees.
 *
 * Start-up only. Every problem is reported with file:line:column; a rule with an error is
 * never half-loaded (see docs/sigma.md for the decisions on edge cases). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "sigma_int.h"
#include "yamltree.h"

const char *const hm_level_names[5] = {"informational", "low", "medium", "high", "critical"};

/* ---------- growable arrays of the rule set ---------- */

static uint32_t node_new(hm_ruleset *rs, sg_nkind k) {
    GROW(rs->nodes, rs->n_nodes, rs->cap_nodes);
    sg_node *n = &rs->nodes[rs->n_nodes];
    memset(n, 0, sizeof(*n));
    n->kind = (uint8_t)k;
    n->sel = -1;
    return (uint32_t)rs->n_nodes++;
}

static uint32_t node_list(hm_ruleset *rs, sg_nkind k, const uint32_t *kids, size_t n) {
    if (n == 1 && (k == SG_N_AND || k == SG_N_OR)) return kids[0];
    if (n == 0) return node_new(rs, k == SG_N_AND ? SG_N_TRUE : SG_N_FALSE);
    uint32_t id = node_new(rs, k);
    for (size_t i = 0; i < n; i++) {
        GROW(rs->kids, rs->n_kids, rs->cap_kids);
        rs->kids[rs->n_kids++] = kids[i];
    }
    rs->nodes[id].kid0 = (uint32_t)(rs->n_kids - n);
    rs->nodes[id].nkids = (uint32_t)n;
    return id;
}

static uint32_t node_not(hm_ruleset *rs, uint32_t kid) {
    return node_list(rs, SG_N_NOT, &kid, 1);
}

static uint32_t node_pred(hm_ruleset *rs, uint32_t pred) {
    uint32_t id = node_new(rs, SG_N_PRED);
    rs->nodes[id].pred = pred;
    return id;
}

/* ---------- fields ---------- */

/* Word-at-a-time: looked up for every vendor field of every event. */

int sg_slot_lookup(const hm_ruleset *rs, const char *name, size_t n) {
    if (!rs->slot_cap) return -1;
    size_t j = hm_hash_words(name, n, 0) & (rs->slot_cap - 1);
    while (rs->slot_hash_idx[j]) {
        uint32_t s = rs->slot_hash_idx[j] - 1;
        if (rs->slot_lens[s] == n && !memcmp(rs->slot_names[s], name, n)) return (int)s;
        j = (j + 1) & (rs->slot_cap - 1);
    }
    return -1;
}

static int slot_intern(hm_ruleset *rs, const char *name) {
    size_t n = strlen(name);
    int s = sg_slot_lookup(rs, name, n);
    if (s >= 0) return s;
    if ((rs->n_slots + 1) * 2 > rs->slot_cap) {
        size_t ncap = rs->slot_cap ? rs->slot_cap * 2 : 64;
        uint32_t *nh = hm_xcalloc(ncap, sizeof(uint32_t));
        for (size_t i = 0; i < rs->n_slots; i++) {
            size_t j = hm_hash_words(rs->slot_names[i], strlen(rs->slot_names[i]), 0) & (ncap - 1);
            while (nh[j]) j = (j + 1) & (ncap - 1);
            nh[j] = (uint32_t)i + 1;
        }
        free(rs->slot_hash_idx);
        rs->slot_hash_idx = nh;
        rs->slot_cap = ncap;
    }
    rs->slot_names = hm_xrealloc(rs->slot_names, (rs->n_slots + 1) * sizeof(char *));
    rs->slot_names[rs->n_slots] = hm_xstrdup(name);
    rs->slot_lens = hm_xrealloc(rs->slot_lens, (rs->n_slots + 1) * sizeof(uint32_t));
    rs->slot_lens[rs->n_slots] = (uint32_t)n;
    size_t j = hm_hash_words(name, n, 0) & (rs->slot_cap - 1);
    while (rs->slot_hash_idx[j]) j = (j + 1) & (rs->slot_cap - 1);
    rs->slot_hash_idx[j] = (uint32_t)rs->n_slots + 1;
    return (int)rs->n_slots++;
}

/* Field index for a rule field name (interned). */
static int field_intern(hm_ruleset *rs, const char *name) {
    int tax = -1;
    if (!strcmp(name, ""))
        tax = SG_F_RAW;
    else if (!strcmp(name, "time") || !strcmp(name, "@timestamp"))
        tax = SG_F_TIME;
    else
        tax = hm_field_lookup(name, strlen(name));
    if (tax >= 0 && rs->tax_field[tax] >= 0) return rs->tax_field[tax];
    if (tax == SG_F_RAW && rs->raw_field >= 0) return rs->raw_field;
    if (tax == SG_F_TIME && rs->time_field >= 0) return rs->time_field;
    if (tax == -1) {
        int s = sg_slot_lookup(rs, name, strlen(name));
        if (s >= 0)
            for (size_t i = 0; i < rs->n_fields; i++)
                if (rs->fields[i].tax == -1 && rs->fields[i].slot == s) return (int)i;
    }
    GROW(rs->fields, rs->n_fields, rs->cap_fields);
    sg_field *f = &rs->fields[rs->n_fields];
    f->name = hm_xstrdup(name);
    f->tax = tax;
    f->slot = tax == -1 ? slot_intern(rs, name) : -1;
    f->db = -1;
    int idx = (int)rs->n_fields++;
    if (tax >= 0)
        rs->tax_field[tax] = idx;
    else if (tax == SG_F_RAW)
        rs->raw_field = idx;
    else if (tax == SG_F_TIME)
        rs->time_field = idx;
    return idx;
}

static uint16_t ls_intern(hm_ruleset *rs, const char *v) {
    if (!v) return 0;
    for (size_t i = 0; i < rs->n_ls; i++)
        if (!strcmp(rs->ls_names[i], v)) return (uint16_t)(i + 1);
    rs->ls_names = hm_xrealloc(rs->ls_names, (rs->n_ls + 1) * sizeof(char *));
    rs->ls_lens = hm_xrealloc(rs->ls_lens, (rs->n_ls + 1) * sizeof(uint32_t));
    rs->ls_lens[rs->n_ls] = (uint32_t)strlen(v);
    rs->ls_names[rs->n_ls++] = hm_xstrdup(v);
    return (uint16_t)rs->n_ls;
}

uint16_t sg_ls_lookup(const hm_ruleset *rs, hm_str v) {
    for (size_t i = 0; i < rs->n_ls; i++)
        if (rs->ls_lens[i] == v.len && (!v.len || !memcmp(v.p, rs->ls_names[i], v.len)))
            return (uint16_t)(i + 1);
    return 0;
}

/* ---------- load context ---------- */

typedef struct placeholder {
    char *name;
    char **vals;
    size_t n;
} placeholder;

typedef struct loadctx {
    hm_ruleset *rs;
    hm_diags *d;
    const hm_rules_opts *opts;
    const char *file;
    const char *rule_label; /* for diagnostics */
    uint32_t rule_idx;
    bool failed; /* current rule has an error */
    placeholder *ph;
    size_t n_ph;
    void *yara_names; /* char ** of known YARA rule names */
    size_t n_yara_names;
} loadctx;

static void lerr(loadctx *c, const hm_ynode *at, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void lerr(loadctx *c, const hm_ynode *at, const char *code, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    hm_diags_add(c->d, HM_DIAG_ERROR, c->file, at ? at->line : 1, at ? at->col : 1, c->rule_label,
                 code, "%s", buf);
    c->failed = true;
}

static void lwarn(loadctx *c, const hm_ynode *at, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void lwarn(loadctx *c, const hm_ynode *at, const char *code, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    hm_diags_add(c->d, HM_DIAG_WARNING, c->file, at ? at->line : 1, at ? at->col : 1, c->rule_label,
                 code, "%s", buf);
}

/* ---------- Sigma strings ---------- */

typedef struct sstr {
    char *b;
    uint8_t *w; /* 0 literal, 1 '*', 2 '?' */
    size_t n, cap;
    bool has_wild;
} sstr;

static void ss_push(sstr *s, char c, uint8_t w) {
    if (s->n + 1 >= s->cap) {
        s->cap = s->cap ? s->cap * 2 : 32;
        s->b = hm_xrealloc(s->b, s->cap);
        s->w = hm_xrealloc(s->w, s->cap);
    }
    s->b[s->n] = c;
    s->w[s->n++] = w;
    if (w) s->has_wild = true;
}
static void ss_free(sstr *s) {
    free(s->b);
    free(s->w);
    memset(s, 0, sizeof(*s));
}

/* Sigma escaping (S-VAL-04, pySigma reading): \* \? \\ are escapes; a backslash before
 * anything else (or at the end) is literal; * and ? are wildcards. */
static sstr ss_parse(const char *v, size_t n) {
    sstr s = {0};
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == '\\' && i + 1 < n && (v[i + 1] == '*' || v[i + 1] == '?' || v[i + 1] == '\\')) {
            ss_push(&s, v[i + 1], 0);
            i++;
        } else if (c == '*') {
            ss_push(&s, '*', 1);
        } else if (c == '?') {
            ss_push(&s, '?', 2);
        } else {
            ss_push(&s, c, 0);
        }
    }
    return s;
}

/* ---------- modifiers ---------- */

enum {
    MOD_CONTAINS = 1u << 0,
    MOD_STARTS = 1u << 1,
    MOD_ENDS = 1u << 2,
    MOD_ALL = 1u << 3,
    MOD_RE = 1u << 4,
    MOD_CIDR = 1u << 5,
    MOD_EXISTS = 1u << 6,
    MOD_CASED = 1u << 7,
    MOD_NEQ = 1u << 8,
    MOD_NUM = 1u << 9,
    MOD_TIME = 1u << 10,
    MOD_EXPAND = 1u << 11,
    MOD_FIELDREF = 1u << 12,
    MOD_YARA = 1u << 13,
    MOD_WINDASH = 1u << 14,
    MOD_ENC = 1u << 15,
    MOD_RE_I = 1u << 16,
    MOD_RE_M = 1u << 17,
    MOD_RE_S = 1u << 18,
};
enum { ENC_B64 = 1, ENC_B64OFF, ENC_U16LE, ENC_U16BE, ENC_U16BOM };

typedef struct mods {
    unsigned flags;
    uint8_t cmp;    /* for MOD_NUM */
    uint8_t tpart;  /* for MOD_TIME */
    uint8_t enc[8]; /* encoding chain, in order (windash recorded as 99) */
    int n_enc;
} mods;

static bool parse_mods(loadctx *c, const hm_ynode *at, char **parts, int nparts, mods *m) {
    memset(m, 0, sizeof(*m));
    for (int i = 0; i < nparts; i++) {
        const char *p = parts[i];
        bool first = i == 0;
        if (!strcmp(p, "contains"))
            m->flags |= MOD_CONTAINS;
        else if (!strcmp(p, "startswith"))
            m->flags |= MOD_STARTS;
        else if (!strcmp(p, "endswith"))
            m->flags |= MOD_ENDS;
        else if (!strcmp(p, "all"))
            m->flags |= MOD_ALL;
        else if (!strcmp(p, "cased"))
            m->flags |= MOD_CASED;
        else if (!strcmp(p, "neq"))
            m->flags |= MOD_NEQ;
        else if (!strcmp(p, "expand"))
            m->flags |= MOD_EXPAND;
        else if (!strcmp(p, "windash")) {
            m->flags |= MOD_WINDASH;
            if (m->n_enc < 8) m->enc[m->n_enc++] = 99;
        } else if (!strcmp(p, "re")) {
            if (!first) {
                lerr(c, at, "bad-modifier-chain", "'re' must be the first modifier");
                return false;
            }
            m->flags |= MOD_RE;
        } else if (!strcmp(p, "i") || !strcmp(p, "ignorecase") || !strcmp(p, "m") ||
                   !strcmp(p, "multiline") || !strcmp(p, "s") || !strcmp(p, "dotall")) {
            if (!(m->flags & MOD_RE)) {
                lerr(c, at, "bad-modifier-chain", "regex flag '%s' must follow 're'", p);
                return false;
            }
            m->flags |= (p[0] == 'i') ? MOD_RE_I : (p[0] == 'm') ? MOD_RE_M : MOD_RE_S;
        } else if (!strcmp(p, "cidr")) {
            if (!first) {
                lerr(c, at, "bad-modifier-chain", "'cidr' must be the first modifier");
                return false;
            }
            m->flags |= MOD_CIDR;
        } else if (!strcmp(p, "exists")) {
            if (!first || nparts > 1) {
                lerr(c, at, "bad-modifier-chain",
                     "'exists' cannot be combined with other modifiers");
                return false;
            }
            m->flags |= MOD_EXISTS;
        } else if (!strcmp(p, "lt") || !strcmp(p, "lte") || !strcmp(p, "gt") || !strcmp(p, "gte")) {
            m->flags |= MOD_NUM;
            m->cmp = !strcmp(p, "lt")    ? SG_CMP_LT
                     : !strcmp(p, "lte") ? SG_CMP_LTE
                     : !strcmp(p, "gt")  ? SG_CMP_GT
                                         : SG_CMP_GTE;
        } else if (!strcmp(p, "minute") || !strcmp(p, "hour") || !strcmp(p, "day") ||
                   !strcmp(p, "week") || !strcmp(p, "month") || !strcmp(p, "year") ||
                   !strcmp(p, "weekday")) {
            m->flags |= MOD_TIME;
            m->tpart = !strcmp(p, "minute")  ? SG_TP_MINUTE
                       : !strcmp(p, "hour")  ? SG_TP_HOUR
                       : !strcmp(p, "day")   ? SG_TP_DAY
                       : !strcmp(p, "week")  ? SG_TP_WEEK
                       : !strcmp(p, "month") ? SG_TP_MONTH
                       : !strcmp(p, "year")  ? SG_TP_YEAR
                                             : SG_TP_WEEKDAY;
        } else if (!strcmp(p, "fieldref"))
            m->flags |= MOD_FIELDREF;
        else if (!strcmp(p, "yara"))
            m->flags |= MOD_YARA;
        else if (!strcmp(p, "base64") || !strcmp(p, "base64offset") || !strcmp(p, "wide") ||
                 !strcmp(p, "utf16le") || !strcmp(p, "utf16be") || !strcmp(p, "utf16")) {
            m->flags |= MOD_ENC;
            if (m->n_enc < 8)
                m->enc[m->n_enc++] = !strcmp(p, "base64")         ? ENC_B64
                                     : !strcmp(p, "base64offset") ? ENC_B64OFF
                                     : !strcmp(p, "utf16be")      ? ENC_U16BE
                                     : !strcmp(p, "utf16")        ? ENC_U16BOM
                                                                  : ENC_U16LE;
        } else {
            lerr(c, at, "unknown-modifier", "unknown modifier '%s'", p);
            return false;
        }
    }
    unsigned f = m->flags;
    int matchers = !!(f & MOD_CONTAINS) + !!(f & MOD_STARTS) + !!(f & MOD_ENDS);
    if (matchers > 1) {
        lerr(c, at, "bad-modifier-chain", "contains, startswith and endswith exclude each other");
        return false;
    }
    if ((f & (MOD_RE | MOD_CIDR | MOD_NUM | MOD_FIELDREF | MOD_YARA | MOD_EXISTS)) &&
        (f & (MOD_ENC | MOD_WINDASH | MOD_EXPAND))) {
        lerr(c, at, "bad-modifier-chain",
             "encoding/windash/expand cannot apply to this value type");
        return false;
    }
    if ((f & MOD_RE) && (matchers || (f & (MOD_CIDR | MOD_NUM)))) {
        lerr(c, at, "bad-modifier-chain", "'re' cannot be combined with %s",
             matchers ? "contains/startswith/endswith" : "cidr or comparisons");
        return false;
    }
    if ((f & MOD_CIDR) && (matchers || (f & MOD_NUM))) {
        lerr(c, at, "bad-modifier-chain",
             "'cidr' cannot be combined with string or numeric matching");
        return false;
    }
    if ((f & MOD_NUM) && matchers) {
        lerr(c, at, "bad-modifier-chain",
             "comparison modifiers cannot be combined with string matching");
        return false;
    }
    return true;
}

/* ---------- value transformations ---------- */

/* Word characters as Python's \w sees them (pySigma's windash regex): ASCII letters,
 * digits, '_' and, approximately, every non-ASCII byte (letters of other scripts). */
static bool is_word(char ch) {
    return isalnum((unsigned char)ch) || ch == '_' || (unsigned char)ch >= 0x80;
}

/* growable list of Sigma strings (value variants) */
typedef struct svec {
    sstr *v;
    size_t n, cap;
} svec;
static void sv_push(svec *s, sstr x) {
    GROW(s->v, s->n, s->cap);
    s->v[s->n++] = x;
}
static void sv_free(svec *s) {
    for (size_t i = 0; i < s->n; i++) ss_free(&s->v[i]);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* Most variants one rule value may expand to (windash x encodings x placeholders). */
#define SG_MAX_VARIANTS 4096

/* A '-' or '/' that starts a flag: pySigma's \B[-/]\b applied to each literal run, i.e.
 * a non-word character (or a wildcard, or the start) before it and a literal word character
 * after it. */
static bool windash_at(const sstr *in, size_t i) {
    return !in->w[i] && (in->b[i] == '-' || in->b[i] == '/') &&
           (i == 0 || in->w[i - 1] || !is_word(in->b[i - 1])) && i + 1 < in->n && !in->w[i + 1] &&
           is_word(in->b[i + 1]);
}

/* windash: every flag character independently replaced by each of the five dashes (all
 * combinations, as pySigma's placeholder expansion). False when there are too many. */
static bool windash_variants(const sstr *in, svec *out) {
    static const char *const dashes[] = {"-", "/", "\xe2\x80\x93", "\xe2\x80\x94", "\xe2\x80\x95"};
    size_t k = 0, total = 1;
    for (size_t i = 0; i < in->n; i++)
        if (windash_at(in, i)) {
            k++;
            total *= 5;
            if (total > SG_MAX_VARIANTS) return false;
        }
    for (size_t combo = 0; combo < total; combo++) {
        sstr s = {0};
        size_t digits = combo;
        for (size_t i = 0; i < in->n; i++) {
            if (windash_at(in, i)) {
                for (const char *q = dashes[digits % 5]; *q; q++) ss_push(&s, *q, 0);
                digits /= 5;
            } else {
                ss_push(&s, in->b[i], in->w[i]);
            }
        }
        sv_push(out, s);
    }
    return true;
}

static void utf16_encode(const sstr *in, sstr *out, int kind) {
    *out = (sstr){0};
    if (kind == ENC_U16BOM) {
        ss_push(out, (char)0xFF, 0);
        ss_push(out, (char)0xFE, 0);
    }
    const unsigned char *p = (const unsigned char *)in->b;
    size_t i = 0;
    while (i < in->n) {
        uint32_t cp = p[i];
        size_t k = 1;
        if (cp >= 0xF0 && i + 3 < in->n) {
            cp = ((cp & 7u) << 18) | ((p[i + 1] & 63u) << 12) | ((p[i + 2] & 63u) << 6) |
                 (p[i + 3] & 63u);
            k = 4;
        } else if (cp >= 0xE0 && i + 2 < in->n) {
            cp = ((cp & 15u) << 12) | ((p[i + 1] & 63u) << 6) | (p[i + 2] & 63u);
            k = 3;
        } else if (cp >= 0xC0 && i + 1 < in->n) {
            cp = ((cp & 31u) << 6) | (p[i + 1] & 63u);
            k = 2;
        }
        uint16_t units[2];
        int nu = 1;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            units[0] = (uint16_t)(0xD800 + (cp >> 10));
            units[1] = (uint16_t)(0xDC00 + (cp & 0x3FF));
            nu = 2;
        } else {
            units[0] = (uint16_t)cp;
        }
        for (int u = 0; u < nu; u++) {
            if (kind == ENC_U16BE) {
                ss_push(out, (char)(units[u] >> 8), 0);
                ss_push(out, (char)(units[u] & 0xFF), 0);
            } else {
                ss_push(out, (char)(units[u] & 0xFF), 0);
                ss_push(out, (char)(units[u] >> 8), 0);
            }
        }
        i += k;
    }
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64_encode(const unsigned char *in, size_t n, char *out) {
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64chars[(v >> 18) & 63];
        out[o++] = b64chars[(v >> 12) & 63];
        out[o++] = b64chars[(v >> 6) & 63];
        out[o++] = b64chars[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = b64chars[(v >> 18) & 63];
        out[o++] = b64chars[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    return o;
}

/* base64 (whole value) or base64offset (3 variants, pySigma's algorithm). */
static size_t b64_variants(const sstr *in, bool offset, sstr *out /* [3] */) {
    size_t cap = (in->n + 3) / 3 * 4 + 16;
    char *tmp = hm_xmalloc(cap + 8);
    unsigned char *src = hm_xmalloc(in->n + 3);
    size_t nv = 0;
    if (!offset) {
        size_t l = b64_encode((const unsigned char *)in->b, in->n, tmp);
        out[0] = (sstr){0};
        for (size_t k = 0; k < l; k++) ss_push(&out[0], tmp[k], 0);
        nv = 1;
    } else {
        static const int start_off[3] = {0, 2, 3};
        for (int i = 0; i < 3; i++) {
            memset(src, ' ', (size_t)i);
            memcpy(src + i, in->b, in->n);
            size_t l = b64_encode(src, in->n + (size_t)i, tmp);
            int rem = (int)((in->n + (size_t)i) % 3);
            int end_trim = rem == 0 ? 0 : rem == 1 ? 3 : 2;
            /* strip '=' padding first, as pySigma does via the trim table */
            size_t s = (size_t)start_off[i], e = l - (size_t)end_trim;
            out[nv] = (sstr){0};
            if (e > s)
                for (size_t k = s; k < e; k++) ss_push(&out[nv], tmp[k], 0);
            nv++;
        }
    }
    free(tmp);
    free(src);
    return nv;
}

/* ---------- predicates ---------- */

static uint32_t pred_new(loadctx *c, sg_pkind kind, int field, const hm_ynode *at) {
    hm_ruleset *rs = c->rs;
    GROW(rs->preds, rs->n_preds, rs->cap_preds);
    sg_pred *p = &rs->preds[rs->n_preds];
    memset(p, 0, sizeof(*p));
    p->kind = (uint8_t)kind;
    p->field = field;
    p->rule = c->rule_idx;
    p->field2 = -1;
    p->line = at ? at->line : 0;
    p->col = at ? at->col : 0;
    return (uint32_t)rs->n_preds++;
}

/* Build the predicate for one final string variant. */
static uint32_t pred_from_sstr(loadctx *c, int field, sstr *s, unsigned flags, const hm_ynode *at) {
    bool contains = flags & MOD_CONTAINS, starts = flags & MOD_STARTS, ends = flags & MOD_ENDS;
    /* only wildcards (or nothing) with a substring modifier: presence */
    bool all_star = s->n > 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->w[i] != 1) all_star = false;
    if (all_star || (s->n == 0 && (contains || starts || ends)))
        return pred_new(c, SG_P_PRESENT, field, at);
    if (s->n == 0) return pred_new(c, SG_P_EMPTY, field, at);
    uint32_t id = pred_new(c, SG_P_STR, field, at);
    sg_pred *p = &c->rs->preds[id];
    p->cased = flags & MOD_CASED;
    if (!s->has_wild) {
        p->match = contains ? SG_M_CONTAINS : starts ? SG_M_STARTS : ends ? SG_M_ENDS : SG_M_EXACT;
        p->val = hm_xmalloc(s->n + 1);
        memcpy(p->val, s->b, s->n);
        p->val[s->n] = 0;
        p->vlen = s->n;
        return id;
    }
    /* glob: edges from the modifiers (pySigma does not double an existing '*') */
    sstr g = {0};
    if ((contains || ends) && !(s->n && s->w[0] == 1)) ss_push(&g, '*', 1);
    for (size_t i = 0; i < s->n; i++) ss_push(&g, s->b[i], s->w[i]);
    if ((contains || starts) && !(s->n && s->w[s->n - 1] == 1)) ss_push(&g, '*', 1);
    /* '*' only at the edges ('10.32.*', '*.example.com', '*abc*'): the same as startswith,
     * endswith or contains, which both matchers test with plain comparisons */
    size_t lead = 0, trail = 0;
    while (lead < g.n && g.w[lead] == 1) lead++;
    while (trail < g.n - lead && g.w[g.n - 1 - trail] == 1) trail++;
    bool plain_middle = lead + trail < g.n;
    for (size_t i = lead; i < g.n - trail && plain_middle; i++)
        if (g.w[i]) plain_middle = false;
    if (plain_middle) {
        size_t n = g.n - lead - trail;
        p->match = lead && trail ? SG_M_CONTAINS : lead ? SG_M_ENDS : SG_M_STARTS;
        p->val = hm_xmalloc(n + 1);
        memcpy(p->val, g.b + lead, n);
        p->val[n] = 0;
        p->vlen = n;
        ss_free(&g);
        return id;
    }
    p->match = SG_M_GLOB;
    p->val = hm_xmalloc(g.n + 1);
    memcpy(p->val, g.b, g.n);
    p->val[g.n] = 0;
    p->wild = hm_xmalloc(g.n + 1);
    memcpy(p->wild, g.w, g.n);
    p->vlen = g.n;
    ss_free(&g);
    return id;
}

static bool parse_cidr(const char *s, sg_pred *p) {
    char buf[128];
    snprintf(buf, sizeof buf, "%s", s);
    char *slash = strchr(buf, '/');
    int prefix = -1;
    if (slash) {
        *slash = 0;
        char *end;
        long v = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1) return false;
        prefix = (int)v;
    }
    if (!sg_parse_ip(buf, strlen(buf), p->addr, &p->family)) return false;
    int maxp = p->family == 4 ? 32 : 128;
    if (prefix < 0) prefix = maxp;
    if (prefix > maxp) return false;
    p->prefix = prefix;
    return true;
}

static bool scalar_is_bool(const hm_ynode *v, bool *out) {
    if (!hm_y_is_scalar(v) || v->quoted) return false;
    if (!strcmp(v->str, "true") || !strcmp(v->str, "True") || !strcmp(v->str, "yes")) {
        *out = true;
        return true;
    }
    if (!strcmp(v->str, "false") || !strcmp(v->str, "False") || !strcmp(v->str, "no")) {
        *out = false;
        return true;
    }
    return false;
}

/* Resolve %name% placeholders (|expand) into one or more Sigma strings. */
static size_t expand_placeholders(loadctx *c, const hm_ynode *at, const char *v, char ***out) {
    char **res = hm_xcalloc(1, sizeof(char *));
    res[0] = hm_xstrdup(v);
    size_t n = 1;
    for (;;) {
        /* find the first unescaped %name% in res[0] (all variants share the structure) */
        const char *s = res[0];
        const char *a = NULL, *b = NULL;
        for (const char *q = s; *q; q++) {
            if (*q == '\\' && q[1] == '%') {
                q++;
                continue;
            }
            if (*q == '%') {
                const char *e = strchr(q + 1, '%');
                if (e && e > q + 1) {
                    a = q;
                    b = e;
                }
                break;
            }
        }
        if (!a) break;
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(b - a - 1), a + 1);
        placeholder *ph = NULL;
        for (size_t i = 0; i < c->n_ph; i++)
            if (!strcmp(c->ph[i].name, name)) ph = &c->ph[i];
        if (!ph) {
            lerr(c, at, "unresolved-placeholder",
                 "placeholder %%%s%% has no values (define it in the placeholders file)", name);
            for (size_t i = 0; i < n; i++) free(res[i]);
            free(res);
            *out = NULL;
            return 0;
        }
        char **next = hm_xcalloc(n * ph->n + 1, sizeof(char *));
        size_t nn = 0;
        for (size_t i = 0; i < n; i++) {
            const char *si = res[i];
            const char *ai = NULL;
            for (const char *q = si; *q; q++) {
                if (*q == '\\' && q[1] == '%') {
                    q++;
                    continue;
                }
                if (*q == '%') {
                    ai = q;
                    break;
                }
            }
            const char *bi = strchr(ai + 1, '%');
            for (size_t k = 0; k < ph->n; k++) {
                size_t l = (size_t)(ai - si) + strlen(ph->vals[k]) + strlen(bi + 1) + 1;
                char *x = hm_xmalloc(l);
                snprintf(x, l, "%.*s%s%s", (int)(ai - si), si, ph->vals[k], bi + 1);
                next[nn++] = x;
            }
            free(res[i]);
        }
        free(res);
        res = next;
        n = nn;
    }
    /* unescape \% */
    for (size_t i = 0; i < n; i++) {
        char *w = res[i];
        for (char *r = res[i]; *r; r++) {
            if (*r == '\\' && r[1] == '%') r++;
            *w++ = *r;
        }
        *w = 0;
    }
    *out = res;
    return n;
}

/* One rule value -> node (OR of its variants). Returns false on error. */
static bool value_node(loadctx *c, int field, const mods *m, const hm_ynode *v, uint32_t *node) {
    hm_ruleset *rs = c->rs;
    unsigned f = m->flags;
    if (!hm_y_is_scalar(v)) {
        lerr(c, v, "bad-value", "a detection value must be a scalar (string, number, null)");
        return false;
    }
    if (f & MOD_EXISTS) {
        bool b;
        if (!scalar_is_bool(v, &b)) {
            lerr(c, v, "bad-value", "'exists' takes true or false");
            return false;
        }
        uint32_t n = node_pred(rs, pred_new(c, SG_P_EXISTS, field, v));
        *node = b ? n : node_not(rs, n);
        return true;
    }
    if (v->is_null) {
        if (f & ~(MOD_CASED | MOD_NEQ)) { /* neq: applied to the item: "not absent" */
            lerr(c, v, "bad-value", "null cannot be combined with modifiers");
            return false;
        }
        *node = node_pred(rs, pred_new(c, SG_P_NULL, field, v));
        return true;
    }
    const char *s = v->str;
    if (f & MOD_RE) {
        uint32_t id = pred_new(c, SG_P_REGEX, field, v);
        sg_pred *p = &rs->preds[id];
        p->val = hm_xstrdup(s);
        p->vlen = strlen(s);
        p->cased = !(f & MOD_RE_I);
        uint32_t opts = PCRE2_DOLLAR_ENDONLY;
        if (f & MOD_RE_I) opts |= PCRE2_CASELESS;
        if (f & MOD_RE_M) opts |= PCRE2_MULTILINE;
        if (f & MOD_RE_S) opts |= PCRE2_DOTALL;
        if (f & MOD_RE_M) opts &= ~PCRE2_DOLLAR_ENDONLY;
        p->re_flags = opts;
        int ec;
        PCRE2_SIZE eo;
        p->re = pcre2_compile((PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, opts, &ec, &eo, NULL);
        if (!p->re) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(ec, msg, sizeof msg);
            lerr(c, v, "bad-regex", "invalid regular expression at offset %zu: %s", (size_t)eo,
                 (char *)msg);
            return false;
        }
        uint32_t cap = 0;
        pcre2_pattern_info(p->re, PCRE2_INFO_CAPTURECOUNT, &cap);
        if (cap + 1 > rs->max_regex_groups) rs->max_regex_groups = cap + 1;
        *node = node_pred(rs, id);
        return true;
    }
    if (f & MOD_CIDR) {
        uint32_t id = pred_new(c, SG_P_CIDR, field, v);
        if (!parse_cidr(s, &rs->preds[id])) {
            lerr(c, v, "bad-cidr", "'%s' is not an IPv4/IPv6 network (a.b.c.d/n)", s);
            return false;
        }
        *node = node_pred(rs, id);
        return true;
    }
    if (f & (MOD_NUM | MOD_TIME)) {
        double d;
        if (!sg_parse_double(hm_str_c(s), &d)) {
            lerr(c, v, "bad-value", "comparison needs a number, got '%s'", s);
            return false;
        }
        uint32_t id = pred_new(c, (f & MOD_TIME) ? SG_P_TIMEPART : SG_P_NUM, field, v);
        rs->preds[id].cmp = (f & MOD_NUM) ? m->cmp : SG_CMP_EQ;
        rs->preds[id].tpart = m->tpart;
        rs->preds[id].num = d;
        *node = node_pred(rs, id);
        return true;
    }
    if (f & MOD_FIELDREF) {
        if (strchr(s, '*') || strchr(s, '?')) {
            lerr(c, v, "bad-value", "fieldref names a field; wildcards are not allowed");
            return false;
        }
        uint32_t id = pred_new(c, SG_P_FIELDREF, field, v);
        int f2 = field_intern(rs, s);
        sg_pred *p = &rs->preds[id];
        p->field2 = f2;
        p->cased = f & MOD_CASED;
        p->match = (f & MOD_CONTAINS) ? SG_M_CONTAINS
                   : (f & MOD_STARTS) ? SG_M_STARTS
                   : (f & MOD_ENDS)   ? SG_M_ENDS
                                      : SG_M_EXACT;
        *node = node_pred(rs, id);
        return true;
    }
    if (f & MOD_YARA) {
        bool known = false;
        char **names = c->yara_names;
        for (size_t i = 0; i < c->n_yara_names; i++)
            if (!strcmp(names[i], s)) known = true;
        if (!known) {
            lerr(c, v, "unknown-yara-rule", "no YARA rule named '%s'%s", s,
                 c->opts && c->opts->yara_dir ? "" : " (no YARA folder configured)");
            return false;
        }
        uint32_t id = pred_new(c, SG_P_YARA, field, v);
        rs->preds[id].yara_rule = hm_xstrdup(s);
        *node = node_pred(rs, id);
        return true;
    }
    /* strings: expand -> parse escapes -> windash/encodings -> match modifier */
    char **bases;
    size_t nb;
    if (f & MOD_EXPAND) {
        nb = expand_placeholders(c, v, s, &bases);
        if (!nb) return false;
    } else {
        bases = hm_xcalloc(1, sizeof(char *));
        bases[0] = hm_xstrdup(s);
        nb = 1;
    }
    idvec kids = {0};
    bool ok = true;
    for (size_t bi = 0; bi < nb && ok; bi++) {
        svec cur = {0};
        sv_push(&cur, ss_parse(bases[bi], strlen(bases[bi])));
        for (int e = 0; e < m->n_enc && ok; e++) {
            svec next = {0};
            for (size_t k = 0; k < cur.n && ok; k++) {
                if (m->enc[e] != 99 && cur.v[k].has_wild) {
                    lerr(c, v, "bad-value", "wildcards cannot be combined with encoding modifiers");
                    ok = false;
                } else if (m->enc[e] == 99) {
                    if (!windash_variants(&cur.v[k], &next)) {
                        lerr(c, v, "too-many-variants",
                             "windash: too many flag characters in one value");
                        ok = false;
                    }
                } else if (m->enc[e] == ENC_B64 || m->enc[e] == ENC_B64OFF) {
                    sstr b[3];
                    size_t nv = b64_variants(&cur.v[k], m->enc[e] == ENC_B64OFF, b);
                    for (size_t j = 0; j < nv; j++) sv_push(&next, b[j]);
                } else {
                    sstr u;
                    utf16_encode(&cur.v[k], &u, m->enc[e]);
                    sv_push(&next, u);
                }
            }
            sv_free(&cur);
            cur = next;
            if (ok && cur.n * nb > SG_MAX_VARIANTS) {
                lerr(c, v, "too-many-variants", "value expands to more than %d variants",
                     SG_MAX_VARIANTS);
                ok = false;
            }
        }
        for (size_t k = 0; k < cur.n && ok; k++)
            idv_push(&kids, node_pred(rs, pred_from_sstr(c, field, &cur.v[k], f, v)));
        sv_free(&cur);
    }
    for (size_t i = 0; i < nb; i++) free(bases[i]);
    free(bases);
    if (ok) *node = node_list(rs, SG_N_OR, kids.v, kids.n);
    free(kids.v);
    return ok;
}

/* "Field|mod|mod": value or list -> node. */
static bool item_node(loadctx *c, const hm_ynode *key, const hm_ynode *val, uint32_t *node) {
    char *k = hm_xstrdup(key->str);
    char *parts[16];
    int np = 0;
    char *save = NULL;
    char *first = k;
    char *bar = strchr(k, '|');
    if (bar) *bar = 0;
    if (bar) {
        for (char *t = strtok_r(bar + 1, "|", &save); t && np < 16; t = strtok_r(NULL, "|", &save))
            parts[np++] = t;
    }
    mods m;
    bool ok = parse_mods(c, key, parts, np, &m);
    if (ok && (m.flags & MOD_EXISTS) && !first[0]) {
        lerr(c, key, "bad-modifier-chain", "'exists' needs a field");
        ok = false;
    }
    /* keyword with modifiers ('|all', '|cased'...): values are still searched as substrings
     * of the raw record, like plain keywords (S-DET-07), unless a modifier says otherwise */
    if (ok && !first[0] &&
        !(m.flags & (MOD_CONTAINS | MOD_STARTS | MOD_ENDS | MOD_RE | MOD_CIDR | MOD_NUM | MOD_TIME |
                     MOD_FIELDREF | MOD_YARA | MOD_EXISTS)))
        m.flags |= MOD_CONTAINS;
    int field = ok ? field_intern(c->rs, first) : -1;
    if (ok) {
        idvec kids = {0};
        if (val->type == HM_Y_SEQ) {
            if (val->n == 0) {
                idv_push(&kids, node_pred(c->rs, pred_new(c, SG_P_NULL, field, val)));
            } else {
                if ((m.flags & MOD_ALL) && val->n == 1)
                    lwarn(c, key, "all-single-value", "'all' on a single value has no effect");
                for (size_t i = 0; i < val->n && ok; i++) {
                    if (val->vals[i]->type == HM_Y_SCALAR && val->vals[i]->is_null && val->n > 1) {
                        lerr(c, val->vals[i], "bad-value", "null cannot be part of a value list");
                        ok = false;
                        break;
                    }
                    uint32_t n;
                    ok = value_node(c, field, &m, val->vals[i], &n);
                    if (ok) idv_push(&kids, n);
                }
            }
        } else if (val->type == HM_Y_SCALAR) {
            uint32_t n;
            ok = value_node(c, field, &m, val, &n);
            if (ok) idv_push(&kids, n);
        } else {
            lerr(c, val, "bad-value", "values of '%s' must be a scalar or a list", key->str);
            ok = false;
        }
        if (ok) {
            *node = node_list(c->rs, (m.flags & MOD_ALL) ? SG_N_AND : SG_N_OR, kids.v, kids.n);
            if (m.flags & MOD_NEQ) *node = node_not(c->rs, *node);
        }
        free(kids.v);
    }
    free(k);
    return ok;
}

/* A search identifier body -> node. */
static bool selection_node(loadctx *c, const hm_ynode *body, uint32_t *node, int depth) {
    hm_ruleset *rs = c->rs;
    if (depth > 4) {
        lerr(c, body, "bad-detection", "detection nested too deeply");
        return false;
    }
    if (body->type == HM_Y_MAP) {
        if (body->n == 0) {
            lerr(c, body, "empty-detection", "search identifier is empty");
            return false;
        }
        idvec kids = {0};
        bool ok = true;
        for (size_t i = 0; i < body->n && ok; i++) {
            for (size_t j = 0; j < i; j++)
                if (!strcmp(body->keys[i]->str, body->keys[j]->str)) {
                    lerr(c, body->keys[i], "duplicate-key",
                         "'%s' appears twice in one map (use |all or a second identifier)",
                         body->keys[i]->str);
                    ok = false;
                }
            uint32_t n;
            if (ok && (ok = item_node(c, body->keys[i], body->vals[i], &n))) idv_push(&kids, n);
        }
        if (ok) *node = node_list(rs, SG_N_AND, kids.v, kids.n);
        free(kids.v);
        return ok;
    }
    if (body->type == HM_Y_SEQ) {
        if (body->n == 0) {
            lerr(c, body, "empty-detection", "search identifier is empty");
            return false;
        }
        idvec kids = {0};
        bool ok = true;
        for (size_t i = 0; i < body->n && ok; i++) {
            const hm_ynode *it = body->vals[i];
            uint32_t n;
            if (it->type == HM_Y_SCALAR) {
                /* keyword: substring of the raw record (docs/sigma.md) */
                mods m = {.flags = MOD_CONTAINS};
                int field = field_intern(rs, "");
                ok = value_node(c, field, &m, it, &n);
            } else {
                ok = selection_node(c, it, &n, depth + 1);
            }
            if (ok) idv_push(&kids, n);
        }
        if (ok) *node = node_list(rs, SG_N_OR, kids.v, kids.n);
        free(kids.v);
        return ok;
    }
    if (body->is_null) {
        lerr(c, body, "empty-detection", "search identifier is empty");
        return false;
    }
    /* a single scalar keyword */
    mods m = {.flags = MOD_CONTAINS};
    return value_node(c, field_intern(rs, ""), &m, body, node);
}

/* ---------- condition ---------- */

typedef struct cparse {
    loadctx *c;
    const hm_ynode *at;
    const char *s, *p;
    char **names; /* identifier names */
    uint32_t *roots;
    size_t n;
    bool err;
} cparse;

static void cp_skip(cparse *cp) {
    while (*cp->p == ' ' || *cp->p == '\t' || *cp->p == '\n' || *cp->p == '\r') cp->p++;
}

static bool cp_word(cparse *cp, char *buf, size_t cap) {
    cp_skip(cp);
    const char *q = cp->p;
    while (*q && (isalnum((unsigned char)*q) || *q == '_' || *q == '-' || *q == '*' || *q == '.'))
        q++;
    if (q == cp->p) return false;
    size_t l = (size_t)(q - cp->p);
    if (l >= cap) l = cap - 1;
    memcpy(buf, cp->p, l);
    buf[l] = 0;
    return true;
}

static bool cp_accept(cparse *cp, const char *kw) {
    char w[256];
    const char *save = cp->p;
    if (cp_word(cp, w, sizeof w) && !strcmp(w, kw)) {
        cp->p += strlen(w);
        return true;
    }
    cp->p = save;
    return false;
}

static void cp_error(cparse *cp, const char *fmt, const char *arg) {
    if (cp->err) return;
    cp->err = true;
    char msg[512];
    snprintf(msg, sizeof msg, fmt, arg);
    lerr(cp->c, cp->at, "bad-condition", "condition '%s': %s (at offset %d)", cp->s, msg,
         (int)(cp->p - cp->s));
}

static uint32_t cp_or(cparse *cp);

static uint32_t cp_primary(cparse *cp) {
    hm_ruleset *rs = cp->c->rs;
    cp_skip(cp);
    if (*cp->p == '(') {
        cp->p++;
        uint32_t n = cp_or(cp);
        cp_skip(cp);
        if (*cp->p != ')') {
            cp_error(cp, "missing ')'%s", "");
            return n;
        }
        cp->p++;
        return n;
    }
    char w[256];
    if (!cp_word(cp, w, sizeof w)) {
        cp_error(cp, "expected an identifier, got '%.20s'", cp->p);
        return node_new(rs, SG_N_FALSE);
    }
    if (!strcmp(w, "1") || !strcmp(w, "any") || !strcmp(w, "all")) {
        const char *save = cp->p;
        cp->p += strlen(w);
        if (cp_accept(cp, "of")) {
            bool all = !strcmp(w, "all");
            char pat[256];
            if (!cp_word(cp, pat, sizeof pat)) {
                cp_error(cp, "expected a pattern or 'them' after 'of'%s", "");
                return node_new(rs, SG_N_FALSE);
            }
            cp->p += strlen(pat);
            idvec kids = {0};
            bool them = !strcmp(pat, "them");
            for (size_t i = 0; i < cp->n; i++) {
                if (them ? cp->names[i][0] == '_' : fnmatch(pat, cp->names[i], 0) != 0) continue;
                idv_push(&kids, cp->roots[i]);
            }
            if (!kids.n)
                lwarn(cp->c, cp->at, "empty-pattern",
                      "'%s of %s' matches no search identifier: treated as %s", w, pat,
                      all ? "true" : "false");
            uint32_t n = node_list(rs, all ? SG_N_AND : SG_N_OR, kids.v, kids.n);
            free(kids.v);
            return n;
        }
        cp->p = save;
    }
    if (!strcmp(w, "and") || !strcmp(w, "or") || !strcmp(w, "not") || !strcmp(w, "of")) {
        cp_error(cp, "unexpected keyword '%s'", w);
        return node_new(rs, SG_N_FALSE);
    }
    cp->p += strlen(w);
    if (strchr(w, '*')) {
        cp_error(cp, "a pattern needs '1 of' or 'all of': '%s'", w);
        return node_new(rs, SG_N_FALSE);
    }
    for (size_t i = 0; i < cp->n; i++)
        if (!strcmp(cp->names[i], w)) return cp->roots[i];
    cp_error(cp, "names a search identifier that does not exist: '%s'", w);
    return node_new(rs, SG_N_FALSE);
}

static uint32_t cp_not(cparse *cp) {
    if (cp_accept(cp, "not")) return node_not(cp->c->rs, cp_not(cp));
    return cp_primary(cp);
}

static uint32_t cp_and(cparse *cp) {
    idvec kids = {0};
    idv_push(&kids, cp_not(cp));
    while (!cp->err && cp_accept(cp, "and")) idv_push(&kids, cp_not(cp));
    uint32_t n = node_list(cp->c->rs, SG_N_AND, kids.v, kids.n);
    free(kids.v);
    return n;
}

static uint32_t cp_or(cparse *cp) {
    idvec kids = {0};
    idv_push(&kids, cp_and(cp));
    while (!cp->err && cp_accept(cp, "or")) idv_push(&kids, cp_and(cp));
    uint32_t n = node_list(cp->c->rs, SG_N_OR, kids.v, kids.n);
    free(kids.v);
    return n;
}

static bool parse_condition_str(loadctx *c, const hm_ynode *at, const char *s, char **names,
                                uint32_t *roots, size_t n, uint32_t *out) {
    if (strchr(s, '|')) {
        lerr(c, at, "obsolete-syntax",
             "condition uses a Sigma v1 pipe aggregation ('|'); use a correlation rule instead");
        return false;
    }
    cparse cp = {.c = c, .at = at, .s = s, .p = s, .names = names, .roots = roots, .n = n};
    uint32_t r = cp_or(&cp);
    cp_skip(&cp);
    if (!cp.err && *cp.p) cp_error(&cp, "unexpected '%s'", cp.p);
    *out = r;
    return !cp.err;
}

/* detection map -> condition root; fills sel names/roots for evidence */
static bool parse_detection(loadctx *c, const hm_ynode *det, sg_rule *r, uint32_t *root,
                            const char *prefix) {
    if (!det || det->type != HM_Y_MAP) {
        lerr(c, det, "bad-detection", "'detection' must be a map");
        return false;
    }
    const hm_ynode *cond = hm_ymap_get(det, "condition");
    if (!cond) {
        lerr(c, det, "missing-condition", "detection has no 'condition'");
        return false;
    }
    size_t nsel = 0;
    char **names = hm_xcalloc(det->n + 1, sizeof(char *));
    uint32_t *roots = hm_xcalloc(det->n + 1, sizeof(uint32_t));
    bool ok = true;
    for (size_t i = 0; i < det->n; i++) {
        const char *k = det->keys[i]->str;
        if (!strcmp(k, "condition")) continue;
        if (!strcmp(k, "timeframe")) {
            lerr(c, det->keys[i], "obsolete-syntax",
                 "'timeframe' was removed in Sigma v2; use a correlation rule");
            ok = false;
            continue;
        }
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(det->keys[j]->str, k)) dup = true;
        if (dup) {
            lerr(c, det->keys[i], "duplicate-key", "search identifier '%s' is defined twice", k);
            ok = false;
            continue;
        }
        uint32_t n;
        if (!selection_node(c, det->vals[i], &n, 0)) {
            ok = false;
            continue;
        }
        names[nsel] = hm_xstrdup(k);
        roots[nsel] = n;
        nsel++;
    }
    if (ok) {
        idvec alts = {0};
        if (cond->type == HM_Y_SCALAR) {
            uint32_t n;
            ok = parse_condition_str(c, cond, cond->str, names, roots, nsel, &n);
            idv_push(&alts, n);
        } else if (cond->type == HM_Y_SEQ && cond->n > 0) {
            for (size_t i = 0; i < cond->n && ok; i++) {
                uint32_t n;
                if (!hm_y_is_scalar(cond->vals[i])) {
                    lerr(c, cond->vals[i], "bad-condition", "condition list items must be strings");
                    ok = false;
                    break;
                }
                ok = parse_condition_str(c, cond->vals[i], cond->vals[i]->str, names, roots, nsel,
                                         &n);
                idv_push(&alts, n);
            }
        } else {
            lerr(c, cond, "bad-condition", "condition must be a string or a list of strings");
            ok = false;
        }
        if (ok) *root = node_list(c->rs, SG_N_OR, alts.v, alts.n);
        free(alts.v);
    }
    if (ok && r) {
        /* evidence: record every identifier's root (prefixed for filters) */
        size_t base = r->meta.n_selections;
        r->meta.selection_names =
            hm_xrealloc(r->meta.selection_names, (base + nsel + 1) * sizeof(char *));
        r->sel_roots = hm_xrealloc(r->sel_roots, (base + nsel + 1) * sizeof(uint32_t));
        for (size_t i = 0; i < nsel; i++) {
            char nm[300];
            snprintf(nm, sizeof nm, "%s%s", prefix ? prefix : "", names[i]);
            r->meta.selection_names[base + i] = hm_xstrdup(nm);
            r->sel_roots[base + i] = roots[i];
        }
        r->meta.n_selections = base + nsel;
    }
    for (size_t i = 0; i < nsel; i++) free(names[i]);
    free(names);
    free(roots);
    return ok;
}

/* ---------- documents ---------- */

static char *scalar_dup(const hm_ynode *n) {
    return hm_y_is_scalar(n) && !n->is_null ? hm_xstrdup(n->str) : NULL;
}

static char **str_list(loadctx *c, const hm_ynode *n, size_t *count, const char *what) {
    *count = 0;
    if (!n || n->is_null) return NULL;
    if (n->type == HM_Y_SCALAR) {
        char **v = hm_xcalloc(1, sizeof(char *));
        v[0] = hm_xstrdup(n->str);
        *count = 1;
        return v;
    }
    if (n->type != HM_Y_SEQ) {
        lwarn(c, n, "bad-metadata", "'%s' should be a list of strings", what);
        return NULL;
    }
    char **v = hm_xcalloc(n->n + 1, sizeof(char *));
    for (size_t i = 0; i < n->n; i++)
        if (hm_y_is_scalar(n->vals[i])) v[(*count)++] = hm_xstrdup(n->vals[i]->str);
    return v;
}

static void meta_free(hm_rule_meta *m) {
    free(m->id);
    free(m->name);
    free(m->title);
    free(m->description);
    free(m->status);
    free(m->author);
    for (size_t i = 0; i < m->n_tags; i++) free(m->tags[i]);
    free(m->tags);
    for (size_t i = 0; i < m->n_falsepositives; i++) free(m->falsepositives[i]);
    free(m->falsepositives);
    for (size_t i = 0; i < m->n_fields; i++) free(m->fields[i]);
    free(m->fields);
    free(m->ls_product);
    free(m->ls_category);
    free(m->ls_service);
    free(m->file);
    for (size_t i = 0; i < m->n_selections; i++) free(m->selection_names[i]);
    free(m->selection_names);
}

static bool logsource_value_ok(const char *v) {
    for (const char *q = v; *q; q++)
        if (!(islower((unsigned char)*q) || isdigit((unsigned char)*q) || *q == '_' || *q == '.' ||
              *q == '-'))
            return false;
    return true;
}

static bool parse_logsource(loadctx *c, const hm_ynode *ls, hm_rule_meta *m) {
    if (!ls || ls->type != HM_Y_MAP) {
        lerr(c, ls, "missing-logsource",
             "'logsource' (a map of product/category/service) is required");
        return false;
    }
    const char *keys[3] = {"product", "category", "service"};
    char **dst[3] = {&m->ls_product, &m->ls_category, &m->ls_service};
    for (int i = 0; i < 3; i++) {
        const hm_ynode *v = hm_ymap_get(ls, keys[i]);
        if (!v) continue;
        if (!hm_y_is_scalar(v) || v->is_null) {
            lerr(c, v, "bad-logsource", "logsource %s must be a string", keys[i]);
            return false;
        }
        if (!logsource_value_ok(v->str))
            lwarn(c, v, "bad-logsource", "logsource %s '%s' should be lowercase [a-z0-9_.-]",
                  keys[i], v->str);
        *dst[i] = hm_xstrdup(v->str);
    }
    return true;
}

static bool parse_meta(loadctx *c, const hm_ynode *doc, hm_rule_meta *m) {
    const hm_ynode *title = hm_ymap_get(doc, "title");
    if (!hm_y_is_scalar(title) || title->is_null) {
        lerr(c, doc, "missing-title", "'title' is required");
        return false;
    }
    if (strlen(title->str) > 256)
        lwarn(c, title, "long-title", "title is longer than 256 characters");
    m->title = hm_xstrdup(title->str);
    m->id = scalar_dup(hm_ymap_get(doc, "id"));
    m->name = scalar_dup(hm_ymap_get(doc, "name"));
    m->description = scalar_dup(hm_ymap_get(doc, "description"));
    m->status = scalar_dup(hm_ymap_get(doc, "status"));
    m->author = scalar_dup(hm_ymap_get(doc, "author"));
    m->file = hm_xstrdup(c->file);
    m->line = doc->line;
    m->generate = true;
    const hm_ynode *lv = hm_ymap_get(doc, "level");
    m->level = HM_LEVEL_MEDIUM;
    if (lv) {
        int found = -1;
        for (int i = 0; i < 5; i++)
            if (hm_y_is_scalar(lv) && !strcmp(lv->str, hm_level_names[i])) found = i;
        if (found < 0)
            lerr(c, lv, "bad-level", "level must be informational, low, medium, high or critical");
        else
            m->level = (hm_level)found;
    }
    if (m->status && strcmp(m->status, "stable") && strcmp(m->status, "test") &&
        strcmp(m->status, "experimental") && strcmp(m->status, "deprecated") &&
        strcmp(m->status, "unsupported"))
        lwarn(c, hm_ymap_get(doc, "status"), "bad-status", "unknown status '%s'", m->status);
    m->tags = str_list(c, hm_ymap_get(doc, "tags"), &m->n_tags, "tags");
    for (size_t i = 0; i < m->n_tags; i++) {
        const char *t = m->tags[i], *dot = strchr(t, '.');
        bool ok = dot && dot > t && dot[1];
        for (const char *q = t; *q && ok; q++)
            if (!(islower((unsigned char)*q) || isdigit((unsigned char)*q) || strchr("_-.", *q)))
                ok = false;
        if (!ok)
            lwarn(c, hm_ymap_get(doc, "tags"), "bad-tag",
                  "tag '%s' is not namespace.value in lowercase", t);
    }
    m->falsepositives =
        str_list(c, hm_ymap_get(doc, "falsepositives"), &m->n_falsepositives, "falsepositives");
    m->fields = str_list(c, hm_ymap_get(doc, "fields"), &m->n_fields, "fields");
    return !c->failed;
}

static sg_rule *rule_push(hm_ruleset *rs) {
    GROW(rs->rules, rs->n_rules, rs->cap_rules);
    sg_rule *r = &rs->rules[rs->n_rules];
    memset(r, 0, sizeof(*r));
    return r;
}

/* Roll back predicates/nodes a failed rule added (they are at the end of the arrays). */
static void rollback(hm_ruleset *rs, size_t n_preds, size_t n_nodes, size_t n_kids) {
    for (size_t i = n_preds; i < rs->n_preds; i++) {
        free(rs->preds[i].val);
        free(rs->preds[i].lval);
        free(rs->preds[i].wild);
        free(rs->preds[i].yara_rule);
        if (rs->preds[i].re) pcre2_code_free(rs->preds[i].re);
    }
    rs->n_preds = n_preds;
    rs->n_nodes = n_nodes;
    rs->n_kids = n_kids;
}

static void load_detection_rule(loadctx *c, const hm_ynode *doc) {
    hm_ruleset *rs = c->rs;
    size_t p0 = rs->n_preds, n0 = rs->n_nodes, k0 = rs->n_kids;
    sg_rule *r = rule_push(rs);
    c->failed = false;
    c->rule_idx = (uint32_t)rs->n_rules;
    const hm_ynode *t = hm_ymap_get(doc, "title");
    const hm_ynode *idn = hm_ymap_get(doc, "id");
    c->rule_label = hm_y_is_scalar(idn) ? idn->str : hm_y_is_scalar(t) ? t->str : NULL;
    bool ok = parse_meta(c, doc, &r->meta);
    if (ok) ok = parse_logsource(c, hm_ymap_get(doc, "logsource"), &r->meta);
    uint32_t root = 0;
    if (ok) ok = parse_detection(c, hm_ymap_get(doc, "detection"), r, &root, NULL);
    if (!ok || c->failed) {
        meta_free(&r->meta);
        free(r->sel_roots);
        rollback(rs, p0, n0, k0);
        return;
    }
    if (!r->meta.id) {
        /* stable id from file and title so alerts can still be keyed */
        char buf[64];
        uint64_t h =
            hm_hash64(r->meta.title, strlen(r->meta.title), hm_hash64(c->file, strlen(c->file), 0));
        snprintf(buf, sizeof buf, "noid-%016llx", (unsigned long long)h);
        r->meta.id = hm_xstrdup(buf);
    }
    r->root = root;
    r->enabled = true;
    r->ls_product = ls_intern(rs, r->meta.ls_product);
    r->ls_category = ls_intern(rs, r->meta.ls_category);
    r->cat_registry_event = r->meta.ls_category && !strcmp(r->meta.ls_category, "registry_event");
    r->ls_service = ls_intern(rs, r->meta.ls_service);
    rs->n_rules++;
}

/* ---------- files ---------- */

typedef struct fileset {
    char **v;
    size_t n, cap;
} fileset;

static void collect(const char *path, fileset *fs, hm_diags *d) {
    struct stat sb;
    if (stat(path, &sb) != 0) {
        hm_diags_add(d, HM_DIAG_ERROR, path, 0, 0, NULL, "io", "cannot read: %s", strerror(errno));
        return;
    }
    if (S_ISDIR(sb.st_mode)) {
        DIR *dir = opendir(path);
        if (!dir) {
            hm_diags_add(d, HM_DIAG_ERROR, path, 0, 0, NULL, "io", "cannot open folder: %s",
                         strerror(errno));
            return;
        }
        struct dirent *de;
        char **names = NULL;
        size_t nn = 0;
        while ((de = readdir(dir))) {
            if (de->d_name[0] == '.') continue;
            names = hm_xrealloc(names, (nn + 1) * sizeof(char *));
            names[nn++] = hm_xstrdup(de->d_name);
        }
        closedir(dir);
        for (size_t i = 0; i + 1 < nn; i++)
            for (size_t j = i + 1; j < nn; j++)
                if (strcmp(names[i], names[j]) > 0) {
                    char *t = names[i];
                    names[i] = names[j];
                    names[j] = t;
                }
        for (size_t i = 0; i < nn; i++) {
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, names[i]);
            struct stat s2;
            size_t l = strlen(names[i]);
            if (stat(sub, &s2) == 0 &&
                (S_ISDIR(s2.st_mode) || (l > 4 && !strcmp(names[i] + l - 4, ".yml")) ||
                 (l > 5 && !strcmp(names[i] + l - 5, ".yaml")))) {
                /* rule tests and mapping data live beside rules but are not rules */
                if (!(S_ISDIR(s2.st_mode) &&
                      (!strcmp(names[i], "tests") || !strcmp(names[i], "mappings") ||
                       !strcmp(names[i], "assets") || !strcmp(names[i], "yara"))) &&
                    strstr(names[i], ".test.") == NULL)
                    collect(sub, fs, d);
            }
            free(names[i]);
        }
        free(names);
        return;
    }
    GROW(fs->v, fs->n, fs->cap);
    fs->v[fs->n++] = hm_xstrdup(path);
}

static void load_placeholders(loadctx *c, const char *path) {
    hm_ydoc *docs;
    char err[1024];
    int nd = hm_yaml_load_file(path, &docs, err, sizeof err);
    if (nd < 0) {
        hm_diags_add(c->d, HM_DIAG_ERROR, path, 0, 0, NULL, "bad-placeholders", "%s", err);
        return;
    }
    if (nd >= 1 && docs[0].root && docs[0].root->type == HM_Y_MAP) {
        const hm_ynode *m = hm_ymap_get(docs[0].root, "placeholders");
        if (!m) m = docs[0].root;
        for (size_t i = 0; m->type == HM_Y_MAP && i < m->n; i++) {
            c->ph = hm_xrealloc(c->ph, (c->n_ph + 1) * sizeof(*c->ph));
            placeholder *ph = &c->ph[c->n_ph++];
            ph->name = hm_xstrdup(m->keys[i]->str);
            ph->vals = str_list(c, m->vals[i], &ph->n, "placeholder values");
        }
    }
    hm_ydocs_free(docs, nd);
}

/* Meta filter documents: rule_root := rule_root AND NOT (filter condition). */
static void apply_filter(loadctx *c, const hm_ynode *doc) {
    hm_ruleset *rs = c->rs;
    c->failed = false;
    const hm_ynode *t = hm_ymap_get(doc, "title");
    c->rule_label = hm_y_is_scalar(t) ? t->str : "filter";
    const hm_ynode *f = hm_ymap_get(doc, "filter");
    hm_rule_meta lm = {0};
    if (!hm_y_is_scalar(t)) lerr(c, doc, "missing-title", "filter needs a 'title'");
    if (!parse_logsource(c, hm_ymap_get(doc, "logsource"), &lm) || c->failed || !f ||
        f->type != HM_Y_MAP) {
        if (!c->failed) lerr(c, doc, "bad-filter", "filter needs 'logsource' and a 'filter' map");
        meta_free(&lm);
        return;
    }
    const hm_ynode *rules = hm_ymap_get(f, "rules");
    bool any = !rules || (hm_y_is_scalar(rules) && !strcmp(rules->str, "any")) ||
               (rules->type == HM_Y_SEQ && rules->n == 0);
    const hm_ynode *cond = hm_ymap_get(f, "condition");
    if (hm_y_is_scalar(cond) && !strncmp(cond->str, "not ", 4))
        lwarn(c, cond, "filter-negated",
              "filter conditions here name what to exclude (rule AND NOT filter); a leading "
              "'not' inverts that (pySigma style) - check the intent");
    /* build a detection map view without 'rules' */
    hm_ynode det = *f;
    det.keys = hm_xcalloc(f->n + 1, sizeof(hm_ynode *));
    det.vals = hm_xcalloc(f->n + 1, sizeof(hm_ynode *));
    det.n = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (!strcmp(f->keys[i]->str, "rules")) continue;
        det.keys[det.n] = f->keys[i];
        det.vals[det.n++] = f->vals[i];
    }
    size_t applied = 0;
    for (size_t ri = 0; ri < rs->n_rules; ri++) {
        sg_rule *r = &rs->rules[ri];
        bool named = any;
        if (!any && rules) {
            if (hm_y_is_scalar(rules))
                named = (r->meta.id && !strcmp(rules->str, r->meta.id)) ||
                        (r->meta.name && !strcmp(rules->str, r->meta.name));
            for (size_t k = 0; rules->type == HM_Y_SEQ && k < rules->n; k++)
                if (hm_y_is_scalar(rules->vals[k]) &&
                    ((r->meta.id && !strcmp(rules->vals[k]->str, r->meta.id)) ||
                     (r->meta.name && !strcmp(rules->vals[k]->str, r->meta.name))))
                    named = true;
        }
        if (!named) continue;
        /* logsource compatibility: every attribute the filter sets must equal the rule's */
        if ((lm.ls_product && (!r->meta.ls_product || strcmp(lm.ls_product, r->meta.ls_product))) ||
            (lm.ls_category &&
             (!r->meta.ls_category || strcmp(lm.ls_category, r->meta.ls_category))) ||
            (lm.ls_service && (!r->meta.ls_service || strcmp(lm.ls_service, r->meta.ls_service))))
            continue;
        c->rule_idx = (uint32_t)ri;
        uint32_t froot;
        char prefix[64];
        snprintf(prefix, sizeof prefix, "filter%zu:", rs->n_filters);
        if (!parse_detection(c, &det, r, &froot, prefix)) break;
        uint32_t kids[2] = {r->root, node_not(rs, froot)};
        r->root = node_list(rs, SG_N_AND, kids, 2);
        applied++;
    }
    if (!c->failed && !applied) lwarn(c, doc, "filter-unused", "filter applies to no loaded rule");
    rs->n_filters++;
    free(det.keys);
    free(det.vals);
    meta_free(&lm);
}

/* YARA rule names (for validating |yara values); loaded by sigma_yara.c */
int sg_yara_load(hm_ruleset *rs, const char *dir, hm_diags *d, char ***names, size_t *n);

hm_ruleset *hm_ruleset_load(const char *const *paths, size_t npaths, const hm_rules_opts *opts,
                            hm_diags *d) {
    int64_t t0 = hm_mono_ns();
    hm_ruleset *rs = hm_xcalloc(1, sizeof(*rs));
    for (int i = 0; i < HM_F_COUNT; i++) rs->tax_field[i] = -1;
    rs->raw_field = rs->time_field = -1;
    rs->tz = opts ? opts->tz : NULL;
    loadctx c = {.rs = rs, .d = d, .opts = opts};
    size_t errors0 = d->errors;
    if (opts && opts->placeholders_file) load_placeholders(&c, opts->placeholders_file);
    if (opts && opts->yara_dir) {
        char **names = NULL;
        size_t n = 0;
        sg_yara_load(rs, opts->yara_dir, d, &names, &n);
        c.yara_names = names;
        c.n_yara_names = n;
    }
    fileset fs = {0};
    for (size_t i = 0; i < npaths; i++) collect(paths[i], &fs, d);
    /* load every document first: filters and correlations refer across files */
    typedef struct loaded {
        char *file;
        hm_ydoc *docs;
        int n;
    } loaded;
    loaded *ld = hm_xcalloc(fs.n + 1, sizeof(*ld));
    for (size_t i = 0; i < fs.n; i++) {
        char err[1024];
        ld[i].file = fs.v[i];
        ld[i].n = hm_yaml_load_file(fs.v[i], &ld[i].docs, err, sizeof err);
        if (ld[i].n < 0) {
            /* err is "file:line:col: message" */
            int line = 0, col = 0;
            const char *q = err + strlen(fs.v[i]);
            if (*q == ':') sscanf(q + 1, "%d:%d", &line, &col);
            const char *msg = strstr(q + 1, ": ");
            hm_diags_add(d, HM_DIAG_ERROR, fs.v[i], line, col, NULL, "invalid-yaml", "%s",
                         msg ? msg + 2 : err);
            ld[i].n = 0;
        }
    }
    /* pass 1: detection rules */
    for (size_t i = 0; i < fs.n; i++) {
        c.file = ld[i].file;
        for (int k = 0; k < ld[i].n; k++) {
            const hm_ynode *doc = ld[i].docs[k].root;
            if (!doc) continue;
            if (doc->type != HM_Y_MAP) {
                c.rule_label = NULL;
                lerr(&c, doc, "bad-document", "a rule document must be a YAML map");
                continue;
            }
            if (hm_ymap_get(doc, "correlation")) continue; /* pass 3 */
            if (hm_ymap_get(doc, "filter") && !hm_ymap_get(doc, "detection")) continue;
            if (!hm_ymap_get(doc, "detection")) {
                if (hm_ymap_get(doc, "action")) continue; /* legacy collection actions */
                c.rule_label = hm_y_is_scalar(hm_ymap_get(doc, "title"))
                                   ? hm_ymap_get(doc, "title")->str
                                   : NULL;
                lerr(&c, doc, "bad-document",
                     "document has no 'detection', 'correlation' or 'filter'");
                continue;
            }
            const hm_ynode *st = hm_ymap_get(doc, "status");
            if (hm_y_is_scalar(st) &&
                (!strcmp(st->str, "unsupported") || !strcmp(st->str, "deprecated")) &&
                !(opts && opts->include_unsupported)) {
                rs->info.rules++; /* counted as seen, not loaded */
                continue;
            }
            load_detection_rule(&c, doc);
        }
    }
    /* duplicate ids */
    for (size_t i = 0; i < rs->n_rules; i++)
        for (size_t j = i + 1; j < rs->n_rules; j++)
            if (!strcmp(rs->rules[i].meta.id, rs->rules[j].meta.id))
                hm_diags_add(d, HM_DIAG_ERROR, rs->rules[j].meta.file, rs->rules[j].meta.line, 1,
                             rs->rules[j].meta.id, "duplicate-id", "rule id also used by %s:%d",
                             rs->rules[i].meta.file, rs->rules[i].meta.line);
    /* pass 2: filters */
    for (size_t i = 0; i < fs.n; i++) {
        c.file = ld[i].file;
        for (int k = 0; k < ld[i].n; k++) {
            const hm_ynode *doc = ld[i].docs[k].root;
            if (doc && doc->type == HM_Y_MAP && hm_ymap_get(doc, "filter") &&
                !hm_ymap_get(doc, "detection"))
                apply_filter(&c, doc);
        }
    }
    /* pass 3: correlations (they reference rules by id or name, across files) */
    {
        const char **cf = hm_xcalloc(fs.n + 1, sizeof(char *));
        hm_ydoc **cd = hm_xcalloc(fs.n + 1, sizeof(hm_ydoc *));
        int *cn = hm_xcalloc(fs.n + 1, sizeof(int));
        for (size_t i = 0; i < fs.n; i++) {
            cf[i] = ld[i].file;
            cd[i] = ld[i].docs;
            cn[i] = ld[i].n;
        }
        sg_load_correlations(rs, d, cf, cd, cn, fs.n);
        free(cf);
        free(cd);
        free(cn);
    }
    for (size_t i = 0; i < fs.n; i++) {
        hm_ydocs_free(ld[i].docs, ld[i].n);
        free(ld[i].file);
    }
    free(ld);
    free(fs.v);
    for (size_t i = 0; i < c.n_ph; i++) {
        free(c.ph[i].name);
        for (size_t k = 0; k < c.ph[i].n; k++) free(c.ph[i].vals[k]);
        free(c.ph[i].vals);
    }
    free(c.ph);
    char **yn = c.yara_names;
    for (size_t i = 0; i < c.n_yara_names; i++) free(yn[i]);
    free(yn);

    bool failed = d->errors > errors0;
    if (failed && !(opts && opts->skip_bad_rules)) {
        hm_ruleset_free(rs);
        return NULL;
    }
    if (sg_compile_databases(rs, d) != HM_OK) {
        hm_ruleset_free(rs);
        return NULL;
    }
    sg_compute_always(rs);
    rs->info.rules += rs->n_rules;
    rs->info.detection_rules = rs->n_rules - rs->n_correlations;
    rs->info.correlation_rules = rs->n_correlations;
    rs->info.filters = rs->n_filters;
    rs->info.predicates = rs->n_preds;
    rs->info.compile_s = (double)(hm_mono_ns() - t0) / 1e9;
    return rs;
}

size_t hm_ruleset_count(const hm_ruleset *rs) {
    return rs ? rs->n_rules : 0;
}
const hm_rule_meta *hm_ruleset_rule(const hm_ruleset *rs, size_t i) {
    return &rs->rules[i].meta;
}
void hm_ruleset_get_info(const hm_ruleset *rs, hm_ruleset_info *info) {
    *info = rs->info;
}

int hm_ruleset_find(const hm_ruleset *rs, const char *s) {
    for (size_t i = 0; i < rs->n_rules; i++)
        if (!strcmp(rs->rules[i].meta.id, s)) return (int)i;
    for (size_t i = 0; i < rs->n_rules; i++)
        if (rs->rules[i].meta.name && !strcmp(rs->rules[i].meta.name, s)) return (int)i;
    return -1;
}

void sg_yara_free(hm_ruleset *rs);

void hm_ruleset_free(hm_ruleset *rs) {
    if (!rs) return;
    for (size_t i = 0; i < rs->n_rules; i++) {
        meta_free(&rs->rules[i].meta);
        free(rs->rules[i].sel_roots);
    }
    free(rs->rules);
    rollback(rs, 0, 0, 0);
    free(rs->preds);
    free(rs->nodes);
    free(rs->kids);
    for (size_t i = 0; i < rs->n_fields; i++) free(rs->fields[i].name);
    free(rs->fields);
    for (size_t i = 0; i < rs->n_slots; i++) free(rs->slot_names[i]);
    free(rs->slot_names);
    free(rs->slot_lens);
    free(rs->slot_hash_idx);
    for (size_t i = 0; i < rs->n_ls; i++) free(rs->ls_names[i]);
    free(rs->ls_names);
    free(rs->ls_lens);
    for (size_t i = 0; i < rs->n_dbs; i++) {
        if (rs->dbs[i].db) hs_free_database(rs->dbs[i].db);
        free(rs->dbs[i].exact);
        sg_trie_free(rs->dbs[i].prefix);
        sg_trie_free(rs->dbs[i].suffix);
        free(rs->dbs[i].nums);
        free(rs->dbs[i].expr_start);
        free(rs->dbs[i].expr_preds);
        free(rs->dbs[i].rules);
    }
    free(rs->dbs);
    for (size_t i = 0; i < rs->n_list_dbs; i++) hs_free_database(rs->list_dbs[i].db);
    free(rs->list_dbs);
    if (rs->proto_scratch) hs_free_scratch(rs->proto_scratch);
    free(rs->always);
    sg_yara_free(rs);
    sg_corr_free(rs);
    free(rs);
}

/* A disabled rule entry carrying a correlation's metadata (alerts need title, level,
 * tags...). Returns its index, or -1 after reporting errors. */
int sg_add_meta_rule(hm_ruleset *rs, hm_diags *d, const char *file, const hm_ynode *doc) {
    loadctx c = {.rs = rs, .d = d, .file = file};
    const hm_ynode *t = hm_ymap_get(doc, "title");
    const hm_ynode *idn = hm_ymap_get(doc, "id");
    c.rule_label = hm_y_is_scalar(idn) ? idn->str : hm_y_is_scalar(t) ? t->str : NULL;
    sg_rule *r = rule_push(rs);
    if (!parse_meta(&c, doc, &r->meta)) {
        meta_free(&r->meta);
        return -1;
    }
    if (!r->meta.id) {
        char buf[64];
        uint64_t h =
            hm_hash64(r->meta.title, strlen(r->meta.title), hm_hash64(file, strlen(file), 0));
        snprintf(buf, sizeof buf, "noid-%016llx", (unsigned long long)h);
        r->meta.id = hm_xstrdup(buf);
    }
    r->meta.is_correlation = true;
    r->enabled = false;
    r->root = node_new(rs, SG_N_FALSE);
    return (int)rs->n_rules++;
}

char *hm_rules_default_placeholders(const char *const *paths, size_t n) {
    for (size_t i = 0; i < n; i++) {
        struct stat sb;
        if (stat(paths[i], &sb) != 0 || !S_ISDIR(sb.st_mode)) continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/district.yml", paths[i]);
        if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode)) return hm_xstrdup(p);
    }
    return NULL;
}
