"""Import a production namespace dump, then resolve and render it: the result must run what the
dump runs (images, replicas, placement, ports, env) and no secret value may appear anywhere.

The CLI runs for real (``python -m devenv.cli --root <tmp project> import ...``) in a private copy
of the sample's config, with stub Dockerfiles so the test does not depend on the sample's sources.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from devenv.model import load_project, resolve
from devenv.model.asprod import UNEXPLAINED, resolve_as_prod
from devenv.render.compose import render_compose
from devenv.render.kube import render_manifests
from devenv.render.yamldump import dump_all

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "k8s"
DUMPS = {"acme": FIXTURES / "acme-namespace.yaml", "globex": FIXTURES / "globex-namespace.yaml"}
INLINE_CREDENTIALS = ["tok-PLAIN-globex-77aa"]  # an env value the importer must refuse to copy


def make_project(dest: Path) -> Path:
    """The sample's devenv.yaml, overlay and profiles, with a stub Dockerfile per image."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("devenv.yaml", "devenv.local.yaml"):
        (dest / name).write_text((REPO / name).read_text())
    (dest / "profiles").mkdir()
    for f in (REPO / "profiles").glob("*.yaml"):
        (dest / "profiles" / f.name).write_text(f.read_text())
    app = yaml.safe_load((REPO / "devenv.yaml").read_text())
    for image in app["images"].values():
        ctx = dest / image["context"]
        ctx.mkdir(parents=True, exist_ok=True)
        body = "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n" if image.get("parent") else "FROM scratch\n"
        (ctx / "Dockerfile").write_text(body)
    for comp in app["components"].values():
        for rule in comp.get("watch") or []:
            path = dest / rule["path"]
            if "." in path.name:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()
            else:
                path.mkdir(parents=True, exist_ok=True)
    return dest


def cli(root: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("DEVENV_ROOT", None)
    return subprocess.run([sys.executable, "-m", "devenv.cli", "--root", str(root), *args], input=stdin,
                          capture_output=True, text=True, env=env, cwd=root, timeout=120)


def dump_objects(tenant: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for doc in yaml.safe_load_all(DUMPS[tenant].read_text()):
        if doc and doc.get("kind") == "List":
            out += doc["items"]
        elif doc:
            out.append(doc)
    return out


def secret_values(tenant: str) -> list[str]:
    """Every secret value of the fixture, plain and base64, plus inline credentials."""
    vals: list[str] = list(INLINE_CREDENTIALS)
    for o in dump_objects(tenant):
        if o["kind"] != "Secret":
            continue
        for v in (o.get("data") or {}).values():
            vals += [v, base64.b64decode(v).decode()]
        for v in (o.get("stringData") or {}).values():
            vals += [v, base64.b64encode(v.encode()).decode()]
    assert len(vals) >= 3
    return vals


def assert_no_secret(text: str, tenant: str, where: str) -> None:
    for v in secret_values(tenant):
        assert v not in text, f"secret value {v!r} leaked into {where}"


@pytest.fixture(scope="module", params=sorted(DUMPS))
def imported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One real import per fixture, shared by the read-only checks below."""
    tenant = request.param
    root = make_project(tmp_path_factory.mktemp(tenant) / "shop")
    res = cli(root, "import", "--tenant", tenant, "--from-file", str(DUMPS[tenant]), "--yes")
    assert res.returncode == 0, res.stderr
    return {"tenant": tenant, "root": root, "run": res}


def workloads_in_dump(tenant: str) -> dict[str, dict[str, Any]]:
    """Dump workloads by component name (as the fixtures label them)."""
    out = {}
    for o in dump_objects(tenant):
        if o["kind"] in ("Deployment", "StatefulSet"):
            name = o["metadata"]["name"].removeprefix(f"{tenant}-")
            labels = o["spec"]["template"]["metadata"]["labels"]
            name = labels.get("app.kubernetes.io/component", name)
            out[name] = o
    return out


def effective_env(tenant: str, container: dict[str, Any]) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """What Kubernetes gives the container, computed independently of the importer."""
    objs = dump_objects(tenant)
    cms = {o["metadata"]["name"]: o.get("data") or {} for o in objs if o["kind"] == "ConfigMap"}
    keys = {o["metadata"]["name"]: sorted({**(o.get("data") or {}), **(o.get("stringData") or {})})
            for o in objs if o["kind"] == "Secret"}
    plain: dict[str, str] = {}
    refs: dict[str, tuple[str, str]] = {}
    for src in container.get("envFrom") or []:
        if "configMapRef" in src:
            plain.update(cms[src["configMapRef"]["name"]])
        else:
            refs.update({k: (src["secretRef"]["name"], k) for k in keys[src["secretRef"]["name"]]})
    for e in container.get("env") or []:
        vf = e.get("valueFrom")
        if vf is None:
            plain[e["name"]] = e["value"]
        elif "secretKeyRef" in vf:
            refs[e["name"]] = (vf["secretKeyRef"]["name"], vf["secretKeyRef"]["key"])
        elif "configMapKeyRef" in vf:
            plain[e["name"]] = cms[vf["configMapKeyRef"]["name"]][vf["configMapKeyRef"]["key"]]
    return plain, refs


def rendered(root: Path, tenant: str) -> tuple[Any, Any, dict[str, dict[str, Any]]]:
    project, _ = load_project(root)
    spec = resolve(project, tenant, "prod")
    docs = render_manifests(project, spec, images={})
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] in ("Deployment", "StatefulSet")}
    return project, spec, deployments


# --------------------------------------------------------------------------- round trip


def test_images_replicas_resources_round_trip(imported: dict[str, Any]) -> None:
    tenant, root = imported["tenant"], imported["root"]
    _, _, deployments = rendered(root, tenant)
    for comp, obj in workloads_in_dump(tenant).items():
        if comp == "metrics-exporter":
            assert comp not in deployments
            continue
        c_dump = obj["spec"]["template"]["spec"]["containers"][0]
        c_out = deployments[comp]["spec"]["template"]["spec"]["containers"][0]
        assert deployments[comp]["spec"]["replicas"] == obj["spec"]["replicas"], comp
        assert c_out["image"].startswith(c_dump["image"]), comp  # the dump's ref, maybe + a pod digest
        assert c_out.get("resources", {}) == c_dump.get("resources", {}), comp


def test_pod_digest_pins_a_tag(tmp_path: Path) -> None:
    root = make_project(tmp_path / "shop")
    assert cli(root, "import", "-t", "globex", "--from-file", str(DUMPS["globex"]), "--yes").returncode == 0
    _, _, deployments = rendered(root, "globex")
    web = deployments["web"]["spec"]["template"]["spec"]["containers"][0]["image"]
    assert web == ("registry.shop.example/shop/web:2026.10.7@sha256:"
                   "0a7e5e1d0a7e5e1d0a7e5e1d0a7e5e1d0a7e5e1d0a7e5e1d0a7e5e1d0a7e5e1d")
    worker = deployments["worker"]["spec"]["template"]["spec"]["containers"][0]["image"]
    assert worker == "registry.shop.example/shop/worker:2026.10.7"  # imageID without a repo digest: no pin


def test_node_selectors_round_trip_or_are_reported(imported: dict[str, Any]) -> None:
    tenant, root, run = imported["tenant"], imported["root"], imported["run"]
    _, _, deployments = rendered(root, tenant)
    for comp, obj in workloads_in_dump(tenant).items():
        if comp not in deployments:
            continue
        want = obj["spec"]["template"]["spec"].get("nodeSelector") or {}
        got = deployments[comp]["spec"]["template"]["spec"].get("nodeSelector") or {}
        if want != got:
            assert f"{comp}: node selector" in run.stderr, comp


def test_ports_round_trip_or_are_reported(imported: dict[str, Any]) -> None:
    tenant, root, run = imported["tenant"], imported["root"], imported["run"]
    _, _, deployments = rendered(root, tenant)
    for comp, obj in workloads_in_dump(tenant).items():
        if comp not in deployments:
            continue
        want = sorted(p["containerPort"] for p in obj["spec"]["template"]["spec"]["containers"][0].get("ports") or [])
        got = sorted(p["containerPort"] for p in deployments[comp]["spec"]["template"]["spec"]["containers"][0]
                     .get("ports") or [])
        if want != got:
            assert f"{comp}: Service" in run.stderr and "does not declare" in run.stderr, comp
    assert "ports of web: service web" in run.stderr


def test_env_round_trips(imported: dict[str, Any]) -> None:
    tenant, root, run = imported["tenant"], imported["root"], imported["run"]
    _, _, deployments = rendered(root, tenant)
    for comp, obj in workloads_in_dump(tenant).items():
        if comp not in deployments:
            continue
        plain, refs = effective_env(tenant, obj["spec"]["template"]["spec"]["containers"][0])
        env = deployments[comp]["spec"]["template"]["spec"]["containers"][0].get("env") or []
        got_plain = {e["name"]: e["value"] for e in env if "value" in e}
        got_refs = {e["name"]: (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
                    for e in env if "valueFrom" in e}
        for k, v in plain.items():
            if k in INLINE_CREDENTIALS_NAMES:
                assert k not in got_plain and f"env {k} has an inline value" in run.stderr
            else:
                assert got_plain.get(k) == v, (comp, k)
        assert set(got_plain) <= set(plain), (comp, set(got_plain) - set(plain))
        for k, ref in refs.items():
            assert got_refs.get(k) == ref, (comp, k)


INLINE_CREDENTIALS_NAMES = {"LEGACY_API_TOKEN"}


def test_namespace_labels_domains_and_disabled_components(imported: dict[str, Any]) -> None:
    tenant, root = imported["tenant"], imported["root"]
    project, spec, _ = rendered(root, tenant)
    ns = next(o for o in dump_objects(tenant) if o["kind"] == "Namespace" and o["metadata"]["name"] == spec.namespace)
    own = {k: v for k, v in ns["metadata"]["labels"].items() if "kubernetes.io" not in k}
    assert spec.labels == own
    hosts = [r["host"] for o in dump_objects(tenant) if o["kind"] == "Ingress" for r in o["spec"]["rules"]]
    assert list(spec.domains) == list(dict.fromkeys(hosts))
    if tenant == "globex":
        assert "scheduler" not in spec.workloads
        assert project.profiles["globex"].components["scheduler"].enabled is False


# --------------------------------------------------------------------------- secrets never leak


def test_no_secret_value_anywhere(imported: dict[str, Any]) -> None:
    tenant, root, run = imported["tenant"], imported["root"], imported["run"]
    profile = (root / "profiles" / f"{tenant}.yaml").read_text()
    assert_no_secret(profile, tenant, "the profile")
    assert_no_secret(run.stdout + run.stderr, tenant, "import's output")
    dry = cli(root, "import", "-t", tenant, "--from-file", str(DUMPS[tenant]), "--dry-run")
    assert dry.returncode == 0 and "tenant: " in dry.stdout
    assert_no_secret(dry.stdout + dry.stderr, tenant, "--dry-run output")
    for args in (["diff", "-t", tenant], ["diff", "-t", tenant, "--as-prod", "--json"]):
        res = cli(root, *args)
        assert res.returncode == 0, res.stderr
        assert_no_secret(res.stdout + res.stderr, tenant, " ".join(args))
    project, _ = load_project(root)
    for spec in (resolve(project, tenant, "prod"), resolve(project, tenant, "local"),
                 resolve_as_prod(project, tenant, ("web",))):
        images = {n: f"devenv/{n}:test" for n in project.app.images}
        assert_no_secret(dump_all(render_manifests(project, spec, images)), tenant, f"manifests ({spec.env})")
        assert_no_secret(json.dumps(render_compose(project, spec, images)), tenant, "compose file")
    state = root / ".devenv"
    for f in state.rglob("*") if state.exists() else []:
        if f.is_file():
            assert_no_secret(f.read_text(errors="replace"), tenant, str(f))


def test_profile_keeps_secret_names_and_keys(imported: dict[str, Any]) -> None:
    tenant, root = imported["tenant"], imported["root"]
    project, _ = load_project(root)
    profile = project.profiles[tenant]
    refs = {(s.name, s.key, s.env) for s in profile.secrets}
    refs |= {(s.name, s.key, s.env) for cp in profile.components.values() for s in cp.secrets}
    if tenant == "acme":
        assert ("acme-smtp", "SMTP_PASSWORD", "SMTP_PASSWORD") in refs  # from envFrom secretRef
        assert ("acme-payments", "api-key", "PAYMENTS_API_KEY") in refs
    else:
        assert ("globex-payments", "api-key", "PAYMENTS_API_KEY") in refs  # its values were stringData
    assert ("shop-db", "password", "DATABASE_PASSWORD") in refs


# --------------------------------------------------------------------------- diff and re-import


def test_diff_names_each_difference_with_a_reason(imported: dict[str, Any]) -> None:
    tenant, root = imported["tenant"], imported["root"]
    res = cli(root, "diff", "-t", tenant, "--as-prod", "--dev", "web", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)  # --json prints only JSON
    diffs = {(d["component"], d["field"]): d for d in data["differences"]}
    assert all(d["reason"] and d["reason"] != UNEXPLAINED for d in data["differences"])
    assert diffs[("web", "image")]["reason"].startswith("--dev")
    assert ("*", "domains") in diffs
    project, _ = load_project(root)
    profile = project.profiles[tenant]
    for s in (*profile.secrets, *(s for cp in profile.components.values() for s in cp.secrets)):
        assert ("*", f"secret {s.name}/{s.key}") in diffs
    table = cli(root, "diff", "-t", tenant)
    assert table.returncode == 0 and "REASON" in table.stdout and "local overlay: replicas" in table.stdout


def test_reimport_shows_a_diff_and_refuses_without_yes(tmp_path: Path) -> None:
    root = make_project(tmp_path / "shop")
    first = cli(root, "import", "-t", "acme", "--from-file", str(DUMPS["acme"]), "--yes")
    assert first.returncode == 0, first.stderr
    profile = root / "profiles" / "acme.yaml"
    edited = profile.read_text().replace("replicas: 4", "replicas: 9")
    profile.write_text(edited)
    again = cli(root, "import", "-t", "acme", "--from-file", str(DUMPS["acme"]))  # stdin is not a tty
    assert again.returncode != 0
    assert "-    replicas: 9" in again.stdout and "+    replicas: 4" in again.stdout
    assert "not overwriting without confirmation" in again.stderr and "--yes" in again.stderr
    assert profile.read_text() == edited
    forced = cli(root, "import", "-t", "acme", "--from-file", str(DUMPS["acme"]), "--yes")
    assert forced.returncode == 0 and "replicas: 4" in profile.read_text()
    same = cli(root, "import", "-t", "acme", "--from-file", str(DUMPS["acme"]))
    assert same.returncode == 0 and "already up to date" in same.stdout


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    root = make_project(tmp_path / "shop")
    res = cli(root, "import", "-t", "acme2", "--from-file", str(DUMPS["acme"]), "--dry-run")
    assert res.returncode == 0, res.stderr
    assert not (root / "profiles" / "acme2.yaml").exists()
    doc = yaml.safe_load(res.stdout)
    assert doc["tenant"] == "acme2" and doc["namespace"] == "tenant-acme"
    assert res.stdout.startswith("# Tenant profile for acme2, imported by `devenv import`")


def test_header_and_stable_output(tmp_path: Path) -> None:
    root = make_project(tmp_path / "shop")
    a = cli(root, "import", "-t", "globex", "--from-file", str(DUMPS["globex"]), "--dry-run").stdout
    b = cli(root, "import", "-t", "globex", "--from-file", str(DUMPS["globex"]), "--dry-run").stdout
    body = [line for line in a.splitlines() if not line.startswith("#")]
    assert body == [line for line in b.splitlines() if not line.startswith("#")]
    keys = [line.split(":")[0] for line in body if line and not line.startswith(" ")]
    assert keys == ["tenant", "namespace", "labels", "node_selector", "components", "env", "features",
                    "secrets", "domains"]
    assert "from the dump globex-namespace.yaml" in a
