/* memconn: a connection in memory — bytes in as one read would bring them,
 * replies out in conn.out — for tests and fuzzers: any command runs without
 * a socket, through the same dispatch as the daemon's. */
#ifndef POLICYD_COMMANDS_MEMCONN_H
#define POLICYD_COMMANDS_MEMCONN_H

#include <stddef.h>

#include "commands/conn.h"

typedef struct memconn {
    conn_t conn;        /* replies accumulate in conn.out */
    char *in;           /* input not yet consumed (an incomplete command) */
    size_t in_len, in_cap;
    unsigned flushes;   /* times replies asked to be sent early */
    unsigned cuts;      /* times the connection was cut for memory */
} memconn_t;

void memconn_open(memconn_t *m, service_t *svc);
void memconn_close(memconn_t *m);

/* Appends the bytes to the input and runs every complete command in it,
 * then counts the connection's memory (conn_account). Returns 0, or -1 when
 * out of memory. After a protocol error or QUIT, m->conn.closing is set and
 * further input is kept, not run; after a cut, m->conn.cut too. */
int memconn_feed(memconn_t *m, const void *data, size_t len);

#endif
