"""Tiny test harness for integration tests: @case functions, a closing
"<suite>: N passed, N failed, N skipped" line, exit 1 on failure."""
import os
import subprocess
import sys
import tempfile
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
_cases = []


class Skip(Exception):
    pass


def case(fn):
    _cases.append(fn)
    return fn


def build_dir():
    b = sys.argv[1] if len(sys.argv) > 1 else "build"
    return b if os.path.isabs(b) else os.path.join(ROOT, b)


def hm(*args, input=None, timeout=120, check=True):
    """Runs build/hallmonitor with args; returns CompletedProcess (bytes)."""
    cmd = [os.path.join(build_dir(), "hallmonitor")] + [str(a) for a in args]
    p = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd} exited {p.returncode}: {p.stderr.decode(errors='replace')}")
    return p


def tmpdir():
    return tempfile.mkdtemp(prefix="hm-test-")


def run(suite):
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for fn in _cases:
        try:
            fn()
            counts["passed"] += 1
            print(f"ok   {fn.__name__}")
        except Skip as s:
            counts["skipped"] += 1
            print(f"skip {fn.__name__}: {s}")
        except Exception:
            counts["failed"] += 1
            print(f"FAIL {fn.__name__}")
            traceback.print_exc(limit=4)
    print(f"{suite}: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    sys.exit(1 if counts["failed"] else 0)
