"""The test harness is opt-in: the development tools' plugin loads only when asked for."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUR_OPTIONS = ("--backend", "--kubeconfig", "--keep-control-plane", "--image-store")


def _pytest_help(tmp_path: Path, *args: str) -> str:
    # An empty directory with its own empty ini: no conftest and no addopts of this repository.
    # cloudcoil's plugin (a test dependency) fails to import without filelock; it is not ours.
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cloudcoil", *args, "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("distribution", ["dask-kubernetes", "dask-kubernetes-dev"])
def test_no_distribution_registers_a_pytest_plugin(distribution: str) -> None:
    entry_points = metadata.distribution(distribution).entry_points
    assert [ep for ep in entry_points if ep.group == "pytest11"] == []


def test_a_plain_pytest_gains_no_options(tmp_path: Path) -> None:
    text = _pytest_help(tmp_path)
    assert [opt for opt in OUR_OPTIONS if opt in text] == []


def test_the_plugin_adds_its_options_when_asked_for(tmp_path: Path) -> None:
    text = _pytest_help(tmp_path, "-p", "dask_kubernetes_dev.pytest_plugin")
    assert "--backend" in text and "--kubeconfig" in text


def test_this_repository_enables_it() -> None:
    for pyproject in (ROOT / "pyproject.toml", ROOT / "dev" / "pyproject.toml"):
        project = tomllib.loads(pyproject.read_text())
        assert "pytest11" not in project["project"].get("entry-points", {}), pyproject
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "-p dask_kubernetes_dev.pytest_plugin" in project["tool"]["pytest"]["ini_options"]["addopts"]
