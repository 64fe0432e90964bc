-- Edges of the policy host found in review, kept fixed.
local testing = require "policyd.testing"

local policy = testing.policy_file

local function kinds(e)
  local list = {}
  for _, a in ipairs(e:alerts()) do list[#list + 1] = a.kind end
  return list
end

describe("the policy host", function()
  after_each(testing.remove_policy_files)

  it("keeps an act.state the hook replaced", function()
    local e = testing.engine { policy = policy([[
return {
  limits = { entries = 10 },
  on_sample = function(snap, act)
    act.state = { n = (act.state.n or 0) + 1 }
    act.alert("info", "n" .. act.state.n, nil, "")
  end,
}]]) }
    e:advance(3)
    assert.same({ "n1", "n2", "n3" }, kinds(e))
    e:close()
  end)

  it("carries a state with cycles and shared tables over a reload", function()
    local path = policy([[
return {
  limits = { entries = 10 },
  on_sample = function(snap, act)
    local shared = { 1, 2, 3 }
    act.state.a, act.state.b, act.state.self = shared, shared, act.state
  end,
  on_reload = function(old)
    assert(old.a == old.b and old.self == old, "sharing kept")
    return old
  end,
}]])
    local e = testing.engine { policy = path }
    e:advance(1)
    assert.is_true(e:reload(path))
    e:close()
  end)

  it("acts on the session named exactly, NUL bytes and all", function()
    local e = testing.engine { policy = policy([[
return {
  limits = { entries = 10 },
  on_sample = function(snap, act) act.drop("a\0b"); act.clear(("x"):rep(300)) end,
}]]) }
    e:session("a"):set("k", "v")
    e:session(("x"):rep(255)):set("k", "v")
    e:advance(1)
    assert.same({ "a", ("x"):rep(255) }, e:sessions())
    e:close()
  end)

  it("delivers an alert raised twice in one sample once", function()
    local e = testing.engine { policy = policy([[
return {
  limits = { entries = 10 },
  on_sample = function(snap, act)
    act.alert("warning", "hot", "a", "one"); act.alert("warning", "hot", "a", "two")
  end,
}]]) }
    e:advance(1)
    assert.same({ "hot" }, kinds(e))
    e:close()
  end)

  it("refuses a new session's write when the limits function fails", function()
    local e = testing.engine { policy = policy([[
return {
  limits = function(name)
    if name == "evil" then error("no limits for you") end
    return { entries = 5 }
  end,
}]]) }
    assert.is_true(e:session("good"):set("k", "v"))
    local ok, err = e:session("evil"):set("k", "v")
    assert.is_nil(ok)
    assert.matches("no limits for you", err)
    assert.equals(5, e:session("good"):info().limit_entries)
    assert.is_nil(e:session("evil"):info()) -- no session came of it
    assert.matches("no limits for you", e:policy().last_error)
    assert.equals(1, e:policy().hook_errors)
    e:close()
  end)

  it("measures growth after a year of uptime", function()
    local e = testing.engine { policy = policy([[
return {
  limits = { bytes = "1GB", entries = 100000 },
  sample_interval = "100ms",
  on_sample = function(snap, act)
    for _, s in ipairs(snap.sessions) do
      if s.growth_bytes_per_min > 0 then act.alert("info", "growing", s.name, "") end
    end
  end,
}]]), now = 365 * 24 * 3600 }
    local s = e:session("a")
    for i = 1, 12 do s:set("k" .. i, ("x"):rep(1000)); e:advance(0.1) end
    assert.same({ "growing" }, kinds(e))
    e:close()
  end)
end)
