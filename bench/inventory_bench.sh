#!/usr/bin/env bash
# Inventory benchmark: import ROWS devices from CSV, then list and filter them, on SQLite and
# PostgreSQL, side by side with each database's own CSV loader and CLI (sqlite3 .import,
# psql \copy; the same SELECT through sqlite3/psql) — what a hospital would otherwise use to
# load an inventory file into a database. Prints seconds, rows/s and the ratio vigie/peer.
#   bench/inventory_bench.sh [ROWS]          (default 1000000; BENCH_RUNS=3 best-of runs)
# Vigie does more than the peer: it validates and normalises every row, checks duplicates,
# resolves sites, zones and products, writes devices and interfaces with their indexes, in one
# transaction; the peer copies text into one table without any index.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
runs=${BENCH_RUNS:-3}
port=${BENCH_PG_PORT:-55490}
bin=$PWD/build/bin
[ -x "$bin/vigie" ] || { echo "build first: scripts/build" >&2; exit 2; }
work=$(mktemp -d /tmp/vigie-bench.XXXXXX)
chmod 755 "$work"
pg_dir=/tmp/vigie-bench-pg-$port
cleanup() {
  tests/support/pg_server.sh stop "$pg_dir" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
# best_of CMD...: the fastest of $runs runs, after `reset` prepared a fresh target each time.
best_of() {
  local best=""
  for _ in $(seq 1 "$runs"); do
    reset
    local t0 t1 d
    t0=$(now)
    "$@" >/dev/null
    t1=$(now)
    d=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$d < $best" | bc -l)" = 1 ]; then best=$d; fi
  done
  echo "$best"
}

echo "generating $rows devices..."
bench/gen_inventory.sh "$rows" "$work/devices.csv"
columns="vendor,product,part_number,serial_number,software_version,site,zone,ip,mac,hostname,location,owner,criticality,status"
peer_table="CREATE TABLE devices (vendor TEXT, product TEXT, part_number TEXT, serial_number TEXT, software_version TEXT, site TEXT, zone TEXT, ip TEXT, mac TEXT, hostname TEXT, location TEXT, owner TEXT, criticality TEXT, status TEXT)"

results=()
record() {  # operation backend vigie_s peer_s count
  results+=("$(printf '%-28s %-11s %9.2f %11.0f %9.2f %11.0f %7.2f' "$1" "$2" "$3" \
    "$(echo "$5 / $3" | bc -l)" "$4" "$(echo "$5 / $4" | bc -l)" "$(echo "$3 / $4" | bc -l)")")
}

# --- SQLite
home=$work/sqlite-home
reset() { rm -rf "$home"; "$bin/vigie" --home "$home" init >/dev/null; }
v_import=$(best_of "$bin/vigie" --home "$home" devices import "$work/devices.csv")
reset() { rm -f "$work/peer.db" "$work/peer.db-wal" "$work/peer.db-shm"; }
p_import=$(best_of sqlite3 "$work/peer.db" -cmd "PRAGMA journal_mode=WAL" -cmd "PRAGMA synchronous=FULL" \
  -cmd "$peer_table" ".mode csv" ".import --skip 1 $work/devices.csv devices")
record "import CSV" sqlite "$v_import" "$p_import" "$rows"
# Listings run on the stores the last import runs left.
reset() { :; }
[ "$(sqlite3 "$home/vigie.db" 'SELECT COUNT(*) FROM devices')" = "$rows" ] || { echo "vigie stored a wrong count" >&2; exit 1; }
filtered=$(sqlite3 "$work/peer.db" "SELECT COUNT(*) FROM devices WHERE vendor IN ('Philips','Philips Medical Systems') AND zone='Imagerie'")
v_filter=$(best_of "$bin/vigie" --home "$home" devices list --vendor philips --zone Imagerie --json)
p_filter=$(best_of sqlite3 -json "$work/peer.db" "SELECT * FROM devices WHERE vendor IN ('Philips','Philips Medical Systems') AND zone='Imagerie'")
record "filter (vendor+zone) JSON" sqlite "$v_filter" "$p_filter" "$filtered"
v_list=$(best_of "$bin/vigie" --home "$home" devices list --json)
p_list=$(best_of sqlite3 -json "$work/peer.db" "SELECT * FROM devices")
record "list all JSON" sqlite "$v_list" "$p_list" "$rows"
sqlite_rate=$(echo "$rows / $v_import" | bc -l)

# --- PostgreSQL
tests/support/pg_server.sh start "$pg_dir" "$port" >/dev/null
pg="postgresql://postgres@127.0.0.1:$port/postgres"
home=$work/pg-home
reset() {
  psql "$pg" -qc "DROP SCHEMA IF EXISTS bench CASCADE" -c "CREATE SCHEMA bench" >/dev/null 2>&1
  rm -rf "$home"
  "$bin/vigie" --home "$home" init --store "$pg?options=-csearch_path%3Dbench" >/dev/null
}
v_import=$(best_of "$bin/vigie" --home "$home" devices import "$work/devices.csv")
reset() { psql "$pg" -qc "DROP TABLE IF EXISTS public.devices" -c "$peer_table" >/dev/null; }
p_import=$(best_of psql "$pg" -qc "\\copy public.devices ($columns) FROM '$work/devices.csv' WITH (FORMAT csv, HEADER true)")
record "import CSV" postgresql "$v_import" "$p_import" "$rows"
reset() { :; }
v_filter=$(best_of "$bin/vigie" --home "$home" devices list --vendor philips --zone Imagerie --json)
p_filter=$(best_of psql "$pg" -qAtc "SELECT json_agg(d) FROM public.devices d WHERE vendor IN ('Philips','Philips Medical Systems') AND zone='Imagerie'")
record "filter (vendor+zone) JSON" postgresql "$v_filter" "$p_filter" "$filtered"
v_list=$(best_of "$bin/vigie" --home "$home" devices list --json)
p_list=$(best_of psql "$pg" -qAtc "SELECT json_agg(d) FROM public.devices d")
record "list all JSON" postgresql "$v_list" "$p_list" "$rows"

echo
echo "Inventory benchmark, $rows devices, best of $runs; $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "$(sqlite3 --version | cut -d' ' -f1,2 | sed 's/^/sqlite3 /'); $(psql --version)"
printf '%-28s %-11s %9s %11s %9s %11s %7s\n' operation backend "vigie s" "vigie r/s" "peer s" "peer r/s" ratio
for r in "${results[@]}"; do echo "$r"; done
echo "(ratio = vigie time / peer time; filter rows/s counts the $filtered matching devices)"
if [ "$(echo "$sqlite_rate >= 200000" | bc -l)" = 1 ]; then
  printf 'SQLite import: %.0f rows/s, meets the 200,000 rows/s target\n' "$sqlite_rate"
else
  printf 'SQLite import: %.0f rows/s, BELOW the 200,000 rows/s target\n' "$sqlite_rate"
fi
