# lib.sh: what the integration tests share. Each test starts with
#
#	set -u
#	. "${REPAT_TOP:-.}/tests/integ/lib.sh"
#
# and gets: B (the build folder), R (the repat command), T (a temporary
# folder removed at exit, with any broker started here stopped first),
# fail / ok, free_port, start_broker / try_start_broker / stop_broker,
# reload_broker, wait_log, wait_for, at_exit, make_region, and same_crl /
# make_crl for CRL tests. The broker's output goes to $T/broker.log (the
# log of an earlier run of the same test is kept in $T/broker.log.old).
B=${REPAT_BUILD:?REPAT_BUILD is not set}
R="$B/repat"
T=$(mktemp -d)
BPID=
BC=$T/r/broker/broker.conf
AT_EXIT=:

# stop_broker: SIGTERM, then the broker's exit status (0 when clean).
stop_broker() {
	if [ -n "$BPID" ]; then
		kill "$BPID" 2>/dev/null
		wait "$BPID"
		_rc=$?
		BPID=
		return $_rc
	fi
}
# at_exit CMD: run CMD when the test ends, before the broker is stopped.
at_exit() { AT_EXIT="$AT_EXIT; $*"; }
_cleanup() {
	eval "$AT_EXIT"
	stop_broker 2>/dev/null
	rm -rf "$T"
}
trap _cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*" >&2
	[ -f "$T/broker.log" ] && tail -20 "$T/broker.log" >&2
	exit 1
}
ok() { echo "ok: $*"; }

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
	    awk 'BEGIN { srand(); print 20000 + int(rand() * 30000) }'
}

# wait_for FILE PATTERN [TENTHS]: until FILE holds PATTERN (default 15 s).
wait_for() {
	_i=0
	until grep -qs "$2" "$1"; do
		_i=$((_i + 1))
		[ $_i -le "${3:-150}" ] || return 1
		sleep 0.1
	done
}

# _await_log PATTERN: 0 once the running broker logged it, 1 when the
# broker exited first, 2 after 10 s.
_await_log() {
	_i=0
	until grep -qs "$1" "$T/broker.log"; do
		_i=$((_i + 1))
		[ $_i -le 100 ] || return 2
		kill -0 "$BPID" 2>/dev/null || return 1
		sleep 0.1
	done
}

# wait_log PATTERN: until the running broker logged it (10 s).
wait_log() {
	_await_log "$1"
	case $? in
	1) fail "the broker exited" ;;
	2) fail "the broker did not log: $1" ;;
	esac
}

# _run_broker [CONF]: starts repat-broker (default $BC) in the background.
_run_broker() {
	cat "$T/broker.log" >>"$T/broker.log.old" 2>/dev/null
	: >"$T/broker.log"
	"$B/repat-broker" -c "${1:-$BC}" >>"$T/broker.log" 2>&1 </dev/null &
	BPID=$!
}

# start_broker [CONF]: starts repat-broker (default $BC) and waits until it
# listens.
start_broker() {
	_run_broker "$@"
	wait_log "listening on"
}

# try_start_broker [CONF]: like start_broker, for a broker that may refuse
# to start: 0 when it listens, 1 when it exited (its log stays in
# $T/broker.log).
try_start_broker() {
	_run_broker "$@"
	_await_log "listening on"
	case $? in
	1) wait "$BPID"; BPID=; return 1 ;;
	2) fail "the broker neither started nor exited" ;;
	esac
}

# reload_broker: SIGHUP, then waits until the broker logged one more reload
# of its trust bundle (10 s).
reload_broker() {
	_n=$(grep -c "reload: trust bundle and CRLs reloaded" "$T/broker.log")
	kill -HUP "$BPID"
	_i=0
	until [ "$(grep -c "reload: trust bundle and CRLs reloaded" \
	    "$T/broker.log")" -gt "$_n" ]; do
		_i=$((_i + 1))
		[ $_i -le 100 ] || fail "the broker did not reload its trust bundle"
		sleep 0.1
	done
}

# same_crl A B: A and B hold the same CRL (PEM or DER), byte for byte as DER.
same_crl() {
	openssl crl -in "$1" -outform DER -out "$T/.crl-a" 2>/dev/null &&
	    openssl crl -in "$2" -outform DER -out "$T/.crl-b" 2>/dev/null &&
	    cmp -s "$T/.crl-a" "$T/.crl-b"
}

# make_crl KEY CERT LAST NEXT OUT: a CRL signed by KEY with CERT's subject
# as issuer, lastUpdate LAST and nextUpdate NEXT (`date -d` strings, e.g.
# "-40 days"), revoking nothing, made by the openssl command (not repat).
make_crl() {
	_d=$T/.openssl-ca
	rm -rf "$_d"
	mkdir -p "$_d"
	: >"$_d/index.txt"
	echo 01 >"$_d/crlnumber"
	printf '[ca]\ndefault_ca = x\n[x]\ndatabase = %s\ncrlnumber = %s\ndefault_md = default\n' \
	    "$_d/index.txt" "$_d/crlnumber" >"$_d/ca.cnf"
	openssl ca -config "$_d/ca.cnf" -gencrl -keyfile "$1" -cert "$2" \
	    -crl_lastupdate "$(date -u -d "$3" +%Y%m%d%H%M%SZ)" \
	    -crl_nextupdate "$(date -u -d "$4" +%Y%m%d%H%M%SZ)" \
	    -out "$5" >"$_d/log" 2>&1 || { cat "$_d/log"; fail "openssl ca -gencrl"; }
}

# make_region [ARGS...]: a region in $T/r on a free port ($PORT), whose
# agents give up connecting after 2 s. ARGS go to `repat region init`.
make_region() {
	PORT=$(free_port)
	"$R" region init --out "$T/r" --port "$PORT" "$@" >"$T/region.log" \
	    2>&1 || { cat "$T/region.log"; fail "region init"; }
	for _c in "$T"/r/agents/*/agent.conf; do
		echo "connect_timeout = 2s" >>"$_c"
	done
}
