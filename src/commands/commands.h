/* commands: the command table. Every command runs on the loop thread and
 * writes its reply into the client's output (Redis's semantics and error
 * wording where Redis has the command). */
#ifndef POLICYD_COMMANDS_H
#define POLICYD_COMMANDS_H

#include <stddef.h>

#include "net/server.h"

/* Runs one command; argv[i] holds lens[i] bytes (not NUL-terminated). */
void commands_execute(client_t *c, size_t argc, char **argv, const size_t *lens);

#endif
