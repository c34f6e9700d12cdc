"""What ``KubeCluster``'s arguments resolve to: the create mode, a custom spec, the cluster's name."""

from __future__ import annotations

import copy
import errno
import getpass
import os
import uuid
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from dask_kubernetes import yamlio
from dask_kubernetes.api import constants


class CreateMode(StrEnum):
    """What to do when a cluster of that name exists already, or does not."""

    CREATE_OR_CONNECT = "CREATE_OR_CONNECT"
    CREATE_ONLY = "CREATE_ONLY"
    CONNECT_ONLY = "CONNECT_ONLY"


def load_spec(spec: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    """Read ``custom_cluster_spec``: a DaskCluster as a dict, or the path of a YAML file holding one."""
    if isinstance(spec, Mapping):
        return copy.deepcopy(dict(spec))
    if not isinstance(spec, str | os.PathLike):
        raise TypeError(
            f"custom_cluster_spec must be a dict or the path of a YAML file, found {type(spec).__name__}"
        )
    path = Path(spec).expanduser()
    if not path.exists():
        # Upstream's open() raised this; users catch it.
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
    loaded = yamlio.load(path.read_text())
    if not isinstance(loaded, Mapping) or loaded.get("kind") != constants.KIND_CLUSTER:
        raise ValueError(f"custom_cluster_spec file {str(path)!r} does not hold a DaskCluster")
    return dict(loaded)


def template_name(template: str) -> str:
    """Fill in a name template (``kubernetes.name``): ``{user}``, ``{uuid}`` and environment variables."""
    return template.format(user=getpass.getuser(), uuid=uuid.uuid4().hex[:10], **os.environ)
