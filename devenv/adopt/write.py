"""Write an adopted project: ``devenv.yaml``, ``profiles/<tenant>.yaml`` and ``devenv.local.yaml``
(committed: no secret value in any of them), and, when the source held credential-looking values,
``devenv.personal.yaml`` (mode 0600) with their dev values, after making sure the project's
``.gitignore`` ignores it.

Shared by every adoption reader. Nothing is written unless all of it is sound:

* the documents pass devenv's own validation (the same pass ``devenv validate`` runs), as they
  would be read from the project root;
* no file exists yet, unless ``force`` (an existing project is never overwritten silently);
* every path resolves inside the project root (a symlinked ``profiles/`` cannot lead a write out);
* each file is written atomically (a reader sees the old file or the new one, never half).

``dry_run`` returns the texts and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from devenv.adopt.result import Adopted
from devenv.errors import ConfigError, DevenvError, Problem
from devenv.fsutil import atomic_write
from devenv.model.validate import resolve_inside, validate_documents
from devenv.model.yamlpos import parse_yaml_text
from devenv.render.yamldump import dump

APP_FILE = "devenv.yaml"
OVERLAY_FILE = "devenv.local.yaml"
PERSONAL_FILE = "devenv.personal.yaml"
GITIGNORE = ".gitignore"
FILE_MODE = 0o644  # project files are committed and read by the team; nothing secret is in them
PRIVATE_MODE = 0o600  # the personal overlay holds dev values of secrets
MASK = "****"


@dataclass(frozen=True)
class ProjectFile:
    rel: str  # relative to the project root, POSIX
    text: str
    mode: int = FILE_MODE


def file_names(tenant: str) -> list[str]:
    return [APP_FILE, f"profiles/{tenant}.yaml", OVERLAY_FILE]


def project_files(adopted: Adopted, command: str, masked: bool = False) -> list[ProjectFile]:
    """The three files, each with a header saying where it came from, and the personal overlay
    when there are secret values (``masked``: with every value shown as ``****``, for --dry-run)."""
    files = _committed_files(adopted, command)
    if adopted.personal:
        personal = _masked(adopted.personal) if masked else adopted.personal
        files.append(ProjectFile(PERSONAL_FILE, f"# devenv.personal.yaml: YOUR dev values, git-ignored, never committed "
                                                f"(written by `{command}`).\n"
                                                "# Credential-looking values of the compose project's env, .env and "
                                                "env_file.\n" + dump(personal), PRIVATE_MODE))
    return files


def _masked(value: object) -> object:
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    return MASK


def _committed_files(adopted: Adopted, command: str) -> list[ProjectFile]:
    t = adopted.tenant
    said = f"written by `{command}`"
    return [
        ProjectFile(APP_FILE, f"# devenv.yaml: the app, shared by every tenant ({said}).\n"
                              "# Schema: devenv/schema/devenv.schema.json; every field: docs/config.md\n"
                    + dump(adopted.app)),
        ProjectFile(f"profiles/{t}.yaml", f"# Tenant profile for {t}, as production would keep it ({said}).\n"
                                          "# Secret names only: values never live in a profile.\n"
                    + dump(adopted.profile)),
        ProjectFile(OVERLAY_FILE, f"# devenv.local.yaml: how local differs from production ({said}).\n"
                                  "# Secret values are referenced by file, never copied here.\n"
                    + dump(adopted.overlay)),
    ]


def check_files(root: Path, tenant: str, files: list[ProjectFile]) -> list[Problem]:
    """devenv's own validation of the files as they would be read from ``root``."""
    docs = {}
    problems: list[Problem] = []
    for f in files:
        doc, found = parse_yaml_text(f.text, f.rel, root / f.rel)
        problems += found
        docs[f.rel] = doc
    app = docs[APP_FILE]
    profile = docs[f"profiles/{tenant}.yaml"]
    overlays = [d for d in (docs[OVERLAY_FILE], docs.get(PERSONAL_FILE)) if d is not None]
    profiles = {tenant: profile} if profile is not None else {}
    problems += validate_documents(app, profiles, overlays)
    return [p for p in problems if p.severity == "error" and p.file in docs]


def refuse_existing(root: Path, rels: list[str]) -> None:
    """An existing project is never overwritten without ``--force``; checked before any work."""
    root = root.resolve()
    existing = [rel for rel in rels if (root / rel).exists() or (root / rel).is_symlink()]
    if existing:
        raise DevenvError(f"{', '.join(existing)} already exist(s) in {root}: not overwriting an existing project",
                          "pass --force to replace them, --dry-run to see what init would write, "
                          "or run init in an empty folder (--root DIR)")


def write_files(root: Path, files: list[ProjectFile], force: bool) -> list[Path]:
    """Write every file, or none: all checks run before the first write. Returns what was
    written, the ``.gitignore`` last when it had to be told about the personal overlay."""
    root = root.resolve()
    targets = [_target(root, f.rel) for f in files]
    if not force:
        refuse_existing(root, [f.rel for f in files])
    ignored = any(f.rel == PERSONAL_FILE for f in files) and ensure_ignored(root, PERSONAL_FILE)
    for f, path in zip(files, targets, strict=True):
        atomic_write(path, f.text, mode=f.mode)
    return targets + ([root / GITIGNORE] if ignored else [])


def ensure_ignored(root: Path, rel: str) -> bool:
    """``rel`` listed in the project's ``.gitignore`` (created or appended to) before a file with
    secret values is written there; ``True`` when the ``.gitignore`` changed."""
    path = _target(root, GITIGNORE)
    raw = path.read_bytes() if path.exists() else b""  # appended to as bytes: nothing of it is rewritten
    if any(line.strip() in (rel, "/" + rel) for line in raw.decode("utf-8", "replace").splitlines()):
        return False
    sep = b"" if not raw or raw.endswith(b"\n") else b"\n"
    atomic_write(path, raw + sep + f"# your own devenv overrides and dev secret values (devenv init)\n/{rel}\n".encode(),
                 mode=FILE_MODE)
    return True


def _target(root: Path, rel: str) -> Path:
    path, why = resolve_inside(root, rel)
    if path is None:
        raise DevenvError(f"{rel} {why}: devenv init writes only inside the project",
                          f"remove the symlink that leads out of {root}, or pick another --root")
    if path.exists() and not path.is_file():
        raise DevenvError(f"{rel} exists and is not a regular file", "move it away and run init again")
    return path


def refuse_invalid(root: Path, tenant: str, files: list[ProjectFile]) -> None:
    problems = check_files(root, tenant, files)
    if problems:
        raise ConfigError(problems)
