/* replay: see replay.h. */
#include "cli/replay.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/trace.h"
#include "core/engine.h"
#include "policy/runtime.h"
#include "util/number.h"

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

/* A bad argument: says which and why, and the usage. */
static int bad(const char *flag, const char *value, const char *why)
{
    fprintf(stderr, "policyd replay: %s '%s': %s\n", flag, value, why);
    return usage();
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The session the trace runs in, opened afresh if the policy dropped it,
 * with the command line's limits and strategy over the policy's. */
static session_t *replay_session(engine_t *e, uint64_t entries, uint64_t bytes, int kind)
{
    session_t *s = engine_find(e, "replay", 6);
    if (s || engine_open(e, "replay", 6, &s) != PD_OK)
        return s;
    if (entries || bytes)
        session_set_limits(s, (session_limits_t){.bytes = bytes, .entries = entries});
    if (kind >= 0)
        session_set_strategy(s, (evict_kind)kind);
    return s;
}

/* Reads one line without its end into buf; 1, 0 at the end of the file,
 * -1 when the line is longer than buf holds. */
static int read_line(FILE *f, char *buf, size_t cap, size_t *len)
{
    if (!fgets(buf, (int)cap, f))
        return 0;
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '\n')
        n--;
    else if (!feof(f))
        return -1;
    if (n && buf[n - 1] == '\r')
        n--;
    *len = n;
    return 1;
}

int replay_main(int argc, char **argv)
{
    const char *policy = NULL, *trace = NULL, *strategy = NULL;
    uint64_t entries = 0, bytes = 0;
    int csv = 0;
    for (int i = 0; i < argc; i++) {
        const char *flag = argv[i];
        bool valued = strcmp(flag, "--policy") == 0 || strcmp(flag, "--entries") == 0 ||
                      strcmp(flag, "--bytes") == 0 || strcmp(flag, "--strategy") == 0;
        if (valued && i + 1 == argc) {
            fprintf(stderr, "policyd replay: %s needs a value\n", flag);
            return usage();
        }
        if (strcmp(flag, "--policy") == 0) {
            policy = argv[++i];
        } else if (strcmp(flag, "--entries") == 0) {
            const char *v = argv[++i];
            if (!number_u64(v, strlen(v), &entries) || entries == 0 || entries > ENTRY_ID_MAX)
                return bad(flag, v, "not a whole number of entries from 1 to 16777215");
        } else if (strcmp(flag, "--bytes") == 0) {
            const char *v = argv[++i];
            if (!number_size(v, &bytes) || bytes == 0)
                return bad(flag, v, "not a size of at least 1 byte (e.g. 1048576, 512KB, 10MB)");
        } else if (strcmp(flag, "--strategy") == 0) {
            strategy = argv[++i];
        } else if (strcmp(flag, "--csv") == 0) {
            csv = 1;
        } else if (flag[0] != '-' && !trace) {
            trace = flag;
        } else {
            return bad("argument", flag, flag[0] == '-' ? "unknown option" : "one trace only");
        }
    }
    if (!policy || !trace)
        return usage();
    if (entries && bytes) {
        fprintf(stderr, "policyd replay: --entries and --bytes: give one of them\n");
        return usage();
    }
    int kind = -1;
    if (strategy && (kind = evict_kind_parse(strategy, strlen(strategy))) < 0)
        return bad("--strategy", strategy, "no such strategy");
    FILE *f = fopen(trace, "r");
    if (!f) {
        fprintf(stderr, "policyd replay: cannot open %s: %s\n", trace, strerror(errno));
        return 1;
    }
    char err[1024];
    /* The policy is measured, not the machine: its deadlines never pass
     * (the instruction budget still holds). */
    runtime_options_t opt = {.seed = 1, .clock = sandbox_frozen_clock};
    runtime_t *h = runtime_create(policy, &opt, err, sizeof(err));
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
    uint64_t evictions_gone = 0, evictions_seen = 0; /* of sessions the policy dropped */
    char line[128], key[32], *value = NULL;
    size_t value_cap = 0, len;
    bool ok = false;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (read_line(f, line, sizeof(line), &len) != 1 || !trace_header(line, len)) {
        fprintf(stderr, "policyd replay: %s: expected the header "
                        "timestamp_seconds,key,size_bytes[,ttl_seconds]\n", trace);
        goto done;
    }
    int got;
    for (uint64_t lineno = 2; (got = read_line(f, line, sizeof(line), &len)) != 0; lineno++) {
        trace_request_t q;
        const char *why = got < 0 ? "line too long" : trace_parse(line, len, &q);
        if (why) {
            fprintf(stderr, "policyd replay: %s:%" PRIu64 ": %s\n", trace, lineno, why);
            goto done;
        }
        int64_t now = (int64_t)q.seconds * 1000;
        while (runtime_next_sample(h) <= now) { /* the samples the daemon would run */
            clock.now_ms = runtime_next_sample(h);
            while (engine_expire_step(e, 1000) > 0)
                ;
            runtime_sample(h);
        }
        clock.now_ms = now;
        int klen = snprintf(key, sizeof(key), "k%" PRIu64, q.key);
        /* A policy may drop the session at a sample (guard.lua drops idle
         * ones): it is found again by name, never kept across samples. */
        session_t *s = replay_session(e, entries, bytes, kind);
        if (!s) {
            fprintf(stderr, "policyd replay: the policy refused the session\n");
            goto done;
        }
        if (s->counters.evictions < evictions_seen)
            evictions_gone += evictions_seen; /* a new session: the old one's count */
        requests++;
        const unsigned char *v;
        size_t vlen;
        if (session_get(s, key, (size_t)klen, &v, &vlen) == PD_OK) {
            hits++;
            evictions_seen = s->counters.evictions;
            continue;
        }
        misses++;
        if (q.size > value_cap) {
            char *grown = realloc(value, q.size);
            if (!grown) {
                fprintf(stderr, "policyd replay: out of memory\n");
                goto done;
            }
            memset(grown + value_cap, 'v', q.size - value_cap);
            value = grown;
            value_cap = q.size;
        }
        int64_t expire_at = q.ttl ? now + (int64_t)q.ttl * 1000 : 0;
        if (session_set(s, key, (size_t)klen, value, q.size, 0, expire_at, NULL, NULL) != PD_OK)
            refused++;
        evictions_seen = s->counters.evictions;
        engine_end_command(e);
    }
    ok = requests > 0;
    double took = seconds_since(&t0);
    session_t *last = engine_find(e, "replay", 6);
    uint64_t evictions = evictions_gone + (last ? last->counters.evictions : evictions_seen);
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
    return ok ? 0 : 1;
}
