"""Adoption: turn what a team already has (a compose project, production's manifests) into a devenv
project (``devenv.yaml``, a first ``profiles/<tenant>.yaml``, ``devenv.local.yaml``).

Readers of foreign formats (``compose.py``; the Kubernetes reader beside it) return an ``Adopted``
(``result.py``): the three documents as plain data plus notes, each naming ``file:line: key`` and
what was dropped or changed and why. ``write.py`` validates the documents with devenv's own loader
and writes them atomically inside the project, never over an existing file without ``--force``.
"""
