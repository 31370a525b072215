/* What the import tests share: giving back everything an import created. */
#ifndef SCAMEM_IMPORT_TEST_H
#define SCAMEM_IMPORT_TEST_H
#include "test.h"

/* Releases every vm area, folio, slab, ptdesc and MISC unknown block of an
 * imported machine, through the calls a caller has, then expects every
 * zone's managed pages all free and the checker clean. */
static void release_import(scamem_machine *m)
{
	struct scamem_vm_struct vm;
	uint64_t addr = 0;
	while (scamem_vm_area_next(m, addr, &vm) == 0) {
		EXPECT_OK(scamem_vfree(m, vm.addr));
		addr = vm.addr;
	}

	/* A snapshot of the words: freeing rewrites them. A descriptor's pages
	 * share one pointer word, so its first pfn is where the word changes. */
	const uint64_t *live;
	uint64_t nr;
	EXPECT_OK(scamem_machine_words(m, &live, &nr));
	uint64_t *words = malloc(nr * sizeof *words);
	if (!words)
		return;
	memcpy(words, live, nr * sizeof *words);
	for (uint64_t pfn = 0; pfn < nr; pfn++) {
		uint64_t w = words[pfn];
		uint32_t type = scamem_word_type(w), order = scamem_word_order(w);
		int head = pfn == 0 || words[pfn - 1] != w;
		if (scamem_word_is_nopage(w))
			continue;
		if ((type == SCAMEM_TYPE_FILE || type == SCAMEM_TYPE_ANON) && head)
			EXPECT_OK(scamem_folio_put(m, pfn));
		else if (type == SCAMEM_TYPE_SLAB && head)
			EXPECT_OK(scamem_slab_free(m, pfn));
		else if (type == SCAMEM_TYPE_PTDESC && head)
			EXPECT_OK(scamem_ptdesc_free(m, pfn));
		else if (type == SCAMEM_TYPE_MISC && scamem_word_subtype(w) == SCAMEM_MISC_UNKNOWN && order <= 10 &&
			 pfn % (1ull << order) == 0)
			EXPECT_OK(scamem_free_pages(m, pfn, order));
	}
	free(words);

	struct scamem_machine_info info;
	EXPECT_OK(scamem_machine_info(m, &info));
	for (uint32_t z = 0; z < info.nr_zones; z++) {
		struct scamem_zone_info zi;
		EXPECT_OK(scamem_machine_zone(m, z, &zi));
		if (zi.free_pages != zi.managed_pages)
			fprintf(stderr, "zone %u: free %" PRIu64 " managed %" PRIu64 "\n", z, zi.free_pages, zi.managed_pages);
		EXPECT(zi.free_pages == zi.managed_pages && zi.managed_pages <= zi.present_pages);
	}
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
}
#endif
