"""Security by default: no secret in an image layer, in a file git would commit, or in the logs.

(Loopback-only ports and tenant network isolation are asserted in test_compose_up.py.)"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import docker
import pytest

from devenv.build.lint import lint_dockerfile
from tests.integration import test_faults as faults
from tests.integration.helpers import devenv, wait_for
from tests.integration.test_faults import Tiny

make_tiny = faults.make_tiny  # the shared fixture
DEV_SECRET = "s3cr3t-dev-value-7f2a"


# --- the linter: secrets that would land in a layer ----------------------------------------------------

def rules(tmp_path: Path, dockerfile: str, files: dict[str, str]) -> list[tuple[int | None, str]]:
    (tmp_path / "Dockerfile").write_text(dockerfile)
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return [(f.line, f.rule) for f in lint_dockerfile(tmp_path / "Dockerfile", tmp_path)]


@pytest.mark.parametrize("line", ["ENV DB_PASSWORD=hunter2", "ARG API_KEY=abc123", "ENV STRIPE_SECRET sk_live_x"])
def test_lint_flags_literal_secret_env_and_arg(tmp_path: Path, line: str) -> None:
    assert rules(tmp_path, f"FROM debian:bookworm-slim\n{line}\n", {}) == [(2, "secret-in-build")]


@pytest.mark.parametrize("line", ["ARG NPM_TOKEN", "ENV PASSWORD_FILE=/run/secrets/db", "ENV TOKEN=${NPM_TOKEN}"])
def test_lint_leaves_references_alone(tmp_path: Path, line: str) -> None:
    assert rules(tmp_path, f"FROM debian:bookworm-slim\n{line}\n", {}) == []


def test_lint_flags_copy_of_an_env_file(tmp_path: Path) -> None:
    assert rules(tmp_path, "FROM debian:bookworm-slim\nCOPY .env /app/\n", {".env": "A=1\n"}) == [(2, "secret-in-build")]


@pytest.mark.parametrize("env_file", [".env", "config/prod.env", ".env.local"])
def test_lint_flags_whole_context_copy_with_an_env_file_not_ignored(tmp_path: Path, env_file: str) -> None:
    got = rules(tmp_path, "FROM debian:bookworm-slim\nWORKDIR /app\nCOPY . .\n", {env_file: "SECRET=x\n"})
    assert got == [(3, "secret-in-build")]
    finding = lint_dockerfile(tmp_path / "Dockerfile", tmp_path)[0]
    assert env_file in finding.message and ".dockerignore" in finding.fix


@pytest.mark.parametrize("ignore", [".env\n", "*.env\n.env*\n", "**/.env\n"])
def test_whole_context_copy_is_fine_when_dockerignore_excludes_the_env_file(tmp_path: Path, ignore: str) -> None:
    assert rules(tmp_path, "FROM debian:bookworm-slim\nCOPY . /app\n", {".env": "S=1\n", ".dockerignore": ignore}) == []


def test_env_templates_are_not_secrets(tmp_path: Path) -> None:
    assert rules(tmp_path, "FROM debian:bookworm-slim\nCOPY . /app\n", {".env.example": "S=\n"}) == []


# --- the real thing -------------------------------------------------------------------------------------

@pytest.fixture
def with_secret(make_tiny) -> Tiny:  # type: ignore[no-untyped-def]
    """web prints its secret at start; the overlay pins a dev value, and a second secret key is generated."""
    tiny: Tiny = make_tiny(secret=True, dev_secret=DEV_SECRET,
                           web_cmd=f'echo "password is $DATABASE_PASSWORD"; {faults.LOOP}')
    devenv(tiny.root, "up", "--detach", timeout=300)
    return tiny


@pytest.mark.docker
def test_secret_is_in_no_image_layer_and_no_rendered_file(with_secret: Tiny) -> None:
    tiny = with_secret
    web = tiny.container("web")
    image = docker.from_env().images.get(web.attrs["Config"]["Image"])
    assert DEV_SECRET not in json.dumps(image.attrs)
    assert DEV_SECRET not in json.dumps(image.history())
    compose = (tiny.root / ".devenv" / "acme" / "compose.yaml").read_text()
    assert DEV_SECRET not in compose and "DATABASE_PASSWORD=" not in compose and "DATABASE_PASSWORD:" not in compose
    assert DEV_SECRET in (tiny.root / ".devenv" / "acme" / "secrets" / "web.env").read_text()  # where it does live
    assert (tiny.root / ".devenv" / ".gitignore").read_text().splitlines() == ["*"]


@pytest.mark.docker
def test_git_would_commit_nothing_of_the_state_dir(with_secret: Tiny) -> None:
    root = with_secret.root
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    staged = subprocess.run([*git, "diff", "--cached", "--name-only"], cwd=root, check=True,
                            capture_output=True, text=True).stdout.split()
    assert "devenv.yaml" in staged
    assert [s for s in staged if s.startswith(".devenv/")] == []


@pytest.mark.docker
def test_logs_mask_the_secret(with_secret: Tiny) -> None:
    tiny = with_secret
    def printed() -> str | None:
        text = tiny.container("web").logs().decode()
        return text if "password is" in text else None

    raw = wait_for(printed, timeout=30, what="web's first line")
    assert DEV_SECRET in raw  # the container really printed it
    cp = devenv(tiny.root, "logs", "--tenant", "acme", "web")
    assert "password is ****" in cp.stdout, cp.stdout
    assert DEV_SECRET not in cp.stdout + cp.stderr
