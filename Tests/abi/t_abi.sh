#!/usr/bin/env bash
# The ABI checks must fail on what they exist to catch (docs/abi.md). Each
# case edits a copy of the header, the version script or a call trace and
# expects scripts/abi.py to refuse it with the reason named; the real files
# must pass. Usage: t_abi.sh LIB (the built libscamem.so).
set -u
cd "$(dirname "$0")/../.."
lib=$1
version=$(sed -n 's/^VERSION *:= *//p' Makefile)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
abi=(python3 scripts/abi.py)
dump=abi/scamem-0.1.0.abi.tar.gz
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "PASS $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; sed 's/^/    /' "$tmp/out"; }

# mutate IN OUT OLD NEW: OUT is IN with OLD replaced by NEW, which must occur.
mutate() {
	python3 - "$@" <<'EOF' || exit 2
import sys
src, dst, old, new = sys.argv[1:]
text = open(src).read()
if old not in text:
    sys.exit(f"mutate: {old!r} not in {src}")
open(dst, "w").write(text.replace(old, new, 1))
EOF
}

# expect_fail NAME PATTERN COMMAND...: exit 1 and PATTERN in the output.
expect_fail() {
	local name=$1 pattern=$2
	shift 2
	"$@" >"$tmp/out" 2>&1
	local rc=$?
	if [ $rc -eq 1 ] && grep -qE -- "$pattern" "$tmp/out"; then ok "$name"; else echo "    exit $rc" >>"$tmp/out"; bad "$name"; fi
}
expect_pass() {
	local name=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then ok "$name"; else bad "$name"; fi
}

h=include/scamem.h

# abi-compliance-checker against the 0.1 dump.
expect_pass "acc: this header and library" "${abi[@]}" acc-check $dump $h "$lib" "$version" "$tmp/acc-ok"
grep -v '^SCAMEM_API int scamem_vunmap' $h >"$tmp/removed.h"
expect_fail "acc: a removed function" 'PROBLEM .*scamem_vunmap: removed' \
	"${abi[@]}" acc-check $dump "$tmp/removed.h" "$lib" "$version" "$tmp/acc-removed"
mutate $h "$tmp/field.h" $'\tint32_t map_refs;' $'\tfloat map_refs;'
expect_fail "acc: a field's type changed" 'PROBLEM .*struct scamem_stat: Field_Type.*target=map_refs' \
	"${abi[@]}" acc-check $dump "$tmp/field.h" "$lib" "$version" "$tmp/acc-field"
mutate $h "$tmp/swap1.h" '#define SCAMEM_MAP_SHARED 0x01u' '#define SCAMEM_MAP_SHARED 0x02u'
mutate "$tmp/swap1.h" "$tmp/swapped.h" '#define SCAMEM_MAP_PRIVATE 0x02u' '#define SCAMEM_MAP_PRIVATE 0x01u'
expect_fail "acc: two constants swapped" 'PROBLEM .*SCAMEM_MAP_SHARED: Changed_Constant' \
	"${abi[@]}" acc-check $dump "$tmp/swapped.h" "$lib" "$version" "$tmp/acc-swapped"
# An output struct has no size field: growing it is not the allowed growth.
mutate $h "$tmp/grow1.h" $'\tuint32_t bytes;      /* the object: 8 bytes of header, 8 per page */\n};' \
	$'\tuint32_t bytes;\n\tuint64_t extra;\n};'
mutate "$tmp/grow1.h" "$tmp/grown.h" 'sizeof(struct scamem_stat) == 32' 'sizeof(struct scamem_stat) == 40'
expect_fail "acc: an output struct grown" 'PROBLEM .*struct scamem_stat: .*Size' \
	"${abi[@]}" acc-check $dump "$tmp/grown.h" "$lib" "$version" "$tmp/acc-grown"

# The version script: every function in the node of the release that added it.
map=scamem.map
expect_pass "map: this header and script" "${abi[@]}" map-check $h $map "$version" abi
mutate $h "$tmp/added.h" 'SCAMEM_API int scamem_vunmap(' $'SCAMEM_API int scamem_vunmap_all(scamem_machine *m);\nSCAMEM_API int scamem_vunmap('
expect_fail "map: a new function in no node" 'scamem_vunmap_all .*in no node; it belongs in SCAMEM_0.2' \
	"${abi[@]}" map-check "$tmp/added.h" $map 0.2.0 abi
mutate $map "$tmp/wrong.map" $'\t\tscamem_vunmap;' $'\t\tscamem_vunmap;\n\t\tscamem_vunmap_all;'
expect_fail "map: a new function in an old node" 'scamem_vunmap_all is in SCAMEM_0.1; it was added in SCAMEM_0.2' \
	"${abi[@]}" map-check "$tmp/added.h" "$tmp/wrong.map" 0.2.0 abi
mutate $map "$tmp/right.map" $'SCAMEM_0.2 {\n\tglobal:' $'SCAMEM_0.2 {\n\tglobal:\n\t\tscamem_vunmap_all;'
expect_pass "map: a new function in its own node" "${abi[@]}" map-check "$tmp/added.h" "$tmp/right.map" 0.2.0 abi
mutate $map "$tmp/unchained.map" '} SCAMEM_0.1;' '};'
expect_fail "map: a node not chained to the last" 'node SCAMEM_0.2 inherits nothing, not SCAMEM_0.1' \
	"${abi[@]}" map-check $h "$tmp/unchained.map" "$version" abi
mutate $map "$tmp/glob.map" $'\t\tscamem_vunmap;' $'\t\tscamem_vunmap;\n\t\tscamem_*;'
expect_fail "map: a glob" 'pattern scamem_\*: name each symbol' "${abi[@]}" map-check $h "$tmp/glob.map" "$version" abi
expect_fail "map: a released function gone" 'scamem_vunmap, released in 0.1, is gone' \
	"${abi[@]}" map-check "$tmp/removed.h" $map "$version" abi

# The built library: each export carries its node's version, DEFAULT visibility.
expect_pass "so: the built library" "${abi[@]}" so-check $map "$lib"
printf 'SCAMEM_0.1 { global: scamem_version_number; scamem_strerror; local: *; };\n' >"$tmp/tiny.map"
printf '%s\n' '__attribute__((visibility("protected"))) unsigned scamem_version_number(void) { return 1; }' \
	'const char *scamem_strerror(int e) { (void)e; return ""; }' >"$tmp/tiny.c"
cc -shared -fPIC -o "$tmp/libtiny.so" "$tmp/tiny.c" -Wl,--version-script="$tmp/tiny.map"
expect_fail "so: a protected export" 'scamem_version_number has PROTECTED visibility' \
	"${abi[@]}" so-check "$tmp/tiny.map" "$tmp/libtiny.so"
printf 'SCAMEM_0.1 { global: scamem_version_number; local: *; };\nSCAMEM_0.2 { global: scamem_strerror; } SCAMEM_0.1;\n' \
	>"$tmp/tiny2.map"
cc -shared -fPIC -o "$tmp/libtiny2.so" "$tmp/tiny.c" -Wl,--version-script="$tmp/tiny.map"
expect_fail "so: an export under the wrong version" 'scamem_strerror has version SCAMEM_0.1, .* puts it in SCAMEM_0.2' \
	"${abi[@]}" so-check "$tmp/tiny2.map" "$tmp/libtiny2.so"

# The call trace: every function succeeds somewhere, and fails somewhere when
# it can return an errno.
"${abi[@]}" functions $h | awk '{print $1, 1, 1}' >"$tmp/full.trace"
expect_pass "coverage: every function both ways" "${abi[@]}" coverage $h "$tmp/full.trace"
grep -v '^scamem_vfree ' "$tmp/full.trace" >"$tmp/nocall.trace"
expect_fail "coverage: a function never called" 'scamem_vfree .*never succeeds' "${abi[@]}" coverage $h "$tmp/nocall.trace"
sed 's/^scamem_vfree 1 1$/scamem_vfree 3 0/' "$tmp/full.trace" >"$tmp/nofail.trace"
expect_fail "coverage: a function never given bad input" 'scamem_vfree .*never fails' "${abi[@]}" coverage $h "$tmp/nofail.trace"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
