/* family: what evict.c dispatches to, one file per strategy family, and
 * the list and decay arithmetic they share. Internal to core/evict. */
#ifndef POLICYD_CORE_EVICT_FAMILY_H
#define POLICYD_CORE_EVICT_FAMILY_H

#include "core/evict/evict.h"

/* --- lists (lru, ttl, sieve; s3fifo's two queues): head is the least
 * recently used or the oldest. Inline: a hit on an LRU entry is two of
 * these, on every read. */

static inline void queue_push(store_t *st, uint32_t *head, uint32_t *tail, uint32_t id,
                              entry_t *e)
{
    entry_set_prev(e, *tail);
    entry_set_next(e, 0);
    if (*tail)
        entry_set_next(store_entry(st, *tail), id);
    else
        *head = id;
    *tail = id;
}

static inline void queue_unlink(store_t *st, uint32_t *head, uint32_t *tail, entry_t *e)
{
    uint32_t prev = entry_prev(e), next = entry_next(e);
    if (prev)
        entry_set_next(store_entry(st, prev), next);
    else
        *head = next;
    if (next)
        entry_set_prev(store_entry(st, next), prev);
    else
        *tail = prev;
}

static inline void list_attach(evict_t *v, store_t *st, uint32_t id, entry_t *e)
{
    e->flags &= (uint8_t)~ENTRY_VISITED;
    queue_push(st, &v->head, &v->tail, id, e);
}

static inline void list_detach(evict_t *v, store_t *st, entry_t *e)
{
    queue_unlink(st, &v->head, &v->tail, e);
}

/* A use: LRU moves the entry to the tail; SIEVE only sets its visited bit
 * (nothing moves on a hit). ttl keeps LRU order among entries without one. */
static inline void list_touch(evict_t *v, store_t *st, uint32_t id, entry_t *e)
{
    if (v->kind == EVICT_SIEVE) {
        e->flags |= ENTRY_VISITED;
    } else if (v->tail != id) {
        queue_unlink(st, &v->head, &v->tail, e);
        queue_push(st, &v->head, &v->tail, id, e);
    }
}

/* list.c: the next victim of lru, ttl or sieve. */
uint32_t list_victim(evict_t *v, store_t *st);

/* --- the LFU count: each lfu_decay of idleness costs one use. */

static inline uint64_t decay_ticks(const store_t *st)
{
    uint64_t d = (uint64_t)st->env->lfu_decay_ms / ENTRY_TICK_MS;
    return d ? d : 1;
}

static inline unsigned decayed_freq(const store_t *st, const entry_t *e, uint32_t now)
{
    uint64_t idle_periods = (now - e->atime) / decay_ticks(st);
    return idle_periods >= e->freq ? 0 : e->freq - (unsigned)idle_periods;
}

/* score.c: lfu and size, on an indexed heap. */
void score_init(evict_t *v, store_t *st);
int score_attach(evict_t *v, store_t *st, uint32_t id, entry_t *e);
void score_touch(evict_t *v, store_t *st, entry_t *e);

/* s3fifo.c */
void s3fifo_attach(evict_t *v, store_t *st, uint32_t id, entry_t *e);
void s3fifo_detach(evict_t *v, store_t *st, entry_t *e);
void s3fifo_touch(entry_t *e);
uint32_t s3fifo_victim(evict_t *v, store_t *st);
/* Fits the ghost to the entries held and v->entry_limit; 0, or -1 (it
 * stays as it was). */
int s3fifo_resize(evict_t *v, store_t *st);
/* Bytes the ghost grows by for n more entries, and that growth taken. */
size_t s3fifo_need(const evict_t *v, const store_t *st, uint32_t n);
int s3fifo_reserve(evict_t *v, store_t *st, uint32_t n);
void s3fifo_ghost_free(evict_t *v, store_t *st);

/* sample.c: the chooser's pick, or the list head when it has none. */
uint32_t sample_choose(evict_t *v, store_t *st, struct session *owner);

#endif
