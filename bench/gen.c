/* gen.c - simulated school-district day of syslog lines plus a truth file (hm-gen).
 *
 *   hm-gen [--lines N] [--seed S] [--out FILE|-] [--truth FILE]
 *          [--attacks all|none|LIST] [--no-decoys] [--date YYYY-MM-DD]
 *
 * Writes N RFC3164 lines (default 1,000,000) for one district day (default Mon 2024-03-11,
 * district local time, non-decreasing), in the shapes of
 * reference/k12-synthetic-formats.md: FortiGate (~41 %), pfSense filterlog (~26 %), auth
 * (SIS, FreeRADIUS, OpenSSH; ~18 %), door controllers (~7 %), visitor management (~1.4 %)
 * and misc (dhcpd, cron, sudo; ~7 %). Background volume follows a school-day hour profile.
 * Attack scenarios and look-alike decoys are injected on reserved entities and described,
 * one JSON object per instance, in the truth file. docs/bench-data.md has the details.
 * Output is a pure function of the arguments (and does not depend on the compiler: every
 * random draw is its own statement, never two in one argument list). Standalone C11:
 *   gcc -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o build/hm-gen bench/gen.c -lm */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define DAY      86400

/* ---- deterministic PRNG (splitmix64); one state per stream ---- */

typedef struct {
    uint64_t s;
} prng;
static prng bg;       /* background stream */
static prng *R = &bg; /* stream used by the line builders */

static inline uint64_t rnd(void) {
    uint64_t z = (R->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static inline uint32_t rn(uint32_t n) { /* uniform in [0, n) */
    return (uint32_t)(((rnd() >> 32) * (uint64_t)n) >> 32);
}
static inline int rr(int lo, int hi) { /* uniform in [lo, hi] */
    return lo + (int)rn((uint32_t)(hi - lo + 1));
}
static inline int pct(uint32_t p) {
    return rn(100) < p;
}
static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
#define PICK(arr) (arr[rn((uint32_t)NELEM(arr))])

/* ---- output buffer: every line is built at obuf + olen ---- */

#define OUT_CAP  (8u << 20)
#define OUT_HIGH (OUT_CAP - 65536)
static char obuf[OUT_CAP];
static size_t olen;
static FILE *ofp;

static void flush_out(void) {
    if (olen && fwrite(obuf, 1, olen, ofp) != olen) {
        fprintf(stderr, "hm-gen: write failed: %s\n", strerror(errno));
        exit(1);
    }
    olen = 0;
}
static inline void put(const char *s, size_t n) {
    memcpy(obuf + olen, s, n);
    olen += n;
}
#define PUTL(lit) put(lit, sizeof(lit) - 1)
static inline void puts_(const char *s) {
    put(s, strlen(s));
}
static inline void putc_(char c) {
    obuf[olen++] = c;
}
static void putu(uint64_t v) {
    char t[24];
    int i = 0;
    do t[i++] = (char)('0' + v % 10);
    while (v /= 10);
    while (i) obuf[olen++] = t[--i];
}
static inline void put2(unsigned v) {
    obuf[olen++] = (char)('0' + v / 10);
    obuf[olen++] = (char)('0' + v % 10);
}
static void puthex(uint64_t v, int digits, int upper) {
    const char *hx = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    for (int i = digits - 1; i >= 0; i--) obuf[olen++] = hx[(v >> (i * 4)) & 15];
}
static void putip(uint32_t ip) {
    putu(ip >> 24);
    putc_('.');
    putu((ip >> 16) & 255);
    putc_('.');
    putu((ip >> 8) & 255);
    putc_('.');
    putu(ip & 255);
}
#define IP4(a, b, c, d)                                                                            \
    (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

/* ---- the day ---- */

static int g_year = 2024, g_mon = 3, g_mday = 11;
static int64_t g_epoch0;            /* FortiGate eventtime (true UTC epoch) of local 00:00:00 */
static int g_utc_offset_min = -300; /* the district's UTC offset that day (America/Chicago, CDT) */
static char g_date[11];             /* YYYY-MM-DD */

static int64_t days_from_civil(int y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}
static void puthms(int t) {
    put2((unsigned)(t / 3600));
    putc_(':');
    put2((unsigned)(t / 60 % 60));
    putc_(':');
    put2((unsigned)(t % 60));
}
/* "<PRI>Mmm dd HH:MM:SS host " */
static void hdr0(int pri, int t, const char *host) {
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    putc_('<');
    putu((unsigned)pri);
    putc_('>');
    put(mon[g_mon - 1], 3);
    putc_(' ');
    if (g_mday < 10) putc_(' ');
    putu((unsigned)g_mday);
    putc_(' ');
    puthms(t);
    putc_(' ');
    puts_(host);
    putc_(' ');
}
/* "<PRI>Mmm dd HH:MM:SS host tag[pid]: " */
static void hdr(int pri, int t, const char *host, const char *tag, int pid) {
    hdr0(pri, t, host);
    puts_(tag);
    putc_('[');
    putu((unsigned)pid);
    PUTL("]: ");
}
/* YYYY-MM-DDTHH:MM:SS */
static void putiso(int t) {
    put(g_date, 10);
    putc_('T');
    puthms(t);
}

/* ---- lines due later: a min-heap on (time, insertion order) ----
 * Scenario lines and background follow-ups (logout after login, DOOR_CLOSED after a
 * grant, ...) are built in obuf, copied out here, and written when the day reaches
 * their second, so the output stays in non-decreasing time order. */

typedef struct {
    int t;
    uint32_t seq;
    uint32_t len;
    char *s;
} pend;
static pend *heap;
static size_t nheap, capheap;
static uint32_t pend_seq;

static inline int pend_lt(const pend *a, const pend *b) {
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}
static void heap_push(pend p) {
    if (nheap == capheap) {
        capheap = capheap ? capheap * 2 : 4096;
        heap = realloc(heap, capheap * sizeof *heap);
        if (!heap) {
            fprintf(stderr, "hm-gen: out of memory\n");
            exit(1);
        }
    }
    size_t i = nheap++;
    while (i) {
        size_t up = (i - 1) / 2;
        if (!pend_lt(&p, &heap[up])) break;
        heap[i] = heap[up];
        i = up;
    }
    heap[i] = p;
}
static pend heap_pop(void) {
    pend top = heap[0], last = heap[--nheap];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= nheap) break;
        if (c + 1 < nheap && pend_lt(&heap[c + 1], &heap[c])) c++;
        if (!pend_lt(&heap[c], &last)) break;
        heap[i] = heap[c];
        i = c;
    }
    if (nheap) heap[i] = last;
    return top;
}

/* Line framing. Builders call line_begin(), write the line (no newline), then line_end(t).
 * In deferred mode (defer_mode, or t later than the second being written) the line goes
 * to the heap; otherwise it stays in obuf. */
static int cur_t;      /* second being written by the background loop */
static int defer_mode; /* scenario injection: every line goes to the heap */
static size_t line_start;
static long lines_deferred;  /* lines pushed to the heap */
static long lines_direct;    /* lines written straight to obuf */
static int sc_tmin, sc_tmax; /* time span of the deferred lines of the current scenario */

static inline void line_begin(void) {
    line_start = olen;
}
static void line_end(int t) {
    putc_('\n');
    if (t > DAY - 1) t = DAY - 1;
    if (defer_mode || t > cur_t) {
        pend p = {t, pend_seq++, (uint32_t)(olen - line_start), NULL};
        p.s = malloc(p.len);
        if (!p.s) {
            fprintf(stderr, "hm-gen: out of memory\n");
            exit(1);
        }
        memcpy(p.s, obuf + line_start, p.len);
        olen = line_start;
        heap_push(p);
        lines_deferred++;
        if (t < sc_tmin) sc_tmin = t;
        if (t > sc_tmax) sc_tmax = t;
    } else {
        lines_direct++;
        if (olen > OUT_HIGH) flush_out();
    }
}
/* write every pending line due at or before t */
static void drain_until(int t) {
    while (nheap && heap[0].t <= t) {
        pend p = heap_pop();
        put(p.s, p.len);
        free(p.s);
        if (olen > OUT_HIGH) flush_out();
    }
}

/* ---- truth entries ---- */

typedef struct {
    const char *scen, *sev, *ref;
    int decoy, start, end, lines, nent;
    const char *ek[5];
    char ev[5][48];
    char expect[240];
} truth;
static truth truths[64];
static int ntruth;

/* ---- the district ---- */

#define NSITE 8
typedef struct {
    const char *code;  /* door-id prefix */
    const char *lc;    /* host suffix: acs-hs, wlc-hs01 */
    const char *name;  /* school name */
    int nstaff, nstud; /* roster sizes */
    int fgt;           /* index into fgts[], or -1: behind a pfSense */
} site_t;
/* site index i: staff 10.(16+i).0.0/16, students 10.(32+i).0.0/16, guest 10.(48+i).0.0/16;
 * servers 10.0.0.0/16, VPN pool 10.10.0.0/16, management 10.16.0.0/24 (district office) */
static const site_t sites[NSITE] = {
    {"DO", "do", "District Office", 90, 0, 0},
    {"HS", "hs", "Jefferson High", 210, 1800, 1},
    {"MS", "ms", "Roosevelt Middle", 150, 1200, 2},
    {"ES1", "es1", "Lincoln Elementary", 80, 450, -1},
    {"ES2", "es2", "Adams Elementary", 80, 450, -1},
    {"ES3", "es3", "Madison Elementary", 80, 450, -1},
    {"ES4", "es4", "Monroe Elementary", 80, 450, -1},
    {"ES5", "es5", "Jackson Elementary", 80, 450, -1},
};
typedef struct {
    const char *name, *devid;
    uint32_t wan;
} fgt_t;
static const fgt_t fgts[3] = {
    {"FGT-DC01", "FG100FTK19000101", IP4(198, 18, 0, 10)},
    {"FGT-HS01", "FG100FTK19000202", IP4(198, 18, 0, 12)},
    {"FGT-MS01", "FG60FTK20000303", IP4(198, 18, 0, 14)},
};
#define PF_WAN(i) IP4(198, 18, 0, 20 + (i)) /* pfsense-es<i> */

/* doors (all with a reader <code>-Rnn): D01..D10 carry background traffic, D11..D14 are
 * kept for scenarios */
typedef struct {
    const char *name;
    int exterior;
} door_t;
static const door_t doors[] = {
    {"Main Entrance", 1},  {"Front Office", 0},   {"Gym Lobby", 1},    {"Cafeteria", 0},
    {"Staff Entrance", 1}, {"Library", 0},        {"Loading Dock", 1}, {"Kitchen", 0},
    {"East Wing", 0},      {"Staff Lounge", 0},   {"Server Room", 0},  {"Records Room", 0},
    {"Nurse Office", 0},   {"North Entrance", 1},
};
#define NDOOR_BG  10
#define D_SERVER  10 /* index of D11 */
#define D_RECORDS 11
#define D_NURSE   12
#define D_NORTH   13

static const char *const firsts[] = {
    "James",   "Mary",      "Robert",   "Patricia",  "John",    "Jennifer", "Michael", "Linda",
    "David",   "Elizabeth", "William",  "Barbara",   "Richard", "Susan",    "Joseph",  "Jessica",
    "Thomas",  "Sarah",     "Charles",  "Karen",     "Daniel",  "Lisa",     "Matthew", "Nancy",
    "Anthony", "Betty",     "Mark",     "Ashley",    "Steven",  "Emily",    "Paul",    "Donna",
    "Andrew",  "Michelle",  "Joshua",   "Carol",     "Kevin",   "Amanda",   "Brian",   "Melissa",
    "George",  "Deborah",   "Timothy",  "Stephanie", "Ronald",  "Rebecca",  "Jason",   "Laura",
    "Edward",  "Sharon",    "Jeffrey",  "Cynthia",   "Ryan",    "Kathleen", "Jacob",   "Amy",
    "Gary",    "Angela",    "Nicholas", "Shirley"};
static const char *const lasts[] = {
    "smith",    "johnson",   "williams",   "brown",     "jones",    "garcia",   "miller",
    "davis",    "rodriguez", "martinez",   "hernandez", "lopez",    "gonzalez", "wilson",
    "anderson", "thomas",    "taylor",     "moore",     "jackson",  "martin",   "lee",
    "perez",    "thompson",  "white",      "harris",    "sanchez",  "clark",    "ramirez",
    "lewis",    "robinson",  "walker",     "young",     "allen",    "king",     "wright",
    "scott",    "torres",    "nguyen",     "hill",      "flores",   "green",    "adams",
    "nelson",   "baker",     "hall",       "rivera",    "campbell", "mitchell", "carter",
    "roberts",  "gomez",     "phillips",   "evans",     "turner",   "diaz",     "parker",
    "cruz",     "edwards",   "collins",    "reyes",     "stewart",  "morris",   "morales",
    "murphy",   "cook",      "rogers",     "gutierrez", "ortiz",    "morgan",   "cooper",
    "peterson", "bailey",    "reed",       "kelly",     "howard",   "ramos",    "kim",
    "cox",      "ward",      "richardson", "watson",    "brooks",   "chavez",   "wood",
    "james",    "bennett",   "gray",       "mendoza",   "ruiz",     "hughes",   "price",
    "alvarez",  "castillo",  "sanders",    "patel",     "myers",    "long",     "ross",
    "foster",   "jimenez"};
/* last names only scenario people carry (background never draws from these) */
static const char *const rlasts[] = {
    "whitaker",   "okonkwo",   "lindgren",  "castellanos", "nakagawa",   "delacroix", "ferreira",
    "kowalczyk",  "abernathy", "oyelowo",   "marchetti",   "sorensen",   "haddad",    "pennington",
    "rutherford", "valdivia",  "szymanski", "achterberg",  "mcallister", "quintero",  "vandermeer",
    "bjornsson",  "takahashi", "ellsworth", "dubois",      "holloway"};

typedef struct {
    char user[24];
    char first[12], last[16];
    uint8_t site, role; /* role: 0 teacher, 1 office/admin, 2 custodian */
    uint32_t ip, home;  /* staff-net address, home (public) address */
    uint32_t badge;
} staff_t;
typedef struct {
    uint32_t id; /* s2xxxxxx */
    uint8_t site;
    uint32_t ip;
    uint64_t mac;
} student_t;
static staff_t *staff;
static int nstaff;
static student_t *studs;
static int nstud;
static int site_staff0[NSITE], site_staffn[NSITE], site_stud0[NSITE], site_studn[NSITE];
static const char *const sysadmins[] = {"mgarcia", "bscott", "jpatel1", "dnguyen"};
static const char *const svcs[] = {"svc-rostersync", "svc-copier",    "svc-backup",
                                   "svc-clever",     "svc-classlink", "svc-nutrition"};

/* public address blocks: background draws only from these first octets; scenario
 * attackers use first octets that background never produces (see res_octets) */
static const uint8_t home_oct[] = {24, 50, 67, 68, 69, 71, 73, 76, 96, 97, 98, 99, 108, 174};
static const uint8_t web_oct[] = {13,  20,  23,  34,  35,  52,  54, 104,
                                  142, 151, 157, 199, 204, 208, 216};
static const uint8_t scan_oct[] = {61,  80,  89,  92,  95,  109, 112, 115, 116, 117, 118, 121, 125,
                                   128, 139, 159, 161, 167, 170, 176, 178, 179, 180, 183, 186, 188};
static const char *const scan_cc[] = {"CN", "NL", "RU", "DE", "BR", "VN", "IN", "KR", "US",
                                      "FR", "GB", "SG", "HK", "UA", "TR", "ID", "RO", "IR",
                                      "JP", "PL", "AR", "TW", "TH", "CO", "MX", "CL"};
static const char *const cc_codes[] = {"US", "CN", "NL", "RU", "DE", "BR", "VN", "IN", "KR", "FR",
                                       "GB", "SG", "HK", "UA", "TR", "ID", "RO", "IR", "JP", "PL",
                                       "AR", "TW", "TH", "CO", "MX", "CL", "LT", "BG"};
static const char *const cc_names[] = {"United States",
                                       "China",
                                       "Netherlands",
                                       "Russian Federation",
                                       "Germany",
                                       "Brazil",
                                       "Vietnam",
                                       "India",
                                       "Korea, Republic of",
                                       "France",
                                       "United Kingdom",
                                       "Singapore",
                                       "Hong Kong",
                                       "Ukraine",
                                       "Turkey",
                                       "Indonesia",
                                       "Romania",
                                       "Iran, Islamic Republic of",
                                       "Japan",
                                       "Poland",
                                       "Argentina",
                                       "Taiwan",
                                       "Thailand",
                                       "Colombia",
                                       "Mexico",
                                       "Chile",
                                       "Lithuania",
                                       "Bulgaria"};
static const char *cc_name(const char *cc) {
    for (size_t i = 0; i < NELEM(cc_codes); i++)
        if (!strcmp(cc_codes[i], cc)) return cc_names[i];
    return "Reserved";
}
/* a.b.c.d with b, c, d drawn in this order (one draw per statement: C leaves the order of
 * argument and operand evaluation unspecified, and the output must not depend on the
 * compiler) */
static uint32_t ip_r(int a, int b_lo, int b_n, int c_lo, int c_n, int d_lo, int d_n) {
    uint32_t b = (uint32_t)b_lo + (b_n ? rn((uint32_t)b_n) : 0);
    uint32_t c = (uint32_t)c_lo + (c_n ? rn((uint32_t)c_n) : 0);
    uint32_t d = (uint32_t)d_lo + (d_n ? rn((uint32_t)d_n) : 0);
    return IP4(a, b, c, d);
}
static uint32_t ip_in(uint8_t a) {
    return ip_r(a, 0, 256, 0, 256, 1, 253);
}
static uint32_t home_ip(void) {
    return ip_in(PICK(home_oct));
}
static uint32_t web_ip(void) {
    return ip_in(PICK(web_oct));
}
/* 2-letter country of an address as the upstream GeoIP enrichment would give it */
static const char *ip_cc(uint32_t ip) {
    uint8_t a = (uint8_t)(ip >> 24);
    for (size_t i = 0; i < NELEM(scan_oct); i++)
        if (scan_oct[i] == a) return scan_cc[i];
    return "US";
}
static uint32_t scanners[512]; /* internet background: ssh / admin-login / port-scan sources */

static int is_private(uint32_t ip) {
    return (ip >> 24) == 10;
}
/* 8 KiB open-addressing set of user names, to keep names unique */
static uint64_t nameset[8192];
static int name_taken(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = s; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    h |= 1;
    for (size_t i = h & 8191;; i = (i + 1) & 8191) {
        if (nameset[i] == h) return 1;
        if (!nameset[i]) {
            nameset[i] = h;
            return 0;
        }
    }
}
/* "ksmith", or "ksmith1", "ksmith2"... when taken; prefix "cust-" for custodians */
static void make_user(char *out, size_t n, const char *pre, const char *first, const char *last) {
    size_t k = 0;
    for (const char *p = pre; *p && k + 4 < n; p++) out[k++] = *p;
    out[k++] = (char)(first[0] + 32);
    for (const char *p = last; *p && k + 4 < n; p++) out[k++] = *p;
    out[k] = 0;
    for (int d = 1; name_taken(out) && d < 100; d++) { /* ksmith1, ksmith2, ... */
        if (d < 10)
            out[k] = (char)('0' + d), out[k + 1] = 0;
        else
            out[k] = (char)('0' + d / 10), out[k + 1] = (char)('0' + d % 10), out[k + 2] = 0;
    }
}
static void build_district(void) {
    prng d = {0x5C4001D157ULL}; /* the district does not depend on --seed */
    R = &d;
    for (size_t i = 0; i < NELEM(sysadmins); i++) name_taken(sysadmins[i]);
    for (size_t i = 0; i < NELEM(svcs); i++) name_taken(svcs[i]);
    for (int s = 0; s < NSITE; s++) nstaff += sites[s].nstaff, nstud += sites[s].nstud;
    staff = calloc((size_t)nstaff, sizeof *staff);
    studs = calloc((size_t)nstud, sizeof *studs);
    int k = 0, j = 0;
    for (int s = 0; s < NSITE; s++) {
        site_staff0[s] = k, site_staffn[s] = sites[s].nstaff;
        for (int i = 0; i < sites[s].nstaff; i++, k++) {
            staff_t *p = &staff[k];
            const char *f = PICK(firsts), *l = PICK(lasts);
            p->site = (uint8_t)s;
            p->role = i < 3 ? 2 : (s == 0 || i % 8 == 0) ? 1 : 0;
            snprintf(p->first, sizeof p->first, "%s", f);
            snprintf(p->last, sizeof p->last, "%s", l);
            make_user(p->user, sizeof p->user, p->role == 2 ? "cust-" : "", f, l);
            p->ip = ip_r(10, 16 + s, 0, 1, 60, 2, 250);
            p->home = home_ip();
            p->badge = 10000 + (uint32_t)(k * 61) % 70000;
        }
        site_stud0[s] = j, site_studn[s] = sites[s].nstud;
        for (int i = 0; i < sites[s].nstud; i++, j++) {
            student_t *p = &studs[j];
            p->id = 2000000 + rn(900000);
            p->site = (uint8_t)s;
            p->ip = ip_r(10, 32 + s, 0, 1, 120, 2, 250);
            uint64_t lo = rnd() & 0xFFFFFFULL;
            p->mac =
                lo |
                ((uint64_t)PICK(((uint32_t[]){0x5CE77E, 0x3C22FB, 0xA483E7, 0x9CB6D0, 0x00F48D}))
                 << 24);
        }
    }
    for (size_t i = 0; i < NELEM(scanners); i++) scanners[i] = ip_in(PICK(scan_oct));
    R = &bg;
}
static const staff_t *any_staff(void) {
    return &staff[rn((uint32_t)nstaff)];
}
static const staff_t *site_staff(int s) {
    return &staff[site_staff0[s] + (int)rn((uint32_t)site_staffn[s])];
}
static const student_t *any_student(void) {
    return &studs[rn((uint32_t)nstud)];
}
static const staff_t *site_teacher(int s) { /* role 0 (DO has none: office staff instead) */
    for (int i = 0; i < 64; i++) {
        const staff_t *p = site_staff(s);
        if (p->role == 0 || (s == 0 && p->role == 1)) return p;
    }
    return &staff[site_staff0[s] + 3];
}
static const staff_t *any_employee(void) { /* not a custodian */
    for (;;) {
        const staff_t *p = any_staff();
        if (p->role != 2) return p;
    }
}
static const student_t *site_student(int s) {
    return &studs[site_stud0[s] + (int)rn((uint32_t)site_studn[s])];
}

/* ---- FortiGate (FortiOS key=value, no tag) ---- */

static uint32_t fgt_sess[3] = {73578409, 48304593, 61240077};
static void fgt_head(int pri, int t, int dev, const char *logid, const char *type,
                     const char *subtype, const char *evtype, const char *level) {
    const fgt_t *f = &fgts[dev];
    hdr0(pri, t, f->name);
    PUTL("date=");
    put(g_date, 10);
    PUTL(" time=");
    puthms(t);
    PUTL(" devname=\"");
    puts_(f->name);
    PUTL("\" devid=\"");
    puts_(f->devid);
    PUTL("\" logid=\"");
    puts_(logid);
    PUTL("\" type=\"");
    puts_(type);
    PUTL("\" subtype=\"");
    puts_(subtype);
    if (evtype) {
        PUTL("\" eventtype=\"");
        puts_(evtype);
    }
    PUTL("\" level=\"");
    puts_(level);
    PUTL("\" vd=\"root\" eventtime=");
    putu((uint64_t)(g_epoch0 + t));
}
static void kvip(const char *k, uint32_t ip) { /* " k=ip" */
    putc_(' ');
    puts_(k);
    putc_('=');
    putip(ip);
}
static void kvn(const char *k, uint64_t v) { /* " k=n" */
    putc_(' ');
    puts_(k);
    putc_('=');
    putu(v);
}
static void kvq(const char *k, const char *v) { /* " k=\"v\"" */
    putc_(' ');
    puts_(k);
    PUTL("=\"");
    puts_(v);
    putc_('"');
}
/* the FGT a site's traffic goes through, and a LAN source behind it */
static int fgt_src(int dev, uint32_t *ip, int *stud) {
    int s = dev == 0 ? 0 : dev; /* sites 1 and 2 sit behind FGT-HS01 / FGT-MS01 */
    if (dev == 0) {
        *stud = 0;
        *ip = pct(50) ? ip_r(10, 0, 0, 0, 8, 2, 250) : site_staff(0)->ip;
        return 0;
    }
    *stud = pct(70);
    *ip = *stud ? site_student(s)->ip : site_staff(s)->ip;
    return s;
}
static void fgt_forward(int t) {
    int dev = rn(100) < 45 ? 1 : rn(100) < 55 ? 2 : 0, stud;
    uint32_t src;
    fgt_src(dev, &src, &stud);
    static const struct {
        const char *svc;
        int port, proto;
    } sv[] = {{"HTTPS", 443, 6}, {"HTTPS", 443, 6},    {"HTTPS", 443, 6}, {"HTTPS", 443, 6},
              {"HTTPS", 443, 6}, {"HTTPS", 443, 6},    {"HTTP", 80, 6},   {"DNS", 53, 17},
              {"DNS", 53, 17},   {"udp/443", 443, 17}, {"NTP", 123, 17}};
    int k = (int)rn(NELEM(sv));
    uint32_t dst = sv[k].port == 53
                       ? PICK(((uint32_t[]){IP4(8, 8, 8, 8), IP4(1, 1, 1, 1), IP4(8, 8, 4, 4)}))
                       : web_ip();
    int udp = sv[k].proto == 17;
    uint32_t spk = udp ? 1 + rn(2) : 3 + rn(40), rpk = udp ? 1 + rn(2) : 3 + rn(60);
    line_begin();
    fgt_head(189, t, dev, "0000000013", "traffic", "forward", NULL, "notice");
    kvip("srcip", src);
    kvn("srcport", 1024 + rn(64000));
    PUTL(" srcintf=\"port2\" srcintfrole=\"lan\"");
    kvip("dstip", dst);
    kvn("dstport", (uint64_t)sv[k].port);
    PUTL(" dstintf=\"wan1\" dstintfrole=\"wan\"");
    kvn("sessionid", fgt_sess[dev] += 1 + rn(40));
    kvn("proto", (uint64_t)sv[k].proto);
    puts_(pct(85) ? " action=\"accept\"" : " action=\"close\"");
    PUTL(" policyid=12 policytype=\"policy\"");
    kvq("service", sv[k].svc);
    PUTL(" dstcountry=\"United States\" srccountry=\"Reserved\"");
    kvn("duration", udp ? rn(180) : rn(300));
    kvn("sentbyte", spk * (60 + rn(600)));
    kvn("rcvdbyte", rpk * (60 + rn(1400)));
    kvn("sentpkt", spk);
    kvn("rcvdpkt", rpk);
    PUTL(" appcat=\"unscanned\"");
    line_end(t);
}
static void fgt_local_deny(int t) {
    static const struct {
        const char *svc;
        int port, proto;
    } sv[] = {{"SSH", 22, 6},        {"TELNET", 23, 6}, {"HTTPS", 443, 6},
              {"tcp/8443", 8443, 6}, {"RDP", 3389, 6},  {"SMB", 445, 6},
              {"SIP", 5060, 17},     {"SNMP", 161, 17}, {"tcp/10443", 10443, 6},
              {"tcp/4433", 4433, 6}};
    int dev = (int)rn(3), k = (int)rn(NELEM(sv));
    uint32_t src = scanners[rn(NELEM(scanners))];
    line_begin();
    fgt_head(188, t, dev, "0001000014", "traffic", "local", NULL, "notice");
    kvip("srcip", src);
    kvn("srcport", 1024 + rn(64000));
    PUTL(" srcintf=\"wan1\" srcintfrole=\"wan\"");
    kvip("dstip", fgts[dev].wan);
    kvn("dstport", (uint64_t)sv[k].port);
    PUTL(" dstintf=\"root\" dstintfrole=\"undefined\"");
    kvn("sessionid", fgt_sess[dev] += 1 + rn(40));
    kvn("proto", (uint64_t)sv[k].proto);
    PUTL(" action=\"deny\" policyid=0 policytype=\"policy\"");
    kvq("service", sv[k].svc);
    kvq("dstcountry", "Reserved");
    kvq("srccountry", cc_name(ip_cc(src)));
    PUTL(" duration=0 sentbyte=0 rcvdbyte=0 sentpkt=0 rcvdpkt=0 appcat=\"unscanned\"");
    line_end(t);
}

/* FortiGuard categories as this district's FortiGates report them (cat=1 "Games" as in
 * the reference example; 140 is a local custom category) */
typedef struct {
    int cat;
    const char *desc;
    int block_students, block_staff;
    const char *hosts[5];
} wcat_t;
static const wcat_t wcats[] = {
    {30,
     "Education",
     0,
     0,
     {"classroom.google.com", "www.khanacademy.org", "quizlet.com", "www.ixl.com", "clever.com"}},
    {41,
     "Search Engines and Portals",
     0,
     0,
     {"www.google.com", "www.bing.com", "duckduckgo.com", "search.yahoo.com", "www.google.com"}},
    {39,
     "Reference",
     0,
     0,
     {"en.wikipedia.org", "www.britannica.com", "www.merriam-webster.com", "www.dictionary.com",
      "www.thesaurus.com"}},
    {52,
     "Information Technology",
     0,
     0,
     {"docs.google.com", "www.office.com", "outlook.office365.com", "drive.google.com", "zoom.us"}},
    {36,
     "News and Media",
     0,
     0,
     {"www.cnn.com", "www.nytimes.com", "www.npr.org", "www.bbc.com", "apnews.com"}},
    {1,
     "Games",
     1,
     0,
     {"www.coolmathgames.com", "poki.com", "krunker.io", "slither.io", "www.friv.com"}},
    {37,
     "Social Networking",
     1,
     0,
     {"www.tiktok.com", "www.instagram.com", "www.snapchat.com", "www.facebook.com",
      "discord.com"}},
    {25,
     "Streaming Media and Download",
     1,
     0,
     {"www.twitch.tv", "www.netflix.com", "open.spotify.com", "www.hulu.com", "soundcloud.com"}},
    {59,
     "Proxy Avoidance",
     1,
     1,
     {"www.croxyproxy.com", "www.proxysite.com", "hidester.com", "www.blockaway.net",
      "proxyium.com"}},
    {33,
     "Health and Wellness",
     0,
     0,
     {"www.nami.org", "www.crisistextline.org", "kidshealth.org", "www.mayoclinic.org",
      "www.cdc.gov"}},
    {140,
     "Self-Harm",
     1,
     1,
     {"www.sanctioned-suicide.example", "selfharm-forum.example", "www.cutting-tips.example",
      "endit-now.example", "www.sh-community.example"}},
};
#define WC_PROXY    8
#define WC_HEALTH   9
#define WC_SELFHARM 10
/* background category choice: weights per wcats[] entry (Self-Harm never) */
static const int wcat_w[] = {30, 18, 10, 16, 6, 9, 7, 4, 0, 0, 0};

static const char *const url_paths[] = {"",
                                        "",
                                        "",
                                        "search?q=homework",
                                        "watch",
                                        "c/NjM1MjQ5",
                                        "wiki/Photosynthesis",
                                        "u/0/h",
                                        "game/run-3",
                                        "explore"};
/* one FortiGate webfilter line; user is a student id (stud) or a staff user name */
static void fgt_webfilter(int t, int dev, uint32_t src, const char *user, int stud, int c,
                          int force_block) {
    const wcat_t *w = &wcats[c];
    int blocked = force_block || (stud ? w->block_students : w->block_staff);
    const char *host = w->hosts[rn(5)];
    line_begin();
    if (blocked)
        fgt_head(188, t, dev, "0316013056", "utm", "webfilter", "ftgd_blk", "warning");
    else
        fgt_head(189, t, dev, "0316013057", "utm", "webfilter", "ftgd_allow", "notice");
    PUTL(" policyid=12");
    kvn("sessionid", fgt_sess[dev] += 1 + rn(40));
    kvip("srcip", src);
    kvn("srcport", 1024 + rn(64000));
    PUTL(" srcintf=\"port2\" srcintfrole=\"lan\"");
    kvip("dstip", web_ip());
    PUTL(" dstport=443 dstintf=\"wan1\" dstintfrole=\"wan\" proto=6 service=\"HTTPS\"");
    kvq("user", user);
    kvq("group", stud ? "Students" : "Staff");
    kvq("hostname", host);
    kvq("profile", stud ? "K12-Students" : "K12-Staff");
    puts_(blocked ? " action=\"blocked\"" : " action=\"passthrough\"");
    PUTL(" reqtype=\"direct\" url=\"https://");
    puts_(host);
    putc_('/');
    if (!blocked) puts_(PICK(url_paths));
    putc_('"');
    kvn("sentbyte", 400 + rn(2400));
    kvn("rcvdbyte", blocked ? 0 : 800 + rn(60000));
    PUTL(" direction=\"outgoing\"");
    puts_(blocked ? " msg=\"URL belongs to a denied category in policy\""
                  : " msg=\"URL belongs to an allowed category in policy\"");
    PUTL(" method=\"domain\"");
    kvn("cat", (uint64_t)w->cat);
    kvq("catdesc", w->desc);
    line_end(t);
}
static void fgt_webfilter_bg(int t) {
    int dev = pct(60) ? 1 : 2, stud;
    uint32_t src;
    int s = fgt_src(dev, &src, &stud);
    char user[24];
    if (stud) {
        const student_t *st = site_student(s);
        src = st->ip;
        snprintf(user, sizeof user, "s%u", st->id);
    } else {
        const staff_t *sf = site_staff(s);
        src = sf->ip;
        snprintf(user, sizeof user, "%s", sf->user);
    }
    int tot = 0, c = 0;
    for (size_t i = 0; i < NELEM(wcat_w); i++) tot += wcat_w[i];
    for (int x = (int)rn((uint32_t)tot); x >= wcat_w[c]; c++) x -= wcat_w[c];
    if (stud && rn(1000) < 6)
        c = WC_PROXY; /* the odd proxy-site click */
    else if (rn(1000) < 4)
        c = WC_HEALTH;
    fgt_webfilter(t, dev, src, user, stud, c, 0);
}
/* FortiOS admin login, failed or successful */
static void fgt_admin_login(int t, int dev, uint32_t src, const char *user, const char *method,
                            int ok, int bad_name) {
    line_begin();
    if (ok)
        fgt_head(190, t, dev, "0100032001", "event", "system", NULL, "information");
    else
        fgt_head(185, t, dev, "0100032002", "event", "system", NULL, "alert");
    kvq("logdesc", ok ? "Admin login successful" : "Admin login failed");
    PUTL(" sn=\"");
    putu(ok ? (uint64_t)(g_epoch0 + t) : 0);
    putc_('"');
    kvq("user", user);
    PUTL(" ui=\"");
    puts_(method);
    putc_('(');
    putip(src);
    PUTL(")\"");
    kvq("method", method);
    kvip("srcip", src);
    kvip("dstip", is_private(src) ? IP4(10, 16, 0, 1) : fgts[dev].wan);
    PUTL(" action=\"login\"");
    if (ok) {
        PUTL(" status=\"success\" reason=\"none\" profile=\"super_admin\" msg=\"Administrator ");
        puts_(user);
        PUTL(" logged in successfully from ");
        puts_(method);
        putc_('(');
        putip(src);
        PUTL(")\"");
    } else {
        puts_(bad_name ? " status=\"failed\" reason=\"name_invalid\""
                       : " status=\"failed\" reason=\"passwd_invalid\"");
        PUTL(" msg=\"Administrator ");
        puts_(user);
        PUTL(" login failed from ");
        puts_(method);
        puts_(bad_name ? " because of invalid user name\"" : " because of invalid password\"");
    }
    line_end(t);
}
static const char *const fgt_admin_names[] = {"admin",    "admin",         "admin", "root",
                                              "fortinet", "administrator", "test",  "guest"};
static void fgt_admin_bg(int t,
                         int a) { /* scanners all day; the network admin now and then by day */
    if (a < 30 || pct(96)) {
        const char *u = PICK(fgt_admin_names);
        int dev = (int)rn(3);
        uint32_t src = scanners[rn(NELEM(scanners))];
        fgt_admin_login(t, dev, src, u, pct(60) ? "https" : "ssh", 0, strcmp(u, "admin") != 0);
    } else {
        int dev = (int)rn(3);
        fgt_admin_login(t, dev, IP4(10, 16, 0, 20 + rn(6)), "netadmin", "https", 1, 0);
    }
}

/* ---- pfSense filterlog (IPv4 tcp/udp CSV), elementary schools ---- */

static void pf_head(int t, int es) { /* es: 1..5 */
    char host[16] = "pfsense-es";
    host[10] = (char)('0' + es);
    host[11] = 0;
    hdr(134, t, host, "filterlog", 40212);
}
static void pf_tcp_tail(uint32_t src, uint32_t dst, int sport, int dport) {
    static const char *const opts[] = {"mss;sackOK;TS;nop;wscale", "mss;nop;wscale;nop;nop;sackOK",
                                       "mss", "mss;nop;nop;sackOK"};
    putip(src);
    putc_(',');
    putip(dst);
    putc_(',');
    putu((unsigned)sport);
    putc_(',');
    putu((unsigned)dport);
    PUTL(",0,S,");
    putu(rnd() & 0xFFFFFFFF);
    PUTL(",,");
    putu(PICK(((unsigned[]){29200, 64240, 65535, 1024, 14600})));
    PUTL(",,");
    puts_(PICK(opts));
}
static void pf_udp_tail(uint32_t src, uint32_t dst, int sport, int dport, int dlen) {
    putip(src);
    putc_(',');
    putip(dst);
    putc_(',');
    putu((unsigned)sport);
    putc_(',');
    putu((unsigned)dport);
    putc_(',');
    putu((unsigned)dlen);
}
/* internet -> WAN, blocked by the default rule */
static void pf_block_in(int t) {
    static const int ports[] = {22, 23, 445, 3389, 8080, 1433, 5900, 80, 443, 2323, 6379, 9200};
    int es = 1 + (int)rn(5);
    line_begin();
    pf_head(t, es);
    PUTL("5,,,1000000103,igb0,match,block,in,4,0x0,,");
    putu(32 + rn(220));
    putc_(',');
    putu(rn(65536));
    PUTL(",0,");
    if (pct(85)) {
        puts_(pct(50) ? "DF" : "none");
        PUTL(",6,tcp,");
        putu(PICK(((unsigned[]){40, 44, 52, 60})));
        putc_(',');
        uint32_t src = scanners[rn(NELEM(scanners))];
        int sport = 1024 + (int)rn(64000);
        pf_tcp_tail(src, PF_WAN(es), sport, PICK(ports));
    } else {
        int dl = 8 + (int)rn(60);
        PUTL("none,17,udp,");
        putu((unsigned)(dl + 8));
        putc_(',');
        uint32_t src = scanners[rn(NELEM(scanners))];
        int sport = 1024 + (int)rn(64000);
        pf_udp_tail(src, PF_WAN(es), sport, PICK(((int[]){53, 123, 161, 1900, 5060, 11211})), dl);
    }
    line_end(t);
}
/* LAN -> internet, passed (DNS or a TLS connection) */
static void pf_pass_out(int t) {
    int es = 1 + (int)rn(5), s = 2 + es;
    uint32_t src = pct(75) ? site_student(s)->ip : site_staff(s)->ip;
    line_begin();
    pf_head(t, es);
    PUTL("80,,,1612345678,igb1,match,pass,out,4,0x0,,");
    putu(63 + rn(2) * 64);
    putc_(',');
    putu(rn(65536));
    PUTL(",0,");
    if (pct(55)) {
        PUTL("DF,6,tcp,60,");
        uint32_t dst = web_ip();
        int sport = 1024 + (int)rn(64000);
        pf_tcp_tail(src, dst, sport, pct(90) ? 443 : 80);
    } else {
        int dl = 24 + (int)rn(470);
        PUTL("none,17,udp,");
        putu((unsigned)(dl + 8));
        putc_(',');
        uint32_t dst = PICK(((uint32_t[]){IP4(1, 1, 1, 1), IP4(8, 8, 8, 8), IP4(9, 9, 9, 9)}));
        pf_udp_tail(src, dst, 1024 + (int)rn(64000), 53, dl);
    }
    line_end(t);
}

/* ---- SIS (PowerSchool-like), tag sis[pid] ---- */

static uint32_t sess_ctr = 0x000186a0;
static void sis_head(int t) {
    const char *host = pct(50) ? "sis-app01" : "sis-app02";
    hdr(134, t, host, "sis", 3301 + (int)rn(4));
}
static void sis_fail(int t, const char *user, uint32_t src, const char *portal, const char *reason,
                     const char *cc) {
    line_begin();
    sis_head(t);
    PUTL("login failure user=");
    puts_(user);
    PUTL(" src=");
    putip(src);
    PUTL(" portal=");
    puts_(portal);
    PUTL(" method=password reason=");
    puts_(reason);
    PUTL(" country=");
    puts_(cc);
    line_end(t);
}
static void sis_logout(int t, const char *user, uint32_t sess) {
    if (t > DAY - 1) t = DAY - 1; /* a follow-up past midnight */
    line_begin();
    sis_head(t);
    PUTL("logout user=");
    puts_(user);
    PUTL(" session=");
    puthex(sess, 8, 0);
    line_end(t);
}
/* login success; logout_after > 0 also schedules the logout */
static void sis_ok(int t, const char *user, uint32_t src, const char *portal, const char *method,
                   const char *cc, int logout_after) {
    if (t > DAY - 1) t = DAY - 1; /* a follow-up past midnight */
    uint32_t sess = sess_ctr += 1 + rn(97);
    line_begin();
    sis_head(t);
    PUTL("login success user=");
    puts_(user);
    PUTL(" src=");
    putip(src);
    PUTL(" portal=");
    puts_(portal);
    PUTL(" method=");
    puts_(method);
    PUTL(" session=");
    puthex(sess, 8, 0);
    PUTL(" country=");
    puts_(cc);
    line_end(t);
    if (logout_after > 0) sis_logout(t + logout_after, user, sess);
}
static const char *const hs_courses[] = {"ALG1",  "GEOM",  "ALG2",  "BIO",   "CHEM",
                                         "PHYS",  "ENG9",  "ENG10", "ENG11", "USHIST",
                                         "WHIST", "SPAN1", "SPAN2", "ART1",  "PE"};
static const char *const ms_courses[] = {"MATH6", "MATH7", "MATH8", "SCI6", "SCI7", "SCI8",
                                         "ELA6",  "ELA7",  "ELA8",  "SS7",  "SS8",  "MUSIC"};
static const char *const es_courses[] = {"G3-MATH", "G3-ELA",  "G4-MATH", "G4-ELA", "G5-MATH",
                                         "G5-SCI",  "G2-READ", "G1-READ", "K-LIT"};
static const char *course_for(int s) {
    return s == 1 ? PICK(hs_courses) : s == 2 ? PICK(ms_courses) : PICK(es_courses);
}
static void sis_grade(int t, const char *user, uint32_t stud, const char *course, uint32_t src) {
    static const char *const g[] = {"A", "B", "C", "D", "F"};
    int o = (int)rn(5), n = (int)rn(5);
    if (n == o) n = (o + 1 + (int)rn(4)) % 5;
    line_begin();
    sis_head(t);
    PUTL("grade_change user=");
    puts_(user);
    PUTL(" student=s");
    putu(stud);
    PUTL(" course=");
    puts_(course);
    PUTL(" term=Q3 old=");
    puts_(g[o]);
    PUTL(" new=");
    puts_(g[n]);
    PUTL(" src=");
    putip(src);
    line_end(t);
}
static void sis_export(int t, const char *user, const char *report, uint32_t src,
                       unsigned records) {
    line_begin();
    sis_head(t);
    PUTL("export user=");
    puts_(user);
    PUTL(" report=");
    puts_(report);
    PUTL(" src=");
    putip(src);
    PUTL(" records=");
    putu(records);
    line_end(t);
}
static void sis_bg(int t, int a) {
    uint32_t x = rn(100);
    if (x < 50) { /* login, later logout */
        int lo = pct(70) ? 300 + (int)rn(5000) : 0;
        if (pct((uint32_t)(a * 6 / 10))) {
            const student_t *st = any_student();
            char u[12];
            snprintf(u, sizeof u, "s%u", st->id);
            uint32_t src = a > 50 ? st->ip : home_ip();
            sis_ok(t, u, src, "student", pct(70) ? "sso" : "password", "US", lo);
        } else {
            const staff_t *sf = any_employee();
            uint32_t src = a > 30 && pct(85) ? sf->ip : sf->home;
            sis_ok(t, sf->user, src, sf->role == 1 ? "admin" : "teacher",
                   pct(60) ? "sso" : "password", "US", lo);
        }
    } else if (x < 60) { /* mistyped password, then in */
        const staff_t *sf = any_employee();
        uint32_t src = a > 30 ? sf->ip : sf->home;
        const char *portal = sf->role == 1 ? "admin" : "teacher";
        sis_fail(t, sf->user, src, portal, "bad_password", "US");
        int t2 = t + 5 + (int)rn(50);
        sis_ok(t2, sf->user, src, portal, "password", "US", pct(50) ? 600 + (int)rn(3000) : 0);
    } else if (x < 62) { /* a student typing the id wrong */
        const student_t *st = any_student();
        char u[12];
        snprintf(u, sizeof u, "s%u", st->id / 10);
        sis_fail(t, u, a > 50 ? st->ip : home_ip(), "student", "unknown_user", "US");
    } else if (x < 92) { /* gradebook */
        int s = 1 + (int)rn(7);
        const staff_t *sf = site_teacher(s);
        uint32_t stud = site_student(s)->id;
        sis_grade(t, sf->user, stud, course_for(s), a > 30 ? sf->ip : sf->home);
    } else if (x < 95 && a > 30) { /* small daytime reports */
        const staff_t *sf = any_employee();
        const char *rep = PICK(((const char *[]){"roster", "attendance", "gradebook", "schedule"}));
        sis_export(t, sf->user, rep, sf->ip, 12 + rn(170));
    } else {
        sis_ok(t, "svc-rostersync", IP4(10, 0, 2, 44), "admin", "password", "US",
               30 + (int)rn(200));
    }
}

/* ---- FreeRADIUS 3 Auth: lines (Wi-Fi controllers wlc-*, VPN fgt-vpn-dc) ---- */

static uint32_t rad_id = 50000;
static void putmac_dash(uint64_t m) {
    for (int i = 5; i >= 0; i--) {
        puthex((m >> (i * 8)) & 255, 2, 1);
        if (i) putc_('-');
    }
}
static void putmac_colon(uint64_t m) {
    for (int i = 5; i >= 0; i--) {
        puthex((m >> (i * 8)) & 255, 2, 0);
        if (i) putc_(':');
    }
}
/* cli_ip != 0: VPN client address; else Wi-Fi client MAC */
static void radius(int t, int ok, const char *user, int site, uint32_t cli_ip, uint64_t mac) {
    line_begin();
    hdr(38, t, "radius01", "radiusd", 1187);
    PUTL("Auth: (");
    putu(rad_id += 1 + rn(3));
    putc_(')');
    if (ok)
        PUTL(" Login OK: [");
    else if (cli_ip)
        PUTL(" Login incorrect (pap: Authentication failed): [");
    else
        PUTL(" Login incorrect (mschap: MS-CHAP2-Response is incorrect): [");
    puts_(user);
    PUTL("] (from client ");
    if (cli_ip) {
        PUTL("fgt-vpn-dc port 0 cli ");
        putip(cli_ip);
    } else {
        PUTL("wlc-"); /* wlc-hs01, wlc-ms01, wlc-do01; elementary schools: wlc-es1..wlc-es5 */
        puts_(sites[site].lc);
        if (site < 3) PUTL("01");
        PUTL(" port 0 cli ");
        putmac_dash(mac);
    }
    putc_(')');
    line_end(t);
}
static int copier_last = -1000;
static void radius_bg(int t, int a) {
    uint32_t x = rn(100);
    if (x < 72 || (x >= 96 && t - copier_last < 120)) { /* Wi-Fi join */
        int ok = pct(93);
        if (pct((uint32_t)(20 + a * 6 / 10))) {
            const student_t *st = any_student();
            char u[12];
            snprintf(u, sizeof u, "s%u", st->id);
            radius(t, ok, u, st->site, 0, st->mac);
        } else {
            const staff_t *sf = any_staff();
            radius(t, ok, sf->user, sf->site, 0, mix64(sf->badge) & 0xFFFFFFFFFFFFULL);
        }
    } else if (x < 96) { /* staff VPN from home */
        const staff_t *sf = any_employee();
        radius(t, pct(92), sf->user, 0, sf->home, 0);
    } else { /* the old copier with a stale password, at most one try a couple of minutes */
        copier_last = t;
        radius(t, 0, "svc-copier", 0, IP4(10, 10, 5, 20), 0);
    }
}

/* ---- OpenSSH ---- */

static const char *const bad_users[] = {"oracle", "admin",   "test", "ubuntu", "user",   "postgres",
                                        "git",    "ftpuser", "pi",   "guest",  "deploy", "support"};
static void ssh_failed(int t, const char *host, const char *user, int invalid, uint32_t src) {
    line_begin();
    hdr(38, t, host, "sshd", 10000 + (int)rn(30000));
    PUTL("Failed password for ");
    if (invalid) PUTL("invalid user ");
    puts_(user);
    PUTL(" from ");
    putip(src);
    PUTL(" port ");
    putu(1024 + rn(64000));
    PUTL(" ssh2");
    line_end(t);
}
static void ssh_closed(int t, const char *host, uint32_t src) {
    line_begin();
    hdr(38, t, host, "sshd", 10000 + (int)rn(30000));
    PUTL("Connection closed by ");
    putip(src);
    PUTL(" port ");
    putu(1024 + rn(64000));
    PUTL(" [preauth]");
    line_end(t);
}
static void ssh_accepted(int t, const char *host, const char *user, uint32_t src) {
    line_begin();
    hdr(38, t, host, "sshd", 10000 + (int)rn(30000));
    PUTL("Accepted password for ");
    puts_(user);
    PUTL(" from ");
    putip(src);
    PUTL(" port ");
    putu(1024 + rn(64000));
    PUTL(" ssh2");
    line_end(t);
}
static const char *const lnx_hosts[] = {"lnx-util01", "lnx-web01", "sftp01"};
static void ssh_bg(int t) {
    uint32_t x = rn(100);
    uint32_t src = scanners[rn(NELEM(scanners))];
    if (x < 55) {
        int inv = pct(70);
        ssh_failed(t, "sftp01", inv ? PICK(bad_users) : "root", inv, src);
    } else if (x < 78) {
        ssh_closed(t, "sftp01", src);
    } else if (x < 90) {
        const char *host = PICK(lnx_hosts), *user = PICK(sysadmins);
        ssh_accepted(t, host, user, IP4(10, 16, 0, 20 + rn(6)));
    } else if (pct(50)) {
        ssh_accepted(t, "sftp01", "svc-clever", IP4(34, 203, 117, 44));
    } else {
        ssh_accepted(t, "sftp01", "svc-classlink", IP4(52, 45, 9, 188));
    }
}

/* ---- misc: ISC dhcpd, cron, sudo ---- */

static void dhcp_bg(int t) {
    uint32_t ip;
    uint64_t mac;
    char name[24];
    if (pct(75)) {
        const student_t *st = any_student();
        ip = st->ip, mac = st->mac;
        snprintf(name, sizeof name, "CHROMEBOOK-%u", (unsigned)(st->id % 10000));
    } else {
        const staff_t *sf = any_staff();
        ip = sf->ip, mac = mix64(sf->badge) & 0xFFFFFFFFFFFFULL;
        snprintf(name, sizeof name, "%s-%u", pct(70) ? "LAPTOP" : "iPad",
                 (unsigned)(sf->badge % 10000));
    }
    uint32_t gw = (ip & 0xFFFFFF00u) | 1;
    line_begin();
    hdr(30, t, "dhcp01", "dhcpd", 922);
    PUTL("DHCPREQUEST for ");
    putip(ip);
    PUTL(" (10.0.0.5) from ");
    putmac_colon(mac);
    PUTL(" (");
    puts_(name);
    PUTL(") via ");
    putip(gw);
    line_end(t);
    line_begin();
    hdr(30, t, "dhcp01", "dhcpd", 922);
    PUTL("DHCPACK on ");
    putip(ip);
    PUTL(" to ");
    putmac_colon(mac);
    PUTL(" (");
    puts_(name);
    PUTL(") via ");
    putip(gw);
    line_end(t);
}
static const struct {
    const char *host, *user, *cmd;
} crons[] = {
    {"lnx-util01", "root", "/usr/lib/php/sessionclean"},
    {"lnx-web01", "root", "/usr/lib/php/sessionclean"},
    {"lnx-util01", "root",
     "test -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.hourly )"},
    {"lnx-web01", "www-data", "php /var/www/portal/artisan schedule:run >> /dev/null 2>&1"},
    {"sis-app01", "root", "/opt/sis/bin/rotate-sessions --max-age 8h"},
    {"sis-app02", "root", "/opt/sis/bin/rotate-sessions --max-age 8h"},
    {"sftp01", "root", "/usr/local/sbin/sftp-sweep /srv/sftp/incoming"},
    {"lnx-util01", "svc-backup", "/usr/local/bin/backup-sis.sh --incremental"},
    {"lnx-util01", "svc-rostersync", "/opt/rostersync/run.sh --source sis --target google"},
};
static void cron_bg(int t) {
    int k = (int)rn(NELEM(crons));
    line_begin();
    hdr(78, t, crons[k].host, "CRON", 1000 + (int)rn(40000));
    putc_('(');
    puts_(crons[k].user);
    PUTL(") CMD (");
    puts_(crons[k].cmd);
    putc_(')');
    line_end(t);
}
static void sudo_line(int t, const char *host, const char *user, const char *cmd) {
    line_begin();
    hdr0(85, t, host);
    PUTL("sudo:    ");
    puts_(user);
    PUTL(" : TTY=pts/");
    putu(rn(4));
    PUTL(" ; PWD=/home/");
    puts_(user);
    PUTL(" ; USER=root ; COMMAND=");
    puts_(cmd);
    line_end(t);
}
static const char *const sudo_cmds[] = {"/usr/bin/apt-get update",
                                        "/usr/bin/apt-get upgrade -y",
                                        "/usr/bin/systemctl restart nginx",
                                        "/usr/bin/systemctl status php8.2-fpm",
                                        "/usr/bin/journalctl -u sshd --since today",
                                        "/usr/bin/tail -n 200 /var/log/syslog",
                                        "/usr/sbin/logrotate -f /etc/logrotate.conf",
                                        "/usr/bin/du -sh /srv/sftp/incoming",
                                        "/usr/bin/certbot renew"};
static void sudo_bg(int t) {
    const char *host = PICK(lnx_hosts), *user = PICK(sysadmins);
    sudo_line(t, host, user, PICK(sudo_cmds));
}

/* ---- door controllers (Lenel/Genetec-like key=value), host acs-<school> ---- */

enum { EV_GRANTED, EV_DENIED, EV_FORCED, EV_HELD, EV_CLOSED, EV_TAMPER, EV_OFFLINE };
static const char *evname(int ev) {
    static const char *const n[] = {"ACCESS_GRANTED",    "ACCESS_DENIED", "DOOR_FORCED_OPEN",
                                    "DOOR_HELD_OPEN",    "DOOR_CLOSED",   "READER_TAMPER",
                                    "CONTROLLER_OFFLINE"};
    return n[ev];
}
/* door d (0-based index into doors[]); badge/holder for reader events; reason, duration
 * (>= 0) when given */
static void door_line(int t, int site, int d, int ev, const char *badge, const char *holder,
                      const char *reason, int duration) {
    if (t > DAY - 1) t = DAY - 1; /* a follow-up past midnight */
    char host[12] = "acs-";
    strcpy(host + 4, sites[site].lc);
    line_begin();
    hdr(ev == EV_FORCED || ev == EV_TAMPER ? 129 : 134, t, host, "doorctl", 810 + site);
    PUTL("evt=");
    puts_(evname(ev));
    PUTL(" door_id=");
    puts_(sites[site].code);
    PUTL("-D");
    put2((unsigned)(d + 1));
    PUTL(" door=\"");
    puts_(sites[site].name);
    putc_(' ');
    puts_(doors[d].name);
    putc_('"');
    if (badge || ev == EV_TAMPER) {
        PUTL(" reader=");
        puts_(sites[site].code);
        PUTL("-R");
        put2((unsigned)(d + 1));
    }
    if (badge) {
        PUTL(" badge=");
        puts_(badge);
        PUTL(" holder=\"");
        puts_(holder);
        putc_('"');
    }
    if (reason) {
        PUTL(" reason=");
        puts_(reason);
    }
    if (duration >= 0) {
        PUTL(" duration=");
        putu((unsigned)duration);
    }
    PUTL(" time=");
    putiso(t);
    line_end(t);
}
static void badge_str(char *b, uint32_t n) { /* 7 digits */
    for (int i = 6; i >= 0; i--, n /= 10) b[i] = (char)('0' + n % 10);
    b[7] = 0;
}
static const staff_t *site_custodian(int s) {
    return &staff[site_staff0[s] + (int)rn(3)];
}
static void door_bg(int t, int a) {
    int s = (int)rn(NSITE), staff_hours = t >= 5 * 3600 + 1800 && t < 20 * 3600 + 1800;
    const staff_t *p = staff_hours && pct(92) ? site_staff(s) : site_custodian(s);
    if (!staff_hours) a = 0;
    char b[8];
    badge_str(b, p->badge);
    uint32_t x = rn(100);
    if (x < 5 && a > 20) { /* denied, once */
        int d = (int)rn(NDOOR_BG);
        door_line(t, s, d, EV_DENIED, b, p->user, pct(70) ? "area_restricted" : "outside_schedule",
                  -1);
    } else if (x < 8 && a > 20) { /* a door held a little too long */
        static const int interior[] = {1, 3, 5, 7, 8, 9};
        int d = PICK(interior), dur = 30 + (int)rn(270);
        door_line(t, s, d, EV_GRANTED, b, p->user, NULL, -1);
        door_line(t + dur, s, d, EV_HELD, NULL, NULL, NULL, dur);
        door_line(t + dur + 1 + (int)rn(4), s, d, EV_CLOSED, NULL, NULL, NULL, -1);
    } else {
        int d = (int)rn(NDOOR_BG);
        door_line(t, s, d, EV_GRANTED, b, p->user, NULL, -1);
        if (pct(60)) door_line(t + 3 + (int)rn(7), s, d, EV_CLOSED, NULL, NULL, NULL, -1);
    }
}

/* ---- visitor management (Raptor-like), vms01 visitor[2222] ---- */

static void put_cap(const char *s) { /* "campbell" -> "Campbell" */
    putc_((char)(s[0] >= 'a' && s[0] <= 'z' ? s[0] - 32 : s[0]));
    puts_(s + 1);
}
static void visitor_line(int t, const char *action, int site, const char *first, const char *last,
                         const char *idtype, const char *host_title, const char *host_last,
                         const char *badge, const char *list, int score, const char *screening) {
    if (t > DAY - 1) t = DAY - 1; /* a follow-up past midnight */
    line_begin();
    hdr(list ? 129 : 134, t, "vms01", "visitor", 2222);
    PUTL("action=");
    puts_(action);
    PUTL(" site=\"");
    puts_(sites[site].name);
    PUTL("\" visitor=\"");
    puts_(first);
    putc_(' ');
    put_cap(last);
    putc_('"');
    if (idtype) {
        PUTL(" id_type=");
        puts_(idtype);
    }
    if (host_last) {
        PUTL(" host=\"");
        puts_(host_title);
        putc_(' ');
        put_cap(host_last);
        putc_('"');
    }
    if (badge) {
        PUTL(" badge=");
        puts_(badge);
    }
    if (list) {
        PUTL(" list=");
        puts_(list);
        PUTL(" match_score=");
        putu((unsigned)score);
    }
    PUTL(" screening=");
    puts_(screening);
    line_end(t);
}
static uint32_t vbadge_ctr = 1000;
static void visitor_bg(int t, int a) {
    if (a < 40) { /* the front office is closed: a door event instead */
        door_bg(t, a);
        return;
    }
    int s = (int)rn(NSITE);
    const char *f = PICK(firsts), *l = PICK(lasts);
    const staff_t *h = site_staff(s);
    char vb[10] = "V-";
    uint32_t n =
        1000 + (vbadge_ctr += 1 + rn(20)) % 89000; /* V-0nnnnn; V-9nnnnn are scenario badges */
    for (int i = 7; i >= 2; i--, n /= 10) vb[i] = (char)('0' + n % 10);
    vb[8] = 0;
    const char *idt = pct(85) ? "drivers_license" : pct(70) ? "state_id" : "passport";
    visitor_line(t, "checkin", s, f, l, idt, pct(50) ? "Mr" : "Ms", h->last, vb, NULL, 0, "clear");
    if (pct(30)) { /* let in through the main entrance with the visitor badge */
        char holder[40];
        snprintf(holder, sizeof holder, "%s %c%s", f, l[0] - 32, l + 1);
        door_line(t + 20 + (int)rn(280), s, 0, EV_GRANTED, vb, holder, NULL, -1);
    }
    visitor_line(t + 900 + (int)rn(9000), "checkout", s, f, l, NULL, NULL, NULL, vb, NULL, 0,
                 "clear");
}

/* ======================================================================================
 * Scenarios and decoys. Each runs on its own PRNG stream (seed x name), writes its lines
 * to the heap (defer_mode) and fills one truth entry. Entities are reserved: people with
 * last names from rlasts[], public addresses with first octets background never uses,
 * students s29xxxxx, badges 008xxxx-009xxxx, visitor badges V-9xxxxx, doors D11-D14.
 * ====================================================================================== */

static truth *TR; /* entry being filled */

static int hm(int h, int m) {
    return h * 3600 + m * 60;
}
static int at(int lo, int hi) { /* uniform second in [lo, hi] */
    return rr(lo, hi);
}
static void ent(const char *k, const char *v) {
    TR->ek[TR->nent] = k;
    snprintf(TR->ev[TR->nent], sizeof TR->ev[0], "%s", v);
    TR->nent++;
}
static void ent_ip(const char *k, uint32_t ip) {
    char b[16];
    snprintf(b, sizeof b, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
    ent(k, b);
}
static void ent_door(int site, int d) {
    char b[16];
    snprintf(b, sizeof b, "%s-D%02d", sites[site].code, d + 1);
    ent("door_id", b);
}
#define EXPECT(...) snprintf(TR->expect, sizeof TR->expect, __VA_ARGS__)
static void meta(const char *sev, const char *ref) {
    TR->sev = sev;
    TR->ref = ref;
}

/* reserved people (slots) */
enum {
    P_BRUTE,
    P_DRIP,
    P_BURST,
    P_AFTERH,
    P_CUST,
    P_EXPORT,
    P_SMALLEXP,
    P_GRADES,
    P_GRADES_D,
    P_TWOSITE,
    P_ITIN,
    P_HELDLONG,
    P_FORCED_D,
    P_HELD_D,
    P_STUDNET,
    P_VPN_D,
    P_SUDO,
    P_DENIED,
    P_DENIED_D,
    P_TAMPER,
    NP
};
typedef struct {
    char user[28], first[12], last[16], badge[8];
    int site;
    uint32_t ip, home;
} rperson;
static rperson rp[NP];
/* reserved addresses (slots): attackers from never-background first octets */
enum { I_BRUTE, I_DRIP, I_SPRAY, I_SPRAY_D, I_BURST, I_EXPORT, I_SSH, I_SSH_D, I_FW, I_FW_D, NI };
static uint32_t rip[NI];
static char rcc[NI][3];
/* reserved students */
enum { S_SELFHARM, S_HEALTH_D, S_PROXY, S_PROXY_D, NS };
static student_t rs[NS];
static int door_site[8]; /* a permutation of the sites for reserved-door scenarios */
static char vis_first[2][12], vis_last[2][16]; /* watchlisted visitors */

static int att_oc_us(uint8_t o) { /* reserved US residential blocks */
    return o == 70 || o == 75;
}
static void build_reserved(uint64_t seed) {
    prng p = {mix64(seed ^ 0x7E5E7FEDULL)};
    R = &p;
    int perm[NELEM(rlasts)];
    for (int i = 0; i < (int)NELEM(rlasts); i++) perm[i] = i;
    for (int i = (int)NELEM(rlasts) - 1; i > 0; i--) {
        int j = (int)rn((uint32_t)i + 1), x = perm[i];
        perm[i] = perm[j], perm[j] = x;
    }
    for (int k = 0; k < NP; k++) {
        rperson *q = &rp[k];
        snprintf(q->first, sizeof q->first, "%s", PICK(firsts));
        snprintf(q->last, sizeof q->last, "%s", rlasts[perm[k]]);
        make_user(q->user, sizeof q->user, k == P_CUST ? "cust-" : "", q->first, q->last);
        q->site = 1 + (int)rn(7);
        q->ip = ip_r(10, 16 + q->site, 0, 1, 60, 2, 250);
        q->home = ip_in(PICK(((uint8_t[]){70, 75})));
        badge_str(q->badge, 80000 + (uint32_t)k * 1000 + rn(1000));
    }
    static const uint8_t att_oct[NI] = {45, 75, 185, 193, 70, 91, 141, 194, 103, 10};
    static const char *const att_cc[] = {"RU", "NL", "VN", "BR", "CN", "UA", "RO", "BG", "LT"};
    for (int k = 0; k < NI; k++) {
        rip[k] = ip_in(att_oct[k]);
        snprintf(rcc[k], 3, "%s", att_oc_us(att_oct[k]) ? "US" : PICK(att_cc));
    }
    rip[I_FW_D] = IP4(10, 16, 0, 40 + rn(10)); /* a management workstation */
    for (int k = 0; k < NS; k++) {
        rs[k].id = 2900000 + (uint32_t)k * 25000 + rn(25000);
        rs[k].site = (uint8_t)(1 + rn(2)); /* HS or MS: behind a FortiGate */
        rs[k].ip = ip_r(10, 32 + rs[k].site, 0, 1, 120, 2, 250);
    }
    for (int k = 0; k < 2; k++) {
        snprintf(vis_first[k], sizeof vis_first[k], "%s", PICK(firsts));
        snprintf(vis_last[k], sizeof vis_last[k], "%s", rlasts[perm[NP + k]]);
    }
    for (int i = 0; i < 8; i++) door_site[i] = i;
    for (int i = 7; i > 0; i--) {
        int j = (int)rn((uint32_t)i + 1), x = door_site[i];
        door_site[i] = door_site[j], door_site[j] = x;
    }
    R = &bg;
}

/* ---- SIS account attacks ---- */

static void sc_sis_brute_force(void) {
    const rperson *p = &rp[P_BRUTE];
    uint32_t ip = rip[I_BRUTE];
    int t = at(hm(8, 30), hm(19, 30)), n = rr(20, 28), t0 = t;
    for (int i = 0; i < n; i++, t += rr(6, 18))
        sis_fail(t, p->user, ip, "teacher", "bad_password", rcc[I_BRUTE]);
    t += rr(10, 40);
    sis_ok(t, p->user, ip, "teacher", "password", rcc[I_BRUTE], 0);
    meta("high", "T-02");
    ent("user", p->user);
    ent_ip("src_ip", ip);
    EXPECT("%d SIS login failures for %s from one %s address in %d s, then a login success from "
           "it: brute force that succeeded (>= 20 failures in 10 min, then success)",
           n, p->user, rcc[I_BRUTE], t - t0);
}
static void sc_decoy_slow_drip(void) {
    const rperson *p = &rp[P_DRIP];
    uint32_t ip = rip[I_DRIP];
    int n = 0;
    for (int t = at(hm(6, 0), hm(7, 0)); t < hm(22, 0); t += rr(1200, 2400), n++)
        sis_fail(t, p->user, ip, "teacher", "bad_password", rcc[I_DRIP]);
    meta("none", "T-01");
    ent("user", p->user);
    ent_ip("src_ip", ip);
    EXPECT("%d SIS login failures for %s from one address, one every 20-40 min all day (a phone "
           "with a stale password; never more than 1 in 10 min or 3 in an hour): no alert",
           n, p->user);
}
/* n distinct background staff users */
static void pick_users(const staff_t **u, int n) {
    for (int i = 0; i < n; i++) {
        u[i] = any_employee();
        for (int j = 0; j < i; j++)
            if (!strcmp(u[j]->user, u[i]->user)) i--, j = i;
    }
}
static void spray(int islot, int n, int span) {
    const staff_t *u[32];
    pick_users(u, n);
    int t = at(hm(9, 0), hm(21, 0)), step = span / n;
    for (int i = 0; i < n; i++, t += rr(step / 2, step))
        sis_fail(t, u[i]->user, rip[islot], u[i]->role == 1 ? "admin" : "teacher", "bad_password",
                 rcc[islot]);
    ent_ip("src_ip", rip[islot]);
}
static void sc_sis_password_spray(void) {
    int n = rr(15, 22);
    spray(I_SPRAY, n, rr(300, 560));
    meta("medium", "T-03");
    EXPECT("one address fails SIS logins against %d distinct staff users (one try each) within "
           "10 min: password spray (>= 15 distinct users in 10 min)",
           n);
}
static void sc_decoy_near_miss_spray(void) {
    int n = rr(6, 8);
    spray(I_SPRAY_D, n, rr(240, 560));
    meta("none", "T-03");
    EXPECT("one address fails SIS logins against %d distinct users within 10 min: below the "
           "spray threshold of 15, no alert",
           n);
}
static void sc_decoy_near_miss_burst(void) {
    const rperson *p = &rp[P_BURST];
    uint32_t ip = rip[I_BURST];
    int t = at(hm(7, 0), hm(21, 0));
    for (int i = 0; i < 8; i++, t += rr(25, 60))
        sis_fail(t, p->user, ip, "teacher", "bad_password", "US");
    sis_ok(t, p->user, ip, "teacher", "password", "US", 0);
    meta("none", "T-02");
    ent("user", p->user);
    ent_ip("src_ip", ip);
    EXPECT("8 SIS login failures for %s from a home address within 10 min, then success (a "
           "forgotten password): below the brute-force threshold of 20, no alert",
           p->user);
}

/* ---- doors, badges and visitors ---- */

static void grant_closed(int t, int site, int d, const rperson *p) {
    door_line(t, site, d, EV_GRANTED, p->badge, p->user, NULL, -1);
    door_line(t + rr(4, 9), site, d, EV_CLOSED, NULL, NULL, NULL, -1);
}
static void sc_door_forced_no_badge(void) {
    int s = door_site[0], t = pct(50) ? at(hm(0, 40), hm(4, 20)) : at(hm(19, 0), hm(23, 0));
    door_line(t, s, D_NORTH, EV_FORCED, NULL, NULL, NULL, -1);
    door_line(t + rr(20, 120), s, D_NORTH, EV_CLOSED, NULL, NULL, NULL, -1);
    meta("high", "T-22");
    ent_door(s, D_NORTH);
    ent("site", sites[s].name);
    EXPECT("DOOR_FORCED_OPEN on a reader door with no ACCESS_GRANTED on it in the 60 s before: "
           "door forced open");
}
static void sc_decoy_forced_after_badge(void) {
    const rperson *p = &rp[P_FORCED_D];
    int s = door_site[1], t = at(hm(7, 30), hm(16, 0)), dur = rr(20, 60);
    door_line(t, s, D_NURSE, EV_GRANTED, p->badge, p->user, NULL, -1);
    door_line(t + rr(2, 5), s, D_NURSE, EV_HELD, NULL, NULL, NULL, dur);
    door_line(t + dur + rr(1, 5), s, D_NURSE, EV_CLOSED, NULL, NULL, NULL, -1);
    meta("none", "T-22");
    ent_door(s, D_NURSE);
    ent("badge", p->badge);
    EXPECT("ACCESS_GRANTED, then DOOR_HELD_OPEN on the same door within 5 s (a propped door "
           "after a valid badge): not a forced door, no alert");
}
static const int interior_bg[] = {1, 5, 8, 9}; /* Front Office, Library, East Wing, Staff Lounge */
static void sc_after_hours_badge(void) {
    const rperson *p = &rp[P_AFTERH];
    int d = PICK(interior_bg), t = at(hm(1, 10), hm(4, 20));
    grant_closed(t, p->site, d, p);
    meta("low", "T-25");
    ent("user", p->user);
    ent("badge", p->badge);
    ent_door(p->site, d);
    ent("site", sites[p->site].name);
    EXPECT("ACCESS_GRANTED for regular staff member %s on an interior door between 01:00 and "
           "04:30: after-hours physical access",
           p->user);
}
static void sc_decoy_custodian_night(void) {
    const rperson *p = &rp[P_CUST];
    int d = PICK(interior_bg), t = at(hm(1, 10), hm(4, 20));
    grant_closed(t, p->site, d, p);
    meta("none", "T-25");
    ent("user", p->user);
    ent("badge", p->badge);
    EXPECT("custodian %s badges an interior door at night: custodial role, no alert", p->user);
}
static void vis_badge(char *vb, uint32_t n) { /* V-9nnnnn */
    vb[0] = 'V', vb[1] = '-', vb[2] = '9';
    for (int i = 7; i >= 3; i--, n /= 10) vb[i] = (char)('0' + n % 10);
    vb[8] = 0;
}
static void sc_watchlist_then_entry(void) {
    int s = 1 + (int)rn(7), t = at(hm(8, 0), hm(14, 0));
    char vb[10], holder[48];
    vis_badge(vb, rn(100000));
    snprintf(holder, sizeof holder, "%s %c%s", vis_first[0], vis_last[0][0] - 32, vis_last[0] + 1);
    const char *list =
        PICK(((const char *[]){"offender_registry", "district_banned", "custody_order"}));
    int score = rr(88, 99);
    visitor_line(t, "watchlist_hit", s, vis_first[0], vis_last[0], "drivers_license", NULL, NULL,
                 NULL, list, score, "alert");
    int t2 = t + rr(60, 200), t3 = t + rr(300, 840);
    visitor_line(t2, "checkin", s, vis_first[0], vis_last[0], "drivers_license", "Ms",
                 site_staff(s)->last, vb, NULL, 0, "alert");
    door_line(t3, s, 8, EV_GRANTED, vb, holder, NULL, -1);
    meta("critical", "T-30");
    ent("visitor", holder);
    ent("site", sites[s].name);
    ent("badge", vb);
    EXPECT("visitor watchlist hit, the visitor is badged in anyway and ACCESS_GRANTED with "
           "visitor badge %s at the same school %d s after the hit (within 15 min)",
           vb, t3 - t);
}
static void sc_decoy_watchlist_denied(void) {
    int s = 1 + (int)rn(7), t = at(hm(8, 0), hm(14, 0));
    char holder[48];
    snprintf(holder, sizeof holder, "%s %c%s", vis_first[1], vis_last[1][0] - 32, vis_last[1] + 1);
    visitor_line(t, "watchlist_hit", s, vis_first[1], vis_last[1], "drivers_license", NULL, NULL,
                 NULL, "offender_registry", rr(90, 99), "denied");
    meta("none", "T-30");
    ent("visitor", holder);
    ent("site", sites[s].name);
    EXPECT("watchlist hit with screening=denied and no later check-in or door entry: must not "
           "raise watchlist_then_entry");
}
static void held(int site, int d, const rperson *p, int t, int dur) {
    door_line(t, site, d, EV_GRANTED, p->badge, p->user, NULL, -1);
    door_line(t + dur, site, d, EV_HELD, NULL, NULL, NULL, dur);
    door_line(t + dur + rr(1, 5), site, d, EV_CLOSED, NULL, NULL, NULL, -1);
}
static void sc_door_held_open_long(void) {
    int s = door_site[2], dur = rr(1200, 2700);
    held(s, D_NORTH, &rp[P_HELDLONG], at(hm(9, 0), hm(13, 0)), dur);
    meta("high", "T-23");
    ent_door(s, D_NORTH);
    ent("site", sites[s].name);
    EXPECT("exterior door propped during the school day: DOOR_HELD_OPEN duration=%d (>= 900 s)",
           dur);
}
static void sc_decoy_held_open_short(void) {
    int s = door_site[3], dur = rr(600, 840);
    held(s, D_RECORDS, &rp[P_HELD_D], at(hm(9, 0), hm(15, 0)), dur);
    meta("none", "T-23");
    ent_door(s, D_RECORDS);
    ent("site", sites[s].name);
    EXPECT("interior door held open %d s (under the 900 s threshold), then closed: no alert", dur);
}
static void sc_reader_tamper(void) {
    int s = door_site[4], t = at(hm(21, 0), hm(23, 30)), n = rr(2, 3);
    char b[8];
    badge_str(b, 99000 + rn(1000));
    door_line(t, s, D_SERVER, EV_TAMPER, NULL, NULL, NULL, -1);
    for (int i = 0, u = t + rr(60, 300); i < n; i++, u += rr(10, 60))
        door_line(u, s, D_SERVER, EV_DENIED, b, "unknown", "unknown_badge", -1);
    meta("critical", "T-27");
    ent_door(s, D_SERVER);
    ent("site", sites[s].name);
    EXPECT("READER_TAMPER on the server-room reader at night, then %d ACCESS_DENIED there within "
           "10 min: tamper followed by door activity",
           n);
}
static void sc_badge_two_sites(void) {
    const rperson *p = &rp[P_TWOSITE];
    int s2 = 1 + (p->site + (int)rn(6)) % 7, t = at(hm(7, 0), hm(16, 0)), dt = rr(150, 210);
    door_line(t, p->site, 0, EV_GRANTED, p->badge, p->user, NULL, -1);
    door_line(t + dt, s2, 0, EV_GRANTED, p->badge, p->user, NULL, -1);
    meta("medium", "T-28");
    ent("badge", p->badge);
    ent("user", p->user);
    EXPECT("badge %s granted at %s and %d s later at %s: one card at two schools minutes apart",
           p->badge, sites[p->site].name, dt, sites[s2].name);
}
static void sc_decoy_itinerant_staff(void) {
    const rperson *p = &rp[P_ITIN];
    int s2 = 1 + (p->site + (int)rn(6)) % 7, t = at(hm(7, 0), hm(14, 0)), dt = rr(2400, 3600);
    door_line(t, p->site, 0, EV_GRANTED, p->badge, p->user, NULL, -1);
    door_line(t + dt, s2, 0, EV_GRANTED, p->badge, p->user, NULL, -1);
    meta("none", "T-28");
    ent("badge", p->badge);
    ent("user", p->user);
    EXPECT("an itinerant teacher badges in at two schools %d min apart (a plausible drive): no "
           "alert",
           dt / 60);
}
static void sc_denied_badge_streak(void) {
    const rperson *p = &rp[P_DENIED];
    int s = door_site[5], t = at(hm(7, 0), hm(18, 0)), n = rr(6, 8);
    for (int i = 0; i < n; i++, t += rr(8, 15))
        door_line(t, s, D_RECORDS, EV_DENIED, p->badge, p->user, "area_restricted", -1);
    meta("medium", "T-26");
    ent("badge", p->badge);
    ent_door(s, D_RECORDS);
    EXPECT("%d ACCESS_DENIED for one badge at the records room within 2 min (>= 5 in 5 min): "
           "card testing or a restricted area",
           n);
}
static void sc_decoy_denied_then_granted(void) {
    const rperson *p = &rp[P_DENIED_D];
    int s = door_site[6], t = at(hm(7, 0), hm(16, 0));
    for (int i = 0; i < 3; i++, t += rr(3, 8))
        door_line(t, s, D_NURSE, EV_DENIED, p->badge, p->user, "card_read_error", -1);
    grant_closed(t + rr(2, 10), s, D_NURSE, p);
    meta("none", "T-26");
    ent("badge", p->badge);
    ent_door(s, D_NURSE);
    EXPECT("3 read errors then ACCESS_GRANTED for the same badge (a worn card): below 5 denials, "
           "no alert");
}

/* ---- SIS data: exports and grades ---- */

static void sc_sis_bulk_export(void) {
    const rperson *p = &rp[P_EXPORT];
    uint32_t ip = rip[I_EXPORT];
    static const char *const reps[] = {"students", "guardians", "staff_directory"};
    int t = at(hm(19, 0), hm(22, 30));
    unsigned total = 0;
    sis_ok(t, p->user, ip, "teacher", "password", rcc[I_EXPORT], 0);
    for (int i = 0; i < 3; i++) {
        unsigned n = i == 2 ? 1000 + rn(400) : 3000 + rn(9000);
        t += rr(60, 420);
        sis_export(t, p->user, reps[i], ip, n);
        total += n;
    }
    meta("critical", "T-05");
    ent("user", p->user);
    ent_ip("src_ip", ip);
    EXPECT("staff account %s logs in from a %s address in the evening and exports %u records "
           "(students, guardians, staff) in 3 reports: bulk export",
           p->user, rcc[I_EXPORT], total);
}
static void sc_decoy_small_exports(void) {
    const rperson *p = &rp[P_SMALLEXP];
    int t = at(hm(8, 0), hm(13, 0));
    for (int i = 0; i < 3; i++, t += rr(600, 2400))
        sis_export(t, p->user, i == 1 ? "attendance" : "roster", p->ip, 18 + rn(45));
    meta("none", "T-05");
    ent("user", p->user);
    EXPECT("a teacher exports 3 class rosters/attendance sheets (< 70 records each) from the staff "
           "network during the day: no alert");
}
static void sc_sis_mass_grade_change(void) {
    const rperson *p = &rp[P_GRADES];
    int t = at(hm(19, 30), hm(23, 0)), n = rr(33, 42), s = p->site, t0;
    const char *course = course_for(s);
    sis_ok(t, p->user, p->home, "teacher", "password", "US", 0);
    t += rr(30, 120);
    t0 = t;
    for (int i = 0; i < n; i++, t += rr(10, 17))
        sis_grade(t, p->user, site_student(s)->id, course, p->home);
    meta("medium", "T-06");
    ent("user", p->user);
    ent_ip("src_ip", p->home);
    EXPECT("%d grade_change by %s in %d s late in the evening (> 30 in 15 min, >= 25 in 10 min "
           "outside school hours): mass grade change",
           n, p->user, t - t0);
}
static void sc_decoy_teacher_grades(void) {
    const rperson *p = &rp[P_GRADES_D];
    int t = at(hm(13, 0), hm(15, 0)), s = p->site;
    const char *course = course_for(s);
    sis_ok(t, p->user, p->ip, "teacher", "sso", "US", 0);
    t += rr(30, 120);
    for (int i = 0; i < 10; i++, t += rr(40, 90))
        sis_grade(t, p->user, site_student(s)->id, course, p->ip);
    meta("none", "T-06");
    ent("user", p->user);
    EXPECT("a teacher enters 10 grades over ~10 min from the staff network after class: no alert");
}

/* ---- internet-facing brute force ---- */

static int ssh_burst(int islot, int n, int gmin, int gmax) {
    int t = at(hm(0, 30), hm(23, 0)), t0 = t;
    for (int i = 0; i < n; i++, t += rr(gmin, gmax)) {
        int inv = i % 3 != 0;
        ssh_failed(t, "sftp01", inv ? PICK(bad_users) : "root", inv, rip[islot]);
    }
    ssh_closed(t, "sftp01", rip[islot]);
    ent_ip("src_ip", rip[islot]);
    ent("host", "sftp01");
    return t - t0;
}
static void sc_ssh_brute_force(void) {
    int n = rr(32, 45), span = ssh_burst(I_SSH, n, 5, 13);
    meta("medium", "T-14");
    EXPECT("%d sshd 'Failed password' on sftp01 from one internet address in %d s (> 30 in 10 min)",
           n, span);
}
static void sc_decoy_ssh_few_failures(void) {
    int n = rr(10, 14);
    ssh_burst(I_SSH_D, n, 20, 40);
    meta("none", "T-14");
    EXPECT("%d sshd failures on sftp01 from one internet address within 10 min: ordinary "
           "scanning below the 30 threshold, no alert",
           n);
}
static void sc_fw_admin_bruteforce(void) {
    int t = at(hm(0, 30), hm(23, 0)), n = rr(12, 16), t0 = t, last = t;
    for (int i = 0; i < n; i++, t += rr(15, 30)) {
        fgt_admin_login(t, 0, rip[I_FW], "admin", "https", 0, 0);
        last = t;
    }
    meta("medium", "T-14");
    ent_ip("src_ip", rip[I_FW]);
    ent("host", "FGT-DC01");
    EXPECT("%d FortiGate 'Admin login failed' on FGT-DC01 from one internet address in %d s "
           "(>= 10 in 10 min)",
           n, last - t0);
}
static void sc_decoy_fw_admin_typo(void) {
    int t = at(hm(7, 30), hm(17, 0));
    fgt_admin_login(t, 0, rip[I_FW_D], "netadmin", "https", 0, 0);
    t += rr(8, 25);
    fgt_admin_login(t, 0, rip[I_FW_D], "netadmin", "https", 0, 0);
    fgt_admin_login(t + rr(8, 25), 0, rip[I_FW_D], "netadmin", "https", 1, 0);
    meta("none", "T-14");
    ent_ip("src_ip", rip[I_FW_D]);
    ent("user", "netadmin");
    EXPECT("the network admin mistypes the FortiGate password twice from a management "
           "workstation, then logs in: no alert");
}

/* ---- student web safety ---- */

static void web_hits(int sslot, int cat, int block, int n, int gmin, int gmax) {
    const student_t *st = &rs[sslot];
    char u[12];
    snprintf(u, sizeof u, "s%u", st->id);
    int t = at(hm(8, 30), hm(14, 30));
    for (int i = 0; i < n; i++, t += rr(gmin, gmax))
        fgt_webfilter(t, st->site, st->ip, u, 1, cat, block);
    ent("user", u);
    ent_ip("src_ip", st->ip);
}
static void sc_webfilter_self_harm(void) {
    int n = rr(3, 5);
    web_hits(S_SELFHARM, WC_SELFHARM, 1, n, 120, 420);
    meta("high", "T-20");
    EXPECT("%d blocked FortiGate webfilter hits in category Self-Harm for one student: student "
           "safety alert for a counsellor",
           n);
}
static void sc_decoy_health_browsing(void) {
    web_hits(S_HEALTH_D, WC_HEALTH, 0, rr(3, 4), 60, 300);
    meta("none", "T-20");
    EXPECT("a student reads Health and Wellness pages (allowed): no safety alert");
}
static void sc_proxy_evasion(void) {
    int n = rr(22, 30);
    web_hits(S_PROXY, WC_PROXY, 1, n, 8, 18);
    meta("low", "T-19");
    EXPECT("%d blocked webfilter hits in category Proxy Avoidance for one student within 10 min "
           "(>= 20): filter bypass attempts",
           n);
}
static void sc_decoy_proxy_few(void) {
    web_hits(S_PROXY_D, WC_PROXY, 1, 4, 60, 140);
    meta("none", "T-19");
    EXPECT("4 Proxy Avoidance blocks for one student in 10 min: below 20, no alert");
}

/* ---- staff account on a student network; root shell ---- */

static void sc_staff_login_from_student_net(void) {
    const rperson *p = &rp[P_STUDNET];
    uint32_t ip = ip_r(10, 32 + p->site, 0, 1, 120, 2, 250);
    sis_ok(at(hm(9, 0), hm(15, 0)), p->user, ip, "teacher", "password", "US", 0);
    meta("high", "T-04");
    ent("user", p->user);
    ent_ip("src_ip", ip);
    EXPECT("teacher account %s logs in to the SIS teacher portal from the %s student network "
           "(10.%d.0.0/16)",
           p->user, sites[p->site].name, 32 + p->site);
}
static void sc_decoy_staff_vpn_login(void) {
    const rperson *p = &rp[P_VPN_D];
    uint32_t ip = ip_r(10, 10, 0, 1, 200, 2, 250);
    sis_ok(at(hm(18, 0), hm(22, 0)), p->user, ip, "teacher", "sso", "US", 0);
    meta("none", "T-04");
    ent("user", p->user);
    ent_ip("src_ip", ip);
    EXPECT(
        "teacher logs in to the SIS from the staff VPN pool 10.10.0.0/16 in the evening: no alert");
}
static void sc_sudo_unusual_root(void) {
    const rperson *p = &rp[P_SUDO];
    int t = at(hm(10, 0), hm(22, 0));
    ssh_accepted(t, "lnx-web01", p->user, p->ip);
    t += rr(30, 240);
    sudo_line(t, "lnx-web01", p->user, "/bin/bash");
    sudo_line(t + rr(20, 120), "lnx-web01", p->user, "/usr/bin/cat /etc/shadow");
    meta("high", "T-07");
    ent("user", p->user);
    ent("host", "lnx-web01");
    EXPECT("%s (a teacher with a web-server shell account, not a sysadmin) runs a root shell and "
           "reads /etc/shadow through sudo",
           p->user);
}
static void sc_decoy_admin_sudo_night(void) {
    const char *u = PICK(sysadmins);
    sudo_line(at(hm(1, 0), hm(4, 30)), "lnx-web01", u, "/usr/bin/systemctl restart nginx");
    meta("none", "T-07");
    ent("user", u);
    ent("host", "lnx-web01");
    EXPECT("a sysadmin restarts nginx through sudo at night (maintenance): no alert");
}

/* ---- registry ---- */

typedef struct {
    const char *name;
    int decoy;
    void (*fn)(void);
} scen_t;
static const scen_t scens[] = {
    {"sis_brute_force", 0, sc_sis_brute_force},
    {"sis_password_spray", 0, sc_sis_password_spray},
    {"door_forced_no_badge", 0, sc_door_forced_no_badge},
    {"after_hours_badge", 0, sc_after_hours_badge},
    {"watchlist_then_entry", 0, sc_watchlist_then_entry},
    {"sis_bulk_export", 0, sc_sis_bulk_export},
    {"sis_mass_grade_change", 0, sc_sis_mass_grade_change},
    {"ssh_brute_force", 0, sc_ssh_brute_force},
    {"fw_admin_bruteforce", 0, sc_fw_admin_bruteforce},
    {"webfilter_self_harm", 0, sc_webfilter_self_harm},
    {"proxy_evasion", 0, sc_proxy_evasion},
    {"door_held_open_long", 0, sc_door_held_open_long},
    {"reader_tamper", 0, sc_reader_tamper},
    {"badge_two_sites", 0, sc_badge_two_sites},
    {"denied_badge_streak", 0, sc_denied_badge_streak},
    {"staff_login_from_student_net", 0, sc_staff_login_from_student_net},
    {"sudo_unusual_root", 0, sc_sudo_unusual_root},
    {"decoy_slow_drip", 1, sc_decoy_slow_drip},
    {"decoy_near_miss_spray", 1, sc_decoy_near_miss_spray},
    {"decoy_near_miss_burst", 1, sc_decoy_near_miss_burst},
    {"decoy_forced_after_badge", 1, sc_decoy_forced_after_badge},
    {"decoy_custodian_night", 1, sc_decoy_custodian_night},
    {"decoy_watchlist_denied", 1, sc_decoy_watchlist_denied},
    {"decoy_small_exports", 1, sc_decoy_small_exports},
    {"decoy_teacher_grades", 1, sc_decoy_teacher_grades},
    {"decoy_ssh_few_failures", 1, sc_decoy_ssh_few_failures},
    {"decoy_fw_admin_typo", 1, sc_decoy_fw_admin_typo},
    {"decoy_health_browsing", 1, sc_decoy_health_browsing},
    {"decoy_proxy_few", 1, sc_decoy_proxy_few},
    {"decoy_held_open_short", 1, sc_decoy_held_open_short},
    {"decoy_itinerant_staff", 1, sc_decoy_itinerant_staff},
    {"decoy_denied_then_granted", 1, sc_decoy_denied_then_granted},
    {"decoy_staff_vpn_login", 1, sc_decoy_staff_vpn_login},
    {"decoy_admin_sudo_night", 1, sc_decoy_admin_sudo_night},
};
#define NSCEN ((int)NELEM(scens))
static unsigned char scen_on[NELEM(scens)];

static void scen_list(FILE *f) {
    for (int i = 0; i < NSCEN; i++)
        if (!scens[i].decoy) fprintf(f, "  %s\n", scens[i].name);
    fputs("Decoys (all on unless --no-decoys; they may also be named in LIST):\n", f);
    for (int i = 0; i < NSCEN; i++)
        if (scens[i].decoy) fprintf(f, "  %s\n", scens[i].name);
}
/* "all", "none" or a comma-separated list of names; 0 on success */
static int scen_select(const char *spec, int decoys) {
    int all = !strcmp(spec, "all"), none = !strcmp(spec, "none");
    for (int i = 0; i < NSCEN; i++)
        scen_on[i] = scens[i].decoy ? (unsigned char)decoys : (unsigned char)all;
    if (all || none) return 0;
    for (const char *p = spec; *p;) {
        size_t n = strcspn(p, ",");
        int found = 0;
        for (int i = 0; i < NSCEN; i++)
            if (strlen(scens[i].name) == n && !strncmp(scens[i].name, p, n))
                scen_on[i] = 1, found = 1;
        if (!found && n) {
            fprintf(stderr, "hm-gen: unknown scenario '%.*s' (see --help)\n", (int)n, p);
            return 1;
        }
        p += n + (p[n] == ',');
    }
    return 0;
}
static void inject_scenarios(uint64_t seed) {
    build_reserved(seed);
    for (int i = 0; i < NSCEN; i++) {
        if (!scen_on[i]) continue;
        uint64_t h = seed;
        for (const char *c = scens[i].name; *c; c++) h = mix64(h ^ (uint8_t)*c);
        prng p = {h};
        R = &p;
        TR = &truths[ntruth++];
        memset(TR, 0, sizeof *TR);
        TR->scen = scens[i].name;
        TR->decoy = scens[i].decoy;
        sc_tmin = DAY, sc_tmax = -1;
        long l0 = lines_deferred;
        scens[i].fn();
        TR->lines = (int)(lines_deferred - l0);
        TR->start = sc_tmin, TR->end = sc_tmax;
        R = &bg;
    }
}

/* ---- the day's shape ---- */

static int wmin[1440]; /* lines weight per minute of day */
static void build_profile(void) {
    static const int hw[24] = {8,  6,   5,   5,   6,  10, 30, 85, 100, 100, 100, 100,
                               92, 100, 100, 100, 45, 34, 28, 24, 22,  18,  14,  10};
    for (int m = 0; m < 1440; m++) {
        int h = m / 60, w = hw[h];
        if (h == 6) w = 12 + (85 - 12) * (m % 60) / 60; /* buses, staff arriving */
        if (h == 15 && m % 60 >= 30) w = 55;            /* dismissal at 15:30 */
        wmin[m] = w;
    }
}
static inline int activity(int t) { /* 0..100 */
    int w = wmin[t / 60];
    return w <= 5 ? 0 : (w - 5) * 100 / 95;
}

/* Line mix. Night shares are fixed; day shares are derived so that the whole day meets
 * the targets (FortiGate 40.6 %, pfSense 26.3 %, auth 17.6 %, doors 6.8 %, visitors 1.4 %,
 * misc 7.4 %). Each category's pick weight is divided by its running lines-per-call, so
 * follow-up lines (logout, DOOR_CLOSED, checkout...) do not inflate its share. */
enum { C_FGT, C_PF, C_AUTH, C_DOOR, C_VIS, C_MISC, NCAT };
static const double cat_target[NCAT] = {406,  263,  176,
                                        65.5, 16.5, 73}; /* visitor grants count as doors */
static const double cat_night[NCAT] = {430, 420, 40, 30, 0, 80};
static double cat_day[NCAT];
static long cat_calls[NCAT] = {1, 1, 1, 1, 1, 1}, cat_lines[NCAT] = {1, 1, 1, 1, 1, 1};
static void build_mix(void) {
    double sw = 0, swa = 0;
    for (int t = 0; t < DAY; t++)
        sw += wmin[t / 60], swa += (double)wmin[t / 60] * activity(t) / 100.0;
    double abar = swa / sw;
    for (int c = 0; c < NCAT; c++) {
        cat_day[c] = (cat_target[c] - cat_night[c] * (1 - abar)) / abar;
        if (cat_day[c] < 0) cat_day[c] = 0;
    }
}
/* one background call (a line, maybe with follow-ups); returns lines accounted */
static long gen_one(int t, long budget) {
    int a = activity(t);
    if (budget < 3) { /* the last few lines: single-line kinds only */
        pf_block_in(t);
        return 1;
    }
    double w[NCAT], tot = 0;
    for (int c = 0; c < NCAT; c++) {
        w[c] =
            (cat_night[c] + (cat_day[c] - cat_night[c]) * a / 100.0) * cat_calls[c] / cat_lines[c];
        tot += w[c];
    }
    double x = (double)(rnd() >> 11) * (1.0 / 9007199254740992.0) * tot;
    int c = 0;
    while (c < NCAT - 1 && x >= w[c]) x -= w[c++];
    long before = lines_deferred + lines_direct;
    int r = (int)rn(100);
    switch (c) {
    case C_FGT:
        if (r < 8 + 30 * (100 - a) / 100)
            fgt_local_deny(t);
        else if (rn(1000) < 4)
            fgt_admin_bg(t, a);
        else if (a > 20 && rn(100) < 19)
            fgt_webfilter_bg(t);
        else
            fgt_forward(t);
        break;
    case C_PF:
        if (r < 30 + 60 * (100 - a) / 100)
            pf_block_in(t);
        else
            pf_pass_out(t);
        break;
    case C_AUTH:
        if (r < 15 + 45 * a / 100)
            sis_bg(t, a);
        else if (r < 50 + 35 * a / 100)
            radius_bg(t, a);
        else
            ssh_bg(t);
        break;
    case C_DOOR:
        door_bg(t, a);
        break;
    case C_VIS:
        visitor_bg(t, a);
        break;
    default:
        if (r < 20 + 40 * a / 100)
            dhcp_bg(t);
        else if (r < 95 - 5 * a / 100)
            cron_bg(t);
        else
            sudo_bg(t);
    }
    long n = lines_deferred + lines_direct - before;
    cat_calls[c]++;
    cat_lines[c] += n;
    return n;
}

/* ---- truth file ---- */

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}
static void iso(char *b, int t) { /* b: 32 bytes */
    snprintf(b, 32, "%.10sT%02d:%02d:%02d", g_date, t / 3600 % 24, t / 60 % 60, t % 60);
}
static int truth_cmp(const void *a, const void *b) {
    const truth *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return strcmp(x->scen, y->scen);
}
static void write_truth(const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "hm-gen: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    qsort(truths, (size_t)ntruth, sizeof *truths, truth_cmp);
    for (int i = 0; i < ntruth; i++) {
        const truth *e = &truths[i];
        char s[32], en[32];
        iso(s, e->start);
        iso(en, e->end);
        fprintf(f, "{\"scenario\":\"%s\",\"decoy\":%s,\"start\":\"%s\",\"end\":\"%s\",\"entity\":{",
                e->scen, e->decoy ? "true" : "false", s, en);
        for (int k = 0; k < e->nent; k++) {
            fprintf(f, "%s\"%s\":", k ? "," : "", e->ek[k]);
            json_str(f, e->ev[k]);
        }
        fprintf(f, "},\"lines\":%d,\"severity\":\"%s\",\"threat_ref\":\"%s\",\"expect\":", e->lines,
                e->sev, e->ref);
        json_str(f, e->expect);
        fputs("}\n", f);
    }
    if (fclose(f)) {
        fprintf(stderr, "hm-gen: %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

/* ---- command line ---- */

static void usage(FILE *f) {
    fputs("usage: hm-gen [--lines N] [--seed S] [--out FILE|-] [--truth FILE]\n"
          "              [--attacks all|none|LIST] [--no-decoys] [--date YYYY-MM-DD]\n"
          "              [--utc-offset MINUTES]   district UTC offset (default -300, Chicago CDT)\n"
          "Writes one simulated school-district day of RFC3164 syslog lines (default 1000000\n"
          "lines, seed 1, date 2024-03-11, to stdout) and, with --truth, one JSON object per\n"
          "injected scenario or decoy. LIST is a comma-separated list of scenario names:\n",
          f);
    scen_list(f);
}
int main(int argc, char **argv) {
    long nlines = 1000000;
    uint64_t seed = 1;
    const char *out = "-", *truth_path = NULL, *attacks = "all";
    int decoys = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--no-decoys")) {
            decoys = 0;
            continue;
        }
        if (!v) {
            fprintf(stderr, "hm-gen: %s needs a value (see --help)\n", a);
            return 2;
        }
        char *end = NULL;
        if (!strcmp(a, "--lines")) {
            nlines = strtol(v, &end, 10);
            if (*end || nlines < 0) goto bad;
        } else if (!strcmp(a, "--seed")) {
            seed = strtoull(v, &end, 0);
            if (*end) goto bad;
        } else if (!strcmp(a, "--out")) {
            out = v;
        } else if (!strcmp(a, "--truth")) {
            truth_path = v;
        } else if (!strcmp(a, "--attacks")) {
            attacks = v;
        } else if (!strcmp(a, "--utc-offset")) {
            g_utc_offset_min = (int)strtol(v, &end, 10);
            if (*end || g_utc_offset_min < -900 || g_utc_offset_min > 900) goto bad;
        } else if (!strcmp(a, "--date")) {
            if (sscanf(v, "%4d-%2d-%2d", &g_year, &g_mon, &g_mday) != 3 || strlen(v) != 10 ||
                g_mon < 1 || g_mon > 12 || g_mday < 1 || g_mday > 31)
                goto bad;
        } else {
            fprintf(stderr, "hm-gen: unknown option %s (see --help)\n", a);
            return 2;
        }
        i++;
        continue;
    bad:
        fprintf(stderr, "hm-gen: bad value for %s: %s\n", a, v);
        return 2;
    }
    snprintf(g_date, sizeof g_date, "%04d-%02d-%02d", g_year, g_mon, g_mday);
    /* header times are the district's wall clock; FortiOS eventtime is the true UTC instant */
    g_epoch0 =
        days_from_civil(g_year, (unsigned)g_mon, (unsigned)g_mday) * DAY - g_utc_offset_min * 60;
    if (scen_select(attacks, decoys)) return 2;

    ofp = strcmp(out, "-") ? fopen(out, "wb") : stdout;
    if (!ofp) {
        fprintf(stderr, "hm-gen: %s: %s\n", out, strerror(errno));
        return 1;
    }
    build_district();
    build_profile();
    build_mix();

    /* scenarios first (their own streams), then the background fills the rest */
    defer_mode = 1;
    inject_scenarios(seed);
    defer_mode = 0;
    long scen_lines = lines_deferred;
    long budget = nlines > scen_lines ? nlines - scen_lines : 0;
    bg.s = mix64(seed ^ 0xB4C6D0E1F2A3B4C5ULL);

    uint64_t wtot = 0, wcum = 0;
    for (int m = 0; m < 1440; m++) wtot += (uint64_t)wmin[m] * 60;
    long done = 0;
    for (int t = 0; t < DAY; t++) {
        cur_t = t;
        drain_until(t);
        wcum += (uint64_t)wmin[t / 60];
        long due = (long)((uint64_t)budget * wcum / wtot);
        while (done < due) done += gen_one(t, budget - done);
    }
    cur_t = DAY;
    drain_until(DAY);
    flush_out();
    if (ofp != stdout ? fclose(ofp) : fflush(ofp)) {
        fprintf(stderr, "hm-gen: %s: write failed: %s\n", out, strerror(errno));
        return 1;
    }
    if (truth_path) write_truth(truth_path);
    return 0;
}
