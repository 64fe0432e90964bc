/* server: see server.h. */
#include "net/server.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands/commands.h"
#include "util/log.h"

#define DEFAULT_MAX_CLIENTS 10000
#define DEFAULT_MAX_QUERY (64u << 20)
#define DEFAULT_MAX_OUTPUT (64u << 20)
#define READ_CHUNK (16u << 10)
#define OUT_KEEP (16u << 10)

struct server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_pipe_t unix_listener;
    bool has_unix;
    engine_t *engine;
    host_t *host;
    server_config_t cfg;
    size_t clients;
    client_t *all;     /* a list, to close them all on shutdown */
    bool closing;
    uint64_t next_id;
    int64_t started_ms;
};

struct client {
    union {
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } handle;
    server_t *srv;
    client_t *prev, *next;
    char *query;       /* unparsed input */
    size_t qlen, qcap;
    resp_parser_t parser;
    char **argv;       /* the command being run */
    size_t *lens;
    size_t argv_cap;
    resp_buf_t out;    /* replies not handed to libuv yet */
    size_t pending;    /* bytes handed to libuv, not yet written */
    int proto;
    bool closing;
    uint64_t id;
    char *name;
    bool authed;
    char **channels;   /* subscribed */
    size_t nchannels;
};

typedef struct write_req {
    uv_write_t req;
    resp_buf_t buf;
} write_req_t;

resp_buf_t *client_out(client_t *c) { return &c->out; }
void client_set_proto(client_t *c, int proto) { c->proto = proto; }
size_t client_subscriptions(const client_t *c) { return c->nchannels; }
const char *client_channel(const client_t *c, size_t i) { return c->channels[i]; }

static ssize_t channel_index(const client_t *c, const char *channel, size_t len)
{
    for (size_t i = 0; i < c->nchannels; i++)
        if (strlen(c->channels[i]) == len && memcmp(c->channels[i], channel, len) == 0)
            return (ssize_t)i;
    return -1;
}

int client_subscribe(client_t *c, const char *channel, size_t len)
{
    if (channel_index(c, channel, len) >= 0)
        return 0;
    char **channels = realloc(c->channels, (c->nchannels + 1) * sizeof(*channels));
    if (!channels)
        return -1;
    c->channels = channels;
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, channel, len);
    copy[len] = '\0';
    c->channels[c->nchannels++] = copy;
    return 1;
}

int client_unsubscribe(client_t *c, const char *channel, size_t len)
{
    ssize_t i = channel_index(c, channel, len);
    if (i < 0)
        return 0;
    free(c->channels[i]);
    c->channels[i] = c->channels[--c->nchannels];
    return 1;
}
const char *client_requirepass(const client_t *c) { return c->srv->cfg.requirepass; }
bool client_authed(const client_t *c) { return c->authed; }
void client_set_authed(client_t *c) { c->authed = true; }
uint64_t client_id(const client_t *c) { return c->id; }
const char *client_name(const client_t *c) { return c->name; }
server_t *client_server(const client_t *c) { return c->srv; }
size_t server_clients(const server_t *s) { return s->clients; }
int server_port(const server_t *s) { return s->cfg.port; }
int64_t server_started_ms(const server_t *s) { return s->started_ms; }

int client_set_name(client_t *c, const char *name, size_t len)
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
int client_proto(const client_t *c) { return c->proto; }
engine_t *client_engine(const client_t *c) { return c->srv->engine; }
host_t *client_host(const client_t *c) { return c->srv->host; }

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
    s->clients--;
    resp_parser_free(&c->parser);
    resp_buf_free(&c->out);
    free(c->query);
    free(c->argv);
    free(c->lens);
    free(c->name);
    for (size_t i = 0; i < c->nchannels; i++)
        free(c->channels[i]);
    free(c->channels);
    free(c);
}

static void client_drop(client_t *c)
{
    if (uv_is_closing((uv_handle_t *)&c->handle))
        return;
    c->closing = true;
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

void client_close_after_reply(client_t *c)
{
    c->closing = true;
}

static void on_written(uv_write_t *req, int status)
{
    write_req_t *w = (write_req_t *)req;
    client_t *c = req->handle->data;
    c->pending -= w->buf.len;
    resp_buf_free(&w->buf);
    free(w);
    if (status < 0)
        client_drop(c);
}

/* Writes the replies so far. Most fit the socket buffer and go out at once
 * with uv_try_write: no request, no copy, and no epoll_ctl (libuv re-arms
 * the watcher after every queued write, one more syscall per reply). What
 * the socket does not take is handed to libuv to write when it can. */
static void flush(client_t *c)
{
    if (c->out.len == 0 || uv_is_closing((uv_handle_t *)&c->handle))
        return;
    /* libuv's buffer lengths are unsigned ints: replies past 4 GiB in one
     * batch (nine GETs of a 512 MiB value) are past any output limit. */
    if (c->out.len > UINT_MAX) {
        client_drop(c);
        return;
    }
    if (c->pending == 0) {
        uv_buf_t b = uv_buf_init(c->out.data, (unsigned)c->out.len);
        int n = uv_try_write((uv_stream_t *)&c->handle, &b, 1);
        if (n < 0 && n != UV_EAGAIN) {
            client_drop(c);
            return;
        }
        if (n > 0) {
            memmove(c->out.data, c->out.data + n, c->out.len - (size_t)n);
            c->out.len -= (size_t)n;
        }
        if (c->out.len == 0) {
            /* Keep a small buffer for the next reply; give a big one back. */
            if (c->out.cap > OUT_KEEP)
                resp_buf_free(&c->out);
            return;
        }
    }
    write_req_t *w = malloc(sizeof(*w));
    if (!w) {
        client_drop(c);
        return;
    }
    w->buf = c->out;
    c->out = (resp_buf_t){0};
    c->pending += w->buf.len;
    uv_buf_t b = uv_buf_init(w->buf.data, (unsigned)w->buf.len);
    if (uv_write(&w->req, (uv_stream_t *)&c->handle, &b, 1, on_written) != 0) {
        c->pending -= w->buf.len;
        resp_buf_free(&w->buf);
        free(w);
        client_drop(c);
        return;
    }
    /* A client that does not read its replies is let go, not buffered for. */
    if (c->pending > c->srv->cfg.max_output)
        client_drop(c);
}

static bool ensure_argv(client_t *c, size_t argc)
{
    if (argc <= c->argv_cap)
        return true;
    char **argv = realloc(c->argv, argc * sizeof(*argv));
    if (!argv)
        return false;
    c->argv = argv;
    size_t *lens = realloc(c->lens, argc * sizeof(*lens));
    if (!lens)
        return false;
    c->lens = lens;
    c->argv_cap = argc;
    return true;
}

static void process(client_t *c)
{
    size_t off = 0;
    while (!c->closing) {
        size_t used = 0;
        char *cmd = c->query + off;
        resp_result r = resp_parse(&c->parser, cmd, c->qlen - off, &used);
        if (r == RESP_PROTOCOL_ERROR) {
            char msg[128];
            snprintf(msg, sizeof(msg), "ERR %s", c->parser.error);
            resp_error(&c->out, msg);
            c->closing = true;
            break;
        }
        off += used;
        if (r == RESP_INCOMPLETE)
            break;
        if (!ensure_argv(c, c->parser.argc)) {
            client_drop(c);
            return;
        }
        for (size_t i = 0; i < c->parser.argc; i++) {
            c->argv[i] = cmd + c->parser.argv[i].off;
            c->lens[i] = c->parser.argv[i].len;
        }
        commands_execute(c, c->parser.argc, c->argv, c->lens);
    }
    memmove(c->query, c->query + off, c->qlen - off);
    c->qlen -= off;
    if (c->qlen > c->srv->cfg.max_query) {
        resp_error(&c->out, "ERR Protocol error: query buffer over its limit");
        c->closing = true;
    }
    flush(c);
    if (c->closing)
        client_finish(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    client_t *c = h->data;
    if (c->qcap - c->qlen < READ_CHUNK) {
        size_t cap = c->qcap ? c->qcap * 2 : 2 * READ_CHUNK;
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

/* JSON string contents: quotes, backslashes and control bytes escaped. */
static void json_string(resp_buf_t *b, const char *s)
{
    resp_append_raw(b, "\"", 1);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        char esc[8];
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            resp_append_raw(b, esc, 2);
        } else if (ch < 0x20) {
            int n = snprintf(esc, sizeof(esc), "\\u%04x", ch);
            resp_append_raw(b, esc, (size_t)n);
        } else {
            resp_append_raw(b, s, 1);
        }
    }
    resp_append_raw(b, "\"", 1);
}

/* Every delivered alert: a logfmt line on stderr, and a JSON message on
 * policyd:alerts to every subscriber. */
static void on_alert(void *ud, const alert_t *a)
{
    server_t *s = ud;
    log_event(a->severity >= ALERT_ERROR ? LOG_ERROR : a->severity == ALERT_WARNING ? LOG_WARN
                                                                                    : LOG_INFO,
              "alert", "severity", alert_severity_name(a->severity), "kind", a->kind, "session",
              a->session, "message", a->message, NULL);
    resp_buf_t json = {0};
    char num[64];
    int n = snprintf(num, sizeof(num), "{\"time\":%.3f,\"severity\":", (double)a->time_ms / 1000.0);
    resp_append_raw(&json, num, (size_t)n);
    json_string(&json, alert_severity_name(a->severity));
    resp_append_raw(&json, ",\"kind\":", 8);
    json_string(&json, a->kind);
    resp_append_raw(&json, ",\"session\":", 11);
    if (a->session[0])
        json_string(&json, a->session);
    else
        resp_append_raw(&json, "null", 4);
    resp_append_raw(&json, ",\"message\":", 11);
    json_string(&json, a->message);
    if (a->has_value) {
        n = snprintf(num, sizeof(num), ",\"value\":%.17g", a->value);
        resp_append_raw(&json, num, (size_t)n);
    }
    if (a->has_threshold) {
        n = snprintf(num, sizeof(num), ",\"threshold\":%.17g", a->threshold);
        resp_append_raw(&json, num, (size_t)n);
    }
    resp_append_raw(&json, "}", 1);
    for (client_t *c = s->all; c; c = c->next) {
        if (channel_index(c, SERVER_ALERTS_CHANNEL, strlen(SERVER_ALERTS_CHANNEL)) < 0)
            continue;
        if (c->proto >= 3)
            resp_append_raw(&c->out, ">3\r\n", 4);
        else
            resp_array(&c->out, 3);
        resp_bulk(&c->out, "message", 7);
        resp_bulk(&c->out, SERVER_ALERTS_CHANNEL, strlen(SERVER_ALERTS_CHANNEL));
        resp_bulk(&c->out, json.data, json.len);
        flush(c);
    }
    resp_buf_free(&json);
}

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
    c->handle.tcp.data = c;
    c->srv = s;
    c->proto = 2;
    c->id = ++s->next_id;
    c->authed = s->cfg.requirepass == NULL;
    resp_parser_init(&c->parser, NULL);
    c->next = s->all;
    if (s->all)
        s->all->prev = c;
    s->all = c;
    s->clients++;
    if (uv_accept(listener, (uv_stream_t *)&c->handle) != 0) {
        client_drop(c);
        return;
    }
    if (s->clients > s->cfg.max_clients) {
        resp_error(&c->out, "ERR max number of clients reached");
        flush(c);
        client_finish(c);
        return;
    }
    if (!unix_client)
        uv_tcp_nodelay(&c->handle.tcp, 1);
    uv_read_start((uv_stream_t *)&c->handle, on_alloc, on_read);
}

server_t *server_create(uv_loop_t *loop, engine_t *e, host_t *h, const server_config_t *cfg,
                        char *err, size_t errlen)
{
    server_t *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->loop = loop;
    s->started_ms = (int64_t)uv_now(loop);
    s->engine = e;
    s->host = h;
    s->cfg = *cfg;
    if (!s->cfg.bind)
        s->cfg.bind = "127.0.0.1";
    if (!s->cfg.port)
        s->cfg.port = 7379;
    if (!s->cfg.max_clients)
        s->cfg.max_clients = DEFAULT_MAX_CLIENTS;
    if (!s->cfg.max_query)
        s->cfg.max_query = DEFAULT_MAX_QUERY;
    if (!s->cfg.max_output)
        s->cfg.max_output = DEFAULT_MAX_OUTPUT;
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
    if (rc == 0)
        alerts_subscribe(host_alerts(h), on_alert, s);
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
    alerts_subscribe(host_alerts(s->host), NULL, NULL);
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

void server_free(server_t *s)
{
    free(s);
}
