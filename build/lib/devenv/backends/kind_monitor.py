"""The kind backend's monitor: ``kubectl get pods --watch -o json`` turned into component states,
and ``kubectl logs -f`` of every tenant it follows turned into log lines.

One watch covers every namespace of the project (one label selector), so an idle session costs one
long-lived kubectl and no polling. Pods are folded per component, worst state first (a rollout's
old pod still running does not hide the new one crash-looping). A growing restart count is a crash
even when the pod is back before the next event (the same rule the compose monitor applies).
"""

from __future__ import annotations

import json
import threading
from functools import partial
from typing import TYPE_CHECKING, Any

from devenv.backends.base import LogSink
from devenv.events import ComponentState, Timeline
from devenv.model.types import LABEL_COMPONENT, LABEL_TENANT

if TYPE_CHECKING:
    from devenv.backends.kind import KindBackend

CRASH_REASONS = ("CrashLoopBackOff", "Error", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError")
RANK = {"crashed": 0, "unhealthy": 1, "stopped": 2, "starting": 3, "running": 4, "healthy": 5}
RETRY = 2.0  # seconds before a watch that ended (kubectl lost the API server) starts again

PodState = tuple[str, str]  # (state, health) as ComponentState says them


def pod_state(pod: dict[str, Any]) -> PodState | None:
    """What one pod says about its component; None for a pod being deleted (it no longer counts)."""
    if pod.get("metadata", {}).get("deletionTimestamp"):
        return None
    statuses = pod.get("status", {}).get("containerStatuses") or []
    if not statuses:
        return "starting", "starting"
    waiting = [cs.get("state", {}).get("waiting", {}).get("reason", "") for cs in statuses]
    if any(r in CRASH_REASONS for r in waiting):
        return "crashed", "unhealthy"
    terminated = [cs["state"]["terminated"] for cs in statuses if "terminated" in cs.get("state", {})]
    if terminated:
        return ("crashed", "unhealthy") if any(t.get("exitCode", 0) for t in terminated) else ("stopped", "")
    if all(cs.get("ready") for cs in statuses):
        return ("healthy", "healthy") if _has_probe(pod) else ("running", "")
    return "starting", "starting"


def _has_probe(pod: dict[str, Any]) -> bool:
    return any("readinessProbe" in c for c in pod.get("spec", {}).get("containers", []))


def restarts(pod: dict[str, Any]) -> int:
    return sum(int(cs.get("restartCount", 0) or 0) for cs in pod.get("status", {}).get("containerStatuses") or [])


class _Stopped(Exception):
    """Raised from the line sink to end a watch once the monitor is stopped."""


class JsonStream:
    """Whole JSON objects out of kubectl's line stream: ``-o json`` with ``--watch`` prints each
    object indented over many lines, the top-level closing brace alone on its line."""

    def __init__(self) -> None:
        self._buf: list[str] = []

    def feed(self, line: str) -> dict[str, Any] | None:
        self._buf.append(line)
        if line != "}":
            return None
        text, self._buf = "\n".join(self._buf), []
        try:
            obj = json.loads(text)
        except ValueError:
            return None
        return obj if isinstance(obj, dict) else None


class KindMonitor:
    """See the module docstring; ``Monitor`` of ``devenv.backends.base``."""

    def __init__(self, backend: KindBackend, tenants: list[str], log_sink: LogSink, retry: float = RETRY) -> None:
        self.backend = backend
        self.tenants = set(tenants)
        self.log_sink = log_sink
        self.retry = retry
        self.stop_event = threading.Event()
        self._pods: dict[tuple[str, str], dict[str, PodState]] = {}
        self._states: dict[tuple[str, str], PodState] = {}
        self._restarts: dict[str, int] = {}
        self._followed: set[str] = set()
        self._thread = threading.Thread(target=self._run, name="devenv-kind-monitor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stop_event.set()

    def _run(self) -> None:
        told = False
        while not self.stop_event.is_set():
            stream = JsonStream()
            try:
                self.backend.watch_pods(partial(self._on_line, stream))
            except _Stopped:
                return
            except Exception as exc:  # kubectl missing, API server gone: say it once, keep trying
                if not told:
                    self.backend.emit(Timeline(kind="warn", message=f"watching the cluster's pods failed: {exc}; retrying"))
                    told = True
            self.stop_event.wait(self.retry)

    def _on_line(self, stream: JsonStream, line: str) -> None:
        if self.stop_event.is_set():
            raise _Stopped  # ends the watch: the runner stops reading kubectl
        pod = stream.feed(line)
        if pod is not None:
            self.on_pod(pod)

    def on_pod(self, pod: dict[str, Any]) -> None:
        """Fold one pod event into its component's state; emit what changed."""
        meta = pod.get("metadata", {})
        labels = meta.get("labels", {}) or {}
        tenant, comp = labels.get(LABEL_TENANT, ""), labels.get(LABEL_COMPONENT, "")
        if tenant not in self.tenants or not comp:
            return
        self._follow_logs(tenant)
        key, name = (tenant, comp), meta.get("name", "")
        self._note_restarts(key, name, restarts(pod))
        st = pod_state(pod)
        pods = self._pods.setdefault(key, {})
        if st is None:
            pods.pop(name, None)
        else:
            pods[name] = st
        if pods:
            self._set(key, min(pods.values(), key=lambda s: RANK.get(s[0], 0)))

    def _note_restarts(self, key: tuple[str, str], pod: str, count: int) -> None:
        before = self._restarts.get(pod)
        self._restarts[pod] = count
        if before is not None and count > before:
            self._states[key] = ("crashed", "unhealthy")
            self.backend.emit(ComponentState(tenant=key[0], component=key[1], state="crashed",
                                             detail=f"restarted by Kubernetes ({count} restart(s) so far)"))

    def _set(self, key: tuple[str, str], st: PodState) -> None:
        if self._states.get(key) == st:
            return
        self._states[key] = st
        self.backend.emit(ComponentState(tenant=key[0], component=key[1], state=st[0], health=st[1]))  # type: ignore[arg-type]

    def _follow_logs(self, tenant: str) -> None:
        """One ``kubectl logs -f`` per tenant, started at its first pod event."""
        if tenant in self._followed:
            return
        self._followed.add(tenant)

        def run() -> None:
            self.backend.logs(tenant, [], follow=True, tail=30,
                              sink=lambda comp, line: self.log_sink(tenant, comp, line))
        threading.Thread(target=run, name=f"devenv-kind-logs-{tenant}", daemon=True).start()
