/* service: what every connection's commands act on and share — the engine,
 * the policy runtime, the password — and the figures INFO shows. One per
 * daemon (or per test); the transport fills the settings before the first
 * connection, connections keep the figures (conn.h). */
#ifndef POLICYD_COMMANDS_SERVICE_H
#define POLICYD_COMMANDS_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "core/engine.h"
#include "policy/runtime.h"

struct conn;

typedef struct service {
    engine_t *engine;
    runtime_t *runtime;               /* the policy runtime */
    const char *requirepass;    /* NULL: no AUTH needed */
    int port;                   /* INFO: the TCP port served */
    int64_t started_ms;         /* INFO: the engine's clock at the start */
    size_t clients;             /* connections open */
    uint64_t next_id;           /* CLIENT ID of the last connection */
    struct conn *subscribers;   /* connections with a subscription (pubsub.h) */
} service_t;

/* A service for the engine and runtime, its settings left empty. */
static inline void service_init(service_t *svc, engine_t *e, runtime_t *h)
{
    *svc = (service_t){.engine = e, .runtime = h, .started_ms = engine_now(e)};
}

#endif
