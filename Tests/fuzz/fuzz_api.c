/*
 * fuzz_api.c - libFuzzer target: arbitrary sequences of scamem API calls.
 *
 * The input is byte code. The first bytes describe a small machine (1-4
 * nodes, a few zones of a few thousand pfns, holes, reserved ranges; now
 * and then hostile values) and its strategy; every following byte picks an
 * operation whose arguments come from the next bytes. Tables of what the
 * calls handed back (pages, folios, slabs, ptdescs, scamems, areas, mms,
 * VMAs, GUP references) let most operations hit live objects; stale and
 * made-up handles, pfns and addresses are mixed in.
 *
 * A bug is (abort()):
 *  - the invariant checker reporting anything after calls that each
 *    succeeded or failed cleanly (every few ops and at the end);
 *  - a contract the header states broken: an undocumented errno, a count
 *    where 0/-errno is promised, success on a stale handle, success where
 *    the caller owns nothing (freeing a page it never got), ...;
 *  - after the teardown (everything the harness holds released), a page
 *    not back in the buddy allocator.
 *
 * Environment:
 *  SCAMEM_FUZZ_TRACE=FILE  write every call as a C statement (literal pfns,
 *                          addresses and handles: the model is
 *                          deterministic) so a crash becomes a reproducer.
 */
#include <scamem.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Input                                                                     */
/* ------------------------------------------------------------------------ */

#include "input.h"

static const uint64_t extremes[] = {
	0, 1, 2, 3, 7, 0x7f, 0xff, 0xfff, 0x1000, 0x7fff, 0x8000, 0xffff, 0x10000,
	0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull, 1ull << 34, 1ull << 40,
	(1ull << 34) - 1, 1ull << 46, 1ull << 52, 0x7fffffffffffffffull, 0x8000000000000000ull,
	0xfffffffffffff000ull, 0xfffffffffffffffeull, 0xffffffffffffffffull,
	SCAMEM_VMALLOC_START, SCAMEM_VMALLOC_START - 1, SCAMEM_VMALLOC_START + (32ull << 40),
	0x7ffffffff000ull, 0x800000000000ull,
};
#define P(x) ((unsigned long long)(uintptr_t)(x))
#define NEXT (sizeof(extremes) / sizeof(extremes[0]))
static uint64_t gext(void) { return extremes[g8() % NEXT]; }

/* ------------------------------------------------------------------------ */
/* Failure, tracing, errno contracts                                         */
/* ------------------------------------------------------------------------ */

static FILE *trace;
#define T(...)                                           \
	do {                                             \
		if (trace) {                             \
			fprintf(trace, __VA_ARGS__);     \
			fflush(trace);                   \
		}                                        \
	} while (0)

static void issue(void *user, uint64_t pfn, int32_t what, const char *message)
{
	(void)user;
	fprintf(stderr, "  check: pfn 0x%" PRIx64 " kind %d: %s\n", pfn, what, message);
}

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "fuzz_api: BUG: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	T("/* BUG here */\n");
	abort();
}

enum {
	X_INVAL = 1 << 0, X_NOMEM = 1 << 1, X_RANGE = 1 << 2, X_NXIO = 1 << 3, X_ALREADY = 1 << 4,
	X_OVERFLOW = 1 << 5, X_BADF = 1 << 6, X_NOENT = 1 << 7, X_FAULT = 1 << 8, X_BUSY = 1 << 9,
	X_EXIST = 1 << 10, X_2BIG = 1 << 11, X_NOSPC = 1 << 12, X_ACCES = 1 << 13,
};

static unsigned errbit(long long rc)
{
	switch (-rc) {
	case EINVAL: return X_INVAL;
	case ENOMEM: return X_NOMEM;
	case ERANGE: return X_RANGE;
	case ENXIO: return X_NXIO;
	case EALREADY: return X_ALREADY;
	case EOVERFLOW: return X_OVERFLOW;
	case EBADF: return X_BADF;
	case ENOENT: return X_NOENT;
	case EFAULT: return X_FAULT;
	case EBUSY: return X_BUSY;
	case EEXIST: return X_EXIST;
	case E2BIG: return X_2BIG;
	case ENOSPC: return X_NOSPC;
	case EACCES: return X_ACCES;
	}
	return 0;
}

/* SCAMEM_FUZZ_STATS=1: calls and successes per function, printed at exit. */
static int stats;
static struct { const char *fn; unsigned long calls, ok; } stat_tab[64];

static void count(const char *fn, long long rc)
{
	for (int i = 0; i < 64; i++) {
		if (!stat_tab[i].fn)
			stat_tab[i].fn = fn;
		if (stat_tab[i].fn == fn || !strcmp(stat_tab[i].fn, fn)) {
			stat_tab[i].calls++;
			stat_tab[i].ok += rc >= 0;
			return;
		}
	}
}

__attribute__((destructor)) static void print_stats(void)
{
	for (int i = 0; stats && i < 64 && stat_tab[i].fn; i++)
		fprintf(stderr, "%-40s %10lu calls %10lu ok\n", stat_tab[i].fn, stat_tab[i].calls, stat_tab[i].ok);
}

/* rc < 0 must be one of the errors the header documents for fn. */
static long long chk(const char *fn, long long rc, unsigned allowed)
{
	if (stats)
		count(fn, rc);
	T("\t/* %s -> %lld */\n", fn, rc);
	if (rc < 0 && !(errbit(rc) & allowed))
		die("%s returned %lld (%s): not an error the header documents for it", fn, rc,
		    scamem_strerror((int)rc));
	return rc;
}

/* 0 or -errno, never positive. */
static int chk0(const char *fn, long long rc, unsigned allowed)
{
	chk(fn, rc, allowed);
	if (rc > 0)
		die("%s returned %lld: the header promises 0 or a negative errno", fn, rc);
	return (int)rc;
}

/* ------------------------------------------------------------------------ */
/* What the harness holds                                                    */
/* ------------------------------------------------------------------------ */

#define MAXREC 32
#define MAXGUP 128
#define MAXSTALE 16
#define MAXVMAP 8

struct block { uint64_t pfn; uint32_t order; int refs; };
struct sc { struct scamem *s; int refs; };
enum { A_VMALLOC, A_VMAP_PUT, A_VMAP };
struct area { uint64_t addr; int kind; uint32_t n; uint64_t pfns[MAXVMAP]; };
struct vma { uint64_t start, len; int anon; };
struct mmrec { struct scamem_mm *mm; struct vma vma[8]; int nvma; };
struct gup { uint64_t pfn; int pin; };

static scamem_machine *m;
static struct scamem_machine_info minfo;
static struct scamem_layout mlayout;
static struct block pages[MAXREC], folios[MAXREC], slabs[MAXREC], ptdescs[MAXREC];
static int npages, nfolios, nslabs, nptdescs;
static struct sc scs[MAXREC];
static int nscs;
static struct area areas[MAXREC];
static int nareas;
static struct mmrec mms[4];
static int nmms;
static struct gup gups[MAXGUP];
static int ngups;
static uint64_t seen_pfns[MAXSTALE], stale_pfns[MAXSTALE], stale_addrs[MAXSTALE];
static struct scamem *stale_scs[MAXSTALE];
static struct scamem_mm *stale_mms[MAXSTALE];
static unsigned nseen, nstale_pfn, nstale_addr, nstale_sc, nstale_mm;
static int compared;

#define PUSH(ring, cnt, v) ((ring)[(cnt)++ % MAXSTALE] = (v))
#define RING_PICK(ring, cnt) ((cnt) ? (ring)[g8() % ((cnt) < MAXSTALE ? (cnt) : MAXSTALE)] : 0)

static void reset_tables(void)
{
	npages = nfolios = nslabs = nptdescs = nscs = nareas = nmms = ngups = 0;
	nseen = nstale_pfn = nstale_addr = nstale_sc = nstale_mm = 0;
	compared = 0;
}

static int find_block(struct block *t, int n, uint64_t pfn)
{
	for (int i = 0; i < n; i++)
		if (pfn >= t[i].pfn && pfn - t[i].pfn < (1ull << t[i].order))
			return i;
	return -1;
}

static void del_block(struct block *t, int *n, int i) { t[i] = t[--*n]; }

static int find_sc(struct scamem *s)
{
	for (int i = 0; i < nscs; i++)
		if (scs[i].s == s)
			return i;
	return -1;
}

static int find_area(uint64_t addr)
{
	for (int i = 0; i < nareas; i++)
		if (areas[i].addr == addr)
			return i;
	return -1;
}

static int find_mm(struct scamem_mm *mm)
{
	for (int i = 0; i < nmms; i++)
		if (mms[i].mm == mm)
			return i;
	return -1;
}

/* Is any of [pfn, pfn + n) mapped by a vmap() without VM_MAP_PUT_PAGES? */
static int vmapped(uint64_t pfn, uint64_t n)
{
	for (int i = 0; i < nareas; i++)
		if (areas[i].kind == A_VMAP)
			for (uint32_t k = 0; k < areas[i].n; k++)
				if (areas[i].pfns[k] >= pfn && areas[i].pfns[k] - pfn < n)
					return 1;
	return 0;
}

/* A newly returned value is live again: drop it from the stale rings. */
static void unstale_sc(struct scamem *s)
{
	for (unsigned i = 0; i < MAXSTALE; i++)
		if (stale_scs[i] == s)
			stale_scs[i] = NULL;
}
static void unstale_mm(struct scamem_mm *mm)
{
	for (unsigned i = 0; i < MAXSTALE; i++)
		if (stale_mms[i] == mm)
			stale_mms[i] = NULL;
}

/* ------------------------------------------------------------------------ */
/* Argument pickers                                                          */
/* ------------------------------------------------------------------------ */

static uint32_t pick_gfp(void)
{
	static const uint32_t g[] = {0, 0, 0, SCAMEM_GFP_DMA, SCAMEM_GFP_DMA32, SCAMEM_GFP_MOVABLE,
				     SCAMEM_GFP_THISNODE, SCAMEM_GFP_DMA32 | SCAMEM_GFP_THISNODE,
				     SCAMEM_GFP_MOVABLE | SCAMEM_GFP_THISNODE, SCAMEM_GFP_DMA | SCAMEM_GFP_DMA32};
	uint8_t b = g8();
	if (b < 240)
		return g[b % (sizeof(g) / sizeof(g[0]))];
	return b & 1 ? g32() : (uint32_t)gext();
}

static int32_t pick_nid(void)
{
	uint8_t b = g8();
	if (b < 64)
		return SCAMEM_NUMA_NO_NODE;
	if (b < 240)
		return (int32_t)(b % (minfo.nr_nodes + 1));
	return b & 1 ? (int32_t)g32() : (int32_t)gext();
}

static uint32_t pick_order(void)
{
	uint8_t b = g8();
	if (b < 160)
		return b % 3;
	if (b < 240)
		return b % 12;
	return b & 1 ? g32() : (uint32_t)gext();
}

static uint64_t pick_pfn(void)
{
	uint8_t b = g8();
	uint64_t off = g8();
	switch (b % 16) {
	case 0: case 1: case 2:
		if (npages) {
			struct block *p = &pages[off % npages];
			return p->pfn + (b & 0x80 ? (g8() % (1u << p->order)) : 0);
		}
		break;
	case 3: case 4:
		if (nfolios) {
			struct block *p = &folios[off % nfolios];
			return p->pfn + (b & 0x80 ? (g8() % (1u << p->order)) : 0);
		}
		break;
	case 5:
		if (nslabs)
			return slabs[off % nslabs].pfn;
		break;
	case 6:
		if (nptdescs)
			return ptdescs[off % nptdescs].pfn;
		break;
	case 7:
		if (ngups)
			return gups[off % ngups].pfn;
		break;
	case 8:
		if (nseen)
			return RING_PICK(seen_pfns, nseen);
		break;
	case 9:
		if (nstale_pfn)
			return RING_PICK(stale_pfns, nstale_pfn);
		break;
	case 10:
		if (nareas) {
			int64_t p = scamem_vmalloc_to_pfn(m, areas[off % nareas].addr + (uint64_t)(g8() % 8) * 4096);
			if (p >= 0)
				return (uint64_t)p;
		}
		break;
	case 11:
		return gext();
	case 12: case 13:
		if (nscs) {
			int64_t p = scamem_page(m, scs[off % nscs].s, g8() % 8);
			if (p >= 0)
				return (uint64_t)p;
		}
		if (nareas) {
			int64_t p = scamem_vmalloc_to_pfn(m, areas[off % nareas].addr + (uint64_t)(g8() % 4) * 4096);
			if (p >= 0)
				return (uint64_t)p;
		}
		break;
	}
	return minfo.end_pfn ? g16() % (minfo.end_pfn + 8) : g16();
}

static uint64_t pick_kaddr(void)
{
	uint8_t b = g8();
	if (nareas && b < 170) {
		uint64_t a = areas[g8() % nareas].addr;
		return b < 120 ? a : a + (uint64_t)(g8() % 18) * 4096 + (b & 1 ? 0 : g8());
	}
	if (b < 200 && nstale_addr)
		return RING_PICK(stale_addrs, nstale_addr);
	if (b < 230)
		return SCAMEM_VMALLOC_START + (uint64_t)g16() * 4096;
	return gext();
}

static struct scamem *pick_sc(int *live)
{
	uint8_t b = g8();
	*live = -1;
	if (nscs && b < 170) {
		*live = g8() % nscs;
		return scs[*live].s;
	}
	struct scamem *s;
	if (b < 215)
		s = RING_PICK(stale_scs, nstale_sc);
	else if (b < 240)
		s = (struct scamem *)(uintptr_t)g64();
	else
		s = (struct scamem *)(uintptr_t)gext();
	*live = find_sc(s);
	return s;
}

static struct scamem_mm *pick_mm(int *live)
{
	uint8_t b = g8();
	*live = -1;
	if (nmms && b < 200) {
		*live = g8() % nmms;
		return mms[*live].mm;
	}
	struct scamem_mm *mm;
	if (b < 230)
		mm = RING_PICK(stale_mms, nstale_mm);
	else
		mm = (struct scamem_mm *)(uintptr_t)(b & 1 ? g64() : gext());
	*live = find_mm(mm);
	return mm;
}

static uint64_t pick_uaddr(int mi)
{
	uint8_t b = g8();
	if (mi >= 0 && mms[mi].nvma && b < 200) {
		struct vma *v = &mms[mi].vma[g8() % mms[mi].nvma];
		uint64_t off = (uint64_t)(g8() % ((v->len + 4095) / 4096 + 2)) * 4096; /* inside, or just past */
		return v->start + off + (b < 190 ? 0 : g8());
	}
	if (b < 230)
		return (uint64_t)g32() << 12;
	return gext();
}

static uint32_t pick_count(uint32_t max)
{
	uint8_t b = g8();
	if (b < 240)
		return 1 + b % max;
	return b & 1 ? 0 : g32();
}

/* ------------------------------------------------------------------------ */
/* Machine from bytes                                                        */
/* ------------------------------------------------------------------------ */

/* The structs sit in bigger zeroed buffers: a size above sizeof() is then
 * a newer caller's struct (trailing fields zero, or not: -E2BIG), not a
 * read beyond the caller's memory. */
static union { struct scamem_machine_desc d; uint8_t raw[512]; } dbuf;
#define dp (&dbuf.d)
static struct scamem_zone_span zspan[8];
static struct scamem_pfn_range zholes[8], zres[8];

static void trace_desc(void)
{
	if (!trace)
		return;
	T("/* machine */\n");
	T("static const struct scamem_zone_span zones[] = {\n");
	for (uint32_t i = 0; i < dp->nr_zones; i++)
		T("\t{%u, %u, 0x%" PRIx64 "ull, 0x%" PRIx64 "ull},\n", zspan[i].nid, zspan[i].zone,
		  zspan[i].start_pfn, zspan[i].spanned_pages);
	T("};\nstatic const struct scamem_pfn_range holes[] = {\n");
	for (uint32_t i = 0; i < dp->nr_holes; i++)
		T("\t{0x%" PRIx64 "ull, 0x%" PRIx64 "ull},\n", zholes[i].start_pfn, zholes[i].nr_pages);
	T("\t{0, 0}};\nstatic const struct scamem_pfn_range reserved[] = {\n");
	for (uint32_t i = 0; i < dp->nr_reserved; i++)
		T("\t{0x%" PRIx64 "ull, 0x%" PRIx64 "ull},\n", zres[i].start_pfn, zres[i].nr_pages);
	T("\t{0, 0}};\n");
	T("struct scamem_machine_desc desc = {%u, %u, {%u, %u, %u, %u, %u, %u}, zones, holes, reserved, %u, %u, %u, %u, %u, %u, NULL, 0, 0};\n",
	  dp->size, dp->nr_nodes, dp->profile.size, dp->profile.nodes_shift, dp->profile.zones_shift,
	  dp->profile.section_size_bits, dp->profile.max_physmem_bits, dp->profile.sparsemem_vmemmap,
	  dp->nr_zones, dp->nr_holes, dp->nr_reserved, dp->strategy, dp->packed_index_bits, dp->reserved0);
}

/* Returns 0 with a machine in m, or -1 (creation failed cleanly). */
static int make_machine(void)
{
	uint8_t kind = g8();
	int hostile = (kind & 0xe0) == 0xe0;
	struct scamem_profile vm = SCAMEM_PROFILE_X86_64_VMEMMAP_INIT, sp = SCAMEM_PROFILE_X86_64_SPARSEMEM_INIT;

	memset(&dbuf, 0, sizeof(dbuf));
	memset(zspan, 0, sizeof(zspan));
	memset(zholes, 0, sizeof(zholes));
	memset(zres, 0, sizeof(zres));
	dp->size = sizeof(*dp);
	dp->nr_nodes = 1 + (kind & 3);
	dp->profile = (kind & 4) ? sp : vm;
	uint8_t pb = g8();
	if ((pb & 7) == 1) /* small sections: several in a small machine */
		dp->profile.section_size_bits = 22 + (pb >> 3) % 6;
	if (hostile && (pb & 0x10)) {
		dp->profile.size = (pb & 0x20) ? g8() : sizeof(struct scamem_profile);
		dp->profile.nodes_shift = g8() % 40;
		dp->profile.zones_shift = g8() % 8;
		dp->profile.section_size_bits = g8() % 70;
		dp->profile.max_physmem_bits = g8() % 72;
		dp->profile.sparsemem_vmemmap = g8() % 3;
	}
	if (hostile && (pb & 0x40))
		dp->nr_nodes = (pb & 0x80) ? g8() : (uint32_t)gext();

	uint32_t nz = 1 + g8() % 6;
	uint64_t cursor = g8() & 1 ? 0 : (uint64_t)g8() * 16;
	for (uint32_t i = 0; i < nz; i++) {
		uint8_t zb = g8();
		zspan[i].nid = (uint32_t)((i + (zb & 3)) % (dp->nr_nodes ? dp->nr_nodes : 1));
		zspan[i].zone = (zb >> 2) % 4;
		uint64_t span = 16 + g16() % 2048;
		if (zb & 0x40)
			cursor = (cursor + 1023) & ~1023ull; /* aligned */
		zspan[i].start_pfn = cursor;
		zspan[i].spanned_pages = span;
		cursor += span + (zb & 0x80 ? g8() : 0);
		if (hostile) {
			uint8_t h = g8();
			switch (h % 8) {
			case 0: zspan[i].start_pfn = gext(); break;
			case 1: zspan[i].spanned_pages = gext(); break;
			case 2: zspan[i].nid = g8(); break;
			case 3: zspan[i].zone = g8(); break;
			case 4: if (i) zspan[i].start_pfn = zspan[i - 1].start_pfn + g8(); break; /* overlap */
			case 5: if (i) zspan[i] = zspan[i - 1]; break;                           /* duplicate */
			}
		}
	}
	dp->zones = zspan;
	dp->nr_zones = nz;

	uint32_t nh = g8() % 4;
	for (uint32_t i = 0; i < nh; i++) {
		uint8_t hb = g8();
		zholes[i].start_pfn = cursor ? g16() % cursor : 0;
		zholes[i].nr_pages = hb & 0x80 ? 1024u << (hb & 3) : 1 + g16() % 512;
		if (hostile && (hb & 0x40))
			zholes[i].nr_pages = gext();
		if (hostile && (hb & 0x20))
			zholes[i].start_pfn = gext();
	}
	dp->holes = zholes;
	dp->nr_holes = nh;

	uint32_t nr = g8() % 4;
	for (uint32_t i = 0; i < nr; i++) {
		struct scamem_zone_span *z = &zspan[g8() % nz];
		uint8_t rb = g8();
		zres[i].start_pfn = z->start_pfn + (z->spanned_pages ? g16() % z->spanned_pages : 0);
		zres[i].nr_pages = 1 + rb % 64;
		if (hostile && (rb & 0x80))
			zres[i].nr_pages = gext();
		if (hostile && (rb & 0x40))
			zres[i].start_pfn = gext();
	}
	dp->reserved = zres;
	dp->nr_reserved = nr;

	uint8_t sb = g8();
	dp->strategy = sb % 6;
	if ((sb & 0x30) == 0x30) { /* mostly a small bound: 2-64 scamems */
		uint8_t v = g8();
		dp->packed_index_bits = v < 128 ? 1 + v % 6 : v % 34;
	}
	if (hostile && (sb & 0x40))
		dp->strategy = g32();
	if (hostile && (sb & 0x80)) {
		switch (g8() % 4) {
		case 0: dp->reserved0 = 1; break;
		case 1:
			dp->size = g8();
			if (dp->size > sizeof(*dp) && g8() & 1)
				dbuf.raw[sizeof(*dp) + g8() % (dp->size - sizeof(*dp))] = 1;
			break;
		case 2: dp->nr_zones = 0; break;
		case 3: dp->nr_holes = g8(); break; /* more than the array: must be refused or... UB, skip */
		}
		if (dp->nr_holes > 8)
			dp->nr_holes = 8;
	}
	/* Keep the array the library scans a few thousand pfns (plus hostile
	 * values it must refuse); a legitimate machine of 2^30 pfns would
	 * just be slow. */
	if (!hostile)
		for (uint32_t i = 0; i < nz; i++)
			if (zspan[i].start_pfn + zspan[i].spanned_pages > (1u << 16))
				return -1;
	for (uint32_t i = 0; i < dp->nr_zones; i++) {
		uint64_t end = zspan[i].start_pfn + zspan[i].spanned_pages;
		if (end >= zspan[i].start_pfn && end > (1ull << 20) && end <= (1ull << 40))
			return -1; /* big but maybe legal: minutes of work, not a bug */
	}

	trace_desc();
	m = NULL;
	int rc = chk0("scamem_machine_new", scamem_machine_new(dp, &m), X_INVAL | X_2BIG | X_NOMEM);
	T("\trc = scamem_machine_new(&desc, &m); /* %d */\n", rc);
	if (rc < 0) {
		if (m)
			die("scamem_machine_new failed (%d) but set *out", rc);
		return -1;
	}
	if (!m)
		die("scamem_machine_new returned 0 without a machine");
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Checks                                                                    */
/* ------------------------------------------------------------------------ */

static void check(const char *when)
{
	T("\tif (scamem_machine_check(m, NULL, NULL)) abort(); /* %s */\n", when);
	int64_t n = scamem_machine_check(m, NULL, NULL);
	if (n != 0) {
		fprintf(stderr, "fuzz_api: checker (%s):\n", when);
		scamem_machine_check(m, issue, NULL);
		die("the invariant checker found %" PRId64 " issues %s", n, when);
	}
	/* Every area is the harness's: iteration sees exactly those. */
	struct scamem_vm_struct vs;
	uint64_t a = 0;
	int count = 0;
	while (scamem_vm_area_next(m, a, &vs) == 0) {
		if (vs.addr <= a && count)
			die("vm_area_next(0x%" PRIx64 ") went back to 0x%" PRIx64, a, vs.addr);
		a = vs.addr;
		if (find_area(a) < 0)
			die("vm_area_next found an area at 0x%" PRIx64 " the harness does not hold", a);
		if (++count > MAXREC + 1)
			die("vm_area_next does not end");
	}
	if (count != nareas)
		die("vm_area_next saw %d areas, the harness holds %d", count, nareas);
	struct scamem_machine_info i;
	chk0("scamem_machine_info", scamem_machine_info(m, &i), X_INVAL);
	if (i.free_pages > i.managed_pages || i.managed_pages > i.present_pages)
		die("machine_info: free %" PRIu64 " managed %" PRIu64 " present %" PRIu64, i.free_pages,
		    i.managed_pages, i.present_pages);
}

/* ------------------------------------------------------------------------ */
/* GUP bookkeeping                                                           */
/* ------------------------------------------------------------------------ */

/* What a GUP reference on pfn is held on: a scamem handle, or a folio's head. */
static uint64_t owner_of(uint64_t pfn)
{
	struct scamem *s;
	if (scamem_page_scamem(m, pfn, &s) == 0)
		return (uint64_t)(uintptr_t)s | 1ull << 63;
	struct scamem_page_info pi;
	if (scamem_page_info(m, pfn, &pi) == 0 && pi.desc)
		return pi.desc;
	return pfn | 1ull << 62;
}

/* A put/unpin of pfn succeeded: drop the harness's reference it released. */
static void gup_released(const char *fn, uint64_t pfn, uint64_t owner, int pin)
{
	int best = -1;
	for (int i = 0; i < ngups; i++)
		if (gups[i].pfn == pfn && gups[i].pin == pin) {
			best = i;
			break;
		}
	for (int i = 0; best < 0 && i < ngups; i++)
		if (gups[i].pfn == pfn)
			best = i;
	/* A scamem keeps one count for the object: any of its pages may release it. */
	for (int i = 0; best < 0 && i < ngups; i++)
		if (owner_of(gups[i].pfn) == owner && (owner >> 63))
			best = i;
	if (best < 0)
		die("%s(0x%" PRIx64 ") succeeded but the harness holds no GUP reference on it", fn, pfn);
	gups[best] = gups[--ngups];
}

/* ------------------------------------------------------------------------ */
/* Operations                                                                */
/* ------------------------------------------------------------------------ */

static void op_alloc_pages(void)
{
	uint32_t gfp = pick_gfp(), order = pick_order();
	int32_t nid = pick_nid();
	uint64_t pfn = 0;
	if (npages >= MAXREC)
		return;
	T("\trc = scamem_alloc_pages(m, 0x%x, %u, %d, &pfn);\n", gfp, order, nid);
	int rc = chk0("scamem_alloc_pages", scamem_alloc_pages(m, gfp, order, nid, &pfn), X_INVAL | X_NOMEM);
	if (rc == 0) {
		if (order > SCAMEM_MAX_PAGE_ORDER)
			die("alloc_pages accepted order %u", order);
		if (pfn & ((1ull << order) - 1))
			die("alloc_pages: pfn 0x%" PRIx64 " not aligned to order %u", pfn, order);
		if (find_block(pages, npages, pfn) >= 0 || find_block(folios, nfolios, pfn) >= 0)
			die("alloc_pages handed out 0x%" PRIx64 " twice", pfn);
		pages[npages++] = (struct block){pfn, order, 1};
		T("\t/* pfn = 0x%" PRIx64 " */\n", pfn);
	}
}

static void op_free_pages(void)
{
	uint8_t b = g8();
	uint64_t pfn;
	uint32_t order;
	int i = -1;
	if (npages && b < 170) {
		i = g8() % npages;
		pfn = pages[i].pfn;
		order = pages[i].order;
		if (b >= 150) /* wrong order or a tail */
			b & 1 ? (order = pick_order()) : (pfn += g8() % (1u << order));
	} else {
		pfn = pick_pfn();
		order = pick_order();
	}
	i = -1;
	for (int k = 0; k < npages; k++)
		if (pages[k].pfn == pfn && pages[k].order == order)
			i = k;
	T("\trc = scamem_free_pages(m, 0x%" PRIx64 "ull, %u);\n", pfn, order);
	int rc = chk0("scamem_free_pages", scamem_free_pages(m, pfn, order),
		      X_INVAL | X_RANGE | X_NXIO | X_ALREADY | X_BUSY);
	/* The caller keeps a plain vmap()'s pages until vunmap: -EBUSY before. */
	if (rc == 0 && order <= SCAMEM_MAX_PAGE_ORDER && vmapped(pfn, 1ull << order))
		die("free_pages(0x%" PRIx64 ", %u) freed a page a vmap() area maps", pfn, order);
	if (rc == 0) {
		if (i < 0)
			die("free_pages(0x%" PRIx64 ", %u) succeeded on a block the caller never allocated", pfn, order);
		del_block(pages, &npages, i);
		PUSH(stale_pfns, nstale_pfn, pfn);
	}
}

static void op_folio_alloc(void)
{
	uint8_t b = g8();
	uint32_t type = b < 120 ? SCAMEM_TYPE_FILE : b < 240 ? SCAMEM_TYPE_ANON : g8();
	uint32_t gfp = pick_gfp(), order = pick_order();
	int32_t nid = pick_nid();
	uint64_t pfn = 0;
	if (nfolios >= MAXREC)
		return;
	T("\trc = scamem_folio_alloc(m, %u, 0x%x, %u, %d, &pfn);\n", type, gfp, order, nid);
	int rc = chk0("scamem_folio_alloc", scamem_folio_alloc(m, type, gfp, order, nid, &pfn), X_INVAL | X_NOMEM);
	if (rc == 0) {
		if (type != SCAMEM_TYPE_FILE && type != SCAMEM_TYPE_ANON)
			die("folio_alloc accepted type %u", type);
		folios[nfolios++] = (struct block){pfn, order, 1};
		T("\t/* pfn = 0x%" PRIx64 " */\n", pfn);
	}
}

/* A pfn for folio_get/put: ours, or one that is no folio of someone else. */
static int pick_folio_pfn(uint64_t *pfn)
{
	if (nfolios && g8() < 200) {
		struct block *f = &folios[g8() % nfolios];
		*pfn = f->pfn + g8() % (1u << f->order);
		return find_block(folios, nfolios, *pfn);
	}
	*pfn = pick_pfn();
	int i = find_block(folios, nfolios, *pfn);
	struct scamem_page_info pi;
	if (i < 0 && scamem_page_info(m, *pfn, &pi) == 0 &&
	    (pi.type == SCAMEM_TYPE_FILE || pi.type == SCAMEM_TYPE_ANON))
		return -2; /* an mm's folio: dropping its reference would be the harness's bug */
	return i;
}

static void op_folio_get(void)
{
	uint64_t pfn;
	int i = pick_folio_pfn(&pfn);
	if (i == -2)
		return;
	T("\trc = scamem_folio_get(m, 0x%" PRIx64 "ull);\n", pfn);
	int rc = (int)chk("scamem_folio_get", scamem_folio_get(m, pfn),
			  X_INVAL | X_RANGE | X_NXIO | X_ALREADY | X_OVERFLOW);
	if (rc == 0)
		die("folio_get returned refcount 0");
	if (rc > 0) {
		if (i < 0)
			die("folio_get(0x%" PRIx64 ") succeeded on a page that is no folio", pfn);
		folios[i].refs++;
	}
}

static void op_folio_put(void)
{
	uint64_t pfn;
	int i = pick_folio_pfn(&pfn);
	if (i == -2)
		return;
	T("\trc = scamem_folio_put(m, 0x%" PRIx64 "ull);\n", pfn);
	int rc = (int)chk("scamem_folio_put", scamem_folio_put(m, pfn), X_INVAL | X_RANGE | X_NXIO | X_ALREADY | X_BUSY);
	if (rc >= 0 && i >= 0 && folios[i].refs == 1 && vmapped(folios[i].pfn, 1ull << folios[i].order))
		die("folio_put(0x%" PRIx64 ") dropped the last reference on a folio a vmap() area maps", pfn);
	if (rc >= 0) {
		if (i < 0)
			die("folio_put(0x%" PRIx64 ") succeeded on a page that is no folio", pfn);
		folios[i].refs--;
		if (rc == 0 && folios[i].refs != 0)
			die("folio_put freed a folio the caller still holds %d references on", folios[i].refs);
		if (rc == 0) {
			PUSH(stale_pfns, nstale_pfn, folios[i].pfn);
			del_block(folios, &nfolios, i);
		} else if (folios[i].refs == 0) {
			/* Someone else holds it (vmap?): no longer the caller's. */
			del_block(folios, &nfolios, i);
		}
	}
}

static void op_slab_alloc(int pt)
{
	uint32_t cache = g8(), osz;
	uint8_t b = g8();
	osz = b < 200 ? 8u << (b % 10) : b < 240 ? g16() : g32();
	uint32_t gfp = pick_gfp(), order = pick_order();
	int32_t nid = pick_nid();
	uint64_t pfn = 0;
	int rc;
	if ((pt ? nptdescs : nslabs) >= MAXREC)
		return;
	if (pt) {
		T("\trc = scamem_ptdesc_alloc(m, 0x%x, %u, %d, &pfn);\n", gfp, order, nid);
		rc = chk0("scamem_ptdesc_alloc", scamem_ptdesc_alloc(m, gfp, order, nid, &pfn), X_INVAL | X_NOMEM);
	} else {
		T("\trc = scamem_slab_alloc(m, %u, %u, 0x%x, %u, %d, &pfn);\n", cache, osz, gfp, order, nid);
		rc = chk0("scamem_slab_alloc", scamem_slab_alloc(m, cache, osz, gfp, order, nid, &pfn), X_INVAL | X_NOMEM);
		if (rc == 0 && (osz == 0 || (uint64_t)osz > (4096ull << order)))
			die("slab_alloc accepted object size %u for order %u", osz, order);
	}
	if (rc == 0) {
		if (pt)
			ptdescs[nptdescs++] = (struct block){pfn, order, 1};
		else
			slabs[nslabs++] = (struct block){pfn, order, 1};
		T("\t/* pfn = 0x%" PRIx64 " */\n", pfn);
	}
}

static void op_slab_free(int pt)
{
	struct block *t = pt ? ptdescs : slabs;
	int *n = pt ? &nptdescs : &nslabs;
	uint64_t pfn;
	int i;
	if (*n && g8() < 200) {
		i = g8() % *n;
		pfn = t[i].pfn + g8() % (1u << t[i].order);
	} else {
		pfn = pick_pfn();
		i = find_block(t, *n, pfn);
		struct scamem_page_info pi;
		if (i < 0 && scamem_page_info(m, pfn, &pi) == 0 &&
		    pi.type == (pt ? SCAMEM_TYPE_PTDESC : SCAMEM_TYPE_SLAB))
			return; /* someone else's (an mm's page table?) */
	}
	int rc;
	if (pt) {
		T("\trc = scamem_ptdesc_free(m, 0x%" PRIx64 "ull);\n", pfn);
		rc = chk0("scamem_ptdesc_free", scamem_ptdesc_free(m, pfn), X_INVAL | X_RANGE | X_NXIO | X_ALREADY | X_BUSY);
	} else {
		T("\trc = scamem_slab_free(m, 0x%" PRIx64 "ull);\n", pfn);
		rc = chk0("scamem_slab_free", scamem_slab_free(m, pfn), X_INVAL | X_RANGE | X_NXIO | X_ALREADY | X_BUSY);
	}
	if (rc == 0) {
		if (i < 0)
			die("%s(0x%" PRIx64 ") freed something the caller never allocated", pt ? "ptdesc_free" : "slab_free", pfn);
		if (vmapped(t[i].pfn, 1ull << t[i].order))
			die("%s(0x%" PRIx64 ") freed pages a vmap() area maps", pt ? "ptdesc_free" : "slab_free", pfn);
		PUSH(stale_pfns, nstale_pfn, t[i].pfn);
		del_block(t, n, i);
	}
}

static void add_sc_ref(struct scamem *s)
{
	int i = find_sc(s);
	if (i >= 0) {
		scs[i].refs++;
		return;
	}
	if (nscs >= MAXREC)
		die("scamem table overflow"); /* callers check room first */
	unstale_sc(s);
	scs[nscs++] = (struct sc){s, 1};
}

static void op_scamem_alloc(void)
{
	uint32_t nr = pick_count(12), gfp = pick_gfp(), policy = g8();
	int32_t nid = pick_nid();
	struct scamem *s = NULL;
	if (policy < 250)
		policy %= 3;
	if (nscs >= MAXREC)
		return;
	T("\trc = scamem_alloc(m, %u, 0x%x, %u, %d, &s);\n", nr, gfp, policy, nid);
	int rc = chk0("scamem_alloc", scamem_alloc(m, nr, gfp, policy, nid, &s), X_INVAL | X_NOMEM | X_NOSPC);
	if (rc == 0) {
		if (!s || find_sc(s) >= 0)
			die("scamem_alloc returned 0x%llx (NULL or a live handle)", P(s));
		T("\t/* s = 0x%llx */\n", P(s));
		add_sc_ref(s);
		struct scamem_stat st;
		chk0("scamem_stat", scamem_stat(m, s, &st), X_INVAL | X_BADF);
		if (st.nr != nr || st.refcount != 1 || st.caller_refs != 1)
			die("fresh scamem: nr %u (asked %u) refcount %d caller %d", st.nr, nr, st.refcount, st.caller_refs);
	}
}

static void op_scamem_get(void)
{
	int i;
	struct scamem *s = pick_sc(&i);
	if (nscs >= MAXREC && i < 0)
		return;
	T("\trc = scamem_get(m, (struct scamem *)0x%llx);\n", P(s));
	int rc = (int)chk("scamem_get", scamem_get(m, s), X_INVAL | X_BADF | X_OVERFLOW);
	if (rc == 0)
		die("scamem_get returned refcount 0");
	if (rc > 0) {
		for (unsigned k = 0; k < MAXSTALE; k++)
			if (stale_scs[k] == s && s)
				die("scamem_get(0x%llx) succeeded on a freed scamem", P(s));
		add_sc_ref(s);
	}
}

static void op_scamem_put(void)
{
	int i;
	struct scamem *s = pick_sc(&i);
	T("\trc = scamem_put(m, (struct scamem *)0x%llx);\n", P(s));
	int rc = (int)chk("scamem_put", scamem_put(m, s), X_INVAL | X_BADF);
	if (i >= 0 && rc < 0)
		die("scamem_put(0x%llx) refused (%d) though the caller holds %d references", P(s), rc, scs[i].refs);
	if (rc >= 0) {
		if (i < 0)
			die("scamem_put(0x%llx) succeeded but the caller holds no reference", P(s));
		scs[i].refs--;
		if (rc == 0 && scs[i].refs)
			die("scamem_put freed the scamem; the caller still holds %d", scs[i].refs);
		if (rc == 0)
			PUSH(stale_scs, nstale_sc, s);
		if (!scs[i].refs)
			scs[i] = scs[--nscs];
	}
}

static void op_scamem_query(void)
{
	int i;
	struct scamem *s = pick_sc(&i);
	struct scamem_stat st;
	uint64_t pfns[16];
	uint32_t idx = g8() < 230 ? g8() % 14 : g32();
	uint32_t max = g8() % 17;
	T("\trc = scamem_stat(m, (struct scamem *)0x%llx, &st);\n", P(s));
	int rc = chk0("scamem_stat", scamem_stat(m, s, &st), X_INVAL | X_BADF);
	if (rc == 0) {
		if (st.refcount != st.vm_refs + st.map_refs + st.gup_refs + st.caller_refs)
			die("scamem_stat: refcount %d != vm %d + map %d + gup %d + caller %d", st.refcount, st.vm_refs,
			    st.map_refs, st.gup_refs, st.caller_refs);
		if (st.refcount <= 0 || st.vm_refs < 0 || st.vm_refs > 1 || st.map_refs < 0 || st.gup_refs < 0 ||
		    st.caller_refs < 0)
			die("scamem_stat: impossible counts");
		int mine = i >= 0 ? scs[i].refs : 0;
		if (st.caller_refs != mine)
			die("scamem_stat: caller_refs %d, the harness holds %d", st.caller_refs, mine);
	}
	T("\trc = scamem_page(m, (struct scamem *)0x%llx, %u);\n", P(s), idx);
	int64_t p = chk("scamem_page", scamem_page(m, s, idx), X_INVAL | X_BADF | X_RANGE);
	if (rc == 0 && p >= 0 && idx >= st.nr)
		die("scamem_page(%u) beyond nr %u", idx, st.nr);
	if (p >= 0)
		PUSH(seen_pfns, nseen, (uint64_t)p);
	int64_t n = chk("scamem_pages", scamem_pages(m, s, g8() < 250 ? pfns : NULL, max), X_INVAL | X_BADF);
	if (rc == 0 && n >= 0 && n != st.nr)
		die("scamem_pages returned %" PRId64 ", nr is %u", n, st.nr);
}

static void op_page_scamem(void)
{
	uint64_t pfn = pick_pfn();
	struct scamem *s = NULL;
	T("\trc = scamem_page_scamem(m, 0x%" PRIx64 "ull, &s);\n", pfn);
	int rc = chk0("scamem_page_scamem", scamem_page_scamem(m, pfn, &s), X_INVAL | X_RANGE | X_NXIO);
	if (rc == 0 && g8() & 1 && (find_sc(s) >= 0 || nscs < MAXREC)) {
		T("\trc = scamem_get(m, (struct scamem *)0x%llx);\n", P(s));
		if (chk("scamem_get", scamem_get(m, s), X_OVERFLOW) > 0)
			add_sc_ref(s);
	}
}

static void add_area(uint64_t addr, int kind, uint32_t n, const uint64_t *pfns)
{
	if (find_area(addr) >= 0)
		die("address 0x%" PRIx64 " handed out twice", addr);
	for (unsigned k = 0; k < MAXSTALE; k++)
		if (stale_addrs[k] == addr)
			stale_addrs[k] = 0;
	struct area *a = &areas[nareas++];
	a->addr = addr;
	a->kind = kind;
	a->n = kind == A_VMAP ? n : 0;
	if (kind == A_VMAP)
		memcpy(a->pfns, pfns, n * sizeof(*pfns));
}

static uint64_t pick_size(void)
{
	uint8_t b = g8();
	if (b < 200)
		return (uint64_t)(1 + b % 16) * 4096 - (b & 1 ? g8() : 0);
	if (b < 240)
		return g32();
	return gext();
}

static void op_vmalloc(void)
{
	uint8_t b = g8();
	uint64_t size = pick_size(), addr = 0;
	int rc;
	if (nareas >= MAXREC)
		return;
	switch (b % 4) {
	case 0:
		T("\trc = scamem_vmalloc(m, 0x%" PRIx64 "ull, &addr);\n", size);
		rc = chk0("scamem_vmalloc", scamem_vmalloc(m, size, &addr), X_INVAL | X_NOMEM | X_NOSPC);
		break;
	case 1:
		T("\trc = scamem_vmalloc_user(m, 0x%" PRIx64 "ull, &addr);\n", size);
		rc = chk0("scamem_vmalloc_user", scamem_vmalloc_user(m, size, &addr), X_INVAL | X_NOMEM | X_NOSPC);
		break;
	case 2: {
		int32_t nid = pick_nid();
		T("\trc = scamem_vmalloc_node(m, 0x%" PRIx64 "ull, %d, &addr);\n", size, nid);
		rc = chk0("scamem_vmalloc_node", scamem_vmalloc_node(m, size, nid, &addr), X_INVAL | X_NOMEM | X_NOSPC);
		break;
	}
	default: {
		static union { struct scamem_vmalloc_opts o; uint8_t raw[256]; } ob;
		memset(&ob, 0, sizeof(ob));
		struct scamem_vmalloc_opts o = {sizeof(o), 0, pick_gfp(), g8() % 3, pick_nid(), 0, g64()};
		uint8_t f = g8();
		static const uint32_t fl[] = {0, SCAMEM_VM_USERMAP, SCAMEM_VM_NO_GUARD, SCAMEM_VM_DMA_COHERENT,
					      SCAMEM_VM_USERMAP | SCAMEM_VM_NO_GUARD};
		o.vm_flags = f < 240 ? fl[f % 5] : g32();
		uint8_t h = g8();
		if (h >= 240) {
			switch (h % 4) {
			case 0:
				o.size = g8();
				if (o.size > sizeof(o) && g8() & 1)
					ob.raw[sizeof(o) + g8() % (o.size - sizeof(o))] = 1;
				break;
			case 1: o.reserved = 1; break;
			case 2: o.policy = g32(); break;
			case 3: o.nid = (int32_t)g32(); break;
			}
		}
		T("\t{ struct scamem_vmalloc_opts o = {%u, 0x%x, 0x%x, %u, %d, %u, 0x%" PRIx64 "ull};\n"
		  "\trc = scamem_vmalloc_opts(m, 0x%" PRIx64 "ull, &o, &addr); }\n",
		  o.size, o.vm_flags, o.gfp, o.policy, o.nid, o.reserved, o.caller, size);
		ob.o = o;
		rc = chk0("scamem_vmalloc_opts", scamem_vmalloc_opts(m, size, &ob.o, &addr), X_INVAL | X_NOMEM | X_2BIG | X_NOSPC);
		break;
	}
	}
	if (rc == 0) {
		if (size == 0)
			die("vmalloc accepted size 0");
		T("\t/* addr = 0x%" PRIx64 " */\n", addr);
		add_area(addr, A_VMALLOC, 0, NULL);
	}
}

static void op_vmap(void)
{
	uint64_t pfns[MAXVMAP];
	uint32_t count = pick_count(MAXVMAP), n = count > MAXVMAP ? MAXVMAP : count;
	uint8_t b = g8();
	static const uint32_t fl[] = {0, SCAMEM_VM_MAP_PUT_PAGES, SCAMEM_VM_MAP_PUT_PAGES | SCAMEM_VM_USERMAP,
				      SCAMEM_VM_MAP_PUT_PAGES, SCAMEM_VM_USERMAP, SCAMEM_VM_NO_GUARD,
				      SCAMEM_VM_MAP_PUT_PAGES | SCAMEM_VM_NO_GUARD};
	uint32_t flags = b < 240 ? fl[b % 7] : g32();
	uint64_t addr = 0;
	if (nareas >= MAXREC)
		return;
	for (uint32_t k = 0; k < n; k++) {
		uint8_t c = g8();
		if (c < 150 && npages) { /* an order-0 page of ours, the normal case */
			int i = g8() % npages;
			pfns[k] = pages[i].pfn + (pages[i].order && c & 1 ? g8() % (1u << pages[i].order) : 0);
		} else if (c < 170 && k) {
			pfns[k] = pfns[g8() % k]; /* duplicate */
		} else {
			pfns[k] = pick_pfn();
		}
	}
	if (count > MAXVMAP)
		count = 0; /* a count beyond the array would be the caller's UB */
	if (trace) {
		T("\t{ static const uint64_t v[] = {");
		for (uint32_t k = 0; k < n; k++)
			T("0x%" PRIx64 "ull, ", pfns[k]);
		T("};\n\trc = scamem_vmap(m, v, %u, 0x%x, &addr); }\n", count, flags);
	}
	int rc = chk0("scamem_vmap", scamem_vmap(m, pfns, count, flags, &addr),
		      X_INVAL | X_RANGE | X_NXIO | X_ALREADY | X_NOMEM | X_BUSY | X_NOSPC);
	if (rc < 0)
		return;
	T("\t/* addr = 0x%" PRIx64 " */\n", addr);
	if (count == 0)
		die("vmap accepted count 0");
	/* A user-mappable plain vmap (bpf ringbuf) takes alloc_pages() pages only. */
	if ((flags & SCAMEM_VM_USERMAP) && !(flags & SCAMEM_VM_MAP_PUT_PAGES))
		for (uint32_t k = 0; k < count; k++) {
			int ours = 0;
			for (int j = 0; j < npages; j++)
				if (pfns[k] >= pages[j].pfn && pfns[k] - pages[j].pfn < (1ull << pages[j].order))
					ours = 1;
			if (!ours)
				die("vmap(VM_USERMAP) took pfn 0x%" PRIx64 ", no alloc_pages() page of the caller", pfns[k]);
		}
	if (flags & SCAMEM_VM_MAP_PUT_PAGES) {
		for (uint32_t k = 0; k < count; k++) {
			int i = -1;
			for (int j = 0; j < npages; j++)
				if (pages[j].pfn == pfns[k] && pages[j].order == 0)
					i = j;
			if (i < 0)
				die("vmap(VM_MAP_PUT_PAGES) adopted pfn 0x%" PRIx64
				    " that is no order-0 page of the caller (or a duplicate)", pfns[k]);
			del_block(pages, &npages, i); /* the area's now */
		}
		add_area(addr, A_VMAP_PUT, 0, NULL);
	} else {
		add_area(addr, A_VMAP, count, pfns);
	}
}

/* vfree()/vunmap() -> remove_vm_area(): NULL does nothing, a misaligned
 * address is -EINVAL, any other address frees the area holding it (guard page
 * included), -ENOENT where none does; vunmap() of an area that owns its pages
 * (vmalloc, VM_MAP_PUT_PAGES) is -EINVAL. The area is looked up first with
 * find_vm_area(), which changes nothing and so is not traced. */
static void op_vfree(void)
{
	uint8_t b = g8();
	uint64_t addr = pick_kaddr();
	struct scamem_vm_struct vs;
	int i = -1, rc;
	int unmap = b & 1;
	const char *fn = unmap ? "vunmap" : "vfree";
	if (addr && !(addr & 4095) && scamem_find_vm_area(m, addr, &vs) == 0 && (i = find_area(vs.addr)) < 0)
		die("find_vm_area(0x%" PRIx64 ") gave an area at 0x%" PRIx64 " nobody made", addr, vs.addr);
	if (unmap) {
		T("\trc = scamem_vunmap(m, 0x%" PRIx64 "ull);\n", addr);
		rc = chk0("scamem_vunmap", scamem_vunmap(m, addr), X_INVAL | X_NOENT);
	} else {
		T("\trc = scamem_vfree(m, 0x%" PRIx64 "ull);\n", addr);
		rc = chk0("scamem_vfree", scamem_vfree(m, addr), X_INVAL | X_NOENT);
	}
	int want = !addr ? 0 : addr & 4095 ? -EINVAL : i < 0 ? -ENOENT
		 : unmap && areas[i].kind != A_VMAP ? -EINVAL : 0;
	if (rc != want)
		die("%s(0x%" PRIx64 ") = %d, the kernel's outcome is %d", fn, addr, rc, want);
	if (rc == 0 && i >= 0) {
		PUSH(stale_addrs, nstale_addr, areas[i].addr);
		areas[i] = areas[--nareas];
	}
}

static void op_vm_query(void)
{
	uint64_t addr = pick_kaddr();
	struct scamem_vm_struct vs;
	uint8_t b = g8();
	if (b % 3 == 0) {
		T("\trc = scamem_find_vm_area(m, 0x%" PRIx64 "ull, &vs);\n", addr);
		int rc = chk0("scamem_find_vm_area", scamem_find_vm_area(m, addr, &vs), X_INVAL | X_NOENT);
		if (rc == 0 && (addr < vs.addr || addr - vs.addr >= vs.size))
			die("find_vm_area(0x%" PRIx64 ") gave [0x%" PRIx64 ", +0x%" PRIx64 ")", addr, vs.addr, vs.size);
		if (rc == 0 && vs.scamem && b & 0x10 && (find_sc(vs.scamem) >= 0 || nscs < MAXREC)) {
			T("\trc = scamem_get(m, (struct scamem *)0x%llx);\n", P(vs.scamem));
			if (chk("scamem_get", scamem_get(m, vs.scamem), X_OVERFLOW | X_BADF) > 0)
				add_sc_ref(vs.scamem);
		}
	} else if (b % 3 == 1) {
		T("\trc = scamem_vm_area_next(m, 0x%" PRIx64 "ull, &vs);\n", addr);
		int rc = chk0("scamem_vm_area_next", scamem_vm_area_next(m, addr, &vs), X_INVAL | X_NOENT);
		if (rc == 0 && vs.addr <= addr)
			die("vm_area_next(0x%" PRIx64 ") gave 0x%" PRIx64, addr, vs.addr);
	} else {
		T("\trc = scamem_vmalloc_to_pfn(m, 0x%" PRIx64 "ull);\n", addr);
		int64_t p = chk("scamem_vmalloc_to_pfn", scamem_vmalloc_to_pfn(m, addr), X_INVAL | X_NOENT | X_FAULT);
		if (p >= 0)
			PUSH(seen_pfns, nseen, (uint64_t)p);
	}
}

static void op_mm_new(void)
{
	struct scamem_mm *mm = NULL;
	if (nmms >= 4)
		return;
	T("\trc = scamem_mm_new(m, &mm);\n");
	int rc = chk0("scamem_mm_new", scamem_mm_new(m, &mm), X_INVAL | X_NOMEM);
	if (rc == 0) {
		if (!mm || find_mm(mm) >= 0)
			die("mm_new returned 0x%llx", P(mm));
		T("\t/* mm = 0x%llx */\n", P(mm));
		unstale_mm(mm);
		mms[nmms].mm = mm;
		mms[nmms++].nvma = 0;
	}
}

static void op_mmap(void)
{
	int mi;
	struct scamem_mm *mm = pick_mm(&mi);
	uint8_t b = g8();
	static const uint32_t fl[] = {SCAMEM_MAP_SHARED, SCAMEM_MAP_PRIVATE | SCAMEM_MAP_ANONYMOUS,
				      SCAMEM_MAP_SHARED | SCAMEM_MAP_ANONYMOUS, SCAMEM_MAP_PRIVATE,
				      SCAMEM_MAP_SHARED | SCAMEM_MAP_FIXED,
				      SCAMEM_MAP_PRIVATE | SCAMEM_MAP_ANONYMOUS | SCAMEM_MAP_FIXED};
	uint32_t flags = b < 240 ? fl[b % 6] : g32();
	uint64_t len = g8() < 240 ? (uint64_t)(1 + g8() % 24) * 4096 - (b & 0x10 ? g8() : 0) : gext();
	uint64_t addr = 0, out = 0;
	uint8_t h = g8();
	if (h >= 128)
		addr = h < 200 && mi >= 0 ? pick_uaddr(mi) : (uint64_t)(1 + g16()) << 12;
	T("\trc = scamem_mmap(m, (struct scamem_mm *)0x%llx, 0x%" PRIx64 "ull, 0x%" PRIx64 "ull, 0x%x, &out);\n",
	  P(mm), addr, len, flags);
	int rc = chk0("scamem_mmap", scamem_mmap(m, mm, addr, len, flags, &out), X_INVAL | X_BADF | X_EXIST | X_NOMEM);
	if (rc == 0) {
		if (mi < 0)
			die("mmap succeeded on a stale or made-up mm 0x%llx", P(mm));
		if (len > SCAMEM_MAX_VMA_BYTES)
			die("mmap accepted len 0x%" PRIx64, len);
		if ((flags & SCAMEM_MAP_FIXED) && out != addr)
			die("MAP_FIXED mmap at 0x%" PRIx64 " returned 0x%" PRIx64, addr, out);
		T("\t/* out = 0x%" PRIx64 " */\n", out);
		struct mmrec *r = &mms[mi];
		struct vma v = {out, len, (flags & SCAMEM_MAP_ANONYMOUS) != 0};
		if (r->nvma < 8)
			r->vma[r->nvma++] = v;
		else
			r->vma[g8() % 8] = v;
	} else if (rc == -EBADF && mi >= 0) {
		die("mmap: -EBADF on a live mm");
	}
}

static void op_munmap(void)
{
	int mi;
	struct scamem_mm *mm = pick_mm(&mi);
	uint64_t addr = pick_uaddr(mi);
	uint64_t len = g8() < 240 ? (uint64_t)(1 + g8() % 8) * 4096 : gext();
	T("\trc = scamem_munmap(m, (struct scamem_mm *)0x%llx, 0x%" PRIx64 "ull, 0x%" PRIx64 "ull);\n", P(mm), addr, len);
	int rc = chk0("scamem_munmap", scamem_munmap(m, mm, addr, len), X_INVAL | X_BADF);
	if (rc == 0 && mi < 0)
		die("munmap succeeded on a stale or made-up mm 0x%llx", P(mm));
}

static void op_remap(void)
{
	int mi;
	struct scamem_mm *mm = pick_mm(&mi);
	uint64_t uaddr = pick_uaddr(mi), kaddr = pick_kaddr();
	uint64_t pgoff = g8() < 230 ? g8() % 4 : gext();
	uint8_t b = g8();
	int rc;
	if (b & 1) {
		T("\trc = scamem_remap_vmalloc_range(m, (struct scamem_mm *)0x%llx, 0x%" PRIx64 "ull, 0x%" PRIx64
		  "ull, 0x%" PRIx64 "ull);\n", P(mm), uaddr, kaddr, pgoff);
		rc = chk0("scamem_remap_vmalloc_range", scamem_remap_vmalloc_range(m, mm, uaddr, kaddr, pgoff),
			  X_INVAL | X_FAULT | X_BUSY | X_BADF);
	} else {
		uint64_t size = b < 240 ? (uint64_t)(1 + g8() % 8) * 4096 : gext();
		T("\trc = scamem_remap_vmalloc_range_partial(m, (struct scamem_mm *)0x%llx, 0x%" PRIx64 "ull, 0x%" PRIx64
		  "ull, 0x%" PRIx64 "ull, 0x%" PRIx64 "ull);\n", P(mm), uaddr, kaddr, pgoff, size);
		rc = chk0("scamem_remap_vmalloc_range_partial",
			  scamem_remap_vmalloc_range_partial(m, mm, uaddr, kaddr, pgoff, size),
			  X_INVAL | X_FAULT | X_BUSY | X_BADF);
	}
	if (rc == 0 && mi < 0)
		die("remap_vmalloc_range succeeded on a stale or made-up mm");
}

static void op_fault(void)
{
	int mi;
	struct scamem_mm *mm = pick_mm(&mi);
	uint64_t addr = pick_uaddr(mi), pfn = 0;
	uint8_t b = g8();
	if (b % 3 == 0) {
		T("\trc = scamem_handle_mm_fault(m, (struct scamem_mm *)0x%llx, 0x%" PRIx64 "ull, &pfn);\n", P(mm), addr);
		int rc = chk0("scamem_handle_mm_fault", scamem_handle_mm_fault(m, mm, addr, &pfn),
			      X_INVAL | X_BADF | X_FAULT | X_NOMEM);
		if (rc == 0)
			PUSH(seen_pfns, nseen, pfn);
	} else if (b % 3 == 1) {
		T("\trc = scamem_follow_page(m, (struct scamem_mm *)0x%llx, 0x%" PRIx64 "ull);\n", P(mm), addr);
		int64_t p = chk("scamem_follow_page", scamem_follow_page(m, mm, addr), X_INVAL | X_BADF | X_FAULT);
		if (p >= 0)
			PUSH(seen_pfns, nseen, (uint64_t)p);
	} else {
		struct scamem_vma v;
		T("\trc = scamem_find_vma(m, (struct scamem_mm *)0x%llx, 0x%" PRIx64 "ull, &v);\n", P(mm), addr);
		int rc = chk0("scamem_find_vma", scamem_find_vma(m, mm, addr, &v), X_INVAL | X_BADF | X_FAULT);
		if (rc == 0 && (addr < v.start || addr >= v.end))
			die("find_vma(0x%" PRIx64 ") gave [0x%" PRIx64 ", 0x%" PRIx64 ")", addr, v.start, v.end);
		if (rc == 0 && v.mapped_pages > (v.end - v.start) / 4096)
			die("find_vma: %" PRIu64 " mapped pages in a %" PRIu64 "-page VMA", v.mapped_pages,
			    (v.end - v.start) / 4096);
	}
}

static void op_mm_exit(void)
{
	int mi;
	struct scamem_mm *mm = pick_mm(&mi);
	T("\trc = scamem_mm_exit(m, (struct scamem_mm *)0x%llx);\n", P(mm));
	int rc = chk0("scamem_mm_exit", scamem_mm_exit(m, mm), X_INVAL | X_BADF);
	if (rc == 0) {
		if (mi < 0)
			die("mm_exit succeeded on a stale or made-up mm 0x%llx", P(mm));
		PUSH(stale_mms, nstale_mm, mm);
		mms[mi] = mms[--nmms];
	} else if (mi >= 0) {
		die("mm_exit refused a live mm (%d)", rc);
	}
}

/* A VMA record for an address the library returned (mremap, do_mmap). */
static void add_vma(int mi, uint64_t start, uint64_t len, int anon)
{
	struct mmrec *r = &mms[mi];
	struct vma v = {start, len, anon};
	if (r->nvma < 8)
		r->vma[r->nvma++] = v;
	else
		r->vma[g8() % 8] = v;
}

/* 0.2's address-space calls: do_mmap, mprotect, mremap, madvise, fork, fixup_user_fault. */
static void op_vma_calls(void)
{
	int mi;
	struct scamem_mm *mm = pick_mm(&mi);
	uint64_t addr = pick_uaddr(mi), out = 0;
	uint64_t len = g8() < 240 ? (uint64_t)(1 + g8() % 8) * 4096 : gext();
	uint8_t b = g8();
	uint32_t prot = b < 240 ? (uint32_t)b % 8 : g32();
	int rc;
	switch (g8() % 6) {
	case 0: {
		uint32_t flags = g8() & 1 ? SCAMEM_MAP_PRIVATE | SCAMEM_MAP_ANONYMOUS : SCAMEM_MAP_SHARED;
		T("	rc = scamem_do_mmap(m, (struct scamem_mm *)0x%llx, 0, 0x%" PRIx64 "ull, 0x%x, 0x%x, &out);\n", P(mm),
		  len, prot, flags);
		rc = chk0("scamem_do_mmap", scamem_do_mmap(m, mm, 0, len, prot, flags, &out),
			  X_INVAL | X_BADF | X_NOMEM);
		if (rc == 0 && (mi < 0 || prot > 7))
			die("do_mmap succeeded on a stale mm or with prot 0x%x", prot);
		if (rc == 0)
			add_vma(mi, out, len, (flags & SCAMEM_MAP_ANONYMOUS) != 0);
		break;
	}
	case 1:
		T("\trc = scamem_mprotect(m, (struct scamem_mm *)0x%llx, 0x%" PRIx64 "ull, 0x%" PRIx64 "ull, 0x%x);\n",
		  P(mm), addr, len, prot);
		rc = chk0("scamem_mprotect", scamem_mprotect(m, mm, addr, len, prot),
			  X_INVAL | X_BADF | X_NOMEM | X_ACCES);
		if (rc == 0 && mi < 0)
			die("mprotect succeeded on a stale or made-up mm");
		break;
	case 2: {
		uint64_t new_len = g8() < 240 ? (uint64_t)(1 + g8() % 8) * 4096 : gext();
		uint32_t flags = g8() % 8;
		uint64_t new_addr = flags & SCAMEM_MREMAP_FIXED ? pick_uaddr(mi) : 0;
		T("\trc = scamem_mremap(m, (struct scamem_mm *)0x%llx, 0x%" PRIx64 "ull, 0x%" PRIx64 "ull, 0x%" PRIx64
		  "ull, 0x%x, 0x%" PRIx64 "ull, &out);\n", P(mm), addr, len, new_len, flags, new_addr);
		rc = chk0("scamem_mremap", scamem_mremap(m, mm, addr, len, new_len, flags, new_addr, &out),
			  X_INVAL | X_BADF | X_NOMEM | X_FAULT);
		if (rc == 0 && mi < 0)
			die("mremap succeeded on a stale or made-up mm");
		if (rc == 0 && (flags & SCAMEM_MREMAP_FIXED) && out != new_addr)
			die("MREMAP_FIXED to 0x%" PRIx64 " returned 0x%" PRIx64, new_addr, out);
		if (rc == 0)
			add_vma(mi, out, new_len, 1);
		break;
	}
	case 3: {
		static const int advice[] = {SCAMEM_MADV_DONTNEED, SCAMEM_MADV_DONTFORK, SCAMEM_MADV_DOFORK, 0, 99};
		int a = advice[b % 5];
		T("\trc = scamem_madvise(m, (struct scamem_mm *)0x%llx, 0x%" PRIx64 "ull, 0x%" PRIx64 "ull, %d);\n", P(mm),
		  addr, len, a);
		rc = chk0("scamem_madvise", scamem_madvise(m, mm, addr, len, a), X_INVAL | X_BADF | X_NOMEM);
		if (rc == 0 && (mi < 0 || a == 0 || a == 99))
			die("madvise(%d) succeeded on a stale mm or with bad advice", a);
		break;
	}
	case 4: {
		struct scamem_mm *child = NULL;
		if (nmms >= 4)
			return;
		T("\trc = scamem_fork(m, (struct scamem_mm *)0x%llx, &mm);\n", P(mm));
		rc = chk0("scamem_fork", scamem_fork(m, mm, &child), X_INVAL | X_BADF | X_NOMEM | X_OVERFLOW);
		if (rc == 0) {
			if (mi < 0 || !child || find_mm(child) >= 0)
				die("fork of 0x%llx gave 0x%llx", P(mm), P(child));
			T("\t/* mm = 0x%llx */\n", P(child));
			unstale_mm(child);
			mms[nmms] = mms[mi];
			mms[nmms++].mm = child;
		}
		break;
	}
	default: {
		uint64_t pfn = 0;
		uint32_t ff = b < 200 ? (b & 1 ? SCAMEM_FAULT_FLAG_WRITE : 0) | (b & 2 ? SCAMEM_FAULT_FLAG_UNSHARE : 0) : g32();
		T("\trc = scamem_fixup_user_fault(m, (struct scamem_mm *)0x%llx, 0x%" PRIx64 "ull, 0x%x, &pfn);\n", P(mm),
		  addr, ff);
		rc = chk0("scamem_fixup_user_fault", scamem_fixup_user_fault(m, mm, addr, ff, &pfn),
			  X_INVAL | X_BADF | X_FAULT | X_NOMEM | X_OVERFLOW);
		if (rc == 0)
			PUSH(seen_pfns, nseen, pfn);
		break;
	}
	}
}

static void op_gup(int pin)
{
	int mi;
	struct scamem_mm *mm = pick_mm(&mi);
	uint64_t start = pick_uaddr(mi);
	uint64_t nr = g8() < 240 ? 1 + g8() % 8 : g8() & 1 ? 0 : gext();
	uint8_t b = g8();
	uint32_t flags;
	if (b < 230) {
		flags = (b & 1 ? SCAMEM_FOLL_WRITE : 0) | (pin && b & 2 ? SCAMEM_FOLL_LONGTERM : 0) |
			(b & 4 ? SCAMEM_FOLL_FORCE : 0);
	} else {
		static const uint32_t odd[] = {SCAMEM_FOLL_PIN, SCAMEM_FOLL_GET, SCAMEM_FOLL_LONGTERM, 0x4, 0xffffffff};
		flags = odd[b % 5];
	}
	uint64_t pfns[8] = {0};
	if (nr > 8) {
		/* The array holds 8: ask for more only where the call must fail first. */
		if (ngups > MAXGUP - 8)
			return;
		start |= 1; /* misaligned: -EINVAL before anything is written */
	}
	if (ngups > MAXGUP - 8)
		return;
	/* Bit 3 of the flags byte: the _fast() forms (GUP-fast, then the locked walk). */
	int fast = b < 230 && b & 8;
	const char *fn = pin ? fast ? "scamem_pin_user_pages_fast" : "scamem_pin_user_pages"
			     : fast ? "scamem_get_user_pages_fast" : "scamem_get_user_pages";
	T("\t{ uint64_t p[8]; rc = %s(m, (struct scamem_mm *)0x%llx, 0x%" PRIx64 "ull, %" PRIu64 ", 0x%x, p); }\n", fn,
	  P(mm), start, nr, flags);
	int64_t rc = pin ? fast ? scamem_pin_user_pages_fast(m, mm, start, nr, flags, pfns)
				: scamem_pin_user_pages(m, mm, start, nr, flags, pfns)
			 : fast ? scamem_get_user_pages_fast(m, mm, start, nr, flags, pfns)
				: scamem_get_user_pages(m, mm, start, nr, flags, pfns);
	chk(fn, rc, X_INVAL | X_BADF | X_FAULT | X_NOMEM | X_OVERFLOW);
	if (rc < 0)
		return;
	if (mi < 0)
		die("%s succeeded on a stale or made-up mm", fn);
	if ((uint64_t)rc > nr || (rc == 0 && nr > 0))
		die("%s returned %" PRId64 " for %" PRIu64 " pages", fn, rc, nr);
	if (!pin && (flags & (SCAMEM_FOLL_PIN | SCAMEM_FOLL_LONGTERM)))
		die("get_user_pages accepted FOLL_PIN/FOLL_LONGTERM");
	if (pin && (flags & (SCAMEM_FOLL_GET | SCAMEM_FOLL_PIN)))
		die("pin_user_pages accepted FOLL_GET or FOLL_PIN (internal: is_valid_gup_args())");
	for (int64_t k = 0; k < rc; k++) {
		gups[ngups++] = (struct gup){pfns[k], pin};
		T("\t/* p[%" PRId64 "] = 0x%" PRIx64 " */\n", k, pfns[k]);
	}
}

static void op_put_page(int pin)
{
	uint64_t pfn;
	uint8_t b = g8();
	if (ngups && b < 200)
		pfn = gups[g8() % ngups].pfn;
	else
		pfn = pick_pfn();
	uint64_t owner = owner_of(pfn);
	const char *fn = pin ? "scamem_unpin_user_page" : "scamem_put_page";
	T("\trc = %s(m, 0x%" PRIx64 "ull);\n", fn, pfn);
	int rc = chk0(fn, pin ? scamem_unpin_user_page(m, pfn) : scamem_put_page(m, pfn),
		      X_INVAL | X_ALREADY | X_RANGE | X_NXIO);
	if (rc == 0)
		gup_released(fn, pfn, owner, pin);
}

static void op_unpin_pages(void)
{
	uint64_t pfns[8], owners[8];
	uint32_t n = g8() % 9;
	for (uint32_t k = 0; k < n; k++) {
		if (ngups && g8() < 220)
			pfns[k] = gups[g8() % ngups].pfn;
		else
			pfns[k] = pick_pfn();
		owners[k] = owner_of(pfns[k]);
	}
	if (trace) {
		T("\t{ static const uint64_t v[] = {");
		for (uint32_t k = 0; k < n; k++)
			T("0x%" PRIx64 "ull, ", pfns[k]);
		T("0};\n\trc = scamem_unpin_user_pages(m, v, %u); }\n", n);
	}
	int64_t rc = chk("scamem_unpin_user_pages", scamem_unpin_user_pages(m, n ? pfns : NULL, n),
			 X_INVAL | X_ALREADY | X_RANGE | X_NXIO);
	if (rc > (int64_t)n)
		die("unpin_user_pages returned %" PRId64 " of %u", rc, n);
	for (int64_t k = 0; k < rc; k++)
		gup_released("scamem_unpin_user_pages", pfns[k], owners[k], 1);
}

static void op_page_query(void)
{
	uint64_t pfn = pick_pfn();
	struct scamem_page_info pi;
	uint8_t b = g8();
	int rc;
	switch (b % 5) {
	case 0:
		rc = (int)chk("scamem_page_to_nid", scamem_page_to_nid(m, pfn), X_INVAL | X_RANGE | X_NXIO);
		if (rc >= (int)minfo.nr_nodes)
			die("page_to_nid(0x%" PRIx64 ") = %d of %u nodes", pfn, rc, minfo.nr_nodes);
		break;
	case 1:
		rc = (int)chk("scamem_page_zonenum", scamem_page_zonenum(m, pfn), X_INVAL | X_RANGE | X_NXIO);
		if (rc >= SCAMEM_MAX_NR_ZONES)
			die("page_zonenum(0x%" PRIx64 ") = %d", pfn, rc);
		break;
	case 2:
		chk("scamem_page_to_section", scamem_page_to_section(m, pfn), X_INVAL | X_RANGE | X_NXIO);
		break;
	case 3:
		T("\trc = scamem_page_info(m, 0x%" PRIx64 "ull, &pi);\n", pfn);
		rc = chk0("scamem_page_info", scamem_page_info(m, pfn, &pi), X_INVAL | X_RANGE | X_NXIO);
		if (rc == 0 && (pi.pfn != pfn || pi.type != scamem_word_type(pi.word)))
			die("page_info(0x%" PRIx64 "): pfn 0x%" PRIx64 " type %u word 0x%" PRIx64, pfn, pi.pfn, pi.type, pi.word);
		if (rc == -ENXIO && pi.word != SCAMEM_WORD_NOPAGE)
			die("page_info -ENXIO without the NOPAGE word");
		break;
	default:
		rc = (int)chk("scamem_folio_maybe_dma_pinned", scamem_folio_maybe_dma_pinned(m, pfn),
			      X_INVAL | X_RANGE | X_NXIO);
		if (rc > 1)
			die("folio_maybe_dma_pinned returned %d", rc);
	}
}

static void op_machine_query(void)
{
	uint64_t counts[SCAMEM_NR_TYPES] = {0};
	uint8_t b = g8();
	switch (b % 6) {
	case 0: {
		uint64_t start = g8() < 200 ? g16() % (minfo.end_pfn + 4) : gext();
		uint64_t nr = g8() < 200 ? g16() : gext();
		int64_t rc = chk("scamem_classify_range", scamem_classify_range(m, start, nr, counts), X_INVAL | X_RANGE);
		if (rc >= 0) {
			uint64_t sum = 0;
			for (int t = 0; t < SCAMEM_NR_TYPES; t++)
				sum += counts[t];
			if ((uint64_t)rc > nr || sum != (uint64_t)rc)
				die("classify_range(0x%" PRIx64 ", 0x%" PRIx64 ") = %" PRId64 ", counts sum %" PRIu64, start, nr, rc, sum);
		}
		break;
	}
	case 1: {
		int32_t nid = g8() < 200 ? (int32_t)(g8() % (minfo.nr_nodes + 1)) - 1 : (int32_t)g32();
		int32_t zone = g8() < 200 ? (int32_t)(g8() % 7) - 1 : (int32_t)g32();
		chk("scamem_count_pages", scamem_count_pages(m, nid, zone, counts), X_INVAL);
		break;
	}
	case 2: {
		struct scamem_metadata md;
		chk0("scamem_machine_metadata", scamem_machine_metadata(m, &md), X_INVAL);
		struct scamem_strategy_cost c;
		chk0("scamem_machine_strategy_cost", scamem_machine_strategy_cost(m, &c), X_INVAL);
		break;
	}
	case 3: {
		struct scamem_zone_info z;
		uint32_t idx = g8() < 240 ? g8() % 8 : g32();
		int rc = chk0("scamem_machine_zone", scamem_machine_zone(m, idx, &z), X_INVAL | X_NOENT);
		if (rc == 0) {
			uint64_t f = 0;
			for (int o = 0; o < SCAMEM_NR_PAGE_ORDERS; o++)
				f += z.nr_free[o] << o;
			if (f != z.free_pages || idx >= minfo.nr_zones)
				die("machine_zone(%u): nr_free sums to %" PRIu64 ", free_pages %" PRIu64, idx, f, z.free_pages);
		}
		break;
	}
	case 4: {
		const uint64_t *w;
		uint64_t nr;
		chk0("scamem_machine_words", scamem_machine_words(m, &w, &nr), X_INVAL);
		if (nr != minfo.end_pfn)
			die("machine_words: %" PRIu64 " words, end_pfn %" PRIu64, nr, minfo.end_pfn);
		break;
	}
	default: {
		struct scamem_layout l;
		chk0("scamem_machine_layout", scamem_machine_layout(m, &l), X_INVAL);
		break;
	}
	}
}

static void op_word_decode(void)
{
	struct scamem_layout l;
	struct scamem_word_info wi;
	uint8_t b = g8();
	uint64_t word;
	if (b & 1) {
		l = mlayout;
		const uint64_t *w;
		uint64_t nr;
		scamem_machine_words(m, &w, &nr);
		word = nr && b < 200 ? w[g16() % nr] : g64();
	} else {
		l.version = b & 2 ? SCAMEM_LAYOUT_VERSION : g32();
		l.section_size_bits = g8();
		l.sections_width = g8();
		l.nodes_width = g8();
		l.zones_width = g8();
		l.sections_pgshift = g8();
		l.nodes_pgshift = g8();
		l.zones_pgshift = g8();
		if (b & 4) { /* whole 32-bit values now and then */
			l.nodes_width = g32();
			l.nodes_pgshift = g32();
		}
		word = b & 8 ? gext() : g64();
	}
	T("\t{ struct scamem_layout l = {%u, %u, %u, %u, %u, %u, %u, %u}; struct scamem_word_info wi;\n"
	  "\trc = scamem_word_decode(&l, 0x%" PRIx64 "ull, &wi); }\n",
	  l.version, l.section_size_bits, l.sections_width, l.nodes_width, l.zones_width, l.sections_pgshift,
	  l.nodes_pgshift, l.zones_pgshift, word);
	int rc = chk0("scamem_word_decode", scamem_word_decode(&l, word, &wi), X_INVAL);
	if (rc == 0 && (b & 1)) {
		if (wi.word != word || wi.type != scamem_word_type(word) || wi.desc != scamem_word_desc(word) ||
		    (wi.is_inline && (wi.nid != scamem_memdesc_nid(&l, word) ||
				      wi.zone != scamem_memdesc_zonenum(&l, word) ||
				      wi.order != scamem_word_order(word) || wi.subtype != scamem_word_subtype(word))))
			die("word_decode(0x%" PRIx64 ") disagrees with the header's inline decoders", word);
	}
}

static void op_settings(void)
{
	uint8_t b = g8();
	if (b & 1) {
		int32_t nid = b < 200 ? (int32_t)(g8() % (minfo.nr_nodes + 2)) - 1 : (int32_t)g32();
		T("\trc = scamem_machine_set_local_node(m, %d);\n", nid);
		int rc = chk0("scamem_machine_set_local_node", scamem_machine_set_local_node(m, nid), X_INVAL);
		if (rc == 0 && (nid < 0 || (uint32_t)nid >= minfo.nr_nodes))
			die("set_local_node accepted %d of %u nodes", nid, minfo.nr_nodes);
	} else {
		uint32_t order = b < 200 ? g8() % 12 : g32();
		T("\trc = scamem_machine_set_anon_order(m, %u);\n", order);
		int rc = chk0("scamem_machine_set_anon_order", scamem_machine_set_anon_order(m, order), X_INVAL);
		if (rc == 0 && order > SCAMEM_MAX_PAGE_ORDER)
			die("set_anon_order accepted %u", order);
	}
}

static void op_misc(void)
{
	uint8_t b = g8();
	if (b < 250 || compared) {
		int e = b & 1 ? (int)g32() : -(int)(g8() % 140);
		const char *s = scamem_strerror(e);
		if (!s || !*s)
			die("strerror(%d) is empty", e);
		return;
	}
	/* Rarely: the comparison on this (small) machine; -ENOMEM is fine. */
	compared = 1;
	struct scamem_compare_row rows[5];
	uint32_t wl = g8() % 3, nr = g8() % 6;
	int rc = (int)chk("scamem_compare_strategies", scamem_compare_strategies(dp, wl, rows, nr),
			  X_INVAL | X_NOMEM | X_2BIG | X_NOSPC);
	if (rc > (int)nr || rc > 5)
		die("compare_strategies filled %d of %u rows", rc, nr);
}

/* ------------------------------------------------------------------------ */
/* Teardown                                                                  */
/* ------------------------------------------------------------------------ */

static void teardown(void)
{
	T("\t/* teardown */\n");
	/* GUP references first: they can outlive everything else. */
	while (ngups) {
		struct gup g = gups[ngups - 1];
		uint64_t owner = owner_of(g.pfn);
		const char *fn = g.pin ? "scamem_unpin_user_page" : "scamem_put_page";
		T("\trc = %s(m, 0x%" PRIx64 "ull);\n", fn, g.pfn);
		int rc = g.pin ? scamem_unpin_user_page(m, g.pfn) : scamem_put_page(m, g.pfn);
		if (rc != 0)
			die("teardown: %s(0x%" PRIx64 ") = %d (%s) for a reference GUP gave", fn, g.pfn, rc, scamem_strerror(rc));
		gup_released(fn, g.pfn, owner, g.pin);
	}
	while (nmms) {
		T("\trc = scamem_mm_exit(m, (struct scamem_mm *)0x%llx);\n", P(mms[nmms - 1].mm));
		int rc = scamem_mm_exit(m, mms[nmms - 1].mm);
		if (rc != 0)
			die("teardown: mm_exit = %d", rc);
		nmms--;
	}
	/* vmap() areas before the pages they map; then the vmalloc ones. Only a
	 * plain vmap() is vunmap()'s; an area owning its pages is vfree()'s. */
	for (int pass = 0; pass < 2; pass++)
		for (int i = nareas - 1; i >= 0; i--) {
			if ((areas[i].kind == A_VMALLOC) != pass)
				continue;
			int unmap = areas[i].kind == A_VMAP;
			T("\trc = scamem_%s(m, 0x%" PRIx64 "ull);\n", unmap ? "vunmap" : "vfree", areas[i].addr);
			int rc = unmap ? scamem_vunmap(m, areas[i].addr) : scamem_vfree(m, areas[i].addr);
			if (rc != 0)
				die("teardown: %s(0x%" PRIx64 ") = %d", unmap ? "vunmap" : "vfree", areas[i].addr, rc);
			areas[i] = areas[--nareas];
		}
	while (nscs) {
		T("\trc = scamem_put(m, (struct scamem *)0x%llx);\n", P(scs[nscs - 1].s));
		int rc = scamem_put(m, scs[nscs - 1].s);
		if (rc < 0)
			die("teardown: scamem_put(0x%llx) = %d with %d caller references", P(scs[nscs - 1].s), rc,
			    scs[nscs - 1].refs);
		if (--scs[nscs - 1].refs == 0) {
			if (rc != 0)
				die("teardown: the last reference dropped but the scamem lives on (%d)", rc);
			nscs--;
		}
	}
	while (npages) {
		struct block *p = &pages[npages - 1];
		T("\trc = scamem_free_pages(m, 0x%" PRIx64 "ull, %u);\n", p->pfn, p->order);
		int rc = scamem_free_pages(m, p->pfn, p->order);
		if (rc != 0)
			die("teardown: free_pages(0x%" PRIx64 ", %u) = %d (%s)", p->pfn, p->order, rc, scamem_strerror(rc));
		npages--;
	}
	while (nfolios) {
		struct block *f = &folios[nfolios - 1];
		T("\trc = scamem_folio_put(m, 0x%" PRIx64 "ull);\n", f->pfn);
		int rc = scamem_folio_put(m, f->pfn);
		if (rc < 0)
			die("teardown: folio_put(0x%" PRIx64 ") = %d (%s)", f->pfn, rc, scamem_strerror(rc));
		if (--f->refs == 0 || rc == 0) {
			if (rc != 0)
				die("teardown: folio 0x%" PRIx64 " still has %d references nobody holds", f->pfn, rc);
			if (f->refs)
				die("teardown: folio 0x%" PRIx64 " freed with %d caller references left", f->pfn, f->refs);
			nfolios--;
		}
	}
	while (nslabs) {
		T("\trc = scamem_slab_free(m, 0x%" PRIx64 "ull);\n", slabs[nslabs - 1].pfn);
		int rc = scamem_slab_free(m, slabs[nslabs - 1].pfn);
		if (rc != 0)
			die("teardown: slab_free = %d", rc);
		nslabs--;
	}
	while (nptdescs) {
		T("\trc = scamem_ptdesc_free(m, 0x%" PRIx64 "ull);\n", ptdescs[nptdescs - 1].pfn);
		int rc = scamem_ptdesc_free(m, ptdescs[nptdescs - 1].pfn);
		if (rc != 0)
			die("teardown: ptdesc_free = %d", rc);
		nptdescs--;
	}
	check("after the teardown");
	struct scamem_machine_info i;
	scamem_machine_info(m, &i);
	T("\t/* free %" PRIu64 " managed %" PRIu64 " */\n", i.free_pages, i.managed_pages);
	/* The zero page, once a read fault took it, is never freed. */
	uint64_t kept = scamem_zero_pfn(m) >= 0;
	if (i.free_pages + kept != i.managed_pages)
		die("after the teardown %" PRIu64 " of %" PRIu64 " managed pages are free: %" PRIu64 " leaked",
		    i.free_pages, i.managed_pages, i.managed_pages - i.free_pages - kept);
}

/* ------------------------------------------------------------------------ */
/* Entry                                                                     */
/* ------------------------------------------------------------------------ */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *t = getenv("SCAMEM_FUZZ_TRACE");
	if (t && *t)
		trace = strcmp(t, "-") ? fopen(t, "w") : stderr;
	stats = getenv("SCAMEM_FUZZ_STATS") != NULL;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	in_p = data;
	in_n = size;
	reset_tables();
	if (make_machine() < 0)
		return 0;
	chk0("scamem_machine_info", scamem_machine_info(m, &minfo), X_INVAL);
	chk0("scamem_machine_layout", scamem_machine_layout(m, &mlayout), X_INVAL);
	if (minfo.free_pages != minfo.managed_pages)
		die("a new machine has %" PRIu64 " of %" PRIu64 " managed pages free", minfo.free_pages, minfo.managed_pages);
	check("on the new machine");

	for (unsigned nop = 0; in_n && nop < 400; nop++) {
		uint8_t op = g8();
		switch (op % 37) {
		case 0: case 1: op_alloc_pages(); break;
		case 2: op_free_pages(); break;
		case 3: op_folio_alloc(); break;
		case 4: op_folio_get(); break;
		case 5: op_folio_put(); break;
		case 6: op_slab_alloc(0); break;
		case 7: op_slab_free(0); break;
		case 8: op_slab_alloc(1); break;
		case 9: op_slab_free(1); break;
		case 10: case 11: op_scamem_alloc(); break;
		case 12: op_scamem_get(); break;
		case 13: op_scamem_put(); break;
		case 14: op_scamem_query(); break;
		case 15: op_page_scamem(); break;
		case 16: case 17: op_vmalloc(); break;
		case 18: op_vmap(); break;
		case 19: op_vfree(); break;
		case 20: op_vm_query(); break;
		case 21: op_mm_new(); break;
		case 22: case 23: op_mmap(); break;
		case 24: op_munmap(); break;
		case 25: op_remap(); break;
		case 26: op_fault(); break;
		case 27: op_mm_exit(); break;
		case 28: op_gup(0); break;
		case 29: op_gup(1); break;
		case 30: op_put_page(g8() & 1); break;
		case 31: op_unpin_pages(); break;
		case 32: op_page_query(); break;
		case 33: op_machine_query(); break;
		case 34: op_word_decode(); break;
		case 35: op_vma_calls(); break;
		default: (op & 0x40) ? op_settings() : op_misc(); break;
		}
		if ((nop & 7) == 7)
			check("after a few calls");
	}
	check("after the calls");
	teardown();
	T("\tscamem_machine_free(m);\n");
	scamem_machine_free(m);
	m = NULL;
	return 0;
}
