/* check: see check.h. */
#include "cli/check.h"

#include <stdint.h>
#include <stdio.h>

#include "core/evict/evict.h"
#include "policy/policy.h"

static void print_size(const char *what, uint64_t v)
{
    if (v)
        printf("%s %llu bytes\n", what, (unsigned long long)v);
    else
        printf("%s unlimited\n", what);
}

int check_policy(const char *path)
{
    char err[1024];
    policy_t *p = policy_load(path, NULL, err, sizeof(err));
    if (!p) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    policy_info_t in;
    policy_get_info(p, &in);
    printf("policy %s: ok\n", in.name[0] ? in.name : path);
    if (in.limits_function) {
        printf("session limits: a function of the session name\n");
    } else {
        print_size("session bytes:", in.limits.bytes);
        printf("session entries: %llu\n", (unsigned long long)in.limits.entries);
    }
    print_size("system bytes:", in.system_bytes);
    printf("system sessions: %u\n", in.system_sessions);
    printf("eviction: %s\n", evict_kind_name(in.strategy < 0 ? EVICT_CHOOSER
                                                         : (evict_kind)in.strategy));
    printf("sample interval: %g s\n", in.sample_interval);
    policy_free(p);
    return 0;
}
