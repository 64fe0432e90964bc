/* daemon: `policyd --policy FILE ...`: serves the Redis protocol until
 * SIGTERM or SIGINT. */
#ifndef POLICYD_CLI_DAEMON_H
#define POLICYD_CLI_DAEMON_H

#include "net/server.h"

#define DAEMON_DEFAULT_PORT 7379

typedef struct daemon_config {
    const char *policy_path;
    server_config_t server;
    const char *requirepass; /* NULL: no AUTH needed */
} daemon_config_t;

/* Loads the policy (a failure stops here with file:line: message on
 * stderr), listens, and runs until stopped. Returns the exit status. */
int daemon_run(const daemon_config_t *cfg);

#endif
