/* hash: XXH3 for keys and session names, inlined (keys are short). */
#ifndef POLICYD_UTIL_HASH_H
#define POLICYD_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

static inline uint64_t hash_bytes(const void *p, size_t n, uint64_t seed)
{
    return XXH3_64bits_withSeed(p, n, seed);
}

#endif
