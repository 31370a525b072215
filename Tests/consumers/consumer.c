/*
 * A program as a user writes it, linked every way Tests/consumers/run.sh
 * tries against the installed library. It keeps API functions' addresses in
 * data (a non-PIE program needs them DEFAULT in the .so to link at all),
 * calls through them, and checks every result: exit 1 names the first wrong one.
 */
#include <scamem.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "consumer: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			return 1;                                              \
		}                                                              \
	} while (0)

static const char *(*volatile version_string)(void) = scamem_version_string;
static int (*volatile machine_new_default)(scamem_machine **) = scamem_machine_new_default;
static int (*volatile page_to_nid)(scamem_machine *, uint64_t) = scamem_page_to_nid;

int main(void)
{
	scamem_machine *m;
	uint64_t pfn;

	/* One address for a function, whichever object took it. */
	CHECK(version_string == scamem_version_string);
	CHECK(strcmp(version_string(), SCAMEM_VERSION_STRING) == 0);
	CHECK(scamem_version_number() == SCAMEM_VERSION_NUMBER);
	CHECK(machine_new_default(&m) == 0);
	CHECK(scamem_folio_alloc(m, SCAMEM_TYPE_FILE, SCAMEM_GFP_KERNEL, 2, 1, &pfn) == 0);
	CHECK(page_to_nid(m, pfn) == 1);
	CHECK(scamem_folio_put(m, pfn) == 0);
	CHECK(scamem_folio_put(m, pfn) == -EALREADY);
	CHECK(scamem_machine_check(m, NULL, NULL) == 0);
	scamem_machine_free(m);
	printf("consumer: libscamem %s ok\n", version_string());
	return 0;
}
