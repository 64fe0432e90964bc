-- Guard: housekeeping for long-running daemons with many short-lived
-- tenants. Sessions idle for 30 minutes are dropped; a session whose bytes
-- keep growing faster than 1 MB a minute is warned about, then cleared if
-- it is still growing after a 5-minute grace period.
local MB = 1024 * 1024
local IDLE_TIMEOUT = 30 * 60 -- seconds
local GROWTH_LIMIT = 1 * MB  -- bytes per minute
local GRACE = 5 * 60         -- seconds

return {
  name = "guard",
  limits = { bytes = "64MB", entries = 100000 },
  sample_interval = "10s",

  on_sample = function(snap, act)
    local growing = act.state.growing or {}
    local still = {}
    for _, s in ipairs(snap.sessions) do
      if s.idle_seconds >= IDLE_TIMEOUT then
        act.drop(s.name)
        act.alert("info", "session_idle_dropped", s.name,
          ("idle for %.0f s"):format(s.idle_seconds))
      elseif s.growth_bytes_per_min > GROWTH_LIMIT then
        local since = growing[s.name] or snap.time
        still[s.name] = since
        act.alert("warning", "session_growing", s.name,
          ("growing %.0f bytes/min"):format(s.growth_bytes_per_min),
          { value = s.growth_bytes_per_min, threshold = GROWTH_LIMIT })
        if snap.time - since >= GRACE then
          act.clear(s.name)
          act.alert("error", "session_cleared", s.name,
            ("still growing after %.0f s"):format(snap.time - since))
          still[s.name] = nil
        end
      end
    end
    act.state.growing = still
  end,
}
