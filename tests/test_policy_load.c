/* Loading policies: the helpers' bytecode cache serves only policyd's own
 * modules, and the Lua state stays under its byte cap. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "policy/bytecode_cache.h"
#include "policy/policy.h"

static char dir[] = "/tmp/test_policy_load_XXXXXX";

static void write_file(const char *name, const char *text, time_t mtime)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    fputs(text, f);
    REQUIRE(fclose(f) == 0);
    struct timespec times[2] = {{.tv_sec = mtime}, {.tv_sec = mtime}};
    REQUIRE(utimensat(AT_FDCWD, path, times, 0) == 0);
}

static policy_t *load(const char *name, const sandbox_config_t *cfg, char *err, size_t errlen)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return policy_load(path, cfg, err, errlen);
}

/* A module of the policy's own whose name starts with "policyd" is still
 * the policy's: compiled from source at every load (even when its size and
 * time are unchanged) and not frozen. */
static void test_own_module_named_policyd(bytecode_cache_t *c)
{
    write_file("policy.lua",
               "local m = require 'policydx'\n"
               "m.seen = true -- a helper would be read-only\n"
               "return { name = m.n, limits = { bytes = '1MB', entries = 10 }, "
               "eviction = 'lru' }\n",
               1000000);
    sandbox_config_t cfg = {.cache = c};
    char err[512];
    for (int i = 0; i < 2; i++) {
        write_file("policydx.lua", i ? "return { n = 'BBBB' }" : "return { n = 'AAAA' }",
                   1000000);
        policy_t *p = load("policy.lua", &cfg, err, sizeof(err));
        CHECK(p != NULL);
        if (!p) {
            fprintf(stderr, "%s\n", err);
            continue;
        }
        policy_info_t in;
        policy_get_info(p, &in);
        CHECK(strcmp(in.name, i ? "BBBB" : "AAAA") == 0);
        policy_free(p);
    }
}

/* A memory bomb caught by the policy itself: the state keeps what it holds
 * under the cap. The cap is checked against the size class jemalloc would
 * hand out (9 MiB and a little takes 10 MiB), so no refused allocation
 * leaves the state over it; under ASan, malloc is ASan's and sizes are
 * exact, and the same bound holds. */
static void test_cap_holds_under_a_bomb(void)
{
    write_file("bomb.lua",
               "local chunk, kept = string.rep('x', 9 * 1024 * 1024), {}\n"
               "pcall(function()\n"
               "  for i = 1, 100 do kept[i] = chunk .. i end\n"
               "end)\n"
               "return { name = 'bomb ' .. #kept, limits = { bytes = '1MB', entries = 10 }, "
               "eviction = 'lru' }\n",
               1000000);
    const size_t cap = (size_t)(59.6 * 1024 * 1024);
    sandbox_config_t cfg = {.mem_cap = cap, .string_max = 16u << 20};
    char err[512];
    policy_t *p = load("bomb.lua", &cfg, err, sizeof(err));
    CHECK(p != NULL);
    if (!p) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    policy_info_t in;
    policy_get_info(p, &in);
    CHECK(strncmp(in.name, "bomb ", 5) == 0 && atoi(in.name + 5) >= 1);
    CHECK(in.lua_bytes <= cap);
    policy_free(p);
}

int main(void)
{
    REQUIRE(mkdtemp(dir) != NULL);
    bytecode_cache_t *c = bytecode_cache_create();
    REQUIRE(c != NULL);
    test_own_module_named_policyd(c);
    test_cap_holds_under_a_bomb();
    bytecode_cache_free(c);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    REQUIRE(system(cmd) == 0);
    return check_done();
}
