/* pubsub: see pubsub.h. */
#include "commands/pubsub.h"

#include <stdlib.h>
#include <string.h>

#include "commands/command.h"

/* Subscribes c: 1, 0 if it already was, -1 when out of memory. */
static int subscribe(conn_t *c, const char *channel, size_t len)
{
    int added = strset_add(&c->channels, channel, len);
    if (added == 1 && c->channels.len == 1) { /* joins the service's subscribers */
        service_t *svc = c->svc;
        c->sub_prev = NULL;
        c->sub_next = svc->subscribers;
        if (svc->subscribers)
            svc->subscribers->sub_prev = c;
        svc->subscribers = c;
    }
    return added;
}

/* Removes subscription i (the last one takes its place). */
static void drop_channel(conn_t *c, size_t i)
{
    strset_remove_at(&c->channels, i);
    if (c->channels.len > 0)
        return;
    /* leaves the service's subscribers */
    if (c->sub_prev)
        c->sub_prev->sub_next = c->sub_next;
    else
        c->svc->subscribers = c->sub_next;
    if (c->sub_next)
        c->sub_next->sub_prev = c->sub_prev;
    c->sub_prev = c->sub_next = NULL;
    strset_free(&c->channels);
}

/* Unsubscribes c: 1, or 0 if it was not subscribed. */
static int unsubscribe(conn_t *c, const char *channel, size_t len)
{
    long i = strset_find(&c->channels, channel, len);
    if (i < 0)
        return 0;
    drop_channel(c, (size_t)i);
    return 1;
}

void pubsub_unsubscribe_all(conn_t *c)
{
    while (c->channels.len > 0)
        drop_channel(c, 0);
    strset_free(&c->channels); /* grown for a subscription that then ran out of memory */
}

/* A message or a (un)subscription: a 3-element array, a push in RESP3. */
static void push_header(conn_t *c)
{
    if (c->proto >= 3)
        resp_append_raw(&c->out, ">3\r\n", 4);
    else
        resp_array(&c->out, 3);
}

size_t pubsub_publish(service_t *svc, const char *channel, size_t len, const char *message,
                      size_t mlen)
{
    size_t n = 0;
    for (conn_t *c = svc->subscribers, *next; c; c = next) {
        next = c->sub_next;
        if (strset_find(&c->channels, channel, len) < 0 || c->cut)
            continue;
        /* A subscriber that does not read is let go, not buffered for. */
        if (svc->output_limit && c->out.len + c->queued + mlen > svc->output_limit) {
            conn_cut(c);
            continue;
        }
        c->out.limit = 0;
        push_header(c);
        resp_bulk(&c->out, "message", 7);
        resp_bulk(&c->out, channel, len);
        resp_bulk(&c->out, message, mlen);
        c->ops->flush(c);
        n++;
    }
    return n;
}

/* The reply to (UN)SUBSCRIBE for one channel (NULL: none), with the count
 * of subscriptions left. */
static void subscription_reply(conn_t *c, const char *kind, const char *ch, size_t len,
                               size_t count)
{
    push_header(c);
    resp_bulk(&c->out, kind, strlen(kind));
    if (ch)
        resp_bulk(&c->out, ch, len);
    else
        resp_null(&c->out, c->proto);
    resp_integer(&c->out, (long long)count);
}

/* SUBSCRIBE channel... */
static void cmd_subscribe(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    for (size_t i = 1; i < argc; i++) {
        if (subscribe(c, argv[i], lens[i]) < 0) {
            resp_error(&c->out, "ERR out of memory");
            return;
        }
        subscription_reply(c, "subscribe", argv[i], lens[i], c->channels.len);
    }
}

/* UNSUBSCRIBE [channel...]: without one, every subscription. */
static void cmd_unsubscribe(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    if (argc == 1) {
        if (c->channels.len == 0)
            subscription_reply(c, "unsubscribe", NULL, 0, 0);
        while (c->channels.len > 0) {
            const strset_item_t *ch = &c->channels.items[0];
            subscription_reply(c, "unsubscribe", ch->s, ch->len, c->channels.len - 1);
            drop_channel(c, 0);
        }
        return;
    }
    for (size_t i = 1; i < argc; i++) {
        unsubscribe(c, argv[i], lens[i]);
        subscription_reply(c, "unsubscribe", argv[i], lens[i], c->channels.len);
    }
}

const command_t pubsub_commands[] = {
    {"subscribe", -2, cmd_subscribe},
    {"unsubscribe", -1, cmd_unsubscribe},
    {NULL, 0, NULL},
};
