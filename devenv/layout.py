"""The ``.devenv/`` state directory of a project, in one place.

Everything devenv writes about a project lives under ``<root>/.devenv/`` (owner-only: it holds
secrets and rendered files, and a ``.gitignore`` of ``*`` keeps it out of commits)::

    .devenv/
      lock                      the project lock (``devenv.lock.project_lock``)
      locks/<image>.lock        one build of an image at a time across processes
      builds.json (+ .lock)     the last successful build of each image
      cache/digests.json        per-file content hashes of build contexts
      cache/heads.json          cached image heads the append path builds on
      cache/project.pickle      the validated project, keyed by its inputs' content
      events.jsonl (+ .1 ...)   the event log (``devenv events``)
      snapshots/<tenant>/...    data snapshots (``devenv data``)
      <tenant>/data.json        which snapshot and seed a tenant's volumes came from
      secrets/<tenant>.json     generated local secret values
      <tenant>/compose.yaml     the rendered compose file (users can read and rerun it)
      <tenant>/secrets.env      the tenant's secrets, handed to compose as an env file
      <tenant>/secrets/<c>.env  one component's own secrets
      <tenant>/live.json        containers running synced (not yet rebuilt) content

Modules ask this one for paths; none spells ``.devenv`` itself.
"""

from __future__ import annotations

from pathlib import Path

STATE = Path(".devenv")
LOCK = STATE / "lock"
LOCKS = STATE / "locks"
BUILDS = STATE / "builds.json"
DIGESTS = STATE / "cache" / "digests.json"
HEADS = STATE / "cache" / "heads.json"
SECRETS = STATE / "secrets"


def state_root(root: Path) -> Path:
    """``<root>/.devenv`` (not created)."""
    return Path(root) / STATE


def ensure(root: Path, *parts: str) -> Path:
    """``<root>/.devenv/<parts>``, created owner-only with its ``.gitignore``."""
    from devenv.fsutil import private_dir  # lazily: read-only commands import only paths

    return private_dir(state_root(root).joinpath(*parts))  # private_dir guarantees the .gitignore


def cache_file(root: Path, name: str) -> Path:
    """``.devenv/cache/<name>`` (not created)."""
    return state_root(root) / "cache" / name


def tenant_dir(root: Path, tenant: str) -> Path:
    """Where a tenant's rendered files go (not created)."""
    return state_root(root) / tenant


def compose_file(root: Path, tenant: str) -> Path:
    return tenant_dir(root, tenant) / "compose.yaml"


def secrets_env(root: Path, tenant: str) -> Path:
    return tenant_dir(root, tenant) / "secrets.env"


def component_secrets_env(root: Path, tenant: str, component: str) -> Path:
    """One env file per component, holding only the secrets assigned to it."""
    return tenant_dir(root, tenant) / "secrets" / f"{component}.env"


def secrets_store(root: Path, tenant: str) -> Path:
    return Path(root) / SECRETS / f"{tenant}.json"


def image_lock(root: Path, image: str) -> Path:
    return Path(root) / LOCKS / f"{image}.lock"


def project_lock(root: Path) -> Path:
    return Path(root) / LOCK
