/* scamem, vmalloc, mappings and GUP from C: the lifecycle, and every misuse
 * returning its error: unpin of a pfn never pinned, put of a free page,
 * vfree twice or of an unknown address, remap without VM_USERMAP, ranges
 * past the area, GUP on an unmapped address, FOLL_GET|FOLL_PIN together,
 * stale and made-up handles, NULL pointers. */
#include "test.h"

#define PAGE SCAMEM_PAGE_SIZE

static void test_scamem_object(scamem_machine *m)
{
	struct scamem *s = NULL, *t = NULL;
	struct scamem_stat st;
	uint64_t pfns[8];
	EXPECT_OK(scamem_alloc(m, 6, SCAMEM_GFP_KERNEL, SCAMEM_POLICY_INTERLEAVE, 0, &s));
	EXPECT_OK(scamem_stat(m, s, &st));
	EXPECT(st.nr == 6 && st.refcount == 1 && st.caller_refs == 1 && st.owns_pages == 1 && st.bytes == 8 + 6 * 8);
	EXPECT(scamem_pages(m, s, pfns, 8) == 6);
	EXPECT(scamem_pages(m, s, NULL, 0) == 6);
	for (uint32_t i = 0; i < 6; i++) {
		EXPECT(scamem_page(m, s, i) == (int64_t)pfns[i]);
		EXPECT(scamem_page_to_nid(m, pfns[i]) == (int)(i % 2));
		struct scamem *owner = NULL;
		EXPECT_OK(scamem_page_scamem(m, pfns[i], &owner));
		EXPECT(owner == s);
		struct scamem_page_info pi;
		EXPECT_OK(scamem_page_info(m, pfns[i], &pi));
		EXPECT(pi.type == SCAMEM_TYPE_SCAMEM && pi.refcount == 1);
	}
	EXPECT_ERR(scamem_page(m, s, 6), -ERANGE);
	EXPECT(scamem_get(m, s) == 2);
	EXPECT(scamem_put(m, s) == 1);
	EXPECT_OK(scamem_alloc(m, 1, 0, SCAMEM_POLICY_NODE, 1, &t));
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
	EXPECT(scamem_put(m, s) == 0);
	for (int i = 0; i < 6; i++) {
		struct scamem_page_info pi;
		scamem_page_info(m, pfns[i], &pi);
		EXPECT(pi.type == SCAMEM_TYPE_BUDDY);
	}
	/* Stale, made-up and NULL handles are refused, never dereferenced. */
	EXPECT_ERR(scamem_put(m, s), -EBADF);
	EXPECT_ERR(scamem_get(m, s), -EBADF);
	EXPECT_ERR(scamem_stat(m, s, &st), -EBADF);
	EXPECT_ERR(scamem_page(m, s, 0), -EBADF);
	EXPECT_ERR(scamem_pages(m, s, pfns, 8), -EBADF);
	EXPECT_ERR(scamem_get(m, NULL), -EBADF);
	EXPECT_ERR(scamem_get(m, (struct scamem *)(uintptr_t)0xdeadbeefcafe), -EBADF);
	EXPECT_ERR(scamem_get(m, (struct scamem *)(uintptr_t)UINTPTR_MAX), -EBADF);
	/* Bad arguments. */
	EXPECT_ERR(scamem_alloc(m, 0, 0, 0, 0, &s), -EINVAL);
	EXPECT_ERR(scamem_alloc(m, 1, 0, 9, 0, &s), -EINVAL);
	EXPECT_ERR(scamem_alloc(m, 1, 0, SCAMEM_POLICY_NODE, 2, &s), -EINVAL);
	EXPECT_ERR(scamem_alloc(m, 1, 0, SCAMEM_POLICY_NODE, -1, &s), -EINVAL);
	EXPECT_ERR(scamem_alloc(m, UINT32_MAX, 0, 0, 0, &s), -ENOMEM);
	EXPECT_ERR(scamem_alloc(m, 1, 0x200, 0, 0, &s), -EINVAL);
	EXPECT_ERR(scamem_alloc(m, 1, 0, 0, 0, NULL), -EINVAL);
	EXPECT_ERR(scamem_stat(m, t, NULL), -EINVAL);
	EXPECT_ERR(scamem_pages(m, t, NULL, 1), -EINVAL);
	EXPECT_ERR(scamem_page_scamem(m, 0x100, &s), -EINVAL); /* a free page */
	EXPECT_ERR(scamem_page_scamem(m, UINT64_MAX, &s), -ERANGE);
	EXPECT_ERR(scamem_page_scamem(m, 0x100, NULL), -EINVAL);
	EXPECT(scamem_put(m, t) == 0);
}

static void test_vmalloc(scamem_machine *m)
{
	uint64_t a, u, n, o, raw[2];
	struct scamem_vm_struct vm;
	EXPECT_OK(scamem_vmalloc(m, 3 * PAGE, &a));
	EXPECT(a == SCAMEM_VMALLOC_START);
	EXPECT_OK(scamem_vmalloc_user(m, 1, &u));
	EXPECT_OK(scamem_vmalloc_node(m, PAGE, 1, &n));
	struct scamem_vmalloc_opts opts = { sizeof opts, SCAMEM_VM_USERMAP | SCAMEM_VM_NO_GUARD, SCAMEM_GFP_DMA32,
					    SCAMEM_POLICY_NODE, 0, 0, 0xc0ffee };
	EXPECT_OK(scamem_vmalloc_opts(m, 2 * PAGE, &opts, &o));
	EXPECT_OK(scamem_find_vm_area(m, o + 1, &vm));
	EXPECT(vm.addr == o && vm.size == 2 * PAGE && vm.caller == 0xc0ffee && vm.nr_pages == 2);
	EXPECT(vm.flags == (SCAMEM_VM_ALLOC | SCAMEM_VM_USERMAP | SCAMEM_VM_NO_GUARD));
	EXPECT(scamem_page_zonenum(m, (uint64_t)scamem_vmalloc_to_pfn(m, o)) == SCAMEM_ZONE_DMA32);
	EXPECT(scamem_page_to_nid(m, (uint64_t)scamem_vmalloc_to_pfn(m, n)) == 1);
	EXPECT_OK(scamem_find_vm_area(m, a, &vm));
	EXPECT(vm.size == 4 * PAGE && vm.flags == SCAMEM_VM_ALLOC && vm.scamem != NULL);
	struct scamem_stat st;
	EXPECT_OK(scamem_stat(m, vm.scamem, &st));
	EXPECT(st.refcount == 1 && st.vm_refs == 1);
	EXPECT_ERR(scamem_vmalloc_to_pfn(m, a + 3 * PAGE), -EFAULT); /* guard page */
	EXPECT_ERR(scamem_vmalloc_to_pfn(m, 0x1000), -ENOENT);

	/* Iteration in address order. */
	uint64_t seen = 0, at = 0;
	while (scamem_vm_area_next(m, at, &vm) == 0) {
		at = vm.addr;
		seen++;
	}
	EXPECT(seen == 4);
	EXPECT_ERR(scamem_vm_area_next(m, UINT64_MAX, &vm), -ENOENT);

	/* vmap of the caller's pages, handed over. */
	EXPECT_OK(scamem_alloc_pages(m, 0, 0, 0, &raw[0]));
	EXPECT_OK(scamem_alloc_pages(m, 0, 0, 1, &raw[1]));
	uint64_t v;
	/* VM_USERMAP without PUT_PAGES (bpf ringbuf): alloc_pages() pages only. */
	uint64_t um;
	EXPECT_OK(scamem_folio_alloc(m, SCAMEM_TYPE_FILE, 0, 0, -1, &um));
	EXPECT_ERR(scamem_vmap(m, &um, 1, SCAMEM_VM_USERMAP, &v), -EINVAL);
	EXPECT(scamem_folio_put(m, um) == 0);
	EXPECT_ERR(scamem_vmap(m, raw, 0, 0, &v), -EINVAL);
	EXPECT_ERR(scamem_vmap(m, NULL, 2, 0, &v), -EINVAL);
	EXPECT_ERR(scamem_vmap(m, raw, 2, SCAMEM_VM_ALLOC, &v), -EINVAL);
	EXPECT_OK(scamem_vmap(m, raw, 2, SCAMEM_VM_MAP_PUT_PAGES, &v));
	EXPECT(scamem_vmalloc_to_pfn(m, v + PAGE) == (int64_t)raw[1]);
	EXPECT_ERR(scamem_vunmap(m, a), -EINVAL); /* a vmalloc area */
	EXPECT_ERR(scamem_vunmap(m, v), -EINVAL); /* its pages are the area's: vfree() only */
	EXPECT_OK(scamem_vfree(m, v));
	EXPECT_ERR(scamem_free_pages(m, raw[0], 0), -EALREADY); /* freed with the area */

	/* vmap without VM_MAP_PUT_PAGES: the pages stay the caller's, who must
	 * keep them until vunmap; a free before it is -EBUSY, never a freed page
	 * left mapped. */
	uint64_t block, single, folio, slab, vp[5], x;
	EXPECT_OK(scamem_alloc_pages(m, 0, 1, 0, &block));
	EXPECT_OK(scamem_alloc_pages(m, 0, 0, 0, &single));
	EXPECT_OK(scamem_folio_alloc(m, SCAMEM_TYPE_FILE, 0, 0, 0, &folio));
	EXPECT_OK(scamem_slab_alloc(m, 7, 64, 0, 0, 0, &slab));
	vp[0] = block; vp[1] = block + 1; vp[2] = folio; vp[3] = folio; /* listed twice */
	vp[4] = single;
	EXPECT_OK(scamem_vmap(m, vp, 5, 0, &v));
	EXPECT_ERR(scamem_free_pages(m, block, 1), -EBUSY);
	EXPECT_ERR(scamem_folio_put(m, folio), -EBUSY);
	EXPECT_ERR(scamem_free_pages(m, single, 0), -EBUSY);
	EXPECT_ERR(scamem_vmap(m, &single, 1, SCAMEM_VM_MAP_PUT_PAGES, &x), -EBUSY);
	EXPECT_ERR(scamem_vmap(m, &slab, 1, 0, &x), -EINVAL); /* a slab page cannot be kept */
	EXPECT(scamem_machine_check(m, NULL, NULL) == 0);
	EXPECT_OK(scamem_vunmap(m, v));
	EXPECT_OK(scamem_free_pages(m, block, 1));
	EXPECT_OK(scamem_free_pages(m, single, 0));
	EXPECT(scamem_folio_put(m, folio) == 0);
	EXPECT_OK(scamem_slab_free(m, slab));
	/* A page of another vmalloc area is that area's to free. */
	EXPECT_OK(scamem_vmalloc(m, 2 * PAGE, &x));
	int64_t other = scamem_vmalloc_to_pfn(m, x);
	EXPECT(other >= 0);
	uint64_t op = (uint64_t)other;
	EXPECT_ERR(scamem_vmap(m, &op, 1, 0, &v), -EBUSY);
	EXPECT_OK(scamem_vfree(m, x));
	EXPECT(scamem_machine_check(m, NULL, NULL) == 0);

	/* vfree misaligned, of an unknown address, of the middle of an area, twice,
	 * of NULL (nothing to do, as the kernel's). */
	EXPECT_ERR(scamem_vfree(m, a + 1), -EINVAL);
	EXPECT_ERR(scamem_vfree(m, SCAMEM_VMALLOC_START - PAGE), -ENOENT);
	EXPECT_OK(scamem_vfree(m, a + PAGE));
	EXPECT_ERR(scamem_vfree(m, a), -ENOENT);
	EXPECT_OK(scamem_vfree(m, 0));
	EXPECT_OK(scamem_vunmap(m, 0));
	EXPECT_ERR(scamem_vunmap(m, a), -ENOENT);
	EXPECT_ERR(scamem_find_vm_area(m, a, &vm), -ENOENT);

	/* Bad arguments. */
	EXPECT_ERR(scamem_vmalloc(m, 0, &a), -EINVAL);
	EXPECT_ERR(scamem_vmalloc(m, UINT64_MAX, &a), -EINVAL);
	EXPECT_ERR(scamem_vmalloc(m, PAGE, NULL), -EINVAL);
	EXPECT_ERR(scamem_vmalloc(m, 1ull << 40, &a), -ENOMEM);
	EXPECT_ERR(scamem_vmalloc_node(m, PAGE, 2, &a), -EINVAL);
	EXPECT_ERR(scamem_vmalloc_node(m, PAGE, -1, &a), -EINVAL);
	opts.vm_flags = SCAMEM_VM_MAP_PUT_PAGES;
	EXPECT_ERR(scamem_vmalloc_opts(m, PAGE, &opts, &a), -EINVAL);
	opts.vm_flags = 0, opts.reserved = 1;
	EXPECT_ERR(scamem_vmalloc_opts(m, PAGE, &opts, &a), -EINVAL);
	opts.reserved = 0, opts.size = 4;
	EXPECT_ERR(scamem_vmalloc_opts(m, PAGE, &opts, &a), -EINVAL);
	EXPECT_ERR(scamem_vmalloc_opts(m, PAGE, NULL, &a), -EINVAL);
	EXPECT_ERR(scamem_find_vm_area(m, u, NULL), -EINVAL);
	EXPECT_ERR(scamem_vm_area_next(m, 0, NULL), -EINVAL);

	EXPECT_OK(scamem_vfree(m, u));
	EXPECT_OK(scamem_vfree(m, n));
	EXPECT_OK(scamem_vfree(m, o));
}

static void test_mappings_and_gup(scamem_machine *m)
{
	struct scamem_mm *mm = NULL;
	uint64_t k, plain, drv, anon, pfns[8], pfn;
	EXPECT_OK(scamem_mm_new(m, &mm));
	EXPECT_OK(scamem_vmalloc_user(m, 4 * PAGE, &k));
	EXPECT_OK(scamem_vmalloc(m, 4 * PAGE, &plain));
	EXPECT_OK(scamem_mmap(m, mm, 0, 4 * PAGE, SCAMEM_MAP_SHARED, &drv));
	EXPECT_OK(scamem_mmap(m, mm, 0, 2 * PAGE, SCAMEM_MAP_PRIVATE | SCAMEM_MAP_ANONYMOUS, &anon));

	/* remap_vmalloc_range() checks. */
	EXPECT_ERR(scamem_remap_vmalloc_range(m, mm, drv, plain, 0), -EINVAL);  /* no VM_USERMAP */
	EXPECT_ERR(scamem_remap_vmalloc_range(m, mm, drv, k, 1), -EINVAL);      /* past the area */
	EXPECT_ERR(scamem_remap_vmalloc_range_partial(m, mm, drv, k, 3, 2 * PAGE), -EINVAL);
	EXPECT_ERR(scamem_remap_vmalloc_range_partial(m, mm, drv, k, UINT64_MAX, PAGE), -EINVAL);
	EXPECT_ERR(scamem_remap_vmalloc_range(m, mm, drv, k + 8, 0), -EINVAL);  /* misaligned */
	EXPECT_ERR(scamem_remap_vmalloc_range(m, mm, drv, 0x1000, 0), -EINVAL); /* no area */
	EXPECT_ERR(scamem_remap_vmalloc_range(m, mm, anon, k, 0), -EINVAL);     /* anonymous VMA */
	EXPECT_ERR(scamem_remap_vmalloc_range(m, mm, 0x1000, k, 0), -EFAULT);   /* no VMA */
	EXPECT_ERR(scamem_remap_vmalloc_range_partial(m, mm, drv + 3 * PAGE, k, 0, 2 * PAGE), -EFAULT);
	EXPECT_OK(scamem_remap_vmalloc_range(m, mm, drv, k, 0));
	EXPECT_ERR(scamem_remap_vmalloc_range(m, mm, drv, k, 0), -EBUSY);

	/* remap_vmalloc_range_partial(): pages 1-2 of the area into a second VMA,
	 * whose munmap drops its reference again. */
	uint64_t part;
	struct scamem_vma pv;
	EXPECT_OK(scamem_mmap(m, mm, 0, 2 * PAGE, SCAMEM_MAP_SHARED, &part));
	EXPECT_OK(scamem_remap_vmalloc_range_partial(m, mm, part, k, 1, 2 * PAGE));
	EXPECT(scamem_follow_page(m, mm, part) == scamem_vmalloc_to_pfn(m, k + PAGE));
	EXPECT(scamem_follow_page(m, mm, part + PAGE) == scamem_vmalloc_to_pfn(m, k + 2 * PAGE));
	EXPECT_OK(scamem_find_vma(m, mm, part, &pv));
	EXPECT(pv.mapped_pages == 2 && pv.scamem != NULL);
	EXPECT_OK(scamem_munmap(m, mm, part, 2 * PAGE));

	struct scamem_vma vma;
	EXPECT_OK(scamem_find_vma(m, mm, drv + PAGE, &vma));
	EXPECT(vma.start == drv && vma.end == drv + 4 * PAGE && vma.mapped_pages == 4 && !vma.anonymous);
	EXPECT((vma.vm_flags & SCAMEM_VMA_MIXEDMAP) && (vma.vm_flags & SCAMEM_VMA_SHARED) && vma.scamem != NULL);
	EXPECT(scamem_follow_page(m, mm, drv + 2 * PAGE) == scamem_vmalloc_to_pfn(m, k + 2 * PAGE));
	EXPECT_ERR(scamem_follow_page(m, mm, anon), -EFAULT);
	EXPECT_OK(scamem_handle_mm_fault(m, mm, anon, &pfn));
	EXPECT(scamem_follow_page(m, mm, anon) == (int64_t)pfn);

	/* GUP. */
	EXPECT(scamem_pin_user_pages(m, mm, drv, 4, SCAMEM_FOLL_LONGTERM | SCAMEM_FOLL_WRITE, pfns) == 4);
	EXPECT(scamem_get_user_pages(m, mm, anon, 2, SCAMEM_FOLL_WRITE, pfns + 4) == 2);
	EXPECT(scamem_pin_user_pages(m, mm, anon, 1, 0, pfns + 6) == 1);
	EXPECT(scamem_folio_maybe_dma_pinned(m, pfns[0]) == 1);
	EXPECT(scamem_folio_maybe_dma_pinned(m, pfns[6]) == 1);
	EXPECT(scamem_folio_maybe_dma_pinned(m, pfns[5]) == 0);
	EXPECT_ERR(scamem_folio_put(m, pfns[5]), -EINVAL); /* the mapping's and GUP's, not ours */
	struct scamem_stat st;
	EXPECT_OK(scamem_stat(m, vma.scamem, &st));
	EXPECT(st.refcount == 1 + 1 + 4 && st.gup_refs == 4 && st.map_refs == 1 && st.vm_refs == 1);
	EXPECT_ERR(scamem_get_user_pages(m, mm, 0x1000, 1, 0, pfns), -EFAULT);          /* unmapped */
	EXPECT(scamem_get_user_pages(m, mm, anon + PAGE, 3, SCAMEM_FOLL_WRITE, pfns + 7) == 1);          /* short */
	EXPECT_OK(scamem_put_page(m, pfns[7]));
	EXPECT_ERR(scamem_pin_user_pages(m, mm, drv, 1, SCAMEM_FOLL_GET, pfns), -EINVAL); /* GET|PIN */
	EXPECT_ERR(scamem_get_user_pages(m, mm, drv, 1, SCAMEM_FOLL_PIN, pfns), -EINVAL);
	EXPECT_ERR(scamem_get_user_pages(m, mm, drv, 1, SCAMEM_FOLL_LONGTERM, pfns), -EINVAL);
	EXPECT_ERR(scamem_pin_user_pages(m, mm, drv, 1, 1u << 30, pfns), -EINVAL);
	EXPECT_ERR(scamem_pin_user_pages(m, mm, drv + 1, 1, 0, pfns), -EINVAL);
	EXPECT_ERR(scamem_pin_user_pages(m, mm, drv, 1, 0, NULL), -EINVAL);
	EXPECT_ERR(scamem_pin_user_pages(m, mm, drv, 1ull << 40, 0, pfns), -EINVAL);
	EXPECT_ERR(scamem_pin_user_pages(m, mm, UINT64_MAX & ~4095ull, 2, 0, pfns), -EINVAL);
	EXPECT(scamem_pin_user_pages(m, mm, drv, 0, 0, pfns) == 0);

	/* Releases of what was never taken. */
	EXPECT_ERR(scamem_put_page(m, pfns[0]), -EINVAL);   /* pinned, not got */
	EXPECT_ERR(scamem_unpin_user_page(m, pfns[5]), -EINVAL); /* got, not pinned */
	EXPECT_ERR(scamem_unpin_user_page(m, 0x100), -EALREADY); /* a free page */
	EXPECT_ERR(scamem_put_page(m, 0x100), -EALREADY);
	EXPECT_ERR(scamem_unpin_user_page(m, UINT64_MAX), -ERANGE);
	EXPECT_ERR(scamem_unpin_user_page(m, 0xc0000), -ENXIO);
	EXPECT_ERR(scamem_unpin_user_pages(m, NULL, 1), -EINVAL);
	EXPECT(scamem_unpin_user_pages(m, NULL, 0) == 0);

	/* The driver goes, the process goes; the pins keep the pages. */
	EXPECT_OK(scamem_vfree(m, k));
	EXPECT_OK(scamem_mm_exit(m, mm));
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
	struct scamem_page_info pi;
	EXPECT_OK(scamem_page_info(m, pfns[0], &pi));
	EXPECT(pi.type == SCAMEM_TYPE_SCAMEM);
	EXPECT(scamem_unpin_user_pages(m, pfns, 4) == 4);
	EXPECT_OK(scamem_page_info(m, pfns[0], &pi));
	EXPECT(pi.type == SCAMEM_TYPE_BUDDY);
	EXPECT(scamem_unpin_user_pages(m, pfns, 4) == -EALREADY);
	EXPECT_OK(scamem_put_page(m, pfns[4]));
	EXPECT_OK(scamem_put_page(m, pfns[5]));
	EXPECT_OK(scamem_unpin_user_page(m, pfns[6]));
	EXPECT_OK(scamem_page_info(m, pfns[6], &pi));
	EXPECT(pi.type == SCAMEM_TYPE_BUDDY);

	/* mTHP: a large anonymous folio pinned counts in _pincount. */
	uint64_t big;
	EXPECT_ERR(scamem_machine_set_anon_order(m, 11), -EINVAL);
	EXPECT_OK(scamem_machine_set_anon_order(m, 2));
	EXPECT_OK(scamem_mm_new(m, &mm));
	EXPECT_OK(scamem_mmap(m, mm, 0x50000000, 4 * PAGE, SCAMEM_MAP_PRIVATE | SCAMEM_MAP_ANONYMOUS | SCAMEM_MAP_FIXED, &big));
	EXPECT(scamem_pin_user_pages(m, mm, big, 2, SCAMEM_FOLL_WRITE, pfns) == 2);
	EXPECT_OK(scamem_page_info(m, pfns[0], &pi));
	EXPECT(pi.order == 2 && pi.pincount == 2 && pi.refcount == 4 + 2 && pi.mapcount == 4);
	EXPECT(scamem_unpin_user_pages(m, pfns, 2) == 2);
	EXPECT_OK(scamem_mm_exit(m, mm));
	EXPECT_OK(scamem_machine_set_anon_order(m, 0));

	/* The local node steers SCAMEM_POLICY_LOCAL and NUMA_NO_NODE. */
	struct scamem *on1;
	EXPECT_ERR(scamem_machine_set_local_node(m, 2), -EINVAL);
	EXPECT_ERR(scamem_machine_set_local_node(m, -1), -EINVAL);
	EXPECT_OK(scamem_machine_set_local_node(m, 1));
	EXPECT_OK(scamem_alloc(m, 1, 0, SCAMEM_POLICY_LOCAL, 0, &on1));
	EXPECT(scamem_page_to_nid(m, (uint64_t)scamem_page(m, on1, 0)) == 1);
	EXPECT(scamem_put(m, on1) == 0);
	EXPECT_OK(scamem_machine_set_local_node(m, 0));

	/* A stale mm, a made-up one. */
	EXPECT_ERR(scamem_mm_exit(m, mm), -EBADF);
	EXPECT_ERR(scamem_mmap(m, mm, 0, PAGE, SCAMEM_MAP_SHARED, &drv), -EBADF);
	EXPECT_ERR(scamem_munmap(m, mm, drv, PAGE), -EBADF);
	EXPECT_ERR(scamem_remap_vmalloc_range(m, mm, drv, plain, 0), -EBADF);
	EXPECT_ERR(scamem_handle_mm_fault(m, mm, anon, &pfn), -EBADF);
	EXPECT_ERR(scamem_follow_page(m, mm, anon), -EBADF);
	EXPECT_ERR(scamem_find_vma(m, mm, anon, &vma), -EBADF);
	EXPECT_ERR(scamem_get_user_pages(m, mm, anon, 1, 0, pfns), -EBADF);
	EXPECT_ERR(scamem_mm_exit(m, (struct scamem_mm *)(uintptr_t)0x12345678), -EBADF);
	EXPECT_ERR(scamem_mm_exit(m, NULL), -EBADF);
	EXPECT_OK(scamem_vfree(m, plain));
}

static void test_mm_arguments(scamem_machine *m)
{
	struct scamem_mm *mm;
	uint64_t a, b, pfn;
	struct scamem_vma vma;
	EXPECT_ERR(scamem_mm_new(m, NULL), -EINVAL);
	EXPECT_OK(scamem_mm_new(m, &mm));
	EXPECT_ERR(scamem_mmap(m, mm, 0, 0, SCAMEM_MAP_SHARED, &a), -EINVAL);
	EXPECT_ERR(scamem_mmap(m, mm, 0, PAGE, SCAMEM_MAP_SHARED | SCAMEM_MAP_PRIVATE, &a), -EINVAL);
	EXPECT_ERR(scamem_mmap(m, mm, 0, PAGE, 0, &a), -EINVAL);
	EXPECT_ERR(scamem_mmap(m, mm, 0, PAGE, SCAMEM_MAP_SHARED | 0x4000, &a), -EINVAL);
	EXPECT_ERR(scamem_mmap(m, mm, 5, PAGE, SCAMEM_MAP_SHARED, &a), -EINVAL);
	EXPECT_ERR(scamem_mmap(m, mm, 0, UINT64_MAX, SCAMEM_MAP_SHARED, &a), -EINVAL);
	EXPECT_ERR(scamem_mmap(m, mm, 0, SCAMEM_MAX_VMA_BYTES + PAGE, SCAMEM_MAP_SHARED, &a), -ENOMEM);
	EXPECT_OK(scamem_mmap(m, mm, 0, SCAMEM_MAX_VMA_BYTES, SCAMEM_MAP_SHARED, &b));
	EXPECT_OK(scamem_munmap(m, mm, b, SCAMEM_MAX_VMA_BYTES));
	EXPECT_ERR(scamem_mmap(m, mm, 0, PAGE, SCAMEM_MAP_SHARED, NULL), -EINVAL);
	EXPECT_ERR(scamem_mmap(m, mm, 0, PAGE, SCAMEM_MAP_SHARED | SCAMEM_MAP_FIXED, &a), -EINVAL);
	EXPECT_OK(scamem_mmap(m, mm, 0x40000000, 2 * PAGE, SCAMEM_MAP_SHARED | SCAMEM_MAP_FIXED, &a));
	EXPECT(a == 0x40000000);
	EXPECT_ERR(scamem_mmap(m, mm, a + PAGE, PAGE, SCAMEM_MAP_SHARED | SCAMEM_MAP_FIXED, &b), -EEXIST);
	EXPECT_ERR(scamem_munmap(m, mm, a + 1, PAGE), -EINVAL);
	EXPECT_ERR(scamem_munmap(m, mm, a, 0), -EINVAL);
	EXPECT_ERR(scamem_munmap(m, mm, UINT64_MAX & ~4095ull, 2 * PAGE), -EINVAL);
	EXPECT_OK(scamem_munmap(m, mm, 0x70000000, PAGE)); /* nothing there: fine */
	EXPECT_ERR(scamem_handle_mm_fault(m, mm, a, NULL), -EINVAL);
	EXPECT_ERR(scamem_handle_mm_fault(m, mm, a, &pfn), -EFAULT); /* a driver VMA, nothing remapped */
	EXPECT_ERR(scamem_find_vma(m, mm, a, NULL), -EINVAL);
	EXPECT_ERR(scamem_find_vma(m, mm, 0, &vma), -EFAULT);
	EXPECT_OK(scamem_mm_exit(m, mm));
}

/* remap_pfn_range(): special ptes over reserved pfns (pfn 0x1000 is the
 * kernel image's), no reference taken, GUP refused; vm_insert_pages() and
 * vm_map_pages(): a folio reference per pte, *num the pages not inserted. */
static void test_pfnmap_and_insert_pages(scamem_machine *m)
{
	struct scamem_mm *mm;
	struct scamem_vma vma;
	uint64_t drv, ins, part, x = 0, num, f[3], page;
	EXPECT_OK(scamem_mm_new(m, &mm));
	EXPECT_OK(scamem_mmap(m, mm, 0, 2 * PAGE, SCAMEM_MAP_SHARED, &drv));
	EXPECT_ERR(scamem_remap_pfn_range(m, mm, drv + 1, 0x1000, PAGE), -EINVAL);
	EXPECT_ERR(scamem_remap_pfn_range(m, mm, drv, 0x1000, 0), -EINVAL);
	EXPECT_ERR(scamem_remap_pfn_range(m, mm, drv, 0x1000, 3 * PAGE), -EFAULT);
	EXPECT_ERR(scamem_remap_pfn_range(m, mm, 0x1000, 0x1000, PAGE), -EFAULT);
	EXPECT_ERR(scamem_remap_pfn_range(m, mm, drv, UINT64_MAX, PAGE), -ERANGE);
	EXPECT_OK(scamem_alloc_pages(m, SCAMEM_GFP_KERNEL, 0, -1, &page));
	EXPECT_ERR(scamem_remap_pfn_range(m, mm, drv, page, PAGE), -EINVAL); /* freeable RAM */
	EXPECT_OK(scamem_remap_pfn_range(m, mm, drv, 0x1000, 2 * PAGE - 100));
	EXPECT_ERR(scamem_remap_pfn_range(m, mm, drv, 0x1000, PAGE), -EBUSY);
	EXPECT_OK(scamem_find_vma(m, mm, drv, &vma));
	EXPECT(vma.mapped_pages == 2 && (vma.vm_flags & (SCAMEM_VMA_IO | SCAMEM_VMA_PFNMAP)) ==
	       (SCAMEM_VMA_IO | SCAMEM_VMA_PFNMAP));
	EXPECT_ERR(scamem_get_user_pages(m, mm, drv, 1, 0, &x), -EFAULT); /* check_vma_flags() */
	EXPECT_ERR(scamem_pin_user_pages(m, mm, drv, 1, 0, &x), -EFAULT);
	EXPECT_ERR(scamem_follow_page(m, mm, drv), -EFAULT);
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);

	EXPECT_OK(scamem_folio_alloc(m, SCAMEM_TYPE_FILE, SCAMEM_GFP_KERNEL, 0, -1, &f[0]));
	EXPECT_OK(scamem_folio_alloc(m, SCAMEM_TYPE_FILE, SCAMEM_GFP_KERNEL, 0, -1, &f[1]));
	EXPECT_OK(scamem_folio_alloc(m, SCAMEM_TYPE_ANON, SCAMEM_GFP_KERNEL, 0, -1, &f[2]));
	num = 1;
	EXPECT_ERR(scamem_vm_insert_pages(m, mm, drv, f, &num), -EINVAL); /* VM_PFNMAP */
	EXPECT(num == 1);
	EXPECT_OK(scamem_mmap(m, mm, 0, 3 * PAGE, SCAMEM_MAP_SHARED, &ins));
	EXPECT_ERR(scamem_vm_insert_pages(m, mm, ins, f, NULL), -EINVAL);
	EXPECT_ERR(scamem_vm_insert_pages(m, mm, ins, NULL, &num), -EINVAL);
	num = 4;
	EXPECT_ERR(scamem_vm_insert_pages(m, mm, ins, f, &num), -EFAULT); /* leaves the VMA */
	EXPECT(num == 4);
	num = 3;
	EXPECT_ERR(scamem_vm_insert_pages(m, mm, ins, f, &num), -EINVAL); /* f[2] is anon */
	EXPECT(num == 1);
	EXPECT_OK(scamem_find_vma(m, mm, ins, &vma));
	EXPECT(vma.mapped_pages == 2 && (vma.vm_flags & SCAMEM_VMA_MIXEDMAP));
	num = 1;
	EXPECT_ERR(scamem_vm_insert_pages(m, mm, ins, f, &num), -EBUSY);
	EXPECT(num == 1);
	EXPECT_OK(scamem_vm_insert_pages(m, mm, ins + 2 * PAGE, f, &num));
	EXPECT(num == 0);
	EXPECT(scamem_folio_put(m, f[0]) == 2); /* the two ptes keep it */
	uint64_t got[3];
	EXPECT(scamem_get_user_pages(m, mm, ins, 3, 0, got) == 3);
	EXPECT(got[0] == f[0] && got[1] == f[1] && got[2] == f[0]);
	for (int i = 0; i < 3; i++)
		EXPECT_OK(scamem_put_page(m, got[i]));
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
	EXPECT_OK(scamem_munmap(m, mm, ins, 3 * PAGE)); /* its last references: f[0] is freed */
	EXPECT_ERR(scamem_folio_put(m, f[0]), -EALREADY);

	/* vm_map_pages(): the VMA after the split starts one page in. */
	EXPECT_OK(scamem_mmap(m, mm, 0, 3 * PAGE, SCAMEM_MAP_SHARED, &part));
	EXPECT_OK(scamem_munmap(m, mm, part, PAGE));
	part += PAGE;
	EXPECT_ERR(scamem_vm_map_pages(m, mm, part, f, 2), -ENXIO);  /* 1 page left, 2 wanted */
	EXPECT_ERR(scamem_vm_map_pages(m, mm, part, NULL, 0), -ENXIO); /* vm_pgoff >= num */
	EXPECT_ERR(scamem_vm_map_pages(m, mm, part, NULL, 3), -EINVAL);
	EXPECT_ERR(scamem_vm_map_pages(m, mm, part + PAGE, f, 3), -EINVAL); /* not the VMA's start */
	EXPECT_ERR(scamem_vm_map_pages(m, mm, part - PAGE, f, 3), -EFAULT);
	EXPECT_ERR(scamem_vm_map_pages(m, mm, drv, f, 3), -EINVAL); /* VM_PFNMAP */
	uint64_t g[3] = {f[2], f[1], f[2]};
	EXPECT_ERR(scamem_vm_map_pages(m, mm, part, g, 3), -EINVAL); /* f[1] in, then anon */
	EXPECT_OK(scamem_find_vma(m, mm, part, &vma));
	EXPECT(vma.mapped_pages == 1);
	EXPECT_OK(scamem_munmap(m, mm, part, 2 * PAGE));
	EXPECT_OK(scamem_mmap(m, mm, 0, 3 * PAGE, SCAMEM_MAP_SHARED, &part));
	EXPECT_OK(scamem_munmap(m, mm, part, PAGE));
	uint64_t h[3] = {0, f[1], f[1]};
	EXPECT_OK(scamem_vm_map_pages(m, mm, part + PAGE, h, 3));
	EXPECT(scamem_follow_page(m, mm, part + PAGE) == (int64_t)f[1]);
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
	EXPECT_OK(scamem_mm_exit(m, mm));
	EXPECT(scamem_folio_put(m, f[1]) == 0);
	EXPECT(scamem_folio_put(m, f[2]) == 0);
	EXPECT_OK(scamem_free_pages(m, page, 0));
	EXPECT_ERR(scamem_remap_pfn_range(m, mm, drv, 0x1000, PAGE), -EBADF);
	EXPECT_ERR(scamem_vm_insert_pages(m, mm, drv, f, &num), -EBADF);
	EXPECT_ERR(scamem_vm_map_pages(m, mm, drv, f, 1), -EBADF);
}

static void test_null_machine(void)
{
	uint64_t x = 0;
	struct scamem *s = NULL;
	struct scamem_mm *mm = NULL;
	struct scamem_stat st;
	struct scamem_vm_struct vm;
	struct scamem_vma vma;
	EXPECT_ERR(scamem_alloc(NULL, 1, 0, 0, 0, &s), -EINVAL);
	EXPECT_ERR(scamem_get(NULL, s), -EINVAL);
	EXPECT_ERR(scamem_put(NULL, s), -EINVAL);
	EXPECT_ERR(scamem_stat(NULL, s, &st), -EINVAL);
	EXPECT_ERR(scamem_page(NULL, s, 0), -EINVAL);
	EXPECT_ERR(scamem_pages(NULL, s, &x, 1), -EINVAL);
	EXPECT_ERR(scamem_page_scamem(NULL, 0, &s), -EINVAL);
	EXPECT_ERR(scamem_vmalloc(NULL, 1, &x), -EINVAL);
	EXPECT_ERR(scamem_vmalloc_user(NULL, 1, &x), -EINVAL);
	EXPECT_ERR(scamem_vmalloc_node(NULL, 1, 0, &x), -EINVAL);
	EXPECT_ERR(scamem_vmalloc_opts(NULL, 1, NULL, &x), -EINVAL);
	EXPECT_ERR(scamem_vmap(NULL, &x, 1, 0, &x), -EINVAL);
	EXPECT_ERR(scamem_vfree(NULL, 0), -EINVAL);
	EXPECT_ERR(scamem_vunmap(NULL, 0), -EINVAL);
	EXPECT_ERR(scamem_find_vm_area(NULL, 0, &vm), -EINVAL);
	EXPECT_ERR(scamem_vm_area_next(NULL, 0, &vm), -EINVAL);
	EXPECT_ERR(scamem_vmalloc_to_pfn(NULL, 0), -EINVAL);
	EXPECT_ERR(scamem_mm_new(NULL, &mm), -EINVAL);
	EXPECT_ERR(scamem_mm_exit(NULL, mm), -EINVAL);
	EXPECT_ERR(scamem_mmap(NULL, mm, 0, 1, SCAMEM_MAP_SHARED, &x), -EINVAL);
	EXPECT_ERR(scamem_munmap(NULL, mm, 0, 1), -EINVAL);
	EXPECT_ERR(scamem_remap_vmalloc_range(NULL, mm, 0, 0, 0), -EINVAL);
	EXPECT_ERR(scamem_remap_vmalloc_range_partial(NULL, mm, 0, 0, 0, 1), -EINVAL);
	EXPECT_ERR(scamem_handle_mm_fault(NULL, mm, 0, &x), -EINVAL);
	EXPECT_ERR(scamem_follow_page(NULL, mm, 0), -EINVAL);
	EXPECT_ERR(scamem_remap_pfn_range(NULL, mm, 0, 0, 1), -EINVAL);
	EXPECT_ERR(scamem_vm_insert_pages(NULL, mm, 0, &x, &x), -EINVAL);
	EXPECT_ERR(scamem_vm_map_pages(NULL, mm, 0, &x, 1), -EINVAL);
	EXPECT_ERR(scamem_find_vma(NULL, mm, 0, &vma), -EINVAL);
	EXPECT_ERR(scamem_get_user_pages(NULL, mm, 0, 1, 0, &x), -EINVAL);
	EXPECT_ERR(scamem_pin_user_pages(NULL, mm, 0, 1, 0, &x), -EINVAL);
	EXPECT_ERR(scamem_put_page(NULL, 0), -EINVAL);
	EXPECT_ERR(scamem_unpin_user_page(NULL, 0), -EINVAL);
	EXPECT_ERR(scamem_unpin_user_pages(NULL, &x, 1), -EINVAL);
	EXPECT_ERR(scamem_folio_maybe_dma_pinned(NULL, 0), -EINVAL);
	EXPECT_ERR(scamem_machine_set_local_node(NULL, 0), -EINVAL);
	EXPECT_ERR(scamem_machine_set_anon_order(NULL, 0), -EINVAL);
}

int main(void)
{
	scamem_machine *m = NULL;
	test_null_machine();
	EXPECT_OK(scamem_machine_new_default(&m));
	if (!m)
		return finish(NULL, "t_scamem");
	struct scamem_machine_info before, after;
	scamem_machine_info(m, &before);
	test_scamem_object(m);
	test_vmalloc(m);
	test_mappings_and_gup(m);
	test_mm_arguments(m);
	test_pfnmap_and_insert_pages(m);
	scamem_machine_info(m, &after);
	EXPECT(after.free_pages == before.free_pages); /* nothing leaked */
	return finish(m, "t_scamem");
}
