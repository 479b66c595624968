"""The hostile part of the bad-input corpus (issue 15): range and shape limits, YAML merge keys,
Dockerfile grammar, special files where devenv reads, and hostile file states and tenant names
through the real CLI entry point.

Config cases reuse ``test_validation_corpus``'s machinery: the sample with one thing broken must
come back as a problem naming file, line, key and fix (never another exception, never a hang).
CLI cases run ``cli.main`` and must exit non-zero with a message (``devenv: error:`` or argparse's
usage error), without a traceback, leaving the files they name untouched.
"""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from devenv import cli
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
MEMORY = "requests: {cpu: 500m, memory: 512Mi}"


def C(name: str, file: str, edit: Edit, *expect: str, at: int | str | None = None, key: str | None = None,
      severity: str = "error") -> Case:
    return Case(name, file, edit, expect, at, key, severity)


# --- quantities (Kubernetes' resource.Quantity grammar) ------------------------------------------------

BAD_QUANTITIES = ["1.5.5Gi", "512MB", "1gi", "1 Gi", "Gi", "1Gii", "0x10", "1e", "1e3.5", "1.2.3", "--1", "+-1",
                  "1,5", "1_000", "one", "1GB", "1kb", "1KiB", "12 m", "m", "1.5x", "∞", "1Zi", "1Y", ".", "1..",
                  "e3", "1e+", "Ki1", "1/2", "1%", "~", "1 ", "NaN", "inf", "0b101", "1E3Gi", "10mm", "5u5",
                  "1.0.0"]
QUANTITY_CASES = [
    C(f"quantity-{i:02d}", ACME, sub(ACME, MEMORY, f"requests: {{cpu: 500m, memory: {q!r}}}"),
      "is not a Kubernetes quantity", at="requests: {cpu: 500m", key="components.web.resources.requests.memory")
    for i, q in enumerate(BAD_QUANTITIES)
] + [
    C("quantity-negative", ACME, sub(ACME, MEMORY, "requests: {cpu: 500m, memory: -1Gi}"), "is negative",
      key="components.web.resources.requests.memory"),
    C("quantity-bool", ACME, sub(ACME, MEMORY, "requests: {cpu: true, memory: 512Mi}"), "not a resource quantity",
      key="components.web.resources.requests.cpu"),
    C("quantity-limit", ACME, sub(ACME, 'limits: {cpu: "1", memory: 1Gi}', 'limits: {cpu: "1", memory: 1.5.5Gi}'),
      "is not a Kubernetes quantity", key="components.web.resources.limits.memory"),
]

# --- int32 replicas, image tags, host names, namespaces ------------------------------------------------

REPLICA_CASES = [
    C(f"replicas-{n}", ACME, sub(ACME, "replicas: 3", f"replicas: {n}"), "out of range", "int32",
      at=f"replicas: {n}", key="components.web.replicas")
    for n in (2**31, 2**32, 10**30, 10**100, 99999999999)
] + [
    C("replicas-overlay-huge", LOCAL, sub(LOCAL, "replicas: {web: 1,", "replicas: {web: 10000000000,"),
      "out of range", key="defaults.replicas.web"),
    C("replicas-personal-huge", PERSONAL, put(PERSONAL, "tenants:\n  acme:\n    replicas: {worker: 4294967296}\n"),
      "out of range", at=3, key="tenants.acme.replicas.worker"),
]
PROD_IMAGE = "registry.shop.example/shop/api:2026.11.3"
TAG_CASES = [
    C(f"tag-{n}", ACME, sub(ACME, PROD_IMAGE, f"registry.shop.example/shop/api:{'t' * n}"),
      f"the image tag is {n} characters long", key="components.api.image")
    for n in (129, 200, 1000)
] + [
    C(f"tag-ref-{n}", APP, sub(APP, "  postgres:\n    image: postgres\n", f"  postgres:\n    ref: postgres:{'1' * n}\n"),
      f"the image tag is {n} characters long", key="services.postgres.ref")
    for n in (129, 300)
]
DOMAIN_CASES = [
    C(f"domain-{what}", ACME, sub(ACME, "domains: [acme.shop.example]", f"domains: [{host}]"), "too long",
      key="domains[0]")
    for what, host in (("label-64", "a" * 64 + ".example.com"), ("label-200", "b" * 200 + ".example.com"),
                       ("total-300", ".".join(["c" * 60] * 5)))
]
NAMESPACE_CASES = [
    C(f"namespace-{n}", ACME, sub(ACME, "namespace: tenant-acme", f"namespace: {'n' * n}"),
      "longer than 63", key="namespace")
    for n in (64, 100, 1000)
] + [
    C(f"tenant-file-{n}", f"profiles/{'t' * n}.yaml", put(f"profiles/{'t' * n}.yaml", "namespace: x\n"),
      "not a DNS-1123 label")
    for n in (64, 120)
]

# --- NUL bytes and env shadowing ----------------------------------------------------------------------

NUL_CASES = [
    C("nul-app-env", APP, sub(APP, "DATABASE_NAME: shop", 'DATABASE_NAME: "sh\\0op"'), "NUL byte",
      key="env.DATABASE_NAME"),
    C("nul-profile-env", ACME, sub(ACME, "\nenv:\n", '\nenv:\n  EXTRA: "a\\0b"\n'), "NUL byte", key="env.EXTRA"),
    C("nul-component-env", ACME, sub(ACME, "  api:\n    replicas: 2\n", '  api:\n    replicas: 2\n    env: {X: "\\0"}\n'),
      "NUL byte", key="components.api.env.X"),
    C("nul-overlay-env", LOCAL, add(LOCAL, '  initech:\n    env: {X: "a\\0"}\n'), "NUL byte", key="tenants.initech.env.X"),
    C("nul-personal-env", PERSONAL, put(PERSONAL, 'defaults:\n  env: {DEBUG: "1\\x00"}\n'), "NUL byte", at=2),
    C("nul-command", APP, sub(APP, "    image: scheduler\n", '    image: scheduler\n    command: "run\\0now"\n'),
      "NUL byte", key="components.scheduler.command"),
]
SHADOW_CASES = [
    C("shadow-tenant-env", ACME, sub(ACME, "\nenv:\n", "\nenv:\n  PAYMENTS_API_KEY: plain\n"),
      "shadows the plain env 'PAYMENTS_API_KEY'"),
    C("shadow-component-env", ACME, sub(ACME, "  api:\n    replicas: 2\n",
                                        "  api:\n    replicas: 2\n    env: {PAYMENTS_API_KEY: x}\n"),
      "shadows the plain env 'PAYMENTS_API_KEY'"),
]

# --- YAML merge keys ------------------------------------------------------------------------------------

MERGE_CASES = [
    C(f"merge-{where}-{what}", file, add(file, f"x-bad{i}: &bad{i} {value}\nx-use{i}:\n  <<: *bad{i}\n"),
      "`<<` must merge a mapping", at=f"  <<: *bad{i}")
    for where, file in (("app", APP), ("profile", ACME), ("overlay", LOCAL))
    for i, (what, value) in enumerate((("scalar", "1"), ("list", "[1, 2]"), ("string", "text")))
] + [
    C(f"merge-{where}-twice", file, add(file, "x-a9: &a9 {k: 1}\nx-use9:\n  <<: *a9\n  <<: [*a9]\n"),
      "duplicate key '<<' (first at line", at="  <<: [*a9]", key="x-use9.<<")
    for where, file in (("app", APP), ("profile", ACME), ("overlay", LOCAL))
] + [
    C("merge-overlay-bad-key-at-anchor", LOCAL, both(sub(LOCAL, "tenants:\n", "x-d: &d\n  nope: true\ntenants:\n"),
                                                     sub(LOCAL, "  globex:\n", "  acme:\n    <<: *d\n  globex:\n")),
      "unknown key 'nope'", at="  nope: true", key="tenants.acme.nope"),
    C("merge-profile-bad-type-at-anchor", ACME, both(sub(ACME, "components:\n", "x-r: &r {replicas: lots}\ncomponents:\n"),
                                                     sub(ACME, "  scheduler:\n    replicas: 1\n", "  scheduler:\n    <<: *r\n")),
      "replicas", at="x-r: &r {replicas: lots}", key="components.scheduler.replicas"),
]

# --- Dockerfiles: BuildKit's grammar ---------------------------------------------------------------------

HEAD = "ARG BASE_IMAGE=shop-base\nFROM ${BASE_IMAGE}\n"
DOCKERFILES: list[tuple[str, str, str, int | None]] = [
    ("empty", "", "no instructions", None),
    ("only-comments", "# nothing\n\n", "no instructions", None),
    ("no-from-run", "RUN echo hi\n", "comes before any FROM", 1),
    ("no-from-copy", "COPY . /srv\n", "comes before any FROM", 1),
    ("env-before-from", "ENV A=1\nFROM debian\n", "comes before any FROM", 1),
    ("arg-only", "ARG X=1\n", "no FROM instruction", 1),
    ("from-empty", "FROM\n", "FROM names no image", 1),
    ("from-as-missing", "FROM debian AS\n", "FROM takes an image", 1),
    ("from-extra", "FROM debian AS a b\n", "FROM takes an image", 1),
    ("from-junk", "FROM debian junk\n", "FROM takes an image", 1),
    ("stage-twice", "FROM debian AS a\nFROM debian AS a\n", "already used on line 1", 2),
    ("stage-twice-case", "FROM debian AS build\nFROM debian AS BUILD\n", "already used", 2),
    ("nul", "FROM debian\n\x00\x00\n", "NUL bytes", None),
]
for word in ("RUNN", "COPPY", "EXPOSED", "FORM", "CMDD", "ENTRY", "WORKDIRR", "LABLE", "USR", "HEALTHCHEK",
             "STOPSIGNALL", "ONBULD", "VOLUMES", "ENVV", "ARGG", "ADDD", "SHEL", "MAINTAINERS", "PIP", "APT-GET"):
    DOCKERFILES.append((f"unknown-{word.lower()}", HEAD + f"{word} something\n", f"unknown instruction `{word}`", 3))
for word, args in (("CMD", '["python3", "-m"'), ("CMD", "['python3']"), ("CMD", '["a" "b"]'),
                   ("ENTRYPOINT", '["tini", "--",]'), ("ENTRYPOINT", "[tini]"), ("RUN", '["echo", hi]'),
                   ("RUN", '["apt-get" , ]'), ("COPY", '["a", "b"'), ("ADD", "['a', '/b']"), ("VOLUME", '["/data"'),
                   ("CMD", '[1, 2')):
    DOCKERFILES.append((f"json-{word.lower()}-{len(DOCKERFILES)}", HEAD + f"{word} {args}\n",
                        "looks like the JSON form but is not JSON", 3))
DOCKERFILES += [
    ("shell-not-json", HEAD + "SHELL /bin/bash -c\n", "SHELL needs the JSON form", 3),
    ("copy-dotdot", HEAD + "COPY ../secrets /srv\n", "reaches outside the build context", 3),
    ("copy-dotdot-deep", HEAD + "COPY a/../../b /srv\n", "reaches outside the build context", 3),
    ("copy-dotdot-abs", HEAD + "COPY /../etc /srv\n", "reaches outside the build context", 3),
    ("add-dotdot", HEAD + "ADD ../x.tar /srv\n", "reaches outside the build context", 3),
    ("copy-json-dotdot", HEAD + 'COPY ["../x", "/srv/"]\n', "reaches outside the build context", 3),
    ("copy-chown-dotdot", HEAD + "COPY --chown=1:1 ../x /srv\n", "reaches outside the build context", 3),
    ("copy-second-src-dotdot", HEAD + "COPY a ../b /srv/\n", "reaches outside the build context", 3),
    ("from-index-self", HEAD + "COPY --from=0 /a /b\n", "no earlier stage has index 0", 3),
    ("from-index-later", HEAD + "FROM debian AS b\nCOPY --from=5 /a /b\n", "no earlier stage has index 5", 4),
    ("from-self-name", "FROM debian AS build\nCOPY --from=build /a /b\n", "names the stage it is in", 2),
]
DOCKERFILES += [  # what BuildKit's instructions.Parse (or the first step) refuses
    ("copy-one-arg", HEAD + "COPY app\n", "COPY requires at least two arguments", 3),
    ("add-no-arg", HEAD + "ADD\n", "ADD requires at least two arguments", 3),
    ("env-empty", HEAD + "ENV\n", "ENV requires at least one argument", 3),
    ("label-empty", HEAD + "LABEL\n", "LABEL requires at least one argument", 3),
    ("user-empty", HEAD + "USER\n", "USER requires exactly one argument", 3),
    ("workdir-empty", HEAD + "WORKDIR\n", "WORKDIR requires exactly one argument", 3),
    ("onbuild-from", HEAD + "ONBUILD FROM debian\n", "FROM isn't allowed as an ONBUILD trigger", 3),
    ("onbuild-onbuild", HEAD + "ONBUILD ONBUILD RUN true\n", "ONBUILD isn't allowed as an ONBUILD trigger", 3),
    ("expose-word", HEAD + "EXPOSE http\n", "EXPOSE 'http' is not a port", 3),
    ("expose-proto", HEAD + "EXPOSE 80/tcpx\n", "EXPOSE '80/tcpx' is not a port", 3),
    ("health-interval", HEAD + "HEALTHCHECK --interval=often CMD true\n", "--interval='often' is not a duration", 3),
    ("health-retries", HEAD + "HEALTHCHECK --retries=many CMD true\n", "--retries='many' is not a whole number", 3),
    ("health-type", HEAD + "HEALTHCHECK curl -f localhost\n", "unknown type 'curl' in HEALTHCHECK", 3),
    ("from-undeclared-arg", "FROM ${NOPE}\n", "FROM uses $NOPE, which no ARG", 1),
    ("from-undeclared-tag", "ARG A=1\nFROM debian:$TAG\n", "FROM uses $TAG", 2),
]
DOCKERFILE_WARNINGS = [
    ("copy-unknown-flag", HEAD + "COPY --chmown=1 a /b\n", "unknown flag --chmown for COPY", 3),
    ("from-unknown-name", HEAD + "COPY --from=buildr /a /b\n", "no stage named 'buildr'", 3),
    ("from-later-name", HEAD + "COPY --from=later /a /b\nFROM debian AS later\n", "no stage named 'later'", 3),
]
DOCKERFILE_CASES = [
    C(f"dockerfile-{name}", WEB_DF, put(WEB_DF, text), expect, at=line) for name, text, expect, line in DOCKERFILES
] + [
    C(f"dockerfile-{name}", WEB_DF, put(WEB_DF, text), expect, at=line, severity="warning")
    for name, text, expect, line in DOCKERFILE_WARNINGS
]

# --- special files where devenv reads -----------------------------------------------------------------------


def special(path: str, kind: str) -> Edit:
    """Replace ``path`` by a FIFO, a socket, a directory, a device symlink, a dangling or a looping symlink."""
    def edit(root: Path) -> None:
        p = root / path
        if p.is_dir() and not p.is_symlink():
            p.rmdir()
        elif p.exists() or p.is_symlink():
            p.unlink()
        p.parent.mkdir(parents=True, exist_ok=True)
        if kind == "fifo":
            os.mkfifo(p)
        elif kind == "socket":
            s = socket.socket(socket.AF_UNIX)
            s.bind(str(p))
            s.close()
        elif kind == "directory":
            p.mkdir()
        elif kind == "device":
            p.symlink_to("/dev/zero")
        elif kind == "dangling":
            p.symlink_to(p.parent / "nowhere")
        else:
            p.symlink_to(p.name)
    return edit


KINDS = {"fifo": "FIFO", "socket": "socket", "directory": "directory", "device": "character device",
         "dangling": "No such file", "loop": "symbolic links"}
SPECIAL_CASES = [
    C(f"special-{label}-{kind}", file, special(file, kind), "cannot read the file", KINDS[kind])
    for label, file in (("profile", "profiles/odd.yaml"), ("local", LOCAL), ("personal", PERSONAL))
    for kind in KINDS
] + [
    C(f"special-dockerfile-{kind}", APP, special(WEB_DF, kind), f"no Dockerfile at {WEB_DF}: it is {what}",
      key="images.web.context")
    for kind, what in (("fifo", "a FIFO"), ("socket", "a socket"), ("directory", "a directory"))
] + [
    C("special-dockerfile-device", APP, special(WEB_DF, "device"), "resolves to /dev/zero, outside the project",
      key="images.web.context")
] + [
    C("special-profiles-is-file", "profiles", both(lambda r: __import__("shutil").rmtree(r / "profiles"),
                                                   put("profiles", "acme\n")), "profiles is not a directory"),
]

CASES = (QUANTITY_CASES + REPLICA_CASES + TAG_CASES + DOMAIN_CASES + NAMESPACE_CASES + NUL_CASES + SHADOW_CASES
         + MERGE_CASES + DOCKERFILE_CASES + SPECIAL_CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input_is_reported_with_file_line_key_and_fix(tmp_path: Path, case: Case) -> None:
    root = build(tmp_path, case)
    problems, error_text = load(root)
    assert not [p for p in problems if "internal error" in p.message], problems
    problem = find(problems, case)
    assert problem.severity == case.severity
    assert (error_text is not None) == (case.severity == "error") or case.severity == "warning"
    assert problem.hint and "(fix: " in str(problem)
    if case.at is not None:
        assert problem.line == expected_line(root, case), str(problem)
    if case.key is not None:
        assert problem.key == case.key, str(problem)


GOOD_QUANTITIES = ["1", "0", "0.5", ".5", "250m", "1k", "1Ki", "512Mi", "1Gi", "2Ti", "1Pi", "1Ei", "1e3", "1E-2",
                   "+1", "100n", "5u", "1M", "1G", "1.5Gi", "1T", "1P", "1E"]


GOOD_DOCKERFILES = [
    "FROM --platform=$BUILDPLATFORM debian\n", "FROM ${BASE:-debian}\n", "ARG A\nFROM $A\n",
    "ARG A=debian B=12\nFROM ${A}:${B}\n", "FROM debian\nEXPOSE 53/udp 8000-8010 80/TCP $PORT\n",
    "FROM debian\nHEALTHCHECK --interval=1m30s --timeout=500ms --start-period=0 --retries=3 CMD true\n",
    "FROM debian\nHEALTHCHECK NONE\n", "FROM debian\nCOPY <<EOF /x\nhi\nEOF\n",
    "FROM debian\nRUN --mount=type=cache,target=/x --network=none true\n", "FROM debian\nONBUILD RUN true\n",
    "FROM debian\nCOPY --link --chmod=644 --chown=1:1 a /b\n", "FROM debian\nUSER 1000:1000\nWORKDIR /a b\n",
    "FROM debian\nCMD [\"x\"]\n\\\n",  # a lone continuation at the end (it raised AttributeError)
]


@pytest.mark.parametrize("text", GOOD_DOCKERFILES)
def test_good_dockerfiles_pass_the_syntax_check(text: str) -> None:
    from devenv.model.dockerfile_syntax import check

    assert check(text) == []


@pytest.mark.parametrize("q", GOOD_QUANTITIES)
def test_good_quantities_pass(q: str) -> None:
    from devenv.model.limits import QUANTITY

    assert QUANTITY.match(q)


def test_merge_keys_everywhere_load(tmp_path: Path) -> None:
    """Anchors in ``x-`` keys merged into devenv.yaml, a profile and the overlay: accepted."""
    case = C("merge-good", APP, both(
        sub(APP, "images:\n", "x-child: &child {parent: base}\nimages:\n"),
        sub(APP, "    context: examples/shop/api\n    parent: base\n", "    context: examples/shop/api\n    <<: *child\n"),
        sub(ACME, "components:\n", "x-small: &small {replicas: 1}\ncomponents:\n"),
        sub(ACME, "  scheduler:\n    replicas: 1\n", "  scheduler:\n    <<: *small\n"),
        add(LOCAL, "x-dbg: &dbg {LOG_LEVEL: debug}\n"),
    ), "-")
    root = build(tmp_path, case)
    problems, error_text = load(root)
    assert error_text is None, error_text


# --- hostile file states and names through the CLI ------------------------------------------------------------


@dataclass(frozen=True)
class CliCase:
    name: str
    argv: tuple[str, ...]
    setup: Callable[[Path, Path], None] | None  # (project root, scratch dir)
    expect: str
    code: int = 1


def _fifo(rel: str) -> Callable[[Path, Path], None]:
    return lambda root, scratch: os.mkfifo(scratch / rel)


def _file(rel: str, text: str = "keep\n") -> Callable[[Path, Path], None]:
    return lambda root, scratch: (scratch / rel).write_text(text)


def _state_file(root: Path, scratch: Path) -> None:
    (root / ".devenv").write_text("not a directory\n")


def _secrets_dir_file(root: Path, scratch: Path) -> None:
    (root / ".devenv").mkdir()
    (root / ".devenv" / "secrets").write_text("x")


def _link_out(root: Path, scratch: Path) -> None:
    (scratch / "victim").write_text("keep\n")
    (root / "link.yaml").symlink_to(scratch / "victim")


DUMP = Path(__file__).resolve().parents[1] / "fixtures" / "k8s" / "acme-namespace.yaml"
def _events_fifo(root: Path, scratch: Path) -> None:
    (root / ".devenv").mkdir(exist_ok=True)
    os.mkfifo(root / ".devenv" / "events.jsonl")


def _events_odd(root: Path, scratch: Path) -> None:
    (root / ".devenv").mkdir(exist_ok=True)
    (root / ".devenv" / "events.jsonl").write_text('{"kind": "sync", "ts": "no", "tenants": 5}\n{"kind": "up", "tenants": 7}\n')


TENANT_VALUES = ["", ",", " ", ",,", "acme,", ",acme", "acme,,globex", " , acme"]
TENANT_COMMANDS = ["up", "down", "status", "logs", "build", "render", "diff", "watch", "exec"]
CLI_CASES = [
    CliCase(f"tenant-{cmd}-{i}", (cmd, "--tenant", value, *(["web", "--", "true"] if cmd == "exec" else [])),
            None, "empty name", 2)
    for cmd in TENANT_COMMANDS for i, value in enumerate(TENANT_VALUES)
] + [
    CliCase("output-dir", ("render", "-o", "{scratch}"), None, "is a directory"),
    CliCase("output-dir-force", ("render", "-o", "{scratch}", "--force"), None, "is a directory"),
    CliCase("output-dev-null", ("render", "-o", "/dev/null"), None, "character device"),
    CliCase("output-dev-zero", ("render", "-o", "/dev/zero"), None, "character device"),
    CliCase("output-fifo", ("render", "-o", "{scratch}/pipe"), _fifo("pipe"), "FIFO"),
    CliCase("output-fifo-force-no-reader", ("render", "-o", "{scratch}/pipe", "--force"), _fifo("pipe"),
            "no process reads"),
    CliCase("output-existing", ("render", "-o", "{scratch}/out.yaml"), _file("out.yaml"), "already exists"),
    CliCase("output-link-out", ("render", "-o", "{root}/link.yaml"), _link_out, "symlink leading outside"),
    CliCase("output-empty", ("render", "-o", ""), None, "--output is empty"),
    CliCase("output-under-a-file", ("render", "-o", "{scratch}/out.yaml/x.yaml"), _file("out.yaml"),
            "Not a directory"),
    CliCase("state-is-file-render", ("render", "--write-secrets"), _state_file, "is a file, not a directory"),
    CliCase("state-is-file-kind", ("render", "--backend", "kind", "--write-secrets"), _state_file,
            "is a file, not a directory"),
    CliCase("secrets-dir-is-file", ("render", "--write-secrets"), _secrets_dir_file, "is a file, not a directory"),
    CliCase("exec-no-command", ("exec", "web"), None, "no command to run"),
    CliCase("exec-unknown-component", ("exec", "nope", "--", "true"), None, "unknown component"),
    CliCase("diff-two-tenants", ("diff", "-t", "acme,globex"), None, "one tenant at a time"),
    CliCase("render-compose-two", ("render", "-t", "acme,globex"), None, "one tenant at a time"),
    CliCase("unknown-tenant", ("render", "-t", "acmee"), None, "did you mean 'acme'"),
    CliCase("init-empty-tenant", ("init", "--from-compose", "examples/notes", "--tenant", "", "--dry-run"), None,
            "tenant '' is not"),
    CliCase("import-tenant-too-long", ("import", "-t", "a" * 64, "--from-file", str(DUMP), "--dry-run"), None,
            "is not a valid tenant name"),
    CliCase("logs-unknown-component", ("logs", "nope"), None, "unknown component(s): nope"),
    CliCase("events-log-fifo", ("events",), _events_fifo, "events.jsonl is a FIFO"),
    CliCase("events-log-hand-edited", ("events", "-t", "acme", "--since", "1h"), _events_odd, "", 0),
    CliCase("status-unknown-tenant", ("status", "-t", "acmee"), None, "unknown tenant(s): acmee"),
    CliCase("status-tenant-path", ("status", "-t", "../devenv"), None, "unknown tenant(s): ../devenv"),
    CliCase("logs-unknown-component-of-a-tenant", ("logs", "-t", "acme", "web", "nope"), None, "unknown component(s)"),
]


@pytest.fixture(scope="module")
def cli_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import copy_sample

    return copy_sample(tmp_path_factory.mktemp("cli") / "shop")


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.name for c in CLI_CASES])
def test_hostile_cli_cases_refuse_cleanly(cli_sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str], case: CliCase) -> None:
    import shutil

    root = tmp_path / "shop"
    shutil.copytree(cli_sample, root, symlinks=True)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.setenv("DEVENV_ROOT", str(root))
    if case.setup:
        case.setup(root, scratch)
    before = {p: p.read_bytes() for p in scratch.rglob("*") if p.is_file() and stat.S_ISREG(p.lstat().st_mode)}
    argv = [a.format(scratch=scratch, root=root) for a in case.argv]
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert code == case.code, (out, err)
    assert case.expect in err, err
    assert before == {p: p.read_bytes() for p in before}
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_the_corpus_holds_at_least_400_cases() -> None:
    from tests.unit.test_bad_input_more import CASES as MORE
    from tests.unit.test_validation_corpus import CASES as CORPUS

    names = [c.name for c in CORPUS] + [c.name for c in MORE] + [c.name for c in CASES] + [c.name for c in CLI_CASES]
    assert len(set(names)) == len(names) >= 400, len(names)
