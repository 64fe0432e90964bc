"""The reference design's leak and stability checks, against the daemon.
Memory figures come from MEMORY STATS: jemalloc's allocated bytes, less the
sessions' own (exact) bytes, is what the daemon itself keeps."""
import os
import socket
import time

import redis

from conftest import start, stop


def outside(r):
    stats = r.memory_stats()
    return stats["allocated"] - stats["session_bytes"]


def mixed_round(r, i):
    s = f"mix{i % 15}"
    r.set(f"{s}:k{i % 40}", "v" * (i % 200 + 1), ex=60)
    r.get(f"{s}:k{(i * 7) % 40}")
    r.incr(f"{s}:n")
    r.append(f"{s}:log", "x")
    r.delete(f"{s}:k{(i * 3) % 40}")
    r.expire(f"{s}:log", 30)


def slope(values):
    n = len(values)
    mx, my = (n - 1) / 2, sum(values) / n
    return sum((x - mx) * (y - my) for x, y in enumerate(values)) / sum((x - mx) ** 2 for x in range(n))


def test_leaks_and_stability():
    proc, port = start()
    r = redis.Redis(port=port, decode_responses=True)
    try:
        for i in range(200):  # warm up: buffers, Lua state, arenas reach their size
            mixed_round(r, i)
        base = outside(r)
        samples = []
        for i in range(1000):
            mixed_round(r, i)
            if i % 100 == 99:
                samples.append(outside(r))
        assert outside(r) - base < 1 << 20, "1,000 rounds grew the daemon by 1 MB"
        assert slope(samples) < 100 * 1024, samples

        # 100 sessions created and dropped leave none behind (the default
        # policy admits each by dropping the idlest of the 15 mix sessions).
        for i in range(100):
            r.set(f"churn{i}:k", "v")
            assert r.execute_command("SESSION", "DROP", f"churn{i}") == 1
        assert not [n for n in r.execute_command("SESSION", "LIST") if n.startswith("churn")]
        assert r.memory_stats()["sessions"] <= 15
        assert outside(r) - base < 1 << 20

        # 1,000 connects and disconnects leave no descriptor behind.
        fds = len(os.listdir(f"/proc/{proc.pid}/fd"))
        for _ in range(1000):
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(b"PING\r\n")
                assert s.recv(16) == b"+PONG\r\n"
        time.sleep(0.5)
        assert len(os.listdir(f"/proc/{proc.pid}/fd")) <= fds

        # 15 sessions under mixed load for 5 s grow the process by < 5 MB.
        start_bytes = r.memory_stats()["allocated"]
        deadline, i = time.time() + 5, 0
        while time.time() < deadline:
            mixed_round(r, i)
            i += 1
        assert r.memory_stats()["allocated"] - start_bytes < 5 << 20

        # Two sessions never see each other's data.
        r.set("iso1:k", "one")
        r.set("iso2:k", "two")
        assert (r.get("iso1:k"), r.get("iso2:k")) == ("one", "two")
        assert r.execute_command("SESSION", "DROP", "iso1") == 1
        assert r.get("iso2:k") == "two" and r.get("iso1:k") is None
    finally:
        stop(proc)
