"""Validation: every problem of every file at once, each with file, line, dotted key and a fix.

Two passes over the documents ``yamlpos`` loaded. The structural pass runs the published JSON
Schemas (``devenv/schema/*.json``, the same files editors use) and rewrites each jsonschema error
into a sentence a person can act on. The semantic pass checks what a schema cannot: references
between images and components, cycles, paths that must exist inside the project root, DNS names,
duplicate tenants and host-port collisions between tenants.

Production profiles are read tolerantly (unknown keys are ignored, and reported as warnings only
with ``strict``); the dev-owned ``devenv.yaml`` and overlays are strict. ``parse.py`` trusts a clean
result, so nothing here may raise: the data can be any type anywhere.
"""

from __future__ import annotations

import copy
import datetime
import difflib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from difflib import get_close_matches
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from devenv.errors import Problem
from devenv.model.yamlpos import Document, KeyPath, Positions

if TYPE_CHECKING:  # jsonschema is imported when a validation runs, not when devenv starts
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"
APP_FILE = "devenv.yaml"
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_WORDS = "a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)"
GLOB_CHARS = re.compile(r"[*?\[]")
SYNC_ACTIONS = ("sync", "sync+restart", "sync+exec")
DEFAULT_PORT_BASE = 18000
DEFAULT_PORTS_PER_TENANT = 20
MAX_PORT = 65535

# What each pattern of the schemas means, in words (keyed by the regex itself).
DNS_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
ENV_PATTERN = "^[A-Za-z_][A-Za-z0-9_]*$"
PATTERN_WORDS = {
    DNS_PATTERN: "a name of lower-case letters, digits and '-' (starting and ending with a letter or digit)",
    ENV_PATTERN: "an environment variable name (letters, digits and '_', not starting with a digit)",
    "^/": "an absolute path (starting with '/')",
    r"^[a-z0-9][a-z0-9._/:-]*(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(@sha256:[a-f0-9]{64})?$":
        "an image reference: a lower-case repository, then optionally :tag and @sha256:digest",
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$":
        "a Kubernetes label key: [prefix/]name, the name of letters, digits, '-', '_' and '.'",
    r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$":
        "a Kubernetes label value: letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
    r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$": "a secret name: lower-case letters, digits, '-' and '.'",
    r"^[-._A-Za-z0-9]+$": "a secret key: letters, digits, '-', '_' and '.'",
    r"^(\*\.)?([A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?\.)*[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$":
        "a host name such as shop.example.com (optionally starting with '*.')",
    r"^[A-Za-z0-9.*{}-]+$": "a host name pattern such as '{tenant}.localhost'",
}

Problems = Iterator[Problem]


# --- small, total helpers: every one accepts any value ------------------------------------------

def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _int(value: Any) -> int | None:
    """An integer as parse.py would read it (YAML may say ``18000.0``); ``None`` for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _show(value: Any) -> str:
    """A short, quoted rendering of a user's value for a message."""
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 50 else text[:47] + "..."


def did_you_mean(word: Any, choices: Iterable[str], what: str = "known") -> str:
    """A hint: the closest choice (difflib), then the list of choices."""
    options = sorted({c for c in choices if isinstance(c, str)})
    close = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    guess = f"did you mean '{close[0]}'? " if close else ""
    listed = ", ".join(options[:12]) + (", ..." if len(options) > 12 else "")
    return f"{guess}{what}: {listed}" if options else f"{guess}there are none yet".strip()


def dns_label(text: str) -> bool:
    return len(text) <= 63 and bool(DNS_LABEL.match(text))


def _as_dns_label(text: str) -> str:
    """A DNS-1123 label close to ``text``, to suggest as a fix."""
    label = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:63].strip("-")
    return label or "tenant"


# --- structural pass: the published schemas, with human messages -----------------------------------

@cache
def load_schema(kind: str) -> dict[str, Any]:
    """``kind`` is ``devenv``, ``profile`` or ``overlay``."""
    data: dict[str, Any] = json.loads((SCHEMA_DIR / f"{kind}.schema.json").read_text(encoding="utf-8"))
    return data


def _closed(schema: Any) -> Any:
    """A copy of ``schema`` where every object with ``properties`` rejects other keys: how the
    tolerant profile schema finds the unknown keys it then ignores or reports as warnings."""
    out = copy.deepcopy(schema)
    stack = [out]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return out


@cache
def _validator(kind: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    schema = load_schema(kind)
    return Draft202012Validator(_closed(schema) if kind == "profile" else schema)


def structural(doc: Document, kind: str, tolerant: bool = False, strict: bool = False) -> list[Problem]:
    """Schema problems of one document; unknown keys are skipped (``tolerant``) or warnings
    (``tolerant`` and ``strict``)."""
    out: list[Problem] = []
    for err in _validator(kind).iter_errors(doc.data):
        out += _explain(err, doc.positions, tolerant, strict)
    return out


def _explain(err: ValidationError, pos: Positions, tolerant: bool, strict: bool) -> list[Problem]:
    path: KeyPath = tuple(err.absolute_path)
    if "propertyNames" in err.schema_path:
        return [_bad_name(err, pos, path)]
    if err.validator == "additionalProperties":
        return list(_unknown_keys(err, pos, path, tolerant, strict))
    if err.validator == "required":
        return [pos.problem(path + (k,), f"missing required key '{k}'", _describe_hint(err, k))
                for k in err.validator_value if isinstance(err.instance, dict) and k not in err.instance]
    if err.validator == "oneOf" and (inner := _matching_branch(err)):
        # not tolerant inside: the value as a whole is refused, so an unknown key there is an error
        return [p for e in inner for p in _explain(e, pos, False, strict)]
    explain = _EXPLAIN.get(str(err.validator))
    message, hint = explain(err) if explain else (_short(err), "")
    return [pos.problem(path, message, hint or _schema_hint(err.schema))]


def _matching_branch(err: ValidationError) -> list[ValidationError]:
    """The errors of the one ``oneOf`` branch whose type the value has (the mapping form, for a
    mapping): they say what is wrong inside it, where "not valid under any of the given schemas"
    does not. Empty when no branch, or more than one, takes the value's type."""
    branches: dict[object, list[ValidationError]] = {}
    for sub in err.context or ():
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    typed = [errs for errs in branches.values() if not any(e.validator == "type" and not e.relative_path for e in errs)]
    return typed[0] if len(typed) == 1 else []


def _short(err: ValidationError) -> str:
    """jsonschema's message, kept under about 120 characters by cutting the value it quotes, not
    the end of the sentence that says what is wrong with it."""
    text, shown = str(err.message), repr(err.instance)
    if len(text) > 120 and len(shown) > 40 and shown in text:
        text = text.replace(shown, shown[:37] + "...", 1)
    return text if len(text) <= 160 else text[:157] + "..."


def _schema_hint(schema: Any) -> str:
    desc = _map(schema).get("description")
    return f"expected: {desc}" if isinstance(desc, str) else "see docs/config.md for this field"


def _describe_hint(err: ValidationError, key: str) -> str:
    prop = _map(_map(err.schema).get("properties")).get(key)
    desc = _map(prop).get("description")
    return f"add '{key}:' here ({desc})" if isinstance(desc, str) else f"add '{key}:' here"


def _bad_name(err: ValidationError, pos: Positions, parent: KeyPath) -> Problem:
    """A mapping key (a component, image or variable name) that breaks ``propertyNames``."""
    name = err.instance if isinstance(err.instance, str) else str(err.instance)
    if err.validator == "pattern":
        words = PATTERN_WORDS.get(str(err.validator_value), "a name of the documented form")
    else:
        words = f"a name of at most {err.validator_value} characters"
    fix = _suggest_name(str(err.validator_value), name)
    return pos.problem(parent + (name,), f"'{name}' is not a valid name: expected {words}", f"rename it, {fix}")


def _suggest_name(pattern: str, name: str) -> str:
    if pattern == DNS_PATTERN:
        return f"e.g. '{_as_dns_label(name)}'"
    if pattern == ENV_PATTERN:
        return f"e.g. '{re.sub(r'^(?=[0-9])', '_', re.sub(r'[^A-Za-z0-9_]', '_', name))}'"
    return "see docs/config.md"


def _unknown_keys(err: ValidationError, pos: Positions, path: KeyPath, tolerant: bool, strict: bool) -> Problems:
    schema = _map(err.schema)
    known = list(_map(schema.get("properties")))
    patterns = list(_map(schema.get("patternProperties")))
    for key in _map(err.instance):
        if key in known or any(re.search(p, key) for p in patterns):
            continue
        hint = did_you_mean(key, known, "known keys")
        if not tolerant:
            yield pos.problem(path + (key,), f"unknown key '{key}'", hint)
        elif strict:
            yield pos.problem(path + (key,), f"unknown key '{key}' (ignored: production may know it)",
                              hint, severity="warning")


TYPE_WORDS = {
    "object": "a mapping (key: value)",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}


def _type_words(types: Any) -> str:
    names = [types] if isinstance(types, str) else [t for t in _list(types) if isinstance(t, str)]
    if set(names) == {"string", "number", "boolean", "null"}:
        return "a plain value (a string, a number or true/false)"
    return " or ".join(TYPE_WORDS.get(t, t) for t in names)


def describe(value: Any) -> str:
    """What the user wrote, in words: ``a list``, ``the string 'abc'``..."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {_show(value)}"
    if isinstance(value, int | float):
        return f"the number {_show(value)}"
    if isinstance(value, datetime.date):
        return f"the date {value.isoformat()}"
    return f"{_show(value)} (a {type(value).__name__}; quote it to make it a string)"


def _explain_type(err: ValidationError) -> tuple[str, str]:
    expected = _type_words(err.validator_value)
    if isinstance(err.instance, dict | list) and "string" in str(err.validator_value):
        hint = "write the value on one line as a string (quote it), not as a nested list or mapping"
        return f"expected {expected}, got {describe(err.instance)}", hint
    if isinstance(err.instance, datetime.date) and "string" in str(err.validator_value):
        return f"expected {expected}, got {describe(err.instance)}", f"quote it to keep it text: '{err.instance.isoformat()}'"
    return f"expected {expected}, got {describe(err.instance)}", ""


def _explain_enum(err: ValidationError) -> tuple[str, str]:
    options = [str(o) for o in _list(err.validator_value)]
    return (f"{_show(err.instance)} is not one of: {', '.join(options)}",
            did_you_mean(err.instance, options, "choose one of"))


def _explain_bound(err: ValidationError) -> tuple[str, str]:
    words = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than",
             "exclusiveMaximum": "less than"}[str(err.validator)]
    return f"{_show(err.instance)} is out of range: expected {words} {err.validator_value}", ""


def _explain_pattern(err: ValidationError) -> tuple[str, str]:
    words = PATTERN_WORDS.get(str(err.validator_value), "a value of the documented form")
    value = str(err.instance)
    if "/" in value and err.validator_value == DNS_PATTERN:
        return f"{_show(value)} looks like a host path; expected {words}", ""
    return f"{_show(value)} is not {words}", ""


def _explain_length(err: ValidationError) -> tuple[str, str]:
    if err.validator == "minLength":
        return "must not be empty", ""
    return f"{_show(err.instance)} is longer than {err.validator_value} characters", "shorten it"


def _explain_unique(err: ValidationError) -> tuple[str, str]:
    items = [json.dumps(x, default=str) for x in _list(err.instance)]
    dupes = sorted({x for x in items if items.count(x) > 1})
    return f"the list names {', '.join(dupes)} more than once", "remove the repeated entries"


def _explain_any_of(err: ValidationError) -> tuple[str, str]:
    """A value that may take one of several shapes: say which shapes, and what was written."""
    desc = _map(err.schema).get("description")
    expected = desc if isinstance(desc, str) else "one of the documented forms"
    return f"expected {expected}, got {describe(err.instance)}", ""


def _explain_one_of(err: ValidationError) -> tuple[str, str]:
    """A value of none of the forms' types (a number where a string or a mapping goes): name the
    forms by their types; the field's description is the hint."""
    forms = [f.get("type") for f in err.validator_value if isinstance(f, dict)]
    if not all(isinstance(f, str) for f in forms):
        return _explain_any_of(err)
    return f"expected {_type_words(forms)}, got {describe(err.instance)}", ""


_EXPLAIN: dict[str, Callable[[ValidationError], tuple[str, str]]] = {
    "anyOf": _explain_any_of,
    "oneOf": _explain_one_of,
    "type": _explain_type,
    "enum": _explain_enum,
    "minimum": _explain_bound,
    "maximum": _explain_bound,
    "exclusiveMinimum": _explain_bound,
    "exclusiveMaximum": _explain_bound,
    "pattern": _explain_pattern,
    "minLength": _explain_length,
    "maxLength": _explain_length,
    "uniqueItems": _explain_unique,
}


# --- paths ------------------------------------------------------------------------------------------

def resolve_inside(root: Path, rel: str) -> tuple[Path | None, str]:
    """``rel`` resolved against ``root`` with symlinks followed: ``(path, "")`` inside the root,
    ``(None, why)`` outside it or when it cannot be resolved (a loop, a NUL byte)."""
    try:
        path = (root / rel).resolve()
    except (OSError, RuntimeError, ValueError) as exc:
        return None, f"cannot be resolved ({exc})"
    if path != root and not path.is_relative_to(root):
        return None, f"resolves to {path}, outside the project root {root}"
    return path, ""


def _glob_prefix(pattern: str) -> str:
    """The directory part of a watch glob before its first wildcard."""
    match = GLOB_CHARS.search(pattern)
    return pattern if match is None else pattern[: match.start()].rpartition("/")[0] or "."


# --- devenv.yaml ------------------------------------------------------------------------------------

def app_components(data: Any) -> dict[str, dict[str, Any]]:
    """Components then services, by name, as parse.py orders them (bad entries become ``{}``)."""
    out: dict[str, dict[str, Any]] = {}
    for section in ("components", "services"):
        for name, comp in _map(_map(data).get(section)).items():
            out.setdefault(name, _map(comp))
    return out


def _component_paths(data: Any) -> dict[str, KeyPath]:
    out: dict[str, KeyPath] = {}
    for section in ("components", "services"):
        for name in _map(_map(data).get(section)):
            out.setdefault(name, (section, name))
    return out


def check_app(doc: Document, root: Path, tenants: set[str]) -> Problems:
    pos, data = doc.positions, _map(doc.data)
    images = _map(data.get("images"))
    yield from check_images(images, root, pos)
    yield from _check_sections(data, pos)
    comps, where = app_components(data), _component_paths(data)
    for name, comp in comps.items():
        yield from check_component(where[name], comp, images, comps, root, pos)
    graph = {n: [d for d in _list(c.get("depends_on")) if isinstance(d, str) and d in comps and d != n]
             for n, c in comps.items()}
    for cycle in find_cycles(graph):
        yield pos.problem(where[cycle[0]] + ("depends_on",), "depends_on cycle: " + " -> ".join(cycle),
                          "remove one of these dependencies; nothing could start first")
    for i, t in enumerate(_list(data.get("default_tenants"))):
        if isinstance(t, str) and t not in tenants:
            # A close match is a typo (an error); none may be a profile still to import (a warning:
            # `devenv import --tenant t` must work on a fresh checkout that lists t as a default).
            typo = bool(get_close_matches(t, list(tenants), n=1))
            yield pos.problem(("default_tenants", i), f"unknown tenant '{t}' (no profiles/{t}.yaml)",
                              did_you_mean(t, tenants, "tenants") if typo
                              else f"add profiles/{t}.yaml (e.g. `devenv import --tenant {t}`) or remove it here",
                              severity="error" if typo else "warning")


def _check_sections(data: dict[str, Any], pos: Positions) -> Problems:
    services = _map(data.get("services"))
    for name in _map(data.get("components")):
        if name in services:
            yield pos.problem(("services", name), f"'{name}' is both a component and a service",
                              "rename one of them: names are shared by components and services")


def check_images(images: dict[str, Any], root: Path, pos: Positions) -> Problems:
    for name, img in images.items():
        yield from _check_parent(name, _map(img), images, pos)
        yield from check_image_files(name, _map(img), root, pos)
    graph = {n: [p] for n, i in images.items() if isinstance(p := _map(i).get("parent"), str) and p in images and p != n}
    for cycle in find_cycles(graph):
        yield pos.problem(("images", cycle[0], "parent"), "image parent cycle: " + " -> ".join(cycle),
                          "one image of the chain must build from a plain FROM without a parent")


def _check_parent(name: str, img: dict[str, Any], images: dict[str, Any], pos: Positions) -> Problems:
    parent = img.get("parent")
    if not isinstance(parent, str):
        return
    if parent == name:
        yield pos.problem(("images", name, "parent"), f"image '{name}' names itself as its parent",
                          "name another image of `images`, or remove `parent`")
    elif parent not in images:
        yield pos.problem(("images", name, "parent"), f"unknown parent image '{parent}'",
                          did_you_mean(parent, images, "images"))


def check_image_files(name: str, img: dict[str, Any], root: Path, pos: Positions) -> Problems:
    """The context must be a directory inside the root, holding (or reaching) its Dockerfile."""
    ctx_rel = img.get("context")
    if not isinstance(ctx_rel, str) or not ctx_rel:
        return
    key = ("images", name, "context")
    context, why = resolve_inside(root, ctx_rel)
    if context is None:
        yield pos.problem(key, f"build context '{ctx_rel}' {why}",
                          "keep build contexts inside the project (a context sends its files to the engine)")
        return
    if not context.is_dir():
        what = "is not a directory" if context.exists() else "does not exist"
        yield pos.problem(key, f"build context '{ctx_rel}' {what}", "create the directory or fix the path")
        return
    yield from _check_dockerfile(name, img, context, root, pos)


def _rel_or_abs(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _check_dockerfile(name: str, img: dict[str, Any], context: Path, root: Path, pos: Positions) -> Problems:
    rel = img.get("dockerfile", "Dockerfile")
    if not isinstance(rel, str) or not rel:
        return
    key = ("images", name, "dockerfile" if "dockerfile" in img else "context")
    path, why = resolve_inside(root, str(context / rel))
    if path is None:
        yield pos.problem(key, f"Dockerfile '{rel}' {why}", "keep the Dockerfile inside the project")
    elif not path.is_file():
        yield pos.problem(key, f"no Dockerfile at {path.relative_to(root)}{_what_is_there(path)}",
                          "create it, or set `dockerfile:` to its path relative to the context")
    else:
        yield from _check_dockerfile_text(name, img, path, pos, root)


MAX_DOCKERFILE = 1024 * 1024


def _what_is_there(path: Path) -> str:
    """``: it is a FIFO (named pipe)`` and the like, for something that is not a regular file."""
    import os

    from devenv.fsutil import kind_of

    try:
        return f": it is {kind_of(os.stat(path).st_mode)}, not a regular file"
    except OSError:
        return ""


def _read_dockerfile(path: Path, shown: str) -> tuple[str, Problem | None]:
    """Bounded and non-blocking: a FIFO or device named as a Dockerfile is refused, not read."""
    from devenv.errors import DevenvError
    from devenv.fsutil import read_bytes

    try:
        raw = read_bytes(path, MAX_DOCKERFILE, shown)
    except DevenvError as exc:
        return "", Problem(shown, None, "", exc.message, exc.hint)
    if len(raw) > MAX_DOCKERFILE:
        return "", Problem(shown, None, "", f"the Dockerfile is larger than {MAX_DOCKERFILE // 1024} KiB",
                           "check `dockerfile:` in devenv.yaml points at a Dockerfile")
    return raw.decode("utf-8", errors="replace"), None


def _dockerfile_syntax(text: str, shown: str) -> Problems:
    from devenv.model.dockerfile_syntax import check

    for issue in check(text):
        yield Problem(shown, issue.line, issue.rule, issue.message, issue.fix, issue.severity)


def _check_dockerfile_text(name: str, img: dict[str, Any], path: Path, pos: Positions, root: Path) -> Problems:
    """BuildKit's grammar, then: a parent that the Dockerfile never declares as an ARG is silently
    not used."""
    shown = _rel_or_abs(path, root)
    text, unreadable = _read_dockerfile(path, shown)
    if unreadable is not None:
        yield unreadable
        return
    yield from _dockerfile_syntax(text, shown)
    arg = img.get("parent_arg", "BASE_IMAGE")
    # the keyword in any case, the name as written: build-arg names are case-sensitive
    declared = isinstance(arg, str) and re.search(rf"^[ \t]*(?i:ARG)[ \t]+(?:\S+[ \t]+)*{re.escape(arg)}(?:=|\s|$)", text,
                                                  re.MULTILINE)
    if isinstance(img.get("parent"), str) and text and not declared:
        yield pos.problem(("images", name, "parent"), f"the Dockerfile never declares `ARG {arg}`, so the parent image is not used",
                          f"add `ARG {arg}` and `FROM ${{{arg}}}` to {path.name}", severity="warning")
    target = img.get("target")
    if isinstance(target, str) and target and text and not re.search(rf"^\s*FROM\s.*\sAS\s+{re.escape(target)}\s*$", text,
                                                           re.IGNORECASE | re.MULTILINE):
        yield pos.problem(("images", name, "target"), f"the Dockerfile has no stage named '{target}'",
                          f"add `FROM ... AS {target}` to {path.name} or fix `target`", severity="warning")


def find_cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Every elementary cycle reachable by DFS, each once, as ``[a, b, a]`` starting at its
    smallest name (so the report is stable)."""
    seen: set[tuple[str, ...]] = set()
    out: list[list[str]] = []
    done: set[str] = set()

    def visit(node: str, trail: list[str]) -> None:
        if node in trail:
            cycle = trail[trail.index(node):]
            start = cycle.index(min(cycle))
            norm = tuple(cycle[start:] + cycle[:start])
            if norm not in seen:
                seen.add(norm)
                out.append([*norm, norm[0]])
            return
        if node in done:
            return
        for nxt in graph.get(node, []):
            visit(nxt, [*trail, node])
        done.add(node)

    for node in sorted(graph):
        visit(node, [])
    return out


def check_component(key: KeyPath, comp: dict[str, Any], images: dict[str, Any], comps: dict[str, Any],
                    root: Path, pos: Positions) -> Problems:
    yield from _check_source(key, comp, images, pos)
    yield from _check_ports(key, comp, pos)
    yield from _check_health(key, comp, pos)
    yield from _check_depends(key, comp, comps, pos)
    yield from _check_volumes(key, comp, pos)
    for i, rule in enumerate(_list(comp.get("watch"))):
        yield from check_watch(key + ("watch", i), _map(rule), root, pos)
    if _list(comp.get("watch")) and not isinstance(comp.get("image"), str):
        yield pos.problem(key + ("watch",), "watch rules need a component built from source (`image:`)",
                          "set `image:` to an image of `images`, or remove `watch`")


def _check_source(key: KeyPath, comp: dict[str, Any], images: dict[str, Any], pos: Positions) -> Problems:
    image, ref = comp.get("image"), comp.get("ref")
    if image is not None and ref is not None:
        yield pos.problem(key + ("ref",), "sets both `image` and `ref`",
                          "keep `image` to build from source, or `ref` to pull a published image")
    elif image is None and ref is None:
        hint = f"add `image: {key[-1]}`" if key[-1] in images else "add `image:` naming one of `images`, or `ref: repo:tag`"
        yield pos.problem(key, "needs `image` (an image of `images`) or `ref` (an image reference)", hint)
    if isinstance(image, str) and image not in images:
        yield pos.problem(key + ("image",), f"unknown image '{image}'", did_you_mean(image, images, "images"))


def _check_ports(key: KeyPath, comp: dict[str, Any], pos: Positions) -> Problems:
    names: dict[Any, int] = {}
    containers: dict[Any, int] = {}
    for i, port in enumerate(_list(comp.get("ports"))):
        port = _map(port)
        name, number = port.get("name"), _int(port.get("container"))
        if isinstance(name, str) and name in names:
            yield pos.problem(key + ("ports", i, "name"), f"port name '{name}' is used twice (also ports[{names[name]}])",
                              "give each port of a component its own name")
        if number is not None and number in containers:
            yield pos.problem(key + ("ports", i, "container"), f"container port {number} is listed twice (also ports[{containers[number]}])",
                              "list each container port once")
        if isinstance(name, str):
            names.setdefault(name, i)
        if number is not None:
            containers.setdefault(number, i)


def _check_health(key: KeyPath, comp: dict[str, Any], pos: Positions) -> Problems:
    health = comp.get("health")
    if not isinstance(health, dict):
        return
    here = key + ("health",)
    http, cmd, port = health.get("http"), health.get("cmd"), _int(health.get("port"))
    ports = [p for p in (_int(_map(x).get("container")) for x in _list(comp.get("ports"))) if p is not None]
    if http is not None and cmd is not None:
        yield pos.problem(here, "sets both `http` and `cmd`", "keep one kind of check")
    elif http is None and cmd is None:
        yield pos.problem(here, "has no check: set `http` (with `port`) or `cmd`", "e.g. health: {http: /healthz, port: 8000}")
    if http is not None and "port" not in health:
        yield pos.problem(here + ("http",), "an HTTP check needs `port`",
                          f"add `port: {ports[0]}`" if ports else "add `port:` and list it under `ports`")
    elif port is not None and port not in ports:
        listed = ", ".join(map(str, ports)) or "none"
        yield pos.problem(here + ("port",), f"port {port} is not one of the component's ports ({listed})",
                          "use a container port listed under `ports`, or add it there")


def _check_depends(key: KeyPath, comp: dict[str, Any], comps: dict[str, Any], pos: Positions) -> Problems:
    for i, dep in enumerate(_list(comp.get("depends_on"))):
        if not isinstance(dep, str):
            continue
        if dep == key[-1]:
            yield pos.problem(key + ("depends_on", i), f"'{dep}' depends on itself", "remove it from depends_on")
        elif dep not in comps:
            yield pos.problem(key + ("depends_on", i), f"unknown component or service '{dep}'",
                              did_you_mean(dep, comps, "components and services"))


def _check_volumes(key: KeyPath, comp: dict[str, Any], pos: Positions) -> Problems:
    seen: dict[tuple[str, str], int] = {}
    for i, vol in enumerate(_list(comp.get("volumes"))):
        for field in ("name", "target"):
            value = _map(vol).get(field)
            if isinstance(value, str) and (field, value) in seen:
                yield pos.problem(key + ("volumes", i, field), f"volume {field} '{value}' is used twice (also volumes[{seen[field, value]}])",
                                  f"give each volume its own {field}")
            elif isinstance(value, str):
                seen[field, value] = i


def check_watch(key: KeyPath, rule: dict[str, Any], root: Path, pos: Positions) -> Problems:
    path, action = rule.get("path"), rule.get("action")
    if isinstance(path, str) and path:
        resolved, why = resolve_inside(root, _glob_prefix(path.strip()))
        if resolved is None:
            yield pos.problem(key + ("path",), f"watch path '{path}' {why}", "watch paths are relative to the project root")
        elif not GLOB_CHARS.search(path) and not resolved.exists():
            yield pos.problem(key + ("path",), f"watch path '{path}' does not exist (yet)",
                              "fix the path, or ignore this if it is created later", severity="warning")
    if action in SYNC_ACTIONS and rule.get("target") is None:
        yield pos.problem(key + ("target",), f"action '{action}' needs `target`",
                          "add `target:` with the absolute path in the container that `path` maps to")
    if action == "sync+exec" and rule.get("exec") is None:
        yield pos.problem(key + ("exec",), "action 'sync+exec' needs `exec`", "add `exec:` with the command to run after the sync")


# --- ports: the same allotment as resolve.py ---------------------------------------------------------

def port_slots(data: Any) -> list[tuple[str, str]]:
    """Every (component, port name) in devenv.yaml order: the host port offsets of a tenant."""
    slots: dict[tuple[str, str], None] = {}
    for name, comp in app_components(data).items():
        for port in _list(comp.get("ports")):
            if isinstance(_map(port).get("name"), str):
                slots.setdefault((name, _map(port)["name"]), None)
    return list(slots)


def _pinned_base(overlays: list[Document], tenant: str) -> tuple[int, Document, KeyPath] | None:
    """The overlay's ``port_base`` for ``tenant``: a tenant entry beats ``defaults``; later files
    beat earlier ones (the merge order of parse_overlays)."""
    found: tuple[int, Document, KeyPath] | None = None
    for section in (("defaults",), ("tenants", tenant)):
        for doc in overlays:
            entry = _map(doc.data)
            for part in section:
                entry = _map(entry.get(part))
            value = _int(entry.get("port_base"))
            if value is not None:
                found = (value, doc, (*section, "port_base"))
    return found


class PortRange(NamedTuple):
    """The host ports one tenant publishes, and where its start comes from."""

    start: int
    end: int
    tenant: str
    doc: Document
    key: KeyPath
    pinned: bool

    def problem(self, message: str, hint: str) -> Problem:
        return self.doc.positions.problem(self.key, message, hint)


def check_host_ports(app: Document, tenants: list[str], overlays: list[Document]) -> Problems:
    data = _map(app.data)
    base = _int(data.get("port_base", DEFAULT_PORT_BASE))
    per = _int(data.get("ports_per_tenant", DEFAULT_PORTS_PER_TENANT))
    slots = len(port_slots(data))
    if base is None or per is None or per < 1 or slots == 0:
        return
    if slots > per:
        yield app.positions.problem(("ports_per_tenant",), f"the app publishes {slots} ports per tenant but ports_per_tenant is {per}",
                                    f"set ports_per_tenant to at least {slots}")
    ranges = []
    for i, tenant in enumerate(sorted(tenants)):
        pinned = _pinned_base(overlays, tenant)
        start, doc, key = pinned if pinned else (base + i * per, app, ("port_base",))
        ranges.append(PortRange(start, start + slots - 1, tenant, doc, key, pinned is not None))
    yield from _port_range_problems(ranges)


def _port_range_problems(ranges: list[PortRange]) -> Problems:
    """At most one problem per ``port_base`` line: one bad value shifts every tenant after it."""
    said: set[tuple[str, str]] = set()
    for problem in _port_range_findings(ranges):
        if (problem.file, problem.key) not in said:
            said.add((problem.file, problem.key))
            yield problem


def _port_range_findings(ranges: list[PortRange]) -> Problems:
    for r in ranges:
        if r.end > MAX_PORT:
            yield r.problem(f"tenant '{r.tenant}' would publish ports {r.start}-{r.end}, past {MAX_PORT}",
                            "lower port_base (or ports_per_tenant) so every tenant's ports fit")
    for i, a in enumerate(ranges):
        for b in ranges[i + 1:]:
            if a.start <= b.end and b.start <= a.end:
                yield _overlap(a, b)


def _overlap(a: PortRange, b: PortRange) -> Problem:
    at = a if a.pinned and not b.pinned else b  # point at the pin that caused it, if any
    message = f"host ports of tenants '{a.tenant}' ({a.start}-{a.end}) and '{b.tenant}' ({b.start}-{b.end}) overlap"
    if a.key == b.key and a.doc is b.doc and a.pinned:
        return at.problem(message, "pin port_base per tenant under `tenants.<name>`, not under `defaults`")
    if not at.pinned:
        return at.problem(message, "raise ports_per_tenant to cover every component port")
    return at.problem(message, f"pin a free range with `tenants.{at.tenant}.port_base`, or remove the pin")


# --- profiles ---------------------------------------------------------------------------------------

def check_profile(stem: str, doc: Document, components: dict[str, Any] | None, strict: bool) -> Problems:
    """``components`` is ``None`` when devenv.yaml did not load: references are then not checked."""
    pos = doc.positions
    if not dns_label(stem):
        yield pos.problem((), f"the file name makes the tenant name '{stem}', which is not {DNS_WORDS}",
                          f"rename the file to profiles/{_as_dns_label(stem)}.yaml")
    data = doc.data
    if data is None:
        yield pos.problem((), "the profile is empty", f"write the tenant's settings, at least `namespace: tenant-{stem}`")
        return
    if not isinstance(data, dict):
        yield pos.problem((), f"a profile is a mapping of settings, got {describe(data)} at the top level",
                          "write `key: value` lines (tenant:, namespace:, components:, ...)")
        return
    yield from structural(doc, "profile", tolerant=True, strict=strict)
    tenant = data.get("tenant")
    if isinstance(tenant, str) and tenant != stem:
        yield pos.problem(("tenant",), f"says tenant '{tenant}' but the file is profiles/{doc.file.name}",
                          f"the file name is the tenant: rename the file to {tenant}{doc.file.suffix} or set `tenant: {stem}`")
    for name in _map(data.get("components")):
        if components is not None and name not in components:
            yield pos.problem(("components", name), f"component '{name}' is not in devenv.yaml (ignored locally)",
                              did_you_mean(name, components, "components and services"), severity="warning")
    yield from _check_secret_envs(data, pos)


def _check_secret_envs(data: dict[str, Any], pos: Positions) -> Problems:
    seen: dict[str, int] = {}
    for i, secret in enumerate(_list(data.get("secrets"))):
        env = _map(secret).get("env")
        if isinstance(env, str) and env in seen:
            yield pos.problem(("secrets", i, "env"), f"env '{env}' already receives secrets[{seen[env]}]",
                              "each environment variable can hold one secret key")
        elif isinstance(env, str):
            seen[env] = i


def profile_namespace(stem: str, data: Any) -> str:
    namespace = _map(data).get("namespace")
    return namespace if isinstance(namespace, str) and namespace else f"tenant-{stem}"


def check_namespaces(profiles: dict[str, Document]) -> Problems:
    owner: dict[str, str] = {}
    for stem, doc in sorted(profiles.items()):
        namespace = profile_namespace(stem, doc.data)
        if namespace in owner:
            yield doc.positions.problem(("namespace",), f"namespace '{namespace}' is already tenant '{owner[namespace]}'s",
                                        "every tenant needs its own namespace: change one of them")
        owner.setdefault(namespace, stem)


def duplicate_profile(stem: str, earlier: Document, display: str) -> Problem:
    """For the loader: ``acme.yaml`` and ``acme.yml`` both define tenant ``acme``."""
    return Problem(display, None, "", f"tenant '{stem}' is defined twice (also in {earlier.positions.file})",
                   "keep one of the two files")


# --- overlays ---------------------------------------------------------------------------------------

def check_overlay(doc: Document, tenants: set[str], components: dict[str, Any] | None) -> Problems:
    if doc.data is None:
        return
    yield from structural(doc, "overlay")
    data = _map(doc.data)
    yield from _check_overlay_entry(doc.positions, ("defaults",), _map(data.get("defaults")), components)
    yield from _check_secret_files(doc, ("defaults",), _map(data.get("defaults")))
    for name, entry in _map(data.get("tenants")).items():
        yield from _check_secret_files(doc, ("tenants", name), _map(entry))
        if name not in tenants:
            yield doc.positions.problem(("tenants", name), f"unknown tenant '{name}' (no profiles/{name}.yaml)",
                                        did_you_mean(name, tenants, "tenants"))
        yield from _check_overlay_entry(doc.positions, ("tenants", name), _map(entry), components)


def _check_secret_files(doc: Document, key: KeyPath, entry: dict[str, Any]) -> Problems:
    """``secrets: {name: {key: {file: PATH}}}``: the file must be a readable file inside the project."""
    root = doc.file.parent.resolve()
    for name, keys in _map(entry.get("secrets")).items():
        for k, value in _map(keys).items():
            rel = _map(value).get("file")
            if not isinstance(rel, str) or not rel:
                continue
            where = (*key, "secrets", name, k, "file")
            path, why = resolve_inside(root, rel)
            if path is None:
                yield doc.positions.problem(where, f"secret file '{rel}' {why}", "keep the file inside the project")
            elif not path.is_file():
                yield doc.positions.problem(where, f"secret file '{rel}' does not exist",
                                            "create it with the dev value, or give the value itself")


def _check_overlay_entry(pos: Positions, key: KeyPath, entry: dict[str, Any], components: dict[str, Any] | None) -> Problems:
    if components is None:
        return
    named: list[tuple[KeyPath, Any]] = [((*key, "replicas", n), n) for n in _map(entry.get("replicas"))]
    for field in ("build", "disable"):
        named += [((*key, field, i), n) for i, n in enumerate(_list(entry.get(field)))]
    for where, name in named:
        if isinstance(name, str) and name not in components:
            yield pos.problem(where, f"unknown component '{name}'", did_you_mean(name, components, "components and services"))


# --- the whole pass ---------------------------------------------------------------------------------

def tenant_names(root: Path | None, profiles: dict[str, Document]) -> set[str]:
    """Tenants as files name them, including profiles that failed to load (so one broken profile
    does not also make every reference to it "unknown")."""
    names = set(profiles)
    pdir = root / "profiles" if root else None
    try:
        if pdir is not None and pdir.is_dir():
            names |= {f.stem for f in pdir.iterdir() if f.suffix in (".yaml", ".yml")}
    except OSError:
        pass
    return names


def _guarded(check: Callable[[], Iterable[Problem]], file: str) -> list[Problem]:
    """Last line of defence: a bug in a check becomes one reported problem, never a traceback."""
    try:
        return list(check())
    except Exception as exc:  # noqa: BLE001 - the boundary: validation must never raise
        return [Problem(file, None, "", f"internal error while validating: {exc!r}",
                        "this is a devenv bug; please report it with the file")]


def _check_app_doc(app: Document, root: Path, tenants: set[str]) -> Problems:
    if app.data is None:
        yield app.positions.problem((), f"{APP_FILE} is empty", "write at least `name: <app>` (see docs/config.md)")
        return
    if not isinstance(app.data, dict):
        yield app.positions.problem((), f"{APP_FILE} must be a mapping at the top level, got {describe(app.data)}",
                                    "write `key: value` lines (name:, images:, components:, ...)")
        return
    yield from structural(app, "devenv")
    yield from check_app(app, root, tenants)


def validate_documents(
    app: Document | None,
    profiles: dict[str, Document],
    overlays: list[Document],
    strict: bool = False,
) -> list[Problem]:
    """Every problem of the project at once. ``strict`` reports unknown production keys (as
    warnings); it never turns production's tolerance into errors."""
    root = app.file.parent.resolve() if app is not None else None
    tenants = tenant_names(root, profiles)
    components = app_components(app.data) if app is not None and isinstance(app.data, dict) else None
    problems: list[Problem] = []
    if app is None or root is None:
        problems.append(Problem(APP_FILE, None, "", f"{APP_FILE} is missing or unreadable, so the checks that need it were skipped",
                                f"create {APP_FILE} at the project root, or fix the problem reported for it"))
    else:
        problems += _guarded(lambda: _check_app_doc(app, root, tenants), app.positions.file)
    for stem, doc in sorted(profiles.items()):
        problems += _guarded(lambda s=stem, d=doc: check_profile(s, d, components, strict), doc.positions.file)  # type: ignore[misc]
    problems += _guarded(lambda: check_namespaces(profiles), "profiles")
    for doc in overlays:
        problems += _guarded(lambda d=doc: check_overlay(d, tenants, components), doc.positions.file)  # type: ignore[misc]
    if app is not None and isinstance(app.data, dict):
        problems += _guarded(lambda: check_host_ports(app, list(profiles), overlays), app.positions.file)
    problems += _range_checks(app, profiles, overlays)
    return list(dict.fromkeys(problems))


def _range_checks(app: Document | None, profiles: dict[str, Document], overlays: list[Document]) -> list[Problem]:
    """What Kubernetes, Compose and the engine would refuse later (``limits.py``)."""
    from devenv.model.limits import check_document

    docs = [(app, "app")] if app is not None else []
    docs += [(d, "profile") for _, d in sorted(profiles.items())] + [(d, "overlay") for d in overlays]
    out: list[Problem] = []
    for doc, kind in docs:
        out += _guarded(lambda d=doc, k=kind: check_document(d, k), doc.positions.file)  # type: ignore[misc]
    return out
