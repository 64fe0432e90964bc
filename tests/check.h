/* check: the few assertions the C tests need. A failed CHECK prints where and
 * what, counts, and the test goes on; check_done() is the exit status. */
#ifndef POLICYD_CHECK_H
#define POLICYD_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int check_failures;
static int check_count;

#define CHECK(cond) \
    do { \
        check_count++; \
        if (!(cond)) { \
            check_failures++; \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        } \
    } while (0)

#define CHECK_EQ_U(a, b) \
    do { \
        unsigned long long check_a_ = (unsigned long long)(a); \
        unsigned long long check_b_ = (unsigned long long)(b); \
        check_count++; \
        if (check_a_ != check_b_) { \
            check_failures++; \
            fprintf(stderr, "%s:%d: check failed: %s == %s (%llu != %llu)\n", \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_); \
        } \
    } while (0)

/* Stops the test at once: for a state later checks cannot survive. */
#define REQUIRE(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: required: %s\n", __FILE__, __LINE__, #cond); \
            exit(1); \
        } \
    } while (0)

static inline int check_done(void)
{
    printf("%d checks, %d failed\n", check_count, check_failures);
    return check_failures ? 1 : 0;
}

#endif
