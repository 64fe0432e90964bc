/* evict: eviction strategies. Each decides which entry of a session goes
 * first when the session or the system must make room.
 *
 *   lru     least recently used (read or written) first.             O(1)
 *   lfu     lowest score first, score = uses * lfu_decay + last use;
 *           ties to the least recently used. See evict.c.            O(log n)
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
 *   custom  up to sample_size entries sampled uniformly at random;
 *           the engine's chooser callback picks one.                 O(samples)
 *
 * List strategies keep a doubly linked list through entry_t.link; heap
 * strategies keep an indexed heap whose slot lives in entry_t.link. */
#ifndef POLICYD_EVICT_H
#define POLICYD_EVICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/heap.h"

struct session;
struct entry;

typedef enum evict_kind {
    EVICT_LRU,
    EVICT_LFU,
    EVICT_TTL,
    EVICT_SIZE,
    EVICT_SIEVE,
    EVICT_S3FIFO,
    EVICT_CUSTOM,
    EVICT_KIND_COUNT
} evict_kind;

/* What a chooser sees of one sampled entry. */
typedef struct evict_candidate {
    const unsigned char *key;
    size_t klen;
    uint64_t bytes;     /* usable bytes of the entry's allocation */
    int64_t idle_ms;    /* since last use */
    int64_t age_ms;     /* since the value was set (SET), not changed */
    uint32_t hits;      /* uses since the value was set, saturating at 255 */
    uint32_t frequency; /* decayed LFU use count, saturating at 255 */
    int64_t ttl_ms;     /* until expiry, -1 if none */
    uint32_t id;        /* engine-internal */
} evict_candidate_t;

/* Picks one of n candidates: returns its index, or -1 (the engine then falls
 * back to LRU and counts a chooser error). */
typedef int (*evict_chooser_fn)(void *ud, struct session *s,
                                const evict_candidate_t *c, size_t n);

typedef struct evict {
    evict_kind kind;
    uint32_t head, tail; /* list: head is the least recently used (or oldest) */
    uint32_t hand;       /* sieve: where the next search starts; 0 = head */
    uint32_t small_head, small_tail, small_len, main_len; /* s3fifo; head/tail is main */
    struct {
        uint64_t *ring;  /* s3fifo ghost: key hashes, oldest at next */
        uint32_t cap, len, next;
        uint64_t *keys;  /* membership: hash -> count, open addressing */
        uint32_t *counts;
        uint32_t mask;
    } ghost;
    heap_t heap;         /* lfu and size */
} evict_t;

const char *evict_kind_name(evict_kind k);
/* Returns the kind named `name` (length len), or -1. */
int evict_kind_parse(const char *name, size_t len);

void evict_init(struct session *s, evict_kind kind);

/* Bytes the strategy will add to the arena when an entry is attached. */
size_t evict_attach_need(const struct session *s);

/* Adds a new (or rewritten) entry as the most recently used. Returns 0, or
 * -1 if a heap could not grow. */
int evict_attach(struct session *s, uint32_t id, struct entry *e);

/* Takes an entry out of the strategy's structures. */
void evict_detach(struct session *s, uint32_t id, struct entry *e);

/* Counts a use in an entry's header (last use, LFU count, hits) without
 * moving it; for an entry about to be attached. */
void evict_count_use(struct session *s, struct entry *e);

/* Records a use of an attached entry (read, write, touch) and moves it. */
void evict_touch(struct session *s, uint32_t id, struct entry *e);

/* true if an entry could be evicted (an entry being rewritten is detached
 * and does not count). */
bool evict_has_victim(const struct session *s);

/* The id of the entry to evict next, or 0 if nothing can be evicted. */
uint32_t evict_victim(struct session *s);

/* Sizes what depends on the entry limit (the S3-FIFO ghost); call after
 * the limits change, then evict to fit. Returns 0 or -1. */
int evict_resize(struct session *s);

/* Switches strategy, rebuilding its structures in last-use order. Returns 0,
 * or -1 (out of memory; the old strategy is kept). */
int evict_set_kind(struct session *s, evict_kind kind);

/* Samples up to n distinct entries uniformly at random into c; returns how
 * many (all of them when the session holds n or fewer). */
size_t evict_sample(struct session *s, evict_candidate_t *c, size_t n);

#endif
