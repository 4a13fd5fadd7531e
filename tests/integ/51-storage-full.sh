#!/bin/sh
# 51-storage-full.sh: the broker on a full disk (issue 9, hostile storage).
#
# The broker's database lives on a small tmpfs (needs root and mount; the
# test is skipped with a message otherwise). A filler file leaves a few
# hundred kB free; messages are submitted until the broker refuses one.
# Expected: a clear rejection REJECT_STORAGE_FULL (not silence, not a
# crash); what was receipted before is still delivered; after the filler
# is removed (space returns) new submits are receipted again, and
# `repat-broker check` passes.
set -u
. "${REPAT_TOP:-.}/tests/integ/lib.sh"
M=$T/disk

mkdir -p "$M"
if ! mount -t tmpfs -o size=3m tmpfs "$M" 2>/dev/null; then
	echo "SKIP: cannot mount a small tmpfs here (needs root); the full-disk test did not run"
	exit 0
fi
# The broker holds the database open: stop it before unmounting.
at_exit 'stop_broker 2>/dev/null; umount "$M" 2>/dev/null'

make_region
sed -i -e 's/^authorization = .*/authorization = open/' \
    -e "s|^database = .*|database = $M/broker.db|" "$BC"
start_broker
# Register the recipient (first hello), then fill the disk.
"$B/repat-bench" fill --region "$T/r" --to MM.DSW --drain >/dev/null ||
	fail "the recipient could not say hello"
"$B/repat-bench" fill --region "$T/r" --count 10 >"$T/out" 2>&1 ||
	{ cat "$T/out"; fail "10 messages on an empty disk"; }
TH=$T/r/agents/TH.DATIP
"$R" sync --dir "$TH" >"$T/out" 2>&1 || { cat "$T/out"; fail "sync"; }
avail=$(df -k "$M" | awk 'NR == 2 { print $4 }')
dd if=/dev/zero of="$M/filler" bs=1k count=$((avail - 400)) 2>/dev/null
ok "disk filled to $(df -k "$M" | awk 'NR == 2 { print $4 }') kB free"

"$B/repat-bench" fill --region "$T/r" --count 2000 >"$T/out" 2>&1
rc=$?
cat "$T/out"
kill -0 "$BPID" 2>/dev/null || fail "the broker died on a full disk"
before=$(sed -n 's/^receipted \([0-9]*\).*/\1/p' "$T/out")
[ "$rc" = 0 ] && fail "2000 messages fitted in 400 kB: the disk never filled"
# A COMMIT that fails with SQLITE_FULL keeps nothing of its group and
# answers each of its submits with REJECT_STORAGE_FULL (broker_group_end).
if [ "$rc" = 3 ] && grep -q "refused REJECT_STORAGE_FULL" "$T/out"; then
	ok "refused with REJECT_STORAGE_FULL after $before more messages"
else
	grep -m 3 -i "commit\|full\|disk" "$T/broker.log"
	fail "a full disk must be answered with REJECT_STORAGE_FULL (exit $rc)"
fi

# An agent's send on the full disk is told why, whether its hello or its
# submit could not be written: not "the broker is unreachable".
"$R" send --dir "$TH" --to MM.DSW --type case_referral --case TH-2026-000777 \
    --form examples/forms/case_referral.json >"$T/send" 2>&1
rc=$?
[ "$rc" = 3 ] && grep -q "STORAGE_FULL" "$T/send" ||
	{ cat "$T/send"; fail "repat send on a full disk: exit $rc, no STORAGE_FULL"; }
ok "repat send on a full disk: kept in the outbox, STORAGE_FULL said ($(grep -o "could not admit\|did not keep" "$T/send" | head -1))"

# Space returns: the filler goes, submits are receipted again.
rm -f "$M/filler"
sleep 0.5
"$B/repat-bench" fill --region "$T/r" --count 5 >"$T/out2" 2>&1 ||
	{ cat "$T/out2"; fail "no recovery after space returned"; }
grep -q "^receipted 5$" "$T/out2" || fail "recovery: $(cat "$T/out2")"
ok "recovered: 5 new messages receipted once space returned"
kill -0 "$BPID" 2>/dev/null || fail "the broker died"

# Everything receipted (10 + before + 5) is delivered: nothing was lost.
want=$((10 + before + 5))
"$R" sync --dir "$TH" >"$T/out" 2>&1 || { cat "$T/out"; fail "sync after"; }
grep -q "^sent: 1 receipted" "$T/out" || { cat "$T/out"; fail "the kept send"; }
want=$((want + 1))
"$B/repat-bench" fill --region "$T/r" --to MM.DSW --drain >"$T/out3" 2>&1
got=$(sed -n 's/^delivered \([0-9]*\)$/\1/p' "$T/out3")
[ "${got:-0}" = "$want" ] ||
	fail "delivered ${got:-0} of the $want receipted messages"
ok "all $want receipted messages delivered after the disk-full episode"

stop_broker
"$B/repat-broker" check -c "$BC" >"$T/check" 2>&1 ||
	{ cat "$T/check"; fail "repat-broker check after a full disk"; }
ok "repat-broker check passes"
