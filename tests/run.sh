#!/bin/sh
# run.sh BUILD_DIR: runs every test and ends with one line "N passed, N failed".
#
#  - unit tests (cmocka): each test case counts once;
#  - fuzz corpus replays: each corpus file counts once (a crash fails it);
#  - integration tests (tests/integ/NN-*.sh): each script counts once.
#
# TESTS=pattern runs only the unit/integ tests whose name contains pattern.
B=${1:-build}
B=$(cd "$B" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
passed=0
failed=0
failures=""
log=$B/test-logs
rm -rf "$log"
mkdir -p "$log"
export REPAT_BUILD=$B REPAT_TOP=$top
export CMOCKA_MESSAGE_OUTPUT=stdout
# LeakSanitizer is part of ASan: any leak fails the run.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

want() { [ -z "$TESTS" ] || case "$1" in *"$TESTS"*) return 0;; *) return 1;; esac; }

for t in "$B"/tests/unit/*_test; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	want "$name" || continue
	(cd "$top" && "$t") >"$log/$name.log" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log/$name.log" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log/$name.log" | tail -1)
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1	# crashed, leaked or aborted outside a test case
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" != 0 ]; then
		failures="$failures $name"
		echo "FAIL $name (see $log/$name.log)"
		tail -20 "$log/$name.log"
	else
		echo "ok   $name: $p"
	fi
done

for t in "$B"/tests/fuzz/fuzz_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	corpus=$top/tests/fuzz/corpus/${name#fuzz_}
	[ -d "$corpus" ] || { echo "FAIL $name: no corpus $corpus"; failed=$((failed + 1)); continue; }
	n=$(find "$corpus" -type f | wc -l)
	if "$t" "$corpus" >"$log/$name.log" 2>&1; then
		passed=$((passed + n))
		echo "ok   $name: $n corpus inputs replayed"
	else
		failed=$((failed + 1))
		failures="$failures $name"
		echo "FAIL $name (see $log/$name.log)"
		tail -20 "$log/$name.log"
	fi
done

for t in "$top"/tests/integ/[0-9]*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	want "$name" || continue
	if (cd "$top" && sh "$t") >"$log/$name.log" 2>&1; then
		passed=$((passed + 1))
		echo "ok   $name"
	else
		failed=$((failed + 1))
		failures="$failures $name"
		echo "FAIL $name (see $log/$name.log)"
		tail -30 "$log/$name.log"
	fi
done

[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
