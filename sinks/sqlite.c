/* sqlite.c - the triage store: `sqlite:PATH[?events=1&busy_timeout=5s&sync=full|normal]`.
 *
 * Alerts and incidents go into tables the `incidents` and `serve` commands read (schema in
 * docs/triage-store.md). One transaction per write() call (a whole batch): a busy database,
 * an I/O error or a full disk rolls it back and returns HM_ERETRY, so the retried batch
 * starts clean. Replays are harmless: an alert is unique on (rule id, event ids) and an
 * incident on its id (newer updates replace older ones; an older update is skipped). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sqlite3.h>

#include "json_lines.h"
#include "sink.h"
#include "timeutil.h"

#define SCHEMA_VERSION 1

static const char *const SCHEMA_SQL =
    "CREATE TABLE IF NOT EXISTS schema_version (\n"
    "  version    INTEGER NOT NULL,\n"
    "  applied_at TEXT NOT NULL\n"
    ");\n"
    "CREATE TABLE IF NOT EXISTS alerts (\n"
    "  id          INTEGER PRIMARY KEY,\n"
    "  rule_id     TEXT NOT NULL,\n"
    "  rule_title  TEXT,\n"
    "  rule_level  TEXT,\n"
    "  level_rank  INTEGER,\n"
    "  rule_tags   TEXT NOT NULL DEFAULT '[]',\n"
    "  time        TEXT,\n"
    "  time_ms     INTEGER,\n"
    "  event_ids   TEXT NOT NULL,\n"
    "  group_by    TEXT,\n"
    "  fields      TEXT,\n"
    "  evidence    TEXT,\n"
    "  incident_id TEXT,\n"
    "  json        TEXT NOT NULL,\n"
    "  inserted_at TEXT NOT NULL,\n"
    "  UNIQUE (rule_id, event_ids)\n"
    ");\n"
    "CREATE INDEX IF NOT EXISTS alerts_time ON alerts(time_ms);\n"
    "CREATE INDEX IF NOT EXISTS alerts_rule ON alerts(rule_id, time_ms);\n"
    "CREATE INDEX IF NOT EXISTS alerts_incident ON alerts(incident_id) WHERE incident_id IS NOT "
    "NULL;\n"
    "CREATE TABLE IF NOT EXISTS incidents (\n"
    "  id              TEXT PRIMARY KEY,\n"
    "  priority        TEXT,\n"
    "  priority_rank   INTEGER,\n"
    "  score           REAL,\n"
    "  score_breakdown TEXT,\n"
    "  entity          TEXT,\n"
    "  entity_json     TEXT,\n"
    "  first_seen      TEXT,\n"
    "  first_seen_ms   INTEGER,\n"
    "  last_seen       TEXT,\n"
    "  last_seen_ms    INTEGER,\n"
    "  alert_count     INTEGER NOT NULL DEFAULT 0,\n"
    "  rules           TEXT NOT NULL DEFAULT '[]',\n"
    "  student_data    INTEGER NOT NULL DEFAULT 0,\n"
    "  status          TEXT NOT NULL DEFAULT 'open',\n"
    "  engine_status   TEXT,\n"
    "  evidence        TEXT,\n"
    "  json            TEXT NOT NULL,\n"
    "  created_at      TEXT NOT NULL,\n"
    "  updated_at      TEXT NOT NULL,\n"
    "  updates         INTEGER NOT NULL DEFAULT 1\n"
    ");\n"
    "CREATE INDEX IF NOT EXISTS incidents_status ON incidents(status, priority_rank DESC, "
    "last_seen_ms DESC);\n"
    "CREATE INDEX IF NOT EXISTS incidents_priority ON incidents(priority_rank DESC, last_seen_ms "
    "DESC);\n"
    "CREATE INDEX IF NOT EXISTS incidents_last_seen ON incidents(last_seen_ms DESC);\n"
    "CREATE INDEX IF NOT EXISTS incidents_entity ON incidents(entity, last_seen_ms DESC);\n"
    "CREATE TABLE IF NOT EXISTS incident_history (\n"
    "  id          INTEGER PRIMARY KEY,\n"
    "  incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,\n"
    "  at          TEXT NOT NULL,\n"
    "  who         TEXT NOT NULL,\n"
    "  action      TEXT NOT NULL,\n"
    "  old_status  TEXT,\n"
    "  new_status  TEXT,\n"
    "  note        TEXT\n"
    ");\n"
    "CREATE INDEX IF NOT EXISTS incident_history_incident ON incident_history(incident_id, id);\n"
    "CREATE TABLE IF NOT EXISTS events (\n"
    "  id      TEXT PRIMARY KEY,\n"
    "  time    TEXT,\n"
    "  time_ms INTEGER,\n"
    "  json    TEXT NOT NULL\n"
    ");\n"
    "CREATE INDEX IF NOT EXISTS events_time ON events(time_ms);\n";

enum { ST_ALERT, ST_INC_GET, ST_INC_INS, ST_INC_UPD, ST_HIST, ST_EVENT, ST_COUNT };

static const char *const STMT_SQL[ST_COUNT] = {
    [ST_ALERT] = "INSERT OR IGNORE INTO alerts (rule_id, rule_title, rule_level, level_rank, "
                 "rule_tags, time, time_ms, event_ids, group_by, fields, evidence, incident_id, "
                 "json, inserted_at) VALUES (?1,?2,?3,?4,coalesce(?5,'[]'),?6,?7,?8,?9,?10,?11,?12,"
                 "?13,?14)",
    [ST_INC_GET] = "SELECT status, alert_count, last_seen_ms FROM incidents WHERE id = ?1",
    [ST_INC_INS] = "INSERT INTO incidents (id, priority, priority_rank, score, score_breakdown, "
                   "entity, entity_json, first_seen, first_seen_ms, last_seen, last_seen_ms, "
                   "alert_count, rules, student_data, status, engine_status, evidence, json, "
                   "created_at, updated_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,"
                   "coalesce(?12,0),coalesce(?13,'[]'),coalesce(?14,0),coalesce(?15,'open'),?15,"
                   "?16,?17,?18,?18)",
    [ST_INC_UPD] = "UPDATE incidents SET priority = ?2, priority_rank = ?3, score = ?4, "
                   "score_breakdown = ?5, entity = ?6, entity_json = ?7, "
                   "first_seen = CASE WHEN first_seen_ms IS NULL OR ?9 < first_seen_ms THEN ?8 "
                   "ELSE first_seen END, "
                   "first_seen_ms = CASE WHEN first_seen_ms IS NULL OR ?9 < first_seen_ms THEN ?9 "
                   "ELSE first_seen_ms END, "
                   "last_seen = ?10, last_seen_ms = ?11, alert_count = coalesce(?12, alert_count), "
                   "rules = coalesce(?13, rules), student_data = max(student_data, "
                   "coalesce(?14, 0)), engine_status = ?15, evidence = coalesce(?16, evidence), "
                   "json = ?17, updated_at = ?18, updates = updates + 1, "
                   "status = coalesce(?19, status) WHERE id = ?1",
    [ST_HIST] = "INSERT INTO incident_history (incident_id, at, who, action, old_status, "
                "new_status, note) VALUES (?1,?2,'hallmonitor',?3,?4,?5,?6)",
    [ST_EVENT] = "INSERT OR IGNORE INTO events (id, time, time_ms, json) VALUES (?1,?2,?3,?4)",
};

typedef struct sqlite_state {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    char *path, *name; /* name: the URI for messages */
    bool store_events;
    hm_jl_doc doc;
    hm_buf scratch;
    bool down; /* a failure was logged; log the recovery */
    uint64_t failed_attempts;
    uint64_t alerts, alerts_dup, inc_new, inc_upd, inc_stale, inc_reopened, events, ignored,
        bad_lines;
} sqlite_state;

static void now_iso(char out[64]) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

static bool is_transient(int rc) {
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_NOMEM:
    case SQLITE_INTERRUPT:
        return true;
    default:
        return false;
    }
}

static int exec_sql(sqlite3 *db, const char *sql, char *err, size_t errlen, const char *name) {
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "--output %s: %s", name, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
    }
    return rc;
}

static void sqlite_close(void *state);

/* max(schema_version.version), 0 when the table is missing; -1 on error (err set) */
static int read_version(sqlite_state *st, char *err, size_t errlen) {
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(st->db,
                                "SELECT 1 FROM sqlite_master WHERE type='table' AND "
                                "name='schema_version'",
                                -1, &q, NULL);
    int have = 0, version = 0;
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(q);
        have = rc == SQLITE_ROW;
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) goto fail;
    if (!have) return 0;
    rc = sqlite3_prepare_v2(st->db, "SELECT max(version) FROM schema_version", -1, &q, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) version = sqlite3_column_int(q, 0);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) goto fail;
    return version;
fail:
    snprintf(err, errlen, "--output %s: cannot read the schema version: %s", st->name,
             sqlite3_errmsg(st->db));
    return -1;
}

static int setup_schema(sqlite_state *st, char *err, size_t errlen) {
    int version = read_version(st, err, errlen);
    if (version < 0) return SQLITE_ERROR;
    if (version == SCHEMA_VERSION) return SQLITE_OK; /* nothing to write: no lock needed */
    int rc = exec_sql(st->db, "BEGIN IMMEDIATE", err, errlen, st->name);
    if (rc != SQLITE_OK) return rc;
    version = read_version(st, err, errlen); /* again, under the write lock */
    if (version < 0) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return SQLITE_ERROR;
    }
    if (version > SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "--output %s: the database has schema version %d, newer than this hallmonitor "
                 "understands (%d)",
                 st->name, version, SCHEMA_VERSION);
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return SQLITE_ERROR;
    }
    rc = exec_sql(st->db, SCHEMA_SQL, err, errlen, st->name);
    if (rc == SQLITE_OK && version < SCHEMA_VERSION) {
        char now[64], sql[200];
        now_iso(now);
        snprintf(sql, sizeof sql,
                 "INSERT INTO schema_version (version, applied_at) VALUES (%d, '%s')",
                 SCHEMA_VERSION, now);
        rc = exec_sql(st->db, sql, err, errlen, st->name);
    }
    if (rc != SQLITE_OK) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    return exec_sql(st->db, "COMMIT", err, errlen, st->name);
}

static int sqlite_open(const char *uri, void **state, char *err, size_t errlen) {
    const char *p = uri + strlen("sqlite:");
    if (!strncmp(p, "//", 2)) p += 2; /* sqlite:///abs/path */
    const char *q = strchr(p, '?');
    size_t plen = q ? (size_t)(q - p) : strlen(p);
    if (plen == 0) {
        snprintf(err, errlen, "--output %s: expected sqlite:PATH", uri);
        return HM_EUSAGE;
    }
    sqlite_state *st = hm_xcalloc(1, sizeof(*st));
    st->name = hm_xstrdup(uri);
    st->path = hm_xstrndup(p, plen);
    hm_jl_init(&st->doc);
    int64_t busy_ns = 5000000000LL;
    bool sync_full = true;
    if (q) {
        const char *o = q + 1, *end = q + strlen(q);
        char key[64], val[256];
        while (hm_uriopt_next(&o, end, key, sizeof key, val, sizeof val)) {
            bool b;
            if (!strcmp(key, "events") && hm_parse_bool(val, &b)) {
                st->store_events = b;
            } else if (!strcmp(key, "busy_timeout") && hm_parse_duration_ns(val, &busy_ns) &&
                       busy_ns >= 0) {
            } else if (!strcmp(key, "sync") && (!strcmp(val, "full") || !strcmp(val, "normal"))) {
                sync_full = !strcmp(val, "full");
            } else {
                snprintf(err, errlen,
                         "--output %s: unknown or bad option '%s' (events=0|1, busy_timeout=5s, "
                         "sync=full|normal)",
                         uri, key);
                sqlite_close(st);
                return HM_EUSAGE;
            }
        }
    }
    int rc = sqlite3_open_v2(
        st->path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "--output %s: cannot open the database: %s", uri,
                 st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        sqlite_close(st);
        return HM_EUSAGE;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, (int)(busy_ns / 1000000));
    /* WAL: readers (incidents list, serve) never block the engine, nor it them */
    sqlite3_stmt *jm = NULL;
    char mode[16] = "";
    rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &jm, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(jm)) == SQLITE_ROW)
        snprintf(mode, sizeof mode, "%s", (const char *)sqlite3_column_text(jm, 0));
    sqlite3_finalize(jm);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE && rc != SQLITE_OK) {
        snprintf(err, errlen, "--output %s: %s", uri, sqlite3_errmsg(st->db));
        sqlite_close(st);
        return HM_EUSAGE;
    }
    if (strcasecmp(mode, "wal") != 0)
        hm_warn("output",
                "%s: WAL journal mode unavailable (journal_mode=%s); readers may block "
                "the engine",
                uri, mode);
    if (exec_sql(st->db, sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", err,
                 errlen, uri) != SQLITE_OK ||
        exec_sql(st->db, "PRAGMA foreign_keys=ON", err, errlen, uri) != SQLITE_OK ||
        setup_schema(st, err, errlen) != SQLITE_OK) {
        sqlite_close(st);
        return HM_EUSAGE;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        rc = sqlite3_prepare_v3(st->db, STMT_SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &st->st[i],
                                NULL);
        if (rc != SQLITE_OK) {
            snprintf(err, errlen,
                     "--output %s: the database does not match the expected schema: %s", uri,
                     sqlite3_errmsg(st->db));
            sqlite_close(st);
            return HM_EUSAGE;
        }
    }
    *state = st;
    return HM_OK;
}

static void bind_str(sqlite3_stmt *s, int i, hm_str v) {
    if (v.p)
        sqlite3_bind_text(s, i, v.p, (int)v.len, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

/* JSON text of a value, NULL when absent or null */
static hm_str json_or_null(hm_jl_doc *d, int t) {
    if (hm_jl_is_null(d, t)) return (hm_str){NULL, 0};
    return hm_jl_json(d, t);
}

static void bind_time(sqlite3_stmt *s, int i_text, int i_ms, hm_jl_doc *d, int t) {
    bind_str(s, i_text, hm_jl_str(d, t));
    int64_t ms;
    if (hm_jl_time_ms(d, t, &ms))
        sqlite3_bind_int64(s, i_ms, ms);
    else
        sqlite3_bind_null(s, i_ms);
}

static int step_done(sqlite3_stmt *s) {
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static int put_alert(sqlite_state *st, const char *now) {
    hm_jl_doc *d = &st->doc;
    sqlite3_stmt *s = st->st[ST_ALERT];
    hm_str rid = hm_jl_str_at(d, 0, "rule.id");
    int ev = hm_jl_get(d, 0, "event_ids");
    if (!rid.len || !hm_jl_is(d, ev, JSMN_ARRAY)) {
        st->bad_lines++;
        if (st->bad_lines == 1)
            hm_warn("output", "%s: alert line without rule.id or event_ids skipped", st->name);
        return SQLITE_OK;
    }
    bind_str(s, 1, rid);
    bind_str(s, 2, hm_jl_str_at(d, 0, "rule.title"));
    hm_str level = hm_jl_str_at(d, 0, "rule.level");
    bind_str(s, 3, level);
    int rank = hm_jl_rank(level);
    if (rank >= 0) sqlite3_bind_int(s, 4, rank);
    bind_str(s, 5, json_or_null(d, hm_jl_get(d, 0, "rule.tags")));
    bind_time(s, 6, 7, d, hm_jl_get(d, 0, "time"));
    bind_str(s, 8, hm_jl_json(d, ev));
    bind_str(s, 9, json_or_null(d, hm_jl_get(d, 0, "group")));
    bind_str(s, 10, json_or_null(d, hm_jl_get(d, 0, "fields")));
    bind_str(s, 11, json_or_null(d, hm_jl_get(d, 0, "evidence")));
    hm_str inc = hm_jl_str_at(d, 0, "incident_id");
    if (!inc.len) inc = hm_jl_str_at(d, 0, "incident");
    bind_str(s, 12, inc.len ? inc : (hm_str){NULL, 0});
    bind_str(s, 13, hm_str_n(d->json, d->len));
    bind_str(s, 14, hm_str_c(now));
    int rc = step_done(s);
    if (rc == SQLITE_OK) {
        if (sqlite3_changes(st->db))
            st->alerts++;
        else
            st->alerts_dup++;
    }
    return rc;
}

static int history(sqlite_state *st, hm_str id, const char *now, const char *action,
                   const char *old_status, const char *new_status, const char *note) {
    sqlite3_stmt *h = st->st[ST_HIST];
    bind_str(h, 1, id);
    sqlite3_bind_text(h, 2, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(h, 3, action, -1, SQLITE_STATIC);
    if (old_status) sqlite3_bind_text(h, 4, old_status, -1, SQLITE_TRANSIENT);
    if (new_status) sqlite3_bind_text(h, 5, new_status, -1, SQLITE_TRANSIENT);
    if (note) sqlite3_bind_text(h, 6, note, -1, SQLITE_TRANSIENT);
    return step_done(h);
}

static hm_str entity_text(sqlite_state *st, int t) {
    hm_jl_doc *d = &st->doc;
    if (hm_jl_is_null(d, t)) return (hm_str){NULL, 0};
    if (hm_jl_is(d, t, JSMN_OBJECT)) {
        hm_str type = hm_jl_str_at(d, t, "type"), val = hm_jl_str_at(d, t, "value");
        if (val.len) {
            st->scratch.len = 0;
            if (type.len) {
                hm_buf_put(&st->scratch, type.p, type.len);
                hm_buf_putc(&st->scratch, ':');
            }
            hm_buf_put(&st->scratch, val.p, val.len);
            char *c = hm_jl_dup(d, st->scratch.p, st->scratch.len);
            return hm_str_n(c, st->scratch.len);
        }
    }
    return hm_jl_str(d, t);
}

static int put_incident(sqlite_state *st, const char *now) {
    hm_jl_doc *d = &st->doc;
    hm_str id = hm_jl_str_at(d, 0, "id");
    if (!id.len) {
        st->bad_lines++;
        if (st->bad_lines == 1) hm_warn("output", "%s: incident line without id skipped", st->name);
        return SQLITE_OK;
    }
    int64_t count = 0, last_ms = INT64_MIN;
    int tcount = hm_jl_get(d, 0, "alert_count"), tlast = hm_jl_get(d, 0, "last_seen");
    bool has_count = hm_jl_i64(d, tcount, &count);
    bool has_last = hm_jl_time_ms(d, tlast, &last_ms);

    /* existing row? */
    sqlite3_stmt *g = st->st[ST_INC_GET];
    bind_str(g, 1, id);
    int rc = sqlite3_step(g);
    bool exists = rc == SQLITE_ROW;
    char old_status[32] = "";
    int64_t old_count = 0, old_last = INT64_MIN;
    if (exists) {
        const unsigned char *s = sqlite3_column_text(g, 0);
        snprintf(old_status, sizeof old_status, "%s", s ? (const char *)s : "");
        old_count = sqlite3_column_int64(g, 1);
        if (sqlite3_column_type(g, 2) != SQLITE_NULL) old_last = sqlite3_column_int64(g, 2);
    }
    sqlite3_reset(g);
    sqlite3_clear_bindings(g);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return rc;
    if (exists) {
        /* an older state of the incident (a replay, or lines out of order): keep the newer row */
        if (has_count && count < old_count) goto stale;
        if (has_count && count == old_count && has_last && last_ms < old_last) goto stale;
        if (!has_count && has_last && last_ms < old_last) goto stale;
    }

    sqlite3_stmt *s = st->st[exists ? ST_INC_UPD : ST_INC_INS];
    bind_str(s, 1, id);
    hm_str prio = hm_jl_str_at(d, 0, "priority");
    bind_str(s, 2, prio);
    int rank = hm_jl_rank(prio);
    if (rank >= 0) sqlite3_bind_int(s, 3, rank);
    double score;
    if (hm_jl_num(d, hm_jl_get(d, 0, "score"), &score)) sqlite3_bind_double(s, 4, score);
    int bd = hm_jl_get(d, 0, "score_breakdown");
    if (bd < 0) bd = hm_jl_get(d, 0, "breakdown");
    bind_str(s, 5, json_or_null(d, bd));
    int ent = hm_jl_get(d, 0, "entity");
    bind_str(s, 6, entity_text(st, ent));
    bind_str(s, 7, json_or_null(d, ent));
    bind_time(s, 8, 9, d, hm_jl_get(d, 0, "first_seen"));
    bind_time(s, 10, 11, d, tlast);
    if (has_count) sqlite3_bind_int64(s, 12, count);
    bind_str(s, 13, json_or_null(d, hm_jl_get(d, 0, "rules")));
    bool sd;
    if (hm_jl_bool(d, hm_jl_get(d, 0, "student_data"), &sd)) sqlite3_bind_int(s, 14, sd);
    hm_str est = hm_jl_str_at(d, 0, "status");
    bind_str(s, 15, est.len ? est : (hm_str){NULL, 0});
    bind_str(s, 16, json_or_null(d, hm_jl_get(d, 0, "evidence")));
    bind_str(s, 17, hm_str_n(d->json, d->len));
    sqlite3_bind_text(s, 18, now, -1, SQLITE_STATIC);
    /* the analyst owns status after creation; new alerts on a resolved incident reopen it */
    bool reopen = exists && !strcmp(old_status, "resolved") && has_count && count > old_count;
    if (reopen) sqlite3_bind_text(s, 19, "open", -1, SQLITE_STATIC);
    rc = step_done(s);
    if (rc != SQLITE_OK) return rc;
    if (!exists) {
        st->inc_new++;
        char *status = hm_jl_dup(d, est.len ? est.p : "open", est.len ? est.len : 4);
        return history(st, id, now, "create", NULL, status, NULL);
    }
    st->inc_upd++;
    if (reopen) {
        st->inc_reopened++;
        char note[96];
        snprintf(note, sizeof note, "new alerts after resolve (%lld -> %lld)", (long long)old_count,
                 (long long)count);
        return history(st, id, now, "reopen", "resolved", "open", note);
    }
    return SQLITE_OK;
stale:
    st->inc_stale++;
    return SQLITE_OK;
}

static int put_event(sqlite_state *st) {
    hm_jl_doc *d = &st->doc;
    hm_str id = hm_jl_str_at(d, 0, "id");
    if (!id.len) {
        st->ignored++;
        return SQLITE_OK;
    }
    sqlite3_stmt *s = st->st[ST_EVENT];
    bind_str(s, 1, id);
    bind_time(s, 2, 3, d, hm_jl_get(d, 0, "time"));
    bind_str(s, 4, hm_str_n(d->json, d->len));
    int rc = step_done(s);
    if (rc == SQLITE_OK && sqlite3_changes(st->db)) st->events++;
    return rc;
}

static int fail(sqlite_state *st, int rc, const char *what) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(st->db));
    if (!sqlite3_get_autocommit(st->db)) sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    if (is_transient(rc)) {
        /* one line per outage (the engine counts the attempts); a full disk always says so */
        if (!st->down || ((rc & 0xff) == SQLITE_FULL && st->failed_attempts % 50 == 0)) {
            if ((rc & 0xff) == SQLITE_FULL)
                hm_error("output",
                         "%s: disk full (%s); the batch is rolled back and retried, "
                         "input is held",
                         st->name, msg);
            else
                hm_warn("output", "%s: %s: %s; the batch is rolled back and retried, input is held",
                        st->name, what, msg);
        }
        st->down = true;
        st->failed_attempts++;
        return HM_ERETRY;
    }
    hm_error("output", "%s: %s: %s", st->name, what, msg);
    return HM_EIO;
}

static int sqlite_write(void *state, const char *data, size_t len) {
    sqlite_state *st = state;
    /* a previous failure may have left a transaction open (e.g. a failed ROLLBACK) */
    if (!sqlite3_get_autocommit(st->db)) sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    int rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) return fail(st, rc, "begin");
    uint64_t saved[9] = {st->alerts,       st->alerts_dup, st->inc_new, st->inc_upd,  st->inc_stale,
                         st->inc_reopened, st->events,     st->ignored, st->bad_lines};
    char now[64];
    now_iso(now);
    hm_jl_iter it;
    hm_str line;
    hm_jl_iter_init(&it, data, len);
    while (hm_jl_next(&it, &line)) {
        if (hm_jl_parse(&st->doc, line.p, line.len) != 0) {
            if (st->bad_lines++ == 0)
                hm_warn("output", "%s: a line that is not a JSON object was skipped", st->name);
            continue;
        }
        switch (st->doc.kind) {
        case HM_JL_ALERT:
            rc = put_alert(st, now);
            break;
        case HM_JL_INCIDENT:
            rc = put_incident(st, now);
            break;
        case HM_JL_EVENT:
            if (st->store_events)
                rc = put_event(st);
            else
                st->ignored++;
            break;
        default:
            st->ignored++;
            break;
        }
        if (rc != SQLITE_OK) break;
    }
    if (rc == SQLITE_OK) rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        /* counters of a rolled-back batch do not count */
        st->alerts = saved[0], st->alerts_dup = saved[1], st->inc_new = saved[2];
        st->inc_upd = saved[3], st->inc_stale = saved[4], st->inc_reopened = saved[5];
        st->events = saved[6], st->ignored = saved[7], st->bad_lines = saved[8];
        return fail(st, rc, "write");
    }
    if (st->down) {
        hm_info("output", "%s: writing again after %llu failed attempts", st->name,
                (unsigned long long)st->failed_attempts);
        st->down = false;
        st->failed_attempts = 0;
    }
    return HM_OK;
}

static int sqlite_flush(void *state) {
    sqlite_state *st = state;
    if (st->db) sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return HM_OK;
}

static void sqlite_close(void *state) {
    sqlite_state *st = state;
    if (st->db && (st->alerts || st->alerts_dup || st->inc_new || st->inc_upd || st->events))
        hm_info("output",
                "%s: alerts %llu new, %llu duplicate; incidents %llu new, %llu updated, %llu "
                "stale, %llu reopened; events %llu; ignored lines %llu; bad lines %llu",
                st->name, (unsigned long long)st->alerts, (unsigned long long)st->alerts_dup,
                (unsigned long long)st->inc_new, (unsigned long long)st->inc_upd,
                (unsigned long long)st->inc_stale, (unsigned long long)st->inc_reopened,
                (unsigned long long)st->events, (unsigned long long)st->ignored,
                (unsigned long long)st->bad_lines);
    for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(st->st[i]);
    if (st->db) sqlite3_close_v2(st->db);
    hm_jl_free(&st->doc);
    hm_buf_free(&st->scratch);
    free(st->path);
    free(st->name);
    free(st);
}

const hm_sink_ops hm_sink_sqlite = {
    .abi = HM_SINK_ABI,
    .scheme = "sqlite",
    .description = "SQLite triage store (alerts, incidents with upsert, analyst history)",
    .open = sqlite_open,
    .write = sqlite_write,
    .flush = sqlite_flush,
    .close = sqlite_close,
};
