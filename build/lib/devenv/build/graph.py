"""The image graph: content tags and build order.

An image's tag is a digest of every input of its build (decided in DESIGN.md): the Dockerfile's
bytes, the build args (sorted) and target, the digest of the files the context sends after
``.dockerignore``, the parent's tag (so a base change re-tags every image on it) and the local id of
each external ``FROM`` image (so a re-pulled ``debian:bookworm-slim`` re-tags what is built on it).
Same inputs, same tag: an image whose tag exists need not be built, nor its context sent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devenv.build import dockerfile as df
from devenv.build.digest import ContextDigest, DigestCache, context_digest
from devenv.errors import DevenvError
from devenv.model.types import App, ImageDef

TAG_VERSION = "1"  # bump when the digest's material changes, so old tags are not trusted
TAG_LEN = 16


@dataclass(frozen=True)
class ImagePlan:
    """Everything the builder needs to know about one image before building it."""

    image: str
    ref: str
    definition: ImageDef
    build_args: dict[str, str]  # as passed to the build, the parent's ref included
    parent: str | None
    context: ContextDigest
    external: dict[str, str | None] = field(default_factory=dict)  # FROM ref -> local image id


def repository(app: App, image: str) -> str:
    return f"devenv/{app.name}-{image}"


def _parents(app: App, image: str) -> list[str]:
    """``image`` and its ancestors, nearest first; raises on an unknown name or a cycle."""
    chain: list[str] = []
    cur: str | None = image
    while cur is not None:
        if cur not in app.images:
            via = f" (parent of '{chain[-1]}')" if chain else ""
            raise DevenvError(f"unknown image '{cur}'{via}", f"images in devenv.yaml: {', '.join(app.images)}")
        if cur in chain:
            cycle = " -> ".join([*chain[chain.index(cur):], cur])
            raise DevenvError(f"the images' parents form a cycle: {cycle}",
                              "remove one `parent:` of the cycle in devenv.yaml")
        chain.append(cur)
        cur = app.images[cur].parent
    return chain


def closure(app: App, wanted: Iterable[str]) -> set[str]:
    """``wanted`` with all their ancestors."""
    out: set[str] = set()
    for name in wanted:
        out.update(_parents(app, name))
    return out


def levels(app: App, wanted: set[str]) -> list[list[str]]:
    """Build order: level 0 has the images without a parent, level n those whose parent sits in
    level n-1. Ancestors are included; an image shared by many components appears once."""
    depth = {name: len(_parents(app, name)) - 1 for name in closure(app, wanted)}
    out: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for name in sorted(depth):
        out[depth[name]].append(name)
    return out


def check_graph(app: App) -> None:
    """Raise a ``DevenvError`` naming the first cycle or unknown parent of the whole graph."""
    for name in app.images:
        _parents(app, name)


def compute_tags(app: App, cache: DigestCache | None = None, client: Any = None,
                 images: Iterable[str] | None = None) -> dict[str, str]:
    """Image key -> ``devenv/<app>-<key>:<16 hex>`` for ``images`` and their ancestors (default:
    every image). ``client`` is a Docker client for the ids of external base images; ``None``
    connects to the local engine if one answers, ``False`` leaves the ids out."""
    return {k: p.ref for k, p in plan(app, images, cache, client).items()}


def plan(app: App, images: Iterable[str] | None = None, cache: DigestCache | None = None,
         client: Any = None) -> dict[str, ImagePlan]:
    """An ``ImagePlan`` per image of ``images`` and their ancestors, parents first."""
    own_cache = cache is None
    cache = cache or DigestCache(app.root)
    engine = _Ids(_engine(client))
    wanted = set(app.images) if images is None else set(images)
    out: dict[str, ImagePlan] = {}
    for level in levels(app, wanted):
        for name in level:
            out[name] = _plan_one(app, name, out, cache, engine)
    if own_cache:
        cache.save()
    return out


def _plan_one(app: App, name: str, done: dict[str, ImagePlan], cache: DigestCache, engine: _Ids) -> ImagePlan:
    img = app.images[name]
    parent_ref = done[img.parent].ref if img.parent else None
    args = dict(img.args)
    if parent_ref is not None:
        args[img.parent_arg] = parent_ref
    dockerfile_bytes = _read_dockerfile(name, img.dockerfile)
    ctx = context_digest(img.context, img.dockerfile, cache)
    instructions = df.parse(dockerfile_bytes.decode("utf-8", errors="replace"))
    external = {r: engine.image_id(r) for r in df.external_images(instructions, args) if r != parent_ref}
    material = {
        "v": TAG_VERSION,
        "dockerfile": hashlib.sha256(dockerfile_bytes).hexdigest(),
        "args": sorted(args.items()),
        "target": img.target,
        "context": ctx.digest,
        "parent": parent_ref,
        "external": sorted(external.items(), key=lambda kv: kv[0]),
    }
    digest = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:TAG_LEN]
    return ImagePlan(name, f"{repository(app, name)}:{digest}", img, args, img.parent, ctx, external)


def _read_dockerfile(name: str, path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise DevenvError(f"image '{name}': cannot read its Dockerfile {path}: {exc.strerror}",
                          "check `context:` and `dockerfile:` of the image in devenv.yaml") from exc




_HTTP = object()  # image ids asked over plain HTTP (``dockerhttp``): no SDK import for a no-op


def _engine(client: Any) -> Any:
    """The given client, None (``False``: no engine), or plain HTTP to the local engine."""
    if client is False:
        return None
    return client if client is not None else _HTTP


class _Ids:
    """Local image ids of external references, asked once per ``plan`` (base, postgres and redis
    all start FROM the same Debian image)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.known: dict[str, str | None] = {}

    def image_id(self, ref: str) -> str | None:
        if ref not in self.known:
            self.known[ref] = self._ask(ref)
        return self.known[ref]

    def _ask(self, ref: str) -> str | None:
        if self.engine is None:
            return None
        try:
            if self.engine is _HTTP:
                from devenv import dockerhttp

                info = dockerhttp.inspect_image(ref)
                return str(info["Id"]) if info else None
            return str(self.engine.images.get(ref).id)
        except Exception:  # not present locally (or the engine refused): the build will pull it
            return None
