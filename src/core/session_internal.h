/* session_internal: what session.c shares with write.c, the write path it
 * hands every write to. Internal to the core floor. */
#ifndef POLICYD_CORE_SESSION_INTERNAL_H
#define POLICYD_CORE_SESSION_INTERNAL_H

#include <stdint.h>

#include "core/session.h"

/* The id of a live key, or 0; an expired key is removed on the way. *h
 * gets the key's hash. */
uint32_t session_lookup(session_t *s, const void *key, size_t klen, uint64_t *h);

/* Unlinks an entry from everything and frees it. */
void session_remove_entry(session_t *s, uint32_t id, uint64_t h);

#endif
