#!/bin/sh
# 08-crl-refused.sh: the broker is not trusted for CRLs. An agent installs
# one from the directory only when its own pinned CA signed it and it is
# newer and not past its next update; any other is said on stderr and
# skipped, and the sync still succeeds (docs/decisions/0006).
#
#  - rollback: the broker goes back to an older CRL of TH: the newer one
#    an MM agent holds stays, and the revoked office stays refused;
#  - a CRL of TH newer than the one held but already past its next update
#    is not installed (it would refuse every office of TH);
#  - another country's CA key: a broker whose bundle pins a rogue "MM" CA
#    made with the TH CA's key serves a CRL it signed; a TH agent, pinning
#    the real MM CA, refuses it.
# (A broker refuses the hello of a country whose CRL it holds is bad, so
# the agent syncing is always of the other country.)
set -u
. "${REPAT_TOP:-.}/tests/integ/lib.sh"

make_region
sed -i 's/^authorization = .*/authorization = open/' "$BC"
TH=$T/r/agents/TH.DATIP
MM=$T/r/agents/MM.DSW
WPC=$T/r/agents/TH.WPC.PATHUMTHANI
CA=$T/r/ca/TH
BT=$T/r/broker/trust
F=examples/forms

start_broker
for a in "$WPC" "$TH" "$MM"; do
	"$R" sync --dir "$a" >"$T/out" 2>&1 || { cat "$T/out"; fail "first sync of $a"; }
done

# --- precondition: the agent takes a revocation from the broker
cp "$CA/ca.crl" "$T/TH-old.crl"
"$R" ca revoke --ca "$CA" --cert "$WPC/sign.crt" --cert "$WPC/enc.crt" \
    >/dev/null || fail "repat ca revoke"
cp "$CA/ca.crl" "$T/TH-new.crl"
cp "$CA/ca.crl" "$BT/TH.crl"
reload_broker
"$R" sync --dir "$MM" >"$T/out" 2>&1 || { cat "$T/out"; fail "sync (new CRL)"; }
same_crl "$T/TH-new.crl" "$MM/trust/TH.crl" ||
	{ cat "$T/out"; fail "the new CRL was not installed"; }
ok "precondition: the new CRL came through the broker"

# --- rollback: the broker serves the older CRL again
cp "$T/TH-old.crl" "$BT/TH.crl"
reload_broker
"$R" sync --dir "$MM" >"$T/out" 2>"$T/err" ||
	{ cat "$T/out" "$T/err"; fail "sync with an older CRL on the broker failed"; }
same_crl "$T/TH-new.crl" "$MM/trust/TH.crl" || fail "an older CRL replaced a newer one"
grep -q "CRL .* NOT installed: the CRL of TH is older than the one held" "$T/err" ||
	{ cat "$T/err"; fail "rollback: no warning"; }
grep -q "^CRLs: 0 updated, some NOT installed" "$T/out" ||
	{ cat "$T/out"; fail "rollback: summary"; }
"$R" send --dir "$MM" --to TH.WPC.PATHUMTHANI --type identification_notice \
    --case TH-2026-000123 --form "$F/identification_notice.json" \
    >"$T/out" 2>&1
[ $? = 4 ] || { cat "$T/out"; fail "the revoked office is trusted again after a rollback"; }
ok "an older CRL does not replace a newer one (warning, sync succeeds)"

# --- newer than the one held, but past its next update
make_crl "$CA/ca.key" "$CA/ca.crt" "now" "+2 seconds" "$T/TH-short.crl"
cp "$T/TH-short.crl" "$BT/TH.crl"
reload_broker
sleep 3
"$R" sync --dir "$MM" >"$T/out" 2>"$T/err" ||
	{ cat "$T/out" "$T/err"; fail "sync with an expired CRL on the broker failed"; }
same_crl "$T/TH-new.crl" "$MM/trust/TH.crl" || fail "an expired CRL was installed"
grep -q "CRL .* NOT installed: the CRL of TH is past its next update" "$T/err" ||
	{ cat "$T/err"; fail "expired: no warning"; }
ok "a CRL past its next update is not installed"

# --- a CRL for MM signed with the TH CA's key
cp "$BT/MM.crt" "$T/MM-real.crt"
cp "$BT/MM.crl" "$T/MM-real.crl"
cp "$T/TH-new.crl" "$BT/TH.crl"
openssl req -x509 -new -key "$CA/ca.key" -subj "/C=MM/CN=repat CA MM" \
    -days 30 -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$T/MM-rogue.crt" \
    2>"$T/err" || { cat "$T/err"; fail "openssl req (rogue MM CA)"; }
make_crl "$CA/ca.key" "$T/MM-rogue.crt" "now" "+30 days" "$BT/MM.crl"
cp "$T/MM-rogue.crt" "$BT/MM.crt"
reload_broker
grep -q "keeping the old trust bundle" "$T/broker.log" &&
	fail "the broker did not take the rogue bundle (the test needs it to)"
"$R" sync --dir "$TH" >"$T/out" 2>"$T/err" ||
	{ cat "$T/out" "$T/err"; fail "sync with a rogue MM CRL on the broker failed"; }
cmp -s "$T/MM-real.crl" "$TH/trust/MM.crl" || fail "the rogue MM CRL was installed"
grep -q "CRL .* NOT installed: MM: CRL signature does not verify with the pinned CA" \
    "$T/err" || { cat "$T/err"; fail "rogue: no warning"; }
# The good CRL in the same answer (TH's, new to this agent) still counts.
grep -q "^CRLs: 1 updated, some NOT installed" "$T/out" ||
	{ cat "$T/out"; fail "rogue: summary"; }
same_crl "$T/TH-new.crl" "$TH/trust/TH.crl" || fail "TH's CRL next to the rogue one"
ok "a CRL signed by another country's CA key is not installed"
exit 0
