-- policyd.validate: checks the table a policy file returned (DESIGN.md §6)
-- and returns a new, normalized table: sizes in integer bytes, durations in
-- seconds, functions kept, defaults filled. Errors name the field:
--
--   limits.bytes: invalid size "10XB": expected a number with B, KB, MB, GB or TB
--   unknown field 'limts' (did you mean 'limits'?)
--   limits is required
--
--   local validate = require "policyd.validate"
--   local policy = validate(t)               -- what the policy file returned
--   local limits = validate.limits(t)        -- what a limits function returned
--   validate.strategies                      -- { "lru", "lfu", "ttl", "size", "sieve", "s3fifo" }
--
-- Errors are raised at level 0: the message carries no position, since the
-- host points at the policy file itself.
local policyd = require "policyd"

local STRATEGIES = { "lru", "lfu", "ttl", "size", "sieve", "s3fifo" }
local is_strategy = {}
for _, name in ipairs(STRATEGIES) do is_strategy[name] = true end

local MAX_SAMPLE_INTERVAL = 3600

-- Each hook call's deadline: its default and the most a policy may set, in
-- seconds. A chooser runs on a write's path, a limits function or
-- on_session_open on a new session's; a sample runs between requests.
local DEADLINES = {
  { "sample", 0.050, 1 },
  { "session_open", 0.005, 0.100 },
  { "limits", 0.005, 0.100 },
  { "chooser", 0.001, 0.010 },
}

local function fail(path, msg)
  error(path and (path .. ": " .. msg) or msg, 0)
end

local function join(path, key)
  return path and (path .. "." .. key) or key
end

-- Checkers: check(value, path) -> the normalized value, or an error.

local function check_type(kind)
  return function(v, path)
    if type(v) ~= kind then fail(path, "expected a " .. kind .. ", got " .. type(v)) end
    return v
  end
end

local check_string = check_type("string")
local check_number = check_type("number")
local check_function = check_type("function")

-- A size limit: at least 1 byte (the engine reads 0 as "no limit").
local function check_size(v, path)
  local n, err = policyd.parse_bytes(v)
  if n == nil then fail(path, err) end
  if n < 1 then fail(path, "must be at least 1 byte, got 0") end
  return n
end

-- A count limit: a whole number, at least 1.
local function check_count(v, path)
  if type(v) ~= "number" then fail(path, "expected a whole number, got " .. type(v)) end
  local n = math.tointeger(v)
  if not n or n < 1 then
    fail(path, "expected a whole number of at least 1, got " .. tostring(v))
  end
  return n
end

local function check_strategy(v, path)
  if type(v) == "function" then return v end
  if type(v) ~= "string" then
    fail(path, "expected a strategy name or a function, got " .. type(v))
  end
  if not is_strategy[v] then
    fail(path, ('unknown strategy "%s": expected %s or a function')
      :format(v, table.concat(STRATEGIES, ", ")))
  end
  return v
end

local function check_sample_interval(v, path)
  local s, err = policyd.parse_seconds(v)
  if s == nil then fail(path, err) end
  if s <= 0 then fail(path, "must be greater than 0") end
  if s > MAX_SAMPLE_INTERVAL then
    fail(path, ("must be at most 1 hour (%d seconds), got %s"):format(MAX_SAMPLE_INTERVAL, s))
  end
  return s
end

local function check_deadline(most)
  return function(v, path)
    local s, err = policyd.parse_seconds(v)
    if s == nil then fail(path, err) end
    if s <= 0 then fail(path, "must be greater than 0") end
    if s > most then
      fail(path, ("must be at most %g ms, got %g ms"):format(most * 1000, s * 1000))
    end
    return s
  end
end

-- Unknown fields -------------------------------------------------------------

-- Optimal string alignment distance: edits, a swap of neighbours counting 1.
local function distance(a, b)
  local d = {}
  for i = 0, #a do d[i] = { [0] = i } end
  for j = 1, #b do d[0][j] = j end
  for i = 1, #a do
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      local best = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:byte(i) == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        best = math.min(best, d[i - 2][j - 2] + 1)
      end
      d[i][j] = best
    end
  end
  return d[#a][#b]
end

-- The known field closest to key, if close enough to be a likely typo.
local function suggestion(key, fields)
  local lower, best, best_distance = key:lower(), nil, math.max(1, #key // 3) + 1
  for _, field in ipairs(fields) do
    local dist = distance(lower, field[1])
    if dist < best_distance then best, best_distance = field[1], dist end
  end
  return best
end

local function check_known(t, path, fields)
  local known = {}
  for _, field in ipairs(fields) do known[field[1]] = true end
  local unknown = {}
  for key in pairs(t) do
    if not known[key] then unknown[#unknown + 1] = key end
  end
  if #unknown == 0 then return end
  -- Report the first in a fixed order, so the same file gives the same error.
  table.sort(unknown, function(a, b)
    if type(a) ~= type(b) then return type(a) == "string" end
    if type(a) == "string" or type(a) == "number" then return a < b end
    return tostring(a) < tostring(b)
  end)
  local key = unknown[1]
  if type(key) ~= "string" then
    fail(path, ("unknown field [%s]"):format(tostring(key)))
  end
  local near = suggestion(key, fields)
  fail(path, ("unknown field '%s'%s"):format(key, near and (" (did you mean '%s'?)"):format(near) or ""))
end

-- Tables ---------------------------------------------------------------------

-- A schema is a list of { key, check, required = bool, default = value }, in
-- the order the fields are checked.
local function check_fields(t, path, fields)
  check_known(t, path, fields)
  local out = {}
  for _, field in ipairs(fields) do
    local key, check = field[1], field[2]
    local v = t[key]
    if v == nil then
      if field.required then fail(nil, join(path, key) .. " is required") end
      out[key] = field.default
    else
      out[key] = check(v, join(path, key))
    end
  end
  return out
end

local LIMITS = {
  { "bytes", check_size },
  { "entries", check_count },
  { "eviction", check_strategy },
}

local SYSTEM = {
  { "bytes", check_size },
  { "sessions", check_count },
}

local function check_limits_table(v, path)
  if type(v) ~= "table" then fail(path, "expected a table, got " .. type(v)) end
  return check_fields(v, path, LIMITS)
end

-- A policy's limits: a table, or a function of the session name that the
-- host calls later (and checks with validate.limits).
local function check_limits(v, path)
  if type(v) == "function" then return v end
  if type(v) ~= "table" then fail(path, "expected a table or a function, got " .. type(v)) end
  return check_fields(v, path, LIMITS)
end

local DEADLINE_FIELDS = {}
for i, d in ipairs(DEADLINES) do
  DEADLINE_FIELDS[i] = { d[1], check_deadline(d[3]), default = d[2] }
end

local function check_deadlines(v, path)
  if type(v) ~= "table" then fail(path, "expected a table, got " .. type(v)) end
  return check_fields(v, path, DEADLINE_FIELDS)
end

local function check_system(v, path)
  if type(v) ~= "table" then fail(path, "expected a table, got " .. type(v)) end
  return check_fields(v, path, SYSTEM)
end

local POLICY = {
  { "name", check_string },
  { "version", check_number },
  { "limits", check_limits, required = true },
  { "system", check_system },
  { "eviction", check_strategy, default = "lru" },
  { "sample_interval", check_sample_interval, default = 1 },
  { "deadlines", check_deadlines },
  { "on_session_open", check_function },
  { "on_sample", check_function },
  { "on_reload", check_function },
}

-- Module ---------------------------------------------------------------------

local validate = {}

-- validate.strategies: the built-in strategy names (a copy: changing it
-- changes nothing).
validate.strategies = table.move(STRATEGIES, 1, #STRATEGIES, 1, {})

-- validate.limits(t): a limits table {bytes =, entries =, eviction =},
-- normalized; used for what a limits function returns.
function validate.limits(t)
  return check_limits_table(t, "limits")
end

-- validate(policy): the policy table, normalized.
local function validate_policy(policy)
  if type(policy) ~= "table" then
    fail(nil, "a policy must return a table, got " .. type(policy))
  end
  local out = check_fields(policy, nil, POLICY)
  out.deadlines = out.deadlines or check_deadlines({}, "deadlines")
  return out
end

return setmetatable(validate, {
  __call = function(_, policy) return validate_policy(policy) end,
})
