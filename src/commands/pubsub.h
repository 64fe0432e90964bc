/* pubsub: the channel registry — who is subscribed to what — and
 * SUBSCRIBE / UNSUBSCRIBE. policyd publishes its alerts on
 * PUBSUB_ALERTS_CHANNEL (there is no PUBLISH command). A connection keeps
 * its channels; the service keeps the connections with any, so publishing
 * costs the subscribers, not every client. */
#ifndef POLICYD_COMMANDS_PUBSUB_H
#define POLICYD_COMMANDS_PUBSUB_H

#include <stddef.h>

#include "commands/conn.h"

#define PUBSUB_ALERTS_CHANNEL "policyd:alerts"

/* Ends every subscription of c (a connection that closes). */
void pubsub_unsubscribe_all(conn_t *c);

/* Appends `message` on `channel` to every subscriber's replies (a push in
 * RESP3) and has its transport send them; returns how many got it. */
size_t pubsub_publish(service_t *svc, const char *channel, size_t len, const char *message,
                      size_t mlen);

#endif
