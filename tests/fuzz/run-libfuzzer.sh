#!/bin/sh
# run-libfuzzer.sh BUILD_DIR SECONDS [TARGET...]: builds every fuzz target
# (or the named ones) with clang, libFuzzer, ASan and UBSan, and fuzzes
# each for SECONDS, starting from its committed corpus. New interesting
# inputs go to BUILD_DIR/corpus/NAME (not into the repository); a crash
# stops that target and is saved as BUILD_DIR/crashes/NAME-crash-*:
# fix it, then commit the input to tests/fuzz/corpus/NAME/ so every
# `make check` replays it. Exit 1 when any target crashed.
set -u
B=${1:?usage: run-libfuzzer.sh BUILD_DIR SECONDS [TARGET...]}
secs=${2:?usage: run-libfuzzer.sh BUILD_DIR SECONDS [TARGET...]}
shift 2
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
flags="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $san"
if [ $# -eq 0 ]; then
	set -- $(ls tests/fuzz/fuzz_*.c | sed 's|.*/fuzz_\(.*\)\.c|\1|')
fi
objs=
for t in "$@"; do
	objs="$objs $B/tests/fuzz/fuzz_$t.o"
done
echo "building with clang and libFuzzer in $B ..."
make -s BUILD="$B" CC=clang CFLAGS="$flags" "$B/librepat.a" \
    "$B/libbroker.a" "$B/libagent.a" $objs || exit 2
libs="$(pkg-config --libs libzmq libprotobuf-c libcrypto sqlite3 jansson libsodium) -lpthread"
mkdir -p "$B/crashes"
crashed=
for t in "$@"; do
	bin=$B/fuzz/fuzz_$t
	mkdir -p "$B/fuzz" "$B/corpus/$t"
	clang -fsanitize=fuzzer $san -o "$bin" "$B/tests/fuzz/fuzz_$t.o" \
	    "$B/libbroker.a" "$B/libagent.a" "$B/librepat.a" $libs || exit 2
	echo "fuzzing $t for ${secs}s"
	if ! "$bin" -max_total_time="$secs" -print_final_stats=1 \
	    -artifact_prefix="$B/crashes/$t-" "$B/corpus/$t" \
	    "tests/fuzz/corpus/$t" >"$B/fuzz/$t.log" 2>&1; then
		crashed="$crashed $t"
		tail -40 "$B/fuzz/$t.log"
	fi
	grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' \
	    "$B/fuzz/$t.log" | sed "s/^/  $t /"
done
if [ -n "$crashed" ]; then
	echo "crashed:$crashed (inputs in $B/crashes/)"
	exit 1
fi
echo "no crash in $# targets"
