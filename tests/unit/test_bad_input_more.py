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
