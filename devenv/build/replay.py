"""A no-op ``devenv build`` answered without loading the project or computing a digest.

A full run (load, lint, plan with content digests, one inspect per tag) costs a few hundred ms of
a command whose answer is usually "everything is cached". After a run that ends with every image
present, ``record`` stores what that answer depended on: the configuration's fingerprint, the
command line's selection, the stat (type, mode, size, mtime, inode: what the digest cache trusts
too) of every entry under each image's context and of its Dockerfile, taken *before* the run
computed its digests, the ids of the external images its tags were computed with, and the records
it printed. ``replay`` answers the same command again while all of that holds and the engine still
has every tag and every external image under the same id. Anything else (one touched file, a new
one, an edited profile, a removed tag, a re-imported base image) returns None and the full build
runs and decides, exactly as before. Light on purpose: no model, no YAML, no dataclasses.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from devenv import layout
from devenv.walk import walk

FORMAT = 1
NAME = "build-replay.json"
MAX_ENTRIES = 20_000  # a larger context is walked by the full run only (the replay must stay cheap)


def signature(dirs: Iterable[Path], files: Iterable[Path]) -> str | None:
    """The stat of every entry under ``dirs`` and of ``files``, hashed; None past ``MAX_ENTRIES``."""
    h = hashlib.sha256()
    count = 0
    for d in sorted({str(x) for x in dirs}):
        h.update(f"\0dir {d}\0".encode())
        for rel, _path, st in walk(d, lambda _rel: False):
            count += 1
            if count > MAX_ENTRIES:
                return None
            h.update((f"{rel}/\n" if st is None else f"{rel}|{_stat_key(st)}\n").encode())
    for f in sorted({str(x) for x in files}):
        try:
            h.update(f"\0file {f}|{_stat_key(os.lstat(f))}\n".encode())
        except OSError:
            h.update(f"\0file {f}|missing\n".encode())
    return h.hexdigest()


def _stat_key(st: os.stat_result) -> str:
    return f"{st.st_mode}|{st.st_size}|{st.st_mtime_ns}|{st.st_ino}"


def inputs_of(images: Iterable[Any]) -> tuple[list[Path], list[Path]]:
    """Context directories and Dockerfiles (with a Dockerfile-specific ``.dockerignore``) of the
    ``model.types.Image`` values a run builds."""
    dirs, files = [], []
    for img in images:
        dirs.append(Path(img.context))
        files += [Path(img.dockerfile), Path(f"{img.dockerfile}.dockerignore")]
    return dirs, files


def selection(tenants: list[str], images: list[str]) -> list[list[str]]:
    return [sorted(tenants), sorted(images)]


def record(root: Path, key: str, chosen: list[list[str]], sig: str, images: list[dict[str, Any]],
           externals: dict[str, str], warnings: list[str] | None) -> None:
    """Store a replay for the run just finished (every image present); a failure to write only
    makes the next no-op slower."""
    from devenv.fsutil import atomic_write_json

    entry = {"format": FORMAT, "key": key, "selection": chosen, "signature": sig, "images": images,
             "externals": externals, "warnings": warnings}
    try:
        atomic_write_json(layout.ensure(root, "cache") / NAME, entry)
    except Exception:  # noqa: BLE001 - the replay is an optimisation, never an error
        return


def replay(root: Path, key: str, chosen: list[list[str]], need_warnings: bool) -> tuple[list[dict[str, Any]], list[str]] | None:
    """The records and warnings of the recorded run, when everything they depended on still holds."""
    entry = _read(root)
    if entry is None or entry.get("key") != key or entry.get("selection") != chosen:
        return None
    if need_warnings and entry.get("warnings") is None:
        return None
    images: list[dict[str, Any]] = entry["images"]
    dirs = [Path(i["context"]) for i in images if i.get("context")]
    files = [Path(i["dockerfile"]) for i in images] + [Path(f"{i['dockerfile']}.dockerignore") for i in images]
    if signature(dirs, files) != entry.get("signature") or not _engine_holds(entry):
        return None
    return images, list(entry.get("warnings") or [])


def _read(root: Path) -> dict[str, Any] | None:
    from devenv.fsutil import read_record

    entry = read_record(layout.cache_file(root, NAME), FORMAT)
    images = entry.get("images") if entry is not None else None
    ok = (isinstance(images, list) and all(_image_ok(i) for i in images)
          and isinstance(entry.get("externals") if entry is not None else None, dict))
    return entry if ok else None  # a hand-edited record is only a miss: the full build answers


def _image_ok(image: Any) -> bool:
    return (isinstance(image, dict) and isinstance(image.get("tag"), str)
            and isinstance(image.get("dockerfile"), str) and isinstance(image.get("context"), str | None))


def _engine_holds(entry: dict[str, Any]) -> bool:
    """Every tag still present, every external image still the one the tags were computed with."""
    from devenv import dockerhttp

    for ref, image_id in dict(entry.get("externals") or {}).items():
        info = dockerhttp.inspect_image(ref)
        if not info or info.get("Id") != image_id:
            return False
    return all(dockerhttp.inspect_image(i["tag"]) for i in entry["images"])
