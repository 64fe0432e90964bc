-- policyd: the helpers a policy file gets from `require "policyd"`
-- (DESIGN.md §6): units for sizes and durations, and small stateful helpers.
local policyd = require "policyd"

local SIZE_HELP = "expected a number with B, KB, MB, GB or TB"
local DURATION_HELP = "expected a number with ms, s, m or h"

describe("policyd.bytes", function()
  it("takes a number as bytes, kept an integer", function()
    assert.equals(0, policyd.bytes(0))
    assert.equals(512, policyd.bytes(512))
    assert.equals(1024, policyd.bytes(1024.0))
    assert.equals("integer", math.type(policyd.bytes(1024.0)))
  end)

  it("refuses a number that is negative or not whole", function()
    for _, v in ipairs { -1, 1.5, 0 / 0, math.huge, 2 ^ 63 } do
      assert.has_error(function() policyd.bytes(v) end,
        ("invalid size %s: expected a non-negative whole number of bytes"):format(tostring(v)))
    end
  end)

  it("reads a string without a unit as bytes", function()
    assert.equals(512, policyd.bytes("512"))
    assert.equals(0, policyd.bytes("0"))
    assert.equals(7, policyd.bytes("007"))
  end)

  it("reads B, KB, MB, GB and TB as powers of 1024, like Redis's kb", function()
    assert.equals(10, policyd.bytes("10B"))
    assert.equals(1024, policyd.bytes("1KB"))
    assert.equals(10485760, policyd.bytes("10MB"))
    assert.equals(1024 ^ 3, policyd.bytes("1GB"))
    assert.equals(2 * 1024 ^ 4, policyd.bytes("2TB"))
    assert.equals("integer", math.type(policyd.bytes("1GB")))
  end)

  it("reads KiB, MiB, GiB and TiB as the same units", function()
    assert.equals(1024, policyd.bytes("1KiB"))
    assert.equals(1024 ^ 2, policyd.bytes("1MiB"))
    assert.equals(1024 ^ 3, policyd.bytes("1GiB"))
    assert.equals(1024 ^ 4, policyd.bytes("1TiB"))
  end)

  it("ignores the case of the unit", function()
    assert.equals(10485760, policyd.bytes("10mb"))
    assert.equals(10485760, policyd.bytes("10Mb"))
    assert.equals(1024, policyd.bytes("1kB"))
    assert.equals(1024, policyd.bytes("1KIB"))
    assert.equals(3, policyd.bytes("3b"))
  end)

  it("allows spaces between the number and the unit", function()
    assert.equals(10485760, policyd.bytes("10 MB"))
    assert.equals(1536, policyd.bytes("1.5   KB"))
    assert.equals(1536, policyd.bytes("1.5\tKB"))
  end)

  it("reads a decimal number that comes to a whole number of bytes", function()
    assert.equals(1536, policyd.bytes("1.5KB"))
    assert.equals(1280, policyd.bytes("1.25KB"))
    assert.equals(262144, policyd.bytes("0.25MB"))
    assert.equals(1536, policyd.bytes("1.50KB"))
    assert.equals(1, policyd.bytes("1.0B"))
    assert.equals(1, policyd.bytes("0.0009765625KB"))
    assert.equals("integer", math.type(policyd.bytes("1.5KB")))
  end)

  it("refuses a decimal that is not a whole number of bytes, never rounding", function()
    for _, v in ipairs { "1.3B", "1.5", "0.1KB", "1.0000001KB", "0.000000000001TB" } do
      assert.has_error(function() policyd.bytes(v) end,
        ('invalid size "%s": not a whole number of bytes'):format(v))
    end
  end)

  it("refuses more than 18 decimal places", function()
    local v = "0." .. ("0"):rep(18) .. "1TB"
    assert.has_error(function() policyd.bytes(v) end,
      ('invalid size "%s": too many decimal places'):format(v))
  end)

  it("refuses a string that is not a number with a known unit", function()
    local bad = {
      "10XB", "", "KB", "-1KB", "+1KB", "1e3", "0x10", "1,5KB", ".5KB", "1.KB",
      "10M", "10K", "10 M B", " 10MB", "10MB ", "ten MB", "10MB10",
    }
    for _, v in ipairs(bad) do
      assert.has_error(function() policyd.bytes(v) end,
        ('invalid size "%s": %s'):format(v, SIZE_HELP))
    end
  end)

  it("refuses a size beyond the largest integer", function()
    assert.equals(8388607 << 40, policyd.bytes("8388607TB"))
    assert.has_error(function() policyd.bytes("8388608TB") end,
      'invalid size "8388608TB": too large')
    assert.has_error(function() policyd.bytes("99999999999999999999") end,
      'invalid size "99999999999999999999": too large')
  end)

  it("refuses a value that is neither a number nor a string", function()
    for _, v in ipairs { false, {}, print } do
      assert.has_error(function() policyd.bytes(v) end,
        "invalid size: expected a number or a string, got " .. type(v))
    end
    assert.has_error(function() policyd.bytes(nil) end,
      "invalid size: expected a number or a string, got nil")
  end)

  it("blames the line that called it", function()
    local ok, err = pcall(function() local _ = policyd.bytes("10XB") end)
    assert.is_false(ok)
    assert.matches('^[^:]*policyd_spec%.lua:%d+: invalid size "10XB"', err)
  end)
end)

describe("policyd.parse_bytes", function()
  it("returns the size, or nil and the message instead of raising", function()
    assert.equals(1536, policyd.parse_bytes("1.5KB"))
    local n, err = policyd.parse_bytes("10XB")
    assert.is_nil(n)
    assert.equals('invalid size "10XB": ' .. SIZE_HELP, err)
  end)
end)

describe("policyd.seconds", function()
  it("takes a number as seconds, as it is", function()
    assert.equals(0, policyd.seconds(0))
    assert.equals(1.5, policyd.seconds(1.5))
    assert.equals(30, policyd.seconds(30))
  end)

  it("refuses a number that is negative, infinite or not a number", function()
    for _, v in ipairs { -1, -0.5, math.huge, 0 / 0 } do
      assert.has_error(function() policyd.seconds(v) end,
        ("invalid duration %s: expected a non-negative number of seconds"):format(tostring(v)))
    end
  end)

  it("reads ms, s, m and h", function()
    assert.equals(0.1, policyd.seconds("100ms"))
    assert.equals(0.25, policyd.seconds("250ms"))
    assert.equals(1, policyd.seconds("1s"))
    assert.equals(300, policyd.seconds("5m"))
    assert.equals(3600, policyd.seconds("1h"))
  end)

  it("reads decimals, spaces, any case, and a string without a unit as seconds", function()
    assert.equals(90, policyd.seconds("1.5m"))
    assert.equals(1800, policyd.seconds("0.5h"))
    assert.equals(0.0005, policyd.seconds("0.5ms"))
    assert.equals(120, policyd.seconds("2 m"))
    assert.equals(7200, policyd.seconds("2H"))
    assert.equals(0.1, policyd.seconds("100MS"))
    assert.equals(30, policyd.seconds("30"))
  end)

  it("gives whole seconds as integers", function()
    assert.equals("integer", math.type(policyd.seconds("5m")))
    assert.equals("integer", math.type(policyd.seconds("1000ms")))
  end)

  it("refuses a string that is not a number with a known unit", function()
    for _, v in ipairs { "5x", "1d", "", "s", "-1s", "1 hour", "1min", "1e3s", ".5s", " 1s" } do
      assert.has_error(function() policyd.seconds(v) end,
        ('invalid duration "%s": %s'):format(v, DURATION_HELP))
    end
  end)

  it("refuses a duration too large to be a number", function()
    local v = "1" .. ("0"):rep(400) .. "h"
    assert.has_error(function() policyd.seconds(v) end,
      ('invalid duration "%s": too large'):format(v))
  end)

  it("refuses a value that is neither a number nor a string", function()
    assert.has_error(function() policyd.seconds({}) end,
      "invalid duration: expected a number or a string, got table")
    assert.has_error(function() policyd.seconds(nil) end,
      "invalid duration: expected a number or a string, got nil")
  end)

  it("blames the line that called it", function()
    local ok, err = pcall(function() local _ = policyd.seconds("5x") end)
    assert.is_false(ok)
    assert.matches('^[^:]*policyd_spec%.lua:%d+: invalid duration "5x"', err)
  end)
end)

describe("policyd.parse_seconds", function()
  it("returns the duration, or nil and the message instead of raising", function()
    assert.equals(0.1, policyd.parse_seconds("100ms"))
    local n, err = policyd.parse_seconds("5x")
    assert.is_nil(n)
    assert.equals('invalid duration "5x": ' .. DURATION_HELP, err)
  end)
end)

describe("policyd.fraction", function()
  it("divides", function()
    assert.equals(0.25, policyd.fraction(1, 4))
    assert.equals(1.5, policyd.fraction(3, 2))
  end)

  it("is 0 when the whole is 0 or nil", function()
    assert.equals(0, policyd.fraction(5, 0))
    assert.equals(0, policyd.fraction(5, nil))
    assert.equals(0, policyd.fraction(0, 0))
  end)

  it("counts a missing part as 0", function()
    assert.equals(0, policyd.fraction(nil, 10))
  end)

  it("refuses what is not a number", function()
    assert.has_error(function() policyd.fraction("1", 2) end,
      "fraction: expected numbers, got string and number")
    assert.has_error(function() policyd.fraction(1, "2") end,
      "fraction: expected numbers, got number and string")
  end)
end)

describe("policyd.hysteresis", function()
  local h
  before_each(function() h = policyd.hysteresis { on = 0.9, off = 0.8 } end)

  it("starts off and turns on when the value reaches on", function()
    assert.is_false(h:update(0.5))
    assert.is_false(h:update(0.89))
    assert.is_true(h:update(0.9))
  end)

  it("stays on until the value falls below off", function()
    h:update(0.95)
    assert.is_true(h:update(0.85))
    assert.is_true(h:update(0.8))
    assert.is_false(h:update(0.79))
  end)

  it("once off, needs on again, not just off", function()
    h:update(0.95)
    h:update(0.5)
    assert.is_false(h:update(0.85))
    assert.is_true(h:update(0.9))
  end)

  it("is a plain threshold when on equals off", function()
    local t = policyd.hysteresis { on = 10, off = 10 }
    assert.is_true(t:update(10))
    assert.is_false(t:update(9.99))
    assert.is_true(t:update(10))
  end)

  it("keeps its state in a plain table that can be passed in", function()
    h:update(0.95)
    assert.same({ active = true }, h.state)
    local again = policyd.hysteresis({ on = 0.9, off = 0.8 }, h.state)
    assert.is_true(again:update(0.85))
    local fresh = {}
    local other = policyd.hysteresis({ on = 0.9, off = 0.8 }, fresh)
    assert.equals(fresh, other.state)
    assert.same({ active = false }, fresh)
  end)

  it("refuses bad thresholds, state and values", function()
    assert.has_error(function() policyd.hysteresis() end,
      "hysteresis: expected a table {on = ..., off = ...}")
    assert.has_error(function() policyd.hysteresis { on = 0.9 } end,
      "hysteresis: off must be a number, got nil")
    assert.has_error(function() policyd.hysteresis { on = "90%", off = 0.8 } end,
      'hysteresis: on must be a number, got "90%"')
    assert.has_error(function() policyd.hysteresis { on = 0.8, off = 0.9 } end,
      "hysteresis: off (0.9) must not be greater than on (0.8)")
    assert.has_error(function() policyd.hysteresis({ on = 1, off = 0 }, 5) end,
      "hysteresis: state must be a table, got number")
    assert.has_error(function() h:update(nil) end,
      "hysteresis: value must be a number, got nil")
  end)
end)

describe("policyd.streak", function()
  it("is true once the condition has held n times in a row, and while it holds", function()
    local s = policyd.streak(3)
    assert.is_false(s:update(true))
    assert.is_false(s:update(true))
    assert.is_true(s:update(true))
    assert.is_true(s:update(true))
  end)

  it("starts over on a false or nil condition", function()
    local s = policyd.streak(2)
    s:update(true)
    assert.is_false(s:update(false))
    assert.is_false(s:update(true))
    assert.is_true(s:update(true))
    assert.is_false(s:update(nil))
    assert.is_false(s:update(1))
    assert.is_true(s:update("yes"))
  end)

  it("with n = 1 follows the condition", function()
    local s = policyd.streak(1)
    assert.is_true(s:update(true))
    assert.is_false(s:update(false))
  end)

  it("keeps its count, up to n, in a plain table that can be passed in", function()
    local s = policyd.streak(3)
    for _ = 1, 5 do s:update(true) end
    assert.same({ count = 3 }, s.state)
    local state = {}
    policyd.streak(3, state):update(true)
    policyd.streak(3, state):update(true)
    assert.is_true(policyd.streak(3, state):update(true))
  end)

  it("refuses n that is not a whole number of at least 1", function()
    for _, n in ipairs { 0, -1, 1.5, "3" } do
      local shown = type(n) == "string" and '"3"' or tostring(n)
      assert.has_error(function() policyd.streak(n) end,
        "streak: n must be a whole number of at least 1, got " .. shown)
    end
    assert.has_error(function() policyd.streak(2, "x") end,
      "streak: state must be a table, got string")
  end)
end)

describe("policyd.rate", function()
  it("is nil until there are 2 samples", function()
    local r = policyd.rate { window = "10m" }
    assert.is_nil(r:per_minute())
    r:add(0, 100)
    assert.is_nil(r:per_minute())
    r:add(60, 220)
    assert.equals(120, r:per_minute())
  end)

  it("gives the change per minute of samples taken every second", function()
    local r = policyd.rate { window = "10m" }
    for t = 0, 30 do r:add(t, 1000 + 10 * t) end
    assert.near(600, r:per_minute(), 1e-9)
  end)

  it("fits a least-squares line through noisy samples", function()
    local r = policyd.rate { window = "10m" }
    r:add(0, 0)
    r:add(60, 30)
    r:add(120, 30)
    assert.near(15, r:per_minute(), 1e-9)
  end)

  it("is negative when the value falls", function()
    local r = policyd.rate { window = 600 }
    r:add(0, 500)
    r:add(30, 400)
    assert.near(-200, r:per_minute(), 1e-9)
  end)

  it("forgets samples older than the window before the latest one", function()
    local r = policyd.rate { window = "1m" }
    r:add(0, 1000)
    r:add(60, 0)
    assert.near(-1000, r:per_minute(), 1e-9) -- 60 s back is still inside
    r:add(90, 30)
    r:add(120, 60)
    assert.near(60, r:per_minute(), 1e-9)
    assert.same({ 60, 90, 120 }, r.state.times)
    assert.same({ 0, 30, 60 }, r.state.values)
  end)

  it("is nil while every sample has the same time", function()
    local r = policyd.rate { window = "1m" }
    r:add(5, 1)
    r:add(5, 2)
    assert.is_nil(r:per_minute())
  end)

  it("keeps its samples in a plain table that can be passed in", function()
    local state = {}
    policyd.rate({ window = "10m" }, state):add(0, 0)
    local r = policyd.rate({ window = "10m" }, state)
    r:add(60, 50)
    assert.equals(50, r:per_minute())
    assert.same({ times = { 0, 60 }, values = { 0, 50 } }, state)
  end)

  it("refuses time going backwards, and values that are not numbers", function()
    local r = policyd.rate { window = "1m" }
    r:add(10, 1)
    assert.has_error(function() r:add(5, 1) end, "rate: time went backwards (5 after 10)")
    assert.has_error(function() r:add(11, "1") end, 'rate: value must be a number, got "1"')
    assert.has_error(function() r:add(nil, 1) end, "rate: time must be a number, got nil")
  end)

  it("needs a window that is a duration greater than 0", function()
    assert.has_error(function() policyd.rate() end, 'rate: expected a table {window = "10m"}')
    assert.has_error(function() policyd.rate {} end, "rate: window is required")
    assert.has_error(function() policyd.rate { window = "10x" } end,
      'rate: window: invalid duration "10x": ' .. DURATION_HELP)
    assert.has_error(function() policyd.rate { window = 0 } end,
      "rate: window must be greater than 0")
  end)
end)

-- The policy sandbox has only the base library (no load, loadfile or
-- dofile), string (no dump), table, math and utf8; reading or setting any
-- other global is an error. Both helper modules load and work there.
describe("the helpers inside the policy sandbox", function()
  local function copy(t, without)
    local c = {}
    for k, v in pairs(t) do if k ~= without then c[k] = v end end
    return c
  end

  local function sandbox()
    local env = {
      string = copy(string, "dump"), table = copy(table), math = copy(math),
      utf8 = copy(utf8), _VERSION = _VERSION,
    }
    for _, name in ipairs {
      "assert", "error", "getmetatable", "ipairs", "next", "pairs", "pcall", "print",
      "rawequal", "rawget", "rawlen", "select", "setmetatable", "tonumber",
      "tostring", "type", "xpcall",
    } do env[name] = _G[name] end
    local loaded = {}
    function env.require(name)
      assert(name == "policyd" or name:match("^policyd%.[%w_]+$"), "not a policyd module")
      if loaded[name] == nil then
        local path = assert(package.searchpath(name, package.path))
        loaded[name] = assert(loadfile(path, "t", env))(name)
      end
      return loaded[name]
    end
    return setmetatable(env, {
      __index = function(_, k) error("global '" .. tostring(k) .. "' is not in the sandbox", 2) end,
      __newindex = function(_, k) error("assignment to undeclared global '" .. tostring(k) .. "'", 2) end,
    })
  end

  it("use nothing but the sandbox's libraries and set no globals", function()
    local env = sandbox()
    local p = env.require "policyd"
    local validate = env.require "policyd.validate"

    assert.equals(1536, p.bytes("1.5KB"))
    assert.equals(0.1, p.seconds("100ms"))
    assert.equals(0.5, p.fraction(1, 2))
    assert.is_nil(p.parse_bytes("1.3B"))
    assert.is_true(p.hysteresis({ on = 2, off = 1 }):update(3))
    assert.is_true(p.streak(1):update(true))
    local r = p.rate { window = "1m" }
    for t = 0, 90 do r:add(t, t) end
    assert.equals(60, r:per_minute())

    local policy = validate {
      limits = function() return { bytes = "1MB" } end,
      system = { bytes = "1GB", sessions = 2 },
      eviction = function(c) return c[1] end,
      sample_interval = "250ms",
    }
    assert.same({ bytes = 1048576 }, validate.limits(policy.limits("s")))
    assert.equals(0.25, policy.sample_interval)
    assert.has_error(function() validate { limts = {} } end,
      "unknown field 'limts' (did you mean 'limits'?)")
    assert.same({ "lru", "lfu", "ttl", "size", "sieve", "s3fifo" }, validate.strategies)
  end)
end)
