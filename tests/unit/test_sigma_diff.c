/* Differential test: the compiled matcher (hm_detect: Hyperscan prefilter, candidate rules,
 * memoised predicates) against the reference evaluator (hm_detect_reference: every rule,
 * plain string code, no prefilter) on generated events.
 *
 * Events are built from the rules' own predicate values: for a target rule the generator
 * walks its condition tree and emits field values that make it true (exact values, values
 * embedded in text for contains, wildcard expansions with random fillers, regex samples,
 * addresses inside CIDRs, numbers around thresholds) or false, then mutates some of them
 * (case flips, one byte changed, truncated, prefix/suffix swapped, base64/UTF-16 encoded,
 * dashes swapped...). The event gets the target rule's logsource so that rule and its
 * logsource siblings are candidates, and it mixes in values of other rules of the same
 * logsource. Both engines see every event; their full answers (matched rules and
 * selection bitmasks) must be identical.
 *
 * Pairs are counted as events x applicable rules (enabled rules whose logsource is
 * compatible with the event). Corpus: SigmaHQ rules from ../shared/corpus/sigma (skipped
 * when absent); hand-written: tests/sigma/diff (every modifier the corpus does not use).
 *
 * Environment: HM_DIFF_EVENTS (corpus events, default 15000), HM_DIFF_HAND_EVENTS
 * (hand-written set events, default 150000), HM_DIFF_SEED. AddressSanitizer builds run
 * 1/20 of the events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "sigma.h"
#include "sigma_int.h"

#if defined(__SANITIZE_ADDRESS__)
#define HM_DIFF_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HM_DIFF_SANITIZER 1
#endif
#endif
#ifndef HM_DIFF_SANITIZER
#define HM_DIFF_SANITIZER 0
#endif

#define CORPUS_ROOT    "../shared/corpus/sigma"
#define REQUIRED_PAIRS 1000000ULL

/* ------------------------------------------------------------------------------------- */
/* random numbers (deterministic per seed)                                                */

static uint64_t g_rng = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void) {
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 0x2545F4914F6CDD1DULL;
}
static uint32_t rn(uint32_t n) {
    return n ? (uint32_t)(rnd() % n) : 0;
}
static bool chance(unsigned pct) {
    return rn(100) < pct;
}

/* ------------------------------------------------------------------------------------- */
/* per-event byte arena                                                                   */

#define ARENA_CAP (1u << 20)
static char *g_arena;
static size_t g_used;

static hm_str astr(const char *p, size_t n) {
    if (n > 4096) n = 4096; /* values stay small: the arena never runs out */
    if (g_used + n > ARENA_CAP) n = 0;
    char *d = g_arena + g_used;
    if (n) memcpy(d, p, n);
    g_used += n;
    return hm_str_n(d, n);
}

/* small build buffer */
typedef struct sb {
    char b[4096];
    size_t n;
} sb;
static void sb_putn(sb *s, const char *p, size_t n) {
    if (s->n + n > sizeof s->b) n = sizeof s->b - s->n;
    memcpy(s->b + s->n, p, n);
    s->n += n;
}
static void sb_putc(sb *s, char c) {
    sb_putn(s, &c, 1);
}
static void sb_puts(sb *s, const char *p) {
    sb_putn(s, p, strlen(p));
}

/* random filler text: letters, digits, punctuation used by command lines and paths, and
 * sometimes control, NUL and non-ASCII bytes */
static void filler(sb *s, size_t maxlen) {
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                "     \\\\//--..::==__\"'*?%|,;()[]{}$#@!&+~";
    size_t n = rn((uint32_t)maxlen + 1);
    for (size_t i = 0; i < n; i++) {
        uint32_t k = rn(100);
        if (k < 2)
            sb_putc(s, "\n\t\v\r"[rn(4)]);
        else if (k < 3)
            sb_putc(s, '\0');
        else if (k < 5)
            sb_puts(s, "\xc3\xa9"); /* e acute */
        else if (k < 6)
            sb_puts(s, "\xe2\x80\x93"); /* en dash */
        else
            sb_putc(s, alpha[rn(sizeof alpha - 1)]);
    }
}

static const char b64c[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static void b64(sb *o, const unsigned char *in, size_t n) {
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        char q[4] = {b64c[v >> 18 & 63], b64c[v >> 12 & 63], b64c[v >> 6 & 63], b64c[v & 63]};
        sb_putn(o, q, 4);
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        char q[4] = {b64c[v >> 18 & 63], b64c[v >> 12 & 63], i + 1 < n ? b64c[v >> 6 & 63] : '=',
                     '='};
        sb_putn(o, q, 4);
    }
}

/* A mutated copy of v: case variants, one-byte changes, truncation, prefix/suffix swap,
 * encodings, dash swaps. kind < 0 picks at random. */
static hm_str mutate(hm_str v, int kind) {
    sb o = {.n = 0};
    if (kind < 0) kind = (int)rn(14);
    size_t n = v.len;
    const char *p = v.p;
    switch (kind) {
    case 0: /* random case flips */
        for (size_t i = 0; i < n; i++) {
            char c = p[i];
            if (isalpha((unsigned char)c) && chance(50))
                c = (char)(islower((unsigned char)c) ? toupper(c) : tolower(c));
            sb_putc(&o, c);
        }
        break;
    case 1: /* upper */
        for (size_t i = 0; i < n; i++) sb_putc(&o, (char)toupper((unsigned char)p[i]));
        break;
    case 2: /* one byte changed */
        sb_putn(&o, p, n);
        if (n) {
            size_t i = rn((uint32_t)n);
            o.b[i] = chance(50) ? (char)(o.b[i] + 1) : "aZ0 -/\\*?\xc3"[rn(11)];
        }
        break;
    case 3: /* truncated at the end */
        sb_putn(&o, p, n ? n - 1 - rn((uint32_t)(n < 3 ? n : 3)) % n : 0);
        break;
    case 4: /* first byte dropped */
        if (n) sb_putn(&o, p + 1, n - 1);
        break;
    case 5: /* one byte inserted */ {
        size_t i = rn((uint32_t)n + 1);
        sb_putn(&o, p, i);
        sb_putc(&o, "x \\-/\n\0."[rn(8)]);
        sb_putn(&o, p + i, n - i);
        break;
    }
    case 6: /* prefix and suffix swapped (rotation) */ {
        size_t i = n ? rn((uint32_t)n) : 0;
        sb_putn(&o, p + i, n - i);
        sb_putn(&o, p, i);
        break;
    }
    case 7: /* base64 */
        b64(&o, (const unsigned char *)p, n);
        break;
    case 8: /* UTF-16LE of ASCII */
        for (size_t i = 0; i < n; i++) {
            sb_putc(&o, p[i]);
            sb_putc(&o, '\0');
        }
        break;
    case 9: /* embedded in text */
        filler(&o, 4);
        sb_putn(&o, p, n);
        filler(&o, 4);
        break;
    case 10: /* dashes and slashes swapped */
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '-' || p[i] == '/') {
                static const char *const d[] = {
                    "-", "/", "\xe2\x80\x93", "\xe2\x80\x94", "\xe2\x80\x95", "+"};
                sb_puts(&o, d[rn(6)]);
            } else {
                sb_putc(&o, p[i]);
            }
        }
        break;
    case 11: /* doubled */
        sb_putn(&o, p, n);
        sb_putn(&o, p, n);
        break;
    case 12: /* lower */
        for (size_t i = 0; i < n; i++) sb_putc(&o, (char)tolower((unsigned char)p[i]));
        break;
    default: /* empty */
        break;
    }
    return astr(o.b, o.n);
}

/* ------------------------------------------------------------------------------------- */
/* value generation per predicate                                                         */

enum { K_EXACT, K_STARTS, K_ENDS, K_PART };

#define MAXF     96
#define MAXPARTS 12
typedef struct facc {
    int field;
    bool has_exact, has_starts, has_ends;
    hm_str exact, starts, ends;
    hm_str parts[MAXPARTS];
    int nparts;
} facc;

typedef struct gen {
    const hm_ruleset *rs;
    facc f[MAXF];
    int nf;
    int64_t ts;
    int depth;
    unsigned mutate_pct; /* how often a value meant to hit is mutated (near miss, variant) */
} gen;

static facc *gf(gen *g, int field) {
    for (int i = 0; i < g->nf; i++)
        if (g->f[i].field == field) return &g->f[i];
    if (g->nf == MAXF) return NULL;
    facc *f = &g->f[g->nf++];
    memset(f, 0, sizeof(*f));
    f->field = field;
    return f;
}

static void emit(gen *g, int field, int kind, hm_str v) {
    facc *f = gf(g, field);
    if (!f) return;
    switch (kind) {
    case K_EXACT:
        if (!f->has_exact || chance(30)) f->exact = v;
        f->has_exact = true;
        break;
    case K_STARTS:
        if (!f->has_starts || chance(30)) f->starts = v;
        f->has_starts = true;
        break;
    case K_ENDS:
        if (!f->has_ends || chance(30)) f->ends = v;
        f->has_ends = true;
        break;
    default:
        if (f->nparts < MAXPARTS)
            f->parts[f->nparts++] = v;
        else
            f->parts[rn(MAXPARTS)] = v;
    }
}

/* Expands a glob: '*' -> random filler (often empty), '?' -> one random byte. */
static void glob_expand(const sg_pred *p, size_t from, size_t to, sb *o) {
    for (size_t i = from; i < to; i++) {
        if (p->wild && p->wild[i] == 1) {
            if (chance(60)) filler(o, 6);
        } else if (p->wild && p->wild[i] == 2) {
            uint32_t k = rn(10);
            if (k == 0)
                sb_puts(o, "\xc3\xa9"); /* two bytes: '?' is one byte, so a miss */
            else if (k == 1) {          /* nothing: a miss */
            } else
                sb_putc(o, "aZ9 -/\\.\n"[rn(9)]);
        } else {
            sb_putc(o, p->val[i]);
        }
    }
}

/* Hit value for a string predicate and how it sits in the field. */
static hm_str str_hit(const sg_pred *p, int *kind) {
    if (p->match != SG_M_GLOB) {
        *kind = p->match == SG_M_EXACT    ? K_EXACT
                : p->match == SG_M_STARTS ? K_STARTS
                : p->match == SG_M_ENDS   ? K_ENDS
                                          : K_PART;
        return hm_str_n(p->val, p->vlen);
    }
    size_t a = 0, b = p->vlen;
    bool lead = b && p->wild[0] == 1, trail = b && p->wild[b - 1] == 1;
    if (lead) a++;
    if (trail && b > a) b--;
    *kind = lead && trail ? K_PART : lead ? K_ENDS : trail ? K_STARTS : K_EXACT;
    sb o = {.n = 0};
    glob_expand(p, a, b, &o);
    return astr(o.b, o.n);
}

/* A string the regex probably matches: literal parts kept, classes sampled, first
 * alternative taken, quantifiers applied to the last token. */
static hm_str re_sample(const char *re) {
    sb o = {.n = 0};
    size_t n = strlen(re);
    size_t gstart[64], cap_s[10] = {0}, cap_e[10] = {0};
    int gnum[64], ncap = 0; /* capture group number per open group (0 = not capturing) */
    int depth = 0;
    size_t last = 0;
    bool have_last = false;
    for (size_t i = 0; i < n; i++) {
        char c = re[i];
        size_t tok = o.n;
        if (c == '\\' && i + 1 < n) {
            char e = re[++i];
            switch (e) {
            case 'd':
                sb_putc(&o, (char)('0' + rn(10)));
                break;
            case 'D':
                sb_putc(&o, 'x');
                break;
            case 'w':
                sb_putc(&o, "aZ_7"[rn(4)]);
                break;
            case 'W':
                sb_putc(&o, "- ./"[rn(4)]);
                break;
            case 's':
                sb_putc(&o, chance(80) ? ' ' : '\t');
                break;
            case 'S':
                sb_putc(&o, 'q');
                break;
            case 'n':
                sb_putc(&o, '\n');
                break;
            case 't':
                sb_putc(&o, '\t');
                break;
            case 'r':
                sb_putc(&o, '\r');
                break;
            case 'b':
            case 'B':
            case 'A':
            case 'z':
            case 'Z':
            case 'G':
                continue;
            case '1':
            case '2':
            case '3':
            case '4':
            case '5':
            case '6':
            case '7':
            case '8':
            case '9': {
                int k = e - '0'; /* back-reference: the group's sampled text again */
                if (k <= ncap && cap_e[k] >= cap_s[k]) {
                    char tmp[512];
                    size_t l = cap_e[k] - cap_s[k];
                    if (l > sizeof tmp) l = sizeof tmp;
                    memcpy(tmp, o.b + cap_s[k], l);
                    sb_putn(&o, tmp, l);
                }
                break;
            }
            case 'x': {
                unsigned v = 0;
                int k = 0;
                while (k < 2 && i + 1 < n && isxdigit((unsigned char)re[i + 1])) {
                    char h = re[++i];
                    v = v * 16 +
                        (unsigned)(isdigit((unsigned char)h) ? h - '0' : (tolower(h) - 'a' + 10));
                    k++;
                }
                sb_putc(&o, (char)v);
                break;
            }
            default:
                sb_putc(&o, e);
            }
        } else if (c == '[') {
            size_t k = i + 1;
            bool neg = k < n && re[k] == '^';
            if (neg) k++;
            char pick = 0;
            bool have = false;
            if (k < n && re[k] == ']') {
                pick = ']';
                have = true;
                k++;
            }
            while (k < n && re[k] != ']') {
                if (!have) {
                    if (re[k] == '\\' && k + 1 < n) {
                        char e = re[k + 1];
                        pick = e == 'd' ? '5' : e == 'w' ? 'k' : e == 's' ? ' ' : e;
                        have = true;
                        k += 2;
                        continue;
                    }
                    pick = re[k];
                    have = true;
                    if (k + 2 < n && re[k + 1] == '-' && re[k + 2] != ']') {
                        char hi = re[k + 2];
                        if ((unsigned char)hi >= (unsigned char)pick)
                            pick =
                                (char)((unsigned char)pick +
                                       rn((uint32_t)((unsigned char)hi - (unsigned char)pick + 1)));
                        k += 3;
                        continue;
                    }
                    k++;
                    continue;
                }
                if (re[k] == '\\') k++;
                k++;
            }
            i = k;
            sb_putc(&o, neg ? "Q~%"[rn(3)] : have ? pick : 'a');
        } else if (c == '(') {
            if (depth < 64) {
                gstart[depth] = o.n;
                gnum[depth] = (i + 1 < n && re[i + 1] == '?') ? 0 : ++ncap;
            }
            depth++;
            if (i + 1 < n && re[i + 1] == '?') {
                size_t k = i + 2;
                if (k + 1 < n && re[k] == '<' && (re[k + 1] == '=' || re[k + 1] == '!')) {
                    k += 2;
                } else if (k < n && (re[k] == 'P' || re[k] == '<' || re[k] == '\'')) {
                    while (k < n && re[k] != '>' && re[k] != '\'') k++;
                    k++;
                } else {
                    while (k < n && (isalpha((unsigned char)re[k]) || re[k] == '-')) k++;
                    if (k < n && re[k] == ')') { /* inline flags, no group */
                        depth--;
                        i = k;
                        continue;
                    }
                    if (k < n && (re[k] == ':' || re[k] == '=' || re[k] == '!' || re[k] == '>'))
                        k++;
                }
                i = k - 1;
            }
            continue;
        } else if (c == ')') {
            if (depth > 0) depth--;
            last = depth < 64 ? gstart[depth] : o.n;
            if (depth < 64 && gnum[depth] > 0 && gnum[depth] < 10) {
                cap_s[gnum[depth]] = gstart[depth];
                cap_e[gnum[depth]] = o.n;
            }
            have_last = true;
            continue;
        } else if (c == '|') {
            /* keep the first alternative: skip to the end of the enclosing group */
            int d = 0;
            size_t k = i + 1;
            for (; k < n; k++) {
                if (re[k] == '\\') {
                    k++;
                    continue;
                }
                if (re[k] == '[') {
                    k++;
                    if (k < n && re[k] == ']') k++;
                    while (k < n && re[k] != ']') k += re[k] == '\\' ? 2 : 1;
                    continue;
                }
                if (re[k] == '(')
                    d++;
                else if (re[k] == ')') {
                    if (d == 0) break;
                    d--;
                }
            }
            i = k - 1;
            continue;
        } else if (c == '*' || c == '+' || c == '?' || c == '{') {
            if (!have_last) continue;
            size_t tl = o.n - last;
            char tokbuf[512];
            if (tl > sizeof tokbuf) tl = sizeof tokbuf;
            memcpy(tokbuf, o.b + last, tl);
            size_t want = 1;
            if (c == '{') {
                unsigned lo = 0;
                size_t k = i + 1;
                while (k < n && isdigit((unsigned char)re[k]))
                    lo = lo * 10 + (unsigned)(re[k++] - '0');
                while (k < n && re[k] != '}') k++;
                i = k;
                want = lo > 8 ? 8 : lo;
            } else if (c == '*') {
                want = rn(3);
            } else if (c == '?') {
                want = rn(2);
            } else {
                want = 1 + rn(2);
            }
            o.n = last;
            for (size_t r = 0; r < want; r++) sb_putn(&o, tokbuf, tl);
            if (i + 1 < n && (re[i + 1] == '?' || re[i + 1] == '+')) i++;
            continue;
        } else if (c == '.') {
            sb_putc(&o, "xY3 -"[rn(5)]);
        } else if (c == '^' || c == '$') {
            continue;
        } else {
            sb_putc(&o, c);
        }
        last = tok;
        have_last = true;
    }
    return astr(o.b, o.n);
}

static hm_str ip_text(const uint8_t *a, int fam) {
    char buf[64];
    if (fam == 4) {
        if (chance(10)) {
            snprintf(buf, sizeof buf, "::ffff:%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
            return astr(buf, strlen(buf));
        }
        inet_ntop(AF_INET, a, buf, sizeof buf);
    } else {
        inet_ntop(AF_INET6, a, buf, sizeof buf);
        if (chance(20))
            for (char *q = buf; *q; q++) *q = (char)toupper((unsigned char)*q);
    }
    return astr(buf, strlen(buf));
}

static hm_str cidr_value(const sg_pred *p, bool inside) {
    uint8_t a[16];
    int bytes = p->family == 4 ? 4 : 16;
    memcpy(a, p->addr, (size_t)bytes);
    for (int bit = p->prefix; bit < bytes * 8; bit++)
        if (chance(50)) a[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
    if (!inside && p->prefix > 0) {
        int bit = (int)rn((uint32_t)p->prefix);
        a[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
    }
    if (chance(5)) return astr("not-an-ip", 9);
    return ip_text(a, p->family);
}

static hm_str num_value(double x) {
    char buf[64];
    switch (rn(9)) {
    case 0:
        snprintf(buf, sizeof buf, "%.0f", x);
        break;
    case 1:
        snprintf(buf, sizeof buf, "%.0f", x + 1);
        break;
    case 2:
        snprintf(buf, sizeof buf, "%.0f", x - 1);
        break;
    case 3:
        snprintf(buf, sizeof buf, "%g", x + 0.5);
        break;
    case 4:
        snprintf(buf, sizeof buf, "%g", x - 0.25);
        break;
    case 5:
        snprintf(buf, sizeof buf, "%.2f", x);
        break;
    case 6:
        snprintf(buf, sizeof buf, " %g", x * 10);
        break;
    case 7:
        snprintf(buf, sizeof buf, "%s",
                 (const char *[]){"abc", "", "12x", "-", "1e3", "0x10"}[rn(6)]);
        break;
    default:
        snprintf(buf, sizeof buf, "%g", x);
        break;
    }
    return astr(buf, strlen(buf));
}

static hm_str iso_time(void) {
    char buf[64];
    int len = snprintf(buf, sizeof buf, "20%02u-%02u-%02uT%02u:%02u:%02u%s", 20 + rn(8), 1 + rn(12),
                       1 + rn(28), rn(24), rn(60), rn(60),
                       (const char *[]){"Z", "", "+02:00", "-05:00", ".123Z", " junk"}[rn(6)]);
    if (chance(5)) return astr("yesterday", 9);
    return astr(buf, (size_t)len);
}

static hm_str token(void) {
    sb o = {.n = 0};
    static const char *const words[] = {"admin",           "Bob",   "svc_backup", "DC01$", "x",
                                        "C:\\Temp\\a.exe", "ALICE", "alice",      "root",  ""};
    sb_puts(&o, words[rn(10)]);
    if (chance(30)) filler(&o, 3);
    return astr(o.b, o.n);
}

static void gen_node(gen *g, uint32_t n, bool want);

static void gen_pred(gen *g, const sg_pred *p, bool want) {
    int field = p->field;
    switch (p->kind) {
    case SG_P_STR: {
        if (!want && chance(50)) return;
        int kind;
        hm_str v = str_hit(p, &kind);
        if (!want || chance(g->mutate_pct)) v = mutate(v, -1);
        emit(g, field, kind, v);
        return;
    }
    case SG_P_REGEX: {
        if (!want && chance(50)) return;
        hm_str v = re_sample(p->val);
        if (!want || chance(g->mutate_pct)) v = mutate(v, -1);
        emit(g, field, K_PART, v);
        return;
    }
    case SG_P_CIDR:
        if (!want && chance(40)) return;
        emit(g, field, K_EXACT, cidr_value(p, want ? chance(85) : chance(15)));
        return;
    case SG_P_NUM:
        if (!want && chance(30)) return;
        emit(g, field, K_EXACT, num_value(p->num));
        return;
    case SG_P_EXISTS:
    case SG_P_PRESENT:
        if (want) emit(g, field, chance(20) ? K_EXACT : K_PART, chance(20) ? astr("", 0) : token());
        return;
    case SG_P_NULL:
        if (!want) emit(g, field, K_PART, token());
        return;
    case SG_P_EMPTY:
        emit(g, field, K_EXACT, want && chance(85) ? astr("", 0) : token());
        return;
    case SG_P_FIELDREF: {
        hm_str t = token();
        emit(g, p->field2, K_EXACT, t);
        hm_str v = want ? (chance(30) ? mutate(t, chance(50) ? 0 : 1) : t) : mutate(t, -1);
        int kind = p->match == SG_M_EXACT    ? K_EXACT
                   : p->match == SG_M_STARTS ? K_STARTS
                   : p->match == SG_M_ENDS   ? K_ENDS
                                             : K_PART;
        emit(g, field, kind, v);
        return;
    }
    case SG_P_TIMEPART:
        if (g->rs->fields[field].tax == SG_F_TIME) {
            g->ts = ((int64_t)rn(8u * 365 * 86400) + 1577836800LL) * 1000000000LL + rn(1000000000);
        } else {
            emit(g, field, K_EXACT, iso_time());
        }
        return;
    case SG_P_YARA:
        /* tests/sigma/diff/yara: the YARA rules match text holding "yara-needle" */
        emit(g, field, K_PART, want ? astr("yara-needle", 11) : token());
        return;
    }
}

/* Emits values that make node n true (want) or false, following the tree. */
static void gen_node(gen *g, uint32_t n, bool want) {
    const hm_ruleset *rs = g->rs;
    if (++g->depth > 64) {
        g->depth--;
        return;
    }
    const sg_node *nd = &rs->nodes[n];
    switch (nd->kind) {
    case SG_N_PRED:
        gen_pred(g, &rs->preds[nd->pred], want);
        break;
    case SG_N_NOT:
        gen_node(g, rs->kids[nd->kid0], !want);
        break;
    case SG_N_AND:
    case SG_N_OR:
        if ((nd->kind == SG_N_AND) == want) {
            for (uint32_t i = 0; i < nd->nkids; i++) gen_node(g, rs->kids[nd->kid0 + i], want);
        } else if (nd->nkids) {
            gen_node(g, rs->kids[nd->kid0 + rn(nd->nkids)], want);
        }
        break;
    default:
        break;
    }
    g->depth--;
}

/* ------------------------------------------------------------------------------------- */
/* events                                                                                 */

typedef struct tev {
    hm_event ev;
    hm_record rec;
    hm_kv kv[HM_EVENT_MAX_EXTRA];
} tev;

static void set_field(const hm_ruleset *rs, tev *t, int field, hm_str v) {
    const sg_field *f = &rs->fields[field];
    if (f->tax >= 0) {
        hm_ev_set(&t->ev, (hm_field_id)f->tax, v);
    } else if (f->tax == -1 && t->ev.n_extra < HM_EVENT_MAX_EXTRA) {
        t->kv[t->ev.n_extra++] = (hm_kv){hm_str_c(f->name), v};
    }
}

static hm_str build_value(const facc *f) {
    if (f->has_exact && (chance(85) || (!f->nparts && !f->has_starts && !f->has_ends)))
        return f->exact;
    sb o = {.n = 0};
    if (f->has_starts)
        sb_putn(&o, f->starts.p, f->starts.len);
    else if (chance(50))
        filler(&o, 5);
    for (int i = 0; i < f->nparts; i++) {
        sb_putn(&o, f->parts[i].p, f->parts[i].len);
        if (i + 1 < f->nparts && chance(70)) filler(&o, 3);
    }
    if (f->has_ends)
        sb_putn(&o, f->ends.p, f->ends.len);
    else if (chance(50))
        filler(&o, 5);
    return astr(o.b, o.n);
}

/* Fills t from the accumulated values (plus the logsource and some noise). */
static void build_event(gen *g, tev *t, const hm_rule_meta *ls) {
    const hm_ruleset *rs = g->rs;
    memset(&t->ev, 0, sizeof(t->ev));
    t->ev.extra = t->kv;
    t->ev.rec = &t->rec;
    t->ev.ts_ns = g->ts;
    /* logsource of the target rule; sometimes damaged to test routing */
    const char *lsv[3] = {ls->ls_product, ls->ls_category, ls->ls_service};
    const hm_field_id lsf[3] = {HM_F_PRODUCT, HM_F_CATEGORY, HM_F_SERVICE};
    for (int i = 0; i < 3; i++) {
        if (!lsv[i]) {
            if (chance(3)) hm_ev_set_c(&t->ev, lsf[i], "other");
            continue;
        }
        if (chance(3)) continue;
        if (chance(2))
            hm_ev_set(&t->ev, lsf[i], mutate(hm_str_c(lsv[i]), 0));
        else
            hm_ev_set_c(&t->ev, lsf[i], lsv[i]);
    }
    /* noise: a few fields the rules know, with random text */
    int noise = (int)rn(3);
    for (int i = 0; i < noise && rs->n_fields; i++) {
        int fi = (int)rn((uint32_t)rs->n_fields);
        if (rs->fields[fi].tax == -1 || rs->fields[fi].tax >= 0) {
            sb o = {.n = 0};
            filler(&o, 12);
            emit(g, fi, K_PART, astr(o.b, o.n));
        }
    }
    sb raw = {.n = 0};
    sb_puts(&raw, "<134>Nov 23 10:00:00 host app: ");
    int raw_idx = -1;
    for (int i = 0; i < g->nf; i++) {
        const facc *f = &g->f[i];
        const sg_field *sf = &rs->fields[f->field];
        if (sf->tax == SG_F_TIME) continue;
        if (sf->tax == SG_F_RAW) {
            raw_idx = i;
            continue;
        }
        /* the product/category/service fields come from the logsource, not from values */
        if (sf->tax == HM_F_PRODUCT || sf->tax == HM_F_CATEGORY || sf->tax == HM_F_SERVICE)
            continue;
        hm_str v = build_value(f);
        if (chance(g->mutate_pct / 4)) v = mutate(v, -1);
        set_field(rs, t, f->field, v);
        if (chance(60)) {
            sb_puts(&raw, sf->name);
            sb_putc(&raw, '=');
            sb_putn(&raw, v.p, v.len);
            sb_putc(&raw, ' ');
        }
    }
    if (raw_idx >= 0) {
        hm_str v = build_value(&g->f[raw_idx]);
        sb_putn(&raw, v.p, v.len);
    }
    hm_str r = astr(raw.b, raw.n);
    t->rec.data = r.p;
    t->rec.len = r.len;
}

/* ------------------------------------------------------------------------------------- */
/* the differential                                                                       */

typedef struct diff_stats {
    uint64_t events, pairs, matched_pairs, events_with_match, target_matched, disagreements;
    size_t rules_hit, rules;
    size_t sels, sels_true; /* search identifiers of enabled rules; those seen true in a match */
    double secs;
} diff_stats;

static bool ls_compatible(const hm_rule_meta *m, const hm_event *ev) {
    const char *v[3] = {m->ls_product, m->ls_category, m->ls_service};
    const hm_field_id f[3] = {HM_F_PRODUCT, HM_F_CATEGORY, HM_F_SERVICE};
    for (int i = 0; i < 3; i++)
        if (v[i] && !(hm_ev_has(ev, f[i]) && hm_str_eq_c(ev->f[f[i]], v[i]))) return false;
    return true;
}

static void print_value(FILE *o, hm_str v) {
    fputc('\'', o);
    for (uint32_t i = 0; i < v.len && i < 400; i++) {
        unsigned char c = (unsigned char)v.p[i];
        if (c >= 32 && c < 127 && c != '\\')
            fputc(c, o);
        else
            fprintf(o, "\\x%02x", c);
    }
    fputc('\'', o);
}

static void report(const hm_ruleset *rs, const tev *t, const hm_match *a, size_t na,
                   const hm_match *b, size_t nb) {
    fprintf(stderr, "DISAGREEMENT\n  hm_detect (%zu):", na);
    for (size_t i = 0; i < na; i++)
        fprintf(stderr, " %s/sel=%llx", hm_ruleset_rule(rs, a[i].rule)->id,
                (unsigned long long)a[i].selections);
    fprintf(stderr, "\n  reference (%zu):", nb);
    for (size_t i = 0; i < nb; i++)
        fprintf(stderr, " %s/sel=%llx", hm_ruleset_rule(rs, b[i].rule)->id,
                (unsigned long long)b[i].selections);
    fprintf(stderr, "\n  rules in one answer only:");
    for (size_t i = 0, j = 0; i < na || j < nb;) {
        if (j >= nb || (i < na && a[i].rule < b[j].rule)) {
            fprintf(stderr, " %s (matcher only, %s)", hm_ruleset_rule(rs, a[i].rule)->id,
                    hm_ruleset_rule(rs, a[i].rule)->file);
            i++;
        } else if (i >= na || b[j].rule < a[i].rule) {
            fprintf(stderr, " %s (reference only, %s)", hm_ruleset_rule(rs, b[j].rule)->id,
                    hm_ruleset_rule(rs, b[j].rule)->file);
            j++;
        } else {
            if (a[i].selections != b[j].selections)
                fprintf(stderr, " %s (selections differ)", hm_ruleset_rule(rs, a[i].rule)->id);
            i++;
            j++;
        }
    }
    fprintf(stderr, "\n  event ts_ns=%lld raw=", (long long)t->ev.ts_ns);
    print_value(stderr, (hm_str){t->rec.data, t->rec.len});
    fputc('\n', stderr);
    for (int i = 0; i < HM_F_COUNT; i++)
        if (hm_ev_has(&t->ev, (hm_field_id)i)) {
            fprintf(stderr, "    %s=", hm_field_names[i]);
            print_value(stderr, t->ev.f[i]);
            fputc('\n', stderr);
        }
    for (uint16_t i = 0; i < t->ev.n_extra; i++) {
        fprintf(stderr, "    %.*s=", (int)t->kv[i].key.len, t->kv[i].key.p);
        print_value(stderr, t->kv[i].val);
        fputc('\n', stderr);
    }
}

static bool same_answer(const hm_match *a, size_t na, const hm_match *b, size_t nb) {
    if (na != nb) return false;
    for (size_t i = 0; i < na; i++)
        if (a[i].rule != b[i].rule || a[i].selections != b[i].selections) return false;
    return true;
}

static uint64_t env_u64(const char *name, uint64_t def) {
    const char *v = getenv(name);
    if (!v || !*v) return def;
    return strtoull(v, NULL, 10);
}

/* Runs n_events generated events against rs; returns the statistics. */
static diff_stats run_diff(const hm_ruleset *rs, uint64_t n_events) {
    diff_stats st = {0};
    size_t nr = hm_ruleset_count(rs);
    st.rules = 0;
    /* targets: enabled rules, shuffled; rules grouped by logsource for mixing */
    uint32_t *targets = calloc(nr + 1, sizeof(uint32_t));
    size_t nt = 0;
    for (size_t i = 0; i < nr; i++)
        if (rs->rules[i].enabled) targets[nt++] = (uint32_t)i;
    st.rules = nt;
    for (size_t i = nt; i > 1; i--) {
        size_t j = rn((uint32_t)i);
        uint32_t x = targets[i - 1];
        targets[i - 1] = targets[j];
        targets[j] = x;
    }
    uint8_t *hit = calloc(nr + 1, 1);
    uint64_t *seen = calloc(nr + 1, sizeof(uint64_t));
    hm_match *a = calloc(nr + 1, sizeof(hm_match));
    hm_match *b = calloc(nr + 1, sizeof(hm_match));
    hm_detector *d = hm_detector_new(rs);
    assert_non_null(d);
    gen *g = calloc(1, sizeof(gen));
    tev *t = calloc(1, sizeof(tev));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (uint64_t e = 0; e < n_events && nt; e++) {
        g_used = 0;
        memset(g, 0, sizeof(*g));
        g->rs = rs;
        g->ts = ((int64_t)rn(8u * 365 * 86400) + 1577836800LL) * 1000000000LL;
        /* a third of the events aim straight at the rule; the rest carry variants */
        g->mutate_pct = chance(35) ? 0 : 10 + rn(40);
        uint32_t target = targets[e % nt];
        const sg_rule *r = &rs->rules[target];
        gen_node(g, r->root, !chance(25));
        /* values of other rules: same logsource preferred (they are the candidates) */
        int others = (int)rn(3);
        for (int k = 0; k < others; k++) {
            uint32_t o = targets[rn((uint32_t)nt)];
            for (int tries = 0; tries < 8 && !chance(15); tries++) {
                const hm_rule_meta *m = &rs->rules[o].meta;
                if ((m->ls_product == NULL) == (r->meta.ls_product == NULL) &&
                    (!m->ls_product || !strcmp(m->ls_product, r->meta.ls_product)) &&
                    (!m->ls_category ||
                     (r->meta.ls_category && !strcmp(m->ls_category, r->meta.ls_category))))
                    break;
                o = targets[rn((uint32_t)nt)];
            }
            gen_node(g, rs->rules[o].root, chance(60));
        }
        build_event(g, t, &r->meta);
        size_t na = hm_detect(d, &t->ev, a, nr + 1);
        size_t nb = hm_detect_reference(rs, &t->ev, b, nr + 1);
        st.events++;
        for (size_t i = 0; i < nr; i++)
            if (rs->rules[i].enabled && ls_compatible(&rs->rules[i].meta, &t->ev)) st.pairs++;
        st.matched_pairs += na;
        if (na) st.events_with_match++;
        for (size_t i = 0; i < na && i <= nr; i++)
            if (a[i].rule == target) st.target_matched++;
        for (size_t i = 0; i < na && i <= nr; i++) {
            hit[a[i].rule] = 1;
            seen[a[i].rule] |= a[i].selections;
        }
        if (!same_answer(a, na, b, nb)) {
            st.disagreements++;
            if (st.disagreements <= 5) report(rs, t, a, na, b, nb);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    st.secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    for (size_t i = 0; i < nr; i++) {
        st.rules_hit += hit[i];
        const hm_rule_meta *m = &rs->rules[i].meta;
        for (size_t k = 0; rs->rules[i].enabled && k < m->n_selections && k < 64; k++) {
            if (!strncmp(m->selection_names[k], "filter", 6) && strchr(m->selection_names[k], ':'))
                continue; /* a meta filter's identifiers are false in every match */
            st.sels++;
            if (seen[i] >> k & 1)
                st.sels_true++;
            else if (getenv("HM_DIFF_LIST_MISSED"))
                printf("never true in a match: %s %s\n", m->id, m->selection_names[k]);
        }
    }
    if (getenv("HM_DIFF_LIST_MISSED")) /* generator tuning: rules no event matched */
        for (size_t i = 0; i < nr; i++)
            if (rs->rules[i].enabled && !hit[i])
                printf("never matched: %s\n", rs->rules[i].meta.file);
    hm_detector_free(d);
    free(g);
    free(t);
    free(a);
    free(b);
    free(hit);
    free(seen);
    free(targets);
    return st;
}

static void print_stats(const char *what, const diff_stats *st, double load_s) {
    printf("%s: %llu events, %llu (event, applicable rule) pairs, %llu matched pairs, %llu events "
           "with a match, %llu events matched their target rule, %zu of %zu rules matched at least "
           "once, %zu of %zu search identifiers true in some match, %llu disagreements; "
           "load+compile %.1f s, compare %.1f s\n",
           what, (unsigned long long)st->events, (unsigned long long)st->pairs,
           (unsigned long long)st->matched_pairs, (unsigned long long)st->events_with_match,
           (unsigned long long)st->target_matched, st->rules_hit, st->rules, st->sels_true,
           st->sels, (unsigned long long)st->disagreements, load_s, st->secs);
    fflush(stdout);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static uint64_t scaled(uint64_t n, bool *scaled_down) {
    *scaled_down = false;
    if (HM_DIFF_SANITIZER) {
        *scaled_down = true;
        n /= 20;
        if (n < 50) n = 50;
    }
    return n;
}

static void test_diff_corpus(void **state) {
    (void)state;
    if (!is_dir(CORPUS_ROOT "/rules")) {
        printf("skip: %s/rules not found (run from the repository root with the shared corpus)\n",
               CORPUS_ROOT);
        skip();
    }
    const char *paths[4];
    size_t np = 0;
    paths[np++] = CORPUS_ROOT "/rules";
    if (is_dir(CORPUS_ROOT "/rules-placeholder")) paths[np++] = CORPUS_ROOT "/rules-placeholder";
    if (is_dir(CORPUS_ROOT "/rules-threat-hunting"))
        paths[np++] = CORPUS_ROOT "/rules-threat-hunting";
    if (is_dir(CORPUS_ROOT "/rules-emerging-threats"))
        paths[np++] = CORPUS_ROOT "/rules-emerging-threats";
    hm_rules_opts o = {.placeholders_file = "tests/sigma/corpus-placeholders.yml",
                       .skip_bad_rules = true};
    hm_diags dg = {0};
    double t0 = now_s();
    hm_ruleset *rs = hm_ruleset_load(paths, np, &o, &dg);
    double load_s = now_s() - t0;
    if (dg.errors) hm_diags_print_text(&dg, stdout);
    assert_non_null(rs);
    assert_int_equal(dg.errors, 0);
    hm_diags_free(&dg);
    bool custom = getenv("HM_DIFF_EVENTS") && *getenv("HM_DIFF_EVENTS");
    bool down;
    uint64_t n = scaled(env_u64("HM_DIFF_EVENTS", 15000), &down);
    printf("corpus: %zu rules loaded from %zu folders, seed %llu%s\n", hm_ruleset_count(rs), np,
           (unsigned long long)env_u64("HM_DIFF_SEED", 1),
           down ? ", sanitizer build: 1/20 of the events" : "");
    diff_stats st = run_diff(rs, n);
    print_stats("corpus differential", &st, load_s);
    assert_int_equal(st.disagreements, 0);
    /* not vacuous: most events are routed to many rules and rules do fire */
    assert_true(st.pairs >= st.events * 10);
    assert_true(st.target_matched * 5 >= st.events);
    if (!down && !custom) assert_true(st.rules_hit * 4 >= st.rules * 3);
    if (!down && !custom)
        assert_true(st.pairs >= REQUIRED_PAIRS);
    else if (st.pairs < REQUIRED_PAIRS)
        printf("note: %llu pairs (< %llu) because the run was scaled down\n",
               (unsigned long long)st.pairs, (unsigned long long)REQUIRED_PAIRS);
    hm_ruleset_free(rs);
}

static hm_tz g_chicago;

static void test_diff_handwritten(void **state) {
    (void)state;
    const char *paths[] = {"tests/sigma/diff/rules"};
    hm_rules_opts o = {.placeholders_file = "tests/sigma/diff/placeholders.yml",
                       .yara_dir = "tests/sigma/diff/yara",
                       .tz = &g_chicago};
    hm_diags dg = {0};
    double t0 = now_s();
    hm_ruleset *rs = hm_ruleset_load(paths, 1, &o, &dg);
    double load_s = now_s() - t0;
    if (dg.errors) hm_diags_print_text(&dg, stdout);
    assert_non_null(rs);
    assert_int_equal(dg.errors, 0);
    hm_diags_free(&dg);
    /* the set must use every modifier the corpus does not */
    bool kinds[16] = {0};
    for (size_t i = 0; i < rs->n_preds; i++) kinds[rs->preds[i].kind] = true;
    assert_true(kinds[SG_P_EXISTS] && kinds[SG_P_NUM] && kinds[SG_P_TIMEPART] &&
                kinds[SG_P_FIELDREF] && kinds[SG_P_CIDR] && kinds[SG_P_YARA] && kinds[SG_P_NULL] &&
                kinds[SG_P_EMPTY]);
    bool v6 = false, cased = false;
    for (size_t i = 0; i < rs->n_preds; i++) {
        if (rs->preds[i].kind == SG_P_CIDR && rs->preds[i].family == 6) v6 = true;
        if (rs->preds[i].kind == SG_P_STR && rs->preds[i].cased) cased = true;
    }
    assert_true(v6 && cased);
    bool custom = getenv("HM_DIFF_HAND_EVENTS") && *getenv("HM_DIFF_HAND_EVENTS");
    bool down;
    uint64_t n = scaled(env_u64("HM_DIFF_HAND_EVENTS", 150000), &down);
    printf("hand-written: %zu rules, %zu predicates, seed %llu%s\n", hm_ruleset_count(rs),
           rs->n_preds, (unsigned long long)env_u64("HM_DIFF_SEED", 1),
           down ? ", sanitizer build: 1/20 of the events" : "");
    diff_stats st = run_diff(rs, n);
    print_stats("hand-written differential", &st, load_s);
    assert_int_equal(st.disagreements, 0);
    assert_true(st.pairs >= st.events * 5);
    assert_true(st.target_matched * 5 >= st.events);
    assert_int_equal(st.rules_hit, st.rules);
    assert_true(st.sels_true * 10 >=
                st.sels * 9); /* the generator reaches (nearly) every identifier */
    if (!down && !custom) assert_true(st.pairs >= REQUIRED_PAIRS);
    hm_ruleset_free(rs);
}

static int setup(void **state) {
    (void)state;
    hm_log_quiet = 1;
    /* splitmix64 of the seed: never the all-zero xorshift state */
    uint64_t z = env_u64("HM_DIFF_SEED", 1) + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    g_rng = (z ^ (z >> 31)) | 1;
    g_arena = malloc(ARENA_CAP);
    if (!g_arena) return -1;
    if (hm_tz_load(&g_chicago, "America/Chicago", 2018, 2030) != HM_OK) return -1;
    return 0;
}
static int teardown(void **state) {
    (void)state;
    free(g_arena);
    hm_tz_free(&g_chicago);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_handwritten),
        cmocka_unit_test(test_diff_corpus),
    };
    return cmocka_run_group_tests_name("sigma_diff", tests, setup, teardown);
}
