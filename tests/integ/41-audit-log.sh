#!/bin/sh
# 41-audit-log.sh: the verifiable audit log end to end, on a real broker.
#
#  - the broker signs checkpoints (table and broker.db.checkpoint);
#  - `repat proof` proves a message's acceptance for its sender and its
#    recipient, refuses a stranger, keeps AGENTDIR/checkpoint;
#  - `repat audit verify` passes on the real database; `repat audit export`
#    passes the independent Python verifier (tests/integ/audit_verify.py,
#    with openssl for the signatures);
#  - copies of the database edited with the sqlite3 CLI: a changed byte, a
#    deleted entry, two swapped entries, a truncated log, a forged and a
#    swapped checkpoint, a consistently rehashed entry: each is detected
#    and located by `repat audit verify` (and the Python verifier on an
#    export of the edited copy);
#  - the broker refuses to start with a database behind its checkpoint
#    file (a restored backup) until `repat-broker restore-ack`; an agent
#    that saw the lost history then sees a forked log: `repat proof`
#    exits 4 and AGENTDIR/AUDIT-ALARM stays.
set -u
. "${REPAT_TOP:-.}/tests/integ/lib.sh"
command -v sqlite3 >/dev/null 2>&1 || { echo "skip: no sqlite3 CLI"; exit 0; }
command -v python3 >/dev/null 2>&1 || { echo "skip: no python3"; exit 0; }

PORT=$(free_port)
"$R" region init --out "$T/r" --port "$PORT" >"$T/region.log" 2>&1 ||
	{ cat "$T/region.log"; fail "region init"; }
sed -i 's/^authorization = .*/authorization = open/' "$T/r/broker/broker.conf"
echo "checkpoint_entries = 4" >>"$T/r/broker/broker.conf"
for c in "$T"/r/agents/*/agent.conf; do
	echo "connect_timeout = 2s" >>"$c"
done
TH=$T/r/agents/TH.DATIP
MM=$T/r/agents/MM.DSW
LA=$T/r/agents/LA.MLSW
DB=$T/r/broker/broker.db
CERT=$T/r/broker/sign.crt
F=examples/forms
VERIFY=tests/integ/audit_verify.py

start_broker
for a in "$MM" "$LA" "$TH"; do
	"$R" sync --dir "$a" >"$T/out" 2>&1 || { cat "$T/out"; fail "first sync"; }
done
send() {
	"$R" send --dir "$TH" --to MM.DSW --type identification_notice \
	    --case "$1" --form "$F/identification_notice.json" >"$T/out" 2>&1 ||
		{ cat "$T/out"; fail "send"; }
	sed -n 's/^sent .* \([0-9a-f]\{32\}\) to MM.DSW.*/\1/p' "$T/out"
}
ID1=$(send TH-2026-000101)
ID2=$(send TH-2026-000102)
[ -n "$ID1" ] && [ -n "$ID2" ] || fail "no message ids"

# --- proofs for the sender and the recipient, refused to a stranger
"$R" proof "$ID1" --dir "$TH" >"$T/out" 2>&1 || { cat "$T/out"; fail "proof (sender)"; }
grep -q "accepted as entry" "$T/out" || fail "proof output"
[ -f "$TH/checkpoint" ] || fail "no AGENTDIR/checkpoint kept"
"$R" proof "$ID2" --dir "$TH" --json >"$T/out" 2>&1 || { cat "$T/out"; fail "proof 2"; }
grep -q '"proven":true' "$T/out" || fail "proof --json"
grep -q '"previous_size":[1-9]' "$T/out" || fail "no consistency with the previous checkpoint"
"$R" proof "$ID1" --dir "$MM" >"$T/out" 2>&1 || { cat "$T/out"; fail "proof (recipient)"; }
"$R" proof "$ID1" --dir "$LA" >"$T/out" 2>&1 && fail "a stranger got a proof"
[ -f "$TH/AUDIT-ALARM" ] && fail "alarm raised on a good log"
ok "inclusion and consistency proofs verified by sender and recipient"

# Keep a backup now, for the restore below; then more traffic.
stop_broker
cp "$DB" "$T/backup.db"
start_broker
ID3=$(send TH-2026-000103)
"$R" proof "$ID3" --dir "$TH" >"$T/out" 2>&1 || { cat "$T/out"; fail "proof 3"; }
# The recipient compares the sender's checkpoint with its own view.
"$R" proof --checkpoint "$TH/checkpoint" --dir "$MM" >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "compare the sender's checkpoint"; }
grep -q "is part of the log this agent sees" "$T/out" || fail "compare output"
cp "$TH/checkpoint" "$T/th-lost.note"
[ -f "$MM/AUDIT-ALARM" ] && fail "alarm on a consistent comparison"
ok "a recipient cross-checked the sender's checkpoint"
stop_broker

# --- the real database verifies, its export passes the outside verifier
"$R" audit verify --db "$DB" --broker-cert "$CERT" >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "audit verify on a good log"; }
grep -q ": ok$" "$T/out" || fail "verify output"
N=$(sqlite3 "$DB" "SELECT count(*) FROM audit")
NC=$(sqlite3 "$DB" "SELECT count(*) FROM checkpoints")
[ "$NC" -ge 3 ] || fail "only $NC checkpoints stored"
[ -f "$DB.checkpoint" ] || fail "no checkpoint file next to the database"
"$R" audit verify --db "$DB" --dir "$TH" --json >"$T/out" 2>&1 ||
	fail "audit verify --dir"
grep -q "\"entries\":$N" "$T/out" || fail "verify --json entries"
"$R" audit export --db "$DB" --out "$T/exp" --broker-cert "$CERT" >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "audit export"; }
[ "$(ls "$T/exp/entries" | grep -c '\.bin$')" = "$N" ] || fail "export: entries"
[ -s "$T/exp/README" ] && [ -s "$T/exp/broker.vkey" ] || fail "export: README, vkey"
python3 "$VERIFY" "$T/exp" >"$T/out" 2>&1 || { cat "$T/out"; fail "python verifier"; }
grep -q "^ok: $N entries" "$T/out" || { cat "$T/out"; fail "python verifier output"; }
ok "verify and the independent verifier pass on the real log ($N entries, $NC checkpoints)"

# --- tampering, each on a fresh copy; expect exit EX and entry AT named
# tamper NAME EXIT AT SQL
tamper() {
	cp "$DB" "$T/t.db"
	cp "$DB.checkpoint" "$T/t.db.checkpoint"
	sqlite3 "$T/t.db" "$4" || fail "$1: sqlite3"
	"$R" audit verify --db "$T/t.db" --broker-cert "$CERT" >"$T/out" 2>&1
	rc=$?
	[ $rc = "$2" ] || { cat "$T/out"; fail "$1: exit $rc, want $2"; }
	if [ -n "$3" ]; then
		grep -q "first entry that does not match: $3\$" "$T/out" ||
			{ cat "$T/out"; fail "$1: entry $3 not named"; }
	fi
	rm -rf "$T/texp"
	"$R" audit export --db "$T/t.db" --out "$T/texp" --broker-cert "$CERT" \
	    >/dev/null 2>&1 || fail "$1: export"
	python3 "$VERIFY" "$T/texp" >"$T/pout" 2>&1 &&
		{ cat "$T/pout"; fail "$1: python verifier passed"; }
	ok "$1: detected ($(tail -1 "$T/out" | cut -c1-90))"
}
# one byte of entry 5 flipped (its stored leaf hash no longer matches)
H=$(sqlite3 "$DB" "SELECT hex(entry) FROM audit WHERE idx = 5")
LAST=$(printf '%02X' $((0x$(printf '%s' "$H" | tail -c 2) ^ 1)))
H2=$(printf '%s' "$H" | sed 's/..$//')$LAST
tamper "changed byte" 1 5 "UPDATE audit SET entry = X'$H2' WHERE idx = 5"
tamper "deleted entry" 1 7 "DELETE FROM audit WHERE idx = 7"
tamper "reordered entries" 1 3 "UPDATE audit SET idx = -1 WHERE idx = 3;
    UPDATE audit SET idx = 3 WHERE idx = 4; UPDATE audit SET idx = 4 WHERE idx = -1"
tamper "truncated log" 1 $((N - 3)) "DELETE FROM audit WHERE idx >= $((N - 3))"
tamper "swapped checkpoint" 1 "" "UPDATE checkpoints SET note =
    (SELECT note FROM checkpoints ORDER BY size LIMIT 1)
    WHERE size = (SELECT max(size) FROM checkpoints)"
tamper "forged checkpoint" 4 "" "UPDATE checkpoints SET note =
    CAST(replace(CAST(note AS TEXT), char(10) || '$N' || char(10),
    char(10) || '$((N + 1))' || char(10)) AS BLOB) WHERE size = $N"
# entry 2 changed (an unknown field 99 added, it still decodes) and its
# leaf hash recomputed: only the signed checkpoints can tell
H=$(sqlite3 "$DB" "SELECT hex(entry) FROM audit WHERE idx = 2")980601
LH=$(python3 -c 'import hashlib,sys; print(hashlib.sha256(b"\0" + bytes.fromhex(sys.argv[1])).hexdigest())' "$H")
tamper "rehashed entry" 1 "" "UPDATE audit SET entry = X'$H', leaf_hash = X'$LH' WHERE idx = 2"
grep -q "does not match the entries" "$T/out" || fail "rehashed: not a checkpoint mismatch"

# --- a restored backup: refused at start, accepted by restore-ack
cp "$T/backup.db" "$DB"
rm -f "$DB-wal" "$DB-shm"
"$B/repat-broker" -c "$T/r/broker/broker.conf" >"$T/out" 2>&1 &
BPID=$!
i=0
while kill -0 "$BPID" 2>/dev/null; do
	i=$((i + 1))
	[ $i -le 50 ] || { stop_broker; fail "the broker started behind its checkpoint"; }
	sleep 0.1
done
wait "$BPID"
rc=$?
BPID=
[ $rc != 0 ] || fail "the broker exited 0 behind its checkpoint"
grep -q "restore-ack" "$T/out" || { cat "$T/out"; fail "no restore-ack advice"; }
ok "the broker refuses a database behind its checkpoint file"
"$B/repat-broker" restore-ack -c "$T/r/broker/broker.conf" >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "restore-ack"; }
ls "$DB".checkpoint.superseded-* >/dev/null 2>&1 ||
	fail "restore-ack did not keep the superseded checkpoint"
rm -rf "$T/rexp"
"$R" audit export --db "$DB" --out "$T/rexp" --broker-cert "$CERT" >/dev/null 2>&1 ||
	fail "export after restore-ack"
grep -l '"AUDIT_RESTORED"' "$T/rexp"/entries/*.json >/dev/null 2>&1 ||
	fail "no AUDIT_RESTORED entry"
start_broker
# LA.MLSW never saw the lost history: its view is the restored log. Shown
# TH.DATIP's checkpoint of the lost history (as an envelope header would
# carry it), it finds no consistency proof: the broker forked.
[ -f "$LA/checkpoint" ] && fail "LA.MLSW already has a view"
"$R" proof --checkpoint "$T/th-lost.note" --dir "$LA" >"$T/out" 2>&1
rc=$?
[ $rc = 4 ] || { cat "$T/out"; fail "recipient fork check: exit $rc, want 4"; }
[ -s "$LA/AUDIT-ALARM" ] || fail "no AUDIT-ALARM at the recipient"
[ -f "$LA/checkpoint" ] || fail "LA.MLSW did not keep the broker's checkpoint"
# MM.DSW took in the lost history through its comparison: it sees the
# broker went back.
"$R" proof "$ID1" --dir "$MM" >"$T/out" 2>&1
[ $? = 4 ] || { cat "$T/out"; fail "MM.DSW: rollback not detected"; }
ok "a recipient holding the sender's old checkpoint detects the forked log"
# TH.DATIP saw the lost history: a forked log, loud and persistent
"$R" proof "$ID1" --dir "$TH" >"$T/out" 2>&1
rc=$?
[ $rc = 4 ] || { cat "$T/out"; fail "forked view: exit $rc, want 4"; }
[ -s "$TH/AUDIT-ALARM" ] || fail "no AUDIT-ALARM"
"$R" proof "$ID1" --dir "$TH" >"$T/out" 2>&1
grep -q "AUDIT ALARM" "$T/out" || fail "the alarm is not repeated"
stop_broker
"$R" audit verify --db "$DB" --broker-cert "$CERT" >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "verify after restore"; }
ok "restore acknowledged; an agent that saw the old log raised the alarm"

# --- deleting the checkpoint file is no way around the check
mv "$DB.checkpoint" "$T/saved.checkpoint"
"$B/repat-broker" -c "$T/r/broker/broker.conf" >"$T/out" 2>&1 &
BPID=$!
i=0
while kill -0 "$BPID" 2>/dev/null; do
	i=$((i + 1))
	[ $i -le 50 ] || { stop_broker; fail "the broker started without its checkpoint file"; }
	sleep 0.1
done
wait "$BPID"
rc=$?
BPID=
[ $rc != 0 ] || fail "started without the checkpoint file"
grep -q "is missing" "$T/out" || { cat "$T/out"; fail "no reason given"; }
mv "$T/saved.checkpoint" "$DB.checkpoint"
start_broker
stop_broker
ok "a missing checkpoint file is refused while the database has checkpoints"
