/* sandbox: see sandbox.h. */
#include "policy/sandbox.h"

#include <libgen.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "core/arena.h"
#include "policy/bounded.h"
#include "policy/source.h"
#include "util/log.h"

#define DEFAULT_MEM_CAP (64u << 20)
#define DEFAULT_INSTR_BUDGET 10000000u
#define HOOK_STEP 1000
#define PRINT_MAX 512
#define ALLOC_BYTES_PER_INSTRUCTION 64 /* about what one instruction costs */
#define LARGE_ALLOC (64u << 10)        /* past this, an allocation reads the clock */
#define STRING_HEADER 25               /* a TString's header (24 bytes in 64-bit
                                          Lua 5.4) and its '\0' */
#define LOADED_KEY "policyd.loaded"
#define FROZEN_KEY "policyd.frozen"   /* read-only proxies, weak keys */

/* --- the budget: instructions and a deadline ----------------------------- */

static sandbox_t *sandbox_of(lua_State *L)
{
    return *(sandbox_t **)lua_getextraspace(L);
}

static uint64_t monotonic_ns(void *ud)
{
    (void)ud;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t sandbox_frozen_clock(void *ud)
{
    (void)ud;
    return 0;
}

static bool past_deadline(sandbox_t *p)
{
    return p->deadline_at && p->clock(p->clock_ud) >= p->deadline_at;
}

static void budget_hook(lua_State *L, lua_Debug *ar);

/* From now on every instruction of the call raises: a pcall in the policy
 * that catches the error gets no further. */
static void stop_call(sandbox_t *p, bool late)
{
    if (p->over)
        return;
    p->over = true;
    p->late = late;
    lua_sethook(p->L, budget_hook, LUA_MASKCOUNT, 1);
}

static int raise_stopped(lua_State *L, sandbox_t *p)
{
    if (p->late) {
        char ms[32];
        snprintf(ms, sizeof(ms), "%g", (double)p->deadline_ns / 1e6);
        return luaL_error(L, "deadline exceeded (%s ms)", ms);
    }
    return luaL_error(L, "instruction budget exceeded (%I instructions)", (lua_Integer)p->budget);
}

/* Every HOOK_STEP instructions: the count and the clock. */
static void budget_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    sandbox_t *p = sandbox_of(L);
    if (!p->over) {
        p->used += HOOK_STEP;
        if (p->used > p->budget)
            stop_call(p, false);
        else if (past_deadline(p))
            stop_call(p, true);
        else
            return;
    }
    raise_stopped(L, p);
}

void sandbox_charge(lua_State *L, uint64_t units)
{
    sandbox_t *p = sandbox_of(L);
    if (!p->active)
        return;
    p->used = units > UINT64_MAX - p->used ? UINT64_MAX : p->used + units;
    if (p->used > p->budget)
        stop_call(p, false);
    else if (past_deadline(p))
        stop_call(p, true);
    if (p->over)
        raise_stopped(L, p);
}

size_t sandbox_string_max(lua_State *L)
{
    return sandbox_of(L)->string_max;
}

int sandbox_call(sandbox_t *p, int nargs, int nresults)
{
    p->used = 0;
    p->over = p->late = false;
    p->active = true;
    lua_sethook(p->L, budget_hook, LUA_MASKCOUNT, HOOK_STEP);
    int rc = lua_pcall(p->L, nargs, nresults, 0);
    lua_sethook(p->L, NULL, 0, 0);
    p->active = false;
    return rc;
}

/* --- memory: process memory, growth refused past the cap ---------------- */

/* The state lives in the process's own malloc (thread caches and all), not
 * in an arena of its own: a fresh arena per load, destroyed with the old
 * policy, cost a reload page faults and slow uncached allocations.
 * Growth during a call is work too (a concatenation or a string.rep is one
 * instruction whatever its length): it is charged to the budget, and a
 * large one looks at the clock. The allocator cannot raise; it stops the
 * call at its next instruction. */
static void *sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    sandbox_t *p = ud;
    size_t now = ptr ? malloc_usable_size(ptr) : 0;
    if (nsize == 0) {
        free(ptr);
        p->bytes -= now;
        return NULL;
    }
    if (p->fail_from && ++p->allocs >= p->fail_from)
        return NULL; /* fault injection: as if at the cap */
    /* A new object: osize is its type. */
    if (!ptr && osize == LUA_TSTRING && nsize > p->string_max + STRING_HEADER)
        return NULL;
    /* Against the size class jemalloc will hand out, not the request: a
     * large one rounds up by as much as a quarter. */
    size_t want = arena_size_class(nsize);
    if (want == 0 || (want > now && p->bytes - now + want > p->mem_cap))
        return NULL; /* Lua collects garbage and retries, then raises */
    void *q = realloc(ptr, nsize);
    if (!q)
        return NULL;
    p->bytes = p->bytes - now + malloc_usable_size(q);
    if (p->active && nsize > now) {
        p->used += (nsize - now) / ALLOC_BYTES_PER_INSTRUCTION;
        if (p->used > p->budget)
            stop_call(p, false);
        else if (nsize - now >= LARGE_ALLOC && past_deadline(p))
            stop_call(p, true);
    }
    return q;
}

/* --- the sandbox --------------------------------------------------------- */

static int no_new_globals(lua_State *L)
{
    return luaL_error(L, "assignment to global '%s' (policies may not create or "
                         "change globals; use local)", luaL_tolstring(L, 2, NULL));
}

static bool is_frozen(lua_State *L, int idx)
{
    lua_getfield(L, LUA_REGISTRYINDEX, FROZEN_KEY);
    lua_pushvalue(L, idx);
    bool frozen = lua_rawget(L, -2) != LUA_TNIL;
    lua_pop(L, 2);
    return frozen;
}

static int frozen_write(lua_State *L)
{
    return luaL_error(L, "libraries and policyd helpers are read-only in a policy");
}

/* The iterator of a proxy: next() over the real table (its upvalue),
 * which never leaves C: handing the real table out, as a plain __pairs
 * returning next would, let a policy change what the helpers rely on. */
static int frozen_next(lua_State *L)
{
    lua_settop(L, 2);
    if (lua_next(L, lua_upvalueindex(1)) == 0) {
        lua_pushnil(L);
        return 1;
    }
    return 2;
}

/* __pairs of a proxy: frozen_next, the proxy, nil. */
static int frozen_pairs(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1)); /* frozen_next over the real table */
    lua_pushvalue(L, 1);                   /* the proxy: state for the loop */
    lua_pushnil(L);
    return 3;
}

/* __call of a proxy of a callable table: call the real one. */
static int frozen_call(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_replace(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* Gives the table at idx the metatable of a read-only view of `real`
 * (idx and real may be the same table only when it is kept empty). */
static void make_view(lua_State *L, int idx, int real, lua_CFunction on_write)
{
    idx = lua_absindex(L, idx);
    real = lua_absindex(L, real);
    lua_createtable(L, 0, 5);
    lua_pushvalue(L, real);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, on_write);
    lua_setfield(L, -2, "__newindex");
    lua_pushvalue(L, real);
    lua_pushcclosure(L, frozen_next, 1);
    lua_pushcclosure(L, frozen_pairs, 1);
    lua_setfield(L, -2, "__pairs");
    if (luaL_getmetafield(L, real, "__call") != LUA_TNIL) {
        lua_pop(L, 1);
        lua_pushvalue(L, real);
        lua_pushcclosure(L, frozen_call, 1);
        lua_setfield(L, -2, "__call");
    }
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, idx);
    lua_getfield(L, LUA_REGISTRYINDEX, FROZEN_KEY);
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

/* Replaces the table at the top with a read-only proxy of it, so a policy
 * cannot change what policyd and its helpers rely on. */
static void freeze_top(lua_State *L)
{
    lua_newtable(L);
    make_view(L, -1, -2, frozen_write);
    lua_remove(L, -2);
}

/* rawset, except on the globals and on read-only proxies. */
static int sandbox_rawset(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    if (is_frozen(L, 1))
        return luaL_error(L, "rawset: this table is read-only in a policy");
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

/* setmetatable, refusing finalizers: __gc would run outside any hook's
 * instruction budget (during collection, or when the state closes). */
static int sandbox_setmetatable(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int t = lua_type(L, 2);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
        return luaL_error(L, "cannot change a protected metatable");
    if (t == LUA_TTABLE && lua_getfield(L, 2, "__gc") != LUA_TNIL)
        return luaL_error(L, "__gc finalizers are not allowed in a policy");
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

/* collectgarbage("count") only: a full collection is one instruction to
 * the budget but can take seconds on a big state. The collector runs
 * anyway, in steps, as the state allocates. */
static int sandbox_collectgarbage(lua_State *L)
{
    const char *opt = luaL_optstring(L, 1, "collect");
    if (strcmp(opt, "count") != 0)
        return luaL_error(L, "collectgarbage: only \"count\" in a policy, not \"%s\"", opt);
    lua_pushnumber(L, (lua_Number)lua_gc(L, LUA_GCCOUNT, 0) +
                      (lua_Number)lua_gc(L, LUA_GCCOUNTB, 0) / 1024.0);
    return 1;
}

/* print(...): to the daemon's log at debug level, at most PRINT_MAX bytes
 * a call — never to a stdout nobody may be reading (a full pipe would
 * block the loop). */
static int sandbox_print(lua_State *L)
{
    char line[PRINT_MAX + 1];
    size_t used = 0;
    int n = lua_gettop(L);
    for (int i = 1; i <= n && used < PRINT_MAX; i++) {
        size_t len;
        const char *s = luaL_tolstring(L, i, &len);
        if (i > 1)
            line[used++] = '\t';
        size_t take = len < PRINT_MAX - used ? len : PRINT_MAX - used;
        memcpy(line + used, s, take);
        used += take;
        lua_pop(L, 1);
    }
    line[used] = '\0';
    log_event(LOG_DEBUG, "policy print", "text", line, NULL);
    return 0;
}

/* load(string [, chunkname [, mode [, env]]]): text chunks only. */
static int sandbox_load(lua_State *L)
{
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    if (!s)
        return luaL_error(L, "load: only strings can be loaded in a policy");
    const char *mode = luaL_optstring(L, 3, "t");
    if (strchr(mode, 'b'))
        return luaL_error(L, "load: binary chunks are not allowed in a policy");
    const char *chunkname = luaL_optstring(L, 2, s);
    sandbox_charge(L, len); /* compiling is work: an instruction a byte */
    if (luaL_loadbufferx(L, s, len, chunkname, "t") != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    if (!lua_isnone(L, 4)) {
        lua_pushvalue(L, 4);
        if (!lua_setupvalue(L, -2, 1))
            lua_pop(L, 1);
    }
    return 1;
}

static bool module_name_ok(const char *name, bool dots)
{
    if (!*name)
        return false;
    for (const char *c = name; *c; c++)
        if (!(*c == '_' || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              (*c >= '0' && *c <= '9') || (dots && *c == '.' && c[1] && c[1] != '.')))
            return false;
    return true;
}

/* require(name): "policyd" and "policyd.x" from the helpers, a plain name
 * from a .lua file beside the policy; nothing else. */
static int sandbox_require_fn(lua_State *L)
{
    sandbox_t *p = sandbox_of(L);
    const char *name = luaL_checkstring(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, LOADED_KEY);
    lua_getfield(L, -1, name);
    if (!lua_isnil(L, -1))
        return 1;
    lua_pop(L, 1);
    char file[PATH_MAX * 2];
    if (strlen(name) > 128)
        return luaL_error(L, "module name too long");
    /* Only policyd's own helpers are trusted: cached and frozen. */
    bool helper = true;
    if (strcmp(name, "policyd") == 0) {
        snprintf(file, sizeof(file), "%s/policyd/init.lua", p->lua_dir);
    } else if (strncmp(name, "policyd.", 8) == 0 && module_name_ok(name + 8, true)) {
        /* policyd.a.b -> <lua_dir>/policyd/a/b.lua */
        size_t dir_len = strlen(p->lua_dir) + 1;
        snprintf(file, sizeof(file), "%s/%s.lua", p->lua_dir, name);
        for (char *c = file + dir_len; c < file + dir_len + strlen(name); c++)
            if (*c == '.')
                *c = '/';
    } else if (module_name_ok(name, false)) {
        helper = false;
        snprintf(file, sizeof(file), "%s/%s.lua", p->dir, name);
    } else {
        return luaL_error(L, "module '%s' is not available to a policy (only policyd "
                             "helpers and .lua files beside the policy)", name);
    }
    int status = helper && p->cache ? bytecode_cache_load(p->cache, L, file)
                                     : source_load(L, file);
    if (status != LUA_OK)
        return luaL_error(L, "module '%s' not found: %s", name, lua_tostring(L, -1));
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    } else if (lua_istable(L, -1) && helper) {
        freeze_top(L); /* policyd trusts these: nobody may change them */
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, name);
    return 1;
}

static int sandbox_setup(lua_State *L)
{
    sandbox_t *p = sandbox_of(L);
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},         {LUA_STRLIBNAME, luaopen_string},
        {LUA_TABLIBNAME, luaopen_table},   {LUA_MATHLIBNAME, luaopen_math},
        {LUA_UTF8LIBNAME, luaopen_utf8},   {NULL, NULL},
    };
    for (const luaL_Reg *lib = libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
    bounded_install(L);
    static const char *const removed[] = {"dofile", "loadfile", NULL};
    for (const char *const *g = removed; *g; g++) {
        lua_pushnil(L);
        lua_setglobal(L, *g);
    }
    lua_pushcfunction(L, sandbox_collectgarbage);
    lua_setglobal(L, "collectgarbage");
    lua_pushcfunction(L, sandbox_print);
    lua_setglobal(L, "print");
    lua_pushcfunction(L, sandbox_load);
    lua_setglobal(L, "load");
    lua_pushcfunction(L, sandbox_rawset);
    lua_setglobal(L, "rawset");
    lua_pushcfunction(L, sandbox_setmetatable);
    lua_setglobal(L, "setmetatable");
    lua_pushcfunction(L, sandbox_require_fn);
    lua_setglobal(L, "require");
    lua_getglobal(L, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    /* Deterministic random numbers: specs replay the same run. */
    lua_getglobal(L, LUA_MATHLIBNAME);
    lua_getfield(L, -1, "randomseed");
    lua_pushinteger(L, (lua_Integer)p->seed);
    lua_call(L, 1, 0);
    lua_pop(L, 1);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, LOADED_KEY);
    lua_createtable(L, 0, 1); /* proxies, weakly keyed */
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, FROZEN_KEY);

    /* Globals move to a hidden table; the global table stays empty with a
     * read-only view of it, so a policy can neither create a global nor
     * replace one (require, type, pairs...) that policyd's helpers use.
     * The libraries become read-only views too. */
    lua_newtable(L);
    int hidden = lua_gettop(L);
    lua_pushglobaltable(L);
    int globals = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, globals)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, hidden);
    }
    static const char *const frozen_libs[] = {
        LUA_STRLIBNAME, LUA_TABLIBNAME, LUA_MATHLIBNAME, LUA_UTF8LIBNAME, NULL,
    };
    for (const char *const *lib = frozen_libs; *lib; lib++) {
        lua_getfield(L, hidden, *lib);
        freeze_top(L);
        lua_setfield(L, hidden, *lib);
        lua_pushnil(L);
        lua_setfield(L, globals, *lib);
    }
    for (lua_pushnil(L); lua_next(L, hidden); lua_pop(L, 1)) {
        lua_pushvalue(L, -2);
        lua_pushnil(L);
        lua_rawset(L, globals);
    }
    make_view(L, globals, hidden, no_new_globals);
    /* Strings' metatable (methods such as s:rep) stays out of reach. */
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    return 0;
}

/* --- finding things ------------------------------------------------------ */

/* The helpers' directory: lua/ of a build tree beside the binary, else an
 * installed share/lua/5.4. */
static bool find_lua_dir(char *out, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        const char *bin = dirname(exe);
        const char *rel[] = {"../lua", "../share/lua/5.4"};
        for (size_t i = 0; i < 2; i++) {
            char probe[PATH_MAX * 2];
            snprintf(out, len, "%s/%s", bin, rel[i]);
            snprintf(probe, sizeof(probe), "%s/policyd/validate.lua", out);
            if (access(probe, R_OK) == 0)
                return true;
        }
    }
    const char *fixed[] = {"/usr/local/share/lua/5.4", "/usr/share/lua/5.4",
                           POLICYD_SOURCE_LUA_DIR};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        char probe[PATH_MAX * 2];
        snprintf(probe, sizeof(probe), "%s/policyd/validate.lua", fixed[i]);
        if (access(probe, R_OK) == 0) {
            snprintf(out, len, "%s", fixed[i]);
            return true;
        }
    }
    return false;
}

int sandbox_open(sandbox_t *sb, const char *policy_path, const sandbox_config_t *cfg, char *err,
                 size_t errlen)
{
    *sb = (sandbox_t){
        .mem_cap = cfg && cfg->mem_cap ? cfg->mem_cap : DEFAULT_MEM_CAP,
        .string_max = cfg && cfg->string_max ? cfg->string_max : SANDBOX_STRING_MAX,
        .budget = cfg && cfg->instr_budget ? cfg->instr_budget : DEFAULT_INSTR_BUDGET,
        .seed = cfg ? cfg->seed : 0,
        .cache = cfg ? cfg->cache : NULL,
        .clock = cfg && cfg->clock ? cfg->clock : monotonic_ns,
        .clock_ud = cfg ? cfg->clock_ud : NULL,
    };
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", policy_path);
    snprintf(sb->dir, sizeof(sb->dir), "%s", dirname(tmp));
    if (!find_lua_dir(sb->lua_dir, sizeof(sb->lua_dir))) {
        snprintf(err, errlen, "%s:1: cannot find the policyd Lua helpers "
                              "(policyd/validate.lua); is policyd installed?", policy_path);
        return -1;
    }
    lua_State *L = sb->L = lua_newstate(sandbox_alloc, sb);
    if (!L) {
        snprintf(err, errlen, "%s:1: cannot create a Lua state", policy_path);
        return -1;
    }
    *(sandbox_t **)lua_getextraspace(L) = sb;
    lua_pushcfunction(L, sandbox_setup);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        snprintf(err, errlen, "%s:1: %s", policy_path, msg ? msg : "error");
        sandbox_close(sb);
        return -1;
    }
    return 0;
}

void sandbox_close(sandbox_t *sb)
{
    if (sb->L)
        lua_close(sb->L);
    sb->L = NULL;
}

int sandbox_protect(sandbox_t *sb, lua_CFunction fn, void *ud, uint64_t deadline_ns)
{
    lua_State *L = sb->L;
    sb->deadline_ns = deadline_ns;
    sb->deadline_at = deadline_ns ? sb->clock(sb->clock_ud) + deadline_ns : 0;
    lua_settop(L, 0); /* room for the two pushes without growing */
    lua_pushcfunction(L, fn);
    lua_pushlightuserdata(L, ud);
    int rc = lua_pcall(L, 1, 0, 0);
    sb->deadline_ns = sb->deadline_at = 0;
    return rc;
}

void sandbox_error_text(sandbox_t *sb, char *out, size_t len)
{
    lua_State *L = sb->L;
    /* Read without converting: a conversion allocates, and the state may
     * be at its cap. */
    int t = lua_gettop(L) ? lua_type(L, -1) : LUA_TNONE;
    if (t == LUA_TSTRING)
        snprintf(out, len, "%s", lua_tostring(L, -1));
    else if (t == LUA_TNUMBER)
        snprintf(out, len, "%.14g", (double)lua_tonumber(L, -1));
    else
        snprintf(out, len, "(error object is a %s value)", lua_typename(L, t));
}

int sandbox_require(sandbox_t *sb, const char *name)
{
    lua_getglobal(sb->L, "require");
    lua_pushstring(sb->L, name);
    return lua_pcall(sb->L, 1, 1, 0);
}
