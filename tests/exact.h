/* exact: the memory-model invariant of DESIGN.md §3, shared by the C tests.
 * ASan and valgrind do not see arena memory, so comparing the inline byte
 * counts with jemalloc's own figures is the leak check for sessions. */
#ifndef POLICYD_TEST_EXACT_H
#define POLICYD_TEST_EXACT_H

#include <stdint.h>

#include "check.h"
#include "core/engine.h"

/* Signed equality with both values in the message (pttl, incrby results). */
#define CHECK_EQ_I(a, b) \
    do { \
        long long check_a_ = (long long)(a); \
        long long check_b_ = (long long)(b); \
        check_count++; \
        if (check_a_ != check_b_) { \
            check_failures++; \
            fprintf(stderr, "%s:%d: check failed: %s == %s (%lld != %lld)\n", \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_); \
        } \
    } while (0)

/* Every session's inline bytes equal jemalloc's allocated figure for its
 * arena, an empty session holds no bytes, and the engine's total is the sum. */
static inline void check_exact(engine_t *e)
{
    CHECK(arena_stats_refresh() == 0);
    uint64_t sum = 0;
    uint32_t n = 0;
    for (session_t *s = engine_next(e, NULL); s; s = engine_next(e, s)) {
        arena_stats_t st;
        CHECK(arena_stats(&s->store.arena, &st) == 0);
        CHECK_EQ_U(st.allocated, s->store.arena.bytes);
        if (session_entries(s) == 0)
            CHECK_EQ_U(s->store.arena.bytes, 0);
        sum += s->store.arena.bytes;
        n++;
    }
    CHECK_EQ_U(engine_bytes(e), sum);
    CHECK_EQ_U(engine_session_count(e), n);
}

#endif
