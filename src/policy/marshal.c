/* marshal: calling into a policy — the engine's data pushed as Lua tables
 * (the snapshot, a chooser's candidates), the hooks called under the
 * sandbox's budget, and what they return read back into C (limits,
 * recorded actions, a chosen victim). Anything that allocates in the Lua
 * state runs protected. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "policy/policy_internal.h"

/* --- limits and the chooser, for the engine's sessions ------------------ */

/* Counts a failed call into the policy and keeps its message (the error at
 * the top of the stack) as last_error; clears the stack. */
static void hook_failed(policy_t *p, const char *what)
{
    p->info.hook_errors++;
    const char *msg = lua_tostring(p->sb.L, -1);
    snprintf(p->last_error, sizeof(p->last_error), "%s: %s", what, msg ? msg : "error");
    p->info.last_error = p->last_error;
    lua_settop(p->sb.L, 0);
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
    lua_State *L = p->sb.L;
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
    if (sandbox_call(&p->sb, 1, 1) != LUA_OK) {
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


/* --- on_sample and on_session_open: the snapshot in, actions out -------- */

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
bool policy_push_hook(policy_t *p, const char *name)
{
    lua_rawgeti(p->sb.L, LUA_REGISTRYINDEX, p->ref);
    lua_getfield(p->sb.L, -1, name);
    lua_remove(p->sb.L, -2);
    if (lua_isfunction(p->sb.L, -1))
        return true;
    lua_pop(p->sb.L, 1);
    return false;
}

/* Pushes act and its records list. */
static int push_act(policy_t *p)
{
    lua_State *L = p->sb.L;
    if (sandbox_require(&p->sb, "policyd.act") != LUA_OK)
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
            policy_read_limits(L, &a->limits, &a->strategy);
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
    lua_State *L = p->sb.L;
    int hook = lua_gettop(L) - nargs;
    if (push_act(p) != 0)
        return -1;
    /* hook args act records -> records act hook args act */
    lua_rotate(L, hook, 1);
    lua_pushvalue(L, -1);
    lua_rotate(L, hook + 1, 1);
    int rc = sandbox_call(&p->sb, nargs + 1, nresults);
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
    lua_State *L = p->sb.L;
    if (!policy_push_hook(p, "on_sample"))
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
    lua_State *L = p->sb.L;
    if (!policy_push_hook(p, "on_session_open"))
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
        if (sandbox_require(&p->sb, "policyd.validate") == LUA_OK) {
            lua_getfield(L, -1, "limits");
            lua_remove(L, -2);
            lua_pushvalue(L, -2);
            if (sandbox_call(&p->sb, 1, 1) == LUA_OK) {
                *strategy = p->info.strategy;
                policy_read_limits(L, lim, strategy);
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
