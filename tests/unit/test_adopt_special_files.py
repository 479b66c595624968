"""``devenv init --from-compose`` with special files where it reads ``.env`` and ``env_file``.

A FIFO must never be opened for a blocking read (init hung forever on ``env_file: e.env`` being a
named pipe); a FIFO, a directory or a device is refused (an ``env_file``) or noted (the ``.env``
that compose reads when present), never skipped silently. Run through the real binary with a
timeout, so a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

COMPOSE = "services:\n  cache:\n    image: redis:7\n    env_file: {env_file}\n"


def special(path: Path, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    else:
        path.symlink_to("/dev/zero")


def init(root: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DEVENV_ROOT"}
    return subprocess.run([sys.executable, "-m", "devenv.cli", "init", "--from-compose", ".", "--dry-run"], cwd=root,
                          env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("kind", ["fifo", "directory", "device"])
@pytest.mark.parametrize("required", [True, False])
def test_an_env_file_that_is_not_a_regular_file_is_refused(tmp_path: Path, kind: str, required: bool) -> None:
    entry = "e.env" if required else "[{path: e.env, required: false}]"
    (tmp_path / "compose.yaml").write_text(COMPOSE.format(env_file=entry))
    special(tmp_path / "e.env", kind)
    done = init(tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "compose.yaml:4: services.cache.env_file" in done.stderr and "env_file 'e.env' cannot be read (e.env is" in done.stderr
    assert "make e.env a regular UTF-8 text file" in done.stderr


def test_a_missing_optional_env_file_is_still_only_a_note(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE.format(env_file="[{path: e.env, required: false}]"))
    done = init(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "optional env_file 'e.env' is missing; skipped" in done.stderr


@pytest.mark.parametrize("kind", ["fifo", "directory", "device"])
def test_a_dot_env_that_is_not_a_regular_file_is_noted_not_read(tmp_path: Path, kind: str) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  cache:\n    image: \"redis:${TAG:-7}\"\n")
    special(tmp_path / ".env", kind)
    done = init(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "devenv: init: .env: not read (.env is" in done.stderr
    assert "interpolation used the shell's variables only" in done.stderr and "ref: redis:7" in done.stdout


@pytest.mark.parametrize(("kind", "why"), [("fifo", "is a FIFO (named pipe), not a regular file"),
                                           ("directory", "is a directory, not a regular file"),
                                           ("missing", "is missing")])
def test_a_secret_file_that_cannot_hold_the_value_says_why(tmp_path: Path, kind: str, why: str) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  cache:\n    image: redis:7\n    secrets: [pw]\n"
                                           "secrets:\n  pw: {file: ./pw.txt}\n")
    if kind != "missing":
        special(tmp_path / "pw.txt", kind)
    done = init(tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"compose.yaml:6: secrets.pw: ./pw.txt {why}: devenv generates a local value" in done.stderr
