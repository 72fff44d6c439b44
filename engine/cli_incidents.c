/* cli_incidents.c - `hallmonitor incidents list|show|ack|resolve|reopen|note|export --db PATH`:
 * the analysts' triage commands on the SQLite triage store (schema: docs/triage-store.md,
 * written by sinks/sqlite.c). Reads use a read-only connection; status changes are one
 * BEGIN IMMEDIATE transaction each (status + one incident_history row). Output: tables that
 * fit 100 columns (color only on a terminal and never with NO_COLOR), JSON, CSV.
 * Exit status: 0 success, 1 unknown/ambiguous incident or a refused change, 2 usage or
 * database error. See docs/incidents.md. */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cli.h"
#include "incident.h"
#include "json_lines.h"
#include "timeutil.h"

#define MAX_WIDTH 100

/* ---- output helpers ---- */

static bool g_color;
static int g_width = MAX_WIDTH;

static void setup_terminal(FILE *f) {
    int fd = fileno(f);
    g_color = isatty(fd) && getenv("NO_COLOR") == NULL;
    g_width = MAX_WIDTH;
    struct winsize ws;
    if (isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 60 && ws.ws_col < MAX_WIDTH)
        g_width = ws.ws_col;
}

static const char *prio_color(int rank) {
    switch (rank) {
    case 4:
        return "\033[1;31m";
    case 3:
        return "\033[31m";
    case 2:
        return "\033[33m";
    case 1:
        return "\033[36m";
    default:
        return "\033[2m";
    }
}
static void color_on(FILE *f, const char *c) {
    if (g_color) fputs(c, f);
}
static void color_off(FILE *f) {
    if (g_color) fputs("\033[0m", f);
}

/* display columns of UTF-8 text (one per code point; control bytes count as one '?') */
static size_t text_cols(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) c++;
    return c;
}

/* writes text with control characters replaced (log data may carry terminal escapes),
 * at most max_cols columns (truncated with an ellipsis); returns the columns written */
static size_t put_safe(FILE *f, const char *s, size_t n, size_t max_cols) {
    if (!s) return 0;
    size_t total = text_cols(s, n);
    bool cut = total > max_cols;
    size_t limit = cut ? (max_cols ? max_cols - 1 : 0) : max_cols;
    size_t cols = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80             ? 1
                     : (c & 0xE0) == 0xC0 ? 2
                     : (c & 0xF0) == 0xE0 ? 3
                     : (c & 0xF8) == 0xF0 ? 4
                                          : 1;
        if (i + len > n) len = n - i;
        if (cols >= limit) break;
        if (c < 0x20 || c == 0x7f)
            fputc(c == '\t' || c == '\n' || c == '\r' ? ' ' : '?', f);
        else if (len == 1 && c >= 0x80)
            fputc('?', f); /* stray byte */
        else
            fwrite(s + i, 1, len, f);
        cols++;
        i += len;
    }
    if (cut && max_cols) {
        fputs("\xE2\x80\xA6", f);
        cols++;
    }
    return cols;
}

static void put_cell(FILE *f, const char *s, size_t width, bool right) {
    if (!s) s = "";
    size_t n = strlen(s), cols = text_cols(s, n);
    if (cols > width) cols = width;
    if (right)
        for (size_t i = cols; i < width; i++) fputc(' ', f);
    put_safe(f, s, n, width);
    if (!right)
        for (size_t i = cols; i < width; i++) fputc(' ', f);
}

/* word-wraps text at g_width with the given indent (first line already indented) */
static void put_wrapped(FILE *f, const char *s, size_t indent, size_t first_col) {
    size_t col = first_col, width = (size_t)g_width;
    const char *p = s;
    while (*p) {
        while (*p == ' ') p++;
        if (!*p) break;
        const char *w = p;
        while (*p && *p != ' ') p++;
        size_t wl = (size_t)(p - w), wc = text_cols(w, wl);
        if (col > indent && col + 1 + wc > width) {
            fputc('\n', f);
            for (size_t i = 0; i < indent; i++) fputc(' ', f);
            col = indent;
        } else if (col > indent) {
            fputc(' ', f);
            col++;
        }
        while (wc > width - indent) { /* a word longer than a line: hard break */
            size_t take = width - indent, bytes = 0, k = 0;
            while (k < take && bytes < wl) {
                bytes++;
                while (bytes < wl && ((unsigned char)w[bytes] & 0xC0) == 0x80) bytes++;
                k++;
            }
            put_safe(f, w, bytes, take);
            fputc('\n', f);
            for (size_t i = 0; i < indent; i++) fputc(' ', f);
            w += bytes;
            wl -= bytes;
            wc = text_cols(w, wl);
            col = indent;
        }
        col += put_safe(f, w, wl, wc);
    }
    fputc('\n', f);
}

static void now_iso(char out[64]) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

/* "2024-03-11T09:10:03Z" -> "2024-03-11 09:10:03" (or a part of it) */
static void short_time(const char *iso, char *out, size_t cap, int from, int len) {
    if (!iso || strlen(iso) < 16) {
        snprintf(out, cap, "%s", iso ? iso : "");
        return;
    }
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%.19s", iso);
    if (tmp[10] == 'T') tmp[10] = ' ';
    snprintf(out, cap, "%.*s", len, tmp + from);
}

static const char *col_text(sqlite3_stmt *q, int i) {
    const unsigned char *t = sqlite3_column_text(q, i);
    return t ? (const char *)t : "";
}

static const char *status_word(const char *s) {
    if (!strcmp(s, "acknowledged")) return "acked";
    return s;
}

/* ---- the database ---- */

static int db_fail(sqlite3 *db, const char *path, const char *what) {
    fprintf(stderr, "hallmonitor incidents: --db %s: %s: %s\n", path, what,
            db ? sqlite3_errmsg(db) : "out of memory");
    return 2;
}

/* Opens the triage store; NULL after a message (exit 2). */
static sqlite3 *open_db(const char *path, bool write) {
    if (access(path, F_OK) != 0) {
        fprintf(stderr,
                "hallmonitor incidents: --db %s: %s (the engine creates it: hallmonitor run ... "
                "--emit alerts,incidents --output sqlite:%s)\n",
                path, strerror(errno), path);
        return NULL;
    }
    sqlite3 *db = NULL;
    int flags = write ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        db_fail(db, path, "cannot open the database");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT (SELECT count(*) FROM sqlite_master WHERE type='table' AND "
                                "name IN ('incidents','incident_history')), "
                                "(SELECT count(*) FROM sqlite_master WHERE type='table' AND "
                                "name='schema_version')",
                                -1, &q, NULL);
    int tables = 0, has_version = 0;
    if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        tables = sqlite3_column_int(q, 0);
        has_version = sqlite3_column_int(q, 1);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW) {
        db_fail(db, path, "not a readable SQLite triage store");
        sqlite3_close(db);
        return NULL;
    }
    if (tables < 2) {
        fprintf(stderr,
                "hallmonitor incidents: --db %s: not a hallmonitor triage store (no incidents "
                "table); write one with hallmonitor run --output sqlite:%s\n",
                path, path);
        sqlite3_close(db);
        return NULL;
    }
    if (has_version && write) {
        int v = 0;
        if (sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1, &q, NULL) ==
                SQLITE_OK &&
            sqlite3_step(q) == SQLITE_ROW)
            v = sqlite3_column_int(q, 0);
        sqlite3_finalize(q);
        if (v > 1) {
            fprintf(stderr,
                    "hallmonitor incidents: --db %s: the database has schema version %d, newer "
                    "than this hallmonitor understands (1); not changing it\n",
                    path, v);
            sqlite3_close(db);
            return NULL;
        }
    }
    return db;
}

/* Finds an incident by id, or a unique prefix, suffix or (4+ characters) part of it
 * (case-insensitive), tried in that order. Returns 0
 * with the id in out, 1 after a message when none or several match, 2 on a database error. */
static int resolve_id(sqlite3 *db, const char *path, const char *arg, char *out, size_t cap) {
    static const char *const SQL[] = {
        "SELECT id FROM incidents WHERE id = ?1",
        "SELECT id FROM incidents WHERE lower(id) = lower(?1)",
        "SELECT id FROM incidents WHERE lower(substr(id, 1, length(?1))) = lower(?1) LIMIT 6",
        "SELECT id FROM incidents WHERE length(id) >= length(?1) AND "
        "lower(substr(id, length(id) - length(?1) + 1)) = lower(?1) LIMIT 6",
        "SELECT id FROM incidents WHERE length(?1) >= 4 AND instr(lower(id), lower(?1)) > 0 LIMIT "
        "6",
    };
    for (size_t k = 0; k < HM_ARRAY_LEN(SQL); k++) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(db, SQL[k], -1, &q, NULL) != SQLITE_OK)
            return db_fail(db, path, "query failed");
        sqlite3_bind_text(q, 1, arg, -1, SQLITE_STATIC);
        char ids[6][128];
        int n = 0, rc;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            if (n < 6) snprintf(ids[n], sizeof ids[n], "%s", col_text(q, 0));
            n++;
        }
        sqlite3_finalize(q);
        if (rc != SQLITE_DONE) return db_fail(db, path, "query failed");
        if (n == 1) {
            snprintf(out, cap, "%s", ids[0]);
            return 0;
        }
        if (n > 1) {
            fprintf(stderr, "hallmonitor incidents: '%s' matches several incidents:", arg);
            for (int i = 0; i < n && i < 5; i++) fprintf(stderr, " %s", ids[i]);
            fprintf(stderr, "%s; give more of the id\n", n > 5 ? " ..." : "");
            return 1;
        }
    }
    fprintf(stderr,
            "hallmonitor incidents: no incident '%s' in %s (see hallmonitor incidents list "
            "--db %s --status all)\n",
            arg, path, path);
    return 1;
}

/* ---- usage ---- */

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: hallmonitor incidents COMMAND --db PATH [options]\n"
        "\n"
        "commands (each has --help):\n"
        "  list      the triage queue, most urgent first (default: open and acknowledged)\n"
        "  show ID   one incident: timeline, evidence lines, score breakdown, next steps, history\n"
        "  ack ID    acknowledge (someone is on it)          --note TEXT [--by NAME]\n"
        "  resolve ID  close it                              --note TEXT [--by NAME]\n"
        "  reopen ID   open it again                         --note TEXT [--by NAME]\n"
        "  note ID     add a note to its history             --note TEXT [--by NAME]\n"
        "  export    all matching incidents as CSV or JSON (--format csv|json, --out FILE)\n"
        "\n"
        "ID may be the full id or a unique part of it (e.g. 9b6c16999b or 9b6c).\n"
        "--db PATH is the SQLite triage store written by: hallmonitor run ... --emit\n"
        "alerts,incidents --output sqlite:PATH   (docs/incidents.md, docs/triage-store.md)\n"
        "Exit status: 0 ok, 1 unknown incident or refused change, 2 usage or database error.\n");
}

static void list_usage(FILE *f, bool export) {
    if (export)
        fprintf(f,
                "usage: hallmonitor incidents export --db PATH [--format csv|json] [--out FILE]\n"
                "                                    [filters]\n\n"
                "  --format csv|json   csv (default): one row per incident; json: an array of\n"
                "                      the incident objects with their status and history\n"
                "  --out FILE          write to FILE instead of standard output\n");
    else
        fprintf(f, "usage: hallmonitor incidents list --db PATH [filters] [--format table|json]\n\n"
                   "  --format table|json table (default, fits 100 columns) or a JSON array\n"
                   "  --limit N           at most N incidents (table default 50; 0 = all)\n");
    fprintf(f,
            "filters:\n"
            "  --status S          open, acked (acknowledged), resolved, active (open and acked;\n"
            "                      the default for list) or all (the default for export);\n"
            "                      a comma list works too: open,resolved\n"
            "  --min-priority P    critical, high, medium, low or info\n"
            "  --since D           last seen within D before now (24h, 7d) or since a date/time\n"
            "                      (2024-03-11, 2024-03-11T08:00:00Z)\n"
            "  --entity X          user:victim, or just the value (victim); * and ? match any\n"
            "  --student-data      only incidents that touch student records\n"
            "Sorted by priority, then most recent activity.\n");
}

static void action_usage(FILE *f, const char *act) {
    fprintf(f,
            "usage: hallmonitor incidents %s --db PATH ID [--note TEXT] [--by NAME]\n\n"
            "  --note TEXT   why (kept in the incident's history)%s\n"
            "  --by NAME     who (default: $USER)\n",
            act, !strcmp(act, "note") ? "; required" : "");
    if (!strcmp(act, "ack"))
        fprintf(f, "\nMarks an open incident acknowledged.\n");
    else if (!strcmp(act, "resolve"))
        fprintf(f, "\nResolves an open or acknowledged incident. New "
                   "alerts on it reopen it automatically.\n");
    else if (!strcmp(act, "reopen"))
        fprintf(f, "\nSets a resolved or acknowledged incident back to open.\n");
    else
        fprintf(f, "\nAdds a note without changing the status.\n");
}

static void show_usage(FILE *f) {
    fprintf(f,
            "usage: hallmonitor incidents show --db PATH ID [--format text|json] [--alerts N]\n\n"
            "  --format text|json  text (default) or one JSON object (incident, history, alerts)\n"
            "  --alerts N          timeline length (default 50)\n");
}

/* ---- filters (list, export) ---- */

typedef struct filters {
    const char *statuses[4];
    int n_status;
    int min_rank;
    bool has_since;
    int64_t since_ms;
    const char *entity;
    bool student;
} filters;

static int parse_status(const char *arg, filters *fl) {
    fl->n_status = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", arg);
    for (char *save, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        if (!strcmp(w, "all")) {
            fl->n_status = 0;
            return 0;
        }
        const char *add[2] = {NULL, NULL};
        if (!strcmp(w, "open"))
            add[0] = "open";
        else if (!strcmp(w, "acked") || !strcmp(w, "ack") || !strcmp(w, "acknowledged"))
            add[0] = "acknowledged";
        else if (!strcmp(w, "resolved"))
            add[0] = "resolved";
        else if (!strcmp(w, "active"))
            add[0] = "open", add[1] = "acknowledged";
        else {
            fprintf(stderr,
                    "hallmonitor incidents: --status %s: expected open, acked, resolved, "
                    "active or all\n",
                    arg);
            return 2;
        }
        for (int i = 0; i < 2 && add[i]; i++) {
            bool have = false;
            for (int k = 0; k < fl->n_status; k++) have |= !strcmp(fl->statuses[k], add[i]);
            if (!have && fl->n_status < 4) fl->statuses[fl->n_status++] = add[i];
        }
    }
    return 0;
}

static int parse_since(const char *arg, filters *fl) {
    int64_t ns;
    if (hm_parse_duration_ns(arg, &ns) && ns > 0) {
        fl->since_ms = (hm_now_ns() - ns) / 1000000;
        fl->has_since = true;
        return 0;
    }
    int y, mo, d;
    char tail;
    if (strlen(arg) == 10 && sscanf(arg, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) == 3 && mo >= 1 &&
        mo <= 12 && d >= 1 && d <= 31) {
        fl->since_ms = hm_civil_to_epoch(y, mo, d, 0, 0, 0) * 1000;
        fl->has_since = true;
        return 0;
    }
    bool zone;
    size_t n = strlen(arg);
    if (n && hm_parse_iso8601(arg, n, &ns, &zone) == n) {
        fl->since_ms = ns / 1000000;
        fl->has_since = true;
        return 0;
    }
    fprintf(stderr,
            "hallmonitor incidents: --since %s: expected a duration (24h, 7d) or a date "
            "(2024-03-11) or time (2024-03-11T08:00:00Z, UTC)\n",
            arg);
    return 2;
}

static void where_clause(hm_buf *sql, const filters *fl) {
    hm_buf_puts(sql, " WHERE 1=1");
    if (fl->n_status) {
        hm_buf_puts(sql, " AND status IN (");
        for (int i = 0; i < fl->n_status; i++) hm_buf_printf(sql, "%s?%d", i ? "," : "", 10 + i);
        hm_buf_puts(sql, ")");
    }
    if (fl->min_rank > 0) hm_buf_puts(sql, " AND coalesce(priority_rank, 0) >= ?20");
    if (fl->has_since) hm_buf_puts(sql, " AND last_seen_ms >= ?21");
    if (fl->entity)
        hm_buf_puts(sql, " AND (lower(entity) GLOB lower(?22) OR "
                         "lower(substr(entity, instr(entity, ':') + 1)) GLOB lower(?22))");
    if (fl->student) hm_buf_puts(sql, " AND student_data = 1");
}

static void bind_filters(sqlite3_stmt *q, const filters *fl) {
    for (int i = 0; i < fl->n_status; i++)
        sqlite3_bind_text(q, 10 + i, fl->statuses[i], -1, SQLITE_STATIC);
    if (fl->min_rank > 0) sqlite3_bind_int(q, 20, fl->min_rank);
    if (fl->has_since) sqlite3_bind_int64(q, 21, fl->since_ms);
    if (fl->entity) {
        /* GLOB wildcards are the user's; [ is escaped so it matches itself */
        hm_buf g = {0};
        for (const char *c = fl->entity; *c; c++) {
            if (*c == '[')
                hm_buf_puts(&g, "[[]");
            else
                hm_buf_putc(&g, *c);
        }
        sqlite3_bind_text(q, 22, g.p, (int)g.len, SQLITE_TRANSIENT);
        hm_buf_free(&g);
    }
}

#define HISTORY_JSON                                                                               \
    "(SELECT json_group_array(json_object('at', at, 'who', who, 'action', action, 'old_status', "  \
    "old_status, 'new_status', new_status, 'note', note)) FROM (SELECT * FROM incident_history h " \
    "WHERE h.incident_id = incidents.id ORDER BY h.id))"

static const char *const LIST_COLS =
    "SELECT id, priority, coalesce(priority_rank, -1), score, status, entity, alert_count, "
    "first_seen, last_seen, student_data, "
    "coalesce(json_extract(json, '$.title'), json_extract(rules, '$[0].title'), "
    "json_extract(rules, '$[0]'), ''), "
    "(SELECT group_concat(CASE WHEN type = 'object' THEN json_extract(value, '$.title') ELSE value "
    "END, '; ') FROM json_each(incidents.rules)), "
    "updated_at, json, score_breakdown, " HISTORY_JSON ", "
    /* export: the engine's object with the analysts' status and the history */
    "CASE WHEN json_valid(json) THEN json_set(json, '$.engine_status', json_extract(json, "
    "'$.status'), '$.status', status, '$.updated_at', updated_at, '$.history', "
    "json(" HISTORY_JSON ")) ELSE json_object('id', id, 'status', status) END "
    "FROM incidents";

enum {
    C_ID,
    C_PRIO,
    C_RANK,
    C_SCORE,
    C_STATUS,
    C_ENTITY,
    C_COUNT,
    C_FIRST,
    C_LAST,
    C_SD,
    C_TITLE,
    C_RULES,
    C_UPDATED,
    C_JSON,
    C_BREAKDOWN,
    C_HISTORY,
    C_EXPORT
};

static const char *prio_short(int rank) {
    static const char *const S[5] = {"INFO", "LOW", "MED", "HIGH", "CRIT"};
    return rank >= 0 && rank <= 4 ? S[rank] : "?";
}

static void put_csv(FILE *f, const char *s, bool text) {
    if (!s) s = "";
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    /* a cell a spreadsheet would run as a formula is prefixed with ' */
    bool formula = text && strchr("=+-@\t\r", s[0]) && s[0];
    if (formula) quote = true;
    if (quote) fputc('"', f);
    if (formula) fputc('\'', f);
    for (const char *c = s; *c; c++) {
        if (*c == '"') fputc('"', f);
        fputc(*c, f);
    }
    if (quote) fputc('"', f);
}

static void json_str(FILE *f, const char *s) {
    hm_buf b = {0};
    hm_buf_put_json_str(&b, hm_str_c(s ? s : ""));
    fwrite(b.p, 1, b.len, f);
    hm_buf_free(&b);
}

static int cmd_list(int argc, char **argv, bool export) {
    const char *db_path = NULL, *format = export ? "csv" : "table", *out_path = NULL;
    filters fl = {0};
    long limit = -1;
    if (!export) parse_status("active", &fl);
    enum {
        O_DB = 1000,
        O_STATUS,
        O_MIN,
        O_SINCE,
        O_ENTITY,
        O_FORMAT,
        O_LIMIT,
        O_OUT,
        O_SD,
        O_HELP
    };
    static const struct option lo[] = {
        {"db", required_argument, 0, O_DB},
        {"status", required_argument, 0, O_STATUS},
        {"min-priority", required_argument, 0, O_MIN},
        {"since", required_argument, 0, O_SINCE},
        {"entity", required_argument, 0, O_ENTITY},
        {"format", required_argument, 0, O_FORMAT},
        {"limit", required_argument, 0, O_LIMIT},
        {"out", required_argument, 0, O_OUT},
        {"student-data", no_argument, 0, O_SD},
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case O_DB:
            db_path = optarg;
            break;
        case O_STATUS:
            if (parse_status(optarg, &fl)) return 2;
            break;
        case O_MIN:
            fl.min_rank = hm_priority_rank(optarg);
            if (fl.min_rank < 0) {
                fprintf(stderr,
                        "hallmonitor incidents: --min-priority %s: expected critical, high, "
                        "medium, low or info\n",
                        optarg);
                return 2;
            }
            break;
        case O_SINCE:
            if (parse_since(optarg, &fl)) return 2;
            break;
        case O_ENTITY:
            fl.entity = optarg;
            break;
        case O_FORMAT:
            format = optarg;
            break;
        case O_LIMIT: {
            char *end;
            limit = strtol(optarg, &end, 10);
            if (*end || limit < 0) {
                fprintf(stderr, "hallmonitor incidents: --limit %s: expected a number >= 0\n",
                        optarg);
                return 2;
            }
            break;
        }
        case O_OUT:
            if (!export) goto bad;
            out_path = optarg;
            break;
        case O_SD:
            fl.student = true;
            break;
        case 'h':
        case O_HELP:
            list_usage(stdout, export);
            return 0;
        default:
        bad:
            fprintf(stderr, "hallmonitor incidents %s: unknown or incomplete option '%s'\n\n",
                    export ? "export" : "list", argv[optind - 1]);
            list_usage(stderr, export);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hallmonitor incidents %s: unexpected argument '%s'\n",
                export ? "export" : "list", argv[optind]);
        return 2;
    }
    if (!db_path) {
        fprintf(stderr, "hallmonitor incidents %s: --db PATH is required\n\n",
                export ? "export" : "list");
        list_usage(stderr, export);
        return 2;
    }
    bool table = !strcmp(format, "table"), json = !strcmp(format, "json"),
         csv = !strcmp(format, "csv");
    if ((export && !json && !csv) || (!export && !table && !json)) {
        fprintf(stderr, "hallmonitor incidents %s: --format %s: expected %s\n",
                export ? "export" : "list", format, export ? "csv or json" : "table or json");
        return 2;
    }
    if (limit < 0) limit = table ? 50 : 0;
    sqlite3 *db = open_db(db_path, false);
    if (!db) return 2;
    hm_buf sql = {0};
    hm_buf_puts(&sql, LIST_COLS);
    where_clause(&sql, &fl);
    hm_buf_puts(&sql, " ORDER BY coalesce(priority_rank, -1) DESC, last_seen_ms DESC, id");
    hm_buf_putc(&sql, 0);
    sqlite3_stmt *q = NULL;
    int rc = 2;
    FILE *out = stdout;
    if (sqlite3_prepare_v2(db, sql.p, -1, &q, NULL) != SQLITE_OK) {
        rc = db_fail(db, db_path, "query failed");
        goto done;
    }
    bind_filters(q, &fl);
    if (out_path && !(out = fopen(out_path, "w"))) {
        fprintf(stderr, "hallmonitor incidents export: --out %s: %s\n", out_path, strerror(errno));
        out = stdout;
        goto done;
    }
    if (table) setup_terminal(out);
    size_t n = 0, shown = 0, by_rank[5] = {0};
    int step;
    if (table) {
        color_on(out, "\033[1m");
        fprintf(out, "%-4s %5s %-23s %-8s %6s %-11s %-2s ", "PRIO", "SCORE", "ID", "STATUS",
                "ALERTS", "LAST (UTC)", "SD");
        fputs("ENTITY / TITLE", out);
        color_off(out);
        fputc('\n', out);
    } else if (csv) {
        fputs("id,priority,score,status,entity,title,first_seen,last_seen,alert_count,student_data,"
              "rules,updated_at\n",
              out);
    } else {
        fputs("[", out);
    }
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        n++;
        int rank = sqlite3_column_int(q, C_RANK);
        if (rank >= 0 && rank <= 4) by_rank[rank]++;
        if (limit && shown >= (size_t)limit) continue;
        shown++;
        char score[32];
        snprintf(score, sizeof score, "%.0f", sqlite3_column_double(q, C_SCORE));
        if (table) {
            color_on(out, prio_color(rank));
            fprintf(out, "%-4s", prio_short(rank));
            color_off(out);
            fprintf(out, " %5s ", score);
            put_cell(out, col_text(q, C_ID), 23, false);
            fputc(' ', out);
            put_cell(out, status_word(col_text(q, C_STATUS)), 8, false);
            fprintf(out, " %6d ", sqlite3_column_int(q, C_COUNT));
            char ts[32];
            short_time(col_text(q, C_LAST), ts, sizeof ts, 5, 11);
            put_cell(out, ts, 11, false);
            fputc(' ', out);
            if (sqlite3_column_int(q, C_SD)) {
                color_on(out, "\033[35m");
                fputs("SD", out);
                color_off(out);
            } else {
                fputs("  ", out);
            }
            fputc(' ', out);
            /* entity, then the title in what is left of the line */
            size_t room = (size_t)g_width - 66;
            const char *ent = col_text(q, C_ENTITY), *title = col_text(q, C_TITLE);
            size_t ew = text_cols(ent, strlen(ent)), tw = text_cols(title, strlen(title));
            if (*title && ew + 2 + tw > room) { /* share the room */
                /* the entity in full when it leaves 10 columns for the title */
                size_t keep = room > 12 ? room - 12 : room / 2;
                size_t fit = room > tw + 2 ? room - 2 - tw : 0;
                size_t cap = fit > keep ? fit : keep;
                if (ew > cap) ew = cap;
            }
            size_t used = put_safe(out, ent, strlen(ent), ew);
            if (*title && used + 2 < room) {
                fputs("  ", out);
                color_on(out, "\033[2m");
                put_safe(out, title, strlen(title), room - used - 2);
                color_off(out);
            }
            fputc('\n', out);
        } else if (csv) {
            put_csv(out, col_text(q, C_ID), true);
            fputc(',', out);
            put_csv(out, col_text(q, C_PRIO), false);
            fputc(',', out);
            put_csv(out, score, false);
            fputc(',', out);
            put_csv(out, col_text(q, C_STATUS), false);
            fputc(',', out);
            put_csv(out, col_text(q, C_ENTITY), true);
            fputc(',', out);
            put_csv(out, col_text(q, C_TITLE), true);
            fputc(',', out);
            put_csv(out, col_text(q, C_FIRST), false);
            fputc(',', out);
            put_csv(out, col_text(q, C_LAST), false);
            fprintf(out, ",%d,%s,", sqlite3_column_int(q, C_COUNT),
                    sqlite3_column_int(q, C_SD) ? "true" : "false");
            put_csv(out, col_text(q, C_RULES), true);
            fputc(',', out);
            put_csv(out, col_text(q, C_UPDATED), false);
            fputc('\n', out);
        } else if (export) {
            /* the whole incident as the engine wrote it, with the analysts' status and history */
            fputs(shown > 1 ? ",\n" : "\n", out);
            fputs(col_text(q, C_EXPORT), out);
        } else {
            fputs(shown > 1 ? ",\n" : "\n", out);
            fputs("{\"id\":", out);
            json_str(out, col_text(q, C_ID));
            fputs(",\"priority\":", out);
            json_str(out, col_text(q, C_PRIO));
            fprintf(out, ",\"score\":%s,\"status\":", score);
            json_str(out, col_text(q, C_STATUS));
            fputs(",\"entity\":", out);
            json_str(out, col_text(q, C_ENTITY));
            fputs(",\"title\":", out);
            json_str(out, col_text(q, C_TITLE));
            fprintf(out, ",\"alert_count\":%d,\"student_data\":%s,\"first_seen\":",
                    sqlite3_column_int(q, C_COUNT), sqlite3_column_int(q, C_SD) ? "true" : "false");
            json_str(out, col_text(q, C_FIRST));
            fputs(",\"last_seen\":", out);
            json_str(out, col_text(q, C_LAST));
            fputs(",\"updated_at\":", out);
            json_str(out, col_text(q, C_UPDATED));
            fputs("}", out);
        }
    }
    if (step != SQLITE_DONE) {
        if (!table && !csv) fputs("]\n", out);
        rc = db_fail(db, db_path, "reading incidents failed");
        goto done;
    }
    if (table) {
        if (!n) {
            fprintf(out, "no incidents match%s\n",
                    fl.n_status == 2 ? " (open and acknowledged; --status all shows resolved too)"
                                     : "");
        } else {
            fprintf(out, "%zu incident%s", n, n == 1 ? "" : "s");
            const char *sep = ": ";
            for (int r = 4; r >= 0; r--)
                if (by_rank[r]) {
                    fprintf(out, "%s%zu %s", sep, by_rank[r], hm_priority_names[r]);
                    sep = ", ";
                }
            if (shown < n) fprintf(out, " (showing %zu; --limit 0 shows all)", shown);
            fputc('\n', out);
        }
    } else if (!csv) {
        fputs(shown ? "\n]\n" : "]\n", out);
    }
    rc = 0;
done:
    if (out != stdout && fclose(out) != 0) {
        fprintf(stderr, "hallmonitor incidents export: --out %s: %s\n", out_path, strerror(errno));
        rc = 2;
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    hm_buf_free(&sql);
    return rc;
}

/* ---- show ---- */

static void heading(FILE *f, const char *t) {
    fputc('\n', f);
    color_on(f, "\033[1m");
    fputs(t, f);
    color_off(f);
    fputc('\n', f);
}

static void kv(FILE *f, const char *k, const char *v) {
    fprintf(f, "  %-14s", k);
    put_wrapped(f, v && *v ? v : "-", 16, 16);
}

/* joins the string elements of a JSON array token */
static void join_array(hm_jl_doc *d, int arr, const char *sep, hm_buf *out) {
    out->len = 0;
    if (!hm_jl_is(d, arr, JSMN_ARRAY)) return;
    for (int i = 0; i < d->tok[arr].size; i++) {
        hm_str s = hm_jl_str(d, hm_jl_elem(d, arr, i));
        if (i) hm_buf_puts(out, sep);
        hm_buf_put(out, s.p, s.len);
    }
    hm_buf_putc(out, 0);
    out->len--;
}

static void breakdown_line(FILE *f, const char *name, int pts, const char *why) {
    fprintf(f, "  %-12s %+4d  ", name, pts);
    put_wrapped(f, why, 21, 21);
}

/* is s among the n NUL-separated strings of b? (one raw line matched by two rules) */
static bool has_line(const hm_buf *b, int n, const char *s) {
    const char *p = b->p;
    for (int i = 0; i < n; i++, p += strlen(p) + 1)
        if (!strcmp(p, s)) return true;
    return false;
}

static int cmd_show(int argc, char **argv) {
    const char *db_path = NULL, *format = "text";
    long max_alerts = 50;
    enum { O_DB = 1000, O_FORMAT, O_ALERTS, O_HELP };
    static const struct option lo[] = {
        {"db", required_argument, 0, O_DB},
        {"format", required_argument, 0, O_FORMAT},
        {"alerts", required_argument, 0, O_ALERTS},
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case O_DB:
            db_path = optarg;
            break;
        case O_FORMAT:
            format = optarg;
            break;
        case O_ALERTS:
            max_alerts = atol(optarg);
            break;
        case 'h':
        case O_HELP:
            show_usage(stdout);
            return 0;
        default:
            fprintf(stderr, "hallmonitor incidents show: unknown or incomplete option '%s'\n\n",
                    argv[optind - 1]);
            show_usage(stderr);
            return 2;
        }
    }
    if (optind + 1 != argc || !db_path) {
        fprintf(stderr, "hallmonitor incidents show: %s\n\n",
                !db_path ? "--db PATH is required" : "expected exactly one incident ID");
        show_usage(stderr);
        return 2;
    }
    bool json = !strcmp(format, "json");
    if (!json && strcmp(format, "text")) {
        fprintf(stderr, "hallmonitor incidents show: --format %s: expected text or json\n", format);
        return 2;
    }
    if (max_alerts < 1) max_alerts = 1;
    sqlite3 *db = open_db(db_path, false);
    if (!db) return 2;
    char id[256];
    int rc = resolve_id(db, db_path, argv[optind], id, sizeof id);
    if (rc) {
        sqlite3_close(db);
        return rc;
    }
    sqlite3_stmt *q = NULL, *h = NULL, *al = NULL;
    hm_buf sql = {0}, tmp = {0};
    hm_jl_doc doc;
    hm_jl_init(&doc);
    hm_buf_puts(&sql, LIST_COLS);
    hm_buf_puts(&sql, " WHERE id = ?1");
    hm_buf_putc(&sql, 0);
    rc = 2;
    if (sqlite3_prepare_v2(db, sql.p, -1, &q, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(
            db,
            "SELECT at, who, action, coalesce(old_status, ''), coalesce(new_status, ''), "
            "coalesce(note, '') FROM incident_history WHERE incident_id = ?1 ORDER BY id",
            -1, &h, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(
            db,
            "SELECT time, rule_id, coalesce(rule_title, rule_id), coalesce(rule_level, ''), "
            "fields, group_by, json_extract(evidence, '$.raw'), json, "
            "(SELECT count(*) FROM alerts a2 WHERE a2.incident_id = ?1) "
            "FROM alerts WHERE incident_id = ?1 ORDER BY time_ms, id LIMIT ?2",
            -1, &al, NULL) != SQLITE_OK) {
        rc = db_fail(db, db_path, "query failed");
        goto done;
    }
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(h, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(al, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(al, 2, max_alerts);
    if (sqlite3_step(q) != SQLITE_ROW) {
        rc = db_fail(db, db_path, "reading the incident failed");
        goto done;
    }
    FILE *f = stdout;
    if (json) {
        fputs("{\"incident\":", f);
        const char *j = col_text(q, C_JSON);
        fputs(*j ? j : "null", f);
        fputs(",\"status\":", f);
        json_str(f, col_text(q, C_STATUS));
        fputs(",\"updated_at\":", f);
        json_str(f, col_text(q, C_UPDATED));
        fprintf(f, ",\"history\":%s,\"alerts\":[",
                *col_text(q, C_HISTORY) ? col_text(q, C_HISTORY) : "[]");
        int n = 0, st;
        while ((st = sqlite3_step(al)) == SQLITE_ROW) {
            fputs(n++ ? "," : "", f);
            fputs(col_text(al, 7), f);
        }
        fputs("]}\n", f);
        rc = st == SQLITE_DONE ? 0 : db_fail(db, db_path, "reading alerts failed");
        goto done;
    }
    setup_terminal(f);
    const char *j = col_text(q, C_JSON);
    bool parsed = hm_jl_parse(&doc, j, strlen(j)) == 0;
    int rank = sqlite3_column_int(q, C_RANK);
    /* header */
    color_on(f, "\033[1m");
    put_safe(f, id, strlen(id), 60);
    color_off(f);
    fputs("  ", f);
    color_on(f, prio_color(rank));
    fprintf(f, "%s", rank >= 0 ? hm_priority_names[rank] : col_text(q, C_PRIO));
    color_off(f);
    fprintf(f, "  score %.0f  status %s\n", sqlite3_column_double(q, C_SCORE),
            col_text(q, C_STATUS));
    put_wrapped(f, col_text(q, C_TITLE), 0, 0);
    fputc('\n', f);
    kv(f, "Entity", col_text(q, C_ENTITY));
    kv(f, "First seen", col_text(q, C_FIRST));
    kv(f, "Last seen", col_text(q, C_LAST));
    int64_t supp = 0;
    if (parsed) hm_jl_i64(&doc, hm_jl_get(&doc, 0, "suppressed_count"), &supp);
    char buf[512];
    snprintf(buf, sizeof buf, "%d%s", sqlite3_column_int(q, C_COUNT), "");
    if (supp)
        snprintf(buf, sizeof buf, "%d (and %lld suppressed)", sqlite3_column_int(q, C_COUNT),
                 (long long)supp);
    kv(f, "Alerts", buf);
    if (sqlite3_column_int(q, C_SD)) {
        hm_buf_puts(&tmp, "");
        if (parsed) join_array(&doc, hm_jl_get(&doc, 0, "student_data_reasons"), "; ", &tmp);
        snprintf(buf, sizeof buf, "YES%s%.*s", tmp.len ? ": " : "", (int)tmp.len,
                 tmp.p ? tmp.p : "");
        color_on(f, "\033[35m");
        kv(f, "Student data", buf);
        color_off(f);
    } else {
        kv(f, "Student data", "no");
    }
    if (parsed) {
        int as = hm_jl_get(&doc, 0, "assets");
        tmp.len = 0;
        for (int i = 0; hm_jl_is(&doc, as, JSMN_ARRAY) && i < doc.tok[as].size; i++) {
            int e = hm_jl_elem(&doc, as, i);
            hm_str nm = hm_jl_str_at(&doc, e, "name"), cr = hm_jl_str_at(&doc, e, "criticality");
            hm_buf_printf(&tmp, "%s%.*s (%.*s)", i ? "; " : "", (int)nm.len, nm.p, (int)cr.len,
                          cr.p);
        }
        hm_buf_putc(&tmp, 0);
        if (tmp.len > 1) kv(f, "Assets", tmp.p);
        join_array(&doc, hm_jl_get(&doc, 0, "tactics"), ", ", &tmp);
        if (tmp.len) kv(f, "ATT&CK", tmp.p);
        join_array(&doc, hm_jl_get(&doc, 0, "techniques"), ", ", &tmp);
        if (tmp.len) kv(f, "Techniques", tmp.p);
    }
    /* score breakdown */
    if (parsed && hm_jl_is(&doc, hm_jl_get(&doc, 0, "score_breakdown"), JSMN_OBJECT)) {
        int bd = hm_jl_get(&doc, 0, "score_breakdown");
        int64_t lv = 0, cr = 0, rk = 0, at = 0, tot = 0, nt = 0, nr = 0, na = 0, hz = 0, cap = 0;
        double er = 0;
        hm_jl_i64(&doc, hm_jl_get(&doc, bd, "level.points"), &lv);
        hm_jl_i64(&doc, hm_jl_get(&doc, bd, "criticality.points"), &cr);
        hm_jl_i64(&doc, hm_jl_get(&doc, bd, "risk.points"), &rk);
        hm_jl_i64(&doc, hm_jl_get(&doc, bd, "attack.points"), &at);
        hm_jl_i64(&doc, hm_jl_get(&doc, bd, "total"), &tot);
        hm_jl_i64(&doc, hm_jl_get(&doc, bd, "attack.tactics"), &nt);
        hm_jl_i64(&doc, hm_jl_get(&doc, bd, "risk.rules"), &nr);
        hm_jl_i64(&doc, hm_jl_get(&doc, bd, "risk.alerts"), &na);
        hm_jl_i64(&doc, hm_jl_get(&doc, bd, "risk.horizon_s"), &hz);
        hm_jl_i64(&doc, hm_jl_get(&doc, bd, "risk.cap"), &cap);
        hm_jl_num(&doc, hm_jl_get(&doc, bd, "risk.entity_risk"), &er);
        snprintf(buf, sizeof buf,
                 "Score %lld = level %lld %+lld criticality %+lld risk %+lld ATT&CK",
                 (long long)tot, (long long)lv, (long long)cr, (long long)rk, (long long)at);
        heading(f, buf);
        snprintf(buf, sizeof buf, "highest rule level: %s", hm_jl_cstr_at(&doc, bd, "level.level"));
        breakdown_line(f, "level", (int)lv, buf);
        const char *asset = hm_jl_cstr_at(&doc, bd, "criticality.asset");
        if (*asset)
            snprintf(buf, sizeof buf, "%s: %s (%s)",
                     hm_jl_cstr_at(&doc, bd, "criticality.criticality"), asset,
                     hm_jl_cstr_at(&doc, bd, "criticality.matched"));
        else
            snprintf(buf, sizeof buf, "no inventory entry matched (default)");
        const char *cnote = hm_jl_cstr_at(&doc, bd, "criticality.note");
        if (*cnote) snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "; %s", cnote);
        breakdown_line(f, "criticality", (int)cr, buf);
        snprintf(buf, sizeof buf,
                 "entity risk %.1f from %lld rule(s), %lld alert(s) in the last %lldh; counts "
                 "beyond the top alert, capped at %lld",
                 er, (long long)nr, (long long)na, (long long)(hz / 3600), (long long)cap);
        breakdown_line(f, "risk", (int)rk, buf);
        snprintf(buf, sizeof buf, "%lld distinct ATT&CK tactic(s)", (long long)nt);
        breakdown_line(f, "ATT&CK", (int)at, buf);
        const char *note = hm_jl_cstr_at(&doc, bd, "note");
        snprintf(buf, sizeof buf, "-> %s%s%s", hm_priority_names[rank >= 0 ? rank : 0],
                 *note ? "; " : "", note);
        breakdown_line(f, "total", (int)tot, buf);
    }
    /* rules */
    if (parsed) {
        int rules = hm_jl_get(&doc, 0, "rules");
        if (hm_jl_is(&doc, rules, JSMN_ARRAY) && doc.tok[rules].size) {
            heading(f, "Rules");
            for (int i = 0; i < doc.tok[rules].size; i++) {
                int e = hm_jl_elem(&doc, rules, i);
                if (!hm_jl_is(&doc, e, JSMN_OBJECT)) continue;
                int64_t cnt = 0;
                hm_jl_i64(&doc, hm_jl_get(&doc, e, "count"), &cnt);
                fprintf(f, "  %-13s x%-5lld ", hm_jl_cstr_at(&doc, e, "level"), (long long)cnt);
                snprintf(buf, sizeof buf, "%s (%s)", hm_jl_cstr_at(&doc, e, "title"),
                         hm_jl_cstr_at(&doc, e, "id"));
                put_wrapped(f, buf, 23, 23);
            }
        }
    }
    /* timeline: the stored alerts of the incident, else the evidence the incident carries */
    hm_buf raws = {0};
    int nraw = 0, st, shown = 0;
    int64_t total = 0;
    while ((st = sqlite3_step(al)) == SQLITE_ROW) {
        if (!shown) heading(f, "Timeline");
        shown++;
        total = sqlite3_column_int64(al, 8);
        char ts[32];
        short_time(col_text(al, 0), ts, sizeof ts, 0, 19);
        fprintf(f, "  %s  %-8.8s ", ts, col_text(al, 3));
        /* summary from the alert's fields or group */
        tmp.len = 0;
        hm_buf_printf(&tmp, "%s", col_text(al, 2));
        const char *fj =
            sqlite3_column_type(al, 4) != SQLITE_NULL ? col_text(al, 4) : col_text(al, 5);
        hm_jl_doc fd;
        hm_jl_init(&fd);
        if (*fj && hm_jl_parse(&fd, fj, strlen(fj)) == 0) {
            static const char *const keys[] = {"user",    "src_ip",  "dst_ip", "host",
                                               "door_id", "site",    "badge",  "visitor",
                                               "event",   "student", "report", "row_count"};
            const char *sep = " -";
            for (size_t k = 0; k < HM_ARRAY_LEN(keys); k++) {
                hm_str v = hm_jl_str_at(&fd, 0, keys[k]);
                if (!v.len) continue;
                hm_buf_printf(&tmp, "%s %s=%.*s", sep, keys[k], (int)(v.len > 60 ? 60 : v.len),
                              v.p);
                sep = "";
            }
        }
        hm_jl_free(&fd);
        hm_buf_putc(&tmp, 0);
        put_wrapped(f, tmp.p, 32, 32);
        const char *raw = col_text(al, 6);
        if (*raw && nraw < 10 && !has_line(&raws, nraw, raw)) {
            hm_buf_puts(&raws, raw);
            hm_buf_putc(&raws, 0);
            nraw++;
        }
    }
    if (st != SQLITE_DONE) {
        hm_buf_free(&raws);
        rc = db_fail(db, db_path, "reading alerts failed");
        goto done;
    }
    if (shown && total > shown)
        fprintf(f, "  ... %lld alerts in all (--alerts N shows more)\n", (long long)total);
    if (!shown && parsed) {
        int ev = hm_jl_get(&doc, 0, "evidence.alerts");
        if (hm_jl_is(&doc, ev, JSMN_ARRAY) && doc.tok[ev].size) {
            heading(f, "Timeline (evidence kept with the incident)");
            for (int i = 0; i < doc.tok[ev].size; i++) {
                int e = hm_jl_elem(&doc, ev, i);
                char ts[32];
                short_time(hm_jl_cstr_at(&doc, e, "time"), ts, sizeof ts, 0, 19);
                fprintf(f, "  %s  %-8.8s ", ts, hm_jl_cstr_at(&doc, e, "level"));
                snprintf(buf, sizeof buf, "%s - %s", hm_jl_cstr_at(&doc, e, "title"),
                         hm_jl_cstr_at(&doc, e, "summary"));
                put_wrapped(f, buf, 32, 32);
                const char *raw = hm_jl_cstr_at(&doc, e, "raw");
                if (*raw && nraw < 10 && !has_line(&raws, nraw, raw)) {
                    hm_buf_puts(&raws, raw);
                    hm_buf_putc(&raws, 0);
                    nraw++;
                }
            }
            int64_t om = 0;
            hm_jl_i64(&doc, hm_jl_get(&doc, 0, "evidence.omitted"), &om);
            if (om) fprintf(f, "  ... %lld more alerts not kept as evidence\n", (long long)om);
        }
    }
    if (nraw) {
        heading(f, "Evidence lines");
        const char *p = raws.p;
        for (int i = 0; i < nraw; i++) {
            fputs("  ", f);
            put_wrapped(f, p, 4, 2);
            p += strlen(p) + 1;
        }
    }
    hm_buf_free(&raws);
    if (parsed) {
        int ns = hm_jl_get(&doc, 0, "next_steps");
        if (hm_jl_is(&doc, ns, JSMN_ARRAY) && doc.tok[ns].size) {
            heading(f, "Next steps");
            for (int i = 0; i < doc.tok[ns].size; i++) {
                hm_str s = hm_jl_str(&doc, hm_jl_elem(&doc, ns, i));
                fprintf(f, "  %d. ", i + 1);
                tmp.len = 0;
                hm_buf_put(&tmp, s.p, s.len);
                hm_buf_putc(&tmp, 0);
                put_wrapped(f, tmp.p, 5, 5);
            }
        }
    }
    heading(f, "History");
    while ((st = sqlite3_step(h)) == SQLITE_ROW) {
        char ts[32];
        short_time(col_text(h, 0), ts, sizeof ts, 0, 19);
        fprintf(f, "  %s  ", ts);
        put_cell(f, col_text(h, 1), 12, false);
        fprintf(f, " %-8s ", col_text(h, 2));
        tmp.len = 0;
        hm_buf_printf(&tmp, "%s -> %s", col_text(h, 3), col_text(h, 4));
        if (*col_text(h, 5)) hm_buf_printf(&tmp, "  \"%s\"", col_text(h, 5));
        hm_buf_putc(&tmp, 0);
        put_wrapped(f, tmp.p, 46, 46);
    }
    rc = st == SQLITE_DONE ? 0 : db_fail(db, db_path, "reading the history failed");
done:
    sqlite3_finalize(q);
    sqlite3_finalize(h);
    sqlite3_finalize(al);
    sqlite3_close(db);
    hm_buf_free(&sql);
    hm_buf_free(&tmp);
    hm_jl_free(&doc);
    return rc;
}

/* ---- ack / resolve / reopen / note ---- */

static const char *default_user(void) {
    const char *u = getenv("USER");
    if (u && *u) return u;
    struct passwd *pw = getpwuid(getuid());
    return pw && pw->pw_name ? pw->pw_name : "unknown";
}

static int cmd_action(const char *act, int argc, char **argv) {
    const char *db_path = NULL, *note = NULL, *by = NULL;
    enum { O_DB = 1000, O_NOTE, O_BY, O_HELP };
    static const struct option lo[] = {
        {"db", required_argument, 0, O_DB},
        {"note", required_argument, 0, O_NOTE},
        {"by", required_argument, 0, O_BY},
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "hm:", lo, NULL)) != -1) {
        switch (c) {
        case O_DB:
            db_path = optarg;
            break;
        case 'm':
        case O_NOTE:
            note = optarg;
            break;
        case O_BY:
            by = optarg;
            break;
        case 'h':
        case O_HELP:
            action_usage(stdout, act);
            return 0;
        default:
            fprintf(stderr, "hallmonitor incidents %s: unknown or incomplete option '%s'\n\n", act,
                    argv[optind - 1]);
            action_usage(stderr, act);
            return 2;
        }
    }
    if (optind + 1 != argc || !db_path || (!strcmp(act, "note") && (!note || !*note))) {
        fprintf(stderr, "hallmonitor incidents %s: %s\n\n", act,
                !db_path             ? "--db PATH is required"
                : optind + 1 != argc ? "expected exactly one incident ID"
                                     : "--note TEXT is required");
        action_usage(stderr, act);
        return 2;
    }
    if (!by || !*by) by = default_user();
    sqlite3 *db = open_db(db_path, true);
    if (!db) return 2;
    char id[256];
    int rc = resolve_id(db, db_path, argv[optind], id, sizeof id);
    if (rc) {
        sqlite3_close(db);
        return rc;
    }
    sqlite3_stmt *g = NULL, *u = NULL, *h = NULL;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_fail(db, db_path, "cannot lock the database for writing");
        sqlite3_close(db);
        return rc;
    }
    rc = 2;
    if (sqlite3_prepare_v2(db, "SELECT status FROM incidents WHERE id = ?1", -1, &g, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db, "UPDATE incidents SET status = ?2, updated_at = ?3 WHERE id = ?1",
                           -1, &u, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(
            db,
            "INSERT INTO incident_history (incident_id, at, who, action, old_status, "
            "new_status, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            -1, &h, NULL) != SQLITE_OK) {
        rc = db_fail(db, db_path, "the database does not match the triage store schema");
        goto rollback;
    }
    sqlite3_bind_text(g, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(g) != SQLITE_ROW) {
        rc = db_fail(db, db_path, "reading the incident failed");
        goto rollback;
    }
    char old[32];
    snprintf(old, sizeof old, "%s", col_text(g, 0));
    const char *target = !strcmp(act, "ack")       ? "acknowledged"
                         : !strcmp(act, "resolve") ? "resolved"
                         : !strcmp(act, "reopen")  ? "open"
                                                   : old;
    if (strcmp(act, "note")) {
        if (!strcmp(old, target)) {
            printf("%s is already %s; nothing changed\n", id, target);
            rc = 0;
            goto rollback;
        }
        if (!strcmp(act, "ack") && !strcmp(old, "resolved")) {
            fprintf(stderr,
                    "hallmonitor incidents ack: %s is resolved; reopen it first "
                    "(hallmonitor incidents reopen)\n",
                    id);
            rc = 1;
            goto rollback;
        }
    }
    char now[64];
    now_iso(now);
    if (strcmp(act, "note")) {
        sqlite3_bind_text(u, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(u, 2, target, -1, SQLITE_STATIC);
        sqlite3_bind_text(u, 3, now, -1, SQLITE_STATIC);
        if (sqlite3_step(u) != SQLITE_DONE) {
            rc = db_fail(db, db_path, "updating the incident failed");
            goto rollback;
        }
    }
    sqlite3_bind_text(h, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(h, 2, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(h, 3, by, -1, SQLITE_STATIC);
    sqlite3_bind_text(h, 4, act, -1, SQLITE_STATIC);
    sqlite3_bind_text(h, 5, old, -1, SQLITE_STATIC);
    sqlite3_bind_text(h, 6, target, -1, SQLITE_STATIC);
    if (note && *note) sqlite3_bind_text(h, 7, note, -1, SQLITE_STATIC);
    if (sqlite3_step(h) != SQLITE_DONE) {
        rc = db_fail(db, db_path, "writing the history failed");
        goto rollback;
    }
    sqlite3_finalize(g);
    sqlite3_finalize(u);
    sqlite3_finalize(h);
    g = u = h = NULL;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_fail(db, db_path, "commit failed");
        goto rollback;
    }
    if (!strcmp(act, "note"))
        printf("%s: note added by %s\n", id, by);
    else
        printf("%s: %s -> %s by %s\n", id, old, target, by);
    sqlite3_close(db);
    return 0;
rollback:
    sqlite3_finalize(g);
    sqlite3_finalize(u);
    sqlite3_finalize(h);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

int hm_cmd_incidents(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        usage(stdout);
        return 0;
    }
    /* argv + 1: the subcommand is argv[0] for getopt */
    if (!strcmp(sub, "list")) return cmd_list(argc - 1, argv + 1, false);
    if (!strcmp(sub, "export")) return cmd_list(argc - 1, argv + 1, true);
    if (!strcmp(sub, "show")) return cmd_show(argc - 1, argv + 1);
    if (!strcmp(sub, "ack") || !strcmp(sub, "resolve") || !strcmp(sub, "reopen") ||
        !strcmp(sub, "note"))
        return cmd_action(sub, argc - 1, argv + 1);
    fprintf(stderr, "hallmonitor incidents: unknown command '%s'\n\n", sub);
    usage(stderr);
    return 2;
}
