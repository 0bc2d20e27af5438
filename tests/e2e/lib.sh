# Sourced by the end-to-end scripts, which define `bin`, `work` and `fail`.
# start_vigied HOME [PORT]: starts "$bin/vigied" on HOME (port 0 or none: any free port), its
# stdout in "$work/out" and stderr in "$work/err", waits until it prints its address; sets
# `pid`, `url` and `port`, or fails naming why.
start_vigied() {
  "$bin/vigied" --home "$1" --port "${2:-0}" >"$work/out" 2>"$work/err" &
  pid=$!
  for _ in $(seq 1 600); do
    grep -q 'listening on' "$work/out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || fail "vigied exited early: $(tail -3 "$work/err")"
    sleep 0.1
  done
  url=$(sed -n 's/^vigied listening on //p' "$work/out")
  [ -n "$url" ] || fail "vigied did not print its address"
  port=${url##*:}
}
