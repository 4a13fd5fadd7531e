#!/bin/sh
# 09-crl-stale.sh: an agent whose CRL went past its next update (nobody
# copied the new one) recovers by syncing, once the broker has a fresh one
# (docs/operations.md §2.6).
#
#  - its own country's CRL: the agent still loads its keys (with a
#    warning) and reaches the broker, which holds a fresh CRL and admits
#    it; the sync installs the fresh CRL before taking deliveries, so a
#    message from an office of the same country arrives verified, not
#    quarantined, and sealing to that country works again;
#  - another country's CRL: that country's directory entries verify again
#    in the same sync.
set -u
. "${REPAT_TOP:-.}/tests/integ/lib.sh"

make_region
sed -i 's/^authorization = .*/authorization = open/' "$BC"
TH=$T/r/agents/TH.DATIP
IOM=$T/r/agents/TH.IOM
DNR=$T/r/agents/MM.DNR
CA=$T/r/ca/TH
F=examples/forms

start_broker
for a in "$IOM" "$DNR" "$TH"; do
	"$R" sync --dir "$a" >"$T/out" 2>&1 || { cat "$T/out"; fail "first sync of $a"; }
done

# The CA re-signs on time; only the broker gets the new CRL. Two offices
# missed an earlier one: what they hold is past its next update.
"$R" ca crl --ca "$CA" >/dev/null || fail "repat ca crl"
cp "$CA/ca.crl" "$T/r/broker/trust/TH.crl"
reload_broker
make_crl "$CA/ca.key" "$CA/ca.crt" "-40 days" "-10 days" "$T/stale.crl"
cp "$T/stale.crl" "$TH/trust/TH.crl"
cp "$T/stale.crl" "$DNR/trust/TH.crl"

# Stale: every TH certificate is refused here, as documented.
"$R" send --dir "$TH" --to TH.IOM --type case_referral --case TH-2026-000123 \
    --form "$F/case_referral.json" >"$T/out" 2>&1 &&
	{ cat "$T/out"; fail "a stale CRL did not refuse TH.IOM"; }
grep -q "past its next update" "$T/out" ||
	{ cat "$T/out"; fail "stale: reason not said"; }
# A message from TH.IOM waits for TH.DATIP at the broker.
"$R" send --dir "$IOM" --to TH.DATIP --type case_referral --case TH-2026-000123 \
    --form "$F/case_referral.json" >"$T/out" 2>&1 || { cat "$T/out"; fail "send to TH.DATIP"; }
ID=$(sed -n 's/^sent .* \([0-9a-f]\{32\}\) to TH.DATIP.*/\1/p' "$T/out")
[ -n "$ID" ] || { cat "$T/out"; fail "no message id"; }
ok "a stale own-country CRL refuses TH certificates"

# --- own country: the sync recovers
"$R" sync --dir "$TH" >"$T/out" 2>"$T/err" ||
	{ cat "$T/out" "$T/err"; fail "sync with a stale own-country CRL"; }
grep -q "trust/TH.crl is past its next update" "$T/err" ||
	{ cat "$T/err"; fail "no warning about the stale CRL"; }
grep -q "^CRLs: 1 updated$" "$T/out" || { cat "$T/out"; fail "CRLs: 1 updated"; }
same_crl "$CA/ca.crl" "$TH/trust/TH.crl" || fail "TH.DATIP's trust/TH.crl is not the fresh CRL"
grep -q "NOT TRUSTWORTHY" "$T/out" "$T/err" &&
	{ cat "$T/out" "$T/err"; fail "the delivery was checked with the stale CRL"; }
grep -q "^received: 1 new message, " "$T/out" || { cat "$T/out"; fail "not received"; }
grep -q "REFUSED" "$T/out" "$T/err" && { cat "$T/out" "$T/err"; fail "entries refused"; }
"$R" show --dir "$TH" "$ID" >/dev/null 2>&1 || fail "show the delivered message"
"$R" send --dir "$TH" --to TH.IOM --type case_referral --case TH-2026-000123 \
    --form "$F/case_referral.json" >"$T/out" 2>&1 || { cat "$T/out"; fail "send after recovery"; }
"$R" sync --dir "$TH" >"$T/out" 2>"$T/err" || fail "sync again"
grep -q "past its next update" "$T/err" && { cat "$T/err"; fail "still stale"; }
ok "own country: one sync installs the fresh CRL, before the deliveries"

# --- another country: its directory entries verify again
"$R" sync --dir "$DNR" >"$T/out" 2>"$T/err" ||
	{ cat "$T/out" "$T/err"; fail "MM.DNR sync"; }
grep -q "^CRLs: 1 updated$" "$T/out" || { cat "$T/out"; fail "MM.DNR: CRLs: 1 updated"; }
same_crl "$CA/ca.crl" "$DNR/trust/TH.crl" || fail "MM.DNR's trust/TH.crl"
grep -q "REFUSED" "$T/out" "$T/err" && { cat "$T/out" "$T/err"; fail "MM.DNR: entries refused"; }
grep -q "^directory: 3 agents verified$" "$T/out" || { cat "$T/out"; fail "MM.DNR: directory of 3"; }
ok "another country: the fresh CRL makes its entries verify in the same sync"
exit 0
