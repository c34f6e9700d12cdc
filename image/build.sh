#!/usr/bin/env bash
# Build (or reuse) the operator image without Docker and without a registry.
#
#   bash image/build.sh [--name NAME] [--tag TAG]
#
# NAME defaults to the chart's values.yaml image.name, TAG to Chart.yaml's appVersion.
# Steps (Debian packages only, see scripts/install-image-tools.sh):
#   1. image/base.sh: Debian bookworm with python3 and the pinned dependencies in a
#      virtualenv at /opt/dask-kubernetes, and the user 65532 (cached on its own);
#   2. pip wheel of this repository, installed into that virtualenv (a second layer);
#   3. umoci writes the OCI image (user 65532:65532, entrypoint dask-kubernetes),
#      skopeo writes an OCI archive and a `docker load`-able archive.
# Output: .cache/image/<key>/ with oci/ (an OCI layout whose ref name is NAME:TAG),
# image.oci.tar, image.docker.tar and reference (NAME:TAG); <key> hashes every input,
# so a second run with nothing changed only prints the directory.  The image is also
# copied into the store .cache/image/store (an OCI layout of every built image, which
# the node agent's image mode runs Pods from).  The LAST stdout line is the directory.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$root"
log() { echo "[image/build.sh] $*" >&2; }

chart=charts/dask-kubernetes-operator
name="$(awk '/^image:/{f=1;next} f&&/^[^ #]/{f=0} f&&/^  name:/{print $2; exit}' "$chart/values.yaml")"
tag="$(awk '/^appVersion:/{gsub(/"/,"",$2); print $2; exit}' "$chart/Chart.yaml")"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --name) name="$2"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    *) log "unknown argument: $1 (expected --name NAME or --tag TAG)"; exit 2 ;;
  esac
done
[[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || { log "invalid tag: $tag"; exit 2; }
for tool in mmdebstrap umoci skopeo; do
  command -v "$tool" >/dev/null || { log "$tool is missing: run bash scripts/setup.sh (as root)"; exit 2; }
done
[[ $(id -u) -eq 0 ]] || { log "needs root (mmdebstrap and umoci keep the files' owners)"; exit 2; }

ref="$name:$tag"
python="${PYTHON:-$root/.venv/bin/python}"
cache="$root/.cache/image"
mkdir -p "$cache"
key="$( {
  echo "$name:$tag"
  cat image/build.sh image/base.sh image/requirements.lock pyproject.toml README.md
  find dask_kubernetes -type f ! -path '*/__pycache__/*' ! -name '*.pyc' | LC_ALL=C sort | xargs sha256sum
} | sha256sum | cut -c1-16)"
out="$cache/$key"
if [[ -f "$out/reference" ]]; then
  log "cached image found: $(cat "$out/reference")"
  echo "$out"
  exit 0
fi
start=$(date +%s)
work="$(mktemp -d "$cache/.build.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# 1. The base root filesystem (cached by its own inputs, see image/base.sh).
base="$(bash image/base.sh | tail -n1)"

# 2. Our wheel, installed into the image's virtualenv by `installer` (pypa) in a
#    staging directory, with the image's interpreter in the scripts' shebangs.
log "building the dask-kubernetes wheel"
"$python" -m pip wheel --quiet --no-deps --wheel-dir "$work/dist" . >&2
rm -rf build
wheel_file="$(basename "$work"/dist/*.whl)"
venv=/opt/dask-kubernetes
"$python" - "$work/dist/$wheel_file" "$work/stage" "$venv" <<'PY'
import sys

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.sources import WheelFile

wheel, stage, venv = sys.argv[1:]
site = f"{venv}/lib/python3.11/site-packages"
scheme = {"purelib": site, "platlib": site, "scripts": f"{venv}/bin", "data": venv, "headers": f"{venv}/include"}
destination = SchemeDictionaryDestination(
    scheme, interpreter=f"{venv}/bin/python", script_kind="posix", bytecode_optimization_levels=(0,),
    destdir=stage,
)
with WheelFile.open(wheel) as source:
    install(source, destination, {"INSTALLER": b"image/build.sh\n"})
PY

# 3. The OCI image: the cached base layer, then a layer with our package.
layout="$work/out/oci"
mkdir -p "$layout"
cp -al "$base/blobs" "$layout/blobs"  # content-addressed and never rewritten: hard links suffice
cp "$base/index.json" "$base/oci-layout" "$layout/"
umoci tag --image "$layout:base" "$ref"
umoci rm --image "$layout:base"
umoci insert --image "$layout:$ref" --history.created_by "install $wheel_file" "$work/stage$venv" "$venv"
version="$(unzip -p "$work/dist/$wheel_file" '*.dist-info/METADATA' 2>/dev/null | awk '/^Version:/{print $2; exit}' || true)"
umoci config --image "$layout:$ref" \
  --config.user 65532:65532 \
  --config.entrypoint dask-kubernetes --config.cmd operator --config.cmd --all-namespaces \
  --config.env PATH=/opt/dask-kubernetes/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.env PYTHONUNBUFFERED=1 \
  --config.workingdir / \
  --config.label "org.opencontainers.image.title=dask-kubernetes" \
  --config.label "org.opencontainers.image.version=${version:-$tag}" \
  --config.label "org.opencontainers.image.licenses=BSD-3-Clause" \
  --history.created_by "umoci config: user 65532, entrypoint dask-kubernetes"
umoci gc --layout "$layout"

# An OCI archive is the layout as a tar file.
tar -cf "$work/out/image.oci.tar" -C "$layout" .
skopeo copy --quiet "oci:$layout:$ref" "docker-archive:$work/out/image.docker.tar:$name:$tag"
echo "$ref" > "$work/out/reference"
rm -rf "$out"
mv "$work/out" "$out"
# Every built image also goes into one store, which the node agent's image mode reads.
skopeo copy --quiet "oci:$out/oci:$ref" "oci:$cache/store:$ref"
# Keep the disk bounded: earlier builds, blobs no reference needs, root filesystems
# unpacked from images the store no longer holds.
find "$cache" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended -regex '.*/[0-9a-f]{16}' \
  ! -path "$out" -exec rm -rf {} +
# skopeo leaves the manifest a reference used to name in the index, without its name.
"$python" - "$cache/store/index.json" <<'PY'
import json
import sys

index = json.load(open(sys.argv[1]))
named = [m for m in index["manifests"] if "org.opencontainers.image.ref.name" in (m.get("annotations") or {})]
if len(named) != len(index["manifests"]):
    index["manifests"] = named
    json.dump(index, open(sys.argv[1], "w"))
PY
umoci gc --layout "$cache/store"
if [[ -d "$cache/store.unpacked" ]]; then
  for dir in "$cache/store.unpacked"/*; do  # not the .unpack-* of a running unpack
    [[ -d "$dir" ]] && ! grep -q "sha256:$(basename "$dir")" "$cache/store/index.json" && rm -rf "$dir"
  done
fi
log "built $name:$tag in $(( $(date +%s) - start ))s: $(du -h "$out/image.docker.tar" | cut -f1) docker archive"
echo "$out"
