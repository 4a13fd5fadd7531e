#!/bin/sh
# 15-broker-ops.sh: repat-broker's configuration and operator commands.
#
#  - conf errors name the file, line and key; unknown keys are errors;
#  - the broker refuses to start with a key that is not its certificate's,
#    an agent's certificate, a CURVE key not curve.pub's, a curve.key
#    others can read, an endpoint port out of range;
#    clock_offset is refused unless test_mode = yes;
#  - authorization = open and test_mode are logged at start;
#  - `register` imports an agent that never said hello (others can write
#    to it), and refuses while the broker runs (database lock);
#  - a second broker on the same database is refused;
#  - `status --json` and `check`; `check` names a tampered audit entry;
#  - SIGTERM exits 0; a restored old database is refused (behind its
#    signed checkpoint) until `restore-ack`, which refuses a database that
#    was never restored.
set -u
. "${REPAT_TOP:-.}/tests/integ/lib.sh"

PORT=$(free_port)
"$R" region init --out "$T/r" --port "$PORT" >"$T/region.log" 2>&1 ||
	{ cat "$T/region.log"; fail "region init"; }
BC=$T/r/broker/broker.conf
cp "$BC" "$T/broker.conf.orig"

# --- configuration errors
echo "max_frme = 1000" >>"$BC"
"$B/repat-broker" check -c "$BC" >"$T/out" 2>&1 && fail "unknown key accepted"
grep -q "broker.conf:[0-9]*: max_frme: unknown key" "$T/out" ||
	{ cat "$T/out"; fail "unknown key: no file:line: key"; }
cp "$T/broker.conf.orig" "$BC"
echo "delivery_limit = lots" >>"$BC"
"$B/repat-broker" check -c "$BC" >"$T/out" 2>&1 && fail "bad number accepted"
grep -q "broker.conf:[0-9]*: delivery_limit" "$T/out" ||
	{ cat "$T/out"; fail "bad number: no file:line: key"; }
cp "$T/broker.conf.orig" "$BC"
echo "clock_offset = 2d" >>"$BC"
"$B/repat-broker" -c "$BC" >"$T/out" 2>&1 && fail "clock_offset without test_mode"
grep -q "clock_offset: refused unless test_mode = yes" "$T/out" ||
	{ cat "$T/out"; fail "clock_offset refusal not said"; }
ok "conf errors name file, line and key"

# --- the broker's own files must belong together, or it does not start
# (with another key than its certificate's, every receipt failed its
# senders' check and they saw only a broker that never answered).
cp "$T/broker.conf.orig" "$BC"
BD=$T/r/broker
AG=$T/r/agents/$(ls "$T/r/agents" | head -1)
refused() {	# refused WHAT PATTERN: the broker exits at once, saying so
	timeout 20 "$B/repat-broker" -c "$BC" >"$T/out" 2>&1
	_rc=$?
	[ $_rc -ne 0 ] && [ $_rc -ne 124 ] ||
		{ cat "$T/out"; fail "$1: the broker started (exit $_rc)"; }
	grep -q "$2" "$T/out" || { cat "$T/out"; fail "$1: not said"; }
}
swap() {	# swap FILE FROM: FILE replaced by FROM until restore
	cp -p "$BD/$1" "$T/$1.keep" && cp -p "$2" "$BD/$1"
}
restore() { cp -p "$T/$1.keep" "$BD/$1"; }
swap sign.key "$AG/sign.key"
refused "another sign.key" "sign.crt is not the certificate of the key in"
restore sign.key
swap sign.crt "$AG/sign.crt"
refused "another sign.crt" "sign.crt is not the certificate of the key in"
swap sign.key "$AG/sign.key"
refused "an agent's pair" "not as a broker"
restore sign.key
restore sign.crt
swap curve.key "$AG/curve.key"
refused "another curve.key" "curve.pub is not the public key of"
restore curve.key
chmod 644 "$BD/curve.key"
refused "curve.key mode 644" "curve.key can be read by group or others"
chmod 600 "$BD/curve.key"
sed -i 's|^endpoint = .*|endpoint = tcp://127.0.0.1:99999|' "$BC"
refused "port 99999" "the port is not a number from 1 to 65535"
cp "$T/broker.conf.orig" "$BC"
ok "the broker refuses another key, certificate or CURVE key, an agent's pair, a readable curve.key, a port out of range"

cp "$T/broker.conf.orig" "$BC"
sed -i 's/^authorization = .*/authorization = open/' "$BC"
printf 'test_mode = yes\nclock_offset = 1s\n' >>"$BC"

# --- register an agent that never said hello, then write to it
"$B/repat-broker" register -c "$BC" "$T/r/agents/MM.DNR" >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "register"; }
grep -q "registered MM.DNR" "$T/out" || fail "register output"
start_broker
grep -q "authorization = open" "$T/broker.log" || fail "open not logged"
grep -q "test_mode = yes" "$T/broker.log" || fail "test_mode not logged"
"$B/repat-broker" register -c "$BC" "$T/r/agents/MM.DSW" >"$T/out" 2>&1 &&
	fail "register while the broker runs"
grep -q "another repat-broker holds this database" "$T/out" ||
	{ cat "$T/out"; fail "lock not said"; }
"$B/repat-broker" -c "$BC" >"$T/out2" 2>&1 && fail "second broker started"
ok "register imports agents; one broker per database"

TH=$T/r/agents/TH.DATIP
"$R" send --dir "$TH" --to MM.DNR --type case_referral --case TH-2026-000001 \
    --form examples/forms/case_referral.json >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "send to a registered, never-connected agent"; }
"$B/repat-broker" status -c "$BC" --json >"$T/status.json" 2>&1 ||
	{ cat "$T/status.json"; fail "status --json"; }
grep -q '"agent": "MM.DNR"' "$T/status.json" || fail "status: MM.DNR"
grep -q '"queued": 1' "$T/status.json" || { cat "$T/status.json"; fail "status: queued"; }
ok "status shows the queue of an offline agent"

stop_broker || fail "SIGTERM: exit status $?"
ok "SIGTERM exits 0"

# --- a restored old database is refused until the operator says so
DB=$T/r/broker/broker.db
[ -f "$DB.checkpoint" ] || fail "no signed checkpoint next to the database"
# nothing restored: nothing to acknowledge, and no AUDIT_RESTORED written
"$B/repat-broker" restore-ack -c "$BC" >"$T/out" 2>&1 &&
	{ cat "$T/out"; fail "restore-ack of a database never restored"; }
grep -q "nothing to acknowledge" "$T/out" || { cat "$T/out"; fail "no reason"; }
[ "$(ls "$DB".checkpoint.superseded-* 2>/dev/null | wc -l)" = 0 ] ||
	fail "restore-ack of a database never restored superseded the checkpoint"
sqlite3 "$DB" ".backup '$T/old.db'" || fail "backup"
start_broker
"$R" send --dir "$TH" --to MM.DNR --type case_referral --case TH-2026-000002 \
    --form examples/forms/case_referral.json >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "second send"; }
stop_broker || fail "SIGTERM"
cp "$T/old.db" "$DB" && rm -f "$DB-wal" "$DB-shm"
"$B/repat-broker" -c "$BC" >"$T/out" 2>&1 && fail "started behind its checkpoint"
grep -q "behind the signed checkpoint" "$T/out" || { cat "$T/out"; fail "no reason"; }
"$B/repat-broker" restore-ack -c "$BC" >"$T/out" 2>&1 || { cat "$T/out"; fail "restore-ack"; }
start_broker
stop_broker || fail "SIGTERM after restore-ack"
ok "a database behind its signed checkpoint is refused until restore-ack"
"$B/repat-broker" check -c "$BC" >"$T/out" 2>&1 || { cat "$T/out"; fail "check"; }
sqlite3 "$DB" "UPDATE audit SET entry = x'0801' || entry WHERE idx = 2" ||
	fail "tamper"
"$B/repat-broker" check -c "$BC" >"$T/out" 2>&1 && fail "tampered audit passed"
grep -q "entry 2 does not match" "$T/out" || { cat "$T/out"; fail "check does not name entry 2"; }
ok "check names a tampered audit entry"
