/* policy: a policy file, loaded. It runs in a fresh sandboxed Lua 5.4
 * state (sandbox.h: limited libraries, an instruction budget per call, a
 * byte cap on process malloc); the table it returns is validated and
 * normalized by lua/policyd/validate.lua (load.c). The hooks and the
 * chooser are called with the engine's data marshalled into Lua tables and
 * their answers read back (marshal.c); act.state crosses reloads
 * (state_copy.c). The runtime (runtime.h) owns the current policy. */
#ifndef POLICYD_POLICY_POLICY_H
#define POLICYD_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/alerts.h"
#include "core/engine.h"
#include "core/evict/evict.h"
#include "core/session.h"
#include "policy/sandbox.h"

typedef struct policy policy_t;

/* Loads and validates the policy at `path`. On failure returns NULL and
 * writes "file:line: message" into err. */
policy_t *policy_load(const char *path, const sandbox_config_t *cfg, char *err,
                      size_t errlen);

void policy_free(policy_t *p);

/* Fault injection for tests: from the n-th allocation of the Lua state on
 * (counted from now), every allocation fails, as if the state were at its
 * byte cap; 0 ends it. */
void policy_fail_allocs_from(policy_t *p, uint64_t n);

/* How long one call of each hook may run (nanoseconds; the policy's
 * `deadlines`, defaults filled). */
typedef struct policy_deadlines {
    uint64_t sample, session_open, limits, chooser;
} policy_deadlines_t;

/* What the policy file set (normalized; defaults filled). */
typedef struct policy_info {
    const char *name;            /* "" when unnamed */
    const char *path;
    const char *sha256;          /* of the file as loaded, hex */
    uint64_t system_bytes;       /* 0 = no limit */
    uint32_t system_sessions;    /* 0 = no limit */
    bool limits_function;        /* limits is a function of the session name */
    session_limits_t limits;     /* when limits is a table */
    int strategy;                /* an evict_kind, or -1 for a Lua chooser */
    double sample_interval;      /* seconds */
    policy_deadlines_t deadlines;
    size_t lua_bytes;            /* the Lua state's bytes (exact) */
    uint64_t hook_errors;        /* calls into the policy that failed */
    const char *last_error;      /* "" when none */
} policy_info_t;

void policy_get_info(const policy_t *p, policy_info_t *out);

/* The limits and strategy (an evict_kind, -1 for the policy's chooser) the
 * policy gives the session `name`. Returns 0, or -1 with err set when the
 * limits function fails or returns something invalid. */
int policy_session_limits(policy_t *p, const char *name, size_t len,
                          session_limits_t *out, int *strategy, char *err,
                          size_t errlen);

/* --- hooks: what the runtime hands a policy and gets back -------------------- */

typedef struct policy_session_snap {
    const session_t *session;      /* name, limits, counters, used/created */
    double growth_bytes_per_min;
} policy_session_snap_t;

typedef struct policy_snapshot {
    double time;                   /* engine clock, seconds */
    uint64_t bytes, allocated, resident, limit_bytes;
    uint32_t sessions, limit_sessions;
    uint64_t outside_bytes;        /* jemalloc allocated outside sessions */
    double outside_growth_bytes_per_min; /* the daemon's own leak indicator */
    const policy_session_snap_t *list; /* sorted by name */
    size_t len;
} policy_snapshot_t;

typedef enum policy_op {
    POLICY_ALERT, POLICY_EVICT, POLICY_PURGE, POLICY_CLEAR, POLICY_DROP,
    POLICY_DENY_WRITES, POLICY_SET_LIMITS, POLICY_LOG,
} policy_op;

/* One recorded action. The session name is an exact copy; the other
 * strings are truncated copies. policy_actions_free frees the names. */
typedef struct policy_action {
    policy_op op;
    bool has_session;
    char *session;                 /* malloc'd, exact bytes (may hold NUL) */
    size_t session_len;
    alert_t alert;                 /* POLICY_ALERT; the runtime sets the time */
    uint64_t bytes;                /* POLICY_EVICT: free this many, or */
    double to;                     /* down to this fraction of limit_bytes */
    bool use_to;
    bool deny;                     /* POLICY_DENY_WRITES */
    session_limits_t limits;       /* POLICY_SET_LIMITS */
    int strategy;                  /* an evict_kind, or -1 to keep */
    char level[16];                /* POLICY_LOG, with alert.message */
} policy_action_t;

typedef struct policy_actions {
    policy_action_t *items;
    size_t len, cap;
} policy_actions_t;

void policy_actions_free(policy_actions_t *a);

/* Calls on_sample(snap, act) under the budget. Returns 0 with the actions
 * appended to *out, 1 if the policy has no on_sample, or -1 with err set
 * (and nothing appended). */
int policy_on_sample(policy_t *p, const policy_snapshot_t *snap,
                     policy_actions_t *out, char *err, size_t errlen);

/* Calls on_session_open(name, snap, act) if the policy has one. Returns 0 to
 * admit with the policy's limits, 1 to admit with *lim and *strategy (the
 * hook returned a limits table), 2 to refuse (err holds the reason), or -1
 * on a hook error (err set; admit with the policy's limits). */
int policy_on_session_open(policy_t *p, const char *name, size_t len,
                           const policy_snapshot_t *snap, session_limits_t *lim,
                           int *strategy, policy_actions_t *out, char *err,
                           size_t errlen);

/* Hands `from`'s act.state to `to`: a deep copy of its plain data, passed to
 * to's on_reload(old_state), whose table result (if any) becomes to's
 * state. Returns 0; 1 when the old state could not be copied (too deep,
 * too large, or `to` out of memory): it is dropped, on_reload got an empty
 * table, and err says why; or -1 with err set when on_reload failed. */
int policy_take_state(policy_t *to, policy_t *from, char *err, size_t errlen);

/* Gives a session the policy's limits and strategy. Returns 0, or -1 when
 * the limits function failed (counted as a hook error; nothing applied). */
int policy_apply_limits(policy_t *p, session_t *s);

/* An evict_chooser_fn calling the policy's eviction function with the
 * candidates (tables: key, bytes, idle, age, hits, frequency, ttl; times in
 * seconds, ttl nil when none). It returns a candidate or its key; anything
 * else, or an error, is -1 (the engine falls back to LRU). */
int policy_choose(void *ud, session_t *s, const evict_candidate_t *c, size_t n);

/* Fills the engine configuration the policy asks for: system limits and
 * the strategy for new sessions (the runtime plugs in the chooser). */
void policy_configure(policy_t *p, engine_config_t *cfg);

#endif
