#!/usr/bin/env bash
# Build (or reuse) the Go test helpers: one binary per directory under cmd/
# (kstatus: the kstatus library's readiness rules; luahealth: Argo CD's Lua
# interpreter for health checks).
#
# Output: <repo>/.cache/gohelpers/<key>/<name>, where <key> is the first 16 hex
# digits of sha256 over go.mod, go.sum, build.sh and every .go file. If the key's
# folder is complete the build is skipped.
#
# Progress goes to stderr; the LAST line on stdout is the folder's absolute path.
# Works from any working directory.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/.." && pwd -P)"

log() { echo "[gohelpers/build.sh] $*" >&2; }

command -v go >/dev/null 2>&1 || { log "error: 'go' not found in PATH"; exit 1; }

cd "${SCRIPT_DIR}"
mapfile -t sources < <(find . -name '*.go' -not -path './vendor/*' | LC_ALL=C sort)
KEY="$( (cat go.mod go.sum build.sh; for f in "${sources[@]}"; do echo "== ${f}"; cat "${f}"; done) \
	| sha256sum | cut -c1-16)"
OUT_DIR="${REPO_ROOT}/.cache/gohelpers/${KEY}"

mapfile -t commands < <(find cmd -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | LC_ALL=C sort)
missing=()
for name in "${commands[@]}"; do
	[[ -x "${OUT_DIR}/${name}" ]] || missing+=("${name}")
done
if [[ ${#missing[@]} -eq 0 ]]; then
	log "cached helpers found, skipping build"
	echo "${OUT_DIR}"
	exit 0
fi

mkdir -p "${OUT_DIR}"
start=$(date +%s)
for name in "${missing[@]}"; do
	# Build into a temporary file and rename atomically, so an interrupted or
	# concurrent build never leaves a half-written binary behind.
	tmp="$(mktemp "${OUT_DIR}/.${name}.XXXXXX")"
	trap 'rm -f "${tmp}"' EXIT
	log "building ${name} -> ${OUT_DIR}/${name}"
	CGO_ENABLED=0 GOTOOLCHAIN=local \
		go build -p 2 -mod=readonly -buildvcs=false -trimpath -ldflags "-s -w" -o "${tmp}" "./cmd/${name}" >&2
	chmod 0755 "${tmp}"
	mv -f "${tmp}" "${OUT_DIR}/${name}"
	trap - EXIT
done
log "built ${missing[*]} in $(( $(date +%s) - start ))s"

echo "${OUT_DIR}"
