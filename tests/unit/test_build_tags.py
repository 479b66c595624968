"""Content tags and context digests: stable values, the digest cache's on-disk contract, and the
plan the builder receives. Written against the survivors of bench/mutation.py (build group).

The pinned values below are the tag material of ``TAG_VERSION`` 1: a release that changes them
re-tags (and so rebuilds) every user's images, which must happen only with a bumped
``TAG_VERSION``. When that is intended, update the pins in the same commit."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from devenv import dockerhttp
from devenv.build.digest import DigestCache, context_digest
from devenv.build.graph import check_graph, compute_tags, plan
from devenv.errors import DevenvError
from devenv.model.types import App, ImageDef

OLD = time.time() - 3600
CACHE = Path(".devenv") / "cache" / "digests.json"


def _files(ctx: Path, files: dict[str, str], modes: dict[str, int] | None = None) -> Path:
    for rel, text in files.items():
        (ctx / rel).parent.mkdir(parents=True, exist_ok=True)
        (ctx / rel).write_text(text)
        (ctx / rel).chmod((modes or {}).get(rel, 0o644))
    return ctx


def _age(ctx: Path) -> None:
    for p in ctx.rglob("*"):
        os.utime(p, (OLD, OLD), follow_symlinks=False)


def _pinned_ctx(tmp_path: Path) -> Path:
    ctx = _files(tmp_path / "ctx", {"Dockerfile": "FROM scratch\nCOPY . /\n", "run.sh": "#!/bin/sh\n",
                                    "src/a.py": "print('a')\n"}, {"run.sh": 0o755})
    (ctx / "link").symlink_to("src/a.py")
    with open(os.path.join(os.fsencode(ctx), b"caf\xe9.txt"), "wb") as f:  # not UTF-8: a Latin-1 name
        f.write(b"x")
    os.chmod(os.path.join(os.fsencode(ctx), b"caf\xe9.txt"), 0o600)
    _age(ctx)
    return ctx


def test_context_digest_is_pinned(tmp_path: Path) -> None:
    ctx = _pinned_ctx(tmp_path)
    d = context_digest(ctx, ctx / "Dockerfile", DigestCache(tmp_path))
    assert d.paths == ("Dockerfile", "caf\udce9.txt", "link", "run.sh", "src/a.py")
    assert d.values[2] == "l\x00777\x00src/a.py"  # a symlink: its target, not its content
    assert d.values[3].startswith("f\x00755\x00") and d.values[1].startswith("f\x00600\x00")
    assert d.files == 5 and d.bytes == 22 + 1 + 10 + 11  # symlinks count no bytes
    assert d.digest == "96ffdb047fa5434e5262c80bb79d2cca4915afcf610c64f3ff48e15e1f28f3c8"


def test_a_warm_digest_equals_the_cold_one_and_reads_nothing(tmp_path: Path) -> None:
    ctx = _pinned_ctx(tmp_path)
    cache = DigestCache(tmp_path)
    cold = context_digest(ctx, ctx / "Dockerfile", cache)
    cache.save()
    warm_cache = DigestCache(tmp_path)
    assert context_digest(ctx, ctx / "Dockerfile", warm_cache) == cold
    assert warm_cache.reads == 0


def test_cache_keys_are_project_relative(tmp_path: Path) -> None:
    """Keys relative to the project root: moving the checkout keeps the cache meaningful."""
    _files(tmp_path, {"Dockerfile": "FROM scratch\n", "src/a.py": "a\n"})
    _age(tmp_path)
    cache = DigestCache(tmp_path)
    context_digest(tmp_path, tmp_path / "Dockerfile", cache)  # the context is the project root
    cache.save()
    data = json.loads((tmp_path / CACHE).read_text())
    assert data["version"] == 1 and sorted(data["files"]) == ["Dockerfile", "src/a.py"]
    sub = _files(tmp_path / "web", {"Dockerfile": "FROM scratch\n"})
    _age(sub)
    context_digest(sub, sub / "Dockerfile", cache)
    cache.save()
    assert "web/Dockerfile" in json.loads((tmp_path / CACHE).read_text())["files"]


def test_a_context_at_the_project_root_drops_deleted_files_from_the_cache(tmp_path: Path) -> None:
    _files(tmp_path, {"Dockerfile": "FROM scratch\n", "gone.txt": "g\n"})
    _age(tmp_path)
    for _ in range(2):
        cache = DigestCache(tmp_path)
        context_digest(tmp_path, tmp_path / "Dockerfile", cache)
        cache.save()
        if (tmp_path / "gone.txt").exists():
            assert "gone.txt" in json.loads((tmp_path / CACHE).read_text())["files"]
            (tmp_path / "gone.txt").unlink()
    assert sorted(json.loads((tmp_path / CACHE).read_text())["files"]) == ["Dockerfile"]


def _swap_content(path: Path, text: str, st: os.stat_result, same_inode: bool) -> None:
    if same_inode:
        path.write_text(text)
    else:
        tmp = path.with_name(path.name + ".new")
        tmp.write_text(text)
        tmp.replace(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


@pytest.mark.parametrize("change", ["size", "inode"])
def test_a_cached_entry_is_used_only_when_size_mtime_and_inode_all_match(tmp_path: Path, change: str) -> None:
    ctx = _files(tmp_path / "ctx", {"Dockerfile": "FROM scratch\n", "a.txt": "one\n"})
    _age(ctx)
    cache = DigestCache(tmp_path)
    before = context_digest(ctx, ctx / "Dockerfile", cache)
    st = (ctx / "a.txt").stat()
    # same mtime; a different size, or the same size in a new inode (an editor's rename-over)
    _swap_content(ctx / "a.txt", "three\n" if change == "size" else "two\n", st, same_inode=change == "size")
    after = context_digest(ctx, ctx / "Dockerfile", cache)
    assert after.digest != before.digest
    assert cache.reads == 3


def test_file_sha_remembers_by_stat_and_key(tmp_path: Path) -> None:
    f = _files(tmp_path, {"a.txt": "hello\n"}) / "a.txt"
    _age(tmp_path)
    cache = DigestCache(tmp_path)
    cache.scope(tmp_path)
    sha = cache.file_sha(str(f), f.stat())
    assert sha == "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
    assert cache.file_sha(str(f), f.stat()) == sha and cache.reads == 1
    cache.save()  # seen through file_sha alone: kept although its directory is scoped
    again = DigestCache(tmp_path)
    assert again.file_sha(str(f), f.stat()) == sha and again.reads == 0
    assert again.lookup_many(["a.txt"])[0] == [f.stat().st_size, f.stat().st_mtime_ns, f.stat().st_ino, sha]


def test_a_racy_rewrite_forgets_the_old_entry(tmp_path: Path) -> None:
    """A file cached, then rewritten (same size, same inode) inside the racy window, then given its
    old mtime back (``touch -d``, ``tar``, ``rsync -t``): its stat equals the cached one again, and
    only a forgotten entry makes devenv read the new bytes."""
    f = _files(tmp_path, {"a.txt": "one\n"}) / "a.txt"
    os.utime(f, (OLD, OLD))
    cache = DigestCache(tmp_path)
    cached = cache.file_sha(str(f), f.stat())
    f.write_text("two\n")  # now: racy
    fresh = cache.file_sha(str(f), f.stat())
    os.utime(f, (OLD, OLD))
    assert fresh != cached and cache.file_sha(str(f), f.stat()) == fresh


def test_a_file_written_a_second_ago_is_not_cached(tmp_path: Path) -> None:
    f = _files(tmp_path, {"a.txt": "hello\n"}) / "a.txt"
    now = time.time() - 1.0
    os.utime(f, (now, now))
    cache = DigestCache(tmp_path)
    cache.file_sha(str(f), f.stat())
    cache.file_sha(str(f), f.stat())
    assert cache.reads == 2


def test_an_unchanged_cache_is_not_rewritten(tmp_path: Path) -> None:
    ctx = _files(tmp_path / "ctx", {"Dockerfile": "FROM scratch\n", "a.txt": "a\n"})
    _age(ctx)
    cache = DigestCache(tmp_path)
    context_digest(ctx, ctx / "Dockerfile", cache)
    cache.save()
    first = (tmp_path / CACHE).stat().st_ino
    cache.save()
    warm = DigestCache(tmp_path)
    context_digest(ctx, ctx / "Dockerfile", warm)
    warm.save()
    assert (tmp_path / CACHE).stat().st_ino == first


@pytest.mark.parametrize("data", [{"version": 0, "files": "WRONG"}, {"version": 1}, ["not", "an", "object"]])
def test_a_cache_of_another_version_or_shape_is_ignored(tmp_path: Path, data: Any) -> None:
    ctx = _files(tmp_path / "ctx", {"Dockerfile": "FROM scratch\n", "a.txt": "a\n"})
    _age(ctx)
    expected = context_digest(ctx, ctx / "Dockerfile", DigestCache(tmp_path / "elsewhere")).digest
    st = (ctx / "a.txt").stat()
    if isinstance(data, dict) and data.get("files") == "WRONG":  # an old version's entry with a wrong sha
        data["files"] = {"ctx/a.txt": [st.st_size, st.st_mtime_ns, st.st_ino, "0" * 64]}
    (tmp_path / CACHE).parent.mkdir(parents=True)
    (tmp_path / CACHE).write_text(json.dumps(data))
    assert context_digest(ctx, ctx / "Dockerfile", DigestCache(tmp_path)).digest == expected


def test_stale_entries_of_a_context_outside_the_project_are_dropped(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    ctx = _files(tmp_path / "ctxX", {"Dockerfile": "FROM scratch\n", "gone.txt": "g\n"})
    _age(ctx)
    cache = DigestCache(root)
    context_digest(ctx, ctx / "Dockerfile", cache)
    cache.save()
    assert f"{ctx}/gone.txt" in (root / CACHE).read_text()
    (ctx / "gone.txt").unlink()
    cache = DigestCache(root)
    context_digest(ctx, ctx / "Dockerfile", cache)
    cache.save()
    assert "gone.txt" not in (root / CACHE).read_text()


# --- the image graph -----------------------------------------------------------------------------


def _app(root: Path, **over: ImageDef) -> App:
    _files(root, {"base/Dockerfile": "FROM debian:bookworm-slim\n",
                  "web/Dockerfile": "# caf\xe9\nARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY --from=zlib:1 /z /z\n"
                                    "COPY --from=alpine:3 /a /a\n",
                  "web/app.py": "print('web')\n"})
    (root / "web" / "Dockerfile").write_bytes((root / "web" / "Dockerfile").read_text().encode("latin-1"))
    _age(root)
    images = {"base": ImageDef("base", root / "base", root / "base" / "Dockerfile"),
              "web": ImageDef("web", root / "web", root / "web" / "Dockerfile", args={"B": "2", "A": "1"},
                              target="final", parent="base")}
    images.update(over)
    return App("shop", root, root / "devenv.yaml", images, {})


class Engine:
    """A Docker SDK client's ``images.get`` with fixed ids (ids sort opposite to their refs)."""

    def __init__(self) -> None:
        self.images = self
        self.ids = {"alpine:3": "sha256:b", "zlib:1": "sha256:a", "debian:bookworm-slim": "sha256:d"}

    def get(self, ref: str) -> Any:
        return type("Image", (), {"id": self.ids[ref]})()


def test_tags_are_pinned(tmp_path: Path) -> None:
    tags = compute_tags(_app(tmp_path), client=Engine())
    assert tags == {"base": "devenv/shop-base:47a3d865a20c94ba", "web": "devenv/shop-web:c299ca70b1cdbb30"}


def test_the_plan_carries_what_the_builder_needs(tmp_path: Path) -> None:
    app = _app(tmp_path)
    plans = plan(app, ["web"], client=Engine())
    assert list(plans) == ["base", "web"]
    base, web = plans["base"], plans["web"]
    assert (base.image, base.parent, base.build_args, base.definition) == ("base", None, {}, app.images["base"])
    assert (web.image, web.parent, web.definition) == ("web", "base", app.images["web"])
    assert web.build_args == {"A": "1", "B": "2", "BASE_IMAGE": base.ref}
    assert web.external == {"alpine:3": "sha256:b", "zlib:1": "sha256:a"}  # the parent is not asked
    assert web.context.paths == ("Dockerfile", "app.py")
    assert web.ref == compute_tags(app, client=Engine())["web"]


def test_plan_saves_its_own_cache_but_not_the_callers(tmp_path: Path) -> None:
    app = _app(tmp_path)
    mine = DigestCache(tmp_path)
    compute_tags(app, cache=mine, client=False)
    assert mine.reads > 0 and not (tmp_path / CACHE).exists()  # saving is the caller's business
    plan(app, client=False)
    assert (tmp_path / CACHE).is_file()


def test_the_local_engine_is_asked_over_http_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def inspect(ref: str) -> dict[str, Any] | None:
        asked.append(ref)
        return {"Id": "sha256:local"} if ref == "alpine:3" else None

    monkeypatch.setattr(dockerhttp, "inspect_image", inspect)
    web = plan(_app(tmp_path), ["web"])["web"]
    assert web.external == {"alpine:3": "sha256:local", "zlib:1": None}
    assert sorted(asked) == ["alpine:3", "debian:bookworm-slim", "zlib:1"]
    assert plan(_app(tmp_path), ["web"], client=False)["web"].external == {"alpine:3": None, "zlib:1": None}


def test_an_unreadable_dockerfile_names_the_image_and_the_fix(tmp_path: Path) -> None:
    app = _app(tmp_path)
    app.images["web"] = dataclasses.replace(app.images["web"], dockerfile=tmp_path / "web" / "Missing")
    with pytest.raises(DevenvError) as err:
        plan(app, client=False)
    assert err.value.message == (f"image 'web': cannot read its Dockerfile {tmp_path / 'web' / 'Missing'}: "
                              "No such file or directory")
    assert err.value.hint == "check `context:` and `dockerfile:` of the image in devenv.yaml"


def test_graph_errors_name_the_image_and_the_fix(tmp_path: Path) -> None:
    app = _app(tmp_path)
    check_graph(app)
    orphan = _app(tmp_path, web=dataclasses.replace(app.images["web"], parent="nope"))
    with pytest.raises(DevenvError) as err:
        check_graph(orphan)
    assert err.value.message == "unknown image 'nope' (parent of 'web')"
    assert err.value.hint == "images in devenv.yaml: base, web"
    with pytest.raises(DevenvError) as err:
        plan(app, ["nope"], client=False)
    assert err.value.message == "unknown image 'nope'"
    cyclic = _app(tmp_path, base=dataclasses.replace(app.images["base"], parent="web"))
    with pytest.raises(DevenvError) as err:
        check_graph(cyclic)
    assert err.value.message == "the images' parents form a cycle: base -> web -> base"
    assert err.value.hint == "remove one `parent:` of the cycle in devenv.yaml"

