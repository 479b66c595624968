"""Context digests hash content, not mtimes, honour .dockerignore, and read no unchanged file."""

from __future__ import annotations

import builtins
import os
import time
from pathlib import Path

import pytest

from devenv.build import digest as digest_mod
from devenv.build.digest import DigestCache, context_digest

OLD = time.time() - 3600


def _ctx(tmp_path: Path) -> Path:
    ctx = tmp_path / "ctx"
    (ctx / "src").mkdir(parents=True)
    (ctx / "Dockerfile").write_text("FROM debian:bookworm-slim\nCOPY . /app\n")
    (ctx / ".dockerignore").write_text("*.log\n")
    (ctx / "src" / "a.py").write_text("print('a')\n")
    (ctx / "run.sh").write_text("#!/bin/sh\n")
    _age(ctx)
    return ctx


def _age(ctx: Path) -> None:
    """Move mtimes out of the racy window so the cache may keep them."""
    for p in ctx.rglob("*"):
        os.utime(p, (OLD, OLD), follow_symlinks=False)


def _digest(tmp_path: Path, ctx: Path) -> str:
    cache = DigestCache(tmp_path)
    d = context_digest(ctx, ctx / "Dockerfile", cache)
    cache.save()
    return d.digest


def test_touch_changes_nothing(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    before = _digest(tmp_path, ctx)
    os.utime(ctx / "src" / "a.py", (OLD + 100, OLD + 100))
    assert _digest(tmp_path, ctx) == before


def test_edit_changes_the_digest(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    before = _digest(tmp_path, ctx)
    (ctx / "src" / "a.py").write_text("print('b')\n")
    assert _digest(tmp_path, ctx) != before


def test_same_size_same_mtime_edit_is_seen_through_the_racy_window(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    fresh = ctx / "src" / "new.py"
    fresh.write_text("x = 1\n")
    before = _digest(tmp_path, ctx)
    st = fresh.stat()
    fresh.write_text("x = 2\n")
    os.utime(fresh, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert _digest(tmp_path, ctx) != before


def test_new_and_deleted_files_change_the_digest(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    before = _digest(tmp_path, ctx)
    (ctx / "src" / "b.py").write_text("")
    added = _digest(tmp_path, ctx)
    (ctx / "src" / "b.py").unlink()
    assert len({before, added}) == 2
    assert _digest(tmp_path, ctx) == before


def test_ignored_file_changes_nothing(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    before = _digest(tmp_path, ctx)
    (ctx / "debug.log").write_text("noise")
    assert _digest(tmp_path, ctx) == before


def test_exec_bit_and_symlink_target_count(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    before = _digest(tmp_path, ctx)
    os.chmod(ctx / "run.sh", 0o755)
    chmodded = _digest(tmp_path, ctx)
    os.symlink("src/a.py", ctx / "link")
    linked = _digest(tmp_path, ctx)
    (ctx / "link").unlink()
    os.symlink("run.sh", ctx / "link")
    assert len({before, chmodded, linked, _digest(tmp_path, ctx)}) == 4


def test_warm_hash_opens_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = _ctx(tmp_path)
    cold = _digest(tmp_path, ctx)
    assert (tmp_path / ".devenv" / "cache" / "digests.json").is_file()
    opened: list[str] = []
    real_open = builtins.open

    def spy(file, *a, **kw):  # type: ignore[no-untyped-def]
        opened.append(str(file))
        return real_open(file, *a, **kw)

    monkeypatch.setattr(builtins, "open", spy)
    cache = DigestCache(tmp_path)
    warm = context_digest(ctx, ctx / "Dockerfile", cache)
    assert warm.digest == cold
    assert cache.reads == 0
    assert not [f for f in opened if f.startswith(str(ctx))]


def test_digest_reports_files_and_bytes(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    d = context_digest(ctx, ctx / "Dockerfile", DigestCache(tmp_path))
    assert d.paths == (".dockerignore", "Dockerfile", "run.sh", "src/a.py")
    assert d.files == 4 and d.bytes == sum((ctx / p).stat().st_size for p in d.paths)


def test_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    cold = _digest(tmp_path, ctx)
    (tmp_path / ".devenv" / "cache" / "digests.json").write_text("{not json")
    assert _digest(tmp_path, ctx) == cold


def test_cache_drops_deleted_files(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    _digest(tmp_path, ctx)
    (ctx / "src" / "a.py").unlink()
    _digest(tmp_path, ctx)
    text = (tmp_path / ".devenv" / "cache" / "digests.json").read_text()
    assert "src/a.py" not in text and "run.sh" in text


def test_racy_files_are_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digest_mod, "RACY_SECONDS", 1e9)
    ctx = _ctx(tmp_path)
    _digest(tmp_path, ctx)
    cache = DigestCache(tmp_path)
    context_digest(ctx, ctx / "Dockerfile", cache)
    assert cache.reads == 4
