#!/usr/bin/env bash
# Ransomware resistance, end to end: Vigie backs up to a local repository and to an append-only
# REST server (Debian's `rclone serve restic --append-only`, htpasswd account of the Vigie
# host). With the Vigie host's credentials, `restic forget --prune` is refused (403) and every
# snapshot survives; the REST password never shows in Vigie's output or audit log; the restore
# test from the off-machine repository passes; pruning works only on the trusted side (restic
# on the backup host's own disk). Usage: backup_append_only_test.sh BIN_DIR
set -euo pipefail
bin=$1
work=$(mktemp -d)
rclone_pid=""
forget_pid=""
cleanup() {
  if [ -n "$forget_pid" ]; then kill -9 "$forget_pid" 2>/dev/null || true; fi
  if [ -n "$rclone_pid" ]; then kill "$rclone_pid" 2>/dev/null || true; wait "$rclone_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
home=$work/home
vigie() { "$bin/vigie" --home "$home" "$@"; }
# wait_for FILE PATTERN: until FILE holds PATTERN (a condition, not a fixed delay); 30 s at most.
wait_for() {
  for _ in $(seq 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  fail "timed out waiting for '$2' in $1: $(tail -5 "$1")"
}

# The backup host: an append-only REST server on a loopback port, one account for Vigie.
rest_password=Vigie-host-$(openssl rand -hex 8)
mkdir -p "$work/backup-host"
printf 'vigie:%s\n' "$(openssl passwd -apr1 "$rest_password")" >"$work/htpasswd"
rclone serve restic --append-only --addr 127.0.0.1:0 --htpasswd "$work/htpasswd" \
  "$work/backup-host" >"$work/rclone.log" 2>&1 &
rclone_pid=$!
wait_for "$work/rclone.log" "Serving restic REST API on"
url=$(sed -n 's/.*Serving restic REST API on \(http:[^ ]*\).*/\1/p' "$work/rclone.log" | head -n 1)
url=${url%/}
[ -n "$url" ] || fail "no address in $(cat "$work/rclone.log")"

# The Vigie host (its configuration written first: `vigie init` keeps an existing one).
mkdir -p "$home/backup"
openssl rand -hex 32 >"$home/backup/restic.password"
printf 'vigie:%s\n' "$rest_password" >"$home/backup/rest.credentials"
chmod 600 "$home/backup/restic.password" "$home/backup/rest.credentials"
cat >"$home/vigie.toml" <<TOML
[backup]
repositories = ["$work/local-repo", "rest:$url/vigie"]
rest_credentials_file = "backup/rest.credentials"
retention = "restic forget --keep-daily 14 --keep-weekly 8 --keep-monthly 24 on the backup host"
TOML
vigie init >/dev/null

vigie backup init >"$work/init.out" 2>&1 || fail "backup init: $(cat "$work/init.out")"
grep -q "created restic repository rest:$url/vigie" "$work/init.out" || fail "$(cat "$work/init.out")"
vigie backup run --json >"$work/run1.json" 2>"$work/run1.err" || fail "run 1: $(cat "$work/run1.err")"
vigie backup run --json >"$work/run2.json" 2>"$work/run2.err" || fail "run 2: $(cat "$work/run2.err")"
jq -e '.ok and (.repositories | length) == 2 and all(.repositories[]; .status == "ok" and
       (.snapshot_id | length) == 8)' "$work/run2.json" >/dev/null || fail "$(cat "$work/run2.json")"
vigie backup snapshots --json >"$work/before.json"
[ "$(jq '.[1].snapshots | length' "$work/before.json")" = 2 ] || fail "$(cat "$work/before.json")"

# The attack: the Vigie host's credentials try to delete snapshots. restic retries each refused
# DELETE for about a minute; the first 403 is the proof, so it is stopped there.
export RESTIC_PASSWORD_FILE=$home/backup/restic.password
export RESTIC_REPOSITORY="rest:${url/http:\/\//http://vigie:$rest_password@}/vigie"
restic forget --keep-last 1 --prune >"$work/forget.out" 2>"$work/forget.err" &
forget_pid=$!
wait_for "$work/forget.err" "403 Forbidden"
kill -9 "$forget_pid"
wait "$forget_pid" 2>/dev/null || true
forget_pid=""
restic unlock >/dev/null 2>&1  # the killed forget's lock (deleting locks is allowed)
restic forget "$(jq -r '.[1].snapshots[0].id' "$work/before.json")" >"$work/forget1.out" 2>&1 &
forget_pid=$!
wait_for "$work/forget1.out" "403 Forbidden"
kill -9 "$forget_pid"
wait "$forget_pid" 2>/dev/null || true
forget_pid=""
# A direct DELETE of a snapshot file is refused too.
snap=$(find "$work/backup-host/vigie/snapshots" -type f -printf "%f\n" | head -n 1)
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -u "vigie:$rest_password" "$url/vigie/snapshots/$snap")
[ "$code" = 403 ] || fail "DELETE of a snapshot answered $code"
unset RESTIC_REPOSITORY

vigie backup snapshots --json >"$work/after.json"
[ "$(jq '.[1].snapshots | map(.id)' "$work/after.json")" = "$(jq '.[1].snapshots | map(.id)' "$work/before.json")" ] ||
  fail "snapshots changed: $(cat "$work/after.json")"
[ "$(find "$work/backup-host/vigie/snapshots" -type f | wc -l)" = 2 ] || fail "snapshot files deleted on the server"

# The locks the killed forget left are stale: verify clears them and checks all the data.
vigie backup verify --subset 100% --json >"$work/verify.json" 2>"$work/verify.err" ||
  fail "verify: $(cat "$work/verify.json" "$work/verify.err")"
jq -e '.ok and all(.repositories[]; .ok)' "$work/verify.json" >/dev/null || fail "$(cat "$work/verify.json")"

# Restore test from the off-machine repository.
vigie backup restore-test --repository "rest:$url/vigie" --json >"$work/restore.json" 2>"$work/restore.err" ||
  fail "restore test: $(cat "$work/restore.json" "$work/restore.err")"
jq -e '.passed and .repository == "rest:'"$url"'/vigie"' "$work/restore.json" >/dev/null ||
  fail "$(cat "$work/restore.json")"

# Vigie's own runs, verification and restore test are tracked as the system "vigie".
vigie backups runs vigie --json >"$work/tracked.json" || fail "backups runs vigie"
jq -e '[.[] | select(.status == "ok" and .source == "vigie-backup")] | length == 4' "$work/tracked.json" >/dev/null ||
  fail "two runs to two repositories are not tracked: $(cat "$work/tracked.json")"
vigie backups status --json >"$work/status.json" || fail "backups status"
jq -e '.systems[] | select(.name == "vigie") | .last_good_run != null' "$work/status.json" >/dev/null ||
  fail "no good backup of vigie in the status: $(cat "$work/status.json")"
[ "$(sqlite3 "$home/vigie.db" "SELECT COUNT(*) FROM restore_tests WHERE result = 'ok'")" = 1 ] || fail "restore test not tracked"
[ "$(sqlite3 "$home/vigie.db" "SELECT COUNT(*) FROM backup_verifications WHERE status = 'ok'")" = 1 ] || fail "verification not tracked"

# The REST password is nowhere Vigie writes.
vigie audit verify --json >"$work/audit.json" || fail "audit chain: $(cat "$work/audit.json")"
sqlite3 "$home/vigie.db" "SELECT details FROM audit_log" >"$work/audit.txt"
grep -q "backup.run" <(sqlite3 "$home/vigie.db" "SELECT action FROM audit_log") || fail "run not audited"
for f in "$work"/*.json "$work"/*.err "$work"/*.out "$work/audit.txt"; do
  if grep -q "$rest_password" "$f"; then fail "the REST password appears in $f"; fi
done

# An unreachable off-machine server: the run fails naming it, the local copy is still made,
# and the audit entry records both outcomes.
kill "$rclone_pid"
wait "$rclone_pid" 2>/dev/null || true
rclone_pid=""
entries=$(sqlite3 "$home/vigie.db" "SELECT COUNT(*) FROM audit_log")
set +e
vigie backup run >"$work/down.out" 2>"$work/down.err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "run with the server down: exit $rc"
grep -q "restic repository rest:$url/vigie: backup failed: unreachable" "$work/down.out" ||
  fail "$(cat "$work/down.out" "$work/down.err")"
grep -q "$rest_password" "$work/down.out" "$work/down.err" && fail "the REST password appears in the error"
run_audit=$(sqlite3 "$home/vigie.db" "SELECT details FROM audit_log WHERE id > $entries AND action = 'backup.run'")
[ -n "$run_audit" ] || fail "run not audited"
jq -e '.ok == false and ([.repositories[].status] | sort) == ["failed", "ok"]' <<<"$run_audit" >/dev/null ||
  fail "audit of the run: $run_audit"
[ "$(restic -r "$work/local-repo" snapshots --json | jq length)" = 3 ] || fail "no local snapshot"

# Pruning is for the trusted side: restic on the backup host's own disk may forget and prune.
restic -r "$work/backup-host/vigie" forget --keep-last 1 --prune >"$work/prune.out" 2>&1 ||
  fail "prune on the backup host: $(cat "$work/prune.out")"
[ "$(restic -r "$work/backup-host/vigie" snapshots --json | jq length)" = 1 ] || fail "trusted prune"
echo "backup_append_only_test: ok"
