/* evict: the strategy interface of evict.h, dispatching to the families
 * (family.h), and the switch from one strategy to another. */
#include "core/evict/evict.h"

#include <stdlib.h>
#include <string.h>

#include "core/evict/family.h"

static const char *const kind_names[EVICT_KIND_COUNT] = {
    [EVICT_LRU] = "lru", [EVICT_LFU] = "lfu", [EVICT_TTL] = "ttl",
    [EVICT_SIZE] = "size", [EVICT_SIEVE] = "sieve", [EVICT_S3FIFO] = "s3fifo",
    [EVICT_CHOOSER] = "chooser",
};

const char *evict_kind_name(evict_kind k)
{
    return (unsigned)k < EVICT_KIND_COUNT ? kind_names[k] : "unknown";
}

int evict_kind_parse(const char *name, size_t len)
{
    for (int k = 0; k < EVICT_KIND_COUNT; k++)
        if (strlen(kind_names[k]) == len && memcmp(kind_names[k], name, len) == 0)
            return k;
    return -1;
}

void evict_init(evict_t *v, store_t *st, evict_kind kind, uint32_t sample_size)
{
    memset(v, 0, sizeof(*v));
    v->kind = kind;
    v->sample_size = sample_size;
    score_init(v, st);
}

void evict_reset(evict_t *v, store_t *st)
{
    v->head = v->tail = v->hand = 0;
    v->small_head = v->small_tail = v->small_len = v->main_len = 0;
    memset(&v->ghost, 0, sizeof(v->ghost));
    score_init(v, st);
}

void evict_trim_empty(evict_t *v, store_t *st)
{
    if (v->kind == EVICT_S3FIFO && v->ghost.cap)
        s3fifo_ghost_free(v, st);
}

size_t evict_attach_need(const evict_t *v, const store_t *st, uint32_t n, uint32_t added)
{
    if (v->kind == EVICT_S3FIFO)
        return s3fifo_need(v, st, added);
    return evict_uses_heap(v) ? heap_push_need(&v->heap, &st->arena, n) : 0;
}

int evict_reserve(evict_t *v, store_t *st, uint32_t n, uint32_t added)
{
    if (v->kind == EVICT_S3FIFO)
        return s3fifo_reserve(v, st, added);
    if (evict_uses_heap(v))
        return heap_reserve(&v->heap, &st->arena, v->heap.len + n);
    return 0;
}

int evict_attach(evict_t *v, store_t *st, uint32_t id, entry_t *e)
{
    if (evict_uses_heap(v))
        return score_attach(v, st, id, e);
    if (v->kind == EVICT_S3FIFO)
        s3fifo_attach(v, st, id, e);
    else
        list_attach(v, st, id, e);
    return 0;
}

void evict_detach(evict_t *v, store_t *st, uint32_t id, entry_t *e)
{
    if (v->hand == id) /* the hand stays where the entry was */
        v->hand = entry_next(e);
    if (evict_uses_heap(v))
        heap_remove(&v->heap, &st->arena, entry_heap_slot(e));
    else if (v->kind == EVICT_S3FIFO)
        s3fifo_detach(v, st, e);
    else
        list_detach(v, st, e);
}

void evict_count_use(const store_t *st, entry_t *e)
{
    uint32_t now = store_tick(st);
    unsigned freq = decayed_freq(st, e, now);
    e->freq = (uint8_t)(freq < 255 ? freq + 1 : 255);
    if (e->hits < 255)
        e->hits++;
    e->atime = now;
}

void evict_touch(evict_t *v, store_t *st, uint32_t id, entry_t *e)
{
    evict_count_use(st, e);
    if (v->kind == EVICT_S3FIFO)
        s3fifo_touch(e);
    else if (evict_uses_heap(v))
        score_touch(v, st, e);
    else
        list_touch(v, st, id, e);
}

bool evict_has_victim(const evict_t *v)
{
    if (evict_uses_heap(v))
        return v->heap.len > 0;
    return v->head != 0 || v->small_head != 0;
}

uint32_t evict_victim(evict_t *v, store_t *st, struct session *owner)
{
    if (!evict_has_victim(v))
        return 0;
    switch (v->kind) {
    case EVICT_LFU:
    case EVICT_SIZE:
        return heap_node_id(&v->heap.nodes[0]);
    case EVICT_CHOOSER:
        return sample_choose(v, st, owner);
    case EVICT_S3FIFO:
        return s3fifo_victim(v, st);
    case EVICT_LRU:
    case EVICT_TTL:
    case EVICT_SIEVE:
    case EVICT_KIND_COUNT:
        break;
    }
    return list_victim(v, st);
}

int evict_resize(evict_t *v, store_t *st, uint64_t entry_limit)
{
    v->entry_limit = entry_limit;
    return v->kind == EVICT_S3FIFO ? s3fifo_resize(v, st) : 0;
}

typedef struct use_order { uint64_t seq; uint32_t id; } use_order_t;

static int use_order_cmp(const void *a, const void *b)
{
    const use_order_t *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int evict_set_kind(evict_t *v, store_t *st, evict_kind kind)
{
    evict_kind old = v->kind;
    if (kind == old)
        return 0;
    bool old_heap = evict_uses_heap(v);
    uint32_t n = st->index.used;
    use_order_t *order = n ? malloc(n * sizeof(*order)) : NULL;
    if (n && !order)
        return -1;
    /* Least recently used first: the list is in that order; a heap node's
     * tie holds the sequence number of the entry's last use. */
    uint32_t i = 0;
    if (!old_heap) {
        /* S3-FIFO's main queue holds the older entries, its small one the
         * newer; other lists are the one queue. */
        for (uint32_t id = v->head; id; id = entry_next(store_entry(st, id)), i++)
            order[i] = (use_order_t){i, id};
        for (uint32_t id = v->small_head; id; id = entry_next(store_entry(st, id)), i++)
            order[i] = (use_order_t){i, id};
    } else {
        for (uint32_t j = 0; j < v->heap.len; j++) {
            const heap_node_t *node = &v->heap.nodes[j];
            order[i++] = (use_order_t){node->tie >> 24, heap_node_id(node)};
        }
        if (n)
            qsort(order, n, sizeof(*order), use_order_cmp);
    }
    bool new_heap = kind == EVICT_LFU || kind == EVICT_SIZE;
    if (new_heap && n && heap_reserve(&v->heap, &st->arena, n) != 0) {
        free(order);
        return -1;
    }
    /* The old heap's nodes are dropped, not freed: a new heap reuses the
     * array (reserved above) and a list has no use for it. */
    if (old_heap && !new_heap)
        heap_free(&v->heap, &st->arena);
    if (old == EVICT_S3FIFO)
        s3fifo_ghost_free(v, st);
    v->kind = kind;
    v->head = v->tail = v->hand = 0;
    v->small_head = v->small_tail = 0;
    v->small_len = v->main_len = 0;
    v->heap.len = 0;
    for (i = 0; i < n; i++)
        evict_attach(v, st, order[i].id, store_entry(st, order[i].id)); /* cannot fail: reserved */
    free(order);
    /* The ghost is sized by the entries held; without memory, S3-FIFO runs
     * without one (entries then always start in the small queue). */
    evict_resize(v, st, v->entry_limit);
    return 0;
}
