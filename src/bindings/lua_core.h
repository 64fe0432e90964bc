/* lua_core: the engine as the Lua module `policyd.core`.
 *
 * The busted harness (lua/policyd/testing.lua) drives the real engine
 * through it, with a fake clock. It is compiled into the `policyd` binary
 * and preloaded there (see cli/lua_interp.c): Debian's jemalloc uses initial-exec TLS,
 * so a shared module linked to it cannot be loaded into a stock lua5.4. */
#ifndef POLICYD_BINDINGS_LUA_CORE_H
#define POLICYD_BINDINGS_LUA_CORE_H

#include <lua.h>

int luaopen_policyd_core(lua_State *L);

#endif
