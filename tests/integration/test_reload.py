"""Reload: SIGHUP, POLICY RELOAD and a change of the policy file (also when
an editor saves by rename), under a client load that must see no error; a
broken policy never replaces the good one."""
import os
import signal
import threading
import time

import redis

from conftest import start, stop


def policy(entries):
    return f'return {{ name = "p{entries}", limits = {{ entries = {entries} }} }}\n'


def write_by_rename(path, text):
    tmp = str(path) + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def wait_for(check, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def info(r):
    raw = r.execute_command("POLICY", "INFO")
    return dict(zip(raw[::2], raw[1::2]))


def test_reload_under_load(tmp_path):
    path = tmp_path / "policy.lua"
    path.write_text(policy(1000))
    proc, port = start(policy=str(path))
    r = redis.Redis(port=port, decode_responses=True)
    errors, stop_load = [], threading.Event()

    def load():
        client = redis.Redis(port=port, decode_responses=True)
        i = 0
        while not stop_load.is_set():
            try:
                client.set(f"load:k{i % 500}", "v")
                client.get(f"load:k{i % 500}")
            except redis.RedisError as e:  # any error at all fails the test
                errors.append(e)
            i += 1

    worker = threading.Thread(target=load)
    worker.start()
    try:
        proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: info(r)["reloads"] == 1)
        assert r.execute_command("POLICY", "RELOAD") == "OK"
        assert info(r)["reloads"] == 2
        write_by_rename(path, "return { limits = }\n")  # broken: kept out
        assert wait_for(lambda: info(r)["reload_failures"] >= 1)
        assert info(r)["last_error"].startswith(str(path) + ":1:")
        r.set("probe:k", "v")
        assert r.execute_command("SESSION", "INFO", "probe")[11] == 1000
        write_by_rename(path, policy(7))  # good again, by rename
        assert wait_for(lambda: r.execute_command("SESSION", "INFO", "probe")[11] == 7)
        path.write_text(policy(9))  # and written in place
        assert wait_for(lambda: r.execute_command("SESSION", "INFO", "probe")[11] == 9)
    finally:
        stop_load.set()
        worker.join()
        stop(proc)
    assert errors == []
