#!/usr/bin/env bash
# Audit-log benchmark (issue 5: >= 50,000 durable appends/s with group commit on SQLite,
# verification >= 1,000,000 entries/s). On a fresh SQLite store (WAL, synchronous=FULL: every
# commit is fsync'd):
#   - group commit: THREADS threads append N entries, each waiting until its entry is durable;
#   - the peer: the same entries appended one transaction (one fsync) each, as a program
#     without group commit does, over N_SINGLE entries;
#   - verification of the whole chain (every entry's SHA-256 recomputed and linked), against
#     `sha256sum` reading the store file (the least a hospital would do to check a copy).
# Prints each rate and the ratios.
#
#   bench/audit_bench.sh [N] [THREADS] [N_SINGLE]     (defaults 1000000 64 5000)
#
# Environment: VIGIE_BIN_DIR=build/bin (never built by this script).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000000}
threads=${2:-64}
n_single=${3:-5000}
bin=${VIGIE_BIN_DIR:-$root/build/bin}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin/vigie" --home "$work/group" init >/dev/null
"$bin/vigie" --home "$work/single" init >/dev/null
rate() { echo "$1 / $2" | bc -l; }

read -r _ count secs batches < <("$bin/audit_bench" "sqlite:$work/group/vigie.db" group "$n" "$threads")
group_rate=$(rate "$count" "$secs")
printf 'group commit: %d durable appends from %d threads in %.2f s (%s): %.0f appends/s; target >= 50,000: %s\n' \
  "$count" "$threads" "$secs" "$batches" "$group_rate" \
  "$([ "$(echo "$group_rate >= 50000" | bc -l)" = 1 ] && echo met || echo NOT met)"
read -r _ count secs < <("$bin/audit_bench" "sqlite:$work/single/vigie.db" single "$n_single")
single_rate=$(rate "$count" "$secs")
printf 'one transaction each (peer): %d appends in %.2f s: %.0f appends/s; ratio %.1f\n' \
  "$count" "$secs" "$single_rate" "$(echo "$group_rate / $single_rate" | bc -l)"

sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
read -r _ count secs < <("$bin/audit_bench" "sqlite:$work/group/vigie.db" verify)
verify_rate=$(rate "$count" "$secs")
bytes=$(stat -c %s "$work/group/vigie.db")
start=$(date +%s.%N)
sha256sum "$work/group/vigie.db" >/dev/null
sha_secs=$(echo "$(date +%s.%N) - $start" | bc -l)
printf 'verification: %d entries in %.2f s: %.0f entries/s; target >= 1,000,000: %s\n' \
  "$count" "$secs" "$verify_rate" \
  "$([ "$(echo "$verify_rate >= 1000000" | bc -l)" = 1 ] && echo met || echo NOT met)"
printf 'sha256sum of the store file (%d MB, peer): %.2f s; verification takes %.1fx its time\n' \
  "$((bytes / 1000000))" "$sha_secs" "$(echo "$secs / $sha_secs" | bc -l)"
