-- policies/default.lua: the reference budget, rule by rule.
local testing = require "policyd.testing"

local MB = 1024 * 1024

-- default.lua with another system budget, for the rules that need the
-- system near or over it without 150 MB of data.
local function default_with_system(bytes)
  local f = assert(io.open("policies/default.lua"))
  local text = f:read("a")
  f:close()
  local patched, n = text:gsub("local SYSTEM_BYTES = 150 %* MB", "local SYSTEM_BYTES = " .. bytes)
  assert(n == 1, "default.lua no longer defines SYSTEM_BYTES")
  return testing.policy_file(patched)
end

local function alerts_of(e, kind)
  local found = {}
  for _, a in ipairs(e:alerts()) do
    if a.kind == kind then found[#found + 1] = a end
  end
  return found
end

describe("policies/default.lua", function()
  local e
  before_each(function() e = testing.engine { policy = "policies/default.lua" } end)
  after_each(function() e:close() end)

  it("keeps a session to 20 entries, oldest out", function()
    local s = e:session("alice")
    for i = 1, 21 do s:set("k" .. i, ("x"):rep(100)); e:advance(1) end
    assert.is_nil(s:get("k1"))
    assert.equals(20, s:info().entries)
    assert.equals(10 * MB, s:info().limit_bytes)
  end)

  it("warns once while a session is at 80% of its budget", function()
    local s = e:session("alice")
    for i = 1, 16 do s:set("k" .. i, "v") end
    e:advance(3)
    local warnings = alerts_of(e, "session_near_budget")
    assert.equals(1, #warnings)
    assert.equals("warning", warnings[1].severity)
    assert.equals("alice", warnings[1].session)
    assert.equals(0.8, warnings[1].threshold)
    for i = 1, 10 do s:del("k" .. i) end
    e:advance(1)
    for i = 1, 10 do s:set("k" .. i, "v") end
    e:advance(1)
    assert.equals(2, #alerts_of(e, "session_near_budget"))
  end)

  it("raises an error while a session is at its budget and evicting", function()
    local s = e:session("alice")
    for i = 1, 20 do s:set("k" .. i, "v") end
    e:advance(1)
    assert.equals(0, #alerts_of(e, "session_evicting"))
    for i = 21, 25 do s:set("k" .. i, "v") end
    e:advance(1)
    local errors = alerts_of(e, "session_evicting")
    assert.equals(1, #errors)
    assert.equals("error", errors[1].severity)
    assert.matches("5 evictions", errors[1].message)
  end)

  it("admits a 16th session by dropping the least recently active one", function()
    for i = 1, 15 do
      e:session("s" .. i):set("k", "v")
      e:advance(1)
    end
    e:session("s1"):get("k") -- s1 is busy again: s2 is now the idlest
    e:advance(1)
    assert(e:session("s16"):set("k", "v"))
    assert.equals(15, #e:sessions())
    assert.is_nil(e:session("s2"):info())
    assert.equals("v", e:session("s1"):get("k"))
    local dropped = alerts_of(e, "session_dropped")
    assert.equals(1, #dropped)
    assert.equals("s2", dropped[1].session)
    assert.matches("to admit s16", dropped[1].message)
  end)
end)

describe("policies/default.lua, system rules", function()
  after_each(testing.remove_policy_files)

  it("warns when the sessions hold over 90% of the system budget", function()
    local e = testing.engine { policy = "policies/default.lua" }
    local value = ("x"):rep(512 * 1024)
    local function fill(from, to)
      for n = from, to do
        for i = 1, 19 do e:session("s" .. n):set("k" .. i, value) end
      end
    end
    fill(1, 12) -- about 12 x 9.5 MB: under 80% of 150 MB
    e:advance(1)
    assert.equals(0, #alerts_of(e, "system_near_budget"))
    fill(13, 15) -- about 143 MB: over 90%
    e:advance(1)
    local near = alerts_of(e, "system_near_budget")
    assert.equals(1, #near)
    assert.is_true(near[1].value > 0.9)
    assert.is_true(e:info().bytes <= 150 * MB)
    e:close()
  end)

  it("over budget: a critical alert, a purge, and sessions shed to 80%", function()
    local budget = 2 * MB
    local e = testing.engine { policy = default_with_system(budget) }
    local value = ("x"):rep(100 * 1024)
    for i = 1, 19 do e:session("s" .. (i % 3)):set("k" .. i, value) end
    assert.is_true(e:info().bytes <= budget)
    e:advance(1)
    -- This process's resident memory is over 2 MB: the system is over.
    local critical = alerts_of(e, "system_over_budget")
    assert.equals(1, #critical)
    assert.equals("critical", critical[1].severity)
    local purged, evicted = false, false
    for _, a in ipairs(e:actions()) do
      purged = purged or (a.op == "purge" and a.session == nil)
      evicted = evicted or a.op == "evict"
    end
    assert.is_true(purged)
    assert.is_true(evicted)
    assert.is_true(e:info().bytes <= 0.8 * budget)
    for _, name in ipairs(e:sessions()) do
      local info = e:session(name):info()
      assert.equals(info.arena_bytes, info.bytes)
    end
    e:close()
  end)

  it("raises a leak alarm after 10 minutes of growth outside sessions", function()
    local e = testing.engine { policy = "policies/default.lua" }
    -- Another engine in this process stands for memory the daemon keeps
    -- outside its sessions: 2 MB more every minute.
    local other = testing.engine {}
    local chunk = ("x"):rep(34 * 1024)
    for i = 1, 9 * 60 do
      other:session("leak"):set("k" .. i, chunk)
      e:advance(1)
    end
    assert.equals(0, #alerts_of(e, "leak"))
    for i = 9 * 60 + 1, 12 * 60 do
      other:session("leak"):set("k" .. i, chunk)
      e:advance(1)
    end
    local leaks = alerts_of(e, "leak")
    assert.equals(1, #leaks)
    assert.equals("critical", leaks[1].severity)
    assert.is_true(leaks[1].value > MB)
    other:close()
    e:close()
  end)
end)
