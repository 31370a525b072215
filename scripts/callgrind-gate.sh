#!/usr/bin/env bash
# The callgrind gate (issue 12): instructions per page of pin + unpin of a
# mapped 512-page vmalloc_user area (bench/bench.c's gup_vmalloc, on the
# static library, counted by scripts/bench-callgrind.sh), against the figure
# committed in bench/callgrind.baseline. Fails when the count exceeds the
# committed figure by more than 20 %; a figure that falls should be
# committed lower, so the gate follows the code down.
# Usage: scripts/callgrind-gate.sh [OUT_DIR]   (after `make`)
set -eu
cd "$(dirname "$0")/.."
out=${1:-build/tests}
mkdir -p "$out"
cc -std=c11 -O2 -pthread -Wall -Wextra -Werror bench/bench.c -o "$out/bench-static" \
	$(PKG_CONFIG_PATH="$PWD/build/pkgconfig" pkg-config --cflags --libs scamem-static)
per_page=$(bash scripts/bench-callgrind.sh "$out/bench-static" gup_vmalloc | sed -n 's/^| gup_vmalloc | \([0-9]*\).*/\1/p')
[ -n "$per_page" ] || { echo "callgrind gave no count"; exit 1; }
committed=$(sed -n 's/^pin_unpin_per_page \([0-9]*\)$/\1/p' bench/callgrind.baseline)
[ -n "$committed" ] || { echo "bench/callgrind.baseline has no pin_unpin_per_page"; exit 1; }
limit=$(( committed * 120 / 100 ))
echo "pin + unpin of 512 mapped vmalloc_user pages: $per_page instructions per page (committed $committed, limit $limit)"
[ "$per_page" -le "$limit" ]
