"""``devenv data load``: stream a SQL dump into a tenant's Postgres, masking inside the database.

The dump goes from the host file straight into ``psql``'s stdin inside the tenant's Postgres
container (an exec through the engine API): no copy is written anywhere, and a pg_dump custom-format
file is turned into SQL by ``pg_restore`` in that same container. What ``psql`` reads is::

    BEGIN;  [DROP SCHEMA public CASCADE; CREATE SCHEMA public;]  <the dump>  <masking UPDATEs>  COMMIT;

with ``ON_ERROR_STOP``, and ``COMMIT`` is only sent when the decoder finished cleanly, so a failed
load, a bad rule or Ctrl+C leaves the database as it was, and unmasked rows are never committed.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devenv import dockerclient
from devenv.data import store
from devenv.data.mask import mask_sql, parse_rules
from devenv.errors import DevenvError

CHUNK = 1 << 20
PROGRESS_MIN_BYTES = 8 << 20  # smaller files load in a blink: no progress lines
CLEAN_SQL = "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;"

# The pipeline inside the container; the dump arrives on stdin. $DEVENV_DECODE is one of DECODERS.
SCRIPT = ('{ printf "BEGIN;\\n%s\\n" "$DEVENV_PRE_SQL"; '
          '$DEVENV_DECODE && printf "\\n%s\\nCOMMIT;\\n" "$DEVENV_MASK_SQL"; } '
          '| psql -X -q -v ON_ERROR_STOP=1 -U "$DEVENV_PG_USER" -d "$DEVENV_PG_DB"')
DECODERS = {
    "plain": "cat",
    "gzip": "gzip -dc",
    "custom": "pg_restore --no-owner --no-privileges -f -",
}


def dump_format(path: Path) -> str:
    """``custom`` (pg_dump -Fc starts with PGDMP), ``gzip`` (a gzipped plain dump) or ``plain``."""
    with path.open("rb") as f:
        head = f.read(5)
    if head.startswith(b"PGDMP"):
        return "custom"
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    return "plain"


def postgres_component(data: Any, tenant: str, component: str | None) -> tuple[str, str, str]:
    """The tenant's running Postgres component and its superuser and database (from the
    container's ``POSTGRES_USER``/``POSTGRES_DB``, which the driver reads: ``service_env``)."""
    spec = data.spec(tenant)
    if component is None:
        candidates = [w.name for w in spec.workloads.values()
                      if w.name == "postgres" or any(k.startswith("POSTGRES_") for k in w.env)]
        if not candidates:
            raise DevenvError(f"tenant {tenant} has no Postgres service", "name it with --component")
        component = candidates[0]
    elif component not in spec.workloads:
        raise DevenvError(f"tenant {tenant} has no component {component!r}",
                          f"its components: {', '.join(spec.workloads)}")
    env = data.service_env(tenant, component, ("POSTGRES_USER", "POSTGRES_DB"))
    user = env.get("POSTGRES_USER") or "postgres"
    return component, user, env.get("POSTGRES_DB") or user


def load_dump(data: Any, tenant: str, file: str, mask_file: str | None = None, component: str | None = None,
              clean: bool = False) -> dict[str, Any]:
    """Load ``file`` into the tenant's database; return what was done (for --json and the tests).
    ``data`` is a backend's driver: it reads the container's env and runs the pipeline with the
    file on stdin (``service_env``, ``exec_stdin``)."""
    path = Path(file)
    if not path.is_file():
        raise DevenvError(f"no dump file at {file}", "give the path of a pg_dump output (plain or -Fc)")
    rules = parse_rules(Path(mask_file)) if mask_file else []
    comp, user, db = postgres_component(data, tenant, component)
    fmt = dump_format(path)
    env = {"DEVENV_DECODE": DECODERS[fmt], "DEVENV_MASK_SQL": mask_sql(rules) if rules else "",
           "DEVENV_PRE_SQL": CLEAN_SQL if clean else "", "DEVENV_PG_USER": user, "DEVENV_PG_DB": db,
           "PGOPTIONS": "-c client_min_messages=warning"}
    size = path.stat().st_size
    data.say(f"loading {path.name} ({fmt}, {_mb(size)}) into {tenant}/{comp}"
             f" database {db}" + (f", masking {len(rules)} column(s) inside it" if rules else ""))
    t0 = time.perf_counter()
    code, output = data.exec_stdin(tenant, comp, ["sh", "-c", SCRIPT], env, path, progress(data.say, path.name, size))
    if code != 0:
        raise DevenvError(f"the load into {tenant} failed (exit {code}); nothing was committed:\n    "
                          + "\n    ".join(output.strip().splitlines()[-12:] or ["(no output)"]),
                          "fix the dump or the rule file; the database is as it was before")
    state = store.read_state(data.root, tenant)
    store.write_state(data.root, tenant, {**state, "snapshot": "", "loaded": path.name, "masked": bool(rules),
                                          "loaded_at": store.now_iso()})
    data.say(f"loaded {path.name} into {tenant} in {time.perf_counter() - t0:.1f} s")
    return {"tenant": tenant, "file": str(path), "format": fmt, "bytes": size, "masked": [
        f"{r.schema}.{r.table}.{r.column}:{r.strategy}" for r in rules]}


def progress(say: Callable[[str], None], name: str, size: int) -> Callable[[int], None]:
    """A callback for bytes sent: a line at most every 2 s, only for files worth it."""
    last = [time.monotonic(), 0.0]
    start = time.monotonic()

    def tick(sent: int) -> None:
        now = time.monotonic()
        if size < PROGRESS_MIN_BYTES or (now - last[0] < 2 and sent < size):
            return
        last[0] = now
        rate = sent / max(now - start, 1e-3)
        say(f"{name}: {100 * sent / size:.0f}% ({_mb(sent)} of {_mb(size)}, {_mb(rate)}/s)")

    return tick


def _mb(n: float) -> str:
    return f"{n / (1 << 20):.1f} MB"


def exec_with_stdin(client: Any, cid: str, cmd: list[str], env: dict[str, str], src: Path,
                    tick: Callable[[int], None]) -> tuple[int, str]:
    """Run ``cmd`` in the container with ``src`` streamed to its stdin; return (exit code, output).
    Output is read on a thread while we write, so a chatty command can never block the stream."""
    from docker.utils.socket import frames_iter

    api = client.api
    ex = dockerclient.engine_call(lambda: api.exec_create(cid, cmd, stdin=True, environment=env), "start the load")
    sock = dockerclient.engine_call(lambda: api.exec_start(ex["Id"], socket=True), "start the load")
    raw = getattr(sock, "_sock", sock)
    out: list[bytes] = []
    reader = threading.Thread(target=lambda: out.extend(d for _s, d in frames_iter(sock, tty=False)), daemon=True)
    reader.start()
    _send(raw, src, tick)
    reader.join()
    code = dockerclient.engine_call(lambda: api.exec_inspect(ex["Id"]), "read the load's result")["ExitCode"]
    return int(code if code is not None else 1), b"".join(out).decode("utf-8", "replace")


def _send(raw: Any, src: Path, tick: Callable[[int], None]) -> None:
    sent = 0
    try:
        with src.open("rb") as f:
            for chunk in iter(lambda: f.read(CHUNK), b""):
                raw.sendall(chunk)
                sent += len(chunk)
                tick(sent)
    except BrokenPipeError:  # psql stopped reading (an error): its output says why
        pass
    finally:
        with contextlib.suppress(OSError):
            raw.shutdown(socket.SHUT_WR)

