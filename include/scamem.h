/*
 * scamem.h - the public C interface of libscamem, a reference model of Linux's
 * memory-descriptor ("memdesc") redesign and of the scamem proposal.
 *
 * This is the only public header. Everything it declares carries the prefix
 * scamem_ (types, functions) or SCAMEM_ (macros). It compiles as C11 and C++.
 *
 * Conventions (all functions):
 *  - Functions return 0 or a non-negative count on success and a negative errno
 *    on failure; scamem_strerror() turns one into text. No input can make the
 *    library abort: every handle, pfn, order, flag and pointer is checked.
 *  - A NULL machine handle returns -EINVAL. A handle that was already freed is
 *    undefined behaviour, as with free() (the library cannot tell).
 *  - Input option structs start with their size (set it to sizeof the struct);
 *    they only ever grow at the end. A caller built against a newer header may
 *    pass a larger struct as long as the fields this library does not know are
 *    zero (else -E2BIG), as the kernel's copy_struct_from_user() does; a caller
 *    built against an older header passes the smaller size it knew, and the
 *    fields added since read as zero.
 *  - Ownership is written on every function that returns a handle or pointer.
 *  - A machine may be used from several threads at once; each call is atomic
 *    with respect to the others on the same machine. Since 0.2 calls that
 *    touch different parts of it need not wait for each other: page
 *    allocation and freeing in different zones run at once (a lock per
 *    zone), and GUP-fast, unpins and page_to_nid() take no lock.
 *
 * Link with:  cc app.c $(pkg-config --cflags --libs scamem)
 * or, static: cc app.c $(pkg-config --cflags --libs --static scamem-static)
 */
#ifndef SCAMEM_H
#define SCAMEM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks every exported function; the symbol checks in the tests key on it. */
#define SCAMEM_API extern

/* ------------------------------------------------------------------------ */
/* Versions                                                                  */
/* ------------------------------------------------------------------------ */

#define SCAMEM_VERSION_MAJOR 0
#define SCAMEM_VERSION_MINOR 2
#define SCAMEM_VERSION_PATCH 0
#define SCAMEM_VERSION_NUMBER \
	(SCAMEM_VERSION_MAJOR * 10000 + SCAMEM_VERSION_MINOR * 100 + SCAMEM_VERSION_PATCH)
#define SCAMEM_VERSION_STRING "0.2.0"

/* Version of the page-word layout below. Any change of layout bumps it. */
#define SCAMEM_LAYOUT_VERSION 1

/* The library's SCAMEM_VERSION_NUMBER (may differ from the header's). */
SCAMEM_API uint32_t scamem_version_number(void);
/* The library's version as text. Borrowed: a static string, never freed. */
SCAMEM_API const char *scamem_version_string(void);
/* The page-word layout version the library writes (SCAMEM_LAYOUT_VERSION). */
SCAMEM_API uint32_t scamem_layout_version(void);
/*
 * Text for an error code, negative (as returned) or positive. Borrowed: a
 * static string, never freed. Unknown codes give "unknown error".
 */
SCAMEM_API const char *scamem_strerror(int err);

/* ------------------------------------------------------------------------ */
/* Machine constants                                                         */
/* ------------------------------------------------------------------------ */

#define SCAMEM_PAGE_SHIFT 12
#define SCAMEM_PAGE_SIZE 4096u
#define SCAMEM_MAX_PAGE_ORDER 10 /* MAX_PAGE_ORDER */
#define SCAMEM_NR_PAGE_ORDERS 11 /* NR_PAGE_ORDERS */
#define SCAMEM_NUMA_NO_NODE (-1) /* NUMA_NO_NODE: use the machine's local node */

/* enum zone_type, x86_64 numbering. */
#define SCAMEM_ZONE_DMA 0
#define SCAMEM_ZONE_DMA32 1
#define SCAMEM_ZONE_NORMAL 2
#define SCAMEM_ZONE_MOVABLE 3
#define SCAMEM_ZONE_DEVICE 4
#define SCAMEM_MAX_NR_ZONES 5

/*
 * Allocation flags (gfp_t) at the kernel's values: SCAMEM_GFP_X is __GFP_X of
 * include/linux/gfp_types.h (6.12, x86_64 without KASAN_HW_TAGS or LOCKDEP,
 * where __GFP_SKIP_ZERO, __GFP_SKIP_KASAN and __GFP_NOLOCKDEP are 0) for each
 * modifier, and GFP_X for each combination below. Since 0.2; 0.1 had
 * SCAMEM_GFP_MOVABLE alone select ZONE_MOVABLE and SCAMEM_GFP_THISNODE at
 * 0x100, which is now __GFP_ZERO.
 *
 * The zone modifiers pick the highest zone as gfp_zone() and GFP_ZONE_TABLE
 * do (no ZONE_HIGHMEM on x86_64): none, HIGHMEM or MOVABLE alone: NORMAL;
 * DMA (with or without MOVABLE): DMA; DMA32 (with or without MOVABLE): DMA32;
 * HIGHMEM|MOVABLE: MOVABLE. GFP_ZONE_BAD's mixes (two of DMA, DMA32, HIGHMEM)
 * are -EINVAL, as is MOVABLE|RECLAIMABLE (gfp_migratetype() warns) and any
 * bit the kernel does not define. MOVABLE and RECLAIMABLE choose the
 * migratetype; THISNODE stays on the first node; HIGH, MEMALLOC, NOMEMALLOC,
 * NOFAIL and DIRECT_RECLAIM choose watermark and reserves (see "The page
 * allocator"); ACCOUNT sends scamem_alloc_pages_bulk() to its single-page
 * path. The rest are accepted and change nothing: the model has no page
 * contents, reclaim, cpusets or memcg.
 */
#define SCAMEM_GFP_DMA 0x01u
#define SCAMEM_GFP_HIGHMEM 0x02u
#define SCAMEM_GFP_DMA32 0x04u
#define SCAMEM_GFP_MOVABLE 0x08u
#define SCAMEM_GFP_RECLAIMABLE 0x10u
#define SCAMEM_GFP_HIGH 0x20u
#define SCAMEM_GFP_IO 0x40u
#define SCAMEM_GFP_FS 0x80u
#define SCAMEM_GFP_ZERO 0x100u
#define SCAMEM_GFP_DIRECT_RECLAIM 0x400u
#define SCAMEM_GFP_KSWAPD_RECLAIM 0x800u
#define SCAMEM_GFP_WRITE 0x1000u
#define SCAMEM_GFP_NOWARN 0x2000u
#define SCAMEM_GFP_RETRY_MAYFAIL 0x4000u
#define SCAMEM_GFP_NOFAIL 0x8000u
#define SCAMEM_GFP_NORETRY 0x10000u
#define SCAMEM_GFP_MEMALLOC 0x20000u
#define SCAMEM_GFP_COMP 0x40000u
#define SCAMEM_GFP_NOMEMALLOC 0x80000u
#define SCAMEM_GFP_HARDWALL 0x100000u
#define SCAMEM_GFP_THISNODE 0x200000u
#define SCAMEM_GFP_ACCOUNT 0x400000u
#define SCAMEM_GFP_ZEROTAGS 0x800000u
#define SCAMEM_GFP_NO_OBJ_EXT 0x1000000u /* CONFIG_SLAB_OBJ_EXT, which memcg selects */

#define SCAMEM_GFP_RECLAIM (SCAMEM_GFP_DIRECT_RECLAIM | SCAMEM_GFP_KSWAPD_RECLAIM)
#define SCAMEM_GFP_ATOMIC (SCAMEM_GFP_HIGH | SCAMEM_GFP_KSWAPD_RECLAIM)
#define SCAMEM_GFP_KERNEL (SCAMEM_GFP_RECLAIM | SCAMEM_GFP_IO | SCAMEM_GFP_FS) /* 0xcc0 */
#define SCAMEM_GFP_KERNEL_ACCOUNT (SCAMEM_GFP_KERNEL | SCAMEM_GFP_ACCOUNT)
#define SCAMEM_GFP_NOWAIT (SCAMEM_GFP_KSWAPD_RECLAIM | SCAMEM_GFP_NOWARN)
#define SCAMEM_GFP_USER (SCAMEM_GFP_RECLAIM | SCAMEM_GFP_IO | SCAMEM_GFP_FS | SCAMEM_GFP_HARDWALL)
#define SCAMEM_GFP_HIGHUSER (SCAMEM_GFP_USER | SCAMEM_GFP_HIGHMEM)
#define SCAMEM_GFP_HIGHUSER_MOVABLE (SCAMEM_GFP_HIGHUSER | SCAMEM_GFP_MOVABLE) /* ZONE_MOVABLE first */

/* enum migratetype (include/linux/mmzone.h), since 0.2. */
#define SCAMEM_MIGRATE_UNMOVABLE 0
#define SCAMEM_MIGRATE_MOVABLE 1
#define SCAMEM_MIGRATE_RECLAIMABLE 2
#define SCAMEM_MIGRATE_HIGHATOMIC 3 /* no pageblock has it: the model reserves none */
#define SCAMEM_MIGRATE_CMA 4
#define SCAMEM_MIGRATE_ISOLATE 5
#define SCAMEM_MIGRATE_TYPES 6
#define SCAMEM_PAGEBLOCK_ORDER 9 /* pageblock_order on x86_64 */

/* ------------------------------------------------------------------------ */
/* The page word (layout version 1)                                          */
/* ------------------------------------------------------------------------ */
/*
 * One uint64_t per pfn. Bits 0-3 are the memdesc type (numbering of the 2025
 * memdesc plan, plus SCAMEM at 14). Inline types (MISC, BUDDY, HWPOISON) carry:
 *
 *   63 ........ 18 | 17 - 12 | 11      | 10 - 4  | 3 - 0
 *   section/node/zone  order  usermap   subtype   type
 *
 * with section/node/zone placed by the machine's layout (struct scamem_layout),
 * exactly as page->flags (memdesc_flags_t) places them. Pointer types carry a
 * 16-byte-aligned descriptor address in bits 4-63 (word & SCAMEM_WORD_DESC_MASK);
 * the descriptor holds the node/zone/section of all its pages, in the same
 * layout (see struct scamem_page_info.desc_flags).
 *
 * Descriptor addresses are the model's: desc >> 4 is a descriptor id, unique
 * while the descriptor lives. They are not pointers into this process.
 */
#define SCAMEM_TYPE_MISC 0
#define SCAMEM_TYPE_BUDDY 1
#define SCAMEM_TYPE_FILE 2
#define SCAMEM_TYPE_ANON 3
#define SCAMEM_TYPE_KSM 4
#define SCAMEM_TYPE_SLAB 5
#define SCAMEM_TYPE_BUMP 6
#define SCAMEM_TYPE_MOVABLE 7
#define SCAMEM_TYPE_PTDESC 8
#define SCAMEM_TYPE_HWPOISON 9
#define SCAMEM_TYPE_PERCPU 10
#define SCAMEM_TYPE_ACCTMEM 11
#define SCAMEM_TYPE_ZPDESC 12
#define SCAMEM_TYPE_MANAGED 13
#define SCAMEM_TYPE_SCAMEM 14 /* this project's extension; free in the plan */
#define SCAMEM_TYPE_RESERVED 15
#define SCAMEM_NR_TYPES 16

/* MISC subtypes (bits 4-10). */
#define SCAMEM_MISC_RESERVED 0 /* PageReserved, holes inside a zone */
#define SCAMEM_MISC_ZERO 1
#define SCAMEM_MISC_UNKNOWN 2 /* unknown/driver: alloc_pages() without a descriptor */
#define SCAMEM_MISC_VMALLOC 3
#define SCAMEM_MISC_GUARD 4
#define SCAMEM_MISC_OFFLINE 5 /* PageOffline; every page of an offline memory block */
#define SCAMEM_MISC_KMALLOC_LARGE 6
#define SCAMEM_MISC_EXACT 7
#define SCAMEM_MISC_BRD 8
#define SCAMEM_NR_MISC_SUBTYPES 9

/*
 * BUDDY subtypes: the first page of a free block carries the block's order;
 * the other pages of the block are tails (order 0). Blocks are naturally
 * aligned, as in the buddy allocator.
 */
#define SCAMEM_BUDDY_HEAD 0
#define SCAMEM_BUDDY_TAIL 1
/* HWPOISON subtypes (since 0.2): of unknown history (an imported capture's
 * KPF_HWPOISON), or taken off the allocator by scamem_memory_failure()
 * (the kernel's PageHWPoisonTakenOff(); scamem_unpoison_memory() gives it back). */
#define SCAMEM_HWPOISON_UNKNOWN 0
#define SCAMEM_HWPOISON_TAKEN_OFF 1

#define SCAMEM_WORD_TYPE_MASK 0xfull
#define SCAMEM_WORD_SUBTYPE_SHIFT 4
#define SCAMEM_WORD_SUBTYPE_MASK 0x7full
#define SCAMEM_WORD_USERMAP (1ull << 11) /* may be mapped to userspace */
#define SCAMEM_WORD_ORDER_SHIFT 12
#define SCAMEM_WORD_ORDER_MASK 0x3full
#define SCAMEM_WORD_INLINE_BITS 18 /* node/zone/section must sit at or above */
#define SCAMEM_WORD_DESC_MASK (~0xfull)

/*
 * The word of a pfn that has no memmap (pfn_valid() is false: a section
 * without memory, or outside every zone). Not a memdesc: a marker of the
 * model's flat array, which also covers holes. Its type reads as RESERVED.
 */
#define SCAMEM_WORD_NOPAGE UINT64_MAX

/*
 * Where node, zone and section sit in a word's high bits (and in a
 * descriptor's flags), computed as include/linux/page-flags-layout.h does:
 * from the top, section, node, zone. A width of 0 means "not in the word".
 */
struct scamem_layout {
	uint32_t version;           /* SCAMEM_LAYOUT_VERSION */
	uint32_t section_size_bits; /* SECTION_SIZE_BITS */
	uint32_t sections_width;    /* SECTIONS_WIDTH (0 under SPARSEMEM_VMEMMAP) */
	uint32_t nodes_width;       /* NODES_WIDTH */
	uint32_t zones_width;       /* ZONES_WIDTH */
	uint32_t sections_pgshift;  /* SECTIONS_PGSHIFT */
	uint32_t nodes_pgshift;     /* NODES_PGSHIFT */
	uint32_t zones_pgshift;     /* ZONES_PGSHIFT */
};

static inline uint32_t scamem_word_type(uint64_t word)
{
	return (uint32_t)(word & SCAMEM_WORD_TYPE_MASK);
}

static inline int scamem_word_is_nopage(uint64_t word)
{
	return word == SCAMEM_WORD_NOPAGE;
}

/* MISC, BUDDY and HWPOISON words carry their data inline; the rest point. */
static inline int scamem_type_is_inline(uint32_t type)
{
	return type == SCAMEM_TYPE_MISC || type == SCAMEM_TYPE_BUDDY ||
	       type == SCAMEM_TYPE_HWPOISON;
}

static inline uint32_t scamem_word_subtype(uint64_t word)
{
	return (uint32_t)((word >> SCAMEM_WORD_SUBTYPE_SHIFT) & SCAMEM_WORD_SUBTYPE_MASK);
}

static inline int scamem_word_usermap(uint64_t word)
{
	return (word & SCAMEM_WORD_USERMAP) != 0;
}

static inline uint32_t scamem_word_order(uint64_t word)
{
	return (uint32_t)((word >> SCAMEM_WORD_ORDER_SHIFT) & SCAMEM_WORD_ORDER_MASK);
}

/* The descriptor address of a pointer word; 0 for inline words. */
static inline uint64_t scamem_word_desc(uint64_t word)
{
	return scamem_type_is_inline(scamem_word_type(word)) ? 0 : (word & SCAMEM_WORD_DESC_MASK);
}

static inline uint64_t scamem__field(uint64_t flags, uint32_t shift, uint32_t width)
{
	return width ? (flags >> shift) & ((1ull << width) - 1) : 0;
}

/*
 * memdesc_nid(), memdesc_zonenum(), memdesc_section(): decode the high bits
 * of an inline word or of a descriptor's flags under the machine's layout.
 */
static inline uint32_t scamem_memdesc_nid(const struct scamem_layout *l, uint64_t flags)
{
	return (uint32_t)scamem__field(flags, l->nodes_pgshift, l->nodes_width);
}

static inline uint32_t scamem_memdesc_zonenum(const struct scamem_layout *l, uint64_t flags)
{
	return (uint32_t)scamem__field(flags, l->zones_pgshift, l->zones_width);
}

static inline uint64_t scamem_memdesc_section(const struct scamem_layout *l, uint64_t flags)
{
	return scamem__field(flags, l->sections_pgshift, l->sections_width);
}

/* pfn_to_section_nr() */
static inline uint64_t scamem_pfn_to_section_nr(const struct scamem_layout *l, uint64_t pfn)
{
	return pfn >> (l->section_size_bits - SCAMEM_PAGE_SHIFT);
}

/* Everything a word says by itself; filled by scamem_word_decode(). */
struct scamem_word_info {
	uint64_t word;
	uint64_t desc;    /* descriptor address, pointer types only */
	uint64_t section; /* inline types with section bits in the layout */
	uint32_t type;
	uint32_t subtype; /* inline types */
	uint32_t order;   /* inline types */
	uint32_t usermap; /* inline types: 1 if it may be mapped to userspace */
	uint32_t nid;     /* inline types */
	uint32_t zone;    /* inline types */
	uint32_t is_inline;
	uint32_t is_nopage;
};

/*
 * The exported twin of the inline decoders above, for callers that cannot use
 * static inline functions (FFI). Fills *info from word alone.
 * Returns 0, or -EINVAL if layout or info is NULL, layout->version is not
 * SCAMEM_LAYOUT_VERSION, a field does not fit in 64 bits (pgshift + width > 64,
 * a width of 64), nodes_width or zones_width is over 32, or section_size_bits
 * is not in [12, 64).
 */
SCAMEM_API int scamem_word_decode(const struct scamem_layout *layout, uint64_t word,
				  struct scamem_word_info *info);

/* ------------------------------------------------------------------------ */
/* Machines                                                                  */
/* ------------------------------------------------------------------------ */

/* Opaque handle to a modelled machine. */
typedef struct scamem_machine scamem_machine;

/*
 * A layout profile: the configuration from which the word layout is computed.
 * Profiles are data; the two x86_64 ones come as initialisers.
 */
struct scamem_profile {
	uint32_t size;              /* sizeof(struct scamem_profile) */
	uint32_t nodes_shift;       /* CONFIG_NODES_SHIFT */
	uint32_t zones_shift;       /* ZONES_SHIFT */
	uint32_t section_size_bits; /* SECTION_SIZE_BITS */
	uint32_t max_physmem_bits;  /* MAX_PHYSMEM_BITS */
	uint32_t sparsemem_vmemmap; /* 1: SPARSEMEM_VMEMMAP (no section bits); 0: classic SPARSEMEM */
};

/* x86_64 default: SPARSEMEM_VMEMMAP, NODES_SHIFT 10 (MAXSMP), ZONES_SHIFT 3. */
#define SCAMEM_PROFILE_X86_64_VMEMMAP_INIT \
	{ (uint32_t)sizeof(struct scamem_profile), 10, 3, 27, 46, 1 }
/* x86_64 classic SPARSEMEM: 19 section bits above NODES_SHIFT 10, ZONES_SHIFT 3. */
#define SCAMEM_PROFILE_X86_64_SPARSEMEM_INIT \
	{ (uint32_t)sizeof(struct scamem_profile), 10, 3, 27, 46, 0 }

/* One zone of one node: zone_start_pfn and spanned_pages (holes included).
 * Since 0.2 several entries may name the same node and zone: one zone in
 * pieces, whose span is their hull and holds other zones' memory between
 * them (interleaved nodes, hot-added memory onlined block by block). Entries
 * never overlap, and the pieces of one zone start and end on pageblock
 * boundaries where they meet other memory. */
struct scamem_zone_span {
	uint32_t nid;
	uint32_t zone; /* SCAMEM_ZONE_* */
	uint64_t start_pfn;
	uint64_t spanned_pages;
};

/* A run of pfns. */
struct scamem_pfn_range {
	uint64_t start_pfn;
	uint64_t nr_pages;
};

/*
 * Placement strategies: where a scamem page's node/zone/section live and how
 * a bare page finds its scamem (the seed mail's open question). Every
 * strategy runs the same API; they differ in page words, cost and what the
 * page alone can tell. docs/strategies.md explains each.
 */
#define SCAMEM_STRATEGY_DEFAULT 0     /* SCAMEM_STRATEGY_PFN_LOOKUP */
#define SCAMEM_STRATEGY_LEGACY 1      /* 64-byte struct pages, per-page refcounts */
#define SCAMEM_STRATEGY_PFN_LOOKUP 2  /* SCAMEM pointer word; placement from the pfn table */
#define SCAMEM_STRATEGY_FLAGS_ARRAY 3 /* SCAMEM pointer word; flags[] beside pages[] */
#define SCAMEM_STRATEGY_VMA_PRIVATE 4 /* MISC/vmalloc word; scamem via the VMA, reverse map */
#define SCAMEM_STRATEGY_PACKED 5      /* bounded index packed with node/zone in the word */
#define SCAMEM_NR_STRATEGIES 5

/*
 * What a machine is made of. Zones must not overlap, one per (nid, zone).
 * Holes are pfns inside zone spans with no memory: a hole filling whole
 * sections leaves them without memmap (SCAMEM_WORD_NOPAGE), a partial one
 * reads as MISC/RESERVED, as the kernel's init_unavailable_range() leaves it.
 * Reserved ranges are memory the allocator never gets (memblock reservations:
 * kernel image, firmware): MISC/RESERVED words.
 */
struct scamem_machine_desc {
	uint32_t size;     /* sizeof(struct scamem_machine_desc) */
	uint32_t nr_nodes; /* 1 .. 1 << profile.nodes_shift */
	struct scamem_profile profile;
	const struct scamem_zone_span *zones;
	const struct scamem_pfn_range *holes;
	const struct scamem_pfn_range *reserved;
	uint32_t nr_zones;
	uint32_t nr_holes;
	uint32_t nr_reserved;
	uint32_t strategy;          /* SCAMEM_STRATEGY_* */
	uint32_t packed_index_bits; /* SCAMEM_STRATEGY_PACKED: index bits; 0 takes every free bit (<= 32) */
	uint32_t reserved0;         /* must be 0 */
	/* Since 0.2 (a 0.1 caller's 80-byte struct reads as none): CMA areas, as
	 * cma_declare_contiguous() makes them. Each is pageblock-aligned (start and
	 * size multiples of 1 << SCAMEM_PAGEBLOCK_ORDER), inside one zone, clear
	 * of holes, reserved ranges and each other; its pageblocks are
	 * SCAMEM_MIGRATE_CMA, taken only by movable requests. */
	const struct scamem_pfn_range *cma;
	uint32_t nr_cma;
	/* Since 0.2: log2 of memory_block_size_bytes(), as
	 * set_memory_block_size_order() sets it (profile.section_size_bits ..
	 * max(31, section_size_bits)); 0 probes it as x86_64's
	 * probe_memory_block_size() on bare metal: one section below 64 GiB of
	 * pfns, 2 GiB from there. */
	uint32_t memory_block_size_order;
};

/*
 * Creates a machine from *desc. All managed memory starts free in the buddy
 * allocator as naturally aligned blocks of order <= SCAMEM_MAX_PAGE_ORDER.
 * On success *out holds a new handle; free it with scamem_machine_free().
 * Errors: -EINVAL (NULL, bad size, node/zone out of range, overlapping or
 * empty zones, layout that does not fit in 64 - SCAMEM_WORD_INLINE_BITS bits,
 * pfns beyond MAX_PHYSMEM_BITS, unknown strategy, more packed index bits than
 * the layout leaves, a CMA area that is not pageblock-aligned, leaves its
 * zone or meets a hole, a reserved range or another area, pieces of one zone
 * that meet other memory off a pageblock boundary, memory_block_size_order
 * out of range), -E2BIG (unknown
 * non-zero trailing fields), -ENOMEM.
 */
SCAMEM_API int scamem_machine_new(const struct scamem_machine_desc *desc, scamem_machine **out);

/*
 * Creates the default machine: 2 nodes of 4 GiB each, x86_64 zones and the
 * x86_64 VMEMMAP profile. Node 0: DMA [0, 16 MiB), DMA32 [16 MiB, 4 GiB)
 * with the legacy VGA/BIOS hole [640 KiB, 1 MiB) and the PCI hole [3, 4 GiB),
 * NORMAL [4, 5 GiB); node 1: NORMAL [5, 9 GiB). Reserved: pfn 0 and a 24 MiB
 * kernel image at 16 MiB. *out holds a new handle; free it with
 * scamem_machine_free(). Errors: -EINVAL (out NULL), -ENOMEM.
 */
SCAMEM_API int scamem_machine_new_default(scamem_machine **out);

/*
 * Fills *desc with the default machine's description. The arrays it points to
 * are static and borrowed. Returns 0, or -EINVAL if desc is NULL.
 */
SCAMEM_API int scamem_machine_desc_default(struct scamem_machine_desc *desc);

/*
 * Frees a machine and everything in it; no other call on m may run at the
 * same time or after. If m is NULL, nothing happens.
 */
SCAMEM_API void scamem_machine_free(scamem_machine *m);

/*
 * Sets the local node: the node SCAMEM_NUMA_NO_NODE and SCAMEM_POLICY_LOCAL
 * mean, as the current CPU's node does in the kernel (0 at creation).
 * Returns 0, or -EINVAL (NULL, not a node).
 */
SCAMEM_API int scamem_machine_set_local_node(scamem_machine *m, int32_t nid);

/*
 * mTHP: the order of anonymous folios faulted in from now on (0, the default,
 * gives small folios; a larger order is used where the aligned range fits the
 * VMA and is unmapped, else the next smaller). Returns 0, or -EINVAL (NULL,
 * order > 10).
 */
SCAMEM_API int scamem_machine_set_anon_order(scamem_machine *m, uint32_t order);

/* Copies the machine's word layout into *out. Returns 0 or -EINVAL. */
SCAMEM_API int scamem_machine_layout(const scamem_machine *m, struct scamem_layout *out);

struct scamem_machine_info {
	uint64_t end_pfn;          /* pfns [0, end_pfn) have a word */
	uint64_t present_pages;    /* pfns with memory */
	uint64_t managed_pages;    /* present minus reserved */
	uint64_t free_pages;       /* in the buddy allocator */
	uint64_t memmap_pages;     /* pfns below end_pfn in sections that have a memmap */
	uint64_t nr_sections;      /* sections [0, nr_sections) */
	uint64_t present_sections; /* sections with a memmap */
	uint32_t nr_nodes;
	uint32_t nr_zones;
	int32_t local_node; /* the node SCAMEM_NUMA_NO_NODE means */
	uint32_t strategy;  /* SCAMEM_STRATEGY_* (never DEFAULT) */
};

/* Fills *out. Returns 0 or -EINVAL. */
SCAMEM_API int scamem_machine_info(scamem_machine *m, struct scamem_machine_info *out);

struct scamem_zone_info {
	uint32_t nid;
	uint32_t zone;
	uint64_t start_pfn;
	uint64_t spanned_pages;
	uint64_t present_pages;
	uint64_t managed_pages;
	uint64_t free_pages;
	uint64_t nr_free[SCAMEM_NR_PAGE_ORDERS]; /* free blocks per order (buddyinfo) */
};

/*
 * Fills *out for zone number index, 0 <= index < info.nr_zones, in the order
 * of node then zone type. Returns 0, -EINVAL, or -ENOENT past the last zone.
 */
SCAMEM_API int scamem_machine_zone(scamem_machine *m, uint32_t index, struct scamem_zone_info *out);

/*
 * A read-only view of the whole word array: (*words)[pfn] for pfn < *nr.
 * Borrowed: valid until scamem_machine_free(m); never free it.
 *
 * Concurrency: words change only inside calls that allocate or free pages on
 * this machine, and the library stores each one whole with a relaxed atomic
 * store. A reader that scans while other threads call in must load each word
 * with a relaxed atomic load (scamem_word_load() below) to be free of data
 * races in the C11 and C++ memory models (on x86_64 that is a plain move, as
 * fast as a plain read, and ThreadSanitizer then stays quiet). A scan is a
 * consistent snapshot if no other thread calls a mutating function on m
 * meanwhile; otherwise it may mix states from before and after those calls.
 * Pointer words name descriptors whose state is read with scamem_page_info().
 * Returns 0 or -EINVAL.
 */
SCAMEM_API int scamem_machine_words(scamem_machine *m, const uint64_t **words, uint64_t *nr);

/* (*words)[pfn] as a relaxed atomic load: a whole word, race-free beside the
 * library's own stores. */
static inline uint64_t scamem_word_load(const uint64_t *words, uint64_t pfn)
{
#if defined(__GNUC__) || defined(__clang__)
	return __atomic_load_n(&words[pfn], __ATOMIC_RELAXED);
#else
	return *(const volatile uint64_t *)&words[pfn];
#endif
}

/*
 * Classifies pfns [start_pfn, start_pfn + nr_pages) by word type and adds the
 * counts into counts[SCAMEM_NR_TYPES] (NOPAGE pfns count under
 * SCAMEM_TYPE_RESERVED). The range is clipped at end_pfn.
 * Returns the number of pfns classified, or -EINVAL, -ERANGE (start_pfn >= end_pfn).
 */
SCAMEM_API int64_t scamem_classify_range(scamem_machine *m, uint64_t start_pfn, uint64_t nr_pages,
					 uint64_t counts[SCAMEM_NR_TYPES]);

/*
 * Counts the pages of node nid and zone zone (-1 for any) by word type into
 * counts[SCAMEM_NR_TYPES] (overwritten). A pointer word counts under the node
 * and zone of its descriptor. NOPAGE pfns count only when both are -1.
 * Returns the number of pages counted, or -EINVAL.
 */
SCAMEM_API int64_t scamem_count_pages(scamem_machine *m, int32_t nid, int32_t zone,
				      uint64_t counts[SCAMEM_NR_TYPES]);

/*
 * What the page metadata costs: today's 64-byte struct page per memmap pfn
 * against memdescs (an 8-byte word per memmap pfn plus every live descriptor
 * at its size).
 */
struct scamem_metadata {
	uint64_t memmap_pages;
	uint64_t struct_page_bytes; /* 64 * memmap_pages */
	uint64_t word_bytes;        /* 8 * memmap_pages */
	uint64_t desc_bytes;        /* sum of nr_desc[t] * desc_size[t] */
	uint64_t memdesc_bytes;     /* word_bytes + desc_bytes */
	uint64_t nr_desc[SCAMEM_NR_TYPES];
	uint32_t desc_size[SCAMEM_NR_TYPES]; /* bytes per descriptor (scamem: per header) */
	uint64_t scamem_bytes; /* scamem objects: 8-byte headers and 8 bytes per page, in desc_bytes */
};

/* Fills *out. Returns 0 or -EINVAL. */
SCAMEM_API int scamem_machine_metadata(scamem_machine *m, struct scamem_metadata *out);

/* ------------------------------------------------------------------------ */
/* The page allocator                                                        */
/* ------------------------------------------------------------------------ */
/*
 * mm/page_alloc.c's buddy allocator per zone, orders 0..SCAMEM_MAX_PAGE_ORDER,
 * with a free list per order and migratetype. Zonelists are node-ordered: the
 * preferred node's zones from the highest allowed down (MOVABLE, NORMAL,
 * DMA32, DMA), then the other nodes by increasing distance (id order,
 * wrapping). Within a free list the lowest-addressed block is taken (the
 * kernel's lists are LIFO), so a machine and a call sequence always give the
 * same pfns.
 *
 * Since 0.2, as the kernel: every pageblock starts MIGRATE_MOVABLE
 * (memmap_init()); a request takes its migratetype's lists first, then CMA
 * for movable requests (with CMA first when it holds over half the zone's
 * free pages), then claims the largest block of a fallback type, taking its
 * whole pageblock where try_to_steal_block() would (a block of a pageblock or
 * more; or half the pageblock free or alike), then steals the smallest
 * (fallbacks[]: UNMOVABLE -> RECLAIMABLE, MOVABLE; MOVABLE -> RECLAIMABLE,
 * UNMOVABLE; RECLAIMABLE -> UNMOVABLE, MOVABLE). Frees merge across
 * pageblocks only between UNMOVABLE, MOVABLE and RECLAIMABLE.
 *
 * Watermarks: min/low/high per zone as __setup_per_zone_wmarks() computes them
 * from min_free_kbytes (calculate_min_free_kbytes(), raised as khugepaged's
 * set_recommended_min_free_kbytes() does with THP enabled, Debian's default),
 * and lowmem_reserve[] as setup_per_zone_lowmem_reserve() (ratios 256, 256,
 * 32), so a GFP_KERNEL request leaves ZONE_DMA's reserve alone. A request
 * first needs free pages above the low watermark plus the zone's reserve for
 * its highest zone; then (the slow path, gfp_to_alloc_flags()) above min,
 * half of min with SCAMEM_GFP_HIGH, a quarter less again without
 * SCAMEM_GFP_DIRECT_RECLAIM; then none with SCAMEM_GFP_MEMALLOC (without
 * NOMEMALLOC); then SCAMEM_GFP_NOFAIL with DIRECT_RECLAIM takes half of min.
 * Not modelled: reclaim, compaction, the OOM killer, per-cpu lists,
 * watermark boosting, ALLOC_NOFRAGMENT and high-atomic reserves. Where the
 * kernel would reclaim and retry, or loop forever under NOFAIL, the model
 * returns -ENOMEM.
 */

/*
 * alloc_pages_node(): 2^order pages without a descriptor, naturally aligned.
 * Their words become MISC/UNKNOWN with the order and node/zone/section inline.
 * nid is a node or SCAMEM_NUMA_NO_NODE. On success *pfn is the first pfn.
 * Threads allocating and freeing in different zones do not wait for each
 * other (since 0.2: the zone's lock, as zone->lock; no per-CPU lists).
 * Errors: -EINVAL (NULL, order > 10, unknown gfp bits, nid out of range),
 * -ENOMEM (no block in any allowed zone).
 */
SCAMEM_API int scamem_alloc_pages(scamem_machine *m, uint32_t gfp, uint32_t order, int32_t nid,
				  uint64_t *pfn);

/*
 * __free_pages(): returns a block from scamem_alloc_pages() to the buddy
 * allocator, coalescing with free buddies. Errors: -EINVAL (NULL, order > 10,
 * pfn not the first page of an allocated block of that order, or owned by a
 * descriptor), -ERANGE (pfn >= end_pfn), -ENXIO (pfn has no memory: a hole),
 * -EALREADY (the page is already free), -EBUSY (a vmap() area without
 * SCAMEM_VM_MAP_PUT_PAGES, or a user mapping or GUP reference that outlived
 * one, still holds one of the pages; or since 0.2 a scamem_vm_insert_pages()
 * pte maps one: under memdescs such a page has no refcount to defer the free;
 * or it is a page a bpf ringbuf or io_uring region allocated).
 */
SCAMEM_API int scamem_free_pages(scamem_machine *m, uint64_t pfn, uint32_t order);

/* An empty slot of scamem_alloc_pages_bulk()'s array (the kernel's NULL page). */
#define SCAMEM_PFN_NONE UINT64_MAX

/*
 * alloc_pages_bulk() (since 0.2): fills the slots of pfns[0..nr) that hold
 * SCAMEM_PFN_NONE with order-0 pages, as scamem_alloc_pages() gives them
 * (free each with scamem_free_pages(pfn, 0)), and returns how many slots are
 * then filled counting from the first: nr when all are. As the kernel does:
 * the pages come from the first zone of the preferred node whose low
 * watermark, raised by nr, holds; no further watermark check per page; one
 * page to fill, no such zone, an empty zone before the first page, or
 * SCAMEM_GFP_ACCOUNT (memcg) take the single-page path, which may give one
 * page from anywhere scamem_alloc_pages() would. vmalloc takes its pages this
 * way, in requests of at most 100. Returns the count (0 if no page could be
 * had), or -EINVAL (NULL m or pfns with nr > 0, nr above INT32_MAX, gfp or
 * nid as scamem_alloc_pages()).
 */
SCAMEM_API int scamem_alloc_pages_bulk(scamem_machine *m, uint32_t gfp, int32_t nid, uint32_t nr, uint64_t *pfns);

/* One zone's watermarks and reserves (/proc/zoneinfo), since 0.2. Size-first. */
struct scamem_zone_watermarks {
	uint32_t size;      /* sizeof(struct scamem_zone_watermarks) */
	uint32_t reserved0; /* 0 on return */
	uint64_t min_free_kbytes; /* vm.min_free_kbytes, machine-wide */
	uint64_t wmark_min;
	uint64_t wmark_low;
	uint64_t wmark_high;
	uint64_t wmark_promo;
	uint64_t lowmem_reserve[SCAMEM_MAX_NR_ZONES]; /* zoneinfo's "protection:" */
	uint64_t nr_free_cma; /* NR_FREE_CMA_PAGES */
	uint64_t nr_free_isolated; /* free pages in ISOLATE pageblocks, not in free_pages */
};

/*
 * Fills *out for zone number index (as scamem_machine_zone()). Set out->size
 * first: as the kernel's copy_struct_to_user(), min(out->size, sizeof) bytes
 * are written and the rest of out->size (at most 4096) zeroed, so an older or
 * newer caller's struct works. Returns 0, -EINVAL (NULL, size below 16 or
 * above 4096), -ENOENT past the last zone.
 */
SCAMEM_API int scamem_machine_zone_watermarks(scamem_machine *m, uint32_t index, struct scamem_zone_watermarks *out);

/* One zone's free lists and pageblocks by migratetype (/proc/pagetypeinfo), since 0.2. */
struct scamem_zone_pagetypeinfo {
	uint32_t size;      /* sizeof(struct scamem_zone_pagetypeinfo) */
	uint32_t reserved0; /* 0 on return */
	uint64_t nr_free[SCAMEM_NR_PAGE_ORDERS][SCAMEM_MIGRATE_TYPES]; /* free blocks per order and type */
	uint64_t nr_pageblocks[SCAMEM_MIGRATE_TYPES]; /* "Number of blocks type", by the pageblock's first pfn */
};

/* As scamem_machine_zone_watermarks(), for the pagetypeinfo. */
SCAMEM_API int scamem_machine_zone_pagetypeinfo(scamem_machine *m, uint32_t index,
						struct scamem_zone_pagetypeinfo *out);

/*
 * get_pageblock_migratetype() (since 0.2): the SCAMEM_MIGRATE_* of the
 * pageblock holding pfn. Errors: -EINVAL (NULL), -ERANGE (pfn >= end_pfn),
 * -ENXIO (a hole or no memmap).
 */
SCAMEM_API int scamem_pageblock_migratetype(scamem_machine *m, uint64_t pfn);

/*
 * The sysctls that set watermarks (since 0.2), as writing /proc/sys/vm/...
 * does: min_free_kbytes (0..INT32_MAX; recomputes min/low/high; a later
 * memory online may raise it again, as khugepaged does),
 * watermark_scale_factor (1..3000), lowmem_reserve_ratio (one int per zone
 * type, SCAMEM_MAX_NR_ZONES of them; a value below 1 means no reserve).
 * Returns 0 or -EINVAL (NULL, out of range).
 */
SCAMEM_API int scamem_sysctl_min_free_kbytes(scamem_machine *m, int32_t kbytes);
SCAMEM_API int scamem_sysctl_watermark_scale_factor(scamem_machine *m, int32_t factor);
SCAMEM_API int scamem_sysctl_lowmem_reserve_ratio(scamem_machine *m, const int32_t ratio[SCAMEM_MAX_NR_ZONES]);

/* ------------------------------------------------------------------------ */
/* Descriptors: folios, slabs, ptdescs                                       */
/* ------------------------------------------------------------------------ */
/*
 * Allocating a descriptor allocates its pages and writes pointer words into
 * them; its flags get node/zone/section once, from the first pfn. Freeing it
 * writes BUDDY words back with node/zone/section taken from the descriptor.
 * Descriptors are named by any pfn they own, as page_folio() does.
 */

/*
 * folio_alloc(): a FILE or ANON folio (type SCAMEM_TYPE_FILE or _ANON) of
 * 2^order pages with refcount 1 and mapcount 0. *pfn is its first pfn.
 * Errors: -EINVAL (NULL, bad type, order > 10, gfp, nid), -ENOMEM.
 */
SCAMEM_API int scamem_folio_alloc(scamem_machine *m, uint32_t type, uint32_t gfp, uint32_t order,
				  int32_t nid, uint64_t *pfn);

/*
 * folio_get(): one more reference on the folio owning pfn. Returns the new
 * refcount, or -EINVAL (NULL, not a folio page), -ERANGE, -ENXIO,
 * -EALREADY (the page is free), -EOVERFLOW (refcount saturated).
 */
SCAMEM_API int scamem_folio_get(scamem_machine *m, uint64_t pfn);

/*
 * folio_put(): drops a reference on the folio owning pfn; the last one frees
 * the folio and its pages. Returns the remaining refcount (0: freed), or the
 * errors of scamem_folio_get() but -EOVERFLOW, and -EBUSY when this is the
 * caller's last reference and a vmap() area maps the folio.
 */
SCAMEM_API int scamem_folio_put(scamem_machine *m, uint64_t pfn);

/*
 * A slab of 2^order pages for cache cache_id with objects of object_size
 * bytes (objects = (PAGE_SIZE << order) / object_size). *pfn is its first
 * pfn. Errors: -EINVAL (NULL, object_size 0 or above the slab size, order,
 * gfp, nid), -ENOMEM.
 */
SCAMEM_API int scamem_slab_alloc(scamem_machine *m, uint32_t cache_id, uint32_t object_size,
				 uint32_t gfp, uint32_t order, int32_t nid, uint64_t *pfn);

/* Frees the slab owning pfn. Errors as scamem_folio_put(), -EINVAL if not a slab. */
SCAMEM_API int scamem_slab_free(scamem_machine *m, uint64_t pfn);

/* pagetable_alloc(): a page table (ptdesc) of 2^order pages. Errors as folios. */
SCAMEM_API int scamem_ptdesc_alloc(scamem_machine *m, uint32_t gfp, uint32_t order, int32_t nid,
				   uint64_t *pfn);

/* pagetable_free(): frees the ptdesc owning pfn. Errors as scamem_slab_free(). */
SCAMEM_API int scamem_ptdesc_free(scamem_machine *m, uint64_t pfn);

/* ------------------------------------------------------------------------ */
/* Queries                                                                   */
/* ------------------------------------------------------------------------ */

/* page_to_nid(). Returns the node, or -EINVAL (NULL), -ERANGE, -ENXIO. */
SCAMEM_API int scamem_page_to_nid(scamem_machine *m, uint64_t pfn);
/* page_zonenum(). Returns SCAMEM_ZONE_*, or -EINVAL, -ERANGE, -ENXIO. */
SCAMEM_API int scamem_page_zonenum(scamem_machine *m, uint64_t pfn);
/* page_to_section() (memdesc_section()). Returns the section, or -EINVAL, -ERANGE, -ENXIO. */
SCAMEM_API int64_t scamem_page_to_section(scamem_machine *m, uint64_t pfn);

/* What is known of one pfn, from its word and its owner. */
struct scamem_page_info {
	uint64_t pfn;
	uint64_t word;
	uint64_t desc;       /* descriptor address (pointer types), else 0 */
	uint64_t desc_flags; /* the descriptor's memdesc flags (node/zone/section) */
	uint64_t head_pfn;   /* first pfn of the block, folio, slab or ptdesc */
	uint64_t section;
	uint32_t type;
	uint32_t subtype;
	uint32_t order; /* of the block or descriptor */
	uint32_t nid;
	uint32_t zone;
	int32_t refcount; /* descriptors; 0 for inline words */
	int32_t mapcount;
	int32_t pincount;
	uint32_t cache_id; /* slabs */
	uint32_t objects;  /* slabs */
};

/*
 * Fills *info for pfn. Returns 0, or -EINVAL (NULL), -ERANGE, -ENXIO (no
 * memmap: info->word is still filled with SCAMEM_WORD_NOPAGE).
 */
SCAMEM_API int scamem_page_info(scamem_machine *m, uint64_t pfn, struct scamem_page_info *info);

/* ------------------------------------------------------------------------ */
/* scamem: scattered memory                                                  */
/* ------------------------------------------------------------------------ */
/*
 * struct scamem { unsigned int nr; refcount_t refcount; struct page *pages[]; }
 * One refcounted object owning scattered order-0 pages, referenced by a
 * vm_struct, by each user mapping and by each GUP get or pin; freed, with its
 * pages, when the last reference goes. Its pages' words are SCAMEM pointer
 * words; node/zone/section come from the machine's pfn table
 * (SCAMEM_PFN_LOOKUP placement).
 *
 * struct scamem * is a handle: the library checks it on every call and never
 * dereferences it, so a stale or made-up one returns -EBADF.
 */
struct scamem;

/* Node policy for a scamem's pages. */
#define SCAMEM_POLICY_LOCAL 0      /* the machine's local node, then fallbacks */
#define SCAMEM_POLICY_INTERLEAVE 1 /* page i on node (local + i) % nr_nodes */
#define SCAMEM_POLICY_NODE 2       /* node nid first (SCAMEM_GFP_THISNODE: only) */

/*
 * A scamem of nr_pages order-0 pages, refcount 1. On success *out is a new
 * reference: drop it with scamem_put(). Errors: -EINVAL (NULL, nr_pages 0,
 * policy, gfp, nid), -ENOMEM, -ENOSPC (SCAMEM_STRATEGY_PACKED: every scamem
 * index of machine_desc.packed_index_bits is in use).
 */
SCAMEM_API int scamem_alloc(scamem_machine *m, uint32_t nr_pages, uint32_t gfp, uint32_t policy, int32_t nid,
			    struct scamem **out);

/*
 * Takes a new reference (refcount_inc). Returns the new refcount, or -EINVAL
 * (NULL machine), -EBADF (stale handle), -EOVERFLOW.
 */
SCAMEM_API int scamem_get(scamem_machine *m, struct scamem *s);

/*
 * Drops a reference taken with scamem_alloc() or scamem_get(); the last
 * reference frees the object and its pages. Returns the remaining refcount
 * (0: freed), or -EINVAL (NULL machine, or no caller reference left: the
 * vm_struct's, mappings' and GUP's are theirs to drop), -EBADF.
 */
SCAMEM_API int scamem_put(scamem_machine *m, struct scamem *s);

/* A scamem's counts, by holder. */
struct scamem_stat {
	uint32_t nr;         /* pages */
	int32_t refcount;    /* = vm_refs + map_refs + gup_refs + caller_refs */
	int32_t vm_refs;     /* vm_structs (0 or 1) */
	int32_t map_refs;    /* user mappings (VMAs) */
	int32_t gup_refs;    /* get_user_pages/pin_user_pages references */
	int32_t caller_refs; /* scamem_alloc/scamem_get references */
	uint32_t owns_pages; /* 1: pages are freed with it */
	uint32_t bytes;      /* the object: 8 bytes of header, 8 per page */
};

/* Fills *st. Returns 0, or -EINVAL, -EBADF. */
SCAMEM_API int scamem_stat(scamem_machine *m, struct scamem *s, struct scamem_stat *st);

/* pages[index] as a pfn. Returns it, or -EINVAL, -EBADF, -ERANGE (index >= nr). */
SCAMEM_API int64_t scamem_page(scamem_machine *m, struct scamem *s, uint32_t index);

/*
 * Copies up to max pfns of pages[] into pfns. Returns nr (which may exceed
 * max), or -EINVAL (NULL pfns with max > 0), -EBADF.
 */
SCAMEM_API int64_t scamem_pages(scamem_machine *m, struct scamem *s, uint64_t *pfns, uint32_t max);

/*
 * The scamem owning pfn, found from the page alone. *out is borrowed: take a
 * reference with scamem_get() to keep it. Errors: -EINVAL (not a scamem
 * page), -ERANGE, -ENXIO.
 */
SCAMEM_API int scamem_page_scamem(scamem_machine *m, uint64_t pfn, struct scamem **out);

/* ------------------------------------------------------------------------ */
/* vmalloc                                                                   */
/* ------------------------------------------------------------------------ */
/*
 * Areas live in a modelled vmalloc space at 0xffffc90000000000 (32 TiB), with
 * a guard page after each unless VM_NO_GUARD (vmalloc only: vmap() ignores
 * it). An area's range includes its guard page, as the kernel's vmap_area
 * does, so every call taking an area's address (vfree, vunmap, find_vm_area,
 * remap_vmalloc_range) takes any address in that range. A vm_struct holds exactly one
 * reference on its scamem; vfree() drops it, and the pages are freed when the
 * scamem's last reference goes (user mappings and GUP may outlive the area).
 */
#define SCAMEM_VMALLOC_START 0xffffc90000000000ull
#define SCAMEM_VM_IOREMAP 0x1u
#define SCAMEM_VM_ALLOC 0x2u
#define SCAMEM_VM_MAP 0x4u
#define SCAMEM_VM_USERMAP 0x8u /* suitable for remap_vmalloc_range() */
#define SCAMEM_VM_DMA_COHERENT 0x10u
#define SCAMEM_VM_NO_GUARD 0x40u
#define SCAMEM_VM_MAP_PUT_PAGES 0x200u
#define SCAMEM_VM_SPARSE 0x1000u

/* Options of scamem_vmalloc_opts() (__vmalloc_node_range()). */
struct scamem_vmalloc_opts {
	uint32_t size;     /* sizeof(struct scamem_vmalloc_opts) */
	uint32_t vm_flags; /* 0, or SCAMEM_VM_USERMAP, _NO_GUARD, _DMA_COHERENT */
	uint32_t gfp;
	uint32_t policy; /* SCAMEM_POLICY_* */
	int32_t nid;     /* for SCAMEM_POLICY_NODE */
	uint32_t reserved; /* must be 0 */
	uint64_t caller;   /* recorded in the vm_struct */
};

/*
 * vmalloc(): size bytes (rounded up to pages) of order-0 pages on the local
 * node, at a new address stored in *addr. Addresses are handed out upwards
 * and a freed range is reused at once only by an area of the same size (the
 * kernel's alloc_vmap_area() takes the lowest free range that fits and reuses
 * freed ranges after a lazy purge). Errors: -EINVAL (NULL, size 0 or above
 * 2^32 pages), -ENOMEM, -ENOSPC (SCAMEM_STRATEGY_PACKED: no scamem index
 * left).
 */
SCAMEM_API int scamem_vmalloc(scamem_machine *m, uint64_t size, uint64_t *addr);
/* vmalloc_user(): as scamem_vmalloc() with VM_USERMAP. */
SCAMEM_API int scamem_vmalloc_user(scamem_machine *m, uint64_t size, uint64_t *addr);
/* vmalloc_node(): as scamem_vmalloc(), pages from node nid first. */
SCAMEM_API int scamem_vmalloc_node(scamem_machine *m, uint64_t size, int32_t nid, uint64_t *addr);
/* Every option. Errors as scamem_vmalloc(), -E2BIG (see the size convention). */
SCAMEM_API int scamem_vmalloc_opts(scamem_machine *m, uint64_t size, const struct scamem_vmalloc_opts *opts,
				   uint64_t *addr);

/*
 * vmap(): maps count existing pages. SCAMEM_VM_NO_GUARD is accepted and
 * ignored, as mm/vmalloc.c: vmap() does (WARN_ON_ONCE, then cleared: "your
 * top guard is someone else's bottom guard"): the area gets its guard page
 * and its flags do not show VM_NO_GUARD. With SCAMEM_VM_MAP_PUT_PAGES the pages
 * (order-0 pages from scamem_alloc_pages(), each once) pass to the area's
 * scamem and are freed with it by scamem_vfree(); without it they stay the
 * caller's.
 *
 * Without SCAMEM_VM_MAP_PUT_PAGES the caller must keep the pages until
 * scamem_vunmap() (or scamem_vfree()), as the kernel's vmap() users must:
 * pages from scamem_alloc_pages() (of any order), and pages of a folio the
 * caller holds a reference on (scamem_folio_alloc()/scamem_folio_get()). A
 * page may be listed more than once (bpf_ringbuf_area_alloc() lists each data
 * page twice). Until the area's scamem goes, scamem_free_pages() of such a
 * page and the scamem_folio_put() of the caller's last reference fail with
 * -EBUSY, where the kernel would leave a freed page mapped.
 *
 * SCAMEM_VM_USERMAP without SCAMEM_VM_MAP_PUT_PAGES (since 0.2; the bpf
 * ringbuf's VM_MAP | VM_USERMAP): the area may be mapped with
 * scamem_remap_vmalloc_range(); its pages must then be scamem_alloc_pages()
 * pages. A mapping (and, where the strategy can take one, a GUP reference:
 * LEGACY and SCAMEM_VMA_PRIVATE; the others answer -EFAULT, since such a
 * page's word is its allocator's and cannot name the scamem) keeps the
 * scamem past scamem_vunmap(), and with it the -EBUSY above, until munmap
 * and unpin. docs/strategies.md has what each strategy holds.
 *
 * Errors: -EINVAL (NULL, count 0, flags; a page that may not be adopted, or
 * without SCAMEM_VM_MAP_PUT_PAGES a slab, page-table or other page the caller
 * cannot keep, or a folio page the caller holds no reference on, or with
 * SCAMEM_VM_USERMAP a page that is not a scamem_alloc_pages() page), -EBUSY (a
 * page of another vmalloc area, or with SCAMEM_VM_MAP_PUT_PAGES a page another
 * vmap() area maps), -ERANGE, -ENXIO, -EALREADY (a free page), -ENOMEM,
 * -ENOSPC (SCAMEM_STRATEGY_PACKED with SCAMEM_VM_MAP_PUT_PAGES: no scamem
 * index left).
 */
SCAMEM_API int scamem_vmap(scamem_machine *m, const uint64_t *pfns, uint32_t count, uint32_t vm_flags,
			   uint64_t *addr);

/*
 * vfree(): removes the area holding addr (any address in it, its guard page
 * included: remove_vm_area() -> find_unlink_vmap_area()) and drops its scamem
 * reference. addr 0 does nothing and returns 0 (the kernel's
 * "if (!addr) return;"). Errors: -EINVAL (m NULL; addr not page aligned, where
 * remove_vm_area() WARNs and frees nothing), -ENOENT (no area there, e.g.
 * freed twice, where the kernel WARNs "Trying to vfree() nonexistent vm
 * area"). The area is gone only on 0.
 */
SCAMEM_API int scamem_vfree(scamem_machine *m, uint64_t addr);

/*
 * vunmap(): removes a plain vmap() area (no SCAMEM_VM_MAP_PUT_PAGES) as
 * scamem_vfree() does; the pages stay the caller's. addr 0 does nothing and
 * returns 0. Errors as scamem_vfree(), and -EINVAL for an area that owns its
 * pages (vmalloc, or vmap() with SCAMEM_VM_MAP_PUT_PAGES), which stays: the
 * kernel's vunmap() would remove it and kfree() the vm_struct only, leaking
 * pages that only vfree() frees; a model has no leaked page to hold them.
 */
SCAMEM_API int scamem_vunmap(scamem_machine *m, uint64_t addr);

/* A vm_struct, with a scamem where the kernel has a pages array. */
struct scamem_vm_struct {
	uint64_t addr;
	uint64_t size;     /* guard page included, as vm_struct.size */
	uint64_t nr_pages; /* get_vm_area_size() / PAGE_SIZE */
	uint64_t caller;
	struct scamem *scamem; /* borrowed */
	uint32_t flags;        /* SCAMEM_VM_* */
	uint32_t reserved;
};

/*
 * find_vm_area(): the area whose range (guard page included) holds addr, at
 * any offset (find_vmap_area()). Returns 0, or -EINVAL (NULL), -ENOENT.
 */
SCAMEM_API int scamem_find_vm_area(scamem_machine *m, uint64_t addr, struct scamem_vm_struct *out);

/*
 * Iteration: the first area starting above addr (pass 0 to begin, then the
 * last area's addr). Returns 0, or -ENOENT past the last, -EINVAL.
 */
SCAMEM_API int scamem_vm_area_next(scamem_machine *m, uint64_t addr, struct scamem_vm_struct *out);

/*
 * vmalloc_to_page() as a pfn. Returns the pfn, or -EINVAL (NULL machine),
 * -ENOENT (no area), -EFAULT (the guard page).
 */
SCAMEM_API int64_t scamem_vmalloc_to_pfn(scamem_machine *m, uint64_t addr);

/* ------------------------------------------------------------------------ */
/* Address spaces, mappings and GUP                                          */
/* ------------------------------------------------------------------------ */

/* An mm_struct handle, checked on every call like struct scamem *. */
struct scamem_mm;

/* mmap() flags (Linux values). Without MAP_ANONYMOUS a mapping is a driver's:
 * empty until scamem_remap_vmalloc_range() fills it. */
#define SCAMEM_MAP_SHARED 0x01u
#define SCAMEM_MAP_PRIVATE 0x02u
#define SCAMEM_MAP_FIXED 0x10u /* at addr; an overlap is -EEXIST (MAP_FIXED_NOREPLACE) */
#define SCAMEM_MAP_ANONYMOUS 0x20u

/* vm_flags reported in struct scamem_vma (Linux values). */
#define SCAMEM_VMA_READ 0x1u
#define SCAMEM_VMA_WRITE 0x2u
#define SCAMEM_VMA_EXEC 0x4u      /* since 0.2 */
#define SCAMEM_VMA_SHARED 0x8u
#define SCAMEM_VMA_MAYREAD 0x10u  /* since 0.2: what mprotect() may add */
#define SCAMEM_VMA_MAYWRITE 0x20u /* since 0.2 */
#define SCAMEM_VMA_MAYEXEC 0x40u  /* since 0.2 */
#define SCAMEM_VMA_MAYSHARE 0x80u /* since 0.2 */
#define SCAMEM_VMA_DONTCOPY 0x20000u /* since 0.2: MADV_DONTFORK */
#define SCAMEM_VMA_PFNMAP 0x400u /* raw pfns in special ptes (remap_pfn_range()) */
#define SCAMEM_VMA_IO 0x4000u
#define SCAMEM_VMA_DONTEXPAND 0x40000u
#define SCAMEM_VMA_DONTDUMP 0x04000000u
#define SCAMEM_VMA_MIXEDMAP 0x10000000u

/* gup_flags (Linux bit numbers). */
#define SCAMEM_FOLL_WRITE 0x1u
#define SCAMEM_FOLL_GET 0x2u
#define SCAMEM_FOLL_FORCE 0x10u /* since 0.2 */
#define SCAMEM_FOLL_LONGTERM 0x100u
#define SCAMEM_FOLL_PIN 0x80000u
#define SCAMEM_GUP_PIN_COUNTING_BIAS 1024

/* mm_alloc(): *out is a new mm; end it with scamem_mm_exit(). Errors: -EINVAL, -ENOMEM (since 0.2: no
 * host memory for its lockless cell, or 2^20 mms live). */
SCAMEM_API int scamem_mm_new(scamem_machine *m, struct scamem_mm **out);

/*
 * exit_mmap() + mmput(): unmaps every VMA (dropping their references) and
 * ends the mm; the handle is stale afterwards. GUP references outlive it and
 * keep their pages until put or unpinned. Errors: -EINVAL, -EBADF.
 */
SCAMEM_API int scamem_mm_exit(scamem_machine *m, struct scamem_mm *mm);

/*
 * mmap(): a VMA of len bytes (rounded up to pages), SHARED or PRIVATE,
 * optionally ANONYMOUS. addr is a hint (0: the model chooses, bottom-up) or,
 * with MAP_FIXED, the address. *out is the start. The model keeps a page
 * table entry per page, so a VMA is at most SCAMEM_MAX_VMA_BYTES. Errors:
 * -EINVAL (flags, alignment, len 0 or beyond TASK_SIZE), -EBADF, -EEXIST,
 * -ENOMEM (no room, or len above SCAMEM_MAX_VMA_BYTES). Stricter than the
 * kernel, which answers -ENOMEM for len or a MAP_FIXED range beyond
 * TASK_SIZE, rounds or ignores a bad hint, and accepts MAP_SHARED_VALIDATE;
 * MAP_FIXED over a mapping is -EEXIST (the kernel's MAP_FIXED_NOREPLACE),
 * and addresses are chosen bottom-up.
 */
#define SCAMEM_MAX_VMA_BYTES (1ull << 32)
SCAMEM_API int scamem_mmap(scamem_machine *m, struct scamem_mm *mm, uint64_t addr, uint64_t len, uint32_t flags,
			   uint64_t *out);

/* Protections (since 0.2; Linux values). */
#define SCAMEM_PROT_NONE 0x0u
#define SCAMEM_PROT_READ 0x1u
#define SCAMEM_PROT_WRITE 0x2u
#define SCAMEM_PROT_EXEC 0x4u

/*
 * do_mmap() (since 0.2): scamem_mmap() with prot. scamem_mmap() maps
 * PROT_READ | PROT_WRITE. The VMA gets VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC
 * (a driver file opened read-write), MAP_SHARED adds VM_SHARED |
 * VM_MAYSHARE. A private VMA's ptes are read-only but for exclusive anon
 * pages: a write fault copies anything else (COW, do_wp_page()), a driver's
 * or scamem page included, whose reference the VMA then drops. A read fault
 * on untouched private anonymous memory maps the shared zero page (a reserved
 * page taken on first use and never freed); MAP_SHARED | MAP_ANONYMOUS is
 * shmem: FILE folios in a page cache that lives while a VMA maps it. Errors:
 * as scamem_mmap(), and -EINVAL for unknown prot bits.
 */
SCAMEM_API int scamem_do_mmap(scamem_machine *m, struct scamem_mm *mm, uint64_t addr, uint64_t len, uint32_t prot,
			      uint32_t flags, uint64_t *out);

/*
 * munmap(): unmaps [addr, addr + len), splitting VMAs; each remaining part of
 * a vmalloc mapping keeps its own scamem reference while it maps a page of
 * it. The ptes go before the references they held (the mmu_gather rule).
 * Unmapped ranges inside are fine. Errors: -EINVAL (alignment, len 0),
 * -EBADF.
 */
SCAMEM_API int scamem_munmap(scamem_machine *m, struct scamem_mm *mm, uint64_t addr, uint64_t len);

/*
 * remap_vmalloc_range_partial(): maps size bytes of a vmalloc area, from
 * kaddr + pgoff pages, at uaddr inside a driver VMA, with the kernel's checks;
 * kaddr may be any page-aligned address in the area (find_vm_area()). The VMA
 * takes one reference on the area's scamem (the first time). Stricter than
 * the kernel on purpose: the bound counts from kaddr (kaddr - area +
 * pgoff * 4096 + size within the area's pages), where the kernel checks
 * pgoff * 4096 + size against get_vm_area_size() alone and, for an inner
 * kaddr, would walk past the last page; and all pages are mapped or none
 * (the kernel inserts them one by one and leaves the earlier ones mapped).
 * Errors: -EINVAL (alignment; no area at kaddr; area without VM_USERMAP or
 * VM_DMA_COHERENT; beyond the area's pages, e.g. kaddr on the guard page; an
 * anonymous or VM_PFNMAP VMA), -EFAULT (no VMA at uaddr, or the range leaves
 * it), -EBUSY (the VMA maps another area or scamem_vm_insert_pages() pages,
 * or a page there is already mapped), -EBADF.
 */
SCAMEM_API int scamem_remap_vmalloc_range_partial(scamem_machine *m, struct scamem_mm *mm, uint64_t uaddr,
						  uint64_t kaddr, uint64_t pgoff, uint64_t size);

/* remap_vmalloc_range(): the whole VMA holding uaddr. Errors as above. */
SCAMEM_API int scamem_remap_vmalloc_range(scamem_machine *m, struct scamem_mm *mm, uint64_t uaddr, uint64_t kaddr,
					  uint64_t pgoff);

/*
 * remap_pfn_range() (since 0.2): maps size bytes (rounded up to pages) of
 * pfns from pfn at uaddr (page aligned) in the driver VMA holding it, as
 * special ptes that take no reference, and sets VM_IO | VM_PFNMAP |
 * VM_DONTEXPAND | VM_DONTDUMP. GUP refuses the VMA (-EFAULT) and
 * scamem_follow_page() finds no page there (-EFAULT); munmap drops nothing.
 * The kernel maps any pfn and leaves its lifetime to the driver; the model
 * maps only pfns that nothing can free: pfns with no memmap (holes) and
 * reserved pages. Any other page (-EINVAL) could be freed while mapped. A
 * MAP_PRIVATE VMA must be mapped whole (the kernel's COW rule, vm_pgoff
 * becomes pfn). All pages or none are mapped. Errors: -EINVAL (NULL machine,
 * alignment, size 0 or above SCAMEM_MAX_VMA_BYTES, an anonymous VMA, a
 * partial private mapping, a page that is neither a hole nor reserved),
 * -EFAULT (no VMA at uaddr, or the range leaves it), -ERANGE (beyond the
 * machine's last pfn), -EBUSY (a pte present there, or the VMA maps pages
 * that hold references), -EBADF.
 */
SCAMEM_API int scamem_remap_pfn_range(scamem_machine *m, struct scamem_mm *mm, uint64_t uaddr, uint64_t pfn,
				      uint64_t size);

/*
 * vm_insert_pages() (since 0.2): inserts *num pages, pfns[0..*num), at uaddr
 * (page aligned) in the driver VMA holding it, one by one, and sets
 * VM_MIXEDMAP. As the kernel's validate_page_before_insert(), a page that
 * is not anon, slab or typed is accepted, and what its pte holds follows it:
 * - a FILE folio page: a folio reference and a map count, so the caller may
 *   scamem_folio_put() its own;
 * - (since 0.2) a scamem_alloc_pages() page, as io_uring's ring pages: under
 *   memdescs a MISC page has no refcount, so scamem_free_pages() of it is
 *   -EBUSY while a pte maps it, and GUP of it is -EFAULT;
 * - (since 0.2) a vmalloc page, as kcov_mmap() inserts vmalloc_to_page():
 *   the VMA holds its area's scamem, as scamem_remap_vmalloc_range() does.
 *   Under SCAMEM_STRATEGY_VMA_PRIVATE the page cannot name its scamem, so
 *   the first vmalloc page into a VMA that maps no area yet is -EINVAL.
 * All are dropped by munmap and scamem_mm_exit(). *num is in and out as the
 * kernel's: on return it is the number of pages NOT inserted (0 on success);
 * pages inserted before an error stay mapped; it is left as it was when the
 * call fails before the first page. Errors: -EINVAL (NULL machine or num,
 * pfns NULL with *num > 0, *num above 2^30, alignment, an anonymous or
 * VM_PFNMAP VMA; a page that is free, anon, slab, a page table or reserved),
 * -EFAULT (no VMA at uaddr, or the *num pages leave it), -EBUSY (a pte is
 * present; a vmalloc page into a VMA with other ptes or another area's, or
 * another page into a VMA that maps an area), -ERANGE, -ENXIO (a pfn beyond
 * the machine or in a hole), -EOVERFLOW, -EBADF.
 */
SCAMEM_API int scamem_vm_insert_pages(scamem_machine *m, struct scamem_mm *mm, uint64_t uaddr, const uint64_t *pfns,
				      uint64_t *num);

/*
 * vm_map_pages() (since 0.2): maps the whole VMA that starts at vma_start
 * (the C API has no VMA handle: the start names it) with pfns[vm_pgoff ..],
 * page by page as scamem_vm_insert_pages() does. vm_pgoff is 0 for a new
 * VMA and moves with munmap splits (the part after a hole starts that many
 * pages in). An error part-way leaves the earlier pages mapped. Errors: as
 * scamem_vm_insert_pages() for the VMA and each page, and -EINVAL (pfns NULL
 * with num > 0; vma_start inside a VMA but not its start), -EFAULT (no VMA
 * at vma_start), -ENXIO (vm_pgoff >= num, or the VMA is larger than the
 * num - vm_pgoff pages left, as __vm_map_pages()).
 */
SCAMEM_API int scamem_vm_map_pages(scamem_machine *m, struct scamem_mm *mm, uint64_t vma_start, const uint64_t *pfns,
				   uint64_t num);

/*
 * handle_mm_fault(): a user access to addr, a write where the VMA has
 * VM_WRITE, else a read (access_error() on x86: any of VM_READ, VM_WRITE,
 * VM_EXEC); *pfn is the pfn mapped afterwards. A write to untouched private
 * anonymous memory faults in an ANON folio (of the order
 * scamem_machine_set_anon_order() set), a write to a private driver VMA
 * copies the page (COW). Errors: -EINVAL, -EBADF, -EFAULT (no VMA, no
 * access, or a driver VMA with nothing mapped there: the kernel's SIGBUS),
 * -ENOMEM, -EHWPOISON (since 0.2: a hwpoison entry or a poisoned page
 * cache folio there, VM_FAULT_HWPOISON: the kernel's SIGBUS BUS_MCEERR_AR;
 * see scamem_memory_failure()).
 */
SCAMEM_API int scamem_handle_mm_fault(scamem_machine *m, struct scamem_mm *mm, uint64_t addr, uint64_t *pfn);

/*
 * my_zero_pfn() (since 0.2): the shared zero page's pfn, a reserved page the
 * first read fault of private anonymous memory takes from the allocator and
 * that is never freed (so a leak count allows for it); -ENOENT before, or
 * -EINVAL (NULL).
 */
SCAMEM_API int64_t scamem_zero_pfn(scamem_machine *m);

/* fault_flags (since 0.2; Linux values). */
#define SCAMEM_FAULT_FLAG_WRITE 0x1u
#define SCAMEM_FAULT_FLAG_UNSHARE 0x400u /* break COW for a read: an exclusive anon page */

/*
 * fixup_user_fault() (since 0.2): a fault of the given kind at addr (0: a
 * read, which maps the zero page in untouched private anonymous memory);
 * vma_permits_fault() wants VM_WRITE for a write and VM_READ otherwise.
 * *pfn is the pfn mapped afterwards. Errors: -EINVAL (NULL, unknown flags,
 * WRITE with UNSHARE), -EBADF, -EFAULT (no VMA, not permitted, nothing to
 * fault in a driver VMA), -ENOMEM, -EOVERFLOW.
 */
SCAMEM_API int scamem_fixup_user_fault(scamem_machine *m, struct scamem_mm *mm, uint64_t addr, uint32_t fault_flags,
				       uint64_t *pfn);

/*
 * mprotect() (since 0.2): sets prot on [addr, addr + len) (len rounded up),
 * splitting VMAs at the edges (each part keeps its own references, as with
 * munmap). VMA by VMA, as do_mprotect_pkey(): an error leaves the VMAs
 * before it changed. The model never merges VMAs back (vma_merge() is not
 * modelled). len 0 is a no-op. Errors: -EINVAL (NULL, alignment, unknown
 * prot), -ENOMEM (part of the range unmapped), -EACCES (an access the VMA
 * may not get: the bpf ringbuf's read-only mapping has no VM_MAYWRITE),
 * -EBADF, -EOVERFLOW.
 */
SCAMEM_API int scamem_mprotect(scamem_machine *m, struct scamem_mm *mm, uint64_t addr, uint64_t len, uint32_t prot);

/* mremap() flags (since 0.2; Linux values). */
#define SCAMEM_MREMAP_MAYMOVE 0x1u
#define SCAMEM_MREMAP_FIXED 0x2u
#define SCAMEM_MREMAP_DONTUNMAP 0x4u

/*
 * mremap() (since 0.2): shrinks [old_addr, old_addr + old_len) in place
 * (unmapping the tail), grows it in place when the range after its VMA is
 * free, or with MAYMOVE moves it (to new_addr with FIXED, unmapping what is
 * there; else where the model finds room). A move takes the ptes and the
 * references they hold along (move_page_tables()); DONTUNMAP leaves the old
 * VMA in place with no ptes. *out is the new address. old_len 0 (the
 * kernel's duplicate of a shared mapping) is not modelled. Errors: -EINVAL
 * (NULL, alignment, unknown flags, FIXED without MAYMOVE, DONTUNMAP without
 * MAYMOVE or with a new size or on VM_DONTEXPAND / VM_PFNMAP, a length 0,
 * overlapping old and new ranges), -EFAULT (no VMA at old_addr, the range
 * leaves it, or a VM_DONTEXPAND / VM_PFNMAP mapping would grow, as
 * vma_to_resize()), -ENOMEM (no room; above SCAMEM_MAX_VMA_BYTES), -EBADF.
 */
SCAMEM_API int scamem_mremap(scamem_machine *m, struct scamem_mm *mm, uint64_t old_addr, uint64_t old_len,
			     uint64_t new_len, uint32_t flags, uint64_t new_addr, uint64_t *out);

/* madvise() advice (since 0.2; Linux values). */
#define SCAMEM_MADV_DONTNEED 4
#define SCAMEM_MADV_DONTFORK 10
#define SCAMEM_MADV_DOFORK 11

/*
 * madvise() (since 0.2) on [addr, addr + len): DONTNEED zaps the ptes and
 * keeps the VMA (private anonymous memory reads the zero page again, shmem
 * refaults from its page cache, a driver VMA faults -EFAULT; a vmalloc
 * mapping left with no page drops its scamem reference); DONTFORK / DOFORK
 * set / clear VM_DONTCOPY, splitting VMAs. Holes are skipped and reported as
 * -ENOMEM at the end, as madvise_walk_vmas(). len 0 is a no-op. Errors:
 * -EINVAL (NULL, alignment, unknown advice, DONTNEED on VM_PFNMAP, DOFORK on
 * VM_IO), -ENOMEM, -EBADF, -EOVERFLOW.
 */
SCAMEM_API int scamem_madvise(scamem_machine *m, struct scamem_mm *mm, uint64_t addr, uint64_t len, int advice);

/*
 * fork()'s dup_mmap() (since 0.2): *child is a new mm with a copy of each VMA
 * of mm but VM_DONTCOPY ones; end it with scamem_mm_exit(). Each child VMA
 * holds its own references (the shmem file; the scamem, as vm_ops->open()).
 * Ptes are copied where vma_needs_copy() says: VM_PFNMAP and VM_MIXEDMAP
 * (driver) VMAs and anonymous memory; shmem refaults from its page cache. A
 * private anon page becomes COW-shared by both (neither may write it in
 * place), except one that may be DMA-pinned in an mm that ever used FOLL_PIN:
 * the child gets a copy (folio_needs_cow_for_dma()). On error nothing is
 * left of the child. Errors: -EINVAL (NULL), -EBADF, -ENOMEM, -EOVERFLOW.
 */
SCAMEM_API int scamem_fork(scamem_machine *m, struct scamem_mm *mm, struct scamem_mm **child);

/*
 * follow_page(): the pfn mapped at addr, without faulting; or -EFAULT (none,
 * or a VM_PFNMAP VMA, whose special ptes have no page, as vm_normal_page()
 * says), -EBADF, -EINVAL.
 */
SCAMEM_API int64_t scamem_follow_page(scamem_machine *m, struct scamem_mm *mm, uint64_t addr);

/* A VMA. */
struct scamem_vma {
	uint64_t start;
	uint64_t end;
	uint64_t mapped_pages;  /* pages with a page table entry */
	struct scamem *scamem;  /* borrowed; NULL unless it maps a vmalloc area */
	uint32_t vm_flags;      /* SCAMEM_VMA_* */
	uint32_t anonymous;
};

/* find_vma() holding addr. Returns 0, or -EINVAL, -EBADF, -EFAULT (none). */
SCAMEM_API int scamem_find_vma(scamem_machine *m, struct scamem_mm *mm, uint64_t addr, struct scamem_vma *out);

/*
 * get_user_pages(): a FOLL_GET reference on each of nr_pages pages from start
 * (page aligned), faulting in what is missing as __get_user_pages() does;
 * their pfns go to pfns[]. Without FOLL_WRITE untouched private anonymous
 * memory gives the zero page (which takes no count: it is never freed).
 * FOLL_WRITE needs VM_WRITE, or FOLL_FORCE on a private VMA; through a pte
 * that is not writable it takes a write fault first (can_follow_write_pte()),
 * so in a private driver VMA it returns a COW copy, not the driver's page. A
 * read-only FOLL_PIN of a COW-shared anon page, or with FOLL_LONGTERM of any
 * non-anon page of a private VMA, unshares it first (gup_must_unshare()). A
 * scamem page's reference keeps the whole scamem alive; a folio's is +1 on its
 * refcount. Release each with scamem_put_page(). Returns the number taken
 * (short if the walk stopped at an error after the first page), or -EINVAL
 * (NULL, alignment, FOLL_PIN or FOLL_LONGTERM, unknown flags), -EBADF,
 * -EFAULT (nothing mapped at start, a VM_IO / VM_PFNMAP VMA there, or an
 * access the VMA forbids, as check_vma_flags()), -ENOMEM, -EOVERFLOW.
 */
SCAMEM_API int64_t scamem_get_user_pages(scamem_machine *m, struct scamem_mm *mm, uint64_t start, uint64_t nr_pages,
					 uint32_t gup_flags, uint64_t *pfns);

/*
 * pin_user_pages(): as scamem_get_user_pages() with FOLL_PIN (FOLL_WRITE,
 * FOLL_FORCE and FOLL_LONGTERM allowed; FOLL_GET, and since 0.2 FOLL_PIN
 * itself, internal to GUP as is_valid_gup_args() says, an -EINVAL where the
 * kernel's pin_user_pages() WARNs and returns 0). On a small folio a pin
 * adds GUP_PIN_COUNTING_BIAS to its refcount; on a large one, 1 and 1 to its
 * pincount. Release each with scamem_unpin_user_page().
 * Since 0.2 FOLL_LONGTERM is __gup_longterm_locked(): pages faulted in during
 * the pin are allocated without __GFP_MOVABLE (memalloc_pin_save()), and an
 * anon or shmem folio the pin finds in ZONE_MOVABLE or in a CMA or ISOLATE
 * pageblock (folio_is_longterm_pinnable()) migrates first
 * (check_and_migrate_movable_pages()): a new folio outside ZONE_MOVABLE, on
 * the old one's node first, takes its contents, counts and every pte, the
 * old one is freed, and the range is pinned again, so pfns[] holds the new
 * pfns. Scamem (vmalloc) pages are never in ZONE_MOVABLE or CMA unless
 * vmalloc was asked for SCAMEM_GFP_MOVABLE (to which it adds
 * SCAMEM_GFP_HIGHMEM, as __vmalloc_area_node() does), and pin in place. Errors as
 * scamem_get_user_pages(), and with FOLL_LONGTERM -ENOMEM, nothing held,
 * when such a page cannot move: no memory outside ZONE_MOVABLE and CMA
 * for the new folio, another GUP or caller reference on the folio (the
 * kernel's migration refcount check), or a page that is no anon or shmem
 * folio. Folios moved before the failure stay moved.
 */
SCAMEM_API int64_t scamem_pin_user_pages(scamem_machine *m, struct scamem_mm *mm, uint64_t start, uint64_t nr_pages,
					 uint32_t gup_flags, uint64_t *pfns);

/*
 * get_user_pages_fast() and pin_user_pages_fast(), since 0.2: as
 * scamem_get_user_pages() and scamem_pin_user_pages() (same flags, results
 * and errors, release alike), but first without the machine lock, as
 * gup_fast() walks without mmap_lock: the pte and the page's word are read,
 * the folio's or scamem's reference taken with try-get-unless-zero, then the
 * word and pte rechecked; what that cannot take (a missing or read-only pte,
 * a page to fault in or unshare, the zero page, a MISC page, a scamem whose
 * word does not point at it: LEGACY, SCAMEM_PACKED, SCAMEM_VMA_PRIVATE, a
 * migrating folio, an mm whose VMAs changed since the last locked GUP, a
 * fork() copying the mm) goes to the locked walk (gup_fast_fallback()).
 * Threads pinning different areas, or the same one, do not wait for each
 * other. Where the model differs from the kernel: FOLL_LONGTERM always
 * takes the locked walk, and the VMA's flags (not pte bits) say what may be
 * written. The locked GUP publishes an mm's VMAs for the next fast one.
 * Unpins and puts (scamem_unpin_user_pages() and the rest) likewise take no
 * lock for such pages, unless theirs is the last reference.
 */
SCAMEM_API int64_t scamem_get_user_pages_fast(scamem_machine *m, struct scamem_mm *mm, uint64_t start,
					      uint64_t nr_pages, uint32_t gup_flags, uint64_t *pfns);
SCAMEM_API int64_t scamem_pin_user_pages_fast(scamem_machine *m, struct scamem_mm *mm, uint64_t start,
					      uint64_t nr_pages, uint32_t gup_flags, uint64_t *pfns);

/*
 * put_page() of a get_user_pages() reference, given the page alone. Errors:
 * -EINVAL (GUP holds no get on it), -EALREADY (a free page), -ERANGE, -ENXIO.
 */
SCAMEM_API int scamem_put_page(scamem_machine *m, uint64_t pfn);

/* unpin_user_page(), given the page alone. Errors as scamem_put_page() for pins. */
SCAMEM_API int scamem_unpin_user_page(scamem_machine *m, uint64_t pfn);

/*
 * unpin_user_pages(): unpins pfns[0..nr) in order, stopping at the first
 * that is not pinned. Returns how many were unpinned, or that page's error
 * if it was the first.
 */
SCAMEM_API int64_t scamem_unpin_user_pages(scamem_machine *m, const uint64_t *pfns, uint64_t nr);

/* move_pages() flags (include/uapi/linux/mempolicy.h), since 0.2 */
#define SCAMEM_MPOL_MF_MOVE 0x2u     /* folios only this process maps */
#define SCAMEM_MPOL_MF_MOVE_ALL 0x4u /* shared folios too (the caller has CAP_SYS_NICE) */

/*
 * move_pages(2) of mm, since 0.2 (kernel_move_pages(), mm/migrate.c). With
 * nodes, moves the anon or shmem folio mapped at each pages[i] (a user
 * address) to node nodes[i] (do_pages_move()): a new folio of the same order
 * on that node only, taking the old one's counts and every pte (every mm's)
 * and page cache slot, the old one freed. Without nodes (NULL), reports where
 * each page is (do_pages_stat()). status[i] gets the page's node afterwards,
 * or a negative errno: -EFAULT (no VMA, a VM_IO / VM_PFNMAP one, or the zero
 * page), -ENOENT (nothing mapped, or a special pte), -EACCES (a folio mapped
 * more than once without SCAMEM_MPOL_MF_MOVE_ALL), -EBUSY (not movable: a
 * scamem, MISC or driver's page, or a folio an earlier entry already
 * queued). Consecutive entries for one node are migrated together when the
 * node changes or an entry is answered without queueing. Returns 0, or how
 * many pages were not migrated: a folio with references beyond its ptes and
 * page cache (a GUP get or pin) or no free memory on the node fails its
 * batch, and the call stops there, every later entry counted and its status
 * left unwritten. nr_pages 0 returns 0. Errors: -EINVAL (NULL m, pages or
 * status with nr_pages > 0, unknown flags, nr_pages > 2^30), -EBADF (stale
 * mm), -ENODEV (nodes[i] < 0 or beyond the machine's nodes; the entries
 * before it are done).
 */
SCAMEM_API int64_t scamem_move_pages(scamem_machine *m, struct scamem_mm *mm, uint64_t nr_pages,
				     const uint64_t *pages, const int32_t *nodes, int32_t *status, uint32_t flags);

/*
 * folio_maybe_dma_pinned(): 1 or 0. A large folio: pincount > 0; a small one:
 * refcount >= GUP_PIN_COUNTING_BIAS (false positives possible, as in the
 * kernel); a scamem page: GUP holds its scamem (one count per object cannot
 * tell get from pin). Errors: -EINVAL, -ERANGE, -ENXIO.
 */
SCAMEM_API int scamem_folio_maybe_dma_pinned(scamem_machine *m, uint64_t pfn);

/* ------------------------------------------------------------------------ */
/* Memory failure (since 0.2; mm/memory-failure.c)                           */
/* ------------------------------------------------------------------------ */

/* memory_failure() flags (enum mf_flags, Linux values). The model accepts
 * MF_MUST_KILL and MF_SW_SIMULATED; the others are -EINVAL (see below). */
#define SCAMEM_MF_COUNT_INCREASED (1 << 0)
#define SCAMEM_MF_ACTION_REQUIRED (1 << 1)
#define SCAMEM_MF_MUST_KILL (1 << 2)
#define SCAMEM_MF_SOFT_OFFLINE (1 << 3)
#define SCAMEM_MF_UNPOISON (1 << 4)
#define SCAMEM_MF_SW_SIMULATED (1 << 5)
#define SCAMEM_MF_NO_RETRY (1 << 6)
#define SCAMEM_MF_MEM_PRE_REMOVE (1 << 7)

/*
 * memory_failure() (since 0.2): a hardware memory error on pfn, handled as
 * Linux 6.12 does. 0 (MF_RECOVERED): a free page was taken off the
 * allocator (take_page_off_buddy(): its free block is split, the rest stays
 * free, the page becomes a HWPOISON word and is never allocated again), or
 * an anonymous folio was unmapped from every pte (each pte becomes a
 * hwpoison entry: scamem_handle_mm_fault() there is -EHWPOISON, GUP and
 * scamem_fixup_user_fault() -EFAULT; MADV_DONTNEED and munmap clear it;
 * fork copies it), even if GUP still holds it, or an unpinned shmem folio
 * was unmapped the same way (it stays in its page cache; a refault is
 * -EHWPOISON). memory_failure() keeps a reference on such a folio, so it is
 * never freed (scamem_unpoison_memory() drops it). The page is poisoned in
 * every case but -ENXIO and -EINVAL: a poisoned page in use keeps its word
 * (a scamem page keeps its link to its scamem and stays mapped and
 * pinnable, as the kernel leaves kernel pages), and when its owner frees it
 * it becomes a HWPOISON word, never a free page (free_pages_prepare()).
 * Errors: -EINVAL (NULL, flags other than MF_MUST_KILL | MF_SW_SIMULATED:
 * MF_COUNT_INCREASED needs a reference handed in, MF_ACTION_REQUIRED a
 * current task, the rest are soft_offline_page()'s, unpoison's and
 * hotplug's), -ENXIO (pfn beyond the machine or without memmap: "memory
 * outside kernel control"), -EHWPOISON (already poisoned), -EBUSY (a page
 * the kernel cannot handle: slab, page table, reserved, MISC, vmalloc and
 * scamem pages, a folio not on an LRU list (scamem_folio_alloc()'s), a
 * shmem folio something beyond its page cache holds, or one no page cache
 * holds any more: MF_IGNORED / MF_FAILED), -EHWPOISON also for a large
 * folio (the model cannot split one: try_to_split_thp_page() failing; it
 * stays mapped). Without MF_SW_SIMULATED the machine records a real
 * failure and scamem_unpoison_memory() is -EOPNOTSUPP from then on.
 */
SCAMEM_API int scamem_memory_failure(scamem_machine *m, uint64_t pfn, int flags);

/*
 * unpoison_memory() (since 0.2): undoes a software-simulated poison. A page
 * taken off the allocator goes back to it; a folio memory_failure() holds is
 * freed if that is its only reference and no pte or page cache has it; a
 * MISC, vmalloc or scamem page (or a page of a large folio) in use only
 * loses its poison and stays its owner's (the kernel would also drop a
 * reference it never took). Errors: -EINVAL (NULL), -EIO (pfn beyond the
 * machine or without memmap, as the kernel's), -EOPNOTSUPP (after a
 * memory_failure() without MF_SW_SIMULATED), -EBUSY (not poisoned; a slab,
 * page-table or reserved page; a folio still mapped, in a page cache or
 * referenced).
 */
SCAMEM_API int scamem_unpoison_memory(scamem_machine *m, uint64_t pfn);

/*
 * PageHWPoison() (since 0.2): 1 if pfn is poisoned (in use, or taken off the
 * allocator as a HWPOISON word), else 0. Errors: -EINVAL, -ERANGE, -ENXIO.
 */
SCAMEM_API int scamem_page_hwpoison(scamem_machine *m, uint64_t pfn);

/* ------------------------------------------------------------------------ */
/* Memory hotplug (since 0.2; mm/memory_hotplug.c, drivers/base/memory.c)   */
/* ------------------------------------------------------------------------ */
/*
 * Memory comes and goes in memory blocks of memory_block_size_bytes(), each
 * one or more whole sections. A block is SCAMEM_MEM_ABSENT (no memmap: its
 * pfns read SCAMEM_WORD_NOPAGE), SCAMEM_MEM_OFFLINE (memmap, in no zone: its
 * pfns read SCAMEM_MISC_OFFLINE words with the node and section, zone bits 0,
 * and page_to_nid()/page_zonenum() are -ENXIO as pfn_to_online_page() is
 * NULL) or SCAMEM_MEM_ONLINE. Zone spans grow as memory is onlined into them
 * and may come to overlap; each pfn is in one zone. Where the model differs
 * (docs/kernel-fidelity.md): memory is added only below the machine's
 * end_pfn (into a hole: the machine's word array is sized at creation); a
 * zone must be in the description to be onlined into (give it an entry that
 * is all hole if it starts empty); offline_pages() gives up with -EBUSY
 * where the kernel retries until a pin drops or a signal comes.
 */
#define SCAMEM_MEM_ABSENT 0  /* the model's: no memory block device */
#define SCAMEM_MEM_ONLINE 1  /* MEM_ONLINE */
#define SCAMEM_MEM_OFFLINE 4 /* MEM_OFFLINE */

/* One memory block, /sys/devices/system/memory/memoryN (since 0.2). */
struct scamem_memory_block {
	uint32_t size;       /* sizeof(struct scamem_memory_block) */
	uint32_t id;         /* N: start_pfn / pages per block */
	uint64_t start_pfn;
	uint64_t nr_pages;   /* memory_block_size_bytes() / 4096 */
	uint32_t state;      /* SCAMEM_MEM_* */
	int32_t nid;         /* mem->nid; -1 while absent */
	int32_t zone;        /* SCAMEM_ZONE_* it is online in; -1 offline, absent,
	                      * or an early block holding several zones (mem->zone
	                      * NULL, valid_zones "none") */
	uint32_t reserved0;  /* 0 on return */
};

/*
 * memory_block_size_bytes() (since 0.2) into *bytes. Errors: -EINVAL (NULL).
 */
SCAMEM_API int scamem_memory_block_size_bytes(scamem_machine *m, uint64_t *bytes);

/*
 * The memory block holding pfn (since 0.2), written size-first as
 * scamem_machine_zone_watermarks() does: out->size set by the caller, an
 * older or newer struct works. Errors: -EINVAL (NULL, size below 16 or above
 * 4096), -ERANGE (pfn >= end_pfn).
 */
SCAMEM_API int scamem_memory_block_info(scamem_machine *m, uint64_t pfn, struct scamem_memory_block *out);

/*
 * add_memory() (since 0.2): [start_pfn, start_pfn + nr_pages), whole absent
 * memory blocks below end_pfn, gains its memmap on node nid
 * (sparse_add_section()); its blocks are SCAMEM_MEM_OFFLINE, as with
 * memhp_default_state=offline. Errors: -EINVAL (NULL, no such node, not
 * whole blocks, beyond end_pfn), -EEXIST (a block is not absent).
 */
SCAMEM_API int scamem_add_memory(scamem_machine *m, uint32_t nid, uint64_t start_pfn, uint64_t nr_pages);

/*
 * online_pages() (since 0.2): whole offline blocks of one node join zone
 * SCAMEM_ZONE_NORMAL (online_kernel) or SCAMEM_ZONE_MOVABLE (online_movable)
 * of that node: the zone's span grows to cover them (resize_zone_range(),
 * so spans may come to overlap), their pageblocks are SCAMEM_MIGRATE_MOVABLE,
 * every page is freed to the buddy allocator, and the watermarks are
 * computed again (init_per_zone_wmark_min(), which may raise
 * min_free_kbytes). Errors: -EINVAL (NULL, not whole offline blocks of one
 * node, another zone, a zone the machine does not have), -ENOMEM (host).
 */
SCAMEM_API int scamem_online_pages(scamem_machine *m, uint64_t start_pfn, uint64_t nr_pages, uint32_t zone);

/*
 * offline_pages() (since 0.2) of whole online blocks of one zone: every
 * pageblock becomes SCAMEM_MIGRATE_ISOLATE unless has_unmovable_pages()
 * finds a page that cannot leave (a reserved page anywhere; outside
 * ZONE_MOVABLE also a slab, page-table, MISC, driver or scamem page, or a
 * CMA pageblock); every folio migrates out (do_migrate_range(): to another
 * node with memory first, GFP_USER | __GFP_MOVABLE, so to ZONE_NORMAL at
 * most); then every page must be free or poisoned (test_pages_isolated()).
 * On success the free pages leave the allocator, present and managed pages
 * and the span shrink (shrink_zone_span()), the blocks are offline and the
 * watermarks computed again. Errors: -EINVAL (NULL, not whole online blocks
 * of one zone, an early block holding several zones, a block with holes),
 * -EBUSY (an unmovable page; a folio that did not migrate, pinned long-term
 * or not, or held by other references; no memory to migrate to): the
 * isolation is undone, folios that did migrate stay migrated.
 */
SCAMEM_API int scamem_offline_pages(scamem_machine *m, uint64_t start_pfn, uint64_t nr_pages);

/*
 * remove_memory() (since 0.2): whole offline blocks lose their memmap and
 * become SCAMEM_MEM_ABSENT. Errors: -EINVAL (NULL, not whole blocks, an
 * absent block), -EBUSY (a block is online).
 */
SCAMEM_API int scamem_remove_memory(scamem_machine *m, uint64_t start_pfn, uint64_t nr_pages);

/* ------------------------------------------------------------------------ */
/* Scenarios: the kernel's users of scattered memory (since 0.2)             */
/* ------------------------------------------------------------------------ */
/*
 * Each subject is modelled as its kernel source does it, one call per
 * kernel entry point, so a caller can interleave them with scamem_munmap(),
 * GUP, unpin and scamem_mm_exit(); the invariant checker holds after every
 * successful call. A handle from an _alloc, _init or _register call is a new
 * reference the caller owns until the matching _free, _put or _unregister,
 * after which it is stale (-EBADF, as is a handle of another subject's type
 * cast to this one). An _mmap call is the subject's f_op->mmap handler: the
 * caller first makes the driver VMA with scamem_mmap() (without
 * SCAMEM_MAP_ANONYMOUS, which is -EINVAL) and passes an address in it (no
 * VMA there: -EFAULT). An optional kaddr receives the kernel address of the
 * subject's memory (may be NULL). Every call returns 0 or a negative errno;
 * each one's list below adds to -EINVAL (NULL machine or out pointer) and
 * -EBADF (a stale handle or mm). A subject's memory stays its own: the
 * pages a bpf ringbuf or io_uring region allocated cannot be freed or
 * adopted by the caller (scamem_free_pages(), scamem_vmap() with
 * SCAMEM_VM_MAP_PUT_PAGES: -EBUSY), and if the caller scamem_vfree()s or
 * scamem_vunmap()s a subject's area behind its back, the subject's _mmap is
 * -EBADF and its free removes only what is still the subject's.
 * docs/strategies.md says what each strategy does with each subject.
 */
struct scamem_bpf_ringbuf;
struct scamem_io_uring_region;
struct scamem_io_uring_buffer;
struct scamem_kcov;
struct scamem_perf_rb;
struct scamem_vb2_buffer;

/*
 * kernel/bpf/ringbuf.c: ringbuf_map_alloc() -> bpf_ringbuf_area_alloc().
 * data_size is max_entries: a power of two, page aligned, at most 2^31
 * (-EINVAL otherwise); nid a node or SCAMEM_NUMA_NO_NODE (-1) (-EINVAL for
 * another). Allocates 3 + data_size / 4096 pages one by one
 * (alloc_pages_node()) and vmap()s 3 + 2 * data_size / 4096 entries, every
 * data page twice, with VM_MAP | VM_USERMAP and without VM_MAP_PUT_PAGES
 * (see scamem_vmap()). With SCAMEM_BPF_RINGBUF_USER in flags, a
 * BPF_MAP_TYPE_USER_RINGBUF (user_ringbuf_map_alloc(): the same area, the
 * user producing); other flags are -EINVAL. -ENOMEM, with nothing left
 * allocated.
 */
#define SCAMEM_BPF_RINGBUF_USER 0x1u
SCAMEM_API int scamem_bpf_ringbuf_alloc(scamem_machine *m, uint64_t data_size, int32_t nid, uint32_t flags,
					struct scamem_bpf_ringbuf **out, uint64_t *kaddr);
/*
 * ringbuf_map_mmap_kern(): the user mmap()ed the map at file offset pgoff
 * pages into the VMA at uaddr; remap_vmalloc_range(vma, rb, pgoff + 1) of
 * the whole VMA. pgoff 0 is the consumer page, the one writable mapping: a
 * VMA with VM_WRITE (scamem_mmap(), or scamem_do_mmap() with PROT_WRITE)
 * anywhere else, or larger than that page, is -EPERM; a read-only VMA (the
 * producer page and the data pages twice, as libbpf maps them) loses
 * VM_MAYWRITE, so a later mprotect(PROT_WRITE) is refused. A user ringbuf
 * (ringbuf_map_mmap_user()) is the other way round: VM_WRITE is -EPERM at
 * pgoff 0 only. Errors: -EPERM, -EINVAL (an anonymous VMA; the VMA reaches
 * past the ring from pgoff), -EBUSY (the VMA maps something already),
 * -EFAULT, -EOVERFLOW; -EBADF also when the caller removed the ring's area.
 */
SCAMEM_API int scamem_bpf_ringbuf_mmap(scamem_machine *m, struct scamem_bpf_ringbuf *rb, struct scamem_mm *mm,
				       uint64_t uaddr, uint64_t pgoff);
/*
 * bpf_ringbuf_free(): vunmap() of the ring, then __free_page() of each page.
 * The kernel gets here only after every mapping is gone (each VMA holds the
 * map's file); while a mapping or a GUP reference still holds the ring it is
 * -EBUSY and nothing changes. On success the handle is stale.
 */
SCAMEM_API int scamem_bpf_ringbuf_free(scamem_machine *m, struct scamem_bpf_ringbuf *rb);

/* scamem_io_uring_region_alloc() flags. */
#define SCAMEM_IO_URING_REGION_SINGLE 0x1u /* skip the compound attempt, as on a fragmented machine */

/*
 * io_uring/memmap.c: io_pages_map() of size bytes (rounded up to pages, at
 * most 65535 pages: -EINVAL). First io_mem_alloc_compound(): one block of
 * get_order(size) used through the direct map (*kaddr is its page_address());
 * failing that, or with SCAMEM_IO_URING_REGION_SINGLE, io_mem_alloc_single():
 * alloc_page() one by one and vmap(VM_MAP) (*kaddr is the area). The pages
 * are scamem_alloc_pages() pages (MISC words). Errors: -EINVAL (size, flags),
 * -ENOMEM.
 */
SCAMEM_API int scamem_io_uring_region_alloc(scamem_machine *m, uint64_t size, uint32_t flags,
					    struct scamem_io_uring_region **out, uint64_t *kaddr);
/*
 * io_uring_mmap() -> io_uring_mmap_pages(): sets VM_DONTEXPAND and
 * vm_insert_pages() the region's first min(region, VMA) pages at the VMA's
 * start (see scamem_vm_insert_pages(): the ptes hold the pages, GUP of them
 * is -EFAULT). An error part-way leaves the earlier pages mapped. Errors:
 * -EINVAL (an anonymous or VM_PFNMAP VMA), -EBUSY (a pte is present, or the
 * VMA maps a vmalloc area), -EFAULT, -EOVERFLOW.
 */
SCAMEM_API int scamem_io_uring_region_mmap(scamem_machine *m, struct scamem_io_uring_region *region,
					   struct scamem_mm *mm, uint64_t uaddr);
/*
 * io_pages_unmap(): vunmap() (single pages) and put_page() of each page.
 * The ring's VMAs hold the io_uring file, so the kernel frees only after
 * munmap; while a pte still maps a page it is -EBUSY and nothing changes.
 */
SCAMEM_API int scamem_io_uring_region_free(scamem_machine *m, struct scamem_io_uring_region *region);
/*
 * io_uring/rsrc.c: io_sqe_buffers_register() of one iovec: io_buffer_validate()
 * then io_pin_pages(): pin_user_pages_fast(FOLL_WRITE | FOLL_LONGTERM) of
 * every page [uaddr, uaddr + len) touches; a short pin is undone. Errors:
 * -EFAULT (uaddr 0, len above 1 GiB, beyond TASK_SIZE, a page that cannot be
 * pinned: unmapped, VM_IO/VM_PFNMAP, or a MISC page), -EOVERFLOW (uaddr + len
 * wraps), -EINVAL (len 0), -ENOMEM.
 */
SCAMEM_API int scamem_io_uring_register_buffer(scamem_machine *m, struct scamem_mm *mm, uint64_t uaddr,
					       uint64_t len, struct scamem_io_uring_buffer **out);
/* io_buffer_unmap(): unpin_user_pages() of the buffer's pages; the handle is then stale. */
SCAMEM_API int scamem_io_uring_unregister_buffer(scamem_machine *m, struct scamem_io_uring_buffer *buf);

/*
 * kernel/kcov.c: ioctl(KCOV_INIT_TRACE, entries): vmalloc_user(entries *
 * sizeof(unsigned long)). entries from 2 to INT_MAX / 8 (-EINVAL otherwise).
 * -ENOMEM.
 */
SCAMEM_API int scamem_kcov_init_trace(scamem_machine *m, uint64_t entries, struct scamem_kcov **out,
				      uint64_t *kaddr);
/*
 * kcov_mmap(): the VMA must be exactly the buffer (vm_pgoff 0, length
 * entries * 8: a buffer that is not whole pages can never be mapped), else
 * -EINVAL; then VM_DONTEXPAND and vm_insert_page() of each vmalloc_to_page(),
 * the VMA holding the area's scamem. An error part-way leaves the earlier
 * pages mapped. Errors: -EINVAL, -EBUSY (the VMA maps something), -EFAULT,
 * -EOVERFLOW.
 */
SCAMEM_API int scamem_kcov_mmap(scamem_machine *m, struct scamem_kcov *kcov, struct scamem_mm *mm, uint64_t uaddr);
/* kcov_close() -> kcov_put(): vfree() of the area; mappings keep its pages. The handle is then stale. */
SCAMEM_API int scamem_kcov_free(scamem_machine *m, struct scamem_kcov *kcov);

/*
 * kernel/events/ring_buffer.c with CONFIG_PERF_USE_VMALLOC: rb_alloc() of
 * nr_pages data pages (0 or a power of two up to 2^20, else -EINVAL):
 * vmalloc_user((nr_pages + 1) * PAGE_SIZE), the user page first. -ENOMEM.
 */
SCAMEM_API int scamem_perf_rb_alloc(scamem_machine *m, uint64_t nr_pages, struct scamem_perf_rb **out,
				    uint64_t *kaddr);
/*
 * perf_mmap() and perf_mmap_fault() on every page: the VMA must be 1 +
 * nr_pages pages at vm_pgoff 0 (-EINVAL otherwise); each pte holds the
 * area's scamem. Errors: -EINVAL, -EBUSY (the VMA maps something), -EFAULT,
 * -EOVERFLOW.
 */
SCAMEM_API int scamem_perf_rb_mmap(scamem_machine *m, struct scamem_perf_rb *rb, struct scamem_mm *mm,
				   uint64_t uaddr);
/* rb_free(): vfree() of the area; mappings keep its pages. The handle is then stale. */
SCAMEM_API int scamem_perf_rb_free(scamem_machine *m, struct scamem_perf_rb *rb);

/*
 * drivers/media/common/videobuf2/videobuf2-vmalloc.c: vb2_vmalloc_alloc():
 * vmalloc_user(size), size 1 to 1 GiB (-EINVAL otherwise). -ENOMEM.
 */
SCAMEM_API int scamem_vb2_vmalloc_alloc(scamem_machine *m, uint64_t size, struct scamem_vb2_buffer **out,
					uint64_t *kaddr);
/*
 * vb2_vmalloc_mmap(): remap_vmalloc_range(vma, vaddr, 0) of the whole VMA.
 * Errors as scamem_remap_vmalloc_range(): -EINVAL (a VMA larger than the
 * buffer, an anonymous VMA), -EBUSY, -EFAULT; -EBADF also for a USERPTR buffer.
 */
SCAMEM_API int scamem_vb2_vmalloc_mmap(scamem_machine *m, struct scamem_vb2_buffer *buf, struct scamem_mm *mm,
				       uint64_t uaddr);
/*
 * vb2_vmalloc_put(): vfree() of an MMAP buffer; its mappings keep the pages
 * (the kernel's vm_ops refcount does the same). -EBADF also for a USERPTR
 * buffer. The handle is then stale.
 */
SCAMEM_API int scamem_vb2_vmalloc_put(scamem_machine *m, struct scamem_vb2_buffer *buf);
/*
 * vb2_vmalloc_get_userptr(): vb2_create_framevec() pins every page [uaddr,
 * uaddr + size) touches with FOLL_LONGTERM (and FOLL_WRITE if write is
 * non-zero: a capture buffer); only a complete set is kept. The kernel then
 * vm_map_ram()s them; the model does not (the pins hold them). Errors:
 * -EINVAL (size 0 or above 1 GiB, the range beyond TASK_SIZE), -EFAULT (a
 * page that cannot be pinned), -ENOMEM.
 */
SCAMEM_API int scamem_vb2_vmalloc_get_userptr(scamem_machine *m, struct scamem_mm *mm, uint64_t uaddr,
					      uint64_t size, int32_t write, struct scamem_vb2_buffer **out);
/* vb2_vmalloc_put_userptr(): unpins the pages; -EBADF also for an MMAP buffer. The handle is then stale. */
SCAMEM_API int scamem_vb2_vmalloc_put_userptr(scamem_machine *m, struct scamem_vb2_buffer *buf);

/* ------------------------------------------------------------------------ */
/* Strategies side by side                                                   */
/* ------------------------------------------------------------------------ */

/* What a machine's strategy costs now. */
struct scamem_strategy_cost {
	uint64_t bytes_per_page; /* per memmap pfn: 8 (word) or 64 (LEGACY struct page) */
	uint64_t object_bytes;   /* live scamems (LEGACY: vm_struct pages arrays) */
	uint64_t extra_bytes;    /* reverse map (VMA_PRIVATE), index table (PACKED) */
};

/* Fills *out. Returns 0 or -EINVAL. */
SCAMEM_API int scamem_machine_strategy_cost(scamem_machine *m, struct scamem_strategy_cost *out);

#define SCAMEM_WORKLOAD_MIXED 0      /* 64 areas of 1-4 pages, 16 of 64, 4 of 1024 */
#define SCAMEM_WORKLOAD_MANY_SMALL 1 /* 4096 areas of 1-2 pages */
#define SCAMEM_WORKLOAD_BPF_RINGBUF 2 /* since 0.2: 16 ringbufs of 16 KiB-1 MiB, consumer and data mapped */
#define SCAMEM_WORKLOAD_IO_URING 3    /* since 0.2: 32 rings (SQ/CQ and SQE regions), vm_insert_pages() */
#define SCAMEM_WORKLOAD_KCOV 4        /* since 0.2: 32 kcov buffers of 64K entries, vm_insert_page() */
#define SCAMEM_WORKLOAD_V4L2 5        /* since 0.2: 8 vb2 queues of 4 frames of 1080p YUYV */
#define SCAMEM_WORKLOAD_HWPOISON 6    /* since 0.2: 64 areas of 4 pages, a pinned page each poisoned */
#define SCAMEM_WORKLOAD_HOTPLUG 7     /* since 0.2: 64 areas of 16 pages on the last node, one page each
                                       * pinned, then every online memory block of that node offlined;
                                       * pages_retained: pages of the blocks they kept online */
#define SCAMEM_WORKLOAD_LONGTERM_MOVABLE 8 /* since 0.2: 64 areas of 4 pages and 256 anon pages in
                                       * ZONE_MOVABLE (made from the upper half of each node's highest
                                       * zone if the description has none), every page pinned
                                       * FOLL_LONGTERM; pages_retained: anon pages migrated first */

/* One strategy's result on one workload. */
struct scamem_compare_row {
	uint32_t strategy; /* SCAMEM_STRATEGY_* */
	uint32_t workload; /* SCAMEM_WORKLOAD_* */
	uint64_t nr_areas;
	uint64_t nr_pages;       /* vmalloc pages in the workload */
	uint64_t memmap_pages;   /* pfns with a memmap */
	uint64_t bytes_per_page; /* 8 or 64 */
	uint64_t scamem_bytes;   /* objects and extra, every area live and one page each pinned */
	uint64_t metadata_bytes; /* bytes_per_page * memmap_pages + scamem_bytes */
	uint64_t pages_pinned;   /* one per area */
	uint64_t pages_retained; /* vmalloc pages still allocated after vfree and exit, pins held */
	double bytes_per_scamem; /* scamem_bytes / nr_areas */
	double ns_page_to_nid;   /* per call, over every vmalloc page */
	double ns_pin;           /* per page, pin_user_pages one page at a time */
	double ns_unpin;         /* per page */
	double ns_vmalloc_vfree; /* per pair, 4-page areas */
};

/*
 * Runs workload on a fresh machine of *desc (NULL: the default machine; its
 * strategy field is ignored) under each of the five strategies, in
 * SCAMEM_STRATEGY_* order, and fills rows[0..min(nr_rows, 5)). Times are
 * measured with CLOCK_MONOTONIC on this host. Returns the number of rows
 * filled, or -EINVAL (NULL rows with nr_rows > 0, workload), the errors of
 * scamem_machine_new(), -ENOMEM (the machine is too small for the workload),
 * -ENOSPC (desc->packed_index_bits leaves SCAMEM_PACKED fewer scamem indices
 * than the workload needs).
 */
SCAMEM_API int scamem_compare_strategies(const struct scamem_machine_desc *desc, uint32_t workload,
					 struct scamem_compare_row *rows, uint32_t nr_rows);

/* ------------------------------------------------------------------------ */
/* Real machines                                                             */
/* ------------------------------------------------------------------------ */
/*
 * A capture is a directory of the raw files a root user can read: kpageflags
 * and kpagecount (raw or .xz), zoneinfo, buddyinfo, vmallocinfo, meminfo,
 * vmstat, slabinfo, iomem, memory_block_size_bytes, memory_blocks, uname
 * (`scamem capture DIR` writes one). Importing builds a machine with the
 * real zones and holes in which every pfn has the word it would have under
 * memdescs: folios, slabs and page tables as descriptors (compound pages
 * grouped with their order), free blocks rebuilt naturally aligned into the
 * buddy allocator, never-initialised memmap, reserved pages, and the vmalloc
 * areas as scamems over pages drawn from the flagless pool (/proc does not
 * say which pfns back an area).
 */

/* What the importer sorts pfns into. */
#define SCAMEM_CAT_HOLE 0          /* not RAM: in a zone span or outside every zone */
#define SCAMEM_CAT_UNINITIALISED 1 /* deferred memmap init: whole sections of zero flags */
#define SCAMEM_CAT_RESERVED 2
#define SCAMEM_CAT_FREE 3
#define SCAMEM_CAT_SLAB 4
#define SCAMEM_CAT_PAGE_TABLE 5
#define SCAMEM_CAT_ANON 6
#define SCAMEM_CAT_FILE 7
#define SCAMEM_CAT_SHMEM 8
#define SCAMEM_CAT_HUGETLB 9
#define SCAMEM_CAT_COMPOUND 10 /* other compound pages */
#define SCAMEM_CAT_ZERO 11
#define SCAMEM_CAT_OFFLINE 12
#define SCAMEM_CAT_HWPOISON 13
#define SCAMEM_CAT_UNKNOWN 14 /* initialised, no telling flags */
#define SCAMEM_CAT_VMALLOC 15 /* unknown pages given to vmalloc areas */
#define SCAMEM_NR_CATS 16

/*
 * Where scamem_import() refused a capture: the file, the line (text files)
 * or byte offset (binary files), and why. Filled when the import fails with
 * -EIO, -ENOENT, -EACCES or -ENOMEM and scamem_import_opts.error is set;
 * zeroed on success. Strings are NUL-terminated (truncated if longer).
 */
struct scamem_import_error {
	char file[64];    /* the capture file, e.g. "zoneinfo" or "kpageflags.xz"; live: its path,
			     e.g. "/proc/kpageflags"; "" if none */
	uint64_t line;    /* 1-based line in a text file; 0 if not a line */
	uint64_t offset;  /* byte offset in a binary file; 0 if not an offset */
	char reason[176]; /* what was wrong with it */
};

/* Options of scamem_import(): descriptor sizes the report charges. */
struct scamem_import_opts {
	uint32_t size;         /* sizeof(struct scamem_import_opts); 24 (release 0.1) is accepted */
	uint32_t folio_bytes;  /* 0: 80, a separately allocated folio */
	uint32_t slab_bytes;   /* 0: 64 */
	uint32_t ptdesc_bytes; /* 0: 64 */
	uint32_t strategy;     /* SCAMEM_STRATEGY_* of the imported machine */
	uint32_t reserved;     /* must be 0 */
	struct scamem_import_error *error; /* since 0.2; may be NULL: where a failed import stopped */
};

/* What the import found and what it costs. */
struct scamem_import_report {
	uint64_t pfns;          /* kpageflags entries read */
	uint64_t present_pages; /* RAM */
	uint64_t memmap_pages;  /* pfns with a memmap (struct pages today) */
	uint64_t categories[SCAMEM_NR_CATS];
	uint64_t folios;
	uint64_t slabs;
	uint64_t ptdescs;
	uint64_t vmalloc_areas;
	uint64_t vmalloc_pages;
	uint64_t vmalloc_placed; /* vmalloc pages given a pfn from the unknown pool */
	uint64_t mapped_pages;   /* kpagecount > 0 */
	uint64_t today_bytes;    /* 64 per memmap pfn, plus vm_struct pages arrays */
	uint64_t word_bytes;     /* 8 per memmap pfn */
	uint64_t descriptor_bytes; /* folios, slabs, ptdescs at the options' sizes */
	uint64_t scamem_bytes;   /* the default strategy's scamem objects */
	uint64_t memdesc_bytes;  /* word + descriptor + scamem bytes */
	uint64_t strategy_bytes[SCAMEM_NR_STRATEGIES + 1]; /* by SCAMEM_STRATEGY_*; [0] is the default's */
	uint64_t checker_issues; /* the invariant checker on the imported machine: 0 */
};

/*
 * Imports the capture in capture_dir, or the live machine if it is NULL
 * (root, Linux). opts may be NULL for the defaults; report may be NULL. On
 * success *out is a new machine (free it with scamem_machine_free()); the
 * import runs the invariant checker and reports what it found. A capture is
 * untrusted input: every number in it must be one a real x86_64 kernel can
 * print (pfns below 2^34, the 46 bits of the import's profile; nids below
 * MAX_NUMNODES, 1024; present <= spanned, managed <= present; zone spans
 * not overlapping; counts within the machine), and the machine is no bigger
 * than the pfns its kpageflags holds (size / 8, or an .xz file's index).
 * Each zone's managed_pages counts the pages the import laid down that a
 * caller can give back (free, folios, slabs, ptdescs, vmalloc areas, MISC
 * unknown blocks); zoneinfo's managed is a cross-check only. Errors:
 * -EINVAL (out NULL, opts), -E2BIG, -ENOENT (no kpageflags), -EIO (no
 * zoneinfo; a file unreadable or malformed: a number out of range,
 * overlapping zones, a nid beyond MAX_NUMNODES, zones ending beyond
 * kpageflags, an empty kpageflags or one of partial 8-byte entries, a
 * truncated or corrupt .xz), -EACCES (live without root), -ENOMEM; with
 * opts->error set, the file and line (or byte offset) and the reason.
 */
SCAMEM_API int scamem_import(const char *capture_dir, const struct scamem_import_opts *opts, scamem_machine **out,
			     struct scamem_import_report *report);

/* ------------------------------------------------------------------------ */
/* The invariant checker                                                     */
/* ------------------------------------------------------------------------ */

/* What a reported inconsistency is about. */
#define SCAMEM_CHECK_WORD 1       /* bad type, subtype or order in a word */
#define SCAMEM_CHECK_PLACEMENT 2  /* node/zone/section bits differ from the machine's */
#define SCAMEM_CHECK_MEMMAP 3     /* NOPAGE where memory is, or memory where none is */
#define SCAMEM_CHECK_FREE_LIST 4  /* free lists and BUDDY words disagree */
#define SCAMEM_CHECK_DESCRIPTOR 5 /* pointer word and descriptor disagree */
#define SCAMEM_CHECK_REFCOUNT 6   /* impossible reference or map counts */
#define SCAMEM_CHECK_COUNTER 7    /* zone counters disagree with the words */

/*
 * Called once per inconsistency: pfn (or UINT64_MAX when none applies), one of
 * SCAMEM_CHECK_*, and a message borrowed for the duration of the call.
 */
typedef void (*scamem_check_fn)(void *user, uint64_t pfn, int32_t what, const char *message);

/*
 * Walks every word, free list and descriptor and reports each inconsistency
 * to fn (which may be NULL to only count them). fn is called after the walk,
 * from the calling thread, and may call into the library. Returns the number
 * found (0: consistent), or -EINVAL if m is NULL.
 */
SCAMEM_API int64_t scamem_machine_check(scamem_machine *m, scamem_check_fn fn, void *user);

/* ------------------------------------------------------------------------ */
/* Layout assertions                                                         */
/* ------------------------------------------------------------------------ */

#if defined(__cplusplus)
#define SCAMEM_STATIC_ASSERT(e, m) static_assert(e, m)
#else
#define SCAMEM_STATIC_ASSERT(e, m) _Static_assert(e, m)
#endif

SCAMEM_STATIC_ASSERT(sizeof(uint64_t) == 8, "a memdesc word is 8 bytes");
SCAMEM_STATIC_ASSERT(sizeof(struct scamem_layout) == 32, "scamem_layout");
SCAMEM_STATIC_ASSERT(sizeof(struct scamem_word_info) == 56, "scamem_word_info");
SCAMEM_STATIC_ASSERT(sizeof(struct scamem_profile) == 24, "scamem_profile");
SCAMEM_STATIC_ASSERT(sizeof(struct scamem_zone_span) == 24, "scamem_zone_span");
SCAMEM_STATIC_ASSERT(sizeof(struct scamem_pfn_range) == 16, "scamem_pfn_range");
SCAMEM_STATIC_ASSERT(sizeof(struct scamem_machine_desc) == 96, "scamem_machine_desc");
SCAMEM_STATIC_ASSERT(offsetof(struct scamem_machine_desc, cma) == 80, "scamem_machine_desc.cma");
SCAMEM_STATIC_ASSERT(offsetof(struct scamem_machine_desc, zones) == 32, "scamem_machine_desc.zones");
SCAMEM_STATIC_ASSERT(offsetof(struct scamem_machine_desc, strategy) == 68, "scamem_machine_desc.strategy");
SCAMEM_STATIC_ASSERT(sizeof(struct scamem_machine_info) == 72, "scamem_machine_info");
SCAMEM_STATIC_ASSERT(sizeof(struct scamem_zone_info) == 136, "scamem_zone_info");
SCAMEM_STATIC_ASSERT(sizeof(struct scamem_zone_watermarks) == 104, "scamem_zone_watermarks");
SCAMEM_STATIC_ASSERT(sizeof(struct scamem_zone_pagetypeinfo) == 584, "scamem_zone_pagetypeinfo");
SCAMEM_STATIC_ASSERT(sizeof(struct scamem_metadata) == 240, "scamem_metadata");
SCAMEM_STATIC_ASSERT(sizeof(struct scamem_page_info) == 88, "scamem_page_info");
SCAMEM_STATIC_ASSERT(sizeof(struct scamem_stat) == 32, "scamem_stat");
SCAMEM_STATIC_ASSERT(sizeof(struct scamem_vmalloc_opts) == 32, "scamem_vmalloc_opts");
SCAMEM_STATIC_ASSERT(sizeof(struct scamem_vm_struct) == 48, "scamem_vm_struct");
SCAMEM_STATIC_ASSERT(sizeof(struct scamem_vma) == 40, "scamem_vma");
SCAMEM_STATIC_ASSERT(sizeof(struct scamem_strategy_cost) == 24, "scamem_strategy_cost");
SCAMEM_STATIC_ASSERT(sizeof(struct scamem_compare_row) == 112, "scamem_compare_row");
SCAMEM_STATIC_ASSERT(sizeof(struct scamem_import_opts) == 32, "scamem_import_opts");
SCAMEM_STATIC_ASSERT(offsetof(struct scamem_import_opts, error) == 24, "scamem_import_opts.error");
SCAMEM_STATIC_ASSERT(sizeof(struct scamem_import_error) == 256, "scamem_import_error");
SCAMEM_STATIC_ASSERT(sizeof(struct scamem_import_report) == 304, "scamem_import_report");

#ifdef __cplusplus
}
#endif

#endif /* SCAMEM_H */
