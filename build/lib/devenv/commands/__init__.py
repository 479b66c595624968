"""One module per subcommand: ``add_parser(sub)`` registers it and sets ``func=run``.

Shared helpers for commands live in ``_common.py``.
"""
