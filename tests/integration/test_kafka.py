#!/usr/bin/env python3
"""Kafka integration tests against `hallmonitor devbroker` (librdkafka's mock cluster on
loopback): the Kafka input (consumer group, at least once, exactly-once output when
nothing crashes), kill -9 and restart, two members with one killed, pause/resume under a
stalled output, an unreachable broker, `forward`, and the Kafka output. Needs kcat (skips
cleanly without it). Every process is bounded in time; the dev broker is killed at the end.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Skip, build_dir, case, hm, run, tmpdir  # noqa: E402

KCAT = shutil.which("kcat")
N = 20000
TOPICS = "day,k9,two,reb,pr,out,raw,alerts,corr"
_broker = {"proc": None, "boot": None}
_data = {}


def hm_bin():
    return os.path.join(build_dir(), "hallmonitor")


def broker():
    """Starts (once) `devbroker --topics ... --partitions 4`; returns its bootstrap."""
    if not KCAT:
        raise Skip("kcat is not installed (make deps)")
    if _broker["boot"]:
        return _broker["boot"]
    p = subprocess.Popen([hm_bin(), "devbroker", "--topics", TOPICS, "--partitions", "4"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _broker["proc"] = p
    line = [None]

    def rd():
        line[0] = p.stdout.readline().decode().strip()
    t = threading.Thread(target=rd, daemon=True)
    t.start()
    t.join(10)
    if not line[0]:
        p.kill()
        raise AssertionError("devbroker printed no bootstrap line")
    _broker["boot"] = line[0]
    return line[0]


def stop_broker():
    p = _broker["proc"]
    if p and p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def lines_file():
    """The test input: hm-gen output when available, else synthetic SIS/door/kv lines with
    a unique seq so every event is distinguishable."""
    if "path" in _data:
        return _data["path"]
    d = tmpdir()
    path = os.path.join(d, "day.log")
    gen = os.path.join(build_dir(), "hm-gen")
    if os.access(gen, os.X_OK):
        subprocess.run([gen, "--lines", str(N), "--seed", "7", "--out", path], check=True,
                       capture_output=True, timeout=120)
    else:
        out = []
        for i in range(N):
            t = f"Mar 11 {(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}"
            k = i % 3
            if k == 0:
                out.append(f"<134>{t} sis-app02 sis[3301]: login failure user=u{i % 97} "
                           f"src=10.30.{i % 250}.{i % 200} portal=teacher method=password "
                           f"reason=bad_password country=US seq={i}")
            elif k == 1:
                out.append(f"<134>{t} acs-hs doorctl[811]: evt=ACCESS_DENIED door_id=HS-D02 "
                           f"door=\"Jefferson High Front Office\" reader=HS-R02 badge={i:07d} "
                           f"holder=\"u{i % 89}\" reason=area_restricted seq={i}")
            else:
                out.append(f"<134>{t} h1 app[7]: seq={i} user=u{i % 97} src=10.0.{i % 250}."
                           f"{i % 200} action=allow")
        with open(path, "w") as f:
            f.write("\n".join(out) + "\n")
    _data["path"] = path
    with open(path, "rb") as f:
        _data["n"] = sum(1 for l in f if l.strip())
    return path


def n_lines():
    lines_file()
    return _data["n"]


def produce(topic, path=None):
    boot = broker()
    # one random partition per message (the sticky partitioner would send long runs to one
    # partition: members would get very different shares)
    p = subprocess.run([KCAT, "-b", boot, "-P", "-t", topic, "-X", "sticky.partitioning.linger.ms=0",
                        "-l", path or lines_file()], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr.decode(errors="replace")


def norm(ev):
    e = dict(ev)
    e.pop("id", None)
    e.pop("recv_time", None)
    return json.dumps(e, sort_keys=True)


def events(data):
    if isinstance(data, bytes):
        data = data.decode()
    return [json.loads(l) for l in data.splitlines() if l.strip()]


def file_events(path=None):
    key = path or "file_events"
    if key not in _data:
        out = hm("run", "--input", f"file:{path or lines_file()}", "--year", 2024, "--no-raw",
                 "--workers", 2)
        _data[key] = sorted(norm(e) for e in events(out.stdout))
    return _data[key]


def small_file(n=5000):
    """The first n lines: the mock cluster keeps only the last 5 MiB (or 100,000 messages)
    of each partition, so single-partition (keyed) and large-message tests stay below."""
    path = lines_file() + f".{n}"
    if not os.path.exists(path):
        with open(lines_file(), "rb") as f, open(path, "wb") as o:
            for i, l in enumerate(f):
                if i >= n:
                    break
                o.write(l)
    return path


# The mock cluster keeps a group "rebalancing" for session.timeout.ms - 1 s after its last
# member left (45 s by default): a short session timeout keeps group reuse quick.
SESSION = ["-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"]


def kafka_run(topic, group, *extra, idle="3s", timeout=90):
    uri = f"kafka://{broker()}/{topic}?group={group}"
    return hm("run", "--input", uri, "--exit-on-idle", idle, "--year", 2024, "--no-raw",
              *SESSION, *extra, timeout=timeout)


def stats_of(stderr):
    if isinstance(stderr, bytes):
        stderr = stderr.decode(errors="replace")
    st = [json.loads(l) for l in stderr.splitlines() if l.startswith('{"kind":"stats"')]
    assert st, "no stats line: " + stderr[-2000:]
    return st[-1]


class Reader:
    """Reads a process's stdout (and stderr) in threads; stop_after=K stops reading stdout
    after K lines (the engine's output then blocks: a stalled output)."""

    def __init__(self, proc, stop_after=None, delay=0):
        self.p, self.lines, self.err = proc, [], []
        self.stop_after, self.delay = stop_after, delay
        self.resume = threading.Event()
        self.t = threading.Thread(target=self._out, daemon=True)
        self.te = threading.Thread(target=self._err, daemon=True)
        self.t.start()
        self.te.start()

    def _out(self):
        for l in self.p.stdout:
            self.lines.append(l)
            if self.delay:
                time.sleep(self.delay)
            if self.stop_after is not None and len(self.lines) == self.stop_after:
                self.resume.wait()

    def _err(self):
        for l in self.p.stderr:
            self.err.append(l.decode(errors="replace"))

    def stderr(self):
        return "".join(self.err)

    def finish(self, timeout=60):
        self.resume.set()
        self.t.join(timeout)
        self.te.join(timeout)
        # a process killed with SIGKILL may leave half a line: that batch was never
        # acknowledged, so it is read again by the next member (not a loss)
        data = b"".join(self.lines)
        if data and not data.endswith(b"\n"):
            data = data[:data.rfind(b"\n") + 1]
        return events(data)


def spawn(topic, group, *extra, idle="3s"):
    uri = f"kafka://{broker()}/{topic}?group={group}"
    return subprocess.Popen([hm_bin(), "run", "--input", uri, "--exit-on-idle", idle, "--year",
                             "2024", "--no-raw", *SESSION, *[str(x) for x in extra]],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_until(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@case
def devbroker_bootstrap_usable_by_kcat():
    boot = broker()
    host, port = boot.split(",")[0].rsplit(":", 1)
    assert host in ("127.0.0.1", "localhost") and int(port) > 0, boot
    md = subprocess.run([KCAT, "-b", boot, "-L", "-t", "day"], capture_output=True, timeout=20)
    assert md.returncode == 0, md.stderr
    assert b'topic "day" with 4 partitions' in md.stdout, md.stdout


@case
def kafka_input_matches_file_run_exactly_once():
    produce("day")
    out = kafka_run("day", "g1", "--stats", "--workers", 2)
    evs = events(out.stdout)
    ids = [e["id"] for e in evs]
    assert len(ids) == len(set(ids)) == n_lines(), (len(ids), len(set(ids)), n_lines())
    assert all(i.startswith("kafka:day/") for i in ids), ids[:3]
    parts = {i.rsplit(":", 1)[0] for i in ids}
    assert len(parts) > 1, parts  # spread over partitions
    # per partition, offsets are 0..n-1 in order
    for p in parts:
        offs = [int(i.rsplit(":", 1)[1]) for i in ids if i.rsplit(":", 1)[0] == p]
        assert offs == list(range(len(offs))), p
    assert sorted(norm(e) for e in evs) == file_events()
    st = stats_of(out.stderr)
    det = list(st["input_details"].values())[0]
    assert det["acked"] == n_lines() and det["in_flight"] == 0, det
    # offsets were committed at exit: the same group reads nothing more
    again = kafka_run("day", "g1", idle="2s")
    assert events(again.stdout) == [], "committed offsets not at the end"
    # another group reads everything again
    other = kafka_run("day", "g1b", idle="2s")
    assert len(events(other.stdout)) == n_lines()


@case
def backlog_from_partitions_correlates_like_the_file():
    """A backlog read from 4 partitions at once: partitions are hours apart in event time,
    so one watermark for all would make most correlation hits late (it did: 98% on the
    bench day). Per-partition watermarks give the file's correlation alerts, none late."""
    rules = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "rules", "k12")
    flags = ["--rules", rules, "--tz", "America/Chicago", "--emit", "alerts", "--stats",
             "--workers", 2]

    def shape(data):  # event ids differ (offsets vs partition offsets): compare the rest
        return sorted(json.dumps([a["rule"]["id"], a["time"], a.get("group"),
                                  a["evidence"].get("value"),
                                  [e.get("time") for e in a["evidence"].get("events", [])]])
                      for a in events(data) if "evidence" in a)
    ref = hm("run", "--input", f"file:{lines_file()}", "--year", 2024, "--no-raw", *flags)
    want = shape(ref.stdout)
    assert len(want) >= 5, len(want)  # the day has correlation alerts to compare
    assert stats_of(ref.stderr)["correlation"]["late"] == 0
    produce("corr")
    out = kafka_run("corr", "gcorr", *flags)
    cs = stats_of(out.stderr)["correlation"]
    assert cs["late"] == 0, cs
    assert shape(out.stdout) == want, (len(shape(out.stdout)), len(want))
    print(f"  {len(want)} correlation alerts from 4 partitions, as from the file; 0 late of "
          f"{cs['hits']} hits")


@case
def kill9_midway_then_restart_loses_nothing():
    produce("k9")
    group = "k9g"
    a = spawn("k9", group, "--batch", 50, "--workers", 1, idle="20s")
    ra = Reader(a, stop_after=3000)
    try:
        wait_until(lambda: len(ra.lines) >= 3000, 60, "3000 output lines")
        time.sleep(1.5)  # stalled output; the auto-commit of stored offsets runs meanwhile
    finally:
        a.kill()  # SIGKILL: no flush, no commit
        a.wait(10)
    first = ra.finish()  # everything it wrote before dying, pipe included
    assert 3000 <= len(first) < n_lines(), len(first)
    b = kafka_run("k9", group, "--stats", idle="3s", timeout=120)
    second = events(b.stdout)
    all_ids = {e["id"] for e in first} | {e["id"] for e in second}
    assert len(first) + len(second) >= n_lines()
    assert len(all_ids) == n_lines(), (len(all_ids), n_lines())  # no loss
    got = {norm(e) for e in first} | {norm(e) for e in second}
    assert got == set(file_events())
    dup = len(first) + len(second) - n_lines()
    print(f"     first run {len(first)}, restart {len(second)}, redelivered {dup}")
    # the restart committed the end: nothing is left for the group
    c = kafka_run("k9", group, idle="2s")
    assert events(c.stdout) == [], "final committed offsets are not at the end"


@case
def two_members_one_killed_survivor_takes_over():
    group = "twog"
    a = spawn("two", group, "--batch", 50, "--workers", 1, idle="30s")
    # B's idle time must outlast A's session timeout (6 s) after A stalls and is killed
    b = spawn("two", group, "--batch", 50, "--workers", 1, "--stats", idle="20s")
    ra = Reader(a, stop_after=1500)
    rb = Reader(b)
    try:
        def parts(r):
            return sum(int(l.split("assigned ")[1].split(" ")[0])
                       for l in r.err if " assigned " in l) - \
                sum(int(l.split("revoked ")[1].split(" ")[0]) for l in r.err if " revoked " in l)
        wait_until(lambda: parts(ra) > 0 and parts(rb) > 0 and parts(ra) + parts(rb) == 4, 40,
                   "both members assigned")
        produce("two")
        wait_until(lambda: len(ra.lines) >= 1500, 60, "member A output")
        time.sleep(1.5)
    finally:
        a.kill()
        a.wait(10)
    first = ra.finish()
    assert len(first) < n_lines()
    b.wait(120)
    second = rb.finish()
    assert b.returncode == 0, rb.stderr()[-2000:]
    ids = {e["id"] for e in first} | {e["id"] for e in second}
    assert len(ids) == n_lines(), (len(first), len(second), len(ids))
    assert {norm(e) for e in first} | {norm(e) for e in second} == set(file_events())
    det = list(stats_of(rb.stderr())["input_details"].values())[0]
    assert det["assigned"] == 4, det  # the survivor took the dead member's partitions


@case
def member_joining_midstream_rebalance_commits_what_is_done():
    """A cooperative rebalance while A is busy: A stops dispatching the revoked
    partitions, waits for their in-flight batches and commits them; B (or, if the group
    is still settling when B goes idle, a later member C) continues from there. Nothing is
    lost, and nothing is read twice unless the broker refused a commit (it does when the
    group moved to a newer generation meanwhile: then the records after the previous
    commit are read again)."""
    group = "rebg"
    # The mock holds each rebalance for session.timeout.ms - 1 s: a short session makes the
    # two cooperative rounds quick enough for B to see its partitions before going idle.
    fast = ["-X", "session.timeout.ms=3000", "-X", "heartbeat.interval.ms=300"]
    a = spawn("reb", group, "--batch", 20, "--workers", 1, *fast, idle="8s")
    ra = Reader(a, delay=0.0005)  # a slow reader keeps A busy
    b = rb = None
    try:
        wait_until(lambda: any(" assigned 4 " in l for l in ra.err), 30, "A assigned")
        produce("reb")
        wait_until(lambda: len(ra.lines) >= 2000, 60, "A output")
        b = spawn("reb", group, "--batch", 20, "--workers", 1, *fast, idle="12s")
        rb = Reader(b)
        a.wait(120)
        b.wait(120)
    finally:
        for p in (a, b):
            if p and p.poll() is None:
                p.kill()
    first, second = ra.finish(), rb.finish()
    assert a.returncode == 0 and b.returncode == 0, ra.stderr()[-1500:] + rb.stderr()[-1500:]
    assert any(" revoked " in l for l in ra.err), ra.stderr()[-2000:]
    rest = events(kafka_run("reb", group, idle="3s").stdout)
    evs = first + second + rest
    ids = [e["id"] for e in evs]
    assert len(set(ids)) == n_lines(), (len(first), len(second), len(rest), len(set(ids)))
    refused = any("ommit" in l and "failed" in l for l in ra.err + rb.err) or \
        any("still in flight" in l for l in ra.err)
    print(f"     A {len(first)}, B {len(second)}, after them {len(rest)}, "
          f"read twice {len(ids) - n_lines()}{' (a commit was refused)' if refused else ''}")
    if not refused:
        assert len(ids) == n_lines(), f"{len(ids) - n_lines()} duplicates after the rebalance"
    assert {norm(e) for e in evs} == set(file_events())


@case
def stalled_output_pauses_partitions_and_resumes():
    produce("pr")
    p = spawn("pr", "prg", "--batch", 50, "--workers", 1, "--stats", "-X",
              "queued.min.messages=1000")
    r = Reader(p, stop_after=500)
    wait_until(lambda: len(r.lines) >= 500, 60, "first output")
    time.sleep(2.5)  # output stalled: the consumer must pause, not buffer everything
    evs = r.finish()
    p.wait(60)
    assert p.returncode == 0, r.stderr()[-2000:]
    det = list(stats_of(r.stderr())["input_details"].values())[0]
    assert det["pauses"] >= 1, det
    ids = [e["id"] for e in evs]
    assert len(ids) == len(set(ids)) == n_lines()
    assert sorted(norm(e) for e in evs) == file_events()


@case
def unreachable_broker_clear_error_and_retries():
    t0 = time.time()
    out = hm("run", "--input", "kafka://127.0.0.1:1/day?group=gx", "--exit-on-idle", "4s",
             "--stats", timeout=60)
    took = time.time() - t0
    err = out.stderr.decode(errors="replace")
    assert "cannot reach Kafka brokers 127.0.0.1:1" in err, err
    assert "retrying" in err
    assert 3.5 <= took < 30, took
    det = list(stats_of(err)["input_details"].values())[0]
    assert det["broker_errors"] >= 2, det  # it kept trying until --exit-on-idle


@case
def broker_outage_midrun_reported_and_nothing_lost():
    produce("out")
    # small fetches and prefetch, so most records must be fetched after the outage;
    # quick reconnects
    p = spawn("out", "outg", "--batch", 20, "--workers", 1, "-X", "queued.min.messages=500",
              "-X", "max.partition.fetch.bytes=16384", "-X", "reconnect.backoff.max.ms=1000",
              "--stats", idle="8s")
    r = Reader(p)
    try:
        wait_until(lambda: len(r.lines) >= 2000, 60, "first output")
        _broker["proc"].send_signal(signal.SIGUSR1)  # every broker down
        wait_until(lambda: any("cannot reach Kafka brokers" in l for l in r.err), 30,
                   "the outage to be reported")
        time.sleep(2)
        during = len(r.lines)
        _broker["proc"].send_signal(signal.SIGUSR1)  # back up
        p.wait(120)
    finally:
        if p.poll() is None:
            p.kill()
    evs = r.finish()
    assert p.returncode == 0, r.stderr()[-2000:]
    err = r.stderr()
    assert f"cannot reach Kafka brokers {broker()}" in err, err[-2000:]
    ids = [e["id"] for e in evs]
    assert len(set(ids)) == n_lines(), (len(set(ids)), n_lines())  # nothing lost
    assert len(ids) == n_lines(), "records read twice without a restart"
    det = list(stats_of(err)["input_details"].values())[0]
    assert det["broker_errors"] >= 1 and det["lag"] == 0, det
    assert during < n_lines(), "the outage came too late to matter"
    assert "brokers reachable again" in err, err[-2000:]
    assert sorted(norm(e) for e in evs) == file_events()


@case
def forward_then_run_reproduces_file_events():
    boot = broker()
    path = small_file(8000)  # one key, so one partition: stay below the mock's 5 MiB
    fw = hm("forward", "--input", f"file:{path}", "--output", f"kafka://{boot}/raw",
            "--stats", timeout=120)
    st = json.loads([l for l in fw.stderr.decode().splitlines() if "forward_stats" in l][-1])
    assert st["records"] == 8000 and st["delivered"] == 8000, st
    one = subprocess.run([KCAT, "-b", boot, "-C", "-t", "raw", "-c", "1", "-e", "-q", "-f",
                          "%k|%h|%s\n"], capture_output=True, timeout=30).stdout.decode()
    key, hdrs, _ = one.split("|", 2)
    assert key == f"file:{path}", key
    assert "recv_time=" in hdrs and f"origin=file:{path}" in hdrs and "pos=" in hdrs
    out = kafka_run("raw", "rawg")
    evs = events(out.stdout)
    assert len(evs) == 8000
    assert sorted(norm(e) for e in evs) == file_events(path)


@case
def kafka_output_read_back_with_kcat():
    boot = broker()
    path = small_file(5000)  # ~2 MiB of JSON: below the mock's per-partition retention
    hm("run", "--input", f"file:{path}", "--year", 2024, "--no-raw", "--output",
       f"kafka://{boot}/alerts", timeout=120)
    back = subprocess.run([KCAT, "-b", boot, "-C", "-t", "alerts", "-e", "-q"],
                          capture_output=True, timeout=60)
    evs = events(back.stdout)
    assert len(evs) == 5000, len(evs)
    assert sorted(norm(e) for e in evs) == file_events(path)


@case
def kafka_usage_errors():
    p = hm("run", "--input", "kafka://127.0.0.1:9092", check=False)
    assert p.returncode == 2 and b"kafka://BROKER" in p.stderr, p.stderr
    p = hm("run", "--input", "kafka://127.0.0.1:9092/t", "-X", "no.such.property=1", check=False)
    assert p.returncode == 2 and b"no.such.property" in p.stderr, p.stderr
    p = hm("forward", "--input", "file:/dev/null", "--output", "jsonl:/tmp/x", check=False)
    assert p.returncode == 2 and b"kafka://" in p.stderr, p.stderr


if __name__ == "__main__":
    try:
        run("kafka")
    finally:
        stop_broker()
