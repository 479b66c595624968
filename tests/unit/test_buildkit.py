"""The BuildKit path's pure parts: which Dockerfiles need it, the classic builder's copy without
``RUN --mount`` (same lines), progress lines, and the failing step's Dockerfile line."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from devenv.build import buildkit
from devenv.build import dockerfile as df
from devenv.build.context import make_context_tar

APT = """FROM debian:bookworm-slim
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \\
    apt-get update \\
 && apt-get install -y python3
COPY app /app
RUN --network=none echo offline
RUN echo plain --mount=not-a-flag
"""


def test_only_run_mount_needs_buildkit():
    assert buildkit.needs_buildkit(APT)
    assert not buildkit.needs_buildkit("FROM x\nRUN echo --mount=x\nCOPY --chown=1:1 a /a\n")


def test_the_classic_copy_drops_mounts_and_keeps_every_line():
    out = buildkit.strip_mounts(APT)
    assert "--mount" not in out.split("COPY")[0]
    assert "RUN --network=none echo offline" in out  # other flags are not ours to drop
    assert "RUN echo plain --mount=not-a-flag" in out  # an argument, not a flag
    before, after = df.parse(APT), df.parse(out)
    assert [(i.line, i.keyword) for i in before] == [(i.line, i.keyword) for i in after]
    assert after[1].args == "apt-get update && apt-get install -y python3"
    assert not buildkit.needs_buildkit(out)


def test_runs_steps():
    assert buildkit.runs_steps(df.parse(APT))
    assert not buildkit.runs_steps(df.parse("FROM x\nCOPY a /a\nCMD [\"a\"]\n"))


@pytest.mark.parametrize(("line", "want"), [
    ("#7 [2/5] RUN echo hi", (2, 5, "RUN echo hi", False)),
    ("#9 [build 3/4] COPY . /src", (3, 4, "COPY . /src", False)),
    ("#7 0.312 hi", None),
    ("#6 CACHED", None),
])
def test_progress_lines(line: str, want: tuple[int, int, str, bool] | None):
    assert buildkit.step_of(line) == want


def test_cached_lines():
    assert buildkit.is_cached("#6 CACHED") and not buildkit.is_cached("#6 DONE 0.1s")


def test_the_failing_step_maps_to_its_dockerfile_line():
    ins = df.parse("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY . /app\nRUN echo about to fail \\\n && exit 3\n")
    out = ["#5 [1/3] FROM docker.io/library/x", "#6 [2/3] COPY . /app", "#6 DONE 0.1s",
           "#7 [3/3] RUN echo about to fail   && exit 3", "#7 0.2 about to fail",
           "#7 ERROR: executor failed running [/bin/sh -c echo about to fail   && exit 3]: exit code: 3"]
    assert buildkit.failed_line(out, ins) == 4
    assert buildkit.failed_line(out[:-1], ins) is None


def test_the_client_is_chosen_deliberately(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    buildkit.cli.cache_clear()
    monkeypatch.setenv("DEVENV_BUILDKIT_CLI", str(tmp_path / "missing-docker"))
    with pytest.raises(buildkit.NotAvailable, match="no docker client"):
        buildkit.cli()
    fake = tmp_path / "docker"
    fake.write_text("#!/bin/sh\nif [ \"$1\" = version ]; then echo 28.2.2; exit 0; fi\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("DEVENV_BUILDKIT_CLI", str(fake))
    with pytest.raises(buildkit.NotAvailable, match="only through buildx"):
        buildkit.cli()
    fake.write_text("#!/bin/sh\nif [ \"$1\" = version ]; then echo 20.10.24+dfsg1; exit 0; fi\nexit 1\n")
    assert buildkit.cli() == str(fake)
    buildkit.cli.cache_clear()


def test_the_context_tar_for_the_cli_starts_with_a_plain_header(tmp_path: Path):
    """docker's CLI sniffs stdin for a tar; PAX's extended first header made it read a Dockerfile."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f.txt").write_text("x")
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    tar, name = make_context_tar(tmp_path, ["Dockerfile", "a/f.txt"], tmp_path / "Dockerfile",
                                 dockerfile_text="FROM y\n", fmt=tarfile.GNU_FORMAT)
    with tar:
        head = tar.read(512)
        tar.seek(0)
        with tarfile.open(fileobj=tar) as t:
            names = t.getnames()
            member = t.extractfile(name)
            assert member is not None and member.read() == b"FROM y\n"
    assert head[156:157] != b"x" and b"ustar" in head[257:265]
    assert name == ".devenv.Dockerfile" and "a/f.txt" in names


def test_a_vertex_is_counted_once_as_a_step_and_once_as_cached():
    from devenv.build.builder import Builder, _StreamState

    events: list[object] = []
    b = Builder.__new__(Builder)
    b.emit = events.append
    state = _StreamState()

    class P:
        image = "base"

    for line in ["#4 [1/3] FROM docker.io/library/debian", "#4 CACHED", "#5 [2/3] RUN apt-get update",
                 "#5 [2/3] RUN apt-get update", "#5 CACHED", "#5 CACHED", "#6 [internal] load .dockerignore",
                 "#6 CACHED", "#7 [3/3] COPY a /a", "#7 DONE 0.1s"]:
        b._on_kit_line(P, line, state)  # type: ignore[arg-type]
    assert (state.step, state.total, state.cached) == (3, 3, 2)
    assert [getattr(e, "line", "") for e in events].count("  (cached)") == 2
    assert buildkit.vertex_of("#12 [2/3] RUN x") == "12" and buildkit.vertex_of("error: x") == ""
