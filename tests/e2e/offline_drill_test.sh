#!/usr/bin/env bash
# The "pull the plug" drill (docs/resilience-offline.md), automated: vigied serves the demo
# hospital; a standalone PC pins the server's certificate, takes its snapshot and works; the
# server is killed (-9) mid-work; the PC keeps recording offline while the central record
# moves on; the server comes back; a sync is killed (-9) on the PC side, another on the server
# side; the last sync completes. Then: every entry is on the server once, the chain is intact,
# the facts are merged, the conflicting edit kept both values, nothing was lost.
# Optional second argument: a PostgreSQL URL to run the server on.
set -euo pipefail
bin=$1
pg_url=${2:-}
work=$(mktemp -d)
pid=
syncpid=
cleanup() {
  [ -n "$syncpid" ] && kill -9 "$syncpid" 2>/dev/null || true
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$work/err" ] && tail -20 "$work/err" >&2; exit 1; }
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

server=$work/server
pc=$work/pc
vs() { "$bin/vigie" --home "$server" "$@"; }
vp() { VIGIE_USER=alice "$bin/vigie" --home "$pc" "$@"; }

if [ -n "$pg_url" ]; then
  schema="drill_$$_$RANDOM"
  psql "$pg_url" -qc "CREATE SCHEMA $schema" >/dev/null
  vs init --store "$pg_url?options=-csearch_path%3D$schema" >/dev/null
else
  vs init >/dev/null
fi

port=
start_server() { start_vigied "$server" "$port"; }
kill_server() { kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=; }
start_server
url="https://127.0.0.1:$port"

# The server side: a token for the site, the certificate's fingerprint read by the administrator.
vs offline token-create bloc >"$work/token" 2>/dev/null
[ "$(wc -c <"$work/token")" = 65 ] || fail "token not printed"
fp=$(openssl x509 -in "$server/tls/server.crt" -noout -fingerprint -sha256 | cut -d= -f2)

# A wrong fingerprint pins nothing.
if vp offline init --site bloc --server "$url" --fingerprint "00:11" --token-file "$work/token" 2>"$work/err"; then
  fail "a wrong fingerprint was accepted"
fi
[ ! -e "$pc/offline/journal.db" ] || fail "a journal was created with a wrong fingerprint"
vp offline init --site bloc --server "$url" --fingerprint "$fp" --token-file "$work/token" >"$work/init" ||
  fail "offline init"
grep -q 'snapshot: [1-9][0-9]* devices' "$work/init" || fail "no snapshot: $(cat "$work/init")"
[ "$(stat -c %a "$pc/offline/journal.db")" = 600 ] || fail "journal not 0600"

read -r d1 d2 d3 < <(vp offline devices --json | jq -r '[.[0].id, .[1].id, .[2].id] | @tsv')
finding=$(sqlite3 "$pc/offline/journal.db" "SELECT id FROM snapshot_findings ORDER BY id LIMIT 1")
[ -n "$finding" ] || fail "the snapshot has no open finding"

# Work while the server is up.
vp offline record status "$d1" disconnected --reason "network works in the block" >/dev/null
vp sync >"$work/sync1" || fail "first sync"
grep -q '1 applied' "$work/sync1" || fail "first sync did not apply: $(cat "$work/sync1")"

# Pull the plug mid-work.
kill_server
vp offline record edit "$d2" location="Bloc urgence" >/dev/null
vp offline record status "$d1" in-service --reason reconnected >/dev/null
vp offline record mitigation "$finding" --note "SMB blocked on the VLAN firewall" >/dev/null
vp offline record backup pacs --result ok --note "restic check passed" >/dev/null
vp offline record note "device:$d3" "screen cracked, still working" >/dev/null
if vp sync >/dev/null 2>"$work/err"; then fail "sync succeeded with the server down"; fi
grep -q 'entries wait in the journal' "$work/err" || fail "no pending count: $(cat "$work/err")"
# Meanwhile the central record moves on (someone at the server edits the same field).
vs devices set "$d2" location=Reveil >/dev/null
for i in $(seq 1 40); do vp offline record note site "round $i" >/dev/null; done
pending=$(vp offline list --pending --json | jq length)
[ "$pending" = 45 ] || fail "expected 45 pending entries, got $pending"

# Bring it back; kill -9 the PC's sync mid-way, then the server's side mid-way.
start_server
state() {
  curl -fsS --cacert "$server/tls/server.crt" -H "Authorization: Bearer $(cat "$work/token")" \
    "$url/api/v1/sync/bloc" | jq -r .head_seq
}
vp sync --batch 1 >/dev/null 2>&1 &
syncpid=$!
for _ in $(seq 1 600); do [ "$(state)" -gt 1 ] && break; sleep 0.05; done
kill -9 "$syncpid" 2>/dev/null || true
wait "$syncpid" 2>/dev/null || true
syncpid=
for i in $(seq 41 60); do vp offline record note site "round $i" >/dev/null; done
before=$(state)
vp sync --batch 1 >/dev/null 2>&1 &
syncpid=$!
for _ in $(seq 1 600); do [ "$(state)" -gt "$before" ] && break; sleep 0.05; done
kill_server
rc=0
wait "$syncpid" 2>/dev/null || rc=$?
syncpid=
start_server
vp sync >"$work/sync2" 2>"$work/err" || fail "final sync: $(cat "$work/err")"

# Nothing lost: every entry on the server once, chains intact on both sides.
last=$(vp offline verify --json | jq .entries)
[ "$last" = 66 ] || fail "the journal has $last entries, expected 66"
[ "$(state)" = "$last" ] || fail "server head $(state) != journal $last"
vs sync problems >"$work/problems" || fail "chain problems: $(cat "$work/problems")"
grep -q 'stored chains: intact' "$work/problems" || fail "problems output"
vp offline verify >/dev/null || fail "local journal does not verify"
vp sync >"$work/sync3" || fail "re-sync"
grep -q ' 0 sent' "$work/sync3" || fail "a re-sync sent entries again: $(cat "$work/sync3")"

# The facts merged: status back in service, mitigation with who and when, the conflict open.
[ "$(vs devices show "$d1" --json | jq -r .status)" = in-service ] || fail "status not merged"
vs findings history "$finding" --json | jq -e '.[] | select(.actor == "alice" and .status == "mitigated")' >/dev/null ||
  fail "mitigation not in the finding's history"
[ "$(vs devices show "$d2" --json | jq -r .location)" = Reveil ] || fail "central value overwritten"
conflict=$(vs sync conflicts --json)
[ "$(echo "$conflict" | jq length)" = 1 ] || fail "expected one conflict: $conflict"
echo "$conflict" | jq -e '.[0] | .central_value == "Reveil" and .offline_value == "Bloc urgence" and .offline_actor == "alice"' >/dev/null ||
  fail "conflict values: $conflict"
id=$(echo "$conflict" | jq .[0].id)
VIGIE_USER=bob vs sync resolve "$id" --keep offline >/dev/null
[ "$(vs devices show "$d2" --json | jq -r .location)" = "Bloc urgence" ] || fail "resolution not applied"
[ "$(vs sync conflicts --json | jq length)" = 0 ] || fail "conflict still open"
[ "$(vs sync conflicts --all --json | jq -r '.[0].central_value')" = Reveil ] || fail "central value lost"

kill -TERM "$pid"; wait "$pid" || true; pid=
echo "e2e offline drill: ok ($last entries, server killed twice, client killed once)"
