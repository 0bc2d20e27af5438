#!/usr/bin/env bash
# End to end, through the command line: notifications to a real SMTP relay (aiosmtpd with
# STARTTLS and AUTH, certificate from a throw-away CA) and to a UDP syslog collector.
# `vigie notify test` on every channel, a recipient off the whitelist refused and audited, the
# outbox listing, the relay down (the notice waits, with its error), a bad key refused with its
# place. Usage: notify_cli_test.sh BIN_DIR SOURCE_DIR
set -euo pipefail
bin=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work=$(mktemp -d)
smtp_pid=
udp_pid=
cleanup() {
  [ -n "$smtp_pid" ] && kill "$smtp_pid" 2>/dev/null || true
  [ -n "$udp_pid" ] && kill "$udp_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
vigie() { "$bin/vigie" --home "$work/home" "$@"; }
wait_for_line() { for _ in $(seq 1 100); do [ -s "$1" ] && return 0; sleep 0.05; done; fail "no $1"; }

# A CA and the relay's certificate.
cd "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt \
  -days 2 -subj "/CN=e2e CA" >/dev/null 2>&1
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout relay.key -out relay.csr \
  -subj /CN=localhost >/dev/null 2>&1
echo "subjectAltName=DNS:localhost,IP:127.0.0.1" >ext.cnf
openssl x509 -req -in relay.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out relay.crt -days 2 \
  -extfile ext.cnf >/dev/null 2>&1

start_relay() {  # [PORT]
  /usr/bin/python3 "$src/tests/notify/smtp_server.py" --out "$work/mail" --port "${1:-0}" \
    --tls-cert relay.crt --tls-key relay.key --auth-user vigie --auth-password 'pw with spaces' \
    >"$work/smtp.port" 2>"$work/smtp.err" &
  smtp_pid=$!
  wait_for_line "$work/smtp.port"
}
start_relay
smtp_port=$(cat "$work/smtp.port")

# A syslog collector: one datagram into a file.
/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
data = s.recv(65536)
open(sys.argv[1], "wb").write(data)
' "$work/syslog.msg" >"$work/udp.port" &
udp_pid=$!
wait_for_line "$work/udp.port"

mkdir -p "$work/home"
printf 'pw with spaces\n' >"$work/home/smtp.password"
chmod 600 "$work/home/smtp.password"
cat >"$work/home/vigie.toml" <<TOML
[notify]
smtp_host = "127.0.0.1"
smtp_port = $smtp_port
smtp_ca_file = "$work/ca.crt"
smtp_user = "vigie"
smtp_password_file = "smtp.password"
smtp_from = "vigie@hospital.example"
smtp_timeout_seconds = 5
email_allowed = ["biomed@hospital.example", "@it.hospital.example"]
email_to = ["biomed@hospital.example"]
syslog = "udp://127.0.0.1:$(cat "$work/udp.port")"
TOML
vigie init >/dev/null 2>&1 || fail "init"

# Every configured channel.
vigie notify test >"$work/out" 2>"$work/err" || fail "notify test: $(cat "$work/out" "$work/err")"
grep -q 'notice 1 (email biomed@hospital.example): delivered' "$work/out" || fail "$(cat "$work/out")"
grep -q 'notice 2 (syslog): delivered' "$work/out" || fail "$(cat "$work/out")"
[ -f "$work/mail/1.eml" ] || fail "the relay received nothing"
jq -e '.tls and .user == "vigie" and .rcpt_tos == ["biomed@hospital.example"]' "$work/mail/1.json" \
  >/dev/null || fail "envelope: $(cat "$work/mail/1.json")"
grep -q '^Subject: Vigie: test notice' "$work/mail/1.eml" || fail "subject"
grep -q 'pw with spaces' "$work/err" "$work/out" && fail "the password was printed"
wait "$udp_pid" || true
udp_pid=
# daemon (3) * 8 + informational (6) = 30; RFC 5424 version 1.
grep -q '^<30>1 [0-9T:.-]*Z [^ ]* vigie [0-9]* notify.test \[vigie@32473 kind="notify.test" object="notify" notice="2"\] ' \
  "$work/syslog.msg" || fail "syslog: $(cat "$work/syslog.msg")"

# Off the whitelist: refused, stored as refused, audited, never sent.
if vigie notify test --email support@vendor.example >"$work/out" 2>"$work/err"; then
  fail "a recipient off the whitelist was accepted"
fi
grep -q 'support@vendor.example: refused: not on notify.email_allowed' "$work/err" || fail "$(cat "$work/err")"
vigie notify outbox --json >"$work/outbox.json"
jq -e 'length == 1 and .[0].state == "refused" and .[0].recipient == "support@vendor.example"' \
  "$work/outbox.json" >/dev/null || fail "outbox: $(cat "$work/outbox.json")"
[ "$(ls "$work/mail"/*.eml | wc -l)" = 1 ] || fail "something was sent to the vendor"

# The relay is down: the notice waits in the outbox with its error; exit 1.
kill "$smtp_pid"
wait "$smtp_pid" 2>/dev/null || true
smtp_pid=
if vigie notify test --email ops@it.hospital.example >"$work/out" 2>"$work/err"; then
  fail "a test with the relay down succeeded"
fi
grep -q 'not delivered, next attempt at' "$work/out" || fail "$(cat "$work/out")"
vigie notify outbox --json >"$work/outbox.json"
jq -e '.[0].state == "pending" and .[0].attempts == 1 and (.[0].last_error | test("cannot connect"))' \
  "$work/outbox.json" >/dev/null || fail "outbox: $(cat "$work/outbox.json")"
vigie notify outbox 2>/dev/null | grep -q 'last error: cannot connect' || fail "outbox table"
# Not due yet: deliver tries nothing and says so.
vigie notify deliver --json >"$work/deliver.json" || fail "deliver with nothing due"
jq -e '.delivered == 0 and .retried == 0' "$work/deliver.json" >/dev/null || fail "$(cat "$work/deliver.json")"

# Every attempt is in the audit log (never the body), and the chain holds.
sqlite3 "$work/home/vigie.db" "SELECT action FROM audit_log WHERE action LIKE 'notify.%' ORDER BY id" \
  >"$work/actions"
diff <(printf '%s\n' notify.queued notify.queued notify.delivered notify.delivered notify.refused \
  notify.queued notify.retry) "$work/actions" >&2 || fail "audit actions"
sqlite3 "$work/home/vigie.db" "SELECT details FROM audit_log" | grep -q 'asked for by' &&
  fail "a body went into the audit log"

# A bad value is refused with its place, nothing runs.
sed -i 's/^smtp_timeout_seconds = 5$/smtp_timeout_seconds = 0/' "$work/home/vigie.toml"
if vigie notify outbox >"$work/out" 2>"$work/err"; then fail "a bad configuration was accepted"; fi
grep -q "vigie.toml:8:24: key 'notify.smtp_timeout_seconds': expected an integer from 1 to 600" \
  "$work/err" || fail "$(cat "$work/err")"
echo "notify CLI: ok"
