#!/usr/bin/env bash
# Starts or stops a throw-away PostgreSQL server for the tests: initdb + pg_ctl into DIR,
# listening on 127.0.0.1:PORT only, trust authentication on loopback. As root, the server
# runs as the unprivileged `postgres` user (initdb refuses root).
#   pg_server.sh start DIR PORT | pg_server.sh stop DIR
set -euo pipefail
action=$1 dir=$2 port=${3:-}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/initdb" ] || { echo "pg_server: PostgreSQL server binaries not found (scripts/setup)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case $action in
  start)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on -c max_connections=200" start >/dev/null ||
      { cat "$dir/server.log" >&2; exit 1; }
    echo "pg_server: PostgreSQL listening on 127.0.0.1:$port ($dir)"
    ;;
  stop)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: pg_server.sh start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
