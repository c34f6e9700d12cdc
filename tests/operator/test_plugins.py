"""Plugins registered under the dask_operator_plugin entry point are imported at start-up."""

from __future__ import annotations

import sys

import kopf

from dask_kubernetes.operator.runtime.plugins import load_plugins

PLUGIN = """
import kopf

LOADED = True

@kopf.on.create("service", labels={"dask.org/component": "scheduler"})
async def handle_scheduler_service_create(meta, new, namespace, logger, **kwargs):
    pass
"""


def test_entry_point_plugin_is_imported_and_registers_its_handler(tmp_path, monkeypatch):
    (tmp_path / "my_controller_plugin.py").write_text(PLUGIN)
    dist = tmp_path / "my_controller_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-controller-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[dask_operator_plugin]\nmy_controller_plugin = my_controller_plugin\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "my_controller_plugin", raising=False)

    assert "my_controller_plugin" in load_plugins()

    assert sys.modules["my_controller_plugin"].LOADED is True
    registry = kopf.get_default_registry()
    ids = [h.id for h in registry._changing.get_all_handlers()]
    assert any("handle_scheduler_service_create" in str(i) for i in ids)
