"""Content tags cover every build input, and only those; levels put parents first."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from devenv.build.dockerfile import external_images, parse
from devenv.build.graph import compute_tags, levels
from devenv.errors import DevenvError
from devenv.model.types import App, ImageDef


def _app(root: Path, name: str = "t", **over: ImageDef) -> App:
    for d, text in {"base": "FROM debian:bookworm-slim\nRUN echo base\n",
                    "web": "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY . /app\n",
                    "api": "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY . /app\n",
                    "db": "FROM debian:bookworm-slim\n"}.items():
        (root / d).mkdir(exist_ok=True)
        if not (root / d / "Dockerfile").exists():
            (root / d / "Dockerfile").write_text(text)
    images = {
        "base": ImageDef("base", root / "base", root / "base" / "Dockerfile"),
        "web": ImageDef("web", root / "web", root / "web" / "Dockerfile", parent="base"),
        "api": ImageDef("api", root / "api", root / "api" / "Dockerfile", parent="base"),
        "db": ImageDef("db", root / "db", root / "db" / "Dockerfile"),
    }
    images.update(over)
    return App(name, root, root / "devenv.yaml", images, {})


def tags(app: App, client: Any = False) -> dict[str, str]:
    return compute_tags(app, client=client)


def test_tag_shape_and_determinism(tmp_path: Path) -> None:
    app = _app(tmp_path, "shop")
    t = tags(app)
    assert set(t) == {"base", "web", "api", "db"}
    assert re.fullmatch(r"devenv/shop-web:[0-9a-f]{16}", t["web"])
    assert tags(app) == t


def test_context_change_retags_only_that_image(tmp_path: Path) -> None:
    app = _app(tmp_path)
    before = tags(app)
    (tmp_path / "web" / "new.txt").write_text("x")
    after = tags(app)
    assert [k for k in before if before[k] != after[k]] == ["web"]


def test_base_change_retags_base_and_children(tmp_path: Path) -> None:
    app = _app(tmp_path)
    before = tags(app)
    (tmp_path / "base" / "lib.py").write_text("x")
    after = tags(app)
    assert sorted(k for k in before if before[k] != after[k]) == ["api", "base", "web"]


def test_args_target_and_dockerfile_count(tmp_path: Path) -> None:
    app = _app(tmp_path)
    base = tags(app)["db"]
    db = app.images["db"]
    with_args = _app(tmp_path, db=dataclasses.replace(db, args={"A": "1"}))
    with_target = _app(tmp_path, db=dataclasses.replace(db, target="final"))
    assert len({base, tags(with_args)["db"], tags(with_target)["db"]}) == 3
    assert tags(_app(tmp_path, db=dataclasses.replace(db, args={"A": "1", "B": "2"})))["db"] == \
        tags(_app(tmp_path, db=dataclasses.replace(db, args={"B": "2", "A": "1"})))["db"]
    (tmp_path / "db" / "Dockerfile").write_text("FROM debian:bookworm-slim\nRUN true\n")
    assert tags(app)["db"] != base


class FakeImages:
    def __init__(self, ids: dict[str, str]) -> None:
        self.ids = ids
        self.asked: list[str] = []

    def get(self, ref: str) -> Any:
        self.asked.append(ref)
        if ref not in self.ids:
            raise LookupError(ref)
        return type("Img", (), {"id": self.ids[ref]})()


class FakeClient:
    def __init__(self, ids: dict[str, str]) -> None:
        self.images = FakeImages(ids)


def test_external_base_image_id_counts_and_parent_is_not_looked_up(tmp_path: Path) -> None:
    app = _app(tmp_path)
    c1 = FakeClient({"debian:bookworm-slim": "sha256:1"})
    c2 = FakeClient({"debian:bookworm-slim": "sha256:2"})
    t1, t2 = tags(app, c1), tags(app, c2)
    assert t1["db"] != t2["db"] and t1["web"] != t2["web"]
    assert set(c1.images.asked) == {"debian:bookworm-slim"}
    assert tags(app, FakeClient({})) == tags(app, False)


def test_levels_include_ancestors_once(tmp_path: Path) -> None:
    app = _app(tmp_path)
    assert levels(app, {"web", "api"}) == [["base"], ["api", "web"]]
    assert levels(app, {"db", "web"}) == [["base", "db"], ["web"]]
    assert levels(app, set()) == []


def test_cycle_is_named(tmp_path: Path) -> None:
    app = _app(tmp_path)
    a = dataclasses.replace(app.images["base"], parent="web")
    bad = _app(tmp_path, base=a)
    with pytest.raises(DevenvError, match=r"cycle: (base -> web -> base|web -> base -> web)"):
        levels(bad, {"web"})
    with pytest.raises(DevenvError, match="cycle"):
        compute_tags(bad, client=False)


def test_unknown_parent_is_reported(tmp_path: Path) -> None:
    app = _app(tmp_path, web=ImageDef("web", tmp_path / "web", tmp_path / "web" / "Dockerfile", parent="nope"))
    with pytest.raises(DevenvError, match="unknown image 'nope'"):
        levels(app, {"web"})


def test_only_requested_images_are_hashed(tmp_path: Path) -> None:
    app = _app(tmp_path)
    assert set(compute_tags(app, client=False, images=["web"])) == {"base", "web"}


def test_external_images_substitutes_args_and_skips_stages() -> None:
    text = ("ARG PY=3.12\nARG BASE\nFROM python:${PY}-slim AS build\nRUN x\nFROM ${BASE:-debian:bookworm}\n"
            "COPY --from=build /a /a\nCOPY --from=nginx:1.27 /b /b\nFROM scratch\nCOPY --from=0 /c /c\n")
    assert external_images(parse(text), {}) == ["debian:bookworm", "nginx:1.27", "python:3.12-slim"]
    assert external_images(parse(text), {"PY": "3.11", "BASE": "x:1"}) == ["nginx:1.27", "python:3.11-slim", "x:1"]


def test_dockerfile_parser_lines_and_continuations() -> None:
    text = "# c\nFROM a\n\nRUN one \\\n  # inner comment\n  two\nCOPY x y\n"
    ins = parse(text)
    assert [(i.line, i.keyword) for i in ins] == [(2, "FROM"), (4, "RUN"), (7, "COPY")]
    assert ins[1].args == "one two"
