-- Policy hooks (DESIGN.md §6, §7): on_sample with its snapshot and actions,
-- alerts, act.state, hook failures and degradation, reload, and
-- on_session_open, on the real engine driven by the fake clock.
--
-- Each case writes the small policy it needs into a temporary file. Policies
-- that report what they saw do it through act.log: the spec reads the log
-- actions back with e:actions(), so a snapshot can be checked field by field.
local testing = require "policyd.testing"

local MB = 1024 * 1024
local DENIED = "writes to this session are denied by policy"

-- A prelude for policies: record(snap, act) logs the snapshot as Lua
-- literals the spec loads back, one message for the time and the system and
-- one per session (a log message is short, so not all of it in one).
local RECORD = [=[
local SYSTEM_FIELDS = { "bytes", "allocated", "resident", "sessions", "limit_bytes",
  "limit_sessions" }
local SESSION_FIELDS = { "name", "bytes", "entries", "limit_bytes", "limit_entries", "hits",
  "misses", "evictions", "expirations", "growth_bytes_per_min", "idle_seconds",
  "age_seconds", "writes_denied" }
local function dump(t, fields)
  local parts = {}
  for _, f in ipairs(fields) do
    local v = t[f]
    if type(v) == "string" or type(v) == "number" then
      v = string.format("%q", v)
    else
      v = tostring(v)
    end
    parts[#parts + 1] = f .. " = " .. v
  end
  return "{ " .. table.concat(parts, ", ") .. " }"
end
local function record(snap, act)
  act.log("info", ("snap { time = %q, system = %s }"):format(snap.time,
    dump(snap.system, SYSTEM_FIELDS)))
  for _, s in ipairs(snap.sessions) do
    act.log("info", "snap+ " .. dump(s, SESSION_FIELDS))
  end
end
]=]

-- on_sample for a recording policy.
local RECORDING = [=[
  on_sample = function(snap, act) record(snap, act) end,
]=]

local engines = {}
local policy_file = testing.policy_file

-- An engine running the policy `body`; closed after the test.
local function engine(body)
  local e = testing.engine { policy = policy_file(body) }
  engines[#engines + 1] = e
  return e
end

local function key(i)
  return ("k%03d"):format(i) -- fixed width: every entry the same size
end

local function fill(s, n, size, from)
  from = from or 1
  for i = from, from + n - 1 do
    assert.is_true(s:set(key(i), ("x"):rep(size or 10)))
  end
end

-- The session's byte count is exact: the inline figure equals jemalloc's.
local function assert_exact(s)
  local info = s:info()
  assert.equals(info.arena_bytes, info.bytes)
end

-- The items of list whose field equals value.
local function where(list, field, value)
  local out = {}
  for _, item in ipairs(list) do
    if item[field] == value then out[#out + 1] = item end
  end
  return out
end

-- e:actions() restricted to one op.
local function actions_of(e, op)
  return where(e:actions(), "op", op)
end

local function recorded(message)
  return message:match("^snap ") or message:match("^snap%+ ")
end

-- The messages of the log actions, in order, but for recorded snapshots.
local function logs(e)
  local out = {}
  for _, a in ipairs(actions_of(e, "log")) do
    if not recorded(a.message) then out[#out + 1] = a.message end
  end
  return out
end

-- The snapshots a recording policy logged, in order: each { time, system,
-- sessions }, the sessions in the order the policy saw them.
local function snapshots(e)
  local out = {}
  for _, a in ipairs(actions_of(e, "log")) do
    local head, rest = a.message:match("^(snap%+?) (.*)$")
    if head then
      local value = assert(load("return " .. rest, "=" .. head, "t", {}))()
      if head == "snap" then
        value.sessions = {}
        out[#out + 1] = value
      else
        local sessions = out[#out].sessions
        sessions[#sessions + 1] = value
      end
    end
  end
  return out
end

local function names(snap)
  local out = {}
  for i, s in ipairs(snap.sessions) do out[i] = s.name end
  return out
end

local function session_in(snap, name)
  for _, s in ipairs(snap.sessions) do
    if s.name == name then return s end
  end
end

local function alerts_of(e, kind)
  return where(e:alerts(), "kind", kind)
end

-- Least-squares slope of {time, bytes} points, in bytes per minute.
local function slope_per_min(points)
  local n = #points
  if n < 2 then return 0 end
  local st, sb = 0, 0
  for _, p in ipairs(points) do st, sb = st + p[1], sb + p[2] end
  local mt, mb = st / n, sb / n
  local num, den = 0, 0
  for _, p in ipairs(points) do
    num = num + (p[1] - mt) * (p[2] - mb)
    den = den + (p[1] - mt) ^ 2
  end
  return num / den * 60
end

after_each(function()
  for _, e in ipairs(engines) do e:close() end
  testing.remove_policy_files()
  engines = {}
end)

describe("on_sample", function()
  it("runs every sample_interval, the first one interval after the engine starts", function()
    local e = engine(RECORD .. [=[
return {
  limits = { entries = 100 },
  sample_interval = "500ms",
]=] .. RECORDING .. [=[
}
]=])
    e:advance(0.4)
    assert.same({}, snapshots(e))
    e:advance(0.1)
    e:advance(1.5)
    e:sample() -- one more, now
    local times = {}
    for i, snap in ipairs(snapshots(e)) do times[i] = snap.time end
    assert.same({ 0.5, 1, 1.5, 2, 2 }, times)
  end)

  it("runs one sample per second by default", function()
    local e = engine(RECORD .. "return { limits = { entries = 100 },\n" .. RECORDING .. "}\n")
    e:advance(3)
    local times = {}
    for i, snap in ipairs(snapshots(e)) do times[i] = snap.time end
    assert.same({ 1, 2, 3 }, times)
  end)
end)

describe("the snapshot", function()
  local e
  before_each(function()
    e = engine(RECORD .. [=[
return {
  limits = { bytes = "1MB", entries = 100 },
  system = { bytes = "150MB", sessions = 15 },
]=] .. RECORDING .. [=[
}
]=])
  end)

  it("lists the sessions sorted by name, whatever the order they were created in", function()
    fill(e:session("carol"), 2)
    fill(e:session("alice"), 3)
    e:advance(1)
    fill(e:session("bob"), 1)
    e:advance(1)
    local snaps = snapshots(e)
    assert.equals(2, #snaps)
    assert.same({ "alice", "carol" }, names(snaps[1]))
    assert.same({ "alice", "bob", "carol" }, names(snaps[2]))
  end)

  it("carries each session's figures, as s:info() gives them", function()
    local alice, bob = e:session("alice"), e:session("bob")
    fill(alice, 3, 100)                     -- t = 0
    assert.equals(("x"):rep(100), alice:get(key(1)))
    assert.equals(("x"):rep(100), alice:get(key(2)))
    assert.is_nil(alice:get("missing"))
    e:advance(1)
    fill(bob, 1, 100)                       -- t = 1
    e:advance(1)                            -- the sample at t = 2
    local snap = snapshots(e)[2]
    assert.equals(2, snap.time)

    local a, b = session_in(snap, "alice"), session_in(snap, "bob")
    assert.same({ 3, 2, 1, 0, 0, MB, 100, 2, 2, false },
      { a.entries, a.hits, a.misses, a.evictions, a.expirations, a.limit_bytes,
        a.limit_entries, a.age_seconds, a.idle_seconds, a.writes_denied })
    assert.same({ 1, 0, 0, 1, 1 },
      { b.entries, b.hits, b.misses, b.age_seconds, b.idle_seconds })
    assert.is_true(a.bytes > 300)

    -- No time has passed since: the session's own figures are the same.
    for _, s in ipairs { alice, bob } do
      local info, seen = s:info(), session_in(snap, s.name)
      for _, field in ipairs { "bytes", "entries", "limit_bytes", "limit_entries", "hits",
          "misses", "evictions", "expirations", "idle_seconds", "age_seconds",
          "writes_denied" } do
        assert.equals(info[field], seen[field], s.name .. "." .. field)
      end
    end
  end)

  it("carries the system's figures and budget", function()
    fill(e:session("alice"), 3, 100)
    fill(e:session("bob"), 5, 200)
    e:sample()
    local system = snapshots(e)[1].system
    local alice, bob = e:session("alice"):info(), e:session("bob"):info()
    assert.equals(alice.bytes + bob.bytes, system.bytes)
    assert.equals(e:info().bytes, system.bytes)
    assert.equals(2, system.sessions)
    assert.equals(150 * MB, system.limit_bytes)
    assert.equals(15, system.limit_sessions)
    assert.is_true(system.allocated >= system.bytes)
    assert.is_true(system.resident > 0)
  end)

  it("has growth_bytes_per_min, the least-squares slope of the last 10 samples", function()
    local s = e:session("alice")
    for i = 1, 5 do                         -- one 1,000-byte value before each
      fill(s, 1, 1000, i)                   -- of the samples at t = 1 .. 5
      e:advance(1)
    end
    e:advance(10)                           -- t = 6 .. 15: no change
    for i = 1, 3 do                         -- t = 16 .. 18: one key less each
      assert.is_true(s:del(key(i)))
      e:advance(1)
    end
    local snaps = snapshots(e)
    assert.equals(18, #snaps)

    local points, growth = {}, {}
    for k, snap in ipairs(snaps) do
      local seen = session_in(snap, "alice")
      points[k] = { snap.time, seen.bytes }
      growth[k] = seen.growth_bytes_per_min
      local expected = slope_per_min { table.unpack(points, math.max(1, k - 9), k) }
      assert.near(expected, growth[k], 1e-6 + math.abs(expected) * 1e-9, "sample " .. k)
    end

    assert.equals(0, growth[1])             -- a single sample: no slope yet
    -- About one entry a second, 60 a minute: 60 × (1,000 B and overhead).
    assert.is_true(growth[5] > 60 * 1000 and growth[5] < 60 * 2000, tostring(growth[5]))
    assert.is_true(growth[13] > 0)          -- t = 4 .. 13 still sees the growth
    assert.near(0, growth[14], 1e-6)        -- t = 5 .. 14 is flat
    assert.near(0, growth[15], 1e-6)
    assert.is_true(growth[18] < 0)          -- shrinking
  end)
end)

describe("actions", function()
  it("are recorded in e:actions(), in order, with their arguments", function()
    local e = engine([=[
return {
  limits = { bytes = "1MB", entries = 100 },
  on_sample = function(snap, act)
    act.log("info", "hello")
    act.alert("info", "greeting", "alice", "hi")
    act.evict("alice", { bytes = 100 })
    act.evict("bob", { to = 0.5 })
    act.purge("alice")
    act.purge()
    act.deny_writes("carol", true)
    act.set_limits("dave", { bytes = 4096, entries = 2 })
    act.clear("erin")
    act.drop("frank")
  end,
}
]=])
    for _, name in ipairs { "alice", "bob", "carol", "dave", "erin", "frank" } do
      fill(e:session(name), 3)
    end
    e:sample()
    assert.same({
      { op = "log", level = "info", message = "hello" },
      { op = "alert", severity = "info", kind = "greeting", session = "alice", message = "hi" },
      { op = "evict", session = "alice", bytes = 100 },
      { op = "evict", session = "bob", to = 0.5 },
      { op = "purge", session = "alice" },
      { op = "purge" },
      { op = "deny_writes", session = "carol", deny = true },
      { op = "set_limits", session = "dave", limits = { bytes = 4096, entries = 2 } },
      { op = "clear", session = "erin" },
      { op = "drop", session = "frank" },
    }, e:actions())
  end)

  it("evict {bytes = n} evicts until at least n bytes are freed, and no further", function()
    local e = engine([=[
return {
  limits = { bytes = "1MB", entries = 100 },
  eviction = "lru",
  on_sample = function(snap, act) act.evict("alice", { bytes = 2500 }) end,
}
]=])
    local alice, bob = e:session("alice"), e:session("bob")
    fill(alice, 10, 1000)
    fill(bob, 10, 1000)
    local before = alice:info()
    e:sample()
    local after = alice:info()
    local freed = before.bytes - after.bytes
    assert.is_true(freed >= 2500, "freed " .. freed)
    -- and no further: less than one entry more than asked
    assert.is_true(freed < 2500 + before.bytes / 10, "freed " .. freed)
    assert.equals(10 - after.entries, after.evictions)
    assert.is_false(alice:exists(key(1)))   -- least recently used first
    assert.is_true(alice:exists(key(10)))
    assert_exact(alice)
    assert.equals(10, bob:info().entries)
  end)

  it("evict {to = fraction} evicts until bytes <= fraction × limit_bytes", function()
    local e = engine([=[
return {
  limits = { bytes = "64KB", entries = 1000 },
  on_sample = function(snap, act) act.evict("alice", { to = 0.25 }) end,
}
]=])
    local alice = e:session("alice")
    fill(alice, 30, 1000)
    assert.equals(30, alice:info().entries)
    e:sample()
    local info = alice:info()
    assert.is_true(info.bytes <= 0.25 * 64 * 1024, "bytes " .. info.bytes)
    assert.is_true(info.entries >= 1 and info.entries < 30)
    assert.equals(30 - info.entries, info.evictions)
    assert.is_true(alice:exists(key(30)))
    assert_exact(alice)
  end)

  it("purge returns dirty pages and leaves the data alone", function()
    local e = engine([=[
return {
  limits = { bytes = "1MB", entries = 1000 },
  on_sample = function(snap, act)
    act.purge("alice")
    act.purge(nil)
  end,
}
]=])
    local alice = e:session("alice")
    fill(alice, 200, 1000)
    for i = 1, 200, 2 do alice:del(key(i)) end -- leave dirty pages behind
    local before = alice:info()
    e:sample()
    local after = alice:info()
    assert.same({ before.entries, before.bytes }, { after.entries, after.bytes })
    assert.equals(("x"):rep(1000), alice:get(key(2)))
    assert.same({ { op = "purge", session = "alice" }, { op = "purge" } }, e:actions())
    assert_exact(alice)
  end)

  it("clear empties the session and keeps it", function()
    local e = engine([=[
return {
  limits = { bytes = "1MB", entries = 100 },
  on_sample = function(snap, act) act.clear("alice") end,
}
]=])
    local alice, bob = e:session("alice"), e:session("bob")
    fill(alice, 10, 1000)
    fill(bob, 10, 1000)
    local before = alice:info()
    e:sample()
    local info = alice:info()
    assert.is_not_nil(info)                 -- the session stays
    assert.equals(0, info.entries)
    assert.is_true(info.bytes < before.bytes)
    assert.is_false(alice:exists(key(1)))
    assert.equals(MB, info.limit_bytes)
    assert_exact(alice)
    assert.equals(10, bob:info().entries)
    assert.is_true(alice:set("again", "v"))
    assert.equals(1, alice:info().entries)
    assert_exact(alice)
  end)

  it("drop removes the session", function()
    local e = engine(RECORD .. [=[
return {
  limits = { bytes = "1MB", entries = 100 },
  on_sample = function(snap, act)
    record(snap, act)
    if snap.time == 1 then act.drop("alice") end
  end,
}
]=])
    local alice, bob = e:session("alice"), e:session("bob")
    fill(alice, 10, 1000)
    fill(bob, 10, 1000)
    e:advance(2)
    assert.is_nil(alice:info())
    assert.is_nil(alice:get(key(1)))
    assert.is_false(alice:exists(key(1)))
    assert.same({ "bob" }, e:sessions())
    assert.equals(10, bob:info().entries)
    local snaps = snapshots(e)
    assert.same({ "bob" }, names(snaps[2]))
    assert.equals(1, snaps[2].system.sessions)
    assert.equals(bob:info().bytes, snaps[2].system.bytes)
    -- A later write opens a new, empty session.
    assert.is_true(alice:set("k", "v"))
    assert.equals(1, alice:info().entries)
    assert.equals(0, alice:info().evictions)
  end)

  it("deny_writes refuses writes to the session until lifted", function()
    local e = engine(RECORD .. [=[
return {
  limits = { bytes = "1MB", entries = 100 },
  on_sample = function(snap, act)
    record(snap, act)
    act.deny_writes("alice", snap.time < 2)
  end,
}
]=])
    local alice, bob = e:session("alice"), e:session("bob")
    fill(alice, 3)
    fill(bob, 3)
    e:advance(1)                            -- t = 1: denied
    local ok, err = alice:set("new", "v")
    assert.is_nil(ok)
    assert.equals(DENIED, err)
    ok, err = alice:set(key(1), "changed")
    assert.is_nil(ok)
    assert.equals(DENIED, err)
    assert.equals(("x"):rep(10), alice:get(key(1))) -- reads go on
    assert.is_true(alice:info().writes_denied)
    assert.is_true(alice:del(key(3)))       -- deletes still pass: they free memory
    assert.is_true(bob:set("new", "v"))     -- other sessions are not affected
    assert.is_false(bob:info().writes_denied)

    e:advance(1)                            -- t = 2: lifted
    assert.is_true(alice:set("new", "v"))
    assert.is_false(alice:info().writes_denied)
    -- The snapshot shows the session as it was before the hook's actions.
    local snaps = snapshots(e)
    assert.is_false(session_in(snaps[1], "alice").writes_denied)
    assert.is_true(session_in(snaps[2], "alice").writes_denied)
  end)

  it("set_limits gives one session new limits at once, evicting as needed", function()
    local e = engine([=[
return {
  limits = { bytes = "1MB", entries = 100 },
  eviction = "lru",
  on_sample = function(snap, act)
    act.set_limits("alice", { bytes = 512 * 1024, entries = 3, eviction = "lfu" })
  end,
}
]=])
    local alice, bob = e:session("alice"), e:session("bob")
    fill(alice, 10, 1000)
    fill(bob, 10, 1000)
    e:sample()
    local info = alice:info()
    assert.same({ 3, 7, 3, 512 * 1024, "lfu" },
      { info.entries, info.evictions, info.limit_entries, info.limit_bytes, info.strategy })
    assert_exact(alice)
    fill(alice, 2, 1000, 11)
    assert.equals(3, alice:info().entries)
    assert_exact(alice)
    local other = bob:info()
    assert.same({ 10, 0, 100, MB, "lru" },
      { other.entries, other.evictions, other.limit_entries, other.limit_bytes, other.strategy })
  end)

  it("log is recorded and changes nothing else", function()
    local e = engine([=[
return {
  limits = { entries = 100 },
  on_sample = function(snap, act) act.log("warning", "sessions: " .. #snap.sessions) end,
}
]=])
    fill(e:session("alice"), 3)
    e:sample()
    assert.same({ { op = "log", level = "warning", message = "sessions: 1" } }, e:actions())
    assert.equals(3, e:session("alice"):info().entries)
    assert.same({}, e:alerts())
  end)

  it("keep the byte count exact", function()
    local e = engine([=[
return {
  limits = { bytes = "256KB", entries = 1000 },
  on_sample = function(snap, act)
    act.evict("a", { bytes = 5000 })
    act.evict("b", { to = 0.3 })
    act.clear("c")
    act.set_limits("d", { bytes = 8192, entries = 50 })
    act.purge()
  end,
}
]=])
    local sessions = {}
    for _, name in ipairs { "a", "b", "c", "d", "e" } do
      local s = e:session(name)
      for i = 1, 100 do assert.is_true(s:set(key(i), ("y"):rep(i * 37 % 2000 + 1))) end
      for i = 3, 100, 7 do s:del(key(i)) end
      sessions[#sessions + 1] = s
    end
    e:sample()
    local total = 0
    for _, s in ipairs(sessions) do
      assert_exact(s)
      total = total + s:info().bytes
    end
    assert.equals(total, e:info().bytes)
    assert.is_true(sessions[4]:info().bytes <= 8192)
    assert.equals(0, sessions[3]:info().entries)
  end)
end)

describe("a failing hook", function()
  it("applies none of the actions it recorded", function()
    local e = engine([=[
return {
  limits = { bytes = "1MB", entries = 100 },
  on_sample = function(snap, act)
    act.clear("alice")
    act.deny_writes("alice", true)
    act.alert("warning", "doomed", "alice", "never delivered")
    act.log("info", "never logged")
    if snap.time < 2 then error("boom") end
  end,
}
]=])
    local alice = e:session("alice")
    fill(alice, 10)
    e:advance(1)                            -- t = 1: the hook fails
    assert.equals(10, alice:info().entries)
    assert.is_false(alice:info().writes_denied)
    assert.same({}, e:alerts())
    assert.same({}, e:actions())
    assert.equals(1, e:policy().hook_errors)
    assert.matches("boom", e:policy().last_error, 1, true)

    e:advance(1)                            -- t = 2: the same actions, applied
    assert.equals(0, alice:info().entries)
    assert.is_true(alice:info().writes_denied)
    assert.equals(1, #e:alerts())
    assert.same({ "never logged" }, logs(e))
    assert.equals(1, e:policy().hook_errors)
  end)

  it("is stopped by the instruction budget, even inside pcall", function()
    local e = engine([=[
return {
  limits = { entries = 100 },
  on_sample = function(snap, act)
    act.clear("alice")
    pcall(function() while true do end end)
  end,
}
]=])
    fill(e:session("alice"), 5)
    e:sample()
    assert.equals(5, e:session("alice"):info().entries)
    assert.same({}, e:actions())
    assert.equals(1, e:policy().hook_errors)
    assert.matches("instruction budget exceeded", e:policy().last_error, 1, true)
  end)

  local bad_calls = {
    { "an unknown severity", 'act.alert("fatal", "disk", nil, "bad severity")' },
    { "a number as the session to evict", "act.evict(42, { bytes = 1 })" },
    { "a table as the session to drop", "act.drop({})" },
    { "a boolean as the session to clear", "act.clear(true)" },
    { "a number as the session to deny", "act.deny_writes(7, true)" },
  }
  for _, case in ipairs(bad_calls) do
    it("fails on an action with " .. case[1] .. ", and applies nothing", function()
      local e = engine(([=[
return {
  limits = { entries = 100 },
  on_sample = function(snap, act)
    act.clear("alice")
    %s
    act.log("info", "not reached")
  end,
}
]=]):format(case[2]))
      fill(e:session("alice"), 5)
      e:sample()
      assert.equals(5, e:session("alice"):info().entries)
      assert.same({}, e:actions())
      assert.same({}, e:alerts())
      assert.equals(1, e:policy().hook_errors)
      assert.is_string(e:policy().last_error)
      assert.is_true(#e:policy().last_error > 0)
    end)
  end
end)

describe("degradation", function()
  -- Fails at t = 1 .. 10, and would log at every later sample.
  local FAILING = [=[
return {
  name = "failing",
  limits = { entries = 100 },
  on_sample = function(snap, act)
    if snap.time <= 10 then error(("failing at %g"):format(snap.time)) end
    act.log("info", ("called at %g"):format(snap.time))
  end,
}
]=]

  it("comes after 10 failed samples in a row, with a critical alert", function()
    local e = engine(FAILING)
    e:advance(9)
    assert.equals(9, e:policy().hook_errors)
    assert.same({}, e:alerts())
    e:advance(1)
    assert.equals(10, e:policy().hook_errors)
    assert.matches("failing at 10", e:policy().last_error, 1, true)
    local alerts = e:alerts()
    assert.equals(1, #alerts)
    assert.same({ 10, "critical", "policy_degraded" },
      { alerts[1].time, alerts[1].severity, alerts[1].kind })
    assert.is_nil(alerts[1].session)
    assert.is_string(alerts[1].message)
  end)

  it("stops calling on_sample", function()
    local e = engine(FAILING)
    e:advance(15)                           -- at t = 11 .. 15 the hook would succeed
    assert.same({}, logs(e))
    assert.equals(10, e:policy().hook_errors)
    e:sample()
    assert.same({}, logs(e))
    assert.equals(1, #alerts_of(e, "policy_degraded"))
  end)

  it("needs the failures in a row: one good sample starts the count over", function()
    local e = engine([=[
return {
  limits = { entries = 100 },
  on_sample = function(snap, act)
    if snap.time % 10 ~= 0 then error("not a round time") end
    act.log("info", ("called at %g"):format(snap.time))
  end,
}
]=])
    e:advance(30)                           -- 9 failures, 1 success, three times
    assert.equals(27, e:policy().hook_errors)
    assert.same({}, alerts_of(e, "policy_degraded"))
    assert.same({ "called at 10", "called at 20", "called at 30" }, logs(e))
  end)

  it("ends with a good reload", function()
    local e = engine(FAILING)
    e:advance(12)
    assert.equals(1, #alerts_of(e, "policy_degraded"))
    assert.is_nil(e:reload(policy_file("return {\n")))  -- a bad one changes nothing
    e:advance(1)
    assert.same({}, logs(e))
    assert.is_true(e:reload(policy_file([=[
return {
  name = "fixed",
  limits = { entries = 100 },
  on_sample = function(snap, act) act.log("info", ("back at %g"):format(snap.time)) end,
}
]=])))
    e:advance(2)
    assert.same({ "back at 14", "back at 15" }, logs(e))
    assert.equals("fixed", e:policy().name)
    assert.equals(1, #alerts_of(e, "policy_degraded"))
  end)
end)

describe("alerts", function()
  local TOO_MANY = [=[
return {
  limits = { entries = 100 },
  on_sample = function(snap, act)
    for _, s in ipairs(snap.sessions) do
      if s.entries > 5 then
        act.alert("warning", "too_many_entries", s.name,
          ("%s has %d entries"):format(s.name, s.entries), { value = s.entries, threshold = 5 })
      end
    end
    if snap.system.sessions >= 2 then
      act.alert("info", "many_sessions", nil, "more than one session")
    end
  end,
}
]=]

  it("are delivered with their time, severity, kind, session, message and fields", function()
    local e = engine([=[
return {
  limits = { entries = 100 },
  on_sample = function(snap, act)
    act.alert("info", "note", nil, "a system note")
    act.alert("warning", "hot", "alice", "alice is hot", { value = 7, threshold = 5 })
    act.alert("error", "failing", "alice", "alice fails")
    act.alert("critical", "down", "bob", "bob is down", { value = 0.5 })
  end,
}
]=])
    e:advance(1)
    assert.same({
      { time = 1, severity = "info", kind = "note", message = "a system note" },
      { time = 1, severity = "warning", kind = "hot", session = "alice", message = "alice is hot",
        value = 7, threshold = 5 },
      { time = 1, severity = "error", kind = "failing", session = "alice",
        message = "alice fails" },
      { time = 1, severity = "critical", kind = "down", session = "bob", message = "bob is down",
        value = 0.5 },
    }, e:alerts())
  end)

  it("are level-triggered: raised at every sample, delivered once until it stops", function()
    local e = engine(TOO_MANY)
    local alice = e:session("alice")
    fill(alice, 6)
    e:advance(1)                            -- t = 1: raised, delivered
    fill(alice, 1, 10, 7)
    e:advance(1)                            -- t = 2: raised again, not delivered
    local first = { time = 1, severity = "warning", kind = "too_many_entries", session = "alice",
      message = "alice has 6 entries", value = 6, threshold = 5 }
    assert.same({ first }, e:alerts())
    -- The hook asked both times: e:actions() has both, e:alerts() one.
    assert.equals(2, #actions_of(e, "alert"))

    alice:del(key(7))
    alice:del(key(6))
    e:advance(1)                            -- t = 3: 5 entries, not raised
    assert.same({ first }, e:alerts())
    fill(alice, 1, 10, 6)
    e:advance(1)                            -- t = 4: raised again, delivered again
    assert.same({ first, { time = 4, severity = "warning", kind = "too_many_entries",
      session = "alice", message = "alice has 6 entries", value = 6, threshold = 5 } }, e:alerts())
    e:advance(3)
    assert.equals(2, #e:alerts())
  end)

  it("are told apart by kind and session", function()
    local e = engine(TOO_MANY)
    local alice, bob = e:session("alice"), e:session("bob")
    fill(alice, 6)
    fill(bob, 6)
    e:advance(1)                            -- t = 1: alice, bob, many_sessions
    assert.equals(2, #alerts_of(e, "too_many_entries"))
    assert.equals(1, #alerts_of(e, "many_sessions"))
    bob:del(key(1))
    e:advance(1)                            -- t = 2: alice only (and many_sessions)
    fill(bob, 1)
    e:advance(1)                            -- t = 3: bob again
    local seen = {}
    for _, a in ipairs(alerts_of(e, "too_many_entries")) do
      seen[#seen + 1] = ("%s@%g"):format(a.session, a.time)
    end
    assert.same({ "alice@1", "bob@1", "bob@3" }, seen)
    local many = alerts_of(e, "many_sessions")
    assert.equals(1, #many)
    assert.is_nil(many[1].session)
    assert.same({ "info", "more than one session" }, { many[1].severity, many[1].message })
  end)

  it("without a session are level-triggered too", function()
    local e = engine(TOO_MANY)
    fill(e:session("alice"), 1)
    fill(e:session("bob"), 1)
    e:advance(3)                            -- raised at t = 1, 2, 3
    assert.equals(1, #alerts_of(e, "many_sessions"))
    e.core:drop("bob")
    e:advance(1)                            -- t = 4: one session, not raised
    fill(e:session("bob"), 1)
    e:advance(1)                            -- t = 5: raised, delivered again
    local times = {}
    for i, a in ipairs(alerts_of(e, "many_sessions")) do times[i] = a.time end
    assert.same({ 1, 5 }, times)
  end)
end)

describe("act.state", function()
  local COUNTING = [=[
return {
  name = "v1",
  limits = { entries = 10 },
  on_sample = function(snap, act)
    act.state.samples = (act.state.samples or 0) + 1
    act.state.junk = "from v1"
    act.log("info", ("v1 sample %d"):format(act.state.samples))
  end,
}
]=]

  it("starts empty and is kept across samples", function()
    local e = engine(COUNTING)
    e:advance(3)
    assert.same({ "v1 sample 1", "v1 sample 2", "v1 sample 3" }, logs(e))
  end)

  -- Each case: two samples of COUNTING, a reload to `policy`, then `samples`
  -- samples of it; `logs` is everything logged, in order.
  local reloads = {
    {
      name = "goes to the new policy's on_reload, whose return value replaces it",
      policy = [=[
return {
  name = "v2",
  limits = { entries = 10 },
  on_reload = function(old)
    return { samples = old.samples, history = { from = old.junk, at = old.samples } }
  end,
  on_sample = function(snap, act)
    act.state.samples = act.state.samples + 1
    act.log("info", ("v2 sample %d (%s at %d), junk: %s"):format(act.state.samples,
      act.state.history.from, act.state.history.at, tostring(act.state.junk)))
  end,
}
]=],
      samples = 2,
      logs = { "v1 sample 1", "v1 sample 2",
        "v2 sample 3 (from v1 at 2), junk: nil", "v2 sample 4 (from v1 at 2), junk: nil" },
    },
    {
      name = "is kept as it is by a reload without on_reload",
      policy = [=[
return {
  name = "v3",
  limits = { entries = 10 },
  on_sample = function(snap, act)
    act.state.samples = act.state.samples + 1
    act.log("info", ("v3 sample %d, %s"):format(act.state.samples, act.state.junk))
  end,
}
]=],
      samples = 1,
      logs = { "v1 sample 1", "v1 sample 2", "v3 sample 3, from v1" },
    },
  }
  for _, case in ipairs(reloads) do
    it(case.name, function()
      local e = engine(COUNTING)
      e:advance(2)
      assert.is_true(e:reload(policy_file(case.policy)))
      e:advance(case.samples)
      assert.same(case.logs, logs(e))
    end)
  end
end)

describe("reload", function()
  local V1 = [=[
return {
  name = "v1",
  limits = { bytes = "1MB", entries = 10 },
  eviction = "lru",
  on_sample = function(snap, act)
    act.state.samples = (act.state.samples or 0) + 1
    act.log("info", ("v1 sample %d"):format(act.state.samples))
  end,
}
]=]

  it("swaps in the new policy and applies its limits to every live session at once", function()
    local e = engine(V1)
    local alice, bob = e:session("alice"), e:session("bob")
    fill(alice, 8, 100)
    fill(bob, 3, 100)
    assert.is_true(e:reload(policy_file([=[
return { name = "v2", limits = { bytes = "1MB", entries = 4 }, eviction = "lru" }
]=])))
    assert.equals("v2", e:policy().name)
    assert.equals(4, e:policy().limit_entries)
    local a = alice:info()                  -- no sample needed
    assert.same({ 4, 4, 4 }, { a.entries, a.evictions, a.limit_entries })
    for i = 1, 4 do assert.is_false(alice:exists(key(i))) end
    for i = 5, 8 do assert.is_true(alice:exists(key(i))) end
    assert_exact(alice)
    local b = bob:info()
    assert.same({ 3, 0, 4 }, { b.entries, b.evictions, b.limit_entries })
    fill(bob, 3, 100, 4)
    assert.equals(4, bob:info().entries)
    -- Looser limits evict nothing, and let the session grow again.
    assert.is_true(e:reload(policy_file(V1)))
    assert.same({ 4, 10 }, { alice:info().entries, alice:info().limit_entries })
    fill(alice, 6, 100, 9)
    assert.equals(10, alice:info().entries)
  end)

  it("to a smaller byte limit evicts at once down to it", function()
    local e = engine(V1)
    local alice = e:session("alice")
    fill(alice, 8, 1000)
    assert.is_true(e:reload(policy_file([=[
return { name = "small", limits = { bytes = 4096, entries = 10 }, eviction = "lru" }
]=])))
    local info = alice:info()
    assert.equals(4096, info.limit_bytes)
    assert.is_true(info.bytes <= 4096, "bytes " .. info.bytes)
    assert.is_true(info.entries >= 1 and info.entries < 8)
    assert.equals(8 - info.entries, info.evictions)
    assert.is_false(alice:exists(key(1)))
    assert.is_true(alice:exists(key(8)))
    assert_exact(alice)
  end)

  it("of a broken file fails with file:line: message and keeps the old policy", function()
    local e = engine(V1)
    local alice = e:session("alice")
    fill(alice, 10, 100)
    e:advance(1)
    -- The table is never closed: Lua reports it at the end of the file, line 4.
    local path = policy_file('return {\n  name = "broken",\n  limits = { entries = 4 \n')
    local ok, err = e:reload(path)
    assert.is_nil(ok)
    assert.equals(path .. ":4:", err:sub(1, #path + 3))
    assert.equals("v1", e:policy().name)
    local info = alice:info()
    assert.same({ 10, 10, 0 }, { info.entries, info.limit_entries, info.evictions })
    e:advance(1)                            -- the old hook and its state go on
    assert.same({ "v1 sample 1", "v1 sample 2" }, logs(e))
  end)

  it("of an invalid policy fails with the validation error", function()
    local e = engine(V1)
    local path = policy_file('return {\n  limits = { entries = 4 },\n  limts = 5,\n}\n')
    local ok, err = e:reload(path)
    assert.is_nil(ok)
    assert.equals(path .. ":3: unknown field 'limts' (did you mean 'limits'?)", err)
    assert.equals("v1", e:policy().name)
    assert.equals(10, e:policy().limit_entries)
  end)

  it("fails when on_reload fails, and keeps the old policy and state", function()
    local e = engine(V1)
    local alice = e:session("alice")
    fill(alice, 10, 100)
    e:advance(1)
    local path = policy_file([=[
return {
  name = "v2",
  limits = { entries = 4 },
  on_reload = function(old) error("cannot take over") end,
}
]=])
    local ok, err = e:reload(path)
    assert.is_nil(ok)
    assert.matches("cannot take over", err, 1, true)
    assert.matches(path, err, 1, true)
    assert.equals("v1", e:policy().name)
    assert.same({ 10, 10 }, { alice:info().entries, alice:info().limit_entries })
    e:advance(1)
    assert.same({ "v1 sample 1", "v1 sample 2" }, logs(e))
  end)
end)

describe("on_session_open", function()
  it("can refuse a session: the write fails with the reason", function()
    local e = engine([=[
return {
  limits = { entries = 100 },
  on_session_open = function(name, snap, act)
    act.log("info", "open " .. name)
    if name:sub(1, 8) == "blocked-" then return false, "tenant " .. name .. " is blocked" end
  end,
}
]=])
    local eve, alice = e:session("blocked-eve"), e:session("alice")
    local ok, err = eve:set("k", "v")
    assert.is_nil(ok)
    assert.matches("tenant blocked-eve is blocked", err, 1, true)
    assert.is_nil(eve:info())
    assert.is_false(eve:exists("k"))
    assert.is_true(alice:set("k1", "v"))    -- called before the first write only
    assert.is_true(alice:set("k2", "v"))
    assert.is_nil(e:session("nobody"):get("k")) -- a read opens nothing
    ok = eve:set("k", "v")                  -- asked again: still refused
    assert.is_nil(ok)
    assert.same({ "alice" }, e:sessions())
    assert.same({ "open blocked-eve", "open alice", "open blocked-eve" }, logs(e))
  end)

  it("sees the snapshot of the engine before the session exists", function()
    local e = engine([=[
return {
  limits = { entries = 100 },
  on_session_open = function(name, snap, act)
    local names = {}
    for i, s in ipairs(snap.sessions) do names[i] = s.name end
    act.log("info", ("open %s: %d [%s]"):format(name, snap.system.sessions,
      table.concat(names, " ")))
    if snap.system.sessions >= 2 then return false, "at most 2 sessions" end
  end,
}
]=])
    local bob_ok = e:session("bob"):set("k", "v")
    local alice_ok = e:session("alice"):set("k", "v")
    -- The session being opened is not in the snapshot yet, nor in its count.
    assert.same({ "open bob: 0 []", "open alice: 1 [bob]" }, logs(e))
    assert.is_true(bob_ok)
    assert.is_true(alice_ok)
    local ok, err = e:session("carol"):set("k", "v")
    assert.is_nil(ok)
    assert.matches("at most 2 sessions", err, 1, true)
    e.core:drop("alice")
    assert.is_true(e:session("carol"):set("k", "v"))
    assert.same({ "bob", "carol" }, e:sessions())
    assert.same({ "open bob: 0 []", "open alice: 1 [bob]", "open carol: 2 [alice bob]",
      "open carol: 1 [bob]" }, logs(e))
  end)

  it("can give a session its own limits instead of the policy's", function()
    local e = engine([=[
return {
  limits = { bytes = "1MB", entries = 100 },
  eviction = "lru",
  on_session_open = function(name, snap, act)
    if name:sub(1, 6) == "small-" then return { bytes = 8192, entries = 3, eviction = "lfu" } end
  end,
}
]=])
    local small, alice = e:session("small-bob"), e:session("alice")
    fill(small, 5, 100)
    fill(alice, 5, 100)
    local s, a = small:info(), alice:info()
    assert.same({ 3, 2, 3, 8192, "lfu" },
      { s.entries, s.evictions, s.limit_entries, s.limit_bytes, s.strategy })
    assert_exact(small)
    assert.same({ 5, 0, 100, MB, "lru" },
      { a.entries, a.evictions, a.limit_entries, a.limit_bytes, a.strategy })
  end)
end)
