"""Load operator plugins registered under the ``dask_operator_plugin`` entry-point group.

A plugin is a module that registers its own kopf handlers when imported (the
seed's "Extending" section); importing it before the operator starts is enough.
"""

from __future__ import annotations

import importlib.metadata
import logging

GROUP = "dask_operator_plugin"
log = logging.getLogger(__name__)


def load_plugins() -> list[str]:
    """Import every registered plugin; return their entry-point names."""
    loaded = []
    for entry_point in importlib.metadata.entry_points(group=GROUP):
        entry_point.load()
        log.info("loaded operator plugin %s (%s)", entry_point.name, entry_point.value)
        loaded.append(entry_point.name)
    return loaded
