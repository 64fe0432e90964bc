/* evict: the strategies of evict.h.
 *
 * LFU rule. Each entry keeps a use count `freq` (exact to 255) and the time
 * of its last use. Its score is freq * D + last_use, where D is the engine's
 * lfu_decay (60 s by default): a use is worth D of standing, and every D of
 * idleness costs one use. The lowest score goes first; equal scores go least
 * recently used first. Because the score only changes when the entry is used,
 * a heap keeps the order exactly, with no periodic aging pass. On a use the
 * count first loses the idle periods it sat out, then gains one, so a key
 * that was hot an hour ago starts again from what it has earned since. */
#include "core/evict.h"

#include <stdlib.h>

#include "core/engine.h"
#include "core/entry.h"
#include "core/session.h"

#define SAMPLE_MAX 64

static const char *const kind_names[EVICT_KIND_COUNT] = {
    [EVICT_LRU] = "lru", [EVICT_LFU] = "lfu", [EVICT_TTL] = "ttl",
    [EVICT_SIZE] = "size", [EVICT_SIEVE] = "sieve", [EVICT_S3FIFO] = "s3fifo",
    [EVICT_CUSTOM] = "custom",
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

static inline bool uses_heap(evict_kind k)
{
    return k == EVICT_LFU || k == EVICT_SIZE;
}

static inline entry_t *ent(const session_t *s, uint32_t id)
{
    return index_entry(&s->index, id);
}

static inline uint32_t now_tick(const session_t *s)
{
    int64_t t = (engine_now(s->engine) - s->created_ms) / ENTRY_TICK_MS;
    return t < 0 ? 0 : t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

static inline uint64_t decay_ticks(const session_t *s)
{
    uint64_t d = (uint64_t)engine_config(s->engine)->lfu_decay_ms / ENTRY_TICK_MS;
    return d ? d : 1;
}

static void heap_moved(void *ctx, uint32_t id, uint32_t slot)
{
    entry_set_heap_slot(ent(ctx, id), slot);
}

static heap_node_t heap_node_for(session_t *s, uint32_t id, entry_t *e)
{
    int64_t key = s->evict.kind == EVICT_LFU
                      ? (int64_t)e->freq * (int64_t)decay_ticks(s) + e->atime
                      : -(int64_t)entry_whole_size(e);
    return (heap_node_t){.key = key, .tie = session_tie(s, id)};
}

/* --- lists: head is the least recently used (or the oldest) ------------- */

static void queue_push(session_t *s, uint32_t *head, uint32_t *tail, uint32_t id, entry_t *e)
{
    entry_set_prev(e, *tail);
    entry_set_next(e, 0);
    if (*tail)
        entry_set_next(ent(s, *tail), id);
    else
        *head = id;
    *tail = id;
}

static void queue_unlink(session_t *s, uint32_t *head, uint32_t *tail, entry_t *e)
{
    uint32_t prev = entry_prev(e), next = entry_next(e);
    if (prev)
        entry_set_next(ent(s, prev), next);
    else
        *head = next;
    if (next)
        entry_set_prev(ent(s, next), prev);
    else
        *tail = prev;
}

static void list_push_tail(session_t *s, uint32_t id, entry_t *e)
{
    queue_push(s, &s->evict.head, &s->evict.tail, id, e);
}

static void list_unlink(session_t *s, entry_t *e)
{
    queue_unlink(s, &s->evict.head, &s->evict.tail, e);
}

/* --- S3-FIFO: the ghost FIFO of key hashes, and the two queues ---------- */

#define S3_MOVE_THRESHOLD 2  /* uses in the small queue that earn main */

static void ghost_free(session_t *s)
{
    evict_t *v = &s->evict;
    arena_free(&s->arena, v->ghost.ring);
    arena_free(&s->arena, v->ghost.keys);
    arena_free(&s->arena, v->ghost.counts);
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

static uint64_t key_hash(const session_t *s, entry_t *e)
{
    uint64_t h = index_hash(&s->index, entry_key(e), entry_klen(e));
    return h ? h : 1;
}

/* Capacity in entries: the entry limit, or what the session holds. */
static uint32_t s3_capacity(const session_t *s)
{
    uint64_t cap = s->limits.entries ? s->limits.entries : s->index.used;
    return cap > ENTRY_ID_MAX ? ENTRY_ID_MAX : (uint32_t)cap;
}

int evict_resize(session_t *s)
{
    if (s->evict.kind != EVICT_S3FIFO)
        return 0;
    ghost_free(s);
    uint32_t cap = (uint32_t)((uint64_t)s3_capacity(s) * 9 / 10);
    if (cap == 0)
        return 0;
    uint32_t slots = 16;
    while (slots < cap * 2)
        slots *= 2;
    evict_t *v = &s->evict;
    v->ghost.ring = arena_alloc(&s->arena, cap * sizeof(uint64_t));
    v->ghost.keys = arena_alloc(&s->arena, slots * sizeof(uint64_t));
    v->ghost.counts = arena_alloc(&s->arena, slots * sizeof(uint32_t));
    if (!v->ghost.ring || !v->ghost.keys || !v->ghost.counts) {
        ghost_free(s);
        return -1;
    }
    memset(v->ghost.keys, 0, slots * sizeof(uint64_t));
    memset(v->ghost.counts, 0, slots * sizeof(uint32_t));
    v->ghost.cap = cap;
    v->ghost.mask = slots - 1;
    return 0;
}

static unsigned s3_freq(const entry_t *e)
{
    return (e->flags & ENTRY_FREQ) >> 4;
}

static void s3_set_freq(entry_t *e, unsigned f)
{
    e->flags = (uint8_t)((e->flags & ~ENTRY_FREQ) | (f << 4));
}

static void s3_attach(session_t *s, uint32_t id, entry_t *e)
{
    evict_t *v = &s->evict;
    uint64_t h = key_hash(s, e);
    e->flags &= (uint8_t)~(ENTRY_MAIN | ENTRY_FREQ);
    if (ghost_has(v, h)) {
        ghost_forget(v, h);
        e->flags |= ENTRY_MAIN;
        queue_push(s, &v->head, &v->tail, id, e);
        v->main_len++;
    } else {
        queue_push(s, &v->small_head, &v->small_tail, id, e);
        v->small_len++;
    }
}

static void s3_detach(session_t *s, entry_t *e)
{
    evict_t *v = &s->evict;
    if (e->flags & ENTRY_MAIN) {
        queue_unlink(s, &v->head, &v->tail, e);
        v->main_len--;
    } else {
        queue_unlink(s, &v->small_head, &v->small_tail, e);
        v->small_len--;
    }
}

/* Moves entries between the queues until one is to go. */
static uint32_t s3_victim(session_t *s)
{
    evict_t *v = &s->evict;
    uint32_t small_target = s3_capacity(s) / 10;
    for (;;) {
        if (v->small_head && (v->small_len > small_target || !v->head)) {
            uint32_t id = v->small_head;
            entry_t *e = ent(s, id);
            if (s3_freq(e) < S3_MOVE_THRESHOLD) {
                ghost_add(v, key_hash(s, e));
                return id;
            }
            queue_unlink(s, &v->small_head, &v->small_tail, e);
            v->small_len--;
            s3_set_freq(e, 0);
            e->flags |= ENTRY_MAIN;
            queue_push(s, &v->head, &v->tail, id, e);
            v->main_len++;
        } else if (v->head) {
            uint32_t id = v->head;
            entry_t *e = ent(s, id);
            if (s3_freq(e) == 0)
                return id;
            s3_set_freq(e, s3_freq(e) - 1);
            queue_unlink(s, &v->head, &v->tail, e);
            queue_push(s, &v->head, &v->tail, id, e);
        } else {
            return 0;
        }
    }
}

/* --- the strategy interface --------------------------------------------- */

void evict_init(session_t *s, evict_kind kind)
{
    memset(&s->evict, 0, sizeof(s->evict));
    s->evict.kind = kind;
    heap_init(&s->evict.heap, heap_moved, s);
}

size_t evict_attach_need(const session_t *s)
{
    return uses_heap(s->evict.kind) ? heap_push_need(&s->evict.heap, &s->arena) : 0;
}

int evict_attach(session_t *s, uint32_t id, entry_t *e)
{
    if (uses_heap(s->evict.kind))
        return heap_push(&s->evict.heap, &s->arena, heap_node_for(s, id, e));
    if (s->evict.kind == EVICT_S3FIFO) {
        s3_attach(s, id, e);
        return 0;
    }
    e->flags &= (uint8_t)~ENTRY_VISITED;
    list_push_tail(s, id, e);
    return 0;
}

void evict_detach(session_t *s, uint32_t id, entry_t *e)
{
    if (s->evict.hand == id) /* the hand stays where the entry was */
        s->evict.hand = entry_next(e);
    if (uses_heap(s->evict.kind))
        heap_remove(&s->evict.heap, &s->arena, entry_heap_slot(e));
    else if (s->evict.kind == EVICT_S3FIFO)
        s3_detach(s, e);
    else
        list_unlink(s, e);
}

static inline unsigned decayed_freq(const session_t *s, const entry_t *e, uint32_t now)
{
    uint64_t idle_periods = (now - e->atime) / decay_ticks(s);
    return idle_periods >= e->freq ? 0 : e->freq - (unsigned)idle_periods;
}

void evict_count_use(session_t *s, entry_t *e)
{
    uint32_t now = now_tick(s);
    unsigned freq = decayed_freq(s, e, now);
    e->freq = (uint8_t)(freq < 255 ? freq + 1 : 255);
    if (e->hits < 255)
        e->hits++;
    e->atime = now;
}

void evict_touch(session_t *s, uint32_t id, entry_t *e)
{
    evict_count_use(s, e);
    if (s->evict.kind == EVICT_S3FIFO) {
        if (s3_freq(e) < 3)
            s3_set_freq(e, s3_freq(e) + 1); /* nothing moves on a hit */
    } else if (s->evict.kind == EVICT_SIEVE) {
        e->flags |= ENTRY_VISITED; /* SIEVE never moves an entry on a hit */
    } else if (uses_heap(s->evict.kind)) {
        heap_update(&s->evict.heap, entry_heap_slot(e), heap_node_for(s, id, e));
    } else if (s->evict.tail != id) {
        list_unlink(s, e);
        list_push_tail(s, id, e);
    }
}

static uint32_t choose(session_t *s)
{
    const engine_config_t *cfg = engine_config(s->engine);
    if (!cfg->chooser)
        return s->evict.head;
    evict_candidate_t c[SAMPLE_MAX];
    size_t want = s->sample_size < SAMPLE_MAX ? s->sample_size : SAMPLE_MAX;
    size_t n = evict_sample(s, c, want ? want : 1);
    if (n == 0)
        return s->evict.head;
    int pick = cfg->chooser(cfg->chooser_ud, s, c, n);
    if (pick < 0 || (size_t)pick >= n) {
        s->counters.chooser_errors++;
        return s->evict.head;
    }
    return c[pick].id;
}

bool evict_has_victim(const session_t *s)
{
    if (uses_heap(s->evict.kind))
        return s->evict.heap.len > 0;
    return s->evict.head != 0 || s->evict.small_head != 0;
}

uint32_t evict_victim(session_t *s)
{
    if (!evict_has_victim(s))
        return 0;
    switch (s->evict.kind) {
    case EVICT_LFU:
    case EVICT_SIZE:
        return heap_node_id(&s->evict.heap.nodes[0]);
    case EVICT_TTL:
        if (s->expiry.len)
            return heap_node_id(&s->expiry.nodes[0]);
        return s->evict.head;
    case EVICT_CUSTOM:
        return choose(s);
    case EVICT_S3FIFO:
        return s3_victim(s);
    case EVICT_SIEVE: {
        uint32_t id = s->evict.hand ? s->evict.hand : s->evict.head;
        for (;;) {
            entry_t *e = ent(s, id);
            if (!(e->flags & ENTRY_VISITED)) {
                s->evict.hand = id;
                return id;
            }
            e->flags &= (uint8_t)~ENTRY_VISITED;
            id = entry_next(e) ? entry_next(e) : s->evict.head;
        }
    }
    case EVICT_LRU:
    case EVICT_KIND_COUNT:
        break;
    }
    return s->evict.head;
}

typedef struct use_order { uint64_t seq; uint32_t id; } use_order_t;

static int use_order_cmp(const void *a, const void *b)
{
    const use_order_t *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int evict_set_kind(session_t *s, evict_kind kind)
{
    evict_kind old = s->evict.kind;
    if (kind == old)
        return 0;
    uint32_t n = s->index.used;
    use_order_t *order = n ? malloc(n * sizeof(*order)) : NULL;
    if (n && !order)
        return -1;
    /* Least recently used first: the list is in that order; a heap node's
     * tie holds the sequence number of the entry's last use. */
    uint32_t i = 0;
    if (!uses_heap(old)) {
        /* S3-FIFO's main queue holds the older entries, its small one the
         * newer; other lists are the one queue. */
        for (uint32_t id = s->evict.head; id; id = entry_next(ent(s, id)), i++)
            order[i] = (use_order_t){i, id};
        for (uint32_t id = s->evict.small_head; id; id = entry_next(ent(s, id)), i++)
            order[i] = (use_order_t){i, id};
    } else {
        for (uint32_t j = 0; j < s->evict.heap.len; j++) {
            const heap_node_t *node = &s->evict.heap.nodes[j];
            order[i++] = (use_order_t){node->tie >> 24, heap_node_id(node)};
        }
        if (n)
            qsort(order, n, sizeof(*order), use_order_cmp);
    }
    if (uses_heap(kind) && n && heap_reserve(&s->evict.heap, &s->arena, n) != 0) {
        free(order);
        return -1;
    }
    /* The old heap's nodes are dropped, not freed: a new heap reuses the
     * array (reserved above) and a list has no use for it. */
    if (uses_heap(old) && !uses_heap(kind))
        heap_free(&s->evict.heap, &s->arena);
    if (old == EVICT_S3FIFO)
        ghost_free(s);
    s->evict.kind = kind;
    s->evict.head = s->evict.tail = s->evict.hand = 0;
    s->evict.small_head = s->evict.small_tail = 0;
    s->evict.small_len = s->evict.main_len = 0;
    s->evict.heap.len = 0;
    for (i = 0; i < n; i++)
        evict_attach(s, order[i].id, ent(s, order[i].id)); /* cannot fail: reserved */
    free(order);
    /* The ghost is sized by the entry limit; without memory, S3-FIFO runs
     * without one (entries then always start in the small queue). */
    evict_resize(s);
    return 0;
}

/* Fills *c with what a chooser sees of entry id. */
static void evict_candidate_fill(session_t *s, uint32_t id, evict_candidate_t *c)
{
    entry_t *e = ent(s, id);
    uint32_t now = now_tick(s);
    c->key = entry_key(e);
    c->klen = entry_klen(e);
    c->bytes = session_entry_bytes(s, e);
    c->idle_ms = (int64_t)(now - e->atime) * ENTRY_TICK_MS;
    c->age_ms = (int64_t)(now - e->ctime) * ENTRY_TICK_MS;
    c->hits = e->hits;
    c->frequency = decayed_freq(s, e, now);
    c->ttl_ms = -1;
    if (e->flags & ENTRY_TTL) {
        int64_t left = s->expiry.nodes[entry_ttl_slot(e)].key - engine_now(s->engine);
        c->ttl_ms = left > 0 ? left : 0;
    }
    c->id = id;
}

size_t evict_sample(session_t *s, evict_candidate_t *c, size_t n)
{
    size_t got = 0;
    if (s->index.used <= n) {
        /* All of them: the strategy's list or heap holds every entry but a
         * pinned one, and walking it costs O(n), not O(ids ever used). */
        if (uses_heap(s->evict.kind)) {
            for (uint32_t j = 0; j < s->evict.heap.len && got < n; j++)
                evict_candidate_fill(s, heap_node_id(&s->evict.heap.nodes[j]), &c[got++]);
        } else {
            for (uint32_t id = s->evict.head; id && got < n; id = entry_next(ent(s, id)))
                evict_candidate_fill(s, id, &c[got++]);
        }
        return got;
    }
    /* Distinct ids drawn uniformly; the attempt cap only matters in the
     * unlikely run of repeats. */
    rng_t *r = engine_rng(s->engine);
    for (size_t attempt = 0; got < n && attempt < n * 8; attempt++) {
        uint32_t id = index_random(&s->index, r);
        bool seen = id == s->pinned;
        for (size_t j = 0; j < got && !seen; j++)
            seen = c[j].id == id;
        if (!seen)
            evict_candidate_fill(s, id, &c[got++]);
    }
    return got;
}
