/* A tiny table-friendly test helper: CHECK records a failure and keeps going; every test
 * binary ends with "N passed, N failed" and exits non-zero on any failure. */
#ifndef SG_T_H
#define SG_T_H

#include <stdio.h>
#include <string.h>

static int t_passed, t_failed;

#define CHECK(cond, ...)                                                                   \
	do {                                                                               \
		if (cond) {                                                                \
			t_passed++;                                                        \
		} else {                                                                   \
			t_failed++;                                                        \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);    \
			fprintf(stderr, __VA_ARGS__);                                      \
			fputc('\n', stderr);                                               \
		}                                                                          \
	} while (0)

#define CHECK_STR(a, b)                                                                    \
	do {                                                                               \
		const char *t_a = (a), *t_b = (b);                                         \
		CHECK(t_a && t_b && strcmp(t_a, t_b) == 0, "got \"%s\", want \"%s\"",        \
		      t_a ? t_a : "(null)", t_b ? t_b : "(null)");                         \
	} while (0)

static inline int t_done(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, t_passed, t_failed);
	return t_failed ? 1 : 0;
}

#endif
