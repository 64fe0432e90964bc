/* Engine micro-benchmark (not part of `make test`): ns per get, set and
 * evicting set at 1M entries, and the exact bytes each entry costs over its
 * key and value, index and allocator rounding included.
 *
 *   make bench            (or: build/tests/bench/bench_engine [entries])
 *
 * Keys are 10 bytes ("k" + 9 digits) and values 32 bytes, the shape the
 * overhead target is stated for. Times are wall-clock on a shared machine:
 * compare runs on the same machine, not across machines. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/engine.h"

#define KEY_LEN 10
#define VALUE_LEN 32

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Keys are formatted once, so the timed loops measure the engine only. */
static char *keys;

static const char *key_at(uint64_t i)
{
    return keys + i * KEY_LEN;
}

static void make_keys(uint64_t n)
{
    keys = malloc(n * KEY_LEN + 1);
    if (!keys) {
        perror("malloc");
        exit(1);
    }
    for (uint64_t i = 0; i < n; i++) {
        char tmp[16];
        snprintf(tmp, sizeof(tmp), "k%09" PRIu64, i % 1000000000u);
        memcpy(keys + i * KEY_LEN, tmp, KEY_LEN);
    }
}

/* Fisher-Yates over 0..n-1, so reads hit the table in random order. */
static uint64_t *shuffled(uint64_t n, rng_t *r)
{
    uint64_t *order = malloc(n * sizeof(*order));
    if (!order) {
        perror("malloc");
        exit(1);
    }
    for (uint64_t i = 0; i < n; i++)
        order[i] = i;
    for (uint64_t i = n - 1; i > 0; i--) {
        uint64_t j = rng_below(r, i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    return order;
}

static void must(pd_status st, const char *what)
{
    if (st != PD_OK) {
        fprintf(stderr, "bench: %s: %s\n", what, pd_strerror(st));
        exit(1);
    }
}

/* Fills a session with n entries; returns ns per insert. */
static double fill(session_t *s, uint64_t n, const char *value)
{
    double t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
        must(session_set(s, key_at(i), KEY_LEN, value, VALUE_LEN, 0, 0, NULL, NULL), "set");
    }
    return (now_ns() - t0) / (double)n;
}

static void bench_strategy(engine_t *e, evict_kind kind, uint64_t n, const char *value,
                           double *ns_insert, double *ns_get, double *ns_overwrite,
                           double *ns_evict, double *overhead)
{
    rng_t r = {.state = 1};
    char name[16];
    snprintf(name, sizeof(name), "bench-%s", evict_kind_name(kind));
    session_t *s;
    must(engine_open(e, name, sizeof(name) - 1, &s), "open");
    must(session_set_strategy(s, kind), "strategy");
    *ns_insert = fill(s, n, value);
    *overhead = ((double)s->store.arena.bytes - (double)n * (KEY_LEN + VALUE_LEN)) / (double)n;

    uint64_t *order = shuffled(n, &r);
    const unsigned char *v;
    size_t vlen;
    double t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
        must(session_get(s, key_at(order[i]), KEY_LEN, &v, &vlen), "get");
    }
    *ns_get = (now_ns() - t0) / (double)n;

    t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
        must(session_set(s, key_at(order[i]), KEY_LEN, value, VALUE_LEN, 0, 0, NULL, NULL), "overwrite");
    }
    *ns_overwrite = (now_ns() - t0) / (double)n;

    /* Full session: every new key evicts one. */
    session_set_limits(s, (session_limits_t){.entries = n});
    uint64_t before = s->counters.evictions;
    t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
        must(session_set(s, key_at(n + i), KEY_LEN, value, VALUE_LEN, 0, 0, NULL, NULL), "evicting set");
    }
    *ns_evict = (now_ns() - t0) / (double)n;
    if (s->counters.evictions - before != n) {
        fprintf(stderr, "bench: expected %" PRIu64 " evictions\n", n);
        exit(1);
    }
    free(order);
    engine_drop(e, s);
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    make_keys(2 * n);
    char value[VALUE_LEN];
    for (int i = 0; i < VALUE_LEN; i++)
        value[i] = (char)('a' + i % 26);
    engine_config_t cfg = {.seed = 1};
    engine_t *e = engine_create(&cfg);
    if (!e) {
        fprintf(stderr, "bench: engine_create failed\n");
        return 1;
    }
    printf("policyd engine micro-benchmark: %" PRIu64 " entries, %d-byte keys, "
           "%d-byte values, one session\n\n", n, KEY_LEN, VALUE_LEN);
    printf("%-8s %10s %10s %12s %14s %16s\n", "strategy", "insert ns", "get ns",
           "overwrite ns", "evict+set ns", "overhead B/entry");
    for (int k = 0; k < EVICT_CHOOSER; k++) {
        double ins, get, ow, ev, over;
        bench_strategy(e, (evict_kind)k, n, value, &ins, &get, &ow, &ev, &over);
        printf("%-8s %10.0f %10.0f %12.0f %14.0f %16.1f\n", evict_kind_name((evict_kind)k),
               ins, get, ow, ev, over);
    }
    printf("\noverhead = (session bytes - entries * (key + value)) / entries, where\n"
           "session bytes is the exact inline count (= jemalloc's arena stats).\n");
    engine_destroy(e);
    free(keys);
    return 0;
}
