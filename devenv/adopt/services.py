"""One compose service at a time into devenv's components, images, volumes and watch rules.

Each compose key has a handler (``HANDLERS``) or a reason it cannot be carried (``DROPPED``); a key
in neither is not in the Compose spec and is noted as ignored. Handlers write into the ``Adopted``
documents and add a note wherever devenv decides something the user did not write.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devenv.adopt import credrefs, parts
from devenv.adopt.interpolate import Environment, read_dotenv
from devenv.adopt.result import Adopted, dns_name
from devenv.errors import DevenvError
from devenv.importer import credential_reason
from devenv.model.yamlpos import KeyPath, Positions, dotted

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
REF_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._/:-]*(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(@sha256:[a-f0-9]{64})?$")
DEFAULT_PORTS_PER_TENANT = 20
RESTARTS = {"no", "always", "on-failure", "unless-stopped"}

HOST_ONLY = "a tenant runs isolated beside other tenants; this host-level setting would break that isolation"
DROPPED: dict[str, str] = {
    "network_mode": "every tenant has its own network (host networking would make tenants' ports collide)",
    "privileged": "devenv does not run privileged containers (" + HOST_ONLY + ")",
    "runtime": "devenv runs containers with the engine's default runtime (kind has no per-container runtime)",
    "devices": "host devices are not passed to containers: " + HOST_ONLY,
    "device_cgroup_rules": "host devices are not passed to containers: " + HOST_ONLY,
    "gpus": "host devices are not passed to containers: " + HOST_ONLY,
    "cap_add": "extra Linux capabilities are not granted: " + HOST_ONLY,
    "cap_drop": "not carried: devenv keeps the engine's default capabilities",
    "pid": "sharing a PID namespace with the host or another container is not carried: " + HOST_ONLY,
    "ipc": "sharing an IPC namespace is not carried: " + HOST_ONLY,
    "uts": "sharing the UTS namespace is not carried: " + HOST_ONLY,
    "userns_mode": "user namespace modes are not carried: " + HOST_ONLY,
    "cgroup": "cgroup namespace modes are not carried: " + HOST_ONLY,
    "cgroup_parent": "cgroup parents are host-specific: " + HOST_ONLY,
    "isolation": "a Windows isolation technology; not carried",
    "security_opt": "security options are not carried (the engine's defaults apply)",
    "volumes_from": "mounting another container's volumes is not carried: declare the named volume on each service",
    "external_links": "links to containers outside the project are not carried: each tenant is isolated",
    "sysctls": "kernel parameters are not carried (the engine's defaults apply)",
    "ulimits": "ulimits are not carried (the engine's defaults apply)",
    "oom_kill_disable": "OOM settings are not carried",
    "oom_score_adj": "OOM settings are not carried",
    "mem_swappiness": "memory tuning is not carried",
    "memswap_limit": "memory tuning is not carried",
    "mem_reservation": "carried only as deploy.resources.reservations.memory",
    "cpu_shares": "CPU tuning is not carried (use deploy.resources.limits.cpus)",
    "cpu_quota": "CPU tuning is not carried (use deploy.resources.limits.cpus)",
    "cpu_period": "CPU tuning is not carried (use deploy.resources.limits.cpus)",
    "cpu_rt_runtime": "CPU tuning is not carried",
    "cpu_rt_period": "CPU tuning is not carried",
    "cpu_count": "CPU tuning is not carried (use deploy.resources.limits.cpus)",
    "cpu_percent": "CPU tuning is not carried (use deploy.resources.limits.cpus)",
    "cpuset": "CPU pinning is host-specific; not carried",
    "blkio_config": "block IO tuning is not carried",
    "storage_opt": "storage driver options are not carried",
    "pids_limit": "not carried (the engine's default applies)",
    "group_add": "supplementary groups are not carried; set `user: uid:gid`",
    "credential_spec": "a Windows setting; not carried",
    "platform": "images build and run for this machine's platform",
    "extra_hosts": "extra /etc/hosts entries are not carried: components reach each other by service name",
    "dns": "custom DNS servers are not carried (the tenant network's resolver applies)",
    "dns_search": "custom DNS search domains are not carried",
    "dns_opt": "custom DNS options are not carried",
    "mac_address": "fixed MAC addresses would collide between tenants",
    "hostname": "a component's host name is its service name on the tenant's network",
    "domainname": "a component's host name is its service name on the tenant's network",
    "networks": "every component of a tenant shares the tenant's own network (aliases are not carried)",
    "logging": "devenv reads the engine's logs itself; logging drivers are not carried",
    "stop_signal": "not carried: devenv stops containers with the engine's default signal",
    "stop_grace_period": "not carried: devenv's own stop timeout applies",
    "init": "not carried: use an init (tini, dumb-init) in the image's ENTRYPOINT",
    "tty": "devenv streams logs; no TTY is allocated",
    "stdin_open": "devenv streams logs; stdin is not kept open",
    "shm_size": "not carried (add it in compose/<component>.yaml, a compose fragment, if needed)",
    "read_only": "not carried: devenv syncs files into running containers",
    "tmpfs": "tmpfs mounts are not carried",
    "configs": "devenv mounts no host files; bake the config into the image",
    "labels": "devenv labels every object itself (tenant, component); user labels are not carried",
    "label_file": "devenv labels every object itself; not carried",
    "annotations": "not carried",
    "attach": "devenv attaches to every component's logs",
    "pull_policy": "devenv pulls an image only when it is not present, and never pulls images it builds",
    "container_name": "dropped: every tenant runs its own copy, and fixed container names would collide",
    "post_start": "lifecycle hooks are not carried",
    "pre_stop": "lifecycle hooks are not carried",
    "use_api_socket": "the engine's socket is never handed to a container",
    "provider": "provider services are not part of devenv",
    "models": "model runners are not part of devenv",
    "mem_swap_limit": "memory tuning is not carried",
}


@dataclass
class Service:
    """One compose service as it is being read: where its keys are and what it becomes."""

    name: str  # the compose name
    comp: str  # the devenv name
    data: dict[str, Any]
    out: dict[str, Any] = field(default_factory=dict)
    built: bool = False
    context: Path | None = None
    noted_ports: bool = False
    secret_env: dict[str, str] = field(default_factory=dict)  # credential-looking env: name -> dev value
    wanted_env: dict[str, KeyPath] = field(default_factory=dict)  # credentials a command references: name -> where

    def key(self, *path: str | int) -> KeyPath:
        return ("services", self.name, *path)


class ServiceReader:
    """Reads every service into ``adopted``; ``finish`` assembles the three documents."""

    def __init__(self, adopted: Adopted, pos: Positions, folder: Path, root: Path, env: Environment,
                 data: dict[str, Any]) -> None:
        self.adopted = adopted
        self.pos = pos
        self.folder = folder
        self.root = root
        self.env = env
        self.top = data
        self.names: dict[str, str] = {}
        self.images: dict[str, dict[str, Any]] = {}
        self.image_keys: dict[str, str] = {}
        self.components: dict[str, dict[str, Any]] = {}
        self.services: dict[str, dict[str, Any]] = {}
        self.profile_comps: dict[str, dict[str, Any]] = {}
        self.secrets: list[dict[str, str]] = []
        self.secret_values: dict[str, dict[str, Any]] = {}
        self.personal_values: dict[str, dict[str, str]] = {}  # only for the git-ignored devenv.personal.yaml
        self.disabled: list[str] = []
        self.port_count = 0
        self.noted_volumes: set[str] = set()

    # --- notes -------------------------------------------------------------------------------

    def note(self, path: KeyPath, message: str) -> None:
        self.adopted.note(self.pos.file, self.pos.line(path), dotted(path), message)

    def refuse(self, path: KeyPath, message: str, hint: str) -> None:
        self.adopted.refuse(self.pos.file, self.pos.line(path), dotted(path), message, hint)

    # --- the walk ----------------------------------------------------------------------------

    def read_all(self, services: dict[str, dict[str, Any]]) -> None:
        self._name_services(services)
        for name, data in services.items():
            if name in self.names:
                self.read(Service(name, self.names[name], data))

    def _name_services(self, services: dict[str, dict[str, Any]]) -> None:
        taken: dict[str, str] = {}
        for name in services:
            comp = dns_name(name)
            if comp in taken:
                self.refuse(("services", name), f"service '{name}' and '{taken[comp]}' both become component '{comp}'",
                            "rename one of them (devenv names are lower-case letters, digits and '-')")
                continue
            taken[comp] = name
            self.names[name] = comp
            if comp != name:
                self.note(("services", name), f"renamed to '{comp}' (devenv names are DNS labels); its host name on "
                                              f"the tenant network is now '{comp}': update references to '{name}'")

    def read(self, svc: Service) -> None:
        refused = credrefs.unreferencable_keys(self, svc)
        svc.built = "build" in svc.data
        if refused & {"build", "image"}:
            return
        if svc.built:
            self._build(svc)
        elif isinstance(svc.data.get("image"), str):
            self._image_ref(svc)
        else:
            self.refuse(svc.key(), "the service has neither `build:` nor `image:`",
                        "add `image: REF` (a registry image) or `build: DIR` (a folder with a Dockerfile)")
            return
        for key, value in svc.data.items():
            if key not in refused:
                self._key(svc, key, value)
        credrefs.secret_command(self, svc)
        credrefs.deliver_wanted(self, svc)
        self._env_secrets(svc)
        target = self.components if svc.built else self.services
        target[svc.comp] = svc.out

    def _key(self, svc: Service, key: str, value: Any) -> None:
        if key in ("build", "image", "extends") or key.startswith("x-"):
            return
        from devenv.adopt.keys import HANDLERS

        handler = HANDLERS.get(key)
        if handler is not None:
            handler(self, svc, value)
        elif key in DROPPED:
            self.note(svc.key(key), DROPPED[key])
        else:
            self.note(svc.key(key), "not a Compose spec service key; ignored")

    # --- env and the credentials in it ----------------------------------------------------------

    def put_env(self, svc: Service, key: str, value: str, where: tuple[str, int | None, str], override: bool,
                uses: list[str] | None = None) -> None:
        """One env var of ``svc`` (``where`` is its ``file``, ``line`` and key as notes name them). A value that looks like a
        credential (``importer.credential_reason``: the one decision, by name and by value shape)
        is never written into devenv.yaml: it becomes a reference to the component's own secret in
        the profile, and its dev value goes only to the git-ignored devenv.personal.yaml. ``override``
        is `environment` (it wins over env_file, whatever the key order); ``uses`` names the
        credential variables interpolated into the value (a secret even if the whole does not look like one)."""
        env = svc.out.setdefault("env", {})
        if not override and (key in env or key in svc.secret_env):
            return
        env.pop(key, None)
        svc.secret_env.pop(key, None)
        why = credential_reason(key, value) or (f"it uses {credrefs.refs(uses)}" if uses else None)
        if why is None:
            env[key] = value
            return
        svc.secret_env[key] = value
        self.adopted.note(*where, f"looks like a credential ({why}): devenv.yaml gets no value; "
                                                   f"the profile references secret '{env_secret_name(svc.comp)}' (key "
                                                   f"{key}) and its dev value is written only to the git-ignored "
                                                   "devenv.personal.yaml")

    def _env_secrets(self, svc: Service) -> None:
        if not svc.secret_env:
            return
        if svc.out.get("env") == {}:
            del svc.out["env"]
        name = env_secret_name(svc.comp)
        refs = self.profile_comps.setdefault(svc.comp, {}).setdefault("secrets", [])
        refs += [{"name": name, "key": k, "env": k} for k in svc.secret_env]
        self.personal_values[name] = dict(svc.secret_env)

    # --- images ------------------------------------------------------------------------------

    def _build(self, svc: Service) -> None:
        spec = parts.build_spec(svc.data["build"])
        if spec is None:
            self.refuse(svc.key("build"), "`build` must be a context path or a mapping with `context:`",
                        "e.g. build: {context: ., dockerfile: Dockerfile}")
            return
        image = self._image_def(svc, spec)
        if image is None:
            return
        identity = repr(sorted(image.items()))
        name = self.image_keys.setdefault(identity, svc.comp)
        if name == svc.comp:
            self.images[name] = image
        else:
            self.note(svc.key("build"), f"same build as '{name}': both run image '{name}' (built once)")
        svc.out["image"] = name
        self._pin_registry_image(svc)

    def _image_def(self, svc: Service, spec: dict[str, Any]) -> dict[str, Any] | None:
        context = str(spec.get("context") or ".")
        if "://" in context or context.startswith("git@"):
            self.refuse(svc.key("build", "context"), f"remote build context '{context}' cannot be hashed or watched",
                        "clone it beside the compose file and point `context:` at the folder")
            return None
        path = (self.folder / context).resolve()
        rel = self.inside(path)
        if rel is None or not path.is_dir():
            why = "is not a folder" if rel is not None else f"lies outside the project root {self.root}"
            self.refuse(svc.key("build", "context"), f"build context '{context}' {why}",
                        "run init from the folder that holds every build context (--root DIR)")
            return None
        svc.context = path
        image: dict[str, Any] = {"context": rel}
        if "dockerfile_inline" in spec:
            self.refuse(svc.key("build", "dockerfile_inline"), "an inline Dockerfile cannot be hashed with its context",
                        "save it as a file in the context and set `dockerfile:` to it")
            return None
        if spec.get("dockerfile"):
            image["dockerfile"] = str(spec["dockerfile"])
        args = self._build_args(svc, spec.get("args"))
        if args:
            image["args"] = args
        if spec.get("target"):
            image["target"] = str(spec["target"])
        for key in spec:
            if key not in parts.BUILD_CARRIED:
                self.note(svc.key("build", key), parts.BUILD_DROPPED.get(key, "not carried by devenv's builder"))
        return image

    def _build_args(self, svc: Service, raw: Any) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in parts.env_mapping(raw).items():
            if credrefs.has_sentinel(value):
                self.note(svc.key("build", "args", key), f"uses {credrefs.refs(credrefs.masked_names(value, self.env))}: "
                                                        "not written into devenv.yaml (a build arg ends up in the image's "
                                                        "history); pass it as a build secret")
                continue
            if value is None:
                value = self.env.get(key)
                if value is None:
                    self.note(svc.key("build", "args", key), "no value in .env or the shell: left to the Dockerfile's default")
                    continue
            if credential_reason(key, parts.scalar(value)):
                self.note(svc.key("build", "args", key), "looks like a credential: not written into devenv.yaml (a build "
                                                        "arg ends up in the image's history); pass it as a build secret")
            elif ENV_NAME.match(key):
                out[key] = parts.scalar(value)
            else:
                self.note(svc.key("build", "args", key), "not a valid build-arg name; dropped")
        return out

    def _pin_registry_image(self, svc: Service) -> None:
        ref = svc.data.get("image")
        if not isinstance(ref, str):
            return
        if REF_PATTERN.match(ref):
            self.profile_comps.setdefault(svc.comp, {})["image"] = ref
            self.note(svc.key("image"), f"kept as production's image in profiles/{self.adopted.tenant}.yaml; "
                                        "locally the service is built from source with a content tag")
        else:
            self.note(svc.key("image"), "the image name is replaced by a content tag devenv computes")

    def _image_ref(self, svc: Service) -> None:
        ref = str(svc.data["image"])
        if not REF_PATTERN.match(ref):
            self.refuse(svc.key("image"), f"'{ref}' is not an image reference devenv can pull",
                        "use a lower-case repository[:tag][@sha256:digest]")
            return
        svc.out["ref"] = ref

    def inside(self, path: Path) -> str | None:
        """``path`` relative to the project root, or ``None`` outside it."""
        if path != self.root and not path.is_relative_to(self.root):
            return None
        return str(path.relative_to(self.root)) if path != self.root else "."

    # --- assembling --------------------------------------------------------------------------

    def finish(self, name: str) -> None:
        from devenv.adopt.layout import assemble

        assemble(self, name)


def command_list(value: Any) -> list[str] | None:
    """Compose splits a string command like a shell would, and runs it without a shell."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError:
            return ["sh", "-c", value]
    return [parts.scalar(v) for v in value] if isinstance(value, list) else None


def env_secret_name(comp: str) -> str:
    """The secret holding a component's credential-looking env vars (one key per variable)."""
    return f"{comp}-env"


def read_env_file(reader: ServiceReader, svc: Service, path: KeyPath, rel: str, required: bool,
                  lines: dict[str, int] | None = None) -> dict[str, str]:
    file = reader.folder / rel
    try:
        values, bad = read_dotenv(file, lines, rel)
    except (DevenvError, UnicodeDecodeError) as exc:
        why = exc.message if isinstance(exc, DevenvError) else "not UTF-8 text"
        missing = not os.path.lexists(file)
        if required or not missing:
            reader.refuse(path, f"env_file '{rel}' cannot be read ({why})",
                          "create the file, or mark it `required: false`" if missing
                          else f"make {rel} a regular UTF-8 text file of KEY=VALUE lines")
        else:
            reader.note(path, f"optional env_file '{rel}' is missing; skipped")
        return {}
    for line, why in bad:
        reader.note(path, f"{rel}:{line}: {why}; skipped")
    return values


def restart_policy(value: Any) -> str | None:
    text = str(value).split(":", 1)[0] if value is not None else ""
    if value is False:
        text = "no"
    return text if text in RESTARTS else None
