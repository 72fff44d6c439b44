#!/usr/bin/env python3
"""Pipeline integration tests: ordering, inputs, dead letters, follow/rotation, stats,
usage errors. Runs the real binary on generated files."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import case, hm, run, tmpdir, build_dir  # noqa: E402


def kv_lines(n, start=0, host="h1"):
    return "".join(
        f"<134>Mar 11 {(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d} {host} app[7]: "
        f"seq={i} user=u{i % 97} src=10.0.{i % 250}.{i % 200} action=allow\n"
        for i in range(start, start + n)
    ).encode()


def events(stdout):
    return [json.loads(l) for l in stdout.decode().splitlines() if l.strip()]


def write(path, data, mode="wb"):
    with open(path, mode) as f:
        f.write(data)


@case
def order_kept_with_two_workers_and_small_batches():
    d = tmpdir()
    p = os.path.join(d, "a.log")
    write(p, kv_lines(20000))
    out = hm("run", "--input", f"file:{p}", "--workers", 2, "--batch", 37, "--year", 2024, "--no-raw")
    evs = events(out.stdout)
    assert len(evs) == 20000, len(evs)
    seqs = [int(e["vendor_fields"]["seq"]) for e in evs]
    assert seqs == list(range(20000)), "output order differs from input order"
    pos = [int(e["id"].rsplit(":", 1)[1]) for e in evs]
    assert pos[0] == 0 and all(b > a for a, b in zip(pos, pos[1:]))
    # byte offsets are exact: the id points at the start of the line
    raw = open(p, "rb").read()
    for e in evs[:50] + evs[-50:]:
        off = int(e["id"].rsplit(":", 1)[1])
        assert raw[off:].startswith(b"<134>"), off


@case
def same_output_with_one_or_two_workers():
    d = tmpdir()
    p = os.path.join(d, "a.log")
    write(p, kv_lines(5000))
    outs = []
    for w in (1, 2):
        o = hm("run", "--input", f"file:{p}", "--workers", w, "--year", 2024)
        outs.append([{k: v for k, v in e.items() if k != "recv_time"} for e in events(o.stdout)])
    assert outs[0] == outs[1]


@case
def glob_and_multiple_inputs_and_stdin():
    d = tmpdir()
    for i in range(3):
        write(os.path.join(d, f"part{i}.log"), kv_lines(100, start=i * 100))
    other = os.path.join(d, "other.txt")
    write(other, kv_lines(10, start=1000))
    out = hm("run", "--input", f"file:{d}/part*.log", "--input", f"file:{other}", "--input", "-",
             "--year", 2024, input=kv_lines(5, start=5000))
    evs = events(out.stdout)
    assert len(evs) == 315, len(evs)
    origins = {e["id"].rsplit(":", 1)[0] for e in evs}
    assert f"file:{d}/part0.log" in origins and f"file:{other}" in origins and "stdin" in origins
    for o in origins:  # per-source order kept
        pos = [int(e["id"].rsplit(":", 1)[1]) for e in evs if e["id"].rsplit(":", 1)[0] == o]
        assert pos == sorted(pos)


@case
def bad_input_goes_to_dead_letter_and_nothing_is_lost():
    d = tmpdir()
    p = os.path.join(d, "bad.log")
    good = kv_lines(3)
    big = b"<134>Mar 11 00:00:01 h app: k=" + b"A" * (1024 * 1024) + b" j=2\n"
    nul = b"<134>Mar 11 00:00:02 h app: user=a\x00b src=1.2.3.4 k=v\n"
    bad_utf8 = b"<134>Mar 11 00:00:03 h app: user=caf\xe9 src=1.2.3.4 k=v\n"
    trunc_json = b'{"id":{"applicationName":"login","time":"2024-03-11T00:00:00Z"},"actor":{"ema\n'
    garbage = b"\x01\x02 just some words without structure\n"
    empty_ts = b"<13>\n"
    data = good + big + nul + bad_utf8 + trunc_json + garbage + empty_ts + good
    write(p, data)
    dead = os.path.join(d, "dead.jsonl")
    out = hm("run", "--input", f"file:{p}", "--dead-letter", dead, "--stats", "--year", 2024)
    evs = events(out.stdout)
    deads = [json.loads(l) for l in open(dead)]
    stats = [json.loads(l) for l in out.stderr.decode().splitlines() if l.startswith("{")][-1]
    assert stats["records"] == 12, stats
    assert stats["decoded"] + stats["dead_letter"] == 12
    assert stats["dead_letter"] == len(deads)
    assert len(evs) + len(deads) == 12
    reasons = {d["pos"]: d["reason"] for d in deads}
    big_off = len(good)
    assert "max-record" in reasons[big_off], reasons
    big_dl = [x for x in deads if x["pos"] == big_off][0]
    assert big_dl["length"] == len(big) - 1 and len(big_dl["raw"]) == len(big) - 1  # kept whole
    assert stats["oversize"] == 1
    off_trunc = len(good) + len(big) + len(nul) + len(bad_utf8)
    assert off_trunc in reasons, reasons
    off_garbage = off_trunc + len(trunc_json)
    assert off_garbage in reasons
    # invalid UTF-8 and NUL lines are decoded (not lost to detection) and flagged
    flagged = {int(e["id"].rsplit(":", 1)[1]): e for e in evs if e.get("flags")}
    off_nul = len(good) + len(big)
    assert "nul_byte" in flagged[off_nul]["flags"]
    assert "invalid_utf8" in flagged[off_nul + len(nul)]["flags"]
    assert flagged[off_nul + len(nul)]["user"] == "caf\u00e9"  # Latin-1 reading of the byte
    assert stats["invalid_utf8"] == 1 and stats["nul_bytes"] == 1


@case
def follow_reads_growth_and_rotation():
    d = tmpdir()
    p = os.path.join(d, "live.log")
    write(p, kv_lines(10))
    proc = subprocess.Popen([os.path.join(build_dir(), "hallmonitor"), "run", "--input", f"file:{p}",
                             "--follow", "--exit-on-idle", "3s", "--year", "2024", "--batch", "4"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.6)
    write(p, kv_lines(10, start=10), "ab")
    write(p, b"<134>Mar 11 00:00:01 h app: seq=20 partial=", "ab")  # half a line
    time.sleep(0.6)
    write(p, b"yes k=v\n", "ab")
    time.sleep(0.6)
    os.rename(p, p + ".1")  # rotate
    write(p, kv_lines(5, start=100))
    time.sleep(0.8)
    write(p, kv_lines(5, start=105), "ab")
    out, err = proc.communicate(timeout=30)
    evs = events(out)
    seqs = [int(e["vendor_fields"]["seq"]) for e in evs]
    assert seqs == list(range(21)) + list(range(100, 110)), seqs
    assert [e for e in evs if e["vendor_fields"]["seq"] == "20"][0]["vendor_fields"]["partial"] == "yes"


@case
def sigusr1_prints_stats_and_sigterm_stops_cleanly():
    d = tmpdir()
    p = os.path.join(d, "live.log")
    write(p, kv_lines(50))
    proc = subprocess.Popen([os.path.join(build_dir(), "hallmonitor"), "run", "--input", f"file:{p}",
                             "--follow", "--year", "2024"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.8)
    proc.send_signal(signal.SIGUSR1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, (proc.returncode, err)
    stats = [json.loads(l) for l in err.decode().splitlines() if l.startswith("{")]
    assert stats and stats[0]["records"] == 50, err
    assert len(events(out)) == 50


@case
def slow_consumer_gets_everything():
    # a reader that drains slowly: the engine must block (backpressure), not drop
    d = tmpdir()
    p = os.path.join(d, "a.log")
    write(p, kv_lines(30000))
    proc = subprocess.Popen([os.path.join(build_dir(), "hallmonitor"), "run", "--input", f"file:{p}",
                             "--year", "2024", "--batch", "64"], stdout=subprocess.PIPE)
    n = 0
    time.sleep(1.0)  # let the pipe fill
    for line in proc.stdout:
        n += 1
    proc.wait(timeout=60)
    assert proc.returncode == 0 and n == 30000, n


@case
def usage_errors_exit_2_with_a_clear_message():
    cases = [
        (["run"], b"--input"),
        (["run", "--input", "file:/nonexistent/x.log"], b"/nonexistent/x.log"),
        (["run", "--input", "-", "--tz", "Mars/Olympus"], b"Mars/Olympus"),
        (["run", "--input", "-", "--bogus"], b"--bogus"),
        (["run", "--input", "-", "--workers", "0"], b"--workers"),
        (["run", "--input", "nosuch://x"], b"nosuch://x"),
        (["run", "--input", "-", "--mappings", "/nonexistent"], b"/nonexistent"),
        (["frobnicate"], b"frobnicate"),
    ]
    for args, needle in cases:
        p = hm(*args, input=b"", check=False)
        assert p.returncode == 2, (args, p.returncode)
        assert needle in p.stderr, (args, p.stderr)


@case
def broken_mapping_file_is_named():
    d = tmpdir()
    write(os.path.join(d, "kv.yml"), b"decoder: kv\nfields:\n  src: not_a_field\n")
    p = hm("run", "--input", "-", "--mappings", d, input=b"", check=False)
    assert p.returncode == 2
    assert b"kv.yml:3:8" in p.stderr and b"not_a_field" in p.stderr, p.stderr


@case
def version_names_jemalloc_and_help_works():
    p = hm("--version")
    assert b"jemalloc" in p.stdout or b"sanitizer" in p.stdout, p.stdout
    assert b"--input" in hm("run", "--help").stdout


if __name__ == "__main__":
    run("pipeline")
