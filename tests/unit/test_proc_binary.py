"""``Runner.run_binary``: bytes through a real subprocess, from a file and into one, undecoded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devenv.errors import DevenvError, ToolMissing
from devenv.proc import Runner

PAYLOAD = bytes(range(256)) * 4096 + b"\x00\xff\r\n"  # 1 MB that is not text (NULs, lone CRs)


def test_bytes_go_in_from_a_file_and_out_into_an_owner_only_file(tmp_path: Path) -> None:
    src, dest = tmp_path / "in.bin", tmp_path / "out.bin"
    src.write_bytes(PAYLOAD)
    res = Runner().run_binary(["cat"], stdin=src, stdout=dest)
    assert res.code == 0 and res.stdout == "" and dest.read_bytes() == PAYLOAD
    assert os.stat(dest).st_mode & 0o777 == 0o600


def test_a_failure_keeps_stderr_and_what_was_written(tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    argv = ["sh", "-c", "printf 'half'; echo 'tar: read error' >&2; exit 2"]
    res = Runner().run_binary(argv, stdout=dest, check=False)
    assert (res.code, res.stderr.strip(), dest.read_bytes()) == (2, "tar: read error", b"half")
    with pytest.raises(DevenvError, match="exit 2"):
        Runner().run_binary(argv, stdout=dest)


def test_without_files_stdout_is_text_and_a_missing_tool_is_named(tmp_path: Path) -> None:
    assert Runner().run_binary(["echo", "hi"]).stdout == "hi\n"
    with pytest.raises(ToolMissing, match="devenv-no-such-tool"):
        Runner().run_binary(["devenv-no-such-tool"])
    with pytest.raises(DevenvError, match="does not exist"):
        Runner().run_binary(["cat"], stdin=tmp_path / "absent")
