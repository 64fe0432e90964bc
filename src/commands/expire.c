/* expire: EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL PERSIST, and the
 * expiry options SET and GETEX share (EX PX EXAT PXAT). Expiry times are
 * absolute on the engine's clock; Unix times are converted on the way in. */
#include <stdint.h>
#include <stdio.h>

#include "commands/command.h"
#include "util/time.h"

bool expire_is_option(const char *a, size_t n)
{
    return arg_is(a, n, "EX") || arg_is(a, n, "PX") || arg_is(a, n, "EXAT") ||
           arg_is(a, n, "PXAT");
}

bool expire_parse_option(conn_t *c, const char *unit, size_t ulen, const char *arg,
                         size_t alen, const char *cmd, int64_t *at)
{
    long long v;
    if (!arg_ll(arg, alen, &v)) {
        resp_error(&c->out, "ERR value is not an integer or out of range");
        return false;
    }
    bool secs = arg_is(unit, ulen, "EX") || arg_is(unit, ulen, "EXAT");
    bool abs = arg_is(unit, ulen, "EXAT") || arg_is(unit, ulen, "PXAT");
    int64_t now = engine_now(c->svc->engine);
    int64_t ms = secs && v > 0 && v <= INT64_MAX / 1000 ? v * 1000 : v;
    char msg[64];
    snprintf(msg, sizeof(msg), "ERR invalid expire time in '%s' command", cmd);
    if (v <= 0 || (secs && v > INT64_MAX / 1000)) {
        resp_error(&c->out, msg);
        return false;
    }
    if (abs) /* Unix times; the engine's clock is its own */
        ms -= time_unix_ms();
    if (ms > INT64_MAX - now) {
        resp_error(&c->out, msg);
        return false;
    }
    *at = now + ms > 0 ? now + ms : 1;
    return true;
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
    bool secs = arg_is(argv[0], lens[0], "EXPIRE") || arg_is(argv[0], lens[0], "EXPIREAT");
    bool abs = arg_is(argv[0], lens[0], "EXPIREAT") || arg_is(argv[0], lens[0], "PEXPIREAT");
    int64_t now = engine_now(c->svc->engine);
    if (secs && (v > INT64_MAX / 1000 || v < INT64_MIN / 1000)) {
        resp_error(&c->out, "ERR invalid expire time in 'expire' command");
        return;
    }
    int64_t ms = secs ? v * 1000 : v;
    if (abs)
        ms -= time_unix_ms();
    if (ms > INT64_MAX - now) {
        resp_error(&c->out, "ERR invalid expire time in 'expire' command");
        return;
    }
    session_t *s = read_session(c, argv[1], lens[1]);
    pd_status st = s ? session_expire_at(s, argv[1], lens[1], now + ms) : PD_NOTFOUND;
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
