"""A validated project, cached under ``.devenv/cache/`` and keyed by the content of what it was read from.

Every command starts by loading the project, and a full load (YAML with positions, JSON Schema
validation, the semantic checks) costs ~0.3 s of a CLI whose peer (``docker ps``) answers in 0.02 s.
The result of a clean pass (the parsed ``Project`` and its warnings) is pickled here and reused
while its key holds. The key is a sha256 of the *content* of ``devenv.yaml``, every profile, the
overlays, the JSON Schemas, devenv's version and its model sources' stat (editable installs), the
root and ``strict``. A few checks read the filesystem beyond those files (a build context exists, a
Dockerfile declares its ``ARG``, a watch path exists, the overlay's ``{file: PATH}`` secrets): those
facts are stored with the entry and compared on every hit, so a deleted context, an edited Dockerfile
or an edited secret file re-runs the full pass.

A configuration with errors is never cached (the full pass reports every problem every time). The
cache is owner-only and only read when this user owns it and nobody else can write it (it is a
pickle); a cache that cannot be read or written is silently skipped: it is never an error.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
from pathlib import Path
from typing import Any

from devenv import layout
from devenv.errors import DevenvError, Problem
from devenv.fsutil import read_bytes
from devenv.inputs import MAX_INPUT
from devenv.model.types import Project

CACHE_NAME = "project.pickle"


def cache_path(root: Path) -> Path:
    return layout.cache_file(root, CACHE_NAME)


def facts(project: Project) -> tuple[Any, ...]:
    """What validation read outside the configuration files, as it is now."""
    out: list[Any] = []
    for img in project.app.images.values():
        out.append((img.name, img.context.is_dir(), _sha_or_none(img.dockerfile)))
    root = project.app.root
    for comp in project.app.components.values():
        for rule in comp.watch:
            out.append((comp.name, rule.path, (root / rule.path).exists()))
    for path in project.overlay.secret_files:  # a dev value read from a file is as current as the file
        out.append((str(path), _sha_or_none(path)))
    return tuple(out)


def _sha_or_none(path: Path) -> str | None:
    try:
        return hashlib.sha256(read_bytes(path, MAX_INPUT)).hexdigest()
    except DevenvError:
        return None


def read(root: Path, key: str) -> tuple[Project, list[Problem]] | None:
    """The cached project for ``key``, or None (absent, stale, foreign, unreadable)."""
    try:
        with open(os.open(cache_path(root), os.O_RDONLY | os.O_NONBLOCK), "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return None
            entry = pickle.load(f)
        if not isinstance(entry, dict) or entry.get("key") != key:
            return None
        project, warnings = entry["project"], entry["warnings"]
        if not isinstance(project, Project) or entry.get("facts") != facts(project):
            return None
        return project, list(warnings)
    except Exception:  # noqa: BLE001 - a broken cache is only a slower start
        return None


def write(root: Path, key: str, project: Project, warnings: list[Problem]) -> None:
    """Store the entry atomically, owner-only; any failure (read-only checkout, full disk) is ignored.
    Only into an existing ``.devenv/``: a command that writes nothing (``render`` to stdout, a
    first ``status``) must not create the state directory; ``up`` and ``build`` create it."""
    if not layout.state_root(root).is_dir():
        return
    try:
        from devenv.fsutil import atomic_write

        path = layout.ensure(root, "cache") / CACHE_NAME
        data = pickle.dumps({"key": key, "facts": facts(project), "project": project, "warnings": warnings},
                            protocol=pickle.HIGHEST_PROTOCOL)
        atomic_write(path, data)
    except Exception:  # noqa: BLE001 - a cache that cannot be written is not an error
        return
