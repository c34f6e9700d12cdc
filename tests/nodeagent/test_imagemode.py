"""Image mode's pure parts: symlinks inside the image, the kubelet's command and user rules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dask_kubernetes_dev.image.store import ImageConfig, normalize, resolve_user
from dask_kubernetes_dev.nodeagent import env as envmod
from dask_kubernetes_dev.nodeagent import imagemode
from dask_kubernetes_dev.nodeagent.runtime import Mount, StartError


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    (root / "run").mkdir(parents=True)
    (root / "var").mkdir()
    os.symlink("/run", root / "var" / "run")  # absolute, as in Debian: must not reach the host's /run
    (root / "etc").mkdir()
    (root / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532::/home/nr:/bin/sh\n"
    )
    (root / "etc" / "group").write_text("root:x:0:\nnonroot:x:65532:\nstaff:x:50:\n")
    (root / "bin").mkdir()
    (root / "bin" / "tool").write_text("#!/bin/sh\n")
    (root / "bin" / "tool").chmod(0o755)
    return root


def run_of(rootfs: Path, **kw) -> imagemode.ImageRun:
    config = ImageConfig(**kw)
    return imagemode.ImageRun("img", rootfs, config, 65532, 65532, (65532,), True)


def test_symlinks_resolve_inside_the_image(rootfs: Path):
    assert imagemode.resolve_in_root(rootfs, "/var/run/secrets/kubernetes.io") == "run/secrets/kubernetes.io"
    assert imagemode.resolve_in_root(rootfs, "/../../etc/passwd") == "etc/passwd"
    assert imagemode.resolve_in_root(rootfs, "/") == ""


def test_a_symlink_loop_is_an_error(rootfs: Path):
    os.symlink("/loop", rootfs / "loop")
    with pytest.raises(StartError, match="symbolic links"):
        imagemode.resolve_in_root(rootfs, "/loop/x")


def test_command_follows_the_kubelet_rules():
    config = ImageConfig(entrypoint=("dask-kubernetes",), cmd=("operator", "--all-namespaces"))
    env = {"NS": "x"}
    assert imagemode.command_line({}, config, env) == ["dask-kubernetes", "operator", "--all-namespaces"]
    assert imagemode.command_line({"args": ["webhook"]}, config, env) == ["dask-kubernetes", "webhook"]
    assert imagemode.command_line({"command": ["sh"], "args": ["$(NS)"]}, config, env) == ["sh", "x"]
    with pytest.raises(envmod.EnvError, match="no command"):
        imagemode.command_line({"name": "c"}, ImageConfig(), env)


def test_user_comes_from_the_security_context_over_the_image(rootfs: Path):
    config = ImageConfig(user="nonroot")
    assert imagemode.identity({}, {}, rootfs, config) == (65532, 65532, (65532,))
    pod = {"spec": {"securityContext": {"runAsUser": 1000, "fsGroup": 2000, "supplementalGroups": [50]}}}
    assert imagemode.identity(pod, {}, rootfs, config) == (1000, 0, (0, 50, 2000))
    container = {"securityContext": {"runAsUser": 7, "runAsGroup": 8}}
    assert imagemode.identity(pod, container, rootfs, config)[:2] == (7, 8)


def test_run_as_non_root_refuses_uid_zero(rootfs: Path):
    with pytest.raises(envmod.EnvError, match="runAsNonRoot and image will run as root"):
        imagemode.identity({}, {"securityContext": {"runAsNonRoot": True}}, rootfs, ImageConfig())


def test_image_users_resolve_like_a_runtime(rootfs: Path):
    assert resolve_user(rootfs, "") == (0, 0)
    assert resolve_user(rootfs, "65532") == (65532, 65532)
    assert resolve_user(rootfs, "4242") == (4242, 0)
    assert resolve_user(rootfs, "nonroot:staff") == (65532, 50)


def test_references_normalize_like_docker():
    assert normalize("dask") == normalize("docker.io/library/dask:latest") == "docker.io/library/dask:latest"
    assert normalize("ghcr.io/dask/dask") == "ghcr.io/dask/dask:latest"
    assert normalize("localhost:5000/x:1") == "localhost:5000/x:1"


def test_environment_and_executables_come_from_the_image(rootfs: Path):
    run = run_of(rootfs, env=(("PATH", "/bin"), ("A", "1")))
    env = imagemode.image_env(run, "pod-a")
    assert env == {"PATH": "/bin", "A": "1", "HOSTNAME": "pod-a", "HOME": "/home/nr"}
    imagemode.check_executable(run, ["tool"], env)
    with pytest.raises(StartError, match="executable file not found"):
        imagemode.check_executable(run, ["python"], env)


def test_the_prelude_mounts_under_the_root_and_chroots_as_the_user(rootfs: Path, tmp_path: Path):
    run = run_of(rootfs)
    token = tmp_path / "token"
    token.mkdir()
    script = imagemode.mount_script(
        run,
        tmp_path / "m",
        "pod-a",
        [Mount(token, "/var/run/secrets/kubernetes.io/serviceaccount", True)],
        "/",
    )
    assert f"mount --bind {token} {tmp_path}/m/run/secrets/kubernetes.io/serviceaccount" in script
    assert f"mount -o remount,bind,ro {tmp_path}/m" in script
    assert script.splitlines()[-1].startswith(
        f"exec chroot --userspec=65532:65532 --groups=65532 {tmp_path}/m "
    )
