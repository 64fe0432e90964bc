/* time: the system's clocks in whole units. The engine has a clock of its
 * own (core/env.h); these are for what the outside world counts in: Unix
 * times (EXPIREAT, TIME) and, by default, the engine's monotonic one. */
#ifndef POLICYD_UTIL_TIME_H
#define POLICYD_UTIL_TIME_H

#include <stdint.h>
#include <time.h>

/* Microseconds since the Unix epoch. */
static inline int64_t time_unix_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Milliseconds since the Unix epoch. */
static inline int64_t time_unix_ms(void)
{
    return time_unix_us() / 1000;
}

/* Milliseconds on the monotonic clock. */
static inline int64_t time_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
