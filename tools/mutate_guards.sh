#!/bin/sh
# The mutation check of issue 10: removes each guard it added, once, and
# runs the tests that should then fail. Prints one line per guard: the
# tests run and whether they failed (they must). Restores every file.
# Needs a configured sanitizer build (make test); takes a few minutes.
# Usage: tools/mutate_guards.sh [BUILD_DIR]
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-test}
cd "$root"
status=0

# The original back, newer than the mutant's objects so the build sees it.
restore() { mv "$1.orig" "$1" && touch "$1"; }
# Interrupted, the mutant in hand goes back too.
trap 'for f in $(find src -name "*.orig"); do restore "${f%.orig}"; done; exit 130' INT TERM

# guard FILE PERL-SUBSTITUTION DESCRIPTION TEST...
guard() {
    file=$1 subst=$2 what=$3
    shift 3
    cp "$file" "$file.orig"
    perl -0pi -e "$subst" "$file"
    if cmp -s "$file" "$file.orig"; then
        echo "MUTATION DID NOT APPLY: $what"; restore "$file"; status=1; return
    fi
    cmake --build "$build" -j2 >/dev/null 2>&1 || { echo "build failed: $what"; status=1; }
    caught=""
    for t in "$@"; do
        if ! (eval "$t") >/dev/null 2>&1; then caught="$caught [$t]"; fi
    done
    restore "$file"
    if [ -n "$caught" ]; then
        echo "guard removed: $what -> failing:$caught"
    else
        echo "guard removed: $what -> NOTHING FAILED"; status=1
    fi
}

pytest() { POLICYD_BUILD="$build" /usr/bin/python3 -m pytest -q -p no:cacheprovider -x "$@"; }
ctest_one() { (cd "$build" && ctest -R "^$1\$" --timeout 120); }  # a hang fails too

guard src/commands/dispatch.c 's/if \(c->out\.over\) \{/if (0 \&\& c->out.over) {/' \
    "the output limit (a reply past it cuts the client)" \
    "ctest_one test_commands" "pytest tests/integration/test_hostile_clients.py -k \"never_read or reading_client\""
guard src/commands/conn.c 's/while \(svc->clients_limit && svc->clients_bytes > svc->clients_limit\)/while (0)/' \
    "the total of all clients' buffers (--maxmemory-clients)" \
    "ctest_one test_commands" "pytest tests/integration/test_hostile_clients.py -k capped"
guard src/commands/conn.c 's/if \(c->authed\)\n        return/if (1)\n        return/' \
    "the limits before AUTH" \
    "pytest tests/integration/test_hostile_clients.py -k before_auth"
guard src/policy/sandbox.c 's/static bool past_deadline\(sandbox_t \*p\)\n\{\n    return/static bool past_deadline(sandbox_t *p)\n{\n    return 0 \&\&/' \
    "the hook deadline" \
    "ctest_one busted_bounds_spec"
guard src/core/write.c 's/    rc = check_room\(ops, n\);/    rc = check_room(ops, 0);/' \
    "plan-first (a write eviction could not make room for is refused before evicting)" \
    "ctest_one test_faults" "ctest_one test_isolation" "pytest tests/integration/test_data_contracts.py"
guard src/core/write.c 's/    if \(rc == PD_OK\)\n        rc = take_allocations\(ops, n\);\n    if \(rc == PD_OK\)\n        rc = make_room\(ops, n, &held\);/    if (rc == PD_OK)\n        rc = make_room(ops, n, \&held);\n    if (rc == PD_OK)\n        rc = take_allocations(ops, n);/' \
    "allocations taken before evicting (the old value survives jemalloc refusing)" \
    "ctest_one test_faults"
cmake --build "$build" -j2 >/dev/null 2>&1
exit $status
