-- policyd: helpers for policy authors (DESIGN.md §6).
--
--   local policyd = require "policyd"
--
-- Units (sizes and durations written as numbers or as strings with units),
-- and small stateful helpers that keep policies short: a threshold with
-- hysteresis, a streak of samples, and a rate over a time window.
--
-- This module runs inside the policy sandbox: it uses only the base library,
-- string, table and math, and sets no globals. The state of each helper is a
-- plain table (numbers, booleans, arrays) that the caller may pass in, so it
-- can live in `act.state` and survive a reload.
local policyd = {}

-- Units ---------------------------------------------------------------------

-- Size units: the power of 1024 each stands for (1 KB = 1024 B, as Redis's
-- "kb"). Matched case-insensitively; no unit means bytes.
local SIZE_POWERS = {
  [""] = 0, b = 0,
  kb = 1, mb = 2, gb = 3, tb = 4,
  kib = 1, mib = 2, gib = 3, tib = 4,
}

-- Duration units: seconds per unit, as a fraction (ms is 1/1000, divided
-- rather than multiplied so "100ms" is exactly 0.1). No unit means seconds.
local DURATION_UNITS = {
  [""] = { 1, 1 }, s = { 1, 1 }, ms = { 1, 1000 }, m = { 60, 1 }, h = { 3600, 1 },
}

local function show(v)
  if type(v) == "string" then return '"' .. v .. '"' end
  return tostring(v)
end

-- "12", "12.5", "12 KB", "12.5kb" -> "12", "5" (or ""), "KB" (or ""); nil
-- when v is not a plain decimal number followed by letters.
local function split_number(v)
  local int, frac, unit = v:match("^(%d+)%.(%d+)%s*(%a*)$")
  if int then return int, frac, unit end
  int, unit = v:match("^(%d+)%s*(%a*)$")
  if int then return int, "", unit end
  return nil
end

-- Returns the size v in bytes (an integer), or nil and a message.
function policyd.parse_bytes(v)
  local function invalid(why)
    return nil, ("invalid size %s: %s"):format(show(v), why)
  end
  if type(v) == "number" then
    local n = math.tointeger(v)
    if n and n >= 0 then return n end
    return invalid("expected a non-negative whole number of bytes")
  elseif type(v) ~= "string" then
    return nil, ("invalid size: expected a number or a string, got %s"):format(type(v))
  end
  local int, frac, unit = split_number(v)
  local power = int and SIZE_POWERS[unit:lower()]
  if not power then return invalid("expected a number with B, KB, MB, GB or TB") end
  -- Exact integer arithmetic, never a float: int + frac / 10^n units of
  -- 2^shift bytes. The fraction is a whole number of bytes only when
  -- 10^n = 5^n * 2^n divides frac * 2^shift.
  frac = frac:gsub("0+$", "")
  local shift, n, part = 10 * power, #frac, 0
  if n > shift then return invalid("not a whole number of bytes") end
  if n > 18 then return invalid("too many decimal places") end
  if n > 0 then
    local f, five = math.tointeger(tonumber(frac)), math.tointeger(5 ^ n)
    if f % five ~= 0 then return invalid("not a whole number of bytes") end
    part = (f // five) << (shift - n)
  end
  local i = math.tointeger(tonumber(int))
  if not i or i > (math.maxinteger - part) >> shift then return invalid("too large") end
  return (i << shift) + part
end

-- Returns the duration v in seconds (a number), or nil and a message.
function policyd.parse_seconds(v)
  local function invalid(why)
    return nil, ("invalid duration %s: %s"):format(show(v), why)
  end
  if type(v) == "number" then
    if v >= 0 and v < math.huge then return v end
    return invalid("expected a non-negative number of seconds")
  elseif type(v) ~= "string" then
    return nil, ("invalid duration: expected a number or a string, got %s"):format(type(v))
  end
  local int, frac, unit = split_number(v)
  local per = int and DURATION_UNITS[unit:lower()]
  if not per then return invalid("expected a number with ms, s, m or h") end
  local seconds = tonumber(int .. "." .. frac .. "0") * per[1] / per[2]
  if seconds == math.huge then return invalid("too large") end
  return math.tointeger(seconds) or seconds
end

-- policyd.bytes(v): the size v in bytes, an integer. v is a number of bytes
-- or a string such as "512", "10MB", "1.5 KB". Raises an error otherwise.
function policyd.bytes(v)
  local n, err = policyd.parse_bytes(v)
  if n == nil then error(err, 2) end
  return n
end

-- policyd.seconds(v): the duration v in seconds. v is a number of seconds
-- or a string such as "100ms", "1s", "5m", "1h". Raises an error otherwise.
function policyd.seconds(v)
  local n, err = policyd.parse_seconds(v)
  if n == nil then error(err, 2) end
  return n
end

-- policyd.fraction(part, whole): part / whole, and 0 when whole is 0 or nil
-- (a missing part counts as 0).
function policyd.fraction(part, whole)
  if whole == nil or whole == 0 then return 0.0 end
  if type(whole) ~= "number" or (part ~= nil and type(part) ~= "number") then
    error(("fraction: expected numbers, got %s and %s"):format(type(part), type(whole)), 2)
  end
  return (part or 0) / whole
end

-- Helpers with state ----------------------------------------------------------

-- The state table a helper keeps: the one passed in, or a new one.
local function state_table(who, state)
  if state == nil then return {} end
  if type(state) ~= "table" then
    error(("%s: state must be a table, got %s"):format(who, type(state)), 3)
  end
  return state
end

local function check_number(who, what, v, level)
  if type(v) ~= "number" or v ~= v then
    error(("%s: %s must be a number, got %s"):format(who, what, show(v)), level + 1)
  end
end

-- policyd.hysteresis{on = 0.9, off = 0.8} [, state]: a threshold that turns
-- on when a value reaches `on` and turns off only when it falls below `off`,
-- so a value hovering around one threshold does not flap.
--   h:update(value) -> true while on
-- state: { active = boolean }.
function policyd.hysteresis(opts, state)
  if type(opts) ~= "table" then
    error("hysteresis: expected a table {on = ..., off = ...}", 2)
  end
  local on, off = opts.on, opts.off
  check_number("hysteresis", "on", on, 2)
  check_number("hysteresis", "off", off, 2)
  if off > on then
    error(("hysteresis: off (%s) must not be greater than on (%s)"):format(off, on), 2)
  end
  state = state_table("hysteresis", state)
  state.active = state.active == true
  local self = { state = state }
  function self:update(value)
    check_number("hysteresis", "value", value, 2)
    if state.active then
      state.active = value >= off
    else
      state.active = value >= on
    end
    return state.active
  end
  return self
end

-- policyd.streak(n) [, state]: "for n samples in a row".
--   s:update(cond) -> true once cond has been true n times in a row, and as
--   long as it stays true; a false (or nil) cond starts over.
-- state: { count = integer } (counts up to n).
function policyd.streak(n, state)
  local count = math.type(n) and math.tointeger(n)
  if not count or count < 1 then
    error(("streak: n must be a whole number of at least 1, got %s"):format(show(n)), 2)
  end
  n = count
  state = state_table("streak", state)
  state.count = math.tointeger(state.count) or 0
  local self = { state = state }
  function self:update(cond)
    if cond then
      state.count = math.min(state.count + 1, n)
    else
      state.count = 0
    end
    return state.count >= n
  end
  return self
end

-- policyd.rate{window = "10m"} [, state]: how fast a value changes.
--   r:add(time_seconds, value)  time must not go backwards
--   r:per_minute() -> the least-squares slope of value over time, in units
--     per minute, over the samples of the last `window` seconds (counting
--     back from the latest one, inclusive); nil until there are 2 samples
--     at different times.
-- state: { times = {...}, values = {...} }.
function policyd.rate(opts, state)
  if type(opts) ~= "table" then error('rate: expected a table {window = "10m"}', 2) end
  if opts.window == nil then error("rate: window is required", 2) end
  local window, err = policyd.parse_seconds(opts.window)
  if window == nil then error("rate: window: " .. err, 2) end
  if window <= 0 then error("rate: window must be greater than 0", 2) end
  state = state_table("rate", state)
  if type(state.times) ~= "table" or type(state.values) ~= "table" then
    state.times, state.values = {}, {}
  end
  local times, values = state.times, state.values
  local self = { state = state }

  function self:add(t, value)
    check_number("rate", "time", t, 2)
    check_number("rate", "value", value, 2)
    local n = #times
    if n > 0 and t < times[n] then
      error(("rate: time went backwards (%s after %s)"):format(t, times[n]), 2)
    end
    n = n + 1
    times[n], values[n] = t, value
    local first = 1
    while times[first] < t - window do first = first + 1 end
    if first > 1 then
      local kept = n - first + 1
      table.move(times, first, n, 1)
      table.move(values, first, n, 1)
      for i = kept + 1, n do times[i], values[i] = nil, nil end
    end
  end

  function self:per_minute()
    local n = #times
    if n < 2 then return nil end
    local sum_t, sum_v = 0, 0
    for i = 1, n do sum_t, sum_v = sum_t + times[i], sum_v + values[i] end
    local mean_t, mean_v = sum_t / n, sum_v / n
    local sum_tv, sum_tt = 0, 0
    for i = 1, n do
      local dt = times[i] - mean_t
      sum_tv = sum_tv + dt * (values[i] - mean_v)
      sum_tt = sum_tt + dt * dt
    end
    if sum_tt == 0 then return nil end
    return sum_tv / sum_tt * 60
  end

  return self
end

return policyd
