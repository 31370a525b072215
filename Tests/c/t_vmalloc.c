/* vmalloc as mm/vmalloc.c (6.12) defines it, under each placement strategy:
 * vfree()/vunmap() of any address inside an area (remove_vm_area() ->
 * find_unlink_vmap_area(), guard page included), of NULL, misaligned; vunmap()
 * leaves the caller's pages and refuses an area that owns its pages; vmap()
 * ignores VM_NO_GUARD; find_vm_area() and remap_vmalloc_range_partial() take
 * an address inside an area. */
#include "test.h"

#define PAGE SCAMEM_PAGE_SIZE

static uint64_t free_pages(scamem_machine *m)
{
	struct scamem_machine_info info;
	return scamem_machine_info(m, &info) == 0 ? info.free_pages : 0;
}

static void vfree_inside(scamem_machine *m)
{
	uint64_t a, b, c, free0 = free_pages(m);
	struct scamem_vm_struct vm;
	struct scamem_vmalloc_opts opts = { sizeof opts, SCAMEM_VM_NO_GUARD, 0, SCAMEM_POLICY_LOCAL, 0, 0, 0 };
	EXPECT_OK(scamem_vmalloc(m, 3 * PAGE, &a));
	EXPECT_OK(scamem_vmalloc(m, 2 * PAGE, &b));
	EXPECT_OK(scamem_vmalloc_opts(m, 2 * PAGE, &opts, &c));
	/* find_vm_area(): any byte of the area, guard page included. */
	EXPECT_OK(scamem_find_vm_area(m, a + 2 * PAGE + 17, &vm));
	EXPECT(vm.addr == a && vm.size == 4 * PAGE && vm.nr_pages == 3);
	EXPECT_OK(scamem_find_vm_area(m, a + 3 * PAGE, &vm));
	EXPECT(vm.addr == a);
	EXPECT_ERR(scamem_find_vm_area(m, c + 2 * PAGE, &vm), -ENOENT); /* no guard page */
	EXPECT_ERR(scamem_find_vm_area(m, a - 1, &vm), -ENOENT);

	/* Misaligned (remove_vm_area() WARNs, frees nothing), nothing there. */
	EXPECT_ERR(scamem_vfree(m, a + PAGE + 8), -EINVAL);
	EXPECT_ERR(scamem_vunmap(m, a + 8), -EINVAL);
	EXPECT_ERR(scamem_vfree(m, UINT64_MAX), -EINVAL);
	EXPECT_ERR(scamem_vfree(m, c + 2 * PAGE), -ENOENT);
	EXPECT_ERR(scamem_vfree(m, a - PAGE), -ENOENT);
	EXPECT_ERR(scamem_vfree(m, 0x1000), -ENOENT);
	EXPECT_ERR(scamem_vunmap(m, a + PAGE), -EINVAL); /* a vmalloc area: vfree() only */
	EXPECT_OK(scamem_find_vm_area(m, a, &vm));
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);

	/* An inner page, the guard page, the last page without a guard. */
	EXPECT_OK(scamem_vfree(m, a + PAGE));
	EXPECT_ERR(scamem_find_vm_area(m, a, &vm), -ENOENT);
	EXPECT_OK(scamem_find_vm_area(m, b, &vm));
	EXPECT_OK(scamem_vfree(m, b + 2 * PAGE));
	EXPECT_OK(scamem_vfree(m, c + PAGE));
	EXPECT_ERR(scamem_vfree(m, a), -ENOENT);
	EXPECT_ERR(scamem_vfree(m, c), -ENOENT);
	EXPECT_ERR(scamem_vunmap(m, b), -ENOENT);
	/* NULL: nothing to do, as the kernel's vfree() and vunmap(). */
	EXPECT_OK(scamem_vfree(m, 0));
	EXPECT_OK(scamem_vunmap(m, 0));
	EXPECT(free_pages(m) == free0);
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
}

/* Freed by an inner address while mapped and pinned: the pages stay. */
static void vfree_inside_mapped(scamem_machine *m)
{
	struct scamem_mm *mm;
	uint64_t k, u, pinned, free0 = free_pages(m);
	EXPECT_OK(scamem_vmalloc_user(m, 3 * PAGE, &k));
	EXPECT_OK(scamem_mm_new(m, &mm));
	EXPECT_OK(scamem_mmap(m, mm, 0, 3 * PAGE, SCAMEM_MAP_SHARED, &u));
	EXPECT_OK(scamem_remap_vmalloc_range(m, mm, u, k, 0));
	EXPECT(scamem_pin_user_pages(m, mm, u + PAGE, 1, SCAMEM_FOLL_LONGTERM, &pinned) == 1);
	EXPECT_OK(scamem_vfree(m, k + 2 * PAGE));
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
	EXPECT(scamem_follow_page(m, mm, u + PAGE) == (int64_t)pinned);
	EXPECT_OK(scamem_mm_exit(m, mm));
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
	EXPECT(free_pages(m) < free0);
	EXPECT_OK(scamem_unpin_user_page(m, pinned));
	EXPECT(free_pages(m) == free0);
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
}

/* vunmap() gives back no page; vmap() ignores VM_NO_GUARD. */
static void vunmap_and_vmap(scamem_machine *m)
{
	uint64_t p, q[2], v, w;
	struct scamem_vm_struct vm;
	EXPECT_OK(scamem_alloc_pages(m, 0, 1, 0, &p));
	uint64_t pp[2] = { p, p + 1 };
	EXPECT_OK(scamem_vmap(m, pp, 2, SCAMEM_VM_NO_GUARD, &v));
	EXPECT_OK(scamem_find_vm_area(m, v + PAGE, &vm));
	EXPECT(vm.addr == v && vm.size == 3 * PAGE && vm.nr_pages == 2 && vm.flags == SCAMEM_VM_MAP);
	EXPECT_ERR(scamem_vmalloc_to_pfn(m, v + 2 * PAGE), -EFAULT); /* the guard page */
	EXPECT_ERR(scamem_free_pages(m, p, 1), -EBUSY);
	EXPECT_ERR(scamem_vunmap(m, v + 1), -EINVAL);
	EXPECT_OK(scamem_vunmap(m, v + 2 * PAGE));
	EXPECT_ERR(scamem_find_vm_area(m, v, &vm), -ENOENT);
	EXPECT_OK(scamem_free_pages(m, p, 1)); /* still the caller's */

	/* VM_MAP_PUT_PAGES: the pages are the area's; vunmap() would leak them. */
	EXPECT_OK(scamem_alloc_pages(m, 0, 0, 0, &q[0]));
	EXPECT_OK(scamem_alloc_pages(m, 0, 0, 0, &q[1]));
	EXPECT_OK(scamem_vmap(m, q, 2, SCAMEM_VM_MAP_PUT_PAGES | SCAMEM_VM_NO_GUARD, &w));
	EXPECT_OK(scamem_find_vm_area(m, w, &vm));
	EXPECT(vm.size == 3 * PAGE && vm.flags == (SCAMEM_VM_MAP | SCAMEM_VM_MAP_PUT_PAGES));
	EXPECT_ERR(scamem_vunmap(m, w), -EINVAL);
	EXPECT_ERR(scamem_vunmap(m, w + PAGE), -EINVAL);
	EXPECT(scamem_vmalloc_to_pfn(m, w + PAGE) == (int64_t)q[1]);
	EXPECT_OK(scamem_vfree(m, w + PAGE));
	EXPECT_ERR(scamem_free_pages(m, q[0], 0), -EALREADY); /* freed with the area */
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
}

/* remap_vmalloc_range_partial() from an address inside the area. */
static void remap_inside(scamem_machine *m)
{
	struct scamem_mm *mm;
	struct scamem_vma vma;
	uint64_t k, u;
	EXPECT_OK(scamem_vmalloc_user(m, 4 * PAGE, &k));
	EXPECT_OK(scamem_mm_new(m, &mm));
	EXPECT_OK(scamem_mmap(m, mm, 0, 4 * PAGE, SCAMEM_MAP_SHARED, &u));
	/* kaddr page 1, pgoff 1: the area's pages 2 and 3. */
	EXPECT_OK(scamem_remap_vmalloc_range_partial(m, mm, u, k + PAGE, 1, 2 * PAGE));
	EXPECT(scamem_follow_page(m, mm, u) == scamem_vmalloc_to_pfn(m, k + 2 * PAGE));
	EXPECT(scamem_follow_page(m, mm, u + PAGE) == scamem_vmalloc_to_pfn(m, k + 3 * PAGE));
	/* Past the last page, the guard page, misaligned, beyond the area. */
	EXPECT_ERR(scamem_remap_vmalloc_range_partial(m, mm, u + 2 * PAGE, k + 3 * PAGE, 0, 2 * PAGE), -EINVAL);
	EXPECT_ERR(scamem_remap_vmalloc_range_partial(m, mm, u + 2 * PAGE, k + 2 * PAGE, 1, 2 * PAGE), -EINVAL);
	EXPECT_ERR(scamem_remap_vmalloc_range_partial(m, mm, u + 2 * PAGE, k + 4 * PAGE, 0, PAGE), -EINVAL);
	EXPECT_ERR(scamem_remap_vmalloc_range_partial(m, mm, u + 2 * PAGE, k + PAGE + 8, 0, PAGE), -EINVAL);
	EXPECT_ERR(scamem_remap_vmalloc_range_partial(m, mm, u + 2 * PAGE, k + 5 * PAGE, 0, PAGE), -EINVAL);
	EXPECT_ERR(scamem_remap_vmalloc_range_partial(m, mm, u + 2 * PAGE, k + PAGE, UINT64_MAX, PAGE), -EINVAL);
	EXPECT_ERR(scamem_remap_vmalloc_range(m, mm, u, k + PAGE, 0), -EINVAL); /* 4 pages from page 1 */
	/* The rest of the VMA through another inner address. */
	EXPECT_OK(scamem_remap_vmalloc_range_partial(m, mm, u + 2 * PAGE, k + 2 * PAGE, 0, 2 * PAGE));
	EXPECT_OK(scamem_find_vma(m, mm, u, &vma));
	EXPECT(vma.mapped_pages == 4);
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
	EXPECT_OK(scamem_vfree(m, k + 3 * PAGE));
	EXPECT_OK(scamem_mm_exit(m, mm));
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
}

int main(void)
{
	for (uint32_t s = 1; s <= SCAMEM_NR_STRATEGIES; s++) {
		struct scamem_machine_desc d;
		scamem_machine_desc_default(&d);
		d.strategy = s;
		scamem_machine *m = NULL;
		EXPECT_OK(scamem_machine_new(&d, &m));
		if (!m)
			continue;
		uint64_t free0 = free_pages(m);
		vfree_inside(m);
		vfree_inside_mapped(m);
		vunmap_and_vmap(m);
		remap_inside(m);
		EXPECT(free_pages(m) == free0); /* nothing leaked */
		EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
		scamem_machine_free(m);
	}
	return finish(NULL, "t_vmalloc");
}
