"""Starts build/policyd (or $POLICYD_BUILD/policyd) on a free loopback port
with policies/default.lua for each test module, and stops it after."""
import os
import signal
import socket
import subprocess
import time

import pytest
import redis

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def daemon():
    build = os.environ.get("POLICYD_BUILD", os.path.join(ROOT, "build"))
    port = free_port()
    proc = subprocess.Popen(
        [os.path.join(build, "policyd"), "--policy", "policies/default.lua", "--port", str(port)],
        cwd=ROOT, stderr=subprocess.PIPE)
    client = redis.Redis(port=port, decode_responses=True)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield port
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


@pytest.fixture
def r(daemon):
    client = redis.Redis(port=daemon, decode_responses=True)
    client.flushall()
    yield client
    client.close()
