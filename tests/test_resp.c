/* resp: the command parser (whole, in pieces, pipelined, inline, bad
 * input) and the reply writer. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proto/resp.h"

/* Parses `in` fed one byte at a time; returns the commands as
 * "arg|arg|...;" and the result that ended parsing. */
static resp_result parse_all(const char *in, size_t len, size_t step, char *out, size_t outlen)
{
    resp_parser_t p;
    resp_parser_init(&p, &(resp_limits_t){.max_bulk = 1024, .max_args = 8, .max_inline = 64});
    char *buf = malloc(len + 1);
    REQUIRE(buf);
    memcpy(buf, in, len);
    size_t start = 0, avail = 0;
    resp_result r = RESP_INCOMPLETE;
    out[0] = '\0';
    while (start < len) {
        avail = avail + step > len - start ? len - start : avail + step;
        size_t used;
        r = resp_parse(&p, buf + start, avail, &used);
        if (r == RESP_PROTOCOL_ERROR)
            break;
        if (r == RESP_COMMAND) {
            for (size_t i = 0; i < p.argc; i++) {
                size_t at = strlen(out), n = p.argv[i].len;
                REQUIRE(at + n + 2 < outlen);
                memcpy(out + at, buf + start + p.argv[i].off, n);
                out[at + n] = i + 1 < p.argc ? '|' : ';';
                out[at + n + 1] = '\0';
            }
        }
        start += used;
        avail -= used;
        if (r == RESP_INCOMPLETE && start + avail == len && used == 0)
            break;
    }
    free(buf);
    resp_parser_free(&p);
    return r;
}

static void check_parse(const char *in, const char *want)
{
    size_t len = strlen(in);
    for (size_t step = 1; step <= len; step++) {
        char out[512];
        parse_all(in, len, step, out, sizeof(out));
        if (strcmp(out, want) != 0) {
            fprintf(stderr, "input %s (step %zu): got %s, want %s\n", in, step, out, want);
            CHECK(!"parse");
            return;
        }
    }
    CHECK(1);
}

static void check_error(const char *in, const char *msg)
{
    char out[512];
    resp_parser_t p;
    resp_parser_init(&p, &(resp_limits_t){.max_bulk = 1024, .max_args = 8, .max_inline = 64});
    char *buf = strdup(in);
    size_t used;
    resp_result r = resp_parse(&p, buf, strlen(buf), &used);
    if (r != RESP_PROTOCOL_ERROR || strstr(p.error, msg) == NULL) {
        fprintf(stderr, "input %s: result %d, error %s, want %s\n", in, r,
                r == RESP_PROTOCOL_ERROR ? p.error : "-", msg);
        CHECK(!"error");
    } else {
        CHECK(1);
    }
    free(buf);
    resp_parser_free(&p);
    (void)out;
}

static void check_reply(const resp_buf_t *b, const char *want, size_t len)
{
    CHECK(b->len == len && memcmp(b->data, want, len) == 0);
}

int main(void)
{
    /* Multibulk, whole and in every split, pipelined. */
    check_parse("*1\r\n$4\r\nPING\r\n", "PING;");
    check_parse("*3\r\n$3\r\nSET\r\n$3\r\nk:1\r\n$5\r\nhello\r\n", "SET|k:1|hello;");
    check_parse("*2\r\n$3\r\nGET\r\n$1\r\na\r\n*1\r\n$4\r\nPING\r\n", "GET|a;PING;");
    check_parse("*2\r\n$3\r\nSET\r\n$0\r\n\r\n", "SET|;");
    check_parse("*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n", "PING;");
    /* Binary values, CR and LF inside, are just bytes. */
    check_parse("*2\r\n$4\r\nECHO\r\n$4\r\na\r\nb\r\n", "ECHO|a\r\nb;");
    /* Inline commands, quoting as Redis does. */
    check_parse("PING\r\n", "PING;");
    check_parse("SET k v\n", "SET|k|v;");
    check_parse("  SET   k   \"a b\"  \r\n", "SET|k|a b;");
    check_parse("ECHO \"x\\ny\\x41\" 'it\\'s'\r\n", "ECHO|x\ny\x41|it's;");
    check_parse("\r\n\nPING\r\n", "PING;");
    check_parse("GET a\r\n*1\r\n$4\r\nPING\r\n", "GET|a;PING;");

    /* Bad input: each a protocol error, with Redis's wording. */
    check_error("*x\r\n", "invalid multibulk length");
    check_error("*9\r\n", "invalid multibulk length"); /* over max_args */
    check_error("*1\r\n+PING\r\n", "expected '$'");
    check_error("*1\r\n$-5\r\n", "invalid bulk length");
    check_error("*1\r\n$2000\r\n", "invalid bulk length"); /* over max_bulk */
    check_error("*1\r\n$4\r\nPINGxx", "expected CRLF");
    check_error("*1\r\n$4x\r\n", "invalid bulk length");
    check_error("*1\r\n$123456789012345678901234567890123\r\n", "invalid bulk length");
    check_error("SET k \"open\r\n", "unbalanced quotes");
    check_error("SET k \"a\"b\r\n", "unbalanced quotes");
    check_error("a b c d e f g h i\r\n", "too many arguments");
    char line[200];
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    check_error(line, "too big inline request"); /* no newline, over max_inline */
    /* Binary junk on an inline line is a command of junk (the daemon will
     * answer "unknown command"), not a crash. */
    check_parse("\x01\x02\xff junk\r\n", "\x01\x02\xff|junk;");

    /* Incomplete input is not an error. */
    resp_parser_t p;
    resp_parser_init(&p, NULL);
    char part[] = "*2\r\n$3\r\nGET\r\n$1";
    size_t used = 99;
    CHECK(resp_parse(&p, part, strlen(part), &used) == RESP_INCOMPLETE);
    CHECK_EQ_U(used, 0);
    resp_parser_free(&p);

    /* Replies, RESP2 and RESP3. */
    resp_buf_t b = {0};
    CHECK(resp_simple(&b, "OK") == 0);
    check_reply(&b, "+OK\r\n", 5);
    b.len = 0;
    resp_error(&b, "ERR bad\r\nthing");
    check_reply(&b, "-ERR bad  thing\r\n", 17);
    b.len = 0;
    resp_integer(&b, -42);
    check_reply(&b, ":-42\r\n", 6);
    b.len = 0;
    resp_integer(&b, 0);
    resp_integer(&b, LLONG_MAX);
    resp_integer(&b, LLONG_MIN);
    check_reply(&b, ":0\r\n:9223372036854775807\r\n:-9223372036854775808\r\n", 49);
    b.len = 0;
    resp_bulk(&b, "", 0);
    check_reply(&b, "$0\r\n\r\n", 6);
    b.len = 0;
    resp_bulk(&b, "a\0b", 3);
    check_reply(&b, "$3\r\na\0b\r\n", 9);
    b.len = 0;
    resp_null(&b, 2);
    resp_null(&b, 3);
    check_reply(&b, "$-1\r\n_\r\n", 8);
    b.len = 0;
    resp_map(&b, 2, 2);
    resp_map(&b, 2, 3);
    resp_array(&b, 0);
    check_reply(&b, "*4\r\n%2\r\n*0\r\n", 12);
    b.len = 0;
    resp_double(&b, 1.5, 3);
    resp_double(&b, 1.5, 2);
    check_reply(&b, ",1.5\r\n$3\r\n1.5\r\n", 15);
    resp_buf_free(&b);
    return check_done();
}
