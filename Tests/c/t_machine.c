/* The default and custom machines as a C user sees them: info, zones, the
 * word view, classification, counts and the metadata bill. */
#include "test.h"

static void test_default(scamem_machine *m)
{
	struct scamem_machine_info info;
	EXPECT_OK(scamem_machine_info(m, &info));
	EXPECT(info.end_pfn == 0x240000);
	EXPECT(info.nr_nodes == 2 && info.nr_zones == 4);
	/* 9 GiB spanned, a 1 GiB PCI hole and the 384 KiB VGA/BIOS hole. */
	EXPECT(info.present_pages == 0x240000 - 0x40000 - 0x60);
	EXPECT(info.managed_pages == info.present_pages - 1 - 0x1800);
	EXPECT(info.free_pages == info.managed_pages);
	/* Sections 24-31 (the PCI hole) have no memmap. */
	EXPECT(info.nr_sections == 72 && info.present_sections == 64);
	EXPECT(info.memmap_pages == 64ull * 32768);

	uint64_t present = 0;
	for (uint32_t i = 0; i < info.nr_zones; i++) {
		struct scamem_zone_info z;
		EXPECT_OK(scamem_machine_zone(m, i, &z));
		present += z.present_pages;
		uint64_t free_pages = 0;
		for (int o = 0; o < SCAMEM_NR_PAGE_ORDERS; o++)
			free_pages += z.nr_free[o] << o;
		EXPECT(free_pages == z.free_pages);
	}
	EXPECT(present == info.present_pages);
	EXPECT_ERR(scamem_machine_zone(m, info.nr_zones, &(struct scamem_zone_info){0}), -ENOENT);

	const uint64_t *words;
	uint64_t nr;
	struct scamem_layout l;
	EXPECT_OK(scamem_machine_words(m, &words, &nr));
	EXPECT_OK(scamem_machine_layout(m, &l));
	EXPECT(nr == info.end_pfn);
	EXPECT(l.version == SCAMEM_LAYOUT_VERSION && l.nodes_pgshift == 54 && l.zones_pgshift == 51);
	EXPECT(scamem_word_type(words[0]) == SCAMEM_TYPE_MISC && scamem_word_subtype(words[0]) == SCAMEM_MISC_RESERVED);
	EXPECT(scamem_word_type(words[0xa0]) == SCAMEM_TYPE_MISC); /* VGA hole: reserved */
	EXPECT(scamem_word_is_nopage(words[0xc0000]));             /* PCI hole: no memmap */
	EXPECT(scamem_word_type(words[0x100]) == SCAMEM_TYPE_BUDDY);
	EXPECT(scamem_memdesc_nid(&l, words[0x140000]) == 1);
	EXPECT(scamem_memdesc_zonenum(&l, words[0x140000]) == SCAMEM_ZONE_NORMAL);
	EXPECT(scamem_memdesc_zonenum(&l, words[0x2000]) == SCAMEM_ZONE_DMA32);

	/* Scan the view with the inline decoders; it must match the batch call. */
	uint64_t mine[SCAMEM_NR_TYPES] = {0}, theirs[SCAMEM_NR_TYPES] = {0};
	for (uint64_t pfn = 0; pfn < nr; pfn++)
		mine[scamem_word_type(words[pfn])]++;
	EXPECT(scamem_classify_range(m, 0, UINT64_MAX, theirs) == (int64_t)nr);
	EXPECT(memcmp(mine, theirs, sizeof(mine)) == 0);
	EXPECT(mine[SCAMEM_TYPE_RESERVED] == 0x40000);
}

static void test_descriptors(scamem_machine *m)
{
	uint64_t file, anon, slab, pt, raw;
	EXPECT_OK(scamem_folio_alloc(m, SCAMEM_TYPE_FILE, SCAMEM_GFP_KERNEL, 4, 0, &file));
	EXPECT_OK(scamem_folio_alloc(m, SCAMEM_TYPE_ANON, SCAMEM_GFP_KERNEL, 0, 1, &anon));
	EXPECT_OK(scamem_slab_alloc(m, 7, 256, SCAMEM_GFP_KERNEL, 1, 1, &slab));
	EXPECT_OK(scamem_ptdesc_alloc(m, SCAMEM_GFP_KERNEL, 0, SCAMEM_NUMA_NO_NODE, &pt));
	EXPECT_OK(scamem_alloc_pages(m, SCAMEM_GFP_DMA, 2, 0, &raw));

	EXPECT(scamem_page_to_nid(m, file + 5) == 0 && scamem_page_zonenum(m, file + 5) == SCAMEM_ZONE_NORMAL);
	EXPECT(scamem_page_to_nid(m, anon) == 1);
	EXPECT(scamem_page_zonenum(m, raw) == SCAMEM_ZONE_DMA);
	EXPECT(scamem_page_to_section(m, anon) == (int64_t)(anon >> 15));

	struct scamem_page_info pi;
	EXPECT_OK(scamem_page_info(m, file + 3, &pi));
	EXPECT(pi.type == SCAMEM_TYPE_FILE && pi.head_pfn == file && pi.order == 4 && pi.refcount == 1);
	EXPECT(pi.desc != 0 && (pi.desc & 15) == 0 && scamem_word_desc(pi.word) == pi.desc);
	EXPECT_OK(scamem_page_info(m, slab + 1, &pi));
	EXPECT(pi.type == SCAMEM_TYPE_SLAB && pi.cache_id == 7 && pi.objects == 32);
	EXPECT(scamem_folio_get(m, file) == 2);
	EXPECT(scamem_folio_put(m, file + 15) == 1);

	uint64_t counts[SCAMEM_NR_TYPES];
	EXPECT(scamem_count_pages(m, 1, SCAMEM_ZONE_NORMAL, counts) == 0x100000);
	EXPECT(counts[SCAMEM_TYPE_ANON] == 1 && counts[SCAMEM_TYPE_SLAB] == 2 && counts[SCAMEM_TYPE_FILE] == 0);
	EXPECT(scamem_count_pages(m, 0, -1, counts) > 0);
	EXPECT(counts[SCAMEM_TYPE_FILE] == 16 && counts[SCAMEM_TYPE_MISC] >= 4);

	struct scamem_metadata md;
	EXPECT_OK(scamem_machine_metadata(m, &md));
	EXPECT(md.nr_desc[SCAMEM_TYPE_FILE] == 1 && md.nr_desc[SCAMEM_TYPE_ANON] == 1);
	EXPECT(md.nr_desc[SCAMEM_TYPE_SLAB] == 1 && md.nr_desc[SCAMEM_TYPE_PTDESC] == 1);
	EXPECT(md.desc_size[SCAMEM_TYPE_SLAB] == 64 && md.desc_size[SCAMEM_TYPE_FILE] == 80);
	/* The default strategy, SCAMEM_PFN_LOOKUP, also keeps its pfn-to-zone
	 * table: 2 bytes for each of the 72 memory blocks, and 16 for each zone
	 * range inside block 0, which holds DMA and DMA32. */
	struct scamem_strategy_cost cost;
	EXPECT_OK(scamem_machine_strategy_cost(m, &cost));
	EXPECT(cost.object_bytes == 0 && cost.extra_bytes == 2 * 72 + 2 * 16);
	EXPECT(md.desc_bytes == 80 + 80 + 64 + 64 + cost.extra_bytes);
	EXPECT(md.struct_page_bytes == 64 * md.memmap_pages && md.word_bytes == 8 * md.memmap_pages);
	EXPECT(md.memdesc_bytes == md.word_bytes + md.desc_bytes);

	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
	EXPECT(scamem_folio_put(m, file) == 0);
	EXPECT(scamem_folio_put(m, anon) == 0);
	EXPECT_OK(scamem_slab_free(m, slab));
	EXPECT_OK(scamem_ptdesc_free(m, pt));
	EXPECT_OK(scamem_free_pages(m, raw, 2));

	struct scamem_machine_info info;
	EXPECT_OK(scamem_machine_info(m, &info));
	EXPECT(info.free_pages == info.managed_pages);
	EXPECT_OK(scamem_machine_metadata(m, &md));
	EXPECT(md.desc_bytes == cost.extra_bytes);
}

/* A one-node machine under the classic SPARSEMEM profile: section bits live
 * in the word and must come back after a free. */
static void test_sparsemem(void)
{
	static const struct scamem_zone_span zones[] = {
		{ 0, SCAMEM_ZONE_DMA32, 0x1000, 0xff000 },
		{ 0, SCAMEM_ZONE_NORMAL, 0x100000, 0x20000 },
	};
	struct scamem_machine_desc d = {
		sizeof d, 1, SCAMEM_PROFILE_X86_64_SPARSEMEM_INIT, zones, NULL, NULL, 2, 0, 0, 0, 0, 0, NULL, 0, 0,
	};
	scamem_machine *m = NULL;
	EXPECT_OK(scamem_machine_new(&d, &m));
	if (!m)
		return;
	struct scamem_layout l;
	EXPECT_OK(scamem_machine_layout(m, &l));
	EXPECT(l.sections_width == 19 && l.sections_pgshift == 45 && l.nodes_pgshift == 35 && l.zones_pgshift == 32);
	uint64_t pfn;
	EXPECT_OK(scamem_folio_alloc(m, SCAMEM_TYPE_ANON, SCAMEM_GFP_KERNEL, 3, 0, &pfn));
	EXPECT(scamem_page_to_section(m, pfn) == (int64_t)(pfn >> 15));
	EXPECT(scamem_folio_put(m, pfn) == 0);
	const uint64_t *w;
	uint64_t nr;
	EXPECT_OK(scamem_machine_words(m, &w, &nr));
	EXPECT(scamem_word_type(w[pfn]) == SCAMEM_TYPE_BUDDY);
	EXPECT(scamem_memdesc_section(&l, w[pfn]) == pfn >> 15);
	EXPECT(scamem_memdesc_section(&l, w[0x110000]) == 0x110000 >> 15);
	EXPECT(scamem_memdesc_zonenum(&l, w[0x110000]) == SCAMEM_ZONE_NORMAL);
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
	scamem_machine_free(m);
}

/* A description with many zones, holes and reserved ranges is laid out in
 * near-linear time (each zone once sorted and searched every hole), and a
 * machine larger than the host's memory is refused, not written. */
static void test_large_descriptions(void)
{
	enum { NODES = 1024, PER_NODE = 4, SPAN = 256 };
	const uint32_t types[PER_NODE] = { SCAMEM_ZONE_DMA, SCAMEM_ZONE_DMA32, SCAMEM_ZONE_NORMAL, SCAMEM_ZONE_MOVABLE };
	const uint32_t nholes = 1u << 19, nres = 1u << 18;
	struct scamem_zone_span *zones = calloc(NODES * PER_NODE, sizeof *zones);
	struct scamem_pfn_range *holes = calloc(nholes, sizeof *holes), *res = calloc(nres, sizeof *res);
	if (!zones || !holes || !res) {
		EXPECT(!"host memory");
		goto out;
	}
	for (uint32_t i = 0; i < NODES * PER_NODE; i++)
		zones[i] = (struct scamem_zone_span){ i / PER_NODE, types[i % PER_NODE], (uint64_t)i * SPAN, SPAN };
	/* Holes at every even pfn, reserved ranges at odd ones in the upper half. */
	for (uint32_t i = 0; i < nholes; i++)
		holes[i] = (struct scamem_pfn_range){ (uint64_t)(i / 128) * SPAN + (i % 128) * 2, 1 };
	for (uint32_t i = 0; i < nres; i++)
		res[i] = (struct scamem_pfn_range){ (uint64_t)(i / 64) * SPAN + 129 + (i % 64) * 2, 1 };
	struct scamem_machine_desc d;
	scamem_machine_desc_default(&d);
	d.nr_nodes = NODES;
	d.zones = zones;
	d.nr_zones = NODES * PER_NODE;
	d.holes = holes;
	d.nr_holes = nholes;
	d.reserved = res;
	d.nr_reserved = nres;
	scamem_machine *m = NULL;
	EXPECT_OK(scamem_machine_new(&d, &m));
	if (m) {
		struct scamem_machine_info info;
		EXPECT_OK(scamem_machine_info(m, &info));
		EXPECT(info.nr_zones == NODES * PER_NODE);
		EXPECT(info.present_pages == (uint64_t)NODES * PER_NODE * SPAN - nholes);
		EXPECT(info.managed_pages == info.present_pages - nres);
		EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
		scamem_machine_free(m);
	}
	/* 2^34 pfns: 128 GiB of words, more than this host has. */
	struct scamem_zone_span huge = { 0, SCAMEM_ZONE_NORMAL, 0, 1ull << 34 };
	scamem_machine_desc_default(&d);
	d.nr_nodes = 1;
	d.zones = &huge;
	d.nr_zones = 1;
	d.nr_holes = d.nr_reserved = 0;
	m = NULL;
	EXPECT_ERR(scamem_machine_new(&d, &m), -ENOMEM);
	EXPECT(m == NULL);
out:
	free(zones);
	free(holes);
	free(res);
}

int main(void)
{
	test_large_descriptions();
	scamem_machine *m = NULL;
	struct scamem_machine_desc d;
	EXPECT_OK(scamem_machine_desc_default(&d));
	EXPECT(d.size == sizeof d && d.nr_zones == 4 && d.nr_nodes == 2);
	EXPECT_OK(scamem_machine_new(&d, &m));
	scamem_machine_free(m);

	EXPECT(scamem_version_number() == SCAMEM_VERSION_NUMBER);
	EXPECT(strcmp(scamem_version_string(), SCAMEM_VERSION_STRING) == 0);
	EXPECT(scamem_layout_version() == SCAMEM_LAYOUT_VERSION);

	m = NULL;
	EXPECT_OK(scamem_machine_new_default(&m));
	if (!m)
		return finish(NULL, "t_machine");
	test_default(m);
	test_descriptors(m);
	test_sparsemem();
	return finish(m, "t_machine");
}
