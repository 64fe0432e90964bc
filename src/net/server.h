/* server: the daemon's network side on libuv. TCP connections feed the
 * RESP parser; each complete command runs on the loop (commands.c); the
 * replies of one read are written together. A client over its query or
 * output limit, or one that sends a protocol error, is disconnected; no
 * other client notices. */
#ifndef POLICYD_SERVER_H
#define POLICYD_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "core/engine.h"
#include "policy/host.h"
#include "proto/resp.h"

typedef struct server server_t;
typedef struct client client_t;

typedef struct server_config {
    const char *bind;      /* default 127.0.0.1 */
    int port;              /* default 7379 */
    size_t max_clients;    /* default 10,000 */
    size_t max_query;      /* bytes of unparsed input per client; 64 MiB */
    size_t max_output;     /* bytes of unsent replies per client; 64 MiB */
    const char *requirepass; /* NULL: no AUTH needed */
    const char *unixsocket;  /* also listen on this path; NULL: no */
} server_config_t;

/* Listens on cfg's address. NULL with a message in err. */
server_t *server_create(uv_loop_t *loop, engine_t *e, host_t *h, const server_config_t *cfg,
                        char *err, size_t errlen);

/* Stops accepting and closes every client once its replies are sent; the
 * loop ends when the last handle is closed. */
void server_close(server_t *s);

/* Frees the server after the loop has ended. */
void server_free(server_t *s);

/* For commands: where replies go, and the connection's state. */
resp_buf_t *client_out(client_t *c);
int client_proto(const client_t *c);
engine_t *client_engine(const client_t *c);
host_t *client_host(const client_t *c);
/* Sends what is written so far, then closes (QUIT, protocol errors). */
void client_close_after_reply(client_t *c);

/* HELLO and CLIENT: protocol version, id, name (NULL if none). */
void client_set_proto(client_t *c, int proto);
uint64_t client_id(const client_t *c);
const char *client_name(const client_t *c);
/* Takes a copy; returns -1 when out of memory. */
int client_set_name(client_t *c, const char *name, size_t len);

/* AUTH: the password (NULL when none is set), and whether this client
 * has given it (always true without a password). */
const char *client_requirepass(const client_t *c);
bool client_authed(const client_t *c);
void client_set_authed(client_t *c);

/* Pub/sub: the channels a client is subscribed to. Alerts go out on
 * SERVER_ALERTS_CHANNEL as JSON (there is no PUBLISH). */
#define SERVER_ALERTS_CHANNEL "policyd:alerts"
size_t client_subscriptions(const client_t *c);
/* Subscribes (1), or 0 if already subscribed, -1 when out of memory. */
int client_subscribe(client_t *c, const char *channel, size_t len);
/* Unsubscribes: 1, or 0 if it was not subscribed. */
int client_unsubscribe(client_t *c, const char *channel, size_t len);
/* The i-th channel (for UNSUBSCRIBE without arguments). */
const char *client_channel(const client_t *c, size_t i);

/* Figures for INFO. */
size_t server_clients(const server_t *s);
server_t *client_server(const client_t *c);
int server_port(const server_t *s);
int64_t server_started_ms(const server_t *s);

#endif
