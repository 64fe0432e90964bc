/* glob: Redis's glob patterns (* ? [class] [^class] [a-z] \escape), for
 * KEYS, SCAN MATCH and CONFIG GET. */
#ifndef POLICYD_UTIL_GLOB_H
#define POLICYD_UTIL_GLOB_H

#include <stdbool.h>
#include <stddef.h>

/* Whether s (slen bytes) matches pattern p (plen bytes). One backtrack
 * point per star, so no pattern can take exponential time. */
bool glob_match(const char *p, size_t plen, const char *s, size_t slen);

#endif
