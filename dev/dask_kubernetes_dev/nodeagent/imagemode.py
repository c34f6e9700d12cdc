"""Image mode of the node agent: run a container inside its image's root filesystem (test infrastructure).

Without an image store the agent runs every container from its own Python environment
(see :mod:`.image`).  With one (``--image-store``, an OCI layout such as
``.cache/image/store``), a container whose image is in the store runs inside that
image instead: the sandbox prelude bind-mounts the unpacked root filesystem at a
per-container mount point, mounts ``/proc``, a small ``/dev``, ``/sys``, the volumes,
``/etc/hosts`` and ``/etc/resolv.conf`` under it, makes it read-only when
``readOnlyRootFilesystem`` says so, and ``chroot``\\ s into it as the user the image and
the securityContext name.  Nothing of the host's Python is bound in: the image's own
interpreter runs.  Environment, command and user follow the kubelet's rules.  The
unpacked root filesystem is shared by every container of that image, so only empty
mount-point directories are ever created in it.
"""

from __future__ import annotations

import os
import posixpath
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dask_kubernetes_dev.image.store import ImageConfig, resolve_user
from dask_kubernetes_dev.nodeagent import env as envmod
from dask_kubernetes_dev.nodeagent.runtime import HOSTNAME_MAX, Mount, StartError

DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
_MAX_LINKS = 40


@dataclass(frozen=True)
class ImageRun:
    """How one container runs from its image: root filesystem, config, identity."""

    reference: str
    rootfs: Path
    config: ImageConfig
    uid: int
    gid: int
    groups: tuple[int, ...]
    read_only: bool


def security_value(pod: Mapping[str, Any], container: Mapping[str, Any], key: str) -> Any:
    """A securityContext field: the container's, else the Pod's (as the kubelet merges them)."""
    own = (container.get("securityContext") or {}).get(key)
    if own is not None:
        return own
    return ((pod.get("spec") or {}).get("securityContext") or {}).get(key)


def identity(
    pod: Mapping[str, Any], container: Mapping[str, Any], rootfs: Path, config: ImageConfig
) -> tuple[int, int, tuple[int, ...]]:
    """(uid, gid, supplementary groups): runAsUser/runAsGroup over the image's ``User``.

    Raises :class:`.env.EnvError` (CreateContainerConfigError) when ``runAsNonRoot``
    meets uid 0, with the kubelet's wording.
    """
    image_uid, image_gid = resolve_user(rootfs, config.user)
    run_as_user = security_value(pod, container, "runAsUser")
    uid = int(run_as_user) if run_as_user is not None else image_uid
    run_as_group = security_value(pod, container, "runAsGroup")
    gid = int(run_as_group) if run_as_group is not None else (image_gid if uid == image_uid else 0)
    if security_value(pod, container, "runAsNonRoot") and uid == 0:
        raise envmod.EnvError("container has runAsNonRoot and image will run as root")
    pod_context = (pod.get("spec") or {}).get("securityContext") or {}
    groups = [gid, *(int(g) for g in pod_context.get("supplementalGroups") or [])]
    if pod_context.get("fsGroup") is not None:
        groups.append(int(pod_context["fsGroup"]))
    return uid, gid, tuple(dict.fromkeys(groups))


def command_line(container: Mapping[str, Any], config: ImageConfig, env: Mapping[str, str]) -> list[str]:
    """The kubelet's rule: ``command`` replaces the entrypoint, ``args`` replace the image's Cmd."""
    command = [envmod.expand(str(p), env) for p in container.get("command") or []]
    args = [envmod.expand(str(p), env) for p in container.get("args") or []]
    if command:
        argv = command + args
    else:
        argv = list(config.entrypoint) + (args or list(config.cmd))
    if not argv:
        raise envmod.EnvError(f"container {container.get('name')!r}: no command specified")
    return argv


def image_env(run: ImageRun, hostname: str) -> dict[str, str]:
    """The image's environment plus HOSTNAME and HOME (from the image's passwd, else ``/``)."""
    env = run.config.environment()
    env["HOSTNAME"] = hostname
    env.setdefault("HOME", _home(run.rootfs, run.uid))
    return env


def _home(rootfs: Path, uid: int) -> str:
    try:
        for line in (rootfs / "etc" / "passwd").read_text().splitlines():
            fields = line.split(":")
            if len(fields) >= 6 and fields[2] == str(uid):
                return fields[5] or "/"
    except OSError:
        pass
    return "/"


def resolve_in_root(rootfs: Path, path: str) -> str:
    """``path`` inside the image with its symlinks followed there, never onto the host's files.

    Returned relative to the root filesystem (``var/run`` -> ``run`` in Debian); a
    missing tail is kept as written, to be created.
    """
    parts = [p for p in path.split("/") if p and p != "."]
    resolved: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = rootfs.joinpath(*resolved, part)
        if candidate.is_symlink():
            hops += 1
            if hops > _MAX_LINKS:
                raise StartError(f"too many levels of symbolic links in {path} inside the image")
            link = os.readlink(candidate)
            if link.startswith("/"):
                resolved = []
            parts = [p for p in link.split("/") if p and p != "."] + parts
            continue
        resolved.append(part)
    return posixpath.join(*resolved) if resolved else ""


def check_executable(run: ImageRun, argv: Sequence[str], env: Mapping[str, str]) -> None:
    """Raise :class:`StartError` like a runtime when the command is not in the image."""
    name = argv[0]
    candidates = [name] if "/" in name else [f"{d}/{name}" for d in env.get("PATH", "").split(":") if d]
    for candidate in candidates:
        target = run.rootfs / resolve_in_root(run.rootfs, candidate)
        if target.is_file() and os.access(target, os.X_OK):
            return
    if "/" in name:
        raise StartError(f'exec: "{name}": stat {name}: no such file or directory')
    raise StartError(f'exec: "{name}": executable file not found in $PATH')


def mount_script(
    run: ImageRun, root: Path, hostname: str | None, mounts: Sequence[Mount], workdir: str
) -> str:
    """The ``sh`` prelude of an image-mode container, ending in ``chroot`` as the container's user."""
    q = shlex.quote
    rootfs = run.rootfs

    def inside(target: str) -> str:
        relative = resolve_in_root(rootfs, target)
        return q(f"{root}/{relative}" if relative else str(root))

    lines = ["set -e"]
    if hostname:
        lines.append(f"hostname {q(hostname[:HOSTNAME_MAX].rstrip('.-'))}")
    lines += [
        f"mkdir -p {q(str(root))}",
        f"mount --bind {q(str(rootfs))} {q(str(root))}",
        f"mount -t proc -o nosuid,nodev,noexec proc {inside('/proc')}",
        f"mount --rbind /sys {inside('/sys')}",
        f"mount -t tmpfs -o nosuid,mode=755 tmpfs {inside('/dev')}",
    ]
    dev = inside("/dev")
    for device in DEVICES:
        lines.append(f"touch {dev}/{device} && mount --bind /dev/{device} {dev}/{device}")
    lines += [
        f"mkdir -p {dev}/shm {dev}/pts && mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs {dev}/shm",
        f"ln -s /proc/self/fd {dev}/fd && ln -s /proc/self/fd/0 {dev}/stdin",
        f"ln -s /proc/self/fd/1 {dev}/stdout && ln -s /proc/self/fd/2 {dev}/stderr",
    ]
    for mount in mounts:
        target = inside(mount.target)
        if mount.source.is_dir():
            lines.append(f"mkdir -p {target}")
        else:
            lines.append(f'mkdir -p "$(dirname {target})"; [ -e {target} ] || touch {target}')
        lines.append(f"mount --bind {q(str(mount.source))} {target}")
        if mount.read_only:
            lines.append(f"mount -o remount,bind,ro {target}")
    if run.read_only:
        lines.append(f"mount -o remount,bind,ro {q(str(root))}")
    groups = ",".join(str(g) for g in run.groups)
    lines.append(
        f"exec chroot --userspec={run.uid}:{run.gid} --groups={groups} {q(str(root))} "
        f'/bin/sh -c \'cd "$0" && exec "$@"\' {q(workdir)} "$@"'
    )
    return "\n".join(lines)


def etc_mounts(etc_dir: Path) -> list[Mount]:
    """The Pod's hosts file and resolver, which ``ip netns exec`` only binds over the host's /etc."""
    return [
        Mount(etc_dir / "hosts", "/etc/hosts", True),
        Mount(etc_dir / "resolv.conf", "/etc/resolv.conf", True),
    ]


def workdir(container: Mapping[str, Any], config: ImageConfig) -> str:
    """``workingDir``, else the image's, else ``/``."""
    return container.get("workingDir") or config.working_dir or "/"
