"""Imports flow one way (DESIGN.md): errors <- model <- render <- {build, backends, watch} <- engine
<- commands/cli <- tui. Checked on the source with ``ast``, every import (lazy ones included).

The event vocabulary every layer reports with is ``devenv.events`` (level 1, below the model);
``build.dockerignore`` (the one ``.dockerignore`` matcher, so the watcher and the digest can never
disagree) sits below the layers that use it as shared vocabulary."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "devenv"
VOCABULARY = {"devenv.build.dockerignore": 2}
LEVELS = {
    "errors": 0, "fsutil": 0.5, "proc": 1, "netutil": 1, "dockerclient": 1, "schema": 1, "events": 1, "walk": 1, "containers": 1, "inputs": 1,
    "layout": 1, "lock": 3, "dockerhttp": 2, "model": 2, "secrets": 3, "render": 3, "importer": 3,
    "build": 4, "watch": 4, "backends": 4, "adopt": 4,
    "engine": 5, "data": 5, "commands": 6, "cli": 7,
}


def level(module: str) -> int:
    if module in VOCABULARY:
        return VOCABULARY[module]
    return LEVELS[module.split(".")[1]]


def imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m.startswith("devenv.")} | ({"tui"} if any(m == "tui" or m.startswith(("tui.", "textual"))
                                                                         for m in out) else set())


def test_every_import_points_down_or_sideways_within_its_own_package() -> None:
    wrong = []
    for path in sorted(ROOT.rglob("*.py")):
        me = ("devenv." + ".".join(path.relative_to(ROOT).with_suffix("").parts)).removesuffix(".__init__")
        mine = level(me) if me != "devenv" else 0
        for target in imports(path):
            if target == "tui":
                if me != "devenv.commands.up":  # the one place the CLI hands the engine to the TUI
                    wrong.append(f"{me} imports the TUI")
                continue
            same_package = target.split(".")[:2] == me.split(".")[:2]
            if target != "devenv" and not same_package and level(target) >= mine:
                wrong.append(f"{me} (level {mine}) imports {target} (level {level(target)})")
    assert wrong == []
