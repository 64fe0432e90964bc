/* pattern: Lua 5.4's string patterns for policies — string.find, match,
 * gmatch and gsub with the semantics and messages of Lua's own, and every
 * step of the matcher charged to the sandbox's budget.
 *
 * Lua's matcher backtracks: `("a"):rep(1e5):find(".-.-.-b")` is one
 * instruction to the count hook and hours of work. Here the work is
 * counted as it is done, so a pattern stops with a budget (or deadline)
 * error once it has used what its call has left, whatever the subject. */
#ifndef POLICYD_POLICY_PATTERN_H
#define POLICYD_POLICY_PATTERN_H

#include <lua.h>

/* Replaces find, match, gmatch and gsub in the string table at the top of
 * the stack (before it is frozen). */
void pattern_install(lua_State *L);

#endif
