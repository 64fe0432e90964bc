/* policyd: the command line. It reads argv and hands over:
 *
 *   policyd --policy FILE [OPTIONS]  serve (daemon.c)
 *   policyd --check FILE             load and validate a policy (check.c)
 *   policyd replay ...               replay a trace in-process (replay.c)
 *   policyd lua SCRIPT [ARGS...]     run a Lua 5.4 script with policyd.core
 *   policyd-lua SCRIPT [ARGS...]     the same (a link to this binary)
 *   policyd --version | --help */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/check.h"
#include "cli/daemon.h"
#include "cli/lua_interp.h"
#include "cli/replay.h"
#include "util/log.h"

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
    daemon_config_t cfg = {0};
    server_config_t *scfg = &cfg.server;
    bool log_json = false;
    log_level log_min = LOG_INFO;
    int i = 1;
    for (; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--policy") == 0)
            cfg.policy_path = argv[i + 1];
        else if (strcmp(argv[i], "--port") == 0)
            scfg->port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--bind") == 0)
            scfg->bind = argv[i + 1];
        else if (strcmp(argv[i], "--requirepass") == 0)
            cfg.requirepass = argv[i + 1];
        else if (strcmp(argv[i], "--unixsocket") == 0)
            scfg->unixsocket = argv[i + 1];
        else if (strcmp(argv[i], "--log-format") == 0 &&
                 (strcmp(argv[i + 1], "json") == 0 || strcmp(argv[i + 1], "logfmt") == 0))
            log_json = strcmp(argv[i + 1], "json") == 0;
        else if (strcmp(argv[i], "--log-level") == 0 && log_level_parse(argv[i + 1]) >= 0)
            log_min = (log_level)log_level_parse(argv[i + 1]);
        else
            break;
    }
    if (cfg.policy_path && i == argc && scfg->port >= 0 && scfg->port < 65536) {
        log_configure(log_json, log_min);
        return daemon_run(&cfg);
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
