#include "check.h"
#include "engine.h"

int main(void)
{
    engine_config_t cfg = {.seed = 1};
    engine_t *e = engine_create(&cfg);
    CHECK(e != NULL);
    session_t *s;
    CHECK(engine_open(e, "a", 1, &s) == PD_OK);
    CHECK(session_set(s, "k", 1, "v", 1, 0, 0, NULL, NULL) == PD_OK);
    const unsigned char *v; size_t n;
    CHECK(session_get(s, "k", 1, &v, &n) == PD_OK && n == 1 && v[0] == 'v');
    engine_destroy(e);
    return check_done();
}
