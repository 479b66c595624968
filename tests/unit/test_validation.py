"""Validation beyond the corpus: the sample is clean, the published schemas are valid and accept the
sample, every problem comes out in one pass, production's unknown keys are tolerated, the command's
output and exit codes, and no input at all makes validation raise."""

from __future__ import annotations

import inspect
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from devenv.errors import ConfigError, Problem
from devenv.model.loader import load_project, read_documents
from devenv.model.parse import parse_app, parse_overlays, parse_profile
from devenv.model.validate import SCHEMA_DIR, find_cycles, load_schema, validate_documents
from devenv.model.yamlpos import Document, Positions
from tests.conftest import REPO, copy_sample
from tests.unit.test_validation_corpus import corpus, fill_missing_sources

SAMPLE_FILES = {"devenv.yaml": "devenv", "devenv.local.yaml": "overlay", "profiles/acme.yaml": "profile",
                "profiles/globex.yaml": "profile", "profiles/initech.yaml": "profile"}


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = copy_sample(tmp_path / "shop")
    fill_missing_sources(root)
    return root


def problems_of(root: Path, strict: bool = False) -> list[Problem]:
    app, profiles, overlays, problems = read_documents(root)
    return problems + validate_documents(app, profiles, overlays, strict=strict)


def run_cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DEVENV_ROOT"}
    return subprocess.run([sys.executable, "-m", "devenv.cli", "validate", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


# --- the sample and the schemas ---------------------------------------------------------------------

def test_sample_validates_clean(shop: Path) -> None:
    assert problems_of(shop) == []
    project, warnings = load_project(shop)
    assert warnings == [] and sorted(project.profiles) == ["acme", "globex", "initech"]


@pytest.mark.parametrize("kind", ["devenv", "profile", "overlay"])
def test_published_schema_is_valid(kind: str) -> None:
    Draft202012Validator.check_schema(load_schema(kind))
    assert (SCHEMA_DIR / f"{kind}.schema.json").is_file()


@pytest.mark.parametrize("file", sorted(SAMPLE_FILES))
def test_sample_files_match_the_published_schemas(file: str) -> None:
    """What an editor does with the modeline: plain jsonschema on the plain YAML."""
    schema = json.loads((SCHEMA_DIR / f"{SAMPLE_FILES[file]}.schema.json").read_text())
    data = yaml.safe_load((REPO / file).read_text())
    assert [e.message for e in Draft202012Validator(schema).iter_errors(data)] == []


def _fields(node: Any, where: str = "") -> list[tuple[str, Any]]:
    """Every property schema of a schema, with its path."""
    out: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            out.append((f"{where}.{name}", sub))
        for key, sub in node.items():
            out += _fields(sub, f"{where}.{key}" if key != "properties" else where)
    elif isinstance(node, list):
        for sub in node:
            out += _fields(sub, where)
    return out


@pytest.mark.parametrize("kind", ["devenv", "profile", "overlay"])
def test_every_schema_field_has_a_description(kind: str) -> None:
    schema = load_schema(kind)
    defs = schema.get("$defs", {})
    missing = [path for path, sub in _fields(schema)
               if "description" not in sub and "description" not in defs.get(sub.get("$ref", "").split("/")[-1], {})]
    assert missing == []


# --- one pass, every problem ------------------------------------------------------------------------

def test_all_problems_are_reported_at_once(shop: Path) -> None:
    corpus("app-three-errors")(shop)
    problems = [p for p in problems_of(shop) if p.file == "devenv.yaml"]
    assert [(p.line, p.key) for p in problems] == [(3, "port_base"), (16, "components.web.restart"), (9, "images.web.parent")]
    assert "did you mean 'base'" in problems[2].hint


def test_problems_in_several_files_come_together(shop: Path) -> None:
    (shop / "devenv.local.yaml").write_text("defaults: {replica: {web: 1}}\n")
    (shop / "profiles/initech.yaml").write_text("")
    files = {p.file for p in problems_of(shop)}
    assert files == {"devenv.local.yaml", "profiles/initech.yaml"}


# --- tolerant production profiles -------------------------------------------------------------------

def test_unknown_prod_keys_are_ignored_by_default(shop: Path) -> None:
    assert "rollout_strategy" in (shop / "profiles/globex.yaml").read_text()
    assert problems_of(shop) == []


def test_unknown_prod_keys_are_warnings_with_strict(shop: Path) -> None:
    (shop / "profiles/acme.yaml").write_text((shop / "profiles/acme.yaml").read_text().replace(
        "    replicas: 3\n", "    replicas: 3\n    hpa: {min: 2}\n"))
    problems = problems_of(shop, strict=True)
    assert {(p.file, p.key, p.severity) for p in problems} == {
        ("profiles/globex.yaml", "rollout_strategy", "warning"),
        ("profiles/acme.yaml", "components.web.hpa", "warning"),
    }
    _project, warnings = load_project(shop, strict=True)  # warnings never stop a command
    assert len(warnings) == 2


def test_overlay_unknown_key_is_an_error_even_without_strict(shop: Path) -> None:
    (shop / "devenv.local.yaml").write_text("defaults:\n  drop_resources: true\n  rollout_strategy: canary\n")
    [problem] = problems_of(shop)
    assert (problem.severity, problem.line, problem.key) == ("error", 3, "defaults.rollout_strategy")


# --- the command ------------------------------------------------------------------------------------

def test_cli_clean_project(shop: Path) -> None:
    done = run_cli(shop)
    assert (done.returncode, done.stdout.strip()) == (0, "configuration OK")


def test_cli_strict_prints_warnings_and_exits_zero(shop: Path) -> None:
    done = run_cli(shop, "--strict")
    assert done.returncode == 0
    assert "profiles/globex.yaml:38: rollout_strategy: warning: unknown key 'rollout_strategy'" in done.stdout
    assert "0 error(s), 1 warning(s)" in done.stderr


def test_cli_json_only_json_on_stdout(shop: Path) -> None:
    (shop / "profiles/initech.yaml").write_text("tenant: initech\nnamespace: Bad_NS\n")
    done = run_cli(shop, "--json")
    out = json.loads(done.stdout)
    assert done.returncode == 1 and out["ok"] is False
    assert out["problems"] == [{"file": "profiles/initech.yaml", "line": 2, "key": "namespace", "severity": "error",
                                "message": out["problems"][0]["message"], "hint": out["problems"][0]["hint"]}]
    assert "Bad_NS" in out["problems"][0]["message"]


def test_cli_json_clean(shop: Path) -> None:
    done = run_cli(shop, "--json")
    assert (done.returncode, json.loads(done.stdout)) == (0, {"ok": True, "problems": []})


def test_cli_without_a_project(tmp_path: Path) -> None:
    done = run_cli(tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "no devenv.yaml found" in done.stderr
    done = run_cli(tmp_path, "--json")
    assert done.returncode == 1 and json.loads(done.stdout)["ok"] is False


# --- robustness -------------------------------------------------------------------------------------

def test_missing_app_document_is_a_problem() -> None:
    [problem] = validate_documents(None, {}, [])
    assert "devenv.yaml is missing" in str(problem) and problem.hint


def test_loader_names_every_problem_in_one_error(shop: Path) -> None:
    corpus("app-three-errors")(shop)
    with pytest.raises(ConfigError) as info:
        load_project(shop)
    assert str(info.value).count("devenv.yaml:") == 3


def test_find_cycles_reports_each_cycle_once() -> None:
    assert find_cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": ["b"], "b": []}) == []


JUNK: list[Any] = [None, True, 0, -1, 1.5, "", "x", "../..", "/etc", [], [None], [1, "a"], {}, {"a": None},
                   {"name": {"x": 1}}, [[[]]], float("nan"), 10**30, 8000, "/srv", "web", {"http": True}]


def _paths(data: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [here]
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, sub in items:
        out += _paths(sub, (*here, key))
    return out


def _mutations(data: Any, rng: random.Random, count: int) -> Any:
    """``data`` with ``count`` random subtrees replaced by junk of any type."""
    for _ in range(count):
        path = rng.choice(_paths(data))
        if not path:
            return rng.choice(JUNK)
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = rng.choice(JUNK)
    return data


@pytest.mark.parametrize("seed", range(80))
def test_validation_never_raises_on_junk(shop: Path, seed: int) -> None:
    """Any type anywhere: only Problems come out, never an exception (nor an 'internal error');
    and whatever passes clean, parse.py (which trusts the pass) can read."""
    rng = random.Random(seed)
    files = ["devenv.yaml", "devenv.local.yaml", *(f"profiles/{n}.yaml" for n in ("acme", "globex", "initech"))]
    target = rng.choice(files)
    docs = {}
    for file in files:
        data = yaml.safe_load((shop / file).read_text())
        docs[file] = Document(shop / file, _mutations(data, rng, 1 + seed % 3) if file == target else data, Positions(file))
    app, overlay = docs["devenv.yaml"], docs["devenv.local.yaml"]
    profiles = {Path(f).stem: d for f, d in docs.items() if f.startswith("profiles/")}
    problems = validate_documents(app, profiles, [overlay], strict=True)
    assert not [p for p in problems if "internal error" in p.message]
    assert all(p.hint for p in problems)
    if not any(p.severity == "error" for p in problems):
        parse_app(app.data, shop, app.file)
        for name, d in profiles.items():
            parse_profile(name, d.data, d.file)
        parse_overlays([(overlay.file, overlay.data or {})])


def test_every_schema_pattern_is_explained_in_words() -> None:
    from devenv.model.validate import PATTERN_WORDS

    def patterns(node: Any) -> set[str]:
        if isinstance(node, dict):
            found = {node["pattern"]} if isinstance(node.get("pattern"), str) else set()
            return found.union(*(patterns(v) for v in node.values()))
        return set().union(*(patterns(v) for v in node)) if isinstance(node, list) else set()

    used = set().union(*(patterns(load_schema(k)) for k in ("devenv", "profile", "overlay")))
    assert used - set(PATTERN_WORDS) == set()


def test_a_broken_app_file_does_not_cascade(shop: Path) -> None:
    """With devenv.yaml unreadable, profiles and overlays are not told their components are unknown."""
    corpus("app-tabs")(shop)
    problems = problems_of(shop)
    assert [p.file for p in problems] == ["devenv.yaml", "devenv.yaml"]
    assert "tabs" in problems[0].hint and "skipped" in problems[1].message


def test_one_bad_port_base_is_one_problem(shop: Path) -> None:
    text = (shop / "devenv.yaml").read_text().replace("port_base: 18000", "port_base: 65530")
    (shop / "devenv.yaml").write_text(text)
    assert [p.key for p in problems_of(shop)] == ["port_base"]


# --- each schema refusal in the user's words (what `devenv validate` prints) ------------------------

def _edited(root: Path, edit: Any) -> list[tuple[str, str, str]]:
    path = root / "devenv.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return [(p.key, p.message, p.hint) for p in problems_of(root) if p.severity == "error"]


def _rename(doc: dict, old: str, new: str) -> None:
    doc["components"][new] = doc["components"].pop(old)
    doc["components"]["api"]["depends_on"] = [d for d in doc["components"]["api"].get("depends_on", []) if d != old]


SCHEMA_REFUSALS = {
    "dns-name": (lambda d: _rename(d, "scheduler", "Sched_1"),
                 ("components.Sched_1", "'Sched_1' is not a valid name: expected a name of lower-case letters, digits "
                  "and '-' (starting and ending with a letter or digit)", "rename it, e.g. 'sched-1'")),
    "env-name": (lambda d: d["components"]["web"].__setitem__("env", {"1-BAD": "x"}),
                 ("components.web.env.1-BAD", "'1-BAD' is not a valid name: expected an environment variable name "
                  "(letters, digits and '_', not starting with a digit)", "rename it, e.g. '_1_BAD'")),
    "long-key": (lambda d: d["images"]["web"].__setitem__("args", {"A" * 254: "1"}),
                 (f"images.web.args.{'A' * 254}", f"'{'A' * 254}' is not a valid name: expected a name of at most "
                  "253 characters", "rename it, see docs/config.md")),
    "enum": (lambda d: d["components"]["web"].__setitem__("live_update", "sometimes"),
             ("components.web.live_update", "'sometimes' is not one of: restart, reload, rebuild",
              "choose one of: rebuild, reload, restart")),
    "maximum": (lambda d: d.__setitem__("port_base", 70000),
                ("port_base", "70000 is out of range: expected at most 65535", "expected: First host port of tenant 0; "
                 "tenant i (in name order) starts at port_base + i * ports_per_tenant.")),
    "minimum": (lambda d: d["components"]["web"]["ports"][0].__setitem__("container", 0),
                ("components.web.ports[0].container", "0 is out of range: expected at least 1",
                 "expected: The port inside the container.")),
    "exclusive-minimum": (lambda d: d["components"]["web"]["health"].__setitem__("interval", 0),
                          ("components.web.health.interval", "0 is out of range: expected more than 0",
                           "expected: Seconds between checks (default 2).")),
    "empty": (lambda d: d["images"]["web"].__setitem__("context", ""),
              ("images.web.context", "must not be empty",
               "expected: Build context directory, relative to the project root (must stay inside it).")),
    "too-long": (lambda d: d["components"]["web"]["ports"][0].__setitem__("name", "h" * 16),
                 ("components.web.ports[0].name", f"'{'h' * 16}' is longer than 15 characters", "shorten it")),
}


@pytest.mark.parametrize("case", list(SCHEMA_REFUSALS))
def test_a_schema_refusal_names_the_key_what_was_expected_and_the_fix(shop: Path, case: str) -> None:
    edit, expected = SCHEMA_REFUSALS[case]
    assert _edited(shop, edit)[0] == expected


def test_a_tenant_defined_twice_names_both_files(shop: Path) -> None:
    (shop / "profiles" / "acme.yml").write_text((shop / "profiles" / "acme.yaml").read_text())
    dup = [p for p in problems_of(shop) if "defined twice" in p.message]
    assert [(p.key, p.message, p.hint) for p in dup] == [
        ("", "tenant 'acme' is defined twice (also in profiles/acme.yaml)", "keep one of the two files")]


def test_a_missing_key_is_named_with_what_it_is_for(shop: Path) -> None:
    assert _edited(shop, lambda d: d["images"]["web"].pop("context"))[0] == (
        "images.web.context", "missing required key 'context'",
        "add 'context:' here (Build context directory, relative to the project root (must stay inside it).)")


def _edited_overlay(root: Path, edit: Any) -> list[tuple[str, str, str]]:
    path = root / "devenv.local.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return [(p.key, p.message, p.hint) for p in problems_of(root) if "overlap" in p.message]


def test_overlapping_port_ranges_point_at_their_cause(shop: Path) -> None:
    """Too few ports per tenant, one pin under ``defaults`` shared by all, or one tenant's pin on
    another's range: each names the key to change and how."""
    assert _edited(shop, lambda d: d.__setitem__("ports_per_tenant", 1))[1] == (
        "port_base", "host ports of tenants 'acme' (18000-18002) and 'globex' (18001-18003) overlap",
        "raise ports_per_tenant to cover every component port")


def test_a_port_base_pinned_under_defaults_overlaps_every_tenant(shop: Path) -> None:
    assert _edited_overlay(shop, lambda d: d["defaults"].__setitem__("port_base", 19000))[0] == (
        "defaults.port_base", "host ports of tenants 'acme' (19000-19002) and 'globex' (19000-19002) overlap",
        "pin port_base per tenant under `tenants.<name>`, not under `defaults`")


def test_a_tenants_pin_on_anothers_range_names_the_pin(shop: Path) -> None:
    assert _edited_overlay(shop, lambda d: d["tenants"].setdefault("acme", {}).__setitem__("port_base", 18020))[0] == (
        "tenants.acme.port_base", "host ports of tenants 'acme' (18020-18022) and 'globex' (18020-18022) overlap",
        "pin a free range with `tenants.acme.port_base`, or remove the pin")


@pytest.mark.parametrize(("text", "line", "message", "hint"), [
    ("a:\n\tb: 1\n", 2, "not valid YAML: found character '\\t' that cannot start any token",
     "YAML does not allow tabs for indentation: indent with spaces"),
    ("a: [1\n", 2, "not valid YAML: expected ',' or ']', but got '<stream end>'",
     "check indentation, colons and quoting on that line"),
    ("a: b: c\n", 1, "not valid YAML: mapping values are not allowed here",
     "check indentation, colons and quoting on that line"),
])
def test_yaml_syntax_errors_name_the_line_and_the_fix(text: str, line: int, message: str, hint: str) -> None:
    from devenv.model.yamlpos import parse_yaml_text

    doc, problems = parse_yaml_text(text, "x.yaml")
    assert doc is None and problems == [Problem("x.yaml", line, "", message, hint)]


# --- direct checks on tiny documents: each message whole (file, line, key, text, fix) -----------------

def _doc(text: str, name: str = "devenv.yaml", root: Path = Path("/nonexistent/proj")) -> Document:
    from devenv.model.yamlpos import parse_yaml_text

    doc, problems = parse_yaml_text(text, name, root / name)
    assert doc is not None and problems == []
    return doc


def _said(problems: Any) -> list[tuple[int | None, str, str, str, str]]:
    return [(p.line, p.key, p.message, p.hint, p.severity) for p in problems]


def _schema(text: str, kind: str = "devenv", name: str = "devenv.yaml") -> list[tuple[int | None, str, str, str, str]]:
    from devenv.model.validate import structural

    return _said(structural(_doc(text, name), kind))


NAME_FIX = "expected: The application's name (a DNS-1123 label); prefixes images and labels."
DNS_WORDS_SHORT = "a name of lower-case letters, digits and '-' (starting and ending with a letter or digit)"


@pytest.mark.parametrize(("value", "message", "hint"), [
    ("5", "expected a string, got the number 5", NAME_FIX),
    ("[a]", "expected a string, got a list",
     "write the value on one line as a string (quote it), not as a nested list or mapping"),
    ("2024-01-02", "expected a string, got the date 2024-01-02", "quote it to keep it text: '2024-01-02'"),
    ("a/b", f"'a/b' looks like a host path; expected {DNS_WORDS_SHORT}", NAME_FIX),
    ("\"it's\"", f"'it's' is not {DNS_WORDS_SHORT}", NAME_FIX),
    ("A" * 48, f"'{'A' * 48}' is not {DNS_WORDS_SHORT}", NAME_FIX),  # 50 characters quoted: shown whole
    ("A" * 49, f"'{'A' * 46}... is not {DNS_WORDS_SHORT}", NAME_FIX),  # 51: cut to 47 and '...'
])
def test_a_bad_app_name_is_explained_in_words(value: str, message: str, hint: str) -> None:
    assert _schema(f"name: {value}\n") == [(1, "name", message, hint, "error")]


def test_a_bad_number_bound_says_the_bound() -> None:
    text = "name: a\ncomponents:\n  web:\n    ref: r\n    health: {cmd: x, interval: 0}\n"
    assert _schema(text) == [(5, "components.web.health.interval", "0 is out of range: expected more than 0",
                              "expected: Seconds between checks (default 2).", "error")]


def test_a_bad_env_name_suggests_a_valid_one() -> None:
    text = "name: a\ncomponents:\n  web:\n    ref: r\n    env: {my-var: 1, 9lives: 2}\n"
    words = "an environment variable name (letters, digits and '_', not starting with a digit)"
    assert _schema(text) == [
        (5, "components.web.env.my-var", f"'my-var' is not a valid name: expected {words}", "rename it, e.g. 'my_var'", "error"),
        (5, "components.web.env.9lives", f"'9lives' is not a valid name: expected {words}", "rename it, e.g. '_9lives'", "error")]


@pytest.mark.parametrize(("value", "got"), [("[1, 2]", "a list"), ("{file: 3}", "a mapping")])
def test_an_overlay_secret_value_of_the_wrong_shape_names_both_shapes(value: str, got: str) -> None:
    text = f"tenants:\n  acme:\n    secrets:\n      s:\n        k: {value}\n"
    shapes = "a plain value, or {file: PATH}"
    assert _schema(text, "overlay", "devenv.local.yaml") == [
        (5, "tenants.acme.secrets.s.k", f"expected {shapes}, got {got}", f"expected: {shapes}", "error")]


def test_closing_a_schema_rejects_unknown_keys_of_every_object_with_properties_only() -> None:
    from devenv.model.validate import _closed

    schema = {"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {}}}},
              "$defs": {"open": {"properties": {}, "additionalProperties": True}, "list": [{"properties": {}}]},
              "items": {"type": "string"}}
    before = json.dumps(schema, sort_keys=True)
    assert _closed(schema) == {
        "type": "object", "additionalProperties": False,
        "properties": {"a": {"type": "object", "properties": {"b": {}}, "additionalProperties": False}},
        "$defs": {"open": {"properties": {}, "additionalProperties": True},
                  "list": [{"properties": {}, "additionalProperties": False}]},
        "items": {"type": "string"}}
    assert json.dumps(schema, sort_keys=True) == before  # the published schema is left as it is


@pytest.mark.parametrize(("stem", "fix"), [
    ("Acme Corp", "acme-corp"),
    ("_", "tenant"),
    ("a" * 70, "a" * 63),
    ("-" + "a" * 63, "a" * 63),  # leading '-' goes before the cut
    ("a" * 62 + "-" + "b" * 5, "a" * 62),  # a '-' the cut leaves at the end goes too
])
def test_a_profile_file_name_that_is_no_tenant_name_suggests_one(stem: str, fix: str) -> None:
    from devenv.model.validate import DNS_WORDS, check_profile

    doc = _doc("namespace: tenant-x\n", f"profiles/{stem}.yaml")
    assert _said(check_profile(stem, doc, None, False))[0] == (
        1, "", f"the file name makes the tenant name '{stem}', which is not {DNS_WORDS}",
        f"rename the file to profiles/{fix}.yaml", "error")


def test_two_pinned_tenants_overlapping_point_at_the_later_pin() -> None:
    from devenv.model.validate import check_host_ports

    app = _doc("name: a\ncomponents:\n  web:\n    ref: r\n    ports: [{name: http, container: 80}, {name: x, container: 81}]\n")
    local = _doc("tenants:\n  a:\n    port_base: 18000\n  b:\n    port_base: 18001\n", "devenv.local.yaml")
    assert _said(check_host_ports(app, ["b", "a"], [local])) == [
        (5, "tenants.b.port_base", "host ports of tenants 'a' (18000-18001) and 'b' (18001-18002) overlap",
         "pin a free range with `tenants.b.port_base`, or remove the pin", "error")]


def test_a_context_without_its_dockerfile_is_named(tmp_path: Path) -> None:
    from devenv.model.validate import check_image_files

    (tmp_path / "web").mkdir()
    doc = _doc("images:\n  web:\n    context: web\n", root=tmp_path)
    assert _said(check_image_files("web", {"context": "web"}, tmp_path, doc.positions)) == [
        (3, "images.web.context", "no Dockerfile at web/Dockerfile",
         "create it, or set `dockerfile:` to its path relative to the context", "error")]


@pytest.mark.parametrize(("text", "message", "hint"), [
    # libyaml refuses it; the pure-Python reader says why (no mark, no `problem`: its first line)
    ("a: \x01\n", "not valid YAML: unacceptable character #x0001: special characters are not allowed",
     "check indentation, colons and quoting on that line"),
    # nesting too deep for the pure-Python composer to say where
    ("[" * 1000, "not valid YAML", "check indentation, colons and quoting"),
])
def test_yaml_errors_without_a_line(text: str, message: str, hint: str) -> None:
    from devenv.model.yamlpos import parse_yaml_text

    assert parse_yaml_text(text, "x.yaml") == (None, [Problem("x.yaml", None, "", message, hint)])


def test_messages_for_schema_rules_the_published_schemas_may_grow_into() -> None:
    """The words for an unworded pattern, a bound of ``exclusiveMaximum``, an ``anyOf`` or a required
    key without a description, an unworded ``propertyNames``: the published schemas use none of these
    today, so this runs ``_explain`` on a schema of its own."""
    from devenv.model.validate import _explain

    schema = {"type": "object", "properties": {
        "p": {"type": "string", "pattern": "^z"},
        "n": {"type": "number", "exclusiveMaximum": 5},
        "u": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        "r": {"type": "object", "required": ["k"], "properties": {"k": {}}},
        "m": {"type": "object", "propertyNames": {"pattern": "^z"}}}}
    doc = _doc("p: a\nn: 5\nu: [1]\nr: {}\nm: {a: 1}\n")
    got = [p for err in Draft202012Validator(schema).iter_errors(doc.data) for p in _explain(err, doc.positions, False, False)]
    docs = "see docs/config.md for this field"
    assert sorted(_said(got)) == [
        (1, "p", "'a' is not a value of the documented form", docs, "error"),
        (2, "n", "5 is out of range: expected less than 5", docs, "error"),
        (3, "u", "expected one of the documented forms, got a list", docs, "error"),
        (4, "r.k", "missing required key 'k'", "add 'k:' here", "error"),
        (5, "m.a", "'a' is not a valid name: expected a name of the documented form", "rename it, see docs/config.md", "error"),
    ]


# --- gaps the mutation review found (review-validate.md) ----------------------------------------------

def test_a_list_that_repeats_a_date_names_it_instead_of_an_internal_error() -> None:
    date_fix = "quote it to keep it text: '2024-01-01'"
    assert _schema("name: a\ncomponents:\n  web:\n    ref: r\n    depends_on: [2024-01-01, 2024-01-01]\n") == [
        (5, "components.web.depends_on[0]", "expected a string, got the date 2024-01-01", date_fix, "error"),
        (5, "components.web.depends_on[1]", "expected a string, got the date 2024-01-01", date_fix, "error"),
        (5, "components.web.depends_on", 'the list names "2024-01-01" more than once', "remove the repeated entries",
         "error")]


def test_a_list_with_several_repeats_names_each_repeated_entry_once() -> None:
    assert _schema("name: a\ncomponents:\n  web:\n    ref: r\n    depends_on: [db, db, x, x, y]\n") == [
        (5, "components.web.depends_on", 'the list names "db", "x" more than once', "remove the repeated entries",
         "error")]


SEED_FIX = ("expected: Data the tenant gets on its first local start (devenv only; production ignores it): a SQL file "
            "(project-relative) loaded into the tenant's Postgres, or a command run in one of its components. Runs once "
            "per fresh data volume; `devenv data seed` reruns it.")
@pytest.mark.parametrize(("value", "got"), [("[a, b]", "a list"), ("5", "the number 5"), ("true", "true (a boolean)")])
def test_a_seed_of_neither_form_names_both_forms(value: str, got: str) -> None:
    assert _schema(f"namespace: t\nseed: {value}\n", "profile", "profiles/acme.yaml") == [
        (2, "seed", f"expected a string or a mapping (key: value), got {got}", SEED_FIX, "error")]


def test_a_seed_mapping_says_what_is_wrong_inside_it() -> None:
    """Not "{...} is not valid under any of the given schemas": the mapping form's own problems,
    and an unknown key is an error there even in a (tolerant) profile."""
    text = "namespace: t\nseed:\n  sql: a.sql\n  componet: web\n  command: 5\n"
    assert _schema(text, "profile", "profiles/acme.yaml") == [
        (4, "seed.componet", "unknown key 'componet'", "did you mean 'component'? known keys: command, component, sql",
         "error"),
        (5, "seed.command", "expected a string or a list, got the number 5",
         "expected: a command (list, or a string run by sh -c) run in `component`'s container", "error")]


def test_an_empty_seed_command_list_is_named() -> None:
    assert _schema("namespace: t\nseed: {command: [], component: web}\n", "profile", "profiles/acme.yaml") == [
        (2, "seed.command", "[] should be non-empty", "see docs/config.md for this field", "error")]


@pytest.mark.parametrize(("items", "cut"), [(13, False), (14, True), (500, True)])
def test_a_long_schema_message_cuts_the_value_it_quotes_not_its_ending(items: int, cut: bool) -> None:
    """13 items: 117 characters, shown whole; 14: 125, so the quoted value is cut, never the words
    after it (only minItems and minProperties reach this today, with short values)."""
    from jsonschema import Draft202012Validator

    from devenv.model.validate import _short

    [err] = Draft202012Validator({"maxItems": 1}).iter_errors(["aaaa"] * items)
    shown = str(["aaaa"] * items)
    assert _short(err) == (shown[:37] + "..." if cut else shown) + " is too long"


def test_yaml_nesting_too_deep_for_the_pure_python_loader_is_one_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    """PyYAML built without libyaml composes with the pure-Python loader, which recurses."""
    from devenv.model import yamlpos

    monkeypatch.setattr(yamlpos, "FAST_LOADER", yaml.SafeLoader)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack(0)) + 200)  # 150 levels are too deep then, and quick to scan
    try:
        got = yamlpos.parse_yaml_text("[" * 150 + "]" * 150, "x.yaml")
    finally:
        sys.setrecursionlimit(limit)
    assert got == (None, [Problem("x.yaml", None, "", "the YAML nests too deeply", "flatten the document")])


# --- gaps the later mutation review found (review-later.md) -------------------------------------------

def test_an_unreadable_dockerfile_is_one_problem_naming_it_relative_to_the_project(
        shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reached only after ``is_file()`` passed: a permission error (not as root) or a file swapped in
    between. The message names the file as the user wrote it, not by its absolute path."""
    import errno

    real_open = os.open

    def refusing_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith("examples/shop/web/Dockerfile"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)  # what devenv.fsutil.read_bytes calls
    shown = "examples/shop/web/Dockerfile"
    assert problems_of(shop) == [Problem(shown, None, "", f"cannot read {shown}: Permission denied",
                                         f"give yourself read access (chmod u+r {shown}), or run devenv where you "
                                         "have the rights")]


def test_a_dockerfile_that_is_not_utf8_validates_without_a_crash(shop: Path) -> None:
    """A Latin-1 comment (``café``) is not UTF-8: it is read with a replacement character, and the
    rest (``ARG BASE_IMAGE`` for the parent) is still checked."""
    df = shop / "examples/shop/web/Dockerfile"
    df.write_bytes(b"# caf\xe9 \xff\n" + df.read_bytes())
    assert problems_of(shop) == []
    df.write_bytes(df.read_bytes().replace(b"ARG BASE_IMAGE", b"ARG OTHER"))
    assert problems_of(shop) == [
        Problem("examples/shop/web/Dockerfile", 4, "from-variable",
                "FROM uses $BASE_IMAGE, which no ARG before the first FROM declares: it expands to nothing",
                "add `ARG BASE_IMAGE=<image>` at the top of the Dockerfile"),
        Problem("devenv.yaml", 12, "images.web.parent",
                "the Dockerfile never declares `ARG BASE_IMAGE`, so the parent image is not used",
                "add `ARG BASE_IMAGE` and `FROM ${BASE_IMAGE}` to Dockerfile", "warning")]


CONTEXT_FIX = "expected: Build context directory, relative to the project root (must stay inside it)."
DOCKERFILE_FIX = "expected: Dockerfile path relative to the context (default: Dockerfile)."


@pytest.mark.parametrize(("field", "value", "message", "hint"), [
    ("context", 5, "expected a string, got the number 5", CONTEXT_FIX),
    ("context", "", "must not be empty", CONTEXT_FIX),
    ("dockerfile", 5, "expected a string, got the number 5", DOCKERFILE_FIX),
    ("dockerfile", "", "must not be empty", DOCKERFILE_FIX),
])
def test_a_context_or_dockerfile_that_is_no_path_is_one_schema_problem(
        shop: Path, field: str, value: Any, message: str, hint: str) -> None:
    """Not looked up as a path too: no TypeError from ``root / 5``, no second "no Dockerfile at" error."""
    assert _edited(shop, lambda d: d["images"]["web"].__setitem__(field, value)) == [
        (f"images.web.{field}", message, hint)]


def test_a_non_string_depends_on_entry_does_not_hide_the_entries_after_it(shop: Path) -> None:
    assert _edited(shop, lambda d: d["components"]["web"].__setitem__("depends_on", [5, "nope"])) == [
        ("components.web.depends_on[0]", "expected a string, got the number 5", "see docs/config.md for this field"),
        ("components.web.depends_on[1]", "unknown component or service 'nope'",
         "components and services: api, postgres, redis, scheduler, web, worker")]


@pytest.mark.parametrize(("section", "missing", "hint"), [
    ("ports", "container", "add 'container:' here (The port inside the container.)"),
    ("ports", "name", "add 'name:' here (The port's name (at most 15 characters: lower-case letters, digits and '-').)"),
    ("volumes", "target", "add 'target:' here (Absolute mount path inside the container.)"),
])
def test_a_partly_filled_entry_is_told_only_the_key_it_lacks(shop: Path, section: str, missing: str, hint: str) -> None:
    assert _edited(shop, lambda d: d["services"]["postgres"][section][0].pop(missing)) == [
        (f"services.postgres.{section}[0].{missing}", f"missing required key '{missing}'", hint)]


def test_a_watch_glob_that_climbs_out_after_its_first_directory_is_outside_the_root(shop: Path) -> None:
    """The whole directory part before the wildcard is resolved, not only its first component."""
    pattern = "examples/../../*.py"
    assert _edited(shop, lambda d: d["components"]["web"]["watch"][0].__setitem__("path", pattern)) == [
        ("components.web.watch[0].path",
         f"watch path '{pattern}' resolves to {shop.resolve().parent}, outside the project root {shop.resolve()}",
         "watch paths are relative to the project root")]


def test_a_watch_glob_under_a_symlink_out_of_the_root_is_outside_the_root(shop: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (shop / "examples/shop/web/link").symlink_to(tmp_path / "elsewhere")
    pattern = "examples/shop/web/link/*.py"
    assert _edited(shop, lambda d: d["components"]["web"]["watch"][0].__setitem__("path", pattern)) == [
        ("components.web.watch[0].path",
         f"watch path '{pattern}' resolves to {(tmp_path / 'elsewhere').resolve()}, outside the project root "
         f"{shop.resolve()}", "watch paths are relative to the project root")]


def test_two_pins_sharing_exactly_one_port_overlap(shop: Path) -> None:
    """acme (first in name order) starts on globex's last port: a one-port overlap, reported at the
    later tenant's pin."""
    (shop / "devenv.local.yaml").write_text("tenants:\n  acme: {port_base: 18002}\n  globex: {port_base: 18000}\n")
    assert [tuple(p) for p in problems_of(shop)] == [
        ("devenv.local.yaml", 3, "tenants.globex.port_base",
         "host ports of tenants 'acme' (18002-18004) and 'globex' (18000-18002) overlap",
         "pin a free range with `tenants.globex.port_base`, or remove the pin", "error")]


def test_an_app_with_one_published_port_has_its_tenants_ports_checked() -> None:
    from devenv.model.validate import check_host_ports

    app = _doc("name: a\nport_base: 65535\nports_per_tenant: 1\ncomponents:\n  web:\n    ref: r\n"
               "    ports: [{name: http, container: 80}]\n")
    assert _said(check_host_ports(app, ["a", "b"], [])) == [
        (2, "port_base", "tenant 'b' would publish ports 65536-65536, past 65535",
         "lower port_base (or ports_per_tenant) so every tenant's ports fit", "error")]
    local = _doc("tenants:\n  b: {port_base: 18000}\n  a: {port_base: 18000}\n", "devenv.local.yaml")
    assert _said(check_host_ports(app, ["a", "b"], [local])) == [
        (2, "tenants.b.port_base", "host ports of tenants 'a' (18000-18000) and 'b' (18000-18000) overlap",
         "pin a free range with `tenants.b.port_base`, or remove the pin", "error")]


def test_as_many_ports_as_ports_per_tenant_is_enough(shop: Path) -> None:
    """The sample publishes 3 ports per tenant (web, api, postgres): 3 fit, 2 do not."""
    assert _edited(shop, lambda d: d.__setitem__("ports_per_tenant", 3)) == []
    assert _edited(shop, lambda d: d.__setitem__("ports_per_tenant", 2))[0] == (
        "ports_per_tenant", "the app publishes 3 ports per tenant but ports_per_tenant is 2",
        "set ports_per_tenant to at least 3")


def test_a_tenant_name_may_be_63_characters_long_but_not_64() -> None:
    from devenv.model.validate import DNS_WORDS, check_profile, dns_label

    assert (dns_label("a" * 63), dns_label("a" * 64)) == (True, False)
    ok = "a" * 63
    assert _said(check_profile(ok, _doc("namespace: tenant-x\n", f"profiles/{ok}.yaml"), None, False)) == []
    long = "a" * 64
    assert _said(check_profile(long, _doc("namespace: tenant-x\n", f"profiles/{long}.yaml"), None, False)) == [
        (1, "", f"the file name makes the tenant name '{long}', which is not {DNS_WORDS}",
         f"rename the file to profiles/{ok}.yaml", "error")]


COMPOSE_TYPED = """\
bools: [true, True, TRUE, false, False, FALSE]
words: [on, off, yes, no, On, Y, n]
ints: [0, 7, -7, +7, 1_000, 0755, 0b101, 0x1F, 0o17]
floats: [1.5, -1.5, .5, 1.0e+3, .inf, -.inf, 1e3, 08, 7., 1E3, .Inf, -.INF]
nans: [.nan, .NaN, .NAN]
strings: ['2222:22', 2222:22, 190:20:30.15, 1_0.5, 0x, 1.2.3]
nulls: [~, null, Null, NULL]
"""


def test_a_compose_file_is_typed_as_docker_compose_types_it() -> None:
    """go-yaml v3's plain scalars, not YAML 1.1's: only true/false in three casings are booleans,
    no base-60 numbers, 0o17 is octal and 1e3 a float (Go's readers); 0755, 0b and 0x are numbers to both."""
    from devenv.model.yamlpos import compose_loader, parse_yaml_text

    doc, problems = parse_yaml_text(COMPOSE_TYPED, "compose.yaml", None, compose_loader())
    assert problems == [] and doc is not None
    nans = doc.data.pop("nans")
    assert len(nans) == 3 and all(type(v) is float and v != v for v in nans)
    assert doc.data == {"bools": [True, True, True, False, False, False],
                        "words": ["on", "off", "yes", "no", "On", "Y", "n"],
                        "ints": [0, 7, -7, 7, 1000, 493, 5, 31, 15],
                        "floats": [1.5, -1.5, 0.5, 1000.0, float("inf"), float("-inf"), 1000.0, 8.0, 7.0, 1000.0,
                                   float("inf"), float("-inf")],
                        "strings": ["2222:22", "2222:22", "190:20:30.15", "1_0.5", "0x", "1.2.3"],
                        "nulls": [None, None, None, None]}
    assert all(type(v) is float for v in doc.data["floats"]) and all(type(v) is int for v in doc.data["ints"])
    default, _ = parse_yaml_text("a: [on, 2222:22]\n", "devenv.yaml")
    assert default is not None and default.data == {"a": [True, 133342]}  # devenv's own files: unchanged


def test_the_message_cut_at_its_boundaries() -> None:
    """A quoted value longer than 40 characters is cut (its first occurrence only) once the message
    passes 120; whatever still passes 160 is cut to 157 and '...'."""
    from jsonschema.exceptions import ValidationError

    from devenv.model.validate import _short

    def short(message: str, instance: object) -> str:
        return _short(ValidationError(message, instance=instance))

    v40, v41 = "a" * 38, "a" * 39  # their reprs: 40 and 41 characters
    assert short(f"{v40!r} " + "x" * 90, v40) == f"{v40!r} " + "x" * 90  # 131 > 120, value of 40: whole
    assert short(f"{v41!r} " + "x" * 90, v41) == f"'{'a' * 36}... " + "x" * 90
    twice = f"{v41!r} is {v41!r}, " + "x" * 60
    assert short(twice, v41) == f"'{'a' * 36}... is {v41!r}, " + "x" * 60
    assert short("m" * 160, 5) == "m" * 160
    assert short("m" * 161, 5) == "m" * 157 + "..."


def test_a_compose_file_read_from_disk_keeps_the_loader_it_was_given(tmp_path: Path) -> None:
    from devenv.model.yamlpos import compose_loader, load_yaml

    (tmp_path / "compose.yaml").write_text("ports: [2222:22]\nenv: {FEATURE: on}\n")
    doc, problems = load_yaml(tmp_path / "compose.yaml", "compose.yaml", compose_loader())
    assert problems == [] and doc is not None and doc.data == {"ports": ["2222:22"], "env": {"FEATURE": "on"}}
