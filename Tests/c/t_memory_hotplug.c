/* Memory blocks and hotplug (0.2) under each placement strategy:
 * add_memory(), online_pages() into a zone whose span then overlaps
 * another's, offline_pages() migrating folios to another node and refusing
 * (-EBUSY) while a scamem page or a pin holds the block, remove_memory();
 * every entry point's bad input answered with an errno. */
#include "test.h"

#define PAGE SCAMEM_PAGE_SIZE
#define BLOCK 0x400ull /* 1024-page sections: 4 MiB memory blocks */
#define CLEAN(m) EXPECT(scamem_machine_check(m, print_issue, NULL) == 0)

/* Node 0: DMA [0, 0x200), DMA32 [0x200, 0x2000); node 1: NORMAL
 * [0x2000, 0x4000), MOVABLE [0x4000, 0x6000) whose upper half is a hole;
 * node 0: NORMAL [0x6000, 0x6800), all hole. */
static const struct scamem_zone_span zones[] = {
	{ 0, SCAMEM_ZONE_DMA, 0, 0x200 },
	{ 0, SCAMEM_ZONE_DMA32, 0x200, 0x1e00 },
	{ 1, SCAMEM_ZONE_NORMAL, 0x2000, 0x2000 },
	{ 1, SCAMEM_ZONE_MOVABLE, 0x4000, 0x2000 },
	{ 0, SCAMEM_ZONE_NORMAL, 0x6000, 0x800 },
};
static const struct scamem_pfn_range holes[] = { { 0x5000, 0x1800 } };

static scamem_machine *machine(uint32_t strategy)
{
	struct scamem_machine_desc d = {
		.size = sizeof d,
		.nr_nodes = 2,
		.profile = { sizeof(struct scamem_profile), 10, 3, 22, 46, 1 },
		.zones = zones,
		.holes = holes,
		.nr_zones = sizeof zones / sizeof zones[0],
		.nr_holes = 1,
		.strategy = strategy,
	};
	scamem_machine *m = NULL;
	EXPECT_OK(scamem_machine_new(&d, &m));
	return m;
}

static struct scamem_zone_info zone_of(scamem_machine *m, uint32_t nid, uint32_t zone)
{
	struct scamem_machine_info info;
	struct scamem_zone_info z = { 0 };
	EXPECT_OK(scamem_machine_info(m, &info));
	for (uint32_t i = 0; i < info.nr_zones; i++) {
		EXPECT_OK(scamem_machine_zone(m, i, &z));
		if (z.nid == nid && z.zone == zone)
			return z;
	}
	EXPECT(0);
	return z;
}

static uint64_t word_at(scamem_machine *m, uint64_t pfn)
{
	const uint64_t *w = NULL;
	uint64_t nr = 0;
	EXPECT_OK(scamem_machine_words(m, &w, &nr));
	return w && pfn < nr ? w[pfn] : 0;
}

static struct scamem_memory_block block_of(scamem_machine *m, uint64_t pfn)
{
	struct scamem_memory_block b = { .size = sizeof b };
	EXPECT_OK(scamem_memory_block_info(m, pfn, &b));
	return b;
}

static void bad_input(void)
{
	uint64_t bytes = 0;
	struct scamem_memory_block b = { .size = sizeof b };
	EXPECT_ERR(scamem_memory_block_size_bytes(NULL, &bytes), -EINVAL);
	EXPECT_ERR(scamem_memory_block_info(NULL, 0, &b), -EINVAL);
	EXPECT_ERR(scamem_add_memory(NULL, 0, 0, BLOCK), -EINVAL);
	EXPECT_ERR(scamem_online_pages(NULL, 0, BLOCK, SCAMEM_ZONE_NORMAL), -EINVAL);
	EXPECT_ERR(scamem_offline_pages(NULL, 0, BLOCK), -EINVAL);
	EXPECT_ERR(scamem_remove_memory(NULL, 0, BLOCK), -EINVAL);

	scamem_machine *m = machine(0);
	if (!m)
		return;
	EXPECT_ERR(scamem_memory_block_size_bytes(m, NULL), -EINVAL);
	EXPECT_ERR(scamem_memory_block_info(m, 0, NULL), -EINVAL);
	b.size = 8;
	EXPECT_ERR(scamem_memory_block_info(m, 0, &b), -EINVAL);
	b.size = 4097;
	EXPECT_ERR(scamem_memory_block_info(m, 0, &b), -EINVAL);
	b.size = sizeof b;
	EXPECT_ERR(scamem_memory_block_info(m, 0x6800, &b), -ERANGE);
	EXPECT_ERR(scamem_memory_block_info(m, UINT64_MAX, &b), -ERANGE);
	/* An older caller's 16-byte struct gets its first 16 bytes. */
	struct scamem_memory_block small = { .size = 16 };
	EXPECT_OK(scamem_memory_block_info(m, 0x2000, &small));
	EXPECT(small.size == 16 && small.id == 8 && small.start_pfn == 0x2000 && small.nr_pages == 0);

	EXPECT_ERR(scamem_add_memory(m, 2, 0x5000, BLOCK), -EINVAL);         /* no such node */
	EXPECT_ERR(scamem_add_memory(m, UINT32_MAX, 0x5000, BLOCK), -EINVAL);
	EXPECT_ERR(scamem_add_memory(m, 1, 0x5100, BLOCK), -EINVAL);         /* not a block */
	EXPECT_ERR(scamem_add_memory(m, 1, 0x5000, 0), -EINVAL);
	EXPECT_ERR(scamem_add_memory(m, 1, 0x6800, BLOCK), -EINVAL);         /* beyond end_pfn */
	EXPECT_ERR(scamem_add_memory(m, 1, UINT64_MAX - 0x3ff, BLOCK), -EINVAL);
	EXPECT_ERR(scamem_add_memory(m, 1, 0x5000, UINT64_MAX - 0x3ff), -EINVAL);
	EXPECT_ERR(scamem_add_memory(m, 1, 0x4c00, 2 * BLOCK), -EEXIST);     /* 0x4c00 is there */
	EXPECT_ERR(scamem_online_pages(m, 0x5000, BLOCK, SCAMEM_ZONE_MOVABLE), -EINVAL); /* absent */
	EXPECT_ERR(scamem_online_pages(m, 0x2000, BLOCK, SCAMEM_ZONE_NORMAL), -EINVAL);  /* online */
	EXPECT_OK(scamem_add_memory(m, 1, 0x5000, BLOCK));
	uint32_t bad_zones[] = { SCAMEM_ZONE_DMA, SCAMEM_ZONE_DMA32, SCAMEM_ZONE_DEVICE, 5, UINT32_MAX };
	for (size_t i = 0; i < sizeof bad_zones / sizeof bad_zones[0]; i++)
		EXPECT_ERR(scamem_online_pages(m, 0x5000, BLOCK, bad_zones[i]), -EINVAL);
	EXPECT_ERR(scamem_offline_pages(m, 0x5000, BLOCK), -EINVAL);          /* offline already */
	EXPECT_ERR(scamem_offline_pages(m, 0, BLOCK), -EINVAL);               /* DMA and DMA32 */
	EXPECT_ERR(scamem_offline_pages(m, 0x3c00, 2 * BLOCK), -EINVAL);      /* two zones */
	EXPECT_ERR(scamem_offline_pages(m, 0x2000, 0x200), -EINVAL);
	EXPECT_ERR(scamem_offline_pages(m, UINT64_MAX - 0x3ff, BLOCK), -EINVAL);
	EXPECT_ERR(scamem_remove_memory(m, 0x2000, BLOCK), -EBUSY);           /* online */
	EXPECT_ERR(scamem_remove_memory(m, 0x5400, BLOCK), -EINVAL);          /* absent */
	EXPECT_ERR(scamem_remove_memory(m, 0x5000, 3), -EINVAL);
	CLEAN(m);
	scamem_machine_free(m);

	/* The description's memory_block_size_order. */
	struct scamem_machine_desc d;
	scamem_machine_desc_default(&d);
	d.memory_block_size_order = 31;
	EXPECT_OK(scamem_machine_new(&d, &m));
	if (m) {
		EXPECT_OK(scamem_memory_block_size_bytes(m, &bytes));
		EXPECT(bytes == 2ull << 30);
		scamem_machine_free(m);
	}
}

static void hotplug(uint32_t strategy)
{
	scamem_machine *m = machine(strategy);
	if (!m)
		return;
	uint64_t bytes = 0;
	EXPECT_OK(scamem_memory_block_size_bytes(m, &bytes));
	EXPECT(bytes == BLOCK * PAGE);
	struct scamem_memory_block b = block_of(m, 0x100);
	EXPECT(b.id == 0 && b.state == SCAMEM_MEM_ONLINE && b.nid == 0 && b.zone == -1); /* two zones */
	b = block_of(m, 0x4000);
	EXPECT(b.state == SCAMEM_MEM_ONLINE && b.nid == 1 && b.zone == SCAMEM_ZONE_MOVABLE);
	b = block_of(m, 0x5000);
	EXPECT(b.id == 20 && b.state == SCAMEM_MEM_ABSENT && b.nid == -1 && b.zone == -1);
	EXPECT(scamem_word_is_nopage(word_at(m, 0x5000)));

	/* Hot-add into MOVABLE's hole, online it to node 1's NORMAL: NORMAL's
	 * span now holds MOVABLE's block [0x4000, 0x5000). */
	struct scamem_zone_info normal0 = zone_of(m, 1, SCAMEM_ZONE_NORMAL);
	EXPECT_OK(scamem_add_memory(m, 1, 0x5000, BLOCK));
	b = block_of(m, 0x5000);
	EXPECT(b.state == SCAMEM_MEM_OFFLINE && b.nid == 1 && b.zone == -1);
	EXPECT_ERR(scamem_page_to_nid(m, 0x5000), -ENXIO);
	EXPECT_ERR(scamem_add_memory(m, 1, 0x5000, BLOCK), -EEXIST);
	CLEAN(m);
	EXPECT_OK(scamem_online_pages(m, 0x5000, BLOCK, SCAMEM_ZONE_NORMAL));
	struct scamem_zone_info normal = zone_of(m, 1, SCAMEM_ZONE_NORMAL);
	struct scamem_zone_info movable = zone_of(m, 1, SCAMEM_ZONE_MOVABLE);
	EXPECT(normal.start_pfn == 0x2000 && normal.spanned_pages == 0x3400);
	EXPECT(movable.start_pfn < normal.start_pfn + normal.spanned_pages &&
	       normal.start_pfn < movable.start_pfn + movable.spanned_pages);
	EXPECT(normal.present_pages == normal0.present_pages + BLOCK && normal.free_pages == normal0.free_pages + BLOCK);
	EXPECT(scamem_page_zonenum(m, 0x5000) == SCAMEM_ZONE_NORMAL && scamem_page_zonenum(m, 0x4fff) == SCAMEM_ZONE_MOVABLE);
	EXPECT(block_of(m, 0x5000).zone == SCAMEM_ZONE_NORMAL);
	CLEAN(m);

	/* A scamem in node 0's NORMAL, which has only what is onlined into it. */
	EXPECT_OK(scamem_add_memory(m, 0, 0x6000, BLOCK));
	EXPECT_OK(scamem_online_pages(m, 0x6000, BLOCK, SCAMEM_ZONE_NORMAL));
	uint64_t k = 0;
	EXPECT_OK(scamem_vmalloc_node(m, 8 * PAGE, 0, &k));
	int64_t p = scamem_vmalloc_to_pfn(m, k);
	EXPECT(p >= 0x6000 && p < 0x6400);
	EXPECT(scamem_page_to_nid(m, (uint64_t)p) == 0 && scamem_page_zonenum(m, (uint64_t)p) == SCAMEM_ZONE_NORMAL);
	EXPECT_ERR(scamem_offline_pages(m, 0x6000, BLOCK), -EBUSY); /* an unmovable page */
	EXPECT(zone_of(m, 0, SCAMEM_ZONE_NORMAL).free_pages == BLOCK - 8);
	CLEAN(m);
	EXPECT_OK(scamem_vfree(m, k));
	EXPECT_OK(scamem_offline_pages(m, 0x6000, BLOCK));
	EXPECT(zone_of(m, 0, SCAMEM_ZONE_NORMAL).spanned_pages == 0);
	CLEAN(m);

	/* Anon folios in node 1's MOVABLE block 0x4000: a pin keeps it online,
	 * then offlining moves them to node 0. */
	EXPECT_OK(scamem_machine_set_local_node(m, 1));
	struct scamem_mm *mm = NULL;
	EXPECT_OK(scamem_mm_new(m, &mm));
	uint64_t a = 0, pfn = 0;
	EXPECT_OK(scamem_mmap(m, mm, 0, 4 * PAGE, SCAMEM_MAP_PRIVATE | SCAMEM_MAP_ANONYMOUS, &a));
	for (int i = 0; i < 4; i++) {
		EXPECT_OK(scamem_handle_mm_fault(m, mm, a + (uint64_t)i * PAGE, &pfn));
		EXPECT(pfn >= 0x4000 && pfn < 0x4400);
	}
	uint64_t pinned = 0;
	EXPECT(scamem_pin_user_pages(m, mm, a, 1, SCAMEM_FOLL_WRITE, &pinned) == 1);
	EXPECT_ERR(scamem_offline_pages(m, 0x4000, BLOCK), -EBUSY);
	EXPECT(zone_of(m, 1, SCAMEM_ZONE_MOVABLE).present_pages == 0x1000);
	CLEAN(m);
	EXPECT_OK(scamem_unpin_user_page(m, pinned));
	EXPECT_OK(scamem_offline_pages(m, 0x4000, BLOCK));
	for (int i = 0; i < 4; i++) {
		EXPECT_OK(scamem_handle_mm_fault(m, mm, a + (uint64_t)i * PAGE, &pfn));
		EXPECT(scamem_page_to_nid(m, pfn) == 0 && scamem_page_zonenum(m, pfn) == SCAMEM_ZONE_DMA32);
	}
	EXPECT(zone_of(m, 1, SCAMEM_ZONE_MOVABLE).start_pfn == 0x4400);
	EXPECT(block_of(m, 0x4000).state == SCAMEM_MEM_OFFLINE);
	CLEAN(m);
	EXPECT_OK(scamem_mm_exit(m, mm));

	/* remove_memory(): back to no memmap. */
	EXPECT_OK(scamem_offline_pages(m, 0x5000, BLOCK));
	EXPECT_OK(scamem_remove_memory(m, 0x5000, BLOCK));
	EXPECT(scamem_word_is_nopage(word_at(m, 0x5000)));
	EXPECT(block_of(m, 0x5000).state == SCAMEM_MEM_ABSENT);
	struct scamem_zone_info after = zone_of(m, 1, SCAMEM_ZONE_NORMAL);
	EXPECT(after.spanned_pages == 0x2000 && after.free_pages == normal0.free_pages);
	CLEAN(m);
	scamem_machine_free(m);
}

int main(void)
{
	bad_input();
	for (uint32_t s = 1; s <= SCAMEM_NR_STRATEGIES; s++)
		hotplug(s);
	return finish(NULL, "t_memory_hotplug");
}
