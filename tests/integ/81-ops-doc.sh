#!/bin/sh
# 81-ops-doc.sh: docs/operations.md stays true. Every ```sh block preceded
# by a "<!-- test -->" line is run, in the page's order, in one empty
# folder (with a link to examples/), by sh -e, with repat and repat-broker
# first on the PATH, REPAT_PASSPHRASE set (the commands would prompt), and
# broker.example.org:7447 / 0.0.0.0:7447 replaced by a free loopback port.
# A block marked "<!-- test: fails -->" must exit non-zero. Blocks share
# only files. The walkthrough: CA key ceremony, certifying offices, trust
# fingerprints, agreement signing, revocation, CRL, key rotation, a broker
# set up by hand, status, backup, reload, stop, check, restore-ack, audit.
# Afterwards a few results are checked here as well.
set -u
. "${REPAT_TOP:-.}/tests/integ/lib.sh"
TOP=$(pwd)
DOC=$TOP/docs/operations.md
W=$T/w
mkdir -p "$W/.bin" "$T/blocks"
ln -s "$TOP/examples" "$W/examples"
ln -s "$(cd "$B" && pwd)/repat" "$W/.bin/repat"
ln -s "$(cd "$B" && pwd)/repat-broker" "$W/.bin/repat-broker"
PORT=$(free_port)
# A broker started by a block is stopped when the test ends.
at_exit '[ -f "$W/broker.pid" ] && kill "$(cat "$W/broker.pid")" 2>/dev/null; sleep 0.3'

# Split the tested blocks into $T/blocks/NNN-LINE[-fails].sh.
awk -v out="$T/blocks" '
	/^<!-- test(: fails)? -->$/ { mark = ($0 ~ /fails/) ? "fails" : "ok"; next }
	mark != "" && /^```sh$/ { n++; f = sprintf("%s/%03d-%d-%s.sh", out, n, NR, mark); inb = 1; mark = ""; next }
	inb && /^```$/ { inb = 0; close(f); next }
	inb { print > f; next }
	{ mark = "" }
' "$DOC"
n=$(ls "$T/blocks" | wc -l)
[ "$n" -ge 15 ] || fail "only $n tested blocks found in $DOC"
for want in "repat ca init" "repat init" "repat ca issue" "repat trust" \
    "repat ca revoke" "repat ca crl" "repat agreement sign" \
    "repat agreement check" "repat-broker status" ".backup" "restore-ack" \
    "repat audit verify"; do
	cat "$T"/blocks/*-ok.sh | grep -qF "$want" ||
		fail "no tested block runs $want"
done

export PATH="$W/.bin:$PATH" REPAT_PASSPHRASE="walkthrough passphrase"
for f in "$T"/blocks/*.sh; do
	name=$(basename "$f" .sh)
	line=$(echo "$name" | cut -d- -f2)
	sed -i "s/broker\.example\.org:7447/127.0.0.1:$PORT/g
s/0\.0\.0\.0:7447/127.0.0.1:$PORT/g" "$f"
	rc=0
	(cd "$W" && sh -e "$f") >"$T/out" 2>&1 </dev/null || rc=$?
	case $name in
	*-fails)
		[ "$rc" != 0 ] || { cat "$T/out"; fail "the block at docs/operations.md:$line should fail"; }
		;;
	*)
		[ "$rc" = 0 ] || {
			cat "$T/out"
			[ -f "$W/broker.log" ] && tail -20 "$W/broker.log"
			fail "the block at docs/operations.md:$line exited $rc"
		}
		;;
	esac
done
ok "$n tested blocks of docs/operations.md ran"

# What the walkthrough must have produced.
cd "$W" || fail "cd $W"
a=$(repat trust --bundle bundle | grep -o '[0-9A-F:]\{95\}' | sort)
b=$(for x in bundle/*.crt; do openssl x509 -in "$x" -noout -fingerprint -sha256; done |
    sed 's/.*=//' | sort)
[ "$(echo "$a" | wc -l)" = 2 ] || fail "repat trust does not list TH and MM: $a"
[ "$a" = "$b" ] || fail "repat trust and openssl disagree: $a / $b"
ok "repat trust and openssl print the same fingerprints"
openssl verify -CAfile bundle/TH.crt TH.DATIP/sign.crt >/dev/null ||
	fail "TH.DATIP is not certified by TH"
openssl verify -crl_check -CRLfile th-ca/ca.crl -CAfile bundle/TH.crt \
    TH.WPC.PATHUMTHANI/sign.crt >/dev/null 2>&1 &&
	fail "the revoked shelter still verifies"
openssl crl -in th-ca/ca.crl -noout -text | grep -q "Key Compromise" ||
	fail "the CRL does not carry the keyCompromise revocation"
openssl crl -in th-ca/ca.crl -noout -text | grep -q "Superseded" ||
	fail "the CRL does not carry the superseded (rotated) certificate"
ok "certificates, revocation and rotation as documented"
grep -q "TH-MM-MOU-2019 loaded" broker.log || fail "agreement not loaded"
grep -qi "revoked" broker.log || fail "the revoked shelter was not refused"
grep -q '"agent": *"MM.DSW"' status.json || fail "status --json without MM.DSW"
[ -s audit-export/leaves.txt ] || fail "audit export is empty"
ok "broker: agreement loaded, revoked agent refused, status, audit export"
