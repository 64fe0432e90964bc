#!/usr/bin/env python3
"""PING under attack (issue 10): a well-behaved client's PING latency while
each hostile client runs, policyd (policies/default.lua) beside
redis-server, both with a password, in the same run on this machine.

Attacks, each for --seconds:
  none           the baseline
  slowloris      200 connections sending one byte a second of an AUTH
  unread         10 connections pipelining 1,000 GETs of a 1 MiB value, never reading
  half           200 connections each stopped half way through a SET
  unauth_bulk    4 clients announcing 100 MB bulks before AUTH, and sending
  many_channels  SUBSCRIBE of 150,000 channels in one command, then UNSUBSCRIBE

Prints p50/p99/max of the PINGs (microseconds) and the ratio policyd/redis;
writes --out/attack.csv. Timing on a shared machine: compare within a run.
Usage: attack.py --build build [--seconds 5] [--out bench/results]
"""
import argparse
import csv
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "attack-secret"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port):
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def command(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def read_reply(sock):
    """Reads one simple reply line (+PONG, +OK, :n, -ERR); bulk replies are
    not read here."""
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def authed(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(command("AUTH", PASSWORD))
    assert read_reply(sock).startswith(b"+OK")
    return sock


class Attack:
    def __init__(self, port, stop):
        self.port, self.stop = port, stop

    def raw(self):
        return socket.create_connection(("127.0.0.1", self.port), timeout=5)

    def none(self):
        self.stop.wait()

    def slowloris(self):
        socks = []
        try:
            for _ in range(200):
                s = self.raw()
                s.sendall(b"*2\r\n$4\r\nAUTH\r\n$16000\r\n")  # never ends
                socks.append(s)
            while not self.stop.wait(1):
                for s in socks:
                    try:
                        s.sendall(b"a")
                    except OSError:
                        pass
        finally:
            for s in socks:
                s.close()

    def unread(self):
        socks = []
        try:
            for _ in range(10):
                s = self.raw()
                s.sendall(command("AUTH", PASSWORD) + command("GET", "t00:big") * 1000)
                socks.append(s)
            self.stop.wait()
        finally:
            for s in socks:
                s.close()

    def half(self):
        socks = []
        try:
            for _ in range(200):
                s = self.raw()
                s.sendall(command("AUTH", PASSWORD) + b"*3\r\n$3\r\nSET\r\n$3\r\nt01\r\n$1000\r\nab")
                socks.append(s)
            self.stop.wait()
        finally:
            for s in socks:
                s.close()

    def unauth_bulk(self):
        chunk = b"x" * 65536

        def one():
            while not self.stop.is_set():
                try:
                    s = self.raw()
                    s.sendall(b"*2\r\n$3\r\nSET\r\n$100000000\r\n")
                    for _ in range(200):
                        s.sendall(chunk)
                    s.close()
                except OSError:
                    pass
        threads = [threading.Thread(target=one) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def many_channels(self):
        while not self.stop.is_set():
            s = authed(self.port)
            s.settimeout(120)
            s.sendall(command("SUBSCRIBE", *[f"c{i}" for i in range(150_000)]))
            s.sendall(command("UNSUBSCRIBE"))
            s.close()
            self.stop.wait(0.5)


ATTACKS = ["none", "slowloris", "unread", "half", "unauth_bulk", "many_channels"]


def measure(port, attack, seconds):
    stop = threading.Event()
    attacker = threading.Thread(target=getattr(Attack(port, stop), attack), daemon=True)
    attacker.start()
    time.sleep(0.5)  # the attack under way
    sock = authed(port)
    lat = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.perf_counter()
        sock.sendall(b"*1\r\n$4\r\nPING\r\n")
        assert read_reply(sock) == b"+PONG\r\n"
        lat.append((time.perf_counter() - t) * 1e6)
    sock.close()
    stop.set()
    attacker.join(timeout=150)
    lat.sort()
    return {"pings": len(lat), "p50": statistics.median(lat),
            "p99": lat[int(len(lat) * 0.99) - 1], "max": lat[-1]}


def start(kind, build, work):
    port = free_port()
    if kind == "policyd":
        argv = [str(Path(build).resolve() / "policyd"), "--policy", str(REPO / "policies/default.lua"),
                "--port", str(port), "--requirepass", PASSWORD, "--log-level", "error"]
    else:
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--requirepass", PASSWORD, "--dir", work]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)
    wait_port(port)
    s = authed(port)
    s.sendall(command("SET", "t00:big", b"x" * (1 << 20)))
    assert read_reply(s).startswith(b"+OK")
    s.close()
    return proc, port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    rows = []
    work = tempfile.mkdtemp()
    try:
        results = {}
        for kind in ("policyd", "redis-server"):
            proc, port = start(kind, args.build, work)
            try:
                for attack in ATTACKS:
                    results[(kind, attack)] = measure(port, attack, args.seconds)
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)
    finally:
        shutil.rmtree(work)
    print("PING under attack: a well-behaved client's PING latency (us), "
          f"{args.seconds:g} s each")
    print(f"{'attack':<14} {'policyd p50':>11} {'p99':>8} {'max':>9}   "
          f"{'redis p50':>9} {'p99':>8} {'max':>9}   {'p99 ratio':>9}")
    for attack in ATTACKS:
        p, r = results[("policyd", attack)], results[("redis-server", attack)]
        print(f"{attack:<14} {p['p50']:>11.0f} {p['p99']:>8.0f} {p['max']:>9.0f}   "
              f"{r['p50']:>9.0f} {r['p99']:>8.0f} {r['max']:>9.0f}   "
              f"{p['p99'] / r['p99']:>9.2f}")
        for kind, m in (("policyd", p), ("redis-server", r)):
            rows.append({"server": kind, "attack": attack, **{k: round(v, 1) for k, v in
                                                             m.items()}})
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "attack.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)


if __name__ == "__main__":
    main()
