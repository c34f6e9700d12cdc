"""The wheel users install holds only what they run, and works without the development tools.

One wheel is built from the checkout and installed, with its dependencies, into a
new virtualenv that has never seen ``dev/``.
"""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEV_ONLY = ("testing/", "nodeagent/", "generator/", "image/", "pytest_plugin", "controlplane", "/faults.py")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("dask_kubernetes-*.whl")
    return built


@pytest.fixture(scope="module")
def clean_env(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = tmp_path_factory.mktemp("venv") / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel), "pytest"],
        check=True,
        capture_output=True,
        timeout=900,
    )
    return env


def _run(env: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(env / "bin" / args[0]), *args[1:]], capture_output=True, text=True, timeout=300, cwd=env
    )


def test_the_wheel_holds_no_development_tool(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert [n for n in names if any(part in n for part in DEV_ONLY)] == []
    assert [n for n in names if n.startswith("dask_kubernetes_dev")] == []
    assert "dask_kubernetes/operator/controller/daskcluster.py" in names


def test_the_wheel_needs_no_jsonschema(wheel: Path) -> None:
    metadata = next(n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".dist-info/METADATA"))
    requires = [
        line
        for line in zipfile.ZipFile(wheel).read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist:")
    ]
    assert requires and not [r for r in requires if "jsonschema" in r]


def test_the_operator_imports_in_a_clean_virtualenv(clean_env: Path) -> None:
    proc = _run(
        clean_env,
        "python",
        "-c",
        "import dask_kubernetes.operator as o, dask_kubernetes; "
        "print(o.KubeCluster.__name__, o.make_cluster_spec.__name__, dask_kubernetes.KubeCluster.__module__)",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["KubeCluster", "make_cluster_spec", "dask_kubernetes.classic.kubecluster"]


@pytest.mark.parametrize("command", ["operator", "webhook"])
def test_the_product_commands_answer_help(clean_env: Path, command: str) -> None:
    proc = _run(clean_env, "dask-kubernetes", command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "Usage" in proc.stdout or "usage" in proc.stdout


@pytest.mark.parametrize("command", [["local", "up"], ["image", "build"], ["generate", "--check"]])
def test_a_development_command_says_in_one_line_where_it_went(clean_env: Path, command: list[str]) -> None:
    proc = _run(clean_env, "dask-kubernetes", *command)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "dask-kubernetes-dev" in lines[0] and "pip install -e dev/" in lines[0]


def test_pytest_sees_no_plugin_of_ours(clean_env: Path, tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    proc = subprocess.run(
        [str(clean_env / "bin" / "python"), "-m", "pytest", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "--backend" not in proc.stdout and "--kubeconfig" not in proc.stdout
    listed = subprocess.run(
        [
            str(clean_env / "bin" / "python"),
            "-c",
            "import importlib.metadata as m; print([e.value for e in m.entry_points(group='pytest11')])",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "dask_kubernetes" not in listed.stdout
