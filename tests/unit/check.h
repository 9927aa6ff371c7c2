/* check.h — a small test harness: CHECK records a failure and goes on; RUN runs one
 * named case and reports it ("ok   name" or "FAIL name", as crun's tests report each
 * case); check_done prints "N passed, N failed" and sets the exit code. */
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
			CHECK_SAYS_WHY();                                               \
		}                                                                       \
	} while (0)
/* a suite whose calls fill an error defines CHECK_WHY as its message, printed with
 * each failure */
#ifdef CHECK_WHY
#define CHECK_SAYS_WHY() fprintf(stderr, "    (last error: %s)\n", CHECK_WHY)
#else
#define CHECK_SAYS_WHY() ((void)0)
#endif

static inline void check_run(const char *name, void (*fn)(void))
{
	int before = check_failed;
	fn();
	printf("%s %s\n", check_failed == before ? "ok  " : "FAIL", name);
	fflush(stdout);
}
#define RUN(fn) check_run(#fn, fn)

static inline int check_done(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
