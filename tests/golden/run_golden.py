#!/usr/bin/env python3
"""Golden decoder tests.

For every expectation file tests/golden/<name>.expect.jsonl the matching input is
  ../shared/corpus/vendor-samples/<name>   (real vendor lines; skipped when absent), or
  tests/golden/samples/<name>              (project samples of the synthetic K-12 formats).
Each input line must decode (never dead-letter), and line N's event must contain every
key/value of the expectation object on line N of the expect file (subset match; nested
"vendor_fields" compared key by key). An optional first line {"_run": {...}} sets
`year` (default 2024) and `tz` (default UTC) for the run.

usage: run_golden.py BUILD_DIR [NAME...]   prints one "ok"/"FAIL" line per file and
a closing "golden: N passed, N failed, N skipped" line; exit 1 on failure.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "corpus", "vendor-samples")


def find_input(name):
    for d in (os.path.join(HERE, "samples"), SHARED):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    return None


def check_file(build, name, expect_path):
    with open(expect_path) as f:
        exp = [json.loads(l) for l in f if l.strip()]
    run = {"year": 2024, "tz": "UTC"}
    if exp and "_run" in exp[0]:
        run.update(exp[0]["_run"])
        exp = exp[1:]
    inp = find_input(name)
    if inp is None:
        return "skipped", f"{name}: input not found (../shared absent?)"
    dead = os.path.join(build, "golden-dead.jsonl")
    if os.path.exists(dead):
        os.unlink(dead)
    cmd = [os.path.join(build, "hallmonitor"), "run", "--input", "file:" + inp, "--year",
           str(run["year"]), "--tz", run["tz"], "--no-raw", "--dead-letter", dead, "--workers", "1"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return "fail", f"{name}: engine exited {p.returncode}: {p.stderr.strip()}"
    events = {}
    for line in p.stdout.splitlines():
        ev = json.loads(line)
        events[ev["id"]] = ev
    with open(inp, "rb") as f:
        raw = f.read()
    # line number -> byte offset
    offsets, off = [], 0
    for l in raw.split(b"\n"):
        if l.strip():
            offsets.append(off)
        off += len(l) + 1
    problems = []
    if os.path.exists(dead):
        with open(dead) as f:
            for l in f:
                d = json.loads(l)
                problems.append(f"pos {d['pos']}: dead-lettered: {d['reason']}")
    if len(exp) != len(offsets):
        problems.append(f"expect file has {len(exp)} lines, input has {len(offsets)}")
    for i, (o, e) in enumerate(zip(offsets, exp)):
        ev = events.get(f"file:{inp}:{o}")
        if ev is None:
            problems.append(f"line {i+1}: no event")
            continue
        for k, v in e.items():
            if k == "vendor_fields":
                got = ev.get("vendor_fields", {})
                for vk, vv in v.items():
                    if got.get(vk) != vv:
                        problems.append(f"line {i+1}: vendor_fields.{vk}: expected {vv!r}, got {got.get(vk)!r}")
            elif ev.get(k) != v:
                problems.append(f"line {i+1}: {k}: expected {v!r}, got {ev.get(k)!r}")
    if problems:
        return "fail", f"{name}:\n    " + "\n    ".join(problems[:40])
    return "ok", f"{name}: {len(offsets)} lines"


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    only = set(sys.argv[2:])
    counts = {"ok": 0, "fail": 0, "skipped": 0}
    for fn in sorted(os.listdir(HERE)):
        if not fn.endswith(".expect.jsonl"):
            continue
        name = fn[: -len(".expect.jsonl")]
        if only and name not in only:
            continue
        status, msg = check_file(build, name, os.path.join(HERE, fn))
        counts[status] += 1
        print({"ok": "ok  ", "fail": "FAIL", "skipped": "skip"}[status], msg)
    print(f"golden: {counts['ok']} passed, {counts['fail']} failed, {counts['skipped']} skipped")
    sys.exit(1 if counts["fail"] else 0)


if __name__ == "__main__":
    main()
