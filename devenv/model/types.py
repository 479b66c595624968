"""The typed, frozen model every other layer reads.

Three inputs meet here:

* ``App`` comes from ``devenv.yaml``: images (the build graph) and components (app components and
  backing services), shared by every tenant.
* ``Profile`` comes from ``profiles/<tenant>.yaml``: one tenant exactly as production keeps it.
* ``Overlay`` comes from ``devenv.local.yaml`` (committed, dev-owned) and ``devenv.personal.yaml``
  (git-ignored): how local differs from production.

``resolve()`` (in ``resolve.py``) folds them into a ``TenantSpec`` for one environment, ``local`` or
``prod``, which is what renderers and backends consume. Every mapping here is a plain dict that no
code mutates after loading; dataclasses are frozen so a spec can be shared across threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

from devenv.containers import LABEL_COMPONENT as LABEL_COMPONENT
from devenv.containers import LABEL_MANAGED as LABEL_MANAGED
from devenv.containers import LABEL_PROJECT as LABEL_PROJECT
from devenv.containers import LABEL_TENANT as LABEL_TENANT

Env = Literal["local", "prod"]
Role = Literal["app", "service"]
WatchAction = Literal["sync", "sync+restart", "sync+exec", "rebuild"]

# Labels devenv puts on every object it creates (teardown only ever touches objects carrying them)
# are declared with the reading of container summaries, below the model; re-exported here.


class SyncFile(NamedTuple):
    """One file of a sync, from the watch planner to the backend: copy ``src`` (on the host) to
    ``dest`` (absolute, in the container), or delete ``dest`` there when ``src`` is None."""

    src: Path | None
    dest: str


@dataclass(frozen=True)
class ImageDef:
    """One image of the build graph. ``parent`` names another image of the graph (the base chain);
    the builder passes the parent's content tag to the build as ``parent_arg``."""

    name: str
    context: Path  # absolute
    dockerfile: Path  # absolute
    args: dict[str, str] = field(default_factory=dict)
    target: str | None = None
    parent: str | None = None
    parent_arg: str = "BASE_IMAGE"


@dataclass(frozen=True)
class Port:
    name: str
    container: int
    http: bool = False


@dataclass(frozen=True)
class Health:
    """A readiness check: an HTTP path on a port, or a command run inside the container."""

    http: str | None = None
    port: int | None = None
    cmd: tuple[str, ...] | None = None
    interval: float = 2.0
    timeout: float = 5.0
    retries: int = 30
    start_period: float = 0.0


@dataclass(frozen=True)
class WatchRule:
    """What a change under ``path`` (project-relative, a directory or a glob) does.

    ``sync`` copies changed files to ``target`` in every running container of the component;
    ``sync+restart`` then restarts it; ``sync+exec`` then runs ``exec`` in it; ``rebuild`` rebuilds
    the image. Paths in an image's context that no rule covers rebuild."""

    path: str
    action: WatchAction
    target: str | None = None
    exec: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()


@dataclass(frozen=True)
class Volume:
    """A named volume, one per tenant, labelled; kept across down/up unless asked."""

    name: str
    target: str


@dataclass(frozen=True)
class Component:
    """An app component (``role: app``) or a backing service (``role: service``).

    Exactly one of ``image`` (a key of ``App.images``, built locally) and ``ref`` (an external image
    reference) is set."""

    name: str
    role: Role
    image: str | None = None
    ref: str | None = None
    command: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None  # replaces the image's ENTRYPOINT (compose's `entrypoint`)
    user: str | None = None  # user[:group] the process runs as
    working_dir: str | None = None
    ports: tuple[Port, ...] = ()
    health: Health | None = None
    env: dict[str, str] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    volumes: tuple[Volume, ...] = ()
    watch: tuple[WatchRule, ...] = ()
    restart: str = "unless-stopped"
    live_update: str = "restart"
    """A change no watch rule covers that the Dockerfile's trailing ``COPY``s take in is synced
    and then: ``restart`` the container (default), ``reload`` nothing (the process reloads by
    itself), or ``rebuild``: rebuild and recreate as for any other change."""


@dataclass(frozen=True)
class App:
    """``devenv.yaml``: the application, shared by every tenant."""

    name: str
    root: Path  # the project root, absolute
    file: Path
    images: dict[str, ImageDef]
    components: dict[str, Component]
    default_tenants: tuple[str, ...] = ()
    port_base: int = 18000
    ports_per_tenant: int = 20


@dataclass(frozen=True)
class Resources:
    requests: dict[str, str] = field(default_factory=dict)
    limits: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ComponentProfile:
    """A component (or backing service) as production runs it for one tenant."""

    enabled: bool = True
    replicas: int = 1
    resources: Resources | None = None
    image: str | None = None  # pinned production reference: repo[:tag][@sha256:...]
    env: dict[str, str] = field(default_factory=dict)
    placement: Placement = field(default_factory=lambda: Placement())
    probes: dict[str, dict[str, Any]] = field(default_factory=dict)  # readiness/liveness/startup: k8s Probe
    service_account: str | None = None
    secrets: tuple[SecretRef, ...] = ()  # this component's own secret refs (besides the tenant's, for apps)
    kind: str = "Deployment"  # production's workload kind: Deployment or StatefulSet


@dataclass(frozen=True)
class Placement:
    """Where production schedules one workload, beyond the tenant's node selector: its own node
    selector (merged over the tenant's), tolerations and affinity, kept as Kubernetes writes them."""

    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: tuple[dict[str, Any], ...] = ()
    affinity: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.node_selector or self.tolerations or self.affinity)


PROBE_KINDS = ("readiness", "liveness", "startup")


@dataclass(frozen=True)
class SecretRef:
    """``env`` in the containers comes from key ``key`` of the secret called ``name``.
    Only names ever live in profiles; values come from the overlay or are generated locally."""

    name: str
    key: str
    env: str


@dataclass(frozen=True)
class Profile:
    """``profiles/<tenant>.yaml``: one tenant, exactly as production keeps it."""

    tenant: str
    file: Path
    namespace: str
    labels: dict[str, str] = field(default_factory=dict)
    node_selector: dict[str, str] = field(default_factory=dict)
    components: dict[str, ComponentProfile] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    features: dict[str, bool] = field(default_factory=dict)
    secrets: tuple[SecretRef, ...] = ()
    domains: tuple[str, ...] = ()
    seed: Seed | None = None


@dataclass(frozen=True)
class Seed:
    """Data a tenant gets on its first start (``seed:`` in its profile): a SQL file (project-relative)
    loaded into its Postgres, or a command run in one of its components' containers."""

    sql: str | None = None
    command: tuple[str, ...] | None = None
    component: str | None = None

    def describe(self) -> str:
        return self.sql or " ".join(self.command or ())


@dataclass(frozen=True)
class OverlayTenant:
    """How local differs from production, for every tenant (``defaults``) or one of them.
    ``None`` means "not said here", so layers merge: defaults < tenant entry, committed < personal."""

    replicas: dict[str, int] | None = None
    drop_resources: bool | None = None
    env: dict[str, str] | None = None
    secrets: dict[str, dict[str, str]] | None = None  # secret name -> key -> dev value
    domain: str | None = None  # pattern, "{tenant}" is replaced
    build: tuple[str, ...] | None = None  # components built from source; None: all that have an image
    disable: tuple[str, ...] | None = None
    port_base: int | None = None


@dataclass(frozen=True)
class Overlay:
    files: tuple[Path, ...] = ()
    defaults: OverlayTenant = field(default_factory=OverlayTenant)
    tenants: dict[str, OverlayTenant] = field(default_factory=dict)
    secret_files: tuple[Path, ...] = ()  # the ``{file: PATH}`` dev values read at load (the cache checks them)


@dataclass(frozen=True)
class Project:
    """Everything loaded from one project root."""

    app: App
    profiles: dict[str, Profile]  # by tenant name, in name order
    overlay: Overlay


@dataclass(frozen=True)
class PublishedPort:
    name: str
    container: int
    host: int
    http: bool = False


@dataclass(frozen=True)
class Workload:
    """One component of one tenant in one environment: what a renderer turns into a compose
    service or a Deployment. ``image_ref`` is set for pinned/external images; ``build_image`` names
    the image of the graph to build from source (its tag is known only after hashing)."""

    name: str
    role: Role
    build_image: str | None
    image_ref: str | None
    command: tuple[str, ...] | None
    replicas: int
    resources: Resources | None
    env: dict[str, str]
    secret_env: tuple[SecretRef, ...]
    ports: tuple[PublishedPort, ...]
    health: Health | None
    depends_on: tuple[str, ...]
    volumes: tuple[Volume, ...]
    watch: tuple[WatchRule, ...]
    restart: str = "unless-stopped"
    entrypoint: tuple[str, ...] | None = None
    user: str | None = None
    working_dir: str | None = None
    placement: Placement = field(default_factory=lambda: Placement())  # production's, per workload
    probes: dict[str, dict[str, Any]] = field(default_factory=dict)  # production's probes, by kind
    service_account: str | None = None
    kind: str = "Deployment"  # production's workload kind; `render --env prod` keeps it


@dataclass(frozen=True)
class TenantSpec:
    """A tenant resolved for one environment."""

    name: str
    env: Env
    project: str  # compose project name: devenv-<tenant>
    namespace: str
    labels: dict[str, str]
    node_selector: dict[str, str]
    workloads: dict[str, Workload]  # enabled ones only, in devenv.yaml order
    domains: tuple[str, ...]
    features: dict[str, bool]
    secret_values: dict[str, dict[str, str]]  # local dev values from the overlay; empty for prod
    differences: tuple[Difference, ...] = ()  # what local changes from prod, with reasons


@dataclass(frozen=True)
class Difference:
    """One way a local tenant differs from production, and why (for `devenv diff`)."""

    component: str
    field: str
    prod: str
    local: str
    reason: str
