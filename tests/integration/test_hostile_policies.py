"""Hostile policies (issue 10): each test names the finding it guards
against and runs a policy that once aborted or hung the daemon, or slipped
out of the sandbox. After each, the daemon still serves, the policy's
failure is counted as a hook error, and the limits still hold."""
import os
import subprocess
import textwrap
import time

import pytest
import redis

from conftest import start, stop

# fill() tops the Lua state up to its byte cap and keeps `hog`
# reachable, so the state stays full: any allocation the host then makes in
# it meets the cap. Big pieces first, then small tables to the last bytes.
# (Filling at load would leave the loader itself no room.) What is left is
# less than a table; a session name of 4,000 bytes cannot fit in it.
FILL = """
local hog = {}
local function fill(keep)
  hog.kept = { keep, hog.kept }  -- what the host pushed stays: no garbage
  pcall(function()
    local piece = ("x"):rep(4000)
    while true do hog[#hog + 1] = piece .. #hog end
  end)
  pcall(function() while true do hog.tail = { hog.tail } end end)
end
"""


NAME = "n" * 4000


class Daemon:
    """A daemon running `source` from a directory it may reload from."""

    def __init__(self, tmp_path, source, *flags):
        self.dir = tmp_path
        self.write("policy.lua", source)
        self.proc, self.port = start("--policy-dir", str(tmp_path), *flags,
                                     policy=str(tmp_path / "policy.lua"))
        self.r = redis.Redis(port=self.port, decode_responses=True, socket_timeout=60)

    def write(self, name, source):
        (self.dir / name).write_text(textwrap.dedent(source))

    def info(self):
        fields = self.r.execute_command("POLICY", "INFO")
        return dict(zip(fields[::2], fields[1::2]))

    def alerts(self):
        return [dict(zip(a[::2], a[1::2])) for a in self.r.execute_command("ALERTS", 100)]

    def wait_samples(self, n=1):
        """Waits until the daemon has run n more samples (1 s apart)."""
        time.sleep(1.2 * n)

    def close(self):
        try:
            assert self.r.ping() is True  # still serving
            self.r.close()
            stop(self.proc)
        finally:
            if self.proc.poll() is None:  # hung: never left behind
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def daemon(tmp_path):
    made = []

    def make(source, *flags):
        d = Daemon(tmp_path, source, *flags)
        made.append(d)
        return d
    yield make
    for d in made:
        d.close()


def test_finding_10_out_of_memory_when_the_host_pushes_a_session_name(daemon):
    """A Lua memory error outside pcall called abort(): the session name
    pushed for on_session_open, at the cap."""
    d = daemon(FILL + """
        return {
          limits = { bytes = "1MB", entries = 100 },
          sample_interval = "100ms",
          deadlines = { sample = "1s" },
          on_sample = fill,
          on_session_open = function(name, snap, act) return #hog > 0 end,
        }""", "--max-session-name", "5000")
    d.wait_samples()
    assert d.r.set(NAME + ":k", "v") is True  # admitted with the policy's limits
    assert d.info()["hook_errors"] >= 1
    assert "not enough memory" in d.info()["last_error"]


def test_finding_10_out_of_memory_in_the_limits_function(daemon):
    d = daemon(FILL + """
        return {
          sample_interval = "100ms",
          deadlines = { sample = "1s" },
          on_sample = fill,
          limits = function(name) return #hog > 0 and { entries = 10 } end,
        }""", "--max-session-name", "5000")
    d.wait_samples()
    with pytest.raises(redis.ResponseError, match="policy: .*not enough memory"):
        d.r.set(NAME + ":k", "v")
    assert d.r.execute_command("SESSION", "LIST") == []


def test_finding_10_out_of_memory_in_the_chooser(daemon):
    """The chooser's candidate tables, pushed at the cap."""
    d = daemon(FILL + """
        return {
          limits = { entries = 2 },
          sample_interval = "100ms",
          deadlines = { sample = "1s" },
          on_sample = fill,
          eviction = function(candidates) return candidates[1] end,
        }""")
    d.wait_samples()
    for i in range(6):  # each eviction meets the cap: lru instead
        assert d.r.set(f"alice:k{i}", "v") is True
    assert d.r.execute_command("SESSION", "INFO", "alice")[7] == 2  # entries
    assert d.info()["hook_errors"] >= 1
    assert "not enough memory" in d.info()["last_error"]


@pytest.mark.parametrize("how", ["while true do end", "error('no')"])
def test_finding_11_a_metatable_on_act(daemon, how):
    """act.state was read with lua_getfield, unbudgeted and honouring
    metamethods: an __index on act hung the daemon for good."""
    d = daemon(f"""
        return {{
          limits = {{ entries = 10 }},
          sample_interval = "100ms",
          on_sample = function(snap, act)
            act.state.n = (act.state.n or 0) + 1
            act.log("info", "sample " .. act.state.n)
            setmetatable(act, {{ __index = function() {how} end }})
            act.state = nil  -- the host's read of act.state would meet __index
          end,
        }}""")
    d.wait_samples(2)
    assert d.info()["hook_errors"] == 0
    assert d.r.set("alice:k", "v") is True


@pytest.mark.parametrize("leak", [
    "local _, t = pairs(string); t.format = function() while true do end end",
    "local _, t = pairs(_G); t.type = function() while true do end end",
    "local _, t = pairs(require 'policyd.act'); t.new = function() while true do end end",
    "local _, t = next, (getmetatable('') or {}).__index; t.rep = nil",
])
def test_finding_12_read_only_views_do_not_leak_their_tables(tmp_path, leak):
    """pairs on a read-only view returned the real table, so a policy could
    replace what the host's helpers call (and the host then hung)."""
    (tmp_path / "leak.lua").write_text(leak + "\nreturn { limits = { entries = 10 } }\n")
    build = os.environ.get("POLICYD_BUILD", os.path.join(os.path.dirname(__file__), "..", "..",
                                                         "build"))
    p = subprocess.run([os.path.join(build, "policyd"), "--check", str(tmp_path / "leak.lua")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1, p
    assert any(why in p.stderr for why in ["read-only", "attempt to index",
                                           "assignment to global"]), p.stderr


def test_finding_13_collectgarbage_is_count_only(daemon):
    """collectgarbage() ran a full collection as one instruction: 1,000 calls
    stalled a sample 4.35 s with hook_errors = 0."""
    d = daemon("""
        return {
          limits = { entries = 10 },
          sample_interval = "100ms",
          on_sample = function(snap, act)
            act.log("info", "kb " .. collectgarbage("count"))
            for _ = 1, 1000 do collectgarbage() end
          end,
        }""")
    d.wait_samples()
    assert d.info()["hook_errors"] >= 1
    assert 'only "count"' in d.info()["last_error"]


@pytest.mark.parametrize("work", [
    'local s = ("a"):rep(1 << 20); s:find(".-.-.-b")',
    "table.move({}, 1, 1 << 40, 2)",
    "table.unpack({}, 1, 1 << 40)",
    "local t = {} for i = 1, 100000 do table.insert(t, 1, i) end",
    "while true do pcall(function() while true do end end) end",
])
def test_finding_13_long_work_in_a_hook_is_stopped(daemon, work):
    """One call of a C function was one instruction to the budget: a
    backtracking pattern or table.move of 2^40 elements hung the daemon."""
    d = daemon(f"""
        return {{
          limits = {{ entries = 10 }},
          sample_interval = "100ms",
          on_sample = function(snap, act) {work} end,
        }}""")
    d.wait_samples()
    info = d.info()
    assert info["hook_errors"] >= 1
    assert any(why in info["last_error"] for why in ["instruction budget exceeded",
                                                     "deadline exceeded"]), info
    assert d.r.set("alice:k", "v") is True


def test_finding_17_a_chooser_that_fails_is_set_aside(daemon):
    """A chooser that used its whole budget on every eviction took a write
    path from 115k to 50 ops/s. After 3 failures in a row it is set aside
    for 60 s: the session evicts by lru, the policy is not degraded."""
    d = daemon("""
        return {
          limits = { entries = 2 },
          eviction = function(candidates) while true do end end,
        }""")
    for i in range(200):
        assert d.r.set(f"alice:k{i}", "v") is True
    info = d.info()
    assert info["hook_errors"] == 3
    assert info["degraded"] == 0
    aside = [a for a in d.alerts() if a["kind"] == "chooser_set_aside"]
    assert len(aside) == 1 and aside[0]["session"] == "alice"
    assert d.r.get("alice:k199") == "v" and d.r.get("alice:k198") == "v"
    assert d.r.get("alice:k197") is None


def test_finding_14_a_reload_whose_limits_function_fails(daemon):
    """A limits function that erred during a reload reported success and
    put sessions on built-in limits; now the reload fails, the old policy
    stays, and the sessions keep their limits."""
    d = daemon('return { limits = { entries = 7 } }')
    assert d.r.set("alice:k", "v") is True
    d.write("bad.lua", """
        return { limits = function(name) error("no limits for " .. name) end }""")
    with pytest.raises(redis.ResponseError, match='limits\\("alice"\\).*no limits for alice'):
        d.r.execute_command("POLICY", "RELOAD", "bad.lua")
    info = d.r.execute_command("SESSION", "INFO", "alice")
    assert info[info.index("limit_entries") + 1] == 7
    assert d.info()["path"].endswith("policy.lua")


def test_finding_15_a_state_that_cannot_be_carried_over(daemon):
    """A deep act.state made every later reload fail, even of a fixed policy
    without on_reload. It is dropped now, with an alert."""
    d = daemon("""
        return {
          limits = { entries = 10 },
          sample_interval = "100ms",
          on_sample = function(snap, act)
            local t = act.state
            for _ = 1, 100 do t.next = {}; t = t.next end
          end,
        }""")
    d.wait_samples()
    d.write("fixed.lua", 'return { limits = { entries = 10 } }')
    assert d.r.execute_command("POLICY", "RELOAD", "fixed.lua") == "OK"
    assert any(a["kind"] == "policy_state_dropped" for a in d.alerts())


# The known ways out of an embedded Lua, as far as Lua 5.4 has them:
# Redis's Lua CVEs (2015-2025: bytecode loading, metatables of basic types,
# GC manipulation, unpack overflow, parser and stack exhaustion) and bugs of
# Lua 5.4.4 reachable from source. Each runs at load and in on_sample; the
# daemon must refuse or stop it, count it, and go on serving.
ESCAPES = {
    "binary_chunk": 'load("\\27Lua\\84\\0\\25\\147\\13\\10\\26\\10\\4\\8\\8")',
    "binary_mode": 'load("return 1", "x", "b")',
    "string_dump": "string.dump(function() end)",
    "string_metatable": 'getmetatable("").__index.upper = nil',
    "number_metatable": "setmetatable(1, {})",
    "debug_library": "debug.getregistry()",
    "gc_finalizer": "setmetatable({}, { __gc = function() end })",
    "gc_stop": 'collectgarbage("stop")',
    "gc_generational": 'collectgarbage("generational")',
    "unpack_overflow": "table.unpack({}, 0, 1 << 31)",
    "unpack_negative": "table.unpack({}, math.mininteger, math.maxinteger)",
    "concat_overflow": "table.concat({}, 'x', 1, math.maxinteger)",
    "rep_overflow": 'string.rep("x", math.maxinteger, "y")',
    "deep_syntax": 'load(string.rep("(", 100000) .. "1" .. string.rep(")", 100000))',
    "deep_tables": 'load("return " .. string.rep("{", 300000))',
    "long_concat_chain": 'load("return " .. string.rep("a..", 100000) .. "a")',
    "c_stack_gsub": 'local function f(s) return (s:gsub(".", f)) end f("ab")',
    "c_stack_error_handler": "local function h() error(h) end xpcall(error, h)",
    "pcall_recursion": "local function f() return pcall(f) end f()",
    "tostring_loop": "tostring(setmetatable({}, { __tostring = function(t) return tostring(t) end }))",
    "close_error": 'do local x <close> = setmetatable({}, { __close = function() error("c") end }) end',
    "const_env": "local _ENV <const> = { x = 1 }; return x",
    "goto_loop": "::top:: goto top",
    "integer_division": "return 1 // 0",
    "mininteger_division": "return math.mininteger // -1, math.mininteger % -1",
    "format_huge_int": 'string.format("%d", 2^63)',
    "format_width": 'string.format("%099d", 1)',
    "utf8_char_max": "utf8.char(0x7FFFFFFF):len()",
    "require_path": 'require("../../etc/passwd")',
    "require_io": 'require("io")',
    "os_library": 'os.execute("true")',
    "print_flood": 'for i = 1, 1e6 do print(("x"):rep(100)) end',
    "pattern_depth": 'string.find("a", string.rep("(", 250) .. "a" .. string.rep(")", 250))',
    "frontier_bomb": 'string.rep("a", 100000):find(string.rep("%f[a]a?", 30))',
}


def test_known_escapes_are_refused_and_the_daemon_serves(tmp_path):
    """One daemon, each escape loaded (POLICY RELOAD) and sampled in turn."""
    d = Daemon(tmp_path, 'return { limits = { entries = 10 } }')
    try:
        for name, snippet in ESCAPES.items():
            source = f"""
                local ok = pcall(function() {snippet} end)
                return {{
                  limits = {{ entries = 10 }},
                  sample_interval = "100ms",
                  on_sample = function() {snippet} end,
                }}"""
            d.write(f"{name}.lua", source)
            try:
                d.r.execute_command("POLICY", "RELOAD", f"{name}.lua")
            except redis.ResponseError:
                pass  # refused at load: the old policy stays
            time.sleep(0.25)
            assert d.r.ping() is True, name
            assert d.r.set(f"k:{name}", "v") is True, name
            assert d.r.get(f"k:{name}") == "v", name
        assert d.r.execute_command("POLICY", "INFO")[1].endswith(".lua")
    finally:
        d.close()
