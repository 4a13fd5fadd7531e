#!/bin/sh
# 36-cli-quarantine.sh: a delivery that does not verify when it arrives is
# quarantined: stored and acked (so the stream goes on), never shown or
# handed to a hook. `repat show` checks it again against the trust bundle
# as it is now (agent/cmd_inbox.c):
#
#  - MM.DNR has lost the TH CA from its bundle when a message from TH.IOM
#    arrives: the sync quarantines it, and show refuses it, saying why;
#  - the TH CA is pinned again (as after a CRL gone stale is replaced, or
#    a country joins the region): show opens it, with a note that it was
#    quarantined on arrival.
set -u
. "${REPAT_TOP:-.}/tests/integ/lib.sh"

make_region
sed -i 's/^authorization = .*/authorization = open/' "$BC"
IOM=$T/r/agents/TH.IOM
DNR=$T/r/agents/MM.DNR
F=examples/forms

start_broker
for a in "$IOM" "$DNR"; do
	"$R" sync --dir "$a" >"$T/out" 2>&1 || { cat "$T/out"; fail "first sync of $a"; }
done
"$R" send --dir "$IOM" --to MM.DNR --type case_referral --case TH-2026-000321 \
    --form "$F/case_referral.json" >"$T/out" 2>&1 || { cat "$T/out"; fail "send"; }
ID=$(sed -n 's/^sent .* \([0-9a-f]\{32\}\) to MM.DNR.*/\1/p' "$T/out")
[ -n "$ID" ] || { cat "$T/out"; fail "no message id"; }

mkdir "$T/aside"
mv "$DNR/trust/TH.crt" "$DNR/trust/TH.crl" "$T/aside/" || fail "set TH aside"
"$R" sync --dir "$DNR" >"$T/out" 2>"$T/err"
grep -q "NOT TRUSTWORTHY" "$T/out" "$T/err" ||
	{ cat "$T/out" "$T/err"; fail "the delivery was not quarantined"; }
if "$R" show --dir "$DNR" "$ID" >"$T/out" 2>"$T/err"; then
	cat "$T/out"
	fail "show opened a quarantined delivery the bundle cannot verify"
fi
grep -q "quarantined" "$T/err" || { cat "$T/err"; fail "show does not say why"; }
grep -q "TH" "$T/err" || { cat "$T/err"; fail "show does not name the country"; }
ok "quarantined on arrival; show refuses it: $(tail -1 "$T/err")"

mv "$T/aside/TH.crt" "$T/aside/TH.crl" "$DNR/trust/" || fail "put TH back"
"$R" show --dir "$DNR" "$ID" >"$T/out" 2>"$T/err" ||
	{ cat "$T/out" "$T/err"; fail "show after the TH CA is pinned again"; }
grep -q "quarantined when it arrived" "$T/err" ||
	{ cat "$T/err"; fail "no note that it was quarantined"; }
grep -q "TH-2026-000321" "$T/out" || { cat "$T/out"; fail "the message is not shown"; }
ok "verified against the bundle as it is now, show opens it with a note"
exit 0
