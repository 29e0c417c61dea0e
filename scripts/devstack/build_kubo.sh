#!/usr/bin/env bash
# Build Kubo from the module pinned in scripts/devstack/kubo (go.mod + go.sum) into OUT,
# for this machine or, with GOOS/GOARCH given as PLATFORM (linux/arm64), for the image.
# go.sum pins every module, so no checksum database is asked; the installed Go builds it
# (no toolchain download). Prints how long the build took.
set -euo pipefail

usage() { echo "usage: $0 OUT [PLATFORM]   (PLATFORM like linux/arm64; default: this machine)" >&2; }
[[ $# -ge 1 && $# -le 2 ]] || {
	usage
	exit 2
}
out="$1"
platform="${2:-}"
module="$(cd "$(dirname "${BASH_SOURCE[0]}")/kubo" && pwd)"
command -v go >/dev/null || {
	echo "building Kubo needs Go $(sed -n 's/^go //p' "$module/go.mod") or newer (Debian: golang-go from trixie or backports, or go.dev)" >&2
	exit 1
}
env=(GOFLAGS=-mod=readonly GOSUMDB=off GOTOOLCHAIN=local CGO_ENABLED=0)
if [[ -n "$platform" ]]; then
	env+=("GOOS=${platform%/*}" "GOARCH=${platform#*/}")
fi
mkdir -p "$(dirname "$out")"
out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"
started=$SECONDS
(cd "$module" && env "${env[@]}" go build -trimpath -ldflags='-s -w' -o "$out.partial" .)
mv "$out.partial" "$out"
echo "built Kubo $(sed -n 's/^require github.com\/ipfs\/kubo //p' "$module/go.mod") for ${platform:-this machine} in $((SECONDS - started)) s: $out"
