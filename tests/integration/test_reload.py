#!/usr/bin/env python3
"""Hot reload: SIGHUP and --watch swap rule sets under load without losing events; a broken
rule set is rejected and the running one stays in force."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import case, run, tmpdir, build_dir  # noqa: E402

RULE = """title: SIS login failure for {prefix} accounts
id: 7d1c2f7e-0000-4000-8000-00000000000{n}
level: medium
logsource: {{product: sis}}
detection:
  sel:
    event: login_failure
    user|startswith: {prefix}
  condition: sel
"""


def lines(start, n, prefix):
    return "".join(
        f"<134>Mar 11 08:{(i // 60) % 60:02d}:{i % 60:02d} sis-app02 sis[3301]: login failure "
        f"user={prefix}{i} src=10.30.2.44 portal=teacher method=password reason=bad_password country=US\n"
        for i in range(start, start + n))


def start(d, extra=(), idle="3s"):
    return subprocess.Popen([os.path.join(build_dir(), "hallmonitor"), "run", "--rules", d,
                             "--input", f"file:{d}/in.log", "--follow", "--exit-on-idle", idle,
                             "--year", "2024", "--stats", "--batch", "64", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(p):
    out, err = p.communicate(timeout=60)
    stats = [json.loads(l) for l in err.splitlines() if l.startswith('{"kind":"stats"')][-1]
    alerts = [json.loads(l) for l in out.splitlines() if l.strip()]
    return alerts, stats, err


@case
def sighup_under_load_loses_nothing():
    d = tmpdir()
    with open(f"{d}/rule.yml", "w") as f:
        f.write(RULE.format(prefix="aaa", n=1))
    open(f"{d}/in.log", "w").close()
    p = start(d)
    written = 0
    with open(f"{d}/in.log", "a") as f:
        for step in range(30):
            prefix = "aaa" if step < 10 else "bbb"
            f.write(lines(written, 500, prefix))
            f.flush()
            written += 500
            if step == 10:  # switch the rule to the new accounts
                with open(f"{d}/rule.yml", "w") as r:
                    r.write(RULE.format(prefix="bbb", n=2))
                p.send_signal(signal.SIGHUP)
                time.sleep(1.0)  # let it load before the file changes again (a busy machine)
            if step == 20:  # a broken rule set must be rejected, the old one kept
                with open(f"{d}/rule.yml", "w") as r:
                    r.write("title: broken\ndetection: [\n")
                p.send_signal(signal.SIGHUP)
            time.sleep(0.05)
    alerts, stats, err = finish(p)
    assert stats["records"] == written, (stats["records"], written)  # no event lost
    assert stats["decoded"] == written
    assert stats["rule_reloads"] == {"ok": 1, "rejected": 1}, stats["rule_reloads"]
    assert "reload rejected" in err
    users = [a["fields"]["user"] for a in alerts]
    assert any(u.startswith("aaa") for u in users) and any(u.startswith("bbb") for u in users)
    # after the swap only the new rule fires, and the broken set never took over
    last_aaa = max(i for i, u in enumerate(users) if u.startswith("aaa"))
    first_bbb = min(i for i, u in enumerate(users) if u.startswith("bbb"))
    assert last_aaa < first_bbb
    assert sum(u.startswith("bbb") for u in users) >= 19 * 500 - 64, len(users)


@case
def watch_picks_up_changed_files():
    d = tmpdir()
    with open(f"{d}/rule.yml", "w") as f:
        f.write(RULE.format(prefix="aaa", n=1))
    with open(f"{d}/in.log", "w") as f:
        f.write(lines(0, 10, "bbb"))
    p = start(d, ["--watch"], idle="8s")
    time.sleep(1.0)
    with open(f"{d}/rule.yml", "w") as r:
        r.write(RULE.format(prefix="bbb", n=2))
    time.sleep(2.5)  # the watcher polls about once a second
    with open(f"{d}/in.log", "a") as f:
        f.write(lines(10, 10, "bbb"))
    alerts, stats, err = finish(p)
    assert stats["records"] == 20, stats["records"]
    assert stats["rule_reloads"]["ok"] == 1, err
    assert len(alerts) == 10, len(alerts)  # only the lines after the reload match


if __name__ == "__main__":
    run("reload")
