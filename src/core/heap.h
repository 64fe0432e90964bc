/* heap: an indexed 4-ary min-heap of (key, tie) nodes in a session arena.
 *
 * Used for expiry (soonest first) and for the heap strategies (lfu, size).
 * `tie` orders equal keys and carries the entry id in its low 24 bits; the
 * caller learns every node's new slot through `moved`, so it can remove or
 * re-key any node in O(log n). */
#ifndef POLICYD_HEAP_H
#define POLICYD_HEAP_H

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

/* Bytes the next push would add to the arena (0 if there is room). */
size_t heap_push_need(const heap_t *h, const arena_t *a);

/* Adds a node; returns 0, or -1 if the arena refused to grow. */
int heap_push(heap_t *h, arena_t *a, heap_node_t n);

/* Makes room for n nodes in all; returns 0 or -1. */
int heap_reserve(heap_t *h, arena_t *a, uint32_t n);

/* Removes the node at `slot`; shrinks the array when it is mostly empty. */
void heap_remove(heap_t *h, arena_t *a, uint32_t slot);

/* Replaces the node at `slot` (same entry, new key or tie). */
void heap_update(heap_t *h, uint32_t slot, heap_node_t n);

/* Renumbers the sequence part of every tie to 0..len-1, keeping their
 * order (so the heap stays valid and no node moves). For a sequence counter
 * about to run out of its 40 bits. Returns 0, or -1 (out of memory). */
int heap_renumber(heap_t *h);

/* Frees the array. */
void heap_free(heap_t *h, arena_t *a);

#endif
