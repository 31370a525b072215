#!/usr/bin/env python3
"""Writes the seed corpora: Tests/fuzz/corpus/api/ and Tests/fuzz/corpus/import/.

API seeds are byte code for fuzz_api.c: a machine header (the bytes
make_machine() reads, for a few sane shapes under every strategy) and op
sequences: the mailing-list scenario (vmalloc_user, mmap, remap, pin, vfree,
exit, unpin), folios/slabs/ptdescs, vmap with and without VM_MAP_PUT_PAGES,
GUP on anonymous memory, and random ops with small arguments (small bytes
pick live objects and valid values in the harness's pickers).

Import seeds are headers for fuzz_import.c (which files, raw or xz, options)
followed by generator bytes. Deterministic: the same files every run.
Usage: python3 Tests/fuzz/gen_seeds.py [OUTDIR]   (default Tests/fuzz/corpus)
"""
import os
import random
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
rng = random.Random(20261201)

# Op codes of fuzz_api.c's switch (op % 36).
ALLOC_PAGES, FREE_PAGES, FOLIO_ALLOC, FOLIO_GET, FOLIO_PUT = 0, 2, 3, 4, 5
SLAB_ALLOC, SLAB_FREE, PT_ALLOC, PT_FREE = 6, 7, 8, 9
SC_ALLOC, SC_GET, SC_PUT, SC_QUERY, PAGE_SC = 10, 12, 13, 14, 15
VMALLOC, VMAP, VFREE, VM_QUERY = 16, 18, 19, 20
MM_NEW, MMAP, MUNMAP, REMAP, FAULT, MM_EXIT, GUP, PIN, PUT_PAGE, UNPIN_PAGES = 21, 22, 24, 25, 26, 27, 28, 29, 30, 31
PAGE_Q, MACHINE_Q, WORD_DECODE, MISC = 32, 33, 34, 35


def u16(v):
    return list(struct.pack("<H", v))


def machine(nodes=1, sparsemem=False, small_sections=False, zones=((2, 2000, False),), holes=(), reserved=(),
            strategy=0, packed_bits=None):
    """The bytes make_machine() reads for a sane (non-hostile) machine.
    zones: (zone type, span 16..2063, align to 1024); nid is i % nodes.
    holes: (start, len 1..512); reserved: (zone index, offset, len 1..64)."""
    kind = (nodes - 1) | (4 if sparsemem else 0)
    b = [kind, 1 if small_sections else 0, len(zones) - 1, 0, 0]  # cursor = 0 * 16: zones from pfn 0
    cursor = 0
    for i, (zt, span, align) in enumerate(zones):
        zb = (zt << 2) | (0x40 if align else 0)
        b += [zb] + u16(span - 16)
        if align:
            cursor = (cursor + 1023) & ~1023
        cursor += span
    b.append(len(holes))
    for start, n in holes:
        b += [0] + (u16(start) if cursor else []) + u16(n - 1)
    b.append(len(reserved))
    for zi, off, n in reserved:
        b += [zi, n - 1] + u16(off)
    if packed_bits is None:
        b.append(strategy)
    else:  # (sb & 0x30) == 0x30 reads packed_index_bits (% 34) next
        b += [next(x for x in range(0x30, 0x40) if x % 6 == strategy), packed_bits]
    return b


SHAPES = [
    lambda s: machine(strategy=s),
    lambda s: machine(nodes=2, zones=((1, 1024, True), (2, 2048, True)), strategy=s),
    lambda s: machine(nodes=4, small_sections=True,
                      zones=((0, 1024, True), (1, 1024, True), (2, 2048, True), (2, 1024, True)),
                      holes=((1024, 512), (3000, 100)), reserved=((0, 0, 1), (2, 100, 24)), strategy=s),
    lambda s: machine(nodes=2, sparsemem=True, zones=((2, 1500, False), (3, 700, False)), reserved=((0, 5, 64),),
                      strategy=s),
]

# The mailing-list scenario: vmalloc_user 4 pages, an mm, a driver mapping,
# remap the area there, pin its pages, vfree, exit the mm, unpin one by one.
MAILING_LIST = (
    [VMALLOC, 1, 3, 0] + [MM_NEW] + [MMAP, 0, 0, 0, 0, 3, 0] + [REMAP, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    + [PIN, 0, 0, 0, 0, 0, 0, 3, 0] + [VFREE, 0, 0, 0] + [MM_EXIT, 0, 0] + [PUT_PAGE, 1, 0, 0] * 4
)
# vmap without VM_MAP_PUT_PAGES, then a mapped page freed (the known bug).
VMAP_FREE = ([ALLOC_PAGES, 0, 0, 0] * 3 + [VMAP, 1, 0, 0, 0, 0, 1] + [FREE_PAGES, 0, 0])
# vmap with VM_MAP_PUT_PAGES, vfree (only vfree frees the pages it owns).
VMAP_PUT = ([ALLOC_PAGES, 0, 0, 0] * 3 + [VMAP, 2, 1, 0, 0, 0, 1, 0, 2] + [VFREE, 0, 0, 0])
# Descriptors: folio, slab, ptdesc, get/put.
DESCRIPTORS = ([FOLIO_ALLOC, 0, 0, 2, 0] + [FOLIO_ALLOC, 130, 0, 0, 0] + [SLAB_ALLOC, 7, 3, 0, 1, 0]
               + [PT_ALLOC, 0, 0, 0] + [FOLIO_GET, 0, 0, 0] + [FOLIO_PUT, 0, 0, 0] + [PAGE_Q, 0, 0, 3]
               + [SLAB_FREE, 0, 0, 0] + [PT_FREE, 0, 0, 0])
# Anonymous memory: mmap anon, fault, GUP, munmap a middle page, get/put.
ANON = ([MM_NEW] + [MMAP, 0, 0, 1, 0, 7, 0] + [FAULT, 0, 0, 0, 0, 0, 0] + [GUP, 0, 0, 0, 0, 0, 0, 2, 0]
        + [MUNMAP, 0, 0, 0, 0, 2, 0, 0] + [PUT_PAGE, 0, 0, 0] * 3 + [MM_EXIT, 0, 0])
# scamems by hand.
SCAMEMS = ([SC_ALLOC, 3, 0, 1, 0] + [SC_GET, 0, 0] + [SC_QUERY, 0, 0, 1, 4] + [PAGE_SC, 0, 0, 1]
           + [SC_PUT, 0, 0] + [SC_PUT, 0, 0])
# VMAP_FREE crashes today (a known bug): it is the regression input
# regressions/api/vmap-noput-free-mapped-page, not a seed (a crashing seed
# stops libFuzzer).
SCENARIOS = [MAILING_LIST, VMAP_PUT, DESCRIPTORS, ANON, SCAMEMS]


def random_ops(n):
    b = []
    for _ in range(n):
        b.append(rng.randrange(36))
        b += [rng.choice((0, 0, 0, 1, 1, 2, 3, rng.randrange(256))) for _ in range(rng.randrange(2, 12))]
    return b


def write(sub, name, data):
    d = os.path.join(out, sub)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes(data))


n = 0
for si, shape in enumerate(SHAPES):
    for strategy in range(6):
        sc = SCENARIOS[(si + strategy) % len(SCENARIOS)]
        write("api", "shape%d-strategy%d-scenario%d" % (si, strategy, (si + strategy) % len(SCENARIOS)), shape(strategy) + sc)
        n += 1
for i in range(10):
    write("api", "random%d" % i, SHAPES[i % 4](i % 6) + random_ops(20 + 5 * i))
    n += 1

# Import seeds: which (16 bits: bit i = file i present; zoneinfo unless bit 0
# alone), bin (kpageflags/kpagecount raw or xz), opts, then generator bytes.
ALL_TEXT = 0x3fe  # iomem .. uname, zoneinfo present (bit 0 clear)


def imp(which, binb, opts, body):
    return list(struct.pack("<H", which)) + [binb, opts] + body


def body(rand_len=200):
    return [rng.randrange(256) if rng.random() < 0.3 else rng.randrange(4) for _ in range(rand_len)]


variants = [
    ("full-raw", ALL_TEXT, 0x1 | 0x4, 0),
    ("full-xz", ALL_TEXT, 0x2 | 0x8, 0),
    ("no-iomem", ALL_TEXT & ~0x2, 0x1 | 0x4, 2),
    ("blocks-only", 0x60, 0x1, 3),
    ("zoneinfo-kpf-only", 0x0, 0x1, 1),
    ("no-kpageflags", ALL_TEXT, 0x0, 0),
    ("no-zoneinfo", 0x1, 0x1, 0),
    ("xz-corrupt", ALL_TEXT, 0x83, 4),
    ("xz-truncated", ALL_TEXT, 0x43, 5),
    ("kpagecount-xz", ALL_TEXT, 0x1 | 0xc, 0),
    ("opts-24", ALL_TEXT, 0x1 | 0x4, 0xc0),
    ("opts-e2big", ALL_TEXT, 0x1 | 0x4, 0xd8),
    ("dir-in-place", ALL_TEXT, 0x31, 0),
]
for name, which, binb, opts in variants:
    for k in range(2):
        write("import", "%s-%d" % (name, k), imp(which, binb, opts, body(120 + 80 * k)))
        n += 1
if len(sys.argv) > 2 and sys.argv[2] == "--regressions":
    write("regressions-api", "vmap-noput-free-mapped-page", SHAPES[0](2) + VMAP_FREE)
    # vmap() without VM_MAP_PUT_PAGES over a vmalloc area's page, then vfree
    # of that area: the page goes back to the buddy allocator, still mapped.
    write("regressions-api", "vmap-noput-over-vmalloc-page-vfree",
          SHAPES[0](2) + [VMALLOC, 0, 1, 0] + [VMAP, 0, 0, 255, 10, 0, 0] + [VFREE, 0, 0, 0])
    # ... over an anonymous page an mm faulted in, then mm_exit.
    write("regressions-api", "vmap-noput-over-anon-page-mm-exit",
          SHAPES[0](2) + [MM_NEW] + [MMAP, 0, 0, 1, 0, 0, 0] + [FAULT, 0, 0, 0, 0, 0, 0]
          + [VMAP, 0, 0, 255, 8, 0, 0] + [MM_EXIT, 0, 0])
    # word_decode with a zone field 33 bits wide at shift 24: traps converting
    # the zone to UInt32 (the node field's twin, layout-nodes-width-34).
    write("regressions-api", "layout-zones-width-33",
          SHAPES[0](2) + [WORD_DECODE, 2, 27, 0, 0, 33, 0, 0, 24] + list(struct.pack("<Q", 0xffff000000000000)))
    # SCAMEM_PACKED with 1 index bit (byte 0): the third scamem_alloc returns
    # -ENOSPC, which the header does not list for it.
    write("regressions-api", "packed-bound-enospc-undocumented",
          machine(strategy=5, packed_bits=0) + [SC_ALLOC, 1, 0, 0, 0] * 3)
print("wrote %d seeds under %s" % (n, out))
