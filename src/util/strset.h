/* strset: a set of byte strings (any bytes, given by length) with O(1)
 * add, find and remove, its members in an array that can be walked. A
 * removal moves the last member into the hole. For a connection's channel
 * subscriptions: SUBSCRIBE of 150,000 channels in one command must not take
 * 150,000² comparisons. */
#ifndef POLICYD_UTIL_STRSET_H
#define POLICYD_UTIL_STRSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct strset_item {
    char *s;          /* a NUL-terminated copy (it may hold NULs too) */
    size_t len;
    uint64_t hash;
} strset_item_t;

typedef struct strset {
    strset_item_t *items; /* the members */
    size_t len, cap;
    uint32_t *slots;      /* open addressing: index into items + 1; 0 empty */
    size_t nslots;        /* a power of two, over twice len */
    uint64_t probes;      /* slots looked at so far: the work, for tests */
} strset_t;

/* An empty set needs no call: zero it. */

/* Adds a copy of s: 1, 0 if it was there, -1 when out of memory (the set
 * unchanged). */
int strset_add(strset_t *set, const char *s, size_t len);

/* The index of s in set->items, or -1. */
long strset_find(strset_t *set, const char *s, size_t len);

/* Removes member i (the last member takes its place). */
void strset_remove_at(strset_t *set, size_t i);

/* Frees every member and the set's arrays; the set is empty again (its
 * probe count stays). */
void strset_free(strset_t *set);

#endif
