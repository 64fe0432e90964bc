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
        s.sendall(b"GET big:v\r\n" * 20)  # 20 MiB of replies, never read
        assert c.ping() is True  # the replies were made
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
