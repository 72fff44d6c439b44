/* incident.c - alerts -> prioritized incidents. See incident.h and docs/incidents.md.
 *
 * Data flow (writer thread only):
 *   feed(lines) -> for every alert line: parse (jsmn) -> field values -> entity ->
 *   suppression? -> entity risk record -> incident (open or join) -> evidence ->
 *   the alert line is rewritten with "incident_id" (or "suppressed")
 *   flush() -> one incident line per changed incident -> close incidents past the window. */
#include "incident.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <strings.h>

#include "json_lines.h"
#include "sigma.h"
#include "timeutil.h"
#include "yamltree.h"

const char *const hm_priority_names[5] = {"info", "low", "medium", "high", "critical"};

int hm_priority_rank(const char *w) {
    if (!w) return -1;
    if (!strcasecmp(w, "info") || !strcasecmp(w, "informational")) return 0;
    if (!strcasecmp(w, "low")) return 1;
    if (!strcasecmp(w, "medium") || !strcasecmp(w, "med")) return 2;
    if (!strcasecmp(w, "high")) return 3;
    if (!strcasecmp(w, "critical") || !strcasecmp(w, "crit")) return 4;
    return -1;
}

/* ---- scoring constants (docs/incidents.md "Score") ---- */

static const int LEVEL_PTS[5] = {5, 20, 40, 60, 80};  /* max rule level of the incident */
static const double RISK_PTS[5] = {0, 5, 10, 20, 30}; /* per alert, damped per rule */
static const int CRIT_PTS[5] = {0, -10, 0, 10, 20};   /* criticality 1 low .. 4 critical */
static const char *const CRIT_NAMES[5] = {"none", "low", "medium", "high", "critical"};
#define RISK_CAP          40
#define RULE_REPEAT_CAP   2.0 /* repeats of one rule count at most twice its points */
#define ATTACK_PER_TACTIC 5
#define ATTACK_CAP        15
static int bucket_of(int score) {
    return score >= 80 ? 4 : score >= 60 ? 3 : score >= 40 ? 2 : score >= 20 ? 1 : 0;
}

/* bounded evidence per incident: the first N and the latest N alerts */
#define EV_FIRST      5
#define EV_LAST       5
#define MAX_TECHS     16
#define MAX_ASSETS    8
#define MAX_SD        5
#define MAX_RULES_OUT 20
#define RAW_MAX       300

/* ---- ATT&CK tactics ---- */

static const char *const TACTICS[] = {
    "reconnaissance",  "resource_development",
    "initial_access",  "execution",
    "persistence",     "privilege_escalation",
    "defense_evasion", "credential_access",
    "discovery",       "lateral_movement",
    "collection",      "command_and_control",
    "exfiltration",    "impact",
};
#define N_TACTICS (sizeof(TACTICS) / sizeof(TACTICS[0]))

/* ---- next steps (built-in table; docs/incidents.md) ---- */

enum {
    ST_ESCALATE,
    ST_STUDENT,
    ST_SAFETY,
    ST_VISITOR,
    ST_DOOR,
    ST_CRED,
    ST_VALID,
    ST_PERSIST,
    ST_GRADES,
    ST_EXPORT,
    ST_EXFIL,
    ST_EVASION,
    ST_LATERAL,
    ST_C2,
    ST_IMPACT,
    ST_BLOCK_IP,
    ST_COUNT
};
static const char *const STEP_TEXT[ST_COUNT] = {
    [ST_ESCALATE] = "Critical: notify the IT director now and follow the district incident "
                    "response plan; preserve logs before anything is changed.",
    [ST_STUDENT] = "Student records are involved: note when the district first knew, preserve "
                   "the evidence and check breach-notification duties (hallmonitor report "
                   "breach).",
    [ST_SAFETY] = "A student may be at risk: contact the principal or counselor on call under the "
                  "safeguarding procedure today; share details on a need-to-know basis only.",
    [ST_VISITOR] = "Call the front office and the school resource officer now; follow the "
                   "visitor safety protocol for the site.",
    [ST_DOOR] = "Check camera footage for the door at the alert time and send the SRO, "
                "custodian or an administrator to inspect it.",
    [ST_CRED] = "Check whether {entity} signed in successfully after the failures (SIS/IdP "
                "logs); if so, reset the password, sign out all sessions and require MFA.",
    [ST_VALID] = "Confirm with the account owner that the sign-in was theirs (time, place, "
                 "device); if not, disable the account and reset its password.",
    [ST_PERSIST] = "Check the new account, role or rule against a change ticket; remove it if "
                   "nobody can vouch for it.",
    [ST_GRADES] = "Ask the registrar to compare the changed grades with the teacher's gradebook "
                  "and roll back changes nobody authorized.",
    [ST_EXPORT] = "Identify the exported report and its rows; confirm with the data owner that "
                  "the export was authorized.",
    [ST_EXFIL] = "Find out what left the district (files, row counts, destination) and keep the "
                 "logs; block the destination if it is not a known vendor.",
    [ST_EVASION] = "Compare the configuration with the last backup, revert unauthorized changes "
                   "and make sure logging is still on.",
    [ST_LATERAL] = "Identify the device behind the source address (DHCP/RADIUS logs) and isolate "
                   "it (switch port or NAC) until it is checked.",
    [ST_C2] = "Block the destination at the web filter/firewall and check the device for "
              "malware.",
    [ST_IMPACT] = "Find out what was changed, deleted or encrypted and restore it from a known "
                  "good copy; if files are being encrypted, isolate the systems and check that "
                  "backups are intact and offline.",
    [ST_BLOCK_IP] = "If {src_ip} is not a vendor or district address, block it at the firewall.",
};
static const char *const STEP_FALLBACK =
    "Review the alerts and raw events; if this is expected activity, add a suppression with an "
    "expiry date and a reason (rules/assets/suppressions.yml).";

/* ---- a small string map (chained, power-of-two buckets) ---- */

typedef struct mnode {
    struct mnode *next;
    uint64_t h;
    void *val;
    uint32_t klen;
    char key[];
} mnode;

typedef struct smap {
    mnode **b;
    size_t nb, n;
} smap;

static uint64_t hkey(const char *k, size_t n) {
    return hm_hash64(k, n, 0x68616c6cULL);
}

static mnode *smap_find(const smap *m, const char *k, size_t n, uint64_t h) {
    if (!m->nb) return NULL;
    for (mnode *x = m->b[h & (m->nb - 1)]; x; x = x->next)
        if (x->h == h && x->klen == n && !memcmp(x->key, k, n)) return x;
    return NULL;
}

static mnode *smap_add(smap *m, const char *k, size_t n, uint64_t h, void *val) {
    if (m->n + 1 > m->nb) {
        size_t nb = m->nb ? m->nb * 2 : 256;
        mnode **b = hm_xcalloc(nb, sizeof(*b));
        for (size_t i = 0; i < m->nb; i++)
            for (mnode *x = m->b[i], *nx; x; x = nx) {
                nx = x->next;
                x->next = b[x->h & (nb - 1)];
                b[x->h & (nb - 1)] = x;
            }
        free(m->b);
        m->b = b;
        m->nb = nb;
    }
    mnode *x = hm_xmalloc(sizeof(*x) + n + 1);
    x->h = h;
    x->klen = (uint32_t)n;
    x->val = val;
    memcpy(x->key, k, n);
    x->key[n] = 0;
    x->next = m->b[h & (m->nb - 1)];
    m->b[h & (m->nb - 1)] = x;
    m->n++;
    return x;
}

static void smap_del(smap *m, mnode *node) {
    mnode **pp = &m->b[node->h & (m->nb - 1)];
    while (*pp && *pp != node) pp = &(*pp)->next;
    if (*pp) {
        *pp = node->next;
        free(node);
        m->n--;
    }
}

/* ---- field slots: the alert fields the engine reads, looked up once per alert ---- */

enum {
    F_USER,
    F_USER_ROLE,
    F_VISITOR,
    F_BADGE,
    F_SRC_IP,
    F_DOOR_ID,
    F_DEVICE_ID,
    F_HOST,
    F_SITE,
    F_DST_IP,
    F_NAT_IP,
    F_PRODUCT,
    F_SRC_TYPE,
    F_EVENT,
    F_CATEGORY,
    F_STUDENT,
    F_DOOR,
    F_WATCHLIST,
    F_REPORT,
    F_ROW_COUNT,
    F_OBJECT,
    F_TARGET_USER,
    F_URL,
    F_DOMAIN,
    F_FIXED
};
static const char *const FIXED_SLOTS[F_FIXED] = {
    "user", "user_role", "visitor", "badge",     "src_ip",   "door_id",     "device_id", "host",
    "site", "dst_ip",    "nat_ip",  "product",   "src_type", "event",       "category",  "student",
    "door", "watchlist", "report",  "row_count", "object",   "target_user", "url",       "domain",
};

/* entity precedence: first present wins (group-by values and fields alike) */
static const struct {
    const char *type;
    int slot;
} ENTITY_ORDER[] = {
    {"user", F_USER},    {"visitor", F_VISITOR}, {"badge", F_BADGE},    {"src_ip", F_SRC_IP},
    {"door", F_DOOR_ID}, {"host", F_HOST},       {"host", F_DEVICE_ID}, {"site", F_SITE},
};

/* summary fields shown per evidence alert */
static const int SUMMARY_SLOTS[] = {F_EVENT,   F_USER,   F_SRC_IP,    F_DST_IP, F_HOST,
                                    F_DOOR_ID, F_DOOR,   F_SITE,      F_BADGE,  F_VISITOR,
                                    F_STUDENT, F_REPORT, F_ROW_COUNT, F_OBJECT, F_DOMAIN};

/* ---- patterns: globs (case-insensitive) and CIDR ranges ---- */

typedef struct pat {
    char *s;
    bool glob; /* has * ? [ */
    bool cidr; /* an IP or CIDR: compared as addresses when the value is an IP */
    int fam, bits;
    uint8_t addr[16];
} pat;

typedef struct patset {
    pat *v;
    size_t n;
} patset;

static bool parse_ip(const char *s, size_t n, int *fam, uint8_t out[16]) {
    char buf[64];
    if (n == 0 || n >= sizeof buf) return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    memset(out, 0, 16);
    if (inet_pton(AF_INET, buf, out) == 1) {
        *fam = 4;
        return true;
    }
    if (inet_pton(AF_INET6, buf, out) == 1) {
        *fam = 6;
        return true;
    }
    return false;
}

static bool parse_cidr(const char *s, pat *p) {
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (!parse_ip(s, n, &p->fam, p->addr)) return false;
    int max = p->fam == 4 ? 32 : 128;
    p->bits = max;
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (*end || b < 0 || b > max || end == slash + 1) return false;
        p->bits = (int)b;
    }
    return true;
}

static bool ip_in(const pat *p, int fam, const uint8_t a[16]) {
    if (fam != p->fam) return false;
    int full = p->bits / 8, rem = p->bits % 8;
    if (memcmp(a, p->addr, (size_t)full)) return false;
    if (rem) {
        uint8_t mask = (uint8_t)(0xff << (8 - rem));
        if ((a[full] & mask) != (p->addr[full] & mask)) return false;
    }
    return true;
}

static void patset_add(patset *ps, const char *s) {
    ps->v = hm_xrealloc(ps->v, (ps->n + 1) * sizeof(pat));
    pat *p = &ps->v[ps->n++];
    memset(p, 0, sizeof(*p));
    p->s = hm_xstrdup(s);
    p->glob = strpbrk(s, "*?[") != NULL;
    p->cidr = !p->glob && parse_cidr(s, p);
}

static void patset_free(patset *ps) {
    for (size_t i = 0; i < ps->n; i++) free(ps->v[i].s);
    free(ps->v);
    ps->v = NULL;
    ps->n = 0;
}

static bool patset_match(const patset *ps, hm_str v) {
    if (!v.len || v.len > 1000) return false;
    char buf[1024];
    memcpy(buf, v.p, v.len);
    buf[v.len] = 0;
    int fam = 0;
    uint8_t a[16];
    bool is_ip = false, ip_parsed = false;
    for (size_t i = 0; i < ps->n; i++) {
        const pat *p = &ps->v[i];
        if (p->cidr) {
            if (!ip_parsed) {
                is_ip = parse_ip(buf, v.len, &fam, a);
                ip_parsed = true;
            }
            if (is_ip ? ip_in(p, fam, a) : !strcasecmp(p->s, buf)) return true;
        } else if (p->glob) {
            if (fnmatch(p->s, buf, FNM_CASEFOLD) == 0) return true;
        } else if (!strcasecmp(p->s, buf)) {
            return true;
        }
    }
    return false;
}

/* ---- conditions on fields (inventory: any; suppressions: all) ---- */

typedef struct cond {
    char *field;
    int slots[3]; /* "ip" checks src_ip, dst_ip, nat_ip */
    int n_slots;
    patset ps;
} cond;

/* ---- inventory and suppressions ---- */

typedef struct asset {
    char *name;
    int crit; /* 1 low .. 4 critical */
    bool student_data;
    cond *conds;
    size_t n_conds;
    char *where; /* file:line */
} asset;

typedef struct supp {
    char *id, *reason, *owner, *where;
    int64_t expires_ns; /* INT64_MAX: never */
    int64_t from_ns, until_ns;
    int hour_from, hour_to; /* minutes of the local day; -1 = any time */
    unsigned days;          /* bit 0 Sunday .. 6 Saturday; 0 = any day */
    patset rules, entity, cidr;
    cond *conds;
    size_t n_conds;
    uint64_t hits;
} supp;

/* ---- rules seen in alerts ---- */

enum { R_STUDENT = 1, R_SAFETY = 2 };

typedef struct rinfo {
    char *id, *title;
    int level;
    uint32_t tactics;
    char **techs;
    size_t n_techs;
    unsigned flags;
    char *entity_field; /* hallmonitor.entity.<field> */
    char *description;
    char *falsepositives; /* joined with "; " */
    uint32_t steps;
    const void *rs_seen; /* rule set the details were read from */
} rinfo;

static void rule_clear(rinfo *r);

/* ---- state ---- */

typedef struct evtext { /* one evidence entry: JSON object text (malloc'd) */
    char *p;
    size_t n;
} evtext;

typedef struct rstat {
    rinfo *r;
    uint64_t count;
    int64_t first, last;
} rstat;

struct entity;

typedef struct incident {
    char id[48];
    struct entity *ent;
    int64_t first_ns, last_ns;
    uint64_t alerts, suppressed;
    int max_level;
    rstat *rules;
    size_t n_rules, cap_rules;
    uint32_t tactics;
    char *techs[MAX_TECHS];
    size_t n_techs;
    int crit; /* 0 = nothing matched */
    char *crit_name, *crit_why;
    struct {
        char *name;
        int crit;
    } assets[MAX_ASSETS];
    size_t n_assets;
    bool safety, student;
    char *sd[MAX_SD];
    size_t n_sd;
    uint32_t steps;
    char *src_ip; /* first public source address */
    double risk;
    uint32_t risk_rules;
    uint64_t risk_alerts;
    evtext ev_first[EV_FIRST], ev_last[EV_LAST];
    uint64_t ev_total;
    evtext steps_json; /* cached "next_steps" and what it was built from */
    uint32_t steps_key;
    const void *steps_r0, *steps_r1;
    bool steps_ip;
    bool dirty, orphan;
    int priority; /* latest emitted */
} incident;

typedef struct evlink {
    int64_t t;
    size_t klen;
    char key[]; /* entity key */
} evlink;

typedef struct used_id {
    int64_t bucket;
    uint32_t gen;
} used_id;

typedef struct entity {
    mnode *node; /* key "type:value" (value lowercased for users and hosts) */
    char *type, *value;
    incident *cur;
    rstat *risk;
    size_t n_risk, cap_risk;
    int64_t last_ns;
    used_id used[8];
    size_t n_used;
} entity;

struct hm_incidents {
    hm_incident_opts o;
    hm_tz tz;
    bool has_tz;
    asset *assets;
    size_t n_assets;
    supp *supps;
    size_t n_supps;
    char **slot_names;
    size_t n_slots;
    hm_str *vals;  /* per alert: value of each slot */
    smap slot_map; /* slot name -> index + 1 */
    smap evmap;    /* event id -> evlink: which entity's incident an event's alert went to */
    smap rules, ents;
    const hm_ruleset *const *rs; /* the rule set in force (hot reload replaces it) */
    hm_jl_doc doc;
    hm_buf pass, tmp, ident;
    incident **dirty;
    size_t n_dirty, cap_dirty;
    size_t active;
    int64_t watermark, last_sweep;
    hm_incident_stats st;
    double harmonic[1025];
};

/* ---- small helpers ---- */

/* RFC 3339 UTC like hm_buf_put_time, without printf (this runs for every alert) */
static void put_time(hm_buf *b, int64_t ns) {
    int64_t s = ns / 1000000000LL, frac = ns % 1000000000LL;
    if (frac < 0) {
        frac += 1000000000LL;
        s--;
    }
    int64_t days = s >= 0 ? s / 86400 : (s - 86399) / 86400, rem = s - days * 86400;
    int y;
    unsigned mo, d;
    hm_civil_from_days(days, &y, &mo, &d);
    if (frac % 1000000 || y < 0 || y > 9999) {
        hm_buf_put_time(b, ns);
        return;
    }
    unsigned h = (unsigned)(rem / 3600), mi = (unsigned)(rem / 60 % 60), se = (unsigned)(rem % 60);
    char t[32] = {(char)('0' + y / 1000),
                  (char)('0' + y / 100 % 10),
                  (char)('0' + y / 10 % 10),
                  (char)('0' + y % 10),
                  '-',
                  (char)('0' + mo / 10),
                  (char)('0' + mo % 10),
                  '-',
                  (char)('0' + d / 10),
                  (char)('0' + d % 10),
                  'T',
                  (char)('0' + h / 10),
                  (char)('0' + h % 10),
                  ':',
                  (char)('0' + mi / 10),
                  (char)('0' + mi % 10),
                  ':',
                  (char)('0' + se / 10),
                  (char)('0' + se % 10)};
    size_t n = 19;
    if (frac) {
        unsigned ms = (unsigned)(frac / 1000000);
        t[n++] = '.';
        t[n++] = (char)('0' + ms / 100);
        t[n++] = (char)('0' + ms / 10 % 10);
        t[n++] = (char)('0' + ms % 10);
    }
    t[n++] = 'Z';
    hm_buf_put(b, t, n);
}

static int slot_for(hm_incidents *inc, const char *name) {
    for (size_t i = 0; i < inc->n_slots; i++)
        if (!strcmp(inc->slot_names[i], name)) return (int)i;
    inc->slot_names = hm_xrealloc(inc->slot_names, (inc->n_slots + 1) * sizeof(char *));
    inc->slot_names[inc->n_slots] = hm_xstrdup(name);
    return (int)inc->n_slots++;
}

static double harmonic(const hm_incidents *inc, uint64_t n) {
    if (n <= 1024) return inc->harmonic[n];
    double x = (double)n;
    return log(x) + 0.5772156649015329 + 1.0 / (2 * x);
}

static char *str_dup(hm_str s) {
    return hm_xstrndup(s.p ? s.p : "", s.len);
}

static bool is_public_ip(hm_str v) {
    int fam;
    uint8_t a[16];
    if (!parse_ip(v.p, v.len, &fam, a)) return false;
    if (fam == 4) {
        if (a[0] == 10 || a[0] == 127 || a[0] == 0) return false;
        if (a[0] == 172 && (a[1] & 0xf0) == 16) return false;
        if (a[0] == 192 && a[1] == 168) return false;
        if (a[0] == 169 && a[1] == 254) return false;
        if (a[0] == 100 && (a[1] & 0xc0) == 64) return false;
        if (a[0] >= 224) return false;
        return true;
    }
    if ((a[0] & 0xfe) == 0xfc) return false;                 /* fc00::/7 */
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return false; /* fe80::/10 */
    static const uint8_t lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (!memcmp(a, lo, 16)) return false;
    return true;
}

/* local wall-clock seconds of a UTC instant */
static int64_t local_s(const hm_incidents *inc, int64_t utc_s) {
    return inc->has_tz ? utc_s + hm_tz_offset_at_utc(&inc->tz, utc_s) : utc_s;
}

/* ---- YAML loading ---- */

static int yerr(char *err, size_t errlen, const char *path, const hm_ynode *n, const char *fmt,
                const char *a) {
    char msg[512];
    snprintf(msg, sizeof msg, fmt, a ? a : "");
    snprintf(err, errlen, "%s:%d:%d: %s", path, n ? n->line : 1, n ? n->col : 1, msg);
    return -1;
}

/* scalar or list of scalars -> patterns */
static int load_pats(const char *path, const hm_ynode *n, patset *ps, char *err, size_t errlen,
                     bool want_ip) {
    if (hm_y_is_scalar(n)) {
        if (n->is_null || !n->str[0]) return yerr(err, errlen, path, n, "empty value", NULL);
        patset_add(ps, n->str);
    } else if (n && n->type == HM_Y_SEQ) {
        for (size_t i = 0; i < n->n; i++) {
            const hm_ynode *it = n->vals[i];
            if (!hm_y_is_scalar(it) || it->is_null || !it->str[0])
                return yerr(err, errlen, path, it, "expected a text value", NULL);
            patset_add(ps, it->str);
        }
        if (!n->n) return yerr(err, errlen, path, n, "empty list", NULL);
    } else {
        return yerr(err, errlen, path, n, "expected a value or a list of values", NULL);
    }
    if (want_ip)
        for (size_t i = 0; i < ps->n; i++)
            if (!ps->v[i].cidr)
                return yerr(err, errlen, path, n, "'%s' is not an IP address or CIDR range",
                            ps->v[i].s);
    return 0;
}

static int load_conds(hm_incidents *inc, const char *path, const hm_ynode *m, cond **out,
                      size_t *nout, char *err, size_t errlen) {
    if (!m || m->type != HM_Y_MAP || !m->n)
        return yerr(err, errlen, path, m, "expected a map of field: value(s)", NULL);
    *out = hm_xcalloc(m->n, sizeof(cond));
    *nout = m->n;
    for (size_t i = 0; i < m->n; i++) {
        cond *c = &(*out)[i];
        const char *f = m->keys[i]->str;
        c->field = hm_xstrdup(f);
        if (!strcmp(f, "ip")) {
            c->slots[0] = F_SRC_IP;
            c->slots[1] = F_DST_IP;
            c->slots[2] = F_NAT_IP;
            c->n_slots = 3;
        } else {
            c->slots[0] = slot_for(inc, f);
            c->n_slots = 1;
        }
        if (load_pats(path, m->vals[i], &c->ps, err, errlen, false)) return -1;
    }
    return 0;
}

static void conds_free(cond *c, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(c[i].field);
        patset_free(&c[i].ps);
    }
    free(c);
}

static bool cond_match(const hm_incidents *inc, const cond *c, hm_str *which) {
    for (int k = 0; k < c->n_slots; k++) {
        hm_str v = inc->vals[c->slots[k]];
        if (v.len && patset_match(&c->ps, v)) {
            if (which) *which = v;
            return true;
        }
    }
    return false;
}

static int crit_word(const char *s) {
    int r = hm_priority_rank(s);
    return r >= 1 ? r : -1; /* low .. critical */
}

static int load_inventory(hm_incidents *inc, const char *path, char *err, size_t errlen) {
    hm_ydoc *docs = NULL;
    int nd = hm_yaml_load_file(path, &docs, err, errlen);
    if (nd < 0) return -1;
    int rc = -1;
    const hm_ynode *root = nd ? docs[0].root : NULL;
    if (!root || root->type != HM_Y_MAP) {
        yerr(err, errlen, path, root, "expected a map with 'assets:' (and/or 'people:')", NULL);
        goto out;
    }
    for (size_t k = 0; k < root->n; k++) {
        const char *key = root->keys[k]->str;
        const hm_ynode *list = root->vals[k];
        if (!strcmp(key, "version") || !strcmp(key, "description")) continue;
        if (strcmp(key, "assets") && strcmp(key, "people")) {
            yerr(err, errlen, path, root->keys[k],
                 "unknown key '%s' (expected version, description, assets, people)", key);
            goto out;
        }
        if (list->is_null) continue;
        if (list->type != HM_Y_SEQ) {
            yerr(err, errlen, path, list, "'%s' must be a list of entries", key);
            goto out;
        }
        for (size_t i = 0; i < list->n; i++) {
            const hm_ynode *e = list->vals[i];
            if (e->type != HM_Y_MAP) {
                yerr(err, errlen, path, e, "expected an entry with name, criticality, match", NULL);
                goto out;
            }
            inc->assets = hm_xrealloc(inc->assets, (inc->n_assets + 1) * sizeof(asset));
            asset *a = &inc->assets[inc->n_assets++];
            memset(a, 0, sizeof(*a));
            char where[600];
            snprintf(where, sizeof where, "%s:%d", path, e->line);
            a->where = hm_xstrdup(where);
            for (size_t j = 0; j < e->n; j++) {
                const char *ek = e->keys[j]->str;
                const hm_ynode *v = e->vals[j];
                if (!strcmp(ek, "name") && hm_y_is_scalar(v)) {
                    a->name = hm_xstrdup(v->str);
                } else if (!strcmp(ek, "criticality") && hm_y_is_scalar(v)) {
                    a->crit = crit_word(v->str);
                    if (a->crit < 0) {
                        yerr(err, errlen, path, v,
                             "criticality '%s': expected critical, high, medium or low", v->str);
                        goto out;
                    }
                } else if (!strcmp(ek, "student_data") && hm_y_is_scalar(v)) {
                    bool b;
                    if (!hm_parse_bool(v->str, &b)) {
                        yerr(err, errlen, path, v, "student_data '%s': expected true or false",
                             v->str);
                        goto out;
                    }
                    a->student_data = b;
                } else if (!strcmp(ek, "match")) {
                    if (load_conds(inc, path, v, &a->conds, &a->n_conds, err, errlen)) goto out;
                } else if (!strcmp(ek, "description") || !strcmp(ek, "owner") ||
                           !strcmp(ek, "notes")) {
                    /* documentation only */
                } else {
                    yerr(err, errlen, path, e->keys[j],
                         "unknown key '%s' (expected name, criticality, student_data, match, "
                         "description, owner, notes)",
                         ek);
                    goto out;
                }
            }
            if (!a->name || !a->crit || !a->n_conds) {
                yerr(err, errlen, path, e, "an entry needs name, criticality and match", NULL);
                goto out;
            }
        }
    }
    rc = 0;
out:
    hm_ydocs_free(docs, nd);
    return rc;
}

static const char *const DAY_NAMES[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* "2024-06-30" (a local date) or an RFC 3339 time; end_of_day: a date means its last second */
static bool parse_when(hm_incidents *inc, const char *s, bool end_of_day, int64_t *ns) {
    int y, mo, d;
    char tail;
    if (sscanf(s, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) == 3 && strlen(s) == 10) {
        if (mo < 1 || mo > 12 || d < 1 || d > 31) return false;
        int64_t local = hm_civil_to_epoch(y, mo, d, 0, 0, 0) + (end_of_day ? 86400 : 0);
        int64_t utc = inc->has_tz ? hm_tz_local_to_utc(&inc->tz, local) : local;
        *ns = utc * 1000000000LL - (end_of_day ? 1 : 0);
        return true;
    }
    bool has_zone;
    int64_t v;
    size_t n = strlen(s);
    if (hm_parse_iso8601(s, n, &v, &has_zone) != n) return false;
    if (!has_zone && inc->has_tz) {
        int64_t sec = v / 1000000000LL, frac = v % 1000000000LL;
        v = hm_tz_local_to_utc(&inc->tz, sec) * 1000000000LL + frac;
    }
    *ns = v;
    return true;
}

static bool parse_hhmm(const char *s, int *min) {
    int h, m;
    if (sscanf(s, "%2d:%2d", &h, &m) != 2 || h < 0 || h > 24 || m < 0 || m > 59) return false;
    *min = h * 60 + m;
    return *min <= 24 * 60;
}

static int load_suppressions(hm_incidents *inc, const char *path, char *err, size_t errlen) {
    hm_ydoc *docs = NULL;
    int nd = hm_yaml_load_file(path, &docs, err, errlen);
    if (nd < 0) return -1;
    int rc = -1;
    const hm_ynode *root = nd ? docs[0].root : NULL;
    const hm_ynode *list = NULL;
    if (!root || root->type != HM_Y_MAP) {
        yerr(err, errlen, path, root, "expected a map with 'suppressions:'", NULL);
        goto out;
    }
    for (size_t k = 0; k < root->n; k++) {
        const char *key = root->keys[k]->str;
        if (!strcmp(key, "suppressions"))
            list = root->vals[k];
        else if (strcmp(key, "version") && strcmp(key, "description")) {
            yerr(err, errlen, path, root->keys[k],
                 "unknown key '%s' (expected version, description, suppressions)", key);
            goto out;
        }
    }
    if (!list || list->is_null) {
        rc = 0;
        goto out;
    }
    if (list->type != HM_Y_SEQ) {
        yerr(err, errlen, path, list, "'suppressions' must be a list", NULL);
        goto out;
    }
    int64_t now = hm_now_ns();
    size_t expired = 0;
    for (size_t i = 0; i < list->n; i++) {
        const hm_ynode *e = list->vals[i];
        if (e->type != HM_Y_MAP) {
            yerr(err, errlen, path, e, "expected an entry with id, reason, expires and conditions",
                 NULL);
            goto out;
        }
        inc->supps = hm_xrealloc(inc->supps, (inc->n_supps + 1) * sizeof(supp));
        supp *s = &inc->supps[inc->n_supps++];
        memset(s, 0, sizeof(*s));
        s->hour_from = s->hour_to = -1;
        s->from_ns = INT64_MIN;
        s->until_ns = INT64_MAX;
        bool has_exp = false;
        char where[600];
        snprintf(where, sizeof where, "%s:%d", path, e->line);
        s->where = hm_xstrdup(where);
        for (size_t j = 0; j < e->n; j++) {
            const char *ek = e->keys[j]->str;
            const hm_ynode *v = e->vals[j];
            bool sc = hm_y_is_scalar(v) && !v->is_null;
            if (!strcmp(ek, "id") && sc) {
                s->id = hm_xstrdup(v->str);
            } else if (!strcmp(ek, "reason") && sc) {
                s->reason = hm_xstrdup(v->str);
            } else if (!strcmp(ek, "owner") && sc) {
                s->owner = hm_xstrdup(v->str);
            } else if (!strcmp(ek, "expires") && sc) {
                has_exp = true;
                if (!strcasecmp(v->str, "never"))
                    s->expires_ns = INT64_MAX;
                else if (!parse_when(inc, v->str, true, &s->expires_ns)) {
                    yerr(err, errlen, path, v,
                         "expires '%s': expected a date (2024-06-30), a time (2024-06-30T17:00:00) "
                         "or never",
                         v->str);
                    goto out;
                }
            } else if ((!strcmp(ek, "from") || !strcmp(ek, "until")) && sc) {
                int64_t *dst = ek[0] == 'f' ? &s->from_ns : &s->until_ns;
                if (!parse_when(inc, v->str, ek[0] == 'u', dst)) {
                    yerr(err, errlen, path, v, "'%s': expected a date or time", v->str);
                    goto out;
                }
            } else if (!strcmp(ek, "hours") && sc) {
                const char *dash = strchr(v->str, '-');
                if (!dash || !parse_hhmm(v->str, &s->hour_from) ||
                    !parse_hhmm(dash + 1, &s->hour_to)) {
                    yerr(err, errlen, path, v, "hours '%s': expected HH:MM-HH:MM (local time)",
                         v->str);
                    goto out;
                }
            } else if (!strcmp(ek, "days")) {
                const hm_ynode *items[7];
                size_t ni = 0;
                if (sc)
                    items[ni++] = v;
                else if (v->type == HM_Y_SEQ)
                    for (size_t q = 0; q < v->n && ni < 7; q++) items[ni++] = v->vals[q];
                for (size_t q = 0; q < ni; q++) {
                    int dnum = -1;
                    for (int w = 0; w < 7; w++)
                        if (hm_y_is_scalar(items[q]) &&
                            !strncasecmp(items[q]->str, DAY_NAMES[w], 3))
                            dnum = w;
                    if (dnum < 0) {
                        yerr(err, errlen, path, items[q], "days: expected mon, tue, ... sun", NULL);
                        goto out;
                    }
                    s->days |= 1u << dnum;
                }
                if (!s->days) {
                    yerr(err, errlen, path, v, "days: expected a list such as [sat, sun]", NULL);
                    goto out;
                }
            } else if (!strcmp(ek, "rules") || !strcmp(ek, "rule")) {
                if (load_pats(path, v, &s->rules, err, errlen, false)) goto out;
            } else if (!strcmp(ek, "entity") || !strcmp(ek, "entities")) {
                if (load_pats(path, v, &s->entity, err, errlen, false)) goto out;
            } else if (!strcmp(ek, "cidr")) {
                if (load_pats(path, v, &s->cidr, err, errlen, true)) goto out;
            } else if (!strcmp(ek, "fields")) {
                if (load_conds(inc, path, v, &s->conds, &s->n_conds, err, errlen)) goto out;
            } else if (!strcmp(ek, "created") || !strcmp(ek, "ticket") || !strcmp(ek, "notes")) {
                /* documentation only */
            } else {
                yerr(err, errlen, path, e->keys[j],
                     "unknown key or bad value '%s' (expected id, reason, expires, owner, rules, "
                     "entity, cidr, fields, from, until, hours, days, ticket, notes)",
                     ek);
                goto out;
            }
        }
        if (!s->id) {
            yerr(err, errlen, path, e, "a suppression needs an id", NULL);
            goto out;
        }
        for (size_t q = 0; q + 1 < inc->n_supps; q++)
            if (!strcmp(inc->supps[q].id, s->id)) {
                yerr(err, errlen, path, e, "duplicate suppression id '%s'", s->id);
                goto out;
            }
        if (!s->reason || !s->reason[0]) {
            yerr(err, errlen, path, e, "suppression '%s' needs a reason", s->id);
            goto out;
        }
        if (!has_exp) {
            yerr(err, errlen, path, e,
                 "suppression '%s' needs 'expires:' (a date, or 'never' to keep it for good)",
                 s->id);
            goto out;
        }
        if (!s->rules.n && !s->entity.n && !s->cidr.n && !s->n_conds) {
            yerr(err, errlen, path, e,
                 "suppression '%s' would hide every alert: give rules, entity, cidr or fields",
                 s->id);
            goto out;
        }
        if (s->expires_ns != INT64_MAX && s->expires_ns < now) expired++;
    }
    if (expired)
        hm_info("incidents",
                "%s: %zu of %zu suppressions have expired by the clock; they still apply to alerts "
                "whose event time is before their expiry (replays of old logs)",
                path, expired, inc->n_supps);
    rc = 0;
out:
    hm_ydocs_free(docs, nd);
    return rc;
}

/* ---- construction ---- */

hm_incidents *hm_incidents_new(const hm_incident_opts *o, const struct hm_ruleset *const *rules,
                               char *err, size_t errlen) {
    hm_incidents *inc = hm_xcalloc(1, sizeof(*inc));
    inc->o = *o;
    if (inc->o.window_ns <= 0) inc->o.window_ns = 4 * 3600LL * 1000000000LL;
    if (inc->o.max_span_ns <= 0) inc->o.max_span_ns = 86400LL * 1000000000LL;
    if (inc->o.horizon_ns <= 0) inc->o.horizon_ns = 86400LL * 1000000000LL;
    if (inc->o.lateness_ns <= 0) inc->o.lateness_ns = 60LL * 1000000000LL;
    if (!inc->o.max_active) inc->o.max_active = 20000;
    inc->rs = rules;
    inc->watermark = INT64_MIN;
    inc->last_sweep = INT64_MIN;
    inc->harmonic[0] = 0;
    for (int i = 1; i <= 1024; i++) inc->harmonic[i] = inc->harmonic[i - 1] + 1.0 / i;
    for (int i = 0; i < F_FIXED; i++) slot_for(inc, FIXED_SLOTS[i]);
    hm_jl_init(&inc->doc);
    if (o->tz_name && strcmp(o->tz_name, "UTC")) {
        if (hm_tz_load(&inc->tz, o->tz_name, 2000, 2100) != HM_OK) {
            snprintf(err, errlen, "--tz %s: unknown time zone", o->tz_name);
            goto fail;
        }
        inc->has_tz = true;
    }
    if (o->assets_file && load_inventory(inc, o->assets_file, err, errlen)) goto fail;
    if (o->suppressions_file && load_suppressions(inc, o->suppressions_file, err, errlen))
        goto fail;
    inc->vals = hm_xcalloc(inc->n_slots, sizeof(hm_str));
    for (size_t i = 0; i < inc->n_slots; i++) {
        const char *nm = inc->slot_names[i];
        smap_add(&inc->slot_map, nm, strlen(nm), hkey(nm, strlen(nm)), (void *)(uintptr_t)(i + 1));
    }
    return inc;
fail:
    hm_incidents_free(inc);
    return NULL;
}

static void incident_free(incident *x) {
    if (!x) return;
    free(x->rules);
    for (size_t i = 0; i < x->n_techs; i++) free(x->techs[i]);
    free(x->crit_name);
    free(x->crit_why);
    for (size_t i = 0; i < x->n_assets; i++) free(x->assets[i].name);
    for (size_t i = 0; i < x->n_sd; i++) free(x->sd[i]);
    free(x->src_ip);
    for (int i = 0; i < EV_FIRST; i++) free(x->ev_first[i].p);
    for (int i = 0; i < EV_LAST; i++) free(x->ev_last[i].p);
    free(x->steps_json.p);
    free(x);
}

static void entity_free(entity *e) {
    if (!e) return;
    incident_free(e->cur);
    free(e->type);
    free(e->value);
    free(e->risk);
    free(e);
}

void hm_incidents_free(hm_incidents *inc) {
    if (!inc) return;
    for (size_t i = 0; i < inc->n_dirty; i++)
        if (inc->dirty[i]->orphan) incident_free(inc->dirty[i]);
    free(inc->dirty);
    for (size_t i = 0; i < inc->ents.nb; i++)
        for (mnode *x = inc->ents.b[i], *nx; x; x = nx) {
            nx = x->next;
            entity_free(x->val);
            free(x);
        }
    free(inc->ents.b);
    for (size_t i = 0; i < inc->rules.nb; i++)
        for (mnode *x = inc->rules.b[i], *nx; x; x = nx) {
            nx = x->next;
            rinfo *r = x->val;
            rule_clear(r);
            free(r->id);
            free(r);
            free(x);
        }
    free(inc->rules.b);
    for (size_t i = 0; i < inc->evmap.nb; i++)
        for (mnode *x = inc->evmap.b[i], *nx; x; x = nx) {
            nx = x->next;
            free(x->val);
            free(x);
        }
    free(inc->evmap.b);
    for (size_t i = 0; i < inc->slot_map.nb; i++)
        for (mnode *x = inc->slot_map.b[i], *nx; x; x = nx) {
            nx = x->next;
            free(x);
        }
    free(inc->slot_map.b);
    for (size_t i = 0; i < inc->n_assets; i++) {
        free(inc->assets[i].name);
        free(inc->assets[i].where);
        conds_free(inc->assets[i].conds, inc->assets[i].n_conds);
    }
    free(inc->assets);
    for (size_t i = 0; i < inc->n_supps; i++) {
        supp *s = &inc->supps[i];
        free(s->id);
        free(s->reason);
        free(s->owner);
        free(s->where);
        patset_free(&s->rules);
        patset_free(&s->entity);
        patset_free(&s->cidr);
        conds_free(s->conds, s->n_conds);
    }
    free(inc->supps);
    for (size_t i = 0; i < inc->n_slots; i++) free(inc->slot_names[i]);
    free(inc->slot_names);
    free(inc->vals);
    hm_jl_free(&inc->doc);
    hm_buf_free(&inc->pass);
    hm_buf_free(&inc->tmp);
    hm_buf_free(&inc->ident);
    if (inc->has_tz) hm_tz_free(&inc->tz);
    free(inc);
}

/* ---- rules ---- */

static bool tag_is(hm_str t, const char *s) {
    return hm_str_ieq_c(t, s);
}

static void rule_steps_from_tactics(rinfo *r) {
    static const struct {
        const char *tactic;
        int step;
    } M[] = {
        {"credential_access", ST_CRED},  {"initial_access", ST_VALID},
        {"persistence", ST_PERSIST},     {"privilege_escalation", ST_PERSIST},
        {"exfiltration", ST_EXFIL},      {"collection", ST_EXFIL},
        {"defense_evasion", ST_EVASION}, {"lateral_movement", ST_LATERAL},
        {"discovery", ST_LATERAL},       {"command_and_control", ST_C2},
        {"impact", ST_IMPACT},
    };
    for (size_t i = 0; i < N_TACTICS; i++)
        if (r->tactics >> i & 1)
            for (size_t k = 0; k < HM_ARRAY_LEN(M); k++)
                if (!strcmp(M[k].tactic, TACTICS[i])) r->steps |= 1u << M[k].step;
}

/* a copy with blanks and line breaks folded to single spaces (YAML block text) */
static char *trimmed(const char *s) {
    size_t n = strlen(s);
    char *o = hm_xmalloc(n + 1), *q = o;
    bool space = true; /* drops leading blanks */
    for (const char *c = s; *c; c++) {
        bool blank = *c == ' ' || *c == '\t' || *c == '\n' || *c == '\r';
        if (blank && space) continue;
        *q++ = blank ? ' ' : *c;
        space = blank;
    }
    while (q > o && q[-1] == ' ') q--;
    *q = 0;
    return o;
}

static void rule_clear(rinfo *r) {
    free(r->title);
    for (size_t k = 0; k < r->n_techs; k++) free(r->techs[k]);
    free(r->techs);
    free(r->entity_field);
    free(r->description);
    free(r->falsepositives);
    char *id = r->id;
    memset(r, 0, sizeof(*r));
    r->id = id;
}

/* title, level, tags of the alert line; description and false positives of the rule set */
static void rule_fill(hm_incidents *inc, rinfo *r, hm_jl_doc *d, int rt, hm_str id) {
    const hm_ruleset *rs = inc->rs ? *inc->rs : NULL;
    r->rs_seen = rs;
    hm_str title = hm_jl_str_at(d, rt, "title");
    r->title = str_dup(title.len ? title : id);
    r->level = hm_jl_rank(hm_jl_str_at(d, rt, "level"));
    if (r->level < 0) r->level = 2;
    int tags = hm_jl_get(d, rt, "tags");
    if (hm_jl_is(d, tags, JSMN_ARRAY)) {
        for (int i = 0; i < d->tok[tags].size; i++) {
            hm_str t = hm_jl_str(d, hm_jl_elem(d, tags, i));
            if (!t.len) continue;
            if (tag_is(t, "hallmonitor.student_data") || tag_is(t, "hallmonitor.student-data"))
                r->flags |= R_STUDENT;
            if (tag_is(t, "hallmonitor.safety") || tag_is(t, "hallmonitor.student_safety"))
                r->flags |= R_SAFETY;
            if (hm_str_starts(t, "hallmonitor.entity.") && t.len > 19 && !r->entity_field)
                r->entity_field = hm_xstrndup(t.p + 19, t.len - 19);
            if (t.len > 7 && !strncasecmp(t.p, "attack.", 7)) {
                hm_str v = hm_str_n(t.p + 7, t.len - 7);
                if ((v.p[0] == 't' || v.p[0] == 'T') && v.len >= 5 &&
                    isdigit((unsigned char)v.p[1])) {
                    r->techs = hm_xrealloc(r->techs, (r->n_techs + 1) * sizeof(char *));
                    char *s = str_dup(v);
                    for (char *c = s; *c; c++) *c = (char)toupper((unsigned char)*c);
                    r->techs[r->n_techs++] = s;
                    /* a few techniques imply their tactic when the rule does not say */
                    if (!strncmp(s, "T1110", 5)) r->tactics |= 1u << 7;
                    if (!strncmp(s, "T1078", 5)) r->tactics |= 1u << 2;
                    continue;
                }
                for (size_t k = 0; k < N_TACTICS; k++) {
                    const char *tn = TACTICS[k];
                    size_t tl = strlen(tn);
                    if (v.len != tl) continue;
                    bool eq = true;
                    for (size_t q = 0; q < tl && eq; q++) {
                        char c = (char)tolower((unsigned char)v.p[q]);
                        if (c == '-') c = '_';
                        eq = c == tn[q];
                    }
                    if (eq) r->tactics |= 1u << k;
                }
            }
        }
    }
    if (rs) {
        int ri = hm_ruleset_find(rs, r->id);
        if (ri >= 0) {
            const hm_rule_meta *m = hm_ruleset_rule(rs, (size_t)ri);
            if (m->description && m->description[0]) r->description = trimmed(m->description);
            if (m->n_falsepositives) {
                hm_buf b = {0};
                for (size_t i = 0; i < m->n_falsepositives; i++) {
                    const char *fp = m->falsepositives[i];
                    if (!fp || !fp[0] || !strcasecmp(fp, "unknown")) continue;
                    if (b.len) hm_buf_puts(&b, "; ");
                    hm_buf_puts(&b, fp);
                }
                hm_buf_putc(&b, 0);
                if (b.len > 1) r->falsepositives = trimmed(b.p);
                hm_buf_free(&b);
            }
        }
    }
    rule_steps_from_tactics(r);
}

static rinfo *rule_get(hm_incidents *inc, hm_jl_doc *d) {
    int rt = hm_jl_get(d, 0, "rule");
    hm_str id = hm_jl_str_at(d, rt, "id");
    if (!id.len) id = HM_STR_LIT("(no rule id)");
    uint64_t h = hkey(id.p, id.len);
    mnode *n = smap_find(&inc->rules, id.p, id.len, h);
    if (n) {
        rinfo *r = n->val;
        if (inc->rs && *inc->rs != r->rs_seen) { /* rules were reloaded: refresh in place */
            rule_clear(r);
            rule_fill(inc, r, d, rt, id);
        }
        return r;
    }
    rinfo *r = hm_xcalloc(1, sizeof(*r));
    r->id = str_dup(id);
    rule_fill(inc, r, d, rt, id);
    smap_add(&inc->rules, id.p, id.len, h, r);
    return r;
}

/* ---- per-alert context ---- */

typedef struct actx {
    rinfo *r;
    int level;
    int64_t t;
    hm_str ident;
    int fields, group;
    const char *etype;
    hm_str evalue;
    hm_str line; /* in the buffer being fed (valid until the feed returns) */
} actx;

/* one pass over the keys of an object: the value of every slot it names (first wins) */
static void vals_from(hm_incidents *inc, int obj) {
    hm_jl_doc *d = &inc->doc;
    if (!hm_jl_is(d, obj, JSMN_OBJECT)) return;
    int n = d->tok[obj].size, k = obj + 1;
    for (int i = 0; i < n && k + 1 < d->ntok; i++) {
        const jsmntok_t *kt = &d->tok[k];
        size_t kl = (size_t)(kt->end - kt->start);
        const char *key = d->json + kt->start;
        mnode *m = smap_find(&inc->slot_map, key, kl, hkey(key, kl));
        if (m) {
            size_t slot = (size_t)(uintptr_t)m->val - 1;
            if (!inc->vals[slot].len) inc->vals[slot] = hm_jl_str(d, k + 1);
        }
        k = hm_jl_skip(d, k + 1);
    }
}

static void load_vals(hm_incidents *inc, actx *a) {
    hm_jl_doc *d = &inc->doc;
    memset(inc->vals, 0, inc->n_slots * sizeof(hm_str));
    vals_from(inc, a->fields);
    vals_from(inc, a->group);
    for (size_t i = 0; i < inc->n_slots; i++) /* dotted names: vendor_fields.x */
        if (!inc->vals[i].len && strchr(inc->slot_names[i], '.')) {
            if (hm_jl_is(d, a->fields, JSMN_OBJECT))
                inc->vals[i] = hm_jl_str_at(d, a->fields, inc->slot_names[i]);
            if (!inc->vals[i].len && hm_jl_is(d, a->group, JSMN_OBJECT))
                inc->vals[i] = hm_jl_str_at(d, a->group, inc->slot_names[i]);
        }
}

static void pick_entity(hm_incidents *inc, actx *a) {
    hm_jl_doc *d = &inc->doc;
    if (a->r->entity_field) {
        hm_str v = {NULL, 0};
        if (hm_jl_is(d, a->group, JSMN_OBJECT)) v = hm_jl_str_at(d, a->group, a->r->entity_field);
        if (!v.len && hm_jl_is(d, a->fields, JSMN_OBJECT))
            v = hm_jl_str_at(d, a->fields, a->r->entity_field);
        if (v.len) {
            const char *f = a->r->entity_field;
            a->etype = !strcmp(f, "door_id") ? "door" : !strcmp(f, "device_id") ? "host" : f;
            a->evalue = v;
            return;
        }
    }
    /* correlation group-by values first: they are what the rule grouped on */
    if (hm_jl_is(d, a->group, JSMN_OBJECT) && d->tok[a->group].size > 0) {
        for (size_t i = 0; i < HM_ARRAY_LEN(ENTITY_ORDER); i++) {
            hm_str v = hm_jl_str_at(d, a->group, FIXED_SLOTS[ENTITY_ORDER[i].slot]);
            if (v.len) {
                a->etype = ENTITY_ORDER[i].type;
                a->evalue = v;
                return;
            }
        }
    }
    for (size_t i = 0; i < HM_ARRAY_LEN(ENTITY_ORDER); i++) {
        hm_str v = inc->vals[ENTITY_ORDER[i].slot];
        if (v.len) {
            a->etype = ENTITY_ORDER[i].type;
            a->evalue = v;
            return;
        }
    }
    if (hm_jl_is(d, a->group, JSMN_OBJECT) && d->tok[a->group].size > 0) {
        int k = a->group + 1;
        hm_str key = hm_jl_str(d, k), v = hm_jl_str(d, k + 1);
        if (key.len && v.len) {
            a->etype = hm_jl_dup(d, key.p, key.len);
            a->evalue = v;
            return;
        }
    }
    a->etype = "rule";
    a->evalue = hm_str_c(a->r->id);
}

static bool entity_lowercase(const char *type) {
    return !strcmp(type, "user") || !strcmp(type, "host") || !strcmp(type, "door") ||
           !strcmp(type, "site") || !strcmp(type, "badge") || !strcmp(type, "visitor");
}

/* "type:value" into inc->tmp (value lowercased where case does not matter) */
static void entity_key(hm_incidents *inc, const char *type, hm_str v) {
    hm_buf *b = &inc->tmp;
    b->len = 0;
    hm_buf_puts(b, type);
    hm_buf_putc(b, ':');
    size_t at = b->len;
    hm_buf_put(b, v.p, v.len);
    if (entity_lowercase(type))
        for (size_t i = at; i < b->len; i++) b->p[i] = (char)tolower((unsigned char)b->p[i]);
}

static const supp *suppressed_by(hm_incidents *inc, const actx *a) {
    if (!inc->n_supps) return NULL;
    int64_t lsec = local_s(inc, a->t / 1000000000LL);
    int64_t day = lsec >= 0 ? lsec / 86400 : (lsec - 86399) / 86400;
    int minute = (int)((lsec - day * 86400) / 60);
    int wday = (int)(((day % 7) + 11) % 7); /* 1970-01-01 was a Thursday (4) */
    entity_key(inc, a->etype, a->evalue);
    hm_str ekey = hm_str_n(inc->tmp.p, inc->tmp.len);
    for (size_t i = 0; i < inc->n_supps; i++) {
        supp *s = &inc->supps[i];
        if (a->t > s->expires_ns || a->t < s->from_ns || a->t > s->until_ns) continue;
        if (s->days && !(s->days >> wday & 1)) continue;
        if (s->hour_from >= 0) {
            bool in = s->hour_from <= s->hour_to
                          ? minute >= s->hour_from && minute < s->hour_to
                          : minute >= s->hour_from || minute < s->hour_to; /* over midnight */
            if (!in) continue;
        }
        if (s->rules.n && !patset_match(&s->rules, hm_str_c(a->r->id)) &&
            !patset_match(&s->rules, hm_str_c(a->r->title)))
            continue;
        if (s->entity.n && !patset_match(&s->entity, ekey) && !patset_match(&s->entity, a->evalue))
            continue;
        if (s->cidr.n && !patset_match(&s->cidr, inc->vals[F_SRC_IP]) &&
            !patset_match(&s->cidr, a->evalue))
            continue;
        bool all = true;
        for (size_t k = 0; k < s->n_conds && all; k++) all = cond_match(inc, &s->conds[k], NULL);
        if (!all) continue;
        s->hits++;
        return s;
    }
    return NULL;
}

/* ---- entities and incidents ---- */

static entity *entity_get(hm_incidents *inc, const actx *a, bool create) {
    entity_key(inc, a->etype, a->evalue);
    uint64_t h = hkey(inc->tmp.p, inc->tmp.len);
    mnode *n = smap_find(&inc->ents, inc->tmp.p, inc->tmp.len, h);
    if (n) return n->val;
    if (!create) return NULL;
    entity *e = hm_xcalloc(1, sizeof(*e));
    e->type = hm_xstrdup(a->etype);
    e->value = str_dup(a->evalue);
    e->last_ns = a->t;
    e->node = smap_add(&inc->ents, inc->tmp.p, inc->tmp.len, h, e);
    inc->st.entities = inc->ents.n;
    return e;
}

static void mark_dirty(hm_incidents *inc, incident *x) {
    if (x->dirty) return;
    x->dirty = true;
    if (inc->n_dirty == inc->cap_dirty) {
        inc->cap_dirty = inc->cap_dirty ? inc->cap_dirty * 2 : 64;
        inc->dirty = hm_xrealloc(inc->dirty, inc->cap_dirty * sizeof(*inc->dirty));
    }
    inc->dirty[inc->n_dirty++] = x;
}

static incident *incident_open(hm_incidents *inc, entity *e, int64_t t) {
    incident *x = hm_xcalloc(1, sizeof(*x));
    x->ent = e;
    x->first_ns = x->last_ns = t;
    x->priority = -1;
    int64_t w = inc->o.window_ns;
    int64_t bucket = t >= 0 ? t / w : (t - w + 1) / w;
    uint32_t gen = 0;
    for (size_t i = 0; i < e->n_used && i < HM_ARRAY_LEN(e->used); i++)
        if (e->used[i].bucket == bucket && e->used[i].gen + 1 > gen) gen = e->used[i].gen + 1;
    e->used[e->n_used++ % HM_ARRAY_LEN(e->used)] = (used_id){bucket, gen};
    hm_buf *b = &inc->tmp;
    b->len = 0;
    hm_buf_put(b, e->node->key, e->node->klen);
    hm_buf_printf(b, "@%lld#%u", (long long)bucket, gen);
    uint64_t h = hm_hash64(b->p, b->len, 0x696e6369ULL);
    int64_t start_s = bucket * w / 1000000000LL;
    int y;
    unsigned mo, d;
    hm_civil_from_days(start_s >= 0 ? start_s / 86400 : (start_s - 86399) / 86400, &y, &mo, &d);
    snprintf(x->id, sizeof x->id, "INC-%04d%02u%02u-%010llx", y, mo, d,
             (unsigned long long)(h & 0xffffffffffULL));
    inc->st.incidents++;
    inc->active++;
    return x;
}

static void risk_add(hm_incidents *inc, entity *e, rinfo *r, int64_t t) {
    rstat *rec = NULL;
    for (size_t i = 0; i < e->n_risk; i++)
        if (e->risk[i].r == r) rec = &e->risk[i];
    if (!rec) {
        if (e->n_risk == e->cap_risk) {
            e->cap_risk = e->cap_risk ? e->cap_risk * 2 : 4;
            e->risk = hm_xrealloc(e->risk, e->cap_risk * sizeof(rstat));
        }
        rec = &e->risk[e->n_risk++];
        *rec = (rstat){r, 0, t, t};
    } else if (t - rec->first > inc->o.horizon_ns) {
        *rec = (rstat){r, 0, t, t}; /* the old alerts of this rule left the horizon */
    }
    rec->count++;
    if (t > rec->last) rec->last = t;
    if (t < rec->first) rec->first = t;
}

static void risk_eval(hm_incidents *inc, entity *e, int64_t t, incident *x) {
    double R = 0;
    uint32_t nr = 0;
    uint64_t na = 0;
    for (size_t i = 0; i < e->n_risk; i++) {
        const rstat *rec = &e->risk[i];
        if (rec->last < t - inc->o.horizon_ns) continue;
        double h = harmonic(inc, rec->count);
        R += RISK_PTS[rec->r->level] * (h > RULE_REPEAT_CAP ? RULE_REPEAT_CAP : h);
        nr++;
        na += rec->count;
    }
    x->risk = R;
    x->risk_rules = nr;
    x->risk_alerts = na;
}

static void add_str_set(char **arr, size_t *n, size_t max, hm_str s) {
    for (size_t i = 0; i < *n; i++)
        if (strlen(arr[i]) == s.len && !memcmp(arr[i], s.p, s.len)) return;
    if (*n < max) arr[(*n)++] = str_dup(s);
}

static void note_student(incident *x, const char *fmt, hm_str v) {
    char buf[256];
    snprintf(buf, sizeof buf, fmt, (int)(v.len > 120 ? 120 : v.len), v.p ? v.p : "");
    x->student = true;
    x->steps |= 1u << ST_STUDENT;
    add_str_set(x->sd, &x->n_sd, MAX_SD, hm_str_c(buf));
}

static bool ieq(hm_str v, const char *s) {
    return v.len && hm_str_ieq_c(v, s);
}

static void classify(hm_incidents *inc, incident *x, const actx *a) {
    const hm_str *v = inc->vals;
    bool sis = ieq(v[F_PRODUCT], "sis") || ieq(v[F_SRC_TYPE], "sis");
    hm_str ev = v[F_EVENT];
    /* student data */
    if (a->r->flags & R_STUDENT)
        note_student(x, "rule tag hallmonitor.student_data (%.*s)", hm_str_c(a->r->id));
    if (sis && (ieq(ev, "export") || ieq(ev, "bulk_export") || ieq(ev, "grade_change") ||
                ieq(ev, "report_run") || ieq(ev, "record_view")))
        note_student(x, "SIS %.*s", ev);
    if (ieq(v[F_USER_ROLE], "student")) note_student(x, "student account %.*s", v[F_USER]);
    if (v[F_STUDENT].len) note_student(x, "student record %.*s", v[F_STUDENT]);
    /* steps from fields */
    uint32_t s = a->r->steps;
    if (sis && ieq(ev, "grade_change")) s |= 1u << ST_GRADES;
    if (sis && (ieq(ev, "export") || ieq(ev, "bulk_export"))) s |= 1u << ST_EXPORT;
    if (v[F_DOOR_ID].len || ieq(v[F_CATEGORY], "physical_access") || !strcmp(a->etype, "door"))
        s |= 1u << ST_DOOR;
    if (v[F_VISITOR].len || v[F_WATCHLIST].len || !strcmp(a->etype, "visitor"))
        s |= 1u << ST_VISITOR;
    if (a->r->flags & R_SAFETY) {
        s |= 1u << ST_SAFETY;
        x->safety = true;
    }
    if (a->level >= 4) s |= 1u << ST_ESCALATE;
    hm_str sip =
        v[F_SRC_IP].len ? v[F_SRC_IP] : (!strcmp(a->etype, "src_ip") ? a->evalue : v[F_SRC_IP]);
    if (sip.len && is_public_ip(sip)) {
        s |= 1u << ST_BLOCK_IP;
        if (!x->src_ip) x->src_ip = str_dup(sip);
    }
    x->steps |= s;
    /* criticality: the highest inventory entry any field of the alert matches */
    for (size_t i = 0; i < inc->n_assets; i++) {
        const asset *as = &inc->assets[i];
        hm_str which = {NULL, 0};
        const cond *hit = NULL;
        for (size_t k = 0; k < as->n_conds && !hit; k++)
            if (cond_match(inc, &as->conds[k], &which)) hit = &as->conds[k];
        if (!hit) continue;
        if (as->crit > x->crit) {
            x->crit = as->crit;
            free(x->crit_name);
            free(x->crit_why);
            x->crit_name = hm_xstrdup(as->name);
            char why[300];
            snprintf(why, sizeof why, "%s=%.*s", hit->field,
                     (int)(which.len > 200 ? 200 : which.len), which.p);
            x->crit_why = hm_xstrdup(why);
        }
        bool have = false;
        for (size_t k = 0; k < x->n_assets; k++) have |= !strcmp(x->assets[k].name, as->name);
        if (!have && x->n_assets < MAX_ASSETS) {
            x->assets[x->n_assets].name = hm_xstrdup(as->name);
            x->assets[x->n_assets++].crit = as->crit;
        }
        if (as->student_data) note_student(x, "%.*s", hm_str_c(as->name));
    }
}

/* UTF-8-safe prefix length of at most max bytes */
static size_t cut_utf8(hm_str v, size_t max) {
    if (v.len <= max) return v.len;
    size_t n = max;
    while (n > 0 && ((unsigned char)v.p[n] & 0xC0) == 0x80) n--;
    return n;
}

/* one evidence entry (JSON object text) for the alert being processed, into *out (reusing
 * its memory). Runs for every alert: no printf. */
static void evidence_item(hm_incidents *inc, const actx *a, evtext *out) {
    hm_jl_doc *d = &inc->doc;
    hm_buf *b = &inc->tmp;
    b->len = 0;
    hm_buf_puts(b, "{\"time\":\"");
    put_time(b, a->t);
    hm_buf_puts(b, "\",\"rule\":");
    hm_buf_put_json_str(b, hm_str_c(a->r->id));
    hm_buf_puts(b, ",\"title\":");
    hm_buf_put_json_str(b, hm_str_c(a->r->title));
    hm_buf_puts(b, ",\"level\":\"");
    hm_buf_puts(b, a->level == 0 ? "informational" : hm_priority_names[a->level]);
    hm_buf_puts(b, "\",\"alert_id\":");
    hm_buf_put_json_str(b, a->ident);
    int ev = hm_jl_get(d, 0, "event_ids");
    if (hm_jl_is(d, ev, JSMN_ARRAY)) {
        hm_buf_puts(b, ",\"event_ids\":[");
        int n = d->tok[ev].size;
        for (int i = 0, k = ev + 1; i < n && i < 5; i++, k = hm_jl_skip(d, k)) {
            if (i) hm_buf_putc(b, ',');
            hm_buf_put_json_str(b, hm_jl_str(d, k));
        }
        hm_buf_putc(b, ']');
        if (n > 5) {
            hm_buf_puts(b, ",\"event_count\":");
            hm_buf_put_u64(b, (uint64_t)n);
        }
    }
    /* summary: "event=... user=... src_ip=..." (escaped as it is built) */
    bool any = false;
    for (size_t i = 0; i < HM_ARRAY_LEN(SUMMARY_SLOTS); i++) {
        hm_str v = inc->vals[SUMMARY_SLOTS[i]];
        if (!v.len) continue;
        hm_buf_puts(b, any ? " " : ",\"summary\":\"");
        any = true;
        hm_buf_puts(b, FIXED_SLOTS[SUMMARY_SLOTS[i]]);
        hm_buf_putc(b, '=');
        hm_buf_put_json_escaped(b, v.p, cut_utf8(v, 80));
    }
    if (!any && hm_jl_is(d, a->group, JSMN_OBJECT) && d->tok[a->group].size > 0) {
        hm_str g = hm_jl_json(d, a->group);
        hm_buf_puts(b, ",\"summary\":\"group ");
        hm_buf_put_json_escaped(b, g.p, cut_utf8(g, 300));
        any = true;
    }
    if (any) hm_buf_putc(b, '"');
    hm_str raw = hm_jl_str_at(d, 0, "evidence.raw");
    if (raw.len) {
        hm_buf_puts(b, ",\"raw\":");
        hm_buf_put_json_str(b, hm_str_n(raw.p, cut_utf8(raw, RAW_MAX)));
    }
    int64_t cnt;
    if (hm_jl_i64(d, hm_jl_get(d, 0, "evidence.event_count"), &cnt) && cnt >= 0) {
        hm_buf_puts(b, ",\"correlated_events\":");
        hm_buf_put_u64(b, (uint64_t)cnt);
    }
    hm_buf_putc(b, '}');
    if (b->len > out->n || !out->p) {
        free(out->p);
        out->p = hm_xmalloc(b->len < 256 ? 256 : b->len);
    }
    memcpy(out->p, b->p, b->len);
    out->n = b->len;
}

static void incident_add(hm_incidents *inc, incident *x, entity *e, const actx *a) {
    x->alerts++;
    if (a->t < x->first_ns) x->first_ns = a->t;
    if (a->t > x->last_ns) x->last_ns = a->t;
    if (x->alerts == 1 || a->level > x->max_level) x->max_level = a->level;
    rstat *rs = NULL;
    for (size_t i = 0; i < x->n_rules; i++)
        if (x->rules[i].r == a->r) rs = &x->rules[i];
    if (!rs) {
        if (x->n_rules == x->cap_rules) {
            x->cap_rules = x->cap_rules ? x->cap_rules * 2 : 4;
            x->rules = hm_xrealloc(x->rules, x->cap_rules * sizeof(rstat));
        }
        rs = &x->rules[x->n_rules++];
        *rs = (rstat){a->r, 0, a->t, a->t};
    }
    rs->count++;
    if (a->t < rs->first) rs->first = a->t;
    if (a->t > rs->last) rs->last = a->t;
    x->tactics |= a->r->tactics;
    for (size_t i = 0; i < a->r->n_techs; i++)
        add_str_set(x->techs, &x->n_techs, MAX_TECHS, hm_str_c(a->r->techs[i]));
    classify(inc, x, a);
    risk_eval(inc, e, a->t, x);
    if (x->ev_total < EV_FIRST) {
        evidence_item(inc, a, &x->ev_first[x->ev_total]);
    } else {
        size_t slot = (size_t)((x->ev_total - EV_FIRST) % EV_LAST);
        evidence_item(inc, a, &x->ev_last[slot]);
    }
    x->ev_total++;
    mark_dirty(inc, x);
}

/* the incident an alert belongs to (opening one when needed) */
static incident *route(hm_incidents *inc, entity *e, const actx *a) {
    incident *c = e->cur;
    int64_t w = inc->o.window_ns, t = a->t;
    if (c) {
        int64_t lo = t < c->first_ns ? t : c->first_ns, hi = t > c->last_ns ? t : c->last_ns;
        if (t <= c->last_ns + w && t >= c->first_ns - w && hi - lo <= inc->o.max_span_ns) return c;
        if (t < c->first_ns) {
            /* a late alert from before the current incident: its own incident, emitted once */
            incident *x = incident_open(inc, e, t);
            x->orphan = true;
            return x;
        }
        /* the current incident's window has passed: it is closed, a new one opens */
        if (c->dirty)
            c->orphan = true; /* still to be emitted; freed after the flush */
        else
            incident_free(c);
        inc->active--;
        inc->st.closed++;
        e->cur = NULL;
    }
    e->cur = incident_open(inc, e, t);
    return e->cur;
}

static void put_rewritten(hm_buf *out, hm_str line, const char *ins_key, const char *ins_val,
                          const supp *s) {
    /* {"kind":"alert" + ,"<key>":... + the rest (starting with ',' or '}') */
    static const char PFX[] = "{\"kind\":\"alert\"";
    size_t pl = sizeof(PFX) - 1;
    hm_buf_put(out, line.p, pl);
    if (s) {
        hm_buf_puts(out, ",\"suppressed\":true,\"suppression\":{\"id\":");
        hm_buf_put_json_str(out, hm_str_c(s->id));
        hm_buf_puts(out, ",\"reason\":");
        hm_buf_put_json_str(out, hm_str_c(s->reason));
        hm_buf_putc(out, '}');
    }
    if (ins_key) {
        hm_buf_puts(out, ",\"");
        hm_buf_puts(out, ins_key);
        hm_buf_puts(out, "\":");
        hm_buf_put_json_str(out, hm_str_c(ins_val));
    }
    hm_buf_put(out, line.p + pl, line.len - pl);
    hm_buf_putc(out, '\n');
}

/* rule, level, time, identity and field values of the alert parsed in inc->doc */
static void fill_ctx(hm_incidents *inc, actx *a, hm_str line) {
    hm_jl_doc *d = &inc->doc;
    a->line = line;
    a->r = rule_get(inc, d);
    int lv = hm_jl_rank(hm_jl_str_at(d, 0, "rule.level"));
    a->level = lv >= 0 ? lv : a->r->level;
    int64_t ms;
    if (hm_jl_time_ms(d, hm_jl_get(d, 0, "time"), &ms))
        a->t = ms * 1000000LL;
    else
        a->t = inc->watermark != INT64_MIN ? inc->watermark : hm_now_ns();
    inc->ident.len = 0;
    hm_str aid = hm_jl_str_at(d, 0, "alert_id");
    if (aid.len)
        hm_buf_put(&inc->ident, aid.p, aid.len);
    else
        hm_jl_identity(d, &inc->ident, false);
    a->ident = hm_str_n(inc->ident.p, inc->ident.len);
    a->fields = hm_jl_get(d, 0, "fields");
    a->group = hm_jl_get(d, 0, "group");
    load_vals(inc, a);
}

/* Remembers which entity the events of a (single-event) alert went to, so a correlation
 * alert built on them can join that incident (docs/incidents.md "Entity precedence"). */
static void link_events(hm_incidents *inc, const entity *e, int64_t t) {
    hm_jl_doc *d = &inc->doc;
    int ev = hm_jl_get(d, 0, "event_ids");
    if (!hm_jl_is(d, ev, JSMN_ARRAY)) return;
    size_t kl = e->node->klen;
    for (int i = 0, k = ev + 1; i < d->tok[ev].size && i < 16; i++, k = hm_jl_skip(d, k)) {
        hm_str id = hm_jl_str(d, k);
        if (!id.len) continue;
        uint64_t h = hkey(id.p, id.len);
        mnode *n = smap_find(&inc->evmap, id.p, id.len, h);
        evlink *l = n ? n->val : NULL;
        if (!l || l->klen != kl || memcmp(l->key, e->node->key, kl)) {
            free(l);
            l = hm_xmalloc(sizeof(*l) + kl + 1);
            l->klen = kl;
            memcpy(l->key, e->node->key, kl + 1);
            if (n)
                n->val = l;
            else
                smap_add(&inc->evmap, id.p, id.len, h, l);
        }
        l->t = t;
    }
}

/* The entity whose open incident holds the alerts of every event of this correlation alert
 * that had one, when they are all in one incident and the alert fits its window. */
static entity *linked_entity(hm_incidents *inc, int64_t t) {
    hm_jl_doc *d = &inc->doc;
    int ev = hm_jl_get(d, 0, "event_ids");
    if (!hm_jl_is(d, ev, JSMN_ARRAY)) return NULL;
    entity *found = NULL;
    for (int i = 0, k = ev + 1; i < d->tok[ev].size && i < 256; i++, k = hm_jl_skip(d, k)) {
        hm_str id = hm_jl_str(d, k);
        mnode *n = id.len ? smap_find(&inc->evmap, id.p, id.len, hkey(id.p, id.len)) : NULL;
        if (!n) continue;
        const evlink *l = n->val;
        mnode *en = smap_find(&inc->ents, l->key, l->klen, hkey(l->key, l->klen));
        entity *e = en ? en->val : NULL;
        if (!e || !e->cur) continue;
        if (found && found != e) return NULL; /* spread over several incidents: no link */
        found = e;
    }
    if (!found) return NULL;
    const incident *c = found->cur;
    int64_t w = inc->o.window_ns;
    return t <= c->last_ns + w && t >= c->first_ns - w ? found : NULL;
}

/* processes one alert line; returns the incident id (or NULL) and *sup when suppressed */
static const char *process_alert(hm_incidents *inc, hm_str line, const supp **sup) {
    *sup = NULL;
    hm_jl_doc *d = &inc->doc;
    if (hm_jl_parse(d, line.p, line.len) != 0 || d->kind != HM_JL_ALERT) {
        inc->st.bad_lines++;
        return NULL;
    }
    inc->st.alerts++;
    actx a = {0};
    fill_ctx(inc, &a, line);
    pick_entity(inc, &a);
    bool corr = hm_jl_get(d, 0, "rule.correlation") >= 0;
    if (corr && inc->evmap.n && !a.r->entity_field) {
        entity *le = linked_entity(inc, a.t);
        if (le) {
            a.etype = le->type;
            a.evalue = hm_str_c(le->value);
        }
    }
    if (a.t > inc->watermark) inc->watermark = a.t;
    const supp *s = suppressed_by(inc, &a);
    if (s) {
        *sup = s;
        inc->st.suppressed++;
        entity *e = entity_get(inc, &a, false);
        if (e && e->cur) e->cur->suppressed++;
        return NULL;
    }
    entity *e = entity_get(inc, &a, true);
    if (a.t > e->last_ns) e->last_ns = a.t;
    risk_add(inc, e, a.r, a.t);
    incident *x = route(inc, e, &a);
    incident_add(inc, x, e, &a);
    if (!corr) link_events(inc, e, a.t);
    return x->id;
}

void hm_incidents_feed(hm_incidents *inc, const char **data, size_t *len, uint64_t *lines,
                       bool keep_alerts) {
    int64_t t0 = hm_mono_ns();
    const char *p = *data, *end = *data + *len;
    static const char PFX[] = "{\"kind\":\"alert\"";
    const size_t pl = sizeof(PFX) - 1;
    bool building = false;
    uint64_t n = *lines;
    inc->pass.len = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end, *next = nl ? nl + 1 : end;
        size_t ll = (size_t)(le - p);
        if (ll > pl && !memcmp(p, PFX, pl) && (p[pl] == ',' || p[pl] == '}')) {
            if (!building) {
                if (p > *data) hm_buf_put(&inc->pass, *data, (size_t)(p - *data));
                building = true;
            }
            hm_str line = hm_str_n(p, ll);
            if (ll && line.p[ll - 1] == '\r') line.len--;
            const supp *s;
            const char *id = process_alert(inc, line, &s);
            if (keep_alerts) {
                if (id || s)
                    put_rewritten(&inc->pass, line, id ? "incident_id" : NULL, id, s);
                else {
                    hm_buf_put(&inc->pass, p, ll);
                    hm_buf_putc(&inc->pass, '\n');
                }
            } else if (n) {
                n--;
            }
        } else if (building) {
            hm_buf_put(&inc->pass, p, (size_t)(next - p));
        }
        p = next;
    }
    if (building) {
        *data = inc->pass.p;
        *len = inc->pass.len;
        *lines = n;
    }
    inc->st.busy_ns += hm_mono_ns() - t0;
}

/* ---- scoring and the incident line ---- */

typedef struct score {
    int level, crit, risk, attack, total, prio, ntactics;
    bool info_only, crit_ignored;
} score;

static void compute(const incident *x, score *s) {
    memset(s, 0, sizeof(*s));
    s->level = LEVEL_PTS[x->max_level];
    s->crit = x->crit ? CRIT_PTS[x->crit] : 0;
    if (s->crit < 0 && x->safety) {
        s->crit = 0;
        s->crit_ignored = true;
    }
    double extra = x->risk - RISK_PTS[x->max_level];
    if (extra < 0) extra = 0;
    s->risk = (int)lround(extra > RISK_CAP ? RISK_CAP : extra);
    for (size_t i = 0; i < N_TACTICS; i++) s->ntactics += (int)(x->tactics >> i & 1);
    s->attack = s->ntactics > 1 ? ATTACK_PER_TACTIC * (s->ntactics - 1) : 0;
    if (s->attack > ATTACK_CAP) s->attack = ATTACK_CAP;
    int t = s->level + s->crit + s->risk + s->attack;
    s->total = t < 0 ? 0 : t > 100 ? 100 : t;
    s->prio = bucket_of(s->total);
    s->info_only = x->max_level == 0;
    if (s->info_only) s->prio = 0;
}

static int cmp_rstat(const void *a, const void *b) {
    const rstat *x = a, *y = b;
    if (x->r->level != y->r->level) return y->r->level - x->r->level;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* the "next_steps" array; cached in the incident while its inputs stay the same */
static void put_steps(incident *x, const rstat *sorted, hm_buf *b) {
    const void *r0 = x->n_rules > 0 ? (const void *)sorted[0].r : NULL;
    const void *r1 = x->n_rules > 1 ? (const void *)sorted[1].r : NULL;
    if (x->steps_json.p && x->steps_key == x->steps && x->steps_r0 == r0 && x->steps_r1 == r1 &&
        x->steps_ip == (x->src_ip != NULL)) {
        hm_buf_put(b, x->steps_json.p, x->steps_json.n);
        return;
    }
    size_t at = b->len;
    hm_buf_puts(b, ",\"next_steps\":[");
    int n = 0;
    for (int i = 0; i < ST_COUNT && n < 8; i++) {
        if (!(x->steps >> i & 1)) continue;
        const char *t = STEP_TEXT[i];
        if (n++) hm_buf_putc(b, ',');
        hm_buf_putc(b, '"');
        const char *ph = strchr(t, '{'), *close = ph ? strchr(ph, '}') : NULL;
        if (ph && close) { /* one placeholder: {entity} or {src_ip} */
            const char *val = !strncmp(ph, "{entity}", 8)   ? x->ent->value
                              : !strncmp(ph, "{src_ip}", 8) ? (x->src_ip ? x->src_ip : "the source")
                                                            : "";
            hm_buf_put_json_escaped(b, t, (size_t)(ph - t));
            hm_buf_put_json_escaped(b, val, strlen(val));
            hm_buf_put_json_escaped(b, close + 1, strlen(close + 1));
        } else {
            hm_buf_put_json_escaped(b, t, strlen(t));
        }
        hm_buf_putc(b, '"');
    }
    /* from the rules themselves: description and false positives of the top rules */
    for (size_t i = 0; i < x->n_rules && i < 2 && n < 10; i++) {
        const rinfo *r = sorted[i].r;
        if (r->description) {
            if (n++) hm_buf_putc(b, ',');
            hm_buf_puts(b, "\"About \\\"");
            hm_buf_put_json_escaped(b, r->title, strlen(r->title));
            hm_buf_puts(b, "\\\": ");
            hm_buf_put_json_escaped(b, r->description, strlen(r->description));
            hm_buf_putc(b, '"');
        }
        if (r->falsepositives) {
            if (n++) hm_buf_putc(b, ',');
            hm_buf_puts(b, "\"Rule out known benign causes of \\\"");
            hm_buf_put_json_escaped(b, r->title, strlen(r->title));
            hm_buf_puts(b, "\\\": ");
            hm_buf_put_json_escaped(b, r->falsepositives, strlen(r->falsepositives));
            hm_buf_putc(b, '"');
        }
    }
    if (n++) hm_buf_putc(b, ',');
    hm_buf_put_json_str(b, hm_str_c(STEP_FALLBACK));
    hm_buf_putc(b, ']');
    free(x->steps_json.p);
    x->steps_json.n = b->len - at;
    x->steps_json.p = hm_xmalloc(x->steps_json.n);
    memcpy(x->steps_json.p, b->p + at, x->steps_json.n);
    x->steps_key = x->steps;
    x->steps_r0 = r0;
    x->steps_r1 = r1;
    x->steps_ip = x->src_ip != NULL;
}

static const char *level_word(int level) {
    return level == 0 ? "informational" : hm_priority_names[level];
}

static void put_int(hm_buf *b, const char *key_lit, int64_t v) {
    hm_buf_puts(b, key_lit);
    hm_buf_put_i64(b, v);
}

static void put_incident(hm_incidents *inc, incident *x, hm_buf *b) {
    score s;
    compute(x, &s);
    x->priority = s.prio;
    rstat one, *sorted = x->n_rules > 1 ? hm_xmalloc(x->n_rules * sizeof(rstat)) : &one;
    if (x->n_rules) memcpy(sorted, x->rules, x->n_rules * sizeof(rstat));
    if (x->n_rules > 1) qsort(sorted, x->n_rules, sizeof(rstat), cmp_rstat);

    hm_buf_puts(b, "{\"kind\":\"incident\",\"id\":\"");
    hm_buf_puts(b, x->id);
    hm_buf_puts(b, "\",\"status\":\"open\",\"priority\":\"");
    hm_buf_puts(b, hm_priority_names[s.prio]);
    put_int(b, "\",\"score\":", s.total);
    hm_buf_puts(b, ",\"title\":\"");
    if (x->n_rules) hm_buf_put_json_escaped(b, sorted[0].r->title, strlen(sorted[0].r->title));
    if (x->n_rules > 1) {
        hm_buf_puts(b, " (+");
        hm_buf_put_u64(b, x->n_rules - 1);
        hm_buf_puts(b, x->n_rules > 2 ? " more rules)" : " more rule)");
    }
    hm_buf_puts(b, "\",\"entity\":{\"type\":");
    hm_buf_put_json_str(b, hm_str_c(x->ent->type));
    hm_buf_puts(b, ",\"value\":");
    hm_buf_put_json_str(b, hm_str_c(x->ent->value));
    hm_buf_puts(b, "},\"first_seen\":\"");
    put_time(b, x->first_ns);
    hm_buf_puts(b, "\",\"last_seen\":\"");
    put_time(b, x->last_ns);
    put_int(b, "\",\"alert_count\":", (int64_t)x->alerts);
    put_int(b, ",\"suppressed_count\":", (int64_t)x->suppressed);
    hm_buf_puts(b, ",\"rules\":[");
    for (size_t i = 0; i < x->n_rules && i < MAX_RULES_OUT; i++) {
        const rstat *r = &sorted[i];
        if (i) hm_buf_putc(b, ',');
        hm_buf_puts(b, "{\"id\":");
        hm_buf_put_json_str(b, hm_str_c(r->r->id));
        hm_buf_puts(b, ",\"title\":");
        hm_buf_put_json_str(b, hm_str_c(r->r->title));
        hm_buf_puts(b, ",\"level\":\"");
        hm_buf_puts(b, level_word(r->r->level));
        put_int(b, "\",\"count\":", (int64_t)r->count);
        hm_buf_puts(b, ",\"first_seen\":\"");
        put_time(b, r->first);
        hm_buf_puts(b, "\",\"last_seen\":\"");
        put_time(b, r->last);
        hm_buf_puts(b, "\"}");
    }
    hm_buf_putc(b, ']');
    if (x->n_rules > MAX_RULES_OUT)
        put_int(b, ",\"rules_omitted\":", (int64_t)(x->n_rules - MAX_RULES_OUT));
    hm_buf_puts(b, ",\"tactics\":[");
    for (size_t i = 0, n = 0; i < N_TACTICS; i++)
        if (x->tactics >> i & 1) {
            hm_buf_puts(b, n++ ? ",\"" : "\"");
            hm_buf_puts(b, TACTICS[i]);
            hm_buf_putc(b, '"');
        }
    hm_buf_puts(b, "],\"techniques\":[");
    for (size_t i = 0; i < x->n_techs; i++) {
        if (i) hm_buf_putc(b, ',');
        hm_buf_put_json_str(b, hm_str_c(x->techs[i]));
    }
    hm_buf_puts(b, x->student ? "],\"student_data\":true,\"student_data_reasons\":["
                              : "],\"student_data\":false,\"student_data_reasons\":[");
    for (size_t i = 0; i < x->n_sd; i++) {
        if (i) hm_buf_putc(b, ',');
        hm_buf_put_json_str(b, hm_str_c(x->sd[i]));
    }
    hm_buf_puts(b, "],\"assets\":[");
    for (size_t i = 0; i < x->n_assets; i++) {
        if (i) hm_buf_putc(b, ',');
        hm_buf_puts(b, "{\"name\":");
        hm_buf_put_json_str(b, hm_str_c(x->assets[i].name));
        hm_buf_puts(b, ",\"criticality\":\"");
        hm_buf_puts(b, CRIT_NAMES[x->assets[i].crit]);
        hm_buf_puts(b, "\"}");
    }
    /* the score and why */
    put_int(b, "],\"score_breakdown\":{\"level\":{\"points\":", s.level);
    hm_buf_puts(b, ",\"level\":\"");
    hm_buf_puts(b, level_word(x->max_level));
    put_int(b, "\"},\"criticality\":{\"points\":", s.crit);
    hm_buf_puts(b, ",\"criticality\":\"");
    hm_buf_puts(b, x->crit ? CRIT_NAMES[x->crit] : "default");
    hm_buf_putc(b, '"');
    if (x->crit_name) {
        hm_buf_puts(b, ",\"asset\":");
        hm_buf_put_json_str(b, hm_str_c(x->crit_name));
        hm_buf_puts(b, ",\"matched\":");
        hm_buf_put_json_str(b, hm_str_c(x->crit_why));
    }
    if (s.crit_ignored) hm_buf_puts(b, ",\"note\":\"safety rule: low criticality not applied\"");
    put_int(b, "},\"risk\":{\"points\":", s.risk);
    int64_t tenths = llround(x->risk * 10);
    put_int(b, ",\"entity_risk\":", tenths / 10);
    hm_buf_putc(b, '.');
    hm_buf_putc(b, (char)('0' + tenths % 10));
    put_int(b, ",\"rules\":", x->risk_rules);
    put_int(b, ",\"alerts\":", (int64_t)x->risk_alerts);
    put_int(b, ",\"horizon_s\":", inc->o.horizon_ns / 1000000000LL);
    put_int(b, ",\"cap\":", RISK_CAP);
    put_int(b, "},\"attack\":{\"points\":", s.attack);
    put_int(b, ",\"tactics\":", s.ntactics);
    put_int(b, "},\"total\":", s.total);
    if (s.info_only) hm_buf_puts(b, ",\"note\":\"only informational rules: priority stays info\"");
    hm_buf_puts(b, "},\"evidence\":{\"alerts\":[");
    size_t nf = x->ev_total < EV_FIRST ? (size_t)x->ev_total : EV_FIRST, k = 0;
    for (size_t i = 0; i < nf; i++) {
        if (k++) hm_buf_putc(b, ',');
        hm_buf_put(b, x->ev_first[i].p, x->ev_first[i].n);
    }
    uint64_t nl = x->ev_total > EV_FIRST ? x->ev_total - EV_FIRST : 0;
    size_t keep = nl < EV_LAST ? (size_t)nl : EV_LAST;
    for (size_t i = 0; i < keep; i++) {
        size_t slot = (size_t)((nl - keep + i) % EV_LAST);
        if (k++) hm_buf_putc(b, ',');
        hm_buf_put(b, x->ev_last[slot].p, x->ev_last[slot].n);
    }
    put_int(b, "],\"omitted\":", (int64_t)(x->ev_total - nf - keep));
    hm_buf_putc(b, '}');
    put_steps(x, sorted, b);
    put_int(b, ",\"window_s\":", inc->o.window_ns / 1000000000LL);
    hm_buf_puts(b, "}\n");
    if (sorted != &one) free(sorted);
}

/* ---- flush, expiry ---- */

static int cmp_last(const void *a, const void *b) {
    const entity *x = *(entity *const *)a, *y = *(entity *const *)b;
    return x->last_ns < y->last_ns ? -1 : x->last_ns > y->last_ns;
}

static void sweep(hm_incidents *inc, bool all) {
    int64_t wm = inc->watermark;
    int64_t close_before = wm - inc->o.window_ns - inc->o.lateness_ns;
    int64_t forget_before = wm - inc->o.horizon_ns - inc->o.lateness_ns;
    size_t max_ents = inc->o.max_active * 10;
    for (size_t i = 0; i < inc->ents.nb; i++) {
        for (mnode *x = inc->ents.b[i], *nx; x; x = nx) {
            nx = x->next;
            entity *e = x->val;
            if (e->cur && (all || e->cur->last_ns < close_before)) {
                incident_free(e->cur);
                e->cur = NULL;
                inc->active--;
                inc->st.closed++;
            }
            if (!e->cur && (all || e->last_ns < forget_before)) {
                smap_del(&inc->ents, x);
                entity_free(e);
            }
        }
    }
    /* memory bounds: close the least recently active incidents / forget entities */
    if (inc->active > inc->o.max_active || inc->ents.n > max_ents) {
        entity **v = hm_xmalloc(inc->ents.n * sizeof(entity *));
        size_t n = 0;
        for (size_t i = 0; i < inc->ents.nb; i++)
            for (mnode *x = inc->ents.b[i]; x; x = x->next) v[n++] = x->val;
        qsort(v, n, sizeof(*v), cmp_last);
        for (size_t i = 0; i < n; i++) {
            bool close = inc->active > inc->o.max_active * 9 / 10;
            bool forget = inc->ents.n > max_ents * 9 / 10;
            if (!close && !forget) break;
            entity *e = v[i];
            if (e->cur && (close || forget)) {
                incident_free(e->cur);
                e->cur = NULL;
                inc->active--;
                inc->st.evicted++;
            }
            /* the entity (its risk and the ids it used) is kept unless entities overflow */
            if (forget) {
                smap_del(&inc->ents, e->node);
                entity_free(e);
            }
        }
        free(v);
    }
    /* event links live as long as an incident window */
    size_t cap_links = inc->o.max_active * 50;
    for (size_t i = 0; i < inc->evmap.nb; i++)
        for (mnode *x = inc->evmap.b[i], *nx; x; x = nx) {
            nx = x->next;
            evlink *l = x->val;
            if (all || l->t < close_before || inc->evmap.n > cap_links) {
                free(l);
                smap_del(&inc->evmap, x);
            }
        }
    inc->st.entities = inc->ents.n;
    inc->last_sweep = wm;
}

/* closing is also done lazily when an entity's next alert arrives: sweeps only bound memory */
static int64_t sweep_every(const hm_incidents *inc) {
    int64_t v = inc->o.window_ns / 4, lo = 60LL * 1000000000LL, hi = 900LL * 1000000000LL;
    return v < lo ? lo : v > hi ? hi : v;
}

size_t hm_incidents_flush(hm_incidents *inc, hm_buf *out) {
    int64_t t0 = hm_mono_ns();
    size_t n = 0;
    for (size_t i = 0; i < inc->n_dirty; i++) {
        incident *x = inc->dirty[i];
        int before = x->priority;
        put_incident(inc, x, out);
        if (before != x->priority) {
            if (before >= 0 && inc->st.by_priority[before]) inc->st.by_priority[before]--;
            inc->st.by_priority[x->priority]++;
        }
        x->dirty = false;
        n++;
        if (x->orphan) incident_free(x);
    }
    inc->n_dirty = 0;
    inc->st.lines += n;
    if (inc->watermark != INT64_MIN &&
        (inc->last_sweep == INT64_MIN || inc->watermark - inc->last_sweep > sweep_every(inc) ||
         inc->active > inc->o.max_active))
        sweep(inc, false);
    inc->st.active = inc->active;
    inc->st.busy_ns += hm_mono_ns() - t0;
    return n;
}

size_t hm_incidents_finish(hm_incidents *inc, hm_buf *out) {
    size_t n = hm_incidents_flush(inc, out);
    sweep(inc, true);
    inc->st.active = inc->active;
    return n;
}

void hm_incidents_get_stats(const hm_incidents *inc, hm_incident_stats *s) {
    *s = inc->st;
}

void hm_incidents_stats_json(const hm_incidents *inc, FILE *f) {
    const hm_incident_stats *s = &inc->st;
    fprintf(f,
            "\"incidents\":{\"alerts\":%llu,\"suppressed\":%llu,\"incidents\":%llu,\"lines\":%llu,"
            "\"active\":%llu,\"closed\":%llu,\"evicted\":%llu,\"entities\":%llu,\"bad_lines\":%llu,"
            "\"by_priority\":{",
            (unsigned long long)s->alerts, (unsigned long long)s->suppressed,
            (unsigned long long)s->incidents, (unsigned long long)s->lines,
            (unsigned long long)inc->active, (unsigned long long)s->closed,
            (unsigned long long)s->evicted, (unsigned long long)s->entities,
            (unsigned long long)s->bad_lines);
    for (int i = 4; i >= 0; i--)
        fprintf(f, "\"%s\":%llu%s", hm_priority_names[i], (unsigned long long)s->by_priority[i],
                i ? "," : "");
    fprintf(f, "},\"suppressions\":{");
    for (size_t i = 0; i < inc->n_supps; i++) {
        hm_buf b = {0};
        hm_buf_put_json_str(&b, hm_str_c(inc->supps[i].id));
        fprintf(f, "%s%.*s:%llu", i ? "," : "", (int)b.len, b.p,
                (unsigned long long)inc->supps[i].hits);
        hm_buf_free(&b);
    }
    fprintf(f, "},\"ns_per_alert\":%.0f}",
            s->alerts ? (double)s->busy_ns / (double)s->alerts : 0.0);
}
