#!/bin/sh
# 19-broker-purge-backlog.sh: the retention sweep reaches every payload
# past its own agreement's retention, whatever is held before it
# (docs/decisions/0005-purge-by-agreement.md).
#
#  - TH-KH re-signed with "retention_days": 1; TH-MM keeps 3650 days;
#  - accepted in this order: 300 messages MM.DSW -> TH.DATIP (TH-MM,
#    delivered), 1100 TH.DATIP -> KH.MOSVY (TH-KH, never delivered: more
#    rows than one sweep looks at), 50 KH.MOSVY -> TH.DATIP (TH-KH,
#    delivered);
#  - the test clock moves 2 days ahead: the 50 are purged within seconds,
#    the 300 and the 1100 are kept. The sweep of schema 8 took the 256
#    oldest payloads past the shortest retention, all TH-MM's, skipped
#    them every minute and never purged anything;
#  - TH-MM re-signed with "retention_days": 1, then SIGHUP: the 300 go
#    too, without a restart;
#  - the database as it was before the clock moved, turned back into
#    schema 8 (no held table, indexes messages_held and queue_pending):
#    after the migrations (9, 10) the same 50 are purged, the 300 filed
#    under TH-MM's agreement and the 1100 still kept;
#  - repat-broker check and the audit log pass after each step.
set -u
. "${REPAT_TOP:-.}/tests/integ/lib.sh"
command -v sqlite3 >/dev/null 2>&1 || { echo "skip: no sqlite3 CLI"; exit 0; }

make_region
TH=$T/r/agents/TH.DATIP
KH=$T/r/agents/KH.MOSVY
MM=$T/r/agents/MM.DSW
AG=$T/r/broker/agreements
DB=$T/r/broker/broker.db

# resign FILE DAYS AGENTDIR...: the example agreement with retention_days
# DAYS, signed again by the parties' focal points.
resign() {
	_f=$1
	_d=$2
	shift 2
	rm -f "$AG/$_f"*
	sed "s/\"retention_days\": 3650/\"retention_days\": $_d/" \
	    "examples/agreements/$_f" >"$AG/$_f"
	grep -q "\"retention_days\": $_d," "$AG/$_f" || fail "edit $_f"
	for _a in "$@"; do
		"$R" agreement sign "$AG/$_f" --dir "$_a" >/dev/null ||
			fail "sign $_f as $_a"
	done
}
fill() {
	"$B/repat-bench" fill --region "$T/r" "$@" >"$T/fill" 2>&1 ||
		{ cat "$T/fill"; fail "repat-bench fill $*"; }
}
# held WHERE: payloads still held among the messages WHERE selects.
held() {
	sqlite3 "$DB" "SELECT count(*) FROM messages WHERE envelope IS NOT NULL
	    AND $1" 2>/dev/null
}
LONG="sender = 'MM.DSW'"
PENDING="sender = 'TH.DATIP'"
SHORT="sender = 'KH.MOSVY'"
# wait_held WHERE N: until N payloads of WHERE are held (15 s).
wait_held() {
	_i=0
	until [ "$(held "$1")" = "$2" ]; do
		_i=$((_i + 1))
		[ $_i -le 150 ] || return 1
		kill -0 "$BPID" 2>/dev/null || fail "the broker exited"
		sleep 0.1
	done
}
# expect LONG PENDING SHORT: what must be held now.
expect() {
	[ "$(held "$LONG")" = "$1" ] ||
		fail "TH-MM: $(held "$LONG") payloads held, not $1"
	[ "$(held "$PENDING")" = "$2" ] ||
		fail "undelivered TH-KH: $(held "$PENDING") held, not $2"
	[ "$(held "$SHORT")" = "$3" ] ||
		fail "delivered TH-KH: $(held "$SHORT") held, not $3"
}
# audited [N]: the broker's check and the audit log verify; with N, the
# log holds N purges (an export is slow: once).
audited() {
	"$B/repat-broker" check -c "$BC" >"$T/check" 2>&1 ||
		{ cat "$T/check"; fail "repat-broker check"; }
	"$R" audit verify --db "$DB" --broker-cert "$T/r/broker/sign.crt" \
	    >"$T/verify" 2>&1 || { cat "$T/verify"; fail "audit verify"; }
	[ $# = 0 ] && return
	rm -rf "$T/export"
	"$R" audit export --db "$DB" --broker-cert "$T/r/broker/sign.crt" \
	    --out "$T/export" >/dev/null 2>&1 || fail "audit export"
	_n=$(grep -l '"kind": *"purged"\|"kind":"purged"\|AUDIT_PURGED' \
	    "$T/export"/entries/*.json 2>/dev/null | wc -l)
	[ "$_n" -eq "$1" ] || fail "$_n purge entries in the audit log, not $1"
}

resign th-kh-2003.json 1 "$TH" "$KH"
start_broker
for a in "$TH" "$KH"; do
	"$R" sync --dir "$a" >/dev/null 2>&1 || fail "first sync $a"
done
fill --from MM.DSW --to TH.DATIP --count 300
fill --from TH.DATIP --to KH.MOSVY --count 1100
fill --from KH.MOSVY --to TH.DATIP --count 50
fill --to TH.DATIP --drain
grep -q "^delivered 350$" "$T/fill" || { cat "$T/fill"; fail "drain"; }
stop_broker || fail "SIGTERM"
expect 300 1100 50
mkdir "$T/before"
cp "$DB" "$DB.checkpoint" "$T/before/" || fail "copy the database"
ok "300 TH-MM, 1100 undelivered and then 50 delivered TH-KH payloads held"

printf 'test_mode = yes\nclock_offset = 2d\n' >>"$BC"
start_broker
wait_held "$SHORT" 0 ||
	fail "the 50 delivered TH-KH payloads were not purged (starved)"
stop_broker || fail "SIGTERM after the purge"
expect 300 1100 0
audited 50
ok "past TH-KH's retention only: its 50 delivered payloads purged at once"

start_broker
resign th-mm-2019.json 1 "$TH" "$MM"
kill -HUP "$BPID"
wait_held "$LONG" 0 || fail "TH-MM's shorter retention was not applied"
stop_broker || fail "SIGTERM after SIGHUP"
expect 0 1100 0
audited
ok "a retention shortened by SIGHUP applies to the payloads already held"

# The same payloads, from a database of schema 8.
resign th-mm-2019.json 3650 "$TH" "$MM"
cp "$T/before/broker.db" "$T/before/broker.db.checkpoint" "$T/r/broker/"
rm -f "$DB-wal" "$DB-shm"
sqlite3 "$DB" "DROP TABLE held; CREATE INDEX messages_held ON
    messages(accepted_ms) WHERE envelope IS NOT NULL;
    CREATE INDEX queue_pending ON queue(recipient, state);
    PRAGMA user_version = 8;" || fail "back to schema 8"
start_broker
wait_held "$SHORT" 0 || fail "after the migration: TH-KH not purged"
wait_log "filed 300 payloads\|filed [0-9]* payloads"
stop_broker || fail "SIGTERM after the migration"
expect 300 1100 0
[ "$(sqlite3 "$DB" "SELECT count(*) FROM held
    WHERE agreement = 'TH-MM-MOU-2019'")" = 300 ] ||
	fail "the TH-MM payloads were not filed under their agreement"
[ "$(sqlite3 "$DB" "PRAGMA user_version")" = 10 ] || fail "not migrated"
[ "$(sqlite3 "$DB" "SELECT count(*) FROM sqlite_master
    WHERE name = 'queue_pending'")" = 0 ] || fail "queue_pending left (10)"
audited
ok "from schema 8: TH-KH purged, TH-MM filed, undelivered kept"
