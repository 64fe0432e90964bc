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
#include "proto/resp.h"

struct conn;

/* Defaults of the limits below. */
#define SERVICE_OUTPUT_LIMIT (64u << 20)
#define SERVICE_CLIENTS_LIMIT (1u << 30)

/* Connections grouped by the log2 of the memory they hold. */
#define SERVICE_SIZE_CLASSES 64

typedef struct service {
    engine_t *engine;
    runtime_t *runtime;         /* the policy runtime */
    const char *requirepass;    /* NULL: no AUTH needed */
    const char *policy_dir;     /* POLICY RELOAD path: under this resolved
                                 * directory only; NULL: no path accepted */
    int port;                   /* INFO: the TCP port served */
    int64_t started_ms;         /* INFO: the engine's clock at the start */
    size_t max_bulk;            /* the longest argument and value (bytes) */
    size_t output_limit;        /* a connection's unsent replies, beyond one
                                 * whole reply (bytes; 0 = none) */
    size_t clients_limit;       /* all connections' memory together (bytes;
                                 * 0 = none): the largest are cut past it */
    size_t clients;             /* connections open */
    uint64_t next_id;           /* CLIENT ID of the last connection */
    struct conn *subscribers;   /* connections with a subscription (pubsub.h) */
    size_t clients_bytes;       /* the memory connections hold (conn_account) */
    uint64_t clients_cut;       /* connections cut for their memory */
    struct conn *by_size[SERVICE_SIZE_CLASSES]; /* by log2 of their memory */
} service_t;

/* A service for the engine and runtime, with the default limits and the
 * other settings left empty. */
static inline void service_init(service_t *svc, engine_t *e, runtime_t *rt)
{
    *svc = (service_t){
        .engine = e,
        .runtime = rt,
        .started_ms = engine_now(e),
        .max_bulk = RESP_MAX_BULK,
        .output_limit = SERVICE_OUTPUT_LIMIT,
        .clients_limit = SERVICE_CLIENTS_LIMIT,
    };
}

#endif
