#!/usr/bin/env python3
"""Correlation integration tests (docs/correlation.md): the real binary on generated SIS and
door-controller syslog lines with the rules of tests/correlation/. Memory vs Redis state,
worker counts, two instances sharing Redis, replays, kill -9 and rerun, Redis killed and
restarted under a running engine, late events, memory per live group.

Redis tests start their own redis-server on a free loopback port (password, no RDB
snapshots) and skip when redis-server is not installed. Every engine run has a timeout."""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, Skip, build_dir, case, hm, run, tmpdir  # noqa: E402

RULES = os.path.join(ROOT, "tests", "correlation", "sis_door.yml")
SIZING_RULES = os.path.join(ROOT, "tests", "correlation", "bruteforce_only.yml")
PW = "corr-test-pw"
# Single-instance runs need no peer discovery period (docs/correlation.md); the
# two-instance test restores the default.
os.environ["HM_CORR_JOIN_MS"] = "0"


# ------------------------------------------------------------------------------------
# input generation


def _hms(t):
    return f"{t // 3600:02d}:{(t // 60) % 60:02d}:{t % 60:02d}"


def sis(t, body, host=None):
    host = host or f"sis-app0{1 + t % 2}"
    return f"<134>Mar 11 {_hms(t)} {host} sis[3301]: {body}\n"


def door_denied(t, user):
    return (f'<134>Mar 11 {_hms(t)} acs-hs doorctl[811]: evt=ACCESS_DENIED door_id=HS-D02 '
            f'door="Jefferson High Front Office" reader=HS-R02 badge=0052577 holder="{user}" '
            f'reason=area_restricted time=2024-03-11T{_hms(t)}\n')


def fail(t, user, ip):
    return sis(t, f"login failure user={user} src={ip} portal=teacher method=password "
                  f"reason=bad_password country=US")


def success(t, user, ip, session):
    return sis(t, f"login success user={user} src={ip} portal=teacher method=sso "
                  f"session={session:08x} country=US")


# What scenario() plants, per correlation title (the noise never fires on its own).
EXPECTED = {
    "SIS password spray (many accounts, one source)": "sprays",
    "SIS login success after brute force": "bursts_with_success",
    "Badge denied, then grades changed by the same person": "doors",
    "Mass roster export": "exports",
}


def scenario(noise=5000, bursts=12, sprays=6, doors=8, exports=5, span=86000, seed=7):
    """Lines sorted by time over one day: background logins plus planted attacks.
    Returns (lines, counts of planted patterns)."""
    rnd = random.Random(seed)
    ev = []
    for i in range(noise):
        t = rnd.randrange(span)
        u = f"u{rnd.randrange(3000)}"
        ip = f"10.{rnd.randrange(40)}.{rnd.randrange(250)}.{rnd.randrange(250)}"
        ev.append((t, fail(t, u, ip) if rnd.random() < 0.3 else success(t, u, ip, i)))
    for b in range(bursts):  # 25 failures in 100 s, every other one followed by a success
        t0 = 600 + b * (span // bursts)
        for k in range(25):
            ev.append((t0 + k * 4, fail(t0 + k * 4, f"victim{b}", f"45.1.{b}.1")))
        if b % 2 == 0:
            ev.append((t0 + 300, success(t0 + 300, f"victim{b}", f"45.1.{b}.1", 0xAB0000 + b)))
    for s in range(sprays):  # 6 accounts from one source in 3 minutes
        t0 = 1200 + s * (span // sprays)
        for k in range(6):
            ev.append((t0 + k * 30, fail(t0 + k * 30, f"staff{s}x{k}", f"203.0.113.{s + 1}")))
    for d in range(doors):  # badge denied, grade change 400 s later
        t0 = 1800 + d * (span // doors)
        ev.append((t0, door_denied(t0, f"teacher{d}")))
        ev.append((t0 + 400, sis(t0 + 400, f"grade_change user=teacher{d} student=s27{d:05d} "
                                            f"course=MATH7 term=Q3 old=D new=B src=10.12.0.{d}")))
    for x in range(exports):  # 3 x 400 rows in 2 minutes
        t0 = 2400 + x * (span // exports)
        for k in range(3):
            ev.append((t0 + k * 60, sis(t0 + k * 60, f"export user=clerk{x} report=roster "
                                                      f"src=10.7.0.{x} records=400")))
    ev.sort(key=lambda e: e[0])
    counts = {"bursts": bursts, "bursts_with_success": (bursts + 1) // 2, "sprays": sprays,
              "doors": doors, "exports": exports}
    return "".join(e[1] for e in ev), counts


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


# ------------------------------------------------------------------------------------
# running the engine


def alert_lines(text):
    out = []
    for line in text.splitlines():
        if line.strip():
            obj = json.loads(line)
            assert obj["kind"] == "alert", obj
            out.append(line)
    return out


def by_id(lines):
    return {json.loads(l)["alert_id"]: l for l in lines}


def stats_of(stderr):
    for line in reversed(stderr.splitlines()):
        if line.startswith('{"kind":"stats"'):
            return json.loads(line)
    raise AssertionError("no stats line in stderr:\n" + stderr[-2000:])


def engine(inputs, *extra, rules=RULES, state=None, workers=1, timeout=120):
    """Runs to the end of input; returns (alert lines, stats)."""
    args = ["run", "--rules", rules, "--year", 2024, "--emit", "alerts", "--stats",
            "--workers", workers]
    for i in inputs:
        args += ["--input", f"file:{i}"]
    if state:
        args += ["--state", state]
    p = hm(*args, *extra, timeout=timeout)
    return alert_lines(p.stdout.decode()), stats_of(p.stderr.decode())


def engine_cmd(inputs, *extra, rules=RULES, state=None):
    cmd = [os.path.join(build_dir(), "hallmonitor"), "run", "--rules", rules, "--year", "2024",
           "--emit", "alerts", "--stats"]
    for i in inputs:
        cmd += ["--input", f"file:{i}"]
    if state:
        cmd += ["--state", state]
    return cmd + [str(x) for x in extra]


def count_by_title(lines):
    c = {}
    for l in lines:
        t = json.loads(l)["rule"]["title"]
        c[t] = c.get(t, 0) + 1
    return c


def read_lines(path):
    """Complete lines written so far (a killed writer may leave a partial last line)."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        data = f.read()
    return [l for l in data.split("\n")[:-1] if l.strip()]


# ------------------------------------------------------------------------------------
# a private redis-server


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def redis_cmd(port, *args, timeout=2.0):
    """One command (after AUTH) over RESP; returns the decoded reply (simple parser)."""
    def enc(*a):
        return b"".join([f"*{len(a)}\r\n".encode()] +
                        [f"${len(str(x).encode())}\r\n{x}\r\n".encode() for x in a])
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(enc("AUTH", PW) + enc(*args))
        f = s.makefile("rb")

        def read():
            line = f.readline()
            if not line:
                raise ConnectionError("closed")
            kind, rest = line[:1], line[1:-2]
            if kind in (b"+", b":"):
                return rest.decode()
            if kind == b"-":
                raise RuntimeError(rest.decode())
            if kind == b"$":
                n = int(rest)
                if n < 0:
                    return None
                data = f.read(n + 2)[:-2]
                return data.decode(errors="replace")
            if kind == b"*":
                return [read() for _ in range(int(rest))]
            raise RuntimeError(f"unexpected reply {line!r}")
        read()  # AUTH
        return read()


class Redis:
    def __init__(self, appendonly=False, port=None, datadir=None):
        if not shutil.which("redis-server"):
            raise Skip("redis-server not installed")
        self.port = port or free_port()
        self.dir = datadir or tmpdir()
        self.appendonly = appendonly
        self.proc = None
        self.start()

    def start(self):
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--requirepass", PW, "--save", "", "--dir", self.dir,
                "--appendonly", "yes" if self.appendonly else "no"]
        if self.appendonly:
            args += ["--appendfsync", "always"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if redis_cmd(self.port, "PING") == "PONG":
                    return
            except (OSError, RuntimeError):
                pass
            time.sleep(0.05)
        self.stop()
        raise AssertionError("redis-server did not start")

    def url(self, db=0):
        return f"redis://:{PW}@127.0.0.1:{self.port}/{db}"

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


_redis = None


def shared_redis():
    """One server for the tests that do not kill it (each test uses its own db index)."""
    global _redis
    if _redis is None:
        _redis = Redis()
    return _redis


_next_db = [1]


def fresh_db():
    _next_db[0] += 1
    assert _next_db[0] < 16
    return _next_db[0]


_scenario = {}


def scenario_file():
    """The standard scenario, written once, with its memory-backend reference alerts."""
    if not _scenario:
        d = tmpdir()
        p = os.path.join(d, "sis.log")
        text, counts = scenario()
        write(p, text)
        ref, st = engine([p])
        _scenario.update(path=p, counts=counts, ref=ref, stats=st)
    return _scenario


# ------------------------------------------------------------------------------------
# tests


@case
def memory_alerts_as_planted_and_independent_of_workers():
    s = scenario_file()
    c = count_by_title(s["ref"])
    want = {title: s["counts"][key] for title, key in EXPECTED.items()}
    assert c == want, (c, want)
    # the brute-force bursts fire too, but only feed the chained correlation (no generate)
    assert s["stats"]["correlation"]["fired"] == len(s["ref"]) + s["counts"]["bursts"], s["stats"]
    assert s["stats"]["correlation"]["late"] == 0
    chain = [json.loads(l) for l in s["ref"] if "after brute force" in l]
    for a in chain:
        assert a["rule"]["level"] == "critical"
        assert a["event_ids"][0].startswith("corr-"), a["event_ids"]
        assert a["evidence"]["events"][0]["rule"] == "5c000000-0000-4000-8000-000000000101"
    two, _ = engine([s["path"]], workers=2)
    assert sorted(two) == sorted(s["ref"])
    small, _ = engine([s["path"]], "--batch", 7, workers=2)
    assert sorted(small) == sorted(s["ref"])


@case
def redis_state_gives_the_same_alerts_as_memory():
    r = shared_redis()
    s = scenario_file()
    for workers, batch in ((1, 1024), (2, 1024), (2, 64)):
        lines, st = engine([s["path"]], "--batch", batch, state=r.url(fresh_db()), workers=workers)
        assert sorted(lines) == sorted(s["ref"]), f"workers={workers} batch={batch}"
        cs = st["correlation"]
        assert cs["backend_errors"] == 0, cs
        per_1000 = cs["round_trips"] * 1000.0 / st["records"]
        print(f"  redis workers={workers} batch={batch}: {cs['round_trips']} round trips for "
              f"{st['records']} events = {per_1000:.1f} per 1000 events")
        if batch == 1024:
            assert per_1000 < 10, per_1000


@case
def two_instances_sharing_redis_equal_one_instance():
    r = shared_redis()
    d = tmpdir()
    text, _ = scenario(noise=20000, seed=11)
    lines = text.splitlines(keepends=True)
    a, b = os.path.join(d, "half-a.log"), os.path.join(d, "half-b.log")
    write(a, "".join(lines[0::2]))
    write(b, "".join(lines[1::2]))
    # reference: one instance reading both files (lateness covers the whole day, so the
    # interleaving of the two files cannot make anything late)
    ref, st = engine([a, b], "--lateness", "1d")
    assert st["correlation"]["late"] == 0
    assert len(ref) > 20
    env = dict(os.environ)
    env.pop("HM_CORR_JOIN_MS", None)  # the default discovery period
    url = r.url(fresh_db())
    procs = []
    for name, inp in (("a", a), ("b", b)):
        cmd = engine_cmd([inp], "--lateness", "5m", "--batch", 100, "--workers", 2,
                         "--instance", name, state=url)
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env))
        # b starts half a second later: a has read all its input by then, and must not
        # decide windows before b registered (the discovery period)
        time.sleep(0.5)
    outs = []
    for p in procs:
        o, e = p.communicate(timeout=180)
        assert p.returncode == 0, e.decode()[-2000:]
        cs = stats_of(e.decode())["correlation"]
        assert cs["late"] == 0 and cs["backend_errors"] == 0, cs
        outs.append(alert_lines(o.decode()))
    union = {}
    for lines_ in outs:
        for k, v in by_id(lines_).items():
            assert union.setdefault(k, v) == v, "one alert id, two different alerts"
    refd = by_id(ref)
    missing, extra = set(refd) - set(union), set(union) - set(refd)
    assert not missing and not extra, (f"missing {len(missing)}: {[refd[m][:300] for m in list(missing)[:3]]}; "
                                       f"extra {len(extra)}: {[union[x][:300] for x in list(extra)[:3]]}")
    assert union == refd
    print(f"  instance a wrote {len(outs[0])}, b {len(outs[1])} alerts; union {len(union)} = one instance")


@case
def replay_against_the_same_redis_raises_no_new_alert_ids():
    r = shared_redis()
    s = scenario_file()
    url = r.url(fresh_db())
    first, _ = engine([s["path"]], state=url, workers=2)
    assert sorted(first) == sorted(s["ref"])
    again, st = engine([s["path"]], state=url, workers=2)
    assert set(by_id(again)) <= set(by_id(first))
    print(f"  replay wrote {len(again)} alerts, all with ids of the first run ({len(first)})")


def wait_for(pred, timeout, step=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return False


@case
def kill9_mid_stream_then_rerun_loses_no_alert():
    r = shared_redis()
    d = tmpdir()
    p = os.path.join(d, "big.log")
    text, _ = scenario(noise=60000, bursts=40, sprays=20, doors=20, exports=20, seed=3)
    write(p, text)
    ref, _ = engine([p], timeout=180)
    assert len(ref) > 50
    url = r.url(fresh_db())
    out1, out2 = os.path.join(d, "run1.jsonl"), os.path.join(d, "run2.jsonl")
    cmd1 = engine_cmd([p], "--batch", 16, "--workers", 2, "--instance", "crashy",
                      "--output", f"jsonl:{out1}", state=url)
    proc = subprocess.Popen(cmd1, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        seen = wait_for(lambda: len(read_lines(out1)) >= len(ref) // 4 or proc.poll() is not None, 120)
        assert seen and proc.poll() is None, "the first run ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    before = read_lines(out1)
    assert 0 < len(before) < len(ref), (len(before), len(ref))
    cmd2 = engine_cmd([p], "--batch", 16, "--workers", 2, "--instance", "crashy",
                      "--output", f"jsonl:{out2}", state=url)
    p2 = subprocess.run(cmd2, capture_output=True, timeout=300)
    assert p2.returncode == 0, p2.stderr.decode()[-2000:]
    after = read_lines(out2)
    union = by_id(before)
    union.update(by_id(after))
    assert set(union) == set(by_id(ref)), (len(union), len(ref))
    assert set(by_id(after)) <= set(by_id(ref))
    print(f"  killed after {len(before)} of {len(ref)} alerts; the rerun wrote {len(after)} "
          f"({len(set(by_id(before)) & set(by_id(after)))} repeated with the same ids)")


@case
def redis_killed_and_restarted_while_engine_runs():
    if not shutil.which("redis-server"):
        raise Skip("redis-server not installed")
    d = tmpdir()
    os.makedirs(os.path.join(d, "redis"))
    red = Redis(appendonly=True, datadir=os.path.join(d, "redis"))
    try:
        text, _ = scenario(noise=30000, seed=5)
        lines = text.splitlines(keepends=True)
        third = len(lines) // 3
        parts = ["".join(lines[:third]), "".join(lines[third:2 * third]), "".join(lines[2 * third:])]
        p = os.path.join(d, "live.log")
        out = os.path.join(d, "alerts.jsonl")
        write(p, parts[0])
        cmd = engine_cmd([p], "--follow", "--exit-on-idle", "6s", "--batch", 32, "--instance", "live",
                         "--output", f"jsonl:{out}", state=red.url(0))
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            assert wait_for(lambda: len(read_lines(out)) > 0, 60), "no alert from the first part"
            red.kill9()
            with open(p, "a") as f:  # input arrives while Redis is down
                f.write(parts[1])
            time.sleep(2.0)
            assert proc.poll() is None, "engine exited while Redis was down"
            paused_at = len(read_lines(out))
            red.start()  # same port and dir: state comes back from the append-only file
            with open(p, "a") as f:
                f.write(parts[2])
            _, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 0, err.decode()[-2000:]
        err = err.decode()
        assert "Connection refused" in err or "unavailable" in err, err[-2000:]
        cs = stats_of(err)["correlation"]
        assert cs["backend_errors"] > 0, cs
        got = read_lines(out)
        ref, _ = engine([p])  # same file, same event ids, uninterrupted, memory state
        assert set(by_id(got)) == set(by_id(ref)), (len(got), len(ref))
        assert sorted(by_id(got).values()) == sorted(by_id(ref).values())
        print(f"  {paused_at} alerts before the outage, {len(got)} in all (= uninterrupted run); "
              f"backend errors {cs['backend_errors']}")
    finally:
        red.stop()


@case
def late_and_out_of_order_events_end_to_end():
    d = tmpdir()
    burst = [fail(3600 + 3 * k, "victim", "45.9.9.9") for k in range(20)]
    burst.append(success(3600 + 200, "victim", "45.9.9.9", 1))
    sorted_p = os.path.join(d, "sorted.log")
    write(sorted_p, "".join(burst))
    # shuffled in blocks of 5 lines (15 s), then an event 10 minutes older than the rest
    shuffled = []
    for i in range(0, len(burst), 5):
        shuffled += list(reversed(burst[i:i + 5]))
    shuffled.append(fail(3600 - 600, "victim", "45.9.9.9"))
    shuf_p = os.path.join(d, "shuffled.log")
    write(shuf_p, "".join(shuffled))
    dead = os.path.join(d, "dead.jsonl")
    a, sa = engine([sorted_p])
    b, sb = engine([shuf_p], "--dead-letter", dead, "--batch", 4)
    assert sa["correlation"]["late"] == 0
    # one late event, a hit for two correlations (brute force and spray): two late hits
    assert sb["correlation"]["late"] == 2, sb["correlation"]

    def shape(lines):  # event ids are file offsets: compare what does not depend on them
        out = []
        for l in lines:
            x = json.loads(l)
            out.append((x["rule"]["id"], x["time"], json.dumps(x["group"], sort_keys=True),
                        x["evidence"]["value"], tuple(e["time"] for e in x["evidence"]["events"])))
        return sorted(out)
    assert len(a) == 1 and shape(a) == shape(b), (a, b)
    with open(dead) as f:
        dl = [json.loads(l) for l in f if l.strip()]
    late = [x for x in dl if "late event" in x.get("reason", "")]
    assert len(late) == 2, dl
    assert {x["id"] for x in late} == {f"file:{shuf_p}:{len(''.join(shuffled[:-1]))}"}, late
    assert {x["time"] for x in late} == {"2024-03-11T00:50:00Z"}, late
    assert {x["correlation"] for x in late} == {"5c000000-0000-4000-8000-000000000101",
                                                "5c000000-0000-4000-8000-000000000102"}


def handles_sigusr1(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) & (1 << (signal.SIGUSR1 - 1)))
    except OSError:
        pass
    return False


@case
def memory_per_live_group():
    d = tmpdir()

    def measure(n):
        p = os.path.join(d, f"groups-{n}.log")
        # n distinct (user, source) groups, one failure each, one per second
        write(p, "".join(fail(i, f"user{i:06d}", f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}")
                         for i in range(n)))
        cmd = engine_cmd([p], "--follow", "--exit-on-idle", "3s", "--lateness", "1d", "--workers", 1,
                         rules=SIZING_RULES)
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        stats = None
        try:
            # SIGUSR1 before the handler is installed would kill the process
            assert wait_for(lambda: handles_sigusr1(proc.pid) or proc.poll() is not None, 30)
            deadline = time.time() + 60
            buf = b""
            os.set_blocking(proc.stderr.fileno(), False)
            while time.time() < deadline and proc.poll() is None:
                proc.send_signal(signal.SIGUSR1)
                time.sleep(0.3)
                chunk = proc.stderr.read() or b""
                buf += chunk
                for line in buf.decode(errors="replace").splitlines():
                    if line.startswith('{"kind":"stats"'):
                        s = json.loads(line)
                        if s["records"] == n and s["correlation"]["groups"] == n:
                            stats = s
                if stats:
                    break
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert stats, "no stats with every record applied"
        return stats

    small, big = measure(2000), measure(40000)
    cs = big["correlation"]
    per_group = cs["state_bytes"] / cs["groups"]
    rss_per_group = (big["max_rss_kb"] - small["max_rss_kb"]) * 1024.0 / (40000 - 2000)
    print(f"  memory state: {cs['groups']} live event_count groups (1 member, id "
          f"'file:{d}/groups-40000.log:<offset>'), state_bytes {cs['state_bytes']} = "
          f"{per_group:.0f} bytes/group (target <= 200); process RSS grows "
          f"{rss_per_group:.0f} bytes/group")
    assert per_group <= 300, per_group


if __name__ == "__main__":
    try:
        run("test_correlation")
    finally:
        if _redis is not None:
            _redis.stop()
