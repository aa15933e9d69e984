#!/usr/bin/env bash
# e2e-docker.sh: `make e2e-docker`. Runs the 4 + 4 node testnet as Docker
# containers (sim/deploy TestE2EDocker) and removes everything it started.
#  1. installs docker.io and docker-compose (Debian) when Docker or a
#     Compose command is missing;
#  2. starts dockerd (host networking only: --iptables=false --bridge=none)
#     when no daemon answers, and stops it at the end;
#  3. builds the image (make image) under a throwaway tag;
#  4. renders the docker target, starts it, watches 8 epochs through the
#     HTTP APIs and checks finality, agreement, crosslinks and receipts;
#  5. removes the containers, volumes and image (and dockerd if started).
set -euo pipefail
cd "$(dirname "$0")/../.."
GO=${GO:-go}
project=shardlab-e2e
image_repo=shardlab-e2e
image_tag=$$
dockerd_pid=
dockerd_log=$(mktemp)
t0=$(date +%s)

log() { echo "e2e-docker: $*"; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

cleanup() {
	rc=$?
	set +e
	if docker info >/dev/null 2>&1; then
		ids=$(docker ps -aq --filter "label=com.docker.compose.project=$project")
		[ -n "$ids" ] && docker rm -f -v $ids >/dev/null
		vols=$(docker volume ls -q --filter "label=com.docker.compose.project=$project")
		[ -n "$vols" ] && docker volume rm $vols >/dev/null
		docker image rm "$image_repo:$image_tag" "$image_repo:latest" >/dev/null 2>&1
	fi
	if [ -n "$dockerd_pid" ]; then
		log "stopping the dockerd it started (pid $dockerd_pid)"
		as_root kill "$dockerd_pid"
		for _ in $(seq 30); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 1; done
	fi
	rm -f "$dockerd_log"
	log "done in $(($(date +%s) - t0))s (exit $rc)"
	exit $rc
}
trap cleanup EXIT

compose_cmd() {
	if docker compose version >/dev/null 2>&1; then echo "docker compose"
	elif command -v docker-compose >/dev/null; then echo docker-compose
	fi
}

if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null || [ -z "$(compose_cmd)" ]; then
	log "installing docker.io and docker-compose"
	as_root apt-get update -qq
	DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq docker.io docker-compose >/dev/null
fi
compose=$(compose_cmd)

if ! docker info >/dev/null 2>&1; then
	log "starting dockerd (host networking only)"
	# Not through as_root: $! must be dockerd itself (or sudo, which passes
	# the signal on), not a subshell.
	if [ "$(id -u)" = 0 ]; then
		dockerd --iptables=false --bridge=none >"$dockerd_log" 2>&1 &
	else
		sudo dockerd --iptables=false --bridge=none >"$dockerd_log" 2>&1 &
	fi
	dockerd_pid=$!
	for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
	docker info >/dev/null 2>&1 || { cat "$dockerd_log" >&2; log "dockerd did not start"; exit 1; }
fi

log "building the image $image_repo:$image_tag"
make --no-print-directory image IMAGE="$image_repo" IMAGE_TAG="$image_tag"
t1=$(date +%s)
log "image built in $((t1 - t0))s; running the containerised testnet ($compose)"
SHARDLAB_E2E_DOCKER=1 SHARDLAB_IMAGE="$image_repo:$image_tag" SHARDLAB_COMPOSE="$compose" \
	"$GO" test -count=1 -v -timeout 20m -run '^TestE2EDocker$' ./sim/deploy
log "testnet run and checks took $(($(date +%s) - t1))s"
