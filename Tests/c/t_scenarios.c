/* The kernel's users of scattered memory, from C, under each placement
 * strategy: bpf ringbuf (kernel/bpf/ringbuf.c), io_uring regions and
 * registered buffers (io_uring/memmap.c, rsrc.c), kcov (kernel/kcov.c),
 * perf's vmalloc ring buffer (kernel/events/ring_buffer.c) and
 * videobuf2-vmalloc, each call interleaved with munmap, GUP and mm exit, with
 * good and bad input for every entry point. */
#include "test.h"

#define PAGE SCAMEM_PAGE_SIZE

static uint64_t free_pages(scamem_machine *m)
{
	struct scamem_machine_info info;
	return scamem_machine_info(m, &info) == 0 ? info.free_pages : 0;
}

static void clean(scamem_machine *m)
{
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
}

static uint64_t driver_vma(scamem_machine *m, struct scamem_mm *mm, uint64_t len)
{
	uint64_t u = 0;
	EXPECT_OK(scamem_mmap(m, mm, 0, len, SCAMEM_MAP_SHARED, &u));
	return u;
}

static void bpf_ringbuf(scamem_machine *m, uint32_t strategy)
{
	struct scamem_bpf_ringbuf *rb = NULL;
	struct scamem_mm *mm = NULL;
	struct scamem_vm_struct vm;
	uint64_t k = 0, pfn = 0, free0 = free_pages(m);
	int can_pin = strategy == SCAMEM_STRATEGY_LEGACY || strategy == SCAMEM_STRATEGY_VMA_PRIVATE;

	EXPECT_ERR(scamem_bpf_ringbuf_alloc(m, 3 * PAGE, -1, 0, &rb, &k), -EINVAL);
	EXPECT_ERR(scamem_bpf_ringbuf_alloc(m, 0, -1, 0, &rb, &k), -EINVAL);
	EXPECT_ERR(scamem_bpf_ringbuf_alloc(m, UINT64_MAX, -1, 0, &rb, &k), -EINVAL);
	EXPECT_ERR(scamem_bpf_ringbuf_alloc(m, PAGE, 7, 0, &rb, &k), -EINVAL);
	EXPECT_ERR(scamem_bpf_ringbuf_alloc(m, PAGE, -2, 0, &rb, &k), -EINVAL);
	EXPECT_ERR(scamem_bpf_ringbuf_alloc(m, PAGE, -1, 0, NULL, &k), -EINVAL);
	EXPECT_ERR(scamem_bpf_ringbuf_alloc(NULL, PAGE, -1, 0, &rb, &k), -EINVAL);
	EXPECT_OK(scamem_bpf_ringbuf_alloc(m, 4 * PAGE, 1, 0, &rb, &k));
	EXPECT(free_pages(m) == free0 - 7);
	EXPECT_OK(scamem_find_vm_area(m, k, &vm));
	EXPECT(vm.nr_pages == 11 && (vm.flags & SCAMEM_VM_USERMAP) && !(vm.flags & SCAMEM_VM_MAP_PUT_PAGES));
	EXPECT(scamem_vmalloc_to_pfn(m, k + 3 * PAGE) == scamem_vmalloc_to_pfn(m, k + 7 * PAGE));
	clean(m);

	EXPECT_OK(scamem_mm_new(m, &mm));
	uint64_t cons = driver_vma(m, mm, PAGE), data = 0, wide = driver_vma(m, mm, 2 * PAGE);
	EXPECT_OK(scamem_do_mmap(m, mm, 0, 9 * PAGE, SCAMEM_PROT_READ, SCAMEM_MAP_SHARED, &data));
	EXPECT_ERR(scamem_bpf_ringbuf_mmap(m, rb, mm, wide, 0), -EPERM); /* writable: the consumer page only */
	EXPECT_ERR(scamem_bpf_ringbuf_mmap(m, rb, mm, wide, 1), -EPERM);
	EXPECT_ERR(scamem_bpf_ringbuf_mmap(m, rb, mm, data, 9), -EINVAL); /* past the ring */
	EXPECT_ERR(scamem_bpf_ringbuf_mmap(m, rb, mm, 0x7000000000, 1), -EFAULT);
	EXPECT_ERR(scamem_bpf_ringbuf_mmap(m, NULL, mm, data, 1), -EBADF);
	EXPECT_ERR(scamem_bpf_ringbuf_mmap(m, rb, NULL, data, 1), -EBADF);
	EXPECT_OK(scamem_bpf_ringbuf_mmap(m, rb, mm, cons, 0));
	EXPECT_OK(scamem_bpf_ringbuf_mmap(m, rb, mm, data, 1));
	EXPECT_ERR(scamem_bpf_ringbuf_mmap(m, rb, mm, data, 1), -EBUSY);
	/* The data pages twice, in the VMA as in the area. */
	EXPECT(scamem_follow_page(m, mm, data + PAGE) == scamem_follow_page(m, mm, data + 5 * PAGE));
	clean(m);
	if (can_pin) {
		EXPECT(scamem_pin_user_pages(m, mm, data + 5 * PAGE, 1, SCAMEM_FOLL_LONGTERM, &pfn) == 1);
	} else {
		EXPECT_ERR(scamem_pin_user_pages(m, mm, data + 5 * PAGE, 1, SCAMEM_FOLL_LONGTERM, &pfn), -EFAULT);
	}
	/* Earlier than the kernel can get here: refused while anything holds it. */
	EXPECT_ERR(scamem_bpf_ringbuf_free(m, rb), -EBUSY);
	EXPECT_OK(scamem_mm_exit(m, mm));
	clean(m);
	if (can_pin) {
		EXPECT_ERR(scamem_bpf_ringbuf_free(m, rb), -EBUSY);
		EXPECT_OK(scamem_unpin_user_page(m, pfn));
	}
	EXPECT_OK(scamem_bpf_ringbuf_free(m, rb));
	EXPECT_ERR(scamem_bpf_ringbuf_free(m, rb), -EBADF);
	EXPECT_ERR(scamem_bpf_ringbuf_free(NULL, rb), -EINVAL);
	EXPECT(free_pages(m) == free0);
	/* kaddr is optional. */
	EXPECT_OK(scamem_bpf_ringbuf_alloc(m, PAGE, -1, 0, &rb, NULL));
	EXPECT_OK(scamem_bpf_ringbuf_free(m, rb));
	/* A user ringbuf: the consumer page is the read-only part. */
	EXPECT_ERR(scamem_bpf_ringbuf_alloc(m, PAGE, -1, 2, &rb, &k), -EINVAL);
	EXPECT_OK(scamem_bpf_ringbuf_alloc(m, PAGE, -1, SCAMEM_BPF_RINGBUF_USER, &rb, &k));
	EXPECT_OK(scamem_mm_new(m, &mm));
	EXPECT_ERR(scamem_bpf_ringbuf_mmap(m, rb, mm, driver_vma(m, mm, 2 * PAGE), 0), -EPERM);
	EXPECT_OK(scamem_do_mmap(m, mm, 0, 2 * PAGE, SCAMEM_PROT_READ, SCAMEM_MAP_SHARED, &k));
	EXPECT_OK(scamem_bpf_ringbuf_mmap(m, rb, mm, k, 0));
	EXPECT_OK(scamem_mm_exit(m, mm));
	EXPECT_OK(scamem_bpf_ringbuf_free(m, rb));
	EXPECT(free_pages(m) == free0);
	clean(m);
}

static void io_uring(scamem_machine *m)
{
	struct scamem_io_uring_region *r = NULL, *s = NULL;
	struct scamem_io_uring_buffer *b = NULL;
	struct scamem_mm *mm = NULL;
	struct scamem_vm_struct vm;
	uint64_t k = 0, ks = 0, pfn = 0, free0 = free_pages(m);

	EXPECT_ERR(scamem_io_uring_region_alloc(m, 0, 0, &r, &k), -EINVAL);
	EXPECT_ERR(scamem_io_uring_region_alloc(m, 65536 * PAGE, 0, &r, &k), -EINVAL);
	EXPECT_ERR(scamem_io_uring_region_alloc(m, PAGE, 2, &r, &k), -EINVAL);
	EXPECT_ERR(scamem_io_uring_region_alloc(m, PAGE, 0, NULL, &k), -EINVAL);
	EXPECT_OK(scamem_io_uring_region_alloc(m, 3 * PAGE, 0, &r, &k));
	EXPECT_ERR(scamem_find_vm_area(m, k, &vm), -ENOENT); /* compound: the direct map */
	EXPECT_OK(scamem_io_uring_region_alloc(m, 4 * PAGE, SCAMEM_IO_URING_REGION_SINGLE, &s, &ks));
	EXPECT_OK(scamem_find_vm_area(m, ks, &vm));
	EXPECT(vm.nr_pages == 4);

	EXPECT_OK(scamem_mm_new(m, &mm));
	uint64_t ring = driver_vma(m, mm, 4 * PAGE), sqes = driver_vma(m, mm, 4 * PAGE), anon = 0;
	EXPECT_OK(scamem_mmap(m, mm, 0, 8 * PAGE, SCAMEM_MAP_PRIVATE | SCAMEM_MAP_ANONYMOUS, &anon));
	EXPECT_ERR(scamem_io_uring_region_mmap(m, r, mm, anon), -EINVAL);
	EXPECT_ERR(scamem_io_uring_region_mmap(m, r, mm, 0x7000000000), -EFAULT);
	EXPECT_ERR(scamem_io_uring_region_mmap(m, (struct scamem_io_uring_region *)b, mm, ring), -EBADF);
	EXPECT_OK(scamem_io_uring_region_mmap(m, r, mm, ring));
	EXPECT_ERR(scamem_io_uring_region_mmap(m, r, mm, ring), -EBUSY);
	EXPECT_OK(scamem_io_uring_region_mmap(m, s, mm, sqes));
	clean(m);
	/* alloc_pages() pages: no refcount under memdescs, nothing for GUP. */
	EXPECT_ERR(scamem_pin_user_pages(m, mm, sqes, 1, 0, &pfn), -EFAULT);
	EXPECT_ERR(scamem_io_uring_region_free(m, s), -EBUSY);

	/* A registered buffer: 2 pages of anon memory pinned FOLL_LONGTERM. */
	EXPECT_ERR(scamem_io_uring_register_buffer(m, mm, 0, PAGE, &b), -EFAULT);
	EXPECT_ERR(scamem_io_uring_register_buffer(m, mm, anon, 0, &b), -EINVAL);
	EXPECT_ERR(scamem_io_uring_register_buffer(m, mm, anon, (1ull << 30) + 1, &b), -EFAULT);
	EXPECT_ERR(scamem_io_uring_register_buffer(m, mm, UINT64_MAX - 8, PAGE, &b), -EOVERFLOW);
	EXPECT_ERR(scamem_io_uring_register_buffer(m, mm, sqes, PAGE, &b), -EFAULT);
	EXPECT_ERR(scamem_io_uring_register_buffer(m, mm, anon + 7 * PAGE, 2 * PAGE, &b), -EFAULT); /* short pin undone */
	EXPECT_ERR(scamem_io_uring_register_buffer(m, NULL, anon, PAGE, &b), -EBADF);
	EXPECT_ERR(scamem_io_uring_register_buffer(m, mm, anon, PAGE, NULL), -EINVAL);
	EXPECT_OK(scamem_io_uring_register_buffer(m, mm, anon + 100, PAGE, &b));
	EXPECT(scamem_folio_maybe_dma_pinned(m, (uint64_t)scamem_follow_page(m, mm, anon)) == 1);
	clean(m);
	EXPECT_OK(scamem_mm_exit(m, mm));
	clean(m);
	EXPECT_OK(scamem_io_uring_region_free(m, r));
	EXPECT_OK(scamem_io_uring_region_free(m, s));
	EXPECT_ERR(scamem_io_uring_region_free(m, s), -EBADF);
	EXPECT_OK(scamem_io_uring_unregister_buffer(m, b));
	EXPECT_ERR(scamem_io_uring_unregister_buffer(m, b), -EBADF);
	EXPECT_ERR(scamem_io_uring_unregister_buffer(NULL, b), -EINVAL);
	EXPECT(free_pages(m) == free0);
	clean(m);
}

static void kcov_and_perf(scamem_machine *m)
{
	struct scamem_kcov *kc = NULL, *odd = NULL;
	struct scamem_perf_rb *rb = NULL;
	struct scamem_mm *mm = NULL;
	struct scamem_vma vma;
	uint64_t k = 0, pfn = 0, free0 = free_pages(m);

	EXPECT_ERR(scamem_kcov_init_trace(m, 1, &kc, &k), -EINVAL);
	EXPECT_ERR(scamem_kcov_init_trace(m, UINT64_MAX, &kc, &k), -EINVAL);
	EXPECT_ERR(scamem_kcov_init_trace(m, 1024, NULL, &k), -EINVAL);
	EXPECT_OK(scamem_kcov_init_trace(m, 1024, &kc, &k));
	EXPECT_OK(scamem_kcov_init_trace(m, 1000, &odd, NULL));
	EXPECT_OK(scamem_mm_new(m, &mm));
	uint64_t u = driver_vma(m, mm, 2 * PAGE), one = driver_vma(m, mm, PAGE);
	EXPECT_ERR(scamem_kcov_mmap(m, kc, mm, one), -EINVAL);
	EXPECT_ERR(scamem_kcov_mmap(m, odd, mm, u), -EINVAL); /* 8000 bytes is no VMA size */
	EXPECT_ERR(scamem_kcov_mmap(m, kc, mm, 0x7000000000), -EFAULT);
	EXPECT_ERR(scamem_kcov_mmap(m, NULL, mm, u), -EBADF);
	EXPECT_OK(scamem_kcov_mmap(m, kc, mm, u));
	EXPECT_ERR(scamem_kcov_mmap(m, kc, mm, u), -EBUSY);
	EXPECT_OK(scamem_find_vma(m, mm, u, &vma));
	EXPECT(vma.mapped_pages == 2 && vma.scamem != NULL && (vma.vm_flags & SCAMEM_VMA_DONTEXPAND));
	/* vm_insert_page()d vmalloc pages: GUP finds the scamem through them. */
	EXPECT(scamem_pin_user_pages(m, mm, u + PAGE, 1, SCAMEM_FOLL_LONGTERM, &pfn) == 1);
	EXPECT_OK(scamem_kcov_free(m, kc));
	EXPECT_ERR(scamem_kcov_free(m, kc), -EBADF);
	EXPECT_OK(scamem_kcov_free(m, odd));
	clean(m);

	EXPECT_ERR(scamem_perf_rb_alloc(m, 3, &rb, &k), -EINVAL);
	EXPECT_ERR(scamem_perf_rb_alloc(m, 1ull << 21, &rb, &k), -EINVAL);
	EXPECT_ERR(scamem_perf_rb_alloc(m, 4, NULL, &k), -EINVAL);
	EXPECT_OK(scamem_perf_rb_alloc(m, 4, &rb, &k));
	uint64_t p = driver_vma(m, mm, 5 * PAGE);
	EXPECT_ERR(scamem_perf_rb_mmap(m, rb, mm, one), -EINVAL);
	EXPECT_ERR(scamem_perf_rb_mmap(m, (struct scamem_perf_rb *)kc, mm, p), -EBADF);
	EXPECT_OK(scamem_perf_rb_mmap(m, rb, mm, p));
	EXPECT_ERR(scamem_perf_rb_mmap(m, rb, mm, p), -EBUSY);
	EXPECT_OK(scamem_perf_rb_free(m, rb));
	EXPECT_ERR(scamem_perf_rb_free(m, rb), -EBADF);
	clean(m);
	EXPECT_OK(scamem_mm_exit(m, mm));
	clean(m);
	EXPECT_OK(scamem_unpin_user_page(m, pfn));
	EXPECT(free_pages(m) == free0);
	clean(m);
}

static void videobuf2(scamem_machine *m)
{
	struct scamem_vb2_buffer *b = NULL, *up = NULL;
	struct scamem_mm *mm = NULL;
	uint64_t k = 0, pfns[3], free0, anon = 0;

	/* A read of untouched anon memory takes the zero page, never freed: take it first. */
	EXPECT_OK(scamem_mm_new(m, &mm));
	EXPECT_OK(scamem_mmap(m, mm, 0, PAGE, SCAMEM_MAP_PRIVATE | SCAMEM_MAP_ANONYMOUS, &anon));
	EXPECT(scamem_get_user_pages(m, mm, anon, 1, 0, pfns) == 1);
	EXPECT_OK(scamem_put_page(m, pfns[0]));
	EXPECT_OK(scamem_mm_exit(m, mm));
	free0 = free_pages(m);

	EXPECT_ERR(scamem_vb2_vmalloc_alloc(m, 0, &b, &k), -EINVAL);
	EXPECT_ERR(scamem_vb2_vmalloc_alloc(m, (1ull << 30) + 1, &b, &k), -EINVAL);
	EXPECT_ERR(scamem_vb2_vmalloc_alloc(m, PAGE, NULL, &k), -EINVAL);
	EXPECT_OK(scamem_vb2_vmalloc_alloc(m, 3 * PAGE, &b, &k));
	EXPECT_OK(scamem_mm_new(m, &mm));
	uint64_t u = driver_vma(m, mm, 3 * PAGE), big = driver_vma(m, mm, 4 * PAGE);
	EXPECT_ERR(scamem_vb2_vmalloc_mmap(m, b, mm, big), -EINVAL);
	EXPECT_ERR(scamem_vb2_vmalloc_mmap(m, NULL, mm, u), -EBADF);
	EXPECT_OK(scamem_vb2_vmalloc_mmap(m, b, mm, u));
	EXPECT_ERR(scamem_vb2_vmalloc_mmap(m, b, mm, u), -EBUSY);
	/* The MMAP buffer imported as another device's USERPTR buffer. */
	EXPECT_OK(scamem_vb2_vmalloc_get_userptr(m, mm, u, 3 * PAGE, 1, &up));
	EXPECT_OK(scamem_vb2_vmalloc_put(m, b));
	EXPECT_ERR(scamem_vb2_vmalloc_put(m, b), -EBADF);
	EXPECT_ERR(scamem_vb2_vmalloc_put(m, up), -EBADF);
	EXPECT_OK(scamem_mm_exit(m, mm));
	clean(m);
	EXPECT_OK(scamem_vb2_vmalloc_put_userptr(m, up));
	EXPECT_ERR(scamem_vb2_vmalloc_put_userptr(m, up), -EBADF);
	EXPECT(free_pages(m) == free0);

	EXPECT_OK(scamem_mm_new(m, &mm));
	EXPECT_OK(scamem_mmap(m, mm, 0, 2 * PAGE, SCAMEM_MAP_PRIVATE | SCAMEM_MAP_ANONYMOUS, &anon));
	EXPECT_ERR(scamem_vb2_vmalloc_get_userptr(m, mm, anon, 0, 0, &up), -EINVAL);
	EXPECT_ERR(scamem_vb2_vmalloc_get_userptr(m, mm, UINT64_MAX - PAGE, 2 * PAGE, 0, &up), -EINVAL);
	EXPECT_ERR(scamem_vb2_vmalloc_get_userptr(m, mm, anon + PAGE, 2 * PAGE, 0, &up), -EFAULT);
	EXPECT_ERR(scamem_vb2_vmalloc_get_userptr(m, mm, anon, PAGE, 0, NULL), -EINVAL);
	EXPECT_OK(scamem_vb2_vmalloc_get_userptr(m, mm, anon + 1, PAGE, 0, &up));
	EXPECT(scamem_get_user_pages(m, mm, anon, 2, 0, pfns) == 2);
	EXPECT_OK(scamem_put_page(m, pfns[0]));
	EXPECT_OK(scamem_put_page(m, pfns[1]));
	EXPECT_ERR(scamem_vb2_vmalloc_mmap(m, up, mm, anon), -EBADF);
	EXPECT_OK(scamem_vb2_vmalloc_put_userptr(m, up));
	EXPECT_ERR(scamem_vb2_vmalloc_put_userptr(NULL, up), -EINVAL);
	EXPECT_OK(scamem_mm_exit(m, mm));
	EXPECT(free_pages(m) == free0);
	clean(m);
}

/* vm_insert_pages() of an alloc_pages() page and of a vmalloc page. */
static void insert_pages(scamem_machine *m, uint32_t strategy)
{
	struct scamem_mm *mm = NULL;
	uint64_t page = 0, k = 0, num, free0 = free_pages(m);
	EXPECT_OK(scamem_alloc_pages(m, SCAMEM_GFP_KERNEL, 0, -1, &page));
	EXPECT_OK(scamem_vmalloc_user(m, PAGE, &k));
	uint64_t vpfn = (uint64_t)scamem_vmalloc_to_pfn(m, k);
	EXPECT_OK(scamem_mm_new(m, &mm));
	uint64_t a = driver_vma(m, mm, PAGE), b = driver_vma(m, mm, PAGE);
	num = 1;
	EXPECT_OK(scamem_vm_insert_pages(m, mm, a, &page, &num));
	EXPECT(num == 0);
	EXPECT_ERR(scamem_free_pages(m, page, 0), -EBUSY);
	num = 1;
	if (strategy == SCAMEM_STRATEGY_VMA_PRIVATE) {
		EXPECT_ERR(scamem_vm_insert_pages(m, mm, b, &vpfn, &num), -EINVAL);
	} else {
		EXPECT_OK(scamem_vm_insert_pages(m, mm, b, &vpfn, &num));
		EXPECT_OK(scamem_vfree(m, k));
		k = 0;
	}
	clean(m);
	EXPECT_OK(scamem_mm_exit(m, mm));
	EXPECT_OK(scamem_free_pages(m, page, 0));
	if (k)
		EXPECT_OK(scamem_vfree(m, k));
	EXPECT(free_pages(m) == free0);
	clean(m);
}

int main(void)
{
	/* A small two-node machine, so the checker after each step stays cheap
	 * under valgrind: node 0 DMA32 [0x1000, 0x4000), node 1 NORMAL [0x4000, 0x8000). */
	static const struct scamem_zone_span zones[] = {
		{ 0, SCAMEM_ZONE_DMA32, 0x1000, 0x3000 },
		{ 1, SCAMEM_ZONE_NORMAL, 0x4000, 0x4000 },
	};
	for (uint32_t s = 1; s <= SCAMEM_NR_STRATEGIES; s++) {
		struct scamem_machine_desc d;
		scamem_machine_desc_default(&d);
		d.nr_nodes = 2;
		d.zones = zones;
		d.nr_zones = 2;
		d.nr_holes = 0;
		d.nr_reserved = 0;
		d.strategy = s;
		scamem_machine *m = NULL;
		EXPECT_OK(scamem_machine_new(&d, &m));
		if (!m)
			continue;
		bpf_ringbuf(m, s);
		io_uring(m);
		kcov_and_perf(m);
		videobuf2(m);
		insert_pages(m, s);
		clean(m);
		scamem_machine_free(m);
	}
	return finish(NULL, "t_scenarios");
}
