#!/bin/sh
# Runs the libFuzzer targets of a fuzz build (make fuzz, make test).
# Each target first replays its corpus (fuzz/corpus/TARGET: every input
# must pass), then fuzzes for SECONDS from it; new inputs go to a scratch
# directory, never into the repository. Prints one line per target:
# executions, new inputs, crashes. Exits 1 on any crash.
# Usage: fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
set -eu
build=$(cd "$1" && pwd)
seconds=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
targets=${*:-resp dispatch policy trace}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
printf '%-10s %12s %10s %8s\n' target executions exec/s crashes
for t in $targets; do
    bin="$build/fuzz/fuzz_$t"
    corpus="$root/fuzz/corpus/$t"
    mkdir -p "$work/$t"
    log="$work/$t.log"
    # The corpus alone: every input in the repository must run clean.
    # The policy target's seeds include the shipped policies, where they live.
    extra=
    if [ "$t" = policy ]; then extra="$root/policies"; fi
    # fuzz_resp takes at most 512 bytes (its work is quadratic in the length).
    max_len=
    if [ "$t" = resp ]; then max_len=-max_len=512; fi
    if ! "$bin" -runs=0 "$corpus" ${extra:+"$extra"} >"$log.replay" 2>&1; then
        echo "fuzz_$t: an input of fuzz/corpus/$t fails:" >&2
        tail -40 "$log.replay" >&2
        failed=1
        continue
    fi
    crashes=0
    if ! "$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=20 -rss_limit_mb=4096 ${max_len:+"$max_len"} \
            -artifact_prefix="$work/$t-" "$work/$t" "$corpus" ${extra:+"$extra"} >"$log" 2>&1; then
        crashes=1
        failed=1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    printf '%-10s %12s %10s %8s\n' "$t" "${runs:-?}" "${rate:-?}" "$crashes"
    if [ "$crashes" -ne 0 ]; then
        echo "fuzz_$t found a crash; its input and log follow:" >&2
        ls "$work/$t-"* >&2 2>/dev/null || true
        grep -A30 -E "ERROR|SUMMARY|deadly" "$log" | head -60 >&2
        for a in "$work/$t-"*; do
            [ -f "$a" ] && mkdir -p "$root/fuzz/crashes" && cp "$a" "$root/fuzz/crashes/"
        done
    fi
done
exit $failed
