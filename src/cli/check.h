/* check: `policyd --check FILE`: loads and validates a policy the way the
 * daemon's start does and prints its limits and strategy, or the error as
 * file:line: message. */
#ifndef POLICYD_CLI_CHECK_H
#define POLICYD_CLI_CHECK_H

/* Returns the exit status: 0 (valid) or 1. */
int check_policy(const char *path);

#endif
