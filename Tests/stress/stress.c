/*
 * stress: N threads on one machine for a bounded time.
 *
 *   stress [threads] [seconds] [strategy]
 *
 * threads: worker threads (default 4, 1..64); one more thread runs read-only
 * queries and the invariant checker. seconds: the whole run (default
 * $STRESS_SECONDS, else 10), split evenly between the strategies run.
 * strategy: 0..5 (SCAMEM_STRATEGY_*) or "all" (the default: 1..5, each on a
 * fresh machine from scamem_machine_desc_default()). $STRESS_SEED changes the
 * seeds (printed); $STRESS_CHECK_MS is the checker's period (default 200);
 * $STRESS_RAW_WORDS=0 stops the lock-free reads of scamem_machine_words();
 * $STRESS_VERBOSE lists the legal errors by source line.
 *
 * Workers do random operations: vmalloc (user, plain, node, opts), vmap,
 * vfree while mapped and pinned, mm_new, mmap + remap_vmalloc_range
 * (_partial), anonymous mmap + handle_mm_fault, pin/get_user_pages with and
 * without FOLL_LONGTERM/FOLL_WRITE, unpin/put (one by one and batched),
 * munmap of a middle part (a split), mm_exit, folio/alloc_pages/slab/ptdesc
 * and scamem object churn, ZONE_DMA exhaustion, and the anon-order and
 * local-node knobs. The query thread calls the read-only queries and the
 * checker (which must find 0 issues every time) and reads the word array
 * without the lock, as scamem_machine_words() allows. What a
 * worker creates goes into shared pools (one mutex), so other threads free
 * it: a reference in a pool has exactly one owner, the thread that took it
 * out, and its release must succeed. Operations on handles merely peeked
 * from a pool race with their frees: there the errors the header documents
 * for a vanished object are legal, nothing else is. A sequence on objects
 * not yet published checks exact results (op_pipeline), except where
 * recycled addresses and pfns let another thread's stale reference land
 * (lower bounds there).
 *
 * At the end: join, release everything still held, then the checker must
 * find 0 issues and free_pages must equal managed_pages (all memory is
 * free at creation). Any failure makes the exit status non-zero.
 */
#define _POSIX_C_SOURCE 200809L
#include <scamem.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAGE ((uint64_t)SCAMEM_PAGE_SIZE)
#define MAX_WORKERS 64
#define NONE 0 /* an empty list of legal errors */

/* ------------------------------------------------------------------ */
/* Per-thread context, RNG, failure reporting                          */
/* ------------------------------------------------------------------ */

enum op {
	OP_VMALLOC, OP_VFREE, OP_VMAP, OP_MM_NEW, OP_MM_EXIT, OP_PIPELINE, OP_MAP_SHARED, OP_ANON,
	OP_GUP, OP_UNPIN, OP_MUNMAP, OP_FOLIO, OP_PAGES, OP_SCAMEM, OP_KNOBS, OP_PRESSURE, NR_OPS
};
static const char *const op_names[NR_OPS] = {
	"vmalloc", "vfree", "vmap", "mm_new", "mm_exit", "pipeline", "map_shared", "anon",
	"gup", "unpin", "munmap", "folio", "pages", "scamem", "knobs", "pressure",
};
/* Relative weights of the worker operations. Whether a pooled kind is
 * created or freed follows the pool's fill (want_free), so pools hover
 * around half full instead of saturating or draining. */
static const unsigned op_weight[NR_OPS] = { 10, 10, 3, 3, 3, 6, 8, 8, 12, 12, 6, 6, 6, 6, 1, 1 };

#define NR_ERRNO 160
struct ctx {
	int id;
	uint64_t seed, rng;
	scamem_machine *m;
	uint64_t calls;              /* library calls */
	uint64_t legal[NR_ERRNO];    /* legal errors, by errno */
	uint32_t legal_at[2048][2];  /* the first errno seen at a source line, and how often */
	uint64_t by_op[NR_OPS];      /* worker operations done */
	uint64_t checks;             /* checker runs (query thread) */
	double check_max_s;          /* the longest checker run */
};

static atomic_int g_stop;    /* workers: stop now */
static atomic_int g_qstop;   /* query thread: stop now */
static atomic_int g_failed;  /* failures seen */
static int g_strategy;
static pthread_mutex_t g_print = PTHREAD_MUTEX_INITIALIZER;

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* xorshift64* */
static uint64_t rnd(struct ctx *c)
{
	uint64_t x = c->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	c->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

static uint64_t below(struct ctx *c, uint64_t n) { return n ? rnd(c) % n : 0; }
static int chance(struct ctx *c, unsigned percent) { return below(c, 100) < percent; }

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void fail(struct ctx *c, const char *fmt, ...)
{
	int n = atomic_fetch_add(&g_failed, 1);
	atomic_store(&g_stop, 1);
	if (n >= 20)
		return;
	va_list ap;
	va_start(ap, fmt);
	pthread_mutex_lock(&g_print);
	fprintf(stderr, "FAIL [strategy %d, thread %d, seed 0x%016" PRIx64 "]: ", g_strategy, c ? c->id : -1,
		c ? c->seed : 0);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&g_print);
	va_end(ap);
}

/*
 * Every library call goes through here: a result in [lo, hi] is success; a
 * negative one must be in the list of legal errors (0 entries mean none;
 * the list ends with 1). Anything else, positive where 0 is promised
 * included, is a failure. Returns rc.
 */
static long long checked(struct ctx *c, long long rc, long long lo, long long hi, const int *allowed,
			 const char *expr, int line)
{
	c->calls++;
	if (rc >= lo && rc <= hi)
		return rc;
	if (rc < 0) {
		for (const int *a = allowed; *a != 1; a++) {
			if (*a != 0 && rc == *a) {
				if (-rc < NR_ERRNO)
					c->legal[-rc]++;
				if (line < 2048 && (c->legal_at[line][0] == 0 || c->legal_at[line][0] == (uint32_t)-rc)) {
					c->legal_at[line][0] = (uint32_t)-rc;
					c->legal_at[line][1]++;
				}
				return rc;
			}
		}
	}
	fail(c, "line %d: %s returned %lld (%s); success is [%lld, %lld]", line, expr, rc,
	     rc < 0 ? scamem_strerror((int)rc) : "positive", lo, hi);
	return rc;
}
#define CALL(lo, hi, call, ...) \
	checked(c, (long long)(call), (long long)(lo), (long long)(hi), (const int[]){ __VA_ARGS__, 1 }, #call, __LINE__)
#define CALL0(call, ...) CALL(0, 0, call, __VA_ARGS__)
#define EXPECT(cond)                                                                      \
	do {                                                                              \
		if (!(cond))                                                              \
			fail(c, "line %d: expected %s", __LINE__, #cond);                \
	} while (0)

static void print_issue(void *user, uint64_t pfn, int32_t what, const char *message)
{
	(void)user;
	pthread_mutex_lock(&g_print);
	fprintf(stderr, "  check: pfn 0x%" PRIx64 " kind %d: %s\n", pfn, what, message);
	pthread_mutex_unlock(&g_print);
}

/* ------------------------------------------------------------------ */
/* Shared pools                                                        */
/* ------------------------------------------------------------------ */

struct item {
	uint64_t a, b;
	void *p;
	uint32_t f;
};
#define AREA_USERMAP 1u

struct pool {
	struct item *v;
	int n, cap;
};

struct hint {
	uint64_t start, npages;
	uint32_t anon;
};
#define NR_HINTS 8
struct mmslot {
	struct scamem_mm *mm;
	struct hint h[NR_HINTS];
	int nh, next;
};
#define MM_CAP 16

static struct {
	pthread_mutex_t mu;
	struct pool areas, gup, folios, pages, slabs, ptdescs, scamems;
	struct mmslot mms[MM_CAP];
	int nmm;
} P = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void pool_init(struct pool *p, int cap)
{
	p->v = calloc((size_t)cap, sizeof *p->v);
	p->n = 0;
	p->cap = cap;
	if (!p->v) {
		perror("calloc");
		exit(2);
	}
}

static int pool_put(struct pool *p, struct item it)
{
	int ok = 0;
	pthread_mutex_lock(&P.mu);
	if (p->n < p->cap) {
		p->v[p->n++] = it;
		ok = 1;
	}
	pthread_mutex_unlock(&P.mu);
	return ok;
}

static int pool_take(struct ctx *c, struct pool *p, struct item *out)
{
	int ok = 0;
	pthread_mutex_lock(&P.mu);
	if (p->n > 0) {
		int i = (int)below(c, (uint64_t)p->n);
		*out = p->v[i];
		p->v[i] = p->v[--p->n];
		ok = 1;
	}
	pthread_mutex_unlock(&P.mu);
	return ok;
}

/* A copy of a random item, left in the pool: its owner may free it any time. */
static int pool_peek(struct ctx *c, struct pool *p, struct item *out)
{
	int ok = 0;
	pthread_mutex_lock(&P.mu);
	if (p->n > 0) {
		*out = p->v[below(c, (uint64_t)p->n)];
		ok = 1;
	}
	pthread_mutex_unlock(&P.mu);
	return ok;
}

/* Free rather than create, with a probability of the pool's fill. */
static int want_free(struct ctx *c, const struct pool *p)
{
	pthread_mutex_lock(&P.mu);
	uint64_t fill = (uint64_t)p->n * 100 / (uint64_t)p->cap;
	pthread_mutex_unlock(&P.mu);
	return below(c, 100) < fill;
}

static int want_mm_exit(struct ctx *c)
{
	pthread_mutex_lock(&P.mu);
	uint64_t fill = (uint64_t)P.nmm * 100 / MM_CAP;
	pthread_mutex_unlock(&P.mu);
	return below(c, 100) < fill;
}

static int mm_put(struct mmslot *s)
{
	int ok = 0;
	pthread_mutex_lock(&P.mu);
	if (P.nmm < MM_CAP) {
		P.mms[P.nmm++] = *s;
		ok = 1;
	}
	pthread_mutex_unlock(&P.mu);
	return ok;
}

static int mm_take(struct ctx *c, struct mmslot *out)
{
	int ok = 0;
	pthread_mutex_lock(&P.mu);
	if (P.nmm > 0) {
		int i = (int)below(c, (uint64_t)P.nmm);
		*out = P.mms[i];
		P.mms[i] = P.mms[--P.nmm];
		ok = 1;
	}
	pthread_mutex_unlock(&P.mu);
	return ok;
}

/* A peeked mm and, if it has any, one of its mapping hints (maybe stale). */
static int mm_peek(struct ctx *c, struct scamem_mm **mm, struct hint *h, int *has_hint)
{
	int ok = 0;
	*has_hint = 0;
	pthread_mutex_lock(&P.mu);
	if (P.nmm > 0) {
		struct mmslot *s = &P.mms[below(c, (uint64_t)P.nmm)];
		*mm = s->mm;
		if (s->nh > 0) {
			*h = s->h[below(c, (uint64_t)s->nh)];
			*has_hint = 1;
		}
		ok = 1;
	}
	pthread_mutex_unlock(&P.mu);
	return ok;
}

static void hint_add(struct mmslot *s, struct hint h)
{
	s->h[s->next] = h;
	s->next = (s->next + 1) % NR_HINTS;
	if (s->nh < NR_HINTS)
		s->nh++;
}

static void mm_add_hint(struct scamem_mm *mm, struct hint h)
{
	pthread_mutex_lock(&P.mu);
	for (int i = 0; i < P.nmm; i++) {
		if (P.mms[i].mm == mm) {
			hint_add(&P.mms[i], h);
			break;
		}
	}
	pthread_mutex_unlock(&P.mu);
}

/* ------------------------------------------------------------------ */
/* Releasing what a thread owns                                        */
/* ------------------------------------------------------------------ */

static void release_gup(struct ctx *c, struct item it)
{
	if (it.f)
		CALL0(scamem_unpin_user_page(c->m, it.a), NONE);
	else
		CALL0(scamem_put_page(c->m, it.a), NONE);
}

/* vfree() for every area: the vmap() ones have VM_MAP_PUT_PAGES, whose pages
 * only vfree() frees (vunmap() of such an area is -EINVAL). */
static void release_area(struct ctx *c, struct item it) { CALL0(scamem_vfree(c->m, it.a), NONE); }

static void release_mm(struct ctx *c, struct scamem_mm *mm) { CALL0(scamem_mm_exit(c->m, mm), NONE); }

static void keep_gup(struct ctx *c, uint64_t pfn, uint32_t pin)
{
	struct item it = { pfn, 0, NULL, pin };
	if (!pool_put(&P.gup, it))
		release_gup(c, it);
}

static void keep_area(struct ctx *c, uint64_t addr, uint64_t npages, uint32_t f)
{
	struct item it = { addr, npages, NULL, f };
	if (!pool_put(&P.areas, it))
		release_area(c, it);
}

static void keep_mm(struct ctx *c, struct mmslot *s)
{
	if (!mm_put(s))
		release_mm(c, s->mm);
}

/* A page some reference keeps must not be free. */
static void expect_held(struct ctx *c, uint64_t pfn, int line)
{
	struct scamem_page_info pi;
	if (CALL0(scamem_page_info(c->m, pfn, &pi), NONE) == 0 && (pi.type == SCAMEM_TYPE_BUDDY || pi.pfn != pfn))
		fail(c, "line %d: pfn 0x%" PRIx64 " is held but reads type %u (pfn 0x%" PRIx64 ")", line, pfn,
		     pi.type, pi.pfn);
}

static const uint32_t gfps[] = { SCAMEM_GFP_KERNEL, SCAMEM_GFP_KERNEL, SCAMEM_GFP_DMA32, SCAMEM_GFP_MOVABLE,
				 SCAMEM_GFP_KERNEL | SCAMEM_GFP_THISNODE };
static uint32_t rnd_gfp(struct ctx *c) { return gfps[below(c, sizeof gfps / sizeof gfps[0])]; }
static int32_t rnd_nid(struct ctx *c) { return (int32_t)below(c, 3) - 1; } /* -1, 0, 1 */

/* ------------------------------------------------------------------ */
/* Worker operations                                                   */
/* ------------------------------------------------------------------ */

/* A new vmalloc area of npages; checks it exists as asked. 0 or -1. */
static int new_area(struct ctx *c, uint64_t npages, int usermap, uint64_t *addr)
{
	scamem_machine *m = c->m;
	long long rc;
	unsigned v = (unsigned)below(c, 10);
	if (usermap || v < 6) {
		usermap = 1;
		rc = CALL0(scamem_vmalloc_user(m, npages * PAGE - below(c, PAGE), addr), NONE);
	} else if (v < 7) {
		rc = CALL0(scamem_vmalloc(m, npages * PAGE, addr), NONE);
	} else if (v < 8) {
		rc = CALL0(scamem_vmalloc_node(m, npages * PAGE, (int32_t)below(c, 2), addr), NONE);
	} else {
		struct scamem_vmalloc_opts o = { sizeof o, 0, rnd_gfp(c), (uint32_t)below(c, 3), (int32_t)below(c, 2), 0,
						 rnd(c) };
		if (chance(c, 50))
			o.vm_flags |= SCAMEM_VM_USERMAP, usermap = 1;
		if (chance(c, 30))
			o.vm_flags |= SCAMEM_VM_NO_GUARD;
		rc = CALL0(scamem_vmalloc_opts(m, npages * PAGE, &o, addr), NONE);
	}
	if (rc != 0)
		return -1;
	struct scamem_vm_struct vm;
	if (CALL0(scamem_find_vm_area(m, *addr, &vm), NONE) == 0) {
		EXPECT(vm.addr == *addr && vm.nr_pages == npages);
		EXPECT(!usermap || (vm.flags & SCAMEM_VM_USERMAP));
	}
	int64_t pfn = (int64_t)CALL(0, INT64_MAX, scamem_vmalloc_to_pfn(m, *addr + below(c, npages) * PAGE), NONE);
	if (pfn >= 0)
		expect_held(c, (uint64_t)pfn, __LINE__);
	return 0;
}

static void op_vmalloc(struct ctx *c)
{
	uint64_t npages = 1 + below(c, chance(c, 80) ? 8 : 32), addr;
	int usermap = chance(c, 70);
	if (new_area(c, npages, usermap, &addr) == 0) {
		struct scamem_vm_struct vm;
		uint32_t f = 0;
		if (CALL0(scamem_find_vm_area(c->m, addr, &vm), NONE) == 0 && (vm.flags & SCAMEM_VM_USERMAP))
			f = AREA_USERMAP;
		keep_area(c, addr, npages, f);
	}
}

static void op_vfree(struct ctx *c)
{
	struct item it;
	if (!pool_take(c, &P.areas, &it))
		return;
	/* Ours: it exists until we free it, whoever maps or pins it. */
	struct scamem_vm_struct vm;
	if (CALL0(scamem_find_vm_area(c->m, it.a, &vm), NONE) == 0)
		EXPECT(vm.addr == it.a && vm.nr_pages == it.b);
	release_area(c, it);
}

static void op_vmap(struct ctx *c)
{
	uint64_t pfns[4], addr;
	uint32_t n = 1 + (uint32_t)below(c, 4), got = 0;
	for (; got < n; got++)
		if (CALL0(scamem_alloc_pages(c->m, rnd_gfp(c) & ~SCAMEM_GFP_THISNODE, 0, rnd_nid(c), &pfns[got]), NONE))
			break;
	uint32_t flags = SCAMEM_VM_MAP_PUT_PAGES | (chance(c, 60) ? SCAMEM_VM_USERMAP : 0);
	if (got == n && CALL0(scamem_vmap(c->m, pfns, n, flags, &addr), NONE) == 0) {
		struct scamem_vm_struct vm;
		if (CALL0(scamem_find_vm_area(c->m, addr, &vm), NONE) == 0)
			EXPECT(vm.nr_pages == n);
		EXPECT(scamem_vmalloc_to_pfn(c->m, addr + (n - 1) * PAGE) == (int64_t)pfns[n - 1]);
		keep_area(c, addr, n, (flags & SCAMEM_VM_USERMAP) ? AREA_USERMAP : 0);
		return;
	}
	for (uint32_t i = 0; i < got; i++)
		CALL0(scamem_free_pages(c->m, pfns[i], 0), NONE);
}

static void op_mm_new(struct ctx *c)
{
	struct mmslot s;
	memset(&s, 0, sizeof s);
	if (CALL0(scamem_mm_new(c->m, &s.mm), NONE) == 0)
		keep_mm(c, &s);
}

static void op_mm_exit(struct ctx *c)
{
	struct mmslot s;
	if (mm_take(c, &s))
		release_mm(c, s.mm);
}

/* pin_user_pages() or get_user_pages(), half the time their _fast() forms
 * (GUP-fast without the lock, then the locked walk for the rest). */
static long long gup(struct ctx *c, struct scamem_mm *mm, uint64_t start, uint64_t n, uint32_t f, uint64_t *pfns,
		     int pin)
{
	int fast = chance(c, 50);
	if (pin)
		return fast ? scamem_pin_user_pages_fast(c->m, mm, start, n, f, pfns)
			    : scamem_pin_user_pages(c->m, mm, start, n, f, pfns);
	return fast ? scamem_get_user_pages_fast(c->m, mm, start, n, f, pfns)
		    : scamem_get_user_pages(c->m, mm, start, n, f, pfns);
}

/* get_user_pages() flags: FOLL_GET is what it implies anyway. */
static uint32_t get_flags(struct ctx *c)
{
	return (chance(c, 50) ? SCAMEM_FOLL_WRITE : 0) | (chance(c, 20) ? SCAMEM_FOLL_GET : 0);
}

static uint32_t pin_flags(struct ctx *c)
{
	uint32_t f = 0;
	if (chance(c, 50))
		f |= SCAMEM_FOLL_WRITE;
	if (chance(c, 50))
		f |= SCAMEM_FOLL_LONGTERM;
	return f;
}

/*
 * Objects nobody else sees yet, so every result is exact: an mm, a
 * vmalloc_user area mapped (whole or partly) into a driver VMA, pins and gets
 * on it, a split by munmap, an anonymous VMA faulted and pinned. Then it is
 * either published for others to free, or torn down here in the order the
 * interesting cases need: vfree while mapped and pinned, mm_exit, unpin.
 */
static void op_pipeline(struct ctx *c)
{
	scamem_machine *m = c->m;
	struct mmslot s;
	memset(&s, 0, sizeof s);
	if (CALL0(scamem_mm_new(m, &s.mm), NONE) != 0)
		return;
	struct scamem_mm *mm = s.mm;
	uint64_t n = 3 + below(c, 14), k, u, pfns[16], gpfns[16 + 8];
	uint32_t pins[16 + 8];
	int ngup = 0;
	if (new_area(c, n, 1, &k) != 0 || CALL0(scamem_mmap(m, mm, 0, n * PAGE, SCAMEM_MAP_SHARED, &u), NONE) != 0) {
		release_mm(c, mm);
		return;
	}
	/* Whole, or pages [pgoff, pgoff + len) of the area at page j of the VMA. */
	uint64_t pgoff = 0, len = n, j = 0;
	if (chance(c, 50)) {
		CALL0(scamem_remap_vmalloc_range(m, mm, u, k, 0), NONE);
	} else {
		pgoff = below(c, n);
		len = 1 + below(c, n - pgoff);
		j = below(c, n - len + 1);
		CALL0(scamem_remap_vmalloc_range_partial(m, mm, u + j * PAGE, k, pgoff, len * PAGE), NONE);
		CALL(-EBUSY, -EBUSY, scamem_remap_vmalloc_range_partial(m, mm, u + j * PAGE, k, pgoff, PAGE), NONE);
	}
	struct scamem_vma vma;
	struct scamem *obj = NULL;
	if (CALL0(scamem_find_vma(m, mm, u + j * PAGE, &vma), NONE) == 0) {
		EXPECT(vma.start == u && vma.end == u + n * PAGE && vma.mapped_pages == len && vma.scamem != NULL &&
		       !vma.anonymous);
		obj = vma.scamem;
	}
	for (uint64_t i = 0; i < len; i++) {
		int64_t want = scamem_vmalloc_to_pfn(m, k + (pgoff + i) * PAGE);
		EXPECT(want >= 0 && scamem_follow_page(m, mm, u + (j + i) * PAGE) == want);
		pfns[i] = (uint64_t)want;
	}
	if (j > 0)
		CALL(-EFAULT, -EFAULT, scamem_follow_page(m, mm, u), NONE); /* a hole in the VMA */
	/* GUP over the mapped pages. */
	uint64_t g = 1 + below(c, len), gs = below(c, len - g + 1);
	int pin = chance(c, 60);
	uint32_t gf = pin ? pin_flags(c) : get_flags(c);
	long long got = CALL(g, g, gup(c, mm, u + (j + gs) * PAGE, g, gf, gpfns, pin), NONE);
	for (long long i = 0; i < got; i++) {
		EXPECT(gpfns[i] == pfns[gs + (uint64_t)i]);
		pins[ngup] = (uint32_t)pin;
		gpfns[ngup++] = gpfns[i];
	}
	if (pin && got > 0)
		CALL(1, 1, scamem_folio_maybe_dma_pinned(m, gpfns[0]), NONE);
	/* Who holds what: the object (scamem strategies), or each page (LEGACY:
	 * the pages array, the pte, and GUP's 1 or GUP_PIN_COUNTING_BIAS).
	 * Lower bounds, not equalities: vmalloc addresses are reused, so a
	 * thread that peeked the address of an area freed since may remap, or
	 * scamem_get, this new one at the same address (ABA). The mm here is
	 * private, so our own counts are exact; foreign ones only add. */
	int legacy = g_strategy == SCAMEM_STRATEGY_LEGACY;
	int obj_maps = legacy ? 0 : 1, obj_gups = legacy ? 0 : ngup;
	struct scamem_stat st;
	if (legacy && got > 0) {
		struct scamem_page_info pi;
		if (CALL0(scamem_page_info(m, gpfns[0], &pi), NONE) == 0 &&
		    (pi.refcount < 2 + (pin ? SCAMEM_GUP_PIN_COUNTING_BIAS : 1) || pi.mapcount < 1))
			fail(c, "line %d: LEGACY page in an area, mapped once, %s once: refcount %d mapcount %d", __LINE__,
			     pin ? "pinned" : "got", pi.refcount, pi.mapcount);
	}
	if (obj && CALL0(scamem_stat(m, obj, &st), NONE) == 0 &&
	    !(st.vm_refs == 1 && st.map_refs >= obj_maps && st.gup_refs >= obj_gups && st.caller_refs >= 0 &&
	      st.refcount == st.vm_refs + st.map_refs + st.gup_refs + st.caller_refs && st.nr == n))
		fail(c, "line %d: stat of a private area of %" PRIu64 " pages, mapped once, %d GUP refs: nr %u refcount %d "
			"vm %d map %d gup %d caller %d", __LINE__, n, ngup, st.nr, st.refcount, st.vm_refs, st.map_refs,
		     st.gup_refs, st.caller_refs);
	/* Split: unmap a middle page of the VMA. */
	uint64_t mid = UINT64_MAX;
	if (chance(c, 50)) {
		mid = 1 + below(c, n - 2);
		CALL0(scamem_munmap(m, mm, u + mid * PAGE, PAGE), NONE);
		struct scamem_vma lo, hi;
		if (CALL0(scamem_find_vma(m, mm, u, &lo), NONE) == 0)
			EXPECT(lo.start == u && lo.end == u + mid * PAGE);
		if (CALL0(scamem_find_vma(m, mm, u + (mid + 1) * PAGE, &hi), NONE) == 0)
			EXPECT(hi.start == u + (mid + 1) * PAGE && hi.end == u + n * PAGE);
		CALL(-EFAULT, -EFAULT, scamem_find_vma(m, mm, u + mid * PAGE, &vma), NONE);
		/* Parts still mapping some of the area hold one reference each
		 * (header: each remaining part keeps its own scamem reference). */
		int parts = legacy ? 0 : (j < mid ? 1 : 0) + (j + len > mid + 1 ? 1 : 0);
		if (obj && CALL0(scamem_stat(m, obj, &st), NONE) == 0 && st.map_refs < parts)
			fail(c, "line %d: after a split at page %" PRIu64 " of %" PRIu64 " (remap [%" PRIu64 ", +%" PRIu64
				") map_refs is %d, expected at least %d", __LINE__, mid, n, j, len, st.map_refs, parts);
		hint_add(&s, (struct hint){ u, mid, 0 });
		hint_add(&s, (struct hint){ u + (mid + 1) * PAGE, n - mid - 1, 0 });
	} else {
		hint_add(&s, (struct hint){ u, n, 0 });
	}
	/* An anonymous VMA: fault, follow, pin. */
	uint64_t a, na = 1 + below(c, 8), apfn;
	int shared = chance(c, 50);
	if (CALL0(scamem_mmap(m, mm, 0, na * PAGE, shared ? SCAMEM_MAP_SHARED | SCAMEM_MAP_ANONYMOUS
						       : SCAMEM_MAP_PRIVATE | SCAMEM_MAP_ANONYMOUS, &a),
		  NONE) == 0) {
		uint64_t at = a + below(c, na) * PAGE;
		if (CALL0(scamem_handle_mm_fault(m, mm, at, &apfn), NONE) == 0) {
			EXPECT(scamem_follow_page(m, mm, at) == (int64_t)apfn);
			struct scamem_page_info pi;
			if (CALL0(scamem_page_info(m, apfn, &pi), NONE) == 0)
				/* MAP_SHARED | MAP_ANONYMOUS is shmem: FILE folios. */
				EXPECT(pi.type == (shared ? SCAMEM_TYPE_FILE : SCAMEM_TYPE_ANON) && pi.mapcount >= 1);
		}
		uint64_t ap[8];
		int p2 = chance(c, 50);
		/* FOLL_WRITE: a read would find the zero page, which takes no pin. */
		uint32_t f2 = (p2 ? pin_flags(c) : 0) | SCAMEM_FOLL_WRITE;
		long long got2 = p2 ? CALL(na, na, scamem_pin_user_pages(m, mm, a, na, f2, ap), NONE)
				    : CALL(na, na, scamem_get_user_pages(m, mm, a, na, f2, ap), NONE);
		for (long long i = 0; i < got2; i++) {
			if (p2)
				CALL(1, 1, scamem_folio_maybe_dma_pinned(m, ap[i]), NONE);
			pins[ngup] = (uint32_t)p2;
			gpfns[ngup++] = ap[i];
		}
		if (got2 > 0)
			EXPECT(apfn == ap[(at - a) / PAGE]);
		hint_add(&s, (struct hint){ a, na, 1 });
	}
	/* Publish, or tear down here: vfree while mapped and pinned, then exit. */
	if (chance(c, 60)) {
		keep_area(c, k, n, AREA_USERMAP);
		keep_mm(c, &s);
		for (int i = 0; i < ngup; i++)
			keep_gup(c, gpfns[i], pins[i]);
		return;
	}
	CALL0(scamem_vfree(m, k), NONE);
	for (int i = 0; i < ngup; i++)
		expect_held(c, gpfns[i], __LINE__);
	/* The mapping outlives the area: its pages still pin and fault. */
	if (j != mid && ngup < 24 && chance(c, 50)) {
		uint64_t pfn;
		if (CALL(1, 1, scamem_pin_user_pages(m, mm, u + j * PAGE, 1, pin_flags(c), &gpfns[ngup]), NONE) == 1) {
			EXPECT(gpfns[ngup] == pfns[0]);
			pins[ngup++] = 1;
		}
		if (CALL0(scamem_handle_mm_fault(m, mm, u + j * PAGE, &pfn), NONE) == 0)
			EXPECT(pfn == pfns[0]);
	}
	release_mm(c, mm);
	CALL(-EBADF, -EBADF, scamem_follow_page(m, mm, u), NONE); /* handles are never reused */
	for (int i = 0; i < ngup; i++)
		expect_held(c, gpfns[i], __LINE__);
	if (chance(c, 50)) {
		/* Batched unpin of the pins, in order; then puts of the gets. */
		uint64_t pp[32];
		int np = 0;
		for (int i = 0; i < ngup; i++)
			if (pins[i])
				pp[np++] = gpfns[i];
		CALL(np, np, scamem_unpin_user_pages(m, pp, (uint64_t)np), NONE);
		for (int i = 0; i < ngup; i++)
			if (!pins[i])
				CALL0(scamem_put_page(m, gpfns[i]), NONE);
	} else {
		for (int i = 0; i < ngup; i++)
			keep_gup(c, gpfns[i], pins[i]);
	}
}

/* A driver VMA in a peeked mm, filled from a peeked area: races everywhere. */
static void op_map_shared(struct ctx *c)
{
	scamem_machine *m = c->m;
	struct scamem_mm *mm;
	struct hint h;
	int has;
	struct item ar;
	if (!mm_peek(c, &mm, &h, &has) || !pool_peek(c, &P.areas, &ar))
		return;
	/* Mostly VM_USERMAP areas; now and then a plain one (-EINVAL). */
	for (int tries = 0; tries < 3 && !(ar.f & AREA_USERMAP) && chance(c, 90); tries++)
		pool_peek(c, &P.areas, &ar);
	uint64_t u, n = ar.b;
	/* Into an existing driver VMA (maybe split, partly filled, gone):
	 * fills a hole, or -EBUSY where something is mapped already. */
	if (has && !h.anon && chance(c, 30)) {
		uint64_t off = below(c, h.npages), len = 1 + below(c, n < h.npages - off ? n : h.npages - off);
		uint64_t pgoff = below(c, n - len + 1);
		CALL0(scamem_remap_vmalloc_range_partial(m, mm, h.start + off * PAGE, ar.a, pgoff, len * PAGE), -EINVAL,
		      -EFAULT, -EBUSY, -EBADF);
		return;
	}
	int whole = chance(c, 50);
	uint64_t vlen = whole ? n : n + below(c, 4);
	if (CALL0(scamem_mmap(m, mm, 0, vlen * PAGE, chance(c, 80) ? SCAMEM_MAP_SHARED : SCAMEM_MAP_PRIVATE, &u),
		  -EBADF) != 0)
		return;
	/* -EINVAL: the area went (or is not VM_USERMAP, or a new one is smaller);
	 * -EFAULT: another thread unmapped the VMA; -EBUSY: it remapped it;
	 * -EBADF: the mm exited. */
	if (whole) {
		CALL0(scamem_remap_vmalloc_range(m, mm, u, ar.a, 0), -EINVAL, -EFAULT, -EBUSY, -EBADF);
	} else {
		uint64_t pgoff = below(c, n), len = 1 + below(c, n - pgoff);
		CALL0(scamem_remap_vmalloc_range_partial(m, mm, u + below(c, vlen - len + 1) * PAGE, ar.a, pgoff,
							 len * PAGE),
		      -EINVAL, -EFAULT, -EBUSY, -EBADF);
	}
	mm_add_hint(mm, (struct hint){ u, vlen, 0 });
}

static void op_anon(struct ctx *c)
{
	scamem_machine *m = c->m;
	struct scamem_mm *mm;
	struct hint h;
	int has;
	if (!mm_peek(c, &mm, &h, &has))
		return;
	uint64_t n = 1 + below(c, 16), a, pfn;
	uint32_t flags = (chance(c, 70) ? SCAMEM_MAP_PRIVATE : SCAMEM_MAP_SHARED) | SCAMEM_MAP_ANONYMOUS;
	long long rc;
	if (chance(c, 20)) /* MAP_FIXED into a small window: overlaps happen */
		rc = CALL0(scamem_mmap(m, mm, 0x10000000ull + below(c, 256) * PAGE, n * PAGE, flags | SCAMEM_MAP_FIXED,
				       &a),
			   -EBADF, -EEXIST);
	else
		rc = CALL0(scamem_mmap(m, mm, 0, n * PAGE, flags, &a), -EBADF);
	if (rc != 0)
		return;
	mm_add_hint(mm, (struct hint){ a, n, 1 });
	for (uint64_t i = 0, f = 1 + below(c, n); i < f; i++) {
		uint64_t at = a + below(c, n) * PAGE;
		/* -EFAULT: another thread unmapped it. */
		if (CALL0(scamem_handle_mm_fault(m, mm, at, &pfn), -EBADF, -EFAULT) != 0)
			break;
		CALL(0, INT64_MAX, scamem_follow_page(m, mm, at), -EBADF, -EFAULT);
	}
}

static void op_gup(struct ctx *c)
{
	scamem_machine *m = c->m;
	struct scamem_mm *mm;
	struct hint h;
	int has;
	if (!mm_peek(c, &mm, &h, &has) || !has)
		return;
	/* Mostly inside the hint; sometimes past its end, into a neighbour or a
	 * hole, where the walk stops short. */
	uint64_t off = below(c, h.npages), pfns[8];
	uint64_t n = 1 + below(c, chance(c, 80) && h.npages - off < 8 ? h.npages - off : 8);
	uint64_t start = h.start + off * PAGE;
	int pin = chance(c, 55);
	uint32_t f = pin ? pin_flags(c) : get_flags(c);
	/* -EFAULT: nothing mapped there now; -EBADF: the mm exited. */
	long long got = CALL(1, n, gup(c, mm, start, n, f, pfns, pin), -EFAULT, -EBADF);
	for (long long i = 0; i < got; i++) {
		/* A read of untouched private anon memory gives the zero page: no pin on it. */
		if (pin && (int64_t)pfns[i] != scamem_zero_pfn(m))
			CALL(1, 1, scamem_folio_maybe_dma_pinned(m, pfns[i]), NONE);
		else if (pin)
			CALL(0, 0, scamem_folio_maybe_dma_pinned(m, pfns[i]), NONE);
		else
			expect_held(c, pfns[i], __LINE__);
		keep_gup(c, pfns[i], (uint32_t)pin);
	}
}

static void op_unpin(struct ctx *c)
{
	struct item its[8];
	int n = 0, want = 1 + (int)below(c, 8);
	while (n < want && pool_take(c, &P.gup, &its[n]))
		n++;
	if (n == 0)
		return;
	if (chance(c, 30)) {
		uint64_t pp[8];
		int np = 0;
		for (int i = 0; i < n; i++) {
			if (its[i].f)
				pp[np++] = its[i].a;
			else
				release_gup(c, its[i]);
		}
		CALL(np, np, scamem_unpin_user_pages(c->m, pp, (uint64_t)np), NONE);
		return;
	}
	for (int i = 0; i < n; i++)
		release_gup(c, its[i]);
}

static void op_munmap(struct ctx *c)
{
	struct scamem_mm *mm;
	struct hint h;
	int has;
	if (!mm_peek(c, &mm, &h, &has) || !has)
		return;
	uint64_t start = h.start, len = h.npages;
	switch (below(c, 4)) {
	case 0: /* a middle part: a split */
		if (h.npages >= 3) {
			uint64_t off = 1 + below(c, h.npages - 2);
			start += off * PAGE;
			len = 1 + below(c, h.npages - 1 - off);
		}
		break;
	case 1: /* a prefix */
		len = 1 + below(c, h.npages);
		break;
	case 2: /* a suffix */
		start += below(c, h.npages) * PAGE;
		len = h.npages - (start - h.start) / PAGE;
		break;
	default: /* the whole hint, and beyond */
		len += below(c, 3);
		break;
	}
	CALL0(scamem_munmap(c->m, mm, start, len * PAGE), -EBADF);
}

static void op_folio(struct ctx *c)
{
	scamem_machine *m = c->m;
	struct item it;
	unsigned v = want_free(c, &P.folios) ? 2 : chance(c, 30);
	if (v == 0) {
		uint32_t type = chance(c, 50) ? SCAMEM_TYPE_FILE : SCAMEM_TYPE_ANON, order = (uint32_t)below(c, 5);
		uint64_t pfn;
		if (CALL0(scamem_folio_alloc(m, type, rnd_gfp(c), order, rnd_nid(c), &pfn), NONE) != 0)
			return;
		struct scamem_page_info pi;
		if (CALL0(scamem_page_info(m, pfn + below(c, 1ull << order), &pi), NONE) == 0)
			/* refcount >= 1: a stale folio_get of a recycled pfn may land here. */
			EXPECT(pi.type == type && pi.head_pfn == pfn && pi.order == order && pi.refcount >= 1 &&
			       pi.mapcount == 0);
		it = (struct item){ pfn, order, NULL, 0 };
		if (!pool_put(&P.folios, it))
			CALL0(scamem_folio_put(m, pfn), NONE);
	} else if (v == 1) {
		/* Someone's folio, maybe gone: -EINVAL (not a folio now), -EALREADY (free). */
		if (!pool_peek(c, &P.folios, &it))
			return;
		if (CALL(2, INT_MAX, scamem_folio_get(m, it.a), -EINVAL, -EALREADY) > 0 && !pool_put(&P.folios, it))
			CALL(0, INT_MAX, scamem_folio_put(m, it.a), NONE);
	} else {
		if (pool_take(c, &P.folios, &it))
			CALL(0, INT_MAX, scamem_folio_put(m, it.a), NONE);
	}
}

static void op_pages(struct ctx *c)
{
	scamem_machine *m = c->m;
	struct item it;
	uint64_t pfn;
	unsigned kind = (unsigned)below(c, 3);
	struct pool *pl = kind == 0 ? &P.pages : kind == 1 ? &P.slabs : &P.ptdescs;
	int del = want_free(c, pl);
	switch (kind * 2 + (unsigned)del) {
	case 0: {
		if (chance(c, 25)) { /* order-0 pages in bulk: the zone lock held once for all */
			uint64_t bulk[4] = {SCAMEM_PFN_NONE, SCAMEM_PFN_NONE, SCAMEM_PFN_NONE, SCAMEM_PFN_NONE};
			int n = (int)CALL(0, 4, scamem_alloc_pages_bulk(m, rnd_gfp(c) & ~SCAMEM_GFP_DMA, rnd_nid(c), 4, bulk),
					  NONE);
			for (int i = 0; i < n; i++)
				if (!pool_put(&P.pages, (struct item){ bulk[i], 0, NULL, 0 }))
					CALL0(scamem_free_pages(m, bulk[i], 0), NONE);
			break;
		}
		uint32_t order = (uint32_t)below(c, 7);
		int dma = chance(c, 10) && order <= 2;
		uint32_t gfp = dma ? SCAMEM_GFP_DMA : rnd_gfp(c);
		/* ZONE_DMA may be exhausted by op_pressure just now: -ENOMEM. */
		if ((dma ? CALL0(scamem_alloc_pages(m, gfp, order, rnd_nid(c), &pfn), -ENOMEM)
			 : CALL0(scamem_alloc_pages(m, gfp, order, rnd_nid(c), &pfn), NONE)) != 0)
			return;
		struct scamem_page_info pi;
		if (CALL0(scamem_page_info(m, pfn, &pi), NONE) == 0)
			EXPECT(pi.type == SCAMEM_TYPE_MISC && pi.subtype == SCAMEM_MISC_UNKNOWN && pi.order == order);
		if (!pool_put(&P.pages, (struct item){ pfn, order, NULL, 0 }))
			CALL0(scamem_free_pages(m, pfn, order), NONE);
		break;
	}
	case 1:
		if (pool_take(c, &P.pages, &it))
			CALL0(scamem_free_pages(m, it.a, (uint32_t)it.b), NONE);
		break;
	case 2: {
		uint32_t order = (uint32_t)below(c, 3);
		uint32_t size = 8u << below(c, 10 + order);
		if (CALL0(scamem_slab_alloc(m, (uint32_t)below(c, 8), size, rnd_gfp(c), order, rnd_nid(c), &pfn), NONE))
			return;
		struct scamem_page_info pi;
		if (CALL0(scamem_page_info(m, pfn, &pi), NONE) == 0)
			EXPECT(pi.type == SCAMEM_TYPE_SLAB && pi.objects == (SCAMEM_PAGE_SIZE << order) / size);
		if (!pool_put(&P.slabs, (struct item){ pfn, order, NULL, 0 }))
			CALL0(scamem_slab_free(m, pfn), NONE);
		break;
	}
	case 3:
		if (pool_take(c, &P.slabs, &it))
			CALL0(scamem_slab_free(m, it.a + below(c, 1ull << it.b)), NONE);
		break;
	default:
		if (!del) {
			uint32_t order = (uint32_t)below(c, 2);
			if (CALL0(scamem_ptdesc_alloc(m, rnd_gfp(c), order, rnd_nid(c), &pfn), NONE) == 0 &&
			    !pool_put(&P.ptdescs, (struct item){ pfn, order, NULL, 0 }))
				CALL0(scamem_ptdesc_free(m, pfn), NONE);
		} else if (pool_take(c, &P.ptdescs, &it)) {
			CALL0(scamem_ptdesc_free(m, it.a), NONE);
		}
		break;
	}
}

static void op_scamem(struct ctx *c)
{
	scamem_machine *m = c->m;
	struct item it;
	struct scamem *s;
	switch (want_free(c, &P.scamems) ? 3 : below(c, 3)) {
	case 0: {
		uint32_t n = 1 + (uint32_t)below(c, 16), policy = (uint32_t)below(c, 3);
		if (CALL0(scamem_alloc(m, n, rnd_gfp(c), policy, (int32_t)below(c, 2), &s), NONE) != 0)
			return;
		struct scamem_stat st;
		if (CALL0(scamem_stat(m, s, &st), NONE) == 0)
			EXPECT(st.nr == n && st.refcount == 1 && st.caller_refs == 1 && st.owns_pages == 1);
		int64_t pfn = (int64_t)CALL(0, INT64_MAX, scamem_page(m, s, (uint32_t)below(c, n)), NONE);
		if (pfn >= 0)
			expect_held(c, (uint64_t)pfn, __LINE__);
		if (!pool_put(&P.scamems, (struct item){ 0, 0, s, 0 }))
			CALL0(scamem_put(m, s), NONE);
		break;
	}
	case 1: /* a reference on someone's object, maybe gone */
		if (!pool_peek(c, &P.scamems, &it))
			return;
		if (CALL(2, INT_MAX, scamem_get(m, it.p), -EBADF) > 0 && !pool_put(&P.scamems, it))
			CALL(0, INT_MAX, scamem_put(m, it.p), NONE);
		break;
	case 2: { /* a reference on a vmalloc area's scamem, found from the area */
		struct scamem_vm_struct vm;
		if (!pool_peek(c, &P.areas, &it) || CALL0(scamem_find_vm_area(m, it.a, &vm), -ENOENT) != 0)
			return;
		it = (struct item){ 0, 0, vm.scamem, 0 };
		if (CALL(2, INT_MAX, scamem_get(m, it.p), -EBADF) > 0 && !pool_put(&P.scamems, it))
			CALL(0, INT_MAX, scamem_put(m, it.p), NONE);
		break;
	}
	default:
		if (pool_take(c, &P.scamems, &it))
			CALL(0, INT_MAX, scamem_put(m, it.p), NONE);
		break;
	}
}

static void op_knobs(struct ctx *c)
{
	static const uint32_t orders[] = { 0, 0, 0, 1, 2, 4 };
	if (chance(c, 50))
		CALL0(scamem_machine_set_anon_order(c->m, orders[below(c, 6)]), NONE);
	else
		CALL0(scamem_machine_set_local_node(c->m, (int32_t)below(c, 2)), NONE);
}

/*
 * Memory pressure on ZONE_DMA (16 MiB): allocate GFP_DMA blocks until the
 * allocator says -ENOMEM (the only place a KERNEL-class failure is legal,
 * with op_pages' GFP_DMA allocations racing it), then free them all, so
 * the buddy allocator splits and coalesces a whole zone under contention.
 */
static void op_pressure(struct ctx *c)
{
	scamem_machine *m = c->m;
	enum { MAX_BLOCKS = 8192 };
	static _Thread_local uint64_t blocks[MAX_BLOCKS];
	static _Thread_local uint32_t orders[MAX_BLOCKS];
	int n = 0;
	if (!chance(c, 15)) /* a few thousand calls each: keep it rare */
		return;
	while (n < MAX_BLOCKS) {
		orders[n] = (uint32_t)below(c, 4);
		if (CALL0(scamem_alloc_pages(m, SCAMEM_GFP_DMA, orders[n], (int32_t)below(c, 2) - 1, &blocks[n]),
			  -ENOMEM) != 0)
			break;
		struct scamem_page_info pi;
		if (chance(c, 5) && CALL0(scamem_page_info(m, blocks[n], &pi), NONE) == 0)
			EXPECT(pi.zone == SCAMEM_ZONE_DMA && pi.type == SCAMEM_TYPE_MISC);
		n++;
	}
	/* Order-0 until nothing is left of the zone (racers may free some). */
	uint64_t pfn;
	while (n < MAX_BLOCKS && CALL0(scamem_alloc_pages(m, SCAMEM_GFP_DMA, 0, 0, &pfn), -ENOMEM) == 0)
		blocks[n] = pfn, orders[n++] = 0;
	while (n > 0) {
		int i = (int)below(c, (uint64_t)n);
		CALL0(scamem_free_pages(m, blocks[i], orders[i]), NONE);
		blocks[i] = blocks[--n], orders[i] = orders[n];
	}
}

static void (*const ops[NR_OPS])(struct ctx *) = {
	op_vmalloc, op_vfree, op_vmap, op_mm_new, op_mm_exit, op_pipeline, op_map_shared, op_anon,
	op_gup, op_unpin, op_munmap, op_folio, op_pages, op_scamem, op_knobs, op_pressure,
};

static double g_deadline;

static void *worker(void *arg)
{
	struct ctx *c = arg;
	unsigned total = 0;
	for (int i = 0; i < NR_OPS; i++)
		total += op_weight[i];
	while (!atomic_load_explicit(&g_stop, memory_order_relaxed) && now_s() < g_deadline) {
		unsigned r = (unsigned)below(c, total), i = 0;
		while (r >= op_weight[i])
			r -= op_weight[i++];
		if (i == OP_VMALLOC || i == OP_VFREE)
			i = want_free(c, &P.areas) ? OP_VFREE : OP_VMALLOC;
		else if (i == OP_MM_NEW || i == OP_MM_EXIT)
			i = want_mm_exit(c) ? OP_MM_EXIT : OP_MM_NEW;
		else if (i == OP_GUP || i == OP_UNPIN)
			i = want_free(c, &P.gup) ? OP_UNPIN : OP_GUP;
		ops[i](c);
		c->by_op[i]++;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The query thread                                                    */
/* ------------------------------------------------------------------ */

static uint64_t g_end_pfn, g_managed;
static uint32_t g_nr_zones;
static struct scamem_layout g_layout;
static const uint64_t *g_words;
static int g_raw_words = 1;
static int g_verbose;
static double g_check_period = 0.2;

static void run_check(struct ctx *c, const char *when)
{
	double t0 = now_s();
	int64_t issues = (int64_t)CALL(0, 0, scamem_machine_check(c->m, NULL, NULL), NONE);
	double dt = now_s() - t0;
	c->checks++;
	if (dt > c->check_max_s)
		c->check_max_s = dt;
	if (issues != 0) {
		fail(c, "checker found %" PRId64 " issues %s", issues, when);
		scamem_machine_check(c->m, print_issue, NULL);
	}
}

static void *querier(void *arg)
{
	struct ctx *c = arg;
	scamem_machine *m = c->m;
	double next_check = now_s() + g_check_period;
	uint64_t counts[SCAMEM_NR_TYPES];
	while (!atomic_load_explicit(&g_qstop, memory_order_relaxed)) {
		uint64_t pfn = below(c, 8) == 0 ? g_end_pfn + below(c, 64) : below(c, g_end_pfn);
		int nopage = pfn < g_end_pfn && g_words[pfn] == SCAMEM_WORD_NOPAGE; /* memmap never changes */
		int bad = pfn >= g_end_pfn ? -ERANGE : nopage ? -ENXIO : 1;
		struct item it;
		/* The borrowed live view (scamem_machine_words), read without the
		 * lock while other threads allocate and free exactly these pages:
		 * whole words of valid types. Relaxed atomic loads: the header
		 * promises no torn words, which is what a relaxed load needs from
		 * the writer. STRESS_RAW_WORDS=0 turns this off. */
		if (g_raw_words) {
			struct pool *src = below(c, 2) ? &P.folios : below(c, 2) ? &P.pages : &P.gup;
			uint64_t at = pool_peek(c, src, &it) ? it.a : pfn % g_end_pfn;
			for (uint64_t i = at; i < at + 16 && i < g_end_pfn; i++) {
				uint64_t w = __atomic_load_n(&g_words[i], __ATOMIC_RELAXED);
				EXPECT(w == SCAMEM_WORD_NOPAGE || scamem_word_type(w) != SCAMEM_TYPE_RESERVED);
				if (w != SCAMEM_WORD_NOPAGE && scamem_type_is_inline(scamem_word_type(w)))
					EXPECT(scamem_memdesc_nid(&g_layout, w) < 2 &&
					       scamem_memdesc_zonenum(&g_layout, w) <= SCAMEM_ZONE_MOVABLE &&
					       scamem_word_order(w) <= SCAMEM_MAX_PAGE_ORDER);
			}
		}
		switch (below(c, 11)) {
		case 0:
			if (bad == 1)
				CALL(0, 1, scamem_page_to_nid(m, pfn), NONE);
			else
				CALL(bad, bad, scamem_page_to_nid(m, pfn), NONE);
			break;
		case 1:
			if (bad == 1) {
				CALL(0, SCAMEM_ZONE_MOVABLE, scamem_page_zonenum(m, pfn), NONE);
				CALL(0, INT64_MAX, scamem_page_to_section(m, pfn), NONE);
			} else {
				CALL(bad, bad, scamem_page_zonenum(m, pfn), NONE);
				CALL(bad, bad, scamem_page_to_section(m, pfn), NONE);
			}
			break;
		case 2: {
			struct scamem_page_info pi;
			if (bad != 1) {
				CALL(bad, bad, scamem_page_info(m, pfn, &pi), NONE);
			} else if (CALL0(scamem_page_info(m, pfn, &pi), NONE) == 0) {
				EXPECT(pi.pfn == pfn && pi.nid <= 1 && pi.zone <= SCAMEM_ZONE_MOVABLE && pi.type < 16);
				EXPECT(pi.head_pfn <= pfn && pi.order <= SCAMEM_MAX_PAGE_ORDER);
				if (pi.type == SCAMEM_TYPE_BUDDY)
					EXPECT(pi.refcount == 0 && pi.head_pfn + (1ull << pi.order) > pfn);
			}
			break;
		}
		case 3: {
			uint64_t nr = 1 + below(c, 1u << 16);
			memset(counts, 0, sizeof counts);
			if (pfn >= g_end_pfn) {
				CALL(-ERANGE, -ERANGE, scamem_classify_range(m, pfn, nr, counts), NONE);
				break;
			}
			uint64_t want = pfn + nr > g_end_pfn ? g_end_pfn - pfn : nr, sum = 0;
			CALL(want, want, scamem_classify_range(m, pfn, nr, counts), NONE);
			for (int t = 0; t < SCAMEM_NR_TYPES; t++)
				sum += counts[t];
			EXPECT(sum == want);
			break;
		}
		case 4: {
			int32_t nid = (int32_t)below(c, 3) - 1, zone = (int32_t)below(c, 6) - 1;
			if (below(c, 4)) /* the whole-machine count walks every pfn: keep it rarer */
				nid = nid < 0 ? 0 : nid;
			long long n = CALL(0, INT64_MAX, scamem_count_pages(m, nid, zone, counts), NONE);
			uint64_t sum = 0;
			for (int t = 0; t < SCAMEM_NR_TYPES; t++)
				sum += counts[t];
			EXPECT(n < 0 || sum == (uint64_t)n);
			if (nid < 0 && zone < 0)
				EXPECT(n == (long long)g_end_pfn);
			break;
		}
		case 5:
			if (pool_peek(c, &P.areas, &it)) {
				struct scamem_vm_struct vm;
				uint64_t q = it.a + below(c, it.b) * PAGE;
				if (CALL0(scamem_find_vm_area(m, q, &vm), -ENOENT) == 0)
					EXPECT(vm.addr <= q && q - vm.addr < vm.size);
				CALL(0, INT64_MAX, scamem_vmalloc_to_pfn(m, it.a), -ENOENT, -EFAULT);
				/* The guard page (or, VM_NO_GUARD, the next area, or nothing). */
				CALL(0, INT64_MAX, scamem_vmalloc_to_pfn(m, it.a + it.b * PAGE), -ENOENT, -EFAULT);
			} else {
				struct scamem_mm *mm;
				struct hint h;
				int has;
				struct scamem_vma vma;
				if (mm_peek(c, &mm, &h, &has) && has) {
					uint64_t a = h.start + below(c, h.npages) * PAGE;
					if (CALL0(scamem_find_vma(m, mm, a, &vma), -EBADF, -EFAULT) == 0)
						EXPECT(vma.start <= a && a < vma.end && vma.mapped_pages <= (vma.end - vma.start) / PAGE);
					CALL(0, INT64_MAX, scamem_follow_page(m, mm, a), -EBADF, -EFAULT);
				}
			}
			break;
		case 6: {
			struct scamem_vm_struct vm;
			uint64_t at = 0, prev = 0;
			for (int i = 0; i < 256; i++) {
				if (CALL0(scamem_vm_area_next(m, at, &vm), -ENOENT) != 0)
					break;
				EXPECT(vm.addr > prev && vm.addr >= SCAMEM_VMALLOC_START && vm.size >= vm.nr_pages * PAGE);
				prev = at = vm.addr;
			}
			break;
		}
		case 7: {
			struct scamem_metadata md;
			struct scamem_strategy_cost sc;
			if (CALL0(scamem_machine_strategy_cost(m, &sc), NONE) == 0)
				EXPECT(sc.bytes_per_page == (g_strategy == SCAMEM_STRATEGY_LEGACY ? 64u : 8u));
			if (CALL0(scamem_machine_metadata(m, &md), NONE) == 0)
				EXPECT(md.memdesc_bytes == md.word_bytes + md.desc_bytes &&
				       md.word_bytes == 8 * md.memmap_pages && md.struct_page_bytes == 64 * md.memmap_pages);
			break;
		}
		case 8: {
			struct scamem_machine_info mi;
			if (CALL0(scamem_machine_info(m, &mi), NONE) == 0)
				EXPECT(mi.end_pfn == g_end_pfn && mi.managed_pages == g_managed && mi.free_pages <= g_managed);
			struct scamem_zone_info zi;
			uint32_t zidx = (uint32_t)below(c, g_nr_zones + 1);
			if (zidx == g_nr_zones)
				CALL(-ENOENT, -ENOENT, scamem_machine_zone(m, zidx, &zi), NONE);
			else if (CALL0(scamem_machine_zone(m, zidx, &zi), NONE) == 0) {
				uint64_t f = 0;
				for (int o = 0; o < SCAMEM_NR_PAGE_ORDERS; o++)
					f += zi.nr_free[o] << o;
				EXPECT(f == zi.free_pages && zi.free_pages <= zi.managed_pages);
			}
			break;
		}
		case 9: /* someone's GUP page: pinned, or no longer */
			if (pool_peek(c, &P.gup, &it)) {
				CALL(0, 1, scamem_folio_maybe_dma_pinned(m, it.a), NONE);
				struct scamem *s;
				CALL0(scamem_page_scamem(m, it.a, &s), -EINVAL);
			}
			break;
		case 10:
			if (pool_peek(c, &P.scamems, &it)) {
				struct scamem_stat st;
				if (CALL0(scamem_stat(m, it.p, &st), -EBADF) == 0)
					EXPECT(st.refcount == st.vm_refs + st.map_refs + st.gup_refs + st.caller_refs &&
					       st.refcount > 0);
			}
			break;
		default:
			break;
		}
		if (now_s() >= next_check) {
			run_check(c, "while the workers run");
			next_check = now_s() + g_check_period;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* One run                                                             */
/* ------------------------------------------------------------------ */

static struct ctx g_ctx[MAX_WORKERS + 1]; /* workers, then the query thread */
static struct ctx g_main;                  /* the final release and checks */

static void release_all(struct ctx *c)
{
	struct item it;
	struct mmslot s;
	/* Unpin/put first or last: both orders must work; alternate by seed. */
	int gup_last = (int)(c->seed & 1);
	if (!gup_last)
		while (pool_take(c, &P.gup, &it))
			release_gup(c, it);
	while (mm_take(c, &s))
		release_mm(c, s.mm);
	while (pool_take(c, &P.areas, &it))
		release_area(c, it);
	if (gup_last)
		while (pool_take(c, &P.gup, &it))
			release_gup(c, it);
	while (pool_take(c, &P.folios, &it))
		CALL(0, INT_MAX, scamem_folio_put(c->m, it.a), NONE);
	while (pool_take(c, &P.pages, &it))
		CALL0(scamem_free_pages(c->m, it.a, (uint32_t)it.b), NONE);
	while (pool_take(c, &P.slabs, &it))
		CALL0(scamem_slab_free(c->m, it.a), NONE);
	while (pool_take(c, &P.ptdescs, &it))
		CALL0(scamem_ptdesc_free(c->m, it.a), NONE);
	while (pool_take(c, &P.scamems, &it))
		CALL(0, INT_MAX, scamem_put(c->m, it.p), NONE);
}

static const char *strategy_name(int s)
{
	static const char *const n[] = { "DEFAULT", "LEGACY", "PFN_LOOKUP", "FLAGS_ARRAY", "VMA_PRIVATE", "PACKED" };
	return s >= 0 && s <= 5 ? n[s] : "?";
}

static int run(int nthreads, double seconds, int strategy, uint64_t base_seed)
{
	struct scamem_machine_desc desc;
	scamem_machine *m = NULL;
	struct ctx *main_c = &g_main;
	struct ctx *c = main_c;
	memset(g_ctx, 0, sizeof g_ctx);
	memset(&g_main, 0, sizeof g_main);
	main_c->id = -1;
	g_strategy = strategy;
	if (scamem_machine_desc_default(&desc) != 0) {
		fail(NULL, "scamem_machine_desc_default failed");
		return 1;
	}
	desc.strategy = (uint32_t)strategy;
	int rc = scamem_machine_new(&desc, &m);
	if (rc != 0 || !m) {
		fail(NULL, "scamem_machine_new(strategy %d): %s", strategy, scamem_strerror(rc));
		return 1;
	}
	main_c->m = m;
	struct scamem_machine_info mi0, mi1;
	CALL0(scamem_machine_info(m, &mi0), NONE);
	EXPECT(mi0.free_pages == mi0.managed_pages);
	/* What a strategy keeps with no scamem live (PFN_LOOKUP's pfn-to-zone table). */
	struct scamem_strategy_cost cost0 = { 0 };
	CALL0(scamem_machine_strategy_cost(m, &cost0), NONE);
	g_end_pfn = mi0.end_pfn;
	g_managed = mi0.managed_pages;
	g_nr_zones = mi0.nr_zones;
	CALL0(scamem_machine_layout(m, &g_layout), NONE);
	EXPECT(g_layout.version == SCAMEM_LAYOUT_VERSION && mi0.nr_nodes == 2);
	uint64_t nr;
	CALL0(scamem_machine_words(m, &g_words, &nr), NONE);
	EXPECT(nr == g_end_pfn);

	pool_init(&P.areas, 64);
	pool_init(&P.gup, 1024);
	pool_init(&P.folios, 128);
	pool_init(&P.pages, 128);
	pool_init(&P.slabs, 32);
	pool_init(&P.ptdescs, 32);
	pool_init(&P.scamems, 64);
	P.nmm = 0;

	printf("strategy %d (%s): %d workers + 1 query thread, %.1f s, base seed 0x%" PRIx64 "\n", strategy,
	       strategy_name(strategy), nthreads, seconds, base_seed);
	for (int i = 0; i <= nthreads; i++) {
		g_ctx[i].id = i < nthreads ? i : nthreads;
		g_ctx[i].m = m;
		g_ctx[i].seed = splitmix64(base_seed ^ ((uint64_t)strategy << 32) ^ (uint64_t)i);
		g_ctx[i].rng = g_ctx[i].seed | 1;
		printf("  thread %d%s seed 0x%016" PRIx64 "\n", i, i == nthreads ? " (queries)" : "", g_ctx[i].seed);
	}
	fflush(stdout);
	main_c->seed = g_ctx[nthreads].seed;

	atomic_store(&g_stop, 0);
	atomic_store(&g_qstop, 0);
	pthread_t tid[MAX_WORKERS + 1];
	double t0 = now_s();
	g_deadline = t0 + seconds;
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&tid[i], NULL, worker, &g_ctx[i]) != 0) {
			perror("pthread_create");
			exit(2);
		}
	if (pthread_create(&tid[nthreads], NULL, querier, &g_ctx[nthreads]) != 0) {
		perror("pthread_create");
		exit(2);
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(tid[i], NULL);
	double t1 = now_s();
	atomic_store(&g_qstop, 1);
	pthread_join(tid[nthreads], NULL);

	printf("  held at the end: areas %d, mms %d, gup refs %d, folio refs %d, page blocks %d, slabs %d, "
	       "ptdescs %d, scamem refs %d\n",
	       P.areas.n, P.nmm, P.gup.n, P.folios.n, P.pages.n, P.slabs.n, P.ptdescs.n, P.scamems.n);
	/* Everything still held goes back; the machine must be as created. */
	run_check(main_c, "after the workers stopped, before the release");
	release_all(main_c);
	CALL0(scamem_machine_set_anon_order(m, 0), NONE);
	run_check(main_c, "after everything was released");
	struct scamem_vm_struct vm;
	CALL(-ENOENT, -ENOENT, scamem_vm_area_next(m, 0, &vm), NONE);
	/* The zero page, once a read fault took it, is never freed. */
	uint64_t kept = scamem_zero_pfn(m) >= 0;
	if (CALL0(scamem_machine_info(m, &mi1), NONE) == 0 &&
	    (mi1.free_pages + kept != mi0.free_pages || mi1.free_pages + kept != mi1.managed_pages))
		fail(main_c, "free_pages %" PRIu64 " after the release, %" PRIu64 " at creation, managed %" PRIu64,
		     mi1.free_pages, mi0.free_pages, mi1.managed_pages);
	struct scamem_metadata md;
	if (CALL0(scamem_machine_metadata(m, &md), NONE) == 0) {
		uint64_t live = 0;
		for (int t = 0; t < SCAMEM_NR_TYPES; t++)
			live += md.nr_desc[t];
		if (live != 0 || cost0.object_bytes != 0 || md.scamem_bytes != cost0.extra_bytes)
			fail(main_c, "%" PRIu64 " descriptors (%" PRIu64 " scamem bytes, %" PRIu64 " at creation) live after the release",
			     live, md.scamem_bytes, cost0.extra_bytes);
	}

	/* Report. */
	double dt = t1 - t0;
	uint64_t total = 0, nops = 0, legal[NR_ERRNO] = { 0 }, by_op[NR_OPS] = { 0 };
	for (int i = 0; i < nthreads; i++) {
		struct ctx *w = &g_ctx[i];
		uint64_t n = 0;
		for (int o = 0; o < NR_OPS; o++)
			n += w->by_op[o], by_op[o] += w->by_op[o];
		for (int e = 0; e < NR_ERRNO; e++)
			legal[e] += w->legal[e];
		total += w->calls;
		nops += n;
		printf("  thread %d: %" PRIu64 " operations (%.0f/s), %" PRIu64 " calls (%.0f/s)\n", i, n, (double)n / dt,
		       w->calls, (double)w->calls / dt);
	}
	struct ctx *qc = &g_ctx[nthreads];
	for (int e = 0; e < NR_ERRNO; e++)
		legal[e] += qc->legal[e];
	printf("  queries: %" PRIu64 " calls, %.0f calls/s, %" PRIu64 " checker runs (longest %.0f ms)\n", qc->calls,
	       (double)qc->calls / dt, qc->checks, qc->check_max_s * 1e3);
	printf("  operations:");
	for (int o = 0; o < NR_OPS; o++)
		printf(" %s=%" PRIu64, op_names[o], by_op[o]);
	printf("\n  legal racing errors:");
	for (int e = 1; e < NR_ERRNO; e++)
		if (legal[e])
			printf(" %s=%" PRIu64, scamem_strerror(-e), legal[e]);
	if (g_verbose) {
		printf("\n  legal errors by source line (first errno there):");
		for (int l = 0; l < 2048; l++) {
			uint64_t n = 0;
			uint32_t e = 0;
			for (int i = 0; i <= nthreads; i++)
				if (g_ctx[i].legal_at[l][1])
					n += g_ctx[i].legal_at[l][1], e = g_ctx[i].legal_at[l][0];
			if (n)
				printf(" %d:E%u=%" PRIu64, l, e, n);
		}
	}
	printf("\n  release: %" PRIu64 " calls; free_pages %" PRIu64 " == managed %" PRIu64 "\n", main_c->calls,
	       mi1.free_pages, mi1.managed_pages);
	printf("RESULT strategy=%s threads=%d seconds=%.2f ops=%" PRIu64 " ops_per_s=%.0f calls=%" PRIu64
	       " calls_per_s=%.0f query_calls=%" PRIu64 " checks=%" PRIu64 " %s\n",
	       strategy_name(strategy), nthreads, dt, nops, (double)nops / dt, total, (double)total / dt, qc->calls,
	       qc->checks,
	       atomic_load(&g_failed) ? "FAIL" : "ok");
	fflush(stdout);

	free(P.areas.v), free(P.gup.v), free(P.folios.v), free(P.pages.v);
	free(P.slabs.v), free(P.ptdescs.v), free(P.scamems.v);
	scamem_machine_free(m);
	return atomic_load(&g_failed) ? 1 : 0;
}

int main(int argc, char **argv)
{
	int nthreads = argc > 1 ? atoi(argv[1]) : 4;
	const char *env = getenv("STRESS_SECONDS");
	double seconds = argc > 2 ? atof(argv[2]) : env ? atof(env) : 10.0;
	const char *strat = argc > 3 ? argv[3] : "all";
	env = getenv("STRESS_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : 1;
	env = getenv("STRESS_CHECK_MS");
	if (env)
		g_check_period = atof(env) / 1000.0;
	g_verbose = getenv("STRESS_VERBOSE") != NULL;
	env = getenv("STRESS_RAW_WORDS");
	if (env)
		g_raw_words = atoi(env);
	if (nthreads < 1 || nthreads > MAX_WORKERS || seconds <= 0) {
		fprintf(stderr, "usage: %s [threads 1..%d] [seconds] [strategy 0..5 | all]\n", argv[0], MAX_WORKERS);
		return 2;
	}
	int first = 1, last = SCAMEM_NR_STRATEGIES;
	if (strcmp(strat, "all") != 0) {
		char *end;
		long s = strtol(strat, &end, 10);
		if (*end || s < 0 || s > SCAMEM_NR_STRATEGIES) {
			fprintf(stderr, "%s: strategy must be 0..%d or all\n", argv[0], SCAMEM_NR_STRATEGIES);
			return 2;
		}
		first = last = (int)s;
	}
	/* A hang is a failure too: the whole run gets a generous wall-clock bound. */
	alarm((unsigned)(seconds * 4) + 300);
	printf("scamem %s stress: %d threads, %.1f s, strategies %d..%d\n", scamem_version_string(), nthreads, seconds,
	       first, last);
	int rc = 0;
	double each = seconds / (last - first + 1);
	for (int s = first; s <= last && !rc; s++)
		rc |= run(nthreads, each, s, seed);
	printf("stress: %s\n", rc ? "FAIL" : "ok");
	return rc;
}
