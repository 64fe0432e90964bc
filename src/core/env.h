/* env: what an engine hands each of its sessions, so that a session, its
 * store and its strategies never call up into the engine: the clock, the
 * sampler, the LFU decay, the chooser, and the system budget.
 *
 * The engine owns one and fills it from its configuration; sessions keep a
 * pointer to it. Only the engine's thread reads or writes it. */
#ifndef POLICYD_CORE_ENV_H
#define POLICYD_CORE_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "util/rng.h"

struct session;
struct evict_candidate;

/* A chooser's answer: evict by LRU this time, and it is no error (the
 * front end has set its chooser aside). */
#define EVICT_CHOOSER_LRU (-2)

/* The chooser strategy's pick among n sampled candidates (core/evict/evict.h
 * says what a candidate holds): returns its index, EVICT_CHOOSER_LRU, or -1
 * (the session then evicts by LRU and counts a chooser error). */
typedef int (*evict_chooser_fn)(void *ud, struct session *s,
                                const struct evict_candidate *c, size_t n);

/* Evicts from other sessions until the system can take `need` more bytes
 * once `freed` are given back: PD_OK or PD_SYSFULL. */
typedef pd_status (*env_make_room_fn)(void *ud, uint64_t need, uint64_t freed);

typedef struct env {
    int64_t (*clock)(void *ud); /* milliseconds on a monotonic clock */
    void *clock_ud;
    uint64_t seed;              /* key hashing */
    rng_t rng;                  /* sampling */
    int64_t lfu_decay_ms;       /* lfu: what one use is worth */
    evict_chooser_fn chooser;   /* NULL: the chooser strategy evicts by LRU */
    void *chooser_ud;
    /* The system budget: the sum of every session's bytes (their arenas
     * keep it), of its entries' bytes (what eviction could give back: a
     * write is planned against it), its limit (0 = none), and who makes
     * room under it. */
    size_t bytes;
    size_t entry_bytes;
    uint64_t limit_bytes;
    env_make_room_fn make_room;
    void *make_room_ud;
} env_t;

static inline int64_t env_now(const env_t *env)
{
    return env->clock(env->clock_ud);
}

#endif
