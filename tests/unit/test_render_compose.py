"""The compose renderer: isolation, ports, labels, secrets, fragments."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from test_render_support import ENVS, TENANTS, fixed_images, load_sample

from devenv import secrets
from devenv.errors import DevenvError
from devenv.model import resolve
from devenv.model.types import LABEL_MANAGED, LABEL_PROJECT, LABEL_TENANT, Project, TenantSpec
from devenv.render.compose import (
    compose_warnings,
    deep_merge,
    duration,
    load_fragments,
    render_compose,
)
from devenv.render.yamldump import dump


@pytest.fixture
def project(sample: Path) -> Project:
    return load_sample(sample)


def render(project: Project, tenant: str, env: str = "local", **kw: object) -> dict:
    return render_compose(project, resolve(project, tenant, env), fixed_images(project), **kw)  # type: ignore[arg-type]


def with_workload(spec: TenantSpec, name: str, **changes: object) -> TenantSpec:
    workloads = dict(spec.workloads)
    workloads[name] = replace(workloads[name], **changes)  # type: ignore[arg-type]
    return replace(spec, workloads=workloads)


def test_deterministic(project: Project, sample: Path) -> None:
    frags = load_fragments(sample)
    assert dump(render(project, "acme", fragments=frags)) == dump(render(project, "acme", fragments=frags))


def test_services_in_workload_order_and_tenant_named(project: Project) -> None:
    doc = render(project, "globex")
    assert doc["name"] == "devenv-globex"
    assert list(doc["services"]) == list(resolve(project, "globex").workloads)
    assert "scheduler" not in doc["services"]  # disabled in globex's production profile


def test_no_secret_values_in_output(project: Project, sample: Path) -> None:
    spec = resolve(project, "acme")
    values = secrets.local_secret_values(sample, spec)
    env_file = secrets.write_env_file(sample, spec, values)
    text = dump(render(project, "acme", secrets_env_file=str(env_file)))
    for keys in values.values():
        for value in keys.values():
            assert value not in text
    assert "DATABASE_PASSWORD" not in text and "PAYMENTS_API_KEY" not in text
    assert str(env_file) in text


def test_without_env_file_nothing_secret(project: Project) -> None:
    doc = render(project, "acme")
    assert all("env_file" not in svc for svc in doc["services"].values())


def test_ports_bind_loopback_and_never_collide(project: Project) -> None:
    seen: dict[str, str] = {}
    for tenant in TENANTS:
        for name, svc in render(project, tenant)["services"].items():
            for port in svc.get("ports", []):
                assert port["host_ip"] == "127.0.0.1"
                assert port["published"] not in seen, f"{tenant}/{name} reuses {seen.get(port['published'])}"
                seen[port["published"]] = f"{tenant}/{name}"
    assert seen


def test_expose_binds_all_interfaces(project: Project) -> None:
    doc = render(project, "acme", expose=True)
    assert {p["host_ip"] for s in doc["services"].values() for p in s.get("ports", [])} == {"0.0.0.0"}


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("tenant", TENANTS)
def test_every_object_labelled(project: Project, tenant: str, env: str) -> None:
    doc = render(project, tenant, env)
    objects = [*doc["services"].values(), *doc["networks"].values(), *doc.get("volumes", {}).values()]
    for obj in objects:
        labels = obj["labels"]
        assert labels[LABEL_PROJECT] == "shop" and labels[LABEL_TENANT] == tenant
        assert labels[LABEL_MANAGED] == "true"
    for name, svc in doc["services"].items():
        assert svc["labels"]["dev.devenv.component"] == name


def test_tenants_never_share_network_or_volumes(project: Project) -> None:
    names = [render(project, t)["networks"]["default"]["name"] for t in TENANTS]
    assert names == ["devenv-acme", "devenv-globex", "devenv-initech"]
    vols = [v["name"] for t in TENANTS for v in render(project, t)["volumes"].values()]
    assert len(vols) == len(set(vols))


def test_depends_on_conditions(project: Project) -> None:
    svcs = render(project, "acme")["services"]
    assert svcs["api"]["depends_on"] == {"postgres": {"condition": "service_healthy"},
                                         "redis": {"condition": "service_healthy"}}


def test_depends_on_without_health_waits_for_start(project: Project) -> None:
    spec = with_workload(resolve(project, "acme"), "redis", health=None)
    doc = render_compose(project, spec, fixed_images(project))
    assert doc["services"]["scheduler"]["depends_on"] == {"redis": {"condition": "service_started"}}


def test_healthchecks(project: Project) -> None:
    svcs = render(project, "acme")["services"]
    kind, script = svcs["web"]["healthcheck"]["test"]
    assert kind == "CMD-SHELL" and "exec bash -c" in script and "/dev/tcp/127.0.0.1/8000" in script
    assert "GET /healthz HTTP/1.0" in script and "http://127.0.0.1:8000/healthz" in script  # python3 fallback
    # the profile says 2 s; the sample's 3 tenants x 5 checked components share 5 checks a second: 3 s
    assert svcs["redis"]["healthcheck"] == {"test": ["CMD", "redis-cli", "ping"], "interval": "3s",
                                            "timeout": "15s", "retries": 30, "start_period": "0s"}
    assert svcs["web"]["healthcheck"]["interval"] == "5s"  # longer than the floor: as configured


def test_the_projects_checks_share_a_budget(project: Project) -> None:
    """Ten tenants' checks at their profiles' intervals kept the engine busy with execs; the floor
    grows with the project so that all of them together stay near ``CHECKS_PER_SECOND``."""
    from dataclasses import replace

    from devenv.render.compose import CHECKS_PER_SECOND, interval_floor

    many = replace(project, profiles={f"t{i:02d}": next(iter(project.profiles.values())) for i in range(10)})
    assert interval_floor(many) == 10.0
    spec = resolve(many, "t00")
    svcs = render_compose(many, spec, fixed_images(many))["services"]
    rate = sum(1 / float(s["healthcheck"]["interval"].rstrip("s")) for s in svcs.values() if "healthcheck" in s)
    assert rate * len(many.profiles) <= CHECKS_PER_SECOND


def test_images_local_built_prod_pinned(project: Project) -> None:
    assert render(project, "acme")["services"]["web"]["image"] == "devenv/shop-web:golden"
    prod = render(project, "acme", "prod")["services"]
    assert prod["web"]["image"].startswith("registry.shop.example/shop/web:2026.11.3@sha256:")
    assert "pull_policy" not in prod["web"]


def test_missing_image_ref_is_a_devenv_error(project: Project) -> None:
    with pytest.raises(DevenvError, match="no image reference for image 'web'"):
        render_compose(project, resolve(project, "acme"), {})


def test_replicas_only_without_ports(project: Project) -> None:
    svcs = render(project, "acme", "prod")["services"]
    assert svcs["worker"]["deploy"] == {"replicas": 4}
    assert "deploy" not in svcs["web"]  # 3 wanted, but a host port binds once
    warnings = compose_warnings(project, resolve(project, "acme", "prod"))
    assert any("acme/web: 3 replicas" in w for w in warnings)


def test_dollar_is_escaped(project: Project) -> None:
    spec = resolve(project, "acme")
    spec = with_workload(spec, "web", env={**spec.workloads["web"].env, "PRICE": "$5"})
    assert render_compose(project, spec, fixed_images(project))["services"]["web"]["environment"]["PRICE"] == "$$5"


def test_fragments_merge_into_component_and_file(project: Project, sample: Path) -> None:
    (sample / "compose" / "override.yaml").write_text("services:\n  web:\n    environment: {EXTRA: '1'}\n")
    (sample / "compose" / "nosuch.yaml").write_text("shm_size: 1g\n")
    frags = load_fragments(sample)
    doc = render(project, "acme", fragments=frags)
    assert doc["services"]["postgres"]["shm_size"] == "128m"
    assert doc["services"]["web"]["environment"]["EXTRA"] == "1"
    assert doc["services"]["web"]["environment"]["TENANT"] == "acme"  # merged, not replaced
    assert "nosuch" not in doc["services"]
    assert any("nosuch.yaml" in w for w in compose_warnings(project, resolve(project, "acme"), frags))


def test_a_fragment_is_typed_as_compose_types_it(project: Project, sample: Path) -> None:
    """go-yaml v3, not YAML 1.1: `on` is a string and `2222:22` a port mapping, not 133342."""
    (sample / "compose" / "web.yaml").write_text("environment: {FEATURE: on, LEGACY: no}\nports: [2222:22]\n")
    frags = load_fragments(sample)
    assert frags["services"]["web"] == {"environment": {"FEATURE": "on", "LEGACY": "no"}, "ports": ["2222:22"]}


def test_fragment_for_disabled_component_is_skipped(project: Project) -> None:
    doc = render(project, "globex", fragments={"services": {"scheduler": {"shm_size": "1g"}}})
    assert "scheduler" not in doc["services"]


def test_bad_fragment_is_reported(sample: Path) -> None:
    (sample / "compose" / "web.yaml").write_text("- not a mapping\n")
    with pytest.raises(DevenvError, match="not a mapping"):
        load_fragments(sample)


def test_deep_merge_replaces_lists() -> None:
    assert deep_merge({"a": {"b": 1, "c": [1]}}, {"a": {"c": [2], "d": 3}}) == {"a": {"b": 1, "c": [2], "d": 3}}


def test_duration() -> None:
    assert (duration(2.0), duration(0.5), duration(0)) == ("2s", "500ms", "0s")


def test_output_is_valid_yaml_roundtrip(project: Project) -> None:
    doc = render(project, "initech")
    assert yaml.safe_load(dump(doc)) == doc


def test_http_probe_starts_no_interpreter_and_checks_the_status(tmp_path: Path) -> None:
    """Run the rendered probe (as compose unescapes it) with /bin/sh against a local server."""
    import http.server
    import shutil
    import subprocess
    import threading

    from devenv.render.compose import http_probe

    if shutil.which("bash") is None:
        pytest.skip("bash is needed to run the probe's main path")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/healthz" else 503)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        def probe(path: str) -> int:
            script = http_probe(port, path)[1]
            return subprocess.run(["sh", "-c", script], capture_output=True, timeout=20).returncode

        assert probe("/healthz") == 0
        assert probe("/broken") != 0
    finally:
        server.shutdown()


# What the sample leaves out (no entrypoint, user or working_dir; every check names its port): the
# fields a project's own devenv.yaml reaches, asserted as the compose file shows them.

def test_entrypoint_command_user_and_working_dir_reach_the_service(project: Project) -> None:
    spec = with_workload(resolve(project, "acme"), "web", entrypoint=("/bin/sh", "-c"), command=("echo $HOME",),
                         user="1000:1000", working_dir="/srv/$app")
    web = render_compose(project, spec, fixed_images(project))["services"]["web"]
    assert web["entrypoint"] == ["/bin/sh", "-c"]
    assert web["command"] == ["echo $$HOME"]  # compose would interpolate a lone `$`
    assert web["user"] == "1000:1000"
    assert web["working_dir"] == "/srv/$$app"


def test_an_http_check_without_port_or_path_probes_the_first_port_at_the_root(project: Project) -> None:
    from devenv.model.types import Health, PublishedPort

    ports = (PublishedPort("http", 8000, 18000, True), PublishedPort("admin", 9000, 18001, True))
    spec = with_workload(resolve(project, "acme"), "web", health=Health(), ports=ports)
    script = render_compose(project, spec, fixed_images(project))["services"]["web"]["healthcheck"]["test"][1]
    assert "/dev/tcp/127.0.0.1/8000" in script and "GET / HTTP/1.0" in script
    assert "http://127.0.0.1:8000/'" in script  # the python3 fallback asks the same URL
    # a named port wins over the first one
    spec = with_workload(spec, "web", health=Health(http="/up", port=9000))
    script = render_compose(project, spec, fixed_images(project))["services"]["web"]["healthcheck"]["test"][1]
    assert "/dev/tcp/127.0.0.1/9000" in script and "GET /up HTTP/1.0" in script


def test_an_http_check_of_a_component_without_ports_probes_port_80(project: Project) -> None:
    from devenv.model.types import Health

    spec = with_workload(resolve(project, "acme"), "worker", health=Health(), ports=())
    script = render_compose(project, spec, fixed_images(project))["services"]["worker"]["healthcheck"]["test"][1]
    assert "/dev/tcp/127.0.0.1/80 " in script and "http://127.0.0.1:80/'" in script


def test_prod_keeps_a_check_interval_under_a_second(project: Project) -> None:
    from devenv.model.types import Health

    spec = with_workload(resolve(project, "acme", "prod"), "redis", health=Health(cmd=("true",), interval=0.5))
    check = render_compose(project, spec, fixed_images(project))["services"]["redis"]["healthcheck"]
    assert check["interval"] == "500ms" and check["test"] == ["CMD", "true"]


def test_the_interval_floor_keeps_its_tenths(project: Project) -> None:
    """3 profiles x 4 checked components / 5 checks a second: 2.4 s, not rounded to whole seconds."""
    from devenv.model.types import Health
    from devenv.render.compose import interval_floor

    comps = {n: (replace(c, health=None) if n == "worker" else c) for n, c in project.app.components.items()}
    assert sum(1 for c in comps.values() if c.health is not None) == 4
    fewer = replace(project, app=replace(project.app, components=comps))
    assert interval_floor(fewer) == 2.4
    spec = with_workload(resolve(fewer, "acme"), "redis", health=Health(cmd=("true",), interval=1))
    assert render_compose(fewer, spec, fixed_images(fewer))["services"]["redis"]["healthcheck"]["interval"] == "2400ms"


def test_a_stopped_dependency_is_not_waited_for(project: Project) -> None:
    """postgres at ``replicas: 0`` never becomes healthy: api waits for redis only (and for
    everything after the stopped one: api lists postgres first)."""
    spec = with_workload(resolve(project, "acme"), "postgres", replicas=0)
    svcs = render_compose(project, spec, fixed_images(project))["services"]
    assert list(spec.workloads["api"].depends_on)[0] == "postgres"
    assert svcs["api"]["depends_on"] == {"redis": {"condition": "service_healthy"}}
    assert svcs["postgres"]["deploy"] == {"replicas": 0}


def test_one_env_file_for_all_reaches_only_the_services_with_secrets(project: Project) -> None:
    doc = render(project, "acme", secrets_env_file="/tmp/acme.env")
    with_secrets = {name for name, w in resolve(project, "acme").workloads.items() if w.secret_env}
    assert with_secrets and with_secrets != set(doc["services"])
    assert {name for name, svc in doc["services"].items() if "env_file" in svc} == with_secrets
    assert all(doc["services"][n]["env_file"] == ["/tmp/acme.env"] for n in with_secrets)


def test_two_replicas_without_ports_are_deployed_and_with_ports_warned(project: Project) -> None:
    spec = with_workload(resolve(project, "acme"), "worker", replicas=2)
    spec = with_workload(spec, "web", replicas=2)
    svcs = render_compose(project, spec, fixed_images(project))["services"]
    assert svcs["worker"]["deploy"] == {"replicas": 2}
    assert "deploy" not in svcs["web"]
    assert compose_warnings(project, spec) == [
        "acme/web: 2 replicas wanted, running 1: a published host port can be bound by one container only"]


def test_one_replica_with_ports_needs_no_warning(project: Project) -> None:
    spec = resolve(project, "acme")
    assert any(w.ports for w in spec.workloads.values()) and compose_warnings(project, spec) == []


def test_missing_image_errors_name_the_fix(project: Project) -> None:
    with pytest.raises(DevenvError) as exc:
        render_compose(project, resolve(project, "acme"), {})
    assert exc.value.hint == "build the image first; the builder supplies its content tag"
    spec = with_workload(resolve(project, "acme"), "web", build_image=None, image_ref=None)
    with pytest.raises(DevenvError) as exc:
        render_compose(project, spec, fixed_images(project))
    assert exc.value.message == "component web has neither an image to build nor a reference"


def test_rendering_with_fragments_leaves_the_fragments_and_the_input_untouched(project: Project) -> None:
    """A fragment is applied to every tenant's file: a render that shared its lists or mappings
    with the fragments (or edited its input) would leak one tenant's file into the next."""
    import copy

    from devenv.render.compose import apply_fragments

    frags = {"services": {"web": {"environment": {"EXTRA": "1"}, "sysctls": [["a", "b"]]}},
             "override": {"x-notes": {"list": [[1]]}}}
    before = copy.deepcopy(frags)
    doc = render(project, "acme")
    doc_before = copy.deepcopy(doc)
    out = apply_fragments(doc, frags)
    assert doc == doc_before
    out["services"]["web"]["environment"]["EXTRA"] = "2"
    out["services"]["web"]["sysctls"][0].append("c")
    out["x-notes"]["list"][0].append(2)
    assert frags == before
    extra = {"a": [[1]]}
    replaced = deep_merge({"a": 1}, extra)  # a list replaces a scalar: a copy, nested lists too
    replaced["a"][0].append(2)
    assert extra == {"a": [[1]]}


def test_deep_merge_replaces_a_mapping_by_a_scalar_and_back() -> None:
    assert deep_merge({"a": {"b": 1}}, {"a": "x"}) == {"a": "x"}
    assert deep_merge({"a": "x"}, {"a": {"b": 1}}) == {"a": {"b": 1}}
    assert deep_merge({"a": [1]}, {"a": {"b": 1}}) == {"a": {"b": 1}}


def test_yml_fragments_are_read_too(project: Project, sample: Path) -> None:
    (sample / "compose" / "web.yml").write_text("shm_size: 64m\n")
    doc = render(project, "acme", fragments=load_fragments(sample))
    assert doc["services"]["web"]["shm_size"] == "64m"


def test_a_fragment_with_a_duplicate_key_is_refused_with_its_line(sample: Path) -> None:
    (sample / "compose" / "web.yaml").write_text("shm_size: 64m\nshm_size: 1g\n")
    with pytest.raises(DevenvError) as exc:
        load_fragments(sample)
    assert exc.value.message.startswith("cannot read compose fragment ")
    assert "web.yaml:2: shm_size: duplicate key 'shm_size' (first at line 1)" in exc.value.message
    assert exc.value.hint == "keep one of the two entries"


def test_a_fragment_that_is_not_a_mapping_says_what_a_fragment_holds(sample: Path) -> None:
    (sample / "compose" / "web.yaml").write_text("- not a mapping\n")
    with pytest.raises(DevenvError) as exc:
        load_fragments(sample)
    assert exc.value.message == f"compose fragment {sample / 'compose' / 'web.yaml'} is not a mapping"
    assert exc.value.hint == "a fragment holds service keys, e.g. `shm_size: 128m`"
