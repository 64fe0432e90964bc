/* lua_core: see lua_core.h. Times are milliseconds on the engine's clock,
 * which a Lua engine object owns and only advance() moves. */
#include "bindings/lua_core.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "core/engine.h"
#include "policy/runtime.h"
#include "policy/policy.h"

#define ENGINE_MT "policyd.engine"
#define POLICY_MT "policyd.policy"

typedef struct lua_engine {
    engine_t *engine;
    runtime_t *runtime; /* NULL without a policy */
    int64_t now_ms;
} lua_engine_t;

static int64_t fake_clock(void *ud)
{
    return ((lua_engine_t *)ud)->now_ms;
}

static lua_engine_t *check_engine(lua_State *L)
{
    lua_engine_t *le = luaL_checkudata(L, 1, ENGINE_MT);
    if (!le->engine)
        luaL_error(L, "policyd.core: engine is closed");
    return le;
}

static lua_Integer opt_field(lua_State *L, int t, const char *name, lua_Integer def)
{
    lua_getfield(L, t, name);
    lua_Integer v = luaL_optinteger(L, -1, def);
    lua_pop(L, 1);
    return v;
}

static evict_kind check_strategy(lua_State *L, int idx)
{
    size_t len;
    const char *name = luaL_checklstring(L, idx, &len);
    int kind = evict_kind_parse(name, len);
    if (kind < 0)
        luaL_error(L, "unknown eviction strategy '%s'", name);
    return (evict_kind)kind;
}

/* core.engine{policy=, seed=, bytes=, sessions=, session_bytes=,
 *             session_entries=, strategy=, lfu_decay=, sample_size=, now=}
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
        le->runtime = runtime_create(path, cfg.seed, err, sizeof(err));
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

static runtime_t *check_host(lua_State *L, lua_engine_t *le)
{
    if (!le->runtime)
        luaL_error(L, "policyd.core: this engine has no policy");
    return le->runtime;
}

/* e:sample(): one sample now. */
static int l_sample(lua_State *L)
{
    lua_engine_t *le = check_engine(L);
    runtime_sample(check_host(L, le));
    return 0;
}

/* e:reload(path): true, or nil and "file:line: message". */
static int l_reload(lua_State *L)
{
    lua_engine_t *le = check_engine(L);
    const char *path = luaL_checkstring(L, 2);
    char err[1024];
    if (runtime_reload(check_host(L, le), path, err, sizeof(err)) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static void push_alert(lua_State *L, const alert_t *a)
{
    lua_createtable(L, 0, 7);
    lua_pushnumber(L, (double)a->time_ms / 1000.0);
    lua_setfield(L, -2, "time");
    lua_pushstring(L, alert_severity_name(a->severity));
    lua_setfield(L, -2, "severity");
    lua_pushstring(L, a->kind);
    lua_setfield(L, -2, "kind");
    if (a->session[0]) {
        lua_pushstring(L, a->session);
        lua_setfield(L, -2, "session");
    }
    lua_pushstring(L, a->message);
    lua_setfield(L, -2, "message");
    if (a->has_value) {
        lua_pushnumber(L, a->value);
        lua_setfield(L, -2, "value");
    }
    if (a->has_threshold) {
        lua_pushnumber(L, a->threshold);
        lua_setfield(L, -2, "threshold");
    }
}

/* e:alerts(): every delivered alert kept, oldest first. */
static int l_alerts(lua_State *L)
{
    lua_engine_t *le = check_engine(L);
    alerts_t *al = runtime_alerts(check_host(L, le));
    enum { MAX = 1024 };
    alert_t *recent = malloc(MAX * sizeof(*recent));
    if (!recent)
        return luaL_error(L, "policyd.core: out of memory");
    size_t n = alerts_recent(al, recent, MAX);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        push_alert(L, &recent[n - 1 - i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    free(recent);
    return 1;
}

static const char *const action_names[] = {
    [POLICY_ALERT] = "alert", [POLICY_EVICT] = "evict", [POLICY_PURGE] = "purge",
    [POLICY_CLEAR] = "clear", [POLICY_DROP] = "drop", [POLICY_DENY_WRITES] = "deny_writes",
    [POLICY_SET_LIMITS] = "set_limits", [POLICY_LOG] = "log",
};

static void push_action(lua_State *L, const policy_action_t *a)
{
    lua_createtable(L, 0, 6);
    lua_pushstring(L, action_names[a->op]);
    lua_setfield(L, -2, "op");
    if (a->has_session) {
        lua_pushlstring(L, a->session, a->session_len);
        lua_setfield(L, -2, "session");
    }
    switch (a->op) {
    case POLICY_ALERT:
        lua_pushstring(L, alert_severity_name(a->alert.severity));
        lua_setfield(L, -2, "severity");
        lua_pushstring(L, a->alert.kind);
        lua_setfield(L, -2, "kind");
        lua_pushstring(L, a->alert.message);
        lua_setfield(L, -2, "message");
        break;
    case POLICY_EVICT:
        if (a->use_to)
            lua_pushnumber(L, a->to);
        else
            lua_pushinteger(L, (lua_Integer)a->bytes);
        lua_setfield(L, -2, a->use_to ? "to" : "bytes");
        break;
    case POLICY_DENY_WRITES:
        lua_pushboolean(L, a->deny);
        lua_setfield(L, -2, "deny");
        break;
    case POLICY_SET_LIMITS:
        lua_createtable(L, 0, 3);
        if (a->limits.bytes) {
            lua_pushinteger(L, (lua_Integer)a->limits.bytes);
            lua_setfield(L, -2, "bytes");
        }
        if (a->limits.entries) {
            lua_pushinteger(L, (lua_Integer)a->limits.entries);
            lua_setfield(L, -2, "entries");
        }
        if (a->strategy >= 0) {
            lua_pushstring(L, evict_kind_name((evict_kind)a->strategy));
            lua_setfield(L, -2, "eviction");
        }
        lua_setfield(L, -2, "limits");
        break;
    case POLICY_LOG:
        lua_pushstring(L, a->level);
        lua_setfield(L, -2, "level");
        lua_pushstring(L, a->alert.message);
        lua_setfield(L, -2, "message");
        break;
    case POLICY_PURGE:
    case POLICY_CLEAR:
    case POLICY_DROP:
        break;
    }
}

/* e:actions(): every action applied so far, oldest first. */
static int l_actions(lua_State *L)
{
    lua_engine_t *le = check_engine(L);
    const policy_actions_t *log = runtime_actions(check_host(L, le));
    lua_createtable(L, (int)log->len, 0);
    for (size_t i = 0; i < log->len; i++) {
        push_action(L, &log->items[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static session_t *find_session(lua_State *L, lua_engine_t *le, int idx)
{
    size_t len;
    const char *name = luaL_checklstring(L, idx, &len);
    return engine_find(le->engine, name, len);
}

/* The (session, key) arguments of a read: the session or NULL, and key. */
static session_t *session_key(lua_State *L, const char **key, size_t *klen)
{
    session_t *s = find_session(L, check_engine(L), 2);
    *key = luaL_checklstring(L, 3, klen);
    return s;
}

/* Returns nil, message for a failed status (the Lua convention). */
static int push_status(lua_State *L, pd_status st)
{
    if (st == PD_OK) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushnil(L);
    lua_pushstring(L, pd_strerror(st));
    return 2;
}

/* e:set(session, key, value [, {ttl=ms, nx=, xx=, keepttl=}]) */
static int l_set(lua_State *L)
{
    lua_engine_t *le = check_engine(L);
    size_t nlen, klen, vlen;
    const char *name = luaL_checklstring(L, 2, &nlen);
    const char *key = luaL_checklstring(L, 3, &klen);
    const char *val = luaL_checklstring(L, 4, &vlen);
    int flags = 0;
    int64_t expire_at = 0;
    if (lua_istable(L, 5)) {
        lua_Integer ttl = opt_field(L, 5, "ttl", 0);
        luaL_argcheck(L, ttl >= 0, 5, "ttl must not be negative");
        if (ttl > 0)
            expire_at = le->now_ms + ttl;
        lua_getfield(L, 5, "nx");
        flags |= lua_toboolean(L, -1) ? SESSION_SET_NX : 0;
        lua_getfield(L, 5, "xx");
        flags |= lua_toboolean(L, -1) ? SESSION_SET_XX : 0;
        lua_getfield(L, 5, "keepttl");
        flags |= lua_toboolean(L, -1) ? SESSION_SET_KEEPTTL : 0;
        lua_pop(L, 3);
    }
    session_t *s;
    pd_status st = engine_open(le->engine, name, nlen, &s);
    if (st == PD_OK)
        st = session_set(s, key, klen, val, vlen, flags, expire_at, NULL, NULL);
    if (st == PD_REFUSED && le->runtime) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", pd_strerror(st), runtime_refusal(le->runtime));
        return 2;
    }
    return push_status(L, st);
}

static int l_get(lua_State *L)
{
    size_t klen;
    const char *key;
    session_t *s = session_key(L, &key, &klen);
    const unsigned char *val;
    size_t vlen;
    if (s && session_get(s, key, klen, &val, &vlen) == PD_OK)
        lua_pushlstring(L, (const char *)val, vlen);
    else
        lua_pushnil(L);
    return 1;
}

static int l_del(lua_State *L)
{
    size_t klen;
    const char *key;
    session_t *s = session_key(L, &key, &klen);
    lua_pushboolean(L, s && session_del(s, key, klen) == PD_OK);
    return 1;
}

static int l_exists(lua_State *L)
{
    size_t klen;
    const char *key;
    session_t *s = session_key(L, &key, &klen);
    lua_pushboolean(L, s && session_exists(s, key, klen));
    return 1;
}

/* e:pttl(session, key): ms left, -1 without expiry, -2 missing (as PTTL). */
static int l_pttl(lua_State *L)
{
    size_t klen;
    const char *key;
    session_t *s = session_key(L, &key, &klen);
    lua_pushinteger(L, s ? session_pttl(s, key, klen) : SESSION_TTL_MISSING);
    return 1;
}

static void set_int(lua_State *L, const char *field, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, field);
}

/* e:info(session): the SESSION INFO fields, or nil. arena_bytes comes from
 * jemalloc's statistics, refreshed for the call. */
static int l_info(lua_State *L)
{
    lua_engine_t *le = check_engine(L);
    session_t *s = find_session(L, le, 2);
    if (!s) {
        lua_pushnil(L);
        return 1;
    }
    arena_stats_t st = {0};
    if (arena_stats_refresh() != 0 || arena_stats(&s->store.arena, &st) != 0)
        return luaL_error(L, "policyd.core: jemalloc statistics unavailable");
    lua_createtable(L, 0, 16);
    lua_pushlstring(L, s->name, s->name_len);
    lua_setfield(L, -2, "name");
    set_int(L, "bytes", (lua_Integer)session_bytes(s));
    set_int(L, "arena_bytes", (lua_Integer)st.allocated);
    set_int(L, "entries", (lua_Integer)session_entries(s));
    set_int(L, "limit_bytes", (lua_Integer)s->limits.bytes);
    set_int(L, "limit_entries", (lua_Integer)s->limits.entries);
    lua_pushstring(L, evict_kind_name(s->evict.kind));
    lua_setfield(L, -2, "strategy");
    set_int(L, "hits", (lua_Integer)s->counters.hits);
    set_int(L, "misses", (lua_Integer)s->counters.misses);
    set_int(L, "evictions", (lua_Integer)s->counters.evictions);
    set_int(L, "expirations", (lua_Integer)s->counters.expirations);
    set_int(L, "chooser_errors", (lua_Integer)s->evict.chooser_errors);
    lua_pushnumber(L, (double)(le->now_ms - s->used_ms) / 1000.0);
    lua_setfield(L, -2, "idle_seconds");
    lua_pushnumber(L, (double)(le->now_ms - s->store.created_ms) / 1000.0);
    lua_setfield(L, -2, "age_seconds");
    lua_pushboolean(L, s->writes_denied);
    lua_setfield(L, -2, "writes_denied");
    return 1;
}

static int l_drop(lua_State *L)
{
    lua_engine_t *le = check_engine(L);
    session_t *s = find_session(L, le, 2);
    if (s)
        engine_drop(le->engine, s);
    lua_pushboolean(L, s != NULL);
    return 1;
}

/* e:set_limits(session, {bytes=, entries=}) */
static int l_set_limits(lua_State *L)
{
    lua_engine_t *le = check_engine(L);
    session_t *s = find_session(L, le, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    if (!s)
        return push_status(L, PD_NOTFOUND);
    session_set_limits(s, (session_limits_t){
        .bytes = (uint64_t)opt_field(L, 3, "bytes", 0),
        .entries = (uint64_t)opt_field(L, 3, "entries", 0),
    });
    return push_status(L, PD_OK);
}

static int l_set_strategy(lua_State *L)
{
    lua_engine_t *le = check_engine(L);
    session_t *s = find_session(L, le, 2);
    evict_kind kind = check_strategy(L, 3);
    return push_status(L, s ? session_set_strategy(s, kind) : PD_NOTFOUND);
}

/* e:sessions(): session names, sorted. */
static int l_sessions(lua_State *L)
{
    lua_engine_t *le = check_engine(L);
    uint32_t n = engine_session_count(le->engine);
    session_t **all = malloc((n ? n : 1) * sizeof(*all));
    if (!all)
        return luaL_error(L, "policyd.core: out of memory");
    n = engine_sessions_by_name(le->engine, all);
    lua_createtable(L, (int)n, 0);
    for (uint32_t i = 0; i < n; i++) {
        lua_pushlstring(L, all[i]->name, all[i]->name_len);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    free(all);
    return 1;
}

/* e:stats(): system figures (jemalloc's refreshed). */
static int l_stats(lua_State *L)
{
    lua_engine_t *le = check_engine(L);
    engine_stats_t st;
    engine_stats(le->engine, true, &st);
    lua_createtable(L, 0, 10);
    set_int(L, "bytes", (lua_Integer)st.bytes);
    set_int(L, "entries", (lua_Integer)st.entries);
    set_int(L, "sessions", st.sessions);
    set_int(L, "limit_bytes", (lua_Integer)st.limit_bytes);
    set_int(L, "limit_sessions", st.limit_sessions);
    set_int(L, "allocated", (lua_Integer)st.process.allocated);
    set_int(L, "active", (lua_Integer)st.process.active);
    set_int(L, "resident", (lua_Integer)st.process.resident);
    set_int(L, "mapped", (lua_Integer)st.process.mapped);
    set_int(L, "retained", (lua_Integer)st.process.retained);
    return 1;
}

/* --- policies ------------------------------------------------------------ */

static policy_t *check_policy(lua_State *L)
{
    policy_t **pp = luaL_checkudata(L, 1, POLICY_MT);
    if (!*pp)
        luaL_error(L, "policyd.core: policy is closed");
    return *pp;
}

/* core.policy(path [, {mem_cap=, instr_budget=, seed=}]): a loaded policy,
 * or nil and "file:line: message". */
static int l_policy(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    sandbox_config_t cfg = {0};
    if (lua_istable(L, 2)) {
        cfg.mem_cap = (size_t)opt_field(L, 2, "mem_cap", 0);
        cfg.instr_budget = (uint64_t)opt_field(L, 2, "instr_budget", 0);
        cfg.seed = (uint64_t)opt_field(L, 2, "seed", 0);
    }
    policy_t **pp = lua_newuserdatauv(L, sizeof(*pp), 0);
    *pp = NULL;
    luaL_setmetatable(L, POLICY_MT);
    char err[1024];
    *pp = policy_load(path, &cfg, err, sizeof(err));
    if (!*pp) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    return 1;
}

static int l_policy_close(lua_State *L)
{
    policy_t **pp = luaL_checkudata(L, 1, POLICY_MT);
    policy_free(*pp);
    *pp = NULL;
    return 0;
}

static void push_strategy(lua_State *L, int strategy)
{
    if (strategy < 0)
        lua_pushliteral(L, "chooser");
    else
        lua_pushstring(L, evict_kind_name((evict_kind)strategy));
}

/* The policy's info table: name, system_bytes, system_sessions,
 * limits_function, limit_bytes, limit_entries, strategy, sample_interval,
 * lua_bytes, hook_errors, last_error. */
static int push_policy_info(lua_State *L, const policy_t *p)
{
    policy_info_t in;
    policy_get_info(p, &in);
    lua_createtable(L, 0, 11);
    set_int(L, "hook_errors", (lua_Integer)in.hook_errors);
    lua_pushstring(L, in.last_error);
    lua_setfield(L, -2, "last_error");
    lua_pushstring(L, in.name);
    lua_setfield(L, -2, "name");
    set_int(L, "system_bytes", (lua_Integer)in.system_bytes);
    set_int(L, "system_sessions", in.system_sessions);
    lua_pushboolean(L, in.limits_function);
    lua_setfield(L, -2, "limits_function");
    set_int(L, "limit_bytes", (lua_Integer)in.limits.bytes);
    set_int(L, "limit_entries", (lua_Integer)in.limits.entries);
    push_strategy(L, in.strategy);
    lua_setfield(L, -2, "strategy");
    lua_pushnumber(L, in.sample_interval);
    lua_setfield(L, -2, "sample_interval");
    set_int(L, "lua_bytes", (lua_Integer)in.lua_bytes);
    return 1;
}

static int l_policy_info(lua_State *L)
{
    return push_policy_info(L, check_policy(L));
}

/* e:policy(): the engine's policy info table, or nil without a policy. */
static int l_engine_policy(lua_State *L)
{
    lua_engine_t *le = check_engine(L);
    if (!le->runtime) {
        lua_pushnil(L);
        return 1;
    }
    push_policy_info(L, runtime_policy(le->runtime));
    runtime_info_t hi;
    runtime_get_info(le->runtime, &hi);
    lua_pushstring(L, hi.path);
    lua_setfield(L, -2, "path");
    lua_pushstring(L, hi.sha256);
    lua_setfield(L, -2, "sha256");
    set_int(L, "loaded_at", hi.loaded_at);
    set_int(L, "reloads", (lua_Integer)hi.reloads);
    set_int(L, "reload_failures", (lua_Integer)hi.reload_failures);
    lua_pushstring(L, hi.last_error);
    lua_setfield(L, -2, "last_error");
    lua_pushboolean(L, hi.degraded);
    lua_setfield(L, -2, "degraded");
    return 1;
}

/* p:limits(name): {bytes=, entries=, strategy=} for a session, or nil, err. */
static int l_policy_limits(lua_State *L)
{
    policy_t *p = check_policy(L);
    size_t len;
    const char *name = luaL_checklstring(L, 2, &len);
    session_limits_t lim;
    int strategy;
    char err[1024];
    if (policy_session_limits(p, name, len, &lim, &strategy, err, sizeof(err)) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    lua_createtable(L, 0, 3);
    set_int(L, "bytes", (lua_Integer)lim.bytes);
    set_int(L, "entries", (lua_Integer)lim.entries);
    push_strategy(L, strategy);
    lua_setfield(L, -2, "strategy");
    return 1;
}

static const luaL_Reg policy_methods[] = {
    {"info", l_policy_info},
    {"limits", l_policy_limits},
    {"close", l_policy_close},
    {NULL, NULL},
};

static const luaL_Reg engine_methods[] = {
    {"close", l_close},           {"now", l_now},
    {"advance", l_advance},       {"set", l_set},
    {"get", l_get},               {"del", l_del},
    {"exists", l_exists},         {"pttl", l_pttl},
    {"info", l_info},             {"drop", l_drop},
    {"set_limits", l_set_limits}, {"set_strategy", l_set_strategy},
    {"sessions", l_sessions},     {"stats", l_stats},
    {"policy", l_engine_policy},  {"sample", l_sample},
    {"reload", l_reload},         {"alerts", l_alerts},
    {"actions", l_actions},
    {NULL, NULL},
};

/* A userdata type: its methods, and a finalizer that closes it. */
static void register_type(lua_State *L, const char *name, const luaL_Reg *methods,
                          lua_CFunction close)
{
    luaL_newmetatable(L, name);
    lua_createtable(L, 0, 16);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, close);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
}

int luaopen_policyd_core(lua_State *L)
{
    register_type(L, ENGINE_MT, engine_methods, l_close);
    register_type(L, POLICY_MT, policy_methods, l_policy_close);
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, l_engine);
    lua_setfield(L, -2, "engine");
    lua_pushcfunction(L, l_policy);
    lua_setfield(L, -2, "policy");
    return 1;
}
