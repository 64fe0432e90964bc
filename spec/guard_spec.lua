-- policies/guard.lua: idle sessions dropped, runaway growth cleared.
local testing = require "policyd.testing"

local function kinds(e)
  local list = {}
  for _, a in ipairs(e:alerts()) do list[#list + 1] = a.kind .. ":" .. (a.session or "") end
  return list
end

describe("policies/guard.lua", function()
  local e
  before_each(function() e = testing.engine { policy = "policies/guard.lua" } end)
  after_each(function() e:close() end)

  it("drops a session idle for 30 minutes, and only that one", function()
    e:session("idle"):set("k", "v")
    e:session("busy"):set("k", "v")
    for _ = 1, 29 do
      e:advance(60)
      e:session("busy"):get("k")
    end
    assert.same({ "busy", "idle" }, e:sessions())
    e:advance(70)
    assert.same({ "busy" }, e:sessions())
    assert.same({ "session_idle_dropped:idle" }, kinds(e))
  end)

  it("warns about a session growing over 1 MB a minute, and clears it after 5 minutes", function()
    local s = e:session("runaway")
    local chunk = ("x"):rep(256 * 1024) -- every 10 s: 1.5 MB a minute
    local i = 0
    local function grow(seconds)
      for _ = 1, seconds / 10 do
        i = i + 1
        s:set("k" .. i, chunk)
        e:advance(10)
      end
    end
    grow(120)
    assert.same({ "session_growing:runaway" }, kinds(e))
    -- First seen growing at t = 20 s (a rate needs two samples).
    grow(190)
    assert.same({ "session_growing:runaway" }, kinds(e))
    assert.equals(31, s:info().entries)
    grow(10) -- t = 320 s: 300 s after it was first seen
    assert.same({ "session_growing:runaway", "session_cleared:runaway" }, kinds(e))
    assert.equals(0, s:info().entries)
    assert.equals(0, s:info().bytes)
  end)

  it("leaves a session that stops growing alone", function()
    local s = e:session("burst")
    local chunk = ("x"):rep(512 * 1024)
    for i = 1, 6 do s:set("k" .. i, chunk); e:advance(10) end
    for _ = 1, 60 do s:get("k1"); e:advance(10) end
    assert.equals(6, s:info().entries)
    local seen = kinds(e)
    assert.equals("session_growing:burst", seen[1])
    for _, k in ipairs(seen) do assert.is_not.equals("session_cleared:burst", k) end
  end)
end)
