/* actions: what a hook asked for, applied in order after it returned
 * (DESIGN.md §6), and kept in a log the busted harness reads. */
#include <stdlib.h>
#include <string.h>

#include "policy/runtime_internal.h"
#include "util/log.h"

/* Moves the action (and its name) into the log. */
static void log_action(runtime_t *rt, policy_action_t *a)
{
    policy_actions_t *log = &rt->log;
    if (log->len == RUNTIME_ACTION_LOG) {
        free(log->items[0].session);
        memmove(log->items, log->items + 1, (log->len - 1) * sizeof(*log->items));
        log->len--;
    }
    if (log->len == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 64;
        policy_action_t *items = realloc(log->items, cap * sizeof(*items));
        if (!items)
            return;
        log->items = items;
        log->cap = cap;
    }
    log->items[log->len++] = *a;
    a->session = NULL;
}

void runtime_defer(runtime_t *rt, policy_action_t *a)
{
    policy_actions_t *d = &rt->deferred;
    if (d->len == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        policy_action_t *items = realloc(d->items, cap * sizeof(*items));
        if (!items)
            return; /* out of memory: the action is lost, not the command */
        d->items = items;
        d->cap = cap;
    }
    d->items[d->len++] = *a;
    a->session = NULL;
}

void runtime_on_settle(void *ud, engine_t *e, bool kept)
{
    (void)e;
    runtime_t *rt = ud;
    for (size_t i = 0; kept && i < rt->deferred.len; i++)
        runtime_apply(rt, &rt->deferred.items[i]);
    policy_actions_free(&rt->deferred);
}

void runtime_apply(runtime_t *rt, policy_action_t *a)
{
    session_t *s = a->has_session ? engine_find(rt->engine, a->session, a->session_len) : NULL;
    switch (a->op) {
    case POLICY_ALERT:
        a->alert.time_ms = engine_now(rt->engine);
        alerts_raise(rt->alerts, &a->alert);
        break;
    case POLICY_EVICT:
        if (s) {
            uint64_t target = a->use_to
                ? (uint64_t)(a->to * (double)(s->limits.bytes ? s->limits.bytes : session_bytes(s)))
                : (session_bytes(s) > a->bytes ? session_bytes(s) - a->bytes : 0);
            session_evict_to(s, target);
        }
        break;
    case POLICY_PURGE:
        if (s)
            arena_purge(&s->store.arena);
        else if (!a->has_session)
            for (session_t *x = engine_next(rt->engine, NULL); x; x = engine_next(rt->engine, x))
                arena_purge(&x->store.arena);
        break;
    case POLICY_CLEAR:
        if (s)
            session_clear(s);
        break;
    case POLICY_DROP:
        /* From on_session_open: only once the write that opens the session
         * stores something, and never a session the same command writes. */
        if (s && s != rt->opening && rt->admitting) {
            if (!engine_doom(rt->engine, s))
                log_event(LOG_WARN, "policy drop ignored: the session is written by the "
                          "command being admitted", "session", a->session, NULL);
        } else if (s && s != rt->opening) {
            engine_drop(rt->engine, s);
        }
        break;
    case POLICY_DENY_WRITES:
        if (s)
            s->writes_denied = a->deny;
        break;
    case POLICY_SET_LIMITS:
        if (s) {
            /* A field the policy left out keeps its value (0 is never valid). */
            session_limits_t lim = s->limits;
            if (a->limits.bytes)
                lim.bytes = a->limits.bytes;
            if (a->limits.entries)
                lim.entries = a->limits.entries;
            if (a->strategy >= 0)
                session_set_strategy(s, (evict_kind)a->strategy);
            session_set_limits(s, lim);
        }
        break;
    case POLICY_LOG:
        log_event(log_level_parse(a->level) < 0 ? LOG_INFO : (log_level)log_level_parse(a->level),
                  "policy", "message", a->alert.message, NULL);
        break;
    }
    log_action(rt, a);
}
