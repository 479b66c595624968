"""Hostile file states: every command refuses cleanly (path + fix), never hangs, never clobbers.

Through the real CLI entry point (``cli.main``) on a copy of the sample: ``render --output`` onto
devices, FIFOs, directories, symlinks leading out and existing files; a ``.devenv`` that is a file;
FIFOs and directories where profiles and overlays should be; empty tenant names.
"""

from __future__ import annotations

import os
import socket
import stat
import tempfile
from pathlib import Path

import pytest
import yaml
from test_render_support import fixed_images, load_sample

from devenv import cli, fsutil, layout
from devenv.commands import render as render_cmd
from devenv.errors import DevenvError
from devenv.model.types import Project


@pytest.fixture
def project(sample: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    project = load_sample(sample)
    monkeypatch.setattr(render_cmd, "image_refs", lambda p, specs: fixed_images(p, "cmd"))
    return project


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:  # argparse refusals
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


# --- render --output -------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["-", "/dev/stdout"])
def test_output_dash_and_dev_stdout_stream(project: Project, capsys: pytest.CaptureFixture[str], target: str) -> None:
    code, out, err = run(capsys, "render", "-t", "acme", "-o", target)
    assert code == 0 and yaml.safe_load(out)["name"] == "devenv-acme"


def test_output_refuses_a_directory(project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "render", "-t", "acme", "-o", str(tmp_path), "--force")
    assert code == 1 and f"{tmp_path} is a directory" in err and "hint:" in err
    assert tmp_path.is_dir()


def test_output_never_replaces_dev_null(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "render", "-t", "acme", "-o", "/dev/null")
    assert code == 1 and "character device" in err and "--force" in err
    code, _, err = run(capsys, "render", "-t", "acme", "-o", "/dev/null", "--force")
    assert code == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_output_fifo_refused_then_written_into_with_force(project: Project, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code, _, err = run(capsys, "render", "-t", "acme", "-o", str(fifo))
    assert code == 1 and "FIFO" in err
    code, _, err = run(capsys, "render", "-t", "acme", "-o", str(fifo), "--force")  # nobody reads: no hang
    assert code == 1 and "no process reads" in err
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader: the write goes through
    try:
        code, _, _ = run(capsys, "render", "-t", "acme", "-o", str(fifo), "--force")
        data = os.read(reader, 1 << 20)
    finally:
        os.close(reader)
    assert b"devenv-acme" in data
    assert code == 0 and stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_output_socket_refused(project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
        code, _, err = run(capsys, "render", "-t", "acme", "-o", str(path))
    assert code == 1 and "socket" in err


def test_output_existing_file_needs_force(project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.yaml"
    target.write_text("mine\n")
    code, _, err = run(capsys, "render", "-t", "acme", "-o", str(target))
    assert code == 1 and "already exists" in err and "--force" in err and target.read_text() == "mine\n"
    code, _, _ = run(capsys, "render", "-t", "acme", "-o", str(target), "--force")
    assert code == 0 and yaml.safe_load(target.read_text())["name"] == "devenv-acme"


def test_output_symlink_out_of_the_project(project: Project, sample: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    link = sample / "out.yaml"
    link.symlink_to(victim)
    code, _, err = run(capsys, "render", "-t", "acme", "-o", str(link))
    assert code == 1 and "symlink leading outside the project" in err and victim.read_text() == "precious\n"
    inside = sample / "inside.yaml"
    inside.write_text("old\n")
    (sample / "in-link.yaml").symlink_to(inside)
    code, _, err = run(capsys, "render", "-t", "acme", "-o", str(sample / "in-link.yaml"), "--force")
    assert code == 0 and (sample / "in-link.yaml").is_symlink() and "devenv-acme" in inside.read_text()


def test_output_into_an_unwritable_directory_names_it(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(*a: object, **k: object) -> None:
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    code, _, err = run(capsys, "render", "-t", "acme", "-o", str(tmp_path / "x.yaml"))
    assert code == 1 and f"cannot write {tmp_path}" in err and "chmod" in err


# --- .devenv/ state ---------------------------------------------------------------------------------

def test_state_dir_that_is_a_file(project: Project, sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (sample / ".devenv").write_text("not a dir\n")
    code, _, err = run(capsys, "render", "-t", "acme", "--write-secrets")
    assert code == 1 and f"{sample / '.devenv'} is a file, not a directory" in err and "move" in err


def test_cache_that_is_a_file(project: Project, sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(DevenvError, match="is a file, not a directory"):
        (sample / ".devenv").mkdir()
        (sample / ".devenv" / "cache").write_text("x")
        layout.ensure(sample, "cache")


def test_write_secrets_guarantees_the_gitignore(project: Project, sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(capsys, "render", "-t", "acme", "--write-secrets")
    assert code == 0
    assert (sample / ".devenv" / ".gitignore").read_text() == "*\n"
    assert (sample / ".devenv" / "secrets").is_dir()


def test_a_state_dir_symlinked_out_of_the_project_is_refused_and_nothing_written_there(
        project: Project, sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = tmp_path / "elsewhere"  # e.g. a cloned repository committed `.devenv -> ~/.ssh`
    elsewhere.mkdir()
    (sample / ".devenv").symlink_to(elsewhere)
    code, _, err = run(capsys, "render", "-t", "acme", "--write-secrets")
    assert code == 1 and list(elsewhere.iterdir()) == []
    assert f"{sample / '.devenv'} is a symlink leading outside the project (to {elsewhere})" in err
    assert f"remove the symlink (rm {sample / '.devenv'})" in err


def test_a_symlink_inside_the_state_dir_leading_out_is_refused(tmp_path: Path) -> None:
    project, out = tmp_path / "proj", tmp_path / "out"
    (project / ".devenv").mkdir(parents=True)
    out.mkdir()
    (project / ".devenv" / "acme").symlink_to(out)
    with pytest.raises(DevenvError, match=r"acme is a symlink leading outside the project"):
        fsutil.atomic_write(project / ".devenv" / "acme" / "compose.yaml", "{}")
    assert list(out.iterdir()) == []


def test_a_state_dir_symlinked_inside_the_project_is_followed(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / ".devenv").symlink_to(tmp_path / "state")
    fsutil.atomic_write(tmp_path / ".devenv" / "cache" / "x.json", "{}")
    assert (tmp_path / "state" / "cache" / "x.json").read_text() == "{}"


def test_every_private_write_under_devenv_gets_the_gitignore(tmp_path: Path) -> None:
    fsutil.atomic_write(tmp_path / ".devenv" / "a" / "b" / "secret.json", "{}")
    assert (tmp_path / ".devenv" / ".gitignore").read_text() == "*\n"


def test_atomic_write_refuses_to_replace_a_fifo(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "f")
    with pytest.raises(DevenvError, match="FIFO"):
        fsutil.atomic_write(tmp_path / "f", "x")
    assert stat.S_ISFIFO(os.stat(tmp_path / "f").st_mode)


# --- special files where devenv reads ---------------------------------------------------------------

def test_fifo_profile_is_refused_not_read(project: Project, sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.mkfifo(sample / "profiles" / "blocked.yaml")
    code, out, err = run(capsys, "validate")  # would block forever on open() before
    assert code == 1 and "profiles/blocked.yaml: cannot read the file: it is a FIFO" in out


@pytest.mark.parametrize("kind", ["directory", "device", "dangling"])
def test_overlay_that_is_not_a_file_is_reported(project: Project, sample: Path, capsys: pytest.CaptureFixture[str],
                                                kind: str) -> None:
    personal = sample / "devenv.personal.yaml"
    if kind == "directory":
        personal.mkdir()
    elif kind == "device":
        personal.symlink_to("/dev/zero")
    else:
        personal.symlink_to(sample / "nowhere.yaml")
    code, out, _ = run(capsys, "validate")
    assert code == 1 and "devenv.personal.yaml: cannot read the file" in out


def test_read_bytes_refuses_devices_and_bounds_reads(tmp_path: Path) -> None:
    with pytest.raises(DevenvError, match="character device"):
        fsutil.read_bytes(Path("/dev/zero"), 10)
    (tmp_path / "big").write_bytes(b"x" * 100)
    assert len(fsutil.read_bytes(tmp_path / "big", 10)) == 11


# --- tenant names ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["", ",", " , ", "acme,", ",acme", "acme,,globex"])
@pytest.mark.parametrize("command", ["down", "up", "status", "logs", "build", "render", "diff", "watch"])
def test_empty_tenant_names_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str], command: str, value: str) -> None:
    """Refused by the argument parser: before the project loads, before anything acts or writes."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEVENV_ROOT", str(tmp_path))
    code, out, err = run(capsys, command, "--tenant", value)
    assert code == 2 and "empty name" in err and out == ""
    assert list(tmp_path.iterdir()) == []


def test_diff_without_tenant_uses_the_first_default(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "diff")
    assert code == 0 and out.startswith("tenant acme:") and "comparing tenant acme" in err


# --- YAML merge keys ---------------------------------------------------------------------------------

def test_merge_keys_with_anchors_in_x_keys(sample: Path) -> None:
    from devenv.model.loader import load_project

    app = sample / "devenv.yaml"
    text = app.read_text()
    text = text.replace("images:\n", "x-child: &child\n  parent: base\n\nimages:\n", 1)
    text = text.replace("  api:\n    context: examples/shop/api\n    parent: base\n",
                        "  api:\n    context: examples/shop/api\n    <<: *child\n", 1)
    app.write_text(text)
    project, _ = load_project(sample)
    assert project.app.images["api"].parent == "base"


def test_merged_value_errors_point_at_the_anchor(sample: Path) -> None:
    from devenv.errors import ConfigError
    from devenv.model.loader import load_project

    app = sample / "devenv.yaml"
    text = app.read_text().replace("images:\n", "x-child: &child\n  parent: bsae\n\nimages:\n", 1)
    text = text.replace("  api:\n    context: examples/shop/api\n    parent: base\n",
                        "  api:\n    context: examples/shop/api\n    <<: [*child]\n", 1)
    app.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_project(sample)
    anchor_line = text.splitlines().index("  parent: bsae") + 1
    found = [p for p in info.value.problems if "unknown parent image 'bsae'" in p.message]
    assert found and found[0].line == anchor_line and found[0].key == "images.api.parent"


def test_merge_of_a_scalar_is_a_problem_with_its_line(sample: Path) -> None:
    from devenv.model.yamlpos import parse_yaml_text

    doc, problems = parse_yaml_text("a: &x 1\nb:\n  <<: *x\n", "f.yaml")
    assert problems and problems[0].line == 3 and "`<<` must merge a mapping" in problems[0].message


# --- a command that fails before acting writes nothing ----------------------------------------------

@pytest.mark.parametrize("argv", [["up", "-t", "acme", "--no-tui"], ["up", "-t", "acme", "--detach"],
                                  ["build", "-t", "acme"], ["exec", "web", "--", "true"]])
def test_no_engine_means_nothing_written(sample: Path, argv: list[str]) -> None:
    """No engine: refused before a lock, a generated secret or the digest cache is written."""
    import subprocess
    import sys

    env = {**os.environ, "DOCKER_HOST": f"unix://{sample}/no-engine.sock", "DEVENV_ROOT": str(sample)}
    done = subprocess.run([sys.executable, "-m", "devenv.cli", *argv], cwd=sample, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Docker engine" in done.stderr and "Traceback" not in done.stderr
    assert not (sample / ".devenv").exists()


def test_kind_secrets_never_land_where_git_stages(project: Project, sample: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "render", "--backend", "kind", "-t", "acme", "--write-secrets", "-o", "k8s.yaml")
    assert code == 1 and "where git would stage them" in err
    assert not (sample / "k8s.yaml").exists() and not (sample / ".devenv").exists()  # refused before writing
    code, _, _ = run(capsys, "render", "--backend", "kind", "-t", "acme", "-o", str(sample / ".devenv" / "k8s.yaml"))
    assert code == 0 and (sample / ".devenv" / ".gitignore").is_file()
    code, _, _ = run(capsys, "render", "--backend", "kind", "-t", "acme", "-o", str(tmp_path / "k8s.yaml"))
    assert code == 0


def test_a_refused_output_writes_no_secret(project: Project, sample: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "out.yaml").write_text("mine\n")
    code, _, err = run(capsys, "render", "-t", "acme", "--write-secrets", "-o", str(tmp_path / "out.yaml"))
    assert code == 1 and "already exists" in err and not (sample / ".devenv").exists()


@pytest.mark.parametrize("kind", ["fifo", "directory", "device", "deep"])
def test_a_state_record_that_is_special_or_absurd_is_a_miss_never_a_hang(tmp_path: Path, kind: str) -> None:
    """status's index and build's replay are shortcuts: a FIFO in their place (status hung on it),
    a directory, a device or JSON nested past the parser's depth sends the caller the long way."""
    from devenv.fsutil import read_record

    path = tmp_path / "status.json"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "device":
        path.symlink_to("/dev/zero")
    else:
        path.write_text("[" * 100_000 + "]" * 100_000)
    assert read_record(path, 1) is None


@pytest.mark.skipif(__import__("shutil").which("git") is None, reason="git is not installed")
@pytest.mark.parametrize("state", ["absent", "empty", "comment", "negated", "devnull", "fifo", "kept"])
def test_a_write_under_devenv_leaves_nothing_git_would_stage(tmp_path: Path, state: str) -> None:
    """``.devenv/.gitignore`` emptied or edited to re-include ``secrets/`` left the secrets one
    ``git add -A`` away: every write under ``.devenv/`` now puts back an ignore-everything file."""
    import subprocess

    gi = tmp_path / ".devenv" / ".gitignore"
    gi.parent.mkdir()
    contents = {"empty": "", "comment": "# mine\n", "negated": "*\n!secrets/\n!secrets/**\n", "kept": "# mine\n*\n"}
    if state in contents:
        gi.write_text(contents[state])
    elif state == "devnull":
        gi.symlink_to("/dev/null")
    elif state == "fifo":
        os.mkfifo(gi)
    fsutil.atomic_write(tmp_path / ".devenv" / "secrets" / "acme.json", '{"db": {"password": "x"}}')
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    ignored = subprocess.run(["git", "-C", str(tmp_path), "check-ignore", "-q", ".devenv/secrets/acme.json"])
    assert ignored.returncode == 0
    assert gi.is_file() and not gi.is_symlink()
    assert gi.read_text() == (contents["kept"] if state == "kept" else "*\n")


@pytest.mark.parametrize(("doing", "hint"), [
    ("read", "give yourself read access (chmod u+r /p/d/f)"),
    ("write", "give yourself write access (chmod u+w /p/d/f)"),
    ("create", "give yourself write access to its folder (chmod u+w /p/d)"),
    ("use", "check the permissions of /p/d/f and of the folders above it (each needs u+x)"),
])
def test_a_refused_file_operation_says_which_right_is_missing(doing: str, hint: str) -> None:
    err = fsutil.os_error(PermissionError(13, "Permission denied"), "/p/d/f", doing)
    assert (err.message, err.hint) == (f"cannot {doing} /p/d/f: Permission denied",
                                       f"{hint}, or run devenv where you have the rights")
