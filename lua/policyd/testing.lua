-- policyd.testing: the busted harness of DESIGN.md §7. It drives the real C
-- engine (policyd.core) with a fake clock, so specs are deterministic.
--
--   local testing = require "policyd.testing"
--   local e = testing.engine { policy = "policies/lru.lua" }
--   local s = e:session("alice")
--   s:set("k", "v", { ttl = 5 }); e:advance(6); assert.is_nil(s:get("k"))
--
-- Times are seconds (numbers, or strings such as "100ms" and "5m").
local policyd = require "policyd"

-- policyd.core lives inside the policyd binary: Debian's jemalloc cannot be
-- loaded into a stock lua5.4 (initial-exec TLS). Under a stock interpreter,
-- run the same busted command again inside policyd-lua and exit with its
-- status, so a plain `busted` works in any repository.
local ok, core = pcall(require, "policyd.core")
if not ok then
  local script = arg and arg[0]
  if not (script and script:match("busted")) then
    error("policyd.testing: run this under busted, or under policyd-lua", 2)
  end
  local words = { "policyd-lua", ("%q"):format(script), "--ignore-lua" }
  for i = 1, #arg do
    words[#words + 1] = "'" .. arg[i]:gsub("'", "'\\''") .. "'"
  end
  local _, _, code = os.execute(table.concat(words, " "))
  os.exit(code or 1)
end

local testing = {}

local Engine = {}
Engine.__index = Engine

local Session = {}
Session.__index = Session

local function ms(seconds)
  return math.floor(policyd.seconds(seconds) * 1000 + 0.5)
end

-- testing.engine { policy = path, seed = n, now = seconds } -> engine.
-- Raises the policy's "file:line: message" if it does not load.
function testing.engine(opts)
  opts = opts or {}
  local core_opts = {}
  for k, v in pairs(opts) do core_opts[k] = v end
  if opts.now then core_opts.now = ms(opts.now) end
  local e, err = core.engine(core_opts)
  if not e then error(err, 2) end
  return setmetatable({ core = e }, Engine)
end

-- testing.policy_file(source) -> the path of a temporary policy file
-- holding source, for specs that write the policy they test.
-- testing.remove_policy_files() removes every one made so far.
local made = {}

function testing.policy_file(source)
  local base = os.tmpname() -- creates the file base; it goes too
  local path = base .. ".lua"
  local f = assert(io.open(path, "w"))
  f:write(source)
  f:close()
  made[#made + 1] = base
  made[#made + 1] = path
  return path
end

function testing.remove_policy_files()
  for i = #made, 1, -1 do
    os.remove(made[i])
    made[i] = nil
  end
end

function Engine:session(name)
  return setmetatable({ engine = self.core, name = name }, Session)
end

-- Moves the clock and runs the expiry the daemon would run in that time.
function Engine:advance(seconds)
  self.core:advance(ms(seconds))
end

-- The engine clock, in seconds.
function Engine:now()
  return self.core:now() / 1000
end

-- Sessions by name, sorted.
function Engine:sessions()
  return self.core:sessions()
end

-- System figures: bytes, entries, sessions, limits, jemalloc's figures.
function Engine:info()
  return self.core:stats()
end

-- The policy's figures: hook_errors, last_error, degraded, limits...
function Engine:policy()
  return self.core:policy()
end

-- Runs one sample now: on_sample(snap, act), then its actions.
function Engine:sample()
  self.core:sample()
end

-- Every delivered alert so far, oldest first: {time, severity, kind,
-- session, message, value, threshold}.
function Engine:alerts()
  return self.core:alerts()
end

-- Every action the hooks asked for and the host applied, oldest first.
function Engine:actions()
  return self.core:actions()
end

-- Swaps in the policy at path: true, or nil and "file:line: message" (the
-- running policy stays).
function Engine:reload(path)
  return self.core:reload(path)
end

function Engine:close()
  self.core:close()
end

-- s:set(key, value [, { ttl = seconds, nx = true, xx = true, keepttl = true }])
-- returns true, or nil and the reason.
function Session:set(key, value, opts)
  local o
  if opts then
    o = { nx = opts.nx, xx = opts.xx, keepttl = opts.keepttl }
    if opts.ttl then o.ttl = ms(opts.ttl) end
  end
  return self.engine:set(self.name, key, value, o)
end

function Session:get(key)
  return self.engine:get(self.name, key)
end

function Session:del(key)
  return self.engine:del(self.name, key)
end

function Session:exists(key)
  return self.engine:exists(self.name, key)
end

-- Seconds to expiry; -1 without one, -2 when the key is missing (as TTL).
function Session:ttl(key)
  local left = self.engine:pttl(self.name, key)
  if left < 0 then return left end
  return left / 1000
end

-- The SESSION INFO fields, or nil when the session does not exist.
function Session:info()
  return self.engine:info(self.name)
end

return testing
