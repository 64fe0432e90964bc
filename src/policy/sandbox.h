/* sandbox: the Lua 5.4 state a policy runs in (DESIGN.md §6).
 *
 * Only base (text chunks only), string (no dump), table, math (seeded) and
 * utf8; `require` reaches the policyd helpers (compiled once, through the
 * bytecode cache, and read-only) and .lua files beside the policy; globals
 * cannot be created or changed (also through rawset); __gc finalizers are
 * refused. Every call into the policy runs under an instruction budget and
 * a deadline that a pcall inside the policy cannot swallow; the library
 * functions whose work is not one instruction (patterns, string.rep, the
 * table functions, load) charge that work to the budget first (bounded.c);
 * the state allocates from process malloc under a byte cap, so a memory
 * bomb gets a Lua memory error, never the process. */
#ifndef POLICYD_POLICY_SANDBOX_H
#define POLICYD_POLICY_SANDBOX_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "policy/bytecode_cache.h"

/* The longest string a policy's state may hold by default: with it, no
 * single instruction (a comparison, a concatenation, a conversion) takes
 * long enough to carry a call far past its deadline. */
#define SANDBOX_STRING_MAX (1u << 20)

/* Nanoseconds on a monotonic clock: deadlines are measured on it. */
typedef uint64_t (*sandbox_clock_fn)(void *ud);

/* A clock that never moves: no deadline passes on it (replays, specs). */
uint64_t sandbox_frozen_clock(void *ud);

typedef struct sandbox_config {
    size_t mem_cap;          /* bytes the Lua state may hold; 0 = 64 MiB */
    uint64_t instr_budget;   /* VM instructions per call; 0 = 10 million */
    size_t string_max;       /* the longest string; 0 = SANDBOX_STRING_MAX */
    uint64_t seed;           /* math.random's seed */
    bytecode_cache_t *cache; /* compiled helpers to load from; NULL: compile them */
    sandbox_clock_fn clock;  /* NULL: CLOCK_MONOTONIC; tests inject one */
    void *clock_ud;
} sandbox_config_t;

typedef struct sandbox {
    lua_State *L;
    size_t bytes;            /* the state's, by malloc_usable_size */
    size_t mem_cap;
    size_t string_max;
    uint64_t budget;         /* instructions per call */
    uint64_t used;
    bool active;             /* a budgeted call is running */
    bool over;               /* budget or time spent: every instruction raises */
    bool late;               /* ...and it was the deadline */
    uint64_t deadline_ns;    /* the running protected call's; 0 = none */
    uint64_t deadline_at;    /* on clock; 0 = none */
    sandbox_clock_fn clock;
    void *clock_ud;
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

/* Calls the function below nargs arguments under the instruction budget
 * (and the deadline of the protected call it runs in), as lua_pcall does;
 * on error the message is left on the stack. */
int sandbox_call(sandbox_t *sb, int nargs, int nresults);

/* Charges `units` instructions of work a C function is about to do to the
 * running call; raises (a budget or deadline error) when that is more than
 * is left, before the work is done. No effect outside a budgeted call. */
void sandbox_charge(lua_State *L, uint64_t units);

/* The longest string the state may hold. */
size_t sandbox_string_max(lua_State *L);

/* Pushes require(name), protected (a helper such as "policyd.validate");
 * returns the lua_pcall status, the error message pushed on failure. */
int sandbox_require(sandbox_t *sb, const char *name);

/* Runs fn with one argument, the light userdata ud, in protected mode, on
 * an emptied stack: everything the host does inside the state goes through
 * here, so an error or the byte cap met anywhere is a status, never a
 * panic. The policy's code that fn calls (sandbox_call) is stopped once
 * deadline_ns have passed since the start (0: no deadline). Returns LUA_OK,
 * or the status with the error object on the stack. */
int sandbox_protect(sandbox_t *sb, lua_CFunction fn, void *ud, uint64_t deadline_ns);

/* The error object at the top of the stack as text, without a conversion
 * that could allocate. */
void sandbox_error_text(sandbox_t *sb, char *out, size_t len);

#endif
