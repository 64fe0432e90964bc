/* list: the strategies on one list of entries, head the least recently
 * used (lru, and ttl for entries without an expiry) or the oldest (sieve).
 * Attaching, detaching and moving on a use are inline in family.h. */
#include "core/evict/family.h"

/* SIEVE: the hand walks from the oldest entry toward newer ones, clearing
 * visited bits, and stops at the first entry whose bit is clear. */
static uint32_t sieve_victim(evict_t *v, store_t *st)
{
    uint32_t id = v->hand ? v->hand : v->head;
    for (;;) {
        entry_t *e = store_entry(st, id);
        if (!(e->flags & ENTRY_VISITED)) {
            v->hand = id;
            return id;
        }
        e->flags &= (uint8_t)~ENTRY_VISITED;
        id = entry_next(e) ? entry_next(e) : v->head;
    }
}

uint32_t list_victim(evict_t *v, store_t *st)
{
    switch (v->kind) {
    case EVICT_SIEVE:
        return sieve_victim(v, st);
    case EVICT_TTL:
        /* The soonest expiry first; without one, the least recently used. */
        if (st->expiry.len)
            return heap_node_id(&st->expiry.nodes[0]);
        return v->head;
    default:
        return v->head;
    }
}
