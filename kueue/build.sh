#!/usr/bin/env bash
# Build (or reuse) the cached Kueue controller-manager binary, and copy the
# manifests Kueue ships inside its module (config/default and the components it
# uses: CRDs, RBAC, webhook configuration, manager, internal-cert Secret,
# visibility API) next to it.
#
# Output: <repo>/.cache/kueue/<key>/{kueue,config/{default,components}/}, where <key> is the first
# 16 hex digits of sha256(go.mod + go.sum + build.sh). If the key's folder is
# complete the build is skipped.
#
# Progress goes to stderr; the LAST line on stdout is the folder's absolute
# path. Works from any working directory.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/.." && pwd -P)"
KUEUE_MODULE="sigs.k8s.io/kueue"

log() { echo "[kueue/build.sh] $*" >&2; }

command -v go >/dev/null 2>&1 || { log "error: 'go' not found in PATH"; exit 1; }

cd "${SCRIPT_DIR}"
KEY="$(LC_ALL=C cat go.mod go.sum build.sh | sha256sum | cut -c1-16)"
OUT_DIR="${REPO_ROOT}/.cache/kueue/${KEY}"

if [[ -x "${OUT_DIR}/kueue" && -f "${OUT_DIR}/config/.complete" ]]; then
	log "cached Kueue found, skipping build"
	echo "${OUT_DIR}"
	exit 0
fi
mkdir -p "${OUT_DIR}"

VERSION="$(GOTOOLCHAIN=local go list -m -f '{{.Version}}' "${KUEUE_MODULE}")"
MODULE_DIR="$(GOTOOLCHAIN=local go mod download -json "${KUEUE_MODULE}@${VERSION}" \
	| sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[[ -d "${MODULE_DIR}/config/components" ]] || { log "error: ${KUEUE_MODULE}@${VERSION} has no config/components"; exit 1; }

if [[ ! -x "${OUT_DIR}/kueue" ]]; then
	TMP="$(mktemp "${OUT_DIR}/.kueue.XXXXXX")"
	trap 'rm -f "${TMP}"' EXIT
	log "building Kueue ${VERSION} -> ${OUT_DIR}/kueue (cold builds take several minutes)"
	start=$(date +%s)
	CGO_ENABLED=0 GOTOOLCHAIN=local \
		go build -p 2 -mod=readonly -buildvcs=false -trimpath \
		-ldflags "-s -w -X ${KUEUE_MODULE}/pkg/version.GitVersion=${VERSION}" \
		-o "${TMP}" "${KUEUE_MODULE}/cmd/kueue" >&2
	chmod 0755 "${TMP}"
	mv -f "${TMP}" "${OUT_DIR}/kueue"
	trap - EXIT
	log "built in $(( $(date +%s) - start ))s ($(du -h "${OUT_DIR}/kueue" | cut -f1))"
fi

# The manifests as Kueue ships them, in the module's layout, so that
# `kubectl kustomize <folder>/config/default` builds Kueue's own install (the tests
# compare the harness's rendering with it); the harness renders what it installs from these.
rm -rf "${OUT_DIR}/config"
mkdir -p "${OUT_DIR}/config/components"
for part in crd rbac webhook manager internalcert visibility; do
	cp -r "${MODULE_DIR}/config/components/${part}" "${OUT_DIR}/config/components/${part}"
done
cp -r "${MODULE_DIR}/config/default" "${OUT_DIR}/config/default"
chmod -R u+w "${OUT_DIR}/config"
echo "${VERSION}" >"${OUT_DIR}/config/VERSION"
touch "${OUT_DIR}/config/.complete"
echo "${OUT_DIR}"
