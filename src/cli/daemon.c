/* daemon: policyd serving. It wires the engine, the policy runtime, the
 * commands' service and the libuv server together, and runs the loop: a
 * 100 ms tick for active expiry and the policy's samples, SIGHUP and the
 * policy file's changes for reloads, SIGTERM and SIGINT for a clean stop,
 * and every alert logged and published. */
#include "cli/daemon.h"

#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "commands/pubsub.h"
#include "core/engine.h"
#include "policy/alerts.h"
#include "policy/runtime.h"
#include "util/log.h"

#define TICK_MS 100
#define EXPIRE_PER_TICK 200

typedef struct daemon_state {
    uv_loop_t *loop;
    engine_t *engine;
    runtime_t *runtime;
    service_t service;     /* what the commands act on */
    server_t *server;
    const char *policy_path;
    uv_timer_t tick;
    uv_signal_t sigint, sigterm, sighup;
    uv_fs_event_t watch;   /* the policy's directory: editors save by rename */
    bool watching;
    char watched[PATH_MAX]; /* the policy file the watch is for */
    uv_timer_t settle;     /* reload once the file has been quiet a moment */
    uv_timer_t drain;      /* a stop waits this long for replies to go out */
    int64_t shutdown_ms;
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

static void on_policy_dir(uv_fs_event_t *w, const char *filename, int events, int status);

/* Watches the directory of the policy the runtime has now: after POLICY
 * RELOAD from another path, SIGHUP and the watch follow that path. */
static void watch_policy(daemon_state_t *d)
{
    runtime_info_t info;
    runtime_get_info(d->runtime, &info);
    if (strcmp(info.path, d->watched) == 0)
        return;
    snprintf(d->watched, sizeof(d->watched), "%s", info.path);
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", info.path);
    snprintf(d->policy_dir, sizeof(d->policy_dir), "%s", dirname(tmp));
    snprintf(tmp, sizeof(tmp), "%s", info.path);
    snprintf(d->policy_base, sizeof(d->policy_base), "%s", basename(tmp));
    if (d->watching)
        uv_fs_event_stop(&d->watch);
    d->watching = uv_fs_event_start(&d->watch, on_policy_dir, d->policy_dir, 0) == 0;
    if (!d->watching)
        log_event(LOG_WARN, "cannot watch the policy file; reload with SIGHUP", "dir",
                  d->policy_dir, NULL);
}

/* Every tick: a bounded active-expiry step, the sample when it is due, and
 * the watch moved if the policy now comes from elsewhere. */
static void on_tick(uv_timer_t *t)
{
    daemon_state_t *d = t->data;
    watch_policy(d);
    engine_expire_step(d->engine, EXPIRE_PER_TICK);
    if (engine_now(d->engine) >= runtime_next_sample(d->runtime))
        runtime_sample(d->runtime);
}

/* Every delivered alert: a log line, and a JSON message on policyd:alerts
 * to every subscriber. */
static void on_alert(void *ud, const alert_t *a)
{
    daemon_state_t *d = ud;
    log_event(a->severity >= ALERT_ERROR ? LOG_ERROR : a->severity == ALERT_WARNING ? LOG_WARN
                                                                                    : LOG_INFO,
              "alert", "severity", alert_severity_name(a->severity), "kind", a->kind, "session",
              a->session, "message", a->message, NULL);
    char json[ALERT_JSON_MAX];
    size_t len = alert_json(a, json);
    pubsub_publish(&d->service, PUBSUB_ALERTS_CHANNEL, strlen(PUBSUB_ALERTS_CHANNEL), json, len);
}

/* The stop waited long enough: clients still holding replies are cut. */
static void on_drained(uv_timer_t *t)
{
    daemon_state_t *d = t->data;
    size_t n = server_cut(d->server);
    char count[24];
    snprintf(count, sizeof(count), "%zu", n);
    log_event(LOG_WARN, "shutdown timeout: clients cut with replies unsent", "clients", count,
              NULL);
}

static void on_stop(uv_signal_t *sig, int signum)
{
    daemon_state_t *d = sig->data;
    log_event(LOG_INFO, "stopping", "signal", signum == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    alerts_subscribe(runtime_alerts(d->runtime), NULL, NULL);
    server_close(d->server);
    /* Unreferenced: it cuts what is left, but does not keep a loop alive
     * whose clients all finished. */
    uv_timer_start(&d->drain, on_drained, (uint64_t)d->shutdown_ms, 0);
    uv_unref((uv_handle_t *)&d->drain);
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
    runtime_info_t info;
    runtime_get_info(d->runtime, &info);
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s", info.path);
    if (runtime_reload(d->runtime, path, err, sizeof(err)) == 0)
        log_event(LOG_INFO, "policy reloaded", "path", path, NULL);
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

int daemon_run(const daemon_config_t *cfg)
{
    char err[1024];
    const char *policy_path = cfg->policy_path;
    const server_config_t *scfg = &cfg->server;
    daemon_state_t d = {.policy_path = policy_path, .loop = uv_default_loop(),
                        .shutdown_ms = cfg->shutdown_ms < 0 ? DAEMON_SHUTDOWN_MS
                                                            : cfg->shutdown_ms};
    /* A client that hangs up while a reply is being written is an EPIPE
     * for that client, not a signal that stops the daemon. */
    signal(SIGPIPE, SIG_IGN);
    runtime_options_t opt = {0};
    d.runtime = runtime_create(policy_path, &opt, err, sizeof(err));
    if (!d.runtime) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    engine_config_t ecfg = {.seed = (uint64_t)uv_hrtime(), .clock = loop_clock,
                            .clock_ud = d.loop, .max_name = cfg->max_session_name};
    runtime_configure(d.runtime, &ecfg);
    d.engine = engine_create(&ecfg);
    if (!d.engine) {
        fprintf(stderr, "policyd: cannot create the engine\n");
        runtime_destroy(d.runtime);
        return 1;
    }
    runtime_attach(d.runtime, d.engine);
    service_init(&d.service, d.engine, d.runtime);
    d.service.requirepass = cfg->requirepass;
    d.service.policy_dir = cfg->policy_dir;
    if (cfg->max_bulk)
        d.service.max_bulk = cfg->max_bulk;
    if (cfg->output_limit >= 0)
        d.service.output_limit = (size_t)cfg->output_limit;
    if (cfg->clients_limit >= 0)
        d.service.clients_limit = (size_t)cfg->clients_limit;
    d.service.port = scfg->port ? scfg->port : DAEMON_DEFAULT_PORT;
    d.server = server_create(d.loop, &d.service, scfg, err, sizeof(err));
    if (!d.server) {
        fprintf(stderr, "policyd: %s\n", err);
        engine_destroy(d.engine);
        runtime_destroy(d.runtime);
        return 1;
    }
    alerts_subscribe(runtime_alerts(d.runtime), on_alert, &d);
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
    uv_timer_init(d.loop, &d.settle);
    d.settle.data = &d;
    uv_timer_init(d.loop, &d.drain);
    d.drain.data = &d;
    uv_fs_event_init(d.loop, &d.watch);
    d.watch.data = &d;
    watch_policy(&d);
    char addr[300];
    snprintf(addr, sizeof(addr), "%s:%d", scfg->bind ? scfg->bind : "127.0.0.1",
             d.service.port);
    log_event(LOG_INFO, "listening", "addr", addr, "policy", policy_path, NULL);
    uv_run(d.loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&d.drain, NULL);
    uv_run(d.loop, UV_RUN_NOWAIT);
    server_free(d.server);
    engine_destroy(d.engine);
    runtime_destroy(d.runtime);
    uv_loop_close(d.loop);
    log_event(LOG_INFO, "stopped", NULL);
    return 0;
}
