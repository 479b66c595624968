"""Live updates inferred from the Dockerfile: the glue between the Dockerfile's tail (``build.append``
knows it) and the watch planner (``watch.mapping`` decides), plus the record of which containers
run synced content (``devenv status`` reads it).

Nothing here decides what to sync: ``DockerfileTails`` only reads each image's Dockerfile into a
``LiveTail`` for ``plan_changes``. The record, ``.devenv/<tenant>/live.json``, names per component
the image its container was started from, so a container recreated since (another image) no
longer counts as synced.
"""

from __future__ import annotations

import json
import posixpath
import threading
import time
from pathlib import Path
from typing import Any

from devenv import layout
from devenv.build import append
from devenv.build import dockerfile as df
from devenv.fsutil import atomic_write, state_text
from devenv.model.types import ImageDef
from devenv.watch.mapping import LiveTail, TailCopy

LIVE_FILE = "live.json"


class DockerfileTails:
    """``tail_of`` for ``plan_changes``: each image's ``LiveTail``, re-read when its Dockerfile
    changes (keyed by mtime and size)."""

    def __init__(self) -> None:
        self._cache: dict[Path, tuple[tuple[int, int], LiveTail | None]] = {}
        self._lock = threading.Lock()

    def __call__(self, img: ImageDef) -> LiveTail | None:
        try:
            st = img.dockerfile.stat()
        except OSError:
            return None
        key = (st.st_mtime_ns, st.st_size)
        with self._lock:
            hit = self._cache.get(img.dockerfile)
        if hit is not None and hit[0] == key:
            return hit[1]
        tail = read_tail(img)
        with self._lock:
            self._cache[img.dockerfile] = (key, tail)
        return tail


def read_tail(img: ImageDef) -> LiveTail | None:
    """The Dockerfile's trailing ``COPY``s with absolute destinations; None when there is no tail,
    the head's sources are unknowable (``ADD <url>``) or a ``COPY`` cannot be placed (a relative
    destination under a ``WORKDIR`` the Dockerfile does not fix)."""
    try:
        instructions = df.read(img.dockerfile)
        tail = append.split(instructions, img.target)
    except (OSError, ValueError):
        return None
    if tail is None:
        return None
    head_sources = append._head_sources(tail.head)
    if head_sources is None:
        return None
    workdir = _workdir(tail.head)
    copies: list[TailCopy] = []
    for ins in tail.steps:
        if ins.keyword != "COPY":
            continue
        copy = _tail_copy(img, ins, workdir)
        if copy is None:
            return None
        copies.append(copy)
    if not copies:
        return None
    return LiveTail(tuple(copies), tuple(append._norm_source(s) for s in head_sources))


def _tail_copy(img: ImageDef, ins: df.Instruction, workdir: str | None) -> TailCopy | None:
    try:
        c = append.parse_copy(ins)
    except append.Unsupported:
        return None
    if not c.dest.startswith("/") and workdir is None:
        return None
    dest, as_dir = append._resolve_dest(c.dest, workdir or "/")
    where = f"{img.dockerfile.name}:{ins.line} {c.text}"
    return TailCopy(tuple(append._norm_source(s) for s in c.sources), dest, as_dir, where)


def _workdir(head: tuple[df.Instruction, ...]) -> str | None:
    """The ``WORKDIR`` in force where the tail starts, when the final stage fixes it."""
    stage: list[df.Instruction] = []
    for ins in reversed(head):
        if ins.keyword == "FROM":
            break
        stage.insert(0, ins)
    wd: str | None = None
    for ins in stage:
        if ins.keyword != "WORKDIR":
            continue
        arg = ins.args.strip()
        if "$" in arg or not arg:
            return None
        if arg.startswith("/"):
            wd = posixpath.normpath(arg)
        elif wd is not None:
            wd = posixpath.normpath(posixpath.join(wd, arg))
    return wd


# -- the record of synced containers ------------------------------------------------------------------


def live_file(root: Path, tenant: str) -> Path:
    return layout.tenant_dir(root, tenant) / LIVE_FILE


def read_live(root: Path, tenant: str) -> dict[str, Any]:
    """``{component: {"image": started from, "built": image the content matches, "from": COPY,
    "files": [...], "at": epoch seconds}}``; empty when nothing runs synced content."""
    try:
        data = json.loads(state_text(live_file(root, tenant)))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record_live(root: Path, tenant: str, component: str, running: str, built: str, where: str,
                files: list[str]) -> None:
    """After a live update and its background build: the container started from ``running`` now
    holds what ``built`` holds. The same image means nothing differs any more: the entry goes."""
    data = read_live(root, tenant)
    old = data.get(component) if isinstance(data.get(component), dict) else None
    if old and old.get("image") == running:
        files = sorted(set(old.get("files", [])) | set(files))
    if built == running:
        data.pop(component, None)
    else:
        data[component] = {"image": running, "built": built, "from": where, "files": files, "at": time.time()}
    _write(root, tenant, data)


def clear_live(root: Path, tenant: str, components: list[str]) -> None:
    """The components were recreated on their image: they run no synced content any more."""
    data = read_live(root, tenant)
    if any(c in data for c in components):
        for c in components:
            data.pop(c, None)
        _write(root, tenant, data)


def synced_note(entry: dict[str, Any] | None, running_image: str) -> str:
    """What ``devenv status`` says of a container: "" unless it runs synced content."""
    if not entry or entry.get("image") != running_image:
        return ""
    n = len(entry.get("files", []))
    return (f"synced {n} file(s) live ({entry.get('from', '?')}); image {entry.get('built', '?')} "
            "holds them: the next `devenv up` recreates on it")


def _write(root: Path, tenant: str, data: dict[str, Any]) -> None:
    path = live_file(root, tenant)
    if not data and not path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(data, indent=1, sort_keys=True) + "\n")
