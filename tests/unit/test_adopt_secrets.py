"""``devenv init --from-compose`` never writes a secret value into a committed file, Docker-free.

A compose project whose ``.env`` and ``env_file`` hold credentials (by name, inside a URL, by value
shape) is adopted through the in-process CLI; every file init leaves in the tree, except the
git-ignored ``devenv.personal.yaml``, is searched for each value; ``git check-ignore`` says the
personal overlay is ignored; and ``devenv render --write-secrets`` gives each service the same
environment compose would have given it, the credentials through the service's own env file.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.unit.test_adopt_compose import project, run

COMPOSE = """\
services:
  web:
    build: ./web
    environment:
      DATABASE_URL: postgres://app:${POSTGRES_PASSWORD}@db:5432/app
      LOG_LEVEL: ${LOG_LEVEL}
      PAYMENTS_KEY: ${PAYMENTS_KEY}
      PUBLIC_URL: https://shop.example.com/
    env_file: web.env
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}
      POSTGRES_USER: app
"""
SECRETS = {
    "POSTGRES_PASSWORD": "pg-Hunter2-not-committed",
    "PAYMENTS_KEY": "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "SESSION_SECRET": "plain-words-but-secret-name",
    "UPSTREAM_ID": "q8Zr2LmX0vT7kWb3Nc5YdJ1h",  # innocent name, generated-looking value
    "CACHE_URL": "redis://:R3disPw-x9@cache:6379/0",
}
FILES = {
    ".env": f"POSTGRES_PASSWORD={SECRETS['POSTGRES_PASSWORD']}\nLOG_LEVEL=debug\nPAYMENTS_KEY={SECRETS['PAYMENTS_KEY']}\n",
    "web.env": (f"# the web app's settings\nFEATURE_FLAGS=search,cart\nSESSION_SECRET={SECRETS['SESSION_SECRET']}\n"
                f"UPSTREAM_ID={SECRETS['UPSTREAM_ID']}\nCACHE_URL={SECRETS['CACHE_URL']}\n"),
    ".gitignore": "node_modules/\n",
}
INPUTS = {"compose.yaml", ".env", "web.env", "web/Dockerfile"}
DATABASE_URL = f"postgres://app:{SECRETS['POSTGRES_PASSWORD']}@db:5432/app"
WEB_ENV = {"DATABASE_URL": DATABASE_URL, "LOG_LEVEL": "debug", "PAYMENTS_KEY": SECRETS["PAYMENTS_KEY"],
           "PUBLIC_URL": "https://shop.example.com/", "FEATURE_FLAGS": "search,cart",
           "SESSION_SECRET": SECRETS["SESSION_SECRET"], "UPSTREAM_ID": SECRETS["UPSTREAM_ID"],
           "CACHE_URL": SECRETS["CACHE_URL"]}
DB_ENV = {"POSTGRES_PASSWORD": SECRETS["POSTGRES_PASSWORD"], "POSTGRES_USER": "app"}


@pytest.fixture
def adopted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    root = project(tmp_path / "shop", COMPOSE, FILES)
    code, out, err = run(root, "init", "--from-compose", "compose.yaml", "--tenant", "acme", capsys=capsys)
    assert code == 0, err
    assert out.splitlines() == ["wrote devenv.yaml", "wrote profiles/acme.yaml", "wrote devenv.local.yaml",
                                "wrote devenv.personal.yaml", "wrote .gitignore"]
    return root, err


def committed(root: Path) -> dict[str, str]:
    """Every file in the tree but init's inputs and the git-ignored personal overlay."""
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*")
            if p.is_file() and p.relative_to(root).as_posix() not in INPUTS | {"devenv.personal.yaml"}}


def test_no_secret_value_reaches_a_committed_file(adopted: tuple[Path, str]) -> None:
    root, _ = adopted
    files = committed(root)
    assert set(files) == {"devenv.yaml", "profiles/acme.yaml", "devenv.local.yaml", ".gitignore"}
    for rel, text in files.items():
        for name, value in SECRETS.items():
            assert value not in text, f"{name}'s value is in {rel}"
        assert "postgres://app:" not in text and "redis://:" not in text, f"a credential URL's shape is in {rel}"
    personal = root / "devenv.personal.yaml"
    assert personal.stat().st_mode & 0o077 == 0
    assert yaml.safe_load(personal.read_text())["defaults"]["secrets"] == {
        "web-env": {k: WEB_ENV[k] for k in ("DATABASE_URL", "PAYMENTS_KEY", "SESSION_SECRET",
                                            "UPSTREAM_ID", "CACHE_URL")},
        "db-env": {"POSTGRES_PASSWORD": SECRETS["POSTGRES_PASSWORD"]}}
    assert (root / ".gitignore").read_text().startswith("node_modules/\n")


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_ignores_the_personal_overlay_and_stages_no_secret(adopted: tuple[Path, str]) -> None:
    root, _ = adopted
    git = ["git", "-C", str(root), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    assert subprocess.run([*git, "check-ignore", "-q", "devenv.personal.yaml"]).returncode == 0
    subprocess.run([*git, "add", "-A"], check=True)
    staged = subprocess.run([*git, "diff", "--cached", "--name-only"], check=True, capture_output=True,
                            text=True).stdout.split()
    assert "devenv.personal.yaml" not in staged and "devenv.yaml" in staged
    for rel in staged:
        if rel not in INPUTS:
            text = (root / rel).read_text()
            assert not any(v in text for v in SECRETS.values()), rel


def test_non_secret_values_stay_plain_and_each_secret_is_noted_with_its_line(adopted: tuple[Path, str]) -> None:
    root, err = adopted
    app = yaml.safe_load((root / "devenv.yaml").read_text())
    assert app["components"]["web"]["env"] == {"LOG_LEVEL": "debug", "PUBLIC_URL": "https://shop.example.com/",
                                               "FEATURE_FLAGS": "search,cart"}
    assert app["services"]["db"]["env"] == {"POSTGRES_USER": "app"}
    profile = yaml.safe_load((root / "profiles" / "acme.yaml").read_text())
    assert profile["components"]["db"]["secrets"] == [{"name": "db-env", "key": "POSTGRES_PASSWORD",
                                                       "env": "POSTGRES_PASSWORD"}]
    assert {r["env"] for r in profile["components"]["web"]["secrets"]} == {
        "DATABASE_URL", "PAYMENTS_KEY", "SESSION_SECRET", "UPSTREAM_ID", "CACHE_URL"}
    for where in ("compose.yaml:5: services.web.environment.DATABASE_URL: looks like a credential (it is a URL",
                  "compose.yaml:7: services.web.environment.PAYMENTS_KEY: looks like a credential",
                  "compose.yaml:13: services.db.environment.POSTGRES_PASSWORD: looks like a credential (its name",
                  "web.env:3: SESSION_SECRET: looks like a credential", "web.env:4: UPSTREAM_ID: looks like a credential (its value looks generated",
                  "web.env:5: CACHE_URL: looks like a credential"):
        assert where in err
    assert not any(v in err for v in SECRETS.values())


def test_render_gives_the_app_the_same_env_through_its_own_secret_file(adopted: tuple[Path, str],
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    root, _ = adopted
    code, out, err = run(root, "validate", capsys=capsys)
    assert code == 0, err
    code, out, err = run(root, "render", "--tenant", "acme", "--backend", "compose", "--write-secrets", capsys=capsys)
    assert code == 0, err
    assert not any(v in out for v in SECRETS.values())
    services = yaml.safe_load(out)["services"]
    for name, expected in (("web", WEB_ENV), ("db", DB_ENV)):
        env = {k: v for k, v in services[name].get("environment", {}).items() if k != "TENANT"}
        for env_file in services[name]["env_file"]:
            assert Path(env_file).stat().st_mode & 0o077 == 0
            env.update(line.split("=", 1) for line in Path(env_file).read_text().splitlines())
        assert env == expected, name


def test_dry_run_shows_the_personal_overlay_masked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "shop", COMPOSE, FILES)
    code, out, err = run(root, "init", "--from-compose", "compose.yaml", "--dry-run", capsys=capsys)
    assert code == 0, err
    assert "# --- devenv.personal.yaml ---" in out and "POSTGRES_PASSWORD: '****'" in out
    assert not any(v in out for v in SECRETS.values())
    assert not (root / "devenv.personal.yaml").exists() and (root / ".gitignore").read_text() == "node_modules/\n"


def test_an_ignored_personal_overlay_is_not_listed_twice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "shop", COMPOSE, {**FILES, ".gitignore": "devenv.personal.yaml"})
    code, out, err = run(root, "init", "--from-compose", "compose.yaml", capsys=capsys)
    assert code == 0, err
    assert "wrote .gitignore" not in out and (root / ".gitignore").read_text() == "devenv.personal.yaml"


def test_a_gitignore_without_a_final_newline_or_in_latin_1_is_appended_to_byte_for_byte(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = "# caf\xe9\n*.log".encode("latin-1")
    root = project(tmp_path / "shop", COMPOSE, {k: v for k, v in FILES.items() if k != ".gitignore"})
    (root / ".gitignore").write_bytes(before)
    code, out, err = run(root, "init", "--from-compose", "compose.yaml", capsys=capsys)
    assert code == 0, err
    after = (root / ".gitignore").read_bytes()
    assert after.startswith(before + b"\n") and after.endswith(b"\n/devenv.personal.yaml\n")
