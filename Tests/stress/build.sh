#!/usr/bin/env bash
# Builds the stress test. Run from anywhere; paths are the worktree's.
#
#   Tests/stress/build.sh normal OUT   against build/lib (make all first), through pkg-config
#   Tests/stress/build.sh tsan OUT     builds the library with -sanitize=thread into
#                                      .build-tsan-lib, then the test with the toolchain's clang
set -eu
cd "$(dirname "$0")/../.."
top=$PWD
variant=$1 out=$2
case $variant in
normal)
	export PKG_CONFIG_PATH=$top/build/pkgconfig
	cc -std=c11 -Wall -Wextra -Werror -pedantic -g -O2 Tests/stress/stress.c -o "$out" \
		$(pkg-config --cflags --libs scamem) -Wl,-rpath,"$top/build/lib" -lpthread
	;;
tsan)
	swift=$(command -v swift)
	toolchain=$(dirname "$(dirname "$(readlink -f "$swift")")")
	rt=$toolchain/lib/swift/linux
	swift build -c release --scratch-path .build-tsan-lib --product scamem_shared -Xswiftc -sanitize=thread
	# A C program under TSan linked with the toolchain's clang needs libdispatch
	# and the blocks runtime: its TSan runtime has libdispatch interceptors.
	"$toolchain/bin/clang" -std=c11 -Wall -Wextra -Werror -pedantic -fsanitize=thread -g -O1 -Iinclude \
		Tests/stress/stress.c -o "$out" -L.build-tsan-lib/release -lscamem_shared \
		-Wl,-rpath,"$top/.build-tsan-lib/release" -L"$rt" -ldispatch -lBlocksRuntime -Wl,-rpath,"$rt" -lpthread
	;;
*)
	echo "usage: $0 normal|tsan OUT" >&2
	exit 2
	;;
esac
