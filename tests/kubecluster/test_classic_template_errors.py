"""A worker template that is not a Pod template is named, not a traceback from deep inside."""

from __future__ import annotations

import pytest

from dask_kubernetes.classic.kubecluster import _load_template


def test_a_template_file_that_is_not_a_mapping_is_named(tmp_path):
    path = tmp_path / "worker-spec.yml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(ValueError, match="does not hold a Pod template"):
        _load_template(str(path))


def test_a_template_that_is_not_a_mapping_is_refused():
    with pytest.raises(ValueError, match="must be a mapping, got list"):
        _load_template(["not", "a", "pod"])  # type: ignore[arg-type]


def test_a_template_file_is_read_as_a_pod(tmp_path):
    path = tmp_path / "worker-spec.yml"
    path.write_text(
        "kind: Pod\nspec:\n  containers:\n  - name: dask-worker\n    image: ghcr.io/dask/dask:2025.1.0\n"
    )
    pod = _load_template(str(path))
    assert pod["kind"] == "Pod" and pod["spec"]["containers"][0]["name"] == "dask-worker"
