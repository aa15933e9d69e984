#!/usr/bin/env bash
# image.sh BINARY TAG... builds the shardlab image FROM scratch with
# sim/deploy/Dockerfile from a generated build context (the static binary
# and the image's empty directories), tags it TAG..., and removes the
# context. Run by `make image` from the repository root.
set -euo pipefail
bin=$1
shift
[ $# -gt 0 ] || { echo "usage: $0 BINARY TAG..." >&2; exit 2; }
if command -v file >/dev/null && ! file "$bin" | grep -q "statically linked"; then
	echo "image.sh: $bin is not statically linked (build it with make static)" >&2
	exit 1
fi
if ! docker info >/dev/null 2>&1; then
	echo "image.sh: no Docker daemon answers: install docker.io and start dockerd (make e2e-docker does both)" >&2
	exit 1
fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/rootfs/genesis" "$ctx/rootfs/var/lib/shardlab" "$ctx/rootfs/tmp"
cp "$bin" "$ctx/rootfs/shardlab"
cp "$(dirname "$0")/Dockerfile" "$ctx/Dockerfile"
tags=()
for t in "$@"; do tags+=(-t "$t"); done
# The classic builder: FROM scratch needs no registry and no buildx plugin.
DOCKER_BUILDKIT=0 docker build -q "${tags[@]}" "$ctx" >/dev/null
docker run --rm "$1" version
echo "image.sh: built $* ($(docker image inspect -f '{{.Size}}' "$1") bytes)"
