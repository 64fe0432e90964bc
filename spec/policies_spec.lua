-- The shipped example policies (policies/*.lua), on the real engine.
local testing = require "policyd.testing"

local function fill(s, n, prefix, size)
  for i = 1, n do assert(s:set((prefix or "k") .. i, ("x"):rep(size or 10))) end
end

describe("policies/lru.lua", function()
  local e
  before_each(function() e = testing.engine { policy = "policies/lru.lua" } end)
  after_each(function() e:close() end)

  it("keeps a session to 1,000 keys, least recently used out", function()
    local s = e:session("alice")
    fill(s, 1000)
    assert.equals("xxxxxxxxxx", s:get("k1")) -- k1 is now the most recent
    assert(s:set("new", "v"))
    assert.is_true(s:exists("k1"))
    assert.is_false(s:exists("k2"))
    local info = s:info()
    assert.equals(1000, info.entries)
    assert.equals(1, info.evictions)
    assert.equals("lru", info.strategy)
    assert.equals(64 * 1024 * 1024, info.limit_bytes)
    assert.equals(info.arena_bytes, info.bytes)
  end)
end)

describe("policies/lfu.lua", function()
  it("keeps the keys used most often", function()
    local e = testing.engine { policy = "policies/lfu.lua" }
    local s = e:session("alice")
    fill(s, 1000)
    for i = 2, 1000 do s:get("k" .. i) end -- every key but k1 used twice
    e:advance(1)
    assert(s:set("new", "v"))
    assert.is_false(s:exists("k1"))
    assert.is_true(s:exists("k2"))
    assert.equals("lfu", s:info().strategy)
    e:close()
  end)
end)

describe("policies/ttl.lua", function()
  it("evicts the key closest to expiry, keys without a TTL last", function()
    local e = testing.engine { policy = "policies/ttl.lua" }
    local s = e:session("alice")
    for i = 1, 998 do assert(s:set("plain" .. i, "v")) end
    assert(s:set("later", "v", { ttl = "10m" }))
    assert(s:set("soon", "v", { ttl = 30 }))
    assert(s:set("new", "v"))
    assert.is_false(s:exists("soon"))
    assert.is_true(s:exists("later"))
    assert(s:set("newer", "v"))
    assert.is_false(s:exists("later"))
    assert.is_true(s:exists("plain1"))
    e:close()
  end)
end)

describe("policies/tiers.lua", function()
  local e
  before_each(function() e = testing.engine { policy = "policies/tiers.lua" } end)
  after_each(function() e:close() end)

  it("gives each tier its limits by session-name prefix", function()
    e:session("pro-acme"):set("k", "v")
    e:session("free-bob"):set("k", "v")
    e:session("carol"):set("k", "v")
    local pro, free, other = e:session("pro-acme"):info(), e:session("free-bob"):info(),
      e:session("carol"):info()
    assert.same({ 100 * 1024 * 1024, 100000, "lfu" },
      { pro.limit_bytes, pro.limit_entries, pro.strategy })
    assert.same({ 1024 * 1024, 100, "lru" }, { free.limit_bytes, free.limit_entries, free.strategy })
    assert.same({ 10 * 1024 * 1024, 1000 }, { other.limit_bytes, other.limit_entries })
  end)

  it("holds a free session to 100 keys", function()
    local s = e:session("free-bob")
    fill(s, 150)
    assert.equals(100, s:info().entries)
    assert.equals(50, s:info().evictions)
  end)

  it("sets the system budget", function()
    local info = e:info()
    assert.equals(1024 * 1024 * 1024, info.limit_bytes)
    assert.equals(1000, info.limit_sessions)
  end)
end)

describe("policies/chooser.lua", function()
  it("evicts the candidate with the fewest hits per byte", function()
    local e = testing.engine { policy = "policies/chooser.lua" }
    local s = e:session("alice")
    -- Fewer entries than the sample size: every entry is a candidate.
    e:session("alice"):set("seed", "v")
    s:set("big", ("x"):rep(1000))
    s:set("small", "y")
    for _ = 1, 5 do s:get("small"); s:get("seed") end
    assert(e.core:set_limits("alice", { entries = 3 }))
    assert(s:set("new", "z"))
    assert.is_false(s:exists("big"))
    assert.is_true(s:exists("small"))
    assert.equals(0, s:info().chooser_errors)
    assert.equals(0, e:policy().hook_errors)
    e:close()
  end)

  it("falls back to LRU when the chooser fails, and counts it", function()
    local e = testing.engine { policy = testing.policy_file(
      'return { limits = { entries = 2 }, eviction = function(c) error("boom") end }\n') }
    testing.remove_policy_files()
    local s = e:session("alice")
    s:set("a", "1"); s:set("b", "2"); s:set("c", "3")
    assert.is_false(s:exists("a"))
    assert.equals(1, s:info().chooser_errors)
    assert.equals(1, e:policy().hook_errors)
    assert.matches("boom", e:policy().last_error)
    e:close()
  end)
end)

describe("policyd.testing", function()
  it("raises the policy's error when it does not load", function()
    assert.has_error(function() testing.engine { policy = "policies/missing.lua" } end,
      "policies/missing.lua:1: cannot open policies/missing.lua: No such file or directory")
  end)

  it("expires keys on the fake clock", function()
    local e = testing.engine {}
    local s = e:session("alice")
    s:set("k", "v", { ttl = "1500ms" })
    assert.equals(1.5, s:ttl("k"))
    e:advance(1)
    assert.equals("v", s:get("k"))
    e:advance(0.501)
    assert.is_nil(s:get("k"))
    assert.equals(-2, s:ttl("k"))
    e:close()
  end)
end)
