/* Acceptance: sessions are isolated from each other, and bad input gets a
 * defined result, changes nothing it should not, and never crashes. Every
 * scenario ends with check_exact: inline bytes equal jemalloc's. */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "core/engine.h"
#include "exact.h"
#include "util/rng.h"

/* A string literal as (pointer, length). */
#define K(lit) (lit), (sizeof(lit) - 1)

#define KIB 1024u
#define MIB (1024u * 1024u)

static int64_t clock_ms;

static int64_t fake_clock(void *ud)
{
    return *(const int64_t *)ud;
}

/* cfg with the fake clock and a fixed seed filled in. */
static engine_t *make_engine(engine_config_t cfg)
{
    cfg.clock = fake_clock;
    cfg.clock_ud = &clock_ms;
    cfg.seed = 7;
    engine_t *e = engine_create(&cfg);
    REQUIRE(e != NULL);
    return e;
}

static session_t *open_session(engine_t *e, const void *name, size_t len)
{
    session_t *s = NULL;
    REQUIRE(engine_open(e, name, len, &s) == PD_OK && s != NULL);
    return s;
}

static bool set_str(session_t *s, const char *key, const char *val, int64_t at)
{
    return session_set(s, key, strlen(key), val, strlen(val), 0, at, NULL, NULL) == PD_OK;
}

static bool value_eq(session_t *s, const void *key, size_t klen, const void *want,
                     size_t wlen)
{
    const unsigned char *v;
    size_t n;
    if (session_peek(s, key, klen, &v, &n) != PD_OK)
        return false;
    return n == wlen && (n == 0 || memcmp(v, want, n) == 0);
}

static bool value_is(session_t *s, const char *key, const char *want)
{
    return value_eq(s, key, strlen(key), want, strlen(want));
}

/* --- snapshots: "nothing changed" compares every key, value and TTL ------ */

typedef struct keys {
    unsigned char **k;
    size_t *n;
    size_t len, cap;
} keys_t;

static void collect(void *ud, session_t *s, const unsigned char *key, size_t klen)
{
    (void)s;
    keys_t *ks = ud;
    if (ks->len == ks->cap) {
        ks->cap = ks->cap ? ks->cap * 2 : 64;
        ks->k = realloc(ks->k, ks->cap * sizeof(*ks->k));
        ks->n = realloc(ks->n, ks->cap * sizeof(*ks->n));
        REQUIRE(ks->k && ks->n);
    }
    ks->k[ks->len] = malloc(klen ? klen : 1);
    REQUIRE(ks->k[ks->len] != NULL);
    memcpy(ks->k[ks->len], key, klen);
    ks->n[ks->len++] = klen;
}

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

typedef struct snap {
    uint64_t entries, bytes, keys, digest;
} snap_t;

/* Entries, bytes and an order-free digest of every (key, value, pttl).
 * Peek and pttl record no use, so taking a snapshot changes nothing. */
static snap_t snap_session(session_t *s)
{
    snap_t sn = {.entries = session_entries(s), .bytes = session_bytes(s)};
    keys_t ks = {0};
    uint32_t cur = 0;
    do {
        size_t budget = SIZE_MAX;
        cur = session_scan(s, cur, &budget, collect, &ks);
    } while (cur);
    for (size_t i = 0; i < ks.len; i++) {
        const unsigned char *v = NULL;
        size_t n = 0;
        if (session_peek(s, ks.k[i], ks.n[i], &v, &n) != PD_OK)
            n = SIZE_MAX; /* scanned but not readable: shows in the digest */
        uint64_t hv = n == SIZE_MAX ? 0 : fnv1a(v, n);
        /* The expiry as an absolute time, so the clock may move. */
        int64_t ttl = session_pttl(s, ks.k[i], ks.n[i]);
        if (ttl >= 0)
            ttl += store_now(&s->store);
        sn.digest += mix64(fnv1a(ks.k[i], ks.n[i]) ^ mix64(hv + (uint64_t)ttl + n));
        sn.keys++;
        free(ks.k[i]);
    }
    free(ks.k);
    free(ks.n);
    return sn;
}

static bool snap_eq(snap_t a, snap_t b)
{
    return a.entries == b.entries && a.bytes == b.bytes && a.keys == b.keys &&
           a.digest == b.digest;
}

/* Keys "<prefix><i>" with distinct values, every third with a TTL. */
static void fill(session_t *s, const char *prefix, int n, size_t vlen)
{
    char key[64], val[4096];
    unsigned failed = 0;
    REQUIRE(vlen < sizeof(val));
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "%s%d", prefix, i);
        memset(val, 'a' + i % 26, vlen);
        snprintf(val, vlen + 1 < 16 ? vlen + 1 : 16, "%d", i);
        failed += session_set(s, key, strlen(key), val, vlen, 0,
                              i % 3 ? 0 : clock_ms + 3600000, NULL, NULL) != PD_OK;
    }
    CHECK_EQ_U(failed, 0);
}

/* Runs fn in a child process with a time limit, so that a hang fails a check
 * instead of stalling the run. The child's failed checks fail it. */
static bool run_bounded(const char *what, void (*fn)(void), unsigned seconds)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        check_failures = 0; /* only the child's own checks decide */
        alarm(seconds);
        fn();
        _exit(check_failures ? 1 : 0);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    if (WIFSIGNALED(status))
        fprintf(stderr, "%s: killed by signal %d%s\n", what, WTERMSIG(status),
                WTERMSIG(status) == SIGALRM ? " (did not finish: hang?)" : "");
    else if (WEXITSTATUS(status) != 0)
        fprintf(stderr, "%s: failed checks (see above)\n", what);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* --- isolation ----------------------------------------------------------- */

static void test_isolation(void)
{
    clock_ms = 1000000;
    engine_t *e = make_engine((engine_config_t){0});
    session_t *alice = open_session(e, K("alice"));
    session_t *bob = open_session(e, K("bob"));

    /* The same key holds two values. */
    CHECK(set_str(alice, "k", "A", 0));
    CHECK(set_str(bob, "k", "B", 0));
    CHECK(value_is(alice, "k", "A"));
    CHECK(value_is(bob, "k", "B"));
    CHECK(set_str(alice, "k", "A2", 0));
    CHECK(value_is(bob, "k", "B"));
    CHECK(session_del(alice, K("k")) == PD_OK);
    CHECK(!session_exists(alice, K("k")));
    CHECK(value_is(bob, "k", "B"));
    CHECK(session_del(bob, K("k")) == PD_OK);

    /* Whatever alice does to keys of the same names, bob does not change. */
    fill(bob, "key", 300, 40);
    snap_t before = snap_session(bob);
    session_counters_t bob_counters = bob->counters;
    fill(alice, "key", 300, 100);
    CHECK(snap_eq(snap_session(bob), before));
    session_set_limits(alice, (session_limits_t){.entries = 50}); /* evicts 250 */
    CHECK_EQ_U(session_entries(alice), 50);
    CHECK(snap_eq(snap_session(bob), before));
    rng_t r = {.state = 99};
    char key[32];
    int64_t res;
    size_t len;
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof(key), "key%d", (int)rng_below(&r, 300));
        size_t klen = strlen(key);
        switch (rng_below(&r, 7)) {
        case 0: session_set(alice, key, klen, K("x"), 0, 0, NULL, NULL); break;
        case 1: session_del(alice, key, klen); break;
        case 2: session_append(alice, key, klen, K("yy"), &len); break;
        case 3: session_incrby(alice, key, klen, 1, &res); break;
        case 4: session_expire_at(alice, key, klen, clock_ms + 10); break;
        case 5: session_persist(alice, key, klen); break;
        default: session_expire_at(alice, key, klen, clock_ms - 1); break;
        }
    }
    CHECK(snap_eq(snap_session(bob), before));
    clock_ms += 100; /* alice's short TTLs pass; bob's hour-long ones do not */
    CHECK(engine_expire_step(e, 100000) > 0);
    CHECK(snap_eq(snap_session(bob), before));
    CHECK_EQ_U(bob->counters.evictions, bob_counters.evictions);
    CHECK_EQ_U(bob->counters.expirations, bob_counters.expirations);
    CHECK_EQ_U(bob->counters.writes, bob_counters.writes);
    session_clear(alice);
    CHECK(snap_eq(snap_session(bob), before));
    check_exact(e);

    /* Dropping alice leaves bob exactly as he was. */
    fill(alice, "key", 100, 200);
    engine_drop(e, alice);
    CHECK(engine_find(e, K("alice")) == NULL);
    CHECK(engine_find(e, K("bob")) == bob);
    CHECK(snap_eq(snap_session(bob), before));
    CHECK_EQ_U(engine_bytes(e), session_bytes(bob));
    check_exact(e);

    /* The name rule sends "alice:x" and "bob:x" to different sessions. */
    pd_status st;
    session_t *sa = engine_session_for_key(e, K("alice:x"), true, &st);
    CHECK(sa != NULL && st == PD_OK);
    session_t *sb = engine_session_for_key(e, K("bob:x"), true, &st);
    CHECK(sb == bob && st == PD_OK);
    CHECK(sa != sb);
    CHECK(sa && sa->name_len == 5 && memcmp(sa->name, "alice", 5) == 0);
    if (sa) {
        CHECK(set_str(sa, "alice:x", "from alice", 0));
        CHECK(set_str(sb, "bob:x", "from bob", 0));
        CHECK(value_is(sa, "alice:x", "from alice"));
        CHECK(!session_exists(sb, K("alice:x")));
        CHECK(!session_exists(sa, K("bob:x")));
        CHECK(value_is(sb, "bob:x", "from bob"));
    }
    check_exact(e);
    engine_destroy(e);
}

/* --- bad input ----------------------------------------------------------- */

static void test_empty_key_and_value(void)
{
    clock_ms = 2000000;
    engine_t *e = make_engine((engine_config_t){0});
    const unsigned char *v;
    size_t n;
    pd_status st;

    /* The empty key is a key (as in Redis), in session "default". */
    session_t *s = engine_session_for_key(e, "", 0, true, &st);
    CHECK(s != NULL && st == PD_OK);
    REQUIRE(s != NULL);
    CHECK(s == engine_find(e, K("default")));
    CHECK(session_set(s, "", 0, K("empty-key"), 0, 0, NULL, NULL) == PD_OK);
    CHECK(session_get(s, "", 0, &v, &n) == PD_OK && n == 9 && memcmp(v, "empty-key", 9) == 0);
    CHECK(session_exists(s, "", 0));
    CHECK_EQ_U(session_strlen(s, "", 0), 9);
    CHECK_EQ_I(session_pttl(s, "", 0), SESSION_TTL_NONE);
    CHECK(session_del(s, "", 0) == PD_OK);
    CHECK(!session_exists(s, "", 0));
    int64_t r = 0;
    CHECK(session_incrby(s, "", 0, 3, &r) == PD_OK);
    CHECK_EQ_I(r, 3);

    /* A 0-byte value reads back as length 0. */
    CHECK(session_set(s, K("zero"), "", 0, 0, 0, NULL, NULL) == PD_OK);
    n = 99;
    CHECK(session_get(s, K("zero"), &v, &n) == PD_OK);
    CHECK_EQ_U(n, 0);
    CHECK(session_exists(s, K("zero")));
    CHECK_EQ_U(session_strlen(s, K("zero")), 0);
    CHECK(session_incrby(s, K("zero"), 1, &r) == PD_NOTINT);
    size_t len = 9;
    CHECK(session_append(s, K("zero"), K("x"), &len) == PD_OK);
    CHECK_EQ_U(len, 1);
    CHECK(session_set(s, "", 0, "", 0, 0, 0, NULL, NULL) == PD_OK);
    CHECK(value_eq(s, "", 0, "", 0));
    check_exact(e);
    engine_destroy(e);
}

static void test_value_over_budget(void)
{
    clock_ms = 3000000;
    engine_t *e = make_engine((engine_config_t){.session_limits = {.bytes = 1 * MIB}});
    session_t *s = open_session(e, K("t"));
    session_t *other = open_session(e, K("other"));
    fill(s, "k", 20, 2000);
    fill(other, "k", 20, 2000);
    snap_t before = snap_session(s), other_before = snap_session(other);
    session_counters_t c0 = s->counters;
    size_t big_len = 2 * MIB;
    char *big = malloc(big_len);
    REQUIRE(big != NULL);
    memset(big, 'B', big_len);
    size_t len = 0;
    char *old = NULL;
    size_t old_len = 0;

    CHECK(session_set(s, K("new"), big, big_len, 0, 0, NULL, NULL) == PD_TOOBIG);
    CHECK(snap_eq(snap_session(s), before));
    CHECK(session_set(s, K("k1"), big, big_len, 0, 0, NULL, NULL) == PD_TOOBIG);
    CHECK(snap_eq(snap_session(s), before));
    CHECK(session_set(s, K("k2"), big, big_len, 0, clock_ms + 1000, &old, &old_len) == PD_TOOBIG);
    free(old);
    CHECK(snap_eq(snap_session(s), before));
    CHECK(session_set(s, K("k3"), big, 1 * MIB, 0, 0, NULL, NULL) == PD_TOOBIG);
    CHECK(snap_eq(snap_session(s), before));
    CHECK(session_append(s, K("k4"), big, big_len, &len) == PD_TOOBIG);
    CHECK(snap_eq(snap_session(s), before));
    CHECK(session_append(s, K("fresh"), big, big_len, &len) == PD_TOOBIG);
    CHECK(snap_eq(snap_session(s), before));
    CHECK_EQ_U(s->counters.refused, c0.refused + 6);
    CHECK_EQ_U(s->counters.writes, c0.writes);
    CHECK_EQ_U(s->counters.evictions, c0.evictions);
    CHECK(snap_eq(snap_session(other), other_before));
    check_exact(e);
    free(big);
    engine_destroy(e);
}

static void test_fits_after_evicting_all(void)
{
    clock_ms = 4000000;
    uint64_t limit = 1 * MIB;
    engine_t *e = make_engine((engine_config_t){.session_limits = {.bytes = limit}});
    session_t *s = open_session(e, K("t"));
    size_t small_len = 200000, big_len = 900000;
    char *buf = malloc(big_len);
    REQUIRE(buf != NULL);
    /* The sizes must make this a real test: the three fit together, and the
     * big one fits alone but not beside any one of them. */
    size_t small_use = arena_usable(&s->store.arena, small_len + 32);
    size_t big_use = arena_usable(&s->store.arena, big_len + 32);
    REQUIRE(3 * small_use + 4 * KIB < limit);
    REQUIRE(big_use + small_use > limit);
    REQUIRE(big_use + 4 * KIB < limit);
    for (int i = 0; i < 3; i++) {
        memset(buf, 'a' + i, small_len);
        char key[8];
        snprintf(key, sizeof(key), "o%d", i);
        CHECK(session_set(s, key, strlen(key), buf, small_len, 0, 0, NULL, NULL) == PD_OK);
    }
    CHECK_EQ_U(session_entries(s), 3);
    uint64_t ev0 = s->counters.evictions;
    for (size_t i = 0; i < big_len; i++)
        buf[i] = (char)('A' + i % 23);
    CHECK(session_set(s, K("big"), buf, big_len, 0, 0, NULL, NULL) == PD_OK);
    CHECK_EQ_U(session_entries(s), 1);
    CHECK_EQ_U(s->counters.evictions, ev0 + 3);
    CHECK(value_eq(s, K("big"), buf, big_len));
    CHECK(session_bytes(s) <= limit);
    check_exact(e);
    free(buf);
    engine_destroy(e);
}

/* Plan first (issue 10, finding 20): a value that fits an otherwise empty
 * session, but not beside the session's index as it stands, is refused
 * before anything is evicted. Without the plan, eviction emptied the
 * session and the write failed anyway. */
static void test_refused_write_evicts_nothing(void)
{
    clock_ms = 4500000;
    uint64_t limit = 64 * KIB;
    engine_t *e = make_engine((engine_config_t){.session_limits = {.bytes = limit}});
    session_t *s = open_session(e, K("t"));
    int n = 0;
    char key[16];
    while (session_bytes(s) + 64 < limit - 16 * KIB) { /* tiny keys: a large index */
        snprintf(key, sizeof(key), "k%d", n++);
        REQUIRE(set_str(s, key, "v", 0));
    }
    size_t fixed = session_bytes(s) - s->store.entry_bytes;
    /* The largest value an empty session takes, found by trying. */
    session_t *empty = open_session(e, K("u"));
    static char val[64 * 1024];
    memset(val, 'z', sizeof(val));
    size_t vlen = sizeof(val);
    while (vlen > 0 && session_check_set(empty, K("big"), vlen, false) != PD_OK)
        vlen -= 16;
    REQUIRE(vlen > 0);
    REQUIRE(session_set(empty, K("big"), val, vlen, 0, 0, NULL, NULL) == PD_OK);
    /* The sizes must make this a real test: not beside the index. */
    REQUIRE(fixed + arena_usable(&s->store.arena, vlen) > limit);
    uint64_t ev0 = s->counters.evictions;
    CHECK(session_set(s, K("big"), val, vlen, 0, 0, NULL, NULL) == PD_TOOBIG);
    CHECK_EQ_U(s->counters.evictions, ev0);
    CHECK_EQ_U(session_entries(s), (uint64_t)n);
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        if (!value_is(s, key, "v")) {
            CHECK(!"a key was evicted for a refused write");
            break;
        }
    }
    check_exact(e);
    engine_destroy(e);
}

/* S3-FIFO's ghost is sized by the entries held: a session emptied by DEL
 * or by expiry holds no bytes (found by fuzz_dispatch). */
static void test_emptied_s3fifo_session_holds_nothing(void)
{
    clock_ms = 4600000;
    engine_t *e = make_engine((engine_config_t){.strategy = EVICT_S3FIFO,
                                                .session_limits = {.entries = 100}});
    session_t *s = open_session(e, K("t"));
    char key[16];
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        REQUIRE(set_str(s, key, "v", i < 20 ? 0 : clock_ms + 1000));
    }
    CHECK(s->evict.ghost.cap > 0); /* the case needs a ghost */
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        CHECK(session_del(s, key, strlen(key)) == PD_OK);
    }
    CHECK(session_bytes(s) > 0);
    clock_ms += 2000;
    CHECK_EQ_U(session_expire_some(s, 100), 20);
    CHECK_EQ_U(session_entries(s), 0);
    CHECK_EQ_U(session_bytes(s), 0);
    check_exact(e);
    engine_destroy(e);
}

static void test_entries_limit_one(void)
{
    clock_ms = 5000000;
    engine_t *e = make_engine((engine_config_t){.session_limits = {.entries = 1}});
    session_t *s = open_session(e, K("t"));
    int64_t r;
    size_t len;

    CHECK(set_str(s, "a", "1", 0));
    CHECK(set_str(s, "b", "2", 0));
    CHECK(!session_exists(s, K("a")));
    CHECK(value_is(s, "b", "2"));
    CHECK_EQ_U(session_entries(s), 1);
    CHECK_EQ_U(s->counters.evictions, 1);
    /* Rewriting the one key evicts nothing. */
    CHECK(set_str(s, "b", "3", 0));
    CHECK(session_incrby(s, K("b"), 1, &r) == PD_OK && r == 4);
    CHECK(session_append(s, K("b"), K("0"), &len) == PD_OK && len == 2);
    CHECK(session_expire_at(s, K("b"), clock_ms + 1000) == PD_OK);
    CHECK(session_persist(s, K("b")) == PD_OK);
    CHECK(value_is(s, "b", "40"));
    CHECK_EQ_U(s->counters.evictions, 1);
    CHECK(session_incrby(s, K("c"), 1, &r) == PD_OK);
    CHECK(!session_exists(s, K("b")));
    CHECK_EQ_U(session_entries(s), 1);
    CHECK_EQ_U(s->counters.evictions, 2);
    check_exact(e);
    engine_destroy(e);
}

static void test_ttl_edges(void)
{
    clock_ms = 6000000;
    engine_t *e = make_engine((engine_config_t){0});
    session_t *s = open_session(e, K("t"));

    CHECK(set_str(s, "zero", "v", 0));
    CHECK(set_str(s, "neg", "v", 0));
    CHECK(set_str(s, "min", "v", 0));
    CHECK(set_str(s, "huge", "v", 0));
    CHECK(session_expire_at(s, K("zero"), 0) == PD_OK);
    CHECK(session_expire_at(s, K("neg"), -1000) == PD_OK);
    CHECK(session_expire_at(s, K("min"), INT64_MIN) == PD_OK);
    CHECK(!session_exists(s, K("zero")));
    CHECK(!session_exists(s, K("neg")));
    CHECK(!session_exists(s, K("min")));
    CHECK(session_expire_at(s, K("huge"), INT64_MAX) == PD_OK);
    CHECK(session_exists(s, K("huge")));
    CHECK_EQ_I(session_pttl(s, K("huge")), INT64_MAX - clock_ms);
    CHECK(session_set(s, K("huge2"), K("v"), 0, INT64_MAX, NULL, NULL) == PD_OK);
    CHECK(session_pttl(s, K("huge2")) > 0);
    clock_ms += 1000000000000; /* about 30 years */
    CHECK_EQ_U(engine_expire_step(e, 1000), 0);
    CHECK(value_is(s, "huge", "v"));
    CHECK(value_is(s, "huge2", "v"));
    CHECK(session_pttl(s, K("huge")) > 0);
    CHECK_EQ_U(session_entries(s), 2);
    check_exact(e);
    engine_destroy(e);
}

static void test_odd_session_names(void)
{
    clock_ms = 7000000;
    enum { LONG_NAME = 10000 };
    engine_t *e = make_engine((engine_config_t){.max_name = LONG_NAME});
    char *long1 = malloc(LONG_NAME), *long2 = malloc(LONG_NAME);
    REQUIRE(long1 && long2);
    memset(long1, 'n', LONG_NAME);
    memset(long2, 'n', LONG_NAME);
    long2[LONG_NAME - 1] = 'm';
    struct {
        const char *name;
        size_t len;
    } names[] = {
        {"a\0b", 3}, {"a\0c", 3}, {"a", 1}, {"\0", 1}, {"\0\0", 2},
        {"\xff", 1}, {"\xff\xff\xfe", 3}, {"", 0},
        {long1, LONG_NAME}, {long2, LONG_NAME}, {long1, LONG_NAME - 1},
    };
    enum { N = sizeof(names) / sizeof(names[0]) };
    session_t *ss[N];
    for (int i = 0; i < N; i++) {
        ss[i] = NULL;
        CHECK(engine_open(e, names[i].name, names[i].len, &ss[i]) == PD_OK);
        REQUIRE(ss[i] != NULL);
        char val[16];
        snprintf(val, sizeof(val), "v%d", i);
        CHECK(set_str(ss[i], "k", val, 0));
    }
    CHECK_EQ_U(engine_session_count(e), N);
    for (int i = 0; i < N; i++) {
        char val[16];
        snprintf(val, sizeof(val), "v%d", i);
        CHECK(engine_find(e, names[i].name, names[i].len) == ss[i]);
        CHECK(ss[i]->name_len == names[i].len &&
              memcmp(ss[i]->name, names[i].name, names[i].len) == 0);
        CHECK(value_is(ss[i], "k", val));
        for (int j = 0; j < i; j++)
            CHECK(ss[i] != ss[j]);
    }
    /* A name only reached through a key's tag, with odd bytes in it. */
    pd_status st;
    session_t *t = engine_session_for_key(e, K("{\xff\0}k"), true, &st);
    CHECK(t != NULL && st == PD_OK && t == engine_find(e, "\xff\0", 2));
    CHECK_EQ_U(engine_session_count(e), N + 1);

    /* Dropping one leaves the look-alikes. */
    snap_t s1 = snap_session(ss[1]), s2 = snap_session(ss[2]);
    engine_drop(e, ss[0]);
    CHECK(engine_find(e, "a\0b", 3) == NULL);
    CHECK(engine_find(e, "a\0c", 3) == ss[1]);
    CHECK(engine_find(e, "a", 1) == ss[2]);
    CHECK(snap_eq(snap_session(ss[1]), s1));
    CHECK(snap_eq(snap_session(ss[2]), s2));
    for (int i = 1; i < N; i++)
        CHECK(engine_find(e, names[i].name, names[i].len) == ss[i]);
    check_exact(e);
    engine_destroy(e);

    /* Past the bound (ENGINE_MAX_NAME unless configured), a name is
     * refused and never looked up. */
    e = make_engine((engine_config_t){0});
    session_t *none = NULL;
    CHECK(engine_open(e, long1, ENGINE_MAX_NAME + 1, &none) == PD_BADNAME && none == NULL);
    CHECK(engine_open(e, long1, ENGINE_MAX_NAME, &none) == PD_OK && none != NULL);
    CHECK(engine_find(e, long1, ENGINE_MAX_NAME + 1) == NULL);
    long1[ENGINE_MAX_NAME + 1] = ':'; /* the key "nnn...n:k" */
    CHECK(engine_session_for_key(e, long1, ENGINE_MAX_NAME + 3, true, &st) == NULL &&
          st == PD_BADNAME);
    CHECK_EQ_U(engine_session_count(e), 1);
    engine_destroy(e);
    free(long1);
    free(long2);
}

static void test_long_keys(void)
{
    clock_ms = 8000000;
    engine_t *e = make_engine((engine_config_t){0});
    session_t *s = open_session(e, K("t"));
    size_t klen = 100000;
    unsigned char *key = malloc(klen), *key2 = malloc(klen);
    REQUIRE(key && key2);
    for (size_t i = 0; i < klen; i++)
        key[i] = (unsigned char)(i * 131 + 7);
    memcpy(key2, key, klen);
    key2[klen - 1] ^= 1;
    const unsigned char *v;
    size_t n, len;
    uint64_t usage;
    int64_t r;

    CHECK(session_set(s, key, klen, K("long"), 0, 0, NULL, NULL) == PD_OK);
    CHECK(session_get(s, key, klen, &v, &n) == PD_OK && n == 4 && memcmp(v, "long", 4) == 0);
    CHECK(!session_exists(s, key2, klen));
    CHECK(!session_exists(s, key, klen - 1));
    CHECK(session_set(s, key2, klen, K("other"), 0, 0, NULL, NULL) == PD_OK);
    CHECK(value_eq(s, key, klen, K("long")));
    CHECK(value_eq(s, key2, klen, K("other")));
    CHECK_EQ_U(session_strlen(s, key, klen), 4);
    CHECK(session_memory_usage(s, key, klen, &usage) == PD_OK && usage >= klen + 4);
    CHECK(session_expire_at(s, key, klen, clock_ms + 500) == PD_OK);
    CHECK_EQ_I(session_pttl(s, key, klen), 500);
    CHECK(session_append(s, key, klen, K("er"), &len) == PD_OK && len == 6);
    CHECK(value_eq(s, key, klen, K("longer")));
    CHECK_EQ_I(session_pttl(s, key, klen), 500);
    CHECK(session_persist(s, key, klen) == PD_OK);
    CHECK(session_set(s, key2, klen, K("41"), 0, 0, NULL, NULL) == PD_OK);
    CHECK(session_incrby(s, key2, klen, 1, &r) == PD_OK && r == 42);
    /* Scan hands back the whole long key. */
    keys_t ks = {0};
    uint32_t cur = 0;
    do {
        size_t budget = 1;
        cur = session_scan(s, cur, &budget, collect, &ks);
    } while (cur);
    CHECK_EQ_U(ks.len, 2);
    bool found = false;
    for (size_t i = 0; i < ks.len; i++) {
        found |= ks.n[i] == klen && memcmp(ks.k[i], key, klen) == 0;
        free(ks.k[i]);
    }
    free(ks.k);
    free(ks.n);
    CHECK(found);
    CHECK(session_del(s, key, klen) == PD_OK);
    CHECK(!session_exists(s, key, klen));
    CHECK(value_eq(s, key2, klen, K("42")));

    /* Lengths around the switch to a 4-byte length field. */
    static const size_t lens[] = {1, 253, 254, 255, 256, 65535, 65536, 65537};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        char val[16];
        snprintf(val, sizeof(val), "len%zu", lens[i]);
        CHECK(session_set(s, key, lens[i], val, strlen(val), 0, 0, NULL, NULL) == PD_OK);
    }
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        char val[16];
        snprintf(val, sizeof(val), "len%zu", lens[i]);
        CHECK(value_eq(s, key, lens[i], val, strlen(val)));
    }
    CHECK_EQ_U(session_entries(s), 1 + sizeof(lens) / sizeof(lens[0]));
    check_exact(e);
    free(key);
    free(key2);
    engine_destroy(e);
}

/* One write of each kind against a session whose writes are denied. */
#define DENIED_OPS 16

static pd_status denied_write(session_t *s, int op, const char **what)
{
    size_t len;
    int64_t r;
    char *old = NULL;
    size_t old_len;
    pd_status st = PD_OK;
    switch (op) {
    case 0:
        *what = "set new";
        st = session_set(s, K("new"), K("x"), 0, 0, NULL, NULL);
        break;
    case 1:
        *what = "set existing";
        st = session_set(s, K("k1"), K("x"), 0, 0, NULL, NULL);
        break;
    case 2:
        *what = "set nx";
        st = session_set(s, K("new"), K("x"), SESSION_SET_NX, 0, NULL, NULL);
        break;
    case 3:
        *what = "set xx";
        st = session_set(s, K("k1"), K("x"), SESSION_SET_XX, 0, NULL, NULL);
        break;
    case 4:
        *what = "set keepttl";
        st = session_set(s, K("k0"), K("x"), SESSION_SET_KEEPTTL, 0, NULL, NULL);
        break;
    case 5:
        *what = "set get";
        st = session_set(s, K("k1"), K("x"), 0, 0, &old, &old_len);
        break;
    case 6:
        *what = "set with ttl";
        st = session_set(s, K("k1"), K("x"), 0, clock_ms + 10, NULL, NULL);
        break;
    case 7:
        *what = "set with past ttl";
        st = session_set(s, K("k1"), K("x"), 0, clock_ms - 10, NULL, NULL);
        break;
    case 8:
        *what = "append existing";
        st = session_append(s, K("k1"), K("x"), &len);
        break;
    case 9:
        *what = "append new";
        st = session_append(s, K("new"), K("x"), &len);
        break;
    case 10:
        *what = "incrby existing";
        st = session_incrby(s, K("n"), 1, &r);
        break;
    case 11:
        *what = "incrby new";
        st = session_incrby(s, K("new"), 1, &r);
        break;
    case 12:
        *what = "expire_at (no ttl yet)";
        st = session_expire_at(s, K("k1"), clock_ms + 10);
        break;
    case 13:
        *what = "expire_at (had ttl)";
        st = session_expire_at(s, K("k0"), clock_ms + 10);
        break;
    case 14:
        *what = "expire_at past";
        st = session_expire_at(s, K("k1"), clock_ms - 10);
        break;
    case 15:
        *what = "persist";
        st = session_persist(s, K("k0"));
        break;
    default:
        *what = "?";
        break;
    }
    free(old);
    return st;
}

static void test_writes_denied(void)
{
    clock_ms = 9000000;
    engine_t *e = make_engine((engine_config_t){0});
    session_t *s = open_session(e, K("t"));
    session_t *other = open_session(e, K("other"));
    fill(s, "k", 30, 20); /* k0 has a TTL, k1 none */
    CHECK(set_str(s, "n", "5", 0));
    snap_t before = snap_session(s);
    uint64_t writes = s->counters.writes;

    s->writes_denied = true;
    for (int op = 0; op < DENIED_OPS; op++) {
        uint64_t refused = s->counters.refused;
        const char *what = NULL;
        pd_status st = denied_write(s, op, &what);
        bool same = snap_eq(snap_session(s), before);
        bool counted = s->counters.refused == refused + 1;
        if (st != PD_DENIED || !same || !counted)
            fprintf(stderr, "denied write \"%s\": %s, %s, refused %s\n", what,
                    pd_strerror(st), same ? "nothing changed" : "CHANGED the session",
                    counted ? "counted" : "NOT counted");
        CHECK(st == PD_DENIED);
        CHECK(same);
        CHECK(counted);
    }
    CHECK_EQ_U(s->counters.writes, writes);
    /* Reads still work, and other sessions still take writes. */
    const unsigned char *v;
    size_t n;
    CHECK(session_get(s, K("k1"), &v, &n) == PD_OK);
    CHECK(set_str(other, "k1", "fine", 0));
    CHECK(value_is(other, "k1", "fine"));

    s->writes_denied = false;
    CHECK(set_str(s, "k1", "after", 0));
    CHECK(value_is(s, "k1", "after"));
    check_exact(e);
    engine_destroy(e);
}

static bool drop_first(void *ud, engine_t *e, const void *name, size_t len)
{
    (void)name;
    (void)len;
    (*(int *)ud)++;
    engine_drop(e, engine_next(e, NULL));
    return true;
}

static void test_limit_sessions(void)
{
    clock_ms = 10000000;
    engine_t *e = make_engine((engine_config_t){.limit_sessions = 3});
    session_t *a = open_session(e, K("a"));
    session_t *b = open_session(e, K("b"));
    open_session(e, K("c"));
    CHECK(set_str(a, "k", "v", 0));
    session_t *d = NULL;
    CHECK(engine_open(e, K("d"), &d) == PD_NOSESSION);
    CHECK(engine_find(e, K("d")) == NULL);
    CHECK_EQ_U(engine_session_count(e), 3);
    pd_status st = PD_OK;
    CHECK(engine_session_for_key(e, K("d:x"), true, &st) == NULL);
    CHECK(st == PD_NOSESSION);
    /* An existing name is not a new session. */
    session_t *again = NULL;
    CHECK(engine_open(e, K("a"), &again) == PD_OK && again == a);
    CHECK(value_is(a, "k", "v"));
    engine_drop(e, b);
    CHECK(engine_open(e, K("d"), &d) == PD_OK && d != NULL);
    CHECK_EQ_U(engine_session_count(e), 3);
    CHECK(engine_open(e, K("b"), &d) == PD_NOSESSION);
    check_exact(e);
    engine_destroy(e);

    /* on_full may make room by dropping a session. */
    int calls = 0;
    e = make_engine((engine_config_t){.limit_sessions = 3, .on_full = drop_first,
                                      .on_full_ud = &calls});
    open_session(e, K("a"));
    open_session(e, K("b"));
    open_session(e, K("c"));
    d = NULL;
    CHECK(engine_open(e, K("d"), &d) == PD_OK && d != NULL);
    CHECK_EQ_I(calls, 1);
    CHECK_EQ_U(engine_session_count(e), 3);
    CHECK(engine_find(e, K("d")) == d);
    check_exact(e);
    engine_destroy(e);
}

/* --- the system byte budget ---------------------------------------------- */

#define SYS_LIMIT (256u * KIB)
#define SYS_SESSIONS 4

/* Fresh keys only, into four sessions chosen by the key's name. */
static void test_system_budget_inserts(void)
{
    clock_ms = 11000000;
    engine_t *e = make_engine((engine_config_t){.limit_bytes = SYS_LIMIT});
    rng_t r = {.state = 12345};
    char key[48];
    static char val[8000];
    memset(val, 'v', sizeof(val));
    unsigned over = 0, failed = 0;
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof(key), "s%d:k%d", (int)rng_below(&r, SYS_SESSIONS), i);
        size_t vlen = (size_t)rng_below(&r, sizeof(val));
        pd_status st;
        session_t *s = engine_session_for_key(e, key, strlen(key), true, &st);
        if (!s) {
            failed++;
            continue;
        }
        int64_t at = rng_below(&r, 4) == 0 ? clock_ms + 1000 + (int64_t)rng_below(&r, 5000) : 0;
        failed += session_set(s, key, strlen(key), val, vlen, 0, at, NULL, NULL) != PD_OK;
        over += engine_bytes(e) > SYS_LIMIT;
        clock_ms += 3;
    }
    CHECK_EQ_U(over, 0);
    CHECK_EQ_U(failed, 0);
    CHECK_EQ_U(engine_session_count(e), SYS_SESSIONS);
    uint64_t evictions = 0;
    for (session_t *s = engine_next(e, NULL); s; s = engine_next(e, s))
        evictions += s->counters.evictions;
    CHECK(evictions > 0); /* the budget really was in play */
    check_exact(e);

    /* A value that could never fit the system is refused; nothing changes. */
    REQUIRE(engine_session_count(e) == SYS_SESSIONS);
    snap_t before[SYS_SESSIONS];
    int i = 0;
    for (session_t *s = engine_next(e, NULL); s; s = engine_next(e, s))
        before[i++] = snap_session(s);
    char *big = calloc(1, SYS_LIMIT);
    REQUIRE(big != NULL);
    session_t *s0 = engine_next(e, NULL);
    CHECK(session_set(s0, K("s0:big"), big, SYS_LIMIT, 0, 0, NULL, NULL) == PD_TOOBIG);
    i = 0;
    for (session_t *s = engine_next(e, NULL); s; s = engine_next(e, s))
        CHECK(snap_eq(snap_session(s), before[i++]));
    CHECK(engine_bytes(e) <= SYS_LIMIT);
    free(big);
    check_exact(e);
    engine_destroy(e);
}

/* Rewrites too: overwrites, appends, INCRBY, EXPIRE and PERSIST of keys
 * that exist, with values up to a quarter of the budget. Run bounded. */
static void system_budget_rewrites(void)
{
    clock_ms = 12000000;
    engine_t *e = make_engine((engine_config_t){.limit_bytes = SYS_LIMIT});
    rng_t r = {.state = 777};
    char key[48];
    static char val[SYS_LIMIT / 4];
    memset(val, 'w', sizeof(val));
    unsigned over = 0, failed = 0;
    size_t len;
    int64_t res;
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof(key), "s%d:k%d", (int)rng_below(&r, SYS_SESSIONS),
                 (int)rng_below(&r, 40));
        size_t klen = strlen(key);
        session_t *s = engine_session_for_key(e, key, klen, true, NULL);
        if (!s) {
            failed++;
            continue;
        }
        size_t vlen = (size_t)rng_below(&r, sizeof(val));
        pd_status st = PD_OK;
        switch (rng_below(&r, 6)) {
        case 0:
        case 1: st = session_set(s, key, klen, val, vlen, 0, 0, NULL, NULL); break;
        case 2:
            if (session_strlen(s, key, klen) + vlen / 4 <= sizeof(val))
                st = session_append(s, key, klen, val, vlen / 4, &len);
            break;
        case 3:
            st = session_incrby(s, key, klen, 1, &res);
            if (st == PD_NOTINT)
                st = PD_OK; /* most values are not numbers */
            break;
        case 4:
            st = session_expire_at(s, key, klen, clock_ms + 100000);
            if (st == PD_NOTFOUND)
                st = PD_OK;
            break;
        default:
            st = session_persist(s, key, klen);
            if (st == PD_NOTFOUND || st == PD_NOTSET)
                st = PD_OK;
            break;
        }
        if (st != PD_OK && failed++ < 5)
            fprintf(stderr, "rewrite %d on %s: %s\n", i, key, pd_strerror(st));
        over += engine_bytes(e) > SYS_LIMIT;
        clock_ms += 3;
    }
    CHECK_EQ_U(over, 0);
    CHECK_EQ_U(failed, 0);
    check_exact(e);
    engine_destroy(e);
}

/* The smallest rewrite case: the largest session's only key grows past what
 * the system has left, while another session holds evictable bytes. */
static void system_budget_grow_only_key(void)
{
    clock_ms = 13000000;
    engine_t *e = make_engine((engine_config_t){.limit_bytes = 128 * KIB});
    session_t *a = open_session(e, K("a"));
    session_t *b = open_session(e, K("b"));
    static char val[90000];
    memset(val, 'g', sizeof(val));
    CHECK(session_set(a, K("k"), val, 60000, 0, 0, NULL, NULL) == PD_OK);
    CHECK(session_set(b, K("k"), val, 30000, 0, 0, NULL, NULL) == PD_OK);
    pd_status st = session_set(a, K("k"), val, 90000, 0, 0, NULL, NULL);
    CHECK(st == PD_OK);
    CHECK(engine_bytes(e) <= 128 * KIB);
    CHECK(st != PD_OK || value_eq(a, K("k"), val, 90000));
    check_exact(e);
    engine_destroy(e);
}

/* --- a chooser ----------------------------------------------------------- */

/* Picks the candidate named "a" whenever it is offered. */
static int pick_key_a(void *ud, session_t *s, const evict_candidate_t *c, size_t n)
{
    (void)ud;
    (void)s;
    for (size_t i = 0; i < n; i++)
        if (c[i].klen == 1 && c[i].key[0] == 'a')
            return (int)i;
    return 0;
}

/* Growing "a" needs "b" evicted. Whatever the chooser answers, the key being
 * written must not be evicted under the write: it succeeds, "b" goes, and the
 * session stays sound. Run bounded: a corrupted arena may crash. */
static void chooser_names_rewritten_key(void)
{
    clock_ms = 14000000;
    engine_t *e = make_engine((engine_config_t){.strategy = EVICT_CHOOSER,
                                                .chooser = pick_key_a,
                                                .session_limits = {.bytes = 14000}});
    session_t *s = open_session(e, K("t"));
    static char val[10000];
    memset(val, 'c', sizeof(val));
    CHECK(session_set(s, K("a"), val, 4000, 0, 0, NULL, NULL) == PD_OK);
    CHECK(session_set(s, K("b"), val, 4000, 0, 0, NULL, NULL) == PD_OK);
    pd_status st = session_set(s, K("a"), val, sizeof(val), 0, 0, NULL, NULL);
    if (st != PD_OK)
        fprintf(stderr, "growing \"a\": %s\n", pd_strerror(st));
    CHECK(st == PD_OK);
    CHECK(value_eq(s, K("a"), val, sizeof(val)));
    CHECK(!session_exists(s, K("b")));
    CHECK_EQ_U(session_entries(s), 1);
    CHECK(session_bytes(s) <= 14000);
    check_exact(e);
    CHECK(set_str(s, "c", "x", 0)); /* fits beside "a": nothing evicted */
    CHECK(value_is(s, "c", "x"));
    CHECK(value_eq(s, K("a"), val, sizeof(val)));
    CHECK_EQ_U(session_entries(s), 2);
    check_exact(e);
    engine_destroy(e);
}

static void test_system_budget(void)
{
    test_system_budget_inserts();
    CHECK(run_bounded("system budget, rewrites", system_budget_rewrites, 60));
    CHECK(run_bounded("system budget, grow the only key", system_budget_grow_only_key, 60));
}

int main(void)
{
    test_isolation();
    test_empty_key_and_value();
    test_value_over_budget();
    test_fits_after_evicting_all();
    test_refused_write_evicts_nothing();
    test_emptied_s3fifo_session_holds_nothing();
    test_entries_limit_one();
    test_ttl_edges();
    test_odd_session_names();
    test_long_keys();
    test_writes_denied();
    test_limit_sessions();
    test_system_budget();
    CHECK(run_bounded("a chooser names the key being written",
                      chooser_names_rewritten_key, 60));
    return check_done();
}
