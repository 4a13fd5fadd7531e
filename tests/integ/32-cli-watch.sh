#!/bin/sh
# 32-cli-watch.sh: `repat watch` against a real repat-broker.
#
#  - --exec with a failing command: the message is not acked and is
#    delivered again; a succeeding command then gets the form JSON on
#    stdin and the header in REPAT_* variables, and the message is acked
#    (a third run has nothing to do);
#  - a running watch prints deliveries as they come and stops on SIGTERM;
#  - the broker going away and coming back: watch reconnects by itself.
set -u
. "${REPAT_TOP:-.}/tests/integ/lib.sh"
WPID=
at_exit '[ -n "$WPID" ] && kill "$WPID" 2>/dev/null'

PORT=$(free_port)
"$R" region init --out "$T/r" --port "$PORT" >"$T/region.log" 2>&1 ||
	{ cat "$T/region.log"; fail "region init"; }
sed -i 's/^authorization = .*/authorization = open/' "$T/r/broker/broker.conf"
for c in "$T"/r/agents/*/agent.conf; do
	echo "connect_timeout = 2s" >>"$c"
done
TH=$T/r/agents/TH.DATIP
MM=$T/r/agents/MM.DSW
F=examples/forms
CASE=TH-2026-000777

start_broker
"$R" sync --dir "$MM" >/dev/null 2>&1 || fail "MM first sync"
"$R" send --dir "$TH" --to MM.DSW --type identification_notice \
    --case "$CASE" --form "$F/identification_notice.json" >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "send"; }
ID=$(sed -n 's/^sent .* \([0-9a-f]\{32\}\) to MM.DSW.*/\1/p' "$T/out")
[ -n "$ID" ] || fail "no id"

# --- a failing command: not acked
"$R" watch --dir "$MM" --once --exec "cat >'$T/first.json'; exit 7" \
    >"$T/w1" 2>&1
rc=$?
[ $rc = 1 ] || { cat "$T/w1"; fail "failing --exec: exit $rc, expected 1"; }
grep -q '"presumed_nationality": "MM"' "$T/first.json" ||
	fail "the failing command did not get the form"
grep -q "not acknowledged, it will be delivered again" "$T/w1" ||
	fail "no 'delivered again' sentence"
ok "failing --exec: not acked"

# --- delivered again; a succeeding command acks it
"$R" watch --dir "$MM" --once --exec "cat >'$T/second.json'; env >'$T/env'" \
    >"$T/w2" 2>&1 || { cat "$T/w2"; fail "succeeding --exec"; }
grep -q '"presumed_nationality": "MM"' "$T/second.json" ||
	fail "not delivered again"
grep -q "^REPAT_MESSAGE_ID=$ID\$" "$T/env" || fail "REPAT_MESSAGE_ID"
grep -q "^REPAT_TYPE=identification_notice\$" "$T/env" || fail "REPAT_TYPE"
grep -q "^REPAT_CASE=$CASE\$" "$T/env" || fail "REPAT_CASE"
grep -q "^REPAT_SENDER=TH.DATIP\$" "$T/env" || fail "REPAT_SENDER"
grep -q "^REPAT_HEADER_JSON=" "$T/env" || fail "REPAT_HEADER_JSON"
"$R" inbox --dir "$MM" --all --json >"$T/inbox.json"
[ "$(grep -c "\"$ID\"" "$T/inbox.json")" = 1 ] || fail "stored more than once"
# Acked: a third run gets nothing and runs nothing.
"$R" watch --dir "$MM" --once --exec "touch '$T/third'" >"$T/w3" 2>&1 ||
	{ cat "$T/w3"; fail "third watch"; }
[ -f "$T/third" ] && fail "the acked message was delivered again"
"$R" sync --dir "$TH" >/dev/null 2>&1
"$R" inbox --dir "$TH" --json | grep -q '"status": "delivered"' ||
	fail "sender not told delivered"
ok "delivered again, then acked once"

# --- a running watch prints events; reconnects; stops on SIGTERM
"$R" watch --dir "$MM" --retry-seconds 1 >"$T/wlog" 2>"$T/werr" &
WPID=$!
sleep 1
"$R" send --dir "$TH" --to MM.DSW --type case_referral --case "$CASE" \
    --form "$F/case_referral.json" >"$T/out" 2>&1 || fail "send 2"
ID2=$(sed -n 's/^sent .* \([0-9a-f]\{32\}\) to MM.DSW.*/\1/p' "$T/out")
wait_for "$T/wlog" "deliver .*$ID2" || { cat "$T/wlog" "$T/werr"; fail "watch did not print"; }
stop_broker
start_broker
"$R" send --dir "$TH" --to MM.DSW --type case_referral --case "$CASE" \
    --form "$F/case_referral.json" >"$T/out" 2>&1 || fail "send 3"
ID3=$(sed -n 's/^sent .* \([0-9a-f]\{32\}\) to MM.DSW.*/\1/p' "$T/out")
wait_for "$T/wlog" "deliver .*$ID3" ||
	{ cat "$T/wlog" "$T/werr"; fail "watch did not reconnect"; }
kill -TERM "$WPID"
wait "$WPID"
rc=$?
WPID=
[ $rc = 0 ] || fail "watch exit $rc on SIGTERM"
ok "watch prints, reconnects, stops on SIGTERM"

# --- stored but not acked (a crash between COMMIT and ack looks the same):
# the redelivery is recognised and stored once.
"$R" send --dir "$TH" --to MM.DSW --type case_referral --case "$CASE" \
    --form "$F/case_referral.json" >"$T/out" 2>&1 || fail "send 4"
ID4=$(sed -n 's/^sent .* \([0-9a-f]\{32\}\) to MM.DSW.*/\1/p' "$T/out")
"$R" watch --dir "$MM" --once --json --exec "exit 1" >"$T/w4" 2>&1
[ $? = 1 ] || fail "watch --exec 'exit 1' should exit 1"
grep -q '"event":"deliver"' "$T/w4" || fail "watch --json: no deliver event"
grep -q "\"message_id\":\"$ID4\"" "$T/w4" || fail "watch --json: no header"
"$R" sync --dir "$MM" --json >"$T/sync.json" 2>&1 || fail "sync after hold"
grep -q '"received":0' "$T/sync.json" && grep -q '"duplicates":1' \
    "$T/sync.json" || { cat "$T/sync.json"; fail "redelivery not deduplicated"; }
"$R" inbox --dir "$MM" --all --json >"$T/inbox.json"
[ "$(grep -c "\"$ID4\"" "$T/inbox.json")" = 1 ] || fail "ID4 not once"
"$R" sync --dir "$MM" --json >"$T/sync.json" 2>&1 || fail "sync 3"
grep -q '"duplicates":0' "$T/sync.json" || fail "acked redelivery came again"
ok "a stored, unacked message is redelivered and kept once"

# --- one agent, one connection: while a watch runs, send hands its
# message to the watch instead of taking the session over, sync waits for
# it, and a second watch is refused; the watch keeps receiving.
"$R" watch --dir "$MM" >"$T/wlog2" 2>"$T/werr2" &
WPID=$!
wait_for "$T/werr2" "connected as MM.DSW" || { cat "$T/werr2"; fail "watch 2 did not connect"; }
"$R" send --dir "$MM" --to TH.DATIP --type case_referral --case "$CASE" \
    --form "$F/case_referral.json" >"$T/out" 2>"$T/err" ||
	{ cat "$T/out" "$T/err"; fail "send while watch runs"; }
grep -q "a \`repat watch\` is running for this agent" "$T/err" ||
	fail "send did not hand over to the watch"
grep -q "^sent .* to TH.DATIP, case $CASE: receipted" "$T/out" ||
	fail "handed-over send not receipted"
"$R" sync --dir "$MM" >"$T/out" 2>&1 || { cat "$T/out"; fail "sync while watch runs"; }
grep -q "is running for this agent" "$T/out" || fail "sync: watch not said"
"$R" watch --dir "$MM" --once >"$T/out" 2>&1
[ $? = 1 ] || fail "a second watch was not refused"
"$R" send --dir "$TH" --to MM.DSW --type case_referral --case "$CASE" \
    --form "$F/case_referral.json" >"$T/out" 2>&1 || fail "send 5"
ID5=$(sed -n 's/^sent .* \([0-9a-f]\{32\}\) to MM.DSW.*/\1/p' "$T/out")
wait_for "$T/wlog2" "deliver .*$ID5" ||
	{ cat "$T/wlog2" "$T/werr2"; fail "the watch stopped receiving"; }
kill -TERM "$WPID"
wait "$WPID"
WPID=
ok "one connection per agent: send and sync defer to a running watch"

# --- a hung command is stopped after --exec-timeout and not acked
"$R" send --dir "$TH" --to MM.DSW --type case_referral --case "$CASE" \
    --form "$F/case_referral.json" >"$T/out" 2>&1 || fail "send 6"
t0=$(date +%s)
"$R" watch --dir "$MM" --once --exec-timeout 1 --exec "sleep 60" \
    >"$T/w6" 2>&1
rc=$?
t1=$(date +%s)
[ $rc = 1 ] || { cat "$T/w6"; fail "hung command: exit $rc, expected 1"; }
[ $((t1 - t0)) -le 15 ] || fail "the hung command was not stopped in time"
grep -q "took longer than --exec-timeout" "$T/w6" || { cat "$T/w6"; fail "timeout not said"; }
"$R" watch --dir "$MM" --once --exec "cat >/dev/null" >"$T/w7" 2>&1 ||
	{ cat "$T/w7"; fail "after the timeout"; }
grep -q "deliver " "$T/w7" || fail "not delivered again after the timeout"
ok "a hung command is stopped and its message delivered again"
