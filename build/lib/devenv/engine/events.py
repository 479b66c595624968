"""Moved to ``devenv.events`` (the vocabulary every layer reports with sits below the engine).
This alias keeps ``devenv.engine.events`` imports working; new code imports ``devenv.events``."""

from __future__ import annotations

from devenv.events import *  # noqa: F403
