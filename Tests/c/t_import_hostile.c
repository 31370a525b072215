/* Hostile captures: each is refused with -EIO (or imports and releases
 * cleanly) naming the file and line, fast and in little memory, never a
 * trap. Written into a mkdtemp() directory; run from the project's root
 * (the .xz cases start from the bundled capture's kpageflags.xz). */
#define _DEFAULT_SOURCE
#include "import_test.h"
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define BUNDLED_FLAGS "Tests/Fixtures/vm-24g-idle/kpageflags.xz"
#define HOSTILE "Tests/Fixtures/hostile/"

/* One zone as /proc/zoneinfo prints it: six lines, the header first, then
 * pages free, spanned, present, managed, start_pfn. */
#define ZONE(nid, name, spanned, present, managed, start)                                          \
	"Node " nid ", zone " name "\n  pages free     0\n        spanned  " spanned                \
	"\n        present  " present "\n        managed  " managed "\n  start_pfn:           " start \
	"\n"
/* DMA [1, 4096) and DMA32 [4096, 65536): a 256 MiB machine. */
#define DMA ZONE("0", "DMA", "4095", "3998", "3840", "1")
#define DMA32 ZONE("0", "DMA32", "61440", "61440", "30000", "4096")
#define PFNS 65536
#define ANY UINT64_MAX

static char root[] = "/tmp/scamem-hostile-XXXXXX";
static char dir[256];

static void put(const char *file, const void *bytes, size_t n)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	FILE *f = fopen(path, "wb");
	EXPECT(f != NULL);
	if (f) {
		EXPECT(fwrite(bytes, 1, n, f) == n);
		fclose(f);
	}
}

static void text(const char *file, const char *s) { put(file, s, strlen(s)); }

/* A raw kpageflags of nr pfns: all zero (flagless, initialised) pages,
 * then `tail` stray bytes. */
static void flags(size_t nr, size_t tail)
{
	size_t n = nr * 8 + tail;
	char *b = calloc(1, n + 1);
	put("kpageflags", b, n);
	free(b);
}

/* A fresh capture directory for the next case. */
static void capture(const char *name)
{
	snprintf(dir, sizeof dir, "%s/%s", root, name);
	EXPECT(mkdir(dir, 0755) == 0);
}

/* Well under a second natively; valgrind runs code some 30 times slower. */
static double time_limit(void)
{
	const char *preload = getenv("LD_PRELOAD");
	return preload && strstr(preload, "vgpreload") ? 30.0 : 1.0;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Imports the current directory: err, and where the error says it stopped
 * (offset ANY: do not look), quickly. Returns the machine on success. */
static scamem_machine *expect_import(int err, const char *file, uint64_t line, uint64_t offset)
{
	struct scamem_import_error e;
	memset(&e, 0x5a, sizeof e);
	struct scamem_import_opts o = { sizeof o, 0, 0, 0, 0, 0, &e };
	scamem_machine *m = NULL;
	double t0 = now();
	int r = scamem_import(dir, &o, &m, NULL);
	double dt = now() - t0;
	printf("  %-28s %6.3f s  %d %s:%" PRIu64 " @%" PRIu64 ": %s\n", strrchr(dir, '/') + 1, dt, r, e.file, e.line,
	       e.offset, e.reason);
	if (r != err || strcmp(e.file, file) != 0 || e.line != line || (offset != ANY && e.offset != offset)) {
		fprintf(stderr, "%s: got %d %s:%" PRIu64 " @%" PRIu64 ", expected %d %s:%" PRIu64 "\n", dir, r, e.file,
			e.line, e.offset, err, file, line);
		test_failures++;
	}
	EXPECT(memchr(e.file, 0, sizeof e.file) && memchr(e.reason, 0, sizeof e.reason));
	EXPECT(err == 0 ? e.reason[0] == 0 : e.reason[0] != 0);
	EXPECT(dt < time_limit());
	EXPECT((m != NULL) == (err == 0));
	return m;
}

#define REFUSED(file, line) scamem_machine_free(expect_import(-EIO, file, line, 0))

static void zoneinfo_numbers(void)
{
	capture("present-overflow");
	text("zoneinfo", ZONE("0", "DMA", "4095", "18446744073709551615", "0", "1") DMA32);
	flags(PFNS, 0);
	REFUSED("zoneinfo", 4);

	capture("present-sum-overflow"); /* each below 2^64, the sum not */
	text("zoneinfo", ZONE("0", "DMA", "4095", "9223372036854775808", "0", "1")
				 ZONE("0", "DMA32", "61440", "9223372036854775808", "0", "4096"));
	flags(PFNS, 0);
	REFUSED("zoneinfo", 4);

	capture("present-beyond-spanned");
	text("zoneinfo", ZONE("0", "DMA", "4095", "4096", "0", "1") DMA32);
	flags(PFNS, 0);
	REFUSED("zoneinfo", 4);

	capture("managed-beyond-present");
	text("zoneinfo", DMA ZONE("0", "DMA32", "61440", "61440", "61441", "4096"));
	flags(PFNS, 0);
	REFUSED("zoneinfo", 11);

	capture("nid-int-max");
	text("zoneinfo", ZONE("9223372036854775807", "DMA", "4095", "3998", "3840", "1"));
	flags(PFNS, 0);
	REFUSED("zoneinfo", 1);

	capture("nid-max-numnodes");
	text("zoneinfo", DMA ZONE("1024", "DMA32", "61440", "61440", "30000", "4096"));
	flags(PFNS, 0);
	REFUSED("zoneinfo", 7);

	capture("nid-negative");
	text("zoneinfo", ZONE("-1", "DMA", "4095", "3998", "3840", "1"));
	flags(PFNS, 0);
	REFUSED("zoneinfo", 1);

	capture("spanned-near-2-64");
	text("zoneinfo", DMA ZONE("0", "DMA32", "18446744073709551615", "61440", "30000", "4096"));
	flags(PFNS, 0);
	REFUSED("zoneinfo", 9);

	capture("span-beyond-46-bits"); /* each number fits, the end does not */
	text("zoneinfo", DMA ZONE("0", "Normal", "17179869183", "1", "1", "17179869183"));
	flags(PFNS, 0);
	REFUSED("zoneinfo", 12);

	capture("overlapping-zones");
	text("zoneinfo", DMA ZONE("0", "DMA32", "61440", "61440", "30000", "2048"));
	flags(PFNS, 0);
	REFUSED("zoneinfo", 7);

	capture("zone-twice");
	text("zoneinfo", DMA ZONE("0", "DMA", "61440", "61440", "30000", "4096"));
	flags(PFNS, 0);
	REFUSED("zoneinfo", 7);

	capture("zone-unknown");
	text("zoneinfo", DMA ZONE("0", "HighMem", "61440", "61440", "30000", "4096"));
	flags(PFNS, 0);
	REFUSED("zoneinfo", 7);

	capture("not-a-number");
	text("zoneinfo", DMA ZONE("0", "DMA32", "61440", "lots", "30000", "4096"));
	flags(PFNS, 0);
	REFUSED("zoneinfo", 10);

	capture("no-zone-with-pages");
	text("zoneinfo", ZONE("0", "DMA", "0", "0", "0", "1"));
	flags(PFNS, 0);
	REFUSED("zoneinfo", 0);
}

/* The machine is no bigger than its kpageflags: 8 bytes of host memory per pfn. */
static void machine_size(void)
{
	capture("start-pfn-2-28-empty-flags"); /* the 79-byte zoneinfo that took 9 s and 2.1 GB */
	text("zoneinfo", "Node 0, zone Normal\n  spanned 1\n  present 1\n  managed 1\n  start_pfn: 268435456\n");
	flags(0, 0);
	REFUSED("kpageflags", 0);

	capture("start-pfn-2-28");
	text("zoneinfo", "Node 0, zone Normal\n  spanned 1\n  present 1\n  managed 1\n  start_pfn: 268435456\n");
	flags(PFNS, 0);
	REFUSED("zoneinfo", 1);

	capture("zones-beyond-kpageflags");
	text("zoneinfo", DMA DMA32);
	flags(4096, 0);
	REFUSED("zoneinfo", 7);

	capture("kpageflags-partial-entry"); /* decided: -EIO, a kernel writes whole entries */
	text("zoneinfo", DMA DMA32);
	flags(PFNS, 3);
	scamem_machine_free(expect_import(-EIO, "kpageflags", 0, PFNS * 8));

	capture("kpageflags-missing");
	text("zoneinfo", DMA DMA32);
	scamem_machine_free(expect_import(-ENOENT, "kpageflags", 0, 0));

	capture("empty-directory");
	REFUSED("zoneinfo", 0);

	/* Files only: a FIFO would hang a read, a device has no size. */
	capture("zoneinfo-fifo");
	char path[512];
	snprintf(path, sizeof path, "%s/zoneinfo", dir);
	EXPECT(mkfifo(path, 0644) == 0);
	flags(PFNS, 0);
	REFUSED("zoneinfo", 0);

	capture("kpageflags-directory");
	text("zoneinfo", DMA DMA32);
	snprintf(path, sizeof path, "%s/kpageflags", dir);
	EXPECT(mkdir(path, 0755) == 0);
	REFUSED("kpageflags", 0);

	capture("kpageflags-dev-zero");
	text("zoneinfo", DMA DMA32);
	snprintf(path, sizeof path, "%s/kpageflags", dir);
	EXPECT(symlink("/dev/zero", path) == 0);
	REFUSED("kpageflags", 0);
}

/* What the importer's fuzzer found (Tests/Fixtures/hostile/fuzz/NAME.txt):
 * each trapped once; each is -EIO at the first bad number it holds. */
static void fuzz_finds(void)
{
	static const struct {
		const char *name, *file;
		uint64_t line;
	} finds[] = {
		{ "buddyinfo-free-overflow", "memory_block_size_bytes", 1 }, /* iomem all zero: blocks of 4 KiB */
		{ "eio-without-error-file", "zoneinfo", 0 },
		{ "memory-block-range-overflow", "zoneinfo", 14 }, /* HighMem, before its blocks */
		{ "slabinfo-pages-overflow", "zoneinfo", 6 },      /* present 2^63, before its slabinfo */
		{ "zoneinfo-node-intmax", "zoneinfo", 1 },
		{ "zoneinfo-spanned-2p63", "zoneinfo", 8 },
		{ "iomem-ram-start-overflow", "zoneinfo", 9 },               /* "present" without a number */
		{ "vmallocinfo-pages-sum-overflow", "memory_block_size_bytes", 1 }, /* "zz" */
	};
	for (size_t i = 0; i < sizeof finds / sizeof finds[0]; i++) {
		snprintf(dir, sizeof dir, HOSTILE "fuzz/%s", finds[i].name);
		REFUSED(finds[i].file, finds[i].line);
	}
}

/* Copies the first n bytes of an .xz file as kpageflags.xz, with byte
 * `flip` (if below n) inverted. Returns the bytes copied. */
static size_t xz_flags(const char *from, size_t n, size_t flip)
{
	FILE *f = fopen(from, "rb");
	EXPECT(f != NULL);
	if (!f)
		return 0;
	char *b = malloc(n);
	size_t got = b ? fread(b, 1, n, f) : 0;
	fclose(f);
	if (flip < got)
		b[flip] = (char)~b[flip];
	put("kpageflags.xz", b, got);
	free(b);
	return got;
}

static void xz(void)
{
	capture("xz-truncated"); /* its index is gone: refused before any decoding */
	text("zoneinfo", DMA DMA32);
	size_t half = xz_flags(BUNDLED_FLAGS, 20000, SIZE_MAX);
	scamem_machine_free(expect_import(-EIO, "kpageflags.xz", 0, ANY));
	EXPECT(half == 20000);

	capture("xz-corrupt-data"); /* index intact, a block's data not */
	text("zoneinfo", DMA DMA32);
	xz_flags(BUNDLED_FLAGS, 1 << 20, 200);
	scamem_machine_free(expect_import(-EIO, "kpageflags.xz", 0, ANY));

	capture("xz-garbage");
	text("zoneinfo", DMA DMA32);
	char junk[4096];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (char)(i * 7 + 13);
	put("kpageflags.xz", junk, sizeof junk);
	scamem_machine_free(expect_import(-EIO, "kpageflags.xz", 0, ANY));

	capture("xz-bundled-too-small"); /* a sound .xz whose 6553600 pfns cannot hold the zone */
	text("zoneinfo", DMA ZONE("0", "Normal", "1048576", "1", "1", "6553600"));
	xz_flags(BUNDLED_FLAGS, 1 << 20, SIZE_MAX);
	REFUSED("zoneinfo", 7);

	/* Indexes that lie (Tests/Fixtures/hostile/mkxz.py): one claiming 128 GiB
	 * from 212 bytes is refused before the machine is built; one claiming
	 * 98304 pfns where the stream holds 65536 when decoding ends short. */
	capture("xz-index-claims-2-37");
	text("zoneinfo", DMA DMA32);
	xz_flags(HOSTILE "index-claims-2-37.xz", 4096, SIZE_MAX);
	scamem_machine_free(expect_import(-EIO, "kpageflags.xz", 0, 0));

	capture("xz-index-claims-more");
	text("zoneinfo", DMA DMA32);
	xz_flags(HOSTILE "index-claims-more.xz", 4096, SIZE_MAX);
	scamem_machine_free(expect_import(-EIO, "kpageflags.xz", 0, ANY));
}

/* The other files' numbers, on a machine that is otherwise fine. */
static void other_files(void)
{
	capture("iomem-near-2-64");
	text("zoneinfo", DMA DMA32);
	flags(PFNS, 0);
	text("iomem", "00001000-0009fbff : System RAM\n00100000-ffffffffffffffff : System RAM\n");
	REFUSED("iomem", 2);

	capture("iomem-start-near-2-64"); /* rounding the start up to a page overflowed */
	text("zoneinfo", DMA DMA32);
	flags(PFNS, 0);
	text("iomem", "00001000-0009fbff : System RAM\nffffffffffffffff-ffffffffffffffff : System RAM\n");
	REFUSED("iomem", 2);

	capture("iomem-backwards");
	text("zoneinfo", DMA DMA32);
	flags(PFNS, 0);
	text("iomem", "00001000-0009fbff : System RAM\n  00200000-00100000 : Kernel code\n");
	REFUSED("iomem", 2);

	capture("memory-block-near-2-64");
	text("zoneinfo", DMA DMA32);
	flags(PFNS, 0);
	text("memory_block_size_bytes", "8000000\n");
	text("memory_blocks", "memory0 00000000 online 0\nmemory1 ffffffffffffffff online 0\n");
	REFUSED("memory_blocks", 2);

	capture("memory-block-size-huge");
	text("zoneinfo", DMA DMA32);
	flags(PFNS, 0);
	text("memory_block_size_bytes", "8000000000000000\n");
	text("memory_blocks", "memory0 00000000 online 0\n");
	REFUSED("memory_block_size_bytes", 1);

	capture("buddyinfo-huge");
	text("zoneinfo", DMA DMA32);
	flags(PFNS, 0);
	text("buddyinfo", "Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3\n"
			  "Node 0, zone    DMA32 18446744073709551615 0 0 0 0 0 0 0 0 0 0\n");
	REFUSED("buddyinfo", 2);

	capture("buddyinfo-sum");
	text("zoneinfo", DMA DMA32);
	flags(PFNS, 0);
	text("buddyinfo", "Node 0, zone DMA 0 0 0 0 0 0 0 0 0 0 64\nNode 0, zone DMA32 0 0 0 0 0 0 0 0 0 0 1\n");
	REFUSED("buddyinfo", 2);

	capture("buddyinfo-orders");
	text("zoneinfo", DMA DMA32);
	flags(PFNS, 0);
	text("buddyinfo", "Node 0, zone DMA 0 0 0 0 0 0 0 0 0 0 0 0\n");
	REFUSED("buddyinfo", 1);

	capture("slabinfo-huge");
	text("zoneinfo", DMA DMA32);
	flags(PFNS, 0);
	text("slabinfo", "slabinfo - version: 2.1\n"
			 "# name <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> "
			 "<batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n"
			 "kmalloc-64 64 64 64 64 1 : tunables 0 0 0 : slabdata 1 1 0\n"
			 "big 1 1 4096 1 8 : tunables 0 0 0 : slabdata 9223372036854775808 9223372036854775808 0\n");
	REFUSED("slabinfo", 4);

	capture("slabinfo-pages-per-slab");
	text("zoneinfo", DMA DMA32);
	flags(PFNS, 0);
	text("slabinfo", "big 1 1 4096 1 4294967296 : tunables 0 0 0 : slabdata 1 1 0\n");
	REFUSED("slabinfo", 1);

	capture("vmallocinfo-huge");
	text("zoneinfo", DMA DMA32);
	flags(PFNS, 0);
	text("vmallocinfo", "0x0000000000000001-0x0000000000000002   20480 a+0x1/0x2 pages=4 vmalloc N0=4\n"
			    "0x0000000000000003-0x0000000000000004   20480 b+0x1/0x2 pages=18446744073709551615 vmalloc\n");
	REFUSED("vmallocinfo", 2);

	capture("vmallocinfo-sum");
	text("zoneinfo", DMA DMA32);
	flags(PFNS, 0);
	char *v = malloc(65 * 80 + 1), *p = v;
	for (int i = 0; i < 65; i++) /* each area fits its size, all of them not the machine */
		p += sprintf(p, "0x1-0x2 %llu a+0x1/0x2 pages=1024 vmalloc\n", 1025ull * 4096);
	text("vmallocinfo", v);
	free(v);
	REFUSED("vmallocinfo", 65);

	capture("vmstat-huge");
	text("zoneinfo", DMA DMA32);
	flags(PFNS, 0);
	text("vmstat", "nr_free_pages 1\nnr_file_pages 18446744073709551615\n");
	REFUSED("vmstat", 2);
}

/* Sizes a real machine never has, that would make setting it up or
 * reporting on it quadratic: every nid and zone (5120 zones) imports and
 * reports fast; more than 16384 runs of RAM in the zones is -EIO. */
static void counts(void)
{
	static const char *names[] = { "DMA", "DMA32", "Normal", "Movable", "Device" };
	enum { ZONES = 5120, SPAN = 16, RUNS = 16385 };
	size_t cap = ZONES * 120 + RUNS * 40;
	char *b = malloc(cap), *p = b;
	capture("every-zone");
	for (int i = 0; i < ZONES; i++)
		p += sprintf(p, "Node %d, zone %s\n spanned %d\n present %d\n managed 0\n start_pfn: %d\n", i / 5,
			     names[i % 5], SPAN, SPAN, i * SPAN);
	text("zoneinfo", b);
	flags(ZONES * SPAN, 0);
	struct scamem_import_report r;
	scamem_machine *m = NULL;
	double t0 = now();
	EXPECT_OK(scamem_import(dir, NULL, &m, &r));
	printf("  %-28s %6.3f s\n", "every-zone", now() - t0);
	EXPECT(now() - t0 < time_limit() && r.present_pages == ZONES * SPAN && r.checker_issues == 0);
	scamem_machine_free(m);

	capture("ram-runs"); /* every other pfn is RAM */
	text("zoneinfo", DMA DMA32);
	flags(PFNS, 0);
	p = b;
	for (int i = 1; i <= RUNS; i++)
		p += sprintf(p, "%08x-%08x : System RAM\n", i * 2 * 4096, i * 2 * 4096 + 4095);
	text("iomem", b);
	free(b);
	REFUSED("iomem", 0);
}

/* zoneinfo's managed is a cross-check, not the import's: a capture saying
 * `managed 0` imports, and giving back every page leaves all of them free. */
static void managed_zero(void)
{
	capture("managed-0");
	text("zoneinfo", ZONE("0", "DMA", "4095", "3998", "0", "1") ZONE("0", "DMA32", "61440", "61440", "0", "4096"));
	uint64_t *f = calloc(PFNS, 8);
	if (!f)
		return;
	for (uint64_t pfn = 32; pfn < 64; pfn++)
		f[pfn] = 1 << 10; /* KPF_BUDDY */
	f[64] = 1 << 7 | 1 << 15; /* a slab of order 2: KPF_SLAB, COMPOUND_HEAD, TAILs */
	for (uint64_t pfn = 65; pfn < 68; pfn++)
		f[pfn] = 1 << 7 | 1 << 16;
	f[68] = 1ull << 26;                    /* KPF_PGTABLE */
	f[69] = 1ull << 24;                    /* KPF_ZERO_PAGE */
	f[70] = 1ull << 32;                    /* KPF_RESERVED */
	f[72] = 1 << 5 | 1 << 12 | 1 << 15;    /* an anon folio of order 3 */
	for (uint64_t pfn = 73; pfn < 80; pfn++)
		f[pfn] = 1 << 16;
	f[80] = 1 << 5;                        /* a file page */
	f[84] = 1 << 15;                       /* a kernel compound page of order 2 */
	for (uint64_t pfn = 85; pfn < 88; pfn++)
		f[pfn] = 1 << 16;
	f[97] = 1 << 15;                       /* a compound run of 3: page by page */
	f[98] = f[99] = 1 << 16;
	for (uint64_t pfn = 8192; pfn < PFNS; pfn++)
		f[pfn] = 1 << 10;
	put("kpageflags", f, PFNS * 8);
	free(f);
	text("vmallocinfo", "0x1-0x2   20480 a+0x1/0x2 pages=4 vmalloc N0=4\n0x3-0x4 12288 b+0x1/0x2 pages=2 vmalloc user\n");
	scamem_machine *m = expect_import(0, "", 0, 0);
	if (!m)
		return;
	struct scamem_zone_info zi;
	EXPECT_OK(scamem_machine_zone(m, 1, &zi));
	EXPECT(zi.managed_pages > 0 && zi.free_pages == PFNS - 8192);
	release_import(m);
	scamem_machine_free(m);
}

int main(void)
{
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	zoneinfo_numbers();
	machine_size();
	xz();
	other_files();
	counts();
	fuzz_finds();
	managed_zero();
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("  max RSS %ld MiB\n", ru.ru_maxrss / 1024);
	EXPECT(ru.ru_maxrss < 512 * 1024);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	EXPECT(system(cmd) == 0);
	return finish(NULL, "t_import_hostile");
}
