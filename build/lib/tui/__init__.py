"""devenv's terminal UI (Textual). Only this package imports Textual; the core never does.

Launch it with ``run_tui(engine)``; it talks to the engine only through ``EngineAPI``.
"""

from __future__ import annotations

from typing import Any

from devenv.engine.api import EngineAPI


def run_tui(engine: EngineAPI, **kw: Any) -> int:
    """Run the app until the user quits; returns the exit code (0, 1 when stopping failed,
    130 after a double ctrl+c). ``kw`` goes to ``DevenvApp`` (e.g. ``leave_running_default``)."""
    from tui.app import DevenvApp

    app = DevenvApp(engine, **kw)
    app.run()
    return app.return_code or 0


__all__ = ["run_tui"]
