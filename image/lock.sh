#!/usr/bin/env bash
# Re-pin the operator image's runtime dependencies into image/requirements.lock:
# pip resolves pyproject.toml's dependencies afresh (Python 3.11, Linux) and every
# package it would install is written as name==version.  Commit the result.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
.venv/bin/python -m pip install --quiet --dry-run --ignore-installed --report "$report" . 2>/dev/null
.venv/bin/python - "$report" > image/requirements.lock <<'PY'
import json
import sys

print("# Runtime dependencies of the operator image, pinned. Regenerate with: bash image/lock.sh")
items = json.load(open(sys.argv[1]))["install"]
for item in sorted(items, key=lambda i: i["metadata"]["name"].lower()):
    meta = item["metadata"]
    if meta["name"] != "dask-kubernetes":
        print(f"{meta['name'].lower()}=={meta['version']}")
PY
echo "wrote image/requirements.lock ($(grep -vc '^#' image/requirements.lock) packages)" >&2
