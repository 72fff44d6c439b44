#!/usr/bin/env python3
"""score.py - score the K-12 rule pack on a generated district day.

usage: score.py BUILD DAYLOG TRUTH [--rules DIR] [--placeholders FILE] [--tz Area/City]
                                   [--year Y] [--alerts FILE] [--verbose]

Runs `BUILD/hallmonitor run` with the pack (rules/k12 and its district.yml) on DAYLOG
(written by `hm-gen ... --truth TRUTH`), matches every alert to the truth entries (time
window + entity fields), and prints:

  * per rule: true positives (alerts matching an injected scenario) and false positives
    (alerts matching a decoy, or nothing at all);
  * per scenario: detected / missed, and by which rules;
  * decoys flagged;
  * a closing summary line starting "score:".

Matching. Each truth entry names entity keys (user, src_ip, dst_ip, badge, visitor,
door_id, site, host) and a local start/end time. An alert matches an entry when
  - the alert's event times (or its time) fall within [start - 10 min, end + 10 min]
    (a visitor-overstay window is 4 h: its first event is used), and
  - one of the entry's strong entity values (user, src_ip, dst_ip, badge, visitor,
    door_id) occurs as a whole token in the alert: its fields, its correlation group, or
    the raw log lines of the events it cites. Weak keys (site, host) count only when the
    entry has no strong key.
Scenario entities are reserved by the generator (docs/bench-data.md), so a background
alert cannot match one by accident.

Expected alerts on a decoy: docs/bench-data.md says a plain "every watchlist hit" rule
rightly reports decoy_watchlist_denied (a sex-offender registry hit is a T-30 screening
event even when the desk turned the visitor away). Alerts of the rules listed in
EXPECTED_ON_DECOY are shown as expected and not counted as false positives.

Time zone: the generator writes district local time. FortiGate `eventtime` is a UTC epoch
in FortiOS, but hm-gen writes the local wall clock as if it were UTC; with a non-UTC --tz
the FortiGate events would then sit hours away from the rest. score.py detects that
(eventtime == header time read as UTC) and scores with --tz UTC instead, saying so.

Exit status: 0 when every scenario is detected and no decoy or background alert was
raised, 1 otherwise, 2 on usage or engine errors.
"""
import argparse
import calendar
import collections
import datetime as dt
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STRONG = ("user", "src_ip", "dst_ip", "badge", "visitor", "door_id")
WEAK = ("site", "host")
SLACK = dt.timedelta(minutes=10)
# decoy -> rule names whose alerts on it are expected (see module docstring)
EXPECTED_ON_DECOY = {
    "decoy_watchlist_denied": {"k12_visitor_watchlist_hit", "k12_visitor_watchlist_custody"},
}
MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}


def parse_args():
    ap = argparse.ArgumentParser(description="score the K-12 rule pack on a generated day")
    ap.add_argument("build")
    ap.add_argument("daylog")
    ap.add_argument("truth")
    ap.add_argument("--rules", default=os.path.join(ROOT, "rules", "k12"))
    ap.add_argument("--placeholders", default=None,
                    help="default: district.yml in the rules folder")
    ap.add_argument("--tz", default="America/Chicago")
    ap.add_argument("--year", default="2024")
    ap.add_argument("--alerts", default=None, help="also write the alerts (JSONL) here")
    ap.add_argument("--verbose", action="store_true", help="list every alert and its match")
    return ap.parse_args()


def fortigate_eventtime_is_local(path):
    """True when FortiGate eventtime equals the syslog header clock read as UTC."""
    with open(path, "rb") as f:
        for n, raw in enumerate(f):
            if n > 200000:
                break
            if b"eventtime=" not in raw or b"date=" not in raw:
                continue
            line = raw.decode("utf-8", "replace")
            m = re.search(r"date=(\d{4})-(\d\d)-(\d\d) time=(\d\d):(\d\d):(\d\d)", line)
            e = re.search(r"eventtime=(\d+)", line)
            if not m or not e:
                continue
            wall = calendar.timegm(tuple(int(x) for x in m.groups()) + (0, 0, 0))
            ev = int(e.group(1))
            while ev > 10**11:  # ms, us, ns
                ev //= 1000
            return abs(ev - wall) < 2
    return False


def local_to_utc(s, tz):
    t = dt.datetime.fromisoformat(s)
    if tz == "UTC":
        return t.replace(tzinfo=dt.timezone.utc)
    from zoneinfo import ZoneInfo
    return t.replace(tzinfo=ZoneInfo(tz)).astimezone(dt.timezone.utc)


def utc(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def token_in(value, text):
    """value occurs in text as a whole token (not inside a longer name or address)."""
    if not value or not text:
        return False
    return re.search(r"(?<![\w.@-])" + re.escape(value) + r"(?![\w@-]|\.\d)", text, re.I) is not None


def run_engine(a, tz):
    ph = a.placeholders or os.path.join(a.rules, "district.yml")
    cmd = [os.path.join(a.build, "hallmonitor"), "run", "--rules", a.rules, "--input",
           "file:" + os.path.abspath(a.daylog), "--year", a.year, "--tz", tz, "--emit", "alerts"]
    if os.path.exists(ph):
        cmd[4:4] = ["--placeholders", ph]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write("score.py: engine failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr))
        sys.exit(2)
    alerts = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    return [x for x in alerts if x.get("kind") == "alert"], cmd


def raw_lines(path, offsets):
    out = {}
    with open(path, "rb") as f:
        for off in sorted(offsets):
            f.seek(off)
            out[off] = f.readline().decode("utf-8", "replace").rstrip("\n")
    return out


def main():
    a = parse_args()
    truth = [json.loads(l) for l in open(a.truth) if l.strip()]
    tz = a.tz
    note = ""
    if tz != "UTC" and fortigate_eventtime_is_local(a.daylog):
        note = ("note: FortiGate eventtime in this log is the local clock written as UTC "
                "(bench/gen.c); scored with --tz UTC so all sources agree (asked: --tz %s)" % a.tz)
        tz = "UTC"
    alerts, cmd = run_engine(a, tz)
    if a.alerts:
        with open(a.alerts, "w") as f:
            for x in alerts:
                f.write(json.dumps(x) + "\n")

    # rule id -> name (alerts carry id and title; names come from the rule files)
    names = {}
    for dp, _, fn in os.walk(a.rules):
        for f in fn:
            if not f.endswith(".yml") or ".test." in f:
                continue
            cur = {}
            for line in open(os.path.join(dp, f), encoding="utf-8"):
                if line.startswith("---"):
                    cur = {}
                m = re.match(r"^(id|name):\s*(\S+)", line)
                if m:
                    cur[m.group(1)] = m.group(2)
                    if "id" in cur and "name" in cur:
                        names[cur["id"]] = cur["name"]

    # the raw lines every alert cites (file ids: file:PATH:OFFSET)
    want = set()
    for x in alerts:
        for eid in x.get("event_ids") or []:
            m = re.match(r"file:.*:(\d+)$", eid)
            if m:
                want.add(int(m.group(1)))
    raws = raw_lines(a.daylog, want)

    for t in truth:
        t["_start"] = local_to_utc(t["start"], tz) - SLACK
        t["_end"] = local_to_utc(t["end"], tz) + SLACK
        t["_hits"] = []

    rows = []  # (alert, matched truth entry or None)
    for x in alerts:
        rid = x["rule"]["id"]
        name = names.get(rid, rid)
        texts = []
        if x.get("fields"):
            texts.append(json.dumps(x["fields"]))
        if x.get("group"):
            texts.append(" ".join("%s=%s" % kv for kv in x["group"].items()))
        times = []
        ev = (x.get("evidence") or {})
        for e in ev.get("events") or []:
            if e.get("time"):
                times.append(utc(e["time"]))
        for eid in x.get("event_ids") or []:
            m = re.match(r"file:.*:(\d+)$", eid)
            if m and int(m.group(1)) in raws:
                texts.append(raws[int(m.group(1))])
        if ev.get("raw"):
            texts.append(ev["raw"])
        if not times:
            times = [utc(x["time"])]
        blob = "\n".join(texts)
        best = None
        for t in truth:
            if not any(t["_start"] <= tm <= t["_end"] for tm in times):
                continue
            ent = t.get("entity", {})
            keys = [k for k in STRONG if k in ent] or [k for k in WEAK if k in ent]
            if any(token_in(str(ent[k]), blob) for k in keys):
                if best is None or (best["decoy"] and not t["decoy"]):
                    best = t
        x["_name"] = name
        rows.append((x, best))
        if best:
            best["_hits"].append(name)

    per_rule = collections.OrderedDict()
    unmatched, decoy_alerts, expected_decoy = [], [], []
    for x, t in rows:
        r = per_rule.setdefault(x["_name"], {"title": x["rule"]["title"], "level": x["rule"]["level"],
                                             "tp": 0, "fp": 0, "exp": 0})
        if t is None:
            r["fp"] += 1
            unmatched.append(x)
        elif t["decoy"]:
            if x["_name"] in EXPECTED_ON_DECOY.get(t["scenario"], ()):
                r["exp"] += 1
                expected_decoy.append((x, t))
            else:
                r["fp"] += 1
                decoy_alerts.append((x, t))
        else:
            r["tp"] += 1

    print("K-12 pack score: %s on %s (%s)" % (os.path.relpath(a.rules, ROOT) if a.rules.startswith(ROOT) else a.rules,
                                              os.path.basename(a.daylog), os.path.basename(a.truth)))
    if note:
        print("  " + note)
    print("  %d alerts from %d rules" % (len(alerts), len(per_rule)))
    print("\n  per rule                                              level      TP  FP  (expected on decoy)")
    for name, r in sorted(per_rule.items(), key=lambda kv: (-kv[1]["fp"], kv[0])):
        print("  %-52s %-9s %3d %3d%s" % (name[:52], r["level"], r["tp"], r["fp"],
                                            "  (%d)" % r["exp"] if r["exp"] else ""))
    scen = [t for t in truth if not t["decoy"]]
    decoys = [t for t in truth if t["decoy"]]
    print("\n  per scenario")
    missed = 0
    for t in scen:
        ok = bool(t["_hits"])
        missed += not ok
        rules = ", ".join("%s x%d" % (k, v) for k, v in collections.Counter(t["_hits"]).items())
        print("  %-8s %-30s %-5s %s" % ("detected" if ok else "MISSED", t["scenario"], t["threat_ref"],
                                        rules if ok else "(no alert)  expect: " + t.get("expect", "")[:90]))
    print("\n  decoys (%d)" % len(decoys))
    flagged = 0
    for t in decoys:
        bad = [n for n in t["_hits"] if n not in EXPECTED_ON_DECOY.get(t["scenario"], ())]
        exp = [n for n in t["_hits"] if n in EXPECTED_ON_DECOY.get(t["scenario"], ())]
        flagged += bool(bad)
        if bad:
            print("  FLAGGED  %-30s %s" % (t["scenario"], ", ".join(sorted(set(bad)))))
        elif exp:
            print("  quiet    %-30s (expected standalone alert: %s)" % (t["scenario"], ", ".join(sorted(set(exp)))))
        else:
            print("  quiet    %s" % t["scenario"])
    if unmatched:
        print("\n  alerts matching no truth entry (background false positives): %d" % len(unmatched))
        for x in unmatched[:20]:
            print("    %s %s %s %s" % (x["time"], x["_name"], json.dumps(x.get("group")),
                                      json.dumps({k: (x.get("fields") or {}).get(k) for k in STRONG if (x.get("fields") or {}).get(k)})))
    if a.verbose:
        print("\n  all alerts")
        for x, t in rows:
            print("    %s %-45s -> %s" % (x["time"], x["_name"], t["scenario"] if t else "-"))
    fp = sum(r["fp"] for r in per_rule.values())
    tp = sum(r["tp"] for r in per_rule.values())
    print("\nscore: %d/%d scenarios detected, %d missed; %d/%d decoys flagged%s; %d true-positive alerts, "
          "%d false-positive alerts (%d on decoys, %d background)"
          % (len(scen) - missed, len(scen), missed, flagged, len(decoys),
             " (%d expected alert%s on decoy_watchlist_denied)" % (len(expected_decoy), "" if len(expected_decoy) == 1 else "s")
             if expected_decoy else "", tp, fp, len(decoy_alerts), len(unmatched)))
    return 0 if (missed == 0 and flagged == 0 and not unmatched) else 1


if __name__ == "__main__":
    sys.exit(main())
