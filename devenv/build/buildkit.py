"""BuildKit for the builds that run ``RUN`` steps: a dependency change, a Dockerfile edit above its tail.

The engine (dockerd 18.09+) embeds BuildKit, which runs independent stages in parallel, skips
stages the target does not need, and keeps ``RUN --mount=type=cache`` directories (apt's
downloaded packages) across builds, so a dependency change installs only what changed. The
classic builder cannot parse ``--mount``. Which client drives it is chosen deliberately: a docker
CLI of the 20.10 line (Debian's ``/usr/bin/docker``) builds through the engine's BuildKit with
``DOCKER_BUILDKIT=1`` by itself, while newer clients (23+) hand every build to ``buildx`` and
fail without that plugin. ``DEVENV_BUILDKIT_CLI`` names another client; ``DEVENV_BUILDKIT=0``
turns this path off.

What stays as it was: the context is the tar of exactly the hashed files (``context.py``), the
image is untagged until the builder tags it on success, and every failure here that is not the
build's own (no client, a client that wants buildx, an engine without BuildKit) sends the build
to the classic path, with the ``--mount`` flags taken out of the Dockerfile it sends (a cache
mount changes how fast a step runs, never what it produces, when the step leaves no files in the
mounted directory for the image, and the directory exists in the image: BuildKit leaves a mount
target it had to create as an empty directory, the classic builder does not).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

from devenv.build import dockerfile as df

DEFAULT_CLI = "/usr/bin/docker"
_MOUNT = re.compile(r"--mount=\S+(?:\s|\\\n)+")
_RUN_LINE = re.compile(r"^(\s*RUN\s+)((?:--\S+(?:\s|\\\n)+)+)", re.IGNORECASE | re.MULTILINE)
_STEP = re.compile(r"^#\d+ \[(?:[\w.-]+ )?(\d+)/(\d+)\] (.*)$")
_VERTEX = re.compile(r"^#(\d+) (?:\[[^\]]*\] (.*)|ERROR\b.*)$")
_CACHED = re.compile(r"^#\d+ CACHED$")


class NotAvailable(Exception):
    """BuildKit cannot build here (the message says why); the classic builder takes over."""


def enabled() -> bool:
    return os.environ.get("DEVENV_BUILDKIT", "1").strip().lower() not in ("0", "no", "false", "off")


def runs_steps(instructions: list[df.Instruction]) -> bool:
    """Whether the Dockerfile has ``RUN`` steps (the builds BuildKit is used for)."""
    return any(ins.keyword == "RUN" for ins in instructions)


def needs_buildkit(text: str) -> bool:
    """Whether the Dockerfile uses a flag only BuildKit parses (``RUN --mount``)."""
    return any(_MOUNT.search(m.group(2)) for m in _RUN_LINE.finditer(text))


def strip_mounts(text: str) -> str:
    """The Dockerfile for the classic builder: ``RUN --mount=...`` flags removed, lines kept (a
    continuation stays a continuation, so error line numbers still match the file)."""
    def fix(m: re.Match[str]) -> str:
        flags = m.group(2)
        kept = _MOUNT.sub(lambda f: "\\\n" * f.group(0).count("\\\n"), flags)
        return m.group(1) + kept
    return _RUN_LINE.sub(fix, text)


@functools.lru_cache(maxsize=1)
def cli() -> str:
    """The docker client that builds through the engine's BuildKit without buildx, or raise."""
    chosen = os.environ.get("DEVENV_BUILDKIT_CLI", "").strip() or DEFAULT_CLI
    path = shutil.which(chosen) if not os.path.isabs(chosen) else (chosen if os.access(chosen, os.X_OK) else None)
    if not path:
        raise NotAvailable(f"no docker client at {chosen}")
    try:
        out = subprocess.run([path, "version", "--format", "{{.Client.Version}}"], capture_output=True,
                             text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NotAvailable(f"{path} does not answer: {exc}") from exc
    version = out.stdout.strip()
    major = int(version.split(".")[0]) if version[:1].isdigit() else 0
    if major >= 23 and not _has_buildx(path):
        raise NotAvailable(f"{path} is docker {version}: it builds with BuildKit only through buildx, "
                           "which is not installed")
    return path


def _has_buildx(path: str) -> bool:
    try:
        return subprocess.run([path, "buildx", "version"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def build(tar: IO[bytes], dockerfile_name: str, build_args: dict[str, str], target: str | None,
          cancel: threading.Event, on_line: Callable[[str], None]) -> str:
    """Build the context ``tar`` through BuildKit; return the image id (untagged). Raise
    ``NotAvailable`` when BuildKit cannot run here, ``RuntimeError`` (with the output's tail) when
    the build itself failed."""
    client = cli()
    with tempfile.TemporaryDirectory(prefix="devenv-buildkit-") as tmp:
        iid = Path(tmp) / "iid"
        argv = [client, "build", "--progress=plain", "--iidfile", str(iid), "-f", dockerfile_name]
        for k, v in sorted(build_args.items()):
            argv += ["--build-arg", f"{k}={v}"]
        if target:
            argv += ["--target", target]
        argv.append("-")
        env = {**os.environ, "DOCKER_BUILDKIT": "1"}
        proc = subprocess.Popen(argv, stdin=tar, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                text=True, errors="replace")
        killer = threading.Thread(target=_kill_on_cancel, args=(proc, cancel), daemon=True)
        killer.start()
        tail: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            tail = [*tail[-59:], line]
            on_line(line)
        code = proc.wait()
        if code != 0:
            text = "\n".join(tail)
            if "buildx" in text or "BuildKit is enabled but" in text or "not supported" in text.lower():
                raise NotAvailable(f"the client cannot build with BuildKit here: {tail[-1] if tail else code}")
            raise RuntimeError(text or f"docker build exited {code}")
        return iid.read_text().strip()


def _kill_on_cancel(proc: subprocess.Popen[str], cancel: threading.Event) -> None:
    """On cancel, stop the client: SIGINT as Ctrl+C would, SIGKILL if it still runs a second later
    (the client waits for the engine to acknowledge, which a loaded engine takes its time to do).
    The engine cancels a build whose client session went away."""
    while proc.poll() is None:
        if cancel.wait(0.2):
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(1.0)
            except subprocess.TimeoutExpired:
                proc.kill()
            return


def vertex_of(line: str) -> str:
    """``#7 ...`` -> ``"7"``: the vertex a ``--progress=plain`` line belongs to ("" for others)."""
    return line[1:].split(" ", 1)[0] if line.startswith("#") else ""


def step_of(line: str) -> tuple[int, int, str, bool] | None:
    """``(step, total, text, cached)`` from a ``--progress=plain`` line that starts or caches a step."""
    m = _STEP.match(line)
    if m:
        return int(m.group(1)), int(m.group(2)), m.group(3), False
    return None


def is_cached(line: str) -> bool:
    return bool(_CACHED.match(line))


def failed_line(lines: list[str], instructions: list[df.Instruction]) -> int | None:
    """The Dockerfile line of the step whose vertex reported ``ERROR`` in ``--progress=plain``
    output (BuildKit prints the instruction, not its line), matched on whitespace-normalised text."""
    texts: dict[str, str] = {}
    failed = ""
    for line in lines:
        m = _VERTEX.match(line)
        if not m:
            continue
        if m.group(2) is not None:
            texts[m.group(1)] = m.group(2)
        elif m.group(1) in texts:
            failed = texts[m.group(1)]
    if not failed:
        return None
    want = " ".join(failed.split())
    for ins in instructions:
        if " ".join(f"{ins.keyword} {ins.args}".split()) == want:
            return ins.line
    return None
