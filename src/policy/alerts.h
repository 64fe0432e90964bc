/* alerts: what policies raise, de-duplicated and kept.
 *
 * Alerts are level-triggered per (kind, session): raised at every sample
 * while a condition holds, delivered once, and again only after a sample in
 * which it was not raised. Delivered alerts go to a subscriber callback and
 * into a ring of the most recent ones. */
#ifndef POLICYD_POLICY_ALERTS_H
#define POLICYD_POLICY_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum alert_severity {
    ALERT_INFO,
    ALERT_WARNING,
    ALERT_ERROR,
    ALERT_CRITICAL,
    ALERT_SEVERITY_COUNT
} alert_severity;

#define ALERT_KIND_MAX 64
#define ALERT_SESSION_MAX 256
#define ALERT_MESSAGE_MAX 512

typedef struct alert {
    int64_t time_ms;
    alert_severity severity;
    char kind[ALERT_KIND_MAX];
    char session[ALERT_SESSION_MAX]; /* "" for the system */
    char message[ALERT_MESSAGE_MAX];
    bool has_value, has_threshold;
    double value, threshold;
} alert_t;

typedef void (*alert_fn)(void *ud, const alert_t *a);
typedef struct alerts alerts_t;

/* Keeps the `ring` most recent alerts. NULL if out of memory. */
alerts_t *alerts_create(size_t ring);
void alerts_destroy(alerts_t *al);

void alerts_subscribe(alerts_t *al, alert_fn fn, void *ud);

const char *alert_severity_name(alert_severity s);
/* The severity named `name`, or -1. */
int alert_severity_parse(const char *name);

/* A sample's alerts go between begin and end: each is delivered unless the
 * same (kind, session) was raised in the previous sample. Returns true if
 * delivered. Alerts raised outside a sample are always delivered. */
void alerts_begin_sample(alerts_t *al);
bool alerts_raise(alerts_t *al, const alert_t *a);
void alerts_end_sample(alerts_t *al);

/* Delivered alerts so far, and per severity. */
uint64_t alerts_count(const alerts_t *al, alert_severity s);

/* Copies up to n of the most recent alerts, newest first; returns how many. */
size_t alerts_recent(const alerts_t *al, alert_t *out, size_t n);

/* The alert as one JSON object (DESIGN.md §5): time (seconds), severity,
 * kind, session (null for the system), message, and value and threshold
 * when set. ALERT_JSON_MAX holds any alert. Returns its length. */
#define ALERT_JSON_MAX 8192
size_t alert_json(const alert_t *a, char out[ALERT_JSON_MAX]);

#endif
