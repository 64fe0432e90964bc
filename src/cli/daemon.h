/* daemon: `policyd --policy FILE ...`: serves the Redis protocol until
 * SIGTERM or SIGINT. */
#ifndef POLICYD_CLI_DAEMON_H
#define POLICYD_CLI_DAEMON_H

#include <stdint.h>

#include "net/server.h"

#define DAEMON_DEFAULT_PORT 7379

typedef struct daemon_config {
    const char *policy_path;
    server_config_t server;
    const char *requirepass; /* NULL: no AUTH needed */
    const char *policy_dir;  /* resolved; POLICY RELOAD takes paths under
                              * it only (NULL: no path at all) */
    uint32_t max_session_name; /* bytes; 0 = ENGINE_MAX_NAME */
    size_t max_bulk;         /* bytes in an argument or value; 0 = 512 MiB */
    int64_t output_limit;    /* unsent replies per client; < 0 = 64 MiB, 0 none */
    int64_t clients_limit;   /* all clients' memory; < 0 = 1 GiB, 0 none */
    int64_t shutdown_ms;     /* how long a stop waits for replies; < 0 = 10 s */
} daemon_config_t;

#define DAEMON_SHUTDOWN_MS 10000

/* The largest --max-session-name. */
#define DAEMON_MAX_SESSION_NAME 65536

/* Loads the policy (a failure stops here with file:line: message on
 * stderr), listens, and runs until stopped. Returns the exit status. */
int daemon_run(const daemon_config_t *cfg);

#endif
