/* heap: see heap.h. */
#include "core/heap.h"

#include <stdlib.h>

#define HEAP_MIN_CAP 16u

static inline int node_less(const heap_node_t *a, const heap_node_t *b)
{
    return a->key < b->key || (a->key == b->key && a->tie < b->tie);
}

static inline void place(heap_t *h, uint32_t slot, heap_node_t n)
{
    h->nodes[slot] = n;
    h->moved(h->ctx, heap_node_id(&n), slot);
}

/* Four children per node: half the depth of a binary heap, so half the
 * moves (each one writes the entry's slot back through `moved`, a cache
 * miss), and the four children are 64 bytes side by side. */
#define ARITY 4u

static inline uint32_t parent_of(uint32_t slot)
{
    return (slot - 1) / ARITY;
}

static void sift_up(heap_t *h, uint32_t slot, heap_node_t n)
{
    while (slot > 0) {
        uint32_t parent = parent_of(slot);
        if (!node_less(&n, &h->nodes[parent]))
            break;
        place(h, slot, h->nodes[parent]);
        slot = parent;
    }
    place(h, slot, n);
}

static void sift_down(heap_t *h, uint32_t slot, heap_node_t n)
{
    for (;;) {
        uint32_t first = ARITY * slot + 1;
        if (first >= h->len)
            break;
        uint32_t end = first + ARITY < h->len ? first + ARITY : h->len;
        uint32_t child = first;
        for (uint32_t c = first + 1; c < end; c++)
            if (node_less(&h->nodes[c], &h->nodes[child]))
                child = c;
        if (!node_less(&h->nodes[child], &n))
            break;
        place(h, slot, h->nodes[child]);
        slot = child;
    }
    place(h, slot, n);
}

typedef struct tie_slot { uint64_t tie; uint32_t slot; } tie_slot_t;

static int tie_cmp(const void *a, const void *b)
{
    const tie_slot_t *x = a, *y = b;
    return x->tie < y->tie ? -1 : x->tie > y->tie;
}

/* Renumbers the sequence part of every tie to 0..len-1, keeping their
 * order (so the heap stays valid and no node moves). Returns 0, or -1 (out
 * of memory). */
static int renumber(heap_t *h)
{
    if (h->len == 0)
        return 0;
    tie_slot_t *order = malloc(h->len * sizeof(*order));
    if (!order)
        return -1;
    for (uint32_t i = 0; i < h->len; i++)
        order[i] = (tie_slot_t){h->nodes[i].tie, i};
    qsort(order, h->len, sizeof(*order), tie_cmp);
    for (uint32_t rank = 0; rank < h->len; rank++) {
        heap_node_t *n = &h->nodes[order[rank].slot];
        n->tie = (uint64_t)rank << 24 | heap_node_id(n);
    }
    free(order);
    return 0;
}

#define SEQ_LIMIT ((UINT64_C(1) << 40) - 1)

/* The tie of a node for entry id: (sequence << 24) | id. The 40-bit
 * sequence lasts about 10^12 pushes; before it runs out the ties are
 * renumbered, keeping every order they express. If memory is short for
 * that, the sequence wraps and only nodes with equal keys may misorder. */
static uint64_t next_tie(heap_t *h, uint32_t id)
{
    if (h->seq >= SEQ_LIMIT) {
        renumber(h);
        h->seq = h->len;
    }
    return h->seq++ << 24 | id;
}

void heap_init(heap_t *h, heap_moved_fn moved, void *ctx)
{
    *h = (heap_t){.moved = moved, .ctx = ctx};
}

size_t heap_first_need(const arena_t *a)
{
    return arena_usable(a, HEAP_MIN_CAP * sizeof(heap_node_t));
}

size_t heap_push_need(const heap_t *h, const arena_t *a, uint32_t n)
{
    uint64_t want = (uint64_t)h->len + n;
    if (want <= h->cap)
        return 0;
    uint64_t cap = h->cap ? h->cap : HEAP_MIN_CAP;
    while (cap < want)
        cap *= 2;
    size_t now = h->cap ? arena_usable(a, h->cap * sizeof(heap_node_t)) : 0;
    return arena_usable(a, cap * sizeof(heap_node_t)) - now;
}

int heap_reserve(heap_t *h, arena_t *a, uint32_t n)
{
    if (n <= h->cap)
        return 0;
    uint32_t cap = h->cap ? h->cap : HEAP_MIN_CAP;
    while (cap < n)
        cap *= 2;
    if (cap == h->cap)
        return 0;
    heap_node_t *nodes = arena_realloc(a, h->nodes, (size_t)cap * sizeof(heap_node_t));
    if (!nodes)
        return -1;
    h->nodes = nodes;
    h->cap = cap;
    return 0;
}

/* Puts n at `slot` and restores the order around it. */
static void reposition(heap_t *h, uint32_t slot, heap_node_t n)
{
    if (slot > 0 && node_less(&n, &h->nodes[parent_of(slot)]))
        sift_up(h, slot, n);
    else
        sift_down(h, slot, n);
}

int heap_push(heap_t *h, arena_t *a, int64_t key, uint32_t id)
{
    if (h->len == h->cap && heap_reserve(h, a, h->len + 1) != 0)
        return -1;
    sift_up(h, h->len++, (heap_node_t){.key = key, .tie = next_tie(h, id)});
    return 0;
}

void heap_update(heap_t *h, uint32_t slot, int64_t key)
{
    uint32_t id = heap_node_id(&h->nodes[slot]);
    reposition(h, slot, (heap_node_t){.key = key, .tie = next_tie(h, id)});
}

void heap_remove(heap_t *h, arena_t *a, uint32_t slot)
{
    heap_node_t last = h->nodes[--h->len];
    if (slot < h->len)
        reposition(h, slot, last);
    if (!h->hold)
        heap_trim(h, a);
}

void heap_trim(heap_t *h, arena_t *a)
{
    if (h->len == 0) {
        heap_free(h, a);
    } else if (h->cap > HEAP_MIN_CAP && h->len <= h->cap / 4) {
        /* Shrinking is optional: if jemalloc cannot move, keep the room. */
        heap_node_t *nodes = arena_realloc(a, h->nodes, h->cap / 2 * sizeof(heap_node_t));
        if (nodes) {
            h->nodes = nodes;
            h->cap /= 2;
        }
    }
}

void heap_free(heap_t *h, arena_t *a)
{
    arena_free(a, h->nodes);
    h->nodes = NULL;
    h->len = h->cap = 0;
}
