# Sourced by the end-to-end scripts, which define `bin`, `work` and `fail`.
# start_vigied HOME [PORT [BROKER_PORT]]: starts "$bin/vigied" on HOME (port 0 or none: any free
# port; the broker too), its stdout in "$work/out" and stderr in "$work/err", waits until it
# prints its address; sets `pid`, `url`, `port` and `broker_port`, or fails naming why.
start_vigied() {
  "$bin/vigied" --home "$1" --port "${2:-0}" --broker-port "${3:-0}" >"$work/out" 2>"$work/err" &
  pid=$!
  for _ in $(seq 1 600); do
    grep -q 'listening on' "$work/out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || fail "vigied exited early: $(tail -3 "$work/err")"
    sleep 0.1
  done
  url=$(sed -n 's/^vigied listening on //p' "$work/out")
  [ -n "$url" ] || fail "vigied did not print its address"
  port=${url##*:}
  broker_port=$(sed -n 's/^vigied broker on wss:.*:\([0-9]*\)$/\1/p' "$work/out")
}

# The remote-gateway scripts' helpers. fail_with_logs MESSAGE: prints it and the tail of every
# "$work"/*.err, exits 1. background CMD...: starts CMD (a program, not a shell function: its
# pid is the one killed at cleanup) and records its pid in `pids`. wait_for FILE PATTERN SECONDS:
# until FILE has a line matching PATTERN, else fails. kill_background: stops them all.
fail_with_logs() {
  echo "FAIL: $*" >&2
  for f in "$work"/*.err; do [ -f "$f" ] && { echo "--- $f" >&2; tail -5 "$f" >&2; }; done
  exit 1
}
[ -n "${pids+set}" ] || pids=()  # a script that started processes before sourcing keeps them
background() { "$@" & pids+=($!); }
wait_for() {
  for _ in $(seq 1 $(($3 * 10))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  fail "no '$2' in $1 after $3 s"
}
kill_background() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
