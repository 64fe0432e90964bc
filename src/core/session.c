/* session: data operations with exact budgets. See session.h.
 *
 * Every write goes through store(): it plans the bytes the write will add
 * (entry, index growth, heap nodes), checks that the write could fit an empty
 * session at all, takes the entry being rewritten out of eviction's reach,
 * evicts until the plan fits the session and the system, reserves what could
 * still fail, and only then changes the entry. So a refused write changes
 * nothing, and a write that returns leaves every budget met. */
#include "core/session.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/engine.h"
#include "core/entry.h"

static const char default_session[] = "default";

void session_name_of_key(const void *key, size_t klen, const char **name,
                         size_t *name_len)
{
    const char *k = key;
    const char *open = klen ? memchr(k, '{', klen) : NULL;
    if (open) {
        const char *close = memchr(open + 1, '}', klen - (size_t)(open + 1 - k));
        if (close && close > open + 1) {
            *name = open + 1;
            *name_len = (size_t)(close - open - 1);
            return;
        }
    }
    const char *colon = klen ? memchr(k, ':', klen) : NULL;
    if (colon && colon > k) {
        *name = k;
        *name_len = (size_t)(colon - k);
        return;
    }
    *name = default_session;
    *name_len = sizeof(default_session) - 1;
}

/* --- helpers ------------------------------------------------------------- */

static inline int64_t now_ms(const session_t *s)
{
    return engine_now(s->engine);
}

static inline entry_t *ent(const session_t *s, uint32_t id)
{
    return index_entry(&s->index, id);
}

/* An entry lives through its expiry millisecond and is gone after it, as in
 * Redis; setting an expiry that is not in the future deletes at once. */
static inline int64_t expire_of(const session_t *s, entry_t *e)
{
    return (e->flags & ENTRY_TTL) ? s->expiry.nodes[entry_ttl_slot(e)].key : 0;
}

static void expiry_moved(void *ctx, uint32_t id, uint32_t slot)
{
    entry_set_ttl_slot(ent(ctx, id), slot);
}

/* Frees an entry and its value, if that is apart. */
static void free_entry(session_t *s, entry_t *e)
{
    if (e->flags & ENTRY_SPLIT)
        arena_free(&s->arena, entry_val(e));
    arena_free(&s->arena, e);
}

size_t session_entry_bytes(session_t *s, entry_t *e)
{
    size_t b = arena_usable(&s->arena, entry_bytes(e));
    return e->flags & ENTRY_SPLIT ? b + arena_usable(&s->arena, entry_vlen(e)) : b;
}

/* Unlinks an entry from everything and frees it. */
static void remove_entry(session_t *s, uint32_t id, uint64_t h)
{
    entry_t *e = ent(s, id);
    evict_detach(s, id, e);
    if (e->flags & ENTRY_TTL)
        heap_remove(&s->expiry, &s->arena, entry_ttl_slot(e));
    index_remove(&s->index, &s->arena, id, h);
    free_entry(s, e);
}

static inline uint64_t entry_hash(const session_t *s, entry_t *e)
{
    return index_hash(&s->index, entry_key(e), entry_klen(e));
}

/* The id of a live key, or 0. An expired key is removed on the way. */
static uint32_t lookup(session_t *s, const void *key, size_t klen, uint64_t *hp)
{
    uint64_t h = index_hash(&s->index, key, klen);
    if (hp)
        *hp = h;
    uint32_t id = index_find(&s->index, key, klen, h);
    if (id && (ent(s, id)->flags & ENTRY_TTL) && expire_of(s, ent(s, id)) < now_ms(s)) {
        remove_entry(s, id, h);
        s->counters.expirations++;
        return 0;
    }
    return id;
}

#define SEQ_LIMIT ((UINT64_C(1) << 40) - 1)

uint64_t session_tie(session_t *s, uint32_t id)
{
    if (s->seq >= SEQ_LIMIT) {
        /* Keep every order the ties express; if memory is short, the
         * sequence wraps and only ties between equal keys may misorder. */
        heap_renumber(&s->evict.heap);
        heap_renumber(&s->expiry);
        s->seq = s->evict.heap.len > s->expiry.len ? s->evict.heap.len : s->expiry.len;
    }
    return s->seq++ << 24 | id;
}

bool session_evict_one(session_t *s)
{
    uint32_t id = evict_victim(s);
    if (!id)
        return false;
    remove_entry(s, id, entry_hash(s, ent(s, id)));
    s->counters.evictions++;
    return true;
}

/* --- budgets ------------------------------------------------------------- */

typedef struct plan {
    size_t add;   /* usable bytes of the new allocations */
    size_t sub;   /* usable bytes of the allocations they replace */
    bool split;   /* the value is its own allocation */
    bool insert;  /* a new key: the index grows, the entry count rises */
    bool ttl;     /* the entry joins the expiry heap */
} plan_t;

static inline bool heap_strategy(const session_t *s)
{
    return s->evict.kind == EVICT_LFU || s->evict.kind == EVICT_SIZE;
}

/* Bytes the write adds now. Evictions only ever lower it. */
static size_t plan_need(const session_t *s, const plan_t *p)
{
    size_t need = p->add + evict_attach_need(s);
    if (p->insert)
        need += index_insert_need(&s->index, &s->arena);
    if (p->ttl)
        need += heap_push_need(&s->expiry, &s->arena);
    return need;
}

/* Bytes the session holds for this write when every other entry is gone.
 * A rewritten entry keeps the id map at its size (ids are stable). */
static size_t plan_floor(const session_t *s, const plan_t *p)
{
    size_t need = p->add + (p->insert ? index_first_need(&s->arena)
                                      : index_floor(&s->index, &s->arena));
    if (heap_strategy(s))
        need += heap_first_need(&s->arena);
    if (p->ttl)
        need += heap_first_need(&s->arena);
    return need;
}

static bool session_fits(const session_t *s, const plan_t *p, size_t need)
{
    if (s->limits.bytes && s->arena.bytes + need > s->limits.bytes + p->sub)
        return false;
    if (p->insert) {
        uint64_t cap = s->limits.entries && s->limits.entries < ENTRY_ID_MAX
                           ? s->limits.entries : ENTRY_ID_MAX;
        if (s->index.used + 1 > cap)
            return false;
    }
    return true;
}

static pd_status make_room(session_t *s, const plan_t *p)
{
    for (;;) {
        size_t need = plan_need(s, p);
        if (!session_fits(s, p, need)) {
            if (!session_evict_one(s))
                return PD_TOOBIG;
            continue;
        }
        uint64_t limit = engine_config(s->engine)->limit_bytes;
        if (!limit || engine_bytes(s->engine) + need <= limit + p->sub)
            return PD_OK;
        pd_status st = engine_make_room(s->engine, need, p->sub);
        if (st != PD_OK)
            return st;
    }
}

/* Puts a detached entry back as it was; if that cannot be done (a heap
 * could not grow back), the entry is removed: the outcome stays defined. */
static void restore(session_t *s, uint32_t id, uint64_t h, int64_t expire_at)
{
    entry_t *e = ent(s, id);
    bool ok = evict_attach(s, id, e) == 0;
    if (ok && expire_at) {
        heap_node_t n = {.key = expire_at, .tie = session_tie(s, id)};
        if (heap_push(&s->expiry, &s->arena, n) != 0) {
            evict_detach(s, id, e);
            ok = false;
        }
    }
    if (!ok) {
        e->flags &= (uint8_t)~ENTRY_TTL;
        index_remove(&s->index, &s->arena, id, h);
        free_entry(s, e);
    }
}

/* Writes key = v1 ‖ v2 with an absolute expiry (0 = none). `id` is the entry
 * being rewritten (0 for a new key); v1/v2 may point into it. `fresh` starts
 * the entry's age over (a new value rather than a change to the old one). */
/* The refusals a write meets before anything changes: writes denied, or
 * an entry that could not fit even an otherwise empty session. */
static pd_status precheck(session_t *s, size_t klen, size_t n1, size_t n2,
                          const plan_t *plan)
{
    if (s->writes_denied)
        return PD_DENIED;
    if (klen > UINT32_MAX || n1 > UINT32_MAX || n2 > UINT32_MAX - n1)
        return PD_TOOBIG;
    uint64_t sys_limit = engine_config(s->engine)->limit_bytes;
    size_t floor = plan_floor(s, plan);
    if (plan->add == 0 || (s->limits.bytes && floor > s->limits.bytes) ||
        (sys_limit && floor > sys_limit))
        return PD_TOOBIG;
    return PD_OK;
}

/* Values from this size on are split from their entry when the two size
 * classes apart sum to less than the one together. */
#define SPLIT_MIN 256

static plan_t plan_for(session_t *s, size_t klen, size_t vlen, bool insert, bool ttl)
{
    plan_t p = {.insert = insert, .ttl = ttl};
    if (klen > UINT32_MAX || vlen > UINT32_MAX)
        return p; /* add 0: too big */
    p.add = arena_usable(&s->arena, entry_size(klen, vlen, ttl, false));
    if (vlen >= SPLIT_MIN) {
        size_t apart = arena_usable(&s->arena, entry_size(klen, vlen, ttl, true)) +
                       arena_usable(&s->arena, vlen);
        if (apart < p.add) {
            p.add = apart;
            p.split = true;
        }
    }
    return p;
}

pd_status session_check_set(session_t *s, const void *key, size_t klen, size_t vlen,
                            bool ttl)
{
    uint32_t id = lookup(s, key, klen, NULL);
    plan_t plan = plan_for(s, klen, vlen, id == 0, ttl);
    return precheck(s, klen, vlen, 0, &plan);
}

static pd_status store(session_t *s, const void *key, size_t klen, uint64_t h,
                       uint32_t id, const void *v1, size_t n1, const void *v2,
                       size_t n2, int64_t expire_at, bool fresh)
{
    size_t vlen = n1 + n2;
    plan_t plan = plan_for(s, klen, n2 <= UINT32_MAX - n1 ? vlen : SIZE_MAX, id == 0,
                           expire_at != 0);
    pd_status pre = precheck(s, klen, n1, n2, &plan);
    if (pre != PD_OK) {
        s->counters.refused++;
        return pre;
    }

    /* Take the entry being rewritten out of eviction's reach. */
    entry_t *old = id ? ent(s, id) : NULL;
    int64_t old_expire = 0;
    if (old) {
        old_expire = expire_of(s, old);
        plan.sub = session_entry_bytes(s, old);
        evict_detach(s, id, old);
        s->pinned = id; /* a custom chooser's sample must skip it too */
        if (old->flags & ENTRY_TTL)
            heap_remove(&s->expiry, &s->arena, entry_ttl_slot(old));
    }

    pd_status st = make_room(s, &plan);
    s->pinned = 0;
    if (st == PD_OK && heap_strategy(s) &&
        heap_reserve(&s->evict.heap, &s->arena, s->evict.heap.len + 1) != 0)
        st = PD_NOMEM;
    if (st == PD_OK && expire_at &&
        heap_reserve(&s->expiry, &s->arena, s->expiry.len + 1) != 0)
        st = PD_NOMEM;
    /* A value of the same size class and layout is rewritten where it is. */
    bool in_place = old && plan.add == plan.sub && !plan.split && !(old->flags & ENTRY_SPLIT) &&
                    entry_long_value(entry_vlen(old)) == entry_long_value(vlen);
    entry_t *e = NULL;
    unsigned char *apart = NULL;
    if (st == PD_OK && !in_place) {
        e = arena_alloc(&s->arena, entry_size(klen, vlen, expire_at != 0, plan.split));
        if (e && plan.split && !(apart = arena_alloc(&s->arena, vlen))) {
            arena_free(&s->arena, e);
            e = NULL;
        }
        if (!e)
            st = PD_NOMEM;
    } else if (st == PD_OK) {
        e = old;
    }
    if (st != PD_OK) {
        if (old)
            restore(s, id, h, old_expire);
        s->counters.refused++;
        return st;
    }

    if (!old)
        memset(e, 0, ENTRY_HEADER);
    else if (!in_place)
        memcpy(e, old, ENTRY_HEADER); /* keeps its use history */
    entry_set_vlen(e, vlen);
    e->flags = (expire_at ? ENTRY_TTL : 0) | (apart ? ENTRY_SPLIT : 0);
    if (!in_place)
        entry_put_key(e, key, klen);
    if (apart)
        entry_set_split_value(e, apart);
    /* memmove: the pieces may come from the entry itself. */
    if (n1)
        memmove(entry_val(e), v1, n1);
    if (n2)
        memmove(entry_val(e) + n1, v2, n2);

    if (old && !in_place) {
        index_set(&s->index, id, e);
        free_entry(s, old);
    } else if (!old) {
        id = index_insert(&s->index, &s->arena, h, e);
        if (!id) {
            free_entry(s, e);
            s->counters.refused++;
            return PD_NOMEM;
        }
    }
    if (fresh)
        e->hits = 0; /* a new value: its uses start over, its LFU count not */
    evict_count_use(s, e);
    if (fresh)
        e->ctime = e->atime;
    evict_attach(s, id, e); /* cannot fail: reserved above */
    if (expire_at)
        heap_push(&s->expiry, &s->arena,
                  (heap_node_t){.key = expire_at, .tie = session_tie(s, id)});
    s->counters.writes++;
    s->used_ms = now_ms(s);
    return PD_OK;
}

/* --- data operations ----------------------------------------------------- */

pd_status session_get(session_t *s, const void *key, size_t klen,
                      const unsigned char **val, size_t *vlen)
{
    uint32_t id = lookup(s, key, klen, NULL);
    if (!id) {
        s->counters.misses++;
        return PD_NOTFOUND;
    }
    entry_t *e = ent(s, id);
    s->counters.hits++;
    s->used_ms = now_ms(s);
    evict_touch(s, id, e);
    *val = entry_val(e);
    *vlen = entry_vlen(e);
    return PD_OK;
}

pd_status session_peek(session_t *s, const void *key, size_t klen,
                       const unsigned char **val, size_t *vlen)
{
    uint32_t id = lookup(s, key, klen, NULL);
    if (!id)
        return PD_NOTFOUND;
    *val = entry_val(ent(s, id));
    *vlen = entry_vlen(ent(s, id));
    return PD_OK;
}

pd_status session_set(session_t *s, const void *key, size_t klen,
                      const void *val, size_t vlen, int flags,
                      int64_t expire_at_ms, char **old, size_t *old_len)
{
    uint64_t h;
    uint32_t id = lookup(s, key, klen, &h);
    if (old && id) {
        entry_t *e = ent(s, id);
        *old = malloc(entry_vlen(e) ? entry_vlen(e) : 1);
        if (!*old)
            return PD_NOMEM;
        memcpy(*old, entry_val(e), entry_vlen(e));
        *old_len = entry_vlen(e);
    }
    if (expire_at_ms < 0)
        return PD_INVALID;
    if (((flags & SESSION_SET_NX) && id) || ((flags & SESSION_SET_XX) && !id))
        return PD_NOTSET;
    int64_t expire_at = expire_at_ms;
    if (expire_at == 0)
        expire_at = (flags & SESSION_SET_KEEPTTL) && id ? expire_of(s, ent(s, id)) : 0;
    if (expire_at && expire_at <= now_ms(s)) {
        /* Written and expired at once: the key is gone, as in Redis. */
        if (s->writes_denied) {
            s->counters.refused++;
            return PD_DENIED;
        }
        if (id)
            remove_entry(s, id, h);
        return PD_OK;
    }
    return store(s, key, klen, h, id, val, vlen, NULL, 0, expire_at, true);
}

pd_status session_del(session_t *s, const void *key, size_t klen)
{
    uint64_t h;
    uint32_t id = lookup(s, key, klen, &h);
    if (!id)
        return PD_NOTFOUND;
    remove_entry(s, id, h);
    return PD_OK;
}

bool session_exists(session_t *s, const void *key, size_t klen)
{
    return lookup(s, key, klen, NULL) != 0;
}

pd_status session_touch(session_t *s, const void *key, size_t klen)
{
    uint32_t id = lookup(s, key, klen, NULL);
    if (!id)
        return PD_NOTFOUND;
    evict_touch(s, id, ent(s, id));
    s->used_ms = now_ms(s);
    return PD_OK;
}

pd_status session_expire_at(session_t *s, const void *key, size_t klen,
                            int64_t at_ms)
{
    uint64_t h;
    uint32_t id = lookup(s, key, klen, &h);
    if (!id)
        return PD_NOTFOUND;
    if (s->writes_denied) {
        s->counters.refused++;
        return PD_DENIED;
    }
    if (at_ms <= now_ms(s)) {
        remove_entry(s, id, h);
        return PD_OK;
    }
    entry_t *e = ent(s, id);
    if (e->flags & ENTRY_TTL) {
        uint32_t slot = entry_ttl_slot(e);
        heap_update(&s->expiry, slot, (heap_node_t){.key = at_ms, .tie = session_tie(s, id)});
        evict_touch(s, id, e); /* a write, like every other */
        s->used_ms = now_ms(s);
        return PD_OK;
    }
    /* The entry grows by its expiry-heap slot. */
    return store(s, key, klen, h, id, entry_val(e), entry_vlen(e), NULL, 0, at_ms, false);
}

pd_status session_persist(session_t *s, const void *key, size_t klen)
{
    uint64_t h;
    uint32_t id = lookup(s, key, klen, &h);
    if (!id)
        return PD_NOTFOUND;
    entry_t *e = ent(s, id);
    if (!(e->flags & ENTRY_TTL))
        return PD_NOTSET;
    return store(s, key, klen, h, id, entry_val(e), entry_vlen(e), NULL, 0, 0, false);
}

int64_t session_pttl(session_t *s, const void *key, size_t klen)
{
    uint32_t id = lookup(s, key, klen, NULL);
    if (!id)
        return SESSION_TTL_MISSING;
    int64_t at = expire_of(s, ent(s, id));
    return at ? at - now_ms(s) : SESSION_TTL_NONE;
}

pd_status session_append(session_t *s, const void *key, size_t klen,
                         const void *val, size_t vlen, size_t *new_len)
{
    uint64_t h;
    uint32_t id = lookup(s, key, klen, &h);
    pd_status st;
    if (id) {
        entry_t *e = ent(s, id);
        size_t n = entry_vlen(e);
        st = store(s, key, klen, h, id, entry_val(e), n, val, vlen, expire_of(s, e), false);
        if (st == PD_OK)
            *new_len = n + vlen;
    } else {
        st = store(s, key, klen, h, 0, val, vlen, NULL, 0, 0, true);
        if (st == PD_OK)
            *new_len = vlen;
    }
    return st;
}

/* Redis's rule for integers in strings: optional '-', no leading zeros, no
 * spaces or '+', at most 20 characters, within int64. */
static bool parse_i64(const unsigned char *p, size_t n, int64_t *out)
{
    if (n == 0 || n > 20)
        return false;
    if (n == 1 && p[0] == '0') {
        *out = 0;
        return true;
    }
    size_t i = p[0] == '-';
    if (i == n || p[i] < '1' || p[i] > '9')
        return false;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    if (p[0] == '-') {
        if (v > (uint64_t)INT64_MAX + 1)
            return false;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)v;
    }
    return true;
}

pd_status session_incrby(session_t *s, const void *key, size_t klen,
                         int64_t delta, int64_t *result)
{
    uint64_t h;
    uint32_t id = lookup(s, key, klen, &h);
    int64_t v = 0;
    if (id && !parse_i64(entry_val(ent(s, id)), entry_vlen(ent(s, id)), &v))
        return PD_NOTINT;
    if (__builtin_add_overflow(v, delta, &v))
        return PD_OVERFLOW;
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%lld", (long long)v);
    int64_t expire_at = id ? expire_of(s, ent(s, id)) : 0;
    pd_status st = store(s, key, klen, h, id, buf, (size_t)n, NULL, 0, expire_at, !id);
    if (st == PD_OK)
        *result = v;
    return st;
}

size_t session_strlen(session_t *s, const void *key, size_t klen)
{
    uint32_t id = lookup(s, key, klen, NULL);
    return id ? entry_vlen(ent(s, id)) : 0;
}

pd_status session_memory_usage(session_t *s, const void *key, size_t klen,
                               uint64_t *bytes)
{
    uint32_t id = lookup(s, key, klen, NULL);
    if (!id)
        return PD_NOTFOUND;
    entry_t *e = ent(s, id);
    const index_t *ix = &s->index;
    /* The entry, plus its share of the two index arrays, plus its nodes. */
    uint64_t index_bytes = arena_usable(&s->arena, ix->cap * sizeof(uint32_t)) +
                           arena_usable(&s->arena, ix->id_cap * sizeof(uintptr_t));
    uint64_t b = session_entry_bytes(s, e) + (index_bytes + ix->used - 1) / ix->used;
    if (heap_strategy(s))
        b += sizeof(heap_node_t);
    if (e->flags & ENTRY_TTL)
        b += sizeof(heap_node_t);
    *bytes = b;
    return PD_OK;
}

uint32_t session_scan(session_t *s, uint32_t cursor, size_t *budget,
                      session_visit_fn fn, void *ud)
{
    int64_t now = now_ms(s);
    /* Free ids cost a tenth of a live one, so a sparse id map cannot make
     * one call long (Redis caps empty buckets the same way). */
    size_t free_left = *budget * 10;
    uint32_t id = cursor ? cursor : 1;
    for (; id < s->index.id_top && *budget > 0 && free_left > 0; id++) {
        entry_t *e = index_live(&s->index, id);
        if (!e) {
            free_left--;
            continue;
        }
        --*budget;
        if (!(e->flags & ENTRY_TTL) || expire_of(s, e) >= now)
            fn(ud, s, entry_key(e), entry_klen(e));
    }
    return id < s->index.id_top ? id : 0;
}

/* --- whole-session operations ------------------------------------------- */

void session_init(session_t *s, struct engine *e, evict_kind kind)
{
    s->engine = e;
    index_init(&s->index, engine_seed(e));
    evict_init(s, kind);
    heap_init(&s->expiry, expiry_moved, s);
}

void session_fini(session_t *s)
{
    /* Everything lives in the arena, which the engine destroys. */
    index_init(&s->index, s->index.seed);
    evict_init(s, s->evict.kind);
    heap_init(&s->expiry, expiry_moved, s);
}

void session_clear(session_t *s)
{
    if (arena_renew(&s->arena) == 0) {
        session_fini(s);
        return;
    }
    /* No arena to spare: free the entries one by one. */
    for (uint32_t id = index_next(&s->index, 1); id; id = index_next(&s->index, id + 1))
        remove_entry(s, id, entry_hash(s, ent(s, id)));
}

uint64_t session_evict_to(session_t *s, uint64_t bytes)
{
    uint64_t n = 0;
    while (s->arena.bytes > bytes && session_evict_one(s))
        n++;
    return n;
}

void session_set_limits(session_t *s, session_limits_t limits)
{
    bool entries_changed = s->limits.entries != limits.entries;
    s->limits = limits;
    if (entries_changed)
        evict_resize(s); /* the S3-FIFO ghost follows the entry limit */
    if (limits.bytes)
        session_evict_to(s, limits.bytes);
    while (limits.entries && s->index.used > limits.entries && session_evict_one(s))
        ;
}

pd_status session_set_strategy(session_t *s, evict_kind kind)
{
    if ((unsigned)kind >= EVICT_KIND_COUNT)
        return PD_INVALID;
    if (evict_set_kind(s, kind) != 0)
        return PD_NOMEM;
    /* A heap strategy's nodes may push the session over its budget. */
    if (s->limits.bytes)
        session_evict_to(s, s->limits.bytes);
    uint64_t limit = engine_config(s->engine)->limit_bytes;
    if (limit)
        engine_evict_to(s->engine, limit);
    return PD_OK;
}

size_t session_expire_some(session_t *s, size_t max)
{
    int64_t now = now_ms(s);
    size_t n = 0;
    while (n < max && s->expiry.len && s->expiry.nodes[0].key < now) {
        uint32_t id = heap_node_id(&s->expiry.nodes[0]);
        remove_entry(s, id, entry_hash(s, ent(s, id)));
        s->counters.expirations++;
        n++;
    }
    return n;
}
