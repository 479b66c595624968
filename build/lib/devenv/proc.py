"""Subprocesses that stream their output as lines to a sink and never print.

Every external CLI devenv drives (``docker compose``, ``kind``, ``kubectl``) goes through here, so
the contract tests for the kind backend can stand a fake at exactly this boundary, and errors are
converted into ``DevenvError`` with the command's last lines.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

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
            raise DevenvError(f"`{' '.join(argv[:3])} ...` did not finish within {timeout:.0f} s",
                              "check that the engine or cluster is responsive") from exc
        if check and res.code != 0:
            tail = (res.stderr or res.stdout).strip().splitlines()[-12:]
            raise DevenvError(f"`{' '.join(argv[:4])}{' ...' if len(argv) > 4 else ''}` failed (exit {res.code}):\n    "
                              + "\n    ".join(tail), "")
        return res

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


default_runner = Runner()
