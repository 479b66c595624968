"""Tenant data: snapshots of a tenant's volumes, restore, SQL loads with masking, and seeds.

``store`` keeps snapshots under ``.devenv/snapshots/<tenant>/<name>/`` (owner-only, written
through a staging directory so a half-written snapshot never shows up in ``devenv data list``);
``compose`` reads and writes the tenant's named volumes through the engine's archive API;
``mask`` turns a rule file into SQL that runs inside the database; ``load`` streams a dump in.
``kind`` does the same for a tenant's PersistentVolumeClaims through a helper pod. Every operation
names one tenant and touches only volumes and containers labelled with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def driver_for(backend: Any, say: Callable[[str], None] | None = None) -> Any:
    """The data driver of ``backend`` (``ComposeData`` or ``KindData``: the same methods), chosen by
    its name as ``get_backend`` chose the backend; callers check ``backend.data_unsupported`` first."""
    if backend.name == "kind":
        from devenv.data.kind import KindData

        return KindData(backend, say)
    from devenv.data.compose import ComposeData

    return ComposeData(backend, say)
