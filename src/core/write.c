/* write: see write.h. Ops are sorted by session and key, so the ops of one
 * session are contiguous (a group) and two writes of one key adjacent. */
#include "core/write.h"

#include <stdlib.h>
#include <string.h>

#include "core/session_internal.h"

/* --- order ------------------------------------------------------------------ */

static int by_session_key(const void *pa, const void *pb)
{
    const write_op_t *a = pa, *b = pb;
    if (a->s != b->s)
        return (uintptr_t)a->s < (uintptr_t)b->s ? -1 : 1;
    size_t n = a->klen < b->klen ? a->klen : b->klen;
    int c = memcmp(a->key, b->key, n);
    if (c || a->klen != b->klen)
        return c ? c : (a->klen < b->klen ? -1 : 1);
    return a->pos < b->pos ? -1 : 1;
}

/* Sorts the ops and marks every write of a key but the last to skip. */
static void order(write_op_t *ops, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ops[i].pos = i;
    qsort(ops, n, sizeof(*ops), by_session_key);
    for (size_t i = 0; i + 1 < n; i++)
        ops[i].skip = ops[i].s == ops[i + 1].s && ops[i].klen == ops[i + 1].klen &&
                      memcmp(ops[i].key, ops[i + 1].key, ops[i].klen) == 0;
}

/* The end of the group that starts at i. */
static size_t group_end(const write_op_t *ops, size_t n, size_t i)
{
    size_t j = i + 1;
    while (j < n && ops[j].s == ops[i].s)
        j++;
    return j;
}

/* --- pins ------------------------------------------------------------------- */

/* Takes the entry an op rewrites out of eviction's reach. */
static void pin(write_op_t *op)
{
    store_t *st = &op->s->store;
    entry_t *old = store_entry(st, op->id);
    op->old_expire = store_expire_at(st, old);
    op->plan.sub = store_entry_bytes(st, old);
    evict_detach(&op->s->evict, st, op->id, old);
    if (old->flags & ENTRY_TTL)
        heap_remove(&st->expiry, &st->arena, entry_ttl_slot(old));
    old->flags |= ENTRY_PINNED;
}

/* Puts a pinned entry back as it was; if that cannot be done (a heap could
 * not grow back), the entry goes: the outcome stays defined. */
static void unpin(write_op_t *op)
{
    session_t *s = op->s;
    store_t *st = &s->store;
    entry_t *e = store_entry(st, op->id);
    e->flags &= (uint8_t)~ENTRY_PINNED;
    bool ok = evict_attach(&s->evict, st, op->id, e) == 0;
    if (ok && op->old_expire &&
        heap_push(&st->expiry, &st->arena, op->old_expire, op->id) != 0) {
        evict_detach(&s->evict, st, op->id, e);
        ok = false;
    }
    if (!ok) {
        e->flags &= (uint8_t)~ENTRY_TTL;
        session_remove_entry(s, op->id, op->h);
    }
}

/* While held, removals keep their room; let go, the room not needed is
 * given back. */
static void hold_room(session_t *s, bool hold)
{
    store_t *st = &s->store;
    st->index.hold = st->expiry.hold = s->evict.heap.hold = hold;
    if (hold)
        return;
    index_trim(&st->index, &st->arena);
    if (st->index.used == 0)
        evict_trim_empty(&s->evict, st);
    heap_trim(&st->expiry, &st->arena);
    if (evict_uses_heap(&s->evict))
        heap_trim(&s->evict.heap, &st->arena);
}

/* Holds the room of every session of the ops, once: before the first
 * removal a write makes (a pin, an eviction); a write that removes nothing
 * holds and trims nothing. */
static void hold_all(write_op_t *ops, size_t n, bool *held)
{
    if (*held)
        return;
    *held = true;
    for (size_t i = 0; i < n; i = group_end(ops, n, i))
        hold_room(ops[i].s, true);
}

/* --- the plan ----------------------------------------------------------------- */

/* Sums each session's ops into the group of its first op. */
static void sum_groups(write_op_t *ops, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t j = group_end(ops, n, i);
        write_group_t g = {0};
        for (size_t k = i; k < j; k++) {
            if (ops[k].skip)
                continue;
            g.keys++;
            g.inserts += ops[k].id == 0;
            g.ttls += ops[k].expire_at != 0;
            g.add += ops[k].plan.add;
            g.sub += ops[k].plan.sub;
        }
        ops[i].group = g;
        i = j;
    }
}

/* Bytes a group's session structures grow by to take its writes. */
static size_t growth(const session_t *s, const write_group_t *g)
{
    const store_t *st = &s->store;
    return index_insert_need(&st->index, &st->arena, g->inserts) +
           evict_attach_need(&s->evict, st, g->keys, g->inserts) +
           heap_push_need(&st->expiry, &st->arena, g->ttls);
}

/* Whether eviction could make room for every op: in each session, with
 * every other entry gone; in the system, with every entry gone but the
 * pinned ones (which the write gives back). */
static pd_status check_room(const write_op_t *ops, size_t n)
{
    const env_t *env = ops[0].s->store.env;
    size_t system_need = 0;
    for (size_t i = 0; i < n;) {
        size_t j = group_end(ops, n, i);
        const session_t *s = ops[i].s;
        const write_group_t *g = &ops[i].group;
        size_t need = growth(s, g) + g->add;
        size_t fixed = s->store.arena.bytes - s->store.entry_bytes;
        uint64_t cap = s->limits.entries && s->limits.entries < ENTRY_ID_MAX ? s->limits.entries
                                                                             : ENTRY_ID_MAX;
        if ((s->limits.bytes && fixed + need > s->limits.bytes) || g->keys > cap)
            return PD_TOOBIG;
        system_need += need;
        i = j;
    }
    if (env->limit_bytes && env->bytes - env->entry_bytes + system_need > env->limit_bytes)
        return PD_SYSFULL;
    return PD_OK;
}

/* --- allocations, evictions, the swap ----------------------------------------- */

static pd_status take_allocations(write_op_t *ops, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t j = group_end(ops, n, i);
        session_t *s = ops[i].s;
        store_t *st = &s->store;
        write_group_t g = ops[i].group;
        if (index_reserve(&st->index, &st->arena, g.inserts) != 0 ||
            evict_reserve(&s->evict, st, g.keys, g.inserts) != 0 ||
            heap_reserve(&st->expiry, &st->arena, st->expiry.len + g.ttls) != 0)
            return PD_NOMEM;
        for (; i < j; i++) {
            write_op_t *op = &ops[i];
            if (op->skip || op->in_place)
                continue;
            size_t vlen = op->n1 + op->n2;
            op->e = arena_alloc(&st->arena,
                                entry_size(op->klen, vlen, op->expire_at != 0, op->plan.split));
            if (!op->e || (op->plan.split && !(op->apart = arena_alloc(&st->arena, vlen))))
                return PD_NOMEM;
        }
    }
    return PD_OK;
}

static void free_allocations(write_op_t *ops, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        store_t *st = &ops[i].s->store;
        if (ops[i].apart)
            arena_free(&st->arena, ops[i].apart);
        if (ops[i].e && !ops[i].in_place)
            arena_free(&st->arena, ops[i].e);
        ops[i].apart = NULL;
        ops[i].e = NULL;
    }
}

/* Evicts until every session, then the system, is within budget once the
 * pinned entries are given back. Allocations are in the bytes already. */
static pd_status make_room(write_op_t *ops, size_t n, bool *held)
{
    size_t sub = 0;
    for (size_t i = 0; i < n;) {
        size_t j = group_end(ops, n, i);
        session_t *s = ops[i].s;
        write_group_t g = ops[i].group;
        uint64_t cap = s->limits.entries && s->limits.entries < ENTRY_ID_MAX ? s->limits.entries
                                                                             : ENTRY_ID_MAX;
        while ((s->limits.bytes && s->store.arena.bytes > s->limits.bytes + g.sub) ||
               s->store.index.used + g.inserts > cap) {
            hold_all(ops, n, held);
            if (!session_evict_one(s))
                return PD_TOOBIG;
        }
        sub += g.sub;
        i = j;
    }
    env_t *env = ops[0].s->store.env;
    if (!env->limit_bytes || env->bytes <= env->limit_bytes + sub)
        return PD_OK;
    hold_all(ops, n, held);
    return env->make_room(env->make_room_ud, 0, sub);
}

/* Puts the new value in place: nothing here allocates. */
static void swap(write_op_t *op)
{
    session_t *s = op->s;
    store_t *st = &s->store;
    entry_t *old = op->id ? store_entry(st, op->id) : NULL;
    entry_t *e = op->in_place ? old : op->e;
    size_t vlen = op->n1 + op->n2;
    if (!old)
        memset(e, 0, ENTRY_HEADER);
    else if (!op->in_place)
        memcpy(e, old, ENTRY_HEADER); /* keeps its use history */
    entry_set_vlen(e, vlen);
    /* The strategy's bits start over: it takes the entry in as new. */
    e->flags = (uint8_t)((op->expire_at ? ENTRY_TTL : 0) | (op->apart ? ENTRY_SPLIT : 0));
    if (!op->in_place)
        entry_put_key(e, op->key, op->klen);
    if (op->apart)
        entry_set_split_value(e, op->apart);
    /* memmove: the pieces may come from the entry itself. */
    if (op->n1)
        memmove(entry_val(e), op->v1, op->n1);
    if (op->n2)
        memmove(entry_val(e) + op->n1, op->v2, op->n2);
    uint32_t id = op->id;
    if (old && !op->in_place) {
        index_set(&st->index, id, e);
        store_free_entry(st, old, true);
        store_count_entry(st, e);
    } else if (!old) {
        id = index_insert(&st->index, &st->arena, op->h, e); /* reserved: cannot fail */
        store_count_entry(st, e);
    }
    if (op->fresh)
        e->hits = 0; /* a new value: its uses start over, its LFU count not */
    evict_count_use(st, e);
    if (op->fresh)
        e->ctime = e->atime;
    evict_attach(&s->evict, st, id, e); /* reserved */
    if (op->expire_at)
        heap_push(&st->expiry, &st->arena, op->expire_at, id); /* reserved */
    s->counters.writes++;
    s->used_ms = store_now(st);
}

/* --- the whole -------------------------------------------------------------- */

static void refused(write_op_t *ops, size_t n)
{
    for (size_t i = 0; i < n; i = group_end(ops, n, i))
        ops[i].s->counters.refused++;
}

pd_status write_apply(write_op_t *ops, size_t n)
{
    if (n == 0)
        return PD_OK;
    for (size_t i = 0; i < n; i++) {
        write_op_t *op = &ops[i];
        if (!op->looked_up)
            op->id = session_lookup(op->s, op->key, op->klen, &op->h);
        op->skip = false;
        op->e = NULL;
        op->apart = NULL;
    }
    if (n > 1)
        order(ops, n);
    pd_status rc = PD_OK;

    for (size_t i = 0; i < n && rc == PD_OK; i++) {
        write_op_t *op = &ops[i];
        if (op->skip)
            continue;
        size_t vlen = op->n1 + op->n2;
        op->plan = budget_plan(op->s, op->klen, op->n2 <= UINT32_MAX - op->n1 ? vlen : SIZE_MAX,
                               op->id == 0, op->expire_at != 0);
        rc = budget_refusal(op->s, op->klen, op->n1, op->n2, &op->plan);
    }
    if (rc != PD_OK) {
        refused(ops, n);
        return rc;
    }
    /* From the first removal until the swap, removals keep their room:
     * what is pinned can go back, what is reserved stays. */
    bool held = false;
    for (size_t i = 0; i < n; i++) {
        write_op_t *op = &ops[i];
        if (op->skip || !op->id)
            continue;
        hold_all(ops, n, &held);
        pin(op);
        /* The same size class and layout: rewritten where it is. */
        entry_t *old = store_entry(&op->s->store, op->id);
        size_t vlen = op->n1 + op->n2;
        op->in_place = op->plan.add == op->plan.sub && !op->plan.split &&
                       !(old->flags & ENTRY_SPLIT) &&
                       entry_long_value(entry_vlen(old)) == entry_long_value(vlen);
    }
    sum_groups(ops, n);
    rc = check_room(ops, n);
    if (rc == PD_OK)
        rc = take_allocations(ops, n);
    if (rc == PD_OK)
        rc = make_room(ops, n, &held);
    if (rc == PD_OK) {
        for (size_t i = 0; i < n; i++)
            if (!ops[i].skip)
                swap(&ops[i]);
    } else {
        free_allocations(ops, n);
        for (size_t i = 0; i < n; i++)
            if (!ops[i].skip && ops[i].id)
                unpin(&ops[i]);
    }
    for (size_t i = 0; held && i < n; i = group_end(ops, n, i))
        hold_room(ops[i].s, false);
    if (rc != PD_OK) {
        if (rc == PD_NOMEM) /* room reserved for nothing may leave a budget short */
            for (size_t i = 0; i < n; i = group_end(ops, n, i))
                session_settle(ops[i].s);
        refused(ops, n);
    }
    return rc;
}
