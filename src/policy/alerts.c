/* alerts: see alerts.h. The sets of raised (kind, session) pairs are open-
 * addressing tables of 64-bit hashes: a collision would only merge two
 * alerts' de-duplication, and at 64 bits that does not happen in practice. */
#include "policy/alerts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/json.h"

typedef struct key_set {
    uint64_t *keys; /* 0 = empty */
    size_t cap, used;
} key_set_t;

struct alerts {
    alert_t *ring;
    size_t ring_cap, ring_len, ring_head; /* head: next write */
    key_set_t prev, cur;
    bool in_sample;
    uint64_t counts[ALERT_SEVERITY_COUNT];
    alert_fn fn;
    void *ud;
};

static const char *const severity_names[ALERT_SEVERITY_COUNT] = {
    "info", "warning", "error", "critical",
};

const char *alert_severity_name(alert_severity s)
{
    return (unsigned)s < ALERT_SEVERITY_COUNT ? severity_names[s] : "unknown";
}

int alert_severity_parse(const char *name)
{
    for (int s = 0; s < ALERT_SEVERITY_COUNT; s++)
        if (strcmp(name, severity_names[s]) == 0)
            return s;
    return -1;
}

static bool set_has(const key_set_t *set, uint64_t k)
{
    if (!set->cap)
        return false;
    for (size_t i = k & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
        if (set->keys[i] == k)
            return true;
        if (!set->keys[i])
            return false;
    }
}

static void set_put(key_set_t *set, uint64_t k)
{
    if ((set->used + 1) * 2 > set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 64;
        uint64_t *keys = calloc(cap, sizeof(*keys));
        if (!keys)
            return; /* de-duplication degrades to delivering again */
        for (size_t i = 0; i < set->cap; i++) {
            if (!set->keys[i])
                continue;
            size_t j = set->keys[i] & (cap - 1);
            while (keys[j])
                j = (j + 1) & (cap - 1);
            keys[j] = set->keys[i];
        }
        free(set->keys);
        set->keys = keys;
        set->cap = cap;
    }
    size_t i = k & (set->cap - 1);
    while (set->keys[i] && set->keys[i] != k)
        i = (i + 1) & (set->cap - 1);
    if (!set->keys[i]) {
        set->keys[i] = k;
        set->used++;
    }
}

static void set_clear(key_set_t *set)
{
    if (set->cap)
        memset(set->keys, 0, set->cap * sizeof(*set->keys));
    set->used = 0;
}

alerts_t *alerts_create(size_t ring)
{
    alerts_t *al = calloc(1, sizeof(*al));
    if (!al)
        return NULL;
    al->ring_cap = ring ? ring : 1;
    al->ring = calloc(al->ring_cap, sizeof(alert_t));
    if (!al->ring) {
        free(al);
        return NULL;
    }
    return al;
}

void alerts_destroy(alerts_t *al)
{
    if (!al)
        return;
    free(al->prev.keys);
    free(al->cur.keys);
    free(al->ring);
    free(al);
}

void alerts_subscribe(alerts_t *al, alert_fn fn, void *ud)
{
    al->fn = fn;
    al->ud = ud;
}

void alerts_begin_sample(alerts_t *al)
{
    set_clear(&al->cur);
    al->in_sample = true;
}

void alerts_end_sample(alerts_t *al)
{
    key_set_t t = al->prev;
    al->prev = al->cur;
    al->cur = t;
    set_clear(&al->cur);
    al->in_sample = false;
}

bool alerts_raise(alerts_t *al, const alert_t *a)
{
    if (al->in_sample) {
        /* kind and session, NUL-separated, as one key (never 0). */
        uint64_t k = hash_bytes(a->kind, strlen(a->kind) + 1, 0x41e27) ^
                     hash_bytes(a->session, strlen(a->session), 0x5e55);
        k = k ? k : 1;
        /* Once per sample, and not again while it was raised in the last. */
        bool again = set_has(&al->prev, k) || set_has(&al->cur, k);
        set_put(&al->cur, k);
        if (again)
            return false;
    }
    al->ring[al->ring_head] = *a;
    al->ring_head = (al->ring_head + 1) % al->ring_cap;
    if (al->ring_len < al->ring_cap)
        al->ring_len++;
    al->counts[a->severity]++;
    if (al->fn)
        al->fn(al->ud, a);
    return true;
}

uint64_t alerts_count(const alerts_t *al, alert_severity s)
{
    return (unsigned)s < ALERT_SEVERITY_COUNT ? al->counts[s] : 0;
}

size_t alerts_recent(const alerts_t *al, alert_t *out, size_t n)
{
    size_t got = 0;
    for (size_t i = 0; i < al->ring_len && got < n; i++)
        out[got++] = al->ring[(al->ring_head + al->ring_cap - 1 - i) % al->ring_cap];
    return got;
}

size_t alert_json(const alert_t *a, char out[ALERT_JSON_MAX])
{
    /* The fields are bounded (alerts.h), so everything fits. */
    size_t len = (size_t)snprintf(out, ALERT_JSON_MAX, "{\"time\":%.3f,\"severity\":",
                                  (double)a->time_ms / 1000.0);
    json_string(out, ALERT_JSON_MAX, &len, alert_severity_name(a->severity));
    len += (size_t)snprintf(out + len, ALERT_JSON_MAX - len, ",\"kind\":");
    json_string(out, ALERT_JSON_MAX, &len, a->kind);
    len += (size_t)snprintf(out + len, ALERT_JSON_MAX - len, ",\"session\":");
    if (a->session[0])
        json_string(out, ALERT_JSON_MAX, &len, a->session);
    else
        len += (size_t)snprintf(out + len, ALERT_JSON_MAX - len, "null");
    len += (size_t)snprintf(out + len, ALERT_JSON_MAX - len, ",\"message\":");
    json_string(out, ALERT_JSON_MAX, &len, a->message);
    if (a->has_value)
        len += (size_t)snprintf(out + len, ALERT_JSON_MAX - len, ",\"value\":%.17g", a->value);
    if (a->has_threshold)
        len += (size_t)snprintf(out + len, ALERT_JSON_MAX - len, ",\"threshold\":%.17g",
                                a->threshold);
    len += (size_t)snprintf(out + len, ALERT_JSON_MAX - len, "}");
    return len;
}
