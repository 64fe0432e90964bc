/* runtime: see runtime.h. Its life cycle, samples and reloads; admission.c
 * holds the engine's hooks and actions.c applies what hooks ask for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/runtime_internal.h"
#include "util/log.h"

#define ALERT_RING 1024
#define RUNTIME_STATS_REFRESH_MS 10000

/* How every policy of the runtime is loaded. */
static sandbox_config_t load_config(const runtime_t *rt)
{
    return (sandbox_config_t){.seed = rt->options.seed, .cache = rt->cache,
                              .clock = rt->options.clock, .clock_ud = rt->options.clock_ud};
}

runtime_t *runtime_create(const char *path, const runtime_options_t *opt, char *err,
                          size_t errlen)
{
    runtime_t *rt = calloc(1, sizeof(*rt));
    if (!rt) {
        snprintf(err, errlen, "%s:1: out of memory", path);
        return NULL;
    }
    rt->options = *opt;
    rt->loaded_at = (int64_t)time(NULL);
    rt->cache = bytecode_cache_create();
    if (!rt->cache) {
        snprintf(err, errlen, "%s:1: out of memory", path);
        free(rt);
        return NULL;
    }
    sandbox_config_t pcfg = load_config(rt);
    rt->policy = policy_load(path, &pcfg, err, errlen);
    rt->alerts = alerts_create(ALERT_RING);
    if (!rt->policy || !rt->alerts) {
        if (rt->policy)
            snprintf(err, errlen, "%s:1: out of memory", path);
        runtime_destroy(rt);
        return NULL;
    }
    return rt;
}

void runtime_configure(runtime_t *rt, engine_config_t *cfg)
{
    policy_configure(rt->policy, cfg);
    cfg->chooser = runtime_choose;
    cfg->chooser_ud = rt;
    cfg->on_open = runtime_on_open;
    cfg->on_open_ud = rt;
    cfg->on_drop = runtime_on_drop;
    cfg->on_drop_ud = rt;
    cfg->on_full = runtime_on_full;
    cfg->on_full_ud = rt;
    cfg->on_settle = runtime_on_settle;
    cfg->on_settle_ud = rt;
}

static int64_t interval_ms(const runtime_t *rt)
{
    policy_info_t in;
    policy_get_info(rt->policy, &in);
    int64_t ms = (int64_t)(in.sample_interval * 1000.0 + 0.5);
    return ms > 0 ? ms : 1000;
}

void runtime_attach(runtime_t *rt, engine_t *e)
{
    rt->engine = e;
    rt->next_sample = engine_now(e) + interval_ms(rt);
}

void runtime_destroy(runtime_t *rt)
{
    if (!rt)
        return;
    policy_free(rt->policy);
    bytecode_cache_free(rt->cache);
    alerts_destroy(rt->alerts);
    policy_actions_free(&rt->log);
    policy_actions_free(&rt->deferred);
    free(rt->pending.name);
    free(rt);
}

alerts_t *runtime_alerts(runtime_t *rt) { return rt->alerts; }
policy_t *runtime_policy(runtime_t *rt) { return rt->policy; }
const policy_actions_t *runtime_actions(const runtime_t *rt) { return &rt->log; }
int64_t runtime_next_sample(const runtime_t *rt) { return rt->next_sample; }
const char *runtime_refusal(const runtime_t *rt) { return rt->refusal; }

static const growth_t *growth_of(const session_t *s)
{
    const runtime_session_t *rs = s->runtime_data;
    return rs ? &rs->growth : NULL;
}

double runtime_session_growth(const session_t *s) { return growth_slope(growth_of(s)); }

runtime_session_t *runtime_session_of(session_t *s)
{
    if (!s->runtime_data)
        s->runtime_data = calloc(1, sizeof(runtime_session_t));
    return s->runtime_data;
}

void runtime_get_info(const runtime_t *rt, runtime_info_t *out)
{
    policy_info_t in;
    policy_get_info(rt->policy, &in);
    *out = (runtime_info_t){
        .path = in.path,
        .sha256 = in.sha256,
        .loaded_at = rt->loaded_at,
        .reloads = rt->reloads,
        .reload_failures = rt->reload_failures,
        .hook_errors = in.hook_errors,
        .last_error = rt->last_error[0] ? rt->last_error : in.last_error,
        .strategy = in.strategy,
        .sample_interval = in.sample_interval,
        .degraded = rt->degraded,
    };
}

/* --- samples ------------------------------------------------------------- */

void runtime_snapshot(runtime_t *rt, policy_snapshot_t *snap, const session_t *skip)
{
    engine_stats_t st;
    engine_stats(rt->engine, false, &st);
    *snap = (policy_snapshot_t){
        .time = (double)engine_now(rt->engine) / 1000.0,
        .bytes = st.bytes,
        .allocated = st.process.allocated,
        .resident = st.process.resident,
        .limit_bytes = st.limit_bytes,
        .sessions = st.sessions,
        .limit_sessions = st.limit_sessions,
        .outside_bytes = st.process.allocated > st.bytes ? st.process.allocated - st.bytes : 0,
        .outside_growth_bytes_per_min = growth_slope(&rt->outside),
    };
    session_t **sorted = malloc((st.sessions ? st.sessions : 1) * sizeof(*sorted));
    policy_session_snap_t *list = malloc((st.sessions + 1) * sizeof(*list));
    if (!sorted || !list) {
        free(sorted);
        free(list);
        return;
    }
    uint32_t total = engine_sessions_by_name(rt->engine, sorted);
    size_t n = 0;
    for (uint32_t i = 0; i < total; i++)
        if (sorted[i] != skip)
            list[n++] = (policy_session_snap_t){sorted[i], growth_slope(growth_of(sorted[i]))};
    free(sorted);
    snap->list = list;
    snap->len = n;
    snap->sessions = (uint32_t)n; /* a session being opened is not in yet */
}

static void record_growth(runtime_t *rt, double t)
{
    for (session_t *s = engine_next(rt->engine, NULL); s; s = engine_next(rt->engine, s)) {
        runtime_session_t *rs = runtime_session_of(s);
        if (rs)
            growth_add(&rs->growth, t, (double)session_bytes(s));
    }
    /* jemalloc's epoch walks every arena (about 80 ms at 4,000): refresh
     * its figures at most every RUNTIME_STATS_REFRESH_MS of engine time. */
    int64_t now = engine_now(rt->engine);
    bool refresh = now - rt->stats_at >= RUNTIME_STATS_REFRESH_MS || rt->stats_at == 0;
    if (refresh)
        rt->stats_at = now;
    if (!refresh)
        return;
    /* The process's rate is taken at refreshes only, so its window (10
     * refreshes) spans real change, not repeats of a cached figure. */
    engine_stats_t st;
    engine_stats(rt->engine, true, &st);
    growth_add(&rt->outside, t,
               st.process.allocated > st.bytes ? (double)(st.process.allocated - st.bytes) : 0);
}

/* Too many failed samples: no more on_sample until a good reload. The
 * sessions keep the last good limits and strategy: a typo in a hook must
 * not cut every tenant down to built-in budgets. */
static void degrade(runtime_t *rt, const char *err)
{
    rt->degraded = true;
    alert_t a = {.time_ms = engine_now(rt->engine), .severity = ALERT_CRITICAL};
    snprintf(a.kind, sizeof(a.kind), "policy_degraded");
    snprintf(a.message, sizeof(a.message), "%d failed samples in a row: on_sample is no longer "
             "called until a good reload; limits stay as they are. Last: %.330s",
             RUNTIME_MAX_FAILURES, err);
    alerts_raise(rt->alerts, &a);
}

void runtime_sample(runtime_t *rt)
{
    double now = (double)engine_now(rt->engine) / 1000.0;
    rt->next_sample = engine_now(rt->engine) + interval_ms(rt);
    record_growth(rt, now);
    if (rt->degraded)
        return;
    policy_snapshot_t snap;
    runtime_snapshot(rt, &snap, NULL);
    policy_actions_t acts = {0};
    char err[512];
    int rc = policy_on_sample(rt->policy, &snap, &acts, err, sizeof(err));
    free((void *)snap.list);
    alerts_begin_sample(rt->alerts);
    if (rc == 0) {
        rt->failures = 0;
        for (size_t i = 0; i < acts.len; i++)
            runtime_apply(rt, &acts.items[i]);
    } else if (rc < 0) {
        snprintf(rt->last_error, sizeof(rt->last_error), "%s", err);
        /* Logged at most every 10 s, so a failing policy cannot flood. */
        int64_t now_ms = engine_now(rt->engine);
        if (rt->logged_at == 0 || now_ms - rt->logged_at >= 10000) {
            log_event(LOG_ERROR, "policy hook failed", "error", err, NULL);
            rt->logged_at = now_ms;
        }
        if (++rt->failures >= RUNTIME_MAX_FAILURES)
            degrade(rt, err);
    }
    alerts_end_sample(rt->alerts);
    policy_actions_free(&acts);
}

/* The new policy's limits for every live session, worked out before the
 * swap: a limits function that fails for one fails the reload, and the old
 * policy stays. Returns 0 with the arrays filled (the caller frees them),
 * or -1 with err set. */
static int limits_for_all(runtime_t *rt, policy_t *next, session_t ***sessions,
                          session_limits_t **limits, int **strategies, uint32_t *n,
                          char *err, size_t errlen)
{
    *n = engine_session_count(rt->engine);
    *sessions = malloc((*n ? *n : 1) * sizeof(**sessions));
    *limits = malloc((*n ? *n : 1) * sizeof(**limits));
    *strategies = malloc((*n ? *n : 1) * sizeof(**strategies));
    if (!*sessions || !*limits || !*strategies) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *n = engine_sessions_by_name(rt->engine, *sessions);
    for (uint32_t i = 0; i < *n; i++) {
        session_t *s = (*sessions)[i];
        if (policy_session_limits(next, s->name, s->name_len, &(*limits)[i], &(*strategies)[i],
                                  err, errlen) != 0)
            return -1;
    }
    return 0;
}

int runtime_reload(runtime_t *rt, const char *path, char *err, size_t errlen)
{
    sandbox_config_t pcfg = load_config(rt);
    policy_t *next = policy_load(path, &pcfg, err, errlen);
    int taken = next ? policy_take_state(next, rt->policy, err, errlen) : -1;
    session_t **sessions = NULL;
    session_limits_t *limits = NULL;
    int *strategies = NULL;
    uint32_t n = 0;
    char dropped[512] = "";
    if (taken == 1)
        snprintf(dropped, sizeof(dropped), "%s", err);
    if (taken < 0 ||
        limits_for_all(rt, next, &sessions, &limits, &strategies, &n, err, errlen) != 0) {
        policy_free(next);
        free(sessions);
        free(limits);
        free(strategies);
        rt->reload_failures++;
        snprintf(rt->last_error, sizeof(rt->last_error), "%s", err);
        return -1;
    }
    rt->reloads++;
    rt->loaded_at = (int64_t)time(NULL);
    policy_free(rt->policy);
    rt->policy = next;
    rt->degraded = false;
    rt->failures = 0;
    policy_info_t in;
    policy_get_info(next, &in);
    engine_set_limits(rt->engine, in.system_bytes, in.system_sessions);
    for (uint32_t i = 0; i < n; i++) {
        session_set_limits(sessions[i], limits[i]);
        session_set_strategy(sessions[i],
                             strategies[i] < 0 ? EVICT_CHOOSER : (evict_kind)strategies[i]);
    }
    free(sessions);
    free(limits);
    free(strategies);
    if (dropped[0]) {
        alert_t a = {.time_ms = engine_now(rt->engine), .severity = ALERT_WARNING};
        snprintf(a.kind, sizeof(a.kind), "policy_state_dropped");
        snprintf(a.message, sizeof(a.message), "%.500s", dropped);
        alerts_raise(rt->alerts, &a);
    }
    rt->next_sample = engine_now(rt->engine) + interval_ms(rt);
    return 0;
}
