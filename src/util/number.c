/* number: see number.h. */
#include "util/number.h"

#include <string.h>
#include <strings.h>

bool number_u64(const char *s, size_t len, uint64_t *out)
{
    if (len == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool number_size(const char *s, uint64_t *out)
{
    static const struct { const char *unit; unsigned shift; } units[] = {
        {"", 0}, {"b", 0}, {"kb", 10}, {"kib", 10}, {"mb", 20}, {"mib", 20},
        {"gb", 30}, {"gib", 30}, {"tb", 40}, {"tib", 40},
    };
    size_t digits = strspn(s, "0123456789");
    uint64_t v;
    if (!number_u64(s, digits, &v))
        return false;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(s + digits, units[i].unit) != 0)
            continue;
        if (v > UINT64_MAX >> units[i].shift)
            return false;
        *out = v << units[i].shift;
        return true;
    }
    return false;
}
