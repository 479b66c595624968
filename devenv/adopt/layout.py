"""Assemble what the service reader collected into the three documents ``init`` writes."""

from __future__ import annotations

from typing import Any

from devenv.adopt.services import DEFAULT_PORTS_PER_TENANT, ServiceReader

DEFAULT_PORT_BASE = 18000


def assemble(r: ServiceReader, name: str) -> None:
    adopted = r.adopted
    for comp in (*r.components.values(), *r.services.values()):
        _fold_binds(comp)
    app: dict[str, Any] = {"name": name, "default_tenants": [adopted.tenant], "port_base": DEFAULT_PORT_BASE}
    per = max(DEFAULT_PORTS_PER_TENANT, -(-r.port_count // 10) * 10)
    app["ports_per_tenant"] = per
    if r.images:
        app["images"] = r.images
    if r.components:
        app["components"] = r.components
    if r.services:
        app["services"] = r.services
    adopted.app = app
    adopted.profile = _profile(r)
    adopted.overlay = _overlay(r)
    if r.personal_values:
        adopted.personal = {"defaults": {"secrets": r.personal_values}}


def _fold_binds(comp: dict[str, Any]) -> None:
    """Bind-mount sync rules go after ``develop.watch`` rules, skipping paths a rule already names."""
    binds = comp.pop("_binds", [])
    rules = comp.setdefault("watch", [])
    for rule in binds:
        if not any(r["path"] == rule["path"] for r in rules):
            rules.append(rule)
    if not rules:
        del comp["watch"]


def _profile(r: ServiceReader) -> dict[str, Any]:
    tenant = r.adopted.tenant
    profile: dict[str, Any] = {"tenant": tenant, "namespace": f"tenant-{tenant}"}
    if r.profile_comps:
        profile["components"] = r.profile_comps
    if r.secrets:
        profile["secrets"] = r.secrets
    return profile


def _overlay(r: ServiceReader) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    if r.disabled:
        defaults["disable"] = r.disabled
    if r.secret_values:
        defaults["secrets"] = r.secret_values
    return {"defaults": defaults}
