"""Mutation testing of devenv's pure core with mutmut (PyPI; mutmut 3 on Python 3.11).

    .venv/bin/pip install mutmut            # not a test dependency: only this script needs it
    .venv/bin/python bench/mutation.py      # every group, niced; prints the kill rate per group
    .venv/bin/python bench/mutation.py watch secrets   # some groups only

Each group mutates its own modules and runs only its own unit tests against each mutant, in a
scratch copy of the project (mutmut writes ``mutants/`` next to the code it mutates; the checkout
stays clean), with ``nice -n 19`` and two workers: the machine is shared. A mutant counts as killed
when a test fails on it or when strict mypy rejects it (mutmut's type-check filter; the suite's
``test_mypy_finds_nothing_in_the_core_and_the_tui`` fails on such a mutant); the two are reported
apart. Mutants that no test reaches count as survivors, not as killed. The target is 85 % killed
overall; every mutant not killed is printed under its group (``mutmut show <name>`` in the scratch
copy shows its diff), for a review that either adds the test that kills it or says why it is
harmless.

Which tests run a mutant: mutmut picks the tests that call the mutated function; this script
narrows that to the tests that execute the mutated statement (bench/mutation_select.py: a coverage
map of the group's tests, built once per source state), which decides exactly the same. In model/
every project load runs the same loader statements, so a survivor there still costs hundreds of
corpus cases; ``--cap N`` runs at most N of them (the most targeted first) and makes the reported
rate a lower bound.

Cost on the shared 2-core machine (2026-12-02, niced, two workers, load average 4 to 9 from
others): build 406 mutants in 7.5 min, secrets 251 in 4 min, watch 25 to 75 mutants/min (1,364
mutants, run in several sittings), render 1,481 in about 40 min over two sittings. model has
7,400 mutants; strict mypy rejects 3,400 of them in one 30-second pass; of the rest, the cheap
ones run at about 100 a minute, the ones in the loader's hot statements at 10 to 20 a minute even
capped, and a mutant that makes the loader loop is stopped sooner with ``--cpu-limit 45``. Give it
``--budget`` and ``--keep`` and resume it in later sittings. ``--survivors`` makes
the review loop cheap: add tests, re-run what survived against the new tests only.
Results: bench/mutation-results.md.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mutation_select  # noqa: E402  (bench/ is not a package)

ROOT = Path(__file__).resolve().parents[1]
PROJECT_FILES = ("devenv", "tests", "examples", "profiles", "compose", "devenv.yaml", "devenv.local.yaml",
                 "pyproject.toml")
TARGET = 0.85
TYPED = "caught by type check"  # mutmut's word for a mutant strict mypy rejects: the suite's mypy test fails on it


@dataclass(frozen=True)
class Group:
    name: str
    mutate: tuple[str, ...]  # mutmut ``only_mutate`` globs
    tests: tuple[str, ...]  # the group's own unit tests
    # ``-k`` expression of tests left out: they run the CLI in a subprocess (which imports the
    # installed, unmutated devenv, so they cannot kill a mutant and only cost time) or time
    # themselves (a timing test under mutation measures the machine, not the code)
    skip: str = ""


GROUPS = (
    Group("model", ("devenv/model/*",),
          ("tests/unit/test_validation.py", "tests/unit/test_validation_corpus.py", "tests/unit/test_bad_input_more.py",
           "tests/unit/test_bad_input_hostile.py", "tests/unit/test_default_tenants.py", "tests/unit/test_config_cache.py",
           "tests/unit/test_diff_asprod.py", "tests/unit/test_mutation_survivors.py",
           # the dump reader (dumpyaml) and the manifest shape checks (k8sshape) are reached only
           # through ``devenv import``; the Dockerfile syntax checks also through ``devenv lint``
           "tests/unit/test_dump_limits.py", "tests/unit/test_import_core.py", "tests/unit/test_import_hardening.py",
           "tests/unit/test_lint.py"),
          "test_cli_ or test_import_writes_a_default_tenants_missing_profile or test_hostile_dump_is_answered_quickly"
          " or test_a_json_dump_reads_fast or test_dev_zero_is_refused_at_once or test_fifo_is_refused_without_blocking"
          " or test_directory_is_refused or test_a_type_error_through_the_cli_is_no_traceback"
          " or test_env_from_secret_with_dotted_keys_imports_and_validates"),
    Group("render", ("devenv/render/*",),
          ("tests/unit/test_render_compose.py", "tests/unit/test_render_kube.py", "tests/unit/test_render_golden.py",
           "tests/unit/test_render_kind_cluster.py", "tests/unit/test_render_yamldump.py")),
    Group("watch", ("devenv/watch/*",),
          ("tests/unit/test_watch_mapping.py", "tests/unit/test_watch_initial.py", "tests/unit/test_watch_observer.py",
           "tests/unit/test_coalesce.py", "tests/unit/test_live_update.py", "tests/unit/test_mutation_survivors.py",
           "tests/unit/test_watch_more.py", "tests/unit/test_watch_gaps.py"),
          "test_ten_thousand_files_are_fast"),
    Group("build", ("devenv/build/digest.py", "devenv/build/graph.py"),
          ("tests/unit/test_digest.py", "tests/unit/test_graph.py", "tests/unit/test_build_tags.py")),
    Group("secrets", ("devenv/secrets.py",),
          ("tests/unit/test_secrets.py", "tests/unit/test_secrets_files.py", "tests/unit/test_mutation_survivors.py")),
)

_RESULT = re.compile(r"^\s*(\S+): (\w[\w ]*)$")


def scratch_copy(dest: Path) -> None:
    """The project as the tests need it, without caches or ``.devenv/``. The source is synced, not
    copied: mutmut regenerates a file's mutants only when the source is newer than its mutants, so a
    changed file must get a new mtime and an unchanged one must keep its old one (a copy with the
    checkout's mtimes left stale mutants of a file edited before the last generation)."""
    for name in PROJECT_FILES:
        src = ROOT / name
        if name == "devenv":
            sync_tree(src, dest / name)
        elif src.is_dir():
            if (dest / name).is_dir():
                shutil.rmtree(dest / name)
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", ".devenv", "mutants"))
        elif src.is_file():
            shutil.copy2(src, dest / name)


def sync_tree(src: Path, dest: Path) -> None:
    """Make ``dest`` hold ``src``'s files (no caches), rewriting only the ones whose bytes differ."""
    wanted = {p.relative_to(src) for p in src.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    if dest.is_dir():
        for old in [p for p in dest.rglob("*") if p.is_file() and p.relative_to(dest) not in wanted]:
            old.unlink()
    for rel in sorted(wanted):
        data = (src / rel).read_bytes()
        target = dest / rel
        if not target.is_file() or target.read_bytes() != data:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def configure(dest: Path, group: Group) -> None:
    """Append mutmut's section to the scratch copy's pyproject.toml."""
    tests = [t for t in group.tests if (dest / t).is_file()]
    lines = ["", "[tool.mutmut]", 'source_paths = ["devenv"]', f"only_mutate = {list(group.mutate)!r}",
             f"pytest_add_cli_args_test_selection = {tests!r}",
             f"pytest_add_cli_args = {pytest_args(group)!r}",
             # mutmut's wall-clock limit is (expected test time + 1 s) x this; at its default (15) a
             # niced run on a loaded 2-core machine timed out 19 of 251 healthy secrets mutants
             "timeout_multiplier = 60.0",
             # every mutant run forks from a clean server process: forked straight from mutmut's own
             # process (which ran the tests once, watchdog and coalescer threads included), runs
             # that take a lock held by a thread at fork time hang; 19 healthy secrets mutants
             # were reported as timeouts that way
             'process_isolation = "forkserver"',
             # a mutant strict mypy rejects is one the suite rejects (tests/unit/test_code_quality.py
             # runs mypy --strict on devenv/): mutmut checks all of them in one mypy pass (~30 s for
             # model's 7,394) and marks them "caught by type check" without running a test.
             # ``--no-warn-unused-ignores``: mutmut's generated trampolines carry ``type: ignore``s
             f"type_check_command = {type_check_command(group)!r}",
             'also_copy = ["examples", "profiles", "compose", "devenv.yaml", "devenv.local.yaml"]']
    with (dest / "pyproject.toml").open("a", encoding="utf-8") as f:
        f.write("\n".join(lines).replace("'", '"') + "\n")


def type_check_command(group: Group) -> list[str]:
    """``python -m mypy`` over the group's mutated files (mutmut reads mypy's JSON lines)."""
    paths = [m.removesuffix("/*") for m in group.mutate]
    return [sys.executable, "-m", "mypy", *paths, "--output", "json", "--no-warn-unused-ignores"]


def pytest_args(group: Group) -> list[str]:
    """Docker-backed tests never run. ``unraisableexception`` is off: at the end of every session
    it runs ``gc.collect()`` five times over the whole inherited heap, three quarters of the cost
    of a one-test mutant run here (profiled: 0.58 of 0.94 s)."""
    args = ["-p", "no:cacheprovider", "-p", "no:unraisableexception", "-q", "-m", "not docker"]
    return args + (["-k", f"not ({group.skip})"] if group.skip else [])


@dataclass(frozen=True)
class Options:
    """How a group's mutmut runs (the command line's knobs)."""
    children: int = 2  # parallel mutant runs
    budget: float | None = None  # seconds before mutmut is stopped
    cap: int = 0  # at most this many tests per mutant (0: all that execute it)
    cpu_limit: float = 0  # CPU seconds before a mutant run is stopped as a timeout (0: mutmut's own limit)


def run_group(group: Group, opts: Options, keep: Path | None, survivors: bool = False) -> dict[str, str]:
    """mutant name -> status (killed, survived, no tests, timeout, suspicious, ...)."""
    if keep is None:
        with tempfile.TemporaryDirectory(prefix=f"devenv-mutation-{group.name}-") as tmp:
            return run_in(Path(tmp), group, opts)
    work = keep / group.name
    # "not checked" ones are not named: the plain run that follows picks up every mutant not run yet
    again = sorted(n for n, s in results_in(work).items() if s not in ("killed", TYPED, "not checked")) if survivors else []
    return run_in(work, group, opts, again)


def results_in(work: Path) -> dict[str, str]:
    if not (work / "mutants").is_dir():
        return {}
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    out = subprocess.run([mutmut, "results", "--all", "true"], cwd=work, capture_output=True, text=True,
                         check=False).stdout
    return {m.group(1): m.group(2) for line in out.splitlines() if (m := _RESULT.match(line))}


def run_in(work: Path, group: Group, opts: Options, again: list[str] | None = None) -> dict[str, str]:
    """Refresh the scratch copy in ``work`` (mutmut's ``mutants/`` kept: it re-runs mutants of changed
    functions, and ``again`` by name: the survivors of the last run, once tests were added). With a
    budget (seconds) mutmut is stopped when it runs out; mutants not run yet stay "not checked"
    (reported, not counted) and a later run with ``--keep`` resumes them."""
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    work.mkdir(parents=True, exist_ok=True)
    old_tests = last_tests(work)
    scratch_copy(work)
    (work / "tests" / mutation_select.OLD_TESTS).write_text(json.dumps(old_tests), encoding="utf-8")
    configure(work, group)
    select_tests(work, group)
    deadline = time.monotonic() + opts.budget if opts.budget else None
    with (work / "mutmut-run.log").open("w", encoding="utf-8") as log:
        # first the mutants not run yet, those of changed code included (mutmut regenerates them and
        # they run against every test), then the named survivors still alive against the new tests
        if mutmut_run(mutmut, work, log, deadline, opts, []) and again:
            now = results_in(work)
            if alive := [n for n in again if now.get(n) not in ("killed", TYPED)]:
                mutmut_run(mutmut, work, log, deadline, opts, alive)
    return results_in(work)


def mutmut_run(mutmut: str, work: Path, log: TextIO, deadline: float | None, opts: Options,
               names: list[str]) -> bool:
    """One ``mutmut run`` (of ``names`` against the new tests only, or of every mutant not run yet)."""
    cmd = ["nice", "-n", "19", mutmut, "run", "--max-children", str(opts.children), *names]
    env = {"MUTATION_TEST_CAP": str(opts.cap), "MUTATION_NEW_TESTS_ONLY": "1" if names else ""}
    return run_until(cmd, work, log, deadline, env, opts.cpu_limit)


def last_tests(work: Path) -> list[str]:
    """The tests mutmut knew in the last run of this scratch copy (its stats)."""
    stats = work / "mutants" / "mutmut-stats.json"
    if not stats.is_file():
        return []
    return sorted(json.loads(stats.read_text(encoding="utf-8")).get("duration_by_test", {}))


def select_tests(work: Path, group: Group) -> None:
    """Coverage-guided test selection (bench/mutation_select.py): the map is built on the original
    code before mutmut starts (a few minutes: the group's tests once under coverage), and a hook in
    the scratch copy's conftest narrows each mutant's run to the tests that execute what it changes."""
    shutil.copy2(Path(__file__).with_name("mutation_select.py"), work / "tests" / "_mutation_select.py")
    with (work / "tests" / "conftest.py").open("a", encoding="utf-8") as f:
        f.write(mutation_select.HOOK)
    tests = [t for t in group.tests if (work / t).is_file()]
    sources = [m.removesuffix("/*").removesuffix("*") for m in group.mutate]
    kept, key = work / "mutation-coverage.json", source_key(work)
    if kept.is_file() and json.loads(kept.read_text(encoding="utf-8")).get("key") == key:
        # the source is unchanged: the map holds (a test added since is unknown to it, so it always runs)
        shutil.copy2(kept, work / "tests" / mutation_select.MAP_NAME)
        return
    started = time.monotonic()
    built = mutation_select.collect(work, sources, tests, pytest_args(group))
    kept.write_text(json.dumps({**built, "key": key}), encoding="utf-8")
    print(f"{group.name:8} coverage map: {len(built['tests'])} tests over {len(built['files'])} files"
          f" ({time.monotonic() - started:,.0f} s)", flush=True)


def source_key(work: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted((work / "devenv").rglob("*.py")):
        digest.update(str(path.relative_to(work)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def run_until(cmd: list[str], cwd: Path, log: TextIO, deadline: float | None, env: dict[str, str],
              cpu_limit: float = 0) -> bool:
    """Run ``cmd`` (in its own process group) until it ends or ``deadline`` passes; False when stopped.
    mutmut records each mutant's result as it comes, so a stopped run loses only the ones in flight."""
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, **env})
    done = threading.Event()
    if cpu_limit:
        threading.Thread(target=watch_cpu, args=(proc.pid, cpu_limit, done, log), daemon=True).start()
    try:
        return wait_or_stop(proc, deadline)
    finally:
        done.set()


def wait_or_stop(proc: subprocess.Popen[bytes], deadline: float | None) -> bool:
    try:
        proc.wait(timeout=None if deadline is None else max(1.0, deadline - time.monotonic()))
        return True
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        return False


def watch_cpu(leader: int, limit: float, done: threading.Event, log: TextIO, every: float = 5.0) -> None:
    """Stop a mutant run that has burnt more than ``limit`` CPU seconds with SIGXCPU: mutmut records
    it as a timeout, the verdict its own CPU limit gives, only sooner. mutmut's limit scales with the
    tests' expected time (``timeout_multiplier``), so a looping mutant of a function with a long test
    list could burn tens of minutes of a 2-core machine."""
    seen: dict[int, float] = {}
    while not done.wait(every):
        procs = dict(filter(None, map(proc_stat, Path("/proc").glob("[0-9]*"))))
        for pid, cpu in runaway(leader, limit, procs, seen, every):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGXCPU)
                log.write(f"[mutation.py] SIGXCPU to mutant run {pid} after {cpu:.0f} CPU s\n")
                log.flush()
        seen = {pid: cpu for pid, (_parent, cpu) in procs.items()}


def runaway(leader: int, limit: float, procs: dict[int, tuple[int, float]], seen: dict[int, float],
            every: float) -> list[tuple[int, float]]:
    """(pid, CPU seconds) of the mutant runs to stop: processes below ``leader`` at depth 2 or more
    (mypy, a direct child, is left alone) past ``limit`` CPU seconds and burning at least 40 % of a
    core since the last look. The forkserver that forks every mutant run also gathers CPU seconds
    (each fork of a large process costs its parent), but slowly: stopping it orphans the runs in
    flight, which then loop on unwatched (seen once)."""
    return [(pid, cpu) for pid, (_parent, cpu) in procs.items()
            if cpu > limit and cpu - seen.get(pid, cpu) > 0.4 * every and _depth(pid, leader, procs) >= 2]


def _depth(pid: int, leader: int, procs: dict[int, tuple[int, float]]) -> int:
    """How many generations ``pid`` lies below ``leader`` (0: not below it)."""
    depth = 0
    while pid in procs and pid != leader:
        pid, depth = procs[pid][0], depth + 1
    return depth if pid == leader else 0


def proc_stat(path: Path) -> tuple[int, tuple[int, float]] | None:
    """pid -> (parent pid, user + system CPU seconds), or None for a process gone meanwhile."""
    try:
        fields = path.joinpath("stat").read_text(encoding="utf-8").rpartition(")")[2].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return int(path.name), (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)


def report(name: str, results: dict[str, str], seconds: float) -> tuple[int, int]:
    typed = sum(1 for s in results.values() if s == TYPED)
    killed = typed + sum(1 for s in results.values() if s == "killed")
    unchecked = sum(1 for s in results.values() if s == "not checked")
    total = sum(1 for s in results.values() if s not in ("skipped", "not checked"))
    rate = killed / total if total else 0.0
    note = f", {unchecked} NOT RUN (not counted)" if unchecked else ""
    print(f"{name:8} {killed:5}/{total:<5} killed  {rate:6.1%}  ({killed - typed:,} by a test, {typed:,} by strict mypy;"
          f" {seconds:,.0f} s{note})", flush=True)
    for mutant, status in sorted(results.items()):
        if status not in ("killed", TYPED, "not checked"):  # the ones not run are counted above, not listed
            print(f"    {status:10} {mutant}")
    return killed, total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("groups", nargs="*", help=f"some of: {', '.join(g.name for g in GROUPS)} (default: all)")
    ap.add_argument("--children", type=int, default=2, help="parallel mutant runs (default 2: a shared machine)")
    ap.add_argument("--keep", type=Path, help="keep each group's scratch copy in KEEP/<group> (re-runs reuse "
                    "mutmut's results for unchanged code; `mutmut show NAME` there shows a mutant)")
    ap.add_argument("--survivors", action="store_true", help="with --keep: re-run only the mutants the last run "
                    "did not kill (after adding tests; the configuration must be unchanged)")
    ap.add_argument("--budget", type=float, metavar="MINUTES", help="stop each group's mutmut after this long "
                    "(a partial result: mutants not run are listed as NOT RUN; --keep resumes them later)")
    ap.add_argument("--cap", type=int, default=0, metavar="N", help="run each mutant against at most N of the "
                    "tests that execute it, the most targeted first (bench/mutation_select.py): a lower bound on "
                    "the kill rate, for groups whose every test runs the same loader; 0 (default): all of them")
    ap.add_argument("--cpu-limit", type=float, default=0, metavar="SECONDS", help="stop a mutant run after "
                    "this many CPU seconds, recorded as a timeout (model's sittings used 45; 0 (default): only "
                    "mutmut's own limit, which scales with the tests' time and can let a looping mutant run long)")
    args = ap.parse_args(argv)
    opts = Options(args.children, args.budget * 60 if args.budget else None, args.cap, args.cpu_limit)
    if shutil.which("mutmut", path=str(Path(sys.executable).parent)) is None:
        print("mutmut is not installed: .venv/bin/pip install mutmut", file=sys.stderr)
        return 2
    chosen = [g for g in GROUPS if not args.groups or g.name in args.groups]
    killed = total = 0
    for group in chosen:
        t0 = time.monotonic()
        k, n = report(group.name, run_group(group, opts, args.keep, args.survivors), time.monotonic() - t0)
        killed, total = killed + k, total + n
    rate = killed / total if total else 0.0
    print(f"{'overall':8} {killed:5}/{total:<5} killed  {rate:6.1%}  (target {TARGET:.0%})")
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
