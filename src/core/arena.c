/* arena: session arenas on jemalloc. See arena.h for the rules. */
#include "core/arena.h"

#include "util/log.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <jemalloc/jemalloc.h>

/* jemalloc's hard limit on arena indices (MALLOCX_ARENA_LIMIT - 1). */
#define ARENA_INDEX_LIMIT 4095u
/* Indices kept free for jemalloc's own use and for the process. */
#define ARENA_RESERVE 8u

/* The default hooks of arena 0, to which our hooks delegate everything but
 * giving memory back. */
static extent_hooks_t *default_hooks;
static extent_hooks_t session_hooks;
static bool hooks_ready;

/* The arena being destroyed, if any (the background thread reads it). */
static _Atomic unsigned destroying = UINT_MAX;

/* With opt.retain, jemalloc never unmaps: a destroyed arena would leave its
 * metadata blocks mapped (2 MiB of address space and a mapping per drop).
 * Unmapping them is what makes a drop leave nothing behind. A live arena's
 * extents are refused, as the default hooks refuse them under opt.retain
 * (they stay mapped, purged): unmapping what a live arena gives back by
 * decay or purge made jemalloc 5.3 crash in mallocx within seconds (found
 * by the soak; test_arena_purge). */
static bool hook_dalloc(extent_hooks_t *h, void *addr, size_t size,
                        bool committed, unsigned ind)
{
    (void)h; (void)committed;
    if (ind != destroying)
        return true;
    return munmap(addr, size) != 0;
}

static void hook_destroy(extent_hooks_t *h, void *addr, size_t size,
                         bool committed, unsigned ind)
{
    (void)h; (void)committed; (void)ind;
    munmap(addr, size);
}

static void *hook_alloc(extent_hooks_t *h, void *new_addr, size_t size,
                        size_t alignment, bool *zero, bool *commit,
                        unsigned ind)
{
    (void)h;
    return default_hooks->alloc(default_hooks, new_addr, size, alignment,
                                zero, commit, ind);
}

static bool hook_commit(extent_hooks_t *h, void *addr, size_t size,
                        size_t offset, size_t length, unsigned ind)
{
    (void)h;
    return default_hooks->commit(default_hooks, addr, size, offset, length, ind);
}

static bool hook_decommit(extent_hooks_t *h, void *addr, size_t size,
                          size_t offset, size_t length, unsigned ind)
{
    (void)h;
    return default_hooks->decommit(default_hooks, addr, size, offset, length, ind);
}

static bool hook_purge_lazy(extent_hooks_t *h, void *addr, size_t size,
                            size_t offset, size_t length, unsigned ind)
{
    (void)h;
    return default_hooks->purge_lazy(default_hooks, addr, size, offset, length, ind);
}

static bool hook_purge_forced(extent_hooks_t *h, void *addr, size_t size,
                              size_t offset, size_t length, unsigned ind)
{
    (void)h;
    return default_hooks->purge_forced(default_hooks, addr, size, offset, length, ind);
}

static bool hook_split(extent_hooks_t *h, void *addr, size_t size,
                       size_t size_a, size_t size_b, bool committed,
                       unsigned ind)
{
    (void)h;
    return default_hooks->split(default_hooks, addr, size, size_a, size_b,
                                committed, ind);
}

static bool hook_merge(extent_hooks_t *h, void *addr_a, size_t size_a,
                       void *addr_b, size_t size_b, bool committed,
                       unsigned ind)
{
    (void)h;
    return default_hooks->merge(default_hooks, addr_a, size_a, addr_b, size_b,
                                committed, ind);
}

static int hooks_init(void)
{
    if (hooks_ready)
        return 0;
    size_t sz = sizeof(default_hooks);
    if (mallctl("arena.0.extent_hooks", &default_hooks, &sz, NULL, 0) != 0)
        return -1;
    /* A hook left NULL means "not supported" to jemalloc; keep that. */
    session_hooks = (extent_hooks_t){
        .alloc = hook_alloc,
        .dalloc = hook_dalloc,
        .destroy = hook_destroy,
        .commit = default_hooks->commit ? hook_commit : NULL,
        .decommit = default_hooks->decommit ? hook_decommit : NULL,
        .purge_lazy = default_hooks->purge_lazy ? hook_purge_lazy : NULL,
        .purge_forced = default_hooks->purge_forced ? hook_purge_forced : NULL,
        .split = default_hooks->split ? hook_split : NULL,
        .merge = default_hooks->merge ? hook_merge : NULL,
    };
    hooks_ready = true;
    return 0;
}

unsigned arena_capacity(void)
{
    unsigned narenas = 0;
    size_t sz = sizeof(narenas);
    if (mallctl("opt.narenas", &narenas, &sz, NULL, 0) != 0)
        narenas = 64;
    /* +1 for the huge-allocation arena jemalloc creates on demand. */
    unsigned used = narenas + 1 + ARENA_RESERVE;
    return used < ARENA_INDEX_LIMIT ? ARENA_INDEX_LIMIT - used : 0;
}

int arena_create(arena_t *a, size_t *total)
{
    if (hooks_init() != 0) {
        errno = ENOMEM;
        return -1;
    }
    unsigned index;
    size_t sz = sizeof(index);
    extent_hooks_t *hooks = &session_hooks;
    int rc = mallctl("arenas.create", &index, &sz, &hooks, sizeof(hooks));
    if (rc != 0) {
        errno = rc == EAGAIN ? EAGAIN : ENOMEM;
        return -1;
    }
    a->index = index;
    /* MALLOCX_ARENA(a) shifts a signed int: past index 2046 that overflows,
     * so build the same bits unsigned. */
    a->flags = (int)(((unsigned)index + 1u) << 20) | MALLOCX_TCACHE_NONE;
    a->bytes = 0;
    a->total = total;
    return 0;
}

static inline void account(arena_t *a, size_t add, size_t sub)
{
    a->bytes = a->bytes + add - sub;
    if (a->total)
        *a->total = *a->total + add - sub;
}

static int arena_ctl(const arena_t *a, const char *op)
{
    char name[64];
    snprintf(name, sizeof(name), "arena.%u.%s", a->index, op);
    if (mallctl(name, NULL, NULL, NULL, 0) == 0)
        return 0;
    log_event(LOG_ERROR, "mallctl failed", "ctl", name, NULL);
    return -1;
}

void arena_destroy(arena_t *a)
{
    /* If jemalloc refuses, the bytes stay counted: a leak stays visible. */
    destroying = a->index;
    int rc = arena_ctl(a, "destroy");
    destroying = UINT_MAX;
    if (rc == 0)
        account(a, 0, a->bytes);
}

int arena_renew(arena_t *a)
{
    arena_t fresh;
    if (arena_create(&fresh, a->total) != 0)
        return -1;
    arena_destroy(a);
    *a = fresh;
    return 0;
}

void arena_purge(arena_t *a)
{
    arena_ctl(a, "purge");
}

size_t arena_size_class(size_t n)
{
    return n ? nallocx(n, 0) : 0;
}

size_t arena_usable(const arena_t *a, size_t n)
{
    return n ? nallocx(n, a->flags) : 0;
}

/* Fault injection, for tests (arena_fail_nth): the n-th allocation or
 * growth in any session arena from now on fails. One predictable branch. */
static uint64_t fault_at, fault_seen;

void arena_fail_nth(uint64_t n)
{
    fault_at = n;
    fault_seen = 0;
}

uint64_t arena_allocations_seen(void)
{
    return fault_seen;
}

static bool fault(void)
{
    return fault_at && ++fault_seen == fault_at;
}

void *arena_alloc(arena_t *a, size_t n)
{
    if (n == 0 || fault())
        return NULL;
    void *p = mallocx(n, a->flags);
    if (p)
        account(a, sallocx(p, 0), 0);
    return p;
}

void *arena_realloc(arena_t *a, void *p, size_t n)
{
    if (n == 0)
        return NULL;
    if (!p)
        return arena_alloc(a, n);
    if (fault())
        return NULL;
    size_t old = sallocx(p, 0);
    void *q = rallocx(p, n, a->flags);
    if (q)
        account(a, sallocx(q, 0), old);
    return q;
}

void arena_free(arena_t *a, void *p)
{
    if (!p)
        return;
    account(a, 0, sallocx(p, 0));
    dallocx(p, MALLOCX_TCACHE_NONE);
}

int arena_stats_refresh(void)
{
    uint64_t epoch = 1;
    size_t sz = sizeof(epoch);
    return mallctl("epoch", &epoch, &sz, &epoch, sz) == 0 ? 0 : -1;
}

/* MIBs for the per-arena statistics, resolved once; mib[2] is the arena. */
enum { STAT_SMALL, STAT_LARGE, STAT_PACTIVE, STAT_PDIRTY, STAT_COUNT };
static const char *const stat_names[STAT_COUNT] = {
    "stats.arenas.0.small.allocated",
    "stats.arenas.0.large.allocated",
    "stats.arenas.0.pactive",
    "stats.arenas.0.pdirty",
};
static size_t stat_mib[STAT_COUNT][6];
static size_t stat_miblen[STAT_COUNT];
static size_t page_size;

static int stat_mibs_init(void)
{
    if (page_size)
        return 0;
    for (int i = 0; i < STAT_COUNT; i++) {
        stat_miblen[i] = 6;
        if (mallctlnametomib(stat_names[i], stat_mib[i], &stat_miblen[i]) != 0)
            return -1;
    }
    size_t sz = sizeof(page_size);
    return mallctl("arenas.page", &page_size, &sz, NULL, 0) == 0 ? 0 : -1;
}

static int stat_read(int which, unsigned index, size_t *out)
{
    size_t mib[6];
    memcpy(mib, stat_mib[which], sizeof(mib));
    mib[2] = index;
    size_t sz = sizeof(*out);
    return mallctlbymib(mib, stat_miblen[which], out, &sz, NULL, 0);
}

int arena_stats(const arena_t *a, arena_stats_t *out)
{
    if (stat_mibs_init() != 0)
        return -1;
    size_t v[STAT_COUNT];
    for (int attempt = 0; attempt < 2; attempt++) {
        int rc = 0;
        for (int i = 0; i < STAT_COUNT && rc == 0; i++)
            rc = stat_read(i, a->index, &v[i]);
        if (rc == 0) {
            out->allocated = v[STAT_SMALL] + v[STAT_LARGE];
            out->active = v[STAT_PACTIVE] * page_size;
            out->dirty = v[STAT_PDIRTY] * page_size;
            return 0;
        }
        /* A new arena has no statistics until the next epoch. */
        if (rc != ENOENT || arena_stats_refresh() != 0)
            return -1;
    }
    return -1;
}

int arena_process_stats(arena_process_stats_t *out)
{
    static const char *const names[] = {
        "stats.allocated", "stats.active", "stats.resident",
        "stats.mapped", "stats.retained", "stats.metadata",
    };
    size_t *fields[] = {
        &out->allocated, &out->active, &out->resident,
        &out->mapped, &out->retained, &out->metadata,
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t sz = sizeof(size_t);
        if (mallctl(names[i], fields[i], &sz, NULL, 0) != 0)
            return -1;
    }
    return 0;
}
