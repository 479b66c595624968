"""``build/replay.py``: what a replayed no-op ``devenv build`` depends on. The signature moves with
any entry of a context (content, a new file, a removed one, an empty directory, a mode) and with the
Dockerfile outside it; the replay holds only for the same fingerprint, selection and engine state."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from devenv.build import replay


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    ctx = tmp_path / "ctx"
    (ctx / "src").mkdir(parents=True)
    (ctx / "src" / "a.py").write_text("a\n")
    df = tmp_path / "Dockerfile"
    df.write_text("FROM x\n")
    return ctx, df


@pytest.mark.parametrize("change", ["edit", "touch", "new", "remove", "mkdir", "chmod", "dockerfile", "dockerignore"])
def test_every_kind_of_change_moves_the_signature(tmp_path: Path, change: str) -> None:
    ctx, df = _tree(tmp_path)
    before = replay.signature([ctx], [df, Path(f"{df}.dockerignore")])
    f = ctx / "src" / "a.py"
    {"edit": lambda: f.write_text("b\n"), "touch": lambda: os.utime(f, ns=(1, 1)),
     "new": lambda: (ctx / "b.py").write_text(""), "remove": f.unlink, "mkdir": lambda: (ctx / "empty").mkdir(),
     "chmod": lambda: f.chmod(0o755), "dockerfile": lambda: df.write_text("FROM y\n"),
     "dockerignore": lambda: Path(f"{df}.dockerignore").write_text("*.log\n")}[change]()
    assert replay.signature([ctx], [df, Path(f"{df}.dockerignore")]) != before


def test_an_unchanged_tree_keeps_its_signature_and_a_huge_one_has_none(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    ctx, df = _tree(tmp_path)
    assert replay.signature([ctx], [df]) == replay.signature([ctx], [df]) is not None
    monkeypatch.setattr(replay, "MAX_ENTRIES", 2)
    assert replay.signature([ctx], [df]) is None


def _recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: dict[str, Any]) -> Path:
    ctx, df = _tree(tmp_path)
    root = tmp_path / "proj"
    root.mkdir()
    monkeypatch.setattr("devenv.dockerhttp.inspect_image", lambda ref: engine.get(ref))
    images = [{"image": "web", "tag": "devenv/app-web:1", "context": str(ctx), "dockerfile": str(df),
               "status": "cached"}]
    sig = replay.signature(*replay.inputs_of([type("I", (), {"context": ctx, "dockerfile": df})()]))
    assert sig is not None
    replay.record(root, "key", [["acme"], []], sig, images, {"debian:bookworm-slim": "sha256:d"}, ["w"])
    return root


def test_the_replay_holds_only_while_everything_it_depended_on_holds(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    engine: dict[str, Any] = {"devenv/app-web:1": {"Id": "sha256:w"}, "debian:bookworm-slim": {"Id": "sha256:d"}}
    root = _recorded(tmp_path, monkeypatch, engine)
    images, warnings = replay.replay(root, "key", [["acme"], []], need_warnings=True) or ([], [])
    assert [i["tag"] for i in images] == ["devenv/app-web:1"] and warnings == ["w"]
    assert replay.replay(root, "other key", [["acme"], []], True) is None  # an edited configuration
    assert replay.replay(root, "key", [["globex"], []], True) is None  # another selection
    engine["debian:bookworm-slim"] = {"Id": "sha256:new"}  # a re-imported base image
    assert replay.replay(root, "key", [["acme"], []], True) is None
    engine["debian:bookworm-slim"] = {"Id": "sha256:d"}
    del engine["devenv/app-web:1"]  # a removed tag
    assert replay.replay(root, "key", [["acme"], []], True) is None


def test_a_quiet_run_records_no_warnings_and_cannot_answer_a_loud_one(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    engine: dict[str, Any] = {"devenv/app-web:1": {"Id": "sha256:w"}, "debian:bookworm-slim": {"Id": "sha256:d"}}
    root = _recorded(tmp_path, monkeypatch, engine)
    entry = replay._read(root)
    assert entry is not None
    replay.record(root, "key", [["acme"], []], entry["signature"], entry["images"], entry["externals"], None)
    assert replay.replay(root, "key", [["acme"], []], need_warnings=False) is not None
    assert replay.replay(root, "key", [["acme"], []], need_warnings=True) is None


@pytest.mark.parametrize("edit", [{"images": [{"bogus": 1}]}, {"images": "x"}, {"externals": ["a"]},
                                  {"images": [{"tag": 1, "dockerfile": "D", "context": None}]}])
def test_a_hand_edited_record_is_a_miss_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       edit: dict[str, Any]) -> None:
    import json

    from devenv import layout

    engine: dict[str, Any] = {"devenv/app-web:1": {"Id": "sha256:w"}, "debian:bookworm-slim": {"Id": "sha256:d"}}
    root = _recorded(tmp_path, monkeypatch, engine)
    path = layout.cache_file(root, replay.NAME)
    path.write_text(json.dumps({**json.loads(path.read_text()), **edit}))
    assert replay.replay(root, "key", [["acme"], []], need_warnings=False) is None
