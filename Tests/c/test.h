/* A tiny harness for the C consumers: each test is a standalone program that
 * exits 0 on pass (liburing's habit). */
#ifndef SCAMEM_TEST_H
#define SCAMEM_TEST_H
#include <scamem.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;

#define EXPECT(cond)                                                                 \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
			test_failures++;                                             \
		}                                                                    \
	} while (0)

/* A call returning a negative errno: compare and show both texts on failure. */
#define EXPECT_ERR(call, err)                                                          \
	do {                                                                           \
		long long r_ = (long long)(call);                                      \
		if (r_ != (long long)(err)) {                                          \
			fprintf(stderr, "%s:%d: %s returned %lld (%s), expected %lld (%s)\n", \
				__FILE__, __LINE__, #call, r_, scamem_strerror((int)r_),       \
				(long long)(err), scamem_strerror((int)(err)));                \
			test_failures++;                                               \
		}                                                                      \
	} while (0)

#define EXPECT_OK(call) EXPECT_ERR(call, 0)

static void print_issue(void *user, uint64_t pfn, int32_t what, const char *message)
{
	(void)user;
	fprintf(stderr, "  check: pfn 0x%" PRIx64 " kind %d: %s\n", pfn, what, message);
}

/* Every test ends here: the invariant checker must find nothing. */
static int finish(scamem_machine *m, const char *name)
{
	if (m) {
		int64_t issues = scamem_machine_check(m, print_issue, NULL);
		if (issues != 0) {
			fprintf(stderr, "%s: invariant checker found %" PRId64 " issues\n", name, issues);
			test_failures++;
		}
		scamem_machine_free(m);
	}
	printf("%s: %s\n", name, test_failures ? "FAIL" : "ok");
	return test_failures ? 1 : 0;
}
#endif
