"""The tar the builder sends: exactly the files ``context_files`` listed and the digest hashed.

Docker's CLI would walk the context again with its own matcher; building the archive ourselves from
the hashed list means the tag and the image can never disagree about which files went in.
"""

from __future__ import annotations

import os
import tarfile
import tempfile
from pathlib import Path
from typing import IO

OUTSIDE_DOCKERFILE = ".devenv.Dockerfile"


def _zero_owner(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Owned by root with no names, as ``docker build`` sends it, so layers do not depend on the
    developer's uid."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def parent_dirs(paths: list[str] | tuple[str, ...]) -> list[str]:
    """Every directory that holds a listed file, parents before children."""
    dirs: set[str] = set()
    for p in paths:
        parts = p.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    return sorted(dirs)


def make_context_tar(context: Path, paths: list[str] | tuple[str, ...], dockerfile: Path) -> tuple[IO[bytes], str]:
    """Write the archive to a temporary file; return it (rewound) and the Dockerfile's name in it.

    A Dockerfile outside the context is added as ``.devenv.Dockerfile``, as the docker CLI does with
    its own random name."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 - the caller sends and closes it
    context = Path(context)
    try:
        name = Path(dockerfile).resolve().relative_to(context.resolve()).as_posix()
        inside = True
    except ValueError:
        name, inside = OUTSIDE_DOCKERFILE, False
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in parent_dirs(paths):
            tar.add(os.path.join(context, d), arcname=d, recursive=False, filter=_zero_owner)
        for p in paths:
            tar.add(os.path.join(context, p), arcname=p, recursive=False, filter=_zero_owner)
        if not inside:
            tar.add(str(dockerfile), arcname=name, recursive=False, filter=_zero_owner)
    out.seek(0)
    return out, name
