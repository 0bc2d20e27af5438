#!/usr/bin/env bash
# Disaster-recovery exports end to end, through the command line, to a throw-away OpenSSH
# server on a loopback port (its own host key, its own authorized_keys): three runs with
# generations_kept = 2 leave exactly the newest two on the strategic PC, each verifies and
# unpacks there with the PC's key; a PC on a closed port is reported unreachable and stale, a PC
# whose SSH host key does not match is reported unverifiable (host keys are never learnt); a
# tampered archive is refused. Usage: export_push_test.sh BIN_DIR (root: sshd needs it).
set -euo pipefail
bin=$1
if [ "$(id -u)" != 0 ] || [ ! -x /usr/sbin/sshd ]; then
  echo "SKIP: needs root and /usr/sbin/sshd"
  exit 77
fi
work=$(mktemp -d)
sshd_pid=
cleanup() {
  if [ -n "$sshd_pid" ]; then kill "$sshd_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
vigie() { "$bin/vigie" --home "$work/home" "$@"; }

# A free loopback port for sshd, and one nobody listens on.
read -r port closed < <(python3 -c '
import socket
a = socket.socket(); a.bind(("127.0.0.1", 0))
b = socket.socket(); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')

vigie init >/dev/null 2>&1
printf '%s\n' 'vendor,product,serial_number,site,zone,location,owner,ip,status' \
  'Philips,Essenta DR Compact,E1,CHU,Imagerie,"Bât A, salle 2",Radiologie,10.1.110.30,in-service' \
  'Siemens,Artis zee,S1,CHU,Bloc,Salle 4,Bloc opératoire,10.1.120.20,in-service' \
  >"$work/devices.csv"
vigie devices import "$work/devices.csv" >/dev/null
sed -i -e 's/^generations_kept = 7$/generations_kept = 2/' -e 's/^max_age_hours = 26$/max_age_hours = 1/' \
  -e 's/^connect_timeout_seconds = 15$/connect_timeout_seconds = 5/' "$work/home/vigie.toml"
grep -q '^generations_kept = 2$' "$work/home/vigie.toml" || fail "configuration not set"

vigie export keygen >"$work/keygen.out"
ssh_pub=$(cat "$work/home/export/ssh/id_ed25519.pub")

# The strategic PC: its encryption key and the server's signing key it trusts.
"$bin/vigie" export host-keygen --out "$work/pc1" >/dev/null
cp "$work/home/export/signing.pub" "$work/pc1/signer.pub"
"$bin/vigie" export host-keygen --out "$work/pc2" >/dev/null
"$bin/vigie" export host-keygen --out "$work/pc3" >/dev/null

# Its SSH server: a temporary host key, authorized_keys holding the export key only.
mkdir -p "$work/sshd" "$work/pc1/inbox" /run/sshd
ssh-keygen -q -t ed25519 -N "" -f "$work/sshd/host_key"
ssh-keygen -q -t ed25519 -N "" -f "$work/sshd/other_key"
echo "$ssh_pub" >"$work/sshd/authorized_keys"
chmod 600 "$work/sshd/authorized_keys"
cat >"$work/sshd/config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $work/sshd/host_key
AuthorizedKeysFile $work/sshd/authorized_keys
PidFile $work/sshd/pid
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
Subsystem sftp internal-sftp
LogLevel ERROR
EOF
/usr/sbin/sshd -t -f "$work/sshd/config" || fail "sshd refuses its configuration"
/usr/sbin/sshd -D -f "$work/sshd/config" -E "$work/sshd/log" &
sshd_pid=$!
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  kill -0 "$sshd_pid" 2>/dev/null || fail "sshd exited: $(cat "$work/sshd/log")"
  sleep 0.05
done

vigie export host add pc1 --pubkey "$work/pc1/host.pub" --ssh "root@127.0.0.1:$port" \
  --dir "$work/pc1/inbox" --ssh-host-key "$work/sshd/host_key.pub" >/dev/null
vigie export host add pc2 --pubkey "$work/pc2/host.pub" --ssh "root@127.0.0.1:$closed" \
  --dir /tmp/never --ssh-host-key "$work/sshd/host_key.pub" >/dev/null
# pc3 is the same server, registered with another host key: it must not be trusted.
vigie export host add pc3 --pubkey "$work/pc3/host.pub" --ssh "root@127.0.0.1:$port" \
  --dir "$work/pc3-inbox" --ssh-host-key "$work/sshd/other_key.pub" >/dev/null

# What an upload cut short would leave behind: removed by the next push.
echo partial >"$work/pc1/inbox/vigie-dr-20200101T000000.000Z.vdr.part"
for run in 1 2 3; do
  set +e
  vigie export run --json >"$work/run$run.json" 2>"$work/run$run.err"
  rc=$?
  set -e
  [ "$rc" = 1 ] || fail "run $run: exit $rc (pc2 and pc3 must fail): $(cat "$work/run$run.err")"
  jq -e '.pushes | map({(.host): .outcome}) | add |
         .pc1 == "ok" and .pc2 == "unreachable" and .pc3 == "unverifiable"' \
    "$work/run$run.json" >/dev/null || fail "run $run: $(jq -c .pushes "$work/run$run.json")"
done

# Rotation: exactly the newest two generations on the PC, no partial upload left over.
mapfile -t on_pc < <(ls "$work/pc1/inbox")
[ "${#on_pc[@]}" = 2 ] || fail "files on pc1: ${on_pc[*]}"
for run in 2 3; do
  gen=$(jq -r .generation "$work/run$run.json")
  [ -f "$work/pc1/inbox/vigie-dr-$gen.vdr" ] || fail "generation $gen of run $run is not on pc1"
done
[ ! -e "$work/pc3-inbox" ] || fail "an unverified host received data"
jq -e '.pushes[] | select(.host == "pc1") | .generations_kept == 2' "$work/run3.json" >/dev/null ||
  fail "generations kept: $(jq -c .pushes "$work/run3.json")"

# On the PC: verify with its own key (signer.pub beside it), unpack, read.
latest="$work/pc1/inbox/vigie-dr-$(jq -r .generation "$work/run3.json").vdr"
"$bin/vigie" export verify "$latest" --decrypt-with "$work/pc1/host.key" \
  --unpack "$work/pc1/readable" --json >"$work/verify.json"
jq -e '.ok and .contents_checked and (.files | length) >= 6' "$work/verify.json" >/dev/null ||
  fail "verify: $(cat "$work/verify.json")"
grep -q "Essenta DR Compact" "$work/pc1/readable/index.html" || fail "index.html lacks devices"
head -1 "$work/pc1/readable/csv/devices.csv" | grep -q "^id,vendor,product" ||
  fail "devices.csv header"
# Every registered PC can read the archive; a PC that is not registered cannot.
"$bin/vigie" export host-keygen --out "$work/stranger" >/dev/null
set +e
"$bin/vigie" export verify "$latest" --key "$work/pc1/signer.pub" \
  --decrypt-with "$work/stranger/host.key" 2>"$work/stranger.err"
rc=$?
set -e
[ "$rc" = 1 ] && grep -q "not encrypted for this host" "$work/stranger.err" ||
  fail "stranger: exit $rc $(cat "$work/stranger.err")"

# A byte flipped in the PC's copy: refused with the reason.
cp "$latest" "$work/tampered.vdr"
python3 - "$work/tampered.vdr" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x40
open(p, "wb").write(bytes(b))
EOF
set +e
"$bin/vigie" export verify "$work/tampered.vdr" --decrypt-with "$work/pc1/host.key" \
  2>"$work/tampered.err"
rc=$?
set -e
[ "$rc" = 1 ] && grep -q "REFUSED" "$work/tampered.err" ||
  fail "tampered archive: exit $rc $(cat "$work/tampered.err")"

# An older generation renamed as the newest one: refused (the signed header names it).
older="$work/pc1/inbox/vigie-dr-$(jq -r .generation "$work/run2.json").vdr"
cp "$older" "$work/renamed/$(basename "$latest")" 2>/dev/null ||
  { mkdir -p "$work/renamed"; cp "$older" "$work/renamed/$(basename "$latest")"; }
set +e
"$bin/vigie" export verify "$work/renamed/$(basename "$latest")" --key "$work/pc1/signer.pub" \
  2>"$work/renamed.err"
rc=$?
set -e
[ "$rc" = 1 ] && grep -q "named for another generation" "$work/renamed.err" ||
  fail "renamed archive: exit $rc $(cat "$work/renamed.err")"

# Status: pc1 fresh, pc2 stale (never reached), pc3 unverifiable; exit 1 with the alerts.
set +e
vigie export status --json >"$work/status.json" 2>/dev/null
rc=$?
set -e
[ "$rc" = 1 ] || fail "status exit $rc"
jq -e '(.hosts | map({(.host): .state}) | add) == {"pc1": "ok", "pc2": "stale", "pc3": "unverifiable"}
       and (.alerts | map(.host) | sort) == ["pc2", "pc3"]' "$work/status.json" >/dev/null ||
  fail "status: $(jq -c . "$work/status.json")"

# Once pc1 stops answering, its next attempt is recorded as unreachable.
kill "$sshd_pid"
wait "$sshd_pid" 2>/dev/null || true
sshd_pid=
set +e
vigie export run --json >"$work/run4.json" 2>/dev/null
set -e
jq -e '.pushes[] | select(.host == "pc1") | .outcome == "unreachable"' "$work/run4.json" \
  >/dev/null || fail "pc1 down: $(jq -c .pushes "$work/run4.json")"
echo "OK"
