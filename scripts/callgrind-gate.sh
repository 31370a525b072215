#!/usr/bin/env bash
# The callgrind gate (issue 12): instructions per page of pin + unpin of a
# mapped 512-page vmalloc_user area (bench/gup_callgrind.c on the static
# library), against the figure committed in bench/callgrind.baseline. Fails
# when the count exceeds the committed figure by more than 20 %; a figure
# that falls should be committed lower, so the gate follows the code down.
# Usage: scripts/callgrind-gate.sh [OUT_DIR]   (after `make`)
set -eu
cd "$(dirname "$0")/.."
out=${1:-build/tests}
mkdir -p "$out"
cc -std=c11 -O2 -Wall -Wextra -Werror bench/gup_callgrind.c -o "$out/gup_callgrind" \
	$(PKG_CONFIG_PATH="$PWD/build/pkgconfig" pkg-config --cflags --libs scamem-static)
ir() { # instructions of one run with $1 rounds
	valgrind --tool=callgrind --callgrind-out-file="$out/gup_callgrind.$1.out" "$out/gup_callgrind" "$1" 2>&1 |
		sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
rounds=20
base=$(ir 0)
run=$(ir $rounds)
[ -n "$base" ] && [ -n "$run" ] || { echo "callgrind gave no count"; exit 1; }
per_page=$(( (run - base) / (rounds * 512) ))
committed=$(sed -n 's/^pin_unpin_per_page \([0-9]*\)$/\1/p' bench/callgrind.baseline)
[ -n "$committed" ] || { echo "bench/callgrind.baseline has no pin_unpin_per_page"; exit 1; }
limit=$(( committed * 120 / 100 ))
echo "pin + unpin of 512 mapped vmalloc_user pages: $per_page instructions per page (committed $committed, limit $limit)"
[ "$per_page" -le "$limit" ]
