/* load: a policy file into a sandbox (sandbox.h), validated and
 * normalized by lua/policyd/validate.lua, and what it set: its info, the
 * limits it gives a session, the engine configuration it asks for. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "policy/policy_internal.h"
#include "policy/source.h"
#include "util/file.h"

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


static uint64_t get_uint(lua_State *L, int t, const char *field)
{
    lua_getfield(L, t, field);
    lua_Integer v = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
    lua_pop(L, 1);
    return v > 0 ? (uint64_t)v : 0;
}

/* Reads {bytes=, entries=, eviction=} at the top of the stack. */
void policy_read_limits(lua_State *L, session_limits_t *out, int *strategy)
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

/* A duration field (seconds, as validate normalized it) in nanoseconds. */
static uint64_t get_ns(lua_State *L, int t, const char *field)
{
    lua_getfield(L, t, field);
    double s = lua_tonumber(L, -1);
    lua_pop(L, 1);
    return (uint64_t)(s * 1e9);
}

static void read_info(policy_t *p)
{
    lua_State *L = p->sb.L;
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
    lua_getfield(L, -1, "deadlines");
    in->deadlines = (policy_deadlines_t){
        .sample = get_ns(L, -1, "sample"),
        .session_open = get_ns(L, -1, "session_open"),
        .limits = get_ns(L, -1, "limits"),
        .chooser = get_ns(L, -1, "chooser"),
    };
    lua_pop(L, 1);
    lua_getfield(L, -1, "limits");
    in->limits_function = lua_isfunction(L, -1);
    if (lua_istable(L, -1)) {
        int ignored = in->strategy;
        policy_read_limits(L, &in->limits, &ignored);
    }
    lua_pop(L, 2);
}

/* --- loading ------------------------------------------------------------- */

/* The policy file, read once (util/file.h: a regular file, without
 * blocking, at most POLICY_SOURCE_MAX). */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    const char *why;
    char *text = file_read(path, POLICY_SOURCE_MAX, len, &why);
    if (!text) {
        if (strcmp(why, "too large") == 0)
            why = "a policy file is at most 1 MiB";
        snprintf(err, errlen, "%s:1: cannot open %s: %s", path, path, why);
    }
    return text;
}

/* Where a load failed: the message is read differently. */
enum { FAILED_LUA, FAILED_NOT_TABLE, FAILED_VALIDATE };

typedef struct loading {
    policy_t *p;
    const char *text;
    size_t len;
    int failed;
    const char *type; /* FAILED_NOT_TABLE: what the file returned */
} loading_t;

/* Registry references to the helper functions the host calls, taken now:
 * at hook time the host looks nothing up that a policy could have touched. */
static int helper_ref(policy_t *p, const char *module, const char *field)
{
    lua_State *L = p->sb.L;
    if (sandbox_require(&p->sb, module) != LUA_OK)
        lua_error(L);
    lua_getfield(L, -1, field);
    lua_remove(L, -2);
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

static int load_body(lua_State *L)
{
    loading_t *k = lua_touserdata(L, 1);
    policy_t *p = k->p;
    lua_settop(L, 0);
    lua_pushfstring(L, "@%s", p->path);
    if (luaL_loadbufferx(L, k->text, k->len, lua_tostring(L, 1), "t") != LUA_OK)
        return lua_error(L);
    if (sandbox_call(&p->sb, 0, 1) != LUA_OK)
        return lua_error(L);
    if (!lua_istable(L, -1)) {
        k->failed = FAILED_NOT_TABLE;
        k->type = luaL_typename(L, -1);
        return 0;
    }
    if (sandbox_require(&p->sb, "policyd.validate") != LUA_OK)
        return lua_error(L);
    lua_insert(L, -2);
    if (sandbox_call(&p->sb, 1, 1) != LUA_OK) {
        k->failed = FAILED_VALIDATE;
        return lua_error(L);
    }
    p->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    p->state_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    p->act_new_ref = helper_ref(p, "policyd.act", "new");
    p->validate_limits_ref = helper_ref(p, "policyd.validate", "limits");
    read_info(p);
    return 0;
}

policy_t *policy_load(const char *path, const sandbox_config_t *cfg, char *err, size_t errlen)
{
    policy_t *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "%s:1: out of memory", path);
        return NULL;
    }
    p->ref = p->state_ref = p->act_new_ref = p->validate_limits_ref = LUA_NOREF;
    snprintf(p->path, sizeof(p->path), "%s", path);
    if (sandbox_open(&p->sb, path, cfg, err, errlen) != 0) {
        free(p);
        return NULL;
    }
    /* One read: what is hashed is what runs. */
    loading_t k = {.p = p, .failed = FAILED_LUA};
    char *text = read_file(path, &k.len, err, errlen);
    if (!text) {
        policy_free(p);
        return NULL;
    }
    SHA256Data((const uint8_t *)text, k.len, p->sha256);
    k.text = text;
    int rc = sandbox_protect(&p->sb, load_body, &k, POLICY_LOAD_DEADLINE_NS);
    free(text);
    if (rc == LUA_OK && k.failed == FAILED_NOT_TABLE) {
        snprintf(err, errlen, "%s:1: a policy must return a table, not %s", path, k.type);
    } else if (rc != LUA_OK) {
        char msg[900];
        sandbox_error_text(&p->sb, msg, sizeof(msg));
        if (k.failed == FAILED_VALIDATE) /* validate's messages name the field */
            snprintf(err, errlen, "%s:%d: %s", path, field_line(path, msg), msg);
        else if (strncmp(msg, path, strlen(path)) == 0) /* Lua's say file:line */
            snprintf(err, errlen, "%s", msg);
        else
            snprintf(err, errlen, "%s:1: %s", path, msg);
    } else {
        lua_settop(p->sb.L, 0);
        return p;
    }
    policy_free(p);
    return NULL;
}

void policy_fail_allocs_from(policy_t *p, uint64_t n)
{
    p->sb.allocs = 0;
    p->sb.fail_from = n;
}

void policy_free(policy_t *p)
{
    if (!p)
        return;
    sandbox_close(&p->sb);
    free(p);
}

void policy_get_info(const policy_t *p, policy_info_t *out)
{
    *out = p->info;
    out->lua_bytes = p->sb.bytes;
    if (!out->last_error)
        out->last_error = "";
}

typedef struct limits_call {
    policy_t *p;
    const char *name;
    size_t len;
    session_limits_t *out;
    int *strategy;
} limits_call_t;

static int limits_body(lua_State *L)
{
    limits_call_t *k = lua_touserdata(L, 1);
    policy_t *p = k->p;
    lua_settop(L, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->ref);
    lua_getfield(L, -1, "limits");
    if (p->info.limits_function) {
        /* limits(name), then validate.limits(result), both budgeted. */
        lua_rawgeti(L, LUA_REGISTRYINDEX, p->validate_limits_ref);
        lua_insert(L, -2);
        lua_pushlstring(L, k->name, k->len);
        if (sandbox_call(&p->sb, 1, 1) != LUA_OK || sandbox_call(&p->sb, 1, 1) != LUA_OK)
            return lua_error(L);
    }
    policy_read_limits(L, k->out, k->strategy);
    return 0;
}

int policy_session_limits(policy_t *p, const char *name, size_t len,
                          session_limits_t *out, int *strategy, char *err,
                          size_t errlen)
{
    *strategy = p->info.strategy;
    *out = p->info.limits;
    limits_call_t k = {.p = p, .name = name, .len = len, .out = out, .strategy = strategy};
    if (sandbox_protect(&p->sb, limits_body, &k, p->info.deadlines.limits) != LUA_OK) {
        char msg[400];
        sandbox_error_text(&p->sb, msg, sizeof(msg));
        snprintf(err, errlen, "%s: limits(\"%.*s\"): %s", p->path, (int)(len < 64 ? len : 64),
                 name, msg);
        p->info.hook_errors++;
        snprintf(p->last_error, sizeof(p->last_error), "%s", err);
        p->info.last_error = p->last_error;
        lua_settop(p->sb.L, 0);
        return -1;
    }
    lua_settop(p->sb.L, 0);
    return 0;
}

void policy_configure(policy_t *p, engine_config_t *cfg)
{
    cfg->limit_bytes = p->info.system_bytes;
    cfg->limit_sessions = p->info.system_sessions;
    cfg->strategy = p->info.strategy < 0 ? EVICT_CHOOSER : (evict_kind)p->info.strategy;
}
