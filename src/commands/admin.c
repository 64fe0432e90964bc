/* admin: the commands about the server and its policy — SESSION POLICY
 * ALERTS INFO CONFIG MEMORY COMMAND TIME (DESIGN.md §5). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands/command.h"
#include "policy/alerts.h"
#include "util/glob.h"
#include "util/time.h"

/* SESSION LIST | INFO name | DROP name (DESIGN.md §5) */
static void cmd_session(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    engine_t *e = c->svc->engine;
    if (argc == 2 && arg_is(argv[1], lens[1], "LIST")) {
        uint32_t n = engine_session_count(e);
        session_t **all = malloc((n ? n : 1) * sizeof(*all));
        if (!all) {
            resp_error(&c->out, "ERR out of memory");
            return;
        }
        n = engine_sessions_by_name(e, all);
        resp_array(&c->out, n);
        for (uint32_t i = 0; i < n; i++)
            resp_bulk(&c->out, all[i]->name, all[i]->name_len);
        free(all);
        return;
    }
    if (argc != 3) {
        resp_error(&c->out, "ERR syntax error: SESSION LIST | INFO name | DROP name");
        return;
    }
    session_t *s = engine_find(e, argv[2], lens[2]);
    if (arg_is(argv[1], lens[1], "DROP")) {
        if (s)
            engine_drop(e, s);
        resp_integer(&c->out, s != NULL);
        return;
    }
    if (!arg_is(argv[1], lens[1], "INFO")) {
        resp_error(&c->out, "ERR syntax error: SESSION LIST | INFO name | DROP name");
        return;
    }
    if (!s) {
        resp_error(&c->out, "ERR no such session");
        return;
    }
    arena_stats_t as = {0};
    engine_refresh_stats(e); /* never an epoch per command at scale */
    arena_stats(&s->store.arena, &as);
    int64_t now = engine_now(e);
    const char *strategy = evict_kind_name(s->evict.kind);
    char growth[32];
    snprintf(growth, sizeof(growth), "%.1f", runtime_session_growth(s));
    resp_map(&c->out, 15, c->proto);
    reply_field_str(c, "name", s->name, s->name_len);
    reply_field_int(c, "bytes", (long long)session_bytes(s));
    reply_field_int(c, "arena_bytes", (long long)as.allocated);
    reply_field_int(c, "entries", (long long)session_entries(s));
    reply_field_int(c, "limit_bytes", (long long)s->limits.bytes);
    reply_field_int(c, "limit_entries", (long long)s->limits.entries);
    reply_field_str(c, "strategy", strategy, strlen(strategy));
    reply_field_int(c, "hits", (long long)s->counters.hits);
    reply_field_int(c, "misses", (long long)s->counters.misses);
    reply_field_int(c, "evictions", (long long)s->counters.evictions);
    reply_field_int(c, "expirations", (long long)s->counters.expirations);
    reply_field_str(c, "growth_bytes_per_min", growth, strlen(growth));
    reply_field_int(c, "idle_seconds", (long long)((now - s->used_ms) / 1000));
    reply_field_int(c, "age_seconds", (long long)((now - s->store.created_ms) / 1000));
    reply_field_int(c, "writes_denied", s->writes_denied);
}

/* Resolves a path a client sent (relative paths from dir) into `out`,
 * which must lie under dir; false otherwise, or when it does not exist. */
static bool path_under(const char *dir, const char *arg, size_t len, char out[PATH_MAX])
{
    char joined[PATH_MAX * 2];
    if (len == 0 || len >= PATH_MAX || memchr(arg, '\0', len))
        return false;
    if (arg[0] == '/')
        snprintf(joined, sizeof(joined), "%.*s", (int)len, arg);
    else
        snprintf(joined, sizeof(joined), "%s/%.*s", dir, (int)len, arg);
    size_t n = strlen(dir);
    return realpath(joined, out) && strncmp(out, dir, n) == 0 && (dir[n - 1] == '/' || out[n] == '/');
}

/* POLICY INFO | POLICY RELOAD [path] (DESIGN.md §5) */
static void cmd_policy(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    runtime_t *h = c->svc->runtime;
    if (argc == 2 && arg_is(argv[1], lens[1], "INFO")) {
        runtime_info_t in;
        runtime_get_info(h, &in);
        const char *strategy = in.strategy < 0 ? "chooser" : evict_kind_name((evict_kind)in.strategy);
        char interval[32];
        snprintf(interval, sizeof(interval), "%g", in.sample_interval);
        resp_map(&c->out, 10, c->proto);
        reply_field_str(c, "path", in.path, strlen(in.path));
        reply_field_str(c, "sha256", in.sha256, strlen(in.sha256));
        reply_field_int(c, "loaded_at", in.loaded_at);
        reply_field_int(c, "reloads", (long long)in.reloads);
        reply_field_int(c, "reload_failures", (long long)in.reload_failures);
        reply_field_str(c, "last_error", in.last_error, strlen(in.last_error));
        reply_field_int(c, "hook_errors", (long long)in.hook_errors);
        reply_field_str(c, "strategy", strategy, strlen(strategy));
        reply_field_str(c, "sample_interval", interval, strlen(interval));
        reply_field_int(c, "degraded", in.degraded);
        return;
    }
    if ((argc == 2 || argc == 3) && arg_is(argv[1], lens[1], "RELOAD")) {
        runtime_info_t in;
        runtime_get_info(h, &in);
        char path[PATH_MAX];
        if (argc == 3) {
            if (!c->svc->policy_dir) {
                resp_error(&c->out, "ERR policy: POLICY RELOAD takes a path only when policyd "
                                    "runs with --policy-dir; POLICY RELOAD alone reloads the "
                                    "current file");
                return;
            }
            if (!path_under(c->svc->policy_dir, argv[2], lens[2], path)) {
                /* One answer whether the file exists or not: a client learns
                 * nothing about the file system outside the directory. */
                resp_error(&c->out, "ERR policy: not a file under the --policy-dir directory");
                return;
            }
        } else {
            snprintf(path, sizeof(path), "%s", in.path);
        }
        char err[1024], msg[1100];
        if (runtime_reload(h, path, err, sizeof(err)) == 0) {
            resp_simple(&c->out, "OK");
        } else {
            snprintf(msg, sizeof(msg), "ERR policy: %s", err);
            resp_error(&c->out, msg);
        }
        return;
    }
    resp_error(&c->out, "ERR syntax error: POLICY INFO | POLICY RELOAD [path]");
}

/* ALERTS [count]: newest first, each a flat array of field, value pairs. */
static void cmd_alerts(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    long long count = 20;
    if (argc > 2 || (argc == 2 && (!arg_ll(argv[1], lens[1], &count) || count < 0))) {
        resp_error(&c->out, "ERR syntax error: ALERTS [count]");
        return;
    }
    if (count > 1024)
        count = 1024;
    alert_t *recent = malloc((size_t)(count ? count : 1) * sizeof(*recent));
    if (!recent) {
        resp_error(&c->out, "ERR out of memory");
        return;
    }
    size_t n = alerts_recent(runtime_alerts(c->svc->runtime), recent, (size_t)count);
    resp_array(&c->out, n);
    for (size_t i = 0; i < n; i++) {
        const alert_t *a = &recent[i];
        const char *sev = alert_severity_name(a->severity);
        char time[32];
        snprintf(time, sizeof(time), "%.3f", (double)a->time_ms / 1000.0);
        resp_map(&c->out, 5, c->proto);
        reply_field_str(c, "time", time, strlen(time));
        reply_field_str(c, "severity", sev, strlen(sev));
        reply_field_str(c, "kind", a->kind, strlen(a->kind));
        reply_field_str(c, "session", a->session, strlen(a->session));
        reply_field_str(c, "message", a->message, strlen(a->message));
    }
    free(recent);
}

/* INFO [section]: Redis's sections where they make sense, plus policy and
 * sessions, as "field:value" lines. */
static void cmd_info(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    engine_t *e = c->svc->engine;
    engine_stats_t st;
    engine_stats(e, false, &st);
    uint64_t hits = 0, misses = 0, evicted = 0, expired = 0, expires = 0;
    for (session_t *s = engine_next(e, NULL); s; s = engine_next(e, s)) {
        hits += s->counters.hits;
        misses += s->counters.misses;
        evicted += s->counters.evictions;
        expired += s->counters.expirations;
        expires += s->store.expiry.len;
    }
    runtime_info_t info;
    runtime_get_info(c->svc->runtime, &info);
    resp_buf_t b = {0};
    char line[512];
    bool all = argc < 2;
#define SECTION(name) (all || arg_is(argv[1], lens[1], name) || arg_is(argv[1], lens[1], "all"))
#define LINE(...) do { int n_ = snprintf(line, sizeof(line), __VA_ARGS__); \
        resp_append_raw(&b, line, (size_t)(n_ < (int)sizeof(line) ? n_ : (int)sizeof(line) - 1)); } while (0)
    if (SECTION("server")) {
        LINE("# Server\r\nredis_version:7.0.0\r\npolicyd_version:0.1.0\r\nredis_mode:standalone\r\n");
        LINE("process_id:%ld\r\ntcp_port:%d\r\nuptime_in_seconds:%lld\r\n\r\n", (long)getpid(),
             c->svc->port, (long long)((engine_now(e) - c->svc->started_ms) / 1000));
    }
    if (SECTION("clients"))
        LINE("# Clients\r\nconnected_clients:%zu\r\nclients_memory:%zu\r\n"
             "clients_cut_for_memory:%llu\r\n\r\n", c->svc->clients, c->svc->clients_bytes,
             (unsigned long long)c->svc->clients_cut);
    if (SECTION("memory")) {
        LINE("# Memory\r\nused_memory:%zu\r\nused_memory_rss:%zu\r\nsession_bytes:%llu\r\n",
             st.process.allocated, st.process.resident, (unsigned long long)st.bytes);
        LINE("maxmemory:%llu\r\nmaxmemory_policy:policyd\r\nmem_allocator:jemalloc\r\n\r\n",
             (unsigned long long)st.limit_bytes);
    }
    if (SECTION("stats")) {
        LINE("# Stats\r\nkeyspace_hits:%llu\r\nkeyspace_misses:%llu\r\nevicted_keys:%llu\r\n"
             "expired_keys:%llu\r\n\r\n", (unsigned long long)hits, (unsigned long long)misses,
             (unsigned long long)evicted, (unsigned long long)expired);
    }
    if (SECTION("keyspace") && st.entries)
        LINE("# Keyspace\r\ndb0:keys=%llu,expires=%llu,avg_ttl=0\r\n\r\n",
             (unsigned long long)st.entries, (unsigned long long)expires);
    if (SECTION("policy")) {
        LINE("# Policy\r\npolicy_path:%s\r\npolicy_sha256:%s\r\npolicy_reloads:%llu\r\n", info.path,
             info.sha256, (unsigned long long)info.reloads);
        LINE("policy_reload_failures:%llu\r\npolicy_hook_errors:%llu\r\npolicy_degraded:%d\r\n\r\n",
             (unsigned long long)info.reload_failures, (unsigned long long)info.hook_errors, info.degraded);
    }
    if (SECTION("sessions"))
        LINE("# Sessions\r\nsessions:%u\r\nlimit_sessions:%u\r\n\r\n", st.sessions, st.limit_sessions);
#undef LINE
#undef SECTION
    resp_bulk(&c->out, b.data ? b.data : "", b.len);
    resp_buf_free(&b);
}

/* CONFIG GET pattern...: the few parameters clients ask about, answered
 * as policyd behaves (no persistence; the system budget as maxmemory). */
static void cmd_config(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    if (!arg_is(argv[1], lens[1], "GET") || argc < 3) {
        resp_error(&c->out, "ERR policyd supports only CONFIG GET parameter...");
        return;
    }
    engine_stats_t st;
    engine_stats(c->svc->engine, false, &st);
    char maxmemory[24], databases[] = "1";
    snprintf(maxmemory, sizeof(maxmemory), "%llu", (unsigned long long)st.limit_bytes);
    const char *params[][2] = {
        {"save", ""}, {"appendonly", "no"}, {"databases", databases},
        {"maxmemory", maxmemory}, {"maxmemory-policy", "policyd"},
    };
    size_t n = sizeof(params) / sizeof(params[0]);
    bool hit[sizeof(params) / sizeof(params[0])] = {false};
    size_t found = 0;
    for (size_t i = 2; i < argc; i++)
        for (size_t p = 0; p < n; p++)
            if (!hit[p] && glob_match(argv[i], lens[i], params[p][0], strlen(params[p][0])))
                hit[p] = true, found++;
    resp_map(&c->out, found, c->proto);
    for (size_t p = 0; p < n; p++)
        if (hit[p])
            reply_field_str(c, params[p][0], params[p][1], strlen(params[p][1]));
}

/* MEMORY USAGE key | STATS | PURGE */
static void cmd_memory(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    engine_t *e = c->svc->engine;
    if (argc >= 3 && arg_is(argv[1], lens[1], "USAGE")) {
        session_t *s = read_session(c, argv[2], lens[2]);
        uint64_t bytes;
        if (s && session_memory_usage(s, argv[2], lens[2], &bytes) == PD_OK)
            resp_integer(&c->out, (long long)bytes);
        else
            resp_null(&c->out, c->proto);
    } else if (argc == 2 && arg_is(argv[1], lens[1], "STATS")) {
        engine_stats_t st;
        engine_refresh_stats(e);
        engine_stats(e, false, &st);
        resp_map(&c->out, 9, c->proto);
        reply_field_int(c, "allocated", (long long)st.process.allocated);
        reply_field_int(c, "active", (long long)st.process.active);
        reply_field_int(c, "resident", (long long)st.process.resident);
        reply_field_int(c, "mapped", (long long)st.process.mapped);
        reply_field_int(c, "retained", (long long)st.process.retained);
        reply_field_int(c, "metadata", (long long)st.process.metadata);
        reply_field_int(c, "session_bytes", (long long)st.bytes);
        reply_field_int(c, "sessions", st.sessions);
        reply_field_int(c, "keys", (long long)st.entries);
    } else if (argc == 2 && arg_is(argv[1], lens[1], "PURGE")) {
        for (session_t *s = engine_next(e, NULL); s; s = engine_next(e, s))
            arena_purge(&s->store.arena);
        resp_simple(&c->out, "OK");
    } else {
        resp_error(&c->out, "ERR syntax error: MEMORY USAGE key | STATS | PURGE");
    }
}

/* COMMAND: an empty table, which redis-cli takes as "no hints". */
static void cmd_command(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc, (void)argv, (void)lens;
    resp_array(&c->out, 0);
}

static void cmd_time(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    (void)argc, (void)argv, (void)lens;
    int64_t now = time_unix_us();
    char sec[24], usec[24];
    int a = snprintf(sec, sizeof(sec), "%lld", (long long)(now / 1000000));
    int b = snprintf(usec, sizeof(usec), "%lld", (long long)(now % 1000000));
    resp_array(&c->out, 2);
    resp_bulk(&c->out, sec, (size_t)a);
    resp_bulk(&c->out, usec, (size_t)b);
}

const command_t admin_commands[] = {
    {"session", -2, cmd_session}, {"policy", -2, cmd_policy}, {"alerts", -1, cmd_alerts},
    {"info", -1, cmd_info},       {"config", -2, cmd_config}, {"memory", -2, cmd_memory},
    {"command", -1, cmd_command}, {"time", 1, cmd_time},      {NULL, 0, NULL},
};
