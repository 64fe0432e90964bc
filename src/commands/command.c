/* command: the helpers of command.h. */
#include "commands/command.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool arg_is(const char *arg, size_t len, const char *word)
{
    return strlen(word) == len && strncasecmp(arg, word, len) == 0;
}

bool arg_ll(const char *arg, size_t len, long long *out)
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

void reply_status_error(conn_t *c, pd_status st)
{
    char msg[600];
    switch (st) {
    case PD_TOOBIG:
    case PD_SYSFULL:
    case PD_DENIED:
    case PD_NOSESSION:
    case PD_REFUSED:
    case PD_NOMEM:
        snprintf(msg, sizeof(msg), "OOM %s", pd_strerror(st));
        break;
    case PD_POLICYERR:
        snprintf(msg, sizeof(msg), "ERR policy: %.580s", runtime_refusal(c->svc->runtime));
        break;
    case PD_BADNAME:
        snprintf(msg, sizeof(msg), "ERR %s: a key's session (the text inside {...}, or "
                 "before the first ':') is at most %u bytes", pd_strerror(st),
                 engine_max_name(c->svc->engine));
        break;
    default:
        snprintf(msg, sizeof(msg), "ERR %s", pd_strerror(st));
        break;
    }
    resp_error(&c->out, msg);
}

void reply_field_int(conn_t *c, const char *name, long long v)
{
    resp_bulk(&c->out, name, strlen(name));
    resp_integer(&c->out, v);
}

void reply_field_str(conn_t *c, const char *name, const char *v, size_t len)
{
    resp_bulk(&c->out, name, strlen(name));
    resp_bulk(&c->out, v, len);
}
