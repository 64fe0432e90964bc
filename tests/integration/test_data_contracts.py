"""Data contracts under a full system (issue 10, findings 18-20): a write
that stores nothing creates no session and makes the policy drop none; a
session a command writes is never admission's victim within it; an MSET
is all or nothing; a refused write evicts nothing."""
import pytest
import redis

from conftest import start, stop

# Two sessions at most; a newcomer is admitted by dropping another, as
# policies/default.lua does (here the last by name, so the tests need no
# clock: the snapshot lists sessions by name).
TWO = """
return {
  limits = { bytes = "256KB", entries = 2 },
  system = { sessions = 2 },
  on_session_open = function(name, snap, act)
    if snap.system.sessions < snap.system.limit_sessions then return end
    local victim = snap.sessions[#snap.sessions]
    if victim then
      act.drop(victim.name)
      act.alert("warning", "session_dropped", victim.name, "to admit " .. name)
    end
  end,
}
"""

BIG = "x" * 300_000  # over a session's 256 KB


@pytest.fixture
def r(tmp_path):
    (tmp_path / "two.lua").write_text(TWO)
    proc, port = start(policy=str(tmp_path / "two.lua"))
    client = redis.Redis(port=port, decode_responses=True)
    assert client.set("a:k", "1") and client.set("b:k", "1")
    yield client
    client.close()
    stop(proc)


def sessions(r):
    return sorted(r.execute_command("SESSION", "LIST"))


def dropped_alerts(r):
    return [a for a in r.execute_command("ALERTS", 100) if "session_dropped" in a]


def test_finding_18_set_xx_of_a_newcomer_opens_nothing_and_drops_nobody(r):
    assert r.set("newcomer:k", "v", xx=True) is None
    assert sessions(r) == ["a", "b"]
    assert r.get("a:k") == "1" and r.get("b:k") == "1"
    assert dropped_alerts(r) == []


def test_finding_18_a_refused_set_opens_nothing_and_drops_nobody(r):
    with pytest.raises(redis.ResponseError, match="OOM"):
        r.set("newcomer:k", BIG)
    assert sessions(r) == ["a", "b"]
    assert r.get("a:k") == "1" and r.get("b:k") == "1"
    assert dropped_alerts(r) == []


def test_finding_18_a_refused_mset_opens_nothing_and_drops_nobody(r):
    with pytest.raises(redis.ResponseError, match="OOM"):
        r.mset({"newcomer:k1": "x", "newcomer:k2": BIG})
    assert sessions(r) == ["a", "b"]
    assert r.get("a:k") == "1" and r.get("b:k") == "1"
    assert dropped_alerts(r) == []


def test_finding_19_an_mset_that_cannot_be_admitted_writes_nothing(r):
    """Admission dropped a:k within the same MSET that answered OK."""
    with pytest.raises(redis.ResponseError):
        r.mset({"a:k": "2", "b:k": "2", "c:k": "3"})
    assert sessions(r) == ["a", "b"]
    assert r.get("a:k") == "1" and r.get("b:k") == "1" and r.get("c:k") is None
    assert dropped_alerts(r) == []


def test_finding_19_an_ok_means_every_key_is_readable(r):
    assert r.mset({"a:k": "9", "c:k": "3"}) is True
    assert r.get("a:k") == "9" and r.get("c:k") == "3"
    assert sessions(r) == ["a", "c"]
    assert len(dropped_alerts(r)) == 1


def test_finding_20_a_refused_mset_evicts_nothing(r):
    """MSET b:k1 x a:big <300KB> evicted from b, then answered -OOM."""
    assert r.set("b:k2", "2") is True  # b at its 2 entries
    with pytest.raises(redis.ResponseError, match="OOM"):
        r.mset({"b:k1": "x", "a:big": BIG})
    assert r.get("b:k") == "1" and r.get("b:k2") == "2"
    assert r.get("b:k1") is None and r.get("a:big") is None
    info = r.execute_command("SESSION", "INFO", "b")
    assert info[info.index("evictions") + 1] == 0


def test_an_mset_of_one_key_twice_keeps_the_last(r):
    assert r.mset({"a:k": "first"}) is True
    assert r.execute_command("MSET", "a:x", "1", "a:x", "2") is True
    assert r.get("a:x") == "2"
    info = r.execute_command("SESSION", "INFO", "a")
    assert info[info.index("entries") + 1] == 2


# S3-FIFO with a huge entry limit and a small byte budget: its ghost was
# sized from the entry limit (32.5 MB for 1,000,000), outside every plan.
GHOST = """
return {
  limits = function(name)
    if name == "g" then return { bytes = "16KB", entries = 1000000, eviction = "s3fifo" } end
    return { entries = 2 }
  end,
}
"""


@pytest.fixture
def g(tmp_path):
    (tmp_path / "ghost.lua").write_text(GHOST)
    proc, port = start(policy=str(tmp_path / "ghost.lua"))
    client = redis.Redis(port=port, decode_responses=True)
    yield client
    client.close()
    stop(proc)


def field(r, session, name):
    info = r.execute_command("SESSION", "INFO", session)
    return info[info.index(name) + 1]


def test_finding_20_the_s3fifo_ghost_lives_inside_the_budget(g):
    for i in range(2000):
        assert g.set(f"g:k{i}", "v" * 20) is True
    assert field(g, "g", "bytes") <= 16 * 1024
    assert g.get("g:k1999") == "v" * 20
    assert 50 < field(g, "g", "entries") < 2000


def test_finding_20_a_write_is_planned_with_the_strategy_s_bytes(g):
    """MSET b:k1 x g:k y evicted from b, then answered -OOM: g's ghost
    alone was over g's budget."""
    assert g.set("b:k", "1") and g.set("b:k2", "2")
    assert g.mset({"b:k1": "x", "g:k": "y"}) is True
    assert g.get("b:k1") == "x" and g.get("g:k") == "y"
