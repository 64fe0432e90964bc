/* policyd: the command line. It reads argv and hands over:
 *
 *   policyd --policy FILE [OPTIONS]  serve (daemon.c)
 *   policyd --check FILE             load and validate a policy (check.c)
 *   policyd replay ...               replay a trace in-process (replay.c)
 *   policyd lua SCRIPT [ARGS...]     run a Lua 5.4 script with policyd.core
 *   policyd-lua SCRIPT [ARGS...]     the same (a link to this binary)
 *   policyd --version | --help */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/check.h"
#include "cli/daemon.h"
#include "cli/lua_interp.h"
#include "cli/replay.h"
#include "util/log.h"
#include "proto/resp.h"
#include "util/number.h"

#define POLICYD_VERSION "0.1.0"
#define SIZE_HELP "not a size (bytes, or with a unit: 64MB, 1GB; 0 for none)"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: policyd --policy FILE [--port N] [--bind ADDR] [--unixsocket PATH]\n"
            "               [--requirepass PASS] [--max-session-name BYTES]\n"
            "               [--shutdown-timeout SECONDS] [--proto-max-bulk-len SIZE]\n"
            "               [--client-output-limit SIZE] [--client-query-limit SIZE]\n"
            "               [--maxmemory-clients SIZE] [--policy-dir DIR]\n"
            "               [--log-format logfmt|json]\n"
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

/* A bad command line: what is wrong, naming the argument, then the usage. */
static int bad(const char *flag, const char *value, const char *why)
{
    if (value)
        fprintf(stderr, "policyd: %s '%s': %s\n", flag, value, why);
    else
        fprintf(stderr, "policyd: %s: %s\n", flag, why);
    usage(stderr);
    return 2;
}

int main(int argc, char **argv)
{
    char *name = strrchr(argv[0], '/');
    name = name ? name + 1 : argv[0];
    if (strcmp(name, "policyd-lua") == 0)
        return lua_interp_main(argc - 1, argv + 1, argv[0]);
    if (argc >= 2 && strcmp(argv[1], "lua") == 0)
        return lua_interp_main(argc - 2, argv + 2, argv[0]);
    if (argc == 3 && strcmp(argv[1], "--check") == 0)
        return check_policy(argv[2]);
    if (argc >= 2 && strcmp(argv[1], "replay") == 0)
        return replay_main(argc - 2, argv + 2);
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("policyd %s\n", POLICYD_VERSION);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    if (argc == 1) {
        usage(stderr);
        return 2;
    }
    daemon_config_t cfg = {.shutdown_ms = -1, .output_limit = -1, .clients_limit = -1};
    static char policy_dir[PATH_MAX];
    server_config_t *scfg = &cfg.server;
    bool log_json = false;
    log_level log_min = LOG_INFO;
    for (int i = 1; i < argc; i += 2) {
        const char *flag = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t size;
        if (strncmp(flag, "--", 2) != 0)
            return bad(flag, NULL, "not an option (options start with --)");
        if (!v)
            return bad(flag, NULL, "needs a value");
        if (strcmp(flag, "--policy") == 0) {
            cfg.policy_path = v;
        } else if (strcmp(flag, "--port") == 0) {
            uint64_t port;
            if (!number_u64(v, strlen(v), &port) || port < 1 || port > 65535)
                return bad(flag, v, "not a port from 1 to 65535");
            scfg->port = (int)port;
        } else if (strcmp(flag, "--bind") == 0) {
            scfg->bind = v;
        } else if (strcmp(flag, "--max-session-name") == 0) {
            uint64_t n;
            if (!number_u64(v, strlen(v), &n) || n < 1 || n > DAEMON_MAX_SESSION_NAME)
                return bad(flag, v, "not a number of bytes from 1 to 65536");
            cfg.max_session_name = (uint32_t)n;
        } else if (strcmp(flag, "--proto-max-bulk-len") == 0) {
            if (!number_size(v, &size) || size < 1024 || size > UINT32_MAX)
                return bad(flag, v, "not a size from 1KB to 4294967295 bytes");
            cfg.max_bulk = (size_t)size;
        } else if (strcmp(flag, "--client-output-limit") == 0) {
            if (!number_size(v, &size) || size > INT64_MAX)
                return bad(flag, v, SIZE_HELP);
            cfg.output_limit = (int64_t)size;
        } else if (strcmp(flag, "--maxmemory-clients") == 0) {
            if (!number_size(v, &size) || size > INT64_MAX)
                return bad(flag, v, SIZE_HELP);
            cfg.clients_limit = (int64_t)size;
        } else if (strcmp(flag, "--client-query-limit") == 0) {
            if (!number_size(v, &size) || size == 0 || size > SIZE_MAX / 2)
                return bad(flag, v, "not a size of more than 0 (bytes, or with a unit: 1GB)");
            scfg->max_query = (size_t)size;
        } else if (strcmp(flag, "--shutdown-timeout") == 0) {
            uint64_t secs;
            if (!number_u64(v, strlen(v), &secs) || secs > 86400)
                return bad(flag, v, "not a number of seconds from 0 to 86400");
            cfg.shutdown_ms = (int64_t)secs * 1000;
        } else if (strcmp(flag, "--policy-dir") == 0) {
            struct stat st;
            if (!realpath(v, policy_dir) || stat(policy_dir, &st) != 0 || !S_ISDIR(st.st_mode))
                return bad(flag, v, "not a directory");
            cfg.policy_dir = policy_dir;
        } else if (strcmp(flag, "--requirepass") == 0) {
            cfg.requirepass = v;
        } else if (strcmp(flag, "--unixsocket") == 0) {
            scfg->unixsocket = v;
        } else if (strcmp(flag, "--log-format") == 0) {
            if (strcmp(v, "json") != 0 && strcmp(v, "logfmt") != 0)
                return bad(flag, v, "not logfmt or json");
            log_json = strcmp(v, "json") == 0;
        } else if (strcmp(flag, "--log-level") == 0) {
            if (log_level_parse(v) < 0)
                return bad(flag, v, "not debug, info, warn or error");
            log_min = (log_level)log_level_parse(v);
        } else {
            return bad(flag, NULL, "unknown option");
        }
    }
    if (!cfg.policy_path)
        return bad("--policy", NULL, "is required to run the daemon");
    size_t bulk = cfg.max_bulk ? cfg.max_bulk : RESP_MAX_BULK;
    if (scfg->max_query && scfg->max_query < bulk + 1024)
        return bad("--client-query-limit", NULL,
                   "must hold one command of --proto-max-bulk-len (512MB by default) and more");
    log_configure(log_json, log_min);
    return daemon_run(&cfg);
}
