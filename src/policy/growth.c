/* growth: see growth.h. */
#include "policy/growth.h"

void growth_add(growth_t *g, double t, double bytes)
{
    g->t[g->head] = t;
    g->b[g->head] = bytes;
    g->head = (g->head + 1) % GROWTH_WINDOW;
    if (g->n < GROWTH_WINDOW)
        g->n++;
}

double growth_slope(const growth_t *g)
{
    if (!g || g->n < 2)
        return 0;
    /* Centered on the mean time and bytes: raw sums of t and t^2 lose every
     * digit to cancellation once the clock reads months. */
    double mt = 0, mb = 0;
    for (int i = 0; i < g->n; i++) {
        mt += g->t[i];
        mb += g->b[i];
    }
    mt /= g->n;
    mb /= g->n;
    double stt = 0, stb = 0;
    for (int i = 0; i < g->n; i++) {
        stt += (g->t[i] - mt) * (g->t[i] - mt);
        stb += (g->t[i] - mt) * (g->b[i] - mb);
    }
    return stt > 0 ? stb / stt * 60.0 : 0;
}
