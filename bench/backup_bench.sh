#!/usr/bin/env bash
# Backup benchmark: Vigie's own backup and restore of a store of ROWS devices (SQLite), side by
# side with restic alone on the same files, the peer a hospital would otherwise script.
#   vigie:  `vigie backup run` (the store held still and linked, checkpoint: row counts, audit
#           chain, XXH3-128 of every file; then restic backup) into a fresh local repository;
#           `vigie backup restore --target DIR` (restic restore, every file checked against the
#           checkpoint).
#   peer:   `restic backup` of the very files Vigie's snapshot holds into a fresh repository;
#           `restic restore latest` of it.
# Prints seconds and the ratio Vigie / peer (target: Vigie's overhead <= 10%, ratio <= 1.10).
# Also times, once, `vigie backup restore-test` (the restore plus opening the store, verifying
# its audit chain and comparing counts with the live store): more work than a restore, no peer.
#
#   bench/backup_bench.sh [ROWS]        (default 1000000)
#
# Environment:
#   BENCH_RUNS=5                 backup rounds (restores: twice as many); Vigie and the peer
#                                run in turn so noise hits both, and the MEDIAN of each is
#                                compared (on a shared VM one lucky run makes "best of" lie)
#   BENCH_MAX_LOAD=1.5 BENCH_WAIT=900
#                                before starting, wait for the 1-minute load average to drop
#                                below BENCH_MAX_LOAD (at most BENCH_WAIT s)
#   VIGIE_BIN=build/bin/vigie    the binary under test (never built by this script)
# A benchmark, not a test: exit 0 whether the target is met or not (non-zero only when
# something failed).
# The per-operation functions are called indirectly by `timed`.
# shellcheck disable=SC2317
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-1000000}
runs=${BENCH_RUNS:-5}
max_load=${BENCH_MAX_LOAD:-1.5}
max_wait=${BENCH_WAIT:-900}
vigie=${VIGIE_BIN:-$root/build/bin/vigie}

[[ $rows =~ ^[1-9][0-9]*$ ]] || { echo "usage: backup_bench.sh [ROWS]" >&2; exit 2; }
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "backup_bench: BENCH_RUNS must be a positive integer" >&2; exit 2; }
[ -x "$vigie" ] || { echo "backup_bench: no vigie binary at $vigie (build first: scripts/build)" >&2; exit 2; }
for tool in restic jq awk; do
  command -v "$tool" >/dev/null || { echo "backup_bench: $tool is needed" >&2; exit 2; }
done

work=$(mktemp -d /tmp/vigie-backup-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
load1() { cut -d' ' -f1 /proc/loadavg; }

# timed CMD...: runs CMD (stdout to /dev/null) and prints its wall-clock seconds.
timed() {
  local t0 t1
  t0=$(now)
  if ! "$@" >/dev/null 2>"$work/stderr"; then
    echo "backup_bench: FAILED: $*" >&2
    cat "$work/stderr" >&2
    return 1
  fi
  t1=$(now)
  calc "$t1 - $t0"
}
# median T...: the middle value (the mean of the two middle ones for an even count).
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.6f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
machine="$(nproc) cores, ${cpu:-unknown CPU}, $(awk '/^MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
echo "Vigie backup benchmark: $rows devices, median of $runs backups and $((2 * runs)) restores"
echo "machine: $machine; $(restic version | cut -d' ' -f1-2)"
echo "vigie: $vigie (tree at $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'))"
waited=0
while awk -v l="$(load1)" -v m="$max_load" 'BEGIN { exit !(l > m) }' && [ "$waited" -lt "$max_wait" ]; do
  [ "$waited" = 0 ] && echo "load average $(load1) > $max_load: waiting for a quieter machine (at most ${max_wait}s)..."
  sleep 15
  waited=$((waited + 15))
done
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
awk -v l="$(load1)" -v m="$max_load" 'BEGIN { exit !(l > m) }' &&
  echo "WARNING: starting with load average $load_start (> $max_load): figures may be disturbed"

# --- the store: ROWS devices imported through Vigie (the demo letters and their documents too).
home=$work/home
mkdir -p "$home/backup"
openssl rand -hex 32 >"$home/backup/restic.password"
chmod 600 "$home/backup/restic.password"
printf '[backup]\nrepositories = ["%s"]\n' "$work/vigie-repo" >"$home/vigie.toml"
"$vigie" --home "$home" init --demo >/dev/null 2>&1
"$root/bench/gen_inventory.sh" "$rows" "$work/devices.csv"
t0=$(now)
"$vigie" --home "$home" devices import "$work/devices.csv" >/dev/null
echo "store: $(awk -v r="$rows" 'BEGIN { printf "%d", r }') devices imported in $(calc "$(now) - $t0" | cut -c1-6) s," \
  "$(du -m "$home/vigie.db" | cut -f1) MB"
rm -f "$work/devices.csv"
export RESTIC_PASSWORD_FILE=$home/backup/restic.password

fresh_repo() { rm -rf "$1" "$2"; RESTIC_CACHE_DIR=$2 restic -r "$1" init >/dev/null; sync; }
vigie_backup() { "$vigie" --home "$home" backup run --json >"$work/run.json"; }
vigie_restore() { rm -rf "$work/vigie-out"; "$vigie" --home "$home" backup restore --target "$work/vigie-out" --json >"$work/restore.json"; }
vigie_restore_test() { "$vigie" --home "$home" backup restore-test --json >"$work/restore-test.json"; }
peer_backup() { (cd "$work/peer-src" && RESTIC_CACHE_DIR=$work/peer-cache restic -r "$work/peer-repo" backup --json . >"$work/peer.json"); }
peer_restore() { rm -rf "$work/peer-out"; RESTIC_CACHE_DIR=$work/peer-cache restic -r "$work/peer-repo" restore latest --target "$work/peer-out"; }

vbs=() pbs=() vrs=() prs=()
# Backups: each into a fresh repository (a first, full backup), Vigie and the peer in turn.
for ((r = 1; r <= runs; r++)); do
  round_times=""
  fresh_repo "$work/vigie-repo" "$home/backup/cache"
  t=$(timed vigie_backup); vbs+=("$t"); round_times+=" vigie=${t:0:5}"
  jq -e '.ok' "$work/run.json" >/dev/null || { echo "backup_bench: vigie backup failed: $(cat "$work/run.json")" >&2; exit 1; }
  if [ ! -d "$work/peer-src" ]; then
    # The peer's input: exactly the files of Vigie's snapshot (restored once, not timed).
    restic -r "$work/vigie-repo" restore latest --target "$work/peer-src" >/dev/null
  fi
  fresh_repo "$work/peer-repo" "$work/peer-cache"
  t=$(timed peer_backup); pbs+=("$t"); round_times+=" restic=${t:0:5}"
  echo "backup round $r/$runs:$round_times"
done
# Restores of the last snapshots, in turn, twice as many rounds (they are short).
for ((r = 1; r <= 2 * runs; r++)); do
  round_times=""
  sync
  t=$(timed vigie_restore); vrs+=("$t"); round_times+=" vigie=${t:0:5}"
  jq -e '.ok' "$work/restore.json" >/dev/null || { echo "backup_bench: restore failed: $(cat "$work/restore.json")" >&2; exit 1; }
  sync
  t=$(timed peer_restore); prs+=("$t"); round_times+=" restic=${t:0:5}"
  cmp -s "$work/peer-out/store/vigie.db" "$work/peer-src/store/vigie.db" ||
    { echo "backup_bench: the peer restored a different store" >&2; exit 1; }
  echo "restore round $r/$((2 * runs)):$round_times"
done

sync
rt=$(timed vigie_restore_test)
jq -e '.passed' "$work/restore-test.json" >/dev/null || { echo "backup_bench: restore test failed: $(cat "$work/restore-test.json")" >&2; exit 1; }
bytes=$(jq '.repositories[0].bytes_processed' "$work/run.json")
vb=$(median "${vbs[@]}") pb=$(median "${pbs[@]}") vr=$(median "${vrs[@]}") pr=$(median "${prs[@]}")
staging=$(jq '.staging_seconds' "$work/run.json")
echo
echo "Vigie backup benchmark: $rows devices ($(calc "$bytes / 1e6" | cut -d. -f1) MB backed up), medians, $(date -u '+%F %H:%M UTC')"
echo "machine: $machine; load average at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-12s %10s %10s %7s\n' operation "vigie s" "restic s" ratio
printf '%-12s %10.2f %10.2f %7.2f\n' backup "$vb" "$pb" "$(calc "$vb / $pb")"
printf '%-12s %10.2f %10.2f %7.2f\n' restore "$vr" "$pr" "$(calc "$vr / $pr")"
echo "ratio = Vigie / restic alone (lower is better for Vigie; target <= 1.10)."
echo "Vigie's staging (hold, link, checkpoint, checksums) took $(calc "$staging" | cut -c1-5) s of its backup in the last round."
echo "restore test (restore + open the store, audit verify, counts vs. checkpoint and live): $(calc "$rt" | cut -c1-5) s (no peer)."
for op in backup restore; do
  if [ "$op" = backup ]; then ratio=$(calc "$vb / $pb"); else ratio=$(calc "$vr / $pr"); fi
  if awk -v r="$ratio" 'BEGIN { exit !(r <= 1.10) }'; then
    echo "$op: overhead $(calc "($ratio - 1) * 100" | cut -d. -f1)%: MEETS the 10% target"
  else
    echo "$op: overhead $(calc "($ratio - 1) * 100" | cut -d. -f1)%: MISSES the 10% target"
  fi
done
exit 0
