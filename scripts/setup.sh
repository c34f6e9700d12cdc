#!/usr/bin/env bash
# Set up everything the project needs on a fresh machine, reusing what an earlier
# run left in the ignored folders (.venv, .cache):
#   - a virtualenv in .venv with the product, the development tools (dev/) and the
#     test extras, both editable (re-installed only when a pyproject.toml changes);
#   - helm and kubectl, pinned, in .cache/tools/bin (scripts/install-tools.sh);
#   - the local control-plane binary, when controlplane/ exists (cached by its inputs);
#   - Kueue v0.17.0's controller and shipped manifests (kueue/build.sh, cached by its
#     inputs; a cold build takes about six minutes on two cores);
#   - the Debian packages that build and run the operator image without Docker
#     (scripts/install-image-tools.sh: mmdebstrap, umoci, skopeo, runc), when missing.
#   - the Go test helpers (kstatus, the Lua health runner), cached by their inputs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

python="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  echo "creating .venv" >&2
  "$python" -m venv .venv
fi
stamp=".venv/.installed-$(cat pyproject.toml dev/pyproject.toml | sha256sum | cut -c1-16)"
if [[ ! -f "$stamp" ]]; then
  echo "installing dask-kubernetes, its development tools (dev/) and test dependencies into .venv" >&2
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[test]" -e ./dev
  rm -f .venv/.installed-*
  touch "$stamp"
fi

bash scripts/install-tools.sh
bash scripts/install-image-tools.sh

if [[ -f controlplane/build.sh ]]; then
  bash controlplane/build.sh >/dev/null
fi

if [[ -f kueue/build.sh ]]; then
  bash kueue/build.sh >/dev/null
fi

if [[ -f gohelpers/build.sh ]]; then
  bash gohelpers/build.sh >/dev/null
fi
