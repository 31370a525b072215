#!/usr/bin/env python3
"""The library from Python through ctypes, as an FFI user loads it.

usage: ctypes_consumer.py LIBDIR    (the install's libdir holding libscamem.so.0)

Every function used is declared with its header types first: ctypes' default
(int arguments and result) would truncate the 64-bit pfns and pointers.
Exits 1 with the first wrong result.
"""
import ctypes
import errno
import os
import sys

lib = ctypes.CDLL(os.path.join(sys.argv[1], "libscamem.so.0"))

machine_p = ctypes.c_void_p  # scamem_machine *, opaque


def declare(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


version_string = declare("scamem_version_string", ctypes.c_char_p)
version_number = declare("scamem_version_number", ctypes.c_uint32)
strerror = declare("scamem_strerror", ctypes.c_char_p, ctypes.c_int)
machine_new_default = declare("scamem_machine_new_default", ctypes.c_int, ctypes.POINTER(machine_p))
machine_free = declare("scamem_machine_free", None, machine_p)
folio_alloc = declare("scamem_folio_alloc", ctypes.c_int, machine_p, ctypes.c_uint32, ctypes.c_uint32,
                      ctypes.c_uint32, ctypes.c_int32, ctypes.POINTER(ctypes.c_uint64))
folio_put = declare("scamem_folio_put", ctypes.c_int, machine_p, ctypes.c_uint64)
page_to_nid = declare("scamem_page_to_nid", ctypes.c_int, machine_p, ctypes.c_uint64)
page_to_section = declare("scamem_page_to_section", ctypes.c_int64, machine_p, ctypes.c_uint64)
machine_check = declare("scamem_machine_check", ctypes.c_int64, machine_p, ctypes.c_void_p, ctypes.c_void_p)

SCAMEM_TYPE_FILE = 2
SCAMEM_GFP_KERNEL = 0


def expect(ok, what):
    if not ok:
        sys.exit(f"ctypes_consumer: {what}")


major, minor, patch = (int(part) for part in version_string().decode().split("."))
expect(version_number() == major * 10000 + minor * 100 + patch, "version string and number disagree")

m = machine_p()
expect(machine_new_default(ctypes.byref(m)) == 0 and m.value, "scamem_machine_new_default")
try:
    pfn = ctypes.c_uint64()
    expect(folio_alloc(m, SCAMEM_TYPE_FILE, SCAMEM_GFP_KERNEL, 2, 1, ctypes.byref(pfn)) == 0, "scamem_folio_alloc")
    expect(page_to_nid(m, pfn) == 1, "the folio is on node 1")
    expect(page_to_section(m, pfn) >= 0, "scamem_page_to_section")
    expect(folio_put(m, pfn) == 0, "scamem_folio_put frees the folio")
    # The error path: a negative errno, through a signed return type.
    err = folio_put(m, pfn)
    expect(err == -errno.EALREADY, f"a second put returns -EALREADY, not {err}")
    expect(page_to_section(m, 1 << 40) == -errno.ERANGE, "a pfn beyond the machine is -ERANGE")
    expect(strerror(err).decode() != "unknown error", "scamem_strerror(-EALREADY)")
    expect(machine_check(m, None, None) == 0, "invariant checker")
finally:
    machine_free(m)
print(f"ctypes_consumer: libscamem {version_string().decode()} ok ({strerror(err).decode()})")
