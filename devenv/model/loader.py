"""Find and load a project: ``devenv.yaml``, ``profiles/*.yaml`` and the overlays.

``load_project`` reads every file, validates all of them in one pass (``validate.py``) and raises
one ``ConfigError`` listing every problem; only a clean pass is parsed into the model.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from devenv.errors import ConfigError, Problem
from devenv.inputs import APP_FILE as APP_FILE
from devenv.inputs import OVERLAY_FILES as OVERLAY_FILES
from devenv.inputs import PROFILES_DIR as PROFILES_DIR
from devenv.inputs import find_root as find_root
from devenv.inputs import present
from devenv.inputs import project_root as project_root
from devenv.model.types import Project

if TYPE_CHECKING:  # YAML, the validator and the parser load on a full pass only (see load_cached)
    from devenv.model.yamlpos import Document


def rel(root: Path, file: Path) -> str:
    try:
        return str(file.relative_to(root))
    except ValueError:
        return str(file)


def read_documents(root: Path) -> tuple[Document | None, dict[str, Document], list[Document], list[Problem]]:
    from devenv.model.validate import duplicate_profile
    from devenv.model.yamlpos import load_yaml

    problems: list[Problem] = []
    app_doc, p = load_yaml(root / APP_FILE, rel(root, root / APP_FILE))
    problems += p
    profiles: dict[str, Document] = {}
    pdir = root / PROFILES_DIR
    files = sorted(pdir.glob("*.yaml")) + sorted(pdir.glob("*.yml")) if pdir.is_dir() else []
    if present(pdir) and not pdir.is_dir():
        problems.append(Problem(PROFILES_DIR, None, "", "profiles is not a directory",
                                "make profiles/ a directory holding one <tenant>.yaml per tenant"))
    for f in files:
        if f.stem in profiles:  # acme.yaml and acme.yml: one tenant, two files
            problems.append(duplicate_profile(f.stem, profiles[f.stem], rel(root, f)))
            continue
        doc, p = load_yaml(f, rel(root, f))
        problems += p
        if doc is not None:
            profiles[f.stem] = doc
    overlays: list[Document] = []
    for name in OVERLAY_FILES:
        f = root / name
        if present(f):
            doc, p = load_yaml(f, name)
            problems += p
            if doc is not None:
                overlays.append(doc)
    return app_doc, profiles, overlays, problems


def load_project(root: Path | None = None, strict: bool = False) -> tuple[Project, list[Problem]]:
    """Load and validate everything; return the project and its warnings, or raise ``ConfigError``."""
    from devenv.model.parse import parse_app, parse_overlays, parse_profile
    from devenv.model.validate import validate_documents

    root = project_root(root)
    app_doc, profile_docs, overlay_docs, problems = read_documents(root)
    problems += validate_documents(app_doc, profile_docs, overlay_docs, strict=strict)
    if any(p.severity == "error" for p in problems):
        raise ConfigError(problems)
    assert app_doc is not None
    app = parse_app(app_doc.data, root, root / APP_FILE)
    profiles = {name: parse_profile(name, doc.data or {}, doc.file) for name, doc in sorted(profile_docs.items())}
    overlay = parse_overlays([(d.file, d.data or {}) for d in overlay_docs])
    return Project(app=app, profiles=profiles, overlay=overlay), problems


def load_cached(root: Path | None = None, strict: bool = False) -> tuple[Project, list[Problem]]:
    """``load_project``, answered from ``.devenv/cache/`` while no input changed (``cache.py``):
    what every command but ``validate`` loads with. The full pass still runs on any change and
    always when the configuration has errors, so every problem is reported as before."""
    from devenv.inputs import fingerprint
    from devenv.model import cache

    root = project_root(root)
    key = fingerprint(root, strict)
    hit = cache.read(root, key)
    if hit is not None:
        return hit
    project, warnings = load_project(root, strict)
    cache.write(root, key, project, warnings)
    return project, warnings
