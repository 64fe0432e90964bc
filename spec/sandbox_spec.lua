-- The policy sandbox (DESIGN.md §6): what a policy file may and may not do
-- when it is loaded. Each case writes a small policy and loads it with the
-- real policy host.
local core = require "policyd.core"
local testing = require "policyd.testing"

local policy_file = testing.policy_file

local function load_error(body, opts)
  local path = policy_file(body)
  local p, err = core.policy(path, opts)
  assert.is_nil(p)
  return err, path
end

local valid = 'return { limits = { bytes = "10MB", entries = 20 } }\n'

describe("the policy sandbox", function()
  teardown(testing.remove_policy_files)

  it("loads a valid policy and reports what it set", function()
    local p = assert(core.policy(policy_file(valid)))
    local info = p:info()
    assert.equals(10 * 1024 * 1024, info.limit_bytes)
    assert.equals(20, info.limit_entries)
    assert.equals("lru", info.strategy)
    assert.is_true(info.lua_bytes > 0)
    p:close()
  end)

  it("has no io, os, debug or package", function()
    for _, lib in ipairs { "io", "os", "debug", "package" } do
      local err, path = load_error(("local x = %s.anything\n"):format(lib) .. valid)
      assert.matches(path .. ":1:", err, 1, true)
      assert.matches("global '" .. lib .. "'", err, 1, true)
    end
  end)

  it("refuses os.execute", function()
    local err = load_error('os.execute("true")\n' .. valid)
    assert.matches("global 'os'", err, 1, true)
  end)

  it("refuses binary chunks and string.dump", function()
    local err = load_error('local f = load("\\27Lua", "x", "b")\n' .. valid)
    assert.matches("binary chunks are not allowed", err, 1, true)
    err = load_error('local d = string.dump(function() end)\n' .. valid)
    assert.matches("dump", err, 1, true)
  end)

  it("allows load of text chunks", function()
    local p = assert(core.policy(policy_file(
      'local n = load("return 20")()\nreturn { limits = { entries = n } }\n')))
    assert.equals(20, p:info().limit_entries)
    p:close()
  end)

  it("limits require to policyd helpers and files beside the policy", function()
    local err = load_error('local socket = require "socket"\n' .. valid)
    assert.matches("module 'socket' not found", err, 1, true)
    err = load_error('local x = require "../etc/passwd"\n' .. valid)
    assert.matches("is not available to a policy", err, 1, true)
    local helper = policy_file('return { entries = 7 }\n')
    local name = helper:match("([^/]+)%.lua$")
    local p = assert(core.policy(policy_file(
      ('local h = require %q\nreturn { limits = { entries = h.entries } }\n'):format(name))))
    assert.equals(7, p:info().limit_entries)
    p:close()
  end)

  it("refuses new globals, and changes to existing ones", function()
    local err = load_error('type = function() return "table" end\n' .. valid)
    assert.matches("assignment to global 'type'", err, 1, true)
    err = load_error('require = nil\n' .. valid)
    assert.matches("assignment to global 'require'", err, 1, true)
  end)

  it("keeps libraries and the policyd helpers read-only", function()
    local err = load_error('math.type = function() return "integer" end\n' .. valid)
    assert.matches("read-only", err, 1, true)
    err = load_error('rawset(string, "format", print)\n' .. valid)
    assert.matches("read-only", err, 1, true)
    err = load_error('getmetatable("").__index = {}\n' .. valid)
    assert.matches("attempt to index a boolean", err, 1, true)
    err = load_error('require("policyd.act").new = function() end\n' .. valid)
    assert.matches("read-only", err, 1, true)
    err = load_error('require("policyd.validate").limits = nil\n' .. valid)
    assert.matches("read-only", err, 1, true)
    -- Reading and iterating them still works.
    local p = assert(core.policy(policy_file(
      'local n = 0 for _ in pairs(string) do n = n + 1 end\n' ..
      'return { limits = { entries = n > 10 and 20 or 1 } }\n')))
    assert.equals(20, p:info().limit_entries)
    p:close()
  end)

  it("refuses __gc finalizers, which would run outside the budget", function()
    local err = load_error('setmetatable({}, { __gc = function() while true do end end })\n' .. valid)
    assert.matches("__gc finalizers are not allowed", err, 1, true)
  end)

  it("refuses new globals, also through rawset", function()
    local err, path = load_error('x = 1\n' .. valid)
    assert.matches(path .. ":1: assignment to global 'x'", err, 1, true)
    err = load_error('rawset(_G, "y", 1)\n' .. valid)
    assert.matches("rawset: this table is read-only", err, 1, true)
    err = load_error('setmetatable(_G, nil)\n' .. valid)
    assert.matches("protected metatable", err, 1, true)
  end)

  it("stops an infinite loop, even inside pcall", function()
    local err = load_error('while true do end\n' .. valid, { instr_budget = 100000 })
    assert.matches("instruction budget exceeded", err, 1, true)
    err = load_error(
      'while true do pcall(function() while true do end end) end\n' .. valid,
      { instr_budget = 100000 })
    assert.matches("instruction budget exceeded", err, 1, true)
  end)

  it("stops a memory bomb with a Lua memory error", function()
    local err = load_error('local s = ("x"):rep(1024 * 1024 * 1024)\n' .. valid,
      { mem_cap = 16 * 1024 * 1024 })
    assert.matches("string.rep: a result of 1073741824 bytes", err, 1, true)
    err = load_error(
      'local t = {} for i = 1, 1e9 do t[i] = ("y"):rep(1000) .. i end\n' .. valid,
      { mem_cap = 16 * 1024 * 1024 })
    assert.matches("not enough memory", err, 1, true)
  end)

  it("reports syntax errors as file:line: message", function()
    local err, path = load_error('return {\n limits = { entries = 20 \n')
    assert.matches("^" .. path:gsub("%p", "%%%0") .. ":3:", err)
  end)

  it("requires a table", function()
    local err, path = load_error('return 42\n')
    assert.equals(path .. ":1: a policy must return a table, not number", err)
  end)
end)

describe("policy validation errors", function()
  it("point at the line of the field", function()
    local path = testing.policy_file('return {\n  limits = { entries = 20 },\n  limts = 5,\n}\n')
    local p, err = core.policy(path)
    testing.remove_policy_files()
    assert.is_nil(p)
    assert.equals(path .. ":3: unknown field 'limts' (did you mean 'limits'?)", err)
  end)
end)
