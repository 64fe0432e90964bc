/* The policy host at its memory cap (issue 10, finding 10): a Lua memory
 * error outside a pcall once called abort(). Every entry into a policy is
 * run with its allocations failing from the 1st, the 2nd, ... the N-th on
 * (policy_fail_allocs_from), until one runs clear: each must return a
 * result or a counted error, never crash, and the policy must work again
 * once memory is back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/engine.h"
#include "policy/policy.h"

static char path[64];

static const char *const POLICY =
    "return {\n"
    "  limits = function(name) return { entries = 10, bytes = '1MB' } end,\n"
    "  eviction = function(candidates) return candidates[#candidates].key end,\n"
    "  on_sample = function(snap, act)\n"
    "    act.state.n = (act.state.n or 0) + 1\n"
    "    act.log('info', ('sample %d: %d sessions'):format(act.state.n, #snap.sessions))\n"
    "    act.alert('warning', 'k', snap.sessions[1] and snap.sessions[1].name, 'm')\n"
    "  end,\n"
    "  on_session_open = function(name, snap, act)\n"
    "    act.log('info', 'open ' .. name)\n"
    "    return { entries = 5 }\n"
    "  end,\n"
    "  on_reload = function(old) return { carried = old } end,\n"
    "}\n";

static int64_t clock_ms = 1000;

static int64_t fake_clock(void *ud)
{
    return *(const int64_t *)ud;
}

/* A snapshot of one session, for the hooks. */
typedef struct fixture {
    engine_t *engine;
    session_t *session;
    policy_session_snap_t list[1];
    policy_snapshot_t snap;
    evict_candidate_t cand[3];
} fixture_t;

static void fixture_open(fixture_t *f)
{
    engine_config_t cfg = {.clock = fake_clock, .clock_ud = &clock_ms, .seed = 3};
    f->engine = engine_create(&cfg);
    REQUIRE(f->engine != NULL);
    REQUIRE(engine_open(f->engine, "alice", 5, &f->session) == PD_OK);
    REQUIRE(session_set(f->session, "k1", 2, "v", 1, 0, 0, NULL, NULL) == PD_OK);
    f->list[0] = (policy_session_snap_t){.session = f->session, .growth_bytes_per_min = 1.5};
    f->snap = (policy_snapshot_t){.time = 1, .sessions = 1, .list = f->list, .len = 1};
    for (int i = 0; i < 3; i++) {
        static const char *const keys[] = {"k1", "k2", "k3"};
        f->cand[i] = (evict_candidate_t){.key = (const unsigned char *)keys[i], .klen = 2,
                                         .bytes = 64, .ttl_ms = -1, .id = (uint32_t)i + 1};
    }
}

/* One entry into the policy; returns whether it reached the policy and
 * back without an error. */
typedef bool (*entry_fn)(policy_t *p, fixture_t *f);

static bool do_sample(policy_t *p, fixture_t *f)
{
    policy_actions_t acts = {0};
    char err[256];
    int rc = policy_on_sample(p, &f->snap, &acts, err, sizeof(err));
    CHECK(rc == 0 || (rc == -1 && acts.len == 0));
    policy_actions_free(&acts);
    return rc == 0;
}

static bool do_open(policy_t *p, fixture_t *f)
{
    policy_actions_t acts = {0};
    session_limits_t lim = {0};
    int strategy = -1;
    char err[256];
    int rc = policy_on_session_open(p, "bob", 3, &f->snap, &lim, &strategy, &acts, err,
                                    sizeof(err));
    CHECK(rc == 1 || rc == -1);
    if (rc == 1)
        CHECK_EQ_U(lim.entries, 5);
    policy_actions_free(&acts);
    return rc == 1;
}

static bool do_limits(policy_t *p, fixture_t *f)
{
    (void)f;
    session_limits_t lim = {0};
    int strategy = 0;
    char err[256];
    int rc = policy_session_limits(p, "carol", 5, &lim, &strategy, err, sizeof(err));
    if (rc == 0)
        CHECK_EQ_U(lim.entries, 10);
    return rc == 0;
}

static bool do_choose(policy_t *p, fixture_t *f)
{
    int pick = policy_choose(p, f->session, f->cand, 3);
    CHECK(pick == 2 || pick == -1);
    return pick == 2;
}

/* Runs `entry` failing from the 1st allocation on, then the 2nd, ...
 * until it runs clear; returns how many runs failed. */
static unsigned sweep(policy_t *p, fixture_t *f, entry_fn entry)
{
    unsigned failed = 0;
    for (uint64_t n = 1; n < 100000; n++) {
        policy_fail_allocs_from(p, n);
        bool ok = entry(p, f);
        policy_fail_allocs_from(p, 0);
        CHECK(entry(p, f)); /* memory back: it works again */
        if (ok)
            return failed;
        failed++;
    }
    CHECK(!"the entry never ran clear");
    return failed;
}

int main(void)
{
    snprintf(path, sizeof(path), "/tmp/test_policy_oom_XXXXXX");
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, POLICY, strlen(POLICY)) == (ssize_t)strlen(POLICY));
    close(fd);
    char err[512];
    policy_t *p = policy_load(path, NULL, err, sizeof(err));
    if (!p)
        fprintf(stderr, "%s\n", err);
    REQUIRE(p != NULL);
    fixture_t f;
    fixture_open(&f);

    static const struct {
        const char *name;
        entry_fn fn;
    } entries[] = {
        {"on_sample", do_sample},
        {"on_session_open", do_open},
        {"limits", do_limits},
        {"chooser", do_choose},
    };
    for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
        policy_info_t before, after;
        policy_get_info(p, &before);
        unsigned failed = sweep(p, &f, entries[i].fn);
        policy_get_info(p, &after);
        printf("%s: failed at the first %u allocations, each counted\n", entries[i].name, failed);
        CHECK(failed > 0); /* the sweep reached the host's own pushes */
        CHECK_EQ_U(after.hook_errors - before.hook_errors, failed);
    }

    /* Carrying act.state into a reload, with the new state at its cap. */
    for (uint64_t n = 1; n < 100000; n++) {
        policy_t *next = policy_load(path, NULL, err, sizeof(err));
        REQUIRE(next != NULL);
        policy_fail_allocs_from(next, n);
        int rc = policy_take_state(next, p, err, sizeof(err));
        policy_fail_allocs_from(next, 0);
        CHECK(rc == 0 || rc == 1 || rc == -1);
        policy_free(next);
        if (rc == 0)
            break;
    }

    engine_destroy(f.engine);
    policy_free(p);
    unlink(path);
    return check_done();
}
