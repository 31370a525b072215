#!/usr/bin/env python3
"""The public interface as include/scamem.h declares it, and the checks that
hold the version script and the C tests to it (docs/abi.md).

  abi.py functions HEADER                 the exported function names, sorted
  abi.py map-check HEADER MAP VERSION ABI_DIR
                                          every function in exactly the node of
                                          the release that added it
  abi.py so-check MAP LIB                 each exported symbol of LIB carries
                                          its node's version, default visibility
  abi.py wrap HEADER OUT.c                a --wrap shim counting each call's
                                          result; prints the linker flags
  abi.py coverage HEADER TRACE            every function called from C, and
                                          every one that returns an errno also
                                          seen failing
  abi.py acc-check DUMP HEADER LIB VERSION OUTDIR
                                          abi-compliance-checker: HEADER and LIB
                                          against a release's dump (.abi.tar.gz)
  abi.py acc-dump HEADER LIB VERSION DUMP a release's dump
"""
import gzip
import os
import re
import signal
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path


class Function:
    def __init__(self, ret, name, params):
        self.ret = ret  # return type, e.g. "int64_t" or "const char *"
        self.name = name
        self.params = params  # [(declaration, name)]

    @property
    def returns_errno(self):
        """int and int64_t results are a value or a negative errno (the header's
        convention); void, strings and version numbers cannot fail."""
        return self.ret in ("int", "int64_t")


def functions(header):
    """Each `SCAMEM_API ret name(params);` of the header."""
    text = re.sub(r"/\*.*?\*/", "", Path(header).read_text(), flags=re.S)
    out = []
    for m in re.finditer(r"^SCAMEM_API\s+([^;]*?)\b(scamem_\w+)\s*\(([^;]*)\)\s*;", text, flags=re.M):
        ret = " ".join(m.group(1).split())
        params = []
        raw = " ".join(m.group(3).split())
        if raw != "void":
            for p in raw.split(","):
                p = p.strip()
                name = re.findall(r"(\w+)\s*(?:\[[^\]]*\])?$", p)
                if not name:
                    sys.exit(f"{header}: {m.group(2)}: parameter without a name: {p!r}")
                params.append((p, name[0]))
        out.append(Function(ret, m.group(2), params))
    if not out:
        sys.exit(f"{header}: no SCAMEM_API functions")
    return sorted(out, key=lambda f: f.name)


def version_nodes(mapfile):
    """[(node, parent, [symbols])] in file order."""
    text = re.sub(r"/\*.*?\*/", "", Path(mapfile).read_text(), flags=re.S)
    nodes = []
    for m in re.finditer(r"(\w[\w.]*)\s*\{(.*?)\}\s*([\w.]*)\s*;", text, flags=re.S):
        body = m.group(2)
        glob = re.search(r"global:(.*?)(?:local:|$)", body, flags=re.S)
        syms = [s.strip() for s in (glob.group(1) if glob else "").split(";") if s.strip()]
        nodes.append((m.group(1), m.group(3) or None, syms))
    return nodes


def released(abi_dir):
    """{"0.1": {symbols}} from abi/scamem-X.Y.Z.symbols, the functions each
    released version exported (its own and its predecessors')."""
    out = {}
    for f in Path(abi_dir).glob("scamem-*.symbols"):
        v = re.match(r"scamem-(\d+\.\d+)\.\d+\.symbols$", f.name)
        if v:
            out[v.group(1)] = set(f.read_text().split())
    return out


def vkey(v):
    return tuple(int(x) for x in v.split("."))


def verdict(errors, summary):
    """Each problem on standard error, the summary on standard output; the
    exit status."""
    for e in errors:
        print(e, file=sys.stderr)
    print(f"{summary}; {len(errors)} problem(s)")
    return 1 if errors else 0


def map_check(header, mapfile, version, abi_dir):
    errors = []
    current = ".".join(version.split(".")[:2])
    names = {f.name for f in functions(header)}
    nodes = version_nodes(mapfile)
    history = released(abi_dir)
    # The release under way exports what the header declares.
    history.setdefault(current, names)

    # Where each function belongs: the first release whose list has it.
    expected = {}
    for v in sorted(history, key=vkey):
        for s in sorted(history[v]):
            expected.setdefault(s, "SCAMEM_" + v)
    seen = {}
    previous = None
    for node, parent, syms in nodes:
        if not re.fullmatch(r"SCAMEM_\d+\.\d+", node):
            errors.append(f"{mapfile}: node {node}: not SCAMEM_MAJOR.MINOR")
        elif previous and vkey(node[7:]) <= vkey(previous[7:]):
            errors.append(f"{mapfile}: node {node} after {previous}: releases in order")
        if parent != previous:
            errors.append(f"{mapfile}: node {node} inherits {parent or 'nothing'}, not {previous or 'nothing'}")
        for s in syms:
            if "*" in s or "?" in s:
                errors.append(f"{mapfile}: node {node}: pattern {s}: name each symbol")
            elif s in seen:
                errors.append(f"{mapfile}: {s} in {seen[s]} and {node}")
            else:
                seen[s] = node
        previous = node
    for s in sorted(names):
        if s not in seen:
            errors.append(f"{mapfile}: {s} (declared in {header}) is in no node; it belongs in {expected[s]}")
        elif seen[s] != expected[s]:
            errors.append(f"{mapfile}: {s} is in {seen[s]}; it was added in {expected[s]}")
    for s in sorted(set(seen) - names):
        errors.append(f"{mapfile}: {s} ({seen[s]}) is not declared in {header}")
    for v, syms in sorted(history.items()):
        for s in sorted(syms - names):
            errors.append(f"{header}: {s}, released in {v}, is gone (an incompatible change)")
    return verdict(errors, f"{len(names)} functions in {len(nodes)} version node(s)")


def so_check(mapfile, lib):
    node_of = {sym: node for node, _, syms in version_nodes(mapfile) for sym in syms}
    dynsyms = subprocess.run(["readelf", "--dyn-syms", "-W", lib], check=True, capture_output=True, text=True).stdout
    errors, exported = [], set()
    for line in dynsyms.splitlines():
        f = line.split()
        # Num: Value Size Type Bind Vis Ndx Name
        if len(f) < 8 or f[6] == "UND" or f[4] not in ("GLOBAL", "WEAK"):
            continue
        name, _, version = f[7].partition("@@")
        if f[3] == "OBJECT" and f[5] == "DEFAULT" and name == version:
            continue  # the version definitions themselves (SCAMEM_0.1)
        exported.add(name)
        if name not in node_of:
            errors.append(f"{lib}: {f[7]} exported, in no node of {mapfile}")
        elif version != node_of[name]:
            errors.append(f"{lib}: {name} has version {version or 'none'}, {mapfile} puts it in {node_of[name]}")
        if f[5] != "DEFAULT":
            errors.append(f"{lib}: {name} has {f[5]} visibility (non-PIE programs cannot take its address)")
    for name in sorted(set(node_of) - exported):
        errors.append(f"{lib}: {name} ({node_of[name]}) not exported")
    return verdict(errors, f"{len(exported)} symbols exported by {lib}")


def wrap(header, out):
    fns = functions(header)
    c = [
        "/* Generated by scripts/abi.py wrap: each call of a public function",
        " * counted by result, appended to $SCAMEM_API_TRACE at exit. */",
        "#include <scamem.h>",
        "#include <stdio.h>",
        "#include <stdlib.h>",
        "",
        f"static unsigned long long api_ok[{len(fns)}], api_err[{len(fns)}];",
        "static const char *const api_names[] = {",
        *[f'\t"{f.name}",' for f in fns],
        "};",
        "",
        "static void api_dump(void)",
        "{",
        '\tconst char *path = getenv("SCAMEM_API_TRACE");',
        '\tFILE *f = path ? fopen(path, "a") : NULL;',
        "\tif (!f)",
        "\t\treturn;",
        f"\tfor (int i = 0; i < {len(fns)}; i++)",
        "\t\tif (api_ok[i] || api_err[i])",
        '\t\t\tfprintf(f, "%s %llu %llu\\n", api_names[i], api_ok[i], api_err[i]);',
        "\tfclose(f);",
        "}",
        "",
        "__attribute__((constructor)) static void api_init(void) { atexit(api_dump); }",
        "",
    ]
    for i, f in enumerate(fns):
        decl = ", ".join(p for p, _ in f.params) or "void"
        args = ", ".join(n for _, n in f.params)
        sep = "" if f.ret.endswith("*") else " "
        c.append(f"{f.ret}{sep}__real_{f.name}({decl});")
        c.append(f"{f.ret}{sep}__wrap_{f.name}({decl});")
        c.append(f"{f.ret}{sep}__wrap_{f.name}({decl})")
        c.append("{")
        if f.ret == "void":
            c.append(f"\t__real_{f.name}({args});")
            c.append(f"\t__atomic_fetch_add(&api_ok[{i}], 1, __ATOMIC_RELAXED);")
        else:
            c.append(f"\t{f.ret} r = __real_{f.name}({args});")
            if f.returns_errno:
                c.append(f"\t__atomic_fetch_add(r < 0 ? &api_err[{i}] : &api_ok[{i}], 1, __ATOMIC_RELAXED);")
            else:
                c.append(f"\t__atomic_fetch_add(&api_ok[{i}], 1, __ATOMIC_RELAXED);")
            c.append("\treturn r;")
        c.append("}")
        c.append("")
    Path(out).write_text("\n".join(c))
    print(" ".join(f"-Wl,--wrap={f.name}" for f in fns))
    return 0


def coverage(header, trace):
    ok, err = {}, {}
    for line in Path(trace).read_text().splitlines():
        name, o, e = line.split()
        ok[name] = ok.get(name, 0) + int(o)
        err[name] = err.get(name, 0) + int(e)
    missing = 0
    print(f"{'function':40} {'succeeded':>10} {'failed':>10}")
    for f in functions(header):
        o, e = ok.get(f.name, 0), err.get(f.name, 0)
        gap = ""
        if o == 0:
            gap = "  <- never succeeds in a C test"
        elif f.returns_errno and e == 0:
            gap = "  <- never fails in a C test (no bad input tried)"
        missing += bool(gap)
        print(f"{f.name:40} {o:>10} {e if f.returns_errno else '-':>10}{gap}")
    print(f"{missing} function(s) not exercised with good and bad input")
    return 1 if missing else 0


# What docs/abi.md allows a minor release: size-first input structs grow at
# their end (the library reads the old size, copy_struct_from_user() style).
GROWTH = {"Added_Field", "Added_Field_And_Size", "DataType_Size"}
# A new macro adds, as a new function does; a changed or removed one breaks.
ADDED = {"Added_Constant"}
# The release's own number changes with every release.
VERSION_MACROS = {"SCAMEM_VERSION_MINOR", "SCAMEM_VERSION_PATCH", "SCAMEM_VERSION_STRING"}
# Deliberate changes docs/abi.md lists by name, against one baseline each:
# 0.2 gave two gfp constants the kernel's values (0.1's were not).
DELIBERATE = {"scamem-0.1.0.abi.tar.gz": {"SCAMEM_GFP_KERNEL", "SCAMEM_GFP_THISNODE"}}


def size_first_structs(header):
    text = Path(header).read_text()
    return {"struct " + m for m in re.findall(r"^struct (scamem_\w+) \{\s*uint32_t size;", text, flags=re.M)}


def descriptor(out, header, lib, version):
    desc = out / f"scamem-{version}.xml"
    desc.write_text(f"<version>{version}</version>\n<headers>{Path(header).resolve()}</headers>\n"
                    f"<libs>{Path(lib).resolve()}</libs>\n")
    return desc


def run_acc(out, *args):
    """Debian's abi-compliance-checker 2.3 runs commands through a helper
    process that keeps the parent's working directory, so it cannot pack or
    unpack its own .tar.gz dumps, and the helper spins forever once the
    checker exits. So dumps are packed here, and the checker runs in its own
    session, killed whole when it returns."""
    cmd = ["abi-compliance-checker", "-lang", "C", "-gcc-options", "-D_Static_assert=static_assert",
           "-l", "scamem", "-log-path", str(out / "log.txt"), *args]
    p = subprocess.Popen(cmd, cwd=out, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        text, _ = p.communicate(timeout=300)
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return p.returncode, text


def acc_dump(header, lib, version, dump):
    """A release's dump: abi/scamem-VERSION.abi.tar.gz, made once when the
    release is cut (abi/README.md). Packed without times or owners, so the
    same release gives the same bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        plain = out / f"scamem-{version}.abi"
        rc, text = run_acc(out, "-dump", str(descriptor(out, header, lib, version)), "-dump-path", str(plain))
        if rc != 0 or not plain.exists():
            print(text, end="", file=sys.stderr)
            return 2
        with open(dump, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz, \
                tarfile.open(fileobj=gz, mode="w") as t:
            info = t.gettarinfo(str(plain), arcname=plain.name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            with open(plain, "rb") as f:
                t.addfile(info, f)
    print(f"{dump}: the ABI of {version}")
    return 0


def acc_check(dump, header, lib, version, outdir):
    """abi-compliance-checker's verdict on HEADER and LIB against a release's
    dump, held to docs/abi.md: any removed function and any problem fails,
    except a size-first struct growing at its end and the release's own
    minor and patch numbers. The checker calls a
    changed #define value "low severity"; here it fails."""
    import xml.etree.ElementTree as ET

    out = Path(outdir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tarfile.open(dump) as t:
        member = next(m for m in t.getmembers() if m.isfile())
        old = out / Path(member.name).name
        old.write_bytes(t.extractfile(member).read())
    report = out / "report.xml"
    report.unlink(missing_ok=True)
    rc, text = run_acc(out, "-old", str(old), "-new", str(descriptor(out, header, lib, version)),
                       "-report-format", "xml", "-report-path", str(report))
    # 0: compatible; 1: incompatible; anything else: the checker failed.
    if rc not in (0, 1) or not report.exists():
        print(text, end="", file=sys.stderr)
        print(f"abi-compliance-checker failed ({rc})", file=sys.stderr)
        return 2

    growing = size_first_structs(header)
    deliberate = DELIBERATE.get(Path(dump).name, set())
    bad, allowed = [], []
    # The checker writes one <report> per kind (binary, source) into one file.
    reports = ET.fromstring("<all>" + re.sub(r"<\?xml[^>]*\?>", "", report.read_text()) + "</all>")
    for r in reports.iter("report"):
        kind = r.get("kind")
        for name in r.find("removed_symbols").iter("name"):
            bad.append(f"{kind}: {name.text}: removed")
        for group in r:
            if not group.tag.startswith("problems_with_"):
                continue
            severity = group.get("severity")
            for owner in group.iter():
                if owner.tag not in ("type", "symbol", "constant") or owner.find("problem") is None:
                    continue
                for prob in owner.findall("problem"):
                    change = prob.find("change")
                    what = " ".join(f"{k}={v}" for k, v in sorted(change.attrib.items())) if change is not None else ""
                    line = f"{kind}: {owner.get('name')}: {prob.get('id')} ({severity}) {what}".rstrip()
                    ok = (severity == "Safe" or prob.get("id") in ADDED
                          or (owner.get("name") in growing and prob.get("id") in GROWTH)
                          or (owner.get("name") in VERSION_MACROS | deliberate and prob.get("id") == "Changed_Constant"))
                    (allowed if ok else bad).append(line)
    for line in allowed:
        print("allowed  " + line)
    for line in bad:
        print("PROBLEM  " + line)
    print(f"{len(bad)} incompatible change(s) against {Path(dump).name}; {len(allowed)} allowed by docs/abi.md")
    return 1 if bad else 0


def main(argv):
    cmds = {"functions": 1, "map-check": 4, "so-check": 2, "wrap": 2, "coverage": 2, "acc-check": 5, "acc-dump": 4}
    if len(argv) < 2 or argv[1] not in cmds or len(argv) != 2 + cmds[argv[1]]:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "functions":
        print("\n".join(f.name for f in functions(args[0])))
        return 0
    if cmd == "map-check":
        return map_check(*args)
    if cmd == "so-check":
        return so_check(*args)
    if cmd == "wrap":
        return wrap(*args)
    if cmd == "acc-check":
        return acc_check(*args)
    if cmd == "acc-dump":
        return acc_dump(*args)
    return coverage(*args)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
