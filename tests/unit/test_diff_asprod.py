"""``resolve_as_prod``, ``compare`` (what ``devenv diff`` prints) and ``check_images_present``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import docker.errors
import pytest

from devenv.commands.diff import format_table, shorten, tenant_differences
from devenv.errors import DevenvError
from devenv.model import load_project, resolve
from devenv.model.asprod import UNEXPLAINED, check_images_present, compare, resolve_as_prod, split_ref
from devenv.model.types import Difference, Project
from tests.unit.test_import_roundtrip import make_project

WEB_PIN = ("registry.shop.example/shop/web:2026.11.3@sha256:"
           "9f1c1ad2a3f5b0e6c4d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return load_project(make_project(tmp_path_factory.mktemp("asprod") / "shop"))[0]


def by_key(diffs: tuple[Difference, ...] | list[Difference]) -> dict[tuple[str, str], Difference]:
    return {(d.component, d.field): d for d in diffs}


def test_as_prod_runs_pinned_images_except_dev(project: Project) -> None:
    spec = resolve_as_prod(project, "acme", ("web",))
    web, api = spec.workloads["web"], spec.workloads["api"]
    assert web.build_image == "web" and web.image_ref is None and web.watch  # built and watched
    assert api.build_image is None and api.image_ref == "registry.shop.example/shop/api:2026.11.3"
    assert api.watch == ()
    assert spec.workloads["worker"].replicas == 4  # no published port: production's count
    assert spec.workloads["api"].resources is not None  # production resources kept
    d = by_key(spec.differences)
    assert d[("web", "image")].prod == WEB_PIN and d[("web", "image")].reason.startswith("--dev")
    assert d[("api", "replicas")].local == "1"


def test_as_prod_on_kind_keeps_replicas_and_placement(project: Project) -> None:
    spec = resolve_as_prod(project, "acme", (), backend="kind")
    assert spec.workloads["web"].replicas == 3 and spec.workloads["api"].replicas == 2
    fields = {d.field for d in spec.differences}
    assert "replicas" not in fields and "node_selector" not in fields and "resources" not in fields


def test_as_prod_ignores_the_overlay_except_secrets_and_domain(project: Project) -> None:
    spec = resolve_as_prod(project, "globex")
    assert "LOG_LEVEL" not in spec.workloads["api"].env  # the overlay's env is a local-only change
    assert spec.domains == ("globex.localhost",)
    assert spec.secret_values == {"shop-db": {"password": "devpass"}}
    assert spec.env == "local"


def test_secrets_are_differences_with_reasons(project: Project) -> None:
    d = by_key(resolve_as_prod(project, "acme").differences)
    assert d[("*", "secret shop-db/password")].local == "dev value from the overlay"
    missing = d[("*", "secret acme-payments/api-key")]
    assert missing.local == "generated locally" and missing.reason.startswith("missing secret")


def test_dev_names_are_checked(project: Project) -> None:
    with pytest.raises(DevenvError) as err:
        resolve_as_prod(project, "acme", ("wbe",))
    assert "did you mean 'web'" in err.value.hint
    with pytest.raises(DevenvError, match="does not run scheduler"):
        resolve_as_prod(project, "globex", ("scheduler",))


@pytest.mark.parametrize("tenant", ["acme", "globex", "initech"])
@pytest.mark.parametrize("as_prod", [False, True])
@pytest.mark.parametrize("backend", ["compose", "kind"])
def test_every_difference_has_a_reason(project: Project, tenant: str, as_prod: bool, backend: str) -> None:
    diffs = tenant_differences(project, tenant, as_prod, ("worker",) if as_prod else (), backend)
    assert diffs
    assert [d for d in diffs if d.reason == UNEXPLAINED] == []


def test_plain_local_diff_names_overlay_changes(project: Project) -> None:
    d = by_key(tenant_differences(project, "globex", False, (), "compose"))
    assert d[("api", "env LOG_LEVEL")].reason == "local overlay: env"
    assert d[("web", "replicas")].reason == "local overlay: replicas"
    assert d[("web", "resources")].reason == "local overlay: drop_resources"
    assert ("*", "domains") in d and ("*", "node_selector") in d
    initech = by_key(tenant_differences(project, "initech", False, (), "compose"))
    assert ("api", "enabled") not in initech  # disabled in production too: not a difference


def test_compare_flags_what_nobody_explained(project: Project) -> None:
    from dataclasses import replace

    prod = resolve(project, "acme", "prod")
    web = replace(prod.workloads["web"], replicas=7)
    local = replace(prod, workloads={**prod.workloads, "web": web}, differences=())
    assert by_key(compare(prod, local))[("web", "replicas")].reason == UNEXPLAINED


def test_table_shortens_digests() -> None:
    assert shorten(WEB_PIN) == "registry.shop.example/shop/web:2026.11.3@sha256:9f1c1ad2a3f5…"
    table = format_table([Difference("web", "image", WEB_PIN, "built from source (web)", "--dev")])
    assert table.splitlines()[0].split() == ["COMPONENT", "FIELD", "PRODUCTION", "LOCAL", "REASON"]


def test_split_ref() -> None:
    assert split_ref("reg:5000/a/b:1.2@sha256:ab") == ("reg:5000/a/b", "1.2", "sha256:ab")
    assert split_ref("reg:5000/a/b") == ("reg:5000/a/b", None, None)
    assert split_ref("b@sha256:ab") == ("b", None, "sha256:ab")


# --------------------------------------------------------------------------- image presence


class FakeImage:
    def __init__(self, repo_digests: list[str] | None = None) -> None:
        self.attrs = {"RepoDigests": repo_digests or []}


class FakeImages:
    def __init__(self, present: dict[str, FakeImage], pullable: set[str]) -> None:
        self.present = present
        self.pullable = pullable
        self.pulled: list[tuple[str, str | None]] = []

    def get(self, name: str) -> FakeImage:
        if name in self.present:
            return self.present[name]
        raise docker.errors.ImageNotFound(f"No such image: {name}")

    def pull(self, repo: str, tag: str | None = None) -> FakeImage:
        self.pulled.append((repo, tag))
        ref = f"{repo}@{tag}" if tag and tag.startswith("sha256:") else f"{repo}:{tag}"
        if ref not in self.pullable:
            raise docker.errors.APIError("pull access denied", explanation="dial tcp: lookup registry.shop.example")
        self.present[ref] = FakeImage()
        return self.present[ref]


class FakeClient:
    def __init__(self, present: dict[str, FakeImage] | None = None, pullable: set[str] | None = None) -> None:
        self.images = FakeImages(present or {}, pullable or set())


def pinned_refs(project: Project, tenant: str, dev: tuple[str, ...] = ()) -> list[str]:
    spec = resolve_as_prod(project, tenant, dev)
    return [w.image_ref for w in spec.workloads.values() if w.image_ref]


def test_all_present_is_quiet(project: Project) -> None:
    client = FakeClient({ref: FakeImage() for ref in pinned_refs(project, "acme")})
    assert check_images_present(resolve_as_prod(project, "acme"), client) == []
    assert client.images.pulled == []


def test_missing_and_unpullable_names_image_and_fixes(project: Project) -> None:
    refs = [r for r in pinned_refs(project, "acme") if "/api:" not in r]
    client = FakeClient({r: FakeImage() for r in refs})
    with pytest.raises(DevenvError) as err:
        check_images_present(resolve_as_prod(project, "acme"), client)
    assert "api: registry.shop.example/shop/api:2026.11.3" in err.value.message
    assert "pull failed" in err.value.message
    for fix in ("docker pull registry.shop.example/shop/api:2026.11.3", "docker load -i",
                "docker tag <local image> registry.shop.example/shop/api:2026.11.3", "--dev api"):
        assert fix in err.value.hint


def test_missing_but_pullable_is_pulled_by_digest(project: Project) -> None:
    refs = [r for r in pinned_refs(project, "acme") if "/web:" not in r]
    web_by_digest = "registry.shop.example/shop/web@sha256:" + WEB_PIN.rsplit(":", 1)[1]
    client = FakeClient({r: FakeImage() for r in refs}, pullable={web_by_digest})
    assert check_images_present(resolve_as_prod(project, "acme"), client) == []
    assert client.images.pulled == [("registry.shop.example/shop/web", "sha256:" + WEB_PIN.rsplit(":", 1)[1])]


def test_digest_pin_matched_by_tag(project: Project) -> None:
    refs = [r for r in pinned_refs(project, "acme") if "/web:" not in r]
    tag_only = WEB_PIN.split("@")[0]
    loaded = FakeClient({**{r: FakeImage() for r in refs}, tag_only: FakeImage()})
    warnings = check_images_present(resolve_as_prod(project, "acme"), loaded, pull=False)
    assert len(warnings) == 1 and "cannot be verified" in warnings[0]
    other = FakeClient({**{r: FakeImage() for r in refs},
                        tag_only: FakeImage(["registry.shop.example/shop/web@sha256:" + "0" * 64])})
    with pytest.raises(DevenvError, match="is present but is not sha256:9f1c"):
        check_images_present(resolve_as_prod(project, "acme"), other, pull=False)


class EngineDown:
    """An SDK client whose engine does not answer."""

    class images:  # noqa: N801 - mimics the SDK's attribute
        @staticmethod
        def get(name: str) -> Any:
            raise ConnectionError("connection refused")


def test_dev_components_are_not_checked(project: Project) -> None:
    refs = [r for r in pinned_refs(project, "acme") if "/web:" not in r]
    client = FakeClient({r: FakeImage() for r in refs})
    assert check_images_present(resolve_as_prod(project, "acme", ("web",)), client) == []


def test_engine_down_is_an_engine_error(project: Project) -> None:
    from devenv.errors import EngineError

    with pytest.raises(EngineError):
        check_images_present(resolve_as_prod(project, "acme"), EngineDown())


def test_repo_fixture_profiles_load(tmp_path: Path) -> None:
    """The bundled sample's tenants all resolve in as-prod mode (a smoke test for `up --as-prod`)."""
    project = load_project(make_project(tmp_path / "shop"))[0]
    for tenant in project.profiles:
        assert resolve_as_prod(project, tenant).workloads


# --------------------------------------------------------------------------- what the user reads


def with_image(project: Project, ref: str, dev: tuple[str, ...] = ()) -> Any:
    from dataclasses import replace

    spec = resolve_as_prod(project, "acme", dev)
    return replace(spec, workloads={**spec.workloads, "api": replace(spec.workloads["api"], image_ref=ref)})


def test_the_whole_missing_image_error_and_its_three_fixes(project: Project) -> None:
    api = "registry.shop.example/shop/api:2026.11.3"
    client = FakeClient({r: FakeImage() for r in pinned_refs(project, "acme") if r != api})
    with pytest.raises(DevenvError) as err:
        check_images_present(resolve_as_prod(project, "acme"), client)
    assert client.images.pulled == [("registry.shop.example/shop/api", "2026.11.3")]
    assert err.value.message == ("tenant acme: 1 pinned production image(s) are not on this machine and could not be "
                                 f"pulled:\n    api: {api} (pull failed: dial tcp: lookup registry.shop.example)")
    assert err.value.hint == (
        "provide each image one of three ways: `docker login registry.shop.example` then "
        f"`docker pull {api}`; or on a machine that has it `docker save {api} -o image.tar`, here "
        f"`docker load -i image.tar`; or reuse a local image: `docker tag <local image> {api}` (a digest cannot be "
        "tagged: devenv then accepts the tag and warns). Or build that component from source: --dev api")
    # `up`'s check of backing services: its own words, and no --dev (they are not built from source)
    with pytest.raises(DevenvError) as err:
        check_images_present(resolve_as_prod(project, "acme"), FakeClient({r: FakeImage() for r in pinned_refs(
            project, "acme") if r != api}), pull=False, what="backing service image(s)", dev_hint=False)
    assert err.value.message == ("tenant acme: 1 backing service image(s) are not on this machine and could not be "
                                 f"pulled:\n    api: {api}")
    assert err.value.hint.endswith("(a digest cannot be tagged: devenv then accepts the tag and warns).")


def test_every_missing_image_is_listed_after_a_component_built_from_source(project: Project) -> None:
    """web is built (--dev web): the check goes on to the pinned ones after it."""
    with pytest.raises(DevenvError) as err:
        check_images_present(resolve_as_prod(project, "acme", ("web",)), FakeClient(), pull=False)
    listed = err.value.message.split("\n    ")[1:]
    assert [line.split(": ")[0] for line in listed] == [
        n for n, w in resolve_as_prod(project, "acme", ("web",)).workloads.items() if w.image_ref]
    assert "web" not in [line.split(": ")[0] for line in listed]
    assert err.value.message.startswith(f"tenant acme: {len(listed)} pinned production image(s)")


@pytest.mark.parametrize(("ref", "login"), [
    ("registry.shop.example/shop/api:1", "registry.shop.example"), ("reg:5000/api:1", "reg:5000"),
    ("localhost/api:1", "localhost"), ("shop/api:1", "docker.io"), ("api:1", "docker.io"),
    ("tools.example/a/b.c/api:1", "tools.example")])
def test_the_hint_logs_in_to_the_images_registry(project: Project, ref: str, login: str) -> None:
    with pytest.raises(DevenvError) as err:
        check_images_present(with_image(project, ref), FakeClient({r: FakeImage() for r in pinned_refs(
            project, "acme") if "/api:" not in r}), pull=False)
    assert f"`docker login {login}` then `docker pull {ref}`" in err.value.hint


def test_an_untagged_image_is_pulled_as_latest_and_a_failure_shows_its_first_line(project: Project) -> None:
    class Refusing(FakeImages):
        def pull(self, repo: str, tag: str | None = None) -> FakeImage:
            self.pulled.append((repo, tag))
            raise OSError("x" * 200 + "\nsecond line")

    client = FakeClient({r: FakeImage() for r in pinned_refs(project, "acme") if "/api:" not in r})
    client.images = Refusing(client.images.present, set())
    with pytest.raises(DevenvError) as err:
        check_images_present(with_image(project, "localhost:5000/tools"), client)
    assert client.images.pulled == [("localhost:5000/tools", "latest")]
    assert err.value.message.endswith(f"api: localhost:5000/tools (pull failed: {'x' * 160})")


def test_engine_down_says_what_was_asked_and_how_to_start_it(project: Project) -> None:
    with pytest.raises(DevenvError) as err:
        check_images_present(resolve_as_prod(project, "acme"), EngineDown())
    assert err.value.message == "the Docker engine did not answer an image lookup (ConnectionError)"
    assert err.value.hint == "check `docker info`; `devenv doctor` says how to start the engine"


def test_production_only_fields_are_listed_with_the_backends_reason() -> None:
    from devenv.model.asprod import workload_backend_differences
    from devenv.model.types import Health, Placement, Workload

    probes = {"readiness": {"httpGet": {"path": "/ready", "port": 8080}}, "liveness": {"httpGet": {}},
              "startup": {"tcpSocket": {"port": 5432}}}
    w = Workload("api", "app", None, "api:1", None, 1, None, {}, (), (), Health(), (), (), (),
                 placement=Placement(node_selector={"b": "2", "a": "1"}, tolerations=({"key": "x"}, {"key": "y"}),
                                     affinity={"podAntiAffinity": {}, "nodeAffinity": {}}),
                 probes=probes, service_account="api-sa")
    compose = {d.field: d for d in workload_backend_differences(w, "compose")}
    assert compose["placement"] == Difference(
        "api", "placement", "nodeSelector a=1, b=2; 2 toleration(s); affinity nodeAffinity+podAntiAffinity",
        "none (any local node)", "backend compose: compose has one host and no scheduler; `render --env prod` emits it")
    assert compose["probes"] == Difference(
        "api", "probes", "liveness http /:?, readiness http /ready:8080, startup tcp :5432", "devenv.yaml health check",
        "backend compose: one healthcheck per service (production's would restart a paused or debugged container); "
        "`render --env prod` emits them")
    assert compose["service_account"] == Difference(
        "api", "service_account", "api-sa", "none", "backend compose: production's service accounts and their RBAC "
        "are not reproduced locally; `render --env prod` emits it")
    kind = {d.field: d for d in workload_backend_differences(replace_fields(w, health=None, probes={
        "liveness": {"exec": {"command": ["pg_isready", "-q"]}}, "startup": {"tcpSocket": {}},
        "readiness": {"grpc": {"port": 1}}}, placement=Placement(tolerations=({"key": "x"},))), "kind")}
    assert kind["placement"].prod == "1 toleration(s)"
    assert kind["placement"].reason.startswith("backend kind: the local kind cluster has no production node pools;")
    assert kind["probes"].prod == "liveness exec pg_isready -q, readiness grpc, startup tcp :?"
    assert kind["probes"].local == "none"
    assert "devenv.yaml's readiness probe locally" in kind["probes"].reason
    bare = replace_fields(w, probes={"liveness": {"exec": {}}, "startup": {}}, placement=Placement(affinity={"z": {}}))
    assert {d.field: d.prod for d in workload_backend_differences(bare, "kind")} == {
        "placement": "affinity z", "probes": "liveness exec , startup probe", "service_account": "api-sa"}


def replace_fields(w: Any, **changes: Any) -> Any:
    from dataclasses import replace

    return replace(w, **changes)


def test_compare_lists_every_field_that_differs_in_order(project: Project) -> None:
    """Each kind of change made to a copy of production's spec shows as one row, in the order
    ``devenv diff`` prints them, with production's value and the local one as the user reads them."""
    from dataclasses import replace

    from devenv.model.types import Resources, SecretRef

    prod = resolve(project, "acme", "prod")
    web = prod.workloads["web"]
    local_web = replace(web, build_image="web", image_ref=None, replicas=1, resources=Resources(requests={"cpu": "1"}),
                        env={**{k: v for k, v in web.env.items() if k != "TENANT"}, "SHOP_TITLE": "Local", "NEW": "1"},
                        secret_env=(SecretRef("shop-db", "password", "DATABASE_PASSWORD"),))
    workloads = {n: w for n, w in prod.workloads.items() if n != "worker"}
    workloads["web"] = local_web
    workloads["extra"] = replace(prod.workloads["api"], name="extra")
    local = replace(prod, env="local", workloads=workloads, domains=("acme.localhost", "x.localhost"),
                    node_selector={}, labels={"plan": "dev"}, features={"new_checkout": False, "bulk_export": True})
    rows = [(d.component, d.field, d.prod, d.local) for d in compare(prod, local)]
    assert rows == [
        ("worker", "enabled", "yes", "no"),
        ("extra", "enabled", "no", "yes"),
        ("web", "image", WEB_PIN, "built from source (web)"),
        ("web", "replicas", "3", "1"),
        ("web", "resources", "requests cpu=500m, requests memory=512Mi, limits cpu=1, limits memory=1Gi",
         "requests cpu=1"),
        ("web", "env NEW", "(unset)", "1"),
        ("web", "env SHOP_TITLE", "ACME Corporation", "Local"),
        ("web", "env TENANT", "acme", "(unset)"),
        ("web", "secret refs", "DATABASE_PASSWORD=shop-db/password, PAYMENTS_API_KEY=acme-payments/api-key",
         "DATABASE_PASSWORD=shop-db/password"),
        ("*", "domains", "acme.shop.example", "acme.localhost, x.localhost"),
        ("*", "node_selector", "devenv.dev/pool=dedicated, devenv.dev/tenant=acme", "none"),
        ("*", "labels", "plan=enterprise, region=eu-west-1", "plan=dev"),
        ("*", "features", "bulk_export=true, new_checkout=true", "bulk_export=true, new_checkout=false"),
    ]
    assert {d.reason for d in compare(prod, local)} == {UNEXPLAINED}
    none = replace(local_web, resources=None, secret_env=())
    rows = {d.field: (d.prod, d.local) for d in compare(prod, replace(local, workloads={**workloads, "web": none}))}
    assert rows["resources"][1] == "none" and rows["secret refs"][1] == "none"
    assert compare(prod, prod) == []


def rows_of(diffs: tuple[Difference, ...] | list[Difference]) -> list[tuple[str, str, str, str, str]]:
    return [(d.component, d.field, d.prod, d.local, d.reason) for d in diffs]


def test_as_prod_records_each_change_a_laptop_needs_with_its_reason(project: Project) -> None:
    """``devenv diff --as-prod``'s rows for acme with web built from source, on compose."""
    rows = rows_of(resolve_as_prod(project, "acme", ("web",)).differences)
    scale = "compose publishes one host port per component (kind keeps production's count)"
    no_limits = "backend compose: requests/limits not applied; use --backend kind"
    assert rows == [
        ("web", "image", WEB_PIN, "built from source (web)", "--dev: built from source and watched"),
        ("web", "replicas", "3", "1", scale),
        ("api", "replicas", "2", "1", scale),
        ("*", "secret shop-db/password", "production secret", "dev value from the overlay",
         "overlay: secrets are never copied from production"),
        ("*", "secret acme-payments/api-key", "production secret", "generated locally",
         "missing secret: no dev value in devenv.local.yaml/devenv.personal.yaml"),
        ("*", "domains", "acme.shop.example", "acme.localhost", "overlay: domain (production's names point at production)"),
        ("*", "node_selector", "devenv.dev/pool=dedicated, devenv.dev/tenant=acme", "none (one local host)",
         "backend compose: no placement; use --backend kind for node selectors"),
        ("web", "resources", "requests cpu=500m, requests memory=512Mi, limits cpu=1, limits memory=1Gi",
         "not enforced", no_limits),
        ("api", "resources", "requests cpu=250m, requests memory=256Mi", "not enforced", no_limits),
    ]
    spec = resolve_as_prod(project, "acme", ("web",))
    assert (spec.workloads["web"].replicas, spec.workloads["api"].replicas, spec.workloads["worker"].replicas) == (1, 1, 4)
    assert spec.workloads["web"].watch and spec.secret_values == {"shop-db": {"password": "devpass"}}
    kind = resolve_as_prod(project, "acme", backend="kind")
    assert [r[:2] for r in rows_of(kind.differences)] == [("*", "secret shop-db/password"),
                                                          ("*", "secret acme-payments/api-key"), ("*", "domains")]
    assert kind.workloads["web"].replicas == 3


def test_a_component_without_a_pinned_image_is_built_and_reported(project: Project) -> None:
    from dataclasses import replace

    profile = project.profiles["acme"]
    worker = replace(profile.components["worker"], image=None)
    unpinned = replace(project, profiles={**project.profiles, "acme": replace(
        profile, components={**profile.components, "worker": worker})})
    spec = resolve_as_prod(unpinned, "acme")
    assert ("worker", "image", "(no image pinned in the profile)", "built from source (worker)",
            "no production image pinned in the profile; `devenv import` pins it") in rows_of(spec.differences)
    assert spec.workloads["worker"].build_image == "worker" and spec.workloads["worker"].watch == ()
    dev = resolve_as_prod(unpinned, "acme", ("worker",))
    assert ("worker", "image", "(no image pinned in the profile)", "built from source (worker)",
            "--dev: built from source and watched") in rows_of(dev.differences)


def test_unknown_tenants_and_dev_names_say_what_exists(project: Project) -> None:
    from dataclasses import replace

    def refusal(*args: Any) -> tuple[str, str]:
        with pytest.raises(DevenvError) as err:
            resolve_as_prod(*args)
        return err.value.message, err.value.hint

    comps = "components: web, api, worker, scheduler, postgres, redis"
    assert refusal(project, "nope") == ("unknown tenant 'nope'", "known tenants: acme, globex, initech")
    assert refusal(project, "acme", ("wbe",)) == ("--dev wbe: no such component", f"did you mean 'web'? {comps}")
    assert refusal(project, "acme", ("zzz",)) == ("--dev zzz: no such component", comps)
    assert refusal(project, "globex", ("scheduler",)) == (
        "--dev scheduler: production does not run scheduler for tenant globex",
        "pick a component the tenant runs (`devenv diff --tenant globex --as-prod` lists them)")
    redis = replace(project.app.components["redis"], image=None, ref="redis:7")
    external = replace(project, app=replace(project.app, components={**project.app.components, "redis": redis}))
    assert refusal(external, "acme", ("redis",)) == ("--dev redis: redis has no image to build in devenv.yaml "
                                                     "(it runs redis:7)", "only components with `image:` can be built from source")


# --------------------------------------------------------------------------- every resolved field
# The project of test_config_cache (every key set to a value that is not its default): alpha (index 0,
# pins nothing but web, disables jobs in production), beta (everything, overlay port_base 30000),
# gamma (index 2, nothing but an empty resources block).


@pytest.fixture(scope="module")
def tailored(tmp_path_factory: pytest.TempPathFactory) -> Project:
    from tests.unit.test_config_cache import write_tailored

    return load_project(write_tailored(tmp_path_factory.mktemp("tailored")))[0]


def beta_web(tailored: Project) -> Any:
    from devenv.model.types import Placement, PublishedPort, Resources, SecretRef, Volume, Workload

    comp = tailored.app.components["web"]
    return Workload(
        name="web", role="app", build_image=None, image_ref="registry.example/tailor/web:2.0",
        command=("sh", "-c", "python -m web --port 8000"), replicas=3,
        resources=Resources({"cpu": "250m", "memory": "256Mi"}, {"cpu": "1", "memory": "1Gi"}),
        env={"SHARED": "from-profile-web", "APP_WIDE": "1", "WEB_ONLY": "yes-web", "FLAG_ON": "true",
             "FLAG_OFF": "false", "NUM": "42", "NOTHING": "", "TENANT_ONLY": "beta-env",
             "FEATURE_DARK_MODE": "false", "FEATURE_NEW_CHECKOUT": "true", "TENANT": "beta",
             "WEB_TENANT": "beta-web"},
        secret_env=(SecretRef("beta-db", "password", "DATABASE_PASSWORD"), SecretRef("beta-pay", "api-key", "PAY_KEY"),
                    SecretRef("web-keys", "signing", "SIGNING_KEY")),
        ports=(PublishedPort("http", 8000, 30000, True), PublishedPort("admin", 9000, 30001, False)),
        health=comp.health, depends_on=("db", "cache"), volumes=(Volume("uploads", "/srv/uploads"),), watch=(),
        restart="always", entrypoint=("tini", "--"), user="1000", working_dir="/srv/web",
        placement=Placement({"gpu": "no"}, ({"key": "dedicated", "operator": "Equal", "value": "beta",
                                             "effect": "NoSchedule"},),
                            {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}}),
        probes={"readiness": {"httpGet": {"path": "/ready", "port": 8000}}, "liveness": {"tcpSocket": {"port": 8000}}},
        service_account="web-sa", kind="StatefulSet")


def test_production_view_of_a_tenant_has_every_field_from_its_profile(
        tailored: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """``render --env prod``'s input: production's images, replicas, resources, env (app, then tenant,
    then features and TENANT, then the component's own), secrets, placement; ports from the pinned
    base; no overlay at all (the overlay only pins where the ports go)."""
    from dataclasses import replace

    from devenv.model.types import PublishedPort, SecretRef, TenantSpec, Workload

    monkeypatch.delenv("DEVENV_PROJECT_PREFIX", raising=False)
    web = beta_web(tailored)
    db_comp = tailored.app.components["db"]
    jobs = Workload(
        name="jobs", role="app", build_image=None, image_ref="registry.example/tailor/jobs:1.0",
        command=("run-jobs", "--all"), replicas=2, resources=None,
        env={"SHARED": "from-profile", "APP_WIDE": "1", "TENANT_ONLY": "beta-env", "FEATURE_DARK_MODE": "false",
             "FEATURE_NEW_CHECKOUT": "true", "TENANT": "beta"},
        secret_env=(SecretRef("beta-db", "password", "DATABASE_PASSWORD"), SecretRef("beta-pay", "api-key", "PAY_KEY"),
                    SecretRef("web-keys", "other", "SIGNING_KEY")),
        ports=(), health=tailored.app.components["jobs"].health, depends_on=("db",), volumes=(), watch=())
    db = Workload(
        name="db", role="service", build_image=None, image_ref="registry.example/tailor/db:15", command=None,
        replicas=1, resources=None, env={"POSTGRES_DB": "tailor"},
        secret_env=(SecretRef("beta-db", "password", "POSTGRES_PASSWORD"),),  # its own only: a backing service
        ports=(PublishedPort("pg", 5432, 30002, False),), health=db_comp.health, depends_on=(), volumes=(), watch=())
    cache = Workload(name="cache", role="service", build_image=None, image_ref="redis:7", command=None, replicas=1,
                     resources=None, env={}, secret_env=(), ports=(), health=None, depends_on=(), volumes=(), watch=())
    assert resolve(tailored, "beta", "prod") == TenantSpec(
        name="beta", env="prod", project="devenv-beta", namespace="prod-beta", labels={"plan": "gold", "tier": "2"},
        node_selector={"pool": "beta", "ssd": "true"}, workloads={"web": web, "jobs": jobs, "db": db, "cache": cache},
        domains=("beta.tailor.example", "www.beta.tailor.example"), features={"new-checkout": True, "dark_mode": False},
        secret_values={}, differences=())
    # alpha: tenant index 0 of 3, nothing pinned but web's image; jobs is off in production
    alpha = resolve(tailored, "alpha", "prod")
    assert list(alpha.workloads) == ["web", "db", "cache"] and alpha.namespace == "tenant-alpha"
    assert alpha.workloads["db"] == replace(db, image_ref=None, build_image="db", secret_env=(), ports=(
        PublishedPort("pg", 5432, 21002, False),))  # no image pinned: built from source even for prod
    assert alpha.workloads["web"] == replace(
        web, image_ref="registry.example/tailor/web:1.9", replicas=1, resources=None, secret_env=(),
        env={"SHARED": "from-web", "APP_WIDE": "1", "WEB_ONLY": "yes-web", "FLAG_ON": "true", "FLAG_OFF": "false",
             "NUM": "42", "NOTHING": "", "TENANT": "alpha"},
        ports=(PublishedPort("http", 8000, 21000, True), PublishedPort("admin", 9000, 21001, False)),
        placement=replace(web.placement, node_selector={}, tolerations=(), affinity={}), probes={},
        service_account=None, kind="Deployment")
    # gamma: index 2 of 3 in name order, so port_base + 2 * ports_per_tenant
    assert [p.host for w in resolve(tailored, "gamma", "prod").workloads.values() for p in w.ports] == [
        21020, 21021, 21022]
    monkeypatch.setenv("DEVENV_PROJECT_PREFIX", "ci7")
    assert resolve(tailored, "gamma", "prod").project == "ci7-gamma"


def test_local_view_applies_the_overlay_and_names_each_change(tailored: Project) -> None:
    """``up``'s input for beta: the overlay's replicas, env, build list, disable list, dropped
    resources, dev secrets and domain, each recorded with its reason for ``devenv diff``."""
    from dataclasses import replace

    prod = resolve(tailored, "beta", "prod")
    local = resolve(tailored, "beta", "local")
    web, db = prod.workloads["web"], prod.workloads["db"]
    assert local == replace(
        prod, env="local", domains=("beta.localhost",),
        workloads={
            "web": replace(web, replicas=1, resources=None,
                           env={**web.env, "SHARED": "from-overlay", "DEBUG": "1", "EXTRA": "more"}),
            "db": replace(db, replicas=2, build_image="db", image_ref=None),  # `build: [db]`: only db
            "cache": prod.workloads["cache"]},
        secret_values={"beta-db": {"password": "devpass"}, "beta-pay": {"api-key": "pay-dev-key"}},
        differences=local.differences)
    never = "secrets are never copied from production"
    assert rows_of(local.differences) == [
        ("jobs", "enabled", "yes", "no", "disabled by the local overlay"),
        ("web", "replicas", "3", "1", "local overlay: replicas"),
        ("web", "resources", "requests cpu=250m, requests memory=256Mi, limits cpu=1, limits memory=1Gi", "none",
         "local overlay: drop_resources"),
        ("web", "env SHARED", "from-profile-web", "from-overlay", "local overlay: env"),
        ("web", "env DEBUG", "(unset)", "1", "local overlay: env"),
        ("web", "env EXTRA", "(unset)", "more", "local overlay: env"),
        ("db", "replicas", "1", "2", "local overlay: replicas"),
        ("db", "image", "registry.example/tailor/db:15", "built from source (db)", "local: built from source"),
        ("*", "secret beta-db/password", "production secret", "dev value from the overlay", never),
        ("*", "secret beta-pay/api-key", "production secret", "dev value from the overlay", never),
        ("*", "secret web-keys/signing", "production secret", "generated locally", never),
        ("*", "domains", "beta.tailor.example, www.beta.tailor.example", "beta.localhost", "local overlay: domain"),
    ]
    # what `devenv diff --tenant beta` prints: the specs compared, each row with the reason recorded above
    backend = "backend kind: "
    assert rows_of(tenant_differences(tailored, "beta", False, (), "kind")) == [
        ("web", "replicas", "3", "1", "local overlay: replicas"),
        ("web", "resources", "requests cpu=250m, requests memory=256Mi, limits cpu=1, limits memory=1Gi", "none",
         "local overlay: drop_resources"),
        ("web", "env DEBUG", "(unset)", "1", "local overlay: env"),
        ("web", "env EXTRA", "(unset)", "more", "local overlay: env"),
        ("web", "env SHARED", "from-profile-web", "from-overlay", "local overlay: env"),
        ("web", "placement", "nodeSelector gpu=no; 1 toleration(s); affinity nodeAffinity", "none (any local node)",
         backend + "the local kind cluster has no production node pools; `render --env prod` emits it"),
        ("web", "probes", "liveness tcp :8000, readiness http /ready:8000", "devenv.yaml health check",
         backend + "devenv.yaml's readiness probe locally (production's would restart a paused or debugged "
         "container); `render --env prod` emits them"),
        ("web", "service_account", "web-sa", "none", backend + "production's service accounts and their RBAC "
         "are not reproduced locally; `render --env prod` emits it"),
        ("jobs", "enabled", "yes", "no", "disabled by the local overlay"),
        ("db", "image", "registry.example/tailor/db:15", "built from source (db)", "local: built from source"),
        ("db", "replicas", "1", "2", "local overlay: replicas"),
        ("*", "domains", "beta.tailor.example, www.beta.tailor.example", "beta.localhost", "local overlay: domain"),
        ("*", "secret beta-db/password", "production secret", "dev value from the overlay", never),
        ("*", "secret beta-pay/api-key", "production secret", "dev value from the overlay", never),
        ("*", "secret web-keys/signing", "production secret", "generated locally", never),
    ]


def test_local_view_of_a_tenant_the_overlay_only_defaults(tailored: Project) -> None:
    """alpha gets only the overlay's defaults: every image of devenv.yaml is built from source and
    watched, a pinned one is reported; an overlay secret nobody references is not passed on."""
    from dataclasses import replace

    prod = resolve(tailored, "alpha", "prod")
    local = resolve(tailored, "alpha", "local")
    web = prod.workloads["web"]
    assert local.workloads == {
        "web": replace(web, build_image="web", image_ref=None, watch=tailored.app.components["web"].watch,
                       env={**web.env, "SHARED": "from-overlay", "DEBUG": "1"}),
        "db": replace(prod.workloads["db"], watch=()), "cache": prod.workloads["cache"]}
    assert local.secret_values == {} and local.domains == ("alpha.localhost",)
    assert rows_of(local.differences) == [
        ("web", "env SHARED", "from-web", "from-overlay", "local overlay: env"),
        ("web", "env DEBUG", "(unset)", "1", "local overlay: env"),
        ("web", "image", "registry.example/tailor/web:1.9", "built from source (web)", "local: built from source"),
        ("*", "domains", "", "alpha.localhost", "local overlay: domain"),
    ]
    gamma = resolve(tailored, "gamma", "local")  # `resources: {limits: {}}` in production, dropped locally
    assert ("db", "resources", "none", "none", "local overlay: drop_resources") in rows_of(gamma.differences)
    assert ("db", "resources", "none", "none", "local overlay: drop_resources") in rows_of(
        tenant_differences(tailored, "gamma", False, (), "kind"))  # an empty block reads "none" in `devenv diff`


def test_as_prod_rows_for_a_tenant_with_two_domains_placement_and_a_shared_secret(tailored: Project) -> None:
    """``devenv diff --tenant beta --as-prod`` on compose: the overlay's replicas, env, build and
    disable lists are not applied; each secret the profile names is one row even when a backing
    service takes the same key under another env name; the node selector leads the backend's rows."""
    spec = resolve_as_prod(tailored, "beta")
    assert list(spec.workloads) == ["web", "jobs", "db", "cache"] and spec.workloads["jobs"].replicas == 2
    generated = "missing secret: no dev value in devenv.local.yaml/devenv.personal.yaml"
    compose = "backend compose: "
    assert rows_of(spec.differences) == [
        ("web", "replicas", "3", "1", "compose publishes one host port per component (kind keeps production's count)"),
        ("*", "secret beta-db/password", "production secret", "dev value from the overlay",
         "overlay: secrets are never copied from production"),
        ("*", "secret beta-pay/api-key", "production secret", "dev value from the overlay",
         "overlay: secrets are never copied from production"),
        ("*", "secret web-keys/other", "production secret", "generated locally", generated),
        ("*", "secret web-keys/signing", "production secret", "generated locally", generated),
        ("*", "domains", "beta.tailor.example, www.beta.tailor.example", "beta.localhost",
         "overlay: domain (production's names point at production)"),
        ("*", "node_selector", "pool=beta, ssd=true", "none (one local host)",
         compose + "no placement; use --backend kind for node selectors"),
        ("web", "placement", "nodeSelector gpu=no; 1 toleration(s); affinity nodeAffinity", "none (any local node)",
         compose + "compose has one host and no scheduler; `render --env prod` emits it"),
        ("web", "probes", "liveness tcp :8000, readiness http /ready:8000", "devenv.yaml health check",
         compose + "one healthcheck per service (production's would restart a paused or debugged container); "
         "`render --env prod` emits them"),
        ("web", "service_account", "web-sa", "none", compose + "production's service accounts and their RBAC are "
         "not reproduced locally; `render --env prod` emits it"),
        ("web", "resources", "requests cpu=250m, requests memory=256Mi, limits cpu=1, limits memory=1Gi",
         "not enforced", compose + "requests/limits not applied; use --backend kind"),
    ]
    assert spec.secret_values == {"beta-db": {"password": "devpass"}, "beta-pay": {"api-key": "pay-dev-key"}}


def status_error(code: int) -> docker.errors.APIError:
    import requests

    response = requests.Response()
    response.status_code = code
    return docker.errors.APIError(f"{code}", response=response)


def test_a_digest_pin_is_found_by_digest_or_by_a_tag_that_records_it(project: Project) -> None:
    """Present as ``repo@digest`` (what a pull by digest leaves) or as ``repo:tag`` whose RepoDigests
    hold the digest: no pull, no warning; a tag holding another digest is refused, whole message."""
    others = {r: FakeImage() for r in pinned_refs(project, "acme") if "/web:" not in r}
    repo, digest = "registry.shop.example/shop/web", WEB_PIN.rsplit("@", 1)[1]
    spec = resolve_as_prod(project, "acme")
    by_digest = FakeClient({**others, f"{repo}@{digest}": FakeImage()})
    assert check_images_present(spec, by_digest) == [] and by_digest.images.pulled == []
    by_tag = FakeClient({**others, f"{repo}:2026.11.3": FakeImage(["mirror.example/web@sha256:" + "1" * 64,
                                                                    f"{repo}@{digest}"])})
    assert check_images_present(spec, by_tag) == [] and by_tag.images.pulled == []
    other = FakeClient({**others, f"{repo}:2026.11.3": FakeImage([f"{repo}@sha256:" + "0" * 64])})
    with pytest.raises(DevenvError) as err:
        check_images_present(spec, other, pull=False)
    assert err.value.message == (
        "tenant acme: 1 pinned production image(s) are not on this machine and could not be pulled:\n"
        f"    web: {WEB_PIN} ({repo}:2026.11.3 is present but is not sha256:9f1c1ad2a3f5...)")
    assert f"`docker pull {repo}@{digest}`" in err.value.hint  # by digest: a tag can move
    assert f"`docker save {WEB_PIN} -o image.tar`" in err.value.hint
    assert f"`docker tag <local image> {repo}:2026.11.3`" in err.value.hint
    assert err.value.hint.endswith("--dev web")
    with pytest.raises(DevenvError) as err:  # neither by digest nor by tag, and no pull: no note at all
        check_images_present(spec, FakeClient(others), pull=False)
    assert err.value.message.endswith(f"pulled:\n    web: {WEB_PIN}")


@pytest.mark.parametrize("code", [400, 404])
def test_a_reference_the_engine_rejects_is_missing_but_a_server_error_is_an_engine_error(
        project: Project, code: int) -> None:
    class Rejecting(FakeImages):
        def get(self, name: str) -> FakeImage:
            if "/api" in name:
                raise status_error(self.code)
            return super().get(name)

    client = FakeClient({r: FakeImage() for r in pinned_refs(project, "acme") if "/api:" not in r})
    client.images = Rejecting(client.images.present, set())
    client.images.code = code  # type: ignore[attr-defined]
    with pytest.raises(DevenvError) as err:
        check_images_present(resolve_as_prod(project, "acme"), client, pull=False)
    assert err.value.message.endswith("\n    api: registry.shop.example/shop/api:2026.11.3")
    client.images.code = 500  # type: ignore[attr-defined]
    with pytest.raises(DevenvError) as err:
        check_images_present(resolve_as_prod(project, "acme"), client, pull=False)
    assert err.value.message == "the Docker engine did not answer an image lookup (APIError)"


def test_the_hint_names_the_image_even_when_the_pull_failure_has_parentheses(project: Project) -> None:
    class Refusing(FakeImages):
        def pull(self, repo: str, tag: str | None = None) -> FakeImage:
            raise OSError("connection refused (os error 111) (retried)")

    client = FakeClient({r: FakeImage() for r in pinned_refs(project, "acme") if "/api:" not in r})
    client.images = Refusing(client.images.present, set())
    with pytest.raises(DevenvError) as err:
        check_images_present(with_image(project, "localhost:5000/tools"), client)
    assert err.value.message.endswith(
        "api: localhost:5000/tools (pull failed: connection refused (os error 111) (retried))")
    assert ("`docker login localhost:5000` then `docker pull localhost:5000/tools`; or on a machine that has it "
            "`docker save localhost:5000/tools -o image.tar`") in err.value.hint
    assert "`docker tag <local image> localhost:5000/tools` (a digest" in err.value.hint  # untagged: no ':None'
