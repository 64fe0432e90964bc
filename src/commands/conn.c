/* conn: see conn.h. */
#include "commands/conn.h"

#include <stdlib.h>
#include <string.h>

#include "commands/pubsub.h"

/* The protocol limits of a connection: Redis 7's small ones until it has
 * authenticated, so an unauthenticated client cannot make the server hold
 * much. */
static resp_limits_t limits_for(const conn_t *c)
{
    if (c->authed)
        return (resp_limits_t){.max_bulk = c->svc->max_bulk};
    return (resp_limits_t){.max_bulk = RESP_UNAUTH_BULK, .max_args = RESP_UNAUTH_ARGS,
                           .unauthenticated = 1};
}

void conn_init(conn_t *c, service_t *svc, const conn_ops_t *ops)
{
    *c = (conn_t){
        .svc = svc,
        .ops = ops,
        .id = ++svc->next_id,
        .proto = 2,
        .authed = svc->requirepass == NULL,
        .size_class = -1,
    };
    resp_limits_t limits = limits_for(c);
    resp_parser_init(&c->parser, &limits);
    svc->clients++;
}

void conn_authenticate(conn_t *c)
{
    c->authed = true;
    resp_limits_t limits = limits_for(c);
    resp_parser_limit(&c->parser, &limits);
}

static int size_class_of(size_t mem)
{
    return mem ? 63 - __builtin_clzll((unsigned long long)mem) : -1;
}

static void size_unlink(conn_t *c)
{
    if (c->size_class < 0)
        return;
    if (c->size_prev)
        c->size_prev->size_next = c->size_next;
    else
        c->svc->by_size[c->size_class] = c->size_next;
    if (c->size_next)
        c->size_next->size_prev = c->size_prev;
    c->size_prev = c->size_next = NULL;
    c->size_class = -1;
}

static void uncount(conn_t *c)
{
    size_unlink(c);
    c->svc->clients_bytes -= c->mem;
    c->mem = 0;
}

/* A connection in the highest size class: within a factor 2 of the one
 * holding the most. */
static conn_t *largest(const service_t *svc)
{
    for (int k = SERVICE_SIZE_CLASSES - 1; k >= 0; k--)
        if (svc->by_size[k])
            return svc->by_size[k];
    return NULL;
}

void conn_cut(conn_t *c)
{
    if (c->cut)
        return;
    uncount(c);
    c->cut = true;
    c->closing = true;
    c->svc->clients_cut++;
    c->ops->cut(c);
}

void conn_account(conn_t *c)
{
    if (c->cut)
        return;
    service_t *svc = c->svc;
    size_t mem = c->out.cap + c->queued + c->query_cap;
    int k = size_class_of(mem);
    if (k != c->size_class) {
        size_unlink(c);
        if (k >= 0) {
            c->size_class = k;
            c->size_next = svc->by_size[k];
            if (c->size_next)
                c->size_next->size_prev = c;
            svc->by_size[k] = c;
        }
    }
    svc->clients_bytes = svc->clients_bytes - c->mem + mem;
    c->mem = mem;
    while (svc->clients_limit && svc->clients_bytes > svc->clients_limit) {
        conn_t *victim = largest(svc);
        if (!victim)
            break;
        conn_cut(victim);
    }
}

void conn_fini(conn_t *c)
{
    if (!c->cut)
        uncount(c);
    pubsub_unsubscribe_all(c);
    resp_parser_free(&c->parser);
    resp_buf_free(&c->out);
    free(c->argv);
    free(c->lens);
    free(c->name);
    c->svc->clients--;
}

int conn_set_name(conn_t *c, const char *name, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, name, len);
    copy[len] = '\0';
    free(c->name);
    c->name = copy;
    return 0;
}
