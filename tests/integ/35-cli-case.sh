#!/bin/sh
# 35-cli-case.sh: `repat case` against a broker enforcing a signed SOP
# (authorization = sop with the TH-MM agreement signed by both parties):
# the broker's state of the case, a refused message shown as refused with
# the broker's code and sentence, a reply deadline pending on the other
# side, then gone once the reply is in; a non-party is told nothing.
set -u
. "${REPAT_TOP:-.}/tests/integ/lib.sh"
PORT=$(free_port)

"$R" region init --out "$T/r" --port "$PORT" >"$T/region.log" 2>&1 ||
	{ cat "$T/region.log"; fail "region init"; }
TH=$T/r/agents/TH.DATIP
MM=$T/r/agents/MM.DSW
KH=$T/r/agents/KH.MOSVY
A=$T/r/broker/agreements
cp examples/agreements/th-mm-2019.json "$A/"
"$R" agreement sign "$A/th-mm-2019.json" --dir "$TH" >/dev/null 2>&1 &&
"$R" agreement sign "$A/th-mm-2019.json" --dir "$MM" >/dev/null 2>&1 ||
	fail "agreement sign"
for c in "$T"/r/agents/*/agent.conf; do
	echo "connect_timeout = 2s" >>"$c"
done
start_broker
grep -q "TH-MM-MOU-2019 loaded" "$T/broker.log" || fail "agreement not loaded"
CASE=TH-2026-000900
F=examples/forms
send() {
	"$R" send --dir "$TH" --to MM/focal_point --case "$CASE" "$@" \
	    >"$T/out" 2>"$T/err"
}
"$R" sync --dir "$MM" >/dev/null 2>&1 || fail "MM sync"
"$R" sync --dir "$KH" >/dev/null 2>&1 || fail "KH sync"

send --type identification_notice --form "$F/identification_notice.json" ||
	{ cat "$T/out" "$T/err"; fail "identification_notice"; }
send --type nationality_verification_request \
    --form "$F/nationality_verification_request.json"
[ $? = 1 ] || { cat "$T/out"; fail "NVR before consent: exit 1 expected"; }
grep -q "^REFUSED nationality_verification_request .*CONSENT_REQUIRED" \
    "$T/out" || { cat "$T/out"; fail "refusal code not printed"; }
"$R" inbox --dir "$TH" --json --type nationality_verification_request \
    >"$T/inbox.json"
grep -q '"status": "rejected"' "$T/inbox.json" || fail "not stored as rejected"
grep -q '"reject_code": "CONSENT_REQUIRED"' "$T/inbox.json" ||
	fail "code not stored"
ok "a refused message: code and sentence printed and kept"

send --type consent_update --form "$F/consent_update.json" ||
	{ cat "$T/out" "$T/err"; fail "consent_update"; }
send --type nationality_verification_request \
    --form "$F/nationality_verification_request.json" ||
	{ cat "$T/out" "$T/err"; fail "NVR after consent"; }
NVR=$(sed -n 's/^sent .* \([0-9a-f]\{32\}\) to MM.DSW.*/\1/p' "$T/out")
"$R" case --dir "$TH" "$CASE" >"$T/case" 2>&1 || { cat "$T/case"; fail "case"; }
grep -q "^state (from the broker): " "$T/case" ||
	{ cat "$T/case"; fail "no broker state"; }
grep -q "MM.DSW owes nationality_verification_result, due " "$T/case" ||
	{ cat "$T/case"; fail "the deadline is not shown"; }
"$R" case --dir "$TH" "$CASE" --json >"$T/case.json" 2>&1 || fail "case --json"
grep -q '"waiting_on": "MM.DSW"' "$T/case.json" || fail "case --json deadline"
grep -q '"overdue": false' "$T/case.json" || fail "case --json overdue flag"
ok "the broker's state and a pending reply deadline"

"$R" sync --dir "$MM" >/dev/null 2>&1 || fail "MM sync 2"
"$R" case --dir "$MM" "$CASE" >"$T/case" 2>&1 || fail "case (MM)"
grep -q "you owe nationality_verification_result, due " "$T/case" ||
	{ cat "$T/case"; fail "MM is not told it owes the result"; }
"$R" reply --dir "$MM" "$NVR" --type nationality_verification_result \
    --form "$F/nationality_verification_result.json" >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "reply with the result"; }
"$R" case --dir "$TH" "$CASE" >"$T/case" 2>&1 || fail "case 2"
grep -q "owes nationality_verification_result" "$T/case" &&
	{ cat "$T/case"; fail "answered deadline still pending"; }
ok "the deadline is gone once answered"

# A country that is not a party learns nothing about the case.
"$R" case --dir "$KH" "$CASE" >"$T/case" 2>&1 || fail "case (KH)"
grep -q "^state: unknown" "$T/case" || { cat "$T/case"; fail "a non-party saw the state"; }
grep -q "owes" "$T/case" && fail "a non-party saw deadlines"
ok "a non-party is told nothing"

# Consent withdrawn: the broker tells every agent that received case data.
sed 's/"decision": "granted"/"decision": "withdrawn"/' \
    "$F/consent_update.json" >"$T/withdraw.json"
send --type consent_update --form "$T/withdraw.json" ||
	{ cat "$T/out" "$T/err"; fail "consent withdrawal"; }
"$R" sync --dir "$MM" >"$T/sync" 2>&1 || { cat "$T/sync"; fail "MM sync 3"; }
grep -q "^CONSENT WITHDRAWN on case $CASE" "$T/sync" ||
	{ cat "$T/sync"; fail "consent withdrawal not said"; }
"$R" case --dir "$MM" "$CASE" >"$T/case" 2>&1 || fail "case (MM)"
grep -q "notice consent_withdrawn" "$T/case" ||
	{ cat "$T/case"; fail "consent withdrawal not in the timeline"; }
ok "consent withdrawal said on sync and kept in the timeline"
