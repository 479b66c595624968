#!/usr/bin/env bash
# The README's test command: set the machine up (venv, Docker engine, compose, base image) and run
# the whole suite, Docker-backed tests included. Where no engine can be had, the Docker tests fail
# (DEVENV_REQUIRE_DOCKER=1) rather than skip.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# The terminal test drives the real binary in tmux: install it rather than skip it.
if ! command -v tmux >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >&2 || \
    { DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >&2; }
fi
export PATH="$PWD/.venv/bin:$PATH" DEVENV_REQUIRE_DOCKER=1
# CI owns its engine, so the fault test that restarts dockerd runs there too; on a laptop it only
# runs when asked (DEVENV_ENGINE_RESTART=1), since it would restart everyone's containers.
if [ -n "${CI:-}" ]; then export DEVENV_ENGINE_RESTART="${DEVENV_ENGINE_RESTART:-1}"; fi
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
