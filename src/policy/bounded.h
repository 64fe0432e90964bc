/* bounded: the library functions a policy may call whose work is not one
 * instruction, replaced by ones that charge that work to the running
 * call's budget before doing it (sandbox_charge): string.rep by the bytes
 * it makes, table.move, concat, unpack, insert and remove by the elements
 * they touch, table.sort by n log n comparisons; the pattern functions
 * count their own steps (pattern.h). A charge past what is left raises at
 * once, so `table.move({}, 1, 1 << 40, 2)` costs nothing but an error.
 *
 * The lengths they charge for are read once (a stateful __len cannot make
 * the work differ from the charge): insert and remove are reimplemented,
 * concat and unpack get their bounds passed explicitly, and sort refuses a
 * table whose metatable has __len. */
#ifndef POLICYD_POLICY_BOUNDED_H
#define POLICYD_POLICY_BOUNDED_H

#include <lua.h>

/* Replaces the functions in the global string and table libraries (and
 * installs pattern.h's), before they are frozen. */
void bounded_install(lua_State *L);

#endif
