"""The operator image, built once per session (cached in .cache/image), and a way to run it with runc."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from dask_kubernetes_dev.image.build import BuiltImage, ImageBuildError, build
from dask_kubernetes_dev.image.store import ImageStore

TOOLS = ("mmdebstrap", "umoci", "skopeo", "runc")


@pytest.fixture(scope="session")
def built_image() -> BuiltImage:
    """The image of this checkout; a cold build takes minutes, a cached one returns at once."""
    if os.geteuid() != 0:
        pytest.skip("building and running the image needs root")
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"missing {', '.join(missing)}: run bash scripts/setup.sh as root")
    try:
        return build(quiet=True)
    except ImageBuildError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def image_bundle(built_image: BuiltImage) -> Path:
    """The image unpacked by umoci: ``rootfs/`` and the runtime ``config.json`` umoci derived.

    The same unpacked copy as the node agent's image mode uses (read-only for both).
    """
    store = ImageStore.at(built_image.store)
    return store.bundle(built_image.reference)


def run_in_image(
    bundle: Path,
    args: list[str],
    workdir: Path,
    *,
    mounts: dict[str, Path] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` in the image with runc: its user, a read-only root, a network namespace of its own.

    The new network namespace has only loopback, so nothing reaches the network.
    Cgroups are left out: the test machine may use a hybrid hierarchy.
    """
    config: dict[str, Any] = json.loads((bundle / "config.json").read_text())
    process = config["process"]
    process.update(terminal=False, args=args)
    config["root"] = {"path": str(bundle / "rootfs"), "readonly": True}
    config["hostname"] = "image-smoke"
    config["mounts"] = [m for m in config["mounts"] if m["destination"] != "/sys/fs/cgroup"]
    config["mounts"].append(
        {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]}
    )
    for target, source in (mounts or {}).items():
        config["mounts"].append({"destination": target, "type": "bind", "source": str(source),
                                 "options": ["bind", "ro"]})  # fmt: skip
    config["linux"].pop("resources", None)
    assert any(ns["type"] == "network" and "path" not in ns for ns in config["linux"]["namespaces"])
    run_dir = workdir / f"bundle-{uuid.uuid4().hex[:8]}"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps(config))
    container = f"dk-smoke-{uuid.uuid4().hex[:8]}"
    try:
        return subprocess.run(
            ["runc", "run", "--bundle", str(run_dir), container],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    finally:
        subprocess.run(["runc", "delete", "--force", container], capture_output=True)
