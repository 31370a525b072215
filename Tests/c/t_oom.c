/* Out of memory is a normal outcome: a small machine is filled until every
 * allocating call returns -ENOMEM, the state is checked, then everything is
 * released and every page must be back in the allocator. Under each strategy. */
#include "test.h"

#define PAGE 4096ull
#define MAX_HELD 8192

struct held {
	uint64_t pfn[MAX_HELD];
	uint32_t kind[MAX_HELD]; /* 0 pages (order in high bits), 1 folio, 2 slab, 3 ptdesc */
	int n;
	uint64_t areas[MAX_HELD];
	int nareas;
	struct scamem *objs[MAX_HELD];
	int nobjs;
};

static struct held h;

/* Node 0: DMA [0, 512) and NORMAL [512, 2048); node 1: NORMAL [2048, 3072). */
static scamem_machine *small_machine(uint32_t strategy)
{
	struct scamem_zone_span zones[] = {
		{ 0, SCAMEM_ZONE_DMA, 0, 512 },
		{ 0, SCAMEM_ZONE_NORMAL, 512, 1536 },
		{ 1, SCAMEM_ZONE_NORMAL, 2048, 1024 },
	};
	struct scamem_pfn_range holes[] = { { 100, 28 } }, reserved[] = { { 0, 1 } };
	struct scamem_machine_desc d;
	scamem_machine_desc_default(&d);
	d.nr_nodes = 2;
	d.zones = zones;
	d.nr_zones = 3;
	d.holes = holes;
	d.nr_holes = 1;
	d.reserved = reserved;
	d.nr_reserved = 1;
	d.strategy = strategy;
	scamem_machine *m = NULL;
	EXPECT_OK(scamem_machine_new(&d, &m));
	/* The lowest watermarks the sysctls allow: these zones (under 10,000
	 * pages) can then be emptied; t_page_alloc tests the watermarks. */
	int32_t no_reserve[SCAMEM_MAX_NR_ZONES] = { 0 };
	EXPECT_OK(scamem_sysctl_min_free_kbytes(m, 0));
	EXPECT_OK(scamem_sysctl_watermark_scale_factor(m, 1));
	EXPECT_OK(scamem_sysctl_lowmem_reserve_ratio(m, no_reserve));
	return m;
}

static void keep(uint64_t pfn, uint32_t kind)
{
	if (h.n < MAX_HELD) {
		h.pfn[h.n] = pfn;
		h.kind[h.n++] = kind;
	}
}

/* Gives back the last n order-0 blocks held, for the next allocator to take. */
static void give_back(scamem_machine *m, int n)
{
	while (n-- > 0 && h.n > 0 && h.kind[h.n - 1] == 0) {
		h.n--;
		EXPECT_OK(scamem_free_pages(m, h.pfn[h.n], 0));
	}
}

/* Every allocator, largest blocks first, until each says -ENOMEM. */
static void fill(scamem_machine *m)
{
	uint64_t pfn, addr;
	for (int order = 10; order >= 0; order--)
		while (h.n < MAX_HELD && scamem_alloc_pages(m, 0, (uint32_t)order, -1, &pfn) == 0)
			keep(pfn, (uint32_t)order << 8);
	/* vmalloc of 3 pages with fewer free fails and gives back what it took. */
	give_back(m, 64);
	while (h.nareas < MAX_HELD && scamem_vmalloc(m, 3 * PAGE, &addr) == 0)
		h.areas[h.nareas++] = addr;
	/* The descriptors, round robin, until all of them fail. */
	give_back(m, 64);
	for (int ok = 1; ok && h.n < MAX_HELD;) {
		ok = 0;
		if (scamem_folio_alloc(m, SCAMEM_TYPE_ANON, 0, 0, -1, &pfn) == 0) { keep(pfn, 1); ok = 1; }
		if (scamem_slab_alloc(m, 3, 128, 0, 0, -1, &pfn) == 0) { keep(pfn, 2); ok = 1; }
		if (scamem_ptdesc_alloc(m, 0, 0, -1, &pfn) == 0) { keep(pfn, 3); ok = 1; }
		if (h.nobjs < MAX_HELD && scamem_alloc(m, 1, 0, SCAMEM_POLICY_LOCAL, 0, &h.objs[h.nobjs]) == 0) {
			h.nobjs++;
			ok = 1;
		}
	}
	/* Now every allocating call is out of memory. */
	EXPECT_ERR(scamem_alloc_pages(m, 0, 0, -1, &pfn), -ENOMEM);
	EXPECT_ERR(scamem_alloc_pages(m, 0, 0, 1, &pfn), -ENOMEM);
	EXPECT_ERR(scamem_alloc_pages(m, SCAMEM_GFP_DMA, 0, 0, &pfn), -ENOMEM);
	EXPECT_ERR(scamem_folio_alloc(m, SCAMEM_TYPE_FILE, 0, 0, -1, &pfn), -ENOMEM);
	EXPECT_ERR(scamem_slab_alloc(m, 1, 64, 0, 0, -1, &pfn), -ENOMEM);
	EXPECT_ERR(scamem_ptdesc_alloc(m, 0, 0, -1, &pfn), -ENOMEM);
	EXPECT_ERR(scamem_vmalloc(m, PAGE, &addr), -ENOMEM);
	EXPECT_ERR(scamem_vmalloc_user(m, PAGE, &addr), -ENOMEM);
	EXPECT_ERR(scamem_vmalloc_node(m, PAGE, 1, &addr), -ENOMEM);
	struct scamem *s;
	EXPECT_ERR(scamem_alloc(m, 1, 0, SCAMEM_POLICY_INTERLEAVE, 0, &s), -ENOMEM);
	/* A fault needs a page too. */
	struct scamem_mm *mm;
	EXPECT_OK(scamem_mm_new(m, &mm));
	EXPECT_OK(scamem_mmap(m, mm, 0, 4 * PAGE, SCAMEM_MAP_PRIVATE | SCAMEM_MAP_ANONYMOUS, &addr));
	EXPECT_ERR(scamem_handle_mm_fault(m, mm, addr, &pfn), -ENOMEM);
	EXPECT(scamem_pin_user_pages(m, mm, addr, 1, SCAMEM_FOLL_WRITE, &pfn) == -ENOMEM);
	EXPECT_OK(scamem_mm_exit(m, mm));

	struct scamem_machine_info info;
	EXPECT_OK(scamem_machine_info(m, &info));
	EXPECT(info.free_pages == 0);
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
}

static void drain(scamem_machine *m)
{
	for (int i = h.n - 1; i >= 0; i--) {
		switch (h.kind[i] & 0xff) {
		case 0: EXPECT_OK(scamem_free_pages(m, h.pfn[i], h.kind[i] >> 8)); break;
		case 1: EXPECT(scamem_folio_put(m, h.pfn[i]) == 0); break;
		case 2: EXPECT_OK(scamem_slab_free(m, h.pfn[i])); break;
		case 3: EXPECT_OK(scamem_ptdesc_free(m, h.pfn[i])); break;
		}
	}
	for (int i = 0; i < h.nareas; i++)
		EXPECT_OK(scamem_vfree(m, h.areas[i]));
	for (int i = 0; i < h.nobjs; i++)
		EXPECT(scamem_put(m, h.objs[i]) == 0);
	memset(&h, 0, sizeof h);
}

int main(void)
{
	for (uint32_t strategy = 1; strategy <= SCAMEM_NR_STRATEGIES; strategy++) {
		scamem_machine *m = small_machine(strategy);
		if (!m)
			break;
		struct scamem_machine_info before, after;
		EXPECT_OK(scamem_machine_info(m, &before));
		fill(m);
		drain(m);
		EXPECT_OK(scamem_machine_info(m, &after));
		EXPECT(after.free_pages == before.free_pages && after.free_pages == after.managed_pages);
		EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
		/* Filled a second time, the machine behaves the same. */
		fill(m);
		drain(m);
		EXPECT_OK(scamem_machine_info(m, &after));
		EXPECT(after.free_pages == before.free_pages);
		if (strategy < SCAMEM_NR_STRATEGIES)
			scamem_machine_free(m);
		else
			return finish(m, "t_oom");
	}
	return finish(NULL, "t_oom");
}
