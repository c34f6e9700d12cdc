"""Ours and upstream dask-kubernetes' operator side by side on one local control plane, with the floor.

Not a test: it asserts nothing.  It starts its own local control plane with the API
server's audit log on, installs our chart and upstream's released operator (from
PyPI, pinned in ``dask_kubernetes_dev.upstream``, in its own virtualenv, run
in-cluster with its own chart's RBAC), and runs rounds, each one:

1. the floor: the same Pods created by hand with no operator;
2. each operator in turn (alternating which goes first): ``kubectl apply`` → Ready with
   3 workers connected; scale 0 → N until the Pods exist, run and connect; delete
   until the Pods are gone; API requests of one lifecycle; idle requests per minute
   with 20 Ready clusters; operator RSS at 0, 20 and (last round) 100 clusters.

It prints a Markdown table and writes it into BENCHMARKS.md.

Usage: ``python benchmarks/operator_vs_upstream.py [--rounds 5] [--workers 100]``;
``--quick`` is one small round of ours only (what CI runs, so the harness cannot rot).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.sidebyside.run import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
