"""Subprocesses that stream their output as lines to a sink and never print.

Every external CLI devenv drives (``docker compose``, ``kind``, ``kubectl``) goes through here, so
the contract tests for the kind backend can stand a fake at exactly this boundary, and errors are
converted into ``DevenvError`` with the command's last lines.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devenv.errors import DevenvError, ToolMissing

Sink = Callable[[str], None]


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    code: int
    stdout: str
    stderr: str


class Runner:
    """Runs commands. Tests substitute a recording runner; nothing else shells out directly."""

    def which(self, tool: str) -> str | None:
        return shutil.which(tool)

    def run(
        self,
        argv: Sequence[str],
        *,
        input: str | None = None,
        check: bool = True,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
        sink: Sink | None = None,
    ) -> Result:
        """Run ``argv``; with ``sink``, stream combined output line by line while it runs."""
        argv = tuple(str(a) for a in argv)
        try:
            if sink is None:
                cp = subprocess.run(argv, input=input, capture_output=True, text=True, cwd=cwd, env=env,
                                    timeout=timeout, errors="replace")
                res = Result(argv, cp.returncode, cp.stdout, cp.stderr)
            else:
                res = self._stream(argv, input, cwd, env, timeout, sink)
        except FileNotFoundError as exc:
            raise ToolMissing(f"'{argv[0]}' is not installed or not on PATH", "run `devenv doctor` to see how to install it") from exc
        except subprocess.TimeoutExpired as exc:
            raise _timed_out(argv, timeout) from exc
        return _checked(res, check)

    def run_binary(
        self,
        argv: Sequence[str],
        *,
        stdin: Path | None = None,
        stdout: Path | None = None,
        check: bool = True,
        timeout: float | None = None,
    ) -> Result:
        """Run ``argv`` with bytes that are not text: ``stdin`` streamed from a file, and stdout
        streamed into a file (created owner-only, truncated). Nothing is held in memory or decoded,
        so a 100 MB tar costs what ``cat`` would. ``Result.stdout`` is "" when it went to a file;
        stderr is text. The one binary-safe call of the contract (a tar of a volume out of, or into,
        a pod); everything else goes through ``run``."""
        argv = tuple(str(a) for a in argv)
        try:
            with _opened(stdin, "rb") as fin, _opened(stdout, "wb") as fout:
                cp = subprocess.run(argv, stdin=fin if fin is not None else subprocess.DEVNULL,
                                    stdout=fout if fout is not None else subprocess.PIPE, stderr=subprocess.PIPE,
                                    timeout=timeout)
        except FileNotFoundError as exc:
            if stdin is not None and not stdin.exists():
                raise DevenvError(f"cannot read {stdin}: it does not exist", "") from exc
            raise ToolMissing(f"'{argv[0]}' is not installed or not on PATH", "run `devenv doctor` to see how to install it") from exc
        except subprocess.TimeoutExpired as exc:
            raise _timed_out(argv, timeout) from exc
        out = cp.stdout.decode("utf-8", "replace") if cp.stdout else ""
        return _checked(Result(argv, cp.returncode, out, cp.stderr.decode("utf-8", "replace")), check)

    def _stream(self, argv: tuple[str, ...], input: str | None, cwd: str | None, env: dict[str, str] | None,
                timeout: float | None, sink: Sink) -> Result:
        tail: deque[str] = deque(maxlen=200)
        with subprocess.Popen(argv, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd, env=env,
                              errors="replace") as p:
            if input is not None and p.stdin:
                p.stdin.write(input)
                p.stdin.close()
            assert p.stdout is not None
            for line in p.stdout:
                line = line.rstrip("\n")
                tail.append(line)
                sink(line)
            code = p.wait(timeout=timeout)
        out = "\n".join(tail)
        return Result(argv, code, out, out)


def _opened(path: Path | None, mode: str) -> Any:
    """An open file for ``path`` (a new output file is owner-only), or a null context for None."""
    if path is None:
        return contextlib.nullcontext(None)
    if "w" in mode:
        return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), mode)
    return path.open(mode)


def _timed_out(argv: tuple[str, ...], timeout: float | None) -> DevenvError:
    return DevenvError(f"`{' '.join(argv[:3])} ...` did not finish within {timeout or 0:.0f} s",
                       "check that the engine or cluster is responsive")


def _checked(res: Result, check: bool) -> Result:
    """``res``, or (with ``check``) a ``DevenvError`` carrying the command's last lines."""
    if check and res.code != 0:
        argv = res.argv
        tail = (res.stderr or res.stdout).strip().splitlines()[-12:]
        raise DevenvError(f"`{' '.join(argv[:4])}{' ...' if len(argv) > 4 else ''}` failed (exit {res.code}):\n    "
                          + "\n    ".join(tail), "")
    return res


default_runner = Runner()
