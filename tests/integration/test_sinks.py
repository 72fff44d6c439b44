#!/usr/bin/env python3
"""Output sink integration tests with real receivers on loopback: a SQLite file (WAL,
replay without duplicates, incident upsert, busy database), a password-protected
redis-server (XADD entries, dedupe on replay, killed and restarted mid-run), a local HTTP
server (500s then 200, 429 Retry-After, 4xx refusal, HMAC signatures, Slack/Teams bodies),
UDP and TCP syslog listeners (CEF fields and escaping, reconnect), and several outputs at once.

Incident lines are not produced by the engine yet, so incident cases feed the sink through a
tiny C driver linked against build/libhm.a (the same sink code the engine runs)."""
import hashlib
import hmac
import http.server
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, Skip, build_dir, case, hm, run, tmpdir  # noqa: E402

RULE = """title: SIS login failure
id: 5b0f8e9e-1111-4222-8333-444455556666
level: high
tags: [attack.credential_access, attack.t1110]
logsource: {product: sis}
detection: {sel: {event: login_failure}, condition: sel}
"""
RULE_ID = "5b0f8e9e-1111-4222-8333-444455556666"
WEIRD_RULE = """title: 'Weird | title \\ with = sign'
id: weird-1
level: critical
logsource: {product: sis}
detection: {sel: {event: login_failure, user|startswith: odd}, condition: sel}
"""


def rules_dir(weird=False):
    d = tmpdir()
    with open(os.path.join(d, "r.yml"), "w") as f:
        f.write(RULE)
    if weird:
        with open(os.path.join(d, "w.yml"), "w") as f:
            f.write(WEIRD_RULE)
    return d


def sis_lines(n, start=0, user=None):
    return "".join(
        f"<134>Mar 11 00:{(i // 60) % 60:02d}:{i % 60:02d} sis-app02 sis[3301]: login failure "
        f"user={user or f'u{i}'} src=10.30.2.{i % 250} portal=teacher method=password "
        f"reason=bad_password country=US\n"
        for i in range(start, start + n)
    ).encode()


def write_input(d, data, name="in.log"):
    p = os.path.join(d, name)
    with open(p, "wb") as f:
        f.write(data)
    return p


def alert_keys(path, data, rule=RULE_ID):
    """rule|event id of every line of data (offsets in the file)"""
    keys, off = [], 0
    for line in data.splitlines(keepends=True):
        keys.append(f"{rule}|file:{path}:{off}")
        off += len(line)
    return keys


def stats_of(stderr):
    for l in stderr.decode(errors="replace").splitlines():
        if l.startswith('{"kind":"stats"'):
            return json.loads(l)
    raise AssertionError("no stats line in stderr:\n" + stderr.decode(errors="replace"))


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def spawn(*args):
    """the engine in the background (for --follow runs)"""
    return subprocess.Popen([os.path.join(build_dir(), "hallmonitor")] + [str(a) for a in args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# ---------------------------------------------------------------- the C driver

DRIVER_C = r"""
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "sink.h"
static volatile int stop = 0;
static void on_alarm(int s) { (void)s; stop = 2; }
/* driver URI TIMEOUT_S [raw] FILE... : each file is one write() batch */
int main(int argc, char **argv) {
    hm_sink s;
    char err[1024];
    if (hm_sink_open(&s, argv[1], err, sizeof err) != HM_OK) { fprintf(stderr, "%s\n", err); return 2; }
    signal(SIGALRM, on_alarm);
    alarm((unsigned)atoi(argv[2]));
    int i = 3, raw = 0;
    if (i < argc && !strcmp(argv[i], "raw")) { raw = 1; i++; }
    for (; i < argc; i++) {
        if (!strncmp(argv[i], "sleep:", 6)) { sleep((unsigned)atoi(argv[i] + 6)); continue; }
        FILE *f = fopen(argv[i], "rb");
        if (!f) return 3;
        static char buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        uint64_t lines = 0;
        for (size_t k = 0; k < n; k++) lines += buf[k] == '\n';
        int rc = raw ? s.ops->write(s.state, buf, n) : hm_sink_write(&s, buf, n, lines, &stop);
        printf("rc %d\n", rc);
        fflush(stdout);
    }
    printf("lines %llu retries %llu\n", (unsigned long long)s.lines, (unsigned long long)s.retries);
    hm_sink_close(&s);
    return 0;
}
"""
_driver = None


def driver():
    global _driver
    if _driver:
        return _driver
    cc = shutil.which("cc") or shutil.which("gcc")
    lib = os.path.join(build_dir(), "libhm.a")
    if not cc or not os.path.exists(lib):
        raise Skip("no C compiler or build/libhm.a for the sink driver")
    mk = open(os.path.join(ROOT, "Makefile")).read().replace("\\\n", " ")
    m = re.search(r"^LIBS\s*:=(.*)$", mk, re.M)
    libs = m.group(1).split() if m else []
    d = tmpdir()
    src = os.path.join(d, "driver.c")
    with open(src, "w") as f:
        f.write(DRIVER_C)
    out = os.path.join(d, "driver")
    with open(lib, "rb") as f:  # a sanitizer build (make asan) links with the same flags
        san = ["-fsanitize=address,undefined"] if b"__asan_" in f.read() else []
    p = subprocess.run([cc] + san + ["-std=c11", "-D_GNU_SOURCE", "-I" + os.path.join(ROOT, "engine"),
                        "-I" + os.path.join(ROOT, "sinks"), "-o", out, src, lib] + libs,
                       capture_output=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError("driver build failed: " + p.stderr.decode(errors="replace"))
    _driver = out
    return out


def drive(uri, batches, raw=False, timeout=20):
    """each batch (a list of line objects) is one write() call; an int sleeps that long"""
    d = tmpdir()
    files = []
    for i, b in enumerate(batches):
        if isinstance(b, int):
            files.append(f"sleep:{b}")
            continue
        p = os.path.join(d, f"b{i}.jsonl")
        with open(p, "w") as f:
            f.write("".join(json.dumps(x, separators=(",", ":")) + "\n" for x in b))
        files.append(p)
    args = [driver(), uri, str(timeout)] + (["raw"] if raw else []) + files
    p = subprocess.run(args, capture_output=True, timeout=timeout + 10)
    rcs = [int(l.split()[1]) for l in p.stdout.decode().splitlines() if l.startswith("rc ")]
    return p, rcs


def incident(iid="inc-1", count=1, last="2024-03-11T00:05:00Z", prio="high", status="open",
             **kw):
    x = {"kind": "incident", "id": iid, "priority": prio, "score": 72.5,
         "score_breakdown": {"level": 40, "asset": 20, "risk": 12.5},
         "entity": {"type": "user", "value": "svc-x"}, "first_seen": "2024-03-11T00:00:25Z",
         "last_seen": last, "alert_count": count, "rules": ["r1", "r2"], "student_data": False,
         "status": status, "evidence": {"alerts": count}}
    x.update(kw)
    return x


def alert(rule="r1", events=("file:/x.log:0",), level="medium", **kw):
    x = {"kind": "alert", "rule": {"id": rule, "title": f"Rule {rule}", "level": level,
                                   "tags": ["attack.t1110"]},
         "time": "2024-03-11T00:00:25.5Z", "event_ids": list(events), "group": None,
         "fields": {"user": "svc-x", "src_ip": "10.30.2.44"}, "evidence": {"selections": ["sel"]}}
    x.update(kw)
    return x


# ---------------------------------------------------------------- SQLite


@case
def sqlite_alerts_wal_and_replay_without_duplicates():
    d = tmpdir()
    data = sis_lines(25)
    inp = write_input(d, data)
    db = os.path.join(d, "triage.db")
    jl = os.path.join(d, "out.jsonl")
    r = rules_dir()
    out = hm("run", "--rules", r, "--input", f"file:{inp}", "--year", 2024, "--workers", 2,
             "--batch", 7, "--output", f"sqlite:{db}", "--output", f"jsonl:{jl}", "--stats")
    st = stats_of(out.stderr)
    assert st["outputs"][f"sqlite:{db}"]["lines"] == 25, st["outputs"]
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT max(version) FROM schema_version").fetchone()[0] == 1
    rows = con.execute("SELECT rule_id, rule_title, rule_level, level_rank, rule_tags, time, "
                       "time_ms, event_ids, group_by, fields, evidence, json FROM alerts "
                       "ORDER BY id").fetchall()
    assert len(rows) == 25, len(rows)
    lines = [json.loads(l) for l in open(jl)]
    for row, line in zip(rows, lines):
        assert row[0] == RULE_ID and row[1] == "SIS login failure" and row[2] == "high"
        assert row[3] == 3
        assert json.loads(row[4]) == ["attack.credential_access", "attack.t1110"]
        assert row[5] == line["time"] and row[6] == 1710115200000 + 1000 * (
            int(line["time"][14:16]) * 60 + int(line["time"][17:19]))
        assert json.loads(row[7]) == line["event_ids"]
        assert row[8] is None
        assert json.loads(row[9]) == line["fields"] and json.loads(row[10]) == line["evidence"]
        assert json.loads(row[11]) == line
    con.close()
    # replay the same input (and once more with other batch sizes): nothing duplicated
    hm("run", "--rules", r, "--input", f"file:{inp}", "--year", 2024, "--output", f"sqlite:{db}")
    hm("run", "--rules", r, "--input", f"file:{inp}", "--year", 2024, "--batch", 3,
       "--output", f"sqlite:{db}")
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM alerts").fetchone()[0] == 25
    # a new line appended: only it is added
    with open(inp, "ab") as f:
        f.write(sis_lines(1, start=25))
    hm("run", "--rules", r, "--input", f"file:{inp}", "--year", 2024, "--output", f"sqlite:{db}")
    assert con.execute("SELECT count(*) FROM alerts").fetchone()[0] == 26
    con.close()


@case
def sqlite_events_stored_only_when_asked():
    d = tmpdir()
    inp = write_input(d, sis_lines(5))
    r = rules_dir()
    db1, db2 = os.path.join(d, "a.db"), os.path.join(d, "b.db")
    hm("run", "--rules", r, "--input", f"file:{inp}", "--year", 2024, "--emit", "all",
       "--output", f"sqlite:{db1}")
    hm("run", "--rules", r, "--input", f"file:{inp}", "--year", 2024, "--emit", "all",
       "--output", f"sqlite:{db2}?events=1")
    c1, c2 = sqlite3.connect(db1), sqlite3.connect(db2)
    assert c1.execute("SELECT count(*) FROM alerts").fetchone()[0] == 5
    assert c1.execute("SELECT count(*) FROM events").fetchone()[0] == 0
    assert c2.execute("SELECT count(*) FROM alerts").fetchone()[0] == 5
    ev = c2.execute("SELECT id, time, json FROM events ORDER BY time_ms").fetchall()
    assert len(ev) == 5 and ev[0][0] == f"file:{inp}:0" and json.loads(ev[0][2])["kind"] == "event"


@case
def sqlite_incident_upsert_history_and_reopen():
    d = tmpdir()
    db = os.path.join(d, "t.db")
    uri = f"sqlite:{db}"
    p, rcs = drive(uri, [
        [incident(count=1, last="2024-03-11T00:01:00Z"), alert("r1", ["e1"]), alert("r2", ["e1", "e2"])],
        [incident(count=3, last="2024-03-11T00:05:00.250Z", prio="critical", student_data=True),
         alert("r1", ["e1"])],  # duplicate alert
        [incident(count=2, last="2024-03-11T00:03:00Z")],  # older state replayed: skipped
        [incident("inc-2", count=1, entity="10.0.0.9")],
    ])
    assert rcs == [0, 0, 0, 0], (rcs, p.stderr)
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    assert con.execute("SELECT count(*) FROM alerts").fetchone()[0] == 2
    row = con.execute("SELECT * FROM incidents WHERE id='inc-1'").fetchone()
    assert row["alert_count"] == 3 and row["priority"] == "critical" and row["priority_rank"] == 4
    assert row["last_seen"] == "2024-03-11T00:05:00.250Z" and row["last_seen_ms"] == 1710115500250
    assert row["first_seen_ms"] == 1710115225000
    assert row["student_data"] == 1 and row["status"] == "open" and row["score"] == 72.5
    assert row["entity"] == "user:svc-x" and json.loads(row["entity_json"])["value"] == "svc-x"
    assert json.loads(row["rules"]) == ["r1", "r2"] and json.loads(row["score_breakdown"])["asset"] == 20
    assert json.loads(row["evidence"]) == {"alerts": 3} and row["updates"] == 2
    assert con.execute("SELECT entity FROM incidents WHERE id='inc-2'").fetchone()[0] == "10.0.0.9"
    hist = con.execute("SELECT action, who, new_status FROM incident_history WHERE "
                       "incident_id='inc-1' ORDER BY id").fetchall()
    assert [tuple(h) for h in hist] == [("create", "hallmonitor", "open")]
    # the analyst acknowledges: an engine update keeps the status
    now = "2024-03-11T01:00:00Z"
    con.execute("UPDATE incidents SET status='acknowledged' WHERE id='inc-1'")
    con.execute("INSERT INTO incident_history (incident_id, at, who, action, old_status, new_status,"
                " note) VALUES ('inc-1', ?, 'ana', 'ack', 'open', 'acknowledged', 'looking')", (now,))
    con.commit()
    drive(uri, [[incident(count=4, last="2024-03-11T00:06:00Z")]])
    assert tuple(con.execute("SELECT status, alert_count FROM incidents WHERE id='inc-1'").fetchone()) == (
        "acknowledged", 4)
    # resolved, then the same state again: stays resolved; new alerts: reopened with a history row
    con.execute("UPDATE incidents SET status='resolved' WHERE id='inc-1'")
    con.commit()
    drive(uri, [[incident(count=4, last="2024-03-11T00:06:00Z")]])
    assert con.execute("SELECT status FROM incidents WHERE id='inc-1'").fetchone()[0] == "resolved"
    drive(uri, [[incident(count=5, last="2024-03-11T00:07:00Z")]])
    assert con.execute("SELECT status FROM incidents WHERE id='inc-1'").fetchone()[0] == "open"
    hist = con.execute("SELECT action, who, old_status, new_status, note FROM incident_history "
                       "WHERE incident_id='inc-1' ORDER BY id").fetchall()
    assert [h[0] for h in hist] == ["create", "ack", "reopen"], hist
    assert hist[2][1] == "hallmonitor" and tuple(hist[2])[2:4] == ("resolved", "open")
    assert "4 -> 5" in hist[2][4]
    # indexes for the triage listing exist
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"incidents_status", "incidents_priority", "incidents_last_seen", "incidents_entity"} <= names


@case
def sqlite_busy_database_is_retried_cleanly():
    d = tmpdir()
    db = os.path.join(d, "t.db")
    uri = f"sqlite:{db}?busy_timeout=100ms"
    drive(uri, [[alert("r0", ["e0"])]])  # creates the schema
    locker = sqlite3.connect(db, isolation_level=None, timeout=0, check_same_thread=False)
    locker.execute("BEGIN IMMEDIATE")
    batch = [alert("r1", ["e1"]), incident(count=1), alert("r2", ["e2"])]
    p, rcs = drive(uri, [batch], raw=True)
    assert rcs == [-8], (rcs, p.stderr)  # HM_ERETRY, rolled back
    locker.execute("ROLLBACK")
    assert locker.execute("SELECT count(*) FROM alerts").fetchone()[0] == 1
    # through the engine's retry loop: blocked for ~1 s, then written once
    locker.execute("BEGIN IMMEDIATE")
    t = threading.Timer(1.0, lambda: locker.execute("ROLLBACK"))
    t.start()
    p, rcs = drive(uri, [batch])
    t.join()
    assert rcs == [0], p.stderr
    m = re.search(r"retries (\d+)", p.stdout.decode())
    assert m and int(m.group(1)) >= 1, p.stdout
    assert locker.execute("SELECT count(*) FROM alerts").fetchone()[0] == 3
    assert locker.execute("SELECT count(*) FROM incidents").fetchone()[0] == 1
    locker.close()


@case
def sqlite_bad_uri_and_newer_schema_are_usage_errors():
    d = tmpdir()
    p = hm("run", "--input", "-", "--output", "sqlite:", input=b"", check=False)
    assert p.returncode == 2 and b"sqlite:" in p.stderr
    p = hm("run", "--input", "-", "--output", f"sqlite:{d}/t.db?bogus=1", input=b"", check=False)
    assert p.returncode == 2 and b"bogus" in p.stderr
    p = hm("run", "--input", "-", "--output", f"sqlite:{d}/missing-dir/t.db", input=b"", check=False)
    assert p.returncode == 2 and b"cannot open" in p.stderr
    con = sqlite3.connect(f"{d}/new.db")
    con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL)")
    con.execute("INSERT INTO schema_version VALUES (99, 'x')")
    con.commit()
    p = hm("run", "--input", "-", "--output", f"sqlite:{d}/new.db", input=b"", check=False)
    assert p.returncode == 2 and b"newer" in p.stderr, p.stderr


# ---------------------------------------------------------------- Redis

PASSWORD = "hm-test-pw"


class Redis:
    def __init__(self, port=None):
        self.port = port or free_port()
        self.proc = None

    def start(self):
        exe = shutil.which("redis-server")
        if not exe:
            raise Skip("redis-server not installed")
        self.proc = subprocess.Popen(
            [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--requirepass", PASSWORD,
             "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._ping, 10, "redis-server to start")
        return self

    def _ping(self):
        try:
            return self.cmd("PING") == "PONG"
        except OSError:
            return False

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cmd(self, *args):
        """one command on a fresh connection (AUTH first), RESP2 parsed"""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            f = s.makefile("rb")
            for c in (("AUTH", PASSWORD), args):
                out = b"*%d\r\n" % len(c)
                for a in c:
                    a = a if isinstance(a, bytes) else str(a).encode()
                    out += b"$%d\r\n%s\r\n" % (len(a), a)
                s.sendall(out)
                r = self._read(f)
            return r

    def _read(self, f):
        line = f.readline()
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = f.read(n + 2)[:-2]
            return data.decode()
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._read(f) for _ in range(n)]
        raise RuntimeError(f"bad reply {line!r}")

    def entries(self, stream):
        out = []
        for eid, fields in self.cmd("XRANGE", stream, "-", "+"):
            out.append(dict(zip(fields[::2], fields[1::2])))
        return out


@case
def redis_stream_entries_and_dedupe_on_replay():
    r = Redis().start()
    try:
        d = tmpdir()
        data = sis_lines(12)
        inp = write_input(d, data)
        rules = rules_dir()
        uri = f"redis://:{PASSWORD}@127.0.0.1:{r.port}/hm:alerts"
        out = hm("run", "--rules", rules, "--input", f"file:{inp}", "--year", 2024, "--batch", 5,
                 "--output", uri, "--stats")
        assert stats_of(out.stderr)["outputs"][uri]["lines"] == 12
        ents = r.entries("hm:alerts")
        assert len(ents) == 12, len(ents)
        keys = alert_keys(inp, data)
        assert [e["id"] for e in ents] == keys
        assert all(e["kind"] == "alert" for e in ents)
        first = json.loads(ents[0]["json"])
        assert first["rule"]["id"] == RULE_ID and first["event_ids"] == [f"file:{inp}:0"]
        # replay: nothing added; with dedupe=off a replay duplicates
        hm("run", "--rules", rules, "--input", f"file:{inp}", "--year", 2024, "--output", uri)
        assert r.cmd("XLEN", "hm:alerts") == 12
        hm("run", "--rules", rules, "--input", f"file:{inp}", "--year", 2024,
           "--output", uri + "?dedupe=off")
        assert r.cmd("XLEN", "hm:alerts") == 24
        ttl = r.cmd("TTL", r.cmd("KEYS", "hm:dedupe:{hm:alerts}:*")[0])
        assert 86000 < ttl <= 86400, ttl
        # a batch sent again after its replies were lost adds nothing; the script cache
        # flushed under the sink (NOSCRIPT) is reloaded; an ACL user authenticates
        r.cmd("ACL", "SETUSER", "hm", "on", ">pw2", "~*", "+@all")
        duri = f"redis://hm:pw2@127.0.0.1:{r.port}/hm:drv"
        batch = [alert("r1", ["e1"]), incident(count=1), incident(count=2), alert("r2", ["e1"])]
        flush = threading.Timer(0.7, lambda: r.cmd("SCRIPT", "FLUSH"))
        flush.start()
        p, rcs = drive(duri, [batch, 2, batch + [alert("r3", ["e9"])]])
        flush.join()
        assert rcs == [0, 0], (rcs, p.stderr)
        assert "retries 1" in p.stdout.decode(), p.stdout  # NOSCRIPT: reconnected, reloaded
        p, rcs = drive(duri, [batch], raw=True)  # as if the replies had been lost: sent again
        assert rcs == [0], p.stderr
        ents = r.entries("hm:drv")
        assert [e["id"] for e in ents] == ["r1|e1", "inc-1", "inc-1", "r2|e1", "r3|e9"], ents
        assert [e["kind"] for e in ents] == ["alert", "incident", "incident", "alert", "alert"]
        # maxlen trims (approximately, as XADD MAXLEN ~ does)
        big = write_input(d, sis_lines(600), "big.log")
        hm("run", "--rules", rules, "--input", f"file:{big}", "--year", 2024,
           "--output", f"redis://:{PASSWORD}@127.0.0.1:{r.port}/hm:small?maxlen=50&dedupe_ttl=60s")
        n = r.cmd("XLEN", "hm:small")
        assert 50 <= n < 600, n
        # wrong password or none: a usage error naming the URI without the password
        p = hm("run", "--input", "-", "--output", f"redis://:nope@127.0.0.1:{r.port}/s",
               input=b"", check=False)
        assert p.returncode == 2 and b"authentication failed" in p.stderr and b"nope" not in p.stderr
        p = hm("run", "--input", "-", "--output", f"redis://127.0.0.1:{r.port}/s", input=b"",
               check=False)
        assert p.returncode == 2 and b"NOAUTH" in p.stderr
        r.cmd("SET", "plainkey", "x")
        p = hm("run", "--input", "-", "--output", f"redis://:{PASSWORD}@127.0.0.1:{r.port}/plainkey",
               input=b"", check=False)
        assert p.returncode == 2 and b"not a stream" in p.stderr
        for bad in ("redis://127.0.0.1/s", "redis://127.0.0.1:6379", "redis://127.0.0.1:6379/s?maxlen=x"):
            p = hm("run", "--input", "-", "--output", bad, input=b"", check=False)
            assert p.returncode == 2, bad
    finally:
        r.stop()


@case
def redis_down_at_start_killed_and_restarted_nothing_lost():
    if not shutil.which("redis-server"):
        raise Skip("redis-server not installed")
    r = Redis()  # not started: the engine must start anyway and wait for it
    d = tmpdir()
    inp = write_input(d, b"")
    rules = rules_dir()
    uri = f"redis://:{PASSWORD}@127.0.0.1:{r.port}/hm:live?timeout=1s&connect_timeout=500ms"
    eng = spawn("run", "--rules", rules,
                            "--input", f"file:{inp}", "--follow", "--exit-on-idle", "5s",
                            "--year", 2024, "--output", uri, "--stats")
    sent = []

    def append(n):
        start = len(sent)
        data = sis_lines(n, start=start)
        off = os.path.getsize(inp)
        with open(inp, "ab") as f:
            f.write(data)
        for line in data.splitlines(keepends=True):
            sent.append(f"{RULE_ID}|file:{inp}:{off}")
            off += len(line)

    try:
        append(4)
        time.sleep(0.8)
        r.start()
        wait_for(lambda: r.cmd("XLEN", "hm:live") == 4, 15, "the first 4 entries")
        append(3)
        wait_for(lambda: r.cmd("XLEN", "hm:live") == 7, 10, "7 entries")
        before = [e["id"] for e in r.entries("hm:live")]
        r.stop(signal.SIGKILL)  # no persistence: the next server starts empty
        append(5)
        time.sleep(1.5)  # the engine retries meanwhile, holding input
        r.start()
        wait_for(lambda: r.cmd("XLEN", "hm:live") == 5, 15, "the 5 held entries after restart")
        append(2)
        wait_for(lambda: r.cmd("XLEN", "hm:live") == 7, 10, "7 entries on the new server")
        after = [e["id"] for e in r.entries("hm:live")]
        out, err = eng.communicate(timeout=30)
        assert eng.returncode == 0, err.decode(errors="replace")
        assert before + after == sent, (before, after, sent)  # in order, none lost, none twice
        st = stats_of(err)
        assert st["outputs"][uri]["lines"] == 14 and st["outputs"][uri]["retries"] >= 1, st
        e = err.decode(errors="replace")
        assert "cannot connect" in e and PASSWORD not in e.replace(uri, "")
    finally:
        if eng.poll() is None:
            eng.kill()
            eng.wait()
        r.stop()


# ---------------------------------------------------------------- webhook


class Hook:
    """HTTP receiver on loopback; behaviour(n, body) -> (status, headers) for request n"""

    def __init__(self, behaviour=lambda n, body: (200, {}), port=0):
        self.requests = []
        self.behaviour = behaviour
        hook = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(n)
                status, headers = hook.behaviour(len(hook.requests), body)
                hook.requests.append({"t": time.time(), "path": self.path, "headers": dict(self.headers),
                                      "body": body, "status": status})
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                reply = b'{"ok":true}' if status < 300 else b"no thanks"
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
        self.port = self.srv.server_address[1]
        self.th = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.th.start()

    def url(self, path="/hook"):
        return f"http://127.0.0.1:{self.port}{path}"

    def ok(self):
        return [r for r in self.requests if 200 <= r["status"] < 300]

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def verify(req, secret):
    h = req["headers"]
    body = req["body"]
    want = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert h.get("X-Hallmonitor-Signature") == want, (h, want)
    ts = h["X-Hallmonitor-Timestamp"]
    assert abs(int(ts) - time.time()) < 120
    want2 = f"t={ts},sha256=" + hmac.new(secret.encode(), ts.encode() + b"." + body,
                                         hashlib.sha256).hexdigest()
    assert h.get("X-Hallmonitor-Signature-TS") == want2


@case
def webhook_retries_5xx_and_delivers_every_alert_signed():
    hook = Hook(lambda n, body: (500, {}) if n < 3 else (200, {}))
    try:
        d = tmpdir()
        data = sis_lines(8)
        inp = write_input(d, data)
        secret = "s3cr=t&x"
        uri = f"webhook:{hook.url('/hook?team=sec')}&secret=s3cr%3Dt%26x&timeout=2s"
        out = hm("run", "--rules", rules_dir(), "--input", f"file:{inp}", "--year", 2024,
                 "--batch", 3, "--output", uri, "--stats", timeout=60)
        st = stats_of(out.stderr)
        assert st["outputs"][uri]["retries"] == 3, st["outputs"]
        assert len(hook.requests) == 11, len(hook.requests)
        ok = hook.ok()
        got = [json.loads(r["body"]) for r in ok]
        want = [json.loads(l) for l in hm("run", "--rules", rules_dir(), "--input", f"file:{inp}",
                                          "--year", 2024).stdout.splitlines()]
        assert got == want  # every alert, once, in order, the line itself as the body
        for r in hook.requests:
            assert r["path"] == "/hook?team=sec", r["path"]  # our options are not sent
            assert r["headers"]["Content-Type"] == "application/json"
            assert r["headers"]["X-Hallmonitor-Kind"] == "alert"
            verify(r, secret)
        # the delivery id is stable across retries of the same line
        assert len({r["headers"]["X-Hallmonitor-Delivery"] for r in hook.requests[:4]}) == 1
        assert b"s3cr" not in out.stderr.replace(uri.encode(), b"")
    finally:
        hook.close()


@case
def webhook_429_retry_after_and_4xx_refusal_is_loud_not_silent():
    def behaviour(n, body):
        if n == 0:
            return 429, {"Retry-After": "1"}
        if b'"user":"u2"' in body:
            return 400, {}
        return 200, {}

    hook = Hook(behaviour)
    try:
        d = tmpdir()
        inp = write_input(d, sis_lines(4))
        dead = os.path.join(d, "refused.jsonl")
        uri = f"webhook:{hook.url()}#dead_letter={dead}"
        out = hm("run", "--rules", rules_dir(), "--input", f"file:{inp}", "--year", 2024,
                 "--output", uri, "--stats", timeout=60)
        reqs = hook.requests
        assert reqs[1]["t"] - reqs[0]["t"] >= 0.9, "Retry-After not honoured"
        ok_users = [json.loads(r["body"])["fields"]["user"] for r in hook.ok()]
        assert ok_users == ["u0", "u1", "u3"], ok_users
        err = out.stderr.decode()
        assert "refused" in err and "HTTP 400" in err and "no thanks" in err, err
        rec = [json.loads(l) for l in open(dead)]
        assert len(rec) == 1 and rec[0]["status"] == 400 and rec[0]["line"]["fields"]["user"] == "u2"
        assert rec[0]["id"] == f"{RULE_ID}|file:{inp}:" + str(2 * len(sis_lines(1, 0)))
    finally:
        hook.close()


@case
def webhook_slack_teams_array_bodies_and_filters():
    hook = Hook()
    try:
        d = tmpdir()
        inp = write_input(d, sis_lines(3, user="svc-x"))
        r = rules_dir()
        for fmt in ("slack", "teams"):
            hook.requests.clear()
            hm("run", "--rules", r, "--input", f"file:{inp}", "--year", 2024,
               "--output", f"webhook:{hook.url()}?format={fmt}")
            assert len(hook.requests) == 3
            b = json.loads(hook.requests[0]["body"])
            if fmt == "slack":
                t = b["text"]
                assert t.startswith("*[HIGH] SIS login failure*"), t
                assert "*User:* svc-x" in t and "*Source:* 10.30.2.0" in t and "2024-03-11T00:00:00Z" in t
            else:
                c = b["attachments"][0]["content"]
                assert b["type"] == "message" and c["type"] == "AdaptiveCard"
                assert c["body"][0]["text"] == "[HIGH] SIS login failure"
                facts = {f["title"]: f["value"] for f in c["body"][1]["facts"]}
                assert facts["User"] == "svc-x" and facts["Rule"] == RULE_ID
        # the URL from the environment (a Slack URL is a secret): options still apply
        hook.requests.clear()
        os.environ["HM_TEST_HOOK_URL"] = hook.url("/services/T0/B0/XSECRET")
        out = hm("run", "--rules", r, "--input", f"file:{inp}", "--year", 2024, "--stats",
                 "--output", "webhook:env:HM_TEST_HOOK_URL?format=slack")
        assert len(hook.requests) == 3 and hook.requests[0]["path"] == "/services/T0/B0/XSECRET"
        assert "text" in json.loads(hook.requests[0]["body"]) and b"XSECRET" not in out.stderr
        # array: one request per batch of up to N lines
        hook.requests.clear()
        hm("run", "--rules", r, "--input", f"file:{inp}", "--year", 2024,
           "--output", f"webhook:{hook.url()}?format=array&batch=2")
        sizes = [len(json.loads(q["body"])) for q in hook.requests]
        assert sizes == [2, 1], sizes
        # kinds filter: events are not sent by default (alerts and incidents are); min_level
        # drops lower levels
        hook.requests.clear()
        hm("run", "--rules", r, "--input", f"file:{inp}", "--year", 2024, "--emit", "all",
           "--output", f"webhook:{hook.url()}")
        kinds = [json.loads(q["body"])["kind"] for q in hook.requests]
        assert kinds.count("alert") == 3 and "event" not in kinds, kinds
        hook.requests.clear()
        hm("run", "--rules", r, "--input", f"file:{inp}", "--year", 2024,
           "--output", f"webhook:{hook.url()}?min_level=critical")
        assert len(hook.requests) == 0
        # incidents (through the driver): Slack text names priority, entity, count
        hook.requests.clear()
        p, rcs = drive(f"webhook:{hook.url()}?format=slack",
                       [[incident(count=3, prio="critical", student_data=True)]])
        assert rcs == [0], p.stderr
        t = json.loads(hook.requests[0]["body"])["text"]
        assert t.startswith("*[CRITICAL] Incident inc-1 on user:svc-x*"), t
        assert "*Alerts:* 3" in t and "*Student data:* YES" in t
    finally:
        hook.close()


@case
def webhook_unreachable_at_start_is_retried_not_fatal():
    port = free_port()
    d = tmpdir()
    inp = write_input(d, b"")
    eng = spawn("run", "--rules", rules_dir(),
                            "--input", f"file:{inp}", "--follow", "--exit-on-idle", "3s",
                            "--year", 2024, "--output", f"webhook:http://127.0.0.1:{port}/h?timeout=1s",
                            "--stats")
    hook = None
    try:
        with open(inp, "ab") as f:
            f.write(sis_lines(2))
        time.sleep(1.2)
        hook = Hook(port=port)  # the receiver comes up late
        out, err = eng.communicate(timeout=40)
        assert eng.returncode == 0, err
        assert len(hook.ok()) == 2
        assert stats_of(err)["outputs"][f"webhook:http://127.0.0.1:{port}/h?timeout=1s"]["retries"] >= 1
    finally:
        if eng.poll() is None:
            eng.kill()
            eng.wait()
        if hook:
            hook.close()


# ---------------------------------------------------------------- CEF


def parse_cef(msg):
    i = msg.index("CEF:")
    head, rest = msg[:i], msg[i:]
    parts, cur, j = [], "", 0
    while len(parts) < 7:
        c = rest[j]
        if c == "\\":
            cur += rest[j + 1]
            j += 2
            continue
        if c == "|":
            parts.append(cur)
            cur = ""
        else:
            cur += c
        j += 1
    ext, key, buf, s = {}, None, [], rest[j:]
    k = 0
    while k < len(s):
        c = s[k]
        if c == "\\" and k + 1 < len(s):
            buf.append({"n": "\n", "r": "\r"}.get(s[k + 1], s[k + 1]))
            k += 2
            continue
        if c == "=":
            text = "".join(buf)
            if key is None:
                key = text.strip()
            else:
                val, _, nk = text.rpartition(" ")
                ext[key] = val
                key = nk
            buf = []
        else:
            buf.append(c)
        k += 1
    if key is not None:
        ext[key] = "".join(buf)
    return head, parts, ext


class UdpListener:
    def __init__(self):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.s.settimeout(0.2)
        self.port = self.s.getsockname()[1]

    def drain(self, n, timeout=10):
        out, end = [], time.time() + timeout
        while len(out) < n and time.time() < end:
            try:
                out.append(self.s.recv(70000).decode())
            except socket.timeout:
                pass
        return out


class TcpListener:
    """accepts connections; each connection's bytes are kept; close_after closes the first
    connection once that many LF-terminated messages arrived"""

    def __init__(self, close_after=None, port=0):
        self.s = socket.socket()
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind(("127.0.0.1", port))
        self.s.listen(8)
        self.port = self.s.getsockname()[1]
        self.conns = []
        self.close_after = close_after
        self.stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        self.s.settimeout(0.2)
        while not self.stop:
            try:
                c, _ = self.s.accept()
            except (socket.timeout, OSError):
                continue
            buf = bytearray()
            self.conns.append(buf)
            threading.Thread(target=self._read, args=(c, buf, len(self.conns) == 1), daemon=True).start()

    def _read(self, c, buf, first):
        c.settimeout(0.2)
        while not self.stop:
            try:
                d = c.recv(65536)
            except socket.timeout:
                continue
            if not d:
                break
            buf += d
            if first and self.close_after and buf.count(b"\n") >= self.close_after:
                break
        c.close()

    def messages(self):
        return [m.decode() for b in self.conns for m in bytes(b).split(b"\n") if m]

    def close(self):
        self.stop = True
        self.s.close()


@case
def cef_udp_fields_severity_and_escaping():
    u = UdpListener()
    d = tmpdir()
    data = sis_lines(3) + (b'<134>Mar 11 00:00:26 sis-app02 sis[3301]: login failure '
                           b'user="odd=name|x\\\\y" src=fe80::1 portal=teacher method=password '
                           b'reason=bad_password country=US\n')
    inp = write_input(d, data)
    r = rules_dir(weird=True)
    hm("run", "--rules", r, "--input", f"file:{inp}", "--year", 2024, "--emit", "all",
       "--output", f"cef+udp://127.0.0.1:{u.port}?hostname=hm-test")
    msgs = u.drain(5)
    assert len(msgs) == 5, msgs  # 4 + 1 weird alerts; events are not sent by default
    head, parts, ext = parse_cef(msgs[0])
    m = re.match(r"<(\d+)>([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) hm-test hallmonitor\[\d+\]: $", head)
    assert m and int(m.group(1)) == 20 * 8 + 3, head  # local4, high -> err
    assert parts[:4] == ["CEF:0", "hallmonitor", "hallmonitor", "0.1.0"] or parts[3]
    assert parts[4] == RULE_ID and parts[5] == "SIS login failure" and parts[6] == "8"
    assert ext["rt"] == "1710115200000" and ext["src"] == "10.30.2.0" and ext["suser"] == "u0"
    assert ext["dvchost"] == "sis-app02" and ext["outcome"] == "failure" and ext["cat"] == "authentication"
    assert ext["externalId"] == f"{RULE_ID}|file:{inp}:0"
    assert ext["cs1Label"] == "ruleTags" and ext["cs1"] == "attack.credential_access,attack.t1110"
    assert ext["cs2"] == f"file:{inp}:0" and ext["cnt"] == "1" and ext["msg"] == "SIS login failure"
    weird = [parse_cef(x) for x in msgs if "weird-1" in x]
    assert len(weird) == 1
    _, parts, ext = weird[0]
    assert parts[5] == "Weird | title \\ with = sign" and parts[6] == "10", parts
    assert ext["suser"] == "odd=name|x\\\\y", ext["suser"]
    assert ext["c6a2"] == "fe80::1" and ext["c6a2Label"] == "Source IPv6 Address" and "src" not in ext
    raw = [x for x in msgs if "weird-1" in x][0]
    assert "Weird \\| title \\\\ with = sign" in raw and "suser=odd\\=name|x\\\\\\\\y" in raw
    # events too when asked, RFC 5424 header
    u2 = UdpListener()
    hm("run", "--rules", r, "--input", f"file:{inp}", "--year", 2024, "--emit", "all",
       "--output", f"cef+udp://127.0.0.1:{u2.port}?kinds=event&header=rfc5424&facility=local0")
    msgs = u2.drain(4)
    assert len(msgs) == 4
    head, parts, ext = parse_cef(msgs[0])
    assert re.match(r"<133>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+ hallmonitor \d+ event - $", head), head
    assert parts[4] == "login_failure" and ext["externalId"] == f"file:{inp}:0"


@case
def cef_udp_without_listener_drops_and_goes_on():
    port = free_port(socket.SOCK_DGRAM)
    d = tmpdir()
    inp = write_input(d, sis_lines(3))
    out = hm("run", "--rules", rules_dir(), "--input", f"file:{inp}", "--year", 2024,
             "--output", f"cef+udp://127.0.0.1:{port}", "--stats")
    assert stats_of(out.stderr)["outputs"][f"cef+udp://127.0.0.1:{port}"]["retries"] == 0


@case
def cef_tcp_lf_framing_reconnects_without_loss():
    t = TcpListener(close_after=3)
    d = tmpdir()
    inp = write_input(d, b"")
    uri = f"cef+tcp://127.0.0.1:{t.port}?timeout=2s"
    eng = spawn("run", "--rules", rules_dir(),
                            "--input", f"file:{inp}", "--follow", "--exit-on-idle", "3s",
                            "--year", 2024, "--output", uri, "--stats")
    try:
        with open(inp, "ab") as f:
            f.write(sis_lines(3))
        wait_for(lambda: len(t.messages()) >= 3, 10, "3 CEF messages")
        time.sleep(0.5)  # the listener closes that connection
        with open(inp, "ab") as f:
            f.write(sis_lines(4, start=3))
        wait_for(lambda: len(t.messages()) >= 7, 15, "7 CEF messages")
        out, err = eng.communicate(timeout=30)
        assert eng.returncode == 0, err
        msgs = t.messages()
        assert len(t.conns) == 2, len(t.conns)
        users = [parse_cef(m)[2]["suser"] for m in msgs]
        assert users == [f"u{i}" for i in range(7)], users
        assert all(m.startswith("<163>") for m in msgs)
    finally:
        if eng.poll() is None:
            eng.kill()
            eng.wait()
        t.close()


@case
def cef_tcp_octet_framing_and_down_at_start():
    port = free_port()
    d = tmpdir()
    inp = write_input(d, b"")
    uri = f"cef+tcp://127.0.0.1:{port}?framing=octet"
    eng = spawn("run", "--rules", rules_dir(),
                            "--input", f"file:{inp}", "--follow", "--exit-on-idle", "3s",
                            "--year", 2024, "--output", uri, "--stats")
    t = None
    try:
        with open(inp, "ab") as f:
            f.write(sis_lines(2))
        time.sleep(1.0)
        t = TcpListener(port=port)  # the collector comes up late
        out, err = eng.communicate(timeout=30)
        assert eng.returncode == 0, err
        assert b"cannot connect" in err
        raw = bytes(t.conns[0])
        msgs = []
        while raw:
            n, _, rest = raw.partition(b" ")
            msgs.append(rest[:int(n)])
            raw = rest[int(n):]
        assert len(msgs) == 2 and all(b"CEF:0|hallmonitor|" in m and b"\n" not in m for m in msgs)
        assert stats_of(err)["outputs"][uri]["retries"] >= 1
    finally:
        if eng.poll() is None:
            eng.kill()
            eng.wait()
        if t:
            t.close()


@case
def cef_bad_uris_are_usage_errors():
    for bad in ("cef+udp://127.0.0.1", "cef+tcp://:514", "cef+udp://h:99999",
                "cef+udp://127.0.0.1:514?framing=octet", "cef+tcp://127.0.0.1:514?header=x"):
        p = hm("run", "--input", "-", "--output", bad, input=b"", check=False)
        assert p.returncode == 2 and bad.split("?")[0].encode() in p.stderr, (bad, p.stderr)


# ---------------------------------------------------------------- all at once


@case
def several_outputs_at_once():
    d = tmpdir()
    data = sis_lines(20)
    inp = write_input(d, data)
    db = os.path.join(d, "t.db")
    jl = os.path.join(d, "out.jsonl")
    hook = Hook()
    u = UdpListener()
    t = TcpListener()
    r = Redis()
    have_redis = bool(shutil.which("redis-server"))
    try:
        outs = [f"sqlite:{db}", f"jsonl:{jl}", f"webhook:{hook.url()}?secret=k",
                f"cef+udp://127.0.0.1:{u.port}", f"cef+tcp://127.0.0.1:{t.port}"]
        if have_redis:
            r.start()
            outs.append(f"redis://:{PASSWORD}@127.0.0.1:{r.port}/all")
        args = ["run", "--rules", rules_dir(), "--input", f"file:{inp}", "--year", 2024,
                "--workers", 2, "--batch", 6, "--stats"]
        for o in outs:
            args += ["--output", o]
        out = hm(*args, timeout=60)
        st = stats_of(out.stderr)
        for o in outs:
            assert st["outputs"][o]["lines"] == 20, (o, st["outputs"][o])
        keys = alert_keys(inp, data)
        assert sqlite3.connect(db).execute("SELECT count(*) FROM alerts").fetchone()[0] == 20
        assert len(open(jl).read().splitlines()) == 20
        assert len(hook.ok()) == 20
        for q in hook.requests:
            verify(q, "k")
        assert len(u.drain(20)) == 20
        wait_for(lambda: len(t.messages()) >= 20, 10, "20 TCP messages")
        assert [parse_cef(m)[2]["externalId"] for m in t.messages()] == keys
        if have_redis:
            assert [e["id"] for e in r.entries("all")] == keys
    finally:
        hook.close()
        t.close()
        r.stop()


if __name__ == "__main__":
    run("sinks")
