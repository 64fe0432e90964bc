#!/bin/sh
# The peer's figure for bench_engine's overhead line: bytes per key over key
# and value in redis-server (used_memory growth), for 1,000,000 SETs of
# 10-byte keys ("k%09d") and 32-byte values, on a free loopback port.
set -eu
n=${1:-1000000}
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --dir "$dir" --logfile "$dir/redis.log"
for _ in 1 2 3 4 5 6 7 8 9 10; do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.2
done
used() { redis-cli -p "$port" info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p'; }
before=$(used)
/usr/bin/python3 -c '
import sys
n, v, w = int(sys.argv[1]), "v" * 32, sys.stdout.write
for i in range(n):
    w("*3\r\n$3\r\nSET\r\n$10\r\nk%09d\r\n$32\r\n%s\r\n" % (i, v))
' "$n" | redis-cli -p "$port" --pipe >/dev/null
after=$(used)
version=$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')
echo "redis-server $version, same keys and values: $(( (after - before) / n )) B per key," \
     "overhead $(( (after - before) / n - 42 )) B/entry (used_memory growth)"
