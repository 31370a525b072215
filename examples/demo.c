/*
 * The scamem demo: the default machine (2 nodes x 4 GiB, x86_64 zones), some
 * folios, slabs and page tables on both nodes, then what its page words say
 * per node and zone, and what its metadata costs with 64-byte struct pages
 * against 8-byte memdesc words plus descriptors.
 *
 * Build: cc demo.c $(pkg-config --cflags --libs scamem)
 */
#include <scamem.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const zone_names[] = { "DMA", "DMA32", "Normal", "Movable", "Device" };

static int fail(const char *what, int err)
{
	fprintf(stderr, "demo: %s: %s\n", what, scamem_strerror(err));
	return 1;
}

static double mib(uint64_t bytes)
{
	return (double)bytes / (1024.0 * 1024.0);
}

/* A fixed workload: a page cache of mixed folio sizes, anonymous memory,
 * slabs and page tables on each node. Deterministic, so every run prints the
 * same table. */
static int populate(scamem_machine *m)
{
	uint64_t pfn, seed = 42;
	for (int32_t nid = 0; nid < 2; nid++) {
		for (int i = 0; i < 20000; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			uint32_t order = (uint32_t)(seed >> 60) % 5; /* 4 KiB .. 64 KiB */
			int r = scamem_folio_alloc(m, SCAMEM_TYPE_FILE, SCAMEM_GFP_KERNEL, order, nid, &pfn);
			if (r < 0)
				return fail("folio_alloc(FILE)", r);
		}
		for (int i = 0; i < 30000; i++) {
			int r = scamem_folio_alloc(m, SCAMEM_TYPE_ANON, SCAMEM_GFP_KERNEL, i % 64 ? 0 : 9, nid, &pfn);
			if (r < 0)
				return fail("folio_alloc(ANON)", r);
		}
		for (int i = 0; i < 4000; i++) {
			int r = scamem_slab_alloc(m, (uint32_t)i % 40, 64u << (i % 6), SCAMEM_GFP_KERNEL, (uint32_t)i % 4, nid, &pfn);
			if (r < 0)
				return fail("slab_alloc", r);
		}
		for (int i = 0; i < 1500; i++) {
			int r = scamem_ptdesc_alloc(m, SCAMEM_GFP_KERNEL, 0, nid, &pfn);
			if (r < 0)
				return fail("ptdesc_alloc", r);
		}
	}
	/* A driver's DMA buffers: pages without a descriptor (MISC/unknown). */
	for (int i = 0; i < 64; i++) {
		int r = scamem_alloc_pages(m, SCAMEM_GFP_DMA32, 2, 0, &pfn);
		if (r < 0)
			return fail("alloc_pages", r);
	}
	return 0;
}

int main(void)
{
	scamem_machine *m;
	int r = scamem_machine_new_default(&m);
	if (r < 0)
		return fail("machine_new_default", r);

	struct scamem_machine_info info;
	scamem_machine_info(m, &info);
	printf("scamem %s, page-word layout %u\n", scamem_version_string(), scamem_layout_version());
	printf("default machine: %u nodes, %u zones, pfns [0, 0x%" PRIx64 "), %.0f MiB present, "
	       "%" PRIu64 " of %" PRIu64 " sections with a memmap\n\n",
	       info.nr_nodes, info.nr_zones, info.end_pfn, mib(info.present_pages * SCAMEM_PAGE_SIZE),
	       info.present_sections, info.nr_sections);

	if (populate(m))
		return 1;

	static const int cols[] = { SCAMEM_TYPE_BUDDY, SCAMEM_TYPE_MISC, SCAMEM_TYPE_FILE, SCAMEM_TYPE_ANON,
				    SCAMEM_TYPE_SLAB, SCAMEM_TYPE_PTDESC };
	static const char *const col_names[] = { "buddy", "misc", "file", "anon", "slab", "ptdesc" };
	enum { NCOLS = sizeof cols / sizeof cols[0] };

	printf("Pages by word type\n");
	printf("%-4s %-8s %10s %10s", "node", "zone", "spanned", "present");
	for (int c = 0; c < NCOLS; c++)
		printf(" %9s", col_names[c]);
	printf("\n");
	uint64_t totals[SCAMEM_NR_TYPES] = {0};
	for (uint32_t i = 0; i < info.nr_zones; i++) {
		struct scamem_zone_info z;
		uint64_t counts[SCAMEM_NR_TYPES];
		scamem_machine_zone(m, i, &z);
		scamem_count_pages(m, (int32_t)z.nid, (int32_t)z.zone, counts);
		printf("%-4u %-8s %10" PRIu64 " %10" PRIu64, z.nid, zone_names[z.zone], z.spanned_pages, z.present_pages);
		for (int c = 0; c < NCOLS; c++) {
			printf(" %9" PRIu64, counts[cols[c]]);
			totals[cols[c]] += counts[cols[c]];
		}
		printf("\n");
	}
	printf("%-4s %-8s %10" PRIu64 " %10" PRIu64, "all", "", info.end_pfn, info.present_pages);
	for (int c = 0; c < NCOLS; c++)
		printf(" %9" PRIu64, totals[cols[c]]);
	printf("\n(pfns with no memmap, the PCI hole: %" PRIu64 ")\n\n", info.end_pfn - info.memmap_pages);

	struct scamem_metadata md;
	scamem_machine_metadata(m, &md);
	static const char *const desc_names[] = { [SCAMEM_TYPE_FILE] = "file folios", [SCAMEM_TYPE_ANON] = "anon folios",
						  [SCAMEM_TYPE_SLAB] = "slabs", [SCAMEM_TYPE_PTDESC] = "ptdescs" };
	static const int desc_types[] = { SCAMEM_TYPE_FILE, SCAMEM_TYPE_ANON, SCAMEM_TYPE_SLAB, SCAMEM_TYPE_PTDESC };
	printf("Metadata for %" PRIu64 " memmap pfns (%.0f MiB of RAM)\n", md.memmap_pages,
	       mib(md.memmap_pages * SCAMEM_PAGE_SIZE));
	printf("  today, 64-byte struct page        %10.2f MiB  %.3f %% of RAM\n", mib(md.struct_page_bytes),
	       100.0 * (double)md.struct_page_bytes / (double)(md.memmap_pages * SCAMEM_PAGE_SIZE));
	printf("  memdesc words, 8 bytes per pfn    %10.2f MiB\n", mib(md.word_bytes));
	for (size_t i = 0; i < sizeof desc_types / sizeof desc_types[0]; i++) {
		int t = desc_types[i];
		printf("  + %7" PRIu64 " %-11s x %3u B   %10.2f MiB\n", md.nr_desc[t], desc_names[t], md.desc_size[t],
		       mib(md.nr_desc[t] * md.desc_size[t]));
	}
	printf("  memdescs in all                   %10.2f MiB  %.3f %% of RAM\n", mib(md.memdesc_bytes),
	       100.0 * (double)md.memdesc_bytes / (double)(md.memmap_pages * SCAMEM_PAGE_SIZE));
	printf("  saving                            %10.2f MiB  (%.1f %% of today's memmap)\n",
	       mib(md.struct_page_bytes - md.memdesc_bytes),
	       100.0 * (double)(md.struct_page_bytes - md.memdesc_bytes) / (double)md.struct_page_bytes);

	int64_t issues = scamem_machine_check(m, NULL, NULL);
	printf("\ninvariant checker: %" PRId64 " issues\n", issues);
	scamem_machine_free(m);
	return issues == 0 ? 0 : 1;
}
