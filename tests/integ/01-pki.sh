#!/bin/sh
# 01-pki.sh: the national PKI end to end with the real `repat` and the
# openssl command as an independent checker: a region, certificate chains,
# revocation through the CRL, cross-country refusal, fingerprints for the
# key ceremony, and a CA run by hand with passphrase-encrypted keys.
set -u
B=${REPAT_BUILD:?REPAT_BUILD is not set}
R="$B/repat"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# --- a test region, fast
t0=$(date +%s)
"$R" region init --out "$T/r" --port 7461 >"$T/summary" 2>&1 ||
	{ cat "$T/summary"; fail "region init"; }
t1=$(date +%s)
[ $((t1 - t0)) -le 5 ] || fail "region init took $((t1 - t0)) s"
grep -q "TH.DATIP" "$T/summary" || fail "summary lists no agents"
for a in TH.DATIP TH.WPC.PATHUMTHANI TH.POLICE.ATHD MM.DSW MM.DNR \
    MM.DSW.KAYIN MM.SHELTER.MYAWADDY MM.EMB.BANGKOK KH.MOSVY LA.MLSW \
    VN.MPS CN.MPS TH.IOM; do
	[ -f "$T/r/agents/$a/sign.crt" ] || fail "$a has no sign.crt"
	[ -f "$T/r/agents/$a/trust/TH.crt" ] || fail "$a has no trust bundle"
done
grep -q '^endpoint = tcp://127.0.0.1:7461$' "$T/r/broker/broker.conf" ||
	fail "broker.conf endpoint"
grep -q '^broker_curve_key = broker_curve.pub$' \
    "$T/r/agents/MM.DSW/agent.conf" || fail "agent.conf broker_curve_key"
cmp -s "$T/r/broker/curve.pub" "$T/r/agents/MM.DSW/broker_curve.pub" ||
	fail "agent does not pin the broker's CURVE key"
cmp -s "$T/r/broker/sign.crt" "$T/r/agents/MM.DSW/broker.crt" ||
	fail "agent does not pin the broker's certificate"
[ "$(stat -c %a "$T/r/agents/MM.DSW/sign.key")" = 600 ] ||
	fail "sign.key is not mode 600"
[ -d "$T/r/broker/agreements" ] || fail "no broker/agreements folder"
ok "region init in $((t1 - t0)) s"

# A second region never lands on top of the first.
"$R" region init --out "$T/r" >/dev/null 2>&1 && fail "non-empty --out taken"

# --- chains, as openssl sees them
D="$T/r/agents/TH.DATIP"
openssl verify -CAfile "$T/r/trust/TH.crt" "$D/sign.crt" "$D/enc.crt" \
    >/dev/null || fail "openssl verify of TH.DATIP"
openssl verify -CAfile "$T/r/trust/TH.crt" "$T/r/broker/sign.crt" \
    >/dev/null || fail "openssl verify of the broker"
openssl verify -CAfile "$T/r/trust/MM.crt" "$D/sign.crt" >/dev/null 2>&1 &&
	fail "a TH certificate verified under the MM CA"
openssl verify -crl_check -CRLfile "$T/r/ca/TH/ca.crl" \
    -CAfile "$T/r/trust/TH.crt" "$D/sign.crt" >/dev/null ||
	fail "crl_check before revocation"
ok "chains verify, cross-country refused"

# --- revocation
"$R" ca revoke --ca "$T/r/ca/TH" --cert "$D/sign.crt" \
    --reason keyCompromise >/dev/null || fail "repat ca revoke"
openssl verify -crl_check -CRLfile "$T/r/ca/TH/ca.crl" \
    -CAfile "$T/r/trust/TH.crt" "$D/sign.crt" >"$T/v" 2>&1 &&
	fail "revoked certificate still verifies"
grep -q "revoked" "$T/v" || fail "openssl gave another reason: $(cat "$T/v")"
openssl crl -in "$T/r/ca/TH/ca.crl" -noout -text | grep -q "Key Compromise" ||
	fail "CRL has no reason code"
"$R" ca revoke --ca "$T/r/ca/TH" --cert "$D/sign.crt" >/dev/null 2>&1 &&
	fail "revoked twice"
"$R" ca revoke --ca "$T/r/ca/MM" --cert "$D/enc.crt" >/dev/null 2>&1 &&
	fail "MM CA revoked a TH certificate"
W="$T/r/agents/TH.WPC.PATHUMTHANI"
"$R" ca revoke --ca "$T/r/ca/TH" --cert "$W/sign.crt" --cert "$W/enc.crt" \
    >/dev/null || fail "revoking a pair"
for c in "$W/sign.crt" "$W/enc.crt"; do
	openssl verify -crl_check -CRLfile "$T/r/ca/TH/ca.crl" \
	    -CAfile "$T/r/trust/TH.crt" "$c" >/dev/null 2>&1 &&
		fail "$c still verifies"
done
openssl verify -crl_check -CRLfile "$T/r/ca/TH/ca.crl" \
    -CAfile "$T/r/trust/TH.crt" "$D/enc.crt" >/dev/null ||
	fail "an unrevoked certificate fails"
"$R" ca crl --ca "$T/r/ca/TH" --days 10 >/dev/null || fail "repat ca crl"
openssl crl -in "$T/r/ca/TH/ca.crl" -noout -CAfile "$T/r/trust/TH.crt" \
    2>&1 | grep -q "verify OK" || fail "re-signed CRL does not verify"
ok "revocation"

# --- fingerprints for the key ceremony
"$R" trust --dir "$T/r/agents/MM.DSW" >"$T/trust" || fail "repat trust"
n=0
for cc in TH MM KH LA VN CN; do
	fp=$(openssl x509 -in "$T/r/trust/$cc.crt" -noout -fingerprint \
	    -sha256 | sed 's/.*=//')
	grep -q "SHA-256 $fp" "$T/trust" || fail "fingerprint of $cc"
	grep -q "$fp" "$T/summary" || fail "summary fingerprint of $cc"
	n=$((n + 1))
done
"$R" trust --bundle "$T/r/trust" --json >"$T/trust.json" ||
	fail "repat trust --json"
[ "$(grep -c '"sha256"' "$T/trust.json")" = 6 ] || fail "json lists not 6 CAs"
ok "$n fingerprints match openssl"

# --- a CA and an agent by hand, keys encrypted
echo "ca passphrase" >"$T/ca.pass"
echo "agent passphrase" >"$T/agent.pass"
"$R" ca init --country KH --dir "$T/kh" --passphrase-file "$T/ca.pass" \
    >"$T/kh.out" || fail "ca init"
head -1 "$T/kh/ca.key" | grep -q "ENCRYPTED PRIVATE KEY" ||
	fail "CA key not encrypted"
fp=$(openssl x509 -in "$T/kh/ca.crt" -noout -fingerprint -sha256 |
    sed 's/.*=//')
grep -q "$fp" "$T/kh.out" || fail "ca init prints another fingerprint"
openssl x509 -in "$T/kh/ca.crt" -noout -text | grep -q "CA:TRUE" ||
	fail "CA certificate is not a CA"
"$R" init --id KH.MOSVY.PHNOMPENH --role tracing --dir "$T/ag" \
    --passphrase-file "$T/agent.pass" >/dev/null || fail "repat init"
openssl pkey -in "$T/ag/enc.key" -passin file:"$T/agent.pass" -noout ||
	fail "openssl cannot read the scrypt-encrypted key"
"$R" init --id KH.X --role minister --dir "$T/x" --no-passphrase \
    >/dev/null 2>&1 && fail "unknown role accepted"
REPAT_PASSPHRASE=wrong "$R" ca issue --ca "$T/kh" --csr "$T/ag/sign.csr" \
    --csr "$T/ag/enc.csr" </dev/null >/dev/null 2>&1 &&
	fail "issued with a wrong CA passphrase"
REPAT_PASSPHRASE="ca passphrase" "$R" ca issue --ca "$T/kh" \
    --csr "$T/ag/sign.csr" --csr "$T/ag/enc.csr" >/dev/null ||
	fail "ca issue"
openssl verify -CAfile "$T/kh/ca.crt" "$T/ag/sign.crt" "$T/ag/enc.crt" \
    >/dev/null || fail "issued pair does not verify"
openssl x509 -in "$T/ag/enc.crt" -noout -text | grep -q "Key Agreement" ||
	fail "enc.crt lacks keyAgreement"
"$R" init --id TH.OTHER --role shelter --dir "$T/th" --no-passphrase \
    >/dev/null || fail "repat init TH.OTHER"
"$R" ca issue --ca "$T/kh" --passphrase-file "$T/ca.pass" \
    --csr "$T/th/sign.csr" --csr "$T/th/enc.csr" >/dev/null 2>&1 &&
	fail "KH CA issued for a TH id"
"$R" ca issue --ca "$T/kh" --passphrase-file "$T/ca.pass" \
    --csr "$T/ag/sign.csr" --csr "$T/th/enc.csr" >/dev/null 2>&1 &&
	fail "mismatched requests issued"
ok "CA by hand"

# The built-in spec (used away from the repository) is examples/region.json.
top=$(pwd)
(cd "$T" && "$R" region init --out "$T/builtin" --port 7462 >/dev/null 2>&1) ||
	fail "region init with the built-in spec"
(cd "$T/r/agents" && ls) >"$T/agents.examples"
(cd "$T/builtin/agents" && ls) >"$T/agents.builtin"
cmp -s "$T/agents.examples" "$T/agents.builtin" ||
	{ diff "$T/agents.examples" "$T/agents.builtin"; fail "the built-in spec differs from examples/region.json"; }
cd "$top" || exit 1
ok "the built-in region spec matches examples/region.json"
exit 0
