/* The policy loader and hooks (src/policy) on any Lua source: loaded under
 * a small budget and byte cap, and when it loads, every entry the engine
 * makes into a policy is called — limits, on_sample, on_session_open, the
 * chooser, a reload's state hand-over. Whatever the source does, each call
 * returns a result or a counted error, and the sanitizers see nothing. The
 * seed corpus holds the shipped policies and the hostile ones of
 * tests/integration/test_hostile_policies.py. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/engine.h"
#include "policy/policy.h"

static char path[64];
static int64_t now_ms = 1000;
static engine_t *engine;
static session_t *session;
static policy_session_snap_t list[1];
static policy_snapshot_t snap;
static evict_candidate_t cand[2];

static int64_t clock_fn(void *ud)
{
    return *(const int64_t *)ud;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(path, sizeof(path), "/tmp/fuzz_policy_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        abort();
    close(fd);
    engine_config_t cfg = {.clock = clock_fn, .clock_ud = &now_ms, .seed = 5};
    engine = engine_create(&cfg);
    if (!engine || engine_open(engine, "alice", 5, &session) != PD_OK ||
        session_set(session, "k1", 2, "v", 1, 0, 0, NULL, NULL) != PD_OK)
        abort();
    list[0] = (policy_session_snap_t){.session = session, .growth_bytes_per_min = 2.5};
    snap = (policy_snapshot_t){.time = 1, .sessions = 1, .list = list, .len = 1};
    cand[0] = (evict_candidate_t){.key = (const unsigned char *)"k1", .klen = 2, .bytes = 64,
                                  .ttl_ms = -1, .id = 1};
    cand[1] = (evict_candidate_t){.key = (const unsigned char *)"k2", .klen = 2, .bytes = 96,
                                  .idle_ms = 5000, .ttl_ms = 100, .id = 2};
    return 0;
}

static policy_t *load(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    sandbox_config_t cfg = {.mem_cap = 8u << 20, .instr_budget = 200000,
                            .clock = sandbox_frozen_clock};
    char err[512];
    policy_t *p = policy_load(path, &cfg, err, sizeof(err));
    if (!p && strncmp(err, path, strlen(path)) != 0)
        abort(); /* an error that does not say where */
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    policy_t *p = load(data, size);
    if (!p)
        return 0;
    char err[512];
    session_limits_t lim;
    int strategy;
    policy_session_limits(p, "carol", 5, &lim, &strategy, err, sizeof(err));
    policy_actions_t acts = {0};
    policy_on_sample(p, &snap, &acts, err, sizeof(err));
    policy_actions_free(&acts);
    policy_on_session_open(p, "bob", 3, &snap, &lim, &strategy, &acts, err, sizeof(err));
    policy_actions_free(&acts);
    int pick = policy_choose(p, session, cand, 2);
    if (pick < -1 || pick > 1)
        abort();
    policy_t *next = load(data, size);
    if (next) {
        policy_take_state(next, p, err, sizeof(err));
        policy_free(next);
    }
    policy_free(p);
    return 0;
}
