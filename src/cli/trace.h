/* trace: the replay trace format (tests/data/README.md): a header line,
 * `timestamp_seconds,key,size_bytes` with an optional `,ttl_seconds`, then
 * one request a line, each field an unsigned decimal (an empty ttl is 0).
 * Every field is checked: a line that is not a request is an error naming
 * what is wrong, never a request of garbled numbers. */
#ifndef POLICYD_CLI_TRACE_H
#define POLICYD_CLI_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest value a trace may ask for (Redis's proto-max-bulk-len). */
#define TRACE_MAX_SIZE (512ull << 20)
/* Times in seconds up to this stay within the engine's int64 milliseconds,
 * with a TTL added. */
#define TRACE_MAX_SECONDS (INT64_MAX / 1000 / 2)

typedef struct trace_request {
    uint64_t seconds; /* since the first request */
    uint64_t key;
    uint64_t size;    /* value bytes */
    uint64_t ttl;     /* seconds; 0 = none */
} trace_request_t;

/* Whether the line (len bytes, without its line end) is the header. */
bool trace_header(const char *line, size_t len);

/* Parses a request line (len bytes, without its line end). Returns NULL,
 * or what is wrong with it. */
const char *trace_parse(const char *line, size_t len, trace_request_t *out);

#endif
