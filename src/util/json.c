/* json: see json.h. */
#include "util/json.h"

#include <stdio.h>
#include <string.h>

static bool put(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
    if (n > cap - *len)
        return false;
    memcpy(out + *len, s, n);
    *len += n;
    return true;
}

bool json_string(char *out, size_t cap, size_t *len, const char *s)
{
    /* Room for the closing quote is kept back until the end. */
    if (cap - *len < 2)
        return false;
    cap--;
    bool whole = put(out, cap, len, "\"", 1);
    for (; *s && whole; s++) {
        unsigned char ch = (unsigned char)*s;
        char esc[8];
        size_t n = 1;
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            n = 2;
        } else if (ch < 0x20) {
            n = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", ch);
        } else {
            esc[0] = (char)ch;
        }
        whole = put(out, cap, len, esc, n);
    }
    out[(*len)++] = '"';
    return whole;
}
