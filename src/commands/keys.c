/* keys: the keyspace commands — DEL UNLINK EXISTS TOUCH TYPE DBSIZE SCAN
 * KEYS FLUSHALL FLUSHDB. Keys span sessions: SCAN's cursor carries the
 * session's slot above the entry id (engine_scan). */
#include <stdio.h>
#include <stdlib.h>

#include "commands/command.h"
#include "util/glob.h"

static void cmd_del(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    long long n = 0;
    for (size_t i = 1; i < argc; i++) {
        session_t *s = key_session(c, argv[i], lens[i], false, NULL);
        n += s && session_del(s, argv[i], lens[i]) == PD_OK;
    }
    resp_integer(&c->out, n);
}

static void cmd_exists(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    long long n = 0;
    for (size_t i = 1; i < argc; i++) {
        session_t *s = key_session(c, argv[i], lens[i], false, NULL);
        n += s && session_exists(s, argv[i], lens[i]);
    }
    resp_integer(&c->out, n);
}

static void cmd_touch(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    long long n = 0;
    for (size_t i = 1; i < argc; i++) {
        session_t *s = read_session(c, argv[i], lens[i]);
        n += s && session_touch(s, argv[i], lens[i]) == PD_OK;
    }
    resp_integer(&c->out, n);
}

static void cmd_type(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    session_t *s = read_session(c, argv[1], lens[1]);
    resp_simple(&c->out, s && session_exists(s, argv[1], lens[1]) ? "string" : "none");
}

static void cmd_dbsize(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc, (void)argv, (void)lens;
    engine_stats_t st;
    engine_stats(c->svc->engine, false, &st);
    resp_integer(&c->out, (long long)st.entries);
}

typedef struct key_list {
    resp_buf_t buf;       /* the matching keys, as bulk strings */
    size_t n;
    const char *pattern;  /* NULL: every key */
    size_t plen;
    bool none;            /* TYPE other than string: nothing matches */
} key_list_t;

static void collect_key(void *ud, session_t *s, const unsigned char *key, size_t klen)
{
    (void)s;
    key_list_t *k = ud;
    if (k->none || (k->pattern && !glob_match(k->pattern, k->plen, (const char *)key, klen)))
        return;
    if (resp_bulk(&k->buf, key, klen) == 0)
        k->n++;
}

/* SCAN cursor [MATCH pattern] [COUNT n] [TYPE string] */
static void cmd_scan(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    long long count = 10;
    char *end;
    char num[24];
    snprintf(num, sizeof(num), "%.*s", (int)(lens[1] < 23 ? lens[1] : 23), argv[1]);
    unsigned long long ucursor = strtoull(num, &end, 10);
    if (*end || lens[1] == 0 || lens[1] > 20) {
        resp_error(&c->out, "ERR invalid cursor");
        return;
    }
    key_list_t k = {0};
    for (size_t i = 2; i < argc; i += 2) {
        if (i + 1 >= argc) {
            resp_error(&c->out, "ERR syntax error");
            return;
        }
        if (arg_is(argv[i], lens[i], "MATCH")) {
            k.pattern = argv[i + 1];
            k.plen = lens[i + 1];
        } else if (arg_is(argv[i], lens[i], "COUNT")) {
            if (!arg_ll(argv[i + 1], lens[i + 1], &count) || count < 1) {
                resp_error(&c->out, count < 1 ? "ERR syntax error"
                                                    : "ERR value is not an integer or out of range");
                return;
            }
        } else if (arg_is(argv[i], lens[i], "TYPE")) {
            k.none = !arg_is(argv[i + 1], lens[i + 1], "string"); /* only strings exist */
        } else {
            resp_error(&c->out, "ERR syntax error");
            return;
        }
    }
    uint64_t next = engine_scan(c->svc->engine, ucursor, (size_t)count, collect_key, &k);
    char cur[24];
    int n = snprintf(cur, sizeof(cur), "%llu", (unsigned long long)next);
    resp_array(&c->out, 2);
    resp_bulk(&c->out, cur, (size_t)n);
    resp_array(&c->out, k.n);
    if (k.buf.len && resp_append_raw(&c->out, k.buf.data, k.buf.len) != 0)
        c->closing = true;
    resp_buf_free(&k.buf);
}

/* KEYS pattern: every matching key, in one reply (as Redis, O(n)). */
static void cmd_keys(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    key_list_t k = {.pattern = argv[1], .plen = lens[1]};
    uint64_t cursor = 0;
    do
        cursor = engine_scan(c->svc->engine, cursor, 1024, collect_key, &k);
    while (cursor);
    resp_array(&c->out, k.n);
    if (k.buf.len && resp_append_raw(&c->out, k.buf.data, k.buf.len) != 0)
        c->closing = true;
    resp_buf_free(&k.buf);
}

/* FLUSHALL / FLUSHDB [ASYNC|SYNC]: every session goes (sessions are made by
 * writes, so the next write starts a fresh one under the policy). */
static void cmd_flushall(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    if (argc > 2 || (argc == 2 && !arg_is(argv[1], lens[1], "ASYNC") &&
                     !arg_is(argv[1], lens[1], "SYNC"))) {
        resp_error(&c->out, "ERR syntax error");
        return;
    }
    engine_drop_all(c->svc->engine);
    resp_simple(&c->out, "OK");
}

const command_t keys_commands[] = {
    {"del", -2, cmd_del},           {"unlink", -2, cmd_del},       {"exists", -2, cmd_exists},
    {"touch", -2, cmd_touch},       {"type", 2, cmd_type},         {"dbsize", 1, cmd_dbsize},
    {"scan", -2, cmd_scan},         {"keys", 2, cmd_keys},         {"flushall", -1, cmd_flushall},
    {"flushdb", -1, cmd_flushall},  {NULL, 0, NULL},
};
