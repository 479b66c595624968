"""Content digests of build contexts: what a build would send, hashed by content, not by mtime.

Hashing every file on every ``devenv build`` would make a no-op build cost as much as reading the
whole context. So each file's sha256 is cached under its (path, size, mtime_ns, inode): when those
are unchanged the file is not opened at all. The cached value is still a *content* hash, so a
``touch`` (new mtime, same bytes) re-reads the file once and yields the same digest, unlike
DevSpace's mtime-based hash (devspace#2660). Files modified within ``RACY_SECONDS`` of the hash are
not cached, since a second write in the same mtime tick would go unnoticed (git's "racy clean").
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from devenv import layout
from devenv.build.dockerignore import context_entries
from devenv.fsutil import atomic_write_json, state_text

CACHE_FILE = layout.DIGESTS
CACHE_VERSION = 1
RACY_SECONDS = 2.0
CHUNK = 1 << 20


@dataclass(frozen=True)
class ContextDigest:
    """The digest of one context and what it covers (for reports: files and bytes sent)."""

    digest: str
    files: int
    bytes: int
    paths: tuple[str, ...]
    values: tuple[str, ...]  # per path: what was hashed of it (type, mode, content or target)


class DigestCache:
    """Per-file content hashes persisted in ``<root>/.devenv/cache/digests.json``.

    Thread-safe; ``save`` writes atomically (temp file + rename) and only when something changed."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.path = self.root / CACHE_FILE
        self._entries: dict[str, list[int | str]] | None = None
        self._seen: set[str] = set()
        self._scopes: set[str] = set()
        self._dirty = False
        self._lock = threading.Lock()
        self.reads = 0  # files opened and hashed by this cache (tests and benchmarks read it)

    def _load(self) -> dict[str, list[int | str]]:
        if self._entries is None:
            try:
                data = json.loads(state_text(self.path))
                ok = isinstance(data, dict) and data.get("version") == CACHE_VERSION
                self._entries = dict(data.get("files", {})) if ok else {}
            except (OSError, ValueError):
                self._entries = {}
        return self._entries

    def key(self, path: str) -> str:
        """Project-relative where possible, so moving the checkout keeps the cache valid."""
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return path

    def file_sha(self, path: str, st: os.stat_result, key: str | None = None) -> str:
        """The sha256 of the file at ``path``, read only when its stat differs from the cached one.
        ``key`` (``self.key(path)``) may be given: callers hashing a whole tree compute it cheaply."""
        key = key or self.key(path)
        with self._lock:
            entries = self._load()
            self._seen.add(key)
            hit = entries.get(key)
        if hit is not None and hit[:3] == [st.st_size, st.st_mtime_ns, st.st_ino]:
            return str(hit[3])
        sha = _hash_file(path)
        with self._lock:
            self.reads += 1
            if time.time() - st.st_mtime_ns / 1e9 > RACY_SECONDS:
                entries[key] = [st.st_size, st.st_mtime_ns, st.st_ino, sha]
            else:
                entries.pop(key, None)
            self._dirty = True
        return sha

    def scope(self, directory: Path) -> None:
        """Mark ``directory`` as fully walked, so entries under it not seen again can be dropped.
        The project root itself (key ``.``) scopes every project-relative key."""
        key = self.key(str(directory)).rstrip("/")
        with self._lock:
            self._scopes.add("" if key == "." else key + "/")

    def lookup_many(self, keys: list[str]) -> list[list[int | str] | None]:
        """Cached entries for many keys under one lock: the warm path of a whole context costs a
        dict lookup per file."""
        with self._lock:
            entries = self._load()
            self._seen.update(keys)
            return [entries.get(k) for k in keys]

    def save(self) -> None:
        with self._lock:
            if self._entries is None:
                return
            stale = [k for k in self._entries
                     if k not in self._seen and any(k.startswith(s) for s in self._scopes)]
            for k in stale:
                del self._entries[k]
            if not (self._dirty or stale):
                return
            atomic_write_json(self.path, {"version": CACHE_VERSION, "files": self._entries})
            self._dirty = False


def _hash_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def context_digest(context: Path, dockerfile: Path, cache: DigestCache) -> ContextDigest:
    """Hash what a build of ``context`` sends: each file's path, type, permission bits and content
    (or a symlink's target). Excluded files (``.dockerignore``) are not part of it."""
    context = Path(context)
    h = hashlib.sha256()
    total = 0
    paths: list[str] = []
    values: list[str] = []
    cache.scope(context)
    base, key_base = str(context), cache.key(str(context))
    key_base = "" if key_base == "." else key_base + "/"
    entries = context_entries(context, dockerfile)
    keys = [key_base + rel for rel, _ in entries]
    hits = cache.lookup_many(keys)
    for (rel, st), key, hit in zip(entries, keys, hits, strict=True):
        mode = st.st_mode
        if stat.S_ISLNK(mode):
            kind, value = "l", os.readlink(f"{base}/{rel}")
        else:
            kind = "f"
            if hit is not None and hit[0] == st.st_size and hit[1] == st.st_mtime_ns and hit[2] == st.st_ino:
                value = str(hit[3])
            else:
                value = cache.file_sha(f"{base}/{rel}", st, key)
            total += st.st_size
        item = f"{kind}\0{stat.S_IMODE(mode):o}\0{value}"
        h.update(f"{rel}\0{item}\n".encode("utf-8", "surrogateescape"))
        paths.append(rel)
        values.append(item)
    return ContextDigest(h.hexdigest(), len(paths), total, tuple(paths), tuple(values))
