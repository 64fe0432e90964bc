/* conn: see conn.h. */
#include "commands/conn.h"

#include <stdlib.h>
#include <string.h>

#include "commands/pubsub.h"

void conn_init(conn_t *c, service_t *svc, const conn_ops_t *ops)
{
    *c = (conn_t){
        .svc = svc,
        .ops = ops,
        .id = ++svc->next_id,
        .proto = 2,
        .authed = svc->requirepass == NULL,
    };
    resp_parser_init(&c->parser, NULL);
    svc->clients++;
}

void conn_fini(conn_t *c)
{
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
