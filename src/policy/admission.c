/* admission: the engine's hooks into the runtime — whether a new session
 * may open and with what limits (on_session_open), making room when the
 * system holds limit_sessions, the chooser, and freeing what the runtime
 * keeps for a dropped session. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/runtime_internal.h"
#include "util/log.h"

/* Runs on_session_open for `name` and applies its actions (none if it
 * failed). Returns policy_on_session_open's answer. */
static int admit(runtime_t *rt, const char *name, size_t len, const session_t *skip,
                 session_limits_t *lim, int *strategy)
{
    policy_snapshot_t snap = {0};
    char err[512];
    policy_actions_t acts = {0};
    runtime_snapshot(rt, &snap, skip);
    *strategy = -1;
    int rc = policy_on_session_open(rt->policy, name, len, &snap, lim, strategy, &acts,
                                    err, sizeof(err));
    free((void *)snap.list);
    if (rc == 2)
        snprintf(rt->refusal, sizeof(rt->refusal), "%s", err);
    /* Admitted: drops now, as the engine's dooms (room made, nothing dropped
     * yet), the rest once the command's write stored something
     * (runtime_on_settle). Refused: its other actions (a log, an alert)
     * stand; it drops nothing, since the write fails. */
    rt->admitting = true;
    for (size_t i = 0; i < acts.len; i++) {
        if (acts.items[i].op != POLICY_DROP)
            (rc == 2 ? runtime_apply : runtime_defer)(rt, &acts.items[i]);
        else if (rc != 2)
            runtime_apply(rt, &acts.items[i]);
    }
    rt->admitting = false;
    policy_actions_free(&acts);
    return rc;
}

/* The system holds limit_sessions: the policy's on_session_open may make
 * room (act.drop); its answer is kept for the on_open that follows. */
static void pending_clear(runtime_t *rt)
{
    free(rt->pending.name);
    rt->pending.name = NULL;
}

bool runtime_on_full(void *ud, engine_t *e, const void *name, size_t len)
{
    runtime_t *rt = ud;
    pending_clear(rt);
    if (rt->degraded)
        return false; /* no admission hook while degraded */
    uint32_t before = engine_sessions_staying(e);
    int rc = admit(rt, name, len, NULL, &rt->pending.lim, &rt->pending.strategy);
    /* The decision holds only for the on_open that follows at once, which
     * happens only if room was made. */
    if (rc == 2 || engine_sessions_staying(e) >= before)
        return false;
    rt->pending.name = malloc(len ? len : 1);
    if (!rt->pending.name)
        return false;
    memcpy(rt->pending.name, name, len);
    rt->pending.len = len;
    rt->pending.rc = rc;
    return true;
}

/* The policy's limits for a new session; if its limits function fails,
 * the session is refused (and the write with it), with the error as the
 * reason: a session never runs without limits. */
static pd_status apply_limits(runtime_t *rt, session_t *s)
{
    if (policy_apply_limits(rt->policy, s) == 0)
        return PD_OK;
    policy_info_t in;
    policy_get_info(rt->policy, &in);
    snprintf(rt->refusal, sizeof(rt->refusal), "%s", in.last_error);
    log_event(LOG_ERROR, "policy limits failed, session refused", "error", in.last_error, NULL);
    return PD_POLICYERR;
}

/* Limits from on_session_open's table: what it left out comes from the
 * policy's limits, as if it had said only what differs. */
static pd_status merge_limits(runtime_t *rt, session_t *s, session_limits_t lim, int strategy)
{
    pd_status st = apply_limits(rt, s);
    if (st != PD_OK)
        return st;
    session_limits_t now = s->limits;
    if (lim.bytes)
        now.bytes = lim.bytes;
    if (lim.entries)
        now.entries = lim.entries;
    if (strategy >= 0)
        session_set_strategy(s, (evict_kind)strategy);
    session_set_limits(s, now);
    return PD_OK;
}

pd_status runtime_on_open(void *ud, engine_t *e, session_t *s)
{
    (void)e;
    runtime_t *rt = ud;
    if (rt->degraded) { /* no admission hook; the policy's limits still */
        pending_clear(rt);
        return apply_limits(rt, s);
    }
    session_limits_t lim = {0};
    int strategy = -1;
    int rc;
    if (rt->pending.name && rt->pending.len == s->name_len &&
        memcmp(rt->pending.name, s->name, s->name_len) == 0) {
        rc = rt->pending.rc;
        lim = rt->pending.lim;
        strategy = rt->pending.strategy;
    } else {
        rt->opening = s;
        rc = admit(rt, s->name, s->name_len, s, &lim, &strategy);
        rt->opening = NULL;
    }
    pending_clear(rt);
    if (rc == 2)
        return PD_REFUSED;
    return rc == 1 ? merge_limits(rt, s, lim, strategy) : apply_limits(rt, s);
}

void runtime_on_drop(void *ud, engine_t *e, session_t *s)
{
    (void)ud;
    (void)e;
    free(s->runtime_data);
    s->runtime_data = NULL;
}

/* A chooser that keeps failing costs a failed call (up to its deadline)
 * per eviction: after RUNTIME_CHOOSER_FAILURES in a row the session evicts
 * by lru for a while, without calling it. */
int runtime_choose(void *ud, session_t *s, const evict_candidate_t *c, size_t n)
{
    runtime_t *rt = ud;
    runtime_session_t *rs = runtime_session_of(s);
    int64_t now = engine_now(rt->engine);
    if (rs && rs->chooser_back_ms) {
        if (now < rs->chooser_back_ms)
            return EVICT_CHOOSER_LRU;
        rs->chooser_back_ms = 0;
    }
    int pick = policy_choose(rt->policy, s, c, n);
    if (!rs)
        return pick;
    if (pick >= 0) {
        rs->chooser_failures = 0;
        return pick;
    }
    if (++rs->chooser_failures < RUNTIME_CHOOSER_FAILURES)
        return pick;
    rs->chooser_failures = 0;
    rs->chooser_back_ms = now + RUNTIME_CHOOSER_ASIDE_MS;
    policy_info_t in;
    policy_get_info(rt->policy, &in);
    alert_t a = {.time_ms = now, .severity = ALERT_WARNING};
    snprintf(a.kind, sizeof(a.kind), "chooser_set_aside");
    snprintf(a.session, sizeof(a.session), "%.*s", (int)s->name_len, s->name);
    snprintf(a.message, sizeof(a.message), "the chooser failed %d times in a row: this session "
             "evicts by lru for %d s. Last: %.300s", RUNTIME_CHOOSER_FAILURES,
             RUNTIME_CHOOSER_ASIDE_MS / 1000, in.last_error);
    alerts_raise(rt->alerts, &a);
    log_event(LOG_WARN, "chooser set aside", "session", a.session, "error", in.last_error, NULL);
    return pick;
}
