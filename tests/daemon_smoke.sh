#!/bin/sh
# The daemon with real clients: redis-cli and redis-benchmark against
# build/policyd on a free loopback port, then SIGTERM: exit 0.
# Usage: tests/daemon_smoke.sh BUILD_DIR
set -eu
bin=$1/policyd
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
"$bin" --policy policies/default.lua --port "$port" 2>"$log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
cli() { redis-cli -p "$port" "$@"; }
for _ in $(seq 50); do
    [ "$(cli ping 2>/dev/null)" = PONG ] && break
    sleep 0.1
done
fail() { echo "daemon_smoke: $*" >&2; cat "$log" >&2; exit 1; }
[ "$(cli set alice:x 1)" = OK ] || fail "set"
[ "$(cli get alice:x)" = 1 ] || fail "get"
[ "$(cli get bob:x)" = "" ] || fail "get of a missing key"
[ "$(cli exists alice:x bob:x)" = 1 ] || fail "exists"
info=$(cli session info alice)
bytes=$(echo "$info" | sed -n '/^bytes$/{n;p}')
arena=$(echo "$info" | sed -n '/^arena_bytes$/{n;p}')
[ -n "$bytes" ] && [ "$bytes" = "$arena" ] || fail "bytes $bytes != arena_bytes $arena"
[ "$(cli session list)" = alice ] || fail "session list"
cli set k v ex 0 | grep -q "invalid expire time" || fail "set ex 0"
cli nosuchcommand | grep -q "unknown command" || fail "unknown command"
printf 'PING\r\n' | cli >/dev/null || fail "inline"
redis-benchmark -p "$port" -t set,get -n 2000 -q >/dev/null || fail "redis-benchmark"
[ "$(cli ping)" = PONG ] || fail "alive after the benchmark"
kill -TERM "$pid"
wait "$pid" || fail "exit status $?"
grep -q 'level=info msg=stopped' "$log" || fail "no clean stop"

# --log-format json: every line one JSON object.
"$bin" --policy policies/default.lua --port "$port" --log-format json 2>"$log" &
pid=$!
for _ in $(seq 50); do
    [ "$(cli ping 2>/dev/null)" = PONG ] && break
    sleep 0.1
done
kill -TERM "$pid"
wait "$pid" || fail "exit status $? (json logs)"
/usr/bin/python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert [l["msg"] for l in lines] == ["listening", "stopping", "stopped"], lines
assert all(set(l) >= {"time", "level", "msg"} for l in lines)
' "$log" || fail "json logs"
echo "daemon_smoke: 1 passed, 0 failed"
