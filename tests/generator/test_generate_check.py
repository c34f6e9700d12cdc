"""`dask-kubernetes generate --check` against the committed tree and a drifted copy."""

from __future__ import annotations

import shutil
import sys

from tests.conftest import run

COPIED = ["schemas", "charts", "overlays", "examples", "resource_customizations"]


def _generate(*args, cwd):
    return run([sys.executable, "-P", "-m", "dask_kubernetes.cli", "generate", *args], cwd=cwd)


def test_committed_files_match_a_fresh_render(root):
    proc = _generate("--check", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stdout


def test_check_names_each_changed_missing_and_stale_file(root, tmp_path):
    for name in COPIED:
        shutil.copytree(root / name, tmp_path / name)
    crd = tmp_path / "charts/dask-kubernetes-operator/templates/crds/daskclusters.yaml"
    crd.write_text(crd.read_text() + "# hand edit\n")
    (tmp_path / "overlays/base/namespace.yaml").unlink()
    (tmp_path / "overlays/prometheus/extra.yaml").write_text("kind: Stale\n")

    proc = _generate("--check", cwd=tmp_path)

    assert proc.returncode == 1
    assert (
        "differs from a fresh render: charts/dask-kubernetes-operator/templates/crds/daskclusters.yaml"
        in proc.stderr
    )
    assert "missing (not generated yet): overlays/base/namespace.yaml" in proc.stderr
    assert "stale (no longer generated): overlays/prometheus/extra.yaml" in proc.stderr

    fixed = _generate(cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    assert _generate("--check", cwd=tmp_path).returncode == 0
    assert not (tmp_path / "overlays/prometheus/extra.yaml").exists()


def test_a_broken_schema_source_is_a_one_line_error(root, tmp_path):
    for name in COPIED:
        shutil.copytree(root / name, tmp_path / name)
    source = tmp_path / "schemas/crds/daskautoscaler.yaml"
    source.write_text(
        source.read_text().replace(
            "type: object\n  required: [cluster, maximum]",
            "$ref: '#/definitions/Nope'\n  required: [cluster, maximum]",
        )
    )
    proc = run(
        [
            sys.executable,
            "-c",
            "from dask_kubernetes.cli import entrypoint; entrypoint()",
            "generate",
            "--check",
        ],
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "unknown definition 'Nope'" in proc.stderr
    assert "Traceback" not in proc.stderr
