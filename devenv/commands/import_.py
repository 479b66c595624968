"""``devenv import``: write ``profiles/<tenant>.yaml`` from what production really runs.

Reads a live namespace (read-only ``kubectl get``) or a saved dump, builds the profile with
``devenv.importer`` and writes it atomically. An existing profile is never overwritten silently:
the unified diff is shown and the user confirms (or passes ``--yes``); without a terminal to ask
on, the command refuses with a message saying how to proceed.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from datetime import UTC, datetime
from pathlib import Path

from devenv import importer
from devenv.commands._common import load
from devenv.errors import ConfigError, DevenvError
from devenv.model.loader import PROFILES_DIR, read_documents, rel
from devenv.model.types import Project
from devenv.model.validate import validate_documents
from devenv.model.yamlpos import parse_yaml_text
from devenv.proc import Runner, default_runner


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("import", help="write profiles/<tenant>.yaml from a production namespace (read-only)",
                       description="Import a tenant profile from a live namespace (kubectl get, read-only) or "
                                   "from a saved `kubectl get ... -o yaml` dump. Secret values are never read.")
    p.add_argument("--tenant", "-t", required=True, metavar="T", help="the tenant (names profiles/T.yaml)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--from-file", type=Path, metavar="DUMP", help="a saved `kubectl get ... -o yaml` dump")
    src.add_argument("--context", metavar="CTX", help="read the live namespace through this kube context")
    p.add_argument("--namespace", "-n", metavar="NS",
                   help="the tenant's namespace (live: default the existing profile's; dump: pick one)")
    p.add_argument("--yes", "-y", action="store_true", help="overwrite an existing profile without asking")
    p.add_argument("--dry-run", action="store_true", help="print the profile to stdout; write nothing")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, runner: Runner | None = None) -> int:
    importer.check_tenant_name(args.tenant)
    project = load()
    objects, source, notes = _read_objects(args, project, runner or default_runner)
    result = importer.import_profile(args.tenant, objects, project.app, namespace=args.namespace)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    text = importer.profile_yaml(result.profile, importer.header_for(args.tenant, source, when))
    _report(notes + result.notes, result.ports)
    if args.dry_run:
        sys.stdout.write(text)
        return 0
    _validate(project, args.tenant, text)
    return _write(project.app.root / PROFILES_DIR / f"{args.tenant}.yaml", project.app.root, text, args.yes)


def _read_objects(args: argparse.Namespace, project: Project, runner: Runner) -> tuple[list[dict], str, list[str]]:  # type: ignore[type-arg]
    if args.from_file is not None:
        return importer.read_dump_file(args.from_file), f"the dump {args.from_file.name}", []
    ns = args.namespace
    if not ns:
        existing = project.profiles.get(args.tenant)
        if existing is None:
            raise DevenvError(f"which namespace holds tenant {args.tenant}?",
                              "pass --namespace NS (later imports reuse the profile's namespace)")
        ns = existing.namespace
        args.namespace = ns
    objects, notes = importer.fetch_live(runner, args.context, ns)
    return objects, f"kubectl context {args.context}, namespace {ns}", notes


def _report(notes: list[str], ports: dict[str, list[str]]) -> None:
    """Everything decided on the user's behalf goes to stderr, so stdout stays the profile."""
    for n in notes:
        print(f"devenv: import: {n}", file=sys.stderr)
    for comp, lines in ports.items():
        shown = lines if len(lines) <= importer.NOTES_PER_KIND + 1 else [
            *lines[:importer.NOTES_PER_KIND], f"... and {len(lines) - importer.NOTES_PER_KIND} more"]
        print(f"devenv: import: ports of {comp}: {'; '.join(shown)}", file=sys.stderr)


def _validate(project: Project, tenant: str, text: str) -> None:
    """Refuse to write a profile the loader would then reject."""
    root = project.app.root
    app_doc, profiles, overlays, _ = read_documents(root)
    doc, problems = parse_yaml_text(text, f"{PROFILES_DIR}/{tenant}.yaml", root / PROFILES_DIR / f"{tenant}.yaml")
    if doc is not None:
        profiles[tenant] = doc
        problems += validate_documents(app_doc, profiles, overlays)
    mine = [p for p in problems if p.severity == "error" and p.file.endswith(f"{tenant}.yaml")]
    if mine:
        raise ConfigError(mine)


def _write(path: Path, root: Path, text: str, yes: bool) -> int:
    shown = rel(root, path)
    if path.is_file():
        old = path.read_text(encoding="utf-8", errors="replace")
        if importer.strip_header(old) == importer.strip_header(text):
            print(f"{shown} is already up to date with production")
            return 0
        sys.stdout.writelines(difflib.unified_diff(old.splitlines(keepends=True), text.splitlines(keepends=True),
                                                   f"{shown} (current)", f"{shown} (imported)"))
        if not yes and not _confirm(shown):
            print(f"{shown} left unchanged", file=sys.stderr)
            return 1
    importer.write_atomic(path, text)
    print(f"wrote {shown} (secret names and keys only, no values)")
    return 0


def _confirm(shown: str) -> bool:
    if not sys.stdin.isatty():
        raise DevenvError(f"{shown} already exists and differs from the import (diff above); "
                          "not overwriting without confirmation",
                          "rerun with --yes to overwrite it, or with --dry-run to only print the new profile")
    sys.stderr.write(f"overwrite {shown}? [y/N] ")
    sys.stderr.flush()
    try:
        answer = sys.stdin.readline().strip().lower()
    except EOFError:
        answer = ""
    return answer in ("y", "yes")

