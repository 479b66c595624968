"""Credentials that compose's interpolation put outside ``environment``: a ``command:`` argument,
an ``entrypoint``, a health test, a build arg.

``compose.py`` interpolates a credential variable (``importer.credential_reason`` on its name and
value: the one decision) as a sentinel, so the reader sees where a secret went. devenv.yaml is
committed, so the value must not be written there:

* a command or entrypoint runs through ``sh -c 'exec ...'`` with the argument written as
  ``"${VAR}"``: the container's shell expands it from its env at start, and ``VAR`` is delivered
  to the component as a secret (the profile references it; its dev value goes only to the
  git-ignored devenv.personal.yaml), like a credential in ``environment``;
* a health test becomes (or stays) a shell command with ``${VAR}`` in place of the value;
* a build arg is not written (it would end up in the image's history);
* anywhere else (an image name, a volume, a port, the project's name) the input is refused.

Finally ``refuse_masked_output`` checks the assembled documents: a sentinel that reached one
(a path this module does not know) is refused rather than written, value or not.
"""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING, Any

from devenv.adopt.interpolate import SENTINEL, Environment
from devenv.adopt.result import Adopted
from devenv.model.yamlpos import KeyPath, dotted

if TYPE_CHECKING:
    from devenv.adopt.services import Service, ServiceReader

CREDENTIAL_USE_HINT = ("reference the credential where devenv can keep it out of committed files (a service's "
                       "`environment`, `command`, `entrypoint` or `healthcheck.test`), or set the value in the "
                       "git-ignored devenv.personal.yaml after init")
SHELL_NOTE = ("runs through `sh -c` so the container's shell expands {refs} from its env at start (the image needs "
              "/bin/sh); devenv.yaml holds the reference, never the value")
# Service keys whose values may hold a credential: devenv writes a reference there instead.
REFERENCE_KEYS = {"environment", "command", "entrypoint"}


def has_sentinel(value: Any) -> bool:
    if isinstance(value, str):
        return SENTINEL.search(value) is not None
    if isinstance(value, dict):
        return any(has_sentinel(k) or has_sentinel(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_sentinel(v) for v in value)
    return False


def masked_names(value: Any, env: Environment) -> list[str]:
    """The credential variables interpolated anywhere in ``value``."""
    if isinstance(value, str):
        return env.names_in(value)
    items = list(value.items()) if isinstance(value, dict) else list(enumerate(value)) if isinstance(value, list) else []
    return list(dict.fromkeys(n for k, v in items for n in [*masked_names(k, env), *masked_names(v, env)]))


def refs(names: list[str]) -> str:
    return ", ".join(f"${{{n}}}" for n in names)


def credential_use_message(names: list[str]) -> str:
    return (f"uses credential variable(s) {refs(names)}: devenv cannot carry a credential here without writing its "
            "value into a committed file")


# --- shell forms -----------------------------------------------------------------------------------

def shell_word(masked: str, env: Environment) -> str:
    """One argument as a POSIX shell word: literal parts quoted, each credential as ``"${VAR}"``."""
    out: list[str] = []
    at = 0
    for m in SENTINEL.finditer(masked):
        if m.start() > at:
            out.append(shlex.quote(masked[at:m.start()]))
        out.append(f'"${{{env.masked[int(m.group(1))]}}}"')
        at = m.end()
    if at < len(masked) or not out:
        out.append(shlex.quote(masked[at:]))
    return "".join(out)


def shell_code(masked: str, env: Environment) -> str:
    """Shell code (a ``CMD-SHELL`` test) with each credential as ``${VAR}`` where its value was."""
    return SENTINEL.sub(lambda m: "${" + env.masked[int(m.group(1))] + "}", masked)


def exec_line(tokens: list[str], env: Environment) -> str:
    return "exec " + " ".join(shell_word(t, env) for t in tokens)


# --- a service ---------------------------------------------------------------------------------------

def unreferencable_keys(r: ServiceReader, svc: Service) -> set[str]:
    """The service's keys that hold a credential where devenv would write it as-is: each is
    refused (its handler is skipped, so no message repeats the value)."""
    from devenv.adopt.keys import HANDLERS

    bad: set[str] = set()
    for key, value in svc.data.items():
        if key in REFERENCE_KEYS or not (key in HANDLERS or key in ("build", "image")):
            continue
        if key == "healthcheck" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k != "test"}
        elif key == "build" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k != "args"}
        names = masked_names(value, r.env)
        if names:
            r.refuse(svc.key(key), credential_use_message(names), CREDENTIAL_USE_HINT)
            bad.add(key)
    return bad


def secret_command(r: ServiceReader, svc: Service) -> None:
    """A command or entrypoint with a credential in it runs through ``sh -c 'exec ...'``. A
    non-empty ``entrypoint`` takes the command along (both in one shell line, in order), so the
    image's own ENTRYPOINT is replaced exactly as the compose file replaced it; a command alone
    stays the command (the image's ENTRYPOINT still runs it)."""
    tokens = {k: mask_inline(r, svc, command_tokens(svc.data.get(k))) for k in ("entrypoint", "command")
              if k in svc.out}
    names = [n for toks in tokens.values() for t in toks for n in r.env.names_in(t)]
    if not names:
        return
    entry, command = tokens.get("entrypoint", []), tokens.get("command", [])
    if entry:
        svc.out["entrypoint"] = ["sh", "-c", exec_line(entry + command, r.env)]
        svc.out.pop("command", None)
        key = "entrypoint"
    else:
        svc.out["command"] = ["sh", "-c", exec_line(command, r.env)]
        key = "command"
    deliver(r, svc, list(dict.fromkeys(names)), svc.key(key))


def mask_inline(r: ServiceReader, svc: Service, tokens: list[str]) -> list[str]:
    """``tokens`` with each credential written literally in them (``--requirepass kVf83...``, by the
    rules of ``inline_credentials``) replaced by a sentinel, as if it came from a variable: its
    value then travels like an interpolated credential (the component's secret, the dev value in
    devenv.personal.yaml), never into devenv.yaml."""
    found = inline_credentials([t for t in tokens if not SENTINEL.search(t)], svc.comp)
    for var, value in sorted(found.items(), key=lambda kv: -len(kv[1])):
        same = [n for n in r.env.masked if r.env.value(n) == value]  # the value already has a name: reuse it
        var = same[0] if same else var
        while r.env.value(var) not in (None, value):
            var += "_"
        r.env.dotenv[var] = value
        tokens = [t.replace(value, r.env.sentinel(var)) for t in tokens]
    return tokens


def command_tokens(value: Any) -> list[str]:
    from devenv.adopt.services import command_list

    return command_list(value) or []


def secret_health(r: ServiceReader, svc: Service, cmd: str | list[str]) -> str | list[str]:
    """A health test with a credential in it: a shell command with ``${VAR}`` in its place."""
    cmd = mask_inline(r, svc, [cmd])[0] if isinstance(cmd, str) else mask_inline(r, svc, cmd)
    names = [n for part in ([cmd] if isinstance(cmd, str) else cmd) for n in r.env.names_in(part)]
    if not names:
        return cmd
    text = shell_code(cmd, r.env) if isinstance(cmd, str) else " ".join(shell_word(t, r.env) for t in cmd)
    deliver(r, svc, list(dict.fromkeys(names)), svc.key("healthcheck", "test"))
    return text


def deliver(r: ServiceReader, svc: Service, names: list[str], where: KeyPath) -> None:
    """Each variable becomes a secret env var of the component (unless it already is one)."""
    for name in names:
        svc.wanted_env[name] = where
    r.note(where, SHELL_NOTE.format(refs=refs(names)) + "; " + ", ".join(names)
           + " reach(es) the container as the component's secret(s), like a credential in `environment`")


def deliver_wanted(r: ServiceReader, svc: Service) -> None:
    """After every key is read: each variable a command or health test references is in the
    component's secret env with the value compose used, else refused (the service's own
    ``environment`` sets that name to something else, and the command would see that)."""
    for name, where in svc.wanted_env.items():
        value = r.env.value(name) or ""
        plain = svc.out.get("env", {})
        if svc.secret_env.get(name, value) != value or plain.get(name, value) != value:
            r.refuse(where, f"references ${{{name}}} (from .env or the shell), but the service's environment sets "
                            f"{name} to another value: the container would see that one",
                     f"make the two the same, or use another variable name than {name}")
            continue
        plain.pop(name, None)
        svc.secret_env[name] = value


def refuse_masked_output(adopted: Adopted, env: Environment) -> None:
    """Last line of defence: a sentinel in a document to be written means a credential reached a
    place no reader step handled; refuse instead of writing it."""
    for file, doc in (("devenv.yaml", adopted.app), (f"profiles/{adopted.tenant}.yaml", adopted.profile),
                      ("devenv.local.yaml", adopted.overlay)):
        for path, names in _masked_paths(doc, (), env):
            adopted.refuse(file, None, dotted(path), credential_use_message(names), CREDENTIAL_USE_HINT)


def _masked_paths(value: Any, path: KeyPath, env: Environment) -> list[tuple[KeyPath, list[str]]]:
    if isinstance(value, str):
        names = env.names_in(value)
        return [(path, names)] if names else []
    items = list(value.items()) if isinstance(value, dict) else list(enumerate(value)) if isinstance(value, list) else []
    return [hit for k, v in items for hit in _masked_paths(v, (*path, k), env)]


# --- inline credentials in production's command and args (init --from-k8s) ---------------------------

_FLAG = re.compile(r"^--?([A-Za-z][A-Za-z0-9_.-]*)$")
_ASSIGN = re.compile(r"^(--?)?([A-Za-z_][A-Za-z0-9_.-]*)=(.+)$", re.DOTALL)


def _env_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper()
    return name if name and not name[0].isdigit() else f"ARG_{name}"


def _candidates(token: str, previous: str) -> list[tuple[str, str]]:
    """(variable name, value) pairs of ``token`` that look like credentials: ``--name=value``,
    ``NAME=value``, the value after a ``--name`` flag, a bare value by its shape, and the same
    inside a shell command line."""
    from devenv.importer import credential_reason

    assign = _ASSIGN.match(token)
    flag = _FLAG.match(previous)
    if assign:
        name, value = assign.group(2), assign.group(3)
    else:  # a one- or two-letter flag (-a, -p) names nothing a variable should be called
        name, value = (flag.group(1) if flag and len(flag.group(1)) > 2 else ""), token
    if credential_reason(_env_name(name) if name else "", value) and not any(c.isspace() for c in value):
        return [(_env_name(name) if name else "", value)]
    if any(c.isspace() for c in token):
        words = token.split()
        return [pair for prev, word in zip(["", *words], words, strict=False) for pair in _candidates(word, prev)]
    return []


def inline_credentials(tokens: list[str], comp: str) -> dict[str, str]:
    """Variable name -> value of every credential written inline in ``tokens`` (production's
    ``command`` + ``args``)."""
    found: dict[str, str] = {}
    for prev, token in zip(["", *tokens], tokens, strict=False):
        for name, value in _candidates(token, prev):
            var = name or f"{_env_name(comp)}_ARG_{len(found) + 1}"
            while var in found and found[var] != value:
                var += "_"
            found[var] = value
    return found


def referenced_command(tokens: list[str], found: dict[str, str]) -> list[str]:
    """``sh -c 'exec ...'`` with each inline credential as ``"${VAR}"`` (the value is never kept)."""
    env = Environment()
    masked = list(tokens)
    for var, value in sorted(found.items(), key=lambda kv: -len(kv[1])):
        marker = env.sentinel(var)
        masked = [t.replace(value, marker) for t in masked]
    return ["sh", "-c", exec_line(masked, env)]
