/* replay: see replay.h. */
#include "cli/replay.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/engine.h"
#include "policy/runtime.h"

typedef struct replay_clock {
    int64_t now_ms;
} replay_clock_t;

static int64_t replay_now(void *ud)
{
    return ((replay_clock_t *)ud)->now_ms;
}

static int usage(void)
{
    fprintf(stderr, "usage: policyd replay --policy FILE TRACE.csv [--entries N | --bytes SIZE]\n"
                    "                      [--strategy NAME] [--csv]\n");
    return 2;
}

/* "10MB", "512KB", "1048576" -> bytes (binary units, as policies). */
static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    uint64_t mult = 1;
    if (*end == 'K' || *end == 'k')
        mult = 1ull << 10;
    else if (*end == 'M' || *end == 'm')
        mult = 1ull << 20;
    else if (*end == 'G' || *end == 'g')
        mult = 1ull << 30;
    if (mult > 1)
        end++;
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end)
        return -1;
    *out = (uint64_t)(v * (double)mult);
    return 0;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int replay_main(int argc, char **argv)
{
    const char *policy = NULL, *trace = NULL, *strategy = NULL;
    uint64_t entries = 0, bytes = 0;
    int csv = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc)
            policy = argv[++i];
        else if (strcmp(argv[i], "--entries") == 0 && i + 1 < argc)
            entries = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--bytes") == 0 && i + 1 < argc) {
            if (parse_size(argv[++i], &bytes) != 0)
                return usage();
        } else if (strcmp(argv[i], "--strategy") == 0 && i + 1 < argc)
            strategy = argv[++i];
        else if (strcmp(argv[i], "--csv") == 0)
            csv = 1;
        else if (argv[i][0] != '-' && !trace)
            trace = argv[i];
        else
            return usage();
    }
    if (!policy || !trace || (entries && bytes))
        return usage();
    int kind = -1;
    if (strategy && (kind = evict_kind_parse(strategy, strlen(strategy))) < 0) {
        fprintf(stderr, "policyd replay: unknown strategy '%s'\n", strategy);
        return 2;
    }
    FILE *f = fopen(trace, "r");
    if (!f) {
        fprintf(stderr, "policyd replay: cannot open %s: %s\n", trace, strerror(errno));
        return 1;
    }
    char err[1024];
    runtime_t *h = runtime_create(policy, 1, err, sizeof(err));
    if (!h) {
        fprintf(stderr, "%s\n", err);
        fclose(f);
        return 1;
    }
    replay_clock_t clock = {0};
    engine_config_t cfg = {.clock = replay_now, .clock_ud = &clock, .seed = 1};
    runtime_configure(h, &cfg);
    engine_t *e = engine_create(&cfg);
    if (!e) {
        fprintf(stderr, "policyd replay: cannot create the engine\n");
        runtime_destroy(h);
        fclose(f);
        return 1;
    }
    runtime_attach(h, e);

    uint64_t requests = 0, hits = 0, misses = 0, refused = 0;
    char line[512], key[64], *value = NULL;
    size_t value_cap = 0;
    session_t *s = NULL;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!fgets(line, sizeof(line), f) || strncmp(line, "timestamp_seconds,key,size_bytes", 32) != 0) {
        fprintf(stderr, "policyd replay: %s: expected the header "
                        "timestamp_seconds,key,size_bytes[,ttl_seconds]\n", trace);
        goto done;
    }
    for (uint64_t lineno = 2; fgets(line, sizeof(line), f); lineno++) {
        unsigned long long ts, k, size, ttl = 0;
        int n = sscanf(line, "%llu,%llu,%llu,%llu", &ts, &k, &size, &ttl);
        if (n < 3) {
            fprintf(stderr, "policyd replay: %s:%" PRIu64 ": not timestamp,key,size\n", trace, lineno);
            goto done;
        }
        int64_t now = (int64_t)ts * 1000;
        while (runtime_next_sample(h) <= now) { /* the samples the daemon would run */
            clock.now_ms = runtime_next_sample(h);
            while (engine_expire_step(e, 1000) > 0)
                ;
            runtime_sample(h);
        }
        clock.now_ms = now;
        int klen = snprintf(key, sizeof(key), "k%llu", k);
        if (!s) {
            if (engine_open(e, "replay", 6, &s) != PD_OK) {
                fprintf(stderr, "policyd replay: the policy refused the session\n");
                goto done;
            }
            if (entries || bytes)
                session_set_limits(s, (session_limits_t){.bytes = bytes, .entries = entries});
            if (kind >= 0)
                session_set_strategy(s, (evict_kind)kind);
        }
        requests++;
        const unsigned char *v;
        size_t vlen;
        if (session_get(s, key, (size_t)klen, &v, &vlen) == PD_OK) {
            hits++;
            continue;
        }
        misses++;
        if (size > value_cap) {
            char *grown = realloc(value, size);
            if (!grown) {
                fprintf(stderr, "policyd replay: out of memory\n");
                goto done;
            }
            memset(grown + value_cap, 'v', size - value_cap);
            value = grown;
            value_cap = size;
        }
        int64_t expire_at = ttl ? now + (int64_t)ttl * 1000 : 0;
        if (session_set(s, key, (size_t)klen, value, size, 0, expire_at, NULL, NULL) != PD_OK)
            refused++;
    }
    double took = seconds_since(&t0);
    uint64_t evictions = s ? s->counters.evictions : 0;
    uint64_t alerts = 0;
    for (int sev = 0; sev < ALERT_SEVERITY_COUNT; sev++)
        alerts += alerts_count(runtime_alerts(h), (alert_severity)sev);
    double ratio = requests ? (double)misses / (double)requests : 0;
    if (csv) {
        printf("requests,hits,misses,miss_ratio,evictions,refused,alerts,seconds\n");
        printf("%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.4f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.3f\n",
               requests, hits, misses, ratio, evictions, refused, alerts, took);
    } else {
        printf("replayed %s with %s%s%s\n", trace, policy, strategy ? ", strategy " : "",
               strategy ? strategy : "");
        printf("  requests   %" PRIu64 "\n  hits       %" PRIu64 "\n  misses     %" PRIu64
               "\n  miss ratio %.4f\n  evictions  %" PRIu64 "\n  refused    %" PRIu64
               "\n  alerts     %" PRIu64 "\n  time       %.3f s (%.0f requests/s)\n",
               requests, hits, misses, ratio, evictions, refused, alerts, took,
               took > 0 ? (double)requests / took : 0);
    }
done:
    free(value);
    fclose(f);
    engine_destroy(e);
    runtime_destroy(h);
    return requests ? 0 : 1;
}
