#!/usr/bin/env bash
# The README's test command: set the machine up (venv, Docker engine, compose, base image) and run
# the whole suite, Docker-backed tests included. Where no engine can be had, the Docker tests fail
# (DEVENV_REQUIRE_DOCKER=1) rather than skip.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH" DEVENV_REQUIRE_DOCKER=1
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
