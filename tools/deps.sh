#!/bin/sh
# Installs the Debian packages policyd needs (DESIGN.md §2) when any is
# missing: with apt-get as root, otherwise it prints the command to run.
# Usage: tools/deps.sh [extra package...]
set -eu

packages="build-essential cmake pkg-config liblua5.4-dev lua5.4 libjemalloc-dev
libuv1-dev libxxhash-dev libmd-dev lua-busted redis-tools python3-redis python3-pytest
clang libclang-rt-dev $*"

missing=""
for p in $packages; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "policyd: missing Debian packages:$missing" >&2
    echo "run: sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "policyd: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq $missing
