#!/bin/sh
# Instructions per request, counted by callgrind (repeatable whatever else the
# machine does, unlike time). Two figures:
#   - the request path: policyd (Release) serving redis-benchmark's 100k SET
#     and 200k GET at -P 16, less a run that only starts, answers one PING and
#     stops, divided by the 300k requests;
#   - bench_engine at 100k entries: its whole run.
# Only the main thread counts (jemalloc's background thread wakes on timers).
# Usage: tests/bench/callgrind.sh BUILD_DIR   (a Release build: make build)
set -eu
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The main thread's total Ir in a callgrind output (thread 1 is the main one).
main_ir() {
    sed -n 's/^summary: *//p; s/^totals: *//p' "$1"-01 | head -1 | cut -d' ' -f1
}

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Runs policyd under callgrind, calls "$@" against it, stops it; prints Ir.
daemon_ir() {
    port=$(free_port)
    out="$work/daemon.$port"
    valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$out" \
        "$build/policyd" --policy "$root/tests/bench/nolimit.lua" --port "$port" \
        --log-level error 2>"$work/valgrind.log" &
    pid=$!
    tries=0
    until redis-cli -p "$port" ping >/dev/null 2>&1; do
        tries=$((tries + 1))
        [ $tries -lt 600 ] || { echo "callgrind: policyd did not start" >&2; cat "$work/valgrind.log" >&2; exit 1; }
        sleep 0.1
    done
    "$@"
    kill -TERM $pid
    wait $pid || { echo "callgrind: policyd did not exit cleanly" >&2; exit 1; }
    main_ir "$out"
}

load() {
    redis-benchmark -p "$port" -t set -n 100000 -P 16 -q >/dev/null
    redis-benchmark -p "$port" -t get -n 200000 -P 16 -q >/dev/null
}

idle=$(daemon_ir true)
busy=$(daemon_ir load)
echo "request path: $busy Ir in all, $idle Ir to start and stop;" \
     "$(( (busy - idle) / 300000 )) Ir/request (100k SET + 200k GET, -P 16)"

out="$work/engine"
valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$out" \
    "$build/tests/bench/bench_engine" 100000 >/dev/null 2>"$work/valgrind.log"
echo "bench_engine 100000: $(main_ir "$out") Ir"
