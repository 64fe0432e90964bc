/* json: JSON string escaping, the one escaper of the alert messages
 * (policy/alerts.c) and JSON log lines (log.c). */
#ifndef POLICYD_UTIL_JSON_H
#define POLICYD_UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>

/* Appends s as a JSON string, quotes included, to out at *len (out holds
 * cap bytes), escaping quotes, backslashes and control bytes; other bytes
 * pass as they are. Stops before an escape or byte that would not fit, so
 * the output is always whole escapes; returns false if s was cut short. */
bool json_string(char *out, size_t cap, size_t *len, const char *s);

#endif
