"""``devenv init --from-compose``: the reader's syntaxes and the writer's promises, Docker-free.

The CLI runs in-process (``devenv.cli.main``) on compose projects written into ``tmp_path``; what
the user sees (stdout, stderr, the files written, ``devenv validate``) is what is checked.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from devenv.adopt import parts
from devenv.adopt.interpolate import Environment, InterpolationError, interpolate, parse_dotenv
from devenv.cli import main

DOCKERFILE = "FROM debian:bookworm-slim\nCOPY . /app\nCMD [\"sleep\", \"infinity\"]\n"


def run(root: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    old, cwd = os.environ.get("DEVENV_ROOT"), os.getcwd()
    os.environ["DEVENV_ROOT"] = str(root)
    os.chdir(root)
    try:
        code = main(list(args))
    finally:
        os.chdir(cwd)
        if old is None:
            os.environ.pop("DEVENV_ROOT", None)
        else:
            os.environ["DEVENV_ROOT"] = old
    out, err = capsys.readouterr()
    return code, out, err


def project(root: Path, compose: str, files: dict[str, str] | None = None) -> Path:
    (root / "web").mkdir(parents=True, exist_ok=True)
    (root / "web" / "Dockerfile").write_text(DOCKERFILE)
    for rel, text in (files or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "compose.yaml").write_text(compose)
    return root


APP = """\
x-env: &env
  LOG_LEVEL: info
services:
  web:
    build: {context: ./web, args: [PY=3.11]}
    container_name: shop_web
    ports: ["${WEB_PORT:-8000}:8000", "9000"]
    environment:
      <<: *env
      DATABASE_URL: postgres://db:5432/${DB_NAME}
    env_file: web.env
    command: python3 -m http.server 8000
    entrypoint: ["tini", "--"]
    user: "1000:1000"
    working_dir: /app
    healthcheck:
      test: ["CMD-SHELL", "curl -f http://localhost:8000/"]
      interval: 1m30s
      timeout: 500ms
      start_period: 5s
      retries: 4
    depends_on:
      db: {condition: service_healthy}
    volumes: ["./web:/app", "cache:/cache"]
    secrets: [db_password]
    privileged: true
    develop:
      watch:
        - {action: rebuild, path: ./web/requirements.txt}
  db:
    image: postgres:${PG_TAG}
    volumes: [{type: volume, source: db_data, target: /var/lib/postgresql/data}]
    healthcheck: {test: [CMD, pg_isready, -U, app]}
  debug:
    image: busybox:1.36
    profiles: [debug]
volumes:
  db_data: {}
  cache: {}
secrets:
  db_password:
    file: ./secrets/db_password.txt
"""
FILES = {".env": "PG_TAG=16\nDB_NAME=shop\n", "web/requirements.txt": "",
         "web.env": "FROM_FILE=yes\nLOG_LEVEL=ignored\n",
         "secrets/db_password.txt": "hunter2-not-in-any-file\n"}


def test_init_writes_a_valid_project_that_keeps_what_compose_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, APP, FILES)
    code, out, err = run(root, "init", "--from-compose", str(root), "--tenant", "acme", capsys=capsys)
    assert code == 0, err
    assert out.splitlines() == ["wrote devenv.yaml", "wrote profiles/acme.yaml", "wrote devenv.local.yaml"]
    app = yaml.safe_load((root / "devenv.yaml").read_text())
    web = app["components"]["web"]
    assert app["images"]["web"] == {"context": "web", "args": {"PY": "3.11"}}
    assert [p["container"] for p in web["ports"]] == [8000, 9000]
    assert web["env"] == {"LOG_LEVEL": "info", "DATABASE_URL": "postgres://db:5432/shop", "FROM_FILE": "yes"}
    assert web["command"] == ["python3", "-m", "http.server", "8000"]
    assert web["entrypoint"] == ["tini", "--"] and web["user"] == "1000:1000" and web["working_dir"] == "/app"
    assert web["health"] == {"cmd": "curl -f http://localhost:8000/", "interval": 90, "timeout": 0.5,
                             "start_period": 5, "retries": 4}
    assert web["depends_on"] == ["db"]
    assert web["volumes"] == [{"name": "cache", "target": "/cache"}]
    assert web["watch"] == [{"path": "web/requirements.txt", "action": "rebuild"},
                            {"path": "web", "action": "sync", "target": "/app"}]
    assert app["services"]["db"]["ref"] == "postgres:16"
    assert app["services"]["db"]["volumes"] == [{"name": "db-data", "target": "/var/lib/postgresql/data"}]
    overlay = yaml.safe_load((root / "devenv.local.yaml").read_text())
    assert overlay["defaults"]["disable"] == ["debug"]
    assert overlay["defaults"]["secrets"] == {"db-password": {"value": {"file": "secrets/db_password.txt"}}}
    profile = yaml.safe_load((root / "profiles" / "acme.yaml").read_text())
    assert profile["secrets"] == [{"name": "db-password", "key": "value", "env": "DB_PASSWORD"}]
    assert "compose.yaml:6: services.web.container_name: dropped" in err
    assert "compose.yaml:26: services.web.privileged: devenv does not run privileged containers" in err
    for f in ("devenv.yaml", "profiles/acme.yaml", "devenv.local.yaml"):
        assert "hunter2" not in (root / f).read_text()
    code, out, err = run(root, "validate", capsys=capsys)
    assert code == 0 and "configuration OK" in out, err


def test_dry_run_writes_nothing_and_an_existing_project_needs_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, APP, FILES)
    code, out, _ = run(root, "init", "--from-compose", "compose.yaml", "--dry-run", capsys=capsys)
    assert code == 0 and "# --- devenv.yaml ---" in out and "ref: postgres:16" in out
    assert not (root / "devenv.yaml").exists() and not (root / "profiles").exists()
    (root / "devenv.yaml").write_text("name: mine\n")
    code, _, err = run(root, "init", "--from-compose", "compose.yaml", capsys=capsys)
    assert code == 1 and "not overwriting" in err and "--force" in err
    assert (root / "devenv.yaml").read_text() == "name: mine\n"
    code, _, err = run(root, "init", "--from-compose", "compose.yaml", "--force", capsys=capsys)
    assert code == 0, err
    assert "name: " + tmp_path.name.lower().replace("_", "-") in (root / "devenv.yaml").read_text()


def test_a_symlink_out_of_the_project_is_never_written_through(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "app", APP, FILES)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (root / "profiles").symlink_to(outside)
    code, _, err = run(root, "init", "--from-compose", "compose.yaml", "--force", capsys=capsys)
    assert code == 1 and "outside the project root" in err
    assert list(outside.iterdir()) == [] and not (root / "devenv.yaml").exists()


YAML_11_LOOKALIKES = """\
services:
  web:
    image: nginx:1.27
    ports:
      - 2222:22
      - 8080:80
    environment:
      FEATURE: on
      LEGACY: no
      DEBUG: true
      MODE: 0755
      TIMEOUT: 1.0
      RATIO: 0.5
      BIG: 1e3
      HUGE: 1e6
      PRECISE: 123456789.5
"""


def test_unquoted_yaml_1_1_lookalikes_are_read_as_compose_reads_them(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """`docker compose config` (go-yaml v3) reads `- 2222:22` as a port mapping (YAML 1.1: the
    number 133342, which init refused) and `on`/`no` as strings (YAML 1.1: booleans, which init
    wrote as 'true'/'false'); only true/false are booleans, and 0755 is octal to both."""
    root = project(tmp_path, YAML_11_LOOKALIKES)
    code, _, err = run(root, "init", "--from-compose", "compose.yaml", capsys=capsys)
    assert code == 0, err
    web = yaml.safe_load((root / "devenv.yaml").read_text())["services"]["web"]
    assert [p["container"] for p in web["ports"]] == [22, 80]
    assert web["env"] == {"FEATURE": "on", "LEGACY": "no", "DEBUG": "true", "MODE": "493", "TIMEOUT": "1",
                          "RATIO": "0.5", "BIG": "1000", "HUGE": "1e+06",
                          "PRECISE": "1.234567895e+08"}  # what `docker compose config` passes
    code, out, err = run(root, "validate", capsys=capsys)
    assert code == 0 and "configuration OK" in out, err


@pytest.mark.parametrize(("compose", "expect"), [
    ("services:\n  web:\n    image: Bad Image\n", "compose.yaml:3: services.web.image:"),
    ("services:\n  web:\n    build: {context: ./nowhere}\n", "compose.yaml:3: services.web.build.context:"),
    ("services:\n  web:\n    image: x\n    ports: ['80:abc']\n", "compose.yaml:4: services.web.ports[0]:"),
    ("services:\n  web:\n    image: x\n    healthcheck: {test: [CMD, x], interval: soon}\n",
     "compose.yaml:4: services.web.healthcheck.interval:"),
    ("services:\n  web:\n    image: ${IMG:?set IMG first}\n", "variable IMG is required: set IMG first"),
    ("services: {}\n", "compose.yaml:1: services:"),
    ("services:\n  web:\n    image: x\n  web:\n    image: y\n", "compose.yaml:4: services.web: duplicate key"),
    ("services:\n  web:\n\timage: x\n", "compose.yaml:3:"),
])
def test_bad_compose_is_refused_with_file_line_and_key(tmp_path: Path, compose: str, expect: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, compose)
    code, _, err = run(root, "init", "--from-compose", "compose.yaml", capsys=capsys)
    assert code == 1 and expect in err and "Traceback" not in err
    assert not (root / "devenv.yaml").exists()


def test_interpolation_follows_compose() -> None:
    env = Environment(dotenv={"A": "a", "EMPTY": ""}, shell={"B": "b"})
    assert interpolate("${A}-$B-${C:-c}-${EMPTY:-d}-${EMPTY-e}-${A:+yes}-${C+no}-$$A", env) == "a-b-c-d--yes--$A"
    assert interpolate("${C:-${A}x}", env) == "ax"
    with pytest.raises(InterpolationError, match="required: need C"):
        interpolate("${C:?need C}", env)
    with pytest.raises(InterpolationError):
        interpolate("${A", env)


def test_dotenv_and_value_syntaxes() -> None:
    values, bad = parse_dotenv("# c\nexport A=1\nB='x # y'\nC=\"l1\\nl2\"\nD=v # note\nnot a line\n")
    assert values == {"A": "1", "B": "x # y", "C": "l1\nl2", "D": "v"} and bad[0][0] == 6
    assert [p.container for p in parts.ports("127.0.0.1:8000-8001:9000-9001")] == [9000, 9001]
    assert parts.ports("[::1]:6001:6001/udp")[0].protocol == "udp"
    assert parts.ports({"target": 80, "published": "8080", "app_protocol": "http"})[0].http
    assert parts.duration("1m30s") == 90 and parts.duration("1.5s") == 1.5 and parts.duration(10) == 10
    assert parts.memory("512m") == "512Mi" and parts.memory("1gb") == "1Gi" and parts.cpus("0.5") == "500m"
    assert parts.mount("./src:/app:ro") == parts.Mount("bind", "./src", "/app", True)
    assert parts.mount("data:/d") == parts.Mount("volume", "data", "/d")
    assert parts.mount("/tmp/cache") == parts.Mount("volume", None, "/tmp/cache")


def test_bind_mounts_become_sync_rules_volumes_or_notes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    compose = """\
services:
  web:
    build: ./web
    volumes: ["./web:/srv", "./logs:/srv/logs", "/var/run/docker.sock:/var/run/docker.sock"]
  db:
    image: mysql:8
    volumes: ["./data/mysql:/var/lib/mysql", "./conf/my.cnf:/etc/mysql/my.cnf:ro"]
"""
    root = project(tmp_path, compose)
    code, _, err = run(root, "init", "--from-compose", "compose.yaml", capsys=capsys)
    assert code == 0, err
    app = yaml.safe_load((root / "devenv.yaml").read_text())
    assert app["components"]["web"]["watch"] == [{"path": "web", "action": "sync", "target": "/srv"}]
    assert app["components"]["web"]["volumes"] == [{"name": "web-logs", "target": "/srv/logs"}]
    assert app["services"]["db"]["volumes"] == [{"name": "db-mysql", "target": "/var/lib/mysql"}]
    assert "compose.yaml:4: services.web.volumes[2]: the engine's socket is never handed to a container" in err
    assert "compose.yaml:7: services.db.volumes[1]: bind mount of ./conf/my.cnf dropped" in err


def test_missing_registry_images_stop_up_with_how_to_provide_them() -> None:
    """The check `devenv up` runs before starting anything (the --as-prod code path)."""
    import docker.errors

    from devenv.errors import DevenvError
    from devenv.model.asprod import check_images_present
    from devenv.model.types import TenantSpec, Workload

    class Images:
        def get(self, name: str) -> None:
            raise docker.errors.ImageNotFound(name)

        def pull(self, repo: str, tag: str) -> None:
            raise docker.errors.APIError("no such host")

    class Client:
        images = Images()

    w = Workload("insight", "service", None, "redis/redisinsight:2.50", None, 1, None, {}, (), (), None, (), (), ())
    spec = TenantSpec("acme", "local", "devenv-acme", "tenant-acme", {}, {}, {"insight": w}, (), {}, {})
    with pytest.raises(DevenvError) as err:
        check_images_present(spec, Client(), what="registry image(s)", dev_hint=False)
    assert "1 registry image(s) are not on this machine" in err.value.message
    assert "insight: redis/redisinsight:2.50" in err.value.message
    assert "`docker login docker.io`" in err.value.hint and "docker load -i image.tar" in err.value.hint
    assert "--dev" not in err.value.hint


def test_the_notes_example_shares_the_sample_base_layers() -> None:
    """The notes images start with the shop base's FROM, ENV and apt RUN word for word, so a machine
    that built the sample builds the notes example from the layer cache (the CI runs both)."""
    repo = Path(__file__).resolve().parents[2]

    def head(path: Path) -> list[str]:
        lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
        end = next(i for i, line in enumerate(lines) if "chown -R app:app /opt/venv" in line)
        return lines[: end + 1]

    base = head(repo / "examples" / "shop" / "base" / "Dockerfile")
    assert head(repo / "examples" / "notes" / "web" / "Dockerfile") == base
    assert head(repo / "examples" / "notes" / "worker" / "Dockerfile") == base
