"""Volumes, bind mounts, secrets and ``develop.watch``: what a compose service mounts or syncs.

* A named (or anonymous) volume becomes a devenv volume: one per tenant, kept across down/up.
* A bind mount of a source folder of a built service becomes a ``sync`` watch rule to the mount
  target: devenv copies changed files into the running container instead of mounting the host.
  Other bind mounts (config files of image-only services, the engine's socket) cannot be carried.
* A compose secret becomes a secret reference in the profile (its name and an env variable, never
  its value) and, for a file-based secret, a reference to that file in ``devenv.local.yaml``.
* ``develop.watch`` rules map one to one onto devenv's watch rules.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from devenv.adopt.parts import Mount
from devenv.adopt.result import dns_name
from devenv.adopt.services import Service, ServiceReader
from devenv.fsutil import kind_of

WATCH_ACTIONS = {"sync": "sync", "sync+restart": "sync+restart", "sync+exec": "sync+exec", "rebuild": "rebuild"}
SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")
Where = tuple[str | int, ...]


def add_mount(r: ServiceReader, svc: Service, mount: Mount, where: Where) -> None:
    if mount.kind == "volume":
        _named_volume(r, svc, mount, where)
    elif mount.kind == "bind":
        _bind(r, svc, mount, where)
    else:
        r.note(svc.key(*where), f"{mount.kind} mounts are not carried")


def _named_volume(r: ServiceReader, svc: Service, mount: Mount, where: Where) -> None:
    if not mount.target.startswith("/"):
        r.refuse(svc.key(*where), f"volume target '{mount.target}' is not an absolute path", "e.g. data:/var/lib/data")
        return
    if mount.source is None:
        name = dns_name(f"{svc.comp}-{mount.target}")
        r.note(svc.key(*where), f"anonymous volume kept as named volume '{name}' (one per tenant)")
    else:
        name = dns_name(mount.source)
        _top_volume_notes(r, mount.source)
        if name != mount.source:
            r.note(svc.key(*where), f"volume '{mount.source}' is named '{name}' (devenv names are DNS labels)")
    vols = svc.out.setdefault("volumes", [])
    if any(v["target"] == mount.target for v in vols):
        r.note(svc.key(*where), f"{mount.target} is mounted twice; the first mount is kept")
        return
    if any(v["name"] == name for v in vols):
        r.note(svc.key(*where), f"volume '{name}' is mounted twice in this service; the first mount is kept")
        return
    vols.append({"name": name, "target": mount.target})
    if mount.read_only:
        r.note(svc.key(*where), "read-only mode not carried: the volume is mounted read-write")


def _top_volume_notes(r: ServiceReader, source: str) -> None:
    top = r.top.get("volumes")
    spec = top.get(source) if isinstance(top, dict) else None
    if not isinstance(spec, dict) or source in r.noted_volumes:
        return
    r.noted_volumes.add(source)
    for key in spec:
        where = ("volumes", source, key)
        if key == "external":
            r.note(where, "devenv makes its own volume per tenant; the external volume is not used")
        elif key in ("driver", "driver_opts", "name", "labels"):
            r.note(where, "not carried: devenv names and labels each tenant's volume itself")


def _bind(r: ServiceReader, svc: Service, mount: Mount, where: Where) -> None:
    source = str(mount.source)
    if source in SOCKETS or mount.target in SOCKETS:
        r.note(svc.key(*where), "the engine's socket is never handed to a container; mount dropped")
        return
    path = (r.folder / Path(source).expanduser()).resolve()
    rel = r.inside(path)
    in_context = svc.context is not None and (path == svc.context or path.is_relative_to(svc.context))
    if svc.built and rel is not None and in_context and path.exists():
        rule = {"path": "*" if rel == "." else rel, "action": "sync", "target": mount.target}
        svc.out.setdefault("_binds", []).append(rule)
        r.note(svc.key(*where), f"bind mount becomes a sync rule: changes under {rel} are copied to {mount.target} "
                                "in the running container (the image's own copy is used at start)")
    elif not mount.read_only and not path.is_file() and mount.target.startswith("/"):
        _data_folder(r, svc, mount, where, source)
    else:
        why = ("devenv syncs only into the build contexts of components it builds" if svc.built
               else "devenv mounts no host paths into services it does not build")
        r.note(svc.key(*where), f"bind mount of {source} dropped: {why}; bake the file into an image "
                                "(COPY it in a Dockerfile)")


def _data_folder(r: ServiceReader, svc: Service, mount: Mount, where: Where, source: str) -> None:
    """A writable folder devenv cannot sync (a database's data directory, say) keeps what matters
    about it, persistence, as a named volume of the tenant; the folder's content is not copied."""
    name = dns_name(f"{svc.comp}-{Path(source).name or 'data'}")
    vols = svc.out.setdefault("volumes", [])
    if any(v["target"] == mount.target or v["name"] == name for v in vols):
        r.note(svc.key(*where), f"bind mount of {source} dropped: {mount.target} or volume '{name}' is already mounted")
        return
    vols.append({"name": name, "target": mount.target})
    r.note(svc.key(*where), f"bind mount of the folder {source} becomes named volume '{name}' (one per tenant, kept "
                            "across down/up); devenv mounts no host paths, so the folder's content is not used")


# --- secrets --------------------------------------------------------------------------------------

def add_secret(r: ServiceReader, svc: Service, source: str, where: Where) -> None:
    top = r.top.get("secrets")
    spec = top.get(source) if isinstance(top, dict) else None
    if not isinstance(spec, dict):
        r.note(svc.key(*where), f"secret '{source}' is not defined under the top-level `secrets:`; dropped")
        return
    name = dns_name(source)
    env = re.sub(r"[^A-Za-z0-9_]", "_", source).upper()
    env = env if re.match(r"^[A-Za-z_]", env) else f"SECRET_{env}"
    if any(s["name"] == name for s in r.secrets):
        return
    r.secrets.append({"name": name, "key": "value", "env": env})
    _secret_value(r, source, name, spec)
    r.note(svc.key(*where), f"secret '{source}' reaches the containers as env {env} (compose mounts it at "
                            f"/run/secrets/{source}; an app that reads that file needs the variable instead)")


def _not_usable(path: Path, rel: str | None) -> str:
    """Why a compose secret's file cannot hold the dev value, in words."""
    if rel is None:
        return "is outside the project"
    if not path.exists():
        return "is missing"
    return f"is {kind_of(path.stat().st_mode)}, not a regular file"


def _secret_value(r: ServiceReader, source: str, name: str, spec: dict[str, Any]) -> None:
    where = ("secrets", source)
    file = spec.get("file")
    if isinstance(file, str):
        path = (r.folder / file).resolve()
        rel = r.inside(path)
        if rel is not None and path.is_file():
            r.secret_values[name] = {"value": {"file": rel}}
            r.note(where, f"its dev value stays in {rel}: devenv.local.yaml references the file, never the value")
            return
        r.note(where, f"{file} {_not_usable(path, rel)}: devenv generates a local value")
    elif spec.get("environment"):
        r.note(where, f"value from variable {spec['environment']} not copied: devenv generates a local value "
                      "(set a dev value under defaults.secrets in devenv.local.yaml)")
    else:
        r.note(where, "external secret: devenv generates a local value")


# --- develop.watch ----------------------------------------------------------------------------------

def add_develop_watch(r: ServiceReader, svc: Service, rule: Any, where: Where) -> None:
    if not isinstance(rule, dict) or not isinstance(rule.get("path"), str):
        r.refuse(svc.key(*where), "a watch rule is a mapping with `path:` and `action:`",
                 "e.g. {action: sync, path: ./src, target: /app/src}")
        return
    action = WATCH_ACTIONS.get(str(rule.get("action")))
    if action is None:
        r.note(svc.key(*where, "action"), f"action {rule.get('action')!r} is not carried (devenv has sync, "
                                          "sync+restart, sync+exec and rebuild)")
        return
    path = (r.folder / rule["path"]).resolve()
    rel = r.inside(path)
    if rel is None:
        r.refuse(svc.key(*where, "path"), f"watch path {rule['path']} lies outside the project", "watch a path inside it")
        return
    out: dict[str, Any] = {"path": "*" if rel == "." else rel, "action": action}
    if action != "rebuild":
        if not isinstance(rule.get("target"), str):
            r.refuse(svc.key(*where, "target"), f"action {action} needs `target:`", "the path in the container")
            return
        out["target"] = rule["target"]
    _watch_extras(r, svc, rule, out, where)
    svc.out.setdefault("watch", []).append(out)


def _watch_extras(r: ServiceReader, svc: Service, rule: dict[str, Any], out: dict[str, Any], where: Where) -> None:
    if isinstance(rule.get("ignore"), list):
        out["ignore"] = [str(i) for i in rule["ignore"]]
    if out["action"] == "sync+exec":
        exec_ = rule.get("exec")
        command = exec_.get("command") if isinstance(exec_, dict) else None
        if command is None:
            out["action"] = "sync"
            r.note(svc.key(*where, "exec"), "no exec command: carried as sync")
        else:
            out["exec"] = command
    for key in rule:
        if key in ("include", "initial_sync"):
            r.note(svc.key(*where, key), "not carried (devenv syncs edits made while it was stopped on start)")
