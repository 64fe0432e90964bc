/* Data operations with Redis semantics, on a fake clock so TTLs are exact.
 * Every scenario ends with check_exact: inline bytes equal jemalloc's. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/engine.h"
#include "exact.h"

/* A string literal as (pointer, length). */
#define K(lit) (lit), (sizeof(lit) - 1)

static int64_t clock_ms;

static int64_t fake_clock(void *ud)
{
    return *(const int64_t *)ud;
}

/* The absolute expiry `ttl` ms from now, for tables that hold relative TTLs;
 * 0 (no expiry) stays 0. */
static int64_t expiry_in(int64_t ttl)
{
    return ttl ? clock_ms + ttl : 0;
}

static engine_t *make_engine(void)
{
    engine_config_t cfg = {.clock = fake_clock, .clock_ud = &clock_ms, .seed = 42};
    engine_t *e = engine_create(&cfg);
    REQUIRE(e != NULL);
    return e;
}

static session_t *open_session(engine_t *e, const char *name)
{
    session_t *s = NULL;
    REQUIRE(engine_open(e, name, strlen(name), &s) == PD_OK && s != NULL);
    return s;
}

/* The key holds exactly `want`; peek, so no hit, miss or use is recorded. */
static bool value_is(session_t *s, const char *key, const char *want)
{
    const unsigned char *v;
    size_t n;
    if (session_peek(s, key, strlen(key), &v, &n) != PD_OK)
        return false;
    return n == strlen(want) && memcmp(v, want, n) == 0;
}

static bool set_str(session_t *s, const char *key, const char *val, int64_t at)
{
    return session_set(s, key, strlen(key), val, strlen(val), 0, at, NULL, NULL) == PD_OK;
}

static uint64_t total_entries(engine_t *e)
{
    uint64_t n = 0;
    for (session_t *s = engine_next(e, NULL); s; s = engine_next(e, s))
        n += session_entries(s);
    return n;
}

/* --- SET and GET --------------------------------------------------------- */

static void test_set_get(void)
{
    clock_ms = 1000000;
    engine_t *e = make_engine();
    session_t *s = open_session(e, "ops");
    const unsigned char *v;
    size_t n;

    CHECK(session_set(s, K("k"), K("v1"), 0, 0, NULL, NULL) == PD_OK);
    CHECK(session_get(s, K("k"), &v, &n) == PD_OK && n == 2 && memcmp(v, "v1", 2) == 0);
    CHECK(session_set(s, K("k"), K("a longer value"), 0, 0, NULL, NULL) == PD_OK);
    CHECK(value_is(s, "k", "a longer value"));
    CHECK(session_set(s, K("k"), K("short"), 0, 0, NULL, NULL) == PD_OK);
    CHECK(value_is(s, "k", "short"));
    CHECK_EQ_U(session_entries(s), 1);
    CHECK_EQ_U(s->counters.writes, 3);

    /* NX: only when absent; a miss changes nothing, not even bytes. */
    uint64_t bytes = session_bytes(s);
    CHECK(session_set(s, K("k"), K("nx"), SESSION_SET_NX, 0, NULL, NULL) == PD_NOTSET);
    CHECK(value_is(s, "k", "short"));
    CHECK_EQ_U(session_bytes(s), bytes);
    CHECK_EQ_U(s->counters.writes, 3);
    CHECK(session_set(s, K("new"), K("nx"), SESSION_SET_NX, 0, NULL, NULL) == PD_OK);
    CHECK(value_is(s, "new", "nx"));

    /* XX: only when present. */
    bytes = session_bytes(s);
    CHECK(session_set(s, K("absent"), K("xx"), SESSION_SET_XX, 0, NULL, NULL) == PD_NOTSET);
    CHECK(!session_exists(s, K("absent")));
    CHECK_EQ_U(session_entries(s), 2);
    CHECK_EQ_U(session_bytes(s), bytes);
    CHECK(session_set(s, K("new"), K("xx"), SESSION_SET_XX, 0, NULL, NULL) == PD_OK);
    CHECK(value_is(s, "new", "xx"));

    /* An expired key counts as absent for NX and XX. */
    CHECK(set_str(s, "gone", "1", clock_ms + 10));
    clock_ms += 11;
    CHECK(session_set(s, K("gone"), K("2"), SESSION_SET_XX, 0, NULL, NULL) == PD_NOTSET);
    CHECK(!session_exists(s, K("gone")));
    CHECK(session_set(s, K("gone"), K("3"), SESSION_SET_NX, 0, NULL, NULL) == PD_OK);
    CHECK(value_is(s, "gone", "3"));
    CHECK_EQ_I(session_pttl(s, K("gone")), SESSION_TTL_NONE);

    /* KEEPTTL keeps the expiry; a plain SET clears it; a new one replaces it.
     * The steps rewrite "t" in order, each after moving the clock `advance`
     * ms; ttl is relative (0: none). */
    static const struct {
        int64_t advance;
        const char *val;
        int flags;
        int64_t ttl;
        int64_t pttl;
    } keepttl[] = {
        {0, "1", 0, 5000, 5000},
        {1000, "2", SESSION_SET_KEEPTTL, 0, 4000},
        {0, "3", SESSION_SET_KEEPTTL | SESSION_SET_XX, 0, 4000},
        {0, "4", 0, 9000, 9000},
        {0, "5", 0, 0, SESSION_TTL_NONE},
    };
    for (size_t i = 0; i < sizeof(keepttl) / sizeof(keepttl[0]); i++) {
        clock_ms += keepttl[i].advance;
        const char *val = keepttl[i].val;
        CHECK(session_set(s, K("t"), val, strlen(val), keepttl[i].flags,
                          expiry_in(keepttl[i].ttl), NULL, NULL) == PD_OK);
        CHECK(value_is(s, "t", val));
        CHECK_EQ_I(session_pttl(s, K("t")), keepttl[i].pttl);
    }
    clock_ms += 100000; /* no expiry left to fire */
    CHECK(value_is(s, "t", "5"));
    CHECK(session_set(s, K("t2"), K("x"), SESSION_SET_KEEPTTL, 0, NULL, NULL) == PD_OK);
    CHECK_EQ_I(session_pttl(s, K("t2")), SESSION_TTL_NONE);

    /* SET ... GET: the old value, malloc'd; untouched when the key was absent. */
    char *old = NULL;
    size_t old_len = 12345;
    CHECK(session_set(s, K("g"), K("first"), 0, 0, &old, &old_len) == PD_OK);
    CHECK(old == NULL);
    CHECK(session_set(s, K("g"), K("second"), 0, 0, &old, &old_len) == PD_OK);
    CHECK(old != NULL && old_len == 5 && memcmp(old, "first", 5) == 0);
    free(old);
    old = NULL;
    CHECK(value_is(s, "g", "second"));
    CHECK(session_set(s, K("g"), K("third"), SESSION_SET_NX, 0, &old, &old_len) == PD_NOTSET);
    CHECK(old != NULL && old_len == 6 && memcmp(old, "second", 6) == 0);
    free(old);
    old = NULL;
    CHECK(value_is(s, "g", "second"));
    CHECK(session_set(s, K("g"), "", 0, 0, 0, NULL, NULL) == PD_OK);
    CHECK(session_set(s, K("g"), K("x"), 0, 0, &old, &old_len) == PD_OK);
    CHECK(old != NULL && old_len == 0);
    free(old);
    old = NULL;

    /* An expire time not in the future: written and gone at once. "k" and
     * "new" existed, so `fewer` counts the entries gone since the start. */
    uint64_t entries = session_entries(s);
    const struct {
        const char *key;
        int64_t at;
        uint64_t fewer;
    } past[] = {
        {"past", clock_ms - 1, 0},
        {"k", clock_ms, 1},
        {"new", 1, 2},
    };
    for (size_t i = 0; i < sizeof(past) / sizeof(past[0]); i++) {
        const char *key = past[i].key;
        CHECK(session_set(s, key, strlen(key), K("x"), 0, past[i].at, NULL, NULL) == PD_OK);
        CHECK(!session_exists(s, key, strlen(key)));
        CHECK_EQ_U(session_entries(s), entries - past[i].fewer);
    }
    /* A negative absolute time is refused as invalid (as Redis does), and
     * nothing is written. */
    pd_status st = session_set(s, K("neg"), K("x"), 0, -5, NULL, NULL);
    CHECK(st == PD_INVALID);
    CHECK(!session_exists(s, K("neg")));
    CHECK_EQ_U(session_entries(s), entries - 2);

    check_exact(e);
    engine_destroy(e);
}

/* --- DEL, EXISTS, TOUCH and the hit counters ----------------------------- */

static void test_del_exists_touch(void)
{
    clock_ms = 2000000;
    engine_t *e = make_engine();
    session_t *s = open_session(e, "ops");
    const unsigned char *v;
    size_t n;

    CHECK(set_str(s, "a", "1", 0));
    CHECK(set_str(s, "b", "2", 0));
    CHECK(session_exists(s, K("a")));
    CHECK(!session_exists(s, K("zz")));
    CHECK(session_touch(s, K("a")) == PD_OK);
    CHECK(session_touch(s, K("zz")) == PD_NOTFOUND);

    /* peek counts nothing; get counts hits and misses. */
    session_counters_t c0 = s->counters;
    CHECK(session_peek(s, K("a"), &v, &n) == PD_OK && n == 1 && v[0] == '1');
    CHECK(session_peek(s, K("zz"), &v, &n) == PD_NOTFOUND);
    CHECK_EQ_U(s->counters.hits, c0.hits);
    CHECK_EQ_U(s->counters.misses, c0.misses);
    CHECK(session_get(s, K("a"), &v, &n) == PD_OK && n == 1 && v[0] == '1');
    CHECK(session_get(s, K("b"), &v, &n) == PD_OK && n == 1 && v[0] == '2');
    CHECK(session_get(s, K("zz"), &v, &n) == PD_NOTFOUND);
    CHECK_EQ_U(s->counters.hits, c0.hits + 2);
    CHECK_EQ_U(s->counters.misses, c0.misses + 1);

    CHECK(session_del(s, K("a")) == PD_OK);
    CHECK(session_del(s, K("a")) == PD_NOTFOUND);
    CHECK(!session_exists(s, K("a")));
    CHECK(session_touch(s, K("a")) == PD_NOTFOUND);
    CHECK(session_get(s, K("a"), &v, &n) == PD_NOTFOUND);
    CHECK_EQ_U(s->counters.misses, c0.misses + 2);
    CHECK_EQ_U(session_entries(s), 1);
    CHECK(value_is(s, "b", "2"));
    CHECK(session_del(s, K("b")) == PD_OK);
    CHECK_EQ_U(session_entries(s), 0);
    CHECK_EQ_U(session_bytes(s), 0);

    /* touch records a use, so LRU keeps "x"; exists and peek record none,
     * so "p" stays the least recently used and goes first. */
    session_set_limits(s, (session_limits_t){.entries = 2});
    CHECK(set_str(s, "x", "1", 0));
    CHECK(set_str(s, "y", "2", 0));
    CHECK(session_touch(s, K("x")) == PD_OK);
    CHECK(set_str(s, "z", "3", 0));
    CHECK(session_exists(s, K("x")));
    CHECK(!session_exists(s, K("y")));
    CHECK(session_del(s, K("x")) == PD_OK);
    CHECK(session_del(s, K("z")) == PD_OK);
    CHECK(set_str(s, "p", "1", 0));
    CHECK(set_str(s, "q", "2", 0));
    CHECK(session_exists(s, K("p")));
    CHECK(session_peek(s, K("p"), &v, &n) == PD_OK);
    CHECK(set_str(s, "r", "3", 0));
    CHECK(!session_exists(s, K("p")));
    CHECK(session_exists(s, K("q")));
    CHECK(session_exists(s, K("r")));
    CHECK_EQ_U(session_entries(s), 2);

    check_exact(e);
    engine_destroy(e);
}

/* --- EXPIRE, PERSIST, PTTL, active expiry -------------------------------- */

static void test_expire(void)
{
    clock_ms = 5000000;
    engine_t *e = make_engine();
    session_t *s = open_session(e, "ops");
    const unsigned char *v;
    size_t n;

    CHECK(set_str(s, "k", "v", 0));
    CHECK_EQ_I(session_pttl(s, K("k")), SESSION_TTL_NONE);
    CHECK_EQ_I(session_pttl(s, K("missing")), SESSION_TTL_MISSING);
    CHECK(session_expire_at(s, K("k"), clock_ms + 10000) == PD_OK);
    CHECK_EQ_I(session_pttl(s, K("k")), 10000);
    clock_ms += 2500;
    CHECK_EQ_I(session_pttl(s, K("k")), 7500);
    /* A new expiry replaces the old one, later or sooner. */
    CHECK(session_expire_at(s, K("k"), clock_ms + 20000) == PD_OK);
    CHECK_EQ_I(session_pttl(s, K("k")), 20000);
    CHECK(session_expire_at(s, K("k"), clock_ms + 3000) == PD_OK);
    CHECK_EQ_I(session_pttl(s, K("k")), 3000);
    clock_ms += 2999;
    CHECK_EQ_I(session_pttl(s, K("k")), 1);
    CHECK(session_get(s, K("k"), &v, &n) == PD_OK && n == 1 && v[0] == 'v');

    /* Lazy expiry: the first read after the time passed removes the key. */
    session_counters_t c0 = s->counters;
    clock_ms += 2;
    CHECK(session_get(s, K("k"), &v, &n) == PD_NOTFOUND);
    CHECK_EQ_U(s->counters.expirations, c0.expirations + 1);
    CHECK_EQ_U(s->counters.misses, c0.misses + 1);
    CHECK_EQ_U(session_entries(s), 0);
    CHECK_EQ_I(session_pttl(s, K("k")), SESSION_TTL_MISSING);
    CHECK(session_expire_at(s, K("k"), clock_ms + 10) == PD_NOTFOUND);
    check_exact(e);

    /* An expire time not in the future deletes at once. */
    CHECK(set_str(s, "p1", "v", 0));
    CHECK(set_str(s, "p2", "v", clock_ms + 100));
    CHECK(set_str(s, "p3", "v", 0));
    CHECK(session_expire_at(s, K("p1"), clock_ms - 1) == PD_OK);
    CHECK(session_expire_at(s, K("p2"), clock_ms) == PD_OK);
    CHECK(!session_exists(s, K("p1")));
    CHECK(!session_exists(s, K("p2")));
    CHECK(session_exists(s, K("p3")));
    CHECK_EQ_U(session_entries(s), 1);

    /* PERSIST: removed, then nothing to remove, then no key. */
    CHECK(session_expire_at(s, K("p3"), clock_ms + 50) == PD_OK);
    CHECK(session_persist(s, K("p3")) == PD_OK);
    CHECK_EQ_I(session_pttl(s, K("p3")), SESSION_TTL_NONE);
    CHECK(session_persist(s, K("p3")) == PD_NOTSET);
    CHECK(session_persist(s, K("nope")) == PD_NOTFOUND);
    clock_ms += 1000;
    CHECK(value_is(s, "p3", "v"));
    CHECK(session_del(s, K("p3")) == PD_OK);
    check_exact(e);

    /* Active expiry: engine_expire_step removes expired keys without reads.
     * Each session gets <prefix>0.. for every group; ttl is relative. */
    static const struct {
        const char *prefix;
        int count;
        int64_t ttl;
    } groups[] = {
        {"ttl", 100, 1000},    /* due once the clock moves 1001 ms */
        {"keep", 50, 0},       /* never due */
        {"later", 10, 100000}, /* still ahead */
    };
    session_t *ss[3] = {s, open_session(e, "e1"), open_session(e, "e2")};
    char key[32];
    unsigned failed = 0;
    for (int i = 0; i < 3; i++) {
        for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
            for (int k = 0; k < groups[g].count; k++) {
                snprintf(key, sizeof(key), "%s%d", groups[g].prefix, k);
                failed += !set_str(ss[i], key, "v", expiry_in(groups[g].ttl));
            }
        }
    }
    CHECK_EQ_U(failed, 0);
    CHECK_EQ_U(total_entries(e), 480);
    CHECK_EQ_U(engine_expire_step(e, 100), 0); /* nothing due yet */
    clock_ms += 1001;
    uint64_t exp0 = 0;
    for (int i = 0; i < 3; i++)
        exp0 += ss[i]->counters.expirations;
    CHECK_EQ_U(engine_expire_step(e, 10), 10);
    CHECK_EQ_U(total_entries(e), 470);
    CHECK_EQ_U(engine_expire_step(e, 1000), 290);
    CHECK_EQ_U(total_entries(e), 180);
    CHECK_EQ_U(engine_expire_step(e, 1000), 0);
    uint64_t exp1 = 0;
    for (int i = 0; i < 3; i++) {
        exp1 += ss[i]->counters.expirations;
        CHECK_EQ_U(session_entries(ss[i]), 60);
        CHECK(value_is(ss[i], "keep49", "v"));
        CHECK(value_is(ss[i], "later9", "v"));
    }
    CHECK_EQ_U(exp1 - exp0, 300);
    check_exact(e);
    engine_destroy(e);
}

/* --- APPEND, INCRBY, STRLEN --------------------------------------------- */

static void test_append_incr_strlen(void)
{
    clock_ms = 7000000;
    engine_t *e = make_engine();
    session_t *s = open_session(e, "ops");
    size_t len = 0;
    int64_t r = 0;

    /* APPEND in order: an absent key starts empty (and an empty append still
     * creates it); len is the new length. */
    static const struct {
        const char *key, *data;
        size_t len;
        const char *val;
    } appends[] = {
        {"ap", "abc", 3, "abc"},
        {"ap", "def", 6, "abcdef"},
        {"ap", "", 6, "abcdef"},
        {"empty", "", 0, ""},
    };
    for (size_t i = 0; i < sizeof(appends) / sizeof(appends[0]); i++) {
        const char *key = appends[i].key, *data = appends[i].data;
        CHECK(session_append(s, key, strlen(key), data, strlen(data), &len) == PD_OK);
        CHECK_EQ_U(len, appends[i].len);
        CHECK(value_is(s, key, appends[i].val));
    }
    CHECK(session_exists(s, K("empty")));
    CHECK(session_expire_at(s, K("ap"), clock_ms + 5000) == PD_OK);
    clock_ms += 1000;
    CHECK(session_append(s, K("ap"), K("g"), &len) == PD_OK);
    CHECK_EQ_U(len, 7);
    CHECK(value_is(s, "ap", "abcdefg"));
    CHECK_EQ_I(session_pttl(s, K("ap")), 4000);
    /* Appending grows the value across size classes and keeps it intact. */
    char chunk[1000];
    memset(chunk, 'z', sizeof(chunk));
    for (int i = 0; i < 20; i++)
        CHECK(session_append(s, K("ap"), chunk, sizeof(chunk), &len) == PD_OK);
    CHECK_EQ_U(len, 20007);
    CHECK_EQ_U(session_strlen(s, K("ap")), 20007);
    CHECK_EQ_I(session_pttl(s, K("ap")), 4000);

    CHECK_EQ_U(session_strlen(s, K("missing")), 0);
    CHECK_EQ_U(session_strlen(s, K("empty")), 0);
    CHECK(set_str(s, "h", "hello", 0));
    CHECK_EQ_U(session_strlen(s, K("h")), 5);

    /* INCRBY in order, each step after storing `set` (if any): absent counts
     * as 0, the stored value is the decimal text of r. */
    static const struct {
        const char *key, *set;
        int64_t by;
        pd_status st;
        int64_t r;
        const char *val;
    } incr[] = {
        {"n", NULL, 5, PD_OK, 5, "5"},
        {"n", "10", 5, PD_OK, 15, "15"},
        {"n", NULL, -20, PD_OK, -5, "-5"},
        {"n", NULL, 0, PD_OK, -5, "-5"},
        {"n", "0", 1, PD_OK, 1, "1"},
        /* Overflow either way leaves the value as it was (r not looked at). */
        {"big", "9223372036854775807", 1, PD_OVERFLOW, 0, "9223372036854775807"},
        {"big", NULL, -1, PD_OK, INT64_MAX - 1, "9223372036854775806"},
        {"small", "-9223372036854775808", 0, PD_OK, INT64_MIN, "-9223372036854775808"},
        {"small", NULL, -1, PD_OVERFLOW, 0, "-9223372036854775808"},
        {"one", "1", INT64_MAX, PD_OVERFLOW, 0, "1"},
        {"fresh", NULL, INT64_MIN, PD_OK, INT64_MIN, "-9223372036854775808"},
    };
    for (size_t i = 0; i < sizeof(incr) / sizeof(incr[0]); i++) {
        const char *key = incr[i].key;
        if (incr[i].set)
            CHECK(set_str(s, key, incr[i].set, 0));
        CHECK(session_incrby(s, key, strlen(key), incr[i].by, &r) == incr[i].st);
        if (incr[i].st == PD_OK)
            CHECK_EQ_I(r, incr[i].r);
        CHECK(value_is(s, key, incr[i].val));
    }

    /* Not integers by Redis's rule: nothing changes, r is left alone. */
    static const char *const bad[] = {
        "abc", " 1", "1 ", "01", "+1", "1.5", "", "-", "-0", "--1", "1e3",
        "9223372036854775808", "-9223372036854775809", "123456789012345678901",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(set_str(s, "bad", bad[i], 0));
        r = 777;
        pd_status st = session_incrby(s, K("bad"), 1, &r);
        if (st != PD_NOTINT)
            fprintf(stderr, "incrby on \"%s\": %s\n", bad[i], pd_strerror(st));
        CHECK(st == PD_NOTINT);
        CHECK_EQ_I(r, 777);
        CHECK(value_is(s, "bad", bad[i]));
    }

    /* INCRBY keeps the TTL. */
    CHECK(set_str(s, "c", "1", clock_ms + 3000));
    clock_ms += 500;
    CHECK(session_incrby(s, K("c"), 1, &r) == PD_OK);
    CHECK_EQ_I(r, 2);
    CHECK_EQ_I(session_pttl(s, K("c")), 2500);

    check_exact(e);
    engine_destroy(e);
}

/* --- MEMORY USAGE -------------------------------------------------------- */

static void test_memory_usage(void)
{
    clock_ms = 8000000;
    engine_t *e = make_engine();
    session_t *s = open_session(e, "ops");
    char val[10000];
    memset(val, 'x', sizeof(val));
    uint64_t b = 0, small = 0;

    CHECK(session_set(s, K("mu"), val, 100, 0, 0, NULL, NULL) == PD_OK);
    CHECK(session_memory_usage(s, K("mu"), &b) == PD_OK);
    CHECK(b >= 2 + 100);
    CHECK(b <= session_bytes(s)); /* the only key holds the whole session */
    small = b;
    CHECK(session_set(s, K("big"), val, sizeof(val), 0, 0, NULL, NULL) == PD_OK);
    CHECK(session_memory_usage(s, K("big"), &b) == PD_OK);
    CHECK(b >= 3 + sizeof(val));
    CHECK(b > small);
    CHECK(b <= session_bytes(s));
    CHECK(session_set(s, K("ttl"), val, 100, 0, clock_ms + 1000, NULL, NULL) == PD_OK);
    CHECK(session_memory_usage(s, K("ttl"), &b) == PD_OK);
    CHECK(b >= 3 + 100);
    b = 99;
    CHECK(session_memory_usage(s, K("missing"), &b) == PD_NOTFOUND);
    CHECK_EQ_U(b, 99);

    check_exact(e);
    engine_destroy(e);
}

/* --- SCAN ---------------------------------------------------------------- */

#define SCAN_SESSIONS 3
#define SCAN_KEYS 1000
#define SCAN_COUNT 7

typedef struct seen {
    unsigned orig[SCAN_SESSIONS][SCAN_KEYS];  /* "s<i>:k<n>" */
    unsigned added[SCAN_SESSIONS][SCAN_KEYS]; /* "s<i>:n<n>" */
    unsigned unknown;       /* keys the test never wrote */
    unsigned wrong_session; /* reported by a session that does not own it */
    unsigned visits;
} seen_t;

static void scan_key(char *buf, size_t size, unsigned si, char kind, unsigned ki)
{
    snprintf(buf, size, "s%u:%c%u", si, kind, ki);
}

static void visit(void *ud, session_t *s, const unsigned char *key, size_t klen)
{
    seen_t *sn = ud;
    sn->visits++;
    char buf[64], canon[64];
    unsigned si, ki;
    char kind;
    if (klen >= sizeof(buf)) {
        sn->unknown++;
        return;
    }
    memcpy(buf, key, klen);
    buf[klen] = '\0';
    if (sscanf(buf, "s%u:%c%u", &si, &kind, &ki) != 3 || si >= SCAN_SESSIONS ||
        ki >= SCAN_KEYS || (kind != 'k' && kind != 'n')) {
        sn->unknown++;
        return;
    }
    scan_key(canon, sizeof(canon), si, kind, ki);
    if (strcmp(canon, buf) != 0) {
        sn->unknown++;
        return;
    }
    char want[16];
    snprintf(want, sizeof(want), "s%u", si);
    if (s->name_len != strlen(want) || memcmp(s->name, want, s->name_len) != 0)
        sn->wrong_session++;
    (kind == 'k' ? sn->orig : sn->added)[si][ki]++;
}

/* Sessions s0..s2, each with keys s<i>:k0..k999. */
static engine_t *scan_engine(session_t *ss[SCAN_SESSIONS])
{
    engine_t *e = make_engine();
    char name[16], key[32];
    unsigned failed = 0;
    for (unsigned i = 0; i < SCAN_SESSIONS; i++) {
        snprintf(name, sizeof(name), "s%u", i);
        ss[i] = open_session(e, name);
        for (unsigned k = 0; k < SCAN_KEYS; k++) {
            scan_key(key, sizeof(key), i, 'k', k);
            failed += !set_str(ss[i], key, "v", 0);
        }
    }
    CHECK_EQ_U(failed, 0);
    return e;
}

static seen_t *new_seen(void)
{
    seen_t *sn = calloc(1, sizeof(*sn));
    REQUIRE(sn != NULL);
    return sn;
}

/* Runs engine_scan to the end; `midway` (if any) runs after call `at`.
 * Returns false if the cursor never came back to 0 or a call overran count. */
static bool engine_scan_all(engine_t *e, seen_t *sn, void (*midway)(engine_t *, seen_t *),
                            unsigned at)
{
    uint64_t cursor = 0;
    unsigned calls = 0;
    bool within_count = true;
    do {
        unsigned before = sn->visits;
        cursor = engine_scan(e, cursor, SCAN_COUNT, visit, sn);
        within_count &= sn->visits - before <= SCAN_COUNT;
        if (++calls == at && midway)
            midway(e, sn);
    } while (cursor != 0 && calls < 100000);
    CHECK(within_count);
    return cursor == 0;
}

static session_t *mid_sessions[SCAN_SESSIONS];
static unsigned mid_odd_seen[SCAN_SESSIONS][SCAN_KEYS];

/* Deletes the odd keys of every session and adds 500 new keys to each. */
static void delete_and_insert(engine_t *e, seen_t *sn)
{
    (void)e;
    char key[32];
    unsigned failed = 0;
    for (unsigned i = 0; i < SCAN_SESSIONS; i++) {
        for (unsigned k = 1; k < SCAN_KEYS; k += 2) {
            scan_key(key, sizeof(key), i, 'k', k);
            failed += session_del(mid_sessions[i], key, strlen(key)) != PD_OK;
            mid_odd_seen[i][k] = sn->orig[i][k];
        }
        for (unsigned k = 0; k < 500; k++) {
            scan_key(key, sizeof(key), i, 'n', k);
            failed += !set_str(mid_sessions[i], key, "w", 0);
        }
    }
    CHECK_EQ_U(failed, 0);
}

static void test_scan(void)
{
    clock_ms = 9000000;
    session_t *ss[SCAN_SESSIONS];

    /* engine_scan, nothing changing: every key, nothing else, right session. */
    engine_t *e = scan_engine(ss);
    seen_t *sn = new_seen();
    CHECK(engine_scan_all(e, sn, NULL, 0));
    unsigned missed = 0;
    for (unsigned i = 0; i < SCAN_SESSIONS; i++)
        for (unsigned k = 0; k < SCAN_KEYS; k++)
            missed += sn->orig[i][k] == 0;
    CHECK_EQ_U(missed, 0);
    CHECK_EQ_U(sn->unknown, 0);
    CHECK_EQ_U(sn->wrong_session, 0);
    free(sn);

    /* session_scan on each session with a budget of 7 per call. */
    sn = new_seen();
    for (unsigned i = 0; i < SCAN_SESSIONS; i++) {
        uint32_t cur = 0;
        unsigned calls = 0;
        bool within = true;
        do {
            size_t budget = SCAN_COUNT;
            unsigned before = sn->visits;
            cur = session_scan(ss[i], cur, &budget, visit, sn);
            within &= sn->visits - before <= SCAN_COUNT;
        } while (cur != 0 && ++calls < 100000);
        CHECK_EQ_U(cur, 0);
        CHECK(within);
    }
    missed = 0;
    for (unsigned i = 0; i < SCAN_SESSIONS; i++)
        for (unsigned k = 0; k < SCAN_KEYS; k++)
            missed += sn->orig[i][k] == 0;
    CHECK_EQ_U(missed, 0);
    CHECK_EQ_U(sn->unknown, 0);
    CHECK_EQ_U(sn->wrong_session, 0);
    free(sn);

    /* Keys deleted and inserted midway (inside the first session, about 700
     * entries in): every key present throughout is still seen, and a deleted
     * key is never reported after its deletion. */
    for (unsigned i = 0; i < SCAN_SESSIONS; i++)
        mid_sessions[i] = ss[i];
    memset(mid_odd_seen, 0, sizeof(mid_odd_seen));
    sn = new_seen();
    CHECK(engine_scan_all(e, sn, delete_and_insert, 100));
    missed = 0;
    unsigned after_delete = 0;
    for (unsigned i = 0; i < SCAN_SESSIONS; i++)
        for (unsigned k = 0; k < SCAN_KEYS; k++) {
            if (k % 2 == 0)
                missed += sn->orig[i][k] == 0;
            else
                after_delete += sn->orig[i][k] != mid_odd_seen[i][k];
        }
    CHECK_EQ_U(missed, 0);
    CHECK_EQ_U(after_delete, 0);
    CHECK_EQ_U(sn->unknown, 0);
    CHECK_EQ_U(sn->wrong_session, 0);
    free(sn);
    check_exact(e);
    engine_destroy(e);

    /* Expired keys are not reported. */
    e = scan_engine(ss);
    char key[32];
    unsigned failed = 0;
    for (unsigned k = 0; k < 10; k++) {
        scan_key(key, sizeof(key), 1, 'n', k);
        failed += !set_str(ss[1], key, "t", clock_ms + 10);
    }
    CHECK_EQ_U(failed, 0);
    clock_ms += 20;
    sn = new_seen();
    CHECK(engine_scan_all(e, sn, NULL, 0));
    unsigned expired_seen = 0;
    for (unsigned k = 0; k < 10; k++)
        expired_seen += sn->added[1][k];
    CHECK_EQ_U(expired_seen, 0);
    CHECK_EQ_U(sn->visits, SCAN_SESSIONS * SCAN_KEYS);
    free(sn);
    check_exact(e);
    engine_destroy(e);

    /* An empty engine: done at once, nothing visited. */
    e = make_engine();
    sn = new_seen();
    CHECK_EQ_U(engine_scan(e, 0, SCAN_COUNT, visit, sn), 0);
    CHECK_EQ_U(sn->visits, 0);
    free(sn);
    engine_destroy(e);
}

/* --- CLEAR and DROP ------------------------------------------------------ */

static void fill(session_t *s, const char *prefix, int n)
{
    char key[32], val[64];
    unsigned failed = 0;
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "%s%d", prefix, i);
        snprintf(val, sizeof(val), "value-%s-%d", prefix, i);
        failed += !set_str(s, key, val, i % 3 ? 0 : clock_ms + 1000000);
    }
    CHECK_EQ_U(failed, 0);
}

static void test_clear_drop(void)
{
    clock_ms = 10000000;
    engine_t *e = make_engine();
    session_t *a = open_session(e, "a");
    session_t *b = open_session(e, "b");
    session_t *c = open_session(e, "c");
    fill(a, "a", 200);
    fill(b, "b", 200);
    fill(c, "c", 200);
    check_exact(e);

    uint64_t writes = a->counters.writes;
    session_clear(a);
    CHECK_EQ_U(session_entries(a), 0);
    CHECK_EQ_U(a->store.arena.bytes, 0);
    CHECK(engine_find(e, K("a")) == a);
    CHECK_EQ_U(engine_session_count(e), 3);
    CHECK_EQ_U(a->counters.writes, writes); /* counters stay */
    CHECK(!session_exists(a, K("a0")));
    CHECK_EQ_I(session_pttl(a, K("a0")), SESSION_TTL_MISSING);
    CHECK_EQ_U(engine_bytes(e), session_bytes(b) + session_bytes(c));
    CHECK_EQ_U(engine_expire_step(e, 1000), 0);
    check_exact(e);
    /* A cleared session takes writes again. */
    fill(a, "a", 50);
    CHECK(value_is(a, "a49", "value-a-49"));
    CHECK_EQ_U(session_entries(a), 50);
    check_exact(e);

    uint64_t bytes_c = session_bytes(c);
    engine_drop(e, b);
    CHECK(engine_find(e, K("b")) == NULL);
    CHECK_EQ_U(engine_session_count(e), 2);
    CHECK_EQ_U(engine_bytes(e), session_bytes(a) + bytes_c);
    CHECK(value_is(c, "c199", "value-c-199"));
    CHECK_EQ_U(session_entries(c), 200);
    check_exact(e);

    engine_drop_all(e);
    CHECK_EQ_U(engine_session_count(e), 0);
    CHECK_EQ_U(engine_bytes(e), 0);
    CHECK(engine_next(e, NULL) == NULL);
    CHECK(engine_find(e, K("a")) == NULL);
    CHECK(engine_find(e, K("c")) == NULL);
    /* The name is free again and the new session starts empty. */
    a = open_session(e, "a");
    CHECK_EQ_U(session_entries(a), 0);
    CHECK(!session_exists(a, K("a0")));
    CHECK(set_str(a, "x", "y", 0));
    check_exact(e);
    engine_destroy(e);
}

/* --- session names ------------------------------------------------------- */

static void test_name_of_key(void)
{
    static const struct {
        const char *key;
        size_t klen;
        const char *name;
        size_t nlen;
    } cases[] = {
        {K("{tag}rest"), K("tag")},
        {K("a:b:c"), K("a")},
        {K("plain"), K("default")},
        {K("{}x:y"), K("{}x")},     /* empty tag: the ':' rule */
        {K(":x"), K("default")},    /* empty prefix: default */
        {K("{ab:cd"), K("{ab")},    /* no '}': the ':' rule */
        {K("{ab"), K("default")},
        {K("x{t}y:z"), K("t")},     /* the tag wins over ':' */
        {K("{a}{b}"), K("a")},      /* the first tag */
        {K("a{}{b}:c"), K("a{}{b}")}, /* first '{' then first '}': empty */
        {K("{t:u}v"), K("t:u")},
        {K("{x}"), K("x")},
        {K(""), K("default")},
        {K("a\0b:c"), K("a\0b")},   /* NUL bytes are ordinary bytes */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *name = NULL;
        size_t len = 0;
        session_name_of_key(cases[i].key, cases[i].klen, &name, &len);
        bool ok = name && len == cases[i].nlen && memcmp(name, cases[i].name, len) == 0;
        if (!ok)
            fprintf(stderr, "session_name_of_key case %zu: got %.*s\n", i, (int)len,
                    name ? name : "(null)");
        CHECK(ok);
    }

    /* engine_session_for_key applies the rule; reads never create. */
    clock_ms = 11000000;
    engine_t *e = make_engine();
    pd_status st = PD_OK;
    CHECK(engine_session_for_key(e, K("{tag}rest"), false, &st) == NULL);
    CHECK(st == PD_NOTFOUND);
    CHECK_EQ_U(engine_session_count(e), 0);
    session_t *s = engine_session_for_key(e, K("{tag}rest"), true, &st);
    CHECK(s != NULL && st == PD_OK);
    CHECK(s == engine_find(e, K("tag")));
    CHECK(engine_session_for_key(e, K("tag:other"), false, &st) == s && st == PD_OK);
    session_t *d = engine_session_for_key(e, K("plain"), true, &st);
    CHECK(d != NULL && d != s && d == engine_find(e, K("default")));
    CHECK_EQ_U(engine_session_count(e), 2);
    check_exact(e);
    engine_destroy(e);
}

static void count_key(void *ud, session_t *s, const unsigned char *key, size_t klen)
{
    (void)s;
    (void)key;
    (void)klen;
    ++*(int *)ud;
}

/* A session that once held many keys keeps a sparse id map: one SCAN call
 * still looks at a bounded number of ids, and eviction by a sampling
 * strategy works from the few entries left. */
static void test_sparse_ids(void)
{
    engine_t *e = make_engine();
    session_t *s = open_session(e, "sparse");
    char key[16];
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(key, sizeof(key), "k%d", i);
        REQUIRE(session_set(s, key, (size_t)n, "v", 1, 0, 0, NULL, NULL) == PD_OK);
    }
    CHECK(session_set_strategy(s, EVICT_CHOOSER) == PD_OK);
    session_set_limits(s, (session_limits_t){.entries = 5});
    CHECK_EQ_U(session_entries(s), 5);
    int seen = 0, calls = 0;
    uint32_t cursor = 0;
    do {
        size_t budget = 10;
        uint32_t next = session_scan(s, cursor, &budget, count_key, &seen);
        /* At most 10 live ids and 10 * 10 free ones per call. */
        CHECK(next == 0 || next - (cursor ? cursor : 1) <= 110);
        cursor = next;
        calls++;
    } while (cursor && calls < 1000);
    CHECK_EQ_I(seen, 5);
    CHECK(calls > 100); /* the 20,000 ids were walked in bounded steps */
    for (int i = 0; i < 100; i++) {
        int n = snprintf(key, sizeof(key), "new%d", i);
        CHECK(session_set(s, key, (size_t)n, "v", 1, 0, 0, NULL, NULL) == PD_OK);
    }
    CHECK_EQ_U(session_entries(s), 5);
    check_exact(e);
    engine_destroy(e);
}

/* FLUSHALL: every entry of every session goes; the sessions and their
 * limits stay, and the bytes are exact (zero). */
static void test_flush_all(void)
{
    engine_t *e = make_engine();
    session_t *a = open_session(e, "a"), *b = open_session(e, "b");
    session_set_limits(b, (session_limits_t){.entries = 7});
    for (int i = 0; i < 100; i++) {
        char key[8];
        int n = snprintf(key, sizeof(key), "k%d", i);
        REQUIRE(session_set(a, key, (size_t)n, "v", 1, 0, 0, NULL, NULL) == PD_OK);
        REQUIRE(session_set(b, key, (size_t)n, "v", 1, 0, 0, NULL, NULL) == PD_OK);
    }
    engine_flush_all(e);
    CHECK_EQ_U(engine_session_count(e), 2);
    CHECK_EQ_U(session_entries(a) + session_entries(b), 0);
    CHECK_EQ_U(engine_bytes(e), 0);
    CHECK_EQ_U(b->limits.entries, 7);
    CHECK(session_set(a, K("x"), K("y"), 0, 0, NULL, NULL) == PD_OK);
    check_exact(e);
    engine_destroy(e);
}

/* Values of 65,535 bytes and more carry their length in the entry's data,
 * before the key: rewrites across that line (in one jemalloc size class,
 * where a rewrite is otherwise done in place) keep key, value and TTL. */
static void test_long_values(void)
{
    clock_ms = 8000000;
    engine_t *e = make_engine();
    session_t *s = open_session(e, "ops");
    char long_key[300];
    memset(long_key, 'k', sizeof(long_key));
    const size_t sizes[] = {65533, 65534, 65535, 65536, 65534, 70000, 65535, 100};
    size_t nsizes = sizeof(sizes) / sizeof(sizes[0]);
    unsigned char *val = malloc(70001);
    REQUIRE(val != NULL);
    for (size_t ki = 0; ki < 2; ki++) {
        const char *key = ki ? long_key : "lv";
        size_t klen = ki ? sizeof(long_key) : 2;
        for (size_t i = 0; i < nsizes; i++) {
            memset(val, 'a' + (int)i, sizes[i]);
            CHECK(session_set(s, key, klen, val, sizes[i], 0, i % 2 ? clock_ms + 60000 : 0,
                              NULL, NULL) == PD_OK);
            const unsigned char *v;
            size_t n;
            CHECK(session_peek(s, key, klen, &v, &n) == PD_OK && n == sizes[i] &&
                  memcmp(v, val, n) == 0);
            CHECK_EQ_U(session_strlen(s, key, klen), sizes[i]);
            CHECK(session_pttl(s, key, klen) == (i % 2 ? 60000 : -1));
            check_exact(e);
        }
        /* APPEND across the line: 65,534 + 1 + 1. */
        memset(val, 'x', 65534);
        CHECK(session_set(s, key, klen, val, 65534, 0, 0, NULL, NULL) == PD_OK);
        size_t len = 0;
        CHECK(session_append(s, key, klen, K("y"), &len) == PD_OK && len == 65535);
        CHECK(session_append(s, key, klen, K("z"), &len) == PD_OK && len == 65536);
        const unsigned char *v;
        size_t n;
        CHECK(session_peek(s, key, klen, &v, &n) == PD_OK && n == 65536 &&
              memcmp(v, val, 65534) == 0 && v[65534] == 'y' && v[65535] == 'z');
        check_exact(e);
    }
    free(val);
    engine_destroy(e);
}

/* A value whose size classes sum to less apart than together (1,000 bytes:
 * 48 + 1,024 against 1,280) is its own allocation; reads, appends, TTLs and
 * rewrites see no difference, and the bytes are exactly the two classes. */
static void test_split_values(void)
{
    clock_ms = 9000000;
    engine_t *e = make_engine();
    session_t *s = open_session(e, "ops");
    CHECK(set_str(s, "first", "x", 0)); /* the index arrays exist from here */
    uint64_t base = session_bytes(s);
    size_t whole = arena_usable(&s->store.arena, entry_size(11, 1000, 0, 0));
    size_t apart = arena_usable(&s->store.arena, entry_size(11, 1000, 0, 1)) +
                   arena_usable(&s->store.arena, 1000);
    CHECK(apart < whole);

    char val[1001];
    memset(val, 'v', 1000);
    val[1000] = '\0';
    CHECK(set_str(s, "split:value", val, 0));
    CHECK_EQ_U(session_bytes(s) - base, apart);
    CHECK(value_is(s, "split:value", val));
    uint64_t usage = 0;
    CHECK(session_memory_usage(s, K("split:value"), &usage) == PD_OK && usage >= apart);
    check_exact(e);

    size_t len = 0;
    CHECK(session_append(s, K("split:value"), K("w"), &len) == PD_OK && len == 1001);
    const unsigned char *v;
    size_t n;
    CHECK(session_peek(s, K("split:value"), &v, &n) == PD_OK && n == 1001 && memcmp(v, val, 1000) == 0 &&
          v[1000] == 'w');
    CHECK(session_expire_at(s, K("split:value"), clock_ms + 5000) == PD_OK);
    CHECK(session_pttl(s, K("split:value")) == 5000);
    check_exact(e);

    CHECK(set_str(s, "split:value", "short", 0)); /* back in one allocation */
    CHECK(value_is(s, "split:value", "short"));
    CHECK_EQ_U(session_bytes(s) - base, arena_usable(&s->store.arena, entry_size(11, 5, 0, 0)));
    CHECK(set_str(s, "split:value", val, clock_ms + 1000));
    check_exact(e);
    clock_ms += 1001; /* expires: entry and value go */
    CHECK(!session_exists(s, K("split:value")));
    CHECK_EQ_U(session_bytes(s), base);
    check_exact(e);
    engine_destroy(e);
}

int main(void)
{
    test_set_get();
    test_del_exists_touch();
    test_expire();
    test_append_incr_strlen();
    test_long_values();
    test_split_values();
    test_memory_usage();
    test_scan();
    test_clear_drop();
    test_name_of_key();
    test_sparse_ids();
    test_flush_all();
    return check_done();
}
