/* Accounting property test (issue acceptance 2).
 *
 * Random operation sequences over 20 sessions, many seeds, values from 1 byte
 * to 1 MiB, with overwrites, deletes, appends, increments, expiries, limit
 * changes, strategy switches and clears. After every single step: each
 * session's inline byte count equals jemalloc's small + large allocated for
 * its arena, the engine's total equals the sum, and no session or system
 * budget is exceeded. valgrind and ASan cannot see arena memory, so this is
 * the leak check for sessions. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/engine.h"

#define SESSIONS 20
#define SEEDS 20
#define STEPS_PER_SEED 10000
#define KEYS_PER_SESSION 300
#define SYSTEM_LIMIT (48u << 20)

static int64_t fake_now;

static int64_t fake_clock(void *ud)
{
    (void)ud;
    return fake_now;
}

/* Log-uniform in [lo, hi]: small values common, 1 MiB ones rare. */
static size_t log_uniform(rng_t *r, size_t lo, size_t hi)
{
    double u = (double)rng_below(r, 1u << 30) / (double)(1u << 30);
    return (size_t)exp(log((double)lo) + u * (log((double)hi) - log((double)lo)));
}

static size_t value_size(rng_t *r)
{
    uint64_t band = rng_below(r, 100);
    if (band < 70)
        return log_uniform(r, 1, 256);
    if (band < 97)
        return log_uniform(r, 256, 64 << 10);
    return log_uniform(r, 64 << 10, 1 << 20);
}

static session_limits_t random_limits(rng_t *r)
{
    return (session_limits_t){
        .bytes = rng_below(r, 4) == 0 ? 0 : (1u << 20) + rng_below(r, 6u << 20),
        .entries = rng_below(r, 4) == 0 ? 0 : 20 + rng_below(r, 400),
    };
}

/* The invariants, after every step. Returns false at the first violation so
 * a failing seed reports once, with where it happened. */
static bool invariants_hold(engine_t *e, unsigned seed, int step)
{
    check_count++;
    if (arena_stats_refresh() != 0) {
        CHECK(!"epoch refresh failed");
        return false;
    }
    uint64_t sum = 0;
    for (session_t *s = engine_next(e, NULL); s; s = engine_next(e, s)) {
        arena_stats_t st;
        bool ok = arena_stats(&s->store.arena, &st) == 0 && st.allocated == s->store.arena.bytes &&
                  (!s->limits.bytes || s->store.arena.bytes <= s->limits.bytes) &&
                  (!s->limits.entries || session_entries(s) <= s->limits.entries);
        if (!ok) {
            fprintf(stderr, "seed %u step %d session %s: bytes %zu arena %zu "
                    "limit %" PRIu64 " entries %" PRIu64 " limit %" PRIu64 "\n",
                    seed, step, s->name, s->store.arena.bytes, st.allocated, s->limits.bytes,
                    session_entries(s), s->limits.entries);
            CHECK(!"session invariant");
            return false;
        }
        sum += s->store.arena.bytes;
    }
    if (sum != engine_bytes(e) || engine_bytes(e) > SYSTEM_LIMIT) {
        fprintf(stderr, "seed %u step %d: engine bytes %" PRIu64 " sum %" PRIu64 "\n",
                seed, step, engine_bytes(e), sum);
        CHECK(!"system invariant");
        return false;
    }
    return true;
}

static void run_seed(unsigned seed, uint64_t *ops_done, uint64_t *evictions)
{
    static unsigned char buf[1 << 20];
    rng_t r = {.state = seed * 0x9E3779B97F4A7C15ull + 1};
    fake_now = 1000;
    engine_config_t cfg = {
        .clock = fake_clock,
        .seed = seed,
        .limit_bytes = SYSTEM_LIMIT,
        .session_limits = random_limits(&r),
        .strategy = (evict_kind)rng_below(&r, EVICT_CHOOSER),
    };
    engine_t *e = engine_create(&cfg);
    REQUIRE(e);
    session_t *ss[SESSIONS];
    for (int i = 0; i < SESSIONS; i++) {
        char name[16];
        int n = snprintf(name, sizeof(name), "s%d", i);
        REQUIRE(engine_open(e, name, (size_t)n, &ss[i]) == PD_OK);
        session_set_limits(ss[i], random_limits(&r));
    }
    memset(buf, 'v', sizeof(buf));
    for (int step = 0; step < STEPS_PER_SEED; step++) {
        session_t *s = ss[rng_below(&r, SESSIONS)];
        char key[24];
        size_t klen = (size_t)snprintf(key, sizeof(key), "k%" PRIu64,
                                       rng_below(&r, KEYS_PER_SESSION));
        uint64_t op = rng_below(&r, 1000);
        int64_t v64;
        size_t len;
        const unsigned char *val;
        if (op < 450) {
            int64_t at = rng_below(&r, 5) == 0 ? fake_now + 1 + (int64_t)rng_below(&r, 20000) : 0;
            session_set(s, key, klen, buf, value_size(&r), 0, at, NULL, NULL);
        } else if (op < 600) {
            session_get(s, key, klen, &val, &len);
        } else if (op < 700) {
            session_del(s, key, klen);
        } else if (op < 780) {
            session_append(s, key, klen, buf, value_size(&r) / 4 + 1, &len);
        } else if (op < 820) {
            if (session_incrby(s, key, klen, (int64_t)rng_below(&r, 1000), &v64) == PD_NOTINT)
                session_set(s, key, klen, "7", 1, 0, 0, NULL, NULL);
        } else if (op < 880) {
            session_expire_at(s, key, klen, fake_now + (int64_t)rng_below(&r, 20000) - 2000);
        } else if (op < 900) {
            session_persist(s, key, klen);
        } else if (op < 960) {
            fake_now += (int64_t)rng_below(&r, 3000);
            engine_expire_step(e, 1 + rng_below(&r, 50));
        } else if (op < 980) {
            session_set_limits(s, random_limits(&r));
        } else if (op < 995) {
            session_set_strategy(s, (evict_kind)rng_below(&r, EVICT_CHOOSER));
        } else {
            session_clear(s);
        }
        if (!invariants_hold(e, seed, step))
            break;
    }
    for (int i = 0; i < SESSIONS; i++)
        *evictions += ss[i]->counters.evictions;
    *ops_done += STEPS_PER_SEED;
    engine_destroy(e);
}

int main(void)
{
    uint64_t ops = 0, evictions = 0;
    for (unsigned seed = 1; seed <= SEEDS; seed++)
        run_seed(seed, &ops, &evictions);
    printf("%" PRIu64 " operations over %d seeds, %" PRIu64 " evictions\n",
           ops, SEEDS, evictions);
    /* The run must actually have exercised eviction. */
    CHECK(evictions > 1000);
    return check_done();
}
