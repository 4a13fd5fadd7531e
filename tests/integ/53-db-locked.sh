#!/bin/sh
# 53-db-locked.sh: another program holds the broker's database locked past
# SQLite's busy timeout (5 s), so the broker cannot even begin a
# transaction for a group. Each submit of that group must be answered
# REJECT_INTERNAL, not dropped unanswered; once the lock is gone new
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
# a write lock held for 8 s by the sqlite3 CLI (which waits its turn)
(echo ".timeout 10000"; echo "BEGIN IMMEDIATE;"; sleep 8; echo "ROLLBACK;") |
    sqlite3 -bail "$DB" || fail "the sqlite3 CLI could not take the lock"
wait "$FILL"
rc=$?
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
