"""The append path's pure parts: where the tail starts, what the head key covers, how one COPY
becomes layer entries, and how metadata instructions edit the config. The engine-side proof (both
ways give the same image) is in tests/integration/test_append.py."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path
from typing import Any

import pytest

from devenv.build import append as ap
from devenv.build import dockerfile as df
from devenv.build.digest import DigestCache, context_digest
from devenv.build.graph import ImagePlan
from devenv.model.types import ImageDef


def tail_of(text: str, target: str | None = None) -> ap.Tail | None:
    return ap.split(df.parse(text), target)


def test_tail_is_the_trailing_run_of_copy_and_metadata() -> None:
    t = tail_of("FROM x\nWORKDIR /a\nRUN make\nCOPY a ./a\nCOPY b ./b\nEXPOSE 80\nCMD [\"a\"]\n")
    assert t is not None
    assert [i.keyword for i in t.steps] == ["COPY", "COPY", "EXPOSE", "CMD"]
    assert [i.keyword for i in t.head] == ["FROM", "WORKDIR", "RUN"]
    assert t.lines == "4-7"


@pytest.mark.parametrize("last", [
    "RUN true", "ADD a /a", "COPY --from=build /a /a", "WORKDIR /x", "COPY $SRC /a", "ENV A=$B",
    "EXPOSE 8000-8010", "COPY --chown=app:app a /a", "COPY --chmod=755 a /a", "HEALTHCHECK CMD true",
    "VOLUME /data", "ARG X", "COPY <<EOF /a",
])
def test_what_ends_the_tail(last: str) -> None:
    assert tail_of(f"FROM x\nRUN true\n{last}\n") is None


def test_cmd_may_use_variables_and_numeric_chown_is_fine() -> None:
    t = tail_of("FROM x\nRUN y\nCOPY --chown=10:20 a /a\nCMD [\"sh\", \"-c\", \"exec app --port $PORT\"]\n")
    assert t is not None and len(t.steps) == 2


def test_target_picks_the_stage_and_the_first_instruction_after_from_may_be_tail() -> None:
    text = "FROM x AS build\nRUN make\nFROM y AS final\nCOPY app /app\nFROM final AS test\nRUN false\n"
    t = tail_of(text, "final")
    assert t is not None and [i.args for i in t.steps] == ["app /app"]
    assert tail_of(text) is None  # the last stage ends with RUN
    assert tail_of(text, "missing") is None


def test_cmd_set_tracks_the_final_stage_only() -> None:
    t = tail_of("FROM a\nCMD [\"x\"]\nFROM b\nRUN y\nENTRYPOINT [\"z\"]\n")
    assert t is not None and t.cmd_set is False
    t = tail_of("FROM b\nCMD [\"x\"]\nRUN y\nENTRYPOINT [\"z\"]\n")
    assert t is not None and t.cmd_set is True


def test_parse_copy_forms() -> None:
    c = ap.parse_copy(df.Instruction(3, "COPY", '--chown=7 ["a b", "c", "/d/"]'))
    assert (c.sources, c.dest, c.uid, c.gid) == (("a b", "c"), "/d/", 7, 7)
    c = ap.parse_copy(df.Instruction(3, "COPY", "x y /z"))
    assert (c.sources, c.dest, c.uid, c.gid) == (("x", "y"), "/z", 0, 0)


@pytest.mark.parametrize(("src", "path", "hit"), [
    (".", "a/b", True), ("./", "x", True), ("a", "a", True), ("a", "a/b/c", True), ("a", "ab", False),
    ("/a/b", "a/b/c", True), ("*.txt", "x.txt", True), ("*.txt", "d/x.txt", False), ("s*", "src/a", True),
    ("a/*/c", "a/b/c/d", True), ("a/?", "a/bb", False),
])
def test_source_matching(src: str, path: str, hit: bool) -> None:
    assert ap._source_matches(src, path) is hit


def plan_for(ctx: Path, dockerfile: str, args: dict[str, str] | None = None) -> ImagePlan:
    (ctx / "Dockerfile").write_text(dockerfile)
    digest = context_digest(ctx, ctx / "Dockerfile", DigestCache(ctx.parent))
    d = ImageDef("img", ctx, ctx / "Dockerfile")
    return ImagePlan("img", "devenv/t-img:0", d, dict(args or {}), None, digest, {"debian": "sha256:1"})


def test_head_key_covers_what_the_head_reads_and_nothing_of_the_tail(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    for rel, text in {"req.txt": "a\n", "src/app.py": "1\n", "other.md": "x\n"}.items():
        (ctx / rel).parent.mkdir(parents=True, exist_ok=True)
        (ctx / rel).write_text(text)
    text = "FROM debian\nCOPY req.txt /r/\nRUN install\nCOPY src /src\nCMD [\"app\"]\n"

    def key() -> str | None:
        p = plan_for(ctx, text)
        tail = ap.split(df.read(p.definition.dockerfile), None)
        assert tail is not None
        return ap.head_key(p, tail)

    k0 = key()
    (ctx / "src" / "app.py").write_text("2\n")
    (ctx / "other.md").write_text("y\n")
    assert key() == k0  # tail input and unused files: same head
    text = text.replace('CMD ["app"]', 'CMD ["app2"]')
    assert key() == k0  # a tail instruction changed: same head
    (ctx / "req.txt").write_text("b\n")
    k1 = key()
    assert k1 != k0
    os.chmod(ctx / "req.txt", 0o755)
    assert key() != k1  # the mode is an input too
    text = text.replace("RUN install", "RUN install --fast")
    assert key() not in (k0, k1)


def test_head_key_changes_with_args_and_refuses_remote_add(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "a").write_text("a")
    text = "FROM debian\nRUN x\nCOPY a /a\n"
    p1, p2 = plan_for(ctx, text, {"V": "1"}), plan_for(ctx, text, {"V": "2"})
    tail = ap.split(df.read(p1.definition.dockerfile), None)
    assert tail is not None and ap.head_key(p1, tail) != ap.head_key(p2, tail)
    p3 = plan_for(ctx, "FROM debian\nADD https://example.com/x /x\nCOPY a /a\n")
    tail = ap.split(df.read(p3.definition.dockerfile), None)
    assert tail is not None and ap.head_key(p3, tail) is None


def layer(tmp_path: Path, files: dict[str, str], copy: str, known: dict[str, ap.Meta | None],
          workdir: str = "/") -> dict[str, tuple[Any, ...]]:
    ctx = tmp_path / "ctx"
    for rel, text in files.items():
        (ctx / rel).parent.mkdir(parents=True, exist_ok=True)
        (ctx / rel).write_text(text)
    paths = tuple(sorted(str(p.relative_to(ctx)) for p in ctx.rglob("*") if p.is_file()))
    c = ap.parse_copy(df.Instruction(1, "COPY", copy))
    wanted = ap.dest_paths([c], workdir)
    fs = ap._Fs({w: known.get(w) for w in wanted})
    entries = ap.plan_layer(c, ap._Context(ctx, paths), fs, workdir)
    out = tmp_path / "layer.tar"
    diff = ap.write_layer(entries, str(out))
    assert diff.startswith("sha256:")
    with tarfile.open(out) as tar:
        return {m.name: (m.type, m.mode, m.uid, m.gid) for m in tar}


def test_directory_copy_new_dest_belongs_to_chown_and_new_parents_to_root(tmp_path: Path) -> None:
    got = layer(tmp_path, {"d/a": "a", "d/s/b": "b"}, "--chown=7:8 d /x/y/", {})
    assert got["x"] == (tarfile.DIRTYPE, 0o755, 0, 0)
    assert got["x/y"] == (tarfile.DIRTYPE, 0o755, 7, 8)
    assert got["x/y/a"][2:] == (7, 8) and got["x/y/s/b"][2:] == (7, 8)
    assert "x/y/d" not in got  # a directory source copies its contents


def test_file_copy_new_parents_belong_to_chown_and_existing_keep_theirs(tmp_path: Path) -> None:
    known = {"/opt": ap.Meta("d", 0o711, 5, 5, 123)}
    got = layer(tmp_path, {"f.txt": "f"}, "--chown=9 f.txt /opt/p/q/", known)
    assert got["opt"] == (tarfile.DIRTYPE, 0o711, 5, 5)
    assert got["opt/p"] == (tarfile.DIRTYPE, 0o755, 9, 9)
    assert got["opt/p/q/f.txt"][2:] == (9, 9)


def test_file_to_existing_directory_without_slash_goes_inside(tmp_path: Path) -> None:
    known = {"/srv": ap.Meta("d", 0o755, 0, 0), "/srv/web": ap.Meta("d", 0o750, 33, 33)}
    got = layer(tmp_path, {"f.txt": "f"}, "f.txt /srv/web", known)
    assert "srv/web/f.txt" in got and got["srv/web"][1:] == (0o750, 33, 33)
    got = layer(tmp_path, {"f.txt": "f"}, "f.txt renamed.txt", {"/srv": None}, workdir="/srv")
    assert "srv/renamed.txt" in got


def test_what_the_layer_cannot_reproduce_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ap.Unsupported, match="symlink"):
        ctx = tmp_path / "c1"
        ctx.mkdir()
        (ctx / "t").write_text("t")
        os.symlink("t", ctx / "l")
        c = ap.parse_copy(df.Instruction(1, "COPY", "l /x"))
        ap.plan_layer(c, ap._Context(ctx, ("l", "t")), ap._Fs({"/x": None}), "/")
    with pytest.raises(ap.Unsupported, match="not a directory"):
        layer(tmp_path, {"d/a": "a"}, "d /etc/passwd", {"/etc": ap.Meta("d", 0o755, 0, 0),
                                                         "/etc/passwd": ap.Meta("f", 0o644, 0, 0)})
    with pytest.raises(ap.Unsupported, match="ending in /"):
        layer(tmp_path, {"a": "a", "b": "b"}, "a b /dest", {})
    with pytest.raises(ap.Unsupported, match="not in the context"):
        layer(tmp_path, {"a": "a"}, "missing /dest/", {})


def meta(config: dict[str, Any], *lines: str, cmd_set: bool = False) -> dict[str, Any]:
    for i, line in enumerate(lines):
        keyword, _, args = line.partition(" ")
        cmd_set = ap.apply_meta(df.Instruction(i + 1, keyword, args), config, cmd_set)
    return config


def test_metadata_instructions_edit_the_config_as_the_builder_does() -> None:
    cfg = meta({"Env": ["PATH=/bin", "X=1"], "Cmd": ["bash"]},
               'ENV A=1 B="two words" PATH=/app:/bin', "ENV LEGACY some value",
               'LABEL a.b="c d" e=f', "EXPOSE 80 53/UDP", "USER 1000:1000", "STOPSIGNAL SIGINT",
               "CMD app --serve")
    assert cfg["Env"] == ["PATH=/app:/bin", "X=1", "A=1", "B=two words", "LEGACY=some value"]
    assert cfg["Labels"] == {"a.b": "c d", "e": "f"}
    assert cfg["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    assert (cfg["User"], cfg["StopSignal"]) == ("1000:1000", "SIGINT")
    assert cfg["Cmd"] == ["/bin/sh", "-c", "app --serve"]


def test_entrypoint_resets_an_inherited_cmd_but_not_one_set_in_the_stage() -> None:
    assert meta({"Cmd": ["bash"]}, 'ENTRYPOINT ["/run"]')["Cmd"] is None
    assert meta({"Cmd": ["bash"]}, 'ENTRYPOINT ["/run"]', cmd_set=True)["Cmd"] == ["bash"]
    assert meta({"Cmd": ["bash"]}, 'CMD ["x"]', 'ENTRYPOINT ["/run"]')["Cmd"] == ["x"]
    assert meta({"Shell": ["/bin/bash", "-lc"]}, "CMD run")["Cmd"] == ["/bin/bash", "-lc", "run"]


def test_heads_file_keeps_a_bounded_map(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ap, "MAX_HEADS", 3)
    heads = ap.Heads(tmp_path)
    for i in range(5):
        heads.put(f"k{i}", f"sha256:{i}")
        heads.put_stats(f"sha256:{i}", {"/a": None})
    assert heads.get("k0") is None and heads.get("k4") == "sha256:4"
    assert heads.stats("sha256:0") == {} and heads.stats("sha256:4") == {"/a": None}
    (tmp_path / ap.HEADS_FILE).write_text("not json")
    assert heads.get("k4") is None  # a broken file is an empty one, never an error
