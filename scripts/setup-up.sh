#!/usr/bin/env bash
# The main job's setup (`npm run up`): only what the root stack needs, on the user's machine as it
# is. Node modules (npm ci), a Docker engine that already runs (an error if none answers: nothing
# is installed or started), the base image (the engine's own debian:bookworm-slim, never replaced;
# else pulled; else bootstrapped from Debian's archive when no registry answers), and the Pulumi
# CLI (the user's own, else built from the Go module proxy into ~/.cache/pulumi-tesseract).
# No PostgreSQL, no Python venvs: those are test peers (scripts/setup.sh).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$REPO_ROOT/scripts/lib/node.sh"
source "$REPO_ROOT/scripts/lib/docker.sh"

t0=$SECONDS
step "node modules" ensure_node_modules
source "$REPO_ROOT/scripts/lib/pulumi.sh"
step "docker engine" require_docker
step "base image $BASE_IMAGE" ensure_base_image
step "pulumi cli" ensure_pulumi_cli
log "setup for npm run up complete ($((SECONDS - t0)) s)"
