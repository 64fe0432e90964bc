/* Churn (issue acceptance 4): sessions created, filled with 1 MiB and
 * dropped, 10,000 times one at a time, and 10,000 times with 50 live and a
 * random one replaced each step. Afterwards no session is left, and jemalloc's
 * allocated bytes, the process's RSS, its address space and its number of
 * mappings are back where they started (jemalloc's own radix tree aside, see
 * check_flat), and arena indices were recycled.
 * valgrind and ASan cannot see arena memory: these figures are the leak
 * check for dropped sessions. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jemalloc/jemalloc.h>

#include "check.h"
#include "core/engine.h"

#ifndef CYCLES
#define CYCLES 10000
#endif
#define LIVE 50
#define FILL_BYTES (1u << 20)
#define WARMUP 200
#define SLACK_BYTES (1u << 20)
#define SLACK_MAPPINGS 8
#define RTREE_LEAF (2u << 20)
#define RTREE_LEAF_MAPPED (6u << 20)
#define RTREE_LEAVES 2

/* Under ASan, freed process memory (session names) waits in a quarantine
 * that would read as RSS growth; session memory is not malloc's anyway. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=1";
}

typedef struct footprint {
    uint64_t allocated; /* jemalloc stats.allocated */
    uint64_t rss;       /* VmRSS */
    uint64_t vsize;     /* VmSize */
    uint64_t mappings;  /* lines of /proc/self/maps */
    uint64_t metadata;  /* jemalloc stats.metadata */
} footprint_t;

static uint64_t status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    REQUIRE(f);
    char line[256];
    uint64_t kb = 0;
    size_t n = strlen(field);
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, field, n) == 0)
            kb = strtoull(line + n, NULL, 10);
    fclose(f);
    return kb;
}

static footprint_t measure(void)
{
    footprint_t fp = {0};
    REQUIRE(arena_stats_refresh() == 0);
    arena_process_stats_t ps;
    REQUIRE(arena_process_stats(&ps) == 0);
    fp.allocated = ps.allocated;
    fp.metadata = ps.metadata;
    fp.rss = status_kb("VmRSS:") * 1024;
    fp.vsize = status_kb("VmSize:") * 1024;
    FILE *f = fopen("/proc/self/maps", "r");
    REQUIRE(f);
    int c;
    while ((c = fgetc(f)) != EOF)
        fp.mappings += c == '\n';
    fclose(f);
    return fp;
}

/* Fills a session with about 1 MiB of entries from 16 B to 16 KiB. */
static void fill(session_t *s, rng_t *r)
{
    static unsigned char value[16 << 10];
    char key[16];
    for (unsigned i = 0; s->store.arena.bytes < FILL_BYTES; i++) {
        size_t vlen = 16u << rng_below(r, 11);
        int klen = snprintf(key, sizeof(key), "k%u", i);
        REQUIRE(session_set(s, key, (size_t)klen, value, vlen, 0, 0, NULL, NULL) == PD_OK);
    }
}

static session_t *open_session(engine_t *e, uint64_t n)
{
    char name[32];
    int len = snprintf(name, sizeof(name), "churn%" PRIu64, n);
    session_t *s;
    REQUIRE(engine_open(e, name, (size_t)len, &s) == PD_OK);
    return s;
}

static void check_flat(const char *phase, footprint_t before, footprint_t after)
{
    printf("%s: allocated %+lld B, rss %+lld B, vsize %+lld B, mappings %+lld, "
           "jemalloc metadata %+lld B\n", phase,
           (long long)(after.allocated - before.allocated),
           (long long)(after.rss - before.rss),
           (long long)(after.vsize - before.vsize),
           (long long)(after.mappings - before.mappings),
           (long long)(after.metadata - before.metadata));
    /* jemalloc's radix tree takes a 2 MiB leaf, in a base block of up to
     * 6 MiB of address space, the first time extents land in a new GiB of
     * address space (where depends on ASLR). That is bounded metadata, not
     * growth per drop: allow at most RTREE_LEAVES of them, and nothing else.
     * A leak of 2 MiB per drop would be 20 GiB here. */
    uint64_t leaves = after.metadata > before.metadata
                          ? (after.metadata - before.metadata + RTREE_LEAF - 1) / RTREE_LEAF
                          : 0;
    CHECK(leaves <= RTREE_LEAVES);
    CHECK(after.allocated <= before.allocated + SLACK_BYTES);
    CHECK(after.rss <= before.rss + SLACK_BYTES);
    CHECK(after.vsize <= before.vsize + SLACK_BYTES + leaves * RTREE_LEAF_MAPPED);
    CHECK(after.mappings <= before.mappings + SLACK_MAPPINGS);
}

static void sequential(engine_t *e, rng_t *r)
{
    for (int i = 0; i < WARMUP; i++) {
        session_t *s = open_session(e, (uint64_t)i);
        fill(s, r);
        engine_drop(e, s);
    }
    footprint_t before = measure();
    for (int i = 0; i < CYCLES; i++) {
        session_t *s = open_session(e, (uint64_t)i);
        fill(s, r);
        engine_drop(e, s);
    }
    CHECK_EQ_U(engine_session_count(e), 0);
    CHECK_EQ_U(engine_bytes(e), 0);
    check_flat("one at a time", before, measure());
}

/* 50 live sessions, a random one replaced per step, then all dropped. */
static void replace_random(engine_t *e, rng_t *r, int cycles)
{
    session_t *live[LIVE];
    uint64_t next = 0;
    for (int i = 0; i < LIVE; i++) {
        live[i] = open_session(e, next++);
        fill(live[i], r);
    }
    for (int i = 0; i < cycles; i++) {
        uint64_t k = rng_below(r, LIVE);
        engine_drop(e, live[k]);
        live[k] = open_session(e, next++);
        fill(live[k], r);
    }
    CHECK_EQ_U(engine_session_count(e), LIVE);
    engine_drop_all(e);
    CHECK_EQ_U(engine_session_count(e), 0);
    CHECK_EQ_U(engine_bytes(e), 0);
}

/* Every arena index jemalloc can give is usable: MALLOCX_ARENA past index
 * 2046 must not overflow (UBSan aborts on it), accounting stays exact. */
static void all_indices(void)
{
    engine_config_t cfg = {.seed = 9};
    engine_t *e = engine_create(&cfg);
    REQUIRE(e);
    engine_stats_t st;
    engine_stats(e, false, &st);
    session_t *s = NULL;
    for (uint32_t i = 0; i < st.max_sessions; i++) {
        s = open_session(e, i);
        REQUIRE(session_set(s, "k", 1, "v", 1, 0, 0, NULL, NULL) == PD_OK);
    }
    CHECK_EQ_U(engine_session_count(e), st.max_sessions);
    CHECK(engine_open(e, "one more", 8, &s) == PD_NOSESSION);
    engine_stats(e, true, &st);
    printf("%u sessions, highest arena index %u\n", st.sessions, st.max_arena_index);
    CHECK(st.max_arena_index > 2047);
    arena_stats_t as;
    uint64_t sum = 0;
    for (s = engine_next(e, NULL); s; s = engine_next(e, s)) {
        CHECK(arena_stats(&s->store.arena, &as) == 0 && as.allocated == s->store.arena.bytes);
        sum += s->store.arena.bytes;
    }
    CHECK_EQ_U(sum, engine_bytes(e));
    engine_destroy(e);
}

int main(void)
{
    rng_t r = {.state = 42};
    engine_config_t cfg = {.seed = 7};
    engine_t *e = engine_create(&cfg);
    REQUIRE(e);
    sequential(e, &r);
    replace_random(e, &r, WARMUP);
    footprint_t before = measure();
    replace_random(e, &r, CYCLES);
    check_flat("50 live, one replaced per step", before, measure());
    all_indices();
    engine_stats_t st;
    engine_stats(e, true, &st);
    /* Indices are recycled: never more than the live sessions plus
     * jemalloc's automatic arenas and a few. */
    unsigned narenas = 0;
    size_t sz = sizeof(narenas);
    REQUIRE(mallctl("opt.narenas", &narenas, &sz, NULL, 0) == 0);
    printf("highest arena index %u (automatic arenas %u)\n", st.max_arena_index, narenas);
    CHECK(st.max_arena_index <= narenas + 1 + LIVE + 8);
    engine_destroy(e);
    return check_done();
}
