/* Eviction strategies: each built-in strategy evicts exactly the entry its
 * rule (evict.h, and the LFU rule atop evict.c) names, in hand-written
 * scenarios on a fake clock. After each eviction the test checks which key
 * went, that every other key stayed, and the eviction counter; after each
 * scenario, that the session's inline byte count equals jemalloc's. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "core/engine.h"
#include "core/entry.h"

/* --- fixtures ------------------------------------------------------------ */

static int64_t clock_ms;

static int64_t fake_clock(void *ud)
{
    (void)ud;
    return clock_ms;
}

static unsigned char vbuf[4096];

static engine_t *new_engine(engine_config_t cfg)
{
    cfg.clock = fake_clock;
    engine_t *e = engine_create(&cfg);
    REQUIRE(e != NULL);
    return e;
}

static session_t *open_session(engine_t *e, const char *name)
{
    session_t *s = NULL;
    REQUIRE(engine_open(e, name, strlen(name), &s) == PD_OK);
    return s;
}

static pd_status put(session_t *s, const char *key, size_t vlen)
{
    return session_set(s, key, strlen(key), vbuf, vlen, 0, 0, NULL, NULL);
}

static pd_status put_ttl(session_t *s, const char *key, size_t vlen, int64_t at)
{
    return session_set(s, key, strlen(key), vbuf, vlen, 0, at, NULL, NULL);
}

static pd_status use(session_t *s, const char *key)
{
    const unsigned char *v;
    size_t n;
    return session_get(s, key, strlen(key), &v, &n);
}

/* n more uses by touch; returns how many found the key. */
static int touch_n(session_t *s, const char *key, int n)
{
    int ok = 0;
    for (int i = 0; i < n; i++)
        ok += session_touch(s, key, strlen(key)) == PD_OK;
    return ok;
}

static bool has(session_t *s, const char *key)
{
    return session_exists(s, key, strlen(key));
}

/* The flags of a present key's entry. */
static unsigned ent_flags(session_t *s, const char *key)
{
    uint64_t h = index_hash(&s->store.index, key, strlen(key));
    uint32_t id = index_find(&s->store.index, key, strlen(key), h);
    return id ? index_entry(&s->store.index, id)->flags : 0;
}

static void print_key(void *ud, session_t *s, const unsigned char *key, size_t klen)
{
    (void)ud;
    (void)s;
    fprintf(stderr, " %.*s", (int)klen, (const char *)key);
}

/* True if the session holds exactly the space-separated keys of `list`
 * (each present, and no other entry); prints what it holds otherwise. */
static bool keys_are(session_t *s, const char *list)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", list);
    uint64_t want = 0;
    bool ok = true;
    for (char *k = strtok(buf, " "); k; k = strtok(NULL, " ")) {
        want++;
        if (!has(s, k)) {
            fprintf(stderr, "  missing key %s\n", k);
            ok = false;
        }
    }
    if (session_entries(s) != want)
        ok = false;
    if (!ok) {
        fprintf(stderr, "  want {%s}, session %s holds %llu:", list, s->name,
                (unsigned long long)session_entries(s));
        size_t budget = 1000;
        session_scan(s, 0, &budget, print_key, NULL);
        fprintf(stderr, "\n");
    }
    return ok;
}

/* Exactly one key went: `gone` is absent and the rest are `left`. */
#define CHECK_EVICTED(s, gone, left, count) \
    do { \
        CHECK(!has((s), (gone))); \
        CHECK(keys_are((s), (left))); \
        CHECK_EQ_U((s)->counters.evictions, (count)); \
    } while (0)

/* The session's inline byte count is jemalloc's own for its arena. */
#define CHECK_ACCOUNTING(s) \
    do { \
        arena_stats_t st_; \
        REQUIRE(arena_stats_refresh() == 0); \
        REQUIRE(arena_stats(&(s)->store.arena, &st_) == 0); \
        CHECK_EQ_U(st_.allocated, (s)->store.arena.bytes); \
    } while (0)

/* --- a chooser for the chooser strategy ---------------------------------- */

enum pick_mode {
    PICK_PREFIX, /* first key starting with `want`, else the longest key */
    PICK_FIXED,  /* return `ret` as is */
    PICK_LOG,    /* log the candidate keys, pick the first */
    PICK_COUNT,  /* count which "uNN" key was offered, pick it */
};

#define MAX_SEEN 64

typedef struct chooser_state {
    enum pick_mode mode;
    const char *want;
    int ret;
    const char *forbid; /* a key that must never be offered */
    unsigned forbid_seen;
    session_t *session; /* the session the chooser must be given */
    unsigned wrong_session;
    unsigned calls;
    size_t n;           /* candidates in the last call */
    evict_candidate_t seen[MAX_SEEN];
    char seen_key[MAX_SEEN][64];
    unsigned not_distinct;
    char log[16384];    /* PICK_LOG: "k1,k2;k3,k4;..." */
    size_t log_len;
    unsigned counts[50];
    unsigned bad_n;     /* PICK_COUNT calls with n != 1 */
} chooser_state_t;

static bool key_is(const evict_candidate_t *c, const char *k)
{
    return c->klen == strlen(k) && memcmp(c->key, k, c->klen) == 0;
}

static int chooser(void *ud, session_t *s, const evict_candidate_t *c, size_t n)
{
    chooser_state_t *st = ud;
    st->calls++;
    st->wrong_session += s != st->session;
    st->n = n;
    int forbidden = -1;
    for (size_t i = 0; i < n && i < MAX_SEEN; i++) {
        st->seen[i] = c[i];
        size_t kl = c[i].klen < 63 ? c[i].klen : 63;
        memcpy(st->seen_key[i], c[i].key, kl);
        st->seen_key[i][kl] = '\0';
        st->seen[i].key = (const unsigned char *)st->seen_key[i];
        for (size_t j = 0; j < i; j++)
            st->not_distinct += c[j].id == c[i].id;
        if (st->forbid && key_is(&c[i], st->forbid))
            forbidden = (int)i;
    }
    if (forbidden >= 0)
        st->forbid_seen++;
    switch (st->mode) {
    case PICK_FIXED:
        return st->ret;
    case PICK_LOG:
        for (size_t i = 0; i < n; i++) {
            int w = snprintf(st->log + st->log_len, sizeof(st->log) - st->log_len, "%.*s%c",
                             (int)c[i].klen, (const char *)c[i].key, i + 1 < n ? ',' : ';');
            if (w > 0 && (size_t)w < sizeof(st->log) - st->log_len)
                st->log_len += (size_t)w;
        }
        return 0;
    case PICK_COUNT:
        if (n != 1)
            st->bad_n++;
        if (n >= 1 && c[0].klen == 3 && c[0].key[0] == 'u') {
            unsigned k = (unsigned)(c[0].key[1] - '0') * 10 + (unsigned)(c[0].key[2] - '0');
            if (k < 50)
                st->counts[k]++;
        }
        return 0;
    case PICK_PREFIX:
        break;
    }
    int best = -1;
    size_t wl = st->want ? strlen(st->want) : 0;
    for (size_t i = 0; i < n; i++) {
        if ((int)i == forbidden)
            continue; /* picking it would corrupt the session: flag it instead */
        if (wl && c[i].klen >= wl && memcmp(c[i].key, st->want, wl) == 0)
            return (int)i;
        if (best < 0 || c[i].klen > c[best].klen)
            best = (int)i;
    }
    return best;
}

static const evict_candidate_t *seen_key(const chooser_state_t *st, const char *k)
{
    for (size_t i = 0; i < st->n && i < MAX_SEEN; i++)
        if (strcmp(st->seen_key[i], k) == 0)
            return &st->seen[i];
    return NULL;
}

/* --- lru ----------------------------------------------------------------- */

static void test_lru(void)
{
    clock_ms = 5000;
    engine_t *e = new_engine((engine_config_t){.seed = 1, .strategy = EVICT_LRU});
    session_t *s = open_session(e, "lru");
    session_set_limits(s, (session_limits_t){.entries = 3});

    /* All at one instant: the list orders uses exactly, not by tick. */
    CHECK(put(s, "a", 8) == PD_OK);
    CHECK(put(s, "b", 8) == PD_OK);
    CHECK(put(s, "c", 8) == PD_OK);
    CHECK(use(s, "a") == PD_OK);                 /* order: b c a */
    CHECK(put(s, "d", 8) == PD_OK);
    CHECK_EVICTED(s, "b", "a c d", 1);           /* order: c a d */

    CHECK(put(s, "c", 9) == PD_OK);              /* overwrite is a use: a d c */
    CHECK_EQ_U(s->counters.evictions, 1);
    CHECK(put(s, "e", 8) == PD_OK);
    CHECK_EVICTED(s, "a", "c d e", 2);           /* order: d c e */

    CHECK(session_touch(s, "d", 1) == PD_OK);    /* touch is a use: c e d */
    CHECK(put(s, "f", 8) == PD_OK);
    CHECK_EVICTED(s, "c", "d e f", 3);           /* order: e d f */

    /* exists and peek record no use: e stays the least recently used. */
    const unsigned char *v;
    size_t n;
    CHECK(session_exists(s, "e", 1));
    CHECK(session_peek(s, "e", 1, &v, &n) == PD_OK);
    CHECK(put(s, "g", 8) == PD_OK);
    CHECK_EVICTED(s, "e", "d f g", 4);           /* order: d f g */

    /* append is a write, so a use: f g d */
    size_t len;
    CHECK(session_append(s, "d", 1, "x", 1, &len) == PD_OK && len == 9);
    CHECK(put(s, "h", 8) == PD_OK);
    CHECK_EVICTED(s, "f", "g d h", 5);
    CHECK_ACCOUNTING(s);

    /* The same rule under a byte limit: equal entries (same size class), so
     * one eviction makes room for one more. */
    session_t *t = open_session(e, "lru-bytes");
    CHECK(put(t, "a", 40) == PD_OK);
    CHECK(put(t, "b", 40) == PD_OK);
    CHECK(put(t, "c", 40) == PD_OK);
    uint64_t full = session_bytes(t);
    session_set_limits(t, (session_limits_t){.bytes = full});
    CHECK_EQ_U(t->counters.evictions, 0);
    clock_ms += 30;
    CHECK(use(t, "a") == PD_OK);                 /* order: b c a */
    CHECK(put(t, "d", 40) == PD_OK);
    CHECK_EVICTED(t, "b", "a c d", 1);
    CHECK(session_bytes(t) <= full);
    CHECK_ACCOUNTING(t);
    engine_destroy(e);
}

/* --- lfu ----------------------------------------------------------------- */

/* D is lfu_decay in ticks; scores are freq * D + last use (ticks since the
 * session began). With the default 60 s decay, D = 6000. */
static void test_lfu_counts(void)
{
    clock_ms = 10000;
    engine_t *e = new_engine((engine_config_t){.seed = 2, .strategy = EVICT_LFU});
    session_t *s = open_session(e, "lfu");
    CHECK_EQ_U(s->evict.kind, EVICT_LFU);
    session_set_limits(s, (session_limits_t){.entries = 3});

    /* Tick 0: a 1 use (6000), b 4 uses (24000), c 5 uses (30000). */
    CHECK(put(s, "a", 8) == PD_OK);
    CHECK(put(s, "b", 8) == PD_OK);
    CHECK(put(s, "c", 8) == PD_OK);
    CHECK(touch_n(s, "b", 3) == 3);
    CHECK(touch_n(s, "c", 4) == 4);
    CHECK(put(s, "d", 8) == PD_OK);
    CHECK_EVICTED(s, "a", "b c d", 1);

    /* Tick 1: d reaches 5 uses, 5*D + 1 = 30001. A key being written is not
     * a candidate for its own room, so e's set picks among b (24000),
     * c (30000) and d (30001): b. Had d kept its single use (6000), d would
     * have gone instead, newest or not. */
    clock_ms += 10;
    CHECK(touch_n(s, "d", 4) == 4);
    CHECK(put(s, "e", 8) == PD_OK);
    CHECK_EVICTED(s, "b", "c d e", 2);

    /* Tick 2: e has its one use (6001) against c and d's five: e goes. */
    clock_ms += 10;
    CHECK(put(s, "f", 8) == PD_OK);
    CHECK_EVICTED(s, "e", "c d f", 3);

    /* Tick 3: f reaches 5 uses (30003). c (30000) and d (30001) have as
     * many uses, but c's last use is the oldest: c goes. */
    clock_ms += 10;
    CHECK(touch_n(s, "f", 4) == 4);
    CHECK(put(s, "g", 8) == PD_OK);
    CHECK_EVICTED(s, "c", "d f g", 4);
    CHECK_ACCOUNTING(s);

    /* Ties: equal uses at one instant go least recently used first. x is
     * written first (lower id), but y's last use is older. */
    session_t *t = open_session(e, "lfu-ties");
    session_set_limits(t, (session_limits_t){.entries = 2});
    CHECK(put(t, "x", 8) == PD_OK);
    CHECK(put(t, "y", 8) == PD_OK);
    CHECK(touch_n(t, "y", 1) == 1);
    CHECK(touch_n(t, "x", 1) == 1);              /* both 2 uses; y older */
    CHECK(put(t, "z", 8) == PD_OK);
    CHECK_EVICTED(t, "y", "x z", 1);
    CHECK(touch_n(t, "z", 1) == 1);              /* z 2 uses, x older */
    CHECK(put(t, "w", 8) == PD_OK);
    CHECK_EVICTED(t, "x", "z w", 2);
    CHECK_ACCOUNTING(t);
    engine_destroy(e);
}

/* lfu_decay 1000 ms: D = 100 ticks; a use is worth one second of standing. */
static void test_lfu_aging(void)
{
    clock_ms = 20000;
    engine_t *e = new_engine((engine_config_t){
        .seed = 3, .strategy = EVICT_LFU, .lfu_decay_ms = 1000});
    session_t *s = open_session(e, "aging");
    session_set_limits(s, (session_limits_t){.entries = 3});

    CHECK(put(s, "x", 8) == PD_OK);
    CHECK(touch_n(s, "x", 4) == 4);              /* t 0: 5*100 + 0 = 500 */
    clock_ms += 2000;
    CHECK(put(s, "y", 8) == PD_OK);              /* t 2 s: 100 + 200 = 300 */
    clock_ms += 2500;
    CHECK(put(s, "z", 8) == PD_OK);              /* t 4.5 s: 100 + 450 = 550 */
    /* y is newer than x but has had less than x's five uses' worth. */
    CHECK(put(s, "w", 8) == PD_OK);              /* 550 */
    CHECK_EVICTED(s, "y", "x z w", 1);
    /* x's five uses have aged out 4.5 periods: it loses to the newer z. */
    CHECK(put(s, "v", 8) == PD_OK);
    CHECK_EVICTED(s, "x", "z w v", 2);
    CHECK_ACCOUNTING(s);

    /* On a use, the count first loses the idle periods it sat out. */
    session_t *t = open_session(e, "decay");    /* its tick 0 is now */
    session_set_limits(t, (session_limits_t){.entries = 2});
    CHECK(put(t, "p", 8) == PD_OK);
    CHECK(touch_n(t, "p", 4) == 4);              /* freq 5 at tick 0 */
    clock_ms += 3000;
    CHECK(touch_n(t, "p", 1) == 1);              /* 5 - 3 + 1 = 3: 300 + 300 = 600 */
    clock_ms += 2500;
    CHECK(put(t, "q", 8) == PD_OK);              /* 100 + 550 = 650 */
    /* Without the decay p would score 6*100 + 300 = 900 and q would go. */
    CHECK(put(t, "r", 8) == PD_OK);
    CHECK_EVICTED(t, "p", "q r", 1);
    CHECK_ACCOUNTING(t);
    engine_destroy(e);
}

/* Counts are exact to 255 and saturate there. "n uses" counts the set. */
static void test_lfu_saturation(void)
{
    clock_ms = 40000;
    engine_t *e = new_engine((engine_config_t){.seed = 4, .strategy = EVICT_LFU});
    session_limits_t two = {.entries = 2};

    /* 255 vs 254 at one instant: 254 goes though it was used last. */
    session_t *s = open_session(e, "sat-254");
    session_set_limits(s, two);
    CHECK(put(s, "p", 8) == PD_OK);
    CHECK(touch_n(s, "p", 254) == 254);
    CHECK(put(s, "q", 8) == PD_OK);
    CHECK(touch_n(s, "q", 253) == 253);
    CHECK(put(s, "r", 8) == PD_OK);
    CHECK_EVICTED(s, "q", "p r", 1);
    CHECK_ACCOUNTING(s);

    /* 300 uses count as 255: a tie with p's 255, so the least recently used
     * goes. p first here (a wrapped count, 44, would evict r). */
    s = open_session(e, "sat-300a");
    session_set_limits(s, two);
    CHECK(put(s, "p", 8) == PD_OK);
    CHECK(touch_n(s, "p", 254) == 254);
    CHECK(put(s, "r", 8) == PD_OK);
    CHECK(touch_n(s, "r", 299) == 299);
    CHECK(put(s, "s", 8) == PD_OK);
    CHECK_EVICTED(s, "p", "r s", 1);
    CHECK_ACCOUNTING(s);

    /* And r first when r is the older (a count above 255 would evict p). */
    s = open_session(e, "sat-300b");
    session_set_limits(s, two);
    CHECK(put(s, "r", 8) == PD_OK);
    CHECK(touch_n(s, "r", 299) == 299);
    CHECK(put(s, "p", 8) == PD_OK);
    CHECK(touch_n(s, "p", 254) == 254);
    CHECK(put(s, "s", 8) == PD_OK);
    CHECK_EVICTED(s, "r", "p s", 1);
    CHECK_ACCOUNTING(s);
    engine_destroy(e);
}

/* --- ttl ----------------------------------------------------------------- */

static void test_ttl(void)
{
    clock_ms = 30000;
    int64_t t0 = clock_ms;
    engine_t *e = new_engine((engine_config_t){.seed = 5, .strategy = EVICT_TTL});
    session_t *s = open_session(e, "ttl");
    session_set_limits(s, (session_limits_t){.entries = 4});

    CHECK(put(s, "a", 8) == PD_OK);
    CHECK(put_ttl(s, "b", 8, t0 + 5000) == PD_OK);
    CHECK(put_ttl(s, "c", 8, t0 + 3000) == PD_OK);
    CHECK(put(s, "d", 8) == PD_OK);
    CHECK(put(s, "e", 8) == PD_OK);              /* c expires soonest */
    CHECK_EVICTED(s, "c", "a b d e", 1);
    CHECK(put(s, "f", 8) == PD_OK);              /* b: any TTL before no TTL */
    CHECK_EVICTED(s, "b", "a d e f", 2);

    CHECK(use(s, "a") == PD_OK);                 /* no-TTL order: d e f a */
    CHECK(session_expire_at(s, "f", 1, t0 + 100000) == PD_OK);
    CHECK(put(s, "g", 8) == PD_OK);              /* f is the only TTL entry */
    CHECK_EVICTED(s, "f", "d e a g", 3);
    CHECK(put(s, "h", 8) == PD_OK);              /* then least recently used */
    CHECK_EVICTED(s, "d", "e a g h", 4);
    CHECK(put(s, "i", 8) == PD_OK);
    CHECK_EVICTED(s, "e", "a g h i", 5);
    CHECK_ACCOUNTING(s);

    /* A changed expiry reorders; a removed one puts the key with the rest. */
    session_t *t = open_session(e, "ttl-change");
    session_set_limits(t, (session_limits_t){.entries = 3});
    CHECK(put_ttl(t, "x", 8, t0 + 1000) == PD_OK);
    CHECK(put_ttl(t, "y", 8, t0 + 2000) == PD_OK);
    CHECK(put(t, "z", 8) == PD_OK);
    CHECK(session_expire_at(t, "x", 1, t0 + 9000) == PD_OK);
    CHECK(put(t, "w", 8) == PD_OK);              /* y now expires soonest */
    CHECK_EVICTED(t, "y", "x z w", 1);
    CHECK(session_persist(t, "x", 1) == PD_OK);
    CHECK_EQ_U(session_pttl(t, "x", 1), (uint64_t)SESSION_TTL_NONE);
    CHECK(use(t, "x") == PD_OK);
    CHECK(use(t, "z") == PD_OK);                 /* order: w x z, no TTLs */
    CHECK(put(t, "v", 8) == PD_OK);
    CHECK_EVICTED(t, "w", "x z v", 2);
    CHECK(put(t, "u", 8) == PD_OK);
    CHECK_EVICTED(t, "x", "z v u", 3);
    CHECK_ACCOUNTING(t);
    engine_destroy(e);
}

/* --- size ---------------------------------------------------------------- */

static void test_size(void)
{
    clock_ms = 50000;
    engine_t *e = new_engine((engine_config_t){.seed = 6, .strategy = EVICT_SIZE});
    session_t *s = open_session(e, "size");
    session_set_limits(s, (session_limits_t){.entries = 3});

    CHECK(put(s, "a", 10) == PD_OK);
    CHECK(put(s, "b", 200) == PD_OK);
    CHECK(put(s, "c", 50) == PD_OK);
    CHECK(put(s, "d", 20) == PD_OK);
    CHECK_EVICTED(s, "b", "a c d", 1);
    CHECK(put(s, "e", 5) == PD_OK);
    CHECK_EVICTED(s, "c", "a d e", 2);
    CHECK(put(s, "a", 300) == PD_OK);            /* a grows to the largest */
    CHECK(put(s, "f", 5) == PD_OK);
    CHECK_EVICTED(s, "a", "d e f", 3);
    CHECK_ACCOUNTING(s);

    /* Equal sizes go least recently used first. Ids run p < q < r, so an
     * id tie-break would evict p first. */
    session_t *t = open_session(e, "size-ties");
    session_set_limits(t, (session_limits_t){.entries = 3});
    CHECK(put(t, "p", 30) == PD_OK);
    CHECK(put(t, "q", 30) == PD_OK);
    CHECK(put(t, "r", 30) == PD_OK);
    CHECK(use(t, "p") == PD_OK);                 /* order: q r p */
    CHECK(put(t, "s", 1) == PD_OK);
    CHECK_EVICTED(t, "q", "p r s", 1);
    CHECK(put(t, "t", 1) == PD_OK);
    CHECK_EVICTED(t, "r", "p s t", 2);
    CHECK(put(t, "u", 1) == PD_OK);
    CHECK_EVICTED(t, "p", "s t u", 3);
    CHECK(put(t, "w", 1) == PD_OK);              /* s t u equal: s is oldest */
    CHECK_EVICTED(t, "s", "t u w", 4);
    CHECK_ACCOUNTING(t);

    /* Under a byte limit: the largest goes, and that frees enough. */
    session_t *b = open_session(e, "size-bytes");
    CHECK(put(b, "x", 100) == PD_OK);
    CHECK(put(b, "y", 300) == PD_OK);
    CHECK(put(b, "z", 200) == PD_OK);
    uint64_t full = session_bytes(b);
    session_set_limits(b, (session_limits_t){.bytes = full});
    CHECK(put(b, "w", 100) == PD_OK);
    CHECK_EVICTED(b, "y", "x z w", 1);
    CHECK(session_bytes(b) <= full);
    CHECK_ACCOUNTING(b);
    engine_destroy(e);
}

/* --- chooser ------------------------------------------------------------- */

static void test_chooser_pick(void)
{
    clock_ms = 60000;
    chooser_state_t st = {.mode = PICK_PREFIX, .want = "victim:"};
    engine_t *e = new_engine((engine_config_t){
        .seed = 7, .strategy = EVICT_CHOOSER, .sample_size = 8,
        .chooser = chooser, .chooser_ud = &st});
    session_t *s = open_session(e, "chooser");
    st.session = s;
    session_set_limits(s, (session_limits_t){.entries = 5});

    CHECK(put(s, "k1", 8) == PD_OK);
    CHECK(put(s, "victim:x", 8) == PD_OK);
    CHECK(put(s, "k22", 8) == PD_OK);
    CHECK(put(s, "k4444", 8) == PD_OK);
    CHECK(put(s, "k333", 8) == PD_OK);
    CHECK_EQ_U(st.calls, 0);
    CHECK(put(s, "k5", 8) == PD_OK);
    CHECK_EQ_U(st.calls, 1);
    CHECK_EQ_U(st.n, 5);                         /* 5 <= sample_size: all of them */
    CHECK(seen_key(&st, "k1") && seen_key(&st, "victim:x") && seen_key(&st, "k22") &&
          seen_key(&st, "k4444") && seen_key(&st, "k333"));
    CHECK_EVICTED(s, "victim:x", "k1 k22 k4444 k333 k5", 1);
    CHECK(put(s, "k6", 8) == PD_OK);             /* no prefix: the longest key */
    CHECK_EQ_U(st.n, 5);
    CHECK_EVICTED(s, "k4444", "k1 k22 k333 k5 k6", 2);
    CHECK_EQ_U(st.wrong_session, 0);
    CHECK_EQ_U(st.not_distinct, 0);
    CHECK_EQ_U(s->evict.chooser_errors, 0);
    CHECK_ACCOUNTING(s);
    engine_destroy(e);
}

static void test_chooser_fields(void)
{
    /* Not a multiple of the tick: ticks count from the session's start. */
    clock_ms = 1003;
    int64_t t0 = clock_ms;
    chooser_state_t st = {.mode = PICK_PREFIX, .want = "b"};
    engine_t *e = new_engine((engine_config_t){
        .seed = 8, .strategy = EVICT_CHOOSER, .sample_size = 5, .lfu_decay_ms = 1000,
        .chooser = chooser, .chooser_ud = &st});
    session_t *s = open_session(e, "fields");
    st.session = s;
    session_set_limits(s, (session_limits_t){.entries = 3});

    CHECK(put(s, "a", 20) == PD_OK);             /* tick 0 */
    clock_ms = t0 + 57;
    CHECK(use(s, "a") == PD_OK);                 /* tick 5 */
    clock_ms = t0 + 123;
    CHECK(put_ttl(s, "b", 30, t0 + 100000) == PD_OK); /* tick 12 */
    clock_ms = t0 + 130;
    CHECK(put(s, "hot", 1) == PD_OK);            /* tick 13 */
    CHECK(touch_n(s, "hot", 299) == 299);        /* 300 uses */
    clock_ms = t0 + 2258;                        /* tick 225: 2.25 decay periods */
    CHECK(put(s, "c", 8) == PD_OK);
    CHECK_EQ_U(st.calls, 1);
    CHECK_EQ_U(st.n, 3);

    const evict_candidate_t *a = seen_key(&st, "a");
    const evict_candidate_t *b = seen_key(&st, "b");
    const evict_candidate_t *h = seen_key(&st, "hot");
    REQUIRE(a && b && h);
    CHECK_EQ_U(a->klen, 1);
    CHECK_EQ_U(a->bytes, arena_usable(&s->store.arena, entry_size(1, 20, 0, 0)));
    CHECK(a->bytes > 1 + 20);
    CHECK_EQ_U(a->idle_ms, (225 - 5) * ENTRY_TICK_MS);
    CHECK_EQ_U(a->age_ms, (225 - 0) * ENTRY_TICK_MS);
    CHECK_EQ_U(a->hits, 2);
    CHECK_EQ_U(a->frequency, 0);                 /* 2 uses, 2 idle periods */
    CHECK(a->ttl_ms == -1);
    CHECK_EQ_U(b->bytes, arena_usable(&s->store.arena, entry_size(1, 30, 1, 0)));
    CHECK(b->bytes > 1 + 30);
    CHECK_EQ_U(b->idle_ms, (225 - 12) * ENTRY_TICK_MS);
    CHECK_EQ_U(b->age_ms, (225 - 12) * ENTRY_TICK_MS);
    CHECK_EQ_U(b->hits, 1);
    CHECK_EQ_U(b->frequency, 0);
    CHECK(b->ttl_ms == 100000 - 2258);           /* exact ms, not ticks */
    CHECK_EQ_U(h->hits, 255);                    /* saturates */
    CHECK_EQ_U(h->frequency, 253);               /* 255 less 2 idle periods */
    CHECK_EQ_U(h->idle_ms, (225 - 13) * ENTRY_TICK_MS);
    CHECK(h->ttl_ms == -1);
    CHECK_EVICTED(s, "b", "a hot c", 1);
    CHECK_ACCOUNTING(s);
    engine_destroy(e);
}

static void test_chooser_errors(void)
{
    clock_ms = 70000;
    chooser_state_t st = {.mode = PICK_FIXED, .ret = -1};
    engine_t *e = new_engine((engine_config_t){
        .seed = 9, .strategy = EVICT_CHOOSER, .sample_size = 3,
        .chooser = chooser, .chooser_ud = &st});
    session_t *s = open_session(e, "errors");
    st.session = s;
    session_set_limits(s, (session_limits_t){.entries = 3});

    CHECK(put(s, "a", 8) == PD_OK);
    CHECK(put(s, "b", 8) == PD_OK);
    CHECK(put(s, "c", 8) == PD_OK);
    CHECK(use(s, "a") == PD_OK);                 /* lru order: b c a */
    CHECK(put(s, "d", 8) == PD_OK);              /* -1: falls back to lru */
    CHECK_EVICTED(s, "b", "a c d", 1);
    CHECK_EQ_U(s->evict.chooser_errors, 1);
    st.ret = 3;                                  /* == n: out of range */
    CHECK(put(s, "e", 8) == PD_OK);
    CHECK_EVICTED(s, "c", "a d e", 2);
    CHECK_EQ_U(s->evict.chooser_errors, 2);
    st.ret = 1000;
    CHECK(put(s, "f", 8) == PD_OK);
    CHECK_EVICTED(s, "a", "d e f", 3);
    CHECK_EQ_U(s->evict.chooser_errors, 3);
    st.ret = 2;                                  /* valid again: no error */
    CHECK(put(s, "g", 8) == PD_OK);
    CHECK_EQ_U(s->counters.evictions, 4);
    CHECK_EQ_U(s->evict.chooser_errors, 3);
    CHECK_EQ_U(st.calls, 4);
    CHECK_ACCOUNTING(s);
    engine_destroy(e);

    /* No chooser at all: plain lru, and no error to count. */
    engine_t *e2 = new_engine((engine_config_t){.seed = 9, .strategy = EVICT_CHOOSER});
    session_t *t = open_session(e2, "no-chooser");
    session_set_limits(t, (session_limits_t){.entries = 2});
    CHECK(put(t, "a", 8) == PD_OK);
    CHECK(put(t, "b", 8) == PD_OK);
    CHECK(use(t, "a") == PD_OK);
    CHECK(put(t, "c", 8) == PD_OK);
    CHECK_EVICTED(t, "b", "a c", 1);
    CHECK_EQ_U(t->evict.chooser_errors, 0);
    CHECK_ACCOUNTING(t);
    engine_destroy(e2);
}

/* 20 entries, sample_size 5, 30 evictions; returns the candidate log. */
static void sample_run(uint64_t seed, chooser_state_t *st)
{
    clock_ms = 80000;
    memset(st, 0, sizeof(*st));
    st->mode = PICK_LOG;
    engine_t *e = new_engine((engine_config_t){
        .seed = seed, .strategy = EVICT_CHOOSER, .sample_size = 5,
        .chooser = chooser, .chooser_ud = st});
    session_t *s = open_session(e, "sample");
    st->session = s;
    session_set_limits(s, (session_limits_t){.entries = 20});
    char key[16];
    unsigned wrong_n = 0;
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "k%02d", i);
        CHECK(put(s, key, 8) == PD_OK);
        if (i >= 20 && st->n != 5)
            wrong_n++;
    }
    CHECK_EQ_U(st->calls, 30);
    CHECK_EQ_U(s->counters.evictions, 30);
    CHECK_EQ_U(session_entries(s), 20);
    CHECK_EQ_U(wrong_n, 0);                      /* 20 > 5: exactly 5 sampled */
    CHECK_EQ_U(st->not_distinct, 0);
    CHECK_ACCOUNTING(s);
    engine_destroy(e);
}

static void test_chooser_sampling(void)
{
    static chooser_state_t r1, r2, r3;
    sample_run(11, &r1);
    sample_run(11, &r2);
    sample_run(12, &r3);
    CHECK(r1.log_len > 0);
    CHECK(r1.log_len == r2.log_len && strcmp(r1.log, r2.log) == 0);
    CHECK(strcmp(r1.log, r3.log) != 0);          /* the seed matters */

    /* Uniformity: 50 entries, one candidate per draw, 5000 draws (100 per
     * key expected). Each draw evicts the candidate and writes it back, so
     * the set of keys never changes. Chi-square has 49 degrees of freedom
     * (mean 49, sd 10); 150 is far out in the tail, and the seed is fixed. */
    clock_ms = 90000;
    static chooser_state_t st;
    memset(&st, 0, sizeof(st));
    st.mode = PICK_COUNT;
    engine_t *e = new_engine((engine_config_t){
        .seed = 13, .strategy = EVICT_CHOOSER, .sample_size = 1,
        .chooser = chooser, .chooser_ud = &st});
    session_t *s = open_session(e, "uniform");
    st.session = s;
    char key[16];
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "u%02d", i);
        CHECK(put(s, key, 8) == PD_OK);
    }
    const int draws = 5000;
    unsigned lost = 0;
    for (int d = 0; d < draws; d++) {
        unsigned before[50];
        memcpy(before, st.counts, sizeof(before));
        if (!session_evict_one(s)) {
            lost++;
            continue;
        }
        for (int i = 0; i < 50; i++) {
            if (st.counts[i] != before[i]) {
                snprintf(key, sizeof(key), "u%02d", i);
                lost += has(s, key);             /* the candidate must be gone */
                lost += put(s, key, 8) != PD_OK;
            }
        }
        lost += session_entries(s) != 50;
    }
    CHECK_EQ_U(lost, 0);
    CHECK_EQ_U(st.calls, (unsigned)draws);
    CHECK_EQ_U(st.bad_n, 0);
    CHECK_EQ_U(s->counters.evictions, (unsigned)draws);
    double chi = 0, expect = draws / 50.0;
    unsigned total = 0, min = UINT32_MAX;
    for (int i = 0; i < 50; i++) {
        double diff = st.counts[i] - expect;
        chi += diff * diff / expect;
        total += st.counts[i];
        if (st.counts[i] < min)
            min = st.counts[i];
    }
    printf("uniformity: chi-square %.1f over 49 dof, min count %u\n", chi, min);
    CHECK_EQ_U(total, (unsigned)draws);
    CHECK(min > 0);
    CHECK(chi < 150.0);
    CHECK_ACCOUNTING(s);
    engine_destroy(e);
}

/* The entry a write replaces is out of eviction's reach while the write
 * makes room (session.c, store). With a chooser it must not be
 * offered either: evicting it would free the entry store() goes on to copy
 * and free. The chooser refuses to pick it and counts the offer. */
static void rewrite_scenario(bool with_ttl)
{
    clock_ms = 100000;
    chooser_state_t st = {.mode = PICK_PREFIX, .want = "w", .forbid = "w"};
    engine_t *e = new_engine((engine_config_t){
        .seed = 14, .strategy = EVICT_CHOOSER, .sample_size = 8,
        .chooser = chooser, .chooser_ud = &st});
    session_t *s = open_session(e, "rewrite");
    st.session = s;
    int64_t at = with_ttl ? clock_ms + 60000 : 0;
    CHECK(put_ttl(s, "w", 10, at) == PD_OK);
    CHECK(put(s, "aa", 10) == PD_OK);
    CHECK(put(s, "b", 10) == PD_OK);
    /* A limit one eviction (of a 10-byte value) satisfies when w grows. */
    uint64_t grow = arena_usable(&s->store.arena, entry_size(1, 200, with_ttl, 0)) -
                    arena_usable(&s->store.arena, entry_size(1, 10, with_ttl, 0));
    session_set_limits(s, (session_limits_t){.bytes = session_bytes(s) + grow - 1});
    CHECK_EQ_U(s->counters.evictions, 0);
    CHECK(put_ttl(s, "w", 200, at) == PD_OK);
    CHECK_EQ_U(st.forbid_seen, 0);
    CHECK_EVICTED(s, "aa", "w b", 1);            /* the longest key offered */
    CHECK_EQ_U(session_strlen(s, "w", 1), 200);
    CHECK(session_bytes(s) <= s->limits.bytes);
    CHECK_ACCOUNTING(s);
    engine_destroy(e);
}

/* Runs a scenario that may crash the engine in a child, so the other
 * scenarios still report. */
static void isolated(void (*fn)(bool), bool arg, const char *what)
{
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        fn(arg);
        fflush(NULL);
        _exit(check_failures ? 1 : 0);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok)
        fprintf(stderr, "%s: child %s %d\n", what,
                WIFSIGNALED(status) ? "killed by signal" : "exited with",
                WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    CHECK(ok);
}

/* --- switching strategies ------------------------------------------------ */

/* Evicts through a 4-entry limit by writing new keys; the victims must come
 * in `order` (least recently used first). */
static void drain_lru(session_t *s, const char *const order[4], uint64_t ev0)
{
    static const char *const fresh[4] = {"n1", "n2", "n3", "n4"};
    session_set_limits(s, (session_limits_t){.entries = 4});
    CHECK_EQ_U(session_entries(s), 4);
    for (int i = 0; i < 4; i++) {
        CHECK(put(s, fresh[i], 1) == PD_OK);
        CHECK(!has(s, order[i]));
        for (int j = i + 1; j < 4; j++)
            CHECK(has(s, order[j]));
        for (int j = 0; j <= i; j++)
            CHECK(has(s, fresh[j]));
        CHECK_EQ_U(session_entries(s), 4);
        CHECK_EQ_U(s->counters.evictions, ev0 + (uint64_t)i + 1);
    }
}

static void test_switching(void)
{
    clock_ms = 110000;
    engine_t *e = new_engine((engine_config_t){.seed = 15, .strategy = EVICT_LRU});

    /* Uses at distinct ticks. */
    session_t *s = open_session(e, "switch");
    CHECK(put(s, "a", 300) == PD_OK);
    clock_ms += 10;
    CHECK(put(s, "b", 10) == PD_OK);
    clock_ms += 10;
    CHECK(put(s, "c", 200) == PD_OK);
    clock_ms += 10;
    CHECK(put(s, "d", 50) == PD_OK);
    clock_ms += 10;
    CHECK(use(s, "b") == PD_OK);
    clock_ms += 10;
    CHECK(use(s, "a") == PD_OK);
    clock_ms += 10;
    CHECK(put(s, "huge", 1000) == PD_OK);        /* order: c d b a huge */
    CHECK(session_set_strategy(s, EVICT_SIZE) == PD_OK);
    CHECK_EQ_U(s->evict.kind, EVICT_SIZE);
    /* size is really in force: the largest goes, not lru's c. */
    session_set_limits(s, (session_limits_t){.entries = 4});
    CHECK_EVICTED(s, "huge", "a b c d", 1);
    session_set_limits(s, (session_limits_t){0});
    clock_ms += 10;
    CHECK(touch_n(s, "c", 1) == 1);              /* order: d b a c */
    CHECK(session_set_strategy(s, EVICT_LFU) == PD_OK);
    CHECK(session_set_strategy(s, EVICT_LRU) == PD_OK);
    CHECK_EQ_U(s->evict.kind, EVICT_LRU);
    static const char *const order1[4] = {"d", "b", "a", "c"};
    drain_lru(s, order1, 1);
    CHECK_ACCOUNTING(s);

    /* Uses within one tick, in an order unlike the ids (a1 < b1 < c1 < d1):
     * last use runs d1 c1 b1 a1. */
    session_t *t = open_session(e, "switch-tick");
    CHECK(put(t, "a1", 300) == PD_OK);
    CHECK(put(t, "b1", 10) == PD_OK);
    CHECK(put(t, "c1", 200) == PD_OK);
    CHECK(put(t, "d1", 50) == PD_OK);
    CHECK(use(t, "c1") == PD_OK);
    CHECK(use(t, "b1") == PD_OK);
    CHECK(use(t, "a1") == PD_OK);
    CHECK(session_set_strategy(t, EVICT_SIZE) == PD_OK);
    CHECK(session_set_strategy(t, EVICT_LRU) == PD_OK);
    static const char *const order2[4] = {"d1", "c1", "b1", "a1"};
    drain_lru(t, order2, 0);
    CHECK_ACCOUNTING(t);
    engine_destroy(e);
}

/* The 40-bit sequence that orders a heap's ties runs out after about 10^12
 * pushes; each heap renumbers its ties first, so order holds. */
static void test_sequence_renumbering(void)
{
    clock_ms = 120000;
    engine_t *e = new_engine((engine_config_t){.seed = 16, .strategy = EVICT_LFU});
    session_t *s = open_session(e, "seq");
    session_set_limits(s, (session_limits_t){.entries = 2});
    s->evict.heap.seq = s->store.expiry.seq = (UINT64_C(1) << 40) - 2;
    CHECK(put_ttl(s, "a", 1, clock_ms + 5000) == PD_OK); /* same instant, 1 use */
    CHECK(put_ttl(s, "b", 1, clock_ms + 5000) == PD_OK); /* renumbering here */
    CHECK(s->evict.heap.seq < 16 && s->store.expiry.seq < 16);
    CHECK(put(s, "c", 1) == PD_OK);
    CHECK(!has(s, "a")); /* the older of two equal scores */
    CHECK(has(s, "b") && has(s, "c"));
    /* The expiry heap kept its order too: equal expiry, older first. */
    session_set_limits(s, (session_limits_t){.entries = 3});
    CHECK(put_ttl(s, "d", 1, clock_ms + 5000) == PD_OK);
    CHECK(session_set_strategy(s, EVICT_TTL) == PD_OK);
    CHECK(put(s, "e", 1) == PD_OK);
    CHECK(!has(s, "b") && has(s, "d"));
    CHECK_ACCOUNTING(s);
    engine_destroy(e);
}

/* SIEVE: a hit sets a visited bit and moves nothing; the hand goes from
 * the oldest entry toward newer ones, clearing bits, evicts the first
 * unvisited entry and stays there. */
static void test_sieve(void)
{
    clock_ms = 130000;
    engine_t *e = new_engine((engine_config_t){.seed = 17, .strategy = EVICT_SIEVE});
    session_t *s = open_session(e, "sieve");
    session_set_limits(s, (session_limits_t){.entries = 3});
    CHECK(put(s, "a", 1) == PD_OK);
    CHECK(put(s, "b", 1) == PD_OK);
    CHECK(put(s, "c", 1) == PD_OK);
    CHECK(use(s, "a") == PD_OK);                 /* a visited */
    CHECK(put(s, "d", 1) == PD_OK);              /* hand: a (clear) -> b: out */
    CHECK(!has(s, "b") && has(s, "a") && has(s, "c") && has(s, "d"));
    CHECK(put(s, "e", 1) == PD_OK);              /* hand stays at c: out */
    CHECK(!has(s, "c") && has(s, "a") && has(s, "d") && has(s, "e"));
    CHECK(use(s, "d") == PD_OK && use(s, "e") == PD_OK);
    CHECK(put(s, "f", 1) == PD_OK);              /* hand: d, e (clear), wraps to a: out */
    CHECK(!has(s, "a") && has(s, "d") && has(s, "e") && has(s, "f"));
    CHECK_EQ_U(s->counters.evictions, 3);
    CHECK_ACCOUNTING(s);
    engine_destroy(e);
}

/* S3-FIFO: new keys enter the small queue; leaving it, a key used twice
 * moves to main, others go to the ghost; a ghost key comes back straight
 * into main; main re-queues a key with uses left. Entry limit 10: the
 * small queue's share is 1. */
static void test_s3fifo(void)
{
    clock_ms = 140000;
    engine_t *e = new_engine((engine_config_t){.seed = 18, .strategy = EVICT_S3FIFO});
    session_t *s = open_session(e, "s3");
    session_set_limits(s, (session_limits_t){.entries = 10});
    const char *keys[] = {"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"};
    for (int i = 0; i < 10; i++)
        CHECK(put(s, keys[i], 1) == PD_OK);
    CHECK(use(s, "k0") == PD_OK && use(s, "k0") == PD_OK); /* k0: used twice */
    CHECK(put(s, "n1", 1) == PD_OK);
    /* k0 (twice used) went to main; k1 (unused) was the victim. */
    CHECK(has(s, "k0") && !has(s, "k1"));
    CHECK(s->evict.ghost.len == 1);
    CHECK(put(s, "k1", 1) == PD_OK);  /* a ghost: straight into main */
    CHECK((ent_flags(s, "k1") & ENTRY_MAIN) != 0);
    CHECK(!has(s, "k2"));             /* the oldest small key made room */
    CHECK_EQ_U(session_entries(s), 10);
    CHECK_ACCOUNTING(s);
    engine_destroy(e);
}

int main(void)
{
    memset(vbuf, 'v', sizeof(vbuf));
    test_lru();
    test_lfu_counts();
    test_lfu_aging();
    test_lfu_saturation();
    test_ttl();
    test_size();
    test_chooser_pick();
    test_chooser_fields();
    test_chooser_errors();
    test_chooser_sampling();
    isolated(rewrite_scenario, false, "chooser rewrite");
    isolated(rewrite_scenario, true, "chooser rewrite with ttl");
    test_switching();
    test_sequence_renumbering();
    test_sieve();
    test_s3fifo();
    return check_done();
}
