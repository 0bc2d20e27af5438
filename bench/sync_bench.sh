#!/usr/bin/env bash
# Offline sync benchmark: an offline journal of N entries (a mix of status changes, location
# edits, backup checks and notes over the demo hospital's devices) uploaded by `vigie sync` to
# vigied over HTTPS, merged, audited entry by entry. Prints the time of `vigie sync` (upload,
# chain checks, merge, audit, snapshot refresh) against the issue's target: 100,000 entries in
# 10 s or less. No peer tool does this job; the figure is absolute.
#
#   bench/sync_bench.sh [N]          (default 100000)
#
# Environment: BENCH_PG_URL=postgresql://... runs the server on PostgreSQL (a fresh schema),
# VIGIE_BIN_DIR=build/bin (never built by this script). Exit status 0 whether the target is met
# or not; non-zero when something failed or a count is wrong.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-100000}
bin=${VIGIE_BIN_DIR:-$root/build/bin}
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
server=$work/server
pc=$work/pc
if [ -n "${BENCH_PG_URL:-}" ]; then
  schema="syncbench_$$"
  psql "$BENCH_PG_URL" -qc "CREATE SCHEMA $schema" >/dev/null
  "$bin/vigie" --home "$server" init --store "$BENCH_PG_URL?options=-csearch_path%3D$schema" >/dev/null
  backend=postgresql
else
  "$bin/vigie" --home "$server" init >/dev/null
  backend=sqlite
fi
sed -i 's/^level = "info"/level = "warn"/' "$server/vigie.toml"
"$bin/vigied" --home "$server" --port 0 >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 1 600); do grep -q 'listening on' "$work/out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^vigied listening on //p' "$work/out")
[ -n "$url" ] || { echo "vigied did not start" >&2; cat "$work/err" >&2; exit 1; }
"$bin/vigie" --home "$server" offline token-create bench >"$work/token" 2>/dev/null
"$bin/vigie" --home "$pc" offline init --site bench --server "$url" \
  --server-cert "$server/tls/server.crt" --token-file "$work/token" >/dev/null
last=$("$bin/sync_bench_fill" "$pc/offline/journal.db" "$n")
[ "$last" = "$n" ] || { echo "the journal has $last entries, not $n" >&2; exit 1; }

start=$(date +%s.%N)
"$bin/vigie" --home "$pc" sync --json >"$work/sync.json"
end=$(date +%s.%N)
stored=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stored"])' "$work/sync.json")
[ "$stored" = "$n" ] || { echo "the server stored $stored entries, not $n" >&2; exit 1; }
seconds=$(echo "$end - $start" | bc -l)
rate=$(echo "$n / $seconds" | bc -l)
verdict=$(echo "$seconds * 100000 / $n <= 10" | bc -l)
printf 'sync of %d offline entries (%s): %.2f s, %.0f entries/s; target 100,000 in <= 10 s: %s\n' \
  "$n" "$backend" "$seconds" "$rate" "$([ "$verdict" = 1 ] && echo met || echo NOT met)"
