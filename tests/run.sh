#!/usr/bin/env bash
# Runs every test suite against BUILD (default build/) and ends with one line
# "N passed, N failed, N skipped" summing the test cases of all suites.
# Suites: cmocka unit tests (build/tests/test_*), golden decoder tests, integration
# tests (tests/integration/*.py, *.sh). Exit 1 when anything failed.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.."
passed=0 failed=0 skipped=0
failed_suites=()

count_line() { # parses "...: N passed, N failed[, N skipped]" from a suite's last such line
    local line
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
    if [ -z "$line" ]; then return 1; fi
    local p f s
    p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')
    f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')
    s=$(grep -oE '[0-9]+ skipped' <<<"$line" | grep -oE '[0-9]+' || true)
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + ${s:-0}))
    return 0
}

run_suite() { # name, command...
    local name=$1; shift
    local log
    log=$(mktemp)
    echo "== $name"
    "$@" >"$log" 2>&1
    local rc=$?
    cat "$log"
    if grep -q '^\[==========\] [0-9]* test(s) run' "$log"; then
        local total fails
        total=$(grep -oE '^\[==========\] [0-9]+ test\(s\) run' "$log" | grep -oE '[0-9]+' | tail -n1)
        fails=$(grep -oE '^\[  FAILED  \] [0-9]+ test' "$log" | grep -oE '[0-9]+' | tail -n1)
        fails=${fails:-0}
        passed=$((passed + total - fails)); failed=$((failed + fails))
    elif ! count_line "$log"; then
        if [ $rc -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    fi
    if [ $rc -ne 0 ]; then failed_suites+=("$name"); fi
    if [ $rc -ne 0 ] && ! grep -qE '[1-9][0-9]* failed|FAILED' "$log"; then
        failed=$((failed + 1)) # crashed or exited non-zero without reporting a failure
    fi
    rm -f "$log"
}

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    run_suite "unit $(basename "$t")" "$t"
done
run_suite "golden decoders" python3 tests/golden/run_golden.py "$BUILD"
# the shipped rule packs' own test cases (hallmonitor rules test counts each case)
for pack in rules/*/; do
    [ -f "$pack/district.yml" ] || continue
    compgen -G "$pack*.test.yml" >/dev/null || compgen -G "${pack}tests/*.yml" >/dev/null || continue
    run_suite "rule pack $pack" "$BUILD"/hallmonitor rules test "$pack" --placeholders "$pack/district.yml"
done
for t in tests/integration/test_*.py; do
    [ -e "$t" ] || continue
    run_suite "integration $(basename "$t")" python3 "$t" "$BUILD"
done
for t in tests/integration/test_*.sh; do
    [ -e "$t" ] || continue
    run_suite "integration $(basename "$t")" bash "$t" "$BUILD"
done

echo
if [ ${#failed_suites[@]} -gt 0 ]; then echo "failed suites: ${failed_suites[*]}"; fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
