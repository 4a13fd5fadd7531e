#!/bin/sh
# ensure-deps.sh: checks that every build dependency is present. When one is
# missing it installs the Debian packages if it runs as root with apt-get,
# and otherwise prints the one command to run and fails.
#
# Usage: dist/ensure-deps.sh [fuzz]   (fuzz: also clang's libFuzzer runtime)

PKGS="libzmq3-dev libprotobuf-c-dev protobuf-c-compiler libssl-dev \
libsqlite3-dev libjansson-dev libcmocka-dev libsodium-dev pkg-config sqlite3"
MODULES="libzmq libprotobuf-c libcrypto sqlite3 jansson cmocka libsodium"

missing() {
	command -v pkg-config >/dev/null 2>&1 || return 0
	command -v protoc-c >/dev/null 2>&1 || return 0
	command -v sqlite3 >/dev/null 2>&1 || return 0
	for m in $MODULES; do
		pkg-config --exists "$m" || return 0
	done
	if [ "$1" = fuzz ]; then
		command -v clang >/dev/null 2>&1 || return 0
		ls /usr/lib/llvm-14/lib/clang/14*/lib/linux/libclang_rt.fuzzer-x86_64.a \
		    >/dev/null 2>&1 || return 0
	fi
	return 1
}

[ "$1" = fuzz ] && PKGS="$PKGS clang libclang-rt-14-dev"
missing "$1" || exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "repat: installing build dependencies: $PKGS" >&2
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -qq && apt-get install -y -qq $PKGS; } >&2 || {
		echo "repat: apt-get failed; run it by hand:" >&2
		echo "  apt-get install $PKGS" >&2
		exit 1
	}
	missing "$1" || exit 0
	echo "repat: dependencies still missing after apt-get" >&2
	exit 1
fi
echo "repat: missing build dependencies. Install them with:" >&2
echo "  sudo apt-get install $PKGS" >&2
exit 1
