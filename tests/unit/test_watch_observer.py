"""Watcher pieces that need no file events: root dedupe, path filtering, inotify limit advice."""

from __future__ import annotations

import errno
from pathlib import Path

from devenv.errors import DevenvError
from devenv.watch.ignore import DockerIgnoreCache
from devenv.watch.observer import (
    Watcher,
    _inotify_error,
    check_inotify,
    inotify_limits,
    outermost,
    sysctl_fix,
)


def test_outermost_drops_nested_and_duplicate_roots():
    roots = [Path("/a/b/c"), Path("/a/b"), Path("/a/b"), Path("/x"), Path("/a/bc")]
    assert outermost(roots) == [Path("/a/b"), Path("/a/bc"), Path("/x")]


def test_watcher_filters_noise_outside_and_dockerignored(tmp_path: Path):
    (tmp_path / ".dockerignore").write_text("*.log\n")
    w = Watcher([tmp_path], lambda b: None, is_ignored=DockerIgnoreCache())
    assert not w.ignored(str(tmp_path / "src" / "a.py"))
    assert w.ignored(str(tmp_path / "src" / "a.py.swp"))
    assert w.ignored(str(tmp_path / ".git" / "HEAD"))
    assert w.ignored(str(tmp_path / "x.log"))
    assert w.ignored(str(tmp_path.parent / "elsewhere.py"))
    assert w.ignored(str(tmp_path) + "x/sibling.py")  # a prefix of the name is not a parent
    assert not w.ignored(str(tmp_path))  # the root itself (deleted root) still reaches mapping


def test_inotify_limits_read_proc(tmp_path: Path):
    (tmp_path / "max_user_watches").write_text("8192\n")
    (tmp_path / "max_user_instances").write_text("128\n")
    assert inotify_limits(tmp_path) == (8192, 128)
    assert inotify_limits(tmp_path / "missing") is None


def test_this_machine_reports_limits_or_none():
    limits = inotify_limits()
    assert limits is None or (limits[0] > 0 and limits[1] > 0)


def test_check_inotify_is_quiet_when_limits_are_ample():
    assert check_inotify(1000, (524288, 512)) is None
    assert check_inotify(10, None) is None or isinstance(check_inotify(10, None), str)


def test_check_inotify_gives_the_exact_fix():
    msg = check_inotify(10_000, (8192, 128))
    assert msg is not None
    assert "max_user_watches=8192 is too low for 10000 watched directories" in msg
    assert "sudo sysctl fs.inotify.max_user_watches=524288" in msg
    assert "/etc/sysctl.d/" in msg


def test_check_inotify_warns_when_tight_and_on_instances():
    tight = check_inotify(5000, (8192, 128))
    assert tight is not None and "tight" in tight
    few = check_inotify(10, (524288, 8))
    assert few is not None and "max_user_instances=8" in few


def test_kernel_refusals_become_devenv_errors_with_the_fix():
    err = _inotify_error(OSError(errno.ENOSPC, "No space left on device"), 9000)
    assert isinstance(err, DevenvError)
    assert "9000 directories" in err.message and err.hint == sysctl_fix()
    assert "instance limit" in _inotify_error(OSError(errno.EMFILE, "Too many"), 1).message


def test_a_real_save_is_delivered_on_its_close_not_after_the_quiet_period(tmp_path: Path):
    """inotify's IN_CLOSE_WRITE (watchdog's FileClosedEvent) ends the save: with a 2 s quiet period
    the batch still arrives at once, and holds the file."""
    import queue
    import time

    got: queue.Queue[dict[Path, str]] = queue.Queue()
    target = tmp_path / "page.html"
    target.write_text("old\n")
    with Watcher([tmp_path], got.put, quiet=2.0, max_wait=10.0) as w:
        assert w.file_count() == 1
        start = time.monotonic()
        target.write_text("new\n")
        batch = got.get(timeout=5)
        waited = time.monotonic() - start
    assert batch == {target: "modified"}
    assert waited < 1.0
