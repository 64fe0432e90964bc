-- policyd.validate: checks the table a policy file returns (DESIGN.md §6)
-- and gives back a new, normalized one, or an error that names the field.
local validate = require "policyd.validate"

-- The message validate raised, exactly: it carries no "file:line:" of its
-- own, since the host points at the policy file.
local function error_of(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return err
end

local SIZE_HELP = "expected a number with B, KB, MB, GB or TB"
local DEFAULT_DEADLINES = { sample = 0.05, session_open = 0.005, limits = 0.005, chooser = 0.001 }

describe("validate", function()
  describe("a policy", function()
    it("needs only limits, and gets eviction and sample_interval by default", function()
      assert.same({ limits = { entries = 20 }, eviction = "lru", sample_interval = 1,
        deadlines = DEFAULT_DEADLINES }, validate { limits = { entries = 20 } })
    end)

    it("is normalized: sizes in bytes, durations in seconds, functions kept", function()
      local open, sample, reload, chooser = function() end, function() end,
        function() end, function() end
      local policy = validate {
        name = "default", version = 2,
        limits = { bytes = "10MB", entries = 20, eviction = "lfu" },
        system = { bytes = "150MB", sessions = 15 },
        eviction = chooser,
        sample_interval = "500ms",
        on_session_open = open, on_sample = sample, on_reload = reload,
      }
      assert.same({
        name = "default", version = 2,
        limits = { bytes = 10485760, entries = 20, eviction = "lfu" },
        system = { bytes = 157286400, sessions = 15 },
        eviction = chooser,
        sample_interval = 0.5,
        deadlines = DEFAULT_DEADLINES,
        on_session_open = open, on_sample = sample, on_reload = reload,
      }, policy)
      assert.equals(open, policy.on_session_open)
      assert.equals(chooser, policy.eviction)
    end)

    it("is a new table; the one passed in is left as it was", function()
      local limits = { bytes = "1KB" }
      local policy = { limits = limits }
      local out = validate(policy)
      assert.are_not.equal(policy, out)
      assert.are_not.equal(limits, out.limits)
      assert.same({ limits = { bytes = "1KB" } }, policy)
    end)

    it("must be a table", function()
      assert.equals("a policy must return a table, got nil", error_of(validate, nil))
      assert.equals("a policy must return a table, got string", error_of(validate, "x"))
    end)
  end)

  describe("unknown fields", function()
    it("are an error, with the closest known field when it looks like a typo", function()
      assert.equals("unknown field 'limts' (did you mean 'limits'?)",
        error_of(validate, { limts = { entries = 1 } }))
      assert.equals("unknown field 'Limits' (did you mean 'limits'?)",
        error_of(validate, { Limits = {} }))
      assert.equals("unknown field 'sampel_interval' (did you mean 'sample_interval'?)",
        error_of(validate, { limits = {}, sampel_interval = 1 }))
      assert.equals("unknown field 'on_sampel' (did you mean 'on_sample'?)",
        error_of(validate, { limits = {}, on_sampel = print }))
    end)

    it("get no suggestion when nothing is close", function()
      assert.equals("unknown field 'color'",
        error_of(validate, { limits = {}, color = "red" }))
    end)

    it("are found inside limits and system too", function()
      assert.equals("limits: unknown field 'byts' (did you mean 'bytes'?)",
        error_of(validate, { limits = { byts = 1 } }))
      assert.equals("system: unknown field 'session' (did you mean 'sessions'?)",
        error_of(validate, { limits = {}, system = { session = 1 } }))
      assert.equals("limits: unknown field 'ttl'",
        error_of(validate, { limits = { ttl = 5 } }))
    end)

    it("include keys that are not names", function()
      assert.equals("unknown field [1]", error_of(validate, { "lru", limits = {} }))
      assert.equals("limits: unknown field [1]", error_of(validate, { limits = { 10 } }))
    end)

    it("are reported in a fixed order, names first", function()
      assert.equals("unknown field 'a'", error_of(validate, { limits = {}, b = 1, a = 1, [2] = 1 }))
    end)

    it("are reported before a missing or wrong field", function()
      assert.equals("unknown field 'limts' (did you mean 'limits'?)",
        error_of(validate, { limts = {}, name = 1 }))
    end)
  end)

  describe("name and version", function()
    it("are a string and a number", function()
      assert.same("x", validate { limits = {}, name = "x" }.name)
      assert.same(1.5, validate { limits = {}, version = 1.5 }.version)
      assert.equals("name: expected a string, got number", error_of(validate, { limits = {}, name = 1 }))
      assert.equals("version: expected a number, got string",
        error_of(validate, { limits = {}, version = "1" }))
    end)
  end)

  describe("limits", function()
    it("is required", function()
      assert.equals("limits is required", error_of(validate, {}))
      assert.equals("limits is required", error_of(validate, { name = "x" }))
    end)

    it("is a table or a function", function()
      assert.equals("limits: expected a table or a function, got string",
        error_of(validate, { limits = "10MB" }))
    end)

    it("as a function is kept as it is, for the host to call per session", function()
      local f = function(name) return { entries = #name } end
      assert.equals(f, validate { limits = f }.limits)
    end)

    it("may be empty", function()
      assert.same({}, validate { limits = {} }.limits)
    end)

    it("has bytes as a size, in integer bytes", function()
      assert.equals(1536, validate { limits = { bytes = "1.5KB" } }.limits.bytes)
      assert.equals(4096, validate { limits = { bytes = 4096 } }.limits.bytes)
      assert.equals('limits.bytes: invalid size "10XB": ' .. SIZE_HELP,
        error_of(validate, { limits = { bytes = "10XB" } }))
      assert.equals('limits.bytes: invalid size "1.3B": not a whole number of bytes',
        error_of(validate, { limits = { bytes = "1.3B" } }))
      assert.equals("limits.bytes: invalid size -1: expected a non-negative whole number of bytes",
        error_of(validate, { limits = { bytes = -1 } }))
    end)

    it("has bytes of at least 1 (the engine would read 0 as no limit)", function()
      assert.equals("limits.bytes: must be at least 1 byte, got 0",
        error_of(validate, { limits = { bytes = "0KB" } }))
    end)

    it("has entries as a whole number of at least 1", function()
      assert.equals(20, validate { limits = { entries = 20 } }.limits.entries)
      local n = validate { limits = { entries = 20.0 } }.limits.entries
      assert.equals("integer", math.type(n))
      assert.equals("limits.entries: expected a whole number of at least 1, got 0",
        error_of(validate, { limits = { entries = 0 } }))
      assert.equals("limits.entries: expected a whole number of at least 1, got 1.5",
        error_of(validate, { limits = { entries = 1.5 } }))
      assert.equals("limits.entries: expected a whole number, got string",
        error_of(validate, { limits = { entries = "20" } }))
    end)

    it("may carry its own eviction, with no default of its own", function()
      assert.equals("size", validate { limits = { eviction = "size" } }.limits.eviction)
      assert.is_nil(validate { limits = {} }.limits.eviction)
      assert.equals('limits.eviction: unknown strategy "fifo": expected lru, lfu, ttl, size, sieve, s3fifo or a function',
        error_of(validate, { limits = { eviction = "fifo" } }))
    end)
  end)

  describe("validate.limits", function()
    it("normalizes what a limits function returned", function()
      local chooser = function() end
      assert.same({ bytes = 1048576, entries = 5, eviction = chooser },
        validate.limits { bytes = "1MB", entries = 5, eviction = chooser })
    end)

    it("names the field under limits", function()
      assert.equals('limits.bytes: invalid size "10XB": ' .. SIZE_HELP,
        error_of(validate.limits, { bytes = "10XB" }))
      assert.equals("limits: unknown field 'entires' (did you mean 'entries'?)",
        error_of(validate.limits, { entires = 1 }))
    end)

    it("needs a table", function()
      assert.equals("limits: expected a table, got nil", error_of(validate.limits, nil))
      assert.equals("limits: expected a table, got function", error_of(validate.limits, print))
    end)
  end)

  describe("system", function()
    it("has bytes as a size and sessions as a whole number of at least 1", function()
      assert.same({ bytes = 1073741824, sessions = 3 },
        validate { limits = {}, system = { bytes = "1GB", sessions = 3 } }.system)
      assert.same({}, validate { limits = {}, system = {} }.system)
      assert.is_nil(validate { limits = {} }.system)
      assert.equals('system.bytes: invalid size "lots": ' .. SIZE_HELP,
        error_of(validate, { limits = {}, system = { bytes = "lots" } }))
      assert.equals("system.sessions: expected a whole number of at least 1, got 0",
        error_of(validate, { limits = {}, system = { sessions = 0 } }))
      assert.equals("system: expected a table, got number",
        error_of(validate, { limits = {}, system = 5 }))
    end)
  end)

  describe("eviction", function()
    it("is lru by default", function()
      assert.equals("lru", validate { limits = {} }.eviction)
    end)

    it("is one of the built-in strategies", function()
      for _, name in ipairs { "lru", "lfu", "ttl", "size", "sieve", "s3fifo" } do
        assert.equals(name, validate { limits = {}, eviction = name }.eviction)
      end
      assert.equals('eviction: unknown strategy "LRU": expected lru, lfu, ttl, size, sieve, s3fifo or a function',
        error_of(validate, { limits = {}, eviction = "LRU" }))
    end)

    it("or a chooser function, kept as it is", function()
      local chooser = function(candidates) return candidates[1] end
      assert.equals(chooser, validate { limits = {}, eviction = chooser }.eviction)
    end)

    it("is nothing else", function()
      assert.equals("eviction: expected a strategy name or a function, got table",
        error_of(validate, { limits = {}, eviction = {} }))
    end)
  end)

  describe("validate.strategies", function()
    it("lists the built-in strategy names", function()
      assert.same({ "lru", "lfu", "ttl", "size", "sieve", "s3fifo" }, validate.strategies)
    end)

    it("is a copy: changing it does not change what validates", function()
      local strategies = validate.strategies
      strategies[#strategies + 1] = "fifo"
      finally(function() strategies[#strategies] = nil end)
      assert.has_error(function() validate { limits = {}, eviction = "fifo" } end)
    end)
  end)

  describe("sample_interval", function()
    it("is 1 second by default", function()
      assert.equals(1, validate { limits = {} }.sample_interval)
    end)

    it("is a duration, in seconds", function()
      assert.equals(0.1, validate { limits = {}, sample_interval = "100ms" }.sample_interval)
      assert.equals(5, validate { limits = {}, sample_interval = 5 }.sample_interval)
      assert.equals(3600, validate { limits = {}, sample_interval = "1h" }.sample_interval)
      assert.equals('sample_interval: invalid duration "5x": expected a number with ms, s, m or h',
        error_of(validate, { limits = {}, sample_interval = "5x" }))
    end)

    it("is greater than 0 and at most 1 hour", function()
      assert.equals("sample_interval: must be greater than 0",
        error_of(validate, { limits = {}, sample_interval = "0s" }))
      assert.equals("sample_interval: must be greater than 0",
        error_of(validate, { limits = {}, sample_interval = 0 }))
      assert.equals("sample_interval: must be at most 1 hour (3600 seconds), got 7200",
        error_of(validate, { limits = {}, sample_interval = "2h" }))
      assert.equals("sample_interval: must be at most 1 hour (3600 seconds), got 3600.5",
        error_of(validate, { limits = {}, sample_interval = 3600.5 }))
    end)
  end)

  describe("deadlines", function()
    it("default to 50 ms a sample, 5 ms a session open or limits call, 1 ms a chooser call",
      function()
        assert.same(DEFAULT_DEADLINES, validate { limits = {} }.deadlines)
      end)

    it("are durations; the ones not given keep their defaults", function()
      local d = validate { limits = {}, deadlines = { sample = "200ms", chooser = 0.002 } }.deadlines
      assert.same({ sample = 0.2, session_open = 0.005, limits = 0.005, chooser = 0.002 }, d)
    end)

    it("are greater than 0 and within their bounds", function()
      assert.equals("deadlines.sample: must be greater than 0",
        error_of(validate, { limits = {}, deadlines = { sample = 0 } }))
      assert.equals("deadlines.sample: must be at most 1000 ms, got 2000 ms",
        error_of(validate, { limits = {}, deadlines = { sample = "2s" } }))
      assert.equals("deadlines.session_open: must be at most 100 ms, got 200 ms",
        error_of(validate, { limits = {}, deadlines = { session_open = "200ms" } }))
      assert.equals("deadlines.limits: must be at most 100 ms, got 101 ms",
        error_of(validate, { limits = {}, deadlines = { limits = "101ms" } }))
      assert.equals("deadlines.chooser: must be at most 10 ms, got 11 ms",
        error_of(validate, { limits = {}, deadlines = { chooser = "11ms" } }))
      assert.equals("deadlines: unknown field 'choser' (did you mean 'chooser'?)",
        error_of(validate, { limits = {}, deadlines = { choser = "1ms" } }))
      assert.equals("deadlines: expected a table, got string",
        error_of(validate, { limits = {}, deadlines = "1s" }))
    end)
  end)

  describe("hooks", function()
    it("on_session_open, on_sample and on_reload are functions", function()
      for _, hook in ipairs { "on_session_open", "on_sample", "on_reload" } do
        local f = function() end
        assert.equals(f, validate { limits = {}, [hook] = f }[hook])
        assert.equals(hook .. ": expected a function, got string",
          error_of(validate, { limits = {}, [hook] = "f" }))
        assert.equals(hook .. ": expected a function, got boolean",
          error_of(validate, { limits = {}, [hook] = false }))
      end
    end)
  end)
end)
