#!/usr/bin/env bash
# The gateway's one promise, on separate networks: the engineer's PC, the DMZ and the medical
# VLAN are three network namespaces; the DMZ joins the other two but does not route between
# them. vigied's broker listens in the DMZ, the connector and the device (a VNC-like server) are
# on the medical VLAN. The engineer cannot reach the device directly; with a grant, through the
# broker and the connector, he can, and only on the granted port; once the grant is revoked he
# cannot any more.
#
#   remote_netns_test.sh BIN_DIR
# Exit 0 passed, 1 failed, 77 skipped (network namespaces impossible here).
set -euo pipefail

bin=${1:?usage: remote_netns_test.sh BIN_DIR}
here=$(cd "$(dirname "$0")" && pwd)
peers="python3 $here/remote_peers.py"
tag=$$
ns_eng=vrem-eng-$tag
ns_dmz=vrem-dmz-$tag
ns_med=vrem-med-$tag
work=$(mktemp -d /tmp/vigie-remote-ns.XXXXXX)
home=$work/home
fail() { fail_with_logs "$@"; }
cleanup() {
  kill_background
  wait 2>/dev/null || true
  for ns in "$ns_eng" "$ns_dmz" "$ns_med"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
source "$here/lib.sh"

if ! ip netns add "$ns_dmz" 2>"$work/why"; then
  echo "SKIP: network namespaces are not possible here: $(cat "$work/why")"
  exit 77
fi
ip netns add "$ns_eng"
ip netns add "$ns_med"
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# engineer 10.77.1.2 <-> 10.77.1.1 DMZ 10.77.2.1 <-> 10.77.2.2 medical VLAN
ip link add veth-eng netns "$ns_eng" type veth peer name dmz-eng netns "$ns_dmz"
ip link add veth-med netns "$ns_med" type veth peer name dmz-med netns "$ns_dmz"
for ns in "$ns_eng" "$ns_dmz" "$ns_med"; do in_ns "$ns" ip link set lo up; done
in_ns "$ns_eng" ip addr add 10.77.1.2/24 dev veth-eng
in_ns "$ns_eng" ip link set veth-eng up
in_ns "$ns_eng" ip route add default via 10.77.1.1
in_ns "$ns_med" ip addr add 10.77.2.2/24 dev veth-med
in_ns "$ns_med" ip link set veth-med up
in_ns "$ns_med" ip route add default via 10.77.2.1
in_ns "$ns_dmz" ip addr add 10.77.1.1/24 dev dmz-eng
in_ns "$ns_dmz" ip addr add 10.77.2.1/24 dev dmz-med
in_ns "$ns_dmz" ip link set dmz-eng up
in_ns "$ns_dmz" ip link set dmz-med up
# No IP routing between the engineer and the hospital: the DMZ does not forward.
in_ns "$ns_dmz" sysctl -qw net.ipv4.ip_forward=0

export VIGIE_HOME=$home
"$bin/vigie" init >/dev/null
sed -i -e 's/^engineer_bearer_tokens = false/engineer_bearer_tokens = true/' \
  -e 's/^grant_check_seconds = 5/grant_check_seconds = 1/' \
  -e 's/^load_on_first_start = true/load_on_first_start = false/' \
  -e 's/^broker_listen = "127.0.0.1"/broker_listen = "0.0.0.0"/' \
  -e 's/^broker_names = .*/broker_names = ["10.77.1.1", "10.77.2.1"]/' "$home/vigie.toml"
cat >"$work/devices.csv" <<EOF
vendor,product,serial_number,site,zone,ip,remote_service
Siemens,Magnetom Aera,MR-7,CHU,VLAN medical,10.77.2.2,yes
EOF
"$bin/vigie" devices import "$work/devices.csv" >/dev/null

background ip netns exec "$ns_med" $peers echo 5900 10.77.2.2 --banner 'RFB 003.008\n' >"$work/vnc.out"
background ip netns exec "$ns_med" $peers echo 22 10.77.2.2 >"$work/ssh.out"
wait_for "$work/vnc.out" listening 10
wait_for "$work/ssh.out" listening 10

# Without Vigie, the engineer's PC reaches nothing on the medical VLAN.
if in_ns "$ns_eng" timeout 3 $peers banner 10.77.2.2 5900 'RFB 003.008\n' >/dev/null 2>&1; then
  fail "the engineer reached the device directly"
fi

background ip netns exec "$ns_dmz" "$bin/vigied" --port 0 --broker-port 8444 >"$work/vigied.out" 2>"$work/vigied.err"
wait_for "$work/vigied.out" "listening on" 60

"$bin/vigie" connectors add mr-link --zone "VLAN medical" >"$work/add.out"
code=$(sed -n 3p "$work/add.out" | tr -d ' ')
in_ns "$ns_med" "$bin/vigie-connector" enroll --dir "$work/conn" --broker wss://10.77.2.1:8444 \
  --code "$code" >/dev/null
background ip netns exec "$ns_med" "$bin/vigie-connector" run --dir "$work/conn" 2>"$work/conn.err"
wait_for "$work/conn/status.json" '"connected"' 20

"$bin/vigie" engineers add bob --org Siemens >"$work/eng.out" 2>/dev/null
sed -n 3p "$work/eng.out" | tr -d ' ' >"$work/cred"
"$bin/vigie" grants add --engineer bob --device 1 --port 5900 >/dev/null
grant=$("$bin/vigie" grants list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
connect() {  # connect NAME PORT LOCAL_PORT
  background ip netns exec "$ns_eng" "$bin/vigie" connect 1 --port "$2" --local "127.0.0.1:$3" \
    --broker wss://10.77.1.1:8444 --ca "$home/remote/ca/ca.pem" --credential-file "$work/cred" \
    >"$work/$1.out" 2>"$work/$1.err"
  wait_for "$work/$1.out" "listening on" 20
}
connect vnc 5900 15900
in_ns "$ns_eng" $peers banner 127.0.0.1 15900 'RFB 003.008\n' >/dev/null || fail "VNC through the tunnel"
connect ssh 22 15922
in_ns "$ns_eng" $peers expect-closed 127.0.0.1 15922 10 >/dev/null || fail "port 22 was not granted"
wait_for "$work/ssh.err" "not-granted" 10

"$bin/vigie" grants revoke "$grant" >/dev/null
sleep 2
in_ns "$ns_eng" $peers expect-closed 127.0.0.1 15900 10 >/dev/null || fail "reached after revocation"
# And still nothing directly.
if in_ns "$ns_eng" timeout 3 $peers banner 10.77.2.2 5900 'RFB 003.008\n' >/dev/null 2>&1; then
  fail "the engineer reached the device directly"
fi
echo "e2e remote netns: ok"
