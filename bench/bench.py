#!/usr/bin/env python3
"""`make bench`: generates a 1M-line district day, then measures in the same run:
  - the line-split ceiling (read + memchr),
  - hallmonitor decode+normalize with 1 and 2 workers (no output: --emit none),
  - the same with JSONL event output to /dev/null,
and prints events/s, the ratios against the targets, and peak RSS.
Each figure is the median of RUNS runs (env HM_BENCH_RUNS, default 3)."""
import json
import os
import statistics
import subprocess
import sys

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
RUNS = int(os.environ.get("HM_BENCH_RUNS", "3"))
LINES = int(os.environ.get("HM_BENCH_LINES", "1000000"))
OUT = os.environ.get("HM_BENCH_DIR", "bench-out")


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def engine_run(data, workers, emit):
    cmd = [f"{BUILD}/hallmonitor", "run", "--input", f"file:{data}", "--workers", str(workers),
           "--year", "2024", "--tz", "America/Chicago", "--stats", "--emit", emit,
           "--dead-letter", "/dev/null", "--output", "/dev/null"]
    p = sh(cmd)
    stats = [json.loads(l) for l in p.stderr.splitlines() if l.startswith('{"kind":"stats"')][-1]
    return stats


def median_of(fn):
    vals = [fn() for _ in range(RUNS)]
    key = sorted(vals, key=lambda s: s["rate"])[len(vals) // 2]
    return key, [v["rate"] for v in vals]


def main():
    os.makedirs(OUT, exist_ok=True)
    data = os.path.join(OUT, "day.log")
    truth = os.path.join(OUT, "day.truth.jsonl")
    print(f"generating {LINES} lines (seed 1) ...", flush=True)
    sh([f"{BUILD}/hm-gen", "--lines", str(LINES), "--seed", "1", "--out", data, "--truth", truth])
    size = os.path.getsize(data)

    def split():
        s = json.loads(sh([f"{BUILD}/hm-linesplit", data]).stdout)
        s["rate"] = s["lines_per_s"]
        return s

    def eng(workers, emit):
        def f():
            s = engine_run(data, workers, emit)
            s["rate"] = s["events_per_s"]
            return s
        return f

    split()  # warm the page cache
    ceiling, ceil_runs = median_of(split)
    one, one_runs = median_of(eng(1, "none"))
    two, two_runs = median_of(eng(2, "none"))
    one_out, _ = median_of(eng(1, "events"))
    two_out, _ = median_of(eng(2, "events"))

    print()
    print(f"input: {data}: {ceiling['lines']} lines, {size / 1e6:.1f} MB, avg line {ceiling['avg_len']:.0f} B")
    print(f"decoded {one['decoded']} events, dead-lettered {one['dead_letter']}")
    print(f"{'figure':44s} {'events/s':>12s}  runs")
    print(f"{'line-split ceiling (read + memchr)':44s} {ceiling['rate']:12,.0f}  {[round(x) for x in ceil_runs]}")
    print(f"{'decode+normalize, 1 worker':44s} {one['rate']:12,.0f}  {[round(x) for x in one_runs]}")
    print(f"{'decode+normalize, 2 workers':44s} {two['rate']:12,.0f}  {[round(x) for x in two_runs]}")
    print(f"{'decode+normalize+JSONL out, 1 worker':44s} {one_out['rate']:12,.0f}")
    print(f"{'decode+normalize+JSONL out, 2 workers':44s} {two_out['rate']:12,.0f}")
    r1 = one["rate"] / ceiling["rate"]
    r2 = two["rate"] / one["rate"]
    print()
    print(f"ratio 1 worker / ceiling   = {r1:.4f} (1/{1 / r1:.1f}); target >= 1/15 = 0.0667: "
          f"{'MET' if r1 >= 1 / 15 else 'NOT MET'}")
    print(f"ratio 2 workers / 1 worker = {r2:.2f}; target >= 1.7: {'MET' if r2 >= 1.7 else 'NOT MET'}")
    print(f"peak RSS: 1 worker {one['max_rss_kb'] / 1024:.1f} MiB, 2 workers {two['max_rss_kb'] / 1024:.1f} MiB, "
          f"2 workers with output {two_out['max_rss_kb'] / 1024:.1f} MiB")
    allocator = sh([f"{BUILD}/hallmonitor", "--version"]).stdout.strip()
    print(f"binary: {allocator}; cores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
