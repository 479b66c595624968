"""``devenv init --from-compose``: a credential that interpolation puts into a ``command:``, an
``entrypoint``, a health test or a build arg never reaches a committed file, Docker-free.

compose substitutes ``${REDIS_PASSWORD}`` into ``command: [redis-server, --requirepass, ...]``;
writing the result would commit the password. devenv writes a ``${VAR}`` reference run through
``sh -c`` instead and delivers the variable as the component's secret. The shell lines are run
through the real ``/bin/sh`` to check that the program gets exactly the argv compose gave it.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from devenv.adopt.compose import read_compose
from devenv.adopt.credrefs import exec_line, shell_code, shell_word
from devenv.adopt.interpolate import Environment, interpolate
from tests.unit.test_adopt_compose import project

SECRETS = {"REDIS_PASSWORD": "r3dis-Secret-pw", "POSTGRES_PASSWORD": "pg-Hunter2-x", "API_TOKEN": "apitok-999zz",
           "PIP_TOKEN": "tok-abcdef123"}
DOTENV = "".join(f"{k}={v}\n" for k, v in SECRETS.items()) + "POSTGRES_USER=app\nLOG_LEVEL=debug\n"


def masked_env(**values: str) -> Environment:
    env = Environment(dotenv=values)
    env.credential = lambda name, value: name == "PW"
    return env


def adopt(tmp_path: Path, compose: str) -> tuple[dict[str, object], list[str], list[str]]:
    root = project(tmp_path / "p", compose, {".env": DOTENV})
    adopted = read_compose(root, root, "acme", shell={})
    texts = [yaml.safe_dump(d) for d in (adopted.app, adopted.profile, adopted.overlay)]
    for text in texts:
        assert not any(v in text for v in SECRETS.values()), text
    assert not any(v in str(n) for n in adopted.notes for v in SECRETS.values())
    assert not any(v in str(p) for p in adopted.errors for v in SECRETS.values())
    return ({"app": adopted.app, "profile": adopted.profile, "personal": adopted.personal},
            [str(n) for n in adopted.notes], [str(p) for p in adopted.errors])


def sh_argv(line: str, env: dict[str, str]) -> list[str]:
    """The argv a program gets when ``sh -c LINE`` execs it (the program: a printer of its args)."""
    printer = f"exec {shlex.quote(sys.executable)} -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "
    out = subprocess.run(["/bin/sh", "-c", line.replace("exec ", printer, 1)], env={**env, "PATH": os.environ["PATH"]},
                         capture_output=True, text=True, check=True).stdout
    return list(json.loads(out))


# --- the shell forms ------------------------------------------------------------------------------

def test_a_credential_is_masked_while_interpolating_and_unmasked_on_request() -> None:
    env = masked_env(PW="s3cret-value", USER="app")
    masked = interpolate("redis://${USER}:${PW}@cache/${PW:-x}", env)
    assert "s3cret-value" not in masked and env.names_in(masked) == ["PW"]
    assert env.unmask(masked) == "redis://app:s3cret-value@cache/s3cret-value"
    assert shell_code(masked, env) == "redis://app:${PW}@cache/${PW}"
    assert env.names_in(interpolate("${USER} ${PW:+set}", env)) == []


@pytest.mark.skipif(not Path("/bin/sh").exists(), reason="no /bin/sh")
def test_shell_words_give_the_program_the_argv_compose_gave_it() -> None:
    env = masked_env(PW="it's a $pw \"x\" `y`")
    tokens = [interpolate(t, env) for t in ["--requirepass", "${PW}", "--x=${PW}!", "", "it's", "a b", "$$HOME"]]
    line = exec_line(tokens, env)
    assert "$pw" not in line
    assert sh_argv(line, {"PW": "it's a $pw \"x\" `y`"}) == [env.unmask(t) for t in tokens]
    assert shell_word(interpolate("plain", env), env) == "plain"


# --- init: where a credential may go --------------------------------------------------------------

COMPOSE = """\
x-redis: &redis
  image: redis:7
  command: ["redis-server", "--requirepass", "${REDIS_PASSWORD}", "--appendonly", "yes"]
  healthcheck:
    test: ["CMD", "redis-cli", "-a", "${REDIS_PASSWORD}", "ping"]
services:
  cache:
    <<: *redis
  cache2:
    extends: cache
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}
      POSTGRES_USER: ${POSTGRES_USER}
      CONN: "host=db user=${POSTGRES_USER} password=${POSTGRES_PASSWORD}"
    healthcheck:
      test: pg_isready -U ${POSTGRES_USER} && PGPASSWORD='${POSTGRES_PASSWORD}' psql -c 'select 1'
  web:
    build:
      context: ./web
      args: ["INDEX=https://u:${PIP_TOKEN}@pypi.example/simple", "LOG=${LOG_LEVEL}"]
    entrypoint: python3 -m app --token ${API_TOKEN}
    command: [--log, "${LOG_LEVEL}"]
"""


def test_commands_health_tests_and_env_keep_references_and_deliver_secrets(tmp_path: Path) -> None:
    docs, notes, errors = adopt(tmp_path, COMPOSE)
    assert errors == []
    app, profile, personal = docs["app"], docs["profile"], docs["personal"]
    assert isinstance(app, dict) and isinstance(profile, dict) and isinstance(personal, dict)
    for name in ("cache", "cache2"):
        svc = app["services"][name]
        assert svc["command"] == ["sh", "-c", 'exec redis-server --requirepass "${REDIS_PASSWORD}" --appendonly yes']
        assert svc["health"]["cmd"] == 'redis-cli -a "${REDIS_PASSWORD}" ping'
        assert profile["components"][name]["secrets"] == [
            {"name": f"{name}-env", "key": "REDIS_PASSWORD", "env": "REDIS_PASSWORD"}]
        assert personal["defaults"]["secrets"][f"{name}-env"] == {"REDIS_PASSWORD": SECRETS["REDIS_PASSWORD"]}
    db = app["services"]["db"]
    assert db["env"] == {"POSTGRES_USER": "app"}
    assert db["health"]["cmd"] == "pg_isready -U app && PGPASSWORD='${POSTGRES_PASSWORD}' psql -c 'select 1'"
    assert personal["defaults"]["secrets"]["db-env"] == {
        "POSTGRES_PASSWORD": SECRETS["POSTGRES_PASSWORD"], "CONN": f"host=db user=app password={SECRETS['POSTGRES_PASSWORD']}"}
    web = app["components"]["web"]
    assert web["entrypoint"] == ["sh", "-c", 'exec python3 -m app --token "${API_TOKEN}" --log debug']
    assert "command" not in web and app["images"]["web"]["args"] == {"LOG": "debug"}
    assert personal["defaults"]["secrets"]["web-env"] == {"API_TOKEN": SECRETS["API_TOKEN"]}
    joined = "\n".join(notes)
    assert "compose.yaml:3: services.cache.command: runs through `sh -c`" in joined
    assert "services.db.environment.CONN: looks like a credential (it uses ${POSTGRES_PASSWORD})" in joined
    assert "services.web.build.args.INDEX: uses ${PIP_TOKEN}: not written" in joined


@pytest.mark.parametrize(("snippet", "key"), [
    ("image: \"redis:${API_TOKEN}\"", "services.s.image"),
    ("image: redis:7\n    ports: [\"${API_TOKEN}:80\"]", "services.s.ports"),
    ("image: redis:7\n    restart: \"${API_TOKEN}\"", "services.s.restart"),
    ("image: redis:7\n    volumes: [\"./${API_TOKEN}:/x\"]", "services.s.volumes"),
    ("image: redis:7\n    healthcheck: {test: [CMD, 'true'], interval: \"${API_TOKEN}\"}", "services.s.healthcheck"),
    ("build: {context: \"./${API_TOKEN}\"}", "services.s.build"),
])
def test_a_credential_anywhere_else_is_refused_without_its_value(tmp_path: Path, snippet: str, key: str) -> None:
    _, _, errors = adopt(tmp_path, f"services:\n  s:\n    {snippet}\n")
    assert len(errors) == 1 and f": {key}: uses credential variable(s) ${{API_TOKEN}}" in errors[0], errors


def test_a_credential_in_the_project_name_is_refused(tmp_path: Path) -> None:
    _, _, errors = adopt(tmp_path, "name: \"p${API_TOKEN}\"\nservices:\n  s: {image: redis:7}\n")
    assert errors and errors[0].startswith("compose.yaml:1: name: uses credential variable(s) ${API_TOKEN}")


def test_a_command_and_an_environment_that_disagree_on_the_value_are_refused(tmp_path: Path) -> None:
    compose = ("services:\n  s:\n    image: redis:7\n    command: [x, \"${REDIS_PASSWORD}\"]\n"
               "    environment: {REDIS_PASSWORD: another-value-1}\n")
    _, _, errors = adopt(tmp_path, compose)
    assert len(errors) == 1 and "services.s.command: references ${REDIS_PASSWORD}" in errors[0]


def test_an_environment_that_agrees_keeps_one_secret(tmp_path: Path) -> None:
    compose = ("services:\n  s:\n    image: redis:7\n    command: [x, \"${REDIS_PASSWORD}\"]\n"
               "    environment: {REDIS_PASSWORD: \"${REDIS_PASSWORD}\", MODE: fast}\n")
    docs, _, errors = adopt(tmp_path, compose)
    assert errors == []
    assert docs["profile"]["components"]["s"]["secrets"] == [  # type: ignore[index]
        {"name": "s-env", "key": "REDIS_PASSWORD", "env": "REDIS_PASSWORD"}]
    assert docs["app"]["services"]["s"]["env"] == {"MODE": "fast"}  # type: ignore[index]


# --- the CLI, as a user runs it -------------------------------------------------------------------

CLI_COMPOSE = """\
services:
  cache:
    image: redis:7
    command: ["redis-server", "--requirepass", "${REDIS_PASSWORD}"]
  db:
    image: postgres:16
    environment: {POSTGRES_USER: "${POSTGRES_USER}"}
    healthcheck:
      test: ["CMD-SHELL", "PGPASSWORD=${POSTGRES_PASSWORD} pg_isready -U ${POSTGRES_USER}"]
"""


def devenv(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRETS and k != "DEVENV_ROOT"}
    return subprocess.run([sys.executable, "-m", "devenv.cli", *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_init_validate_render_and_git_on_a_small_project(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    root.mkdir()
    (root / "compose.yaml").write_text(CLI_COMPOSE)
    (root / ".env").write_text(DOTENV)
    init = devenv(root, "init", "--from-compose", ".", "--tenant", "acme")
    assert init.returncode == 0, init.stderr
    assert "compose.yaml:4: services.cache.command: runs through `sh -c`" in init.stderr
    assert not any(v in init.stdout + init.stderr for v in SECRETS.values())
    assert devenv(root, "validate").returncode == 0
    render = devenv(root, "render", "--tenant", "acme", "--backend", "compose", "--write-secrets")
    assert render.returncode == 0, render.stderr
    services = yaml.safe_load(render.stdout)["services"]
    assert services["cache"]["command"][-1] == 'exec redis-server --requirepass "$${REDIS_PASSWORD}"'
    assert services["db"]["healthcheck"]["test"][-1] == "PGPASSWORD=$${POSTGRES_PASSWORD} pg_isready -U app"
    assert Path(services["cache"]["env_file"][0]).read_text() == f"REDIS_PASSWORD={SECRETS['REDIS_PASSWORD']}\n"
    assert Path(services["db"]["env_file"][0]).read_text() == f"POSTGRES_PASSWORD={SECRETS['POSTGRES_PASSWORD']}\n"
    git = ["git", "-C", str(root), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    staged = subprocess.run([*git, "diff", "--cached", "--name-only"], check=True, capture_output=True,
                            text=True).stdout.split()
    assert "devenv.yaml" in staged and "devenv.personal.yaml" not in staged
    for rel in staged:
        if rel != ".env":
            assert not any(v in (root / rel).read_text() for v in SECRETS.values()), rel


# --- init --from-k8s: credentials written inline in production's command and args -------------------

INLINE = {"REQUIREPASS": "kVf83jdLq0XyZ12AbCdEf9", "PGPASSWORD": "Sup3rS3cretPw!", "CACHE_ARG_3": "x7Hq9LmZ2pWvR4kT8sY1uB3n"}
MANIFEST = f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: cache, namespace: tenant-acme}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: cache}}}}
  template:
    metadata: {{labels: {{app: cache}}}}
    spec:
      containers:
      - name: cache
        image: redis:7
        command: ["/bin/sh", "-c", "PGPASSWORD={INLINE['PGPASSWORD']} exec \\"$0\\" \\"$@\\""]
        args: ["redis-server", "--requirepass", "{INLINE['REQUIREPASS']}", "--port", "6379", "{INLINE['CACHE_ARG_3']}"]
        readinessProbe:
          exec: {{command: [redis-cli, --pass, "{INLINE['REQUIREPASS']}", ping]}}
"""


def test_init_from_k8s_keeps_inline_credentials_of_args_out_of_every_file(tmp_path: Path) -> None:
    (tmp_path / "prod.yaml").write_text(MANIFEST)
    init = devenv(tmp_path, "init", "--from-k8s", "prod.yaml", "--tenant", "acme")
    assert init.returncode == 0, init.stderr
    written = {p: (tmp_path / p).read_text() for p in ("devenv.yaml", "profiles/acme.yaml", "devenv.local.yaml")}
    assert not any(v in text for v in INLINE.values() for text in [*written.values(), init.stdout, init.stderr])
    app = yaml.safe_load(written["devenv.yaml"])
    cache = {**app.get("components", {}), **app.get("services", {})}["cache"]
    assert cache["entrypoint"][:2] == ["sh", "-c"] and "command" not in cache and "health" not in cache
    assert "the probe holds an inline credential; no health check is written" in init.stderr
    assert '--requirepass "${REQUIREPASS}" --port 6379 "${CACHE_ARG_3}"' in cache["entrypoint"][2]
    refs = yaml.safe_load(written["profiles/acme.yaml"])["components"]["cache"]["secrets"]
    assert {r["env"] for r in refs} >= set(INLINE) and {r["name"] for r in refs} == {"cache-env"}
    assert devenv(tmp_path, "validate").returncode == 0
    words = exec_line_argv(cache["entrypoint"][2])
    assert words == ["/bin/sh", "-c", 'PGPASSWORD=v1 exec "$0" "$@"', "redis-server", "--requirepass", "v2",
                     "--port", "6379", "v3"]


def exec_line_argv(line: str) -> list[str]:
    """The argv the container's shell execs, with the three variables set to v1, v2, v3."""
    return sh_argv(line, {"PGPASSWORD": "v1", "REQUIREPASS": "v2", "CACHE_ARG_3": "v3"})


def test_a_credential_written_literally_in_a_compose_command_goes_to_the_personal_overlay(tmp_path: Path) -> None:
    literal = "kVf83jdLq0XyZ12AbCdEf9"
    compose = (f"services:\n  cache:\n    image: redis:7\n    command: [redis-server, --requirepass, {literal}, --port, '6379']\n"
               f"    healthcheck:\n      test: [CMD, redis-cli, -a, {literal}, ping]\n")
    root = project(tmp_path / "p", compose, {})
    adopted = read_compose(root, root, "acme", shell={})
    assert adopted.errors == []
    committed = "".join(yaml.safe_dump(d) for d in (adopted.app, adopted.profile, adopted.overlay))
    assert literal not in committed and not any(literal in str(n) for n in adopted.notes)
    cache = adopted.app["services"]["cache"]
    assert cache["command"] == ["sh", "-c", 'exec redis-server --requirepass "${CACHE_ARG_1}" --port 6379']
    assert cache["health"]["cmd"] == 'redis-cli -a "${CACHE_ARG_1}" ping'
    assert adopted.personal == {"defaults": {"secrets": {"cache-env": {"CACHE_ARG_1": literal}}}}


def test_ordinary_commands_are_left_alone() -> None:
    from devenv.adopt.credrefs import inline_credentials

    for tokens in (["python3", "-m", "http.server", "8000"], ["sh", "-c", "exec gunicorn -b 0.0.0.0:8000 app:wsgi"],
                   ["redis-server", "--appendonly", "yes"], ["postgres", "-c", "max_connections=200"],
                   ["celery", "-A", "shop.tasks", "worker", "--loglevel=INFO", "--concurrency=4"]):
        assert inline_credentials(tokens, "x") == {}, tokens
