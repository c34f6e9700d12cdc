import subprocess
import sys

from dask_kubernetes_dev.nodeagent import image


def test_shims_only_for_missing_commands(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "dask-worker").write_text("#!/bin/sh\n")
    (real / "dask-worker").chmod(0o755)
    written = image.install_shims(tmp_path / "bin", sys.executable, str(real))
    assert written == ["dask-scheduler"]
    assert not (tmp_path / "bin" / "dask-worker").exists()


def test_shim_runs_the_module(tmp_path):
    image.install_shims(tmp_path, sys.executable, "")
    out = subprocess.run([tmp_path / "dask-scheduler", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0
    assert "--port" in out.stdout
