"""``devenv render``: print what a backend would run, as plain YAML.

Only YAML goes to stdout (notes and warnings go to stderr), so the output pipes straight into
``docker compose -f - config`` or ``kubectl apply -f -``.

Rendering writes nothing by default. Secrets follow from that:

* compose: the file references the tenant's secrets env file (``.devenv/<tenant>/secrets.env``, by
  absolute path so the output works from any directory) only when that file exists, i.e. after
  ``devenv up`` or with ``--write-secrets`` (which generates missing values, stores them and writes
  the env file). Otherwise secrets are left out entirely and a note says so. The compose output
  never contains a secret value either way.
* kind, local: Secret objects carry the overlay's dev values plus values stored by earlier runs;
  ``--write-secrets`` generates and stores any still missing. Prod output has no Secret objects.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from devenv import fsutil, secrets
from devenv.commands._common import add_tenant_arg, load, pick_tenants, split_names
from devenv.errors import DevenvError
from devenv.model.resolve import resolve
from devenv.model.types import Project, TenantSpec
from devenv.render.compose import compose_warnings, load_fragments, render_compose
from devenv.render.kind_cluster import DEFAULT_REGISTRY, cluster_satisfies, render_cluster
from devenv.render.kube import render_manifests
from devenv.render.yamldump import dump, dump_all


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "render",
        help="print a tenant's compose file, Kubernetes manifests or the kind cluster config",
        description="Print what a backend would run, as YAML on stdout (notes on stderr). "
                    "Pipe it: `devenv render -t acme | docker compose -f - config`, "
                    "`devenv render -t acme --backend kind | kubectl apply -f -`.",
    )
    add_tenant_arg(p, help="tenant(s); compose renders one, kind and --cluster several (default: all for --cluster)")
    p.add_argument("--backend", choices=("compose", "kind"), default="compose",
                   help="compose file or Kubernetes manifests (default: compose)")
    p.add_argument("--env", choices=("local", "prod"), default="local",
                   help="local (the overlay applied, images built from source) or prod (production's view)")
    p.add_argument("--cluster", action="store_true", help="render the kind cluster config for the tenants")
    p.add_argument("--output", "-o", metavar="FILE",
                   help="write to FILE instead of stdout (`-` or /dev/stdout: stdout); an existing file is "
                        "replaced only with --force or after a prompt; devices, FIFOs and symlinks leading "
                        "outside the project need --force")
    p.add_argument("--force", "-f", action="store_true",
                   help="--output: replace an existing file, or write into a device or FIFO, without asking")
    p.add_argument("--write-secrets", action="store_true",
                   help="generate and store missing local secret values (and the compose env file)")
    p.add_argument("--expose", action="store_true", help="compose: publish ports on 0.0.0.0, not 127.0.0.1")
    p.add_argument("--registry", default=DEFAULT_REGISTRY, metavar="NAME:PORT",
                   help=f"--cluster: local registry container and host port, or 'none' (default {DEFAULT_REGISTRY})")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    project = load()
    root = project.app.root
    # Every refusal of the target comes before rendering: --write-secrets must not store anything
    # for an output that is then refused.
    check_output(args.output, root, args.force)
    secret = not args.cluster and args.backend == "kind" and args.env == "local"
    if secret and args.output not in (None, *fsutil.STREAMS) and not args.force:
        _refuse_secrets_where_git_stages(Path(args.output).absolute(), root)
    if args.cluster:
        text = render_cluster_text(project, args)
    elif args.backend == "compose":
        text = render_compose_text(project, args)
    else:
        text = render_kube_text(project, args)
    write_output(text, args.output, root, args.force or _exists(args.output))
    return 0


def _exists(output: str | None) -> bool:
    """The target existed and was confirmed (or forced) by ``check_output``."""
    return bool(output) and output not in fsutil.STREAMS and not fsutil.is_stream(str(output)) \
        and Path(str(output)).is_file()


def _refuse_secrets_where_git_stages(target: Path, root: Path) -> None:
    """Kind output holds Secret objects with dev values: not into the project's tree (where
    ``git add`` would stage it) unless under the git-ignored ``.devenv/`` or with ``--force``."""
    real, top = Path(os.path.realpath(target)), Path(os.path.realpath(root))
    inside = real == top or top in real.parents
    if inside and (top / ".devenv") not in real.parents:
        raise DevenvError(f"{target} would hold local secret values inside the project, where git would stage them",
                          "write it under .devenv/ or outside the project, pipe it (-o -), or add --force")


def note(message: str) -> None:
    print(f"devenv: {message}", file=sys.stderr)


def image_refs(project: Project, specs: list[TenantSpec]) -> dict[str, str]:
    """Content tags for the images the specs build from source (none are built here)."""
    keys = sorted({w.build_image for s in specs for w in s.workloads.values() if w.build_image})
    if not keys:
        return {}
    try:
        from devenv.build.graph import compute_tags
    except ImportError:  # TODO: drop once devenv.build.graph is always present
        return {k: f"devenv/{project.app.name}-{k}:dev" for k in keys}
    try:
        tags = compute_tags(project.app, images=keys)
    except DevenvError as exc:
        # Rendering is for reading: show the file even while an image's inputs are broken.
        note(f"warning: cannot compute content tags ({exc.message}); showing placeholder tags ':unhashed'")
        return {k: f"devenv/{project.app.name}-{k}:unhashed" for k in keys}
    return {k: tags[k] for k in keys}


def render_cluster_text(project: Project, args: argparse.Namespace) -> str:
    specs = [resolve(project, t, "local") for t in pick_tenants(project, args.tenant, default_all=True)]
    registry = None if args.registry.lower() == "none" else args.registry
    cluster = render_cluster(project, specs, registry=registry)
    for problem in cluster_satisfies(cluster, specs):
        note(f"warning: no node satisfies {problem}")
    return dump(cluster)


def compose_tenant(project: Project, names: list[str] | None) -> str:
    """Compose renders one tenant: the one named, else the first default (said on stderr)."""
    named = split_names(names)
    tenants = pick_tenants(project, names)
    if len(tenants) > 1 and named:
        raise DevenvError("compose renders one tenant at a time (each is its own compose project)",
                          "pass a single --tenant, or use --backend kind for several")
    if not named:
        note(f"rendering tenant {tenants[0]} (pass --tenant to pick another)")
    return tenants[0]


def render_compose_text(project: Project, args: argparse.Namespace) -> str:
    spec = resolve(project, compose_tenant(project, args.tenant), args.env)
    root = project.app.root
    env_file = compose_env_file(root, spec, args.write_secrets)
    fragments = load_fragments(root)
    for warning in compose_warnings(project, spec, fragments):
        note(f"warning: {warning}")
    doc = render_compose(project, spec, image_refs(project, [spec]), secrets_env_file=env_file,
                         expose=args.expose, fragments=fragments)
    return dump(doc)


def compose_env_file(root: Path, spec: TenantSpec, write: bool) -> dict[str, str] | None:
    """Each component's secrets env file (only its own secrets), written with ``--write-secrets``."""
    if spec.env != "local" or not secrets.secret_refs(spec):
        return None
    if write:
        return secrets.write_env_files(root, spec, secrets.local_secret_values(root, spec))
    paths = secrets.existing_env_files(root, spec)
    if paths is not None:
        return paths
    folder = secrets.component_env_file_path(root, spec.name, "x").parent
    note(f"secrets left out: {folder}/ does not hold every component's env file yet "
         "(run `devenv up` once, or add --write-secrets)")
    return None


def render_kube_text(project: Project, args: argparse.Namespace) -> str:
    specs = [resolve(project, t, args.env) for t in pick_tenants(project, args.tenant)]
    images = image_refs(project, specs)
    docs: list[dict[str, Any]] = []
    for spec in specs:
        docs += render_manifests(project, spec, images, kube_secret_values(project.app.root, spec, args.write_secrets))
    return dump_all(docs)


def kube_secret_values(root: Path, spec: TenantSpec, write: bool) -> dict[str, dict[str, str]] | None:
    if spec.env != "local":
        return None
    if write:
        return secrets.local_secret_values(root, spec)
    values = secrets.merge_values(spec, secrets.stored_secret_values(root, spec.name))
    for ref in secrets.missing_refs(spec, values):
        note(f"warning: {spec.name}: no local value for secret {ref.name}/{ref.key} yet; "
             "its pods will not start (add --write-secrets, or set it in devenv.local.yaml)")
    return values


def check_output(output: str | None, root: Path, force: bool = False) -> None:
    """Refuse a target before anything is rendered or written: an empty name, a directory, a
    device, FIFO or socket (without ``--force``), a symlink leading out of the project, an existing
    file (without ``--force`` or a yes at a prompt)."""
    if output is None or output in fsutil.STREAMS or fsutil.is_stream(output):
        return
    if output == "":
        raise DevenvError("--output is empty", "name a file, or `-` for stdout")
    target = Path(output).absolute()
    refusal = fsutil.output_refusal(target, root, force)
    if refusal:
        raise DevenvError(f"refusing to write: {refusal}", "pick another --output, or add --force to write into it")
    if target.is_file() and not force:
        _confirm_replace(target)


def write_output(text: str, output: str | None, root: Path, force: bool = False) -> None:
    """Stdout, or FILE replaced atomically and private (kind output may hold dev secret values).
    Never replaces a device, a FIFO or a directory, never follows a symlink out of the project and
    never overwrites a file without ``--force`` or a yes at a prompt."""
    if output is None or output in fsutil.STREAMS:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    if fsutil.is_stream(output):
        fsutil.write_into_special(Path(output), text)
        return
    check_output(output, root, force)
    target = Path(output).absolute()
    if target.exists() and not target.is_file():  # a device or FIFO, and --force was given
        fsutil.write_into_special(target, text)
        note(f"wrote into {target}")
        return
    written = fsutil.atomic_write(Path(os.path.realpath(target)), text)
    note(f"wrote {written}")


def _confirm_replace(target: Path) -> None:
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise DevenvError(f"{target} already exists", "add --force to replace it, or pick another --output")
    sys.stderr.write(f"devenv: replace {target}? [y/N] ")
    sys.stderr.flush()
    try:
        answer = sys.stdin.readline()
    except (OSError, KeyboardInterrupt):
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise DevenvError(f"{target} left unchanged", "add --force to replace it without asking")
