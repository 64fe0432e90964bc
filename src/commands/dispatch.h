/* dispatch: runs a connection's input — parses commands out of the bytes
 * it read (proto/resp.h), checks what the connection may run (AUTH first; a
 * RESP2 subscriber only manages its subscriptions), finds the command by
 * name and checks its arity. Replies go to c->out, for the transport to
 * send. */
#ifndef POLICYD_COMMANDS_DISPATCH_H
#define POLICYD_COMMANDS_DISPATCH_H

#include <stddef.h>

#include "commands/conn.h"

/* Runs the complete commands at the start of buf (len bytes) until one is
 * incomplete or the connection is closing; returns the bytes consumed (the
 * caller keeps the rest for the next read). A protocol error is replied and
 * sets c->closing. Inline commands are unquoted in place. */
size_t dispatch_input(conn_t *c, char *buf, size_t len);

#endif
