"""Local secret values: dev values from the overlay, the rest generated once and kept.

Profiles only ever name secrets (``SecretRef``); production's values never reach a laptop. Locally
a value comes from the overlay (``devenv.local.yaml`` ``secrets:``) or is generated with
``secrets.token_urlsafe`` and stored in ``.devenv/secrets/<tenant>.json`` (mode 0600, directory
0700), so a database initialised with a generated password keeps working on the next ``up``.
Compose gets them through an env file (never inside the rendered compose file, which users read,
paste and commit); logs and the TUI pass every line through ``Masker``.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from devenv import layout
from devenv.errors import DevenvError
from devenv.fsutil import atomic_write, os_error, private_dir, read_text
from devenv.model.types import SecretRef, TenantSpec

Values = dict[str, dict[str, str]]  # secret name -> key -> value

MASK = "****"
MIN_MASKED_LEN = 4  # shorter values would mask half of every log line


def secrets_file(root: Path, tenant: str) -> Path:
    return layout.secrets_store(root, tenant)


def env_file_path(root: Path, tenant: str) -> Path:
    return layout.secrets_env(root, tenant)


def component_env_file_path(root: Path, tenant: str, component: str) -> Path:
    """One env file per component, holding only the secrets assigned to it: a backing service
    must not receive the app's payment key."""
    return layout.component_secrets_env(root, tenant, component)


def secret_refs(spec: TenantSpec) -> list[SecretRef]:
    """Every distinct SecretRef of the spec's workloads, in first-seen order."""
    seen: dict[tuple[str, str, str], SecretRef] = {}
    for w in spec.workloads.values():
        for ref in w.secret_env:
            seen.setdefault((ref.name, ref.key, ref.env), ref)
    return list(seen.values())


def stored_secret_values(root: Path, tenant: str) -> Values:
    """What earlier runs generated for ``tenant``; empty when nothing was stored. Never writes."""
    path = secrets_file(root, tenant)
    if not path.exists():
        return {}
    try:
        data = json.loads(read_text(path, 4 * 1024 * 1024))
    except ValueError as exc:
        raise DevenvError(f"cannot read local secrets {path}: {exc}",
                          "delete the file; devenv generates new values (a database may need resetting)") from exc
    if not isinstance(data, dict):
        raise DevenvError(f"{path} is not a JSON object", "delete the file; devenv generates new values")
    return {str(n): {str(k): str(v) for k, v in keys.items()} for n, keys in data.items() if isinstance(keys, dict)}


def merge_values(spec: TenantSpec, stored: Values) -> Values:
    """Overlay dev values win over stored ones: editing ``devenv.local.yaml`` must take effect."""
    out: Values = {n: dict(keys) for n, keys in stored.items()}
    for name, keys in spec.secret_values.items():
        out.setdefault(name, {}).update(keys)
    return out


def missing_refs(spec: TenantSpec, values: Values) -> list[SecretRef]:
    return [r for r in secret_refs(spec) if r.key not in values.get(r.name, {})]


def local_secret_values(root: Path, spec: TenantSpec) -> Values:
    """Every value the spec's SecretRefs need: overlay values, then stored generated ones, then new
    ones (persisted before returning, so they are stable across runs)."""
    stored = stored_secret_values(root, spec.name)
    generated = False
    for ref in missing_refs(spec, merge_values(spec, stored)):
        stored.setdefault(ref.name, {})[ref.key] = secrets.token_urlsafe(24)
        generated = True
    if generated:
        _write_private(secrets_file(root, spec.name), json.dumps(stored, indent=2, sort_keys=True) + "\n")
    return merge_values(spec, stored)


def env_file_text(spec: TenantSpec, values: Values, refs: list[SecretRef] | None = None) -> str:
    """``ENV=value`` lines for ``refs`` (default: every SecretRef of the spec). Compose reads env
    files literally (no interpolation, no quote handling for unquoted values), so generated
    url-safe values need no escaping; a dev value with a newline cannot be expressed and is refused."""
    lines = []
    for ref in secret_refs(spec) if refs is None else refs:
        value = values.get(ref.name, {}).get(ref.key)
        if value is None:
            raise DevenvError(f"no local value for secret {ref.name}/{ref.key}",
                              "call local_secret_values() first, or add it under secrets: in devenv.local.yaml")
        if "\n" in value:
            raise DevenvError(f"secret {ref.name}/{ref.key} contains a newline", "use a single-line dev value")
        lines.append(f"{ref.env}={value}")
    return "".join(f"{line}\n" for line in lines)


def write_env_file(root: Path, spec: TenantSpec, values: Values) -> Path:
    path = env_file_path(root, spec.name)
    _write_private(path, env_file_text(spec, values))
    return path


def write_env_files(root: Path, spec: TenantSpec, values: Values) -> dict[str, str]:
    """Each component's own env file (``component_env_file_path``), for the components that get
    secrets; returns component -> path, as ``render_compose`` takes them."""
    out: dict[str, str] = {}
    for w in spec.workloads.values():
        if w.secret_env:
            path = component_env_file_path(root, spec.name, w.name)
            _write_private(path, env_file_text(spec, values, list(w.secret_env)))
            out[w.name] = str(path)
    return out


def existing_env_files(root: Path, spec: TenantSpec) -> dict[str, str] | None:
    """The per-component env files an earlier ``up`` wrote, or ``None`` when one is missing."""
    paths = {w.name: component_env_file_path(root, spec.name, w.name) for w in spec.workloads.values() if w.secret_env}
    if not all(p.is_file() for p in paths.values()):
        return None
    return {name: str(p) for name, p in paths.items()}


def _write_private(path: Path, text: str) -> None:
    """Atomic and private from the first byte (``atomic_write``'s temp file is created 0600), in
    a directory only the owner can enter."""
    private_dir(path.parent)
    try:
        os.chmod(path.parent, 0o700)
    except OSError as exc:
        raise os_error(exc, path.parent, "protect") from None
    atomic_write(path, text)


class Masker:
    """Hides secret values in log lines and the TUI. Longest values first, so a value that contains
    another is masked whole rather than leaving a tail visible."""

    def __init__(self, values: Values | Iterable[str]) -> None:
        flat = _flatten(values)
        self._values = sorted({v for v in flat if len(v) >= MIN_MASKED_LEN}, key=lambda v: (-len(v), v))

    def mask(self, line: str) -> str:
        for value in self._values:
            if value in line:
                line = line.replace(value, MASK)
        return line

    def __bool__(self) -> bool:
        return bool(self._values)


def _flatten(values: Values | Iterable[str]) -> list[str]:
    if isinstance(values, dict):
        return [v for keys in values.values() for v in keys.values()]
    return list(values)
