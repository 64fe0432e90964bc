/* heap: an indexed 4-ary min-heap of (key, tie) nodes in a session arena.
 *
 * Used for expiry (soonest first) and for the heap strategies (lfu, size).
 * Equal keys leave in the order they were pushed or re-keyed: the heap
 * stamps each node with `tie`, a sequence number of its own above the
 * entry id (low 24 bits). The caller learns every node's new slot through
 * `moved`, so it can remove or re-key any node in O(log n). */
#ifndef POLICYD_CORE_HEAP_H
#define POLICYD_CORE_HEAP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"

typedef struct heap_node {
    int64_t key;
    uint64_t tie; /* (sequence << 24) | entry id */
} heap_node_t;

typedef void (*heap_moved_fn)(void *ctx, uint32_t id, uint32_t slot);

typedef struct heap {
    heap_node_t *nodes;
    uint32_t len, cap;
    bool hold;      /* removals keep the room (a write has reserved it) */
    uint64_t seq;   /* the next tie's sequence number (40 bits) */
    heap_moved_fn moved;
    void *ctx;
} heap_t;

static inline uint32_t heap_node_id(const heap_node_t *n)
{
    return (uint32_t)(n->tie & 0xFFFFFFu);
}

void heap_init(heap_t *h, heap_moved_fn moved, void *ctx);

/* Bytes the first push into an empty heap adds. */
size_t heap_first_need(const arena_t *a);

/* Bytes the next n pushes would add to the arena. */
size_t heap_push_need(const heap_t *h, const arena_t *a, uint32_t n);

/* Adds entry `id` under `key`, after the nodes with an equal key; returns
 * 0, or -1 if the arena refused to grow. */
int heap_push(heap_t *h, arena_t *a, int64_t key, uint32_t id);

/* Makes room for n nodes in all; returns 0 or -1. */
int heap_reserve(heap_t *h, arena_t *a, uint32_t n);

/* Removes the node at `slot`; shrinks the array when it is mostly empty. */
void heap_remove(heap_t *h, arena_t *a, uint32_t slot);

/* Gives the node at `slot` a new key, after the nodes with an equal key. */
void heap_update(heap_t *h, uint32_t slot, int64_t key);

/* Frees the array. */
/* Gives back room the heap no longer needs (after removals made while
 * held). */
void heap_trim(heap_t *h, arena_t *a);

void heap_free(heap_t *h, arena_t *a);

#endif
