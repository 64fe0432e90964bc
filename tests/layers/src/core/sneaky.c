/* Ways around the include check, each of which must be caught: a higher
 * floor's header in angle brackets, a path that climbs, and a library the
 * core keeps out under another directory. Never compiled. */
#include <net/server.h>
#include "core/../util/upward.h"
#include <lua5.4/lua.h>
#include <uv/unix.h>
