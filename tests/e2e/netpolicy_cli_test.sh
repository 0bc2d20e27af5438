#!/usr/bin/env bash
# End to end, through the command line, on the demo hospital: zones, role bindings, the
# imported firewall and the exposure it gives (445 from the office zone, with the deciding
# rule), mitigation checks of the Siemens letter, refusals that change nothing, and the audit
# chain those changes leave. Usage: netpolicy_cli_test.sh BIN_DIR
set -euo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
vigie() { "$bin/vigie" --home "$work/home" "$@"; }

vigie init --demo >/dev/null 2>&1

# Zones: kinds guessed from names, networks from the devices' addresses.
vigie zones list --json >"$work/zones.json"
jq -e '[.[] | select(.site == "Hôpital Saint-Éloi" and .name == "Bureautique")][0]
       | .kind == "office" and .networks == ["10.1.160.0/24"]' "$work/zones.json" >/dev/null ||
  fail "office zone: $(jq -c '.[]' "$work/zones.json" | head -3)"

# 445 from the office zone of Saint-Éloi reaches the imaging devices through the 2014 rule.
vigie exposure --port 445 --from "Hôpital Saint-Éloi/Bureautique" --json >"$work/exp.json"
jq -e '.flat_network == false and (.exposures | length) > 20 and
       all(.exposures[]; .port == 445 and (.from | length) == 1 and
           (.from[0].decided_by | test("sel-partage-comptes-rendus-2014")))' "$work/exp.json" \
  >/dev/null || fail "445 from the office: $(jq -c '.exposures[0]' "$work/exp.json")"
jq -e '[.exposures[] | select(.ip == "10.1.110.20")] | length == 1' "$work/exp.json" >/dev/null ||
  fail "the Artis zee 10.1.110.20 is not listed"
# At Hôpital Nord the same port is blocked by rule 210; the later accept is shadowed.
vigie exposure --port 445 --from "Hôpital Nord/Bureautique" --json >"$work/nord.json"
jq -e '[.exposures[] | select(.zone == "Hôpital Nord/Imagerie")] | length == 0' "$work/nord.json" \
  >/dev/null || fail "Nord imaging reachable on 445: $(jq -c '.exposures[0]' "$work/nord.json")"
jq -e '.rule_findings[0].kind == "shadowed" and (.rule_findings[0].rule | test("nrd-bureautique-smb"))' \
  "$work/nord.json" >/dev/null || fail "shadowed rule not found"

# The Siemens letter's mitigation (block 139/445/3389) is checked, device by device.
vigie exposure --mitigations --json >"$work/mit.json"
jq -e 'length > 0 and any(.[]; .in_place == false and (.evidence | length) > 0)
       and any(.[]; .in_place == true)' "$work/mit.json" >/dev/null ||
  fail "mitigation checks: $(jq -c '.[0]' "$work/mit.json")"

# A finding at Hôpital Nord, where rule 210 blocks the ports: "mitigated" is accepted as checked.
nord=$(jq -r '[.[] | select(.in_place == true)][0].finding_id' "$work/mit.json")
vigie findings set "$nord" status=mitigated >/dev/null
vigie findings history "$nord" --json | jq -e '.[-1].status == "mitigated" and
  (.[-1].note | test("checked: 139/tcp, 445/tcp, 3389/tcp blocked"))' >/dev/null ||
  fail "checked mitigation: $(vigie findings history "$nord" --json)"

# A bad firewall file is refused with its position and changes nothing.
vigie firewall list --json >"$work/rules.before"
printf 'name,source,destination,protocol,ports,action\nok,any,any,tcp,445,drop\nbad,any,Cuisine,tcp,445,drop\n' \
  >"$work/bad.csv"
set +e
vigie firewall import "$work/bad.csv" --ruleset coeur 2>"$work/err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "bad ruleset: exit $rc"
grep -q "bad.csv line 3: no zone 'Cuisine'" "$work/err" || fail "error: $(cat "$work/err")"
vigie firewall list --json >"$work/rules.after"
cmp -s "$work/rules.before" "$work/rules.after" || fail "a refused import changed the rules"

# Closing the 2014 rule (a new ruleset version) removes the office exposure.
jq -r '["ruleset","position","name","source","destination","protocol","ports","action"],
       (.[] | select(.name != "sel-partage-comptes-rendus-2014")
            | [.ruleset, .position, .name, .source, .destination, .protocol,
               (if .ports == "any" then "" else .ports end), .action]) | @csv' \
  "$work/rules.before" >"$work/fixed.csv"
vigie firewall import "$work/fixed.csv" >/dev/null
vigie exposure --port 445 --from "Hôpital Saint-Éloi/Bureautique" --json >"$work/exp2.json"
jq -e '[.exposures[] | select(.zone == "Hôpital Saint-Éloi/Imagerie")] | length == 0' \
  "$work/exp2.json" >/dev/null || fail "still exposed after the fix"

# Zones and roles: changes accepted, nonsense refused.
vigie zones set "Hôpital Saint-Éloi/Réseau historique" kind=medical networks=10.1.1.0/24 >/dev/null
set +e
vigie zones set "Hôpital Saint-Éloi/Imagerie" kind=cuisine 2>/dev/null
rc_kind=$?
vigie roles bind "Hôpital Saint-Éloi" pacs "10.1.150.0/16" 2>/dev/null
rc_bind=$?
set -e
[ "$rc_kind" = 2 ] || fail "bad kind: exit $rc_kind"
[ "$rc_bind" = 1 ] || fail "bad role address: exit $rc_bind"
vigie zones add "Hôpital Saint-Éloi" DMZ kind=dmz networks=10.1.200.0/24 >/dev/null
set +e
vigie zones add "Hôpital Saint-Éloi" dmz 2>/dev/null
rc_dup=$?
set -e
[ "$rc_dup" = 1 ] || fail "duplicate zone: exit $rc_dup"
vigie zones list --json | jq -e 'any(.[]; .name == "DMZ" and .kind == "dmz" and
  .networks == ["10.1.200.0/24"])' >/dev/null || fail "DMZ zone not listed"
vigie roles bind "Hôpital Saint-Éloi" dicom-print pacs-print.chu.example
vigie roles list --site "Hôpital Saint-Éloi" --json >"$work/roles.json"
jq -e 'any(.[]; .role == "dicom-print" and .kind == "dns" and .resolved == [])
       and any(.[]; .role == "pacs" and .address == "10.1.150.22")' "$work/roles.json" >/dev/null ||
  fail "roles: $(cat "$work/roles.json")"
sqlite3 "$work/home/vigie.db" "SELECT action FROM audit_log ORDER BY id" >"$work/audit"
for action in netpolicy.firewall.import netpolicy.zone.create netpolicy.zone.kind netpolicy.zone.networks netpolicy.role.bind; do
  grep -qx "$action" "$work/audit" || fail "no audit entry $action"
done
echo "netpolicy CLI: ok"
