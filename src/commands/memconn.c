/* memconn: see memconn.h. */
#include "commands/memconn.h"

#include <stdlib.h>
#include <string.h>

#include "commands/dispatch.h"

static void count_flush(conn_t *c)
{
    ((memconn_t *)c)->flushes++;
}

static void count_cut(conn_t *c)
{
    ((memconn_t *)c)->cuts++;
}

static const conn_ops_t memconn_ops = {.flush = count_flush, .cut = count_cut};

void memconn_open(memconn_t *m, service_t *svc)
{
    *m = (memconn_t){0};
    conn_init(&m->conn, svc, &memconn_ops);
}

void memconn_close(memconn_t *m)
{
    conn_fini(&m->conn);
    free(m->in);
    m->in = NULL;
}

int memconn_feed(memconn_t *m, const void *data, size_t len)
{
    if (len == 0)
        return 0;
    if (len > m->in_cap - m->in_len) {
        size_t cap = m->in_cap ? m->in_cap : 256;
        while (cap < m->in_len + len)
            cap *= 2;
        char *in = realloc(m->in, cap);
        if (!in)
            return -1;
        m->in = in;
        m->in_cap = cap;
    }
    memcpy(m->in + m->in_len, data, len);
    m->in_len += len;
    size_t used = dispatch_input(&m->conn, m->in, m->in_len);
    memmove(m->in, m->in + used, m->in_len - used);
    m->in_len -= used;
    m->conn.query_cap = m->in_cap;
    conn_account(&m->conn);
    return 0;
}
