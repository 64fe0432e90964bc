/* connection: the commands about the connection itself — PING ECHO QUIT
 * SELECT AUTH HELLO CLIENT. */
#include <string.h>

#include "commands/command.h"

static void cmd_ping(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    if (argc > 2)
        resp_error(&c->out, "ERR wrong number of arguments for 'ping' command");
    else if (argc == 2)
        resp_bulk(&c->out, argv[1], lens[1]);
    else
        resp_simple(&c->out, "PONG");
}

static void cmd_echo(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    resp_bulk(&c->out, argv[1], lens[1]);
}

static void cmd_quit(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc, (void)argv, (void)lens;
    resp_simple(&c->out, "OK");
    c->closing = true;
}

static void cmd_select(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc;
    long long db;
    if (!arg_ll(argv[1], lens[1], &db))
        resp_error(&c->out, "ERR value is not an integer or out of range");
    else if (db != 0)
        resp_error(&c->out, "ERR DB index is out of range");
    else
        resp_simple(&c->out, "OK");
}

/* AUTH [username] password (only the default user). */
static void cmd_auth(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    const char *pass = c->svc->requirepass;
    if (!pass) {
        resp_error(&c->out, "ERR AUTH <password> called without any password configured "
                                  "for the default user. Are you sure your configuration is correct?");
        return;
    }
    size_t i = argc == 3 ? 2 : 1;
    bool user_ok = argc == 2 || arg_is(argv[1], lens[1], "default");
    if (argc > 3 || !user_ok || lens[i] != strlen(pass) || memcmp(argv[i], pass, lens[i]) != 0) {
        resp_error(&c->out, "WRONGPASS invalid username-password pair or user is disabled.");
        return;
    }
    conn_authenticate(c);
    resp_simple(&c->out, "OK");
}

/* HELLO [protover [SETNAME name]] */
static void cmd_hello(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    long long proto = c->proto;
    size_t i = 1;
    if (argc > 1) {
        if (!arg_ll(argv[1], lens[1], &proto) || proto < 2 || proto > 3) {
            resp_error(&c->out, "NOPROTO unsupported protocol version");
            return;
        }
        i = 2;
    }
    for (; i < argc; i++) {
        if (arg_is(argv[i], lens[i], "AUTH") && i + 2 < argc) {
            const char *pass = c->svc->requirepass;
            if (!pass || !arg_is(argv[i + 1], lens[i + 1], "default") ||
                lens[i + 2] != strlen(pass) || memcmp(argv[i + 2], pass, lens[i + 2]) != 0) {
                resp_error(&c->out, "WRONGPASS invalid username-password pair or user is disabled.");
                return;
            }
            conn_authenticate(c);
            i += 2;
        } else if (arg_is(argv[i], lens[i], "SETNAME") && i + 1 < argc) {
            if (conn_set_name(c, argv[i + 1], lens[i + 1]) != 0) {
                resp_error(&c->out, "ERR out of memory");
                return;
            }
            i++;
        } else {
            resp_error(&c->out, "ERR syntax error in HELLO option");
            return;
        }
    }
    if (!c->authed) {
        resp_error(&c->out, "NOAUTH HELLO must be called with the client already "
                                  "authenticated, otherwise the HELLO <proto> AUTH <user> <pass> "
                                  "option can be used to authenticate the client and select the "
                                  "RESP protocol version at the same time");
        return;
    }
    c->proto = (int)proto;
    resp_map(&c->out, 7, (int)proto);
    reply_field_str(c, "server", "policyd", 7);
    reply_field_str(c, "version", "0.1.0", 5);
    reply_field_int(c, "proto", proto);
    reply_field_int(c, "id", (long long)c->id);
    reply_field_str(c, "mode", "standalone", 10);
    reply_field_str(c, "role", "master", 6);
    resp_bulk(&c->out, "modules", 7);
    resp_array(&c->out, 0);
}

/* CLIENT ID | SETNAME name | GETNAME */
static void cmd_client(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    if (argc == 2 && arg_is(argv[1], lens[1], "ID")) {
        resp_integer(&c->out, (long long)c->id);
    } else if (argc == 2 && arg_is(argv[1], lens[1], "GETNAME")) {
        const char *name = c->name;
        if (name)
            resp_bulk(&c->out, name, strlen(name));
        else
            resp_null(&c->out, c->proto);
    } else if (argc == 3 && arg_is(argv[1], lens[1], "SETNAME")) {
        if (memchr(argv[2], ' ', lens[2]) || memchr(argv[2], '\n', lens[2]))
            resp_error(&c->out, "ERR Client names cannot contain spaces, newlines or special characters.");
        else if (conn_set_name(c, argv[2], lens[2]) != 0)
            resp_error(&c->out, "ERR out of memory");
        else
            resp_simple(&c->out, "OK");
    } else {
        resp_error(&c->out, "ERR syntax error: CLIENT ID | SETNAME name | GETNAME");
    }
}

const command_t connection_commands[] = {
    {"ping", -1, cmd_ping},     {"echo", 2, cmd_echo},       {"quit", -1, cmd_quit},
    {"select", 2, cmd_select},  {"auth", -2, cmd_auth},      {"hello", -1, cmd_hello},
    {"client", -2, cmd_client}, {NULL, 0, NULL},
};
