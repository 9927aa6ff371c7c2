/* check.h — a dozen lines of test harness: CHECK records a failure and goes on, and
 * check_done prints the plain "N passed, N failed" line and sets the exit code. */
#ifndef JAILD_CHECK_H
#define JAILD_CHECK_H

#include <stdio.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                                     \
	do {                                                                            \
		if (cond) {                                                             \
			check_passed++;                                                 \
		} else {                                                                \
			check_failed++;                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                       \
	} while (0)

static inline int check_done(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
