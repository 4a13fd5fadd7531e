#!/bin/sh
# 07-crl-network.sh: a revocation installed on the broker alone reaches
# every agent (DESIGN.md §3: CRLs travel through the broker, verified
# against the pinned CAs; docs/decisions/0006).
#
#  - the TH CA revokes an office; its new CRL goes only to the broker's
#    trust/TH.crl, then SIGHUP;
#  - another country's agent syncs: its trust/TH.crl is now that CRL
#    (human line and --json say so), the revoked office's directory entry
#    is refused in the same sync, and sealing to it is refused (exit 4);
#  - the next sync holds the same CRL and says nothing about it;
#  - `repat watch --once` picks it up the same way.
set -u
. "${REPAT_TOP:-.}/tests/integ/lib.sh"

make_region
sed -i 's/^authorization = .*/authorization = open/' "$BC"
MM=$T/r/agents/MM.DSW
DNR=$T/r/agents/MM.DNR
WPC=$T/r/agents/TH.WPC.PATHUMTHANI
IOM=$T/r/agents/TH.IOM
CA=$T/r/ca/TH
F=examples/forms

# --- everyone registers; the CRLs held are the broker's: nothing to say
start_broker
for a in "$WPC" "$IOM" "$DNR" "$MM"; do
	"$R" sync --dir "$a" >"$T/out" 2>"$T/err" ||
		{ cat "$T/out" "$T/err"; fail "first sync of $a"; }
done
grep -q "^CRLs: 0 updated$" "$T/out" || { cat "$T/out"; fail "first sync: CRL line"; }
grep -q "CRL" "$T/err" && { cat "$T/err"; fail "first sync: said something about CRLs"; }
[ -f "$MM/directory/TH.WPC.PATHUMTHANI/enc.crt" ] || fail "WPC not in MM's directory"
ok "first syncs: CRLs held are the broker's, nothing said"

# --- the CA revokes the shelter; the new CRL goes to the broker only
"$R" ca revoke --ca "$CA" --cert "$WPC/sign.crt" --cert "$WPC/enc.crt" \
    --reason keyCompromise >/dev/null || fail "repat ca revoke"
same_crl "$CA/ca.crl" "$MM/trust/TH.crl" && fail "MM already has the new CRL"
cp "$CA/ca.crl" "$T/r/broker/trust/TH.crl"
reload_broker

"$R" sync --dir "$MM" >"$T/out" 2>"$T/err" ||
	{ cat "$T/out" "$T/err"; fail "sync after the revocation"; }
same_crl "$CA/ca.crl" "$MM/trust/TH.crl" ||
	fail "MM's trust/TH.crl is not the new CRL"
grep -q "^CRLs: 1 updated$" "$T/out" || { cat "$T/out"; fail "CRLs: 1 updated"; }
grep -q "NOT installed" "$T/err" && { cat "$T/err"; fail "a CRL was refused"; }
grep -q "directory entry .* REFUSED.*TH.WPC.PATHUMTHANI.*revoked" "$T/err" ||
	{ cat "$T/err"; fail "the revoked entry was not refused in the same sync"; }
grep -q "^directory: .*REFUSED" "$T/out" || { cat "$T/out"; fail "summary: no REFUSED"; }
ok "the broker's new CRL installed by a sync; the revoked entry refused"

# Sealing to the revoked office: refused before anything is queued.
"$R" send --dir "$MM" --to TH.WPC.PATHUMTHANI --type identification_notice \
    --case TH-2026-000123 --form "$F/identification_notice.json" \
    >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 4 ] || { cat "$T/out" "$T/err"; fail "send to the revoked office: exit $rc, 4 expected"; }
grep -q "TH.WPC.PATHUMTHANI.*revoked" "$T/err" || { cat "$T/err"; fail "send: no revocation said"; }
"$R" inbox --dir "$MM" --all --json >"$T/inbox.json" || fail "inbox"
grep -q "TH.WPC.PATHUMTHANI" "$T/inbox.json" && fail "a message to the revoked office was stored"
# The others of TH are still fine.
"$R" send --dir "$MM" --to TH.IOM --type identification_notice \
    --case TH-2026-000123 --form "$F/identification_notice.json" \
    >"$T/out" 2>&1 || { cat "$T/out"; fail "send to an unrevoked TH office"; }
ok "sending to the revoked office refused (exit 4), others unaffected"

# The same CRL again: silently kept.
"$R" sync --dir "$MM" --json >"$T/sync.json" 2>"$T/err" ||
	{ cat "$T/err"; fail "second sync"; }
grep -q '"crls_updated":0,"crls_refused":0' "$T/sync.json" ||
	{ cat "$T/sync.json"; fail "second sync --json"; }
grep -q "CRL" "$T/err" && { cat "$T/err"; fail "second sync said something about CRLs"; }
# --json counts an update too.
"$R" sync --dir "$DNR" --json >"$T/sync.json" 2>"$T/err" ||
	{ cat "$T/err"; fail "MM.DNR sync"; }
grep -q '"crls_updated":1,"crls_refused":0' "$T/sync.json" ||
	{ cat "$T/sync.json"; fail "MM.DNR sync --json: crls_updated"; }
same_crl "$CA/ca.crl" "$DNR/trust/TH.crl" || fail "MM.DNR's trust/TH.crl"
ok "the same CRL again is kept silently; --json counts updates"

# --- a watch fetches it when it connects
"$R" watch --once --dir "$IOM" >"$T/out" 2>"$T/err" ||
	{ cat "$T/out" "$T/err"; fail "watch --once"; }
grep -q "1 CRL updated from the broker" "$T/err" || { cat "$T/err"; fail "watch: update not said"; }
same_crl "$CA/ca.crl" "$IOM/trust/TH.crl" || fail "TH.IOM's trust/TH.crl"
ok "repat watch installs it too"
exit 0
