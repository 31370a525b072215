#!/usr/bin/env bash
# Every test of the project, run by `make check` after `make all`.
# Each step prints PASS or FAIL; the last line counts them.
# `bash scripts/check.sh STEP...` runs only the steps named (a later step may
# need an earlier one's output: c-run-shared needs c-build-shared).
set -u
cd "$(dirname "$0")/.."
top=$PWD
out=$top/build/tests
mkdir -p "$out"
passed=0
failed=0
failures=()
selected=("$@")
ran=()

step() { # step NAME COMMAND...: run, log to build/tests/NAME.log, count
	local name=$1
	shift
	[ ${#selected[@]} -eq 0 ] || [[ " ${selected[*]} " == *" $name "* ]] || return 0
	ran+=("$name")
	printf '== %s\n' "$name"
	if "$@" >"$out/$name.log" 2>&1; then
		passed=$((passed + 1))
		printf 'PASS %s\n' "$name"
	else
		failed=$((failed + 1))
		failures+=("$name")
		printf 'FAIL %s (log: build/tests/%s.log)\n' "$name" "$name"
		tail -n 40 "$out/$name.log"
	fi
}

export PKG_CONFIG_PATH=$top/build/pkgconfig
CFLAGS_STRICT=(-std=c11 -Wall -Wextra -Werror -pedantic -g)
tests=$(ls Tests/c/t_*.c | xargs -n1 basename | sed 's/\.c$//')

# 1. The Swift suite (model, words, allocator, descriptors, checker, C exports).
step swift-test swift test

# 2-3. C consumers through pkg-config, against the shared and the static library.
build_c() { # build_c VARIANT PKG EXTRA...
	local variant=$1 pkg=$2
	shift 2
	local rc=0
	for t in $tests; do
		rm -f "$out/$t-$variant"
		cc "${CFLAGS_STRICT[@]}" "$@" "Tests/c/$t.c" -o "$out/$t-$variant" $(pkg-config --cflags --libs "$pkg") || rc=1
	done
	return $rc
}
run_c() { # run_c VARIANT [WRAPPER...]
	local variant=$1 rc=0
	shift
	for t in $tests; do "$@" "$out/$t-$variant" || rc=1; done
	return $rc
}
step c-build-shared build_c shared scamem -Wl,-rpath,"$top/build/lib"
step c-run-shared run_c shared
step c-build-static build_c static scamem-static
step c-run-static run_c static

# 4. Header hygiene: C11 and C++17 with every warning as an error, and the
# address of every exported function taken so a missing one fails to link.
api_names() { python3 scripts/abi.py functions include/scamem.h; }
header_check() {
	{
		echo '#include <scamem.h>'
		echo '#include <stdio.h>'
		echo 'int main(void) {'
		echo '  void (*volatile p)(void);'
		api_names | sed 's/.*/  p = (void (*)(void))\&&; (void)p;/'
		echo '  printf("%s\\n", scamem_version_string());'
		echo '  return 0;'
		echo '}'
	} >"$out/header_all.c"
	cc "${CFLAGS_STRICT[@]}" "$out/header_all.c" -o "$out/header_c" $(pkg-config --cflags --libs scamem) -Wl,-rpath,"$top/build/lib" &&
		c++ -x c++ -std=c++17 -Wall -Wextra -Werror -pedantic "$out/header_all.c" -o "$out/header_cxx" \
			$(pkg-config --cflags --libs scamem) -Wl,-rpath,"$top/build/lib" &&
		cc "${CFLAGS_STRICT[@]}" "$out/header_all.c" -o "$out/header_static" $(pkg-config --cflags --libs scamem-static) &&
		"$out/header_c" && "$out/header_cxx" && "$out/header_static"
}
step header-c11-cxx17 header_check

# 5. One set of names: the header's functions, the .so's and the .a's symbols.
symbol_check() {
	api_names >"$out/syms.header"
	nm -D --defined-only build/lib/libscamem.so | awk '{print $NF}' | sed 's/@.*//' | grep -v '^SCAMEM_' | sort -u >"$out/syms.so"
	nm -g --defined-only build/lib/libscamem.a | awk 'NF==3 {print $3}' | sort -u >"$out/syms.a"
	echo "header: $(wc -l <"$out/syms.header")  so: $(wc -l <"$out/syms.so")  a: $(wc -l <"$out/syms.a")"
	diff "$out/syms.header" "$out/syms.so" && diff "$out/syms.header" "$out/syms.a" &&
		! grep -v '^scamem_' "$out/syms.so" && readelf -d build/lib/libscamem.so | grep -q 'SONAME.*libscamem.so.0]'
}
step symbols symbol_check

# 5b. The ABI (docs/abi.md): make abi-check (the version script names every
# function in its release's node, the .so's exports carry those versions with
# DEFAULT visibility, abi-compliance-checker finds nothing incompatible with
# 0.1's dump), then Tests/abi/t_abi.sh proves each check fails on broken
# copies: a removed function, a changed field type, swapped constants, a
# grown output struct, a misplaced or globbed symbol, a protected export.
abi_check() { make -s abi-check && bash Tests/abi/t_abi.sh build/lib/libscamem.so; }
step abi abi_check

# 5c. Every exported function exercised from C: the C tests linked with a
# --wrap shim (scripts/abi.py wrap) that counts each call's result; every
# function must succeed somewhere and, if it returns an errno, fail somewhere.
api_coverage() {
	local flags trace="$out/api.trace" rc=0
	flags=$(python3 scripts/abi.py wrap include/scamem.h "$out/api_trace.c") || return 1
	rm -f "$trace"
	for t in $tests; do
		cc "${CFLAGS_STRICT[@]}" "Tests/c/$t.c" "$out/api_trace.c" -o "$out/$t-trace" $flags \
			$(pkg-config --cflags --libs scamem) -Wl,-rpath,"$top/build/lib" &&
			SCAMEM_API_TRACE="$trace" "$out/$t-trace" || rc=1
	done
	python3 scripts/abi.py coverage include/scamem.h "$trace" && return $rc
}
step api-coverage api_coverage

# 6. The README's examples are compiled: the C one here, the Swift one is
# examples/swift (built by swift build) and must match the README's block.
readme_examples() {
	awk '/^```c$/{f=1;next} /^```$/{f=0} f' README.md >"$out/readme_example.c"
	awk '/^```swift$/{f=1;next} /^```$/{f=0} f' README.md >"$out/readme_example.swift"
	test -s "$out/readme_example.c" && diff "$out/readme_example.swift" examples/swift/main.swift &&
		cc "${CFLAGS_STRICT[@]}" "$out/readme_example.c" -o "$out/readme_example" $(pkg-config --cflags --libs scamem) \
			-Wl,-rpath,"$top/build/lib" && "$out/readme_example" && swift run -q scamem-example
}
step readme-examples readme_examples

# 7. Install (staged with DESTDIR, and into a prefix), then link a program
# every way a user can: pkg-config shared, static and --static, CMake's
# package and pkg_check_modules, non-PIE with GNU ld and lld, C++, ctypes.
step consumers bash Tests/consumers/run.sh

# 8. valgrind on every C consumer: no errors, nothing definitely lost.
step valgrind run_c shared valgrind -q --error-exitcode=99 --leak-check=full --show-possibly-lost=no --errors-for-leak-kinds=definite

# 9. AddressSanitizer and UBSan on the C side of every consumer.
step c-build-asan build_c asan scamem -fsanitize=address,undefined -fno-omit-frame-pointer -Wl,-rpath,"$top/build/lib"
step c-run-asan run_c asan env ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=halt_on_error=1

# 10. The examples users copy: built through pkg-config, run, exit 0.
examples_check() {
	for e in examples/*.c; do
		cc "${CFLAGS_STRICT[@]}" "$e" -o "$out/$(basename "$e" .c)" $(pkg-config --cflags --libs scamem) \
			-Wl,-rpath,"$top/build/lib" && "$out/$(basename "$e" .c)" || return 1
	done
}
step examples examples_check

# 11. The command (Tests/cli/t_cli.sh): its table and JSON (schema_version 1),
# exit 1 naming the file on each runtime failure and 64 on usage errors,
# --version and --quiet; capture works as root and fails naming
# /proc/kpageflags otherwise. Then every option of its --help is in
# man/scamem.1, which groff renders without a warning (t_man.sh).
cli_check() {
	bash Tests/cli/t_cli.sh build/bin/scamem && bash Tests/cli/t_man.sh build/bin/scamem
}
step cli cli_check

# 12. ThreadSanitizer on the tests that race threads on one machine.
step swift-tsan swift test --sanitize=thread --scratch-path .build-tsan --filter 'Thread|Concurrency'

# 13. The whole Swift suite under AddressSanitizer (XCTest's own allocations
# at exit are not ours: toolchain.md).
step swift-asan env LSAN_OPTIONS=suppressions="$top/Tests/asan.supp" swift test --sanitize=address --scratch-path .build-asan

# 14. The C stress test (Tests/stress/stress.c): 2, 4 and 8 threads on one
# machine under all five strategies with the checker running alongside, then
# 4 threads against the library built with ThreadSanitizer, where any report
# fails. Each run takes STRESS_SECONDS (default 10), split between strategies.
stress_check() {
	Tests/stress/build.sh normal "$out/stress" || return 1
	for t in 2 4 8; do "$out/stress" "$t" "${STRESS_SECONDS:-10}" all || return 1; done
}
stress_tsan_check() {
	Tests/stress/build.sh tsan "$out/stress-tsan" || return 1
	SWIFT_BACKTRACE=enable=no TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
		"$out/stress-tsan" 4 "${STRESS_SECONDS:-10}" all 2>&1 | tee "$out/stress-tsan.out"
	[ "${PIPESTATUS[0]}" -eq 0 ] && ! grep -q 'ThreadSanitizer' "$out/stress-tsan.out"
}
step stress stress_check
step stress-tsan stress_tsan_check

# 15. Fuzzing (Tests/fuzz/): every committed crash input replayed once, then
# each libFuzzer target for a bounded time on a scratch copy of its corpus.
step fuzz-regressions bash scripts/fuzz.sh replay
step fuzz-run bash scripts/fuzz.sh run "${FUZZ_SECONDS:-60}"

# 16. The benchmarks in smoke mode (they run and print; no time is judged),
# then the callgrind gate: pin + unpin instructions per page of a mapped
# 512-page vmalloc_user area within 20 % of bench/callgrind.baseline.
step bench-smoke make --no-print-directory bench BENCH_ARGS=--smoke
step callgrind-gup bash scripts/callgrind-gate.sh "$out"

for name in "${selected[@]}"; do
	[[ " ${ran[*]} " == *" $name "* ]] || { failed=$((failed + 1)) && failures+=("$name(no such step)"); }
done
echo
[ $failed -eq 0 ] || printf 'failed: %s\n' "${failures[*]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
