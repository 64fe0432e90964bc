-- policyd.core: the engine as Lua sees it, on the engine's fake clock.
local core = require "policyd.core"

describe("policyd.core", function()
  local e
  before_each(function() e = core.engine { seed = 1 } end)
  after_each(function() e:close() end)

  it("creates a session on its first write, never on a read", function()
    assert.is_nil(e:get("alice", "k"))
    assert.same({}, e:sessions())
    assert.is_true(e:set("alice", "k", "v"))
    assert.equals("v", e:get("alice", "k"))
    assert.same({ "alice" }, e:sessions())
  end)

  it("keeps sessions apart", function()
    e:set("alice", "k", "a")
    e:set("bob", "k", "b")
    assert.equals("a", e:get("alice", "k"))
    assert.equals("b", e:get("bob", "k"))
    assert.is_true(e:drop("alice"))
    assert.is_nil(e:get("alice", "k"))
    assert.equals("b", e:get("bob", "k"))
  end)

  it("counts bytes exactly: inline bytes equal jemalloc's arena figure", function()
    for i = 1, 500 do e:set("s", "k" .. i, ("x"):rep(i)) end
    for i = 1, 500, 3 do e:del("s", "k" .. i) end
    local info = e:info("s")
    assert.is_true(info.bytes > 0)
    assert.equals(info.arena_bytes, info.bytes)
  end)

  it("expires keys on the engine clock", function()
    e:set("s", "k", "v", { ttl = 1500 })
    assert.equals(1500, e:pttl("s", "k"))
    e:advance(1000)
    assert.equals("v", e:get("s", "k"))
    e:advance(501)
    assert.is_false(e:exists("s", "k"))
    assert.equals(1, e:info("s").expirations)
  end)

  it("evicts the least recently used entry at the entry limit", function()
    e:set("s", "a", "1")
    e:set_limits("s", { entries = 2 })
    e:set("s", "b", "2")
    e:get("s", "a")
    e:set("s", "c", "3")
    assert.is_false(e:exists("s", "b"))
    assert.is_true(e:exists("s", "a"))
    assert.equals(1, e:info("s").evictions)
  end)

  it("refuses a value that can never fit, and changes nothing", function()
    e:set("s", "a", "small")
    e:set_limits("s", { bytes = 4096 })
    local before = e:info("s")
    local ok, err = e:set("s", "big", ("x"):rep(10000))
    assert.is_nil(ok)
    assert.matches("never fit", err)
    assert.equals("small", e:get("s", "a"))
    assert.equals(before.bytes, e:info("s").bytes)
  end)

  it("rejects unknown strategies with a clear error", function()
    assert.has_error(function() core.engine { strategy = "random" } end,
      "unknown eviction strategy 'random'")
  end)
end)
