"""Read OCI image layouts: which references they hold, each image's config, its root filesystem.

An image store is one OCI image layout whose manifests carry the full image reference
(``ghcr.io/dask-kubernetes/dask-kubernetes:2026.11.0``) as their
``org.opencontainers.image.ref.name``, as ``image/build.sh`` writes them.  The node
agent's image mode and the image smoke test both get a root filesystem from here:
``umoci unpack`` makes a runtime bundle (``rootfs/`` and a runtime ``config.json``),
once per manifest digest.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REF_NAME = "org.opencontainers.image.ref.name"
DEFAULT_PATH = ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")


class StoreError(RuntimeError):
    """The store is unreadable or an image in it cannot be unpacked; the message says which."""


def normalize(reference: str) -> str:
    """The canonical form of an image reference: a tag (``latest`` when none) and the registry.

    ``dask`` and ``docker.io/library/dask:latest`` name the same image, as in a container
    runtime; a digest reference is kept as it is.
    """
    name, tag = reference, ""
    if "@" not in reference:
        last = reference.rsplit("/", 1)[-1]
        if ":" in last:
            name, tag = reference.rsplit(":", 1)
        tag = tag or "latest"
    first = name.split("/", 1)[0]
    if "/" not in name or ("." not in first and ":" not in first and first != "localhost"):
        name = f"docker.io/{name}" if "/" in name else f"docker.io/library/{name}"
    return f"{name}:{tag}" if tag else name


@dataclass(frozen=True)
class ImageConfig:
    """The parts of an image's config a container runtime uses."""

    user: str = ""
    env: tuple[tuple[str, str], ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    working_dir: str = ""

    @classmethod
    def from_blob(cls, blob: dict[str, Any]) -> ImageConfig:
        """Parse the ``config`` part of an OCI image configuration."""
        config = blob.get("config") or {}
        env = tuple(tuple(item.split("=", 1)) for item in config.get("Env") or [] if "=" in item)
        return cls(
            user=config.get("User") or "",
            env=env,
            entrypoint=tuple(config.get("Entrypoint") or ()),
            cmd=tuple(config.get("Cmd") or ()),
            working_dir=config.get("WorkingDir") or "",
        )

    def environment(self) -> dict[str, str]:
        """The image's environment, with the runtimes' default PATH when it sets none."""
        env = dict(self.env)
        env.setdefault(*DEFAULT_PATH)
        return env


@dataclass
class ImageStore:
    """One OCI layout of images, and a directory where their root filesystems are unpacked."""

    layout: Path
    unpack_dir: Path
    _locks: dict[str, threading.Lock] = field(default_factory=dict, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def at(cls, layout: Path) -> ImageStore:
        """The store of ``layout``, unpacking next to it (``<layout>.unpacked``), kept across runs."""
        return cls(layout, layout.parent / f"{layout.name}.unpacked")

    def _index(self) -> list[dict[str, Any]]:
        try:
            return json.loads((self.layout / "index.json").read_text()).get("manifests") or []
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot read the image store {self.layout}: {exc}") from exc

    def find(self, reference: str) -> str | None:
        """The stored reference that names the same image as ``reference``, or None."""
        wanted = normalize(reference)
        for manifest in self._index():
            stored: str | None = (manifest.get("annotations") or {}).get(REF_NAME)
            if stored and normalize(stored) == wanted:
                return stored
        return None

    def _blob(self, digest: str) -> dict[str, Any]:
        algorithm, value = digest.split(":", 1)
        blob: dict[str, Any] = json.loads((self.layout / "blobs" / algorithm / value).read_text())
        return blob

    def _manifest_digest(self, stored: str) -> str:
        for manifest in self._index():
            if (manifest.get("annotations") or {}).get(REF_NAME) == stored:
                digest: str = manifest["digest"]
                return digest
        raise StoreError(f"image {stored} is not in the store {self.layout}")

    def config(self, stored: str) -> ImageConfig:
        """The config of a stored image (user, environment, entrypoint, command, working dir)."""
        manifest = self._blob(self._manifest_digest(stored))
        return ImageConfig.from_blob(self._blob(manifest["config"]["digest"]))

    def bundle(self, stored: str) -> Path:
        """A runtime bundle of the image (``rootfs/``, ``config.json``), unpacked on first use.

        Unpacked once per manifest digest and shared: callers must not write into it.
        """
        digest = self._manifest_digest(stored).split(":", 1)[1]
        target = self.unpack_dir / digest
        with self._guard:
            lock = self._locks.setdefault(digest, threading.Lock())
        with lock:
            if (target / "config.json").exists():
                return target
            self.unpack_dir.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=self.unpack_dir))
            bundle = tmp / "bundle"
            proc = subprocess.run(
                ["umoci", "unpack", "--image", f"{self.layout}:{stored}", str(bundle)],
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                shutil.rmtree(tmp, ignore_errors=True)
                raise StoreError(f"umoci unpack of {stored} failed: {proc.stderr.strip()[-500:]}")
            try:
                os.replace(bundle, target)
            except OSError:
                if not (target / "config.json").exists():  # else another agent unpacked it first
                    raise
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            return target


def resolve_user(rootfs: Path, user: str) -> tuple[int, int]:
    """The (uid, gid) of an image's ``User`` (``""``, ``uid``, ``uid:gid`` or names), as runtimes do.

    Without a group, the gid is the user's primary group in the image's ``/etc/passwd``,
    else 0.
    """
    if not user:
        return 0, 0
    name, _, group = user.partition(":")
    entry = _passwd(rootfs, name)
    if name.isdigit():
        uid = int(name)
    elif entry is None:
        raise StoreError(f"user {name!r} of the image is not in its /etc/passwd")
    else:
        uid = entry[0]
    gid = entry[1] if entry else 0
    if group:
        gid = int(group) if group.isdigit() else _group_id(rootfs, group)
    return uid, gid


def _passwd(rootfs: Path, user: str) -> tuple[int, int] | None:
    """(uid, gid) of a user name or numeric uid in the image's ``/etc/passwd``, or None."""
    try:
        lines = (rootfs / "etc" / "passwd").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split(":")
        if len(fields) >= 4 and user in (fields[0], fields[2]):
            return int(fields[2]), int(fields[3])
    return None


def _group_id(rootfs: Path, group: str) -> int:
    try:
        lines = (rootfs / "etc" / "group").read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        fields = line.split(":")
        if len(fields) >= 3 and fields[0] == group:
            return int(fields[2])
    raise StoreError(f"group {group!r} of the image is not in its /etc/group")
