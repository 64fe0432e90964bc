#!/bin/sh
# Miss ratios of the built-in strategies on real cache traces, beside the
# anchor rows measured with libCacheSim. The cache2k trace is in the
# repository (tests/data); the team's other traces are read from
# ../shared/traces beside the clone when present, and skipped, saying so,
# when not (their terms keep them out of the repository).
# Usage: tests/bench/replay_table.sh BUILD_DIR
set -eu
here=$(dirname "$0")
shared=$here/../../../shared/traces

# table TRACE "N1 N2 N3" "anchor rows"
table() {
    printf '\n%s\n%-8s %10s %10s %10s   %s\n' "$(basename "$1")" strategy $2 "($3)"
    for strategy in lru lfu ttl size sieve s3fifo; do
        row=""
        for n in $2; do
            r=$("$build/policyd" replay --policy policies/lru.lua "$1" --entries "$n" \
                --strategy "$strategy" --csv | tail -1 | cut -d, -f4)
            row="$row $(printf '%10s' "$r")"
        done
        printf '%-8s%s\n' "$strategy" "$row"
    done
}

build=$1
table "$here/../data/cache2k-web12.csv" "137 687 1375" \
    "anchors: LRU 0.6030 0.4000 0.3152, SIEVE 0.5975 0.3648 0.2828, S3-FIFO 0.5900 0.3519 0.2775"
if [ -f "$shared/arc-P12-1000k.csv" ]; then
    table "$shared/arc-P12-1000k.csv" "3407 17038 34077" \
        "anchors: LRU 0.9361 0.9063 0.8626, SIEVE 0.9566 0.8527 0.7792, S3-FIFO 0.9333 0.8628 0.7753"
else
    echo "replay_table: $shared/arc-P12-1000k.csv not found: skipped"
fi
if [ -f "$shared/lirs-sprite.csv" ]; then
    table "$shared/lirs-sprite.csv" "70 353 707" \
        "anchors: LRU 0.8367 0.3437 0.1352, SIEVE 0.8071 0.3947 0.1848, S3-FIFO 0.7876 0.3282 0.1386"
else
    echo "replay_table: $shared/lirs-sprite.csv not found: skipped"
fi
