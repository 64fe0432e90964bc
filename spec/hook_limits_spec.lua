-- A hook that misbehaves is stopped with a clear error and counted; the
-- engine stays whole and keeps enforcing its limits.
local testing = require "policyd.testing"

local function engine_with(source)
  return testing.engine { policy = testing.policy_file(source) }
end

describe("a misbehaving hook", function()
  after_each(testing.remove_policy_files)

  it("building a 1 GB table of strings gets a Lua memory error, counted", function()
    local e = engine_with([[
return {
  limits = { entries = 3 },
  on_sample = function(snap, act)
    act.alert("info", "before", nil, "recorded, never applied")
    local t, piece = {}, ("x"):rep(1024 * 1024)
    for i = 1, 1024 do t[i] = piece .. i end
    act.alert("info", "after", nil, #t)
  end,
}]])
    local s = e:session("alice")
    e:advance(1)
    local info = e:policy()
    assert.equals(1, info.hook_errors)
    assert.matches("not enough memory", info.last_error)
    assert.same({}, e:alerts())
    for i = 1, 5 do s:set("k" .. i, "v") end
    assert.equals(3, s:info().entries)
    assert.equals(s:info().arena_bytes, s:info().bytes)
    e:close()
  end)

  it("a chooser that returns garbage falls back to LRU, counted", function()
    for _, garbage in ipairs { "42", "{}", "'no-such-key'", "nil" } do
      local e = engine_with(([[
return {
  limits = { entries = 2 },
  eviction = function(candidates) return %s end,
}]]):format(garbage))
      local s = e:session("alice")
      s:set("a", "1"); s:set("b", "2"); s:set("c", "3")
      assert.is_false(s:exists("a"))
      assert.is_true(s:exists("b") and s:exists("c"))
      assert.equals(1, s:info().chooser_errors)
      assert.equals(1, e:policy().hook_errors)
      assert.matches("not one of the candidates", e:policy().last_error)
      e:close()
    end
  end)

  it("a chooser that loops forever is stopped by the instruction budget", function()
    local e = engine_with([[
return {
  limits = { entries = 2 },
  eviction = function(c) while true do pcall(function() while true do end end) end end,
}]])
    local s = e:session("alice")
    s:set("a", "1"); s:set("b", "2"); s:set("c", "3")
    assert.is_false(s:exists("a"))
    assert.equals(2, s:info().entries)
    assert.matches("instruction budget exceeded", e:policy().last_error)
    e:close()
  end)

  describe("a chooser that keeps failing", function()
    local FAILING = [[
return {
  limits = { entries = 2 },
  eviction = function(candidates) error("no choice") end,
}]]

    local function kinds(e, kind)
      local out = {}
      for _, a in ipairs(e:alerts()) do
        if a.kind == kind then out[#out + 1] = a end
      end
      return out
    end

    it("is set aside after 3 failures in a row: the session evicts by lru, with an alert",
      function()
        local e = engine_with(FAILING)
        local s = e:session("alice")
        for i = 1, 5 do s:set("k" .. i, "v") end -- 3 evictions, each a failure
        assert.equals(3, e:policy().hook_errors)
        local aside = kinds(e, "chooser_set_aside")
        assert.equals(1, #aside)
        assert.equals("alice", aside[1].session)
        assert.equals("warning", aside[1].severity)
        assert.matches("no choice", aside[1].message, 1, true)
        for i = 6, 20 do s:set("k" .. i, "v") end -- by lru, the chooser not called
        assert.equals(3, e:policy().hook_errors)
        assert.equals(3, s:info().chooser_errors)
        assert.is_true(s:exists("k19") and s:exists("k20"))
        assert.is_false(s:exists("k18"))
        e:close()
      end)

    it("is called again after 60 s of engine time", function()
      local e = engine_with(FAILING)
      local s = e:session("alice")
      for i = 1, 5 do s:set("k" .. i, "v") end
      e:advance(59)
      s:set("k6", "v")
      assert.equals(3, e:policy().hook_errors)
      e:advance(1)
      s:set("k7", "v")
      assert.equals(4, e:policy().hook_errors)
      e:close()
    end)

    it("is set aside for that session only", function()
      local e = engine_with([[
return {
  limits = { entries = 1 },
  eviction = function(candidates)
    if candidates[1].key:sub(1, 1) == "b" then error("not for bob") end
    return candidates[1]
  end,
}]])
      local alice, bob = e:session("alice"), e:session("bob")
      for i = 1, 4 do bob:set("b" .. i, "v") end
      assert.equals(1, #kinds(e, "chooser_set_aside"))
      local before = e:policy().hook_errors
      for i = 1, 4 do alice:set("a" .. i, "v") end
      assert.equals(before, e:policy().hook_errors) -- alice's chooser calls succeed
      assert.equals(0, alice:info().chooser_errors)
      e:close()
    end)

    it("never degrades the policy, however often it fails", function()
      local e = engine_with(FAILING)
      local s = e:session("alice")
      for round = 1, 5 do
        for i = 1, 3 do s:set(("r%dk%d"):format(round, i), "v") end
        e:advance(60)
      end
      assert.is_true(e:policy().hook_errors >= 12)
      assert.is_false(e:policy().degraded)
      assert.same({}, kinds(e, "policy_degraded"))
      e:close()
    end)
  end)
end)
