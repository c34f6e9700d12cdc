#!/usr/bin/env bash
# Install the Debian packages the operator image needs, when any is missing:
#   mmdebstrap (the root filesystem), umoci (the OCI image), skopeo (the archives),
#   runc (runs the image in the smoke test; crun 1.8 refuses hybrid cgroup hosts).
# Needs root and apt-get; elsewhere it says what to install and leaves the image
# tests to skip with that reason.
set -euo pipefail
tools=(mmdebstrap umoci skopeo runc)
packages=(mmdebstrap umoci skopeo runc)
missing=()
for i in "${!tools[@]}"; do
  command -v "${tools[$i]}" >/dev/null 2>&1 || missing+=("${packages[$i]}")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "the operator image needs these Debian packages: ${missing[*]} (install them as root)" >&2
  exit 0
fi
echo "installing ${missing[*]} with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}" >/dev/null
