#!/bin/sh
# 34-cli-passphrase.sh: an agent whose keys are passphrase-encrypted, run
# unattended: the passphrase from --passphrase-file or REPAT_PASSPHRASE,
# never asked by commands that only read the local store, never handed to
# a `watch --exec` command, and a wrong one refused with exit 1.
set -u
. "${REPAT_TOP:-.}/tests/integ/lib.sh"
PORT=$(free_port)

cat >"$T/spec.json" <<SPEC
{
  "name": "cli-passphrase",
  "passphrase": true,
  "countries": ["TH", "MM"],
  "broker": {"id": "TH.BROKER", "port": $PORT},
  "agents": [
    {"id": "TH.DATIP", "role": "focal_point"},
    {"id": "MM.DSW", "role": "focal_point"}
  ]
}
SPEC
echo "correct horse battery staple" >"$T/pass"
echo "wrong" >"$T/wrong"
chmod 600 "$T/pass" "$T/wrong"
"$R" region init --out "$T/r" --spec "$T/spec.json" --port "$PORT" \
    --passphrase-file "$T/pass" >"$T/region.log" 2>&1 ||
	{ cat "$T/region.log"; fail "region init"; }
grep -q "ENCRYPTED" "$T/r/agents/MM.DSW/sign.key" ||
	fail "the region's keys are not encrypted"
sed -i 's/^authorization = .*/authorization = open/' "$T/r/broker/broker.conf"
sed -i 's/^passphrase_file = .*//' "$T/r/broker/broker.conf"
grep -q '^passphrase_file' "$T/r/broker/broker.conf" ||
	echo "passphrase_file = $T/pass" >>"$T/r/broker/broker.conf"
for c in "$T"/r/agents/*/agent.conf; do
	echo "connect_timeout = 2s" >>"$c"
done
start_broker
TH=$T/r/agents/TH.DATIP
MM=$T/r/agents/MM.DSW

env -u REPAT_PASSPHRASE "$R" sync --dir "$MM" --passphrase-file "$T/wrong" \
    >"$T/out" 2>&1 </dev/null
[ $? = 1 ] || { cat "$T/out"; fail "a wrong passphrase was not refused"; }
grep -qi "passphrase" "$T/out" || { cat "$T/out"; fail "wrong passphrase: not said"; }
env -u REPAT_PASSPHRASE "$R" sync --dir "$MM" --passphrase-file "$T/pass" \
    >"$T/out" 2>&1 </dev/null || { cat "$T/out"; fail "sync --passphrase-file"; }
REPAT_PASSPHRASE="correct horse battery staple" "$R" send --dir "$TH" \
    --to MM.DSW --type identification_notice --case TH-2026-000555 \
    --form examples/forms/identification_notice.json >"$T/out" 2>&1 </dev/null ||
	{ cat "$T/out"; fail "send with REPAT_PASSPHRASE"; }
ok "passphrase from a file and from the environment"

env -u REPAT_PASSPHRASE "$R" inbox --dir "$TH" >"$T/out" 2>&1 </dev/null ||
	fail "inbox asked for a passphrase"
grep -q "identification_notice" "$T/out" || fail "inbox content"
ok "inbox reads the store without the keys"

REPAT_PASSPHRASE="correct horse battery staple" "$R" watch --dir "$MM" \
    --once --exec "env >'$T/env'" >"$T/out" 2>&1 </dev/null ||
	{ cat "$T/out"; fail "watch --exec with REPAT_PASSPHRASE"; }
grep -q "^REPAT_TYPE=identification_notice" "$T/env" || fail "exec did not run"
grep -q "REPAT_PASSPHRASE" "$T/env" && fail "the passphrase reached the command"
grep -q "correct horse" "$T/env" && fail "the passphrase reached the command"
ok "watch --exec unattended; the command never sees the passphrase"
