/* Patterns in a policy match as Lua's own do (src/policy/pattern.c, issue
 * 10 finding 13): generated subjects and patterns go through string.find,
 * match, gmatch and gsub (string, table and function replacements) in a
 * plain Lua state and in a policy's sandbox, and the two must give the same
 * results and the same error messages. A case the sandbox stops for its
 * budget is counted, not compared (Lua's library has no budget); there
 * must be few of them. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "check.h"
#include "policy/sandbox.h"

#define CASES 40000

/* Returns a function(s, p, init) that runs every pattern function on its
 * arguments and describes what each returned or raised. */
static const char *const PROBE =
    "local function show(...)\n"
    "  local out = {}\n"
    "  for i = 1, select('#', ...) do\n"
    "    local v = select(i, ...)\n"
    "    out[i] = type(v) == 'string' and ('%q'):format(v) or tostring(v)\n"
    "  end\n"
    "  return table.concat(out, ',')\n"
    "end\n"
    "local function words(s, p, init)\n"
    "  local w = {}\n"
    "  for a, b in string.gmatch(s, p, init) do\n"
    "    w[#w + 1] = show(a, b)\n"
    "    if #w > 40 then break end\n"
    "  end\n"
    "  return table.concat(w, ';')\n"
    "end\n"
    "local swap = { a = 'A', b = false, ['()'] = 'paren' }\n"
    "return function(s, p, init)\n"
    "  local out = {}\n"
    "  local function try(name, f, ...)\n"
    "    local r = table.pack(pcall(f, ...))\n"
    "    out[#out + 1] = name .. (r[1] and '=' or '!') .. show(table.unpack(r, 2, r.n))\n"
    "  end\n"
    "  try('find', string.find, s, p, init)\n"
    "  try('plain', string.find, s, p, init, true)\n"
    "  try('match', string.match, s, p, init)\n"
    "  try('gmatch', words, s, p, init)\n"
    "  try('gsub', string.gsub, s, p, '<%0>')\n"
    "  try('gsub1', string.gsub, s, p, '%1|%%', 3)\n"
    "  try('gsubt', string.gsub, s, p, swap)\n"
    "  try('gsubf', string.gsub, s, p, function(a, b) return b end)\n"
    "  return table.concat(out, '\\n')\n"
    "end\n";

/* Pieces a pattern is made of: classes, sets, quantifiers, captures,
 * anchors, and malformed bits. */
static const char *const PIECES[] = {
    "a", "b", "x", ".", "%a", "%d", "%w", "%s", "%S", "%p", "%z", "%%", "%.", "%(",
    "[ab]", "[^a]", "[a-c]", "[%a-]", "[]]", "[^]a]", "[a-]", "%b()", "%bab", "%f[%w]",
    "%f[%W]", "%f[^a]", "(", ")", "()", "%1", "%2", "%0", "*", "+", "-", "?", "^", "$",
    "%", "[", "]", "\1", "\0", "%f", "%b",
};

static const char SUBJECT_CHARS[] = "aabbx ()[]%.-^$1\0z";

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t next(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static size_t make_subject(char *out)
{
    size_t len = next(14);
    for (size_t i = 0; i < len; i++)
        out[i] = SUBJECT_CHARS[next(sizeof(SUBJECT_CHARS) - 1)];
    return len;
}

static size_t make_pattern(char *out)
{
    size_t len = 0, pieces = next(8);
    for (size_t i = 0; i < pieces; i++) {
        const char *piece = PIECES[next(sizeof(PIECES) / sizeof(PIECES[0]))];
        size_t n = piece[0] == '\0' ? 1 : strlen(piece);
        memcpy(out + len, piece, n);
        len += n;
    }
    return len;
}

/* Runs the probe (the registry ref) on one case; the description, or NULL
 * when the call failed (in the sandbox: stopped by its budget). */
static const char *probe(lua_State *L, int ref, sandbox_t *sb, const char *s, size_t ls,
                         const char *p, size_t lp, int init, size_t *len)
{
    lua_settop(L, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    lua_pushlstring(L, s, ls);
    lua_pushlstring(L, p, lp);
    if (init == 0)
        lua_pushnil(L);
    else
        lua_pushinteger(L, init);
    int rc = sb ? sandbox_call(sb, 3, 1) : lua_pcall(L, 3, 1, 0);
    if (rc != LUA_OK)
        return NULL;
    return lua_tolstring(L, -1, len);
}

static int load_probe(lua_State *L, sandbox_t *sb)
{
    REQUIRE(luaL_loadstring(L, PROBE) == LUA_OK);
    REQUIRE((sb ? sandbox_call(sb, 0, 1) : lua_pcall(L, 0, 1, 0)) == LUA_OK);
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

int main(void)
{
    lua_State *plain = luaL_newstate();
    REQUIRE(plain != NULL);
    luaL_openlibs(plain);
    sandbox_t sb;
    char err[512];
    REQUIRE(sandbox_open(&sb, "/nonexistent/probe.lua", NULL, err, sizeof(err)) == 0);
    int plain_ref = load_probe(plain, NULL);
    int sb_ref = load_probe(sb.L, &sb);

    int compared = 0, stopped = 0, differ = 0;
    for (int i = 0; i < CASES; i++) {
        char s[32], p[64];
        size_t ls = make_subject(s), lp = make_pattern(p);
        int init = next(4) == 0 ? (int)next(31) - 15 : 0;
        size_t la, lb;
        const char *a = probe(plain, plain_ref, NULL, s, ls, p, lp, init, &la);
        REQUIRE(a != NULL);
        const char *b = probe(sb.L, sb_ref, &sb, s, ls, p, lp, init, &lb);
        if (!b) {
            stopped++;
            continue;
        }
        compared++;
        if (la != lb || memcmp(a, b, la) != 0) {
            if (differ++ < 5)
                fprintf(stderr, "differ: subject %.*s pattern %.*s init %d\nlua:\n%.*s\n"
                                "policy:\n%.*s\n", (int)ls, s, (int)lp, p, init, (int)la, a,
                        (int)lb, b);
        }
    }
    fprintf(stderr, "%d cases compared, %d stopped by the budget, %d differ\n", compared,
            stopped, differ);
    CHECK(differ == 0);
    CHECK(stopped < CASES / 100);
    CHECK(compared > CASES * 99 / 100);
    sandbox_close(&sb);
    lua_close(plain);
    return check_done();
}
