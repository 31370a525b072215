/*
 * The instruction count behind docs/performance.md's GUP figure: pin and
 * unpin of the 512 pages of a mapped vmalloc_user area (remap_vmalloc_range),
 * argv[1] times, one scamem_pin_user_pages() and one scamem_unpin_user_pages()
 * call per round, FOLL_WRITE. Run under valgrind --tool=callgrind with N and
 * with 0 rounds: the difference over N * 512 is the cost per page
 * (scripts/callgrind-gate.sh). Not a timing: instructions do not drift with
 * the machine's load.
 */
#include <scamem.h>
#include <stdlib.h>

#define PAGES 512

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 0;
	scamem_machine *m;
	struct scamem_mm *mm;
	uint64_t k, u;
	static uint64_t pfns[PAGES];
	if (scamem_machine_new_default(&m) || scamem_mm_new(m, &mm) ||
	    scamem_vmalloc_user(m, PAGES * SCAMEM_PAGE_SIZE, &k) ||
	    scamem_mmap(m, mm, 0, PAGES * SCAMEM_PAGE_SIZE, SCAMEM_MAP_SHARED, &u) ||
	    scamem_remap_vmalloc_range(m, mm, u, k, 0))
		return 1;
	for (int i = 0; i < rounds; i++) {
		if (scamem_pin_user_pages(m, mm, u, PAGES, SCAMEM_FOLL_WRITE, pfns) != PAGES)
			return 2;
		if (scamem_unpin_user_pages(m, pfns, PAGES) != PAGES)
			return 3;
	}
	scamem_mm_exit(m, mm);
	scamem_vfree(m, k);
	scamem_machine_free(m);
	return 0;
}
