/* commands: see commands.h. Replies and errors use Redis's wording. This
 * first table holds the commands `make run` and redis-cli need; the
 * daemon issue brings the rest of DESIGN.md §5. */
#include "commands/commands.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "policy/alerts.h"

typedef void (*command_fn)(client_t *c, size_t argc, char **argv, const size_t *lens);

typedef struct command {
    const char *name;
    int arity; /* exact when > 0, at least -arity when < 0 (name included) */
    command_fn fn;
} command_t;

static bool arg_is(const char *arg, size_t len, const char *word)
{
    return strlen(word) == len && strncasecmp(arg, word, len) == 0;
}

/* A decimal integer argument, Redis's way (whole argument, no spaces). */
static bool arg_ll(const char *arg, size_t len, long long *out)
{
    char buf[32];
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, arg, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (*end != '\0' || errno == ERANGE || (buf[0] != '-' && (buf[0] < '0' || buf[0] > '9')))
        return false;
    *out = v;
    return true;
}

static void reply_status_error(client_t *c, pd_status st)
{
    char msg[160];
    switch (st) {
    case PD_TOOBIG:
    case PD_SYSFULL:
    case PD_DENIED:
    case PD_NOSESSION:
    case PD_REFUSED:
    case PD_NOMEM:
        snprintf(msg, sizeof(msg), "OOM %s", pd_strerror(st));
        break;
    default:
        snprintf(msg, sizeof(msg), "ERR %s", pd_strerror(st));
        break;
    }
    resp_error(client_out(c), msg);
}

/* The session owning a key; created only for writes. */
static session_t *key_session(client_t *c, const char *key, size_t len, bool create,
                              pd_status *st)
{
    return engine_session_for_key(client_engine(c), key, len, create, st);
}

static void cmd_ping(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    if (argc > 2)
        resp_error(client_out(c), "ERR wrong number of arguments for 'ping' command");
    else if (argc == 2)
        resp_bulk(client_out(c), argv[1], lens[1]);
    else
        resp_simple(client_out(c), "PONG");
}

static void cmd_echo(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    resp_bulk(client_out(c), argv[1], lens[1]);
}

static void cmd_quit(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc, (void)argv, (void)lens;
    resp_simple(client_out(c), "OK");
    client_close_after_reply(c);
}

static void cmd_select(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    long long db;
    if (!arg_ll(argv[1], lens[1], &db))
        resp_error(client_out(c), "ERR value is not an integer or out of range");
    else if (db != 0)
        resp_error(client_out(c), "ERR DB index is out of range");
    else
        resp_simple(client_out(c), "OK");
}

static void cmd_get(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    session_t *s = key_session(c, argv[1], lens[1], false, NULL);
    const unsigned char *v;
    size_t n;
    if (s && session_get(s, argv[1], lens[1], &v, &n) == PD_OK)
        resp_bulk(client_out(c), v, n);
    else
        resp_null(client_out(c), client_proto(c));
}

static bool is_expiry_unit(const char *a, size_t n)
{
    return arg_is(a, n, "EX") || arg_is(a, n, "PX") || arg_is(a, n, "EXAT") ||
           arg_is(a, n, "PXAT");
}

/* An expiry option of SET or GETEX (EX s, PX ms, EXAT unix-s, PXAT unix-ms)
 * as an absolute time on the engine's clock (at least 1: a time already
 * past still expires). On a bad value it answers Redis's error, naming
 * `cmd`, and returns false. */
static bool parse_expiry(client_t *c, const char *unit, size_t ulen, const char *arg,
                         size_t alen, const char *cmd, int64_t *at)
{
    long long v;
    if (!arg_ll(arg, alen, &v)) {
        resp_error(client_out(c), "ERR value is not an integer or out of range");
        return false;
    }
    bool secs = arg_is(unit, ulen, "EX") || arg_is(unit, ulen, "EXAT");
    bool abs = arg_is(unit, ulen, "EXAT") || arg_is(unit, ulen, "PXAT");
    int64_t now = engine_now(client_engine(c));
    int64_t ms = secs && v > 0 && v <= INT64_MAX / 1000 ? v * 1000 : v;
    char msg[64];
    snprintf(msg, sizeof(msg), "ERR invalid expire time in '%s' command", cmd);
    if (v <= 0 || (secs && v > INT64_MAX / 1000)) {
        resp_error(client_out(c), msg);
        return false;
    }
    if (abs) { /* Unix times; the engine's clock is its own */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ms -= (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    if (ms > INT64_MAX - now) {
        resp_error(client_out(c), msg);
        return false;
    }
    *at = now + ms > 0 ? now + ms : 1;
    return true;
}

/* SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL] */
static void cmd_set(client_t *c, size_t argc, char **argv, const size_t *lens)
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
        } else if (is_expiry_unit(a, n) && !has_expire && !(flags & SESSION_SET_KEEPTTL) &&
                   i + 1 < argc) {
            if (!parse_expiry(c, a, n, argv[i + 1], lens[i + 1], "set", &expire_at))
                return;
            has_expire = true;
            i++;
        } else {
            resp_error(client_out(c), "ERR syntax error");
            return;
        }
    }
    pd_status st;
    session_t *s = key_session(c, argv[1], lens[1], true, &st);
    char *old = NULL;
    size_t old_len = 0;
    if (s)
        st = session_set(s, argv[1], lens[1], argv[2], lens[2], flags, expire_at,
                         get ? &old : NULL, &old_len);
    if (st == PD_OK || st == PD_NOTSET) {
        if (get) {
            if (old)
                resp_bulk(client_out(c), old, old_len);
            else
                resp_null(client_out(c), client_proto(c));
        } else if (st == PD_OK) {
            resp_simple(client_out(c), "OK");
        } else {
            resp_null(client_out(c), client_proto(c));
        }
    } else {
        reply_status_error(c, st);
    }
    free(old);
}

static void cmd_del(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    long long n = 0;
    for (size_t i = 1; i < argc; i++) {
        session_t *s = key_session(c, argv[i], lens[i], false, NULL);
        n += s && session_del(s, argv[i], lens[i]) == PD_OK;
    }
    resp_integer(client_out(c), n);
}

static void cmd_exists(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    long long n = 0;
    for (size_t i = 1; i < argc; i++) {
        session_t *s = key_session(c, argv[i], lens[i], false, NULL);
        n += s && session_exists(s, argv[i], lens[i]);
    }
    resp_integer(client_out(c), n);
}

static void cmd_dbsize(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc, (void)argv, (void)lens;
    engine_stats_t st;
    engine_stats(client_engine(c), false, &st);
    resp_integer(client_out(c), (long long)st.entries);
}

static void field_int(client_t *c, const char *name, long long v)
{
    resp_bulk(client_out(c), name, strlen(name));
    resp_integer(client_out(c), v);
}

static void field_str(client_t *c, const char *name, const char *v, size_t len)
{
    resp_bulk(client_out(c), name, strlen(name));
    resp_bulk(client_out(c), v, len);
}

/* SESSION LIST | INFO name | DROP name (DESIGN.md §5) */
static void cmd_session(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    engine_t *e = client_engine(c);
    if (argc == 2 && arg_is(argv[1], lens[1], "LIST")) {
        uint32_t n = engine_session_count(e);
        session_t **all = malloc((n ? n : 1) * sizeof(*all));
        if (!all) {
            resp_error(client_out(c), "ERR out of memory");
            return;
        }
        n = engine_sessions_by_name(e, all);
        resp_array(client_out(c), n);
        for (uint32_t i = 0; i < n; i++)
            resp_bulk(client_out(c), all[i]->name, all[i]->name_len);
        free(all);
        return;
    }
    if (argc != 3) {
        resp_error(client_out(c), "ERR syntax error: SESSION LIST | INFO name | DROP name");
        return;
    }
    session_t *s = engine_find(e, argv[2], lens[2]);
    if (arg_is(argv[1], lens[1], "DROP")) {
        if (s)
            engine_drop(e, s);
        resp_integer(client_out(c), s != NULL);
        return;
    }
    if (!arg_is(argv[1], lens[1], "INFO")) {
        resp_error(client_out(c), "ERR syntax error: SESSION LIST | INFO name | DROP name");
        return;
    }
    if (!s) {
        resp_error(client_out(c), "ERR no such session");
        return;
    }
    arena_stats_t as = {0};
    engine_refresh_stats(e); /* never an epoch per command at scale */
    arena_stats(&s->store.arena, &as);
    int64_t now = engine_now(e);
    const char *strategy = evict_kind_name(s->evict.kind);
    char growth[32];
    snprintf(growth, sizeof(growth), "%.1f", host_session_growth(s));
    resp_map(client_out(c), 15, client_proto(c));
    field_str(c, "name", s->name, s->name_len);
    field_int(c, "bytes", (long long)session_bytes(s));
    field_int(c, "arena_bytes", (long long)as.allocated);
    field_int(c, "entries", (long long)session_entries(s));
    field_int(c, "limit_bytes", (long long)s->limits.bytes);
    field_int(c, "limit_entries", (long long)s->limits.entries);
    field_str(c, "strategy", strategy, strlen(strategy));
    field_int(c, "hits", (long long)s->counters.hits);
    field_int(c, "misses", (long long)s->counters.misses);
    field_int(c, "evictions", (long long)s->counters.evictions);
    field_int(c, "expirations", (long long)s->counters.expirations);
    field_str(c, "growth_bytes_per_min", growth, strlen(growth));
    field_int(c, "idle_seconds", (long long)((now - s->used_ms) / 1000));
    field_int(c, "age_seconds", (long long)((now - s->store.created_ms) / 1000));
    field_int(c, "writes_denied", s->writes_denied);
}

/* --- strings and expiry --------------------------------------------------- */

/* The session of a key for a read, or NULL. */
static session_t *read_session(client_t *c, const char *key, size_t len)
{
    return key_session(c, key, len, false, NULL);
}

static void cmd_mget(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    resp_array(client_out(c), argc - 1);
    for (size_t i = 1; i < argc; i++) {
        session_t *s = read_session(c, argv[i], lens[i]);
        const unsigned char *v;
        size_t n;
        if (s && session_get(s, argv[i], lens[i], &v, &n) == PD_OK)
            resp_bulk(client_out(c), v, n);
        else
            resp_null(client_out(c), client_proto(c));
    }
}

/* A write through session_set: SETNX, SETEX, PSETEX, GETSET. */
static void write_value(client_t *c, const char *key, size_t klen, const char *val,
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
        resp_integer(client_out(c), st == PD_OK);
    else if (get && old)
        resp_bulk(client_out(c), old, old_len);
    else if (get)
        resp_null(client_out(c), client_proto(c));
    else
        resp_simple(client_out(c), "OK");
    free(old);
}

static void cmd_setnx(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    write_value(c, argv[1], lens[1], argv[2], lens[2], SESSION_SET_NX, 0, false, true);
}

static void cmd_getset(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    write_value(c, argv[1], lens[1], argv[2], lens[2], 0, 0, true, false);
}

/* SETEX key seconds value, PSETEX key ms value */
static void cmd_setex(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    long long v;
    bool ms = arg_is(argv[0], lens[0], "PSETEX");
    if (!arg_ll(argv[2], lens[2], &v)) {
        resp_error(client_out(c), "ERR value is not an integer or out of range");
        return;
    }
    int64_t now = engine_now(client_engine(c));
    if (v <= 0 || (!ms && v > INT64_MAX / 1000) || (ms ? v : v * 1000) > INT64_MAX - now) {
        char msg[64];
        snprintf(msg, sizeof(msg), "ERR invalid expire time in '%s' command", ms ? "psetex" : "setex");
        resp_error(client_out(c), msg);
        return;
    }
    write_value(c, argv[1], lens[1], argv[3], lens[3], 0, now + (ms ? v : v * 1000), false, false);
}

static void cmd_getdel(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    session_t *s = read_session(c, argv[1], lens[1]);
    const unsigned char *v;
    size_t n;
    if (s && session_get(s, argv[1], lens[1], &v, &n) == PD_OK) {
        resp_bulk(client_out(c), v, n); /* copied into the reply before the delete */
        session_del(s, argv[1], lens[1]);
    } else {
        resp_null(client_out(c), client_proto(c));
    }
}

static void cmd_ttl(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    session_t *s = read_session(c, argv[1], lens[1]);
    int64_t ms = s ? session_pttl(s, argv[1], lens[1]) : SESSION_TTL_MISSING;
    if (ms >= 0 && arg_is(argv[0], lens[0], "TTL"))
        ms = (ms + 500) / 1000;
    resp_integer(client_out(c), ms);
}

/* EXPIRE key s, PEXPIRE key ms, EXPIREAT key unix-s, PEXPIREAT key unix-ms */
static void cmd_expire(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    if (argc != 3) {
        resp_error(client_out(c), "ERR syntax error");
        return;
    }
    long long v;
    if (!arg_ll(argv[2], lens[2], &v)) {
        resp_error(client_out(c), "ERR value is not an integer or out of range");
        return;
    }
    bool secs = arg_is(argv[0], lens[0], "EXPIRE") || arg_is(argv[0], lens[0], "EXPIREAT");
    bool abs = arg_is(argv[0], lens[0], "EXPIREAT") || arg_is(argv[0], lens[0], "PEXPIREAT");
    int64_t now = engine_now(client_engine(c));
    if (secs && (v > INT64_MAX / 1000 || v < INT64_MIN / 1000)) {
        resp_error(client_out(c), "ERR invalid expire time in 'expire' command");
        return;
    }
    int64_t ms = secs ? v * 1000 : v;
    if (abs) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ms -= (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    if (ms > INT64_MAX - now) {
        resp_error(client_out(c), "ERR invalid expire time in 'expire' command");
        return;
    }
    session_t *s = read_session(c, argv[1], lens[1]);
    pd_status st = s ? session_expire_at(s, argv[1], lens[1], now + ms) : PD_NOTFOUND;
    if (st == PD_OK || st == PD_NOTFOUND)
        resp_integer(client_out(c), st == PD_OK);
    else
        reply_status_error(c, st);
}

static void cmd_persist(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    session_t *s = read_session(c, argv[1], lens[1]);
    pd_status st = s ? session_persist(s, argv[1], lens[1]) : PD_NOTFOUND;
    if (st == PD_OK || st == PD_NOTFOUND || st == PD_NOTSET)
        resp_integer(client_out(c), st == PD_OK);
    else
        reply_status_error(c, st);
}

/* INCR, DECR, INCRBY key n, DECRBY key n */
static void cmd_incr(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    long long delta = 1;
    if (argc == 3 && !arg_ll(argv[2], lens[2], &delta)) {
        resp_error(client_out(c), "ERR value is not an integer or out of range");
        return;
    }
    if (arg_is(argv[0], lens[0], "DECR") || arg_is(argv[0], lens[0], "DECRBY")) {
        if (delta == LLONG_MIN) {
            resp_error(client_out(c), "ERR decrement would overflow");
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
        resp_integer(client_out(c), result);
    else if (st == PD_NOTINT)
        resp_error(client_out(c), "ERR value is not an integer or out of range");
    else if (st == PD_OVERFLOW)
        resp_error(client_out(c), "ERR increment or decrement would overflow");
    else
        reply_status_error(c, st);
}

static void cmd_append(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    pd_status st;
    session_t *s = key_session(c, argv[1], lens[1], true, &st);
    size_t len = 0;
    if (s)
        st = session_append(s, argv[1], lens[1], argv[2], lens[2], &len);
    if (st == PD_OK)
        resp_integer(client_out(c), (long long)len);
    else
        reply_status_error(c, st);
}

static void cmd_strlen(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    session_t *s = read_session(c, argv[1], lens[1]);
    resp_integer(client_out(c), s ? (long long)session_strlen(s, argv[1], lens[1]) : 0);
}

static void cmd_touch(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    long long n = 0;
    for (size_t i = 1; i < argc; i++) {
        session_t *s = read_session(c, argv[i], lens[i]);
        n += s && session_touch(s, argv[i], lens[i]) == PD_OK;
    }
    resp_integer(client_out(c), n);
}

static void cmd_type(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    session_t *s = read_session(c, argv[1], lens[1]);
    resp_simple(client_out(c), s && session_exists(s, argv[1], lens[1]) ? "string" : "none");
}

/* FLUSHALL / FLUSHDB [ASYNC|SYNC]: every session goes (sessions are made by
 * writes, so the next write starts a fresh one under the policy). */
static void cmd_flushall(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    if (argc > 2 || (argc == 2 && !arg_is(argv[1], lens[1], "ASYNC") &&
                     !arg_is(argv[1], lens[1], "SYNC"))) {
        resp_error(client_out(c), "ERR syntax error");
        return;
    }
    engine_drop_all(client_engine(c));
    resp_simple(client_out(c), "OK");
}

static void cmd_time(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc, (void)argv, (void)lens;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char sec[24], usec[24];
    int a = snprintf(sec, sizeof(sec), "%lld", (long long)ts.tv_sec);
    int b = snprintf(usec, sizeof(usec), "%ld", ts.tv_nsec / 1000);
    resp_array(client_out(c), 2);
    resp_bulk(client_out(c), sec, (size_t)a);
    resp_bulk(client_out(c), usec, (size_t)b);
}

/* POLICY INFO | POLICY RELOAD [path] (DESIGN.md §5) */
static void cmd_policy(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    host_t *h = client_host(c);
    if (argc == 2 && arg_is(argv[1], lens[1], "INFO")) {
        host_info_t in;
        host_get_info(h, &in);
        const char *strategy = in.strategy < 0 ? "chooser" : evict_kind_name((evict_kind)in.strategy);
        char interval[32];
        snprintf(interval, sizeof(interval), "%g", in.sample_interval);
        resp_map(client_out(c), 9, client_proto(c));
        field_str(c, "path", in.path, strlen(in.path));
        field_str(c, "sha256", in.sha256, strlen(in.sha256));
        field_int(c, "loaded_at", in.loaded_at);
        field_int(c, "reloads", (long long)in.reloads);
        field_int(c, "reload_failures", (long long)in.reload_failures);
        field_str(c, "last_error", in.last_error, strlen(in.last_error));
        field_int(c, "hook_errors", (long long)in.hook_errors);
        field_str(c, "strategy", strategy, strlen(strategy));
        field_str(c, "sample_interval", interval, strlen(interval));
        return;
    }
    if ((argc == 2 || argc == 3) && arg_is(argv[1], lens[1], "RELOAD")) {
        host_info_t in;
        host_get_info(h, &in);
        char path[4096];
        if (argc == 3)
            snprintf(path, sizeof(path), "%.*s", (int)(lens[2] < 4095 ? lens[2] : 4095), argv[2]);
        else
            snprintf(path, sizeof(path), "%s", in.path);
        char err[1024], msg[1100];
        if (host_reload(h, path, err, sizeof(err)) == 0) {
            resp_simple(client_out(c), "OK");
        } else {
            snprintf(msg, sizeof(msg), "ERR policy: %s", err);
            resp_error(client_out(c), msg);
        }
        return;
    }
    resp_error(client_out(c), "ERR syntax error: POLICY INFO | POLICY RELOAD [path]");
}

/* ALERTS [count]: newest first, each a flat array of field, value pairs. */
static void cmd_alerts(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    long long count = 20;
    if (argc > 2 || (argc == 2 && (!arg_ll(argv[1], lens[1], &count) || count < 0))) {
        resp_error(client_out(c), "ERR syntax error: ALERTS [count]");
        return;
    }
    if (count > 1024)
        count = 1024;
    alert_t *recent = malloc((size_t)(count ? count : 1) * sizeof(*recent));
    if (!recent) {
        resp_error(client_out(c), "ERR out of memory");
        return;
    }
    size_t n = alerts_recent(host_alerts(client_host(c)), recent, (size_t)count);
    resp_array(client_out(c), n);
    for (size_t i = 0; i < n; i++) {
        const alert_t *a = &recent[i];
        const char *sev = alert_severity_name(a->severity);
        char time[32];
        snprintf(time, sizeof(time), "%.3f", (double)a->time_ms / 1000.0);
        resp_map(client_out(c), 5, client_proto(c));
        field_str(c, "time", time, strlen(time));
        field_str(c, "severity", sev, strlen(sev));
        field_str(c, "kind", a->kind, strlen(a->kind));
        field_str(c, "session", a->session, strlen(a->session));
        field_str(c, "message", a->message, strlen(a->message));
    }
    free(recent);
}

/* --- keys ------------------------------------------------------------------ */

/* A Redis glob's character class at p[*pi] == '['; on a match *pi moves
 * past the ']'. An unterminated class matches '[' literally. */
static bool class_match(const char *p, size_t plen, size_t *pi, char ch)
{
    size_t i = *pi + 1;
    bool neg = i < plen && p[i] == '^';
    i += neg;
    bool hit = false;
    size_t start = i;
    while (i < plen && (p[i] != ']' || i == start)) {
        char lo = p[i];
        if (lo == '\\' && i + 1 < plen)
            lo = p[++i];
        if (i + 2 < plen && p[i + 1] == '-' && p[i + 2] != ']') {
            char hi = p[i + 2];
            if (lo > hi) {
                char t = lo;
                lo = hi;
                hi = t;
            }
            hit |= ch >= lo && ch <= hi;
            i += 3;
        } else {
            hit |= ch == lo;
            i++;
        }
    }
    if (i >= plen) /* unterminated */
        return ch == '[' ? (++*pi, true) : false;
    *pi = i + 1;
    return hit != neg;
}

/* Redis's glob (* ? [class] \escape), matched with one backtrack point per
 * star, so no pattern can take exponential time. */
static bool glob_match(const char *p, size_t plen, const char *s, size_t slen)
{
    size_t pi = 0, si = 0, star = SIZE_MAX, star_s = 0;
    while (si < slen) {
        if (pi < plen) {
            char c = p[pi];
            if (c == '*') {
                star = ++pi;
                star_s = si;
                continue;
            }
            if (c == '?') {
                pi++;
                si++;
                continue;
            }
            if (c == '[') {
                size_t at = pi;
                if (class_match(p, plen, &at, s[si])) {
                    pi = at;
                    si++;
                    continue;
                }
            } else {
                size_t adv = 1;
                if (c == '\\' && pi + 1 < plen) {
                    c = p[pi + 1];
                    adv = 2;
                }
                if (c == s[si]) {
                    pi += adv;
                    si++;
                    continue;
                }
            }
        }
        if (star == SIZE_MAX)
            return false;
        pi = star;
        si = ++star_s;
    }
    while (pi < plen && p[pi] == '*')
        pi++;
    return pi == plen;
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
static void cmd_scan(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    long long count = 10;
    char *end;
    char num[24];
    snprintf(num, sizeof(num), "%.*s", (int)(lens[1] < 23 ? lens[1] : 23), argv[1]);
    unsigned long long ucursor = strtoull(num, &end, 10);
    if (*end || lens[1] == 0 || lens[1] > 20) {
        resp_error(client_out(c), "ERR invalid cursor");
        return;
    }
    key_list_t k = {0};
    for (size_t i = 2; i < argc; i += 2) {
        if (i + 1 >= argc) {
            resp_error(client_out(c), "ERR syntax error");
            return;
        }
        if (arg_is(argv[i], lens[i], "MATCH")) {
            k.pattern = argv[i + 1];
            k.plen = lens[i + 1];
        } else if (arg_is(argv[i], lens[i], "COUNT")) {
            if (!arg_ll(argv[i + 1], lens[i + 1], &count) || count < 1) {
                resp_error(client_out(c), count < 1 ? "ERR syntax error"
                                                    : "ERR value is not an integer or out of range");
                return;
            }
        } else if (arg_is(argv[i], lens[i], "TYPE")) {
            k.none = !arg_is(argv[i + 1], lens[i + 1], "string"); /* only strings exist */
        } else {
            resp_error(client_out(c), "ERR syntax error");
            return;
        }
    }
    uint64_t next = engine_scan(client_engine(c), ucursor, (size_t)count, collect_key, &k);
    char cur[24];
    int n = snprintf(cur, sizeof(cur), "%llu", (unsigned long long)next);
    resp_array(client_out(c), 2);
    resp_bulk(client_out(c), cur, (size_t)n);
    resp_array(client_out(c), k.n);
    if (k.buf.len && resp_append_raw(client_out(c), k.buf.data, k.buf.len) != 0)
        client_close_after_reply(c);
    resp_buf_free(&k.buf);
}

/* KEYS pattern: every matching key, in one reply (as Redis, O(n)). */
static void cmd_keys(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    key_list_t k = {.pattern = argv[1], .plen = lens[1]};
    uint64_t cursor = 0;
    do
        cursor = engine_scan(client_engine(c), cursor, 1024, collect_key, &k);
    while (cursor);
    resp_array(client_out(c), k.n);
    if (k.buf.len && resp_append_raw(client_out(c), k.buf.data, k.buf.len) != 0)
        client_close_after_reply(c);
    resp_buf_free(&k.buf);
}

/* --- connection ------------------------------------------------------------- */

/* HELLO [protover [SETNAME name]] */
static void cmd_hello(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    long long proto = client_proto(c);
    size_t i = 1;
    if (argc > 1) {
        if (!arg_ll(argv[1], lens[1], &proto) || proto < 2 || proto > 3) {
            resp_error(client_out(c), "NOPROTO unsupported protocol version");
            return;
        }
        i = 2;
    }
    for (; i < argc; i++) {
        if (arg_is(argv[i], lens[i], "AUTH") && i + 2 < argc) {
            const char *pass = client_requirepass(c);
            if (!pass || !arg_is(argv[i + 1], lens[i + 1], "default") ||
                lens[i + 2] != strlen(pass) || memcmp(argv[i + 2], pass, lens[i + 2]) != 0) {
                resp_error(client_out(c), "WRONGPASS invalid username-password pair or user is disabled.");
                return;
            }
            client_set_authed(c);
            i += 2;
        } else if (arg_is(argv[i], lens[i], "SETNAME") && i + 1 < argc) {
            if (client_set_name(c, argv[i + 1], lens[i + 1]) != 0) {
                resp_error(client_out(c), "ERR out of memory");
                return;
            }
            i++;
        } else {
            resp_error(client_out(c), "ERR syntax error in HELLO option");
            return;
        }
    }
    if (!client_authed(c)) {
        resp_error(client_out(c), "NOAUTH HELLO must be called with the client already "
                                  "authenticated, otherwise the HELLO <proto> AUTH <user> <pass> "
                                  "option can be used to authenticate the client and select the "
                                  "RESP protocol version at the same time");
        return;
    }
    client_set_proto(c, (int)proto);
    resp_map(client_out(c), 7, (int)proto);
    field_str(c, "server", "policyd", 7);
    field_str(c, "version", "0.1.0", 5);
    field_int(c, "proto", proto);
    field_int(c, "id", (long long)client_id(c));
    field_str(c, "mode", "standalone", 10);
    field_str(c, "role", "master", 6);
    resp_bulk(client_out(c), "modules", 7);
    resp_array(client_out(c), 0);
}

/* CLIENT ID | SETNAME name | GETNAME */
static void cmd_client(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    if (argc == 2 && arg_is(argv[1], lens[1], "ID")) {
        resp_integer(client_out(c), (long long)client_id(c));
    } else if (argc == 2 && arg_is(argv[1], lens[1], "GETNAME")) {
        const char *name = client_name(c);
        if (name)
            resp_bulk(client_out(c), name, strlen(name));
        else
            resp_null(client_out(c), client_proto(c));
    } else if (argc == 3 && arg_is(argv[1], lens[1], "SETNAME")) {
        if (memchr(argv[2], ' ', lens[2]) || memchr(argv[2], '\n', lens[2]))
            resp_error(client_out(c), "ERR Client names cannot contain spaces, newlines or special characters.");
        else if (client_set_name(c, argv[2], lens[2]) != 0)
            resp_error(client_out(c), "ERR out of memory");
        else
            resp_simple(client_out(c), "OK");
    } else {
        resp_error(client_out(c), "ERR syntax error: CLIENT ID | SETNAME name | GETNAME");
    }
}

/* INFO [section]: Redis's sections where they make sense, plus policy and
 * sessions, as "field:value" lines. */
static void cmd_info(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    engine_t *e = client_engine(c);
    engine_stats_t st;
    engine_stats(e, false, &st);
    uint64_t hits = 0, misses = 0, evicted = 0, expired = 0, expires = 0;
    for (session_t *s = engine_next(e, NULL); s; s = engine_next(e, s)) {
        hits += s->counters.hits;
        misses += s->counters.misses;
        evicted += s->counters.evictions;
        expired += s->counters.expirations;
        expires += s->store.expiry.len;
    }
    host_info_t hi;
    host_get_info(client_host(c), &hi);
    server_t *srv = client_server(c);
    resp_buf_t b = {0};
    char line[512];
    bool all = argc < 2;
#define SECTION(name) (all || arg_is(argv[1], lens[1], name) || arg_is(argv[1], lens[1], "all"))
#define LINE(...) do { int n_ = snprintf(line, sizeof(line), __VA_ARGS__); \
        resp_append_raw(&b, line, (size_t)(n_ < (int)sizeof(line) ? n_ : (int)sizeof(line) - 1)); } while (0)
    if (SECTION("server")) {
        LINE("# Server\r\nredis_version:7.0.0\r\npolicyd_version:0.1.0\r\nredis_mode:standalone\r\n");
        LINE("process_id:%ld\r\ntcp_port:%d\r\nuptime_in_seconds:%lld\r\n\r\n", (long)getpid(),
             server_port(srv), (long long)(((int64_t)uv_now(uv_default_loop()) - server_started_ms(srv)) / 1000));
    }
    if (SECTION("clients"))
        LINE("# Clients\r\nconnected_clients:%zu\r\n\r\n", server_clients(srv));
    if (SECTION("memory")) {
        LINE("# Memory\r\nused_memory:%zu\r\nused_memory_rss:%zu\r\nsession_bytes:%llu\r\n",
             st.process.allocated, st.process.resident, (unsigned long long)st.bytes);
        LINE("maxmemory:%llu\r\nmaxmemory_policy:policyd\r\nmem_allocator:jemalloc\r\n\r\n",
             (unsigned long long)st.limit_bytes);
    }
    if (SECTION("stats")) {
        LINE("# Stats\r\nkeyspace_hits:%llu\r\nkeyspace_misses:%llu\r\nevicted_keys:%llu\r\n"
             "expired_keys:%llu\r\n\r\n", (unsigned long long)hits, (unsigned long long)misses,
             (unsigned long long)evicted, (unsigned long long)expired);
    }
    if (SECTION("keyspace") && st.entries)
        LINE("# Keyspace\r\ndb0:keys=%llu,expires=%llu,avg_ttl=0\r\n\r\n",
             (unsigned long long)st.entries, (unsigned long long)expires);
    if (SECTION("policy")) {
        LINE("# Policy\r\npolicy_path:%s\r\npolicy_sha256:%s\r\npolicy_reloads:%llu\r\n", hi.path,
             hi.sha256, (unsigned long long)hi.reloads);
        LINE("policy_reload_failures:%llu\r\npolicy_hook_errors:%llu\r\npolicy_degraded:%d\r\n\r\n",
             (unsigned long long)hi.reload_failures, (unsigned long long)hi.hook_errors, hi.degraded);
    }
    if (SECTION("sessions"))
        LINE("# Sessions\r\nsessions:%u\r\nlimit_sessions:%u\r\n\r\n", st.sessions, st.limit_sessions);
#undef LINE
#undef SECTION
    resp_bulk(client_out(c), b.data ? b.data : "", b.len);
    resp_buf_free(&b);
}

/* MSET k v [k v ...]: all or nothing across sessions. Every session is
 * opened (admission) and every pair checked before the first write, so a
 * refusal (denied, too big, no session) changes no key. */
static void cmd_mset(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    if (argc % 2 == 0) {
        resp_error(client_out(c), "ERR wrong number of arguments for 'mset' command");
        return;
    }
    for (size_t i = 1; i < argc; i += 2) {
        pd_status st;
        session_t *s = key_session(c, argv[i], lens[i], true, &st);
        if (s)
            st = session_check_set(s, argv[i], lens[i], lens[i + 1], false);
        if (st != PD_OK) {
            reply_status_error(c, st);
            return;
        }
    }
    for (size_t i = 1; i < argc; i += 2) {
        session_t *s = key_session(c, argv[i], lens[i], true, NULL);
        pd_status st = s ? session_set(s, argv[i], lens[i], argv[i + 1], lens[i + 1], 0, 0,
                                       NULL, NULL)
                         : PD_NOSESSION;
        if (st != PD_OK) { /* only memory can fail here, after the checks */
            reply_status_error(c, st);
            return;
        }
    }
    resp_simple(client_out(c), "OK");
}

/* AUTH [username] password (only the default user). */
static void cmd_auth(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    const char *pass = client_requirepass(c);
    if (!pass) {
        resp_error(client_out(c), "ERR AUTH <password> called without any password configured "
                                  "for the default user. Are you sure your configuration is correct?");
        return;
    }
    size_t i = argc == 3 ? 2 : 1;
    bool user_ok = argc == 2 || arg_is(argv[1], lens[1], "default");
    if (argc > 3 || !user_ok || lens[i] != strlen(pass) || memcmp(argv[i], pass, lens[i]) != 0) {
        resp_error(client_out(c), "WRONGPASS invalid username-password pair or user is disabled.");
        return;
    }
    client_set_authed(c);
    resp_simple(client_out(c), "OK");
}

/* The reply to (UN)SUBSCRIBE for one channel. */
static void subscription_reply(client_t *c, const char *kind, const char *ch, size_t len)
{
    if (client_proto(c) >= 3)
        resp_append_raw(client_out(c), ">3\r\n", 4);
    else
        resp_array(client_out(c), 3);
    resp_bulk(client_out(c), kind, strlen(kind));
    if (ch)
        resp_bulk(client_out(c), ch, len);
    else
        resp_null(client_out(c), client_proto(c));
    resp_integer(client_out(c), (long long)client_subscriptions(c));
}

/* SUBSCRIBE channel...: policyd publishes its alerts on policyd:alerts. */
static void cmd_subscribe(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    for (size_t i = 1; i < argc; i++) {
        if (client_subscribe(c, argv[i], lens[i]) < 0) {
            resp_error(client_out(c), "ERR out of memory");
            return;
        }
        subscription_reply(c, "subscribe", argv[i], lens[i]);
    }
}

static void cmd_unsubscribe(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    if (argc == 1) {
        if (client_subscriptions(c) == 0)
            subscription_reply(c, "unsubscribe", NULL, 0);
        while (client_subscriptions(c) > 0) {
            char ch[512];
            snprintf(ch, sizeof(ch), "%s", client_channel(c, 0));
            client_unsubscribe(c, ch, strlen(ch));
            subscription_reply(c, "unsubscribe", ch, strlen(ch));
        }
        return;
    }
    for (size_t i = 1; i < argc; i++) {
        client_unsubscribe(c, argv[i], lens[i]);
        subscription_reply(c, "unsubscribe", argv[i], lens[i]);
    }
}

/* MEMORY USAGE key | STATS | PURGE */
static void cmd_memory(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    engine_t *e = client_engine(c);
    if (argc >= 3 && arg_is(argv[1], lens[1], "USAGE")) {
        session_t *s = read_session(c, argv[2], lens[2]);
        uint64_t bytes;
        if (s && session_memory_usage(s, argv[2], lens[2], &bytes) == PD_OK)
            resp_integer(client_out(c), (long long)bytes);
        else
            resp_null(client_out(c), client_proto(c));
    } else if (argc == 2 && arg_is(argv[1], lens[1], "STATS")) {
        engine_stats_t st;
        engine_refresh_stats(e);
        engine_stats(e, false, &st);
        resp_map(client_out(c), 9, client_proto(c));
        field_int(c, "allocated", (long long)st.process.allocated);
        field_int(c, "active", (long long)st.process.active);
        field_int(c, "resident", (long long)st.process.resident);
        field_int(c, "mapped", (long long)st.process.mapped);
        field_int(c, "retained", (long long)st.process.retained);
        field_int(c, "metadata", (long long)st.process.metadata);
        field_int(c, "session_bytes", (long long)st.bytes);
        field_int(c, "sessions", st.sessions);
        field_int(c, "keys", (long long)st.entries);
    } else if (argc == 2 && arg_is(argv[1], lens[1], "PURGE")) {
        for (session_t *s = engine_next(e, NULL); s; s = engine_next(e, s))
            arena_purge(&s->store.arena);
        resp_simple(client_out(c), "OK");
    } else {
        resp_error(client_out(c), "ERR syntax error: MEMORY USAGE key | STATS | PURGE");
    }
}

/* COMMAND: an empty table, which redis-cli takes as "no hints". */
static void cmd_command(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc, (void)argv, (void)lens;
    resp_array(client_out(c), 0);
}

/* CONFIG GET pattern...: the few parameters clients ask about, answered
 * as policyd behaves (no persistence; the system budget as maxmemory). */
static void cmd_config(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    if (!arg_is(argv[1], lens[1], "GET") || argc < 3) {
        resp_error(client_out(c), "ERR policyd supports only CONFIG GET parameter...");
        return;
    }
    engine_stats_t st;
    engine_stats(client_engine(c), false, &st);
    char maxmemory[24], databases[] = "1";
    snprintf(maxmemory, sizeof(maxmemory), "%llu", (unsigned long long)st.limit_bytes);
    const char *params[][2] = {
        {"save", ""}, {"appendonly", "no"}, {"databases", databases},
        {"maxmemory", maxmemory}, {"maxmemory-policy", "policyd"},
    };
    size_t n = sizeof(params) / sizeof(params[0]);
    bool hit[sizeof(params) / sizeof(params[0])] = {false};
    size_t found = 0;
    for (size_t i = 2; i < argc; i++)
        for (size_t p = 0; p < n; p++)
            if (!hit[p] && glob_match(argv[i], lens[i], params[p][0], strlen(params[p][0])))
                hit[p] = true, found++;
    resp_map(client_out(c), found, client_proto(c));
    for (size_t p = 0; p < n; p++)
        if (hit[p])
            field_str(c, params[p][0], params[p][1], strlen(params[p][1]));
}

/* GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST] */
static void cmd_getex(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    session_t *s = read_session(c, argv[1], lens[1]);
    int64_t at = -1;
    bool persist = argc == 3 && arg_is(argv[2], lens[2], "PERSIST");
    if (argc == 4 && is_expiry_unit(argv[2], lens[2])) {
        if (!parse_expiry(c, argv[2], lens[2], argv[3], lens[3], "getex", &at))
            return;
    } else if (argc != 2 && !persist) {
        resp_error(client_out(c), "ERR syntax error");
        return;
    }
    const unsigned char *v;
    size_t n;
    if (!s || session_get(s, argv[1], lens[1], &v, &n) != PD_OK) {
        resp_null(client_out(c), client_proto(c));
        return;
    }
    resp_bulk(client_out(c), v, n); /* copied before the expiry changes it */
    if (persist)
        session_persist(s, argv[1], lens[1]);
    else if (at >= 0)
        session_expire_at(s, argv[1], lens[1], at);
}

static const command_t commands[] = {
    {"ping", -1, cmd_ping},     {"echo", 2, cmd_echo},       {"quit", -1, cmd_quit},
    {"select", 2, cmd_select},  {"get", 2, cmd_get},         {"set", -3, cmd_set},
    {"del", -2, cmd_del},       {"unlink", -2, cmd_del},     {"exists", -2, cmd_exists},
    {"dbsize", 1, cmd_dbsize},  {"command", -1, cmd_command},
    {"config", -2, cmd_config}, {"session", -2, cmd_session},
    {"getex", -2, cmd_getex},
    {"mget", -2, cmd_mget},     {"setnx", 3, cmd_setnx},     {"getset", 3, cmd_getset},
    {"setex", 4, cmd_setex},    {"psetex", 4, cmd_setex},    {"getdel", 2, cmd_getdel},
    {"ttl", 2, cmd_ttl},        {"pttl", 2, cmd_ttl},        {"expire", -3, cmd_expire},
    {"pexpire", -3, cmd_expire}, {"expireat", -3, cmd_expire}, {"pexpireat", -3, cmd_expire},
    {"persist", 2, cmd_persist}, {"incr", 2, cmd_incr},      {"decr", 2, cmd_incr},
    {"incrby", 3, cmd_incr},    {"decrby", 3, cmd_incr},     {"append", 3, cmd_append},
    {"strlen", 2, cmd_strlen},  {"touch", -2, cmd_touch},    {"type", 2, cmd_type},
    {"flushall", -1, cmd_flushall}, {"flushdb", -1, cmd_flushall}, {"time", 1, cmd_time},
    {"policy", -2, cmd_policy}, {"alerts", -1, cmd_alerts},
    {"scan", -2, cmd_scan},     {"keys", 2, cmd_keys},       {"hello", -1, cmd_hello},
    {"client", -2, cmd_client}, {"info", -1, cmd_info},
    {"mset", -3, cmd_mset},     {"auth", -2, cmd_auth},
    {"subscribe", -2, cmd_subscribe}, {"unsubscribe", -1, cmd_unsubscribe},
    {"memory", -2, cmd_memory},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))
#define COMMAND_SLOTS 256 /* a power of two, over twice NCOMMANDS */
#define COMMAND_NAME_MAX 16

/* The command table, hashed by lower-cased name: a linear scan with
 * strncasecmp was 5% of the instructions of a pipelined GET. */
static const command_t *command_slots[COMMAND_SLOTS];

/* FNV-1a over the lower-cased name; 0 if the name is longer than any. */
static uint32_t command_hash(const char *name, size_t len)
{
    if (len == 0 || len > COMMAND_NAME_MAX)
        return 0;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch >= 'A' && ch <= 'Z')
            ch += 'a' - 'A';
        h = (h ^ ch) * 16777619u;
    }
    return h | 1;
}

static void command_index(void)
{
    _Static_assert(COMMAND_SLOTS >= 2 * NCOMMANDS, "the command table is too full");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        uint32_t j = command_hash(commands[i].name, strlen(commands[i].name));
        while (command_slots[j & (COMMAND_SLOTS - 1)])
            j++;
        command_slots[j & (COMMAND_SLOTS - 1)] = &commands[i];
    }
}

static const command_t *command_lookup(const char *name, size_t len)
{
    static bool indexed;
    if (!indexed) {
        command_index();
        indexed = true;
    }
    uint32_t j = command_hash(name, len);
    if (!j)
        return NULL;
    for (;; j++) {
        const command_t *cmd = command_slots[j & (COMMAND_SLOTS - 1)];
        if (!cmd)
            return NULL;
        if (arg_is(name, len, cmd->name))
            return cmd;
    }
}

void commands_execute(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    /* With --requirepass, only AUTH, HELLO and QUIT until authenticated. */
    if (!client_authed(c) && !arg_is(argv[0], lens[0], "AUTH") &&
        !arg_is(argv[0], lens[0], "HELLO") && !arg_is(argv[0], lens[0], "QUIT")) {
        resp_error(client_out(c), "NOAUTH Authentication required.");
        return;
    }
    /* A RESP2 subscriber may only manage its subscriptions. */
    if (client_subscriptions(c) > 0 && client_proto(c) < 3 &&
        !arg_is(argv[0], lens[0], "SUBSCRIBE") && !arg_is(argv[0], lens[0], "UNSUBSCRIBE") &&
        !arg_is(argv[0], lens[0], "PING") && !arg_is(argv[0], lens[0], "QUIT")) {
        char msg[160];
        snprintf(msg, sizeof(msg), "ERR Can't execute '%.*s': only (P|S)SUBSCRIBE / "
                 "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                 (int)(lens[0] < 32 ? lens[0] : 32), argv[0]);
        resp_error(client_out(c), msg);
        return;
    }
    const command_t *cmd = command_lookup(argv[0], lens[0]);
    if (!cmd) {
        char msg[128];
        snprintf(msg, sizeof(msg), "ERR unknown command '%.*s'",
                 (int)(lens[0] < 64 ? lens[0] : 64), argv[0]);
        resp_error(client_out(c), msg);
        return;
    }
    if ((cmd->arity > 0 && argc != (size_t)cmd->arity) ||
        (cmd->arity < 0 && argc < (size_t)-cmd->arity)) {
        char msg[96];
        snprintf(msg, sizeof(msg), "ERR wrong number of arguments for '%s' command", cmd->name);
        resp_error(client_out(c), msg);
        return;
    }
    cmd->fn(c, argc, argv, lens);
}
