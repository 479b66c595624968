"""The direct sync path never follows a symlink the container planted, and hands such files back
to the archive API."""

from __future__ import annotations

import os
from pathlib import Path

from devenv.backends import rootfs


def test_writes_creates_directories_and_deletes(tmp_path: Path) -> None:
    root, src = tmp_path / "root", tmp_path / "a.txt"
    root.mkdir()
    src.write_text("hello")
    assert rootfs.write_files(root, [(src, "/srv/app/new/a.txt")]) == []
    assert (root / "srv/app/new/a.txt").read_text() == "hello"
    assert oct((root / "srv/app/new").stat().st_mode & 0o777) == "0o755"
    assert rootfs.write_files(root, [(None, "/srv/app/new")]) == []
    assert not (root / "srv/app/new").exists()
    assert not list(root.rglob(".*devenv-sync"))  # no temp file left behind


def test_a_symlink_on_the_path_is_refused_and_left_for_the_archive_api(tmp_path: Path) -> None:
    root, outside, src = tmp_path / "root", tmp_path / "host-etc", tmp_path / "a.txt"
    (root / "srv").mkdir(parents=True)
    outside.mkdir()
    src.write_text("x")
    os.symlink(outside, root / "srv" / "app")  # planted by the container, pointing at a host path
    os.symlink("/etc/passwd", root / "srv" / "file")
    left = rootfs.write_files(root, [(src, "/srv/app/a.txt"), (src, "/srv/file"), (None, "/srv/app")])
    assert left == [(src, "/srv/app/a.txt"), (src, "/srv/file"), (None, "/srv/app")]
    assert list(outside.iterdir()) == [] and (root / "srv" / "app").is_symlink()


def test_dotdot_and_empty_destinations_are_refused(tmp_path: Path) -> None:
    src = tmp_path / "a"
    src.write_text("x")
    assert rootfs.write_files(tmp_path, [(src, "/../x"), (src, "/")]) == [(src, "/../x"), (src, "/")]


def test_merged_dir_needs_a_running_container_with_a_mounted_root(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    attrs = {"State": {"Running": True}, "GraphDriver": {"Data": {"MergedDir": str(tmp_path)}}}
    assert rootfs.merged_dir(attrs) is None  # a plain directory is not the container's mount
    assert rootfs.merged_dir({"State": {"Running": False}, "GraphDriver": {}}) is None
    monkeypatch.setenv("DEVENV_SYNC", "archive")
    assert not rootfs.enabled()
