"""The four Argo CD health checks, rendered from one template."""

from __future__ import annotations

import shutil
import sys

from dask_kubernetes_dev.generator import argocd
from tests.conftest import run


def test_each_kind_is_rendered_from_the_template(root):
    for kind in argocd.KINDS:
        script = argocd.health_script(kind)
        assert script == (root / argocd.health_path(kind)).read_text()
        assert f"Waiting for the {kind} to be Ready" in script
        assert "@@" not in script and "--!" not in script
        assert ('obj.status.jobStatus == "Successful"' in script) == (kind in argocd.FINISHING_KINDS)


def test_a_hand_edited_health_check_is_drift(root, tmp_path):
    for name in ("schemas", "charts", "overlays", "examples", "resource_customizations"):
        shutil.copytree(root / name, tmp_path / name)
    script = tmp_path / argocd.health_path("DaskCluster")
    script.write_text(script.read_text().replace('"Degraded"', '"Healthy"'))
    proc = run([sys.executable, "-P", "-m", "dask_kubernetes.cli", "generate", "--check"], cwd=tmp_path)
    assert proc.returncode == 1
    assert f"differs from a fresh render: {argocd.health_path('DaskCluster')}" in proc.stderr
