/* source: see source.h. */
#include "policy/source.h"

#include <stdlib.h>

#include <lauxlib.h>

#include "util/file.h"

int source_load(lua_State *L, const char *file)
{
    size_t len;
    const char *why;
    char *text = file_read(file, POLICY_SOURCE_MAX, &len, &why);
    if (!text) {
        lua_pushfstring(L, "cannot open %s: %s", file, why);
        return LUA_ERRFILE;
    }
    lua_pushfstring(L, "@%s", file);
    int status = luaL_loadbufferx(L, text, len, lua_tostring(L, -1), "t");
    free(text);
    lua_remove(L, -2);
    return status;
}
