/* session: data operations with exact budgets. See session.h. Every write
 * that stores bytes goes through the write path (write.h): planned first,
 * applied all or nothing, every budget met when it returns. */
#include "core/session.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/budget.h"
#include "core/session_internal.h"
#include "core/write.h"

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
    return store_now(&s->store);
}

static inline entry_t *entry_of(const session_t *s, uint32_t id)
{
    return store_entry(&s->store, id);
}

void session_remove_entry(session_t *s, uint32_t id, uint64_t h)
{
    store_t *st = &s->store;
    entry_t *e = entry_of(s, id);
    evict_detach(&s->evict, st, id, e);
    if (e->flags & ENTRY_TTL)
        heap_remove(&st->expiry, &st->arena, entry_ttl_slot(e));
    index_remove(&st->index, &st->arena, id, h);
    store_free_entry(st, e, true);
    if (st->index.used == 0 && !st->index.hold)
        evict_trim_empty(&s->evict, st);
}

uint32_t session_lookup(session_t *s, const void *key, size_t klen, uint64_t *hp)
{
    store_t *st = &s->store;
    uint64_t h = index_hash(&st->index, key, klen);
    if (hp)
        *hp = h;
    uint32_t id = index_find(&st->index, key, klen, h);
    if (id && (entry_of(s, id)->flags & ENTRY_TTL) &&
        store_expire_at(st, entry_of(s, id)) < now_ms(s)) {
        session_remove_entry(s, id, h);
        s->counters.expirations++;
        return 0;
    }
    return id;
}

bool session_evict_one(session_t *s)
{
    uint32_t id = evict_victim(&s->evict, &s->store, s);
    if (!id)
        return false;
    session_remove_entry(s, id, store_hash(&s->store, entry_of(s, id)));
    s->counters.evictions++;
    return true;
}

/* --- writes ---------------------------------------------------------------- */

pd_status session_check_set(session_t *s, const void *key, size_t klen, size_t vlen,
                            bool ttl)
{
    uint32_t id = session_lookup(s, key, klen, NULL);
    budget_plan_t plan = budget_plan(s, klen, vlen, id == 0, ttl);
    return budget_refusal(s, klen, vlen, 0, &plan);
}

/* Writes key = v1 ‖ v2 with an absolute expiry (0 = none) through the
 * write path (write.h). `id`/`h` are the caller's lookup. `fresh` starts
 * the entry's age over (a new value rather than a change to the old one). */
static pd_status write_entry(session_t *s, const void *key, size_t klen, uint64_t h,
                             uint32_t id, const void *v1, size_t n1, const void *v2,
                             size_t n2, int64_t expire_at, bool fresh)
{
    write_op_t op = {.s = s, .key = key, .klen = klen, .v1 = v1, .n1 = n1, .v2 = v2, .n2 = n2,
                     .expire_at = expire_at, .fresh = fresh, .looked_up = true, .id = id,
                     .h = h};
    return write_apply(&op, 1);
}

void session_settle(session_t *s)
{
    while (((s->limits.bytes && s->store.arena.bytes > s->limits.bytes) ||
            (s->limits.entries && s->store.index.used > s->limits.entries)) &&
           session_evict_one(s))
        ;
    env_t *env = s->store.env;
    env->make_room(env->make_room_ud, 0, 0);
}

/* --- data operations ----------------------------------------------------- */

pd_status session_get(session_t *s, const void *key, size_t klen,
                      const unsigned char **val, size_t *vlen)
{
    uint32_t id = session_lookup(s, key, klen, NULL);
    if (!id) {
        s->counters.misses++;
        return PD_NOTFOUND;
    }
    entry_t *e = entry_of(s, id);
    s->counters.hits++;
    s->used_ms = now_ms(s);
    evict_touch(&s->evict, &s->store, id, e);
    *val = entry_val(e);
    *vlen = entry_vlen(e);
    return PD_OK;
}

pd_status session_peek(session_t *s, const void *key, size_t klen,
                       const unsigned char **val, size_t *vlen)
{
    uint32_t id = session_lookup(s, key, klen, NULL);
    if (!id)
        return PD_NOTFOUND;
    *val = entry_val(entry_of(s, id));
    *vlen = entry_vlen(entry_of(s, id));
    return PD_OK;
}

pd_status session_set(session_t *s, const void *key, size_t klen,
                      const void *val, size_t vlen, int flags,
                      int64_t expire_at_ms, char **old, size_t *old_len)
{
    uint64_t h;
    uint32_t id = session_lookup(s, key, klen, &h);
    if (old && id) {
        entry_t *e = entry_of(s, id);
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
        expire_at = (flags & SESSION_SET_KEEPTTL) && id ? store_expire_at(&s->store, entry_of(s, id)) : 0;
    if (expire_at && expire_at <= now_ms(s)) {
        /* Written and expired at once: the key is gone, as in Redis. */
        if (s->writes_denied) {
            s->counters.refused++;
            return PD_DENIED;
        }
        if (id)
            session_remove_entry(s, id, h);
        return PD_OK;
    }
    return write_entry(s, key, klen, h, id, val, vlen, NULL, 0, expire_at, true);
}

pd_status session_del(session_t *s, const void *key, size_t klen)
{
    uint64_t h;
    uint32_t id = session_lookup(s, key, klen, &h);
    if (!id)
        return PD_NOTFOUND;
    session_remove_entry(s, id, h);
    return PD_OK;
}

bool session_exists(session_t *s, const void *key, size_t klen)
{
    return session_lookup(s, key, klen, NULL) != 0;
}

pd_status session_touch(session_t *s, const void *key, size_t klen)
{
    uint32_t id = session_lookup(s, key, klen, NULL);
    if (!id)
        return PD_NOTFOUND;
    evict_touch(&s->evict, &s->store, id, entry_of(s, id));
    s->used_ms = now_ms(s);
    return PD_OK;
}

pd_status session_expire_at(session_t *s, const void *key, size_t klen,
                            int64_t at_ms)
{
    uint64_t h;
    uint32_t id = session_lookup(s, key, klen, &h);
    if (!id)
        return PD_NOTFOUND;
    if (s->writes_denied) {
        s->counters.refused++;
        return PD_DENIED;
    }
    if (at_ms <= now_ms(s)) {
        session_remove_entry(s, id, h);
        return PD_OK;
    }
    entry_t *e = entry_of(s, id);
    if (e->flags & ENTRY_TTL) {
        heap_update(&s->store.expiry, entry_ttl_slot(e), at_ms);
        evict_touch(&s->evict, &s->store, id, e); /* a write, like every other */
        s->used_ms = now_ms(s);
        return PD_OK;
    }
    /* The entry grows by its expiry-heap slot. */
    return write_entry(s, key, klen, h, id, entry_val(e), entry_vlen(e), NULL, 0, at_ms, false);
}

pd_status session_persist(session_t *s, const void *key, size_t klen)
{
    uint64_t h;
    uint32_t id = session_lookup(s, key, klen, &h);
    if (!id)
        return PD_NOTFOUND;
    entry_t *e = entry_of(s, id);
    if (!(e->flags & ENTRY_TTL))
        return PD_NOTSET;
    return write_entry(s, key, klen, h, id, entry_val(e), entry_vlen(e), NULL, 0, 0, false);
}

int64_t session_pttl(session_t *s, const void *key, size_t klen)
{
    uint32_t id = session_lookup(s, key, klen, NULL);
    if (!id)
        return SESSION_TTL_MISSING;
    int64_t at = store_expire_at(&s->store, entry_of(s, id));
    return at ? at - now_ms(s) : SESSION_TTL_NONE;
}

pd_status session_append(session_t *s, const void *key, size_t klen,
                         const void *val, size_t vlen, size_t *new_len)
{
    uint64_t h;
    uint32_t id = session_lookup(s, key, klen, &h);
    pd_status st;
    if (id) {
        entry_t *e = entry_of(s, id);
        size_t n = entry_vlen(e);
        st = write_entry(s, key, klen, h, id, entry_val(e), n, val, vlen,
                         store_expire_at(&s->store, e), false);
        if (st == PD_OK)
            *new_len = n + vlen;
    } else {
        st = write_entry(s, key, klen, h, 0, val, vlen, NULL, 0, 0, true);
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
    uint32_t id = session_lookup(s, key, klen, &h);
    int64_t v = 0;
    if (id && !parse_i64(entry_val(entry_of(s, id)), entry_vlen(entry_of(s, id)), &v))
        return PD_NOTINT;
    if (__builtin_add_overflow(v, delta, &v))
        return PD_OVERFLOW;
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%lld", (long long)v);
    int64_t expire_at = id ? store_expire_at(&s->store, entry_of(s, id)) : 0;
    pd_status st = write_entry(s, key, klen, h, id, buf, (size_t)n, NULL, 0, expire_at, !id);
    if (st == PD_OK)
        *result = v;
    return st;
}

size_t session_strlen(session_t *s, const void *key, size_t klen)
{
    uint32_t id = session_lookup(s, key, klen, NULL);
    return id ? entry_vlen(entry_of(s, id)) : 0;
}

pd_status session_memory_usage(session_t *s, const void *key, size_t klen,
                               uint64_t *bytes)
{
    uint32_t id = session_lookup(s, key, klen, NULL);
    if (!id)
        return PD_NOTFOUND;
    const store_t *st = &s->store;
    entry_t *e = entry_of(s, id);
    const index_t *ix = &st->index;
    /* The entry, plus its share of the two index arrays, plus its nodes. */
    uint64_t index_bytes = arena_usable(&st->arena, ix->cap * sizeof(uint32_t)) +
                           arena_usable(&st->arena, ix->id_cap * sizeof(uintptr_t));
    uint64_t b = store_entry_bytes(st, e) + (index_bytes + ix->used - 1) / ix->used;
    if (evict_uses_heap(&s->evict))
        b += sizeof(heap_node_t);
    if (e->flags & ENTRY_TTL)
        b += sizeof(heap_node_t);
    *bytes = b;
    return PD_OK;
}

uint32_t session_scan(session_t *s, uint32_t cursor, size_t *budget,
                      session_visit_fn fn, void *ud)
{
    const store_t *st = &s->store;
    int64_t now = now_ms(s);
    /* Free ids cost a tenth of a live one, so a sparse id map cannot make
     * one call long (Redis caps empty buckets the same way). */
    size_t free_left = *budget * 10;
    uint32_t id = cursor ? cursor : 1;
    for (; id < st->index.id_top && *budget > 0 && free_left > 0; id++) {
        entry_t *e = index_live(&st->index, id);
        if (!e) {
            free_left--;
            continue;
        }
        --*budget;
        if (!(e->flags & ENTRY_TTL) || store_expire_at(st, e) >= now)
            fn(ud, s, entry_key(e), entry_klen(e));
    }
    return id < st->index.id_top ? id : 0;
}

/* --- whole-session operations ------------------------------------------- */

void session_init(session_t *s, env_t *env, evict_kind kind, uint32_t sample_size,
                  session_limits_t limits)
{
    int64_t now = env_now(env);
    store_init(&s->store, env, now);
    evict_init(&s->evict, &s->store, kind, sample_size);
    s->evict.entry_limit = limits.entries;
    s->limits = limits;
    s->used_ms = now;
}

void session_clear(session_t *s)
{
    store_t *st = &s->store;
    if (arena_renew(&st->arena) == 0) {
        /* Everything lived in the old arena. */
        store_forget_entries(st);
        store_reset(st);
        evict_reset(&s->evict, st);
        return;
    }
    /* No arena to spare: free the entries one by one. */
    for (uint32_t id = index_next(&st->index, 1); id; id = index_next(&st->index, id + 1))
        session_remove_entry(s, id, store_hash(st, entry_of(s, id)));
}

uint64_t session_evict_to(session_t *s, uint64_t bytes)
{
    uint64_t n = 0;
    while (s->store.arena.bytes > bytes && session_evict_one(s))
        n++;
    return n;
}

void session_set_limits(session_t *s, session_limits_t limits)
{
    bool entries_changed = s->limits.entries != limits.entries;
    s->limits = limits;
    if (entries_changed)
        evict_resize(&s->evict, &s->store, limits.entries); /* S3-FIFO's ghost follows it */
    if (limits.bytes)
        session_evict_to(s, limits.bytes);
    while (limits.entries && s->store.index.used > limits.entries && session_evict_one(s))
        ;
}

pd_status session_set_strategy(session_t *s, evict_kind kind)
{
    if ((unsigned)kind >= EVICT_KIND_COUNT)
        return PD_INVALID;
    if (evict_set_kind(&s->evict, &s->store, kind) != 0)
        return PD_NOMEM;
    /* A heap strategy's nodes may push the session over its budget, and
     * the system over its own. */
    if (s->limits.bytes)
        session_evict_to(s, s->limits.bytes);
    env_t *env = s->store.env;
    if (env->limit_bytes)
        env->make_room(env->make_room_ud, 0, 0);
    return PD_OK;
}

size_t session_expire_some(session_t *s, size_t max)
{
    store_t *st = &s->store;
    int64_t now = now_ms(s);
    size_t n = 0;
    while (n < max && st->expiry.len && st->expiry.nodes[0].key < now) {
        uint32_t id = heap_node_id(&st->expiry.nodes[0]);
        session_remove_entry(s, id, store_hash(st, entry_of(s, id)));
        s->counters.expirations++;
        n++;
    }
    return n;
}
