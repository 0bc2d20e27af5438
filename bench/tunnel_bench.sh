#!/usr/bin/env bash
# shellcheck disable=SC2154  # local_* and cpid_* are set by printf -v in connect()
# The remote-service tunnel on loopback, side by side in one run with the same path built
# from stunnel (two TLS hops, same TLS version, cipher suite and key exchange group):
#   1. throughput of one stream engineer -> device (MB/s, ratio Vigie/stunnel);
#   2. the round-trip latency the tunnel adds (p50, p99), beside stunnel's;
#   3. 100 concurrent streams spread over N connectors of one zone (aggregate, per stream,
#      fairness);
#   4. 10,000 idle connector connections on one broker (vigied's RSS and CPU while idle).
# Usage: bench/tunnel_bench.sh [BIN_DIR] (default build/bin, Release binaries; never builds).
# Environment: TUNNEL_BENCH_MB (2000: bytes of one stream, in 10^6), TUNNEL_BENCH_RUNS (3),
# TUNNEL_BENCH_PINGS (2000), TUNNEL_BENCH_CONNECTORS (100), TUNNEL_BENCH_STREAMS (100),
# TUNNEL_BENCH_SECS (5), TUNNEL_BENCH_IDLE (10000), TUNNEL_BENCH_HOLD (30),
# BENCH_MAX_LOAD (1.5) and BENCH_WAIT (120 s at most waiting for the load to fall under it),
# TUNNEL_BENCH_KEEP=1 (keep the work directory: logs, vigied's stderr, the store),
# TUNNEL_BENCH_GRANT_CHECK (remote.grant_check_seconds; default: vigie.toml's default, 5).
# A benchmark, not a test: it exits 0 whether the targets are met or not, and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
bin_src=${1:-build/bin}
mb=${TUNNEL_BENCH_MB:-2000}
runs=${TUNNEL_BENCH_RUNS:-3}
pings=${TUNNEL_BENCH_PINGS:-2000}
n_connectors=${TUNNEL_BENCH_CONNECTORS:-100}
n_streams=${TUNNEL_BENCH_STREAMS:-100}
stream_secs=${TUNNEL_BENCH_SECS:-5}
n_idle=${TUNNEL_BENCH_IDLE:-10000}
hold=${TUNNEL_BENCH_HOLD:-30}
load="python3 $PWD/bench/tunnel_load.py"
for tool in "$bin_src/vigie" "$bin_src/vigied" "$bin_src/vigie-connector" stunnel socat openssl \
  sqlite3 python3 bc; do
  command -v "$tool" >/dev/null || { echo "tunnel_bench: $tool not found" >&2; exit 2; }
done

work=$(mktemp -d /tmp/vigie-tunnel-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ -n "${TUNNEL_BENCH_KEEP:-}" ]; then echo "tunnel_bench: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
  echo "tunnel_bench: FAILED: $*" >&2
  for f in "$work"/err "$work"/*.err; do
    [ -s "$f" ] && { echo "--- $f" >&2; tail -15 "$f" >&2; }
  done
  exit 1
}
background() { "$@" & pids+=($!); }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() {  # FILE PATTERN SECONDS
  for _ in $(seq 1 $(($3 * 10))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  fail "no '$2' in $1 after $3 s"
}
wait_port() {  # PORT: until something listens on 127.0.0.1:PORT
  for _ in $(seq 1 100); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  fail "nothing listens on port $1"
}
cpu_ticks() {  # PID...: utime + stime of these processes, in clock ticks
  local t=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$t"
}
hz=$(getconf CLK_TCK)

# The binaries are copied: a build running meanwhile cannot swap them in the middle of the run.
bin=$work/bin
mkdir -p "$bin"
cp "$bin_src/vigie" "$bin_src/vigied" "$bin_src/vigie-connector" "$bin/"
# 10,000 connections need 10,000 descriptors in vigied (and in the load generator).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((n_idle + 1000)) ]; then
  echo "tunnel_bench: open-files limit $(ulimit -n): idle connectors cut to $(($(ulimit -n) - 1000))"
  n_idle=$(($(ulimit -n) - 1000))
fi

max_load=${BENCH_MAX_LOAD:-1.5}
for ((w = 0; w < ${BENCH_WAIT:-120}; w += 10)); do
  l=$(cut -d' ' -f1 /proc/loadavg)
  (( $(echo "$l < $max_load" | bc -l) )) && break
  (( w == 0 )) && echo "tunnel_bench: load $l, waiting (at most ${BENCH_WAIT:-120} s) for it to fall under $max_load"
  sleep 10
done
echo "tunnel_bench: $(nproc) cores, load average at start $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC'); vigied built $(date -u -r "$bin_src/vigied" '+%Y-%m-%d %H:%M UTC')"

# --- Vigie: home, device, broker, one connector, one engineer -------------------------------
home=$work/home
export VIGIE_HOME=$home
"$bin/vigie" init >/dev/null
sed -i -e 's/^engineer_bearer_tokens = false/engineer_bearer_tokens = true/' \
  -e 's/^load_on_first_start = true/load_on_first_start = false/' "$home/vigie.toml"
if [ -n "${TUNNEL_BENCH_GRANT_CHECK:-}" ]; then
  sed -i "s/^grant_check_seconds = .*/grant_check_seconds = $TUNNEL_BENCH_GRANT_CHECK/" "$home/vigie.toml"
fi
cat >"$work/devices.csv" <<EOF
vendor,product,serial_number,site,zone,ip,remote_service
Siemens,Magnetom Aera,MR-1,CHU,Bench,127.0.0.1,yes
EOF
"$bin/vigie" devices import "$work/devices.csv" >/dev/null

sink_port=$(free_port)
echo_port=$(free_port)
streams_port=$(free_port)
background $load sink "$sink_port" >"$work/sink.out"
background $load echo "$echo_port" >/dev/null
wait_port "$sink_port"
wait_port "$echo_port"

# As tests/e2e/lib.sh's start_vigied (not sourced: it resets `pids`): any free ports, waits
# for the addresses it prints.
"$bin/vigied" --home "$home" --port 0 --broker-port 0 >"$work/out" 2>"$work/err" &
pid=$!
vigied=$pid
for _ in $(seq 1 600); do
  grep -q 'listening on' "$work/out" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || fail "vigied exited early: $(tail -3 "$work/err")"
  sleep 0.1
done
broker_port=$(sed -n 's/^vigied broker on wss:.*:\([0-9]*\)$/\1/p' "$work/out")
[ -n "$broker_port" ] || fail "vigied did not print its broker's address: $(cat "$work/out")"
broker=wss://127.0.0.1:$broker_port
ca=$home/remote/ca/ca.pem

enroll() {  # NAME: adds a connector of zone Bench and enrolls it into $work/NAME
  "$bin/vigie" connectors add "$1" --zone Bench >"$work/$1.add"
  "$bin/vigie-connector" enroll --dir "$work/$1" --broker "$broker" \
    --code "$(sed -n 3p "$work/$1.add" | tr -d ' ')" >/dev/null 2>"$work/$1.enroll.err" ||
    fail "enrollment of $1: $(cat "$work/$1.enroll.err")"
}
enroll c1
background "$bin/vigie-connector" run --dir "$work/c1" 2>"$work/c1.err"
connector1=${pids[-1]}
wait_for "$work/c1/status.json" '"connected"' 20

"$bin/vigie" engineers add alice --org Siemens >"$work/eng.out" 2>/dev/null
sed -n 3p "$work/eng.out" | tr -d ' ' >"$work/cred"
for p in "$sink_port" "$echo_port" "$streams_port"; do
  "$bin/vigie" grants add --engineer alice --device 1 --port "$p" >/dev/null
done
connect() {  # NAME PORT: a `vigie connect` to device 1 PORT; sets local_NAME and cpid_NAME
  background "$bin/vigie" connect 1 --port "$2" --broker "$broker" --ca "$ca" \
    --credential-file "$work/cred" >"$work/connect-$1.out" 2>"$work/connect-$1.err"
  printf -v "cpid_$1" '%s' "${pids[-1]}"
  wait_for "$work/connect-$1.out" "listening on" 20
  local addr
  addr=$(sed -n 's/^vigie connect: listening on \([^ ]*\) .*/\1/p' "$work/connect-$1.out")
  printf -v "local_$1" '%s' "${addr##*:}"
}
connect sink "$sink_port"
connect echo "$echo_port"

# What the broker negotiates, for the engineer and for the connector (client certificate).
s_client() { openssl s_client -connect "127.0.0.1:$broker_port" -CAfile "$ca" "$@" </dev/null 2>&1; }
s_client >"$work/s_client.eng"
s_client -cert "$work/c1/identity.pem" -key "$work/c1/identity.pem" >"$work/s_client.conn"
proto=$(sed -n 's/^New, \([^,]*\), Cipher is \(.*\)$/\1/p' "$work/s_client.eng" | head -1)
suite=$(sed -n 's/^New, \([^,]*\), Cipher is \(.*\)$/\2/p' "$work/s_client.eng" | head -1)
suite_conn=$(sed -n 's/^New, \([^,]*\), Cipher is \(.*\)$/\2/p' "$work/s_client.conn" | head -1)
group=$(sed -n 's/^Server Temp Key: \([^,]*\),.*/\1/p' "$work/s_client.eng" | head -1)
[ -n "$suite" ] || fail "openssl s_client saw no cipher: $(tail -5 "$work/s_client.eng")"
echo "tunnel_bench: broker negotiates $proto $suite (connector link: $suite_conn), key exchange $group"
case $proto in
  TLSv1.3) tls_opts="sslVersionMin = TLSv1.3
sslVersionMax = TLSv1.3
ciphersuites = $suite" ;;
  *) tls_opts="sslVersionMax = TLSv1.2
ciphers = $suite" ;;
esac
[ -n "$group" ] && tls_opts+="
curves = $group"

# --- stunnel: the same shape, certificates made here (ECDSA P-256 like Vigie's) ---------------
pki=$work/pki
mkdir -p "$pki"
ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
openssl req -x509 $ec -keyout "$pki/ca.key" -out "$pki/ca.pem" -days 2 -subj /CN=bench-ca \
  >/dev/null 2>&1
issue() {  # NAME: key and certificate NAME.pem (both in it), signed by the bench CA
  openssl req $ec -keyout "$pki/$1.key" -out "$pki/$1.csr" -subj "/CN=$1" >/dev/null 2>&1
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$pki/$1.ext"
  openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 2 -extfile "$pki/$1.ext" -out "$pki/$1.crt" >/dev/null 2>&1
  cat "$pki/$1.key" "$pki/$1.crt" >"$pki/$1.pem"
}
issue dmz
issue connector
st_dmz=$(free_port)    # engineer's stunnel -> DMZ (hop 1)
st_relay=$(free_port)  # inside the DMZ process: server service -> client service (plain TCP)
st_conn=$(free_port)   # DMZ -> connector side (hop 2, mutual TLS)
stunnel_conf() {  # NAME BODY
  printf 'foreground = yes\npid =\ndebug = 3\noutput = %s\n\n%s\n' "$work/stunnel-$1.log" "$2" \
    >"$work/stunnel-$1.conf"
}
st_entry_sink=$(free_port)
st_entry_echo=$(free_port)
st_relay_echo=$(free_port)
st_dmz_echo=$(free_port)
st_conn_echo=$(free_port)
# One service per device port, as Vigie's grants: sink (throughput) and echo (latency).
stunnel_conf engineer "[sink]
client = yes
accept = 127.0.0.1:$st_entry_sink
connect = 127.0.0.1:$st_dmz
CAfile = $pki/ca.pem
verifyChain = yes
checkHost = localhost
$tls_opts
[echo]
client = yes
accept = 127.0.0.1:$st_entry_echo
connect = 127.0.0.1:$st_dmz_echo
CAfile = $pki/ca.pem
verifyChain = yes
checkHost = localhost
$tls_opts"
stunnel_conf dmz "[in-sink]
accept = 127.0.0.1:$st_dmz
connect = 127.0.0.1:$st_relay
cert = $pki/dmz.pem
$tls_opts
[out-sink]
client = yes
accept = 127.0.0.1:$st_relay
connect = 127.0.0.1:$st_conn
cert = $pki/dmz.pem
CAfile = $pki/ca.pem
verifyChain = yes
checkHost = localhost
$tls_opts
[in-echo]
accept = 127.0.0.1:$st_dmz_echo
connect = 127.0.0.1:$st_relay_echo
cert = $pki/dmz.pem
$tls_opts
[out-echo]
client = yes
accept = 127.0.0.1:$st_relay_echo
connect = 127.0.0.1:$st_conn_echo
cert = $pki/dmz.pem
CAfile = $pki/ca.pem
verifyChain = yes
checkHost = localhost
$tls_opts"
stunnel_conf connector "[sink]
accept = 127.0.0.1:$st_conn
connect = 127.0.0.1:$sink_port
cert = $pki/connector.pem
CAfile = $pki/ca.pem
verifyChain = yes
$tls_opts
[echo]
accept = 127.0.0.1:$st_conn_echo
connect = 127.0.0.1:$echo_port
cert = $pki/connector.pem
CAfile = $pki/ca.pem
verifyChain = yes
$tls_opts"
st_pids=()
for s in engineer dmz connector; do
  background stunnel "$work/stunnel-$s.conf" 2>"$work/stunnel-$s.err"
  st_pids+=("${pids[-1]}")
done
for p in "$st_entry_sink" "$st_entry_echo" "$st_dmz" "$st_conn"; do wait_port "$p"; done
# stunnel's own view of the hop: the same suite?
st_suite=$(openssl s_client -connect "127.0.0.1:$st_dmz" -CAfile "$pki/ca.pem" </dev/null 2>&1 |
  sed -n 's/^New, \([^,]*\), Cipher is \(.*\)$/\1 \2/p' | head -1)
echo "tunnel_bench: stunnel negotiates $st_suite"

# --- 1. one stream: throughput ----------------------------------------------------------------
bytes=$((mb * 1000000))
push() {  # PORT: sets rate (MB/s as the device saw it, first byte to EOF) and path_cpu
  # (CPU ticks of the processes in path_pids over the run)
  local before lines t0 got secs p
  local -a each=()
  before=$(wc -l <"$work/sink.out")
  t0=$(cpu_ticks "${path_pids[@]}")
  for p in "${path_pids[@]}"; do each+=("$(cpu_ticks "$p")"); done
  head -c "$bytes" /dev/zero | socat -u -b 1048576 - "TCP:127.0.0.1:$1"
  for _ in $(seq 1 600); do
    lines=$(wc -l <"$work/sink.out")
    [ "$lines" -gt "$before" ] && break
    sleep 0.1
  done
  [ "$lines" -gt "$before" ] || fail "the sink saw no end of stream through port $1"
  path_cpu=$(( $(cpu_ticks "${path_pids[@]}") - t0 ))
  path_split=""
  for p in "${!path_pids[@]}"; do
    path_split+="$(printf '%.1f' "$(echo "($(cpu_ticks "${path_pids[$p]}") - ${each[$p]}) / $hz" | bc -l)")+"
  done
  path_split=${path_split%+}
  read -r got secs < <(tail -1 "$work/sink.out")
  [ "$got" = "$bytes" ] || fail "the sink received $got bytes of $bytes through port $1"
  rate=$(echo "$bytes / $secs / 1000000" | bc -l)
}
echo
echo "1. one stream of $mb MB, engineer -> device ($runs runs, alternating)"
echo "   (CPU seconds per process: vigie connect+vigied+vigie-connector; stunnel engineer+DMZ+connector side)"
path_pids=()
push "$sink_port"
direct=$rate
printf '   direct (no tunnel, ceiling of source and sink): %.0f MB/s\n' "$direct"
vig=()
stu=()
vig_cpu=()
stu_cpu=()
for ((r = 1; r <= runs; r++)); do
  path_pids=("$cpid_sink" "$vigied" "$connector1")
  push "$local_sink"
  v=$rate
  vig+=("$v")
  vig_cpu+=("$path_cpu")
  vig_split=$path_split
  path_pids=("${st_pids[@]}")
  push "$st_entry_sink"
  s=$rate
  stu+=("$s")
  stu_cpu+=("$path_cpu")
  stu_split=$path_split
  printf '   run %d: vigie %.0f MB/s (CPU-s %s)   stunnel %.0f MB/s (CPU-s %s)   ratio %.2f\n' \
    "$r" "$v" "$vig_split" "$s" "$stu_split" "$(echo "$v / $s" | bc -l)"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
vig_med=$(median "${vig[@]}")
stu_med=$(median "${stu[@]}")
ratio=$(echo "$vig_med / $stu_med" | bc -l)
vig_cpu_med=$(median "${vig_cpu[@]}")
stu_cpu_med=$(median "${stu_cpu[@]}")
printf '   median: vigie %.0f MB/s, stunnel %.0f MB/s, ratio vigie/stunnel %.2f\n' "$vig_med" "$stu_med" "$ratio"
printf '   CPU per GB (all processes of the path, median): vigie %.2f s, stunnel %.2f s\n' \
  "$(echo "$vig_cpu_med / $hz / ($mb / 1000)" | bc -l)" "$(echo "$stu_cpu_med / $hz / ($mb / 1000)" | bc -l)"

# --- 2. round-trip latency ---------------------------------------------------------------------
echo
echo "2. round trips of 64 bytes, $pings each, interleaved: direct, vigie, stunnel"
$load pingpong 64 "$pings" "direct=$echo_port" "vigie=$local_echo" "stunnel=$st_entry_echo" \
  >"$work/ping.out" 2>"$work/ping.err" || fail "ping-pong: $(cat "$work/ping.err")"
read -r _ d50 d99 dmean < <(grep '^direct ' "$work/ping.out")
read -r _ v50 v99 vmean < <(grep '^vigie ' "$work/ping.out")
read -r _ s50 s99 smean < <(grep '^stunnel ' "$work/ping.out")
printf '   %-8s p50 %.3f ms  p99 %.3f ms  mean %.3f ms\n' direct "$d50" "$d99" "$dmean" \
  vigie "$v50" "$v99" "$vmean" stunnel "$s50" "$s99" "$smean"
add_v50=$(echo "$v50 - $d50" | bc -l)
add_v99=$(echo "$v99 - $d99" | bc -l)
add_s50=$(echo "$s50 - $d50" | bc -l)
add_s99=$(echo "$s99 - $d99" | bc -l)
printf '   added by vigie: p50 %.3f ms, p99 %.3f ms; by stunnel: p50 %.3f ms, p99 %.3f ms\n' \
  "$add_v50" "$add_v99" "$add_s50" "$add_s99"

# stunnel is done: its processes would only add noise to what follows.
for p in "${st_pids[@]}"; do kill "$p" 2>/dev/null || true; done

# --- 3. concurrent streams over N connectors of one zone -------------------------------------
echo
echo "3. $n_streams concurrent streams over $n_connectors connectors of one zone, ${stream_secs} s"
t0=$(date +%s.%N)
conn_pids=("$connector1")
for ((i = 2; i <= n_connectors; i++)); do
  enroll "c$i"
  background "$bin/vigie-connector" run --dir "$work/c$i" 2>"$work/c$i.err"
  conn_pids+=("${pids[-1]}")
done
t_enroll=$(echo "$(date +%s.%N) - $t0" | bc -l)
for ((i = 1; i <= n_connectors; i++)); do wait_for "$work/c$i/status.json" '"connected"' 60; done
t_up=$(echo "$(date +%s.%N) - $t0" | bc -l)
printf '   enrolled %d connectors in %.1f s (add + enroll, one after the other); all connected after %.1f s\n' \
  "$((n_connectors - 1))" "$t_enroll" "$t_up"
streams_run() {  # LABEL PORTS: N streams through the `vigie connect` entries PORTS (a,b,...);
  # sets agg smin smed smax fairness seen nfailed used
  local err_mark
  err_mark=$(wc -l <"$work/err")
  audit_mark=$(sqlite3 "$home/vigie.db" "SELECT COALESCE(MAX(id), 0) FROM audit_log")
  $load streams "$2" "$streams_port" "$n_streams" "$stream_secs" \
    >"$work/streams-$1.out" 2>"$work/streams-$1.err" || fail "streams: $(cat "$work/streams-$1.err")"
  read -r agg smin smed smax fairness seen nfailed <"$work/streams-$1.out"
  for _ in $(seq 1 50); do  # the broker audits each stream's opening after the fact
    [ "$(sqlite3 "$home/vigie.db" "SELECT COUNT(*) FROM audit_log WHERE action='remote.stream.open' AND id > $audit_mark")" -ge "$n_streams" ] && break
    sleep 0.1
  done
  used=$(sqlite3 "$home/vigie.db" "SELECT COUNT(DISTINCT json_extract(details, '\$.connector')) FROM audit_log WHERE action='remote.stream.open' AND id > $audit_mark" 2>/dev/null || echo "?")
  printf '   %d of %d streams reached the device, %d failed; streams opened over %s connectors\n' \
    "$seen" "$n_streams" "$nfailed" "$used"
  printf '   aggregate %.0f MB/s; per stream min %.2f, median %.2f, max %.2f MB/s; fairness %.2f\n' \
    "$agg" "$smin" "$smed" "$smax" "$fairness"
  if [ "$nfailed" -gt 0 ] || [ "$seen" -lt "$n_streams" ]; then
    echo "   stream errors (first 3 of $(wc -l <"$work/streams-$1.err")):"
    head -3 "$work/streams-$1.err" | sed 's/^/     /'
    echo "   vigied's stderr about engineers meanwhile:"
    tail -n +"$((err_mark + 1))" "$work/err" | grep 'peer=engineer' | head -5 | sed 's/^/     /'
  fi
  kill -0 "$vigied" 2>/dev/null || fail "vigied died under $n_streams streams"
}
echo "   3a. all $n_streams streams through one \`vigie connect\` (one engineer connection)"
connect streams "$streams_port"
streams_run one "$local_streams"
one_ok=1
one_agg=$agg one_fairness=$fairness one_failed=$nfailed
if [ "$nfailed" -gt 0 ] || [ "$seen" -lt "$n_streams" ]; then
  one_ok=0
  if kill -0 "$cpid_streams" 2>/dev/null; then
    one_client="still running"
  else
    one_client="exited"
  fi
  echo "   the \`vigie connect\` process has $one_client; its stderr:"
  sort "$work/connect-streams.err" | uniq -c | sed 's/^/     /'
fi
kill "$cpid_streams" 2>/dev/null || true
# The same load over several clients of at most 50 streams each (for the figures when the
# single client does not hold 100 streams).
k=$(( (n_streams + 49) / 50 ))
echo "   3b. the same $n_streams streams over $k \`vigie connect\` ($(( (n_streams + k - 1) / k )) streams each at most)"
entries=""
for ((j = 1; j <= k; j++)); do
  connect "split$j" "$streams_port"
  v=local_split$j
  entries+="${!v},"
done
streams_run split "${entries%,}"
# The connectors and the engineers go: only the idle connections stay on the broker.
for p in "${conn_pids[@]}" "$cpid_sink" "$cpid_echo"; do kill "$p" 2>/dev/null || true; done
for ((j = 1; j <= k; j++)); do v=cpid_split$j; kill "${!v}" 2>/dev/null || true; done
sleep 2

# --- 4. idle connectors ------------------------------------------------------------------------
echo
echo "4. $n_idle idle connector connections (c1's certificate), held ${hold} s"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$vigied/status"; }
audited() { sqlite3 "$home/vigie.db" "SELECT COUNT(*) FROM audit_log WHERE action='remote.connector.connect'"; }
rss_before=$(rss)
audit_before=$(audited)
t0=$(date +%s.%N)
background $load idle 127.0.0.1 "$broker_port" "$ca" "$work/c1/identity.pem" "$n_idle" \
  >"$work/idle.out" 2>"$work/idle.err"
idle_pid=${pids[-1]}
for _ in $(seq 1 3000); do
  grep -q '^upgraded' "$work/idle.out" && break
  kill -0 "$idle_pid" 2>/dev/null || fail "the idle connectors' generator stopped: $(cat "$work/idle.err")"
  kill -0 "$vigied" 2>/dev/null || fail "vigied died while $n_idle connectors connected"
  sleep 0.1
done
read -r _ upgraded _ failed t_connect < <(grep '^upgraded' "$work/idle.out")
t_connected=$(date +%s.%N)
# The broker audits each connection (an fsync'd write each) after the upgrade: wait for it.
t_audit=""
for _ in $(seq 1 1200); do
  if [ $(($(audited) - audit_before)) -ge "$upgraded" ]; then
    t_audit=$(echo "$(date +%s.%N) - $t0" | bc -l)
    break
  fi
  sleep 0.5
done
printf '   %d upgraded, %d failed, in %.1f s; audit entries caught up after %s s\n' \
  "$upgraded" "$failed" "$t_connect" "$( [ -n "$t_audit" ] && printf '%.1f' "$t_audit" || echo "more than 600")"
[ -s "$work/idle.err" ] && head -3 "$work/idle.err" | sed 's/^/   /'
# Idle CPU over 10 s, taken once the audit has caught up, inside the hold.
thread_ticks() { cat /proc/"$vigied"/task/*/stat 2>/dev/null | awk '{print $1, $14 + $15}'; }
thread_ticks >"$work/threads.0"
c0=$(cpu_ticks "$vigied")
sleep 10
c1=$(cpu_ticks "$vigied")
thread_ticks >"$work/threads.1"
# Which threads: the broker's event loop is one thread, the store work runs on a pool.
busiest=$(awk -v hz="$hz" 'NR == FNR {t[$1] = $2; next} {d = $2 - t[$1]; if (d > 0) printf "%s %.1f\n", $1, d * 100 / hz / 10}' \
  "$work/threads.0" "$work/threads.1" | sort -k2 -gr | head -4 | awk '{printf "%sthread %s %s %%", (NR > 1 ? ", " : ""), $1, $2}')
cpu_pct=$(echo "($c1 - $c0) * 100 / $hz / 10" | bc -l)
rest=$(echo "$hold - ($(date +%s.%N) - $t_connected)" | bc -l)
(( $(echo "$rest > 0" | bc -l) )) && sleep "$rest"
rss_after=$(rss)
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$vigied/status")
still=$(tail -1 "$work/idle.out")
printf '   vigied RSS %.0f MiB before, %.0f MiB with them (peak %.0f MiB), %.1f KiB per connection\n' \
  "$(echo "$rss_before / 1024" | bc -l)" "$(echo "$rss_after / 1024" | bc -l)" \
  "$(echo "$hwm / 1024" | bc -l)" "$(echo "($rss_after - $rss_before) / $upgraded" | bc -l)"
printf '   vigied CPU while idle: %.1f %% of one core over 10 s (busiest: %s)\n' "$cpu_pct" "${busiest:-none}"
echo "   load generator after the hold: $still"
kill -0 "$vigied" 2>/dev/null || fail "vigied died holding $n_idle connectors"
kill -TERM "$idle_pid" 2>/dev/null || true

# --- summary -----------------------------------------------------------------------------------
met() { (( $(echo "$1" | bc -l) )) && echo met || echo "NOT met"; }
echo
echo "tunnel_bench: summary ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-52s %-26s %-12s %s\n' figure measured target verdict
printf '%-52s %-26s %-12s %s\n' "1. one stream, vigie (median of $runs)" "$(printf '%.0f MB/s' "$vig_med")" "" ""
printf '%-52s %-26s %-12s %s\n' "   stunnel + stunnel, same shape and suite" "$(printf '%.0f MB/s' "$stu_med")" "" ""
printf '%-52s %-26s %-12s %s\n' "   ratio vigie/stunnel" "$(printf '%.2f' "$ratio")" ">= 1.0" "$(met "$ratio >= 1.0")"
printf '%-52s %-26s %-12s %s\n' "2. added round trip, p50 (stunnel)" "$(printf '%.3f ms (%.3f)' "$add_v50" "$add_s50")" "<= 0.2 ms" "$(met "$add_v50 <= 0.2")"
printf '%-52s %-26s %-12s %s\n' "   added round trip, p99 (stunnel)" "$(printf '%.3f ms (%.3f)' "$add_v99" "$add_s99")" "<= 1 ms" "$(met "$add_v99 <= 1")"
if [ "$one_ok" = 1 ]; then
  printf '%-52s %-26s %-12s %s\n' "3a. $n_streams streams, 1 client, fairness" "$(printf '%.2f (%.0f MB/s)' "$one_fairness" "$one_agg")" ">= 0.5" "$(met "$one_fairness >= 0.5")"
else
  printf '%-52s %-26s %-12s %s\n' "3a. $n_streams streams through 1 \`vigie connect\`" "FAILED: $one_failed reset" "" "client $one_client"
fi
printf '%-52s %-26s %-12s %s\n' "3b. $n_streams streams / $k clients / $n_connectors connectors" "$(printf '%.0f MB/s' "$agg")" "" ""
printf '%-52s %-26s %-12s %s\n' "   per stream min / median / max" "$(printf '%.2f / %.2f / %.2f MB/s' "$smin" "$smed" "$smax")" "" ""
printf '%-52s %-26s %-12s %s\n' "   fairness min/(aggregate/$n_streams)" "$(printf '%.2f' "$fairness")" ">= 0.5" "$(met "$fairness >= 0.5")"
printf '%-52s %-26s %-12s %s\n' "4. $upgraded idle connectors: vigied RSS" "$(printf '%.0f MiB' "$(echo "$rss_after / 1024" | bc -l)")" "<= 1024 MiB" "$(met "$rss_after <= 1048576")"
printf '%-52s %-26s %-12s %s\n' "   vigied CPU while idle" "$(printf '%.1f %%' "$cpu_pct")" "<= 5 %" "$(met "$cpu_pct <= 5")"
printf '%-52s %-26s %-12s %s\n' "   time to connect them (audit caught up)" "$(printf '%.1f s (%s s)' "$t_connect" "${t_audit:+$(printf '%.1f' "$t_audit")}")" "" ""
