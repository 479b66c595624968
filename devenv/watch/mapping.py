"""From a batch of changed paths to what the engine must do: sync, rebuild, redeploy, or nothing.

Pure decision code: it reads no files itself (``.dockerignore`` reaches it through the injected
``is_ignored`` callable), so every outcome is explainable and unit-testable. Every path of a
batch ends up in exactly one place that says why: a ``SyncAction``, a rebuild reason, the
``superseded`` list (a sync a rebuild makes pointless) or the ``ignored`` list. "Sync that silently
does nothing" is the top complaint about every peer; here nothing is silent.

Rules, in order, per changed path and per image whose context holds it:

1. editor/tool noise (swap files, ``.git/``, ``__pycache__``...) is ignored;
2. the image's Dockerfile or its ``.dockerignore`` rebuilds the image;
3. a path the context's ``.dockerignore`` excludes is ignored (it cannot reach the image);
4. a dependency manifest (``requirements.txt``, ``package.json``, ``go.mod``...) rebuilds, even
   under a sync rule, because installing dependencies happens at build time;
5. a path under a ``rebuild`` rule rebuilds; under a ``sync*`` rule it syncs to ``target`` + the
   remainder of the path below the rule;
6. a path no rule covers is *live-updated* when the Dockerfile's tail (the ``COPY``s after its
   last ``RUN``, see ``LiveTail``) is what takes it in and nothing above the tail does: it syncs
   to where that ``COPY`` puts it and the container restarts (or not, for a component whose
   ``live_update`` is ``reload``), with no recreate; the image follows by a background build
   (``ChangePlan.live_builds``) so the next ``up`` is exact. Skaffold's ``sync.infer`` and Tilt's
   ``live_update``, inferred with no configuration; the timeline names the ``COPY`` it used;
7. any other path no rule covers rebuilds: the container would otherwise run stale code silently.

Then: a rebuilt image rebuilds every image standing on it (``parent`` chain); a sync of a component
whose image rebuilds is dropped (the rebuild ships the file anyway); every component built from
a rebuilt image is redeployed in every tenant that builds it from source.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from devenv.model.types import App, Component, ImageDef, SyncFile, TenantSpec, WatchAction, WatchRule
from devenv.watch.ignore import IsIgnored, default_is_ignored, noise_reason

ChangeKind = Literal["created", "modified", "deleted", "moved"]
"""``moved`` marks the *source* of a rename: the path no longer holds a file, like ``deleted``, but
the coalescer can tell a save's temp file (created, then renamed onto the real file) from a
real deletion. The destination of a rename is reported as ``created``."""
GONE: frozenset[str] = frozenset({"deleted", "moved"})

DEPENDENCY_MANIFESTS = (
    "requirements*.txt", "pyproject.toml", "poetry.lock", "Pipfile", "Pipfile.lock", "uv.lock",
    "package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml",
    "go.mod", "go.sum", "Gemfile*", "Cargo.toml", "Cargo.lock",
)
_GLOB_CHARS = frozenset("*?[")

FileSync = SyncFile
"""``(host path, container path)``; the host path is ``None`` when the file was deleted. The one
typed value a sync's files travel in, from this planner to the backend."""


@dataclass(frozen=True)
class TailCopy:
    """One ``COPY`` of a Dockerfile's tail: the context paths it takes in (normalised, relative;
    ``""`` is the whole context) and where it puts them in the image (absolute)."""

    sources: tuple[str, ...]
    dest: str
    dest_is_dir: bool  # spelled as a directory (trailing ``/``): a file source lands below it
    where: str  # "Dockerfile:12 COPY static ./static", for the timeline


@dataclass(frozen=True)
class LiveTail:
    """What the planner needs of an image's Dockerfile to infer a live update: the tail's
    ``COPY``s, and every context source an instruction above the tail takes in (a path among
    those changes the head: only a rebuild ships it)."""

    copies: tuple[TailCopy, ...]
    head_sources: tuple[str, ...]


TailOf = Callable[[ImageDef], LiveTail | None]
"""The Dockerfile tail of an image, or None when it has none that a live update can use (the
engine reads the Dockerfile; the planner stays pure)."""


@dataclass(frozen=True)
class SyncAction:
    """Copy ``files`` into every running container of ``component`` in ``tenants``, then restart
    the container or run ``then_exec`` in it if the rule says so. ``inferred`` names the
    Dockerfile ``COPY`` a live update was inferred from (``rule`` is then synthesised from it)."""

    component: str
    rule: WatchRule
    files: list[FileSync]
    tenants: tuple[str, ...]
    then_restart: bool = False
    then_exec: tuple[str, ...] | None = None
    inferred: str = ""


@dataclass(frozen=True)
class ChangePlan:
    """What one batch of file changes asks for. ``rebuilds`` is ordered parents first;
    ``redeploys`` maps a component to the tenants that must be redeployed on its new image."""

    syncs: list[SyncAction] = field(default_factory=list)
    rebuilds: dict[str, str] = field(default_factory=dict)
    redeploys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ignored: list[tuple[Path, str]] = field(default_factory=list)
    superseded: list[tuple[Path, str]] = field(default_factory=list)
    live_builds: dict[str, str] = field(default_factory=dict)
    """Images to build in the background after a live update, with no redeploy: the containers
    already run the content; the image catches up so the next ``up`` is exact."""

    @property
    def empty(self) -> bool:
        """Nothing to do (every path was ignored)."""
        return not self.syncs and not self.rebuilds


@dataclass
class _Draft:
    """Mutable accumulator used while planning one batch."""

    syncs: dict[tuple[str, WatchRule], list[FileSync]] = field(default_factory=dict)
    sync_sources: dict[tuple[str, WatchRule], list[Path]] = field(default_factory=dict)
    causes: dict[str, list[str]] = field(default_factory=dict)
    ignored: list[tuple[Path, str]] = field(default_factory=list)
    inferred: dict[tuple[str, WatchRule], str] = field(default_factory=dict)

    def rebuild(self, image: str, reason: str) -> None:
        self.causes.setdefault(image, []).append(reason)

    def sync(self, component: str, rule: WatchRule, path: Path, dest: str, deleted: bool) -> None:
        key = (component, rule)
        self.syncs.setdefault(key, []).append(SyncFile(None if deleted else path, dest))
        self.sync_sources.setdefault(key, []).append(path)


def plan_changes(
    app: App,
    specs: list[TenantSpec],
    changes: dict[Path, ChangeKind],
    is_ignored: IsIgnored | None = None,
    tail_of: TailOf | None = None,
) -> ChangePlan:
    """Decide what ``changes`` (absolute host paths) mean for the tenants in ``specs``.

    Only images some tenant builds from source (directly or as a parent of one) are acted on;
    ``is_ignored`` answers for ``.dockerignore`` (default: read each context's file); ``tail_of``
    gives an image's Dockerfile tail for inferred live updates (None: no inference, rule 7)."""
    ignored_by = is_ignored or default_is_ignored()
    used = used_images(app, specs)
    draft = _Draft()
    for path in sorted(changes):
        _plan_path(app, specs, used, ignored_by, draft, path, changes[path] in GONE, tail_of)
    rebuilds = _with_dependents(app, used, _summarise(draft.causes))
    syncs, superseded = _drop_superseded(app, specs, draft, rebuilds)
    return ChangePlan(
        syncs=syncs,
        rebuilds=rebuilds,
        redeploys=_redeploys(app, specs, rebuilds),
        ignored=draft.ignored,
        superseded=superseded,
        live_builds=_live_builds(app, syncs),
    )


def plan_rebuild(app: App, specs: list[TenantSpec], reasons: dict[str, str]) -> ChangePlan:
    """A rebuild asked for by name (``devenv rebuild``, the TUI's ``r``): the same redeploy
    decision as a watched change, so the engine never makes its own."""
    return ChangePlan(rebuilds=dict(reasons), redeploys=_redeploys(app, specs, reasons))


def plan_tenants(plan: ChangePlan) -> set[str]:
    """Every tenant the plan redeploys a component of."""
    return {t for tenants in plan.redeploys.values() for t in tenants}


def used_images(app: App, specs: Iterable[TenantSpec]) -> set[str]:
    """Images some tenant builds from source, plus every image they stand on."""
    used: set[str] = set()
    for spec in specs:
        for wl in spec.workloads.values():
            if wl.build_image:
                used.update(image_chain(app, wl.build_image))
    return used


def image_chain(app: App, image: str) -> list[str]:
    """``image`` and its ancestors, nearest first (cycles are the validator's problem; stop)."""
    chain: list[str] = []
    cur: str | None = image
    while cur is not None and cur in app.images and cur not in chain:
        chain.append(cur)
        cur = app.images[cur].parent
    return chain


def watch_roots(app: App, specs: Iterable[TenantSpec]) -> list[Path]:
    """Directories to watch: the context (and Dockerfile directory) of every used image."""
    roots: set[Path] = set()
    for key in used_images(app, specs):
        img = app.images[key]
        roots.add(img.context)
        roots.add(img.dockerfile.parent)
    return sorted(roots)


def _plan_path(
    app: App, specs: list[TenantSpec], used: set[str], is_ignored: IsIgnored,
    draft: _Draft, path: Path, deleted: bool, tail_of: TailOf | None = None,
) -> None:
    noise = noise_reason(_rel(app.root, path))
    if noise:
        draft.ignored.append((path, noise))
        return
    images = [img for key, img in app.images.items() if key in used and _touches_image(img, path, deleted)]
    if not images:
        draft.ignored.append((path, _unwatched_reason(app, used, path)))
        return
    for img in images:
        _plan_for_image(app, specs, is_ignored, draft, img, path, deleted, tail_of)


def _touches_image(img: ImageDef, path: Path, deleted: bool) -> bool:
    """The path is in the context, is the Dockerfile, or (deleted directory) holds the Dockerfile."""
    if _is_under(path, img.context) or path == img.dockerfile:
        return True
    return deleted and _is_under(img.dockerfile, path)


def _unwatched_reason(app: App, used: set[str], path: Path) -> str:
    idle = [k for k, img in app.images.items() if k not in used and _is_under(path, img.context)]
    if idle:
        return f"image {idle[0]} is not built from source by any running tenant"
    rel = _rel(app.root, path)
    for comp in app.components.values():
        rule = matching_rule(comp.watch, rel)
        if rule is not None:
            return (f"outside every watched context (watch rule {rule.path} of {comp.name} lies outside "
                    f"its image's build context, which is all devenv watches)")
    return "outside every watched context"


def _plan_for_image(
    app: App, specs: list[TenantSpec], is_ignored: IsIgnored,
    draft: _Draft, img: ImageDef, path: Path, deleted: bool, tail_of: TailOf | None = None,
) -> None:
    shown = _rel(app.root, path)
    if path == img.dockerfile or (deleted and _is_under(img.dockerfile, path)):
        draft.rebuild(img.name, f"{img.dockerfile.name} changed")
        return
    rel = _rel(img.context, path)
    if rel == ".dockerignore":
        draft.rebuild(img.name, ".dockerignore changed")
        return
    if rel != "." and is_ignored(img.context, rel):
        draft.ignored.append((path, f".dockerignore of image {img.name} excludes it"))
        return
    tail = tail_of(img) if tail_of is not None else None
    _plan_by_rules(app, specs, draft, img, path, shown, deleted, tail)


def _plan_by_rules(
    app: App, specs: list[TenantSpec], draft: _Draft, img: ImageDef, path: Path, shown: str, deleted: bool,
    tail: LiveTail | None = None,
) -> None:
    """Apply the watch rules of every component built from ``img`` (in at least one tenant)."""
    manifest = is_dependency_manifest(path.name)
    components = _source_components(app, specs, img.name)
    # ``img`` is a used image (``_plan_path``): with no component of its own it is the parent of one
    if not components:  # a base image: no container runs it, any input change rebuilds it
        draft.rebuild(img.name, f"{shown} changed")
        return
    for comp in components:
        _plan_component(app, draft, img, comp, path, shown, deleted, manifest, tail)


def _plan_component(
    app: App, draft: _Draft, img: ImageDef, comp: Component, path: Path, shown: str,
    deleted: bool, manifest: bool, tail: LiveTail | None = None,
) -> None:
    rel_root = _rel(app.root, path)
    rule = matching_rule(comp.watch, rel_root)
    if rule is not None and _rule_ignores(rule, rel_root):
        draft.ignored.append((path, f"ignore pattern of {comp.name}'s watch rule {rule.path}"))
        return
    if rule is not None and rule.action == "rebuild":
        draft.rebuild(img.name, f"{path.name} changed (rule rebuild)")
    elif manifest:
        draft.rebuild(img.name, f"{path.name} changed (dependency manifest)")
    elif rule is None:
        _infer_or_rebuild(app, draft, img, comp, path, shown, deleted, tail)
    elif rule.target is None:
        draft.rebuild(img.name, f"watch rule {rule.path} of {comp.name} has no target")
    else:
        draft.sync(comp.name, rule, path, container_path(rule, rel_root), deleted)


def _infer_or_rebuild(
    app: App, draft: _Draft, img: ImageDef, comp: Component, path: Path, shown: str,
    deleted: bool, tail: LiveTail | None,
) -> None:
    """Rule 6 (a live update the Dockerfile's tail implies) or rule 7 (rebuild)."""
    rel = _rel(img.context, path)
    hits = infer_dests(tail, rel, deleted) if tail is not None and comp.live_update != "rebuild" else []
    if not hits:
        draft.rebuild(img.name, f"no sync rule of {comp.name} covers {shown}"
                      + ("" if tail is None or comp.live_update == "rebuild" else _why_not_inferred(tail, rel)))
        return
    action: WatchAction = "sync" if comp.live_update == "reload" else "sync+restart"
    for copy, dest in hits:
        rule = WatchRule(path=_rel(app.root, img.context / copy.sources[0]) if copy.sources[0] else
                         _rel(app.root, img.context), action=action, target=copy.dest)
        draft.sync(comp.name, rule, path, dest, deleted)
        draft.inferred[(comp.name, rule)] = copy.where


def infer_dests(tail: LiveTail, rel: str, deleted: bool) -> list[tuple[TailCopy, str]]:
    """Where the tail's ``COPY``s put the context path ``rel`` in the image; empty when a live
    update cannot stand for the build: an instruction above the tail takes ``rel`` in, a glob
    source might (its matches are the builder's business), or ``rel`` is a whole source that went
    (the build would fail or change shape)."""
    if any(_source_takes(src, rel) for src in tail.head_sources):
        return []
    out: list[tuple[TailCopy, str]] = []
    for copy in tail.copies:
        for src in copy.sources:
            if _is_glob(src):
                return []
            dest = _dest_of(copy, src, rel, deleted)
            if dest is not None:
                out.append((copy, dest))
    return out


def _why_not_inferred(tail: LiveTail, rel: str) -> str:
    if any(_source_takes(src, rel) for src in tail.head_sources):
        return " (an instruction above the Dockerfile's trailing COPYs takes it in)"
    return ""


def _source_takes(src: str, rel: str) -> bool:
    if _is_glob(src):
        return True  # conservative: a pattern above the tail may take it in
    return src == "" or rel == src or rel.startswith(src + "/")


def _dest_of(copy: TailCopy, src: str, rel: str, deleted: bool) -> str | None:
    """Where ``COPY src dest`` puts ``rel``: a directory source copies its *contents* to dest."""
    if src == "":
        return posixpath.join(copy.dest, rel)
    if rel.startswith(src + "/"):
        return posixpath.join(copy.dest, rel[len(src) + 1:])
    if rel != src or deleted:
        return None
    if copy.dest_is_dir or len(copy.sources) > 1:
        return posixpath.join(copy.dest, posixpath.basename(src))
    return copy.dest


def is_dependency_manifest(name: str) -> bool:
    """Manifests whose change needs a dependency install, which only a build performs."""
    return any(fnmatch.fnmatchcase(name, pat) for pat in DEPENDENCY_MANIFESTS)


def matching_rule(rules: Iterable[WatchRule], relpath: str) -> WatchRule | None:
    """The most specific rule covering ``relpath`` (project-relative, POSIX): the one with the
    longest fixed prefix, so ``web/static/vendor`` beats ``web/static``."""
    best: WatchRule | None = None
    best_len = -1
    for rule in rules:
        if rule_covers(rule, relpath) and len(_fixed_prefix(rule.path)) > best_len:
            best, best_len = rule, len(_fixed_prefix(rule.path))
    return best


def rule_covers(rule: WatchRule, relpath: str) -> bool:
    """A plain rule path covers itself and everything below it; a glob covers what it matches
    and everything below a directory it matches."""
    if not _is_glob(rule.path):
        return relpath == rule.path or relpath.startswith(rule.path + "/")
    parts = relpath.split("/")
    return any(fnmatch.fnmatchcase("/".join(parts[: i + 1]), rule.path) for i in range(len(parts)))


def container_path(rule: WatchRule, relpath: str) -> str:
    """``target`` + the part of ``relpath`` below the rule's fixed (glob-free) prefix."""
    assert rule.target is not None
    prefix = _fixed_prefix(rule.path)
    if not _is_glob(rule.path) and relpath == rule.path:
        return rule.target
    remainder = relpath[len(prefix):].lstrip("/") if prefix else relpath
    return posixpath.join(rule.target, remainder) if remainder else rule.target


def _rule_ignores(rule: WatchRule, relpath: str) -> bool:
    """``ignore`` patterns are relative to the rule's path (compose's convention); a pattern
    matching a directory ignores what is under it."""
    below = relpath[len(_fixed_prefix(rule.path)):].lstrip("/")
    if not below:
        return False
    parts = below.split("/")
    cands = ["/".join(parts[: i + 1]) for i in range(len(parts))] + parts
    return any(fnmatch.fnmatchcase(c, pat.strip("/")) for pat in rule.ignore for c in cands)


def _fixed_prefix(rule_path: str) -> str:
    if not _is_glob(rule_path):
        return rule_path
    fixed: list[str] = []
    for part in rule_path.split("/"):
        if _GLOB_CHARS & set(part):
            break
        fixed.append(part)
    return "/".join(fixed)


def _is_glob(path: str) -> bool:
    return bool(_GLOB_CHARS & set(path))


def _source_components(app: App, specs: list[TenantSpec], image: str) -> list[Component]:
    """Components built from ``image`` that at least one tenant builds from source."""
    names = {n for s in specs for n, wl in s.workloads.items() if wl.build_image == image}
    return [c for c in app.components.values() if c.name in names]


def _summarise(causes: dict[str, list[str]]) -> dict[str, str]:
    """One line per image: the first cause, and how many more there were."""
    out: dict[str, str] = {}
    for image, reasons in causes.items():
        unique = list(dict.fromkeys(reasons))
        more = f" (+{len(unique) - 1} more)" if len(unique) > 1 else ""
        out[image] = unique[0] + more
    return out


def _with_dependents(app: App, used: set[str], direct: dict[str, str]) -> dict[str, str]:
    """Add every used image standing on a rebuilt one; order parents before children."""
    result: dict[str, str] = {}
    for key in _topo_order(app):
        if key in direct:
            result[key] = direct[key]
            continue
        parent = app.images[key].parent
        if key in used and parent in result:
            root = next(p for p in reversed(image_chain(app, key)) if p in result)
            result[key] = f"{root} changed -> rebuilds its dependents"
    return result


def _topo_order(app: App) -> list[str]:
    """Images parents-first, keeping devenv.yaml order among siblings."""
    return sorted(app.images, key=lambda k: len(image_chain(app, k)))


def _drop_superseded(
    app: App, specs: list[TenantSpec], draft: _Draft, rebuilds: dict[str, str],
) -> tuple[list[SyncAction], list[tuple[Path, str]]]:
    syncs: list[SyncAction] = []
    superseded: list[tuple[Path, str]] = []
    for (comp_name, rule), files in draft.syncs.items():
        image = app.components[comp_name].image or ""
        if image in rebuilds:
            why = f"sync to {comp_name} superseded: image {image} rebuilds ({rebuilds[image]})"
            superseded += [(p, why) for p in draft.sync_sources[(comp_name, rule)]]
            continue
        syncs.append(SyncAction(
            component=comp_name,
            rule=rule,
            files=files,
            tenants=_source_tenants(specs, comp_name),
            then_restart=rule.action == "sync+restart",
            then_exec=rule.exec if rule.action == "sync+exec" else None,
            inferred=draft.inferred.get((comp_name, rule), ""),
        ))
    return syncs, superseded


def _live_builds(app: App, syncs: list[SyncAction]) -> dict[str, str]:
    """The images of inferred live updates: built in the background, with no redeploy."""
    out: dict[str, str] = {}
    for action in syncs:
        image = app.components[action.component].image
        if action.inferred and image:
            out.setdefault(image, f"live update of {action.component} ({action.inferred}); "
                                  "the image follows so the next up is exact")
    return out


def _source_tenants(specs: list[TenantSpec], component: str) -> tuple[str, ...]:
    return tuple(s.name for s in specs if (wl := s.workloads.get(component)) is not None and wl.build_image)


def _redeploys(app: App, specs: list[TenantSpec], rebuilds: dict[str, str]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for comp in app.components.values():
        if comp.image in rebuilds:
            tenants = tuple(s.name for s in specs
                            if (wl := s.workloads.get(comp.name)) is not None and wl.build_image == comp.image)
            if tenants:
                out[comp.name] = tenants
    return out


def _is_under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
