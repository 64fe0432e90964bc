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
end)
