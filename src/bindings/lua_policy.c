/* lua_policy: the policy side of policyd.core — the engine's runtime
 * (e:sample, reload, alerts, actions, policy) and core.policy, a policy
 * loaded on its own (info, limits). */
#include <stdlib.h>

#include "bindings/lua_engine.h"
#include "policy/policy.h"

static runtime_t *check_runtime(lua_State *L, lua_engine_t *le)
{
    if (!le->runtime)
        luaL_error(L, "policyd.core: this engine has no policy");
    return le->runtime;
}

/* e:sample(): one sample now. */
static int l_sample(lua_State *L)
{
    lua_engine_t *le = check_engine(L);
    runtime_sample(check_runtime(L, le));
    return 0;
}

/* e:reload(path): true, or nil and "file:line: message". */
static int l_reload(lua_State *L)
{
    lua_engine_t *le = check_engine(L);
    const char *path = luaL_checkstring(L, 2);
    char err[1024];
    if (runtime_reload(check_runtime(L, le), path, err, sizeof(err)) != 0) {
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
    alerts_t *al = runtime_alerts(check_runtime(L, le));
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
    const policy_actions_t *log = runtime_actions(check_runtime(L, le));
    lua_createtable(L, (int)log->len, 0);
    for (size_t i = 0; i < log->len; i++) {
        push_action(L, &log->items[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* core.policy's object: the policy and the clock its deadlines read. */
typedef struct lua_policy {
    policy_t *p;
    lua_hook_clock_t clock;
} lua_policy_t;

static policy_t *check_policy(lua_State *L)
{
    lua_policy_t *lp = luaL_checkudata(L, 1, POLICY_MT);
    if (!lp->p)
        luaL_error(L, "policyd.core: policy is closed");
    return lp->p;
}

/* core.policy(path [, {mem_cap=, instr_budget=, seed=, hook_clock_step=}]):
 * a loaded policy, or nil and "file:line: message". */
int lua_policy_new(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    lua_policy_t *lp = lua_newuserdatauv(L, sizeof(*lp), 0);
    *lp = (lua_policy_t){0};
    luaL_setmetatable(L, POLICY_MT);
    sandbox_config_t cfg = {.clock = lua_hook_clock_read, .clock_ud = &lp->clock};
    if (lua_istable(L, 2)) {
        cfg.mem_cap = (size_t)opt_field(L, 2, "mem_cap", 0);
        cfg.instr_budget = (uint64_t)opt_field(L, 2, "instr_budget", 0);
        cfg.seed = (uint64_t)opt_field(L, 2, "seed", 0);
        lp->clock = lua_hook_clock_opt(L, 2);
    }
    char err[1024];
    lp->p = policy_load(path, &cfg, err, sizeof(err));
    if (!lp->p) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    return 1;
}

int lua_policy_close(lua_State *L)
{
    lua_policy_t *lp = luaL_checkudata(L, 1, POLICY_MT);
    policy_free(lp->p);
    lp->p = NULL;
    return 0;
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
    runtime_info_t info;
    runtime_get_info(le->runtime, &info);
    lua_pushstring(L, info.path);
    lua_setfield(L, -2, "path");
    lua_pushstring(L, info.sha256);
    lua_setfield(L, -2, "sha256");
    set_int(L, "loaded_at", info.loaded_at);
    set_int(L, "reloads", (lua_Integer)info.reloads);
    set_int(L, "reload_failures", (lua_Integer)info.reload_failures);
    lua_pushstring(L, info.last_error);
    lua_setfield(L, -2, "last_error");
    lua_pushboolean(L, info.degraded);
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

const luaL_Reg lua_runtime_methods[] = {
    {"policy", l_engine_policy}, {"sample", l_sample}, {"reload", l_reload},
    {"alerts", l_alerts},        {"actions", l_actions}, {NULL, NULL},
};

const luaL_Reg lua_policy_methods[] = {
    {"info", l_policy_info},
    {"limits", l_policy_limits},
    {"close", lua_policy_close},
    {NULL, NULL},
};
