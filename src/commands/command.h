/* command: what the command files share — the command type, each file's
 * table, argument parsing and reply helpers. Internal to the commands
 * floor: the outside runs commands through dispatch.h.
 *
 * Every command runs on the loop thread and writes its reply into c->out,
 * with Redis's semantics and error wording where Redis has the command. */
#ifndef POLICYD_COMMANDS_COMMAND_H
#define POLICYD_COMMANDS_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

#include "commands/conn.h"
#include "core/engine.h"

/* argv[i] holds lens[i] bytes (not NUL-terminated); argv[0] is the name. */
typedef void (*command_fn)(conn_t *c, size_t argc, char **argv, const size_t *lens);

typedef struct command {
    const char *name; /* lower case */
    int arity;        /* exact when > 0, at least -arity when < 0 (name included) */
    command_fn fn;
} command_t;

/* The tables, one per file: strings.c, keys.c, expire.c, pubsub.c, admin.c,
 * connection.c. Each ends with a {NULL} row. */
extern const command_t strings_commands[];
extern const command_t keys_commands[];
extern const command_t expire_commands[];
extern const command_t pubsub_commands[];
extern const command_t admin_commands[];
extern const command_t connection_commands[];

/* Whether the argument is `word`, ignoring case. */
bool arg_is(const char *arg, size_t len, const char *word);

/* A decimal integer argument, Redis's way (whole argument, no spaces). */
bool arg_ll(const char *arg, size_t len, long long *out);

/* The error reply for an engine status: -OOM for refusals of memory or
 * policy, -ERR otherwise. */
void reply_status_error(conn_t *c, pd_status st);

/* A field of a map reply: its name, then an integer or a string. */
void reply_field_int(conn_t *c, const char *name, long long v);
void reply_field_str(conn_t *c, const char *name, const char *v, size_t len);

/* expire.c: an expiry argument v as an absolute time on the engine's
 * clock, with Redis's rules. `how`: EXPIRE_SECONDS (else milliseconds),
 * EXPIRE_UNIX (an absolute Unix time, else from now), EXPIRE_POSITIVE (SET,
 * GETEX, SETEX: v <= 0 is an error, and a time already past comes back as
 * at least 1, still an expiry). Seconds past the range of milliseconds, and
 * a relative time past the clock's range, are errors; an absolute time
 * saturates. On an error it answers "invalid expire time in '<cmd>'
 * command" and returns false. */
enum { EXPIRE_SECONDS = 1, EXPIRE_UNIX = 2, EXPIRE_POSITIVE = 4 };
bool expire_time(conn_t *c, long long v, int how, const char *cmd, int64_t *at);

/* Whether an argument is an expiry option (EX PX EXAT PXAT), and the
 * option's time through expire_time. */
bool expire_is_option(const char *a, size_t n);
bool expire_parse_option(conn_t *c, const char *unit, size_t ulen, const char *arg,
                         size_t alen, const char *cmd, int64_t *at);

/* The session owning a key; created (and PD_* in *st) only for writes. */
static inline session_t *key_session(conn_t *c, const char *key, size_t len, bool create,
                                     pd_status *st)
{
    return engine_session_for_key(c->svc->engine, key, len, create, st);
}

/* The session of a key for a read, or NULL. */
static inline session_t *read_session(conn_t *c, const char *key, size_t len)
{
    return engine_session_for_key(c->svc->engine, key, len, false, NULL);
}

#endif
