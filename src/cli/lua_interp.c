/* lua_interp: see lua_interp.h. */
#include "cli/lua_interp.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "bindings/lua_core.h"

static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
    return 1;
}

/* Puts lua/ beside the binary's directory first on package.path, so a build
 * tree finds the Lua modules under lua/ without installing. */
static void add_source_path(lua_State *L)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    const char *dir = dirname(exe);
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    lua_pushfstring(L, "%s/../lua/?.lua;%s/../lua/?/init.lua;%s", dir, dir,
                    lua_tostring(L, -1));
    lua_setfield(L, -3, "path");
    lua_pop(L, 2);
}

int lua_interp_main(int argc, char **argv, const char *self)
{
    if (argc < 1) {
        fprintf(stderr, "usage: policyd lua SCRIPT [ARGS...]\n");
        return 2;
    }
    lua_State *L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "policyd: cannot create a Lua state\n");
        return 1;
    }
    luaL_openlibs(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_policyd_core);
    lua_setfield(L, -2, "policyd.core");
    lua_pop(L, 1);
    add_source_path(L);

    /* arg, as the stock interpreter builds it. */
    lua_createtable(L, argc, 1);
    lua_pushstring(L, self);
    lua_rawseti(L, -2, -1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i);
    }
    lua_setglobal(L, "arg");

    lua_pushcfunction(L, traceback);
    int rc = luaL_loadfile(L, argv[0]);
    if (rc == LUA_OK) {
        for (int i = 1; i < argc; i++)
            lua_pushstring(L, argv[i]);
        rc = lua_pcall(L, argc - 1, 0, 1);
    }
    if (rc != LUA_OK)
        fprintf(stderr, "policyd: %s\n", lua_tostring(L, -1));
    lua_close(L);
    return rc == LUA_OK ? 0 : 1;
}
