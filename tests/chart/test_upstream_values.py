"""Upstream dask-kubernetes 2026.3.0's values.yaml works with our chart, with the same meaning."""

from __future__ import annotations

import json

from tests.chart.test_helm_render import by_kind, operator_objs, template
from tests.conftest import CHART, ROOT, run

UPSTREAM_VALUES = ROOT / "tests" / "data" / "upstream-2026.3.0-values.yaml"


def operator_container(objs):
    (deploy,) = by_kind(operator_objs(objs), "Deployment")
    return deploy["spec"]["template"]["spec"]["containers"][0]


def test_upstream_values_file_lints_and_renders(helm):
    lint = run([helm, "lint", str(CHART), "--strict", "--values", str(UPSTREAM_VALUES)])
    assert lint.returncode == 0, lint.stdout + lint.stderr
    proc, objs = template(helm, "--values", str(UPSTREAM_VALUES))
    assert proc.returncode == 0, proc.stderr
    container = operator_container(objs)
    assert container["image"] == "ghcr.io/dask/dask-kubernetes-operator:set-by-chartpress"
    assert "--all-namespaces" in container["args"]
    assert container["livenessProbe"]["timeoutSeconds"] == 5  # upstream's livenessProbe.timeoutSeconds


def test_extra_env_and_liveness_timeout_reach_the_deployment(helm):
    extra_env = [
        {"name": "DASK_KUBERNETES__CONTROLLER__EVENTS__LEVEL", "value": "WARNING"},
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
    ]
    proc, objs = template(
        helm,
        "--values",
        str(UPSTREAM_VALUES),
        "--set-json",
        f"extraEnv={json.dumps(extra_env)}",
        "--set",
        "livenessProbe.timeoutSeconds=17",
    )
    assert proc.returncode == 0, proc.stderr
    container = operator_container(objs)
    for item in extra_env:
        assert item in container["env"]
    assert container["livenessProbe"]["timeoutSeconds"] == 17
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_extra_env_without_a_name_is_refused(helm):
    proc, _ = template(helm, "--set-json", 'extraEnv=[{"value": "x"}]')
    assert proc.returncode != 0
    assert "extraEnv" in proc.stderr and "name" in proc.stderr
