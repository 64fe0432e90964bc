/* host: see host.h. */
#include "policy/runtime.h"

#include "policy/bytecode_cache.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ALERT_RING 1024
#define RUNTIME_STATS_REFRESH_MS 10000

struct runtime {
    policy_t *policy;
    engine_t *engine;
    alerts_t *alerts;
    bytecode_cache_t *cache;      /* the helpers' bytecode, for every (re)load */
    uint64_t seed;
    int64_t next_sample;   /* engine ms */
    int failures;          /* failed samples in a row */
    bool degraded;
    policy_actions_t log;  /* applied actions, for tests and ALERTS */
    growth_t outside;      /* process bytes outside sessions, per sample */
    int64_t stats_at;      /* when jemalloc's figures were last refreshed */
    const session_t *opening; /* a session being opened: not to be dropped */
    char refusal[512];        /* why the last session was refused */
    int64_t loaded_at;        /* unix seconds */
    uint64_t reloads, reload_failures;
    char last_error[1024];
    int64_t logged_at;        /* engine ms of the last logged hook failure */
    /* The admission decision taken when the system was full (on_full), for
     * the on_open of the same session that follows. */
    struct {
        char *name;
        size_t len;
        int rc;
        session_limits_t lim;
        int strategy;
    } pending;
};

static void apply(runtime_t *h, policy_action_t *a);


/* --- engine hooks -------------------------------------------------------- */

static double growth_slope(const growth_t *g)
{
    if (!g || g->n < 2)
        return 0;
    /* Centered on the mean time and bytes: raw sums of t and t^2 lose every
     * digit to cancellation once the clock reads months. */
    double mt = 0, mb = 0;
    for (int i = 0; i < g->n; i++) {
        mt += g->t[i];
        mb += g->b[i];
    }
    mt /= g->n;
    mb /= g->n;
    double stt = 0, stb = 0;
    for (int i = 0; i < g->n; i++) {
        stt += (g->t[i] - mt) * (g->t[i] - mt);
        stb += (g->t[i] - mt) * (g->b[i] - mb);
    }
    return stt > 0 ? stb / stt * 60.0 : 0;
}

/* Builds a snapshot (the caller frees snap->list), leaving out `skip`. */
static void snapshot(runtime_t *h, policy_snapshot_t *snap, const session_t *skip)
{
    engine_stats_t st;
    engine_stats(h->engine, false, &st);
    *snap = (policy_snapshot_t){
        .time = (double)engine_now(h->engine) / 1000.0,
        .bytes = st.bytes,
        .allocated = st.process.allocated,
        .resident = st.process.resident,
        .limit_bytes = st.limit_bytes,
        .sessions = st.sessions,
        .limit_sessions = st.limit_sessions,
        .outside_bytes = st.process.allocated > st.bytes ? st.process.allocated - st.bytes : 0,
        .outside_growth_bytes_per_min = growth_slope(&h->outside),
    };
    session_t **sorted = malloc((st.sessions ? st.sessions : 1) * sizeof(*sorted));
    policy_session_snap_t *list = malloc((st.sessions + 1) * sizeof(*list));
    if (!sorted || !list) {
        free(sorted);
        free(list);
        return;
    }
    uint32_t total = engine_sessions_by_name(h->engine, sorted);
    size_t n = 0;
    for (uint32_t i = 0; i < total; i++)
        if (sorted[i] != skip)
            list[n++] = (policy_session_snap_t){sorted[i], growth_slope(sorted[i]->growth)};
    free(sorted);
    snap->list = list;
    snap->len = n;
    snap->sessions = (uint32_t)n; /* a session being opened is not in yet */
}

static void builtin_limits(session_t *s)
{
    session_set_strategy(s, EVICT_LRU);
    session_set_limits(s, (session_limits_t){RUNTIME_BUILTIN_SESSION_BYTES,
                                             RUNTIME_BUILTIN_SESSION_ENTRIES});
}

/* Runs on_session_open for `name` and applies its actions (none if it
 * failed). Returns policy_on_session_open's answer. */
static int admit(runtime_t *h, const char *name, size_t len, const session_t *skip,
                 session_limits_t *lim, int *strategy)
{
    policy_snapshot_t snap = {0};
    char err[512];
    policy_actions_t acts = {0};
    snapshot(h, &snap, skip);
    *strategy = -1;
    int rc = policy_on_session_open(h->policy, name, len, &snap, lim, strategy, &acts,
                                    err, sizeof(err));
    free((void *)snap.list);
    if (rc == 2)
        snprintf(h->refusal, sizeof(h->refusal), "%s", err);
    for (size_t i = 0; i < acts.len; i++)
        apply(h, &acts.items[i]);
    policy_actions_free(&acts);
    return rc;
}

/* The system holds limit_sessions: the policy's on_session_open may make
 * room (act.drop); its answer is kept for the on_open that follows. */
static void pending_clear(runtime_t *h)
{
    free(h->pending.name);
    h->pending.name = NULL;
}

static bool on_full(void *ud, engine_t *e, const void *name, size_t len)
{
    runtime_t *h = ud;
    pending_clear(h);
    if (h->degraded)
        return false; /* built-in limits: no admission by policy */
    uint32_t before = engine_session_count(e);
    int rc = admit(h, name, len, NULL, &h->pending.lim, &h->pending.strategy);
    /* The decision holds only for the on_open that follows at once, which
     * happens only if room was made. */
    if (rc == 2 || engine_session_count(e) >= before)
        return false;
    h->pending.name = malloc(len ? len : 1);
    if (!h->pending.name)
        return false;
    memcpy(h->pending.name, name, len);
    h->pending.len = len;
    h->pending.rc = rc;
    return true;
}

/* Limits from on_session_open's table: what it left out comes from the
 * policy's limits, as if it had said only what differs. */
static void merge_limits(runtime_t *h, session_t *s, session_limits_t lim, int strategy)
{
    if (policy_apply_limits(h->policy, s) != 0)
        builtin_limits(s);
    session_limits_t now = s->limits;
    if (lim.bytes)
        now.bytes = lim.bytes;
    if (lim.entries)
        now.entries = lim.entries;
    if (strategy >= 0)
        session_set_strategy(s, (evict_kind)strategy);
    session_set_limits(s, now);
}

static bool on_open(void *ud, engine_t *e, session_t *s)
{
    (void)e;
    runtime_t *h = ud;
    if (h->degraded) {
        pending_clear(h);
        builtin_limits(s);
        return true;
    }
    session_limits_t lim = {0};
    int strategy = -1;
    int rc;
    if (h->pending.name && h->pending.len == s->name_len &&
        memcmp(h->pending.name, s->name, s->name_len) == 0) {
        rc = h->pending.rc;
        lim = h->pending.lim;
        strategy = h->pending.strategy;
    } else {
        h->opening = s;
        rc = admit(h, s->name, s->name_len, s, &lim, &strategy);
        h->opening = NULL;
    }
    pending_clear(h);
    if (rc == 2)
        return false;
    if (rc == 1)
        merge_limits(h, s, lim, strategy);
    else if (policy_apply_limits(h->policy, s) != 0)
        builtin_limits(s); /* the limits function failed: never unlimited */
    return true;
}

static void on_drop(void *ud, engine_t *e, session_t *s)
{
    (void)ud;
    (void)e;
    free(s->growth);
    s->growth = NULL;
}

static int choose(void *ud, session_t *s, const evict_candidate_t *c, size_t n)
{
    return policy_choose(((runtime_t *)ud)->policy, s, c, n);
}

/* --- life cycle ---------------------------------------------------------- */

runtime_t *runtime_create(const char *path, uint64_t seed, char *err, size_t errlen)
{
    runtime_t *h = calloc(1, sizeof(*h));
    if (!h) {
        snprintf(err, errlen, "%s:1: out of memory", path);
        return NULL;
    }
    h->seed = seed;
    h->loaded_at = (int64_t)time(NULL);
    h->cache = bytecode_cache_create();
    if (!h->cache) {
        snprintf(err, errlen, "%s:1: out of memory", path);
        free(h);
        return NULL;
    }
    policy_config_t pcfg = {.seed = seed, .cache = h->cache};
    h->policy = policy_load(path, &pcfg, err, errlen);
    h->alerts = alerts_create(ALERT_RING);
    if (!h->policy || !h->alerts) {
        if (h->policy)
            snprintf(err, errlen, "%s:1: out of memory", path);
        runtime_destroy(h);
        return NULL;
    }
    return h;
}

void runtime_configure(runtime_t *h, engine_config_t *cfg)
{
    policy_configure(h->policy, cfg);
    cfg->chooser = choose;
    cfg->chooser_ud = h;
    cfg->on_open = on_open;
    cfg->on_open_ud = h;
    cfg->on_drop = on_drop;
    cfg->on_drop_ud = h;
    cfg->on_full = on_full;
    cfg->on_full_ud = h;
}

static int64_t interval_ms(const runtime_t *h)
{
    policy_info_t in;
    policy_get_info(h->policy, &in);
    int64_t ms = (int64_t)(in.sample_interval * 1000.0 + 0.5);
    return ms > 0 ? ms : 1000;
}

void runtime_attach(runtime_t *h, engine_t *e)
{
    h->engine = e;
    h->next_sample = engine_now(e) + interval_ms(h);
}

void runtime_destroy(runtime_t *h)
{
    if (!h)
        return;
    policy_free(h->policy);
    bytecode_cache_free(h->cache);
    alerts_destroy(h->alerts);
    policy_actions_free(&h->log);
    free(h->pending.name);
    free(h);
}

alerts_t *runtime_alerts(runtime_t *h) { return h->alerts; }
policy_t *runtime_policy(runtime_t *h) { return h->policy; }
bool runtime_degraded(const runtime_t *h) { return h->degraded; }
const policy_actions_t *runtime_actions(const runtime_t *h) { return &h->log; }
int64_t runtime_next_sample(const runtime_t *h) { return h->next_sample; }
const char *runtime_refusal(const runtime_t *h) { return h->refusal; }
double runtime_session_growth(const session_t *s) { return growth_slope(s->growth); }

void runtime_get_info(const runtime_t *h, runtime_info_t *out)
{
    policy_info_t in;
    policy_get_info(h->policy, &in);
    *out = (runtime_info_t){
        .path = in.path,
        .sha256 = in.sha256,
        .loaded_at = h->loaded_at,
        .reloads = h->reloads,
        .reload_failures = h->reload_failures,
        .hook_errors = in.hook_errors,
        .last_error = h->last_error[0] ? h->last_error : in.last_error,
        .strategy = in.strategy,
        .sample_interval = in.sample_interval,
        .degraded = h->degraded,
    };
}

/* --- samples and actions ------------------------------------------------- */

static void growth_add(growth_t *g, double t, double bytes)
{
    g->t[g->head] = t;
    g->b[g->head] = bytes;
    g->head = (g->head + 1) % RUNTIME_GROWTH_WINDOW;
    if (g->n < RUNTIME_GROWTH_WINDOW)
        g->n++;
}

static void record_growth(runtime_t *h, double t)
{
    for (session_t *s = engine_next(h->engine, NULL); s; s = engine_next(h->engine, s)) {
        if (!s->growth && !(s->growth = calloc(1, sizeof(growth_t))))
            continue;
        growth_add(s->growth, t, (double)session_bytes(s));
    }
    /* jemalloc's epoch walks every arena (about 80 ms at 4,000): refresh
     * its figures at most every RUNTIME_STATS_REFRESH_MS of engine time. */
    int64_t now = engine_now(h->engine);
    bool refresh = now - h->stats_at >= RUNTIME_STATS_REFRESH_MS || h->stats_at == 0;
    if (refresh)
        h->stats_at = now;
    if (!refresh)
        return;
    /* The process's rate is taken at refreshes only, so its window (10
     * refreshes) spans real change, not repeats of a cached figure. */
    engine_stats_t st;
    engine_stats(h->engine, true, &st);
    growth_add(&h->outside, t,
               st.process.allocated > st.bytes ? (double)(st.process.allocated - st.bytes) : 0);
}

/* Moves the action (and its name) into the log. */
static void log_action(runtime_t *h, policy_action_t *a)
{
    policy_actions_t *log = &h->log;
    if (log->len == RUNTIME_ACTION_LOG) {
        free(log->items[0].session);
        memmove(log->items, log->items + 1, (log->len - 1) * sizeof(*log->items));
        log->len--;
    }
    if (log->len == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 64;
        policy_action_t *items = realloc(log->items, cap * sizeof(*items));
        if (!items)
            return;
        log->items = items;
        log->cap = cap;
    }
    log->items[log->len++] = *a;
    a->session = NULL;
}

static void apply(runtime_t *h, policy_action_t *a)
{
    session_t *s = a->has_session ? engine_find(h->engine, a->session, a->session_len) : NULL;
    switch (a->op) {
    case POLICY_ALERT:
        a->alert.time_ms = engine_now(h->engine);
        alerts_raise(h->alerts, &a->alert);
        break;
    case POLICY_EVICT:
        if (s) {
            uint64_t target = a->use_to
                ? (uint64_t)(a->to * (double)(s->limits.bytes ? s->limits.bytes : session_bytes(s)))
                : (session_bytes(s) > a->bytes ? session_bytes(s) - a->bytes : 0);
            session_evict_to(s, target);
        }
        break;
    case POLICY_PURGE:
        if (s)
            arena_purge(&s->store.arena);
        else if (!a->has_session)
            for (session_t *x = engine_next(h->engine, NULL); x; x = engine_next(h->engine, x))
                arena_purge(&x->store.arena);
        break;
    case POLICY_CLEAR:
        if (s)
            session_clear(s);
        break;
    case POLICY_DROP:
        if (s && s != h->opening)
            engine_drop(h->engine, s);
        break;
    case POLICY_DENY_WRITES:
        if (s)
            s->writes_denied = a->deny;
        break;
    case POLICY_SET_LIMITS:
        if (s) {
            /* A field the policy left out keeps its value (0 is never valid). */
            session_limits_t lim = s->limits;
            if (a->limits.bytes)
                lim.bytes = a->limits.bytes;
            if (a->limits.entries)
                lim.entries = a->limits.entries;
            if (a->strategy >= 0)
                session_set_strategy(s, (evict_kind)a->strategy);
            session_set_limits(s, lim);
        }
        break;
    case POLICY_LOG:
        log_event(log_level_parse(a->level) < 0 ? LOG_INFO : (log_level)log_level_parse(a->level),
                  "policy", "message", a->alert.message, NULL);
        break;
    }
    log_action(h, a);
}

static void degrade(runtime_t *h, const char *err)
{
    h->degraded = true;
    alert_t a = {.time_ms = engine_now(h->engine), .severity = ALERT_CRITICAL};
    snprintf(a.kind, sizeof(a.kind), "policy_degraded");
    snprintf(a.message, sizeof(a.message), "%d failed samples in a row: built-in "
             "limits until a good reload. Last: %.380s", RUNTIME_MAX_FAILURES, err);
    alerts_raise(h->alerts, &a);
    engine_set_limits(h->engine, RUNTIME_BUILTIN_SYSTEM_BYTES, RUNTIME_BUILTIN_SYSTEM_SESSIONS);
    for (session_t *s = engine_next(h->engine, NULL); s; s = engine_next(h->engine, s))
        builtin_limits(s);
}

void runtime_sample(runtime_t *h)
{
    double now = (double)engine_now(h->engine) / 1000.0;
    h->next_sample = engine_now(h->engine) + interval_ms(h);
    record_growth(h, now);
    if (h->degraded)
        return;
    policy_snapshot_t snap;
    snapshot(h, &snap, NULL);
    policy_actions_t acts = {0};
    char err[512];
    int rc = policy_on_sample(h->policy, &snap, &acts, err, sizeof(err));
    free((void *)snap.list);
    alerts_begin_sample(h->alerts);
    if (rc == 0) {
        h->failures = 0;
        for (size_t i = 0; i < acts.len; i++)
            apply(h, &acts.items[i]);
    } else if (rc < 0) {
        snprintf(h->last_error, sizeof(h->last_error), "%s", err);
        /* Logged at most every 10 s, so a failing policy cannot flood. */
        int64_t now_ms = engine_now(h->engine);
        if (h->logged_at == 0 || now_ms - h->logged_at >= 10000) {
            log_event(LOG_ERROR, "policy hook failed", "error", err, NULL);
            h->logged_at = now_ms;
        }
        if (++h->failures >= RUNTIME_MAX_FAILURES)
            degrade(h, err);
    }
    alerts_end_sample(h->alerts);
    policy_actions_free(&acts);
}

int runtime_reload(runtime_t *h, const char *path, char *err, size_t errlen)
{
    policy_config_t pcfg = {.seed = h->seed, .cache = h->cache};
    policy_t *next = policy_load(path, &pcfg, err, errlen);
    if (next && policy_take_state(next, h->policy, err, errlen) != 0) {
        policy_free(next);
        next = NULL;
    }
    if (!next) {
        h->reload_failures++;
        snprintf(h->last_error, sizeof(h->last_error), "%s", err);
        return -1;
    }
    h->reloads++;
    h->loaded_at = (int64_t)time(NULL);
    policy_free(h->policy);
    h->policy = next;
    h->degraded = false;
    h->failures = 0;
    policy_info_t in;
    policy_get_info(next, &in);
    engine_set_limits(h->engine, in.system_bytes, in.system_sessions);
    for (session_t *s = engine_next(h->engine, NULL); s; s = engine_next(h->engine, s))
        if (policy_apply_limits(next, s) != 0)
            builtin_limits(s);
    h->next_sample = engine_now(h->engine) + interval_ms(h);
    return 0;
}
