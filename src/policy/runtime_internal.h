/* runtime_internal: the runtime as runtime.c, admission.c and actions.c
 * share it. Internal to the policy floor; the outside uses runtime.h. */
#ifndef POLICYD_POLICY_RUNTIME_INTERNAL_H
#define POLICYD_POLICY_RUNTIME_INTERNAL_H

#include "policy/bytecode_cache.h"
#include "policy/growth.h"
#include "policy/runtime.h"

/* What the runtime keeps for each session (s->runtime_data), made on
 * first need. */
typedef struct runtime_session {
    growth_t growth;         /* bytes per sample */
    int chooser_failures;    /* in a row */
    int64_t chooser_back_ms; /* engine ms the set-aside chooser returns; 0: in use */
} runtime_session_t;

/* runtime.c: the session's, made if absent; NULL when out of memory. */
runtime_session_t *runtime_session_of(session_t *s);

struct runtime {
    policy_t *policy;
    engine_t *engine;
    alerts_t *alerts;
    bytecode_cache_t *cache;      /* the helpers' bytecode, for every (re)load */
    runtime_options_t options;
    int64_t next_sample;   /* engine ms */
    int failures;          /* failed samples in a row */
    bool degraded;
    policy_actions_t log;  /* applied actions, for tests and ALERTS */
    growth_t outside;      /* process bytes outside sessions, per sample */
    int64_t stats_at;      /* when jemalloc's figures were last refreshed */
    const session_t *opening; /* a session being opened: not to be dropped */
    bool admitting;           /* applying on_session_open's actions */
    policy_actions_t deferred; /* on_session_open's actions but drops, applied
                                  once the session it opened stays */
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

/* runtime.c: a snapshot for a hook (the caller frees snap->list), leaving
 * out `skip`, a session being opened. */
void runtime_snapshot(runtime_t *rt, policy_snapshot_t *snap, const session_t *skip);

/* admission.c: the engine's hooks, pointed at the runtime. */
bool runtime_on_full(void *ud, engine_t *e, const void *name, size_t len);
pd_status runtime_on_open(void *ud, engine_t *e, session_t *s);
void runtime_on_drop(void *ud, engine_t *e, session_t *s);
int runtime_choose(void *ud, session_t *s, const evict_candidate_t *c, size_t n);

/* actions.c: applies an action a hook recorded, and logs it (its session
 * name moves into the log). */
void runtime_apply(runtime_t *rt, policy_action_t *a);

/* actions.c: keeps an action of on_session_open's (it moves) until the
 * command that opened the session ends: applied if the session stays,
 * dropped if not (the engine's on_settle). */
void runtime_defer(runtime_t *rt, policy_action_t *a);
void runtime_on_settle(void *ud, engine_t *e, bool kept);

#endif
