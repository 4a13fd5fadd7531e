#!/bin/sh
# crashtest.sh BUILD KILLS: kills repat-broker with SIGKILL at random
# moments under load, KILLS times, restarting it each time, then checks
# that every receipted message was delivered exactly once at the
# application and that the audit log verifies (`repat-broker check`).
#
# The load is `repat-bench crash-load` (bench/crash.c): two senders and
# two consumers through the real client library, consumers storing each
# delivery before acking it. `make crashtest` runs 100 kills;
# tests/integ/50-crash-short.sh runs 3 in `make check`.
#
# Env: CRASH_RATE (messages/s per sender, default 400), CRASH_KEEP=1 keeps
# the folder for a post-mortem.
set -u
B=${1:?usage: crashtest.sh BUILD KILLS}
KILLS=${2:-100}
B=$(cd "$B" && pwd)
RATE=${CRASH_RATE:-400}
T=$(mktemp -d /tmp/repat-crash.XXXXXX)
BPID=
LPID=
cleanup() {
	[ -n "$LPID" ] && kill "$LPID" 2>/dev/null
	[ -n "$BPID" ] && kill -9 "$BPID" 2>/dev/null
	wait 2>/dev/null
	if [ "${CRASH_KEEP:-0}" = 1 ]; then
		echo "kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() {
	echo "FAIL: $*" >&2
	for f in "$T"/broker.*.log; do :; done
	[ -f "${f:-}" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }
	[ -f "$T/load.log" ] && { echo "--- load" >&2; tail -20 "$T/load.log" >&2; }
	exit 1
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
	    awk 'BEGIN { srand(); print 20000 + int(rand() * 30000) }'
}

N=0
start_broker() {
	N=$((N + 1))
	log=$T/broker.$N.log
	"$B/repat-broker" -c "$CONF" >"$log" 2>&1 &
	BPID=$!
	i=0
	until grep -q "listening on" "$log" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 300 ] || fail "the broker did not start again (start $N)"
		kill -0 "$BPID" 2>/dev/null ||
		    fail "the broker refused to start after a SIGKILL (start $N)"
		sleep 0.02
	done
}

PORT=$(free_port)
"$B/repat" region init --out "$T/r" --port "$PORT" >"$T/region.log" 2>&1 ||
	{ cat "$T/region.log"; fail "region init"; }
CONF=$T/r/broker/broker.conf
sed -i 's/^authorization = .*/authorization = open/' "$CONF"
mkdir -p "$T/s"

start_broker
"$B/repat-bench" crash-load --region "$T/r" --state "$T/s" --rate "$RATE" \
    --timeout 60 >"$T/load.log" 2>&1 &
LPID=$!

t0=$(date +%s)
k=0
while [ $k -lt "$KILLS" ]; do
	k=$((k + 1))
	sleep "$(awk -v s="$$$k" 'BEGIN { srand(s); printf "%.3f", 0.05 + rand() * 0.45 }')"
	kill -0 "$LPID" 2>/dev/null || fail "crash-load exited early"
	kill -9 "$BPID" 2>/dev/null
	wait "$BPID" 2>/dev/null
	start_broker
	[ $((k % 10)) = 0 ] && echo "$k kills, $(wc -l <"$T/s/receipted.log") receipted so far"
done
sleep 1
touch "$T/s/stop"
wait "$LPID"
rc=$?
LPID=
cat "$T/load.log"
[ "$rc" = 0 ] || fail "crash-load: some receipted message was lost or duplicated"
n=$(wc -l <"$T/s/receipted.log")
[ "$n" -gt 0 ] || fail "nothing was receipted"

kill "$BPID"
wait "$BPID"
BPID=
"$B/repat-broker" check -c "$CONF" >"$T/check.log" 2>&1 ||
	{ cat "$T/check.log"; fail "repat-broker check after $KILLS kills"; }
cat "$T/check.log"
echo "ok: $KILLS SIGKILLs in $(( $(date +%s) - t0 )) s, $n messages receipted, each delivered exactly once, audit verified"
