/* The page allocator's policy (since 0.2): gfp_t at the kernel's values,
 * watermarks and lowmem_reserve as the kernel computes them (checked against
 * a real kernel's /proc/zoneinfo), migratetypes and pageblocks,
 * alloc_pages_bulk(), and the sysctls, with bad input for each call. */
#include "test.h"

/* gfp_types.h's values, 6.12 x86_64. */
_Static_assert(SCAMEM_GFP_KERNEL == 0xcc0u, "GFP_KERNEL");
_Static_assert(SCAMEM_GFP_ATOMIC == 0x820u, "GFP_ATOMIC");
_Static_assert(SCAMEM_GFP_HIGHUSER_MOVABLE == 0x100ccau, "GFP_HIGHUSER_MOVABLE");
_Static_assert(SCAMEM_GFP_THISNODE == 0x200000u, "__GFP_THISNODE");
_Static_assert(SCAMEM_GFP_ZERO == 0x100u, "__GFP_ZERO");
_Static_assert(SCAMEM_GFP_NOFAIL == 0x8000u, "__GFP_NOFAIL");

static scamem_machine *machine(const struct scamem_zone_span *zones, uint32_t nr_zones, uint32_t nr_nodes)
{
	struct scamem_machine_desc d;
	scamem_machine_desc_default(&d);
	d.nr_nodes = nr_nodes;
	d.zones = zones;
	d.nr_zones = nr_zones;
	d.nr_holes = 0; /* the default machine's holes and reserved ranges are not these zones' */
	d.nr_reserved = 0;
	scamem_machine *m = NULL;
	EXPECT_OK(scamem_machine_new(&d, &m));
	return m;
}

static struct scamem_zone_watermarks wmarks(scamem_machine *m, uint32_t index)
{
	struct scamem_zone_watermarks w;
	memset(&w, 0, sizeof w);
	w.size = sizeof w;
	EXPECT_OK(scamem_machine_zone_watermarks(m, index, &w));
	return w;
}

static struct scamem_zone_info zone(scamem_machine *m, uint32_t index)
{
	struct scamem_zone_info z;
	EXPECT_OK(scamem_machine_zone(m, index, &z));
	return z;
}

/* Zones with the managed pages of Tests/Fixtures/vm-24g-idle/zoneinfo (kernel
 * 6.18, THP on): its min/low/high and protection are the oracle. */
static void test_watermarks_match_a_real_kernel(void)
{
	struct scamem_zone_span zones[] = {
		{ 0, SCAMEM_ZONE_DMA, 0, 3840 },
		{ 0, SCAMEM_ZONE_DMA32, 4096, 772917 },
		{ 0, SCAMEM_ZONE_NORMAL, 1048576, 786432 },
	};
	scamem_machine *m = machine(zones, 3, 1);
	const uint64_t want[3][3] = { { 41, 51, 61 }, { 8354, 10442, 12530 }, { 8500, 10625, 12750 } };
	const uint64_t protection[3][5] = { { 0, 3019, 6091, 6091, 6091 }, { 0, 0, 3072, 3072, 3072 }, { 0 } };
	for (uint32_t i = 0; i < 3; i++) {
		struct scamem_zone_watermarks w = wmarks(m, i);
		EXPECT(w.min_free_kbytes == 67584); /* khugepaged: 512 * 3 * (2 + 9) pages */
		EXPECT(w.wmark_min == want[i][0] && w.wmark_low == want[i][1] && w.wmark_high == want[i][2]);
		/* zoneinfo prints lowmem_reserve of the zones above as their running sum. */
		for (int j = 0; j < 3; j++) EXPECT(w.lowmem_reserve[j] == protection[i][j]);
		EXPECT(w.nr_free_cma == 0 && w.nr_free_isolated == 0);
	}
	finish(m, "watermarks match a real kernel");
}

/* Node 0: DMA [0, 0x1000), NORMAL [0x1000, 0x9000). */
static scamem_machine *two_zones(void)
{
	struct scamem_zone_span zones[] = {
		{ 0, SCAMEM_ZONE_DMA, 0, 0x1000 },
		{ 0, SCAMEM_ZONE_NORMAL, 0x1000, 0x8000 },
	};
	return machine(zones, 2, 1);
}

/* GFP_KERNEL stops at each zone's min watermark plus lowmem_reserve; GFP_ATOMIC
 * goes below min; __GFP_MEMALLOC takes the rest; GFP_DMA keeps no reserve
 * for itself. */
static void test_watermarks_and_reserves(void)
{
	scamem_machine *m = two_zones();
	struct scamem_zone_watermarks dma = wmarks(m, 0), normal = wmarks(m, 1);
	EXPECT(dma.lowmem_reserve[SCAMEM_ZONE_NORMAL] == 0x8000 / 256);
	EXPECT(normal.wmark_min > 0 && normal.wmark_low > normal.wmark_min);
	uint64_t pfn, n = 0;
	while (scamem_alloc_pages(m, SCAMEM_GFP_KERNEL, 0, -1, &pfn) == 0) n++;
	struct scamem_zone_info zd = zone(m, 0), zn = zone(m, 1);
	/* The slow path's last page leaves free == min; DMA keeps min + reserve. */
	EXPECT(zn.free_pages == normal.wmark_min);
	EXPECT(zd.free_pages == dma.wmark_min + dma.lowmem_reserve[SCAMEM_ZONE_NORMAL]);
	EXPECT(n == 0x1000 + 0x8000 - zn.free_pages - zd.free_pages);
	/* GFP_ATOMIC: __GFP_HIGH without direct reclaim, min - min/2 - (min - min/2)/4. */
	uint64_t half = normal.wmark_min - normal.wmark_min / 2, atomic_min = half - half / 4;
	while (scamem_alloc_pages(m, SCAMEM_GFP_ATOMIC, 0, -1, &pfn) == 0) {}
	EXPECT(zone(m, 1).free_pages == atomic_min);
	/* GFP_DMA: DMA is the highest zone, no reserve applies; the min does. */
	while (scamem_alloc_pages(m, SCAMEM_GFP_DMA, 0, -1, &pfn) == 0) {}
	EXPECT(zone(m, 0).free_pages == dma.wmark_min);
	/* __GFP_MEMALLOC ignores watermarks; __GFP_NOMEMALLOC takes that back. */
	EXPECT_ERR(scamem_alloc_pages(m, SCAMEM_GFP_KERNEL | SCAMEM_GFP_MEMALLOC | SCAMEM_GFP_NOMEMALLOC, 0, -1, &pfn),
		   -ENOMEM);
	while (scamem_alloc_pages(m, SCAMEM_GFP_KERNEL | SCAMEM_GFP_MEMALLOC, 0, -1, &pfn) == 0) {}
	EXPECT(zone(m, 0).free_pages == 0 && zone(m, 1).free_pages == 0);
	/* Nothing was freed: the checker still sees a consistent machine. */
	finish(m, "watermarks and lowmem_reserve");
}

static void test_gfp_zones_and_bad_gfp(void)
{
	struct scamem_zone_span zones[] = {
		{ 0, SCAMEM_ZONE_DMA, 0, 0x1000 },
		{ 0, SCAMEM_ZONE_NORMAL, 0x1000, 0x4000 },
		{ 0, SCAMEM_ZONE_MOVABLE, 0x5000, 0x4000 },
	};
	scamem_machine *m = machine(zones, 3, 1);
	uint64_t pfn;
	EXPECT_OK(scamem_alloc_pages(m, SCAMEM_GFP_MOVABLE, 0, -1, &pfn)); /* GFP_ZONE_TABLE: NORMAL */
	EXPECT(scamem_page_zonenum(m, pfn) == SCAMEM_ZONE_NORMAL);
	EXPECT_OK(scamem_alloc_pages(m, SCAMEM_GFP_HIGHUSER_MOVABLE, 0, -1, &pfn));
	EXPECT(scamem_page_zonenum(m, pfn) == SCAMEM_ZONE_MOVABLE);
	EXPECT(scamem_pageblock_migratetype(m, pfn) == SCAMEM_MIGRATE_MOVABLE);
	EXPECT_OK(scamem_alloc_pages(m, SCAMEM_GFP_HIGHUSER, 0, -1, &pfn)); /* no highmem: NORMAL */
	EXPECT(scamem_page_zonenum(m, pfn) == SCAMEM_ZONE_NORMAL);
	EXPECT_OK(scamem_alloc_pages(m, SCAMEM_GFP_DMA | SCAMEM_GFP_MOVABLE, 0, -1, &pfn));
	EXPECT(scamem_page_zonenum(m, pfn) == SCAMEM_ZONE_DMA);
	/* GFP_ZONE_BAD, MOVABLE|RECLAIMABLE, the unused bit, bits past __GFP_BITS_SHIFT. */
	const uint32_t bad[] = { SCAMEM_GFP_DMA | SCAMEM_GFP_HIGHMEM, SCAMEM_GFP_DMA | SCAMEM_GFP_DMA32,
				 SCAMEM_GFP_DMA32 | SCAMEM_GFP_HIGHMEM | SCAMEM_GFP_MOVABLE,
				 SCAMEM_GFP_MOVABLE | SCAMEM_GFP_RECLAIMABLE, 0x200, 1u << 25, 1u << 31 };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		EXPECT_ERR(scamem_alloc_pages(m, bad[i], 0, -1, &pfn), -EINVAL);
		EXPECT_ERR(scamem_folio_alloc(m, SCAMEM_TYPE_ANON, bad[i], 0, -1, &pfn), -EINVAL);
		uint64_t slots[4] = { SCAMEM_PFN_NONE, SCAMEM_PFN_NONE, SCAMEM_PFN_NONE, SCAMEM_PFN_NONE };
		EXPECT_ERR(scamem_alloc_pages_bulk(m, bad[i], -1, 4, slots), -EINVAL);
	}
	finish(m, "gfp zones and bad gfp");
}

/* A kernel allocation claims MOVABLE pageblocks (every pageblock starts
 * MOVABLE): the largest free block, order 10, so both its pageblocks
 * (try_to_steal_block(): change_pageblock_range()); movable ones stay out. */
static void test_migratetypes(void)
{
	scamem_machine *m = two_zones();
	uint64_t k, u;
	EXPECT_OK(scamem_alloc_pages(m, SCAMEM_GFP_KERNEL, 0, -1, &k));
	EXPECT(scamem_pageblock_migratetype(m, k) == SCAMEM_MIGRATE_UNMOVABLE);
	EXPECT_OK(scamem_alloc_pages(m, SCAMEM_GFP_HIGHUSER_MOVABLE, 0, -1, &u));
	EXPECT(scamem_pageblock_migratetype(m, u) == SCAMEM_MIGRATE_MOVABLE);
	EXPECT(k >> SCAMEM_PAGEBLOCK_ORDER != u >> SCAMEM_PAGEBLOCK_ORDER);
	struct scamem_zone_pagetypeinfo p;
	memset(&p, 0, sizeof p);
	p.size = sizeof p;
	EXPECT_OK(scamem_machine_zone_pagetypeinfo(m, 1, &p));
	EXPECT(k == 0x1000);
	EXPECT(p.nr_pageblocks[SCAMEM_MIGRATE_UNMOVABLE] == 2);
	EXPECT(p.nr_pageblocks[SCAMEM_MIGRATE_MOVABLE] == 0x8000 / 512 - 2);
	struct scamem_zone_info z = zone(m, 1);
	for (int o = 0; o < SCAMEM_NR_PAGE_ORDERS; o++) {
		uint64_t sum = 0;
		for (int t = 0; t < SCAMEM_MIGRATE_TYPES; t++) sum += p.nr_free[o][t];
		EXPECT(sum == z.nr_free[o]);
	}
	/* Freed, the page merges back and the block stays UNMOVABLE until claimed. */
	EXPECT_OK(scamem_free_pages(m, k, 0));
	EXPECT_OK(scamem_free_pages(m, u, 0));
	EXPECT(scamem_pageblock_migratetype(m, k) == SCAMEM_MIGRATE_UNMOVABLE);
	EXPECT_ERR(scamem_pageblock_migratetype(NULL, 0), -EINVAL);
	EXPECT_ERR(scamem_pageblock_migratetype(m, 0x9000), -ERANGE);
	EXPECT_ERR(scamem_pageblock_migratetype(m, UINT64_MAX), -ERANGE);
	finish(m, "migratetypes and pageblocks");
}

static void test_bulk(void)
{
	scamem_machine *m = two_zones();
	uint64_t pfns[8];
	for (int i = 0; i < 8; i++) pfns[i] = SCAMEM_PFN_NONE;
	uint64_t keep;
	EXPECT_OK(scamem_alloc_pages(m, SCAMEM_GFP_KERNEL, 0, -1, &keep));
	pfns[3] = keep; /* a filled slot is skipped, as page_array[i] != NULL */
	EXPECT(scamem_alloc_pages_bulk(m, SCAMEM_GFP_KERNEL, -1, 8, pfns) == 8);
	for (int i = 0; i < 8; i++) {
		EXPECT(pfns[i] != SCAMEM_PFN_NONE);
		EXPECT(scamem_page_zonenum(m, pfns[i]) == SCAMEM_ZONE_NORMAL);
		for (int j = 0; j < i; j++) EXPECT(pfns[i] != pfns[j]);
	}
	EXPECT(scamem_alloc_pages_bulk(m, SCAMEM_GFP_KERNEL, -1, 8, pfns) == 8); /* all filled: nothing to do */
	for (int i = 0; i < 8; i++) EXPECT_OK(scamem_free_pages(m, pfns[i], 0));
	/* __GFP_ACCOUNT (memcg) and a single slot take the single-page path: one page. */
	for (int i = 0; i < 8; i++) pfns[i] = SCAMEM_PFN_NONE;
	EXPECT(scamem_alloc_pages_bulk(m, SCAMEM_GFP_KERNEL_ACCOUNT, -1, 8, pfns) == 1);
	EXPECT(pfns[1] == SCAMEM_PFN_NONE);
	EXPECT_OK(scamem_free_pages(m, pfns[0], 0));
	EXPECT(scamem_alloc_pages_bulk(m, SCAMEM_GFP_KERNEL, -1, 0, NULL) == 0);
	EXPECT_ERR(scamem_alloc_pages_bulk(NULL, SCAMEM_GFP_KERNEL, -1, 8, pfns), -EINVAL);
	EXPECT_ERR(scamem_alloc_pages_bulk(m, SCAMEM_GFP_KERNEL, -1, 8, NULL), -EINVAL);
	EXPECT_ERR(scamem_alloc_pages_bulk(m, SCAMEM_GFP_KERNEL, -1, UINT32_MAX, pfns), -EINVAL);
	EXPECT_ERR(scamem_alloc_pages_bulk(m, SCAMEM_GFP_KERNEL, 1, 8, pfns), -EINVAL);
	EXPECT_ERR(scamem_alloc_pages_bulk(m, SCAMEM_GFP_KERNEL, -2, 8, pfns), -EINVAL);
	/* Memory short: the kernel's count of what it could fill, never an error. */
	uint64_t *many = malloc(0x9000 * sizeof *many);
	for (int i = 0; i < 0x9000; i++) many[i] = SCAMEM_PFN_NONE;
	int got = 0;
	for (;;) {
		int r = scamem_alloc_pages_bulk(m, SCAMEM_GFP_KERNEL, -1, 100, many + got);
		EXPECT(r >= 0 && r <= 100);
		if (r <= 0 || got + r > 0x9000 - 100) break;
		got += r;
	}
	EXPECT(got > 0x8000 - 0x800);
	EXPECT(scamem_machine_check(m, NULL, NULL) == 0);
	for (int i = 0; i < got; i++) EXPECT_OK(scamem_free_pages(m, many[i], 0));
	free(many);
	finish(m, "alloc_pages_bulk");
}

static void test_sysctls_and_queries(void)
{
	scamem_machine *m = two_zones();
	struct scamem_zone_watermarks w = wmarks(m, 1);
	EXPECT_OK(scamem_sysctl_min_free_kbytes(m, 0));
	EXPECT(wmarks(m, 1).wmark_min == 0 && wmarks(m, 1).min_free_kbytes == 0);
	EXPECT_OK(scamem_sysctl_min_free_kbytes(m, (int32_t)w.min_free_kbytes));
	EXPECT(wmarks(m, 1).wmark_min == w.wmark_min);
	EXPECT_OK(scamem_sysctl_watermark_scale_factor(m, 3000));
	EXPECT(wmarks(m, 1).wmark_low - wmarks(m, 1).wmark_min == 0x8000 * 3000 / 10000);
	int32_t ratio[SCAMEM_MAX_NR_ZONES] = { 0, 256, 32, 0, 0 };
	EXPECT_OK(scamem_sysctl_lowmem_reserve_ratio(m, ratio));
	EXPECT(wmarks(m, 0).lowmem_reserve[SCAMEM_ZONE_NORMAL] == 0);
	ratio[0] = -5; /* below 1: no reserve, as the kernel's handler */
	EXPECT_OK(scamem_sysctl_lowmem_reserve_ratio(m, ratio));
	EXPECT_ERR(scamem_sysctl_min_free_kbytes(m, -1), -EINVAL);
	EXPECT_ERR(scamem_sysctl_min_free_kbytes(NULL, 0), -EINVAL);
	EXPECT_ERR(scamem_sysctl_watermark_scale_factor(m, 0), -EINVAL);
	EXPECT_ERR(scamem_sysctl_watermark_scale_factor(m, 3001), -EINVAL);
	EXPECT_ERR(scamem_sysctl_lowmem_reserve_ratio(m, NULL), -EINVAL);
	/* Size-first results: too small, too big, an older (shorter) and a newer (longer) caller. */
	struct scamem_zone_watermarks small;
	small.size = 8;
	EXPECT_ERR(scamem_machine_zone_watermarks(m, 0, &small), -EINVAL);
	small.size = 8192;
	EXPECT_ERR(scamem_machine_zone_watermarks(m, 0, &small), -EINVAL);
	EXPECT_ERR(scamem_machine_zone_watermarks(m, 0, NULL), -EINVAL);
	EXPECT_ERR(scamem_machine_zone_watermarks(m, 2, &w), -ENOENT);
	EXPECT_ERR(scamem_machine_zone_pagetypeinfo(m, 2, NULL), -EINVAL);
	struct { struct scamem_zone_watermarks w; uint64_t future[4]; } big;
	memset(&big, 0xff, sizeof big);
	big.w.size = sizeof big;
	EXPECT_OK(scamem_machine_zone_watermarks(m, 1, &big.w));
	EXPECT(big.w.size == sizeof big && big.w.reserved0 == 0 && big.future[3] == 0);
	EXPECT(big.w.wmark_min == wmarks(m, 1).wmark_min);
	memset(&big, 0xff, sizeof big);
	big.w.size = 24; /* size, reserved0, min_free_kbytes, wmark_min */
	EXPECT_OK(scamem_machine_zone_watermarks(m, 1, &big.w));
	EXPECT(big.w.size == 24 && big.w.min_free_kbytes == w.min_free_kbytes);
	EXPECT(big.w.wmark_min == wmarks(m, 1).wmark_min && big.w.wmark_low == UINT64_MAX);
	finish(m, "sysctls and size-first queries");
}

/* CMA areas through the description, a 0.1-sized description, bad areas. */
static void test_cma_desc(void)
{
	struct scamem_zone_span zones[] = { { 0, SCAMEM_ZONE_NORMAL, 0, 0x4000 } };
	struct scamem_pfn_range cma[] = { { 0x1000, 0x1000 } };
	struct scamem_machine_desc d;
	scamem_machine_desc_default(&d);
	d.nr_nodes = 1;
	d.zones = zones;
	d.nr_zones = 1;
	d.nr_holes = d.nr_reserved = 0;
	d.cma = cma;
	d.nr_cma = 1;
	scamem_machine *m = NULL;
	EXPECT_OK(scamem_machine_new(&d, &m));
	EXPECT(scamem_pageblock_migratetype(m, 0x1000) == SCAMEM_MIGRATE_CMA);
	EXPECT(scamem_pageblock_migratetype(m, 0x1fff) == SCAMEM_MIGRATE_CMA);
	EXPECT(scamem_pageblock_migratetype(m, 0x2000) == SCAMEM_MIGRATE_MOVABLE);
	EXPECT(wmarks(m, 0).nr_free_cma == 0x1000);
	uint64_t pfn;
	EXPECT_OK(scamem_alloc_pages(m, SCAMEM_GFP_KERNEL, SCAMEM_MAX_PAGE_ORDER, -1, &pfn));
	EXPECT(pfn < 0x1000 || pfn >= 0x2000);
	EXPECT_OK(scamem_free_pages(m, pfn, SCAMEM_MAX_PAGE_ORDER));
	finish(m, "CMA areas");
	m = NULL;
	d.size = 80; /* 0.1's struct: no CMA fields */
	EXPECT_OK(scamem_machine_new(&d, &m));
	EXPECT(scamem_pageblock_migratetype(m, 0x1000) == SCAMEM_MIGRATE_MOVABLE);
	scamem_machine_free(m);
	d.size = sizeof d;
	const struct scamem_pfn_range bad[][1] = { { { 0x1100, 0x200 } }, { { 0x1000, 0x100 } }, { { 0x3e00, 0x400 } },
						   { { 0x1000, 0 } } };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		d.cma = bad[i];
		m = NULL;
		EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL);
		EXPECT(m == NULL);
	}
	d.cma = NULL;
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL); /* nr_cma 1, no array */
	d.nr_cma = 0;
	d.memory_block_size_order = 26; /* below a section (27) */
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL);
	d.memory_block_size_order = 32; /* above 2 GiB */
	EXPECT_ERR(scamem_machine_new(&d, &m), -EINVAL);
}

int main(void)
{
	test_cma_desc();
	test_watermarks_match_a_real_kernel();
	test_watermarks_and_reserves();
	test_gfp_zones_and_bad_gfp();
	test_migratetypes();
	test_bulk();
	test_sysctls_and_queries();
	return test_failures ? 1 : 0;
}
