/* Policy host costs (not part of `make test`): reload of a policy, one
 * sample at 15 / 1,000 / 4,000 sessions, and a Lua chooser's cost per
 * eviction against a built-in strategy.
 *
 *   make bench   (or: build/tests/bench/bench_policy [policies/default.lua])
 *
 * Wall-clock times on a shared machine: compare within one run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/engine.h"
#include "policy/runtime.h"

/* As the daemon runs them: deadlines on the real clock, its reads counted. */
static const runtime_options_t BENCH_RUNTIME = {.seed = 1};

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void die(const char *what, const char *err)
{
    fprintf(stderr, "bench_policy: %s: %s\n", what, err);
    exit(1);
}

static engine_t *engine_with(runtime_t *h)
{
    engine_config_t cfg = {.seed = 1};
    runtime_configure(h, &cfg);
    engine_t *e = engine_create(&cfg);
    if (!e)
        die("engine", "cannot create");
    runtime_attach(h, e);
    return e;
}

/* A copy of `path` allowing `sessions` sessions in all (default.lua caps
 * them at 15). */
static const char *with_sessions(const char *path, int sessions)
{
    static char out[64];
    snprintf(out, sizeof(out), "/tmp/bench_policy_XXXXXX.lua");
    FILE *in = fopen(path, "r");
    if (!in)
        die(path, "cannot open");
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof(text) - 1, in);
    fclose(in);
    text[n] = '\0';
    char *at = strstr(text, "sessions = 15");
    if (!at)
        die(path, "has no 'sessions = 15' to raise");
    int fd = mkstemps(out, 4);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f)
        die("temp file", "cannot create");
    fprintf(f, "%.*ssessions = %d%s", (int)(at - text), text, sessions, at + strlen("sessions = 15"));
    fclose(f);
    return out; /* the caller removes it */
}

static void bench_reload(const char *path)
{
    char err[1024];
    runtime_t *h = runtime_create(path, &BENCH_RUNTIME, err, sizeof(err));
    if (!h)
        die(path, err);
    engine_t *e = engine_with(h);
    enum { RUNS = 200 };
    double t[RUNS];
    for (int i = 0; i < RUNS; i++) {
        double t0 = now_us();
        if (runtime_reload(h, path, err, sizeof(err)) != 0)
            die("reload", err);
        t[i] = now_us() - t0;
    }
    qsort(t, RUNS, sizeof(t[0]), cmp_double);
    printf("reload of %s: median %.0f us, p99 %.0f us (%d reloads)\n", path, t[RUNS / 2],
           t[RUNS * 99 / 100], RUNS);
    engine_destroy(e);
    runtime_destroy(h);
}

static void bench_sample(const char *path, int sessions)
{
    char err[1024];
    const char *copy = with_sessions(path, sessions + 1);
    runtime_t *h = runtime_create(copy, &BENCH_RUNTIME, err, sizeof(err));
    remove(copy);
    if (!h)
        die(path, err);
    engine_t *e = engine_with(h);
    for (int i = 0; i < sessions; i++) {
        char name[32], key[8];
        int len = snprintf(name, sizeof(name), "s%d", i);
        session_t *s;
        if (engine_open(e, name, (size_t)len, &s) != PD_OK)
            die("open", name);
        for (int k = 0; k < 10; k++) {
            int kl = snprintf(key, sizeof(key), "k%d", k);
            session_set(s, key, (size_t)kl, "value", 5, 0, 0, NULL, NULL);
        }
    }
    runtime_sample(h); /* the first one refreshes jemalloc's figures */
    enum { RUNS = 21 };
    double t[RUNS];
    for (int i = 0; i < RUNS; i++) {
        double t0 = now_us();
        runtime_sample(h);
        t[i] = now_us() - t0;
    }
    qsort(t, RUNS, sizeof(t[0]), cmp_double);
    double t0 = now_us();
    arena_stats_refresh();
    double epoch = now_us() - t0;
    printf("%5d sessions: one sample %8.0f us (median of %d); jemalloc refresh "
           "(epoch, at most every 10 s) %8.0f us\n", sessions, t[RUNS / 2], RUNS, epoch);
    engine_destroy(e);
    runtime_destroy(h);
}

/* ns per SET into a full session (every SET evicts). */
static double evicting_set_ns(const char *policy)
{
    char err[1024];
    runtime_t *h = runtime_create(policy, &BENCH_RUNTIME, err, sizeof(err));
    if (!h)
        die(policy, err);
    engine_t *e = engine_with(h);
    session_t *s;
    if (engine_open(e, "bench", 5, &s) != PD_OK)
        die("open", "bench");
    session_set_limits(s, (session_limits_t){.entries = 1000});
    char key[16];
    enum { N = 200000 };
    for (int i = 0; i < 1000; i++) {
        int kl = snprintf(key, sizeof(key), "k%d", i);
        session_set(s, key, (size_t)kl, "value", 5, 0, 0, NULL, NULL);
    }
    double t0 = now_us();
    for (int i = 1000; i < 1000 + N; i++) {
        int kl = snprintf(key, sizeof(key), "k%d", i);
        session_set(s, key, (size_t)kl, "value", 5, 0, 0, NULL, NULL);
    }
    double ns = (now_us() - t0) * 1000.0 / N;
    if (s->counters.evictions < N)
        die(policy, "did not evict on every SET");
    engine_destroy(e);
    runtime_destroy(h);
    return ns;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "policies/default.lua";
    printf("policyd policy host benchmark\n\n");
    bench_reload(path);
    bench_sample(path, 15);
    bench_sample(path, 1000);
    bench_sample(path, 4000);
    double lru = evicting_set_ns("policies/lru.lua");
    double lua = evicting_set_ns("policies/chooser.lua");
    printf("evicting SET: lru %.0f ns, Lua chooser (policies/chooser.lua, 5 candidates) "
           "%.0f ns: %.0f ns per eviction for the chooser (%.1fx)\n", lru, lua, lua - lru,
           lua / lru);
    return 0;
}
