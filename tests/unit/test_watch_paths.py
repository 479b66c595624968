"""Edits made while not watching, where a synced file lands, what a rule's ``ignore`` drops, and a
``.dockerignore`` edit taking effect. Written against the survivors of bench/mutation.py (watch)."""

from __future__ import annotations

import os
from pathlib import Path

from devenv.model.types import App, ImageDef, WatchRule
from devenv.watch.ignore import DockerIgnoreCache
from devenv.watch.initial import changed_since
from devenv.watch.mapping import _rule_ignores, container_path

OLD = 1_000_000_000.0  # 2001
SINCE = 1_500_000_000.0  # 2017: the image's creation time in these tests


def _context(tmp_path: Path, files: dict[str, float]) -> App:
    ctx = tmp_path / "ctx"
    for rel, mtime in files.items():
        (ctx / rel).parent.mkdir(parents=True, exist_ok=True)
        (ctx / rel).write_text(rel)
        os.utime(ctx / rel, (mtime, mtime))
    img = ImageDef("web", ctx, ctx / "Dockerfile")
    return App("shop", tmp_path, tmp_path / "devenv.yaml", {"web": img}, {})


def _rels(app: App, paths: list[Path]) -> list[str]:
    return [p.relative_to(app.images["web"].context).as_posix() for p in paths]


def test_only_files_newer_than_the_image_count_and_noise_never(tmp_path: Path) -> None:
    new = SINCE + 10
    app = _context(tmp_path, {"Dockerfile": OLD, "src/old.py": OLD, "src/new.py": new, "src/same.py": SINCE,
                              ".git/HEAD": new, "src/.git/index": new, "a/b/.git/x": new,
                              "a/b/__pycache__/m.pyc": new})
    assert _rels(app, changed_since(app, "web", SINCE)) == ["src/new.py"]  # same.py: not *after* it


def test_dockerfile_and_dockerignore_count_even_when_dockerignored(tmp_path: Path) -> None:
    new = SINCE + 10
    app = _context(tmp_path, {"Dockerfile": new, ".dockerignore": new, "x.log": new, "keep.py": new})
    (app.images["web"].context / ".dockerignore").write_text("Dockerfile\n.dockerignore\n*.log\n")
    os.utime(app.images["web"].context / ".dockerignore", (new, new))
    assert _rels(app, changed_since(app, "web", SINCE)) == [".dockerignore", "Dockerfile", "keep.py"]
    same = _context(tmp_path / "other", {"Dockerfile": SINCE})
    assert changed_since(same, "web", SINCE) == []


def test_a_missing_dockerignore_is_never_reported(tmp_path: Path) -> None:
    app = _context(tmp_path, {"Dockerfile": OLD})
    assert _rels(app, changed_since(app, "web", 0.5)) == ["Dockerfile"]


class Spy(DockerIgnoreCache):
    """The real matcher, recording each path it is asked about."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def __call__(self, context: Path, relpath: str) -> bool:
        self.asked.append(relpath)
        return super().__call__(context, relpath)


def test_an_excluded_directory_is_skipped_whole(tmp_path: Path) -> None:
    """The docstring's promise (10,000 files in ~20 ms) rests on never walking excluded trees."""
    new = SINCE + 10
    files = {"Dockerfile": OLD, ".dockerignore": OLD, "src/a.py": new}
    files.update({f"build/out/{i}.o": new for i in range(5)})
    app = _context(tmp_path, files)
    (app.images["web"].context / ".dockerignore").write_text("build\n")
    os.utime(app.images["web"].context / ".dockerignore", (OLD, OLD))
    spy = Spy()
    assert _rels(app, changed_since(app, "web", SINCE, spy)) == ["src/a.py"]
    assert not [p for p in spy.asked if p.startswith("build/")]


def test_container_path_keeps_the_part_below_the_rule() -> None:
    sync = WatchRule("web/static", "sync", "/srv/static")
    assert container_path(sync, "web/static") == "/srv/static"
    assert container_path(sync, "web/static/Xmas/a.css") == "/srv/static/Xmas/a.css"
    glob = WatchRule("web/static/*.css", "sync", "/srv/css")
    assert container_path(glob, "web/static/site.css") == "/srv/css/site.css"
    assert container_path(glob, "web/static") == "/srv/css"  # the glob's directory itself (a deletion)
    deep = WatchRule("web/static/**/*.css", "sync", "/srv/css")
    assert container_path(deep, "web/static/a/b.css") == "/srv/css/a/b.css"


def test_rule_ignore_patterns_are_relative_to_the_rule_and_cover_what_is_under_them() -> None:
    rule = WatchRule("web", "sync", "/srv", ignore=("a/b", "/Xcache/", "lib/*/*.py", "*.pyc"))
    assert _rule_ignores(rule, "web/a/b/c.py")  # a path pattern naming a directory
    assert _rule_ignores(rule, "web/Xcache/f")  # slashes around a pattern do not matter
    assert _rule_ignores(rule, "web/lib/x/m.py")
    assert _rule_ignores(rule, "web/deep/er/m.pyc")  # a bare pattern matches at any depth
    assert not _rule_ignores(rule, "web/a/c.py") and not _rule_ignores(rule, "web/lib/m.py")
    assert not _rule_ignores(rule, "web")
    x = WatchRule("web", "sync", "/srv", ignore=("Xdir",))
    assert _rule_ignores(x, "web/Xdir/f") and not _rule_ignores(x, "web/dir/f")


def test_invalidate_makes_a_dockerignore_edit_effective_at_once(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("*.log\n")
    cache = DockerIgnoreCache(recheck=3600)
    assert cache(tmp_path, "a.log") and not cache(tmp_path, "a.tmp2")
    (tmp_path / ".dockerignore").write_text("*.tmp2\n")
    assert cache(tmp_path, "a.log")  # within the recheck period: not re-read yet
    cache.invalidate()
    assert not cache(tmp_path, "a.log") and cache(tmp_path, "a.tmp2")
    (tmp_path / ".dockerignore").write_text("*.log\n")
    cache.invalidate(tmp_path)
    assert cache(tmp_path, "a.log")
    cache.invalidate(tmp_path / "never-asked")  # nothing cached for it: nothing to forget, no error
