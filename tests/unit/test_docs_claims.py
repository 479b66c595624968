"""The docs' concrete claims, checked against what the code does, so they cannot drift again.

* every ``devenv <command> --flag`` written in the README or docs/ names a command that exists and
  flags its ``--help`` lists;
* every key in docs/config.md's tables is a property of the JSON Schemas (which the validator
  enforces), and every top-level schema property is documented there;
* the documented health-check defaults equal the schema's "(default N)", the parser's and what the
  compose and Kubernetes renderers write;
* ``replicas: 0`` stops a component on compose (as the profile docs promise, like Kubernetes);
* ``devenv exec`` exists, as docs/kind.md implies.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from devenv import cli
from tests.conftest import REPO
from tests.unit.test_render_support import fixed_images

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SCHEMAS = sorted((REPO / "devenv" / "schema").glob("*.schema.json"))
FENCE = re.compile(r"```[a-z]*\n(.*?)```", re.S)


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def documented_command_lines() -> list[tuple[str, str]]:
    """``(doc name, line)`` for every line of a fenced block (or inline code) that runs devenv."""
    out = []
    for doc in DOCS:
        text = doc.read_text()
        fenced = [] if doc.name == "benchmarks.md" else FENCE.findall(text)  # its blocks are program output
        blocks = fenced + re.findall(r"`(devenv [^`]+)`", text)
        for block in blocks:
            for line in block.splitlines():
                line = line.split("#")[0].strip()
                if line.startswith("devenv "):
                    out.append((doc.name, line))
    return out


def flags_of(parser: argparse.ArgumentParser) -> set[str]:
    return {opt for a in parser._actions for opt in a.option_strings}


LINES = documented_command_lines()


def test_the_docs_show_commands() -> None:
    assert len(LINES) > 20


@pytest.mark.parametrize(("doc", "line"), LINES, ids=[f"{d}:{i}" for i, (d, _) in enumerate(LINES)])
def test_documented_flags_exist(doc: str, line: str) -> None:
    commands = subcommands()
    words = line.split()
    command = words[1]
    if command.startswith("-") or command in ("...", "COMMAND"):
        return
    assert command in commands, f"{doc}: `{line}` names no command {command!r}"
    parser = commands[command]
    nested = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    if nested is not None and len(words) > 2:  # `devenv data snapshot ...`: the action's own flags
        assert words[2] in nested.choices, f"{doc}: `{line}`: {command} has no action {words[2]!r}"
        parser = nested.choices[words[2]]
    known = flags_of(parser) | flags_of(cli.build_parser())
    for word in words[2:]:
        flag = re.match(r"\[?(--[a-z][a-z0-9-]*)", word)
        if word == "--" or flag is None:
            continue
        assert flag.group(1) in known, f"{doc}: `{line}`: {command} has no {flag.group(1)}"


# --- config fields ----------------------------------------------------------------------------------------

def schema_properties() -> set[str]:
    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            names.update(node.get("properties", {}))
            for v in node.values():
                visit(v)
        elif isinstance(node, list):
            for v in node:
                visit(v)

    for path in SCHEMAS:
        visit(json.loads(path.read_text()))
    return names


def config_md_keys() -> list[str]:
    text = (REPO / "docs" / "config.md").read_text()
    keys = []
    for line in text.splitlines():
        m = re.match(r"\| `([^`]+)` \|", line)
        if m and "(" not in m.group(1) and not m.group(1).endswith(".yaml") and "/" not in m.group(1):
            keys.append(m.group(1))
    return keys


def test_every_documented_key_is_in_a_schema() -> None:
    props = schema_properties()
    missing = []
    for key in config_md_keys():
        first = key.split(".")[0].split("<")[0]
        if key.startswith("x-") or first in props:
            continue
        missing.append(key)
    assert missing == [], f"docs/config.md documents keys no schema has: {missing}"


@pytest.mark.parametrize("schema", SCHEMAS, ids=[s.name for s in SCHEMAS])
def test_every_top_level_schema_key_is_documented(schema: Path) -> None:
    documented = {k.split(".")[0] for k in config_md_keys()}
    top = set(json.loads(schema.read_text()).get("properties", {}))
    assert top - documented == set(), f"{schema.name}: undocumented in docs/config.md: {sorted(top - documented)}"


# --- documented defaults against the parser and the renderers ------------------------------------------------

def documented_health_defaults() -> dict[str, float]:
    text = (REPO / "docs" / "config.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| `health` |"))
    return {k: float(v) for k, v in re.findall(r"`(interval|timeout|retries|start_period)` \((\d+(?:\.\d+)?)\)", row)}


def test_health_defaults_agree_everywhere() -> None:
    from devenv.model.parse import parse_health
    from devenv.render.compose import duration

    docs = documented_health_defaults()
    assert set(docs) == {"interval", "timeout", "retries", "start_period"}
    schema = json.loads((REPO / "devenv" / "schema" / "devenv.schema.json").read_text())
    texts = json.dumps(schema)
    for key, value in docs.items():
        m = re.search(rf'"{key}": \{{"type": "[a-z]+", "description": "[^"]*\(default (\d+(?:\.\d+)?)\)', texts)
        assert m and float(m.group(1)) == value, f"schema default of {key} differs from docs/config.md"
    health = parse_health({"http": "/", "port": 80})
    assert health is not None
    assert (health.interval, health.timeout, health.retries, health.start_period) == (
        docs["interval"], docs["timeout"], docs["retries"], docs["start_period"])
    assert duration(health.timeout) == f"{int(docs['timeout'])}s"


def test_rendered_health_timeouts_are_the_documented_default(sample: Path) -> None:
    from devenv.model.loader import load_project
    from devenv.model.resolve import resolve
    from devenv.render.compose import render_compose
    from devenv.render.kube import render_manifests

    project, _ = load_project(sample)
    default = documented_health_defaults()["timeout"]
    spec = resolve(project, "acme", "local")
    import yaml

    raw = yaml.safe_load((sample / "devenv.yaml").read_text())
    declared = {**(raw.get("components") or {}), **(raw.get("services") or {})}
    unset = [c for c, comp in project.app.components.items()  # checks that leave `timeout` to the default
             if comp.health is not None and c in spec.workloads and "timeout" not in (declared[c].get("health") or {})]
    assert unset
    doc = render_compose(project, spec, fixed_images(project))
    for c in unset:
        assert doc["services"][c]["healthcheck"]["timeout"] == f"{int(default)}s"
    docs = render_manifests(project, spec, fixed_images(project), None)
    probes = [c["readinessProbe"] for d in docs if d.get("kind") == "Deployment" and d["metadata"]["labels"].get(
              "dev.devenv.component", d["metadata"]["name"]) in unset
              for c in d["spec"]["template"]["spec"]["containers"] if "readinessProbe" in c]
    assert probes and all(p["timeoutSeconds"] == int(default) for p in probes)


# --- promises of the profile docs ----------------------------------------------------------------------------

def test_replicas_zero_stops_a_component_on_compose(sample: Path) -> None:
    from devenv.model.loader import load_project
    from devenv.model.resolve import resolve
    from devenv.render.compose import render_compose

    (sample / "devenv.personal.yaml").write_text("tenants:\n  acme:\n    replicas: {api: 0}\n")
    project, _ = load_project(sample)
    spec = resolve(project, "acme", "local")
    doc = render_compose(project, spec, fixed_images(project))
    assert doc["services"]["api"]["deploy"] == {"replicas": 0}
    assert all("api" not in svc.get("depends_on", {}) for svc in doc["services"].values())


def test_exec_exists_as_documented() -> None:
    commands = subcommands()
    assert "exec" in commands
    args = cli.build_parser().parse_args(["exec", "--tenant", "acme", "web", "--", "ls", "-l"])
    assert args.component == "web" and args.cmd[-2:] == ["ls", "-l"] and args.tenant == ["acme"]


# --- the README's first ten minutes ----------------------------------------------------------------------------

README = REPO / "README.md"


def readme_section(title: str) -> str:
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README.read_text(), re.S | re.M)
    assert m, f"README.md has no section '## {title}'"
    return m.group(1)


def table_after(text: str, marker: str) -> list[list[str]]:
    """The rows (cells stripped, header first, separator dropped) of the first table after ``marker``."""
    rows: list[list[str]] = []
    for line in text[text.index(marker):].splitlines()[1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not set("".join(cells)) <= set("-: "):
            rows.append(cells)
    return rows


def test_the_sample_serves_where_the_readme_says(sample: Path) -> None:
    """The URL table of "Start the sample": each tenant's host ports, on 127.0.0.1, and the
    components a tenant does not run; plus the default tenants and port_base the text names."""
    from devenv.model.loader import load_project
    from devenv.model.resolve import resolve
    from devenv.render.compose import render_compose

    text = readme_section("Your first ten minutes")
    project, _ = load_project(sample)
    named = re.search(r"`default_tenants`\s+\(`(\w+)` and `(\w+)`\)", text)
    assert named and list(named.groups()) == list(project.app.default_tenants)
    assert f"`port_base` ({project.app.port_base})" in text
    rows = table_after(text, "**Start the sample.**")
    header, body = rows[0], rows[1:]
    assert header[0] == "tenant" and len(body) == len(project.profiles)
    for row in body:
        tenant = row[0].split()[0]
        doc = render_compose(project, resolve(project, tenant, "local"), fixed_images(project))
        for comp, cell in zip(header[1:], row[1:], strict=True):
            port = re.fullmatch(r"(http://)?127\.0\.0\.1:(\d+)/?", cell)
            if port is None:
                assert "not enabled" in cell and comp not in doc["services"], f"{tenant}/{comp}: {cell}"
                continue
            published = [(p["host_ip"], str(p["published"])) for p in doc["services"][comp]["ports"]]
            assert published == [("127.0.0.1", port.group(2))], f"{tenant}/{comp}: README {cell}, rendered {published}"
            http = any(p.http for p in project.app.components[comp].ports)
            assert http == bool(port.group(1)), f"{tenant}/{comp}: README {cell} (http: {http})"


class Acted(Exception):
    """Raised by the fakes below with the tenants a command was about to act on."""


class FakeBackend:
    """Running: only ``globex`` (not a default tenant, so "running" and "default" differ)."""

    cluster_unsupported = "compose has no cluster"

    def __init__(self) -> None:
        self.acted: list[str] = []

    def check(self) -> None:
        pass

    def running_tenants(self) -> list[str]:
        return ["globex"]

    def tenants_with_volumes(self) -> list[str]:
        return []

    def down(self, tenant: str, volumes: bool = False) -> None:
        self.acted.append(tenant)

    def restart(self, tenant: str, component: str) -> None:
        self.acted.append(tenant)

    def exec(self, tenant: str, component: str, argv: list[str]) -> tuple[int, str]:
        self.acted.append(tenant)
        return 0, ""

    def logs(self, tenant: str, components: list[str], follow: bool, tail: int, sink: Any) -> None:
        self.acted.append(tenant)

    def status(self, tenants: list[str] | None) -> list[Any]:
        """``None`` is every running tenant of the project (the backends' own tests check that part)."""
        self.acted += tenants if tenants is not None else self.running_tenants()
        return []


def tenants_acted_on(command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The tenants ``devenv <command>`` acts on, through a fake backend (and a fake engine for the
    sessions of up and watch) or, for render and diff, from what they print."""
    import devenv.backends
    import devenv.engine.session as session

    backend = FakeBackend()
    monkeypatch.setattr(devenv.backends, "get_backend", lambda *a, **kw: backend)
    monkeypatch.setattr(session, "get_backend", lambda *a, **kw: backend)

    def engine(project: Any, tenants: list[str], *a: Any, **kw: Any) -> None:
        raise Acted(tenants)

    monkeypatch.setattr(session, "Engine", engine)
    if command[0] in ("import", "data"):  # --tenant is required: argparse refuses before anything runs
        with pytest.raises(SystemExit) as exit_:
            cli.main(command)
        assert exit_.value.code == 2 and "--tenant" in capsys.readouterr().err
        return []
    if command[0] == "events":
        from devenv.engine.eventlog import EventLog

        log = EventLog(Path.cwd())
        for t in ("acme", "globex", "initech"):
            log.write({"ts": 1.0, "time": "", "kind": "up", "message": "up", "component": "", "tenants": [t],
                       "cost_ms": None, "files": [], "detail": [], "outcome": "ok"})
        assert cli.main(["events", "--tenant", "globex", "--json"]) == 0
        assert [json.loads(x)["tenants"] for x in capsys.readouterr().out.splitlines()] == [["globex"]]
    if command[0] == "validate":  # an unknown key in every profile: --strict names each profile it read
        for profile in Path("profiles").glob("*.yaml"):
            profile.write_text(profile.read_text() + "not_known_here: 1\n")
        command = [*command, "--strict"]
    if command[0] == "doctor":  # its port check alone (the rest probes this machine's tools)
        from devenv.commands import doctor

        monkeypatch.setattr(doctor, "run_checks", lambda runner, project=None, backend="compose", fix=False:
                            doctor.check_ports(doctor.Ctx(runner, project)))
        cli.main(command)  # exit 1 if another process holds a port here: the tenants checked are what counts
        return re.findall(r"ports (\w+) ", capsys.readouterr().out)
    if command[0] == "build":
        import devenv.commands.build as build

        monkeypatch.setattr(build, "images_for", lambda project, tenants: (_ for _ in ()).throw(Acted(tenants)))
    try:
        code = cli.main(command)
    except Acted as acted:
        return list(acted.args[0])
    out, err = capsys.readouterr()
    assert code == 0, err
    print(err, file=sys.stderr)  # kept for the caller's check of what was said
    if command[0] == "render" and "--cluster" in command:
        names = ["acme", "globex", "initech"]  # the sample's profiles, in name order: 20 host ports each from 18000
        return list(dict.fromkeys(names[(int(p) - 18000) // 20] for p in re.findall(r"hostPort: (\d+)", out)))
    if command[0] == "render" and "kind" in command:
        return re.findall(r"^  name: tenant-(\w+)$", out, re.M)
    if command[0] == "render":
        return re.findall(r"^name: devenv-(\w+)$", out, re.M)
    if command[0] == "diff":
        return re.findall(r"^tenant (\w+):", out, re.M)
    if command[0] == "events":
        return [json.loads(x)["tenants"][0] for x in out.splitlines()]
    if command[0] == "validate":
        return sorted(set(re.findall(r"profiles/(\w+)\.yaml:\d+: not_known_here", out + err)))

    return backend.acted


COMMAND_ARGS = {"import": ["import", "--from-file", "dump.yaml"], "data ...": ["data", "snapshot"],
                "events": ["events", "--json"],
                "logs": ["logs"], "exec": ["exec", "web", "--", "true"], "restart": ["restart", "web"],
                "render (compose)": ["render"], "render --backend kind": ["render", "--backend", "kind"],
                "render --cluster": ["render", "--cluster"]}


def test_which_tenants_each_command_acts_on(sample: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The README's table "Which tenants a command acts on when you name none", row by row."""
    text = readme_section("Your first ten minutes")
    rows = table_after(text, "**Which tenants a command acts on")[1:]
    expected = {"`default_tenants` of devenv.yaml (else the first profile)": ["acme", "globex"],
                "the first of `default_tenants` (said on stderr)": ["acme"],
                "`default_tenants`": ["acme", "globex"],
                "every profile": ["acme", "globex", "initech"],
                "every tenant of this project that is running": ["globex"],
                "every tenant (`events --tenant T` keeps T's events only)": ["acme", "globex", "initech"],
                "none: `--tenant` is required": []}
    claims = []
    for commands, answers in rows:
        first, *more = [a.strip() for a in answers.split(";")]
        compose = "(compose)" in commands
        claims += [("render (compose)" if compose and c == "render" else c, first)
                   for c in re.findall(r"`([^`]+)`", commands)]
        claims += [(m.group(1), m.group(2)) for a in more if (m := re.fullmatch(r"`([^`]+)`: (.+)", a))]
    seen = 0
    for name, answer in claims:
        argv = COMMAND_ARGS.get(name, [name])
        got = tenants_acted_on(argv, monkeypatch, capsys)
        assert got == expected[answer], f"README says `devenv {' '.join(argv)}` acts on {answer}, it acted on {got}"
        if "said on stderr" in answer:
            assert f"tenant {got[0]} (pass --tenant" in capsys.readouterr().err, f"`devenv {name}` does not say which"
        seen += 1
    assert seen >= 12


def test_the_readme_tui_keys_are_the_apps() -> None:
    """Every key of the README's table does what it says (by the app's one key table), and every
    key the footer shows or the help lists as an action is in the README's table."""
    from tui.keys import KEYS

    names = {"space": "space", "Enter": "enter", "Ctrl+C": "ctrl+c", "Ctrl+Q": "ctrl+q", "/": "slash", "?": "question_mark"}
    by_key = {k.key: k for k in KEYS}
    text = readme_section("Your first ten minutes")
    rows = table_after(text, "**The TUI's keys**")[1:]
    documented: set[str] = set()
    for keys, does in rows:
        for shown in re.findall(r"`([^`]+)`|(space|Enter)", keys):
            key = names.get(shown[0] or shown[1], shown[0] or shown[1])
            assert key in by_key, f"README documents TUI key {key!r}, the app has none"
            documented.add(key)
        for shown in re.findall(r"(Ctrl\+[CQ])", does):
            assert names[shown] in by_key and by_key[names[shown]].action == "quit_now"
            documented.add(names[shown])
    assert "`?` shows them" in text and by_key["question_mark"].action == "help"
    actions = {k.key for k in KEYS if k.action and k.key not in ("escape", "question_mark")}
    assert actions - documented == set(), f"TUI keys missing from the README's table: {sorted(actions - documented)}"
    assert by_key["q"].action == "request_quit" and by_key["d"].action == "down"


def test_quitting_asks_as_the_readme_says() -> None:
    """``q`` asks "Leave tenants running?", Enter or ``y`` is yes, ``n`` takes them down."""
    import inspect

    from tui.app import DevenvApp
    from tui.screens.confirm import ConfirmScreen

    text = readme_section("Your first ten minutes")
    question = re.search(r'`q` asks "([^"]+)"', text)
    assert question and f'ConfirmScreen("{question.group(1)}"' in inspect.getsource(DevenvApp.action_request_quit)
    assert inspect.signature(DevenvApp.__init__).parameters["leave_running_default"].default is True
    keys = {b.key: b.action for b in ConfirmScreen.BINDINGS}  # type: ignore[union-attr]
    assert keys["y"] == "answer(True)" and keys["n"] == "answer(False)" and keys["enter"] == "default"


def test_secrets_live_where_the_readme_says(sample: Path) -> None:
    """`.devenv/secrets/<tenant>.json` (0600), one env file per component under
    `.devenv/<tenant>/secrets/`, `.devenv/` owner-only with a `.gitignore` of `*`."""
    text = readme_section("Your first ten minutes")
    assert "`.devenv/secrets/<tenant>.json` (0600)" in text
    assert "`.devenv/<tenant>/secrets/<component>.env`" in text and "`.gitignore`\nof `*`" in text
    assert cli.main(["render", "--tenant", "acme", "--write-secrets"]) == 0
    state = sample / ".devenv"
    assert (state / ".gitignore").read_text() == "*\n"
    assert (state / "secrets" / "acme.json").stat().st_mode & 0o777 == 0o600
    assert state.stat().st_mode & 0o777 == 0o700
    env_files = sorted(p.name for p in (state / "acme" / "secrets").iterdir())
    assert env_files and all(p.endswith(".env") for p in env_files)
    assert "postgres.env" in env_files  # a backing service's own file holds only its own secret
    pg = (state / "acme" / "secrets" / "postgres.env").read_text()
    assert "PAYMENTS" not in pg


def test_no_schema_promises_routing_by_domain() -> None:
    """No proxy routes by the overlay's `domain` (docs/config.md): the schemas an editor shows must
    not say it does."""
    for schema in SCHEMAS:
        assert "routed by" not in schema.read_text(), schema.name


# --- environment variables, figures the text quotes, the installable wheel -----------------------------------

INTERNAL_VARS = {"DEVENV_DECODE", "DEVENV_MASK_SQL", "DEVENV_PG_DB", "DEVENV_PG_USER", "DEVENV_PRE_SQL"}  # set by
# devenv itself for the `data load` pipeline inside a container, never by a user


def documented_env_vars() -> list[str]:
    rows = table_after("\n" + readme_section("Environment variables"), "\n")[1:]  # the header dropped
    return [re.match(r"`([A-Z_]+)", row[0]).group(1) for row in rows]  # type: ignore[union-attr]


def test_every_documented_variable_is_read_and_every_read_one_documented() -> None:
    sources = "\n".join(p.read_text() for d in ("devenv", "tui", "tests", "scripts") for p in (REPO / d).rglob("*")
                        if p.suffix in (".py", ".sh", ".tcss") and "__pycache__" not in p.parts)
    documented = documented_env_vars()
    for var in documented:
        assert re.search(rf"\"{var}\"|\b{var}=|\$\{{?{var}\b", sources), f"{var}: documented, read nowhere"
    code = "\n".join(p.read_text() for d in ("devenv", "tui") for p in (REPO / d).rglob("*.py"))
    read = set(re.findall(r"\bDEVENV_[A-Z_]+", code)) - INTERNAL_VARS
    assert read - set(documented) == set(), f"read by devenv, missing from the README's table: {read - set(documented)}"


def test_figures_the_readme_quotes_are_the_codes() -> None:
    """The coalescing windows, the event log's rotation, the build concurrency, the port layout."""
    from devenv.build.builder import default_concurrency
    from devenv.engine import eventlog
    from devenv.watch import coalesce

    text = README.read_text()
    m = re.search(r"Events coalesce \((\d+) ms quiet, (\d+) ms once a\s+batch passes (\d+) paths, (\d+) s at most\)", text)
    assert m, "README: the coalescing sentence moved; update this test"
    assert (int(m.group(1)) / 1000, int(m.group(2)) / 1000, int(m.group(3)), float(m.group(4))) == (
        coalesce.DEFAULT_QUIET, coalesce.DEFAULT_BULK_QUIET, coalesce.DEFAULT_BULK_AFTER, coalesce.DEFAULT_MAX_WAIT)
    m = re.search(r"closes (\d+) ms after it instead of\s+after the (\d+) ms quiet period", text)
    assert m and int(m.group(1)) / 1000 == coalesce.DEFAULT_SAVED_QUIET and int(m.group(2)) / 1000 == coalesce.DEFAULT_QUIET
    m = re.search(r"rotated at (\d+) MB, (\w+) old\s+files kept", text)
    assert m and int(m.group(1)) * 1_000_000 == eventlog.MAX_BYTES
    assert {"one": 1, "two": 2, "three": 3}[m.group(2)] == eventlog.KEEP
    assert "`DEVENV_BUILD_CONCURRENCY`, default min(4, CPUs)" in text
    import os

    assert default_concurrency() == max(1, min(4, os.cpu_count() or 1))
    m = re.search(r"gets (\d+) host ports on 127\.0\.0\.1 from\s+`port_base` \((\d+)\)", text)
    import yaml

    app = yaml.safe_load((REPO / "devenv.yaml").read_text())
    assert m and (int(m.group(1)), int(m.group(2))) == (app["ports_per_tenant"], app["port_base"])


def test_the_wheel_the_readme_builds_carries_its_data(capsys: pytest.CaptureFixture[str]) -> None:
    """`pip wheel --no-deps . -w dist` gives dist/devenv-<version>-py3-none-any.whl, `devenv --version`
    prints that version, and every non-Python file of the packages (the JSON Schemas the validator
    reads, the TUI's stylesheet) is declared package data, so an installed wheel finds them."""
    import fnmatch
    import subprocess
    import tomllib

    meta = tomllib.loads((REPO / "pyproject.toml").read_text())
    version = meta["project"]["version"]
    text = readme_section("Your first ten minutes")
    assert f"dist/devenv-{version}-py3-none-any.whl" in text
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out.split() == ["devenv", version]
    package_data = meta["tool"]["setuptools"]["package-data"]
    tracked = subprocess.run(["git", "ls-files", "devenv", "tui"], capture_output=True, text=True, cwd=REPO).stdout
    data = [p for p in tracked.split() if not p.endswith(".py")]
    assert "devenv/schema/devenv.schema.json" in data and "tui/app.tcss" in data
    for path in data:
        package, rest = path.split("/", 1)
        assert any(fnmatch.fnmatch(rest, g) for g in package_data.get(package, [])), f"{path} is not package data"
    assert f"`{meta['project']['requires-python'].lstrip('>=')}+" in text or "Python 3.11+" in text


# --- docs/config.md's default column, against what the loader gives a file that leaves each key out ------------

def config_md_defaults() -> dict[str, str]:
    """``key -> default`` for every row of config.md whose default cell is one backticked value."""
    out: dict[str, str] = {}
    for line in (REPO / "docs" / "config.md").read_text().splitlines():
        m = re.match(r"\| `([a-z_]+)` \| [^|]+ \| `([^`]+)` \|", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def test_documented_defaults_are_what_the_loader_gives(tmp_path: Path) -> None:
    from devenv.model.loader import load_project

    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM debian:bookworm-slim\n")
    (tmp_path / "devenv.yaml").write_text("name: bare\nimages:\n  img: {context: ctx}\n"
                                          "components:\n  app: {image: img}\n")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "one.yaml").write_text("components:\n  app: {}\n")
    project, _ = load_project(tmp_path)
    app, image, comp = project.app, project.app.images["img"], project.app.components["app"]
    profile = project.profiles["one"]
    got = {"port_base": str(app.port_base), "ports_per_tenant": str(app.ports_per_tenant),
           "dockerfile": image.dockerfile.name, "parent_arg": image.parent_arg, "restart": comp.restart,
           "live_update": comp.live_update, "namespace": profile.namespace.replace("one", "<tenant>"),
           "enabled": str(profile.components["app"].enabled).lower(),
           "replicas": str(profile.components["app"].replicas), "kind": profile.components["app"].kind}
    assert config_md_defaults() == got


# --- docs/adopt.md: what an edit does in the adopted examples/notes --------------------------------------------

def test_adopted_notes_edits_do_what_adopt_md_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`web/templates/index.html` is synced by the rule init made from the bind mount; `web/VERSION`,
    which no rule covers, is a live update inferred from the Dockerfile's COPY tail (synced, web
    restarted, no rebuild before it), as docs/adopt.md says."""
    import shutil

    from devenv.engine.live import DockerfileTails
    from devenv.model.loader import load_project
    from devenv.model.resolve import resolve
    from devenv.watch.mapping import plan_changes

    text = (REPO / "docs" / "adopt.md").read_text()
    assert "`web/templates/index.html` (synced into the running container)" in text
    assert re.search(r"`web/VERSION` \(no rule covers it, but the Dockerfile's trailing `COPY VERSION /srv/VERSION`", text)
    root = tmp_path / "notes"
    shutil.copytree(REPO / "examples" / "notes", root)
    monkeypatch.chdir(root)
    monkeypatch.setenv("DEVENV_ROOT", str(root))
    assert cli.main(["init", "--from-compose", ".", "--tenant", "acme"]) == 0
    project, _ = load_project(root)
    specs = [resolve(project, "acme", "local")]
    page = root / "web" / "templates" / "index.html"
    plan = plan_changes(project.app, specs, {page: "modified"}, tail_of=DockerfileTails())
    assert [s.component for s in plan.syncs] == ["web"] and not plan.syncs[0].inferred and not plan.rebuilds
    version = root / "web" / "VERSION"
    plan = plan_changes(project.app, specs, {version: "modified"}, tail_of=DockerfileTails())
    assert not plan.rebuilds and not plan.redeploys, plan
    assert [(s.component, s.then_restart) for s in plan.syncs] == [("web", True)]
    assert "COPY VERSION /srv/VERSION" in plan.syncs[0].inferred
    assert [f.dest for f in plan.syncs[0].files] == ["/srv/VERSION"]


# --- docs/reliability.md: the case counts of its bad-input table ---------------------------------------------

def test_reliability_case_counts_are_not_more_than_the_tests_hold() -> None:
    """Each row's count is at most what pytest collects from the files it names (the corpora only
    grow; a count above what exists claims coverage that is not there)."""
    import subprocess

    text = (REPO / "docs" / "reliability.md").read_text()
    rows = table_after(text, "## Bad input")[1:]
    assert len(rows) >= 6
    files = sorted({f for row in rows for f in re.findall(r"tests/[\w/]+\.py", row[-1])})
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
                         capture_output=True, text=True, cwd=REPO).stdout
    bad = [line for line in out.splitlines() if "::" in line and "good" not in line.split("::")[1]]
    collected = {f: sum(line.startswith(f"{f}::") for line in bad) for f in files}  # guards of good input left out
    per_file: dict[str, int] = {}
    for row in rows:
        count = int(re.match(r"\d+", row[1]).group(0))  # type: ignore[union-attr]
        first = re.findall(r"tests/[\w/]+\.py", row[-1])[0]  # a row naming two files counts in the first
        per_file[first] = per_file.get(first, 0) + count
    for f, total in per_file.items():
        assert total <= collected[f], f"docs/reliability.md claims {total} cases in {f}, it holds {collected[f]}"


# --- links, the sample's shape, validate --json, kind's fixed names and versions -----------------------------

def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_every_relative_link_and_anchor_resolves(doc: Path) -> None:
    for target, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)", doc.read_text()):
        if target.startswith(("http://", "https://")):
            continue
        path = (doc.parent / target) if target else doc
        assert path.exists(), f"{doc.name}: link to {target} leads nowhere"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", path.read_text(), re.M)
            assert anchor in {slug(h) for h in headings}, f"{doc.name}: {target}#{anchor}: no such heading"


def test_the_bundled_sample_is_as_the_readme_describes() -> None:
    """App components on the one shared base image; postgres and redis built from Debian, no registry."""
    import yaml

    text = readme_section("The bundled sample")
    app = yaml.safe_load((REPO / "devenv.yaml").read_text())
    assert "the\nfour on one shared base image (`examples/shop/base`)" in text
    assert {n: c["image"] for n, c in app["components"].items()} == {n: n for n in ("web", "api", "worker", "scheduler")}
    assert all(app["images"][n]["parent"] == "base" for n in app["components"])
    assert app["images"]["base"]["context"] == "examples/shop/base"
    for svc in ("postgres", "redis"):
        assert "ref" not in app["services"][svc] and "parent" not in app["images"][svc]
        dockerfile = (REPO / app["images"][svc]["context"] / "Dockerfile").read_text()
        assert re.search(r"^FROM debian:", dockerfile, re.M), svc
    assert len(list((REPO / "profiles").glob("*.yaml"))) == 3 and "holds three tenants" in text


def test_validate_json_is_the_shape_config_md_gives(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = " ".join((REPO / "docs" / "config.md").read_text().split())
    m = re.search(r'`--json` prints only `\{"ok": bool, "problems": \[\{([a-z, ]+)\}\]\}`', text)
    assert m
    (sample / "profiles" / "acme.yaml").write_text((sample / "profiles" / "acme.yaml").read_text() + "unknown_key: 1\n")
    assert cli.main(["validate", "--strict", "--json"]) == 0  # warnings only: exit 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"ok", "problems"} and out["ok"] is True and out["problems"]
    assert all(set(p) == {k.strip() for k in m.group(1).split(",")} for p in out["problems"])
    (sample / "devenv.yaml").write_text((sample / "devenv.yaml").read_text() + "bogus: 1\n")
    assert cli.main(["validate", "--json"]) == 1  # an error: exit 1
    assert json.loads(capsys.readouterr().out)["ok"] is False


def test_kind_md_names_and_versions_are_the_codes() -> None:
    from devenv.backends import kind
    from devenv.commands import doctor
    from devenv.render import kube

    text = (REPO / "docs" / "kind.md").read_text()
    m = re.search(r"kind >= (\d+)\.(\d+) .*\nkubectl >= (\d+)\.(\d+)", text)
    assert m and (int(m.group(1)), int(m.group(2))) == doctor.MIN_KIND
    assert (int(m.group(3)), int(m.group(4))) == doctor.MIN_KUBECTL
    assert f"devenv runs `{kind.REGISTRY_IMAGE}` as the\n   container `{kind.REGISTRY_NAME}` on `127.0.0.1:{kind.REGISTRY_PORT}`" in text
    assert f"NodePort `{kube.NODE_PORT_BASE} + (host port - port_base)`" in text


def test_who_gets_which_env_as_config_md_says(sample: Path) -> None:
    """docs/config.md: a backing service gets only its own env and its own secrets; app components
    get devenv.yaml's `env`, the tenant's env, `FEATURE_<NAME>=true|false` and the tenant's secrets
    (on compose through their own env file, on kind as secretKeyRefs of their own keys)."""
    import yaml

    from devenv.model.loader import load_project
    from devenv.model.resolve import resolve
    from devenv.render.compose import render_compose
    from devenv.render.kube import render_manifests

    text = " ".join((REPO / "docs" / "config.md").read_text().split())
    assert "| `services.<name>` | mapping | | a backing service (only its own env) |" in text
    assert "containers see `FEATURE_<NAME>=true\\|false`" in text
    project, _ = load_project(sample)
    raw = yaml.safe_load((sample / "devenv.yaml").read_text())
    profile = yaml.safe_load((sample / "profiles" / "acme.yaml").read_text())
    spec = resolve(project, "acme", "local")
    tenant_secrets = {s["env"] for s in profile["secrets"]}
    features = {f"FEATURE_{k.upper()}": str(v).lower() for k, v in profile["features"].items()}
    doc = render_compose(project, spec, fixed_images(project))
    manifests = render_manifests(project, spec, fixed_images(project), None)
    containers = {c["name"]: c for d in manifests if d.get("kind") == "Deployment"
                  for c in d["spec"]["template"]["spec"]["containers"]}
    for name, w in spec.workloads.items():
        own = {s["env"] for s in (profile["components"].get(name) or {}).get("secrets", [])}
        kube_secrets = {e["name"] for e in containers[name].get("env", []) if "secretKeyRef" in e.get("valueFrom", {})}
        if name in raw["services"]:
            assert set(w.env) == set(raw["services"][name].get("env") or {}), name
            assert {s.env for s in w.secret_env} == own and kube_secrets == own, name
        else:
            assert features.items() <= w.env.items() and set(raw["env"]) <= set(w.env), name
            assert tenant_secrets <= {s.env for s in w.secret_env} and tenant_secrets <= kube_secrets, name
        assert set(doc["services"][name].get("environment", {})) == set(w.env), name


def test_architecture_md_lists_every_backend_capability() -> None:
    import inspect

    from devenv.backends.base import Backend

    text = " ".join((REPO / "docs" / "architecture.md").read_text().split())
    m = re.search(r"declares every capability the engine and the commands use: (.+?)\. What a backend", text)
    assert m
    documented = set(re.findall(r"`(\w+)`", m.group(1)))
    methods = {n for n, f in inspect.getmembers(Backend, inspect.isfunction) if not n.startswith("_")}
    assert documented == methods


USER_FILES = {"devenv.personal.yaml", "compose.yaml", "docker-compose.yaml", "acme.yaml", "settings.json",
              "snapshot.json"}  # files of a user's project or machine, not of this repository


@pytest.mark.parametrize("doc", [d for d in DOCS if d.name != "benchmarks.md"], ids=lambda d: d.name)
def test_every_repository_file_the_docs_name_exists(doc: Path) -> None:
    """A backticked `path/to/file.py` (also relative to devenv/ or tui/, as architecture.md writes
    them) is a file of this repository, so a reader can open it."""
    missing = []
    for name in sorted(set(re.findall(r"`([\w./-]+\.(?:py|sh|md|json|yaml|tcss))`", doc.read_text()))):
        if name.startswith(".devenv/") or name in USER_FILES:
            continue
        if not any((REPO / prefix / name).exists() for prefix in ("", "devenv", "tui", "docs")):
            missing.append(name)
    assert missing == [], f"{doc.name} names files this repository does not have: {missing}"


def test_doctor_fix_does_what_the_readme_says() -> None:
    """`--fix` links the Compose plugin, and as root starts dockerd and raises inotify's limit:
    the README's words and doctor's own help name the same three fixes."""
    import inspect

    from devenv.commands import doctor

    text = " ".join(readme_section("Your first ten minutes").split())
    assert ("`--fix` does the safe part: it links an installed Compose as the plugin and, as root, starts "
            "`dockerd` and raises inotify's limit") in text
    fix_help = next(a.help for a in subcommands()["doctor"]._actions if "--fix" in a.option_strings)
    assert fix_help and all(w in fix_help for w in ("plugin symlink", "inotify as root", "start dockerd as root"))
    assert "symlink_to" in inspect.getsource(doctor.check_compose)
    assert "ctx.is_root" in inspect.getsource(doctor.check_engine) and "sysctl" in inspect.getsource(doctor.check_inotify)


# --- docs/adopt.md: what init refuses, with nothing written ----------------------------------------------------

REFUSED = {  # a phrase of adopt.md's "Refused (nothing written)" list -> a compose file showing it
    "a remote (git/URL)": "services:\n  web:\n    build: https://example.com/app.git\n",
    "or missing build context": "services:\n  web:\n    build: ./nowhere\n",
    "a context outside the\nproject root": "services:\n  web:\n    build: ../outside\n",
    "`dockerfile_inline`": "services:\n  web:\n    build: {context: ./app, dockerfile_inline: 'FROM x'}\n",
    "a service with neither `build` nor `image`": "services:\n  web:\n    environment: {A: b}\n",
    "an image reference devenv cannot pull (upper case)": "services:\n  web:\n    image: Shop/Web:1\n",
    "two service names that become the same DNS label": "services:\n  my_db: {image: redis}\n  my-db: {image: redis}\n",
    "malformed ports": "services:\n  web:\n    build: ./app\n    ports: ['abc:80']\n",
    "durations": "services:\n  web:\n    build: ./app\n    healthcheck: {test: [CMD, 'true'], interval: 5x}\n",
    "health tests": "services:\n  web:\n    build: ./app\n    healthcheck: {test: [BOGUS, x]}\n",
    "restart policies": "services:\n  web:\n    build: ./app\n    restart: sometimes\n",
    "unset `${VAR:?}` variables": "services:\n  web:\n    build: ./app\n    environment: {A: '${DOCS_UNSET:?set it}'}\n",
}


@pytest.mark.parametrize("phrase", list(REFUSED), ids=[re.sub(r"\W+", "-", p)[:40] for p in REFUSED])
def test_init_refuses_what_adopt_md_lists(phrase: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    text = (REPO / "docs" / "adopt.md").read_text()
    refused = text[text.index("Refused (nothing written):"):].split("\n\n")[0]
    assert phrase in refused
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM debian:bookworm-slim\n")
    (tmp_path / "compose.yaml").write_text(REFUSED[phrase])
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DOCS_UNSET", raising=False)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert cli.main(["init", "--from-compose", ".", "--tenant", "acme"]) == 1
    err = capsys.readouterr().err
    assert "nothing was written" in err and re.search(r"compose\.yaml:\d+: services\.", err), err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


# --- the timeline lines the README quotes, made by the engine's own sync step ------------------------------------

class SyncOnlyBackend(FakeBackend):
    name = "compose"

    def sync(self, tenant: str, component: str, files: Any) -> None:
        self.acted.append(tenant)


async def timeline_line(root: Path, tenants: list[str], changed: str) -> str:
    """What ``devenv events`` prints for the sync the engine makes of one changed file, cost and
    time stripped."""
    from devenv.commands.events import format_record
    from devenv.engine import eventlog
    from devenv.engine.core import Engine
    from devenv.engine.live import DockerfileTails
    from devenv.events import Timeline
    from devenv.model.loader import load_project
    from devenv.model.resolve import resolve
    from devenv.watch.mapping import plan_changes

    project, _ = load_project(root)
    specs = [resolve(project, t, "local") for t in tenants]
    plan = plan_changes(project.app, specs, {root / changed: "modified"}, tail_of=DockerfileTails())
    engine = Engine(project, tenants, SyncOnlyBackend(), watch=False)  # type: ignore[arg-type]
    seen: list[Any] = []
    engine.subscribe(seen.append)
    await engine._sync(plan.syncs[0])
    rec = eventlog.record(next(e for e in seen if isinstance(e, Timeline)))
    assert rec is not None
    return format_record(rec).split(" ", 3)[3].strip().rsplit(" in ", 1)[0]


def quoted_line(text: str, start: str) -> str:
    m = re.search(rf"`({re.escape(start)}[^`]+)`", " ".join(text.split()))
    assert m, start
    return m.group(1).rsplit(" in ", 1)[0]


async def test_the_readme_timeline_examples_are_what_the_engine_says(sample: Path) -> None:
    text = README.read_text()
    by_rule = quoted_line(text, "web (acme, globex): synced")
    got = await timeline_line(sample, ["acme", "globex"], "examples/shop/web/templates/index.html")
    assert got == by_rule
    app = sample / "devenv.yaml"  # as bench/inner_loop.py does: no sync rule for web's static files
    app.write_text(app.read_text().replace(
        "      - {path: examples/shop/web/static, action: sync, target: /srv/web/static}\n", ""))
    inferred = quoted_line(text, "web (acme): live update inferred")
    assert await timeline_line(sample, ["acme"], "examples/shop/web/static/version.txt") == inferred


def test_tenant_data_on_kind_is_as_documented() -> None:
    """README and docs/data.md: the data commands take `--backend kind` (the kind backend declares
    no `data_unsupported`); `list` and `rm` only read the local store."""
    from devenv.backends.kind import KindBackend

    text = " ".join(readme_section("Tenant data").split())
    assert "With `--backend kind` the same commands work through a helper pod" in text
    assert KindBackend.data_unsupported == ""
    data = subcommands()["data"]
    actions = next(a for a in data._actions if isinstance(a, argparse._SubParsersAction)).choices
    for name in ("snapshot", "restore", "load", "seed"):
        assert "--backend" in flags_of(actions[name]), name
    for name in ("list", "rm"):
        assert "--backend" not in flags_of(actions[name]), name
    assert "--data" in flags_of(subcommands()["up"])


def test_host_port_rules_of_config_md(sample: Path) -> None:
    """Slot s of tenant i on port_base + i * ports_per_tenant + s; an overlay's port_base pins it;
    overlapping tenants, ports past 65535 and too small a ports_per_tenant are refused."""
    from devenv.errors import DevenvError
    from devenv.model.loader import load_project
    from devenv.model.resolve import resolve

    text = " ".join((REPO / "docs" / "config.md").read_text().split())
    assert "`127.0.0.1:port_base + i * ports_per_tenant + s`, unless the overlay pins its `port_base`" in text
    assert ("rejects a project where two tenants' ports overlap, where a tenant's ports pass 65535, or where "
            "the app has more ports than `ports_per_tenant`") in text
    personal = sample / "devenv.personal.yaml"
    personal.write_text("tenants:\n  initech:\n    port_base: 30000\n")
    project, _ = load_project(sample)
    ports = {w.name: [p.host for p in w.ports] for w in resolve(project, "initech", "local").workloads.values()}
    assert ports["web"] == [30000] and ports["postgres"] == [30002]
    assert [p.host for p in resolve(project, "globex", "local").workloads["web"].ports] == [18020]
    for overlay, why in (("tenants:\n  acme:\n    port_base: 18020\n", "overlap"),
                         ("tenants:\n  initech:\n    port_base: 65534\n", "past 65535")):
        personal.write_text(overlay)
        with pytest.raises(DevenvError, match=why):
            load_project(sample)
    personal.unlink()
    app = sample / "devenv.yaml"
    app.write_text(app.read_text().replace("ports_per_tenant: 20", "ports_per_tenant: 2"))
    with pytest.raises(DevenvError, match="ports_per_tenant"):
        load_project(sample)


def test_every_nested_schema_key_is_named_in_config_md() -> None:
    """Not only the top level: every property of every schema appears in docs/config.md, except the
    fields of Kubernetes' own Probe object (config.md points at Kubernetes for those)."""
    words = " ".join(re.findall(r"`([^`]+)`", (REPO / "docs" / "config.md").read_text()))
    probe_fields = {"httpGet", "tcpSocket", "grpc", "initialDelaySeconds", "periodSeconds", "timeoutSeconds",
                    "failureThreshold", "successThreshold", "terminationGracePeriodSeconds"}
    missing = sorted(n for n in schema_properties() - probe_fields if not re.search(rf"\b{re.escape(n)}\b", words))
    assert missing == [], f"schema properties docs/config.md never names: {missing}"
    assert "Kubernetes probes" in (REPO / "docs" / "config.md").read_text()


def test_snapshot_names_are_as_data_md_says() -> None:
    """NAME defaults to the UTC time (e.g. 20261201-231500); names are 1-64 letters, digits, '.',
    '_', '-', starting with a letter or digit: no '/', no '..'."""
    from datetime import UTC, datetime

    from devenv.data import store
    from devenv.errors import DevenvError

    text = " ".join((REPO / "docs" / "data.md").read_text().split())
    example = re.search(r"NAME defaults to the UTC time, e\.g\. (\d{8}-\d{6})", text)
    assert example and store.default_name(datetime.strptime(example.group(1), "%Y%m%d-%H%M%S").replace(
        tzinfo=UTC)) == example.group(1)
    assert "Names are 1-64 letters, digits, `.`, `_`, `-`, starting with a letter or digit: no `/`, no `..`" in text
    for good in ("a", "before-migration", "v1.2_x", "9" * 64):
        assert store.check_name(good) == good
    for bad in ("", "a" * 65, "../x", "a/b", ".hidden", "-x", "..", "a b"):
        with pytest.raises(DevenvError):
            store.check_name(bad)


def test_the_compose_file_init_picks_is_adopt_mds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """adopt.md: in a folder, the file compose would pick: compose.yaml, compose.yml,
    docker-compose.yaml, docker-compose.yml, in that order."""
    from devenv.adopt.compose import COMPOSE_NAMES

    text = " ".join((REPO / "docs" / "adopt.md").read_text().split())
    m = re.search(r"The compose file compose would pick in a folder: ([^;]+);", text)
    assert m and tuple(re.findall(r"`([\w.-]+)`", m.group(1))) == COMPOSE_NAMES
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM debian:bookworm-slim\n")
    for i, name in enumerate(reversed(COMPOSE_NAMES)):  # the later names hold a service the first does not
        (tmp_path / name).write_text(f"services:\n  svc{len(COMPOSE_NAMES) - 1 - i}:\n    build: ./app\n")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["init", "--from-compose", ".", "--tenant", "acme", "--dry-run"]) == 0
    assert "svc0:" in capsys.readouterr().out
