#!/usr/bin/env bash
# make demo: generate a small district school day, run the engine over it with the
# shipped mappings, and summarize what it decoded. Outputs stay in demo-out/.
set -eu
BUILD=${1:-build}
cd "$(dirname "$0")/.."
OUT=demo-out
mkdir -p "$OUT"
rm -f "$OUT"/events.jsonl "$OUT"/dead-letter.jsonl
echo "== generating a simulated school day (Mon 2024-03-11, 8 schools) ..."
"$BUILD"/hm-gen --lines 50000 --seed 7 --out "$OUT"/day.log --truth "$OUT"/day.truth.jsonl
echo "== hallmonitor run --input file:$OUT/day.log --tz America/Chicago --year 2024 ..."
"$BUILD"/hallmonitor run --input "file:$OUT/day.log" --tz America/Chicago --year 2024 \
    --output "jsonl:$OUT/events.jsonl" --dead-letter "$OUT/dead-letter.jsonl" --stats \
    2> "$OUT"/stats.txt
python3 - "$OUT" <<'PY'
import collections, json, sys
out = sys.argv[1]
stats = [json.loads(l) for l in open(f"{out}/stats.txt") if l.startswith('{"kind":"stats"')][-1]
evs = [json.loads(l) for l in open(f"{out}/events.jsonl")]
print(f"\n{stats['records']:,} records in {stats['elapsed_s']:.2f} s "
      f"({stats['events_per_s']:,.0f}/s): {stats['decoded']:,} decoded, "
      f"{stats['dead_letter']:,} dead-lettered (see {out}/dead-letter.jsonl)")
print("\nevents per source type and decoder:")
by = collections.Counter((e.get("src_type", "?"), e["decoder"]) for e in evs)
for (st, dec), n in sorted(by.items(), key=lambda x: -x[1]):
    print(f"  {st:10s} {dec:12s} {n:8,d}")
print("\nnormalized verbs (top 15):")
for verb, n in collections.Counter(e.get("event", "?") for e in evs).most_common(15):
    print(f"  {verb:24s} {n:8,d}")
print("\na few decoded events (one per source type):")
seen = set()
for e in evs:
    st = e.get("src_type")
    if st in seen:
        continue
    seen.add(st)
    show = {k: v for k, v in e.items() if k not in ("raw", "recv_time", "vendor_fields", "kind")}
    print("  " + json.dumps(show)[:400])
print(f"\nall events: {out}/events.jsonl   counters: {out}/stats.txt")
PY
