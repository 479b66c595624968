"""The compose corpus through the real tools: ``docker compose config`` is the oracle.

Every corpus file is adopted with ``devenv init``, rendered with ``devenv render --backend compose``
(real content tags: hashing needs the engine for the base image's id), and both the SOURCE and the
RENDERED file go through the real ``docker compose config``: every service compose would start,
every TCP container port (``ports`` and ``expose``), every environment key (``env_file`` included)
and every named volume of the source must be in the rendered project. A sample of the kind renders
goes through the real ``kubernetes-validate --strict`` CLI (all of them are checked in-process by
``tests/unit/test_compose_corpus.py``). The calls run a few at a time, so the whole corpus costs
seconds, not minutes.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from devenv.adopt.result import dns_name
from tests.integration.test_render_tools import K8S_VERSION, compose_cli  # noqa: F401  (a fixture)
from tests.unit.test_compose_corpus import FILES, cli, lay_out

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
KIND_SAMPLE = ("28-rails-like", "29-python-stack", "32-many-services")


def compose_config(root: Path, file: str) -> dict[str, Any]:
    cp = subprocess.run(["docker", "compose", "-f", file, "config", "--format", "json"], cwd=root,
                        capture_output=True, text=True, timeout=120)
    assert cp.returncode == 0, f"{root}/{file}: {cp.stderr}"
    data: dict[str, Any] = json.loads(cp.stdout)
    return data


def kept(service: dict[str, Any]) -> dict[str, set[str]]:
    """What must survive adoption, from compose's own normalised view of a service."""
    ports = {str(p["target"]) for p in service.get("ports", []) if p.get("protocol", "tcp") == "tcp"}
    ports |= {str(e).partition("/")[0] for e in service.get("expose", []) if "/udp" not in str(e)}
    env = {k for k, v in (service.get("environment") or {}).items() if v is not None and ENV_NAME.match(k)}
    volumes = {dns_name(v["source"]) for v in service.get("volumes", []) if v.get("type") == "volume" and v.get("source")}
    return {"ports": ports, "env": env, "volumes": volumes}


def rendered_view(service: dict[str, Any]) -> dict[str, set[str]]:
    return {"ports": {str(p["target"]) for p in service.get("ports", [])},
            "env": set(service.get("environment") or {}),
            "volumes": {v["source"] for v in service.get("volumes", [])}}


@pytest.mark.docker
def test_every_corpus_file_keeps_services_ports_env_and_volumes(tmp_path: Path, compose_cli: None,  # noqa: F811
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from devenv.model import load_project, resolve

    roots, secret_env = {}, {}
    for source in FILES:
        root = lay_out(source, tmp_path / source.stem)
        code, _, err = cli(root, "init", "--from-compose", "compose.yaml", "--tenant", "acme", capsys=capsys)
        assert code == 0, f"{source.name}: {err}"
        code, out, err = cli(root, "render", "--tenant", "acme", "--backend", "compose", capsys=capsys)
        assert code == 0, f"{source.name}: {err}"
        (root / "rendered.yaml").write_text(out)
        roots[source.stem] = root
        spec = resolve(load_project(root)[0], "acme")  # credentials reach a service through its secret env file
        secret_env[source.stem] = {n: {ref.env for ref in w.secret_env} for n, w in spec.workloads.items()}
    with ThreadPoolExecutor(4) as pool:
        sources = dict(zip(roots, pool.map(lambda r: compose_config(r, "compose.yaml"), roots.values()), strict=True))
        rendered = dict(zip(roots, pool.map(lambda r: compose_config(r, "rendered.yaml"), roots.values()), strict=True))
    lost = []
    for stem in roots:
        src, out = sources[stem]["services"], rendered[stem]["services"]
        if {dns_name(n) for n in src} != set(out):
            lost.append(f"{stem}: services {sorted(src)} became {sorted(out)}")
            continue
        for name, service in src.items():
            want, got = kept(service), rendered_view(out[dns_name(name)])
            got["env"] |= secret_env[stem].get(dns_name(name), set())
            lost += [f"{stem}: {name}.{what}: {sorted(want[what] - got[what])}" for what in want if want[what] - got[what]]
    assert lost == []


@pytest.mark.docker
@pytest.mark.parametrize("stem", KIND_SAMPLE)
def test_kind_render_passes_kubernetes_validate_cli(stem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = next(f for f in FILES if f.stem == stem)
    root = lay_out(source, tmp_path / "p")
    assert cli(root, "init", "--from-compose", "compose.yaml", "--tenant", "acme", capsys=capsys)[0] == 0
    code, out, err = cli(root, "render", "--tenant", "acme", "--backend", "kind", capsys=capsys)
    assert code == 0, err
    (root / "kind.yaml").write_text(out)
    exe = Path(sys.executable).with_name("kubernetes-validate")
    cp = subprocess.run([str(exe), "--strict", "-k", K8S_VERSION, "--quiet", str(root / "kind.yaml")],
                        capture_output=True, text=True, timeout=300)
    assert cp.returncode == 0, cp.stdout + cp.stderr
