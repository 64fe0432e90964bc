/* bytecode_cache: see bytecode_cache.h. */
#include "policy/bytecode_cache.h"
#include "policy/source.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct chunk {
    char *file;
    off_t size;
    struct timespec mtime;
    char *code; /* lua_dump of the compiled main function */
    size_t len, cap;
    struct chunk *next;
} chunk_t;

struct bytecode_cache {
    chunk_t *all; /* a handful of helper files: a list will do */
};

bytecode_cache_t *bytecode_cache_create(void)
{
    return calloc(1, sizeof(bytecode_cache_t));
}

static void chunk_free(chunk_t *k)
{
    free(k->file);
    free(k->code);
    free(k);
}

void bytecode_cache_free(bytecode_cache_t *c)
{
    if (!c)
        return;
    for (chunk_t *k = c->all, *next; k; k = next) {
        next = k->next;
        chunk_free(k);
    }
    free(c);
}

static int dump_writer(lua_State *L, const void *data, size_t n, void *ud)
{
    (void)L;
    chunk_t *k = ud;
    if (k->len + n > k->cap) {
        size_t cap = k->cap ? k->cap : 4096;
        while (cap < k->len + n)
            cap *= 2;
        char *code = realloc(k->code, cap);
        if (!code)
            return 1; /* stops lua_dump */
        k->code = code;
        k->cap = cap;
    }
    memcpy(k->code + k->len, data, n);
    k->len += n;
    return 0;
}

static chunk_t **find(bytecode_cache_t *c, const char *file)
{
    chunk_t **at = &c->all;
    while (*at && strcmp((*at)->file, file) != 0)
        at = &(*at)->next;
    return at;
}

int bytecode_cache_load(bytecode_cache_t *c, lua_State *L, const char *file)
{
    struct stat st;
    if (stat(file, &st) != 0)
        return source_load(L, file); /* its error message */
    chunk_t **at = find(c, file);
    chunk_t *k = *at;
    if (k && k->size == st.st_size && k->mtime.tv_sec == st.st_mtim.tv_sec &&
        k->mtime.tv_nsec == st.st_mtim.tv_nsec)
        return luaL_loadbufferx(L, k->code, k->len, file, "b");

    if (k) { /* the file changed */
        *at = k->next;
        chunk_free(k);
    }
    int status = source_load(L, file);
    if (status != LUA_OK)
        return status;
    k = calloc(1, sizeof(*k));
    if (!k || !(k->file = strdup(file))) {
        free(k);
        return LUA_OK;
    }
    k->size = st.st_size;
    k->mtime = st.st_mtim;
    /* With debug information: errors in the helpers keep file and line. */
    if (lua_dump(L, dump_writer, k, 0) != 0) {
        chunk_free(k);
        return LUA_OK;
    }
    k->next = c->all;
    c->all = k;
    return LUA_OK;
}
