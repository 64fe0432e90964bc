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

policy_t *policy_load(const char *path, const sandbox_config_t *cfg, char *err, size_t errlen)
{
    policy_t *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "%s:1: out of memory", path);
        return NULL;
    }
    p->ref = LUA_NOREF;
    p->state_ref = LUA_NOREF;
    snprintf(p->path, sizeof(p->path), "%s", path);
    if (sandbox_open(&p->sb, path, cfg, err, errlen) != 0) {
        free(p);
        return NULL;
    }
    lua_State *L = p->sb.L;
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
    if (rc != LUA_OK || sandbox_call(&p->sb, 0, 1) != LUA_OK)
        goto lua_failed;
    if (!lua_istable(L, -1)) {
        snprintf(err, errlen, "%s:1: a policy must return a table, not %s", path,
                 luaL_typename(L, -1));
        goto failed;
    }
    if (sandbox_require(&p->sb, "policyd.validate") != LUA_OK)
        goto lua_failed;
    lua_insert(L, -2);
    if (sandbox_call(&p->sb, 1, 1) != LUA_OK) {
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

int policy_session_limits(policy_t *p, const char *name, size_t len,
                          session_limits_t *out, int *strategy, char *err,
                          size_t errlen)
{
    lua_State *L = p->sb.L;
    *strategy = p->info.strategy;
    if (!p->info.limits_function) {
        *out = p->info.limits;
        lua_rawgeti(L, LUA_REGISTRYINDEX, p->ref);
        lua_getfield(L, -1, "limits");
        policy_read_limits(L, out, strategy);
        lua_pop(L, 2);
        return 0;
    }
    /* limits(name), then validate.limits(result). */
    if (sandbox_require(&p->sb, "policyd.validate") != LUA_OK)
        goto failed;
    lua_getfield(L, -1, "limits");
    lua_remove(L, -2);
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->ref);
    lua_getfield(L, -1, "limits");
    lua_remove(L, -2);
    lua_pushlstring(L, name, len);
    if (sandbox_call(&p->sb, 1, 1) != LUA_OK || sandbox_call(&p->sb, 1, 1) != LUA_OK)
        goto failed;
    policy_read_limits(L, out, strategy);
    lua_pop(L, 1);
    return 0;
failed:
    snprintf(err, errlen, "%s: limits(\"%.*s\"): %s", p->path, (int)(len < 64 ? len : 64),
             name, lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
    lua_settop(L, 0);
    return -1;
}

void policy_configure(policy_t *p, engine_config_t *cfg)
{
    cfg->limit_bytes = p->info.system_bytes;
    cfg->limit_sessions = p->info.system_sessions;
    cfg->strategy = p->info.strategy < 0 ? EVICT_CHOOSER : (evict_kind)p->info.strategy;
}
