/* pattern: see pattern.h. The matcher follows the Lua 5.4 reference
 * manual (§6.4.1) item by item; where the manual is silent (what `^`
 * means to gmatch, how a position capture back-references) it does what
 * Lua 5.4's library does, and tests/test_pattern.c compares the two on
 * generated patterns. The only difference a policy can see: a match that
 * runs past its call's budget raises instead of finishing. */
#include "policy/pattern.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>

#include "policy/sandbox.h"

#define MAX_CAPTURES 32
#define MAX_DEPTH 200       /* nested items before "pattern too complex" */
#define CHARGE_EVERY 256    /* steps counted before they are charged */
#define SPECIALS "^$*+?.([%-"

enum { CAP_OPEN = -1, CAP_POSITION = -2 };

typedef struct matcher {
    lua_State *L;
    const char *src, *src_end;
    const char *pat_end;
    int depth;              /* nesting left */
    int level;              /* captures started */
    unsigned steps;         /* not yet charged */
    struct {
        const char *at;
        ptrdiff_t len;      /* CAP_OPEN, CAP_POSITION or a length */
    } cap[MAX_CAPTURES];
} matcher_t;

/* One unit of matcher work: a pattern item tried, a subject byte scanned. */
static void step(matcher_t *m)
{
    if (++m->steps == CHARGE_EVERY) {
        m->steps = 0;
        sandbox_charge(m->L, CHARGE_EVERY);
    }
}

static void charge_rest(matcher_t *m)
{
    sandbox_charge(m->L, m->steps);
    m->steps = 0;
}

static void restart(matcher_t *m)
{
    m->level = 0;
    m->depth = MAX_DEPTH;
}

static void matcher_init(matcher_t *m, lua_State *L, const char *s, size_t ls, const char *p,
                         size_t lp)
{
    m->L = L;
    m->src = s;
    m->src_end = s + ls;
    m->pat_end = p + lp;
    m->steps = 0;
    restart(m);
}

/* --- single items --------------------------------------------------------- */

/* The end of the single-character class that starts at p. */
static const char *class_end(matcher_t *m, const char *p)
{
    const char *end = m->pat_end;
    switch (*p++) {
    case '%':
        if (p >= end)
            luaL_error(m->L, "malformed pattern (ends with '%%')");
        return p + 1;
    case '[':
        if (p < end && *p == '^')
            p++;
        /* The first character is part of the set, even a ']'. */
        for (;;) {
            if (p >= end)
                luaL_error(m->L, "malformed pattern (missing ']')");
            char c = *p++;
            if (c == '%' && p < end)
                p++;
            if (p < end && *p == ']')
                return p + 1;
        }
    default:
        return p;
    }
}

/* %a, %d...: c in the class named by cl; any other cl stands for itself. */
static bool match_class(int c, int cl)
{
    bool in;
    switch (tolower(cl)) {
    case 'a': in = isalpha(c); break;
    case 'c': in = iscntrl(c); break;
    case 'd': in = isdigit(c); break;
    case 'g': in = isgraph(c); break;
    case 'l': in = islower(c); break;
    case 'p': in = ispunct(c); break;
    case 's': in = isspace(c); break;
    case 'u': in = isupper(c); break;
    case 'w': in = isalnum(c); break;
    case 'x': in = isxdigit(c); break;
    case 'z': in = c == 0; break; /* deprecated, as in Lua */
    default: return cl == c;
    }
    return isupper(cl) ? !in : in;
}

/* c in the set [...] from p (its '[') to ec (its ']'). */
static bool match_set(int c, const char *p, const char *ec)
{
    bool in = true;
    if (p[1] == '^') {
        in = false;
        p++;
    }
    while (++p < ec) {
        if (*p == '%') {
            p++;
            if (match_class(c, (unsigned char)*p))
                return in;
        } else if (p[1] == '-' && p + 2 < ec) {
            p += 2;
            if ((unsigned char)p[-2] <= c && c <= (unsigned char)*p)
                return in;
        } else if ((unsigned char)*p == c) {
            return in;
        }
    }
    return !in;
}

/* Whether the subject byte at s matches the class from p to ep. */
static bool single_match(matcher_t *m, const char *s, const char *p, const char *ep)
{
    if (s >= m->src_end)
        return false;
    int c = (unsigned char)*s;
    switch (*p) {
    case '.': return true;
    case '%': return match_class(c, (unsigned char)p[1]);
    case '[': return match_set(c, p, ep - 1);
    default: return (unsigned char)*p == c;
    }
}

/* --- the matcher ---------------------------------------------------------- */

static const char *match(matcher_t *m, const char *s, const char *p);

static const char *max_expand(matcher_t *m, const char *s, const char *p, const char *ep)
{
    ptrdiff_t i = 0;
    while (single_match(m, s + i, p, ep)) {
        step(m);
        i++;
    }
    for (; i >= 0; i--) {
        const char *r = match(m, s + i, ep + 1);
        if (r)
            return r;
    }
    return NULL;
}

static const char *min_expand(matcher_t *m, const char *s, const char *p, const char *ep)
{
    for (;;) {
        const char *r = match(m, s, ep + 1);
        if (r)
            return r;
        if (!single_match(m, s, p, ep))
            return NULL;
        s++;
    }
}

static const char *start_capture(matcher_t *m, const char *s, const char *p, ptrdiff_t what)
{
    if (m->level >= MAX_CAPTURES)
        luaL_error(m->L, "too many captures");
    m->cap[m->level].at = s;
    m->cap[m->level].len = what;
    m->level++;
    const char *r = match(m, s, p);
    if (!r)
        m->level--;
    return r;
}

static const char *end_capture(matcher_t *m, const char *s, const char *p)
{
    int l = m->level - 1;
    while (l >= 0 && m->cap[l].len != CAP_OPEN)
        l--;
    if (l < 0)
        luaL_error(m->L, "invalid pattern capture");
    m->cap[l].len = s - m->cap[l].at;
    const char *r = match(m, s, p);
    if (!r)
        m->cap[l].len = CAP_OPEN;
    return r;
}

/* %bxy from p (at x): a balanced run of x...y at s. */
static const char *match_balance(matcher_t *m, const char *s, const char *p)
{
    if (p + 1 >= m->pat_end)
        luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= m->src_end || *s != *p)
        return NULL;
    char open = p[0], close = p[1];
    int depth = 1;
    while (++s < m->src_end) {
        step(m);
        if (*s == close) {
            if (--depth == 0)
                return s + 1;
        } else if (*s == open) {
            depth++;
        }
    }
    return NULL;
}

/* The capture a %1..%9 (l, the digit) refers to: a closed one. */
static int capture_index(matcher_t *m, int l)
{
    l -= '1';
    if (l < 0 || l >= m->level || m->cap[l].len == CAP_OPEN)
        return luaL_error(m->L, "invalid capture index %%%d", l + 1);
    return l;
}

/* %1..%9: the text of that capture again, at s. A position capture has no
 * text and never matches. */
static const char *match_capture(matcher_t *m, const char *s, int l)
{
    l = capture_index(m, l);
    ptrdiff_t len = m->cap[l].len;
    sandbox_charge(m->L, (uint64_t)(len > 0 ? len : 0) / 64);
    if (len >= 0 && m->src_end - s >= len && memcmp(m->cap[l].at, s, (size_t)len) == 0)
        return s + len;
    return NULL;
}

/* The subject from s matched against the pattern from p: the end of the
 * match, or NULL. Items that consume one character and go on loop here;
 * the rest recurse. */
static const char *match(matcher_t *m, const char *s, const char *p)
{
    if (m->depth-- == 0)
        luaL_error(m->L, "pattern too complex");
    while (p != m->pat_end && s) {
        step(m);
        const char *ep;
        switch (*p) {
        case '(':
            if (p + 1 < m->pat_end && p[1] == ')')
                s = start_capture(m, s, p + 2, CAP_POSITION);
            else
                s = start_capture(m, s, p + 1, CAP_OPEN);
            goto done;
        case ')':
            s = end_capture(m, s, p + 1);
            goto done;
        case '$':
            if (p + 1 == m->pat_end) {
                s = s == m->src_end ? s : NULL;
                goto done;
            }
            break;
        case '%':
            if (p + 1 >= m->pat_end)
                break; /* class_end reports it */
            if (p[1] == 'b') {
                s = match_balance(m, s, p + 2);
                p += 4;
                continue;
            }
            if (p[1] == 'f') {
                p += 2;
                if (p >= m->pat_end || *p != '[')
                    luaL_error(m->L, "missing '[' after '%%f' in pattern");
                ep = class_end(m, p);
                int before = s == m->src ? 0 : (unsigned char)s[-1];
                int at = s < m->src_end ? (unsigned char)*s : 0;
                if (!match_set(before, p, ep - 1) && match_set(at, p, ep - 1))
                    p = ep;
                else
                    s = NULL;
                continue;
            }
            if (isdigit((unsigned char)p[1])) {
                s = match_capture(m, s, (unsigned char)p[1]);
                p += 2;
                continue;
            }
            break;
        default:
            break;
        }
        /* A single-character class, perhaps with a quantifier. */
        ep = class_end(m, p);
        char q = ep < m->pat_end ? *ep : '\0';
        if (!single_match(m, s, p, ep)) {
            if (q == '*' || q == '?' || q == '-')
                p = ep + 1; /* zero of it is a match */
            else
                s = NULL;
            continue;
        }
        switch (q) {
        case '?': {
            const char *r = match(m, s + 1, ep + 1);
            if (r) {
                s = r;
                goto done;
            }
            p = ep + 1;
            continue;
        }
        case '+':
            s = max_expand(m, s + 1, p, ep);
            goto done;
        case '*':
            s = max_expand(m, s, p, ep);
            goto done;
        case '-':
            s = min_expand(m, s, p, ep);
            goto done;
        default:
            s++;
            p = ep;
            continue;
        }
    }
done:
    m->depth++;
    return s;
}

/* --- captures -------------------------------------------------------------- */

/* Pushes capture i of a match from s to e (the whole match when the
 * pattern has no captures and i is 0). */
static void push_capture(matcher_t *m, int i, const char *s, const char *e)
{
    if (i >= m->level) {
        if (i != 0)
            luaL_error(m->L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(m->L, s, (size_t)(e - s));
        return;
    }
    ptrdiff_t len = m->cap[i].len;
    if (len == CAP_OPEN)
        luaL_error(m->L, "unfinished capture");
    if (len == CAP_POSITION)
        lua_pushinteger(m->L, (m->cap[i].at - m->src) + 1);
    else
        lua_pushlstring(m->L, m->cap[i].at, (size_t)len);
}

/* Pushes every capture (or the whole match, when there are none and s is
 * given); returns how many. */
static int push_captures(matcher_t *m, const char *s, const char *e)
{
    int n = m->level == 0 && s ? 1 : m->level;
    luaL_checkstack(m->L, n, "too many captures");
    for (int i = 0; i < n; i++)
        push_capture(m, i, s, e);
    return n;
}

/* --- the library functions ------------------------------------------------- */

/* A 1-based position, negative from the end, as a 0-based offset (which
 * may lie past the end). */
static size_t start_offset(lua_Integer pos, size_t len)
{
    if (pos > 0)
        return (size_t)pos - 1;
    if (pos == 0 || pos < -(lua_Integer)len)
        return 0;
    return len + (size_t)pos;
}

static bool has_specials(const char *p, size_t lp)
{
    for (size_t i = 0; i < lp; i++)
        if (p[i] != '\0' && strchr(SPECIALS, p[i]))
            return true;
    return false;
}

/* Plain search for p in s, each candidate charged by the length compared. */
static const char *find_plain(lua_State *L, const char *s, size_t ls, const char *p, size_t lp)
{
    if (lp == 0)
        return s;
    if (lp > ls)
        return NULL;
    const char *end = s + ls - lp + 1; /* the last place it could start, + 1 */
    const char *at = s;
    while (at < end && (at = memchr(at, *p, (size_t)(end - at))) != NULL) {
        sandbox_charge(L, 1 + lp / 64);
        if (memcmp(at + 1, p + 1, lp - 1) == 0)
            return at;
        at++;
    }
    sandbox_charge(L, ls / 64);
    return NULL;
}

static int find_or_match(lua_State *L, bool find)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_offset(luaL_optinteger(L, 3, 1), ls);
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
        const char *at = find_plain(L, s + init, ls - init, p, lp);
        if (!at) {
            luaL_pushfail(L);
            return 1;
        }
        lua_pushinteger(L, (at - s) + 1);
        lua_pushinteger(L, (lua_Integer)((size_t)(at - s) + lp));
        return 2;
    }
    bool anchor = lp > 0 && *p == '^';
    if (anchor) {
        p++;
        lp--;
    }
    matcher_t m;
    matcher_init(&m, L, s, ls, p, lp);
    const char *from = s + init;
    do {
        restart(&m);
        const char *e = match(&m, from, p);
        if (e) {
            charge_rest(&m);
            if (!find)
                return push_captures(&m, from, e);
            lua_pushinteger(L, (from - s) + 1);
            lua_pushinteger(L, e - s);
            return push_captures(&m, NULL, NULL) + 2;
        }
    } while (from++ < m.src_end && !anchor);
    charge_rest(&m);
    luaL_pushfail(L);
    return 1;
}

static int pattern_find(lua_State *L)
{
    return find_or_match(L, true);
}

static int pattern_match(lua_State *L)
{
    return find_or_match(L, false);
}

typedef struct gmatch_state {
    const char *from;       /* where the next match is looked for */
    const char *last;       /* the end of the last match, so an empty match
                               there is not taken twice */
    const char *pat;
    matcher_t m;
} gmatch_state_t;

/* The iterator: upvalues are the subject, the pattern (kept alive) and
 * the state. A '^' is an ordinary character here, as in Lua. */
static int gmatch_next(lua_State *L)
{
    gmatch_state_t *g = lua_touserdata(L, lua_upvalueindex(3));
    g->m.L = L;
    for (const char *from = g->from; from <= g->m.src_end; from++) {
        restart(&g->m);
        const char *e = match(&g->m, from, g->pat);
        if (e && e != g->last) {
            g->from = g->last = e;
            charge_rest(&g->m);
            return push_captures(&g->m, from, e);
        }
    }
    g->from = g->m.src_end + 1;
    charge_rest(&g->m);
    return 0;
}

static int pattern_gmatch(lua_State *L)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_offset(luaL_optinteger(L, 3, 1), ls);
    if (init > ls)
        init = ls + 1; /* past the end: nothing to find */
    lua_settop(L, 2);
    gmatch_state_t *g = lua_newuserdatauv(L, sizeof(*g), 0);
    matcher_init(&g->m, L, s, ls, p, lp);
    g->from = s + init;
    g->last = NULL;
    g->pat = p;
    lua_pushcclosure(L, gmatch_next, 3);
    return 1;
}

/* gsub with a string replacement: %0 the match, %1..%9 captures, %% a %. */
static void add_string(matcher_t *m, luaL_Buffer *b, const char *s, const char *e)
{
    size_t l;
    const char *r = lua_tolstring(m->L, 3, &l);
    const char *end = r + l;
    const char *pc;
    sandbox_charge(m->L, l / 64);
    while ((pc = memchr(r, '%', (size_t)(end - r))) != NULL) {
        luaL_addlstring(b, r, (size_t)(pc - r));
        pc++;
        if (pc < end && *pc == '%') {
            luaL_addchar(b, '%');
        } else if (pc < end && *pc == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if (pc < end && isdigit((unsigned char)*pc)) {
            push_capture(m, *pc - '1', s, e);
            luaL_tolstring(m->L, -1, NULL); /* a position capture is a number */
            lua_remove(m->L, -2);
            luaL_addvalue(b);
        } else {
            luaL_error(m->L, "invalid use of '%c' in replacement string", '%');
        }
        r = pc + 1;
    }
    luaL_addlstring(b, r, (size_t)(end - r));
}

/* Adds the replacement of the match s..e; returns whether it changed
 * anything (a false or nil from a function or table keeps the match). */
static bool add_value(matcher_t *m, luaL_Buffer *b, const char *s, const char *e, int type)
{
    lua_State *L = m->L;
    switch (type) {
    case LUA_TFUNCTION: {
        lua_pushvalue(L, 3);
        int n = push_captures(m, s, e);
        lua_call(L, n, 1);
        break;
    }
    case LUA_TTABLE:
        push_capture(m, 0, s, e);
        lua_gettable(L, 3);
        break;
    default:
        add_string(m, b, s, e);
        return true;
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return false;
    }
    if (!lua_isstring(L, -1))
        luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
    return true;
}

static int pattern_gsub(lua_State *L)
{
    size_t ls, lp;
    const char *src = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    int type = lua_type(L, 3);
    lua_Integer most = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    luaL_argexpected(L, type == LUA_TNUMBER || type == LUA_TSTRING || type == LUA_TFUNCTION ||
                            type == LUA_TTABLE, 3, "string/function/table");
    bool anchor = lp > 0 && *p == '^';
    if (anchor) {
        p++;
        lp--;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    matcher_t m;
    matcher_init(&m, L, src, ls, p, lp);
    const char *last = NULL;
    lua_Integer n = 0;
    bool changed = false;
    while (n < most) {
        restart(&m);
        const char *e = match(&m, src, p);
        if (e && e != last) {
            n++;
            changed = add_value(&m, &b, src, e, type) || changed;
            src = last = e;
        } else if (src < m.src_end) {
            luaL_addchar(&b, *src++);
        } else {
            break;
        }
        if (anchor)
            break;
    }
    charge_rest(&m);
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        luaL_addlstring(&b, src, (size_t)(m.src_end - src));
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, n);
    return 2;
}

void pattern_install(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"find", pattern_find},     {"match", pattern_match}, {"gmatch", pattern_gmatch},
        {"gsub", pattern_gsub},     {NULL, NULL},
    };
    luaL_setfuncs(L, fns, 0);
}
