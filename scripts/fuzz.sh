#!/usr/bin/env bash
# The libFuzzer targets of Tests/fuzz/ (Tests/fuzz/README.md):
#   scripts/fuzz.sh build            instrumented library + both harnesses into build/fuzz/
#   scripts/fuzz.sh replay [TARGET]  build, then run every committed regression input once
#   scripts/fuzz.sh run SECONDS [TARGET]
#                                    build, then fuzz each target SECONDS seconds on a scratch copy
#                                    of its seed corpus; prints executions per second
#   scripts/fuzz.sh hunt SECONDS [TARGET]
#                                    -fork=1 -ignore_crashes=1,
#                                    then one line per distinct crash (Tests/fuzz/triage.sh)
#   scripts/fuzz.sh materialise INPUT DIR
#                                    write the capture directory an import input describes
# TARGET is api or import (default: both). replay and run fail on any crash or leak.
set -u
cd "$(dirname "$0")/.."
top=$PWD
out=$top/build/fuzz
scratch=${FUZZ_SCRATCH:-.build-fuzz}
SWIFT=${SWIFT:-swift}
TOOLCHAIN=$(dirname "$(dirname "$(readlink -f "$(command -v "$SWIFT")")")")
CLANG=${FUZZ_CLANG:-$TOOLCHAIN/bin/clang}
LIBDIR=$top/$scratch/release
mkdir -p "$out"

# The Swift runtime's crash handler would race libFuzzer's.
export SWIFT_BACKTRACE=enable=no
# Huge allocations the model asks for (a machine of 2^40 pfns) fail as
# -ENOMEM instead of being reported; leaks are real failures: LeakSanitizer
# reports nothing from the Swift runtime here (its metadata stays
# reachable), and Tests/fuzz/lsan.supp names what it would be if it did.
export ASAN_OPTIONS=${ASAN_OPTIONS:-allocator_may_return_null=1:max_allocation_size_mb=1024:detect_leaks=1:abort_on_error=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/Tests/fuzz/lsan.supp:print_suppressions=0}
# fuzz_import's per-process capture directory (a crash leaves it behind).
export TMPDIR=$out/tmp
mkdir -p "$TMPDIR"
FUZZ_FLAGS=(-rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=20 -max_len=4096)

targets() { if [ -n "${1:-}" ]; then echo "$1"; else echo api import; fi; }

build() {
	echo "== instrumented library ($scratch)"
	"$SWIFT" build -c release --scratch-path "$scratch" --product scamem_shared \
		-Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table || return 1
	mkdir -p "$out"
	local extra
	for t in api import; do
		extra=()
		[ $t = import ] && extra=(-llzma)
		if [ "$out/fuzz_$t" -nt "Tests/fuzz/fuzz_$t.c" ] && [ "$out/fuzz_$t" -nt "$LIBDIR/libscamem_shared.so" ] &&
			[ "$out/fuzz_$t" -nt include/scamem.h ] && [ "$out/fuzz_$t" -nt Tests/fuzz/input.h ]; then
			echo "== build/fuzz/fuzz_$t is up to date"
			continue
		fi
		echo "== build/fuzz/fuzz_$t"
		"$CLANG" -g -O1 -Wall -Wextra -Werror -fsanitize=fuzzer,address -fuse-ld=lld -Iinclude \
			"Tests/fuzz/fuzz_$t.c" -o "$out/fuzz_$t" -L"$LIBDIR" -lscamem_shared "${extra[@]}" \
			-Wl,-rpath,"$LIBDIR" || return 1
	done
}

replay() {
	local rc=0 n=0 bad=0 f
	for t in $(targets "${1:-}"); do
		for f in Tests/fuzz/regressions/$t/*; do
			[ -f "$f" ] || continue
			n=$((n + 1))
			if "$out/fuzz_$t" -runs=1 "$f" >"$out/replay.log" 2>&1; then
				echo "ok   $f"
			else
				echo "FAIL $f: $(grep -m1 -E 'BUG:|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|Fatal error' "$out/replay.log")"
				bad=$((bad + 1))
				rc=1
			fi
		done
	done
	echo "replayed $n regression inputs, $bad failed"
	return $rc
}

run() {
	local secs=$1 rc=0 t log units rate
	for t in $(targets "${2:-}"); do
		rm -rf "$out/corpus-$t" "$out/artifacts-$t"
		mkdir -p "$out/corpus-$t" "$out/artifacts-$t"
		cp Tests/fuzz/corpus/$t/* "$out/corpus-$t/"
		log=$out/run-$t.log
		echo "== fuzz_$t for ${secs}s"
		"$out/fuzz_$t" "${FUZZ_FLAGS[@]}" -max_total_time="$secs" -print_final_stats=1 \
			-artifact_prefix="$out/artifacts-$t/" "$out/corpus-$t" >"$log" 2>&1 || rc=1
		units=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
		rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$')
		echo "fuzz_$t: ${units:-?} executions in ${secs}s, ${rate:-?} exec/s, corpus $(ls "$out/corpus-$t" | wc -l) files"
		# A slow unit is libFuzzer's note that one input took over 10 s (a
		# loaded machine running scamem_compare_strategies); a timeout, crash,
		# leak or OOM artifact is a failure.
		if [ -n "$(ls "$out/artifacts-$t" | grep -v '^slow-unit-')" ] || ! grep -q 'stat::number_of_executed_units' "$log"; then
			rc=1
			echo "fuzz_$t FAILED:"
			grep -m1 -E 'BUG:|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|Fatal error' "$log"
			ls "$out/artifacts-$t"
			tail -n 30 "$log"
		fi
	done
	return $rc
}

hunt() {
	local secs=$1 t
	for t in $(targets "${2:-}"); do
		# The corpus grows from hunt to hunt; the crashes are this hunt's.
		rm -rf "$out/hunt-$t/crashes"
		mkdir -p "$out/hunt-$t/corpus" "$out/hunt-$t/crashes"
		cp -n Tests/fuzz/corpus/$t/* "$out/hunt-$t/corpus/"
		echo "== hunting with fuzz_$t for ${secs}s"
		ASAN_OPTIONS=${ASAN_OPTIONS/detect_leaks=1/detect_leaks=0} \
			"$out/fuzz_$t" "${FUZZ_FLAGS[@]}" -fork=1 -ignore_crashes=1 -max_total_time="$secs" \
			-artifact_prefix="$out/hunt-$t/crashes/" "$out/hunt-$t/corpus" >"$out/hunt-$t/log" 2>&1
		ls "$out/hunt-$t/crashes" | grep -q . || { echo "no crashes"; continue; }
		bash Tests/fuzz/triage.sh "$out/fuzz_$t" "$out/hunt-$t/crashes"/* |
			sort | awk -F' [|] ' '$1 != last { print; last = $1 }'
	done
}

materialise() {
	rm -rf "$2" && mkdir -p "$2" &&
		SCAMEM_FUZZ_WRITE_DIR=$2 "$out/fuzz_import" -runs=1 "$1" 2>&1 | grep -E 'fuzz_import:|runtime failure|ERROR: Address' | head -5
	ls "$2"
}

case ${1:-} in
build) build ;;
replay) build >"$out.build.log" 2>&1 || { cat "$out.build.log"; exit 1; }; replay "${2:-}" ;;
run) build >"$out.build.log" 2>&1 || { cat "$out.build.log"; exit 1; }; run "${2:-60}" "${3:-}" ;;
materialise) materialise "$2" "$3" ;;
hunt) build >"$out.build.log" 2>&1 || { cat "$out.build.log"; exit 1; }; hunt "${2:-60}" "${3:-}" ;;
*)
	sed -n '2,14p' "$0"
	exit 2
	;;
esac
