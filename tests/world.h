/* world: an engine, its policy runtime and a command service, with an
 * in-memory connection's helpers (commands/memconn.h) — what the command
 * tests share. The engine's clock is clock_ms. */
#ifndef POLICYD_TESTS_WORLD_H
#define POLICYD_TESTS_WORLD_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "commands/memconn.h"
#include "core/engine.h"
#include "policy/runtime.h"

static int64_t clock_ms = 1000;

static inline int64_t fake_clock(void *ud)
{
    return *(const int64_t *)ud;
}

typedef struct world {
    char policy[64];
    runtime_t *runtime;
    engine_t *engine;
    service_t svc;
} world_t;

/* A world running the policy `text`. */
static inline void world_open_with(world_t *w, const char *requirepass, const char *text)
{
    snprintf(w->policy, sizeof(w->policy), "/tmp/test_commands_XXXXXX");
    int fd = mkstemp(w->policy);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    char err[512];
    runtime_options_t opt = {.seed = 1, .clock = sandbox_frozen_clock};
    w->runtime = runtime_create(w->policy, &opt, err, sizeof(err));
    if (!w->runtime)
        fprintf(stderr, "%s\n", err);
    REQUIRE(w->runtime != NULL);
    engine_config_t cfg = {.clock = fake_clock, .clock_ud = &clock_ms, .seed = 7};
    runtime_configure(w->runtime, &cfg);
    w->engine = engine_create(&cfg);
    REQUIRE(w->engine != NULL);
    runtime_attach(w->runtime, w->engine);
    service_init(&w->svc, w->engine, w->runtime);
    w->svc.requirepass = requirepass;
}

static inline void world_open(world_t *w, const char *requirepass)
{
    world_open_with(w, requirepass, "return { limits = { bytes = '1MB', entries = 100 } }\n");
}

static inline void world_close(world_t *w)
{
    CHECK_EQ_U(w->svc.clients, 0);
    CHECK(w->svc.subscribers == NULL);
    engine_destroy(w->engine);
    runtime_destroy(w->runtime);
    unlink(w->policy);
}

/* Feeds `in` and checks that the replies so far are exactly `want`; the
 * replies are then cleared. */
static inline bool replies(memconn_t *m, const char *in, const char *want)
{
    REQUIRE(memconn_feed(m, in, strlen(in)) == 0);
    bool same = m->conn.out.len == strlen(want) &&
                (m->conn.out.len == 0 || memcmp(m->conn.out.data, want, m->conn.out.len) == 0);
    if (!same)
        fprintf(stderr, "  sent %s\n  want %s\n  got  %.*s\n", in, want, (int)m->conn.out.len,
                m->conn.out.data ? m->conn.out.data : "");
    m->conn.out.len = 0;
    return same;
}

#endif
