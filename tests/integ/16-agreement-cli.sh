#!/bin/sh
# 16-agreement-cli.sh: `repat agreement sign|check` on the shipped example
# agreement in a fresh test region: one signature -> exit 1 (missing),
# both -> exit 0 and --json says all_signed and in force, a shelter cannot
# sign, a changed file -> exit 4 with "changed", --help exits 0.
set -u
B=${REPAT_BUILD:?REPAT_BUILD is not set}
TOP=${REPAT_TOP:-.}
R="$B/repat"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

"$R" region init --out "$T/r" --spec "$TOP/examples/region.json" \
    >"$T/region.log" 2>&1 || { cat "$T/region.log"; fail "region init"; }
A=$T/th-mm-2019.json
cp "$TOP/examples/agreements/th-mm-2019.json" "$A"

"$R" agreement --help >/dev/null || fail "--help"
"$R" agreement sign "$A" --dir "$T/r/agents/TH.DATIP" >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "TH.DATIP cannot sign"; }
[ -f "$A.sig.TH" ] || fail "no $A.sig.TH"
"$R" agreement check "$A" --trust "$T/r/trust" >"$T/out" 2>&1
rc=$?
[ $rc = 1 ] || { cat "$T/out"; fail "one signature: exit $rc, want 1"; }
grep -q "MM  missing" "$T/out" || { cat "$T/out"; fail "MM not missing"; }
ok "one signature: missing, exit 1"

"$R" agreement sign "$A" --dir "$T/r/agents/MM.SHELTER.MYAWADDY" \
    >"$T/out" 2>&1 && fail "a shelter signed"
grep -q "not named as a focal_point" "$T/out" || { cat "$T/out"; fail "why"; }
ok "a shelter cannot sign"

"$R" agreement sign "$A" --dir "$T/r/agents/MM.DSW" >/dev/null 2>&1 ||
	fail "MM.DSW cannot sign"
"$R" agreement check "$A" --dir "$T/r/agents/TH.IOM" --json >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "both signatures: not valid"; }
python3 - "$T/out" <<'PY' || fail "json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["id"] == "TH-MM-MOU-2019" and d["all_signed"] and d["in_force"], d
assert [p["state"] for p in d["parties"]] == ["valid", "valid"], d
PY
ok "both signatures: valid, in force, exit 0"

sed -i 's/"retention_days": 3650/"retention_days": 3651/' "$A"
"$R" agreement check "$A" --trust "$T/r/trust" >"$T/out" 2>&1
rc=$?
[ $rc = 4 ] || { cat "$T/out"; fail "changed file: exit $rc, want 4"; }
grep -q "changed after" "$T/out" || { cat "$T/out"; fail "why changed"; }
ok "changed after signing: invalid, exit 4"
