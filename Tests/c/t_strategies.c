/* The five placement strategies from C: the same scenario under each, what
 * each keeps alive, what each costs, and the comparison. */
#include "test.h"

#define PAGE SCAMEM_PAGE_SIZE

static int is_free(scamem_machine *m, uint64_t pfn)
{
	struct scamem_page_info pi;
	return scamem_page_info(m, pfn, &pi) == 0 && pi.type == SCAMEM_TYPE_BUDDY;
}

/* The default machine under strategy, or NULL (counted as a failure). */
static scamem_machine *default_machine(uint32_t strategy)
{
	struct scamem_machine_desc d;
	scamem_machine_desc_default(&d);
	d.strategy = strategy;
	scamem_machine *m = NULL;
	EXPECT_OK(scamem_machine_new(&d, &m));
	return m;
}

/* vmalloc_user, map, pin page 0, vfree, exit, then unpin. */
static void scenario(uint32_t strategy)
{
	scamem_machine *m = default_machine(strategy);
	if (!m)
		return;
	struct scamem_machine_info info;
	EXPECT_OK(scamem_machine_info(m, &info));
	EXPECT(info.strategy == strategy);

	struct scamem_mm *mm;
	uint64_t k, u, pinned, pfn[3];
	EXPECT_OK(scamem_vmalloc_user(m, 3 * PAGE, &k));
	EXPECT_OK(scamem_mm_new(m, &mm));
	EXPECT_OK(scamem_mmap(m, mm, 0, 3 * PAGE, SCAMEM_MAP_SHARED, &u));
	EXPECT_OK(scamem_remap_vmalloc_range(m, mm, u, k, 0));
	for (int i = 0; i < 3; i++) {
		pfn[i] = (uint64_t)scamem_vmalloc_to_pfn(m, k + (uint64_t)i * PAGE);
		/* Every strategy answers page_to_nid alike. */
		EXPECT(scamem_page_to_nid(m, pfn[i]) == 0 && scamem_page_zonenum(m, pfn[i]) == SCAMEM_ZONE_NORMAL);
	}
	const uint64_t *w;
	uint64_t nr;
	scamem_machine_words(m, &w, &nr);
	int pointer = strategy == SCAMEM_STRATEGY_PFN_LOOKUP || strategy == SCAMEM_STRATEGY_FLAGS_ARRAY ||
		      strategy == SCAMEM_STRATEGY_PACKED;
	EXPECT(scamem_word_type(w[pfn[0]]) == (pointer ? SCAMEM_TYPE_SCAMEM : SCAMEM_TYPE_MISC));
	if (!pointer) {
		EXPECT(scamem_word_subtype(w[pfn[0]]) == SCAMEM_MISC_VMALLOC && scamem_word_usermap(w[pfn[0]]));
	}
	EXPECT(scamem_pin_user_pages(m, mm, u, 1, SCAMEM_FOLL_LONGTERM, &pinned) == 1);
	EXPECT(pinned == pfn[0]);
	struct scamem_strategy_cost c;
	EXPECT_OK(scamem_machine_strategy_cost(m, &c));
	EXPECT(c.bytes_per_page == (strategy == SCAMEM_STRATEGY_LEGACY ? 64u : 8u));
	EXPECT(c.object_bytes > 0);
	/* VMA_PRIVATE's reverse map, PACKED's index table, PFN_LOOKUP's
	 * pfn-to-zone table (the memory blocks' zones). */
	EXPECT((c.extra_bytes > 0) == (strategy == SCAMEM_STRATEGY_VMA_PRIVATE || strategy == SCAMEM_STRATEGY_PACKED ||
				       strategy == SCAMEM_STRATEGY_PFN_LOOKUP));
	uint64_t table = strategy == SCAMEM_STRATEGY_PFN_LOOKUP ? c.extra_bytes : 0;

	EXPECT_OK(scamem_vfree(m, k));
	EXPECT_OK(scamem_mm_exit(m, mm));
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
	/* The pin keeps its page; whole-object strategies keep the others too. */
	EXPECT(!is_free(m, pfn[0]));
	EXPECT(is_free(m, pfn[1]) == (strategy == SCAMEM_STRATEGY_LEGACY));
	EXPECT(scamem_folio_maybe_dma_pinned(m, pfn[0]) == 1);
	EXPECT_ERR(scamem_put_page(m, pinned), -EINVAL);
	EXPECT_OK(scamem_unpin_user_page(m, pinned));
	EXPECT_ERR(scamem_unpin_user_page(m, pinned), -EALREADY);
	for (int i = 0; i < 3; i++)
		EXPECT(is_free(m, pfn[i]));
	EXPECT_OK(scamem_machine_strategy_cost(m, &c));
	EXPECT(c.object_bytes == 0 && c.extra_bytes == table);
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
	scamem_machine_free(m);
}

static void packed_bound(void)
{
	struct scamem_machine_desc d;
	scamem_machine_desc_default(&d);
	d.strategy = SCAMEM_STRATEGY_PACKED;
	d.packed_index_bits = 2;
	scamem_machine *m = NULL;
	EXPECT_OK(scamem_machine_new(&d, &m));
	if (!m)
		return;
	uint64_t a[4], extra;
	for (int i = 0; i < 4; i++)
		EXPECT_OK(scamem_vmalloc(m, PAGE, &a[i]));
	EXPECT_ERR(scamem_vmalloc(m, PAGE, &extra), -ENOSPC);
	struct scamem *s;
	EXPECT_ERR(scamem_alloc(m, 1, 0, 0, 0, &s), -ENOSPC);
	EXPECT_OK(scamem_vfree(m, a[0]));
	EXPECT_OK(scamem_vmalloc(m, PAGE, &a[0]));
	for (int i = 0; i < 4; i++)
		EXPECT_OK(scamem_vfree(m, a[i]));
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
	scamem_machine_free(m);
}

static void compare(void)
{
	struct scamem_compare_row rows[SCAMEM_NR_STRATEGIES + 1];
	memset(rows, 0, sizeof rows);
	EXPECT(scamem_compare_strategies(NULL, SCAMEM_WORKLOAD_MIXED, rows, SCAMEM_NR_STRATEGIES + 1) == SCAMEM_NR_STRATEGIES);
	for (int i = 0; i < SCAMEM_NR_STRATEGIES; i++) {
		EXPECT(rows[i].strategy == (uint32_t)i + 1 && rows[i].workload == SCAMEM_WORKLOAD_MIXED);
		EXPECT(rows[i].nr_areas == 84 && rows[i].pages_pinned == 84);
		EXPECT(rows[i].pages_retained == (i == 0 ? 84 : rows[i].nr_pages));
		EXPECT(rows[i].metadata_bytes == rows[i].bytes_per_page * rows[i].memmap_pages + rows[i].scamem_bytes);
		EXPECT(rows[i].ns_pin > 0 && rows[i].ns_page_to_nid > 0);
	}
	EXPECT(rows[SCAMEM_NR_STRATEGIES].strategy == 0); /* untouched */
	EXPECT(scamem_compare_strategies(NULL, SCAMEM_WORKLOAD_MIXED, rows, 2) == 2);
	EXPECT(scamem_compare_strategies(NULL, SCAMEM_WORKLOAD_MIXED, NULL, 0) == 0);
	EXPECT_ERR(scamem_compare_strategies(NULL, SCAMEM_WORKLOAD_MIXED, NULL, 1), -EINVAL);
	EXPECT_ERR(scamem_compare_strategies(NULL, 9, rows, 1), -EINVAL);
	struct scamem_machine_desc d;
	scamem_machine_desc_default(&d);
	d.strategy = 99; /* ignored: every strategy runs */
	EXPECT(scamem_compare_strategies(&d, SCAMEM_WORKLOAD_MIXED, rows, 1) == 1);
	EXPECT(rows[0].strategy == SCAMEM_STRATEGY_LEGACY);
	d.size = 3;
	EXPECT_ERR(scamem_compare_strategies(&d, SCAMEM_WORKLOAD_MIXED, rows, 1), -EINVAL);
	struct scamem_strategy_cost c;
	EXPECT_ERR(scamem_machine_strategy_cost(NULL, &c), -EINVAL);
}

/* SCAMEM_FLAGS_ARRAY frees, checks and counts a 65,536-page area by index:
 * it searched pages[] once per page, seconds for this one area. */
static void flags_array_large_area(void)
{
	scamem_machine *m = default_machine(SCAMEM_STRATEGY_FLAGS_ARRAY);
	if (!m)
		return;
	struct scamem_machine_info before, after;
	uint64_t addr, counts[SCAMEM_NR_TYPES];
	EXPECT_OK(scamem_machine_info(m, &before));
	EXPECT_OK(scamem_vmalloc(m, 65536ull * 4096, &addr));
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
	EXPECT(scamem_count_pages(m, 0, -1, counts) > 0);
	EXPECT(counts[SCAMEM_TYPE_SCAMEM] == 65536);
	EXPECT_OK(scamem_vfree(m, addr));
	EXPECT_OK(scamem_machine_info(m, &after));
	EXPECT(after.free_pages == before.free_pages);
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
	scamem_machine_free(m);
}

int main(void)
{
	flags_array_large_area();
	for (uint32_t s = 1; s <= SCAMEM_NR_STRATEGIES; s++)
		scenario(s);
	packed_bound();
	compare();
	scamem_machine *m = NULL;
	EXPECT_OK(scamem_machine_new_default(&m));
	if (m)
		EXPECT_ERR(scamem_machine_strategy_cost(m, NULL), -EINVAL);
	return finish(m, "t_strategies");
}
