#!/usr/bin/env bash
# End to end, through the command line: device communication profiles. The demo's shipped
# Essenta profile, import of a port table and of MUD files (the legacy draft with warnings),
# export as MUD and YAML read back to the same intents, and refused imports that name the
# place and leave the store unchanged. Usage: profiles_cli_test.sh BIN_DIR SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
mud="$src/../shared/fixtures/mud"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
vigie() { "$bin/vigie" --home "$work/home" "$@"; }
intents() { jq -S '[.intents[] | {direction, peer, protocol, ports, source_ports, purpose, cleartext}] | sort'; }

vigie init --demo >/dev/null 2>&1
vigie profiles list --json >"$work/list.json"
jq -e 'length == 1 and .[0].name == "philips-essenta-dr-compact" and .[0].intents == 25' \
  "$work/list.json" >/dev/null || fail "demo profiles: $(cat "$work/list.json")"
vigie profiles show philips-essenta-dr-compact --json >"$work/essenta.json"
jq -e '[.intents[] | select(.cleartext and .ports == "21")] | length == 1' "$work/essenta.json" \
  >/dev/null || fail "the FTP row is not cleartext"
jq -e 'all(.intents[]; .provenance.locator | startswith("Annex A row "))' "$work/essenta.json" \
  >/dev/null || fail "provenance"

# A port table in CSV, the letter's Inbound/OutBound style.
cat >"$work/table.csv" <<'CSV'
vendor,product,inbound,outbound,peer,protocol,ports,purpose
Acme,Scanner,Y,N,pacs,TCP,104,DICOM
Acme,Scanner,N,Y,ntp,UDP,123,time
CSV
vigie profiles import "$work/table.csv" --name acme-scanner >"$work/out" 2>&1 ||
  fail "CSV import: $(cat "$work/out")"
grep -q 'profile acme-scanner: 2 intents' "$work/out" || fail "CSV import: $(cat "$work/out")"

# MUD files: the RFC form and the legacy draft (warnings name the JSON pointers).
for f in ieft-draft.json mudfile-local-and-same-mfg-test.json mudfile-mycontrollerclass-test.json; do
  vigie profiles import "$mud/$f" >/dev/null 2>"$work/err" || fail "$f: $(cat "$work/err")"
  [ ! -s "$work/err" ] || fail "$f: unexpected warnings: $(cat "$work/err")"
done
vigie profiles import "$mud/lightbulb2000.json" --format mud --name bulb >/dev/null 2>"$work/err" ||
  fail "legacy MUD: $(cat "$work/err")"
grep -q "lightbulb2000.json:/ietf-access-control-list:access-lists/acl/1/access-list-entries/ace/0/rule-name: legacy draft name 'rule-name'" \
  "$work/err" || fail "legacy warnings: $(cat "$work/err")"
[ "$(vigie profiles list --json | jq length)" = 6 ] || fail "six profiles expected"

# Export as MUD and as YAML, import back under another name: the same intents.
vigie profiles export philips-essenta-dr-compact --last-update 2026-11-25T00:00:00Z >"$work/essenta.mud.json"
vigie profiles export philips-essenta-dr-compact --last-update 2026-11-25T00:00:00Z >"$work/again.mud.json"
cmp -s "$work/essenta.mud.json" "$work/again.mud.json" || fail "MUD export is not deterministic"
jq -e '."ietf-mud:mud"."mud-version" == 1 and (."ietf-access-control-list:acls".acl | length) == 2' \
  "$work/essenta.mud.json" >/dev/null || fail "MUD export: $(head -c 400 "$work/essenta.mud.json")"
vigie profiles import "$work/essenta.mud.json" --name essenta-from-mud >/dev/null 2>&1
vigie profiles export philips-essenta-dr-compact --format yaml >"$work/essenta.yaml"
vigie profiles import "$work/essenta.yaml" --name essenta-from-yaml >/dev/null 2>&1
for copy in essenta-from-mud essenta-from-yaml; do
  diff <(intents <"$work/essenta.json") <(vigie profiles show "$copy" --json | intents) >&2 ||
    fail "$copy differs from the shipped profile"
done

# Refusals: exit 1, the place named, nothing stored.
vigie profiles list --json >"$work/before.json"
sed 's/"operator": "eq"/"operator": "neq"/' "$mud/ieft-draft.json" >"$work/neq.json"
printf 'vendor,product,direction,peer,protocol,ports\nAcme,X,to-device,pacs,TCP,80\nAcme,X,to-device,pacs,TCP,99999\n' \
  >"$work/bad.csv"
printf '{"ietf-mud:mud": {\n  "mud-version": 1,,\n}}' >"$work/malformed.json"
set +e
vigie profiles import "$work/neq.json" --name neq 2>"$work/neq.err"; rc_neq=$?
vigie profiles import "$work/bad.csv" 2>"$work/csv.err"; rc_csv=$?
vigie profiles import "$work/malformed.json" 2>"$work/malformed.err"; rc_malformed=$?
vigie profiles import "$work/missing.yaml" 2>/dev/null; rc_missing=$?
vigie profiles show nope 2>/dev/null; rc_nope=$?
set -e
[ "$rc_neq" = 1 ] || fail "neq: exit $rc_neq"
grep -q "neq.json:/ietf-access-control-list:acls/acl/1/aces/ace/0/matches/tcp/destination-port/operator: operator 'neq'" \
  "$work/neq.err" || fail "neq: $(cat "$work/neq.err")"
[ "$rc_csv" = 1 ] || fail "bad CSV: exit $rc_csv"
grep -q "bad.csv:3:column 6: column 'ports': '99999'" "$work/csv.err" || fail "bad CSV: $(cat "$work/csv.err")"
[ "$rc_malformed" = 1 ] || fail "malformed: exit $rc_malformed"
grep -q "malformed.json:2:20: malformed JSON" "$work/malformed.err" ||
  fail "malformed: $(cat "$work/malformed.err")"
[ "$rc_missing" = 2 ] || fail "missing file: exit $rc_missing"
[ "$rc_nope" = 1 ] || fail "unknown profile: exit $rc_nope"
vigie profiles list --json >"$work/after.json"
cmp -s "$work/before.json" "$work/after.json" || fail "a refused import changed the store"
echo "profiles CLI: ok"
