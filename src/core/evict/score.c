/* score: lfu and size, on an indexed heap of entries by score.
 *
 * LFU rule. Each entry keeps a use count `freq` (exact to 255) and the time
 * of its last use. Its score is freq * D + last_use, where D is the
 * environment's lfu_decay (60 s by default): a use is worth D of standing,
 * and every D of idleness costs one use. The lowest score goes first; equal
 * scores go least recently used first (the heap's ties). Because the score
 * only changes when the entry is used, a heap keeps the order exactly, with
 * no periodic aging pass. On a use the count first loses the idle periods it
 * sat out, then gains one (evict_count_use), so a key that was hot an hour
 * ago starts again from what it has earned since.
 *
 * size: the largest entry (as if its value were inline) first. */
#include "core/evict/family.h"

static int64_t score_of(const evict_t *v, const store_t *st, const entry_t *e)
{
    return v->kind == EVICT_LFU ? (int64_t)e->freq * (int64_t)decay_ticks(st) + e->atime
                                : -(int64_t)entry_whole_size(e);
}

/* The heap tells each entry where its node went. */
static void heap_moved(void *ctx, uint32_t id, uint32_t slot)
{
    entry_set_heap_slot(store_entry(ctx, id), slot);
}

void score_init(evict_t *v, store_t *st)
{
    heap_init(&v->heap, heap_moved, st);
}

int score_attach(evict_t *v, store_t *st, uint32_t id, entry_t *e)
{
    return heap_push(&v->heap, &st->arena, score_of(v, st, e), id);
}

void score_touch(evict_t *v, store_t *st, entry_t *e)
{
    heap_update(&v->heap, entry_heap_slot(e), score_of(v, st, e));
}
