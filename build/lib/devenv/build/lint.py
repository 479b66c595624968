"""Dockerfile habits that defeat the build cache or leak secrets, found before they cost anything.

Every rule names the line, what goes wrong and the fix. The rules target what makes *this* tool's
inner loop slow: a content-addressed tag skips unchanged images, but once an image must be built,
Docker's own layer cache decides whether that takes 1 s or 5 minutes.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from devenv.build import dockerfile as df
from devenv.build.dockerignore import IGNORE_FILE
from devenv.errors import DevenvError
from devenv.model import dockerfile_syntax as syntax
from devenv.model.types import App, ImageDef

_INSTALL = re.compile(
    r"\b(pip3?|python3? -m pip|uv pip|poetry|pipenv)\s+(install|sync)\b|\bnpm\s+(install|ci|i)\b|"
    r"\byarn(\s+install)?\s*($|&&|;)|\bpnpm\s+(install|i)\b|\bapt(-get)?\s+(-\S+\s+)*install\b|"
    r"\bapk\s+add\b|\b(dnf|yum)\s+install\b|\bgo\s+(mod\s+download|get|install|build)\b|"
    r"\bcargo\s+(build|fetch|install)\b|\bbundle(\s+install)?\s*($|&&|;)|\bcomposer\s+install\b|"
    r"\bmvn\b|\bgradle\b", re.IGNORECASE)
_APT_UPDATE = re.compile(r"\bapt(-get)?\s+(-\S+\s+)*update\b")
_APT_INSTALL = re.compile(r"\bapt(-get)?\s+(-\S+\s+)*install\b")
_VOLATILE = re.compile(r"(^|_)(DATE|TIME|TIMESTAMP|COMMIT|SHA|GIT_SHA|GIT_COMMIT|REVISION|REV|BUILD_ID|"
                       r"BUILD_NUMBER|BUILD_TIME|BUILD_DATE|CACHEBUST|CACHE_BUST|NOW)($|_)", re.IGNORECASE)
_SECRET = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_KEY|ACCESS_KEY|CREDENTIALS", re.IGNORECASE)
_NOT_SECRET = re.compile(r"_(FILE|PATH|DIR|NAME|USER|URL|HOST|PORT)$", re.IGNORECASE)
_ENV_FILE = re.compile(r"(^|/)\.env(\.[^/]*)?$|(^|/)[^/]+\.env$")
_ENV_TEMPLATE = re.compile(r"\.(example|sample|template|dist)$")  # committed templates, not secrets
_NOISE_DIRS = (".git", "node_modules", ".venv", "venv", "__pycache__")


@dataclass(frozen=True)
class Finding:
    file: str
    line: int | None
    rule: str
    message: str
    fix: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.rule}: {self.message} (fix: {self.fix})"

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "rule": self.rule, "message": self.message, "fix": self.fix}


def lint_app(app: App) -> list[Finding]:
    """Every image of the project."""
    return [f for name in app.images for f in lint_image(app.images[name], app.root)]


def lint_image(img: ImageDef, root: Path | None = None) -> list[Finding]:
    """One image of the graph: its Dockerfile, knowing which ARG carries the parent's tag."""
    parent_arg = img.parent_arg if img.parent else None
    return lint_dockerfile(img.dockerfile, img.context, img.args, parent_arg, root)


def lint_dockerfile(path: Path, context: Path | None = None, build_args: dict[str, str] | None = None,
                    parent_arg: str | None = None, root: Path | None = None) -> list[Finding]:
    """Findings for one Dockerfile (and its context's ``.dockerignore``), in line order."""
    shown = _display(Path(path), root)
    try:
        text = df.read_source(path)
    except DevenvError as exc:
        return [Finding(shown, None, "unreadable", exc.message, exc.hint or "check the path")]
    instructions = df.parse(text)
    out: list[Finding] = [Finding(shown, i.line, i.rule, i.message, i.fix) for i in syntax.check(text)]
    for stage in _stages(instructions):
        out += _copy_before_install(shown, stage)
        out += _volatile_args(shown, stage)
    for ins in instructions:
        out += _per_instruction(shown, ins)
    out += _unpinned_from(shown, instructions, build_args or {}, parent_arg)
    if context is not None:
        out += _missing_dockerignore(Path(context), root)
        out += _env_files_in_context(shown, instructions, Path(context), Path(path))
    return sorted(out, key=lambda f: (f.file, f.line or 0, f.rule))


def _display(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.resolve().relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            pass
    return str(path)


def _stages(instructions: list[df.Instruction]) -> list[list[df.Instruction]]:
    stages: list[list[df.Instruction]] = [[]]
    for ins in instructions:
        if ins.keyword == "FROM":
            stages.append([])
        stages[-1].append(ins)
    return [s for s in stages if s]


def _is_whole_context_copy(ins: df.Instruction) -> bool:
    if ins.keyword not in ("COPY", "ADD") or "from" in ins.flags:
        return False
    sources = _sources(ins)
    return any(s in (".", "./", "*", "./*") for s in sources)


def _sources(ins: df.Instruction) -> list[str]:
    ops = ins.operands
    if ins.args.lstrip().startswith("[") or (ops and ops[-1].endswith("]") and "[" in ins.args):
        try:
            arr = json.loads(ins.args[ins.args.index("["):])
            return [str(x) for x in arr[:-1]]
        except ValueError:
            return []
    return ops[:-1]


def _copy_before_install(file: str, stage: list[df.Instruction]) -> list[Finding]:
    """``COPY . .`` then ``RUN pip install``: any edit to any file reinstalls every dependency."""
    for i, ins in enumerate(stage):
        if not _is_whole_context_copy(ins):
            continue
        for later in stage[i + 1:]:
            if later.keyword == "RUN" and _INSTALL.search(later.args):
                return [Finding(file, ins.line, "copy-before-install",
                                f"the whole context is copied before the dependency install on line {later.line}, "
                                "so any source edit re-runs the install",
                                "copy only the dependency manifests (requirements.txt, package*.json, go.mod, "
                                "Cargo.toml, Gemfile*) first, install, then copy the rest")]
    return []


def _volatile_args(file: str, stage: list[df.Instruction]) -> list[Finding]:
    """An ARG/ENV that changes every build (date, commit) invalidates every later RUN's cache."""
    out: list[Finding] = []
    for i, ins in enumerate(stage):
        if ins.keyword not in ("ARG", "ENV"):
            continue
        names = [w.partition("=")[0] for w in ins.operands] if ins.keyword == "ARG" else _env_names(ins)
        volatile = [n for n in names if _VOLATILE.search(n)]
        expensive = next((x for x in stage[i + 1:] if x.keyword == "RUN" and _INSTALL.search(x.args)), None)
        if volatile and expensive is not None:
            out.append(Finding(file, ins.line, "volatile-arg-early",
                               f"{ins.keyword} {', '.join(volatile)} changes every build and comes before the "
                               f"expensive RUN on line {expensive.line}, whose cache it busts",
                               f"declare {ins.keyword} {volatile[0]} after the expensive steps, just before it is used"))
    return out


def _env_names(ins: df.Instruction) -> list[str]:
    return [name for name, _ in _env_pairs(ins)]


def _env_pairs(ins: df.Instruction) -> list[tuple[str, str | None]]:
    """``ENV a=1 b=2``, ``ENV a 1`` (legacy form) and ``ARG a=1`` as (name, value or None)."""
    ops = ins.operands
    if ins.keyword == "ENV" and ops and "=" not in ops[0]:
        return [(ops[0], " ".join(ops[1:]))]
    pairs: list[tuple[str, str | None]] = []
    for w in ops:
        name, eq, value = w.partition("=")
        pairs.append((name, value.strip("\"'") if eq else None))
    return pairs


def _per_instruction(file: str, ins: df.Instruction) -> list[Finding]:
    out: list[Finding] = []
    if ins.keyword == "ADD" and any(s.startswith(("http://", "https://")) for s in _sources(ins)):
        out.append(Finding(file, ins.line, "add-remote-url",
                           "ADD of a URL is re-downloaded on every build and not checksummed",
                           "RUN curl -fsSLo FILE URL && echo 'SHA256  FILE' | sha256sum -c (or ADD --checksum)"))
    if ins.keyword == "RUN" and _APT_UPDATE.search(ins.args) and not _APT_INSTALL.search(ins.args):
        out.append(Finding(file, ins.line, "apt-update-alone",
                           "apt-get update in its own RUN is cached forever, so a later install uses a stale index",
                           "RUN apt-get update && apt-get install -y ... && rm -rf /var/lib/apt/lists/*"))
    if ins.keyword in ("ENV", "ARG"):
        out += _secrets(file, ins)
    if ins.keyword in ("COPY", "ADD") and "from" not in ins.flags:
        envs = [s for s in _sources(ins) if _ENV_FILE.search(s)]
        if envs:
            out.append(Finding(file, ins.line, "secret-in-build",
                               f"{ins.keyword} of {', '.join(envs)} bakes local secrets into an image layer",
                               "pass settings at run time (environment, secrets); add .env to .dockerignore"))
    return out


def _secrets(file: str, ins: df.Instruction) -> list[Finding]:
    out: list[Finding] = []
    for name, value in _env_pairs(ins):
        if not _SECRET.search(name) or _NOT_SECRET.search(name) or not value or value.startswith("$"):
            continue
        out.append(Finding(file, ins.line, "secret-in-build",
                           f"{ins.keyword} {name} has a literal value: it stays in the image's history",
                           "drop the value and pass it at run time (environment or a mounted secret)"))
    return out


def _env_files_in_context(file: str, instructions: list[df.Instruction], context: Path,
                          dockerfile: Path) -> list[Finding]:
    """``COPY . .`` with a ``.env`` in the context that ``.dockerignore`` does not exclude: the
    local secrets land in an image layer (and in every registry the image is pushed to)."""
    copy = next((i for i in instructions if _is_whole_context_copy(i)), None)
    if copy is None:
        return []
    from devenv.build.dockerignore import context_files

    sent = [f for f in context_files(context, dockerfile) if _ENV_FILE.search(f) and not _ENV_TEMPLATE.search(f)]
    if not sent:
        return []
    return [Finding(file, copy.line, "secret-in-build",
                    f"{copy.keyword} {' '.join(_sources(copy))} sends {', '.join(sent[:3])}"
                    f"{' ...' if len(sent) > 3 else ''} (not in .dockerignore) into an image layer",
                    "add `.env` and `*.env` to the context's .dockerignore; pass settings at run time")]


def _unpinned_from(file: str, instructions: list[df.Instruction], build_args: dict[str, str],
                   parent_arg: str | None) -> list[Finding]:
    """``FROM x`` or ``FROM x:latest`` moves under you: the same Dockerfile builds different images."""
    froms = df.from_refs(instructions, build_args)
    stages = {f.stage.lower() for f in froms if f.stage}
    out: list[Finding] = []
    for f in froms:
        if "$" in f.raw:
            if parent_arg and re.search(rf"\$\{{?{re.escape(parent_arg)}\b", f.raw):
                continue  # the builder passes the parent's content tag
            if not f.ref.endswith(":latest"):
                continue  # a parameter: whoever builds supplies it; only an explicit :latest default is flagged
        ref = f.ref
        if not ref or ref.lower() in stages or ref == "scratch" or "@" in ref:
            continue
        tag = ref.rsplit("/", 1)[-1].partition(":")[2]
        if tag in ("", "latest"):
            out.append(Finding(file, f.line, "unpinned-from",
                               f"FROM {f.raw} is {'untagged' if not tag else ':latest'}: builds change when the "
                               "image is re-pulled",
                               "pin a version tag (debian:bookworm-slim, python:3.12-slim) or a digest"))
    return out


def _missing_dockerignore(context: Path, root: Path | None) -> list[Finding]:
    """Without a ``.dockerignore``, VCS data, dependency trees and caches are sent and hashed, and
    any change to them (a git fetch) rebuilds the image."""
    if (context / IGNORE_FILE).exists():
        return []
    found = _find_noise(context)
    if not found:
        return []
    return [Finding(_display(context / IGNORE_FILE, root), None, "no-dockerignore",
                    f"the context has no .dockerignore but contains {', '.join(found)}",
                    f"add a .dockerignore listing {', '.join(sorted({p.rsplit('/', 1)[-1] for p in found}))}")]


def _find_noise(context: Path, depth: int = 3) -> list[str]:
    found: list[str] = []

    def walk(d: str, rel: str, level: int) -> None:
        try:
            entries = list(os.scandir(d))
        except OSError:
            return
        for e in entries:
            path = f"{rel}{e.name}"
            if e.name in _NOISE_DIRS and e.is_dir(follow_symlinks=False):
                found.append(path)
            elif level < depth and e.is_dir(follow_symlinks=False):
                walk(e.path, path + "/", level + 1)

    walk(str(context), "", 1)
    return sorted(found)
