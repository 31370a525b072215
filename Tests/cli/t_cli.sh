#!/usr/bin/env bash
# The command as a Unix tool: exit 0 on success, 1 with one
# "scamem: PATH: reason" line and no usage on a runtime failure, 64 with
# the usage on a usage error; --version, --quiet, the JSON schema, and
# capture as root and not. Each check prints PASS or FAIL; any FAIL fails.
# Usage: Tests/cli/t_cli.sh path/to/scamem
set -u
bin=$(realpath "${1:?usage: t_cli.sh path/to/scamem}")
top=$(realpath "$(dirname "$0")/../..")
fixture=$top/Tests/Fixtures/vm-24g-idle
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

# run ARGS...: the command's exit status in $rc, its output in $tmp/out and $tmp/err.
run() {
	"$bin" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
# result NAME, right after a check's condition: PASS if it held.
result() {
	if [ $? = 0 ]; then echo "PASS $1"; else
		echo "FAIL $1 (exit $rc)"
		sed 's/^/  err: /' "$tmp/err" | head -n 8
		failed=1
	fi
}
# A runtime failure: exit 1, exactly the one line $1 on stderr, no usage.
failure() { [ "$rc" = 1 ] && [ "$(cat "$tmp/err")" = "$1" ]; }
# A usage error: exit 64 and the usage, its first line matching $1.
usage() { [ "$rc" = 64 ] && grep -q "^Usage: scamem" "$tmp/err" && grep -qE -- "$1" "$tmp/err"; }
# json PYTHON [ARGS...]: PYTHON's asserts hold of the JSON in $tmp/out (as r).
json() { python3 -c "import json, sys; r = json.load(open('$tmp/out')); $1" "${@:2}"; }
# A copy of the fixture at $1 that a check may break.
copy() { rm -rf "$1" && cp -r "$fixture" "$1"; }

# --version: the library's version, as the Makefile and the header have it.
run --version
[ "$rc" = 0 ] && [ "$(cat "$tmp/out")" = "scamem $(sed -n 's/^VERSION *:= *//p' "$top/Makefile")" ] &&
	grep -q "SCAMEM_VERSION_STRING \"$(cut -d' ' -f2 "$tmp/out")\"" "$top/include/scamem.h"
result version

# A bare scamem: the help on stderr, a usage exit.
run
[ "$rc" = 64 ] && [ ! -s "$tmp/out" ] && grep -q '^USAGE: scamem <subcommand>' "$tmp/err"
result bare-scamem

# Usage errors.
run compare --workload nonsense
usage "'nonsense' is invalid"
result unknown-workload
run report
usage "give a capture directory or --live"
result report-without-capture
run report "$fixture" --live
usage "not both"
result report-capture-and-live
run report "$fixture" --bogus
usage "Unknown option '--bogus'"
result unknown-option
run report "$fixture" --folio-bytes 4097
usage "--folio-bytes 4097 is more than a page"
result folio-bytes-above-a-page
run report "$fixture" --slab-bytes=-1
usage "'-1' is invalid for '--slab-bytes"
result slab-bytes-negative
run report "$fixture" --ptdesc-bytes 1e3
usage "'1e3' is invalid for '--ptdesc-bytes"
result ptdesc-bytes-not-a-number

# 0 is the default size, as in struct scamem_import_opts; 4096 is allowed.
run report -q "$fixture" --folio-bytes 0 --slab-bytes 0 --ptdesc-bytes 4096
[ "$rc" = 0 ] && grep -q 'descriptors (folio 80, slab 64, ptdesc 4096)' "$tmp/out"
result sizes-0-and-4096

# Runtime failures name the file.
run report "$tmp/nonexistent"
failure "scamem: $tmp/nonexistent: No such file or directory"
result missing-capture
touch "$tmp/regular"
run report "$tmp/regular"
failure "scamem: $tmp/regular: Not a directory"
result capture-is-a-file
# Unreadable even as root: a directory, then a FIFO, where kpageflags should be.
copy "$tmp/c"
rm "$tmp/c/kpageflags.xz" && mkdir "$tmp/c/kpageflags"
run report "$tmp/c"
failure "scamem: $tmp/c/kpageflags: not a regular file"
result kpageflags-directory
rmdir "$tmp/c/kpageflags" && mkfifo "$tmp/c/kpageflags"
run report "$tmp/c"
failure "scamem: $tmp/c/kpageflags: not a regular file"
result kpageflags-fifo
# Truncated: mid-entry (byte N of the raw file), and an .xz cut short.
rm "$tmp/c/kpageflags" && xz -dc "$fixture/kpageflags.xz" | head -c 50000003 >"$tmp/c/kpageflags"
run report "$tmp/c"
failure \
	"scamem: $tmp/c/kpageflags: byte 50000000: 50000003 bytes: not a whole number of 8-byte entries"
result kpageflags-partial-entry
rm "$tmp/c/kpageflags" && head -c 20000 "$fixture/kpageflags.xz" >"$tmp/c/kpageflags.xz"
run report "$tmp/c"
failure "scamem: $tmp/c/kpageflags.xz: byte 20000: no sound xz index at its end (truncated?)"
result kpageflags-xz-cut
# Malformed at line N.
copy "$tmp/c"
sed -i '5s/.*/        present  banana/' "$tmp/c/zoneinfo"
run report "$tmp/c"
failure "scamem: $tmp/c/zoneinfo:5: present 'banana' is not a number"
result zoneinfo-line-5

# Missing optional files are named in the notes; the report still succeeds.
copy "$tmp/c"
rm "$tmp/c/buddyinfo" "$tmp/c/slabinfo" "$tmp/c/vmstat" "$tmp/c/kpagecount.xz"
run report -q "$tmp/c"
[ "$rc" = 0 ] && grep -q '^- buddyinfo missing' "$tmp/out" &&
	grep -q '^- slabinfo missing' "$tmp/out" && grep -q '^- vmstat missing' "$tmp/out" &&
	grep -q '^- kpagecount missing' "$tmp/out"
result optional-files-noted

# Progress on stderr, none with --quiet; the report itself on stdout.
run report "$fixture"
[ "$rc" = 0 ] && grep -q '^scamem: kpageflags: 1048576 pfns$' "$tmp/err" &&
	grep -q 'invariant checker: 0 issues' "$tmp/out"
result progress
run report --quiet "$fixture"
[ "$rc" = 0 ] && [ ! -s "$tmp/err" ] && grep -q 'invariant checker: 0 issues' "$tmp/out"
result quiet

# JSON: schema_version 1, stable cross-check keys, page-types' figures
# (Tests/Fixtures/vm-24g-idle/README.md).
run report -q --json "$fixture"
[ "$rc" = 0 ] && json '
assert r["schema_version"] == 1, r["schema_version"]
assert r["pfns"] == 6553600 and r["checker_issues"] == 0
assert r["memdesc_bytes"] < r["today_bytes"]
assert len(r["strategies"]) == 5 and len(r["zones"]) == 3
keys = [c["key"] for c in r["cross_checks"]]
assert keys == ["present_pages_zoneinfo", "managed_pages_zoneinfo", "free_pages_buddyinfo", "slab_pages_slabinfo",
                "slabs_slabinfo", "file_shmem_pages_vmstat"], keys
assert all(c["name"] and "file" in c and "import" in c for c in r["cross_checks"])
assert r["compound_heads"] == 5259 and r["compound_tails"] == 15761
assert r["slab_orders"][:4] == [6580, 1675, 3276, 174] and not any(r["slab_orders"][4:])'
result report-json
# The 2-node capture with a movable zone (Tests/Fixtures/qemu-numa-movable/README.md):
# boot/ imports with both nodes' zones; hotplug/, whose Normal lies inside
# Movable's span, imports with the spans overlapping (the memory blocks' zones).
numa=$top/Tests/Fixtures/qemu-numa-movable
run report -q --json "$numa/boot"
[ "$rc" = 0 ] && json '
assert r["pfns"] == 1179648 and r["checker_issues"] == 0
z = [(x["nid"], x["zone"], x["present"]) for x in r["zones"]]
assert z == [(0, "DMA", 3998), (0, "DMA32", 95232), (0, "Movable", 31744), (1, "DMA32", 98304),
             (1, "Movable", 32736)], z
assert r["compound_heads"] == 1042 and r["compound_tails"] == 18116
assert r["slab_orders"][:4] == [1239, 885, 63, 55] and not any(r["slab_orders"][4:])'
result report-json-numa
run report -q --json "$numa/hotplug"
[ "$rc" = 0 ] && json '
assert r["pfns"] == 1179648 and r["checker_issues"] == 0
z = {(x["nid"], x["zone"]): x["present"] for x in r["zones"]}
assert z[(1, "Normal")] == 65536 and z[(1, "Movable")] == 98272, z'
result report-json-numa-overlapping-zones
run compare --workload mixed
[ "$rc" = 0 ] && grep -q '^Workload mixed: 84 vmalloc_user areas' "$tmp/out" && grep -q '^SCAMEM_PACKED ' "$tmp/out"
result compare-table
run compare --workload many-small --json
[ "$rc" = 0 ] && json '
assert r["schema_version"] == 1 and len(r["rows"]) == 5, r
assert all(x["workload"] == "many-small" and x["areas"] == 4096 for x in r["rows"])'
result compare-json
for w in bpf-ringbuf io-uring kcov v4l2 hwpoison hotplug longterm-movable; do
	run compare --workload $w --json
	[ "$rc" = 0 ] && json '
assert r["schema_version"] == 1 and len(r["rows"]) == 5, r
assert all(x["workload"] == sys.argv[1] and x["areas"] > 0 and x["pages"] > 0 for x in r["rows"])' $w
	result compare-json-$w
done
run compare --workload bpf-ringbuf
[ "$rc" = 0 ] && grep -q '^Workload bpf-ringbuf: 16 bpf ringbufs' "$tmp/out"
result compare-table-bpf
# A tab, a quote, a backslash and a control character in the path: still valid JSON.
odd=$tmp/$'tab\there "quote" back\\slash \x01 end'
copy "$odd"
run report -q --json "$odd"
[ "$rc" = 0 ] && json "assert r['source'] == sys.argv[1], r['source']" "$odd"
result json-odd-path

# capture. Not root: it fails naming /proc/kpageflags (as root, through
# setpriv as nobody) and writes nothing.
asnobody=()
[ "$(id -u)" = 0 ] && asnobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
if [ "$(id -u)" != 0 ] || command -v setpriv >/dev/null; then
	# nobody must reach $tmp/open to show that nothing is written there.
	chmod 755 "$tmp" && mkdir -m 777 "$tmp/open"
	"${asnobody[@]}" "$bin" capture "$tmp/open/cap" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	failure "scamem: /proc/kpageflags: Permission denied" && [ ! -e "$tmp/open/cap" ]
	result capture-not-root
else
	echo "SKIP capture-not-root: root without setpriv (util-linux)"
fi
if [ -r /proc/kpageflags ]; then
	# Root: parents are made; a path under a regular file is refused.
	run capture "$tmp/cap/a/b"
	[ "$rc" = 0 ] && [ -s "$tmp/cap/a/b/kpageflags.xz" ] && [ -s "$tmp/cap/a/b/zoneinfo" ] &&
		grep -q "^captured into $tmp/cap/a/b: zoneinfo, " "$tmp/out"
	result capture
	run report -q "$tmp/cap/a/b"
	[ "$rc" = 0 ] && grep -q 'invariant checker: 0 issues' "$tmp/out"
	result report-of-capture
	run report -q --live
	[ "$rc" = 0 ] && grep -q 'invariant checker: 0 issues' "$tmp/out"
	result report-live
	run capture "$tmp/regular/sub"
	failure "scamem: $tmp/regular: Not a directory"
	result capture-under-a-file
fi

exit $failed
