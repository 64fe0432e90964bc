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


def start(*extra, policy="policies/default.lua"):
    """Starts the daemon; returns (process, port) once it answers."""
    build = os.environ.get("POLICYD_BUILD", os.path.join(ROOT, "build"))
    port = free_port()
    proc = subprocess.Popen(
        [os.path.join(build, "policyd"), "--policy", policy, "--port", str(port), *extra],
        cwd=ROOT, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("policyd did not start")


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


@pytest.fixture(scope="module")
def daemon():
    proc, port = start()
    yield port
    stop(proc)


@pytest.fixture
def r(daemon):
    client = redis.Redis(port=daemon, decode_responses=True)
    client.flushall()
    yield client
    client.close()
