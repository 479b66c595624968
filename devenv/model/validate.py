"""Validation: every problem of every file at once, each with file, line, dotted key and a fix.

(Placeholder: structural and semantic checks are added by the validation work; until then the
loader trusts its input.)
"""

from __future__ import annotations

from devenv.errors import Problem
from devenv.model.yamlpos import Document


def validate_documents(
    app: Document | None,
    profiles: dict[str, Document],
    overlays: list[Document],
    strict: bool = False,
) -> list[Problem]:
    return []
