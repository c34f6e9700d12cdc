#!/usr/bin/env bash
# The README's test command: set up from scratch (or reuse the caches), then run the
# linters, the type checker, the import layers, the generator's drift check and the
# whole test suite.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
export PATH="$root/.cache/tools/bin:$root/.venv/bin:$PATH"
echo "== ruff" >&2
ruff check .
ruff format --check .
echo "== mypy (the product and the development tools)" >&2
mypy
echo "== lint-imports (layers)" >&2
lint-imports --no-cache
echo "== dask-kubernetes generate --check" >&2
dask-kubernetes generate --check
echo "== pytest" >&2
exec python -m pytest "$@"
