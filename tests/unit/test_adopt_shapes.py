"""``devenv init --from-compose`` on values of the wrong shape: each is refused with its line and
key (``develop.watch: 5`` raised a TypeError; ``volumes: x`` or ``expose: 80`` were skipped
silently, so init wrote a project without them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devenv.adopt.compose import read_compose
from tests.unit.test_adopt_compose import project


@pytest.mark.parametrize(("snippet", "key", "words"), [
    ("develop: {watch: 5}", "services.s.develop.watch", "`develop.watch` must be a list"),
    ("develop: [x]", "services.s.develop", "`develop` must be a mapping"),
    ("expose: 80", "services.s.expose", "`expose` must be a list"),
    ("links: db", "services.s.links", "`links` must be a list"),
    ("volumes: data:/x", "services.s.volumes", "`volumes` must be a list"),
    ("secrets: {a: 1}", "services.s.secrets", "`secrets` must be a list"),
])
def test_a_value_of_the_wrong_shape_is_refused_with_its_key(tmp_path: Path, snippet: str, key: str, words: str) -> None:
    root = project(tmp_path / "p", f"services:\n  s:\n    image: redis:7\n    {snippet}\n")
    adopted = read_compose(root, root, "acme", shell={})
    assert [str(p) for p in adopted.errors if key in str(p)], adopted.errors
    assert any(words in str(p) and str(p).startswith(f"compose.yaml:4: {key}:") for p in adopted.errors)


@pytest.mark.parametrize("snippet", ["develop: null", "expose: null", "volumes: []", "develop: {watch: null}"])
def test_null_and_empty_are_absent(tmp_path: Path, snippet: str) -> None:
    root = project(tmp_path / "p", f"services:\n  s:\n    image: redis:7\n    {snippet}\n")
    assert read_compose(root, root, "acme", shell={}).errors == []


MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: tenant-acme, labels: null}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      volumes: [null, {name: data, persistentVolumeClaim: {claimName: data}}]
      containers:
      - name: web
        image: registry.example/web:1
        ports: [null, {name: http, containerPort: 8000}]
        volumeMounts: [null, {name: data, mountPath: /data}]
        readinessProbe: {httpGet: {path: /, port: http}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: tenant-acme}
spec: {selector: {app: web}, ports: [null, {name: http, port: 80, targetPort: http}]}
"""


def test_init_from_k8s_reads_null_list_items_as_absent(tmp_path: Path) -> None:
    """``ports: [null, ...]`` in a manifest raised AttributeError in ``init --from-k8s``."""
    from devenv.adopt.k8s import read_k8s

    (tmp_path / "prod.yaml").write_text(MANIFEST)
    adopted = read_k8s(tmp_path / "prod.yaml", tmp_path, "acme", {})
    assert adopted.errors == []
    web = adopted.app["components"]["web"] if "web" in adopted.app.get("components", {}) else adopted.app["services"]["web"]
    assert [p["container"] for p in web["ports"]] == [8000]
