#!/usr/bin/env bash
# End to end: `vigie init` then vigied on its defaults (demo hospital loaded on first start),
# real HTTPS with curl against the generated certificate, TLS policy checked with openssl,
# clean stop on SIGTERM. Optional second argument: a PostgreSQL URL to run on instead.
set -euo pipefail
bin=$1
pg_url=${2:-}
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$work/err" ] && tail -20 "$work/err" >&2; exit 1; }
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

home=$work/home
if [ -n "$pg_url" ]; then
  schema="e2e_$$_$RANDOM"
  psql "$pg_url" -qc "CREATE SCHEMA $schema" >/dev/null
  "$bin/vigie" --home "$home" init --store "$pg_url?options=-csearch_path%3D$schema" >/dev/null
else
  "$bin/vigie" --home "$home" init >/dev/null
fi
[ "$(stat -c %a "$home/tls/server.key")" = 600 ] || fail "server key is not 0600"

start_vigied "$home"
ca=(--cacert "$home/tls/server.crt")

curl -fsS "${ca[@]}" "$url/healthz" | grep -q '"status":"ok"' || fail "health"
status=$(curl -fsS "${ca[@]}" "$url/api/v1/status")
devices=$(echo "$status" | sed -n 's/.*"devices":\([0-9]*\).*/\1/p')
[ "${devices:-0}" -ge 300 ] || fail "demo hospital not loaded: $status"
curl -fsS "${ca[@]}" "$url/api/v1/devices?vendor=siemens&limit=5" | grep -q '"vendor_normalized":"siemens healthineers"' ||
  fail "device listing"
code=$(curl -s -o /dev/null -w '%{http_code}' "${ca[@]}" "$url/api/v1/devices/999999")
[ "$code" = 404 ] || fail "unknown device gave $code"

# TLS policy: 1.0/1.1 and CBC suites refused, 1.2 AEAD and 1.3 accepted.
echo | openssl s_client -connect "127.0.0.1:$port" -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 >/dev/null 2>&1 ||
  fail "TLS 1.2 AEAD refused"
echo | openssl s_client -connect "127.0.0.1:$port" -tls1_3 >/dev/null 2>&1 || fail "TLS 1.3 refused"
if echo | openssl s_client -connect "127.0.0.1:$port" -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA256 >/dev/null 2>&1; then
  fail "a CBC suite was accepted"
fi
if echo | openssl s_client -connect "127.0.0.1:$port" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' >/dev/null 2>&1; then
  fail "TLS 1.1 was accepted"
fi
# Plain HTTP on the TLS port gets nothing.
if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then fail "plain HTTP answered"; fi

# The scheduler's first run: the backup alerts evaluated on the demo hospital, recorded.
if [ -z "$pg_url" ]; then
  job=
  for _ in $(seq 1 100); do
    job=$(sqlite3 "$home/vigie.db" "SELECT last_status FROM scheduled_jobs WHERE name = 'alerts'" 2>/dev/null || true)
    [ "$job" = ok ] && break
    sleep 0.1
  done
  [ "$job" = ok ] || fail "the alerts job did not run (status '$job')"
  [ "$(sqlite3 "$home/vigie.db" "SELECT COUNT(*) FROM alerts WHERE cleared_at IS NULL")" -gt 0 ] ||
    fail "no backup alert raised on the demo hospital"
  # Nothing to export yet (no keys): the export job runs and succeeds doing nothing. The alerts
  # were told (no channel configured: marked, nothing queued).
  [ "$(sqlite3 "$home/vigie.db" "SELECT last_status FROM scheduled_jobs WHERE name = 'export'")" = ok ] ||
    fail "the export job did not succeed"
  [ "$(sqlite3 "$home/vigie.db" "SELECT COUNT(*) FROM alerts WHERE raise_told_at IS NULL")" = 0 ] ||
    fail "alerts left untold"
fi
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" = 0 ] || fail "vigied exited with $rc on SIGTERM"
grep -q 'server.stopped' "$work/err" || fail "no clean-stop log line"

# Second start: the demo is not loaded twice.
start_vigied "$home"
again=$(curl -fsS "${ca[@]}" "$url/api/v1/status" | sed -n 's/.*"devices":\([0-9]*\).*/\1/p')
[ "$again" = "$devices" ] || fail "device count changed on restart: $devices -> $again"
kill -TERM "$pid"; wait "$pid"; pid=
echo "e2e vigied: ok ($devices demo devices)"
