/* policy_internal: a loaded policy as load.c, marshal.c and state_copy.c
 * share it. Internal to the policy floor; the outside uses policy.h. */
#ifndef POLICYD_POLICY_POLICY_INTERNAL_H
#define POLICYD_POLICY_POLICY_INTERNAL_H

#include <limits.h>
#include <stdbool.h>

#include <lua.h>
#include <sha2.h>

#include "policy/policy.h"
#include "policy/sandbox.h"

/* Loading a policy (its chunk, validation) and its on_reload run on the
 * loop too: a second, whatever they do. */
#define POLICY_LOAD_DEADLINE_NS 1000000000u

struct policy {
    sandbox_t sb;           /* first: the state points at it */
    char path[PATH_MAX];
    int ref;                /* registry ref of the normalized policy table */
    int state_ref;          /* registry ref of act.state */
    int act_new_ref;        /* policyd.act's new, taken at load */
    int validate_limits_ref; /* policyd.validate's limits, taken at load */
    policy_info_t info;
    char name[128];
    char sha256[SHA256_DIGEST_STRING_LENGTH];
    char last_error[512];
};

/* load.c: reads {bytes=, entries=, eviction=} at the top of the stack; the
 * strategy is left alone when the table names none. */
void policy_read_limits(lua_State *L, session_limits_t *out, int *strategy);

/* marshal.c: pushes the hook `name` of the policy table, or returns false
 * (nothing pushed) when the policy has none. */
bool policy_push_hook(policy_t *p, const char *name);

#endif
