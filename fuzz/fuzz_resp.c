/* The RESP parser on any bytes (proto/resp.h): parsed whole, and again
 * with the input arriving in two pieces cut at every byte, it must find the
 * same commands, the same arguments and the same protocol error, read
 * nothing outside the buffer, and ask for no more than it may hold. The
 * first byte picks the limits: a client before AUTH, or after. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/resp.h"

/* Every input is parsed once per byte (cut there): quadratic, so inputs
 * stay short; every limit is set low enough to be reached within them. */
#define MAX_INPUT 512
#define MAX_LOG 65536

/* What a parse found, as bytes to compare. */
typedef struct found {
    char log[MAX_LOG];
    size_t len;
} found_t;

static void note(found_t *f, const void *p, size_t n)
{
    if (f->len + n > MAX_LOG)
        n = MAX_LOG - f->len;
    memcpy(f->log + f->len, p, n);
    f->len += n;
}

/* Parses data, the first `cut` bytes available at first, then all of it. */
static void parse(const uint8_t *data, size_t size, size_t cut, const resp_limits_t *lim,
                  found_t *f)
{
    char *buf = malloc(size ? size : 1);
    if (!buf)
        abort();
    memcpy(buf, data, size); /* inline commands are unquoted in place */
    resp_parser_t p;
    resp_parser_init(&p, lim);
    size_t start = 0, avail = cut;
    f->len = 0;
    for (;;) {
        size_t consumed = 0;
        resp_result r = resp_parse(&p, buf + start, avail - start, &consumed);
        if (r == RESP_COMMAND) {
            if (consumed == 0 || consumed > avail - start)
                abort(); /* a command of no bytes, or past what was given */
            note(f, "C", 1);
            note(f, &p.argc, sizeof(p.argc));
            for (size_t i = 0; i < p.argc; i++) {
                if (p.argv[i].off + p.argv[i].len > consumed)
                    abort(); /* an argument outside its command */
                note(f, &p.argv[i].len, sizeof(p.argv[i].len));
                note(f, buf + start + p.argv[i].off, p.argv[i].len);
            }
            start += consumed;
            continue;
        }
        if (r == RESP_PROTOCOL_ERROR) {
            note(f, "E", 1);
            note(f, p.error, strlen(p.error));
            break;
        }
        if (lim->max_bulk && p.need > lim->max_bulk + (64u << 10) + lim->max_args * 32)
            abort(); /* asks a buffer for more than a command may hold */
        if (consumed) { /* empty commands skipped; the rest is incomplete */
            start += consumed;
            continue;
        }
        if (avail == size)
            break; /* incomplete at the end */
        avail = size;
    }
    resp_parser_free(&p);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > MAX_INPUT)
        return 0;
    resp_limits_t lim = {.max_bulk = 1 << 20, .max_args = 1024, .max_inline = 256,
                         .unauthenticated = data[0] & 1};
    data++;
    size--;
    static found_t whole, split;
    parse(data, size, size, &lim, &whole);
    for (size_t cut = 0; cut < size; cut++) {
        parse(data, size, cut, &lim, &split);
        if (split.len != whole.len || memcmp(split.log, whole.log, whole.len) != 0)
            abort(); /* the pieces gave another reading than the whole */
    }
    return 0;
}
