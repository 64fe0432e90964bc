/* jemalloc refusing memory in the middle of a write (issue 10, findings 20
 * and 22). Every write command below runs once clean, then again with the
 * 1st, 2nd, ... N-th session allocation failing (arena_fail_nth) until one
 * run meets no failure. After each failed run: the reply is the clean
 * run's or an error; on an error every key holds its old value and TTL,
 * the sessions are the same; on success the state is the clean run's; and
 * every session's bytes equal jemalloc's figures. */
#include "exact.h"
#include "world.h"

static const char *const POLICY =
    "return { limits = { bytes = '64KB', entries = 50 }, system = { bytes = '1MB' } }\n";

/* The keys whose values and TTLs make the state compared. */
static const char *const KEYS[] = {"a:k", "a:big", "a:ttl", "a:n", "b:k", "c:k", "a:fresh",
                                   "a:new", "newsess:k", "a:f0", "a:f1", "a:f2", "a:huge",
                                   NULL};

static char big[700], bigger[900], tail[300], filler[1500], huge[30000];

/* Sends one command; its reply goes to `out` (cleared first). */
static void send(memconn_t *m, const char *cmd, char *out, size_t cap)
{
    m->conn.out.len = 0;
    REQUIRE(memconn_feed(m, cmd, strlen(cmd)) == 0);
    snprintf(out, cap, "%.*s", (int)m->conn.out.len, m->conn.out.data ? m->conn.out.data : "");
    m->conn.out.len = 0;
}

/* Every key's value and PTTL, and the session list, as one text. */
static void state(memconn_t *m, char *out, size_t cap)
{
    size_t used = 0;
    char cmd[128];
    static char reply[32768];
    for (const char *const *k = KEYS; *k; k++) {
        snprintf(cmd, sizeof(cmd), "GET %s\r\nPTTL %s\r\n", *k, *k);
        send(m, cmd, reply, sizeof(reply));
        used += (size_t)snprintf(out + used, cap - used, "%s=%s;", *k, reply);
    }
    send(m, "SESSION LIST\r\n", reply, sizeof(reply));
    snprintf(out + used, cap - used, "sessions=%s", reply);
}

static void setup(memconn_t *m)
{
    char cmd[2048], reply[256];
    _Static_assert(sizeof(filler) < sizeof(cmd) - 32, "a filler fits a command");
    send(m, "SET a:k old-a\r\nSET a:ttl v EX 1000\r\nSET a:n 41\r\nSET b:k old-b\r\n", reply,
         sizeof(reply));
    snprintf(cmd, sizeof(cmd), "SET a:big %s\r\n", big);
    send(m, cmd, reply, sizeof(reply));
    REQUIRE(strcmp(reply, "+OK\r\n") == 0);
    /* a near its 64 KB: a large write must evict (the oldest first) */
    for (int i = 0; i < 25; i++) {
        snprintf(cmd, sizeof(cmd), "SET a:f%d %s\r\n", i, filler);
        send(m, cmd, reply, sizeof(reply));
        REQUIRE(strcmp(reply, "+OK\r\n") == 0);
    }
}

/* Runs `cmd` after the setup with the n-th allocation failing (0: none).
 * Fills the reply and the state after; returns whether the failure fired. */
static bool run(const char *cmd, uint64_t n, char *reply, size_t rcap, char *after, size_t acap,
                char *before, size_t bcap)
{
    world_t w;
    world_open_with(&w, NULL, POLICY);
    memconn_t m;
    memconn_open(&m, &w.svc);
    setup(&m);
    state(&m, before, bcap);
    arena_fail_nth(n);
    send(&m, cmd, reply, rcap);
    bool fired = n && arena_allocations_seen() >= n;
    arena_fail_nth(0);
    state(&m, after, acap);
    check_exact(w.engine);
    for (session_t *s = engine_next(w.engine, NULL); s; s = engine_next(w.engine, s))
        CHECK(s->limits.bytes == 0 || session_bytes(s) <= s->limits.bytes);
    memconn_close(&m);
    world_close(&w);
    return fired;
}

static uint64_t injected; /* failures that fired, over every sweep */

static void sweep(const char *cmd)
{
    static char clean_reply[4096], clean_after[65536], reply[4096], after[65536],
        before[65536];
    run(cmd, 0, clean_reply, sizeof(clean_reply), clean_after, sizeof(clean_after), before,
        sizeof(before));
    uint64_t failures = 0;
    for (uint64_t n = 1; n < 1000; n++) {
        if (!run(cmd, n, reply, sizeof(reply), after, sizeof(after), before, sizeof(before)))
            break;
        failures++;
        bool ok = strcmp(reply, clean_reply) == 0;
        bool refused = reply[0] == '-';
        CHECK(ok || refused);
        if (ok)
            CHECK(strcmp(after, clean_after) == 0);
        else if (refused)
            CHECK(strcmp(after, before) == 0); /* every old value intact */
        if (!(ok ? strcmp(after, clean_after) == 0 : refused && strcmp(after, before) == 0))
            fprintf(stderr, "  %.40s with allocation %llu failing: %s\n  before %s\n  after  %s\n",
                    cmd, (unsigned long long)n, reply, before, after);
    }
    injected += failures; /* some rewrite in place: nothing to fail */
}

int main(void)
{
    memset(big, 'b', sizeof(big) - 1);
    memset(bigger, 'B', sizeof(bigger) - 1);
    memset(tail, 't', sizeof(tail) - 1);
    memset(filler, 'f', sizeof(filler) - 1);
    memset(huge, 'h', sizeof(huge) - 1);
    static char cmd[40000];
    static const char *const plain[] = {
        "SET a:k a-new-value-longer-than-the-old-one\r\n",
        "SET a:k x\r\n",
        "SET a:fresh v\r\n",
        "SET a:k v EX 100\r\n",
        "SET a:ttl w KEEPTTL\r\n",
        "SET newsess:k v\r\n",
        "SETEX a:k 100 v\r\n",
        "PSETEX a:k 100000 v\r\n",
        "SETNX a:new v\r\n",
        "GETSET a:k v2\r\n",
        "APPEND a:k -tail\r\n",
        "APPEND a:new fresh\r\n",
        "INCR a:n\r\n",
        "INCRBY a:n 1000000000\r\n",
        "DECRBY a:new 5\r\n",
        "MSET a:k 1 b:k 2 c:k 3\r\n",
        "MSET a:k 1 newsess:k 2 a:k 3\r\n",
        "EXPIRE a:k 100\r\n",
        "PEXPIREAT a:n 99999999999\r\n",
        "PERSIST a:ttl\r\n",
        "GETEX a:k EX 100\r\n",
        "GETEX a:ttl PERSIST\r\n",
        NULL,
    };
    for (const char *const *c = plain; *c; c++)
        sweep(*c);
    snprintf(cmd, sizeof(cmd), "SET a:big %s\r\n", bigger);
    sweep(cmd);
    snprintf(cmd, sizeof(cmd), "APPEND a:big %s\r\n", tail);
    sweep(cmd);
    snprintf(cmd, sizeof(cmd), "MSET a:big %s b:k %s c:k x\r\n", bigger, big);
    sweep(cmd);
    snprintf(cmd, sizeof(cmd), "SET a:huge %s\r\n", huge);
    sweep(cmd);
    snprintf(cmd, sizeof(cmd), "MSET b:k x a:huge %s a:k y\r\n", huge);
    sweep(cmd);
    snprintf(cmd, sizeof(cmd), "APPEND a:big %s\r\n", huge);
    sweep(cmd);
    fprintf(stderr, "%llu allocation failures injected\n", (unsigned long long)injected);
    CHECK(injected >= 20);
    return check_done();
}
