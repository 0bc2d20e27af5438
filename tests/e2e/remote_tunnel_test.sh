#!/usr/bin/env bash
# The remote-service tunnel end to end, with the real programs on loopback: vigied's broker
# (TLS, CA made by `vigie init`), a connector enrolled with its one-time code, an engineer's
# `vigie connect`, a real TCP echo server and a VNC-like banner as the device's service.
# Its certificate is rotated while it runs. Then the failures: a port not granted, a zone without connector, a grant revoked mid-stream,
# the connector killed mid-stream, the broker restarted (the connector comes back by itself),
# a device that never reads (the broker's memory stays bounded), a rogue broker asking the
# connector for a host:port it never granted, 1,000 connectors at once, the path through a
# real HTTP proxy (tinyproxy, Basic auth), and the audit trail.
#
#   remote_tunnel_test.sh BIN_DIR
set -euo pipefail

bin=${1:?usage: remote_tunnel_test.sh BIN_DIR}
here=$(cd "$(dirname "$0")" && pwd)
peers="python3 $here/remote_peers.py"
work=$(mktemp -d /tmp/vigie-remote.XXXXXX)
home=$work/home
fail() { fail_with_logs "$@"; }
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
  kill_background
  rm -rf "$work"
}
trap cleanup EXIT
source "$here/lib.sh"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

export VIGIE_HOME=$home
"$bin/vigie" init >/dev/null
cat >>"$home/vigie.toml" <<'EOF'
EOF
sed -i -e 's/^engineer_bearer_tokens = false/engineer_bearer_tokens = true/' \
  -e 's/^grant_check_seconds = 5/grant_check_seconds = 1/' \
  -e 's/^idle_seconds = 30/idle_seconds = 6/' \
  -e 's/^load_on_first_start = true/load_on_first_start = false/' "$home/vigie.toml"

echo_port=$(free_port)
banner_port=$(free_port)
sink_port=$(free_port)
closed_port=$(free_port)
cat >"$work/devices.csv" <<EOF
vendor,product,serial_number,site,zone,ip,remote_service
Siemens,Magnetom Aera,MR-1,CHU,Imagerie,127.0.0.1,yes
Philips,Essenta DR,DR-1,CHU,Radiologie,127.0.0.2,yes
EOF
"$bin/vigie" devices import "$work/devices.csv" >/dev/null

background $peers echo "$echo_port" >/dev/null
background $peers echo "$banner_port" 127.0.0.1 --banner 'RFB 003.008\n' >/dev/null
background $peers sink "$sink_port" >/dev/null

broker_fixed=$(free_port)
start_vigied "$home" 0 "$broker_fixed"
[ "$broker_port" = "$broker_fixed" ] || fail "the broker did not print its port"
broker=wss://127.0.0.1:$broker_port
ca=$home/remote/ca/ca.pem

# --- enrollment -------------------------------------------------------------------------------
"$bin/vigie" connectors add irm-1 --zone Imagerie >"$work/add.out"
code=$(sed -n 3p "$work/add.out" | tr -d ' ')
[ ${#code} = 129 ] || fail "enrollment code has ${#code} characters"
# A code whose fingerprint is not the broker's CA is refused before the token is sent.
bad_code=${code%.*}.$(printf '0%.0s' $(seq 1 64))
if "$bin/vigie-connector" enroll --dir "$work/bad" --broker "$broker" --code "$bad_code" 2>"$work/bad.err"; then
  fail "enrolled with a code naming another CA"
fi
grep -q "is not the one of the enrollment code" "$work/bad.err" || fail "no CA mismatch message"
"$bin/vigie-connector" enroll --dir "$work/c1" --broker "$broker" --code "$code" >/dev/null
[ "$(stat -c %a "$work/c1/identity.pem")" = 600 ] || fail "identity.pem is not 0600"
# The token is one-time.
if "$bin/vigie-connector" enroll --dir "$work/again" --broker "$broker" --code "$code" 2>"$work/again.err"; then
  fail "the enrollment code worked twice"
fi
"$bin/vigie" connectors list | grep -q "irm-1 .*enrolled" || fail "irm-1 not listed as enrolled"

# Rotation: renewing a year before expiry makes the 90-day certificate due at once. The new
# key and certificate replace the old in one file; the old certificate stays valid.
serial_before=$(openssl x509 -in "$work/c1/identity.pem" -noout -serial)
echo "renew_before_seconds = 31536000" >>"$work/c1/connector.toml"
background "$bin/vigie-connector" run --dir "$work/c1" 2>"$work/c1.err"
c1=${pids[-1]}
wait_for "$work/err" "peer_connected peer=connector" 20
wait_for "$work/c1.err" "connector.renewed" 20
[ "$(openssl x509 -in "$work/c1/identity.pem" -noout -serial)" != "$serial_before" ] \
  || fail "the certificate was not rotated"
openssl verify -CAfile "$ca" "$work/c1/identity.pem" >/dev/null || fail "rotated certificate"
[ "$(stat -c %a "$work/c1/identity.pem")" = 600 ] || fail "rotated identity.pem is not 0600"

# --- engineer, grants, tunnel -------------------------------------------------------------------
"$bin/vigie" engineers add alice --org Siemens >"$work/eng.out" 2>/dev/null
sed -n 3p "$work/eng.out" | tr -d ' ' >"$work/cred"
"$bin/vigie" grants add --engineer alice --device 1 --port "$echo_port" >/dev/null
"$bin/vigie" grants add --engineer alice --device 1 --port "$banner_port" >/dev/null
"$bin/vigie" grants add --engineer alice --device 1 --port "$sink_port" >/dev/null
"$bin/vigie" grants add --engineer alice --device 2 --port 22 >/dev/null
connect() {  # connect NAME DEVICE PORT [ARGS...]: starts `vigie connect`, sets local_NAME
  local name=$1 device=$2 dport=$3
  shift 3
  background "$bin/vigie" connect "$device" --port "$dport" --broker "$broker" --ca "$ca" \
    --credential-file "$work/cred" "$@" >"$work/$name.out" 2>"$work/$name.err"
  wait_for "$work/$name.out" "listening on" 20
  local addr
  addr=$(sed -n 's/^vigie connect: listening on \([^ ]*\) .*/\1/p' "$work/$name.out")
  printf -v "local_$name" '%s' "${addr##*:}"
}
"$bin/vigie" connect --list --broker "$broker" --ca "$ca" --credential-file "$work/cred" \
  | grep -q "device 1 (Siemens Magnetom Aera MR-1) port $echo_port" || fail "connect --list"

connect echo 1 "$echo_port"
$peers roundtrip 127.0.0.1 "$local_echo" 3000000 >/dev/null || fail "3 MB echo through the tunnel"
$peers roundtrip 127.0.0.1 "$local_echo" 1 >/dev/null || fail "1-byte echo"
connect vnc 1 "$banner_port"
$peers banner 127.0.0.1 "$local_vnc" 'RFB 003.008\n' >/dev/null || fail "VNC banner"
# Eight streams at once on one engineer connection.
for i in 1 2 3 4 5 6 7 8; do $peers roundtrip 127.0.0.1 "$local_echo" 200000 >"$work/par$i" & done
wait_for "$work/par8" "ok" 60
for i in 1 2 3 4 5 6 7 8; do wait_for "$work/par$i" "ok 200000" 60; done

# --- refusals -----------------------------------------------------------------------------------
connect refused 1 "$closed_port"
$peers expect-closed 127.0.0.1 "$local_refused" 10 >/dev/null || fail "ungranted port stayed open"
wait_for "$work/refused.err" "not-granted" 10
connect radio 2 22
$peers expect-closed 127.0.0.1 "$local_radio" 10 >/dev/null || fail "zone without connector"
wait_for "$work/radio.err" "unreachable: no connector of the device's zone" 10

# --- a grant revoked mid-stream ends it ---------------------------------------------------------
grant=$("$bin/vigie" grants list --json | python3 -c "import json,sys; print([g['id'] for g in json.load(sys.stdin) if g['port']==$sink_port][0])")
connect sink 1 "$sink_port"
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
rss_before=$(rss "$pid")
HOLD=30 $peers push 127.0.0.1 "$local_sink" 50000000 3 >"$work/push.out" &
pushing=$!
pids+=($pushing)
wait_for "$work/push.out" "^[0-9]" 20
rss_after=$(rss "$pid")
sent=$(head -1 "$work/push.out")
# The device reads nothing: the bytes in flight are bounded by the windows and socket buffers.
[ "$sent" -lt 20000000 ] || fail "a device that reads nothing absorbed $sent bytes"
[ $((rss_after - rss_before)) -lt 65536 ] || fail "broker RSS grew by $((rss_after - rss_before)) KiB"
# The stalled stream shares the connector's WebSocket with the others: they still flow.
$peers roundtrip 127.0.0.1 "$local_echo" 2000000 >/dev/null || fail "a stalled stream stalled another"
"$bin/vigie" grants revoke "$grant" >/dev/null
for _ in $(seq 1 50); do
  [ "$(sqlite3 "$home/vigie.db" "SELECT COUNT(*) FROM audit_log WHERE action='remote.stream.close' AND details LIKE '%revoked or expired%'")" -ge 1 ] && break
  sleep 0.1
done
[ "$(sqlite3 "$home/vigie.db" "SELECT COUNT(*) FROM audit_log WHERE action='remote.stream.close' AND details LIKE '%revoked or expired%'")" -ge 1 ] \
  || fail "revoking the grant did not end its stream"
kill "$pushing" 2>/dev/null || true

# --- the connector killed mid-stream: the engineer's side sees a clean close --------------------
python3 - "$local_echo" >"$work/midstream.out" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(b"x" * 1000)
got = 0
while got < 1000:
    got += len(s.recv(65536))
print("streaming", flush=True)
start = time.time()
try:
    while s.recv(65536):
        pass
    print(f"closed after {time.time() - start:.1f} s")
except OSError as e:
    print(f"error {e}")
EOF
mid=$!
wait_for "$work/midstream.out" "streaming" 20
kill -9 "$c1"
wait "$mid" || true
grep -q "^closed after" "$work/midstream.out" || fail "engineer side: $(cat "$work/midstream.out")"

# --- broker restart: the connector reconnects by itself -----------------------------------------
background "$bin/vigie-connector" run --dir "$work/c1" 2>"$work/c1b.err"
wait_for "$work/c1/status.json" '"connected"' 20
kill -TERM "$pid"
wait "$pid" 2>/dev/null || true
wait_for "$work/c1/status.json" '"disconnected"' 20
start_vigied "$home" 0 "$broker_fixed"
wait_for "$work/c1/status.json" '"connected"' 30
connect after 1 "$echo_port"
$peers roundtrip 127.0.0.1 "$local_after" 100000 >/dev/null || fail "tunnel after broker restart"

# --- a rogue broker cannot make the connector dial what it never granted ------------------------
rogue_port=$(free_port)
mkdir "$work/rogue"
cp "$work/c1/ca.pem" "$work/c1/identity.pem" "$work/rogue/"
echo "broker = \"wss://127.0.0.1:$rogue_port\"" >"$work/rogue/connector.toml"
$peers rogue-broker "$rogue_port" "$home/remote/broker.crt" "$home/remote/broker.key" \
  "127.0.0.1:$echo_port" >"$work/rogue.out" 2>&1 &
pids+=($!)
wait_for "$work/rogue.out" listening 10
background "$bin/vigie-connector" run --dir "$work/rogue" 2>"$work/rogue.err"
wait_for "$work/rogue.out" "^close 2 " 20

# --- 1,000 connectors at once ------------------------------------------------------------------
$peers connectors "$broker" "$ca" "$work/c1/identity.pem" 1000 >"$work/many.out" 2>"$work/many.err"
[ "$(head -1 "$work/many.out")" = 1000 ] || fail "$(head -1 "$work/many.out") of 1000 connectors upgraded: $(cat "$work/many.err")"
kill -0 "$pid" || fail "the broker died under 1,000 connectors"

# --- through a real HTTP proxy with Basic auth ----------------------------------------------------
proxy_port=$(free_port)
cat >"$work/tinyproxy.conf" <<EOF
User root
Group root
Port $proxy_port
Listen 127.0.0.1
Timeout 60
Allow 127.0.0.1
BasicAuth hospital s3cret
LogLevel Info
LogFile "$work/tinyproxy.log"
PidFile "$work/tinyproxy.pid"
EOF
background tinyproxy -d -c "$work/tinyproxy.conf" 2>"$work/tinyproxy.err"
for _ in $(seq 1 200); do (echo >"/dev/tcp/127.0.0.1/$proxy_port") 2>/dev/null && break; sleep 0.1; done
(echo >"/dev/tcp/127.0.0.1/$proxy_port") 2>/dev/null || fail "tinyproxy did not start"
"$bin/vigie" connectors add irm-2 --zone Imagerie >"$work/add2.out"
code2=$(sed -n 3p "$work/add2.out" | tr -d ' ')
if "$bin/vigie-connector" enroll --dir "$work/c2" --broker "$broker" --code "$code2" \
  --proxy "http://hospital:wrong@127.0.0.1:$proxy_port" 2>"$work/c2bad.err"; then
  fail "enrolled through the proxy with a wrong password"
fi
grep -q "the proxy refused CONNECT" "$work/c2bad.err" || fail "no proxy refusal: $(cat "$work/c2bad.err")"
"$bin/vigie-connector" enroll --dir "$work/c2" --broker "$broker" --code "$code2" \
  --proxy "http://hospital:s3cret@127.0.0.1:$proxy_port" >/dev/null
"$bin/vigie" connectors revoke irm-1 >/dev/null  # from now on only irm-2 serves the zone
# Its live connection is cut, and it is refused when it comes back.
wait_for "$work/c1/status.json" "403" 20
background "$bin/vigie-connector" run --dir "$work/c2" 2>"$work/c2.err"
wait_for "$work/c2/status.json" '"connected"' 20
connect proxied 1 "$echo_port" --proxy "http://hospital:s3cret@127.0.0.1:$proxy_port"
$peers roundtrip 127.0.0.1 "$local_proxied" 500000 >/dev/null || fail "echo through the proxy"
grep -q "CONNECT" "$work/tinyproxy.log" || fail "the proxy saw no CONNECT"

# --- the record -------------------------------------------------------------------------------
"$bin/vigie" audit verify >/dev/null || fail "audit chain broken"
for action in remote.connector.add remote.connector.enroll remote.connector.connect \
  remote.connector.rotate \
  remote.connector.revoke remote.connector.refused remote.engineer.add remote.grant.add \
  remote.grant.revoke remote.stream.open remote.stream.close remote.stream.refused; do
  n=$(sqlite3 "$home/vigie.db" "SELECT COUNT(*) FROM audit_log WHERE action='$action'")
  [ "$n" -ge 1 ] || fail "no audit entry $action"
done
token=$(sed -n 3p "$work/eng.out" | tr -d ' ')
if sqlite3 "$home/vigie.db" "SELECT details FROM audit_log" | grep -q "$token"; then
  fail "an engineer's credential is in the audit log"
fi
echo "e2e remote tunnel: ok"
