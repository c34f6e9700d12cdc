"""Register dask-kubernetes' Dask config defaults (``kubernetes.*``) once, on import."""

from __future__ import annotations

from pathlib import Path

import dask.config

from dask_kubernetes import yamlio

_DEFAULTS = Path(__file__).with_name("kubernetes.yaml")


def register_defaults() -> None:
    """Add our defaults under the user's config, as Dask projects do."""
    defaults = yamlio.load(_DEFAULTS.read_text())
    dask.config.update_defaults(defaults)


register_defaults()
