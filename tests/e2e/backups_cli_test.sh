#!/usr/bin/env bash
# End to end, through the command line, on the demo hospital: backup policies for a PACS, the
# sterilisation-traceability server and a ventilator; a real restic backup imported twice (and
# its snapshot list) stored once; a bad CSV refused with its position and nothing changed;
# status and alerts raised and cleared as runs, verifications and restore tests are recorded;
# every change in the audit log. Usage: backups_cli_test.sh BIN_DIR SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
vigie() { "$bin/vigie" --home "$work/home" "$@"; }
refused() {  # refused EXPECTED_RC STDERR_PATTERN -- command...
  local want=$1 pattern=$2
  shift 3
  set +e
  vigie "$@" >/dev/null 2>"$work/err"
  local rc=$?
  set -e
  [ "$rc" = "$want" ] || fail "$*: exit $rc, wanted $want ($(cat "$work/err"))"
  grep -q -- "$pattern" "$work/err" || fail "$*: error '$(cat "$work/err")' lacks '$pattern'"
}

vigie init --demo >/dev/null 2>&1

# Policies: one per system, the ventilator has nothing to back up on purpose.
vigie backups policy set pacs --criticality critical --method restic --rpo-hours 24 \
  --schedule "daily 22:00" --retention "7 daily, 12 monthly" --target "$work/restic-repo" \
  --target "rest:https://backup-2.example/pacs" --offsite --immutable --checked-by "IT ops" \
  >/dev/null
vigie backups policy set steriline --criticality critical --method vendor-tool --rpo-hours 24 \
  --description "sterilisation traceability server" --checked-by "CSSD manager" >/dev/null
device=$(vigie devices list --json | jq '[.[] | select(.criticality == "life-supporting")][0].id')
vigie backups policy set "ventilator-$device" --device "$device" --method none \
  --notes "no patient data kept on the device" >/dev/null
vigie backups policies --json >"$work/policies.json"
jq -e --argjson d "$device" 'length == 3 and
  (.[] | select(.name == "pacs") | .policy.offsite and .policy.immutable and
         .policy.rpo_hours == 24 and (.policy.targets | length) == 2) and
  (.[] | select(.name == "ventilator-\($d)") | .criticality == "critical" and .device_id == $d)' \
  "$work/policies.json" >/dev/null || fail "policies: $(cat "$work/policies.json")"
# (Tables go through a file: grep -q would stop reading early and pipefail see SIGPIPE.)
vigie backups policies >"$work/policies.txt"
grep -q "^pacs .*restic" "$work/policies.txt" || fail "policies table"
refused 1 "needs an RPO" -- backups policy set lab-server --method restic
refused 1 "no device 999999" -- backups policy set ghost --device 999999 --method none
refused 2 "--method" -- backups policy set lab-server --method floppy --rpo-hours 1

# A real restic backup of a tiny tree; its output imported twice is stored once, and the
# snapshot list completes the same run (long id) rather than adding one.
export RESTIC_PASSWORD=e2e-only RESTIC_CACHE_DIR="$work/restic-cache"
mkdir -p "$work/data"
echo "study" >"$work/data/study-1.dcm"
restic -r "$work/restic-repo" init --quiet
restic -r "$work/restic-repo" backup "$work/data" --json >"$work/backup.json"
restic -r "$work/restic-repo" snapshots --json >"$work/snapshots.json"
vigie backups import "$work/backup.json" --format restic --system pacs --json |
  jq -e '.created == 1' >/dev/null || fail "first import"
vigie backups import "$work/backup.json" --format restic --system pacs --json |
  jq -e '.created == 0 and .unchanged == 1' >/dev/null || fail "second import"
vigie backups import "$work/snapshots.json" --format restic --system pacs --json |
  jq -e '.created == 0 and .updated == 1' >/dev/null || fail "snapshot list"
vigie backups runs pacs --json >"$work/runs.json"
jq -e 'length == 1 and .[0].status == "ok" and (.[0].snapshot_id | length) == 64 and
       .[0].size_bytes > 0 and .[0].source == "restic-backup"' "$work/runs.json" >/dev/null ||
  fail "runs: $(cat "$work/runs.json")"

# A bad CSV is refused with file:line:column and changes nothing.
cp "$src/tests/resilience/data/bad_runs.csv" "$work/bad_runs.csv"
refused 1 "bad_runs.csv:3:2: started_at" -- backups import "$work/bad_runs.csv" --system pacs
vigie backups runs --json | jq -e 'length == 1' >/dev/null || fail "a refused import changed runs"
# The steriline server's vendor tool reported a failed night (CSV).
printf 'started_at,status,detail\n%s,failed,tape drive offline\n' \
  "$(date -u -d '-2 days' +%Y-%m-%dT%H:%M:%SZ)" >"$work/steriline.csv"
vigie backups import "$work/steriline.csv" --system steriline >/dev/null

# Status: PACS fresh, steriline late (no good backup), a restore test due for both.
vigie backups status --json >"$work/status.json"
jq -e '(.systems[] | select(.name == "pacs") | .backup_overdue == false and
        .restore_test_overdue == true and .restore_test_days == 365) and
       (.systems[] | select(.name == "steriline") | .backup_overdue == true and
        .last_run.status == "failed") and .devices_without_policy > 100' "$work/status.json" \
  >/dev/null || fail "status: $(jq -c '.systems' "$work/status.json")"
vigie backups status >"$work/status.txt"
grep -q "^steriline .*LATE" "$work/status.txt" || fail "status table"

# Alerts raised, and cleared as the work is done.
vigie backups alerts --evaluate --json >"$work/alerts.json"
jq -e --argjson d "$device" '
  ([.raised[] | select(.kind == "backup.stale" and .object == "system:steriline")] | length) == 1
  and ([.raised[] | select(.kind == "backup.restore_test_overdue" and .object == "system:pacs")]
       | length) == 1
  and ([.raised[] | select(.kind == "backup.no_policy")] | length) > 100
  and ([.raised[] | select(.object == "device:\($d)")] | length) == 0
  and ([.raised[] | select(.object == "system:pacs" and .kind == "backup.stale")] | length) == 0' \
  "$work/alerts.json" >/dev/null || fail "alerts: $(jq -c '.raised[:5]' "$work/alerts.json")"
vigie backups alerts --evaluate --json | jq -e '(.raised | length) == 0 and (.cleared | length) == 0' \
  >/dev/null || fail "a second evaluation changed alerts"

vigie backups verification record pacs --status failed --scope "restic check --read-data-subset=5%" \
  --detail "pack 3e1f damaged" --at "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" >/dev/null
vigie backups alerts --evaluate --json | jq -e '[.raised[] | .kind] == ["backup.verification_failed"]' \
  >/dev/null || fail "failed verification not alerted"
vigie backups verification record pacs --status ok --scope "restic check --read-data" >/dev/null
vigie backups restore-test record pacs --by "J. Martin" --scope "full restore on a scratch VM" \
  --result ok --restore-minutes 42 >/dev/null
vigie backups alerts --evaluate --json >"$work/cleared.json"
jq -e '([.cleared[] | .kind] | sort) == ["backup.restore_test_overdue", "backup.verification_failed"]' \
  "$work/cleared.json" >/dev/null || fail "cleared: $(jq -c '.cleared' "$work/cleared.json")"
vigie backups restore-tests pacs --json | jq -e '.[0].restore_seconds == 2520 and .[0].result == "ok"' \
  >/dev/null || fail "restore tests"
vigie backups verifications --json | jq -e 'length == 2' >/dev/null || fail "verifications"
vigie backups alerts >"$work/alerts.txt"
grep -q "backup.stale .*system:steriline" "$work/alerts.txt" || fail "alerts table"
# `vigie alerts`: every kind; an alert another module raised is listed there, not under backups.
sqlite3 "$work/home/vigie.db" "INSERT INTO alerts (id, kind, object, severity, message, raised_at)
  VALUES ((SELECT MAX(id) + 1 FROM alerts), 'export.never', 'export-host:pc-urgences', 'warning',
          'pc-urgences never received an export', '2026-11-26T08:00:00.000Z')"
vigie alerts --json | jq -e '[.alerts[] | .kind] | (index("export.never") != null and
  index("backup.stale") != null)' >/dev/null || fail "vigie alerts: $(vigie alerts --json)"
vigie alerts --kind export. --json | jq -e '[.alerts[] | .object] == ["export-host:pc-urgences"]' \
  >/dev/null || fail "vigie alerts --kind"
if vigie backups alerts | grep -q export.never; then fail "backups alerts lists an export alert"; fi

# Every change is in the audit log, and the chain holds.
db="$work/home/vigie.db"
for action in backups.policy.set backups.import backups.verification.record \
  backups.restore_test.record alert.raise alert.clear; do
  n=$(sqlite3 "$db" "SELECT COUNT(*) FROM audit_log WHERE action = '$action'")
  [ "$n" -gt 0 ] || fail "no audit entry $action"
done
echo "e2e backups: ok"
