"""More bad input, beside the corpus in ``test_validation_corpus.py`` (whose helpers this reuses).

Each case breaks one thing of the sample and must come back as a problem naming file, line, key
and fix. Then: Dockerfiles that are empty, binary, huge or missing FROM never crash the linter;
symlink loops in watched trees and build contexts never hang the walk; and through the real CLI a
broken project makes ``devenv up --detach`` exit non-zero without a traceback, having started and
written nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from devenv.build.dockerignore import context_files
from devenv.build.lint import lint_dockerfile
from tests.conftest import REPO
from tests.unit.test_validation_corpus import (
    ACME,
    APP,
    LOCAL,
    Case,
    Edit,
    add,
    both,
    build,
    expected_line,
    find,
    load,
    put,
    sub,
)

WEB_DF = "examples/shop/web/Dockerfile"
PERSONAL = "devenv.personal.yaml"


def self_loop(path: str) -> Edit:
    """Replace ``path`` by a symlink to itself."""
    def edit(root: Path) -> None:
        p = root / path
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        elif p.exists() or p.is_symlink():
            p.unlink()
        p.symlink_to(p.name)
    return edit


def C(name: str, file: str, edit: Edit, *expect: str, at: int | str | None = None, key: str | None = None,
      severity: str = "error") -> Case:
    return Case(name, file, edit, expect, at, key, severity)


BIG = "# " + "x" * (3 * 1024 * 1024) + "\n"

CASES = [
    # --- devenv.yaml: wrong types ----------------------------------------------------------------
    C("images-list", APP, sub(APP, "images:\n", "images: [base]\nx-old:\n"), "expected a mapping", "got a list",
      at="images: [base]", key="images"),
    C("components-string", APP, sub(APP, "components:\n  web:", "components: web\nx-c:\n  web:"),
      "expected a mapping", "the string 'web'", key="components"),
    C("ports-mapping", APP, sub(APP, "    ports:\n      - {name: http, container: 8000, http: true}\n"
                                     "    health: {http: /healthz, port: 8000, interval: 5}\n", "    ports: {http: 8000}\n"),
      "expected a list", "got a mapping", key="components.web.ports"),
    C("port-container-string", APP, sub(APP, "container: 5432", "container: pg"), "expected a whole number",
      at="container: pg", key="services.postgres.ports[0].container"),
    C("depends-string", APP, sub(APP, "depends_on: [postgres]", "depends_on: postgres"), "expected a list",
      key="components.web.depends_on"),
    C("http-not-bool", APP, sub(APP, "container: 8000, http: true}", "container: 8000, http: yes-please}"),
      "expected true or false", key="components.web.ports[0].http"),
    C("default-tenants-string", APP, sub(APP, "default_tenants: [acme, globex]", "default_tenants: acme"),
      "expected a list", at=3, key="default_tenants"),
    # --- devenv.yaml: out of range, names --------------------------------------------------------
    C("health-retries-zero", APP, sub(APP, "interval: 2, retries: 60", "interval: 2, retries: 0"),
      "0 is out of range", "at least 1", key="services.postgres.health.retries"),
    C("volume-target-missing", APP, sub(APP, "{name: redisdata, target: /data}", "{name: redisdata}"),
      "missing required key 'target'", key="services.redis.volumes[0].target"),
    C("app-name-long", APP, sub(APP, "name: shop", "name: " + "s" * 70), "longer than 63 characters", at=2, key="name"),
    C("component-name-not-dns", APP, sub(APP, "  scheduler:\n    image: scheduler", "  Sched_Uler:\n    image: scheduler"),
      "'Sched_Uler' is not a valid name", "sched-uler", key="components.Sched_Uler"),
    C("app-env-bad-name", APP, sub(APP, "DATABASE_NAME: shop", "DATABASE-NAME: shop"), "not a valid name",
      "DATABASE_NAME", key="env.DATABASE-NAME"),
    # --- devenv.yaml: paths, symlinks, Dockerfiles -----------------------------------------------
    C("watch-path-symlink-loop", APP, both(sub(APP, "{path: examples/shop/web/templates,", "{path: examples/shop/web/tloop,"),
                                           self_loop("examples/shop/web/tloop")),
      "cannot be resolved", "Symlink loop", key="components.web.watch[0].path"),
    C("context-symlink-loop", APP, both(sub(APP, "context: examples/shop/web\n", "context: examples/shop/webloop\n"),
                                        self_loop("examples/shop/webloop")),
      "cannot be resolved", at="examples/shop/webloop", key="images.web.context"),
    C("dockerfile-symlink-loop", APP, self_loop(WEB_DF), "Dockerfile 'Dockerfile' cannot be resolved",
      key="images.web.context"),
    C("dockerfile-symlink-out", APP, both(lambda r: (r.parent / "elsewhere").mkdir(exist_ok=True),
                                          lambda r: (r.parent / "elsewhere" / "Dockerfile").write_text("FROM scratch\n"),
                                          lambda r: (r / WEB_DF).unlink(),
                                          lambda r: (r / WEB_DF).symlink_to(r.parent / "elsewhere" / "Dockerfile")),
      "outside the project root", key="images.web.context"),
    C("dockerfile-is-directory", APP, both(lambda r: (r / WEB_DF).unlink(), lambda r: (r / WEB_DF).mkdir()),
      "no Dockerfile at examples/shop/web/Dockerfile", key="images.web.context"),
    C("target-stage-missing", APP, sub(APP, "context: examples/shop/web\n", "context: examples/shop/web\n    target: prod\n"),
      "no stage named 'prod'", at="target: prod", key="images.web.target", severity="warning"),
    # --- profiles ----------------------------------------------------------------------------------
    C("profile-malformed", ACME, put(ACME, "tenant: acme\nnamespace: [tenant-acme\n"), "not valid YAML", at=3),
    C("profile-3mib", ACME, put(ACME, "tenant: acme\n" + BIG), "larger than 2048 KiB"),
    C("profile-scalar-top", ACME, put(ACME, "acme\n"), "the string 'acme' at the top level", at=1),
    C("profile-secrets-mapping", ACME, sub(ACME, "secrets:\n", "secrets: {}\nx-secrets:\n"), "expected a list",
      at="secrets: {}", key="secrets"),
    C("profile-component-list", ACME, sub(ACME, "  web:\n    replicas: 3", "  web: [3]\n  x-web:\n    replicas: 3"),
      "expected a mapping", "got a list", key="components.web"),
    C("profile-env-bad-name", ACME, sub(ACME, "SHOP_CURRENCY: EUR", "SHOP CURRENCY: EUR"), "not a valid name",
      key="env.SHOP CURRENCY"),
    C("profile-secret-name-bad", ACME, sub(ACME, "{name: acme-payments,", "{name: Shop DB,"),
      "'Shop DB' is not a secret name", key="secrets[1].name"),
    # --- overlays ----------------------------------------------------------------------------------
    C("overlay-malformed", LOCAL, put(LOCAL, "defaults:\n  replicas: {web: 1\n"), "not valid YAML", at=3),
    C("overlay-not-utf8", LOCAL, put(LOCAL, b"defaults:\n  domain: \"caf\xe9.localhost\"\n"), "not UTF-8", "0xe9", at=2),
    C("overlay-3mib", LOCAL, put(LOCAL, "defaults: {}\n" + BIG), "larger than 2048 KiB"),
    C("overlay-tabs", LOCAL, put(LOCAL, "defaults:\n\treplicas: {web: 1}\n"), "tabs", at=2),
    C("overlay-two-documents", LOCAL, add(LOCAL, "---\ndefaults: {}\n"), "more than one YAML document", at="defaults: {}"),
    C("overlay-port-base-string", LOCAL, add(LOCAL, "  acme:\n    port_base: high\n"), "expected a whole number",
      at="port_base: high", key="tenants.acme.port_base"),
    C("overlay-secret-value-list", LOCAL, sub(LOCAL, "{password: devpass}", "{password: [devpass]}"), "got a list",
      key="defaults.secrets.shop-db.password"),
    C("overlay-drop-resources-string", LOCAL, sub(LOCAL, "drop_resources: true", "drop_resources: sometimes"),
      "expected true or false", key="defaults.drop_resources"),
    C("overlay-build-unknown", LOCAL, add(LOCAL, "    build: [wbe]\n"), "unknown component 'wbe'", "did you mean 'web'",
      key="tenants.globex.build[0]"),
    C("overlay-domain-bad", LOCAL, sub(LOCAL, 'domain: "{tenant}.localhost"', 'domain: "{tenant} local"'),
      "not a host name pattern", key="defaults.domain"),
    C("overlay-disable-string", LOCAL, add(LOCAL, "    disable: web\n"), "expected a list", key="tenants.globex.disable"),
    C("overlay-tenants-list", LOCAL, sub(LOCAL, "tenants:\n  globex:\n    env: {LOG_LEVEL: debug}", "tenants: [globex]"),
      "expected a mapping", key="tenants"),
    C("overlay-replicas-string", LOCAL, sub(LOCAL, "{web: 1,", "{web: one,"), "expected a whole number",
      key="defaults.replicas.web"),
    C("personal-malformed", PERSONAL, put(PERSONAL, "defaults: [\n"), "not valid YAML"),
    C("personal-port-collision", PERSONAL, put(PERSONAL, "tenants:\n  initech:\n    port_base: 18000\n"),
      "overlap", at=3, key="tenants.initech.port_base"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_more_bad_input_is_reported_with_file_line_key_and_fix(tmp_path: Path, case: Case) -> None:
    root = build(tmp_path, case)
    problems, error_text = load(root)
    problem = find(problems, case)
    assert problem.severity == case.severity
    assert (error_text is not None) == (case.severity == "error")
    assert problem.hint and "(fix: " in str(problem)
    if case.at is not None:
        assert problem.line == expected_line(root, case), str(problem)
        assert str(problem).startswith(f"{case.file}:{problem.line}:")
    if case.key is not None:
        assert problem.key == case.key, str(problem)


def test_corpus_and_these_cases_together_exceed_sixty() -> None:
    from tests.unit.test_validation_corpus import CASES as CORPUS_CASES

    names = [c.name for c in CORPUS_CASES] + [c.name for c in CASES]
    assert len(set(names)) == len(names) >= 60


# --- Dockerfiles the linter must survive -----------------------------------------------------------

@pytest.mark.parametrize("content", [b"", b"\xff\xfe\x00FROM x\n", b"RUN echo no-from\n",
                                     b"FROM debian:bookworm-slim\n" + b"RUN true\n" * 50_000,
                                     b"FROM debian:bookworm-slim\nRUN echo \\\n", b"\x00" * 4096])
def test_linter_never_raises_on_junk_dockerfiles(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "Dockerfile").write_bytes(content)
    for finding in lint_dockerfile(tmp_path / "Dockerfile", tmp_path):
        assert finding.fix


def test_linter_on_a_missing_dockerfile_says_so(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").mkdir()
    found = lint_dockerfile(tmp_path / "Dockerfile", tmp_path)
    assert [f.rule for f in found] == ["unreadable"] and found[0].fix


# --- symlink loops in watched trees and contexts ----------------------------------------------------

def make_loops(d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)
    (d / "self").symlink_to(".")
    (d / "up").symlink_to("..")
    (d / "a").symlink_to("b")
    (d / "b").symlink_to("a")
    (d / "real.txt").write_text("x\n")


def test_symlink_loops_in_a_context_never_hang_the_walk(tmp_path: Path) -> None:
    make_loops(tmp_path / "ctx" / "deep")
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM scratch\n")
    t0 = time.monotonic()
    files = context_files(tmp_path / "ctx", tmp_path / "ctx" / "Dockerfile")
    assert time.monotonic() - t0 < 5
    assert {"deep/real.txt", "deep/self", "deep/up", "deep/a", "deep/b"} <= set(files)  # links sent as links
    assert not [f for f in files if f.count("/") > 1]  # never followed


def test_symlink_loops_in_a_watched_tree_validate_clean(tmp_path: Path) -> None:
    """A loop inside a watched directory is not a config mistake: validate stays clean and fast."""
    from tests.unit.test_validation_corpus import project

    root = project(tmp_path)
    make_loops(root / "examples/shop/web/templates/deep")
    t0 = time.monotonic()
    cp = _cli(root, "validate")
    assert time.monotonic() - t0 < 30
    assert cp.returncode == 0, cp.stdout + cp.stderr


# --- through the real CLI: nothing started, nothing written -----------------------------------------

def _cli(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "DEVENV_ROOT"} | (env or {})
    return subprocess.run([sys.executable, "-m", "devenv.cli", *args], cwd=root, env=full, capture_output=True,
                          text=True, timeout=300)


UP_CASES = ["overlay-malformed", "profile-secrets-mapping", "context-symlink-loop", "personal-port-collision"]


@pytest.mark.docker
@pytest.mark.parametrize("name", UP_CASES)
def test_up_on_a_broken_project_starts_and_writes_nothing(tmp_path: Path, name: str, docker_engine: None) -> None:
    from tests.integration.helpers import project_containers

    case = next(c for c in CASES if c.name == name)
    root = build(tmp_path, case)
    app = f"bad{uuid.uuid4().hex[:8]}"
    (root / APP).write_text((root / APP).read_text().replace("name: shop", f"name: {app}", 1))
    cp = _cli(root, "up", "--detach", env={"DEVENV_PROJECT_PREFIX": app})
    assert cp.returncode != 0
    assert "Traceback" not in cp.stdout + cp.stderr
    assert f"{case.file}:" in cp.stderr and "fix:" in cp.stderr, cp.stderr
    assert project_containers(app) == []
    assert not list((root / ".devenv").rglob("compose.yaml")) if (root / ".devenv").exists() else True


@pytest.mark.docker
def test_a_broken_compose_fragment_stops_up_before_compose_runs(tmp_path: Path, docker_engine: None) -> None:
    """Fragments (compose/<component>.yaml) are read at render time: still no traceback, nothing started."""
    from tests.integration.helpers import project_containers
    from tests.integration.test_faults import remove_everything_of, write_tiny

    app = f"bad{uuid.uuid4().hex[:8]}"
    root = tmp_path / "proj"
    write_tiny(root, app, 39700)
    (root / "compose").mkdir()
    (root / "compose" / "web.yaml").write_text("shm_size: [128m\n")
    try:
        cp = _cli(root, "up", "--detach", env={"DEVENV_PROJECT_PREFIX": app})
        assert cp.returncode != 0
        assert "Traceback" not in cp.stdout + cp.stderr
        assert "compose/web.yaml" in cp.stderr and "hint:" in cp.stderr, cp.stderr
        assert project_containers(app) == []
        assert not (root / ".devenv" / "acme" / "compose.yaml").exists()
    finally:
        remove_everything_of(app)


# --- yamlpos on tiny texts: values, line numbers and every refusal whole (direct calls, fast) --------

def _parsed(text: str) -> tuple[object, dict[tuple[str | int, ...], int] | None, list[tuple[object, ...]]]:
    from devenv.model.yamlpos import parse_yaml_text

    doc, problems = parse_yaml_text(text, "x.yaml")
    return (None if doc is None else doc.data, None if doc is None else doc.positions.lines,
            [tuple(p) for p in problems])


MERGE_FIX = "point `<<:` at an anchored mapping, e.g. `x-defaults: &defaults {...}`"


@pytest.mark.parametrize(("text", "data", "lines", "problems"), [
    ("base: &b\n  x: 1\n  y: 2\nc:\n  <<: *b\n  y: 3\n", {"base": {"x": 1, "y": 2}, "c": {"y": 3, "x": 1}},
     {(): 1, ("base",): 1, ("base", "x"): 2, ("base", "y"): 3, ("c",): 4, ("c", "y"): 6, ("c", "x"): 2}, []),
    ("a: &a {x: 1}\nb: &b {x: 2, z: 3}\nc:\n  <<: [*a, *b]\n  w: 0\n",
     {"a": {"x": 1}, "b": {"x": 2, "z": 3}, "c": {"w": 0, "x": 1, "z": 3}},
     {(): 1, ("a",): 1, ("a", "x"): 1, ("b",): 2, ("b", "x"): 2, ("b", "z"): 2, ("c",): 3, ("c", "w"): 5, ("c", "x"): 1,
      ("c", "z"): 2}, []),
    ("a: 1\nb: 2\na: 3\n", {"a": 1, "b": 2}, {(): 1, ("a",): 1, ("b",): 2},
     [("x.yaml", 3, "a", "duplicate key 'a' (first at line 1)", "keep one of the two entries", "error")]),
    ("a: &a {x: 1}\nc:\n  <<: *a\n  <<: *a\n  y: 2\n", {"a": {"x": 1}, "c": {"y": 2, "x": 1}},
     {(): 1, ("a",): 1, ("a", "x"): 1, ("c",): 2, ("c", "y"): 5, ("c", "x"): 1},
     [("x.yaml", 4, "c.<<", "duplicate key '<<' (first at line 3)", "merge several mappings with one key: `<<: [*a, *b]`",
       "error")]),
    ("a: &s 1\nc:\n  <<: *s\n", {"a": 1, "c": {}}, {(): 1, ("a",): 1, ("c",): 2},
     [("x.yaml", 3, "c", "`<<` must merge a mapping (`<<: *anchor`) or a list of them", MERGE_FIX, "error")]),
    ("a: &s 1\nc:\n  <<: [*s]\n", {"a": 1, "c": {}}, {(): 1, ("a",): 1, ("c",): 2},
     [("x.yaml", 3, "c", "`<<` must merge a mapping (`<<: *anchor`) or a list of them", MERGE_FIX, "error")]),
    ("\n? [1, 2]\n: v\n1: one\n2.5: f\ntrue: t\n", {"1": "one", "2.5": "f", "True": "t"},
     {(): 2, ("1",): 4, ("2.5",): 5, ("True",): 6},
     [("x.yaml", 2, "", "mapping keys must be plain strings", "quote the key", "error")]),
    ("a: <<\nbase: &b\n  x:\n    y: 1\nc:\n  <<: *b\n", {"a": "<<", "base": {"x": {"y": 1}}, "c": {"x": {"y": 1}}},
     {(): 1, ("a",): 1, ("base",): 2, ("base", "x"): 3, ("base", "x", "y"): 4, ("c",): 5, ("c", "x"): 3, ("c", "x", "y"): 4},
     []),
    ("l:\n  - a\n  - {k: v}\n", {"l": ["a", {"k": "v"}]}, {(): 1, ("l",): 1, ("l", 0): 2, ("l", 1): 3, ("l", 1, "k"): 3}, []),
    ("? {a: 1, a: 2}\n: v\n", {}, {(): 1},
     [("x.yaml", 1, "<key>.a", "duplicate key 'a' (first at line 1)", "keep one of the two entries", "error"),
      ("x.yaml", 1, "", "mapping keys must be plain strings", "quote the key", "error")]),
    ("", None, {}, []),
    ("# nothing\n", None, {}, []),
    ("# one\n---\na: 1\n---\nb: 2\n", None, None,  # the line of the second document's first node
     [("x.yaml", 5, "", "the file holds more than one YAML document", "keep a single document (remove the extra '---')",
       "error")]),
    ("# one\na: !!int x\n", None, None,
     [("x.yaml", 2, "", "cannot read a value: invalid literal for int() with base 10: 'x'", "check the value's syntax", "error")]),
])
def test_yaml_values_lines_and_problems(text: str, data: object, lines: object, problems: list[tuple[object, ...]]) -> None:
    assert _parsed(text) == (data, lines, problems)


def test_a_problem_is_located_at_the_nearest_key_with_a_line() -> None:
    from devenv.model.yamlpos import parse_yaml_text

    doc, _ = parse_yaml_text("\na:\n  b: [1, 2]\n", "x.yaml")
    assert doc is not None
    assert tuple(doc.positions.problem(("a", "b", 1, "c"), "m")) == ("x.yaml", 3, "a.b[1].c", "m", "", "error")
    assert tuple(doc.positions.problem(("z",), "m", "h", "warning")) == ("x.yaml", 2, "z", "m", "h", "warning")
    assert doc.positions.line(()) == 2


@pytest.mark.parametrize(("count", "refused"), [(20, False), (21, True)])
def test_aliases_expand_up_to_the_node_budget(monkeypatch: pytest.MonkeyPatch, count: int, refused: bool) -> None:
    from devenv.model import yamlpos

    monkeypatch.setattr(yamlpos, "MAX_NODES", 20)
    # the list, its anchored 4-item list (5 nodes) shown 3 times in all, and count - 16 plain items
    text = "# top\n[" + "0, " * (count - 16) + "&a [1, 1, 1, 1], *a, *a]\n"
    want = ([("x.yaml", 2, "", "the document expands to more than 20 values",
              "aliases (*name) expand in place; use fewer nested aliases", "error")] if refused else [])
    data, _, problems = _parsed(text)
    assert problems == want and (data is None) == refused


def test_load_yaml_refuses_what_is_not_a_utf8_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from devenv.model import yamlpos

    def load(name: str, display: str | None = "shown.yaml") -> list[tuple[object, ...]]:
        doc, problems = yamlpos.load_yaml(tmp_path / name, display)
        assert doc is None
        return [tuple(p) for p in problems]

    monkeypatch.setattr(yamlpos, "MAX_BYTES", 2048)
    (tmp_path / "bad.yaml").write_bytes(b"a: 1\nb: \xff\n")
    assert load("bad.yaml") == [("shown.yaml", 2, "", "not UTF-8 text (byte 0xff at offset 8)", "save the file as UTF-8", "error")]
    (tmp_path / "big.yaml").write_bytes(b"#" * 2049)
    assert load("big.yaml") == [("shown.yaml", None, "", "the file is larger than 2 KiB, the limit for a config",
                                 "this is probably not a devenv config; check the path", "error")]
    assert load("missing.yaml", None) == [(str(tmp_path / "missing.yaml"), None, "", "cannot read the file: No such file or directory",
                                           "check the path", "error")]
    os.mkfifo(tmp_path / "fifo")
    assert load("fifo") == [("shown.yaml", None, "", "cannot read the file: it is a FIFO (named pipe), not a regular file",
                             "replace shown.yaml with a regular file (or remove it)", "error")]
    (tmp_path / "ok.yaml").write_bytes(b"#" * 2047 + b"\n")  # 2048 bytes: at the limit, read
    assert yamlpos.load_yaml(tmp_path / "ok.yaml", "ok.yaml") == (
        yamlpos.Document(tmp_path / "ok.yaml", None, yamlpos.Positions("ok.yaml")), [])
    (tmp_path / "a.yaml").write_text("a: 1\n")
    doc, problems = yamlpos.load_yaml(tmp_path / "a.yaml")
    assert problems == [] and doc == yamlpos.Document(tmp_path / "a.yaml", {"a": 1},
                                                      yamlpos.Positions(str(tmp_path / "a.yaml"), {(): 1, ("a",): 1}))


# --- limits: what Kubernetes, Compose and the registry refuse later, at the exact boundaries ---------

def _limits(text: str, kind: str, name: str) -> list[tuple[object, ...]]:
    from devenv.model.limits import check_document
    from devenv.model.yamlpos import parse_yaml_text

    doc, problems = parse_yaml_text(text, name, Path(name))
    assert doc is not None and problems == []
    return [tuple(p)[1:] for p in check_document(doc, kind)]


QUANTITY_FIX = "write e.g. 250m, 0.5, 512Mi or 1Gi"
BAD_TAG = "is not a valid image tag (letters, digits, '_', '.', '-'; not starting with '.' or '-')"


def test_app_limits_tags_names_nul_bytes_and_quantities() -> None:
    text = f"""components:
  web:
    ref: "r:{'t' * 129}"
    image: "r:.bad"
  db:
    ref: "r:{'t' * 128}"
    image: "r:a:b"
  x:
    ref: "{'a' * 256}"
  y:
    ref: "reg:5000/a/b:ok@sha256:00"
    image: "{'a' * 255}"
    env: {{A: "x\\0y", B: "reg:5000/x"}}
    resources:
      requests: {{cpu: 250m, memory: 1.5.5Gi}}
      limits: {{cpu: -1, memory: true, x: 1e3, y: .5, z: "+1Ki", w: [1], n: null}}
    other: {{requests: {{cpu: bad}}}}
"""
    assert _limits(text, "app", "devenv.yaml") == [
        (3, "components.web.ref", "the image tag is 129 characters long; the registry format allows 128",
         "use a shorter tag (or pin by @sha256: digest)", "error"),
        (4, "components.web.image", f"'.bad' {BAD_TAG}", "fix the tag", "error"),
        (7, "components.db.image", f"'a:b' {BAD_TAG}", "fix the tag", "error"),
        (9, "components.x.ref", "the image name is 256 characters long; the registry format allows 255",
         "use a shorter image name", "error"),
        (13, "components.y.env.A", "the value holds a NUL byte (\\0): a process's environment and argv end there",
         'remove the NUL byte (an escaped "\\0" in double quotes writes one)', "error"),
        (15, "components.y.resources.requests.memory", "'1.5.5Gi' is not a Kubernetes quantity (a number with an optional "
         "suffix: m, k, M, G, Ki, Mi, Gi, ... or an exponent)", QUANTITY_FIX, "error"),
        (16, "components.y.resources.limits.cpu", "'-1' is negative", "resources are zero or more", "error"),
        (16, "components.y.resources.limits.memory", "True is not a resource quantity", QUANTITY_FIX, "error"),
        (16, "components.y.resources.limits.w", "[1] is not a resource quantity", QUANTITY_FIX, "error"),
        (16, "components.y.resources.limits.n", "None is not a resource quantity", QUANTITY_FIX, "error"),
    ]


def test_profile_limits_replicas_domains_and_shadowed_envs() -> None:
    long_host = ".".join(["a" * 63] * 4)
    text = f"""replicas: 2147483648
components:
  web:
    replicas: -1
    ref: "r:.x"
    env: {{DB: x}}
    secrets: [{{env: DB}}, {{env: OK}}, {{env: TOP}}]
  db:
    replicas: 2147483647
    resources: {{limits: {{memory: 0}}}}
env: {{TOP: 1}}
secrets: [{{env: DB}}, {{env: TOP}}, 5, {{env: FREE}}]
domains:
  - {'a' * 64}.example.com
  - {'a' * 63}.example.com
  - {long_host[:253]}
  - {long_host[:254]}
"""
    shadows = "secret env '{0}' shadows the plain env '{0}' of the same profile"
    drop = "rename one of them, or drop '{0}' from env: a variable holds one value"
    too_long = "the host name '{0}...' is too long (at most 253 characters, 63 per dot-separated part)"
    assert _limits(text, "profile", "profiles/acme.yaml") == [
        (1, "replicas", "replicas 2147483648 is out of range: Kubernetes takes 0 to 2147483647 (int32)",
         "use a realistic replica count", "error"),
        (4, "components.web.replicas", "replicas -1 is out of range: Kubernetes takes 0 to 2147483647 (int32)",
         "use a realistic replica count", "error"),
        (5, "components.web.ref", f"'.x' {BAD_TAG}", "fix the tag", "error"),
        (14, "domains[0]", too_long.format(("a" * 64 + ".example.com")[:70]), "shorten the host name", "error"),
        (17, "domains[3]", too_long.format(long_host[:70]), "shorten the host name", "error"),
        (12, "secrets[0].env", shadows.format("DB"), drop.format("DB"), "error"),
        (12, "secrets[1].env", shadows.format("TOP"), drop.format("TOP"), "error"),
        (7, "components.web.secrets[0].env", shadows.format("DB"), drop.format("DB"), "error"),
        (7, "components.web.secrets[2].env", shadows.format("TOP"), drop.format("TOP"), "error"),
    ]


def test_overlay_limits_check_replicas_but_not_image_names() -> None:
    text = "replicas: {web: 2147483648, db: 0}\ntenants:\n  acme:\n    image: \"r:.x\"\n"
    assert _limits(text, "overlay", "devenv.local.yaml") == [
        (1, "replicas.web", "replicas 2147483648 is out of range: Kubernetes takes 0 to 2147483647 (int32)",
         "use a realistic replica count", "error")]


@pytest.mark.parametrize("text", [
    "secrets: [{env: A}]\n",  # no components: at all
    "components: [web]\nsecrets: [{env: A}]\n",  # components: of the wrong shape (the schema says so)
    "env: [A]\nsecrets: [{env: A}]\n",  # env: a list, so it sets no plain variable
    "env: 5\nsecrets: [{env: A}]\n",
])
def test_secret_envs_of_an_oddly_shaped_profile_shadow_nothing(text: str) -> None:
    """A profile whose ``env`` or ``components`` is absent or not a mapping: no false "shadows"
    finding and no crash (the schema reports the wrong shape)."""
    assert _limits(text, "profile", "profiles/acme.yaml") == []


def test_a_components_secret_env_shadows_only_its_own_components_env() -> None:
    text = """components:
  web:
    secrets: [{env: X}]
  db:
    env: {X: 1, Y: 2}
    secrets: [{env: Y}]
"""
    assert _limits(text, "profile", "profiles/acme.yaml") == [
        (6, "components.db.secrets[0].env", "secret env 'Y' shadows the plain env 'Y' of the same profile",
         "rename one of them, or drop 'Y' from env: a variable holds one value", "error")]


def test_the_users_own_keys_named_like_devenv_fields_are_not_checked_as_them() -> None:
    """An env var, build arg or label named ``image``/``ref``/``replicas`` is the user's: its value
    is not an image reference nor a replica count. A component named ``env`` is still checked."""
    app = """images:
  web: {context: web, args: {image: 'a:b c', replicas: -1}}
env: {ref: 'x:y z'}
components:
  web:
    image: web
    env: {image: 'a:b c', replicas: -1}
  env:
    ref: 'redis:bad tag'
"""
    assert _limits(app, "app", "devenv.yaml") == [
        (9, "components.env.ref", f"'bad tag' {BAD_TAG}", "fix the tag", "error")]
    profile = "env: {replicas: -1}\nlabels: {image: 'a:b c'}\ncomponents:\n  web: {env: {replicas: -5}, replicas: -1}\n"
    assert _limits(profile, "profile", "profiles/acme.yaml") == [
        (4, "components.web.replicas", f"replicas -1 is out of range: Kubernetes takes 0 to {2**31 - 1} (int32)",
         "use a realistic replica count", "error")]


@pytest.mark.parametrize(("ref", "ok"), [
    ("registry.example.com/shop/web:1.4.2", True), ("localhost:5000/team/app:1.0", True), ("redis:7-alpine", True),
    ("ghcr.io/org/repo/sub:v1.2.3_rc1", True), ("[::1]:5000/x", True), ("my_app__x/y-z", True),
    ("reg/a:b/c", False),  # a ':' in a middle part: Docker's "invalid reference format"
    ("shop//web", False), ("shop/web-", False), ("shop/.web", False),
    ("registry.example.com/a:b/c", False),  # a good host does not excuse a bad path
    ("registry.example.com/" + "w" * 70 + "//x", False),  # shown cut at 80 characters
])
def test_a_pinned_image_must_be_a_reference_docker_takes(ref: str, ok: bool) -> None:
    text = f"components:\n  web: {{image: '{ref}'}}\n"
    expected = [] if ok else [
        (2, "components.web.image", f"'{ref[:80]}' is not an image reference Docker takes (invalid reference format)",
         "write [registry[:port]/]path[:tag][@sha256:digest], path parts in lower case, "
         "e.g. registry.example.com/shop/web:1.4", "error")]
    assert _limits(text, "profile", "profiles/acme.yaml") == expected


def test_the_reference_check_leaves_to_the_schema_what_its_pattern_refuses() -> None:
    import json

    from devenv.model.limits import SCHEMA_REF

    schema = REPO / "devenv" / "schema"
    app = json.loads((schema / "devenv.schema.json").read_text())
    profile = json.loads((schema / "profile.schema.json").read_text())
    assert SCHEMA_REF.pattern == app["$defs"]["component"]["properties"]["ref"]["pattern"]
    assert SCHEMA_REF.pattern == profile["properties"]["components"]["additionalProperties"]["properties"]["image"][
        "pattern"]
    assert _limits("components:\n  web: {image: 'Shop/Web'}\n", "profile", "profiles/acme.yaml") == []
