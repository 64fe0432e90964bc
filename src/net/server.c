/* server: see server.h. */
#include "net/server.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands/conn.h"
#include "commands/dispatch.h"

#define DEFAULT_MAX_CLIENTS 10000
#define DEFAULT_MAX_QUERY (1u << 30)
#define READ_CHUNK (16u << 10)
#define OUT_KEEP (16u << 10)
/* A query buffer over this size is shrunk back once it is mostly empty:
 * ten idle clients that once sent 30 MiB must not keep 300 MiB. */
#define QUERY_KEEP (4 * READ_CHUNK)

typedef struct client client_t;

struct server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_pipe_t unix_listener;
    bool has_unix;
    service_t *svc;
    server_config_t cfg;
    client_t *all;     /* a list, to close them all on shutdown */
    bool closing;
};

/* A client is a conn (commands/conn.h) with a socket: conn first, so the
 * commands floor's conn_t * is the client's address. */
struct client {
    conn_t conn;       /* replies not handed to libuv yet: conn.out */
    union {
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } handle;
    server_t *srv;
    client_t *prev, *next;
    char *query;       /* unparsed input */
    size_t qlen, qcap;
};

typedef struct write_req {
    uv_write_t req;
    resp_buf_t buf;
} write_req_t;

static void on_closed(uv_handle_t *h)
{
    client_t *c = h->data;
    server_t *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->all = c->next;
    if (c->next)
        c->next->prev = c->prev;
    conn_fini(&c->conn);
    free(c->query);
    free(c);
}

static void client_drop(client_t *c)
{
    if (uv_is_closing((uv_handle_t *)&c->handle))
        return;
    c->conn.closing = true;
    uv_read_stop((uv_stream_t *)&c->handle);
    uv_close((uv_handle_t *)&c->handle, on_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    client_drop(req->handle->data);
    free(req);
}

/* Closes once everything handed to libuv is written. */
static void client_finish(client_t *c)
{
    if (uv_is_closing((uv_handle_t *)&c->handle))
        return;
    uv_read_stop((uv_stream_t *)&c->handle);
    uv_shutdown_t *req = malloc(sizeof(*req));
    if (!req || uv_shutdown(req, (uv_stream_t *)&c->handle, on_shutdown) != 0) {
        free(req);
        client_drop(c);
    }
}

static void on_written(uv_write_t *req, int status)
{
    write_req_t *w = (write_req_t *)req;
    client_t *c = req->handle->data;
    c->conn.queued -= w->buf.len;
    resp_buf_free(&w->buf);
    free(w);
    if (status < 0)
        client_drop(c);
    else
        conn_account(&c->conn);
}

/* Writes the replies so far. Most fit the socket buffer and go out at once
 * with uv_try_write: no request, no copy, and no epoll_ctl (libuv re-arms
 * the watcher after every queued write, one more syscall per reply). What
 * the socket does not take is handed to libuv to write when it can. */
static void flush(client_t *c)
{
    if (c->conn.out.len == 0 || uv_is_closing((uv_handle_t *)&c->handle))
        return;
    /* libuv's buffer lengths are unsigned ints: replies past 4 GiB in one
     * batch (nine GETs of a 512 MiB value) are past any output limit. */
    if (c->conn.out.len > UINT_MAX) {
        client_drop(c);
        return;
    }
    if (c->conn.queued == 0) {
        uv_buf_t b = uv_buf_init(c->conn.out.data, (unsigned)c->conn.out.len);
        int n = uv_try_write((uv_stream_t *)&c->handle, &b, 1);
        if (n < 0 && n != UV_EAGAIN) {
            client_drop(c);
            return;
        }
        if (n > 0) {
            memmove(c->conn.out.data, c->conn.out.data + n, c->conn.out.len - (size_t)n);
            c->conn.out.len -= (size_t)n;
        }
        if (c->conn.out.len == 0) {
            /* Keep a small buffer for the next reply; give a big one back. */
            if (c->conn.out.cap > OUT_KEEP)
                resp_buf_free(&c->conn.out);
            return;
        }
    }
    write_req_t *w = malloc(sizeof(*w));
    if (!w) {
        client_drop(c);
        return;
    }
    w->buf = c->conn.out;
    c->conn.out = (resp_buf_t){0};
    c->conn.queued += w->buf.len;
    uv_buf_t b = uv_buf_init(w->buf.data, (unsigned)w->buf.len);
    if (uv_write(&w->req, (uv_stream_t *)&c->handle, &b, 1, on_written) != 0) {
        c->conn.queued -= w->buf.len;
        resp_buf_free(&w->buf);
        free(w);
        client_drop(c);
    }
}

/* Gives back a query buffer a large command grew, once it is mostly
 * empty (optional: on failure the room is kept). */
static void shrink_query(client_t *c)
{
    if (c->qcap <= QUERY_KEEP || c->qlen > c->qcap / 4 || c->qlen > QUERY_KEEP / 2)
        return;
    char *q = realloc(c->query, QUERY_KEEP);
    if (q) {
        c->query = q;
        c->qcap = QUERY_KEEP;
    }
}

/* Runs what a read brought, then writes the replies of all of it. */
static void process(client_t *c)
{
    size_t off = dispatch_input(&c->conn, c->query, c->qlen);
    if (c->conn.cut) /* over a memory limit: dropped, replies and all */
        return;
    memmove(c->query, c->query + off, c->qlen - off);
    c->qlen -= off;
    if (c->qlen > c->srv->cfg.max_query || c->conn.parser.need > c->srv->cfg.max_query) {
        c->conn.out.limit = 0;
        resp_error(&c->conn.out, "ERR Protocol error: query buffer over its limit");
        c->conn.closing = true;
    }
    shrink_query(c);
    flush(c);
    c->conn.query_cap = c->qcap;
    conn_account(&c->conn);
    if (c->conn.closing && !c->conn.cut)
        client_finish(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    client_t *c = h->data;
    /* Room for a read; for an argument whose length is announced, room for
     * all of it at once, not twice it (the query buffer doubles otherwise). */
    size_t need = c->conn.parser.need, want = c->qlen + READ_CHUNK;
    if (need > c->srv->cfg.max_query)
        need = 0; /* refused once this read is processed */
    if (c->qcap - c->qlen < READ_CHUNK || need > c->qcap) {
        size_t cap = c->qcap ? c->qcap * 2 : 2 * READ_CHUNK;
        if (cap < want)
            cap = want;
        if (need > want)
            cap = need;
        /* No read may bring more than the limit past what is held: a whole
         * command over it must show as unparsed input, never run. */
        if (cap > c->srv->cfg.max_query + READ_CHUNK)
            cap = c->srv->cfg.max_query + READ_CHUNK;
        char *q = realloc(c->query, cap);
        if (!q) {
            *buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS */
            return;
        }
        c->query = q;
        c->qcap = cap;
    }
    *buf = uv_buf_init(c->query + c->qlen, (unsigned)(c->qcap - c->qlen));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    client_t *c = stream->data;
    if (nread < 0) {
        client_drop(c);
        return;
    }
    c->qlen += (size_t)nread;
    process(c);
}

/* conn_ops: replies appended outside a read's end go out now. */
static void flush_conn(conn_t *c)
{
    flush((client_t *)c);
}

/* conn_ops: over a memory limit, the client goes at once. */
static void cut_conn(conn_t *c)
{
    client_drop((client_t *)c);
}

static const conn_ops_t client_ops = {.flush = flush_conn, .cut = cut_conn};

static void on_connection(uv_stream_t *listener, int status)
{
    server_t *s = listener->data;
    if (status < 0)
        return;
    client_t *c = calloc(1, sizeof(*c));
    bool unix_client = listener == (uv_stream_t *)&s->unix_listener;
    if (!c || (unix_client ? uv_pipe_init(s->loop, &c->handle.pipe, 0)
                           : uv_tcp_init(s->loop, &c->handle.tcp)) != 0) {
        free(c);
        return;
    }
    conn_init(&c->conn, s->svc, &client_ops);
    c->handle.tcp.data = c;
    c->srv = s;
    c->next = s->all;
    if (s->all)
        s->all->prev = c;
    s->all = c;
    if (uv_accept(listener, (uv_stream_t *)&c->handle) != 0) {
        client_drop(c);
        return;
    }
    if (s->svc->clients > s->cfg.max_clients) {
        resp_error(&c->conn.out, "ERR max number of clients reached");
        flush(c);
        client_finish(c);
        return;
    }
    if (!unix_client)
        uv_tcp_nodelay(&c->handle.tcp, 1);
    uv_read_start((uv_stream_t *)&c->handle, on_alloc, on_read);
}

server_t *server_create(uv_loop_t *loop, service_t *svc, const server_config_t *cfg, char *err,
                        size_t errlen)
{
    server_t *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->loop = loop;
    s->svc = svc;
    s->cfg = *cfg;
    if (!s->cfg.bind)
        s->cfg.bind = "127.0.0.1";
    if (!s->cfg.port)
        s->cfg.port = 7379;
    if (!s->cfg.max_clients)
        s->cfg.max_clients = DEFAULT_MAX_CLIENTS;
    if (!s->cfg.max_query)
        s->cfg.max_query = DEFAULT_MAX_QUERY;
    struct sockaddr_storage addr;
    int rc = uv_ip4_addr(s->cfg.bind, s->cfg.port, (struct sockaddr_in *)&addr);
    if (rc != 0)
        rc = uv_ip6_addr(s->cfg.bind, s->cfg.port, (struct sockaddr_in6 *)&addr);
    if (rc == 0)
        rc = uv_tcp_init(loop, &s->listener);
    if (rc == 0) {
        s->listener.data = s;
        rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&addr, 0);
        if (rc == 0)
            rc = uv_listen((uv_stream_t *)&s->listener, 511, on_connection);
        if (rc != 0)
            uv_close((uv_handle_t *)&s->listener, NULL);
    }
    if (rc == 0 && s->cfg.unixsocket) {
        unlink(s->cfg.unixsocket); /* a stale socket of an earlier run */
        rc = uv_pipe_init(loop, &s->unix_listener, 0);
        if (rc == 0) {
            s->unix_listener.data = s;
            s->has_unix = true;
            rc = uv_pipe_bind(&s->unix_listener, s->cfg.unixsocket);
            if (rc == 0)
                rc = uv_listen((uv_stream_t *)&s->unix_listener, 511, on_connection);
        }
        if (rc != 0) {
            snprintf(err, errlen, "cannot listen on %s: %s", s->cfg.unixsocket, uv_strerror(rc));
            if (s->has_unix)
                uv_close((uv_handle_t *)&s->unix_listener, NULL);
            uv_close((uv_handle_t *)&s->listener, NULL);
            uv_run(loop, UV_RUN_NOWAIT);
            free(s);
            return NULL;
        }
    }
    if (rc != 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", s->cfg.bind, s->cfg.port,
                 uv_strerror(rc));
        if (uv_is_closing((uv_handle_t *)&s->listener))
            uv_run(loop, UV_RUN_NOWAIT); /* let the close complete */
        free(s);
        return NULL;
    }
    return s;
}

void server_close(server_t *s)
{
    if (s->closing)
        return;
    s->closing = true;
    uv_close((uv_handle_t *)&s->listener, NULL);
    if (s->has_unix) {
        uv_close((uv_handle_t *)&s->unix_listener, NULL);
        unlink(s->cfg.unixsocket);
    }
    for (client_t *c = s->all; c; c = c->next) {
        flush(c);
        client_finish(c);
    }
}

size_t server_cut(server_t *s)
{
    size_t n = 0;
    for (client_t *c = s->all; c; c = c->next) {
        if (!uv_is_closing((uv_handle_t *)&c->handle))
            n++;
        client_drop(c);
    }
    return n;
}

void server_free(server_t *s)
{
    free(s);
}
