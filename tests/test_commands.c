/* Commands through an in-memory connection (commands/memconn.h): the same
 * parsing and dispatch as the daemon's, with no socket, so a command's
 * reply can be checked byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "commands/pubsub.h"
#include "world.h"

static void test_strings_and_keys(void)
{
    world_t w;
    world_open(&w, NULL);
    memconn_t m;
    memconn_open(&m, &w.svc);
    CHECK(replies(&m, "PING\r\n", "+PONG\r\n"));
    CHECK(replies(&m, "*3\r\n$3\r\nSET\r\n$7\r\nalice:k\r\n$2\r\nv1\r\n", "+OK\r\n"));
    CHECK(replies(&m, "GET alice:k\r\n", "$2\r\nv1\r\n"));
    CHECK(replies(&m, "GET alice:none\r\nEXISTS alice:k bob:k\r\n", "$-1\r\n:1\r\n"));
    CHECK(replies(&m, "INCRBY n 5\r\nAPPEND n 0\r\nGET n\r\n", ":5\r\n:2\r\n$2\r\n50\r\n"));
    CHECK(replies(&m, "SESSION LIST\r\n", "*2\r\n$5\r\nalice\r\n$7\r\ndefault\r\n"));
    CHECK(replies(&m, "DEL alice:k n\r\nDBSIZE\r\n", ":2\r\n:0\r\n"));
    CHECK(replies(&m, "NOSUCH x\r\n", "-ERR unknown command 'NOSUCH'\r\n"));
    CHECK(replies(&m, "GET\r\n", "-ERR wrong number of arguments for 'get' command\r\n"));
    memconn_close(&m);
    world_close(&w);
}

/* An empty command ("*0", "*-1", a blank line) is skipped and what follows
 * it in the same read runs at once. */
static void test_empty_commands(void)
{
    world_t w;
    world_open(&w, NULL);
    memconn_t m;
    memconn_open(&m, &w.svc);
    CHECK(replies(&m, "*0\r\nPING\r\n", "+PONG\r\n"));
    CHECK(replies(&m, "*-1\r\n*0\r\n\r\nPING\r\n\r\nECHO x\r\n", "+PONG\r\n$1\r\nx\r\n"));
    memconn_close(&m);
    world_close(&w);
}

/* A pipeline split at every byte gives the replies of the whole. */
static void test_split_input(void)
{
    world_t w;
    world_open(&w, NULL);
    const char in[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\nGET k\r\n*1\r\n$4\r\nPING\r\n";
    const char want[] = "+OK\r\n$5\r\nhello\r\n+PONG\r\n";
    for (size_t cut = 0; cut <= sizeof(in) - 1; cut++) {
        memconn_t m;
        memconn_open(&m, &w.svc);
        REQUIRE(memconn_feed(&m, in, cut) == 0);
        REQUIRE(memconn_feed(&m, in + cut, sizeof(in) - 1 - cut) == 0);
        CHECK(m.conn.out.len == sizeof(want) - 1 &&
              memcmp(m.conn.out.data, want, sizeof(want) - 1) == 0);
        CHECK_EQ_U(m.in_len, 0);
        memconn_close(&m);
    }
    world_close(&w);
}

/* QUIT and protocol errors close the connection after their reply: what
 * follows in the same read does not run. */
static void test_closing(void)
{
    world_t w;
    world_open(&w, NULL);
    memconn_t m;
    memconn_open(&m, &w.svc);
    CHECK(replies(&m, "QUIT\r\nSET k v\r\n", "+OK\r\n"));
    CHECK(m.conn.closing);
    memconn_close(&m);
    memconn_open(&m, &w.svc);
    CHECK(replies(&m, "*1\r\n$-5\r\nSET k v\r\n", "-ERR Protocol error: invalid bulk length\r\n"));
    CHECK(m.conn.closing);
    memconn_close(&m);
    CHECK(engine_session_count(w.engine) == 0);
    world_close(&w);
}

static void test_auth(void)
{
    world_t w;
    world_open(&w, "secret");
    memconn_t m;
    memconn_open(&m, &w.svc);
    CHECK(replies(&m, "GET k\r\n", "-NOAUTH Authentication required.\r\n"));
    CHECK(replies(&m, "AUTH nope\r\n",
                  "-WRONGPASS invalid username-password pair or user is disabled.\r\n"));
    CHECK(replies(&m, "AUTH secret\r\nGET k\r\n", "+OK\r\n$-1\r\n"));
    memconn_close(&m);
    world_close(&w);
}

/* Published messages reach subscribers only, through their transport's
 * flush; a RESP2 subscriber may only manage its subscriptions. */
static void test_pubsub(void)
{
    world_t w;
    world_open(&w, NULL);
    memconn_t a, b;
    memconn_open(&a, &w.svc);
    memconn_open(&b, &w.svc);
    CHECK(replies(&a, "SUBSCRIBE policyd:alerts\r\n",
                  "*3\r\n$9\r\nsubscribe\r\n$14\r\npolicyd:alerts\r\n:1\r\n"));
    CHECK(replies(&a, "GET k\r\n",
                  "-ERR Can't execute 'GET': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / "
                  "QUIT / RESET are allowed in this context\r\n"));
    CHECK_EQ_U(pubsub_publish(&w.svc, PUBSUB_ALERTS_CHANNEL, strlen(PUBSUB_ALERTS_CHANNEL),
                              "{}", 2), 1);
    CHECK_EQ_U(a.flushes, 1);
    CHECK_EQ_U(b.flushes, 0);
    CHECK(replies(&a, "", "*3\r\n$7\r\nmessage\r\n$14\r\npolicyd:alerts\r\n$2\r\n{}\r\n"));
    CHECK(replies(&b, "", ""));

    /* UNSUBSCRIBE without a channel ends every subscription, long names
     * too (a 600-byte name once made it loop forever). */
    char name[601];
    memset(name, 'c', 600);
    name[600] = '\0';
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "SUBSCRIBE %s\r\n", name);
    REQUIRE(memconn_feed(&b, cmd, strlen(cmd)) == 0);
    b.conn.out.len = 0;
    REQUIRE(memconn_feed(&b, "UNSUBSCRIBE\r\n", 13) == 0);
    char want[700];
    snprintf(want, sizeof(want), "*3\r\n$11\r\nunsubscribe\r\n$600\r\n%s\r\n:0\r\n", name);
    CHECK(b.conn.out.len == strlen(want) && memcmp(b.conn.out.data, want, strlen(want)) == 0);
    CHECK_EQ_U(b.conn.channels.len, 0);
    b.conn.out.len = 0;
    CHECK(replies(&b, "UNSUBSCRIBE\r\n", "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"));

    /* A subscriber that goes away is not published to. */
    memconn_close(&a);
    CHECK_EQ_U(pubsub_publish(&w.svc, PUBSUB_ALERTS_CHANNEL, strlen(PUBSUB_ALERTS_CHANNEL),
                              "{}", 2), 0);
    memconn_close(&b);
    world_close(&w);
}

/* SUBSCRIBE of 150,000 channels in one command costs a bounded number of
 * probes per channel (a linear scan per channel took 41 s), and so do
 * publishing and UNSUBSCRIBE of them all. */
static void test_many_channels(void)
{
    enum { N = 150000 };
    world_t w;
    world_open(&w, NULL);
    memconn_t m;
    memconn_open(&m, &w.svc);
    char *cmd = malloc((size_t)N * 16 + 32);
    REQUIRE(cmd != NULL);
    size_t len = (size_t)sprintf(cmd, "*%d\r\n$9\r\nSUBSCRIBE\r\n", N + 1);
    for (int i = 0; i < N; i++)
        len += (size_t)sprintf(cmd + len, "$7\r\nc%06d\r\n", i);
    REQUIRE(memconn_feed(&m, cmd, len) == 0);
    CHECK_EQ_U(m.conn.channels.len, N);
    CHECK(m.conn.channels.probes < 4ull * N);
    char last[64];
    int n = snprintf(last, sizeof(last), "$7\r\nc%06d\r\n:%d\r\n", N - 1, N);
    CHECK(m.conn.out.len > (size_t)n &&
          memcmp(m.conn.out.data + m.conn.out.len - (size_t)n, last, (size_t)n) == 0);
    m.conn.out.len = 0;
    uint64_t before = m.conn.channels.probes;
    CHECK_EQ_U(pubsub_publish(&w.svc, "c149999", 7, "x", 1), 1);
    CHECK_EQ_U(pubsub_publish(&w.svc, "nowhere", 7, "x", 1), 0);
    CHECK(m.conn.channels.probes - before < 16);
    before = m.conn.channels.probes;
    REQUIRE(memconn_feed(&m, "UNSUBSCRIBE\r\n", 13) == 0);
    CHECK_EQ_U(m.conn.channels.len, 0);
    CHECK(m.conn.channels.probes - before < 4ull * N);
    free(cmd);
    memconn_close(&m);
    world_close(&w);
}

/* Every reply counts against the output limit; one whole reply always fits
 * an empty buffer; past the limit the connection is cut, its replies
 * dropped. */
static void test_output_limit(void)
{
    world_t w;
    world_open(&w, NULL);
    w.svc.output_limit = 300 << 10;
    memconn_t m;
    memconn_open(&m, &w.svc);
    char *big = malloc(200 << 10);
    REQUIRE(big != NULL);
    memset(big, 'v', 200 << 10);
    char head[64];
    int n = snprintf(head, sizeof(head), "*3\r\n$3\r\nSET\r\n$5\r\nbig:v\r\n$%d\r\n", 200 << 10);
    REQUIRE(memconn_feed(&m, head, (size_t)n) == 0 && memconn_feed(&m, big, 200 << 10) == 0);
    CHECK(replies(&m, "\r\n", "+OK\r\n"));
    /* One 400 KiB reply into an empty buffer: whole, though over 300 KiB. */
    REQUIRE(memconn_feed(&m, "MGET big:v big:v\r\n", 18) == 0);
    CHECK(!m.conn.cut && m.conn.out.len > 400 << 10);
    resp_buf_free(&m.conn.out); /* sent, as a transport gives a big buffer back */
    /* Two replies of 200 KiB in one read: the second is past the limit. */
    REQUIRE(memconn_feed(&m, "GET big:v\r\nGET big:v\r\nPING\r\n", 28) == 0);
    CHECK(m.conn.cut && m.cuts == 1 && w.svc.clients_cut == 1);
    CHECK(m.conn.out.len < 300 << 10); /* the second reply was not kept */
    memconn_close(&m);
    free(big);
    world_close(&w);
}

/* Past the service's limit on all connections' memory, the connections
 * holding the most are cut first. */
static void test_clients_limit(void)
{
    world_t w;
    world_open(&w, NULL);
    w.svc.output_limit = 0;
    memconn_t a, b, c;
    memconn_open(&a, &w.svc);
    memconn_open(&b, &w.svc);
    memconn_open(&c, &w.svc);
    char value[1000];
    memset(value, 'x', sizeof(value));
    char cmd[1100];
    int n = snprintf(cmd, sizeof(cmd), "SET k %.*s\r\n", (int)sizeof(value), value);
    REQUIRE(memconn_feed(&a, cmd, (size_t)n) == 0);
    w.svc.clients_limit = 20000;
    /* b holds about 8 KB of replies, c about 16 KB: together over 20 KB. */
    for (int i = 0; i < 8; i++)
        REQUIRE(memconn_feed(&b, "GET k\r\n", 7) == 0);
    CHECK(!b.conn.cut && w.svc.clients_bytes <= w.svc.clients_limit);
    for (int i = 0; i < 16; i++)
        REQUIRE(memconn_feed(&c, "GET k\r\n", 7) == 0);
    CHECK(c.conn.cut && c.cuts == 1 && !b.conn.cut && !a.conn.cut);
    CHECK(w.svc.clients_bytes <= w.svc.clients_limit);
    memconn_close(&a);
    memconn_close(&b);
    memconn_close(&c);
    CHECK_EQ_U(w.svc.clients_bytes, 0);
    world_close(&w);
}

/* INFO's figures come from the service: clients connected, uptime on the
 * engine's clock. */
static void test_info(void)
{
    world_t w;
    world_open(&w, NULL);
    memconn_t a, b;
    memconn_open(&a, &w.svc);
    memconn_open(&b, &w.svc);
    CHECK_EQ_U(w.svc.clients, 2);
    CHECK(b.conn.id == a.conn.id + 1);
    clock_ms += 5000;
    REQUIRE(memconn_feed(&a, "INFO\r\n", 6) == 0);
    a.conn.out.data[a.conn.out.len - 1] = '\0';
    CHECK(strstr(a.conn.out.data, "connected_clients:2\r\n") != NULL);
    CHECK(strstr(a.conn.out.data, "uptime_in_seconds:5\r\n") != NULL);
    memconn_close(&a);
    memconn_close(&b);
    world_close(&w);
}

int main(void)
{
    test_strings_and_keys();
    test_split_input();
    test_empty_commands();
    test_closing();
    test_auth();
    test_pubsub();
    test_many_channels();
    test_output_limit();
    test_clients_limit();
    test_info();
    return check_done();
}
