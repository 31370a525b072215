/*
 * Benchmarks of the C face, on the default machine (2.36 M pfns).
 * Build and run: make bench. Prints one row per operation: ns per item,
 * best of several rounds (the VM is noisy; the best round is the least
 * disturbed one). --smoke (CI's check) runs one round: it shows the
 * benchmarks run and print, and gates nothing on time.
 */
#define _POSIX_C_SOURCE 199309L
#include <scamem.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int rounds = 5;
#define BENCH(name, items, body)                                                          \
	do {                                                                              \
		double best = 1e300;                                                      \
		for (int round_ = 0; round_ < rounds; round_++) {                         \
			double t0_ = now_ns();                                            \
			body;                                                             \
			double dt_ = now_ns() - t0_;                                      \
			if (dt_ < best)                                                   \
				best = dt_;                                               \
		}                                                                         \
		printf("| %-44s | %12.2f |\n", name, best / (double)(items));             \
	} while (0)

static volatile uint64_t sink;

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--smoke") == 0)
		rounds = 1;
	else if (argc > 1)
		return fprintf(stderr, "usage: bench-bench [--smoke]\n"), 64;
	scamem_machine *m;
	if (scamem_machine_new_default(&m) < 0)
		return 1;
	const uint64_t *w;
	uint64_t nr, pfn;
	struct scamem_layout l;
	scamem_machine_words(m, &w, &nr);
	scamem_machine_layout(m, &l);

	/* Populate: a realistic mix so decoders see every kind of word. */
	for (int i = 0; i < 100000; i++)
		scamem_folio_alloc(m, i % 3 ? SCAMEM_TYPE_FILE : SCAMEM_TYPE_ANON, 0, (uint32_t)i % 3, i % 2, &pfn);
	for (int i = 0; i < 10000; i++)
		scamem_slab_alloc(m, 1, 128, 0, 0, i % 2, &pfn);

	printf("| operation (default machine, %" PRIu64 " pfns) | ns per item |\n", nr);
	printf("|---|---|\n");

	BENCH("inline scan: scamem_word_type() over the view", nr, {
		uint64_t c[SCAMEM_NR_TYPES] = {0};
		for (uint64_t p = 0; p < nr; p++)
			c[scamem_word_type(w[p])]++;
		sink = c[1];
	});
	BENCH("inline decode: type + memdesc_nid (inline words)", nr, {
		uint64_t s = 0;
		for (uint64_t p = 0; p < nr; p++)
			if (scamem_type_is_inline(scamem_word_type(w[p])))
				s += scamem_memdesc_nid(&l, w[p]);
		sink = s;
	});
	BENCH("scamem_classify_range() whole machine, per pfn", nr, {
		uint64_t c[SCAMEM_NR_TYPES] = {0};
		scamem_classify_range(m, 0, nr, c);
		sink = c[1];
	});
	BENCH("scamem_page_to_nid() call", 1000000, {
		uint64_t s = 0;
		for (uint64_t p = 0; p < 1000000; p++)
			s += (uint64_t)scamem_page_to_nid(m, 0x100000 + (p & 0xfffff));
		sink = s;
	});
	BENCH("scamem_word_decode() call", 1000000, {
		struct scamem_word_info wi;
		uint64_t s = 0;
		for (uint64_t p = 0; p < 1000000; p++) {
			scamem_word_decode(&l, w[0x100000 + (p & 0xfffff)], &wi);
			s += wi.nid;
		}
		sink = s;
	});
	BENCH("folio_alloc + folio_put, order 0", 100000, {
		for (int i = 0; i < 100000; i++) {
			scamem_folio_alloc(m, SCAMEM_TYPE_FILE, 0, 0, 1, &pfn);
			scamem_folio_put(m, pfn);
		}
	});
	BENCH("alloc_pages + free_pages, order 9 (split+merge)", 10000, {
		for (int i = 0; i < 10000; i++) {
			scamem_alloc_pages(m, 0, 9, 0, &pfn);
			scamem_free_pages(m, pfn, 9);
		}
	});
	BENCH("scamem_machine_check(), per pfn", nr, { sink = (uint64_t)scamem_machine_check(m, NULL, NULL); });

	/* GUP on a driver's buffer: 512 pages of vmalloc_user, remap_vmalloc_range()d
	 * (callgrind's count of the same loop: scripts/callgrind-gate.sh). */
	struct scamem_mm *mm;
	uint64_t k, u;
	static uint64_t pfns[512];
	if (scamem_mm_new(m, &mm) || scamem_vmalloc_user(m, 512 * SCAMEM_PAGE_SIZE, &k) ||
	    scamem_mmap(m, mm, 0, 512 * SCAMEM_PAGE_SIZE, SCAMEM_MAP_SHARED, &u) ||
	    scamem_remap_vmalloc_range(m, mm, u, k, 0))
		return 1;
	double best_pin = 1e300, best_unpin = 1e300;
	for (int r = 0; r < rounds; r++) {
		double pin = 0, unpin = 0;
		for (int i = 0; i < 100; i++) {
			double t0 = now_ns();
			sink = (uint64_t)scamem_pin_user_pages(m, mm, u, 512, SCAMEM_FOLL_WRITE, pfns);
			double t1 = now_ns();
			sink += (uint64_t)scamem_unpin_user_pages(m, pfns, 512);
			double t2 = now_ns();
			pin += t1 - t0;
			unpin += t2 - t1;
		}
		best_pin = pin < best_pin ? pin : best_pin;
		best_unpin = unpin < best_unpin ? unpin : best_unpin;
	}
	printf("| %-44s | %12.2f |\n", "pin_user_pages, 512 vmalloc_user pages, per page", best_pin / (100 * 512));
	printf("| %-44s | %12.2f |\n", "unpin_user_pages of the same, per page", best_unpin / (100 * 512));
	scamem_mm_exit(m, mm);
	scamem_vfree(m, k);
	scamem_machine_free(m);
	return 0;
}
