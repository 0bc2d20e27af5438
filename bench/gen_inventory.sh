#!/usr/bin/env bash
# Writes N realistic device rows as a Vigie inventory CSV, deterministically (the same N gives
# the same bytes with any awk: the pseudo-random picks come from a Park-Miller generator in
# exact integer arithmetic, not from awk's rand()).
#   bench/gen_inventory.sh N OUT.csv
# 8 vendors under 3 spellings each ("Siemens Healthineers", "SIEMENS", "Siemens Healthcare
# GmbH"...), 64 products tied to their vendor, 3 sites, 12 zones (accented French names),
# accented French locations ("Bâtiment B - salle 12", some with a quoted comma), criticality
# following the product (ventilators and pumps are life-supporting), a few devices not in
# service. Serial numbers, IPs (10.x.y.z), MACs and hostnames are unique per row, so
# (vendor, product, serial_number) is unique whatever the spelling.
set -euo pipefail
if [ $# -ne 2 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
  echo "usage: gen_inventory.sh N OUT.csv" >&2
  exit 2
fi
n=$1 out=$2
if [ "$n" -gt 16000000 ]; then
  echo "gen_inventory: at most 16,000,000 rows (unique 10.x.y.z addresses)" >&2
  exit 2
fi
LC_ALL=C awk -v n="$n" '
function rnd(m) { seed = (seed * 16807) % 2147483647; return seed % m }
BEGIN {
  seed = 20240611
  # vendor spellings: 3 per vendor, vendor v uses spell[v, 1..3]
  nv = split("Siemens Healthineers|SIEMENS|Siemens Healthcare GmbH|" \
             "Philips Medical Systems|Philips|Philips Healthcare|" \
             "GE Healthcare|GE Medical Systems|GE|" \
             "B. Braun Melsungen AG|B. Braun|B.Braun|" \
             "Fresenius Kabi|Fresenius|Fresenius Kabi AG|" \
             "Drägerwerk AG & Co. KGaA|Dräger|Draeger|" \
             "Mindray|Shenzhen Mindray Bio-Medical Electronics|MINDRAY|" \
             "Roche Diagnostics|Roche|Roche Diagnostics GmbH", sp, "|")
  nvendor = nv / 3
  for (i = 1; i <= nv; i++) {
    s = sp[i]
    if (s ~ /[,"]/) { gsub(/"/, "\"\"", s); s = "\"" s "\"" }
    spell[int((i - 1) / 3) + 1, (i - 1) % 3 + 1] = s
  }
  # products per vendor, criticality code first (L life-supporting, D diagnostic, O other)
  prod[1] = "D:Artis zee|D:Symbia T|D:Biograph mCT|D:SOMATOM go.Up|D:MAGNETOM Aera|O:syngo.via|D:ACUSON Sequoia|D:Atellica Solution"
  prod[2] = "L:IntelliVue MX800|L:IntelliVue MX450|D:Essenta DR Compact|D:Ingenia 1.5T|D:Azurion 7|D:EPIQ Elite|O:IntelliSpace Portal|D:DigitalDiagnost C90"
  prod[3] = "L:Carescape B450|L:Carescape B650|D:Vivid E95|D:Revolution CT|D:Optima MR450w|D:LOGIQ E10|D:Senographe Pristina|L:Dash 4000"
  prod[4] = "L:Space Infusomat|L:Perfusor Space|O:SpaceStation|L:Dialog+|O:Outlook 400ES|L:Perfusor compact plus|O:SpaceCom 2|L:Infusomat P"
  prod[5] = "L:Agilia VP|L:Agilia SP|L:Volumat Agilia|L:Applix Smart|L:Amika|O:Vigilant Centerium|O:Agilia Connect|L:Injectomat MC Agilia"
  prod[6] = "L:Evita V500|L:Evita Infinity V800|L:Perseus A500|L:Infinity Delta|L:Fabius plus XL|L:Babylog VN500|L:Primus|L:Atlan A350"
  prod[7] = "L:BeneView T5|L:BeneView T8|L:ePM 10|D:Resona 7|D:DC-70|L:SV300|L:BeneHeart D6|L:WATO EX-65"
  prod[8] = "D:cobas 8000|D:cobas pure|D:cobas b 221|D:cobas e 411|D:cobas c 311|D:Accu-Chek Inform II|D:cobas 6800|D:cobas liat"
  for (v = 1; v <= nvendor; v++) {
    np[v] = split(prod[v], p, "|")
    for (k = 1; k <= np[v]; k++) {
      crit[v, k] = substr(p[k], 1, 1) == "L" ? "life-supporting" : substr(p[k], 1, 1) == "D" ? "diagnostic" : "other"
      pname[v, k] = substr(p[k], 3)
    }
  }
  vcode[1] = "SIE"; vcode[2] = "PHI"; vcode[3] = "GEH"; vcode[4] = "BBR"
  vcode[5] = "FRK"; vcode[6] = "DRA"; vcode[7] = "MIN"; vcode[8] = "ROC"
  nsite = split("Hôpital Saint-Éloi|Hôpital Nord|Clinique des Tilleuls", site, "|")
  split("sel|nrd|til", scode, "|")
  nzone = split("Imagerie|Biomédical|Laboratoire|Réanimation|Bloc opératoire|Urgences|Cardiologie|Pharmacie|Stérilisation|Néonatologie|Serveurs|Postes cliniques", zone, "|")
  # zones (by index) that fit each criticality
  nkzone["diagnostic"] = split("1 3 7", t, " "); for (j in t) kzone["diagnostic", j] = t[j]
  nkzone["life-supporting"] = split("4 5 6 10", t, " "); for (j in t) kzone["life-supporting", j] = t[j]
  nkzone["other"] = split("2 8 11 12", t, " "); for (j in t) kzone["other", j] = t[j]
  nbuild = split("Bâtiment A|Bâtiment B|Bâtiment C|Pavillon Sud|Pavillon Éole|Aile Nord", build, "|")
  nroom = split("salle|chambre|box|local technique", room, "|")
  nown = split("Service biomédical|Imagerie médicale|Réanimation adulte|Réanimation néonatale|Laboratoire de biologie|Bloc opératoire|Urgences adultes|Cardiologie interventionnelle|Pharmacie à usage intérieur|Direction des systèmes d'"'"'information", owner, "|")
  nstat = split("in-service|in-service|in-service|in-service|in-service|in-service|in-service|in-service|in-service|in-service|in-service|in-service|in-service|in-service|in-service|in-service|in-service|standalone|disconnected|in-service", stat, "|")

  print "vendor,product,part_number,serial_number,software_version,site,zone,ip,mac,hostname,location,owner,criticality,status"
  for (i = 0; i < n; i++) {
    v = rnd(nvendor) + 1
    k = rnd(np[v]) + 1
    s = rnd(nsite) + 1
    # half of the devices sit in a zone that fits their kind, the rest anywhere
    z = rnd(2) ? rnd(nzone) + 1 : kzone[crit[v, k], rnd(nkzone[crit[v, k]]) + 1]
    r = rnd(1000000)
    if (v == 1) ver = sprintf("V%c%02d%c", 65 + r % 3, 10 + r % 15, 65 + int(r / 7) % 10)
    else if (v == 2 || v == 6) ver = sprintf("%c.%02d.%02d", 65 + r % 4, r % 30, int(r / 30) % 60)
    else ver = sprintf("%d.%d.%d", 1 + r % 9, int(r / 9) % 20, int(r / 180) % 50)
    b = int(r / 3) % nbuild + 1
    if (r % 50 == 0)
      loc = sprintf("\"%s, %s étage - %s %d\"", build[b], int(r / 50) % 5 ? (1 + int(r / 50) % 5) "e" : "1er", room[int(r / 11) % nroom + 1], 1 + int(r / 13) % 40)
    else
      loc = sprintf("%s - %s %d", build[b], room[int(r / 11) % nroom + 1], 1 + int(r / 13) % 40)
    printf "%s,%s,%s-%05d,SN%09d,%s,%s,%s,10.%d.%d.%d,02:00:%02x:%02x:%02x:%02x,%s-%s-%07d,%s,%s,%s,%s\n", \
      spell[v, rnd(3) + 1], pname[v, k], vcode[v], (v * 131 + k * 977) % 100000, i, ver, site[s], zone[z], \
      int(i / 65536) % 256, int(i / 256) % 256, i % 256, \
      int(i / 16777216) % 256, int(i / 65536) % 256, int(i / 256) % 256, i % 256, \
      scode[s], tolower(vcode[v]), i, loc, owner[int(r / 17) % nown + 1], crit[v, k], stat[int(r / 19) % nstat + 1]
  }
}' > "$out"
