"""How fast ``devenv import`` reads a namespace dump: MB/s of ``importer.parse_dump`` as import
calls it (limits, type checks, Secret sanitising; lines looked up again only for an error) on a
YAML dump and on the same dump as JSON, and of the positioned read (``positions=True``, what
``init --from-k8s`` uses for its notes), against PyYAML's ``safe_load_all`` (the reader import
used before) and against iterating libyaml's events with nothing done (the floor of any reader
built on PyYAML's own events), all measured in the same run. A dump of 1 MB or more is read in pieces
at once, one per core up to 8 (forked children take all but the first; ``dumpyaml.read_list_split``):
its wall figure needs the other cores idle; the one-process row is what a single core gives. Each figure is the best of 3, in
wall time and in CPU time (``process_time``: on a shared machine the wall figure measures the
neighbours too).

    .venv/bin/python bench/import_dump.py [MB ...]    # default 4 MB; e.g. 1 10 50

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
from devenv.model import dumpyaml  # noqa: E402

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
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # the same text, written faster
    return yaml.dump(doc, Dumper=dumper, sort_keys=False), json.dumps(doc, indent=4)


def rate(fn: Any, text: str, runs: int = 3) -> tuple[float, float]:
    """(wall MB/s, CPU MB/s), each the best of ``runs``."""
    times = [_timed(fn, text) for _ in range(runs)]
    mb = len(text.encode()) / 1e6
    return mb / min(t[0] for t in times), mb / min(t[1] for t in times)


def _timed(fn: Any, text: str) -> tuple[float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    fn(text)
    return time.perf_counter() - start, time.process_time() - cpu


def events_only(text: str) -> None:
    parser = yaml.CSafeLoader(text) if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader(text)
    while not isinstance(parser.get_event(), yaml.StreamEndEvent):
        pass
    parser.dispose()


def one_process(text: str) -> None:
    """import's read with the two-halves path off: what a single core gives."""
    saved, dumpyaml.SPLIT_MIN_BYTES = dumpyaml.SPLIT_MIN_BYTES, 1 << 62
    try:
        importer.parse_dump(text, "dump", positions=False)
    finally:
        dumpyaml.SPLIT_MIN_BYTES = saved


def one_size(mb: float) -> None:
    text_yaml, text_json = dump_of(mb)
    runs = 3 if mb <= 20 else 2
    old = rate(lambda t: list(yaml.safe_load_all(t)), text_yaml[: len(text_yaml) // 16].rsplit("\n- ", 1)[0], 1)
    floor = rate(events_only, text_yaml, runs)
    new_yaml = rate(lambda t: importer.parse_dump(t, "dump", positions=False), text_yaml, runs)
    single = rate(one_process, text_yaml, runs)
    positioned = rate(importer.parse_dump, text_yaml, runs)
    new_json = rate(lambda t: importer.parse_dump(t, "dump", positions=False), text_json, runs)
    print(f"dump: {len(text_yaml) / 1e6:.1f} MB YAML, {len(text_json) / 1e6:.1f} MB JSON (MB/s: wall / CPU of "
          "this process; the children's CPU is not in the cores row's figure)")
    for label, (wall, cpu) in (("yaml.safe_load_all (before)", old), ("libyaml events, nothing done", floor),
                               (f"import, YAML ({dumpyaml.cores()} cores)", new_yaml), ("import, YAML (one process)", single),
                               ("YAML with positions", positioned), ("import, JSON", new_json)):
        print(f"  {label:30s} {wall:6.2f} / {cpu:6.2f}  ({wall / old[0]:.1f}x wall)")


def main() -> None:
    print(f"libyaml: {getattr(yaml, '__with_libyaml__', False)}")
    for arg in sys.argv[1:] or ["4"]:
        one_size(float(arg))


if __name__ == "__main__":
    main()
