/* arena: one jemalloc arena per session, with an exact inline byte count.
 *
 * This is the only module that touches session memory (DESIGN.md §3). Every
 * allocation goes through mallocx/rallocx/dallocx with MALLOCX_ARENA and
 * MALLOCX_TCACHE_NONE, so no byte ever sits in a thread cache or another
 * arena, and `bytes` (the sum of usable sizes) equals jemalloc's own
 * small.allocated + large.allocated for the arena at every moment.
 *
 * Arenas are created with extent hooks that unmap on dalloc/destroy, so a
 * destroyed arena leaves no address space or mapping behind (measured in
 * ../shared/notes/jemalloc-arenas.md §3). Only one thread (the engine's)
 * may allocate, free, reset or destroy. */
#ifndef POLICYD_CORE_ARENA_H
#define POLICYD_CORE_ARENA_H

#include <stddef.h>
#include <stdint.h>

typedef struct arena {
    unsigned index; /* jemalloc arena index */
    int flags;      /* MALLOCX_ARENA(index) | MALLOCX_TCACHE_NONE */
    size_t bytes;   /* sum of usable sizes of live allocations */
    size_t *total;  /* a sum over many arenas to keep in step, or NULL */
} arena_t;

/* Per-arena figures from jemalloc's statistics (as of the last refresh). */
typedef struct arena_stats {
    size_t allocated; /* small.allocated + large.allocated */
    size_t active;    /* pactive * page: pages holding live data */
    size_t dirty;     /* pdirty * page: freed, not yet returned */
} arena_stats_t;

/* Process-wide jemalloc figures (as of the last refresh). */
typedef struct arena_process_stats {
    size_t allocated, active, resident, mapped, retained, metadata;
} arena_process_stats_t;

/* How many arenas sessions may create in this process: jemalloc's index
 * space (4,095) less the automatic arenas and a small reserve. */
unsigned arena_capacity(void);

/* Creates an arena whose bytes are also added to *total (if not NULL).
 * Returns 0, or -1 when jemalloc has no index left or no memory (errno says
 * which: EAGAIN or ENOMEM). */
int arena_create(arena_t *a, size_t *total);

/* Releases every allocation and the arena itself; `a` is dead afterwards. */
void arena_destroy(arena_t *a);

/* Frees every allocation at once by moving to a fresh arena (the index may
 * change); bytes becomes 0. Returns 0, or -1 (no arena could be created:
 * nothing changed). jemalloc's arena reset is not used: reusing an arena
 * after a reset with custom extent hooks crashed jemalloc 5.3 in our tests. */
int arena_renew(arena_t *a);

/* Returns the arena's dirty pages to the system now ("force GC"). */
void arena_purge(arena_t *a);

/* The usable bytes malloc gives for a request of n outside any session
 * arena (jemalloc's size class of n; 0 for 0): for caps on process memory. */
size_t arena_size_class(size_t n);

/* Usable size an allocation of n bytes would get; 0 if n is impossible. */
size_t arena_usable(const arena_t *a, size_t n);

/* Allocates n > 0 bytes; NULL on failure. The caller checks budgets first
 * with arena_usable. */
void *arena_alloc(arena_t *a, size_t n);

/* Fault injection for tests: from now on, the n-th arena_alloc or
 * arena_realloc (counted across every arena) fails as if jemalloc had
 * refused it; 0 ends it. arena_allocations_seen() counts the calls since,
 * while it is on. */
void arena_fail_nth(uint64_t n);
uint64_t arena_allocations_seen(void);

/* Resizes p to n > 0 bytes; NULL on failure, and p is then unchanged. */
void *arena_realloc(arena_t *a, void *p, size_t n);

/* Frees p (NULL is allowed). */
void arena_free(arena_t *a, void *p);

/* Refreshes jemalloc's statistics (mallctl "epoch"). It walks every arena,
 * about 20 ms at 1,000 arenas: never call it per request. */
int arena_stats_refresh(void);

/* jemalloc's figures for one arena as of the last refresh. An arena created
 * after the last refresh triggers one. Returns 0 or -1. */
int arena_stats(const arena_t *a, arena_stats_t *out);

/* Process-wide figures as of the last refresh. Returns 0 or -1. */
int arena_process_stats(arena_process_stats_t *out);

#endif
