#!/usr/bin/env bash
# Instructions per item of each benchmark in bench/bench.c, counted by
# callgrind (instructions do not drift with this machine kind's load, as
# wall times do): the benchmark runs once uninstrumented, then ITERS times
# with instrumentation on (--instr-atstart=no; bench.c toggles it), and the
# count is divided by ITERS and the items of one iteration.
# Usage: scripts/bench-callgrind.sh BENCH_BINARY [NAME...]   (make bench runs it)
set -eu
bin=$1
shift
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "| benchmark | instructions per item |"
echo "|---|---|"
"$bin" --list | while read -r name items; do
	if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then continue; fi
	# About 10-50 M instructions a benchmark.
	if [ "$items" -ge 1000000 ]; then iters=1; elif [ "$items" -ge 256 ]; then iters=20; else iters=2000; fi
	ir=$(valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/$name.out" \
		"$bin" --callgrind "$name" "$iters" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
	[ -n "$ir" ] || { echo "callgrind gave no count for $name"; exit 1; }
	awk -v n="$name" -v ir="$ir" -v it="$iters" -v items="$items" \
		'BEGIN { printf "| %s | %.1f |\n", n, ir / (it * items) }'
done
