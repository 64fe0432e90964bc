/* store: see store.h. */
#include "core/store.h"

/* The expiry heap tells each entry where its node went, so an expiry can be
 * changed or removed in O(log n). */
static void expiry_moved(void *ctx, uint32_t id, uint32_t slot)
{
    entry_set_ttl_slot(store_entry(ctx, id), slot);
}

void store_init(store_t *st, env_t *env, int64_t created_ms)
{
    st->env = env;
    st->created_ms = created_ms;
    st->entry_bytes = 0;
    store_reset(st);
}

void store_reset(store_t *st)
{
    index_init(&st->index, st->env->seed);
    heap_init(&st->expiry, expiry_moved, st);
}
