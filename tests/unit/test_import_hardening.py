"""Hostile and odd dumps against ``devenv import`` (issue 15 item 3): limits, special files, field
types with the dump's line, inline credentials by value shape, env names the kubelet skips.

Most cases go through the pure core (``parse_dump``/``import_profile``); the ones a user meets at the
prompt (a device, a FIFO, a type error) also run the real CLI to check there is no traceback.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from devenv import importer
from devenv.errors import DevenvError
from devenv.model import load_project
from tests.unit.test_import_roundtrip import cli, make_project

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: tenant-acme
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: web
        image: registry.example/web:1
        env:
{env}
"""


def deploy(replicas: str = "2", env: str = "        - {name: A, value: b}") -> str:
    return DEPLOY.format(replicas=replicas, env=env)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("hard") / "shop")


def profile_of(shop: Path, text: str) -> importer.ImportResult:
    project, _ = load_project(shop)
    return importer.import_profile("acme", importer.parse_dump(text, "dump.yaml"), project.app)


def web_env(res: importer.ImportResult) -> dict[str, str]:
    """The env web ends up with: the tenant's (common to every app component) and its own."""
    return {**res.profile.get("env", {}), **res.profile["components"]["web"].get("env", {})}


# --------------------------------------------------------------------------- limits and special files


def test_dev_zero_is_refused_at_once(shop: Path) -> None:
    start = time.monotonic()
    res = cli(shop, "import", "-t", "acme", "--from-file", "/dev/zero", "--dry-run")
    assert res.returncode != 0 and time.monotonic() - start < 20
    assert "character device" in res.stderr and "Traceback" not in res.stderr


def test_fifo_is_refused_without_blocking(shop: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "dump.yaml"
    os.mkfifo(fifo)
    res = cli(shop, "import", "-t", "acme", "--from-file", str(fifo), "--dry-run")
    assert res.returncode != 0 and "FIFO" in res.stderr and "Traceback" not in res.stderr


def test_directory_is_refused(shop: Path, tmp_path: Path) -> None:
    res = cli(shop, "import", "-t", "acme", "--from-file", str(tmp_path), "--dry-run")
    assert res.returncode != 0 and "is a directory" in res.stderr


def test_alias_bomb_is_refused_before_it_expands() -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        levels.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: boom}\ndata:\n" + "\n".join("  " + x for x in levels)
    start = time.monotonic()
    with pytest.raises(DevenvError, match="too many values"):
        importer.parse_dump(text, "bomb.yaml")
    assert time.monotonic() - start < 5


def test_alias_bomb_through_env_from_is_refused() -> None:
    text = "x: &e [{configMapRef: {name: a}}, {configMapRef: {name: b}}]\n"
    for i in range(1, 25):
        text += f"x{i}: &e{i} [*{'e' if i == 1 else f'e{i - 1}'}, *{'e' if i == 1 else f'e{i - 1}'}]\n"
    with pytest.raises(DevenvError, match="too many values"):
        importer.parse_dump(text, "bomb.yaml")


def test_deep_nesting_is_a_clean_error() -> None:
    with pytest.raises(DevenvError, match="nest"):  # libyaml's own cap or ours, whichever comes first
        importer.parse_dump("a: " + "[" * 5000 + "]" * 5000, "deep.yaml")
    with pytest.raises(DevenvError, match="nests deeper"):
        importer.parse_dump("".join(f"{'  ' * i}k{i}:\n" for i in range(200)), "deep.yaml")


def test_merge_keys_and_anchors_of_helm_output_are_read() -> None:
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
            "data:\n  <<: &base {A: '1', B: '2'}\n  B: '3'\n")
    (cm,) = importer.parse_dump(text)
    assert cm["data"] == {"A": "1", "B": "3"}


# --------------------------------------------------------------------------- field types, with lines


@pytest.mark.parametrize("text, where, words", [
    (deploy(replicas="abc"), "dump.yaml:7", "spec.replicas must be a whole number, got a string"),
    (deploy(env="        - STRING"), "dump.yaml:18", "env[0] must be a mapping, got a string"),
    (deploy().replace("metadata:\n  name: web\n  namespace: tenant-acme", "metadata:\n- web"),
     "dump.yaml:3", "metadata must be a mapping, got a list"),
    (deploy().replace("      containers:\n      - name: web", "      containers:\n        name: web"),
     "dump.yaml:14", "containers must be a list, got a mapping"),
    (deploy(env="        - {name: A, valueFrom: {secretKeyRef: [x]}}"), "dump.yaml:18", "secretKeyRef must be a mapping"),
    ("apiVersion: v1\nkind: [List]\n", "dump.yaml:2", "kind must be a string"),
    ("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - {port: http}\n",
     "dump.yaml:6", "port must be a whole number"),
])
def test_field_types_are_checked_with_the_line(text: str, where: str, words: str) -> None:
    with pytest.raises(DevenvError) as err:
        importer.parse_dump(text, "dump.yaml")
    assert str(err.value).startswith(where) and words in str(err.value), str(err.value)


def test_a_type_error_through_the_cli_is_no_traceback(shop: Path, tmp_path: Path) -> None:
    dump = tmp_path / "dump.yaml"
    dump.write_text(deploy(replicas="abc"))
    res = cli(shop, "import", "-t", "acme", "--from-file", str(dump), "--dry-run")
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert f"{dump}:7" in res.stderr and "replicas must be a whole number" in res.stderr


def test_a_secret_value_never_appears_in_a_type_error() -> None:
    text = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: [c2VjcmV0LXZhbHVlLTQy]\n"
    with pytest.raises(DevenvError) as err:
        importer.parse_dump(text, "dump.yaml")
    assert "c2VjcmV0" not in str(err.value) + str(err.value.hint)


# --------------------------------------------------------------------------- credentials and env names


@pytest.mark.parametrize("name, value", [
    ("DB_PASS", "hunter2"),  # by name
    ("UPSTREAM", "kVf83jdLq0Zp2mWx7sYt"),  # a generated token, however it is named
    ("AUTH_HEADER_VALUE", "Xk9#mP2$vL8qR4nW"),
    ("AWS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
    ("ANALYTICS", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("DATABASE_URL", "postgres://shop:s3cr3t@db:5432/shop"),
    ("STRIPE", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
])
def test_inline_credentials_are_dropped_with_a_note(shop: Path, name: str, value: str) -> None:
    res = profile_of(shop, deploy(env=f"        - {{name: {name}, value: '{value}'}}"))
    assert value not in importer.profile_yaml(res.profile)
    assert any(f"env {name} has an inline value that looks like a credential" in n for n in res.notes)


@pytest.mark.parametrize("value", ["ACME Corporation", "registry.example/shop/web:2026.11.3", "info",
                                   "redis://redis:6379/0", "America/New_York", "en_US.UTF-8", "-Xmx512m",
                                   "123e4567-e89b-12d3-a456-426614174000", "MyApp_Production_v2", "2026.11.3"])
def test_ordinary_values_are_kept(shop: Path, value: str) -> None:
    res = profile_of(shop, deploy(env=f"        - {{name: SETTING, value: '{value}'}}"))
    assert web_env(res)["SETTING"] == value


def test_env_names_the_kubelet_skips_are_skipped_with_a_note(shop: Path) -> None:
    env = "        - {name: '1BAD', value: x}\n        - {name: 'has space', value: y}\n        - {name: OK, value: z}"
    res = profile_of(shop, deploy(env=env))
    assert web_env(res) == {"OK": "z"}
    assert sum("the kubelet skips it" in n for n in res.notes) == 2


def env_from_secret_dump() -> str:
    secret = ("---\napiVersion: v1\nkind: Secret\nmetadata: {name: tls, namespace: tenant-acme}\n"
              "data: {tls.crt: QUJD, tls.key: REVG, CA_BUNDLE: R0hJ}\n")
    return deploy(env="        - {name: A, value: b}").replace(
        "        env:\n", "        envFrom:\n        - secretRef: {name: tls}\n        env:\n") + secret


def test_env_from_secret_with_dotted_keys_imports_and_validates(tmp_path: Path) -> None:
    root = make_project(tmp_path / "shop")
    dump = tmp_path / "dump.yaml"
    dump.write_text(env_from_secret_dump())
    res = cli(root, "import", "-t", "acme", "--from-file", str(dump), "--yes")
    assert res.returncode == 0, res.stderr
    assert "'tls.crt' is not a shell variable name" in res.stderr
    project, _ = load_project(root)
    profile = project.profiles["acme"]
    refs: Any = (*profile.secrets, *profile.components["web"].secrets)
    assert [(r.name, r.key, r.env) for r in refs] == [("tls", "CA_BUNDLE", "CA_BUNDLE")]
    assert "QUJD" not in (root / "profiles" / "acme.yaml").read_text()


def test_a_json_dump_reads_fast_and_keeps_lines_for_errors() -> None:
    import json

    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}, "spec": {"replicas": 2}}
    (parsed,) = importer.parse_dump(json.dumps({"apiVersion": "v1", "kind": "List", "items": [obj]}))
    assert parsed["spec"]["replicas"] == 2
    obj["spec"]["replicas"] = "abc"
    with pytest.raises(DevenvError, match=r"^d\.json:8: .*replicas must be a whole number"):
        importer.parse_dump(json.dumps(obj, indent=2), "d.json")


NULL_ITEMS = [  # the shape check reads null as "absent"; as a list item or a reference it must not crash
    "        - null\n        - {name: OK, value: z}",
    "        - {name: OK, value: z}\n        - {name: S, valueFrom: {secretKeyRef: null}}",
    "        - {name: OK, value: z}\n        - {name: C, valueFrom: {configMapKeyRef: null}}",
    "        - {name: OK, value: z}\n        - {name: V, valueFrom: null}",
]


@pytest.mark.parametrize("env", NULL_ITEMS)
def test_null_items_and_references_are_read_as_absent(shop: Path, env: str) -> None:
    res = profile_of(shop, deploy(env=env))
    assert web_env(res)["OK"] == "z"


@pytest.mark.parametrize("edit", [
    ("      containers:\n", "      containers:\n      - null\n"),
    ("        env:\n", "        envFrom: [null, {configMapRef: null}, {secretRef: null}]\n        ports: [null]\n        env:\n"),
])
def test_null_containers_env_from_and_ports_are_skipped(shop: Path, edit: tuple[str, str]) -> None:
    service = ("---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: tenant-acme}\n"
               "spec: {selector: {app: web}, ports: [null, {port: 80, targetPort: 8000}]}\n")
    res = profile_of(shop, deploy(env="        - {name: OK, value: z}").replace(*edit) + service)
    assert web_env(res)["OK"] == "z" and res.ports["web"] == ["service web 80->8000/TCP"]


TOKEN = "kVf83jdLq0XyZ12AbCdEf9"


@pytest.mark.parametrize("probe", [
    f"exec: {{command: [sh, -c, \"curl -H 'Authorization: Bearer {TOKEN}' localhost:8000\"]}}",
    f"exec: {{command: [redis-cli, --pass, {TOKEN}, ping]}}",
    f"httpGet: {{path: '/health?token={TOKEN}', port: 8000}}",
    f"httpGet: {{path: /health, port: 8000, httpHeaders: [{{name: X-Api-Key, value: {TOKEN}}}]}}",
])
def test_a_probe_with_an_inline_credential_stays_out_of_the_profile(shop: Path, probe: str) -> None:
    text = deploy().replace("        env:\n", f"        readinessProbe: {{{probe}}}\n        env:\n")
    res = profile_of(shop, text)
    assert TOKEN not in importer.profile_yaml(res.profile) and TOKEN not in " ".join(res.notes)
    assert any("production's readinessProbe holds an inline credential; not imported" in n for n in res.notes)


def test_an_ordinary_probe_is_kept(shop: Path) -> None:
    text = deploy().replace("        env:\n", "        readinessProbe: {exec: {command: [pg_isready, -U, shop]}}\n        env:\n")
    assert profile_of(shop, text).profile["components"]["web"]["probes"] == {
        "readiness": {"exec": {"command": ["pg_isready", "-U", "shop"]}}}


# --------------------------------------------------------------------------- exact type errors


FIX = "fix the object (the API server would refuse it too), or dump it again with `kubectl get ... -o yaml`"
WORKLOAD = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: w\n"


@pytest.mark.parametrize(("text", "message"), [
    (WORKLOAD + "  labels: [web]\n", "dump.yaml:5: Deployment w: metadata.labels must be a mapping, got a list"),
    (WORKLOAD + "  labels:\n    tier: web\n    app: [x]\n",
     "dump.yaml:7: Deployment w: metadata.labels.app must be a plain value (string, number or boolean), got a list"),
    (WORKLOAD + "  labels:\n    tier: web\n    app: {x: y}\n",
     "dump.yaml:7: Deployment w: metadata.labels.app must be a plain value (string, number or boolean), got a mapping"),
    ("apiVersion: v1\nmetadata: {name: x}\nkind: 5\n", "dump.yaml:3: kind must be a string, got a number"),
    ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {namespace: n}\nspec:\n  replicas: many\n",
     "dump.yaml:5: Deployment: spec.replicas must be a whole number, got a string"),
    ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: [w]}\nspec:\n  replicas: 1\n",
     "dump.yaml:3: Deployment: metadata.name must be a string, got a list"),
    ("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - name: http\n    port: 80\n"
     "    targetPort: 1.5\n",
     "dump.yaml:8: Service s: spec.ports[0].targetPort must be a port number or a port name, got a number"),
    (WORKLOAD + "spec:\n  template:\n    spec:\n      serviceAccountName: sa\n      containers: {name: w}\n",
     "dump.yaml:9: Deployment w: spec.template.spec.containers must be a list, got a mapping"),
    (WORKLOAD + "spec:\n  template:\n    spec:\n      containers:\n      - name: w\n        image: 2024-01-01\n",
     "dump.yaml:10: Deployment w: spec.template.spec.containers[0].image must be a string, got date"),
], ids=["labels-list", "label-value-list", "label-value-mapping", "kind-number", "no-name", "name-list",
        "target-port-float", "containers-mapping", "image-date"])
def test_a_field_of_the_wrong_type_is_named_with_its_own_line_by_both_reads(text: str, message: str) -> None:
    for positions in (True, False):
        with pytest.raises(DevenvError) as err:
            importer.parse_dump(text, "dump.yaml", positions=positions)
        assert (err.value.message, err.value.hint) == (message, FIX)


def test_a_type_error_in_data_without_lines_names_the_file_alone() -> None:
    from devenv.model.k8sshape import check_object

    with pytest.raises(DevenvError) as err:
        check_object({"kind": "Deployment", "metadata": {"name": "w"}, "spec": {"replicas": "x"}}, "d.json")
    assert (err.value.message, err.value.hint) == ("d.json: Deployment w: spec.replicas must be a whole number, "
                                                   "got a string", FIX)
    check_object({"kind": "Deployment", "metadata": {"name": "w", "labels": {"a": 1, "b": True}},
                  "spec": {"template": {"spec": {"containers": [{"ports": [{"containerPort": 80}]}]}}}}, "d.json")


# --------------------------------------------------------------------------- the file read, at its limits


class StatFirst:
    """``os`` as the dump reader sees it, when the file changes between its ``stat`` and its read
    (the size or type ``stat`` answered is no longer true)."""

    def __init__(self, size: int | None = None, mode: int | None = None) -> None:
        self.size, self.mode = size, mode

    def stat(self, path: Any) -> os.stat_result:
        st = os.stat(path)
        return os.stat_result((st.st_mode if self.mode is None else self.mode, st.st_ino, st.st_dev, st.st_nlink,
                               st.st_uid, st.st_gid, st.st_size if self.size is None else self.size,
                               int(st.st_atime), int(st.st_mtime), int(st.st_ctime)))

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


def refused(path: Path, what: str | None = None) -> tuple[str, str]:
    from devenv.model.dumpyaml import read_text_bounded

    with pytest.raises(DevenvError) as err:
        read_text_bounded(path) if what is None else read_text_bounded(path, what)
    return err.value.message, err.value.hint


def test_a_dump_of_exactly_the_size_limit_is_read_and_one_byte_more_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from devenv.model import dumpyaml

    monkeypatch.setattr(dumpyaml, "MAX_DUMP_BYTES", 2 * 1024 * 1024)
    at = tmp_path / "at.yaml"
    at.write_text("# " + "x" * (2 * 1024 * 1024 - 3) + "\n")
    assert dumpyaml.read_text_bounded(at) == at.read_text()
    over = tmp_path / "over.yaml"
    over.write_text(at.read_text() + "\n")
    assert refused(over) == (f"{over} is larger than 2 MiB, the limit for a dump",
                             "dump one namespace at a time (`kubectl -n NS get ...`)")
    monkeypatch.setattr(dumpyaml, "os", StatFirst(size=10))  # it was 10 bytes when looked at
    assert refused(over) == (f"{over} grew past 2 MiB while being read", "pass a finished dump")
    assert dumpyaml.read_text_bounded(at) == at.read_text()


def test_a_path_that_changes_or_is_no_file_is_refused_with_what_it_is(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import stat

    from devenv.model import dumpyaml

    missing = tmp_path / "nope.yaml"
    assert refused(missing) == (f"cannot read {missing}: No such file or directory", "pass the dump file's path")
    assert refused(tmp_path) == (f"{tmp_path} is a directory, not a dump file", "pass the dump file itself")
    loop = next((p for p in sorted(Path("/dev").glob("loop*")) if p.is_block_device()), None)
    if loop is not None:
        assert refused(loop, "manifest") == (
            f"{loop} is a block device, not a regular file; devenv reads manifests from files only",
            "save the manifest to a file first (`kubectl get ... -o yaml > dump.yaml`)")
    monkeypatch.setattr(dumpyaml, "os", StatFirst(mode=stat.S_IFBLK | 0o600))
    assert refused(tmp_path)[0] == f"{tmp_path} is a block device, not a regular file; devenv reads dumps from files only"
    monkeypatch.setattr(dumpyaml, "os", StatFirst(mode=0o600))  # a type Linux does not name
    assert refused(tmp_path)[0] == f"{tmp_path} is a special file, not a regular file; devenv reads dumps from files only"
    monkeypatch.setattr(dumpyaml, "os", StatFirst(mode=stat.S_IFREG | 0o644))  # a file, then a directory
    assert refused(tmp_path) == (f"cannot read {tmp_path}: Is a directory", "check the path and its permissions")
