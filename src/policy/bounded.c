/* bounded: see bounded.h. Each wrapper checks its arguments itself (so an
 * error names the function the policy called), charges, then hands over
 * to Lua's own function, kept as upvalue 1, or does the work itself. */
#include "policy/bounded.h"

#include <stdint.h>

#include <lauxlib.h>

#include "policy/pattern.h"
#include "policy/sandbox.h"

/* Elements from i to j (0 when j < i), saturating. */
static uint64_t span(lua_Integer i, lua_Integer j)
{
    if (j < i)
        return 0;
    lua_Unsigned n = (lua_Unsigned)j - (lua_Unsigned)i;
    return n == UINT64_MAX ? UINT64_MAX : n + 1;
}

/* Calls the original function (upvalue 1) with the arguments as they now
 * stand and returns what it returns. */
static int call_original(lua_State *L)
{
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* string.rep(s, n [, sep]): the result's bytes, charged and capped before
 * any is made. */
static int bounded_rep(lua_State *L)
{
    size_t ls, lsep;
    luaL_checklstring(L, 1, &ls);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &lsep);
    if (n > 0) {
        uint64_t each = (uint64_t)ls + lsep;
        uint64_t total = each && (uint64_t)n > UINT64_MAX / each ? UINT64_MAX
                                                                 : each * (uint64_t)n - lsep;
        size_t most = sandbox_string_max(L);
        if (total > most)
            return luaL_error(L, "string.rep: a result of %I bytes (a policy's strings hold at "
                                 "most %I)", (lua_Integer)(total > INT64_MAX ? INT64_MAX : total),
                              (lua_Integer)most);
        sandbox_charge(L, 1 + total / 64);
    }
    return call_original(L);
}

/* table.move(a1, f, e, t [, a2]): e - f + 1 elements. */
static int bounded_move(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer f = luaL_checkinteger(L, 2);
    lua_Integer e = luaL_checkinteger(L, 3);
    luaL_checkinteger(L, 4);
    if (!lua_isnoneornil(L, 5))
        luaL_checktype(L, 5, LUA_TTABLE);
    sandbox_charge(L, span(f, e));
    return call_original(L);
}

/* Charges j - i + 1 for the range arguments at `at` and `at + 1` (default
 * 1 and #list), then calls the original with the bounds filled in, so the
 * length is read once. */
static int call_over_range(lua_State *L, int at)
{
    lua_Integer i = luaL_optinteger(L, at, 1);
    lua_Integer j = luaL_opt(L, luaL_checkinteger, at + 1, luaL_len(L, 1));
    sandbox_charge(L, span(i, j));
    lua_settop(L, at - 1);
    lua_pushinteger(L, i);
    lua_pushinteger(L, j);
    return call_original(L);
}

/* table.concat(list [, sep [, i [, j]]]): j - i + 1 elements. */
static int bounded_concat(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_optlstring(L, 2, "", NULL);
    return call_over_range(L, 3);
}

/* table.unpack(list [, i [, j]]): j - i + 1 values. */
static int bounded_unpack(lua_State *L)
{
    return call_over_range(L, 2);
}

/* table.sort(list [, comp]): n log2 n comparisons (a Lua comparator is
 * counted by the hook besides). */
static int bounded_sort(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    if (!lua_isnoneornil(L, 2))
        luaL_checktype(L, 2, LUA_TFUNCTION);
    if (luaL_getmetafield(L, 1, "__len") != LUA_TNIL)
        return luaL_error(L, "table.sort: not for a table with __len in a policy");
    uint64_t n = lua_rawlen(L, 1), log2n = 1;
    while ((n >> log2n) != 0)
        log2n++;
    sandbox_charge(L, n > UINT64_MAX / log2n ? UINT64_MAX : n * log2n);
    return call_original(L);
}

/* table.insert(list, [pos,] value): the elements moved up. */
static int bounded_insert(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer e = (lua_Integer)((lua_Unsigned)luaL_len(L, 1) + 1u); /* first empty slot */
    lua_Integer pos;
    switch (lua_gettop(L)) {
    case 2:
        pos = e;
        break;
    case 3:
        pos = luaL_checkinteger(L, 2);
        luaL_argcheck(L, (lua_Unsigned)pos - 1u < (lua_Unsigned)e, 2, "position out of bounds");
        sandbox_charge(L, (lua_Unsigned)e - (lua_Unsigned)pos);
        for (lua_Integer i = e; i > pos; i--) {
            lua_geti(L, 1, i - 1);
            lua_seti(L, 1, i);
        }
        break;
    default:
        return luaL_error(L, "wrong number of arguments to 'insert'");
    }
    lua_seti(L, 1, pos);
    return 0;
}

/* table.remove(list [, pos]): the elements moved down. */
static int bounded_remove(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer size = luaL_len(L, 1);
    lua_Integer pos = luaL_optinteger(L, 2, size);
    if (pos != size)
        luaL_argcheck(L, (lua_Unsigned)pos - 1u <= (lua_Unsigned)size, 2,
                      "position out of bounds");
    lua_geti(L, 1, pos);
    if (pos < size)
        sandbox_charge(L, (lua_Unsigned)size - (lua_Unsigned)pos);
    for (; pos < size; pos++) {
        lua_geti(L, 1, pos + 1);
        lua_seti(L, 1, pos);
    }
    lua_pushnil(L);
    lua_seti(L, 1, pos);
    return 1;
}

/* lib[name] = fn, with the original lib[name] as its upvalue. */
static void wrap(lua_State *L, int lib, const char *name, lua_CFunction fn)
{
    lua_getfield(L, lib, name);
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, lib, name);
}

void bounded_install(lua_State *L)
{
    lua_getglobal(L, "string");
    int lib = lua_gettop(L);
    wrap(L, lib, "rep", bounded_rep);
    pattern_install(L);
    lua_pop(L, 1);

    lua_getglobal(L, "table");
    lib = lua_gettop(L);
    wrap(L, lib, "move", bounded_move);
    wrap(L, lib, "concat", bounded_concat);
    wrap(L, lib, "unpack", bounded_unpack);
    wrap(L, lib, "sort", bounded_sort);
    lua_pushcfunction(L, bounded_insert);
    lua_setfield(L, lib, "insert");
    lua_pushcfunction(L, bounded_remove);
    lua_setfield(L, lib, "remove");
    lua_pop(L, 1);
}
