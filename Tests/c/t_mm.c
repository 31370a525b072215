/* The address-space paths (0.2), under each placement strategy: do_mmap()
 * protections, faults (zero page, COW of a private driver mapping),
 * fixup_user_fault(), fork()'s dup_mmap(), mprotect(), mremap() and
 * madvise(), with the checker at 0 after each step, and every entry point's
 * misuse answered with an errno. */
#include "test.h"

#define PAGE SCAMEM_PAGE_SIZE
#define CLEAN(m) EXPECT(scamem_machine_check(m, print_issue, NULL) == 0)

static uint64_t free_pages(scamem_machine *m)
{
	struct scamem_machine_info info;
	return scamem_machine_info(m, &info) == 0 ? info.free_pages : 0;
}

static struct scamem_page_info info(scamem_machine *m, uint64_t pfn)
{
	struct scamem_page_info pi = { 0 };
	EXPECT_OK(scamem_page_info(m, pfn, &pi));
	return pi;
}

/* Reads map the zero page; writes copy it; a private driver mapping's write
 * copies the vmalloc page and FOLL_WRITE pins the copy. */
static void faults_and_cow(scamem_machine *m, uint32_t strategy)
{
	struct scamem_mm *mm;
	uint64_t a, z, z2, p, k, u, pfn, got[2];
	EXPECT_OK(scamem_mm_new(m, &mm));
	EXPECT_OK(scamem_do_mmap(m, mm, 0, 2 * PAGE, SCAMEM_PROT_READ | SCAMEM_PROT_WRITE,
				 SCAMEM_MAP_PRIVATE | SCAMEM_MAP_ANONYMOUS, &a));
	EXPECT(scamem_zero_pfn(m) == -ENOENT);
	EXPECT_OK(scamem_fixup_user_fault(m, mm, a, 0, &z));
	EXPECT(scamem_zero_pfn(m) == (int64_t)z);
	EXPECT_OK(scamem_fixup_user_fault(m, mm, a + PAGE, 0, &z2));
	EXPECT(z == z2 && info(m, z).type == SCAMEM_TYPE_MISC);
	EXPECT(scamem_get_user_pages(m, mm, a, 2, 0, got) == 2 && got[0] == z && got[1] == z);
	EXPECT_OK(scamem_fixup_user_fault(m, mm, a, SCAMEM_FAULT_FLAG_WRITE, &p));
	EXPECT(p != z && info(m, p).type == SCAMEM_TYPE_ANON && info(m, p).mapcount == 1);
	EXPECT_OK(scamem_handle_mm_fault(m, mm, a, &pfn));
	EXPECT(pfn == p); /* exclusive: reused, not copied again */
	EXPECT_OK(scamem_put_page(m, got[0]));
	EXPECT_OK(scamem_put_page(m, got[1]));
	CLEAN(m);

	EXPECT_OK(scamem_vmalloc_user(m, 2 * PAGE, &k));
	EXPECT_OK(scamem_mmap(m, mm, 0, 2 * PAGE, SCAMEM_MAP_PRIVATE, &u));
	EXPECT_OK(scamem_remap_vmalloc_range(m, mm, u, k, 0));
	EXPECT(scamem_follow_page(m, mm, u) == scamem_vmalloc_to_pfn(m, k));
	EXPECT_OK(scamem_handle_mm_fault(m, mm, u, &pfn)); /* a write: VM_WRITE */
	EXPECT((int64_t)pfn != scamem_vmalloc_to_pfn(m, k) && info(m, pfn).type == SCAMEM_TYPE_ANON);
	EXPECT(scamem_pin_user_pages(m, mm, u + PAGE, 1, SCAMEM_FOLL_WRITE, got) == 1);
	EXPECT((int64_t)got[0] != scamem_vmalloc_to_pfn(m, k + PAGE) && info(m, got[0]).type == SCAMEM_TYPE_ANON);
	struct scamem_vma vma;
	EXPECT_OK(scamem_find_vma(m, mm, u, &vma));
	EXPECT(vma.scamem == NULL && vma.mapped_pages == 2); /* no vmalloc page mapped any more */
	EXPECT_OK(scamem_vfree(m, k));
	CLEAN(m);
	EXPECT_OK(scamem_unpin_user_page(m, got[0]));

	/* Protections: a read-only VMA, FOLL_FORCE, PROT_NONE. */
	uint64_t ro, none;
	EXPECT_OK(scamem_do_mmap(m, mm, 0, PAGE, SCAMEM_PROT_READ, SCAMEM_MAP_PRIVATE | SCAMEM_MAP_ANONYMOUS, &ro));
	EXPECT_OK(scamem_find_vma(m, mm, ro, &vma));
	EXPECT(!(vma.vm_flags & SCAMEM_VMA_WRITE) && (vma.vm_flags & SCAMEM_VMA_MAYWRITE));
	EXPECT_ERR(scamem_fixup_user_fault(m, mm, ro, SCAMEM_FAULT_FLAG_WRITE, &pfn), -EFAULT);
	EXPECT_ERR(scamem_pin_user_pages(m, mm, ro, 1, SCAMEM_FOLL_WRITE, got), -EFAULT);
	EXPECT(scamem_pin_user_pages(m, mm, ro, 1, SCAMEM_FOLL_WRITE | SCAMEM_FOLL_FORCE, got) == 1);
	EXPECT(info(m, got[0]).type == SCAMEM_TYPE_ANON);
	EXPECT_OK(scamem_unpin_user_page(m, got[0]));
	EXPECT_OK(scamem_do_mmap(m, mm, 0, PAGE, SCAMEM_PROT_NONE, SCAMEM_MAP_PRIVATE | SCAMEM_MAP_ANONYMOUS, &none));
	EXPECT_ERR(scamem_handle_mm_fault(m, mm, none, &pfn), -EFAULT);
	EXPECT_ERR(scamem_get_user_pages(m, mm, none, 1, 0, got), -EFAULT);

	/* Misuse. */
	EXPECT_ERR(scamem_do_mmap(m, mm, 0, PAGE, 0x8, SCAMEM_MAP_PRIVATE, &u), -EINVAL);
	EXPECT_ERR(scamem_do_mmap(m, mm, 0, PAGE, SCAMEM_PROT_READ, SCAMEM_MAP_PRIVATE, NULL), -EINVAL);
	EXPECT_ERR(scamem_do_mmap(m, mm, 0, 0, SCAMEM_PROT_READ, SCAMEM_MAP_PRIVATE, &u), -EINVAL);
	EXPECT_ERR(scamem_fixup_user_fault(m, mm, a, SCAMEM_FAULT_FLAG_WRITE | SCAMEM_FAULT_FLAG_UNSHARE, &pfn), -EINVAL);
	EXPECT_ERR(scamem_fixup_user_fault(m, mm, a, 0x2, &pfn), -EINVAL);
	EXPECT_ERR(scamem_fixup_user_fault(m, mm, a, 0, NULL), -EINVAL);
	EXPECT_ERR(scamem_fixup_user_fault(m, mm, 0x1000, 0, &pfn), -EFAULT);
	EXPECT_ERR(scamem_get_user_pages(m, mm, a, 1, 1u << 5, got), -EINVAL);
	EXPECT_OK(scamem_mm_exit(m, mm));
	EXPECT_ERR(scamem_fixup_user_fault(m, mm, a, 0, &pfn), -EBADF);
	EXPECT_ERR(scamem_do_mmap(m, mm, 0, PAGE, SCAMEM_PROT_READ, SCAMEM_MAP_PRIVATE, &u), -EBADF);
	(void)strategy;
	CLEAN(m);
}

/* fork(): COW anon pages, a pinned page copied, driver mappings holding their
 * own reference, DONTFORK; parent and child released in both orders. */
static void fork_and_release(scamem_machine *m, uint32_t strategy, int child_first)
{
	struct scamem_mm *mm, *child;
	uint64_t a, k, u, p, pinned, pfn;
	EXPECT_OK(scamem_mm_new(m, &mm));
	EXPECT_OK(scamem_mmap(m, mm, 0, 3 * PAGE, SCAMEM_MAP_PRIVATE | SCAMEM_MAP_ANONYMOUS, &a));
	EXPECT_OK(scamem_handle_mm_fault(m, mm, a, &p));
	EXPECT(scamem_pin_user_pages(m, mm, a + PAGE, 1, SCAMEM_FOLL_WRITE | SCAMEM_FOLL_LONGTERM, &pinned) == 1);
	EXPECT_OK(scamem_madvise(m, mm, a + 2 * PAGE, PAGE, SCAMEM_MADV_DONTFORK));
	EXPECT_OK(scamem_vmalloc_user(m, 2 * PAGE, &k));
	EXPECT_OK(scamem_mmap(m, mm, 0, 2 * PAGE, SCAMEM_MAP_SHARED, &u));
	EXPECT_OK(scamem_remap_vmalloc_range(m, mm, u, k, 0));
	EXPECT_OK(scamem_fork(m, mm, &child));
	CLEAN(m);

	EXPECT(scamem_follow_page(m, child, a) == (int64_t)p);
	EXPECT(info(m, p).mapcount == 2 && info(m, p).refcount == 2);
	EXPECT(scamem_follow_page(m, child, a + PAGE) != (int64_t)pinned); /* folio_needs_cow_for_dma() */
	struct scamem_vma vma;
	EXPECT_ERR(scamem_find_vma(m, child, a + 2 * PAGE, &vma), -EFAULT); /* VM_DONTCOPY */
	EXPECT_OK(scamem_find_vma(m, child, u, &vma));
	EXPECT(vma.mapped_pages == 2 && vma.scamem != NULL);
	struct scamem_stat st;
	EXPECT_OK(scamem_stat(m, vma.scamem, &st));
	EXPECT(strategy == SCAMEM_STRATEGY_LEGACY || st.map_refs == 2);
	EXPECT_OK(scamem_handle_mm_fault(m, child, a, &pfn));
	EXPECT(pfn != p && info(m, p).mapcount == 1);
	EXPECT_OK(scamem_vfree(m, k));
	CLEAN(m);

	EXPECT_OK(scamem_mm_exit(m, child_first ? child : mm));
	CLEAN(m);
	EXPECT_OK(scamem_unpin_user_page(m, pinned));
	CLEAN(m);
	EXPECT_OK(scamem_mm_exit(m, child_first ? mm : child));
	CLEAN(m);
	EXPECT_ERR(scamem_fork(m, mm, &child), -EBADF);
	EXPECT_ERR(scamem_fork(m, NULL, &child), -EBADF);
}

/* mprotect(), mremap(), madvise(): splits, moves, zaps, misuse. */
static void vma_lifecycle(scamem_machine *m, uint32_t strategy)
{
	struct scamem_mm *mm;
	struct scamem_vma vma;
	struct scamem_stat st;
	uint64_t k, u, a, b, pfn, out;
	EXPECT_OK(scamem_mm_new(m, &mm));
	EXPECT_OK(scamem_vmalloc_user(m, 4 * PAGE, &k));
	EXPECT_OK(scamem_mmap(m, mm, 0, 4 * PAGE, SCAMEM_MAP_SHARED, &u));
	EXPECT_OK(scamem_remap_vmalloc_range(m, mm, u, k, 0));
	EXPECT_OK(scamem_mprotect(m, mm, u + PAGE, 2 * PAGE, SCAMEM_PROT_READ));
	EXPECT_OK(scamem_find_vma(m, mm, u + PAGE, &vma));
	EXPECT(vma.start == u + PAGE && vma.end == u + 3 * PAGE && !(vma.vm_flags & SCAMEM_VMA_WRITE));
	EXPECT_OK(scamem_stat(m, vma.scamem, &st));
	EXPECT(strategy == SCAMEM_STRATEGY_LEGACY || st.map_refs == 3);
	CLEAN(m);
	/* VM_DONTEXPAND: no growth; a move keeps the pages. */
	EXPECT_ERR(scamem_mremap(m, mm, u, PAGE, 2 * PAGE, SCAMEM_MREMAP_MAYMOVE, 0, &out), -EFAULT);
	EXPECT_OK(scamem_mremap(m, mm, u, PAGE, PAGE, SCAMEM_MREMAP_MAYMOVE | SCAMEM_MREMAP_FIXED, 0x70000000, &out));
	EXPECT(out == 0x70000000 && scamem_follow_page(m, mm, out) == scamem_vmalloc_to_pfn(m, k));
	/* MADV_DONTNEED: the VMA stays, a later fault is SIGBUS (-EFAULT). */
	EXPECT_OK(scamem_madvise(m, mm, u + PAGE, 3 * PAGE, SCAMEM_MADV_DONTNEED));
	EXPECT_ERR(scamem_handle_mm_fault(m, mm, u + PAGE, &pfn), -EFAULT);
	EXPECT_OK(scamem_find_vma(m, mm, u + PAGE, &vma));
	EXPECT(vma.mapped_pages == 0 && vma.scamem == NULL);
	EXPECT_OK(scamem_vfree(m, k));
	CLEAN(m);

	/* Anonymous memory grows in place and moves. */
	EXPECT_OK(scamem_mmap(m, mm, 0x40000000, 2 * PAGE, SCAMEM_MAP_PRIVATE | SCAMEM_MAP_ANONYMOUS | SCAMEM_MAP_FIXED, &a));
	EXPECT_OK(scamem_handle_mm_fault(m, mm, a, &pfn));
	EXPECT_OK(scamem_mremap(m, mm, a, 2 * PAGE, 3 * PAGE, 0, 0, &b));
	EXPECT(b == a);
	EXPECT_ERR(scamem_mremap(m, mm, a, 3 * PAGE, PAGE, SCAMEM_MREMAP_MAYMOVE | SCAMEM_MREMAP_DONTUNMAP, 0, &b), -EINVAL);
	EXPECT_OK(scamem_mremap(m, mm, a, PAGE, PAGE, SCAMEM_MREMAP_MAYMOVE | SCAMEM_MREMAP_DONTUNMAP, 0, &b));
	EXPECT(b != a && scamem_follow_page(m, mm, b) == (int64_t)pfn && scamem_follow_page(m, mm, a) == -EFAULT);
	CLEAN(m);

	/* Misuse. */
	EXPECT_ERR(scamem_mprotect(m, mm, a + 1, PAGE, SCAMEM_PROT_READ), -EINVAL);
	EXPECT_ERR(scamem_mprotect(m, mm, a, PAGE, 0x10), -EINVAL);
	EXPECT_ERR(scamem_mprotect(m, mm, 0x1000, PAGE, SCAMEM_PROT_READ), -ENOMEM);
	EXPECT_OK(scamem_mprotect(m, mm, a, 0, SCAMEM_PROT_READ));
	EXPECT_ERR(scamem_mremap(m, mm, a + 1, PAGE, PAGE, 0, 0, &b), -EINVAL);
	EXPECT_ERR(scamem_mremap(m, mm, a, PAGE, PAGE, SCAMEM_MREMAP_FIXED, 0x50000000, &b), -EINVAL);
	EXPECT_ERR(scamem_mremap(m, mm, a, PAGE, PAGE, 0x8, 0, &b), -EINVAL);
	EXPECT_ERR(scamem_mremap(m, mm, a, 0, PAGE, 0, 0, &b), -EINVAL);
	EXPECT_ERR(scamem_mremap(m, mm, a, PAGE, 0, 0, 0, &b), -EINVAL);
	EXPECT_ERR(scamem_mremap(m, mm, a, PAGE, PAGE, 0, 0, NULL), -EINVAL);
	EXPECT_ERR(scamem_mremap(m, mm, 0x1000, PAGE, PAGE, 0, 0, &b), -EFAULT);
	EXPECT_ERR(scamem_madvise(m, mm, a, PAGE, 99), -EINVAL);
	EXPECT_ERR(scamem_madvise(m, mm, a + 1, PAGE, SCAMEM_MADV_DONTNEED), -EINVAL);
	EXPECT_ERR(scamem_madvise(m, mm, 0x1000, PAGE, SCAMEM_MADV_DONTNEED), -ENOMEM);
	EXPECT_ERR(scamem_madvise(m, mm, a, UINT64_MAX, SCAMEM_MADV_DONTNEED), -EINVAL);
	EXPECT_OK(scamem_mm_exit(m, mm));
	EXPECT_ERR(scamem_mprotect(m, mm, a, PAGE, SCAMEM_PROT_READ), -EBADF);
	EXPECT_ERR(scamem_mremap(m, mm, a, PAGE, PAGE, 0, 0, &b), -EBADF);
	EXPECT_ERR(scamem_madvise(m, mm, a, PAGE, SCAMEM_MADV_DONTNEED), -EBADF);
	CLEAN(m);
}

/* FOLL_LONGTERM (0.2) on a node with ZONE_MOVABLE, where anon faults go:
 * the pin migrates the folio out and returns the new pfn, the pte follows
 * and the old page is free; faults inside the pin avoid ZONE_MOVABLE; a
 * folio another pin holds cannot move (-ENOMEM, nothing held); a vmalloc
 * page pins in place; bad input is refused before anything moves. */
static void longterm_migrates(uint32_t strategy)
{
	static const struct scamem_zone_span zones[] = {
		{ 0, SCAMEM_ZONE_DMA32, 0x1000, 0x1000 },
		{ 0, SCAMEM_ZONE_NORMAL, 0x2000, 0x1000 },
		{ 0, SCAMEM_ZONE_MOVABLE, 0x3000, 0x1000 },
	};
	struct scamem_machine_desc d = {
		sizeof d, 1, SCAMEM_PROFILE_X86_64_VMEMMAP_INIT, zones, NULL, NULL, 3, 0, 0, strategy, 0, 0, NULL, 0, 0,
	};
	scamem_machine *m = NULL;
	EXPECT_OK(scamem_machine_new(&d, &m));
	if (!m)
		return;
	uint64_t free0 = free_pages(m);
	struct scamem_mm *mm;
	uint64_t a, old, p[2], other, k, u;
	EXPECT_OK(scamem_mm_new(m, &mm));
	EXPECT_OK(scamem_do_mmap(m, mm, 0, 3 * PAGE, SCAMEM_PROT_READ | SCAMEM_PROT_WRITE,
				 SCAMEM_MAP_PRIVATE | SCAMEM_MAP_ANONYMOUS, &a));
	EXPECT_OK(scamem_fixup_user_fault(m, mm, a, SCAMEM_FAULT_FLAG_WRITE, &old));
	EXPECT(scamem_page_zonenum(m, old) == SCAMEM_ZONE_MOVABLE);
	/* Bad input first: nothing moves. */
	EXPECT_ERR(scamem_pin_user_pages(m, mm, a, 1, SCAMEM_FOLL_LONGTERM, NULL), -EINVAL);
	EXPECT_ERR(scamem_pin_user_pages(m, mm, a + 1, 1, SCAMEM_FOLL_LONGTERM, p), -EINVAL);
	EXPECT_ERR(scamem_pin_user_pages(m, mm, a, 1, SCAMEM_FOLL_LONGTERM | SCAMEM_FOLL_PIN, p), -EINVAL);
	EXPECT_ERR(scamem_get_user_pages(m, mm, a, 1, SCAMEM_FOLL_LONGTERM, p), -EINVAL);
	EXPECT_ERR(scamem_pin_user_pages(m, (struct scamem_mm *)0x1234, a, 1, SCAMEM_FOLL_LONGTERM, p), -EBADF);
	EXPECT_ERR(scamem_pin_user_pages(m, mm, a + 3 * PAGE, 1, SCAMEM_FOLL_LONGTERM, p), -EFAULT);
	EXPECT(scamem_follow_page(m, mm, a) == (int64_t)old);
	/* The pin moves the folio; the second page faults in outside MOVABLE. */
	EXPECT(scamem_pin_user_pages(m, mm, a, 2, SCAMEM_FOLL_LONGTERM | SCAMEM_FOLL_WRITE, p) == 2);
	EXPECT(p[0] != old && scamem_page_zonenum(m, p[0]) == SCAMEM_ZONE_NORMAL);
	EXPECT(scamem_page_zonenum(m, p[1]) == SCAMEM_ZONE_NORMAL);
	EXPECT(scamem_follow_page(m, mm, a) == (int64_t)p[0] && scamem_follow_page(m, mm, a + PAGE) == (int64_t)p[1]);
	EXPECT(info(m, old).type == SCAMEM_TYPE_BUDDY);
	EXPECT(info(m, p[0]).type == SCAMEM_TYPE_ANON && info(m, p[0]).refcount == 1 + 1024);
	CLEAN(m);
	EXPECT(scamem_unpin_user_pages(m, p, 2) == 2);
	/* Pinned by a plain pin, the third page cannot move. */
	EXPECT(scamem_pin_user_pages(m, mm, a + 2 * PAGE, 1, SCAMEM_FOLL_WRITE, &other) == 1);
	EXPECT(scamem_page_zonenum(m, other) == SCAMEM_ZONE_MOVABLE);
	EXPECT_ERR(scamem_pin_user_pages(m, mm, a + 2 * PAGE, 1, SCAMEM_FOLL_LONGTERM, p), -ENOMEM);
	EXPECT(info(m, other).refcount == 1 + 1024 && scamem_follow_page(m, mm, a + 2 * PAGE) == (int64_t)other);
	CLEAN(m);
	EXPECT_OK(scamem_unpin_user_page(m, other));
	/* A vmalloc page (GFP_KERNEL) pins where it is. */
	EXPECT_OK(scamem_vmalloc_user(m, PAGE, &k));
	EXPECT_OK(scamem_mmap(m, mm, 0, PAGE, SCAMEM_MAP_SHARED, &u));
	EXPECT_OK(scamem_remap_vmalloc_range(m, mm, u, k, 0));
	EXPECT(scamem_pin_user_pages(m, mm, u, 1, SCAMEM_FOLL_LONGTERM, p) == 1);
	EXPECT((int64_t)p[0] == scamem_vmalloc_to_pfn(m, k));
	CLEAN(m);
	EXPECT_OK(scamem_unpin_user_page(m, p[0]));
	EXPECT_OK(scamem_mm_exit(m, mm));
	EXPECT_OK(scamem_vfree(m, k));
	EXPECT(free_pages(m) == free0);
	CLEAN(m);
	scamem_machine_free(m);
}

/* move_pages() (0.2): a page to node 1 and back to where it is, the status
 * of each entry, the zero page and a vmalloc page refused, a pinned folio
 * counted as not migrated, and bad input. */
static void move_pages_calls(scamem_machine *m)
{
	struct scamem_mm *mm;
	uint64_t a, p, z, k, u, q, pinned;
	int32_t st[3], nodes[3] = { 1, 1, 1 };
	EXPECT_OK(scamem_mm_new(m, &mm));
	EXPECT_OK(scamem_do_mmap(m, mm, 0, 2 * PAGE, SCAMEM_PROT_READ | SCAMEM_PROT_WRITE,
				 SCAMEM_MAP_PRIVATE | SCAMEM_MAP_ANONYMOUS, &a));
	EXPECT_OK(scamem_fixup_user_fault(m, mm, a, SCAMEM_FAULT_FLAG_WRITE, &p));
	EXPECT_OK(scamem_fixup_user_fault(m, mm, a + PAGE, 0, &z));
	EXPECT_OK(scamem_vmalloc_user(m, PAGE, &k));
	EXPECT_OK(scamem_mmap(m, mm, 0, PAGE, SCAMEM_MAP_SHARED, &u));
	EXPECT_OK(scamem_remap_vmalloc_range(m, mm, u, k, 0));
	uint64_t addrs[3] = { a, a + PAGE, u };
	EXPECT(scamem_page_to_nid(m, p) == 0);
	EXPECT(scamem_move_pages(m, mm, 3, addrs, nodes, st, SCAMEM_MPOL_MF_MOVE) == 0);
	EXPECT(st[0] == 1 && st[1] == -EFAULT && st[2] == -EBUSY);
	q = (uint64_t)scamem_follow_page(m, mm, a);
	EXPECT(q != p && scamem_page_to_nid(m, q) == 1 && info(m, p).type == SCAMEM_TYPE_BUDDY);
	EXPECT(scamem_move_pages(m, mm, 3, addrs, NULL, st, 0) == 0);
	EXPECT(st[0] == 1 && st[1] == -EFAULT && st[2] == scamem_page_to_nid(m, (uint64_t)scamem_vmalloc_to_pfn(m, k)));
	CLEAN(m);
	/* A pinned folio cannot move: 1 page not migrated, its status untouched. */
	EXPECT(scamem_pin_user_pages(m, mm, a, 1, SCAMEM_FOLL_WRITE, &pinned) == 1);
	nodes[0] = 0, st[0] = 42;
	EXPECT(scamem_move_pages(m, mm, 1, addrs, nodes, st, SCAMEM_MPOL_MF_MOVE_ALL) == 1);
	EXPECT(st[0] == 42 && scamem_follow_page(m, mm, a) == (int64_t)q);
	EXPECT_OK(scamem_unpin_user_page(m, pinned));
	/* Bad input. */
	EXPECT_ERR(scamem_move_pages(NULL, mm, 1, addrs, nodes, st, 0), -EINVAL);
	EXPECT_ERR(scamem_move_pages(m, mm, 1, NULL, nodes, st, 0), -EINVAL);
	EXPECT_ERR(scamem_move_pages(m, mm, 1, addrs, nodes, NULL, 0), -EINVAL);
	EXPECT_ERR(scamem_move_pages(m, mm, 1, addrs, nodes, st, 0x1), -EINVAL);
	EXPECT_ERR(scamem_move_pages(m, mm, (uint64_t)1 << 31, addrs, nodes, st, 0), -EINVAL);
	EXPECT_ERR(scamem_move_pages(m, (struct scamem_mm *)0x1234, 1, addrs, nodes, st, 0), -EBADF);
	nodes[0] = 7;
	EXPECT_ERR(scamem_move_pages(m, mm, 1, addrs, nodes, st, 0), -ENODEV);
	nodes[0] = -1;
	EXPECT_ERR(scamem_move_pages(m, mm, 1, addrs, nodes, st, 0), -ENODEV);
	EXPECT(scamem_move_pages(m, mm, 0, NULL, NULL, NULL, 0) == 0);
	EXPECT_OK(scamem_mm_exit(m, mm));
	EXPECT_OK(scamem_vfree(m, k));
	CLEAN(m);
}

/* GUP-fast: the first call goes the locked way (and publishes the VMAs),
 * later ones need no lock; either way the same pages and counts. */
static void gup_fast(scamem_machine *m)
{
	struct scamem_mm *mm;
	uint64_t k, u, a, p[8], q[8];
	EXPECT_OK(scamem_mm_new(m, &mm));
	EXPECT_OK(scamem_vmalloc_user(m, 8 * PAGE, &k));
	EXPECT_OK(scamem_mmap(m, mm, 0, 8 * PAGE, SCAMEM_MAP_SHARED, &u));
	EXPECT_OK(scamem_remap_vmalloc_range(m, mm, u, k, 0));
	EXPECT(scamem_pin_user_pages_fast(m, mm, u, 8, SCAMEM_FOLL_WRITE, p) == 8);
	EXPECT(scamem_pin_user_pages_fast(m, mm, u, 8, SCAMEM_FOLL_WRITE, q) == 8);
	for (int i = 0; i < 8; i++)
		EXPECT((int64_t)p[i] == scamem_vmalloc_to_pfn(m, k + (uint64_t)i * PAGE) && q[i] == p[i]);
	CLEAN(m);
	EXPECT(scamem_unpin_user_pages(m, p, 8) == 8);
	EXPECT(scamem_unpin_user_pages(m, q, 8) == 8);
	EXPECT_ERR(scamem_unpin_user_pages(m, q, 8), -EINVAL);
	/* Anon folios: faulted in by the first (locked) call. */
	EXPECT_OK(scamem_do_mmap(m, mm, 0, 4 * PAGE, SCAMEM_PROT_READ | SCAMEM_PROT_WRITE,
				 SCAMEM_MAP_PRIVATE | SCAMEM_MAP_ANONYMOUS, &a));
	EXPECT(scamem_get_user_pages_fast(m, mm, a, 4, SCAMEM_FOLL_WRITE, p) == 4);
	EXPECT(scamem_get_user_pages_fast(m, mm, a, 4, SCAMEM_FOLL_WRITE, q) == 4);
	EXPECT(memcmp(p, q, sizeof(uint64_t) * 4) == 0 && info(m, p[0]).type == SCAMEM_TYPE_ANON);
	CLEAN(m);
	for (int i = 0; i < 4; i++) {
		EXPECT_OK(scamem_put_page(m, p[i]));
		EXPECT_OK(scamem_put_page(m, q[i]));
	}
	EXPECT_ERR(scamem_put_page(m, p[0]), -EINVAL);
	EXPECT_ERR(scamem_pin_user_pages_fast(m, mm, u, 1, 0, NULL), -EINVAL);
	EXPECT_ERR(scamem_pin_user_pages_fast(m, mm, u + 1, 1, 0, p), -EINVAL);
	EXPECT_ERR(scamem_pin_user_pages_fast(m, mm, u, 1, SCAMEM_FOLL_PIN, p), -EINVAL);
	EXPECT_ERR(scamem_get_user_pages_fast(m, mm, u, 1, SCAMEM_FOLL_LONGTERM, p), -EINVAL);
	EXPECT_ERR(scamem_get_user_pages_fast(m, (struct scamem_mm *)0x1234, u, 1, 0, p), -EBADF);
	EXPECT_ERR(scamem_get_user_pages_fast(m, mm, 0x1000, 1, 0, p), -EFAULT);
	EXPECT_ERR(scamem_pin_user_pages_fast(NULL, mm, u, 1, 0, p), -EINVAL);
	EXPECT_OK(scamem_mm_exit(m, mm));
	EXPECT_OK(scamem_vfree(m, k));
	CLEAN(m);
}

static void null_machine(void)
{
	uint64_t x = 0;
	struct scamem_mm *mm = NULL;
	EXPECT_ERR(scamem_do_mmap(NULL, mm, 0, PAGE, SCAMEM_PROT_READ, SCAMEM_MAP_PRIVATE, &x), -EINVAL);
	EXPECT_ERR(scamem_fixup_user_fault(NULL, mm, 0, 0, &x), -EINVAL);
	EXPECT_ERR(scamem_mprotect(NULL, mm, 0, PAGE, 0), -EINVAL);
	EXPECT_ERR(scamem_mremap(NULL, mm, 0, PAGE, PAGE, 0, 0, &x), -EINVAL);
	EXPECT_ERR(scamem_madvise(NULL, mm, 0, PAGE, SCAMEM_MADV_DONTNEED), -EINVAL);
	EXPECT_ERR(scamem_fork(NULL, mm, &mm), -EINVAL);
	EXPECT(scamem_zero_pfn(NULL) == -EINVAL);
	EXPECT(scamem_move_pages(NULL, mm, 0, NULL, NULL, NULL, 0) == -EINVAL);
}

int main(void)
{
	null_machine();
	for (uint32_t s = 1; s <= SCAMEM_NR_STRATEGIES; s++) {
		struct scamem_machine_desc d;
		scamem_machine_desc_default(&d);
		d.strategy = s;
		scamem_machine *m = NULL;
		EXPECT_OK(scamem_machine_new(&d, &m));
		if (!m)
			continue;
		uint64_t free0 = free_pages(m);
		faults_and_cow(m, s);
		fork_and_release(m, s, 0);
		fork_and_release(m, s, 1);
		vma_lifecycle(m, s);
		move_pages_calls(m);
		gup_fast(m);
		struct scamem_mm *mm;
		EXPECT_OK(scamem_mm_new(m, &mm));
		EXPECT_ERR(scamem_fork(m, mm, NULL), -EINVAL);
		EXPECT_OK(scamem_mm_exit(m, mm));
		/* Nothing leaked but the zero page, which is never freed. */
		EXPECT(free_pages(m) + 1 == free0);
		CLEAN(m);
		scamem_machine_free(m);
		longterm_migrates(s);
	}
	return finish(NULL, "t_mm");
}
