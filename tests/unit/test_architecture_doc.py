"""docs/architecture.md's layer table says what ``tests/unit/test_layers.py`` declares (the one
declaration of the layering): every level and every module of it, nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from tests.unit.test_layers import LEVELS, ROOT, VOCABULARY

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def documented() -> dict[str, float]:
    out: dict[str, float] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| ([\d.]+) \| (.+?) \|", line)
        if m:
            for name in re.findall(r"`([\w.]+)`", m.group(2)):
                out[name] = float(m.group(1))
    return out


def test_the_doc_table_matches_the_declared_levels() -> None:
    declared = {**{k: float(v) for k, v in LEVELS.items()},
                **{k.removeprefix("devenv."): float(v) for k, v in VOCABULARY.items()}}
    assert documented() == declared


def test_every_module_and_folder_of_the_core_has_a_level() -> None:
    names = {p.stem for p in ROOT.glob("*.py") if p.stem != "__init__"} | {
        p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert sorted(names - set(LEVELS)) == []
