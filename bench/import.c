/*
 * Import speed and memory on the bundled real machine (24 GiB, 6,553,600
 * pfns). Run from the project's root: make bench. The raw capture is
 * decompressed first (with the xz command; the benchmark may shell out, the
 * library does not) so that "after decompression" can be measured apart.
 */
#define _DEFAULT_SOURCE
#include <scamem.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#define BUNDLED "Tests/Fixtures/vm-24g-idle"

static double cpu_seconds(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return (double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec +
	       ((double)u.ru_utime.tv_usec + (double)u.ru_stime.tv_usec) / 1e6;
}

static long peak_kib(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return u.ru_maxrss;
}

static int run(const char *dir, const char *what, int measure_peak)
{
	scamem_machine *m = NULL;
	struct scamem_import_report r;
	long before = peak_kib();
	double t0 = cpu_seconds();
	int err = scamem_import(dir, NULL, &m, &r);
	double cpu = cpu_seconds() - t0;
	if (err < 0) {
		fprintf(stderr, "import %s: %s\n", dir, scamem_strerror(err));
		return 1;
	}
	long grown = peak_kib() - before;
	printf("| %-38s | %9.3f | %8.1f | ", what, cpu, cpu * 1e9 / (double)r.pfns);
	if (measure_peak)
		printf("%6.2f |\n", (double)grown * 1024.0 / (double)r.pfns);
	else
		printf("(not a fresh peak) |\n");
	scamem_machine_free(m);
	return 0;
}

int main(void)
{
	char dir[] = "/tmp/scamem-bench-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	char cmd[512];
	snprintf(cmd, sizeof cmd,
		 "cp " BUNDLED "/* %s/ && xz -d %s/kpageflags.xz %s/kpagecount.xz", dir, dir, dir);
	if (system(cmd) != 0)
		return 1;
	printf("| import of the bundled 24 GiB machine (6,553,600 pfns) | CPU s | ns/pfn | peak growth B/pfn |\n");
	printf("|---|---|---|---|\n");
	/* The raw one first, in a fresh process image: its peak is the import's. */
	int rc = run(dir, "raw kpageflags/kpagecount (after decompression)", 1);
	rc |= run(BUNDLED, "xz-compressed, decompressed in-process", 0);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	rc |= system(cmd) != 0;
	return rc;
}
