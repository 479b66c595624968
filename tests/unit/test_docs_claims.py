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
