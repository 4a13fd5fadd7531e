#!/bin/sh
# 31-cli-send.sh: `repat send / sync / inbox / show / reply / submit / case`
# against a real repat-broker on a random loopback port.
#
#  - a send while the broker is down exits 3 and keeps the message; the
#    next sync submits the same bytes: receipted once, delivered once;
#  - the recipient sees it in its inbox exactly once, `show` decrypts it
#    and the view is logged; a reply goes back with in_reply_to;
#  - --cc sends a linked copy; CC/role resolves through the directory;
#  - an offline file is relayed by another agent of the sender's country,
#    refused by an agent of another country, and a tampered file exits 4;
#  - agent.conf `operators` is enforced and the operator travels sealed;
#  - commands run at once on a fresh agent folder all work (its store is
#    created once).
set -u
. "${REPAT_TOP:-.}/tests/integ/lib.sh"
# json_get FILE KEY: the first "KEY": value in FILE (strings unquoted).
json_get() {
	sed -n 's/.*"'"$2"'": *"\{0,1\}\([^",}]*\)"\{0,1\}.*/\1/p' "$1" | head -1
}

PORT=$(free_port)
"$R" region init --out "$T/r" --port "$PORT" >"$T/region.log" 2>&1 ||
	{ cat "$T/region.log"; fail "region init"; }
sed -i 's/^authorization = .*/authorization = open/' "$T/r/broker/broker.conf"
for c in "$T"/r/agents/*/agent.conf; do
	echo "connect_timeout = 2s" >>"$c"
done
TH=$T/r/agents/TH.DATIP
WPC=$T/r/agents/TH.WPC.PATHUMTHANI
MM=$T/r/agents/MM.DSW
DNR=$T/r/agents/MM.DNR
F=examples/forms
CASE=TH-2026-000123

# --- commands run at once on a fresh agent folder create its store once
cp -a "$T/r/agents/TH.DATIP" "$T/fresh" && rm -f "$T"/fresh/agent.db*
pids=
for i in 1 2 3 4 5 6; do
	"$R" inbox --dir "$T/fresh" >"$T/fresh.$i" 2>&1 &
	pids="$pids $!"
done
for p in $pids; do
	wait "$p" || { cat "$T"/fresh.*; fail "six inboxes at once on a new folder"; }
done
ok "six commands at once on a new agent folder"
sed -i 's|^broker_endpoint = .*|broker_endpoint = tcp://127.0.0.1|' \
    "$T/fresh/agent.conf"
"$R" sync --dir "$T/fresh" >"$T/out" 2>&1 && fail "endpoint without a port"
grep -q "broker_endpoint: \"tcp://127.0.0.1\" is not tcp://HOST:PORT" \
    "$T/out" || { cat "$T/out"; fail "a bad broker_endpoint is not named"; }
ok "a broker_endpoint without a port is named, not blamed on the broker"

# --- everyone says hello once, so the directory knows them
start_broker
for a in "$MM" "$DNR" "$TH"; do
	"$R" sync --dir "$a" >"$T/out" 2>&1 || { cat "$T/out"; fail "first sync"; }
done
grep -q "directory: 3 agents verified" "$T/out" || fail "directory of 3"
# A directory cache that cannot be written is said so, not "REFUSED".
cp -a "$TH" "$T/nodir" && rm -rf "$T/nodir/directory" &&
	touch "$T/nodir/directory"
"$R" sync --dir "$T/nodir" >"$T/out" 2>&1
grep -q "NOT SAVED: cannot create .*nodir/directory/.*Not a directory" \
    "$T/out" || { cat "$T/out"; fail "an unwritable directory cache"; }
grep -q "REFUSED" "$T/out" && { cat "$T/out"; fail "blamed on trust"; }
grep -q "^directory: 0 agents verified, some NOT SAVED" "$T/out" ||
	{ cat "$T/out"; fail "the summary does not say NOT SAVED"; }
[ -f "$TH/directory/MM.DSW/enc.crt" ] || fail "directory/MM.DSW/enc.crt"
[ "$(stat -c %a "$TH/agent.db")" = 600 ] || fail "agent.db is not 0600"
ok "directory refreshed and written for repat seal"

# --- send while the broker is down: exit 3, kept in the outbox
stop_broker
"$R" send --dir "$TH" --to MM/focal_point --type identification_notice \
    --case "$CASE" --form "$F/identification_notice.json" >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 3 ] || { cat "$T/out" "$T/err"; fail "send while down: exit $rc"; }
grep -q "kept in the outbox; \`repat sync\` will send it" "$T/err" ||
	fail "send while down: no outbox sentence"
ID=$(sed -n 's/^queued .* \([0-9a-f]\{32\}\) to MM.DSW.*/\1/p' "$T/out")
[ -n "$ID" ] || { cat "$T/out"; fail "no queued id printed"; }
"$R" inbox --dir "$TH" --json >"$T/inbox.json" || fail "inbox --json"
[ "$(json_get "$T/inbox.json" status)" = queued ] || fail "not queued"
"$R" sync --dir "$TH" >"$T/out" 2>&1
[ $? = 3 ] || fail "sync while down should exit 3"
ok "send while down exits 3, message queued"

# --- broker back: sync submits the stored bytes, once
start_broker
"$R" sync --dir "$TH" --json >"$T/sync.json" 2>"$T/err" ||
	{ cat "$T/err"; fail "sync after restart"; }
grep -q '"receipted":1' "$T/sync.json" || { cat "$T/sync.json"; fail "not receipted"; }
"$R" sync --dir "$TH" --json >"$T/sync.json" 2>&1 || fail "second sync"
grep -q '"submitted":0' "$T/sync.json" || fail "second sync resubmitted"
"$R" inbox --dir "$TH" --json >"$T/inbox.json"
[ "$(json_get "$T/inbox.json" status)" = receipted ] || fail "not receipted in inbox"
ok "sync submitted the queued message once"

# --- the recipient: exactly once, decrypts, view logged
"$R" sync --dir "$MM" --json >"$T/sync.json" 2>&1 || fail "recipient sync"
grep -q '"received":1' "$T/sync.json" || { cat "$T/sync.json"; fail "not received"; }
"$R" sync --dir "$MM" --json >"$T/sync.json" 2>&1 || fail "recipient sync 2"
grep -q '"received":0' "$T/sync.json" || fail "received twice"
"$R" inbox --dir "$MM" --all --json >"$T/inbox.json"
[ "$(grep -c "\"$ID\"" "$T/inbox.json")" = 1 ] || fail "not exactly once in the inbox"
"$R" inbox --dir "$MM" --unread | grep -q "$ID" || fail "not unread"
"$R" show --dir "$MM" "$ID" >"$T/show" 2>"$T/err" || { cat "$T/err"; fail "show"; }
grep -q '"presumed_nationality": "MM"' "$T/show" || fail "show: form not decrypted"
grep -q "^sender  *TH.DATIP" "$T/show" || fail "show: no header"
"$R" inbox --dir "$MM" --unread | grep -q "$ID" && fail "still unread after show"
"$R" show --dir "$MM" "$ID" --json --out "$T/form.json" >"$T/show.json" ||
	fail "show --out"
[ "$(stat -c %a "$T/form.json")" = 600 ] || fail "--out file is not 0600"
grep -q '"presumed_nationality"' "$T/form.json" || fail "--out has no form"
grep -q '"presumed_nationality"' "$T/show.json" && fail "--out also printed the form"
if command -v sqlite3 >/dev/null 2>&1; then
	views=$(sqlite3 "$MM/agent.db" "SELECT count(*) FROM views")
	[ "$views" = 2 ] || fail "views logged: $views"
fi
# Payloads stay sealed at rest: the form's words are not in the database.
cat "$MM"/agent.db* | grep -q "presumed_nationality" && fail "plaintext in agent.db"
"$R" sync --dir "$TH" >/dev/null 2>&1
"$R" inbox --dir "$TH" --json >"$T/inbox.json"
[ "$(json_get "$T/inbox.json" status)" = delivered ] || fail "no delivered notice"
ok "received once, shown, view logged, sender told delivered"

# --- reply: recipient and case from the original
"$R" reply --dir "$MM" "$ID" --type case_referral \
    --form "$F/case_referral.json" >"$T/out" 2>"$T/err" ||
	{ cat "$T/err"; fail "reply"; }
grep -q "to TH.DATIP, case $CASE: receipted" "$T/out" || fail "reply output"
"$R" sync --dir "$TH" >/dev/null 2>&1
"$R" inbox --dir "$TH" --from MM.DSW --type case_referral --json >"$T/inbox.json"
[ "$(json_get "$T/inbox.json" in_reply_to)" = "$ID" ] || fail "in_reply_to"
ok "reply"

# --- --cc: a linked copy, its own envelope
"$R" send --dir "$TH" --to MM.DSW --cc MM.DNR --type case_referral \
    --case "$CASE" --form "$F/case_referral.json" >"$T/out" 2>"$T/err" ||
	{ cat "$T/err"; fail "send --cc"; }
[ "$(grep -c '^sent ' "$T/out")" = 2 ] || fail "--cc: two receipts expected"
MAIN=$(sed -n 's/^sent .* \([0-9a-f]\{32\}\) to MM.DSW.*/\1/p' "$T/out")
"$R" sync --dir "$DNR" >/dev/null 2>&1
"$R" inbox --dir "$DNR" --json >"$T/inbox.json"
[ "$(json_get "$T/inbox.json" copy_of)" = "$MAIN" ] || fail "copy_of"
ok "--cc copy linked to the main message"

# --- an offline file relayed by an agent of the sender's country
mkdir -p "$WPC/directory/MM.DSW"
cp "$MM/enc.crt" "$WPC/directory/MM.DSW/enc.crt"
"$R" seal --dir "$WPC" --to MM.DSW --type case_referral --case "$CASE" \
    --form "$F/case_referral.json" --out "$T/off.repat" >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "seal"; }
OFF=$(sed -n 's/^sealed [a-z_]* \([0-9a-f]\{32\}\) .*/\1/p' "$T/out")
"$R" submit --dir "$DNR" "$T/off.repat" >"$T/out" 2>&1
[ $? = 1 ] || fail "a MM agent relayed a TH message"
"$R" submit --dir "$TH" "$T/off.repat" >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "submit (relay)"; }
grep -q "relaying TH.WPC.PATHUMTHANI" "$T/out" || fail "relay not said"
"$R" submit --dir "$TH" "$T/off.repat" >"$T/out" 2>&1 || fail "submit again"
"$R" sync --dir "$MM" --json >"$T/sync.json" 2>&1
grep -q '"received":2' "$T/sync.json" || { cat "$T/sync.json"; fail "relayed+cc: 2 expected"; }
"$R" show --dir "$MM" "$OFF" >/dev/null 2>&1 || fail "show relayed"
# A tampered file is not trustworthy: exit 4.
cp "$T/off.repat" "$T/bad.repat"
size=$(wc -c <"$T/off.repat")
printf '\377' | dd of="$T/bad.repat" bs=1 seek=$((size - 40)) conv=notrunc \
    2>/dev/null
"$R" submit --dir "$TH" "$T/bad.repat" >"$T/out" 2>&1
[ $? = 4 ] || { cat "$T/out"; fail "tampered file: exit 4 expected"; }
ok "offline file relayed once; foreign relay refused; tampering exits 4"

# --- operators: listed in agent.conf, checked, carried sealed
cp "$TH/agent.conf" "$T/agent.conf.th"
echo "operators = " >>"$TH/agent.conf"
"$R" send --dir "$TH" --to MM.DSW --type case_referral --case "$CASE" \
    --form "$F/case_referral.json" --operator malee >"$T/out" 2>&1
[ $? = 1 ] && grep -q "operators is empty" "$T/out" ||
	{ cat "$T/out"; fail "an empty operators list is not named"; }
cp "$T/agent.conf.th" "$TH/agent.conf"
echo "operators = somchai, malee" >>"$TH/agent.conf"
"$R" send --dir "$TH" --to MM.DSW --type case_referral --case "$CASE" \
    --form "$F/case_referral.json" >"$T/out" 2>&1 </dev/null
[ $? = 2 ] || fail "send without --operator"
"$R" send --dir "$TH" --to MM.DSW --type case_referral --case "$CASE" \
    --form "$F/case_referral.json" --operator mallory >"$T/out" 2>&1
[ $? = 1 ] || fail "send with an unlisted operator"
REPAT_OPERATOR=malee "$R" send --dir "$TH" --to MM.DSW --type case_referral \
    --case "$CASE" --form "$F/case_referral.json" >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "send with an operator"; }
OPID=$(sed -n 's/^sent .* \([0-9a-f]\{32\}\) to MM.DSW.*/\1/p' "$T/out")
"$R" sync --dir "$MM" >/dev/null 2>&1
"$R" show --dir "$MM" "$OPID" >"$T/show" 2>&1 || fail "show operator message"
grep -q "^operator  *malee" "$T/show" || fail "operator not carried"
ok "operators enforced and carried inside the seal"

# --- case: the timeline, from the recipient's side
"$R" case --dir "$MM" "$CASE" >"$T/case" 2>&1 || { cat "$T/case"; fail "case"; }
grep -q "$ID" "$T/case" || fail "case timeline misses the notice"
grep -q "identification_notice" "$T/case" || fail "case timeline type"
"$R" case --dir "$MM" "$CASE" --json >"$T/case.json" 2>&1 || fail "case --json"
grep -q '"case_ref": "'"$CASE"'"' "$T/case.json" || fail "case --json content"
ok "case timeline"

# --- what is pending on whom: a request without its reply, then answered
"$R" send --dir "$TH" --to MM.DSW --type nationality_verification_request \
    --case "$CASE" --form "$F/nationality_verification_request.json" \
    --operator somchai >"$T/out" 2>&1 || { cat "$T/out"; fail "send nvr"; }
NVR=$(sed -n 's/^sent .* \([0-9a-f]\{32\}\) to MM.DSW.*/\1/p' "$T/out")
"$R" case --dir "$TH" "$CASE" --operator somchai >"$T/case" 2>&1 ||
	fail "case (TH)"
if grep -q "^state: unknown" "$T/case"; then
	grep -q "MM.DSW owes nationality_verification_result" "$T/case" ||
		{ cat "$T/case"; fail "pending request not shown"; }
fi
"$R" sync --dir "$MM" >/dev/null 2>&1
"$R" reply --dir "$MM" "$NVR" --type nationality_verification_result \
    --form "$F/nationality_verification_result.json" >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "reply nvr"; }
"$R" sync --dir "$TH" >/dev/null 2>&1
"$R" case --dir "$TH" "$CASE" --operator somchai >"$T/case" 2>&1 ||
	fail "case (TH) 2"
grep -q "owes nationality_verification_result" "$T/case" &&
	{ cat "$T/case"; fail "answered request still pending"; }
ok "pending requests, then answered"

# --- the sender's verified checkpoint travels in the header and the
# recipient cross-checks it (only once the broker serves audit proofs)
if "$R" proof --dir "$TH" "$ID" >"$T/proof" 2>&1; then
	[ -f "$TH/checkpoint" ] || fail "proof kept no checkpoint"
	"$R" send --dir "$TH" --to MM.DSW --type case_referral --case "$CASE" \
	    --form "$F/case_referral.json" --operator somchai >"$T/out" 2>&1 ||
		{ cat "$T/out"; fail "send with a checkpoint"; }
	CK=$(sed -n 's/^sent .* \([0-9a-f]\{32\}\) to MM.DSW.*/\1/p' "$T/out")
	"$R" sync --dir "$MM" >"$T/sync" 2>&1 || { cat "$T/sync"; fail "cross-check"; }
	grep -q "AUDIT ALARM\|not done" "$T/sync" && { cat "$T/sync"; fail "cross-check failed"; }
	[ -f "$MM/AUDIT-ALARM" ] && fail "alarm raised on an honest broker"
	[ -f "$MM/checkpoint" ] || fail "the recipient has no view after the cross-check"
	"$R" show --dir "$MM" "$CK" --json >"$T/show.json" 2>/dev/null
	grep -q '"sender_checkpoint"' "$T/show.json" || fail "no sender_checkpoint in the header"
	ok "sender checkpoint carried and cross-checked"
else
	echo "skip: the broker does not serve audit proofs yet"
fi
