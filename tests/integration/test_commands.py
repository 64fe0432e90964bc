"""Command semantics against the real daemon, with python3-redis."""
import fnmatch
import os
import socket
import time

import pytest
import redis


def test_set_get_and_options(r):
    assert r.set("a:k", "v") is True
    assert r.get("a:k") == "v"
    assert r.set("a:k", "w", nx=True) is None
    assert r.set("a:new", "w", xx=True) is None
    assert r.set("a:k", "w", xx=True, get=True) == "v"
    assert r.get("a:k") == "w"
    assert r.set("a:t", "v", ex=100) is True
    assert 99 <= r.ttl("a:t") <= 100
    assert r.set("a:t", "v2", keepttl=True) is True
    assert r.ttl("a:t") > 0
    assert r.set("a:t", "v3") is True
    assert r.ttl("a:t") == -1
    assert r.ttl("a:missing") == -2
    with pytest.raises(redis.ResponseError, match="invalid expire time"):
        r.set("a:k", "v", ex=0)
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("SET", "a:k", "v", "BOGUS")


def test_expire_family(r):
    r.set("b:k", "v")
    assert r.expire("b:k", 100) is True
    assert 99_000 <= r.pttl("b:k") <= 100_000
    assert r.persist("b:k") is True
    assert r.persist("b:k") is False
    assert r.pexpire("b:k", 50) is True
    time.sleep(0.2)
    assert r.get("b:k") is None
    assert r.expire("b:missing", 10) is False
    r.set("b:k2", "v")
    assert r.expireat("b:k2", int(time.time()) + 100) is True
    assert 95 <= r.ttl("b:k2") <= 100
    assert r.setex("b:k3", 100, "v") is True and r.ttl("b:k3") > 0
    assert r.psetex("b:k4", 100_000, "v") is True and r.pttl("b:k4") > 0


def test_strings(r):
    assert r.incr("c:n") == 1
    assert r.incrby("c:n", 41) == 42
    assert r.decr("c:n") == 41
    assert r.decrby("c:n", 1) == 40
    r.set("c:s", "abc")
    with pytest.raises(redis.ResponseError, match="not an integer"):
        r.incr("c:s")
    r.set("c:max", str(2**63 - 1))
    with pytest.raises(redis.ResponseError, match="overflow"):
        r.incr("c:max")
    assert r.append("c:s", "def") == 6
    assert r.strlen("c:s") == 6
    assert r.getset("c:s", "x") == "abcdef"
    assert r.getdel("c:s") == "x"
    assert r.get("c:s") is None
    assert r.setnx("c:s", "1") is True and r.setnx("c:s", "2") is False
    assert r.mget("c:s", "c:none", "c:n") == ["1", None, "40"]
    assert r.exists("c:s", "c:n", "c:none") == 2
    assert r.touch("c:s", "c:none") == 1
    assert r.type("c:s") == "string" and r.type("c:none") == "none"
    assert r.delete("c:s", "c:n", "c:none") == 2


def test_sessions_are_isolated_and_exact(r):
    r.set("alice:x", "1")
    r.set("bob:x", "2")
    r.set("{carol}:x", "3")
    assert r.get("alice:x") == "1" and r.get("bob:x") == "2"
    assert r.execute_command("SESSION", "LIST") == ["alice", "bob", "carol"]
    info = r.execute_command("SESSION", "INFO", "alice")
    fields = dict(zip(info[::2], info[1::2]))
    assert list(fields) == ["name", "bytes", "arena_bytes", "entries", "limit_bytes",
                            "limit_entries", "strategy", "hits", "misses", "evictions",
                            "expirations", "growth_bytes_per_min", "idle_seconds",
                            "age_seconds", "writes_denied"]
    assert fields["bytes"] == fields["arena_bytes"] and int(fields["bytes"]) > 0
    assert fields["limit_entries"] == 20 and fields["strategy"] == "lru"
    assert r.execute_command("SESSION", "DROP", "alice") == 1
    assert r.execute_command("SESSION", "DROP", "alice") == 0
    assert r.get("alice:x") is None and r.get("bob:x") == "2"
    with pytest.raises(redis.ResponseError, match="no such session"):
        r.execute_command("SESSION", "INFO", "alice")


def test_budget_evicts_oldest(r):
    for i in range(25):
        r.set(f"dave:k{i}", "v")
    assert r.get("dave:k0") is None
    assert r.get("dave:k24") == "v"
    assert r.dbsize() == 20


def test_policy_info_and_reload(r, tmp_path):
    info = r.execute_command("POLICY", "INFO")
    fields = dict(zip(info[::2], info[1::2]))
    assert fields["path"] == "policies/default.lua"
    assert len(fields["sha256"]) == 64
    assert r.execute_command("POLICY", "RELOAD") == "OK"
    # A path only with --policy-dir (tests/integration/test_hostile_clients.py).
    bad = tmp_path / "bad.lua"
    bad.write_text("return {\n  limits = {\n}")
    with pytest.raises(redis.ResponseError, match=r"policy: POLICY RELOAD takes a path only"):
        r.execute_command("POLICY", "RELOAD", str(bad))
    fields = dict(zip(*[iter(r.execute_command("POLICY", "INFO"))] * 2))
    assert fields["path"] == "policies/default.lua"
    assert fields["reloads"] == 1 and fields["reload_failures"] == 0


def test_misc(r):
    assert r.ping() is True
    assert r.echo("hi") == "hi"
    secs, usecs = r.time()
    assert abs(secs - time.time()) < 5
    assert r.execute_command("SELECT", 0) is True  # redis-py maps +OK to True
    with pytest.raises(redis.ResponseError, match="out of range"):
        r.execute_command("SELECT", 1)
    with pytest.raises(redis.ResponseError, match="unknown command"):
        r.execute_command("NOPE")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        r.execute_command("GET")
    assert isinstance(r.execute_command("ALERTS"), list)


def test_scan_and_keys(r):
    names = {f"e{i % 3}:key{i}" for i in range(30)}
    for name in names:
        r.set(name, "v")
    seen, cursor, calls = set(), 0, 0
    while True:
        cursor, keys = r.scan(cursor, count=4)
        seen.update(keys)
        calls += 1
        if cursor == 0:
            break
    assert seen == names and calls > 3
    assert set(r.scan_iter(match="e1:*")) == {n for n in names if n.startswith("e1:")}
    for pattern in ["e2:key1?", "e[01]:key[0-2]", "e[^0]:*7", "*", "e?:key2*", "nomatch*"]:
        assert set(r.keys(pattern)) == {n for n in names if fnmatch.fnmatchcase(n, pattern.replace("[^", "[!"))}
    r.set("g:a*b", "v")
    assert r.keys("g:a\\*b") == ["g:a*b"]
    assert list(r.scan_iter(_type="hash")) == []
    with pytest.raises(redis.ResponseError, match="invalid cursor"):
        r.execute_command("SCAN", "abc")


def test_hello_client_info(r):
    hello = r.execute_command("HELLO", "2")
    fields = dict(zip(hello[::2], hello[1::2]))
    assert fields["server"] == "policyd" and fields["proto"] == 2
    assert r.client_setname("tester") is True
    assert r.client_getname() == "tester"
    assert r.client_id() == fields["id"]
    info = r.info()
    assert info["redis_version"] == "7.0.0"
    assert info["connected_clients"] >= 1
    assert info["policy_path"] == "policies/default.lua"
    r.set("f:k", "v")
    assert r.info("keyspace")["db0"]["keys"] >= 1
    with pytest.raises(redis.ResponseError, match="NOPROTO"):
        r.execute_command("HELLO", "4")


def test_mset_all_or_nothing(r):
    assert r.mset({"h1:a": "1", "h2:b": "2"}) is True
    assert r.mget("h1:a", "h2:b") == ["1", "2"]
    big = "x" * (11 * 1024 * 1024)  # over a session's 10 MB budget
    with pytest.raises(redis.ResponseError, match="OOM"):
        r.mset({"h1:a": "changed", "h3:c": big})
    assert r.get("h1:a") == "1"
    assert r.get("h3:c") is None
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        r.execute_command("MSET", "h1:a")


def test_auth():
    from conftest import start, stop
    proc, port = start("--requirepass", "s3cret")
    try:
        anon = redis.Redis(port=port, decode_responses=True)
        with pytest.raises(redis.AuthenticationError, match="Authentication required"):
            anon.get("a:k")
        # Redis's own wording; redis-py 4.3 maps it to a plain ResponseError.
        with pytest.raises(redis.ResponseError, match="WRONGPASS"):
            redis.Redis(port=port, password="wrong").ping()
        good = redis.Redis(port=port, password="s3cret", decode_responses=True)
        assert good.set("a:k", "v") is True and good.get("a:k") == "v"
    finally:
        stop(proc)


def test_alerts_channel(r):
    import json
    sub = r.pubsub()
    sub.subscribe("policyd:alerts")
    assert sub.get_message(timeout=5)["type"] == "subscribe"
    for i in range(16):  # 80% of the default 20 entries
        r.set(f"i:k{i}", "v")
    deadline, message = time.time() + 10, None
    while time.time() < deadline and message is None:
        got = sub.get_message(timeout=1)
        if got and got["type"] == "message":
            message = got
    assert message is not None and message["channel"] == "policyd:alerts"
    alert = json.loads(message["data"])
    assert alert["kind"] == "session_near_budget" and alert["session"] == "i"
    assert alert["severity"] == "warning" and alert["threshold"] == 0.8
    listed = r.execute_command("ALERTS", 1)[0]
    assert dict(zip(listed[::2], listed[1::2]))["kind"] == "session_near_budget"
    sub.close()


def test_subscribed_connection_takes_only_pubsub_commands(daemon):
    import socket
    with socket.create_connection(("127.0.0.1", daemon)) as s:
        s.sendall(b"SUBSCRIBE policyd:alerts\r\nGET a:k\r\n")
        reply = b""
        while b"allowed in this context" not in reply:
            chunk = s.recv(4096)
            assert chunk
            reply += chunk
        assert reply.startswith(b"*3\r\n$9\r\nsubscribe\r\n$14\r\npolicyd:alerts\r\n:1\r\n")


def test_memory(r):
    r.set("j:k", "x" * 100)
    assert r.memory_usage("j:k") >= 100
    assert r.memory_usage("j:none") is None
    stats = r.memory_stats()
    assert stats["session_bytes"] > 0 and stats["sessions"] >= 1
    assert r.memory_purge() is True


def test_unix_socket(tmp_path):
    from conftest import start, stop
    path = str(tmp_path / "policyd.sock")
    proc, port = start("--unixsocket", path)
    try:
        over_unix = redis.Redis(unix_socket_path=path, decode_responses=True)
        assert over_unix.set("u:k", "v") is True
        assert redis.Redis(port=port, decode_responses=True).get("u:k") == "v"
    finally:
        stop(proc)
    assert not os.path.exists(path)


def test_getex_and_config(r):
    r.set("k:g", "v")
    assert r.getex("k:g", ex=100) == "v" and 99 <= r.ttl("k:g") <= 100
    assert r.getex("k:g", persist=True) == "v" and r.ttl("k:g") == -1
    assert r.getex("k:g", px=50_000) == "v" and r.pttl("k:g") > 0
    assert r.getex("k:none") is None
    assert r.config_get("save") == {"save": ""}
    assert r.config_get("appendonly") == {"appendonly": "no"}
    assert set(r.config_get("max*")) == {"maxmemory", "maxmemory-policy"}


def test_resp3_after_hello_3(daemon):
    import socket
    with socket.create_connection(("127.0.0.1", daemon)) as s:
        s.sendall(b"HELLO 3\r\nSET r3:k v\r\nSESSION INFO r3\r\nGET r3:none\r\n")
        s.settimeout(5)
        data = b""
        while not data.endswith(b"_\r\n"):
            chunk = s.recv(65536)
            assert chunk
            data += chunk
    assert data.startswith(b"%7\r\n")            # HELLO's map
    assert b"+OK\r\n%15\r\n$4\r\nname\r\n$2\r\nr3\r\n" in data  # SESSION INFO as a map
    assert data.endswith(b"_\r\n")               # RESP3 null


def test_replies_to_a_slow_reader_arrive_whole_and_in_order(daemon):
    # Replies bigger than the socket buffer are written in parts: the rest
    # must follow in order, after what the socket took at once.
    values = {b"slow:a": b"a" * (3 << 20), b"slow:b": b"b" * (2 << 20)}
    s = socket.create_connection(("127.0.0.1", daemon))
    request, expected = b"", b""
    for key, value in values.items():
        request += b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
            len(key), key, len(value), value)
        expected += b"+OK\r\n"
    for key in (b"slow:a", b"slow:b", b"slow:a"):
        request += b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n*1\r\n$4\r\nPING\r\n" % (len(key), key)
        expected += b"$%d\r\n%s\r\n+PONG\r\n" % (len(values[key]), values[key])
    s.sendall(request)
    time.sleep(0.5)  # a slow reader: 8 MB of replies overflow the socket
    s.settimeout(30)
    got = bytearray()
    while len(got) < len(expected):
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    s.close()
    assert bytes(got) == expected
