/* entry: the layout of one key/value entry in its session's arena.
 *
 * Header, key and value are one allocation, so 12-byte keys with 32-byte
 * values fit jemalloc's 64-byte size class (20 + 12 + 32). A value whose
 * size classes come out smaller apart (1,000 bytes: 1,280 together, 48 +
 * 1,024 apart) is its own allocation, and the entry holds a pointer to it
 * (ENTRY_SPLIT). Entries refer to
 * each other by 24-bit id, never by pointer: ids survive reallocation and
 * make list links 3 bytes each. A session holds at most ENTRY_ID_MAX entries.
 *
 *   offset  field
 *   0       atime     last use, ENTRY_TICK_MS ticks since the session began
 *   4       ctime     when the value was set, same unit
 *   8       vlen      value length; 0xFFFF means a u32 length starts data
 *   10      link[6]   strategy-owned: prev/next ids of a list, or a heap slot
 *   16      flags     ENTRY_* bits
 *   17      freq      LFU use count (decayed), saturating at 255
 *   18      hits      uses since the value was set, saturating at 255
 *   19      klen      key length; 255 means a u32 length precedes the key
 *   20      data      [u32 vlen], [u32 klen], key, value or its pointer,
 *                     [u32 expiry heap slot]
 */
#ifndef POLICYD_CORE_ENTRY_H
#define POLICYD_CORE_ENTRY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ENTRY_ID_MAX 0xFFFFFFu
#define ENTRY_TICK_MS 10
#define ENTRY_LONG_KEY 255u
#define ENTRY_LONG_VALUE 0xFFFFu

enum {
    ENTRY_TTL = 1u << 0,     /* has an expiry; its heap slot trails the value */
    ENTRY_VISITED = 1u << 1, /* reference bit, for SIEVE-like strategies */
    ENTRY_MAIN = 1u << 2,    /* S3-FIFO: in the main queue (else the small one) */
    ENTRY_SPLIT = 1u << 3,   /* the value is its own allocation */
    ENTRY_FREQ = 3u << 4,    /* S3-FIFO: accesses since insertion, capped at 3 */
    ENTRY_PINNED = 1u << 6,  /* being rewritten: out of eviction's reach */
};

typedef struct entry {
    uint32_t atime;
    uint32_t ctime;
    uint16_t vlen;
    uint8_t link[6];
    uint8_t flags;
    uint8_t freq;
    uint8_t hits;
    uint8_t klen;
    unsigned char data[];
} entry_t;

#define ENTRY_HEADER offsetof(entry_t, data)

/* Bytes an entry with this key and value needs (before size-class rounding):
 * with the value in it, or (split) with a pointer to it. */
static inline size_t entry_size(size_t klen, size_t vlen, int ttl, int split)
{
    return ENTRY_HEADER + (vlen >= ENTRY_LONG_VALUE ? 4 : 0) + (klen >= ENTRY_LONG_KEY ? 4 : 0) +
           klen + (split ? sizeof(void *) : vlen) + (ttl ? 4 : 0);
}

/* Whether a value of this length takes the u32 length field: an entry can
 * only be rewritten in place by a value that agrees. */
static inline int entry_long_value(size_t vlen)
{
    return vlen >= ENTRY_LONG_VALUE;
}

static inline size_t entry_vlen(const entry_t *e)
{
    if (e->vlen != ENTRY_LONG_VALUE)
        return e->vlen;
    uint32_t n;
    memcpy(&n, e->data, 4);
    return n;
}

/* Sets the value length: before entry_put_key, which writes after it. */
static inline void entry_set_vlen(entry_t *e, size_t vlen)
{
    if (entry_long_value(vlen)) {
        uint32_t n = (uint32_t)vlen;
        e->vlen = ENTRY_LONG_VALUE;
        memcpy(e->data, &n, 4);
    } else {
        e->vlen = (uint16_t)vlen;
    }
}

/* Where the key length field is: after the u32 value length, if any. */
static inline size_t entry_klen_at(const entry_t *e)
{
    return e->vlen == ENTRY_LONG_VALUE ? 4 : 0;
}

static inline size_t entry_klen(const entry_t *e)
{
    if (e->klen != ENTRY_LONG_KEY)
        return e->klen;
    uint32_t n;
    memcpy(&n, e->data + entry_klen_at(e), 4);
    return n;
}

static inline unsigned char *entry_key(entry_t *e)
{
    return e->data + entry_klen_at(e) + (e->klen == ENTRY_LONG_KEY ? 4 : 0);
}

static inline unsigned char *entry_val(entry_t *e)
{
    unsigned char *at = entry_key(e) + entry_klen(e);
    if (!(e->flags & ENTRY_SPLIT))
        return at;
    unsigned char *v;
    memcpy(&v, at, sizeof(v));
    return v;
}

/* A split entry's value: set after entry_put_key. */
static inline void entry_set_split_value(entry_t *e, unsigned char *v)
{
    memcpy(entry_key(e) + entry_klen(e), &v, sizeof(v));
}

/* The entry's own allocation (for a split entry, without its value). */
static inline size_t entry_bytes(const entry_t *e)
{
    return entry_size(entry_klen(e), entry_vlen(e), e->flags & ENTRY_TTL, e->flags & ENTRY_SPLIT);
}

/* The entry's size as if its value were inline, whatever its layout: what
 * the size strategy compares. */
static inline size_t entry_whole_size(const entry_t *e)
{
    return entry_size(entry_klen(e), entry_vlen(e), e->flags & ENTRY_TTL, 0);
}

/* Where the expiry heap slot is: after the value, or after its pointer. */
static inline unsigned char *entry_tail(entry_t *e)
{
    return entry_key(e) + entry_klen(e) + (e->flags & ENTRY_SPLIT ? sizeof(void *) : entry_vlen(e));
}

/* Writes the key length field and key; the value goes at entry_val(). */
static inline void entry_put_key(entry_t *e, const void *key, size_t klen)
{
    if (klen >= ENTRY_LONG_KEY) {
        uint32_t n = (uint32_t)klen;
        e->klen = ENTRY_LONG_KEY;
        memcpy(e->data + entry_klen_at(e), &n, 4);
    } else {
        e->klen = (uint8_t)klen;
    }
    memcpy(entry_key(e), key, klen);
}

static inline uint32_t entry_u24(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

static inline void entry_set_u24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
}

static inline uint32_t entry_prev(const entry_t *e) { return entry_u24(e->link); }
static inline uint32_t entry_next(const entry_t *e) { return entry_u24(e->link + 3); }
static inline void entry_set_prev(entry_t *e, uint32_t id) { entry_set_u24(e->link, id); }
static inline void entry_set_next(entry_t *e, uint32_t id) { entry_set_u24(e->link + 3, id); }

/* The strategy heap slot shares the link bytes (a heap strategy keeps no list). */
static inline uint32_t entry_heap_slot(const entry_t *e) { return entry_u24(e->link); }
static inline void entry_set_heap_slot(entry_t *e, uint32_t s) { entry_set_u24(e->link, s); }

/* The expiry heap slot trails the value of an entry with ENTRY_TTL. */
static inline uint32_t entry_ttl_slot(entry_t *e)
{
    uint32_t s;
    memcpy(&s, entry_tail(e), 4);
    return s;
}

static inline void entry_set_ttl_slot(entry_t *e, uint32_t s)
{
    memcpy(entry_tail(e), &s, 4);
}

#endif
