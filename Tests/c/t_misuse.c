/* Bad input from C returns a negative errno and never crashes. Each case of
 * the issue: NULL handle, pfn out of range or in a hole, order > 10, freeing
 * a free page, freeing twice; plus every pointer argument NULL. */
#include "test.h"

static void test_null(void)
{
	uint64_t pfn, counts[SCAMEM_NR_TYPES];
	const uint64_t *words;
	struct scamem_machine_info info;
	struct scamem_zone_info zone;
	struct scamem_layout l;
	struct scamem_metadata md;
	struct scamem_page_info pi;
	struct scamem_word_info wi;

	EXPECT_ERR(scamem_machine_new(NULL, NULL), -EINVAL);
	EXPECT_ERR(scamem_machine_new_default(NULL), -EINVAL);
	EXPECT_ERR(scamem_machine_desc_default(NULL), -EINVAL);
	scamem_machine_free(NULL); /* nothing happens */
	EXPECT_ERR(scamem_machine_layout(NULL, &l), -EINVAL);
	EXPECT_ERR(scamem_machine_info(NULL, &info), -EINVAL);
	EXPECT_ERR(scamem_machine_zone(NULL, 0, &zone), -EINVAL);
	EXPECT_ERR(scamem_machine_words(NULL, &words, &pfn), -EINVAL);
	EXPECT_ERR(scamem_classify_range(NULL, 0, 1, counts), -EINVAL);
	EXPECT_ERR(scamem_count_pages(NULL, -1, -1, counts), -EINVAL);
	EXPECT_ERR(scamem_machine_metadata(NULL, &md), -EINVAL);
	EXPECT_ERR(scamem_machine_check(NULL, NULL, NULL), -EINVAL);
	EXPECT_ERR(scamem_alloc_pages(NULL, 0, 0, -1, &pfn), -EINVAL);
	EXPECT_ERR(scamem_free_pages(NULL, 0, 0), -EINVAL);
	EXPECT_ERR(scamem_folio_alloc(NULL, SCAMEM_TYPE_FILE, 0, 0, -1, &pfn), -EINVAL);
	EXPECT_ERR(scamem_folio_get(NULL, 0), -EINVAL);
	EXPECT_ERR(scamem_folio_put(NULL, 0), -EINVAL);
	EXPECT_ERR(scamem_slab_alloc(NULL, 0, 64, 0, 0, -1, &pfn), -EINVAL);
	EXPECT_ERR(scamem_slab_free(NULL, 0), -EINVAL);
	EXPECT_ERR(scamem_ptdesc_alloc(NULL, 0, 0, -1, &pfn), -EINVAL);
	EXPECT_ERR(scamem_ptdesc_free(NULL, 0), -EINVAL);
	EXPECT_ERR(scamem_page_to_nid(NULL, 0), -EINVAL);
	EXPECT_ERR(scamem_page_zonenum(NULL, 0), -EINVAL);
	EXPECT_ERR(scamem_page_to_section(NULL, 0), -EINVAL);
	EXPECT_ERR(scamem_page_info(NULL, 0, &pi), -EINVAL);
	EXPECT_ERR(scamem_word_decode(NULL, 0, &wi), -EINVAL);
	EXPECT_ERR(scamem_word_decode(&l, 0, NULL), -EINVAL);
}

static void test_null_outputs(scamem_machine *m)
{
	EXPECT_ERR(scamem_machine_layout(m, NULL), -EINVAL);
	EXPECT_ERR(scamem_machine_info(m, NULL), -EINVAL);
	EXPECT_ERR(scamem_machine_zone(m, 0, NULL), -EINVAL);
	EXPECT_ERR(scamem_machine_words(m, NULL, NULL), -EINVAL);
	EXPECT_ERR(scamem_classify_range(m, 0, 1, NULL), -EINVAL);
	EXPECT_ERR(scamem_count_pages(m, -1, -1, NULL), -EINVAL);
	EXPECT_ERR(scamem_machine_metadata(m, NULL), -EINVAL);
	EXPECT_ERR(scamem_alloc_pages(m, 0, 0, -1, NULL), -EINVAL);
	EXPECT_ERR(scamem_folio_alloc(m, SCAMEM_TYPE_FILE, 0, 0, -1, NULL), -EINVAL);
	EXPECT_ERR(scamem_slab_alloc(m, 0, 64, 0, 0, -1, NULL), -EINVAL);
	EXPECT_ERR(scamem_ptdesc_alloc(m, 0, 0, -1, NULL), -EINVAL);
	EXPECT_ERR(scamem_page_info(m, 0x100, NULL), -EINVAL);
}

static void test_bad_arguments(scamem_machine *m)
{
	uint64_t pfn, counts[SCAMEM_NR_TYPES] = {0};
	struct scamem_machine_info info;
	scamem_machine_info(m, &info);

	/* Orders, flags, nodes, types, sizes. */
	EXPECT_ERR(scamem_alloc_pages(m, 0, 11, -1, &pfn), -EINVAL);
	EXPECT_ERR(scamem_alloc_pages(m, 0, UINT32_MAX, -1, &pfn), -EINVAL);
	EXPECT_ERR(scamem_alloc_pages(m, 0x200, 0, -1, &pfn), -EINVAL);        /* the unused gfp bit */
	EXPECT_ERR(scamem_alloc_pages(m, SCAMEM_GFP_DMA | SCAMEM_GFP_DMA32, 0, -1, &pfn), -EINVAL);
	/* GFP_ZONE_TABLE: DMA32 (or DMA) wins over MOVABLE. */
	EXPECT_OK(scamem_alloc_pages(m, SCAMEM_GFP_DMA32 | SCAMEM_GFP_MOVABLE, 0, 0, &pfn));
	EXPECT(scamem_page_zonenum(m, pfn) == SCAMEM_ZONE_DMA32);
	EXPECT_OK(scamem_free_pages(m, pfn, 0));
	EXPECT_OK(scamem_alloc_pages(m, SCAMEM_GFP_DMA | SCAMEM_GFP_MOVABLE, 0, 0, &pfn));
	EXPECT(scamem_page_zonenum(m, pfn) == SCAMEM_ZONE_DMA);
	EXPECT_OK(scamem_free_pages(m, pfn, 0));
	EXPECT_ERR(scamem_alloc_pages(m, 0, 0, 2, &pfn), -EINVAL);             /* no node 2 */
	EXPECT_ERR(scamem_alloc_pages(m, 0, 0, -2, &pfn), -EINVAL);
	EXPECT_ERR(scamem_alloc_pages(m, 0, 0, INT32_MIN, &pfn), -EINVAL);
	EXPECT_ERR(scamem_folio_alloc(m, SCAMEM_TYPE_SLAB, 0, 0, -1, &pfn), -EINVAL);
	EXPECT_ERR(scamem_folio_alloc(m, 99, 0, 0, -1, &pfn), -EINVAL);
	EXPECT_ERR(scamem_folio_alloc(m, SCAMEM_TYPE_ANON, 0, 11, -1, &pfn), -EINVAL);
	EXPECT_ERR(scamem_slab_alloc(m, 0, 0, 0, 0, -1, &pfn), -EINVAL);
	EXPECT_ERR(scamem_slab_alloc(m, 0, 4097, 0, 0, -1, &pfn), -EINVAL);
	EXPECT_ERR(scamem_slab_alloc(m, 0, 64, 0, 12, -1, &pfn), -EINVAL);
	EXPECT_ERR(scamem_ptdesc_alloc(m, 0, 11, -1, &pfn), -EINVAL);
	EXPECT_ERR(scamem_count_pages(m, -2, -1, counts), -EINVAL);
	EXPECT_ERR(scamem_count_pages(m, -1, SCAMEM_MAX_NR_ZONES, counts), -EINVAL);

	/* pfns beyond the machine, in a hole, without memmap. */
	EXPECT_ERR(scamem_free_pages(m, info.end_pfn, 0), -ERANGE);
	EXPECT_ERR(scamem_free_pages(m, UINT64_MAX, 0), -ERANGE);
	EXPECT_ERR(scamem_page_to_nid(m, info.end_pfn), -ERANGE);
	EXPECT_ERR(scamem_page_zonenum(m, UINT64_MAX), -ERANGE);
	EXPECT_ERR(scamem_page_to_section(m, UINT64_MAX), -ERANGE);
	EXPECT_ERR(scamem_folio_get(m, UINT64_MAX), -ERANGE);
	EXPECT_ERR(scamem_classify_range(m, info.end_pfn, 1, counts), -ERANGE);
	EXPECT_ERR(scamem_free_pages(m, 0xa0, 0), -ENXIO);   /* VGA hole (memmap, no memory) */
	EXPECT_ERR(scamem_free_pages(m, 0xc0000, 0), -ENXIO); /* PCI hole (no memmap) */
	EXPECT_ERR(scamem_page_to_nid(m, 0xc0000), -ENXIO);
	EXPECT_ERR(scamem_folio_put(m, 0xa0), -ENXIO);
	EXPECT_ERR(scamem_folio_get(m, 0xa0), -ENXIO);
	EXPECT_ERR(scamem_slab_free(m, 0xa0), -ENXIO);
	EXPECT_ERR(scamem_ptdesc_free(m, 0xa0), -ENXIO);
	EXPECT_ERR(scamem_folio_put(m, 0xc0000), -ENXIO);
	struct scamem_page_info pi;
	EXPECT_ERR(scamem_page_info(m, 0xd0000, &pi), -ENXIO);
	EXPECT(pi.word == SCAMEM_WORD_NOPAGE && pi.pfn == 0xd0000);

	/* Reserved memory is not the allocator's to take back. */
	EXPECT_ERR(scamem_free_pages(m, 0, 0), -EINVAL);
	EXPECT_ERR(scamem_free_pages(m, 0x1000, 0), -EINVAL);
}

static void test_double_free(scamem_machine *m)
{
	uint64_t raw, folio, slab, pt;
	EXPECT_OK(scamem_alloc_pages(m, 0, 3, 0, &raw));
	EXPECT_ERR(scamem_free_pages(m, raw, 2), -EINVAL);     /* wrong order */
	EXPECT_ERR(scamem_free_pages(m, raw + 1, 3), -EINVAL); /* not the first page */
	EXPECT_ERR(scamem_free_pages(m, raw + 8, 0), -EALREADY); /* a free page */
	EXPECT_OK(scamem_free_pages(m, raw, 3));
	EXPECT_ERR(scamem_free_pages(m, raw, 3), -EALREADY);   /* twice */
	EXPECT_ERR(scamem_free_pages(m, 0x100, 0), -EALREADY); /* never allocated */

	EXPECT_OK(scamem_folio_alloc(m, SCAMEM_TYPE_FILE, 0, 0, 1, &folio));
	EXPECT_OK(scamem_slab_alloc(m, 1, 64, 0, 0, 1, &slab));
	EXPECT_OK(scamem_ptdesc_alloc(m, 0, 0, 1, &pt));
	EXPECT_ERR(scamem_free_pages(m, folio, 0), -EINVAL); /* owned by a descriptor */
	EXPECT_ERR(scamem_folio_put(m, slab), -EINVAL);
	EXPECT_ERR(scamem_folio_get(m, pt), -EINVAL);
	EXPECT_ERR(scamem_slab_free(m, folio), -EINVAL);
	EXPECT_ERR(scamem_ptdesc_free(m, slab), -EINVAL);
	EXPECT_ERR(scamem_slab_free(m, raw), -EALREADY);
	EXPECT(scamem_folio_put(m, folio) == 0);
	EXPECT_ERR(scamem_folio_put(m, folio), -EALREADY);
	EXPECT_ERR(scamem_folio_get(m, folio), -EALREADY);
	EXPECT_OK(scamem_slab_free(m, slab));
	EXPECT_ERR(scamem_slab_free(m, slab), -EALREADY);
	EXPECT_OK(scamem_ptdesc_free(m, pt));
	EXPECT_ERR(scamem_ptdesc_free(m, pt), -EALREADY);
}

static void test_descriptions(void)
{
	scamem_machine *m = NULL;
	struct scamem_machine_desc good;
	scamem_machine_desc_default(&good);

	struct scamem_machine_desc d = good;
	d.size = 8;
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL);
	d = good, d.nr_nodes = 0;
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL);
	d = good, d.nr_nodes = 2000;
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL);
	d = good, d.zones = NULL;
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL);
	d = good, d.nr_zones = 0;
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL);
	d = good, d.holes = NULL;
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL);
	d = good, d.strategy = 7;
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL);
	d = good, d.reserved0 = 1;
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL);
	d = good, d.strategy = SCAMEM_STRATEGY_PACKED, d.packed_index_bits = 48; /* zones sit at bit 51 */
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL);
	d = good, d.strategy = SCAMEM_STRATEGY_PACKED, d.packed_index_bits = 47;
	EXPECT_OK(scamem_machine_new(&d, &m));
	scamem_machine_free(m);
	m = NULL;
	d = good, d.profile.size = 4;
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL);
	d = good, d.profile.nodes_shift = 11;
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL);
	d = good, d.profile.zones_shift = 0;
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL);
	d = good, d.profile.max_physmem_bits = 200;
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL);
	d = good, d.profile.sparsemem_vmemmap = 5;
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL);

	struct scamem_zone_span bad[2] = { { 0, SCAMEM_ZONE_NORMAL, 0, 100 }, { 0, SCAMEM_ZONE_DMA, 50, 100 } };
	d = good, d.zones = bad, d.nr_zones = 2, d.nr_holes = 0, d.nr_reserved = 0;
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL); /* overlap */
	bad[1].start_pfn = 100, bad[1].zone = SCAMEM_ZONE_NORMAL;
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL); /* same (nid, zone) twice */
	bad[1].zone = 9;
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL); /* no such zone */
	bad[1].zone = SCAMEM_ZONE_MOVABLE, bad[1].nid = 1, d.nr_nodes = 1;
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL); /* no such node */
	bad[1].nid = 0, bad[1].spanned_pages = 0;
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL); /* empty zone */
	bad[1].spanned_pages = UINT64_MAX;
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL); /* past MAX_PHYSMEM_BITS */
	struct scamem_pfn_range outside = { 1000, 10 };
	bad[1].spanned_pages = 100, d.reserved = &outside, d.nr_reserved = 1;
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL); /* reserved outside zones */
	EXPECT(m == NULL);

	/* A larger struct from a newer header: zero tail accepted, else -E2BIG. */
	struct {
		struct scamem_machine_desc d;
		uint64_t future;
	} big = { good, 0 };
	big.d.size = sizeof big;
	EXPECT_OK(scamem_machine_new(&big.d, &m));
	scamem_machine_free(m);
	m = NULL;
	big.future = 1;
	EXPECT_ERR(scamem_machine_new(&big.d, &m), -E2BIG);
	EXPECT(m == NULL);
}

static void test_strerror(void)
{
	const int codes[] = { 0, -EINVAL, -ERANGE, -ENXIO, -ENOMEM, -EALREADY, -EOVERFLOW, -E2BIG,
			      -ENOENT, -EBADF, -EFAULT, -EBUSY, -EEXIST, -ENOSPC, -EIO, -EACCES, EINVAL,
			      INT32_MIN, INT32_MAX, -12345 };
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		const char *s = scamem_strerror(codes[i]);
		EXPECT(s != NULL && s[0] != '\0');
	}
	EXPECT(strcmp(scamem_strerror(-EALREADY), "page is already free") == 0);
	EXPECT(strcmp(scamem_strerror(-12345), "unknown error") == 0);
	for (size_t i = 1; i < sizeof codes / sizeof codes[0] - 4; i++) /* every code the library returns has its text */
		EXPECT(strcmp(scamem_strerror(codes[i]), "unknown error") != 0);
	EXPECT(strcmp(scamem_strerror(-EINVAL), scamem_strerror(EINVAL)) == 0);
}

int main(void)
{
	scamem_machine *m = NULL;
	test_null();
	test_descriptions();
	test_strerror();
	EXPECT_OK(scamem_machine_new_default(&m));
	if (!m)
		return finish(NULL, "t_misuse");
	test_null_outputs(m);
	test_bad_arguments(m);
	test_double_free(m);
	return finish(m, "t_misuse");
}
