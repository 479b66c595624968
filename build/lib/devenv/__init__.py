"""devenv: run production's tenants on a laptop.

The package is the headless core (model, render, build, backends, watch, engine) and the CLI.
It never imports Textual; the terminal UI lives in the top-level ``tui`` package.
"""

__version__ = "0.1.0"
