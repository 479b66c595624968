"""The validated-configuration cache: a hit returns the same project; any content change of an input
(or of a fact validation read, like a Dockerfile) re-runs the full pass; errors are never cached; a
cache that cannot be written is not an error; a foreign or group-writable cache is not read."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from devenv.errors import ConfigError
from devenv.model import cache
from devenv.model.loader import load_cached, load_project
from devenv.model.types import (
    App,
    Component,
    ComponentProfile,
    Health,
    ImageDef,
    Overlay,
    OverlayTenant,
    Placement,
    Port,
    Profile,
    Resources,
    SecretRef,
    Seed,
    Volume,
    WatchRule,
)

SAMPLE = Path(__file__).resolve().parents[2]


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    for name in ("devenv.yaml", "devenv.local.yaml"):
        shutil.copy(SAMPLE / name, tmp_path / name)
    for name in ("profiles", "examples", "compose"):
        shutil.copytree(SAMPLE / name, tmp_path / name)
    (tmp_path / ".devenv").mkdir(mode=0o700)
    return tmp_path


def test_a_hit_returns_the_same_project_without_a_full_pass(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, warnings = load_cached(root)
    assert first == load_project(root)[0]
    assert cache.cache_path(root).stat().st_mode & 0o777 == 0o600
    monkeypatch.setattr("devenv.model.loader.load_project", lambda *a, **k: pytest.fail("full pass on a hit"))
    again, again_warnings = load_cached(root)
    assert again == first and [str(w) for w in again_warnings] == [str(w) for w in warnings]


@pytest.mark.parametrize("edit", ["devenv.yaml", "devenv.local.yaml", "profiles/acme.yaml",
                                  "new_profile", "personal", "dockerfile"])
def test_any_content_change_reruns_the_full_pass(root: Path, edit: str) -> None:
    load_cached(root)
    if edit == "new_profile":
        shutil.copy(root / "profiles/acme.yaml", root / "profiles/zeta.yaml")
        (root / "profiles/zeta.yaml").write_text((root / "profiles/zeta.yaml").read_text()
                                                 .replace("acme", "zeta"))
    elif edit == "personal":
        (root / "devenv.personal.yaml").write_text("defaults:\n  replicas: {web: 2}\n")
    elif edit == "dockerfile":
        df = root / "examples/shop/web/Dockerfile"
        # still buildable (FROM names a declared ARG), but the parent's BASE_IMAGE is no longer used
        df.write_text(df.read_text().replace("ARG BASE_IMAGE=shop-base", "ARG OTHER=shop-base")
                      .replace("${BASE_IMAGE}", "${OTHER}"))
    else:
        f = root / edit
        f.write_text(f.read_text() + "\n# a comment changes the content\n")
    project, warnings = load_cached(root)
    fresh, fresh_warnings = load_project(root)
    assert project == fresh and [str(w) for w in warnings] == [str(w) for w in fresh_warnings]
    if edit == "new_profile":
        assert "zeta" in project.profiles
    if edit == "dockerfile":
        assert any("ARG BASE_IMAGE" in str(w) for w in warnings)


def test_errors_are_never_cached_and_reported_every_time(root: Path) -> None:
    load_cached(root)
    f = root / "devenv.yaml"
    f.write_text(f.read_text().replace("ports_per_tenant: 20", "ports_per_tenant: many"))
    for _ in range(2):
        with pytest.raises(ConfigError):
            load_cached(root)


def test_a_cache_that_cannot_be_written_is_not_an_error(root: Path) -> None:
    (root / ".devenv" / "cache").write_text("a file where the cache directory would be")  # fails even as root
    project, _ = load_cached(root)
    assert project.app.name == "shop" and (root / ".devenv" / "cache").is_file()
    shutil.rmtree(root / ".devenv")
    assert load_cached(root)[0] == project and not (root / ".devenv").exists()  # nothing created


def test_a_group_writable_cache_is_not_read(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load_cached(root)
    os.chmod(cache.cache_path(root), 0o666)
    calls = []
    real = load_project
    monkeypatch.setattr("devenv.model.loader.load_project", lambda *a, **k: calls.append(1) or real(*a, **k))
    load_cached(root)
    assert calls == [1]



def test_a_deleted_watch_path_reruns_the_full_pass(root: Path) -> None:
    """Validation warns about a watch path that does not exist: the cache must not hide that."""
    assert not [w for w in load_cached(root)[1] if "watch path" in str(w)]
    shutil.rmtree(root / "examples/shop/web/templates")
    warnings = [str(w) for w in load_cached(root)[1]]
    assert any("watch path 'examples/shop/web/templates' does not exist (yet)" in w for w in warnings)


def test_a_cache_owned_by_another_user_is_not_read(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can give a file to another user")
    load_cached(root)
    os.chown(cache.cache_path(root), 4242, 4242)
    calls = []
    real = load_project
    monkeypatch.setattr("devenv.model.loader.load_project", lambda *a, **k: calls.append(1) or real(*a, **k))
    load_cached(root)
    assert calls == [1]


def test_a_fifo_at_the_cache_path_does_not_hang(root: Path) -> None:
    import threading

    path = cache.cache_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path, 0o600)
    result: list[object] = []
    reader = threading.Thread(target=lambda: result.append(cache.read(root, "key")), daemon=True)
    reader.start()
    reader.join(5)
    if reader.is_alive():  # blocked in open(): let it go before failing
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(5)
        pytest.fail("reading a FIFO cache blocked")
    assert result == [None]


def test_strict_reports_unknown_profile_keys_from_the_cache_too(root: Path) -> None:
    profile = root / "profiles/acme.yaml"
    profile.write_text(profile.read_text() + "rollout: canary\n")
    unknown = "unknown key 'rollout' (ignored: production may know it)"
    for _ in range(2):  # the full pass, then the hit
        assert not [w for w in load_cached(root)[1] if unknown in str(w)]
        assert [w for w in load_cached(root, strict=True)[1] if unknown in str(w)]


# --------------------------------------------------------------------------- every key, as written
# A project that sets every key devenv.yaml, a profile and the overlays know, each to a value that
# is not its default (and leaves a few unset, where the default is what the user gets).

APP = """\
name: tailor
default_tenants: [beta]
port_base: 21000
ports_per_tenant: 10
images:
  base:
    context: img/base
    dockerfile: Dockerfile.base
    args: {PYVER: 3.11, DEBUG: true, QUIET: false, EMPTY: null, N: 3}
    target: runtime
  web:
    context: img/web
    parent: base
    parent_arg: PARENT_IMAGE
  db:
    context: img/db
components:
  web:
    image: web
    command: python -m web --port 8000
    entrypoint: [tini, --]
    user: 1000
    working_dir: /srv/web
    ports:
      - {name: http, container: 8000, http: true}
      - {name: admin, container: 9000}
    health: {http: /healthz, port: 8000, interval: 7, timeout: 9, retries: 4, start_period: 11}
    env: {WEB_ONLY: yes-web, SHARED: from-web, FLAG_ON: true, FLAG_OFF: false, NUM: 42, NOTHING: null}
    depends_on: [db, cache]
    volumes:
      - {name: uploads, target: /srv/uploads}
    watch:
      - {path: src/web/, action: sync+exec, target: /srv/web, exec: [kill, -HUP, "1"], ignore: ["*.pyc", tmp]}
      - {path: src/web/requirements.txt, action: rebuild}
    restart: always
    live_update: reload
  jobs:
    ref: registry.example/tailor/jobs:1.0
    command: [run-jobs, --all]
    health: {cmd: "test -f /tmp/ok"}
    depends_on: [db]
services:
  db:
    image: db
    ports:
      - {name: pg, container: 5432}
    env: {POSTGRES_DB: tailor}
    health: {cmd: [pg_isready, -q]}
  cache:
    ref: redis:7
env:
  SHARED: from-app
  APP_WIDE: "1"
"""

BETA = """\
tenant: beta
namespace: prod-beta
labels: {plan: gold, tier: 2}
node_selector: {pool: beta, ssd: true}
components:
  db:
    image: registry.example/tailor/db:15
    secrets:
      - {name: beta-db, key: password, env: POSTGRES_PASSWORD}
  web:
    replicas: 3
    image: registry.example/tailor/web:2.0
    resources:
      requests: {cpu: 250m, memory: 256Mi}
      limits: {cpu: 1, memory: 1Gi}
    env: {WEB_TENANT: beta-web, SHARED: from-profile-web}
    node_selector: {gpu: "no"}
    tolerations: [{key: dedicated, operator: Equal, value: beta, effect: NoSchedule}]
    affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: []}}}
    probes:
      readiness: {httpGet: {path: /ready, port: 8000}}
      liveness: {tcpSocket: {port: 8000}}
    service_account: web-sa
    secrets:
      - {name: web-keys, key: signing, env: SIGNING_KEY}
    kind: StatefulSet
  jobs:
    replicas: 2
env: {SHARED: from-profile, TENANT_ONLY: beta-env}
features: {new-checkout: true, dark_mode: false}
secrets:
  - {name: beta-db, key: password, env: DATABASE_PASSWORD}
  - {name: beta-pay, key: api-key, env: PAY_KEY}
  - {name: web-keys, key: other, env: SIGNING_KEY}
domains: [beta.tailor.example, www.beta.tailor.example]
seed: {command: "psql -f /seed.sql", component: db}
"""

GAMMA = """\
tenant: gamma
components:
  db: {resources: {limits: {}}}
"""

ALPHA = """\
tenant: alpha
components:
  jobs: {enabled: false}
  web: {image: registry.example/tailor/web:1.9}
"""

LOCAL = """\
defaults:
  replicas: {web: 1}
  drop_resources: true
  domain: "{tenant}.localhost"
  env: {SHARED: from-overlay, DEBUG: "1"}
  secrets:
    beta-db: {password: devpass, unused: x}
    nobody: {k: v}
tenants:
  beta:
    env: {TENANT_ONLY: beta-env, EXTRA: more}
    build: [db]
    disable: [jobs]
    port_base: 30000
"""

PERSONAL = """\
tenants:
  beta:
    replicas: {db: 2}
    secrets:
      beta-pay: {api-key: {file: secrets/pay.txt}}
"""


def write_tailored(root: Path) -> Path:
    files = {
        "devenv.yaml": APP, "profiles/beta.yaml": BETA, "profiles/alpha.yaml": ALPHA, "profiles/gamma.yaml": GAMMA,
        "devenv.local.yaml": LOCAL, "devenv.personal.yaml": PERSONAL,
        "secrets/pay.txt": "pay-dev-key\n",
        "img/base/Dockerfile.base": "FROM scratch AS runtime\nARG PYVER\nARG DEBUG\nARG QUIET\nARG EMPTY\nARG N\n",
        "img/web/Dockerfile": "ARG PARENT_IMAGE\nFROM ${PARENT_IMAGE}\n",
        "img/db/Dockerfile": "FROM scratch\n",
        "src/web/requirements.txt": "",
    }
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def test_every_key_reaches_the_model_as_written_and_a_hit_keeps_it(tmp_path: Path) -> None:
    """What the user wrote is what every command works from: the full pass and a cache hit alike."""
    root = write_tailored(tmp_path)
    (root / ".devenv").mkdir(mode=0o700)
    project, warnings = load_cached(root)
    assert warnings == []
    assert load_cached(root)[0] == project  # the hit (pickled) holds the same values
    assert project.app == App(
        name="tailor", root=root, file=root / "devenv.yaml", default_tenants=("beta",), port_base=21000,
        ports_per_tenant=10,
        images={
            "base": ImageDef("base", root / "img/base", root / "img/base/Dockerfile.base",
                             args={"PYVER": "3.11", "DEBUG": "true", "QUIET": "false", "EMPTY": "", "N": "3"},
                             target="runtime"),
            "web": ImageDef("web", root / "img/web", root / "img/web/Dockerfile", parent="base",
                            parent_arg="PARENT_IMAGE"),
            "db": ImageDef("db", root / "img/db", root / "img/db/Dockerfile"),
        },
        components={
            "web": Component(
                name="web", role="app", image="web", command=("sh", "-c", "python -m web --port 8000"),
                entrypoint=("tini", "--"), user="1000", working_dir="/srv/web",
                ports=(Port("http", 8000, True), Port("admin", 9000, False)),
                health=Health(http="/healthz", port=8000, interval=7.0, timeout=9.0, retries=4, start_period=11.0),
                env={"SHARED": "from-web", "APP_WIDE": "1", "WEB_ONLY": "yes-web", "FLAG_ON": "true",
                     "FLAG_OFF": "false", "NUM": "42", "NOTHING": ""},
                depends_on=("db", "cache"), volumes=(Volume("uploads", "/srv/uploads"),),
                watch=(WatchRule("src/web", "sync+exec", "/srv/web", ("kill", "-HUP", "1"), ("*.pyc", "tmp")),
                       WatchRule("src/web/requirements.txt", "rebuild")),
                restart="always", live_update="reload"),
            "jobs": Component(
                name="jobs", role="app", ref="registry.example/tailor/jobs:1.0", command=("run-jobs", "--all"),
                health=Health(cmd=("sh", "-c", "test -f /tmp/ok")), env={"SHARED": "from-app", "APP_WIDE": "1"},
                depends_on=("db",)),
            "db": Component(name="db", role="service", image="db", ports=(Port("pg", 5432),),
                            health=Health(cmd=("pg_isready", "-q"), interval=2.0, timeout=5.0, retries=30,
                                          start_period=0.0),
                            env={"POSTGRES_DB": "tailor"}),
            "cache": Component(name="cache", role="service", ref="redis:7"),
        },
    )
    assert list(project.app.components) == ["web", "jobs", "db", "cache"]  # components, then services
    web = ComponentProfile(
        replicas=3, image="registry.example/tailor/web:2.0",
        resources=Resources({"cpu": "250m", "memory": "256Mi"}, {"cpu": "1", "memory": "1Gi"}),
        env={"WEB_TENANT": "beta-web", "SHARED": "from-profile-web"},
        placement=Placement({"gpu": "no"}, ({"key": "dedicated", "operator": "Equal", "value": "beta",
                                               "effect": "NoSchedule"},),
                            {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}}),
        probes={"readiness": {"httpGet": {"path": "/ready", "port": 8000}}, "liveness": {"tcpSocket": {"port": 8000}}},
        service_account="web-sa", secrets=(SecretRef("web-keys", "signing", "SIGNING_KEY"),), kind="StatefulSet")
    assert project.profiles == {
        "alpha": Profile("alpha", root / "profiles/alpha.yaml", "tenant-alpha", components={
            "jobs": ComponentProfile(enabled=False), "web": ComponentProfile(image="registry.example/tailor/web:1.9")}),
        "beta": Profile(
            "beta", root / "profiles/beta.yaml", "prod-beta", labels={"plan": "gold", "tier": "2"},
            node_selector={"pool": "beta", "ssd": "true"},
            components={"web": web, "jobs": ComponentProfile(replicas=2), "db": ComponentProfile(
                image="registry.example/tailor/db:15", secrets=(SecretRef("beta-db", "password", "POSTGRES_PASSWORD"),))},
            env={"SHARED": "from-profile", "TENANT_ONLY": "beta-env"},
            features={"new-checkout": True, "dark_mode": False},
            secrets=(SecretRef("beta-db", "password", "DATABASE_PASSWORD"), SecretRef("beta-pay", "api-key", "PAY_KEY"),
                     SecretRef("web-keys", "other", "SIGNING_KEY")),
            domains=("beta.tailor.example", "www.beta.tailor.example"),
            seed=Seed(command=("sh", "-c", "psql -f /seed.sql"), component="db")),
        "gamma": Profile("gamma", root / "profiles/gamma.yaml", "tenant-gamma", components={
            "db": ComponentProfile(resources=Resources({}, {}))}),
    }
    assert project.overlay == Overlay(
        files=(root / "devenv.local.yaml", root / "devenv.personal.yaml"),
        defaults=OverlayTenant(replicas={"web": 1}, drop_resources=True, env={"SHARED": "from-overlay", "DEBUG": "1"},
                               secrets={"beta-db": {"password": "devpass", "unused": "x"}, "nobody": {"k": "v"}},
                               domain="{tenant}.localhost"),
        tenants={"beta": OverlayTenant(replicas={"db": 2}, env={"TENANT_ONLY": "beta-env", "EXTRA": "more"},
                                       secrets={"beta-pay": {"api-key": "pay-dev-key"}}, build=("db",),
                                       disable=("jobs",), port_base=30000)},
        secret_files=(root / "secrets/pay.txt",),
    )


def _secret_from_file(root: Path, content: bytes) -> Path:
    """The sample's shop-db password given as ``{file: dev-secrets/db-password}``."""
    text = (root / "devenv.local.yaml").read_text()
    assert "shop-db: {password: devpass}" in text
    (root / "devenv.local.yaml").write_text(text.replace("shop-db: {password: devpass}",
                                                         "shop-db: {password: {file: dev-secrets/db-password}}"))
    path = root / "dev-secrets" / "db-password"
    path.parent.mkdir()
    path.write_bytes(content)
    return path


def test_an_edited_secret_file_is_read_again(root: Path) -> None:
    """The overlay names the file, not its content: the cache checks the file on every hit."""
    path = _secret_from_file(root, b"first\n")
    project, _ = load_cached(root)
    assert project.overlay.defaults.secrets == {"shop-db": {"password": "first"}}
    assert project.overlay.secret_files == (root / "dev-secrets" / "db-password",)
    path.write_bytes(b"second\n")
    assert load_cached(root)[0].overlay.defaults.secrets == {"shop-db": {"password": "second"}}
    path.unlink()
    with pytest.raises(ConfigError, match="secret file 'dev-secrets/db-password' does not exist"):
        load_cached(root)


def test_a_secret_file_over_1_mib_is_refused_not_cut(root: Path) -> None:
    from devenv.errors import DevenvError

    path = _secret_from_file(root, b"x" * (1024 * 1024))
    assert load_project(root)[0].overlay.defaults.secrets == {"shop-db": {"password": "x" * (1024 * 1024)}}
    path.write_bytes(b"x" * (1024 * 1024 + 1))
    with pytest.raises(DevenvError) as err:
        load_project(root)
    assert err.value.message == f"the secret file {path} is larger than 1 MiB"
    assert err.value.hint == "a secret file holds one value: point `file:` at that value alone"


@pytest.mark.parametrize(("content", "value"), [(b"abc", "abc"), (b"abc\n", "abc"), (b"abc\n\n", "abc\n"),
                                                (b"", ""), (b"\n", "")])
def test_a_secret_file_loses_exactly_one_trailing_newline(root: Path, content: bytes, value: str) -> None:
    _secret_from_file(root, content)
    assert load_project(root)[0].overlay.defaults.secrets == {"shop-db": {"password": value}}


def test_a_secret_set_in_two_overlay_layers_merges_key_by_key() -> None:
    from devenv.model.parse import merge_overlay_tenant

    under = OverlayTenant(secrets={"db": {"password": "p", "user": "u"}}, env={"A": "1"})
    over = OverlayTenant(secrets={"db": {"password": "q"}, "pay": {"key": "k"}}, env={"B": "2"})
    merged = merge_overlay_tenant(under, over)
    assert merged.secrets == {"db": {"password": "q", "user": "u"}, "pay": {"key": "k"}}
    assert merged.env == {"A": "1", "B": "2"}
    assert under.secrets == {"db": {"password": "p", "user": "u"}}  # the layers themselves are left as read


def test_a_watch_path_loses_only_its_trailing_slash(tmp_path: Path) -> None:
    """``X11/`` is the directory X11 (a watch rule matches changed files by this path), and
    ``src/web/X/`` is src/web/X: only the trailing slash goes, never a letter."""
    root = write_tailored(tmp_path)
    app = root / "devenv.yaml"
    app.write_text(app.read_text().replace(
        "      - {path: src/web/requirements.txt, action: rebuild}\n",
        "      - {path: src/web/requirements.txt, action: rebuild}\n"
        "      - {path: X11/, action: sync, target: /srv/x11}\n"
        "      - {path: src/web/X/, action: sync, target: /srv/x}\n"))
    (root / "X11").mkdir()
    (root / "src/web/X").mkdir()
    watch = load_project(root)[0].app.components["web"].watch
    assert [(w.path, w.target) for w in watch[2:]] == [("X11", "/srv/x11"), ("src/web/X", "/srv/x")]


def test_a_secret_file_that_is_not_utf8_is_refused_with_its_path_and_the_fix(root: Path) -> None:
    from devenv.errors import DevenvError

    path = _secret_from_file(root, b"\xff\xfepassword\n")
    with pytest.raises(DevenvError) as err:
        load_project(root)
    assert err.value.message == (f"cannot read the secret file {path}: 'utf-8' codec can't decode byte 0xff "
                                 "in position 0: invalid start byte")
    assert err.value.hint == "make it a readable UTF-8 file, or give the dev value in the overlay"


def test_a_secret_file_replaced_by_a_directory_after_validation_is_named_in_the_refusal(tmp_path: Path) -> None:
    """Validation saw a file; by the time it is read it is a directory (swapped in between): the
    refusal names that path, where read_bytes's own message says what it found."""
    from devenv.errors import DevenvError
    from devenv.model.parse import secret_file_value

    (tmp_path / "pw").mkdir()
    with pytest.raises(DevenvError) as err:
        secret_file_value({"file": "pw"}, tmp_path)
    path = tmp_path / "pw"
    assert err.value.message == (f"cannot read the secret file {path}: {path} is a directory, not a regular file\n"
                                 f"  hint: replace {path} with a regular file (or remove it)")
    assert err.value.hint == "make it a readable UTF-8 file, or give the dev value in the overlay"


def test_an_edited_tenant_secret_file_is_read_again(root: Path) -> None:
    """A ``{file:}`` secret of one tenant's overlay section counts as much as a default's."""
    text = (root / "devenv.local.yaml").read_text()
    assert "  globex:\n    env: {LOG_LEVEL: debug}\n" in text
    (root / "devenv.local.yaml").write_text(text.replace(
        "  globex:\n    env: {LOG_LEVEL: debug}\n",
        "  globex:\n    env: {LOG_LEVEL: debug}\n    secrets:\n      shop-db: {password: {file: globex-db}}\n"))
    path = root / "globex-db"
    path.write_bytes(b"first\n")
    project, _ = load_cached(root)
    assert project.overlay.secret_files == (path,)
    assert project.overlay.tenants["globex"].secrets == {"shop-db": {"password": "first"}}
    path.write_bytes(b"second\n")
    assert load_cached(root)[0].overlay.tenants["globex"].secrets == {"shop-db": {"password": "second"}}
