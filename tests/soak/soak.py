#!/usr/bin/env python3
"""The soak (issue 10): policyd with policies/default.lua under mixed traffic
from well-behaved clients in 15 sessions, a reload every --reload seconds,
and hostile clients alongside — slowloris, pipelines never read, half
commands, huge bulks before AUTH. Checked:

  - the well-behaved clients see no error at all;
  - every sample (each second) has every session within its byte and
    entry limits, and the system within its byte and session budgets;
  - the bytes outside sessions (used_memory - session_bytes) grow less than
    --max-growth KB a minute (least squares over the second half), when
    asked (a Release build: ASan's quarantine hides the figure).

Prints a summary; exits 1 when a check fails.
Usage: soak.py --build DIR [--seconds N] [--reload S] [--max-growth KB]
"""
import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PASSWORD = "soak-secret"
SESSIONS = [f"t{i:02d}" for i in range(15)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Soak:
    def __init__(self, args):
        self.args = args
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ops = 0
        self.errors = []
        self.violations = []
        self.samples = 0
        self.outside = []  # (seconds, bytes)
        self.reloads = 0
        self.hostile = {"slowloris": 0, "slowloris_closed": 0, "unread": 0, "half": 0,
                        "unauth_bulk": 0}

    def client(self):
        return redis.Redis(port=self.port, password=PASSWORD, socket_timeout=30,
                           decode_responses=True)

    def error(self, what):
        with self.lock:
            self.errors.append(what)

    # --- the well-behaved ---------------------------------------------------
    def good(self, seed):
        rng = random.Random(seed)
        r = self.client()
        while not self.stop.is_set():
            s = rng.choice(SESSIONS)
            k = f"{s}:k{rng.randrange(40)}"
            try:
                op = rng.randrange(10)
                if op < 4:
                    r.set(k, "v" * rng.randrange(1, 2000))
                elif op < 7:
                    r.get(k)
                elif op == 7:
                    r.mset({f"{s}:m{i}": str(i) for i in range(rng.randrange(1, 5))})
                elif op == 8:
                    r.set(f"{s}:n", 1)
                    r.incrby(f"{s}:n", 5)
                    r.expire(k, 60)
                else:
                    r.delete(k)
                with self.lock:
                    self.ops += 1
            except Exception as e:  # noqa: BLE001 - every error is a finding
                self.error(f"{type(e).__name__}: {e}")
                r = self.client()
        r.close()

    # --- the hostile ----------------------------------------------------------
    def raw(self):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        return sock

    def slowloris(self):
        """20 connections, each a byte a second into a password of 16,000
        bytes (under the limit before AUTH): none ends within the soak. One
        the server closes is replaced."""
        socks = []
        while not self.stop.is_set():
            try:
                while len(socks) < 20:
                    sock = self.raw()
                    sock.sendall(b"*2\r\n$4\r\nAUTH\r\n$16000\r\n")
                    socks.append(sock)
            except OSError:
                pass
            for sock in list(socks):
                try:
                    sock.sendall(b"s")
                except OSError:
                    sock.close()
                    socks.remove(sock)
                    self.hostile["slowloris_closed"] += 1
            self.hostile["slowloris"] += 1
            self.stop.wait(1)
        for sock in socks:
            sock.close()

    def unread(self):
        big = self.client()
        big.set("t00:big", "x" * (1 << 20))
        big.close()
        while not self.stop.is_set():
            try:
                sock = self.raw()
                sock.sendall(f"AUTH {PASSWORD}\r\n".encode() + b"GET t00:big\r\n" * 500)
                self.stop.wait(5)  # never reads: the server must cut or drop it
                sock.close()
                self.hostile["unread"] += 1
            except OSError:
                pass

    def half(self):
        while not self.stop.is_set():
            try:
                sock = self.raw()
                sock.sendall(f"AUTH {PASSWORD}\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nab".encode())
                self.stop.wait(2)
                sock.close()
                self.hostile["half"] += 1
            except OSError:
                pass

    def unauth_bulk(self):
        chunk = b"x" * 65536
        while not self.stop.is_set():
            try:
                sock = self.raw()
                sock.sendall(b"*2\r\n$3\r\nSET\r\n$100000000\r\n")
                for _ in range(100):
                    sock.sendall(chunk)  # the server hangs up long before
            except OSError:
                self.hostile["unauth_bulk"] += 1
            self.stop.wait(0.5)

    # --- the checks -----------------------------------------------------------
    def sampler(self):
        r = self.client()
        t0 = time.monotonic()
        while not self.stop.wait(1):
            try:
                info = r.info()
                limit_bytes = info["maxmemory"]
                if limit_bytes and info["session_bytes"] > limit_bytes:
                    self.violations.append(f"system at {info['session_bytes']} > {limit_bytes}")
                if info["limit_sessions"] and info["sessions"] > info["limit_sessions"]:
                    self.violations.append(f"{info['sessions']} sessions")
                for name in r.execute_command("SESSION", "LIST"):
                    fields = r.execute_command("SESSION", "INFO", name)
                    if not fields:
                        continue  # dropped meanwhile
                    f = dict(zip(fields[::2], fields[1::2]))
                    if (f["limit_bytes"] and f["bytes"] > f["limit_bytes"]) or \
                            (f["limit_entries"] and f["entries"] > f["limit_entries"]):
                        self.violations.append(f"session {name}: {f}")
                self.outside.append((time.monotonic() - t0,
                                     info["used_memory"] - info["session_bytes"]))
                self.samples += 1
            except Exception as e:  # noqa: BLE001
                self.error(f"sampler {type(e).__name__}: {e}")
                r = self.client()
        r.close()

    def reloader(self):
        r = self.client()
        while not self.stop.wait(self.args.reload):
            try:
                assert r.execute_command("POLICY", "RELOAD") == "OK"
                self.reloads += 1
            except Exception as e:  # noqa: BLE001
                self.error(f"reload {type(e).__name__}: {e}")
        r.close()

    def growth_kb_per_min(self):
        half = [p for p in self.outside if p[0] >= self.outside[-1][0] / 2]
        if len(half) < 10:
            return 0.0
        mt = sum(t for t, _ in half) / len(half)
        mb = sum(b for _, b in half) / len(half)
        num = sum((t - mt) * (b - mb) for t, b in half)
        den = sum((t - mt) ** 2 for t, _ in half)
        return num / den * 60 / 1024 if den else 0.0

    def run(self):
        work = tempfile.mkdtemp()
        policy = os.path.join(work, "default.lua")
        shutil.copy(os.path.join(ROOT, "policies", "default.lua"), policy)
        self.port = free_port()
        log = open(os.path.join(work, "policyd.log"), "w")
        proc = subprocess.Popen([os.path.join(self.args.build, "policyd"), "--policy", policy,
                                 "--port", str(self.port), "--requirepass", PASSWORD],
                                stderr=log)
        try:
            for _ in range(200):
                try:
                    self.client().ping()
                    break
                except (redis.ConnectionError, redis.AuthenticationError):
                    time.sleep(0.05)
            workers = [threading.Thread(target=self.good, args=(i,)) for i in range(4)]
            workers += [threading.Thread(target=f) for f in
                        (self.slowloris, self.unread, self.half, self.unauth_bulk,
                         self.sampler, self.reloader)]
            for t in workers:
                t.start()
            self.stop.wait(self.args.seconds)
            self.stop.set()
            for t in workers:
                t.join(timeout=60)
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=60)
            log.close()
            if code != 0:  # what the daemon said last is the finding
                with open(os.path.join(work, "policyd.log"), errors="replace") as f:
                    sys.stdout.write("".join(f.readlines()[-60:]))
            shutil.rmtree(work)
        growth = self.growth_kb_per_min()
        print(f"soak: {self.args.seconds} s, {self.ops} operations by 4 clients, "
              f"{len(self.errors)} errors; {self.samples} samples, "
              f"{len(self.violations)} over a budget; {self.reloads} reloads; "
              f"hostile rounds {self.hostile}; outside sessions "
              f"{self.outside[-1][1] / 1024 if self.outside else 0:.0f} KB at the end, "
              f"growing {growth:.1f} KB/min; exit {code}")
        failed = bool(self.errors or self.violations or code != 0 or self.samples == 0 or
                      self.ops == 0)
        for e in (self.errors + self.violations)[:10]:
            print("  " + e)
        if self.args.max_growth is not None and growth >= self.args.max_growth:
            print(f"  outside sessions growing {growth:.1f} KB/min, "
                  f"over {self.args.max_growth}")
            failed = True
        return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--reload", type=float, default=30)
    ap.add_argument("--max-growth", type=float, default=None)
    sys.exit(Soak(ap.parse_args()).run())


if __name__ == "__main__":
    main()
