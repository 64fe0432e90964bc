#!/bin/sh
# policyd replay on the shared cache trace gives the exact-LRU miss ratios
# of ../shared/traces/README.md at 137 / 687 / 1,375 entries (within 0.001).
# Usage: tests/replay_check.sh BUILD_DIR
set -eu
trace=$(dirname "$0")/../../shared/traces/cache2k-web12.csv
[ -f "$trace" ] || { echo "replay_check: no trace at $trace" >&2; exit 1; }
for anchor in 137:0.6030 687:0.4000 1375:0.3152; do
    n=${anchor%%:*} want=${anchor#*:}
    got=$("$1/policyd" replay --policy policies/lru.lua "$trace" --entries "$n" --csv |
          tail -1 | cut -d, -f4)
    /usr/bin/python3 -c "import sys; sys.exit(abs($got - $want) > 0.001)" ||
        { echo "replay_check: lru at $n entries: $got, want $want" >&2; exit 1; }
    echo "lru at $n entries: miss ratio $got (anchor $want)"
done
