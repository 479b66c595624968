"""Read a compose project into a devenv project (``devenv init --from-compose``).

The compose file is loaded with ``yamlpos`` (every note and refusal names ``file:line: key``),
merge keys (``<<: *anchor``) are applied, every value is interpolated as compose does (``.env``
beside the file, then the shell), ``extends`` within the file is folded in, and each service
becomes:

* a built service (``build:``): an image of the build graph plus an app component;
* an image-only service: a backing service with its registry reference.

What devenv can run is carried (``services.py`` maps each key); what it cannot is noted with the
reason, and only input that leaves nothing sensible to write (no services, a remote build context,
a malformed value) is refused.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from devenv.adopt.credrefs import (
    CREDENTIAL_USE_HINT,
    credential_use_message,
    masked_names,
    refuse_masked_output,
)
from devenv.adopt.interpolate import Environment, InterpolationError, interpolate, read_dotenv
from devenv.adopt.result import Adopted, dns_name
from devenv.adopt.services import ServiceReader
from devenv.errors import DevenvError
from devenv.importer import credential_reason
from devenv.model.yamlpos import Document, KeyPath, Positions, compose_loader, dotted, load_yaml

COMPOSE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
MAX_EXTENDS_DEPTH = 10
TOP_LEVEL_NOTES = {
    "version": "obsolete in the Compose spec; ignored",
    "networks": "every component of a tenant shares the tenant's own network; custom networks are not needed",
    "configs": "devenv mounts no host files; bake the config into an image (COPY it in a Dockerfile)",
    "include": "other compose files are not read; run `devenv init` on a file that holds every service, "
               "or merge them with `docker compose config > compose.yaml`",
    "models": "model runners are not part of devenv",
}
TOP_LEVEL_KEYS = {"name", "services", "volumes", "secrets", *TOP_LEVEL_NOTES}


def find_compose_file(path: Path) -> Path:
    """``path`` itself, or the compose file compose would pick in that folder."""
    if path.is_dir():
        for name in COMPOSE_NAMES:
            if (path / name).is_file():
                return path / name
        raise DevenvError(f"no compose file in {path} (looked for {', '.join(COMPOSE_NAMES)})",
                          "pass the compose file itself: devenv init --from-compose path/to/compose.yaml")
    if not path.exists():
        raise DevenvError(f"{path}: no such file", "pass a compose file or the folder that holds it")
    return path


def display_path(file: Path, root: Path) -> str:
    try:
        return str(file.resolve().relative_to(root))
    except ValueError:
        return str(file)


def read_compose(file: Path, root: Path, tenant: str, shell: dict[str, str] | None = None) -> Adopted:
    """The devenv project for compose file ``file``, written into project root ``root``."""
    file = find_compose_file(file).resolve()
    root = root.resolve()
    shown = display_path(file, root)
    adopted = Adopted(tenant=tenant, source=shown)
    doc, problems = load_yaml(file, shown, compose_loader())  # typed as compose types it
    adopted.errors += [p for p in problems if p.severity == "error"]
    if doc is None or adopted.errors:
        return adopted
    data = _top_mapping(doc, adopted)
    if data is None:
        return adopted
    env = _environment(file.parent, shown, adopted, os.environ if shell is None else shell)
    data = _interpolated(data, doc.positions, env, adopted)
    _note_environment(env, shown, adopted)
    _refuse_top_level_credentials(data, env, doc.positions, adopted)
    services = _services(data, doc.positions, adopted)
    if adopted.errors:
        return adopted
    _top_level_notes(data, doc.positions, adopted)
    name = str(data["name"]) if isinstance(data.get("name"), str) else file.parent.name
    reader = ServiceReader(adopted, doc.positions, file.parent, root, env, data)
    reader.read_all(services)
    reader.finish(dns_name(name))
    refuse_masked_output(adopted, env)
    return adopted


def _top_mapping(doc: Document, adopted: Adopted) -> dict[str, Any] | None:
    pos = doc.positions
    data = resolve_merge_keys(doc.data)
    if not isinstance(data, dict):
        adopted.refuse(pos.file, pos.line(()), "", "a compose file is a mapping with a `services:` key",
                       "check that this is a compose file")
        return None
    services = data.get("services")
    if not isinstance(services, dict) or not services:
        adopted.refuse(pos.file, pos.line(("services",)), "services",
                       "no services: a compose file needs a `services:` mapping with at least one service",
                       "add the services, or pass the compose file that defines them")
        return None
    return data


def resolve_merge_keys(value: Any) -> Any:
    """YAML merge keys (``<<: *base`` or ``<<: [*a, *b]``): keys of the mapping win over merged
    ones, earlier merged mappings over later ones, as YAML 1.1 says and compose does."""
    if isinstance(value, list):
        return [resolve_merge_keys(v) for v in value]
    if not isinstance(value, dict):
        return value
    merged: dict[str, Any] = {}
    sources = value.get("<<")
    for src in reversed(sources if isinstance(sources, list) else [sources]):
        if isinstance(src, dict):
            merged.update(resolve_merge_keys(src))
    for k, v in value.items():
        if k != "<<":
            merged[k] = resolve_merge_keys(v)
    return merged


# --- the project environment ---------------------------------------------------------------------

def _environment(folder: Path, shown: str, adopted: Adopted, shell: Any) -> Environment:
    env = Environment(shell={str(k): str(v) for k, v in dict(shell).items()})
    dotenv = folder / ".env"
    if not os.path.lexists(dotenv):
        return env
    where = str(Path(shown).parent / ".env") if "/" in shown else ".env"
    try:
        env.dotenv, bad = read_dotenv(dotenv, shown=where)
    except (DevenvError, UnicodeDecodeError) as exc:
        why = exc.message if isinstance(exc, DevenvError) else str(exc)
        adopted.note(where, None, "", f"not read ({why}); interpolation used the shell's variables only")
        return env
    for line, why in bad:
        adopted.note(where, line, "", f"{why}: skipped")
    return env


def _interpolated(data: dict[str, Any], pos: Positions, env: Environment, adopted: Adopted) -> dict[str, Any]:
    """Every value interpolated as compose does, except that a credential variable becomes a
    sentinel (``Environment.sentinel``): the service reader writes a ``${VAR}`` reference where
    one went (an env value, a command argument, a health test) and refuses it elsewhere, so the
    secret itself never reaches a committed file (``Environment.unmask`` gives the value back)."""
    out: dict[str, Any] = {}
    env.credential = _is_credential
    try:
        for key, value in data.items():
            out[key] = value if key.startswith("x-") else _walk(value, (key,), pos, env, adopted)
    finally:
        env.credential = None
    return out


def _is_credential(name: str, value: str) -> bool:
    return credential_reason(name, value) is not None


def _walk(value: Any, path: KeyPath, pos: Positions, env: Environment, adopted: Adopted) -> Any:
    if isinstance(value, dict):
        return {k: _walk(v, (*path, k), pos, env, adopted) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, (*path, i), pos, env, adopted) for i, v in enumerate(value)]
    if not isinstance(value, str) or "$" not in value:
        return value
    try:
        return interpolate(value, env)
    except InterpolationError as exc:
        adopted.refuse(pos.file, pos.line(path), dotted(path), str(exc),
                       "set the variable in .env beside the compose file (or in your shell) and run init again")
        return value


def _refuse_top_level_credentials(data: dict[str, Any], env: Environment, pos: Positions, adopted: Adopted) -> None:
    """A credential interpolated into the project's name, a volume or a secret definition would be
    written as-is: refused (a service's env, command and health test keep a reference instead)."""
    for key in ("name", "volumes", "secrets"):
        names = masked_names(data.get(key), env)
        if names:
            adopted.refuse(pos.file, pos.line((key,)), key, credential_use_message(names), CREDENTIAL_USE_HINT)


def _note_environment(env: Environment, shown: str, adopted: Adopted) -> None:
    if env.unset:
        adopted.note(shown, None, "", f"variable(s) {', '.join(sorted(env.unset))} are not set (in .env or the shell): "
                                      "interpolated as empty strings, as compose does")
    if env.used_shell:
        adopted.note(shown, None, "", f"variable(s) {', '.join(sorted(env.used_shell))} came from your shell at init "
                                      "time; their values are now written in the devenv files")


def _top_level_notes(data: dict[str, Any], pos: Positions, adopted: Adopted) -> None:
    for key in data:
        if key in TOP_LEVEL_NOTES:
            adopted.note(pos.file, pos.line((key,)), key, TOP_LEVEL_NOTES[key])
        elif key not in TOP_LEVEL_KEYS and not key.startswith("x-"):
            adopted.note(pos.file, pos.line((key,)), key, "not a Compose spec top-level key; ignored")


# --- services and extends ------------------------------------------------------------------------

def _services(data: dict[str, Any], pos: Positions, adopted: Adopted) -> dict[str, dict[str, Any]]:
    raw = data["services"]
    out: dict[str, dict[str, Any]] = {}
    for name, svc in raw.items():
        if svc is None:
            svc = {}
        if not isinstance(svc, dict):
            adopted.refuse(pos.file, pos.line(("services", name)), f"services.{name}",
                           "a service is a mapping of keys (image:, build:, ports:, ...)", "indent the service's keys under it")
            continue
        out[name] = _extended(name, raw, pos, adopted, 0)
    return out


def _extended(name: str, raw: dict[str, Any], pos: Positions, adopted: Adopted, depth: int) -> dict[str, Any]:
    svc = raw.get(name) or {}
    ext = svc.get("extends")
    if ext is None:
        return dict(svc)
    key = ("services", name, "extends")
    base_name = ext if isinstance(ext, str) else ext.get("service") if isinstance(ext, dict) else None
    if isinstance(ext, dict) and ext.get("file"):
        adopted.refuse(pos.file, pos.line(key), dotted(key), "extends from another file is not read",
                       "copy the base service into this file (or `docker compose config > compose.yaml`)")
        return dict(svc)
    if not isinstance(base_name, str) or base_name not in raw or depth >= MAX_EXTENDS_DEPTH:
        adopted.refuse(pos.file, pos.line(key), dotted(key), f"extends names no service of this file ({base_name!r})",
                       "name a service defined in this file under `extends: {service: NAME}`")
        return dict(svc)
    base = _extended(base_name, raw, pos, adopted, depth + 1)
    return merge_service(base, {k: v for k, v in svc.items() if k != "extends"})


SEQUENCE_UNION = {"ports", "expose", "volumes", "secrets", "dns", "dns_search", "tmpfs", "cap_add", "cap_drop",
                  "devices", "external_links", "links", "profiles", "env_file"}
MAPPING_KEYS = {"environment", "labels", "build", "healthcheck", "deploy", "depends_on", "extra_hosts", "ulimits",
                "sysctls", "logging", "develop", "annotations"}


def merge_service(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Compose's merge rules for ``extends``: mappings merge key by key (lists of ``KEY=VALUE`` are
    read as mappings), sequences such as ports and volumes add up, everything else is replaced."""
    out = dict(base)
    for key, value in over.items():
        old = out.get(key)
        if key in SEQUENCE_UNION and isinstance(old, list) and isinstance(value, list):
            out[key] = old + [v for v in value if v not in old]
        elif key in MAPPING_KEYS and old is not None:
            out[key] = {**as_mapping(old), **as_mapping(value)}
        else:
            out[key] = value
    return out


def as_mapping(value: Any) -> dict[str, Any]:
    """``environment``-style values: a mapping, or a list of ``KEY=VALUE`` (``KEY`` alone: None)."""
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, str):
        return {"context": value}  # build's short form
    out: dict[str, Any] = {}
    for item in value if isinstance(value, list) else []:
        if isinstance(item, str):
            k, sep, v = item.partition("=")
            out[k] = v if sep else None
    return out
