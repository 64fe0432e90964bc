/* strset: see strset.h. Linear probing over a table kept under half full;
 * removal shifts later members of a probe run back, so there are no
 * tombstones to accumulate. */
#include "util/strset.h"

#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

#define MIN_SLOTS 8u

static size_t home(const strset_t *set, uint64_t h)
{
    return (size_t)h & (set->nslots - 1);
}

/* The slot holding member `index`, found from its hash. */
static size_t slot_of(strset_t *set, size_t index)
{
    size_t i = home(set, set->items[index].hash);
    for (;; i = (i + 1) & (set->nslots - 1)) {
        set->probes++;
        if (set->slots[i] == index + 1)
            return i;
    }
}

long strset_find(strset_t *set, const char *s, size_t len)
{
    if (!set->nslots)
        return -1;
    uint64_t h = hash_bytes(s, len, 0x5e7);
    for (size_t i = home(set, h);; i = (i + 1) & (set->nslots - 1)) {
        set->probes++;
        uint32_t at = set->slots[i];
        if (!at)
            return -1;
        const strset_item_t *it = &set->items[at - 1];
        if (it->hash == h && it->len == len && memcmp(it->s, s, len) == 0)
            return (long)at - 1;
    }
}

static int grow(strset_t *set)
{
    if (set->len + 1 > set->cap) {
        size_t cap = set->cap ? set->cap * 2 : MIN_SLOTS / 2;
        strset_item_t *items = realloc(set->items, cap * sizeof(*items));
        if (!items)
            return -1;
        set->items = items;
        set->cap = cap;
    }
    if ((set->len + 1) * 2 <= set->nslots)
        return 0;
    size_t nslots = set->nslots ? set->nslots * 2 : MIN_SLOTS;
    if (nslots > UINT32_MAX)
        return -1;
    uint32_t *slots = calloc(nslots, sizeof(*slots));
    if (!slots)
        return -1;
    free(set->slots);
    set->slots = slots;
    set->nslots = nslots;
    for (size_t k = 0; k < set->len; k++) {
        size_t i = home(set, set->items[k].hash);
        while (set->slots[i])
            i = (i + 1) & (nslots - 1);
        set->slots[i] = (uint32_t)k + 1;
    }
    return 0;
}

int strset_add(strset_t *set, const char *s, size_t len)
{
    if (strset_find(set, s, len) >= 0)
        return 0;
    char *copy = malloc(len + 1);
    if (!copy || grow(set) != 0) {
        free(copy);
        return -1;
    }
    memcpy(copy, s, len);
    copy[len] = '\0';
    uint64_t h = hash_bytes(s, len, 0x5e7);
    size_t i = home(set, h);
    while (set->slots[i]) {
        set->probes++;
        i = (i + 1) & (set->nslots - 1);
    }
    set->items[set->len] = (strset_item_t){copy, len, h};
    set->slots[i] = (uint32_t)++set->len;
    return 1;
}

/* Empties slot i, pulling later members of its probe run back. */
static void slot_clear(strset_t *set, size_t i)
{
    size_t mask = set->nslots - 1;
    for (size_t j = (i + 1) & mask; set->slots[j]; j = (j + 1) & mask) {
        set->probes++;
        size_t h = home(set, set->items[set->slots[j] - 1].hash);
        if (((j - h) & mask) >= ((j - i) & mask)) {
            set->slots[i] = set->slots[j];
            i = j;
        }
    }
    set->slots[i] = 0;
}

void strset_remove_at(strset_t *set, size_t i)
{
    size_t last = set->len - 1;
    slot_clear(set, slot_of(set, i));
    free(set->items[i].s);
    if (i != last) {
        set->slots[slot_of(set, last)] = (uint32_t)i + 1;
        set->items[i] = set->items[last];
    }
    set->len--;
}

void strset_free(strset_t *set)
{
    for (size_t i = 0; i < set->len; i++)
        free(set->items[i].s);
    free(set->items);
    free(set->slots);
    *set = (strset_t){.probes = set->probes};
}
