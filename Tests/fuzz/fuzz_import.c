/*
 * fuzz_import.c - libFuzzer target: scamem_import() of generated and mutated
 * capture directories.
 *
 * The input is a small header (which files exist, raw or xz, truncations,
 * import options) followed by the bytes the generators draw from: the text
 * files come from a grammar of what the kernel prints (zoneinfo, iomem,
 * buddyinfo, vmallocinfo, slabinfo, memory_blocks, block size, vmstat),
 * with numbers that are small and plausible most of the time and extreme
 * now and then (0, 2^31, 2^32, 2^63, 2^64-1, beyond 2^64, negative);
 * kpageflags is runs of flag words (buddy runs, compound heads and tails,
 * slabs, LRU anon and file, page tables, ...) so the importer's page walk
 * sees what a real machine has. Whatever bytes are left are appended raw
 * to one file.
 *
 * A bug is (abort()): an import that succeeds with a checker count, or whose
 * machine the checker then faults; a failure with an errno the header does
 * not document (-EIO, -ENOENT, -EACCES, -ENOMEM, -EINVAL, -E2BIG); a -EIO
 * without the file named in opts.error.
 *
 * Environment:
 *  SCAMEM_FUZZ_WRITE_DIR=DIR  write the capture an input describes into DIR
 *                             (created) and keep it: a crash becomes a
 *                             directory the library team can import.
 */
#include <scamem.h>

#include <errno.h>
#include <inttypes.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input.h"

/* ------------------------------------------------------------------------ */
/* Buffers                                                                   */
/* ------------------------------------------------------------------------ */

struct buf {
	char *p;
	size_t n, cap;
};

static void reserve(struct buf *b, size_t more)
{
	if (b->n + more <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->n + more)
		cap *= 2;
	b->p = realloc(b->p, cap);
	if (!b->p)
		abort();
	b->cap = cap;
}

__attribute__((format(printf, 2, 3))) static void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)n;
}

static void bput(struct buf *b, const void *p, size_t n)
{
	reserve(b, n);
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

/* ------------------------------------------------------------------------ */
/* Numbers                                                                   */
/* ------------------------------------------------------------------------ */

/* Text of a hostile number: extremes, beyond 64 bits, negative, junk. */
static const char *const hostile_text[] = {
	"0", "1", "2147483648", "4294967296", "4294967295", "9223372036854775808", "9223372036854775807",
	"18446744073709551615", "18446744073709551616", "99999999999999999999999", "-1", "-9223372036854775808",
	"+5", "0x10", "1e9", "", "17179869184", "70368744177664", "4096 4096", "٣",
};
#define NHOSTILE (sizeof(hostile_text) / sizeof(hostile_text[0]))

/* A decimal number: v most of the time, now and then a hostile one. */
static void num(struct buf *b, uint64_t v)
{
	uint8_t c = g8();
	if (c < 232)
		bprintf(b, "%" PRIu64, v);
	else
		bprintf(b, "%s", hostile_text[c % NHOSTILE]);
}

/* A hex number for iomem / vmallocinfo / block sizes. */
static void hexnum(struct buf *b, uint64_t v, int width)
{
	uint8_t c = g8();
	static const char *const h[] = {"ffffffffffffffff", "10000000000000000", "8000000000000000", "7fffffffffffffff",
					"0", "zz", "", "fffffffffffff000", "100000000", "ffffffff"};
	if (c < 236)
		bprintf(b, "%0*" PRIx64, width, v);
	else
		bprintf(b, "%s", h[c % 10]);
}

/* ------------------------------------------------------------------------ */
/* The capture                                                               */
/* ------------------------------------------------------------------------ */

#define MAXZ 6
static const char *const zone_names[] = {"DMA", "DMA32", "Normal", "Movable", "Device", "HighMem", "normal", ""};
struct gzone {
	uint32_t nid, zt;
	uint64_t start, spanned, present, managed;
};
static struct gzone zones[MAXZ];
static int nzones;
static uint64_t end_pfn;

enum {
	F_ZONEINFO, F_IOMEM, F_BUDDYINFO, F_VMALLOCINFO, F_SLABINFO, F_MEMBLOCKS, F_BLOCKSIZE, F_VMSTAT, F_MEMINFO,
	F_UNAME, F_KPAGEFLAGS, F_KPAGECOUNT, NFILES
};
static const char *const file_names[NFILES] = {"zoneinfo", "iomem", "buddyinfo", "vmallocinfo", "slabinfo",
					       "memory_blocks", "memory_block_size_bytes", "vmstat", "meminfo",
					       "uname", "kpageflags", "kpagecount"};
static struct buf files[NFILES];
static int present[NFILES];
static int xz[NFILES];     /* 1: write name.xz; 2: and corrupt it; 3: and truncate it */
static int as_dir[NFILES]; /* a directory where the file should be */

static void gen_zones(void)
{
	nzones = 1 + g8() % 4;
	uint64_t cursor = g8() & 1 ? 0 : 1 + g8() % 4096;
	for (int i = 0; i < nzones; i++) {
		uint8_t b = g8();
		struct gzone *z = &zones[i];
		z->nid = b & 0x80 ? (b >> 5) & 3 : 0;
		z->zt = b % 4 == 3 && (g8() & 1) ? 4 + g8() % 4 : (uint32_t)(i + (b & 1)) % 3;
		if (b & 0x10)
			cursor = (cursor + 1023) & ~1023ull;
		z->start = cursor;
		z->spanned = 1 + g16() % 4096;
		z->present = z->spanned - (b & 0x8 ? g8() % z->spanned : 0);
		z->managed = z->present - (b & 0x4 ? g8() % z->present : 0);
		cursor += z->spanned + (b & 0x40 ? g8() : 0);
		uint8_t h = g8();
		if (h >= 240) { /* overlapping, swapped, or enormous */
			uint64_t v = h % 4 == 3 ? g32() : g8();
			switch (h % 4) {
			case 0: if (i) z->start = zones[i - 1].start + v; break;
			case 1: z->spanned = (uint64_t)1 << (31 + v % 33); break;
			case 2: z->start = (uint64_t)1 << (31 + v % 33); break;
			case 3: z->nid = (uint32_t)v; break;
			}
		}
	}
	end_pfn = 0;
	for (int i = 0; i < nzones; i++)
		if (zones[i].start + zones[i].spanned > end_pfn && zones[i].start + zones[i].spanned < (1u << 16))
			end_pfn = zones[i].start + zones[i].spanned;
}

static void gen_zoneinfo(struct buf *b)
{
	for (int i = 0; i < nzones; i++) {
		struct gzone *z = &zones[i];
		uint8_t f = g8();
		bprintf(b, "Node ");
		num(b, z->nid);
		bprintf(b, f & 1 ? ", zone %8s\n" : ", zone\t%s\n", zone_names[z->zt % 8]);
		if (!(f & 2))
			bprintf(b, "  per-node stats\n      nr_inactive_anon 1110\n      nr_file_pages 19843\n");
		bprintf(b, "  pages free     %u\n        boost    0\n        min      41\n", g16());
		bprintf(b, "        spanned  ");
		num(b, z->spanned);
		bprintf(b, "\n        present  ");
		num(b, z->present);
		bprintf(b, "\n        managed  ");
		num(b, z->managed);
		bprintf(b, "\n        cma      0\n        protection: (0, 2965, 23034, 23034, 23034)\n");
		if (!(f & 4)) {
			bprintf(b, "  start_pfn:           ");
			num(b, z->start);
			bprintf(b, "\n");
		}
		if (f & 8) /* an empty zone, as the kernel prints Movable/Device */
			bprintf(b, "Node %u, zone  Movable\n  pages free     0\n        spanned  0\n        present  0\n"
				   "        managed  0\n", z->nid);
	}
}

static void gen_iomem(struct buf *b)
{
	uint8_t mode = g8();
	if (mode >= 250) { /* unprivileged: all zeroes */
		bprintf(b, "00000000-00000000 : Reserved\n00000000-00000000 : System RAM\n");
		return;
	}
	bprintf(b, "00000000-00000fff : Reserved\n");
	for (int i = 0; i < nzones; i++) {
		struct gzone *z = &zones[i];
		uint64_t lo = z->start * 4096, hi = (z->start + z->spanned) * 4096 - 1;
		uint8_t f = g8();
		if (f & 1) { /* a hole in the middle */
			uint64_t mid = lo + (hi - lo) / 2;
			uint64_t holesz = (uint64_t)(1 + g8()) * 4096;
			bprintf(b, "%08" PRIx64 "-", lo);
			hexnum(b, mid, 8);
			bprintf(b, " : System RAM\n");
			bprintf(b, "%08" PRIx64 "-%08" PRIx64 " : PCI Bus 0000:00\n", mid + 1, mid + holesz);
			bprintf(b, "%08" PRIx64 "-", mid + holesz + 1);
			hexnum(b, hi, 8);
			bprintf(b, " : System RAM\n");
		} else {
			hexnum(b, lo + (f & 2 ? 0xc00 : 0), 8); /* a partial first page */
			bprintf(b, "-");
			hexnum(b, hi, 8);
			bprintf(b, " : System RAM\n");
		}
		if (f & 4)
			bprintf(b, "  %08" PRIx64 "-%08" PRIx64 " : Kernel code\n", lo, lo + 0xfff);
		if (f & 8)
			bprintf(b, "%s : System RAM\n", f & 16 ? "garbage" : "1000-0fff");
	}
}

static void gen_buddyinfo(struct buf *b)
{
	for (int i = 0; i < nzones; i++) {
		bprintf(b, "Node %u, zone %8s ", zones[i].nid, zone_names[zones[i].zt % 8]);
		int n = g8() & 1 ? 11 : g8() % 16;
		for (int o = 0; o < n; o++) {
			bprintf(b, " ");
			num(b, g8() % 8);
		}
		bprintf(b, "\n");
	}
}

static void gen_vmallocinfo(struct buf *b)
{
	int n = g8() % 6;
	uint64_t a = 0xffffc90000000000ull;
	for (int i = 0; i < n; i++) {
		uint8_t f = g8();
		uint64_t pages = f & 0x80 ? g16() : g8() % 8;
		uint64_t size = (pages + 1) * 4096;
		bprintf(b, "0x%016" PRIx64 "-0x%016" PRIx64 " ", a, a + size);
		num(b, size);
		bprintf(b, " %s", f & 1 ? "kernel_clone+0x94/0x3e0" : "alloc_large_system_hash+0x1a0/0x300");
		if (f & 2) {
			bprintf(b, " pages=");
			num(b, pages);
		}
		static const char *const kinds[] = {" vmalloc", " vmalloc user", " vmap", " ioremap", " vmalloc vpages",
						    " vmalloc N0=1", " user", " vm_map_ram"};
		bprintf(b, "%s", kinds[(f >> 2) % 8]);
		if (f & 0x40)
			bprintf(b, " N0=%u N1=%u", g8(), g8());
		bprintf(b, "\n");
		a += size + 4096;
	}
}

static void gen_slabinfo(struct buf *b)
{
	bprintf(b, "slabinfo - version: 2.1\n# name <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
		   " : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n");
	int n = g8() % 5;
	for (int i = 0; i < n; i++) {
		bprintf(b, "cache%d %u %u %u ", i, g8(), g8(), 8u << (g8() % 10));
		num(b, g8() % 40);
		bprintf(b, " ");
		num(b, 1u << (g8() % 4));
		bprintf(b, " : tunables 0 0 0 : slabdata %u ", g8());
		num(b, g8());
		bprintf(b, " 0\n");
	}
}

static void gen_memblocks(struct buf *b, struct buf *bs)
{
	uint8_t f = g8();
	uint64_t bytes = f & 1 ? 0x8000000 : (uint64_t)4096 << (f % 20);
	hexnum(bs, bytes, 1);
	bprintf(bs, "\n");
	int n = 1 + g8() % 4;
	for (int i = 0; i < n; i++) {
		bprintf(b, "memory%d ", i);
		hexnum(b, i + (g8() & 3), 8);
		bprintf(b, " %s %u\n", g8() & 7 ? "online" : "offline", g8() % 2);
	}
}

static void gen_misc(void)
{
	bprintf(&files[F_VMSTAT], "nr_free_pages 12\nnr_file_pages ");
	num(&files[F_VMSTAT], g16());
	bprintf(&files[F_VMSTAT], "\nnr_slab_reclaimable 3\n");
	bprintf(&files[F_MEMINFO], "MemTotal:       ");
	num(&files[F_MEMINFO], g32());
	bprintf(&files[F_MEMINFO], " kB\nMemFree:  12 kB\n");
	bprintf(&files[F_UNAME], "Linux fuzz 6.18.0 #1 SMP x86_64 GNU/Linux\n");
}

/* KPF bit numbers (include/uapi/linux/kernel-page-flags.h). */
#define KPF(n) (1ull << (n))
enum { LOCKED = 0, LRU = 5, SLAB = 7, BUDDY = 10, MMAP = 11, ANON = 12, SWAPBACKED = 14, HEAD = 15, TAIL = 16,
       HUGE = 17, HWPOISON = 19, NOPAGE = 20, KSM = 21, THP = 22, OFFLINE = 23, ZERO = 24, PGTABLE = 26,
       RESERVED = 32 };

static void put64(struct buf *b, uint64_t v) { bput(b, &v, 8); }

static void gen_kpageflags(struct buf *b, struct buf *c)
{
	uint64_t n = end_pfn;
	uint8_t f = g8();
	if (f & 1) /* shorter or longer than the zones */
		n = f & 2 ? n / 2 : n + g8();
	if (n > 1 << 16)
		n = 1 << 16;
	uint64_t pfn = 0;
	while (pfn < n) {
		uint8_t k = g8();
		uint64_t len = 1 + (in_n ? g8() % 64 : n);
		uint64_t fl = 0;
		int order = -1;
		switch (k % 16) {
		case 0: fl = 0; break;
		case 1: fl = KPF(BUDDY); break;
		case 2: fl = KPF(SLAB); break;
		case 3: fl = KPF(LRU) | KPF(ANON) | KPF(MMAP) | KPF(SWAPBACKED); break;
		case 4: fl = KPF(LRU) | KPF(MMAP); break;
		case 5: fl = KPF(PGTABLE); break;
		case 6: fl = KPF(RESERVED); break;
		case 7: fl = KPF(NOPAGE); break;
		case 8: fl = KPF(ZERO); break;
		case 9: fl = KPF(HWPOISON); break;
		case 10: fl = KPF(OFFLINE); break;
		case 11: order = k >> 4 & 7; fl = KPF(LRU) | KPF(ANON) | (k & 0x80 ? KPF(THP) : 0); break;
		case 12: /* up to order 13: beyond MAX_PAGE_ORDER, as hugetlb gigantic pages are */
			order = (k >> 4 & 7) + (k & 0x4 ? 6 : 0);
			fl = k & 0x80 ? KPF(HUGE) | (k & 0x2 ? KPF(LRU) : 0) : KPF(SLAB);
			break;
		case 13: fl = KPF(TAIL); break; /* a tail without a head */
		case 14: fl = KPF(KSM) | KPF(ANON) | KPF(LRU); break;
		case 15: fl = g64(); break;
		}
		if (order >= 0) {
			uint64_t sz = 1ull << order;
			if (k & 0x8) /* naturally aligned, as the kernel's */
				while (pfn & (sz - 1) && pfn < n) {
					put64(b, KPF(BUDDY));
					put64(c, 0);
					pfn++;
				}
			for (uint64_t i = 0; i < sz && pfn < n; i++, pfn++) {
				put64(b, fl | (i ? KPF(TAIL) : KPF(HEAD)));
				put64(c, i ? 0 : g8() % 3);
			}
			continue;
		}
		for (uint64_t i = 0; i < len && pfn < n; i++, pfn++) {
			put64(b, fl);
			uint8_t cc = k & 0x40 ? g8() : 0;
			put64(c, cc < 250 ? cc % 3 : cc & 1 ? UINT64_MAX : 1ull << 63);
		}
	}
	if (f & 4 && b->n) /* a partial last entry */
		b->n -= 1 + g8() % 7;
	if (f & 8 && c->n)
		c->n = g8() % c->n;
}

/* ------------------------------------------------------------------------ */
/* Writing the directory                                                     */
/* ------------------------------------------------------------------------ */

static char dir[4096];
static int keep_dir;

static void write_file(const char *name, const void *p, size_t n)
{
	char path[4300];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f) {
		perror(path);
		abort();
	}
	if (n && fwrite(p, 1, n, f) != n)
		abort();
	fclose(f);
}

static void remove_entry(const char *name)
{
	char path[4300];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (unlink(path) != 0)
		rmdir(path);
}

static void write_capture(void)
{
	for (int i = 0; i < NFILES; i++) {
		char xzname[64];
		snprintf(xzname, sizeof(xzname), "%s.xz", file_names[i]);
		remove_entry(file_names[i]);
		remove_entry(xzname);
		if (!present[i])
			continue;
		if (as_dir[i]) {
			char path[4300];
			snprintf(path, sizeof(path), "%s/%s", dir, xz[i] ? xzname : file_names[i]);
			mkdir(path, 0755);
			continue;
		}
		if (!xz[i]) {
			write_file(file_names[i], files[i].p, files[i].n);
			continue;
		}
		size_t cap = files[i].n + files[i].n / 2 + 4096, out = 0;
		uint8_t *o = malloc(cap);
		if (!o)
			abort();
		lzma_ret r = lzma_easy_buffer_encode(0, LZMA_CHECK_CRC64, NULL, (const uint8_t *)files[i].p, files[i].n,
						     o, &out, cap);
		if (r != LZMA_OK)
			abort();
		if (xz[i] == 2 && out) /* corrupt a byte */
			o[g16() % out] ^= (uint8_t)(1 + g8() % 255);
		if (xz[i] == 3 && out) /* truncate */
			out = g16() % out;
		write_file(xzname, o, out);
		free(o);
	}
}

/* ------------------------------------------------------------------------ */
/* Entry                                                                     */
/* ------------------------------------------------------------------------ */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *w = getenv("SCAMEM_FUZZ_WRITE_DIR");
	if (w && *w) {
		snprintf(dir, sizeof(dir), "%s", w);
		mkdir(dir, 0755);
		keep_dir = 1;
	} else {
		const char *t = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/scamem-fuzz-import-XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(dir)) {
			perror("mkdtemp");
			abort();
		}
	}
	return 0;
}

__attribute__((destructor)) static void cleanup(void)
{
	if (keep_dir || !dir[0])
		return;
	for (int i = 0; i < NFILES; i++) {
		char xzname[64];
		snprintf(xzname, sizeof(xzname), "%s.xz", file_names[i]);
		remove_entry(file_names[i]);
		remove_entry(xzname);
	}
	rmdir(dir);
}

static void issue(void *user, uint64_t pfn, int32_t what, const char *message)
{
	(void)user;
	fprintf(stderr, "  check: pfn 0x%" PRIx64 " kind %d: %s\n", pfn, what, message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	in_p = data;
	in_n = size;
	for (int i = 0; i < NFILES; i++) {
		files[i].n = 0;
		xz[i] = 0;
		as_dir[i] = 0;
	}
	/* Header: which files, raw or xz, options. */
	uint16_t which = g16();
	uint8_t bin = g8(), ob = g8();
	for (int i = 0; i < F_KPAGEFLAGS; i++)
		present[i] = i == F_ZONEINFO ? (which & 1) == 0 || (which & 0x8000) : (which >> i) & 1;
	present[F_KPAGEFLAGS] = (bin & 3) != 0;
	xz[F_KPAGEFLAGS] = (bin & 3) >= 2 ? (bin & 3) - 1 + ((bin & 0x40) ? 1 : 0) : 0;
	present[F_KPAGECOUNT] = (bin >> 2 & 3) != 0;
	xz[F_KPAGECOUNT] = (bin >> 2 & 3) >= 2 ? (bin >> 2 & 3) - 1 : 0;
	if (xz[F_KPAGEFLAGS] == 2 && !(bin & 0x80))
		xz[F_KPAGEFLAGS] = 1; /* mostly well-formed xz */
	if ((bin & 0x30) == 0x30) { /* a text file compressed, or a directory in a file's place */
		uint8_t t = g8();
		if (t & 1)
			as_dir[t / 2 % NFILES] = 1;
		else
			xz[t / 2 % F_KPAGEFLAGS] = 1;
	}

	gen_zones();
	gen_zoneinfo(&files[F_ZONEINFO]);
	gen_iomem(&files[F_IOMEM]);
	gen_buddyinfo(&files[F_BUDDYINFO]);
	gen_vmallocinfo(&files[F_VMALLOCINFO]);
	gen_slabinfo(&files[F_SLABINFO]);
	gen_memblocks(&files[F_MEMBLOCKS], &files[F_BLOCKSIZE]);
	gen_misc();
	gen_kpageflags(&files[F_KPAGEFLAGS], &files[F_KPAGECOUNT]);
	/* Whatever is left goes raw into one file, at its end or in its middle. */
	if (in_n) {
		uint8_t t = g8();
		struct buf *b = &files[t % NFILES];
		if (t & 0x80 && b->n) {
			size_t at = g16() % b->n;
			b->n = at;
		}
		bput(b, in_p, in_n);
		in_n = 0;
	}
	write_capture();

	/* Options: the released 24-byte size, this header's, or odd ones. */
	static union { struct scamem_import_opts o; uint8_t raw[128]; } ub;
	struct scamem_import_error err;
	memset(&ub, 0, sizeof(ub));
	memset(&err, 0xaa, sizeof(err));
	struct scamem_import_opts *opts = &ub.o;
	opts->size = sizeof(*opts);
	opts->strategy = ob % 6;
	opts->error = &err;
	if (ob & 0x40) {
		opts->folio_bytes = ob & 8 ? 0xffffffffu : 64;
		opts->slab_bytes = ob & 16 ? 1 : 0;
		opts->ptdesc_bytes = ob & 32 ? 0x80000000u : 0;
	}
	if ((ob & 0xc0) == 0xc0) {
		switch (ob >> 3 & 7) {
		case 0: opts->size = 24; break;
		case 1: opts->size = 0; break;
		case 2: opts->size = 64; break;
		case 3: opts->size = 64; ub.raw[40] = 1; break;
		case 4: opts->reserved = 1; break;
		case 5: opts->strategy = 6 + ob % 100; break;
		case 6: opts->error = NULL; break;
		case 7: opts->size = 12; break;
		}
	}
	int with_error = opts->error != NULL && opts->size >= sizeof(*opts);

	scamem_machine *m = NULL;
	struct scamem_import_report report;
	int rc = scamem_import(dir, (ob & 0xf8) == 0xf8 ? NULL : opts, &m, &report);
	if (keep_dir)
		fprintf(stderr, "fuzz_import: capture in %s; scamem_import = %d (%s)\n", dir, rc, scamem_strerror(rc));
	if (rc > 0) {
		fprintf(stderr, "fuzz_import: BUG: scamem_import returned %d\n", rc);
		abort();
	}
	if (rc < 0) {
		if (m) {
			fprintf(stderr, "fuzz_import: BUG: scamem_import failed (%d) but set *out\n", rc);
			abort();
		}
		switch (-rc) {
		case EIO: case ENOENT: case EACCES: case ENOMEM: case EINVAL: case E2BIG: break;
		default:
			fprintf(stderr, "fuzz_import: BUG: scamem_import returned %d (%s): not a documented error\n", rc,
				scamem_strerror(rc));
			abort();
		}
		if (rc == -EIO && with_error &&
		    (memchr(err.file, 0, sizeof(err.file)) == NULL || err.file[0] == 0 ||
		     memchr(err.reason, 0, sizeof(err.reason)) == NULL)) {
			fprintf(stderr, "fuzz_import: BUG: -EIO without the file named in opts.error\n");
			abort();
		}
		return 0;
	}
	if (!m) {
		fprintf(stderr, "fuzz_import: BUG: scamem_import returned 0 without a machine\n");
		abort();
	}
	if (with_error) {
		static const struct scamem_import_error zero;
		if (memcmp(&err, &zero, sizeof(err)) != 0) {
			fprintf(stderr, "fuzz_import: BUG: opts.error not zeroed on success\n");
			abort();
		}
	}
	if (report.checker_issues != 0) {
		fprintf(stderr, "fuzz_import: BUG: the import reports %" PRIu64 " checker issues\n", report.checker_issues);
		scamem_machine_check(m, issue, NULL);
		abort();
	}
	int64_t n = scamem_machine_check(m, NULL, NULL);
	if (n != 0) {
		scamem_machine_check(m, issue, NULL);
		fprintf(stderr, "fuzz_import: BUG: the checker found %" PRId64 " issues on the imported machine\n", n);
		abort();
	}
	/* The imported machine must also be usable: a few calls on it. */
	struct scamem_machine_info info;
	uint64_t pfn, addr;
	if (scamem_machine_info(m, &info) != 0 || info.free_pages > info.managed_pages) {
		fprintf(stderr, "fuzz_import: BUG: machine_info of the imported machine\n");
		abort();
	}
	uint64_t before = info.free_pages;
	if (scamem_alloc_pages(m, 0, 0, -1, &pfn) == 0 && scamem_free_pages(m, pfn, 0) != 0) {
		fprintf(stderr, "fuzz_import: BUG: free_pages of a page just allocated\n");
		abort();
	}
	if (scamem_vmalloc(m, 3 * 4096, &addr) == 0 && scamem_vfree(m, addr) != 0) {
		fprintf(stderr, "fuzz_import: BUG: vfree of an area just allocated\n");
		abort();
	}
	scamem_machine_info(m, &info);
	n = scamem_machine_check(m, NULL, NULL);
	if (info.free_pages != before || n != 0) {
		scamem_machine_check(m, issue, NULL);
		fprintf(stderr, "fuzz_import: BUG: alloc+free on the imported machine: free %" PRIu64 " -> %" PRIu64
			", checker %" PRId64 "\n", before, info.free_pages, n);
		abort();
	}
	scamem_machine_free(m);
	return 0;
}
