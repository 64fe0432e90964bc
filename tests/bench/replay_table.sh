#!/bin/sh
# Miss ratios of the built-in strategies on the shared cache trace, beside
# the trace README's rows (../shared/traces/README.md).
# Usage: tests/bench/replay_table.sh BUILD_DIR
set -eu
trace=$(dirname "$0")/../../../shared/traces/cache2k-web12.csv
[ -f "$trace" ] || { echo "replay_table: no trace at $trace" >&2; exit 1; }
printf '%-8s %10s %10s %10s   %s\n' strategy "137" "687" "1375" "(README: LRU 0.6030 0.4000 0.3152, SIEVE 0.5975 0.3648 0.2828, S3-FIFO 0.5900 0.3519 0.2775)"
for strategy in lru lfu ttl size sieve s3fifo; do
    row=""
    for n in 137 687 1375; do
        r=$("$1/policyd" replay --policy policies/lru.lua "$trace" --entries "$n" \
            --strategy "$strategy" --csv | tail -1 | cut -d, -f4)
        row="$row $(printf '%10s' "$r")"
    done
    printf '%-8s%s\n' "$strategy" "$row"
done
