"""One watchdog observer over every watched build context, feeding the coalescer.

Why one observer: watchdog (7.x, Linux) shares one inotify instance per process and spends one
inotify watch per directory, so a single observer with one recursive watch per *outermost* root
costs the fewest threads and kernel resources. Nested roots (a base image whose context holds a
child's) are watched once; ignore decisions still consult every root that holds a path, because a
file the outer context's ``.dockerignore`` drops may be an input of the inner image.

Only write-side events are asked of the kernel (``event_filter``): builds read every file of a
context, and open/close-without-write events would otherwise wake us for each of them.
"""

from __future__ import annotations

import errno
import logging
import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

from watchdog.events import (
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from devenv.errors import DevenvError
from devenv.watch.coalesce import DEFAULT_MAX_WAIT, DEFAULT_QUIET, Batch, Coalescer
from devenv.watch.ignore import NOISE_DIRS, IsIgnored, default_is_ignored, noise_reason, walk_tree
from devenv.watch.mapping import ChangeKind

log = logging.getLogger(__name__)

EVENT_FILTER: list[type[FileSystemEvent]] = [
    FileCreatedEvent, FileModifiedEvent, FileClosedEvent, FileDeletedEvent, FileMovedEvent,
    DirDeletedEvent, DirMovedEvent,
]
INOTIFY_DIR = Path("/proc/sys/fs/inotify")
RECOMMENDED_WATCHES = 524288
RECOMMENDED_INSTANCES = 512


def outermost(roots: list[Path]) -> list[Path]:
    """``roots`` without duplicates and without any root lying inside another."""
    unique = sorted({Path(os.path.abspath(r)) for r in roots}, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for root in unique:
        if not any(root == k or k in root.parents for k in kept):
            kept.append(root)
    return sorted(kept)


class Watcher:
    """Watch ``roots`` recursively and call ``on_batch`` (on the coalescer's thread) with each
    coalesced batch of non-ignored changes: ``{absolute path: kind}``.

    ``is_ignored(root, relpath)`` (default: each root's ``.dockerignore``) is asked for every root
    holding a path; a path is dropped only when every such root excludes it. Editor/VCS noise is
    always dropped. Dropped paths never reach the coalescer, so they cannot delay a batch."""

    def __init__(self, roots: list[Path], on_batch: Callable[[Batch], None], quiet: float = DEFAULT_QUIET,
                 max_wait: float = DEFAULT_MAX_WAIT, is_ignored: IsIgnored | None = None) -> None:
        self.all_roots = sorted({Path(os.path.abspath(r)) for r in roots})
        self.roots = outermost(self.all_roots)
        self.missing: list[Path] = []
        # outermost first, so the first match of a path gives its longest relative path
        self._prefixes = [(r, str(r).rstrip(os.sep) + os.sep) for r in sorted(self.all_roots, key=lambda r: len(r.parts))]
        self._root_strs = {str(r) for r in self.all_roots}
        self._is_ignored: IsIgnored = is_ignored or default_is_ignored()
        self._on_batch = on_batch
        self._quiet = quiet
        self._max_wait = max_wait
        self._coalescer: Coalescer | None = None
        self._observer: Observer | None = None  # type: ignore[valid-type]
        self._files = 0
        self._dirs = 0

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        """Count what is watched, then start watching; raises ``DevenvError`` (with the sysctl fix)
        when the kernel refuses more inotify watches."""
        self._files, self._dirs = self._count()
        # watchdog warns when a new directory's watch races its own re-scan; it recovers by itself
        warnings.filterwarnings("ignore", message="Callback with id", category=RuntimeWarning)
        observer = Observer()
        self._coalescer = Coalescer(self._quiet, self._max_wait, self._on_batch,
                                    busy=lambda: not observer.event_queue.empty())
        handler = _Handler(self)
        self.missing = [r for r in self.roots if not r.is_dir()]
        for root in self.roots:
            if root.is_dir():
                observer.schedule(handler, str(root), recursive=True, event_filter=EVENT_FILTER)
        try:
            observer.start()
        except OSError as exc:
            observer.stop()
            self._coalescer.close(flush=False)
            raise _inotify_error(exc, self._dirs) from exc
        self._observer = observer

    def stop(self, flush: bool = False) -> None:
        """Stop watching; ``flush`` delivers the open batch instead of dropping it."""
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer = None
        if self._coalescer is not None:
            self._coalescer.close(flush=flush)
            self._coalescer = None

    def __enter__(self) -> Watcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- figures ----------------------------------------------------------------------------------

    def file_count(self) -> int:
        """Non-ignored files under the roots, counted once at ``start`` (for the status line)."""
        return self._files

    def dir_count(self) -> int:
        """Directories under the roots at ``start``: the inotify watches this watcher needs."""
        return self._dirs

    # -- event intake (observer thread) -----------------------------------------------------------

    def add(self, path: str, kind: ChangeKind, finished: bool = False) -> None:
        if self._coalescer is None:
            return
        if path.endswith("/.dockerignore"):
            self._invalidate(Path(path).parent)
        if not self.ignored(path):
            self._coalescer.add(Path(path), kind, finished)

    def ignored(self, path: str) -> bool:
        """Noise anywhere, or excluded by every root that holds it (or held by none). Runs for
        every event on the observer thread, hence plain string work and no disk access."""
        rels = [(root, path[len(prefix):]) for root, prefix in self._prefixes if path.startswith(prefix)]
        if not rels:
            return path not in self._root_strs
        if noise_reason(rels[0][1]) is not None:  # the outermost root gives the longest relpath
            return True
        return all(self._is_ignored(root, rel) for root, rel in rels)

    def _invalidate(self, context: Path) -> None:
        invalidate = getattr(self._is_ignored, "invalidate", None)
        if invalidate is not None:
            invalidate(context)

    def _count(self) -> tuple[int, int]:
        files = dirs = 0
        for root in self.roots:
            for is_dir in _walk(root, self._prunable(root)):
                dirs += is_dir
                files += not is_dir
        return files, dirs

    def _prunable(self, root: Path) -> Callable[[str], bool]:
        prune = getattr(self._is_ignored, "prunable", None)
        holders = [r for r in self.all_roots if r == root or root in r.parents]

        def check(rel: str) -> bool:
            if rel.rsplit("/", 1)[-1] in NOISE_DIRS:
                return True
            # only safe when no nested root is, or lies inside, the directory being skipped
            inner = any(h == root / rel or str(h).startswith(str(root / rel) + os.sep) for h in holders if h != root)
            return prune is not None and not inner and bool(prune(root, rel))
        return check


class _Handler(FileSystemEventHandler):
    """Translate watchdog events into ``(path, kind)``; directory events only for deletions."""

    def __init__(self, watcher: Watcher) -> None:
        self._w = watcher

    def dispatch(self, event: FileSystemEvent) -> None:
        src = os.fsdecode(event.src_path)
        if isinstance(event, FileMovedEvent | DirMovedEvent):
            # a moved directory's files arrive as their own sub-events; the source still goes,
            # as a prefix, so empty directories and files the sub-events miss are removed too
            self._w.add(src, "moved", finished=True)
            if not event.is_directory:  # a rename is atomic: its destination is a finished file
                self._w.add(os.fsdecode(event.dest_path), "created", finished=True)
        elif isinstance(event, FileDeletedEvent | DirDeletedEvent):
            self._w.add(src, "deleted", finished=True)
        elif isinstance(event, FileCreatedEvent):
            self._w.add(src, "created")
        elif isinstance(event, FileClosedEvent) and not event.is_directory:
            self._w.add(src, "modified", finished=True)  # IN_CLOSE_WRITE: the writer is done
        elif isinstance(event, FileModifiedEvent) and not event.is_directory:
            self._w.add(src, "modified")


def _walk(root: Path, prunable: Callable[[str], bool]) -> Iterator[bool]:
    """True per directory, False per file under ``root`` (see ``walk_tree``)."""
    for _rel, _path, st in walk_tree(root, prunable):
        yield st is None


# -- inotify limits ------------------------------------------------------------------------------

def inotify_limits(base: Path = INOTIFY_DIR) -> tuple[int, int] | None:
    """``(max_user_watches, max_user_instances)``, or None where there is no inotify (macOS...)."""
    try:
        watches = int((base / "max_user_watches").read_text().strip())
        instances = int((base / "max_user_instances").read_text().strip())
    except (OSError, ValueError):
        return None
    return watches, instances


def check_inotify(needed: int, limits: tuple[int, int] | None = None) -> str | None:
    """A warning with the exact fix when the inotify limits are too low, else None.

    ``needed`` is the number of watches devenv will take: one per watched directory on Linux
    (``Watcher.dir_count()``); a file count over-estimates it, which errs on the safe side. The limit
    is per *user* and shared with editors and other watchers, so devenv warns already when it alone
    would take half of it."""
    limits = limits if limits is not None else inotify_limits()
    if limits is None:
        return None
    watches, instances = limits
    problems: list[str] = []
    if needed * 2 > watches:
        state = "too low" if needed >= watches else "tight (editors and other tools share it)"
        problems.append(f"fs.inotify.max_user_watches={watches} is {state} for {needed} watched directories")
    if instances < 16:
        problems.append(f"fs.inotify.max_user_instances={instances} is too low")
    if not problems:
        return None
    return "; ".join(problems) + ".\n" + sysctl_fix()


def sysctl_fix() -> str:
    """The commands that raise both limits now and for every boot."""
    return (
        f"fix now:      sudo sysctl fs.inotify.max_user_watches={RECOMMENDED_WATCHES} "
        f"fs.inotify.max_user_instances={RECOMMENDED_INSTANCES}\n"
        f"fix for good: printf 'fs.inotify.max_user_watches={RECOMMENDED_WATCHES}\\n"
        f"fs.inotify.max_user_instances={RECOMMENDED_INSTANCES}\\n' "
        f"| sudo tee /etc/sysctl.d/60-devenv-inotify.conf && sudo sysctl --system"
    )


def _inotify_error(exc: OSError, dirs: int) -> DevenvError:
    if exc.errno == errno.ENOSPC:
        return DevenvError(f"the inotify watch limit was reached watching {dirs} directories",
                           sysctl_fix())
    if exc.errno == errno.EMFILE:
        return DevenvError("the inotify instance limit was reached", sysctl_fix())
    return DevenvError(f"cannot watch the build contexts: {exc}", "check the paths exist and are readable")
