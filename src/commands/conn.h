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
    /* Replies were appended (a published message, or a long pipeline's):
     * send what the transport can now. */
    void (*flush)(conn_t *c);
    /* Close at once, dropping unsent replies: the connection went over a
     * memory limit. conn_fini follows when the transport is done with it. */
    void (*cut)(conn_t *c);
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
    size_t queued;           /* transport: reply bytes taken, not yet sent */
    size_t query_cap;        /* transport: its query buffer's size */
    size_t mem;              /* what the service counts: out.cap + queued +
                              * query_cap, as of the last conn_account */
    int size_class;          /* its list in svc->by_size, -1 none */
    conn_t *size_prev, *size_next;
    bool cut;                /* cut for memory: closing, replies dropped */
};

/* Opens a connection of `svc`: counted, given the next id, not
 * authenticated when the service has a password. */
void conn_init(conn_t *c, service_t *svc, const conn_ops_t *ops);

/* Ends its subscriptions and frees what it holds; uncounted. */
void conn_fini(conn_t *c);

/* Counts the connection's memory again (after its replies, queued or
 * query_cap changed); past the service's clients_limit, cuts the
 * connections holding the most, maybe this one, until under it. */
void conn_account(conn_t *c);

/* Cuts the connection: uncounted, marked, and the transport's cut op. */
void conn_cut(conn_t *c);

/* After AUTH: the full protocol limits instead of the unauthenticated ones. */
void conn_authenticate(conn_t *c);

/* CLIENT SETNAME / HELLO SETNAME: takes a copy; -1 when out of memory. */
int conn_set_name(conn_t *c, const char *name, size_t len);

#endif
