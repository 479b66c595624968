"""``devenv init --from-k8s`` on five manifest sets written from the Kubernetes API reference
(``tests/fixtures/k8s/sets/``): a ``helm template`` output, a ``kubectl get -o yaml`` List, a
``kubectl kustomize`` output, a folder of files with a Dockerfile beside them, and a
``kubectl get -o json`` List.

Each goes through the real CLI (init, validate), then ``render --env prod`` must give back the same
workloads, images, replicas, container ports, plain env values, resources and per-workload node
selectors, pass ``kubernetes-validate --strict``, and no Secret value may appear in any written file
or render. A second tenant's namespace is then imported into the adopted project.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from devenv.model import load_project, resolve
from devenv.render.compose import render_compose
from devenv.render.kube import render_manifests
from devenv.render.yamldump import dump_all
from tests.unit.test_import_roundtrip import cli

SETS = Path(__file__).resolve().parents[1] / "fixtures" / "k8s" / "sets"
K8S_VERSION = "1.30.0"
# set -> (path inside the set folder, tenant, extra init args, source workload -> component)
CASES: dict[str, tuple[str, str, tuple[str, ...], dict[str, str]]] = {
    "helm-shopfront": ("helm-shopfront/prod.yaml", "shopfront", ("--context", "web=helm-shopfront/web-src"),
                       {"shopfront-web": "web", "shopfront-api": "api", "shopfront-postgresql": "postgresql",
                        "shopfront-redis": "redis"}),
    "kubectl-list": ("kubectl-list-billing.yaml", "billing", (),
                     {"billing-api": "api", "billing-worker": "worker", "mysql": "mysql"}),  # tenant prefix
    "kustomize": ("kustomize-notes.yaml", "notes", (), {"prod-notes-web": "notes-web", "prod-notes-mongo": "notes-mongo"}),
    "folder": ("folder-queue/deploy", "queue", (), {"dispatcher": "dispatcher", "rabbitmq": "rabbitmq"}),
    "json": ("kubectl-json-analytics.json", "analytics", (), {"collector": "collector", "clickhouse": "clickhouse"}),
}
BUILT = {"helm-shopfront": {"web"}, "folder": {"dispatcher"}}  # --context, a Dockerfile beside the manifests


def source_objects(path: Path) -> list[dict[str, Any]]:
    files = sorted(p for p in path.rglob("*.yaml")) if path.is_dir() else [path]
    out: list[dict[str, Any]] = []
    for f in files:
        for doc in yaml.safe_load_all(f.read_text()):
            if doc and doc.get("kind") == "List":
                out += doc["items"]
            elif doc:
                out.append(doc)
    return out


def secret_values(objects: list[dict[str, Any]]) -> list[str]:
    """Every Secret value of the set, plain and base64 (what must never be written)."""
    out: list[str] = []
    for o in objects:
        if o.get("kind") == "Secret":
            out += [str(v) for v in (o.get("stringData") or {}).values()]
            for v in (o.get("data") or {}).values():
                out += [str(v), base64.b64decode(v).decode()]
    return [v for v in out if len(v) >= 8]


def plain_env(container: dict[str, Any], configmaps: dict[str, dict[str, str]]) -> dict[str, str]:
    """The env Kubernetes gives the container from values and ConfigMaps (Secrets left out)."""
    env: dict[str, str] = {}
    for src in container.get("envFrom") or []:
        if "configMapRef" in src:
            for k, v in configmaps.get(src["configMapRef"]["name"], {}).items():
                env[str(src.get("prefix") or "") + k] = str(v)
    for item in container.get("env") or []:
        if "value" in item:
            env[item["name"]] = str(item["value"])
        elif "configMapKeyRef" in (item.get("valueFrom") or {}):
            ref = item["valueFrom"]["configMapKeyRef"]
            env[item["name"]] = configmaps[ref["name"]][ref["key"]]
        else:
            env.pop(item["name"], None)
    return env


@pytest.fixture(scope="module", params=sorted(CASES))
def adopted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    name = request.param
    rel, tenant, extra, _ = CASES[name]
    root = tmp_path_factory.mktemp(name)
    shutil.copytree(SETS, root, dirs_exist_ok=True)
    run = cli(root, "init", "--from-k8s", rel, "--tenant", tenant, *extra)
    assert run.returncode == 0, run.stderr
    return {"name": name, "root": root, "tenant": tenant, "run": run, "objects": source_objects(SETS / rel)}


def prod_render(root: Path, tenant: str) -> list[dict[str, Any]]:
    project, _ = load_project(root)
    images = {n: f"devenv/{n}:test" for n in project.app.images}
    return render_manifests(project, resolve(project, tenant, "prod"), images)


def test_validate_accepts_the_adopted_project(adopted: dict[str, Any]) -> None:
    res = cli(adopted["root"], "validate")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Traceback" not in adopted["run"].stderr


def test_render_prod_round_trips_the_workloads(adopted: dict[str, Any]) -> None:
    _, _, _, names = CASES[adopted["name"]]
    objects = adopted["objects"]
    configmaps = {o["metadata"]["name"]: {k: str(v) for k, v in (o.get("data") or {}).items()}
                  for o in objects if o["kind"] == "ConfigMap"}
    docs = prod_render(adopted["root"], adopted["tenant"])
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] in ("Deployment", "StatefulSet")}
    sources = {o["metadata"]["name"]: o for o in objects if o["kind"] in ("Deployment", "StatefulSet")}
    assert sorted(deployments) == sorted(names[n] for n in sources)  # the same workloads, of the same kinds
    for src_name, src in sources.items():
        out = deployments[names[src_name]]
        assert out["kind"] == src["kind"], src_name
        claims = [t["metadata"]["name"] for t in src["spec"].get("volumeClaimTemplates") or []]
        assert len(out["spec"].get("volumeClaimTemplates") or []) == len(claims), src_name
        pod_in, pod_out = src["spec"]["template"]["spec"], out["spec"]["template"]["spec"]
        c_in, c_out = pod_in["containers"][0], pod_out["containers"][0]
        assert out["spec"]["replicas"] == src["spec"].get("replicas", 1), src_name
        assert c_out["image"] == c_in["image"], src_name  # production's image, even when built locally
        assert sorted(p["containerPort"] for p in c_out.get("ports") or []) == \
            sorted(p["containerPort"] for p in c_in.get("ports") or []), src_name
        assert c_out.get("resources", {}) == c_in.get("resources", {}), src_name
        assert pod_out.get("nodeSelector", {}) == {k: str(v) for k, v in (pod_in.get("nodeSelector") or {}).items()}
        for key in ("tolerations", "affinity"):
            assert pod_out.get(key) == pod_in.get(key), (src_name, key)
        assert pod_out.get("serviceAccountName") == pod_in.get("serviceAccountName"), src_name
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            if probe in c_in:
                assert c_out[probe] == c_in[probe], (src_name, probe)
        got = {e["name"]: e["value"] for e in c_out.get("env") or [] if "value" in e}
        for k, v in plain_env(c_in, configmaps).items():
            if f"env {k} has an inline value" in adopted["run"].stderr:
                assert k not in got
            else:
                assert got.get(k) == v, (src_name, k)


def test_render_prod_keeps_secret_refs_per_component(adopted: dict[str, Any]) -> None:
    _, _, _, names = CASES[adopted["name"]]
    docs = {d["metadata"]["name"]: d for d in prod_render(adopted["root"], adopted["tenant"]) if d["kind"] in ("Deployment", "StatefulSet")}
    for src in adopted["objects"]:
        if src["kind"] not in ("Deployment", "StatefulSet"):
            continue
        want = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in src["spec"]["template"]["spec"]["containers"][0]
                .get("env") or [] if "secretKeyRef" in (e.get("valueFrom") or {})}
        c_out = docs[names[src["metadata"]["name"]]]["spec"]["template"]["spec"]["containers"][0]
        got = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in c_out.get("env") or [] if "valueFrom" in e}
        assert {k: got.get(k) for k in want} == want  # each workload its own refs...
        assert set(got) - set(want) <= {k for k in got if k in _env_from_secret_keys(src, adopted["objects"])}


def _env_from_secret_keys(src: dict[str, Any], objects: list[dict[str, Any]]) -> set[str]:
    names = {f["secretRef"]["name"] for f in src["spec"]["template"]["spec"]["containers"][0].get("envFrom") or []
             if "secretRef" in f}
    return {k for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] in names
            for k in (*(o.get("data") or {}), *(o.get("stringData") or {}))}


def test_render_prod_passes_kubernetes_validate_strict(adopted: dict[str, Any]) -> None:
    for doc in prod_render(adopted["root"], adopted["tenant"]):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_build_contexts_from_the_flag_or_beside_the_manifests(adopted: dict[str, Any]) -> None:
    project, _ = load_project(adopted["root"])
    built = {c.name for c in project.app.components.values() if c.image is not None}
    assert built == BUILT.get(adopted["name"], set())


def test_no_secret_value_in_any_file_or_render(adopted: dict[str, Any]) -> None:
    values = secret_values(adopted["objects"])
    assert values
    root, tenant = adopted["root"], adopted["tenant"]
    texts = {"init's output": adopted["run"].stdout + adopted["run"].stderr}
    for rel in ("devenv.yaml", "devenv.local.yaml", f"profiles/{tenant}.yaml"):
        texts[rel] = (root / rel).read_text()
    project, _ = load_project(root)
    for env in ("prod", "local"):
        spec = resolve(project, tenant, env)  # type: ignore[arg-type]
        images = {n: f"devenv/{n}:test" for n in project.app.images}
        texts[f"kube {env}"] = dump_all(render_manifests(project, spec, images))
        texts[f"compose {env}"] = json.dumps(render_compose(project, spec, images))
    for args in (("render", "--env", "prod", "--backend", "kind"), ("diff", "-t", tenant)):
        res = cli(root, *args)
        assert res.returncode == 0, res.stderr
        texts[" ".join(args)] = res.stdout + res.stderr
    for where, text in texts.items():
        for v in values:
            assert v not in text, f"a Secret value leaked into {where}"


def test_import_of_another_tenant_works_after_init(adopted: dict[str, Any], tmp_path: Path) -> None:
    rel, tenant, _, names = CASES[adopted["name"]]
    objects = adopted["objects"]
    ns = next((o["metadata"].get("namespace") for o in objects if o["metadata"].get("namespace")), None)
    other = []
    for o in objects:
        o = json.loads(json.dumps(o))
        if ns:
            o["metadata"]["namespace"] = "other-tenant"
        if o["metadata"]["name"].startswith(f"{tenant}-"):  # objects named after their tenant
            o["metadata"]["name"] = "other-" + o["metadata"]["name"][len(tenant) + 1:]
        if o["kind"] in ("Deployment", "StatefulSet"):
            o["spec"]["replicas"] = 7
        other.append(o)
    dump = tmp_path / "other.yaml"
    dump.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": other}))
    res = cli(adopted["root"], "import", "-t", "other", "--from-file", str(dump), "--namespace", "other-tenant"
              if ns else f"tenant-{tenant}", "--yes")
    assert res.returncode == 0, res.stderr
    project, _ = load_project(adopted["root"])
    assert {n: cp.replicas for n, cp in project.profiles["other"].components.items()} == \
        {c: 7 for c in names.values()}


@pytest.mark.parametrize("adopted", ["helm-shopfront"], indirect=True)  # the set that names Services after its release
def test_service_names_become_component_names_locally(adopted: dict[str, Any]) -> None:
    """Production's env names Services (``shopfront-postgresql``); locally the component answers to
    ``postgresql``: the overlay points every app component there, and prod keeps production's value."""
    project, _ = load_project(adopted["root"])
    local = resolve(project, adopted["tenant"], "local").workloads
    prod = resolve(project, adopted["tenant"], "prod").workloads
    assert local["api"].env["DB_HOST"] == "postgresql" and prod["api"].env["DB_HOST"] == "shopfront-postgresql"
    assert local["web"].env["CACHE_URL"] == "redis://redis:6379/0"
    assert "API_URL" not in local["api"].env  # the overlay never adds a variable a component does not have
    assert "API_URL names a production Service" in adopted["run"].stderr


def test_special_files_and_bad_flags_are_refused_cleanly(tmp_path: Path) -> None:
    import os

    folder = tmp_path / "manifests"
    folder.mkdir()
    shutil.copy(SETS / "kustomize-notes.yaml", folder / "a.yaml")
    os.mkfifo(folder / "b.yaml")
    cases = [
        (("--from-k8s", str(folder), "--tenant", "a"), "is a FIFO"),
        (("--from-k8s", "/dev/zero", "--tenant", "a"), "is a character device"),
        (("--from-k8s", str(folder / "a.yaml")), "needs --tenant"),
        (("--from-k8s", str(folder / "a.yaml"), "--tenant", "a", "--context", "nope=x"), "names no workload"),
        (("--from-k8s", str(folder / "a.yaml"), "--tenant", "a", "--context", "notes-web"), "expected COMPONENT=DIR"),
    ]
    for args, words in cases:
        res = cli(tmp_path, "init", *args)
        assert res.returncode != 0 and words in res.stderr and "Traceback" not in res.stderr, (args, res.stderr)
    assert not (tmp_path / "devenv.yaml").exists()
