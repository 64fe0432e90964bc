/* resp: see resp.h. Error texts follow Redis's, so clients and tests that
 * match on them keep working. */
#include "proto/resp.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_ARGS (1u << 20)
#define DEFAULT_MAX_INLINE (64u << 10)
/* A length line ("*123\r\n", "$456\r\n") longer than this is junk. */
#define MAX_LENGTH_LINE 32

void resp_parser_init(resp_parser_t *p, const resp_limits_t *limits)
{
    *p = (resp_parser_t){.expected = -1};
    resp_parser_limit(p, limits);
}

void resp_parser_limit(resp_parser_t *p, const resp_limits_t *limits)
{
    p->limits = limits ? *limits : (resp_limits_t){0};
    if (!p->limits.max_bulk)
        p->limits.max_bulk = RESP_MAX_BULK;
    if (!p->limits.max_args)
        p->limits.max_args = DEFAULT_MAX_ARGS;
    if (!p->limits.max_inline)
        p->limits.max_inline = DEFAULT_MAX_INLINE;
}

void resp_parser_free(resp_parser_t *p)
{
    free(p->argv);
    p->argv = NULL;
    p->argv_cap = 0;
}

static void reset(resp_parser_t *p)
{
    p->pos = 0;
    p->expected = -1;
    p->argc = 0;
    p->need = 0;
}

static resp_result fail(resp_parser_t *p, const char *msg)
{
    p->error = msg;
    reset(p);
    return RESP_PROTOCOL_ERROR;
}

static inline bool push_arg(resp_parser_t *p, size_t off, size_t len)
{
    if (p->argc == p->argv_cap) {
        size_t cap = p->argv_cap ? p->argv_cap * 2 : 16;
        resp_arg_t *argv = realloc(p->argv, cap * sizeof(*argv));
        if (!argv)
            return false;
        p->argv = argv;
        p->argv_cap = cap;
    }
    p->argv[p->argc++] = (resp_arg_t){off, len};
    return true;
}

/* Reads "<prefix><integer>\r\n" at pos. Returns 1 with *v and the
 * position after the line, 0 if incomplete, -1 if malformed. One pass over
 * the digits: a memchr for the CR first was the parser's biggest cost. */
static inline int length_line(const char *buf, size_t len, size_t pos, long long *v, size_t *next)
{
    size_t limit = len - pos < MAX_LENGTH_LINE ? len : pos + MAX_LENGTH_LINE;
    size_t i = pos + 1; /* buf[pos] is the prefix byte */
    bool neg = i < limit && buf[i] == '-';
    i += neg;
    size_t first = i;
    long long n = 0;
    for (; i < limit && buf[i] >= '0' && buf[i] <= '9'; i++) {
        if (n > (1LL << 50))
            return -1;
        n = n * 10 + (buf[i] - '0');
    }
    if (i == limit) /* no CR yet: more may come, unless the line is too long */
        return limit == len && len - pos < MAX_LENGTH_LINE ? 0 : -1;
    if (buf[i] != '\r' || i == first)
        return -1;
    if (i + 1 == len)
        return 0;
    if (buf[i + 1] != '\n')
        return -1;
    *v = neg ? -n : n;
    *next = i + 2;
    return 1;
}

static resp_result parse_multibulk(resp_parser_t *p, const char *buf, size_t len,
                                   size_t *consumed)
{
    long long n;
    size_t next;
    if (p->expected < 0) {
        p->argc = 0; /* a new command */
        int rc = length_line(buf, len, 0, &n, &next);
        if (rc == 0)
            return RESP_INCOMPLETE;
        if (rc < 0 || n > (long long)p->limits.max_args)
            return fail(p, p->limits.unauthenticated && rc > 0
                               ? "Protocol error: unauthenticated multibulk length"
                               : "Protocol error: invalid multibulk length");
        if (n <= 0) {
            /* "*0" and "*-1" are empty commands: skip them, as Redis does. */
            *consumed = next;
            reset(p);
            return RESP_INCOMPLETE;
        }
        p->expected = n;
        p->pos = next;
    }
    while (p->argc < (size_t)p->expected) {
        if (p->pos >= len)
            return RESP_INCOMPLETE;
        if (buf[p->pos] != '$')
            return fail(p, "Protocol error: expected '$'");
        int rc = length_line(buf, len, p->pos, &n, &next);
        if (rc == 0)
            return RESP_INCOMPLETE;
        if (rc < 0 || n < 0 || (unsigned long long)n > p->limits.max_bulk)
            return fail(p, p->limits.unauthenticated && rc > 0 && n >= 0
                               ? "Protocol error: unauthenticated bulk length"
                               : "Protocol error: invalid bulk length");
        if (len - next < (size_t)n + 2) {
            p->need = next + (size_t)n + 2;
            return RESP_INCOMPLETE;
        }
        if (buf[next + n] != '\r' || buf[next + n + 1] != '\n')
            return fail(p, "Protocol error: expected CRLF after a bulk string");
        if (!push_arg(p, next, (size_t)n))
            return fail(p, "Protocol error: out of memory");
        p->pos = next + (size_t)n + 2;
    }
    *consumed = p->pos;
    p->pos = 0;
    p->expected = -1;
    p->need = 0;
    return RESP_COMMAND;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Splits an inline line into arguments, Redis-style: spaces separate,
 * "double quotes" take \n \r \t \b \a \\ \" and \xHH, 'single quotes'
 * take \'. Quoted arguments are unescaped in place. */
static resp_result split_inline(resp_parser_t *p, char *buf, size_t end)
{
    size_t i = 0;
    while (i < end) {
        while (i < end && (buf[i] == ' ' || buf[i] == '\t'))
            i++;
        if (i == end)
            break;
        size_t start = i, w = i;
        if (buf[i] == '"' || buf[i] == '\'') {
            char q = buf[i++];
            start = w = i;
            for (;;) {
                if (i == end)
                    return fail(p, "Protocol error: unbalanced quotes in request");
                char c = buf[i];
                if (c == q) {
                    i++;
                    break;
                }
                if (c == '\\' && i + 1 < end) {
                    char e = buf[i + 1];
                    if (q == '\'') {
                        c = e == '\'' ? '\'' : '\\';
                        i += e == '\'' ? 2 : 1;
                    } else if (e == 'x' && i + 3 < end && hex_digit(buf[i + 2]) >= 0 &&
                               hex_digit(buf[i + 3]) >= 0) {
                        c = (char)(hex_digit(buf[i + 2]) * 16 + hex_digit(buf[i + 3]));
                        i += 4;
                    } else {
                        c = e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t'
                          : e == 'b' ? '\b' : e == 'a' ? '\a' : e;
                        i += 2;
                    }
                } else {
                    i++;
                }
                buf[w++] = c;
            }
            /* A closing quote must end the argument. */
            if (i < end && buf[i] != ' ' && buf[i] != '\t')
                return fail(p, "Protocol error: unbalanced quotes in request");
        } else {
            while (i < end && buf[i] != ' ' && buf[i] != '\t')
                i++;
            w = i;
        }
        if (p->argc >= p->limits.max_args)
            return fail(p, "Protocol error: too many arguments");
        if (!push_arg(p, start, w - start))
            return fail(p, "Protocol error: out of memory");
    }
    return RESP_COMMAND;
}

resp_result resp_parse(resp_parser_t *p, char *buf, size_t len, size_t *consumed)
{
    size_t skipped = 0;
    *consumed = 0;
    for (;;) {
        char *at = buf + skipped;
        size_t avail = len - skipped;
        if (avail == 0)
            break;
        if (at[0] == '*') {
            size_t used = 0;
            resp_result r = parse_multibulk(p, at, avail, &used);
            if (r == RESP_INCOMPLETE && used) { /* an empty multibulk */
                skipped += used;
                *consumed = skipped;
                continue;
            }
            if (r == RESP_COMMAND) {
                /* Offsets are from the start of this command. */
                for (size_t i = 0; i < p->argc; i++)
                    p->argv[i].off += skipped;
                *consumed = skipped + used;
            }
            return r;
        }
        char *nl = memchr(at, '\n', avail);
        if (!nl) {
            if (avail > p->limits.max_inline)
                return fail(p, "Protocol error: too big inline request");
            break;
        }
        size_t end = (size_t)(nl - at);
        if (end > p->limits.max_inline)
            return fail(p, "Protocol error: too big inline request");
        size_t line = end > 0 && at[end - 1] == '\r' ? end - 1 : end;
        p->argc = 0;
        resp_result r = split_inline(p, at, line);
        if (r != RESP_COMMAND)
            return r;
        if (p->argc == 0) { /* an empty line */
            skipped += end + 1;
            *consumed = skipped;
            continue;
        }
        for (size_t i = 0; i < p->argc; i++)
            p->argv[i].off += skipped;
        *consumed = skipped + end + 1;
        return RESP_COMMAND;
    }
    /* Skipped empty commands are consumed; the next call starts after them. */
    return RESP_INCOMPLETE;
}

/* --- replies ------------------------------------------------------------- */

void resp_buf_free(resp_buf_t *b)
{
    free(b->data);
    *b = (resp_buf_t){0};
}

/* The buffer grows: doubling for small replies, a big one gets what it
 * needs, not twice that (a 512 MiB value would otherwise take 1 GiB); never
 * past the limit. Only growth is checked against it, so the common append
 * into room already there costs nothing more: the buffer's size is what the
 * limit bounds. */
static int __attribute__((noinline)) grow(resp_buf_t *b, size_t more)
{
    if (b->limit && more > b->limit - (b->len < b->limit ? b->len : b->limit)) {
        b->over = 1;
        return -1;
    }
    size_t cap = b->cap ? b->cap * 2 : 256;
    if (cap < b->len + more)
        cap = b->len + more;
    if (b->limit && cap > b->limit)
        cap = b->limit;
    char *data = realloc(b->data, cap);
    if (!data)
        return -1;
    b->data = data;
    b->cap = cap;
    return 0;
}

static inline int reserve(resp_buf_t *b, size_t more)
{
    return b->len + more <= b->cap ? 0 : grow(b, more);
}

static int put(resp_buf_t *b, const void *s, size_t n)
{
    if (reserve(b, n) != 0)
        return -1;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return 0;
}

/* "<prefix><number>\r\n", formatted by hand: snprintf was an eighth of
 * the server's CPU on pipelined GETs. */
static int header(resp_buf_t *b, char prefix, long long n)
{
    char line[24];
    char *p = line + sizeof(line);
    *--p = '\n';
    *--p = '\r';
    unsigned long long u = n < 0 ? 0ull - (unsigned long long)n : (unsigned long long)n;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (n < 0)
        *--p = '-';
    *--p = prefix;
    return put(b, p, (size_t)(line + sizeof(line) - p));
}

/* "<prefix><text>\r\n", with CR and LF in text turned into spaces: a
 * simple string or error cannot hold them. */
static int line(resp_buf_t *b, char prefix, const char *s)
{
    size_t n = strlen(s);
    if (reserve(b, n + 3) != 0)
        return -1;
    b->data[b->len++] = prefix;
    for (size_t i = 0; i < n; i++)
        b->data[b->len++] = s[i] == '\r' || s[i] == '\n' ? ' ' : s[i];
    b->data[b->len++] = '\r';
    b->data[b->len++] = '\n';
    return 0;
}

int resp_append_raw(resp_buf_t *b, const void *data, size_t len) { return put(b, data, len); }
int resp_simple(resp_buf_t *b, const char *s) { return line(b, '+', s); }
int resp_error(resp_buf_t *b, const char *msg) { return line(b, '-', msg); }
int resp_integer(resp_buf_t *b, long long v) { return header(b, ':', v); }
int resp_array(resp_buf_t *b, size_t n) { return header(b, '*', (long long)n); }

int resp_bulk(resp_buf_t *b, const void *s, size_t len)
{
    size_t before = b->len;
    if (reserve(b, len + 32) != 0 || header(b, '$', (long long)len) != 0) {
        b->len = before;
        return -1;
    }
    memcpy(b->data + b->len, s, len);
    memcpy(b->data + b->len + len, "\r\n", 2);
    b->len += len + 2;
    return 0;
}

int resp_null(resp_buf_t *b, int proto)
{
    return proto >= 3 ? put(b, "_\r\n", 3) : put(b, "$-1\r\n", 5);
}

int resp_map(resp_buf_t *b, size_t pairs, int proto)
{
    return proto >= 3 ? header(b, '%', (long long)pairs) : header(b, '*', (long long)pairs * 2);
}

int resp_double(resp_buf_t *b, double v, int proto)
{
    char num[40];
    int k = snprintf(num, sizeof(num), "%.17g", v);
    if (proto < 3)
        return resp_bulk(b, num, (size_t)k);
    size_t before = b->len;
    if (put(b, ",", 1) != 0 || put(b, num, (size_t)k) != 0 || put(b, "\r\n", 2) != 0) {
        b->len = before;
        return -1;
    }
    return 0;
}
