/* lua_core: see lua_core.h. The engine object's life and clock are here;
 * its data operations are in lua_session.c, its policy side and
 * core.policy in lua_policy.c. Times are milliseconds on the engine's
 * clock, which a Lua engine object owns and only advance() moves. */
#include "bindings/lua_core.h"

#include "bindings/lua_engine.h"

static int64_t fake_clock(void *ud)
{
    return ((lua_engine_t *)ud)->now_ms;
}

lua_engine_t *check_engine(lua_State *L)
{
    lua_engine_t *le = luaL_checkudata(L, 1, ENGINE_MT);
    if (!le->engine)
        luaL_error(L, "policyd.core: engine is closed");
    return le;
}

lua_Integer opt_field(lua_State *L, int t, const char *name, lua_Integer def)
{
    lua_getfield(L, t, name);
    lua_Integer v = luaL_optinteger(L, -1, def);
    lua_pop(L, 1);
    return v;
}

uint64_t lua_hook_clock_read(void *ud)
{
    lua_hook_clock_t *c = ud;
    c->now += c->step;
    return c->now;
}

lua_hook_clock_t lua_hook_clock_opt(lua_State *L, int t)
{
    lua_getfield(L, t, "hook_clock_step");
    lua_Number step = luaL_optnumber(L, -1, 0);
    lua_pop(L, 1);
    luaL_argcheck(L, step >= 0 && step <= 3600, t, "hook_clock_step: seconds from 0 to 3600");
    return (lua_hook_clock_t){.step = (uint64_t)(step * 1e9)};
}

evict_kind check_strategy(lua_State *L, int idx)
{
    size_t len;
    const char *name = luaL_checklstring(L, idx, &len);
    int kind = evict_kind_parse(name, len);
    if (kind < 0)
        luaL_error(L, "unknown eviction strategy '%s'", name);
    return (evict_kind)kind;
}

void set_int(lua_State *L, const char *field, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, field);
}

int push_status(lua_State *L, pd_status st)
{
    if (st == PD_OK) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushnil(L);
    lua_pushstring(L, pd_strerror(st));
    return 2;
}

void push_strategy(lua_State *L, int strategy)
{
    if (strategy < 0)
        lua_pushliteral(L, "chooser");
    else
        lua_pushstring(L, evict_kind_name((evict_kind)strategy));
}

/* core.engine{policy=, seed=, bytes=, sessions=, session_bytes=,
 *             session_entries=, strategy=, lfu_decay=, sample_size=, now=,
 *             hook_clock_step=}
 * With a policy, the policy's limits and strategy win over the fields.
 * Returns the engine, or nil and "file:line: message". */
static int l_engine(lua_State *L)
{
    if (lua_isnoneornil(L, 1))
        lua_newtable(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_engine_t *le = lua_newuserdatauv(L, sizeof(*le), 0);
    le->engine = NULL;
    le->runtime = NULL;
    le->now_ms = opt_field(L, 1, "now", 0);
    le->hook_clock = lua_hook_clock_opt(L, 1);
    luaL_setmetatable(L, ENGINE_MT);
    engine_config_t cfg = {
        .clock = fake_clock,
        .clock_ud = le,
        .seed = (uint64_t)opt_field(L, 1, "seed", 1),
        .limit_bytes = (uint64_t)opt_field(L, 1, "bytes", 0),
        .limit_sessions = (uint32_t)opt_field(L, 1, "sessions", 0),
        .session_limits = {
            .bytes = (uint64_t)opt_field(L, 1, "session_bytes", 0),
            .entries = (uint64_t)opt_field(L, 1, "session_entries", 0),
        },
        .lfu_decay_ms = opt_field(L, 1, "lfu_decay", 0),
        .sample_size = (uint32_t)opt_field(L, 1, "sample_size", 0),
    };
    lua_getfield(L, 1, "strategy");
    if (!lua_isnil(L, -1))
        cfg.strategy = check_strategy(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, 1, "policy");
    const char *path = lua_tostring(L, -1);
    if (path) {
        char err[1024];
        runtime_options_t opt = {.seed = cfg.seed, .clock = lua_hook_clock_read,
                                 .clock_ud = &le->hook_clock};
        le->runtime = runtime_create(path, &opt, err, sizeof(err));
        if (!le->runtime) {
            lua_pushnil(L);
            lua_pushstring(L, err);
            return 2;
        }
        runtime_configure(le->runtime, &cfg);
    }
    lua_pop(L, 1);
    le->engine = engine_create(&cfg);
    if (!le->engine)
        return luaL_error(L, "policyd.core: cannot create an engine");
    if (le->runtime)
        runtime_attach(le->runtime, le->engine);
    return 1;
}

static int l_close(lua_State *L)
{
    lua_engine_t *le = luaL_checkudata(L, 1, ENGINE_MT);
    engine_destroy(le->engine);
    le->engine = NULL;
    runtime_destroy(le->runtime);
    le->runtime = NULL;
    return 0;
}

static int l_now(lua_State *L)
{
    lua_pushinteger(L, check_engine(L)->now_ms);
    return 1;
}

static void expire_all(lua_engine_t *le)
{
    while (engine_expire_step(le->engine, 1000) > 0)
        ;
}

/* e:advance(ms): moves the clock, running active expiry and, in order, every
 * sample that falls due, as the daemon would. */
static int l_advance(lua_State *L)
{
    lua_engine_t *le = check_engine(L);
    lua_Integer ms = luaL_checkinteger(L, 2);
    luaL_argcheck(L, ms >= 0, 2, "time only moves forward");
    int64_t target = le->now_ms + ms;
    while (le->runtime && runtime_next_sample(le->runtime) <= target) {
        le->now_ms = runtime_next_sample(le->runtime);
        expire_all(le);
        runtime_sample(le->runtime);
    }
    le->now_ms = target;
    expire_all(le);
    lua_pushinteger(L, le->now_ms);
    return 1;
}

static const luaL_Reg engine_methods[] = {
    {"close", l_close}, {"now", l_now}, {"advance", l_advance}, {NULL, NULL},
};

/* A userdata type: its methods, and a finalizer that closes it. */
static void register_type(lua_State *L, const char *name, const luaL_Reg *const methods[],
                          lua_CFunction close)
{
    luaL_newmetatable(L, name);
    lua_createtable(L, 0, 24);
    for (; *methods; methods++)
        luaL_setfuncs(L, *methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, close);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
}

int luaopen_policyd_core(lua_State *L)
{
    const luaL_Reg *const engine[] = {engine_methods, lua_session_methods, lua_runtime_methods,
                                      NULL};
    const luaL_Reg *const policy[] = {lua_policy_methods, NULL};
    register_type(L, ENGINE_MT, engine, l_close);
    register_type(L, POLICY_MT, policy, lua_policy_close);
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, l_engine);
    lua_setfield(L, -2, "engine");
    lua_pushcfunction(L, lua_policy_new);
    lua_setfield(L, -2, "policy");
    return 1;
}
