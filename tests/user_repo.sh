#!/bin/sh
# A policy author's repository: its own policy and spec, no .busted, and a
# plain `busted` in a stock lua5.4. policyd is installed into a scratch
# prefix (standing in for /usr/local); PATH and LUA_PATH point there only
# because that prefix is not a standard location.
set -eu
build=$1
prefix=$(mktemp -d)
repo=$(mktemp -d)
trap 'rm -rf "$prefix" "$repo"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
cat > "$repo/mine.lua" <<'LUA'
return { limits = { entries = 3 }, eviction = "lru" }
LUA
mkdir "$repo/spec"
cat > "$repo/spec/mine_spec.lua" <<'LUA'
local testing = require "policyd.testing"
describe("my policy", function()
  it("keeps three keys", function()
    local e = testing.engine { policy = "mine.lua" }
    local s = e:session("alice")
    for i = 1, 4 do s:set("k" .. i, "v") end
    assert.is_false(s:exists("k1"))
    assert.equals(3, s:info().entries)
    e:close()
  end)
end)
LUA
cd "$repo"
PATH="$prefix/bin:$PATH" LUA_PATH="$prefix/share/lua/5.4/?.lua;$prefix/share/lua/5.4/?/init.lua;;" \
    busted spec 2>&1 | tee "$repo/out.txt"
grep -q "1 success / 0 failures / 0 errors" "$repo/out.txt"
