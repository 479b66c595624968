"""Stable, boring YAML for everything devenv writes or prints.

Rendered files are read by people and diffed in golden tests, so the output must be byte-stable:
keys stay in the order the renderer built them (renderers build dicts deliberately), block style
only, no anchors or aliases (a reader should never have to chase ``*id001``), and any string a
YAML 1.1 *or* 1.2 reader could take for something else (``on``, ``0755``, ``1.10``, ``1e3``,
``0o17``) is quoted, because compose (Go, YAML 1.2) and kubectl (YAML 1.1 rules) both read it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import yaml

# Scalars a YAML 1.2 core-schema reader resolves to non-strings but PyYAML's 1.1 resolver does not
# flag, so PyYAML alone would emit them bare.
_YAML12_NON_STRINGS = re.compile(
    r"""^(?:
        [-+]?0o[0-7]+                                   # 1.2 octal
      | [-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?   # 1.2 floats, 1e3 included
      | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
      | (?:true|True|TRUE|false|False|FALSE|null|Null|NULL|~)
    )$""",
    re.VERBOSE,
)


class _Dumper(yaml.SafeDumper):
    """SafeDumper without aliases; indents sequences under their key (the kubectl/compose look)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    if value == "" or _YAML12_NON_STRINGS.match(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="'")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


def _represent_tuple(dumper: yaml.SafeDumper, value: tuple[Any, ...]) -> yaml.SequenceNode:
    return dumper.represent_list(list(value))


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(tuple, _represent_tuple)

_OPTIONS: dict[str, Any] = {
    "Dumper": _Dumper,
    "sort_keys": False,
    "default_flow_style": False,
    "allow_unicode": True,
    "width": 4096,  # never fold long strings: a folded image ref or command is hard to grep
    "indent": 2,
}


def dump(obj: Any) -> str:
    """One YAML document, keys in insertion order."""
    return str(yaml.dump(obj, **_OPTIONS))


def dump_all(docs: Iterable[Any]) -> str:
    """Several documents, each introduced by ``---`` (what ``kubectl apply -f -`` reads)."""
    return str(yaml.dump_all(list(docs), explicit_start=True, **_OPTIONS))
