"""Turn validated documents into the frozen model. Assumes ``validate`` found no errors: every
type check lives there, so this module stays a straight mapping from data to dataclasses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devenv.errors import DevenvError
from devenv.fsutil import read_bytes
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


def _strs(d: dict[str, Any] | None) -> dict[str, str]:
    """Env-like mappings: YAML may say ``true`` or ``3``; containers see strings."""
    out: dict[str, str] = {}
    for k, v in (d or {}).items():
        out[str(k)] = ("true" if v else "false") if isinstance(v, bool) else ("" if v is None else str(v))
    return out


def _tuple(v: Any) -> tuple[str, ...] | None:
    if v is None:
        return None
    if isinstance(v, str):
        return ("sh", "-c", v)
    return tuple(str(x) for x in v)


def parse_health(d: dict[str, Any] | None) -> Health | None:
    if not d:
        return None
    return Health(
        http=d.get("http"),
        port=d.get("port"),
        cmd=_tuple(d.get("cmd")),
        interval=float(d.get("interval", 2)),
        timeout=float(d.get("timeout", 5)),
        retries=int(d.get("retries", 30)),
        start_period=float(d.get("start_period", 0)),
    )


def parse_component(name: str, role: str, d: dict[str, Any], root: Path, app_env: dict[str, str]) -> Component:
    env = dict(app_env) if role == "app" else {}
    env.update(_strs(d.get("env")))
    return Component(
        name=name,
        role=role,  # type: ignore[arg-type]
        image=d.get("image"),
        ref=d.get("ref"),
        command=_tuple(d.get("command")),
        entrypoint=_tuple(d.get("entrypoint")),
        user=None if d.get("user") is None else str(d["user"]),
        working_dir=d.get("working_dir"),
        ports=tuple(Port(p["name"], int(p["container"]), bool(p.get("http", False))) for p in d.get("ports") or ()),
        health=parse_health(d.get("health")),
        env=env,
        depends_on=tuple(d.get("depends_on") or ()),
        volumes=tuple(Volume(v["name"], v["target"]) for v in d.get("volumes") or ()),
        watch=tuple(
            WatchRule(
                path=str(w["path"]).strip("/"),
                action=w["action"],
                target=w.get("target"),
                exec=_tuple(w.get("exec")),
                ignore=tuple(w.get("ignore") or ()),
            )
            for w in d.get("watch") or ()
        ),
        restart=d.get("restart", "unless-stopped"),
        live_update=d.get("live_update", "restart"),
    )


def parse_app(data: dict[str, Any], root: Path, file: Path) -> App:
    images: dict[str, ImageDef] = {}
    for name, d in (data.get("images") or {}).items():
        context = (root / d["context"]).resolve()
        images[name] = ImageDef(
            name=name,
            context=context,
            dockerfile=(context / d.get("dockerfile", "Dockerfile")).resolve(),
            args=_strs(d.get("args")),
            target=d.get("target"),
            parent=d.get("parent"),
            parent_arg=d.get("parent_arg", "BASE_IMAGE"),
        )
    app_env = _strs(data.get("env"))
    components: dict[str, Component] = {}
    for section, role in (("components", "app"), ("services", "service")):
        for name, d in (data.get(section) or {}).items():
            components[name] = parse_component(name, role, d or {}, root, app_env)
    return App(
        name=data["name"],
        root=root,
        file=file,
        images=images,
        components=components,
        default_tenants=tuple(data.get("default_tenants") or ()),
        port_base=int(data.get("port_base", 18000)),
        ports_per_tenant=int(data.get("ports_per_tenant", 20)),
    )


def parse_profile(tenant: str, data: dict[str, Any], file: Path) -> Profile:
    comps: dict[str, ComponentProfile] = {}
    for name, d in (data.get("components") or {}).items():
        d = d or {}
        res = d.get("resources")
        comps[name] = ComponentProfile(
            enabled=bool(d.get("enabled", True)),
            replicas=int(d.get("replicas", 1)),
            resources=Resources(_strs(res.get("requests")), _strs(res.get("limits"))) if res else None,
            image=d.get("image"),
            env=_strs(d.get("env")),
            placement=Placement(_strs(d.get("node_selector")), tuple(d.get("tolerations") or ()),
                                dict(d.get("affinity") or {})),
            probes={str(k): dict(v) for k, v in (d.get("probes") or {}).items() if v},
            service_account=d.get("service_account"),
            secrets=_secret_refs(d.get("secrets")),
            kind=d.get("kind", "Deployment"),
        )
    return Profile(
        tenant=tenant,
        file=file,
        namespace=data.get("namespace") or f"tenant-{tenant}",
        labels=_strs(data.get("labels")),
        node_selector=_strs(data.get("node_selector")),
        components=comps,
        env=_strs(data.get("env")),
        features={str(k): bool(v) for k, v in (data.get("features") or {}).items()},
        secrets=_secret_refs(data.get("secrets")),
        domains=tuple(data.get("domains") or ()),
        seed=_seed(data.get("seed")),
    )


def _seed(value: Any) -> Seed | None:
    """``seed: FILE.sql`` or ``seed: {sql: FILE}`` or ``seed: {command: [...], component: C}``."""
    if isinstance(value, str):
        return Seed(sql=value)
    if not isinstance(value, dict):
        return None
    cmd = value.get("command")
    return Seed(sql=value.get("sql"), component=value.get("component"),
                command=(tuple(str(c) for c in cmd) if isinstance(cmd, list) else ("sh", "-c", cmd)) if cmd else None)


def _secret_refs(items: list[dict[str, Any]] | None) -> tuple[SecretRef, ...]:
    return tuple(SecretRef(s["name"], s["key"], s["env"]) for s in items or ())


SECRET_FILE_MAX = 1024 * 1024


def secret_file_value(value: Any, base: Path | None) -> Any:
    """A dev value given as ``{file: PATH}`` (a compose secret's file, kept out of the overlay) is
    read here, at load time; validation has checked that the file exists inside the project."""
    if not (isinstance(value, dict) and isinstance(value.get("file"), str)):
        return value
    path = (base or Path.cwd()) / value["file"]
    text = _secret_text(path)
    return text[:-1] if text.endswith("\n") else text


def _secret_text(path: Path) -> str:
    unreadable = "make it a readable UTF-8 file, or give the dev value in the overlay"
    try:
        data = read_bytes(path, SECRET_FILE_MAX, str(path))
    except DevenvError as exc:
        raise DevenvError(f"cannot read the secret file {path}: {exc}", unreadable) from exc
    if len(data) > SECRET_FILE_MAX:  # read_bytes stops one byte past the limit: refuse, never cut
        raise DevenvError(f"the secret file {path} is larger than 1 MiB",
                          "a secret file holds one value: point `file:` at that value alone")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DevenvError(f"cannot read the secret file {path}: {exc}", unreadable) from exc


def secret_files(data: dict[str, Any], base: Path) -> list[Path]:
    """The files an overlay's ``{file: PATH}`` dev values name, under ``defaults`` and every tenant."""
    entries = [data.get("defaults"), *(data.get("tenants") or {}).values()]
    values = [v for e in entries if isinstance(e, dict) for keys in (e.get("secrets") or {}).values()
              if isinstance(keys, dict) for v in keys.values()]
    return [base / v["file"] for v in values if isinstance(v, dict) and isinstance(v.get("file"), str)]


def _secret_values(d: dict[str, Any], base: Path | None) -> dict[str, dict[str, str]]:
    return {name: _strs({k: secret_file_value(v, base) for k, v in (keys or {}).items()})
            for name, keys in d.items()}


def parse_overlay_tenant(d: dict[str, Any] | None, base: Path | None = None) -> OverlayTenant:
    d = d or {}
    return OverlayTenant(
        replicas={k: int(v) for k, v in d["replicas"].items()} if "replicas" in d else None,
        drop_resources=d.get("drop_resources"),
        env=_strs(d["env"]) if "env" in d else None,
        secrets=_secret_values(d["secrets"], base) if "secrets" in d else None,
        domain=d.get("domain"),
        build=tuple(d["build"]) if "build" in d else None,
        disable=tuple(d["disable"]) if "disable" in d else None,
        port_base=d.get("port_base"),
    )


def merge_overlay_tenant(a: OverlayTenant, b: OverlayTenant) -> OverlayTenant:
    """``b`` on top of ``a``: mappings merge key by key, everything else ``b`` wins where set."""

    def m(x: dict[str, Any] | None, y: dict[str, Any] | None) -> dict[str, Any] | None:
        if x is None or y is None:
            return y if x is None else x
        out = dict(x)
        for k, v in y.items():
            out[k] = {**out[k], **v} if isinstance(v, dict) and isinstance(out.get(k), dict) else v
        return out

    def pick(x: Any, y: Any) -> Any:
        return x if y is None else y

    return OverlayTenant(
        replicas=m(a.replicas, b.replicas),
        drop_resources=pick(a.drop_resources, b.drop_resources),
        env=m(a.env, b.env),
        secrets=m(a.secrets, b.secrets),
        domain=pick(a.domain, b.domain),
        build=pick(a.build, b.build),
        disable=pick(a.disable, b.disable),
        port_base=pick(a.port_base, b.port_base),
    )


def parse_overlays(docs: list[tuple[Path, dict[str, Any]]]) -> Overlay:
    defaults = OverlayTenant()
    tenants: dict[str, OverlayTenant] = {}
    for file, data in docs:
        base = file.parent
        defaults = merge_overlay_tenant(defaults, parse_overlay_tenant(data.get("defaults"), base))
        for name, d in (data.get("tenants") or {}).items():
            tenants[name] = merge_overlay_tenant(tenants.get(name, OverlayTenant()), parse_overlay_tenant(d, base))
    files = tuple(p for file, data in docs for p in secret_files(data, file.parent))
    return Overlay(files=tuple(f for f, _ in docs), defaults=defaults, tenants=tenants, secret_files=files)
