/* conn: a client connection as commands see it — where its replies go, who
 * it is (id, name, protocol, authentication), what it subscribed to.
 *
 * The transport (net/server.c) embeds a conn in each of its clients and
 * implements conn_ops_t; tests and fuzzers use an in-memory one
 * (memconn.h), so any command runs without a socket. Commands never see the
 * transport. */
#ifndef POLICYD_COMMANDS_CONN_H
#define POLICYD_COMMANDS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "commands/service.h"
#include "proto/resp.h"
#include "util/strset.h"

typedef struct conn conn_t;

/* What a transport does for its connections. */
typedef struct conn_ops {
    /* Replies were appended outside a command (a published message): send
     * them when the transport can. */
    void (*flush)(conn_t *c);
} conn_ops_t;

struct conn {
    resp_buf_t out;          /* replies not yet handed to the transport */
    service_t *svc;
    const conn_ops_t *ops;
    resp_parser_t parser;    /* the command being read */
    char **argv;             /* the command being run (dispatch.c) */
    size_t *lens;
    size_t argv_cap;
    uint64_t id;
    int proto;               /* 2, or 3 after HELLO 3 */
    bool authed;
    bool closing;            /* close once the replies so far are sent */
    char *name;              /* CLIENT SETNAME; NULL if none */
    strset_t channels;       /* subscriptions (pubsub.c) */
    conn_t *sub_prev, *sub_next; /* in svc->subscribers while it has any */
};

/* Opens a connection of `svc`: counted, given the next id, not
 * authenticated when the service has a password. */
void conn_init(conn_t *c, service_t *svc, const conn_ops_t *ops);

/* Ends its subscriptions and frees what it holds; uncounted. */
void conn_fini(conn_t *c);

/* CLIENT SETNAME / HELLO SETNAME: takes a copy; -1 when out of memory. */
int conn_set_name(conn_t *c, const char *name, size_t len);

#endif
