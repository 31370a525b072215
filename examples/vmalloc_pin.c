/*
 * The scenario of the linux-mm thread "Mapping vmalloc pages to userspace"
 * (December 2024), step by step: a driver vmallocs a buffer and maps it to
 * userspace, userspace pins it for DMA, the driver vfrees it, the process
 * unmaps and exits, and the unpin comes last. At each step: who holds
 * references on the scamem, and whether its pages are still allocated.
 *
 * Build: cc vmalloc_pin.c $(pkg-config --cflags --libs scamem)
 */
#include <scamem.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#define NR 4

static scamem_machine *m;
static struct scamem *obj;
static uint64_t pages[NR];

static void show(const char *step)
{
	struct scamem_stat st;
	printf("%-48s", step);
	if (scamem_stat(m, obj, &st) == 0)
		printf("refcount %d = vm_struct %d + mappings %d + GUP %d", st.refcount, st.vm_refs, st.map_refs,
		       st.gup_refs);
	else
		printf("scamem freed");
	unsigned freed = 0;
	for (int i = 0; i < NR; i++) {
		struct scamem_page_info pi;
		scamem_page_info(m, pages[i], &pi);
		freed += pi.type == SCAMEM_TYPE_BUDDY;
	}
	printf("; pages %s\n", freed == NR ? "back in the buddy allocator" : freed ? "partly freed (BUG)" : "allocated");
}

static int check(const char *what, int64_t r)
{
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", what, scamem_strerror((int)r));
		return 1;
	}
	return 0;
}

int main(void)
{
	struct scamem_mm *mm;
	struct scamem_vm_struct vm;
	uint64_t kaddr, uaddr, pinned[NR];

	if (check("machine", scamem_machine_new_default(&m)))
		return 1;
	printf("The linux-mm scenario: a driver maps a vmalloc buffer to userspace, userspace pins it\n"
	       "for DMA, the driver vfrees it, and the unpin comes last. Who holds the scamem:\n\n");

	/* Driver: buf = vmalloc_user(4 pages). */
	if (check("vmalloc_user", scamem_vmalloc_user(m, NR * SCAMEM_PAGE_SIZE, &kaddr)) ||
	    check("find_vm_area", scamem_find_vm_area(m, kaddr, &vm)))
		return 1;
	obj = vm.scamem;
	for (uint32_t i = 0; i < NR; i++)
		pages[i] = (uint64_t)scamem_vmalloc_to_pfn(m, kaddr + i * SCAMEM_PAGE_SIZE);
	show("1. driver: vmalloc_user()");

	/* Userspace: mmap() of the device; the driver's ->mmap remaps the buffer. */
	if (check("mm_new", scamem_mm_new(m, &mm)) ||
	    check("mmap", scamem_mmap(m, mm, 0, NR * SCAMEM_PAGE_SIZE, SCAMEM_MAP_SHARED, &uaddr)) ||
	    check("remap_vmalloc_range", scamem_remap_vmalloc_range(m, mm, uaddr, kaddr, 0)))
		return 1;
	show("2. user: mmap(), driver: remap_vmalloc_range()");

	/* Userspace: pin the buffer for DMA. */
	if (check("pin_user_pages", scamem_pin_user_pages(m, mm, uaddr, NR, SCAMEM_FOLL_WRITE | SCAMEM_FOLL_LONGTERM,
							  pinned)))
		return 1;
	show("3. user: pin_user_pages(FOLL_LONGTERM)");

	if (check("vfree", scamem_vfree(m, kaddr)))
		return 1;
	show("4. driver: vfree()");

	if (check("munmap", scamem_munmap(m, mm, uaddr, NR * SCAMEM_PAGE_SIZE)))
		return 1;
	show("5. user: munmap()");

	if (check("mm_exit", scamem_mm_exit(m, mm)))
		return 1;
	show("6. process exit");

	for (int i = 0; i < NR - 1; i++)
		if (check("unpin_user_page", scamem_unpin_user_page(m, pinned[i])))
			return 1;
	show("7. DMA done: unpin 3 of 4 pages");
	if (check("unpin_user_page", scamem_unpin_user_page(m, pinned[NR - 1])))
		return 1;
	show("8. unpin the last page");

	int r = scamem_unpin_user_page(m, pinned[0]);
	printf("\nunpinning again: %s\n", scamem_strerror(r));
	int64_t issues = scamem_machine_check(m, NULL, NULL);
	printf("invariant checker: %" PRId64 " issues\n", issues);
	scamem_machine_free(m);
	return issues == 0 && r == -EALREADY ? 0 : 1;
}
