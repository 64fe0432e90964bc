/* policy: loading a policy into a sandboxed Lua state. See policy.h. */
#include "policy/policy.h"

#include <errno.h>
#include <libgen.h>
#include <malloc.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>
#include <sha2.h>

#include "core/arena.h"
#include "policy/bytecode_cache.h"

#define DEFAULT_MEM_CAP (64u << 20)
#define DEFAULT_INSTR_BUDGET 10000000u
#define HOOK_STEP 1000
#define LOADED_KEY "policyd.loaded"
#define FROZEN_KEY "policyd.frozen"   /* read-only proxies, weak keys */
#define NEXT_KEY "policyd.next"
#define MAX_POLICY_FILE (1u << 20)

struct policy {
    lua_State *L;
    size_t bytes;         /* the Lua state's, by malloc_usable_size */
    size_t mem_cap;
    uint64_t budget;      /* instructions per call */
    uint64_t used;
    uint64_t seed;
    bytecode_cache_t *cache;     /* not owned */
    bool over;            /* budget spent: every instruction now raises */
    char path[PATH_MAX];
    char dir[PATH_MAX];   /* where `require` finds the policy's own files */
    char lua_dir[PATH_MAX]; /* where the policyd helpers are */
    int ref;              /* registry ref of the normalized policy table */
    int state_ref;        /* registry ref of act.state */
    policy_info_t info;
    char name[128];
    char sha256[SHA256_DIGEST_STRING_LENGTH];
    char last_error[512];
};

/* --- memory: process memory, growth refused past the cap ---------------- */

/* The state lives in the process's own malloc (thread caches and all), not
 * in an arena of its own: a fresh arena per load, destroyed with the old
 * policy, cost a reload page faults and slow uncached allocations. */
static void *policy_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)osize;
    policy_t *p = ud;
    size_t now = ptr ? malloc_usable_size(ptr) : 0;
    if (nsize == 0) {
        free(ptr);
        p->bytes -= now;
        return NULL;
    }
    /* Against the size class jemalloc will hand out, not the request: a
     * large one rounds up by as much as a quarter. */
    size_t want = arena_size_class(nsize);
    if (want == 0 || (want > now && p->bytes - now + want > p->mem_cap))
        return NULL; /* Lua collects garbage and retries, then raises */
    void *q = realloc(ptr, nsize);
    if (!q)
        return NULL;
    p->bytes = p->bytes - now + malloc_usable_size(q);
    return q;
}

/* --- the instruction budget ---------------------------------------------- */

static policy_t *policy_of(lua_State *L)
{
    return *(policy_t **)lua_getextraspace(L);
}

/* Once the budget is spent the hook fires on every instruction, so a pcall
 * in the policy that catches the error gets no further: the next
 * instruction raises again, all the way out to the host. */
static void budget_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    policy_t *p = policy_of(L);
    if (!p->over) {
        p->used += HOOK_STEP;
        if (p->used <= p->budget)
            return;
        p->over = true;
        lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
    }
    luaL_error(L, "instruction budget exceeded (%I instructions)", (lua_Integer)p->budget);
}

static void budget_start(policy_t *p)
{
    p->used = 0;
    p->over = false;
    lua_sethook(p->L, budget_hook, LUA_MASKCOUNT, HOOK_STEP);
}

/* Calls the function below nargs arguments under the budget; on error the
 * message is left on the stack. */
static int budget_call(policy_t *p, int nargs, int nresults)
{
    budget_start(p);
    int rc = lua_pcall(p->L, nargs, nresults, 0);
    lua_sethook(p->L, NULL, 0, 0);
    return rc;
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

/* __pairs of a proxy: iterate the real table. */
static int frozen_pairs(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(2)); /* next */
    lua_pushvalue(L, lua_upvalueindex(1)); /* the real table */
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
    lua_getfield(L, LUA_REGISTRYINDEX, NEXT_KEY);
    lua_pushcclosure(L, frozen_pairs, 2);
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
 * cannot change what the host and its helpers rely on. */
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
static int sandbox_require(lua_State *L)
{
    policy_t *p = policy_of(L);
    const char *name = luaL_checkstring(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, LOADED_KEY);
    lua_getfield(L, -1, name);
    if (!lua_isnil(L, -1))
        return 1;
    lua_pop(L, 1);
    char file[PATH_MAX * 2];
    if (strlen(name) > 128)
        return luaL_error(L, "module name too long");
    /* Only the host's own helpers are trusted: cached and frozen. */
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
                                     : luaL_loadfilex(L, file, "t");
    if (status != LUA_OK)
        return luaL_error(L, "module '%s' not found: %s", name, lua_tostring(L, -1));
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    } else if (lua_istable(L, -1) && helper) {
        freeze_top(L); /* the host trusts these: nobody may change them */
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, name);
    return 1;
}

static int sandbox_setup(lua_State *L)
{
    policy_t *p = policy_of(L);
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},         {LUA_STRLIBNAME, luaopen_string},
        {LUA_TABLIBNAME, luaopen_table},   {LUA_MATHLIBNAME, luaopen_math},
        {LUA_UTF8LIBNAME, luaopen_utf8},   {NULL, NULL},
    };
    for (const luaL_Reg *lib = libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
    static const char *const removed[] = {"dofile", "loadfile", NULL};
    for (const char *const *g = removed; *g; g++) {
        lua_pushnil(L);
        lua_setglobal(L, *g);
    }
    lua_pushcfunction(L, sandbox_load);
    lua_setglobal(L, "load");
    lua_pushcfunction(L, sandbox_rawset);
    lua_setglobal(L, "rawset");
    lua_pushcfunction(L, sandbox_setmetatable);
    lua_setglobal(L, "setmetatable");
    lua_pushcfunction(L, sandbox_require);
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
    lua_getglobal(L, "next");
    lua_setfield(L, LUA_REGISTRYINDEX, NEXT_KEY);

    /* Globals move to a hidden table; the global table stays empty with a
     * read-only view of it, so a policy can neither create a global nor
     * replace one (require, type, pairs...) that the host's helpers use.
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

/* The first line of the file where `field` is assigned, so a validation
 * error can say file:line like every other policy error; 1 if not found. */
static int field_line(const char *path, const char *field)
{
    /* "unknown field 'limts' ..." names the field in quotes. */
    const char *quoted = strstr(field, "unknown field '");
    if (quoted)
        field = quoted + strlen("unknown field '");
    char key[64];
    size_t n = strcspn(field, ".:[ '");
    if (n == 0 || n >= sizeof(key))
        return 1;
    memcpy(key, field, n);
    key[n] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    char line[1024];
    for (int no = 1; fgets(line, sizeof(line), f); no++) {
        for (char *at = strstr(line, key); at; at = strstr(at + 1, key)) {
            bool starts = at == line || !(at[-1] == '_' || (at[-1] >= 'a' && at[-1] <= 'z') ||
                                          (at[-1] >= 'A' && at[-1] <= 'Z') ||
                                          (at[-1] >= '0' && at[-1] <= '9'));
            const char *rest = at + n;
            while (*rest == ' ' || *rest == '\t')
                rest++;
            if (starts && *rest == '=' && rest[1] != '=') {
                fclose(f);
                return no;
            }
        }
    }
    fclose(f);
    return 1;
}

/* --- reading the normalized table ---------------------------------------- */

static uint64_t get_uint(lua_State *L, int t, const char *field)
{
    lua_getfield(L, t, field);
    lua_Integer v = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
    lua_pop(L, 1);
    return v > 0 ? (uint64_t)v : 0;
}

/* Reads {bytes=, entries=, eviction=} at the top of the stack. */
static void read_limits(lua_State *L, session_limits_t *out, int *strategy)
{
    out->bytes = get_uint(L, -1, "bytes");
    out->entries = get_uint(L, -1, "entries");
    lua_getfield(L, -1, "eviction");
    if (lua_type(L, -1) == LUA_TSTRING) {
        size_t len;
        const char *name = lua_tolstring(L, -1, &len);
        *strategy = evict_kind_parse(name, len);
    }
    lua_pop(L, 1);
}

static void read_info(policy_t *p)
{
    lua_State *L = p->L;
    policy_info_t *in = &p->info;
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->ref);
    lua_getfield(L, -1, "name");
    snprintf(p->name, sizeof(p->name), "%s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "");
    in->name = p->name;
    in->path = p->path;
    in->sha256 = p->sha256;
    lua_pop(L, 1);
    lua_getfield(L, -1, "system");
    if (lua_istable(L, -1)) {
        in->system_bytes = get_uint(L, -1, "bytes");
        in->system_sessions = (uint32_t)get_uint(L, -1, "sessions");
    }
    lua_pop(L, 1);
    lua_getfield(L, -1, "eviction");
    in->strategy = -1;
    if (lua_type(L, -1) == LUA_TSTRING)
        in->strategy = evict_kind_parse(lua_tostring(L, -1), lua_rawlen(L, -1));
    lua_pop(L, 1);
    lua_getfield(L, -1, "sample_interval");
    in->sample_interval = lua_tonumber(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, -1, "limits");
    in->limits_function = lua_isfunction(L, -1);
    if (lua_istable(L, -1)) {
        int ignored = in->strategy;
        read_limits(L, &in->limits, &ignored);
    }
    lua_pop(L, 2);
}

/* --- loading ------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s:1: cannot open %s: %s", path, path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(MAX_POLICY_FILE + 1);
    size_t n = buf ? fread(buf, 1, MAX_POLICY_FILE + 1, f) : 0;
    bool failed = !buf || ferror(f);
    fclose(f);
    if (failed || n > MAX_POLICY_FILE) {
        snprintf(err, errlen, "%s:1: %s", path,
                 failed ? "cannot read the file" : "a policy file is at most 1 MiB");
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

policy_t *policy_load(const char *path, const policy_config_t *cfg, char *err,
                      size_t errlen)
{
    policy_t *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "%s:1: out of memory", path);
        return NULL;
    }
    p->ref = LUA_NOREF;
    p->state_ref = LUA_NOREF;
    p->mem_cap = cfg && cfg->mem_cap ? cfg->mem_cap : DEFAULT_MEM_CAP;
    p->budget = cfg && cfg->instr_budget ? cfg->instr_budget : DEFAULT_INSTR_BUDGET;
    p->seed = cfg ? cfg->seed : 0;
    p->cache = cfg ? cfg->cache : NULL;
    snprintf(p->path, sizeof(p->path), "%s", path);
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", path);
    snprintf(p->dir, sizeof(p->dir), "%s", dirname(tmp));
    if (!find_lua_dir(p->lua_dir, sizeof(p->lua_dir))) {
        snprintf(err, errlen, "%s:1: cannot find the policyd Lua helpers "
                              "(policyd/validate.lua); is policyd installed?", path);
        free(p);
        return NULL;
    }
    lua_State *L = p->L = lua_newstate(policy_alloc, p);
    if (!L) {
        snprintf(err, errlen, "%s:1: cannot create a Lua state", path);
        goto failed;
    }
    *(policy_t **)lua_getextraspace(L) = p;
    lua_pushcfunction(L, sandbox_setup);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK)
        goto lua_failed;
    /* One read: what is hashed is what runs. Lua's own messages already
     * read "file:line: message". */
    size_t len;
    char *text = read_file(path, &len, err, errlen);
    if (!text)
        goto failed;
    SHA256Data((const uint8_t *)text, len, p->sha256);
    char chunkname[PATH_MAX + 1];
    snprintf(chunkname, sizeof(chunkname), "@%s", path);
    int rc = luaL_loadbufferx(L, text, len, chunkname, "t");
    free(text);
    if (rc != LUA_OK || budget_call(p, 0, 1) != LUA_OK)
        goto lua_failed;
    if (!lua_istable(L, -1)) {
        snprintf(err, errlen, "%s:1: a policy must return a table, not %s", path,
                 luaL_typename(L, -1));
        goto failed;
    }
    lua_getglobal(L, "require");
    lua_pushliteral(L, "policyd.validate");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK)
        goto lua_failed;
    lua_insert(L, -2);
    if (budget_call(p, 1, 1) != LUA_OK) {
        /* validate's messages name the field; find the line it is on. */
        const char *msg = lua_tostring(L, -1);
        snprintf(err, errlen, "%s:%d: %s", path, field_line(path, msg ? msg : ""),
                 msg ? msg : "invalid policy");
        goto failed;
    }
    p->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    p->state_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    read_info(p);
    return p;
lua_failed: {
        const char *msg = lua_tostring(L, -1);
        if (msg && strncmp(msg, path, strlen(path)) == 0)
            snprintf(err, errlen, "%s", msg);
        else
            snprintf(err, errlen, "%s:1: %s", path, msg ? msg : "error");
    }
failed:
    policy_free(p);
    return NULL;
}

void policy_free(policy_t *p)
{
    if (!p)
        return;
    if (p->L)
        lua_close(p->L);
    free(p);
}

void policy_get_info(const policy_t *p, policy_info_t *out)
{
    *out = p->info;
    out->lua_bytes = p->bytes;
    if (!out->last_error)
        out->last_error = "";
}

int policy_session_limits(policy_t *p, const char *name, size_t len,
                          session_limits_t *out, int *strategy, char *err,
                          size_t errlen)
{
    lua_State *L = p->L;
    *strategy = p->info.strategy;
    if (!p->info.limits_function) {
        *out = p->info.limits;
        lua_rawgeti(L, LUA_REGISTRYINDEX, p->ref);
        lua_getfield(L, -1, "limits");
        read_limits(L, out, strategy);
        lua_pop(L, 2);
        return 0;
    }
    /* limits(name), then validate.limits(result). */
    lua_getglobal(L, "require");
    lua_pushliteral(L, "policyd.validate");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK)
        goto failed;
    lua_getfield(L, -1, "limits");
    lua_remove(L, -2);
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->ref);
    lua_getfield(L, -1, "limits");
    lua_remove(L, -2);
    lua_pushlstring(L, name, len);
    if (budget_call(p, 1, 1) != LUA_OK || budget_call(p, 1, 1) != LUA_OK)
        goto failed;
    read_limits(L, out, strategy);
    lua_pop(L, 1);
    return 0;
failed:
    snprintf(err, errlen, "%s: limits(\"%.*s\"): %s", p->path, (int)(len < 64 ? len : 64),
             name, lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
    lua_settop(L, 0);
    return -1;
}

/* --- hooks into the engine ----------------------------------------------- */

static void hook_failed(policy_t *p, const char *what)
{
    p->info.hook_errors++;
    const char *msg = lua_tostring(p->L, -1);
    snprintf(p->last_error, sizeof(p->last_error), "%s: %s", what, msg ? msg : "error");
    p->info.last_error = p->last_error;
    lua_settop(p->L, 0);
}

int policy_apply_limits(policy_t *p, session_t *s)
{
    session_limits_t lim;
    int strategy;
    char err[512];
    if (policy_session_limits(p, s->name, s->name_len, &lim, &strategy, err, sizeof(err)) != 0) {
        p->info.hook_errors++;
        snprintf(p->last_error, sizeof(p->last_error), "%s", err);
        p->info.last_error = p->last_error;
        return -1;
    }
    session_set_limits(s, lim);
    session_set_strategy(s, strategy < 0 ? EVICT_CHOOSER : (evict_kind)strategy);
    return 0;
}

static void set_number(lua_State *L, const char *field, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, field);
}

int policy_choose(void *ud, session_t *s, const evict_candidate_t *c, size_t n)
{
    (void)s;
    policy_t *p = ud;
    lua_State *L = p->L;
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_createtable(L, 0, 7);
        lua_pushlstring(L, (const char *)c[i].key, c[i].klen);
        lua_setfield(L, -2, "key");
        lua_pushinteger(L, (lua_Integer)c[i].bytes);
        lua_setfield(L, -2, "bytes");
        set_number(L, "idle", (double)c[i].idle_ms / 1000.0);
        set_number(L, "age", (double)c[i].age_ms / 1000.0);
        lua_pushinteger(L, c[i].hits);
        lua_setfield(L, -2, "hits");
        lua_pushinteger(L, c[i].frequency);
        lua_setfield(L, -2, "frequency");
        if (c[i].ttl_ms >= 0)
            set_number(L, "ttl", (double)c[i].ttl_ms / 1000.0);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->ref);
    lua_getfield(L, -1, "eviction");
    lua_remove(L, -2);
    lua_pushvalue(L, -2);
    if (budget_call(p, 1, 1) != LUA_OK) {
        hook_failed(p, "eviction");
        return -1;
    }
    int pick = -1;
    size_t klen;
    const char *key = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &klen) : NULL;
    for (size_t i = 0; i < n && pick < 0; i++) {
        if (key) {
            if (klen == c[i].klen && memcmp(key, c[i].key, klen) == 0)
                pick = (int)i;
        } else {
            lua_rawgeti(L, -2, (lua_Integer)i + 1);
            if (lua_rawequal(L, -1, -2))
                pick = (int)i;
            lua_pop(L, 1);
        }
    }
    if (pick < 0) {
        lua_pushfstring(L, "the chooser returned %s, not one of the candidates or its key",
                        luaL_typename(L, -1));
        hook_failed(p, "eviction");
        return -1;
    }
    lua_pop(L, 2);
    return pick;
}

void policy_configure(policy_t *p, engine_config_t *cfg)
{
    cfg->limit_bytes = p->info.system_bytes;
    cfg->limit_sessions = p->info.system_sessions;
    cfg->strategy = p->info.strategy < 0 ? EVICT_CHOOSER : (evict_kind)p->info.strategy;
}

/* --- hooks --------------------------------------------------------------- */

/* Drops the actions past `len` (a hook that failed after recording). */
static void actions_truncate(policy_actions_t *a, size_t len)
{
    while (a->len > len)
        free(a->items[--a->len].session);
}

void policy_actions_free(policy_actions_t *a)
{
    for (size_t i = 0; i < a->len; i++)
        free(a->items[i].session);
    free(a->items);
    *a = (policy_actions_t){0};
}

static void set_uint(lua_State *L, const char *field, uint64_t v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, field);
}

static void push_snapshot(lua_State *L, const policy_snapshot_t *snap)
{
    lua_createtable(L, 0, 3);
    set_number(L, "time", snap->time);
    lua_createtable(L, 0, 6);
    set_uint(L, "bytes", snap->bytes);
    set_uint(L, "allocated", snap->allocated);
    set_uint(L, "resident", snap->resident);
    set_uint(L, "sessions", snap->sessions);
    set_uint(L, "limit_bytes", snap->limit_bytes);
    set_uint(L, "limit_sessions", snap->limit_sessions);
    set_uint(L, "outside_bytes", snap->outside_bytes);
    set_number(L, "outside_growth_bytes_per_min", snap->outside_growth_bytes_per_min);
    lua_setfield(L, -2, "system");
    lua_createtable(L, (int)snap->len, 0);
    double now_ms = snap->time * 1000.0;
    for (size_t i = 0; i < snap->len; i++) {
        const session_t *s = snap->list[i].session;
        lua_createtable(L, 0, 13);
        lua_pushlstring(L, s->name, s->name_len);
        lua_setfield(L, -2, "name");
        set_uint(L, "bytes", session_bytes(s));
        set_uint(L, "entries", session_entries(s));
        set_uint(L, "limit_bytes", s->limits.bytes);
        set_uint(L, "limit_entries", s->limits.entries);
        set_uint(L, "hits", s->counters.hits);
        set_uint(L, "misses", s->counters.misses);
        set_uint(L, "evictions", s->counters.evictions);
        set_uint(L, "expirations", s->counters.expirations);
        set_number(L, "growth_bytes_per_min", snap->list[i].growth_bytes_per_min);
        set_number(L, "idle_seconds", (now_ms - (double)s->used_ms) / 1000.0);
        set_number(L, "age_seconds", (now_ms - (double)s->store.created_ms) / 1000.0);
        lua_pushboolean(L, s->writes_denied);
        lua_setfield(L, -2, "writes_denied");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "sessions");
}

static int snapshot_fn(lua_State *L)
{
    push_snapshot(L, lua_touserdata(L, 1));
    return 1;
}

/* Pushes the snapshot; building it may run out of the state's memory, so
 * it runs protected. On failure the error message is pushed instead. */
static bool push_snapshot_protected(lua_State *L, const policy_snapshot_t *snap)
{
    lua_pushcfunction(L, snapshot_fn);
    lua_pushlightuserdata(L, (void *)snap);
    return lua_pcall(L, 1, 1, 0) == LUA_OK;
}

/* Pushes the hook `name` of the policy table, or returns false (nothing
 * pushed) when the policy has none. */
static bool push_hook(policy_t *p, const char *name)
{
    lua_rawgeti(p->L, LUA_REGISTRYINDEX, p->ref);
    lua_getfield(p->L, -1, name);
    lua_remove(p->L, -2);
    if (lua_isfunction(p->L, -1))
        return true;
    lua_pop(p->L, 1);
    return false;
}

/* Pushes act and its records list. */
static int push_act(policy_t *p)
{
    lua_State *L = p->L;
    lua_getglobal(L, "require");
    lua_pushliteral(L, "policyd.act");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK)
        return -1;
    lua_getfield(L, -1, "new");
    lua_remove(L, -2);
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->state_ref);
    return lua_pcall(L, 1, 2, 0) == LUA_OK ? 0 : -1;
}

static void copy_field(lua_State *L, int t, const char *field, char *out, size_t len)
{
    lua_getfield(L, t, field);
    const char *v = lua_tostring(L, -1);
    snprintf(out, len, "%s", v ? v : "");
    lua_pop(L, 1);
}

static double number_field(lua_State *L, int t, const char *field, bool *has)
{
    lua_getfield(L, t, field);
    *has = lua_isnumber(L, -1);
    double v = lua_tonumber(L, -1);
    lua_pop(L, 1);
    return v;
}

static const char *const op_names[] = {
    [POLICY_ALERT] = "alert", [POLICY_EVICT] = "evict", [POLICY_PURGE] = "purge",
    [POLICY_CLEAR] = "clear", [POLICY_DROP] = "drop", [POLICY_DENY_WRITES] = "deny_writes",
    [POLICY_SET_LIMITS] = "set_limits", [POLICY_LOG] = "log",
};

/* Appends the records at `idx` (checked by policyd.act) to out. Runs
 * protected (see take_records_protected): reading may allocate. */
static int take_records(lua_State *L, int idx, policy_actions_t *out)
{
    lua_Integer n = luaL_len(L, idx);
    for (lua_Integer i = 1; i <= n; i++) {
        if (out->len == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 8;
            policy_action_t *items = realloc(out->items, cap * sizeof(*items));
            if (!items)
                return -1;
            out->items = items;
            out->cap = cap;
        }
        policy_action_t *a = &out->items[out->len];
        memset(a, 0, sizeof(*a));
        lua_rawgeti(L, idx, i);
        int r = lua_gettop(L);
        char op[16];
        copy_field(L, r, "op", op, sizeof(op));
        for (size_t k = 0; k < sizeof(op_names) / sizeof(op_names[0]); k++)
            if (strcmp(op, op_names[k]) == 0)
                a->op = (policy_op)k;
        /* out->len counts this item once it owns its name, so an error
         * below leaves nothing half-built behind. */
        lua_getfield(L, r, "session");
        a->has_session = lua_type(L, -1) == LUA_TSTRING;
        if (a->has_session) {
            size_t len;
            const char *name = lua_tolstring(L, -1, &len);
            a->session = malloc(len + 1);
            if (!a->session)
                return -1;
            memcpy(a->session, name, len);
            a->session[len] = '\0';
            a->session_len = len;
        }
        out->len++;
        lua_pop(L, 1);
        copy_field(L, r, "kind", a->alert.kind, sizeof(a->alert.kind));
        copy_field(L, r, "message", a->alert.message, sizeof(a->alert.message));
        copy_field(L, r, "session", a->alert.session, sizeof(a->alert.session));
        copy_field(L, r, "level", a->level, sizeof(a->level));
        char severity[16];
        copy_field(L, r, "severity", severity, sizeof(severity));
        int sev = alert_severity_parse(severity);
        a->alert.severity = sev < 0 ? ALERT_INFO : (alert_severity)sev;
        a->alert.value = number_field(L, r, "value", &a->alert.has_value);
        a->alert.threshold = number_field(L, r, "threshold", &a->alert.has_threshold);
        bool has;
        a->bytes = (uint64_t)number_field(L, r, "bytes", &has);
        a->to = number_field(L, r, "to", &a->use_to);
        lua_getfield(L, r, "deny");
        a->deny = lua_toboolean(L, -1);
        lua_pop(L, 1);
        a->strategy = -1;
        lua_getfield(L, r, "limits");
        if (lua_istable(L, -1))
            read_limits(L, &a->limits, &a->strategy);
        lua_settop(L, r - 1);
    }
    return 0;
}

static int take_records_fn(lua_State *L)
{
    policy_actions_t *out = lua_touserdata(L, 2);
    if (take_records(L, 1, out) != 0)
        return luaL_error(L, "out of memory recording actions");
    return 0;
}

/* Calls the hook with the nargs arguments above it and act appended. On
 * success appends its records to out, keeps act.state (a hook may have
 * replaced the table), and leaves the hook's results on the stack; on
 * failure leaves the error message. */
static int call_with_act(policy_t *p, int nargs, int nresults, policy_actions_t *out)
{
    lua_State *L = p->L;
    int hook = lua_gettop(L) - nargs;
    if (push_act(p) != 0)
        return -1;
    /* hook args act records -> records act hook args act */
    lua_rotate(L, hook, 1);
    lua_pushvalue(L, -1);
    lua_rotate(L, hook + 1, 1);
    int rc = budget_call(p, nargs + 1, nresults);
    /* records act results-or-error */
    if (rc == LUA_OK) {
        lua_getfield(L, hook + 1, "state");
        if (lua_istable(L, -1))
            lua_rawseti(L, LUA_REGISTRYINDEX, p->state_ref);
        else
            lua_pop(L, 1);
        lua_pushcfunction(L, take_records_fn);
        lua_pushvalue(L, hook);
        lua_pushlightuserdata(L, out);
        rc = lua_pcall(L, 2, 0, 0);
    }
    lua_remove(L, hook);
    lua_remove(L, hook);
    return rc == LUA_OK ? 0 : -1;
}

int policy_on_sample(policy_t *p, const policy_snapshot_t *snap,
                     policy_actions_t *out, char *err, size_t errlen)
{
    lua_State *L = p->L;
    if (!push_hook(p, "on_sample"))
        return 1;
    if (!push_snapshot_protected(L, snap)) {
        snprintf(err, errlen, "on_sample: %s", lua_tostring(L, -1));
        hook_failed(p, "on_sample");
        return -1;
    }
    size_t before = out->len;
    if (call_with_act(p, 1, 0, out) != 0) {
        actions_truncate(out, before);
        snprintf(err, errlen, "on_sample: %s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
        hook_failed(p, "on_sample");
        return -1;
    }
    lua_settop(L, 0);
    return 0;
}

int policy_on_session_open(policy_t *p, const char *name, size_t len,
                           const policy_snapshot_t *snap, session_limits_t *lim,
                           int *strategy, policy_actions_t *out, char *err,
                           size_t errlen)
{
    lua_State *L = p->L;
    if (!push_hook(p, "on_session_open"))
        return 0;
    lua_pushlstring(L, name, len);
    if (!push_snapshot_protected(L, snap)) {
        snprintf(err, errlen, "on_session_open: %s", lua_tostring(L, -1));
        hook_failed(p, "on_session_open");
        return -1;
    }
    size_t before = out->len;
    if (call_with_act(p, 2, 2, out) != 0) {
        actions_truncate(out, before);
        snprintf(err, errlen, "on_session_open: %s",
                 lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
        hook_failed(p, "on_session_open");
        return -1;
    }
    /* stack: result, reason */
    int rc = 0;
    if (lua_isboolean(L, -2) && !lua_toboolean(L, -2)) {
        const char *reason = lua_tostring(L, -1);
        snprintf(err, errlen, "%s", reason ? reason : "refused by the policy");
        rc = 2;
    } else if (lua_istable(L, -2)) {
        lua_pop(L, 1);
        /* A limits table: normalized like the policy's own. */
        lua_getglobal(L, "require");
        lua_pushliteral(L, "policyd.validate");
        if (lua_pcall(L, 1, 1, 0) == LUA_OK) {
            lua_getfield(L, -1, "limits");
            lua_remove(L, -2);
            lua_pushvalue(L, -2);
            if (budget_call(p, 1, 1) == LUA_OK) {
                *strategy = p->info.strategy;
                read_limits(L, lim, strategy);
                rc = 1;
            }
        }
        if (rc != 1) {
            actions_truncate(out, before);
            snprintf(err, errlen, "on_session_open: %s",
                     lua_tostring(L, -1) ? lua_tostring(L, -1) : "invalid limits");
            hook_failed(p, "on_session_open");
            return -1;
        }
    }
    lua_settop(L, 0);
    return rc;
}

/* Copying act.state into a new state on reload: plain data only, depth
 * and size bounded, shared tables copied once (a memo in `to`), and run
 * protected, since it allocates in `to`. */
#define COPY_MAX_DEPTH 32
#define COPY_MAX_VALUES 1000000

typedef struct copy_ctx {
    lua_State *from;
    int memo;     /* index in `to` of {from-pointer -> copied table} */
    long values;
} copy_ctx_t;

static void copy_value(copy_ctx_t *c, int idx, lua_State *to, int depth)
{
    lua_State *from = c->from;
    if (++c->values > COPY_MAX_VALUES)
        luaL_error(to, "act.state is too large to carry over (over %d values)", COPY_MAX_VALUES);
    if (!lua_checkstack(to, 4) || !lua_checkstack(from, 4))
        luaL_error(to, "act.state is too deep to carry over");
    switch (lua_type(from, idx)) {
    case LUA_TBOOLEAN:
        lua_pushboolean(to, lua_toboolean(from, idx));
        return;
    case LUA_TNUMBER:
        if (lua_isinteger(from, idx))
            lua_pushinteger(to, lua_tointeger(from, idx));
        else
            lua_pushnumber(to, lua_tonumber(from, idx));
        return;
    case LUA_TSTRING: {
        size_t len;
        const char *str = lua_tolstring(from, idx, &len);
        lua_pushlstring(to, str, len);
        return;
    }
    case LUA_TTABLE:
        break;
    default:
        lua_pushnil(to);
        return;
    }
    if (depth >= COPY_MAX_DEPTH)
        luaL_error(to, "act.state is nested more than %d deep", COPY_MAX_DEPTH);
    idx = lua_absindex(from, idx);
    lua_pushlightuserdata(to, (void *)lua_topointer(from, idx));
    if (lua_rawget(to, c->memo) == LUA_TTABLE)
        return; /* already copied: keep the sharing (and cycles) */
    lua_pop(to, 1);
    lua_newtable(to);
    lua_pushlightuserdata(to, (void *)lua_topointer(from, idx));
    lua_pushvalue(to, -2);
    lua_rawset(to, c->memo);
    lua_pushnil(from);
    while (lua_next(from, idx)) {
        copy_value(c, -2, to, depth + 1);
        copy_value(c, -1, to, depth + 1);
        if (lua_isnil(to, -2) || lua_isnil(to, -1))
            lua_pop(to, 2);
        else
            lua_rawset(to, -3);
        lua_pop(from, 1);
    }
}

/* to: (from, lightuserdata) -> the copy of from's top value. */
static int copy_fn(lua_State *L)
{
    copy_ctx_t c = {.from = lua_touserdata(L, 1)};
    lua_newtable(L);
    c.memo = lua_gettop(L);
    copy_value(&c, -1, L, 0);
    return 1;
}

int policy_take_state(policy_t *to, policy_t *from, char *err, size_t errlen)
{
    lua_State *L = to->L;
    bool hook = push_hook(to, "on_reload");
    lua_rawgeti(from->L, LUA_REGISTRYINDEX, from->state_ref);
    lua_pushcfunction(L, copy_fn);
    lua_pushlightuserdata(L, from->L);
    int rc = lua_pcall(L, 1, 1, 0);
    lua_pop(from->L, 1);
    if (rc != LUA_OK) {
        snprintf(err, errlen, "%s: %s", to->path, lua_tostring(L, -1));
        lua_settop(L, 0);
        return -1;
    }
    if (!hook) {
        lua_rawseti(L, LUA_REGISTRYINDEX, to->state_ref);
        return 0;
    }
    lua_pushvalue(L, -1); /* the old state stays the state unless replaced */
    lua_rawseti(L, LUA_REGISTRYINDEX, to->state_ref);
    if (budget_call(to, 1, 1) != LUA_OK) {
        snprintf(err, errlen, "%s: on_reload: %s", to->path,
                 lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
        lua_settop(L, 0);
        return -1;
    }
    if (lua_istable(L, -1))
        lua_rawseti(L, LUA_REGISTRYINDEX, to->state_ref);
    lua_settop(L, 0);
    return 0;
}
