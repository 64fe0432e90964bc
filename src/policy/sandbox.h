/* sandbox: the Lua 5.4 state a policy runs in (DESIGN.md §6).
 *
 * Only base (text chunks only), string (no dump), table, math (seeded) and
 * utf8; `require` reaches the policyd helpers (compiled once, through the
 * bytecode cache, and read-only) and .lua files beside the policy; globals
 * cannot be created or changed (also through rawset); __gc finalizers are
 * refused. Every call into the policy runs under an instruction budget that
 * a pcall inside the policy cannot swallow, and the state allocates from
 * process malloc under a byte cap, so a memory bomb gets a Lua memory
 * error, never the process. */
#ifndef POLICYD_POLICY_SANDBOX_H
#define POLICYD_POLICY_SANDBOX_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "policy/bytecode_cache.h"

typedef struct sandbox_config {
    size_t mem_cap;          /* bytes the Lua state may hold; 0 = 64 MiB */
    uint64_t instr_budget;   /* VM instructions per call; 0 = 10 million */
    uint64_t seed;           /* math.random's seed */
    bytecode_cache_t *cache; /* compiled helpers to load from; NULL: compile them */
} sandbox_config_t;

typedef struct sandbox {
    lua_State *L;
    size_t bytes;            /* the state's, by malloc_usable_size */
    size_t mem_cap;
    uint64_t budget;         /* instructions per call */
    uint64_t used;
    bool over;               /* budget spent: every instruction now raises */
    uint64_t seed;
    bytecode_cache_t *cache; /* not owned */
    uint64_t allocs;         /* fault injection: allocations counted, and */
    uint64_t fail_from;      /* from this one on they fail; 0 = never */
    char dir[PATH_MAX];      /* where `require` finds the policy's own files */
    char lua_dir[PATH_MAX];  /* where the policyd helpers are */
} sandbox_t;

/* Opens a sandboxed state for the policy at `policy_path` (its directory is
 * where `require` looks). The sandbox must not move while open: the state
 * points at it. Returns 0, or -1 with "file:1: message" in err. */
int sandbox_open(sandbox_t *sb, const char *policy_path, const sandbox_config_t *cfg, char *err,
                 size_t errlen);

void sandbox_close(sandbox_t *sb);

/* Calls the function below nargs arguments under the instruction budget,
 * as lua_pcall does; on error the message is left on the stack. */
int sandbox_call(sandbox_t *sb, int nargs, int nresults);

/* Pushes require(name), protected (a helper such as "policyd.validate");
 * returns the lua_pcall status, the error message pushed on failure. */
int sandbox_require(sandbox_t *sb, const char *name);

/* Runs fn with one argument, the light userdata ud, in protected mode, on
 * an emptied stack: everything the host does inside the state goes through
 * here, so an error or the byte cap met anywhere is a status, never a
 * panic. Returns LUA_OK, or the status with the error object on the
 * stack. */
int sandbox_protect(sandbox_t *sb, lua_CFunction fn, void *ud);

/* The error object at the top of the stack as text, without a conversion
 * that could allocate. */
void sandbox_error_text(sandbox_t *sb, char *out, size_t len);

#endif
