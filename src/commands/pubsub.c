/* pubsub: see pubsub.h. */
#include "commands/pubsub.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "commands/command.h"

static ssize_t channel_index(const conn_t *c, const char *channel, size_t len)
{
    for (size_t i = 0; i < c->nchannels; i++)
        if (c->channels[i].len == len && memcmp(c->channels[i].name, channel, len) == 0)
            return (ssize_t)i;
    return -1;
}

/* Subscribes c: 1, 0 if it already was, -1 when out of memory. */
static int subscribe(conn_t *c, const char *channel, size_t len)
{
    if (channel_index(c, channel, len) >= 0)
        return 0;
    struct conn_channel *channels = realloc(c->channels, (c->nchannels + 1) * sizeof(*channels));
    if (!channels)
        return -1;
    c->channels = channels;
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, channel, len);
    copy[len] = '\0';
    c->channels[c->nchannels++] = (struct conn_channel){copy, len};
    if (c->nchannels == 1) { /* joins the service's subscribers */
        service_t *svc = c->svc;
        c->sub_prev = NULL;
        c->sub_next = svc->subscribers;
        if (svc->subscribers)
            svc->subscribers->sub_prev = c;
        svc->subscribers = c;
    }
    return 1;
}

/* Removes subscription i (the last one takes its place). */
static void drop_channel(conn_t *c, size_t i)
{
    free(c->channels[i].name);
    c->channels[i] = c->channels[--c->nchannels];
    if (c->nchannels > 0)
        return;
    /* leaves the service's subscribers */
    if (c->sub_prev)
        c->sub_prev->sub_next = c->sub_next;
    else
        c->svc->subscribers = c->sub_next;
    if (c->sub_next)
        c->sub_next->sub_prev = c->sub_prev;
    c->sub_prev = c->sub_next = NULL;
    free(c->channels);
    c->channels = NULL;
}

/* Unsubscribes c: 1, or 0 if it was not subscribed. */
static int unsubscribe(conn_t *c, const char *channel, size_t len)
{
    ssize_t i = channel_index(c, channel, len);
    if (i < 0)
        return 0;
    drop_channel(c, (size_t)i);
    return 1;
}

void pubsub_unsubscribe_all(conn_t *c)
{
    while (c->nchannels > 0)
        drop_channel(c, 0);
    free(c->channels); /* grown for a subscription that then ran out of memory */
    c->channels = NULL;
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
    for (conn_t *c = svc->subscribers; c; c = c->sub_next) {
        if (channel_index(c, channel, len) < 0)
            continue;
        push_header(c);
        resp_bulk(&c->out, "message", 7);
        resp_bulk(&c->out, channel, len);
        resp_bulk(&c->out, message, mlen);
        c->ops->flush(c);
        n++;
    }
    return n;
}

/* The reply to (UN)SUBSCRIBE for one channel (NULL: none). */
static void subscription_reply(conn_t *c, const char *kind, const char *ch, size_t len)
{
    push_header(c);
    resp_bulk(&c->out, kind, strlen(kind));
    if (ch)
        resp_bulk(&c->out, ch, len);
    else
        resp_null(&c->out, c->proto);
    resp_integer(&c->out, (long long)c->nchannels);
}

/* SUBSCRIBE channel... */
static void cmd_subscribe(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    for (size_t i = 1; i < argc; i++) {
        if (subscribe(c, argv[i], lens[i]) < 0) {
            resp_error(&c->out, "ERR out of memory");
            return;
        }
        subscription_reply(c, "subscribe", argv[i], lens[i]);
    }
}

/* UNSUBSCRIBE [channel...]: without one, every subscription. */
static void cmd_unsubscribe(conn_t *c, size_t argc, char **argv, const size_t *lens)
{
    if (argc == 1) {
        if (c->nchannels == 0)
            subscription_reply(c, "unsubscribe", NULL, 0);
        while (c->nchannels > 0) {
            struct conn_channel ch = c->channels[0];
            c->channels[0].name = NULL; /* kept for the reply */
            drop_channel(c, 0);
            subscription_reply(c, "unsubscribe", ch.name, ch.len);
            free(ch.name);
        }
        return;
    }
    for (size_t i = 1; i < argc; i++) {
        unsubscribe(c, argv[i], lens[i]);
        subscription_reply(c, "unsubscribe", argv[i], lens[i]);
    }
}

const command_t pubsub_commands[] = {
    {"subscribe", -2, cmd_subscribe},
    {"unsubscribe", -1, cmd_unsubscribe},
    {NULL, 0, NULL},
};
