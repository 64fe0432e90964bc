/* dispatch: see dispatch.h. */
#include "commands/dispatch.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/command.h"

static const command_t *const tables[] = {
    strings_commands, keys_commands,  expire_commands,
    pubsub_commands,  admin_commands, connection_commands,
};

#define COMMAND_SLOTS 256 /* a power of two, over twice the commands */
#define COMMAND_NAME_MAX 16

/* Every command, hashed by lower-cased name: a linear scan with
 * strncasecmp was 5% of the instructions of a pipelined GET. */
static const command_t *command_slots[COMMAND_SLOTS];

/* FNV-1a over the lower-cased name; 0 if the name is longer than any. */
static uint32_t command_hash(const char *name, size_t len)
{
    if (len == 0 || len > COMMAND_NAME_MAX)
        return 0;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch >= 'A' && ch <= 'Z')
            ch += 'a' - 'A';
        h = (h ^ ch) * 16777619u;
    }
    return h | 1;
}

static void command_index(void)
{
    size_t n = 0;
    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
        for (const command_t *cmd = tables[t]; cmd->name; cmd++)
            n++;
    if (n * 2 > COMMAND_SLOTS) { /* a mistake of the build: fail loudly, at once */
        fprintf(stderr, "policyd: %zu commands need more than %d slots\n", n, COMMAND_SLOTS);
        abort();
    }
    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
        for (const command_t *cmd = tables[t]; cmd->name; cmd++) {
            uint32_t j = command_hash(cmd->name, strlen(cmd->name));
            while (command_slots[j & (COMMAND_SLOTS - 1)])
                j++;
            command_slots[j & (COMMAND_SLOTS - 1)] = cmd;
        }
    }
}

static const command_t *command_lookup(const char *name, size_t len)
{
    static bool indexed;
    if (!indexed) {
        command_index();
        indexed = true;
    }
    uint32_t j = command_hash(name, len);
    if (!j)
        return NULL;
    for (;; j++) {
        const command_t *cmd = command_slots[j & (COMMAND_SLOTS - 1)];
        if (!cmd)
            return NULL;
        if (arg_is(name, len, cmd->name))
            return cmd;
    }
}

/* Runs one command; argv[i] holds lens[i] bytes (not NUL-terminated). */
static void dispatch_command(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    /* With a password, only AUTH, HELLO and QUIT until authenticated. */
    if (!c->authed && !arg_is(argv[0], lens[0], "AUTH") &&
        !arg_is(argv[0], lens[0], "HELLO") && !arg_is(argv[0], lens[0], "QUIT")) {
        resp_error(&c->out, "NOAUTH Authentication required.");
        return;
    }
    /* A RESP2 subscriber may only manage its subscriptions. */
    if (c->channels.len > 0 && c->proto < 3 &&
        !arg_is(argv[0], lens[0], "SUBSCRIBE") && !arg_is(argv[0], lens[0], "UNSUBSCRIBE") &&
        !arg_is(argv[0], lens[0], "PING") && !arg_is(argv[0], lens[0], "QUIT")) {
        char msg[160];
        snprintf(msg, sizeof(msg), "ERR Can't execute '%.*s': only (P|S)SUBSCRIBE / "
                 "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                 (int)(lens[0] < 32 ? lens[0] : 32), argv[0]);
        resp_error(&c->out, msg);
        return;
    }
    const command_t *cmd = command_lookup(argv[0], lens[0]);
    if (!cmd) {
        char msg[128];
        snprintf(msg, sizeof(msg), "ERR unknown command '%.*s'",
                 (int)(lens[0] < 64 ? lens[0] : 64), argv[0]);
        resp_error(&c->out, msg);
        return;
    }
    if ((cmd->arity > 0 && argc != (size_t)cmd->arity) ||
        (cmd->arity < 0 && argc < (size_t)-cmd->arity)) {
        char msg[96];
        snprintf(msg, sizeof(msg), "ERR wrong number of arguments for '%s' command", cmd->name);
        resp_error(&c->out, msg);
        return;
    }
    cmd->fn(c, argc, argv, lens);
    engine_end_command(c->svc->engine);
}

static bool ensure_argv(conn_t *c, size_t argc)
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

/* Pipelined replies go to the transport from this size on, not only at the
 * end of the read: a client that reads them keeps the buffer small. */
#define FLUSH_AT (256u << 10)
/* Room for a bulk reply's header and end beside its value. */
#define REPLY_SLACK 64

/* How far the replies may grow during the next command: what the output
 * limit leaves beside the replies the transport still holds; but one whole
 * reply (a value of the largest size, or more) always fits when nothing is
 * unsent. */
static inline size_t reply_limit(const conn_t *c)
{
    const service_t *svc = c->svc;
    if (!svc->output_limit)
        return 0;
    if (c->out.len == 0 && c->queued == 0)
        return svc->output_limit > svc->max_bulk + REPLY_SLACK ? svc->output_limit
                                                               : svc->max_bulk + REPLY_SLACK;
    return c->queued < svc->output_limit ? svc->output_limit - c->queued : 1;
}

size_t dispatch_input(conn_t *c, char *buf, size_t len)
{
    size_t off = 0;
    while (!c->closing) {
        size_t used = 0;
        char *cmd = buf + off;
        resp_result r = resp_parse(&c->parser, cmd, len - off, &used);
        if (r == RESP_PROTOCOL_ERROR) {
            char msg[128];
            snprintf(msg, sizeof(msg), "ERR %s", c->parser.error);
            c->out.limit = 0;
            resp_error(&c->out, msg);
            c->closing = true;
            break;
        }
        off += used;
        if (r == RESP_INCOMPLETE)
            break;
        if (!ensure_argv(c, c->parser.argc)) {
            c->closing = true; /* out of memory: let the connection go */
            break;
        }
        for (size_t i = 0; i < c->parser.argc; i++) {
            c->argv[i] = cmd + c->parser.argv[i].off;
            c->lens[i] = c->parser.argv[i].len;
        }
        c->out.limit = reply_limit(c);
        dispatch_command(c, c->parser.argc, c->argv, c->lens);
        if (c->out.over) { /* a reply past the output limit: not kept */
            conn_cut(c);
            break;
        }
        if (c->out.len >= FLUSH_AT)
            c->ops->flush(c);
    }
    return off;
}
