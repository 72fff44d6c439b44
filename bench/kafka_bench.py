#!/usr/bin/env python3
"""Kafka input throughput against reading the same file, on the dev broker.

    python3 bench/kafka_bench.py BUILD DATA_FILE [--workers N] [--runs N]

Starts `hallmonitor devbroker` with one topic (enough partitions to stay below the mock
cluster's per-partition retention of 5 MiB / 100,000 messages), produces DATA_FILE into it
with kcat (one message per line), then times, alternately and with the same flags
(--emit none), `run --input file:DATA_FILE` and `run --input kafka://.../bench?group=...`
(a new group each run, so every run reads the whole topic).

Both runs are end to end: decode + detect + correlate with the shipped rules/k12 pack.
Rates: file = records / elapsed (engine --stats, rule loading excluded); kafka = records /
the input's active_s
(first record dispatched to the last one acknowledged: the consumer group's join, ~3 s on
the mock, and --exit-on-idle are not counted; the whole wall time is printed too).
Each run also prints the CPU time of the file run, of the Kafka run and of the dev broker
during it: on a small machine the broker and librdkafka's threads share the cores the
workers would otherwise have, which bounds the ratio.
Prints both medians and the median of the paired per-run ratios (target >= 0.7), and as its
last line one JSON object
{"kind":"kafka_bench",...} for bench/bench.py. Also importable: measure(build, data).
"""
import json
import math
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time


def _start_broker(build, topic, partitions):
    p = subprocess.Popen([os.path.join(build, "hallmonitor"), "devbroker", "--topics", topic,
                          "--partitions", str(partitions)],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = [None]
    t = threading.Thread(target=lambda: line.__setitem__(0, p.stdout.readline().decode().strip()),
                         daemon=True)
    t.start()
    t.join(15)
    if not line[0]:
        p.kill()
        raise RuntimeError("devbroker printed no bootstrap address")
    return p, line[0]


def _child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _proc_cpu(pid):
    """user + system CPU seconds of a running process (the dev broker)"""
    try:
        with open(f"/proc/{pid}/stat") as f:
            v = f.read().rsplit(")", 1)[1].split()
        return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def _stats(stderr):
    lines = [l for l in stderr.splitlines() if l.startswith('{"kind":"stats"')]
    if not lines:
        raise RuntimeError("no --stats line:\n" + stderr[-2000:])
    return json.loads(lines[-1])


def _flags(workers, rules=None):
    f = ["--workers", str(workers), "--year", "2024", "--tz", "America/Chicago", "--stats",
         "--emit", "none", "--dead-letter", "/dev/null", "--output", "/dev/null"]
    return f + (["--rules", rules] if rules else [])


# End to end means decode + detect + correlate: the shipped K-12 pack, as in section 3.
DEFAULT_RULES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                             "rules", "k12")


def measure(build, data, workers=2, runs=3, log=print, rules=DEFAULT_RULES):
    kcat = shutil.which("kcat")
    if not kcat:
        raise RuntimeError("kcat is not installed (make deps)")
    hmb = os.path.join(build, "hallmonitor")
    size = os.path.getsize(data)
    with open(data, "rb") as f:
        lines = sum(1 for _ in f)
    parts = max(4, math.ceil(size / (2 << 20)), math.ceil(lines / 40000))
    broker, boot = _start_broker(build, "bench", parts)
    try:
        t0 = time.time()
        subprocess.run([kcat, "-b", boot, "-P", "-t", "bench", "-X",
                        "sticky.partitioning.linger.ms=0", "-l", data],
                       check=True, capture_output=True, timeout=600)
        log(f"produced {lines} lines ({size / 1e6:.0f} MB) into {parts} partitions "
            f"in {time.time() - t0:.1f} s")
        file_rates, kafka_rates, walls, cpu = [], [], [], []
        for i in range(runs):
            c0 = _child_cpu()
            p = subprocess.run([hmb, "run", "--input", f"file:{data}"] + _flags(workers, rules),
                               capture_output=True, text=True, timeout=600, check=True)
            c1 = _child_cpu()
            s = _stats(p.stderr)
            file_rates.append(s["records"] / max(s["elapsed_s"], 1e-9))
            fc = s.get("correlation", {})
            t0 = time.time()
            b0 = _proc_cpu(broker.pid)
            p = subprocess.run([hmb, "run", "--input", f"kafka://{boot}/bench?group=bench-{i}",
                                "--exit-on-idle", "2s"] + _flags(workers, rules),
                               capture_output=True, text=True, timeout=600, check=True)
            walls.append(time.time() - t0)
            cpu.append((c1 - c0, _child_cpu() - c1, _proc_cpu(broker.pid) - b0))
            s = _stats(p.stderr)
            det = list(s["input_details"].values())[0]
            if s["records"] != lines:
                raise RuntimeError(f"kafka run read {s['records']} of {lines} records")
            kafka_rates.append(s["records"] / max(det["active_s"], 1e-9))
            kc = s.get("correlation", {})
            log(f"  run {i + 1}: file {file_rates[-1]:,.0f} ev/s, kafka {kafka_rates[-1]:,.0f} "
                f"ev/s (active {det['active_s']:.2f} s, wall {walls[-1]:.1f} s incl. group join "
                f"and 2 s idle); correlations fired: file {fc.get('fired')}, kafka "
                f"{kc.get('fired')} ({kc.get('late')} late hits of {kc.get('hits')}); CPU: file "
                f"run {cpu[-1][0]:.2f} s, kafka run {cpu[-1][1]:.2f} s + dev broker "
                f"{cpu[-1][2]:.2f} s on the same cores")
    finally:
        broker.send_signal(signal.SIGTERM)
        try:
            broker.wait(10)
        except subprocess.TimeoutExpired:
            broker.kill()
    f, k = statistics.median(file_rates), statistics.median(kafka_rates)
    # the ratio is taken pair by pair (each Kafka run against the file run just before it)
    # so a machine that speeds up or slows down during the bench does not skew it
    ratio = statistics.median(kr / fr for kr, fr in zip(kafka_rates, file_rates) if fr)
    return {"kind": "kafka_bench", "lines": lines, "partitions": parts, "workers": workers,
            "rules": os.path.basename(rules) if rules else None,
            "file_events_per_s": round(f), "kafka_events_per_s": round(k),
            "ratio": round(ratio, 3), "target": 0.7,
            "file_runs": [round(x) for x in file_rates],
            "kafka_runs": [round(x) for x in kafka_rates]}


def main():
    args = sys.argv[1:]
    if len(args) < 2 or "--help" in args:
        print(__doc__)
        sys.exit(0 if "--help" in args else 2)
    build, data = args[0], args[1]
    workers = int(args[args.index("--workers") + 1]) if "--workers" in args else 2
    runs = int(args[args.index("--runs") + 1]) if "--runs" in args else \
        int(os.environ.get("HM_BENCH_RUNS", "3"))
    r = measure(build, data, workers, runs)
    print(f"kafka input (dev broker), decode+detect+correlate with rules/{r['rules']}: "
          f"{r['kafka_events_per_s']:,} ev/s vs file {r['file_events_per_s']:,} ev/s; "
          f"ratio {r['ratio']:.2f} (median of {runs} paired runs; target >= 0.7), --workers {workers}")
    print(json.dumps(r))


if __name__ == "__main__":
    main()
