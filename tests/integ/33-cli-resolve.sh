#!/bin/sh
# 33-cli-resolve.sh: `repat send --to CC/role` resolution through the
# verified directory: one match is taken, several are listed and nothing
# is sent (exit 2), none says to sync (exit 2); an unknown agent id is
# looked up in the broker's directory once before giving up.
set -u
. "${REPAT_TOP:-.}/tests/integ/lib.sh"
PORT=$(free_port)

cat >"$T/spec.json" <<SPEC
{
  "name": "cli-resolve",
  "passphrase": false,
  "countries": ["TH", "MM"],
  "broker": {"id": "TH.BROKER", "port": $PORT},
  "agents": [
    {"id": "TH.DATIP", "role": "focal_point"},
    {"id": "MM.DSW", "role": "focal_point"},
    {"id": "MM.DSW.YANGON", "role": "focal_point"},
    {"id": "MM.DNR", "role": "nationality"}
  ]
}
SPEC
"$R" region init --out "$T/r" --spec "$T/spec.json" --port "$PORT" \
    >"$T/region.log" 2>&1 || { cat "$T/region.log"; fail "region init"; }
sed -i 's/^authorization = .*/authorization = open/' "$T/r/broker/broker.conf"
for c in "$T"/r/agents/*/agent.conf; do
	echo "connect_timeout = 2s" >>"$c"
done
start_broker
TH=$T/r/agents/TH.DATIP
for a in MM.DSW MM.DSW.YANGON TH.DATIP; do
	"$R" sync --dir "$T/r/agents/$a" >/dev/null 2>&1 || fail "sync $a"
done
send() {
	"$R" send --dir "$TH" --type identification_notice --case TH-2026-000042 \
	    --form examples/forms/identification_notice.json "$@" \
	    >"$T/out" 2>"$T/err"
}

send --to MM/focal_point
[ $? = 2 ] || fail "ambiguous CC/role: exit 2 expected"
grep -q "names 2 agents" "$T/err" || fail "ambiguity not said"
grep -q "^  MM.DSW\$" "$T/err" && grep -q "^  MM.DSW.YANGON\$" "$T/err" ||
	fail "candidates not listed"
"$R" inbox --dir "$TH" --all --json | grep -q message_id &&
	fail "something was stored for an ambiguous recipient"
ok "ambiguous CC/role lists candidates, sends nothing"

send --to MM/tracing
[ $? = 2 ] || fail "no tracing agent: exit 2 expected"
grep -q "no tracing agent of MM" "$T/err" || fail "none not said"
send --to MM/chef
[ $? = 2 ] || fail "unknown role: exit 2 expected"
ok "no match and unknown role: exit 2"

send --to TH/focal_point || { cat "$T/err"; fail "single match"; }
grep -q "to TH.DATIP" "$T/out" || fail "TH/focal_point not resolved"
ok "a single match is taken"

# MM.DNR never said hello before TH's last sync: looked up once, found.
"$R" sync --dir "$T/r/agents/MM.DNR" >/dev/null 2>&1 || fail "sync MM.DNR"
send --to MM.DNR || { cat "$T/err"; fail "unknown id refresh"; }
grep -q "to MM.DNR, case" "$T/out" || fail "not sent to MM.DNR"
send --to MM.NOBODY
[ $? = 1 ] || fail "unknown agent: exit 1 expected"
grep -q "not in this agent's directory" "$T/err" || fail "unknown agent text"
ok "unknown agent ids: directory refreshed once"

# --- several matches, but a fully signed agreement names the focal point
mkdir -p "$TH/agreements"
cp examples/agreements/th-mm-2019.json "$TH/agreements/"
"$R" agreement sign "$TH/agreements/th-mm-2019.json" --dir "$TH" \
    >/dev/null 2>&1 || fail "agreement sign TH"
send --to MM/focal_point
[ $? = 2 ] || fail "a half-signed agreement was used"
"$R" agreement sign "$TH/agreements/th-mm-2019.json" \
    --dir "$T/r/agents/MM.DSW" >/dev/null 2>&1 || fail "agreement sign MM"
send --to MM/focal_point || { cat "$T/err"; fail "focal point by agreement"; }
grep -q "to MM.DSW, case" "$T/out" || fail "not sent to the named focal point"
grep -q "MM/focal_point is MM.DSW, the agent named for it" "$T/err" ||
	fail "the choice is not said"
ok "an agreement in force picks the focal point among several"
