#!/usr/bin/env bash
# The nftables test bed: a device (medical VLAN), a server network (PACS, RIS, NTP...) and an
# office PC, each a network namespace joined by a veth pair to a router namespace that
# forwards IPv4 and IPv6. The router loads the ruleset the generator makes for the Essenta DR
# Compact's Annex A bound to these addresses (tests/e2e/nft_testbed_allow.txt), once as .nft
# text and once as JSON; real TCP and UDP traffic then shows that the allowed flows pass and
# the others are dropped, and that the counters move.
#
#   nft_testbed_test.sh BIN_DIR
# Exit 0 passed, 1 failed, 77 skipped (network namespaces impossible here).
set -euo pipefail

bin=${1:?usage: nft_testbed_test.sh BIN_DIR}
here=$(cd "$(dirname "$0")" && pwd)
probe=$bin/nft_probe
tag=$$
ns_router=vnft-router-$tag
ns_dev=vnft-dev-$tag
ns_srv=vnft-srv-$tag
ns_office=vnft-office-$tag
work=$(mktemp -d /tmp/vnft-testbed.XXXXXX)
servers=()

cleanup() {
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
  for ns in "$ns_router" "$ns_dev" "$ns_srv" "$ns_office"; do
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

if ! ip netns add "$ns_router" 2>"$work/why"; then
  echo "SKIP: network namespaces are not possible here: $(cat "$work/why")"
  exit 77
fi
for ns in "$ns_dev" "$ns_srv" "$ns_office"; do ip netns add "$ns"; done

run_in() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# No duplicate address detection: addresses (link-local ones too) are usable at once, so the
# first IPv6 flow does not race neighbour discovery.
for ns in "$ns_router" "$ns_dev" "$ns_srv" "$ns_office"; do
  run_in "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done

# link NS IFNAME ROUTER_IFNAME ADDR4/LEN GW4 ADDR6/LEN GW6 [EXTRA_ADDR4/LEN...]
link() {
  local ns=$1 ifname=$2 rif=$3 a4=$4 gw4=$5 a6=$6 gw6=$7
  shift 7
  ip link add "$rif" netns "$ns_router" type veth peer name "$ifname" netns "$ns"
  run_in "$ns" ip link set lo up
  run_in "$ns" ip link set "$ifname" up
  run_in "$ns" ip addr add "$a4" dev "$ifname"
  for extra in "$@"; do run_in "$ns" ip addr add "$extra" dev "$ifname"; done
  run_in "$ns" ip -6 addr add "$a6" dev "$ifname" nodad
  run_in "$ns" ip route add default via "$gw4"
  run_in "$ns" ip -6 route add default via "$gw6"
  run_in "$ns_router" ip link set "$rif" up
  run_in "$ns_router" ip addr add "$gw4/24" dev "$rif"
  run_in "$ns_router" ip -6 addr add "$gw6/64" dev "$rif" nodad
}

run_in "$ns_router" ip link set lo up
run_in "$ns_router" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
link "$ns_dev" eth0 r-med 10.77.150.10/24 10.77.150.1 fd77:150::10/64 fd77:150::1
link "$ns_srv" eth0 r-srv 10.77.20.5/24 10.77.20.1 fd77:20::5/64 fd77:20::1 \
  10.77.20.6/24 10.77.20.7/24 10.77.20.8/24 10.77.20.9/24
link "$ns_office" eth0 r-off 10.77.30.50/24 10.77.30.1 fd77:30::50/64 fd77:30::1

# Servers: PACS 6104 and 22, RIS 5104 and 2121 (a >1023 FTP data port), NTP 123/udp and
# 123/tcp, on the server network; the device listens on 3010 (DICOM) and 445; the office PC
# on 445. Each goes to the background once it listens.
serve() { servers+=("$(run_in "$1" "$probe" serve "$2" "$3" "$4")"); }
serve "$ns_srv" tcp 10.77.20.5 6104
serve "$ns_srv" tcp 10.77.20.5 22
serve "$ns_srv" tcp fd77:20::5 6104
serve "$ns_srv" tcp 10.77.20.6 5104
serve "$ns_srv" tcp 10.77.20.6 2121
serve "$ns_srv" udp 10.77.20.7 123
serve "$ns_srv" tcp 10.77.20.7 123
serve "$ns_dev" tcp 10.77.150.10 3010
serve "$ns_dev" tcp 10.77.150.10 445
serve "$ns_dev" tcp fd77:150::10 445
serve "$ns_dev" tcp fd77:150::10 3010
serve "$ns_office" tcp 10.77.30.50 445

failures=0
expect() {  # expect pass|drop FROM_NS PROTO ADDRESS PORT WHAT
  local want=$1 ns=$2 proto=$3 addr=$4 port=$5 what=$6 got=drop
  # A dropped packet never answers: 1 s proves a drop; a pass gets 5 s on a loaded machine.
  local timeout_ms=1000
  [ "$want" = pass ] && timeout_ms=5000
  if run_in "$ns" "$probe" connect "$proto" "$addr" "$port" "$timeout_ms"; then got=pass; fi
  if [ "$got" = "$want" ]; then
    echo "ok    $want  $what"
  else
    echo "FAIL  expected $want, got $got: $what"
    failures=$((failures + 1))
  fi
}

# Without any ruleset everything is routed: the test bed itself works.
expect pass "$ns_office" tcp 10.77.150.10 445 "no ruleset yet: office -> device 445/tcp is routed"
expect pass "$ns_office" tcp fd77:150::10 445 "no ruleset yet: IPv6 office -> device 445/tcp"
expect pass "$ns_dev" tcp fd77:20::5 6104 "no ruleset yet: IPv6 device -> PACS 6104/tcp"

for format in nft json; do
  echo "--- ruleset loaded as $format"
  "$bin/nft_testbed_ruleset" "$here/nft_testbed_allow.txt" "$format" >"$work/ruleset.$format" \
    2>"$work/warnings"
  if [ "$format" = json ]; then
    run_in "$ns_router" nft -j -f "$work/ruleset.$format"
  else
    run_in "$ns_router" nft -f "$work/ruleset.$format"
  fi

  expect pass "$ns_dev" tcp 10.77.20.5 6104 "device -> PACS 6104/tcp (row 11)"
  expect pass "$ns_dev" udp 10.77.20.7 123 "device -> NTP 123/udp (row 17)"
  expect pass "$ns_dev" tcp 10.77.20.6 5104 "device -> RIS 5104/tcp (row 10)"
  expect pass "$ns_dev" tcp 10.77.20.6 2121 "device -> RIS 2121/tcp (row 20, >1023)"
  expect pass "$ns_srv" tcp 10.77.150.10 3010 "PACS -> device 3010/tcp (row 1, DICOM)"
  expect pass "$ns_dev" tcp fd77:20::5 6104 "IPv6: device -> PACS 6104/tcp"
  expect pass "$ns_srv" tcp fd77:150::10 3010 "IPv6: PACS -> device 3010/tcp"
  expect pass "$ns_office" tcp 10.77.20.5 6104 "office -> PACS: not this zone's traffic"
  expect drop "$ns_office" tcp 10.77.150.10 445 "office -> device 445/tcp (SMB)"
  expect drop "$ns_office" tcp 10.77.150.10 3010 "office -> device 3010/tcp (only the PACS may)"
  expect drop "$ns_office" tcp fd77:150::10 445 "IPv6: office -> device 445/tcp"
  expect drop "$ns_srv" tcp 10.77.150.10 445 "PACS -> device 445/tcp"
  expect drop "$ns_dev" tcp 10.77.30.50 445 "device -> office 445/tcp"
  expect drop "$ns_dev" tcp 10.77.20.5 22 "device -> PACS 22/tcp (no row names it)"
  expect drop "$ns_dev" tcp 10.77.20.7 123 "device -> NTP 123/tcp (row 17 is UDP)"
  expect drop "$ns_srv" tcp fd77:150::10 445 "IPv6: PACS -> device 445/tcp"

  # The drop counter counted the refused packets; the PACS element counted its flow.
  table=inet\ vigie_testbed
  dropped=$(run_in "$ns_router" nft -j list counter $table dropped | jq '.nftables[1].counter.packets')
  pacs=$(run_in "$ns_router" nft -j list map $table out_pacs_v4 |
    jq '[.nftables[1].map.elem[] | select(.[0].elem.val.concat == ["10.77.150.10", "tcp", 6104])
         | .[0].elem.counter.packets] | first')
  # The element's provenance is a note of the .nft view (the kernel keeps no comment per element).
  note=$("$bin/nft_testbed_ruleset" "$here/nft_testbed_allow.txt" nft | grep -F "10.77.150.10 . tcp . 6104 : accept" || true)
  if [ "${dropped:-0}" -ge 8 ]; then echo "ok    drop counter: $dropped packets"; else
    echo "FAIL  drop counter: ${dropped:-none} packets, expected at least 8"; failures=$((failures + 1)); fi
  if [ "${pacs:-0}" -ge 1 ]; then echo "ok    PACS 6104 element counter: $pacs packets"; else
    echo "FAIL  PACS 6104 element counter: ${pacs:-none}"; failures=$((failures + 1)); fi
  case $note in
    *"# "*"philips-essenta-dr-compact intent 10 (Annex A row 11: To PACS)"*) echo "ok    element note: $note" ;;
    *) echo "FAIL  element note: $note"; failures=$((failures + 1)) ;;
  esac
  run_in "$ns_router" nft delete table $table
done

if [ "$failures" -ne 0 ]; then
  echo "nft test bed: $failures failure(s)"
  exit 1
fi
echo "nft test bed: all flows as expected"
