/* Purging live session arenas. jemalloc hands a session's unused pages back
 * by decay and on MEMORY PURGE (a policy's act.purge); that must never take
 * pages the session still uses. Found by the soak (issue 10): the arena
 * hooks unmapped every extent jemalloc released, which jemalloc 5.3 does
 * not expect of an arena with retained memory, and the daemon crashed
 * inside mallocx after seconds of decay. Here the soak's traffic (15
 * sessions at their entry limit, values 1-2,000 bytes, MSET, INCRBY,
 * EXPIRE, DEL) runs through the dispatcher with decay at its fastest and a
 * purge every 50 commands; every value read back is the one last written. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jemalloc/jemalloc.h>

#include "world.h"

#define SESSIONS 15
#define KEYS 40
#define COMMANDS 200000

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* The fill byte and length last written to each key (0: none known). */
static unsigned char fill[SESSIONS][KEYS];
static size_t length[SESSIONS][KEYS];

static char cmd[4096];

static void run(memconn_t *m, const char *text)
{
    m->conn.out.len = 0;
    REQUIRE(memconn_feed(m, text, strlen(text)) == 0);
}

/* A bulk reply is the value written, or nil (evicted); never other bytes. */
static void check_get(memconn_t *m, int s, int k)
{
    snprintf(cmd, sizeof(cmd), "GET t%02d:k%d\r\n", s, k);
    run(m, cmd);
    const char *out = m->conn.out.data;
    if (strncmp(out, "$-1\r\n", 5) == 0) {
        fill[s][k] = 0;
        return;
    }
    REQUIRE(out[0] == '$');
    size_t n = strtoul(out + 1, NULL, 10);
    const char *v = strchr(out, '\n') + 1;
    if (fill[s][k]) {
        CHECK_EQ_U(n, length[s][k]);
        for (size_t i = 0; i < n && i < length[s][k]; i++)
            if ((unsigned char)v[i] != fill[s][k]) {
                CHECK(!"a value changed under a purge");
                break;
            }
    }
}

static void set(memconn_t *m, int s, int k)
{
    size_t n = 1 + next() % 2000;
    unsigned char c = (unsigned char)('a' + next() % 26);
    int at = snprintf(cmd, sizeof(cmd), "*3\r\n$3\r\nSET\r\n$%d\r\nt%02d:k%d\r\n$%zu\r\n",
                      k < 10 ? 6 : 7, s, k, n);
    memset(cmd + at, c, n);
    memcpy(cmd + at + n, "\r\n", 3);
    run(m, cmd);
    if (m->conn.out.len != 5 || memcmp(m->conn.out.data, "+OK\r\n", 5) != 0)
        fprintf(stderr, "SET: %.*s\n", (int)m->conn.out.len, m->conn.out.data);
    REQUIRE(m->conn.out.len == 5 && memcmp(m->conn.out.data, "+OK\r\n", 5) == 0);
    fill[s][k] = c;
    length[s][k] = n;
}

int main(void)
{
    /* Decay at its fastest: every page freed goes back at once. */
    ssize_t zero = 0;
    REQUIRE(mallctl("arenas.dirty_decay_ms", NULL, NULL, &zero, sizeof(zero)) == 0);
    REQUIRE(mallctl("arenas.muzzy_decay_ms", NULL, NULL, &zero, sizeof(zero)) == 0);

    world_t w;
    world_open_with(&w, NULL,
                    "return { limits = { bytes = '10MB', entries = 20 },\n"
                    "         system = { bytes = '150MB', sessions = 15 } }\n");
    memconn_t m;
    memconn_open(&m, &w.svc);
    for (long i = 0; i < COMMANDS; i++) {
        int s = (int)(next() % SESSIONS), k = (int)(next() % KEYS);
        switch (next() % 10) {
        case 0: case 1: case 2: case 3:
            set(&m, s, k);
            break;
        case 4: case 5: case 6:
            check_get(&m, s, k);
            break;
        case 7:
            snprintf(cmd, sizeof(cmd), "MSET t%02d:m0 0 t%02d:m1 1 t%02d:m2 2\r\n", s, s, s);
            run(&m, cmd);
            break;
        case 8:
            snprintf(cmd, sizeof(cmd), "SET t%02d:n 1\r\nINCRBY t%02d:n 5\r\nEXPIRE t%02d:k%d 60\r\n",
                     s, s, s, k);
            run(&m, cmd);
            break;
        default:
            snprintf(cmd, sizeof(cmd), "DEL t%02d:k%d\r\n", s, k);
            run(&m, cmd);
            fill[s][k] = 0;
        }
        if (i % 50 == 0)
            run(&m, "MEMORY PURGE\r\n");
        if (i % 997 == 0)
            clock_ms += 1000;
    }
    for (int s = 0; s < SESSIONS; s++)
        for (int k = 0; k < KEYS; k++)
            check_get(&m, s, k);
    memconn_close(&m);
    world_close(&w);
    printf("%d commands over %d sessions with every page purged at once\n", COMMANDS, SESSIONS);
    return check_done();
}
