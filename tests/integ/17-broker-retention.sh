#!/bin/sh
# 17-broker-retention.sh: delivered payloads are purged after the retention
# period of their case's agreement, and the audit log records each purge
# (issues 5 and 6). A message still waiting for its recipient is kept.
#
#  - TH-MM agreement re-signed with "retention_days": 1;
#  - message A delivered and acked, message B queued (recipient offline);
#  - the broker's test clock moves 2 days ahead: A's payload is purged
#    (envelope NULL, AUDIT_PURGED entry), B's is kept and still delivered;
#  - repat-broker check and repat audit verify pass afterwards, and the
#    recipient still reads A from its own store.
set -u
. "${REPAT_TOP:-.}/tests/integ/lib.sh"
command -v sqlite3 >/dev/null 2>&1 || { echo "skip: no sqlite3 CLI"; exit 0; }

make_region
TH=$T/r/agents/TH.DATIP
MM=$T/r/agents/MM.DSW
AG=$T/r/broker/agreements
DB=$T/r/broker/broker.db
F=examples/forms
rm -f "$AG"/th-mm-2019.json*
sed 's/"retention_days": 3650/"retention_days": 1/' \
    examples/agreements/th-mm-2019.json >"$AG/th-mm-2019.json"
grep -q '"retention_days": 1,' "$AG/th-mm-2019.json" || fail "edit"
for a in "$TH" "$MM"; do
	"$R" agreement sign "$AG/th-mm-2019.json" --dir "$a" >/dev/null ||
		fail "sign as $a"
done

start_broker
for a in "$MM" "$TH"; do
	"$R" sync --dir "$a" >/dev/null 2>&1 || fail "first sync $a"
done
"$R" send --dir "$TH" --to MM.DSW --type identification_notice \
    --case TH-2026-000501 --form "$F/identification_notice.json" \
    >"$T/out" 2>&1 || { cat "$T/out"; fail "send A"; }
A=$(sed -n 's/^sent .* \([0-9a-f]\{32\}\) to MM.DSW.*/\1/p' "$T/out")
"$R" sync --dir "$MM" >/dev/null 2>&1 || fail "MM syncs A"
"$R" send --dir "$TH" --to MM.DSW --type identification_notice \
    --case TH-2026-000502 --form "$F/identification_notice.json" \
    >"$T/out" 2>&1 || { cat "$T/out"; fail "send B"; }
B_ID=$(sed -n 's/^sent .* \([0-9a-f]\{32\}\) to MM.DSW.*/\1/p' "$T/out")
[ -n "$A" ] && [ -n "$B_ID" ] || fail "no message ids"
stop_broker || fail "SIGTERM"
held() {
	sqlite3 "$DB" "SELECT count(*) FROM messages WHERE hex(id) = upper('$1')
	    AND envelope IS NOT NULL"
}
[ "$(held "$A")" = 1 ] || fail "A purged before its time"
ok "delivered message A and queued message B are both held"

printf 'test_mode = yes\nclock_offset = 2d\n' >>"$BC"
start_broker
wait_log "purged 1 delivered payloads"
stop_broker || fail "SIGTERM after purge"
[ "$(held "$A")" = 0 ] || fail "A was not purged"
[ "$(held "$B_ID")" = 1 ] || fail "B, still undelivered, was purged"
ok "A purged after its agreement's retention, B kept"

"$B/repat-broker" check -c "$BC" >"$T/check" 2>&1 || { cat "$T/check"; fail "check"; }
"$R" audit export --db "$DB" --broker-cert "$T/r/broker/sign.crt" \
    --out "$T/export" >/dev/null 2>&1 || fail "audit export"
grep -l '"kind": *"purged"\|"kind":"purged"\|AUDIT_PURGED' \
    "$T/export"/entries/*.json >/dev/null 2>&1 ||
	fail "no purge entry in the audit log"
ok "the purge is in the audit log, which still verifies"

sed -i '/^test_mode\|^clock_offset/d' "$BC"	# back to the agents' time
start_broker
"$R" sync --dir "$MM" --json >"$T/sync.json" 2>&1 || fail "MM syncs B"
grep -q '"received":1' "$T/sync.json" || { cat "$T/sync.json"; fail "B not delivered"; }
"$R" show --dir "$MM" "$A" >"$T/show" 2>&1 || { cat "$T/show"; fail "show A"; }
ok "B is delivered after the purge; MM still reads A from its own store"
