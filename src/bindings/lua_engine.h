/* lua_engine: the engine object of policyd.core as its files share it —
 * lua_core.c (the module, the object's life and clock), lua_session.c
 * (data operations), lua_policy.c (the policy runtime's side and
 * core.policy). Internal to the bindings floor. */
#ifndef POLICYD_BINDINGS_LUA_ENGINE_H
#define POLICYD_BINDINGS_LUA_ENGINE_H

#include <stdint.h>

#include <lauxlib.h>
#include <lua.h>

#include "core/engine.h"
#include "policy/runtime.h"

#define ENGINE_MT "policyd.engine"
#define POLICY_MT "policyd.policy"

/* The clock hook deadlines are measured on in specs: it moves `step`
 * nanoseconds each time it is read (hook_clock_step = seconds), and not at
 * all by default, so a spec's hooks meet their deadlines the same way on
 * any machine. */
typedef struct lua_hook_clock {
    uint64_t now, step;
} lua_hook_clock_t;

/* Reads the clock (sandbox_clock_fn; ud is a lua_hook_clock_t). */
uint64_t lua_hook_clock_read(void *ud);

/* The hook_clock_step field (seconds) of the options table at t. */
lua_hook_clock_t lua_hook_clock_opt(lua_State *L, int t);

typedef struct lua_engine {
    engine_t *engine;
    runtime_t *runtime; /* NULL without a policy */
    int64_t now_ms;     /* the engine's clock: only advance() moves it */
    lua_hook_clock_t hook_clock;
} lua_engine_t;

/* The engine at argument 1; raises if it is closed. */
lua_engine_t *check_engine(lua_State *L);

/* The integer field `name` of the table at t, or def when nil. */
lua_Integer opt_field(lua_State *L, int t, const char *name, lua_Integer def);

/* The strategy named by the string at idx; raises when unknown. */
evict_kind check_strategy(lua_State *L, int idx);

/* t[field] = v for the table at the top. */
void set_int(lua_State *L, const char *field, lua_Integer v);

/* true, or nil and the status's message (the Lua convention). */
int push_status(lua_State *L, pd_status st);

/* A strategy's name ("chooser" for the policy's Lua chooser, -1). */
void push_strategy(lua_State *L, int strategy);

/* The engine's methods, by file. */
extern const luaL_Reg lua_session_methods[];
extern const luaL_Reg lua_runtime_methods[];

/* core.policy(path [, opts]) and its methods (lua_policy.c). */
int lua_policy_new(lua_State *L);
int lua_policy_close(lua_State *L);
extern const luaL_Reg lua_policy_methods[];

#endif
