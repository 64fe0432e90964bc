/* The core floor knows no Lua: this include must be rejected. */
#include <lua.h>
