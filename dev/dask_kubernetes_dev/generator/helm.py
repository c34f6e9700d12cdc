"""Run ``helm template`` on our chart; the kustomize overlays are rendered from it.

Rendering the overlays from the chart keeps one source for the operator's
Deployment, ServiceAccount and RBAC: the overlays cannot drift from the chart.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dask_kubernetes import yamlio
from dask_kubernetes_dev import tools as _tools

RELEASE = "dask-kubernetes-operator"
NAMESPACE = "dask-operator"

# Labels and annotations that only mean something to Helm.
_HELM_ONLY_LABELS = ("helm.sh/chart", "app.kubernetes.io/managed-by")
_HELM_ONLY_ANNOTATIONS = ("helm.sh/resource-policy",)


class HelmError(RuntimeError):
    """``helm template`` failed; the message carries helm's own words."""


def template(
    chart: Path,
    *,
    values: Mapping[str, Any] | None = None,
    value_files: Sequence[Path] = (),
    namespace: str = NAMESPACE,
    release: str = RELEASE,
) -> list[dict[str, Any]]:
    """Render the chart and return its objects."""
    cmd = [_tools.find("helm"), "template", release, str(chart), "--namespace", namespace]
    for path in value_files:
        cmd += ["--values", str(path)]
    proc = subprocess.run(
        cmd + (["--values", "-"] if values else []),
        input=yamlio.dump(dict(values)) if values else None,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise HelmError(proc.stderr.strip() or proc.stdout.strip())
    return yamlio.load_all(proc.stdout)


def strip_helm_metadata(obj: dict[str, Any]) -> dict[str, Any]:
    """Drop the labels and annotations that say Helm manages an object."""
    meta = obj.get("metadata", {})
    for key, dropped in (("labels", _HELM_ONLY_LABELS), ("annotations", _HELM_ONLY_ANNOTATIONS)):
        values = meta.get(key)
        if values:
            for name in dropped:
                values.pop(name, None)
            if not values:
                meta.pop(key)
    return obj
