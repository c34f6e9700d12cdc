import asyncio
import base64
from pathlib import Path

import pytest

from dask_kubernetes_dev.nodeagent import volumes
from dask_kubernetes_dev.nodeagent.runtime import Mount

POD = {
    "metadata": {"name": "p", "namespace": "n", "uid": "u", "labels": {"a": "b"}},
    "spec": {"containers": []},
}


def test_volume_kind_rejects_unsupported():
    assert volumes.volume_kind({"name": "x", "emptyDir": {}}) == "emptyDir"
    with pytest.raises(volumes.UnsupportedVolume, match="persistentVolumeClaim"):
        volumes.volume_kind({"name": "x", "persistentVolumeClaim": {"claimName": "c"}})


def test_object_bytes_and_key_files():
    cm = {"data": {"a": "1"}, "binaryData": {"b": base64.b64encode(b"\x00\x01").decode()}}
    assert volumes.object_bytes(cm, secret=False) == {"a": b"1", "b": b"\x00\x01"}
    secret = {"data": {"pw": base64.b64encode(b"x").decode()}}
    assert volumes.object_bytes(secret, secret=True) == {"pw": b"x"}
    data = {"a": b"1", "b": b"2"}
    assert volumes.key_files(data, None, "configmap", "cm", False) == {"a": (b"1", None), "b": (b"2", None)}
    items = [{"key": "a", "path": "sub/file", "mode": 0o600}]
    assert volumes.key_files(data, items, "configmap", "cm", False) == {"sub/file": (b"1", 0o600)}
    with pytest.raises(volumes.VolumeNotReady):
        volumes.key_files(data, [{"key": "zz", "path": "z"}], "configmap", "cm", False)
    assert volumes.key_files(data, [{"key": "zz", "path": "z"}], "configmap", "cm", True) == {}
    with pytest.raises(volumes.UnsupportedVolume):
        volumes.key_files(data, [{"key": "a", "path": "../escape"}], "configmap", "cm", False)


def test_downward_files():
    items = [
        {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
        {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
    ]
    files = volumes.downward_files(POD, items, pod_ip="1.2.3.4", host_ip="1.2.3.1", allocatable={})
    assert files == {"name": (b"p", None), "labels": (b'a="b"', None)}


def test_write_files(tmp_path):
    volumes.write_files(tmp_path, {"a/b": (b"x", 0o600), "c": (b"y", None)}, 0o640)
    assert (tmp_path / "a" / "b").read_bytes() == b"x"
    assert (tmp_path / "a" / "b").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "c").stat().st_mode & 0o777 == 0o640


def test_needs_default_token():
    sa_mount = {"mountPath": volumes.SA_MOUNT_PATH, "name": "kube-api-access-x"}
    with_mount = {"spec": {"containers": [{"volumeMounts": [sa_mount]}]}}
    assert not volumes.needs_default_token(with_mount, {})
    bare = {"spec": {"containers": [{}]}}
    assert volumes.needs_default_token(bare, {})
    assert not volumes.needs_default_token(bare, {"automountServiceAccountToken": False})
    assert not volumes.needs_default_token(
        {"spec": {"automountServiceAccountToken": False, "containers": [{}]}}, {}
    )


def test_container_mounts_order_subpath_readonly(tmp_path):
    paths = {
        "data": tmp_path / "data",
        "cfg": tmp_path / "cfg",
        volumes.DEFAULT_TOKEN_VOLUME: tmp_path / "tok",
    }
    for p in paths.values():
        p.mkdir()
    kinds = {"data": "emptyDir", "cfg": "configMap"}
    container = {
        "volumeMounts": [
            {"name": "data", "mountPath": "/a/b/c", "subPathExpr": "$(POD)"},
            {"name": "cfg", "mountPath": "/a"},
        ]
    }
    mounts = volumes.container_mounts(container, paths, kinds, {"POD": "p1"}, default_token=True)
    assert mounts[0] == Mount(tmp_path / "cfg", "/a", True)
    assert Mount(tmp_path / "data" / "p1", "/a/b/c", False) in mounts
    assert (tmp_path / "data" / "p1").is_dir()
    assert Mount(Path(tmp_path / "tok"), volumes.SA_MOUNT_PATH, True) in mounts
    with pytest.raises(volumes.UnsupportedVolume):
        volumes.container_mounts({"volumeMounts": [{"name": "nope", "mountPath": "/x"}]}, paths, kinds, {},
                                 default_token=False)  # fmt: skip


def test_sync_files_rewrites_changes_and_removes_dropped_keys(tmp_path):
    written = volumes.sync_files(tmp_path, {"a": (b"1", None), "d/b": (b"2", 0o600)}, 0o640)
    assert written == {"a", "d/b"}
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o640
    unchanged = (tmp_path / "d" / "b").stat().st_ino
    written = volumes.sync_files(tmp_path, {"a": (b"new", None), "d/b": (b"2", 0o600)}, 0o640, written)
    assert (tmp_path / "a").read_bytes() == b"new"
    assert (tmp_path / "d" / "b").stat().st_ino == unchanged  # same content: not rewritten
    assert volumes.sync_files(tmp_path, {"d/b": (b"2", 0o600)}, 0o640, written) == {"d/b"}
    assert not (tmp_path / "a").exists()
    assert not list(tmp_path.glob("**/.*.tmp"))


class FakeAPI:
    """The two reads PodVolumes makes, from a dict of objects by API path."""

    def __init__(self, objects):
        self.objects = objects

    async def get_optional(self, path):
        return self.objects.get(path)


def _secret(**data):
    return {"data": {k: base64.b64encode(v).decode() for k, v in data.items()}}


def test_secret_and_projected_volumes_follow_their_secret(tmp_path, monkeypatch):
    """A Secret filled in after the Pod started (a cert rotator's) reaches its files, as on a kubelet."""
    asyncio.run(_follow_secret(tmp_path, monkeypatch))


async def _follow_secret(tmp_path, monkeypatch):
    monkeypatch.setattr(volumes, "SOURCE_SYNC_SECONDS", 0.01)
    path = "/api/v1/namespaces/n/secrets/cert"
    api = FakeAPI({path: {"data": {}}, "/api/v1/namespaces/n/serviceaccounts/default": {}})
    pod = {
        "metadata": {"name": "p", "namespace": "n", "uid": "u"},
        "spec": {
            "automountServiceAccountToken": False,
            "containers": [],
            "volumes": [
                {"name": "cert", "secret": {"secretName": "cert"}},
                {"name": "both", "projected": {"sources": [{"secret": {"name": "cert"}}]}},
            ],
        },
    }
    pv = volumes.PodVolumes(api, pod, tmp_path, ca_file=tmp_path / "ca", host_ip="10.0.0.1", allocatable={})
    await pv.prepare("10.0.0.2")
    assert not list((tmp_path / "volumes" / "cert").iterdir())
    api.objects[path] = _secret(**{"tls.crt": b"C", "tls.key": b"K"})
    task = asyncio.create_task(pv.keep_sources_fresh())
    try:
        for _ in range(500):
            if (tmp_path / "volumes" / "both" / "tls.key").exists():
                break
            await asyncio.sleep(0.01)
        assert (tmp_path / "volumes" / "cert" / "tls.crt").read_bytes() == b"C"
        assert (tmp_path / "volumes" / "both" / "tls.key").read_bytes() == b"K"
        del api.objects[path]  # a deleted Secret keeps its last content on the node
        await asyncio.sleep(0.05)
        assert (tmp_path / "volumes" / "cert" / "tls.crt").read_bytes() == b"C"
    finally:
        task.cancel()
