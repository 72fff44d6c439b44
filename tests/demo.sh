#!/usr/bin/env bash
# make demo: generate a simulated district school day, run the engine over it with the
# shipped K-12 rule pack, and show what an analyst would see: the decoded sources, the
# alerts, and the prioritized incident queue with the top incident in full.
# Outputs stay in demo-out/.
set -eu
BUILD=${1:-build}
cd "$(dirname "$0")/.."
OUT=demo-out
mkdir -p "$OUT"
rm -f "$OUT"/output.jsonl "$OUT"/dead-letter.jsonl "$OUT"/triage.db "$OUT"/triage.db-*
echo "== generating a simulated school day (Mon 2024-03-11, 8 schools, attacks and look-alike decoys) ..."
"$BUILD"/hm-gen --lines 50000 --seed 7 --out "$OUT"/day.log --truth "$OUT"/day.truth.jsonl
echo "== hallmonitor run --rules rules/k12 --input file:$OUT/day.log --tz America/Chicago --year 2024 --emit all ..."
"$BUILD"/hallmonitor run --rules rules/k12 --input "file:$OUT/day.log" --tz America/Chicago --year 2024 \
    --emit all --output "jsonl:$OUT/output.jsonl" --output "sqlite:$OUT/triage.db" \
    --dead-letter "$OUT/dead-letter.jsonl" --stats 2> "$OUT"/stats.txt
python3 - "$OUT" <<'PY'
import collections, json, sys
out = sys.argv[1]
stats = [json.loads(l) for l in open(f"{out}/stats.txt") if l.startswith('{"kind":"stats"')][-1]
lines = [json.loads(l) for l in open(f"{out}/output.jsonl")]
evs = [x for x in lines if x["kind"] == "event"]
alerts = [x for x in lines if x["kind"] == "alert"]
incs = {}
for x in lines:
    if x["kind"] == "incident":
        incs[x["id"]] = x
print(f"\n{stats['records']:,} records in {stats['elapsed_s']:.2f} s: {stats['decoded']:,} decoded, "
      f"{stats['dead_letter']:,} dead-lettered; {len(alerts):,} alerts -> {len(incs):,} incidents")
print("\nevents per source type:")
for st, n in collections.Counter(e.get("src_type", "?") for e in evs).most_common():
    print(f"  {st:10s} {n:8,d}")
print("\nalerts per rule:")
for t, n in collections.Counter(a["rule"]["title"] for a in alerts).most_common(12):
    print(f"  {n:4d}  {t}")
PY
echo
echo "== the analyst's queue: hallmonitor incidents list --db $OUT/triage.db"
"$BUILD"/hallmonitor incidents list --db "$OUT/triage.db"
TOP=$("$BUILD"/hallmonitor incidents list --db "$OUT/triage.db" --format json |
      python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[0]["id"] if d else "")')
if [ -n "$TOP" ]; then
    echo
    echo "== the top incident in full: hallmonitor incidents show $TOP --db $OUT/triage.db"
    "$BUILD"/hallmonitor incidents show "$TOP" --db "$OUT/triage.db"
fi
echo
echo "outputs: $OUT/output.jsonl (events, alerts, incidents as JSON lines), $OUT/triage.db (SQLite triage"
echo "store), $OUT/dead-letter.jsonl, counters in $OUT/stats.txt; the day's ground truth: $OUT/day.truth.jsonl"
