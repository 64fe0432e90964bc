/* budget: the arithmetic of a write under the session's and the system's
 * budgets — what it will add to the arena (the entry, index growth, heap
 * nodes), what it can never fit in, and whether it fits now. It changes
 * nothing: write.c plans every write with it before anything is evicted
 * or written, so a write that can never fit is refused before anything
 * changes. Inline, because every write plans itself on the request path. */
#ifndef POLICYD_CORE_BUDGET_H
#define POLICYD_CORE_BUDGET_H

#include <stdbool.h>
#include <stddef.h>

#include "core/session.h"

typedef struct budget_plan {
    size_t add;   /* usable bytes of the new allocations (0: can never fit) */
    size_t sub;   /* usable bytes of the allocations they replace */
    bool split;   /* the value is its own allocation */
    bool insert;  /* a new key: the index grows, the entry count rises */
    bool ttl;     /* the entry joins the expiry heap */
} budget_plan_t;

/* Values from this size on are split from their entry when the two size
 * classes apart sum to less than the one together. */
#define BUDGET_SPLIT_MIN 256

/* The plan for an entry of this key and value length: its allocations, with
 * the value apart when their size classes sum to less that way. */
static inline budget_plan_t budget_plan(const session_t *s, size_t klen, size_t vlen,
                                        bool insert, bool ttl)
{
    const arena_t *a = &s->store.arena;
    budget_plan_t p = {.insert = insert, .ttl = ttl};
    if (klen > UINT32_MAX || vlen > UINT32_MAX)
        return p; /* add 0: too big */
    p.add = arena_usable(a, entry_size(klen, vlen, ttl, false));
    if (vlen >= BUDGET_SPLIT_MIN) {
        size_t apart = arena_usable(a, entry_size(klen, vlen, ttl, true)) + arena_usable(a, vlen);
        if (apart < p.add) {
            p.add = apart;
            p.split = true;
        }
    }
    return p;
}

/* Bytes the session holds for this write when every other entry is gone.
 * A rewritten entry keeps the id map at its size (ids are stable). */
static inline size_t budget_floor(const session_t *s, const budget_plan_t *plan)
{
    const store_t *st = &s->store;
    size_t need = plan->add + (plan->insert ? index_first_need(&st->arena)
                                            : index_floor(&st->index, &st->arena));
    if (evict_uses_heap(&s->evict))
        need += heap_first_need(&st->arena);
    if (plan->ttl)
        need += heap_first_need(&st->arena);
    return need;
}

/* The refusals a write meets before anything changes: PD_DENIED (writes
 * denied), PD_TOOBIG (lengths past 32 bits, or an entry that could not fit
 * even an otherwise empty session, or the system), else PD_OK. The value
 * is n1 + n2 bytes. */
static inline pd_status budget_refusal(const session_t *s, size_t klen, size_t n1, size_t n2,
                                       const budget_plan_t *plan)
{
    if (s->writes_denied)
        return PD_DENIED;
    if (klen > UINT32_MAX || n1 > UINT32_MAX || n2 > UINT32_MAX - n1)
        return PD_TOOBIG;
    uint64_t sys_limit = s->store.env->limit_bytes;
    size_t floor = budget_floor(s, plan);
    if (plan->add == 0 || (s->limits.bytes && floor > s->limits.bytes) ||
        (sys_limit && floor > sys_limit))
        return PD_TOOBIG;
    return PD_OK;
}

#endif
