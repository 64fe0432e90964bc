/* log: one line per event on stderr, logfmt (default) or JSON.
 *
 *   log_event(LOG_INFO, "listening", "addr", "127.0.0.1:7379", NULL);
 *   -> time=2026-11-27T16:24:29.123Z level=info msg=listening addr=127.0.0.1:7379 */
#ifndef POLICYD_UTIL_LOG_H
#define POLICYD_UTIL_LOG_H

#include <stdbool.h>

typedef enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

/* The format and the least level written. */
void log_configure(bool json, log_level min);

/* The level named `name` (debug, info, warn, error), or -1. */
int log_level_parse(const char *name);

/* Writes msg and the NULL-terminated key, value string pairs that follow. */
void log_event(log_level level, const char *msg, ...);

#endif
