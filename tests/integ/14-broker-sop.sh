#!/bin/sh
# 14-broker-sop.sh: repat-broker with authorization = sop (the default)
# against a real region on a random loopback port.
#
#  - with no agreement loaded, a submit is refused NO_AGREEMENT;
#  - a fully signed agreement is loaded at SIGHUP (and audited); then an
#    identification notice from TH.DATIP to MM.DSW is receipted and
#    delivered, and the case is visible to its parties only;
#  - a message to an agent the agreement does not name is refused;
#  - a half-signed agreement is refused (logged, not loaded);
#  - a consent withdrawal makes the broker notify the other recipients;
#  - a request past its reply deadline (test clock) is reminded once and
#    listed by `status --overdue`;
#  - SIGTERM exits 0 and `repat-broker check` passes.
set -u
. "${REPAT_TOP:-.}/tests/integ/lib.sh"

PORT=$(free_port)
"$R" region init --out "$T/r" --port "$PORT" >"$T/region.log" 2>&1 ||
	{ cat "$T/region.log"; fail "region init"; }
BC=$T/r/broker/broker.conf
grep -q "^authorization = sop" "$BC" || fail "sop is not the default"
for c in "$T"/r/agents/*/agent.conf; do
	echo "connect_timeout = 2s" >>"$c"
done
TH=$T/r/agents/TH.DATIP
MM=$T/r/agents/MM.DSW
KH=$T/r/agents/KH.MOSVY
F=examples/forms
CASE=TH-2026-000777

# region init signs the example agreements; start with none
AG=$T/r/broker/agreements
rm -rf "$AG"
mkdir -p "$AG"
start_broker
grep -q "none loaded" "$T/broker.log" || fail "no agreements not logged"
for a in "$MM" "$TH" "$KH"; do
	"$R" sync --dir "$a" >"$T/out" 2>&1 || { cat "$T/out"; fail "first sync"; }
done
"$R" send --dir "$TH" --to MM.DSW --type identification_notice \
    --case "$CASE" --form "$F/identification_notice.json" >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 1 ] || { cat "$T/out" "$T/err"; fail "no agreement: exit $rc"; }
grep -qi "NO_AGREEMENT\|no agreement" "$T/err" "$T/out" ||
	{ cat "$T/err"; fail "NO_AGREEMENT not said"; }
ok "sop without agreements refuses NO_AGREEMENT"

# --- a half-signed agreement is refused at reload
cp examples/agreements/th-mm-2019.json "$AG/"
"$R" agreement sign "$AG/th-mm-2019.json" --dir "$TH" >/dev/null 2>&1 ||
	fail "agreement sign TH"
kill -HUP "$BPID"
wait_log "agreement .*th-mm-2019.json refused"
ok "a half-signed agreement is refused"

# --- fully signed: loaded at SIGHUP
"$R" agreement sign "$AG/th-mm-2019.json" --dir "$MM" >/dev/null 2>&1 ||
	fail "agreement sign MM"
kill -HUP "$BPID"
wait_log "agreement TH-MM-MOU-2019 loaded"
ok "a fully signed agreement is loaded at SIGHUP"

CASE=TH-2026-000778
"$R" send --dir "$TH" --to MM.DSW --type identification_notice \
    --case "$CASE" --form "$F/identification_notice.json" >"$T/out" 2>"$T/err" ||
	{ cat "$T/out" "$T/err"; fail "allowed send refused"; }
grep -q "^sent " "$T/out" || { cat "$T/out"; fail "not sent"; }
"$R" sync --dir "$MM" --json >"$T/sync.json" 2>&1 || fail "recipient sync"
grep -q '"received":1' "$T/sync.json" || { cat "$T/sync.json"; fail "not received"; }
ok "an identification notice under the agreement is receipted and delivered"

"$R" case --dir "$MM" "$CASE" >"$T/case" 2>&1 || { cat "$T/case"; fail "case"; }
grep -q "open, countries TH MM" "$T/case" || { cat "$T/case"; fail "case state not open"; }
"$R" case --dir "$KH" "$CASE" >"$T/case" 2>&1
grep -q "^state: open" "$T/case" && fail "a third country sees the case"
ok "the case is visible to its parties only"

# --- a recipient the agreement does not name
"$R" send --dir "$TH" --to KH.MOSVY --type identification_notice \
    --case TH-2026-000779 --form "$F/identification_notice.json" \
    >"$T/out" 2>"$T/err"
[ $? = 1 ] || { cat "$T/out" "$T/err"; fail "unnamed recipient accepted"; }
ok "a message outside every agreement is refused"

# --- a request with a reply deadline (30 days in this agreement), after
# the person's consent to share the case
"$R" send --dir "$TH" --to MM.DSW --type consent_update --case "$CASE" \
    --form "$F/consent_update.json" >"$T/out" 2>"$T/err" ||
	{ cat "$T/out" "$T/err"; fail "send consent"; }
"$R" send --dir "$TH" --to MM.DSW --type nationality_verification_request \
    --case "$CASE" --form "$F/nationality_verification_request.json" \
    >"$T/out" 2>"$T/err" || { cat "$T/out" "$T/err"; fail "send nvr"; }
NVR=$(sed -n 's/^sent .* \([0-9a-f]\{32\}\) to MM.DSW.*/\1/p' "$T/out")
[ -n "$NVR" ] || { cat "$T/out"; fail "no nvr id"; }
"$B/repat-broker" status -c "$BC" --overdue >"$T/overdue" 2>&1 || fail "--overdue"
grep -q "^0 overdue" "$T/overdue" || { cat "$T/overdue"; fail "overdue too early"; }
# --- consent withdrawn: everyone else who received case data is told
"$R" sync --dir "$MM" >/dev/null 2>&1 || fail "sync MM before withdrawal"
sed -e 's/"granted"/"withdrawn"/' \
    -e '/"notify_origin",/d' -e '/"family_tracing",/d' \
    -e 's/"share_case",/"share_case"/' -e '/"followup_feedback"/d' \
    "$F/consent_update.json" >"$T/withdraw.json"
"$R" send --dir "$TH" --to MM.DSW --type consent_update --case "$CASE" \
    --form "$T/withdraw.json" >"$T/out" 2>"$T/err" ||
	{ cat "$T/withdraw.json" "$T/out" "$T/err"; fail "send withdrawal"; }
"$R" sync --dir "$MM" >"$T/out" 2>&1 || { cat "$T/out"; fail "sync MM"; }
grep -q "CONSENT WITHDRAWN on case $CASE" "$T/out" ||
	{ cat "$T/out"; fail "no consent_withdrawn notice"; }
ok "a consent withdrawal sends the broker's consent_withdrawn notice"

stop_broker
# 31 days later by the broker's test clock: overdue, reminded once
printf 'test_mode = yes\nclock_offset = 31d\n' >>"$BC"
start_broker
wait_log "reminder to MM.DSW: reply to request $NVR overdue"
stop_broker
"$B/repat-broker" status -c "$BC" --overdue >"$T/overdue" 2>&1 || fail "--overdue"
grep -q "$NVR *MM.DSW *nationality_verification_result .* yes" "$T/overdue" ||
	{ cat "$T/overdue"; fail "overdue request not listed as reminded"; }
"$B/repat-broker" status -c "$BC" --overdue --json >"$T/overdue.json" 2>&1 ||
	fail "--overdue --json"
grep -q '"count": 1' "$T/overdue.json" || { cat "$T/overdue.json"; fail "json count"; }
start_broker
sleep 0.5
stop_broker
[ "$(cat "$T/broker.log.old" "$T/broker.log" | grep -c "reminder to MM.DSW")" = 1 ] ||
	fail "reminded more than once"
ok "an overdue request is reminded once and listed by status --overdue"

"$B/repat-broker" check -c "$BC" >"$T/check" 2>&1 || { cat "$T/check"; fail "check"; }
"$B/repat-broker" status -c "$BC" >"$T/status" 2>&1 || fail "status"
grep -q "MM.DSW" "$T/status" || fail "status lists no agents"
ok "clean stop, check and status"
