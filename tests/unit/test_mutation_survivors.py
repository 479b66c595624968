"""The bugs a mutation pass slipped past the suite (issue 16), each pinned by a test that fails
when the bug is put back: a nested ``node_modules/`` under a watch rule, two tenants sharing
exactly one host port, a 4-character secret in a log line. (The coalescer under a constant backlog
is pinned in ``test_coalesce.py``: ``test_a_constant_backlog_still_delivers_at_max_wait``.)"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pytest

from devenv.errors import ConfigError, Problem
from devenv.model.loader import load_project
from devenv.model.resolve import resolve
from devenv.model.types import WatchRule
from devenv.model.validate import (
    check_app,
    check_namespaces,
    check_overlay,
    check_profile,
    validate_documents,
)
from devenv.model.yamlpos import Document, parse_yaml_text
from devenv.secrets import MASK, Masker
from devenv.watch.ignore import never_ignored
from devenv.watch.mapping import plan_changes

SHOP = "examples/shop"


def _plan_with_rule(sample: Path, rule: WatchRule, rel: str) -> tuple[list[str], int]:
    """(container paths synced, paths ignored) for one modified file under ``rule``."""
    proj, _ = load_project(sample)
    comps = dict(proj.app.components)
    comps["web"] = type(comps["web"])(**{**comps["web"].__dict__, "watch": (rule,)})
    app = type(proj.app)(**{**proj.app.__dict__, "components": comps})
    specs = [resolve(type(proj)(app, proj.profiles, proj.overlay), "acme")]
    plan = plan_changes(app, specs, {app.root / rel: "modified"}, is_ignored=never_ignored)
    return [f[1] for s in plan.syncs for f in s.files], len(plan.ignored)


def test_a_node_modules_nested_under_the_rule_is_ignored_too(sample: Path) -> None:
    rule = WatchRule(f"{SHOP}/web/static", "sync", "/s", ignore=("node_modules/",))
    assert _plan_with_rule(sample, rule, f"{SHOP}/web/static/widgets/node_modules/x/i.js") == ([], 1)
    assert _plan_with_rule(sample, rule, f"{SHOP}/web/static/widgets/i.js") == (["/s/widgets/i.js"], 0)


def _pin_acme(sample: Path, port_base: int) -> list[str]:
    """Pin acme's port_base in the overlay; return the messages the load reports."""
    local = sample / "devenv.local.yaml"
    local.write_text(local.read_text() + f"  acme:\n    port_base: {port_base}\n")
    try:
        _project, warnings = load_project(sample)
    except ConfigError as exc:
        return [p.message for p in exc.problems]
    return [w.message for w in warnings]


def test_tenants_sharing_exactly_one_port_fail_validation(sample: Path) -> None:
    # globex publishes 18020-18022 (port_base 18000, 20 per tenant, 3 ports); acme pinned to
    # 18018 publishes 18018-18020: one port in common, the last of acme's and the first of globex's
    msgs = _pin_acme(sample, 18018)
    assert any("'acme' (18018-18020) and 'globex' (18020-18022) overlap" in m for m in msgs), msgs


def test_adjacent_port_ranges_pass(sample: Path) -> None:
    assert not [m for m in _pin_acme(sample, 18017) if "overlap" in m]


def test_a_four_character_secret_is_masked_and_a_three_character_one_is_not() -> None:
    masker = Masker(["abcd", "xyz"])
    assert masker.mask("password=abcd user=xyz") == f"password={MASK} user=xyz"


# --- validation's checks, called directly on tiny documents (fast: they kill a mutant in the first
# tests mutmut runs). Each finding is compared whole: line, dotted key, message, fix and severity. ---

def _doc(root: Path, text: str, name: str = "devenv.yaml") -> Document:
    doc, problems = parse_yaml_text(text, name, root / name)
    assert doc is not None and problems == []
    return doc


def _said(problems: Iterable[Problem]) -> list[tuple[int | None, str, str, str, str]]:
    return [(p.line, p.key, p.message, p.hint, p.severity) for p in problems]


def _in_files(problems: Iterable[Problem]) -> list[tuple[str, int | None, str, str, str, str]]:
    return [(p.file, p.line, p.key, p.message, p.hint, p.severity) for p in problems]


NEEDS_SOURCE = "needs `image` (an image of `images`) or `ref` (an image reference)"
NO_DOCKERFILE = "create it, or set `dockerfile:` to its path relative to the context"


def test_check_app_references_cycles_and_default_tenants(tmp_path: Path) -> None:
    app = _doc(tmp_path, """name: shop
images:
  web: {context: web, parent: base}
  base: {context: base, parent: web}
  self: {context: ., parent: self}
  orphan: {context: ., parent: nope}
components:
  web:
    image: web
    ref: r:1
    depends_on: [web, db, ghost, 3]
  worker:
    depends_on: [db]
  self:
    image: imgx
  orphan: {}
  db:
    ref: postgres:16
    depends_on: [worker]
    watch: [{path: x, action: sync}]
services:
  db: {ref: redis:7}
default_tenants: [acme, acne, zork, 7]
""")
    images = "images: base, orphan, self, web"
    assert _said(check_app(app, tmp_path, {"acme"})) == [
        (3, "images.web.context", "build context 'web' does not exist", "create the directory or fix the path", "error"),
        (4, "images.base.context", "build context 'base' does not exist", "create the directory or fix the path", "error"),
        (5, "images.self.parent", "image 'self' names itself as its parent", "name another image of `images`, or remove `parent`",
         "error"),
        (5, "images.self.context", "no Dockerfile at Dockerfile", NO_DOCKERFILE, "error"),
        (6, "images.orphan.parent", "unknown parent image 'nope'", images, "error"),
        (6, "images.orphan.context", "no Dockerfile at Dockerfile", NO_DOCKERFILE, "error"),
        (4, "images.base.parent", "image parent cycle: base -> web -> base",
         "one image of the chain must build from a plain FROM without a parent", "error"),
        (22, "services.db", "'db' is both a component and a service",
         "rename one of them: names are shared by components and services", "error"),
        (10, "components.web.ref", "sets both `image` and `ref`",
         "keep `image` to build from source, or `ref` to pull a published image", "error"),
        (11, "components.web.depends_on[0]", "'web' depends on itself", "remove it from depends_on", "error"),
        (11, "components.web.depends_on[2]", "unknown component or service 'ghost'",
         "components and services: db, orphan, self, web, worker", "error"),
        (12, "components.worker", NEEDS_SOURCE, "add `image:` naming one of `images`, or `ref: repo:tag`", "error"),
        (15, "components.self.image", "unknown image 'imgx'", images, "error"),
        (16, "components.orphan", NEEDS_SOURCE, "add `image: orphan`", "error"),
        (20, "components.db.watch[0].path", "watch path 'x' does not exist (yet)",
         "fix the path, or ignore this if it is created later", "warning"),
        (20, "components.db.watch[0].target", "action 'sync' needs `target`",
         "add `target:` with the absolute path in the container that `path` maps to", "error"),
        (20, "components.db.watch", "watch rules need a component built from source (`image:`)",
         "set `image:` to an image of `images`, or remove `watch`", "error"),
        (19, "components.db.depends_on", "depends_on cycle: db -> worker -> db",
         "remove one of these dependencies; nothing could start first", "error"),
        (23, "default_tenants[1]", "unknown tenant 'acne' (no profiles/acne.yaml)", "did you mean 'acme'? tenants: acme", "error"),
        (23, "default_tenants[2]", "unknown tenant 'zork' (no profiles/zork.yaml)",
         "add profiles/zork.yaml (e.g. `devenv import --tenant zork`) or remove it here", "warning"),
    ]


def test_check_app_on_a_clean_app_says_nothing(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE} AS dev\n")
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "Dockerfile").write_text("FROM debian:bookworm-slim\n")
    app = _doc(tmp_path, """name: shop
images:
  base: {context: base}
  web: {context: web, parent: base, target: dev}
components:
  web:
    image: web
    ports: [{name: http, container: 80}]
    health: {http: /h, port: 80}
    depends_on: [db]
    watch: [{path: web, action: sync, target: /app}, {path: "web/**/*.py", action: rebuild}]
  db: {ref: "postgres:16", volumes: [{name: data, target: /d}]}
default_tenants: [acme]
""")
    assert _said(check_app(app, tmp_path, {"acme"})) == []


def test_health_ports_volumes_and_watch_rules_of_a_component(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    app = _doc(tmp_path, """name: shop
images:
  h: {}
components:
  a:
    ref: r
    ports: [{name: http, container: 80}, {name: admin, container: 8080}]
    health: {http: /h, cmd: x}
  b:
    ref: r
    health: {timeout: 3}
  c:
    ref: r
    ports: [{name: http, container: 80}]
    health: {http: /h}
  d:
    ref: r
    health: {http: /h}
  e:
    ref: r
    ports: [{name: http, container: 80}, {name: http, container: 80}, {name: x, container: 81.0}]
    health: {cmd: x, port: 81}
  f:
    ref: r
    ports: [{name: http, container: 80}, {name: admin, container: 8080}]
    health: {cmd: x, port: 9}
  g:
    ref: r
    volumes: [{name: data, target: /d}, {name: data, target: /e}, {name: other, target: /d}]
  n:
    ref: r
    health: {cmd: x, port: 9}
  h:
    image: h
    watch:
      - {path: ../out, action: sync+exec}
      - {path: "src/**/*.py", action: sync+restart, target: /app}
      - {path: src, action: sync+exec, target: /app, exec: [x]}
      - {path: "nope/*.py", action: rebuild}
      - {path: "nope/x.py", action: sync, target: /a}
""")
    root = tmp_path.resolve()
    use_listed = "use a container port listed under `ports`, or add it there"
    assert _said(check_app(app, root, set())) == [
        (8, "components.a.health", "sets both `http` and `cmd`", "keep one kind of check", "error"),
        (8, "components.a.health.http", "an HTTP check needs `port`", "add `port: 80`", "error"),
        (11, "components.b.health", "has no check: set `http` (with `port`) or `cmd`",
         "e.g. health: {http: /healthz, port: 8000}", "error"),
        (15, "components.c.health.http", "an HTTP check needs `port`", "add `port: 80`", "error"),
        (18, "components.d.health.http", "an HTTP check needs `port`", "add `port:` and list it under `ports`", "error"),
        (21, "components.e.ports[1].name", "port name 'http' is used twice (also ports[0])",
         "give each port of a component its own name", "error"),
        (21, "components.e.ports[1].container", "container port 80 is listed twice (also ports[0])",
         "list each container port once", "error"),
        (26, "components.f.health.port", "port 9 is not one of the component's ports (80, 8080)", use_listed, "error"),
        (29, "components.g.volumes[1].name", "volume name 'data' is used twice (also volumes[0])",
         "give each volume its own name", "error"),
        (29, "components.g.volumes[2].target", "volume target '/d' is used twice (also volumes[0])",
         "give each volume its own target", "error"),
        (32, "components.n.health.port", "port 9 is not one of the component's ports (none)", use_listed, "error"),
        (36, "components.h.watch[0].path",
         f"watch path '../out' resolves to {root.parent / 'out'}, outside the project root {root}",
         "watch paths are relative to the project root", "error"),
        (36, "components.h.watch[0].target", "action 'sync+exec' needs `target`",
         "add `target:` with the absolute path in the container that `path` maps to", "error"),
        (36, "components.h.watch[0].exec", "action 'sync+exec' needs `exec`",
         "add `exec:` with the command to run after the sync", "error"),
        (40, "components.h.watch[4].path", "watch path 'nope/x.py' does not exist (yet)",
         "fix the path, or ignore this if it is created later", "warning"),
    ]


PROFILE_KEYS = "known keys: components, domains, env, features, labels, namespace, node_selector, secrets, seed, tenant"


def test_check_profile_names_a_wrong_tenant_unknown_components_and_shared_secret_envs(tmp_path: Path) -> None:
    doc = _doc(tmp_path, """tenant: acne
namespace: n
mystery: 1
components:
  wbe: {replicas: 1}
  web: {surprise: 2}
secrets:
  - {name: s, key: k, env: DB}
  - {name: s, key: j, env: DB}
  - {name: s, key: l, env: DC}
  - {name: s, key: m, env: DC}
""", "profiles/acme.yaml")
    comp_keys = ("known keys: affinity, enabled, env, image, kind, node_selector, probes, replicas, resources, secrets, "
                 "service_account, tolerations")
    one_key = "each environment variable can hold one secret key"
    assert _said(check_profile("acme", doc, {"web": {}, "db": {}}, True)) == [
        (6, "components.web.surprise", "unknown key 'surprise' (ignored: production may know it)", comp_keys, "warning"),
        (3, "mystery", "unknown key 'mystery' (ignored: production may know it)", PROFILE_KEYS, "warning"),
        (1, "tenant", "says tenant 'acne' but the file is profiles/acme.yaml",
         "the file name is the tenant: rename the file to acne.yaml or set `tenant: acme`", "error"),
        (5, "components.wbe", "component 'wbe' is not in devenv.yaml (ignored locally)",
         "did you mean 'web'? components and services: db, web", "warning"),
        (9, "secrets[1].env", "env 'DB' already receives secrets[0]", one_key, "error"),
        (11, "secrets[3].env", "env 'DC' already receives secrets[2]", one_key, "error"),
    ]
    # without strict production's unknown keys are ignored; without devenv.yaml nothing is a reference
    assert [p.key for p in check_profile("acme", doc, None, False)] == ["tenant", "secrets[1].env", "secrets[3].env"]


@pytest.mark.parametrize(("text", "want"), [
    ("", (None, "", "the profile is empty", "write the tenant's settings, at least `namespace: tenant-acme`", "error")),
    ("- a\n", (1, "", "a profile is a mapping of settings, got a list at the top level",
               "write `key: value` lines (tenant:, namespace:, components:, ...)", "error")),
])
def test_a_profile_that_is_not_a_mapping_is_one_problem(tmp_path: Path, text: str, want: tuple) -> None:
    assert _said(check_profile("acme", _doc(tmp_path, text, "profiles/acme.yaml"), {}, True)) == [want]


def test_check_overlay_names_unknown_tenants_components_and_secret_files(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("x")
    (tmp_path / "dir").mkdir()
    doc = _doc(tmp_path, """defaults:
  replicas: {wbe: 2}
  secrets:
    s: {k: {file: ../x}}
tenants:
  acme:
    build: [web, dbb]
    disable: [db, 3]
    secrets:
      s: {k: {file: missing.txt}, j: {file: secret.txt}, l: plain, d: {file: dir}}
  glob: {}
""", "devenv.local.yaml")
    root = tmp_path.resolve()
    comps = {"web": {}, "db": {}}
    assert _said(check_overlay(doc, {"acme", "globex"}, comps)) == [
        (8, "tenants.acme.disable[1]", "expected a string, got the number 3", "see docs/config.md for this field", "error"),
        (2, "defaults.replicas.wbe", "unknown component 'wbe'", "did you mean 'web'? components and services: db, web", "error"),
        (4, "defaults.secrets.s.k.file", f"secret file '../x' resolves to {root.parent / 'x'}, outside the project root {root}",
         "keep the file inside the project", "error"),
        (10, "tenants.acme.secrets.s.k.file", "secret file 'missing.txt' does not exist",
         "create it with the dev value, or give the value itself", "error"),
        (10, "tenants.acme.secrets.s.d.file", "secret file 'dir' does not exist",
         "create it with the dev value, or give the value itself", "error"),
        (7, "tenants.acme.build[1]", "unknown component 'dbb'", "did you mean 'db'? components and services: db, web", "error"),
        (11, "tenants.glob", "unknown tenant 'glob' (no profiles/glob.yaml)", "did you mean 'globex'? tenants: acme, globex",
         "error"),
    ]
    # without devenv.yaml, component names are not checked; an empty overlay is fine
    assert [p.key for p in check_overlay(doc, {"acme", "globex"}, None)] == [
        "tenants.acme.disable[1]", "defaults.secrets.s.k.file", "tenants.acme.secrets.s.k.file",
        "tenants.acme.secrets.s.d.file", "tenants.glob"]
    assert list(check_overlay(_doc(tmp_path, "", "devenv.local.yaml"), set(), None)) == []


def test_two_profiles_sharing_a_namespace_name_the_second(tmp_path: Path) -> None:
    profiles = {"b": _doc(tmp_path, "namespace: shared\n", "profiles/b.yaml"),
                "a": _doc(tmp_path, "namespace: shared\n", "profiles/a.yaml"),
                "c": _doc(tmp_path, "tenant: c\n", "profiles/c.yaml"),
                "d": _doc(tmp_path, "namespace: tenant-c\n", "profiles/d.yaml"),
                "e": _doc(tmp_path, "namespace: ''\n", "profiles/e.yaml")}
    again = "every tenant needs its own namespace: change one of them"
    assert _in_files(check_namespaces(profiles)) == [
        ("profiles/b.yaml", 1, "namespace", "namespace 'shared' is already tenant 'a's", again, "error"),
        ("profiles/d.yaml", 1, "namespace", "namespace 'tenant-c' is already tenant 'c's", again, "error")]


def _project(root: Path) -> tuple[Document, dict[str, Document], list[Document]]:
    (root / "profiles").mkdir()
    (root / "profiles" / "broken.yaml").write_text("x")  # a profile that failed to load still names a tenant
    (root / "profiles" / "notes.txt").write_text("x")  # not a profile
    app = _doc(root, "name: shop\nports_per_tenant: 1\ncomponents:\n  web:\n    ref: r:1\n"
                     "    ports: [{name: http, container: 80}, {name: x, container: 81}]\ndefault_tenants: [broken, notes]\n"
                     "env: {A: \"x\\0y\"}\n")
    acme = _doc(root, "namespace: shared\nmystery: 1\nreplicas: -1\ncomponents:\n  wbe: {}\n", "profiles/acme.yaml")
    globex = _doc(root, "namespace: shared\n", "profiles/globex.yaml")
    local = _doc(root, "tenants:\n  broken: {}\n  nobody: {}\n  acme:\n    replicas: {wbe: 1}\n", "devenv.local.yaml")
    return app, {"globex": globex, "acme": acme}, [local]


PROJECT_PROBLEMS = [
    ("devenv.yaml", 7, "default_tenants[1]", "unknown tenant 'notes' (no profiles/notes.yaml)",
     "add profiles/notes.yaml (e.g. `devenv import --tenant notes`) or remove it here", "warning"),
    ("profiles/acme.yaml", 5, "components.wbe", "component 'wbe' is not in devenv.yaml (ignored locally)",
     "did you mean 'web'? components and services: web", "warning"),
    ("profiles/globex.yaml", 1, "namespace", "namespace 'shared' is already tenant 'acme's",
     "every tenant needs its own namespace: change one of them", "error"),
    ("devenv.local.yaml", 3, "tenants.nobody", "unknown tenant 'nobody' (no profiles/nobody.yaml)",
     "tenants: acme, broken, globex", "error"),
    ("devenv.local.yaml", 5, "tenants.acme.replicas.wbe", "unknown component 'wbe'",
     "did you mean 'web'? components and services: web", "error"),
    ("devenv.yaml", 2, "ports_per_tenant", "the app publishes 2 ports per tenant but ports_per_tenant is 1",
     "set ports_per_tenant to at least 2", "error"),
    ("devenv.yaml", 1, "port_base", "host ports of tenants 'acme' (18000-18001) and 'globex' (18001-18002) overlap",
     "raise ports_per_tenant to cover every component port", "error"),
    ("devenv.yaml", 8, "env.A", "the value holds a NUL byte (\\0): a process's environment and argv end there",
     'remove the NUL byte (an escaped "\\0" in double quotes writes one)', "error"),
    ("profiles/acme.yaml", 3, "replicas", "replicas -1 is out of range: Kubernetes takes 0 to 2147483647 (int32)",
     "use a realistic replica count", "error"),
]


def test_validate_documents_reports_every_file_in_order(tmp_path: Path) -> None:
    app, profiles, overlays = _project(tmp_path)
    assert _in_files(validate_documents(app, profiles, overlays)) == PROJECT_PROBLEMS


def test_validate_documents_strict_adds_production_keys_as_warnings(tmp_path: Path) -> None:
    app, profiles, overlays = _project(tmp_path)
    unknown = [("profiles/acme.yaml", line, key, f"unknown key '{key}' (ignored: production may know it)", PROFILE_KEYS,
                "warning") for line, key in ((2, "mystery"), (3, "replicas"))]
    assert _in_files(validate_documents(app, profiles, overlays, strict=True)) == PROJECT_PROBLEMS[:1] + unknown + \
        PROJECT_PROBLEMS[1:]


def test_validate_documents_without_a_usable_app_checks_the_rest(tmp_path: Path) -> None:
    app, profiles, overlays = _project(tmp_path)
    replicas = PROJECT_PROBLEMS[-1]
    nobody = ("devenv.local.yaml", 3, "tenants.nobody", "unknown tenant 'nobody' (no profiles/nobody.yaml)")
    assert _in_files(validate_documents(_doc(tmp_path, "- a\n"), {"acme": profiles["acme"]}, overlays)) == [
        ("devenv.yaml", 1, "", "devenv.yaml must be a mapping at the top level, got a list",
         "write `key: value` lines (name:, images:, components:, ...)", "error"),
        (*nobody, "tenants: acme, broken", "error"), replicas]
    assert _in_files(validate_documents(None, {"acme": profiles["acme"]}, overlays)) == [
        ("devenv.yaml", None, "", "devenv.yaml is missing or unreadable, so the checks that need it were skipped",
         "create devenv.yaml at the project root, or fix the problem reported for it", "error"),
        ("devenv.local.yaml", 2, "tenants.broken", "unknown tenant 'broken' (no profiles/broken.yaml)", "tenants: acme", "error"),
        (*nobody, "tenants: acme", "error"), replicas]
    assert _in_files(validate_documents(_doc(tmp_path, ""), {}, [])) == [
        ("devenv.yaml", None, "", "devenv.yaml is empty", "write at least `name: <app>` (see docs/config.md)", "error")]


def test_a_bug_in_one_check_is_one_problem_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from devenv.model import validate

    def broken(*_args: object) -> Iterable[Problem]:
        raise RuntimeError("boom")

    app, profiles, overlays = _project(tmp_path)
    monkeypatch.setattr(validate, "check_namespaces", broken)
    got = _in_files(validate_documents(app, profiles, overlays))
    assert got == PROJECT_PROBLEMS[:2] + [("profiles", None, "", "internal error while validating: RuntimeError('boom')",
                                           "this is a devenv bug; please report it with the file", "error")] + PROJECT_PROBLEMS[3:]


def test_image_contexts_and_dockerfiles_inside_the_project(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    for d in ("a", "b", "c", "e"):
        (root / d).mkdir()
    (root / "a" / "Dockerfile").write_text("FROM x\nRUN y\n")
    (root / "b" / "Dockerfile").write_text("ARG PARENT\nFROM ${PARENT} AS dev\nRUNN x\n")
    (root / "c" / "Dockerfile.dev").mkdir()
    os.mkfifo(root / "e" / "Dockerfile")
    (root / "file").write_text("x")
    app = _doc(root, """name: shop
images:
  a: {context: a, parent: b, target: prod}
  b: {context: b, parent: a, parent_arg: PARENT, target: dev}
  c: {context: c, dockerfile: Dockerfile.dev}
  d: {context: ../out}
  e: {context: e}
  f: {context: file}
  g: {context: a, dockerfile: ../../x}
components:
  web: {image: a}
""")
    fix = "create it, or set `dockerfile:` to its path relative to the context"
    assert _in_files(check_app(app, root, set())) == [
        ("devenv.yaml", 3, "images.a.parent", "the Dockerfile never declares `ARG BASE_IMAGE`, so the parent image is not used",
         "add `ARG BASE_IMAGE` and `FROM ${BASE_IMAGE}` to Dockerfile", "warning"),
        ("devenv.yaml", 3, "images.a.target", "the Dockerfile has no stage named 'prod'",
         "add `FROM ... AS prod` to Dockerfile or fix `target`", "warning"),
        ("b/Dockerfile", 3, "unknown-instruction", "unknown instruction `RUNN`", "did you mean `RUN`?", "error"),
        ("devenv.yaml", 5, "images.c.dockerfile", "no Dockerfile at c/Dockerfile.dev: it is a directory, not a regular file",
         fix, "error"),
        ("devenv.yaml", 6, "images.d.context", f"build context '../out' resolves to {root.parent / 'out'}, outside the project "
         f"root {root}", "keep build contexts inside the project (a context sends its files to the engine)", "error"),
        ("devenv.yaml", 7, "images.e.context", "no Dockerfile at e/Dockerfile: it is a FIFO (named pipe), not a regular file",
         fix, "error"),
        ("devenv.yaml", 8, "images.f.context", "build context 'file' is not a directory", "create the directory or fix the path",
         "error"),
        ("devenv.yaml", 9, "images.g.dockerfile", f"Dockerfile '../../x' resolves to {root.parent / 'x'}, outside the project "
         f"root {root}", "keep the Dockerfile inside the project", "error"),
        ("devenv.yaml", 3, "images.a.parent", "image parent cycle: a -> b -> a",
         "one image of the chain must build from a plain FROM without a parent", "error"),
    ]


def test_a_dockerfile_past_the_size_limit_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from devenv.model import validate

    monkeypatch.setattr(validate, "MAX_DOCKERFILE", 2048)
    (tmp_path / "a").mkdir()
    app = _doc(tmp_path, "name: shop\nimages:\n  a: {context: a, target: x}\n")
    (tmp_path / "a" / "Dockerfile").write_text("FROM x AS x\n" + "#" * (2048 - 13) + "\n")  # 2048 bytes: read
    assert _in_files(check_app(app, tmp_path, set())) == []
    (tmp_path / "a" / "Dockerfile").write_text("FROM x AS x\n" + "#" * (2048 - 12) + "\n")  # 2049
    assert _in_files(check_app(app, tmp_path, set())) == [
        ("a/Dockerfile", None, "", "the Dockerfile is larger than 2 KiB",
         "check `dockerfile:` in devenv.yaml points at a Dockerfile", "error")]


def test_schema_problems_of_the_app_profile_and_overlay(tmp_path: Path) -> None:
    from devenv.model.validate import structural

    app = _doc(tmp_path, "name: a\nnmae: x\nx-anchors: {}\nimages:\n  " + "a" * 64 + ": {}\ncomponents:\n  web:\n"
               "    ref: r\n    ports: [{}]\n    depends_on: [db, db]\n    restart: alwys\n    nope: 1\n")
    long = "a" * 64
    assert _said(structural(app, "devenv")) == [
        (2, "nmae", "unknown key 'nmae'", "did you mean 'name'? known keys: components, default_tenants, env, images, name, "
         "port_base, ports_per_tenant, services", "error"),
        (5, f"images.{long}", f"'{long}' is not a valid name: expected a name of at most 63 characters",
         "rename it, see docs/config.md", "error"),
        (5, f"images.{long}.context", "missing required key 'context'",
         "add 'context:' here (Build context directory, relative to the project root (must stay inside it).)", "error"),
        (9, "components.web.ports[0].name", "missing required key 'name'",
         "add 'name:' here (The port's name (at most 15 characters: lower-case letters, digits and '-').)", "error"),
        (9, "components.web.ports[0].container", "missing required key 'container'",
         "add 'container:' here (The port inside the container.)", "error"),
        (9, "components.web.ports[0].name", "missing required key 'name'",
         "add 'name:' here (The port's name (at most 15 characters: lower-case letters, digits and '-').)", "error"),
        (9, "components.web.ports[0].container", "missing required key 'container'",
         "add 'container:' here (The port inside the container.)", "error"),
        (10, "components.web.depends_on", 'the list names "db" more than once', "remove the repeated entries", "error"),
        (11, "components.web.restart", "'alwys' is not one of: no, always, on-failure, unless-stopped",
         "did you mean 'always'? choose one of: always, no, on-failure, unless-stopped", "error"),
        (12, "components.web.nope", "unknown key 'nope'", "known keys: command, depends_on, entrypoint, env, health, image, "
         "live_update, ports, ref, restart, user, volumes, ...", "error"),
    ]
    seed = ("expected: Data the tenant gets on its first local start (devenv only; production ignores it): a SQL file "
            "(project-relative) loaded into the tenant's Postgres, or a command run in one of its components. Runs once per "
            "fresh data volume; `devenv data seed` reruns it.")
    profile = _doc(tmp_path, "seed: 5\ntenant: a\nsurprise: 1\ncomponents: {web: {wat: 1}}\n", "profiles/a.yaml")
    assert _said(structural(profile, "profile", tolerant=True)) == [
        (1, "seed", "expected a string or a mapping (key: value), got the number 5", seed, "error")]
    local = _doc(tmp_path, "defaults: {nope: 1}\nx-y: 1\n", "devenv.local.yaml")
    assert _said(structural(local, "overlay")) == [
        (1, "defaults.nope", "unknown key 'nope'",
         "known keys: build, disable, domain, drop_resources, env, port_base, replicas, secrets", "error")]


def test_what_the_user_wrote_in_words() -> None:
    import datetime

    from devenv.model.validate import describe, did_you_mean

    assert [describe(x) for x in (None, True, {}, [], "s", 1.5, 3, datetime.date(2024, 1, 2), b"x")] == [
        "nothing (an empty value)", "true (a boolean)", "a mapping", "a list", "the string 's'", "the number 1.5",
        "the number 3", "the date 2024-01-02", "b'x' (a bytes; quote it to make it a string)"]
    assert did_you_mean("x", [f"o{i}" for i in range(13)], "opts") == \
        "opts: o0, o1, o10, o11, o12, o2, o3, o4, o5, o6, o7, o8, ..."
    assert did_you_mean("x", [f"o{i}" for i in range(12)], "opts") == "opts: o0, o1, o10, o11, o2, o3, o4, o5, o6, o7, o8, o9"
    assert did_you_mean("x", [], "opts") == "there are none yet"
    assert did_you_mean("o1", ["o1x", 3, "zz"], "opts") == "did you mean 'o1x'? opts: o1x, zz"


def test_ports_past_65535_and_pins_from_the_last_overlay(tmp_path: Path) -> None:
    from devenv.model.validate import check_host_ports

    app = _doc(tmp_path, "name: a\nport_base: 65500\nports_per_tenant: 20\ncomponents:\n  web:\n    ref: r\n"
               "    ports: [{name: http, container: 80}, {name: x, container: 81}, {name: x, container: 82}]\n")
    assert _said(check_host_ports(app, ["b", "a", "c"], [])) == [
        (2, "port_base", "tenant 'c' would publish ports 65540-65541, past 65535",
         "lower port_base (or ports_per_tenant) so every tenant's ports fit", "error")]
    # a tenant's own pin beats `defaults`; a later overlay's `defaults` beats an earlier one's
    first = _doc(tmp_path, "defaults:\n  port_base: 20000\ntenants:\n  a:\n    port_base: 30000\n", "devenv.local.yaml")
    later = _doc(tmp_path, "\ndefaults:\n  port_base: 40000\n", "devenv.personal.yaml")
    assert _in_files(check_host_ports(app, ["a", "b", "c"], [first, later])) == [
        ("devenv.personal.yaml", 3, "defaults.port_base", "host ports of tenants 'b' (40000-40001) and 'c' (40000-40001) overlap",
         "pin port_base per tenant under `tenants.<name>`, not under `defaults`", "error")]


@pytest.mark.parametrize(("base", "past"), [(65532, False), (65533, True)])
def test_the_last_host_port_may_be_65535(tmp_path: Path, base: int, past: bool) -> None:
    from devenv.model.validate import check_host_ports

    app = _doc(tmp_path, f"name: a\nport_base: {base}\ncomponents:\n  web:\n    ref: r\n    ports: [{{name: http, container: 80}}, "
               "{name: y, container: 81}, {name: x, container: 82}]\nservices:\n  db: {ref: r, ports: [{name: p, container: 5432}]}\n")
    assert _said(check_host_ports(app, ["a"], [])) == ([
        (2, "port_base", f"tenant 'a' would publish ports {base}-{base + 3}, past 65535",
         "lower port_base (or ports_per_tenant) so every tenant's ports fit", "error")] if past else [])


@pytest.mark.parametrize(("rule", "want"), [
    ({"path": " src ", "action": "sync", "target": "/a"}, []),  # spaces around the path are not part of it
    ({"path": "src/**/*.py", "action": "sync+restart", "target": "/a"}, []),
    ({"path": "*.py", "action": "rebuild"}, []),
    ({"path": "nope/*.py", "action": "rebuild"}, []),  # a glob may match files created later
    ({"path": "", "action": "rebuild"}, []),
    ({"path": "src", "action": "sync+exec", "target": "/a", "exec": ["x"]}, []),
    ({"path": "src", "action": "rebuild", "target": None}, []),
    ({"path": "nope", "action": "sync", "target": "/a"},
     [((7, "w.path"), "watch path 'nope' does not exist (yet)", "fix the path, or ignore this if it is created later", "warning")]),
    ({"path": "../*.py", "action": "rebuild"},
     [((7, "w.path"), "watch path '../*.py' resolves to {parent}, outside the project root {root}",
       "watch paths are relative to the project root", "error")]),
    ({"path": "src", "action": "sync+exec", "target": "/a"},
     [((7, "w.exec"), "action 'sync+exec' needs `exec`", "add `exec:` with the command to run after the sync", "error")]),
    ({"path": "src", "action": "sync+restart"},
     [((7, "w.target"), "action 'sync+restart' needs `target`",
       "add `target:` with the absolute path in the container that `path` maps to", "error")]),
])
def test_check_watch_rule_by_rule(tmp_path: Path, rule: dict[str, object], want: list[tuple]) -> None:
    from devenv.model.validate import check_watch

    root = tmp_path.resolve()
    (root / "src").mkdir()
    pos = _doc(root, "\n" * 6 + "w: 1\n").positions
    got = [((p.line, p.key), p.message, p.hint, p.severity) for p in check_watch(("w",), rule, root, pos)]
    assert got == [(w[0], w[1].format(parent=root.parent, root=root), w[2], w[3]) for w in want]


def test_the_parent_arg_and_the_target_stage_are_matched_as_whole_words(tmp_path: Path) -> None:
    for d, text in (("a", "ARG BASE_IMAGEX\nFROM x AS devx\n"), ("b", "ARG BASE_IMAGE\nfrom ${BASE_IMAGE} as DEV  \n"),
                    ("c", "ARG P\nFROM x\n"), ("z", "FROM x\n")):
        (tmp_path / d).mkdir()
        (tmp_path / d / "Dockerfile").write_text(text)
    app = _doc(tmp_path, "name: s\nimages:\n  z: {context: z}\n  a: {context: a, parent: z, target: dev}\n"
                         "  b: {context: b, parent: z, target: dev}\n  c: {context: c, parent: z, parent_arg: P}\n")
    assert _said(check_app(app, tmp_path, set())) == [
        (4, "images.a.parent", "the Dockerfile never declares `ARG BASE_IMAGE`, so the parent image is not used",
         "add `ARG BASE_IMAGE` and `FROM ${BASE_IMAGE}` to Dockerfile", "warning"),
        (4, "images.a.target", "the Dockerfile has no stage named 'dev'", "add `FROM ... AS dev` to Dockerfile or fix `target`",
         "warning")]


# --- gaps the mutation review of the model found (review-validate.md): nothing lost, nothing hidden ----

def _project_files(root: Path, files: dict[str, str]) -> Path:
    for rel_path, text in files.items():
        (root / rel_path).parent.mkdir(parents=True, exist_ok=True)
        (root / rel_path).write_text(text)
    return root


def test_a_profile_after_a_tenant_defined_twice_is_still_loaded(tmp_path: Path) -> None:
    """acme.yaml + acme.yml is one problem; beta.yml, read after the twin, must not vanish."""
    from devenv.model.loader import read_documents

    root = _project_files(tmp_path, {"devenv.yaml": "name: a\n", "profiles/acme.yaml": "namespace: a\n",
                                     "profiles/acme.yml": "namespace: a\n", "profiles/beta.yml": "namespace: b\n"})
    _app, profiles, _overlays, problems = read_documents(root)
    assert {name: doc.data for name, doc in profiles.items()} == {"acme": {"namespace": "a"}, "beta": {"namespace": "b"}}
    assert problems == [Problem("profiles/acme.yml", None, "", "tenant 'acme' is defined twice (also in profiles/acme.yaml)",
                                "keep one of the two files")]


def test_profiles_as_a_plain_file_is_one_problem_naming_the_fix(tmp_path: Path) -> None:
    from devenv.model.loader import read_documents

    root = _project_files(tmp_path, {"devenv.yaml": "name: a\n", "profiles": "acme\n"})
    assert read_documents(root)[1:] == ({}, [], [Problem(
        "profiles", None, "", "profiles is not a directory", "make profiles/ a directory holding one <tenant>.yaml per tenant")])


def test_keys_after_a_duplicate_key_are_kept_and_checked() -> None:
    doc, problems = parse_yaml_text("a: 1\na: 2\nb: 3\na: 4\nb: 5\n", "x.yaml")
    assert doc is not None and doc.data == {"a": 1, "b": 3}
    assert [(p.line, p.key, p.message) for p in problems] == [
        (2, "a", "duplicate key 'a' (first at line 1)"), (4, "a", "duplicate key 'a' (first at line 1)"),
        (5, "b", "duplicate key 'b' (first at line 3)")]
    assert {p.hint for p in problems} == {"keep one of the two entries"}


def test_a_secret_file_that_is_no_string_is_a_schema_problem_not_an_internal_error() -> None:
    app, _ = parse_yaml_text("name: a\n", "devenv.yaml", Path("/nonexistent/proj/devenv.yaml"))
    text = "tenants:\n  acme:\n    secrets:\n      s:\n        k: {file: 5}\n        j: {file: ''}\n"
    local, _ = parse_yaml_text(text, "devenv.local.yaml", Path("/nonexistent/proj/devenv.local.yaml"))
    shapes = "a plain value, or {file: PATH}"
    got = [(p.file, p.line, p.key, p.message, p.hint) for p in validate_documents(app, {}, [local])]
    assert sorted(got) == [
        ("devenv.local.yaml", 2, "tenants.acme", "unknown tenant 'acme' (no profiles/acme.yaml)", "there are none yet"),
        ("devenv.local.yaml", 5, "tenants.acme.secrets.s.k", f"expected {shapes}, got a mapping", f"expected: {shapes}"),
        ("devenv.local.yaml", 6, "tenants.acme.secrets.s.j", f"expected {shapes}, got a mapping", f"expected: {shapes}")]


# --- the model's last mutation sitting (10:32-10:45, review31): Dockerfile syntax, range checks, tenants --

def _syntax(text: str) -> list[tuple[int | None, str, str, str, str]]:
    from devenv.model.dockerfile_syntax import check

    return [(i.line, i.rule, i.message, i.fix, i.severity) for i in check(text)]


NO_FROM = (None, "no-from", "the Dockerfile has no FROM instruction", "add `FROM <image>` at the top", "error")
NOT_JSON = "looks like the JSON form but is not JSON ({}); Docker would run it as a shell command"
JSON_FIX = 'use double quotes and commas: ["a", "b"]'


@pytest.mark.parametrize("text", ["\\\n", "# a comment\n\\\n"])
def test_a_dockerfile_of_only_a_line_continuation_has_no_from_and_no_line(text: str) -> None:
    """BuildKit's parse of a lone ``\\`` is one nameless command, which ``parse`` drops: no command
    at all, so the finding has no line (and checking it must not fail)."""
    assert _syntax(text) == [NO_FROM]


def test_the_json_form_check_reads_only_json_form_instructions() -> None:
    """A SHELL in the JSON form is what SHELL needs; USER, WORKDIR and EXPOSE have no JSON form,
    so a value starting with ``[`` is a plain value there (EXPOSE still says it is no port)."""
    text = 'FROM a\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nUSER [nobody\nWORKDIR [app\nEXPOSE [80\n'
    assert _syntax(text) == [(5, "expose", "EXPOSE '[80' is not a port", "e.g. EXPOSE 8000 or EXPOSE 53/udp", "error")]


def test_a_broken_json_copy_is_judged_on_its_words_joined_by_one_space() -> None:
    """``COPY ["src", "/dst"`` (no closing bracket) splits into two words; rejoined with one space
    the JSON is missing its ``]``, which is what the user is told."""
    text = 'FROM a\nCOPY ["src", "/dst"\nADD ["a", "b",\n'
    assert _syntax(text) == [(2, "broken-json", "`COPY` " + NOT_JSON.format("Expecting ',' delimiter"), JSON_FIX, "error"),
                             (3, "broken-json", "`ADD` " + NOT_JSON.format("Expecting value"), JSON_FIX, "error")]


def test_a_json_form_behind_a_control_character_is_run_by_the_shell() -> None:
    """BuildKit trims only Go's spaces before the ``[``: behind an ASCII separator (``\\x1c``) the
    JSON form is not recognised, so Docker runs the line through ``/bin/sh -c``; say so."""
    assert _syntax('FROM a\nCMD \x1c["a", "b"]\n') == [
        (2, "broken-json", "`CMD` " + NOT_JSON.format("Expecting value"), JSON_FIX, "error")]


def test_findings_before_an_expose_are_kept() -> None:
    outside = ("`COPY ../x` reaches outside the build context; the engine only has the context's files",
               "move the file into the context, or widen `context:` in devenv.yaml")
    assert _syntax("FROM a\nCOPY ../x /y\nEXPOSE 80\nEXPOSE http\n") == [
        (2, "outside-context", *outside, "error"),
        (4, "expose", "EXPOSE 'http' is not a port", "e.g. EXPOSE 8000 or EXPOSE 53/udp", "error")]


def _app_doc(root: Path) -> Document:
    return _doc(root, "name: shop\ncomponents:\n  web:\n    ref: r:1\n    env: {X: a}\n  db:\n    ref: r:2\n"
                      "    env: {X: b, Y: c}\n")


def test_a_component_named_replicas_is_no_replica_count(tmp_path: Path) -> None:
    """Only ``replicas`` itself (or its one level of components in an overlay) is a replica count:
    a component named ``replicas`` may hold negative or huge env numbers."""
    app = _doc(tmp_path, "name: shop\ncomponents:\n  replicas:\n    ref: r:1\n    env: {OFFSET: -1, BIG: 5000000000}\n")
    assert validate_documents(app, {}, []) == []


@pytest.mark.parametrize(("text", "want"), [
    ("components: [web]\n", (2, "components", "expected a mapping (key: value), got a list")),
    ("components: web\n", (2, "components", "expected a mapping (key: value), got the string 'web'")),
    ("secrets: 5\n", (2, "secrets", "expected a list, got the number 5")),
    ("secrets: {DB: x}\n", (2, "secrets", "expected a list, got a mapping")),
])
def test_a_profile_of_the_wrong_shape_is_a_schema_problem_not_an_internal_error(
        tmp_path: Path, text: str, want: tuple[int, str, str]) -> None:
    """The shadowing check walks the profile's secrets and components; when they are not a list and
    a mapping it must find nothing, so the user sees only the schema's own words."""
    profile = _doc(tmp_path, "namespace: acme\n" + text, "profiles/acme.yaml")
    got = [(p.file, p.line, p.key, p.message, p.severity) for p in validate_documents(_app_doc(tmp_path), {"acme": profile}, [])]
    assert got == [("profiles/acme.yaml", *want, "error")]


def test_a_component_secret_shadows_only_its_own_components_env(tmp_path: Path) -> None:
    """web's secret env Y is not db's env Y (they run in different containers); a tenant-wide
    secret reaches every component, so its Z shadows db's Z."""
    profile = _doc(tmp_path, "namespace: acme\nsecrets:\n  - {name: s, key: k, env: Z}\ncomponents:\n  web:\n"
                             "    secrets:\n      - {name: s, key: k, env: Y}\n  db:\n    env: {Y: b, Z: c}\n",
                   "profiles/acme.yaml")
    assert _in_files(validate_documents(_app_doc(tmp_path), {"acme": profile}, [])) == [
        ("profiles/acme.yaml", 3, "secrets[0].env", "secret env 'Z' shadows the plain env 'Z' of the same profile",
         "rename one of them, or drop 'Z' from env: a variable holds one value", "error")]


def test_a_profiles_host_names_are_range_checked_by_validate(tmp_path: Path) -> None:
    """The profile-only range checks (host name lengths) run in ``validate_documents``, not only
    when ``limits`` is called on its own."""
    profile = _doc(tmp_path, "namespace: acme\ndomains: [" + "a" * 64 + ".example.com]\n", "profiles/acme.yaml")
    assert _in_files(validate_documents(_app_doc(tmp_path), {"acme": profile}, [])) == [
        ("profiles/acme.yaml", 2, "domains[0]", f"the host name '{'a' * 64}.examp...' is too long (at most 253 "
         "characters, 63 per dot-separated part)", "shorten the host name", "error")]


def test_an_overlays_secret_key_named_image_holds_a_value_not_an_image(tmp_path: Path) -> None:
    """Image references are checked in devenv.yaml and the profiles; in an overlay ``image`` and
    ``ref`` can only be a secret's key or an env var, holding any dev value."""
    profile = _doc(tmp_path, "namespace: acme\n", "profiles/acme.yaml")
    local = _doc(tmp_path, "tenants:\n  acme:\n    env: {ref: 'main:not a tag'}\n    secrets:\n"
                           "      registry: {image: 'pull:token with spaces', ref: '" + "t" * 300 + "'}\n",
                 "devenv.local.yaml")
    assert validate_documents(_app_doc(tmp_path), {"acme": profile}, [local]) == []


@pytest.mark.parametrize("broken", ["profiles/beta.yml", "profiles/beta.yaml"])
def test_a_profile_that_failed_to_load_still_names_its_tenant(tmp_path: Path, broken: str) -> None:
    """A broken ``beta.yml`` is reported where it is; the overlay's ``tenants.beta`` and
    ``default_tenants: [beta]`` must not add "unknown tenant" on top."""
    _project_files(tmp_path, {"profiles/acme.yaml": "namespace: acme\n", broken: "namespace: [\n"})
    app = _doc(tmp_path, "name: shop\ndefault_tenants: [beta]\ncomponents:\n  web: {ref: 'r:1'}\n")
    local = _doc(tmp_path, "tenants:\n  beta: {replicas: {web: 0}}\n", "devenv.local.yaml")
    acme = _doc(tmp_path, "namespace: acme\n", "profiles/acme.yaml")
    assert validate_documents(app, {"acme": acme}, [local]) == []
