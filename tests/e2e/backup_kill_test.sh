#!/usr/bin/env bash
# kill -9 of `vigie backup run` while restic writes: the repositories stay consistent (restic
# check finds no error once the dead process's stale lock is cleared, which Vigie does itself
# when restic reports a lock, and before a check), the staging left behind (the store's link,
# the copies of the home) is cleared by the next run, which
# succeeds, and its snapshot passes the restore test. Killed twice: Vigie alone (restic is
# stopped by its parent-death signal) and the whole process group (a power cut for both).
# Usage: backup_kill_test.sh BIN_DIR [POSTGRESQL_URL]
set -euo pipefail
bin=$1
pg=${2:-}
work=$(mktemp -d)
chmod 755 "$work"
schema=""
cleanup() {
  if [ -n "$schema" ]; then psql "$pg" -Xqc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
home=$work/home
vigie() { "$bin/vigie" --home "$home" "$@"; }

mkdir -p "$home/backup" "$home/documents"
openssl rand -hex 32 >"$home/backup/restic.password"
chmod 600 "$home/backup/restic.password"
store='url = "sqlite:vigie.db"'
if [ -n "$pg" ]; then
  schema=t_kill_$(openssl rand -hex 4)
  psql "$pg" -Xqc "CREATE SCHEMA $schema" >/dev/null
  store="url = \"$pg?options=-csearch_path%3D$schema\""
fi
cat >"$home/vigie.toml" <<TOML
[store]
$store
[backup]
repositories = ["$work/repo-a", "$work/repo-b"]
TOML
vigie init --demo >/dev/null 2>&1 || fail "init"
# A document large enough that restic is still writing when the kill comes.
head -c 40000000 /dev/urandom >"$home/documents/scan.bin"
vigie backup init >/dev/null || fail "backup init"

# kill_mid_run GROUP: starts `vigie backup run` in its own process group, waits until restic
# reports progress on the first repository, then kills Vigie alone (GROUP=0) or the group.
kill_mid_run() {
  local pid
  setsid "$bin/vigie" --home "$home" backup run >"$work/killed.out" 2>"$work/killed.err" &
  pid=$!
  for _ in $(seq 600); do
    grep -q "restic backup to $work/repo-a: [0-9]*%" "$work/killed.err" 2>/dev/null && break
    sleep 0.05
  done
  grep -q "restic backup to $work/repo-a" "$work/killed.err" || fail "no progress: $(cat "$work/killed.err")"
  if [ "$1" = 1 ]; then kill -9 -- "-$pid"; else kill -9 "$pid"; fi
  wait "$pid" 2>/dev/null && fail "the run finished before it was killed"
  # restic itself, stopped by the kill or by its parent-death signal, must be gone too.
  for _ in $(seq 100); do pgrep -s "$pid" >/dev/null || break; sleep 0.1; done
  pgrep -s "$pid" >/dev/null && fail "processes of the killed run are still alive"
  return 0
}

export RESTIC_PASSWORD_FILE=$home/backup/restic.password
for group in 0 1; do
  kill_mid_run "$group"
  for repo in "$work/repo-a" "$work/repo-b"; do
    [ "$(restic -r "$repo" snapshots --json | jq length)" = 0 ] || fail "a snapshot of a killed run in $repo"
    restic -r "$repo" unlock >/dev/null 2>&1
    restic -r "$repo" check >"$work/check.out" 2>&1 || fail "restic check $repo: $(cat "$work/check.out")"
    grep -q "no errors were found" "$work/check.out" || fail "$(cat "$work/check.out")"
  done
done
[ -d "$home/backup/staging" ] || fail "expected the killed run's staging copy to be left"

# The next run succeeds and clears the staging copy; its snapshot restores and passes.
vigie backup run --json >"$work/run.json" 2>"$work/run.err" || fail "run after kill: $(cat "$work/run.err")"
jq -e '.ok and all(.repositories[]; .status == "ok")' "$work/run.json" >/dev/null || fail "$(cat "$work/run.json")"
[ -d "$home/backup/staging" ] && fail "the staging copy was not cleared"
vigie backup verify --json >"$work/verify.json" || fail "verify: $(cat "$work/verify.json")"
vigie backup restore-test --json >"$work/restore.json" || fail "restore test: $(cat "$work/restore.json")"
jq -e '.passed and .checkpoint.audit_ok and (.tables | map(select(.table == "devices")) | .[0].restored) > 0' \
  "$work/restore.json" >/dev/null || fail "$(cat "$work/restore.json")"
vigie audit verify >/dev/null || fail "live audit chain"
# `vigie audit verify` names the first broken entry and exits 1.
if [ -z "$pg" ]; then
  # The store refuses the edit; someone with the file drops its guard first.
  if sqlite3 "$home/vigie.db" "UPDATE audit_log SET actor = 'intruder' WHERE id = 3" 2>/dev/null; then
    fail "the store let the audit log be edited"
  fi
  sqlite3 "$home/vigie.db" "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'intruder' WHERE id = 3"
  set +e
  vigie audit verify --json >"$work/audit.json"
  rc=$?
  set -e
  [ "$rc" = 1 ] || fail "a broken audit chain: exit $rc"
  jq -e '.ok == false and .first_bad_id == 3' "$work/audit.json" >/dev/null || fail "$(cat "$work/audit.json")"
fi
echo "backup_kill_test: ok${pg:+ (PostgreSQL)}"
