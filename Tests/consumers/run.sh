#!/usr/bin/env bash
# Every way a user links libscamem, against installed copies (make all first):
#  1. make install DESTDIR=STAGE prefix=/opt/scamem: the files land under the
#     stage, the .pc and CMake files name /opt/scamem and never the stage, the
#     CMake package found in the staged (moved) tree points at its own files
#     and takes the versions docs/abi.md promises; uninstall leaves nothing.
#  2. make install with Debian-style directories into a temporary prefix, then
#     a program built and run each way: pkg-config scamem, scamem-static and
#     scamem --static (dynamic, and fully static), CMake's find_package
#     targets and pkg_check_modules, non-PIE with GNU ld and lld, C++17,
#     Python ctypes; the installed command; uninstall leaves nothing.
# The programs build and run with nothing of the Swift toolchain on PATH or
# the library path. Everything goes to build/tests/consumers/.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
here=$top/Tests/consumers
work=$top/build/tests/consumers
rm -rf "$work"
mkdir -p "$work"

make_path=$PATH # make needs swift; the consumers do not
export PATH=/usr/local/bin:/usr/bin:/bin LC_ALL=C
unset LD_LIBRARY_PATH PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR CMAKE_PREFIX_PATH

current=setup
trap 'echo "FAILED: $current" >&2' ERR
way() { current=$1 && printf -- '-- %s\n' "$1"; }
no() { # no COMMAND...: fails when COMMAND succeeds (a bare `! cmd` never stops set -e)
	if "$@"; then
		echo "unexpected: $*" >&2
		return 1
	fi
}
installed_files() { (cd "$1" && find . ! -type d | sort); }
version=$(sed -n 's/^VERSION *:= *//p' Makefile)
major=${version%%.*} minor=${version#*.} && minor=${minor%%.*}

# 1. A staged install.
way "DESTDIR install"
stage=$work/stage
PATH=$make_path make -s install DESTDIR="$stage" prefix=/opt/scamem >/dev/null
installed_files "$stage" >"$work/stage.files"
diff - "$work/stage.files" <<EOF
./opt/scamem/bin/scamem
./opt/scamem/include/scamem.h
./opt/scamem/lib/cmake/scamem/scamemConfig.cmake
./opt/scamem/lib/cmake/scamem/scamemConfigVersion.cmake
./opt/scamem/lib/libscamem-static.a
./opt/scamem/lib/libscamem.a
./opt/scamem/lib/libscamem.so
./opt/scamem/lib/libscamem.so.$major
./opt/scamem/lib/libscamem.so.$version
./opt/scamem/lib/pkgconfig/scamem-static.pc
./opt/scamem/lib/pkgconfig/scamem.pc
./opt/scamem/share/man/man1/scamem.1
EOF
no grep -rl "$stage" "$stage"
grep -qx 'libdir=/opt/scamem/lib' "$stage/opt/scamem/lib/pkgconfig/scamem.pc"
grep -qx 'includedir=/opt/scamem/include' "$stage/opt/scamem/lib/pkgconfig/scamem-static.pc"
no grep -r /opt/scamem "$stage/opt/scamem/lib/cmake" # relative to itself

way "CMake package moved, and its versions"
find_version() { # find_version WANT: configure the version-only consumer
	rm -rf "$work/cmake-version"
	cmake -S "$here/cmake" -B "$work/cmake-version" -DCMAKE_PREFIX_PATH="$stage/opt/scamem" -DSCAMEM_WANT="$1" \
		>"$work/cmake-version.log" 2>&1
}
for want in "" "$major" "$major.$minor" "$version" "$major.0...$major.$((minor + 1))"; do
	find_version "$want"
	echo "accepts ${want:-no version}"
done
for want in "$major.$((minor + 1))" "$((major + 1))" "$major.$((minor + 1))...$((major + 1))"; do
	no find_version "$want"
	echo "refuses $want"
done

way "DESTDIR uninstall"
PATH=$make_path make -s uninstall DESTDIR="$stage" prefix=/opt/scamem >/dev/null
test -z "$(installed_files "$stage")"

# 2. An install as a distribution lays it out, and its consumers.
way "install"
usr=$work/usr libdir=$work/usr/lib/x86_64-linux-gnu
PATH=$make_path make -s install prefix="$usr" libdir="$libdir" >/dev/null
export PKG_CONFIG_PATH=$libdir/pkgconfig
bin=$work/bin
mkdir -p "$bin"

runs() { # runs PROGRAM [ARG...]: with an empty environment; the program checks its own results
	env -i PATH=/usr/bin:/bin "$@"
}
links() { # links PROGRAM shared|static: every library found, none of the Swift toolchain's
	local deps
	deps=$(ldd "$1")
	echo "$deps"
	no grep -Eq 'not found|swift' <<<"$deps"
	case $2 in
	shared) grep -q "libscamem.so.$major => $libdir/libscamem.so.$major " <<<"$deps" ;;
	static) no grep -q libscamem <<<"$deps" ;;
	esac
}
cflags=(-std=c11 -Wall -Wextra -Werror -pedantic -O2)

way "cc, pkg-config scamem"
cc "${cflags[@]}" "$here/consumer.c" -o "$bin/pc-shared" $(pkg-config --cflags --libs scamem) -Wl,-rpath,"$libdir"
links "$bin/pc-shared" shared
runs "$bin/pc-shared"

way "cc, pkg-config scamem-static"
cc "${cflags[@]}" "$here/consumer.c" -o "$bin/pc-static" $(pkg-config --cflags --libs scamem-static)
links "$bin/pc-static" static
runs "$bin/pc-static"

# --static adds what the archive needs; the linker still prefers the .so
# unless the program is static, and then it is all archives.
way "cc, pkg-config --static scamem"
cc "${cflags[@]}" "$here/consumer.c" -o "$bin/pc-static-flag" $(pkg-config --cflags --static --libs scamem) \
	-Wl,-rpath,"$libdir"
links "$bin/pc-static-flag" shared
runs "$bin/pc-static-flag"

way "cc -static, pkg-config --static scamem"
# The Swift runtime's dlopen warning is expected in a static program.
cc "${cflags[@]}" -static "$here/consumer.c" -o "$bin/pc-all-static" $(pkg-config --cflags --static --libs scamem)
no grep -q NEEDED <(readelf -d "$bin/pc-all-static")
runs "$bin/pc-all-static"

way "CMake: find_package scamem::scamem and scamem::scamem_static; pkg_check_modules scamem-static"
cmake -S "$here/cmake" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$usr" >"$work/cmake.log"
cmake --build "$work/cmake" >>"$work/cmake.log"
links "$work/cmake/consumer_cmake_shared" shared
runs "$work/cmake/consumer_cmake_shared"
for t in consumer_cmake_static consumer_cmake_pkgconfig; do
	links "$work/cmake/$t" static
	runs "$work/cmake/$t"
done

# Addresses of library functions in a non-PIE program's data: GNU ld and lld
# refuse that when the library's symbols are PROTECTED.
for ld in bfd lld; do
	way "cc -fno-pic -no-pie -fuse-ld=$ld"
	cc -fuse-ld=$ld -Wl,--version | grep -E '^GNU ld|LLD'
	cc "${cflags[@]}" -fno-pic -no-pie -fuse-ld=$ld "$here/consumer.c" -o "$bin/nopie-$ld" \
		$(pkg-config --cflags --libs scamem) -Wl,-rpath,"$libdir"
	links "$bin/nopie-$ld" shared
	runs "$bin/nopie-$ld"
done

way "g++ -std=c++17"
g++ -std=c++17 -Wall -Wextra -Werror -pedantic -O2 "$here/consumer.cpp" -o "$bin/cxx" \
	$(pkg-config --cflags --libs scamem) -Wl,-rpath,"$libdir"
links "$bin/cxx" shared
runs "$bin/cxx"

way "Python ctypes"
runs python3 "$here/ctypes_consumer.py" "$libdir"

way "the installed command"
links "$usr/bin/scamem" static
runs "$usr/bin/scamem" --help >/dev/null
test -s "$usr/share/man/man1/scamem.1"

way "uninstall"
PATH=$make_path make -s uninstall prefix="$usr" libdir="$libdir" >/dev/null
test -z "$(installed_files "$usr")"
echo "all consumers ok"
