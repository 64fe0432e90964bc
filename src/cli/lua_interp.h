/* lua_interp: policyd as a Lua 5.4 interpreter with policyd.core compiled
 * in (`policyd lua SCRIPT`, or the link `policyd-lua SCRIPT`).
 *
 * It exists so busted can run policy specs against the real engine:
 * `.busted` names build/policyd-lua as busted's interpreter, and Debian's
 * jemalloc (initial-exec TLS) cannot be loaded into a stock lua5.4 as a
 * shared module, so the engine comes in the interpreter itself. */
#ifndef POLICYD_CLI_LUA_INTERP_H
#define POLICYD_CLI_LUA_INTERP_H

/* Runs argv[0] with arguments argv[1..]; `self` is the program name (the
 * script's arg[-1]). Returns the exit status. */
int lua_interp_main(int argc, char **argv, const char *self);

#endif
