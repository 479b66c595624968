"""``devenv import`` on a big dump says each kind of note a few times, then how many more.

A namespace with thousands of workloads alike (20k Deployments of one component, each its own
object) used to print one line per object. The notes of one kind are now cut after a few, with a
count; a small dump keeps every distinct note.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devenv import importer
from devenv.model import load_project
from tests.unit.test_import_roundtrip import DUMPS, make_project


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("notes") / "shop")


def deployment(name: str, component: str, containers: int = 1) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": "shop", "app.kubernetes.io/component": component}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "tenant-acme"},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": f"c{i}", "image": "registry.example/web:1"}
                                                          for i in range(containers)]}}}}


def test_summarized_cuts_each_kind_after_a_few_and_keeps_the_order() -> None:
    notes = importer.Notes()
    notes.add("kind a", "a0")
    for i in range(1, 10):
        notes.add("kind b", f"b{i}")
        notes.add("kind a", f"a{i}")
    notes.append("plain")
    notes.append("plain")  # an exact repeat is said once
    out = importer.summarized(notes, per_kind=3)
    assert out == ["a0", "b1", "a1", "b2", "a2", "b3", "... and 7 more like this (kind a)",
                   "... and 6 more like this (kind b)", "plain"]


def test_summarized_keeps_every_note_of_a_kind_at_or_just_over_the_limit() -> None:
    notes = importer.Notes()
    for i in range(4):
        notes.add("k", f"n{i}")
    assert importer.summarized(notes, per_kind=3) == ["n0", "n1", "n2", "n3"]
    assert importer.summarized(["x", "y", "x"]) == ["x", "y"]


def test_a_big_dump_says_each_kind_a_few_times(shop: Path) -> None:
    project, _ = load_project(shop)
    objects = [deployment("acme-web", "web", containers=2)]
    objects += [deployment(f"acme-web-{i}", "web") for i in range(3000)]
    objects += [deployment(f"acme-thing-{i}", f"thing{i}") for i in range(300)]
    res = importer.import_profile("acme", objects, project.app)
    assert len(res.notes) < 30, res.notes
    dup = [n for n in res.notes if "is also component 'web'" in n]
    assert dup[0] == "Deployment acme-web-0 is also component 'web' (as Deployment acme-web); kept the first"
    assert len(dup) == importer.NOTES_PER_KIND
    assert f"... and {3000 - importer.NOTES_PER_KIND} more like this ({importer.DUPLICATE})" in res.notes
    assert f"... and {300 - importer.NOTES_PER_KIND} more like this ({importer.UNKNOWN_WORKLOAD})" in res.notes
    assert "web: imported container 'c0'; sidecar(s) c1 not imported" in res.notes


@pytest.mark.parametrize("tenant", sorted(DUMPS))
def test_a_small_dump_keeps_every_distinct_note(shop: Path, tenant: str, monkeypatch: pytest.MonkeyPatch) -> None:
    project, _ = load_project(shop)
    objects = importer.parse_dump(DUMPS[tenant].read_text())
    summarized = importer.import_profile(tenant, objects, project.app).notes
    monkeypatch.setattr(importer, "summarized", lambda notes: list(notes))
    every = importer.import_profile(tenant, objects, project.app).notes
    assert summarized == list(dict.fromkeys(every)) and summarized


def test_the_cli_prints_a_screenful_for_twenty_thousand_objects(shop: Path, tmp_path: Path) -> None:
    items = [deployment(f"acme-web-{i}", "web") for i in range(20000)]
    dump = tmp_path / "big.json"
    dump.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    env = {k: v for k, v in os.environ.items() if k != "DEVENV_ROOT"}
    done = subprocess.run([sys.executable, "-m", "devenv.cli", "--root", str(shop), "import", "--tenant", "acme",
                           "--from-file", str(dump), "--dry-run"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stderr.splitlines()
    assert len(lines) < 30, lines[:40]
    assert f"devenv: import: ... and {19999 - importer.NOTES_PER_KIND} more like this ({importer.DUPLICATE})" in lines
    assert "tenant: acme" in done.stdout
