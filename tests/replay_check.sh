#!/bin/sh
# policyd replay on the cache trace in tests/data gives the anchor miss
# ratios of tests/data/README.md at 137 / 687 / 1,375 entries: exact LRU,
# SIEVE and S3-FIFO, each within 0.001 of its row.
# Usage: tests/replay_check.sh BUILD_DIR
set -eu
trace=$(dirname "$0")/data/cache2k-web12.csv
[ -f "$trace" ] || { echo "replay_check: no trace at $trace" >&2; exit 1; }
for anchor in lru:137:0.6030 lru:687:0.4000 lru:1375:0.3152 \
              sieve:137:0.5975 sieve:687:0.3648 sieve:1375:0.2828 \
              s3fifo:137:0.5900 s3fifo:687:0.3519 s3fifo:1375:0.2775; do
    strategy=${anchor%%:*} rest=${anchor#*:}
    n=${rest%%:*} want=${rest#*:}
    got=$("$1/policyd" replay --policy policies/lru.lua "$trace" --entries "$n" \
          --strategy "$strategy" --csv | tail -1 | cut -d, -f4)
    /usr/bin/python3 -c "import sys; sys.exit(abs($got - $want) > 0.001)" ||
        { echo "replay_check: $strategy at $n entries: $got, want $want" >&2; exit 1; }
    echo "$strategy at $n entries: miss ratio $got (anchor $want)"
done
