/* lua_session: the engine object's data operations — e:set, get, del,
 * exists, pttl, info, drop, set_limits, set_strategy, sessions, stats. */
#include <stdlib.h>

#include "bindings/lua_engine.h"

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
    engine_end_command(le->engine); /* a session that got nothing does not stay */
    if ((st == PD_REFUSED || st == PD_POLICYERR) && le->runtime) {
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

const luaL_Reg lua_session_methods[] = {
    {"set", l_set},               {"get", l_get},
    {"del", l_del},               {"exists", l_exists},
    {"pttl", l_pttl},             {"info", l_info},
    {"drop", l_drop},             {"set_limits", l_set_limits},
    {"set_strategy", l_set_strategy}, {"sessions", l_sessions},
    {"stats", l_stats},           {NULL, NULL},
};
