/* policyd: the command line.
 *
 *   policyd --policy FILE [--port N] [--bind ADDR]   run the daemon
 *   policyd --check FILE           load and validate a policy file
 *   policyd lua SCRIPT [ARGS...]   run a Lua 5.4 script with policyd.core
 *   policyd-lua SCRIPT [ARGS...]   the same (a link to this binary)
 *   policyd --version | --help
 *
 * The Lua mode exists so busted can run policy specs against the real
 * engine: `.busted` names build/policyd-lua as busted's interpreter, and
 * `policyd.core` is compiled in, so Debian's jemalloc (initial-exec TLS, not
 * loadable into a stock lua5.4) is already in the process. */
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "core/engine.h"
#include "policy/host.h"
#include "util/log.h"
#include "bindings/lua_core.h"
#include "policy/policy.h"
#include "cli/replay.h"
#include "net/server.h"

#define POLICYD_VERSION "0.1.0"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: policyd --policy FILE [--port N] [--bind ADDR] [--unixsocket PATH]\n"
            "               [--requirepass PASS] [--log-format logfmt|json]\n"
            "               [--log-level debug|info|warn|error]\n"
            "                                      run the daemon (default 127.0.0.1:7379)\n"
            "       policyd --check FILE           load and validate a policy\n"
            "       policyd replay --policy FILE TRACE.csv [--entries N | --bytes SIZE]\n"
            "                      [--strategy NAME] [--csv]   replay a trace in-process\n"
            "       policyd lua SCRIPT [ARGS...]   run a Lua script with policyd.core\n"
            "       policyd --version\n"
            "       policyd --help\n"
            "Reload the policy with SIGHUP; stop with SIGTERM or SIGINT.\n");
}

static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
    return 1;
}

/* Puts lua/ beside the binary's directory first on package.path, so a build
 * tree finds the Lua modules under lua/ without installing. */
static void add_source_path(lua_State *L)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    const char *dir = dirname(exe);
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    lua_pushfstring(L, "%s/../lua/?.lua;%s/../lua/?/init.lua;%s", dir, dir,
                    lua_tostring(L, -1));
    lua_setfield(L, -3, "path");
    lua_pop(L, 2);
}

static int run_lua(int argc, char **argv, const char *self)
{
    if (argc < 1) {
        usage(stderr);
        return 2;
    }
    lua_State *L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "policyd: cannot create a Lua state\n");
        return 1;
    }
    luaL_openlibs(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_policyd_core);
    lua_setfield(L, -2, "policyd.core");
    lua_pop(L, 1);
    add_source_path(L);

    /* arg, as the stock interpreter builds it. */
    lua_createtable(L, argc, 1);
    lua_pushstring(L, self);
    lua_rawseti(L, -2, -1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i);
    }
    lua_setglobal(L, "arg");

    lua_pushcfunction(L, traceback);
    int rc = luaL_loadfile(L, argv[0]);
    if (rc == LUA_OK) {
        for (int i = 1; i < argc; i++)
            lua_pushstring(L, argv[i]);
        rc = lua_pcall(L, argc - 1, 0, 1);
    }
    if (rc != LUA_OK)
        fprintf(stderr, "policyd: %s\n", lua_tostring(L, -1));
    lua_close(L);
    return rc == LUA_OK ? 0 : 1;
}

static void print_size(const char *what, uint64_t v)
{
    if (v)
        printf("%s %llu bytes\n", what, (unsigned long long)v);
    else
        printf("%s unlimited\n", what);
}

/* policyd --check FILE: the same load and validation as the daemon's start. */
static int check_policy(const char *path)
{
    char err[1024];
    policy_t *p = policy_load(path, NULL, err, sizeof(err));
    if (!p) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    policy_info_t in;
    policy_get_info(p, &in);
    printf("policy %s: ok\n", in.name[0] ? in.name : path);
    if (in.limits_function) {
        printf("session limits: a function of the session name\n");
    } else {
        print_size("session bytes:", in.limits.bytes);
        printf("session entries: %llu\n", (unsigned long long)in.limits.entries);
    }
    print_size("system bytes:", in.system_bytes);
    printf("system sessions: %u\n", in.system_sessions);
    printf("eviction: %s\n", in.strategy < 0 ? "a Lua chooser"
                                              : evict_kind_name((evict_kind)in.strategy));
    printf("sample interval: %g s\n", in.sample_interval);
    policy_free(p);
    return 0;
}

/* --- the daemon ---------------------------------------------------------- */

#define TICK_MS 100
#define EXPIRE_PER_TICK 200

typedef struct daemon_state {
    uv_loop_t *loop;
    engine_t *engine;
    host_t *host;
    server_t *server;
    const char *policy_path;
    uv_timer_t tick;
    uv_signal_t sigint, sigterm, sighup;
    uv_fs_event_t watch;   /* the policy's directory: editors save by rename */
    uv_timer_t settle;     /* reload once the file has been quiet a moment */
    char policy_dir[PATH_MAX], policy_base[PATH_MAX];
} daemon_state_t;

#define SETTLE_MS 200

/* The engine's clock in the daemon: libuv's loop time, read once per loop
 * iteration, so the commands of one batch share one reading (as Redis
 * caches its clock per command) instead of calling clock_gettime several
 * times per command. */
static int64_t loop_clock(void *ud)
{
    return (int64_t)uv_now(ud);
}

/* Every tick: a bounded active-expiry step, and the sample when it is due. */
static void on_tick(uv_timer_t *t)
{
    daemon_state_t *d = t->data;
    engine_expire_step(d->engine, EXPIRE_PER_TICK);
    if (engine_now(d->engine) >= host_next_sample(d->host))
        host_sample(d->host);
}

static void on_stop(uv_signal_t *sig, int signum)
{
    daemon_state_t *d = sig->data;
    log_event(LOG_INFO, "stopping", "signal", signum == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    server_close(d->server);
    uv_close((uv_handle_t *)&d->tick, NULL);
    uv_close((uv_handle_t *)&d->sigint, NULL);
    uv_close((uv_handle_t *)&d->sigterm, NULL);
    uv_close((uv_handle_t *)&d->sighup, NULL);
    uv_close((uv_handle_t *)&d->settle, NULL);
    if (!uv_is_closing((uv_handle_t *)&d->watch))
        uv_close((uv_handle_t *)&d->watch, NULL);
}

static void reload(daemon_state_t *d, const char *why)
{
    char err[1024];
    log_event(LOG_INFO, "reloading the policy", "reason", why, NULL);
    if (host_reload(d->host, d->policy_path, err, sizeof(err)) == 0)
        log_event(LOG_INFO, "policy reloaded", "path", d->policy_path, NULL);
    else
        log_event(LOG_ERROR, "policy reload failed, old policy kept", "error", err, NULL);
}

static void on_hup(uv_signal_t *sig, int signum)
{
    (void)signum;
    reload(sig->data, "SIGHUP");
}

static void on_settled(uv_timer_t *t)
{
    reload(t->data, "file-changed");
}

static void on_policy_dir(uv_fs_event_t *w, const char *filename, int events, int status)
{
    (void)events;
    daemon_state_t *d = w->data;
    if (status == 0 && filename && strcmp(filename, d->policy_base) == 0)
        uv_timer_start(&d->settle, on_settled, SETTLE_MS, 0);
}

static int run_daemon(const char *policy_path, server_config_t *scfg)
{
    char err[1024];
    daemon_state_t d = {.policy_path = policy_path, .loop = uv_default_loop()};
    /* A client that hangs up while a reply is being written is an EPIPE
     * for that client, not a signal that stops the daemon. */
    signal(SIGPIPE, SIG_IGN);
    d.host = host_create(policy_path, 0, err, sizeof(err));
    if (!d.host) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    engine_config_t cfg = {.seed = (uint64_t)uv_hrtime(), .clock = loop_clock,
                           .clock_ud = d.loop};
    host_configure(d.host, &cfg);
    d.engine = engine_create(&cfg);
    if (!d.engine) {
        fprintf(stderr, "policyd: cannot create the engine\n");
        host_destroy(d.host);
        return 1;
    }
    host_attach(d.host, d.engine);
    d.server = server_create(d.loop, d.engine, d.host, scfg, err, sizeof(err));
    if (!d.server) {
        fprintf(stderr, "policyd: %s\n", err);
        engine_destroy(d.engine);
        host_destroy(d.host);
        return 1;
    }
    uv_timer_init(d.loop, &d.tick);
    d.tick.data = &d;
    uv_timer_start(&d.tick, on_tick, TICK_MS, TICK_MS);
    uv_signal_t *sigs[] = {&d.sigint, &d.sigterm, &d.sighup};
    int nums[] = {SIGINT, SIGTERM, SIGHUP};
    for (int i = 0; i < 3; i++) {
        uv_signal_init(d.loop, sigs[i]);
        sigs[i]->data = &d;
        uv_signal_start(sigs[i], nums[i] == SIGHUP ? on_hup : on_stop, nums[i]);
    }
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", policy_path);
    snprintf(d.policy_dir, sizeof(d.policy_dir), "%s", dirname(tmp));
    snprintf(tmp, sizeof(tmp), "%s", policy_path);
    snprintf(d.policy_base, sizeof(d.policy_base), "%s", basename(tmp));
    uv_timer_init(d.loop, &d.settle);
    d.settle.data = &d;
    uv_fs_event_init(d.loop, &d.watch);
    d.watch.data = &d;
    if (uv_fs_event_start(&d.watch, on_policy_dir, d.policy_dir, 0) != 0) {
        log_event(LOG_WARN, "cannot watch the policy file; reload with SIGHUP", "dir",
                  d.policy_dir, NULL);
        uv_close((uv_handle_t *)&d.watch, NULL);
    }
    char addr[300];
    snprintf(addr, sizeof(addr), "%s:%d", scfg->bind ? scfg->bind : "127.0.0.1",
             scfg->port ? scfg->port : 7379);
    log_event(LOG_INFO, "listening", "addr", addr, "policy", policy_path, NULL);
    uv_run(d.loop, UV_RUN_DEFAULT);
    server_free(d.server);
    engine_destroy(d.engine);
    host_destroy(d.host);
    uv_loop_close(d.loop);
    log_event(LOG_INFO, "stopped", NULL);
    return 0;
}

int main(int argc, char **argv)
{
    char *name = strrchr(argv[0], '/');
    name = name ? name + 1 : argv[0];
    if (strcmp(name, "policyd-lua") == 0)
        return run_lua(argc - 1, argv + 1, argv[0]);
    if (argc >= 2 && strcmp(argv[1], "lua") == 0)
        return run_lua(argc - 2, argv + 2, argv[0]);
    if (argc == 3 && strcmp(argv[1], "--check") == 0)
        return check_policy(argv[2]);
    if (argc >= 2 && strcmp(argv[1], "replay") == 0)
        return replay_main(argc - 2, argv + 2);
    const char *policy_path = NULL;
    server_config_t scfg = {0};
    bool log_json = false;
    log_level log_min = LOG_INFO;
    int i = 1;
    for (; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--policy") == 0)
            policy_path = argv[i + 1];
        else if (strcmp(argv[i], "--port") == 0)
            scfg.port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--bind") == 0)
            scfg.bind = argv[i + 1];
        else if (strcmp(argv[i], "--requirepass") == 0)
            scfg.requirepass = argv[i + 1];
        else if (strcmp(argv[i], "--unixsocket") == 0)
            scfg.unixsocket = argv[i + 1];
        else if (strcmp(argv[i], "--log-format") == 0 &&
                 (strcmp(argv[i + 1], "json") == 0 || strcmp(argv[i + 1], "logfmt") == 0))
            log_json = strcmp(argv[i + 1], "json") == 0;
        else if (strcmp(argv[i], "--log-level") == 0 && log_level_parse(argv[i + 1]) >= 0)
            log_min = (log_level)log_level_parse(argv[i + 1]);
        else
            break;
    }
    if (policy_path && i == argc && scfg.port >= 0 && scfg.port < 65536) {
        log_configure(log_json, log_min);
        return run_daemon(policy_path, &scfg);
    }
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("policyd %s\n", POLICYD_VERSION);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
