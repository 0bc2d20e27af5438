#!/usr/bin/env bash
# Writes N realistic device rows (deterministic) as a Vigie CSV: 8 vendors under several
# spellings, 60 products, 3 sites, 12 zones, unique serials, IPs and MACs, French locations.
#   bench/gen_inventory.sh N OUT.csv
set -euo pipefail
n=$1 out=$2
LC_ALL=C.UTF-8 awk -v n="$n" 'BEGIN {
  split("Siemens Healthineers|SIEMENS|Philips Medical Systems|Philips|GE Healthcare|GE Medical Systems|B. Braun Melsungen AG|Fresenius Kabi|Drägerwerk AG & Co. KGaA|Mindray|Roche Diagnostics|Carestream Health", vendor, "|")
  split("Artis zee|Sensis|Symbia T|Biograph mCT|IntelliVue MX800|Essenta DR Compact|Carescape B450|Vivid E95|Space Infusomat|Perfusor Space|Agilia VP|Evita V500|BeneView T5|cobas 8000|DRX-Evolution", product, "|")
  split("CHU Nord|CHU Sud|Clinique des Tilleuls", site, "|")
  split("Imagerie|Biomédical|Laboratoire|Postes cliniques|Serveurs|Bureautique|Réanimation|Bloc|Urgences|Cardiologie|Pharmacie|Stérilisation", zone, "|")
  split("life-supporting|diagnostic|other", crit, "|")
  print "vendor,product,part_number,serial_number,software_version,site,zone,ip,mac,hostname,location,owner,criticality,status"
  for (i = 0; i < n; i++) {
    v = vendor[i % 12 + 1]
    if (v ~ /,/) v = "\"" v "\""
    p = product[int(i / 12) % 15 + 1] " " (i % 4 + 1)
    z = zone[int(i / 7) % 12 + 1]
    printf "%s,%s,PN%05d,SN%09d,V%c%02d%c,%s,%s,10.%d.%d.%d,02:%02x:%02x:%02x:%02x:%02x,dev-%d,\"Bâtiment %c, salle %d\",Service %d,%s,in-service\n", \
      v, p, i % 997, i, 65 + i % 3, i % 40, 65 + i % 20, site[i % 3 + 1], z, \
      int(i / 65536) % 256, int(i / 256) % 256, i % 256, \
      int(i / 16777216) % 256, int(i / 65536) % 256, int(i / 256) % 256, i % 256, i % 199, \
      i, 65 + i % 9, i % 60, i % 25, crit[i % 3 + 1]
  }
}' > "$out"
