"""The handler of every compose service key devenv carries (see ``services.DROPPED`` for the rest).

A handler reads one key of one service and writes into ``svc.out`` (the component as devenv.yaml
will hold it) or the reader's profile/overlay parts, noting what it changes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from devenv.adopt import credrefs, parts
from devenv.adopt.result import dns_name
from devenv.adopt.services import (
    ENV_NAME,
    Service,
    ServiceReader,
    command_list,
    read_env_file,
    restart_policy,
)
from devenv.model.yamlpos import dotted

MAX_PORTS = 200


def _ports(r: ServiceReader, svc: Service, value: Any) -> None:
    for i, item in enumerate(value if isinstance(value, list) else []):
        try:
            specs = parts.ports(item)
        except ValueError as exc:
            r.refuse(svc.key("ports", i), str(exc), "e.g. '8080:80', '80' or {target: 80, published: 8080}")
            continue
        for spec in specs:
            _add_port(r, svc, spec, ("ports", i))
    if value is not None and not isinstance(value, list):
        r.refuse(svc.key("ports"), "`ports` must be a list", "write one port per line: - '8080:80'")


def _add_port(r: ServiceReader, svc: Service, spec: parts.PortSpec, where: tuple[str | int, ...]) -> None:
    if spec.protocol != "tcp":
        r.note(svc.key(*where), f"{spec.protocol} port {spec.container} dropped: devenv publishes TCP ports only")
        return
    listed = svc.out.setdefault("ports", [])
    if any(p["container"] == spec.container for p in listed):
        r.note(svc.key(*where), f"container port {spec.container} is listed twice; devenv publishes it once")
        return
    taken = {p["name"] for p in listed}
    name = dns_name(spec.name)[:15].strip("-") if spec.name else ""
    if not name or name in taken or not name[0].isalnum():
        name = f"p{spec.container}"
    port: dict[str, Any] = {"name": name, "container": spec.container}
    if spec.http:
        port["http"] = True
    listed.append(port)
    r.port_count += 1
    if spec.published and not svc.noted_ports:
        svc.noted_ports = True
        r.note(svc.key(*where), "published host ports become devenv's per-tenant ports on 127.0.0.1 (tenants never "
                                "collide; `devenv status` shows them)")


def _listed(r: ServiceReader, svc: Service, key: str, value: Any, example: str) -> list[Any]:
    """A sequence key's items; anything but a list (or null) is refused, never skipped silently."""
    if isinstance(value, list):
        return value
    if value is not None:
        r.refuse(svc.key(key), f"`{key}` must be a list", f"write one entry per line, e.g. {key}: [{example}]")
    return []


def _expose(r: ServiceReader, svc: Service, value: Any) -> None:
    for i, item in enumerate(_listed(r, svc, "expose", value, "'3000'")):
        try:
            numbers = parts.expose(item)
        except ValueError as exc:
            r.refuse(svc.key("expose", i), str(exc), "e.g. '3000' or '3000-3005'")
            continue
        for number in numbers:
            if not any(p["container"] == number for p in svc.out.get("ports", [])):
                _add_port(r, svc, parts.PortSpec(number, http=number in parts.HTTP_PORTS), ("expose", i))
        r.note(svc.key("expose", i), "exposed ports are listed as the component's ports (published on 127.0.0.1 too)")


def _environment(r: ServiceReader, svc: Service, value: Any) -> None:
    if value is not None and not isinstance(value, dict | list):
        r.refuse(svc.key("environment"), "`environment` must be a mapping or a list of KEY=VALUE",
                 "e.g. environment: {LOG_LEVEL: debug}")
        return
    svc.out.setdefault("env", {})
    for key, raw in parts.env_mapping(value).items():
        where = svc.key("environment", key)
        if raw is None:
            raw = r.env.get(key)
            if raw is None:
                r.note(where, "no value in .env or the shell: left unset, as compose does")
                continue
        if isinstance(raw, dict | list):
            r.refuse(where, "an environment value must be a string, number or boolean", "quote the value")
        elif not ENV_NAME.match(key):
            r.note(where, f"'{key}' is not a portable environment variable name (letters, digits, '_'); dropped")
        else:
            names = credrefs.masked_names(raw, r.env)
            r.put_env(svc, key, r.env.unmask(parts.scalar(raw)), (r.pos.file, r.pos.line(where), dotted(where)),
                      override=True, uses=names)


def _env_file(r: ServiceReader, svc: Service, value: Any) -> None:
    items = value if isinstance(value, list) else [value]
    svc.out.setdefault("env", {})
    for i, item in enumerate(items):
        where = svc.key("env_file", i) if isinstance(value, list) else svc.key("env_file")
        rel, required = (item.get("path"), item.get("required", True)) if isinstance(item, dict) else (item, True)
        if not isinstance(rel, str):
            r.refuse(where, "an env_file entry is a path or {path: FILE, required: false}", "e.g. env_file: .env.web")
            continue
        lines: dict[str, int] = {}
        values = read_env_file(r, svc, where, rel, bool(required), lines)
        shown = env_file_shown(r.pos.file, rel)
        for key, val in values.items():
            if ENV_NAME.match(key):  # `environment` wins over env_file, whatever the key order
                r.put_env(svc, key, val, (shown, lines.get(key), key), override=False)
        if values:
            r.note(where, f"{len(values)} variable(s) of {rel} read into the component's env "
                          "(credential-looking ones as secret references)")


def env_file_shown(compose_file: str, rel: str) -> str:
    """An env file as notes name it: beside the compose file as the user passed it."""
    folder = Path(compose_file).parent
    return str(folder / rel) if str(folder) != "." else str(Path(rel))


def _command(key: str) -> Callable[[ServiceReader, Service, Any], None]:
    def handle(r: ServiceReader, svc: Service, value: Any) -> None:
        args = command_list(value)
        if args is None and value is not None:
            r.refuse(svc.key(key), f"`{key}` must be a string or a list of strings", f"e.g. {key}: [\"python3\", \"app.py\"]")
        elif args is not None and (args or key == "entrypoint"):
            svc.out[key] = args
    return handle


def _user(r: ServiceReader, svc: Service, value: Any) -> None:
    if value is None or isinstance(value, bool):
        return
    svc.out["user"] = str(value)
    uid = str(value).partition(":")[0]
    if not uid.isdigit():
        r.note(svc.key("user"), "a user given by name runs as that user on compose; on kind (which takes numeric "
                                "ids only) the image's user applies")


def _working_dir(r: ServiceReader, svc: Service, value: Any) -> None:
    if isinstance(value, str) and value.startswith("/"):
        svc.out["working_dir"] = value
    elif value is not None:
        r.refuse(svc.key("working_dir"), "`working_dir` must be an absolute path", "e.g. working_dir: /app")


def _healthcheck(r: ServiceReader, svc: Service, value: Any) -> None:
    if not isinstance(value, dict):
        r.refuse(svc.key("healthcheck"), "`healthcheck` must be a mapping", "e.g. healthcheck: {test: [CMD, true]}")
        return
    if value.get("disable") is True:
        r.note(svc.key("healthcheck", "disable"), "health check disabled: devenv waits only for the start")
        return
    cmd = _health_test(r, svc, value.get("test"))
    if cmd is None:
        return
    cmd = credrefs.secret_health(r, svc, cmd)
    health: dict[str, Any] = {"cmd": cmd}
    for key in ("interval", "timeout", "start_period"):
        if value.get(key) is not None:
            _health_duration(r, svc, health, key, value[key])
    retries = value.get("retries")
    if isinstance(retries, int) and not isinstance(retries, bool) and retries >= 1:
        health["retries"] = retries
    elif retries is not None:
        r.refuse(svc.key("healthcheck", "retries"), "`retries` must be a whole number of at least 1", "e.g. retries: 5")
    if "start_interval" in value:
        r.note(svc.key("healthcheck", "start_interval"), "not carried: checks run every `interval` from the start")
    svc.out["health"] = health


def _health_test(r: ServiceReader, svc: Service, test: Any) -> str | list[str] | None:
    where = svc.key("healthcheck", "test")
    if isinstance(test, str):
        return test  # compose runs a string test with the container's shell: so does devenv
    if not isinstance(test, list) or not test:
        if test is not None:
            r.refuse(where, "`test` must be a string or a list starting with CMD, CMD-SHELL or NONE",
                     "e.g. test: [CMD, pg_isready] or test: curl -f http://localhost/")
        else:
            r.note(svc.key("healthcheck"), "no `test`: the image's own HEALTHCHECK is not carried")
        return None
    head, rest = str(test[0]), [parts.scalar(t) for t in test[1:]]
    if head == "NONE":
        r.note(where, "health check disabled (NONE): devenv waits only for the start")
        return None
    if head == "CMD-SHELL" and rest:
        return " ".join(rest)
    if head == "CMD" and rest:
        return rest
    r.refuse(where, f"`test` must start with CMD, CMD-SHELL or NONE followed by the command (got {head!r})",
             "e.g. test: [CMD-SHELL, 'pg_isready -U app']")
    return None


def _health_duration(r: ServiceReader, svc: Service, health: dict[str, Any], key: str, value: Any) -> None:
    try:
        seconds = parts.duration(value)
    except ValueError as exc:
        r.refuse(svc.key("healthcheck", key), str(exc), "compose durations: 10s, 1m30s, 500ms")
        return
    if seconds > 0 or key == "start_period":
        health[key] = int(seconds) if seconds.is_integer() else seconds
    else:
        r.note(svc.key("healthcheck", key), "zero: devenv's default applies")


def _depends_on(r: ServiceReader, svc: Service, value: Any) -> None:
    entries = value if isinstance(value, dict) else {str(v): None for v in value} if isinstance(value, list) else None
    if entries is None:
        r.refuse(svc.key("depends_on"), "`depends_on` must be a list of services or a mapping with conditions",
                 "e.g. depends_on: [db] or depends_on: {db: {condition: service_healthy}}")
        return
    deps = svc.out.setdefault("depends_on", [])
    for dep, opts in entries.items():
        where = svc.key("depends_on", dep)
        if dep not in r.names:
            r.note(where, f"'{dep}' is not a service of this file (or was refused); dropped")
            continue
        _dependency_notes(r, where, opts)
        if r.names[dep] not in deps:
            deps.append(r.names[dep])


def _dependency_notes(r: ServiceReader, where: tuple[str | int, ...], opts: Any) -> None:
    opts = opts if isinstance(opts, dict) else {}
    condition = opts.get("condition", "service_started")
    if condition == "service_completed_successfully":
        r.note(where, "devenv waits for the dependency's start (or health), not for it to exit successfully")
    elif condition not in ("service_started", "service_healthy"):
        r.note(where, f"unknown condition {condition!r}: devenv waits for the start (or health)")
    elif condition == "service_healthy":
        pass  # devenv waits for health wherever the dependency has a check
    if opts.get("required") is False:
        r.note(where, "`required: false` not carried: the dependency is started with the component")
    if opts.get("restart"):
        r.note(where, "`restart: true` not carried: devenv recreates only the containers whose image changed")


def _links(r: ServiceReader, svc: Service, value: Any) -> None:
    deps = svc.out.setdefault("depends_on", [])
    for i, link in enumerate(_listed(r, svc, "links", value, "db")):
        name, _, alias = str(link).partition(":")
        if name in r.names and r.names[name] not in deps:
            deps.append(r.names[name])
        r.note(svc.key("links", i), "carried as depends_on" + (f"; the alias '{alias}' is not" if alias else ""))


def _network_mode(r: ServiceReader, svc: Service, value: Any) -> None:
    if value in ("bridge", "default"):
        r.note(svc.key("network_mode"), "every tenant has its own bridge network: the setting is implied")
    else:
        r.note(svc.key("network_mode"), f"{value!r} not carried: every tenant has its own network "
                                        "(host networking would make tenants' ports collide)")


def _restart(r: ServiceReader, svc: Service, value: Any) -> None:
    policy = restart_policy(value)
    if policy is None:
        r.refuse(svc.key("restart"), f"{value!r} is not a restart policy",
                 "one of: no, always, on-failure, unless-stopped")
        return
    svc.out["restart"] = policy
    if str(value).startswith("on-failure:"):
        r.note(svc.key("restart"), "the retry count is not carried: on-failure retries without a limit")


def _profiles(r: ServiceReader, svc: Service, value: Any) -> None:
    names = [str(p) for p in value] if isinstance(value, list) else [str(value)]
    if svc.comp not in r.disabled:
        r.disabled.append(svc.comp)
    r.note(svc.key("profiles"), f"optional (compose profile {', '.join(names)}): listed under defaults.disable in "
                                "devenv.local.yaml; remove it from there to run it")


def _deploy(r: ServiceReader, svc: Service, value: Any) -> None:
    if not isinstance(value, dict):
        return
    for key, sub in value.items():
        where = svc.key("deploy", key)
        if key == "replicas" and isinstance(sub, int) and not isinstance(sub, bool) and sub >= 0:
            _replicas(r, svc, sub)
        elif key == "resources" and isinstance(sub, dict):
            _resources(r, svc, sub)
        elif key == "restart_policy" and isinstance(sub, dict) and restart_policy(sub.get("condition")):
            policy = {"none": "no", "any": "always"}.get(str(sub.get("condition")), str(sub.get("condition")))
            svc.out.setdefault("restart", restart_policy(policy) or "unless-stopped")
        else:
            r.note(where, "a Swarm deployment setting; not carried")


def _replicas(r: ServiceReader, svc: Service, count: int) -> None:
    if count == 0:
        if svc.comp not in r.disabled:
            r.disabled.append(svc.comp)
        return
    r.profile_comps.setdefault(svc.comp, {})["replicas"] = count


def _resources(r: ServiceReader, svc: Service, value: dict[str, Any]) -> None:
    out: dict[str, dict[str, str]] = {}
    for section, name in (("limits", "limits"), ("reservations", "requests")):
        for key, raw in (value.get(section) or {}).items() if isinstance(value.get(section), dict) else ():
            where = svc.key("deploy", "resources", section, key)
            _resource(r, where, out.setdefault(name, {}), key, raw)
    out = {k: v for k, v in out.items() if v}
    if out:
        r.profile_comps.setdefault(svc.comp, {})["resources"] = out


def _resource(r: ServiceReader, where: tuple[str | int, ...], into: dict[str, str], key: str, raw: Any) -> None:
    try:
        if key == "cpus":
            into["cpu"] = parts.cpus(raw)
        elif key == "memory":
            into["memory"] = parts.memory(raw)
        else:
            r.note(where, "not carried (devenv keeps cpu and memory)")
    except ValueError as exc:
        r.refuse(where, str(exc), "e.g. cpus: '0.5', memory: 512m")


def _scale(r: ServiceReader, svc: Service, value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        _replicas(r, svc, value)


def _mem_limit(r: ServiceReader, svc: Service, value: Any) -> None:
    _resources(r, svc, {"limits": {"memory": value}})


def _cpus(r: ServiceReader, svc: Service, value: Any) -> None:
    _resources(r, svc, {"limits": {"cpus": value}})


def _volumes(r: ServiceReader, svc: Service, value: Any) -> None:
    from devenv.adopt.mounts import add_mount

    for i, item in enumerate(_listed(r, svc, "volumes", value, "data:/var/lib/data")):
        try:
            mount = parts.mount(item)
        except ValueError as exc:
            r.refuse(svc.key("volumes", i), str(exc), "e.g. data:/var/lib/data or ./src:/app/src")
            continue
        add_mount(r, svc, mount, ("volumes", i))


def _secrets(r: ServiceReader, svc: Service, value: Any) -> None:
    from devenv.adopt.mounts import add_secret

    for i, item in enumerate(_listed(r, svc, "secrets", value, "db_password")):
        source = item.get("source") if isinstance(item, dict) else item
        if not isinstance(source, str):
            r.refuse(svc.key("secrets", i), "a secret entry names a top-level secret", "e.g. secrets: [db_password]")
            continue
        add_secret(r, svc, source, ("secrets", i))


def _develop(r: ServiceReader, svc: Service, value: Any) -> None:
    from devenv.adopt.mounts import add_develop_watch

    if value is None:
        return
    if not isinstance(value, dict):
        r.refuse(svc.key("develop"), "`develop` must be a mapping with a `watch:` list", "e.g. develop: {watch: [...]}")
        return
    for key in value:
        if key != "watch":
            r.note(svc.key("develop", key), "not carried")
    rules = value.get("watch")
    if rules is not None and not isinstance(rules, list):
        r.refuse(svc.key("develop", "watch"), "`develop.watch` must be a list of rules",
                 "e.g. watch: [{action: sync, path: ./src, target: /app/src}]")
        return
    for i, rule in enumerate(rules or []):
        add_develop_watch(r, svc, rule, ("develop", "watch", i))


HANDLERS: dict[str, Callable[[ServiceReader, Service, Any], None]] = {
    "ports": _ports,
    "expose": _expose,
    "environment": _environment,
    "env_file": _env_file,
    "command": _command("command"),
    "entrypoint": _command("entrypoint"),
    "user": _user,
    "working_dir": _working_dir,
    "healthcheck": _healthcheck,
    "depends_on": _depends_on,
    "links": _links,
    "restart": _restart,
    "network_mode": _network_mode,
    "profiles": _profiles,
    "deploy": _deploy,
    "scale": _scale,
    "mem_limit": _mem_limit,
    "cpus": _cpus,
    "volumes": _volumes,
    "secrets": _secrets,
    "develop": _develop,
}
