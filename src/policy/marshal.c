/* marshal: calling into a policy — the engine's data pushed as Lua tables
 * (the snapshot, a chooser's candidates), the hooks called under the
 * sandbox's budget, and what they return read back into C (limits,
 * recorded actions, a chosen victim).
 *
 * Every entry point runs its whole body protected (sandbox_protect): a
 * push that meets the state's byte cap, or any error, is a hook error,
 * never a Lua panic. What a hook returns is read raw (no metamethod of the
 * policy's runs outside the budget); the helpers the host calls (act.new,
 * validate.limits) run under the budget too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "policy/policy_internal.h"

/* Counts a failed call into the policy and keeps its message (the error at
 * the top of the stack) as last_error; clears the stack. */
static void hook_failed(policy_t *p, const char *what, char *err, size_t errlen)
{
    char msg[400];
    sandbox_error_text(&p->sb, msg, sizeof(msg));
    p->info.hook_errors++;
    snprintf(p->last_error, sizeof(p->last_error), "%s: %s", what, msg);
    p->info.last_error = p->last_error;
    if (err)
        snprintf(err, errlen, "%s: %s", what, msg);
    lua_settop(p->sb.L, 0);
}

/* Calls the function below nargs arguments under the budget; an error
 * goes on up to the entry point's protection. */
static void budget_call(policy_t *p, int nargs, int nresults)
{
    if (sandbox_call(&p->sb, nargs, nresults) != LUA_OK)
        lua_error(p->sb.L);
}

/* --- limits and the chooser, for the engine's sessions ------------------ */

int policy_apply_limits(policy_t *p, session_t *s)
{
    session_limits_t lim;
    int strategy;
    char err[512];
    if (policy_session_limits(p, s->name, s->name_len, &lim, &strategy, err, sizeof(err)) != 0)
        return -1;
    session_set_limits(s, lim);
    session_set_strategy(s, strategy < 0 ? EVICT_CHOOSER : (evict_kind)strategy);
    return 0;
}

static void set_number(lua_State *L, const char *field, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, field);
}

static void set_uint(lua_State *L, const char *field, uint64_t v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, field);
}

typedef struct choice {
    policy_t *p;
    const evict_candidate_t *c;
    size_t n;
    int pick;
} choice_t;

static int choose_body(lua_State *L)
{
    choice_t *k = lua_touserdata(L, 1);
    lua_settop(L, 0);
    lua_createtable(L, (int)k->n, 0);
    for (size_t i = 0; i < k->n; i++) {
        const evict_candidate_t *c = &k->c[i];
        lua_createtable(L, 0, 7);
        lua_pushlstring(L, (const char *)c->key, c->klen);
        lua_setfield(L, -2, "key");
        set_uint(L, "bytes", c->bytes);
        set_number(L, "idle", (double)c->idle_ms / 1000.0);
        set_number(L, "age", (double)c->age_ms / 1000.0);
        set_uint(L, "hits", c->hits);
        set_uint(L, "frequency", c->frequency);
        if (c->ttl_ms >= 0)
            set_number(L, "ttl", (double)c->ttl_ms / 1000.0);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, k->p->ref);
    lua_getfield(L, -1, "eviction");
    lua_remove(L, -2);
    lua_pushvalue(L, 1);
    budget_call(k->p, 1, 1);
    /* 1: candidates, 2: the answer: a candidate or its key, compared raw */
    size_t klen;
    const char *key = lua_type(L, 2) == LUA_TSTRING ? lua_tolstring(L, 2, &klen) : NULL;
    for (size_t i = 0; i < k->n && k->pick < 0; i++) {
        if (key) {
            if (klen == k->c[i].klen && memcmp(key, k->c[i].key, klen) == 0)
                k->pick = (int)i;
        } else {
            lua_rawgeti(L, 1, (lua_Integer)i + 1);
            if (lua_rawequal(L, -1, 2))
                k->pick = (int)i;
            lua_pop(L, 1);
        }
    }
    if (k->pick < 0)
        return luaL_error(L, "the chooser returned %s, not one of the candidates or its key",
                          luaL_typename(L, 2));
    return 0;
}

int policy_choose(void *ud, session_t *s, const evict_candidate_t *c, size_t n)
{
    (void)s;
    choice_t k = {.p = ud, .c = c, .n = n, .pick = -1};
    if (sandbox_protect(&k.p->sb, choose_body, &k, k.p->info.deadlines.chooser) != LUA_OK) {
        hook_failed(k.p, "eviction", NULL, 0);
        return -1;
    }
    return k.pick;
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

/* A text field of a record, cut to `len` (records are made by policyd.act:
 * plain tables of checked values). */
static void copy_field(lua_State *L, int t, const char *field, char *out, size_t len)
{
    lua_getfield(L, t, field);
    const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    snprintf(out, len, "%s", v ? v : "");
    lua_pop(L, 1);
}

static double number_field(lua_State *L, int t, const char *field, bool *has)
{
    lua_getfield(L, t, field);
    *has = lua_type(L, -1) == LUA_TNUMBER;
    double v = *has ? lua_tonumber(L, -1) : 0;
    lua_pop(L, 1);
    return v;
}

static const char *const op_names[] = {
    [POLICY_ALERT] = "alert", [POLICY_EVICT] = "evict", [POLICY_PURGE] = "purge",
    [POLICY_CLEAR] = "clear", [POLICY_DROP] = "drop", [POLICY_DENY_WRITES] = "deny_writes",
    [POLICY_SET_LIMITS] = "set_limits", [POLICY_LOG] = "log",
};

/* Appends the records at `idx` (checked by policyd.act) to out. */
static void take_records(lua_State *L, int idx, policy_actions_t *out)
{
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    for (lua_Integer i = 1; i <= n; i++) {
        if (out->len == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 8;
            policy_action_t *items = realloc(out->items, cap * sizeof(*items));
            if (!items)
                luaL_error(L, "out of memory recording actions");
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
                luaL_error(L, "out of memory recording actions");
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
}

/* Calls the hook with the nargs arguments above it and act appended, then
 * appends its records to out, keeps act.state (a hook may have replaced
 * the table: read raw, so a metatable of the policy's on `act` runs
 * nothing), and leaves the hook's nresults results on the stack. */
static void call_with_act(policy_t *p, int nargs, int nresults, policy_actions_t *out)
{
    lua_State *L = p->sb.L;
    int hook = lua_gettop(L) - nargs;
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->act_new_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->state_ref);
    budget_call(p, 1, 2);
    /* hook args act records -> records act hook args act */
    lua_rotate(L, hook, 1);
    lua_pushvalue(L, -1);
    lua_rotate(L, hook + 1, 1);
    budget_call(p, nargs + 1, nresults);
    /* records act results */
    lua_pushliteral(L, "state");
    if (lua_rawget(L, hook + 1) == LUA_TTABLE)
        lua_rawseti(L, LUA_REGISTRYINDEX, p->state_ref);
    else
        lua_pop(L, 1);
    take_records(L, hook, out);
    lua_remove(L, hook);
    lua_remove(L, hook);
}

typedef struct hook_call {
    policy_t *p;
    const policy_snapshot_t *snap;
    const char *name;         /* on_session_open: the session's */
    size_t len;
    policy_actions_t *out;
    session_limits_t *lim;
    int *strategy;
    int rc;
    char reason[400];         /* on_session_open's refusal */
} hook_call_t;

static int on_sample_body(lua_State *L)
{
    hook_call_t *k = lua_touserdata(L, 1);
    lua_settop(L, 0);
    if (!policy_push_hook(k->p, "on_sample")) {
        k->rc = 1;
        return 0;
    }
    push_snapshot(L, k->snap);
    call_with_act(k->p, 1, 0, k->out);
    return 0;
}

int policy_on_sample(policy_t *p, const policy_snapshot_t *snap,
                     policy_actions_t *out, char *err, size_t errlen)
{
    hook_call_t k = {.p = p, .snap = snap, .out = out};
    size_t before = out->len;
    if (sandbox_protect(&p->sb, on_sample_body, &k, p->info.deadlines.sample) != LUA_OK) {
        actions_truncate(out, before);
        hook_failed(p, "on_sample", err, errlen);
        return -1;
    }
    lua_settop(p->sb.L, 0);
    return k.rc;
}

static int on_session_open_body(lua_State *L)
{
    hook_call_t *k = lua_touserdata(L, 1);
    lua_settop(L, 0);
    if (!policy_push_hook(k->p, "on_session_open"))
        return 0;
    lua_pushlstring(L, k->name, k->len);
    push_snapshot(L, k->snap);
    call_with_act(k->p, 2, 2, k->out);
    /* 1: result, 2: reason */
    if (lua_type(L, 1) == LUA_TBOOLEAN && !lua_toboolean(L, 1)) {
        k->rc = 2;
        snprintf(k->reason, sizeof(k->reason), "%s",
                 lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "refused by the policy");
    } else if (lua_type(L, 1) == LUA_TTABLE) {
        /* A limits table: normalized like the policy's own. */
        lua_rawgeti(L, LUA_REGISTRYINDEX, k->p->validate_limits_ref);
        lua_pushvalue(L, 1);
        budget_call(k->p, 1, 1);
        *k->strategy = k->p->info.strategy;
        policy_read_limits(L, k->lim, k->strategy);
        k->rc = 1;
    }
    return 0;
}

int policy_on_session_open(policy_t *p, const char *name, size_t len,
                           const policy_snapshot_t *snap, session_limits_t *lim,
                           int *strategy, policy_actions_t *out, char *err,
                           size_t errlen)
{
    hook_call_t k = {.p = p, .snap = snap, .name = name, .len = len, .out = out, .lim = lim,
                     .strategy = strategy};
    size_t before = out->len;
    if (sandbox_protect(&p->sb, on_session_open_body, &k, p->info.deadlines.session_open) != LUA_OK) {
        actions_truncate(out, before);
        hook_failed(p, "on_session_open", err, errlen);
        return -1;
    }
    if (k.rc == 2)
        snprintf(err, errlen, "%s", k.reason);
    lua_settop(p->sb.L, 0);
    return k.rc;
}
