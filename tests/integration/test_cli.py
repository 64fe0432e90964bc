"""The command line (issue 10, findings 9 and 21): every bad flag gets an
error naming it and exit status 2, never a default; policyd replay survives
a policy that drops its session."""
import os
import subprocess

import pytest

from conftest import ROOT


def policyd(*args):
    build = os.environ.get("POLICYD_BUILD", os.path.join(ROOT, "build"))
    return subprocess.run([os.path.join(build, "policyd"), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args, named", [
    (["--policy", "policies/default.lua", "--port", "abc"], "--port 'abc'"),
    (["--policy", "policies/default.lua", "--port", "-5"], "--port '-5'"),
    (["--policy", "policies/default.lua", "--port", "0"], "--port '0'"),
    (["--policy", "policies/default.lua", "--port", "65536"], "--port '65536'"),
    (["--policy", "policies/default.lua", "--port", "99999999999999999999999"], "--port"),
    (["--policy", "policies/default.lua", "--port", " 7379"], "--port ' 7379'"),
    (["--policy", "policies/default.lua", "--log-level", "bogus"], "--log-level 'bogus'"),
    (["--policy", "policies/default.lua", "--log-format", "xml"], "--log-format 'xml'"),
    (["--policy", "policies/default.lua", "--frobnicate", "1"], "--frobnicate"),
    (["--policy", "policies/default.lua", "--shutdown-timeout", "-1"], "--shutdown-timeout '-1'"),
    (["--policy", "policies/default.lua", "--max-session-name", "0"], "--max-session-name '0'"),
    (["--policy", "policies/default.lua", "--port"], "--port: needs a value"),
    (["--port", "7379"], "--policy: is required"),
    (["policies/default.lua"], "policies/default.lua: not an option"),
])
def test_finding_9_daemon_flags(args, named):
    p = policyd(*args)
    assert p.returncode == 2, p
    assert named in p.stderr, p.stderr
    assert "usage:" in p.stderr


@pytest.mark.parametrize("args, named", [
    (["--entries", "abc"], "--entries 'abc'"),
    (["--entries", "-5"], "--entries '-5'"),
    (["--entries", "0"], "--entries '0'"),
    (["--entries", "16777216"], "--entries '16777216'"),
    (["--bytes", "10XB"], "--bytes '10XB'"),
    (["--bytes", "-1MB"], "--bytes '-1MB'"),
    (["--strategy", "bogus"], "--strategy 'bogus'"),
    (["--entries"], "--entries needs a value"),
    (["--entries", "10", "--bytes", "1MB"], "--entries and --bytes"),
])
def test_finding_9_replay_flags(args, named):
    p = policyd("replay", "--policy", "policies/lru.lua", "tests/data/cache2k-web12.csv", *args)
    assert p.returncode == 2, p
    assert named in p.stderr, p.stderr


@pytest.mark.parametrize("line, why", [
    ("0,-1,10", "a field is not an unsigned decimal"),
    ("0,1", "not timestamp,key,size"),
    ("0,1,10,0,9", "more than 4 fields"),
    ("0,1,99999999999", "a size over 512 MiB"),
    ("99999999999999999999,1,1", "a field is not an unsigned decimal"),
    ("9223372036854775,1,1", "a time past the engine's clock"),
    ("0, 1,10", "a field is not an unsigned decimal"),
    ("0,1," + "1" * 200, "line too long"),
])
def test_finding_9_replay_trace_lines(tmp_path, line, why):
    trace = tmp_path / "t.csv"
    trace.write_text("timestamp_seconds,key,size_bytes\n0,7,10\n" + line + "\n")
    p = policyd("replay", "--policy", "policies/lru.lua", str(trace))
    assert p.returncode == 1, p
    assert f"t.csv:3: {why}" in p.stderr, p.stderr


def test_finding_21_replay_when_the_policy_drops_the_session(tmp_path):
    """guard.lua drops a session idle for 30 minutes: replay once kept a
    pointer to it across samples and crashed on the next line."""
    trace = tmp_path / "gap.csv"
    trace.write_text("timestamp_seconds,key,size_bytes\n"
                     "0,1,10\n0,2,10\n5000,1,10\n5001,3,10\n5001,3,10\n")
    p = policyd("replay", "--policy", "policies/guard.lua", str(trace), "--csv")
    assert p.returncode == 0, p
    requests, hits, misses = p.stdout.splitlines()[-1].split(",")[:3]
    # The session was dropped at the gap: key 1 misses again; key 3 hits.
    assert (requests, hits, misses) == ("5", "1", "4")
    assert "session_idle_dropped" not in p.stderr
