"""What a reader of a foreign format hands to the writer: three documents and the notes.

Shared by every adoption reader (compose, Kubernetes), so ``devenv init`` prints and writes the same
way whatever it read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from devenv.errors import ConfigError, Problem

DNS_MAX = 63


@dataclass(frozen=True)
class Note:
    """One decision taken on the user's behalf: ``file:line: key: what and why``."""

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


@dataclass
class Adopted:
    """The project a reader made. ``app`` is ``devenv.yaml``, ``profile`` the first tenant's
    ``profiles/<tenant>.yaml``, ``overlay`` ``devenv.local.yaml`` (all plain data, in the order they
    are written; all three are committed, so they never hold a secret value). ``personal`` is the
    git-ignored ``devenv.personal.yaml``: the dev values of credential-looking env vars, written
    only when there are some. ``errors`` are what the reader refused (init writes nothing when
    there are any)."""

    tenant: str
    source: str  # what was read, for the files' header comment
    app: dict[str, Any] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)
    overlay: dict[str, Any] = field(default_factory=dict)
    personal: dict[str, Any] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)

    def note(self, file: str, line: int | None, key: str, message: str) -> None:
        self.notes.append(Note(file, line, key, message))

    def refuse(self, file: str, line: int | None, key: str, message: str, hint: str) -> None:
        self.errors.append(Problem(file, line, key, message, hint))

    def check(self) -> None:
        """Raise one error naming every refused input, each with its file, line, key and fix."""
        if self.errors:
            raise AdoptError(self.errors)


class AdoptError(ConfigError):
    """The foreign input has problems init cannot decide for the user; all of them are listed."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        self.message = (f"{len(problems)} problem(s) in the input; nothing was written:\n"
                        + "\n".join(f"  {p}" for p in problems))
        self.hint = "fix those lines and run devenv init again"


def dns_name(text: str) -> str:
    """A DNS-1123 label close to ``text``: compose allows ``my_db`` or ``App.Web``; devenv names
    become compose services and Kubernetes objects alike."""
    label = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")[:DNS_MAX].strip("-")
    return label or "app"
