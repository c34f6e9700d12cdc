"""``dask-kubernetes image build`` answers a bad argument with one line, not a traceback."""

from __future__ import annotations

import subprocess
import sys


def test_a_bad_tag_is_named(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-P", "-m", "dask_kubernetes.cli", "image", "build", "--tag", "not a tag!"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "invalid tag: not a tag!" in proc.stderr
    assert "Traceback" not in proc.stderr
