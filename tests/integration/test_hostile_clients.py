"""Hostile clients (issue 10): each test is named for the finding it guards
against and tries what broke the daemon before its fix. After each, the
daemon still answers a well-behaved client."""
import os
import signal
import socket
import subprocess
import time

import pytest
import redis

from conftest import ROOT, free_port, start, stop


def wait_for(port):
    for _ in range(400):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("policyd did not start")

INT64_MIN = -9223372036854775808
INT64_MAX = 9223372036854775807


def test_finding_1_unsubscribe_all_with_a_long_channel_name(r, daemon):
    """UNSUBSCRIBE with no argument once copied each name into 512 bytes and
    looped forever on a longer one."""
    name = b"c" * 600
    with socket.create_connection(("127.0.0.1", daemon), timeout=10) as s:
        s.sendall(b"SUBSCRIBE " + name + b"\r\nUNSUBSCRIBE\r\n")
        want = (b"*3\r\n$9\r\nsubscribe\r\n$600\r\n" + name + b"\r\n:1\r\n"
                b"*3\r\n$11\r\nunsubscribe\r\n$600\r\n" + name + b"\r\n:0\r\n")
        got = b""
        while len(got) < len(want):
            chunk = s.recv(65536)
            assert chunk, got
            got += chunk
        assert got == want
    assert r.ping() is True


def test_finding_7_expiry_arguments_at_the_ends_of_int64(r):
    """PEXPIREAT k INT64_MIN was a signed overflow (the sanitizer build
    aborted); as in Redis, a time that far in the past deletes the key."""
    r.set("k", "v")
    assert r.execute_command("PEXPIREAT", "k", INT64_MIN) == 1
    assert r.get("k") is None
    r.set("k", "v")
    assert r.execute_command("EXPIREAT", "k", -(INT64_MAX // 1000)) == 1
    assert r.get("k") is None

    # Past the range of milliseconds, or of the clock from now: an error
    # naming the command, and the key untouched.
    r.set("k", "v")
    for cmd, arg in [("EXPIRE", INT64_MIN), ("EXPIRE", INT64_MAX), ("EXPIREAT", INT64_MAX),
                     ("PEXPIRE", INT64_MAX)]:
        with pytest.raises(redis.ResponseError,
                           match=f"invalid expire time in '{cmd.lower()}' command"):
            r.execute_command(cmd, "k", arg)
    assert r.get("k") == "v" and r.ttl("k") == -1

    # An absolute time far in the future is kept, as Redis keeps it.
    assert r.execute_command("PEXPIREAT", "k", INT64_MAX) == 1
    assert r.pttl("k") > 10**15

    # SET, SETEX, PSETEX, GETEX: 0 and below are errors, and so is a
    # relative time past the clock's range.
    for args, cmd in [(("SET", "k", "v", "PX", INT64_MAX), "set"),
                      (("SET", "k", "v", "EX", INT64_MAX), "set"),
                      (("SET", "k", "v", "EXAT", INT64_MIN), "set"),
                      (("SET", "k", "v", "PXAT", 0), "set"),
                      (("SETEX", "k", INT64_MAX, "v"), "setex"),
                      (("PSETEX", "k", INT64_MIN, "v"), "psetex"),
                      (("GETEX", "k", "PX", INT64_MAX), "getex"),
                      (("GETEX", "k", "PXAT", INT64_MIN), "getex")]:
        with pytest.raises(redis.ResponseError, match=f"invalid expire time in '{cmd}' command"):
            r.execute_command(*args)
    assert r.get("k") == "v"
    assert r.execute_command("SET", "k", "w", "PXAT", INT64_MAX) is True
    assert r.pttl("k") > 10**15
    assert r.execute_command("SET", "k", "x", "PXAT", 1) is True  # long past: gone at once
    assert r.get("k") is None
    assert r.ping() is True


def test_finding_8_session_names_are_bounded(r):
    """A key's session part once had no bound (58 MiB flowed into Lua,
    logs, alerts and JSON); over 256 bytes, a write is refused."""
    long = "s" * 257
    for key in [long + ":k", "{" + long + "}k", "x" * (1 << 20) + ":k"]:
        with pytest.raises(redis.ResponseError, match="session name too long"):
            r.set(key, "v")
        assert r.get(key) is None
    assert r.execute_command("SESSION", "LIST") == []
    with pytest.raises(redis.ResponseError, match="session name too long"):
        r.mset({"ok:k": "v", long + ":k": "v"})
    assert r.get("ok:k") is None  # all or nothing
    assert r.set("s" * 256 + ":k", "v") is True
    assert "s" * 256 in r.execute_command("SESSION", "LIST")


def test_finding_8_the_bound_is_a_flag():
    proc, port = start("--max-session-name", "8")
    try:
        c = redis.Redis(port=port, decode_responses=True)
        assert c.set("abcdefgh:k", "v") is True
        with pytest.raises(redis.ResponseError, match="at most 8 bytes"):
            c.set("abcdefghi:k", "v")
        c.close()
    finally:
        stop(proc)


def test_finding_5_subscribe_to_150000_channels(r, daemon):
    """One SUBSCRIBE of 150,000 channels once scanned every channel per
    channel (41 s of a stalled loop). Its cost is counted in
    tests/test_commands.c; here: every reply comes, and others are served."""
    n = 150000
    cmd = [b"*%d\r\n$9\r\nSUBSCRIBE\r\n" % (n + 1)]
    cmd += [b"$7\r\nc%06d\r\n" % i for i in range(n)]
    with socket.create_connection(("127.0.0.1", daemon), timeout=120) as s:
        s.sendall(b"".join(cmd))
        want = b"$7\r\nc%06d\r\n:%d\r\n" % (n - 1, n)
        got = b""
        while not got.endswith(want):
            chunk = s.recv(1 << 20)
            assert chunk
            got = got[-64:] + chunk
        assert r.ping() is True
        s.sendall(b"UNSUBSCRIBE\r\n")
        got = b""
        while not got.endswith(b":0\r\n"):
            chunk = s.recv(1 << 20)
            assert chunk
            got = got[-64:] + chunk
    assert r.ping() is True


def test_finding_6_sigterm_with_a_client_that_never_reads(tmp_path):
    """A stop once waited forever for a client that does not read its
    replies. With --shutdown-timeout 1 it waits a second, cuts the client,
    says so, and exits 0."""
    log = open(tmp_path / "log", "w+")
    port = free_port()
    build = os.environ.get("POLICYD_BUILD", os.path.join(ROOT, "build"))
    proc = subprocess.Popen([os.path.join(build, "policyd"), "--policy", "policies/default.lua",
                             "--port", str(port), "--shutdown-timeout", "1"],
                            cwd=ROOT, stderr=log)
    try:
        wait_for(port)
        c = redis.Redis(port=port)
        c.set("big:v", b"x" * (1 << 20))
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET big:v\r\n" * 20 + b"SET done 1\r\n")  # 20 MiB, never read
        eventually(lambda: c.exists("done"))  # the replies were made
        c.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        s.close()
    finally:
        if proc.poll() is None:
            proc.kill()
    log.seek(0)
    text = log.read()
    assert "shutdown timeout: clients cut with replies unsent" in text and "clients=1" in text, text


def info_field(client, section, field):
    return int(client.info(section)[field])


def eventually(check, timeout=60):
    """Waits for check() to hold: another client's commands may run before
    the ones just sent. A guard against a hang, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.05)


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    raise RuntimeError("no VmHWM")


BIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "big.lua")


def started(*flags, policy=BIG):
    """A daemon of its own, for tests that watch its memory or set limits."""
    proc, port = start(*flags, policy=policy)
    return proc, port, redis.Redis(port=port)


def test_finding_2_a_pipeline_that_is_never_read():
    """1,000 GETs of a 1 MiB value in one read, never read: the output limit
    (64 MiB) was checked once per read, after all of them ran (RSS 1-2 GB).
    Now every reply counts against it and the client is cut."""
    proc, port, c = started()
    try:
        c.set("big:v", b"x" * (1 << 20))
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"GET big:v\r\n" * 1000)
            eventually(lambda: info_field(c, "clients", "clients_cut_for_memory") == 1)
            s.settimeout(30)
            while s.recv(1 << 20):  # what the socket took, then the close
                pass
        assert peak_rss_mb(proc.pid) < 600
    finally:
        c.close()
        stop(proc)


def test_finding_2_the_clients_together_are_capped():
    """Clients of a server with no password could hold 10,000 x 128 MiB; with
    --maxmemory-clients the ones holding the most are cut first. (The
    amounts dwarf what socket buffers can absorb.)"""
    proc, port, c = started("--maxmemory-clients", "64MB", "--client-output-limit", "1GB")
    try:
        c.set("big:v", b"x" * (1 << 20))
        socks = []
        for n in (30, 60, 90):  # MiB of replies each, not read yet
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET big:v\r\n" * n + b"SET done:%d 1\r\n" % n)
            socks.append(s)
            eventually(lambda: c.exists("done:%d" % n) or
                       info_field(c, "clients", "clients_cut_for_memory") >= 1)
        eventually(lambda: info_field(c, "clients", "clients_cut_for_memory") >= 1)
        assert info_field(c, "clients", "clients_memory") <= 64 << 20
        # The largest went first and the smallest stays: it reads all 30.
        got = [0, 0, 0]
        for i in (2, 0):
            socks[i].settimeout(60)
            while got[i] < 30 * ((1 << 20) + 12):
                chunk = socks[i].recv(1 << 20)
                if not chunk:
                    break
                got[i] += len(chunk)
        assert got[2] < 90 << 20
        assert got[0] >= 30 * ((1 << 20) + 12)
        for s in socks:
            s.close()
    finally:
        c.close()
        stop(proc)


def test_finding_2_a_reading_client_gets_replies_over_the_limit():
    """One whole reply always fits an empty buffer: a 90 MiB MGET reply (it
    disconnected a reading client) and a 100 MiB value come back whole."""
    proc, port, c = started()
    try:
        for i in range(3):
            c.set(f"m:{i}", bytes([65 + i]) * (30 << 20))
        got = c.mget(["m:0", "m:1", "m:2"])
        assert [len(v) for v in got] == [30 << 20] * 3 and got[2][:1] == b"C"
        assert c.set("big:100", b"y" * (100 << 20)) is True  # closed the connection before
        assert len(c.get("big:100")) == 100 << 20
    finally:
        c.close()
        stop(proc)


def test_finding_3_before_auth_the_limits_are_small():
    """Before AUTH a client could make the server hold 64-128 MiB. Redis 7's
    rule: at most 10 arguments of 16 KiB until authenticated."""
    proc, port, c = started("--requirepass", "secret")
    try:
        for junk, why in [(b"*11\r\n", b"unauthenticated multibulk length"),
                          (b"*1\r\n$16385\r\n", b"unauthenticated bulk length")]:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(junk)
                assert why in s.recv(4096)
                assert s.recv(4096) == b""  # closed
        c.execute_command("AUTH", "secret")
        assert c.set("after:auth", b"z" * (1 << 20)) is True  # the full limits after AUTH
    finally:
        c.close()
        stop(proc)


def test_finding_3_a_query_buffer_shrinks_after_a_large_command():
    """Ten idle clients that once sent 30 MiB held 313 MiB: a query buffer
    grown for one command is given back."""
    proc, port, c = started()
    try:
        clients = [redis.Redis(port=port) for _ in range(10)]
        for i, k in enumerate(clients):
            assert k.set(f"q:{i}", b"q" * (30 << 20)) is True
            k.delete(f"q:{i}")
        assert info_field(c, "clients", "clients_memory") < 10 << 20
        for k in clients:
            k.close()
    finally:
        c.close()
        stop(proc)


def test_the_query_limit_disconnects_a_command_past_it():
    """--client-query-limit: a command that needs more unparsed input than
    the limit (here three bulks of 500 KB, each under the bulk limit) closes
    its connection; others go on."""
    proc, port, c = started("--proto-max-bulk-len", "512KB", "--client-query-limit", "1MB")
    try:
        big = redis.Redis(port=port)
        with pytest.raises((redis.ConnectionError, redis.ResponseError)):
            big.mset({f"q:{i}": b"q" * (500 << 10) for i in range(3)})
        assert c.exists("q:0") == 0  # nothing of it was stored
        assert c.set("q:small", b"q" * (400 << 10)) is True
        assert c.ping() is True
        big.close()
    finally:
        c.close()
        stop(proc)


def test_finding_4_one_maximum_value_size():
    """APPEND could build a value no GET could read; one maximum value size
    (--proto-max-bulk-len) now bounds SET and APPEND alike."""
    proc, port, c = started("--proto-max-bulk-len", "1MB")
    try:
        assert c.set("a:k", b"x" * (1 << 20)) is True
        with pytest.raises(redis.ResponseError, match="string exceeds maximum allowed size"):
            c.append("a:k", "y")
        assert len(c.get("a:k")) == 1 << 20
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"*3\r\n$3\r\nSET\r\n$5\r\na:big\r\n$%d\r\n" % ((1 << 20) + 1))
            assert s.recv(4096) == b"-ERR Protocol error: invalid bulk length\r\n"
    finally:
        c.close()
        stop(proc)


def policy_info(client):
    info = client.execute_command("POLICY", "INFO")
    return dict(zip(info[::2], info[1::2]))


def test_finding_16_reload_paths_without_policy_dir(r):
    """POLICY RELOAD <path> opened any path sent over the network."""
    for path in ["/etc/passwd", "/nonexistent", "/dev/zero"]:
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("POLICY", "RELOAD", path)
        assert str(e.value).startswith("policy: POLICY RELOAD takes a path only")
    assert policy_info(r)["reload_failures"] == 0


def test_finding_16_reload_paths_under_policy_dir(tmp_path):
    """With --policy-dir, a path must resolve under it: one answer whether a
    file outside exists or not; regular files only, opened without blocking
    (a FIFO hung the daemon); SIGHUP and the watch follow the new path."""
    d = tmp_path / "policies"
    d.mkdir()
    (d / "a.lua").write_text('return { name = "a", limits = { entries = 10 } }\n')
    os.mkfifo(d / "fifo.lua")
    os.symlink("/etc/passwd", d / "out.lua")
    os.symlink("/dev/zero", d / "zero.lua")
    proc, port = start("--policy-dir", str(d))
    c = redis.Redis(port=port, decode_responses=True)
    try:
        fixed = "policy: not a file under the --policy-dir directory"
        for path in ["/etc/passwd", "/nonexistent", str(d / "out.lua"), str(d / "zero.lua"),
                     "../../../../etc/passwd", "missing.lua", str(tmp_path)]:
            with pytest.raises(redis.ResponseError) as e:
                c.execute_command("POLICY", "RELOAD", path)
            assert str(e.value) == fixed, path
        with pytest.raises(redis.ResponseError, match="fifo.lua:1: cannot open .*not a regular file"):
            c.execute_command("POLICY", "RELOAD", "fifo.lua")
        assert c.ping() is True
        assert c.execute_command("POLICY", "RELOAD", "a.lua") == "OK"
        assert policy_info(c)["path"] == str(d / "a.lua")
        # SIGHUP follows the new path.
        (d / "a.lua").write_text('return { name = "a2", limits = { entries = 10 } }\n')
        proc.send_signal(signal.SIGHUP)
        eventually(lambda: policy_info(c)["reloads"] >= 2)
        assert c.execute_command("SESSION", "LIST") == []
        assert policy_info(c)["path"] == str(d / "a.lua")
    finally:
        c.close()
        stop(proc)


def test_finding_16_policy_sources_are_regular_files(tmp_path):
    """A policy file, or a file it requires, that is a FIFO fails at once:
    it once blocked the open forever."""
    os.mkfifo(tmp_path / "fifo.lua")
    (tmp_path / "p.lua").write_text('local m = require "fifo"\nreturn { limits = {} }\n')
    build = os.environ.get("POLICYD_BUILD", os.path.join(ROOT, "build"))
    for policy, why in [(tmp_path / "fifo.lua", "not a regular file"),
                        (tmp_path / "p.lua", "module 'fifo' not found: cannot open")]:
        p = subprocess.run([os.path.join(build, "policyd"), "--check", str(policy)],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 1 and why in p.stderr, p
