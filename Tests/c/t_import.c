/* Importing a real machine from C: the bundled capture (run from the
 * project's root), the live machine when this process may read it, and bad
 * input. */
#define _DEFAULT_SOURCE
#include "import_test.h"
#include <unistd.h>

#define BUNDLED "Tests/Fixtures/vm-24g-idle"

static void bundled(void)
{
	scamem_machine *m = NULL;
	struct scamem_import_report r;
	EXPECT_OK(scamem_import(BUNDLED, NULL, &m, &r));
	if (!m)
		return;
	EXPECT(r.pfns == 6553600 && r.present_pages == 6291358 && r.memmap_pages == 6291456);
	EXPECT(r.categories[SCAMEM_CAT_UNINITIALISED] == 4718592);
	EXPECT(r.categories[SCAMEM_CAT_HOLE] == 1 + 97 + 262144); /* pfn 0, VGA/BIOS, PCI hole */
	EXPECT(r.vmalloc_areas == 199 && r.vmalloc_pages == 3551 && r.vmalloc_placed == 3551);
	uint64_t sum = 0;
	for (int c = 0; c < SCAMEM_NR_CATS; c++)
		sum += r.categories[c];
	EXPECT(sum == r.pfns);
	EXPECT(r.checker_issues == 0);

	/* The words agree with the categories. */
	uint64_t counts[SCAMEM_NR_TYPES];
	EXPECT(scamem_count_pages(m, -1, -1, counts) == (int64_t)r.pfns);
	EXPECT(counts[SCAMEM_TYPE_BUDDY] == r.categories[SCAMEM_CAT_FREE]);
	EXPECT(counts[SCAMEM_TYPE_SLAB] == r.categories[SCAMEM_CAT_SLAB]);
	EXPECT(counts[SCAMEM_TYPE_PTDESC] == r.categories[SCAMEM_CAT_PAGE_TABLE]);
	EXPECT(counts[SCAMEM_TYPE_SCAMEM] == r.vmalloc_placed);
	struct scamem_metadata md;
	EXPECT_OK(scamem_machine_metadata(m, &md));
	EXPECT(md.nr_desc[SCAMEM_TYPE_SLAB] == r.slabs && md.nr_desc[SCAMEM_TYPE_PTDESC] == r.ptdescs);
	EXPECT(md.nr_desc[SCAMEM_TYPE_FILE] + md.nr_desc[SCAMEM_TYPE_ANON] == r.folios);

	/* Today's bill against memdescs and the strategies. */
	EXPECT(r.today_bytes == r.memmap_pages * 64 + r.vmalloc_pages * 8);
	EXPECT(r.word_bytes == r.memmap_pages * 8);
	EXPECT(r.memdesc_bytes == r.word_bytes + r.descriptor_bytes + r.scamem_bytes);
	EXPECT(r.strategy_bytes[SCAMEM_STRATEGY_LEGACY] == r.today_bytes);
	EXPECT(r.strategy_bytes[SCAMEM_STRATEGY_PFN_LOOKUP] == r.memdesc_bytes);
	EXPECT(r.strategy_bytes[0] == r.memdesc_bytes);
	EXPECT(r.strategy_bytes[SCAMEM_STRATEGY_FLAGS_ARRAY] == r.memdesc_bytes + 8 * r.vmalloc_pages);
	EXPECT(r.strategy_bytes[SCAMEM_STRATEGY_PACKED] == r.memdesc_bytes + 8 * r.vmalloc_areas);

	/* The imported machine is a machine: it allocates and frees. */
	uint64_t pfn;
	EXPECT_OK(scamem_folio_alloc(m, SCAMEM_TYPE_FILE, 0, 2, SCAMEM_NUMA_NO_NODE, &pfn));
	EXPECT(scamem_folio_put(m, pfn) == 0);
	scamem_machine_free(m);

	/* Descriptor sizes are parameters; the machine can run another strategy. */
	struct scamem_import_opts o = { sizeof o, 48, 0, 0, SCAMEM_STRATEGY_VMA_PRIVATE, 0, NULL };
	struct scamem_import_report r2;
	m = NULL;
	EXPECT_OK(scamem_import(BUNDLED, &o, &m, &r2));
	EXPECT(r2.descriptor_bytes == r.descriptor_bytes - 32 * r.folios);
	struct scamem_machine_info info;
	EXPECT_OK(scamem_machine_info(m, &info));
	EXPECT(info.strategy == SCAMEM_STRATEGY_VMA_PRIVATE);
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
	scamem_machine_free(m);
	m = NULL;
	EXPECT_OK(scamem_import(BUNDLED, NULL, &m, NULL)); /* no report wanted */
	EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
	scamem_machine_free(m);
}

/* Everything the import created can be given back: then every managed page
 * of every zone is free again and the checker finds nothing. */
static void release_bundled(void)
{
	scamem_machine *m = NULL;
	EXPECT_OK(scamem_import(BUNDLED, NULL, &m, NULL));
	if (!m)
		return;
	release_import(m);
	uint64_t counts[SCAMEM_NR_TYPES];
	struct scamem_machine_info info;
	EXPECT_OK(scamem_machine_info(m, &info));
	EXPECT(scamem_count_pages(m, -1, -1, counts) > 0 && counts[SCAMEM_TYPE_BUDDY] == info.managed_pages);
	EXPECT(info.free_pages == info.managed_pages && info.managed_pages > 1500000);
	scamem_machine_free(m);
}

static void misuse(void)
{
	scamem_machine *m = NULL;
	struct scamem_import_report r;
	struct scamem_import_opts o = { sizeof o, 0, 0, 0, 0, 0, NULL };
	EXPECT_ERR(scamem_import(BUNDLED, NULL, NULL, &r), -EINVAL);
	EXPECT_ERR(scamem_import("/nonexistent/capture", NULL, &m, &r), -EIO);
	EXPECT_ERR(scamem_import("", NULL, &m, &r), -EIO);
	/* Where it stopped, when asked; zeroed on success. */
	struct scamem_import_error e;
	o.error = &e;
	EXPECT_ERR(scamem_import("/nonexistent/capture", &o, &m, &r), -EIO);
	EXPECT(strcmp(e.file, "zoneinfo") == 0 && e.line == 0 && strstr(e.reason, "missing"));
	EXPECT_OK(scamem_import(BUNDLED, &o, &m, NULL));
	EXPECT(e.file[0] == 0 && e.reason[0] == 0 && e.line == 0 && e.offset == 0);
	scamem_machine_free(m);
	m = NULL;
	o.error = NULL;
	o.reserved = 1;
	EXPECT_ERR(scamem_import(BUNDLED, &o, &m, &r), -EINVAL);
	o.reserved = 0, o.strategy = 9;
	EXPECT_ERR(scamem_import(BUNDLED, &o, &m, &r), -EINVAL);
	o.strategy = 0, o.size = 4;
	EXPECT_ERR(scamem_import(BUNDLED, &o, &m, &r), -EINVAL);
	EXPECT(m == NULL);
}

/* The live machine: as root on Linux it imports cleanly; otherwise it says
 * why (no root, no file), and never crashes. */
static void live(void)
{
	scamem_machine *m = NULL;
	struct scamem_import_report r;
	int err = scamem_import(NULL, NULL, &m, &r);
	if (geteuid() == 0 && access("/proc/kpageflags", R_OK) == 0) {
		EXPECT_OK(err);
		EXPECT(m != NULL && r.pfns > 0 && r.categories[SCAMEM_CAT_FREE] > 0);
		if (m)
			EXPECT(scamem_machine_check(m, print_issue, NULL) == 0);
	} else {
		printf("t_import: live import not possible here: %s\n", scamem_strerror(err));
		EXPECT(err == -EACCES || err == -ENOENT || err == -EIO);
	}
	scamem_machine_free(m);
}

int main(void)
{
	bundled();
	release_bundled();
	misuse();
	live();
	return finish(NULL, "t_import");
}
