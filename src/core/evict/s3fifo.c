/* s3fifo: S3-FIFO (SOSP'23) with libCacheSim's defaults. New entries enter
 * a small FIFO (10% of the capacity); leaving it, an entry used twice or
 * more moves to the main FIFO, the others go and their key hashes wait in a
 * ghost FIFO (90% of the capacity) that sends them straight to main when
 * they come back; main re-queues an entry with uses left, one spent each
 * time.
 *
 * The ghost lives in the session's arena, inside its budget: it is sized
 * by the entries the session holds (90% of them, never past 90% of the
 * entry limit), and grows in doubling steps as the session does — through
 * the write path, which plans and reserves its growth like any other
 * byte a write needs (s3fifo_need, s3fifo_reserve). It was once sized
 * from the entry limit alone: {bytes = 16KB, entries = 1000000} held
 * 32.5 MB empty. */
#include <string.h>

#include "core/evict/family.h"

#define S3_MOVE_THRESHOLD 2  /* uses in the small queue that earn main */

void s3fifo_ghost_free(evict_t *v, store_t *st)
{
    arena_free(&st->arena, v->ghost.ring);
    arena_free(&st->arena, v->ghost.keys);
    arena_free(&st->arena, v->ghost.counts);
    memset(&v->ghost, 0, sizeof(v->ghost));
}

/* The slot of hash h in the membership table (or the empty one for it). */
static uint32_t ghost_slot(const evict_t *v, uint64_t h)
{
    uint32_t i = (uint32_t)h & v->ghost.mask;
    while (v->ghost.keys[i] && v->ghost.keys[i] != h)
        i = (i + 1) & v->ghost.mask;
    return i;
}

static bool ghost_has(const evict_t *v, uint64_t h)
{
    return v->ghost.cap && v->ghost.keys[ghost_slot(v, h)] == h;
}

/* Removes one count of h; the slot goes when none is left (backward shift). */
static void ghost_forget(evict_t *v, uint64_t h)
{
    uint32_t i = ghost_slot(v, h);
    if (v->ghost.keys[i] != h || --v->ghost.counts[i] > 0)
        return;
    for (uint32_t j = (i + 1) & v->ghost.mask; v->ghost.keys[j]; j = (j + 1) & v->ghost.mask) {
        uint32_t home = (uint32_t)v->ghost.keys[j] & v->ghost.mask;
        if (((j - home) & v->ghost.mask) >= ((j - i) & v->ghost.mask)) {
            v->ghost.keys[i] = v->ghost.keys[j];
            v->ghost.counts[i] = v->ghost.counts[j];
            i = j;
        }
    }
    v->ghost.keys[i] = 0;
    v->ghost.counts[i] = 0;
}

static void ghost_add(evict_t *v, uint64_t h)
{
    if (!v->ghost.cap)
        return;
    h = h ? h : 1; /* 0 marks an empty slot */
    if (v->ghost.len == v->ghost.cap)
        ghost_forget(v, v->ghost.ring[v->ghost.next]);
    else
        v->ghost.len++;
    v->ghost.ring[v->ghost.next] = h;
    v->ghost.next = (v->ghost.next + 1) % v->ghost.cap;
    uint32_t i = ghost_slot(v, h);
    v->ghost.keys[i] = h;
    v->ghost.counts[i]++;
}

static uint64_t key_hash(const store_t *st, entry_t *e)
{
    uint64_t h = store_hash(st, e);
    return h ? h : 1;
}

/* Capacity in entries: the entry limit, or what the session holds. */
static uint32_t capacity(const evict_t *v, const store_t *st)
{
    uint64_t cap = v->entry_limit ? v->entry_limit : st->index.used;
    return cap > ENTRY_ID_MAX ? ENTRY_ID_MAX : (uint32_t)cap;
}

/* The ghost's capacity for a session holding `held` entries: 90% of them,
 * at most 90% of the entry limit, in doubling steps from 16 so that a
 * growing session rebuilds it O(log n) times. */
static uint32_t ghost_cap_for(const evict_t *v, uint64_t held)
{
    uint64_t most = (v->entry_limit && v->entry_limit < ENTRY_ID_MAX ? v->entry_limit
                                                                     : ENTRY_ID_MAX) * 9 / 10;
    uint64_t want = held * 9 / 10;
    if (want > most)
        want = most;
    if (want <= v->ghost.cap)
        return v->ghost.cap;
    uint64_t cap = v->ghost.cap ? (uint64_t)v->ghost.cap * 2 : 16;
    while (cap < want)
        cap *= 2;
    return (uint32_t)(cap < most ? cap : most);
}

static uint32_t ghost_slots(uint32_t cap)
{
    uint32_t slots = 16;
    while (slots < cap * 2)
        slots *= 2;
    return slots;
}

/* The bytes of a ghost of cap entries. */
static size_t ghost_bytes(const arena_t *a, uint32_t cap)
{
    if (cap == 0)
        return 0;
    uint32_t slots = ghost_slots(cap);
    return arena_usable(a, cap * sizeof(uint64_t)) + arena_usable(a, slots * sizeof(uint64_t)) +
           arena_usable(a, slots * sizeof(uint32_t));
}

/* Rebuilds the ghost with room for cap entries, keeping the newest that fit
 * in their order. 0, or -1 (the old ghost stays). */
static int ghost_rebuild(evict_t *v, store_t *st, uint32_t cap)
{
    evict_t old = *v;
    memset(&v->ghost, 0, sizeof(v->ghost));
    if (cap == 0) {
        s3fifo_ghost_free(&old, st);
        return 0;
    }
    uint32_t slots = ghost_slots(cap);
    v->ghost.ring = arena_alloc(&st->arena, cap * sizeof(uint64_t));
    v->ghost.keys = arena_alloc(&st->arena, slots * sizeof(uint64_t));
    v->ghost.counts = arena_alloc(&st->arena, slots * sizeof(uint32_t));
    if (!v->ghost.ring || !v->ghost.keys || !v->ghost.counts) {
        s3fifo_ghost_free(v, st);
        v->ghost = old.ghost;
        return -1;
    }
    memset(v->ghost.keys, 0, slots * sizeof(uint64_t));
    memset(v->ghost.counts, 0, slots * sizeof(uint32_t));
    v->ghost.cap = cap;
    v->ghost.mask = slots - 1;
    uint32_t keep = old.ghost.len < cap ? old.ghost.len : cap;
    for (uint32_t i = old.ghost.len - keep; i < old.ghost.len; i++)
        ghost_add(v, old.ghost.ring[(old.ghost.next + old.ghost.cap - old.ghost.len + i) %
                                    old.ghost.cap]);
    s3fifo_ghost_free(&old, st);
    return 0;
}

size_t s3fifo_need(const evict_t *v, const store_t *st, uint32_t n)
{
    uint32_t cap = ghost_cap_for(v, (uint64_t)st->index.used + n);
    if (cap == v->ghost.cap)
        return 0;
    return ghost_bytes(&st->arena, cap) - ghost_bytes(&st->arena, v->ghost.cap);
}

int s3fifo_reserve(evict_t *v, store_t *st, uint32_t n)
{
    uint32_t cap = ghost_cap_for(v, (uint64_t)st->index.used + n);
    return cap == v->ghost.cap ? 0 : ghost_rebuild(v, st, cap);
}

int s3fifo_resize(evict_t *v, store_t *st)
{
    /* Fit it to what the session holds now, under the (new) limit. */
    uint32_t cap = v->ghost.cap;
    v->ghost.cap = 0;
    uint32_t want = ghost_cap_for(v, st->index.used);
    v->ghost.cap = cap;
    return want == cap ? 0 : ghost_rebuild(v, st, want);
}

static unsigned s3_freq(const entry_t *e)
{
    return (e->flags & ENTRY_FREQ) >> 4;
}

static void s3_set_freq(entry_t *e, unsigned f)
{
    e->flags = (uint8_t)((e->flags & ~ENTRY_FREQ) | (f << 4));
}

void s3fifo_attach(evict_t *v, store_t *st, uint32_t id, entry_t *e)
{
    uint64_t h = key_hash(st, e);
    e->flags &= (uint8_t)~(ENTRY_MAIN | ENTRY_FREQ);
    if (ghost_has(v, h)) {
        ghost_forget(v, h);
        e->flags |= ENTRY_MAIN;
        queue_push(st, &v->head, &v->tail, id, e);
        v->main_len++;
    } else {
        queue_push(st, &v->small_head, &v->small_tail, id, e);
        v->small_len++;
    }
}

void s3fifo_detach(evict_t *v, store_t *st, entry_t *e)
{
    if (e->flags & ENTRY_MAIN) {
        queue_unlink(st, &v->head, &v->tail, e);
        v->main_len--;
    } else {
        queue_unlink(st, &v->small_head, &v->small_tail, e);
        v->small_len--;
    }
}

/* A use counts (capped at 3); nothing moves on a hit. */
void s3fifo_touch(entry_t *e)
{
    if (s3_freq(e) < 3)
        s3_set_freq(e, s3_freq(e) + 1);
}

/* Moves entries between the queues until one is to go. */
uint32_t s3fifo_victim(evict_t *v, store_t *st)
{
    uint32_t small_target = capacity(v, st) / 10;
    for (;;) {
        if (v->small_head && (v->small_len > small_target || !v->head)) {
            uint32_t id = v->small_head;
            entry_t *e = store_entry(st, id);
            if (s3_freq(e) < S3_MOVE_THRESHOLD) {
                ghost_add(v, key_hash(st, e));
                return id;
            }
            queue_unlink(st, &v->small_head, &v->small_tail, e);
            v->small_len--;
            s3_set_freq(e, 0);
            e->flags |= ENTRY_MAIN;
            queue_push(st, &v->head, &v->tail, id, e);
            v->main_len++;
        } else if (v->head) {
            uint32_t id = v->head;
            entry_t *e = store_entry(st, id);
            if (s3_freq(e) == 0)
                return id;
            s3_set_freq(e, s3_freq(e) - 1);
            queue_unlink(st, &v->head, &v->tail, e);
            queue_push(st, &v->head, &v->tail, id, e);
        } else {
            return 0;
        }
    }
}
