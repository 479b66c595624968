"""changed_since: what was edited while devenv was stopped, so the engine can resync it on start."""

from __future__ import annotations

import os
import time
from pathlib import Path

from devenv.model.loader import load_project
from devenv.model.resolve import resolve
from devenv.watch.ignore import DockerIgnoreCache
from devenv.watch.initial import changed_since
from devenv.watch.mapping import plan_changes


def age_tree(root: Path, when: float) -> None:
    for dirpath, _, files in os.walk(root):
        for f in files:
            os.utime(Path(dirpath) / f, (when, when), follow_symlinks=False)


def test_only_files_newer_than_the_image_are_reported(sample: Path):
    proj, _ = load_project(sample)
    web = proj.app.images["web"].context
    built = time.time() - 100
    age_tree(web, built - 50)
    template = web / "templates" / "index.html"
    template.write_text("<p>edited while stopped</p>\n")
    (web / "web" / "__pycache__").mkdir(exist_ok=True)
    (web / "web" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"x")
    (web / ".index.html.swp").write_bytes(b"x")
    assert changed_since(proj.app, "web", built) == [template]


def test_dockerignored_and_dockerfile(sample: Path):
    proj, _ = load_project(sample)
    ctx = proj.app.images["api"].context
    built = time.time() - 100
    age_tree(ctx, built - 50)
    (ctx / ".dockerignore").write_text("notes\n")
    (ctx / "notes").mkdir()
    (ctx / "notes" / "todo.md").write_text("x")
    (ctx / "Dockerfile").write_text((ctx / "Dockerfile").read_text() + "\n# touched\n")
    got = changed_since(proj.app, "api", built, DockerIgnoreCache())
    assert got == [ctx / ".dockerignore", ctx / "Dockerfile"]


def test_the_result_plans_like_a_batch(sample: Path):
    proj, _ = load_project(sample)
    web = proj.app.images["web"].context
    built = time.time() - 100
    age_tree(web, built - 50)
    (web / "templates" / "index.html").write_text("<p>x</p>\n")
    files = changed_since(proj.app, "web", built)
    plan = plan_changes(proj.app, [resolve(proj, "acme")], dict.fromkeys(files, "modified"))
    [sync] = plan.syncs
    assert sync.files[0][1] == "/srv/web/templates/index.html"


def test_symlink_loops_are_not_followed(tmp_path: Path, sample: Path):
    proj, _ = load_project(sample)
    ctx = proj.app.images["worker"].context
    (ctx / "loop").symlink_to(ctx)
    built = time.time() - 100
    age_tree(ctx, built - 50)
    os.utime(ctx / "loop", (built - 50, built - 50), follow_symlinks=False)  # os.walk lists it as a dir
    (ctx / "worker" / "new.py").write_text("x")
    assert changed_since(proj.app, "worker", built) == [ctx / "worker" / "new.py"]


def test_ten_thousand_files_are_fast(sample: Path):
    proj, _ = load_project(sample)
    ctx = proj.app.images["scheduler"].context
    for d in range(100):
        sub = ctx / "bulk" / f"d{d}"
        sub.mkdir(parents=True)
        for f in range(100):
            (sub / f"f{f}.txt").write_bytes(b"")
    built = time.time() + 1  # nothing is newer
    start = time.perf_counter()
    assert changed_since(proj.app, "scheduler", built) == []
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0, f"walking 10,000 files took {elapsed:.2f} s"
