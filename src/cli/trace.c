/* trace: see trace.h. */
#include "cli/trace.h"

#include <string.h>

#include "util/number.h"

bool trace_header(const char *line, size_t len)
{
    static const char base[] = "timestamp_seconds,key,size_bytes";
    static const char ttl[] = ",ttl_seconds";
    size_t n = sizeof(base) - 1;
    return len >= n && memcmp(line, base, n) == 0 &&
           (len == n || (len == n + sizeof(ttl) - 1 && memcmp(line + n, ttl, len - n) == 0));
}

const char *trace_parse(const char *line, size_t len, trace_request_t *out)
{
    uint64_t field[4] = {0};
    size_t n = 0, at = 0;
    for (;;) {
        const char *comma = memchr(line + at, ',', len - at);
        size_t end = comma ? (size_t)(comma - line) : len;
        if (n == 4)
            return "more than 4 fields";
        bool empty_ttl = n == 3 && end == at;
        if (!empty_ttl && !number_u64(line + at, end - at, &field[n]))
            return "a field is not an unsigned decimal";
        n++;
        if (!comma)
            break;
        at = end + 1;
    }
    if (n < 3)
        return "not timestamp,key,size";
    if (field[0] > TRACE_MAX_SECONDS || field[3] > TRACE_MAX_SECONDS)
        return "a time past the engine's clock";
    if (field[2] > TRACE_MAX_SIZE)
        return "a size over 512 MiB";
    *out = (trace_request_t){field[0], field[1], field[2], field[3]};
    return NULL;
}
