#!/bin/sh
# 53-db-locked.sh: another program holds the broker's database locked past
# SQLite's busy timeout (5 s), so the broker cannot even begin a
# transaction for a group. Each submit of that group must be answered
# REJECT_INTERNAL, not dropped unanswered, and so is a hello; once the
# lock is gone new
# messages are receipted, every receipted message is delivered exactly
# once, and `repat-broker check` passes.
set -u
. "${REPAT_TOP:-.}/tests/integ/lib.sh"
command -v sqlite3 >/dev/null 2>&1 || { echo "skip: no sqlite3 CLI"; exit 0; }

make_region
sed -i 's/^authorization = .*/authorization = open/' "$BC"
DB=$T/r/broker/broker.db
start_broker
"$B/repat-bench" fill --region "$T/r" --to MM.DSW --drain >/dev/null ||
	fail "the recipient could not say hello"

# submits one at a time, waiting up to 30 s for each answer, until refused.
# The client library sends an unanswered submit again after a third of
# that (10 s): past the broker's 5 s busy timeout, so the refusal comes
# first. With 15 s the copy sent again at 5 s could be accepted once the
# lock went, after the client had taken the refusal as its answer: one
# message more delivered than receipted (seen under load).
"$B/repat-bench" fill --region "$T/r" --count 20000 --timeout 30 \
    >"$T/out" 2>&1 &
FILL=$!
at_exit "kill $FILL 2>/dev/null"
sleep 1
# Another agent says hello while the lock is held: its group cannot begin
# either, and the hello is answered, not left to time out as
# "unreachable". The lock outlasts several busy timeouts of 5 s: the
# fill's group, the fill's bye, timer rounds in between, the hello's.
DNR=$T/r/agents/MM.DNR
sed -i 's/^connect_timeout = .*/connect_timeout = 60s/' "$DNR/agent.conf"
(	# once the first group could not begin: the lock is surely held
	i=0
	while ! grep -q "database is locked" "$T/broker.log" && [ $i -lt 300 ]
	do sleep 0.1; i=$((i + 1)); done
	"$R" sync --dir "$DNR" >"$T/sync" 2>&1; echo $? >"$T/sync.rc"
) &
SYNC=$!
# a write lock held for 40 s by the sqlite3 CLI (which waits its turn)
(echo ".timeout 10000"; echo "BEGIN IMMEDIATE;"; sleep 40; echo "ROLLBACK;") |
    sqlite3 -bail "$DB" || fail "the sqlite3 CLI could not take the lock"
wait "$FILL"
rc=$?
wait "$SYNC"
[ "$(cat "$T/sync.rc")" = 3 ] &&
    grep -q "could not admit this agent for now (REJECT_INTERNAL)" "$T/sync" ||
	{ cat "$T/sync"; fail "a hello the broker could not record: not said"; }
ok "a hello during the lock is answered: $(grep -o 'could not admit[^:]*' "$T/sync")"
cat "$T/out"
kill -0 "$BPID" 2>/dev/null || fail "the broker died on a locked database"
[ "$rc" = 3 ] && grep -q "refused REJECT_INTERNAL" "$T/out" ||
	fail "a group that cannot begin must be refused REJECT_INTERNAL (exit $rc)"
grep -q "cannot begin a transaction, [0-9]* frames refused" \
    "$T/broker.log" || fail "the broker did not log the refused group"
before=$(sed -n 's/^receipted \([0-9]*\).*/\1/p' "$T/out")
[ "$before" -gt 0 ] || fail "nothing was receipted before the lock"
ok "refused with REJECT_INTERNAL after $before receipted messages"

"$B/repat-bench" fill --region "$T/r" --count 5 >"$T/out2" 2>&1 ||
	{ cat "$T/out2"; fail "no recovery after the lock"; }
ok "5 new messages receipted after the lock was released"
"$B/repat-bench" fill --region "$T/r" --to MM.DSW --drain >"$T/out3" 2>&1
got=$(sed -n 's/^delivered \([0-9]*\)$/\1/p' "$T/out3")
[ "$got" = $((before + 5)) ] ||
	fail "delivered $got, receipted $((before + 5))"
ok "every receipted message delivered once ($got)"

stop_broker
"$B/repat-broker" check -c "$BC" >"$T/check" 2>&1 ||
	{ cat "$T/check"; fail "repat-broker check"; }
ok "repat-broker check passes"
