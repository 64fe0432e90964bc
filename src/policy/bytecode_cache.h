/* bytecode_cache: the policyd helper modules, compiled once.
 *
 * Every policy load requires the same trusted helpers (policyd,
 * policyd.validate...). Compiling their source was most of a reload's
 * work; a cache keeps each one's bytecode and loads that instead, as long
 * as the file's size and modification time are unchanged. Only policyd's
 * own helpers go through it: a policy's files, and anything a policy
 * passes to load(), are always compiled from source.
 *
 * The cache is process memory, owned by whoever creates it; the Lua states
 * that load from it keep no reference to it. */
#ifndef POLICYD_POLICY_BYTECODE_CACHE_H
#define POLICYD_POLICY_BYTECODE_CACHE_H

#include <lua.h>

typedef struct bytecode_cache bytecode_cache_t;

/* NULL when out of memory. */
bytecode_cache_t *bytecode_cache_create(void);
void bytecode_cache_free(bytecode_cache_t *c);

/* Pushes the main function of the Lua source file `file`, as
 * luaL_loadfilex(L, file, "t") would; returns its LUA_* status, with the
 * error message pushed instead on failure. Cached bytecode is used when the
 * file is unchanged; a file compiled afresh replaces its entry. A failure
 * to cache (out of memory) only costs the next load a compile. */
int bytecode_cache_load(bytecode_cache_t *c, lua_State *L, const char *file);

#endif
