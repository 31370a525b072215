#!/usr/bin/env bash
# Tests/fuzz/triage.sh HARNESS INPUT...: runs each input once and prints one
# line per input: a signature (the harness's "BUG:" message with numbers
# blanked, or the first library frame of the sanitizer's stack), then the
# file. `sort | uniq -c` on the signatures gives the distinct crashes.
set -u
h=$1
shift
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-allocator_may_return_null=1:max_allocation_size_mb=1024:detect_leaks=0}
for f in "$@"; do
	out=$("$h" -runs=1 "$f" 2>&1)
	if ! grep -q 'ERROR: libFuzzer\|ERROR: AddressSanitizer\|BUG:\|Fatal error\|deadly signal\|ERROR: LeakSanitizer' <<<"$out"; then
		echo "NO-CRASH $f"
		continue
	fi
	bug=$(grep -m1 'BUG:' <<<"$out" | sed -e 's/.*BUG: //' -e 's/0x[0-9a-f]*/N/g' -e 's/-\?[0-9][0-9]*/N/g')
	if [ -n "$bug" ]; then
		echo "BUG: $bug | $f"
		continue
	fi
	fatal=$(grep -m1 'Fatal error' <<<"$out" | sed 's/.*Fatal error: //')
	frame=$(grep -E '^ +#[0-9]+ ' <<<"$out" | grep -v 'libclang_rt\|compiler-rt\|libswiftCore\|/<compiler-generated>\|libc\.so\|libFuzzer' |
		grep -m1 -oE '[A-Za-z_+]+\.swift:[0-9]+' || true)
	kind=$(grep -m1 -oE 'AddressSanitizer: [a-zA-Z-]+|deadly signal|out-of-memory|LeakSanitizer' <<<"$out")
	echo "${kind:-crash} ${fatal:+($fatal) }at ${frame:-?} | $f"
done
