"""``dask-kubernetes image build``: run ``image/build.sh`` and report what it made.

The script does the work (mmdebstrap, pip, umoci, skopeo) and caches it under
``.cache/image/<hash of the inputs>/``; this module only finds it, runs it and reads
its output, so the CLI and the tests share one way to get the image.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from dask_kubernetes_dev.tools import PROJECT_ROOT

BUILD_SCRIPT = PROJECT_ROOT / "image" / "build.sh"


class ImageBuildError(RuntimeError):
    """The image could not be built; the message names the cause (the script's last lines)."""


@dataclass(frozen=True)
class BuiltImage:
    """The files of one built image."""

    directory: Path

    @property
    def reference(self) -> str:
        """``name:tag`` as written into the archives."""
        return (self.directory / "reference").read_text().strip()

    @property
    def tag(self) -> str:
        """The tag of the image inside the OCI layout."""
        return self.reference.rsplit(":", 1)[1]

    @property
    def layout(self) -> Path:
        """The OCI image layout directory."""
        return self.directory / "oci"

    @property
    def oci_archive(self) -> Path:
        """The OCI archive (``skopeo copy oci-archive:...``, ``podman load``)."""
        return self.directory / "image.oci.tar"

    @property
    def store(self) -> Path:
        """The OCI layout of every built image (``.cache/image/store``), for the node agent's image mode."""
        return self.directory.parent / "store"

    @property
    def docker_archive(self) -> Path:
        """The ``docker load``-able archive."""
        return self.directory / "image.docker.tar"


def build(name: str | None = None, tag: str | None = None, *, quiet: bool = False) -> BuiltImage:
    """Build the image, or return the cached one when no input changed."""
    if not BUILD_SCRIPT.exists():
        raise ImageBuildError(
            f"{BUILD_SCRIPT} not found: building the image needs a checkout of this repository"
        )
    argv = ["bash", str(BUILD_SCRIPT)]
    if name:
        argv += ["--name", name]
    if tag:
        argv += ["--tag", tag]
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE if quiet else None, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or "").splitlines()[-20:])
        raise ImageBuildError(f"image/build.sh failed (exit {proc.returncode})\n{tail}".strip())
    return BuiltImage(Path(proc.stdout.strip().splitlines()[-1]))
