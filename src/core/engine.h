/* engine: the registry of sessions, the system budget and the clock: the C
 * API every front end (daemon, Lua module, tests) uses.
 *
 * Single-threaded: one thread calls the engine. Sessions are found by name,
 * created by writes (engine_open) and dropped at once with their arena. The
 * engine hands its sessions an environment (env.h) with the clock, the
 * sampler, the chooser and a way to make room under the system budget, so
 * nothing below it calls back up. */
#ifndef POLICYD_CORE_ENGINE_H
#define POLICYD_CORE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/env.h"
#include "core/evict/evict.h"
#include "core/session.h"
#include "core/status.h"

typedef struct engine engine_t;

/* Milliseconds on a monotonic clock. */
typedef int64_t (*engine_clock_fn)(void *ud);

/* Called when a session must be created but the system holds limit_sessions
 * already. It may drop a session (engine_drop) to make room: return true to
 * retry, false to refuse with PD_NOSESSION. */
typedef bool (*engine_full_fn)(void *ud, engine_t *e, const void *name, size_t len);

/* Called when a session has just been created, before the write that
 * created it: a front end sets the session's limits and strategy (from its
 * policy). Any status but PD_OK refuses the session: it is dropped again
 * and the write gets that status (PD_REFUSED, PD_POLICYERR). */
typedef pd_status (*engine_open_fn)(void *ud, engine_t *e, session_t *s);

/* Called just before a session is dropped, so a front end can free what it
 * keeps in the session (s->runtime_data). */
typedef void (*engine_drop_fn)(void *ud, engine_t *e, session_t *s);

/* Called when a command ends (engine_end_command): `kept` says whether a
 * session it opened stays, so a front end can apply what it put off until
 * then (a policy's on_session_open actions), or let it go. */
typedef void (*engine_settle_fn)(void *ud, engine_t *e, bool kept);

typedef struct engine_config {
    engine_clock_fn clock;     /* NULL: CLOCK_MONOTONIC */
    void *clock_ud;
    uint64_t seed;             /* hashing and sampling */
    uint64_t limit_bytes;      /* system budget, 0 = none */
    uint32_t limit_sessions;   /* 0 = as many as jemalloc's arenas allow */
    session_limits_t session_limits; /* for new sessions */
    evict_kind strategy;       /* for new sessions */
    uint32_t sample_size;      /* chooser candidates; 0 = 5 */
    uint32_t max_name;         /* bytes in a session name; 0 = ENGINE_MAX_NAME */
    int64_t lfu_decay_ms;      /* lfu: what one use is worth; 0 = 60 s */
    evict_chooser_fn chooser;  /* the chooser strategy; NULL falls back to LRU */
    void *chooser_ud;
    engine_full_fn on_full;    /* NULL: refuse new sessions when full */
    void *on_full_ud;
    engine_open_fn on_open;    /* NULL: new sessions take session_limits */
    void *on_open_ud;
    engine_drop_fn on_drop;
    void *on_drop_ud;
    engine_settle_fn on_settle;
    void *on_settle_ud;
} engine_config_t;

/* System-wide figures. The jemalloc ones are as of the last refresh. */
typedef struct engine_stats {
    uint64_t bytes;          /* sum of session bytes (inline) */
    uint64_t entries;
    uint32_t sessions;
    uint64_t limit_bytes;
    uint32_t limit_sessions;
    uint32_t max_sessions;   /* what jemalloc's arenas allow */
    uint32_t max_arena_index;
    arena_process_stats_t process;
} engine_stats_t;

/* NULL on failure (out of memory, or cfg asks for more than jemalloc can
 * give). The engine copies cfg. */
engine_t *engine_create(const engine_config_t *cfg);

/* Drops every session and frees the engine. */
void engine_destroy(engine_t *e);

int64_t engine_now(const engine_t *e);

/* Session names are bounded: they flow into policies, logs, alerts and
 * replies. */
#define ENGINE_MAX_NAME 256

/* The longest session name this engine takes, in bytes. */
uint32_t engine_max_name(const engine_t *e);

/* The session named `name`, or NULL. */
session_t *engine_find(engine_t *e, const void *name, size_t len);

/* The session named `name`, for a write: created if absent, as part of the
 * running command (see engine_end_command). PD_OK, PD_BADNAME (longer than
 * engine_max_name), PD_NOSESSION (limit or arenas exhausted, or the
 * session was given up to admit another in this command), PD_REFUSED or
 * PD_POLICYERR (from on_open), PD_NOMEM. */
pd_status engine_open(engine_t *e, const void *name, size_t len, session_t **out);

/* A write command's sessions (DESIGN.md §4: a session comes into being
 * only when a write stores something). A session engine_open creates is
 * provisional until the command ends; the sessions a policy gives up to
 * make room for it (engine_doom, from on_full) are dropped only then, and
 * only if a provisional session then holds something. A session the
 * command opened for a write is never given up in it. */

/* Marks s to be dropped when the command ends: true, or false when the
 * command writes s (or it is marked already). */
bool engine_doom(engine_t *e, session_t *s);

/* Ends the running command: provisional sessions still empty go, without
 * a word to the policy; the doomed go if a provisional session stayed,
 * else they stay. Every front end calls it after each command. */
void engine_end_command(engine_t *e);

/* Sessions that stay once the running command ends, as far as is known:
 * live ones but the doomed. */
uint32_t engine_sessions_staying(const engine_t *e);

/* The session that owns `key`, created if `create` (see session_name_of_key).
 * Returns NULL if it does not exist (or could not be created: *status). */
session_t *engine_session_for_key(engine_t *e, const void *key, size_t klen,
                                  bool create, pd_status *status);

/* Drops a session and everything in it. */
void engine_drop(engine_t *e, session_t *s);

/* Drops every session. */
void engine_drop_all(engine_t *e);

/* Clears every session (session_clear): all entries go, sessions stay. */
void engine_flush_all(engine_t *e);

/* Sessions in registry order: start with NULL; NULL at the end. */
session_t *engine_next(engine_t *e, session_t *prev);

/* Fills `out` (room for engine_session_count) with the sessions sorted by
 * name, bytewise, a shorter name first when one is a prefix of the other;
 * returns how many. O(n log n): for commands that list sessions. */
uint32_t engine_sessions_by_name(engine_t *e, session_t **out);

uint32_t engine_session_count(const engine_t *e);

/* Sum of session bytes, kept inline. */
uint64_t engine_bytes(const engine_t *e);

/* Changes the system budget and evicts at once to meet it, from the
 * largest session first (limit_sessions applies to new sessions only). */
void engine_set_limits(engine_t *e, uint64_t limit_bytes, uint32_t limit_sessions);

/* Active expiry: removes up to `max` expired entries across sessions,
 * resuming where the last call stopped. Returns how many. */
size_t engine_expire_step(engine_t *e, size_t max);

/* Visits up to `count` entries across sessions, from `cursor` (0 to start);
 * returns the cursor to resume from, 0 when done. */
uint64_t engine_scan(engine_t *e, uint64_t cursor, size_t count,
                     session_visit_fn fn, void *ud);

/* Refreshes jemalloc's statistics for a command that shows them, rate-
 * limited: always while the engine holds few sessions (the refresh walks
 * every arena: about 0.2 ms at 15, 54 ms at 4,000), else at most once per
 * ENGINE_REFRESH_MS of engine time. */
#define ENGINE_REFRESH_MS 1000
#define ENGINE_REFRESH_ALWAYS 64
void engine_refresh_stats(engine_t *e);

/* System figures; refreshes jemalloc's statistics if `refresh`. */
void engine_stats(engine_t *e, bool refresh, engine_stats_t *out);

#endif
