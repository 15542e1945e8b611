#!/usr/bin/env bash
# End-to-end benchmark: `xtr worker` beside the reference Python worker, on the same jobs,
# the same served body, the same Redis and the same HTTP stand-in, in one run.
#
# It starts redis-server (no persistence) and nginx on free loopback ports, builds xtr in
# release, installs the reference worker's Python packages into a virtual environment
# under target/, runs benches/e2e.py and stops everything it started on exit.
# docs/benchmarks.md describes the method and records the figures.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: benches/e2e.sh [--tiny] [--jobs N] [--batches 1,3,16,64] [--repeat K]
                      [--latency-seconds S] [--latency-rate R] [--json FILE]
                      [--xtr BINARY] [--keep]

  --tiny              a smoke run for CI: 40 jobs, the smallest body, XTR_BATCH=3
  --jobs N            jobs per drain run (default 2000)
  --batches LIST      XTR_BATCH values of the scaling table (default 1,3,16,64)
  --repeat K          drain runs per worker, body and batch; medians are reported (default 1)
  --latency-seconds S length of each paced latency run (default 5)
  --latency-rate R    paced jobs per second (default: half the reference's drain rate)
  --json FILE         also write every figure as JSON
  --xtr BINARY        run this xtr binary instead of building target/release/xtr
  --keep              keep the work directory (logs, configs) instead of removing it

Bodies come from $XTR_REALDATA/kambi (default ../shared/realdata next to the
repository); without that folder, from crates/kambi/tests/fixtures.
EOF
}

root=$(cd "$(dirname "$0")/.." && pwd)
jobs=2000
batches=1,3,16,64
repeat=1
latency_seconds=5
latency_rate=
json=
keep=0
tiny=0
xtr=
while [ $# -gt 0 ]; do
    case "$1" in
        --tiny) tiny=1 ;;
        --jobs) jobs=$2; shift ;;
        --batches) batches=$2; shift ;;
        --repeat) repeat=$2; shift ;;
        --latency-seconds) latency_seconds=$2; shift ;;
        --latency-rate) latency_rate=$2; shift ;;
        --json) json=$2; shift ;;
        --xtr) xtr=$2; shift ;;
        --keep) keep=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "error: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
if [ "$tiny" = 1 ]; then
    jobs=40
    batches=3
    repeat=1
    latency_seconds=1
fi

log() { printf '%s\n' "$*" >&2; }

# --- What the benchmark needs -------------------------------------------------------

apt_updated=0
apt_install() {
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        log "error: $* missing; install it (Debian: apt-get install $*) and run again"
        exit 1
    fi
    if [ "$apt_updated" = 0 ]; then
        apt-get update -qq
        apt_updated=1
    fi
    log "installing $* from the system's packages"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

command -v redis-server >/dev/null 2>&1 || apt_install redis-server
command -v python3 >/dev/null 2>&1 || apt_install python3
nginx_bin=$(command -v nginx || true)
[ -n "$nginx_bin" ] || [ ! -x /usr/sbin/nginx ] || nginx_bin=/usr/sbin/nginx
if [ -z "$nginx_bin" ]; then
    apt_install nginx
    nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
fi

(cd "$root/benches/reference" && sha256sum --quiet -c SHA256SUMS) || {
    log "error: benches/reference differs from the reference copy; restore it with git"
    exit 1
}

target_dir=${CARGO_TARGET_DIR:-$root/target}
venv=$target_dir/bench-venv
if ! "$venv/bin/python" -c 'import redis, aiohttp' >/dev/null 2>&1; then
    rm -rf "$venv"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        rm -rf "$venv"
        apt_install python3-venv
        python3 -m venv "$venv"
    fi
    log "installing redis and aiohttp into $venv"
    "$venv/bin/pip" install --quiet redis aiohttp
fi
python=$venv/bin/python

if [ -z "$xtr" ]; then
    log "building xtr (release)"
    (cd "$root" && cargo build --release --locked -p xtr --quiet)
    xtr=$target_dir/release/xtr
fi
[ -x "$xtr" ] || { log "error: $xtr is not an executable xtr binary"; exit 1; }

# --- Bodies -------------------------------------------------------------------------

realdata=${XTR_REALDATA:-$root/../shared/realdata}
bodies=()
if [ -d "$realdata/kambi" ]; then
    if [ "$tiny" = 1 ]; then
        bodies=("2.9KB=$realdata/kambi/pvt_betoffer_small_handicap_total.json")
    else
        bodies=(
            "532KB=$realdata/kambi/pvt_betoffer_event_molde_mjondalen_wrapped.json"
            "116KB=$realdata/kambi/pvt_betoffer_jupiler_match.json"
            "2.9KB=$realdata/kambi/pvt_betoffer_small_handicap_total.json"
        )
    fi
else
    log "note: $realdata/kambi not found; serving the repository's Kambi fixtures instead"
    fixtures=$root/crates/kambi/tests/fixtures
    if [ "$tiny" = 1 ]; then
        bodies=("fixture-8KB=$fixtures/several_events.json")
    else
        bodies=(
            "fixture-35KB=$fixtures/event_full.json"
            "fixture-8KB=$fixtures/several_events.json"
            "fixture-4KB=$fixtures/offers_without_events.json"
        )
    fi
fi
for item in "${bodies[@]}"; do
    [ -f "${item#*=}" ] || { log "error: body ${item#*=} not found"; exit 1; }
done

# --- Redis and nginx on loopback ----------------------------------------------------

# nginx's workers may run as an unprivileged user, so its root lives under /tmp with
# world-readable permissions rather than under a home directory.
work=$(mktemp -d /tmp/xtr-bench-e2e.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/www" "$work/logs" "$work/nginx-temp"
chmod 755 "$work/www"
redis_pid=
nginx_pid=
driver_pid=

cleanup() {
    local status=$?
    # The driver stops the worker it is running when it gets SIGTERM.
    [ -z "$driver_pid" ] || kill "$driver_pid" 2>/dev/null || true
    [ -z "$driver_pid" ] || wait "$driver_pid" 2>/dev/null || true
    [ -z "$nginx_pid" ] || kill "$nginx_pid" 2>/dev/null || true
    [ -z "$redis_pid" ] || kill "$redis_pid" 2>/dev/null || true
    [ -z "$nginx_pid" ] || wait "$nginx_pid" 2>/dev/null || true
    [ -z "$redis_pid" ] || wait "$redis_pid" 2>/dev/null || true
    if [ "$status" != 0 ]; then
        for file in "$work"/logs/*.log "$work"/nginx.err; do
            [ -s "$file" ] || continue
            log "--- last lines of $file"
            tail -n 20 "$file" >&2
        done
    fi
    if [ "$keep" = 1 ]; then
        log "work directory kept: $work"
    else
        [ "$status" = 0 ] || log "removed $work; rerun with --keep to keep its logs"
        rm -rf "$work"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

redis_port=$(free_port)
redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
    --dir "$work" --logfile "$work/logs/redis-server.log" &
redis_pid=$!

nginx_port=$(free_port)
# The reference nginx.conf with this run's port, root, pid file and logs; the temp paths
# keep nginx from needing its packaged /var/lib/nginx when run unprivileged.
sed -e "s|127.0.0.1:18080|127.0.0.1:$nginx_port|" \
    -e "s|/tmp/xtr-bench-www|$work/www|" \
    -e "s|/tmp/xtr-bench-nginx.pid|$work/nginx.pid|" \
    -e "s|/tmp/xtr-bench-nginx.err|$work/nginx.err|" \
    -e "s|^http {|http {\n    client_body_temp_path $work/nginx-temp/body;\n    proxy_temp_path $work/nginx-temp/proxy;\n    fastcgi_temp_path $work/nginx-temp/fastcgi;\n    uwsgi_temp_path $work/nginx-temp/uwsgi;\n    scgi_temp_path $work/nginx-temp/scgi;|" \
    "$root/benches/reference/nginx.conf" >"$work/nginx.conf"
grep -q "127.0.0.1:$nginx_port" "$work/nginx.conf" || { log "error: could not set the nginx port"; exit 1; }
"$nginx_bin" -p "$work" -c "$work/nginx.conf" -e "$work/nginx.err" &
nginx_pid=$!

for _ in $(seq 100); do
    if redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1 &&
        "$python" -c "import socket; socket.create_connection(('127.0.0.1', $nginx_port), 1)" 2>/dev/null; then
        break
    fi
    kill -0 "$redis_pid" 2>/dev/null || { log "error: redis-server exited"; exit 1; }
    kill -0 "$nginx_pid" 2>/dev/null || { log "error: nginx exited"; cat "$work/nginx.err" >&2; exit 1; }
    sleep 0.1
done

log "redis-server $(redis-server --version | awk '{print $3}') on 127.0.0.1:$redis_port," \
    "$("$nginx_bin" -v 2>&1 | sed 's/.*: //') on 127.0.0.1:$nginx_port"

args=(
    --redis-port "$redis_port"
    --base-url "http://127.0.0.1:$nginx_port"
    --www "$work/www"
    --xtr "$xtr"
    --reference "$root/benches/reference/python_baseline.py"
    --python "$python"
    --jobs "$jobs"
    --batches "$batches"
    --repeat "$repeat"
    --latency-seconds "$latency_seconds"
    --logdir "$work/logs"
)
[ "$tiny" = 0 ] || args+=(--count-jobs 30)
[ -z "$latency_rate" ] || args+=(--latency-rate "$latency_rate")
[ -z "$json" ] || args+=(--json "$json")
for item in "${bodies[@]}"; do
    args+=(--body "$item")
done
# In the background, so that a signal to this script runs its traps at once instead of
# after the driver's run.
"$python" "$root/benches/e2e.py" "${args[@]}" &
driver_pid=$!
wait "$driver_pid"
