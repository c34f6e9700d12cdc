"""Pod volumes for the node agent: files on the host, bind-mounted per container (test infrastructure only).

Each volume becomes a directory under the Pod's state dir; :mod:`.runtime` bind-mounts
it at the ``mountPath`` inside the container's private mount namespace.  The operator
and webhook run as Pods with their real ServiceAccount, so the projected
``kube-api-access`` volume (token from the TokenRequest API, ``ca.crt``, ``namespace``)
must work exactly; tokens are refreshed before they expire.  ConfigMap and Secret
contents are kept in sync while the Pod runs, as the kubelet does: a controller that
writes its own serving certificate into a Secret it mounts (Kueue's internal cert
management, controller-runtime's cert rotators) waits for the files to appear.
Content builders are pure; :class:`PodVolumes` does the fetching and writing.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import Any

from dask_kubernetes.api import times
from dask_kubernetes_dev.nodeagent import env as envmod
from dask_kubernetes_dev.nodeagent.api import ApiError, KubeAPI
from dask_kubernetes_dev.nodeagent.runtime import Mount

log = logging.getLogger(__name__)

SA_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
DEFAULT_TOKEN_VOLUME = "kube-api-access-local"
SUPPORTED = ("emptyDir", "configMap", "secret", "projected", "downwardAPI", "hostPath")
READ_ONLY_KINDS = ("configMap", "secret", "projected", "downwardAPI")
# How often ConfigMap and Secret volumes are re-read.  The kubelet takes up to a minute
# and more (its sync period plus its cache); shorter here so tests do not wait, and
# nothing may rely on the delay either way.
SOURCE_SYNC_SECONDS = 5.0


class UnsupportedVolume(Exception):
    """The Pod asks for something the agent cannot provide; the Pod fails with this message."""


class VolumeNotReady(Exception):
    """A ConfigMap or Secret is missing for now; the kubelet keeps the Pod in ContainerCreating."""


def volume_kind(volume: Mapping[str, Any]) -> str:
    """Which volume source a volume uses, or raise :class:`UnsupportedVolume`."""
    for kind in SUPPORTED:
        if kind in volume:
            return kind
    sources = sorted(k for k in volume if k != "name")
    raise UnsupportedVolume(
        f"volume {volume.get('name')!r} uses {', '.join(sources) or 'no source'}, which the local node agent "
        f"does not support (supported: {', '.join(SUPPORTED)})"
    )


def _safe_relative(path: str) -> str:
    if path.startswith("/") or ".." in Path(path).parts:
        raise UnsupportedVolume(f"invalid path {path!r} in a volume")
    return path


def key_files(
    data: Mapping[str, bytes], items: Sequence[Mapping[str, Any]] | None, kind: str, name: str, optional: bool
) -> dict[str, tuple[bytes, int | None]]:
    """Files of a ConfigMap/Secret projection: every key, or just ``items`` under their paths."""
    if not items:
        return {_safe_relative(key): (value, None) for key, value in data.items()}
    out: dict[str, tuple[bytes, int | None]] = {}
    for item in items:
        key = item["key"]
        if key not in data:
            if optional:
                continue
            what = "config key" if kind == "configmap" else "secret key"
            raise VolumeNotReady(f"{kind} {name} references non-existent {what}: {key}")
        out[_safe_relative(item["path"])] = (data[key], item.get("mode"))
    return out


def object_bytes(obj: Mapping[str, Any], secret: bool) -> dict[str, bytes]:
    """The keys of a ConfigMap (``data`` and ``binaryData``) or Secret (base64 ``data``) as bytes."""
    if secret:
        out = {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
        out.update({k: v.encode() for k, v in (obj.get("stringData") or {}).items()})
        return out
    out = {k: str(v).encode() for k, v in (obj.get("data") or {}).items()}
    out.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
    return out


def downward_files(
    pod: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    *,
    pod_ip: str | None,
    host_ip: str,
    allocatable: Mapping[str, str],
) -> dict[str, tuple[bytes, int | None]]:
    """Files of a downwardAPI volume or projection."""
    out: dict[str, tuple[bytes, int | None]] = {}
    for item in items:
        if "fieldRef" in item:
            value = envmod.field_ref(pod, item["fieldRef"]["fieldPath"], pod_ip=pod_ip, host_ip=host_ip)
        elif "resourceFieldRef" in item:
            ref = item["resourceFieldRef"]
            container = next(
                (
                    c
                    for c in (pod.get("spec") or {}).get("containers") or []
                    if c["name"] == ref.get("containerName")
                ),
                None,
            )
            value = envmod.resource_field(container, ref["resource"], ref.get("divisor"), allocatable)
        else:
            continue
        out[_safe_relative(item["path"])] = (value.encode(), item.get("mode"))
    return out


def write_files(
    directory: Path, files: Mapping[str, tuple[bytes, int | None]], default_mode: int | None
) -> None:
    """Write files atomically (a rename inside a bind-mounted directory is seen by the container)."""
    for relative, (content, mode) in files.items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(content)
        tmp.chmod(mode if mode is not None else (default_mode if default_mode is not None else 0o644))
        os.replace(tmp, target)


def sync_files(
    directory: Path,
    files: Mapping[str, tuple[bytes, int | None]],
    default_mode: int | None,
    previous: Iterable[str] = (),
) -> set[str]:
    """Bring ``directory`` to ``files``: rewrite what changed, drop what only ``previous`` had.

    All changed files are staged before any is renamed into place, so a reader sees a
    certificate and its key change together within microseconds (the kubelet swaps a
    symlink to get the same effect).  Returns the paths now written, the next call's
    ``previous``.  A subPath mount binds one file's inode and so keeps the old content,
    as on a real node.
    """
    staged: list[tuple[Path, Path]] = []
    for relative, (content, mode) in files.items():
        target = directory / relative
        wanted_mode = mode if mode is not None else (default_mode if default_mode is not None else 0o644)
        try:
            if target.read_bytes() == content and target.stat().st_mode & 0o7777 == wanted_mode:
                continue
        except OSError:
            pass
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(content)
        tmp.chmod(wanted_mode)
        staged.append((tmp, target))
    for tmp, target in staged:
        os.replace(tmp, target)
    for relative in set(previous) - set(files):
        (directory / relative).unlink(missing_ok=True)
    return set(files)


@dataclass
class SyncedVolume:
    """A volume whose ConfigMap or Secret contents the agent keeps current."""

    directory: Path
    sources: list[tuple[Mapping[str, Any], bool]]  # (configMap or secret source, is_secret)
    default_mode: int | None
    written: set[str] = field(default_factory=set)


@dataclass
class TokenFile:
    """A projected ServiceAccount token the agent keeps fresh."""

    path: Path
    audiences: list[str] | None
    expiration_seconds: int
    mode: int | None
    refresh_at: float = 0.0


def needs_default_token(pod: Mapping[str, Any], service_account: Mapping[str, Any] | None) -> bool:
    """Whether to mount a token although the admission plugin did not add ``kube-api-access``.

    The API server's ServiceAccount admission normally injects that volume; this only
    covers Pods created with it disabled, honouring ``automountServiceAccountToken``.
    """
    spec = pod.get("spec") or {}
    containers = (spec.get("containers") or []) + (spec.get("initContainers") or [])
    if any(m.get("mountPath") == SA_MOUNT_PATH for c in containers for m in c.get("volumeMounts") or []):
        return False
    if spec.get("automountServiceAccountToken") is not None:
        return bool(spec["automountServiceAccountToken"])
    return (service_account or {}).get("automountServiceAccountToken") is not False


def container_mounts(
    container: Mapping[str, Any],
    paths: Mapping[str, Path],
    kinds: Mapping[str, str],
    env: Mapping[str, str],
    *,
    default_token: bool,
) -> list[Mount]:
    """The bind mounts of one container, parents before children."""
    mounts: list[Mount] = []
    for spec in container.get("volumeMounts") or []:
        name = spec["name"]
        if name not in paths:
            raise UnsupportedVolume(f"volumeMount {name!r} refers to no volume")
        source = paths[name]
        sub = spec.get("subPath") or envmod.expand(spec.get("subPathExpr") or "", env)
        if sub:
            source = source / _safe_relative(sub)
            if not source.exists():
                source.mkdir(parents=True, exist_ok=True)
        read_only = bool(spec.get("readOnly")) or kinds.get(name) in READ_ONLY_KINDS
        mounts.append(Mount(source, spec["mountPath"], read_only))
    if default_token and DEFAULT_TOKEN_VOLUME in paths:
        mounts.append(Mount(paths[DEFAULT_TOKEN_VOLUME], SA_MOUNT_PATH, True))
    return sorted(mounts, key=lambda m: len(Path(m.target).parts))


@dataclass(eq=False, repr=False)
class PodVolumes:
    """Materialises one Pod's volumes under its state dir and refreshes its tokens."""

    api: KubeAPI
    pod: Mapping[str, Any]
    directory: Path
    _: KW_ONLY
    ca_file: Path
    host_ip: str
    allocatable: Mapping[str, str]
    paths: dict[str, Path] = field(default_factory=dict, init=False)
    kinds: dict[str, str] = field(default_factory=dict, init=False)
    tokens: list[TokenFile] = field(default_factory=list, init=False)
    synced: list[SyncedVolume] = field(default_factory=list, init=False)
    default_token: bool = field(default=False, init=False)

    @property
    def namespace(self) -> str:
        """The Pod's namespace, where its ConfigMaps, Secrets and ServiceAccount live."""
        namespace: str = self.pod["metadata"]["namespace"]
        return namespace

    def check(self) -> None:
        """Fail fast on volume types the agent cannot provide."""
        for volume in (self.pod.get("spec") or {}).get("volumes") or []:
            volume_kind(volume)

    async def _object(self, kind: str, name: str) -> dict[str, Any] | None:
        return await self.api.get_optional(f"/api/v1/namespaces/{self.namespace}/{kind}/{name}")

    async def _key_source(
        self, source: Mapping[str, Any], secret: bool
    ) -> dict[str, tuple[bytes, int | None]]:
        kind = "secret" if secret else "configmap"
        name = source.get("secretName" if secret else "name") or source.get("name", "")
        obj = await self._object("secrets" if secret else "configmaps", name)
        optional = bool(source.get("optional"))
        if obj is None:
            if optional:
                return {}
            raise VolumeNotReady(f'{kind} "{name}" not found')
        return key_files(object_bytes(obj, secret), source.get("items"), kind, name, optional)

    async def prepare(self, pod_ip: str | None) -> None:
        """Create every volume's directory and files; raise :class:`VolumeNotReady` to be retried."""
        self.check()
        spec = self.pod.get("spec") or {}
        volumes = list(spec.get("volumes") or [])
        sa_name = spec.get("serviceAccountName") or "default"
        self.default_token = needs_default_token(self.pod, {}) and needs_default_token(
            self.pod, await self._object("serviceaccounts", sa_name)
        )
        if self.default_token:
            volumes.append({"name": DEFAULT_TOKEN_VOLUME, "projected": {"sources": [], "x-default": True}})
        self.tokens = []
        self.synced = []
        for volume in volumes:
            kind = volume_kind(volume)
            name = volume["name"]
            self.kinds[name] = kind
            source = volume[kind]
            if kind == "hostPath":
                self.paths[name] = self._host_path(source)
                continue
            directory = self.directory / "volumes" / name
            directory.mkdir(parents=True, exist_ok=True)
            if kind == "emptyDir":
                directory.chmod(0o777)  # as the kubelet makes it: writable by any runAsUser
            self.paths[name] = directory
            mode = source.get("defaultMode")
            if kind in ("configMap", "secret"):
                await self._sync_volume(
                    SyncedVolume(directory, [(source, kind == "secret")], mode), first=True
                )
            elif kind == "downwardAPI":
                files = downward_files(
                    self.pod, source.get("items") or [], pod_ip=pod_ip, host_ip=self.host_ip,
                    allocatable=self.allocatable,
                )  # fmt: skip
                write_files(directory, files, mode)
            elif kind == "projected":
                await self._projected(directory, source, pod_ip)
        await self.refresh_tokens(force=True)

    def _host_path(self, source: Mapping[str, Any]) -> Path:
        path = Path(source["path"])
        kind = source.get("type") or ""
        if kind == "DirectoryOrCreate":
            path.mkdir(parents=True, exist_ok=True)
        elif kind == "FileOrCreate" and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        if not path.exists():
            raise UnsupportedVolume(f"hostPath {path} does not exist on the local node")
        return path

    async def _projected(self, directory: Path, source: Mapping[str, Any], pod_ip: str | None) -> None:
        mode = source.get("defaultMode")
        sources = list(source.get("sources") or [])
        if source.get("x-default"):
            write_files(directory, {"ca.crt": (self.ca_file.read_bytes(), None)}, mode)
            sources = [
                {"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}},
                {
                    "downwardAPI": {
                        "items": [{"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}]
                    }
                },
            ]
        synced = SyncedVolume(directory, [], mode)
        for item in sources:
            if "serviceAccountToken" in item:
                token = item["serviceAccountToken"]
                audience = token.get("audience")
                self.tokens.append(
                    TokenFile(
                        directory / _safe_relative(token["path"]),
                        [audience] if audience else None,
                        int(token.get("expirationSeconds") or 3600),
                        mode,
                    )
                )
            elif "configMap" in item:
                synced.sources.append((item["configMap"], False))
            elif "secret" in item:
                synced.sources.append((item["secret"], True))
            elif "downwardAPI" in item:
                files = downward_files(
                    self.pod, item["downwardAPI"].get("items") or [], pod_ip=pod_ip, host_ip=self.host_ip,
                    allocatable=self.allocatable,
                )  # fmt: skip
                write_files(directory, files, mode)
            else:
                raise UnsupportedVolume(
                    f"projected source {sorted(item)} is not supported by the local node agent"
                )
        if synced.sources:
            await self._sync_volume(synced, first=True)

    async def _sync_volume(self, volume: SyncedVolume, *, first: bool = False) -> None:
        """Write a volume's ConfigMap and Secret keys; the first time, start keeping them current."""
        files: dict[str, tuple[bytes, int | None]] = {}
        for source, secret in volume.sources:
            files.update(await self._key_source(source, secret))
        volume.written = sync_files(volume.directory, files, volume.default_mode, volume.written)
        if first:
            self.synced.append(volume)

    async def keep_sources_fresh(self) -> None:
        """Re-read ConfigMap and Secret volumes every :data:`SOURCE_SYNC_SECONDS` until cancelled.

        A source that is gone (or lost a key) keeps its last content, as on a real node.
        """
        while self.synced:
            await asyncio.sleep(SOURCE_SYNC_SECONDS)
            for volume in self.synced:
                try:
                    await self._sync_volume(volume)
                except (VolumeNotReady, ApiError, UnsupportedVolume) as exc:
                    log.debug(
                        "%s/%s: volume not refreshed: %s", self.namespace, self.pod["metadata"]["name"], exc
                    )

    async def _request_token(self, token: TokenFile) -> tuple[str, float]:
        meta = self.pod["metadata"]
        sa_name = (self.pod.get("spec") or {}).get("serviceAccountName") or "default"
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {
                "audiences": token.audiences,
                "expirationSeconds": token.expiration_seconds,
                "boundObjectRef": {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "name": meta["name"],
                    "uid": meta["uid"],
                },
            },
        }
        try:
            answer = await self.api.post(
                f"/api/v1/namespaces/{self.namespace}/serviceaccounts/{sa_name}/token", body
            )
        except ApiError as exc:
            raise VolumeNotReady(f"token request for serviceaccount {sa_name} failed: {exc}") from exc
        expires = times.parse_time(answer["status"]["expirationTimestamp"])
        if expires is None:
            raise VolumeNotReady(
                f"token request for serviceaccount {sa_name}: unreadable expirationTimestamp"
            )
        lifetime = expires - time.time()
        return answer["status"]["token"], max(10.0, min(lifetime, token.expiration_seconds) * 0.8)

    async def refresh_tokens(self, *, force: bool = False) -> None:
        """Request the tokens that are due (all of them with ``force``) and write them."""
        loop = asyncio.get_running_loop()
        for token in self.tokens:
            if force or loop.time() >= token.refresh_at:
                value, refresh_in = await self._request_token(token)
                write_files(token.path.parent, {token.path.name: (value.encode(), token.mode)}, 0o644)
                token.refresh_at = loop.time() + refresh_in

    async def keep_tokens_fresh(self) -> None:
        """Refresh tokens at 80% of their lifetime, as the kubelet does, until cancelled."""
        while self.tokens:
            loop = asyncio.get_running_loop()
            await asyncio.sleep(max(1.0, min(t.refresh_at for t in self.tokens) - loop.time()))
            try:
                await self.refresh_tokens()
            except VolumeNotReady as exc:
                log.warning("%s/%s: %s", self.namespace, self.pod["metadata"]["name"], exc)
                for token in self.tokens:
                    token.refresh_at = loop.time() + 10
