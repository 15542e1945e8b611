#!/usr/bin/env bash
# CI: run the end-to-end benchmark once at a tiny size (40 jobs, one body, XTR_BATCH=3), so
# that it keeps working. It fails when a worker fails to drain; it asserts nothing about
# speed. It may install nginx, python3-venv and the reference worker's Python packages.
set -euo pipefail
cd "$(dirname "$0")/.."
bash benches/e2e.sh --tiny
