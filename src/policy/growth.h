/* growth: a rate of growth in bytes per minute, the least-squares slope of
 * the last GROWTH_WINDOW (time, bytes) samples: a session's, for
 * growth_bytes_per_min, and the process's outside sessions. */
#ifndef POLICYD_POLICY_GROWTH_H
#define POLICYD_POLICY_GROWTH_H

#define GROWTH_WINDOW 10

typedef struct growth {
    double t[GROWTH_WINDOW], b[GROWTH_WINDOW]; /* seconds, bytes */
    int n, head;
} growth_t;

/* Adds a sample, forgetting the oldest past GROWTH_WINDOW. */
void growth_add(growth_t *g, double t, double bytes);

/* Bytes per minute; 0 with fewer than two samples or none (g NULL). */
double growth_slope(const growth_t *g);

#endif
