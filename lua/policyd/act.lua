-- policyd.act: the `act` a hook receives (DESIGN.md §6). It records the
-- actions a hook asks for, checking their arguments at once (a bad call
-- raises, so the hook fails and nothing is applied); the host applies the
-- records in order after the hook returns.
local validate = require "policyd.validate"

local act = {}

local severities = { info = true, warning = true, error = true, critical = true }
local levels = { debug = true, info = true, warning = true, error = true }

local function session_arg(v, what)
  if type(v) ~= "string" then
    error(what .. ": session must be a string, got " .. type(v), 3)
  end
  return v
end

-- act.new(state) -> act, records
function act.new(state)
  local records = {}
  local a = { state = state }
  local function record(r) records[#records + 1] = r end

  function a.alert(severity, kind, session, message, fields)
    if not severities[severity] then
      error("alert: severity must be info, warning, error or critical, got " ..
        tostring(severity), 2)
    end
    if type(kind) ~= "string" then error("alert: kind must be a string", 2) end
    if session ~= nil then session_arg(session, "alert") end
    if message ~= nil and type(message) ~= "string" then
      error("alert: message must be a string", 2)
    end
    if fields ~= nil and type(fields) ~= "table" then error("alert: fields must be a table", 2) end
    local r = { op = "alert", severity = severity, kind = kind, session = session,
      message = message or "" }
    if fields then
      for _, f in ipairs { "value", "threshold" } do
        if fields[f] ~= nil and type(fields[f]) ~= "number" then
          error("alert: fields." .. f .. " must be a number", 2)
        end
        r[f] = fields[f]
      end
    end
    record(r)
  end

  function a.evict(session, how)
    session_arg(session, "evict")
    if type(how) ~= "table" or (how.bytes == nil) == (how.to == nil) then
      error("evict: give {bytes = n} or {to = fraction}", 2)
    end
    if how.bytes ~= nil and (math.type(how.bytes) ~= "integer" or how.bytes < 0) then
      error("evict: bytes must be a non-negative integer", 2)
    end
    if how.to ~= nil and (type(how.to) ~= "number" or how.to < 0 or how.to > 1) then
      error("evict: to must be a fraction from 0 to 1", 2)
    end
    record { op = "evict", session = session, bytes = how.bytes, to = how.to }
  end

  function a.purge(session)
    if session ~= nil then session_arg(session, "purge") end
    record { op = "purge", session = session }
  end

  for _, op in ipairs { "clear", "drop" } do
    a[op] = function(session)
      session_arg(session, op)
      record { op = op, session = session }
    end
  end

  function a.deny_writes(session, deny)
    session_arg(session, "deny_writes")
    if type(deny) ~= "boolean" then error("deny_writes: give true or false", 2) end
    record { op = "deny_writes", session = session, deny = deny }
  end

  function a.set_limits(session, limits)
    session_arg(session, "set_limits")
    local ok, normalized = pcall(validate.limits, limits)
    if not ok then error("set_limits: " .. normalized, 2) end
    record { op = "set_limits", session = session, limits = normalized }
  end

  function a.log(level, message)
    if not levels[level] then error("log: level must be debug, info, warning or error", 2) end
    if type(message) ~= "string" then error("log: message must be a string", 2) end
    record { op = "log", level = level, message = message }
  end

  return a, records
end

return act
