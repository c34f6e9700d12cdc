#!/usr/bin/env bash
# The README's main command: on a fresh machine, set up, build or reuse the local
# control plane, install the operator and webhook with `helm template | kubectl apply`,
# create a Dask cluster from Python, scale it, compute, show it, and clean up.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
export PATH="$root/.cache/tools/bin:$root/.venv/bin:$PATH"
exec python scripts/demo.py
