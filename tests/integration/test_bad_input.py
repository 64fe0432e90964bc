"""Bad input: each bad client gets -ERR Protocol error or a disconnect, and
nothing else changes: a well-behaved client sees no error and no data is
lost."""
import signal
import socket
import time

import pytest
import redis

BAD = [
    b"*2\r\n$3\r\nGET\r\n$-5\r\n",            # negative bulk length
    b"*x\r\n",                                # bad multibulk length
    b"*1\r\n+PING\r\n",                       # not a bulk string
    b"*1\r\n$4\r\nPINGxx\r\n",                # bulk longer than said
    b"*1\r\n$999999999999\r\n",               # bulk over the limit
    b"*99999999\r\n",                         # too many arguments
    b"SET k \"unbalanced\r\n",                # inline, unbalanced quotes
    b"*1\r\n$" + b"9" * 40 + b"\r\n",         # length line of junk
]


def read_until_closed(sock, timeout=10):
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return data, False
        if not chunk:
            return data, True
        data += chunk


@pytest.mark.parametrize("junk", BAD)
def test_protocol_errors_close_only_that_client(r, daemon, junk):
    r.set("good:k", "kept")
    with socket.create_connection(("127.0.0.1", daemon)) as s:
        s.sendall(junk)
        data, closed = read_until_closed(s)
    assert data.startswith(b"-ERR Protocol error"), data
    assert closed
    assert r.get("good:k") == "kept"
    assert r.ping() is True


def test_binary_junk_is_unknown_commands_not_a_crash(r, daemon):
    with socket.create_connection(("127.0.0.1", daemon)) as s:
        s.sendall(bytes(range(1, 256)).replace(b"\n", b"") + b"\r\n")
        s.settimeout(5)
        assert s.recv(4096).startswith(b"-ERR unknown command")
    assert r.ping() is True


def test_half_a_command_then_gone(r, daemon):
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", daemon)) as s:
            s.sendall(b"*3\r\n$3\r\nSET\r\n$5\r\nhalf:")
    assert r.get("half:k") is None
    assert r.ping() is True


def test_a_client_that_never_reads_is_let_go(r, daemon):
    r.set("big:k", "x" * (1 << 20))
    s = socket.create_connection(("127.0.0.1", daemon))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    request = b"*2\r\n$3\r\nGET\r\n$5\r\nbig:k\r\n" * 200  # 200 MiB of replies asked for
    s.setblocking(False)
    sent = 0
    deadline = time.time() + 30
    while sent < len(request) and time.time() < deadline:
        try:
            sent += s.send(request[sent:])
        except BlockingIOError:
            time.sleep(0.01)
        except OSError:
            break  # the server hung up: what we want
    # Meanwhile everyone else is served.
    assert r.ping() is True
    assert r.get("big:k") == "x" * (1 << 20)
    s.close()


def test_a_thousand_idle_connections(r, daemon):
    idle = [socket.create_connection(("127.0.0.1", daemon)) for _ in range(1000)]
    try:
        assert r.set("idle:k", "v") is True and r.get("idle:k") == "v"
        assert r.info("clients")["connected_clients"] >= 1000
    finally:
        for s in idle:
            s.close()
    deadline = time.time() + 10
    while time.time() < deadline and r.info("clients")["connected_clients"] > 5:
        time.sleep(0.1)
    assert r.info("clients")["connected_clients"] <= 5


def test_sigpipe_is_ignored():
    # Writing to a socket the peer has reset raises SIGPIPE, which would
    # stop the daemon: it must be an EPIPE for that client only.
    from conftest import start, stop
    proc, _ = start()
    try:
        with open(f"/proc/{proc.pid}/status") as status:
            ignored = next(line for line in status if line.startswith("SigIgn:"))
        assert int(ignored.split()[1], 16) & (1 << (signal.SIGPIPE - 1))
    finally:
        stop(proc)


def test_a_client_that_hangs_up_mid_reply(r, daemon):
    r.set("big:k", "x" * (1 << 20))
    request = b"*2\r\n$3\r\nGET\r\n$5\r\nbig:k\r\n" * 32
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", daemon))
        s.sendall(request)
        s.recv(1)
        s.close()
    assert r.ping() is True
    assert r.get("big:k") == "x" * (1 << 20)
