#!/usr/bin/env bash
# Advisory benchmarks (see bench/README.md): CSAF parsing against jq and Python's json module on
# the same large document, and matching a large inventory against thousands of advisories.
#   bench/advisory_bench.sh [DEVICES] [ADVISORIES] [PRODUCTS_IN_LARGE_DOC]
# Uses build/bin/csaf_bench (scripts/build builds it). Exits 0 whether targets are met or not.
set -euo pipefail
cd "$(dirname "$0")/.."
devices=${1:-1000000}
advisories=${2:-5000}
products=${3:-20000}
runs=${BENCH_RUNS:-3}
bench=${CSAF_BENCH:-build/bin/csaf_bench}
[[ -x $bench ]] || { echo "advisory_bench: $bench is missing (run scripts/build)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
doc=$tmp/large.json
"$bench" write "$doc" "$products"
size=$(stat -c %s "$doc")
mb=$(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1e6 }')
echo "== CSAF parse: one document of $mb MB ($products product branches), best of $runs"

# Best wall-clock time of a command over $runs runs.
best() {
  local best_s=""
  for _ in $(seq "$runs"); do
    local start end s
    start=$(date +%s.%N)
    "$@" >/dev/null
    end=$(date +%s.%N)
    s=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
    if [[ -z $best_s ]] || awk -v x="$s" -v y="$best_s" 'BEGIN { exit !(x < y) }'; then best_s=$s; fi
  done
  echo "$best_s"
}

vigie_s=$(best "$bench" read "$doc")
jq_s=$(best jq empty "$doc")
py_s=$(best python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$doc")
"$bench" parse "$doc"
awk -v mb="$mb" -v v="$vigie_s" -v j="$jq_s" -v p="$py_s" 'BEGIN {
  printf "vigie read_csaf (whole process):        %.3f s (%.0f MB/s)\n", v, mb / v
  printf "jq empty:                               %.3f s (%.0f MB/s), ratio vigie/jq %.2f\n", j, mb / j, v / j
  printf "python3 json.load:                      %.3f s (%.0f MB/s), ratio vigie/python %.2f\n", p, mb / p, v / p
}'

echo "== Matching: $devices devices x $advisories advisories (target: full <= 2 s, one new <= 10 ms)"
"$bench" match "$devices" "$advisories"
