/* util is the lowest floor: this include and this call must be rejected. */
#include "util/upward.h"

#include "core/inner.h"

int layers_fixture_upward(void)
{
    return layers_fixture_inner();
}
