#!/bin/sh
# 52-corrupt-db.sh: a damaged broker database is detected, never silently
# served (issue 9, hostile storage). From one database holding 20 accepted
# messages, three damaged copies:
#
#   truncated  the file cut to 60%: the broker refuses to start, and
#              `repat-broker check` says what is wrong;
#   page       one bit of a b-tree page header of the messages table
#              flipped: `check` reports it; a broker started on it must
#              not accept (receipt) a message it cannot store properly;
#   audit      one bit flipped inside an audit entry's bytes (a page that
#              stays well-formed): only the audit recomputation can see
#              it, and `check` names the entry.
#
# Then rows edited by hand with SQL (every page well-formed, the audit log
# untouched), each named by `check` (broker/check.c):
#
#   envelope   one byte of a stored envelope changed;
#   deleted    a message row deleted;
#   added      a copy of a message row slipped in under a new id;
#   dropped    the envelope of a message still waiting for delivery set
#              to NULL, as if purged early;
#   sender     a message's sender rewritten;
#   delivered  a message marked delivered that its recipient never
#              acknowledged;
#   unaudited  a message marked delivered and acknowledged, its payload
#              then removed with no AUDIT_PURGED entry.
set -u
. "${REPAT_TOP:-.}/tests/integ/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 is needed to damage the file"; exit 0; }

make_region
DB=$T/r/broker/broker.db
sed -i 's/^authorization = .*/authorization = open/' "$BC"
try_start_broker || fail "the broker did not start on a new database"
"$B/repat-bench" fill --region "$T/r" --to MM.DSW --drain >/dev/null ||
	fail "hello"
"$B/repat-bench" fill --region "$T/r" --count 20 >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "20 messages"; }
stop_broker
rm -f "$DB-wal" "$DB-shm"
"$B/repat-broker" check -c "$BC" >"$T/check" 2>&1 ||
	{ cat "$T/check"; fail "check of the undamaged database"; }
cp "$DB" "$T/good.db"
ok "a good database of 20 messages, check passes"

restore() {
	rm -f "$DB" "$DB-wal" "$DB-shm" "$DB.lock"
	cp "$T/good.db" "$DB"
}

# --- truncated
restore
size=$(wc -c <"$DB")
python3 -c "import os; os.truncate('$DB', ($size * 6 // 10) // 4096 * 4096)"
if "$B/repat-broker" check -c "$BC" >"$T/check" 2>&1; then
	fail "check passed a truncated database"
fi
cat "$T/check"
grep -qi "malformed\|corrupt\|integrity\|truncat" "$T/check" ||
	fail "check's message does not say what is wrong"
ok "check reports the truncated database"
if try_start_broker; then
	stop_broker
	fail "the broker started on a truncated database"
else
	grep -qi "malformed\|corrupt\|integrity\|truncat\|database" \
	    "$T/broker.log" || fail "the refusal does not say why: $(cat "$T/broker.log")"
	ok "the broker refuses to start: $(tail -1 "$T/broker.log")"
fi

# --- a flipped bit in a b-tree page header of the messages table
restore
python3 - "$DB" <<'PY' || fail "could not damage the page"
import sqlite3, sys
p = sys.argv[1]
c = sqlite3.connect("file:%s?mode=ro" % p, uri=True)
root = c.execute("SELECT rootpage FROM sqlite_master WHERE name = 'messages'").fetchone()[0]
ps = c.execute("PRAGMA page_size").fetchone()[0]
c.close()
off = (root - 1) * ps + (100 if root == 1 else 0)
with open(p, "r+b") as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0x40]))
PY
if "$B/repat-broker" check -c "$BC" >"$T/check" 2>&1; then
	fail "check passed a database with a damaged page"
fi
cat "$T/check"
ok "check reports the damaged page"
if try_start_broker; then
	stop_broker
	fail "the broker started on a damaged page"
else
	ok "the broker refuses to start: $(tail -1 "$T/broker.log")"
fi

# --- a flipped bit inside one audit entry (the page stays well-formed)
restore
python3 - "$DB" <<'PY' || fail "could not damage the entry"
import sqlite3, sys
p = sys.argv[1]
c = sqlite3.connect("file:%s?mode=ro" % p, uri=True)
idx, e = c.execute("SELECT idx, entry FROM audit ORDER BY idx LIMIT 1 OFFSET 5").fetchone()
c.close()
data = open(p, "rb").read()
at = data.find(bytes(e))
assert at >= 0 and data.find(bytes(e), at + 1) < 0, "entry not unique"
off = at + len(e) // 2
with open(p, "r+b") as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0x01]))
print("flipped a bit of audit entry", idx)
PY
if "$B/repat-broker" check -c "$BC" >"$T/check" 2>&1; then
	fail "check passed a database with a tampered audit entry"
fi
cat "$T/check"
grep -qi "entry\|audit" "$T/check" || fail "check does not name the audit entry"
ok "check names the tampered audit entry"

# --- rows edited by hand: each must fail `check`, naming what is wrong.
# sql_damage NAME SQL PATTERN: applies SQL to a good copy, expects check
# to fail with PATTERN (case-insensitive) in its message.
sql_damage() {
	restore
	python3 - "$DB" "$2" <<'PY' || fail "$1: could not edit the rows"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript(sys.argv[2])
c.commit()
c.close()
PY
	if "$B/repat-broker" check -c "$BC" >"$T/check" 2>&1; then
		cat "$T/check"
		fail "$1: check passed"
	fi
	grep -qi "$3" "$T/check" ||
		fail "$1: check does not say '$3': $(cat "$T/check")"
	ok "$1: $(grep 'repat-broker check' "$T/check" | sed 's/.*broker.db: //')"
}
sql_damage envelope "UPDATE messages SET envelope =
    substr(envelope, 1, 100) || X'00' || substr(envelope, 102)
    WHERE rowid = (SELECT min(rowid) FROM messages);" "envelope was altered"
sql_damage deleted "DELETE FROM messages
    WHERE rowid = (SELECT max(rowid) FROM messages);" "is not stored"
sql_damage added "CREATE TEMP TABLE t AS SELECT * FROM messages LIMIT 1;
    UPDATE t SET id = randomblob(16);
    INSERT INTO messages SELECT * FROM t;" "rows were added"
sql_damage dropped "UPDATE messages SET envelope = NULL
    WHERE rowid = (SELECT min(rowid) FROM messages);" "envelope is gone"
sql_damage sender "UPDATE messages SET sender = 'TH.NOBODY'
    WHERE rowid = (SELECT min(rowid) FROM messages);" "sender, recipient or type"
sql_damage delivered "UPDATE queue SET state = 1 WHERE kind = 0
    AND seq = (SELECT max(seq) FROM queue WHERE kind = 0);" "marked delivered"
sql_damage unaudited "UPDATE queue SET state = 1 WHERE recipient = 'MM.DSW'
    AND seq = 1;
    UPDATE agents SET acked_seq = 1 WHERE id = 'MM.DSW';
    UPDATE messages SET envelope = NULL WHERE id = (SELECT message_id
    FROM queue WHERE recipient = 'MM.DSW' AND seq = 1);
    DELETE FROM held WHERE message_id = (SELECT message_id FROM queue
    WHERE recipient = 'MM.DSW' AND seq = 1);" "records no purge"
