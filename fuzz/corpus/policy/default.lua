-- The reference budget: what `make run` starts with. Copy it and change the
-- numbers; every rule below is one block you can keep, change or delete.
--
--   per session   10 MB and 20 entries, least recently used out first
--   in all        150 MB and 15 sessions
--   alerts        warning at 80% of a session's budget; error while a
--                 session is at its budget and evicting; warning over 90%
--                 of the system budget; critical over it, by session bytes
--                 or by jemalloc's resident memory (then purge, and evict
--                 down to 80%); critical on a leak (bytes outside sessions
--                 growing over 1 MB/min for 10 minutes)
--   upkeep        purge freed pages when the process passes 80% of the
--                 system budget, at most once a minute
--   admission     a 16th session gets in by dropping the least recently
--                 active one, with a warning
local policyd = require "policyd"

local MB = 1024 * 1024
local SYSTEM_BYTES = 150 * MB -- the system budget
local LEAK_RATE = 1 * MB -- bytes per minute outside sessions...
local LEAK_FOR = 10 * 60 -- ...sustained this many seconds

-- Evicts from the largest sessions first until `need` bytes are freed.
local function shed(snap, act, need)
  local by_size = {}
  for _, s in ipairs(snap.sessions) do by_size[#by_size + 1] = s end
  table.sort(by_size, function(a, b) return a.bytes > b.bytes end)
  for _, s in ipairs(by_size) do
    if need <= 0 then return end
    local take = math.min(s.bytes, need)
    act.evict(s.name, { bytes = take })
    need = need - take
  end
end

return {
  name = "default",
  limits = { bytes = "10MB", entries = 20 },
  system = { bytes = SYSTEM_BYTES, sessions = 15 },
  eviction = "lru",
  sample_interval = "1s",

  on_session_open = function(name, snap, act)
    if snap.system.sessions < snap.system.limit_sessions then return end
    local victim
    for _, s in ipairs(snap.sessions) do
      if not victim or s.idle_seconds > victim.idle_seconds then victim = s end
    end
    if not victim then return false, "no session to make room" end
    act.drop(victim.name)
    act.alert("warning", "session_dropped", victim.name,
      ("dropped after %.0f s idle to admit %s"):format(victim.idle_seconds, name))
  end,

  on_sample = function(snap, act)
    local state = act.state
    local seen = {}
    for _, s in ipairs(snap.sessions) do
      local used = math.max(policyd.fraction(s.bytes, s.limit_bytes),
        policyd.fraction(s.entries, s.limit_entries))
      if used >= 0.8 then
        act.alert("warning", "session_near_budget", s.name,
          ("at %.0f%% of its budget"):format(used * 100), { value = used, threshold = 0.8 })
      end
      local before = (state.evictions or {})[s.name]
      if before and s.evictions > before then
        act.alert("error", "session_evicting", s.name,
          ("at its budget: %d evictions since the last sample"):format(s.evictions - before))
      end
      seen[s.name] = s.evictions
    end
    state.evictions = seen -- dropped sessions are forgotten

    local sys = snap.system
    local full = policyd.fraction(sys.bytes, sys.limit_bytes)
    local used = math.max(sys.bytes, sys.resident)
    if used > sys.limit_bytes then
      act.alert("critical", "system_over_budget", nil,
        ("%d bytes in use (sessions or resident), over the budget of %d"):format(
          used, sys.limit_bytes), { value = used, threshold = sys.limit_bytes })
      act.purge()
      shed(snap, act, sys.bytes - math.floor(0.8 * sys.limit_bytes))
    elseif full > 0.9 then
      act.alert("warning", "system_near_budget", nil,
        ("sessions hold %.0f%% of the system budget"):format(full * 100),
        { value = full, threshold = 0.9 })
    end

    if sys.allocated > 0.8 * SYSTEM_BYTES
        and (not state.purged_at or snap.time - state.purged_at >= 60) then
      act.purge()
      state.purged_at = snap.time
    end

    if sys.outside_growth_bytes_per_min > LEAK_RATE then
      state.leak_since = state.leak_since or snap.time
      if snap.time - state.leak_since >= LEAK_FOR then
        act.alert("critical", "leak", nil,
          ("bytes outside sessions grow %.0f bytes/min"):format(sys.outside_growth_bytes_per_min),
          { value = sys.outside_growth_bytes_per_min, threshold = LEAK_RATE })
      end
    else
      state.leak_since = nil
    end
  end,
}
