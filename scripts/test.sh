#!/usr/bin/env bash
# Runs every test of the workspace. Installs redis-server first when it is missing,
# because the worker tests start real Redis servers of their own on free ports.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing redis-server (the worker tests start their own servers)..."
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    else
        echo "error: redis-server is not installed; install it (apt-get install redis-server)" >&2
        exit 1
    fi
fi

# XTR_REALDATA (default ../shared/realdata) names the folder of recorded bookmaker
# responses; conformance tests over it print "skipped: ..." when it is absent.
cargo test --workspace --locked "$@"
