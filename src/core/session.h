/* session: one tenant's entries, in its own arena, under its own budget.
 *
 * Sessions are created and dropped by the engine (engine.h); this module
 * holds a session's data operations. Every byte a session holds (entries,
 * index, heaps) is in its store's arena and counted in store.arena.bytes;
 * its name and this struct are process memory. A call that returns leaves the session within
 * limit_bytes and limit_entries, and the system within its budget: writes
 * evict by the session's strategy to make room, and a write that can never
 * fit is refused before anything changes.
 *
 * Values returned as pointers (session_get, session_peek) stay valid until
 * the next engine call of any kind: reads remove expired keys on the way, so
 * a front end copies a value before it makes another call. */
#ifndef POLICYD_CORE_SESSION_H
#define POLICYD_CORE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/env.h"
#include "core/evict/evict.h"
#include "core/status.h"
#include "core/store.h"


typedef struct session_limits {
    uint64_t bytes;   /* 0 = no limit */
    uint64_t entries; /* 0 = no limit */
} session_limits_t;

typedef struct session_counters {
    uint64_t hits, misses;  /* reads that found / did not find a key */
    uint64_t writes;        /* successful writes */
    uint64_t evictions;     /* entries evicted to make room */
    uint64_t expirations;   /* entries removed because their TTL passed */
    uint64_t refused;       /* writes refused: too big, denied, system full */
} session_counters_t;

typedef struct session {
    store_t store;          /* entries, index, expiry heap, in the arena */
    evict_t evict;          /* the strategy and its structures */
    char *name;             /* NUL-terminated copy; may contain NULs */
    size_t name_len;
    uint32_t slot;          /* registry slot in the engine */
    uint32_t live_pos;      /* position in the engine's list of live sessions */
    bool live;
    bool writes_denied;     /* refuse writes that store data (deletes pass) */
    /* The running write command's (engine_end_command clears them): */
    bool touched;           /* on its list */
    bool written;           /* opened by it for a write: never its victim */
    bool provisional;       /* created by it: goes at its end if still empty */
    bool doomed;            /* its admission victim: goes at its end if a
                               provisional session stays */
    session_limits_t limits;
    int64_t used_ms;        /* last read or write (engine clock) */
    session_counters_t counters;
    void *runtime_data;     /* a front end's, for this session (the policy
                             * runtime keeps its byte samples here); freed
                             * by it in engine_config_t.on_drop */
} session_t;

/* SET options. */
enum {
    SESSION_SET_NX = 1 << 0,      /* only if the key does not exist */
    SESSION_SET_XX = 1 << 1,      /* only if the key exists */
    SESSION_SET_KEEPTTL = 1 << 2, /* keep the key's TTL */
};

/* TTL replies (milliseconds, as PTTL). */
#define SESSION_TTL_MISSING (-2)
#define SESSION_TTL_NONE (-1)

/* The session a key belongs to (DESIGN.md §4): the text inside the first
 * {...} when non-empty, else the text before the first ':', else "default".
 * *name points into key or at a static string. */
void session_name_of_key(const void *key, size_t klen, const char **name,
                         size_t *name_len);

/* Looks a key up. On PD_OK, *val and *vlen give the value (see the note on
 * lifetime above). Counts a hit or a miss and records the use. */
pd_status session_get(session_t *s, const void *key, size_t klen,
                      const unsigned char **val, size_t *vlen);

/* Like session_get without counting a hit or miss or recording a use. */
pd_status session_peek(session_t *s, const void *key, size_t klen,
                       const unsigned char **val, size_t *vlen);

/* Stores a value. flags: SESSION_SET_*. expire_at_ms > 0 sets an absolute
 * expiry (engine clock), 0 none (or the old one with KEEPTTL), < 0 is
 * PD_INVALID. An expiry not in the future leaves the key absent. PD_NOTSET
 * when NX/XX was not met. If old and old_len are given and the key existed, the old
 * value is copied into a malloc'd buffer the caller frees (SET ... GET),
 * whatever the status; *old is left alone when the key did not exist. */
pd_status session_set(session_t *s, const void *key, size_t klen,
                      const void *val, size_t vlen, int flags,
                      int64_t expire_at_ms, char **old, size_t *old_len);

/* What a SET of a value of vlen bytes would meet before changing anything:
 * PD_OK, PD_DENIED or PD_TOOBIG. Changes nothing (MSET checks every pair
 * first, so it writes all or nothing). */
pd_status session_check_set(session_t *s, const void *key, size_t klen, size_t vlen,
                            bool ttl);

/* Evicts until the session and the system are within their budgets again
 * (after a write that jemalloc refused may have left room taken). */
void session_settle(session_t *s);

/* Removes a key: PD_OK or PD_NOTFOUND. */
pd_status session_del(session_t *s, const void *key, size_t klen);

/* true if the key exists (not expired). No use is recorded. */
bool session_exists(session_t *s, const void *key, size_t klen);

/* Records a use without reading: PD_OK or PD_NOTFOUND. */
pd_status session_touch(session_t *s, const void *key, size_t klen);

/* Sets an absolute expiry in ms (engine clock); a time not in the future
 * deletes the key. PD_OK, PD_NOTFOUND, or a budget status. */
pd_status session_expire_at(session_t *s, const void *key, size_t klen,
                            int64_t at_ms);

/* Removes a key's expiry: PD_OK (removed), PD_NOTSET (had none), PD_NOTFOUND. */
pd_status session_persist(session_t *s, const void *key, size_t klen);

/* Milliseconds until expiry, SESSION_TTL_NONE or SESSION_TTL_MISSING. */
int64_t session_pttl(session_t *s, const void *key, size_t klen);

/* Appends to a value (creating it if absent); *new_len is the new length. */
pd_status session_append(session_t *s, const void *key, size_t klen,
                         const void *val, size_t vlen, size_t *new_len);

/* Adds delta to an integer value (absent counts as 0), Redis rules:
 * PD_NOTINT if the value is not a 64-bit integer, PD_OVERFLOW. */
pd_status session_incrby(session_t *s, const void *key, size_t klen,
                         int64_t delta, int64_t *result);

/* Length of the value, 0 if the key is absent. */
size_t session_strlen(session_t *s, const void *key, size_t klen);

/* Bytes one key costs its session: its allocation, its share of the index
 * and its heap nodes. PD_NOTFOUND if absent. */
pd_status session_memory_usage(session_t *s, const void *key, size_t klen,
                               uint64_t *bytes);

/* Visits live entries with ids >= cursor, taking one from *budget for each
 * entry looked at, until the budget is spent; returns the cursor to resume
 * from, 0 when done. Every key present for the whole scan is seen at least
 * once (ids are stable). The callback must not modify the session. */
typedef void (*session_visit_fn)(void *ud, session_t *s, const unsigned char *key,
                                 size_t klen);
uint32_t session_scan(session_t *s, uint32_t cursor, size_t *budget,
                      session_visit_fn fn, void *ud);

/* Removes every entry at once (a fresh arena); limits and counters stay. */
void session_clear(session_t *s);

/* Changes the session's limits and evicts at once to meet them. */
void session_set_limits(session_t *s, session_limits_t limits);

/* Changes the session's strategy. PD_OK or PD_NOMEM (old one kept). */
pd_status session_set_strategy(session_t *s, evict_kind kind);

/* Evicts until the session holds at most `bytes` (entries of at most that
 * many bytes of its own). Returns how many entries went. */
uint64_t session_evict_to(session_t *s, uint64_t bytes);

/* Evicts the strategy's next victim; false if the session has no entries. */
bool session_evict_one(session_t *s);

/* Removes up to `max` expired entries; returns how many. */
size_t session_expire_some(session_t *s, size_t max);

/* Number of entries and bytes. */
static inline uint64_t session_entries(const session_t *s) { return s->store.index.used; }
static inline uint64_t session_bytes(const session_t *s) { return s->store.arena.bytes; }

/* Sets up an empty session in an arena that exists (s->store.arena): the
 * engine's part of opening one. */
void session_init(session_t *s, env_t *env, evict_kind kind, uint32_t sample_size,
                  session_limits_t limits);

#endif
