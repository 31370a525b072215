/* memory_failure(), unpoison_memory() and PageHWPoison (0.2) under each
 * placement strategy: a free page leaves the allocator, an anonymous folio
 * is unmapped (its address faults -EHWPOISON), a mapped and pinned scamem
 * page keeps its link through unpin, munmap and vfree and never returns to
 * the allocator; every entry point's bad input answered with an errno. */
#include "test.h"

#define PAGE SCAMEM_PAGE_SIZE
#define SIM SCAMEM_MF_SW_SIMULATED
#define CLEAN(m) EXPECT(scamem_machine_check(m, print_issue, NULL) == 0)

static uint64_t free_pages(scamem_machine *m)
{
	struct scamem_machine_info info;
	return scamem_machine_info(m, &info) == 0 ? info.free_pages : 0;
}

static uint32_t type_of(scamem_machine *m, uint64_t pfn)
{
	struct scamem_page_info pi = { 0 };
	EXPECT_OK(scamem_page_info(m, pfn, &pi));
	return pi.type;
}

static void bad_input(void)
{
	EXPECT_ERR(scamem_memory_failure(NULL, 0, SIM), -EINVAL);
	EXPECT_ERR(scamem_unpoison_memory(NULL, 0), -EINVAL);
	EXPECT_ERR(scamem_page_hwpoison(NULL, 0), -EINVAL);

	scamem_machine *m = NULL;
	EXPECT_OK(scamem_machine_new_default(&m));
	if (!m)
		return;
	struct scamem_machine_info info;
	EXPECT_OK(scamem_machine_info(m, &info));
	EXPECT_ERR(scamem_memory_failure(m, info.end_pfn, SIM), -ENXIO);
	EXPECT_ERR(scamem_memory_failure(m, UINT64_MAX, SIM), -ENXIO);
	EXPECT_ERR(scamem_page_hwpoison(m, info.end_pfn), -ERANGE);
	EXPECT_ERR(scamem_unpoison_memory(m, UINT64_MAX), -EIO);
	int refused[] = { SCAMEM_MF_COUNT_INCREASED, SCAMEM_MF_ACTION_REQUIRED, SCAMEM_MF_SOFT_OFFLINE,
			  SCAMEM_MF_UNPOISON, SCAMEM_MF_NO_RETRY, SCAMEM_MF_MEM_PRE_REMOVE, 1 << 8, -1, INT32_MIN };
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
		EXPECT_ERR(scamem_memory_failure(m, 0x100000, refused[i]), -EINVAL);
	EXPECT(scamem_page_hwpoison(m, 0x100000) == 0);
	EXPECT_ERR(scamem_unpoison_memory(m, 0x100000), -EBUSY); /* not poisoned */
	EXPECT(strstr(scamem_strerror(-EHWPOISON), "hwpoison") != NULL);
	/* A real failure: poisoned, and unpoison is refused from then on. */
	EXPECT_OK(scamem_memory_failure(m, 0x100000, SCAMEM_MF_MUST_KILL));
	EXPECT_ERR(scamem_memory_failure(m, 0x100000, SIM), -EHWPOISON);
	EXPECT(scamem_page_hwpoison(m, 0x100000) == 1);
	EXPECT_ERR(scamem_unpoison_memory(m, 0x100000), -EOPNOTSUPP);
	CLEAN(m);
	scamem_machine_free(m);
}

/* A free page: taken off the allocator, the rest of its block stays free. */
static void free_page(scamem_machine *m, uint64_t free0)
{
	uint64_t pfn;
	EXPECT_OK(scamem_alloc_pages(m, SCAMEM_GFP_KERNEL, 0, -1, &pfn));
	EXPECT_OK(scamem_free_pages(m, pfn, 0));
	EXPECT_OK(scamem_memory_failure(m, pfn, SIM));
	EXPECT(type_of(m, pfn) == SCAMEM_TYPE_HWPOISON && scamem_page_hwpoison(m, pfn) == 1);
	EXPECT(free_pages(m) + 1 == free0);
	EXPECT_ERR(scamem_free_pages(m, pfn, 0), -EINVAL);
	CLEAN(m);
	EXPECT_OK(scamem_unpoison_memory(m, pfn));
	EXPECT(free_pages(m) == free0 && scamem_page_hwpoison(m, pfn) == 0);
	CLEAN(m);
}

/* An anonymous folio: unmapped, its address faults -EHWPOISON, GUP -EFAULT. */
static void anon_folio(scamem_machine *m, uint64_t free0)
{
	struct scamem_mm *mm;
	uint64_t a, p, pfn, got;
	EXPECT_OK(scamem_mm_new(m, &mm));
	EXPECT_OK(scamem_mmap(m, mm, 0, PAGE, SCAMEM_MAP_PRIVATE | SCAMEM_MAP_ANONYMOUS, &a));
	EXPECT_OK(scamem_handle_mm_fault(m, mm, a, &p));
	EXPECT_OK(scamem_memory_failure(m, p, SIM));
	EXPECT_ERR(scamem_handle_mm_fault(m, mm, a, &pfn), -EHWPOISON);
	EXPECT_ERR(scamem_fixup_user_fault(m, mm, a, 0, &pfn), -EFAULT);
	EXPECT_ERR(scamem_get_user_pages(m, mm, a, 1, 0, &got), -EFAULT);
	EXPECT_ERR(scamem_follow_page(m, mm, a), -EFAULT);
	EXPECT(type_of(m, p) == SCAMEM_TYPE_ANON && scamem_page_hwpoison(m, p) == 1);
	CLEAN(m);
	/* memory_failure() keeps its reference: the folio outlives the mm. */
	EXPECT_OK(scamem_mm_exit(m, mm));
	EXPECT(type_of(m, p) == SCAMEM_TYPE_ANON && free_pages(m) + 1 == free0);
	CLEAN(m);
	EXPECT_OK(scamem_unpoison_memory(m, p));
	EXPECT(free_pages(m) == free0);
	CLEAN(m);
}

/* The hard case: a scamem page mapped to userspace and pinned. */
static void pinned_scamem_page(scamem_machine *m, uint64_t free0, int vfree_first)
{
	struct scamem_mm *mm;
	struct scamem_vma vma;
	struct scamem_page_info before, after;
	struct scamem *owner = NULL;
	uint64_t k, u, p;
	EXPECT_OK(scamem_mm_new(m, &mm));
	EXPECT_OK(scamem_vmalloc_user(m, 4 * PAGE, &k));
	EXPECT_OK(scamem_mmap(m, mm, 0, 4 * PAGE, SCAMEM_MAP_SHARED, &u));
	EXPECT_OK(scamem_remap_vmalloc_range(m, mm, u, k, 0));
	EXPECT_OK(scamem_find_vma(m, mm, u, &vma));
	EXPECT(scamem_pin_user_pages(m, mm, u + PAGE, 1, SCAMEM_FOLL_WRITE | SCAMEM_FOLL_LONGTERM, &p) == 1);
	EXPECT_OK(scamem_page_info(m, p, &before));
	EXPECT_ERR(scamem_memory_failure(m, p, SIM), -EBUSY); /* unhandlable: MF_IGNORED */
	EXPECT_ERR(scamem_memory_failure(m, p, SIM), -EHWPOISON);
	EXPECT(scamem_page_hwpoison(m, p) == 1);
	EXPECT_OK(scamem_page_info(m, p, &after));
	EXPECT(after.word == before.word && after.nid == before.nid && after.zone == before.zone);
	if (scamem_page_scamem(m, p, &owner) == 0)
		EXPECT(owner == vma.scamem);
	EXPECT(scamem_follow_page(m, mm, u + PAGE) == (int64_t)p);
	CLEAN(m);
	if (vfree_first) {
		EXPECT_OK(scamem_vfree(m, k));
		CLEAN(m);
		EXPECT_OK(scamem_munmap(m, mm, u, 4 * PAGE));
		CLEAN(m);
		EXPECT_OK(scamem_unpin_user_page(m, p));
	} else {
		EXPECT_OK(scamem_unpin_user_page(m, p));
		CLEAN(m);
		EXPECT_OK(scamem_munmap(m, mm, u, 4 * PAGE));
		CLEAN(m);
		EXPECT_OK(scamem_vfree(m, k));
	}
	/* Freed with its scamem, the poisoned page stays off the free lists. */
	EXPECT(type_of(m, p) == SCAMEM_TYPE_HWPOISON && scamem_page_hwpoison(m, p) == 1);
	EXPECT(free_pages(m) + 1 == free0);
	CLEAN(m);
	EXPECT_OK(scamem_mm_exit(m, mm));
	EXPECT_OK(scamem_unpoison_memory(m, p));
	EXPECT(free_pages(m) == free0);
	CLEAN(m);
}

int main(void)
{
	bad_input();
	for (uint32_t s = 1; s <= SCAMEM_NR_STRATEGIES; s++) {
		struct scamem_machine_desc d;
		scamem_machine_desc_default(&d);
		d.strategy = s;
		scamem_machine *m = NULL;
		EXPECT_OK(scamem_machine_new(&d, &m));
		if (!m)
			continue;
		uint64_t free0 = free_pages(m);
		free_page(m, free0);
		anon_folio(m, free0);
		pinned_scamem_page(m, free0, 0);
		pinned_scamem_page(m, free0, 1);
		CLEAN(m);
		scamem_machine_free(m);
	}
	return finish(NULL, "t_memory_failure");
}
