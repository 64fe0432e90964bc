/* runtime: the long-lived policy runtime around a policy (policy.h) and an
 * engine. It owns the current policy and swaps it on reload, gives new
 * sessions their limits, runs samples (snapshot, growth rates, on_sample),
 * applies the actions a hook asked for, and delivers alerts. The engine's
 * hooks point at the runtime, so a reload never touches the engine's
 * configuration. */
#ifndef POLICYD_POLICY_RUNTIME_H
#define POLICYD_POLICY_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/alerts.h"
#include "core/engine.h"
#include "policy/policy.h"
#include "policy/sandbox.h"

typedef struct runtime runtime_t;

/* After this many failed samples in a row the policy is degraded: no more
 * on_sample (nor on_session_open) until a good reload, a policy_degraded
 * alert, and every session keeps its last good limits and strategy. */
#define RUNTIME_MAX_FAILURES 10

/* After this many failed chooser calls in a row for one session, the
 * session's chooser is set aside for RUNTIME_CHOOSER_ASIDE_MS of engine
 * time (it evicts by lru meanwhile), with a chooser_set_aside alert. This
 * is not degradation and does not count toward it. */
#define RUNTIME_CHOOSER_FAILURES 3
#define RUNTIME_CHOOSER_ASIDE_MS 60000

/* What POLICY INFO reports. */
typedef struct runtime_info {
    const char *path, *sha256;
    int64_t loaded_at;         /* unix seconds */
    uint64_t reloads, reload_failures, hook_errors;
    const char *last_error;    /* the last reload or hook failure, "" if none */
    int strategy;              /* an evict_kind, -1 for the policy's chooser */
    double sample_interval;
    bool degraded;
} runtime_info_t;

void runtime_get_info(const runtime_t *rt, runtime_info_t *out);

/* How a runtime runs its policies (every policy it loads). */
typedef struct runtime_options {
    uint64_t seed;             /* math.random's */
    sandbox_clock_fn clock;    /* hook deadlines are measured on it; NULL:
                                  CLOCK_MONOTONIC */
    void *clock_ud;
} runtime_options_t;

/* Loads the policy; NULL with "file:line: message" in err. */
runtime_t *runtime_create(const char *path, const runtime_options_t *opt, char *err,
                          size_t errlen);

/* Fills what the policy sets in an engine configuration (system limits,
 * strategy) and points the engine's hooks at the runtime. */
void runtime_configure(runtime_t *rt, engine_config_t *cfg);

/* Binds the runtime to the engine made from that configuration. */
void runtime_attach(runtime_t *rt, engine_t *e);

/* Frees the runtime and its policy (the engine is the caller's; destroy it
 * first, as its drops call the runtime). */
void runtime_destroy(runtime_t *rt);

/* One sample now. */
void runtime_sample(runtime_t *rt);

/* When the next sample is due (engine clock, ms). */
int64_t runtime_next_sample(const runtime_t *rt);

/* Loads `path` and swaps it in (on_reload gets the old act.state); the new
 * limits apply to every session at once. Returns 0, or -1 with err set and
 * the old policy kept. */
int runtime_reload(runtime_t *rt, const char *path, char *err, size_t errlen);

/* A session's growth rate (bytes per minute) as of the last sample. */
double runtime_session_growth(const session_t *s);

/* Why the policy refused the last session it refused. */
const char *runtime_refusal(const runtime_t *rt);

alerts_t *runtime_alerts(runtime_t *rt);
policy_t *runtime_policy(runtime_t *rt);

/* Every action applied so far, oldest first (the last RUNTIME_ACTION_LOG). */
#define RUNTIME_ACTION_LOG 4096
const policy_actions_t *runtime_actions(const runtime_t *rt);

#endif
