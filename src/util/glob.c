/* glob: see glob.h. */
#include "util/glob.h"

#include <stdint.h>

/* A Redis glob's character class at p[*pi] == '['; on a match *pi moves
 * past the ']'. An unterminated class matches '[' literally. */
static bool class_match(const char *p, size_t plen, size_t *pi, char ch)
{
    size_t i = *pi + 1;
    bool neg = i < plen && p[i] == '^';
    i += neg;
    bool hit = false;
    size_t start = i;
    while (i < plen && (p[i] != ']' || i == start)) {
        char lo = p[i];
        if (lo == '\\' && i + 1 < plen)
            lo = p[++i];
        if (i + 2 < plen && p[i + 1] == '-' && p[i + 2] != ']') {
            char hi = p[i + 2];
            if (lo > hi) {
                char t = lo;
                lo = hi;
                hi = t;
            }
            hit |= ch >= lo && ch <= hi;
            i += 3;
        } else {
            hit |= ch == lo;
            i++;
        }
    }
    if (i >= plen) /* unterminated */
        return ch == '[' ? (++*pi, true) : false;
    *pi = i + 1;
    return hit != neg;
}

/* Redis's glob (* ? [class] \escape), matched with one backtrack point per
 * star, so no pattern can take exponential time. */
bool glob_match(const char *p, size_t plen, const char *s, size_t slen)
{
    size_t pi = 0, si = 0, star = SIZE_MAX, star_s = 0;
    while (si < slen) {
        if (pi < plen) {
            char c = p[pi];
            if (c == '*') {
                star = ++pi;
                star_s = si;
                continue;
            }
            if (c == '?') {
                pi++;
                si++;
                continue;
            }
            if (c == '[') {
                size_t at = pi;
                if (class_match(p, plen, &at, s[si])) {
                    pi = at;
                    si++;
                    continue;
                }
            } else {
                size_t adv = 1;
                if (c == '\\' && pi + 1 < plen) {
                    c = p[pi + 1];
                    adv = 2;
                }
                if (c == s[si]) {
                    pi += adv;
                    si++;
                    continue;
                }
            }
        }
        if (star == SIZE_MAX)
            return false;
        pi = star;
        si = ++star_s;
    }
    while (pi < plen && p[pi] == '*')
        pi++;
    return pi == plen;
}
