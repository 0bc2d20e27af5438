#!/usr/bin/env bash
# nmap XML import: a scan of a whole hospital network (default ~500 MB of -oX output) imported
# by Vigie, streamed, side by side with Python's streaming ElementTree.iterparse reading the
# same file (what a hospital's own script would use). Prints time, peak memory and the ratio.
#   bench/nmap_bench.sh [HOSTS]      (default 400000 hosts, ~500 MB)
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-400000}
bin=build/bin
[ -x "$bin/vigie" ] || { echo "build first: scripts/build" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "generating $hosts hosts..."
awk -v n="$hosts" 'BEGIN {
  print "<?xml version=\"1.0\"?>"
  print "<nmaprun scanner=\"nmap\" args=\"nmap -sV -O -oX scan.xml 10.0.0.0/8\" start=\"1700000000\">"
  for (i = 0; i < n; i++) {
    a = int(i / 65536) % 256; b = int(i / 256) % 256; c = i % 256
    printf "<host starttime=\"1700000100\" endtime=\"1700000200\"><status state=\"up\" reason=\"arp-response\"/>\n"
    printf "<address addr=\"10.%d.%d.%d\" addrtype=\"ipv4\"/>\n", a, b, c
    printf "<address addr=\"02:00:00:%02x:%02x:%02x\" addrtype=\"mac\" vendor=\"Siemens Healthineers\"/>\n", a, b, c
    printf "<hostnames><hostname name=\"dev-%d.chu.local\" type=\"PTR\"/></hostnames>\n<ports><extraports state=\"closed\" count=\"994\"/>\n", i
    printf "<port protocol=\"tcp\" portid=\"139\"><state state=\"open\" reason=\"syn-ack\"/><service name=\"netbios-ssn\" product=\"Microsoft Windows netbios-ssn\" method=\"probed\" conf=\"10\"/></port>\n"
    printf "<port protocol=\"tcp\" portid=\"445\"><state state=\"open\" reason=\"syn-ack\"/><service name=\"microsoft-ds\" product=\"Microsoft Windows 7 - 10 microsoft-ds\" method=\"probed\" conf=\"10\"/></port>\n"
    printf "<port protocol=\"tcp\" portid=\"3389\"><state state=\"open\" reason=\"syn-ack\"/><service name=\"ms-wbt-server\" product=\"Microsoft Terminal Services\" method=\"probed\" conf=\"10\"/></port>\n"
    printf "<port protocol=\"tcp\" portid=\"104\"><state state=\"open\" reason=\"syn-ack\"/><service name=\"dicom\" method=\"table\" conf=\"3\"/></port>\n"
    printf "<port protocol=\"tcp\" portid=\"21\"><state state=\"filtered\" reason=\"no-response\"/><service name=\"ftp\" method=\"table\" conf=\"3\"/></port>\n"
    printf "</ports>\n<os><osmatch name=\"Microsoft Windows 7 SP1\" accuracy=\"98\" line=\"1\"/></os>\n"
    printf "<times srtt=\"300\" rttvar=\"100\" to=\"100000\"/>\n</host>\n"
  }
  print "<runstats><finished time=\"1700009999\"/><hosts up=\"" n "\" down=\"0\" total=\"" n "\"/></runstats></nmaprun>"
}' > "$work/scan.xml"
size_mb=$(( $(stat -c %s "$work/scan.xml") / 1048576 ))

"$bin/vigie" --home "$work/home" init >/dev/null
/usr/bin/time -f '%e %M' -o "$work/vigie.time" "$bin/vigie" --home "$work/home" devices import "$work/scan.xml" >/dev/null
read -r v_s v_kb <"$work/vigie.time"
/usr/bin/time -f '%e %M' -o "$work/peer.time" python3 -c '
import sys, xml.etree.ElementTree as ET
hosts = ports = 0
for event, el in ET.iterparse(sys.argv[1]):
    if el.tag == "port":
        ports += 1
    elif el.tag == "host":
        hosts += 1
        el.clear()
print(hosts, ports)' "$work/scan.xml" >/dev/null
read -r p_s p_kb <"$work/peer.time"
devices=$(sqlite3 "$work/home/vigie.db" 'SELECT COUNT(*) FROM devices')
ports=$(sqlite3 "$work/home/vigie.db" 'SELECT COUNT(*) FROM open_ports')

echo
echo "nmap XML import, $hosts hosts, $size_mb MB ($(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1))"
printf '%-34s %9s %11s %12s\n' tool seconds "hosts/s" "peak RSS MB"
printf '%-34s %9.2f %11.0f %12d\n' "vigie devices import (to SQLite)" "$v_s" "$(echo "$hosts / $v_s" | bc -l)" $((v_kb / 1024))
printf '%-34s %9.2f %11.0f %12d\n' "python3 ElementTree.iterparse" "$p_s" "$(echo "$hosts / $p_s" | bc -l)" $((p_kb / 1024))
printf 'ratio (vigie time / python time): %.2f; vigie stored %s devices, %s open ports\n' \
  "$(echo "$v_s / $p_s" | bc -l)" "$devices" "$ports"
