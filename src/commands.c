/* commands: see commands.h. Replies and errors use Redis's wording. This
 * first table holds the commands `make run` and redis-cli need; the
 * daemon issue brings the rest of DESIGN.md §5. */
#include "commands.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "alerts.h"

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

/* SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL] */
static void cmd_set(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    int flags = 0;
    bool get = false, has_expire = false;
    int64_t expire_at = 0, now = engine_now(client_engine(c));
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
        } else if ((arg_is(a, n, "EX") || arg_is(a, n, "PX") || arg_is(a, n, "EXAT") ||
                    arg_is(a, n, "PXAT")) && !has_expire && !(flags & SESSION_SET_KEEPTTL) &&
                   i + 1 < argc) {
            long long v;
            if (!arg_ll(argv[i + 1], lens[i + 1], &v)) {
                resp_error(client_out(c), "ERR value is not an integer or out of range");
                return;
            }
            bool secs = arg_is(a, n, "EX") || arg_is(a, n, "EXAT");
            bool abs = arg_is(a, n, "EXAT") || arg_is(a, n, "PXAT");
            if (v <= 0 || (secs && v > INT64_MAX / 1000)) {
                resp_error(client_out(c), "ERR invalid expire time in 'set' command");
                return;
            }
            int64_t ms = secs ? v * 1000 : v;
            /* Absolute times are Unix times; the engine's clock is its own. */
            if (abs) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                int64_t unix_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
                expire_at = now + (ms - unix_ms);
                if (expire_at <= 0)
                    expire_at = 1; /* already past: written and gone */
            } else {
                if (ms > INT64_MAX - now) {
                    resp_error(client_out(c), "ERR invalid expire time in 'set' command");
                    return;
                }
                expire_at = now + ms;
            }
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

/* COMMAND and CONFIG GET: enough for redis-cli and redis-benchmark to
 * start (an empty answer); the daemon issue fills them in. */
static void cmd_empty_array(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc, (void)argv, (void)lens;
    resp_array(client_out(c), 0);
}

static int name_cmp(const void *a, const void *b)
{
    const session_t *x = *(session_t *const *)a, *y = *(session_t *const *)b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int r = memcmp(x->name, y->name, n);
    return r ? r : (x->name_len > y->name_len) - (x->name_len < y->name_len);
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
        uint32_t i = 0;
        for (session_t *s = engine_next(e, NULL); s; s = engine_next(e, s))
            all[i++] = s;
        qsort(all, n, sizeof(*all), name_cmp);
        resp_array(client_out(c), n);
        for (i = 0; i < n; i++)
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
    arena_stats_refresh();
    arena_stats(&s->arena, &as);
    int64_t now = engine_now(e);
    const char *strategy = evict_kind_name(s->evict.kind);
    char growth[32];
    snprintf(growth, sizeof(growth), "%.1f", host_session_growth(s));
    resp_map(client_out(c), 15, client_proto(c));
    field_str(c, "name", s->name, s->name_len);
    field_int(c, "bytes", (long long)s->arena.bytes);
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
    field_int(c, "age_seconds", (long long)((now - s->created_ms) / 1000));
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

static const command_t commands[] = {
    {"ping", -1, cmd_ping},     {"echo", 2, cmd_echo},       {"quit", -1, cmd_quit},
    {"select", 2, cmd_select},  {"get", 2, cmd_get},         {"set", -3, cmd_set},
    {"del", -2, cmd_del},       {"unlink", -2, cmd_del},     {"exists", -2, cmd_exists},
    {"dbsize", 1, cmd_dbsize},  {"command", -1, cmd_empty_array},
    {"config", -2, cmd_empty_array}, {"session", -2, cmd_session},
    {"mget", -2, cmd_mget},     {"setnx", 3, cmd_setnx},     {"getset", 3, cmd_getset},
    {"setex", 4, cmd_setex},    {"psetex", 4, cmd_setex},    {"getdel", 2, cmd_getdel},
    {"ttl", 2, cmd_ttl},        {"pttl", 2, cmd_ttl},        {"expire", -3, cmd_expire},
    {"pexpire", -3, cmd_expire}, {"expireat", -3, cmd_expire}, {"pexpireat", -3, cmd_expire},
    {"persist", 2, cmd_persist}, {"incr", 2, cmd_incr},      {"decr", 2, cmd_incr},
    {"incrby", 3, cmd_incr},    {"decrby", 3, cmd_incr},     {"append", 3, cmd_append},
    {"strlen", 2, cmd_strlen},  {"touch", -2, cmd_touch},    {"type", 2, cmd_type},
    {"flushall", -1, cmd_flushall}, {"flushdb", -1, cmd_flushall}, {"time", 1, cmd_time},
    {"policy", -2, cmd_policy}, {"alerts", -1, cmd_alerts},
};

void commands_execute(client_t *c, size_t argc, char **argv, const size_t *lens)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        const command_t *cmd = &commands[i];
        if (!arg_is(argv[0], lens[0], cmd->name))
            continue;
        if ((cmd->arity > 0 && argc != (size_t)cmd->arity) ||
            (cmd->arity < 0 && argc < (size_t)-cmd->arity)) {
            char msg[96];
            snprintf(msg, sizeof(msg), "ERR wrong number of arguments for '%s' command",
                     cmd->name);
            resp_error(client_out(c), msg);
            return;
        }
        cmd->fn(c, argc, argv, lens);
        return;
    }
    char msg[128];
    snprintf(msg, sizeof(msg), "ERR unknown command '%.*s'", (int)(lens[0] < 64 ? lens[0] : 64),
             argv[0]);
    resp_error(client_out(c), msg);
}
