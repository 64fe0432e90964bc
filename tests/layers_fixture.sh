#!/bin/sh
# tools/check_layers.py rejects the tree in tests/layers/, naming each
# violation: an upward include (also in angle brackets, or through ".."), an
# upward call found by nm, and an external header the floor keeps out (also
# under another directory).
# Usage: tests/layers_fixture.sh UTIL_LIBRARY CORE_LIBRARY
set -u
here=$(dirname "$0")
out=$(/usr/bin/python3 "$here/../tools/check_layers.py" "$here/layers/src" \
      --lib util="$1" --lib core="$2" 2>&1)
status=$?
echo "$out"
[ $status -eq 1 ] || { echo "layers_fixture: exit status $status, want 1" >&2; exit 1; }
for want in 'util/upward.c:4: util includes "core/inner.h" from core, a higher floor' \
            'util uses layers_fixture_inner, defined in core, a higher floor' \
            'core/lua_user.c:2: core includes <lua.h>, which it keeps out' \
            'core/sneaky.c:4: core includes "net/server.h" from net, a higher floor' \
            "core/sneaky.c:5: #include 'core/../util/upward.h' climbs the tree" \
            'core/sneaky.c:6: core includes <lua5.4/lua.h>, which it keeps out' \
            'core/sneaky.c:7: core includes <uv/unix.h>, which it keeps out'; do
    printf '%s\n' "$out" | grep -qF "$want" ||
        { echo "layers_fixture: not reported: $want" >&2; exit 1; }
done
echo "layers_fixture: every violation reported"
