"""What a container's list summary says, in devenv's words: the one reading of engine state shared by
the compose backend (its ``up`` wait, its monitor, its ``status``) and ``devenv status``'s fast path.

It imports nothing of the model or the backends on purpose: ``devenv status`` answers from the
engine's one list call and this module, in the time ``docker ps`` takes plus Python's start.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

LABEL_PROJECT = "dev.devenv.project"
LABEL_TENANT = "dev.devenv.tenant"
LABEL_COMPONENT = "dev.devenv.component"
LABEL_MANAGED = "dev.devenv.managed"
MAX_RESTARTS = 3  # a restart loop past this many is a crash, not a start

_RANK = {"crashed": 0, "unhealthy": 1, "stopped": 2, "pending": 3, "starting": 4, "running": 5, "healthy": 6}
_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")
_EXITED = re.compile(r"Exited \((-?\d+)\)")


def rank(state: str) -> int:
    """Worst first: the state a component shows when its containers disagree is the lowest rank."""
    return _RANK.get(state, 3)


def state_of(st: dict[str, Any], restarts: int) -> tuple[str, str]:
    """(state, health) of one container from the engine's ``State`` object."""
    health = (st.get("Health") or {}).get("Status", "")
    if st.get("Restarting") or (st.get("Status") == "exited" and st.get("ExitCode", 0) != 0):
        return ("crashed" if restarts >= MAX_RESTARTS or not st.get("Restarting")
                else "starting"), health
    if st.get("Status") in ("exited", "created", "dead"):
        return "stopped", health
    if health == "healthy" or (st.get("Running") and not health):
        return ("healthy" if health else "running"), health
    if health == "unhealthy":
        return "unhealthy", health
    return "starting", health


def summary_state(row: dict[str, Any]) -> tuple[str, str]:
    """``state_of`` from a list summary (``State`` and the ``Status`` text) instead of an inspect."""
    status = str(row.get("Status", ""))
    m = _HEALTH.search(status)
    health = "" if m is None else ("starting" if m.group(1) == "health: starting" else m.group(1))
    state = row.get("State", "")
    code = _EXITED.match(status)
    st = {"Status": state, "Running": state == "running", "Restarting": state == "restarting",
          "ExitCode": int(code.group(1)) if code else 0, "Health": {"Status": health} if health else None}
    return state_of(st, int(row.get("RestartCount", 0) or 0))


def worst(rows: Iterable[dict[str, Any]]) -> tuple[str, str]:
    """The worst (state, health) among one component's container summaries."""
    return min((summary_state(r) for r in rows), key=lambda s: rank(s[0]))


def summary_ports(row: dict[str, Any]) -> str:
    """The published ports of a list summary, ``IP:PORT->PORT/PROTO`` joined by commas."""
    binds = sorted((f"{p.get('PrivatePort')}/{p.get('Type')}", p) for p in row.get("Ports") or [] if p.get("PublicPort"))
    return ", ".join(f"{p.get('IP')}:{p.get('PublicPort')}->{cport}" for cport, p in binds)


def by_component(rows: Iterable[dict[str, Any]], tenants: list[str] | None) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Summaries grouped by (tenant, component), only the tenants named (all when None or empty)."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        labels = row.get("Labels") or {}
        t, comp = labels.get(LABEL_TENANT, ""), labels.get(LABEL_COMPONENT, "")
        if not tenants or t in tenants:
            out.setdefault((t, comp), []).append(row)
    return out


def status_rows(rows: Iterable[dict[str, Any]], tenants: list[str] | None,
                url_of: Callable[[str, str], str]) -> list[dict[str, Any]]:
    """One ``devenv status`` record per (tenant, component), sorted, as plain values (the fields of
    ``backends.base.ComponentStatus``)."""
    out: list[dict[str, Any]] = []
    for (t, comp), cs in sorted(by_component(rows, tenants).items()):
        state, health = worst(cs)
        out.append({"tenant": t, "component": comp, "state": state, "health": health or "none",
                    "image": str(cs[0].get("Image", "")), "url": url_of(t, comp), "containers": len(cs),
                    "ports": summary_ports(cs[0]), "synced": ""})
    return out
