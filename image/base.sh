#!/usr/bin/env bash
# Build (or reuse) the operator image's base layer, as an OCI image layout:
# Debian bookworm (mmdebstrap, variant essential) with python3, a virtualenv at
# /opt/dask-kubernetes holding the pinned dependencies of image/requirements.lock,
# and the user and group 65532 "nonroot".  The dependencies' wheels are built once
# by pip on this machine (.cache/image/wheels-<hash of the lock>) and installed in
# the chroot with --no-index, so nothing inside the image reaches the network.
#
# Output: .cache/image/base-<key>/, an OCI layout whose image "base" has that one
# layer; <key> = sha256 of this script and the lock.  The LAST stdout line is its
# path.  Needs root.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$root"
log() { echo "[image/base.sh] $*" >&2; }

python="${PYTHON:-$root/.venv/bin/python}"
cache="$root/.cache/image"
mkdir -p "$cache"
key="$(cat image/base.sh image/requirements.lock | sha256sum | cut -c1-16)"
base="$cache/base-$key"
if [[ -f "$base/index.json" ]]; then
  log "cached base root filesystem found"
  echo "$base"
  exit 0
fi

wheels="$cache/wheels-$(sha256sum image/requirements.lock | cut -c1-16)"
if [[ ! -f "$wheels/.done" ]]; then
  log "building wheels of image/requirements.lock"
  rm -rf "$wheels"
  "$python" -m pip wheel --quiet --no-deps --wheel-dir "$wheels" -r image/requirements.lock
  touch "$wheels/.done"
fi
work="$(mktemp -d "$cache/.base.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/wheels"
cp "$wheels"/*.whl image/requirements.lock "$work/wheels/"

# Inside the chroot: a clean environment, so no PIP_* setting of this machine leaks in.
in_root='env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root chroot "$1"'
log "mmdebstrap: Debian bookworm + python3 + pinned dependencies"
mmdebstrap --quiet --variant=essential --include=python3,python3-venv,ca-certificates \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook="copy-in $work/wheels /tmp" \
  --customize-hook="$in_root python3 -m venv /opt/dask-kubernetes" \
  --customize-hook="$in_root /opt/dask-kubernetes/bin/pip install --quiet --no-index --no-cache-dir \
--find-links /tmp/wheels -r /tmp/wheels/requirements.lock" \
  --customize-hook='rm -rf "$1/tmp/wheels" "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
  --customize-hook='echo "nonroot:x:65532:65532:nonroot:/nonexistent:/usr/sbin/nologin" >> "$1/etc/passwd"' \
  --customize-hook='echo "nonroot:x:65532:" >> "$1/etc/group"' \
  bookworm "$work/base.tar" http://deb.debian.org/debian

log "umoci: the base layer"
umoci init --layout "$work/oci"
umoci new --image "$work/oci:base"
umoci unpack --image "$work/oci:base" "$work/bundle" >/dev/null
tar -xpf "$work/base.tar" -C "$work/bundle/rootfs" --numeric-owner
rm -f "$work/base.tar"
umoci repack --image "$work/oci:base" --history.created_by "mmdebstrap bookworm + image/requirements.lock" \
  "$work/bundle"
umoci gc --layout "$work/oci"
rm -rf "$base"
mv "$work/oci" "$base"
log "base layer: $(du -sh "$base" | cut -f1) compressed"
echo "$base"
