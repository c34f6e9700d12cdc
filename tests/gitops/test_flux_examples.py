"""The Flux examples match Flux's own CRD schemas (cloudcoil's models) and point at real objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cloudcoil.models.fluxcd.helm import v2 as helm
from cloudcoil.models.fluxcd.kustomize import v1 as kustomize
from cloudcoil.models.fluxcd.source import v1 as source

from dask_kubernetes import yamlio
from tests.conftest import CHART, ROOT

FLUX = ROOT / "examples" / "flux"
MODELS = {
    "source.toolkit.fluxcd.io/v1": source,
    "kustomize.toolkit.fluxcd.io/v1": kustomize,
    "helm.toolkit.fluxcd.io/v2": helm,
}
FILES = sorted(p for p in FLUX.glob("*.yaml"))


def _strip_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value


def _docs(path: Path) -> list[dict[str, Any]]:
    return yamlio.load_all(path.read_text())


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_example_round_trips_through_the_flux_schema(path: Path) -> None:
    for obj in _docs(path):
        model = getattr(MODELS[obj["apiVersion"]], obj["kind"])
        parsed = model.model_validate(obj)
        dumped = _strip_none(parsed.model_dump(by_alias=True, exclude_unset=True, mode="json"))
        assert dumped == obj, f"{path.name}: {obj['kind']} has fields the Flux schema does not know"


def test_health_checks_name_objects_the_kustomization_applies(validators) -> None:
    (ks,) = _docs(FLUX / "dask-kustomization.yaml")
    applied_dir = ROOT / ks["spec"]["path"]
    applied = [
        doc for p in sorted(applied_dir.glob("*.yaml")) if p.name != "kustomization.yaml" for doc in _docs(p)
    ]
    keys = {(o["apiVersion"], o["kind"], o["metadata"]["name"]) for o in applied}
    assert ks["spec"]["healthChecks"]
    for check in ks["spec"]["healthChecks"]:
        assert (check["apiVersion"], check["kind"], check["name"]) in keys
        assert check["namespace"] == ks["spec"]["targetNamespace"]
    for obj in applied:
        if obj["apiVersion"].startswith("kubernetes.dask.org/"):
            assert validators[obj["kind"]].errors(obj) == []


def test_helm_release_points_at_the_chart_and_its_values_exist() -> None:
    (release,) = _docs(FLUX / "operator-helmrelease.yaml")
    assert (ROOT / release["spec"]["chart"]["spec"]["chart"]) == CHART
    values = yamlio.load_all((CHART / "values.yaml").read_text())[0]
    for key, sub in release["spec"]["values"].items():
        assert key in values and set(sub) <= set(values[key])
