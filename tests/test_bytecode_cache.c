/* The helpers' bytecode cache: a file compiled once loads from its
 * bytecode while its size and modification time stay the same, and is
 * compiled again when either changes. */
#include <fcntl.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "policy/bytecode_cache.h"

static char file[] = "/tmp/test_chunks_XXXXXX";

static void write_file(const char *text, time_t mtime)
{
    FILE *f = fopen(file, "w");
    REQUIRE(f != NULL);
    fputs(text, f);
    REQUIRE(fclose(f) == 0);
    struct timespec times[2] = {{.tv_sec = mtime}, {.tv_sec = mtime}};
    REQUIRE(utimensat(AT_FDCWD, file, times, 0) == 0);
}

/* Loads the file through the cache and runs it; its integer result, or -1. */
static long long run(bytecode_cache_t *c, lua_State *L)
{
    if (bytecode_cache_load(c, L, file) != LUA_OK) {
        lua_pop(L, 1);
        return -1;
    }
    REQUIRE(lua_pcall(L, 0, 1, 0) == LUA_OK);
    long long v = lua_tointeger(L, -1);
    lua_pop(L, 1);
    return v;
}

int main(void)
{
    int fd = mkstemp(file);
    REQUIRE(fd >= 0);
    close(fd);
    bytecode_cache_t *c = bytecode_cache_create();
    REQUIRE(c != NULL);
    lua_State *L = luaL_newstate();
    REQUIRE(L != NULL);
    luaL_openlibs(L);

    write_file("local t = {} for i = 1, 10 do t[i] = i end return #t + 1", 1000000);
    CHECK_EQ_U(run(c, L), 11); /* compiled, and cached */
    CHECK_EQ_U(run(c, L), 11); /* from the bytecode */

    /* Same size and time: the cache cannot tell, and serves the old code.
     * This is the rule it keeps; an edited helper gets a new time. */
    write_file("local t = {} for i = 1, 10 do t[i] = i end return #t + 2", 1000000);
    CHECK_EQ_U(run(c, L), 11);
    write_file("local t = {} for i = 1, 10 do t[i] = i end return #t + 2", 1000001);
    CHECK_EQ_U(run(c, L), 12); /* a new time: compiled again */
    write_file("return 7", 1000001);
    CHECK_EQ_U(run(c, L), 7); /* a new size, the same time */

    /* A helper's error keeps its file and line, from source and bytecode. */
    write_file("local x = 1\nerror('boom')", 1000002);
    for (int i = 0; i < 2; i++) {
        REQUIRE(bytecode_cache_load(c, L, file) == LUA_OK);
        CHECK(lua_pcall(L, 0, 0, 0) != LUA_OK);
        CHECK(strstr(lua_tostring(L, -1), ":2: boom") != NULL);
        lua_pop(L, 1);
    }

    write_file("return (", 1000003);
    CHECK(bytecode_cache_load(c, L, file) == LUA_ERRSYNTAX);
    CHECK(strstr(lua_tostring(L, -1), file) != NULL);
    lua_pop(L, 1);

    unlink(file);
    CHECK(bytecode_cache_load(c, L, file) != LUA_OK);
    lua_pop(L, 1);

    lua_close(L);
    bytecode_cache_free(c);
    return check_done();
}
