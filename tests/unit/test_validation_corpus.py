"""The bad-input corpus: every case is the sample project with one thing broken.

A case names the file the problem must be reported in, substrings of the problem, and where it
must point (a line number, or a marker text whose line is expected). Each case must come back as a
``ConfigError`` (or a warning) whose problem names file, line and key and carries a fix, and never
as any other exception. Literal files live in ``tests/corpus/bad/<case>/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from devenv.errors import ConfigError, Problem
from devenv.model.loader import load_project
from tests.conftest import REPO, copy_sample

CORPUS = REPO / "tests" / "corpus" / "bad"
Edit = Callable[[Path], None]


# --- mutations ------------------------------------------------------------------------------------

def sub(file: str, old: str, new: str) -> Edit:
    """Replace the first ``old`` in ``file`` (which must contain it: the sample changed otherwise)."""
    def edit(root: Path) -> None:
        text = (root / file).read_text()
        assert old in text, f"the sample's {file} no longer contains {old!r}"
        (root / file).write_text(text.replace(old, new, 1))
    return edit


def put(file: str, content: str | bytes) -> Edit:
    def edit(root: Path) -> None:
        (root / file).parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        (root / file).write_bytes(data)
    return edit


def add(file: str, text: str) -> Edit:
    def edit(root: Path) -> None:
        with (root / file).open("a") as fh:
            fh.write(text)
    return edit


def corpus(case: str) -> Edit:
    """Lay ``tests/corpus/bad/<case>/`` over the project."""
    def edit(root: Path) -> None:
        shutil.copytree(CORPUS / case, root, dirs_exist_ok=True)
    return edit


def rm(path: str) -> Edit:
    return lambda root: (root / path).unlink()


def symlink(path: str, target: str) -> Edit:
    """``target`` is relative to the project root's parent when it starts with ``../``."""
    def edit(root: Path) -> None:
        link = root / path
        if link.is_dir() and not link.is_symlink():
            shutil.rmtree(link)
        elif link.exists() or link.is_symlink():
            link.unlink()
        dest = (root / target)
        dest.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(dest)
    return edit


def outside_dir(name: str) -> Edit:
    """A directory with a Dockerfile next to (not inside) the project root."""
    def edit(root: Path) -> None:
        (root.parent / name).mkdir(exist_ok=True)
        (root.parent / name / "Dockerfile").write_text("FROM scratch\n")
    return edit


def both(*edits: Edit) -> Edit:
    def edit(root: Path) -> None:
        for e in edits:
            e(root)
    return edit


APP, LOCAL, ACME, GLOBEX, INITECH = "devenv.yaml", "devenv.local.yaml", "profiles/acme.yaml", "profiles/globex.yaml", "profiles/initech.yaml"
WEB_HEALTH = "health: {http: /healthz, port: 8000, interval: 5}"
WEB_TEMPLATES = "{path: examples/shop/web/templates, action: sync, target: /srv/web/templates}"


@dataclass(frozen=True)
class Case:
    name: str
    file: str  # where the problem is reported, relative to the root
    edit: Edit
    expect: tuple[str, ...]  # substrings of str(problem)
    at: int | str | None = None  # expected line, or a marker whose (first) line is expected
    key: str | None = None  # expected dotted key
    severity: str = "error"


def C(name: str, file: str, edit: Edit, *expect: str, at: int | str | None = None, key: str | None = None,
      severity: str = "error") -> Case:
    return Case(name, file, edit, expect, at, key, severity)


CASES = [
    # --- devenv.yaml: reading --------------------------------------------------------------------
    C("app-malformed", APP, corpus("app-malformed"), "not valid YAML"),
    C("app-tabs", APP, corpus("app-tabs"), "not valid YAML", "tabs", at=3),
    C("app-empty", APP, put(APP, ""), "devenv.yaml is empty", "name:"),
    C("app-only-comments", APP, put(APP, "# nothing here\n"), "devenv.yaml is empty"),
    C("app-list-top", APP, put(APP, "- name: shop\n"), "must be a mapping", "got a list", at=1),
    C("app-scalar-top", APP, put(APP, "shop\n"), "must be a mapping", "the string 'shop'"),
    C("app-not-utf8", APP, put(APP, b"name: sh\xffop\n"), "not UTF-8", "0xff", at=1),
    C("app-3mib", APP, put(APP, "# " + "x" * (3 * 1024 * 1024) + "\n"), "larger than 2048 KiB"),
    C("app-duplicate-key", APP, add(APP, "name: other\n"), "duplicate key 'name'", "first at line 2", at="name: other", key="name"),
    C("app-two-documents", APP, add(APP, "---\nname: other\n"), "more than one YAML document", at="name: other"),
    C("app-null-key", APP, add(APP, "~: value\n"), "mapping keys must be plain strings", at="~: value"),
    C("app-alias-bomb", APP, add(APP, "x-a: &a [" + ",".join(["x"] * 40) + "]\n"
                               + "".join(f"x-{i}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 40) + "]\n" for i in range(3))),
      "expands to more than"),
    # --- devenv.yaml: structure -------------------------------------------------------------------
    C("app-name-missing", APP, sub(APP, "name: shop\n", ""), "missing required key 'name'", key="name"),
    C("app-name-bad", APP, sub(APP, "name: shop", "name: Shop_App"), "'Shop_App' is not a name of lower-case", at="name: Shop_App", key="name"),
    C("app-unknown-top-key", APP, sub(APP, "ports_per_tenant: 20", "port_per_tenant: 20"),
      "unknown key 'port_per_tenant'", "did you mean 'ports_per_tenant'", at="port_per_tenant", key="port_per_tenant"),
    C("app-port-base-string", APP, sub(APP, "port_base: 18000", "port_base: high"), "expected a whole number", "the string 'high'", at="port_base: high"),
    C("app-port-base-range", APP, sub(APP, "port_base: 18000", "port_base: 70000"), "70000 is out of range", "at most 65535", key="port_base"),
    C("app-ports-per-tenant-zero", APP, sub(APP, "ports_per_tenant: 20", "ports_per_tenant: 0"), "out of range", "at least 1", key="ports_per_tenant"),
    C("app-ports-per-tenant-small", APP, sub(APP, "ports_per_tenant: 20", "ports_per_tenant: 2"),
      "publishes 3 ports per tenant", "at least 3", at="ports_per_tenant: 2"),
    C("app-ports-past-65535", APP, sub(APP, "port_base: 18000", "port_base: 65530"), "past 65535", at="port_base: 65530"),
    C("app-default-tenant-unknown", APP, sub(APP, "[acme, globex]", "[acme, globexx]"),
      "unknown tenant 'globexx'", "did you mean 'globex'", key="default_tenants[1]"),
    C("app-env-value-mapping", APP, sub(APP, "DATABASE_NAME: shop", "DATABASE_NAME: {a: 1}"),
      "expected a plain value", "got a mapping", at="DATABASE_NAME", key="env.DATABASE_NAME"),
    C("app-env-value-list", APP, sub(APP, "DATABASE_NAME: shop", "DATABASE_NAME: [a, b]"), "got a list", "quote it"),
    C("app-env-value-date", APP, sub(APP, "DATABASE_NAME: shop", "DATABASE_NAME: 2026-01-01"), "the date 2026-01-01", "quote it"),
    # --- devenv.yaml: images and Dockerfiles ------------------------------------------------------
    C("image-unknown-key", APP, sub(APP, "    parent: base        #", "    parnet: base        #"),
      "unknown key 'parnet'", "did you mean 'parent'", key="images.web.parnet"),
    C("image-parent-unknown", APP, sub(APP, "    parent: base        #", "    parent: bsae        #"),
      "unknown parent image 'bsae'", "did you mean 'base'", at="parent: bsae"),
    C("image-parent-self", APP, sub(APP, "    context: examples/shop/base\n", "    context: examples/shop/base\n    parent: base\n"),
      "names itself", key="images.base.parent"),
    C("image-parent-cycle", APP, sub(APP, "    context: examples/shop/base\n", "    context: examples/shop/base\n    parent: api\n"),
      "image parent cycle: api -> base -> api"),
    C("image-context-missing", APP, sub(APP, "context: examples/shop/web\n", "context: examples/shop/nope\n"),
      "build context 'examples/shop/nope' does not exist", at="examples/shop/nope", key="images.web.context"),
    C("image-context-is-file", APP, sub(APP, "context: examples/shop/web\n", "context: examples/shop/web/Dockerfile\n"), "is not a directory"),
    C("image-context-dotdot", APP, both(outside_dir("elsewhere"), sub(APP, "context: examples/shop/web\n", "context: ../elsewhere\n")),
      "outside the project root", at="../elsewhere"),
    C("image-context-absolute", APP, sub(APP, "context: examples/shop/web\n", "context: /etc\n"), "resolves to /etc, outside the project root"),
    C("image-context-symlink-out", APP, both(outside_dir("outside"), symlink("examples/shop/services/redis", "../outside")),
      "build context 'examples/shop/services/redis'", "outside the project root", key="images.redis.context"),
    C("image-dockerfile-missing", APP, rm("examples/shop/web/Dockerfile"), "no Dockerfile at examples/shop/web/Dockerfile",
      at="context: examples/shop/web\n"),
    C("image-dockerfile-escapes", APP, sub(APP, "context: examples/shop/web\n", "context: examples/shop/web\n    dockerfile: ../../../../Dockerfile\n"),
      "Dockerfile '../../../../Dockerfile'", "outside the project root", key="images.web.dockerfile"),
    C("image-context-required", APP, sub(APP, "  worker:\n    context: examples/shop/worker\n", "  worker:\n"),
      "missing required key 'context'", key="images.worker.context"),
    C("image-name-bad", APP, sub(APP, "  redis:\n    context", "  Redis:\n    context"), "'Redis' is not a valid name", "rename it, e.g. 'redis'"),
    C("image-args-list", APP, sub(APP, "    context: examples/shop/base\n", "    context: examples/shop/base\n    args: [A, B]\n"),
      "expected a mapping", "got a list", key="images.base.args"),
    C("image-parent-arg-undeclared", APP, put("examples/shop/web/Dockerfile", "FROM debian:bookworm-slim\n"),
      "never declares `ARG BASE_IMAGE`", key="images.web.parent", severity="warning"),
    # build-arg names are case-sensitive (only the ARG keyword is not): --build-arg BASE_IMAGE=... sets no base_image
    C("image-parent-arg-other-case", APP, sub("examples/shop/web/Dockerfile", "ARG BASE_IMAGE=shop-base\nFROM ${BASE_IMAGE}",
                                              "arg base_image=shop-base\nFROM ${base_image}"),
      "never declares `ARG BASE_IMAGE`", key="images.web.parent", severity="warning"),
    # --- devenv.yaml: components ------------------------------------------------------------------
    C("comp-image-unknown", APP, sub(APP, "    image: api\n", "    image: apii\n"), "unknown image 'apii'", "did you mean 'api'", at="image: apii"),
    C("comp-image-and-ref", APP, sub(APP, "    image: redis\n", "    image: redis\n    ref: redis:7\n"), "sets both `image` and `ref`", at="ref: redis:7"),
    C("comp-no-image", APP, sub(APP, "    image: scheduler\n", ""), "needs `image`", key="components.scheduler"),
    C("comp-unknown-key", APP, sub(APP, "    depends_on: [redis]\n", "    depend_on: [redis]\n"),
      "unknown key 'depend_on'", "did you mean 'depends_on'", key="components.scheduler.depend_on"),
    C("comp-depends-unknown", APP, sub(APP, "depends_on: [postgres]", "depends_on: [postgre]"),
      "unknown component or service 'postgre'", "did you mean 'postgres'", key="components.web.depends_on[0]"),
    C("comp-depends-self", APP, sub(APP, "depends_on: [redis]\n", "depends_on: [scheduler]\n"), "'scheduler' depends on itself"),
    C("comp-depends-cycle", APP, sub(APP, "  postgres:\n    image: postgres\n", "  postgres:\n    image: postgres\n    depends_on: [web]\n"),
      "depends_on cycle: postgres -> web -> postgres"),
    C("comp-both-sections", APP, sub(APP, "services:\n", "services:\n  web:\n    ref: nginx:1\n"), "'web' is both a component and a service"),
    C("comp-port-name-twice", APP, sub(APP, "      - {name: http, container: 8000, http: true}\n",
                                       "      - {name: http, container: 8000, http: true}\n      - {name: http, container: 8001}\n"),
      "port name 'http' is used twice", key="components.web.ports[1].name"),
    C("comp-container-port-twice", APP, sub(APP, "      - {name: http, container: 8000, http: true}\n",
                                            "      - {name: http, container: 8000, http: true}\n      - {name: alt, container: 8000}\n"),
      "container port 8000 is listed twice", at="name: alt"),
    C("comp-port-range", APP, sub(APP, "container: 5432", "container: 70000"), "70000 is out of range", key="services.postgres.ports[0].container"),
    C("comp-port-name-long", APP, sub(APP, "{name: pg, container", "{name: postgres-primary-port, container"), "longer than 15 characters"),
    C("comp-port-missing-container", APP, sub(APP, "{name: pg, container: 5432}", "{name: pg}"), "missing required key 'container'"),
    C("health-http-no-port", APP, sub(APP, WEB_HEALTH, "health: {http: /healthz}"), "an HTTP check needs `port`", "port: 8000",
      key="components.web.health.http"),
    C("health-port-not-listed", APP, sub(APP, WEB_HEALTH, "health: {http: /healthz, port: 9000}"),
      "port 9000 is not one of the component's ports (8000)", at="port: 9000"),
    C("health-http-and-cmd", APP, sub(APP, WEB_HEALTH, "health: {http: /healthz, port: 8000, cmd: [true]}"), "sets both `http` and `cmd`"),
    C("health-no-check", APP, sub(APP, WEB_HEALTH, "health: {interval: 5}"), "has no check"),
    C("health-http-relative", APP, sub(APP, WEB_HEALTH, "health: {http: healthz, port: 8000}"), "'healthz' is not an absolute path"),
    C("health-interval-negative", APP, sub(APP, "[redis-cli, ping], interval: 2", "[redis-cli, ping], interval: -1"),
      "-1 is out of range", "more than 0", key="services.redis.health.interval"),
    C("comp-command-mapping", APP, sub(APP, "    image: worker\n", "    image: worker\n    command: {run: worker}\n"),
      "expected a string or a list", "got a mapping", key="components.worker.command"),
    C("comp-restart-bad", APP, sub(APP, "    image: worker\n", "    image: worker\n    restart: unless-stoped\n"),
      "'unless-stoped' is not one of", "did you mean 'unless-stopped'"),
    C("comp-env-value-mapping", APP, sub(APP, "POSTGRES_DB: shop", "POSTGRES_DB: {a: 1}"), "expected a plain value", "got a mapping",
      key="services.postgres.env.POSTGRES_DB"),
    C("comp-env-bad-name", APP, sub(APP, "POSTGRES_USER: shop", "POSTGRES-USER: shop"),
      "'POSTGRES-USER' is not a valid name", "environment variable name", at="POSTGRES-USER"),
    C("volume-target-relative", APP, sub(APP, "target: /data}", "target: data}"), "'data' is not an absolute path"),
    C("volume-host-path", APP, sub(APP, "{name: redisdata,", "{name: ../../data,"), "looks like a host path", key="services.redis.volumes[0].name"),
    C("volume-name-twice", APP, sub(APP, "      - {name: redisdata, target: /data}\n",
                                    "      - {name: redisdata, target: /data}\n      - {name: redisdata, target: /more}\n"),
      "volume name 'redisdata' is used twice", at="/more"),
    # --- devenv.yaml: watch rules -----------------------------------------------------------------
    C("watch-path-dotdot", APP, sub(APP, "{path: examples/shop/web/templates,", "{path: ../secrets,"), "watch path '../secrets'", "outside the project root"),
    C("watch-path-absolute", APP, sub(APP, "{path: examples/shop/web/templates,", "{path: /etc,"), "outside the project root", key="components.web.watch[0].path"),
    C("watch-path-glob-escape", APP, sub(APP, "{path: examples/shop/web/templates,", "{path: ../../**/*.py,"), "outside the project root"),
    C("watch-sync-no-target", APP, sub(APP, WEB_TEMPLATES, "{path: examples/shop/web/templates, action: sync}"), "action 'sync' needs `target`",
      at="action: sync}", key="components.web.watch[0].target"),
    C("watch-target-relative", APP, sub(APP, "target: /srv/web/templates", "target: srv/web/templates"), "'srv/web/templates' is not an absolute path"),
    C("watch-action-bad", APP, sub(APP, "action: sync, target: /srv/web/templates", "action: synch, target: /srv/web/templates"),
      "'synch' is not one of", "did you mean 'sync'"),
    C("watch-sync-exec-no-exec", APP, sub(APP, "action: sync, target: /srv/web/templates", "action: sync+exec, target: /srv/web/templates"),
      "action 'sync+exec' needs `exec`"),
    C("watch-on-ref", APP, sub(APP, "    image: redis\n", "    ref: redis:7\n    watch: [{path: examples, action: rebuild}]\n"),
      "watch rules need a component built from source"),
    C("watch-path-missing", APP, sub(APP, "{path: examples/shop/web/templates,", "{path: examples/shop/web/tmpl,"),
      "does not exist", severity="warning"),
    # --- profiles ---------------------------------------------------------------------------------
    C("profile-empty", INITECH, put(INITECH, ""), "the profile is empty", "namespace: tenant-initech"),
    C("profile-list-top", INITECH, put(INITECH, "- tenant: initech\n"), "got a list at the top level", at=1),
    C("profile-tabs", ACME, corpus("profile-tabs"), "not valid YAML", "tabs", at=4),
    C("profile-not-utf8", ACME, corpus("profile-not-utf8"), "not UTF-8", "0xe9", at=4),
    C("profile-two-documents", GLOBEX, corpus("profile-multi-doc"), "more than one YAML document", at=4),
    C("profile-duplicate-key", ACME, add(ACME, "namespace: tenant-acme2\n"), "duplicate key 'namespace'", at="tenant-acme2"),
    C("profile-stem-bad", "profiles/Acme_Corp.yaml", both(sub(ACME, "tenant: acme", "tenant: Acme_Corp"),
                                                          lambda r: (r / ACME).rename(r / "profiles/Acme_Corp.yaml")),
      "tenant name 'Acme_Corp'", "DNS-1123", "profiles/acme-corp.yaml"),
    C("profile-stem-long", "profiles/" + "a" * 64 + ".yaml", lambda r: (r / INITECH).rename(r / ("profiles/" + "a" * 64 + ".yaml")),
      "is not a DNS-1123 label"),
    C("profile-tenant-mismatch", ACME, sub(ACME, "tenant: acme", "tenant: acme-corp"), "says tenant 'acme-corp'", at="tenant: acme-corp", key="tenant"),
    C("profile-namespace-bad", ACME, sub(ACME, "namespace: tenant-acme", "namespace: Tenant_Acme"),
      "'Tenant_Acme' is not a name of lower-case", key="namespace"),
    C("profile-namespace-long", ACME, sub(ACME, "namespace: tenant-acme", "namespace: " + "n" * 64), "longer than 63 characters"),
    C("profile-namespace-shared", INITECH, sub(INITECH, "namespace: tenant-initech", "namespace: tenant-acme"),
      "namespace 'tenant-acme' is already tenant 'acme's", at="namespace: tenant-acme"),
    C("profile-yml-twin", "profiles/acme.yml", lambda r: shutil.copy(r / ACME, r / "profiles/acme.yml"), "tenant 'acme' is defined twice"),
    C("profile-symlink-loop", "profiles/loop.yaml", lambda r: (r / "profiles/loop.yaml").symlink_to("loop.yaml"), "cannot read the file"),
    C("profile-is-directory", "profiles/dir.yaml", lambda r: (r / "profiles/dir.yaml").mkdir(), "cannot read the file"),
    C("profile-unknown-component", GLOBEX, sub(GLOBEX, "  scheduler:\n", "  schedular:\n"),
      "component 'schedular' is not in devenv.yaml", "did you mean 'scheduler'", key="components.schedular", severity="warning"),
    C("profile-replicas-negative", ACME, sub(ACME, "replicas: 3", "replicas: -1"), "-1 is out of range", "at least 0", key="components.web.replicas"),
    C("profile-replicas-string", ACME, sub(ACME, "replicas: 3", "replicas: three"), "expected a whole number", at="replicas: three"),
    C("profile-enabled-string", GLOBEX, sub(GLOBEX, "enabled: false", "enabled: nope"), "expected true or false"),
    C("profile-secret-env-bad", ACME, sub(ACME, "env: PAYMENTS_API_KEY}", "env: 1PAYMENTS_API_KEY}"),
      "is not an environment variable name", key="secrets[1].env"),
    C("profile-secret-key-missing", ACME, sub(ACME, "key: api-key, ", ""), "missing required key 'key'", at="acme-payments",
      key="secrets[1].key"),
    C("profile-secret-env-twice", ACME, sub(ACME, "env: PAYMENTS_API_KEY}", "env: DATABASE_PASSWORD}"),
      "env 'DATABASE_PASSWORD' already receives secrets[0]", key="secrets[1].env"),
    C("profile-env-mapping", ACME, sub(ACME, "SHOP_CURRENCY: EUR", "SHOP_CURRENCY: {code: EUR}"), "got a mapping", key="env.SHOP_CURRENCY"),
    C("profile-feature-not-bool", ACME, sub(ACME, "new_checkout: true", "new_checkout: maybe"), "expected true or false", key="features.new_checkout"),
    C("profile-domain-bad", ACME, sub(ACME, "domains: [acme.shop.example]", "domains: [acme shop]"), "'acme shop' is not"),
    C("profile-labels-list", ACME, sub(ACME, "labels:\n  plan: enterprise\n  region: eu-west-1\n", "labels: [enterprise]\n"),
      "expected a mapping", key="labels"),
    C("profile-components-list", INITECH, sub(INITECH, "components:\n", "components: [web]\nx_components:\n"), "expected a mapping", key="components"),
    C("profile-image-bad", ACME, sub(ACME, "image: registry.shop.example/shop/api:2026.11.3", "image: Registry Shop/api"),
      "'Registry Shop/api'", key="components.api.image"),
    # --- overlays ---------------------------------------------------------------------------------
    C("overlay-unknown-key", LOCAL, sub(LOCAL, "drop_resources: true", "drop_resource: true"),
      "unknown key 'drop_resource'", "did you mean 'drop_resources'", at="drop_resource:", key="defaults.drop_resource"),
    C("overlay-unknown-top-key", LOCAL, add(LOCAL, "tenant: {}\n"), "unknown key 'tenant'", "did you mean 'tenants'"),
    C("overlay-unknown-tenant", LOCAL, sub(LOCAL, "  globex:\n", "  globox:\n"), "unknown tenant 'globox'", "did you mean 'globex'", at="globox"),
    C("overlay-unknown-component", LOCAL, sub(LOCAL, "api: 1,", "apu: 1,"), "unknown component 'apu'", "did you mean 'api'", key="defaults.replicas.apu"),
    C("overlay-replicas-negative", LOCAL, sub(LOCAL, "{web: 1,", "{web: -2,"), "-2 is out of range", key="defaults.replicas.web"),
    C("overlay-disable-unknown", LOCAL, add(LOCAL, "    disable: [wbe]\n"), "unknown component 'wbe'", "did you mean 'web'", key="tenants.globex.disable[0]"),
    C("overlay-build-string", LOCAL, add(LOCAL, "    build: web\n"), "expected a list", key="tenants.globex.build"),
    C("overlay-port-collision", LOCAL, add(LOCAL, "  acme:\n    port_base: 18021\n"),
      "host ports of tenants", "overlap", at="port_base: 18021", key="tenants.acme.port_base"),
    C("overlay-defaults-port-base", LOCAL, sub(LOCAL, "  drop_resources: true", "  port_base: 19000\n  drop_resources: true"),
      "'acme' (19000-19002) and 'globex' (19000-19002) overlap", key="defaults.port_base"),
    C("overlay-port-base-past", LOCAL, add(LOCAL, "  acme:\n    port_base: 65534\n"), "past 65535", at="port_base: 65534"),
    C("overlay-env-list", LOCAL, sub(LOCAL, "env: {LOG_LEVEL: debug}", "env: {LOG_LEVEL: [debug]}"), "got a list", key="tenants.globex.env.LOG_LEVEL"),
    C("overlay-secrets-shape", LOCAL, sub(LOCAL, "shop-db: {password: devpass}", "shop-db: devpass"), "expected a mapping", key="defaults.secrets.shop-db"),
    C("overlay-list-top", LOCAL, put(LOCAL, "- defaults\n"), "expected a mapping", "got a list", at=1),
    C("overlay-duplicate-keys", LOCAL, corpus("overlay-duplicate-keys"), "duplicate key 'drop_resources'", at=4),
    C("overlay-personal-unknown-key", "devenv.personal.yaml", put("devenv.personal.yaml", "defaults:\n  replica: {web: 2}\n"),
      "unknown key 'replica'", "did you mean 'replicas'", at=2),
]


# --- running a case -------------------------------------------------------------------------------

def fill_missing_sources(root: Path) -> None:
    """The sample's example sources are maintained elsewhere; stub any Dockerfile or watched
    directory that is absent so these tests only ever see the mistake they introduce."""
    import yaml

    app = yaml.safe_load((root / APP).read_text())
    for img in app["images"].values():
        dockerfile = root / img["context"] / "Dockerfile"
        if not dockerfile.exists():
            dockerfile.parent.mkdir(parents=True, exist_ok=True)
            dockerfile.write_text("ARG BASE_IMAGE=scratch\nFROM ${BASE_IMAGE}\n")
    for comp in app["components"].values():
        for rule in comp.get("watch", []):
            (root / rule["path"]).mkdir(parents=True, exist_ok=True) if not (root / rule["path"]).exists() else None


def project(tmp_path: Path) -> Path:
    root = copy_sample(tmp_path / "shop")
    fill_missing_sources(root)
    return root


def expected_line(root: Path, case: Case) -> int | None:
    if not isinstance(case.at, str):
        return case.at
    text = (root / case.file).read_bytes().decode("utf-8", errors="replace")
    return next(i for i, line in enumerate(text.splitlines(), 1) if case.at in line or case.at in line + "\n")


def build(tmp_path: Path, case: Case) -> Path:
    root = project(tmp_path)
    case.edit(root)
    return root


def find(problems: list[Problem], case: Case) -> Problem:
    found = [p for p in problems if p.file == case.file and all(s in str(p) for s in case.expect)]
    assert found, f"{case.name}: no problem in {case.file} with {case.expect}; got:\n" + "\n".join(map(str, problems))
    return found[0]


def load(root: Path) -> tuple[list[Problem], str | None]:
    """What every command sees: the problems, and the ConfigError's text when it raised."""
    try:
        _project, warnings = load_project(root)
    except ConfigError as exc:
        return exc.problems, str(exc)
    return warnings, None


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_reported_with_location_and_fix(tmp_path: Path, case: Case) -> None:
    root = build(tmp_path, case)
    problems, error_text = load(root)  # any exception but ConfigError fails the test here
    assert not [p for p in problems if "internal error" in p.message], problems
    problem = find(problems, case)
    assert problem.severity == case.severity
    assert (error_text is not None) == (case.severity == "error")
    assert error_text is None or str(problem) in error_text
    assert problem.hint, f"{case.name}: no fix in {problem}"
    assert "(fix: " in str(problem)
    if case.at is not None:
        assert problem.line == expected_line(root, case), f"{case.name}: {problem}"
        assert str(problem).startswith(f"{case.file}:{problem.line}:")
    if case.key is not None:
        assert problem.key == case.key, f"{case.name}: {problem}"


CLI_CASES = ["app-tabs", "image-parent-cycle", "image-context-symlink-out", "profile-symlink-loop", "overlay-port-collision"]


def run_cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DEVENV_ROOT"}
    return subprocess.run([sys.executable, "-m", "devenv.cli", "validate", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("name", CLI_CASES)
def test_cli_reports_without_traceback(tmp_path: Path, name: str) -> None:
    case = next(c for c in CASES if c.name == name)
    root = build(tmp_path, case)
    done = run_cli(root)
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr + done.stdout
    assert all(s in done.stdout for s in case.expect), done.stdout
    assert "error(s)" in done.stderr


def test_an_empty_target_is_one_error_not_also_a_missing_stage(tmp_path: Path) -> None:
    case = C("image-target-empty", APP, sub(APP, "    context: examples/shop/web\n", "    context: examples/shop/web\n    target: ''\n"),
             "must not be empty", key="images.web.target")
    problems, _ = load(build(tmp_path, case))
    assert [(p.key, p.message, p.severity) for p in problems if p.key == "images.web.target"] == [
        ("images.web.target", "must not be empty", "error")]
