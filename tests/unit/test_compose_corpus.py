"""The compose corpus (``tests/corpus/compose/``) through ``devenv init``, ``validate`` and both
renders, Docker-free: every file is adopted into its own folder (beside a copy of ``_support/``:
build contexts, ``.env``, env files, secret files), the project loads clean, the compose render keeps
every service (those behind a compose profile are disabled locally, as ``docker compose up`` leaves
them out), environment key and named volume of the source, and every Kubernetes manifest passes
``kubernetes-validate --strict``. The same projects go through the real ``docker compose config``
in ``tests/integration/test_compose_corpus_tools.py``.

The source is read with PyYAML (merge keys included) as an oracle independent of devenv's reader.
"""

from __future__ import annotations

import functools
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate.utils as kv
import pytest
import yaml
from referencing import Registry, Resource

from devenv.adopt.result import dns_name
from devenv.model import load_project, resolve
from devenv.render.compose import render_compose
from devenv.render.kube import render_manifests
from devenv.render.yamldump import dump
from tests.unit.test_adopt_compose import run as cli  # one in-process CLI runner for the adoption tests
from tests.unit.test_render_support import fixed_images

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "compose"
SUPPORT = CORPUS / "_support"
BAD = CORPUS / "bad"
FILES = sorted(CORPUS.glob("*.yaml"))
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
K8S_VERSION = "1.30.0"


@dataclass
class Adoption:
    root: Path
    init: tuple[int, str, str]
    compose: dict[str, Any]
    manifests: list[dict[str, Any]]
    secret_env: dict[str, set[str]]  # component -> env vars it gets from a secret (its env file)




def lay_out(source: Path, root: Path) -> Path:
    shutil.copytree(SUPPORT, root)
    shutil.copyfile(source, root / "compose.yaml")
    return root


def adopt(source: Path, root: Path, capsys: pytest.CaptureFixture[str]) -> Adoption:
    """``devenv init`` through the CLI, then the project loaded and rendered as ``devenv render``
    does (with fixed image tags: hashing contexts needs the engine for the base image's id)."""
    lay_out(source, root)
    init = cli(root, "init", "--from-compose", "compose.yaml", "--tenant", "acme", capsys=capsys)
    if init[0] != 0:
        return Adoption(root, init, {}, [], {})
    project, _ = load_project(root)  # `devenv validate`'s pass: raises on any error
    images = fixed_images(project)
    spec = resolve(project, "acme", "local")
    compose = render_compose(project, spec, images)
    manifests = [d for env in ("local", "prod")
                 for d in render_manifests(project, resolve(project, "acme", env), images)]  # type: ignore[arg-type]
    secret_env = {name: {ref.env for ref in w.secret_env} for name, w in spec.workloads.items()}
    return Adoption(root, init, compose, manifests, secret_env)


@functools.cache
def strict_validator(kind: str, api_version: str) -> jsonschema.Draft202012Validator:
    """``kubernetes-validate --strict``'s own schemas and validator, built once per kind: its
    ``validate()`` re-reads and re-crawls the 1.30 definitions for every document (~150 ms each),
    too slow for ~500 manifests in the quick gate. The real CLI runs on a sample of them in
    ``tests/integration/test_compose_corpus_tools.py``."""
    version = [v for v in kv.all_versions() if kv.major_minor(v) <= kv.major_minor(K8S_VERSION)][-1]
    folder = f"kubernetes-json-schema/v{version}-local-strict"
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema = kv.schema_contents(f"{folder}/{kind.lower()}-{api}.json", K8S_VERSION)
    registry = _definitions(folder) @ (Resource.from_contents(schema) @ Registry())  # type: ignore[operator]
    return jsonschema.Draft202012Validator(schema, registry=registry)


@functools.cache
def _definitions(folder: str) -> Resource[Any]:
    return Resource.from_contents(kv.schema_contents(f"{folder}/_definitions.json", K8S_VERSION))


def source_services(source: Path) -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(source.read_text())
    return {name: svc or {} for name, svc in data["services"].items()}


def env_keys(svc: dict[str, Any]) -> set[str]:
    env = svc.get("environment") or {}
    keys = set(env) if isinstance(env, dict) else {str(e).partition("=")[0] for e in env}
    return {k for k in keys if ENV_NAME.match(k)}


def named_volumes(svc: dict[str, Any]) -> set[str]:
    out = set()
    for v in svc.get("volumes") or []:
        source = v.get("source") if isinstance(v, dict) and v.get("type", "volume") == "volume" else None
        if isinstance(v, str) and ":" in v and not v.startswith((".", "/", "~")):
            source = v.split(":")[0]
        if source:
            out.add(dns_name(source))
    return out


@pytest.mark.parametrize("source", FILES, ids=[f.stem for f in FILES])
def test_corpus_file_is_adopted_intact(source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = adopt(source, tmp_path / "p", capsys)
    code, _, err = result.init
    assert code == 0, err
    assert "Traceback" not in err
    rendered = yaml.safe_load(dump(result.compose))
    for name, svc in source_services(source).items():
        if svc.get("profiles"):
            assert dns_name(name) not in rendered["services"]
            continue
        out = rendered["services"][dns_name(name)]
        carried = set(out.get("environment", {})) | result.secret_env.get(dns_name(name), set())
        assert env_keys(svc) - {k for k in env_keys(svc) if _unset(svc, k)} <= carried
        assert named_volumes(svc) <= {v["source"] for v in out.get("volumes", [])}
    for doc in result.manifests:
        strict_validator(doc["kind"], doc["apiVersion"]).validate(doc)


def _unset(svc: dict[str, Any], key: str) -> bool:
    """``- KEY`` with no value anywhere: compose leaves it unset, and so does devenv."""
    env = svc.get("environment")
    return isinstance(env, list) and key in env and key not in (SUPPORT / ".env").read_text()


def test_corpus_covers_the_compose_spec_service_keys() -> None:
    used: set[str] = set()
    for source in FILES:
        for svc in source_services(source).values():
            used |= set(svc)
    assert SPEC_SERVICE_KEYS - used == set()
    assert len(FILES) >= 30


SPEC_SERVICE_KEYS = {
    "annotations", "attach", "blkio_config", "build", "cap_add", "cap_drop", "cgroup", "cgroup_parent", "command",
    "configs", "container_name", "cpu_count", "cpu_percent", "cpu_period", "cpu_quota", "cpu_rt_period",
    "cpu_rt_runtime", "cpu_shares", "cpus", "cpuset", "depends_on", "deploy", "develop", "device_cgroup_rules",
    "devices", "dns", "dns_opt", "dns_search", "domainname", "entrypoint", "env_file", "environment", "expose",
    "extends", "external_links", "extra_hosts", "group_add", "healthcheck", "hostname", "image", "init",
    "ipc", "isolation", "label_file", "labels", "links", "logging", "mac_address", "mem_limit", "mem_reservation",
    "mem_swappiness", "memswap_limit", "network_mode", "networks", "oom_kill_disable", "oom_score_adj", "pid",
    "pids_limit", "platform", "ports", "post_start", "pre_stop", "privileged", "profiles", "pull_policy",
    "read_only", "restart", "runtime", "scale", "secrets", "security_opt", "shm_size", "stdin_open",
    "stop_grace_period", "stop_signal", "storage_opt", "sysctls", "tmpfs", "tty", "ulimits", "user", "userns_mode",
    "uts", "volumes", "volumes_from", "working_dir",
}


BAD_FILES = sorted(BAD.glob("*.yaml"))


@pytest.mark.parametrize("source", BAD_FILES, ids=[f.stem for f in BAD_FILES])
def test_bad_compose_files_are_refused_with_file_line_and_key(source: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Each bad file says, on its first line, what the refusal must contain: ``# expect: TEXT``."""
    expect = source.read_text().splitlines()[0].removeprefix("# expect: ")
    root = lay_out(source, tmp_path / "p")
    code, _, err = cli(root, "init", "--from-compose", "compose.yaml", capsys=capsys)
    assert code == 1 and expect in err, err
    assert "Traceback" not in err and not (root / "devenv.yaml").exists()
