#!/usr/bin/env python3
"""`make bench`: every throughput figure the issues ask for, taken in ONE run on this machine
(ratios between figures of the same run are the targets; absolute numbers drift on shared
machines). Each figure is the median of RUNS runs (env HM_BENCH_RUNS, default 5).

Sections (each prints `skipped: why` when a prerequisite is missing):
  1. decode: line-split ceiling vs decode+normalize with 1 and 2 workers on a 1M-line day
  2. detection, Windows: the SigmaHQ corpus on a Sysmon-like JSON stream, compiled matcher vs
     the reference evaluator; corpus compile time and memory
  3. detection + correlation, K-12: the shipped rule pack on the district day: decode alone vs
     decode+detect vs +correlation (memory state, Redis state), Redis round trips per 1000
     events, state bytes per group, per-rule true/false positives against the truth file
  4. Kafka: events/s consumed from the dev broker vs the same from a file
  5. syslog listeners: TCP lines/s accepted on one connection from a local sender (and end
     to end, decoded), the UDP loss-free rate with the kernel's drop counters
"""
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
RUNS = int(os.environ.get("HM_BENCH_RUNS", "5"))
LINES = int(os.environ.get("HM_BENCH_LINES", "1000000"))
WIN_EVENTS = int(os.environ.get("HM_BENCH_WIN_EVENTS", "200000"))
OUT = os.environ.get("HM_BENCH_DIR", "bench-out")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
HM = os.path.join(BUILD, "hallmonitor")


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def stats_of(stderr):
    return [json.loads(l) for l in stderr.splitlines() if l.startswith('{"kind":"stats"')][-1]


def engine(inputs, workers=1, emit="none", extra=(), check=True):
    cmd = [HM, "run", "--workers", str(workers), "--year", "2024", "--tz", "America/Chicago",
           "--stats", "--emit", emit, "--dead-letter", "/dev/null", "--output", "/dev/null"]
    for i in inputs:
        cmd += ["--input", i]
    cmd += list(extra)
    p = subprocess.run(cmd, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr[-2000:]}")
    return stats_of(p.stderr)


def median_run(fn, key):
    vals = [fn() for _ in range(RUNS)]
    vals.sort(key=lambda s: s[key])
    return vals[len(vals) // 2], [v[key] for v in vals]


def rate(s, phase=None):
    if phase == "detect":
        return s["decoded"] / s["detect_s"] if s.get("detect_s") else 0.0
    if phase == "decode":
        return s["records"] / s["decode_s"] if s.get("decode_s") else 0.0
    return s["events_per_s"]


def line(label, value, unit="events/s", runs=None):
    extra = f"  runs {[round(x) for x in runs]}" if runs else ""
    print(f"  {label:58s} {value:14,.0f} {unit}{extra}")


def section(title):
    print(f"\n== {title}", flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def bench_decode(data):
    section("1. decode + normalize (issue 3)")

    def split():
        s = json.loads(sh([f"{BUILD}/hm-linesplit", data]).stdout)
        s["rate"] = s["lines_per_s"]
        return s

    split()  # warm the page cache
    ceiling, ceil_runs = median_run(split, "rate")

    # 1 and 2 workers alternate (1, 2, 1, 2, ...) and the ratio is the median of the
    # pairs': a shared machine's speed drifts between runs, less within a pair. Pairs
    # still vary by +-25% here, so at least 10 (a run is under a second).
    ones, twos = [], []
    for _ in range(max(RUNS, 10)):
        for w, acc in ((1, ones), (2, twos)):
            s = engine([f"file:{data}"], workers=w)
            s["rate"] = rate(s)
            acc.append(s)
    pair_ratios = sorted(t["rate"] / o["rate"] for o, t in zip(ones, twos))
    one_runs, two_runs = [s["rate"] for s in ones], [s["rate"] for s in twos]
    one = sorted(ones, key=lambda s: s["rate"])[len(ones) // 2]
    two = sorted(twos, key=lambda s: s["rate"])[len(twos) // 2]
    print(f"  input {data}: {ceiling['lines']:,} lines, {os.path.getsize(data) / 1e6:.0f} MB, "
          f"avg line {ceiling['avg_len']:.0f} B; decoded {one['decoded']:,}, dead-lettered {one['dead_letter']:,}")
    line("line-split ceiling (read + memchr)", ceiling["rate"], runs=ceil_runs)
    line("decode+normalize, 1 worker", one["rate"], runs=one_runs)
    line("decode+normalize, 2 workers", two["rate"], runs=two_runs)
    r1 = one["rate"] / ceiling["rate"]
    r2 = pair_ratios[len(pair_ratios) // 2]
    print(f"  ratio 1 worker / ceiling   = {r1:.4f} (1/{1 / r1:.1f}); target >= 1/15: {'MET' if r1 >= 1 / 15 else 'NOT MET'}")
    print(f"  ratio 2 workers / 1 worker = {r2:.2f} (median of {len(pair_ratios)} paired runs, "
          f"pairs {[round(x, 2) for x in pair_ratios]}); target >= 1.7: {'MET' if r2 >= 1.7 else 'NOT MET'}")
    print(f"  peak RSS: 1 worker {one['max_rss_kb'] / 1024:.0f} MiB, 2 workers {two['max_rss_kb'] / 1024:.0f} MiB")
    return one


def bench_windows():
    section("2. detection: SigmaHQ corpus on a Windows/Sysmon-like stream (issue 4)")
    corpus = os.path.join(SHARED, "corpus", "sigma", "rules")
    if not os.path.isdir(corpus):
        print("  skipped: ../shared/corpus/sigma/rules is absent")
        return
    if not os.path.exists(f"{BUILD}/hm-wingen"):
        print("  skipped: build/hm-wingen missing")
        return
    win = os.path.join(OUT, "win.jsonl")
    sh([f"{BUILD}/hm-wingen", "--events", str(WIN_EVENTS), "--seed", "1", "--out", win])
    walls = []
    for _ in range(3):  # a median: one run on a shared machine can be several times slower
        t0 = time.time()
        chk = subprocess.run([HM, "rules", "check", corpus], capture_output=True, text=True)
        walls.append(time.time() - t0)
    wall = statistics.median(walls)
    print("  " + chk.stdout.strip().splitlines()[-1])
    print(f"  corpus load+compile wall time {wall:.2f} s (median of {len(walls)}, runs "
          f"{[round(w, 2) for w in walls]}; target <= 5 s: {'MET' if wall <= 5 else 'NOT MET'})")

    def eng():
        s = engine([f"file:{win}"], workers=1, extra=["--rules", corpus])
        s["rate"] = rate(s, "detect")
        return s

    comp, comp_runs = median_run(eng, "rate")
    print(f"  {comp['decoded']:,} events, {comp['alerts']:,} alerts; peak RSS with the corpus "
          f"loaded {comp['max_rss_kb'] / 1024:.0f} MiB")
    line("compiled matcher, detection only, 1 worker", comp["rate"], runs=comp_runs)
    line("compiled matcher, decode+detect end to end, 1 worker",
         comp["decoded"] / (comp["decode_s"] + comp["detect_s"]))
    ref_n = min(3000, WIN_EVENTS)
    small = os.path.join(OUT, "win-small.jsonl")
    with open(win, "rb") as f, open(small, "wb") as g:
        for i, l in enumerate(f):
            if i >= ref_n:
                break
            g.write(l)
    ref = engine([f"file:{small}"], workers=1, extra=["--rules", corpus, "--matcher", "reference"])
    ref_rate = rate(ref, "detect")
    line(f"reference evaluator, detection only ({ref_n:,} events)", ref_rate)
    print(f"  ratio compiled / reference = {comp['rate'] / ref_rate:.0f}x (target >= 50x: "
          f"{'MET' if comp['rate'] / ref_rate >= 50 else 'NOT MET'}); "
          f"target >= 500k events/s per worker: {'MET' if comp['rate'] >= 500000 else 'NOT MET'}")


def start_redis():
    if not shutil.which("redis-server"):
        return None, None
    port = free_port()
    d = tempfile.mkdtemp(prefix="hm-bench-redis-")
    p = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", d], stdout=subprocess.DEVNULL)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p, port
        except OSError:
            time.sleep(0.1)
    p.kill()
    return None, None


def bench_k12(data, truth, decode_only):
    section("3. K-12 pack: detection and correlation (issues 4, 5, 8)")
    pack = os.path.join(ROOT, "rules", "k12")
    if not os.path.isdir(pack) or not any(f.endswith(".yml") for f in os.listdir(pack)):
        print("  skipped: rules/k12 has no rules yet")
        return
    extra = ["--rules", pack]
    # "detection alone": a copy of the pack without its correlation documents (its detection
    # rules then alert on their own, which with --emit none only counts them)
    det_pack = os.path.join(OUT, "k12-detection-only")
    shutil.rmtree(det_pack, ignore_errors=True)
    shutil.copytree(pack, det_pack)
    for f in os.listdir(det_pack):
        p = os.path.join(det_pack, f)
        if not f.endswith(".yml") or f.endswith(".test.yml"):
            continue
        docs = open(p).read().split("\n---\n")
        keep = [d for d in docs if not any(l.startswith("correlation:") for l in d.splitlines())]
        if len(keep) != len(docs):
            with open(p, "w") as g:
                g.write("\n---\n".join(keep) if keep else "")

    def eng(state=None, emit="none"):
        def f():
            x = list(extra) + (["--state", state] if state else [])
            s = engine([f"file:{data}"], workers=1, emit=emit, extra=x)
            s["rate"] = rate(s)
            return s
        return f

    def timed(x):  # one run with the CPU time of the process (all threads)
        import resource
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        s = engine([f"file:{data}"], workers=1, extra=x)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        s["rate"] = rate(s)
        s["cpu_s"] = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
        return s

    # the configurations back to back, RUNS times: ratios of neighbours on a shared
    # machine, medians. Redis state runs right after the memory run of the same round, on a
    # database of its own (an empty state, as the memory run has)
    rp, port = start_redis()
    runs = {"dec": [], "det": [], "mem": [], "red": []}
    try:
        for i in range(RUNS):
            runs["dec"].append(timed([]))
            runs["det"].append(timed(["--rules", det_pack]))
            runs["mem"].append(timed(extra))
            if rp:
                runs["red"].append(timed(extra + ["--state", f"redis://127.0.0.1:{port}/{1 + i % 15}"]))
    finally:
        if rp:
            rp.kill()
    red_runs = runs.pop("red")
    med = {k: sorted(v, key=lambda s: s["rate"])[len(v) // 2] for k, v in runs.items()}
    cpu = {k: statistics.median(s["cpu_s"] for s in v) for k, v in runs.items()}
    dec, det, mem = med["dec"], med["det"], med["mem"]
    mem_runs = [s["rate"] for s in runs["mem"]]
    line("decode alone, 1 worker", dec["rate"], runs=[s["rate"] for s in runs["dec"]])
    line("decode+detect (pack without correlations), 1 worker", det["rate"],
         runs=[s["rate"] for s in runs["det"]])
    line("decode+detect+correlate (memory state), 1 worker", mem["rate"], runs=mem_runs)
    d_t, c_t = dec["rate"] / det["rate"] - 1, det["rate"] / mem["rate"] - 1
    d_c, c_c = cpu["det"] / cpu["dec"] - 1, cpu["mem"] / cpu["det"] - 1

    def ok(v, target):
        return "MET" if v <= target else "NOT MET"

    print(f"  detection cost vs decode alone:     +{d_t * 100:.0f}% time per event (target <= +40%: "
          f"{ok(d_t, 0.40)}); CPU +{d_c * 100:.0f}% ({cpu['dec']:.2f} -> {cpu['det']:.2f} s)")
    print(f"  correlation cost vs detection alone: +{c_t * 100:.0f}% time per event (target <= +25%: "
          f"{ok(c_t, 0.25)}); CPU +{c_c * 100:.0f}% ({cpu['det']:.2f} -> {cpu['mem']:.2f} s, "
          f"both threads)")
    c = mem.get("correlation", {})
    if c.get("groups") is not None:
        cs = statistics.median(s["correlation"].get("correlate_s", 0) for s in runs["mem"])
        busy = mem["decode_s"] + mem["detect_s"]
        print(f"  correlation: {c.get('hits', 0):,} hits, {c.get('fired', 0)} firings, "
              f"{c.get('late', 0)} late; writer thread {cs:.2f} s CPU in the correlator "
              f"({cs * 1e9 / max(c.get('hits', 1), 1):.0f} ns per hit), worker {busy:.2f} s "
              f"decode+detect: the {'worker' if busy >= cs else 'writer'} bounds 1-worker "
              f"throughput; peak {c.get('groups_peak', 0):,} groups, "
              f"{c.get('state_bytes_peak', 0):,} state bytes")
    # memory per live event_count group key: N groups of one member each, all alive at once
    # (a lateness longer than the input decides nothing before the end), peak state / groups
    sizing = os.path.join(ROOT, "tests", "correlation", "bruteforce_only.yml")
    if os.path.exists(sizing):
        n = 100000
        gp = os.path.join(OUT, "groups.log")
        with open(gp, "w") as g:
            for i in range(n):
                t = i // 10
                g.write(f"<134>Mar 11 {t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d} sis-app01 "
                        f"sis[3301]: login failure user=user{i:06d} src=10.{i // 65536 % 256}."
                        f"{i // 256 % 256}.{i % 256} portal=teacher method=password "
                        f"reason=bad_password country=US\n")
        s = engine([f"file:{gp}"], workers=1, extra=["--rules", sizing, "--lateness", "1d"])
        gc = s["correlation"]
        per = gc["state_bytes_peak"] / max(gc["groups_peak"], 1)
        print(f"  memory per live event_count group key: {per:.0f} bytes (target <= 200: "
              f"{ok(per, 200)}; {gc['groups_peak']:,} groups of one member, key 'userNNNNNN' + "
              f"address, id 'file:{gp}:<offset>', all alive at once; state_bytes_peak / "
              f"groups_peak, table and queues included)")
    if red_runs:
        # A run with shared state decides nothing in its first 2 s (the discovery period in
        # which peer instances register, docs/correlation.md): an input that ends sooner
        # waits out the rest at the end (peer_wait_s). That fixed start-up cost is shown,
        # and left out of the throughput the target is about.
        for r in red_runs:
            pw = r.get("correlation", {}).get("peer_wait_s", 0.0)
            r["rate_wall"] = r["rate"]
            r["peer_wait_s"] = pw
            r["rate"] = r["records"] / max(r["elapsed_s"] - pw, 1e-9)
        red = sorted(red_runs, key=lambda s: s["rate"])[len(red_runs) // 2]
        line("decode+detect+correlate (Redis state), 1 worker", red["rate"],
             runs=[s["rate"] for s in red_runs])
        rc = red.get("correlation", {})
        rt = rc.get("round_trips", 0)
        pairs = sorted(r["rate"] / m["rate"] for r, m in zip(red_runs, runs["mem"]))
        rr = pairs[len(pairs) // 2]
        wall = sorted(r["rate_wall"] / m["rate"] for r, m in zip(red_runs, runs["mem"]))
        print(f"  ratio Redis / memory = {rr:.2f} (median of {len(pairs)} paired runs, pairs "
              f"{[round(x, 2) for x in pairs]}; target >= 0.4: {'MET' if rr >= 0.4 else 'NOT MET'})")
        print(f"    the Redis runs' wall time includes {red['peer_wait_s']:.2f} s waiting at the end "
              f"of the input for the 2 s peer discovery period (a fixed cost of a run this short, "
              f"left out above); with it the ratio is {wall[len(wall) // 2]:.2f}")
        print(f"  Redis round trips {rt:,} = {rt / max(red['records'], 1) * 1000:.2f} per 1000 "
              f"events (target <= 2)")
    else:
        print("  Redis figures skipped: redis-server not installed")
    # true/false positives per rule against the truth file
    if truth and os.path.exists(truth) and os.path.exists(os.path.join(ROOT, "bench", "score.py")):
        p = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "score.py"), BUILD, data, truth],
                           capture_output=True, text=True)
        print(p.stdout.rstrip())


def bench_kafka(data):
    section("4. Kafka via the dev broker (issue 6)")
    kb = os.path.join(ROOT, "bench", "kafka_bench.py")
    if not os.path.exists(kb):
        print("  skipped: bench/kafka_bench.py not present")
        return
    if not shutil.which("kcat"):
        print("  skipped: kcat not installed")
        return
    # 2 workers (= cores here) and 1: on this machine the dev broker and librdkafka's threads
    # share the two cores with the workers, which a file run does not pay; with one worker
    # they have a core of their own, as the broker would on a production machine
    for w in (2, 1):
        p = subprocess.run([sys.executable, kb, BUILD, data, "--workers", str(w)],
                           capture_output=True, text=True)
        print("\n".join("  " + l for l in (p.stdout + p.stderr).strip().splitlines()))


def bench_syslog(data):
    section("5. syslog listeners (issue 6)")
    if not os.path.exists(f"{BUILD}/hm-sendlog"):
        print("  skipped: build/hm-sendlog missing")
        return
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import syslog_bench

    def log(msg):  # the module's lines are already indented for this report
        print(msg, flush=True)

    try:
        r = syslog_bench.measure(BUILD, data, runs=RUNS, log=log)
    except (RuntimeError, subprocess.SubprocessError, OSError) as e:
        print(f"  failed: {e}")
        return
    syslog_bench.report(r, log=log)


def main():
    os.makedirs(OUT, exist_ok=True)
    print(f"hallmonitor benchmark: {sh([HM, '--version']).stdout.strip()}; {os.cpu_count()} cores; "
          f"median of {RUNS} runs")
    data = os.path.join(OUT, "day.log")
    truth = os.path.join(OUT, "day.truth.jsonl")
    decode_only = None
    if os.path.exists(f"{BUILD}/hm-gen"):
        print(f"generating a {LINES:,}-line district day (seed 1) ...", flush=True)
        sh([f"{BUILD}/hm-gen", "--lines", str(LINES), "--seed", "1", "--out", data, "--truth", truth])
        decode_only = bench_decode(data)
    else:
        section("1. decode")
        print("  skipped: build/hm-gen missing")
    bench_windows()
    if decode_only:
        bench_k12(data, truth, decode_only)
        bench_kafka(data)
        bench_syslog(data)


if __name__ == "__main__":
    main()
