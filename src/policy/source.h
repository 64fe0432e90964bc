/* source: loading Lua source from a file as luaL_loadfilex(L, file, "t")
 * would, but from a regular file only, opened without blocking, and at
 * most POLICY_SOURCE_MAX bytes: a policy, the files it requires and the
 * helpers all come through here (util/file.h), so none can be a FIFO that
 * hangs the daemon or a device that fills its memory. */
#ifndef POLICYD_POLICY_SOURCE_H
#define POLICYD_POLICY_SOURCE_H

#include <lua.h>

#define POLICY_SOURCE_MAX (1u << 20)

/* Pushes the chunk (chunk name "@file"), or an error message; returns its
 * LUA_* status (LUA_ERRFILE when the file cannot be read). */
int source_load(lua_State *L, const char *file);

#endif
