/* index: a session's key index, living in the session's arena.
 *
 * Two arrays. `ids` maps a 24-bit entry id to its entry (ids are stable, so
 * entries link to each other by id and may move on realloc). `slots` is an
 * open-addressing hash table with linear probing whose 4-byte slots hold
 * (id << 8 | 8 bits of the key's hash): most mismatches are rejected without
 * touching the entry. At 1M entries the two cost about 17 bytes per entry.
 * Both are freed when the last entry goes, so an empty session costs none. */
#ifndef POLICYD_CORE_INDEX_H
#define POLICYD_CORE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/entry.h"
#include "util/rng.h"

typedef struct index {
    uint32_t *slots;  /* NULL when the index is empty */
    uint32_t cap;     /* slot count: 2^k or 1.5 x 2^k, at least 16 */
    uint32_t used;    /* live entries */
    uint32_t tombs;   /* deleted slots not yet reclaimed */
    uintptr_t *ids;   /* id -> entry_t*; a free id holds (next free << 1) | 1 */
    uint32_t id_cap;  /* length of ids; id 0 is never used */
    uint32_t id_top;  /* ids below this have been handed out at least once */
    uint32_t id_free; /* head of the free-id chain, 0 if none */
    uint32_t id_nfree; /* ids on that chain */
    bool hold;        /* removals keep the room (a write has reserved it) */
    uint64_t seed;
} index_t;

void index_init(index_t *ix, uint64_t seed);

uint64_t index_hash(const index_t *ix, const void *key, size_t klen);

static inline entry_t *index_entry(const index_t *ix, uint32_t id)
{
    return (entry_t *)ix->ids[id];
}

/* The entry of id if it is live, else NULL. */
static inline entry_t *index_live(const index_t *ix, uint32_t id)
{
    return id && id < ix->id_top && !(ix->ids[id] & 1) ? (entry_t *)ix->ids[id] : NULL;
}

/* The id of `key` (whose hash is h), or 0. */
uint32_t index_find(const index_t *ix, const void *key, size_t klen, uint64_t h);

/* Bytes the first insert into an empty index adds. */
size_t index_first_need(const arena_t *a);

/* Bytes the index keeps while one entry remains: the table shrinks as
 * entries go, the id map keeps its size (ids are stable). */
size_t index_floor(const index_t *ix, const arena_t *a);

/* Bytes the next n inserts would add to the arena (table or id map
 * growth). */
size_t index_insert_need(const index_t *ix, const arena_t *a, uint32_t n);

/* Adds entry e (its key absent, hash h). Returns its id, or 0 if the arena
 * refused to grow or the session is at ENTRY_ID_MAX entries. */
uint32_t index_insert(index_t *ix, arena_t *a, uint64_t h, entry_t *e);

/* Takes now every allocation the next n index_inserts would make, so that
 * they cannot fail while `hold` is set (and removals keep the room):
 * 0, or -1 (the arena refused, or not enough ids are left). */
int index_reserve(index_t *ix, arena_t *a, uint32_t n);

/* Points id at e (after the entry moved or was rebuilt). */
static inline void index_set(index_t *ix, uint32_t id, entry_t *e)
{
    ix->ids[id] = (uintptr_t)e;
}

/* Removes id (hash h); the caller frees the entry. May shrink the table. */
void index_remove(index_t *ix, arena_t *a, uint32_t id, uint64_t h);

/* The first live id >= from, or 0 when there is none. */
uint32_t index_next(const index_t *ix, uint32_t from);

/* A live id chosen uniformly at random (by its hash slot), or 0 when the
 * index is empty. */
uint32_t index_random(const index_t *ix, rng_t *r);

/* Gives back room the index no longer needs (after removals made while
 * held). */
void index_trim(index_t *ix, arena_t *a);

/* Frees both arrays (the entries are the caller's). */
void index_free(index_t *ix, arena_t *a);

#endif
