/* The replay trace reader (cli/trace.h) on any lines: a line it accepts
 * has every field within its bounds and reads back the same once written
 * out again; a line it refuses says why. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/trace.h"

static void check_line(const char *line, size_t len)
{
    trace_header(line, len);
    trace_request_t q;
    const char *why = trace_parse(line, len, &q);
    if (why) {
        if (!*why)
            abort(); /* a refusal says what is wrong */
        return;
    }
    if (q.size > TRACE_MAX_SIZE || q.seconds > TRACE_MAX_SECONDS || q.ttl > TRACE_MAX_SECONDS)
        abort();
    char again[128];
    int n = snprintf(again, sizeof(again), "%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64,
                     q.seconds, q.key, q.size, q.ttl);
    trace_request_t r;
    if (trace_parse(again, (size_t)n, &r) != NULL || memcmp(&q, &r, sizeof(q)) != 0)
        abort(); /* what was read does not read back */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        /* A copy of exactly the line: a read past it is caught. */
        char *line = malloc(len ? len : 1);
        if (!line)
            abort();
        memcpy(line, p, len);
        check_line(line, len);
        free(line);
        p += len + 1;
    }
    return 0;
}
