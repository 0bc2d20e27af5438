#!/usr/bin/env bash
# Inventory benchmark: import ROWS devices from one CSV file, then filter and list them, on
# SQLite and on PostgreSQL, side by side with what a hospital would otherwise use: the
# database's own CSV bulk loader (sqlite3 `.import`, psql `\copy`) into a table with the same
# 14 columns, and the same filtered/full SELECT run by the sqlite3/psql CLI writing JSON to
# /dev/null. Prints seconds, rows/s and the ratio Vigie time / peer time.
#
#   bench/inventory_bench.sh [ROWS]        (default 1000000)
#
# Environment:
#   BENCH_RUNS=3                  runs per measurement, the best (fastest) is kept; Vigie and
#                                 the peer run alternately so background noise hits both
#   BENCH_BACKENDS="sqlite postgresql"
#   BENCH_PG_PORT=55490           port of the throw-away PostgreSQL server this script starts
#   BENCH_MAX_LOAD=1.5 BENCH_MAX_BUSY=20 BENCH_WAIT=900
#                                 before starting, wait for the 1-minute load average to drop
#                                 below BENCH_MAX_LOAD; before each round, wait while other
#                                 processes keep more than BENCH_MAX_BUSY % of the CPU busy
#                                 (at most BENCH_WAIT s of waiting in all)
#   VIGIE_BIN=build/bin/vigie     the binary under test (never built by this script)
#
# Vigie does more than the peer: it validates and normalises every row (vendor and product
# names, IP, MAC, criticality, status), checks duplicates, resolves sites, zones and products,
# writes devices and interfaces with their indexes, all in one transaction. The peer copies
# text into one table without checks or indexes (also in one transaction). A benchmark, not a
# test: the exit status is 0 whether the target is met or not (non-zero only when something
# failed or a count is wrong).
# The per-operation functions (import_vigie, list_peer...) are called indirectly by `race`.
# shellcheck disable=SC2317
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-1000000}
runs=${BENCH_RUNS:-3}
backends=${BENCH_BACKENDS:-sqlite postgresql}
port=${BENCH_PG_PORT:-55490}
max_load=${BENCH_MAX_LOAD:-1.5}
max_wait=${BENCH_WAIT:-900}
max_busy=${BENCH_MAX_BUSY:-20}
vigie=${VIGIE_BIN:-$root/build/bin/vigie}
target=200000
# The filter: every Siemens device of one zone. Vigie takes any spelling ("siemens"); the peer
# must list the spellings found in the file (bench/gen_inventory.sh writes these three).
filter_vendor=siemens
filter_zone=Imagerie
peer_where="vendor IN ('Siemens Healthineers', 'SIEMENS', 'Siemens Healthcare GmbH') AND zone = '$filter_zone'"

[[ $rows =~ ^[1-9][0-9]*$ ]] || { echo "usage: inventory_bench.sh [ROWS]" >&2; exit 2; }
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "inventory_bench: BENCH_RUNS must be a positive integer" >&2; exit 2; }
[ -x "$vigie" ] || { echo "inventory_bench: no vigie binary at $vigie (build first: scripts/build)" >&2; exit 2; }
for tool in sqlite3 awk; do
  command -v "$tool" >/dev/null || { echo "inventory_bench: $tool is needed" >&2; exit 2; }
done

work=$(mktemp -d /tmp/vigie-bench.XXXXXX)
chmod 755 "$work"  # the PostgreSQL server runs as another user
pg_dir=/tmp/vigie-bench-pg-$port
pg_started=0
cleanup() {
  if [ "$pg_started" = 1 ]; then "$root/tests/support/pg_server.sh" stop "$pg_dir" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
# 1234567.8 -> 1,234,568
grouped() { awk -v x="$1" 'BEGIN { s = sprintf("%.0f", x); o = ""
  while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }
  print s o }'; }
load1() { cut -d' ' -f1 /proc/loadavg; }

# timed CMD...: runs CMD (stdout to /dev/null, stderr kept) and prints its wall-clock seconds.
timed() {
  local t0 t1
  t0=$(now)
  if ! "$@" >/dev/null 2>"$work/stderr"; then
    echo "inventory_bench: FAILED: $*" >&2
    cat "$work/stderr" >&2
    return 1
  fi
  t1=$(now)
  calc "$t1 - $t0"
}

# cpu_busy: percentage of the machine's CPU time (all cores) not idle during the next second;
# sampled between runs, when the benchmark itself is not running, it measures everybody else.
cpu_busy() {
  local a b
  a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
  sleep 1
  b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); t = (y[1] - x[1]) + (y[2] - x[2])
    printf "%.0f", (t > 0 ? 100 * (y[1] - x[1]) / t : 0) }'
}
# wait_quiet: before each round, wait while other processes keep more than BENCH_MAX_BUSY % of
# the CPU busy (a compile, a fuzzer...), within a total budget of BENCH_WAIT seconds; a round
# that starts busy anyway is counted in `disturbed`.
waited=0 disturbed=0
wait_quiet() {
  local busy
  busy=$(cpu_busy)
  while [ "$busy" -gt "$max_busy" ] && [ "$waited" -lt "$max_wait" ]; do
    echo "  (CPU ${busy}% busy with other work: waiting)"
    sleep 10
    waited=$((waited + 11))
    busy=$(cpu_busy)
  done
  if [ "$busy" -gt "$max_busy" ]; then disturbed=$((disturbed + 1)); fi
}

# race OP: $runs rounds of OP_vigie_reset, OP_vigie (timed), OP_peer_reset, OP_peer (timed),
# alternating; sets best_vigie and best_peer to the fastest times. The resets are not timed and
# end with `sync`, so that the write-back of a previous run does not slow the next one.
race() {
  local op=$1 r t
  best_vigie="" best_peer=""
  for ((r = 1; r <= runs; r++)); do
    "${op}_vigie_reset"
    wait_quiet
    t=$(timed "${op}_vigie")
    if [ -z "$best_vigie" ] || awk -v a="$t" -v b="$best_vigie" 'BEGIN { exit !(a < b) }'; then best_vigie=$t; fi
    "${op}_peer_reset"
    t=$(timed "${op}_peer")
    if [ -z "$best_peer" ] || awk -v a="$t" -v b="$best_peer" 'BEGIN { exit !(a < b) }'; then best_peer=$t; fi
  done
}

results=()
# record OPERATION BACKEND VIGIE_S PEER_TOOL PEER_S ROWS
record() {
  results+=("$(printf '%-26s %-10s %8.2f %10s   %-22s %8.2f %10s %6.2f' "$1" "$2" "$3" \
    "$(grouped "$(calc "$6 / $3")")" "$4" "$5" "$(grouped "$(calc "$6 / $5")")" "$(calc "$3 / $5")")")
}

check_equal() {  # WHAT GOT WANT
  if [ "$2" != "$3" ]; then
    echo "inventory_bench: WRONG COUNT: $1: $2, expected $3" >&2
    exit 1
  fi
  echo "  check: $1 = $2"
}

# --- the machine
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
machine="$(nproc) cores, ${cpu:-unknown CPU}, $(awk '/^MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
sqlite_version=$(sqlite3 --version | cut -d' ' -f1)
psql_version=$(psql --version 2>/dev/null || echo "psql not installed")
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "?")
echo "Vigie inventory benchmark: $rows devices, best of $runs"
echo "machine: $machine"
echo "vigie: $vigie (built $(date -r "$vigie" '+%F %T'), tree at $commit); sqlite3 $sqlite_version; $psql_version"
mapfile -t newer < <(find "$root/src" "$root/apps" -newer "$vigie" -type f \( -name '*.cc' -o -name '*.h' \) 2>/dev/null | head -n 3)
if [ "${#newer[@]}" -gt 0 ]; then
  echo "WARNING: sources newer than the binary (stale build?):"
  printf '  %s\n' "${newer[@]}"
fi

while awk -v l="$(load1)" -v m="$max_load" 'BEGIN { exit !(l > m) }' && [ "$waited" -lt "$max_wait" ]; do
  [ "$waited" = 0 ] && echo "load average $(load1) > $max_load: waiting for a quieter machine (at most ${max_wait}s)..."
  sleep 15
  waited=$((waited + 15))
done
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="$(load1)" -v m="$max_load" 'BEGIN { exit !(l > m) }'; then
  echo "WARNING: starting with load average $load_start (> $max_load): figures may be disturbed"
fi

csv=$work/devices.csv
t0=$(now)
"$root/bench/gen_inventory.sh" "$rows" "$csv"
echo "generated $csv: $(du -m "$csv" | cut -f1) MB in $(calc "$(now) - $t0" | cut -c1-5) s"
columns="vendor,product,part_number,serial_number,software_version,site,zone,ip,mac,hostname,location,owner,criticality,status"
peer_columns="vendor TEXT, product TEXT, part_number TEXT, serial_number TEXT, software_version TEXT, site TEXT, zone TEXT, ip TEXT, mac TEXT, hostname TEXT, location TEXT, owner TEXT, criticality TEXT, status TEXT"
want_filtered=$(awk -F, -v z="$filter_zone" 'NR > 1 && ($1 == "Siemens Healthineers" || $1 == "SIEMENS" || $1 == "Siemens Healthcare GmbH") && $7 == z' "$csv" | wc -l)

vigie_list_count() { "$vigie" --home "$home" devices list --json "$@" | grep -c '"id":'; }
sqlite_rate="" pg_rate=""

# --- SQLite: Vigie's store (WAL, synchronous=FULL) against sqlite3 .import into a table of the
# same columns, also WAL + synchronous=FULL, one transaction.
run_sqlite() {
  echo "SQLite: import..."
  home=$work/sqlite-home
  peer_db=$work/peer.db
  import_vigie_reset() { rm -rf "$home"; "$vigie" --home "$home" init >/dev/null; sync; }
  import_vigie() { "$vigie" --home "$home" devices import "$csv"; }
  import_peer_reset() { rm -f "$peer_db" "$peer_db-wal" "$peer_db-shm"; sync; }
  import_peer() {
    sqlite3 "$peer_db" -cmd "PRAGMA journal_mode=WAL" -cmd "PRAGMA synchronous=FULL" \
      -cmd "CREATE TABLE devices ($peer_columns)" ".mode csv" ".import --skip 1 $csv devices"
  }
  race import
  record "import CSV" sqlite "$best_vigie" "sqlite3 .import" "$best_peer" "$rows"
  sqlite_rate=$(calc "$rows / $best_vigie")
  check_equal "vigie devices (SQL count)" "$(sqlite3 "$home/vigie.db" 'SELECT COUNT(*) FROM devices')" "$rows"
  check_equal "vigie interfaces (SQL count)" "$(sqlite3 "$home/vigie.db" 'SELECT COUNT(*) FROM interfaces')" "$rows"
  check_equal "peer rows" "$(sqlite3 "$peer_db" 'SELECT COUNT(*) FROM devices')" "$rows"

  echo "SQLite: filter and list..."
  filter_vigie_reset() { :; }
  filter_vigie() { "$vigie" --home "$home" devices list --vendor "$filter_vendor" --zone "$filter_zone" --json; }
  filter_peer_reset() { :; }
  filter_peer() { sqlite3 -json "$peer_db" "SELECT * FROM devices WHERE $peer_where"; }
  race filter
  record "filter vendor+zone, JSON" sqlite "$best_vigie" "sqlite3 -json" "$best_peer" "$want_filtered"
  check_equal "vigie devices list --vendor $filter_vendor --zone $filter_zone" \
    "$(vigie_list_count --vendor "$filter_vendor" --zone "$filter_zone")" "$want_filtered"
  check_equal "peer filtered rows" "$(sqlite3 -json "$peer_db" "SELECT * FROM devices WHERE $peer_where" | grep -c '"vendor":')" "$want_filtered"

  list_vigie_reset() { :; }
  list_vigie() { "$vigie" --home "$home" devices list --json; }
  list_peer_reset() { :; }
  list_peer() { sqlite3 -json "$peer_db" "SELECT * FROM devices"; }
  race list
  record "list all, JSON" sqlite "$best_vigie" "sqlite3 -json" "$best_peer" "$rows"
  check_equal "vigie devices list --json" "$(vigie_list_count)" "$rows"
  rm -rf "$home" "$peer_db" "$peer_db-wal" "$peer_db-shm"
}

# --- PostgreSQL: a throw-away server; Vigie in schema `bench`, the peer table in schema `peer`.
run_postgresql() {
  local bindir
  bindir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  if [ ! -x "$bindir/initdb" ] || ! command -v psql >/dev/null; then
    echo "PostgreSQL: skipped (no server binaries or no psql; see scripts/setup)"
    return 0
  fi
  echo "PostgreSQL: starting a server on 127.0.0.1:$port..."
  pg_started=1
  "$root/tests/support/pg_server.sh" start "$pg_dir" "$port" >/dev/null
  pg_server_version=$("$bindir/postgres" --version)
  pg="postgresql://postgres@127.0.0.1:$port/postgres"
  psql_q() { PGOPTIONS="-c client_min_messages=warning" psql "$pg" -X -q -v ON_ERROR_STOP=1 "$@"; }
  home=$work/pg-home
  echo "PostgreSQL: import..."
  import_vigie_reset() {
    psql_q -c "DROP SCHEMA IF EXISTS bench CASCADE" -c "CREATE SCHEMA bench" >/dev/null
    rm -rf "$home"
    "$vigie" --home "$home" init --store "$pg?options=-csearch_path%3Dbench" >/dev/null
    sync
  }
  import_vigie() { "$vigie" --home "$home" devices import "$csv"; }
  import_peer_reset() {
    psql_q -c "DROP SCHEMA IF EXISTS peer CASCADE" -c "CREATE SCHEMA peer" \
      -c "CREATE TABLE peer.devices ($peer_columns)" >/dev/null
    sync
  }
  import_peer() { psql_q -c "\\copy peer.devices ($columns) FROM '$csv' WITH (FORMAT csv, HEADER true)"; }
  race import
  record "import CSV" postgresql "$best_vigie" "psql \\copy" "$best_peer" "$rows"
  pg_rate=$(calc "$rows / $best_vigie")
  check_equal "vigie devices (SQL count)" "$(psql_q -Atc 'SELECT COUNT(*) FROM bench.devices')" "$rows"
  check_equal "vigie interfaces (SQL count)" "$(psql_q -Atc 'SELECT COUNT(*) FROM bench.interfaces')" "$rows"
  check_equal "peer rows" "$(psql_q -Atc 'SELECT COUNT(*) FROM peer.devices')" "$rows"
  psql_q -c "VACUUM ANALYZE" >/dev/null  # what autovacuum would do soon after a bulk load

  echo "PostgreSQL: filter and list..."
  # The peer streams one JSON object per row (COPY of row_to_json), as a DBA would export.
  filter_vigie_reset() { :; }
  filter_vigie() { "$vigie" --home "$home" devices list --vendor "$filter_vendor" --zone "$filter_zone" --json; }
  filter_peer_reset() { :; }
  filter_peer() { psql_q -c "\\copy (SELECT row_to_json(d) FROM peer.devices d WHERE $peer_where) TO STDOUT"; }
  race filter
  record "filter vendor+zone, JSON" postgresql "$best_vigie" "psql \\copy row_to_json" "$best_peer" "$want_filtered"
  check_equal "vigie devices list --vendor $filter_vendor --zone $filter_zone" \
    "$(vigie_list_count --vendor "$filter_vendor" --zone "$filter_zone")" "$want_filtered"
  check_equal "peer filtered rows" "$(filter_peer | grep -c '"vendor":')" "$want_filtered"

  list_vigie_reset() { :; }
  list_vigie() { "$vigie" --home "$home" devices list --json; }
  list_peer_reset() { :; }
  list_peer() { psql_q -c "\\copy (SELECT row_to_json(d) FROM peer.devices d) TO STDOUT"; }
  race list
  record "list all, JSON" postgresql "$best_vigie" "psql \\copy row_to_json" "$best_peer" "$rows"
  check_equal "vigie devices list --json" "$(vigie_list_count)" "$rows"
  "$root/tests/support/pg_server.sh" stop "$pg_dir" >/dev/null 2>&1 || true
  pg_started=0
}

pg_server_version=""
for backend in $backends; do
  case $backend in
    sqlite) run_sqlite ;;
    postgresql) run_postgresql ;;
    *) echo "inventory_bench: unknown back-end '$backend' (sqlite, postgresql)" >&2; exit 2 ;;
  esac
done

echo
echo "Vigie inventory benchmark: $rows devices, best of $runs runs, $(date -u '+%F %H:%M UTC')"
echo "machine: $machine; load average at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg)"
echo "sqlite3 $sqlite_version; $psql_version${pg_server_version:+; server $pg_server_version}"
printf '%-26s %-10s %8s %10s   %-22s %8s %10s %6s\n' operation back-end "vigie s" "vigie r/s" \
  peer "peer s" "peer r/s" ratio
for r in "${results[@]}"; do echo "$r"; done
if [ "$disturbed" -gt 0 ]; then
  echo "WARNING: $disturbed round(s) started while other work kept the CPU busy (> ${max_busy}%): figures may be disturbed"
fi
echo "ratio = Vigie time / peer time (lower is better for Vigie); the filter selects the"
echo "$(grouped "$want_filtered") $filter_vendor devices of zone '$filter_zone' and its rows/s count those devices."
if [ -n "$sqlite_rate" ]; then
  pg_note=""
  [ -n "$pg_rate" ] && pg_note=" (PostgreSQL: $(grouped "$pg_rate") rows/s)"
  if awk -v r="$sqlite_rate" -v t="$target" 'BEGIN { exit !(r >= t) }'; then
    echo "SQLite import: $(grouped "$sqlite_rate") rows/s: MEETS the $(grouped "$target") rows/s target$pg_note"
  else
    echo "SQLite import: $(grouped "$sqlite_rate") rows/s: MISSES the $(grouped "$target") rows/s target$pg_note"
  fi
fi
exit 0
