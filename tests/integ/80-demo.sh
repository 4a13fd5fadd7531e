#!/bin/sh
# 80-demo.sh: `make demo` works: examples/demo.sh plays the founding case on
# a fresh region against a real broker and exits 0, showing both refusals
# with their codes, the broker's state of the case at the end, and the
# audit log verified by the broker's check, by `repat audit verify` and by
# an inclusion proof; it leaves no broker running and no work folder.
set -u
B=${REPAT_BUILD:?REPAT_BUILD is not set}
O=$(mktemp)
W=$(mktemp -d)
trap 'rm -rf "$O" "$W"' EXIT
fail() {
	echo "FAIL: $*" >&2
	tail -30 "$O" >&2
	exit 1
}
ok() { echo "ok: $*"; }

start=$(date +%s)
TMPDIR=$W sh examples/demo.sh "$B" >"$O" 2>&1
rc=$?
took=$(($(date +%s) - start))
[ "$rc" = 0 ] || fail "demo exited $rc"
ok "demo exited 0 in ${took}s"

grep -q "^    REFUSED identification_notice .* to VN.MPS: NO_AGREEMENT: " "$O" ||
	fail "no NO_AGREEMENT refusal for LA -> VN"
grep -q "^    REFUSED repatriation_plan .* to MM.DSW: RETURN_GATE: .*nationality" "$O" ||
	fail "no RETURN_GATE refusal for the early plan"
ok "both refusals shown with code and sentence"

n=$(grep -c "^    sent [a-z_]* [0-9a-f]\{32\} to .*: receipted by the broker" "$O")
[ "$n" -ge 18 ] || fail "only $n messages receipted"
grep -q "^    MM.DSW syncs: received: 1 new" "$O" || fail "no receipt by MM.DSW"
grep -q "^    state (from the broker): follow_up, countries TH MM" "$O" ||
	fail "the case did not reach follow_up"
ok "$n messages receipted, the case ends in follow_up"

grep -q "^    message [0-9a-f]\{32\}: accepted as entry [0-9]* of the broker's audit log" "$O" ||
	fail "no inclusion proof"
grep -q "^    audit log: [0-9]* entries, [0-9]* checkpoints verified" "$O" ||
	fail "repat-broker check did not verify the audit log"
grep -q "broker.db: [0-9]* entries, [0-9]* checkpoints verified .*: ok$" "$O" ||
	fail "repat audit verify did not verify the audit log"
ok "audit log verified three ways"

[ -z "$(ls -A "$W")" ] || fail "the demo left its work folder: $(ls "$W")"
ok "work folder removed"
