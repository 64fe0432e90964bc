/* number: strict parsing of the numbers people type on a command line or
 * in a trace: decimal digits and nothing else — no sign, no spaces, no base
 * prefix, no overflow — so a typo is an error, never a zero or a wrap. */
#ifndef POLICYD_UTIL_NUMBER_H
#define POLICYD_UTIL_NUMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The unsigned decimal in s[0..len); false if it is empty, holds anything
 * but digits, or exceeds UINT64_MAX. */
bool number_u64(const char *s, size_t len, uint64_t *out);

/* A size: a whole number with an optional binary unit, B, KB, MB, GB or TB
 * (any case; KiB, MiB... too), as policies write them; false on anything
 * else or past UINT64_MAX. */
bool number_size(const char *s, uint64_t *out);

#endif
