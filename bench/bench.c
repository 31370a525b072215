/*
 * Benchmarks of the C face, on the default machine (2.36 M pfns).
 * Build and run: make bench. Prints one row per operation (ns per item, best
 * of several rounds: the VM is noisy, the best round the least disturbed),
 * then issue 12's targets, each as a ratio to a baseline timed in the same
 * run. --smoke (CI's check) runs one round: it shows the benchmarks run and
 * print, and gates nothing on time. --callgrind NAME ITERS runs benchmark
 * NAME once, then ITERS times with callgrind's instrumentation on (run it
 * with --instr-atstart=no): scripts/bench-callgrind.sh divides the count by
 * ITERS and the items of one iteration. --list names them with their items.
 */
#define _POSIX_C_SOURCE 199309L
#include <scamem.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <valgrind/callgrind.h>

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static volatile uint64_t sink;

#define GUP_PAGES 512
#define VMALLOC_PAGES 256
#define NID_CALLS 4096
#define FA_BIG 4096

/* What the benchmarks work on, set up once. */
/* The default machine; two SCAMEM_FLAGS_ARRAY ones (their areas: fa_populate()). */
static scamem_machine *m, *fa, *fa2;
static const uint64_t *w, *fa_w;
static uint64_t nr, fa_nr;
static struct scamem_layout l;
static struct scamem_mm *mm;
static uint64_t vm_k, vm_u, small_u, large_u;
static uint64_t gup_pfns[GUP_PAGES], floor_out[GUP_PAGES];

static void die(const char *what)
{
	fprintf(stderr, "bench: %s failed\n", what);
	exit(1);
}

/* A mapped driver buffer (vmalloc_user, remap_vmalloc_range()) and two
 * private anonymous areas faulted in as small and as order-9 folios. */
static void setup(void)
{
	uint64_t pfn;
	if (scamem_machine_new_default(&m) < 0)
		die("machine");
	scamem_machine_words(m, &w, &nr);
	scamem_machine_layout(m, &l);
	/* A realistic mix so decoders see every kind of word. */
	for (int i = 0; i < 100000; i++)
		scamem_folio_alloc(m, i % 3 ? SCAMEM_TYPE_FILE : SCAMEM_TYPE_ANON, 0, (uint32_t)i % 3, i % 2, &pfn);
	for (int i = 0; i < 10000; i++)
		scamem_slab_alloc(m, 1, 128, 0, 0, i % 2, &pfn);
	if (scamem_mm_new(m, &mm) || scamem_vmalloc_user(m, GUP_PAGES * SCAMEM_PAGE_SIZE, &vm_k) ||
	    scamem_mmap(m, mm, 0, GUP_PAGES * SCAMEM_PAGE_SIZE, SCAMEM_MAP_SHARED, &vm_u) ||
	    scamem_remap_vmalloc_range(m, mm, vm_u, vm_k, 0))
		die("vmalloc_user mapping");
	/* A 2 MiB-aligned area each, so order 9 fits. */
	const uint64_t anon = SCAMEM_MAP_PRIVATE | SCAMEM_MAP_ANONYMOUS | SCAMEM_MAP_FIXED;
	small_u = 0x40000000;
	large_u = 0x40200000;
	if (scamem_mmap(m, mm, small_u, GUP_PAGES * SCAMEM_PAGE_SIZE, (uint32_t)anon, &small_u) ||
	    scamem_mmap(m, mm, large_u, GUP_PAGES * SCAMEM_PAGE_SIZE, (uint32_t)anon, &large_u))
		die("anonymous mappings");
	if (scamem_pin_user_pages(m, mm, small_u, GUP_PAGES, SCAMEM_FOLL_WRITE, gup_pfns) != GUP_PAGES ||
	    scamem_unpin_user_pages(m, gup_pfns, GUP_PAGES) != GUP_PAGES)
		die("small folio fault-in");
	scamem_machine_set_anon_order(m, 9);
	if (scamem_pin_user_pages(m, mm, large_u, GUP_PAGES, SCAMEM_FOLL_WRITE, gup_pfns) != GUP_PAGES ||
	    scamem_unpin_user_pages(m, gup_pfns, GUP_PAGES) != GUP_PAGES)
		die("large folio fault-in");
	scamem_machine_set_anon_order(m, 0);
	if (scamem_pin_user_pages(m, mm, vm_u, GUP_PAGES, SCAMEM_FOLL_WRITE, gup_pfns) != GUP_PAGES ||
	    scamem_unpin_user_pages(m, gup_pfns, GUP_PAGES) != GUP_PAGES)
		die("vmalloc pin");

	struct scamem_machine_desc d;
	scamem_machine_desc_default(&d);
	d.strategy = SCAMEM_STRATEGY_FLAGS_ARRAY;
	if (scamem_machine_new(&d, &fa) < 0 || scamem_machine_new(&d, &fa2) < 0)
		die("FLAGS_ARRAY machine");
	scamem_machine_words(fa, &fa_w, &fa_nr);
}

/* The same 262,144 pages (an eighth of the memory) in vmalloc areas on both
 * FLAGS_ARRAY machines: 64 of FA_BIG pages, 1024 of 256. A checker that
 * searched pages[] per page would cost 16x more per page on the first. */
#define FA_BIG_AREAS 64
#define FA_SMALL_AREAS (FA_BIG_AREAS * FA_BIG / VMALLOC_PAGES)
static uint64_t fa_areas[FA_BIG_AREAS], fa2_areas[FA_SMALL_AREAS];
static void fa_populate(void)
{
	for (int i = 0; i < FA_BIG_AREAS; i++)
		if (scamem_vmalloc(fa, FA_BIG * SCAMEM_PAGE_SIZE, &fa_areas[i]))
			die("FLAGS_ARRAY areas");
	for (int i = 0; i < FA_SMALL_AREAS; i++)
		if (scamem_vmalloc(fa2, VMALLOC_PAGES * SCAMEM_PAGE_SIZE, &fa2_areas[i]))
			die("FLAGS_ARRAY areas");
}

/* Each benchmark: one iteration does `items` of something. */
static void b_scan(void)
{
	uint64_t c[SCAMEM_NR_TYPES] = {0};
	for (uint64_t p = 0; p < nr; p++)
		c[scamem_word_type(w[p])]++;
	sink = c[1];
}

static void b_classify(void)
{
	uint64_t c[SCAMEM_NR_TYPES] = {0};
	scamem_classify_range(m, 0, nr, c);
	sink = c[1];
}

/* page_to_nid() of NID_CALLS free pages of node 1 (BUDDY words, inline):
 * the header's inline decode of the same words is its baseline. */
#define NID_PFN(i) (0x200000 + ((uint64_t)(i) * 97 & 0x3ffff))
static void b_nid_inline(void)
{
	uint64_t s = 0;
	for (uint64_t i = 0; i < NID_CALLS; i++) {
		uint64_t x = w[NID_PFN(i)];
		if (scamem_type_is_inline(scamem_word_type(x)))
			s += scamem_memdesc_nid(&l, x);
	}
	sink = s;
}

static void b_nid_call(void)
{
	uint64_t s = 0;
	for (uint64_t i = 0; i < NID_CALLS; i++)
		s += (uint64_t)scamem_page_to_nid(m, NID_PFN(i));
	sink = s;
}

static void b_word_decode(void)
{
	struct scamem_word_info wi;
	uint64_t s = 0;
	for (uint64_t i = 0; i < NID_CALLS; i++) {
		scamem_word_decode(&l, w[NID_PFN(i)], &wi);
		s += wi.nid;
	}
	sink = s;
}

static void b_folio(void)
{
	uint64_t pfn;
	scamem_folio_alloc(m, SCAMEM_TYPE_FILE, 0, 0, 1, &pfn);
	scamem_folio_put(m, pfn);
}

static void b_order9(void)
{
	uint64_t pfn;
	scamem_alloc_pages(m, 0, 9, 0, &pfn);
	scamem_free_pages(m, pfn, 9);
}

static void b_order0_256(void)
{
	static uint64_t pfns[VMALLOC_PAGES];
	for (int i = 0; i < VMALLOC_PAGES; i++)
		scamem_alloc_pages(m, 0, 0, 0, &pfns[i]);
	for (int i = 0; i < VMALLOC_PAGES; i++)
		scamem_free_pages(m, pfns[i], 0);
}

static void vmalloc_vfree(scamem_machine *on, uint64_t pages)
{
	uint64_t k;
	if (scamem_vmalloc(on, pages * SCAMEM_PAGE_SIZE, &k) == 0)
		scamem_vfree(on, k);
}

static void b_vmalloc(void) { vmalloc_vfree(m, VMALLOC_PAGES); }
static void b_fa_vmalloc_small(void) { vmalloc_vfree(fa, VMALLOC_PAGES); }
static void b_fa_vmalloc_big(void) { vmalloc_vfree(fa, FA_BIG); }

static void b_check(void) { sink = (uint64_t)scamem_machine_check(m, NULL, NULL); }

static void b_fa_check_big(void) { sink = (uint64_t)scamem_machine_check(fa, NULL, NULL); }
static void b_fa_check_small(void) { sink = (uint64_t)scamem_machine_check(fa2, NULL, NULL); }

/* pin_user_pages_fast(), as the kernel's gup_test benchmarks by default:
 * the set-up's locked pins published the VMAs, so these take no lock. */
static void gup_pin(uint64_t u)
{
	if (scamem_pin_user_pages_fast(m, mm, u, GUP_PAGES, SCAMEM_FOLL_WRITE, gup_pfns) != GUP_PAGES)
		die("pin");
}

static void gup_unpin(void)
{
	if (scamem_unpin_user_pages(m, gup_pfns, GUP_PAGES) != GUP_PAGES)
		die("unpin");
}

static void b_gup_vmalloc(void) { gup_pin(vm_u); gup_unpin(); }
static void b_gup_vmalloc_locked(void)
{
	if (scamem_pin_user_pages(m, mm, vm_u, GUP_PAGES, SCAMEM_FOLL_WRITE, gup_pfns) != GUP_PAGES)
		die("pin");
	gup_unpin();
}
static void b_gup_small(void) { gup_pin(small_u); gup_unpin(); }
static void b_gup_large(void) { gup_pin(large_u); gup_unpin(); }

/* The least pin_user_pages() must do per page, in C: read the page's word,
 * hand back its pfn and count the reference. */
static void b_gup_floor(void)
{
	static uint64_t refs[SCAMEM_NR_TYPES];
	for (int i = 0; i < GUP_PAGES; i++) {
		uint64_t pfn = gup_pfns[i];
		refs[scamem_word_type(w[pfn])]++;
		floor_out[i] = pfn;
	}
	sink = refs[0] + floor_out[GUP_PAGES - 1];
}

struct bench {
	const char *name;
	const char *what;
	void (*run)(void);
	uint64_t items; /* 0: nr (pfns of the default machine) */
	double best;    /* ns per item */
};

static struct bench benches[] = {
	{"scan", "inline scan: scamem_word_type() over the view, per pfn", b_scan, 0, 0},
	{"classify", "scamem_classify_range() whole machine, per pfn", b_classify, 0, 0},
	{"nid_inline", "inline decode: memdesc_nid of the words", b_nid_inline, NID_CALLS, 0},
	{"nid_call", "scamem_page_to_nid() call", b_nid_call, NID_CALLS, 0},
	{"word_decode", "scamem_word_decode() call", b_word_decode, NID_CALLS, 0},
	{"folio", "folio_alloc + folio_put, order 0", b_folio, 1, 0},
	{"order9", "alloc_pages + free_pages, order 9 (split+merge)", b_order9, 1, 0},
	{"order0_256", "256 x alloc_pages order 0, then free, per page", b_order0_256, VMALLOC_PAGES, 0},
	{"vmalloc", "vmalloc + vfree, 256 pages, per page", b_vmalloc, VMALLOC_PAGES, 0},
	{"check", "scamem_machine_check(), per pfn", b_check, 0, 0},
	{"gup_floor", "C loop: word, pfn and a count per page", b_gup_floor, GUP_PAGES, 0},
	{"gup_vmalloc", "pin_user_pages_fast + unpin, 512 vmalloc_user pages, per page", b_gup_vmalloc, GUP_PAGES, 0},
	{"gup_vmalloc_locked", "pin_user_pages (locked) + unpin, the same, per page", b_gup_vmalloc_locked, GUP_PAGES, 0},
	{"gup_small", "pin + unpin, 512 small anon folios, per page", b_gup_small, GUP_PAGES, 0},
	{"gup_large", "pin + unpin, one order-9 anon folio, per page", b_gup_large, GUP_PAGES, 0},
	{"fa_vmalloc_small", "FLAGS_ARRAY vmalloc + vfree, 256 pages, per page", b_fa_vmalloc_small, VMALLOC_PAGES, 0},
	{"fa_vmalloc_big", "FLAGS_ARRAY vmalloc + vfree, 4096 pages, per page", b_fa_vmalloc_big, FA_BIG, 0},
	{"fa_check_small", "FLAGS_ARRAY machine_check(), 1024 x 256-page areas, per pfn", b_fa_check_small, 0, 0},
	{"fa_check_big", "FLAGS_ARRAY machine_check(), 64 x 4096-page areas, per pfn", b_fa_check_big, 0, 0},
};
#define NR_BENCHES (sizeof(benches) / sizeof(benches[0]))

static struct bench *find(const char *name)
{
	for (size_t i = 0; i < NR_BENCHES; i++)
		if (strcmp(benches[i].name, name) == 0)
			return &benches[i];
	return NULL;
}

static uint64_t items_of(const struct bench *b)
{
	if (b->items)
		return b->items;
	return b->run == b_fa_check_big || b->run == b_fa_check_small ? fa_nr : nr;
}

/* Best of `rounds`, each of enough iterations to take about 20 ms. */
static double measure(struct bench *b, int rounds)
{
	double t0 = now_ns();
	b->run();
	double once = now_ns() - t0;
	long iters = once > 0 ? (long)(2e7 / once) : 1;
	if (iters < 1)
		iters = 1;
	double best = 1e300;
	for (int r = 0; r < rounds; r++) {
		t0 = now_ns();
		for (long i = 0; i < iters; i++)
			b->run();
		double dt = (now_ns() - t0) / (double)iters;
		if (dt < best)
			best = dt;
	}
	return best / (double)items_of(b);
}

/* A thread's work: pin and unpin 512 mapped vmalloc_user pages (`mm` set),
 * or take 256 order-0 pages from node `nid` in bulk and free them, `rounds`
 * times. */
struct worker {
	struct scamem_mm *mm;
	uint64_t u;
	int32_t nid;
	long rounds;
	int failed;
};

static void *work(void *arg)
{
	struct worker *k = arg;
	uint64_t pfns[GUP_PAGES];
	for (long i = 0; i < k->rounds; i++) {
		if (k->mm) {
			if (scamem_pin_user_pages_fast(m, k->mm, k->u, GUP_PAGES, SCAMEM_FOLL_WRITE, pfns) != GUP_PAGES ||
			    scamem_unpin_user_pages(m, pfns, GUP_PAGES) != GUP_PAGES)
				k->failed = 1;
			continue;
		}
		for (int p = 0; p < VMALLOC_PAGES; p++)
			pfns[p] = SCAMEM_PFN_NONE;
		if (scamem_alloc_pages_bulk(m, SCAMEM_GFP_KERNEL | SCAMEM_GFP_THISNODE, k->nid, VMALLOC_PAGES, pfns) !=
		    VMALLOC_PAGES)
			k->failed = 1;
		for (int p = 0; p < VMALLOC_PAGES; p++)
			if (pfns[p] != SCAMEM_PFN_NONE && scamem_free_pages(m, pfns[p], 0) < 0)
				k->failed = 1;
	}
	return NULL;
}

/* Wall time of `n` threads running workers `k` at once. */
static double run_threads(struct worker *k, int n)
{
	pthread_t t[2];
	double t0 = now_ns();
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, work, &k[i]);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	double dt = now_ns() - t0;
	for (int i = 0; i < n; i++)
		if (k[i].failed)
			die("threaded work");
	return dt;
}

/* Throughput of workers `two` at once over `one` doing both's work alone
 * (twice `n` rounds), best of `rounds`. */
static double ratio_of(int rounds, struct worker one, struct worker two[2], long n)
{
	double best = 0;
	for (int r = 0; r < rounds; r++) {
		one.rounds = 2 * n;
		double t1 = run_threads(&one, 1);
		two[0].rounds = two[1].rounds = n;
		double t2 = run_threads(two, 2);
		if (t1 / t2 > best)
			best = t1 / t2;
	}
	return best;
}

/* Pins: two threads on different mms and areas (`same` 0), or both on the
 * same area. */
static double thread_ratio(int rounds, int same)
{
	struct scamem_mm *mm2;
	uint64_t k2, u2;
	if (scamem_mm_new(m, &mm2) || scamem_vmalloc_user(m, GUP_PAGES * SCAMEM_PAGE_SIZE, &k2) ||
	    scamem_mmap(m, mm2, 0, GUP_PAGES * SCAMEM_PAGE_SIZE, SCAMEM_MAP_SHARED, &u2) ||
	    scamem_remap_vmalloc_range(m, mm2, u2, k2, 0))
		die("second mapping");
	struct worker one = {mm, vm_u, 0, 0, 0};
	struct worker two[2] = {{mm, vm_u, 0, 0, 0}, {same ? mm : mm2, same ? vm_u : u2, 0, 0, 0}};
	double best = ratio_of(rounds, one, two, 200);
	scamem_mm_exit(m, mm2);
	scamem_vfree(m, k2);
	return best;
}

/* Page allocation: two threads on the NORMAL zones of nodes 0 and 1
 * (`same` 0), or both on node 1's. */
static double alloc_ratio(int rounds, int same)
{
	struct worker one = {NULL, 0, 1, 0, 0};
	struct worker two[2] = {{NULL, 0, same ? 1 : 0, 0, 0}, {NULL, 0, 1, 0, 0}};
	return ratio_of(rounds, one, two, 400);
}

static void target(const char *what, double value, const char *unit, double baseline, const char *base_what,
		   const char *goal, int met)
{
	printf("| %-46s | %9.2f %-4s | %-30s %9.2f | %7.2fx | %-26s | %s |\n", what, value, unit, base_what, baseline,
	       baseline > 0 ? value / baseline : 0, goal, met ? "met" : "MISSED");
}

int main(int argc, char **argv)
{
	int rounds = 5;
	if (argc == 4 && strcmp(argv[1], "--callgrind") == 0) {
		struct bench *b = find(argv[2]);
		long iters = strtol(argv[3], NULL, 10);
		if (!b || iters < 0)
			return fprintf(stderr, "bench: no benchmark %s\n", argv[2]), 64;
		setup();
		fa_populate();
		b->run(); /* first-use costs stay out of the count */
		CALLGRIND_START_INSTRUMENTATION;
		for (long i = 0; i < iters; i++)
			b->run();
		CALLGRIND_STOP_INSTRUMENTATION;
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		setup();
		for (size_t i = 0; i < NR_BENCHES; i++)
			printf("%s %" PRIu64 "\n", benches[i].name, items_of(&benches[i]));
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--smoke") == 0)
		rounds = 1;
	else if (argc > 1)
		return fprintf(stderr, "usage: bench-bench [--smoke | --list | --callgrind NAME ITERS]\n"), 64;
	setup();

	printf("| operation (default machine, %" PRIu64 " pfns) | ns per item |\n", nr);
	printf("|---|---|\n");
	for (size_t i = 0; i < NR_BENCHES; i++) {
		if (benches[i].run == b_fa_check_small)
			fa_populate();
		benches[i].best = measure(&benches[i], rounds);
		printf("| %-58s | %10.2f |\n", benches[i].what, benches[i].best);
	}
	/* pin and unpin apart, per page, as the kernel's gup_test reports them. */
	double pin = 1e300, unpin = 1e300;
	for (int r = 0; r < rounds; r++) {
		double p = 0, u = 0;
		for (int i = 0; i < 100; i++) {
			double t0 = now_ns();
			gup_pin(vm_u);
			double t1 = now_ns();
			gup_unpin();
			double t2 = now_ns();
			p += t1 - t0;
			u += t2 - t1;
		}
		pin = p < pin ? p : pin;
		unpin = u < unpin ? u : unpin;
	}
	pin /= 100.0 * GUP_PAGES;
	unpin /= 100.0 * GUP_PAGES;
	printf("| %-58s | %10.2f |\n", "pin_user_pages_fast alone, 512 vmalloc_user pages, per page", pin);
	printf("| %-58s | %10.2f |\n", "unpin_user_pages alone, per page", unpin);
	double threads_apart = thread_ratio(rounds, 0), threads_same = thread_ratio(rounds, 1);
	printf("| %-58s | %9.2fx |\n", "2 threads / 1 thread throughput, different areas", threads_apart);
	printf("| %-58s | %9.2fx |\n", "2 threads / 1 thread throughput, the same area", threads_same);
	double alloc_apart = alloc_ratio(rounds, 0), alloc_same = alloc_ratio(rounds, 1);
	printf("| %-58s | %9.2fx |\n", "2 threads / 1 thread alloc+free, different zones", alloc_apart);
	printf("| %-58s | %9.2fx |\n", "2 threads / 1 thread alloc+free, the same zone", alloc_same);

	/* Issue 12's targets: each against a baseline from this run. */
	double gup = find("gup_vmalloc")->best, floor_ns = find("gup_floor")->best;
	double small = find("gup_small")->best, large = find("gup_large")->best;
	double nid = find("nid_call")->best, nid_inline = find("nid_inline")->best;
	double vm = find("vmalloc")->best, o0 = find("order0_256")->best;
	double cl = find("classify")->best, scan = find("scan")->best;
	double fa_small = find("fa_vmalloc_small")->best, fa_big = find("fa_vmalloc_big")->best;
	double fa_chk = find("fa_check_big")->best, fa_chk_small = find("fa_check_small")->best;
	printf("\n| target | measured | baseline (same run) | ratio | goal | |\n|---|---|---|---|---|---|\n");
	target("pin + unpin, vmalloc_user, per page", gup, "ns", floor_ns, "C loop over the same pages", "ratio only", 1);
	target("pin alone, per page", pin, "ns", floor_ns, "C loop over the same pages", "< 30 ns", pin < 30);
	target("unpin alone, per page", unpin, "ns", floor_ns, "C loop over the same pages", "< 15 ns", unpin < 15);
	target("pin + unpin, small anon folios, per page", small, "ns", large, "one order-9 folio", ">= 5x the large", small >= 5 * large);
	target("2 threads, different areas (throughput)", threads_apart, "x", 1, "one thread", ">= 1.6x", threads_apart >= 1.6);
	target("2 threads, the same area (throughput)", threads_same, "x", 1, "one thread", ">= 1x", threads_same >= 1.0);
	target("2 threads alloc+free, different zones", alloc_apart, "x", 1, "one thread", ">= 1.6x", alloc_apart >= 1.6);
	target("2 threads alloc+free, the same zone", alloc_same, "x", 1, "one thread", "ratio only", 1);
	target("scamem_page_to_nid()", nid, "ns", nid_inline, "inline decode", "< 5 ns, <= 4x", nid < 5 && nid <= 4 * nid_inline);
	target("vmalloc + vfree 256 pages, per page", vm, "ns", o0, "alloc_pages+free_pages order 0", "< 40 ns", vm < 40);
	target("classify whole machine, per pfn", cl, "ns", scan, "C -O2 loop over the view", "<= 2x", cl <= 2 * scan);
	target("FLAGS_ARRAY vmalloc+vfree, 4096 pages, per page", fa_big, "ns", fa_small, "the same, 256 pages", "linear: ~1x", fa_big <= 1.5 * fa_small);
	target("FLAGS_ARRAY check, 4096-page areas, per pfn", fa_chk, "ns", fa_chk_small, "the same pages, 256-page areas", "linear: ~1x", fa_chk <= 1.5 * fa_chk_small);
	printf("\n(import targets: bench-import below; instructions: scripts/bench-callgrind.sh)\n");

	scamem_mm_exit(m, mm);
	scamem_vfree(m, vm_k);
	for (int a = 0; a < FA_BIG_AREAS; a++)
		scamem_vfree(fa, fa_areas[a]);
	for (int a = 0; a < FA_SMALL_AREAS; a++)
		scamem_vfree(fa2, fa2_areas[a]);
	scamem_machine_free(fa2);
	scamem_machine_free(fa);
	scamem_machine_free(m);
	return 0;
}
