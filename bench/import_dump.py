"""How fast ``devenv import`` reads a namespace dump: MB/s of ``importer.parse_dump`` (limits,
positions, type checks, Secret sanitising) on a YAML dump and on the same dump as JSON, against
PyYAML's ``safe_load_all`` (the reader import used before) measured in the same run.

    .venv/bin/python bench/import_dump.py [MB]        # default 4 MB

The dump repeats the test fixture's objects with unique names, so it has the shape of a real
``kubectl get -o yaml`` List (block style, managedFields, Secrets, Pods)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from devenv import importer  # noqa: E402

FIXTURE = REPO / "tests" / "fixtures" / "k8s" / "acme-namespace.yaml"


def dump_of(megabytes: float) -> tuple[str, str]:
    items: list[Any] = yaml.safe_load(FIXTURE.read_text())["items"]
    out: list[Any] = []
    size, i = 0, 0
    one = len(yaml.safe_dump(items))
    while size < megabytes * 1024 * 1024:
        for item in json.loads(json.dumps(items)):
            item["metadata"]["name"] = f"{item['metadata']['name']}-{i}"
            out.append(item)
        size += one
        i += 1
    doc = {"apiVersion": "v1", "kind": "List", "items": out}
    return yaml.safe_dump(doc, sort_keys=False), json.dumps(doc, indent=4)


def rate(fn: Any, text: str, runs: int = 3) -> float:
    best = min(_timed(fn, text) for _ in range(runs))
    return len(text.encode()) / 1e6 / best


def _timed(fn: Any, text: str) -> float:
    start = time.perf_counter()
    fn(text)
    return time.perf_counter() - start


def main() -> None:
    mb = float(sys.argv[1]) if len(sys.argv) > 1 else 4.0
    text_yaml, text_json = dump_of(mb)
    old = rate(lambda t: list(yaml.safe_load_all(t)), text_yaml[: len(text_yaml) // 4].rsplit("\n- ", 1)[0], 1)
    new_yaml = rate(importer.parse_dump, text_yaml)
    new_json = rate(importer.parse_dump, text_json)
    print(f"dump: {len(text_yaml) / 1e6:.1f} MB YAML, {len(text_json) / 1e6:.1f} MB JSON")
    print(f"yaml.safe_load_all (before): {old:6.2f} MB/s")
    print(f"parse_dump YAML:             {new_yaml:6.2f} MB/s  ({new_yaml / old:.1f}x)")
    print(f"parse_dump JSON:             {new_json:6.2f} MB/s  ({new_json / old:.1f}x)")


if __name__ == "__main__":
    main()
