/* state_copy: carrying act.state from the running policy into the one a
 * reload brings, for its on_reload(old_state). */
#include <stdbool.h>
#include <stdio.h>

#include <lauxlib.h>

#include "policy/policy_internal.h"

/* Copying act.state into a new state on reload: plain data only, depth
 * and size bounded, shared tables copied once (a memo in `to`), and run
 * protected, since it allocates in `to`. */
#define COPY_MAX_DEPTH 32
#define COPY_MAX_VALUES 1000000

typedef struct copy_ctx {
    lua_State *from;
    int memo;     /* index in `to` of {from-pointer -> copied table} */
    long values;
} copy_ctx_t;

static void copy_value(copy_ctx_t *c, int idx, lua_State *to, int depth)
{
    lua_State *from = c->from;
    if (++c->values > COPY_MAX_VALUES)
        luaL_error(to, "act.state is too large to carry over (over %d values)", COPY_MAX_VALUES);
    if (!lua_checkstack(to, 4) || !lua_checkstack(from, 4))
        luaL_error(to, "act.state is too deep to carry over");
    switch (lua_type(from, idx)) {
    case LUA_TBOOLEAN:
        lua_pushboolean(to, lua_toboolean(from, idx));
        return;
    case LUA_TNUMBER:
        if (lua_isinteger(from, idx))
            lua_pushinteger(to, lua_tointeger(from, idx));
        else
            lua_pushnumber(to, lua_tonumber(from, idx));
        return;
    case LUA_TSTRING: {
        size_t len;
        const char *str = lua_tolstring(from, idx, &len);
        lua_pushlstring(to, str, len);
        return;
    }
    case LUA_TTABLE:
        break;
    default:
        lua_pushnil(to);
        return;
    }
    if (depth >= COPY_MAX_DEPTH)
        luaL_error(to, "act.state is nested more than %d deep", COPY_MAX_DEPTH);
    idx = lua_absindex(from, idx);
    lua_pushlightuserdata(to, (void *)lua_topointer(from, idx));
    if (lua_rawget(to, c->memo) == LUA_TTABLE)
        return; /* already copied: keep the sharing (and cycles) */
    lua_pop(to, 1);
    lua_newtable(to);
    lua_pushlightuserdata(to, (void *)lua_topointer(from, idx));
    lua_pushvalue(to, -2);
    lua_rawset(to, c->memo);
    lua_pushnil(from);
    while (lua_next(from, idx)) {
        copy_value(c, -2, to, depth + 1);
        copy_value(c, -1, to, depth + 1);
        if (lua_isnil(to, -2) || lua_isnil(to, -1))
            lua_pop(to, 2);
        else
            lua_rawset(to, -3);
        lua_pop(from, 1);
    }
}

/* to: (from, lightuserdata) -> the copy of from's top value. */
static int copy_fn(lua_State *L)
{
    copy_ctx_t c = {.from = lua_touserdata(L, 1)};
    lua_newtable(L);
    c.memo = lua_gettop(L);
    copy_value(&c, -1, L, 0);
    return 1;
}

typedef struct take {
    policy_t *to, *from;
    bool dropped;       /* the old state could not be carried over */
    char why[300];
} take_t;

static int take_body(lua_State *L)
{
    take_t *k = lua_touserdata(L, 1);
    lua_settop(L, 0);
    /* The old state is read with nothing that allocates in its own state
     * (lua_next, lua_checkstack checked), so only `to` can run out. */
    lua_State *from = k->from->sb.L;
    lua_rawgeti(from, LUA_REGISTRYINDEX, k->from->state_ref);
    lua_pushcfunction(L, copy_fn);
    lua_pushlightuserdata(L, from);
    int rc = lua_pcall(L, 1, 1, 0);
    lua_pop(from, 1);
    if (rc != LUA_OK) {
        /* A reload is always possible: a state that cannot come along is
         * dropped (the runtime alerts), and on_reload gets an empty one. */
        k->dropped = true;
        sandbox_error_text(&k->to->sb, k->why, sizeof(k->why));
        lua_settop(L, 0);
        lua_newtable(L);
    }
    lua_pushvalue(L, -1); /* the old state stays the state unless replaced */
    lua_rawseti(L, LUA_REGISTRYINDEX, k->to->state_ref);
    if (!policy_push_hook(k->to, "on_reload"))
        return 0;
    lua_insert(L, -2);
    if (sandbox_call(&k->to->sb, 1, 1) != LUA_OK)
        return lua_error(L);
    if (lua_type(L, -1) == LUA_TTABLE)
        lua_rawseti(L, LUA_REGISTRYINDEX, k->to->state_ref);
    return 0;
}

int policy_take_state(policy_t *to, policy_t *from, char *err, size_t errlen)
{
    take_t k = {.to = to, .from = from};
    if (sandbox_protect(&to->sb, take_body, &k, POLICY_LOAD_DEADLINE_NS) != LUA_OK) {
        char msg[400];
        sandbox_error_text(&to->sb, msg, sizeof(msg));
        snprintf(err, errlen, "%s: on_reload: %s", to->path, msg);
        lua_settop(to->sb.L, 0);
        return -1;
    }
    lua_settop(to->sb.L, 0);
    if (!k.dropped)
        return 0;
    snprintf(err, errlen, "act.state could not be carried over and was dropped: %s", k.why);
    return 1;
}
