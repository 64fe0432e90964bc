/* The command dispatcher end to end (commands/memconn.h): any bytes as a
 * client's input to a small engine under a policy with tight budgets. After
 * every input: each session within its limits and the system within its
 * budget, each session's bytes equal to jemalloc's figures for its arena,
 * and no session without entries holds any. The engine is emptied
 * between inputs; the policy and its state stay. */
#include <stdint.h>
#include <stdlib.h>

#include <jemalloc/jemalloc.h>

#include "../tests/world.h"
#include "core/arena.h"

static const char POLICY[] =
    "return {\n"
    "  limits = function(name)\n"
    "    if name:sub(1, 1) == 's' then return { bytes = '16KB', entries = 50, eviction = 's3fifo' } end\n"
    "    if name:sub(1, 1) == 'l' then return { bytes = '8KB', entries = 10, eviction = 'lfu' } end\n"
    "    return { bytes = '32KB', entries = 20 }\n"
    "  end,\n"
    "  system = { bytes = '96KB', sessions = 4 },\n"
    "  on_session_open = function(name, snap, act)\n"
    "    if #snap.sessions >= 4 then act.drop(snap.sessions[#snap.sessions].name) end\n"
    "  end,\n"
    "}\n";

static world_t w;

static void check_invariants(engine_t *e)
{
    if (arena_stats_refresh() != 0)
        abort();
    engine_stats_t es;
    engine_stats(e, false, &es);
    uint64_t sum = 0;
    for (session_t *s = engine_next(e, NULL); s; s = engine_next(e, s)) {
        arena_stats_t st;
        if (arena_stats(&s->store.arena, &st) != 0 || st.allocated != s->store.arena.bytes)
            abort(); /* inline bytes and jemalloc's disagree */
        if (session_entries(s) == 0 && s->store.arena.bytes != 0)
            abort(); /* an empty session holds bytes */
        if ((s->limits.bytes && session_bytes(s) > s->limits.bytes) ||
            (s->limits.entries && session_entries(s) > s->limits.entries))
            abort(); /* a session over its budget */
        sum += s->store.arena.bytes;
    }
    if (sum != engine_bytes(e) || (es.limit_bytes && engine_bytes(e) > es.limit_bytes))
        abort(); /* the system over its budget */
    if (es.limit_sessions && es.sessions > es.limit_sessions)
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Decay at its fastest, so every free walks the purge paths of the
     * session arenas too (a crash there was found by the soak). */
    ssize_t zero = 0;
    if (mallctl("arenas.dirty_decay_ms", NULL, NULL, &zero, sizeof(zero)) != 0 ||
        mallctl("arenas.muzzy_decay_ms", NULL, NULL, &zero, sizeof(zero)) != 0)
        abort();
    world_open_with(&w, NULL, POLICY);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    memconn_t m;
    memconn_open(&m, &w.svc);
    /* In two pieces, cut where the first byte says: partial reads too. */
    size_t cut = size ? data[0] % (size + 1) : 0;
    memconn_feed(&m, data, cut);
    memconn_feed(&m, data + cut, size - cut);
    check_invariants(w.engine);
    memconn_close(&m);
    clock_ms += 1000;
    engine_drop_all(w.engine);
    return 0;
}
