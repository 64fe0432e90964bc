/* strings: the string commands — GET SET MGET MSET SETNX GETSET SETEX
 * PSETEX GETDEL GETEX INCR DECR INCRBY DECRBY APPEND STRLEN. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands/command.h"
#include "core/write.h"

static void cmd_get(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    session_t *s = key_session(c, argv[1], lens[1], false, NULL);
    const unsigned char *v;
    size_t n;
    if (s && session_get(s, argv[1], lens[1], &v, &n) == PD_OK)
        resp_bulk(&c->out, v, n);
    else
        resp_null(&c->out, c->proto);
}

/* SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL] */
static void cmd_set(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    int flags = 0;
    bool get = false, has_expire = false;
    int64_t expire_at = 0;
    for (size_t i = 3; i < argc; i++) {
        const char *a = argv[i];
        size_t n = lens[i];
        if (arg_is(a, n, "NX") && !(flags & SESSION_SET_XX)) {
            flags |= SESSION_SET_NX;
        } else if (arg_is(a, n, "XX") && !(flags & SESSION_SET_NX)) {
            flags |= SESSION_SET_XX;
        } else if (arg_is(a, n, "GET")) {
            get = true;
        } else if (arg_is(a, n, "KEEPTTL") && !has_expire) {
            flags |= SESSION_SET_KEEPTTL;
        } else if (expire_is_option(a, n) && !has_expire && !(flags & SESSION_SET_KEEPTTL) &&
                   i + 1 < argc) {
            if (!expire_parse_option(c, a, n, argv[i + 1], lens[i + 1], "set", &expire_at))
                return;
            has_expire = true;
            i++;
        } else {
            resp_error(&c->out, "ERR syntax error");
            return;
        }
    }
    /* XX in a session that does not exist cannot store anything: it opens
     * none (and asks no policy). */
    pd_status st = PD_NOTSET;
    session_t *s = flags & SESSION_SET_XX ? read_session(c, argv[1], lens[1])
                                          : key_session(c, argv[1], lens[1], true, &st);
    char *old = NULL;
    size_t old_len = 0;
    if (s)
        st = session_set(s, argv[1], lens[1], argv[2], lens[2], flags, expire_at,
                         get ? &old : NULL, &old_len);
    if (st == PD_OK || st == PD_NOTSET) {
        if (get) {
            if (old)
                resp_bulk(&c->out, old, old_len);
            else
                resp_null(&c->out, c->proto);
        } else if (st == PD_OK) {
            resp_simple(&c->out, "OK");
        } else {
            resp_null(&c->out, c->proto);
        }
    } else {
        reply_status_error(c, st);
    }
    free(old);
}

static void cmd_mget(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    resp_array(&c->out, argc - 1);
    for (size_t i = 1; i < argc; i++) {
        session_t *s = read_session(c, argv[i], lens[i]);
        const unsigned char *v;
        size_t n;
        if (s && session_get(s, argv[i], lens[i], &v, &n) == PD_OK)
            resp_bulk(&c->out, v, n);
        else
            resp_null(&c->out, c->proto);
    }
}

/* A write through session_set: SETNX, SETEX, PSETEX, GETSET. */
static void write_value(conn_t *c, const char *key, size_t klen, const char *val,
                        size_t vlen, int flags, int64_t expire_at, bool get, bool setnx)
{
    pd_status st;
    session_t *s = key_session(c, key, klen, true, &st);
    char *old = NULL;
    size_t old_len = 0;
    if (s)
        st = session_set(s, key, klen, val, vlen, flags, expire_at, get ? &old : NULL, &old_len);
    if (st != PD_OK && st != PD_NOTSET)
        reply_status_error(c, st);
    else if (setnx)
        resp_integer(&c->out, st == PD_OK);
    else if (get && old)
        resp_bulk(&c->out, old, old_len);
    else if (get)
        resp_null(&c->out, c->proto);
    else
        resp_simple(&c->out, "OK");
    free(old);
}

static void cmd_setnx(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    write_value(c, argv[1], lens[1], argv[2], lens[2], SESSION_SET_NX, 0, false, true);
}

static void cmd_getset(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    write_value(c, argv[1], lens[1], argv[2], lens[2], 0, 0, true, false);
}

/* SETEX key seconds value, PSETEX key ms value */
static void cmd_setex(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    long long v;
    bool ms = arg_is(argv[0], lens[0], "PSETEX");
    if (!arg_ll(argv[2], lens[2], &v)) {
        resp_error(&c->out, "ERR value is not an integer or out of range");
        return;
    }
    int64_t at;
    if (!expire_time(c, v, EXPIRE_POSITIVE | (ms ? 0 : EXPIRE_SECONDS), ms ? "psetex" : "setex",
                     &at))
        return;
    write_value(c, argv[1], lens[1], argv[3], lens[3], 0, at, false, false);
}

static void cmd_getdel(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    session_t *s = read_session(c, argv[1], lens[1]);
    const unsigned char *v;
    size_t n;
    if (s && session_get(s, argv[1], lens[1], &v, &n) == PD_OK) {
        resp_bulk(&c->out, v, n); /* copied into the reply before the delete */
        session_del(s, argv[1], lens[1]);
    } else {
        resp_null(&c->out, c->proto);
    }
}

/* INCR, DECR, INCRBY key n, DECRBY key n */
static void cmd_incr(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    long long delta = 1;
    if (argc == 3 && !arg_ll(argv[2], lens[2], &delta)) {
        resp_error(&c->out, "ERR value is not an integer or out of range");
        return;
    }
    if (arg_is(argv[0], lens[0], "DECR") || arg_is(argv[0], lens[0], "DECRBY")) {
        if (delta == LLONG_MIN) {
            resp_error(&c->out, "ERR decrement would overflow");
            return;
        }
        delta = -delta;
    }
    pd_status st;
    session_t *s = key_session(c, argv[1], lens[1], true, &st);
    int64_t result = 0;
    if (s)
        st = session_incrby(s, argv[1], lens[1], delta, &result);
    if (st == PD_OK)
        resp_integer(&c->out, result);
    else if (st == PD_NOTINT)
        resp_error(&c->out, "ERR value is not an integer or out of range");
    else if (st == PD_OVERFLOW)
        resp_error(&c->out, "ERR increment or decrement would overflow");
    else
        reply_status_error(c, st);
}

static void cmd_append(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    /* A value no GET could read back is refused, as Redis does. */
    session_t *r = read_session(c, argv[1], lens[1]);
    size_t have = r ? session_strlen(r, argv[1], lens[1]) : 0;
    if (have > c->svc->max_bulk || lens[2] > c->svc->max_bulk - have) {
        resp_error(&c->out, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return;
    }
    pd_status st;
    session_t *s = key_session(c, argv[1], lens[1], true, &st);
    size_t len = 0;
    if (s)
        st = session_append(s, argv[1], lens[1], argv[2], lens[2], &len);
    if (st == PD_OK)
        resp_integer(&c->out, (long long)len);
    else
        reply_status_error(c, st);
}

static void cmd_strlen(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    session_t *s = read_session(c, argv[1], lens[1]);
    resp_integer(&c->out, s ? (long long)session_strlen(s, argv[1], lens[1]) : 0);
}

/* MSET k v [k v ...]: all or nothing. The sessions that exist are claimed
 * for the command first, so opening the new ones cannot give any of them
 * up; then every pair goes to the write path as one write. A refusal
 * writes nothing, and the new sessions go again at the command's end.
 * checked before the first write, so a refusal found by the checks
 * (denied, too big, no session) changes no key. The checks reserve nothing:
 * a write can still fail after them (out of memory, a system budget that
 * cannot make room, a session the admission of a later one dropped), and
 * the pairs before it stay written. */
static void cmd_mset(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    if (argc % 2 == 0) {
        resp_error(&c->out, "ERR wrong number of arguments for 'mset' command");
        return;
    }
    size_t n = argc / 2;
    write_op_t *ops = calloc(n, sizeof(*ops));
    if (!ops) {
        reply_status_error(c, PD_NOMEM);
        return;
    }
    pd_status st = PD_OK;
    for (size_t k = 0; k < n; k++) { /* the sessions that exist first */
        size_t i = 1 + 2 * k;
        ops[k] = (write_op_t){.key = argv[i], .klen = lens[i], .v1 = argv[i + 1],
                              .n1 = lens[i + 1], .fresh = true};
        if ((ops[k].s = read_session(c, argv[i], lens[i])))
            ops[k].s = key_session(c, argv[i], lens[i], true, &st);
        if (st != PD_OK)
            break;
    }
    for (size_t k = 0; k < n && st == PD_OK; k++)
        if (!ops[k].s)
            ops[k].s = key_session(c, ops[k].key, ops[k].klen, true, &st);
    if (st == PD_OK)
        st = write_apply(ops, n);
    free(ops);
    if (st == PD_OK)
        resp_simple(&c->out, "OK");
    else
        reply_status_error(c, st);
}

/* GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST] */
static void cmd_getex(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    session_t *s = read_session(c, argv[1], lens[1]);
    int64_t at = -1;
    bool persist = argc == 3 && arg_is(argv[2], lens[2], "PERSIST");
    if (argc == 4 && expire_is_option(argv[2], lens[2])) {
        if (!expire_parse_option(c, argv[2], lens[2], argv[3], lens[3], "getex", &at))
            return;
    } else if (argc != 2 && !persist) {
        resp_error(&c->out, "ERR syntax error");
        return;
    }
    const unsigned char *v;
    size_t n;
    if (!s || session_get(s, argv[1], lens[1], &v, &n) != PD_OK) {
        resp_null(&c->out, c->proto);
        return;
    }
    resp_bulk(&c->out, v, n); /* copied before the expiry changes it */
    if (persist)
        session_persist(s, argv[1], lens[1]);
    else if (at >= 0)
        session_expire_at(s, argv[1], lens[1], at);
}

const command_t strings_commands[] = {
    {"get", 2, cmd_get},        {"set", -3, cmd_set},        {"mget", -2, cmd_mget},
    {"mset", -3, cmd_mset},     {"setnx", 3, cmd_setnx},     {"getset", 3, cmd_getset},
    {"setex", 4, cmd_setex},    {"psetex", 4, cmd_setex},    {"getdel", 2, cmd_getdel},
    {"getex", -2, cmd_getex},   {"incr", 2, cmd_incr},       {"decr", 2, cmd_incr},
    {"incrby", 3, cmd_incr},    {"decrby", 3, cmd_incr},     {"append", 3, cmd_append},
    {"strlen", 2, cmd_strlen},  {NULL, 0, NULL},
};
