"""Coverage-guided test selection for bench/mutation.py.

mutmut runs, for each mutant, every test that calls the mutated *function*. In model/ that is ~500
tests for each function the loader goes through, so a surviving mutant there costs a run of all of
them. A test that never executes the mutated *statement* cannot tell the mutant from the original
(until the statement runs, the two programs are the same), so running it decides nothing. This
module narrows each mutant's run to the tests that do execute that statement, the way PIT selects
tests per mutant from line coverage:

* ``collect`` runs the group's tests once on the original code under coverage.py, one context per
  test (the test's setup included), and writes ``tests/_mutation_coverage.json`` in the scratch
  copy: per source file, each line's innermost statement and the tests that ran any line of it.
* ``select`` (a ``pytest_collection_modifyitems`` hook that bench/mutation.py appends to the scratch
  copy's ``tests/conftest.py``) reads the mutant's name from ``MUTANT_UNDER_TEST``, diffs the mutant
  against mutmut's copy of the original function, and deselects the tests that ran none of the
  changed statements. When it cannot tell (a changed signature or default argument, a line outside
  any statement, a test the map does not know) it keeps the test. A mutant no test reaches runs
  none and is counted as not killed.

The narrowing never turns a survivor into a kill: it only leaves out runs that cannot fail. It can
miss a kill where a test reaches the statement only through state another test built first (a
module-scoped fixture, a per-process cache): that mutant then counts as not killed.

``MUTATION_TEST_CAP=N`` (bench/mutation.py ``--cap N``) goes further, for the statements every
project load runs (hundreds of corpus cases each): a mutant then runs at most N of the tests that
execute it, the most targeted first (a test's breadth is how many statements of the group's code it
runs: a direct unit test before a whole-project corpus case). A capped run can only miss kills, never
invent one, so the kill rate it reports is a lower bound; the mutants it leaves alive are the ones to
re-run uncapped before calling them survivors.

This file is copied into the scratch copy as ``tests/_mutation_select.py``; stdlib only (coverage
is imported by ``collect`` alone).
"""

from __future__ import annotations

import ast
import difflib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

MAP_NAME = "_mutation_coverage.json"
OLD_TESTS = "_mutation_old_tests.json"  # the tests of the last run, for MUTATION_NEW_TESTS_ONLY
CONTEXT_PLUGIN = '''"""One coverage context per test (setup included), for bench/mutation_select.py."""
import coverage


def pytest_runtest_setup(item):
    cov = coverage.Coverage.current()
    if cov is not None:
        cov.switch_context(item.nodeid)
'''
HOOK = '''

def pytest_collection_modifyitems(config, items):  # added by bench/mutation.py (scratch copy only)
    from tests._mutation_select import select

    select(config, items)
'''


def collect(work: Path, sources: list[str], tests: list[str], pytest_args: list[str]) -> dict[str, Any]:
    """Run ``tests`` under coverage in ``work`` (the original code) and write the selection map."""
    (work / "tests" / "_mutation_ctx.py").write_text(CONTEXT_PLUGIN, encoding="utf-8")
    data_file = work / ".mutation-coverage"
    cmd = [sys.executable, "-m", "coverage", "run", f"--data-file={data_file}",
           f"--source={','.join(sources)}", "-m", "pytest", "-p", "tests._mutation_ctx", *tests, *pytest_args]
    env = {k: v for k, v in os.environ.items() if k != "MUTANT_UNDER_TEST"}
    subprocess.run(["nice", "-n", "19", *cmd], cwd=work, env=env, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    built = build_map(work, data_file)
    (work / "tests" / MAP_NAME).write_text(json.dumps(built), encoding="utf-8")
    return built


def build_map(work: Path, data_file: Path) -> dict[str, Any]:
    import coverage

    data = coverage.CoverageData(basename=str(data_file))
    data.read()
    names: dict[str, int] = {}
    files: dict[str, Any] = {}
    for measured in data.measured_files():
        rel = os.path.relpath(measured, work)
        by_line = data.contexts_by_lineno(measured)
        files[rel] = file_map(Path(measured).read_text(encoding="utf-8"), by_line, names)
    breadth = [0] * len(names)
    for fmap in files.values():
        for tests in fmap["stmt_tests"]:
            for i in tests:
                breadth[i] += 1
    return {"tests": sorted(names, key=names.__getitem__), "breadth": breadth, "files": files}


def file_map(text: str, by_line: dict[int, list[str]], names: dict[str, int]) -> dict[str, Any]:
    """Each line's innermost statement, the tests of each statement, and each function's def line
    and first body line (keyed by mutmut's mangled name: ``x_f``, ``xǁClassǁmethod``)."""
    stmts = statements(ast.parse(text))
    stmt_of_line: dict[int, int] = {}
    for sid, (start, end) in enumerate(stmts):  # outer statements first: inner ones overwrite
        for line in range(start, end + 1):
            stmt_of_line[line] = sid
    tests: list[set[int]] = [set() for _ in stmts]
    for line, contexts in by_line.items():
        for sid in {stmt_of_line[x] for x in [line] if x in stmt_of_line}:
            tests[sid].update(names.setdefault(c, len(names)) for c in contexts if c)
    spread = [set[int]() for _ in stmts]
    for sid, (start, end) in enumerate(stmts):  # a statement counts as run when any line in it ran
        for line in range(start, end + 1):
            spread[sid] |= tests[stmt_of_line[line]]
    return {"stmt_of_line": stmt_of_line, "stmt_tests": [sorted(s) for s in spread], "funcs": functions(text)}


def statements(tree: ast.AST) -> list[tuple[int, int]]:
    """(first line, last line) of every statement, outer before inner."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt):
            out.append((node.lineno, node.end_lineno or node.lineno))
    return sorted(out, key=lambda span: (span[0], -span[1]))


def functions(text: str) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            out[f"x_{node.name}"] = (node.lineno, node.body[0].lineno)
        elif isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef):
                    out[f"xǁ{node.name}ǁ{sub.name}"] = (sub.lineno, sub.body[0].lineno)
    return out


# --- in the mutant's test run ------------------------------------------------------------------

def select(config: Any, items: list[Any]) -> None:
    name = os.environ.get("MUTANT_UNDER_TEST", "")
    if "__mutmut_" not in name:
        return
    keep = wanted(name, Path(__file__).resolve().parents[1])
    if keep is None:
        return
    cap = int(os.environ.get("MUTATION_TEST_CAP", "0") or 0)
    chosen = [item for item in items if item.nodeid not in keep.known or item.nodeid in keep.tests]
    if os.environ.get("MUTATION_NEW_TESTS_ONLY") and chosen:
        chosen = new_tests_only(chosen)
    if cap and len(chosen) > cap:
        targeted = set(sorted((keep.breadth.get(i.nodeid, 0), n) for n, i in enumerate(chosen))[:cap])
        chosen = [item for n, item in enumerate(chosen) if (keep.breadth.get(item.nodeid, 0), n) in targeted]
    dropped = [item for item in items if item not in chosen]
    # the most targeted first: with ``-x`` a kill ends the run at its first failing test (mutmut
    # passes the tests in set order, so the run's order was arbitrary already)
    items[:] = sorted(chosen, key=lambda item: keep.breadth.get(item.nodeid, 0))
    if dropped:
        config.hook.pytest_deselected(items=dropped)


def new_tests_only(chosen: list[Any]) -> list[Any]:
    """Re-running a survivor after tests were added: the tests it already passed pass again, so only
    the new ones (absent from the last run's list) can decide anything. With none, one old test runs,
    so that the mutant is recorded as surviving again rather than as reached by no test."""
    old = set(json.loads((Path(__file__).with_name(OLD_TESTS)).read_text(encoding="utf-8")))
    new = [item for item in chosen if item.nodeid not in old]
    return new or chosen[:1]


class Wanted:
    def __init__(self, known: set[str], tests: set[str], breadth: dict[str, int]) -> None:
        self.known, self.tests, self.breadth = known, tests, breadth


def wanted(name: str, root: Path) -> Wanted | None:
    """The tests that run a statement ``name`` changes; None to run them all."""
    try:
        built = json.loads((root / "tests" / MAP_NAME).read_text(encoding="utf-8"))
        module, _, mangled = name.rpartition(".")
        rel = module.replace(".", "/") + ".py"
        base, _, _num = mangled.rpartition("__mutmut_")
        fmap = built["files"][rel]
        def_line, body_line = fmap["funcs"][base]
        offsets = changed_offsets((root / rel).read_text(encoding="utf-8"), base, mangled)
    except (OSError, KeyError, ValueError):
        return None
    sids = set()
    for off in offsets:
        line = def_line + off
        if line < body_line or str(line) not in fmap["stmt_of_line"]:
            return None
        sids.add(fmap["stmt_of_line"][str(line)])
    names = built["tests"]
    breadth = dict(zip(names, built["breadth"], strict=True))
    return Wanted(set(names), {names[i] for sid in sids for i in fmap["stmt_tests"][sid]}, breadth)


def changed_offsets(mutants_text: str, base: str, mangled: str) -> list[int]:
    """Line offsets (from the ``def`` line) of the original function that the mutant changes."""
    lines = mutants_text.splitlines()
    orig = function_lines(lines, f"{base}__mutmut_orig")
    mutant = [x.replace(mangled, f"{base}__mutmut_orig", 1) for x in function_lines(lines, mangled)]
    offsets: list[int] = []
    for tag, i1, i2, _j1, _j2 in difflib.SequenceMatcher(None, orig, mutant, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            offsets.extend(range(i1, i2))
        elif tag == "insert":
            offsets.extend(x for x in (i1 - 1, i1) if 0 <= x < len(orig))
    if not offsets:
        raise ValueError(f"{mangled}: no changed line")
    return offsets


_DEF = re.compile(r"^(\s*)(?:async\s+)?def\s+(\S+?)\(")


def function_lines(lines: list[str], fname: str) -> list[str]:
    """The lines of ``def fname`` in mutmut's file: up to the next line indented no deeper than the
    ``def`` (closing brackets of a wrapped signature and comments excepted)."""
    for i, line in enumerate(lines):
        m = _DEF.match(line)
        if m and m.group(2) == fname:
            indent = len(m.group(1))
            end = i + 1
            while end < len(lines) and not ends_function(lines[end], indent):
                end += 1
            return lines[i:end]
    raise ValueError(f"no function {fname}")


def ends_function(line: str, indent: int) -> bool:
    stripped = line.lstrip()
    if not stripped or stripped[0] in ")]}#":
        return False
    return len(line) - len(stripped) <= indent
