"""The side-by-side benchmark's ``--quick`` mode runs end to end, so the harness cannot rot.

It starts its own control plane (with an audit log) and measures ours and the
floor once, small.  Only that every figure was produced is asserted, never a time:
timings belong in BENCHMARKS.md.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from benchmarks.sidebyside import report
from tests.conftest import ROOT

pytestmark = pytest.mark.cluster


def test_quick_mode_produces_every_figure_and_leaves_benchmarks_md_alone(tmp_path):
    document = (ROOT / "BENCHMARKS.md").read_text()
    out = tmp_path / "quick.json"
    proc = subprocess.run(
        [sys.executable, "benchmarks/operator_vs_upstream.py", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text())
    samples, meta = result["samples"], result["meta"]
    assert meta["missing"] == [] and not meta.get("errors"), meta.get("errors")
    assert report.missing(samples, [report.FLOOR, report.OURS]) == []
    assert report.UPSTREAM not in samples  # --quick runs ours only
    for side, figures in samples.items():
        for key, values in figures.items():
            assert values and all(math.isfinite(v) and v >= 0 for v in values), (side, key, values)
    assert (meta["rounds"], meta["workers"]) == (1, 20)
    # The printed section is the table BENCHMARKS.md would get; quick mode does not write it.
    assert report.BEGIN in proc.stdout and proc.stdout.count("\n| ") >= len(report.FIGURES) + 1
    assert (ROOT / "BENCHMARKS.md").read_text() == document
