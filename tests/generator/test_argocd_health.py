"""argocd-cm's four health checks are the one hand-written ``_/health.lua``, kept so by generate."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from dask_kubernetes import yamlio
from dask_kubernetes_dev.generator import argocd, overlays
from tests.conftest import run

ARGOCD_CM = "overlays/argocd/argocd-cm.yaml"


def test_argocd_cm_is_rendered_with_the_one_script_for_each_kind(root: Path) -> None:
    script = (root / argocd.HEALTH_PATH).read_text()
    assert argocd.HEALTH_PATH == "resource_customizations/kubernetes.dask.org/_/health.lua"
    files = argocd.render(root, overlays.KUSTOMIZE_API)
    (cm,) = yamlio.load_all(files[ARGOCD_CM])
    assert [cm["data"][argocd.health_key(kind)] for kind in argocd.KINDS] == [script] * len(argocd.KINDS)
    # The script is hand-written: the generator only reads it.
    assert not any(path.endswith(".lua") for path in files)


def test_a_script_edit_without_generate_is_drift(root: Path, tmp_path: Path) -> None:
    for name in ("schemas", "charts", "overlays", "examples", "resource_customizations"):
        shutil.copytree(root / name, tmp_path / name)
    script = tmp_path / argocd.HEALTH_PATH
    script.write_text(script.read_text().replace('"Degraded"', '"Healthy"'))
    generate = [sys.executable, "-P", "-m", "dask_kubernetes.cli", "generate"]
    proc = run([*generate, "--check"], cwd=tmp_path)
    assert proc.returncode == 1
    assert f"differs from a fresh render: {ARGOCD_CM}" in proc.stderr
    assert run(generate, cwd=tmp_path).returncode == 0
    (cm,) = yamlio.load_all((tmp_path / ARGOCD_CM).read_text())
    assert cm["data"][argocd.health_key("DaskCluster")] == script.read_text()
