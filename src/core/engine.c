/* engine: session registry, system budget, clock. See engine.h.
 *
 * Session structs live in one array sized for every arena jemalloc can give
 * us, so creating and dropping sessions never allocates process memory but
 * the name. A name table (open addressing, backward-shift deletion) finds a
 * session by name; a dense list of live slots keeps iteration, expiry and
 * system eviction proportional to the sessions that exist. */
#include "core/engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/time.h"

#define DEFAULT_SAMPLE_SIZE 5
#define DEFAULT_LFU_DECAY_MS 60000
#define MAX_LFU_DECAY_MS (INT64_C(365) * 24 * 3600 * 1000)

typedef struct name_slot {
    uint32_t hash;
    uint32_t slot; /* session slot + 1; 0 = empty */
} name_slot_t;

struct engine {
    engine_config_t cfg;   /* as given, defaults filled; what sessions are
                            * handed (clock, seed, decay, chooser, system
                            * byte limit) is read from env only */
    env_t env;             /* what every session is handed */
    session_t *slots;      /* capacity */
    uint32_t capacity;     /* sessions jemalloc's arenas allow */
    uint32_t *free_slots;  /* stack of unused slots */
    uint32_t nfree;
    uint32_t *live;        /* slots of live sessions, dense */
    uint32_t nlive;
    name_slot_t *names;
    uint32_t names_mask;
    uint32_t expire_next;  /* position in live where expiry resumes */
    uint32_t max_arena_index;
    int64_t refreshed_ms;  /* engine_refresh_stats' last refresh */
    uint32_t *touched;     /* slots the running command opened or doomed */
    uint32_t ntouched;
    uint32_t ndoomed;      /* admission victims waiting for the command's end */
    bool asked;            /* the front end's on_full or on_open ran in it */
};

static int64_t monotonic_ms(void *ud)
{
    (void)ud;
    return time_monotonic_ms();
}

static pd_status make_room(void *ud, uint64_t need, uint64_t freed);

engine_t *engine_create(const engine_config_t *cfg)
{
    engine_t *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->cfg = *cfg;
    if (!e->cfg.sample_size)
        e->cfg.sample_size = DEFAULT_SAMPLE_SIZE;
    if (!e->cfg.max_name)
        e->cfg.max_name = ENGINE_MAX_NAME;
    if ((unsigned)e->cfg.strategy >= EVICT_KIND_COUNT)
        e->cfg.strategy = EVICT_LRU;
    int64_t decay = cfg->lfu_decay_ms <= 0 ? DEFAULT_LFU_DECAY_MS : cfg->lfu_decay_ms;
    e->env = (env_t){
        .clock = cfg->clock ? cfg->clock : monotonic_ms,
        .clock_ud = cfg->clock_ud,
        .seed = cfg->seed,
        .rng = {.state = cfg->seed},
        /* capped: keeps uses * decay in range */
        .lfu_decay_ms = decay > MAX_LFU_DECAY_MS ? MAX_LFU_DECAY_MS : decay,
        .chooser = cfg->chooser,
        .chooser_ud = cfg->chooser_ud,
        .limit_bytes = cfg->limit_bytes,
        .make_room = make_room,
        .make_room_ud = e,
    };
    e->capacity = arena_capacity();
    uint32_t names = 16;
    while (names < e->capacity * 2)
        names *= 2;
    e->names_mask = names - 1;
    e->slots = calloc(e->capacity, sizeof(session_t));
    e->free_slots = malloc(e->capacity * sizeof(uint32_t));
    e->live = malloc(e->capacity * sizeof(uint32_t));
    e->touched = malloc(e->capacity * sizeof(uint32_t));
    e->names = calloc(names, sizeof(name_slot_t));
    if (!e->capacity || !e->slots || !e->free_slots || !e->live || !e->names || !e->touched) {
        engine_destroy(e);
        return NULL;
    }
    /* Lowest slots on top, so scans meet sessions early. */
    for (uint32_t i = 0; i < e->capacity; i++)
        e->free_slots[i] = e->capacity - 1 - i;
    e->nfree = e->capacity;
    return e;
}

void engine_destroy(engine_t *e)
{
    if (!e)
        return;
    if (e->slots)
        engine_drop_all(e);
    free(e->slots);
    free(e->free_slots);
    free(e->live);
    free(e->touched);
    free(e->names);
    free(e);
}

int64_t engine_now(const engine_t *e)
{
    return env_now(&e->env);
}

uint32_t engine_session_count(const engine_t *e)
{
    return e->nlive;
}

uint64_t engine_bytes(const engine_t *e)
{
    return e->env.bytes;
}

/* --- the name table ------------------------------------------------------ */

static uint32_t name_hash(const engine_t *e, const void *name, size_t len)
{
    return (uint32_t)hash_bytes(name, len, e->env.seed ^ 0x5e5510);
}

/* The name-table position of `name`, or of the empty slot where it goes. */
static uint32_t name_pos(const engine_t *e, const void *name, size_t len, uint32_t h)
{
    for (uint32_t i = h & e->names_mask;; i = (i + 1) & e->names_mask) {
        const name_slot_t *n = &e->names[i];
        if (!n->slot)
            return i;
        const session_t *s = &e->slots[n->slot - 1];
        if (n->hash == h && s->name_len == len && memcmp(s->name, name, len) == 0)
            return i;
    }
}

static void name_remove(engine_t *e, uint32_t i)
{
    /* Backward shift: pull later members of the probe run into the hole. */
    for (uint32_t j = (i + 1) & e->names_mask; e->names[j].slot; j = (j + 1) & e->names_mask) {
        uint32_t home = e->names[j].hash & e->names_mask;
        if (((j - home) & e->names_mask) >= ((j - i) & e->names_mask)) {
            e->names[i] = e->names[j];
            i = j;
        }
    }
    e->names[i] = (name_slot_t){0};
}

/* --- sessions ------------------------------------------------------------ */

uint32_t engine_max_name(const engine_t *e)
{
    return e->cfg.max_name;
}

session_t *engine_find(engine_t *e, const void *name, size_t len)
{
    if (len > e->cfg.max_name)
        return NULL; /* no such session can exist: not worth hashing */
    uint32_t i = name_pos(e, name, len, name_hash(e, name, len));
    return e->names[i].slot ? &e->slots[e->names[i].slot - 1] : NULL;
}

static uint32_t session_cap(const engine_t *e)
{
    uint32_t limit = e->cfg.limit_sessions;
    return limit && limit < e->capacity ? limit : e->capacity;
}

/* Puts a session on the running command's list (once). */
static void touch(engine_t *e, session_t *s)
{
    if (!s->touched) {
        s->touched = true;
        e->touched[e->ntouched++] = s->slot;
    }
}

uint32_t engine_sessions_staying(const engine_t *e)
{
    return e->nlive - e->ndoomed;
}

bool engine_doom(engine_t *e, session_t *s)
{
    if (s->written || s->doomed)
        return false;
    s->doomed = true;
    e->ndoomed++;
    touch(e, s);
    return true;
}

void engine_end_command(engine_t *e)
{
    if (e->ntouched == 0 && !e->asked)
        return; /* the command opened nothing: nothing to settle */
    bool asked = e->asked;
    e->asked = false;
    bool kept = false;
    for (uint32_t i = 0; i < e->ntouched; i++) {
        session_t *s = &e->slots[e->touched[i]];
        kept |= s->provisional && session_entries(s) > 0;
    }
    while (e->ntouched) {
        session_t *s = &e->slots[e->touched[--e->ntouched]];
        bool drop = (s->provisional && session_entries(s) == 0) || (s->doomed && kept);
        if (s->doomed)
            e->ndoomed--;
        s->touched = s->provisional = s->doomed = s->written = false;
        if (drop)
            engine_drop(e, s);
    }
    if (asked && e->cfg.on_settle) /* only admission defers anything */
        e->cfg.on_settle(e->cfg.on_settle_ud, e, kept);
}

pd_status engine_open(engine_t *e, const void *name, size_t len, session_t **out)
{
    if (len > e->cfg.max_name)
        return PD_BADNAME;
    session_t *s = engine_find(e, name, len);
    if (s) {
        if (s->doomed)
            return PD_NOSESSION; /* this command's admission gave it up */
        s->written = true;
        touch(e, s);
        *out = s;
        return PD_OK;
    }
    e->asked = true;
    while (engine_sessions_staying(e) >= session_cap(e)) {
        uint32_t before = engine_sessions_staying(e);
        if (!e->cfg.on_full || !e->cfg.on_full(e->cfg.on_full_ud, e, name, len) ||
            engine_sessions_staying(e) >= before)
            return PD_NOSESSION;
    }
    if (e->nfree == 0)
        return PD_NOSESSION;
    char *copy = malloc(len + 1);
    if (!copy)
        return PD_NOMEM;
    memcpy(copy, name, len);
    copy[len] = '\0';
    uint32_t slot = e->free_slots[e->nfree - 1];
    s = &e->slots[slot];
    memset(s, 0, sizeof(*s));
    if (arena_create(&s->store.arena, &e->env.bytes) != 0) {
        free(copy);
        return errno == EAGAIN ? PD_NOSESSION : PD_NOMEM;
    }
    e->nfree--;
    if (s->store.arena.index > e->max_arena_index)
        e->max_arena_index = s->store.arena.index;
    session_init(s, &e->env, e->cfg.strategy, e->cfg.sample_size, e->cfg.session_limits);
    s->name = copy;
    s->name_len = len;
    s->slot = slot;
    s->live = true;
    s->live_pos = e->nlive;
    e->live[e->nlive++] = slot;
    uint32_t h = name_hash(e, name, len);
    e->names[name_pos(e, name, len, h)] = (name_slot_t){h, slot + 1};
    pd_status st = e->cfg.on_open ? e->cfg.on_open(e->cfg.on_open_ud, e, s) : PD_OK;
    if (st != PD_OK) {
        engine_drop(e, s);
        return st;
    }
    s->provisional = s->written = true;
    touch(e, s);
    *out = s;
    return PD_OK;
}

session_t *engine_session_for_key(engine_t *e, const void *key, size_t klen,
                                  bool create, pd_status *status)
{
    const char *name;
    size_t len;
    session_name_of_key(key, klen, &name, &len);
    session_t *s = NULL;
    pd_status st = PD_NOTFOUND;
    if (create)
        st = engine_open(e, name, len, &s);
    else if ((s = engine_find(e, name, len)))
        st = PD_OK;
    if (status)
        *status = st;
    return s;
}

void engine_drop(engine_t *e, session_t *s)
{
    if (s->doomed)
        e->ndoomed--;
    if (s->touched) /* off the command's list (a handful, but for tests) */
        for (uint32_t i = 0; i < e->ntouched; i++)
            if (e->touched[i] == s->slot) {
                e->touched[i] = e->touched[--e->ntouched];
                break;
            }
    if (e->cfg.on_drop)
        e->cfg.on_drop(e->cfg.on_drop_ud, e, s);
    uint32_t h = name_hash(e, s->name, s->name_len);
    name_remove(e, name_pos(e, s->name, s->name_len, h));
    arena_destroy(&s->store.arena); /* and with it, everything in the session */
    store_forget_entries(&s->store);
    free(s->name);
    /* Keep the live list dense: the last one takes this one's place. */
    uint32_t last = e->live[--e->nlive];
    e->live[s->live_pos] = last;
    e->slots[last].live_pos = s->live_pos;
    if (e->expire_next > e->nlive)
        e->expire_next = 0;
    e->free_slots[e->nfree++] = s->slot;
    memset(s, 0, sizeof(*s));
}

void engine_drop_all(engine_t *e)
{
    while (e->nlive)
        engine_drop(e, &e->slots[e->live[e->nlive - 1]]);
}

void engine_flush_all(engine_t *e)
{
    for (uint32_t i = 0; i < e->nlive; i++)
        session_clear(&e->slots[e->live[i]]);
}

session_t *engine_next(engine_t *e, session_t *prev)
{
    for (uint32_t i = prev ? prev->slot + 1 : 0; i < e->capacity; i++)
        if (e->slots[i].live)
            return &e->slots[i];
    return NULL;
}

/* Bytewise, a name before every longer name it begins. */
static int by_name(const void *a, const void *b)
{
    const session_t *x = *(session_t *const *)a, *y = *(session_t *const *)b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    return c ? c : (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

uint32_t engine_sessions_by_name(engine_t *e, session_t **out)
{
    for (uint32_t i = 0; i < e->nlive; i++)
        out[i] = &e->slots[e->live[i]];
    qsort(out, e->nlive, sizeof(*out), by_name);
    return e->nlive;
}

/* --- the system budget --------------------------------------------------- */

/* The live session holding the most bytes that has an entry to evict. */
static session_t *largest_session(engine_t *e)
{
    session_t *best = NULL;
    for (uint32_t i = 0; i < e->nlive; i++) {
        session_t *s = &e->slots[e->live[i]];
        if (evict_has_victim(&s->evict) &&
            (!best || s->store.arena.bytes > best->store.arena.bytes))
            best = s;
    }
    return best;
}

/* The environment's make_room: evicts across sessions, the largest first,
 * until the system can take `need` more bytes once `freed` are given back. */
static pd_status make_room(void *ud, uint64_t need, uint64_t freed)
{
    engine_t *e = ud;
    uint64_t limit = e->env.limit_bytes;
    while (limit && e->env.bytes + need > limit + freed) {
        session_t *victim = largest_session(e);
        if (!victim)
            return PD_SYSFULL;
        session_evict_one(victim);
    }
    return PD_OK;
}

void engine_set_limits(engine_t *e, uint64_t limit_bytes, uint32_t limit_sessions)
{
    e->env.limit_bytes = limit_bytes;
    e->cfg.limit_sessions = limit_sessions;
    make_room(e, 0, 0);
}

/* --- expiry and iteration ------------------------------------------------ */

size_t engine_expire_step(engine_t *e, size_t max)
{
    size_t done = 0;
    for (uint32_t visited = 0; visited < e->nlive && done < max; visited++) {
        if (e->expire_next >= e->nlive)
            e->expire_next = 0;
        session_t *s = &e->slots[e->live[e->expire_next++]];
        done += session_expire_some(s, max - done);
    }
    return done;
}

uint64_t engine_scan(engine_t *e, uint64_t cursor, size_t count,
                     session_visit_fn fn, void *ud)
{
    uint64_t slot = cursor >> 24;
    uint32_t id = (uint32_t)(cursor & ENTRY_ID_MAX);
    size_t budget = count ? count : 1;
    for (; slot < e->capacity; slot++, id = 0) {
        session_t *s = &e->slots[slot];
        if (!s->live)
            continue;
        if (budget == 0)
            return slot << 24;
        id = session_scan(s, id, &budget, fn, ud);
        if (id)
            return slot << 24 | id;
    }
    return 0;
}

void engine_refresh_stats(engine_t *e)
{
    int64_t now = engine_now(e);
    if (e->nlive > ENGINE_REFRESH_ALWAYS && e->refreshed_ms &&
        now - e->refreshed_ms < ENGINE_REFRESH_MS)
        return;
    arena_stats_refresh();
    e->refreshed_ms = now ? now : 1;
}

void engine_stats(engine_t *e, bool refresh, engine_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    out->bytes = e->env.bytes;
    out->sessions = e->nlive;
    out->limit_bytes = e->env.limit_bytes;
    out->limit_sessions = session_cap(e);
    out->max_sessions = e->capacity;
    for (uint32_t i = 0; i < e->nlive; i++) {
        const session_t *s = &e->slots[e->live[i]];
        out->entries += session_entries(s);
        /* A clear moves a session to a fresh arena, maybe a higher index. */
        if (s->store.arena.index > e->max_arena_index)
            e->max_arena_index = s->store.arena.index;
    }
    out->max_arena_index = e->max_arena_index;
    if (refresh)
        arena_stats_refresh();
    arena_process_stats(&out->process);
}
