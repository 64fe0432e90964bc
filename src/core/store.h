/* store: where one session's entries live — its arena, its key index, its
 * expiry heap — and what the layers above read them with: an entry by id,
 * the bytes it holds, when it expires, the time in entry ticks. It keeps
 * the engine's environment for them (the clock, the sampler).
 *
 * It knows no strategy and decides no budget. Removing an entry is the
 * session's job (core/session.h): the strategy must let go of it too. */
#ifndef POLICYD_CORE_STORE_H
#define POLICYD_CORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/entry.h"
#include "core/env.h"
#include "core/heap.h"
#include "core/index.h"

typedef struct store {
    arena_t arena;      /* every byte below lives here */
    index_t index;      /* key -> entry id -> entry */
    heap_t expiry;      /* entries with a TTL, soonest expiry on top */
    env_t *env;         /* the engine's clock, sampler and system budget */
    int64_t created_ms; /* entry times are ENTRY_TICK_MS ticks since then */
    size_t entry_bytes; /* its entries' bytes (store_entry_bytes), in env's too */
} store_t;

/* Sets up empty structures for an arena that exists (arena_create). */
void store_init(store_t *st, env_t *env, int64_t created_ms);

/* Forgets every structure after the arena that held them went (renewed
 * or destroyed); the arena itself is the caller's. */
void store_reset(store_t *st);

static inline entry_t *store_entry(const store_t *st, uint32_t id)
{
    return index_entry(&st->index, id);
}

static inline int64_t store_now(const store_t *st)
{
    return env_now(st->env);
}

/* Now, in entry ticks since the session began (saturating). */
static inline uint32_t store_tick(const store_t *st)
{
    int64_t t = (store_now(st) - st->created_ms) / ENTRY_TICK_MS;
    return t < 0 ? 0 : t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

/* An entry's absolute expiry (engine ms), 0 when it has none. An entry
 * lives through its expiry millisecond and is gone after it, as in Redis. */
static inline int64_t store_expire_at(const store_t *st, entry_t *e)
{
    return (e->flags & ENTRY_TTL) ? st->expiry.nodes[entry_ttl_slot(e)].key : 0;
}

static inline uint64_t store_hash(const store_t *st, entry_t *e)
{
    return index_hash(&st->index, entry_key(e), entry_klen(e));
}

/* The bytes entry `e` holds in the arena, its value's own allocation
 * included. */
static inline size_t store_entry_bytes(const store_t *st, entry_t *e)
{
    size_t b = arena_usable(&st->arena, entry_bytes(e));
    return e->flags & ENTRY_SPLIT ? b + arena_usable(&st->arena, entry_vlen(e)) : b;
}

/* Counts a new entry's bytes as the store's (once it is in the index). */
static inline void store_count_entry(store_t *st, entry_t *e)
{
    size_t b = store_entry_bytes(st, e);
    st->entry_bytes += b;
    st->env->entry_bytes += b;
}

/* Frees an entry and its value, if that is apart. `counted`: whether
 * store_count_entry took it in. */
static inline void store_free_entry(store_t *st, entry_t *e, bool counted)
{
    if (counted) {
        size_t b = store_entry_bytes(st, e);
        st->entry_bytes -= b;
        st->env->entry_bytes -= b;
    }
    if (e->flags & ENTRY_SPLIT)
        arena_free(&st->arena, entry_val(e));
    arena_free(&st->arena, e);
}

/* The arena has gone (destroyed or renewed) with every entry in it: they
 * leave the system's count. */
static inline void store_forget_entries(store_t *st)
{
    st->env->entry_bytes -= st->entry_bytes;
    st->entry_bytes = 0;
}

#endif
