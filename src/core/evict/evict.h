/* evict: eviction strategies. Each decides which entry of a session goes
 * first when the session or the system must make room.
 *
 *   lru     least recently used (read or written) first.             O(1)
 *   lfu     lowest score first, score = uses * lfu_decay + last use;
 *           ties to the least recently used. See score.c.            O(log n)
 *   ttl     soonest expiry first; entries without a TTL after all
 *           that have one, least recently used first.                O(log n)
 *   size    largest entry first; ties to the least recently used.    O(log n)
 *   sieve   SIEVE (NSDI'24): a FIFO with a visited bit set on use; a
 *           hand moves from the oldest entry toward newer ones, clears
 *           set bits and evicts the first entry whose bit is clear,
 *           then stays there.                                        O(1) amortized
 *   s3fifo  S3-FIFO (SOSP'23): new entries enter a small FIFO (10% of
 *           the entry limit); leaving it, an entry used twice or more
 *           moves to the main FIFO, others go, their keys remembered in
 *           a ghost FIFO (90% of the limit) that sends them straight to
 *           main when they come back; main re-queues an entry with uses
 *           left (one spent each time).                              O(1) amortized
 *   chooser up to sample_size entries sampled uniformly at random;
 *           the environment's chooser (a policy's Lua function) picks
 *           one.                                                     O(samples)
 *
 * A strategy works on a session's store (core/store.h) and keeps its own
 * structures in the store's arena: list strategies a doubly linked list
 * through entry_t.link, heap strategies an indexed heap whose slot lives in
 * entry_t.link. One file per family: list.c (lru, ttl, sieve), score.c
 * (lfu, size), s3fifo.c, sample.c (chooser); evict.c dispatches. */
#ifndef POLICYD_CORE_EVICT_EVICT_H
#define POLICYD_CORE_EVICT_EVICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/env.h"
#include "core/heap.h"
#include "core/store.h"

typedef enum evict_kind {
    EVICT_LRU,
    EVICT_LFU,
    EVICT_TTL,
    EVICT_SIZE,
    EVICT_SIEVE,
    EVICT_S3FIFO,
    EVICT_CHOOSER,
    EVICT_KIND_COUNT
} evict_kind;

/* What a chooser sees of one sampled entry. */
typedef struct evict_candidate {
    const unsigned char *key;
    size_t klen;
    uint64_t bytes;     /* usable bytes of the entry's allocations */
    int64_t idle_ms;    /* since last use */
    int64_t age_ms;     /* since the value was set (SET), not changed */
    uint32_t hits;      /* uses since the value was set, saturating at 255 */
    uint32_t frequency; /* decayed LFU use count, saturating at 255 */
    int64_t ttl_ms;     /* until expiry, -1 if none */
    uint32_t id;        /* engine-internal */
} evict_candidate_t;

typedef struct evict {
    evict_kind kind;
    uint32_t sample_size;    /* chooser: candidates per pick */
    uint64_t entry_limit;    /* s3fifo: its capacity; 0 = what the session holds */
    uint64_t chooser_errors; /* chooser answers that were not usable */
    uint32_t head, tail;     /* list: head is the least recently used (or oldest) */
    uint32_t hand;           /* sieve: where the next search starts; 0 = head */
    uint32_t small_head, small_tail, small_len, main_len; /* s3fifo; head/tail is main */
    struct {
        uint64_t *ring;      /* s3fifo ghost: key hashes, oldest at next */
        uint32_t cap, len, next;
        uint64_t *keys;      /* membership: hash -> count, open addressing */
        uint32_t *counts;
        uint32_t mask;
    } ghost;
    heap_t heap;             /* lfu and size */
} evict_t;

const char *evict_kind_name(evict_kind k);
/* Returns the kind named `name` (length len), or -1. */
int evict_kind_parse(const char *name, size_t len);

void evict_init(evict_t *v, store_t *st, evict_kind kind, uint32_t sample_size);

/* Forgets the strategy's structures after the arena that held them went;
 * the kind, the settings and the error count stay. */
void evict_reset(evict_t *v, store_t *st);

/* Bytes attaching n entries, `added` of them new to the session, would add
 * to the arena (heap nodes, S3-FIFO's ghost). */
size_t evict_attach_need(const evict_t *v, const store_t *st, uint32_t n, uint32_t added);

/* Whether the strategy keeps a heap node per entry (lfu, size). */
static inline bool evict_uses_heap(const evict_t *v)
{
    return v->kind == EVICT_LFU || v->kind == EVICT_SIZE;
}

/* Takes now what attaching n entries will allocate, `added` of them new to
 * the session (the rest rewritten), so that evict_attach cannot fail while
 * the heap is held: 0, or -1 when the arena refused. */
int evict_reserve(evict_t *v, store_t *st, uint32_t n, uint32_t added);

/* Adds a new (or rewritten) entry as the most recently used. Returns 0, or
 * -1 if a heap could not grow. */
int evict_attach(evict_t *v, store_t *st, uint32_t id, entry_t *e);

/* Takes an entry out of the strategy's structures. */
void evict_detach(evict_t *v, store_t *st, uint32_t id, entry_t *e);

/* Counts a use in an entry's header (last use, LFU count, hits) without
 * moving it; for an entry about to be attached. */
void evict_count_use(const store_t *st, entry_t *e);

/* Records a use of an attached entry (read, write, touch) and moves it. */
void evict_touch(evict_t *v, store_t *st, uint32_t id, entry_t *e);

/* true if an entry could be evicted (an entry being rewritten is detached
 * and does not count). */
bool evict_has_victim(const evict_t *v);

/* The id of the entry to evict next, or 0 if nothing can be evicted. The
 * chooser is handed `owner`, the session the store belongs to. */
uint32_t evict_victim(evict_t *v, store_t *st, struct session *owner);

/* Sets the entry limit that sizes S3-FIFO's queues and ghost; call after
 * the session's limits change, then evict to fit. Returns 0 or -1. */
int evict_resize(evict_t *v, store_t *st, uint64_t entry_limit);

/* Gives back what the strategy holds for a session that holds no entries
 * (S3-FIFO's ghost: it is sized by the entries held, so an empty session
 * holds no bytes). Call when the last entry went. */
void evict_trim_empty(evict_t *v, store_t *st);

/* Switches strategy, rebuilding its structures in last-use order. Returns 0,
 * or -1 (out of memory; the old strategy is kept). */
int evict_set_kind(evict_t *v, store_t *st, evict_kind kind);

#endif
