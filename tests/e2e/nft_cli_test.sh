#!/usr/bin/env bash
# End to end, through the command line: `vigie policy generate` on the demo hospital (a zone
# named with its site), its self-check, then `vigie policy check` on the result, on a broken
# file (refused with file:line:column) and on a missing one. Usage: nft_cli_test.sh BIN_DIR
# Exit 77 (skipped) when network namespaces are impossible here.
set -euo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
vigie() { "$bin/vigie" --home "$work/home" "$@"; }

if ! unshare --net true 2>/dev/null; then
  echo "SKIP: no network namespace here"
  exit 77
fi
vigie init --demo >/dev/null 2>&1 || fail "vigie init --demo"

# A zone name used at several sites must be qualified.
set +e
vigie policy generate --zone Imagerie >/dev/null 2>"$work/err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "ambiguous zone: exit $rc, not 2"
grep -q "say which, as SITE/ZONE" "$work/err" || fail "ambiguous zone: $(cat "$work/err")"

for format in nft json; do
  vigie policy generate --zone "Hôpital Saint-Éloi/Imagerie" --format "$format" \
    --out "$work/imagerie.$format" 2>"$work/err" || fail "generate $format: $(cat "$work/err")"
  grep -q "table inet vigie_imagerie" "$work/err" || fail "generate $format: $(cat "$work/err")"
  vigie policy check "$work/imagerie.$format" >"$work/out" ||
    fail "check $format: $(cat "$work/out")"
  grep -q "accepted by nft -c" "$work/out" || fail "check $format: $(cat "$work/out")"
done
grep -q '"policy": "drop"' "$work/imagerie.json" || fail "the JSON ruleset has no drop policy"
grep -q 'ct state established,related accept' "$work/imagerie.nft" ||
  fail "the .nft ruleset does not accept established traffic"
# Same input, same bytes.
vigie policy generate --zone "Hôpital Saint-Éloi/Imagerie" --no-check 2>/dev/null >"$work/again.nft"
cmp -s "$work/imagerie.nft" "$work/again.nft" || fail "two generations differ"

printf 'table inet t {\n\tchain c {\n\t\ttcp dport 99999 accept\n\t}\n}\n' >"$work/broken.nft"
set +e
vigie policy check "$work/broken.nft" >"$work/out"
rc=$?
vigie policy check --json "$work/broken.nft" >"$work/out.json"
rc_json=$?
vigie policy check "$work/missing.nft" 2>/dev/null
rc_missing=$?
set -e
[ "$rc" = 1 ] || fail "broken file: exit $rc, not 1"
grep -q "^$work/broken.nft:3:13: Error: Service out of range" "$work/out" ||
  fail "broken file: position not given: $(cat "$work/out")"
[ "$rc_json" = 1 ] || fail "broken file, --json: exit $rc_json, not 1"
[ "$(jq -r '.diagnostics[0] | "\(.line):\(.column)"' "$work/out.json")" = "3:13" ] ||
  fail "broken file, --json: $(cat "$work/out.json")"
[ "$rc_missing" = 2 ] || fail "missing file: exit $rc_missing, not 2"
echo "nft cli: ok"
