"""``devenv init``: start a devenv project from what the team already has.

``--from-compose FILE`` (or a folder holding ``compose.yaml`` / ``docker-compose.yml``) reads a
compose project with ``devenv.adopt.compose`` and writes ``devenv.yaml``, ``profiles/<tenant>.yaml``
and ``devenv.local.yaml`` into the project root (``--root``, else the current folder). Every
decision taken on the user's behalf is printed on stderr as ``file:line: key: what and why``;
``--dry-run`` prints the files on stdout and writes nothing; an existing file is never replaced
without ``--force``. Credential-looking env values never go into those committed files: they
become secret references, their dev values go to ``devenv.personal.yaml``, which init makes sure
the project's ``.gitignore`` lists (``docs/adopt.md``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from devenv.errors import DevenvError

if TYPE_CHECKING:
    from devenv.adopt.result import Adopted

DEFAULT_TENANT = "dev"


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("init", help="write devenv.yaml, a first profile and devenv.local.yaml from a compose project",
                       description="Adopt an existing project: read a compose file and write devenv.yaml, "
                                   "profiles/<tenant>.yaml and devenv.local.yaml. What cannot be carried is "
                                   "listed with its file and line.")
    p.add_argument("--from-compose", type=Path, metavar="FILE",
                   help="a compose file, or a folder holding compose.yaml / docker-compose.yml")
    p.add_argument("--from-k8s", type=Path, metavar="PATH",
                   help="production's manifests: a file or folder (kubectl get -o yaml, helm template, "
                        "kubectl kustomize output)")
    p.add_argument("--context", action="append", default=[], metavar="COMPONENT=DIR",
                   help="with --from-k8s: build COMPONENT from source in DIR (repeatable; default: "
                        "Dockerfiles found beside the manifests)")
    p.add_argument("--tenant", "-t", default=None, metavar="T",
                   help=f"the first tenant's name (profiles/T.yaml; default {DEFAULT_TENANT})")
    p.add_argument("--dry-run", action="store_true", help="print the files on stdout; write nothing")
    p.add_argument("--force", action="store_true", help="replace existing devenv.yaml / profile / overlay")
    p.set_defaults(run=run, init_sources=["from_compose", "from_k8s"])


def project_root() -> Path:
    """Where init writes: --root / $DEVENV_ROOT, else the current folder (no search upwards: init
    starts a project, it does not look for one)."""
    return Path(os.environ.get("DEVENV_ROOT") or Path.cwd()).resolve()


def tenant_name(value: str | None) -> str:
    from devenv.model.validate import DNS_WORDS, _as_dns_label, dns_label

    tenant = DEFAULT_TENANT if value is None else value  # --tenant '' is an error, never the default
    if not dns_label(tenant):
        raise DevenvError(f"tenant '{tenant}' is not {DNS_WORDS}", f"e.g. --tenant {_as_dns_label(tenant)}")
    return tenant


def run(args: argparse.Namespace) -> int:
    """Dispatch to the one source given; each source reads into an ``Adopted`` and calls ``finish``."""
    sources = [s for s in args.init_sources if getattr(args, s, None) is not None]
    if len(sources) != 1:
        flags = ", ".join("--" + s.replace("_", "-") for s in args.init_sources)
        raise DevenvError("init needs exactly one source to adopt", f"pass one of: {flags}")
    if sources[0] == "from_k8s":
        return adopt_k8s(args)
    if args.context:
        raise DevenvError("--context goes with --from-k8s", "compose files name their build contexts themselves")
    return adopt_compose(args)


def contexts(values: list[str]) -> dict[str, Path]:
    """``--context COMPONENT=DIR`` pairs."""
    out: dict[str, Path] = {}
    for value in values:
        name, sep, folder = value.partition("=")
        if not sep or not name or not folder:
            raise DevenvError(f"--context {value}: expected COMPONENT=DIR", "e.g. --context web=src/web")
        out[name] = Path(folder)
    return out


def adopt_k8s(args: argparse.Namespace) -> int:
    from devenv.adopt.k8s import read_k8s
    from devenv.adopt.write import file_names, refuse_existing

    root = project_root()
    if not args.tenant:
        raise DevenvError("--from-k8s needs --tenant T: the tenant these manifests are production's for",
                          "e.g. devenv init --from-k8s prod.yaml --tenant acme")
    tenant = tenant_name(args.tenant)
    if not (args.dry_run or args.force):
        refuse_existing(root, file_names(tenant))
    adopted = read_k8s(args.from_k8s, root, tenant, contexts(args.context))
    return finish(adopted, root, args, f"devenv init --from-k8s {adopted.source} --tenant {tenant}")


def adopt_compose(args: argparse.Namespace) -> int:
    from devenv.adopt.compose import read_compose
    from devenv.adopt.write import file_names, refuse_existing

    root = project_root()
    tenant = tenant_name(args.tenant)
    if not (args.dry_run or args.force):
        refuse_existing(root, file_names(tenant))
    adopted = read_compose(args.from_compose, root, tenant)
    return finish(adopted, root, args, f"devenv init --from-compose {adopted.source}")


def finish(adopted: Adopted, root: Path, args: argparse.Namespace, command: str) -> int:
    """The shared tail of every source: notes on stderr, refusals, validation, then write."""
    from devenv.adopt.write import project_files, refuse_invalid, write_files

    adopted.check()
    for note in sorted(adopted.notes, key=lambda n: (n.file, n.line or 0)):
        print(f"devenv: init: {note}", file=sys.stderr)
    files = project_files(adopted, command)
    refuse_invalid(root, adopted.tenant, files)
    if args.dry_run:
        for f in project_files(adopted, command, masked=True):
            sys.stdout.write(f"# --- {f.rel} ---\n{f.text}")
        return 0
    for path in write_files(root, files, args.force):
        print(f"wrote {path.relative_to(root).as_posix()}")
    print(f"next: devenv validate && devenv up --tenant {adopted.tenant}", file=sys.stderr)
    return 0

