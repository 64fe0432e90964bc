/* resp: the Redis protocol. An incremental, zero-copy parser of client
 * commands (RESP2 multibulk and inline commands) and a reply writer
 * (RESP2, and RESP3 where the two differ).
 *
 * The parser never copies arguments: it returns offsets into the caller's
 * buffer, relative to the start of the command, so the caller may move or
 * grow its buffer between calls. A command that arrives in pieces is
 * resumed where parsing stopped. */
#ifndef POLICYD_PROTO_RESP_H
#define POLICYD_PROTO_RESP_H

#include <stddef.h>
#include <stdint.h>

typedef struct resp_limits {
    size_t max_bulk;   /* bytes in one argument; 0 = RESP_MAX_BULK */
    size_t max_args;   /* arguments in one command; 0 = 1,048,576 */
    size_t max_inline; /* bytes in an inline command line; 0 = 64 KiB */
    /* The limits of a client that has not authenticated: the errors say so,
     * in Redis's words ("unauthenticated multibulk length"). */
    int unauthenticated;
} resp_limits_t;

/* Redis's proto-max-bulk-len. */
#define RESP_MAX_BULK (512u << 20)
/* Redis 7's limits before AUTH: a client that has not authenticated cannot
 * make the server hold more than about RESP_UNAUTH_ARGS * RESP_UNAUTH_BULK. */
#define RESP_UNAUTH_ARGS 10
#define RESP_UNAUTH_BULK 16384

typedef struct resp_arg {
    size_t off, len; /* into the buffer, from the start of the command */
} resp_arg_t;

typedef struct resp_parser {
    resp_limits_t limits;
    size_t pos;        /* how far the current command has been parsed */
    long long expected; /* multibulk arguments announced; -1 before the header */
    size_t argc;
    resp_arg_t *argv;  /* argc arguments once a command is complete */
    size_t argv_cap;
    size_t need;       /* bytes the incomplete command is known to need, from
                        * its start: a caller sizes its buffer to hold them */
    const char *error; /* the protocol error, after RESP_PROTOCOL_ERROR */
} resp_parser_t;

typedef enum resp_result {
    RESP_INCOMPLETE,     /* more bytes are needed; call again with them */
    RESP_COMMAND,        /* argc/argv hold a command of *consumed bytes */
    RESP_PROTOCOL_ERROR, /* p->error says what; the connection should close */
} resp_result;

void resp_parser_init(resp_parser_t *p, const resp_limits_t *limits);

/* Changes the limits (0 fields take their defaults), from the next
 * command parsed on. */
void resp_parser_limit(resp_parser_t *p, const resp_limits_t *limits);
void resp_parser_free(resp_parser_t *p);

/* Parses the command starting at buf (len bytes available). Inline
 * commands are unquoted in place, hence the non-const buffer. Empty inline
 * lines are skipped (counted in *consumed). After RESP_COMMAND the next
 * command starts at buf + *consumed. */
resp_result resp_parse(resp_parser_t *p, char *buf, size_t len, size_t *consumed);

/* A growable reply buffer. Writers return 0, or -1 when out of memory or
 * when the buffer would have to grow past its limit (the buffer is then
 * unchanged; past the limit, `over` is set and stays set until the caller
 * clears it). */
typedef struct resp_buf {
    char *data;
    size_t len, cap;
    size_t limit;   /* the size the buffer may grow to; 0 = no limit */
    int over;       /* an append was refused for the limit */
} resp_buf_t;

void resp_buf_free(resp_buf_t *b);

/* Appends bytes as they are (already encoded replies, or text). */
int resp_append_raw(resp_buf_t *b, const void *data, size_t len);

int resp_simple(resp_buf_t *b, const char *s);              /* +s */
int resp_error(resp_buf_t *b, const char *msg);             /* -msg ("ERR ...") */
int resp_integer(resp_buf_t *b, long long v);               /* :v */
int resp_bulk(resp_buf_t *b, const void *s, size_t len);    /* $len s */
int resp_null(resp_buf_t *b, int proto);                    /* $-1 or _ */
int resp_array(resp_buf_t *b, size_t n);                    /* *n */
int resp_map(resp_buf_t *b, size_t pairs, int proto);       /* %n, or *2n in RESP2 */
int resp_double(resp_buf_t *b, double v, int proto);        /* ,v or a bulk string */

#endif
