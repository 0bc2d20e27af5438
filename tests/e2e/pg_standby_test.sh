#!/usr/bin/env bash
# Two sites, active/standby: the supported set-up of docs/resilience-standby.md, run for real.
# A primary PostgreSQL and a standby made by pg_basebackup, streaming with synchronous
# replication, so that a write Vigie acknowledged is on both servers. Vigie works on the
# primary; the standby serves reads and refuses writes; the primary is killed (-9, no clean
# shutdown), the standby is promoted, Vigie is pointed at it and finds every acknowledged
# write, then keeps working. Usage: pg_standby_test.sh BIN_DIR
set -euo pipefail
bin=$1
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
work=$(mktemp -d /tmp/vigie-standby.XXXXXX)
chmod 755 "$work"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  for d in primary standby; do
    [ -d "$work/$d" ] && as_pg "$bindir/pg_ctl" -D "$work/$d" -m immediate stop >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$work"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -15 "$f" >&2; }; done
  exit 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
p1=$(free_port)
p2=$(free_port)
[ "$p1" != "$p2" ] || p2=$((p1 + 1))
[ "$(id -u)" -eq 0 ] && chown postgres "$work"

# The primary: a replication slot keeps the WAL the standby has not received yet, and the
# standby named in synchronous_standby_names must confirm each commit before it is
# acknowledged (docs/resilience-standby.md explains the trade-off).
as_pg "$bindir/initdb" -D "$work/primary" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
  >"$work/initdb.log" 2>&1 || fail "initdb"
as_pg "$bindir/pg_ctl" -D "$work/primary" -l "$work/primary.log" -w -t 60 -o \
  "-c listen_addresses=127.0.0.1 -p $p1 -k $work -c wal_level=replica -c synchronous_commit=on \
   -c synchronous_standby_names=vigie_standby" start >/dev/null || fail "primary start"
primary="postgresql://postgres@127.0.0.1:$p1/postgres"
standby="postgresql://postgres@127.0.0.1:$p2/postgres"
psql "$primary" -qc "SELECT pg_create_physical_replication_slot('vigie_standby')" >/dev/null

# The standby: a base backup of the primary, -R writes primary_conninfo and standby.signal.
as_pg "$bindir/pg_basebackup" -h 127.0.0.1 -p "$p1" -U postgres -D "$work/standby" -X stream \
  -R -S vigie_standby -d "application_name=vigie_standby" >"$work/basebackup.log" 2>&1 ||
  fail "pg_basebackup"
as_pg "$bindir/pg_ctl" -D "$work/standby" -l "$work/standby.log" -w -t 60 -o \
  "-c listen_addresses=127.0.0.1 -p $p2 -k $work -c hot_standby=on" start >/dev/null ||
  fail "standby start"
for _ in $(seq 1 100); do
  state=$(psql "$primary" -tAc "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'vigie_standby'")
  [ "$state" = sync ] && break
  sleep 0.1
done
[ "$state" = sync ] || fail "the standby is not a synchronous standby (state '$state')"

# Vigie on the primary, with the demo hospital: every acknowledged write must reach the standby.
home=$work/home
"$bin/vigie" --home "$home" init --store "$primary" --demo >"$work/init.log" 2>&1 || fail "vigie init"
devices=$(psql "$primary" -tAc "SELECT COUNT(*) FROM devices")
[ "$devices" -ge 300 ] || fail "demo hospital not loaded on the primary ($devices devices)"
[ "$(psql "$standby" -tAc "SELECT COUNT(*) FROM devices")" = "$devices" ] ||
  fail "the standby does not have the primary's devices"

# The standby serves reads and refuses writes.
"$bin/vigie" --home "$home" devices show 1 --json >/dev/null || fail "reads on the primary"
if psql "$standby" -qc "UPDATE devices SET location = 'x' WHERE id = 1" >/dev/null 2>"$work/ro.log"; then
  fail "the standby accepted a write"
fi
grep -q "read-only transaction" "$work/ro.log" || fail "the standby's refusal is not a read-only error"

# One more acknowledged write, then the primary dies without a clean shutdown.
"$bin/vigie" --home "$home" devices set 1 location="Salle de repli 2" >/dev/null || fail "write on the primary"
as_pg "$bindir/pg_ctl" -D "$work/primary" -m immediate stop >/dev/null

# Failover: promote the standby, point Vigie at it, find the write, keep working.
as_pg "$bindir/pg_ctl" -D "$work/standby" -w -t 60 promote >/dev/null || fail "promote"
[ "$(psql "$standby" -tAc "SELECT pg_is_in_recovery()")" = f ] || fail "the standby is still in recovery"
sed -i "s#^url = .*#url = \"$standby\"#" "$home/vigie.toml"
"$bin/vigie" --home "$home" devices show 1 --json | grep -q '"Salle de repli 2"' ||
  fail "the last acknowledged write is missing after failover"
[ "$(psql "$standby" -tAc "SELECT COUNT(*) FROM devices")" = "$devices" ] || fail "devices lost in failover"
"$bin/vigie" --home "$home" devices set 2 location="Après bascule" >/dev/null || fail "write after failover"
"$bin/vigie" --home "$home" devices show 2 --json | grep -q '"Après bascule"' || fail "write after failover not read back"
echo "pg_standby: primary :$p1 → standby :$p2, $devices devices, failover without loss"
