-- A policy's work is bounded (DESIGN.md §6): every call into it has an
-- instruction budget and a deadline, and the library functions whose work
-- is more than one instruction charge that work to the budget before doing
-- it. Deadlines are shown on a clock that moves a fixed step each time it
-- is read (hook_clock_step), so these specs behave the same on any machine.
local core = require "policyd.core"
local testing = require "policyd.testing"

local valid = 'return { limits = { entries = 20 } }\n'

local function load_error(body, opts)
  local p, err = core.policy(testing.policy_file(body .. "\n" .. valid), opts)
  assert.is_nil(p)
  return err
end

-- Runs `expr` (Lua source) at load and returns what it gave, as text
-- (strings quoted, so a "\0" survives the trip through the policy's name).
local function in_policy(expr)
  local path = testing.policy_file(([[
local results = table.pack(%s)
local out = {}
for i = 1, results.n do
  local v = results[i]
  out[i] = type(v) == "string" and ("%%q"):format(v) or tostring(v)
end
return { name = table.concat(out, "|"), limits = { entries = 1 } }
]]):format(expr))
  local p = assert(core.policy(path))
  local name = p:info().name
  p:close()
  return name
end

local function here(...)
  local out = table.pack(...)
  for i = 1, out.n do
    local v = out[i]
    out[i] = type(v) == "string" and ("%q"):format(v) or tostring(v)
  end
  return table.concat(out, "|")
end

describe("a policy's work", function()
  after_each(testing.remove_policy_files)

  describe("in library functions, charged before it is done", function()
    it("table.move, unpack and concat by the elements they would touch", function()
      for _, expr in ipairs {
        "table.move({}, 1, 1 << 40, 2)",
        "table.move({}, math.mininteger, math.maxinteger, 1)",
        "table.unpack({}, 1, 1e8)",
        "table.concat({}, '', 1, 1 << 40)",
      } do
        assert.matches("instruction budget exceeded", load_error(expr), 1, true)
      end
    end)

    it("table.insert and remove by the elements they shift", function()
      assert.matches("instruction budget exceeded",
        load_error("local t = {} for i = 1, 20000 do table.insert(t, 1, i) end"), 1, true)
      assert.matches("instruction budget exceeded", load_error(
        "local t = table.move({}, 1, 0, 1, {}) for i = 1, 20000 do t[i] = i end " ..
        "for _ = 1, 20000 do table.remove(t, 1); t[#t + 1] = 0 end"), 1, true)
    end)

    it("table.sort by n log n comparisons, and never for a table with __len", function()
      local err = load_error(
        "local t = {} for i = 1, 300000 do t[i] = -i end for _ = 1, 3 do table.sort(t) end")
      assert.matches("instruction budget exceeded", err, 1, true)
      err = load_error("table.sort(setmetatable({}, { __len = function() return 1 << 40 end }))")
      assert.matches("table.sort: not for a table with __len in a policy", err, 1, true)
    end)

    it("string.rep by the bytes it would make, up to the longest string a policy holds", function()
      assert.matches("string.rep: a result of 1073741824 bytes (a policy's strings hold at most "
        .. "1048576)", load_error('local s = ("x"):rep(1 << 30)'), 1, true)
      assert.matches("string.rep: a result of", load_error('("x"):rep(1 << 62, "yy")'), 1, true)
      assert.equals("1048576", in_policy('#("x"):rep(1 << 20)'))
      assert.matches("not enough memory", load_error('local s = ("x"):rep(1 << 20) .. "y"'), 1, true)
    end)

    it("the pattern functions by each step of the matcher", function()
      local subject = 'local s = ("a"):rep(100000) '
      for _, expr in ipairs {
        subject .. 's:find(".-.-.-b")',
        subject .. 's:match(("a*"):rep(5) .. "b")',
        subject .. 's:gsub("a-a-a-b", "")',
        subject .. 'for _ in s:gmatch("a*a*b") do end',
        subject .. 's:find("(a*)%1b")',
      } do
        assert.matches("instruction budget exceeded", load_error(expr), 1, true)
      end
    end)

    it("load by the bytes it compiles", function()
      assert.matches("instruction budget exceeded",
        load_error('local src = ("x = 1 "):rep(150000) for _ = 1, 100 do load(src) end'), 1, true)
    end)

    it("and collectgarbage does nothing but count", function()
      assert.matches("^%d", in_policy('collectgarbage("count")'))
      for _, opt in ipairs { "", '"collect"', '"step"', '"stop"', '"incremental"' } do
        assert.matches('collectgarbage: only "count" in a policy',
          load_error(("collectgarbage(%s)"):format(opt)), 1, true)
      end
    end)
  end)

  describe("in patterns, matched as Lua matches them", function()
    local cases = {
      { "hello world", "o w" }, { "hello world", "o", 6 }, { "hello", "l+" },
      { "key=val", "(%w+)=(%w+)" }, { "THE (quick) fox", "%((%a+)%)" },
      { "f(a(b)c) d", "%b()" }, { "THE (quick) fox", "%f[%a]%a+", 5 },
      { "  trim  ", "^%s*(.-)%s*$" }, { "abc", "()b()" }, { "a.b", ".", 1, true },
      { "aaa", "a-" }, { "aaa", "a-$" }, { "x=1, y=22", "(%a)=(%d+)" },
      { "abcabc", "(abc)%1" }, { "[x]", "[%]x[]+" }, { "^a", "^^a" }, { "a$b", "a$b" },
      { "caf\xc3\xa9", "[\x80-\xff]+" }, { "a\0b", "%z?b" }, { "", "" }, { "abc", "", 10 },
      { "abc", "b", -1 }, { "abc", "b", -10 },
    }

    it("find and match", function()
      for _, c in ipairs(cases) do
        local s, p, init, plain = c[1], c[2], c[3], c[4]
        local args = ("%q, %q, %s, %s"):format(s, p, tostring(init), tostring(plain))
        assert.equals(here(string.find(s, p, init, plain)),
          in_policy(("string.find(%s)"):format(args)), args)
        assert.equals(here(string.match(s, p, init)),
          in_policy(("string.match(%q, %q, %s)"):format(s, p, tostring(init))), args)
      end
    end)

    it("gsub and gmatch", function()
      for _, c in ipairs(cases) do
        local s, p = c[1], c[2]
        assert.equals(here(string.gsub(s, p, "<%0>")),
          in_policy(("string.gsub(%q, %q, '<%%0>')"):format(s, p)), p)
        local words = {}
        for a, b in string.gmatch(s, p) do words[#words + 1] = here(a, b) end
        assert.equals(("%q"):format(table.concat(words, ";")), in_policy(([[
          (function() local w = {}
            for a, b in string.gmatch(%q, %q) do
              local r = { a, b }
              for i = 1, 2 do
                r[i] = type(r[i]) == "string" and ("%%q"):format(r[i]) or tostring(r[i])
              end
              w[#w + 1] = r[1] .. "|" .. r[2]
            end
            return table.concat(w, ";") end)()]]):format(s, p)), p)
      end
    end)

    it("with Lua's errors for malformed patterns", function()
      for _, p in ipairs { "%", "[a", "(", ")", "%b", "%f", "%1", "(()", "%g%9", "%ba" } do
        local ok, want = pcall(string.match, "abc", p)
        assert.is_false(ok)
        assert.matches(want, load_error(("string.match('abc', %q)"):format(p)), 1, true)
      end
    end)
  end)

  describe("against a deadline", function()
    local step = { hook_clock_step = 0.001 } -- each reading of the clock: 1 ms

    it("stops a load that runs a second", function()
      local err = load_error("while true do end", { instr_budget = 1e12, hook_clock_step = 0.001 })
      assert.matches("deadline exceeded (1000 ms)", err, 1, true)
    end)

    it("stops a sample at 50 ms, inside pcall too, and counts it", function()
      local e = testing.engine {
        hook_clock_step = step.hook_clock_step,
        policy = testing.policy_file [[
return {
  limits = { entries = 10 },
  on_sample = function() while true do pcall(function() while true do end end) end end,
}]],
      }
      e:advance(1)
      assert.equals(1, e:policy().hook_errors)
      assert.matches("deadline exceeded (50 ms)", e:policy().last_error, 1, true)
      e:close()
    end)

    it("gives a sample what the policy's deadlines field asks, within its bound", function()
      local source = [[
return {
  limits = { entries = 10 },
  deadlines = %s,
  on_sample = function() for _ = 1, 100000 do end end, -- about 100 readings
}]]
      for deadline, errors in pairs { ["nil"] = 1, ['{ sample = "500ms" }'] = 0 } do
        local e = testing.engine {
          hook_clock_step = step.hook_clock_step,
          policy = testing.policy_file(source:format(deadline)),
        }
        e:advance(1)
        assert.equals(errors, e:policy().hook_errors, deadline)
        e:close()
      end
    end)

    it("stops a chooser at 1 ms; the session evicts by lru for that write", function()
      local e = testing.engine {
        hook_clock_step = step.hook_clock_step,
        policy = testing.policy_file [[
return {
  limits = { entries = 2 },
  eviction = function(candidates) while true do end end,
}]],
      }
      local s = e:session("alice")
      s:set("a", "1"); s:set("b", "2"); s:set("c", "3")
      assert.is_false(s:exists("a"))
      assert.is_true(s:exists("b") and s:exists("c"))
      assert.matches("deadline exceeded (1 ms)", e:policy().last_error, 1, true)
      e:close()
    end)

    it("stops a limits function at 5 ms: the write is refused, no session made", function()
      local e = testing.engine {
        hook_clock_step = step.hook_clock_step,
        policy = testing.policy_file "return { limits = function(name) while true do end end }",
      }
      local ok, err = e:session("alice"):set("k", "v")
      assert.is_nil(ok)
      assert.matches("deadline exceeded (5 ms)", err, 1, true)
      assert.is_nil(e:session("alice"):info())
      e:close()
    end)

    it("stops on_session_open at 5 ms: counted, the session keeps the policy's limits", function()
      local e = testing.engine {
        hook_clock_step = step.hook_clock_step,
        policy = testing.policy_file [[
return { limits = { entries = 2 }, on_session_open = function() while true do end end }]],
      }
      assert.is_true(e:session("alice"):set("k", "v"))
      assert.equals(2, e:session("alice"):info().limit_entries)
      assert.matches("deadline exceeded (5 ms)", e:policy().last_error, 1, true)
      e:close()
    end)

    it("counts the clock in library work too: a pattern past the deadline stops", function()
      local e = testing.engine {
        hook_clock_step = step.hook_clock_step,
        policy = testing.policy_file [[
local s = ("a"):rep(5000)
return {
  limits = { entries = 10 },
  on_sample = function() for _ = 1, 10 do s:find("a-b") end end,
}]],
      }
      e:advance(1)
      assert.matches("deadline exceeded (50 ms)", e:policy().last_error, 1, true)
      e:close()
    end)
  end)
end)
