#!/usr/bin/env python3
"""Syslog listener throughput: TCP on one connection, and the UDP loss-free rate.

    python3 bench/syslog_bench.py BUILD DATA_FILE [--workers N] [--runs N] [--udp-seconds S]

BUILD/hm-sendlog (bench/sendlog.c) loads DATA_FILE (one message per line) into memory,
then sends it from this machine to `hallmonitor run --input syslog+tcp://127.0.0.1:0` (or
syslog+udp) started with --emit none and --exit-on-idle 1s. The engine's --stats give the
counts and the listener's own timing (input_details): active_s (first record received to
the last batch handed to the pipeline), cpu_s (the listener thread's CPU time) and wait_s
(time the listener waited for the pipeline to free a batch: the backpressure that TCP
passes back to the sender).

TCP, one connection, LF framing (then octet-counted framing), RUNS runs each. A run counts
only if the engine received and decoded (or dead-lettered) every line sent.
  accepted  = records / (active_s - wait_s): lines read, framed and handed to the pipeline
              per second the listener was working; the listener's own rate on one
              connection (target >= 1M lines/s)
  cpu       = records / cpu_s: the same per second of the listener thread's CPU
  end to end = decoded / active_s: what the whole engine sustains from the socket, paced
              by the decoding workers; printed with decode from the same file, same
              workers (the pipeline's ceiling without a socket)
UDP: one datagram per line at paced target rates (100k, 200k, 400k, ... lines/s, each for
--udp-seconds, default 2), then a bisection between the last loss-free rate and the first
lossy one; a step is loss-free when the engine counted every datagram sent. Prints the
highest loss-free rate with, per step, the kernel's drop counters (the socket's
SO_RXQ_OVFL "kernel_drops" and the host's UDP RcvbufErrors/InErrors increase from
/proc/net/snmp) and the engine's counts.

Workers: --workers, default cores - 1 (the sender and the listener thread need a core).
The last line printed is one JSON object {"kind":"syslog_bench",...} for bench/bench.py.
Also importable: measure(build, data).
"""
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time

FLAGS = ["--year", "2024", "--tz", "America/Chicago", "--stats", "--emit", "none",
         "--dead-letter", "/dev/null", "--output", "/dev/null", "--exit-on-idle", "1s"]


def _stats(stderr):
    lines = [l for l in stderr.splitlines() if l.startswith('{"kind":"stats"')]
    if not lines:
        raise RuntimeError("no --stats line:\n" + stderr[-2000:])
    return json.loads(lines[-1])


def host_udp_errors():
    """Host-wide UDP+UDP6 (RcvbufErrors, InErrors) from /proc/net/snmp{,6}."""
    rcv = inerr = 0
    try:
        with open("/proc/net/snmp") as f:
            rows = [l.split() for l in f if l.startswith("Udp:")]
        if len(rows) >= 2:
            v = dict(zip(rows[0][1:], rows[1][1:]))
            rcv += int(v.get("RcvbufErrors", 0))
            inerr += int(v.get("InErrors", 0))
        with open("/proc/net/snmp6") as f:
            for l in f:
                k, _, n = l.partition(" ")
                if k == "Udp6RcvbufErrors":
                    rcv += int(n)
                elif k == "Udp6InErrors":
                    inerr += int(n)
    except OSError:
        pass
    return rcv, inerr


def _pump(f, acc):
    for l in f:
        acc.append(l)


def run_once(build, data, proto, workers, sender_args=(), uri_query="", senders=1):
    """One engine run fed by `senders` hm-sendlog processes (each given sender_args).
    Returns (combined sender result, engine stats, listener details, host UDP
    (RcvbufErrors, InErrors) increase)."""
    snds = [subprocess.Popen([os.path.join(build, "hm-sendlog"), proto, "-", data] +
                             list(sender_args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(senders)]
    eng = None
    try:
        # the senders load the file first; the engine starts once they are ready, so its
        # --exit-on-idle clock does not run during their preparation
        for snd in snds:
            ready = snd.stderr.readline().strip()
            if ready != "ready":
                raise RuntimeError(f"hm-sendlog: {ready} {snd.stderr.read()[-1000:]}")
        eng = subprocess.Popen([os.path.join(build, "hallmonitor"), "run", "--input",
                                f"syslog+{proto}://127.0.0.1:0{uri_query}", "--workers",
                                str(workers)] + FLAGS,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        err = []
        port = None
        deadline = time.time() + 15
        for l in eng.stderr:
            err.append(l)
            m = re.search(r"listening on (?:tcp|udp) \S*:(\d+)", l)
            if m:
                port = m.group(1)
                break
            if time.time() > deadline:
                break
        if not port:
            raise RuntimeError("listener did not start: " + "".join(err)[-2000:])
        t = threading.Thread(target=_pump, args=(eng.stderr, err), daemon=True)
        t.start()
        host0 = host_udp_errors()
        for snd in snds:
            snd.stdin.write(f"127.0.0.1:{port}\n")
            snd.stdin.flush()
        res = []
        for snd in snds:
            out, serr = snd.communicate(timeout=600)
            if snd.returncode != 0:
                raise RuntimeError(f"hm-sendlog exit {snd.returncode}: {serr[-1000:]}")
            res.append(json.loads(out.strip().splitlines()[-1]))
        sent = dict(res[0])
        for k in ("lines", "bytes", "send_errors", "cpu_s"):
            if k in sent:
                sent[k] = sum(r[k] for r in res)
        sent["elapsed_s"] = max(r["elapsed_s"] for r in res)
        sent["lines_per_s"] = round(sent["lines"] / max(sent["elapsed_s"], 1e-9))
        eng.wait(timeout=600)
        t.join(10)
        host1 = host_udp_errors()
        stats = _stats("".join(err))
        det = list(stats["input_details"].values())[0]
        return sent, stats, det, (host1[0] - host0[0], host1[1] - host0[1])
    finally:
        for p in snds + [eng]:
            if p and p.poll() is None:
                p.kill()
                p.wait()


def file_decode_rate(build, data, workers):
    p = subprocess.run([os.path.join(build, "hallmonitor"), "run", "--input", f"file:{data}",
                        "--workers", str(workers)] + FLAGS,
                       capture_output=True, text=True, timeout=600, check=True)
    s = _stats(p.stderr)
    return s["records"] / max(s["elapsed_s"], 1e-9)


def tcp_runs(build, data, workers, runs, octet=False, before=None, log=print):
    """RUNS runs on one connection; each must deliver every line to the pipeline. `before`
    is called before each run (the file decode runs, interleaved with these)."""
    rs = []
    for i in range(runs):
        if before:
            before()
        sent, s, d, _ = run_once(build, data, "tcp", workers, ["--octet"] if octet else [])
        if s["records"] != sent["lines"] or d["records"] != sent["lines"] or \
                s["decoded"] + s["dead_letter"] != s["records"]:
            raise RuntimeError(f"tcp run: sent {sent['lines']} lines, the engine received "
                               f"{s['records']} and decoded {s['decoded']}")
        busy = max(d["active_s"] - d["wait_s"], 1e-9)
        r = {"lines": sent["lines"], "bytes": sent["bytes"], "decoded": s["decoded"],
             "accepted": s["records"] / busy, "cpu": s["records"] / max(d["cpu_s"], 1e-9),
             "end_to_end": s["decoded"] / max(d["active_s"], 1e-9),
             "sender": sent["lines_per_s"], "active_s": d["active_s"], "wait_s": d["wait_s"],
             "cpu_s": d["cpu_s"]}
        rs.append(r)
        log(f"    run {i + 1}: accepted {r['accepted']:,.0f} lines/s (busy {busy:.3f} s of "
            f"active {d['active_s']:.3f} s), listener CPU {d['cpu_s']:.3f} s, end to end "
            f"{r['end_to_end']:,.0f} lines/s, sender {sent['lines_per_s']:,} lines/s")
    med = {k: statistics.median(x[k] for x in rs)
           for k in ("accepted", "cpu", "end_to_end", "sender", "active_s", "wait_s")}
    med["runs"] = rs
    return med


def udp_step(build, data, workers, rate, seconds, senders=1):
    lines = max(50000, int(rate * seconds)) // senders
    sent, s, d, host = run_once(build, data, "udp", workers,
                                ["--rate", str(int(rate / senders)), "--lines", str(lines)],
                                senders=senders)
    achieved = sent["lines"] / max(sent["elapsed_s"], 1e-9)
    return {"target": int(rate), "rate": round(achieved), "senders": senders,
            "sent": sent["lines"],
            "records": s["records"], "decoded": s["decoded"], "lost": sent["lines"] - s["records"],
            "kernel_drops": d.get("kernel_drops", 0), "host_rcvbuf_errors": host[0],
            "host_in_errors": host[1], "rcvbuf": d.get("rcvbuf", 0),
            "send_errors": sent.get("send_errors", 0), "wait_s": d["wait_s"],
            "active_s": d["active_s"], "cpu_s": d["cpu_s"],
            "cpu_us_per_datagram": round(d["cpu_s"] * 1e6 / max(s["records"], 1), 2),
            "sender_cpu_us_per_datagram": round(sent["cpu_s"] * 1e6 / max(sent["lines"], 1), 2)}


def udp_search(build, data, workers, seconds=2.0, start=100000, max_senders=2, log=print):
    """Doubling steps up to the first lossy rate, then bisection (3 steps at most). When one
    sender cannot reach a step's rate, the step is run again split over two senders."""
    steps = []

    def probe(rate, senders):
        r = udp_step(build, data, workers, rate, seconds, senders)
        r["loss_free"] = r["lost"] == 0 and r["send_errors"] == 0
        steps.append(r)
        log(f"    {r['target']:>9,} lines/s target, {senders} sender{'s' if senders > 1 else ''}: "
            f"sent {r['sent']:,} at {r['rate']:,}/s, engine {r['records']:,} ({r['lost']:,} "
            f"lost); kernel drops: socket {r['kernel_drops']:,}, host RcvbufErrors "
            f"+{r['host_rcvbuf_errors']:,}, InErrors +{r['host_in_errors']:,}; CPU per "
            f"datagram: listener {r['cpu_us_per_datagram']} us, senders "
            f"{r['sender_cpu_us_per_datagram']} us -> "
            f"{'loss-free' if r['loss_free'] else 'LOSS'}")
        return r

    good = None
    rate, senders = start, 1
    sender_limited = False
    while rate <= 6400000:
        r = probe(rate, senders)
        if not r["loss_free"]:
            break
        if not good or r["rate"] > good["rate"]:
            good = r
        if r["rate"] < 0.9 * rate:  # the senders cannot go faster
            if senders < max_senders:
                senders += 1
                continue
            sender_limited = True
            break
        rate *= 2
    # bisect between the best loss-free rate reached and the lowest lossy target
    bad = [x["target"] for x in steps if not x["loss_free"]]
    if good and bad:
        lo, hi = good["rate"], min(bad)
        for _ in range(3):
            if hi / lo <= 1.1:
                break
            mid = int(round((lo + hi) / 2, -4))
            if any(x["target"] == mid for x in steps):
                break
            r = probe(mid, senders)
            if r["loss_free"]:
                lo = max(lo, r["rate"])
                if r["rate"] > good["rate"]:
                    good = r
            else:
                hi = mid
    lossy = [x for x in steps if not x["loss_free"]]
    return {"loss_free_rate": good["rate"] if good else 0,
            "loss_free_target": good["target"] if good else 0,
            "loss_free_senders": good["senders"] if good else 0,
            "lowest_lossy_rate": min((x["rate"] for x in lossy), default=None),
            "lowest_lossy_target": min((x["target"] for x in lossy), default=None),
            "sender_limited": sender_limited, "rcvbuf": steps[0]["rcvbuf"] if steps else 0,
            "steps": steps}


def default_workers():
    return max(1, (os.cpu_count() or 2) - 1)


def measure(build, data, workers=None, runs=3, udp_seconds=2.0, log=print):
    if not os.path.exists(os.path.join(build, "hm-sendlog")):
        raise RuntimeError(f"{build}/hm-sendlog missing (make all)")
    workers = workers or default_workers()
    size = os.path.getsize(data)
    file_rates = []
    n_runs = f"{runs} run{'s' if runs != 1 else ''}"
    log(f"  TCP, one connection, LF framing, {n_runs}:")
    lf = tcp_runs(build, data, workers, runs, log=log,
                  before=lambda: file_rates.append(file_decode_rate(build, data, workers)))
    log(f"  TCP, one connection, octet-counted framing, {n_runs}:")
    oc = tcp_runs(build, data, workers, runs, octet=True, log=log)
    log(f"  UDP, paced steps of {udp_seconds:g} s:")
    udp = udp_search(build, data, workers, udp_seconds, log=log)
    lines = lf["runs"][0]["lines"]

    def pick(m):
        return {k: round(m[k]) if k not in ("active_s", "wait_s") else round(m[k], 3)
                for k in m if k != "runs"}

    return {"kind": "syslog_bench", "lines": lines, "bytes": size, "workers": workers,
            "runs": runs, "tcp_lf": pick(lf), "tcp_octet": pick(oc),
            "tcp_lf_runs": [round(x["accepted"]) for x in lf["runs"]],
            "tcp_end_to_end_runs": [round(x["end_to_end"]) for x in lf["runs"]],
            "file_decode": round(statistics.median(file_rates)),
            "target_tcp": 1000000,
            "udp": udp}


def report(r, log=print):
    lf, oc = r["tcp_lf"], r["tcp_octet"]
    w = r["workers"]
    tgt = r["target_tcp"]
    log(f"  {r['lines']:,} lines ({r['bytes'] / 1e6:.0f} MB) per TCP run, {w} worker"
        f"{'s' if w > 1 else ''}; every run: engine records = lines sent, all decoded or "
        f"dead-lettered; median of {r['runs']}")
    row = "  {:58s} {:>14,} {}"
    log(row.format("TCP LF: accepted (read+framed+handed over) per busy s", lf["accepted"],
                   f"lines/s  runs {r['tcp_lf_runs']}"))
    log(row.format("TCP LF: per second of listener-thread CPU", lf["cpu"], "lines/s"))
    log(row.format("TCP octet-counted: accepted per busy s", oc["accepted"], "lines/s"))
    log(row.format("TCP LF: end to end, accepted and decoded", lf["end_to_end"],
                   f"lines/s  runs {r['tcp_end_to_end_runs']}"))
    log(row.format(f"decode from the same file, {w} worker{'s' if w > 1 else ''} (no socket)",
                   r["file_decode"], "lines/s"))
    share = lf["wait_s"] / lf["active_s"] if lf["active_s"] else 0
    log(f"  the listener waited for a free batch {share:.0%} of its active time: "
        f"{'the decoding workers set the end-to-end rate' if share > 0.2 else 'the listener is busy'}")
    log(f"  target >= {tgt:,} lines/s accepted on one connection: "
        f"{'MET' if lf['accepted'] >= tgt else 'NOT MET'} (end to end "
        f"{'MET' if lf['end_to_end'] >= tgt else 'NOT MET'}, "
        f"{lf['end_to_end'] / r['file_decode']:.2f} of decoding from a file)")
    u = r["udp"]
    lossy = (f"losses from a {u['lowest_lossy_target']:,}/s target (sent at "
             f"{u['lowest_lossy_rate']:,}/s)" if u["lowest_lossy_target"] else "no step lost any")
    log(f"  UDP loss-free rate: {u['loss_free_rate']:,} lines/s (paced for "
        f"{u['loss_free_target']:,}/s by {u['loss_free_senders']} sender"
        f"{'s' if u['loss_free_senders'] > 1 else ''}); {lossy}"
        f"{'; the senders could go no faster' if u['sender_limited'] else ''}; receive buffer "
        f"{u['rcvbuf']:,} B")


def main():
    args = sys.argv[1:]
    if len(args) < 2 or "--help" in args:
        print(__doc__)
        sys.exit(0 if "--help" in args else 2)
    build, data = args[0], args[1]
    workers = int(args[args.index("--workers") + 1]) if "--workers" in args else None
    runs = int(args[args.index("--runs") + 1]) if "--runs" in args else \
        int(os.environ.get("HM_BENCH_RUNS", "3"))
    secs = float(args[args.index("--udp-seconds") + 1]) if "--udp-seconds" in args else 2.0
    r = measure(build, data, workers, runs, secs)
    report(r)
    print(json.dumps(r))


if __name__ == "__main__":
    main()
