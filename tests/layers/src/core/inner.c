#include "core/inner.h"

int layers_fixture_inner(void)
{
    return 1;
}
