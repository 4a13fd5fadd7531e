#!/bin/sh
# 18-broker-handshake-rate.sh: CURVE handshakes beyond handshake_rate are
# refused (issue 4: refusals of unauthenticated peers are rate-limited and
# aggregated), and service returns once the bucket refills.
set -u
. "${REPAT_TOP:-.}/tests/integ/lib.sh"

make_region
sed -i 's/^authorization = .*/authorization = open/' "$BC"
echo "handshake_rate = 1" >>"$BC"	# bursts of 10
MM=$T/r/agents/MM.DSW
start_broker
# 16 agents connect at once (each sync is one CURVE handshake).
i=0
pids=
for a in "$T"/r/agents/* "$T"/r/agents/*; do
	i=$((i + 1))
	[ $i -le 16 ] || break
	("$R" sync --dir "$a" >/dev/null 2>&1; echo $? >"$T/rc.$i") &
	pids="$pids $!"
done
wait $pids	# not the broker
ok_n=$(grep -lx 0 "$T"/rc.* | wc -l)
refused=$((16 - ok_n))
[ "$ok_n" -ge 5 ] || fail "only $ok_n of 16 connections within the burst"
[ "$refused" -ge 1 ] || fail "16 handshakes in a burst of 10 all accepted"
ok "$ok_n connections served, $refused refused beyond the burst"
sleep 3
"$R" sync --dir "$MM" >/dev/null 2>&1 || fail "not served after the refill"
ok "served again once the bucket refilled"
stop_broker
grep -q "refused [0-9]* unauthenticated" "$T/broker.log" ||
	fail "refusals not aggregated in the log"
ok "refusals aggregated in the log"
