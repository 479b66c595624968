"""Rebuild by appending layers: the classic builder's result for a Dockerfile whose changed inputs
only reach its tail, in a fraction of its time.

Most rebuilds in the inner loop change source files that one of the last ``COPY`` instructions
takes in, after the slow steps (``apt-get``, ``pip install``) that stay cached. The classic builder
still creates and commits a container for every instruction after the first miss (~300 ms each
here). This module does what that builder would do for such a *tail* without it:

* **tail**: the longest run of ``COPY`` (from the context) and metadata instructions (``CMD``,
  ``ENTRYPOINT``, ``ENV``, ``LABEL``, ``EXPOSE``, ``USER``, ``STOPSIGNAL``) that ends the final
  stage. Anything else (``RUN``, ``ADD``, ``WORKDIR``, ``COPY --from``, variables outside
  ``CMD``/``ENTRYPOINT``...) ends the tail; a Dockerfile without one always takes the classic path.
* **head**: the image after the last instruction before the tail. After every classic build the
  builder records the head's image id under a *head key*: a digest of the head's instructions, the
  build args and target, the parent tag and external base ids, and the files (path, type, mode,
  content) that any ``COPY``/``ADD`` outside the tail takes in. Same key, same head, exactly as the
  classic builder's cache would decide.
* **append**: when a plan's head key has a recorded head that still exists, each tail ``COPY``
  becomes one layer built here from the context files (the same list the digest hashed, so after
  ``.dockerignore``), with the classic builder's ownership and mode rules: files and directories
  keep their mode and belong to root (or ``--chown``); a new destination directory is 0755 and
  belongs to the ``--chown`` owner, as do new parents of a copied file, while new parents of a
  copied directory belong to root; existing directories keep what the head has (asked once per head
  through the engine's archive API and remembered). Metadata instructions edit the image config.
  The image goes in through the engine's image load API with only the new layers (the engine
  already has the head's), untagged; the builder tags it once loaded, like a classic build.

Whatever this module cannot reproduce exactly returns a reason and the builder takes the classic
path, so the worst case is today's speed. ``tests/integration/test_append.py`` builds the same
Dockerfiles both ways and compares every path's type, mode, owner, size, content and link target,
and the image configs. ``DEVENV_APPEND=0`` turns the path off.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import fnmatch
import hashlib
import io
import json
import os
import posixpath
import shlex
import stat
import tarfile
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devenv import layout
from devenv.build import dockerfile as df
from devenv.build.context import parent_dirs
from devenv.build.graph import ImagePlan
from devenv.fsutil import atomic_write_json

HEADS_FILE = layout.HEADS
HEADS_VERSION = 1
MAX_HEADS = 200
META = frozenset({"CMD", "ENTRYPOINT", "ENV", "LABEL", "EXPOSE", "USER", "STOPSIGNAL"})
_GLOB = set("*?[")


def enabled() -> bool:
    return os.environ.get("DEVENV_APPEND", "1").strip().lower() not in ("0", "no", "false", "off")


class Unsupported(Exception):
    """This build cannot be reproduced by appending; the message says why (for the timeline)."""


# -- the Dockerfile's tail ------------------------------------------------------------------------


@dataclass(frozen=True)
class Copy:
    sources: tuple[str, ...]
    dest: str
    uid: int
    gid: int
    line: int
    text: str


@dataclass(frozen=True)
class Tail:
    head: tuple[df.Instruction, ...]  # every instruction before the tail, all stages
    steps: tuple[df.Instruction, ...]
    cmd_set: bool  # the final stage set CMD before the tail (ENTRYPOINT then keeps it)

    @property
    def lines(self) -> str:
        return f"{self.steps[0].line}-{self.steps[-1].line}" if len(self.steps) > 1 else str(self.steps[0].line)


def split(instructions: list[df.Instruction], target: str | None) -> Tail | None:
    """The head and tail of the stage that is built (``target`` or the last); None when the stage
    ends with an instruction the append path does not take."""
    froms = [i for i, ins in enumerate(instructions) if ins.keyword == "FROM"]
    if not froms:
        return None
    stage_start, stage_end = froms[-1], len(instructions)
    if target:
        for n, i in enumerate(froms):
            ops = instructions[i].operands
            if len(ops) >= 3 and ops[1].lower() == "as" and ops[2].lower() == target.lower():
                stage_start = i
                stage_end = froms[n + 1] if n + 1 < len(froms) else len(instructions)
                break
        else:
            return None
    start = stage_end
    while start > stage_start + 1 and _tail_ok(instructions[start - 1]):
        start -= 1
    if start == stage_end:
        return None
    cmd_set = any(ins.keyword == "CMD" for ins in instructions[stage_start + 1:start])
    return Tail(tuple(instructions[:start]), tuple(instructions[start:stage_end]), cmd_set)


def _tail_ok(ins: df.Instruction) -> bool:
    if ins.keyword in ("CMD", "ENTRYPOINT"):
        return True  # not expanded by the builder: "$PORT" is the shell's business at run time
    if "$" in ins.args:
        return False
    if ins.keyword in META:
        return ins.keyword != "EXPOSE" or "-" not in ins.args
    if ins.keyword != "COPY" or "<<" in ins.args:
        return False
    flags = ins.flags
    if set(flags) - {"chown"}:
        return False
    return "chown" not in flags or _numeric_owner(flags["chown"]) is not None


def _numeric_owner(value: str) -> tuple[int, int] | None:
    user, _, group = value.partition(":")
    group = group or user
    if user.isdigit() and group.isdigit():
        return int(user), int(group)
    return None


def parse_copy(ins: df.Instruction) -> Copy:
    uid, gid = _numeric_owner(ins.flags.get("chown", "0:0")) or (0, 0)
    rest = ins.args
    while rest.startswith("--"):
        rest = rest.split(None, 1)[1] if len(rest.split(None, 1)) > 1 else ""
    words: list[str]
    if rest.startswith("["):
        try:
            loaded = json.loads(rest)
        except ValueError as exc:
            raise Unsupported(f"line {ins.line}: COPY's JSON form does not parse") from exc
        if not isinstance(loaded, list) or not all(isinstance(w, str) for w in loaded):
            raise Unsupported(f"line {ins.line}: COPY's JSON form is not a list of strings")
        words = list(loaded)
    else:
        words = rest.split()
    if len(words) < 2:
        raise Unsupported(f"line {ins.line}: COPY needs a source and a destination")
    return Copy(tuple(words[:-1]), words[-1], uid, gid, ins.line, f"COPY {ins.args}")


# -- the head key ---------------------------------------------------------------------------------


def _norm_source(src: str) -> str:
    s = posixpath.normpath("/" + src.strip()).lstrip("/")
    return "" if s == "." else s


def _source_matches(src: str, path: str) -> bool:
    """Whether the context path ``path`` is taken in by the source ``src`` (a file, a directory
    or a pattern whose components match with ``filepath.Match`` rules)."""
    s = _norm_source(src)
    if not s:
        return True
    if not (_GLOB & set(s)):
        return path == s or path.startswith(s + "/")
    pat, parts = s.split("/"), path.split("/")
    return len(parts) >= len(pat) and all(fnmatch.fnmatchcase(pp, p) for p, pp in zip(pat, parts, strict=False))


def _head_sources(head: tuple[df.Instruction, ...]) -> list[str] | None:
    """Context sources the head's COPY/ADD instructions take in; None when the head's result
    depends on something outside the context (``ADD <url>``)."""
    out: list[str] = []
    for ins in head:
        if ins.keyword not in ("COPY", "ADD") or "from" in ins.flags:
            continue
        try:
            c = parse_copy(ins)
        except Unsupported:
            return None
        if ins.keyword == "ADD" and any("://" in s for s in c.sources):
            return None
        out.extend(c.sources)
    return out


def head_key(p: ImagePlan, tail: Tail) -> str | None:
    """The digest that decides whether a recorded head can stand for this plan's head."""
    sources = _head_sources(tail.head)
    if sources is None:
        return None
    files = [[path, value] for path, value in zip(p.context.paths, p.context.values, strict=True)
             if any(_source_matches(s, path) for s in sources)]
    material = {
        "v": HEADS_VERSION,
        "head": [[ins.keyword, ins.args] for ins in tail.head],
        "args": sorted(p.build_args.items()),
        "target": p.definition.target,
        "external": sorted(p.external.items()),
        "files": files,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


# -- the recorded heads ---------------------------------------------------------------------------


class Heads:
    """``.devenv/cache/heads.json``: head key -> head image id, and per head id what the head's
    filesystem holds at the paths the tail writes to."""

    _lock = threading.Lock()

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / HEADS_FILE

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"v": HEADS_VERSION, "heads": {}, "stats": {}}
        if not isinstance(data, dict) or data.get("v") != HEADS_VERSION:
            return {"v": HEADS_VERSION, "heads": {}, "stats": {}}
        data.setdefault("heads", {})
        data.setdefault("stats", {})
        return data

    def get(self, key: str) -> str | None:
        with self._lock:
            value = self._read()["heads"].get(key)
        return value if isinstance(value, str) else None

    def put(self, key: str, head_id: str) -> None:
        with self._lock:
            data = self._read()
            heads = data["heads"]
            heads.pop(key, None)
            heads[key] = head_id
            while len(heads) > MAX_HEADS:
                dropped = heads.pop(next(iter(heads)))
                if dropped not in heads.values():
                    data["stats"].pop(dropped, None)
            atomic_write_json(self.path, data)

    def stats(self, head_id: str) -> dict[str, Any]:
        with self._lock:
            value = self._read()["stats"].get(head_id, {})
        return value if isinstance(value, dict) else {}

    def put_stats(self, head_id: str, stats: dict[str, Any]) -> None:
        with self._lock:
            data = self._read()
            data["stats"].setdefault(head_id, {}).update(stats)
            atomic_write_json(self.path, data)


# -- what the head's filesystem holds -------------------------------------------------------------


@dataclass
class Meta:
    """One path of the image's filesystem as far as a layer must know it."""

    kind: str  # "d", "f" or "l"
    mode: int
    uid: int
    gid: int
    mtime: int = 0

    def to_json(self) -> list[Any]:
        return [self.kind, self.mode, self.uid, self.gid, self.mtime]

    @classmethod
    def from_json(cls, v: Any) -> Meta | None:
        if not isinstance(v, list) or len(v) != 5:
            return None
        return cls(str(v[0]), int(v[1]), int(v[2]), int(v[3]), int(v[4]))


def stat_paths(client: Any, image_id: str, paths: list[str]) -> dict[str, Meta | None]:
    """What ``image_id`` holds at each absolute path (None: nothing), asked through a created,
    never started container's archive API: its first tar header carries the owner and mode."""
    api = client.api
    container = api.create_container(image_id, command=["true"], entrypoint=[], network_disabled=True,
                                     labels={"dev.devenv.role": "stat"}, name=f"devenv-stat-{uuid.uuid4().hex[:12]}")
    cid = container["Id"]
    out: dict[str, Meta | None] = {}
    try:
        for path in paths:
            out[path] = _stat_one(api, cid, path)
    finally:
        with contextlib.suppress(Exception):
            api.remove_container(cid, force=True)
    return out


def _stat_one(api: Any, cid: str, path: str) -> Meta | None:
    import docker.errors

    resp = api._get(api._url("/containers/{0}/archive", cid), params={"path": path}, stream=True)
    try:
        if resp.status_code == 404:
            return None
        api._raise_for_status(resp)
        header = resp.headers.get("X-Docker-Container-Path-Stat", "")
        info = json.loads(base64.b64decode(header)) if header else {}
        mode = int(info.get("mode", 0))
        if mode & (1 << 27):  # os.ModeSymlink: the builder would follow it in the image
            return Meta("l", 0, 0, 0)
        resp.raw.decode_content = True  # the engine gzips archives for clients that accept it
        with tarfile.open(fileobj=resp.raw, mode="r|") as tar:
            first = tar.next()
        if first is None:
            raise Unsupported(f"the engine sent an empty archive for {path}")
        kind = "d" if first.isdir() else ("l" if first.issym() else "f")
        return Meta(kind, first.mode & 0o7777, first.uid, first.gid, int(first.mtime))
    except docker.errors.NotFound:
        return None
    finally:
        resp.close()


# -- the layers -----------------------------------------------------------------------------------


@dataclass
class _Entry:
    name: str  # absolute path in the image
    meta: Meta
    source: str | None = None  # host path for files and symlinks


@dataclass
class _Fs:
    """The paths the tail has seen so far: the head's (as asked) and what earlier layers added."""

    known: dict[str, Meta | None]
    added: dict[str, Meta] = field(default_factory=dict)

    def get(self, path: str) -> Meta | None:
        if path in self.added:
            return self.added[path]
        if path not in self.known:
            raise Unsupported(f"{path} was not asked of the head")
        return self.known[path]


def _ancestors(path: str) -> list[str]:
    """``/a/b/c`` -> ``["/a", "/a/b"]``."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts))]


def _resolve_dest(dest: str, workdir: str) -> tuple[str, bool]:
    """The absolute destination and whether it names a directory by its spelling."""
    as_dir = dest.endswith("/") or dest in (".", "..") or dest.endswith("/.")
    if not dest.startswith("/"):
        dest = posixpath.join(workdir or "/", dest)
    norm = posixpath.normpath(dest)
    if norm == "/":
        as_dir = True
    return norm, as_dir


def dest_paths(copies: list[Copy], workdir: str) -> list[str]:
    """Every path whose state in the head decides the layers: each destination and its parents."""
    out: set[str] = set()
    for c in copies:
        d, _ = _resolve_dest(c.dest, workdir)
        if d != "/":
            out.add(d)
        out.update(_ancestors(d))
    return sorted(out)


class _Context:
    """The context's files (as the digest listed them) and directories."""

    def __init__(self, root: Path, paths: tuple[str, ...]) -> None:
        self.root = Path(root)
        self.files = set(paths)
        self.dirs = set(parent_dirs(list(paths)))
        self.paths = paths

    def matches(self, src: str) -> list[tuple[str, str]]:
        """(context path, "f" | "d") taken in by ``src``, sorted."""
        s = _norm_source(src)
        if not s:
            return [("", "d")]
        if ".." in s.split("/"):
            raise Unsupported(f"source {src} leaves the context")
        if not (_GLOB & set(s)):
            if s in self.files:
                if os.path.islink(self.root / s):
                    raise Unsupported(f"source {src} is a symlink (the builder follows it)")
                return [(s, "f")]
            if s in self.dirs:
                return [(s, "d")]
            raise Unsupported(f"source {src} is not in the context")
        depth = len(s.split("/"))
        found: set[tuple[str, str]] = set()
        for p in self.files:
            parts = p.split("/")
            if len(parts) >= depth and _source_matches(s, p):
                top = "/".join(parts[:depth])
                found.add((top, "f" if top == p else "d"))
        if not found:
            raise Unsupported(f"source {src} matches nothing in the context")
        for top, kind in found:
            if kind == "f" and os.path.islink(self.root / top):
                raise Unsupported(f"source {top} is a symlink (the builder follows it)")
        return sorted(found)

    def under(self, top: str) -> tuple[list[str], list[str]]:
        """Directories and files below the context directory ``top`` (relative to it), sorted."""
        prefix = top + "/" if top else ""
        files = sorted(p[len(prefix):] for p in self.paths if p.startswith(prefix))
        return parent_dirs(files), files


def plan_layer(c: Copy, ctx: _Context, fs: _Fs, workdir: str) -> list[_Entry]:
    """The entries of the layer one ``COPY`` adds, with the classic builder's owner and mode
    rules (see the module docstring)."""
    dest, as_dir = _resolve_dest(c.dest, workdir)
    matches = [m for s in c.sources for m in ctx.matches(s)]
    if len(matches) > 1 and not as_dir:
        raise Unsupported(f"line {c.line}: several sources need a destination ending in /")
    entries: dict[str, _Entry] = {}

    def new_dir(path: str, uid: int, gid: int) -> None:
        meta = Meta("d", 0o755, uid, gid)
        fs.added[path] = meta
        entries[path] = _Entry(path, meta)

    def ensure_dir(path: str, uid: int, gid: int) -> None:
        if path == "/" or path in entries:
            return
        cur = fs.get(path)
        if cur is None:
            new_dir(path, uid, gid)
        elif cur.kind != "d":
            raise Unsupported(f"line {c.line}: {path} exists in the image and is not a directory")
        else:
            entries[path] = _Entry(path, cur)

    def host(rel: str, name: str) -> None:
        st = os.lstat(ctx.root / rel) if rel else os.lstat(ctx.root)
        if stat.S_ISLNK(st.st_mode):
            kind = "l"
        elif stat.S_ISDIR(st.st_mode):
            kind = "d"
        elif stat.S_ISREG(st.st_mode):
            kind = "f"
            if st.st_nlink > 1:
                raise Unsupported(f"{rel} has hard links")
        else:
            raise Unsupported(f"{rel} is not a file, directory or symlink")
        meta = Meta(kind, stat.S_IMODE(st.st_mode), c.uid, c.gid, int(st.st_mtime))
        fs.added[name] = meta
        entries[name] = _Entry(name, meta, str(ctx.root / rel) if rel else str(ctx.root))

    for top, kind in matches:
        if kind == "d":
            for a in _ancestors(dest):
                ensure_dir(a, 0, 0)
            if dest != "/" and dest not in entries:
                cur = fs.get(dest)
                if cur is None:
                    new_dir(dest, c.uid, c.gid)
                elif cur.kind != "d":
                    raise Unsupported(f"line {c.line}: {dest} exists in the image and is not a directory")
                else:
                    entries[dest] = _Entry(dest, cur)
            dirs, files = ctx.under(top)
            for d in dirs:
                host(posixpath.join(top, d), posixpath.join(dest, d))
            for f in files:
                host(posixpath.join(top, f), posixpath.join(dest, f))
        else:
            target = dest
            if as_dir or dest != "/" and (cur := fs.get(dest)) is not None and cur.kind == "d":
                target = posixpath.join(dest, posixpath.basename(top))
            for a in _ancestors(target):
                ensure_dir(a, c.uid, c.gid)
            if (cur := fs.added.get(target)) is not None and cur.kind == "d":
                raise Unsupported(f"line {c.line}: {target} is a directory")
            host(top, target)
    return [entries[k] for k in sorted(entries)]


def write_layer(entries: list[_Entry], path: str) -> str:
    """Write the layer tar to ``path``; return its diff id (the sha256 of the file)."""
    with tarfile.open(path, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in entries:
            info = tarfile.TarInfo(e.name.lstrip("/"))
            info.mode, info.uid, info.gid, info.mtime = e.meta.mode, e.meta.uid, e.meta.gid, e.meta.mtime
            info.uname = info.gname = ""
            if e.meta.kind == "d":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif e.meta.kind == "l":
                info.type = tarfile.SYMTYPE
                info.linkname = os.readlink(e.source or "")
                tar.addfile(info)
            else:
                with open(e.source or "", "rb") as f:
                    info.size = os.fstat(f.fileno()).st_size
                    tar.addfile(info, f)
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


# -- the image config -----------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text, posix=True)
    except ValueError as exc:
        raise Unsupported(f"cannot split '{text}': {exc}") from exc


def _pairs(ins: df.Instruction) -> list[tuple[str, str]]:
    """``ENV``/``LABEL`` as name/value pairs (``k=v ...`` or the old ``k v`` form)."""
    words = _words(ins.args)
    if words and "=" not in words[0]:
        if ins.keyword == "LABEL":
            raise Unsupported(f"line {ins.line}: LABEL without '='")
        name, _, value = ins.args.strip().partition(" ")
        return [(name, value.strip())]
    out = []
    for w in words:
        name, eq, value = w.partition("=")
        if not eq or not name:
            raise Unsupported(f"line {ins.line}: '{w}' is not name=value")
        out.append((name, value))
    return out


def _command(ins: df.Instruction, config: dict[str, Any]) -> list[str]:
    text = ins.args.strip()
    if text.startswith("["):
        try:
            loaded = json.loads(text)
        except ValueError:
            loaded = None
        if isinstance(loaded, list) and all(isinstance(w, str) for w in loaded):
            return list(loaded)
    shell = config.get("Shell") or ["/bin/sh", "-c"]
    return [*shell, text]


def apply_meta(ins: df.Instruction, config: dict[str, Any], cmd_set: bool) -> bool:
    """Apply one metadata instruction to the image ``config`` as the classic builder does;
    return whether CMD is now set by this stage."""
    k = ins.keyword
    if k == "CMD":
        config["Cmd"] = _command(ins, config)
        return True
    if k == "ENTRYPOINT":
        config["Entrypoint"] = _command(ins, config)
        if not cmd_set:
            config["Cmd"] = None
    elif k == "ENV":
        env = list(config.get("Env") or [])
        for name, value in _pairs(ins):  # an existing name keeps its place, as the builder does
            names = [e.partition("=")[0] for e in env]
            if name in names:
                env[names.index(name)] = f"{name}={value}"
            else:
                env.append(f"{name}={value}")
        config["Env"] = env
    elif k == "LABEL":
        labels = dict(config.get("Labels") or {})
        labels.update(_pairs(ins))
        config["Labels"] = labels
    elif k == "EXPOSE":
        ports = dict(config.get("ExposedPorts") or {})
        for word in ins.args.split():
            port, _, proto = word.partition("/")
            if not port.isdigit():
                raise Unsupported(f"line {ins.line}: EXPOSE {word}")
            ports[f"{port}/{(proto or 'tcp').lower()}"] = {}
        config["ExposedPorts"] = ports
    elif k == "USER":
        config["User"] = ins.args.strip()
    elif k == "STOPSIGNAL":
        config["StopSignal"] = ins.args.strip()
    else:
        raise Unsupported(f"line {ins.line}: {k}")
    return cmd_set


def _history(api: Any, head_id: str, layers: int) -> list[dict[str, Any]] | None:
    """The head's history in the image config's form, or None when it cannot be told which entries
    made layers (the history is optional; the image is the same without it)."""
    try:
        entries = list(reversed(api.history(head_id)))
    except Exception:
        return None
    out = []
    for e in entries:
        created = dt.datetime.fromtimestamp(int(e.get("Created") or 0), tz=dt.UTC)
        item: dict[str, Any] = {"created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                "created_by": str(e.get("CreatedBy") or "")}
        if e.get("Comment"):
            item["comment"] = e["Comment"]
        if not int(e.get("Size") or 0):
            item["empty_layer"] = True
        out.append(item)
    return out if sum(1 for e in out if not e.get("empty_layer")) == layers else None


# -- the whole path -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Appended:
    image_id: str
    head_id: str
    layers: int
    detail: str


class Appender:
    """Records heads after classic builds and builds by appending when it can."""

    # engine address -> why it cannot take appended images; kept for the process, since the engine
    # makes a new Builder (and so a new Appender) for every rebuild
    _refused: dict[str, str] = {}

    def __init__(self, root: Path, client_fn: Any) -> None:
        self.root = Path(root)
        self.heads = Heads(root)
        self._client_fn = client_fn

    @property
    def client(self) -> Any:
        return self._client_fn()

    @property
    def broken(self) -> str:
        return self._refused.get(str(getattr(self.client.api, "base_url", "")), "")

    @broken.setter
    def broken(self, why: str) -> None:
        self._refused[str(getattr(self.client.api, "base_url", ""))] = why

    def record(self, p: ImagePlan, image_id: str) -> None:
        """After a classic build of ``p`` into ``image_id``: remember its head (best effort)."""
        if not enabled():
            return
        with contextlib.suppress(Exception):
            instructions = df.read(p.definition.dockerfile)
            tail = split(instructions, p.definition.target)
            if tail is None:
                return
            key = head_key(p, tail)
            if key is None:
                return
            api = self.client.api
            final = api.inspect_image(image_id)
            cur = final
            for _ in tail.steps:
                parent = cur.get("Parent")
                if not parent:
                    return  # not a classic build's chain
                cur = api.inspect_image(parent)
            layers, head_layers = final["RootFS"]["Layers"], cur["RootFS"]["Layers"]
            if layers[:len(head_layers)] != head_layers:
                return
            self.heads.put(key, str(cur["Id"]))

    def build(self, p: ImagePlan) -> Appended:
        """Build ``p`` by appending to its recorded head; raise ``Unsupported`` when it cannot."""
        if not enabled():
            raise Unsupported("DEVENV_APPEND=0")
        if self.broken:
            raise Unsupported(self.broken)
        instructions = df.read(p.definition.dockerfile)
        tail = split(instructions, p.definition.target)
        if tail is None:
            raise Unsupported("the Dockerfile does not end with COPY or metadata instructions")
        key = head_key(p, tail)
        if key is None:
            raise Unsupported("the Dockerfile's head ADDs a URL")
        head_id = self.heads.get(key)
        if head_id is None:
            raise Unsupported("no recorded head for these inputs")
        import docker.errors

        api = self.client.api
        try:
            head = api.inspect_image(head_id)
        except docker.errors.ImageNotFound as exc:
            raise Unsupported("the recorded head image is gone") from exc
        copies = [parse_copy(ins) for ins in tail.steps if ins.keyword == "COPY"]
        config = dict(head.get("Config") or {})
        workdir = str(config.get("WorkingDir") or "/")
        wanted = dest_paths(copies, workdir)
        stats = self.heads.stats(head_id)
        known = {k: Meta.from_json(v) for k, v in stats.items()}
        missing = [w for w in wanted if w not in known]
        if missing:
            asked = stat_paths(self.client, head_id, missing)
            known.update(asked)
            self.heads.put_stats(head_id, {k: (v.to_json() if v else None) for k, v in asked.items()})
        for path in wanted:
            m = known.get(path)
            if m is not None and m.kind == "l":
                raise Unsupported(f"{path} is a symlink in the image")
        return self._assemble(p, tail, head, config, known, workdir)

    def _assemble(self, p: ImagePlan, tail: Tail, head: dict[str, Any], config: dict[str, Any],
                  known: dict[str, Meta | None], workdir: str) -> Appended:
        ctx = _Context(Path(p.definition.context), p.context.paths)
        fs = _Fs(dict(known))
        diff_ids = list(head["RootFS"]["Layers"])
        history = _history(self.client.api, str(head["Id"]), len(diff_ids))
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        cmd_set = tail.cmd_set
        merged: dict[str, _Entry] = {}
        n_copies = 0
        for ins in tail.steps:
            if ins.keyword == "COPY":
                for e in plan_layer(parse_copy(ins), ctx, fs, workdir):
                    prev = merged.get(e.name)
                    if prev is not None and (prev.meta.kind == "d") != (e.meta.kind == "d"):
                        raise Unsupported(f"line {ins.line}: {e.name} changes between a directory and a file")
                    merged[e.name] = e
                n_copies += 1
            else:
                cmd_set = apply_meta(ins, config, cmd_set)
            if history is not None:
                item: dict[str, Any] = {"created": now, "created_by": f"{ins.keyword} {ins.args} # devenv: appended"}
                if ins.keyword != "COPY" or n_copies > 1:
                    item["empty_layer"] = True  # every COPY of the tail is in the first one's layer
                history.append(item)
        with tempfile.TemporaryDirectory(prefix="devenv-append-") as tmp:
            layer_files: list[str] = []
            if merged:
                # One layer for the whole tail: the engine unpacks each new layer in a process of
                # its own (~60-100 ms here), and the filesystem is the same as with one per COPY.
                layer_files.append("tail.tar")
                diff_ids.append(write_layer([merged[k] for k in sorted(merged)], os.path.join(tmp, "tail.tar")))
            config["Image"] = str(head["Id"])
            image_config: dict[str, Any] = {
                "architecture": head.get("Architecture") or "amd64", "os": head.get("Os") or "linux",
                "created": now, "config": config,
                "rootfs": {"type": "layers", "diff_ids": diff_ids},
            }
            if head.get("Variant"):
                image_config["variant"] = head["Variant"]
            if history is not None:
                image_config["history"] = history
            raw = json.dumps(image_config, separators=(",", ":")).encode()
            digest = hashlib.sha256(raw).hexdigest()
            missing_layers = len(head["RootFS"]["Layers"])
            manifest = [{"Config": f"{digest}.json", "RepoTags": None,
                         "Layers": [f"have/{i}.tar" for i in range(missing_layers)] + layer_files}]
            bundle = os.path.join(tmp, "image.tar")
            with tarfile.open(bundle, "w") as tar:
                for name in layer_files:
                    tar.add(os.path.join(tmp, name), arcname=name)
                _add_bytes(tar, f"{digest}.json", raw)
                _add_bytes(tar, "manifest.json", json.dumps(manifest).encode())
            image_id = self._load(bundle)
        if image_id != f"sha256:{digest}":
            self.broken = "the engine does not keep image ids as config digests"
            raise Unsupported(f"the engine stored {image_id}, not the image written (sha256:{digest})")
        detail = (f"appended {n_copies} COPY(s) as {len(layer_files)} layer for Dockerfile lines {tail.lines} "
                  f"to the cached head {str(head['Id'])[7:19]}")
        return Appended(image_id, str(head["Id"]), len(layer_files), detail)

    def _load(self, bundle: str) -> str:
        api = self.client.api
        try:
            with open(bundle, "rb") as f:
                # the SDK yields the engine's JSON messages (None from engines older than API 1.23)
                messages = [m for m in (api.load_image(f) or []) if isinstance(m, dict)]
        except Exception as exc:
            self.broken = f"the engine refused an appended image: {exc}"
            raise Unsupported(self.broken) from exc
        for m in messages:
            if "error" in m or "errorDetail" in m:
                self.broken = f"the engine refused an appended image: {m.get('error') or m.get('errorDetail')}"
                raise Unsupported(self.broken)
            text = str(m.get("stream") or "")
            if "Loaded image ID:" in text:
                return text.split("Loaded image ID:", 1)[1].strip()
        self.broken = f"the engine's load answered without an image id: {messages!r}"
        raise Unsupported(self.broken)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))
