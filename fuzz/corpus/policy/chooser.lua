-- A chooser: eviction decided in Lua. When a session is full the engine samples
-- a few entries at random and asks this function which one goes. Here: the
-- entry with the lowest hits per byte, so large, rarely read values go
-- first. Return the chosen candidate (or its key).
return {
  name = "chooser",
  limits = { bytes = "16MB", entries = 1000 },
  eviction = function(candidates)
    local victim, worst
    for _, c in ipairs(candidates) do
      local value = c.hits / c.bytes
      if not worst or value < worst then victim, worst = c, value end
    end
    return victim
  end,
}
