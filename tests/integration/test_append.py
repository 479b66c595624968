"""The append path against the real engine: each case builds the same inputs twice, once by
appending the Dockerfile's tail to the cached head and once with the classic builder, and compares
the two images' whole filesystems (type, mode, owner, size, content, link target of every path)
and their configs. A case the append path must not take is checked to take the classic path.

Every test uses its own app name; the fixture removes exactly its images afterwards."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devenv.build.append import HEADS_FILE
from devenv.build.builder import Builder
from devenv.events import BuildProgress, Event
from devenv.model.types import App, ImageDef

pytestmark = pytest.mark.docker

BASE = "debian:bookworm-slim"
PER_CONTAINER = {".dockerenv", "etc/hostname", "etc/hosts", "etc/resolv.conf"}
CONFIG_KEYS = ("Cmd", "Entrypoint", "Env", "Labels", "ExposedPorts", "User", "WorkingDir", "StopSignal",
               "Volumes", "Shell", "Healthcheck", "OnBuild")


def put(root: Path, files: dict[str, str | tuple[str, int] | None]) -> None:
    """``path: text`` (mode 0644), ``path: (text, mode)``, ``path/: None`` a directory,
    ``path: "->target"`` a symlink."""
    for rel, spec in files.items():
        p = root / rel
        if spec is None:
            p.mkdir(parents=True, exist_ok=True)
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        text, mode = (spec, 0o644) if isinstance(spec, str) else spec
        if text.startswith("->"):
            if p.is_symlink():
                p.unlink()
            os.symlink(text[2:], p)
            continue
        p.write_text(text)
        os.chmod(p, mode)


@pytest.fixture(autouse=True)
def classic_builder(monkeypatch: pytest.MonkeyPatch) -> None:
    """These cases compare the append path with the classic builder (the reference); the BuildKit
    path has its own case at the end, which turns it back on."""
    monkeypatch.setenv("DEVENV_BUILDKIT", "0")


@pytest.fixture
def client(docker_engine: None) -> Any:
    import docker

    return docker.from_env()


@pytest.fixture
def made(tmp_path: Path, client: Any) -> Iterator[list[str]]:
    """Image ids and repositories a test made, removed afterwards."""
    ids: list[str] = []
    yield ids
    for ref in reversed(ids):
        with contextlib.suppress(Exception):
            client.images.remove(ref, force=True)


def make_app(root: Path, dockerfile: str, files: dict[str, Any], target: str | None = None) -> App:
    ctx = root / "img"
    put(ctx, files)
    (ctx / "Dockerfile").write_text(dockerfile)
    name = f"a{uuid.uuid4().hex[:10]}"
    img = ImageDef("img", ctx, ctx / "Dockerfile", target=target)
    return App(name, root, root / "devenv.yaml", {"img": img}, {})


def filesystem(client: Any, image_id: str) -> dict[str, tuple[Any, ...]]:
    """Every path of the image: (type, mode, uid, gid, size, link target, sha256 of content)."""
    c = client.api.create_container(image_id, command=["true"], entrypoint=[], network_disabled=True)
    try:
        resp = client.api.export(c["Id"])
        out: dict[str, tuple[Any, ...]] = {}
        with tarfile.open(fileobj=_Chunks(resp), mode="r|") as tar:
            for m in tar:
                name = m.name.rstrip("/")
                if name in PER_CONTAINER:
                    continue
                digest = ""
                if m.isfile():
                    f = tar.extractfile(m)
                    digest = hashlib.sha256(f.read() if f else b"").hexdigest()
                out[name] = (m.type, m.mode, m.uid, m.gid, m.size if m.isfile() else 0, m.linkname, digest)
        return out
    finally:
        client.api.remove_container(c["Id"], force=True)


class _Chunks:
    """A file-like reader over the chunks the SDK's export yields."""

    def __init__(self, chunks: Any) -> None:
        self.it = iter(chunks)
        self.buf = b""

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self.buf) < n:
            try:
                self.buf += next(self.it)
            except StopIteration:
                break
        if n < 0:
            data, self.buf = self.buf, b""
        else:
            data, self.buf = self.buf[:n], self.buf[n:]
        return data


def config(client: Any, image_id: str) -> dict[str, Any]:
    cfg = client.api.inspect_image(image_id)["Config"]
    return {k: cfg.get(k) or None for k in CONFIG_KEYS}


class Progress:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, ev: Event) -> None:
        if isinstance(ev, BuildProgress):
            self.lines.append(ev.line)


def both_ways(app: App, client: Any, made: list[str], change: dict[str, Any],
              monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any, Progress]:
    """Build (classic, recording the head), apply ``change``, build again (append if it can), and
    build the same inputs once more with the classic builder. Returns both results."""
    first = Builder(app, client=client).build()["img"]
    made.append(first.image_id)
    assert first.method == "classic"
    put(app.images["img"].context, change)
    progress = Progress()
    fast = Builder(app, emit=progress, client=client).build()["img"]
    made.append(fast.image_id)
    monkeypatch.setenv("DEVENV_APPEND", "0")
    slow = Builder(app, client=client).build(force=True)["img"]
    made.append(slow.image_id)
    monkeypatch.delenv("DEVENV_APPEND")
    assert fast.ref == slow.ref and fast.image_id != slow.image_id
    return fast, slow, progress


def assert_same(client: Any, a: str, b: str) -> None:
    fa, fb = filesystem(client, a), filesystem(client, b)
    differ = {k: (fa.get(k), fb.get(k)) for k in set(fa) | set(fb) if fa.get(k) != fb.get(k)}
    assert differ == {}
    assert config(client, a) == config(client, b)


SAMPLE_LIKE = """\
FROM debian:bookworm-slim
WORKDIR /srv/web
RUN mkdir -p /srv/web/static && chmod 0750 /srv/web/static && chown 33:33 /srv/web/static
COPY requirements.txt ./
RUN cat requirements.txt > /srv/installed.txt
COPY templates ./templates
COPY static ./static
COPY web ./web
EXPOSE 8000
CMD ["python3", "-m", "web"]
"""
SAMPLE_FILES = {"requirements.txt": "flask\n", "templates/index.html": "<p>hi</p>\n",
                "static/version.txt": "v1\n", "static/css/site.css": "body{}\n",
                "web/__init__.py": "", "web/__main__.py": ("print('x')\n", 0o755)}

OWNERS = """\
FROM debian:bookworm-slim
RUN mkdir -p /opt/exist && chmod 711 /opt/exist && chown 5:5 /opt/exist
COPY d /opt/exist/d
COPY d /new/deep/d/
COPY --chown=7:8 d /own/
COPY f.txt /opt/exist/
COPY f.txt /newf/renamed.txt
COPY e /opt/exist
COPY --chown=9 f.txt /p/q/
COPY f.txt /opt/exist
COPY d/ /tmp/
COPY --chown=7:8 d /x/y/z/
COPY e /x/y/z/e/
"""
OWNER_FILES = {"d/a": ("a\n", 0o640), "d/sub/b": ("b\n", 0o755), "d/link": "->a", "f.txt": "f\n",
               "e/e1": "e1\n"}

GLOBS = """\
FROM debian:bookworm-slim
RUN echo head > /head
COPY *.txt /globbed/
COPY ["src dir/x.py", "cfg.ini", "/multi/"]
COPY s* /s/
COPY . /all
"""
GLOB_FILES = {"a.txt": "a\n", "b.txt": "b\n", "src dir/x.py": "x\n", "cfg.ini": "[x]\n",
              "srcA/one": "1\n", "srcB/two/three": "3\n", "skip.log": "no\n", ".dockerignore": "*.log\n"}

METADATA = """\
FROM debian:bookworm-slim
CMD ["old"]
RUN true
COPY app /app
ENV A=1 B="two words" PATH=/app/bin:/usr/bin:/bin
ENV LEGACY value with spaces
LABEL org.example.x="y z" k=v
EXPOSE 8000 9000/udp
USER 1000:1000
STOPSIGNAL SIGINT
ENTRYPOINT ["/app/run"]
"""
ENTRYPOINT_RESETS = """\
FROM debian:bookworm-slim
RUN true
COPY app /app
ENTRYPOINT /app/run --flag
"""
MULTISTAGE = """\
FROM debian:bookworm-slim AS build
COPY gen /gen
RUN cp -r /gen /out
FROM debian:bookworm-slim AS final
COPY --from=build /out /out
COPY app /app
CMD ["x"]
FROM final AS extra
RUN false
"""


@pytest.mark.parametrize(("dockerfile", "files", "change"), [
    pytest.param(SAMPLE_LIKE, SAMPLE_FILES, {"static/version.txt": "v2\n", "web/new.py": "n\n"}, id="sample-like"),
    pytest.param(OWNERS, OWNER_FILES, {"d/a": ("a2\n", 0o600), "d/sub/c": "c\n"}, id="owners-and-parents"),
    pytest.param(GLOBS, GLOB_FILES, {"a.txt": "a2\n", "srcB/two/four": "4\n", "z.txt": "z\n"}, id="globs-json-multi"),
    pytest.param(METADATA, {"app/run": ("#!/bin/sh\n", 0o755)}, {"app/run": ("#!/bin/sh\necho\n", 0o755)},
                 id="metadata"),
    pytest.param(ENTRYPOINT_RESETS, {"app/run": "x\n"}, {"app/run": "y\n"}, id="entrypoint-resets-cmd"),
])
def test_append_equals_classic(tmp_path: Path, client: Any, made: list[str], monkeypatch: pytest.MonkeyPatch,
                               dockerfile: str, files: dict[str, Any], change: dict[str, Any]) -> None:
    app = make_app(tmp_path, dockerfile, files)
    fast, slow, progress = both_ways(app, client, made, change, monkeypatch)
    assert fast.method == "append", progress.lines
    assert "appended" in fast.detail and slow.method == "classic"
    assert_same(client, fast.image_id, slow.image_id)
    # the next change appends again, on the head the first classic build recorded
    (app.images["img"].context / "late.txt").write_text("late\n")
    again = Builder(app, client=client).build()["img"]
    made.append(again.image_id)
    assert again.method == "append" and again.ref != fast.ref


def test_target_stage_appends_and_an_earlier_stage_change_does_not(
        tmp_path: Path, client: Any, made: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(tmp_path, MULTISTAGE, {"gen/g": "g1\n", "app/a": "a1\n"}, target="final")
    fast, slow, _ = both_ways(app, client, made, {"app/a": "a2\n"}, monkeypatch)
    assert fast.method == "append"
    assert_same(client, fast.image_id, slow.image_id)
    put(app.images["img"].context, {"gen/g": "g2\n"})  # feeds the head through the build stage
    res = Builder(app, client=client).build()["img"]
    made.append(res.image_id)
    assert res.method == "classic" and res.status == "built"


def test_head_input_change_or_run_in_tail_takes_the_classic_path(
        tmp_path: Path, client: Any, made: list[str]) -> None:
    app = make_app(tmp_path, SAMPLE_LIKE, SAMPLE_FILES)
    made.append(Builder(app, client=client).build()["img"].image_id)
    put(app.images["img"].context, {"requirements.txt": "flask\nredis\n"})  # read by the head's COPY
    res = Builder(app, client=client).build()["img"]
    made.append(res.image_id)
    assert res.method == "classic"

    ctx = app.images["img"].context
    (ctx / "Dockerfile").write_text(SAMPLE_LIKE + "RUN true\n")
    made.append(Builder(app, client=client).build()["img"].image_id)
    put(ctx, {"static/version.txt": "v3\n"})
    progress = Progress()
    res = Builder(app, emit=progress, client=client).build()["img"]
    made.append(res.image_id)
    assert res.method == "classic"


def test_a_removed_head_falls_back_to_the_classic_builder(
        tmp_path: Path, client: Any, made: list[str]) -> None:
    app = make_app(tmp_path, SAMPLE_LIKE, SAMPLE_FILES)
    first = Builder(app, client=client).build()["img"]
    made.append(first.image_id)
    put(app.images["img"].context, {"static/version.txt": "v2\n"})
    fast = Builder(app, client=client).build()["img"]
    made.append(fast.image_id)
    assert fast.method == "append"
    # remove the first image and its (now childless) head chain, then change a tail file again
    client.images.remove(first.image_id, force=True)
    heads = json.loads((tmp_path / HEADS_FILE).read_text())["heads"]
    for head in heads.values():
        with contextlib.suppress(Exception):
            client.images.remove(head, force=True)
    put(app.images["img"].context, {"static/version.txt": "v3\n"})
    progress = Progress()
    res = Builder(app, emit=progress, client=client).build()["img"]
    made.append(res.image_id)
    assert res.method == "classic" and res.status == "built"
    assert any("head image is gone" in line for line in progress.lines), progress.lines


def test_after_a_buildkit_build_a_tail_change_appends_to_its_head_and_equals_buildkit(
        tmp_path: Path, client: Any, made: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """BuildKit keeps no intermediate images: the builder builds the head alone (cached) and records
    it, so the next tail-only change still appends; the result equals BuildKit's own build."""
    monkeypatch.setenv("DEVENV_BUILDKIT", "1")
    app = make_app(tmp_path, SAMPLE_LIKE.replace("RUN cat", "RUN --mount=type=cache,target=/var/cache/debconf cat"),
                   SAMPLE_FILES)
    first = Builder(app, client=client).build()["img"]
    made.append(first.image_id)
    assert first.method == "buildkit"
    put(app.images["img"].context, {"static/version.txt": "v2\n", "web/new.py": "n\n"})
    fast = Builder(app, client=client).build()["img"]
    made.append(fast.image_id)
    assert fast.method == "append"
    monkeypatch.setenv("DEVENV_APPEND", "0")
    slow = Builder(app, client=client).build(force=True)["img"]
    made.append(slow.image_id)
    assert slow.method == "buildkit" and fast.ref == slow.ref
    assert_same(client, fast.image_id, slow.image_id)
    monkeypatch.setenv("DEVENV_BUILDKIT", "0")  # the classic fallback: the same Dockerfile, mounts dropped
    classic = Builder(app, client=client).build(force=True)["img"]
    made.append(classic.image_id)
    assert classic.method == "classic"
    assert_same(client, classic.image_id, slow.image_id)
