#!/usr/bin/env bash
# make bench: throughput figures taken in one run on one generated file (ratios, not
# absolute times, are the targets: the machines are shared and noisy).
set -eu
BUILD=${1:-build}
cd "$(dirname "$0")/.."
exec python3 bench/bench.py "$BUILD"
