#!/usr/bin/env python3
"""policyd beside its peers (redis-server 7, memcached) on this machine.

Every server is a child process of this script on a free loopback port, in
its own temporary directory, and is stopped on exit. Sections:

  1. Throughput   redis-benchmark (-c 50 -d 32 -r 100000) against policyd
                  (lru, and again with sieve) and redis-server in turn
                  (A B C A B C) for SET, GET, MSET and MGET at -P 1 and
                  -P 16: requests/s, p50/p99 latency and the
                  server's CPU per request, utime+stime from /proc/PID/stat
                  (its utime part beside it; schedstat in the CSV);
                  medians over the rounds.
  2. Memory       RSS growth per key for 1,000,000 keys with 32, 100 and
                  1000-byte values, each server started fresh; policyd's
                  exact session bytes per key beside it.
  3. Eviction     CPU per SET while a full session (10,000 entries) evicts,
                  for each built-in strategy and the Lua chooser of
                  policies/chooser.lua, against the same load with no eviction.
  4. Policy host  POLICY RELOAD round trips and what a concurrent client sees
                  meanwhile (redis: FUNCTION LOAD REPLACE), bench_policy's
                  in-process figures, session create+drop over the wire.

Tables go to stdout with policyd's figure beside the peer's and the ratio
policyd/peer; every raw row and the medians go to one CSV per section in
--out, and every target, met or not, to summary.csv. Wall-clock figures on a
shared machine: compare within one run.

Usage: python3 tests/bench/peers.py --build build --out bench/results
                                    [--rounds N] [--quick] [--only SECTION,...]
Needs redis-server, redis-benchmark and memcached (`make bench` installs them).
"""
import argparse
import array
import atexit
import csv
import dataclasses
import datetime
import multiprocessing
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOLIMIT = REPO / "tests/bench/nolimit.lua"
STRATEGIES = ["lru", "lfu", "ttl", "size", "sieve", "s3fifo"]
CLK_TCK = os.sysconf("SC_CLK_TCK")
TIMEOUT = 300  # seconds for any one subprocess or socket wait: only so nothing hangs
KEYSPACE = 100_000  # redis-benchmark -r: keys key:000000000000 .. key:000000099999


# ---------------------------------------------------------------- servers

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server child process on a loopback port, in its own temp dir."""

    running = []  # stopped at exit whatever happens

    def __init__(self, name, argv, port, ping, pong):
        self.name, self.port = name, port
        self.dir = tempfile.mkdtemp(prefix=f"peers-{name}-")
        self.log = open(os.path.join(self.dir, "log"), "wb")
        self.proc = subprocess.Popen(argv, cwd=self.dir, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        Server.running.append(self)
        self._wait_ready(ping, pong)

    @property
    def pid(self):
        return self.proc.pid

    def _wait_ready(self, ping, pong):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    s.sendall(ping)
                    if s.recv(64).startswith(pong):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not answer on port {self.port}")

    def log_tail(self):
        self.log.flush()
        with open(os.path.join(self.dir, "log"), "rb") as f:
            return f.read()[-2000:].decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        if self in Server.running:
            Server.running.remove(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def stop_all_servers():
    for server in list(Server.running):
        server.stop()


PING = b"*1\r\n$4\r\nPING\r\n"


def start_policyd(build, policy):
    port = free_port()
    argv = [str(build / "policyd"), "--policy", str(policy), "--port", str(port),
            "--log-level", "warn"]
    return Server("policyd", argv, port, PING, b"+PONG")


def start_redis():
    port = free_port()
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--daemonize", "no"]
    return Server("redis", argv, port, PING, b"+PONG")


def start_memcached():
    port = free_port()
    argv = ["memcached", "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-m", "4096"]
    if os.geteuid() == 0:
        argv += ["-u", "root"]  # memcached refuses root without it
    return Server("memcached", argv, port, b"version\r\n", b"VERSION")


# ------------------------------------------------------- /proc figures

def cpu_seconds(pid):
    """utime and stime of the whole process (fields 14 and 15 of stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()  # from field 3 on
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def sched_seconds(pid):
    """Time on CPU of every thread of the process (schedstat, ns)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:  # a thread that just ended
            pass
    return total / 1e9


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def settled_rss(server, quiet=2.0, longest=30.0):
    """RSS after the load's freed pages went back to the system: both jemalloc
    servers are asked to purge them at once (MEMORY PURGE) rather than after
    their 10 s decay; memcached keeps its slabs, so it has nothing to give.
    Then RSS is read once it has moved less than 0.2% for `quiet` seconds."""
    if server.name in ("policyd", "redis"):
        with Resp(server.port) as c:
            c.call("MEMORY", "PURGE")
    deadline = time.monotonic() + longest
    last, since = rss_bytes(server.pid), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = rss_bytes(server.pid)
        if abs(now - last) > last * 0.002:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return last


# ------------------------------------------------------------- clients

class RespError(Exception):
    pass


def resp_command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Resp:
    """A minimal blocking RESP2 client; an error reply raises RespError."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb")

    def call(self, *args):
        self.sock.sendall(resp_command(*args))
        return self._reply()

    def _reply(self):
        line = self.file.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("connection closed mid-reply")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.file.read(n + 2)[:-2].decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise ConnectionError(f"unexpected reply {line!r}")

    def close(self):
        self.file.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def session_info(server, name):
    with Resp(server.port) as c:
        flat = c.call("SESSION", "INFO", name)
    return {k: v for k, v in zip(flat[::2], flat[1::2])}


def memcached_stats(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as s:
        s.sendall(b"stats\r\n")
        data = b""
        while not data.endswith(b"END\r\n"):
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("memcached closed the connection")
            data += chunk
    return dict(line.split()[1:3] for line in data.decode().splitlines()
                if line.startswith("STAT "))


def pipe_load(port, chunks, sync, expected):
    """Sends `chunks` then `sync` on one connection while a thread reads the
    replies; fails unless the replies are exactly `expected`."""
    received = bytearray()
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)

    def read():
        try:
            while len(received) < len(expected):
                data = sock.recv(1 << 20)
                if not data:
                    return
                received.extend(data)
        except OSError:
            return

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for chunk in chunks:
            sock.sendall(chunk)
        sock.sendall(sync)
        reader.join(TIMEOUT)
    finally:
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        reader.join()
    if received != expected:
        at = next((i for i, (a, b) in enumerate(zip(received, expected)) if a != b),
                  min(len(received), len(expected)))
        raise RuntimeError(f"load on port {port}: unexpected reply at byte {at}: "
                           f"{bytes(received[at:at + 120])!r}")


def key_value_chunks(line_format, count, chunk=10_000):
    """The bytes of `line_format % i` for i in 0..count-1, in big chunks."""
    for start in range(0, count, chunk):
        yield b"".join([line_format % i for i in range(start, min(start + chunk, count))])


def load_keys(server, key_format, count, size):
    """Stores `count` keys `key_format % i` with `size`-byte values."""
    value = b"v" * size
    if server.name == "memcached":
        line = b"set " + key_format + b" 0 0 %d noreply\r\n" % size + value + b"\r\n"
        version = b"VERSION " + memcached_version().encode() + b"\r\n"
        pipe_load(server.port, key_value_chunks(line, count), b"version\r\n", version)
    else:
        line = (b"*3\r\n$3\r\nSET\r\n$%d\r\n" % len(key_format % 0) + key_format +
                b"\r\n$%d\r\n" % size + value + b"\r\n")
        pipe_load(server.port, key_value_chunks(line, count), PING,
                  b"+OK\r\n" * count + b"+PONG\r\n")


def stored_keys(server, session):
    """How many keys the server holds (policyd: in `session`)."""
    if server.name == "policyd":
        return int(session_info(server, session)["entries"])
    if server.name == "redis":
        with Resp(server.port) as c:
            return c.call("DBSIZE")
    return int(memcached_stats(server)["curr_items"])


# --------------------------------------------------------- redis-benchmark

@dataclass
class Run:
    rps: float
    p50: float  # ms
    p99: float  # ms
    cpu_us: float  # server utime+stime per request
    sched_us: float  # server time on CPU per request (schedstat)
    user_us: float  # the utime part: the server's own code, not the kernel's


def benchmark(server, command, n, pipeline, keyspace=KEYSPACE):
    """One redis-benchmark run against `server`, with its CPU per request."""
    argv = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(server.port), "-c", "50",
            "-d", "32", "-r", str(keyspace), "-n", str(n), "-P", str(pipeline),
            "-e", "--csv"] + command
    (user, system), sched = cpu_seconds(server.pid), sched_seconds(server.pid)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT)
    user_after, system_after = cpu_seconds(server.pid)
    user, system = user_after - user, system_after - system
    sched = sched_seconds(server.pid) - sched
    out = done.stdout
    if done.returncode or "Error" in out:
        raise RuntimeError(f"{server.name}: {' '.join(argv)}: {(out + done.stderr).strip()[:500]}")
    row = list(csv.reader(line for line in out.splitlines() if line.startswith('"')))[-1]
    return Run(rps=float(row[1]), p50=float(row[4]), p99=float(row[6]),
               cpu_us=(user + system) * 1e6 / n, sched_us=sched * 1e6 / n,
               user_us=user * 1e6 / n)


def median_run(runs):
    """The median of each figure over `runs`."""
    return Run(*(statistics.median(getattr(r, f.name) for r in runs)
                 for f in dataclasses.fields(Run)))


def ratio_run(a, b):
    """Each figure of `a` over the same figure of `b`."""
    return Run(*(ratio(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(Run)))


def run_fields(run):
    return [f"{run.rps:.0f}", f"{run.p50:.3f}", f"{run.p99:.3f}",
            f"{run.cpu_us:.3f}", f"{run.sched_us:.3f}", f"{run.user_us:.3f}"]


def ratio_fields(run):
    return [f"{getattr(run, f.name):.3f}" for f in dataclasses.fields(Run)]


# -------------------------------------------------------------- output

def is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return text == ""


def table(headers, rows):
    """Prints rows under headers: numeric columns right-aligned, text left."""
    cells = [[str(c) for c in row] for row in rows]
    columns = list(zip(headers, *cells))
    widths = [max(map(len, column)) for column in columns]
    right = [all(map(is_number, column[1:])) for column in columns]
    for row in [headers] + cells:
        print("  ".join(c.rjust(w) if r else c.ljust(w)
                        for c, w, r in zip(row, widths, right)).rstrip())
    print()


def write_csv(path, headers, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers)
        writer.writerows(rows)


def section(title):
    print(f"== {title}\n", flush=True)


@dataclass
class Target:
    section: str
    name: str
    measured: str
    goal: str
    met: bool

    @property
    def verdict(self):
        return "met" if self.met else "gap"


def cpu_target(section_name, what, ours, theirs, goal):
    """The target that `ours` costs at most `goal` times `theirs` in CPU/request."""
    r = ratio(ours.cpu_us, theirs.cpu_us)
    return Target(section_name, what, f"{r:.2f} ({ours.cpu_us:.2f} vs {theirs.cpu_us:.2f} us)",
                  f"<= {goal}", r <= goal)


def percentile(values, p):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * p // 100) - 1)]


def ratio(a, b):
    return a / b if b else float("nan")


# --------------------------------------------------------- 0. header

def version_of(argv, pattern):
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout
    found = re.search(pattern, out)
    return found.group(1) if found else out.strip()


def memcached_version():
    return version_of(["memcached", "-V"], r"memcached (\S+)")


def header(cfg):
    with open("/proc/cpuinfo") as f:
        cpuinfo = f.read()
    model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.M)
    items = [
        ("date", datetime.datetime.now().astimezone().isoformat(timespec="seconds")),
        ("kernel", platform.release()),
        ("cpu", model.group(1) if model else "unknown"),
        ("cores", str(len(re.findall(r"^processor\s*:", cpuinfo, re.M)))),
        ("load average", " ".join(f"{x:.2f}" for x in os.getloadavg())),
        ("policyd", version_of([str(cfg.build / "policyd"), "--version"], r"policyd (\S+)")),
        ("redis-server", version_of(["redis-server", "--version"], r"v=(\S+)")),
        ("memcached", memcached_version()),
        ("rounds", str(cfg.rounds) + (" (--quick)" if cfg.quick else "")),
    ]
    section("policyd beside redis-server and memcached")
    for item, value in items:
        print(f"{item:<14}{value}")
    print()
    write_csv(cfg.out / "environment.csv", ["item", "value"], items)


# ------------------------------------------------------ 1. throughput

MGET_10 = ["MGET"] + ["key:__rand_int__"] * 10
THROUGHPUT_TESTS = [  # name, redis-benchmark command, pipeline, requests (~1 s)
    ("SET", ["-t", "set"], 1, 100_000),
    ("GET", ["-t", "get"], 1, 100_000),
    ("SET", ["-t", "set"], 16, 1_000_000),
    ("GET", ["-t", "get"], 16, 1_000_000),
    ("MSET", ["-t", "mset"], 1, 50_000),
    ("MGET", MGET_10, 1, 50_000),
    ("MSET", ["-t", "mset"], 16, 150_000),
    ("MGET", MGET_10, 16, 200_000),
]
CPU_TARGET = 0.8  # policyd's CPU per request against redis-server's, at most


def sieve_policy(work):
    """nolimit.lua with SIEVE's bookkeeping instead of LRU's: a hit sets a
    bit instead of moving the entry in a list. Nothing is evicted either
    way; this is what a read costs without an exact LRU order."""
    path = work / "nolimit-sieve.lua"
    path.write_text(NOLIMIT.read_text().replace('eviction = "lru"', 'eviction = "sieve"'))
    if 'eviction = "sieve"' not in path.read_text():
        raise RuntimeError(f"{NOLIMIT}: no eviction = \"lru\" line to change")
    return path


def throughput(cfg, work):
    section("1. Throughput: redis-benchmark -c 50 -d 32 -r 100000, policyd (nolimit.lua: "
            "lru), policyd with sieve and redis-server in turn, median of "
            f"{cfg.rounds}")
    raw, results = [], {}
    with start_policyd(cfg.build, NOLIMIT) as pd, \
            start_policyd(cfg.build, sieve_policy(work)) as pds, start_redis() as rd:
        servers = {"policyd": pd, "policyd-sieve": pds, "redis": rd}
        for server in servers.values():  # every key exists, so GETs hit
            load_keys(server, b"key:%012d", KEYSPACE, 32)
        for name, command, pipeline, n in THROUGHPUT_TESTS:
            test = f"{name} -P{pipeline}"
            runs = {label: [] for label in servers}
            for round_ in range(1, cfg.rounds + 1):
                for label, server in servers.items():
                    run = benchmark(server, command, cfg.scaled(n), pipeline)
                    runs[label].append(run)
                    raw.append(["round", test, label, round_] + run_fields(run))
            results[test] = runs
    return throughput_report(cfg, raw, results)


def throughput_report(cfg, raw, results):
    rows, sieve_rows, targets = [], [], []
    for test, runs in results.items():
        pd, pds, rd = (median_run(runs[k]) for k in ("policyd", "policyd-sieve", "redis"))
        r, rs = ratio_run(pd, rd), ratio_run(pds, rd)
        verdict = ""
        if test.split()[0] in ("SET", "GET"):
            targets.append(cpu_target("throughput", f"{test} CPU/req policyd/redis",
                                      pd, rd, CPU_TARGET))
            verdict = targets[-1].verdict
        rows.append([test, f"{pd.rps:.0f}", f"{rd.rps:.0f}", f"{r.rps:.2f}",
                     f"{pd.p50:.3f}", f"{rd.p50:.3f}", f"{pd.p99:.3f}", f"{rd.p99:.3f}",
                     f"{pd.cpu_us:.2f}", f"{rd.cpu_us:.2f}", f"{r.cpu_us:.2f}",
                     f"{pd.user_us:.2f}", f"{rd.user_us:.2f}", f"{r.user_us:.2f}", verdict])
        sieve_rows.append([test, f"{pds.rps:.0f}", f"{rs.rps:.2f}", f"{pds.p99:.3f}",
                           f"{pds.cpu_us:.2f}", f"{rd.cpu_us:.2f}", f"{rs.cpu_us:.2f}"])
        raw += [["median", test, "policyd", ""] + run_fields(pd),
                ["median", test, "policyd-sieve", ""] + run_fields(pds),
                ["median", test, "redis", ""] + run_fields(rd),
                ["ratio", test, "policyd/redis", ""] + ratio_fields(r),
                ["ratio", test, "policyd-sieve/redis", ""] + ratio_fields(rs)]
    table(["test", "rps pd", "rps redis", "ratio", "p50ms pd", "p50ms redis",
           "p99ms pd", "p99ms redis", "cpu us/req pd", "cpu redis", "cpu ratio",
           "user us/req pd", "user redis", "user ratio", f"cpu <= {CPU_TARGET}x"], rows)
    print("\nthe same runs, policyd with sieve (no list move on a hit):")
    table(["test", "rps pd-sieve", "/redis", "p99ms", "cpu us/req pd-sieve", "cpu redis",
           "cpu ratio"], sieve_rows)
    write_csv(cfg.out / "throughput.csv",
              ["kind", "test", "server", "round", "rps", "p50_ms", "p99_ms",
               "cpu_us_per_req", "sched_us_per_req", "user_us_per_req"], raw)
    return targets


# ---------------------------------------------------------- 2. memory

MEMORY_SIZES = [32, 100, 1000]
MEMORY_KEY = b"m:%010d"
REDIS_RSS_TARGET = 0.6  # policyd's RSS per key against redis-server's at 32 B


def memory(cfg):
    keys = cfg.scaled(1_000_000)
    section(f"2. Memory: RSS growth per key, {keys:,} keys m:%010d, each server fresh")
    starts = {"policyd": lambda: start_policyd(cfg.build, NOLIMIT),
              "redis": start_redis, "memcached": start_memcached}
    raw, per_key = [], {}
    for size in MEMORY_SIZES:
        for name, start in starts.items():
            with start() as server:
                before = rss_bytes(server.pid)
                load_keys(server, MEMORY_KEY, keys, size)
                loaded = rss_bytes(server.pid)
                after = settled_rss(server)
                stored = stored_keys(server, "m")
                if stored != keys:
                    raise RuntimeError(f"{name} holds {stored} keys after loading {keys}")
                exact = ""
                if name == "policyd":
                    info = session_info(server, "m")
                    exact = int(info["bytes"]) / int(info["entries"])
            per_key[size, name] = ((after - before) / keys, (loaded - before) / keys, exact)
            raw.append(["run", size, name, keys, before, loaded, after,
                        f"{(loaded - before) / keys:.1f}", f"{(after - before) / keys:.1f}",
                        f"{exact:.1f}" if exact else ""])
    return memory_report(cfg, raw, per_key)


def memory_report(cfg, raw, per_key):
    rows, targets = [], []
    for size in MEMORY_SIZES:
        (pd, pd_end, exact), (rd, rd_end, _), (mc, mc_end, _) = (
            per_key[size, s] for s in ("policyd", "redis", "memcached"))
        rows.append([size, f"{pd:.1f}", f"{rd:.1f}", f"{mc:.1f}",
                     f"{pd / rd:.2f}", f"{pd / mc:.2f}", f"{exact:.1f}",
                     f"{pd_end:.1f}", f"{rd_end:.1f}", f"{mc_end:.1f}", f"{pd_end / rd_end:.2f}"])
        raw.append(["ratio", size, "policyd/redis", "", "", "", "",
                    f"{pd_end / rd_end:.3f}", f"{pd / rd:.3f}", ""])
        raw.append(["ratio", size, "policyd/memcached", "", "", "", "",
                    f"{pd_end / mc_end:.3f}", f"{pd / mc:.3f}", ""])
        if size == 32:
            targets.append(Target("memory", "RSS/key policyd/redis at 32 B",
                                  f"{pd / rd:.2f} ({pd:.1f} vs {rd:.1f} B)",
                                  f"<= {REDIS_RSS_TARGET}", pd / rd <= REDIS_RSS_TARGET))
        targets.append(Target("memory", f"RSS/key policyd below memcached at {size} B",
                              f"{pd:.1f} vs {mc:.1f} B", "< 1.00x", pd < mc))
    print("RSS growth per key once settled (policyd and redis-server purged with MEMORY PURGE, "
          "then RSS steady for 2 s), and at load end (the moment the last reply arrives)")
    table(["value B", "RSS B/key pd", "redis", "memcached", "pd/redis", "pd/memcached",
           "pd exact B/key", "at load end: pd", "redis", "memcached", "pd/redis"], rows)
    write_csv(cfg.out / "memory.csv",
              ["kind", "value_bytes", "server", "keys", "rss_before", "rss_loaded",
               "rss_settled", "rss_bytes_per_key_loaded", "rss_bytes_per_key_settled",
               "exact_bytes_per_key"], raw)
    return targets


# -------------------------------------------------------- 3. eviction

PRESSURE_POLICY = """\
-- Generated by tests/bench/peers.py: every session full at 10,000 entries.
return {{
  name = "bench-{name}",
  limits = {{ bytes = "16GB", entries = 10000 }},
  system = {{ bytes = "64GB", sessions = 100 }},
  eviction = {eviction},
}}
"""
EVICTION_TARGET = 1.3  # CPU per evicting SET against a non-evicting one, at most
EVICTION_SET = ["-t", "set"]


def pressure_policies(work):
    """name -> policy file: each built-in strategy, and chooser.lua's chooser."""
    source = (REPO / "policies/chooser.lua").read_text()
    chooser = re.search(r"^\s*eviction = (function.*?^\s*end),$", source, re.S | re.M)
    if not chooser:
        raise RuntimeError("policies/chooser.lua: no `eviction = function ... end,` found")
    evictions = {name: f'"{name}"' for name in STRATEGIES}
    evictions["lua-chooser"] = chooser.group(1)
    paths = {}
    for name, eviction in evictions.items():
        paths[name] = work / f"pressure-{name}.lua"
        paths[name].write_text(PRESSURE_POLICY.format(name=name, eviction=eviction))
    return paths


FULL = 10_000  # entries in a full session


def prefill_session(server, keyspace=KEYSPACE):
    """redis-benchmark SETs over the whole keyspace into session `key`."""
    benchmark(server, EVICTION_SET, 200_000, 16, keyspace)
    return session_info(server, "key")


def evictions(server):
    return int(session_info(server, "key")["evictions"])


def evicting_run(server, n, keyspace=KEYSPACE):
    """A SET run and the evictions per request it caused in session `key`."""
    before = evictions(server)
    run = benchmark(server, EVICTION_SET, n, 16, keyspace)
    return run, (evictions(server) - before) / n


def eviction(cfg, work):
    """Each full session against two sessions that never evict: one over the
    same 100,000 keys (its SETs overwrite, over ten times the entries), and
    one over 10,000 keys, as many entries as the full session holds, so
    both work on the same amount of memory. The target is against the
    second: what eviction itself costs, not a smaller working set's gain."""
    n = cfg.scaled(1_000_000)
    section(f"3. Eviction: SET -P16 -c 50 -d 32 -r 100000 -n {n} into a session full at "
            f"{FULL:,} entries, against nolimit.lua over {FULL:,} keys (same entries) and "
            f"over 100,000 keys (same requests), rotating, median of {cfg.rounds}")
    raw, results = [], {}
    with start_policyd(cfg.build, NOLIMIT) as same, start_policyd(cfg.build, NOLIMIT) as matched:
        prefill_session(same)
        prefill_session(matched, FULL)
        for name, policy in pressure_policies(work).items():
            with start_policyd(cfg.build, policy) as pd:
                info = prefill_session(pd)
                if int(info["entries"]) != FULL or int(info["evictions"]) == 0:
                    raise RuntimeError(f"{name}: session key is not full and evicting: {info}")
                runs = {"matched": [], "same-keys": [], "strategy": []}
                for round_ in range(1, cfg.rounds + 1):
                    for label, server, keyspace in (("matched", matched, FULL),
                                                    ("same-keys", same, KEYSPACE),
                                                    ("strategy", pd, KEYSPACE)):
                        run, evicted = evicting_run(server, n, keyspace)
                        runs[label].append((run, evicted))
                        raw.append(["round", name, label, round_] + run_fields(run) +
                                   [f"{evicted:.3f}"])
                results[name] = runs
        for base in (same, matched):
            if evictions(base):
                raise RuntimeError(f"nolimit.lua evicted: {session_info(base, 'key')}")
    return eviction_report(cfg, raw, results)


def eviction_report(cfg, raw, results):
    rows, targets = [], []
    for name, runs in results.items():
        ev, matched, same = (median_run([run for run, _ in runs[k]])
                             for k in ("strategy", "matched", "same-keys"))
        per_request = statistics.median(e for _, e in runs["strategy"])
        r, r_same = ratio_run(ev, matched), ratio_run(ev, same)
        verdict = ""
        if name in STRATEGIES:
            targets.append(cpu_target("eviction",
                                      f"{name} CPU/req evicting/non-evicting (same entries)",
                                      ev, matched, EVICTION_TARGET))
            verdict = targets[-1].verdict
        rows.append([name, f"{ev.cpu_us:.2f}", f"{matched.cpu_us:.2f}", f"{r.cpu_us:.2f}",
                     f"{same.cpu_us:.2f}", f"{r_same.cpu_us:.2f}", f"{ev.sched_us:.2f}",
                     f"{r.sched_us:.2f}", f"{ev.rps:.0f}", f"{matched.rps:.0f}",
                     f"{per_request:.3f}", verdict])
        raw += [["median", name, "strategy", ""] + run_fields(ev) + [f"{per_request:.3f}"],
                ["median", name, "matched", ""] + run_fields(matched) + ["0"],
                ["median", name, "same-keys", ""] + run_fields(same) + ["0"],
                ["ratio", name, "strategy/matched", ""] + ratio_fields(r) + [""],
                ["ratio", name, "strategy/same-keys", ""] + ratio_fields(r_same) + [""]]
    table(["strategy", "cpu us/req", f"{FULL // 1000}k-key base", "ratio", "100k-key base",
           "ratio", "sched us/req", "sched ratio", "rps", f"{FULL // 1000}k-key rps",
           "evictions/req", f"cpu <= {EVICTION_TARGET}x"], rows)
    write_csv(cfg.out / "eviction.csv",
              ["kind", "strategy", "server", "round", "rps", "p50_ms", "p99_ms",
               "cpu_us_per_req", "sched_us_per_req", "user_us_per_req", "evictions_per_req"],
              raw)
    return targets


# ----------------------------------------------------- 4. policy host

REDIS_LIBRARY = "#!lua name=benchlib\nredis.register_function('f', function() return 1 end)"
RELOAD_TARGET_US = 1000  # a reload, in-process and over the wire
CLIENT_P99_TARGET_US = 2000  # a concurrent client's p99 while reloads happen


def probe(port, stop, results):
    """Back-to-back SET and GET round trips on one connection until `stop`;
    sends back each round trip's start and duration (ns) and every error."""
    starts, durations, errors = array.array("q"), array.array("q"), []
    try:
        with Resp(port) as c:
            while not stop.is_set():
                for args, want in ((("SET", "probe:k", "v"), "OK"), (("GET", "probe:k"), "v")):
                    t0 = time.perf_counter_ns()
                    try:
                        got = c.call(*args)
                    except RespError as e:
                        got = f"-{e}"
                    starts.append(t0)
                    durations.append(time.perf_counter_ns() - t0)
                    if got != want:
                        errors.append(f"{args[0]}: {got!r}")
    except OSError as e:
        errors.append(f"connection: {e}")
    results.send((starts, durations, errors))


def phase(starts, durations, begin, end):
    """p50, p99 and max (us) of the round trips that started in [begin, end)."""
    window = [d / 1e3 for s, d in zip(starts, durations) if begin <= s < end]
    if not window:
        raise RuntimeError("the probe made no round trip in a phase")
    return percentile(window, 50), percentile(window, 99), max(window), len(window)


def reload_under_load(server, reload, count):
    """`count` reloads 10 ms apart while a probe process runs round trips,
    then as long again without reloads. Returns the reload round trips (us),
    the probe's figures in both phases, and its errors."""
    ctx = multiprocessing.get_context("fork")
    stop = ctx.Event()
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=probe, args=(server.port, stop, send))
    child.start()
    try:
        time.sleep(0.2)  # the probe connects and warms up
        rtts = []
        with Resp(server.port) as c:
            begin = time.perf_counter_ns()
            for _ in range(count):
                t0 = time.perf_counter_ns()
                reload(c)
                rtts.append((time.perf_counter_ns() - t0) / 1e3)
                time.sleep(0.01)
            middle = time.perf_counter_ns()
        time.sleep((middle - begin) / 1e9)
        end = time.perf_counter_ns()
        stop.set()
        if not receive.poll(TIMEOUT):
            raise RuntimeError(f"{server.name}: the probe did not report")
        starts, durations, errors = receive.recv()
    finally:
        stop.set()
        child.join(TIMEOUT)
        if child.is_alive():
            child.kill()
            child.join()
    return (rtts, phase(starts, durations, begin, middle),
            phase(starts, durations, middle, end), errors)


def create_drop(server, count, drop):
    """`count` times: SET s<i>:k, then drop it; wall and server CPU (us) per time."""
    with Resp(server.port) as c:
        sched, t0 = sched_seconds(server.pid), time.perf_counter_ns()
        for i in range(count):
            c.call("SET", f"s{i}:k", "v")
            if drop(c, i) != 1:
                raise RuntimeError(f"{server.name}: s{i} was not dropped")
        wall = (time.perf_counter_ns() - t0) / 1e3 / count
        sched = (sched_seconds(server.pid) - sched) * 1e6 / count
    return wall, sched


def bench_policy(cfg):
    """bench_policy's output as is, and its in-process reload median and p99 (us)."""
    out = subprocess.run([str(cfg.build / "tests/bench/bench_policy"), "policies/default.lua"],
                         cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT,
                         check=True).stdout
    found = re.search(r"reload of \S+: median (\d+) us, p99 (\d+) us", out)
    if not found:
        raise RuntimeError(f"bench_policy: no reload figure in:\n{out}")
    return out, float(found.group(1)), float(found.group(2))


def policy_host(cfg, work):
    reloads, iterations = cfg.scaled(200), cfg.scaled(2000)
    section(f"4. Policy host: {reloads} reloads 10 ms apart beside a client doing "
            "SET/GET round trips, then as long without")
    default = work / "default.lua"
    shutil.copy(REPO / "policies/default.lua", default)
    with start_policyd(cfg.build, default) as pd:
        pd_reload = reload_under_load(pd, lambda c: c.call("POLICY", "RELOAD"), reloads)
    with start_redis() as rd:
        rd_reload = reload_under_load(
            rd, lambda c: c.call("FUNCTION", "LOAD", "REPLACE", REDIS_LIBRARY), reloads)
    raw, rows = [], []
    for server, op, (rtts, during, quiet, errors) in (
            ("policyd", "POLICY RELOAD", pd_reload),
            ("redis", "FUNCTION LOAD REPLACE", rd_reload)):
        rows.append([server, op, f"{statistics.median(rtts):.0f}", f"{percentile(rtts, 99):.0f}",
                     *(f"{x:.0f}" for x in during[:3]), *(f"{x:.0f}" for x in quiet[:3]),
                     len(errors)])
        raw += [["reload", server, "reload_rtt_us", f"{t:.1f}"] for t in rtts]
        for name, (p50, p99, worst, n) in (("reloading", during), ("quiet", quiet)):
            raw += [["client", server, f"{name}_{k}", v] for k, v in
                     (("round_trips", n), ("p50_us", f"{p50:.1f}"), ("p99_us", f"{p99:.1f}"),
                      ("max_us", f"{worst:.1f}"))]
        raw += [["client", server, "error", e] for e in errors]
    table(["server", "reload by", "reload us p50", "p99", "client us p50", "p99", "max",
           "quiet us p50", "p99", "max", "errors"], rows)
    for e in pd_reload[3][:5] + rd_reload[3][:5]:
        print(f"  client error: {e}")

    print("bench_policy (in-process):")
    out, in_process, in_process_p99 = bench_policy(cfg)
    print("".join(f"  {line}\n" for line in out.strip().splitlines()), flush=True)
    raw += [["bench_policy", "policyd", "reload_median_us", in_process],
            ["bench_policy", "policyd", "reload_p99_us", in_process_p99]]

    with start_policyd(cfg.build, NOLIMIT) as pd:
        pd_cd = create_drop(pd, iterations, lambda c, i: c.call("SESSION", "DROP", f"s{i}"))
    with start_redis() as rd:
        rd_cd = create_drop(rd, iterations, lambda c, i: c.call("DEL", f"s{i}:k"))
    print(f"Session create+drop over the wire, {iterations} times one round trip each "
          "(policyd: SET s<i>:k v, SESSION DROP s<i>; redis: SET s<i>:k v, DEL s<i>:k):\n")
    table(["", "wall us", "server cpu us (schedstat)"],
          [["policyd", f"{pd_cd[0]:.1f}", f"{pd_cd[1]:.1f}"],
           ["redis", f"{rd_cd[0]:.1f}", f"{rd_cd[1]:.1f}"],
           ["ratio", f"{pd_cd[0] / rd_cd[0]:.2f}", f"{ratio(pd_cd[1], rd_cd[1]):.2f}"]])
    raw += [["create_drop", server, measure, f"{value:.1f}"]
            for server, (wall, cpu) in (("policyd", pd_cd), ("redis", rd_cd))
            for measure, value in (("wall_us", wall), ("sched_us", cpu))]
    write_csv(cfg.out / "policy_host.csv", ["part", "server", "measure", "value"], raw)

    rtts, during, _, errors = pd_reload
    wire = statistics.median(rtts)
    return [
        Target("policy", "reload in-process (bench_policy median)",
               f"{in_process:.0f} us (p99 {in_process_p99:.0f})", f"< {RELOAD_TARGET_US} us",
               in_process < RELOAD_TARGET_US),
        Target("policy", "POLICY RELOAD over the wire (median)",
               f"{wire:.0f} us (p99 {percentile(rtts, 99):.0f})", f"< {RELOAD_TARGET_US} us",
               wire < RELOAD_TARGET_US),
        Target("policy", "client p99 during reloads", f"{during[1]:.0f} us",
               f"< {CLIENT_P99_TARGET_US} us", during[1] < CLIENT_P99_TARGET_US),
        Target("policy", "client errors during reloads", str(len(errors)), "0", not errors),
    ]


# ------------------------------------------------------------- summary

def summary(cfg, targets):
    section("Targets")
    table(["section", "target", "measured", "goal", ""],
          [[t.section, t.name, t.measured, t.goal, t.verdict] for t in targets])
    write_csv(cfg.out / "summary.csv", ["section", "target", "measured", "goal", "verdict"],
              [[t.section, t.name, t.measured, t.goal, t.verdict] for t in targets])


@dataclass
class Config:
    build: Path
    out: Path
    rounds: int
    quick: bool
    only: list

    def scaled(self, n):
        """A run's size: n, or a tenth of it for --quick."""
        return n // 10 if self.quick else n


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", type=Path, default=Path("build"),
                        help="build directory holding policyd (default: build)")
    parser.add_argument("--out", type=Path, default=Path("bench/results"),
                        help="directory for the CSV files (default: bench/results)")
    parser.add_argument("--rounds", type=int, help="rounds per figure (default 3, 1 with --quick)")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run: a tenth of the sizes")
    parser.add_argument("--only", default="",
                        help="comma-separated sections to run: throughput,memory,eviction,policy")
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    if rounds < 1:
        parser.error("--rounds must be at least 1")
    only = [name for name in args.only.split(",") if name]
    unknown = set(only) - {"throughput", "memory", "eviction", "policy"}
    if unknown:
        parser.error(f"--only: unknown sections {', '.join(sorted(unknown))}")
    return Config(args.build.resolve(), args.out.resolve(), rounds, args.quick, only)


def check_tools(cfg):
    missing = [t for t in ("redis-server", "redis-benchmark", "memcached") if not shutil.which(t)]
    missing += [str(p) for p in (cfg.build / "policyd", cfg.build / "tests/bench/bench_policy")
                if not p.exists()]
    if missing:
        sys.exit(f"peers.py: missing {', '.join(missing)} (run: make bench)")


def main():
    cfg = parse_args()
    check_tools(cfg)
    cfg.out.mkdir(parents=True, exist_ok=True)
    atexit.register(stop_all_servers)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="peers-"))
    try:
        header(cfg)
        sections = {"throughput": lambda: throughput(cfg, work), "memory": lambda: memory(cfg),
                    "eviction": lambda: eviction(cfg, work),
                    "policy": lambda: policy_host(cfg, work)}
        targets = []
        for name, run in sections.items():
            if not cfg.only or name in cfg.only:
                targets += run()
        summary(cfg, targets)
    finally:
        stop_all_servers()
        shutil.rmtree(work, ignore_errors=True)
    print(f"elapsed {time.monotonic() - started:.0f} s; CSV files in {cfg.out}")


if __name__ == "__main__":
    main()
