/* server: the daemon's transport on libuv. TCP (and unix socket)
 * connections feed the commands floor (commands/dispatch.h) with what they
 * read; the replies of one read are written together. A client over its
 * query or output limit, or one that sends a protocol error, is
 * disconnected; no other client notices. Each client is a conn_t
 * (commands/conn.h) the server implements. */
#ifndef POLICYD_NET_SERVER_H
#define POLICYD_NET_SERVER_H

#include <stddef.h>

#include <uv.h>

#include "commands/service.h"

typedef struct server server_t;

typedef struct server_config {
    const char *bind;      /* default 127.0.0.1 */
    int port;              /* default 7379 */
    size_t max_clients;    /* default 10,000 */
    size_t max_query;      /* bytes of unparsed input per client; 1 GiB */
    const char *unixsocket; /* also listen on this path; NULL: no */
} server_config_t;

/* Listens on cfg's address and serves the service's commands. NULL with a
 * message in err. */
server_t *server_create(uv_loop_t *loop, service_t *svc, const server_config_t *cfg, char *err,
                        size_t errlen);

/* Stops accepting and closes every client once its replies are sent; the
 * loop ends when the last handle is closed. */
void server_close(server_t *s);

/* Closes every client still open at once, sent or not (a shutdown that
 * waited long enough); returns how many. */
size_t server_cut(server_t *s);

/* Frees the server after the loop has ended. */
void server_free(server_t *s);

#endif
