/* index: see index.h. Open addressing with linear probing over 4-byte
 * slots: a probe walks consecutive memory, and the 8 bits of hash beside
 * each id turn most mismatches away without touching their entry. */
#include "core/index.h"

#include <stdbool.h>

#include "util/hash.h"

#define SLOT_EMPTY 0u
#define SLOT_TOMB 1u
#define INDEX_MIN_SLOTS 16u
#define INDEX_MIN_IDS 16u

static inline uint32_t slot_make(uint32_t id, uint64_t h)
{
    return id << 8 | (uint32_t)(h >> 56);
}

/* Table sizes run 16, 24, 32, 48, 64, 96...: powers of two and one and a
 * half times them, so a table grown at 3/4 full is half full or more (a
 * power-of-two table would be 3/8 full: 1M keys took 8.4 bytes each in
 * slots, now 6.3). A key's home slot is its hash scaled to the size. */
static inline uint32_t slot_home(uint64_t h, uint32_t cap)
{
    return (uint32_t)(((h & 0xFFFFFFFFu) * cap) >> 32);
}

static inline uint32_t slot_next(uint32_t i, uint32_t cap)
{
    return i + 1 == cap ? 0 : i + 1;
}

static inline bool power_of_two(uint32_t n)
{
    return (n & (n - 1)) == 0;
}

static uint32_t size_after(uint32_t cap)
{
    return power_of_two(cap) ? cap + cap / 2 : cap + cap / 3;
}

static uint32_t size_before(uint32_t cap)
{
    return power_of_two(cap) ? cap / 4 * 3 : cap / 3 * 2;
}

void index_init(index_t *ix, uint64_t seed)
{
    *ix = (index_t){.seed = seed};
}

uint64_t index_hash(const index_t *ix, const void *key, size_t klen)
{
    return hash_bytes(key, klen, ix->seed);
}

uint32_t index_find(const index_t *ix, const void *key, size_t klen, uint64_t h)
{
    if (!ix->slots)
        return 0;
    uint32_t tag = (uint32_t)(h >> 56);
    for (uint32_t i = slot_home(h, ix->cap);; i = slot_next(i, ix->cap)) {
        uint32_t s = ix->slots[i];
        if (s == SLOT_EMPTY)
            return 0;
        if ((s & 0xFF) != tag || s == SLOT_TOMB)
            continue;
        entry_t *e = index_entry(ix, s >> 8);
        if (entry_klen(e) == klen && memcmp(entry_key(e), key, klen) == 0)
            return s >> 8;
    }
}

/* The slot count the table should have to hold `used` entries, or 0 if the
 * current one will do. Grows at 3/4 full (tombstones count), shrinks below
 * 1/8; the gap keeps a set/delete cycle from resizing back and forth. */
static uint32_t table_target(const index_t *ix, uint32_t used)
{
    uint32_t cap = ix->slots ? ix->cap : 0;
    if (used == 0)
        return 0;
    if (!cap)
        return INDEX_MIN_SLOTS;
    if ((uint64_t)(used + ix->tombs) * 4 > (uint64_t)cap * 3)
        return (uint64_t)used * 2 <= cap ? cap : size_after(cap);
    if (cap > INDEX_MIN_SLOTS && (uint64_t)used * 8 < cap)
        return size_before(cap);
    return 0;
}

static void table_put(uint32_t *slots, uint32_t cap, uint32_t s, uint64_t h)
{
    uint32_t i = slot_home(h, cap);
    while (slots[i] != SLOT_EMPTY)
        i = slot_next(i, cap);
    slots[i] = s;
}

static int table_rebuild(index_t *ix, arena_t *a, uint32_t cap)
{
    uint32_t *slots = arena_alloc(a, (size_t)cap * sizeof(uint32_t));
    if (!slots)
        return -1;
    memset(slots, 0, (size_t)cap * sizeof(uint32_t));
    if (ix->slots) {
        for (uint32_t i = 0; i < ix->cap; i++) {
            uint32_t s = ix->slots[i];
            if (s == SLOT_EMPTY || s == SLOT_TOMB)
                continue;
            entry_t *e = index_entry(ix, s >> 8);
            table_put(slots, cap, s, index_hash(ix, entry_key(e), entry_klen(e)));
        }
        arena_free(a, ix->slots);
    }
    ix->slots = slots;
    ix->cap = cap;
    ix->tombs = 0;
    return 0;
}

/* The id map grows through the table's sizes, up to every 24-bit id. */
static uint32_t ids_after(uint32_t cap)
{
    uint64_t n = cap ? size_after(cap) : INDEX_MIN_IDS;
    return n > ENTRY_ID_MAX + 1 ? ENTRY_ID_MAX + 1 : (uint32_t)n;
}

size_t index_first_need(const arena_t *a)
{
    return arena_usable(a, INDEX_MIN_SLOTS * sizeof(uint32_t)) +
           arena_usable(a, INDEX_MIN_IDS * sizeof(uintptr_t));
}

size_t index_floor(const index_t *ix, const arena_t *a)
{
    uint32_t ids = ix->id_cap > INDEX_MIN_IDS ? ix->id_cap : INDEX_MIN_IDS;
    return arena_usable(a, INDEX_MIN_SLOTS * sizeof(uint32_t)) +
           arena_usable(a, ids * sizeof(uintptr_t));
}

/* The table and id map sizes that take n more keys with no rebuild or
 * growth on the way (tombstones count until a rebuild clears them). */
static void sizes_for(const index_t *ix, uint32_t n, uint32_t *slots, uint32_t *ids)
{
    uint64_t want = (uint64_t)ix->used + n;
    uint32_t cap = ix->slots ? ix->cap : 0;
    uint32_t target = cap ? cap : INDEX_MIN_SLOTS;
    uint64_t tombs = cap ? ix->tombs : 0;
    while ((want + tombs) * 4 > (uint64_t)target * 3) {
        target = size_after(target);
        tombs = 0; /* a rebuild clears them */
    }
    *slots = target;
    uint64_t top = ix->id_top ? ix->id_top : 1; /* id 0 means "none" */
    uint64_t fresh = n > ix->id_nfree ? n - ix->id_nfree : 0;
    uint32_t id_cap = ix->id_cap;
    while (top + fresh > id_cap && id_cap < ENTRY_ID_MAX + 1)
        id_cap = ids_after(id_cap);
    *ids = id_cap;
}

/* Whether n more keys fit as the index stands (the common case: no sums). */
static bool room_for(const index_t *ix, uint32_t n)
{
    return ix->slots && (uint64_t)(ix->used + ix->tombs + n) * 4 <= (uint64_t)ix->cap * 3 &&
           (uint64_t)(ix->id_top ? ix->id_top : 1) + n <= (uint64_t)ix->id_cap + ix->id_nfree;
}

size_t index_insert_need(const index_t *ix, const arena_t *a, uint32_t n)
{
    if (n == 0 || room_for(ix, n))
        return 0;
    uint32_t slots, ids;
    sizes_for(ix, n, &slots, &ids);
    size_t need = 0;
    if (!ix->slots || slots != ix->cap)
        need += arena_usable(a, slots * sizeof(uint32_t)) -
                (ix->slots ? arena_usable(a, ix->cap * sizeof(uint32_t)) : 0);
    if (ids != ix->id_cap)
        need += arena_usable(a, ids * sizeof(uintptr_t)) -
                (ix->id_cap ? arena_usable(a, ix->id_cap * sizeof(uintptr_t)) : 0);
    return need;
}

int index_reserve(index_t *ix, arena_t *a, uint32_t n)
{
    if (n == 0 || room_for(ix, n))
        return 0;
    uint32_t slots, ids;
    sizes_for(ix, n, &slots, &ids);
    if ((!ix->slots || slots != ix->cap) && table_rebuild(ix, a, slots) != 0)
        return -1;
    uint64_t top = ix->id_top ? ix->id_top : 1;
    uint64_t fresh = n > ix->id_nfree ? n - ix->id_nfree : 0;
    if (top + fresh > ids)
        return -1; /* every id is taken */
    if (ids != ix->id_cap) {
        uintptr_t *map = arena_realloc(a, ix->ids, ids * sizeof(uintptr_t));
        if (!map)
            return -1;
        ix->ids = map;
        ix->id_cap = ids;
    }
    return 0;
}

static uint32_t id_take(index_t *ix, arena_t *a)
{
    if (ix->id_free) {
        uint32_t id = ix->id_free;
        ix->id_free = (uint32_t)(ix->ids[id] >> 1);
        ix->id_nfree--;
        return id;
    }
    if (ix->id_top == 0)
        ix->id_top = 1; /* id 0 means "none" */
    if (ix->id_top >= ix->id_cap) {
        uint32_t n = ids_after(ix->id_cap);
        if (n == ix->id_cap)
            return 0;
        uintptr_t *ids = arena_realloc(a, ix->ids, n * sizeof(uintptr_t));
        if (!ids)
            return 0;
        ix->ids = ids;
        ix->id_cap = n;
    }
    return ix->id_top++;
}

uint32_t index_insert(index_t *ix, arena_t *a, uint64_t h, entry_t *e)
{
    uint32_t cap = ix->hold ? 0 : table_target(ix, ix->used + 1); /* held: reserved */
    if (cap && table_rebuild(ix, a, cap) != 0)
        return 0;
    uint32_t id = id_take(ix, a);
    if (!id)
        return 0;
    ix->ids[id] = (uintptr_t)e;
    /* Reuse the first tombstone on the probe path, else the empty slot. */
    uint32_t i = slot_home(h, ix->cap);
    while (ix->slots[i] != SLOT_EMPTY && ix->slots[i] != SLOT_TOMB)
        i = slot_next(i, ix->cap);
    if (ix->slots[i] == SLOT_TOMB)
        ix->tombs--;
    ix->slots[i] = slot_make(id, h);
    ix->used++;
    return id;
}

void index_remove(index_t *ix, arena_t *a, uint32_t id, uint64_t h)
{
    uint32_t want = slot_make(id, h);
    uint32_t i = slot_home(h, ix->cap);
    while (ix->slots[i] != want)
        i = slot_next(i, ix->cap);
    /* A slot followed by an empty one ends every probe through it, so it
     * can be emptied instead of becoming a tombstone. */
    if (ix->slots[slot_next(i, ix->cap)] == SLOT_EMPTY) {
        ix->slots[i] = SLOT_EMPTY;
    } else {
        ix->slots[i] = SLOT_TOMB;
        ix->tombs++;
    }
    ix->ids[id] = (uintptr_t)ix->id_free << 1 | 1;
    ix->id_free = id;
    ix->id_nfree++;
    ix->used--;
    if (!ix->hold)
        index_trim(ix, a);
}

void index_trim(index_t *ix, arena_t *a)
{
    if (ix->used == 0) {
        if (ix->slots || ix->ids)
            index_free(ix, a);
        return;
    }
    uint32_t cap = table_target(ix, ix->used);
    if (cap && cap < ix->cap)
        table_rebuild(ix, a, cap); /* optional: on failure keep the room */
}

uint32_t index_next(const index_t *ix, uint32_t from)
{
    for (uint32_t id = from ? from : 1; id < ix->id_top; id++)
        if (!(ix->ids[id] & 1))
            return id;
    return 0;
}

uint32_t index_random(const index_t *ix, rng_t *r)
{
    if (ix->used == 0)
        return 0;
    /* Every entry holds exactly one slot, so rejection sampling over slots
     * is exactly uniform; the table shrinks as entries go, so it stays
     * about 1/16 full or more and 256 misses in a row do not happen in
     * practice. Should they, take the next entry after a random slot. */
    uint32_t cap = ix->cap;
    for (int attempt = 0; attempt < 256; attempt++) {
        uint32_t s = ix->slots[rng_below(r, cap)];
        if (s > SLOT_TOMB)
            return s >> 8;
    }
    uint32_t i = (uint32_t)rng_below(r, cap);
    while (ix->slots[i] <= SLOT_TOMB)
        i = slot_next(i, cap);
    return ix->slots[i] >> 8;
}

void index_free(index_t *ix, arena_t *a)
{
    arena_free(a, ix->slots);
    arena_free(a, ix->ids);
    index_init(ix, ix->seed);
}
