/* expire: EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL PERSIST, and the one
 * conversion of an expiry argument every command uses (SET's and GETEX's
 * EX PX EXAT PXAT, SETEX, PSETEX). Expiry times are absolute on the
 * engine's clock; Unix times are converted on the way in. */
#include <stdint.h>
#include <stdio.h>

#include "commands/command.h"
#include "util/time.h"

bool expire_is_option(const char *a, size_t n)
{
    return arg_is(a, n, "EX") || arg_is(a, n, "PX") || arg_is(a, n, "EXAT") ||
           arg_is(a, n, "PXAT");
}

bool expire_time(conn_t *c, long long v, int how, const char *cmd, int64_t *at)
{
    int64_t now = engine_now(c->svc->engine);
    int64_t ms = v;
    if ((how & EXPIRE_POSITIVE) && v <= 0)
        goto invalid;
    if (how & EXPIRE_SECONDS) {
        if (v > INT64_MAX / 1000 || v < INT64_MIN / 1000)
            goto invalid;
        ms = v * 1000;
    }
    if (how & EXPIRE_UNIX) {
        /* From Unix time to the engine's clock, saturating: a time before
         * the engine's range has passed, one after it never comes. */
        int64_t ahead;
        if (__builtin_sub_overflow(ms, time_unix_ms(), &ahead))
            ahead = INT64_MIN;
        if (__builtin_add_overflow(now, ahead, at))
            *at = ahead < 0 ? INT64_MIN : INT64_MAX;
    } else if (__builtin_add_overflow(now, ms, at)) {
        goto invalid;
    }
    if ((how & EXPIRE_POSITIVE) && *at < 1)
        *at = 1; /* already past, but 0 would mean no expiry at all */
    return true;
invalid: {
        char msg[64];
        snprintf(msg, sizeof(msg), "ERR invalid expire time in '%s' command", cmd);
        resp_error(&c->out, msg);
        return false;
    }
}

bool expire_parse_option(conn_t *c, const char *unit, size_t ulen, const char *arg,
                         size_t alen, const char *cmd, int64_t *at)
{
    long long v;
    if (!arg_ll(arg, alen, &v)) {
        resp_error(&c->out, "ERR value is not an integer or out of range");
        return false;
    }
    int how = EXPIRE_POSITIVE;
    if (arg_is(unit, ulen, "EX") || arg_is(unit, ulen, "EXAT"))
        how |= EXPIRE_SECONDS;
    if (arg_is(unit, ulen, "EXAT") || arg_is(unit, ulen, "PXAT"))
        how |= EXPIRE_UNIX;
    return expire_time(c, v, how, cmd, at);
}

static void cmd_ttl(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    session_t *s = read_session(c, argv[1], lens[1]);
    int64_t ms = s ? session_pttl(s, argv[1], lens[1]) : SESSION_TTL_MISSING;
    if (ms >= 0 && arg_is(argv[0], lens[0], "TTL"))
        ms = (ms + 500) / 1000;
    resp_integer(&c->out, ms);
}

/* EXPIRE key s, PEXPIRE key ms, EXPIREAT key unix-s, PEXPIREAT key unix-ms */
static void cmd_expire(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    if (argc != 3) {
        resp_error(&c->out, "ERR syntax error");
        return;
    }
    long long v;
    if (!arg_ll(argv[2], lens[2], &v)) {
        resp_error(&c->out, "ERR value is not an integer or out of range");
        return;
    }
    int how = 0;
    if (arg_is(argv[0], lens[0], "EXPIRE") || arg_is(argv[0], lens[0], "EXPIREAT"))
        how |= EXPIRE_SECONDS;
    if (arg_is(argv[0], lens[0], "EXPIREAT") || arg_is(argv[0], lens[0], "PEXPIREAT"))
        how |= EXPIRE_UNIX;
    static const char *const names[] = {"pexpire", "expire", "pexpireat", "expireat"};
    int64_t at;
    if (!expire_time(c, v, how, names[how], &at))
        return;
    session_t *s = read_session(c, argv[1], lens[1]);
    pd_status st = s ? session_expire_at(s, argv[1], lens[1], at) : PD_NOTFOUND;
    if (st == PD_OK || st == PD_NOTFOUND)
        resp_integer(&c->out, st == PD_OK);
    else
        reply_status_error(c, st);
}

static void cmd_persist(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    session_t *s = read_session(c, argv[1], lens[1]);
    pd_status st = s ? session_persist(s, argv[1], lens[1]) : PD_NOTFOUND;
    if (st == PD_OK || st == PD_NOTFOUND || st == PD_NOTSET)
        resp_integer(&c->out, st == PD_OK);
    else
        reply_status_error(c, st);
}

const command_t expire_commands[] = {
    {"ttl", 2, cmd_ttl},          {"pttl", 2, cmd_ttl},
    {"expire", -3, cmd_expire},   {"pexpire", -3, cmd_expire},
    {"expireat", -3, cmd_expire}, {"pexpireat", -3, cmd_expire},
    {"persist", 2, cmd_persist},  {NULL, 0, NULL},
};
