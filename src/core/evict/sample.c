/* sample: the chooser strategy. Up to sample_size entries are drawn
 * uniformly at random and the environment's chooser (a policy's Lua
 * function) picks one; without a chooser, or when its answer is not one of
 * the candidates, the least recently used entry goes instead and the error
 * is counted. */
#include "core/evict/family.h"

#define SAMPLE_MAX 64

/* Fills *c with what a chooser sees of entry id. */
static void candidate_fill(const store_t *st, uint32_t id, evict_candidate_t *c)
{
    entry_t *e = store_entry(st, id);
    uint32_t now = store_tick(st);
    c->key = entry_key(e);
    c->klen = entry_klen(e);
    c->bytes = store_entry_bytes(st, e);
    c->idle_ms = (int64_t)(now - e->atime) * ENTRY_TICK_MS;
    c->age_ms = (int64_t)(now - e->ctime) * ENTRY_TICK_MS;
    c->hits = e->hits;
    c->frequency = decayed_freq(st, e, now);
    c->ttl_ms = -1;
    if (e->flags & ENTRY_TTL) {
        int64_t left = store_expire_at(st, e) - store_now(st);
        c->ttl_ms = left > 0 ? left : 0;
    }
    c->id = id;
}

/* Samples up to n distinct entries uniformly at random into c; returns how
 * many (all of them when the session holds n or fewer). */
static size_t sample(const evict_t *v, store_t *st, evict_candidate_t *c, size_t n)
{
    size_t got = 0;
    if (st->index.used <= n) {
        /* All of them: the strategy's list or heap holds every entry but
         * the pinned ones, and walking it costs O(n), not O(ids ever used). */
        if (evict_uses_heap(v)) {
            for (uint32_t j = 0; j < v->heap.len && got < n; j++)
                candidate_fill(st, heap_node_id(&v->heap.nodes[j]), &c[got++]);
        } else {
            for (uint32_t id = v->head; id && got < n; id = entry_next(store_entry(st, id)))
                candidate_fill(st, id, &c[got++]);
        }
        return got;
    }
    /* Distinct ids drawn uniformly; the attempt cap only matters in the
     * unlikely run of repeats. */
    for (size_t attempt = 0; got < n && attempt < n * 8; attempt++) {
        uint32_t id = index_random(&st->index, &st->env->rng);
        bool seen = store_entry(st, id)->flags & ENTRY_PINNED;
        for (size_t j = 0; j < got && !seen; j++)
            seen = c[j].id == id;
        if (!seen)
            candidate_fill(st, id, &c[got++]);
    }
    return got;
}

uint32_t sample_choose(evict_t *v, store_t *st, struct session *owner)
{
    const env_t *env = st->env;
    if (!env->chooser)
        return v->head;
    evict_candidate_t c[SAMPLE_MAX];
    size_t want = v->sample_size < SAMPLE_MAX ? v->sample_size : SAMPLE_MAX;
    size_t n = sample(v, st, c, want ? want : 1);
    if (n == 0)
        return v->head;
    int pick = env->chooser(env->chooser_ud, owner, c, n);
    if (pick == EVICT_CHOOSER_LRU)
        return v->head;
    if (pick < 0 || (size_t)pick >= n) {
        v->chooser_errors++;
        return v->head;
    }
    return c[pick].id;
}
