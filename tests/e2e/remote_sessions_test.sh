#!/usr/bin/env bash
# Who may connect, when, and the record of it, end to end from the CLI on the demo hospital:
# a vendor and his engineer (argon2id password, TOTP), an authorisation, the Artis zee's access
# level; the engineer logs in (a replayed code is refused), asks for a session; the approver is
# e-mailed (a real SMTP server, STARTTLS), approves within 30 s and reads the one-time password;
# the engineer opens the session and tunnels to the device; files go out through the PHI filter
# (a text scrubbed, an unknown binary refused) and in to the device's inbox; the session is
# ended and its stream closes within a second; the old password and a reconnection are refused;
# the e-mail after the end arrives; the audit log verifies, with a signed checkpoint, and
# exports what happened.
#
#   remote_sessions_test.sh BIN_DIR
set -euo pipefail

bin=${1:?usage: remote_sessions_test.sh BIN_DIR}
here=$(cd "$(dirname "$0")" && pwd)
peers="python3 $here/remote_peers.py"
work=$(mktemp -d /tmp/vigie-sessions.XXXXXX)
home=$work/home
fail() { fail_with_logs "$@"; }
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
  kill_background
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
source "$here/lib.sh"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# totp SECRET [STEPS]: the RFC 6238 code now (or STEPS periods later), as an authenticator app.
totp() {
  python3 - "$@" <<'PY'
import base64, hashlib, hmac, struct, sys, time
s = sys.argv[1] + "=" * (-len(sys.argv[1]) % 8)
step = int(time.time()) // 30 + (int(sys.argv[2]) if len(sys.argv) > 2 else 0)
h = hmac.new(base64.b32decode(s), struct.pack(">Q", step), hashlib.sha1).digest()
o = h[-1] & 15
print("%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1000000))
PY
}
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
# mail_to ADDRESS SUBJECT_PART [SECONDS]: waits for a message the relay took for ADDRESS whose
# decoded subject holds SUBJECT_PART; prints its decoded body.
mail_to() {
  python3 - "$work/mail" "$1" "$2" "${3:-5}" <<'PY' || fail "no e-mail to $1 about '$2'"
import email, email.header, glob, json, sys, time
folder, to, part, secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
end = time.time() + secs
while time.time() < end:
    for meta in glob.glob(folder + "/*.json"):
        if to not in json.load(open(meta))["rcpt_tos"]:
            continue
        m = email.message_from_file(open(meta[:-5] + ".eml"))
        subject = str(email.header.make_header(email.header.decode_header(m["Subject"])))
        if part in subject:
            print(m.get_payload(decode=True).decode())
            sys.exit(0)
    time.sleep(0.1)
sys.exit(1)
PY
}

# --- the hospital: its relay, its configuration, the demo hospital ------------------------------
cd "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout relay-ca.key \
  -out relay-ca.crt -days 2 -subj "/CN=relay CA" >/dev/null 2>&1
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout relay.key \
  -out relay.csr -subj /CN=localhost >/dev/null 2>&1
echo "subjectAltName=IP:127.0.0.1" >ext.cnf
openssl x509 -req -in relay.csr -CA relay-ca.crt -CAkey relay-ca.key -CAcreateserial \
  -out relay.crt -days 2 -extfile ext.cnf >/dev/null 2>&1
background /usr/bin/python3 "$here/../notify/smtp_server.py" --out "$work/mail" \
  --tls-cert relay.crt --tls-key relay.key >"$work/smtp.port" 2>"$work/smtp.err"
wait_for "$work/smtp.port" "^[0-9]" 10
mkdir -p "$home"
cat >"$home/vigie.toml" <<TOML
[notify]
smtp_host = "127.0.0.1"
smtp_port = $(cat "$work/smtp.port")
smtp_ca_file = "$work/relay-ca.crt"
smtp_from = "vigie@chu.example"
email_allowed = ["@chu.example"]

[remote]
approvers_email = ["biomed@chu.example", "astreinte@gmail.example"]
password_memory_kib = 8192
TOML
export VIGIE_HOME=$home
"$bin/vigie" init --demo >/dev/null
"$bin/vigie" devices list --json >/dev/null

echo_port=$(free_port)
background $peers echo "$echo_port" >/dev/null
# The demo's first Artis zee (zone Imagerie) answers on loopback for the test.
artis=$("$bin/vigie" devices list --json | python3 -c "
import json, sys
print([d['id'] for d in json.load(sys.stdin) if d['product'] == 'Artis zee'][0])")
"$bin/vigie" devices set "$artis" ip=127.0.0.1 >/dev/null

"$bin/vigie" vendors add "Siemens Healthineers" >/dev/null
printf 'correct horse battery\n' >"$work/alice.pw"
"$bin/vigie" engineers add alice --vendor "Siemens Healthineers" --password-file "$work/alice.pw" \
  >/dev/null
"$bin/vigie" engineers totp alice >"$work/totp.out"
secret=$(sed -n 's/^  secret: //p' "$work/totp.out")
grep -q "otpauth://totp/Vigie:alice?secret=$secret&issuer=Vigie" "$work/totp.out" || fail "uri"
grep -q "█" "$work/totp.out" || fail "no QR code"
"$bin/vigie" authorisations add --engineer alice --device "$artis" \
  --operations screen,download,upload >/dev/null
"$bin/vigie" access set "$artis" --level none --ports "$echo_port/screen" \
  --operations screen,download,upload --owner radiologie@chu.example >/dev/null

start_vigied "$home" 0 0
broker=wss://127.0.0.1:$broker_port
ca=$home/remote/ca/ca.pem
"$bin/vigie" connectors add salle-1 --zone "Hôpital Saint-Éloi/Imagerie" >"$work/add.out"
code=$(sed -n 3p "$work/add.out" | tr -d ' ')
"$bin/vigie-connector" enroll --dir "$work/c1" --broker "$broker" --code "$code" >/dev/null
background "$bin/vigie-connector" run --dir "$work/c1" 2>"$work/c1.err"
wait_for "$work/err" "peer_connected peer=connector" 20
eng=(--broker "$broker" --ca "$ca" --credential-file "$work/token")

# --- the engineer logs in with two factors ------------------------------------------------------
code=$(totp "$secret")
if "$bin/vigie" login --broker "$broker" --ca "$ca" --engineer alice --password-file "$work/alice.pw" \
  --otp 000000 --save "$work/token" 2>"$work/login.err"; then
  fail "a wrong code logged in"
fi
grep -q "invalid credentials" "$work/login.err" || fail "login refusal: $(cat "$work/login.err")"
"$bin/vigie" login --broker "$broker" --ca "$ca" --engineer alice --password-file "$work/alice.pw" \
  --otp "$code" --save "$work/token" | grep -q "logged in as alice (Siemens Healthineers)" \
  || fail "login"
[ "$(stat -c %a "$work/token")" = 600 ] || fail "the token file is not 0600"
if "$bin/vigie" login --broker "$broker" --ca "$ca" --engineer alice --password-file "$work/alice.pw" \
  --otp "$code" --save "$work/token2" 2>/dev/null; then
  fail "a replayed code logged in"
fi

# --- request, e-mail, approval within 30 s, one-time password -----------------------------------
"$bin/vigie" sessions request "$artis" --port "$echo_port" --operations screen,download,upload \
  --reason "Erreur E-4711 au démarrage" --ticket SR-118 --wait "${eng[@]}" >"$work/request.out" &
requesting=$!
pids+=($requesting)
for _ in $(seq 1 100); do
  id=$("$bin/vigie" sessions list --json | python3 -c "
import json, sys
print(next((s['id'] for s in json.load(sys.stdin) if s['state'] == 'requested'), ''))")
  [ -n "$id" ] && break
  sleep 0.1
done
[ -n "$id" ] || fail "no pending request"
mail_to biomed@chu.example "Remote session $id requested" 5 >"$work/request.mail"
mail_to radiologie@chu.example "Remote session $id requested" 5 >/dev/null
grep -q "Erreur E-4711" "$work/request.mail" || fail "the request e-mail lacks the reason"
if grep -rq "astreinte@gmail.example" "$work"/mail/*.json; then fail "mail to a non-whitelisted address"; fi
"$bin/vigie" sessions approve "$id" >"$work/approve.out"
password=$(grep -Eo '[0-9]{3}-[0-9]{3}-[0-9]{3}' "$work/approve.out")
[ -n "$password" ] || fail "no session password shown"
wait "$requesting" || fail "the request did not end approved: $(cat "$work/request.out")"
grep -q "approved by" "$work/request.out" || fail "$(cat "$work/request.out")"

# Before the password, no tunnel.
background "$bin/vigie" connect "$artis" --port "$echo_port" "${eng[@]}" >"$work/c.out" 2>"$work/c.err"
wait_for "$work/c.out" "listening on" 20
local_port=$(sed -n 's/^vigie connect: listening on [^ ]*:\([0-9]*\) .*/\1/p' "$work/c.out")
$peers expect-closed 127.0.0.1 "$local_port" 10 >/dev/null || fail "tunnel before the password"
if "$bin/vigie" sessions open "$id" --password 000-000-000 "${eng[@]}" 2>/dev/null; then
  fail "a wrong session password opened the session"
fi
"$bin/vigie" sessions open "$id" --password "$password" "${eng[@]}" | grep -q "running since" \
  || fail "open"
$peers roundtrip 127.0.0.1 "$local_port" 300000 >/dev/null || fail "echo through the session"
sleep 1.5
"$bin/vigie" sessions list >"$work/list.out"
grep -q "● RUNNING .*alice" "$work/list.out" || fail "no running indicator: $(cat "$work/list.out")"
to_device=$("$bin/vigie" sessions show "$id" --json | json_field "['bytes_to_device']")
[ "$to_device" -ge 300000 ] || fail "byte counter $to_device"

# --- files: out through the PHI filter, in to the device's inbox --------------------------------
outbox=$home/remote/transfers/$artis/outbox
mkdir -p "$outbox"
printf 'PID|1||123456^^^CHU||DUPONT^JEAN||19500101|M\nerror E-4711 tube warm-up\n' >"$outbox/service.hl7"
head -c 4096 /dev/urandom >"$outbox/dump.bin"
"$bin/vigie" transfer list "$id" "${eng[@]}" | grep -q "service.hl7" || fail "transfer list"
"$bin/vigie" transfer get "$id" service.hl7 --out "$work/got.hl7" "${eng[@]}" >/dev/null \
  || fail "transfer get"
grep -q "E-4711" "$work/got.hl7" || fail "the technical content was lost"
if grep -q "DUPONT" "$work/got.hl7"; then fail "a patient name left the hospital"; fi
if "$bin/vigie" transfer get "$id" dump.bin --out "$work/got.bin" "${eng[@]}" 2>"$work/bin.err"; then
  fail "an unknown binary left the hospital"
fi
grep -q "may not leave the hospital" "$work/bin.err" || fail "$(cat "$work/bin.err")"
printf 'patch notes\n' >"$work/notes.txt"
"$bin/vigie" transfer put "$id" "$work/notes.txt" "${eng[@]}" >/dev/null || fail "transfer put"
cmp "$work/notes.txt" "$home/remote/transfers/$artis/inbox/notes.txt" || fail "inbox content"

# --- the end: the stream closes within a second -------------------------------------------------
$peers hold 127.0.0.1 "$local_port" 20 >"$work/hold.out" &
holding=$!
pids+=($holding)
wait_for "$work/hold.out" "open" 10
ended_at=$(date +%s.%N)
"$bin/vigie" sessions end "$id" --reason "examen en cours" >/dev/null
wait "$holding" || fail "the stream did not close: $(cat "$work/hold.out")"
closed_at=$(sed -n 's/^closed //p' "$work/hold.out")
python3 -c "import sys; d = $closed_at - $ended_at; print(f'closed {d:.3f} s after the end'); sys.exit(d > 1.0)" \
  >"$work/latency" || fail "$(cat "$work/latency")"
$peers expect-closed 127.0.0.1 "$local_port" 10 >/dev/null || fail "tunnel after the end"
if "$bin/vigie" sessions open "$id" --password "$password" "${eng[@]}" 2>/dev/null; then
  fail "the old password reopened the session"
fi
mail_to biomed@chu.example "Remote session $id starting" 5 >/dev/null
mail_to biomed@chu.example "Remote session $id ended" 5 >"$work/end.mail"
grep -q "examen en cours" "$work/end.mail" || fail "the end e-mail lacks the reason"
grep -q "Duration: 0h" "$work/end.mail" || fail "the end e-mail lacks the duration"

# --- the record ---------------------------------------------------------------------------------
"$bin/vigie" audit checkpoint >/dev/null
"$bin/vigie" audit verify | grep -q "checkpoints hold" || fail "audit verify"
"$bin/vigie" audit export --engineer alice --format json >"$work/audit.json"
python3 - "$work/audit.json" <<'PY' || fail "audit export"
import json, sys
actions = [e["action"] for e in json.load(open(sys.argv[1]))]
for a in ["remote.login.refused", "remote.login", "remote.session.request",
          "remote.session.approve", "remote.session.password_refused", "remote.session.start",
          "remote.stream.open", "remote.transfer.get", "remote.transfer.put",
          "remote.session.end", "remote.stream.close"]:
    assert a in actions, f"{a} missing from {sorted(set(actions))}"
PY
if sqlite3 "$home/vigie.db" "UPDATE audit_log SET actor = 'x' WHERE id = 1" 2>/dev/null; then
  fail "the store let the audit log be edited"
fi
cat "$work/latency"
echo "remote sessions: ok"
