/*
 * A minimal unit-test harness: CHECK records a failure and goes on;
 * main() runs the listed tests and exits 1 when any check failed.
 *
 *   static void test_x(void) { CHECK(1 + 1 == 2); }
 *   UNIT_MAIN(test_x, test_y)
 */
#ifndef MARKET_UNIT_H
#define MARKET_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failures;
static int unit_checks;

#define CHECK(cond)                                                                    \
	do {                                                                           \
		unit_checks++;                                                         \
		if (!(cond)) {                                                         \
			unit_failures++;                                               \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__,         \
			    __LINE__, #cond);                                          \
		}                                                                      \
	} while (0)

#define CHECK_STR(a, b)                                                                \
	do {                                                                           \
		const char *a_ = (a), *b_ = (b);                                       \
		unit_checks++;                                                         \
		if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {                 \
			unit_failures++;                                               \
			fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__,         \
			    __LINE__, a_ ? a_ : "(null)", b_ ? b_ : "(null)");         \
		}                                                                      \
	} while (0)

typedef void (*unit_fn)(void);

#define UNIT_MAIN(...)                                                                 \
	int main(void)                                                                 \
	{                                                                              \
		unit_fn tests[] = {__VA_ARGS__};                                       \
		for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)          \
			tests[i]();                                                    \
		fprintf(stderr, "%d checks, %d failed\n", unit_checks, unit_failures); \
		return unit_failures ? 1 : 0;                                          \
	}

#endif
