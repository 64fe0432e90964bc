/* write: every write that stores bytes in a session — one key, or many
 * keys in many sessions (MSET) — planned first and applied all or nothing
 * (DESIGN.md §3, §8).
 *
 * In order: each key is looked up and planned (budget.h); a write that can
 * never fit, or that eviction could not make room for in its session or in
 * the system, is refused before anything changes. Then every allocation
 * is taken while the old values are whole, so jemalloc refusing one
 * changes no value. Then it evicts — old and new values held together
 * until it returns — and swaps, with nothing left that can fail. Entries
 * being rewritten are pinned (out of eviction's reach) and the room
 * reserved is held (removals do not give it back) until the swap. When it
 * returns, every budget holds. */
#ifndef POLICYD_CORE_WRITE_H
#define POLICYD_CORE_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/budget.h"
#include "core/session.h"

/* What one session's ops add up to. */
typedef struct write_group {
    uint32_t inserts, keys, ttls; /* new keys, keys written, with a TTL */
    size_t add, sub;              /* bytes of new entries, of those they replace */
} write_group_t;

typedef struct write_op {
    session_t *s;
    const void *key;
    size_t klen;
    const void *v1, *v2;   /* the value is v1 ‖ v2; either may point into
                              the entry being rewritten (APPEND) */
    size_t n1, n2;
    int64_t expire_at;     /* absolute, engine ms; 0 = none */
    bool fresh;            /* a new value: its age and uses start over */
    bool looked_up;        /* id and h below are the caller's lookup */
    uint32_t id;           /* the live entry of key, 0 if none */
    uint64_t h;            /* the key's hash */
    /* write.c's own, from here on */
    size_t pos;            /* in the caller's order: the last write of a key wins */
    write_group_t group;   /* on the first op of a session's: its ops' sum */
    bool skip;             /* a later op writes the same key */
    budget_plan_t plan;
    int64_t old_expire;
    bool in_place;
    entry_t *e;
    unsigned char *apart;
} write_op_t;

/* Applies the n ops (they may be reordered): PD_OK, or the first refusal
 * (PD_DENIED, PD_TOOBIG, PD_SYSFULL, PD_NOMEM) with nothing written and
 * nothing evicted — but for PD_NOMEM, after which the sessions evict
 * again to whatever room the write had reserved. */
pd_status write_apply(write_op_t *ops, size_t n);

#endif
