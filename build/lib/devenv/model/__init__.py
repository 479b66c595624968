"""The configuration model: load, validate, resolve. See ``types.py`` for the shapes."""

from devenv.model.loader import find_root, load_project
from devenv.model.resolve import resolve
from devenv.model.types import *  # noqa: F403

__all__ = ["find_root", "load_project", "resolve"]
