#!/usr/bin/env bash
# The README's main command.  Today it sets up the project and renders every
# manifest (CRDs, RBAC, chart, overlays) into the work tree, checking each against
# the pinned Kubernetes schema; it installs nothing into any cluster yet.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
export PATH="$root/.cache/tools/bin:$root/.venv/bin:$PATH"
dask-kubernetes generate
echo
echo "== helm template (default values)"
helm template dask-kubernetes-operator charts/dask-kubernetes-operator --namespace dask-operator \
  | grep -E '^kind:' | sort | uniq -c
for overlay in overlays/*/; do
  echo "== kubectl kustomize $overlay"
  kubectl kustomize "$overlay" | grep -E '^kind:' | sort | uniq -c
done
echo
echo "Rendered. Install with: helm template dask-kubernetes-operator charts/dask-kubernetes-operator -n dask-operator | kubectl apply -f -"
