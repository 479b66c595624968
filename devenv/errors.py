"""One family of errors for everything devenv reports to a user.

Foreign errors (YAML, Docker SDK, subprocesses) are converted at the boundary into a
``DevenvError`` whose ``message`` says what went wrong and whose ``hint`` says how to fix it, so the
CLI and the TUI can show them without a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from pathlib import Path


class Problem(NamedTuple):
    """One validation finding, located as precisely as the input allows. A named tuple rather than a
    dataclass: every command imports this module, and ``dataclasses`` (with ``inspect``) costs an
    instant command such as ``status`` ~10 ms of its start."""

    file: str
    line: int | None
    key: str
    message: str
    hint: str = ""
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        key = f" {self.key}:" if self.key else ""
        hint = f" (fix: {self.hint})" if self.hint else ""
        label = "" if self.severity == "error" else f"{self.severity}: "
        return f"{where}:{key} {label}{self.message}{hint}"


class DevenvError(Exception):
    """An error a user can act on: a message and, where known, a hint that names the fix."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class ConfigError(DevenvError):
    """The configuration has one or more problems; all of them are listed."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        super().__init__(
            f"{len(errors)} problem(s) in the configuration:\n" + "\n".join(f"  {p}" for p in self.problems),
            "fix the lines above and run `devenv validate` again",
        )

    def __str__(self) -> str:
        return self.message


class BuildError(DevenvError):
    """A build failed; keeps the tail of its log so the UI can show it rather than "build failed"."""

    def __init__(
        self,
        image: str,
        message: str,
        log_tail: list[str] | None = None,
        dockerfile: Path | None = None,
        line: int | None = None,
    ) -> None:
        where = f" ({dockerfile}:{line})" if dockerfile and line else ""
        DevenvError.__init__(self, f"build of image '{image}' failed{where}: {message}",
                             "read the log tail above, fix the Dockerfile or the sources, and save again")
        self.image = image
        self.log_tail = list(log_tail or [])
        self.dockerfile = dockerfile
        self.line = line


class EngineError(DevenvError):
    """The Docker engine (or kube cluster) is missing, stopped or refused a call."""


class ToolMissing(DevenvError):
    """An external tool (kind, kubectl, docker compose) is not on PATH or too old."""
