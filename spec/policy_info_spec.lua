-- What POLICY INFO reports, and the built-in limits of a degraded policy.
local testing = require "policyd.testing"

local policy_file = testing.policy_file

local function sha256sum(path)
  local p = assert(io.popen("sha256sum " .. path))
  local out = p:read("a")
  p:close()
  return out:match("^(%x+)")
end

describe("policy info", function()
  after_each(testing.remove_policy_files)

  it("names the file and its sha256 as loaded", function()
    local e = testing.engine { policy = "policies/lru.lua" }
    local info = e:policy()
    assert.equals("policies/lru.lua", info.path)
    assert.equals(sha256sum("policies/lru.lua"), info.sha256)
    assert.is_true(info.loaded_at > 0)
    assert.same({ 0, 0, "" }, { info.reloads, info.reload_failures, info.last_error })
    e:close()
  end)

  it("counts reloads and failed reloads, with the last error", function()
    local e = testing.engine { policy = "policies/lru.lua" }
    assert(e:reload("policies/lfu.lua"))
    local broken = policy_file("return { limits = { entries = 'many' } }\n")
    assert.is_nil(e:reload(broken))
    local info = e:policy()
    assert.equals(1, info.reloads)
    assert.equals(1, info.reload_failures)
    assert.equals("policies/lfu.lua", info.path)
    assert.equals(sha256sum("policies/lfu.lua"), info.sha256)
    assert.matches(broken .. ":1: limits.entries", info.last_error, 1, true)
    e:close()
  end)

  it("keeps every session's limits when it degrades", function()
    local e = testing.engine { policy = policy_file([[
return {
  limits = { bytes = "1GB", entries = 100000 },
  system = { bytes = "4GB", sessions = 1000 },
  eviction = "lfu",
  on_sample = function() error("broken") end,
}]]) }
    local s = e:session("alice")
    for i = 1, 30 do s:set("k" .. i, "v") end
    assert.equals(30, s:info().entries)
    e:advance(10)
    assert.is_true(e:policy().degraded)
    -- A typo in a hook once cut every session to the built-in 20 entries
    -- and 10 MB; the last good limits and strategy stay.
    local info = s:info()
    assert.same({ 1024 * 1024 * 1024, 100000, "lfu" },
      { info.limit_bytes, info.limit_entries, info.strategy })
    assert.equals(30, info.entries)
    assert.same({ 4 * 1024 * 1024 * 1024, 1000 }, { e:info().limit_bytes, e:info().limit_sessions })
    e:session("bob"):set("k", "v")
    assert.equals(100000, e:session("bob"):info().limit_entries)
    assert.matches("broken", e:policy().last_error)
    e:close()
  end)
end)
